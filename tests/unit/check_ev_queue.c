/* Unit tests for the cross-thread message queue: many producers, one
 * consumer loop, nothing lost, duplicated or reordered per producer; wake-ups
 * only on the empty -> non-empty transition; pushes from the consumer's own
 * callback; destroy with messages still queued. Runs on every backend. */
#include "config.h"

#include "mmem/ev.h"
#include "mmem/ev_queue.h"

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define GUARD_MS 20000
#define NPROD 4
#define PER_PROD 25000

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

struct consumer {
    struct mm_ev_loop *loop;
    struct mm_ev_queue *q;
    int next[NPROD]; /* next sequence number expected from each producer */
    size_t total;
    size_t target;
    int bad; /* messages out of order, unknown or duplicated */
    int marker;
    struct mm_ev_timer guard;
    bool guard_fired;
    int pushes_from_cb; /* how many follow-ups the callback still pushes */
    size_t last_drain_size;
};

static void
on_guard(struct mm_ev_timer *t)
{
    struct consumer *c = t->arg;

    c->guard_fired = true;
    mm_ev_loop_stop(c->loop);
}

static void
on_msg(struct mm_ev_queue *q, const struct mm_ev_msg *m, void *arg)
{
    struct consumer *c = arg;

    ck_assert_ptr_eq(q, c->q);
    if (m->kind < 0 || m->kind >= NPROD || m->ptr != &c->marker || m->fd != c->next[m->kind]) {
        c->bad++;
    } else {
        c->next[m->kind]++;
    }
    c->total++;
    if (c->pushes_from_cb > 0) {
        struct mm_ev_msg follow = {.kind = m->kind, .fd = c->next[m->kind], .ptr = &c->marker};

        c->pushes_from_cb--;
        mm_ev_queue_push(q, &follow);
        /* Nested drains deliver nothing (and do not reorder). */
        ck_assert_uint_eq(mm_ev_queue_drain(q), 0);
    }
    if (c->target > 0 && c->total == c->target) {
        mm_ev_loop_stop(c->loop);
    }
}

static void
consumer_init(struct consumer *c, int i)
{
    memset(c, 0, sizeof(*c));
    c->loop = mm_ev_loop_create(bk_name(i));
    ck_assert_ptr_nonnull(c->loop);
    c->q = mm_ev_queue_create(c->loop, on_msg, c);
    ck_assert_ptr_nonnull(c->q);
    mm_ev_timer_init(&c->guard, on_guard, c);
}

static void
consumer_fini(struct consumer *c)
{
    mm_ev_timer_stop(c->loop, &c->guard);
    mm_ev_queue_destroy(&c->q, NULL);
    ck_assert_ptr_null(c->q);
    mm_ev_loop_destroy(&c->loop);
}

struct producer {
    struct consumer *c;
    int id;
    int count;
};

static void *
produce(void *arg)
{
    struct producer *p = arg;
    int k;

    for (k = 0; k < p->count; k++) {
        struct mm_ev_msg m = {.kind = p->id, .fd = k, .ptr = &p->c->marker};

        mm_ev_queue_push(p->c->q, &m);
    }
    return NULL;
}

START_TEST(test_many_producers)
{
    struct consumer c;
    struct producer p[NPROD];
    pthread_t th[NPROD];
    struct mm_ev_queue_stats st;
    int k;

    consumer_init(&c, _i);
    c.target = (size_t)NPROD * PER_PROD;
    mm_ev_timer_start(c.loop, &c.guard, GUARD_MS, 0);
    for (k = 0; k < NPROD; k++) {
        p[k].c = &c;
        p[k].id = k;
        p[k].count = PER_PROD;
        ck_assert_int_eq(pthread_create(&th[k], NULL, produce, &p[k]), 0);
    }
    /* Returns once the last message arrived; a lost one leaves it waiting
     * for the guard. */
    ck_assert_int_eq(mm_ev_loop_run(c.loop), 0);
    for (k = 0; k < NPROD; k++) {
        ck_assert_int_eq(pthread_join(th[k], NULL), 0);
    }
    ck_assert_msg(!c.guard_fired, "messages lost: got %zu of %zu", c.total, c.target);
    ck_assert_int_eq(c.bad, 0);
    ck_assert_uint_eq(c.total, c.target);
    for (k = 0; k < NPROD; k++) {
        ck_assert_int_eq(c.next[k], PER_PROD);
    }
    /* Nothing more arrives (no duplicates queued behind). */
    ck_assert_int_eq(mm_ev_loop_run_once(c.loop, 10), 0);
    ck_assert_uint_eq(c.total, c.target);

    mm_ev_queue_stats(c.q, &st);
    ck_assert_uint_eq(st.pushed, c.target);
    ck_assert_uint_eq(st.delivered, c.target);
    ck_assert_uint_ge(st.signals, 1);
    ck_assert_uint_le(st.signals, st.pushed);
    ck_assert_uint_ge(st.drains, 1);
    /* Every drain that found messages was preceded by a signal. */
    ck_assert_uint_le(st.drains, st.signals);
    consumer_fini(&c);
}
END_TEST

