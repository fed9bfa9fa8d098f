#ifndef MMEM_ALLOC_H
#define MMEM_ALLOC_H

#include <stddef.h>

/* The one place that calls the allocator. With jemalloc enabled these go to
 * jemalloc's non-standard API; otherwise (sanitizer and valgrind builds) to
 * libc. None of them return NULL: on exhaustion they log and abort, because a
 * cache that cannot allocate its own bookkeeping cannot continue. Item memory
 * is different: slab pages come from the store's own reserved arena and large
 * items from their own mappings (src/store/slab.c), where failure is handled. */

void *mm_malloc(size_t size);
void *mm_calloc(size_t n, size_t size);
void *mm_realloc(void *p, size_t size);
void mm_free(void *p);

/* Aligned allocation; alignment is a power of two. Aborts on failure. */
void *mm_aligned_alloc(size_t alignment, size_t size);

/* Zeroed memory straight from the kernel (an anonymous mapping), for large
 * arrays that are replaced wholesale, such as hash bucket arrays: munmap
 * returns their pages at once, where the allocator would keep a freed block
 * resident for reuse. Aborts on failure; mm_unmap takes the same size. */
void *mm_map(size_t size);
void mm_unmap(void *p, size_t size);

/* The allocator's name, for "stats settings" and -V ("jemalloc" or "libc"). */
const char *mm_alloc_name(void);

#endif
