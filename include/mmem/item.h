#ifndef MMEM_ITEM_H
#define MMEM_ITEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmem/clock.h"

/* An item: one key and its raw value (no "\r\n"), living in a slab chunk or,
 * when larger than the largest chunk, in one exact-size mapping. The value
 * is always contiguous.
 *
 *   offset
 *    0 +-------------------------------+  <- chunk start
 *      | h_next          (4)           |  stripe lock; 32-bit handle
 *    4 | atime           (4)           |  last store/refresh (reltime)
 *    8 | exptime         (4)           |  0 = never
 *   12 | vlen (24 bits) nkey (8 bits)  |  immutable
 *   16 | refcnt (2) iflags (1)         |  refcnt atomic, saturating; 0 = free
 *   19 | class + layout bits (1)       |  immutable
 *   20 +-------------------------------+
 *      | vlen (4): large items only    |
 *      | cas (8): absent with -C       |
 *      | client flags (4): absent if 0 |
 *      | key (nkey bytes, no NUL)      |
 *      | value (vlen bytes, no \r\n)   |
 *      +-------------------------------+
 *
 * Readers outside store/ use only the accessors below. The struct itself is
 * private (src/store/item_int.h); doc/store.md explains the choices. */

struct mm_item;

const char *mm_item_key(const struct mm_item *it);
uint8_t mm_item_nkey(const struct mm_item *it);
/* The value bytes; writable only between reserve and commit. */
char *mm_item_data(struct mm_item *it);
const char *mm_item_cdata(const struct mm_item *it);
uint32_t mm_item_vlen(const struct mm_item *it);
uint32_t mm_item_flags(const struct mm_item *it);
/* 0 when CAS is disabled (-C). */
uint64_t mm_item_cas(const struct mm_item *it);
mm_reltime_t mm_item_exptime(const struct mm_item *it);
mm_reltime_t mm_item_atime(const struct mm_item *it);
/* The slab class id (0 for an item too large for any class), as "watch"
 * and "me" report it. */
unsigned mm_item_clsid(const struct mm_item *it);

#endif
