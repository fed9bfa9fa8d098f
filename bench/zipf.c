/* Zipf sampler: see zipf.h. The CDF costs 8 bytes per key (8 MB for the
 * default million keys) and one pow() per key at start; a draw is a binary
 * search, about 20 steps, which keeps the client cheap at 40,000 gets/s. */
#include "config.h"

#include "zipf.h"

#include <math.h>
#include <stdlib.h>

#define ZIPF_MAX_KEYS (1ull << 32)

static uint64_t
gcd(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

int
mm_zipf_init(struct mm_zipf *z, uint64_t n, double s)
{
    double sum = 0.0;
    uint64_t r;

    if (n == 0 || n > ZIPF_MAX_KEYS || !(s > 0.0))
        return -1;
    z->cdf = malloc(n * sizeof(*z->cdf));
    if (z->cdf == NULL)
        return -1;
    for (r = 0; r < n; r++) {
        sum += pow((double)(r + 1), -s);
        z->cdf[r] = sum;
    }
    for (r = 0; r < n; r++)
        z->cdf[r] /= sum;
    z->cdf[n - 1] = 1.0;
    z->n = n;
    /* Any multiplier coprime to n permutes 0..n-1; start from a large odd
     * constant and step until one is. */
    z->mul = 2654435761ull % n;
    while (n > 1 && (z->mul == 0 || gcd(z->mul, n) != 1))
        z->mul = (z->mul + 1) % n;
    if (n == 1)
        z->mul = 1;
    z->add = n / 3;
    return 0;
}

void
mm_zipf_fini(struct mm_zipf *z)
{
    free(z->cdf);
    z->cdf = NULL;
}

uint64_t
mm_zipf_id(const struct mm_zipf *z, double u)
{
    uint64_t lo = 0, hi = z->n - 1;

    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (z->cdf[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return (uint64_t)(((unsigned __int128)lo * z->mul + z->add) % z->n);
}

uint64_t
mm_zipf_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

uint64_t
mm_zipf_next(uint64_t *state)
{
    *state += 0x9e3779b97f4a7c15ull;
    return mm_zipf_mix(*state);
}

double
mm_zipf_uniform(uint64_t *state)
{
    return (double)(mm_zipf_next(state) >> 11) * 0x1p-53;
}
