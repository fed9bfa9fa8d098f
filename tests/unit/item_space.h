#ifndef MMEM_TESTS_ITEM_SPACE_H
#define MMEM_TESTS_ITEM_SPACE_H

/* Items for white-box store tests. The hash table links items by 32-bit
 * handle, which only names memory of a slab arena (or its large registry),
 * so tests take their items from a real slab instead of malloc. Call
 * tspace_init() in a fixture's setup and tspace_fini() in its teardown. */

#include <check.h>

#include "store/handle_int.h"
#include "store/item_int.h"
#include "store/slab_int.h"

static struct mm_slab tslab;
static struct mm_item_space tsp;

static inline void
tspace_init(void)
{
    struct mm_slab_cfg c = {.mem_limit = 0, .factor = 1.25, .base = 64};

    ck_assert_int_eq(mm_slab_init(&tslab, &c), 0);
    tsp = mm_item_space_of(&tslab);
}

static inline void
tspace_fini(void)
{
    mm_slab_fini(&tslab);
}

/* Memory for an item of total bytes and the class to record in it. */
static inline struct mm_item *
titem(size_t total, uint8_t *cls)
{
    unsigned id = mm_slab_class(&tslab, total);
    struct mm_item *it = mm_slab_alloc(&tslab, id);

    ck_assert_uint_ne(id, 0);
    ck_assert_ptr_nonnull(it);
    *cls = (uint8_t)id;
    return it;
}

static inline void
tfree(struct mm_item *it)
{
    mm_slab_free(&tslab, it, mm_item_cls(it));
}

#endif
