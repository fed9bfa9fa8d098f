/* CLOCK eviction per slab class: counting linked items, marking hits, and
 * the sweep that finds an item to reclaim or evict. The sweep holds the
 * hand's lock and only tries stripe locks, so it never waits on a key's lock
 * while a thread holding that key's lock waits on the hand. */
#include "config.h"

#include "store/lru_int.h"

#include <string.h>

#include "store/ht_int.h"
#include "store/item_int.h"

/* Live items spared for their accessed bit in one sweep at most. Past it the
 * bit is ignored, so a class whose items were all hit since the last pass
 * still yields a victim at once instead of failing the store; the bits the
 * sweep cleared on the way make the next sweeps cheaper. */
#define SPARE_MAX 256u
/* Chunks mm_lru_hand_atime() looks at. */
#define PEEK_MAX 64u

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

void
mm_lru_link(struct mm_lru *l, struct mm_item *it, mm_reltime_t now)
{
    mm_item_store_atime(it, now);
    if (it->iflags & MM_ITEM_F_TEMP) {
        __atomic_fetch_add(&l->temp, 1, __ATOMIC_RELAXED);
    }
    __atomic_fetch_add(&l->count, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&l->bytes, mm_item_total(it), __ATOMIC_RELAXED);
}

void
mm_lru_unlink(struct mm_lru *l, struct mm_item *it)
{
    if (it->iflags & MM_ITEM_F_TEMP) {
        __atomic_fetch_sub(&l->temp, 1, __ATOMIC_RELAXED);
    }
    __atomic_fetch_sub(&l->count, 1, __ATOMIC_RELAXED);
    __atomic_fetch_sub(&l->bytes, mm_item_total(it), __ATOMIC_RELAXED);
}

bool
mm_lru_bump(struct mm_lru *l, struct mm_item *it, mm_reltime_t now)
{
    (void)l;
    /* Written only when it changes, so a hot item's header line is not
     * dirtied by every hit. */
    if (!(it->iflags & MM_ITEM_F_ACCESSED)) {
        it->iflags |= MM_ITEM_F_ACCESSED;
    } else if (!(it->iflags & MM_ITEM_F_REUSED)) {
        it->iflags |= MM_ITEM_F_REUSED;
    }
    if (now < mm_item_load_atime(it) + MM_LRU_BUMP_INTERVAL) {
        return false;
    }
    mm_item_store_atime(it, now);
    return true;
}

/* Drop the sweep's own reference; the owner may have let go meanwhile. */
static void
let_go(const struct mm_lru_walk *w, struct mm_item *it)
{
    if (mm_item_unref(it)) {
        w->release(w->arg, it);
    }
}

/* The item under the hand, pinned, or NULL; the hand moves on. */
static struct mm_item *
hand_next(struct mm_lru *l, const struct mm_lru_walk *w, uint64_t span, bool *busy)
{
    if (l->hand >= span) {
        l->hand = 0;
    }
    *busy = false;
    return w->grab(w->arg, l->hand++, busy);
}

