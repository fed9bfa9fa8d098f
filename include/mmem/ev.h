#ifndef MMEM_EV_H
#define MMEM_EV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* mmem's event loop interface. Backends (libevent, poll, ...) live behind it;
 * no backend type appears outside its own file.
 *
 * Contract:
 *  - One loop per thread. Every call except mm_ev_wake_signal() must come
 *    from the loop's owning thread (the thread that runs it; set-up calls
 *    before the first run may come from the creating thread).
 *  - Level-triggered. Callbacks may fire spuriously: handlers must tolerate
 *    EAGAIN.
 *  - A callback may change or clear any watcher, itself included, and watchers
 *    already reported ready in the same batch; backends re-check that a watcher
 *    still wants the event before calling it, and never touch a watcher after
 *    its own callback returns (the owner may have cleared and freed it).
 *  - Clear a watcher before closing its fd, and before freeing the memory it
 *    is embedded in. Stop a timer before freeing it.
 *  - Times are in milliseconds, from a monotonic clock. */

#define MM_EV_READ 0x1u
#define MM_EV_WRITE 0x2u

/* Capability bits of a backend (mm_ev_loop_caps()). */
#define MM_EV_CAP_SCALABLE 0x1u /* a wait costs O(ready), not O(watched) */

struct mm_ev_loop;
struct mm_ev_io;
struct mm_ev_timer;

typedef void (*mm_ev_io_fn)(struct mm_ev_io *io, unsigned revents);
typedef void (*mm_ev_timer_fn)(struct mm_ev_timer *t);
typedef void (*mm_ev_hook_fn)(struct mm_ev_loop *loop, void *arg);

/* Embed in the owner's struct; fields are private to the loop, except arg,
 * which the owner may read and set. */
struct mm_ev_io {
    int fd;
    unsigned events; /* currently wanted */
    mm_ev_io_fn cb;
    void *arg;
    void *bk; /* backend's per-watcher state */
    int bk_idx;
};

struct mm_ev_timer {
    uint64_t deadline; /* monotonic ms */
    uint64_t every;    /* 0 = one-shot */
    mm_ev_timer_fn cb;
    void *arg;
    void *bk;
    size_t heap_idx; /* SIZE_MAX while not armed */
};

/* Create a loop with the named backend (NULL = the default, "libevent").
 * Returns NULL if the backend is unknown or cannot start. */
struct mm_ev_loop *mm_ev_loop_create(const char *backend);
/* Destroy a loop that is not running. Watchers still set are forgotten (their
 * owners must not use them with this loop again); the pointer is set NULL. */
void mm_ev_loop_destroy(struct mm_ev_loop **loop);
const char *mm_ev_loop_backend(const struct mm_ev_loop *loop);
/* The MM_EV_CAP_* bits of the loop's backend. */
unsigned mm_ev_loop_caps(const struct mm_ev_loop *loop);

/* The names of the backends compiled in, NULL-terminated; the first is the
 * default. */
const char *const *mm_ev_backends(void);
/* The libevent library's version string ("2.1.12-stable"), reported as
 * "STAT libevent" as memcached does; the library is always linked. */
const char *mm_ev_libevent_version(void);
bool mm_ev_backend_exists(const char *name);

void mm_ev_io_init(struct mm_ev_io *io, int fd, mm_ev_io_fn cb, void *arg);
/* Set the wanted events (MM_EV_READ|MM_EV_WRITE; 0 pauses but keeps the
 * registration). Returns 0, or -1 if the backend refused the fd. Setting the
 * events already wanted is a cheap no-op. */
int mm_ev_io_set(struct mm_ev_loop *loop, struct mm_ev_io *io, unsigned events);
/* Stop watching and release backend state; safe on a watcher that was never
 * set or is already clear. After it returns the watcher's memory may be
 * freed, even from inside any callback. */
void mm_ev_io_clear(struct mm_ev_loop *loop, struct mm_ev_io *io);

static inline unsigned
mm_ev_io_events(const struct mm_ev_io *io)
{
    return io->events;
}

void mm_ev_timer_init(struct mm_ev_timer *t, mm_ev_timer_fn cb, void *arg);
/* Arm: fire after after_ms, then every every_ms if every_ms > 0. Re-arming
 * an armed timer moves it. The start time is the loop's cached now. A
 * periodic timer that falls behind skips the missed ticks rather than
 * firing in a burst. A callback may stop, re-arm or stop-and-free its own
 * timer (a periodic timer is re-armed before its callback runs). */
void mm_ev_timer_start(struct mm_ev_loop *loop, struct mm_ev_timer *t, uint64_t after_ms,
                       uint64_t every_ms);
/* Disarm; safe on a timer that is not armed. */
void mm_ev_timer_stop(struct mm_ev_loop *loop, struct mm_ev_timer *t);

static inline bool
mm_ev_timer_active(const struct mm_ev_timer *t)
{
    return t->heap_idx != SIZE_MAX;
}

/* Called once per loop iteration, just before the loop blocks (used to flush
 * pending output so that a pipelined batch leaves in one write). fn NULL
 * removes the hook. */
void mm_ev_loop_set_before_poll(struct mm_ev_loop *loop, mm_ev_hook_fn fn, void *arg);

/* Run until mm_ev_loop_stop(). Returns 0, or -1 on a backend error. A stop
 * requested before run() is called is forgotten: run() always starts fresh. */
int mm_ev_loop_run(struct mm_ev_loop *loop);
/* One iteration: the before-poll hook, a wait of at most max_wait_ms (-1 =
 * until something happens, 0 = do not block), ready I/O callbacks, then due
 * timers. Returns 0, or -1 on a backend error. For tests and for embedding. */
int mm_ev_loop_run_once(struct mm_ev_loop *loop, int max_wait_ms);
/* Make run() return after the current iteration. Loop thread only; other
 * threads use a wake watcher whose callback calls this. */
void mm_ev_loop_stop(struct mm_ev_loop *loop);

/* Monotonic milliseconds, cached once per iteration (after the wait). */
uint64_t mm_ev_now_ms(struct mm_ev_loop *loop);

/* Cross-thread wake-up: an eventfd (pipe fallback) registered as an ordinary
 * read watcher on the loop. signal() may be called from any thread; the
 * callback runs on the loop's thread, once per one or more signals: every
 * signal is followed by at least one callback that starts after it. Create
 * and destroy on the loop's thread. */
struct mm_ev_wake;
typedef void (*mm_ev_wake_fn)(struct mm_ev_wake *w, void *arg);
struct mm_ev_wake *mm_ev_wake_create(struct mm_ev_loop *loop, mm_ev_wake_fn cb, void *arg);
void mm_ev_wake_destroy(struct mm_ev_wake **w);
void mm_ev_wake_signal(struct mm_ev_wake *w);

#endif
