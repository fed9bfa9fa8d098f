#ifndef MMEM_STORE_LRU_INT_H
#define MMEM_STORE_LRU_INT_H

/* Eviction by CLOCK, one hand per slab class (index 0: large items). Items
 * carry no list links: the hand sweeps the class's chunks in slab order, and
 * an item hit since the hand last passed (MM_ITEM_F_ACCESSED) is spared once,
 * its bit cleared. The first unreferenced item without the bit, or any dead
 * (expired or flushed) one, is taken. A live MM_ITEM_F_TEMP item is never
 * taken. This is LRU's second-chance
 * approximation; it saves the 16 bytes of list pointers in every item, and
 * a hit costs a bit set under the stripe lock the hit already holds instead
 * of a list move under a shared lock.
 *
 * Locks: the hand's lock (l->lock) may be taken while holding a stripe lock;
 * the sweep, which holds l->lock, only ever *tries* stripe locks. The hand
 * reaches items it does not own, so it looks at a chunk only through
 * mm_item_pin() (refcnt 1 -> 2) and reads the header after that. Item and
 * byte counts are relaxed atomics (linking takes no lock of this module); the
 * eviction counters are under l->lock; the op counters are relaxed atomics. */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmem/clock.h"

struct mm_ht;
struct mm_item;

/* memcached refreshes an item's access time at most once a minute. */
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

/* Eviction counters ("stats items"), l->lock. */
struct mm_lru_counters {
    uint64_t evicted;
    uint64_t evicted_nonzero;
    uint64_t evicted_time;    /* age of the last evicted item */
    uint64_t evicted_age_sum; /* ages of all evicted items (the mover's average) */
    uint64_t outofmemory;
    uint64_t reclaimed;
    uint64_t expired_unfetched;
    uint64_t evicted_unfetched;
    uint64_t evicted_active;
    uint64_t lrutail_reflocked; /* live items passed over: in use */
};

struct mm_lru {
    pthread_mutex_t lock;
    uint64_t hand;  /* l->lock: next chunk index to look at */
    uint64_t count; /* atomic: items linked */
    uint64_t bytes; /* atomic: sum of their sizes */
    uint64_t temp;  /* atomic: of them, MM_ITEM_F_TEMP items */
    struct mm_lru_counters c;
    struct mm_lru_ops ops; /* relaxed atomics */
} __attribute__((aligned(64)));

void mm_lru_init(struct mm_lru *l);
void mm_lru_fini(struct mm_lru *l);

/* Count a newly linked item; sets its atime to now. */
void mm_lru_link(struct mm_lru *l, struct mm_item *it, mm_reltime_t now);
/* Count an item leaving the table. */
void mm_lru_unlink(struct mm_lru *l, struct mm_item *it);
/* A hit: mark it accessed, and refresh atime unless it was refreshed less
 * than MM_LRU_BUMP_INTERVAL seconds ago. Caller holds its stripe lock.
 * Returns true if atime moved. */
bool mm_lru_bump(struct mm_lru *l, struct mm_item *it, mm_reltime_t now);

/* Count an item taken off the table by someone else than the sweep (the
 * page mover, the crawler) as the sweep would count it. Takes l->lock. */
void mm_lru_count_victim(struct mm_lru *l, const struct mm_item *it, bool dead, mm_reltime_t now);

/* The chunks one hand sweeps, and what the sweep may do. */
struct mm_lru_walk {
    mm_reltime_t now;
    unsigned max_walk; /* unreferenced live items looked at, at most */
    bool evict;        /* false (-M): only reclaim dead items */
    /* true if the item is expired or flushed; called with its stripe held */
    bool (*dead)(void *arg, const struct mm_item *it, mm_reltime_t now);
    /* Chunk indexes 0 .. span() - 1 may hold items. grab(i) takes a
     * reference on the item at index i with mm_item_pin (only an item
     * nobody but its owner holds) and returns it; else NULL, with *busy
     * set if an item is there but in use. It keeps the memory from going
     * away while it looks (large items are unmapped when freed). */
    uint64_t (*span)(void *arg);
    struct mm_item *(*grab)(void *arg, uint64_t i, bool *busy);
    /* Frees an item whose last reference the sweep dropped (its owner let
     * go while the hand held it). */
    void (*release)(void *arg, struct mm_item *it);
    void *arg;
};

/* Sweep from the hand for a victim: skip free chunks and items someone else
 * references, and items whose stripe lock is busy; take the first dead item,
 * or (if w->evict) the first live one not accessed since the last pass.
 * The victim is removed from the hash table, LINKED is cleared, and it is
 * returned with refcnt 0: raw memory owned by the caller. *reclaimed says
 * whether it was dead. NULL if nothing could be taken; outofmemory is then
 * counted by the caller. Takes l->lock; the caller holds at most one stripe
 * lock (which the sweep just skips). */
struct mm_item *mm_lru_evict(struct mm_lru *l, struct mm_ht *ht, const struct mm_lru_walk *w,
                             bool *reclaimed);

/* The access time of the first item at or after the hand that can be
 * looked at (within a few chunks), as the "age" of the class: the next
 * eviction candidate. false if none was found. */
bool mm_lru_hand_atime(struct mm_lru *l, const struct mm_lru_walk *w, mm_reltime_t *atime);

/* The page mover's look at a class's next victims, the probe window of up
 * to max items at and after the hand (the hand does not move). clear: clear
 * their accessed bits (start a probe). Otherwise count in *cold those still
 * not hit since, out of *looked. Items whose stripe is busy are skipped. */
void mm_lru_probe(struct mm_lru *l, struct mm_ht *ht, const struct mm_lru_walk *w, unsigned max,
                  bool clear, unsigned *looked, unsigned *cold);

#endif
