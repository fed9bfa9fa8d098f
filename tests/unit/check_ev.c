/* Unit tests for the event loop. Every loop test runs once per backend that
 * is compiled in (the loop index selects the backend), so the backends are
 * held to the same contract: readiness, pausing, timers, watchers cleared
 * from callbacks, cross-thread wake-ups and the before-poll hook. */
#include "config.h"

#include "mmem/ev.h"

#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Every run() is bounded by this guard timer; a test that needs it failed. */
#define GUARD_MS 5000

static const char *
bk_name(int i)
{
    return mm_ev_backends()[i];
}

static int
backend_count(void)
{
    int n = 0;

    while (mm_ev_backends()[n] != NULL) {
        n++;
    }
    return n;
}

struct guard {
    struct mm_ev_timer t;
    struct mm_ev_loop *loop;
    bool fired;
};

static void
on_guard(struct mm_ev_timer *t)
{
    struct guard *g = t->arg;

    g->fired = true;
    mm_ev_loop_stop(g->loop);
}

static void
guard_start(struct guard *g, struct mm_ev_loop *loop)
{
    g->loop = loop;
    g->fired = false;
    mm_ev_timer_init(&g->t, on_guard, g);
    mm_ev_timer_start(loop, &g->t, GUARD_MS, 0);
}

static void
guard_stop(struct guard *g)
{
    mm_ev_timer_stop(g->loop, &g->t);
    ck_assert_msg(!g->fired, "the guard timer fired: the loop did not stop by itself");
}

static void
make_pair(int sv[2])
{
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
}

static void
close_pair(int sv[2])
{
    close(sv[0]);
    close(sv[1]);
}

static struct mm_ev_loop *
new_loop(int i)
{
    struct mm_ev_loop *loop = mm_ev_loop_create(bk_name(i));

    ck_assert_ptr_nonnull(loop);
    ck_assert_str_eq(mm_ev_loop_backend(loop), bk_name(i));
    return loop;
}

/* A watcher that records what it saw. */
struct rec {
    struct mm_ev_io io;
    struct mm_ev_loop *loop;
    int calls;
    unsigned last;
    ssize_t got;
    char buf[32];
    bool stop;    /* stop the loop from the callback */
    bool do_read; /* read what is there */
};

static void
on_rec(struct mm_ev_io *io, unsigned revents)
{
    struct rec *r = io->arg;

    r->calls++;
    r->last = revents;
    if (r->do_read && (revents & MM_EV_READ)) {
        r->got = read(io->fd, r->buf, sizeof(r->buf));
    }
    if (r->stop) {
        mm_ev_loop_stop(r->loop);
    }
}

static void
rec_init(struct rec *r, struct mm_ev_loop *loop, int fd)
{
    memset(r, 0, sizeof(*r));
    r->loop = loop;
    mm_ev_io_init(&r->io, fd, on_rec, r);
}

START_TEST(test_registry)
{
    const char *const *names = mm_ev_backends();
    struct mm_ev_loop *loop;
    bool have_poll = false;
    int i;

    ck_assert_ptr_nonnull(names[0]);
    /* epoll is the default where it is built, libevent elsewhere. */
    ck_assert_str_eq(names[0], mm_ev_backend_exists("epoll") ? "epoll" : "libevent");
    for (i = 0; names[i] != NULL; i++) {
        ck_assert(mm_ev_backend_exists(names[i]));
        have_poll = have_poll || strcmp(names[i], "poll") == 0;
    }
    ck_assert(have_poll);
    ck_assert(!mm_ev_backend_exists("nope"));
    ck_assert(!mm_ev_backend_exists(NULL));
    ck_assert(!mm_ev_backend_exists(""));
    ck_assert_ptr_null(mm_ev_loop_create("nope"));
    ck_assert_ptr_null(mm_ev_loop_create("LIBEVENT"));

    loop = mm_ev_loop_create(NULL);
    ck_assert_ptr_nonnull(loop);
    ck_assert_str_eq(mm_ev_loop_backend(loop), names[0]);
    ck_assert_uint_eq(mm_ev_loop_caps(loop) & MM_EV_CAP_SCALABLE, MM_EV_CAP_SCALABLE);
    mm_ev_loop_destroy(&loop);
    ck_assert_ptr_null(loop);
    mm_ev_loop_destroy(&loop); /* NULL is fine */

    loop = mm_ev_loop_create("poll");
    ck_assert_ptr_nonnull(loop);
    ck_assert_uint_eq(mm_ev_loop_caps(loop) & MM_EV_CAP_SCALABLE, 0);
    mm_ev_loop_destroy(&loop);

    /* The library version memcached reports as "STAT libevent". */
    ck_assert_ptr_nonnull(mm_ev_libevent_version());
    ck_assert_int_eq(strncmp(mm_ev_libevent_version(), "2.", 2), 0);
}
END_TEST

