/* Process-relative seconds and memcached's exptime rules. The clock is read
 * on every request, so a read is one relaxed atomic load; the owner updates
 * it once a second from a timer. It does not own that timer (core does not
 * know the event loop). */
#include "config.h"

#include "mmem/clock.h"

static time_t
mono_seconds(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        /* CLOCK_MONOTONIC cannot fail on Linux; fall back to wall time. */
        return time(NULL);
    }
    return ts.tv_sec;
}

void
mm_clock_init(struct mm_clock *c)
{
    c->started = time(NULL) - MM_CLOCK_START_OFFSET;
    c->mono_start = mono_seconds() - MM_CLOCK_START_OFFSET;
    __atomic_store_n(&c->now, (uint32_t)MM_CLOCK_START_OFFSET, __ATOMIC_RELAXED);
}

void
mm_clock_init_at(struct mm_clock *c, time_t unix_started, mm_reltime_t now_rel)
{
    c->started = unix_started;
    c->mono_start = mono_seconds() - (time_t)now_rel;
    __atomic_store_n(&c->now, now_rel, __ATOMIC_RELAXED);
}

void
mm_clock_update(struct mm_clock *c)
{
    time_t delta = mono_seconds() - c->mono_start;
    uint32_t old = __atomic_load_n(&c->now, __ATOMIC_RELAXED);

    if (delta < 0) {
        delta = 0;
    }
    /* Only the owner writes, so a plain compare is enough to stay monotonic. */
    if ((uint64_t)delta > old) {
        __atomic_store_n(&c->now, (uint32_t)delta, __ATOMIC_RELAXED);
    }
}

mm_reltime_t
mm_clock_now(const struct mm_clock *c)
{
    return __atomic_load_n(&c->now, __ATOMIC_RELAXED);
}

time_t
mm_clock_unix(const struct mm_clock *c)
{
    return c->started + (time_t)mm_clock_now(c);
}

mm_reltime_t
mm_clock_exptime(const struct mm_clock *c, int64_t exptime)
{
    uint64_t rel;

    if (exptime == 0) {
        return 0;
    }
    if (exptime < 0) {
        /* memcached turns a negative exptime into an absolute time long
         * before start-up, which maps to 1: expired, yet not "never". */
        return 1;
    }
    if (exptime > MM_CLOCK_REALTIME_MAXDELTA) {
        if (exptime <= (int64_t)c->started) {
            return 1;
        }
        rel = (uint64_t)(exptime - (int64_t)c->started);
    } else {
        rel = (uint64_t)exptime + mm_clock_now(c);
    }
    /* memcached truncates here; saturating keeps a far-future time far. */
    return rel > UINT32_MAX ? UINT32_MAX : (mm_reltime_t)rel;
}
