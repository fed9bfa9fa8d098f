#ifndef MMEM_TEST_IT_LOAD_H
#define MMEM_TEST_IT_LOAD_H

/* Helpers shared by the load-style integration suites (churn, integrity):
 * a monotonic clock for deadlines and a seeded generator, so a failing run
 * can be repeated with the same sequence of keys and sizes. */

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

static inline double
it_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* xorshift64*: state must start non-zero. */
static inline uint64_t
it_rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

/* Log-uniform in [lo, hi] (lo >= 1): as many values per decade, so small
 * and large sizes are both well represented. */
static inline size_t
it_rng_len(uint64_t *s, size_t lo, size_t hi)
{
    double u = (double)(it_rng_next(s) >> 11) / (double)(1ULL << 53);
    double v = exp(log((double)lo) + u * (log((double)hi) - log((double)lo)));
    size_t n = (size_t)v;

    return n < lo ? lo : n > hi ? hi : n;
}

#endif
