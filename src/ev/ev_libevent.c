/* The default backend: libevent's event_base (epoll on Linux) with plain
 * event_assign/event_add/event_del, one persistent event per watcher. Timers
 * stay in the shared heap in ev.c; libevent only sees one internal timeout
 * event that bounds each wait. No bufferevents, no evthread locking: each
 * base belongs to one thread. No libevent type leaves this file. */
#include "config.h"

#include "ev/ev_backend.h"

#include "mmem/alloc.h"
#include "mmem/log.h"

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

struct lev {
    struct event_base *base;
    struct event *timeout;   /* bounds a wait; its callback does nothing */
    uint64_t armed_deadline; /* when timeout fires; UINT64_MAX = far future */
    size_t event_size;       /* libevent's sizeof(struct event) */
    bool fresh;              /* now refreshed since the wait returned */
};

/* Per-watcher state (io->bk): the loop pointer lets a callback refresh the
 * cached clock, and the struct event follows in the same allocation
 * (event_assign) so a watcher costs one allocation, made on its first set. */
struct lev_watch {
    struct mm_ev_loop *loop;
    struct mm_ev_io *io;
    max_align_t ev[]; /* struct event, lv->event_size bytes */
};

/* libevent returns 1 from a loop with nothing registered instead of
 * blocking; keeping the timeout event always added makes an idle loop
 * block like poll(2) does. */
#define LEV_FAR_MS (3600u * 1000u)

static struct event *
watch_event(struct lev_watch *w)
{
    return (struct event *)(void *)w->ev;
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

static void
on_io(evutil_socket_t fd, short what, void *arg)
{
    struct lev_watch *w = arg;
    struct lev *lv = w->loop->bk_data;
    unsigned revents = 0;

    (void)fd;
    /* libevent gives no hook between its wait and its callbacks, so the
     * first callback of a batch refreshes the clock: a callback arming a
     * timer after a long idle wait must not start from a stale now. */
    if (!lv->fresh) {
        mm_ev_loop_update_now(w->loop);
        lv->fresh = true;
    }
    if (what & EV_READ) {
        revents |= MM_EV_READ;
    }
    if (what & EV_WRITE) {
        revents |= MM_EV_WRITE;
    }
    mm_ev_io_fire(w->io, revents);
}

/* libevent's own diagnostics (e.g. an epoll_ctl refusal, which io_set
 * already reports as -1) go to our log instead of stderr. */
static void
on_libevent_log(int severity, const char *msg)
{
    if (severity >= EVENT_LOG_ERR) {
        mm_log_warn("ev: libevent: %s", msg);
    } else {
        mm_log_debug("ev: libevent: %s", msg);
    }
}

static int
lev_init(struct mm_ev_loop *loop)
{
    struct event_config *cfg = event_config_new();
    struct lev *lv;

    if (cfg == NULL) {
        return -1;
    }
    /* Process-wide in libevent; setting the same function again from
     * another thread's loop is harmless. */
    event_set_log_callback(on_libevent_log);
    lv = mm_calloc(1, sizeof(*lv));
    /* One thread per base: no internal locking. */
    event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
    lv->base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (lv->base == NULL) {
        mm_log_error("ev: libevent: cannot create an event base");
        mm_free(lv);
        return -1;
    }
    lv->timeout = evtimer_new(lv->base, on_timeout, NULL);
    if (lv->timeout == NULL) {
        event_base_free(lv->base);
        mm_free(lv);
        return -1;
    }
    lv->armed_deadline = 0;
    lv->event_size = event_get_struct_event_size();
    loop->bk_data = lv;
    return 0;
}

static void
lev_fini(struct mm_ev_loop *loop)
{
    struct lev *lv = loop->bk_data;

    /* Watchers still set at this point leak their lev_watch: the contract
     * asks owners to clear first, and the io structs may already be gone. */
    event_free(lv->timeout);
    event_base_free(lv->base);
    mm_free(lv);
    loop->bk_data = NULL;
}

static int
lev_io_set(struct mm_ev_loop *loop, struct mm_ev_io *io, unsigned events)
{
    struct lev *lv = loop->bk_data;
    struct lev_watch *w = io->bk;
    short what = EV_PERSIST;

    if (events & MM_EV_READ) {
        what |= EV_READ;
    }
    if (events & MM_EV_WRITE) {
        what |= EV_WRITE;
    }
    if (w == NULL) {
        w = mm_malloc(sizeof(*w) + lv->event_size);
        w->loop = loop;
        w->io = io;
        io->bk = w;
    } else {
        /* libevent cannot change an added event's mask: take it out and
         * re-assign it. event_del also drops it from the active queue, so a
         * stale readiness from this batch is not delivered. */
        event_del(watch_event(w));
    }
    event_assign(watch_event(w), lv->base, io->fd, what, on_io, w);
    if (events != 0 && event_add(watch_event(w), NULL) != 0) {
        /* The fd was refused (e.g. a regular file under epoll): leave the
         * watcher registered but paused. */
        io->events = 0;
        return -1;
    }
    io->events = events;
    return 0;
}

static void
lev_io_clear(struct mm_ev_loop *loop, struct mm_ev_io *io)
{
    struct lev_watch *w = io->bk;

    (void)loop;
    if (w != NULL) {
        /* Safe on the event whose callback is running (libevent copies what
         * it needs before calling), and removes a sibling that is ready in
         * this batch from the active queue, so it is not called. */
        event_del(watch_event(w));
        mm_free(w);
        io->bk = NULL;
    }
}

static int
lev_poll(struct mm_ev_loop *loop, int timeout_ms)
{
    struct lev *lv = loop->bk_data;
    uint64_t deadline;
    int flags = EVLOOP_ONCE;

    if (timeout_ms == 0) {
        /* NONBLOCK alone keeps looping while anything is ready (and with
         * level-triggered writers something always is); ONCE ends it after
         * one batch. */
        flags = EVLOOP_ONCE | EVLOOP_NONBLOCK;
    } else {
        uint64_t wait = timeout_ms < 0 ? LEV_FAR_MS : (uint64_t)timeout_ms;

        /* Re-add the timeout only when the deadline moves: idle loops and
         * loops whose next timer is unchanged pay nothing. */
        deadline = loop->now + wait;
        if (timeout_ms < 0) {
            deadline = UINT64_MAX;
        }
        if (deadline != lv->armed_deadline || !evtimer_pending(lv->timeout, NULL)) {
            struct timeval tv = {
                .tv_sec = (time_t)(wait / 1000u),
                .tv_usec = (suseconds_t)((wait % 1000u) * 1000u),
            };

            evtimer_add(lv->timeout, &tv);
            lv->armed_deadline = deadline;
        }
    }
    lv->fresh = false;
    if (event_base_loop(lv->base, flags) < 0) {
        mm_ev_loop_update_now(loop);
        return -1;
    }
    /* For the timers that follow (the I/O callbacks refreshed it too). */
    mm_ev_loop_update_now(loop);
    return 0;
}

const struct mm_ev_backend mm_ev_backend_libevent = {
    .name = "libevent",
    .caps = MM_EV_CAP_SCALABLE,
    .init = lev_init,
    .fini = lev_fini,
    .io_set = lev_io_set,
    .io_clear = lev_io_clear,
    .poll = lev_poll,
};

const char *
mm_ev_libevent_version(void)
{
    return event_get_version();
}
