#ifndef MMEM_STORE_POOL_INT_H
#define MMEM_STORE_POOL_INT_H

/* The page pool: all item memory is counted in one budget (-m, or
 * cache_memlimit), and slab memory is handed out in pages of one size
 * (slab_page_size: 1 MB, or -I when that is larger). Slab classes borrow
 * pages from the pool and give them back when the page mover empties one;
 * large items (above slab_chunk_max) are charged against the same budget
 * (see slab.c), so evicting slab pages makes room for them and the other
 * way round.
 *
 * Every page is cut from one reserved range of address space (the arena),
 * so a chunk can be named by a 32-bit handle (store/handle_int.h). A page
 * given back is madvise(MADV_DONTNEED)'d: it leaves RSS at once, and reads
 * as zeros when it is handed out again, which the clock sweeps rely on (a
 * chunk's refcount reads 0 until an item is written there).
 *
 *   arena: | page 0 | page 1 | page 2 | ...        | never used yet ... |
 *            class 3  pool     class 9               ^ arena_used
 *
 * Locks: pool->lock covers the free stack and the bump pointer and is a
 * leaf (slab class -> pool). The budget is two atomics. A page's
 * descriptor belongs to the slab class that holds it, under that class's
 * lock; while the page is in the pool nobody touches it. */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MM_POOL_NONE UINT32_MAX

enum mm_page_state {
    MM_PAGE_POOL = 0, /* in the pool (or never used) */
    MM_PAGE_USED,     /* held by a class; chunks may be handed out */
    MM_PAGE_MOVING    /* detached by the mover: no new chunks; back to the
                       * pool when its last chunk is freed */
};

/* Per-page bookkeeping, kept outside the page so that a page's memory is
 * only chunks. Fields are the holding class's, under its lock. */
struct mm_page {
    void *free;      /* free chunks of this page, linked through their first word */
    uint32_t nfree;  /* chunks on free */
    uint32_t live;   /* chunks handed out and not freed yet */
    uint32_t carved; /* chunks cut from the page so far (lazily, in order) */
    uint32_t anext;  /* class's list of pages with room: page index + 1; 0 ends */
    uint32_t aprev;
    uint8_t cls;      /* holding class; 0 in the pool */
    uint8_t state;    /* enum mm_page_state */
    uint8_t in_avail; /* on the class's list of pages with room */
};

struct mm_pool {
    pthread_mutex_t lock; /* free stack and arena_used */
    char *arena;
    size_t arena_size; /* bytes reserved */
    size_t arena_used; /* bytes ever handed out, from the start */
    size_t page_size;
    size_t page_stride; /* page_size rounded up to the handle unit */
    unsigned shift;     /* handle unit: 1 << shift bytes */
    char *hbase;        /* arena - (1 << shift): no chunk gets handle 0 */
    struct mm_page *pages;
    uint32_t npages_max; /* pages the arena can hold */
    uint32_t *free_stack;
    uint32_t nfree_stack;  /* written under lock, read relaxed by stats */
    size_t limit;          /* atomic: bytes; 0 = no limit */
    size_t charged;        /* atomic: pages held by classes + large items */
    uint64_t malloc_fails; /* atomic */
};

/* Reserve the arena: the whole range 2^31 - 1 handles can name, or, when
 * the system refuses that much address space, limit + extra bytes. Returns 0
 * or -1 (nothing could be reserved). */
int mm_pool_init(struct mm_pool *p, size_t limit, size_t page_size, unsigned shift, size_t extra);
void mm_pool_fini(struct mm_pool *p);

/* Charge len bytes against the limit; false (nothing charged) if that
 * would pass it. */
bool mm_pool_charge(struct mm_pool *p, size_t len);
void mm_pool_uncharge(struct mm_pool *p, size_t len);

/* A page for a class: charged, reading as zeros. MM_POOL_NONE when the
 * budget has no room for another page or the arena is exhausted. */
uint32_t mm_pool_take(struct mm_pool *p);
/* A page back to the pool: its memory leaves RSS and its charge is given
 * back. The caller must have reset the descriptor (state MM_PAGE_POOL). */
void mm_pool_give(struct mm_pool *p, uint32_t pg);

void mm_pool_set_limit(struct mm_pool *p, size_t limit);
size_t mm_pool_limit(const struct mm_pool *p);
size_t mm_pool_charged(const struct mm_pool *p);
/* Pages the budget could still hand out (UINT64_MAX without a limit). */
uint64_t mm_pool_spare_pages(const struct mm_pool *p);
/* Pages given back and waiting in the pool ("slab_global_page_pool"). */
uint64_t mm_pool_pooled(const struct mm_pool *p);
/* Bytes over the limit (after cache_memlimit was lowered); 0 if none. */
size_t mm_pool_excess(const struct mm_pool *p);

static inline char *
mm_pool_addr(const struct mm_pool *p, uint32_t pg)
{
    return p->arena + (size_t)pg * p->page_stride;
}

/* The page a slab chunk lies in. */
static inline uint32_t
mm_pool_index(const struct mm_pool *p, const void *chunk)
{
    return (uint32_t)((size_t)((const char *)chunk - p->arena) / p->page_stride);
}

#endif
