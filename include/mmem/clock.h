#ifndef MMEM_CLOCK_H
#define MMEM_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Process-relative time in seconds, as memcached keeps it: items store
 * mm_reltime_t, which fits in 32 bits for 136 years of uptime.
 *
 * A clock is a small struct the owner updates from a timer (once a second)
 * and everyone else reads. Reads and writes are atomic (relaxed). */

typedef uint32_t mm_reltime_t;

struct mm_clock {
    time_t started;       /* Unix time at process start minus 2 s, as memcached */
    uint32_t now;         /* seconds since started; atomically updated */
};

/* memcached treats expiry values above 30 days as absolute Unix times. */
#define MM_CLOCK_REALTIME_MAXDELTA (60 * 60 * 24 * 30)

void mm_clock_init(struct mm_clock *c);
/* Re-read the system time and update now. Called by the clock timer. */
void mm_clock_update(struct mm_clock *c);
mm_reltime_t mm_clock_now(const struct mm_clock *c);
/* Unix time corresponding to "now". */
time_t mm_clock_unix(const struct mm_clock *c);

/* Convert a client exptime (memcached rules) into a relative expiry:
 *   0            -> 0 (never expires)
 *   < 0          -> already expired (a reltime in the past, never 0)
 *   <= 30 days   -> now + exptime
 *   > 30 days    -> absolute Unix time converted to reltime; if that time is
 *                   already past, "already expired". */
mm_reltime_t mm_clock_exptime(const struct mm_clock *c, int64_t exptime);

#endif
