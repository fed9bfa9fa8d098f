/* The store's statistics: "stats" (the store's fields), "stats slabs",
 * "stats items", "stats sizes" and its switch, and "stats reset", in
 * memcached's names and order. Reads counters; changes nothing but the
 * size histogram's switch and the counters a reset zeroes. */
#include "config.h"

#include "mmem/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mmem/alloc.h"
#include "store/ht_int.h"
#include "store/item_int.h"
#include "store/lru_int.h"
#include "store/slab_int.h"
#include "store/store_int.h"

static uint64_t
load_u64(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static uint64_t
crawler_sum(const uint64_t *per_class, unsigned n)
{
    uint64_t sum = 0;
    unsigned i;

    for (i = 0; i < n; i++) {
        sum += load_u64(&per_class[i]);
    }
    return sum;
}

static void
emit_u64(mm_store_emit_fn emit, void *arg, const char *name, uint64_t v)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
    emit(arg, name, buf);
}

static void
lru_snapshot(struct mm_lru *l, uint64_t *count, uint64_t *bytes, struct mm_lru_counters *c)
{
    *count = __atomic_load_n(&l->count, __ATOMIC_RELAXED);
    *bytes = __atomic_load_n(&l->bytes, __ATOMIC_RELAXED);
    pthread_mutex_lock(&l->lock);
    *c = l->c;
    pthread_mutex_unlock(&l->lock);
}

static void
ops_snapshot(const struct mm_lru *l, struct mm_lru_ops *o)
{
#define MM_LRU_X(name) o->name += __atomic_load_n(&l->ops.name, __ATOMIC_RELAXED);
    MM_LRU_OP_FIELDS(MM_LRU_X)
#undef MM_LRU_X
}

void
mm_store_stats_get(struct mm_store *st, struct mm_store_stats *out)
{
    struct mm_ht_stats hs;
    size_t i;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < st->nlru; i++) {
        struct mm_lru_counters c;
        uint64_t count;
        uint64_t bytes;

        lru_snapshot(&st->lru[i], &count, &bytes, &c);
        out->curr_items += count;
        out->bytes += bytes;
        out->evictions += c.evicted;
        out->reclaimed += c.reclaimed;
        out->expired_unfetched += c.expired_unfetched;
        out->evicted_unfetched += c.evicted_unfetched;
        out->evicted_active += c.evicted_active;
        out->outofmemory += c.outofmemory;
        out->lrutail_reflocked += c.lrutail_reflocked;
    }
    out->total_items = __atomic_load_n(&st->total_items, __ATOMIC_RELAXED);
    out->limit_maxbytes = mm_slab_limit(&st->slab);
    out->total_malloced = mm_slab_malloced(&st->slab);
    out->malloc_fails = __atomic_load_n(&st->slab.pool.malloc_fails, __ATOMIC_RELAXED);
    out->store_too_large = __atomic_load_n(&st->too_large, __ATOMIC_RELAXED);
    out->store_no_memory = __atomic_load_n(&st->no_memory, __ATOMIC_RELAXED);
    mm_ht_stats(st->ht, &hs);
    out->hash_power_level = hs.power;
    out->hash_bytes = hs.bytes;
    out->hash_is_expanding = hs.expanding;
}

