#ifndef MMEM_STORE_SLAB_INT_H
#define MMEM_STORE_SLAB_INT_H

/* Slab allocator: size classes over pages borrowed from the page pool
 * (pool_int.h), free chunks kept per page, one mutex per class. Items
 * larger than the largest chunk get a mapping of their own, charged
 * against the same budget as the pages.
 *
 * A class holds pages in an array (the order its clock hand sweeps them):
 *
 *   pages[0]            pages[1]                     pages[2]
 *   +----+----+----+    +----+----+----+----------+  +--------------+
 *   | it | -- | it |    | it | it | it | uncarved |  | never carved |
 *   +----+----+----+    +----+----+----+----------+  +--------------+
 *          ^ free chunk (on its page's free list)
 *
 * Chunk i of the class is chunk i % perslab of pages[i / perslab]. Chunks
 * are handed out from pages with room (a free chunk first, else the next
 * never-carved one, so untouched memory stays out of RSS), then from a new
 * page taken from the pool.
 *
 * The page mover detaches a page (mm_slab_detach): it leaves the array, no
 * chunk is handed out from it any more, and when its last chunk is freed
 * the page goes back to the pool (and its memory to the kernel). Items in it
 * stay readable until then. */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/pool_int.h"

/* Class ids are 1..MM_SLAB_MAX_CLASSES, as memcached numbers them. */
#define MM_SLAB_MAX_CLASSES 63
/* Smallest chunk alignment; the real one is 1 << shift (sl->shift). */
#define MM_SLAB_ALIGN 8u
#define MM_SLAB_PAGE_DEFAULT (1024u * 1024u)

struct mm_slab_class {
    pthread_mutex_t lock;
    uint32_t size;    /* chunk size */
    uint32_t perslab; /* chunks per page */
    uint32_t *pages;  /* pool page indexes, in sweep order */
    uint32_t npages;
    uint32_t pages_cap;
    uint32_t avail;    /* first page with room (free or uncarved chunks) + 1 */
    uint64_t nfree;    /* free chunks in the class's pages */
    uint64_t uncarved; /* never carved chunks in them */
    uint64_t used;     /* chunks handed out, detached pages included */
    uint32_t moving;   /* detached pages not yet back in the pool */
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
    /* -o slab_sizes: these chunk sizes (rounded up to the alignment), then
     * one class of chunk_max, instead of the computed table. */
    const uint32_t *sizes;
    unsigned nsizes;
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
    struct mm_pool pool;
    uint64_t pages_returned; /* atomic: detached pages back in the pool */
    size_t large_bytes;      /* atomic */
    uint64_t large_count;    /* atomic */
    /* Large item registry, under large_lock except for slot reads. */
    pthread_mutex_t large_lock;
    void ***large_dir;   /* MM_SLAB_LARGE_BLOCKS block pointers */
    uint32_t large_span; /* atomic: slots ever used */
    uint32_t large_free; /* first free slot + 1; 0 = none */
};

/* Compute the class table, set up the pool (its arena: the whole handle
 * range, or when that is refused just the limit plus a page per class) and,
 * with prealloc, give every class its first page while the budget allows.
 * Returns 0, or -1 if cfg is invalid or no arena could be reserved. */
int mm_slab_init(struct mm_slab *sl, const struct mm_slab_cfg *cfg);
/* Free every page and the arena. Large items must be freed by the caller. */
void mm_slab_fini(struct mm_slab *sl);

/* Smallest class whose chunk holds total bytes; 0 if larger than chunk_max. */
unsigned mm_slab_class(const struct mm_slab *sl, size_t total);

/* A chunk of class id, or NULL when the class has no room and the pool no
 * page to give (the caller then evicts). Takes the class lock. */
void *mm_slab_alloc(struct mm_slab *sl, unsigned id);
/* The same, but only from pages the class already holds (for rescuing items
 * out of a page being moved: taking a page would defeat the move). */
void *mm_slab_alloc_held(struct mm_slab *sl, unsigned id);
/* Give a chunk back; the last chunk of a detached page sends the page back
 * to the pool. */
void mm_slab_free(struct mm_slab *sl, void *chunk, unsigned id);

/* Detach the page of class id that holds chunk index near (modulo the
 * class's span), or its emptiest page, for the page mover. Returns its pool index, MM_POOL_NONE
 * if the class holds no page. A page with no chunk in use goes back to the
 * pool at once (*n = 0). Otherwise *first, *n are the chunks carved in it
 * (the only ones that can hold items) and the caller holds the page: it
 * stays detached, and out of the pool, until mm_slab_unhold. */
uint32_t mm_slab_detach(struct mm_slab *sl, unsigned id, uint64_t near, char **first, uint32_t *n);
/* mm_slab_detach's near for the page with the fewest chunks in use. */
#define MM_SLAB_EMPTIEST UINT64_MAX
/* Chunks of held page pg still handed out. */
uint32_t mm_slab_page_live(struct mm_slab *sl, unsigned id, uint32_t pg);
/* Drop the mover's hold; true if that sent the page back to the pool (it
 * had no chunk in use). Afterwards the page must not be touched: its last
 * chunk may come back at any time. */
bool mm_slab_unhold(struct mm_slab *sl, unsigned id, uint32_t pg);
/* Take a page from the pool for class id now ("slabs reassign"'s
 * destination, -L). false if the pool has none to give. */
bool mm_slab_grow(struct mm_slab *sl, unsigned id);

/* Memory for a large item: an anonymous mapping of size bytes plus a 16-byte
 * prefix holding its registry index, rounded up to whole pages, which is
 * also what is counted against the limit and what munmap gives back on
 * free. Returns the memory after the prefix, registered in a slot; NULL
 * when over the limit or the registry is full. */
void *mm_slab_large_alloc(struct mm_slab *sl, size_t size);
/* Unregisters p (from mm_slab_large_alloc) and unmaps it. */
void mm_slab_large_free(struct mm_slab *sl, void *p, size_t size);
/* The chunk indexes of class id: npages * perslab. fn(arg, chunk) on chunk
 * i, under the class lock (so the page cannot be detached and handed to
 * another class meanwhile); false without calling fn if i is past the span
 * or not carved. For a sweep that visits every chunk of a class: fn must be
 * short, take no lock, and read nothing of a chunk it does not own beyond
 * its refcount (see mm_item_pin). */
uint64_t mm_slab_carved(struct mm_slab *sl, unsigned id);
bool mm_slab_chunk_with(struct mm_slab *sl, unsigned id, uint64_t i, bool (*fn)(void *arg, void *p),
                        void *arg);

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
    uint64_t free_chunks; /* on the pages' free lists */
    uint64_t free_end;    /* never carved */
    uint32_t moving;      /* detached pages not back yet */
};
void mm_slab_class_stats(struct mm_slab *sl, unsigned id, struct mm_slab_class_stats *out);

#endif