START_TEST(test_read_ready)
{
    struct mm_ev_loop *loop = new_loop(_i);
    struct guard g;
    struct rec r;
    int sv[2];

    make_pair(sv);
    rec_init(&r, loop, sv[0]);
    r.stop = true;
    r.do_read = true;
    ck_assert_int_eq(mm_ev_io_set(loop, &r.io, MM_EV_READ), 0);
    ck_assert_uint_eq(mm_ev_io_events(&r.io), MM_EV_READ);

    /* Nothing to read yet. */
    ck_assert_int_eq(mm_ev_loop_run_once(loop, 0), 0);
    ck_assert_int_eq(r.calls, 0);

    ck_assert_int_eq(write(sv[1], "hello", 5), 5);
    guard_start(&g, loop);
    ck_assert_int_eq(mm_ev_loop_run(loop), 0);
    guard_stop(&g);
    ck_assert_int_eq(r.calls, 1);
    ck_assert_uint_eq(r.last, MM_EV_READ);
    ck_assert_int_eq(r.got, 5);
    ck_assert_int_eq(memcmp(r.buf, "hello", 5), 0);

    /* Drained: no further callback. */
    ck_assert_int_eq(mm_ev_loop_run_once(loop, 20), 0);
    ck_assert_int_eq(r.calls, 1);

    /* Level-triggered: unread data is reported again and again. */
    r.do_read = false;
    r.stop = false;
    ck_assert_int_eq(write(sv[1], "x", 1), 1);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, -1), 0);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, -1), 0);
    ck_assert_int_eq(r.calls, 3);

    mm_ev_io_clear(loop, &r.io);
    mm_ev_loop_destroy(&loop);
    close_pair(sv);
}
END_TEST

START_TEST(test_write_ready)
{
    struct mm_ev_loop *loop = new_loop(_i);
    struct rec r;
    int sv[2];

    make_pair(sv);
    rec_init(&r, loop, sv[0]);
    ck_assert_int_eq(mm_ev_io_set(loop, &r.io, MM_EV_WRITE), 0);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, -1), 0);
    ck_assert_int_eq(r.calls, 1);
    ck_assert_uint_eq(r.last, MM_EV_WRITE);

    /* Both wanted, only writable: only WRITE is reported. */
    ck_assert_int_eq(mm_ev_io_set(loop, &r.io, MM_EV_READ | MM_EV_WRITE), 0);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, -1), 0);
    ck_assert_int_eq(r.calls, 2);
    ck_assert_uint_eq(r.last, MM_EV_WRITE);

    /* Readable and writable, both wanted: both bits, one call. */
    ck_assert_int_eq(write(sv[1], "x", 1), 1);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, -1), 0);
    ck_assert_int_eq(r.calls, 3);
    ck_assert_uint_eq(r.last, MM_EV_READ | MM_EV_WRITE);

    /* Back to READ only: WRITE is no longer reported. */
    ck_assert_int_eq(mm_ev_io_set(loop, &r.io, MM_EV_READ), 0);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, -1), 0);
    ck_assert_int_eq(r.calls, 4);
    ck_assert_uint_eq(r.last, MM_EV_READ);

    mm_ev_io_clear(loop, &r.io);
    mm_ev_loop_destroy(&loop);
    close_pair(sv);
}
END_TEST

START_TEST(test_pause)
{
    struct mm_ev_loop *loop = new_loop(_i);
    struct rec r;
    int sv[2];

    make_pair(sv);
    rec_init(&r, loop, sv[0]);
    ck_assert_int_eq(write(sv[1], "abc", 3), 3);
    ck_assert_int_eq(mm_ev_io_set(loop, &r.io, MM_EV_READ), 0);
    ck_assert_int_eq(mm_ev_io_set(loop, &r.io, 0), 0);
    ck_assert_uint_eq(mm_ev_io_events(&r.io), 0);

    /* Readable but paused: nothing, even across several waits. */
    ck_assert_int_eq(mm_ev_loop_run_once(loop, 30), 0);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, 0), 0);
    ck_assert_int_eq(r.calls, 0);

    /* A paused watcher whose peer hangs up stays quiet too. */
    close(sv[1]);
    sv[1] = -1;
    ck_assert_int_eq(mm_ev_loop_run_once(loop, 20), 0);
    ck_assert_int_eq(r.calls, 0);

    /* Resumed: the pending data (and EOF) is reported. */
    ck_assert_int_eq(mm_ev_io_set(loop, &r.io, MM_EV_READ), 0);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, -1), 0);
    ck_assert_int_eq(r.calls, 1);
    ck_assert_uint_eq(r.last & MM_EV_READ, MM_EV_READ);

    /* Setting the same events again changes nothing. */
    ck_assert_int_eq(mm_ev_io_set(loop, &r.io, MM_EV_READ), 0);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, -1), 0);
    ck_assert_int_eq(r.calls, 2);

    mm_ev_io_clear(loop, &r.io);
    mm_ev_loop_destroy(&loop);
    close(sv[0]);
}
END_TEST