void
mm_store_stats(struct mm_store *st, mm_store_emit_fn emit, void *arg)
{
    const struct mm_mover_stats *ms = &st->mover.s;
    static const char *const zero_tail[] = {"moves_to_cold", "moves_to_warm", "moves_within_lru",
                                            "direct_reclaims", "lru_bumps_dropped"};
    struct mm_store_stats s;
    size_t i;

    mm_store_stats_get(st, &s);
    emit_u64(emit, arg, "store_too_large", s.store_too_large);
    emit_u64(emit, arg, "store_no_memory", s.store_no_memory);
    emit_u64(emit, arg, "limit_maxbytes", s.limit_maxbytes);
    emit_u64(emit, arg, "hash_power_level", s.hash_power_level);
    emit_u64(emit, arg, "hash_bytes", s.hash_bytes);
    emit_u64(emit, arg, "hash_is_expanding", s.hash_is_expanding ? 1 : 0);
    emit_u64(emit, arg, "slab_reassign_rescues", load_u64(&ms->rescues));
    emit(arg, "slab_reassign_chunk_rescues", "0");
    emit_u64(emit, arg, "slab_reassign_evictions_nomem", load_u64(&ms->evictions_nomem));
    emit_u64(emit, arg, "slab_reassign_inline_reclaim", load_u64(&ms->inline_reclaim));
    emit_u64(emit, arg, "slab_reassign_busy_items", load_u64(&ms->busy_items));
    emit_u64(emit, arg, "slab_reassign_busy_deletes", load_u64(&ms->busy_deletes));
    emit_u64(emit, arg, "slab_reassign_running",
             __atomic_load_n(&st->mover.running, __ATOMIC_RELAXED) ? 1 : 0);
    emit_u64(emit, arg, "slabs_moved", load_u64(&ms->pages_moved));
    emit_u64(emit, arg, "lru_crawler_running",
             __atomic_load_n(&st->crawler.running, __ATOMIC_RELAXED) ? 1 : 0);
    emit_u64(emit, arg, "lru_crawler_starts", load_u64(&st->crawler.starts));
    emit(arg, "lru_maintainer_juggles", "0");
    emit_u64(emit, arg, "malloc_fails", s.malloc_fails);
    emit_u64(emit, arg, "bytes", s.bytes);
    emit_u64(emit, arg, "curr_items", s.curr_items);
    emit_u64(emit, arg, "total_items", s.total_items);
    emit_u64(emit, arg, "slab_global_page_pool", mm_pool_pooled(&st->slab.pool));
    emit_u64(emit, arg, "expired_unfetched", s.expired_unfetched);
    emit_u64(emit, arg, "evicted_unfetched", s.evicted_unfetched);
    emit_u64(emit, arg, "evicted_active", s.evicted_active);
    emit_u64(emit, arg, "evictions", s.evictions);
    emit_u64(emit, arg, "reclaimed", s.reclaimed);
    emit_u64(emit, arg, "crawler_reclaimed", crawler_sum(st->crawler.reclaimed, st->nlru));
    emit_u64(emit, arg, "crawler_items_checked", crawler_sum(st->crawler.checked, st->nlru));
    emit_u64(emit, arg, "lrutail_reflocked", s.lrutail_reflocked);
    for (i = 0; i < sizeof(zero_tail) / sizeof(zero_tail[0]); i++) {
        emit(arg, zero_tail[i], "0");
    }
}

static void
emit_cls(mm_store_emit_fn emit, void *arg, const char *prefix, unsigned id, const char *field,
         uint64_t v)
{
    char name[64];

    snprintf(name, sizeof(name), "%s%u:%s", prefix, id, field);
    emit_u64(emit, arg, name, v);
}

/* Class ops; the largest class also reports the large items, which have no
 * class of their own in memcached's tables. */
static void
class_ops(struct mm_store *st, unsigned id, struct mm_lru_ops *o)
{
    memset(o, 0, sizeof(*o));
    ops_snapshot(&st->lru[id], o);
    if (id == st->slab.nclasses) {
        ops_snapshot(&st->lru[MM_ITEM_CLS_LARGE], o);
    }
}

void
mm_store_stats_slabs(struct mm_store *st, mm_store_emit_fn emit, void *arg)
{
    unsigned id;
    unsigned active = 0;

    for (id = 1; id <= st->slab.nclasses; id++) {
        struct mm_slab_class_stats cs;
        struct mm_lru_ops o;
        uint64_t total;

        mm_slab_class_stats(&st->slab, id, &cs);
        if (cs.npages == 0) {
            continue;
        }
        active++;
        total = cs.npages * cs.perslab;
        class_ops(st, id, &o);
        emit_cls(emit, arg, "", id, "chunk_size", cs.size);
        emit_cls(emit, arg, "", id, "chunks_per_page", cs.perslab);
        emit_cls(emit, arg, "", id, "total_pages", cs.npages);
        emit_cls(emit, arg, "", id, "total_chunks", total);
        emit_cls(emit, arg, "", id, "used_chunks", cs.used);
        emit_cls(emit, arg, "", id, "free_chunks", cs.free_chunks);
        emit_cls(emit, arg, "", id, "free_chunks_end", cs.free_end);
#define MM_LRU_X(name) emit_cls(emit, arg, "", id, #name, o.name);
        MM_LRU_OP_FIELDS(MM_LRU_X)
#undef MM_LRU_X
    }
    emit_u64(emit, arg, "active_slabs", active);
    emit_u64(emit, arg, "total_malloced", mm_slab_malloced(&st->slab));
}

