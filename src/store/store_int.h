#ifndef MMEM_STORE_STORE_INT_H
#define MMEM_STORE_STORE_INT_H

/* White-box helpers over a store, for tests. */

#include <stdint.h>

struct mm_store;
struct mm_ht;
struct mm_slab;

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
