#ifndef MMEM_SERVER_H
#define MMEM_SERVER_H

/* The running server: listener, acceptor thread and -t workers wired to one
 * store, plus the mm_cmd_env callbacks that let commands see the whole
 * server (stats across workers, stats conns, shutdown). main.c creates it,
 * starts it, waits for a signal and stops it. */

struct mm_clock;
struct mm_server;
struct mm_settings;
struct mm_store;

/* Bind the listening sockets; no thread or loop is created yet, so the
 * caller may still fork (daemonize) or drop privileges. The
 * settings, store (may be NULL until mm_server_set_store) and clock must
 * outlive the server; the acceptor thread
 * updates the clock every second. Returns NULL after logging why. */
struct mm_server *mm_server_create(const struct mm_settings *s, struct mm_store *store,
                                   struct mm_clock *clock);
/* Set the store (before start) when it could not exist at create() time:
 * main.c creates it after daemonizing, since it may start threads. */
void mm_server_set_store(struct mm_server *srv, struct mm_store *store);
/* The "watch" log hub commands attach watchers to (before start; NULL:
 * "watch" is refused). It must outlive the server. */
struct mm_watch;
void mm_server_set_watch(struct mm_server *srv, struct mm_watch *watch);
/* The connections -c must leave room for once bound: listening sockets,
 * UDP sockets (one per worker each) and reserved descriptors. */
unsigned long mm_server_fixed_conns(const struct mm_server *srv);
/* The TLS context for -Z (tls.h), before start; the server owns it from
 * now on and frees it in destroy. */
struct mm_tls_ctx;
void mm_server_set_tls(struct mm_server *srv, struct mm_tls_ctx *tls);
/* The first bound TCP port (-1 with a unix socket). */
int mm_server_port(const struct mm_server *srv);
/* Create and start the workers, then the acceptor, then announce the port (--ready-fd,
 * MEMCACHED_PORT_FILENAME). Returns 0 or -1. */
int mm_server_start(struct mm_server *srv);
/* Graceful stop: stop accepting, close every connection, join threads. */
void mm_server_stop(struct mm_server *srv);
void mm_server_destroy(struct mm_server **srv);

#endif
