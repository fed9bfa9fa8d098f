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
    uint32_t h_next;      /* stripe lock; a handle (handle_int.h); a free chunk's
                           * link overlays it and atime */
    mm_reltime_t atime;   /* written under stripe lock; read relaxed */
    mm_reltime_t exptime; /* written under stripe lock; read relaxed */
    /* Immutable after init. A slab item's value is below 16 MB (chunks are
     * at most a page); a large item keeps vlen24 at 0 and its 32-bit length
     * right after the header. */
    uint32_t vlen24 : 24;
    uint32_t nkey : 8;
    uint16_t refcnt; /* __atomic builtins only; 0 while the chunk is free */
    uint8_t iflags;  /* MM_ITEM_F_*, stripe lock */
    /* The slab class (low bits; MM_ITEM_CLS_LARGE for a large item) and the
     * layout bits MM_ITEM_L_*; immutable after init, so lock-free readers
     * may use it while iflags changes under the stripe lock. */
    uint8_t cls_layout;
    /* followed by: [vlen (4), large items only] [cas (8)] [client flags (4)]
     * key value */
};

/* Linked into the hash table (and counted by its class); holds one reference. */
#define MM_ITEM_F_LINKED 0x01u
/* Returned by a get at least once (for *_unfetched stats). */
#define MM_ITEM_F_FETCHED 0x02u
/* Fetched again after its first fetch (for evicted_active). */
#define MM_ITEM_F_ACTIVE 0x04u
/* Hit since the clock hand last passed: spared once by the eviction scan. */
#define MM_ITEM_F_ACCESSED 0x20u
/* Hit again while ACCESSED: spared a second time (a two-level clock, so an
 * item read often outlives one read once). */
#define MM_ITEM_F_REUSED 0x80u
/* TTL at most temporary_ttl when stored: never evicted, only reclaimed once
 * dead (memcached's temp LRU). Set before the item is linked. */
#define MM_ITEM_F_TEMP 0x40u
/* Meta protocol: marked stale (md I, ms C.. I); a new value clears it. */
#define MM_ITEM_F_STALE 0x08u
/* Meta protocol: some client was handed the recache token (W). */
#define MM_ITEM_F_TOKEN 0x10u

/* Layout bits in cls_layout: an 8-byte CAS follows the header (absent with
 * -C); a 4-byte client flags word follows (absent when the flags are 0, as
 * in memcached). */
#define MM_ITEM_L_CAS 0x80u
#define MM_ITEM_L_FLAGS 0x40u
#define MM_ITEM_CLS_MASK 0x3fu

/* Items larger than the largest slab chunk have their own allocation. */
#define MM_ITEM_CLS_LARGE 0u
/* Bytes a large item adds after the header: its 32-bit value length. */
#define MM_ITEM_LARGE_EXTRA 4u
/* Longest value a slab item can describe (vlen24). */
#define MM_ITEM_SLAB_VLEN_MAX ((1u << 24) - 1u)

/* A refcount that reaches this value stays there: the item is pinned for
 * the rest of the process rather than risk a wrap to zero and a free while
 * still in use. */
#define MM_ITEM_REF_MAX UINT16_MAX

#define MM_ITEM_HDR_SIZE (sizeof(struct mm_item))

/* Header + optional CAS + optional flags + key + value: the bytes a slab
 * item occupies (a large item adds MM_ITEM_LARGE_EXTRA). */
static inline size_t
mm_item_ntotal(size_t nkey, size_t vlen, bool cas, bool flags)
{
    return MM_ITEM_HDR_SIZE + (cas ? 8u : 0u) + (flags ? 4u : 0u) + nkey + vlen;
}

static inline unsigned
mm_item_cls(const struct mm_item *it)
{
    return it->cls_layout & MM_ITEM_CLS_MASK;
}

static inline bool
mm_item_has_cas(const struct mm_item *it)
{
    return (it->cls_layout & MM_ITEM_L_CAS) != 0;
}

size_t mm_item_total(const struct mm_item *it);

/* memcached's size for the same item: its 48-byte header, the CAS, the key
 * and a NUL, the value and "\r\n". "Too large" and "stats sizes" use it, so
 * both servers refuse and count the same values. */
#define MM_ITEM_MC_HDR_SIZE 48u

static inline size_t
mm_item_mc_total(size_t nkey, size_t vlen, bool cas)
{
    return MM_ITEM_MC_HDR_SIZE + (cas ? 8u : 0u) + nkey + 1u + vlen + 2u;
}

/* Write the header fields and key of fresh memory. refcnt becomes 1, stored
 * last with release order: the eviction scan looks at chunks it does not
 * own and reads a header only after it has taken a reference (see
 * mm_item_pin), so everything written here is visible to it by then. */
void mm_item_init(struct mm_item *it, const char *key, uint8_t nkey, uint8_t cls, bool cas,
                  uint32_t client_flags, mm_reltime_t exptime, uint32_t vlen, mm_reltime_t now);

void mm_item_set_cas(struct mm_item *it, uint64_t cas);

/* Take a reference. Saturates at MM_ITEM_REF_MAX. */
void mm_item_ref(struct mm_item *it);
/* For the eviction scan, which reaches items through slab memory rather
 * than the table: take a reference only if the count is exactly 1 (an item
 * nobody but its owner holds). A free chunk (0) and an item in use (> 1)
 * are left alone. */
bool mm_item_pin(struct mm_item *it);
/* For the page mover, which reaches items through a page it is emptying:
 * take a reference unless the chunk is free (0) or the count saturated.
 * Unlike mm_item_pin it also takes items other readers hold. */
bool mm_item_tryref(struct mm_item *it);
/* Copy src (same class) into fresh memory dst: header, CAS, flags, key and
 * value; dst gets its own count of 1 and no hash link. */
void mm_item_copy(struct mm_item *dst, const struct mm_item *src);
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
