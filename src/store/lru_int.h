#ifndef MMEM_STORE_LRU_INT_H
#define MMEM_STORE_LRU_INT_H

/* LRU lists, one per (shard, slab class), each with its own mutex. The head
 * is the most recently used item, the tail the eviction candidate.
 *
 * Locks: an lru lock may be taken while holding a stripe lock (stripe ->
 * lru); the tail walker, which holds an lru lock, only ever *tries* stripe
 * locks. Counters marked "lru lock" are only touched under l->lock; the op
 * counters are relaxed atomics bumped by whoever holds the item's stripe. */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmem/clock.h"

struct mm_ht;
struct mm_item;

/* memcached moves an item to the head at most once a minute. */
#define MM_LRU_BUMP_INTERVAL 60u

/* Per-class operation counters ("stats slabs"). */
#define MM_LRU_OP_FIELDS(X)                                                                        \
    X(get_hits)                                                                                    \
    X(cmd_set)                                                                                     \
    X(delete_hits)                                                                                 \
    X(incr_hits)                                                                                   \
    X(decr_hits)                                                                                   \
    X(cas_hits)                                                                                    \
    X(cas_badval)                                                                                  \
    X(touch_hits)

struct mm_lru_ops {
#define MM_LRU_X(name) uint64_t name;
    MM_LRU_OP_FIELDS(MM_LRU_X)
#undef MM_LRU_X
};

/* Eviction counters ("stats items"), lru lock. */
struct mm_lru_counters {
    uint64_t evicted;
    uint64_t evicted_nonzero;
    uint64_t evicted_time; /* age of the last evicted item */
    uint64_t outofmemory;
    uint64_t reclaimed;
    uint64_t expired_unfetched;
    uint64_t evicted_unfetched;
    uint64_t evicted_active;
    uint64_t lrutail_reflocked;
};

struct mm_lru {
    pthread_mutex_t lock;
    struct mm_item *head; /* lru lock */
    struct mm_item *tail; /* lru lock */
    uint64_t count;       /* lru lock: items linked */
    uint64_t bytes;       /* lru lock: sum of their sizes */
    struct mm_lru_counters c;
    struct mm_lru_ops ops; /* relaxed atomics */
} __attribute__((aligned(64)));

void mm_lru_init(struct mm_lru *l);
void mm_lru_fini(struct mm_lru *l);

/* Put it at the head (takes l->lock). Sets atime to now. */
void mm_lru_link(struct mm_lru *l, struct mm_item *it, mm_reltime_t now);
/* Take it off the list (takes l->lock). */
void mm_lru_unlink(struct mm_lru *l, struct mm_item *it);
/* Move it to the head unless it moved less than MM_LRU_BUMP_INTERVAL seconds
 * ago. Caller holds it's stripe lock (so it stays linked). Returns true if
 * it moved. */
bool mm_lru_bump(struct mm_lru *l, struct mm_item *it, mm_reltime_t now);

/* How the walker judges and takes items. */
struct mm_lru_walk {
    mm_reltime_t now;
    unsigned max_walk; /* items looked at, at most */
    bool evict;        /* false (-M): only reclaim dead items */
    /* true if the item is expired or flushed; called with its stripe held */
    bool (*dead)(void *arg, const struct mm_item *it, mm_reltime_t now);
    void *arg;
};

/* Walk from the tail for a victim: skip items someone else references
 * (refcnt > 1) and items whose stripe lock is busy; take the first dead item,
 * or (if w->evict) the first live one. The victim is removed from the hash
 * table and the list, LINKED is cleared, and it is returned with refcnt 1,
 * owned by the caller (whose memory it now is). *reclaimed says whether it
 * was dead. NULL if nothing could be taken; outofmemory is then counted by
 * the caller. Takes l->lock; the caller holds no lock of this shard's
 * stripes other than possibly one (which the walker just skips). */
struct mm_item *mm_lru_evict(struct mm_lru *l, struct mm_ht *ht, const struct mm_lru_walk *w,
                             bool *reclaimed);

#endif
