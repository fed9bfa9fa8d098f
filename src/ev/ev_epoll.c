/* A native epoll(7) backend, level-triggered like the others: the kernel
 * keeps the interest set and each event carries the watcher pointer, so a
 * watcher costs no memory here and a wait costs O(ready). A watcher paused
 * with no events is taken out of the set (epoll would still report hang-ups
 * on it). Selected with -o ev_backend=epoll. */
#include "config.h"

#include "ev/ev_backend.h"

#include "mmem/alloc.h"
#include "mmem/log.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* io->bk_idx: -1 unknown to the backend, 0 known but out of the kernel set
 * (paused), 1 in the kernel set. */
#define EP_PAUSED 0
#define EP_ADDED 1

#define EP_EVENTS_MIN 64
#define EP_EVENTS_MAX 4096

struct epbk {
    int epfd;
    struct epoll_event *ev; /* the batch being dispatched */
    int cap;
    int next; /* first entry of ev not dispatched yet */
    int n;    /* entries in the batch */
};

static int
ep_init(struct mm_ev_loop *loop)
{
    struct epbk *ep;
    int fd = epoll_create1(EPOLL_CLOEXEC);

    if (fd < 0) {
        mm_log_error("ev: epoll_create1: %s", strerror(errno));
        return -1;
    }
    ep = mm_calloc(1, sizeof(*ep));
    ep->epfd = fd;
    ep->cap = EP_EVENTS_MIN;
    ep->ev = mm_malloc((size_t)ep->cap * sizeof(*ep->ev));
    loop->bk_data = ep;
    return 0;
}

static void
ep_fini(struct mm_ev_loop *loop)
{
    struct epbk *ep = loop->bk_data;

    close(ep->epfd);
    mm_free(ep->ev);
    mm_free(ep);
    loop->bk_data = NULL;
}

static uint32_t
ep_mask(unsigned events)
{
    uint32_t m = 0;

    if (events & MM_EV_READ) {
        m |= EPOLLIN;
    }
    if (events & MM_EV_WRITE) {
        m |= EPOLLOUT;
    }
    return m;
}

static int
ep_io_set(struct mm_ev_loop *loop, struct mm_ev_io *io, unsigned events)
{
    struct epbk *ep = loop->bk_data;
    struct epoll_event e;
    int op;

    if (events == 0) {
        if (io->bk_idx == EP_ADDED) {
            /* Only fails for an fd already closed, which the contract
             * forbids; the watcher is paused either way. */
            (void)epoll_ctl(ep->epfd, EPOLL_CTL_DEL, io->fd, NULL);
        }
        io->bk_idx = EP_PAUSED;
        io->events = 0;
        return 0;
    }
    op = io->bk_idx == EP_ADDED ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    e.events = ep_mask(events);
    e.data.ptr = io;
    if (epoll_ctl(ep->epfd, op, io->fd, &e) != 0) {
        return -1;
    }
    io->bk_idx = EP_ADDED;
    io->events = events;
    return 0;
}

static void
ep_io_clear(struct mm_ev_loop *loop, struct mm_ev_io *io)
{
    struct epbk *ep = loop->bk_data;
    int i;

    if (io->bk_idx == EP_ADDED) {
        (void)epoll_ctl(ep->epfd, EPOLL_CTL_DEL, io->fd, NULL);
    }
    io->bk_idx = -1;
    /* The watcher may be freed as soon as this returns: forget it in the
     * rest of the batch being dispatched. */
    for (i = ep->next; i < ep->n; i++) {
        if (ep->ev[i].data.ptr == io) {
            ep->ev[i].data.ptr = NULL;
        }
    }
}

static int
ep_poll(struct mm_ev_loop *loop, int timeout_ms)
{
    struct epbk *ep = loop->bk_data;
    int n;

    n = epoll_wait(ep->epfd, ep->ev, ep->cap, timeout_ms);
    mm_ev_loop_update_now(loop);
    if (n < 0) {
        return errno == EINTR ? 0 : -1;
    }
    ep->n = n;
    for (ep->next = 0; ep->next < ep->n;) {
        struct epoll_event *e = &ep->ev[ep->next++];
        struct mm_ev_io *io = e->data.ptr;
        unsigned revents = 0;

        if (io == NULL) {
            continue;
        }
        if (e->events & EPOLLIN) {
            revents |= MM_EV_READ;
        }
        if (e->events & EPOLLOUT) {
            revents |= MM_EV_WRITE;
        }
        /* Errors and hang-ups go to whatever the watcher wants, so that its
         * read or write sees the condition. */
        if (e->events & (EPOLLERR | EPOLLHUP)) {
            revents |= MM_EV_READ | MM_EV_WRITE;
        }
        mm_ev_io_fire(io, revents);
    }
    ep->n = 0;
    ep->next = 0;
    if (n == ep->cap && ep->cap < EP_EVENTS_MAX) {
        /* A full batch: more may have been ready. */
        ep->cap *= 2;
        ep->ev = mm_realloc(ep->ev, (size_t)ep->cap * sizeof(*ep->ev));
    }
    return 0;
}

const struct mm_ev_backend mm_ev_backend_epoll = {
    .name = "epoll",
    .caps = MM_EV_CAP_SCALABLE,
    .init = ep_init,
    .fini = ep_fini,
    .io_set = ep_io_set,
    .io_clear = ep_io_clear,
    .poll = ep_poll,
};
