/* The store's front door: ties the hash table, slabs and clock hands together and
 * implements memcached's semantics for get, two-phase stores, delete, touch,
 * incr/decr and flush, plus the store's stats. It owns the lock order; the
 * wire format, clocks and exptime conversion belong to other modules.
 *
 * Lock order (also in doc/store.md):
 *   1. stripe (mm_ht_lock) -> lru[cls] (the class's clock hand) -> slab class
 *   2. clock hand -> stripe only through mm_ht_trylock (the sweep)
 *   3. mm_ht_grow_step() is called with no stripe lock held at all, because
 *      starting or ending a growth takes every stripe of one shard
 *   4. stats take lru/slab locks one at a time, never while holding another
 */
#include "config.h"

#include "mmem/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mmem/alloc.h"
#include "mmem/watch.h"
#include "store/handle_int.h"
#include "store/ht_int.h"
#include "store/item_int.h"
#include "store/lru_int.h"
#include "store/slab_int.h"
#include "store/store_int.h"

/* Items looked at per list by one eviction walk (memcached looks at 5; a
 * few more tolerate short-lived references at the tail). */
#define EVICT_WALK 16u
/* Allocation attempts, each after one eviction, before giving up. */
#define ALLOC_TRIES 10
/* Old buckets moved by an operation that finds its shard growing. */
#define GROW_STEP 8u

#define DEFAULT_HASHPOWER 16u

/* Slab classes step by 16 bytes up to 512 bytes (src/store/slab.c). */
#define MM_STORE_FINE_MAX 512u
#define MM_STORE_FINE_STEP 16u

static inline mm_reltime_t
now_of(const struct mm_store *st)
{
    return mm_clock_now(st->cfg.clock);
}

static inline struct mm_lru *
lru_of(struct mm_store *st, unsigned cls)
{
    return &st->lru[cls];
}

static inline struct mm_lru *
lru_item(struct mm_store *st, const struct mm_item *it)
{
    return lru_of(st, mm_item_cls(it));
}

#define OP_INCR(st, it, field)                                                                     \
    __atomic_fetch_add(&lru_item((st), (it))->ops.field, 1, __ATOMIC_RELAXED)

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */

struct mm_store *
mm_store_create(const struct mm_store_cfg *cfg)
{
    struct mm_store *st;
    struct mm_slab_cfg scfg;
    struct mm_item_space sp;
    unsigned hp;
    unsigned stripe_bits;
    size_t i;

    if (cfg->clock == NULL || cfg->shard_bits > 8) {
        return NULL;
    }
    st = mm_calloc(1, sizeof(*st));
    st->cfg = *cfg;
    if (st->cfg.factor == 0) {
        st->cfg.factor = 1.25;
    }
    if (st->cfg.chunk_min == 0) {
        st->cfg.chunk_min = 48;
    }
    if (st->cfg.item_size_max == 0) {
        st->cfg.item_size_max = 1024 * 1024;
    }
    if (st->cfg.slab_page_size == 0) {
        st->cfg.slab_page_size = MM_SLAB_PAGE_DEFAULT;
    }
    if (st->cfg.slab_chunk_max == 0) {
        st->cfg.slab_chunk_max = st->cfg.slab_page_size / 2;
    }
    if (st->cfg.hashpower == 0) {
        st->cfg.hashpower = DEFAULT_HASHPOWER;
    }

    memset(&scfg, 0, sizeof(scfg));
    scfg.mem_limit = st->cfg.mem_limit;
    scfg.factor = st->cfg.factor;
    /* Fine classes from our header + -n up to 512 bytes, memcached's own
     * table (its 48-byte header + -n, times -f) above (src/store/slab.c). */
    scfg.base = MM_ITEM_MC_HDR_SIZE + st->cfg.chunk_min;
    scfg.fine_base = MM_ITEM_HDR_SIZE + st->cfg.chunk_min;
    scfg.fine_max = MM_STORE_FINE_MAX;
    scfg.fine_step = MM_STORE_FINE_STEP;
    scfg.page_size = st->cfg.slab_page_size;
    scfg.chunk_max = st->cfg.slab_chunk_max;
    scfg.prealloc = st->cfg.prealloc;
    scfg.sizes = st->cfg.slab_sizes;
    scfg.nsizes = st->cfg.nslab_sizes;
    if (mm_slab_init(&st->slab, &scfg) != 0) {
        mm_free(st);
        return NULL;
    }

    /* The initial size is for the whole table; each shard gets its part. */
    hp = st->cfg.hashpower > st->cfg.shard_bits ? st->cfg.hashpower - st->cfg.shard_bits : 1;
    stripe_bits = hp < MM_HT_DEFAULT_STRIPE_BITS ? hp : MM_HT_DEFAULT_STRIPE_BITS;
    sp = mm_item_space_of(&st->slab);
    st->ht = mm_ht_create(st->cfg.shard_bits, hp, stripe_bits, NULL, &sp);
    if (st->ht == NULL) {
        mm_slab_fini(&st->slab);
        mm_free(st);
        return NULL;
    }
    mm_ht_set_expand(st->ht, st->cfg.hash_expand);
    st->nshards = mm_ht_nshards(st->ht);
    st->nlru = st->slab.nclasses + 1;
    st->lru = mm_aligned_alloc(64, (size_t)st->nlru * sizeof(*st->lru));
    for (i = 0; i < st->nlru; i++) {
        mm_lru_init(&st->lru[i]);
    }
    pthread_mutex_init(&st->sizes_lock, NULL);
    st->crawler_off = st->cfg.crawler_off;
    if (st->cfg.slab_automove_ratio <= 0) {
        st->cfg.slab_automove_ratio = 0.8;
    }
    if (st->cfg.slab_automove_window == 0) {
        st->cfg.slab_automove_window = 30;
    }
    mm_mover_init(st);
    mm_crawler_init(st);
    st->nsizes = st->cfg.item_size_max / 32 + 1;
    if (st->cfg.track_sizes) {
        /* At start-up every item counts, with or without CAS. */
        st->sizes_buf = mm_calloc(st->nsizes, sizeof(*st->sizes_buf));
        st->sizes = st->sizes_buf;
    }
    return st;
}

