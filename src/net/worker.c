/* Worker threads. Each runs one event loop over the connections handed to
 * it; new sockets and the stop request arrive on its mm_ev_queue, so the
 * acceptor never touches a worker's state. Connections write their own
 * replies at the end of each event (net/conn.c). With -U the worker also
 * reads the UDP sockets (udp.c) on the same loop. */
#include "config.h"

#include "mmem/worker.h"

#include "mmem/alloc.h"
#include "mmem/ev.h"
#include "mmem/ev_queue.h"
#include "mmem/log.h"
#include "mmem/udp.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A new socket's message kind is its transport. */
enum worker_msg {
    WORKER_MSG_TCP = MM_CONN_TCP,
    WORKER_MSG_UNIX = MM_CONN_UNIX,
    WORKER_MSG_TLS = MM_CONN_TLS,
    WORKER_MSG_STOP
};

static void
worker_on_msg(struct mm_ev_queue *q, const struct mm_ev_msg *msg, void *arg)
{
    struct mm_worker *w = arg;

    (void)q;
    switch (msg->kind) {
    case WORKER_MSG_TCP:
    case WORKER_MSG_UNIX:
    case WORKER_MSG_TLS:
        (void)mm_conn_create(&w->conns, msg->fd, (enum mm_conn_transport)msg->kind, msg->ptr);
        break;
    case WORKER_MSG_STOP:
        mm_conn_set_close_all(&w->conns);
        mm_ev_loop_stop(w->loop);
        break;
    default:
        break;
    }
}

/* Queue destruction: sockets never adopted are closed. */
static void
worker_discard(struct mm_ev_queue *q, const struct mm_ev_msg *msg, void *arg)
{
    struct mm_worker *w = arg;
    unsigned long *live = w->conns.live;

    (void)q;
    if (msg->kind != WORKER_MSG_STOP) {
        close(msg->fd);
        if (live != NULL) {
            __atomic_fetch_sub(live, 1, __ATOMIC_RELAXED);
        }
    }
}

struct mm_worker *
mm_worker_create(unsigned id, const char *backend, const struct mm_cmd_env *env,
                 const struct mm_conn_cfg *cfg, unsigned long *live)
{
    struct mm_worker *w = mm_calloc(1, sizeof(*w));

    w->id = id;
    w->loop = mm_ev_loop_create(backend);
    if (w->loop == NULL) {
        mm_free(w);
        return NULL;
    }
    w->queue = mm_ev_queue_create(w->loop, worker_on_msg, w);
    if (w->queue == NULL) {
        mm_ev_loop_destroy(&w->loop);
        mm_free(w);
        return NULL;
    }
    w->cmd.env = env;
    w->cmd.stats = &w->stats;
    mm_conn_set_init(&w->conns, w->loop, &w->cmd, env != NULL ? env->store : NULL, cfg);
    w->conns.live = live;
    return w;
}

int
mm_worker_add_udp(struct mm_worker *w, const struct mm_udp_socks *socks)
{
    w->udp = mm_udp_create(w->loop, &w->cmd, w->conns.store, socks);
    return w->udp != NULL ? 0 : -1;
}

static void *
worker_main(void *arg)
{
    struct mm_worker *w = arg;
    char name[16];

    snprintf(name, sizeof(name), "mm-worker-%u", w->id);
    pthread_setname_np(pthread_self(), name);
    if (mm_ev_loop_run(w->loop) != 0) {
        mm_log_error("worker %u: event loop failed", w->id);
    }
    mm_conn_set_close_all(&w->conns);
    return NULL;
}

int
mm_worker_start(struct mm_worker *w)
{
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        return -1;
    }
    w->started = true;
    return 0;
}

void
mm_worker_handoff(struct mm_worker *w, int fd, enum mm_conn_transport transport,
                  const char *listen_name)
{
    struct mm_ev_msg msg;

    msg.kind = (int)transport;
    msg.fd = fd;
    /* The name is only read back as const; the queue carries void *. */
    msg.ptr = (void *)(uintptr_t)listen_name;
    mm_ev_queue_push(w->queue, &msg);
}

void
mm_worker_stop(struct mm_worker *w)
{
    struct mm_ev_msg msg;

    if (!w->started) {
        return;
    }
    memset(&msg, 0, sizeof(msg));
    msg.kind = WORKER_MSG_STOP;
    msg.fd = -1;
    mm_ev_queue_push(w->queue, &msg);
    pthread_join(w->thread, NULL);
    w->started = false;
}

void
mm_worker_destroy(struct mm_worker **wp)
{
    struct mm_worker *w = *wp;

    if (w == NULL) {
        return;
    }
    mm_worker_stop(w);
    mm_udp_destroy(&w->udp);
    mm_conn_set_fini(&w->conns);
    mm_ev_queue_destroy(&w->queue, worker_discard);
    mm_ev_loop_destroy(&w->loop);
    mm_free(w);
    *wp = NULL;
}
