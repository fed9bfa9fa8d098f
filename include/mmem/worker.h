#ifndef MMEM_WORKER_H
#define MMEM_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "mmem/cmd.h"
#include "mmem/conn.h"
#include "mmem/stats.h"

/* A worker thread: its own event loop, hand-off queue, connection set,
 * counter block and command context. The acceptor (any thread) hands it new
 * sockets with mm_worker_handoff(); from then on only the worker touches
 * them. Shutdown is a message on the same queue, so a worker stops after
 * adopting every socket handed to it before. */

struct mm_ev_loop;
struct mm_ev_queue;
struct mm_udp;
struct mm_udp_socks;

struct mm_worker {
    unsigned id;
    pthread_t thread;
    bool started;
    struct mm_ev_loop *loop;
    struct mm_ev_queue *queue;
    struct mm_stats stats; /* written by this worker only */
    struct mm_cmd_ctx cmd;
    struct mm_conn_set conns;
    struct mm_udp *udp; /* -U: this worker's share of the UDP sockets */
};

/* Create a worker (loop with the named backend, NULL = default; queue;
 * empty set) on the calling thread; the thread starts with start().
 * live is the shared open-connection count (may be NULL). Returns NULL if
 * the loop cannot be created. */
struct mm_worker *mm_worker_create(unsigned id, const char *backend, const struct mm_cmd_env *env,
                                   const struct mm_conn_cfg *cfg, unsigned long *live);
/* Serve the UDP sockets in socks too (udp.h); before start(). Returns 0 or
 * -1. */
int mm_worker_add_udp(struct mm_worker *w, const struct mm_udp_socks *socks);
/* Start the thread. Returns 0 or -1. */
int mm_worker_start(struct mm_worker *w);
/* Hand a connected non-blocking socket to the worker. Any thread. */
void mm_worker_handoff(struct mm_worker *w, int fd, enum mm_conn_transport transport,
                       const char *listen_name);
/* Ask the worker to close its connections and leave its loop, and wait for
 * its thread. Not from the worker itself. */
void mm_worker_stop(struct mm_worker *w);
/* Free a stopped (or never started) worker; sockets still queued are
 * closed. */
void mm_worker_destroy(struct mm_worker **w);

#endif
