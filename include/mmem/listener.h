#ifndef MMEM_LISTENER_H
#define MMEM_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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
/* How many listening sockets (TCP or the unix socket) are open. */
int mm_listener_nsocks(const struct mm_listener *l);
/* The first bound TCP port, or -1 when only a unix socket listens. */
int mm_listener_port(const struct mm_listener *l);
/* $MEMCACHED_PORT_FILENAME, as memcached writes it: unless -s is given,
 * "<name>.lck" is opened for appending before the first bind, gets one
 * "TCP INET: <port>" line (INET6 for IPv6) per bound TCP socket, then the
 * UDP lines (written by udp.c through this FILE), and is renamed to <name>
 * by announce. NULL when the variable is unset, -s is given, or the file
 * could not be opened (memcached's "Failed to open" warning). */
FILE *mm_listener_portfile(const struct mm_listener *l);
/* One port file line: "<proto> INET[6]: <port>\n". */
void mm_listener_portfile_line(FILE *f, const char *proto, int family, int port);
/* Tell the world where we listen: "<port>\n" to --ready-fd (then closed;
 * -1 without TCP), and complete the port file. */
void mm_listener_announce(struct mm_listener *l);

/* Shared with udp.c, so that both transports fail as memcached does. The
 * getaddrinfo service for a -p/-U value (-1 = any port); the first line of
 * a getaddrinfo failure, returning the errno memcached's last line shows;
 * and that last line when -l was given. */
void mm_listener_port_service(int port, char *buf, size_t len);
/* -o sock_cookie_id: SO_MARK on a listening socket (TCP or UDP). */
void mm_listener_mark(const struct mm_settings *s, int fd);
int mm_listener_gai_error(int rc);
void mm_listener_fail_interfaces(const struct mm_settings *s, int why);
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