static void
item_free(struct mm_store *st, struct mm_item *it)
{
    if (mm_item_cls(it) == MM_ITEM_CLS_LARGE) {
        mm_slab_large_free(&st->slab, it, mm_item_total(it));
    } else {
        mm_slab_free(&st->slab, it, mm_item_cls(it));
    }
}

void
mm_store_destroy(struct mm_store **stp)
{
    struct mm_store *st = *stp;
    size_t i;

    if (st == NULL) {
        return;
    }
    mm_crawler_fini(st);
    mm_mover_fini(st);
    /* Pages go back wholesale below; only large items need freeing. */
    for (i = 0; i < mm_slab_large_span(&st->slab); i++) {
        struct mm_item *it = mm_slab_large_at(&st->slab, (uint32_t)i);

        if (it != NULL) {
            item_free(st, it);
        }
    }
    for (i = 0; i < st->nlru; i++) {
        mm_lru_fini(&st->lru[i]);
    }
    mm_free(st->lru);
    mm_free(st->sizes_buf);
    pthread_mutex_destroy(&st->sizes_lock);
    mm_ht_destroy(&st->ht);
    mm_slab_fini(&st->slab);
    mm_free(st);
    *stp = NULL;
}

/* ------------------------------------------------------------------ */
/* Item state                                                          */

void
mm_store_ref(struct mm_store *st, struct mm_item *it)
{
    (void)st;
    mm_item_ref(it);
}

void
mm_store_unref(struct mm_store *st, struct mm_item *it)
{
    if (mm_item_unref(it)) {
        item_free(st, it);
    }
}

static bool
item_flushed(struct mm_store *st, const struct mm_item *it, mm_reltime_t now)
{
    mm_reltime_t oldest;
    uint64_t oldest_cas;
    uint64_t cas;

    if (!__atomic_load_n(&st->flush_set, __ATOMIC_ACQUIRE)) {
        return false;
    }
    oldest = __atomic_load_n(&st->oldest_live, __ATOMIC_RELAXED);
    if (oldest > now) {
        return false;
    }
    if (mm_item_load_atime(it) <= oldest) {
        return true;
    }
    /* Items stored in the flush's own second are told apart by CAS. */
    oldest_cas = __atomic_load_n(&st->oldest_cas, __ATOMIC_RELAXED);
    cas = mm_item_cas(it);
    return oldest_cas != 0 && cas != 0 && cas < oldest_cas;
}

static enum mm_store_get_result
item_state(struct mm_store *st, const struct mm_item *it, mm_reltime_t now)
{
    mm_reltime_t exp = mm_item_load_exptime(it);

    if (exp != 0 && exp <= now) {
        return MM_STORE_GET_EXPIRED;
    }
    if (item_flushed(st, it, now)) {
        return MM_STORE_GET_FLUSHED;
    }
    return MM_STORE_GET_HIT;
}

static uint64_t
next_cas(struct mm_store *st)
{
    return st->cfg.use_cas ? __atomic_add_fetch(&st->cas_seq, 1, __ATOMIC_RELAXED) : 0;
}

/* "stats sizes": one bucket per 32 bytes of memcached's size for the item
 * (mm_item_mc_total), rounded up, so the histogram reads as memcached's.
 * Off, this is one relaxed load. */
static void
sizes_count(struct mm_store *st, const struct mm_item *it, uint32_t delta)
{
    uint32_t *hist = __atomic_load_n(&st->sizes, __ATOMIC_ACQUIRE);
    size_t bucket;

    if (hist == NULL || mm_item_cas(it) < __atomic_load_n(&st->sizes_cas_min, __ATOMIC_RELAXED)) {
        return;
    }
    bucket = (mm_item_mc_total(it->nkey, mm_item_vlen(it), mm_item_has_cas(it)) + 31) / 32;
    if (bucket < st->nsizes) {
        __atomic_fetch_add(&hist[bucket], delta, __ATOMIC_RELAXED);
    }
}

/* Caller holds h's stripe. Drops the table's reference. */
static void
unlink_locked(struct mm_store *st, struct mm_item *it, mm_hash_t h)
{
    sizes_count(st, it, (uint32_t)-1);
    mm_ht_remove_locked(st->ht, it, h);
    it->iflags &= (uint8_t)~MM_ITEM_F_LINKED;
    mm_lru_unlink(lru_item(st, it), it);
    mm_store_unref(st, it);
}

/* Caller holds h's stripe. The caller's reference becomes the table's. */
static void
link_locked(struct mm_store *st, struct mm_item *it, mm_hash_t h, mm_reltime_t now)
{
    mm_reltime_t exp = mm_item_load_exptime(it);

    /* memcached's temp LRU: decided once, from the TTL the item is stored
     * with (a later touch does not move it). */
    if (st->cfg.temporary_ttl > 0 && exp != 0 && exp - now <= st->cfg.temporary_ttl) {
        it->iflags |= MM_ITEM_F_TEMP;
    }
    mm_item_set_cas(it, next_cas(st));
    it->iflags |= MM_ITEM_F_LINKED;
    mm_ht_insert_locked(st->ht, it, h);
    mm_lru_link(lru_item(st, it), it, now);
    __atomic_fetch_add(&st->total_items, 1, __ATOMIC_RELAXED);
    sizes_count(st, it, 1);
}

