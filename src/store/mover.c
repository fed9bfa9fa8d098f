/* The page mover: empties slab pages so memory follows the workload. The
 * policy (automove) compares, once a tick, how old the items are that each
 * class evicts with how old the next victim of every other class is, and
 * moves a page from the class whose memory holds the oldest unused items to
 * the one that throws out young ones. See mover_int.h for the mechanism and
 * doc/store.md for the lock order. */
#include "config.h"

#include "store/mover_int.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "mmem/alloc.h"
#include "store/ht_int.h"
#include "store/item_int.h"
#include "store/lru_int.h"
#include "store/store_int.h"

/* The policy's sample period. memcached samples once a second; ten times as
 * often lets a shift in sizes be followed within seconds. */
#define TICK_MS 100u
/* Pages the policy moves per tick at most (so 40 pages a second). */
#define MOVES_PER_TICK 4u
/* Passes over a page being emptied by the thread, 1 ms apart, before it is
 * left for its readers to finish. */
#define MOVE_PASSES 3u
/* A class gives a page back on its own when it has this many pages' worth
 * of free chunks (after expiry or deletes). */
#define FREE_PAGES_SURPLUS 2u

static void
stat_add(uint64_t *c, uint64_t n)
{
    __atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static void
sleep_ms(unsigned ms)
{
    struct timespec ts = {0, (long)ms * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ------------------------------------------------------------------ */
/* Emptying a page                                                     */

/* A chunk of class cls for a rescued copy: room the class has, else (for an
 * item hit since the last sweep, worth more than the class's next victim)
 * the chunk of that victim. NULL: evict the item instead. */
static struct mm_item *
rescue_chunk(struct mm_store *st, unsigned cls, bool hot, mm_reltime_t now)
{
    struct mm_item *nw = mm_slab_alloc_held(&st->slab, cls);

    if (nw != NULL || !hot || !st->cfg.evict) {
        return nw;
    }
    nw = mm_store_evict_one(st, cls, now);
    if (nw != NULL && mm_item_cls(nw) != cls) {
        mm_store_item_free(st, nw);
        nw = NULL;
    }
    return nw;
}

/* Move or evict the item (if any) in chunk p of a detached page. Returns
 * false if it had to be left (stripe busy in non-blocking mode). */
static bool
evacuate(struct mm_store *st, unsigned cls, struct mm_item *it, bool rescue, bool blocking,
         mm_reltime_t now)
{
    struct mm_mover *mv = &st->mover;
    mm_hash_t h;
    bool busy;

    /* Free chunks and chunks between owners read 0; a new item there is
     * published with its count, so a reference also makes its header
     * visible. */
    if (!mm_item_tryref(it)) {
        return true;
    }
    h = mm_ht_hash(st->ht, mm_item_key(it), it->nkey);
    if (blocking) {
        mm_ht_lock(st->ht, h);
    } else if (!mm_ht_trylock(st->ht, h)) {
        mm_store_unref(st, it);
        return false;
    }
    if (!(it->iflags & MM_ITEM_F_LINKED)) {
        /* Deleted or replaced, or still being filled: its holders free it. */
        mm_ht_unlock(st->ht, h);
        stat_add(&mv->s.busy_items, mm_item_refcnt(it) > 1 ? 1 : 0);
        mm_store_unref(st, it);
        return true;
    }
    /* Ours and the table's are two. */
    busy = mm_item_refcnt(it) > 2;
    if (busy) {
        stat_add(&mv->s.busy_items, 1);
    }
    if (mm_store_item_dead(st, it, now)) {
        stat_add(&mv->s.inline_reclaim, 1);
        mm_store_evict_locked(st, it, h, now);
    } else {
        bool keep = (it->iflags & (MM_ITEM_F_ACCESSED | MM_ITEM_F_TEMP)) != 0;
        struct mm_item *nw =
            rescue || (it->iflags & MM_ITEM_F_TEMP) ? rescue_chunk(st, cls, keep, now) : NULL;

        if (nw != NULL) {
            /* Readers holding the old copy keep reading it; the table
             * points at the new one from here on. */
            mm_item_copy(nw, it);
            mm_ht_remove_locked(st->ht, it, h);
            it->iflags &= (uint8_t)~MM_ITEM_F_LINKED;
            mm_ht_insert_locked(st->ht, nw, h);
            (void)mm_item_unref(it); /* the table's; ours is still held */
            stat_add(&mv->s.rescues, 1);
        } else if (it->iflags & MM_ITEM_F_TEMP) {
            /* Never evicted (temporary_ttl): the page goes back once the
             * item has expired and been reclaimed. */
        } else {
            if (busy) {
                stat_add(&mv->s.busy_deletes, 1);
            }
            stat_add(&mv->s.evictions_nomem, 1);
            mm_store_evict_locked(st, it, h, now);
        }
    }
    mm_ht_unlock(st->ht, h);
    mm_store_unref(st, it);
    return true;
}

/* One pass over a held page. Returns true when no chunk of it is in use
 * any more: the hold is then dropped and the page is back in the pool. */
static bool
evacuate_page(struct mm_store *st, const struct mm_mover_pending *p, bool rescue, bool blocking)
{
    uint32_t size = st->slab.cls[p->cls].size;
    mm_reltime_t now = mm_store_now(st);
    uint32_t k;

    for (k = 0; k < p->n; k++) {
        (void)evacuate(st, p->cls, (struct mm_item *)(p->first + (size_t)k * size), rescue,
                       blocking, now);
    }
    return mm_slab_page_live(&st->slab, p->cls, p->pg) == 0 &&
           mm_slab_unhold(&st->slab, p->cls, p->pg);
}

static void
pending_add(struct mm_store *st, const struct mm_mover_pending *p)
{
    struct mm_mover *mv = &st->mover;

    pthread_mutex_lock(&mv->bg.lock);
    if (mv->npending < MM_MOVER_PENDING_MAX) {
        mv->pending[mv->npending++] = *p;
        pthread_mutex_unlock(&mv->bg.lock);
        return;
    }
    pthread_mutex_unlock(&mv->bg.lock);
    /* No room to keep it (the steal checks first, so only the thread gets
     * here): what is left are items readers hold, already unlinked, and
     * short-TTL ones; the page goes back with the last of them. */
    (void)mm_slab_unhold(&st->slab, p->cls, p->pg);
}

static bool
pending_full(struct mm_store *st)
{
    struct mm_mover *mv = &st->mover;
    bool full;

    pthread_mutex_lock(&mv->bg.lock);
    full = mv->npending >= MM_MOVER_PENDING_MAX;
    pthread_mutex_unlock(&mv->bg.lock);
    return full;
}

/* Pages that an earlier move could not finish: the thread (blocking) and
 * the steal (trying locks only) both take another pass over them. */
static void
pending_finish(struct mm_store *st, bool blocking)
{
    struct mm_mover *mv = &st->mover;
    unsigned i = 0;

    pthread_mutex_lock(&mv->bg.lock);
    /* One finisher at a time: the list is walked with the lock dropped. */
    if (mv->finishing) {
        pthread_mutex_unlock(&mv->bg.lock);
        return;
    }
    mv->finishing = true;
    while (i < mv->npending) {
        struct mm_mover_pending p = mv->pending[i];
        bool done;

        pthread_mutex_unlock(&mv->bg.lock);
        done = evacuate_page(st, &p, false, blocking);
        pthread_mutex_lock(&mv->bg.lock);
        if (done) {
            mv->pending[i] = mv->pending[--mv->npending];
        } else {
            i++;
        }
    }
    mv->finishing = false;
    pthread_mutex_unlock(&mv->bg.lock);
}

static uint64_t
hand_of(struct mm_store *st, unsigned cls)
{
    struct mm_lru *l = &st->lru[cls];
    uint64_t hand;

    pthread_mutex_lock(&l->lock);
    hand = l->hand;
    pthread_mutex_unlock(&l->lock);
    return hand;
}

/* Free chunks the class holds, in pages. */
static double
class_room(struct mm_store *st, unsigned cls)
{
    struct mm_slab_class_stats cs;

    mm_slab_class_stats(&st->slab, cls, &cs);
    return cs.perslab ? (double)(cs.free_chunks + cs.free_end) / cs.perslab : 0;
}

bool
mm_mover_move_page(struct mm_store *st, unsigned cls, bool rescue, bool blocking)
{
    struct mm_mover_pending p;
    unsigned pass;

    p.cls = cls;
    /* A class with a quarter page of room or more gives its emptiest page
     * (its room, for the fewest copies); a full one the page the clock
     * hand is in, whose items are the class's next victims anyway. */
    p.pg = mm_slab_detach(&st->slab, cls,
                          class_room(st, cls) >= 0.25 ? MM_SLAB_EMPTIEST : hand_of(st, cls),
                          &p.first, &p.n);
    if (p.pg == MM_POOL_NONE) {
        return false;
    }
    stat_add(&st->mover.s.pages_moved, 1);
    if (p.n == 0) {
        return true; /* nothing in use: already back in the pool */
    }
    for (pass = 0; pass < (blocking ? MOVE_PASSES : 1u); pass++) {
        if (pass > 0) {
            sleep_ms(1);
        }
        if (evacuate_page(st, &p, rescue, blocking)) {
            return true;
        }
    }
    pending_add(st, &p);
    return false;
}

/* Free large items worth about a page (the large items' share of the pool
 * is what "moving a page" from them means). */
static bool
shrink_large(struct mm_store *st, mm_reltime_t now)
{
    size_t before = mm_slab_malloced(&st->slab);
    size_t want = st->slab.page_size;

    while (before - mm_slab_malloced(&st->slab) < want && before >= mm_slab_malloced(&st->slab)) {
        struct mm_item *v = mm_store_evict_one(st, MM_ITEM_CLS_LARGE, now);

        if (v == NULL) {
            return false;
        }
        mm_store_item_free(st, v);
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Choosing                                                            */

static uint64_t
class_pages(struct mm_store *st, unsigned cls)
{
    struct mm_slab_class_stats cs;

    if (cls == MM_ITEM_CLS_LARGE) {
        return __atomic_load_n(&st->slab.large_bytes, __ATOMIC_RELAXED) / st->slab.page_size;
    }
    mm_slab_class_stats(&st->slab, cls, &cs);
    return cs.npages;
}

/* The class (other than not) holding the most memory: a steal takes from
 * it, as the class that loses least by giving a page. */
static bool
largest_class(struct mm_store *st, unsigned not, unsigned *cls)
{
    uint64_t best = 0;
    unsigned c;

    for (c = 0; c < st->nlru; c++) {
        uint64_t n = c == not ? 0 : class_pages(st, c);

        if (n > best) {
            best = n;
            *cls = c;
        }
    }
    return best > 0;
}

bool
mm_mover_steal(struct mm_store *st, unsigned need, mm_reltime_t now)
{
    unsigned src;

    if (!st->cfg.evict) {
        return false;
    }
    pending_finish(st, false);
    /* Past the limit of pages left for later, wait for those. */
    if (pending_full(st) || !largest_class(st, need, &src)) {
        return false;
    }
    if (src == MM_ITEM_CLS_LARGE) {
        return shrink_large(st, now);
    }
    /* Progress even when a reader still holds an item of the page: its
     * charge comes back with that reference, and the caller tries again. */
    (void)mm_mover_move_page(st, src, false, false);
    return true;
}

/* Evicted in one of the last 10 ticks (a second). */
static bool
evicting(const struct mm_mover *mv, unsigned c)
{
    return (mv->evict_bits[c] & 0x3ffu) != 0;
}

static unsigned
popcount64(uint64_t v)
{
    return (unsigned)__builtin_popcountll(v);
}

/* Items in a probe window: enough to tell a cold tail from a hot one. */
#define PROBE_ITEMS 128u
/* A source's window must be at least this cold (percent not hit). */
#define PROBE_COLD_PCT 50u

static void
probe_start(struct mm_store *st, unsigned c, mm_reltime_t now)
{
    unsigned looked;
    unsigned cold;

    mm_store_probe(st, c, PROBE_ITEMS, true, &looked, &cold);
    st->mover.probe_at[c] = now;
}

/* The class (other than not) whose next victims went unhit the longest: a
 * probe clears the accessed bits of the items at its hand, and once need
 * seconds have passed, the share of them still not hit is how cold its
 * tail is. A class whose window is hot starts over. Large items count as a
 * class. */
static bool
coldest_class(struct mm_store *st, unsigned not, uint64_t need, unsigned min_pct, mm_reltime_t now,
              unsigned *cls)
{
    struct mm_mover *mv = &st->mover;
    unsigned best = 0;
    bool found = false;
    unsigned c;

    for (c = 0; c < st->nlru; c++) {
        unsigned looked;
        unsigned cold;
        unsigned pct;

        if (c == not || class_pages(st, c) == 0 || evicting(mv, c)) {
            continue;
        }
        if (mv->probe_at[c] == 0) {
            probe_start(st, c, now);
            continue;
        }
        if (now - mv->probe_at[c] < need) {
            continue;
        }
        mm_store_probe(st, c, PROBE_ITEMS, false, &looked, &cold);
        /* Nothing to look at: pages of free chunks, the cheapest source. */
        pct = looked == 0 ? 100u : cold * 100u / looked;
        if (pct < min_pct) {
            probe_start(st, c, now);
            continue;
        }
        if (!found || pct > best) {
            best = pct;
            *cls = c;
            found = true;
        }
    }
    return found;
}

/* Give the page's worth of budget a move freed to dst now, before another
 * class takes it ("slabs reassign" and the policy both name a
 * destination). */
static void
hand_to(struct mm_store *st, unsigned dst)
{
    if (dst != MM_ITEM_CLS_LARGE) {
        (void)mm_slab_grow(&st->slab, dst);
    }
}

/* Classes with pages' worth of free chunks give them back, so the pool
 * holds memory that deletes and expiry freed. */
static unsigned
give_back_free(struct mm_store *st)
{
    unsigned moved = 0;
    unsigned c;

    for (c = 1; c <= st->slab.nclasses && moved < MOVES_PER_TICK; c++) {
        if (class_pages(st, c) > 0 && class_room(st, c) >= FREE_PAGES_SURPLUS) {
            (void)mm_mover_move_page(st, c, true, true);
            moved++;
        }
    }
    return moved;
}

/* After cache_memlimit was lowered: give pages back until the store fits. */
static unsigned
shrink_to_limit(struct mm_store *st, mm_reltime_t now)
{
    unsigned moved = 0;

    while (mm_pool_excess(&st->slab.pool) > 0 && moved < 64) {
        unsigned src;

        if (!largest_class(st, UINT32_MAX, &src)) {
            break;
        }
        if (src == MM_ITEM_CLS_LARGE) {
            if (!shrink_large(st, now)) {
                break;
            }
        } else {
            (void)mm_mover_move_page(st, src, false, true);
        }
        moved++;
    }
    return moved;
}

/* Sample each class's evictions into its window of bits, and the age of
 * the items it evicted into a moving average. */
static void
sample(struct mm_store *st)
{
    struct mm_mover *mv = &st->mover;
    unsigned w = mv->window < 64 ? mv->window : 64;
    uint64_t mask = w >= 64 ? UINT64_MAX : ((uint64_t)1 << w) - 1;
    unsigned c;

    for (c = 0; c < st->nlru; c++) {
        struct mm_lru *l = &st->lru[c];
        uint64_t ev;
        uint64_t sum;

        pthread_mutex_lock(&l->lock);
        ev = l->c.evicted;
        sum = l->c.evicted_age_sum;
        pthread_mutex_unlock(&l->lock);
        mv->evict_bits[c] =
            ((mv->evict_bits[c] << 1) | (ev != mv->last_evicted[c] ? 1u : 0u)) & mask;
        if (ev > mv->last_evicted[c]) {
            double a = (double)(sum - mv->last_age_sum[c]) / (double)(ev - mv->last_evicted[c]);

            mv->age_avg[c] = mv->age_avg[c] == 0 ? a : (3 * mv->age_avg[c] + a) / 4;
        }
        mv->last_evicted[c] = ev;
        mv->last_age_sum[c] = sum;
    }
}

/* The class that needs memory most: it evicted in this tick and (mode 1)
 * in at least half the window, and the items it evicts are the youngest. */
static bool
neediest(struct mm_store *st, int mode, unsigned *dst, double *age)
{
    struct mm_mover *mv = &st->mover;
    unsigned w = mv->window < 64 ? mv->window : 64;
    bool found = false;
    unsigned c;

    for (c = 0; c < st->nlru; c++) {
        if (!(mv->evict_bits[c] & 1u) ||
            (mode == 1 && popcount64(mv->evict_bits[c]) * 2 < (w ? w : 1))) {
            continue;
        }
        if (!found || mv->age_avg[c] < *age) {
            *dst = c;
            *age = mv->age_avg[c];
            found = true;
        }
    }
    return found;
}

/* The class (other than dst) to take a page from. A class that evicts too
 * qualifies when the items it evicts are older than dst's by the ratio
 * (mode 1), which keeps classes under equal pressure from trading pages
 * back and forth; among those the one evicting the oldest items. A class
 * that does not evict is judged by a probe of its next victims
 * (coldest_probe) and comes first: its memory holds items nobody reads. */
static bool
pick_source(struct mm_store *st, unsigned dst, double dst_age, int mode, mm_reltime_t now,
            unsigned *src)
{
    struct mm_mover *mv = &st->mover;
    double ratio = mm_store_automove_ratio(st);
    uint64_t need;
    double best = 0;
    bool found = false;
    unsigned c;

    if (!(ratio > 0)) {
        ratio = 1.0;
    }
    need = mode == 1 ? (uint64_t)(dst_age / ratio) : 0;
    if (coldest_class(st, dst, need > 0 ? need : 1, mode == 1 ? PROBE_COLD_PCT : 0, now, src)) {
        return true;
    }
    for (c = 0; c < st->nlru; c++) {
        if (c == dst || !evicting(mv, c) || class_pages(st, c) == 0) {
            continue;
        }
        /* Between two classes that both evict, a move costs a page of the
         * source's items at once and pays back only as the destination
         * fills the page. Eviction ages are noisy (whole seconds, and an
         * item's access time moves at most once a minute), so mode 1 asks
         * for twice the ratio's margin and five seconds, and moves at most
         * one such page a second. */
        if (mode == 1 &&
            (mv->evict_moved_at + 10 > mv->ticks ||
             !(dst_age < mv->age_avg[c] * ratio / 2 && mv->age_avg[c] - dst_age >= 5.0))) {
            continue;
        }
        if (!found || mv->age_avg[c] > best) {
            best = mv->age_avg[c];
            *src = c;
            found = true;
        }
    }
    return found;
}

unsigned
mm_mover_tick(struct mm_store *st)
{
    struct mm_mover *mv = &st->mover;
    mm_reltime_t now = mm_store_now(st);
    int mode = mm_mover_automove(st);
    unsigned moved = 0;

    pending_finish(st, true);
    if (!mv->reassign) {
        return 0;
    }
    moved += shrink_to_limit(st, now);
    sample(st);
    mv->ticks++;
    if (mode == 0) {
        return moved;
    }
    moved += give_back_free(st);
    while (moved < MOVES_PER_TICK) {
        unsigned dst = 0;
        unsigned src = 0;
        double dst_age = 0;

        if (!neediest(st, mode, &dst, &dst_age) ||
            !pick_source(st, dst, dst_age, mode, now, &src)) {
            break;
        }
        if (evicting(mv, src)) {
            mv->evict_moved_at = mv->ticks;
        }
        if (src == MM_ITEM_CLS_LARGE) {
            if (!shrink_large(st, now)) {
                break;
            }
        } else {
            (void)mm_mover_move_page(st, src, true, true);
        }
        mv->probe_at[src] = 0;
        hand_to(st, dst);
        moved++;
        /* The destination must show it still needs more. */
        mv->evict_bits[dst] &= ~(uint64_t)1;
    }
    return moved;
}

/* ------------------------------------------------------------------ */
/* Requests and the thread                                             */

enum mm_mover_rc
mm_mover_reassign(struct mm_store *st, int src, int dst)
{
    struct mm_mover *mv = &st->mover;
    enum mm_mover_rc rc = MM_MOVER_OK;

    if (!mv->reassign) {
        return MM_MOVER_DISABLED;
    }
    /* Class 0 is the pool itself, as in memcached: a destination that
     * frees the page, a source that hands out one given back earlier. */
    if (src < 0 || dst < 0 || src > (int)st->slab.nclasses || dst > (int)st->slab.nclasses) {
        return MM_MOVER_BADCLASS;
    }
    if (src == dst) {
        return MM_MOVER_SAME;
    }
    pthread_mutex_lock(&mv->bg.lock);
    if (mv->req_src >= 0 || __atomic_load_n(&mv->running, __ATOMIC_RELAXED)) {
        rc = MM_MOVER_BUSY;
    } else if ((src == 0 ? mm_pool_pooled(&st->slab.pool) : class_pages(st, (unsigned)src)) < 2) {
        /* memcached leaves a class its last page. */
        rc = MM_MOVER_NOSPARE;
    } else {
        mv->req_src = src;
        mv->req_dst = dst;
        pthread_cond_signal(&mv->bg.wake);
    }
    pthread_mutex_unlock(&mv->bg.lock);
    return rc;
}

void
mm_mover_set_automove(struct mm_store *st, int mode)
{
    __atomic_store_n(&st->mover.automove, mode, __ATOMIC_RELAXED);
}

int
mm_mover_automove(struct mm_store *st)
{
    return __atomic_load_n(&st->mover.automove, __ATOMIC_RELAXED);
}

void
mm_mover_kick(struct mm_store *st)
{
    mm_bg_kick(&st->mover.bg);
}

static void
run_request(struct mm_store *st)
{
    struct mm_mover *mv = &st->mover;
    int src;
    int dst;

    pthread_mutex_lock(&mv->bg.lock);
    src = mv->req_src;
    dst = mv->req_dst;
    if (src >= 0) {
        __atomic_store_n(&mv->running, true, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&mv->bg.lock);
    if (src < 0) {
        return;
    }
    if ((src == 0 || mm_mover_move_page(st, (unsigned)src, true, true)) && dst > 0) {
        hand_to(st, (unsigned)dst);
    }
    pthread_mutex_lock(&mv->bg.lock);
    mv->req_src = -1;
    __atomic_store_n(&mv->running, false, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&mv->bg.lock);
}

static void *
mover_main(void *arg)
{
    struct mm_store *st = arg;
    struct mm_mover *mv = &st->mover;

    pthread_mutex_lock(&mv->bg.lock);
    while (mv->req_src >= 0 || mm_bg_wait_locked(&mv->bg, TICK_MS)) {
        if (mv->bg.stop) {
            break;
        }
        pthread_mutex_unlock(&mv->bg.lock);
        run_request(st);
        (void)mm_mover_tick(st);
        pthread_mutex_lock(&mv->bg.lock);
    }
    pthread_mutex_unlock(&mv->bg.lock);
    return NULL;
}

void
mm_mover_init(struct mm_store *st)
{
    struct mm_mover *mv = &st->mover;

    memset(mv, 0, sizeof(*mv));
    mm_bg_init(&mv->bg);
    mv->automove = st->cfg.slab_automove;
    mv->reassign = !st->cfg.reassign_off;
    mv->ratio = st->cfg.slab_automove_ratio;
    mv->window = st->cfg.slab_automove_window;
    mv->req_src = -1;
    mv->req_dst = -1;
    mv->nlru = st->nlru;
    mv->last_evicted = mm_calloc(st->nlru, sizeof(*mv->last_evicted));
    mv->evict_bits = mm_calloc(st->nlru, sizeof(*mv->evict_bits));
    mv->probe_at = mm_calloc(st->nlru, sizeof(*mv->probe_at));
    mv->last_age_sum = mm_calloc(st->nlru, sizeof(*mv->last_age_sum));
    mv->age_avg = mm_calloc(st->nlru, sizeof(*mv->age_avg));
}

void
mm_mover_fini(struct mm_store *st)
{
    struct mm_mover *mv = &st->mover;

    mm_bg_fini(&mv->bg);
    mm_free(mv->last_evicted);
    mm_free(mv->evict_bits);
    mm_free(mv->probe_at);
    mm_free(mv->last_age_sum);
    mm_free(mv->age_avg);
}

int
mm_mover_start(struct mm_store *st)
{
    return mm_bg_start(&st->mover.bg, mover_main, st);
}

void
mm_mover_stop(struct mm_store *st)
{
    mm_bg_stop(&st->mover.bg);
}
