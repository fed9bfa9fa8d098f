/* Per-(shard, class) LRU lists: linking, rate-limited bumps and the tail
 * walk that finds an item to reclaim or evict. The walk holds the list lock
 * and only tries stripe locks, so it never waits on a key's lock while a
 * thread holding that key's lock waits on the list. */
#include "config.h"

#include "store/lru_int.h"

#include <string.h>

#include "store/ht_int.h"
#include "store/item_int.h"

void
mm_lru_init(struct mm_lru *l)
{
    memset(l, 0, sizeof(*l));
    pthread_mutex_init(&l->lock, NULL);
}

void
mm_lru_fini(struct mm_lru *l)
{
    pthread_mutex_destroy(&l->lock);
}

static void
push_head_locked(struct mm_lru *l, struct mm_item *it)
{
    it->lru_prev = NULL;
    it->lru_next = l->head;
    if (l->head != NULL) {
        l->head->lru_prev = it;
    }
    l->head = it;
    if (l->tail == NULL) {
        l->tail = it;
    }
}

static void
take_out_locked(struct mm_lru *l, struct mm_item *it)
{
    if (it->lru_prev != NULL) {
        it->lru_prev->lru_next = it->lru_next;
    } else {
        l->head = it->lru_next;
    }
    if (it->lru_next != NULL) {
        it->lru_next->lru_prev = it->lru_prev;
    } else {
        l->tail = it->lru_prev;
    }
    it->lru_prev = NULL;
    it->lru_next = NULL;
}

void
mm_lru_link(struct mm_lru *l, struct mm_item *it, mm_reltime_t now)
{
    pthread_mutex_lock(&l->lock);
    mm_item_store_atime(it, now);
    push_head_locked(l, it);
    l->count++;
    l->bytes += mm_item_total(it);
    pthread_mutex_unlock(&l->lock);
}

void
mm_lru_unlink(struct mm_lru *l, struct mm_item *it)
{
    pthread_mutex_lock(&l->lock);
    take_out_locked(l, it);
    l->count--;
    l->bytes -= mm_item_total(it);
    pthread_mutex_unlock(&l->lock);
}

bool
mm_lru_bump(struct mm_lru *l, struct mm_item *it, mm_reltime_t now)
{
    /* Checked before taking the lock: atime only changes under the stripe
     * lock our caller holds, so this read is stable, and most gets end here
     * without touching the shared list. */
    if (now < mm_item_load_atime(it) + MM_LRU_BUMP_INTERVAL) {
        return false;
    }
    pthread_mutex_lock(&l->lock);
    take_out_locked(l, it);
    push_head_locked(l, it);
    mm_item_store_atime(it, now);
    pthread_mutex_unlock(&l->lock);
    return true;
}

struct mm_item *
mm_lru_evict(struct mm_lru *l, struct mm_ht *ht, const struct mm_lru_walk *w, bool *reclaimed)
{
    struct mm_item *it;
    struct mm_item *victim = NULL;
    unsigned seen = 0;

    *reclaimed = false;
    pthread_mutex_lock(&l->lock);
    for (it = l->tail; it != NULL && seen < w->max_walk; it = it->lru_prev, seen++) {
        mm_hash_t h;
        bool dead;

        /* Someone is reading or writing it: its memory must stay. */
        if (mm_item_refcnt(it) != 1) {
            l->c.lrutail_reflocked++;
            continue;
        }
        h = mm_ht_hash(ht, mm_item_key(it), it->nkey);
        if (!mm_ht_trylock(ht, h)) {
            continue;
        }
        /* Re-check under the stripe: new references are only taken with
         * the stripe held, so from here the count cannot grow. */
        if (mm_item_refcnt(it) != 1) {
            mm_ht_unlock(ht, h);
            l->c.lrutail_reflocked++;
            continue;
        }
        dead = w->dead(w->arg, it, w->now);
        if (!dead && !w->evict) {
            mm_ht_unlock(ht, h);
            continue;
        }
        mm_ht_remove_locked(ht, it, h);
        it->iflags &= (uint8_t)~MM_ITEM_F_LINKED;
        mm_ht_unlock(ht, h);

        take_out_locked(l, it);
        l->count--;
        l->bytes -= mm_item_total(it);
        if (dead) {
            l->c.reclaimed++;
            if (!(it->iflags & MM_ITEM_F_FETCHED)) {
                l->c.expired_unfetched++;
            }
        } else {
            mm_reltime_t atime = mm_item_load_atime(it);

            l->c.evicted++;
            l->c.evicted_time = w->now > atime ? w->now - atime : 0;
            if (mm_item_load_exptime(it) != 0) {
                l->c.evicted_nonzero++;
            }
            if (!(it->iflags & MM_ITEM_F_FETCHED)) {
                l->c.evicted_unfetched++;
            }
            if (it->iflags & MM_ITEM_F_ACTIVE) {
                l->c.evicted_active++;
            }
        }
        *reclaimed = dead;
        victim = it;
        break;
    }
    pthread_mutex_unlock(&l->lock);
    return victim;
}