/* Caller holds h's stripe. A dead (expired/flushed) item found on the way
 * is unlinked, as memcached does on access. */
static struct mm_item *
find_live_locked(struct mm_store *st, const char *key, size_t nkey, mm_hash_t h, mm_reltime_t now,
                 enum mm_store_get_result *why)
{
    struct mm_item *it = mm_ht_find_locked(st->ht, key, nkey, h);
    enum mm_store_get_result state;

    if (it == NULL) {
        *why = MM_STORE_GET_MISS;
        return NULL;
    }
    state = item_state(st, it, now);
    *why = state;
    if (state != MM_STORE_GET_HIT) {
        unlink_locked(st, it, h);
        return NULL;
    }
    return it;
}

static void
maybe_grow(struct mm_store *st, unsigned shard)
{
    if (mm_ht_grow_wanted(st->ht, shard)) {
        mm_ht_grow_step(st->ht, shard, GROW_STEP);
    }
}

bool
mm_store_maintain(struct mm_store *st, unsigned nbuckets)
{
    bool more = false;
    unsigned s;

    for (s = 0; s < st->nshards; s++) {
        if (mm_ht_grow_wanted(st->ht, s) && mm_ht_grow_step(st->ht, s, nbuckets)) {
            more = true;
        }
    }
    return more;
}

/* ------------------------------------------------------------------ */
/* Walk ("lru_crawler metadump")                                       */

/* Units looked at per mm_store_walk() call at most, so a sparse table does
 * not hold one call for long. */
#define WALK_UNITS 1024u

struct walk_state {
    struct mm_store *st;
    mm_reltime_t now;
    mm_store_walk_fn fn;
    void *arg;
    unsigned seen;
};

static void
walk_one(void *arg, const struct mm_item *it)
{
    struct walk_state *w = arg;
    struct mm_store_walk_item wi;

    if (item_state(w->st, it, w->now) != MM_STORE_GET_HIT) {
        return;
    }
    wi.key = mm_item_key(it);
    wi.nkey = it->nkey;
    wi.fetched = (it->iflags & MM_ITEM_F_FETCHED) != 0;
    wi.cls = mm_item_cls(it);
    wi.exptime = mm_item_load_exptime(it);
    wi.atime = mm_item_load_atime(it);
    wi.cas = mm_item_cas(it);
    wi.size = (uint32_t)mm_item_total(it);
    wi.vlen = mm_item_vlen(it);
    w->fn(w->arg, &wi);
    w->seen++;
}

bool
mm_store_walk(struct mm_store *st, struct mm_store_cursor *cur, mm_store_walk_fn fn, void *arg,
              unsigned max)
{
    struct walk_state w;
    unsigned units = 0;

    w.st = st;
    w.now = now_of(st);
    w.fn = fn;
    w.arg = arg;
    w.seen = 0;
    while (cur->shard < st->nshards && w.seen < max && units < WALK_UNITS) {
        if (mm_ht_walk_unit(st->ht, cur->shard, &cur->pos, walk_one, &w)) {
            cur->shard++;
        }
        units++;
    }
    return cur->shard < st->nshards;
}

bool
mm_store_crawler_set(struct mm_store *st, bool enabled)
{
    return !__atomic_exchange_n(&st->crawler_off, !enabled, __ATOMIC_RELAXED);
}

