#ifndef MMEM_HASH_H
#define MMEM_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The one key hash used everywhere: 64 bits, with the top bits picking the
 * shard and the low bits the bucket and stripe (see doc/architecture.md). */
typedef uint64_t mm_hash_t;

mm_hash_t mm_hash(const void *key, size_t len);

#endif