START_TEST(test_coalescing)
{
    struct consumer c;
    struct producer p = {0};
    struct mm_ev_queue_stats st;
    struct mm_ev_msg m = {0};
    pthread_t th;

    consumer_init(&c, _i);
    /* All pushed while the consumer is not looking: one wake-up. */
    p.c = &c;
    p.id = 1;
    p.count = 1000;
    ck_assert_int_eq(pthread_create(&th, NULL, produce, &p), 0);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    mm_ev_queue_stats(c.q, &st);
    ck_assert_uint_eq(st.pushed, 1000);
    ck_assert_uint_eq(st.signals, 1);
    ck_assert_uint_eq(st.drains, 0);

    /* One wake delivers everything. */
    ck_assert_int_eq(mm_ev_loop_run_once(c.loop, -1), 0);
    mm_ev_queue_stats(c.q, &st);
    ck_assert_uint_eq(st.drains, 1);
    ck_assert_uint_eq(st.delivered, 1000);
    ck_assert_uint_eq(c.total, 1000);
    ck_assert_int_eq(c.next[1], 1000);
    ck_assert_int_eq(c.bad, 0);

    /* The next push finds the queue empty and signals again. */
    m.kind = 1;
    m.fd = 1000;
    m.ptr = &c.marker;
    mm_ev_queue_push(c.q, &m);
    m.fd = 1001;
    mm_ev_queue_push(c.q, &m);
    mm_ev_queue_stats(c.q, &st);
    ck_assert_uint_eq(st.signals, 2);
    ck_assert_int_eq(mm_ev_loop_run_once(c.loop, -1), 0);
    ck_assert_uint_eq(c.total, 1002);
    ck_assert_int_eq(c.bad, 0);
    consumer_fini(&c);
}
END_TEST

START_TEST(test_push_from_callback)
{
    struct consumer c;
    struct mm_ev_queue_stats st;
    struct mm_ev_msg m = {0};
    int k;

    consumer_init(&c, _i);
    c.pushes_from_cb = 1;
    m.kind = 2;
    m.fd = 0;
    m.ptr = &c.marker;
    mm_ev_queue_push(c.q, &m);
    ck_assert_int_eq(mm_ev_loop_run_once(c.loop, -1), 0);
    /* The follow-up pushed by the callback waits for the next wake. */
    mm_ev_queue_stats(c.q, &st);
    ck_assert_uint_eq(c.total, 1);
    ck_assert_uint_eq(st.pushed, 2);
    ck_assert_uint_eq(st.delivered, 1);
    ck_assert_uint_eq(st.signals, 2);
    for (k = 0; k < 5 && c.total < 2; k++) {
        ck_assert_int_eq(mm_ev_loop_run_once(c.loop, -1), 0);
    }
    ck_assert_uint_eq(c.total, 2);
    ck_assert_int_eq(c.next[2], 2);
    ck_assert_int_eq(c.bad, 0);
    consumer_fini(&c);
}
END_TEST

START_TEST(test_drain_direct)
{
    struct consumer c;
    struct mm_ev_queue_stats st;
    struct mm_ev_msg m = {0};
    int k;

    consumer_init(&c, _i);
    ck_assert_uint_eq(mm_ev_queue_drain(c.q), 0);
    m.kind = 0;
    m.ptr = &c.marker;
    for (k = 0; k < 3; k++) {
        m.fd = k;
        mm_ev_queue_push(c.q, &m);
    }
    ck_assert_uint_eq(mm_ev_queue_drain(c.q), 3);
    ck_assert_uint_eq(c.total, 3);
    /* The wake-up still fires, finds nothing, delivers nothing. */
    ck_assert_int_eq(mm_ev_loop_run_once(c.loop, 20), 0);
    mm_ev_queue_stats(c.q, &st);
    ck_assert_uint_eq(st.drains, 1);
    ck_assert_uint_eq(st.delivered, 3);
    ck_assert_uint_eq(c.total, 3);
    consumer_fini(&c);
}
END_TEST

static void
on_discard(struct mm_ev_queue *q, const struct mm_ev_msg *m, void *arg)
{
    int *discarded = arg;

    (void)q;
    ck_assert_int_eq(m->fd, *discarded);
    (*discarded)++;
}

START_TEST(test_destroy_pending)
{
    struct mm_ev_loop *loop = mm_ev_loop_create(bk_name(_i));
    struct mm_ev_queue *q;
    struct mm_ev_msg m = {0};
    int discarded = 0;
    int k;

    ck_assert_ptr_nonnull(loop);
    q = mm_ev_queue_create(loop, on_discard, &discarded);
    ck_assert_ptr_nonnull(q);
    for (k = 0; k < 200; k++) {
        m.fd = k;
        mm_ev_queue_push(q, &m);
    }
    mm_ev_queue_destroy(&q, on_discard);
    ck_assert_ptr_null(q);
    ck_assert_int_eq(discarded, 200);

    /* Without a discard function the messages are just dropped. */
    q = mm_ev_queue_create(loop, on_discard, &discarded);
    ck_assert_ptr_nonnull(q);
    mm_ev_queue_push(q, &m);
    mm_ev_queue_destroy(&q, NULL);
    mm_ev_queue_destroy(&q, NULL);
    mm_ev_loop_destroy(&loop);
}
END_TEST

static Suite *
queue_suite(void)
{
    Suite *s = suite_create("ev_queue");
    TCase *tc = tcase_create("queue");
    int n = backend_count();

    tcase_add_loop_test(tc, test_many_producers, 0, n);
    tcase_add_loop_test(tc, test_coalescing, 0, n);
    tcase_add_loop_test(tc, test_push_from_callback, 0, n);
    tcase_add_loop_test(tc, test_drain_direct, 0, n);
    tcase_add_loop_test(tc, test_destroy_pending, 0, n);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(queue_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
