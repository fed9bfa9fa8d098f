/* The backend-independent half of the event loop: the registry of backends
 * (selected by name at run time), the loop's run/stop logic and before-poll
 * hook, the cached clock, and the timer min-heap every backend shares. It
 * does no I/O waiting itself: that is the backend's poll(). */
#include "config.h"

#include "ev/ev_backend.h"

#include "mmem/alloc.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* The first entry is the default. An optional backend adds itself here under
 * its configure conditional (the one #if per backend lives in this file).
 * epoll, where it exists, comes first: it measured less memory per
 * connection and fewer instructions per request than libevent
 * (doc/benchmarks.md); libevent is the default elsewhere. */
static const struct mm_ev_backend *const backends[] = {
#ifdef HAVE_SYS_EPOLL_H
    &mm_ev_backend_epoll,
#endif
    &mm_ev_backend_libevent,
    &mm_ev_backend_poll,
    NULL,
};

static const char *const backend_names[] = {
#ifdef HAVE_SYS_EPOLL_H
    "epoll",
#endif
    "libevent",
    "poll",
    NULL,
};

_Static_assert(sizeof(backends) / sizeof(backends[0]) ==
                   sizeof(backend_names) / sizeof(backend_names[0]),
               "backend tables must match");

static const struct mm_ev_backend *
find_backend(const char *name)
{
    size_t i;

    if (name == NULL) {
        return backends[0];
    }
    for (i = 0; backends[i] != NULL; i++) {
        if (strcmp(backends[i]->name, name) == 0) {
            return backends[i];
        }
    }
    return NULL;
}

/* Calls that must come from the loop's thread. Before the first run() the
 * creating thread sets the loop up, so only a running loop is checked. */
static inline void
assert_owner(const struct mm_ev_loop *loop)
{
    assert(!loop->running || pthread_equal(pthread_self(), loop->owner));
    (void)loop;
}

const char *const *
mm_ev_backends(void)
{
    return backend_names;
}

bool
mm_ev_backend_exists(const char *name)
{
    return name != NULL && find_backend(name) != NULL;
}

void
mm_ev_loop_update_now(struct mm_ev_loop *loop)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    loop->now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct mm_ev_loop *
mm_ev_loop_create(const char *backend)
{
    const struct mm_ev_backend *bk = find_backend(backend);
    struct mm_ev_loop *loop;

    if (bk == NULL) {
        return NULL;
    }
    loop = mm_calloc(1, sizeof(*loop));
    loop->bk = bk;
    mm_ev_loop_update_now(loop);
    if (bk->init(loop) != 0) {
        mm_free(loop);
        return NULL;
    }
    return loop;
}

void
mm_ev_loop_destroy(struct mm_ev_loop **loopp)
{
    struct mm_ev_loop *loop = *loopp;
    size_t i;

    if (loop == NULL) {
        return;
    }
    assert(!loop->running);
    /* Timers are embedded in their owners' structs: mark them disarmed so a
     * later mm_ev_timer_active() tells the truth. */
    for (i = 0; i < loop->nheap; i++) {
        loop->heap[i]->heap_idx = SIZE_MAX;
    }
    mm_free(loop->heap);
    loop->bk->fini(loop);
    mm_free(loop);
    *loopp = NULL;
}

const char *
mm_ev_loop_backend(const struct mm_ev_loop *loop)
{
    return loop->bk->name;
}

unsigned
mm_ev_loop_caps(const struct mm_ev_loop *loop)
{
    return loop->bk->caps;
}

void
mm_ev_io_init(struct mm_ev_io *io, int fd, mm_ev_io_fn cb, void *arg)
{
    io->fd = fd;
    io->events = 0;
    io->cb = cb;
    io->arg = arg;
    io->bk = NULL;
    io->bk_idx = -1;
}

int
mm_ev_io_set(struct mm_ev_loop *loop, struct mm_ev_io *io, unsigned events)
{
    assert_owner(loop);
    events &= MM_EV_READ | MM_EV_WRITE;
    /* The common case on the hot path (re-asserting READ) costs nothing. A
     * watcher never registered has bk NULL and bk_idx -1 in every backend. */
    if (events == io->events && (io->bk != NULL || io->bk_idx >= 0)) {
        return 0;
    }
    return loop->bk->io_set(loop, io, events);
}

void
mm_ev_io_clear(struct mm_ev_loop *loop, struct mm_ev_io *io)
{
    assert_owner(loop);
    if (io->bk != NULL || io->bk_idx >= 0) {
        loop->bk->io_clear(loop, io);
    }
    io->events = 0;
    io->bk = NULL;
    io->bk_idx = -1;
}

/* Timer heap: a binary min-heap of timer pointers ordered by deadline; each
 * timer knows its slot (heap_idx), so stop and re-arm are O(log n). */

static void
heap_place(struct mm_ev_loop *loop, size_t i, struct mm_ev_timer *t)
{
    loop->heap[i] = t;
    t->heap_idx = i;
}

static void
heap_up(struct mm_ev_loop *loop, size_t i)
{
    struct mm_ev_timer *t = loop->heap[i];

    while (i > 0) {
        size_t parent = (i - 1) / 2;

        if (loop->heap[parent]->deadline <= t->deadline) {
            break;
        }
        heap_place(loop, i, loop->heap[parent]);
        i = parent;
    }
    heap_place(loop, i, t);
}

static void
heap_down(struct mm_ev_loop *loop, size_t i)
{
    struct mm_ev_timer *t = loop->heap[i];

    for (;;) {
        size_t child = 2 * i + 1;

        if (child >= loop->nheap) {
            break;
        }
        if (child + 1 < loop->nheap &&
            loop->heap[child + 1]->deadline < loop->heap[child]->deadline) {
            child++;
        }
        if (t->deadline <= loop->heap[child]->deadline) {
            break;
        }
        heap_place(loop, i, loop->heap[child]);
        i = child;
    }
    heap_place(loop, i, t);
}

/* Restore the heap after the timer at slot i changed its deadline. */
static void
heap_fix(struct mm_ev_loop *loop, size_t i)
{
    if (i > 0 && loop->heap[(i - 1) / 2]->deadline > loop->heap[i]->deadline) {
        heap_up(loop, i);
    } else {
        heap_down(loop, i);
    }
}

static void
heap_remove(struct mm_ev_loop *loop, struct mm_ev_timer *t)
{
    size_t i = t->heap_idx;
    struct mm_ev_timer *last;

    t->heap_idx = SIZE_MAX;
    last = loop->heap[--loop->nheap];
    if (last != t) {
        heap_place(loop, i, last);
        heap_fix(loop, i);
    }
}

void
mm_ev_timer_init(struct mm_ev_timer *t, mm_ev_timer_fn cb, void *arg)
{
    t->deadline = 0;
    t->every = 0;
    t->cb = cb;
    t->arg = arg;
    t->bk = NULL;
    t->heap_idx = SIZE_MAX;
}

void
mm_ev_timer_start(struct mm_ev_loop *loop, struct mm_ev_timer *t, uint64_t after_ms,
                  uint64_t every_ms)
{
    assert_owner(loop);
    if (!loop->running) {
        /* Set-up code may run long after the last iteration. */
        mm_ev_loop_update_now(loop);
    }
    t->deadline = loop->now + after_ms;
    t->every = every_ms;
    if (t->heap_idx != SIZE_MAX) {
        heap_fix(loop, t->heap_idx);
        return;
    }
    if (loop->nheap == loop->heap_cap) {
        loop->heap_cap = loop->heap_cap ? loop->heap_cap * 2 : 8;
        loop->heap = mm_realloc(loop->heap, loop->heap_cap * sizeof(*loop->heap));
    }
    loop->nheap++;
    heap_place(loop, loop->nheap - 1, t);
    heap_up(loop, loop->nheap - 1);
}

void
mm_ev_timer_stop(struct mm_ev_loop *loop, struct mm_ev_timer *t)
{
    assert_owner(loop);
    if (t->heap_idx != SIZE_MAX) {
        heap_remove(loop, t);
    }
}

/* Milliseconds until the first deadline, capped at max_wait (-1 = none). */
static int
next_timeout(const struct mm_ev_loop *loop, int max_wait)
{
    uint64_t left;

    if (loop->nheap == 0) {
        return max_wait;
    }
    if (loop->heap[0]->deadline <= loop->now) {
        return 0;
    }
    left = loop->heap[0]->deadline - loop->now;
    if (left > INT32_MAX) {
        left = INT32_MAX;
    }
    if (max_wait >= 0 && (uint64_t)max_wait < left) {
        return max_wait;
    }
    return (int)left;
}

/* Fire the timers that are due. The pass is bounded by the number of timers
 * armed when it starts, so a callback that re-arms itself with a zero delay
 * cannot keep the loop from going back to I/O. */
static void
run_timers(struct mm_ev_loop *loop)
{
    size_t budget = loop->nheap;

    while (budget-- > 0 && loop->nheap > 0) {
        struct mm_ev_timer *t = loop->heap[0];

        if (t->deadline > loop->now) {
            break;
        }
        /* Re-arm or disarm before the callback: afterwards the timer may be
         * stopped, moved or freed, and must not be touched. */
        if (t->every > 0) {
            t->deadline += t->every;
            if (t->deadline <= loop->now) {
                t->deadline = loop->now + t->every;
            }
            heap_down(loop, 0);
        } else {
            heap_remove(loop, t);
        }
        t->cb(t);
    }
}

void
mm_ev_loop_set_before_poll(struct mm_ev_loop *loop, mm_ev_hook_fn fn, void *arg)
{
    assert_owner(loop);
    loop->before_poll = fn;
    loop->before_poll_arg = arg;
}

int
mm_ev_loop_run_once(struct mm_ev_loop *loop, int max_wait_ms)
{
    int timeout;

    if (loop->before_poll != NULL) {
        loop->before_poll(loop, loop->before_poll_arg);
    }
    /* The hook may have taken time (it writes to sockets). */
    mm_ev_loop_update_now(loop);
    timeout = next_timeout(loop, max_wait_ms);
    if (loop->stop && loop->running) {
        timeout = 0;
    }
    if (loop->bk->poll(loop, timeout) != 0) {
        return -1;
    }
    run_timers(loop);
    return 0;
}

int
mm_ev_loop_run(struct mm_ev_loop *loop)
{
    int rc = 0;

    assert(!loop->running);
    loop->owner = pthread_self();
    loop->running = true;
    loop->stop = false;
    while (!loop->stop) {
        rc = mm_ev_loop_run_once(loop, -1);
        if (rc != 0) {
            break;
        }
    }
    loop->running = false;
    loop->stop = false;
    return rc;
}

void
mm_ev_loop_stop(struct mm_ev_loop *loop)
{
    assert_owner(loop);
    loop->stop = true;
}

uint64_t
mm_ev_now_ms(struct mm_ev_loop *loop)
{
    return loop->now;
}
