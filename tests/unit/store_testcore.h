#ifndef MMEM_TESTS_STORE_TESTCORE_H
#define MMEM_TESTS_STORE_TESTCORE_H

/* Weak stand-ins for core functions the store uses (alloc, hash, clock), so
 * the store tests link before core's .c files exist. Once core provides
 * them, its strong definitions in libmmem_core.a take precedence whenever
 * that object is pulled in, and these are ignored. Include from exactly one
 * translation unit per test program. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mmem/alloc.h"
#include "mmem/clock.h"
#include "mmem/hash.h"

#define MM_TEST_WEAK __attribute__((weak))

MM_TEST_WEAK void *
mm_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (p == NULL) {
        abort();
    }
    return p;
}

MM_TEST_WEAK void *
mm_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (p == NULL) {
        abort();
    }
    return p;
}

MM_TEST_WEAK void *
mm_realloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);

    if (q == NULL) {
        abort();
    }
    return q;
}

MM_TEST_WEAK void
mm_free(void *p)
{
    free(p);
}

MM_TEST_WEAK void *
mm_alloc_try(size_t size)
{
    return malloc(size ? size : 1);
}

MM_TEST_WEAK void *
mm_aligned_alloc(size_t alignment, size_t size)
{
    void *p = NULL;

    if (posix_memalign(&p, alignment, size ? size : 1) != 0) {
        abort();
    }
    return p;
}

MM_TEST_WEAK const char *
mm_alloc_name(void)
{
    return "libc";
}

/* FNV-1a with a final avalanche so the top (shard) bits vary too. */
MM_TEST_WEAK mm_hash_t
mm_hash(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 0xcbf29ce484222325ull;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

MM_TEST_WEAK mm_reltime_t
mm_clock_now(const struct mm_clock *c)
{
    return __atomic_load_n(&c->now, __ATOMIC_RELAXED);
}

/* Tests move time by hand. */
static inline void
mm_test_clock_set(struct mm_clock *c, mm_reltime_t now)
{
    __atomic_store_n(&c->now, now, __ATOMIC_RELAXED);
}

#endif