START_TEST(test_eof)
{
    struct mm_ev_loop *loop = new_loop(_i);
    struct rec r;
    int sv[2];

    make_pair(sv);
    rec_init(&r, loop, sv[0]);
    r.do_read = true;
    ck_assert_int_eq(mm_ev_io_set(loop, &r.io, MM_EV_READ), 0);
    close(sv[1]);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, -1), 0);
    ck_assert_int_eq(r.calls, 1);
    ck_assert_uint_eq(r.last & MM_EV_READ, MM_EV_READ);
    ck_assert_int_eq(r.got, 0);
    mm_ev_io_clear(loop, &r.io);
    mm_ev_loop_destroy(&loop);
    close(sv[0]);
}
END_TEST

START_TEST(test_clear_safe)
{
    struct mm_ev_loop *loop = new_loop(_i);
    struct rec r;
    int sv[2];

    make_pair(sv);
    rec_init(&r, loop, sv[0]);
    /* Never set: clear is a no-op, twice. */
    mm_ev_io_clear(loop, &r.io);
    mm_ev_io_clear(loop, &r.io);
    ck_assert_int_eq(mm_ev_io_set(loop, &r.io, MM_EV_WRITE), 0);
    mm_ev_io_clear(loop, &r.io);
    mm_ev_io_clear(loop, &r.io);
    ck_assert_uint_eq(mm_ev_io_events(&r.io), 0);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, 20), 0);
    ck_assert_int_eq(r.calls, 0);
    /* And it can be set again after a clear. */
    ck_assert_int_eq(mm_ev_io_set(loop, &r.io, MM_EV_WRITE), 0);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, -1), 0);
    ck_assert_int_eq(r.calls, 1);
    mm_ev_io_clear(loop, &r.io);
    mm_ev_loop_destroy(&loop);
    close_pair(sv);
}
END_TEST

/* Watchers on the heap, freed by callbacks, so that ASan catches a backend
 * that touches a watcher after it was cleared. */
struct owned {
    struct mm_ev_io io;
    struct mm_ev_loop *loop;
    struct owned **self; /* slot that points at this watcher */
    struct owned **sibling;
    int *calls;
    int action; /* what the callback does, see below */
};

enum { ACT_CLEAR_SELF, ACT_CLEAR_SIBLING, ACT_PAUSE_SIBLING };

static void
owned_free(struct owned *w)
{
    mm_ev_io_clear(w->loop, &w->io);
    *w->self = NULL;
    free(w);
}

static void
on_owned(struct mm_ev_io *io, unsigned revents)
{
    struct owned *w = io->arg;

    (void)revents;
    (*w->calls)++;
    switch (w->action) {
    case ACT_CLEAR_SELF:
        owned_free(w);
        break;
    case ACT_CLEAR_SIBLING:
        if (*w->sibling != NULL) {
            owned_free(*w->sibling);
        }
        break;
    case ACT_PAUSE_SIBLING:
        if (*w->sibling != NULL) {
            ck_assert_int_eq(mm_ev_io_set(w->loop, &(*w->sibling)->io, 0), 0);
        }
        break;
    }
}

static struct owned *
owned_new(struct mm_ev_loop *loop, int fd, struct owned **self, struct owned **sibling, int *calls,
          int action)
{
    struct owned *w = calloc(1, sizeof(*w));

    ck_assert_ptr_nonnull(w);
    w->loop = loop;
    w->self = self;
    w->sibling = sibling;
    w->calls = calls;
    w->action = action;
    *self = w;
    mm_ev_io_init(&w->io, fd, on_owned, w);
    return w;
}

START_TEST(test_clear_self)
{
    struct mm_ev_loop *loop = new_loop(_i);
    struct owned *w = NULL;
    int calls = 0;
    int sv[2];

    make_pair(sv);
    owned_new(loop, sv[0], &w, NULL, &calls, ACT_CLEAR_SELF);
    ck_assert_int_eq(write(sv[1], "x", 1), 1);
    ck_assert_int_eq(mm_ev_io_set(loop, &w->io, MM_EV_READ | MM_EV_WRITE), 0);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, -1), 0);
    ck_assert_int_eq(calls, 1);
    ck_assert_ptr_null(w);
    /* The data is still unread, but nobody watches any more. */
    ck_assert_int_eq(mm_ev_loop_run_once(loop, 20), 0);
    ck_assert_int_eq(calls, 1);
    mm_ev_loop_destroy(&loop);
    close_pair(sv);
}
END_TEST

START_TEST(test_clear_sibling)
{
    struct mm_ev_loop *loop = new_loop(_i);
    struct owned *a = NULL, *b = NULL;
    int calls = 0;
    int sa[2], sb[2];

    make_pair(sa);
    make_pair(sb);
    owned_new(loop, sa[0], &a, &b, &calls, ACT_CLEAR_SIBLING);
    owned_new(loop, sb[0], &b, &a, &calls, ACT_CLEAR_SIBLING);
    ck_assert_int_eq(mm_ev_io_set(loop, &a->io, MM_EV_READ), 0);
    ck_assert_int_eq(mm_ev_io_set(loop, &b->io, MM_EV_READ), 0);
    /* Both ready before the wait, so both are in the same batch. */
    ck_assert_int_eq(write(sa[1], "x", 1), 1);
    ck_assert_int_eq(write(sb[1], "x", 1), 1);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, -1), 0);
    ck_assert_int_eq(calls, 1);
    ck_assert((a == NULL) != (b == NULL));

    /* The survivor is still watched (level-triggered, data unread). */
    ck_assert_int_eq(mm_ev_loop_run_once(loop, -1), 0);
    ck_assert_int_eq(calls, 2);
    if (a != NULL) {
        owned_free(a);
    }
    if (b != NULL) {
        owned_free(b);
    }
    mm_ev_loop_destroy(&loop);
    close_pair(sa);
    close_pair(sb);
}
END_TEST

