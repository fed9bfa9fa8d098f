#ifndef MMEM_STORE_CRAWLER_INT_H
#define MMEM_STORE_CRAWLER_INT_H

/* Background reclaim ("LRU crawler"): a thread that walks the chunks of
 * each slab class, and the large items, and unlinks expired and flushed
 * items so their memory goes back to free chunks before a store takes a new
 * page or evicts a live item. It runs on its own schedule (sooner after a
 * run that found dead items, later after one that found none) and on
 * request ("lru_crawler crawl <ids>|all").
 *
 * It looks at an item only through mm_item_pin (a chunk nobody but the
 * table holds) under the class lock, takes the stripe lock with no other
 * lock held, and checks again under it, as the clock sweep does. */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "mmem/clock.h"
#include "store/bg_int.h"

struct mm_store;

/* Items checked between two pauses of lru_crawler_sleep microseconds. */
#define MM_CRAWLER_PER_SLEEP 1000u
/* Seconds between automatic runs: from 1 after a run that reclaimed, up to
 * this after runs that found nothing. */
#define MM_CRAWLER_IDLE_MAX 60u

struct mm_crawler {
    struct mm_bg bg;   /* the thread; bg.lock guards want, idle and next */
    uint64_t want;     /* classes asked for (bit i: class i; bit 0: large) */
    unsigned sleep_us; /* atomic: lru_crawler_sleep */
    uint32_t tocrawl;  /* atomic: items per class per run, 0 = all */
    bool running;      /* atomic: lru_crawler_running */
    uint64_t starts;   /* atomic: lru_crawler_starts */
    unsigned idle;     /* seconds to the next automatic run */
    mm_reltime_t next; /* when it is */
    unsigned nlru;
    uint64_t *reclaimed; /* [nlru] atomics: crawler_reclaimed */
    uint64_t *checked;   /* [nlru] atomics: crawler_items_checked */
};

void mm_crawler_init(struct mm_store *st);
void mm_crawler_fini(struct mm_store *st);
int mm_crawler_start(struct mm_store *st);
void mm_crawler_stop(struct mm_store *st);

/* Crawl the classes in mask (bit i: class i, bit 0: large items) once,
 * now, in the calling thread. Returns the items reclaimed. Tests and the
 * thread use it. */
uint64_t mm_crawler_run(struct mm_store *st, uint64_t mask);

/* Run over every class no later than at (a flush_all due then). */
void mm_crawler_schedule(struct mm_store *st, mm_reltime_t at);

/* "lru_crawler crawl": queue a run of mask. false if a requested run is
 * still in progress (memcached's BUSY). */
bool mm_crawler_request(struct mm_store *st, uint64_t mask);

#endif
