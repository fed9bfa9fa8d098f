#ifndef MMEM_SCAN_H
#define MMEM_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Span-based number scanning and formatting. The scanners read exactly the
 * bytes in [p, end): no NUL terminator is needed and nothing past end is read.
 *
 * They accept exactly what memcached 1.6's safe_strto* helpers accept for the
 * same token on an LP64 system, because clients depend on those quirks:
 *   - leading white space is skipped and one '+' or '-' sign is allowed;
 *   - at least one decimal digit is required (no hex, no "0x");
 *   - after the digits the token must end, or the next byte must be white
 *     space, after which the rest of the token is ignored ("5\tx" is 5);
 *   - the 64-bit conversion must not overflow (strtoull/strtoll ERANGE).
 * The per-type rules are on each function. Return true on success; *out is
 * left untouched on failure. "White space" is C-locale isspace(). */

/* safe_strtoull: a '-' negates modulo 2^64 as strtoull does, then a result
 * that is negative as int64 is refused when the text has a '-'. So "-1" is
 * refused, "-0" is 0, and "-18446744073709551615" is 1 (memcached agrees). */
bool mm_scan_u64(const char *p, const char *end, uint64_t *out);

/* safe_strtoul: as mm_scan_u64, then truncated to 32 bits without a range
 * check (memcached stores flags 4294967297 as 1). */
bool mm_scan_u32(const char *p, const char *end, uint32_t *out);

/* safe_strtoll: strtoll's range, [INT64_MIN, INT64_MAX]; beyond is refused. */
bool mm_scan_i64(const char *p, const char *end, int64_t *out);

/* safe_strtol: strtol's 64-bit range check, then truncated to 32 bits
 * without a range check (an exptime of 4294967296 becomes 0). */
bool mm_scan_i32(const char *p, const char *end, int32_t *out);

/* Strict unsigned decimal: digits only, no sign, no white space, no
 * trailing bytes, no overflow of 64 bits. For mmem's own formats (command
 * line values), not for the wire. */
bool mm_scan_u64_strict(const char *p, const char *end, uint64_t *out);

/* Write the decimal form of v to buf (no NUL); returns the number of bytes.
 * buf must hold at least MM_U64_MAXLEN bytes (MM_I64_MAXLEN for signed). */
#define MM_U64_MAXLEN 20
#define MM_I64_MAXLEN 20
size_t mm_u64toa(uint64_t v, char *buf);
size_t mm_i64toa(int64_t v, char *buf);

#endif