START_TEST(test_pause_sibling)
{
    struct mm_ev_loop *loop = new_loop(_i);
    struct owned *a = NULL, *b = NULL;
    int calls = 0;
    int sa[2], sb[2];

    make_pair(sa);
    make_pair(sb);
    owned_new(loop, sa[0], &a, &b, &calls, ACT_PAUSE_SIBLING);
    owned_new(loop, sb[0], &b, &a, &calls, ACT_PAUSE_SIBLING);
    ck_assert_int_eq(mm_ev_io_set(loop, &a->io, MM_EV_WRITE), 0);
    ck_assert_int_eq(mm_ev_io_set(loop, &b->io, MM_EV_WRITE), 0);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, -1), 0);
    ck_assert_int_eq(calls, 1);
    /* Exactly one of them was paused by the other. */
    ck_assert_uint_eq(mm_ev_io_events(&a->io) + mm_ev_io_events(&b->io), MM_EV_WRITE);
    owned_free(a);
    owned_free(b);
    mm_ev_loop_destroy(&loop);
    close_pair(sa);
    close_pair(sb);
}
END_TEST

/* Many watchers ready at once, each clearing and freeing itself: every one is
 * called exactly once (the poll backend's holes and compaction, libevent's
 * active queue). */
START_TEST(test_many_clear_self)
{
    enum { N = 64 };
    struct mm_ev_loop *loop = new_loop(_i);
    struct owned *w[N];
    int sv[N][2];
    int calls = 0;
    int k;

    for (k = 0; k < N; k++) {
        make_pair(sv[k]);
        owned_new(loop, sv[k][0], &w[k], NULL, &calls, ACT_CLEAR_SELF);
        ck_assert_int_eq(mm_ev_io_set(loop, &w[k]->io, MM_EV_WRITE), 0);
    }
    for (k = 0; k < 10 && calls < N; k++) {
        ck_assert_int_eq(mm_ev_loop_run_once(loop, -1), 0);
    }
    ck_assert_int_eq(calls, N);
    for (k = 0; k < N; k++) {
        ck_assert_ptr_null(w[k]);
        close_pair(sv[k]);
    }
    ck_assert_int_eq(mm_ev_loop_run_once(loop, 10), 0);
    ck_assert_int_eq(calls, N);
    mm_ev_loop_destroy(&loop);
}
END_TEST

/* A callback that registers many new watchers (growing the backend's
 * arrays mid-dispatch): they are reported from the next wait on. */
struct spawner {
    struct mm_ev_io io;
    struct mm_ev_loop *loop;
    struct rec kids[40];
    int sv[40][2];
    int calls;
};

static void
on_spawn(struct mm_ev_io *io, unsigned revents)
{
    struct spawner *sp = io->arg;
    int k;

    (void)revents;
    sp->calls++;
    mm_ev_io_clear(sp->loop, io);
    for (k = 0; k < 40; k++) {
        make_pair(sp->sv[k]);
        rec_init(&sp->kids[k], sp->loop, sp->sv[k][0]);
        ck_assert_int_eq(mm_ev_io_set(sp->loop, &sp->kids[k].io, MM_EV_WRITE), 0);
    }
}

static bool
all_called(const struct rec *r, int n)
{
    int k;

    for (k = 0; k < n; k++) {
        if (r[k].calls == 0) {
            return false;
        }
    }
    return true;
}

START_TEST(test_add_during_dispatch)
{
    struct mm_ev_loop *loop = new_loop(_i);
    struct spawner *sp = calloc(1, sizeof(*sp));
    int sv[2];
    int k, total = 0;

    ck_assert_ptr_nonnull(sp);
    make_pair(sv);
    sp->loop = loop;
    mm_ev_io_init(&sp->io, sv[0], on_spawn, sp);
    ck_assert_int_eq(mm_ev_io_set(loop, &sp->io, MM_EV_WRITE), 0);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, -1), 0);
    ck_assert_int_eq(sp->calls, 1);
    for (k = 0; k < 40; k++) {
        total += sp->kids[k].calls;
    }
    ck_assert_int_eq(total, 0);
    /* A backend may report only part of the ready set per wait (libevent
     * starts with room for 32 epoll events), so allow a few waits. */
    for (k = 0; k < 10 && !all_called(sp->kids, 40); k++) {
        ck_assert_int_eq(mm_ev_loop_run_once(loop, -1), 0);
    }
    for (k = 0; k < 40; k++) {
        ck_assert_int_ge(sp->kids[k].calls, 1);
        ck_assert_uint_eq(sp->kids[k].last, MM_EV_WRITE);
        mm_ev_io_clear(loop, &sp->kids[k].io);
        close_pair(sp->sv[k]);
    }
    free(sp);
    mm_ev_loop_destroy(&loop);
    close_pair(sv);
}
END_TEST

