#ifndef MMEM_EV_QUEUE_H
#define MMEM_EV_QUEUE_H

#include <stddef.h>
#include <stdint.h>

/* A cross-thread queue of small fixed-size messages, delivered on one loop's
 * thread: any thread pushes, the consumer loop drains. It is the acceptor ->
 * worker hand-off (a new fd and its transport) but knows nothing about
 * connections: what kind, fd and ptr mean is up to its users.
 *
 *  - push() is safe from any thread, including the consumer's own callback.
 *  - The consumer is woken only when the queue goes from empty to non-empty;
 *    each wake delivers everything queued at that moment, in push order
 *    (so messages from one producer arrive in the order it pushed them).
 *  - Messages pushed from inside the callback are delivered on a later
 *    wake, never in the drain that is running. */

struct mm_ev_loop;
struct mm_ev_queue;

struct mm_ev_msg {
    int kind;
    int fd;
    void *ptr;
};

typedef void (*mm_ev_queue_fn)(struct mm_ev_queue *q, const struct mm_ev_msg *msg, void *arg);

/* Counters for tests and "stats": read them on the consumer's thread. */
struct mm_ev_queue_stats {
    uint64_t pushed;    /* messages pushed */
    uint64_t signals;   /* wake-ups requested (empty -> non-empty pushes) */
    uint64_t drains;    /* drains that found at least one message */
    uint64_t delivered; /* messages handed to the callback */
};

/* Create a queue whose messages are delivered to fn on loop's thread. Call
 * on the loop's thread (or before it runs). Returns NULL if the wake-up fd
 * cannot be created. */
struct mm_ev_queue *mm_ev_queue_create(struct mm_ev_loop *loop, mm_ev_queue_fn fn, void *arg);
/* Destroy on the loop's thread, after every producer has stopped pushing.
 * Messages still queued are passed to discard (if not NULL), so that fds
 * they carry can be closed. Sets *q to NULL. */
void mm_ev_queue_destroy(struct mm_ev_queue **q, mm_ev_queue_fn discard);

/* Queue a copy of msg. Any thread. Never fails (memory exhaustion aborts). */
void mm_ev_queue_push(struct mm_ev_queue *q, const struct mm_ev_msg *msg);
/* Deliver everything queued now, on the loop's thread, without waiting for
 * the wake-up (which then finds nothing, harmlessly). Returns the number of
 * messages delivered; 0 when called from inside the queue's own callback. */
size_t mm_ev_queue_drain(struct mm_ev_queue *q);

void mm_ev_queue_stats(struct mm_ev_queue *q, struct mm_ev_queue_stats *st);

#endif
