#ifndef MMEM_LISTENER_H
#define MMEM_LISTENER_H

#include <stdbool.h>
#include <stdint.h>

#include "mmem/conn.h"

/* Listening sockets and the acceptor thread.
 *
 * create() binds every address from the settings (-l lists, -p, -b, or the
 * unix socket -s with mode -a, which disables TCP as in memcached). start()
 * runs an acceptor thread with its own loop: it accepts non-blocking
 * sockets, applies -c (maxconns), and hands each one to handoff(), which
 * picks a worker. On EMFILE/ENFILE it stops accepting and retries from a
 * timer. The same loop runs tick() once a second (the clock). */

struct mm_settings;
struct mm_stats;
struct mm_listener;

typedef void (*mm_listener_handoff_fn)(void *arg, int fd, enum mm_conn_transport transport,
                                       const char *listen_name);

struct mm_listener_cfg {
    const struct mm_settings *settings;
    mm_listener_handoff_fn handoff;
    void *handoff_arg;
    void (*tick)(void *arg); /* optional, every second */
    void *tick_arg;
    unsigned long *live;    /* open client connections (atomic, shared
                                      with the workers, who decrement it) */
    struct mm_stats *stats; /* the acceptor's own counter block */
    unsigned reserved_fds;  /* held back from -c, as memcached does */
    const char *backend;    /* loop backend, NULL = default */
};

/* Bind and listen. Returns NULL after logging why (address in use, bad -l). */
struct mm_listener *mm_listener_create(const struct mm_listener_cfg *cfg);
/* The first bound TCP port, or -1 when only a unix socket listens. */
int mm_listener_port(const struct mm_listener *l);
/* Tell the world where we listen: "<port>\n" to --ready-fd (then closed) and
 * memcached's "TCP INET: <port>" lines to $MEMCACHED_PORT_FILENAME. */
void mm_listener_announce(const struct mm_listener *l);
/* Start the acceptor thread. Returns 0 or -1. */
int mm_listener_start(struct mm_listener *l);
/* Stop accepting and join the thread (the sockets stay open until destroy). */
void mm_listener_stop(struct mm_listener *l);
/* Close the sockets (unlinking a unix socket path) and free. */
void mm_listener_destroy(struct mm_listener **l);

/* "stats" gauges; any thread. */
void mm_listener_gauges(const struct mm_listener *l, uint64_t *accepting_conns,
                        uint64_t *listen_disabled_num);
/* "stats conns" lines for the listening sockets; any thread. */
void mm_listener_emit(const struct mm_listener *l,
                      void (*emit)(void *arg, const char *name, const char *value), void *arg);

#endif
