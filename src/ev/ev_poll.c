/* A poll(2) backend: two parallel arrays (pollfd and watcher pointers), one
 * slot per registered watcher. It exists to keep the interface honest and to
 * run the loop tests twice; it scans every watcher per wait, so it is not
 * meant for thousands of connections. Selected with -o ev_backend=poll. */
#include "config.h"

#include "ev/ev_backend.h"

#include "mmem/alloc.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>

struct pollbk {
    struct pollfd *pfd;
    struct mm_ev_io **ios; /* NULL in a slot cleared since the last wait */
    size_t n, cap;
    size_t holes; /* cleared slots awaiting compaction */
};

static int
pb_init(struct mm_ev_loop *loop)
{
    loop->bk_data = mm_calloc(1, sizeof(struct pollbk));
    return 0;
}

static void
pb_fini(struct mm_ev_loop *loop)
{
    struct pollbk *pb = loop->bk_data;

    mm_free(pb->pfd);
    mm_free(pb->ios);
    mm_free(pb);
    loop->bk_data = NULL;
}

static short
poll_mask(int fd, unsigned events, int *pfd_fd)
{
    short m = 0;

    if (events & MM_EV_READ) {
        m |= POLLIN;
    }
    if (events & MM_EV_WRITE) {
        m |= POLLOUT;
    }
    /* poll(2) skips negative fds, which is how a paused watcher keeps its
     * slot without being woken by POLLHUP. */
    *pfd_fd = events != 0 ? fd : -1;
    return m;
}

static int
pb_io_set(struct mm_ev_loop *loop, struct mm_ev_io *io, unsigned events)
{
    struct pollbk *pb = loop->bk_data;
    size_t i;

    if (io->bk_idx < 0) {
        if (pb->n == pb->cap) {
            pb->cap = pb->cap ? pb->cap * 2 : 16;
            pb->pfd = mm_realloc(pb->pfd, pb->cap * sizeof(*pb->pfd));
            pb->ios = mm_realloc(pb->ios, pb->cap * sizeof(*pb->ios));
        }
        i = pb->n++;
        pb->ios[i] = io;
        /* A slot added during dispatch must not inherit stale readiness. */
        pb->pfd[i].revents = 0;
        io->bk_idx = (int)i;
    }
    i = (size_t)io->bk_idx;
    pb->pfd[i].events = poll_mask(io->fd, events, &pb->pfd[i].fd);
    io->events = events;
    return 0;
}

static void
pb_io_clear(struct mm_ev_loop *loop, struct mm_ev_io *io)
{
    struct pollbk *pb = loop->bk_data;
    size_t i = (size_t)io->bk_idx;

    if (io->bk_idx < 0) {
        return;
    }
    /* Leave a hole rather than moving another watcher into this slot: a
     * dispatch pass may be walking the array right now. */
    pb->ios[i] = NULL;
    pb->pfd[i].fd = -1;
    pb->pfd[i].revents = 0;
    pb->holes++;
    io->bk_idx = -1;
}

static void
compact(struct pollbk *pb)
{
    size_t i, j = 0;

    for (i = 0; i < pb->n; i++) {
        if (pb->ios[i] == NULL) {
            continue;
        }
        if (i != j) {
            pb->ios[j] = pb->ios[i];
            pb->pfd[j] = pb->pfd[i];
            pb->ios[j]->bk_idx = (int)j;
        }
        j++;
    }
    pb->n = j;
    pb->holes = 0;
}

static int
pb_poll(struct mm_ev_loop *loop, int timeout_ms)
{
    struct pollbk *pb = loop->bk_data;
    size_t i, limit;
    int nready;

    if (pb->holes > 0) {
        compact(pb);
    }
    nready = poll(pb->pfd, (nfds_t)pb->n, timeout_ms);
    mm_ev_loop_update_now(loop);
    if (nready < 0) {
        return errno == EINTR ? 0 : -1;
    }
    /* Slots appended by callbacks (index >= limit) wait for the next poll;
     * cleared slots read as NULL. The arrays may be reallocated by a
     * callback, so they are indexed afresh each time round. */
    limit = pb->n;
    for (i = 0; i < limit && nready > 0; i++) {
        short r = pb->pfd[i].revents;
        struct mm_ev_io *io = pb->ios[i];
        unsigned revents = 0;

        if (r == 0) {
            continue;
        }
        nready--;
        pb->pfd[i].revents = 0;
        if (io == NULL) {
            continue;
        }
        if (r & POLLIN) {
            revents |= MM_EV_READ;
        }
        if (r & POLLOUT) {
            revents |= MM_EV_WRITE;
        }
        /* Errors and hang-ups are reported as whatever the watcher wants,
         * so that its read or write sees the condition. */
        if (r & (POLLERR | POLLHUP | POLLNVAL)) {
            revents |= MM_EV_READ | MM_EV_WRITE;
        }
        mm_ev_io_fire(io, revents);
    }
    return 0;
}

const struct mm_ev_backend mm_ev_backend_poll = {
    .name = "poll",
    .caps = 0,
    .init = pb_init,
    .fini = pb_fini,
    .io_set = pb_io_set,
    .io_clear = pb_io_clear,
    .poll = pb_poll,
};
