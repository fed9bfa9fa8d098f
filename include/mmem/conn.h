#ifndef MMEM_CONN_H
#define MMEM_CONN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmem/ev.h"
#include "mmem/out.h"
#include "mmem/resp_limit.h"

/* Client connections: the per-connection state machine (read, parse,
 * execute, reply) and the per-worker set that owns them.
 *
 * A set belongs to one loop and one thread. Everything here runs on that
 * thread, except mm_conn_set_emit() (for "stats conns"), which any thread may
 * call: it takes the set's mutex, which the owner takes only when a
 * connection is added or removed.
 *
 * Replies produced while handling one read are written at the end of that
 * event, so a pipelined batch leaves in one writev.
 *
 * Memory: an idle connection holds no read buffer and no output buffers.
 * Reads land in the set's scratch area; a connection owns a buffer only for
 * bytes left unparsed (a request cut by a read), sized to them. */

struct mm_cmd_ctx;
struct mm_conn;
struct mm_conn_pending;
struct mm_stats;
struct mm_store;
struct mm_tls_ctx;
struct mm_tls_set;

/* MM_CONN_TLS is TCP with TLS (-Z) under the reads and writes (tls.h). */
enum mm_conn_transport { MM_CONN_TCP = 0, MM_CONN_UNIX, MM_CONN_TLS };

struct mm_conn_cfg {
    size_t rbuf_size;        /* the set's read area; a grown buffer's start */
    size_t rbuf_max;         /* longest request line a buffer may grow to hold */
    size_t out_cap;          /* backpressure: stop reading while more is pending */
    unsigned reqs_per_event; /* -R: requests handled before yielding */
    unsigned idle_timeout;   /* seconds, 0 = never close idle connections */
    struct mm_tls_ctx *tls;  /* -Z: sessions for MM_CONN_TLS sockets; NULL = none */
    size_t obj_limit;        /* -o read_buf_mem_limit, bytes (0: none) */
    unsigned threads;        /* -t: obj_limit is shared out per worker */
};

/* Defaults from the settings (-R, -o idle_timeout) and mmem's buffer sizes. */
struct mm_settings;
void mm_conn_cfg_from_settings(struct mm_conn_cfg *cfg, const struct mm_settings *s);

/* Distinct listener names a set remembers for "stats conns"; connections
 * from further listeners show no listen_addr. */
#define MM_CONN_LISTEN_MAX 32

struct mm_conn_set {
    struct mm_ev_loop *loop;
    struct mm_cmd_ctx *cmd; /* stats block and env; cmd->stats is counted */
    struct mm_store *store; /* item references are released to it */
    struct mm_conn_cfg cfg;
    unsigned long *live;  /* optional process-wide count, decremented
                                 (atomically) when a connection closes */
    pthread_mutex_t lock; /* guards the all list for other threads */
    struct mm_conn *all;  /* every open connection */
    /* Names of the listeners this set's connections came from (lock): a
     * connection keeps a one-byte index instead of a pointer. */
    const char *listen_names[MM_CONN_LISTEN_MAX];
    unsigned nlisten;
    char *scratch;                 /* cfg.rbuf_size bytes lent to each read */
    struct mm_conn_pending *spare; /* a recycled storage-request block */
    struct mm_out_cache out_cache; /* reply buffers between connections */
    struct mm_tls_set *tls;        /* this worker's TLS sessions (cfg.tls) */
    struct mm_resp_limit resp;     /* -o read_buf_mem_limit, this worker's share */
    size_t count;
    size_t peak;
    struct mm_ev_timer idle_timer;
};

/* Set up an empty set on loop. cmd->stats must stay valid while it lives.
 * Arms the idle timer if cfg->idle_timeout > 0. */
void mm_conn_set_init(struct mm_conn_set *set, struct mm_ev_loop *loop, struct mm_cmd_ctx *cmd,
                      struct mm_store *store, const struct mm_conn_cfg *cfg);
/* Close every connection and stop the timer. */
void mm_conn_set_fini(struct mm_conn_set *set);

/* Close every connection now (shutdown); pending output is dropped. */
void mm_conn_set_close_all(struct mm_conn_set *set);

/* "stats conns" lines for this set's connections: emit(arg, "<fd>:<field>",
 * value) for addr, listen_addr, state and secs_since_last_cmd, as memcached
 * names them. Any thread. */
void mm_conn_set_emit(struct mm_conn_set *set,
                      void (*emit)(void *arg, const char *name, const char *value), void *arg);

/* Adopt a connected, non-blocking socket. listen_name ("tcp:1.2.3.4:11211")
 * must outlive the connection; it may be NULL. Counts curr_connections and
 * total_connections. Returns NULL (and closes fd) if the loop refuses it. */
struct mm_conn *mm_conn_create(struct mm_conn_set *set, int fd, enum mm_conn_transport transport,
                               const char *listen_name);
/* Close now: pending output is dropped, a value being read is aborted. */
void mm_conn_close(struct mm_conn *c);

/* Name an address as "stats conns" shows it: "tcp:1.2.3.4:5",
 * "tcp6:[::1]:5" or "unix:/path". */
struct sockaddr_storage;
void mm_conn_format_addr(char *buf, size_t size, enum mm_conn_transport transport,
                         const struct sockaddr_storage *ss, unsigned slen);

/* For tests: bytes of output waiting to be written (output held back
 * while a refused value is swallowed does not count until it may go),
 * whether reading is paused by backpressure, and the read buffer's
 * allocation. */
size_t mm_conn_pending(const struct mm_conn *c);
bool mm_conn_read_paused(const struct mm_conn *c);
size_t mm_conn_rbuf_cap(const struct mm_conn *c);

#endif