bool
mm_store_crawler_enabled(struct mm_store *st)
{
    return !__atomic_load_n(&st->crawler_off, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* Allocation and eviction                                             */

/* A victim the clock sweep took off the table: it leaves the size
 * histogram, and a live one is reported to "watch evictions". */
static void
report_eviction(struct mm_store *st, const struct mm_item *victim, mm_reltime_t now)
{
    if (mm_watch_wants(st->cfg.watch, MM_WATCH_EVICTIONS)) {
        mm_reltime_t exp = mm_item_load_exptime(victim);
        mm_reltime_t atime = mm_item_atime(victim);

        mm_watch_eviction(st->cfg.watch, mm_item_key(victim), victim->nkey,
                          (victim->iflags & MM_ITEM_F_FETCHED) != 0,
                          exp != 0 ? (int64_t)exp - (int64_t)now : -1,
                          now > atime ? now - atime : 0, mm_item_cls(victim), mm_item_vlen(victim));
    }
}

static struct mm_item *
evicted(struct mm_store *st, struct mm_item *victim, bool reclaimed, mm_reltime_t now)
{
    if (victim == NULL) {
        return NULL;
    }
    sizes_count(st, victim, (uint32_t)-1);
    if (!reclaimed) {
        report_eviction(st, victim, now);
    }
    return victim;
}

bool
mm_store_item_dead(struct mm_store *st, const struct mm_item *it, mm_reltime_t now)
{
    return item_state(st, it, now) != MM_STORE_GET_HIT;
}

void
mm_store_evict_locked(struct mm_store *st, struct mm_item *it, mm_hash_t h, mm_reltime_t now)
{
    bool dead = mm_store_item_dead(st, it, now);

    mm_lru_count_victim(lru_item(st, it), it, dead, now);
    if (!dead) {
        report_eviction(st, it, now);
    }
    unlink_locked(st, it, h);
}

void
mm_store_item_free(struct mm_store *st, struct mm_item *it)
{
    item_free(st, it);
}

/* What one clock hand sweeps: the chunks of a slab class, or the large
 * item registry. */
struct sweep_src {
    struct mm_store *st;
    unsigned cls;
};

static uint64_t
sweep_span(void *arg)
{
    struct sweep_src *src = arg;

    return src->cls == MM_ITEM_CLS_LARGE ? mm_slab_large_span(&src->st->slab)
                                         : mm_slab_carved(&src->st->slab, src->cls);
}

/* Pin the item under the sweep's hand: mm_item_pin, or report it busy. */
struct sweep_grab {
    struct mm_item *it;
    bool *busy;
};

static bool
sweep_pin(void *arg, void *p)
{
    struct sweep_grab *g = arg;
    struct mm_item *it = p;

    if (mm_item_pin(it)) {
        g->it = it;
        return true;
    }
    *g->busy = mm_item_refcnt(it) > 1;
    return false;
}

static struct mm_item *
sweep_grab(void *arg, uint64_t i, bool *busy)
{
    struct sweep_src *src = arg;
    struct sweep_grab g = {NULL, busy};

    if (src->cls == MM_ITEM_CLS_LARGE) {
        /* A large item is unmapped when freed: look under the registry
         * lock, which freeing takes first. */
        mm_slab_large_with(&src->st->slab, (uint32_t)i, sweep_pin, &g);
    } else {
        /* Under the class lock, so the page cannot be detached and handed
         * to another class between finding the chunk and pinning it. */
        mm_slab_chunk_with(&src->st->slab, src->cls, i, sweep_pin, &g);
    }
    return g.it;
}

static bool
sweep_dead(void *arg, const struct mm_item *it, mm_reltime_t now)
{
    struct sweep_src *src = arg;

    return item_state(src->st, it, now) != MM_STORE_GET_HIT;
}

static void
sweep_release(void *arg, struct mm_item *it)
{
    struct sweep_src *src = arg;

    item_free(src->st, it);
}

static void
sweep_init(struct mm_lru_walk *w, struct sweep_src *src, struct mm_store *st, unsigned cls,
           mm_reltime_t now)
{
    src->st = st;
    src->cls = cls;
    memset(w, 0, sizeof(*w));
    w->now = now;
    w->max_walk = EVICT_WALK;
    w->evict = st->cfg.evict;
    w->dead = sweep_dead;
    w->span = sweep_span;
    w->grab = sweep_grab;
    w->release = sweep_release;
    w->arg = src;
}

struct mm_item *
mm_store_evict_one(struct mm_store *st, unsigned cls, mm_reltime_t now)
{
    struct sweep_src src;
    struct mm_lru_walk w;
    bool reclaimed;
    struct mm_item *victim;

    sweep_init(&w, &src, st, cls, now);
    victim = mm_lru_evict(lru_of(st, cls), st->ht, &w, &reclaimed);
    return evicted(st, victim, reclaimed, now);
}

void
mm_store_probe(struct mm_store *st, unsigned cls, unsigned max, bool clear, unsigned *looked,
               unsigned *cold)
{
    struct sweep_src src;
    struct mm_lru_walk w;

    sweep_init(&w, &src, st, cls, now_of(st));
    mm_lru_probe(lru_of(st, cls), st->ht, &w, max, clear, looked, cold);
}

bool
mm_store_hand_atime(struct mm_store *st, unsigned cls, mm_reltime_t *atime)
{
    struct sweep_src src;
    struct mm_lru_walk w;

    sweep_init(&w, &src, st, cls, now_of(st));
    return mm_lru_hand_atime(lru_of(st, cls), &w, atime);
}

/* Memory for an item of class cls (MM_ITEM_CLS_LARGE: total bytes exactly),
 * evicting as needed. The caller may hold one stripe lock; the sweep skips
 * items under it. */
static void *
alloc_mem(struct mm_store *st, unsigned cls, size_t total, mm_reltime_t now)
{
    int tries;

    /* A large value may need many smaller large items evicted (with a
     * small slab_chunk_max, "large" starts at a few KB). */
    int max_tries = cls == MM_ITEM_CLS_LARGE ? ALLOC_TRIES + (int)(total / 4096) : ALLOC_TRIES;

    for (tries = 0; tries < max_tries; tries++) {
        struct mm_item *victim;
        void *p = cls != MM_ITEM_CLS_LARGE ? mm_slab_alloc(&st->slab, cls)
                                           : mm_slab_large_alloc(&st->slab, total);

        if (p != NULL) {
            return p;
        }
        victim = mm_store_evict_one(st, cls, now);
        if (victim == NULL && cls != MM_ITEM_CLS_LARGE) {
            /* Large items give their memory back to the pool, from which
             * this class may then take a new page. */
            victim = mm_store_evict_one(st, MM_ITEM_CLS_LARGE, now);
        }
        if (victim == NULL) {
            /* Nothing to evict here (a class with no page yet, or a large
             * item when the pool is all slab pages): empty a page of the
             * class holding the most memory, so every store that fits -I
             * finds room whatever was stored before. */
            if (mm_mover_steal(st, cls, now)) {
                continue;
            }
            break;
        }
        if (cls != MM_ITEM_CLS_LARGE && mm_item_cls(victim) == cls) {
            /* Same chunk size: hand the chunk over directly, so no other
             * thread can take it between a free and our next try. */
            return victim;
        }
        item_free(st, victim);
    }
    return NULL;
}

static struct mm_item *
item_alloc(struct mm_store *st, const char *key, size_t nkey, uint32_t client_flags,
           mm_reltime_t exptime, uint32_t vlen, mm_reltime_t now, enum mm_store_rc *rc)
{
    size_t total;
    size_t mc_total;
    unsigned cls;
    struct mm_item *it;

    /* memcached's own size (with its NUL after the key and "\r\n" after the
     * value) decides "too large", so both refuse the same values. */
    total = mm_item_ntotal(nkey, vlen, st->cfg.use_cas, client_flags != 0);
    mc_total = mm_item_mc_total(nkey, vlen, st->cfg.use_cas);
    if (nkey == 0 || nkey > MM_STORE_KEY_MAX || mc_total > st->cfg.item_size_max) {
        __atomic_fetch_add(&st->too_large, 1, __ATOMIC_RELAXED);
        *rc = MM_STORE_TOO_LARGE;
        return NULL;
    }
    cls = vlen <= MM_ITEM_SLAB_VLEN_MAX ? mm_slab_class(&st->slab, total) : MM_ITEM_CLS_LARGE;
    if (cls == MM_ITEM_CLS_LARGE) {
        total += MM_ITEM_LARGE_EXTRA;
    }
    it = alloc_mem(st, cls, total, now);
    if (it == NULL) {
        struct mm_lru *l = lru_of(st, cls);

        pthread_mutex_lock(&l->lock);
        l->c.outofmemory++;
        pthread_mutex_unlock(&l->lock);
        __atomic_fetch_add(&st->no_memory, 1, __ATOMIC_RELAXED);
        *rc = MM_STORE_NOMEM;
        return NULL;
    }
    mm_item_init(it, key, (uint8_t)nkey, (uint8_t)cls, st->cfg.use_cas, client_flags, exptime, vlen,
                 now);
    *rc = MM_STORE_OK;
    return it;
}

/* ------------------------------------------------------------------ */
/* Operations                                                          */

/* A fetch (get, touch, mg without u) as memcached records it: the first one
 * only sets the fetched bit, each later one makes the item active and its
 * last access now. Clients read both back ("mg h l", "me", metadump), so
 * they follow memcached's rule rather than the eviction's coarser one: the
 * eviction marks the item first, then the last access is set here.
 * Caller holds the item's stripe lock. */
static void
note_fetch(struct mm_store *st, struct mm_item *it, mm_reltime_t now)
{
    bool again = (it->iflags & MM_ITEM_F_FETCHED) != 0;
    mm_reltime_t at = again ? now : mm_item_load_atime(it);

    mm_lru_bump(lru_item(st, it), it, now);
    if (mm_item_load_atime(it) != at) {
        mm_item_store_atime(it, at);
    }
    it->iflags |= again ? MM_ITEM_F_ACTIVE : MM_ITEM_F_FETCHED;
}

struct mm_item *
mm_store_get(struct mm_store *st, const char *key, size_t nkey, mm_hash_t h, bool touch,
             mm_reltime_t new_exp, enum mm_store_get_result *why)
{
    mm_reltime_t now = now_of(st);
    enum mm_store_get_result res;
    struct mm_item *it;

    mm_ht_lock(st->ht, h);
    it = find_live_locked(st, key, nkey, h, now, &res);
    if (it != NULL) {
        mm_item_ref(it);
        if (touch) {
            mm_item_store_exptime(it, new_exp);
            OP_INCR(st, it, touch_hits);
        } else {
            OP_INCR(st, it, get_hits);
        }
        note_fetch(st, it, now);
    }
    mm_ht_unlock(st->ht, h);
    if (why != NULL) {
        *why = res;
    }
    return it;
}

struct mm_item *
mm_store_mget(struct mm_store *st, const char *key, size_t nkey, mm_hash_t h,
              struct mm_store_mget *m, enum mm_store_get_result *why)
{
    mm_reltime_t now = now_of(st);
    enum mm_store_get_result res;
    struct mm_item *it;

    m->created = false;
    m->won = false;
    m->stale = false;
    m->token_sent = false;
    m->fetched_before = false;
    m->atime_before = 0;
    mm_ht_lock(st->ht, h);
    it = find_live_locked(st, key, nkey, h, now, &res);
    if (it == NULL && m->vivify && nkey <= MM_STORE_KEY_MAX) {
        enum mm_store_rc rc;

        /* Allocating under the stripe is what append does too; it makes
         * the miss and the creation one step. */
        it = item_alloc(st, key, nkey, 0, m->vivify_exp, 0, now, &rc);
        if (it != NULL) {
            link_locked(st, it, h, now);
            m->created = true;
            m->won = true;
        }
    }
    if (it != NULL) {
        uint8_t f = it->iflags;

        mm_item_ref(it);
        m->fetched_before = (f & MM_ITEM_F_FETCHED) != 0;
        m->atime_before = mm_item_load_atime(it);
        m->token_sent = (f & MM_ITEM_F_TOKEN) != 0;
        m->stale = (f & MM_ITEM_F_STALE) != 0;
        if (m->stale && !m->token_sent) {
            m->won = true;
        }
        if (m->recache && !m->created && !m->token_sent) {
            mm_reltime_t exp = mm_item_load_exptime(it);

            if (exp != 0 && exp < m->recache_at) {
                m->won = true;
            }
        }
        if (m->won) {
            it->iflags |= MM_ITEM_F_TOKEN;
        }
        if (m->touch) {
            mm_item_store_exptime(it, m->new_exp);
            OP_INCR(st, it, touch_hits);
        } else if (!m->created && !m->peek) {
            OP_INCR(st, it, get_hits);
        }
        if (!m->created && !m->no_bump && !m->peek) {
            note_fetch(st, it, now);
        }
    }
    mm_ht_unlock(st->ht, h);
    if (why != NULL) {
        *why = m->created ? MM_STORE_GET_MISS : res;
    }
    if (m->created) {
        maybe_grow(st, mm_ht_shard(st->ht, h));
    }
    return it;
}

enum mm_store_rc
mm_store_invalidate(struct mm_store *st, const char *key, size_t nkey, mm_hash_t h, uint64_t cas_in,
                    bool set_exp, mm_reltime_t exptime)
{
    enum mm_store_get_result why;
    enum mm_store_rc rc = MM_STORE_OK;
    struct mm_item *it;

    mm_ht_lock(st->ht, h);
    it = find_live_locked(st, key, nkey, h, now_of(st), &why);
    if (it == NULL) {
        rc = MM_STORE_NOT_FOUND;
    } else if (cas_in != 0 && mm_item_cas(it) != cas_in) {
        rc = MM_STORE_EXISTS;
    } else {
        if (set_exp) {
            mm_item_store_exptime(it, exptime);
        }
        it->iflags |= MM_ITEM_F_STALE;
        it->iflags &= (uint8_t)~MM_ITEM_F_TOKEN;
        mm_item_set_cas(it, next_cas(st));
    }
    mm_ht_unlock(st->ht, h);
    return rc;
}

struct mm_item *
mm_store_reserve(struct mm_store *st, const char *key, size_t nkey, mm_hash_t h,
                 uint32_t client_flags, mm_reltime_t exptime, uint32_t vlen, enum mm_store_rc *rc)
{
    enum mm_store_rc dummy;

    /* Memory is per class, not per shard, so the hash is not needed until
     * the commit; the caller has it at hand either way. */
    (void)h;
    return item_alloc(st, key, nkey, client_flags, exptime, vlen, now_of(st),
                      rc != NULL ? rc : &dummy);
}

void
mm_store_abort(struct mm_store *st, struct mm_item *it)
{
    mm_store_unref(st, it);
}

/* append/prepend: a new item holding old and new values, with the old
 * item's flags and expiry. Caller holds the stripe. */
static struct mm_item *
combine_locked(struct mm_store *st, struct mm_item *old, struct mm_item *add, bool append,
               mm_reltime_t now)
{
    enum mm_store_rc rc;
    uint64_t vlen = (uint64_t)mm_item_vlen(old) + mm_item_vlen(add);
    struct mm_item *it;
    char *dst;

    if (vlen > UINT32_MAX) {
        return NULL;
    }
    it = item_alloc(st, mm_item_key(old), old->nkey, mm_item_flags(old), mm_item_load_exptime(old),
                    (uint32_t)vlen, now, &rc);
    if (it == NULL) {
        return NULL;
    }
    dst = mm_item_data(it);
    if (append) {
        memcpy(dst, mm_item_cdata(old), mm_item_vlen(old));
        memcpy(dst + mm_item_vlen(old), mm_item_cdata(add), mm_item_vlen(add));
    } else {
        memcpy(dst, mm_item_cdata(add), mm_item_vlen(add));
        memcpy(dst + mm_item_vlen(add), mm_item_cdata(old), mm_item_vlen(old));
    }
    return it;
}

enum mm_store_rc
mm_store_commit(struct mm_store *st, struct mm_item *it, enum mm_store_mode mode, uint64_t cas_in,
                uint64_t *cas_out)
{
    mm_hash_t h = mm_ht_hash(st->ht, mm_item_key(it), it->nkey);
    mm_reltime_t now = now_of(st);
    enum mm_store_get_result why;
    enum mm_store_rc rc = MM_STORE_OK;
    struct mm_item *old;
    struct mm_item *link = NULL;
    unsigned shard = mm_ht_shard(st->ht, h);

    mm_ht_lock(st->ht, h);
    OP_INCR(st, it, cmd_set);
    old = find_live_locked(st, mm_item_key(it), it->nkey, h, now, &why);
    switch (mode) {
    case MM_STORE_SET:
        link = it;
        break;
    case MM_STORE_ADD:
        if (old != NULL) {
            /* memcached refreshes the existing item's LRU position. */
            mm_lru_bump(lru_item(st, old), old, now);
            rc = MM_STORE_NOT_STORED;
        } else {
            link = it;
        }
        break;
    case MM_STORE_REPLACE:
        if (old == NULL) {
            rc = MM_STORE_NOT_STORED;
        } else {
            link = it;
        }
        break;
    case MM_STORE_CAS:
        if (old == NULL) {
            rc = MM_STORE_NOT_FOUND;
        } else if (cas_in == 0 || mm_item_cas(old) != cas_in) {
            /* Without CAS (-C) every item's CAS is 0, so nothing matches:
             * memcached answers EXISTS there too. */
            OP_INCR(st, old, cas_badval);
            rc = MM_STORE_EXISTS;
        } else {
            OP_INCR(st, old, cas_hits);
            link = it;
        }
        break;
    case MM_STORE_CAS_STALE:
        if (old == NULL) {
            rc = MM_STORE_NOT_FOUND;
        } else if (cas_in != 0 && mm_item_cas(old) == cas_in) {
            OP_INCR(st, old, cas_hits);
            link = it;
        } else if (cas_in != 0 && cas_in < mm_item_cas(old)) {
            /* An older writer may still store, but only as stale data that
             * keeps the current expiry and recache token. */
            mm_item_store_exptime(it, mm_item_load_exptime(old));
            it->iflags |= (uint8_t)(MM_ITEM_F_STALE | (old->iflags & MM_ITEM_F_TOKEN));
            link = it;
        } else {
            OP_INCR(st, old, cas_badval);
            rc = MM_STORE_EXISTS;
        }
        break;
    case MM_STORE_APPEND:
    case MM_STORE_PREPEND:
        if (old == NULL) {
            rc = MM_STORE_NOT_STORED;
        } else if (cas_in != 0 && mm_item_cas(old) != cas_in) {
            rc = MM_STORE_EXISTS;
        } else {
            link = combine_locked(st, old, it, mode == MM_STORE_APPEND, now);
            if (link == NULL) {
                /* memcached: a failed allocation here is NOT_STORED. */
                rc = MM_STORE_NOT_STORED;
            }
        }
        break;
    default:
        rc = MM_STORE_NOT_STORED;
        break;
    }
    if (link != NULL) {
        if (old != NULL) {
            unlink_locked(st, old, h);
        }
        link_locked(st, link, h, now);
        if (cas_out != NULL) {
            *cas_out = mm_item_cas(link);
        }
    }
    mm_ht_unlock(st->ht, h);
    if (link != it) {
        /* Refused, or replaced by a combined item: the reservation goes. */
        mm_store_unref(st, it);
    }
    if (link != NULL) {
        maybe_grow(st, shard);
    }
    return rc;
}

enum mm_store_rc
mm_store_delete(struct mm_store *st, const char *key, size_t nkey, mm_hash_t h, uint64_t cas_in)
{
    enum mm_store_get_result why;
    enum mm_store_rc rc = MM_STORE_OK;
    struct mm_item *it;

    mm_ht_lock(st->ht, h);
    it = find_live_locked(st, key, nkey, h, now_of(st), &why);
    if (it == NULL) {
        rc = MM_STORE_NOT_FOUND;
    } else if (cas_in != 0 && mm_item_cas(it) != cas_in) {
        rc = MM_STORE_EXISTS;
    } else {
        OP_INCR(st, it, delete_hits);
        unlink_locked(st, it, h);
    }
    mm_ht_unlock(st->ht, h);
    return rc;
}

enum mm_store_rc
mm_store_touch(struct mm_store *st, const char *key, size_t nkey, mm_hash_t h, mm_reltime_t exptime)
{
    mm_reltime_t now = now_of(st);
    enum mm_store_get_result why;
    enum mm_store_rc rc = MM_STORE_OK;
    struct mm_item *it;

    mm_ht_lock(st->ht, h);
    it = find_live_locked(st, key, nkey, h, now, &why);
    if (it == NULL) {
        rc = MM_STORE_NOT_FOUND;
    } else {
        mm_item_store_exptime(it, exptime);
        OP_INCR(st, it, touch_hits);
        note_fetch(st, it, now);
    }
    mm_ht_unlock(st->ht, h);
    return rc;
}

static inline bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* memcached's safe_strtoull over a value that, in memcached, is followed by
 * "\r\n": leading white space and a sign are accepted, at least one digit is
 * needed, overflow fails, the number must end at white space, a NUL or the
 * end of the value, and a "negative" result is refused when a '-' is
 * present. */
static bool
value_to_u64(const char *p, size_t len, uint64_t *out)
{
    const char *end = p + len;
    const char *s = p;
    bool neg = false;
    bool digits = false;
    uint64_t v = 0;

    while (s < end && is_space(*s)) {
        s++;
    }
    if (s < end && (*s == '+' || *s == '-')) {
        neg = *s == '-';
        s++;
    }
    for (; s < end && *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');

        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
        digits = true;
    }
    if (!digits || (s < end && !is_space(*s) && *s != '\0')) {
        return false;
    }
    if (neg) {
        v = (uint64_t)0 - v;
    }
    if ((int64_t)v < 0 && memchr(p, '-', len) != NULL) {
        return false;
    }
    *out = v;
    return true;
}

enum mm_store_rc
mm_store_delta(struct mm_store *st, const char *key, size_t nkey, mm_hash_t h, bool incr,
               uint64_t delta, uint64_t cas_in, uint64_t *value, uint64_t *cas_out)
{
    mm_reltime_t now = now_of(st);
    enum mm_store_get_result why;
    enum mm_store_rc rc = MM_STORE_OK;
    struct mm_item *it;
    uint64_t v = 0;
    char buf[24];
    size_t res;

    mm_ht_lock(st->ht, h);
    it = find_live_locked(st, key, nkey, h, now, &why);
    if (it == NULL) {
        rc = MM_STORE_NOT_FOUND;
        goto out;
    }
    /* Large items are "too large to be a number", as memcached's chunked
     * items are. */
    if (mm_item_vlen(it) == 0 || mm_item_cls(it) == MM_ITEM_CLS_LARGE) {
        rc = MM_STORE_NON_NUMERIC;
        goto out;
    }
    if (cas_in != 0 && mm_item_cas(it) != cas_in) {
        rc = MM_STORE_EXISTS;
        goto out;
    }
    if (!value_to_u64(mm_item_cdata(it), mm_item_vlen(it), &v)) {
        rc = MM_STORE_NON_NUMERIC;
        goto out;
    }
    if (incr) {
        v += delta; /* wraps at 2^64, as memcached */
        OP_INCR(st, it, incr_hits);
    } else {
        v = delta > v ? 0 : v - delta;
        OP_INCR(st, it, decr_hits);
    }
    res = (size_t)snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
    if (res <= mm_item_vlen(it) && mm_item_refcnt(it) == 1) {
        /* Nobody else holds it, so rewrite in place; the rest of the old
         * length becomes spaces (memcached's behaviour, kept for byte
         * compatibility: "100" decr 91 reads back as "9  "). */
        memcpy(mm_item_data(it), buf, res);
        memset(mm_item_data(it) + res, ' ', mm_item_vlen(it) - res);
        mm_item_set_cas(it, next_cas(st));
        mm_lru_bump(lru_item(st, it), it, now);
    } else {
        /* Someone still holds the old item (often our own pending reply to
         * an earlier get in the same pipeline), so it must not change. The
         * copy keeps the old length, padded the same way, so the bytes a
         * client reads back do not depend on when earlier replies left. */
        uint32_t nlen = res > mm_item_vlen(it) ? (uint32_t)res : mm_item_vlen(it);
        enum mm_store_rc arc;
        struct mm_item *nit =
            item_alloc(st, key, nkey, mm_item_flags(it), mm_item_load_exptime(it), nlen, now, &arc);

        if (nit == NULL) {
            rc = MM_STORE_DELTA_NOMEM;
            goto out;
        }
        memcpy(mm_item_data(nit), buf, res);
        memset(mm_item_data(nit) + res, ' ', nlen - res);
        unlink_locked(st, it, h);
        link_locked(st, nit, h, now);
        it = nit;
    }
    if (value != NULL) {
        *value = v;
    }
    if (cas_out != NULL) {
        *cas_out = mm_item_cas(it);
    }
out:
    mm_ht_unlock(st->ht, h);
    return rc;
}

void
mm_store_flush(struct mm_store *st, mm_reltime_t when)
{
    mm_reltime_t now = now_of(st);
    mm_reltime_t oldest;

    if (when == 0) {
        when = now;
    }
    /* memcached's rule: with CAS, everything last stored at or before
     * when - 1 goes, and for a flush that is already due the CAS cut-off
     * takes care of items stored earlier in the current second. Without
     * CAS the cut-off is `when` itself. */
    if (st->cfg.use_cas) {
        oldest = when > 0 ? when - 1 : 0;
        if (oldest <= now) {
            __atomic_store_n(&st->oldest_cas, next_cas(st), __ATOMIC_RELAXED);
        }
    } else {
        oldest = when;
    }
    __atomic_store_n(&st->oldest_live, oldest, __ATOMIC_RELAXED);
    __atomic_store_n(&st->flush_set, true, __ATOMIC_RELEASE);
    /* Everything flushed is dead weight: the crawler takes it back as soon
     * as the flush is due, not on its idle schedule. */
    mm_crawler_schedule(st, when);
}

int
mm_store_start_threads(struct mm_store *st)
{
    int rc = mm_mover_start(st);

    return rc != 0 ? rc : mm_crawler_start(st);
}

enum mm_store_reassign_rc
mm_store_reassign(struct mm_store *st, int src, int dst)
{
    switch (mm_mover_reassign(st, src, dst)) {
    case MM_MOVER_OK:
        return MM_STORE_REASSIGN_OK;
    case MM_MOVER_BUSY:
        return MM_STORE_REASSIGN_BUSY;
    case MM_MOVER_BADCLASS:
        return MM_STORE_REASSIGN_BADCLASS;
    case MM_MOVER_NOSPARE:
        return MM_STORE_REASSIGN_NOSPARE;
    case MM_MOVER_SAME:
        return MM_STORE_REASSIGN_SAME;
    default:
        return MM_STORE_REASSIGN_DISABLED;
    }
}

void
mm_store_set_automove(struct mm_store *st, int mode)
{
    mm_mover_set_automove(st, mode);
}

int
mm_store_automove(struct mm_store *st)
{
    return mm_mover_automove(st);
}

void
mm_store_set_automove_ratio(struct mm_store *st, double ratio)
{
    __atomic_store(&st->mover.ratio, &ratio, __ATOMIC_RELAXED);
}

double
mm_store_automove_ratio(struct mm_store *st)
{
    double r;

    __atomic_load(&st->mover.ratio, &r, __ATOMIC_RELAXED);
    return r;
}

void
mm_store_set_limit(struct mm_store *st, size_t mem_limit)
{
    mm_slab_set_limit(&st->slab, mem_limit);
    mm_mover_kick(st);
}

/* ------------------------------------------------------------------ */
/* Test aids                                                           */

static void
audit_one(struct mm_store_audit *out, const struct mm_item *it)
{
    if (it == NULL) {
        return;
    }
    /* Quiescent store: a chunk with references is an item (linked or
     * held), one without is free. */
    if (mm_item_refcnt(it) == 0) {
        return;
    }
    out->lru_items++;
    out->walked_bytes += mm_item_total(it);
    if (!(it->iflags & MM_ITEM_F_LINKED)) {
        out->not_linked++;
    }
    if (mm_item_refcnt(it) != 1) {
        out->extra_refs++;
    }
}

void
mm_store_audit(struct mm_store *st, struct mm_store_audit *out)
{
    const struct mm_pool *pool = &st->slab.pool;
    size_t i;
    unsigned id;
    uint64_t k;
    uint32_t pg;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < st->nlru; i++) {
        out->lru_bytes += __atomic_load_n(&st->lru[i].bytes, __ATOMIC_RELAXED);
    }
    /* Every page out of the pool, held by a class or detached by the mover
     * and not back yet (its items are still in the table). */
    for (pg = 0; (size_t)pg * pool->page_stride < pool->arena_used; pg++) {
        const struct mm_page *d = &pool->pages[pg];
        uint32_t size;

        if (d->state == MM_PAGE_POOL) {
            continue;
        }
        size = st->slab.cls[d->cls].size;
        for (k = 0; k < d->carved; k++) {
            audit_one(out, (const struct mm_item *)(mm_pool_addr(pool, pg) + k * size));
        }
    }
    for (id = 1; id <= st->slab.nclasses; id++) {
        struct mm_slab_class_stats cs;

        mm_slab_class_stats(&st->slab, id, &cs);
        out->slab_used += cs.used;
    }
    for (k = 0; k < mm_slab_large_span(&st->slab); k++) {
        audit_one(out, mm_slab_large_at(&st->slab, (uint32_t)k));
    }
    out->ht_items = mm_ht_count(st->ht);
    out->large_items = __atomic_load_n(&st->slab.large_count, __ATOMIC_RELAXED);
}

struct mm_ht *
mm_store_ht(struct mm_store *st)
{
    return st->ht;
}

struct mm_slab *
mm_store_slab(struct mm_store *st)
{
    return &st->slab;
}