void
mm_store_stats_items(struct mm_store *st, mm_store_emit_fn emit, void *arg)
{
    mm_reltime_t now = mm_store_now(st);
    unsigned id;

    for (id = 1; id <= st->slab.nclasses; id++) {
        struct mm_lru_counters sum;
        struct mm_lru_ops o;
        uint64_t number = 0;
        uint64_t bytes = 0;
        uint64_t age = 0;
        uint64_t crawled[2] = {0, 0}; /* reclaimed, checked */
        uint64_t temp = 0;
        unsigned k;

        memset(&sum, 0, sizeof(sum));
        for (k = 0; k < 2; k++) {
            unsigned cls = k == 0 ? id : MM_ITEM_CLS_LARGE;
            struct mm_lru_counters c;
            uint64_t count;
            uint64_t b;
            mm_reltime_t ta;

            if (k == 1 && id != st->slab.nclasses) {
                break;
            }
            lru_snapshot(&st->lru[cls], &count, &b, &c);
            crawled[0] += load_u64(&st->crawler.reclaimed[cls]);
            temp += load_u64(&st->lru[cls].temp);
            crawled[1] += load_u64(&st->crawler.checked[cls]);
            number += count;
            bytes += b;
            /* The age of the next eviction candidate, where
             * memcached gives its LRU tail's. */
            if (count != 0 && mm_store_hand_atime(st, cls, &ta) && now > ta && now - ta > age) {
                age = now - ta;
            }
            sum.evicted += c.evicted;
            sum.evicted_nonzero += c.evicted_nonzero;
            if (c.evicted_time > sum.evicted_time) {
                sum.evicted_time = c.evicted_time;
            }
            sum.outofmemory += c.outofmemory;
            sum.reclaimed += c.reclaimed;
            sum.expired_unfetched += c.expired_unfetched;
            sum.evicted_unfetched += c.evicted_unfetched;
            sum.evicted_active += c.evicted_active;
            sum.lrutail_reflocked += c.lrutail_reflocked;
        }
        if (number == 0) {
            continue;
        }
        class_ops(st, id, &o);
        /* One list per class: everything counts as "cold"; the hot/warm
         * fields are kept so tools that parse them keep working. */
        emit_cls(emit, arg, "items:", id, "number", number);
        emit_cls(emit, arg, "items:", id, "number_hot", 0);
        emit_cls(emit, arg, "items:", id, "number_warm", 0);
        emit_cls(emit, arg, "items:", id, "number_cold", number - temp);
        if (st->cfg.temporary_ttl > 0) {
            emit_cls(emit, arg, "items:", id, "number_temp", temp);
        }
        emit_cls(emit, arg, "items:", id, "age_hot", 0);
        emit_cls(emit, arg, "items:", id, "age_warm", 0);
        emit_cls(emit, arg, "items:", id, "age", age);
        emit_cls(emit, arg, "items:", id, "mem_requested", bytes);
        emit_cls(emit, arg, "items:", id, "evicted", sum.evicted);
        emit_cls(emit, arg, "items:", id, "evicted_nonzero", sum.evicted_nonzero);
        emit_cls(emit, arg, "items:", id, "evicted_time", sum.evicted_time);
        emit_cls(emit, arg, "items:", id, "outofmemory", sum.outofmemory);
        emit_cls(emit, arg, "items:", id, "tailrepairs", 0);
        emit_cls(emit, arg, "items:", id, "reclaimed", sum.reclaimed);
        emit_cls(emit, arg, "items:", id, "expired_unfetched", sum.expired_unfetched);
        emit_cls(emit, arg, "items:", id, "evicted_unfetched", sum.evicted_unfetched);
        emit_cls(emit, arg, "items:", id, "evicted_active", sum.evicted_active);
        emit_cls(emit, arg, "items:", id, "crawler_reclaimed", crawled[0]);
        emit_cls(emit, arg, "items:", id, "crawler_items_checked", crawled[1]);
        emit_cls(emit, arg, "items:", id, "lrutail_reflocked", sum.lrutail_reflocked);
        emit_cls(emit, arg, "items:", id, "moves_to_cold", 0);
        emit_cls(emit, arg, "items:", id, "moves_to_warm", 0);
        emit_cls(emit, arg, "items:", id, "moves_within_lru", 0);
        emit_cls(emit, arg, "items:", id, "direct_reclaims", 0);
        emit_cls(emit, arg, "items:", id, "hits_to_hot", 0);
        emit_cls(emit, arg, "items:", id, "hits_to_warm", 0);
        emit_cls(emit, arg, "items:", id, "hits_to_cold", o.get_hits + o.touch_hits);
        emit_cls(emit, arg, "items:", id, "hits_to_temp", 0);
    }
}

