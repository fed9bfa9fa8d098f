#ifndef MMEM_STORE_HANDLE_INT_H
#define MMEM_STORE_HANDLE_INT_H

/* 32-bit item handles, so that hash chain links and buckets take 4 bytes
 * instead of a pointer's 8.
 *
 *   0                      no item (NULL)
 *   1 .. 2^31 - 1          slab chunk at base + (h << shift)
 *   2^31 | i               large item in registry slot i
 *
 * base is the slab arena minus one unit, so the first chunk is handle 1.
 * The hash table copies the space at creation: decoding a slab handle is
 * then a shift and an add with no extra memory access. */

#include <stddef.h>
#include <stdint.h>

#include "store/item_int.h"
#include "store/slab_int.h"

#define MM_HANDLE_LARGE 0x80000000u

struct mm_item_space {
    char *base;
    unsigned shift;
    struct mm_slab *slab; /* for the large item registry */
};

/* The space of the items a slab hands out. */
static inline struct mm_item_space
mm_item_space_of(struct mm_slab *sl)
{
    struct mm_item_space sp = {sl->pool.hbase, sl->pool.shift, sl};

    return sp;
}

static inline struct mm_item *
mm_item_at(const struct mm_item_space *sp, uint32_t h)
{
    if (__builtin_expect((h & MM_HANDLE_LARGE) != 0, 0)) {
        return (struct mm_item *)mm_slab_large_at(sp->slab, h & ~MM_HANDLE_LARGE);
    }
    return h == 0 ? NULL : (struct mm_item *)(sp->base + ((size_t)h << sp->shift));
}

static inline uint32_t
mm_item_handle(const struct mm_item_space *sp, const struct mm_item *it)
{
    if (it == NULL) {
        return 0;
    }
    if (__builtin_expect(mm_item_cls(it) == MM_ITEM_CLS_LARGE, 0)) {
        return MM_HANDLE_LARGE | mm_slab_large_index(it);
    }
    return (uint32_t)((size_t)((const char *)it - sp->base) >> sp->shift);
}

#endif
