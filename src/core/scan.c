/* Number scanning over spans and decimal formatting. The scanners mirror
 * memcached's safe_strto* (strtoul and friends plus its checks) on an LP64
 * system byte for byte, because a cache that accepted a different set of
 * tokens than memcached would surprise clients. They never read past end and
 * never need a terminator. */
#include "config.h"

#include "mmem/scan.h"

/* C-locale isspace(): what strtoul skips before a number and what memcached
 * accepts right after one. */
static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* The common front end: white space, an optional sign, then digits. mag gets
 * the magnitude; *overflow is set when it does not fit in 64 bits (strto*
 * would report ERANGE). Fails when there are no digits or when the digits
 * are followed by something other than the end or a white-space byte. */
static bool
scan_decimal(const char *p, const char *end, bool *neg, uint64_t *mag, bool *overflow)
{
    bool any = false;

    *neg = false;
    *mag = 0;
    *overflow = false;
    if (p == NULL || end == NULL || p > end) {
        return false;
    }
    while (p < end && is_space(*p)) {
        p++;
    }
    if (p < end && (*p == '+' || *p == '-')) {
        *neg = *p == '-';
        p++;
    }
    while (p < end && *p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');

        if (*mag > (UINT64_MAX - d) / 10) {
            *overflow = true;
        } else if (!*overflow) {
            *mag = *mag * 10 + d;
        }
        any = true;
        p++;
    }
    return any && (p == end || is_space(*p));
}

bool
mm_scan_u64(const char *p, const char *end, uint64_t *out)
{
    bool neg, overflow;
    uint64_t mag, v;

    if (!scan_decimal(p, end, &neg, &mag, &overflow) || overflow) {
        return false;
    }
    v = neg ? (uint64_t)0 - mag : mag;
    /* memcached only looks for a '-' when the result is negative as a
     * signed number, so small negatives fail and huge ones wrap through. */
    if (neg && (int64_t)v < 0) {
        return false;
    }
    *out = v;
    return true;
}

bool
mm_scan_u32(const char *p, const char *end, uint32_t *out)
{
    uint64_t v;

    if (!mm_scan_u64(p, end, &v)) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

bool
mm_scan_i64(const char *p, const char *end, int64_t *out)
{
    bool neg, overflow;
    uint64_t mag;

    if (!scan_decimal(p, end, &neg, &mag, &overflow) || overflow) {
        return false;
    }
    if (neg) {
        if (mag > (uint64_t)INT64_MAX + 1) {
            return false;
        }
        *out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    } else {
        if (mag > (uint64_t)INT64_MAX) {
            return false;
        }
        *out = (int64_t)mag;
    }
    return true;
}

bool
mm_scan_i32(const char *p, const char *end, int32_t *out)
{
    int64_t v;

    if (!mm_scan_i64(p, end, &v)) {
        return false;
    }
    /* Two's complement truncation, as the (int) cast in memcached does; done
     * through uint32_t so it is defined behaviour in C. */
    *out = (int32_t)(uint32_t)(uint64_t)v;
    return true;
}

bool
mm_scan_u64_strict(const char *p, const char *end, uint64_t *out)
{
    uint64_t v = 0;

    if (p == NULL || end == NULL || p >= end) {
        return false;
    }
    for (; p < end; p++) {
        unsigned d;

        if (*p < '0' || *p > '9') {
            return false;
        }
        d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

size_t
mm_u64toa(uint64_t v, char *buf)
{
    char tmp[MM_U64_MAXLEN];
    size_t n = 0;
    size_t i;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (i = 0; i < n; i++) {
        buf[i] = tmp[n - 1 - i];
    }
    return n;
}

size_t
mm_i64toa(int64_t v, char *buf)
{
    if (v < 0) {
        buf[0] = '-';
        /* Negate in unsigned arithmetic so INT64_MIN does not overflow. */
        return 1 + mm_u64toa((uint64_t)0 - (uint64_t)v, buf + 1);
    }
    return mm_u64toa((uint64_t)v, buf);
}
