#ifndef MMEM_EV_BACKEND_H
#define MMEM_EV_BACKEND_H

/* Private to src/ev: the backend table and the loop struct the backends and
 * the shared code in ev.c both see. Nothing outside src/ev includes this. */

#include "mmem/ev.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct mm_ev_backend {
    const char *name;
    unsigned caps; /* MM_EV_CAP_* */
    /* Set up loop->bk_data. Returns 0 or -1. */
    int (*init)(struct mm_ev_loop *loop);
    void (*fini)(struct mm_ev_loop *loop);
    /* Change io->events to events (which differs from io->events, or io is
     * not yet registered). Registers the watcher on first use. Returns 0,
     * or -1 with io unchanged. */
    int (*io_set)(struct mm_ev_loop *loop, struct mm_ev_io *io, unsigned events);
    /* Forget the watcher; io->bk / io->bk_idx tell whether it is known. */
    void (*io_clear)(struct mm_ev_loop *loop, struct mm_ev_io *io);
    /* Wait at most timeout_ms (-1 = no limit, 0 = poll), call
     * mm_ev_loop_update_now() as soon as the wait returns, then dispatch
     * every ready watcher through mm_ev_io_fire(). Returns 0 or -1. */
    int (*poll)(struct mm_ev_loop *loop, int timeout_ms);
};

extern const struct mm_ev_backend mm_ev_backend_libevent;
extern const struct mm_ev_backend mm_ev_backend_poll;
extern const struct mm_ev_backend mm_ev_backend_epoll; /* where sys/epoll.h exists */

struct mm_ev_loop {
    const struct mm_ev_backend *bk;
    void *bk_data;
    uint64_t now; /* cached monotonic ms */
    bool stop;
    bool running;
    pthread_t owner; /* valid while running; checked by assert() */
    mm_ev_hook_fn before_poll;
    void *before_poll_arg;
    struct mm_ev_timer **heap; /* min-heap on deadline */
    size_t nheap, heap_cap;
};

/* Refresh the cached now from the monotonic clock. */
void mm_ev_loop_update_now(struct mm_ev_loop *loop);

/* The one place a ready watcher is called: the re-check against what the
 * watcher wants now (a callback earlier in the batch may have paused or
 * changed it). The watcher must not be touched after this returns. */
static inline void
mm_ev_io_fire(struct mm_ev_io *io, unsigned revents)
{
    revents &= io->events;
    if (revents != 0) {
        io->cb(io, revents);
    }
}

#endif
