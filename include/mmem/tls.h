#ifndef MMEM_TLS_H
#define MMEM_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/uio.h>

/* TLS (-Z) through OpenSSL, below the connection's read and write calls.
 *
 * Two objects. The context (one per process) holds the SSL_CTX built from
 * the -o ssl_* settings, the counters "stats" shows and the lock that lets
 * "refresh_certs" swap the certificate while workers accept. A set (one per
 * worker, used by that worker's thread only) holds the SSL objects of the
 * worker's TLS connections, found by socket, and the one write buffer the
 * worker's connections share; struct mm_conn stays at 256 bytes and a plain
 * connection pays nothing.
 *
 * All calls are non-blocking: the handshake and every read and write return
 * at once, saying which readiness (read or write) they wait for.
 *
 * Built only with configure's OpenSSL support (MMEM_WITH_TLS); without it
 * mm_tls_available() is false, the context cannot be made and settings.c
 * refuses -Z and the ssl_* options as a memcached built without TLS does. */

struct mm_settings;
struct mm_tls_ctx;
struct mm_tls_set;

enum mm_tls_rc {
    MM_TLS_DONE = 0,       /* the handshake is complete */
    MM_TLS_WANT_READ = 1,  /* call again when the socket is readable */
    MM_TLS_WANT_WRITE = 2, /* call again when the socket is writable */
    MM_TLS_FAILED = -1     /* give up on the connection (counted) */
};

/* Whether this mmem was built with OpenSSL. */
bool mm_tls_available(void);

/* Build the process context from s (s->ssl_enabled must be set): protocol
 * floor, certificate chain, key, CA, verify mode, ciphers, session cache,
 * kTLS. On failure writes memcached's message to err (OpenSSL's error queue
 * first) and returns NULL: the caller exits with status 64. */
struct mm_tls_ctx *mm_tls_ctx_create(const struct mm_settings *s, FILE *err);
void mm_tls_ctx_destroy(struct mm_tls_ctx **ctxp);

/* "refresh_certs": load the certificate chain, key and CA again from the
 * configured paths. Any thread. Returns true, or false with memcached's
 * one-line reply ("Error ...\r\n") in msg. ctx NULL (no -Z) answers as
 * memcached does without TLS enabled. The live context changes only when
 * every file loaded. */
bool mm_tls_refresh(struct mm_tls_ctx *ctx, char *msg, size_t size);

/* memcached's item-update interval: its clock starts this long before the
 * zero of "uptime", and the start-up certificate load is stamped with it. */
#define MM_TLS_START_STAMP_AGE 60

/* The "stats" lines, in memcached's order: ssl_new_sessions (with
 * ssl_session_cache), ssl_handshake_errors, time_since_server_cert_refresh
 * (uptime: "stats" uptime, for the age of the start-up load). ctx NULL: no
 * lines. Every failed handshake is counted; memcached counts only those its
 * listener thread sees fail at the first step. */
void mm_tls_stats_emit(struct mm_tls_ctx *ctx, uint32_t uptime,
                       void (*emit)(void *arg, const char *name, const char *value), void *arg);
/* "stats reset": the two counters start again from zero. */
void mm_tls_stats_reset(struct mm_tls_ctx *ctx);

/* A worker's set; NULL ctx gives NULL. */
struct mm_tls_set *mm_tls_set_create(struct mm_tls_ctx *ctx);
void mm_tls_set_destroy(struct mm_tls_set **setp);

/* Start the server side of a handshake on a connected socket. Returns 0,
 * or -1 (nothing to undo) if OpenSSL refused to make the object. */
int mm_tls_open(struct mm_tls_set *set, int fd);
/* Send close_notify if the session is healthy (one non-blocking try) and
 * free the object. Call before closing fd. */
void mm_tls_close(struct mm_tls_set *set, int fd);

/* Drive the handshake one step. Failures are counted. */
enum mm_tls_rc mm_tls_handshake(struct mm_tls_set *set, int fd);
/* Whether the handshake has completed. */
bool mm_tls_ready(const struct mm_tls_set *set, int fd);

/* readv's contract over the TLS session: fills the iovecs in order with as
 * much decrypted data as is at hand. Returns bytes (> 0), 0 when the peer
 * closed, or -1 with errno EAGAIN (nothing at hand now) or ECONNRESET. */
ssize_t mm_tls_readv(struct mm_tls_set *set, int fd, const struct iovec *iov, int cnt);
/* Whether decrypted or received bytes wait inside OpenSSL: the socket will
 * not report them readable, so the caller reads again without waiting. */
bool mm_tls_pending(const struct mm_tls_set *set, int fd);

/* Encrypt and send the start of iov: small pieces are gathered into the
 * set's write buffer (ssl_wbuf_size) so that a batch leaves as one record
 * and one send; a piece at least that large goes from where it lies.
 * Returns bytes taken (> 0), 0 when the socket is full (call again with the
 * same bytes at the front), -1 when the connection is dead. */
ssize_t mm_tls_writev(struct mm_tls_set *set, int fd, const struct iovec *iov, int cnt);

#endif
