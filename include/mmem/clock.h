#ifndef MMEM_CLOCK_H
#define MMEM_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Process-relative time in seconds, as memcached keeps it: items store
 * mm_reltime_t, which fits in 32 bits for 136 years of uptime.
 *
 * A clock is a small struct the owner updates from a timer (once a second)
 * and everyone else reads. Reads and writes of now are atomic (relaxed);
 * started and mono_start are written once by mm_clock_init, before the clock
 * is shared.
 *
 * Like memcached 1.6, the clock counts from two seconds before the process
 * started (so "now" is never 0 and a relative time of 1 is always in the
 * past: "stats" reports uptime 2 right after start), and it advances with the
 * monotonic clock, so a wall-clock step does not expire or revive items.
 * Absolute exptimes are converted with the wall-clock time at start-up. */

typedef uint32_t mm_reltime_t;

struct mm_clock {
    time_t started;    /* Unix time at process start minus 2 s, as memcached */
    uint32_t now;      /* seconds since started; atomically updated */
    time_t mono_start; /* CLOCK_MONOTONIC seconds matching "started" */
};

/* memcached treats expiry values above 30 days as absolute Unix times. */
#define MM_CLOCK_REALTIME_MAXDELTA (60 * 60 * 24 * 30)

/* How far back the clock's origin is put, in seconds (memcached: 2). */
#define MM_CLOCK_START_OFFSET 2

void mm_clock_init(struct mm_clock *c);
/* Re-read the monotonic clock and update now. Called by the clock timer; now
 * never goes backwards. */
void mm_clock_update(struct mm_clock *c);
mm_reltime_t mm_clock_now(const struct mm_clock *c);
/* Unix time corresponding to "now" (started + now). */
time_t mm_clock_unix(const struct mm_clock *c);

/* Convert a client exptime (memcached rules) into a relative expiry:
 *   0            -> 0 (never expires)
 *   < 0          -> 1: already expired (a reltime in the past, never 0)
 *   <= 30 days   -> now + exptime (relative)
 *   > 30 days    -> absolute Unix time; at or before "started" it is 1
 *                   (expired); otherwise exptime - started, which is already
 *                   expired when it is <= now. Clamped to UINT32_MAX.
 * An item with exptime e (e != 0) is expired when e <= now. */
mm_reltime_t mm_clock_exptime(const struct mm_clock *c, int64_t exptime);

/* Whether a stored relative expiry has passed at now (0 never expires). */
static inline int
mm_clock_expired(mm_reltime_t exptime, mm_reltime_t now)
{
    return exptime != 0 && exptime <= now;
}

/* Test and tooling hook: start the clock at a given Unix time with now set to
 * now_rel. Not for use once the clock is shared. */
void mm_clock_init_at(struct mm_clock *c, time_t unix_started, mm_reltime_t now_rel);

#endif