static void
count_victim(struct mm_lru *l, const struct mm_item *it, bool dead, mm_reltime_t now)
{
    if (dead) {
        l->c.reclaimed++;
        if (!(it->iflags & MM_ITEM_F_FETCHED)) {
            l->c.expired_unfetched++;
        }
        return;
    }
    mm_reltime_t atime = mm_item_load_atime(it);

    l->c.evicted++;
    l->c.evicted_time = now > atime ? now - atime : 0;
    l->c.evicted_age_sum += l->c.evicted_time;
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

void
mm_lru_count_victim(struct mm_lru *l, const struct mm_item *it, bool dead, mm_reltime_t now)
{
    pthread_mutex_lock(&l->lock);
    count_victim(l, it, dead, now);
    pthread_mutex_unlock(&l->lock);
}

struct mm_item *
mm_lru_evict(struct mm_lru *l, struct mm_ht *ht, const struct mm_lru_walk *w, bool *reclaimed)
{
    struct mm_item *victim = NULL;
    unsigned looked = 0;
    unsigned spared = 0;
    uint64_t span;
    uint64_t steps;
    uint64_t start;

    *reclaimed = false;
    pthread_mutex_lock(&l->lock);
    start = l->hand;
    span = w->span(w->arg);
    /* Two turns at most (free chunks cost a load each): the first may only
     * clear accessed bits. */
    for (steps = 0; steps < 2 * span && looked < w->max_walk; steps++) {
        bool busy;
        struct mm_item *it = hand_next(l, w, span, &busy);
        mm_hash_t h;
        bool dead;

        if (it == NULL) {
            /* Free, or in use by a reader or writer. */
            if (busy) {
                l->c.lrutail_reflocked++;
                looked++;
            }
            continue;
        }
        h = mm_ht_hash(ht, mm_item_key(it), it->nkey);
        if (!mm_ht_trylock(ht, h)) {
            let_go(w, it);
            continue;
        }
        /* Under the stripe new references are only taken from the table,
         * so the count cannot grow past what we see now. Exactly 2 is the
         * table's and ours; an unlinked item is its owner's. */
        if (!(it->iflags & MM_ITEM_F_LINKED) || mm_item_refcnt(it) != 2) {
            mm_ht_unlock(ht, h);
            let_go(w, it);
            continue;
        }
        looked++;
        dead = w->dead(w->arg, it, w->now);
        if (!dead) {
            if ((it->iflags & MM_ITEM_F_ACCESSED) && spared < SPARE_MAX) {
                /* One level down: REUSED first, then ACCESSED. */
                it->iflags &= (uint8_t) ~((it->iflags & MM_ITEM_F_REUSED) ? MM_ITEM_F_REUSED
                                                                          : MM_ITEM_F_ACCESSED);
                spared++;
                looked--;
                mm_ht_unlock(ht, h);
                let_go(w, it);
                continue;
            }
            if (!w->evict || (it->iflags & MM_ITEM_F_TEMP)) {
                /* -M, or a short-TTL item: it waits for its expiry. */
                mm_ht_unlock(ht, h);
                let_go(w, it);
                continue;
            }
        }
        mm_ht_remove_locked(ht, it, h);
        it->iflags &= (uint8_t)~MM_ITEM_F_LINKED;
        mm_ht_unlock(ht, h);
        mm_lru_unlink(l, it);
        count_victim(l, it, dead, w->now);
        /* Unlinked with only the table's reference and ours: nobody else can
         * reach it, so it becomes raw memory. 0 also keeps every other
         * sweep off it while the caller reuses it. */
        __atomic_store_n(&it->refcnt, 0, __ATOMIC_RELAXED);
        *reclaimed = dead;
        victim = it;
        break;
    }
    if (victim == NULL && !w->evict) {
        /* Reclaiming only (-M): the same window is looked at again next
         * time, as an LRU's tail would be, until something in it dies;
         * walking on would pass over items about to expire. */
        l->hand = start;
    }
    pthread_mutex_unlock(&l->lock);
    return victim;
}

bool
mm_lru_hand_atime(struct mm_lru *l, const struct mm_lru_walk *w, mm_reltime_t *atime)
{
    bool found = false;
    uint64_t span;
    uint64_t i;
    unsigned n;

    pthread_mutex_lock(&l->lock);
    span = w->span(w->arg);
    for (i = l->hand, n = 0; n < PEEK_MAX && n < span; n++, i++) {
        bool busy;
        struct mm_item *it = w->grab(w->arg, i < span ? i : i % span, &busy);

        if (it == NULL) {
            continue;
        }
        *atime = mm_item_load_atime(it);
        let_go(w, it);
        found = true;
        break;
    }
    pthread_mutex_unlock(&l->lock);
    return found;
}

void
mm_lru_probe(struct mm_lru *l, struct mm_ht *ht, const struct mm_lru_walk *w, unsigned max,
             bool clear, unsigned *looked, unsigned *cold)
{
    uint64_t span;
    uint64_t i;
    uint64_t n;

    *looked = 0;
    *cold = 0;
    pthread_mutex_lock(&l->lock);
    span = w->span(w->arg);
    /* Free chunks cost a load each; look a few times further than max. */
    for (i = l->hand, n = 0; *looked < max && n < span && n < 4u * max; n++, i++) {
        bool busy;
        struct mm_item *it = w->grab(w->arg, i < span ? i : i % span, &busy);
        mm_hash_t h;

        if (it == NULL) {
            continue;
        }
        h = mm_ht_hash(ht, mm_item_key(it), it->nkey);
        if (mm_ht_trylock(ht, h)) {
            if (it->iflags & MM_ITEM_F_LINKED) {
                (*looked)++;
                if (clear) {
                    it->iflags &= (uint8_t) ~(MM_ITEM_F_ACCESSED | MM_ITEM_F_REUSED);
                } else if (!(it->iflags & MM_ITEM_F_ACCESSED)) {
                    (*cold)++;
                }
            }
            mm_ht_unlock(ht, h);
        }
        let_go(w, it);
    }
    pthread_mutex_unlock(&l->lock);
}
