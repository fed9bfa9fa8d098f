#ifndef MMEM_ITEM_H
#define MMEM_ITEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmem/clock.h"

/* An item: one key and its raw value (no "\r\n"), living in a slab chunk.
 *
 *   +-----------------------------+  <- chunk start
 *   | struct mm_item header       |
 *   +-----------------------------+
 *   | cas (8 bytes, unless -C)    |
 *   +-----------------------------+
 *   | key (nkey bytes)            |
 *   +-----------------------------+
 *   | value (vlen bytes)          |
 *   +-----------------------------+
 *
 * Readers outside store/ use only the accessors below. The layout may change;
 * see doc/architecture.md for the current one and its size. */

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

#endif
