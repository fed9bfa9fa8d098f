#ifndef MMEM_SCAN_H
#define MMEM_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Span-based number scanning and formatting. The scanners read exactly the
 * bytes in [p, end): no NUL terminator is needed and nothing past end is read.
 * They accept what memcached's safe_strto* accept for the same token (decimal,
 * no leading '+' unless memcached takes it, no trailing garbage), and reject
 * overflow. Return true on success. */

bool mm_scan_u32(const char *p, const char *end, uint32_t *out);
bool mm_scan_u64(const char *p, const char *end, uint64_t *out);
bool mm_scan_i32(const char *p, const char *end, int32_t *out);
bool mm_scan_i64(const char *p, const char *end, int64_t *out);

/* Write the decimal form of v to buf (no NUL); returns the number of bytes.
 * buf must hold at least MM_U64_MAXLEN bytes. */
#define MM_U64_MAXLEN 20
size_t mm_u64toa(uint64_t v, char *buf);
size_t mm_i64toa(int64_t v, char *buf);

#endif
