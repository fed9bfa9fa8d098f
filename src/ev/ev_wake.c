/* Cross-thread wake-up for a loop: an eventfd (or, where there is none, a
 * non-blocking pipe) watched as an ordinary read watcher, so it works on any
 * backend. Signals are coalesced with an atomic flag: only the first signal
 * after a callback costs a write(2). */
#include "config.h"

#include "mmem/ev.h"

#include "mmem/alloc.h"
#include "mmem/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>
#ifdef HAVE_SYS_EVENTFD_H
#include <sys/eventfd.h>
#endif

struct mm_ev_wake {
    struct mm_ev_loop *loop;
    struct mm_ev_io io;
    int rfd, wfd; /* the same fd for an eventfd */
    int pending;  /* atomic: a write is in flight and no callback ran yet */
    mm_ev_wake_fn cb;
    void *arg;
};

static int
open_pipe(int fds[2])
{
#ifdef HAVE_PIPE2
    return pipe2(fds, O_NONBLOCK | O_CLOEXEC);
#else
    int i;

    if (pipe(fds) != 0) {
        return -1;
    }
    for (i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    return 0;
#endif
}

static int
open_fds(struct mm_ev_wake *w)
{
    int fds[2];

#ifdef HAVE_SYS_EVENTFD_H
    w->rfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->rfd >= 0) {
        w->wfd = w->rfd;
        return 0;
    }
#endif
    if (open_pipe(fds) != 0) {
        return -1;
    }
    w->rfd = fds[0];
    w->wfd = fds[1];
    return 0;
}

static void
drain(struct mm_ev_wake *w)
{
    char buf[64];

    /* One read empties an eventfd; a pipe may hold several bytes if a
     * signal raced with an earlier drain. */
    for (;;) {
        ssize_t n = read(w->rfd, buf, sizeof(buf));

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0 || w->rfd == w->wfd || (size_t)n < sizeof(buf)) {
            break;
        }
    }
}

static void
on_readable(struct mm_ev_io *io, unsigned revents)
{
    struct mm_ev_wake *w = io->arg;

    (void)revents;
    drain(w);
    /* Clear the flag before the callback, with acquire semantics: a signal
     * that saw the flag set (and so did not write) published its data
     * before our exchange, so the callback sees it; a later signal writes
     * again and wakes us once more. */
    if (__atomic_exchange_n(&w->pending, 0, __ATOMIC_ACQ_REL) == 0) {
        /* Spurious: nothing was signalled since the last callback. */
        return;
    }
    w->cb(w, w->arg);
}

struct mm_ev_wake *
mm_ev_wake_create(struct mm_ev_loop *loop, mm_ev_wake_fn cb, void *arg)
{
    struct mm_ev_wake *w = mm_calloc(1, sizeof(*w));

    if (open_fds(w) != 0) {
        mm_log_error("ev: cannot create a wake-up fd: errno %d", errno);
        mm_free(w);
        return NULL;
    }
    w->loop = loop;
    w->cb = cb;
    w->arg = arg;
    mm_ev_io_init(&w->io, w->rfd, on_readable, w);
    if (mm_ev_io_set(loop, &w->io, MM_EV_READ) != 0) {
        mm_ev_wake_destroy(&w);
        return NULL;
    }
    return w;
}

void
mm_ev_wake_destroy(struct mm_ev_wake **wp)
{
    struct mm_ev_wake *w = *wp;

    if (w == NULL) {
        return;
    }
    mm_ev_io_clear(w->loop, &w->io);
    if (w->wfd != w->rfd) {
        close(w->wfd);
    }
    close(w->rfd);
    mm_free(w);
    *wp = NULL;
}

void
mm_ev_wake_signal(struct mm_ev_wake *w)
{
    static const uint64_t one = 1;
    ssize_t n;

    /* Release: whatever the caller published before signalling is visible
     * to the callback that consumes this flag. */
    if (__atomic_exchange_n(&w->pending, 1, __ATOMIC_ACQ_REL) != 0) {
        return;
    }
    /* An eventfd takes 8 bytes; a pipe just needs one byte. EAGAIN (a full
     * pipe or a saturated counter) means a wake-up is already queued. */
    do {
        n = write(w->wfd, &one, w->wfd == w->rfd ? sizeof(one) : 1);
    } while (n < 0 && errno == EINTR);
}
