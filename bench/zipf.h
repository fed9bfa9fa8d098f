/* Zipf-distributed key ids for the benchmarks: a precomputed CDF over the key
 * ranks, sampled by binary search, and a fixed permutation from rank to key
 * id so that popular keys are not neighbours. */
#ifndef MMEM_BENCH_ZIPF_H
#define MMEM_BENCH_ZIPF_H

#include <stdint.h>

struct mm_zipf {
    double *cdf;  /* cdf[r]: probability of a rank <= r */
    uint64_t n;   /* number of keys */
    uint64_t mul; /* rank -> id: (rank * mul + add) mod n, mul coprime to n */
    uint64_t add;
};

/* Returns 0, or -1 when n is 0 or too large, or s is not positive. */
int mm_zipf_init(struct mm_zipf *z, uint64_t n, double s);
void mm_zipf_fini(struct mm_zipf *z);

/* The key id for a uniform u in [0, 1). */
uint64_t mm_zipf_id(const struct mm_zipf *z, double u);

/* A small, fast generator (splitmix64): the key sequence must be the same for
 * every server, so it is seeded explicitly and never from the clock. */
uint64_t mm_zipf_next(uint64_t *state);
/* A uniform double in [0, 1) from the generator. */
double mm_zipf_uniform(uint64_t *state);
/* A 64-bit mix of x (splitmix64's finaliser): deterministic per-key values. */
uint64_t mm_zipf_mix(uint64_t x);

#endif