/* An fd the backend cannot watch: epoll refuses /dev/null (libevent and the
 * epoll backend report -1 and leave the watcher paused); poll(2) accepts
 * anything. Either way the watcher can be cleared afterwards. */
START_TEST(test_refused_fd)
{
    struct mm_ev_loop *loop = new_loop(_i);
    struct rec r;
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int rc;

    ck_assert_int_ge(fd, 0);
    rec_init(&r, loop, fd);
    rc = mm_ev_io_set(loop, &r.io, MM_EV_READ);
    if (strcmp(bk_name(_i), "poll") != 0) {
        ck_assert_int_eq(rc, -1);
        ck_assert_uint_eq(mm_ev_io_events(&r.io), 0);
        ck_assert_int_eq(mm_ev_loop_run_once(loop, 10), 0);
        ck_assert_int_eq(r.calls, 0);
    } else {
        ck_assert_int_eq(rc, 0);
    }
    mm_ev_io_clear(loop, &r.io);
    close(fd);
    mm_ev_loop_destroy(&loop);
}
END_TEST

/* Timers. */
struct tick {
    struct mm_ev_timer t;
    struct mm_ev_loop *loop;
    int calls;
    int stop_at;     /* stop the loop (and the timer) at this call */
    int rearm_until; /* re-arm itself (one-shot, 1 ms) while calls < this */
    bool early;      /* fired before its deadline */
    bool was_active; /* mm_ev_timer_active() inside the callback */
};

static void
on_tick(struct mm_ev_timer *t)
{
    struct tick *k = t->arg;

    k->calls++;
    k->was_active = mm_ev_timer_active(t);
    if (mm_ev_now_ms(k->loop) + (t->every > 0 ? t->every : 0) < t->deadline) {
        k->early = true;
    }
    if (k->calls < k->rearm_until) {
        mm_ev_timer_start(k->loop, t, 1, 0);
    }
    if (k->calls == k->stop_at) {
        mm_ev_timer_stop(k->loop, t);
        mm_ev_loop_stop(k->loop);
    }
}

static void
tick_init(struct tick *k, struct mm_ev_loop *loop)
{
    memset(k, 0, sizeof(*k));
    k->loop = loop;
    mm_ev_timer_init(&k->t, on_tick, k);
}

START_TEST(test_timer_oneshot)
{
    struct mm_ev_loop *loop = new_loop(_i);
    struct guard g;
    struct tick k;
    uint64_t t0;

    tick_init(&k, loop);
    k.stop_at = 1;
    ck_assert(!mm_ev_timer_active(&k.t));
    mm_ev_timer_start(loop, &k.t, 20, 0);
    ck_assert(mm_ev_timer_active(&k.t));
    t0 = mm_ev_now_ms(loop);
    guard_start(&g, loop);
    ck_assert_int_eq(mm_ev_loop_run(loop), 0);
    guard_stop(&g);
    ck_assert_int_eq(k.calls, 1);
    ck_assert(!k.early);
    ck_assert(!k.was_active);
    ck_assert(!mm_ev_timer_active(&k.t));
    ck_assert_uint_ge(mm_ev_now_ms(loop), t0 + 20);

    /* One-shot: it does not come back. */
    ck_assert_int_eq(mm_ev_loop_run_once(loop, 40), 0);
    ck_assert_int_eq(k.calls, 1);
    mm_ev_loop_destroy(&loop);
}
END_TEST

START_TEST(test_timer_periodic)
{
    struct mm_ev_loop *loop = new_loop(_i);
    struct guard g;
    struct tick k;

    tick_init(&k, loop);
    k.stop_at = 5;
    mm_ev_timer_start(loop, &k.t, 1, 2);
    guard_start(&g, loop);
    ck_assert_int_eq(mm_ev_loop_run(loop), 0);
    guard_stop(&g);
    ck_assert_int_eq(k.calls, 5);
    ck_assert(k.was_active); /* re-armed before its callback */
    ck_assert(!k.early);
    ck_assert(!mm_ev_timer_active(&k.t));
    ck_assert_int_eq(mm_ev_loop_run_once(loop, 30), 0);
    ck_assert_int_eq(k.calls, 5);

    /* Restart after a stop: it runs again. */
    k.stop_at = 7;
    mm_ev_timer_start(loop, &k.t, 0, 1);
    guard_start(&g, loop);
    ck_assert_int_eq(mm_ev_loop_run(loop), 0);
    guard_stop(&g);
    ck_assert_int_eq(k.calls, 7);
    mm_ev_loop_destroy(&loop);
}
END_TEST

