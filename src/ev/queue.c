/* The cross-thread message queue (mm_ev_queue): a mutex-protected array the
 * producers append to, and a second array the consumer swaps in, so that the
 * lock is held for one copy per push and one pointer swap per drain, never
 * while a callback runs. The consumer is woken through an mm_ev_wake only on
 * the empty -> non-empty transition. */
#include "config.h"

#include "mmem/ev_queue.h"

#include "mmem/alloc.h"
#include "mmem/ev.h"

#include <pthread.h>
#include <stdbool.h>

/* Initial capacity of each array; they grow by doubling and keep their size
 * (a burst of connections costs memory once, not on every burst). */
#define QUEUE_MIN_CAP 64

struct msg_array {
    struct mm_ev_msg *v;
    size_t n, cap;
};

struct mm_ev_queue {
    pthread_mutex_t lock;
    struct msg_array in; /* producers append here, under lock */
    uint64_t pushed;     /* under lock */
    uint64_t signals;    /* under lock */

    /* Consumer side, loop thread only. */
    struct msg_array out;
    uint64_t drains;
    uint64_t delivered;
    bool draining;
    struct mm_ev_wake *wake;
    mm_ev_queue_fn fn;
    void *arg;
};

static void
on_wake(struct mm_ev_wake *w, void *arg)
{
    (void)w;
    mm_ev_queue_drain(arg);
}

struct mm_ev_queue *
mm_ev_queue_create(struct mm_ev_loop *loop, mm_ev_queue_fn fn, void *arg)
{
    struct mm_ev_queue *q = mm_calloc(1, sizeof(*q));

    pthread_mutex_init(&q->lock, NULL);
    q->fn = fn;
    q->arg = arg;
    q->wake = mm_ev_wake_create(loop, on_wake, q);
    if (q->wake == NULL) {
        pthread_mutex_destroy(&q->lock);
        mm_free(q);
        return NULL;
    }
    return q;
}

void
mm_ev_queue_destroy(struct mm_ev_queue **qp, mm_ev_queue_fn discard)
{
    struct mm_ev_queue *q = *qp;
    size_t i;

    if (q == NULL) {
        return;
    }
    mm_ev_wake_destroy(&q->wake);
    if (discard != NULL) {
        for (i = 0; i < q->in.n; i++) {
            discard(q, &q->in.v[i], q->arg);
        }
    }
    mm_free(q->in.v);
    mm_free(q->out.v);
    pthread_mutex_destroy(&q->lock);
    mm_free(q);
    *qp = NULL;
}

void
mm_ev_queue_push(struct mm_ev_queue *q, const struct mm_ev_msg *msg)
{
    bool was_empty;

    pthread_mutex_lock(&q->lock);
    if (q->in.n == q->in.cap) {
        q->in.cap = q->in.cap ? q->in.cap * 2 : QUEUE_MIN_CAP;
        q->in.v = mm_realloc(q->in.v, q->in.cap * sizeof(*q->in.v));
    }
    q->in.v[q->in.n++] = *msg;
    q->pushed++;
    was_empty = q->in.n == 1;
    if (was_empty) {
        q->signals++;
    }
    pthread_mutex_unlock(&q->lock);
    /* Outside the lock: the write(2) is the slow part. A push that finds the
     * queue non-empty knows a wake-up is already on its way, because the
     * push that made it non-empty signals, and the consumer empties the
     * array only by swapping it out under this lock. */
    if (was_empty) {
        mm_ev_wake_signal(q->wake);
    }
}

size_t
mm_ev_queue_drain(struct mm_ev_queue *q)
{
    struct msg_array batch;
    size_t i;

    /* A drain from inside a callback would reorder messages (and juggle the
     * spare array); leave them for the next wake instead. */
    if (q->draining) {
        return 0;
    }
    pthread_mutex_lock(&q->lock);
    if (q->in.n == 0) {
        pthread_mutex_unlock(&q->lock);
        return 0;
    }
    /* Swap: producers get the (empty) array we delivered from last time. */
    batch = q->in;
    q->in = q->out;
    q->in.n = 0;
    pthread_mutex_unlock(&q->lock);
    q->out = (struct msg_array){0};

    q->draining = true;
    q->drains++;
    for (i = 0; i < batch.n; i++) {
        q->delivered++;
        q->fn(q, &batch.v[i], q->arg);
    }
    /* Hand the array back for the next swap. The callback may have pushed
     * (that went to q->in), but nothing else touches q->out. */
    q->draining = false;
    q->out = batch;
    q->out.n = 0;
    return batch.n;
}

void
mm_ev_queue_stats(struct mm_ev_queue *q, struct mm_ev_queue_stats *st)
{
    pthread_mutex_lock(&q->lock);
    st->pushed = q->pushed;
    st->signals = q->signals;
    pthread_mutex_unlock(&q->lock);
    st->drains = q->drains;
    st->delivered = q->delivered;
}