void
mm_store_stats_sizes(struct mm_store *st, mm_store_emit_fn emit, void *arg)
{
    uint32_t *hist;
    size_t i;

    pthread_mutex_lock(&st->sizes_lock);
    hist = __atomic_load_n(&st->sizes, __ATOMIC_ACQUIRE);
    if (hist == NULL) {
        emit(arg, "sizes_status", "disabled");
    }
    for (i = 0; hist != NULL && i < st->nsizes; i++) {
        int32_t n = (int32_t)__atomic_load_n(&hist[i], __ATOMIC_RELAXED);
        char name[24];
        char value[16];

        /* A count below zero can only be a removal racing a re-enable that
         * zeroed the array; it is not worth a line. */
        if (n > 0) {
            snprintf(name, sizeof(name), "%zu", i * 32);
            snprintf(value, sizeof(value), "%" PRId32, n);
            emit(arg, name, value);
        }
    }
    pthread_mutex_unlock(&st->sizes_lock);
}

bool
mm_store_sizes_enabled(struct mm_store *st)
{
    return __atomic_load_n(&st->sizes, __ATOMIC_ACQUIRE) != NULL;
}

enum mm_store_sizes_rc
mm_store_sizes_enable(struct mm_store *st)
{
    if (!st->cfg.use_cas) {
        /* Without CAS, items linked before tracking began cannot be told
         * from later ones, and their removal would drive counts negative. */
        return MM_STORE_SIZES_NO_CAS;
    }
    pthread_mutex_lock(&st->sizes_lock);
    if (st->sizes == NULL) {
        if (st->sizes_buf == NULL) {
            st->sizes_buf = mm_calloc(st->nsizes, sizeof(*st->sizes_buf));
        } else {
            memset(st->sizes_buf, 0, st->nsizes * sizeof(*st->sizes_buf));
        }
        /* Count only items that get their CAS from now on. */
        __atomic_store_n(&st->sizes_cas_min, __atomic_load_n(&st->cas_seq, __ATOMIC_RELAXED) + 1,
                         __ATOMIC_RELAXED);
        __atomic_store_n(&st->sizes, st->sizes_buf, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&st->sizes_lock);
    return MM_STORE_SIZES_ENABLED;
}

void
mm_store_sizes_disable(struct mm_store *st)
{
    /* The array is kept: a thread that loaded the pointer just before may
     * still bump a counter in it. A later enable zeroes it. */
    pthread_mutex_lock(&st->sizes_lock);
    __atomic_store_n(&st->sizes, NULL, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&st->sizes_lock);
}

void
mm_store_stats_reset(struct mm_store *st)
{
    size_t i;

    for (i = 0; i < st->nlru; i++) {
        struct mm_lru *l = &st->lru[i];

        pthread_mutex_lock(&l->lock);
        memset(&l->c, 0, sizeof(l->c));
        pthread_mutex_unlock(&l->lock);
#define MM_LRU_X(name) __atomic_store_n(&l->ops.name, 0, __ATOMIC_RELAXED);
        MM_LRU_OP_FIELDS(MM_LRU_X)
#undef MM_LRU_X
    }
    __atomic_store_n(&st->total_items, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&st->too_large, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&st->no_memory, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&st->slab.pool.malloc_fails, 0, __ATOMIC_RELAXED);
}