START_TEST(test_timer_rearm)
{
    struct mm_ev_loop *loop = new_loop(_i);
    struct guard g;
    struct tick k, far;

    /* Re-arming an armed timer moves it: it fires once, early. */
    tick_init(&k, loop);
    k.stop_at = 1;
    mm_ev_timer_start(loop, &k.t, 100000, 0);
    mm_ev_timer_start(loop, &k.t, 5, 0);
    guard_start(&g, loop);
    ck_assert_int_eq(mm_ev_loop_run(loop), 0);
    guard_stop(&g);
    ck_assert_int_eq(k.calls, 1);
    ck_assert(!mm_ev_timer_active(&k.t));

    /* Moving a timer later: it does not fire at the old deadline. */
    tick_init(&far, loop);
    mm_ev_timer_start(loop, &far.t, 1, 0);
    mm_ev_timer_start(loop, &far.t, 100000, 0);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, 30), 0);
    ck_assert_int_eq(far.calls, 0);
    ck_assert(mm_ev_timer_active(&far.t));
    mm_ev_timer_stop(loop, &far.t);
    ck_assert(!mm_ev_timer_active(&far.t));
    mm_ev_timer_stop(loop, &far.t); /* stopping twice is fine */

    /* A one-shot timer re-arming itself from its callback. */
    tick_init(&k, loop);
    k.rearm_until = 4;
    k.stop_at = 4;
    mm_ev_timer_start(loop, &k.t, 0, 0);
    guard_start(&g, loop);
    ck_assert_int_eq(mm_ev_loop_run(loop), 0);
    guard_stop(&g);
    ck_assert_int_eq(k.calls, 4);
    ck_assert(!mm_ev_timer_active(&k.t));
    mm_ev_loop_destroy(&loop);
}
END_TEST

START_TEST(test_timer_stop)
{
    struct mm_ev_loop *loop = new_loop(_i);
    struct tick k;

    tick_init(&k, loop);
    mm_ev_timer_start(loop, &k.t, 1, 0);
    mm_ev_timer_stop(loop, &k.t);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, 30), 0);
    ck_assert_int_eq(k.calls, 0);
    mm_ev_loop_destroy(&loop);
}
END_TEST

/* Two timers due in the same pass; whichever runs first stops (and frees)
 * the other, which must then not run. */
struct pair_timer {
    struct mm_ev_timer t;
    struct mm_ev_loop *loop;
    struct pair_timer **self, **other;
    int *calls;
};

static void
on_pair_timer(struct mm_ev_timer *t)
{
    struct pair_timer *p = t->arg;

    (*p->calls)++;
    if (*p->other != NULL) {
        mm_ev_timer_stop(p->loop, &(*p->other)->t);
        free(*p->other);
        *p->other = NULL;
    }
    /* And itself: stop (a no-op for a fired one-shot), then free. */
    mm_ev_timer_stop(p->loop, t);
    *p->self = NULL;
    free(p);
}

START_TEST(test_timer_stop_sibling)
{
    struct mm_ev_loop *loop = new_loop(_i);
    struct pair_timer *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    int calls = 0;

    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    a->loop = b->loop = loop;
    a->calls = b->calls = &calls;
    a->self = &a;
    a->other = &b;
    b->self = &b;
    b->other = &a;
    mm_ev_timer_init(&a->t, on_pair_timer, a);
    mm_ev_timer_init(&b->t, on_pair_timer, b);
    mm_ev_timer_start(loop, &a->t, 0, 0);
    mm_ev_timer_start(loop, &b->t, 0, 3);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, 0), 0);
    ck_assert_int_eq(calls, 1);
    ck_assert_ptr_null(a);
    ck_assert_ptr_null(b);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, 20), 0);
    ck_assert_int_eq(calls, 1);
    mm_ev_loop_destroy(&loop);
}
END_TEST

/* Many timers with scattered deadlines fire in deadline order. */
struct order_timer {
    struct mm_ev_timer t;
    uint64_t *last;
    int *bad;
    int *calls;
};

static void
on_order_timer(struct mm_ev_timer *t)
{
    struct order_timer *o = t->arg;

    if (t->deadline < *o->last) {
        (*o->bad)++;
    }
    *o->last = t->deadline;
    (*o->calls)++;
}

START_TEST(test_timer_order)
{
    enum { N = 200 };
    struct mm_ev_loop *loop = new_loop(_i);
    struct order_timer *ts = calloc(N, sizeof(*ts));
    uint64_t last = 0;
    int bad = 0, calls = 0, k;

    ck_assert_ptr_nonnull(ts);
    for (k = 0; k < N; k++) {
        ts[k].last = &last;
        ts[k].bad = &bad;
        ts[k].calls = &calls;
        mm_ev_timer_init(&ts[k].t, on_order_timer, &ts[k]);
        /* A scattered permutation of 0..29 ms. */
        mm_ev_timer_start(loop, &ts[k].t, (uint64_t)((k * 7919) % 30), 0);
    }
    /* Stop every third one; they must not fire. */
    for (k = 0; k < N; k += 3) {
        mm_ev_timer_stop(loop, &ts[k].t);
    }
    for (k = 0; k < 1000 && calls < N - (N + 2) / 3; k++) {
        ck_assert_int_eq(mm_ev_loop_run_once(loop, -1), 0);
    }
    ck_assert_int_eq(calls, N - (N + 2) / 3);
    ck_assert_int_eq(bad, 0);
    free(ts);
    mm_ev_loop_destroy(&loop);
}
END_TEST

