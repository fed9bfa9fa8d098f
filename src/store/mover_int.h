#ifndef MMEM_STORE_MOVER_INT_H
#define MMEM_STORE_MOVER_INT_H

/* The page mover: empties a slab page so it can go back to the pool and on
 * to the class (or the large items) that needs memory. A background thread
 * runs the automove policy, the "slabs reassign" requests and the shrinking
 * after cache_memlimit is lowered; the allocation path steals a page
 * directly when a store finds no memory anywhere else.
 *
 * Emptying a page (mm_mover_move_page): the page is detached from its class
 * (no chunk of it is handed out again), then every item in it is either
 * rescued, copied into another chunk of the same class and swapped into the
 * hash table under its stripe lock, or evicted and counted as such. An item
 * a reader still holds is copied or unlinked like any other, but its memory
 * goes back only with the reader's last reference: the page returns to the
 * pool when its last chunk is freed, whoever frees it.
 *
 * Lock order: the thread holds no lock when it takes a stripe lock, then the
 * clock hand and slab class locks below it, as a store does. The steal from
 * the allocation path may be called with a stripe held, so it only tries
 * stripe locks; items it had to skip are finished by the thread. */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "mmem/clock.h"
#include "store/bg_int.h"

struct mm_store;

/* Detached pages whose items could not all be moved yet. */
#define MM_MOVER_PENDING_MAX 64

struct mm_mover_pending {
    uint32_t pg;
    unsigned cls;
    char *first;
    uint32_t n;
};

/* Counters ("stats"), relaxed atomics. */
struct mm_mover_stats {
    uint64_t pages_moved;     /* slabs_moved: pages emptied on purpose */
    uint64_t rescues;         /* items copied to another chunk */
    uint64_t evictions_nomem; /* items evicted because no chunk was free */
    uint64_t inline_reclaim;  /* dead items found in a page being emptied */
    uint64_t busy_items;      /* items a reader held while their page was emptied */
    uint64_t busy_deletes;    /* such items that were unlinked, not copied */
};

struct mm_mover {
    struct mm_bg bg; /* the thread; bg.lock guards what follows but atomics */
    int automove;    /* atomic: 0, 1 or 2 (slab_automove) */
    bool reassign;   /* slab_reassign: moves allowed at all */
    double ratio;    /* slab_automove_ratio */
    unsigned window; /* slab_automove_window: samples, one per tick */
    int req_src;     /* "slabs reassign" waiting: -1 none */
    int req_dst;
    bool running; /* atomic: slab_reassign_running */
    unsigned nlru;
    uint64_t *last_evicted;  /* [nlru]: evicted counters at the last tick */
    uint64_t *last_age_sum;  /* [nlru]: evicted_age_sum at the last tick */
    double *age_avg;         /* [nlru]: moving average age of evicted items, s */
    uint64_t ticks;          /* policy ticks so far */
    uint64_t evict_moved_at; /* tick of the last move out of an evicting class */
    uint64_t *evict_bits;    /* [nlru]: 1 bit per tick that saw evictions */
    mm_reltime_t *probe_at;  /* [nlru]: when its probe window was cleared; 0 none */
    struct mm_mover_pending pending[MM_MOVER_PENDING_MAX];
    unsigned npending;
    bool finishing; /* someone walks pending (only adds happen meanwhile) */
    struct mm_mover_stats s;
};

/* Set up (no thread yet) from the store's settings. */
void mm_mover_init(struct mm_store *st);
void mm_mover_fini(struct mm_store *st);
/* Start / stop the background thread. start returns 0 or an errno. */
int mm_mover_start(struct mm_store *st);
void mm_mover_stop(struct mm_store *st);

/* Empty one page of class cls (the page under its clock hand). rescue: keep
 * live items in the class's other chunks where it has room, evicting colder
 * items of the class by its clock for items hit since the last sweep; else
 * evict them. blocking: wait for stripe locks (the caller holds none).
 * Returns true if the page is back in the pool; false if the class has no
 * page, or if some item could not be moved yet (the page is then finished
 * later, by the thread or by the last reader). */
bool mm_mover_move_page(struct mm_store *st, unsigned cls, bool rescue, bool blocking);

/* Called by an allocation that found no memory in its class, the pool or
 * the large items: empty a page of the class whose next victim is the
 * most memory, evicting its items. May be called with one stripe lock
 * held. Returns true if a page was emptied (its memory is back in the pool,
 * or will be once the readers of its items let go), false if there was
 * nothing to take. */
bool mm_mover_steal(struct mm_store *st, unsigned need, mm_reltime_t now);

/* One tick of the automove policy (the thread calls it; tests may too).
 * Returns the number of pages moved. */
unsigned mm_mover_tick(struct mm_store *st);

/* "slabs reassign src dst" and "slabs automove N". */
enum mm_mover_rc {
    MM_MOVER_OK = 0,
    MM_MOVER_BUSY,     /* a reassign is still in progress */
    MM_MOVER_BADCLASS, /* no such class */
    MM_MOVER_NOSPARE,  /* the source has no page to give */
    MM_MOVER_SAME,     /* source and destination are the same class */
    MM_MOVER_DISABLED  /* slab_reassign is off */
};
enum mm_mover_rc mm_mover_reassign(struct mm_store *st, int src, int dst);
void mm_mover_set_automove(struct mm_store *st, int mode);
int mm_mover_automove(struct mm_store *st);

/* Wake the thread (after cache_memlimit was lowered). */
void mm_mover_kick(struct mm_store *st);

#endif
