#ifndef MMEM_STORE_ITEM_INT_H
#define MMEM_STORE_ITEM_INT_H

/* Private item layout, shared by the files of store/ and by white-box tests.
 * The diagram and the locking of each field are in include/mmem/item.h. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mmem/clock.h"
#include "mmem/item.h"

struct mm_item {
    struct mm_item *lru_prev; /* lru lock */
    struct mm_item *lru_next; /* lru lock */
    uint32_t h_next;          /* stripe lock; a handle (handle_int.h) */
    mm_reltime_t atime;       /* written under stripe + lru lock; read relaxed */
    mm_reltime_t exptime;     /* written under stripe lock; read relaxed */
    uint32_t vlen;
    uint32_t client_flags;
    uint16_t refcnt; /* __atomic builtins only */
    uint8_t iflags;  /* MM_ITEM_F_*, stripe lock */
    uint8_t cls;     /* slab class id; MM_ITEM_CLS_LARGE for exact-size items */
    uint8_t nkey;
    uint8_t shard;
    uint8_t layout; /* MM_ITEM_L_*, immutable after init */
    uint8_t spare;
    /* followed by: [cas (8)] key value */
};

/* Linked into the hash table and an LRU; holds one reference. */
#define MM_ITEM_F_LINKED 0x01u
/* Returned by a get at least once (for *_unfetched stats). */
#define MM_ITEM_F_FETCHED 0x02u
/* Fetched again after its first fetch (for evicted_active). */
#define MM_ITEM_F_ACTIVE 0x04u
/* Meta protocol: marked stale (md I, ms C.. I); a new value clears it. */
#define MM_ITEM_F_STALE 0x08u
/* Meta protocol: some client was handed the recache token (W). */
#define MM_ITEM_F_TOKEN 0x10u

/* layout bit: the 8-byte CAS follows the header. Kept apart from iflags
 * because lock-free readers (key/value accessors) need it while iflags
 * changes under the stripe lock. */
#define MM_ITEM_L_CAS 0x01u

/* Items larger than the largest slab chunk have their own allocation. */
#define MM_ITEM_CLS_LARGE 0u

/* A refcount that reaches this value stays there: the item is pinned for
 * the rest of the process rather than risk a wrap to zero and a free while
 * still in use. */
#define MM_ITEM_REF_MAX UINT16_MAX

#define MM_ITEM_HDR_SIZE (sizeof(struct mm_item))

/* Header + optional CAS + key + value: the bytes the item occupies. */
static inline size_t
mm_item_ntotal(size_t nkey, size_t vlen, bool cas)
{
    return MM_ITEM_HDR_SIZE + (cas ? 8u : 0u) + nkey + vlen;
}

size_t mm_item_total(const struct mm_item *it);

/* Write the header fields and key of fresh memory. refcnt becomes 1. */
void mm_item_init(struct mm_item *it, const char *key, uint8_t nkey, uint8_t cls, uint8_t shard,
                  bool cas, uint32_t client_flags, mm_reltime_t exptime, uint32_t vlen,
                  mm_reltime_t now);

void mm_item_set_cas(struct mm_item *it, uint64_t cas);

/* Take a reference. Saturates at MM_ITEM_REF_MAX. */
void mm_item_ref(struct mm_item *it);
/* Drop a reference; true when it was the last one and the caller must free
 * the memory. A saturated count never drops. */
bool mm_item_unref(struct mm_item *it);
uint16_t mm_item_refcnt(const struct mm_item *it);

static inline mm_reltime_t
mm_item_load_exptime(const struct mm_item *it)
{
    return __atomic_load_n(&it->exptime, __ATOMIC_RELAXED);
}

static inline void
mm_item_store_exptime(struct mm_item *it, mm_reltime_t t)
{
    __atomic_store_n(&it->exptime, t, __ATOMIC_RELAXED);
}

static inline mm_reltime_t
mm_item_load_atime(const struct mm_item *it)
{
    return __atomic_load_n(&it->atime, __ATOMIC_RELAXED);
}

static inline void
mm_item_store_atime(struct mm_item *it, mm_reltime_t t)
{
    __atomic_store_n(&it->atime, t, __ATOMIC_RELAXED);
}

static inline bool
mm_item_key_eq(const struct mm_item *it, const char *key, size_t nkey)
{
    return it->nkey == nkey && memcmp(mm_item_key(it), key, nkey) == 0;
}

#endif