START_TEST(test_destroy_disarms)
{
    struct mm_ev_loop *loop = new_loop(_i);
    struct tick k;

    tick_init(&k, loop);
    mm_ev_timer_start(loop, &k.t, 100000, 0);
    ck_assert(mm_ev_timer_active(&k.t));
    mm_ev_loop_destroy(&loop);
    ck_assert(!mm_ev_timer_active(&k.t));
    ck_assert_int_eq(k.calls, 0);
}
END_TEST

START_TEST(test_now_monotonic)
{
    struct mm_ev_loop *loop = new_loop(_i);
    uint64_t a, b;

    a = mm_ev_now_ms(loop);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, 15), 0);
    b = mm_ev_now_ms(loop);
    ck_assert_uint_ge(b, a);
    mm_ev_loop_destroy(&loop);
}
END_TEST

/* Wake-ups. */
struct wake_ctx {
    struct mm_ev_loop *loop;
    int calls;
    unsigned long seen;
    unsigned long target;
    unsigned long counter; /* written by the signalling thread */
    struct mm_ev_wake *w;
    bool stop_on_call;
};

static void
on_wake(struct mm_ev_wake *w, void *arg)
{
    struct wake_ctx *c = arg;

    ck_assert_ptr_eq(w, c->w);
    c->calls++;
    c->seen = __atomic_load_n(&c->counter, __ATOMIC_ACQUIRE);
    if (c->stop_on_call || c->seen == c->target) {
        mm_ev_loop_stop(c->loop);
    }
}

static void *
signaller(void *arg)
{
    struct wake_ctx *c = arg;
    unsigned long i;

    for (i = 1; i <= c->target; i++) {
        __atomic_store_n(&c->counter, i, __ATOMIC_RELEASE);
        mm_ev_wake_signal(c->w);
    }
    return NULL;
}

START_TEST(test_wake_thread)
{
    struct mm_ev_loop *loop = new_loop(_i);
    struct wake_ctx c;
    struct guard g;
    pthread_t th;

    memset(&c, 0, sizeof(c));
    c.loop = loop;
    c.target = 20000;
    c.w = mm_ev_wake_create(loop, on_wake, &c);
    ck_assert_ptr_nonnull(c.w);
    guard_start(&g, loop);
    ck_assert_int_eq(pthread_create(&th, NULL, signaller, &c), 0);
    /* The loop ends only once a callback has seen the last signal: a lost
     * wake-up would leave it waiting for the guard. */
    ck_assert_int_eq(mm_ev_loop_run(loop), 0);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    guard_stop(&g);
    ck_assert_uint_eq(c.seen, c.target);
    ck_assert_int_ge(c.calls, 1);
    ck_assert_int_le(c.calls, (int)c.target);
    mm_ev_wake_destroy(&c.w);
    ck_assert_ptr_null(c.w);
    mm_ev_loop_destroy(&loop);
}
END_TEST

START_TEST(test_wake_coalesced)
{
    struct mm_ev_loop *loop = new_loop(_i);
    struct wake_ctx c;
    int k;

    memset(&c, 0, sizeof(c));
    c.loop = loop;
    c.target = 0;
    c.w = mm_ev_wake_create(loop, on_wake, &c);
    ck_assert_ptr_nonnull(c.w);

    /* Nothing signalled: no callback. */
    ck_assert_int_eq(mm_ev_loop_run_once(loop, 10), 0);
    ck_assert_int_eq(c.calls, 0);

    for (k = 0; k < 1000; k++) {
        mm_ev_wake_signal(c.w);
    }
    ck_assert_int_eq(mm_ev_loop_run_once(loop, -1), 0);
    ck_assert_int_eq(c.calls, 1);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, 20), 0);
    ck_assert_int_eq(c.calls, 1);

    /* A signal after the callback wakes it again. */
    mm_ev_wake_signal(c.w);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, -1), 0);
    ck_assert_int_eq(c.calls, 2);

    mm_ev_wake_destroy(&c.w);
    mm_ev_wake_destroy(&c.w); /* NULL is fine */
    mm_ev_loop_destroy(&loop);
}
END_TEST

/* The before-poll hook runs first in every iteration, then I/O, then
 * timers. */
struct order_log {
    char s[64];
    size_t n;
    struct mm_ev_io io;
    struct mm_ev_timer t;
    bool stop_in_hook;
};

static void
log_add(struct order_log *l, char c)
{
    if (l->n + 1 < sizeof(l->s)) {
        l->s[l->n++] = c;
        l->s[l->n] = '\0';
    }
}

