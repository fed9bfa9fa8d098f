#ifndef MMEM_STORE_STORE_INT_H
#define MMEM_STORE_STORE_INT_H

/* The store's own state, shared by the files of store/ (store.c, mover.c,
 * crawler.c), and white-box helpers over a store, for tests. */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmem/clock.h"
#include "mmem/store.h"
#include "store/crawler_int.h"
#include "store/mover_int.h"
#include "store/slab_int.h"

struct mm_ht;
struct mm_item;
struct mm_lru;

struct mm_store {
    struct mm_store_cfg cfg;
    struct mm_slab slab;
    struct mm_ht *ht;
    unsigned nshards;
    unsigned nlru;            /* slab classes + 1; index 0 holds large items */
    struct mm_lru *lru;       /* [cls]: counts and the clock hand */
    uint64_t cas_seq;         /* atomic: last CAS handed out */
    bool flush_set;           /* atomic: oldest_live is meaningful */
    mm_reltime_t oldest_live; /* atomic */
    uint64_t oldest_cas;      /* atomic */
    uint64_t total_items;     /* atomic */
    uint64_t too_large;       /* atomic */
    uint64_t no_memory;       /* atomic */
    /* "stats sizes" (-o track_sizes, stats sizes_enable): a histogram of
     * memcached's item sizes in 32-byte buckets, or NULL while off. The
     * counters are relaxed atomics bumped where an item is linked or
     * unlinked, under its stripe lock: no lock of their own. Items with a CAS
     * below sizes_cas_min were linked before tracking began and are left out
     * both ways. */
    uint32_t *sizes;            /* atomic pointer */
    uint32_t *sizes_buf;        /* sizes_lock: the array, kept for reuse */
    size_t nsizes;              /* buckets: item_size_max / 32 + 1 */
    uint64_t sizes_cas_min;     /* atomic */
    pthread_mutex_t sizes_lock; /* enable/disable only */
    bool crawler_off;           /* atomic: "lru_crawler disable" */
    struct mm_mover mover;      /* the page mover (mover.c) */
    struct mm_crawler crawler;  /* background reclaim (crawler.c) */
};

static inline mm_reltime_t
mm_store_now(const struct mm_store *st)
{
    return mm_clock_now(st->cfg.clock);
}

/* Expired or flushed (what a get would not return). */
bool mm_store_item_dead(struct mm_store *st, const struct mm_item *it, mm_reltime_t now);
/* Caller holds h's stripe and it is linked: unlink it as the clock sweep
 * would, counted as reclaimed if dead, else as evicted (and reported to
 * "watch evictions"). Drops the table's reference. */
void mm_store_evict_locked(struct mm_store *st, struct mm_item *it, mm_hash_t h, mm_reltime_t now);
/* The clock sweep of class cls (MM_ITEM_CLS_LARGE: the large items): one
 * victim taken off the table, as raw memory the caller owns (refcount 0),
 * or NULL. */
struct mm_item *mm_store_evict_one(struct mm_store *st, unsigned cls, mm_reltime_t now);
/* Memory of an item whose last reference is gone. */
void mm_store_item_free(struct mm_store *st, struct mm_item *it);
/* mm_lru_hand_atime over class cls: the access time of its next eviction
 * candidate ("stats items" age). */
bool mm_store_hand_atime(struct mm_store *st, unsigned cls, mm_reltime_t *atime);
/* mm_lru_probe over class cls (MM_ITEM_CLS_LARGE: the large items). */
void mm_store_probe(struct mm_store *st, unsigned cls, unsigned max, bool clear, unsigned *looked,
                    unsigned *cold);

/* Counts taken while the store is quiescent (no operation running). */
struct mm_store_audit {
    uint64_t lru_items;    /* items alive in slab memory (refcnt > 0) */
    uint64_t ht_items;     /* items in the hash table */
    uint64_t not_linked;   /* alive but without the LINKED flag */
    uint64_t extra_refs;   /* items with refcnt != 1 */
    uint64_t slab_used;    /* chunks handed out, all classes */
    uint64_t large_items;  /* exact-size allocations alive */
    uint64_t lru_bytes;    /* sum of per-class byte counts */
    uint64_t walked_bytes; /* sum of item sizes seen while walking */
};
void mm_store_audit(struct mm_store *st, struct mm_store_audit *out);

struct mm_ht *mm_store_ht(struct mm_store *st);
struct mm_slab *mm_store_slab(struct mm_store *st);

#endif
