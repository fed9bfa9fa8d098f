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
 *    from the loop's owning thread.
 *  - Level-triggered. Callbacks may fire spuriously: handlers must tolerate
 *    EAGAIN.
 *  - A callback may change or clear any watcher, itself included, and watchers
 *    already reported ready in the same batch; backends re-check that a watcher
 *    still wants the event before calling it.
 *  - Clear a watcher before closing its fd.
 *  - Times are in milliseconds. */

#define MM_EV_READ 0x1u
#define MM_EV_WRITE 0x2u

struct mm_ev_loop;
struct mm_ev_io;
struct mm_ev_timer;

typedef void (*mm_ev_io_fn)(struct mm_ev_io *io, unsigned revents);
typedef void (*mm_ev_timer_fn)(struct mm_ev_timer *t);
typedef void (*mm_ev_hook_fn)(struct mm_ev_loop *loop, void *arg);

/* Embed in the owner's struct; fields are private to the backend. */
struct mm_ev_io {
    int fd;
    unsigned events;              /* currently wanted */
    mm_ev_io_fn cb;
    void *arg;
    void *bk;                     /* backend's per-watcher state */
    int bk_idx;
};

struct mm_ev_timer {
    uint64_t deadline;            /* monotonic ms */
    uint64_t every;               /* 0 = one-shot */
    mm_ev_timer_fn cb;
    void *arg;
    void *bk;
    size_t heap_idx;
};

/* Create a loop with the named backend (NULL = the default, "libevent").
 * Returns NULL if the backend is unknown or cannot start. */
struct mm_ev_loop *mm_ev_loop_create(const char *backend);
void mm_ev_loop_destroy(struct mm_ev_loop **loop);
const char *mm_ev_loop_backend(const struct mm_ev_loop *loop);

/* The names of the backends compiled in, NULL-terminated. */
const char *const *mm_ev_backends(void);
bool mm_ev_backend_exists(const char *name);

void mm_ev_io_init(struct mm_ev_io *io, int fd, mm_ev_io_fn cb, void *arg);
/* Set the wanted events (MM_EV_READ|MM_EV_WRITE; 0 pauses). Returns 0 or -1. */
int mm_ev_io_set(struct mm_ev_loop *loop, struct mm_ev_io *io, unsigned events);
/* Stop watching; safe on a watcher that was never set. */
void mm_ev_io_clear(struct mm_ev_loop *loop, struct mm_ev_io *io);

void mm_ev_timer_init(struct mm_ev_timer *t, mm_ev_timer_fn cb, void *arg);
/* Arm: fire after after_ms, then every every_ms if every_ms > 0. Re-arming
 * an armed timer moves it. */
void mm_ev_timer_start(struct mm_ev_loop *loop, struct mm_ev_timer *t,
                       uint64_t after_ms, uint64_t every_ms);
void mm_ev_timer_stop(struct mm_ev_loop *loop, struct mm_ev_timer *t);

/* Called once per loop iteration, just before the loop blocks (used to flush
 * pending output so that a pipelined batch leaves in one write). */
void mm_ev_loop_set_before_poll(struct mm_ev_loop *loop, mm_ev_hook_fn fn, void *arg);

/* Run until mm_ev_loop_stop(). Returns 0, or -1 on a backend error. */
int mm_ev_loop_run(struct mm_ev_loop *loop);
/* Make run() return after the current iteration. Loop thread only; other
 * threads use a wake watcher whose callback calls this. */
void mm_ev_loop_stop(struct mm_ev_loop *loop);

/* Monotonic milliseconds (cached per iteration where the backend can). */
uint64_t mm_ev_now_ms(struct mm_ev_loop *loop);

/* Cross-thread wake-up: an eventfd (pipe fallback) registered as an ordinary
 * read watcher on the loop. signal() may be called from any thread; the
 * callback runs on the loop's thread, once per one or more signals. */
struct mm_ev_wake;
typedef void (*mm_ev_wake_fn)(struct mm_ev_wake *w, void *arg);
struct mm_ev_wake *mm_ev_wake_create(struct mm_ev_loop *loop, mm_ev_wake_fn cb, void *arg);
void mm_ev_wake_destroy(struct mm_ev_wake **w);
void mm_ev_wake_signal(struct mm_ev_wake *w);

#endif