static void
on_hook(struct mm_ev_loop *loop, void *arg)
{
    struct order_log *l = arg;

    log_add(l, 'H');
    if (l->stop_in_hook) {
        mm_ev_loop_stop(loop);
    }
}

static void
on_log_io(struct mm_ev_io *io, unsigned revents)
{
    (void)revents;
    log_add(io->arg, 'W');
}

static void
on_log_timer(struct mm_ev_timer *t)
{
    log_add(t->arg, 'T');
}

START_TEST(test_hook_order)
{
    struct mm_ev_loop *loop = new_loop(_i);
    struct order_log l;
    struct guard g;
    int sv[2];

    memset(&l, 0, sizeof(l));
    make_pair(sv);
    mm_ev_loop_set_before_poll(loop, on_hook, &l);
    mm_ev_io_init(&l.io, sv[0], on_log_io, &l);
    mm_ev_timer_init(&l.t, on_log_timer, &l);
    ck_assert_int_eq(mm_ev_io_set(loop, &l.io, MM_EV_WRITE), 0);
    mm_ev_timer_start(loop, &l.t, 0, 0);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, -1), 0);
    ck_assert_str_eq(l.s, "HWT");
    ck_assert_int_eq(mm_ev_loop_run_once(loop, -1), 0);
    ck_assert_str_eq(l.s, "HWTHW");

    /* Runs even when nothing is ready. */
    mm_ev_io_clear(loop, &l.io);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, 0), 0);
    ck_assert_str_eq(l.s, "HWTHWH");

    /* A stop from the hook: run() does not block, and returns. */
    l.stop_in_hook = true;
    guard_start(&g, loop);
    ck_assert_int_eq(mm_ev_loop_run(loop), 0);
    guard_stop(&g);
    ck_assert_str_eq(l.s, "HWTHWHH");

    /* Removed: no more H. */
    mm_ev_loop_set_before_poll(loop, NULL, NULL);
    ck_assert_int_eq(mm_ev_loop_run_once(loop, 0), 0);
    ck_assert_str_eq(l.s, "HWTHWHH");
    mm_ev_loop_destroy(&loop);
    close_pair(sv);
}
END_TEST

/* A stop requested outside run() does not leak into the next run(). */
START_TEST(test_stop_reset)
{
    struct mm_ev_loop *loop = new_loop(_i);
    struct guard g;
    struct tick k;

    tick_init(&k, loop);
    k.stop_at = 3;
    mm_ev_loop_stop(loop);
    mm_ev_timer_start(loop, &k.t, 0, 1);
    guard_start(&g, loop);
    ck_assert_int_eq(mm_ev_loop_run(loop), 0);
    guard_stop(&g);
    ck_assert_int_eq(k.calls, 3);
    mm_ev_loop_destroy(&loop);
}
END_TEST

static Suite *
ev_suite(void)
{
    Suite *s = suite_create("ev");
    TCase *tc = tcase_create("registry");
    TCase *io = tcase_create("io");
    TCase *tm = tcase_create("timers");
    TCase *wk = tcase_create("wake");
    int n = backend_count();

    tcase_add_test(tc, test_registry);
    tcase_set_timeout(tc, 10);
    suite_add_tcase(s, tc);

    tcase_add_loop_test(io, test_read_ready, 0, n);
    tcase_add_loop_test(io, test_write_ready, 0, n);
    tcase_add_loop_test(io, test_pause, 0, n);
    tcase_add_loop_test(io, test_eof, 0, n);
    tcase_add_loop_test(io, test_clear_safe, 0, n);
    tcase_add_loop_test(io, test_clear_self, 0, n);
    tcase_add_loop_test(io, test_clear_sibling, 0, n);
    tcase_add_loop_test(io, test_pause_sibling, 0, n);
    tcase_add_loop_test(io, test_many_clear_self, 0, n);
    tcase_add_loop_test(io, test_add_during_dispatch, 0, n);
    tcase_add_loop_test(io, test_refused_fd, 0, n);
    tcase_add_loop_test(io, test_hook_order, 0, n);
    tcase_add_loop_test(io, test_stop_reset, 0, n);
    tcase_set_timeout(io, 30);
    suite_add_tcase(s, io);

    tcase_add_loop_test(tm, test_timer_oneshot, 0, n);
    tcase_add_loop_test(tm, test_timer_periodic, 0, n);
    tcase_add_loop_test(tm, test_timer_rearm, 0, n);
    tcase_add_loop_test(tm, test_timer_stop, 0, n);
    tcase_add_loop_test(tm, test_timer_stop_sibling, 0, n);
    tcase_add_loop_test(tm, test_timer_order, 0, n);
    tcase_add_loop_test(tm, test_destroy_disarms, 0, n);
    tcase_add_loop_test(tm, test_now_monotonic, 0, n);
    tcase_set_timeout(tm, 30);
    suite_add_tcase(s, tm);

    tcase_add_loop_test(wk, test_wake_thread, 0, n);
    tcase_add_loop_test(wk, test_wake_coalesced, 0, n);
    tcase_set_timeout(wk, 30);
    suite_add_tcase(s, wk);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(ev_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
