#ifndef MMEM_HASH_H
#define MMEM_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The one key hash used everywhere: 64 bits, with the top bits picking the
 * shard and the low bits the bucket and stripe (see doc/architecture.md).
 *
 * It is XXH64 (seed 0), written from the published algorithm description.
 * Every bit of the result depends on every input bit, so the store may take
 * shard bits from the top and bucket/stripe bits from the bottom of the same
 * value without them being correlated. */
typedef uint64_t mm_hash_t;

/* The name reported by "stats settings" (hash_algorithm). */
#define MM_HASH_NAME "xxh64"

/* Hash len bytes at key (key may be NULL when len is 0). Pure function. */
mm_hash_t mm_hash(const void *key, size_t len);

/* XXH64 with an explicit seed; mm_hash(k, n) == mm_hash_xxh64(k, n, 0). */
uint64_t mm_hash_xxh64(const void *key, size_t len, uint64_t seed);

#endif
