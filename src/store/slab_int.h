#ifndef MMEM_STORE_SLAB_INT_H
#define MMEM_STORE_SLAB_INT_H

/* Slab allocator: size classes carved out of fixed-size pages, one free list
 * and one mutex per class, and a global memory limit kept in an atomic.
 * Items larger than the largest chunk get a mapping of their own, counted
 * against the same limit.
 *
 * A page (slab_page_size bytes) belongs to one class for life:
 *
 *   +---------+---------+---------+-----+---------+------------------+
 *   | chunk 0 | chunk 1 | chunk 2 | ... | chunk k |  never carved    |
 *   +---------+---------+---------+-----+---------+------------------+
 *   ^ page                                        ^ carve (free_chunks_end)
 *
 * Chunks are handed out from the free list first, then carved lazily from the
 * newest page, so pages are only touched (made resident) as they fill.
 *
 * Every page is cut, in order, from one virtual range (the arena) reserved
 * at init, so that a chunk can be named by a 32-bit handle: its offset from
 * the arena in units of 1 << shift (see store/handle_int.h). Large items
 * live outside the arena and are named by their slot in a registry. */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Class ids are 1..MM_SLAB_MAX_CLASSES, as memcached numbers them. */
#define MM_SLAB_MAX_CLASSES 63
/* Smallest chunk alignment; the real one is 1 << shift (sl->shift). */
#define MM_SLAB_ALIGN 8u
#define MM_SLAB_PAGE_DEFAULT (1024u * 1024u)

struct mm_slab_class {
    pthread_mutex_t lock;
    uint32_t size;    /* chunk size */
    uint32_t perslab; /* chunks per page */
    void *free_list;  /* freed chunks, linked through their first word */
    uint64_t nfree;   /* length of free_list */
    char *carve;      /* next never-used chunk in the newest page */
    uint32_t carve_left;
    uint64_t used; /* chunks handed out */
    uint64_t npages;
    void **pages; /* every page, in the order taken */
    size_t pages_cap;
};

struct mm_slab_cfg {
    size_t mem_limit; /* bytes; 0 = no limit */
    double factor;    /* growth factor between classes (-f) */
    size_t base;      /* memcached's first class: its 48-byte header + -n */
    size_t page_size; /* 0 = 1 MB */
    size_t chunk_max; /* 0 = page_size / 2 */
    /* Up to fine_max, classes step by fine_step bytes (rounded up to the
     * alignment) from fine_base; memcached's classes (from base) above it.
     * fine_max 0 gives memcached's table alone. */
    size_t fine_base;
    size_t fine_max;
    size_t fine_step;
    bool prealloc; /* -L: every class gets its first page at start */
};

/* Large item registry: a directory of blocks that never move, so a scanner
 * may read a slot without the lock. */
#define MM_SLAB_LARGE_BLOCK 4096u
#define MM_SLAB_LARGE_BLOCKS 4096u

struct mm_slab {
    struct mm_slab_class cls[MM_SLAB_MAX_CLASSES + 1]; /* [0] unused */
    unsigned nclasses;                                 /* largest id */
    size_t page_size;
    size_t chunk_max;
    size_t mem_limit;      /* atomic */
    size_t mem_malloced;   /* atomic: pages handed to classes + large items */
    size_t large_bytes;    /* atomic */
    uint64_t large_count;  /* atomic */
    uint64_t malloc_fails; /* atomic */
    /* Every page is cut from the arena in order under arena_lock. */
    pthread_mutex_t arena_lock;
    char *arena;
    size_t arena_size; /* bytes reserved */
    size_t arena_used;
    size_t page_stride; /* page_size rounded up to the chunk alignment */
    unsigned shift;     /* handle unit: 1 << shift bytes */
    char *hbase;        /* arena - (1 << shift): no chunk gets handle 0 */
    /* Large item registry, under large_lock except for slot reads. */
    pthread_mutex_t large_lock;
    void ***large_dir;   /* MM_SLAB_LARGE_BLOCKS block pointers */
    uint32_t large_span; /* atomic: slots ever used */
    uint32_t large_free; /* first free slot + 1; 0 = none */
};

/* Compute the class table, reserve the arena (the whole handle range, or
 * when that is refused just the limit plus a page per class) and, with
 * prealloc, give every class its first page. Returns 0, or -1 if cfg is
 * invalid or no arena could be reserved. */
int mm_slab_init(struct mm_slab *sl, const struct mm_slab_cfg *cfg);
/* Free every page and the arena. Large items must be freed by the caller. */
void mm_slab_fini(struct mm_slab *sl);

/* Smallest class whose chunk holds total bytes; 0 if larger than chunk_max. */
unsigned mm_slab_class(const struct mm_slab *sl, size_t total);

/* A chunk of class id, or NULL when the class has no free chunk and no new
 * page may be taken (the caller then evicts). Takes the class lock. */
void *mm_slab_alloc(struct mm_slab *sl, unsigned id);
void mm_slab_free(struct mm_slab *sl, void *chunk, unsigned id);

/* Memory for a large item: an anonymous mapping of size bytes plus a 16-byte
 * prefix holding its registry index, rounded up to whole pages, which is
 * also what is counted against the limit and what munmap gives back on
 * free. Returns the memory after the prefix, registered in a slot; NULL
 * when over the limit or the registry is full. */
void *mm_slab_large_alloc(struct mm_slab *sl, size_t size);
/* Unregisters p (from mm_slab_large_alloc) and unmaps it. */
void mm_slab_large_free(struct mm_slab *sl, void *p, size_t size);
/* Chunks of class id carved so far (used or free), and the address of chunk
 * i (i < that count) in carve order: page i / perslab. For a sweep that
 * visits every chunk of a class; it must not read a chunk it does not own
 * beyond its refcount (see mm_item_pin). */
uint64_t mm_slab_carved(struct mm_slab *sl, unsigned id);
void *mm_slab_chunk(struct mm_slab *sl, unsigned id, uint64_t i);

/* p's registry index, read from its prefix. */
uint32_t mm_slab_large_index(const void *p);
/* Slots ever used: every valid index is below it. */
uint32_t mm_slab_large_span(struct mm_slab *sl);
/* The pointer registered in slot i, or NULL when the slot is free. Safe
 * without any lock for i < mm_slab_large_span(). */
void *mm_slab_large_at(struct mm_slab *sl, uint32_t i);
/* fn(arg, item) on the large item in slot i, with the registry locked so
 * that the item cannot be unmapped meanwhile (a sweep's way to look at an
 * item it does not own yet); fn must be short and take no lock. Returns
 * fn's result, false for a free slot. */
bool mm_slab_large_with(struct mm_slab *sl, uint32_t i, bool (*fn)(void *arg, void *p), void *arg);

void mm_slab_set_limit(struct mm_slab *sl, size_t mem_limit);
size_t mm_slab_limit(const struct mm_slab *sl);
size_t mm_slab_malloced(const struct mm_slab *sl);

/* Consistent per-class snapshot (takes the class lock). */
struct mm_slab_class_stats {
    uint32_t size;
    uint32_t perslab;
    uint64_t npages;
    uint64_t used;
    uint64_t free_chunks; /* free list + never carved */
    uint64_t free_end;    /* never carved */
};
void mm_slab_class_stats(struct mm_slab *sl, unsigned id, struct mm_slab_class_stats *out);

#endif
