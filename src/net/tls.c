/* TLS (-Z) under the connection's reads and writes, through OpenSSL 3: the
 * process context built from the ssl_* settings (and rebuilt in place by
 * refresh_certs), and per worker the sessions of its connections, found by
 * socket, with one shared write buffer. Handshakes are driven step by step
 * by the worker's event loop and never block it. Everything that needs
 * OpenSSL sits under the one MMEM_WITH_TLS block; without it the calls are
 * stubs and settings.c refuses -Z. */
#include "config.h"

#include "mmem/tls.h"

#include "mmem/alloc.h"
#include "mmem/log.h"
#include "mmem/settings.h"

#include <errno.h>
#include <string.h>

#ifdef MMEM_WITH_TLS

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <time.h>

/* Sessions resumed from the server's cache must come from this server's
 * own context: OpenSSL requires a context id with a server-side cache. */
#define TLS_SESSION_ID_CONTEXT "mmem"

struct mm_tls_ctx {
    SSL_CTX *ssl_ctx;
    const struct mm_settings *s;
    /* refresh_certs changes the certificate of the live SSL_CTX: new
     * sessions are made under the read side, the reload under the write. */
    pthread_rwlock_t lock;
    uint64_t new_sessions;     /* atomic */
    uint64_t handshake_errors; /* atomic */
    uint64_t refreshed_at;     /* atomic: monotonic seconds of the last
                                  successful refresh_certs, 0 = none */
};

/* One connection's session. flags live beside the pointer, not in
 * struct mm_conn, which has no room to spare. */
struct tls_slot {
    SSL *ssl;
    uint8_t ready;  /* handshake complete */
    uint8_t broken; /* fatal error: no close_notify, no further calls */
    uint8_t full;   /* the last read filled the caller's space */
};

struct mm_tls_set {
    struct mm_tls_ctx *ctx;
    struct tls_slot *slots; /* indexed by fd */
    size_t nslots;
    char *wbuf; /* ssl_wbuf_size bytes, made at the first gathered write */
    size_t wbuf_size;
};

bool
mm_tls_available(void)
{
    return true;
}

static uint64_t
mono_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec;
}

/* One "Error ..." line as memcached words it: the earliest OpenSSL error
 * goes in the line, the rest of the queue to stderr. */
static void
load_error(char *msg, size_t size, FILE *err, const char *what, const char *path)
{
    char reason[256];
    unsigned long e = ERR_get_error();

    ERR_error_string_n(e, reason, sizeof(reason));
    ERR_print_errors_fp(err);
    snprintf(msg, size, "Error loading the %s: %s : %s\r\n", what, path != NULL ? path : "(null)",
             reason);
}

/* Certificate chain, key (memcached checks they match) and optional CA
 * into ssl_ctx. Returns true, or false with the reply line in msg. */
static bool
load_certs(SSL_CTX *ssl_ctx, const struct mm_settings *s, char *msg, size_t size, FILE *err)
{
    const struct mm_settings_compat *c = &s->compat;

    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(ssl_ctx, c->ssl_chain_cert) != 1) {
        load_error(msg, size, err, "certificate chain", c->ssl_chain_cert);
        return false;
    }
    if (SSL_CTX_use_PrivateKey_file(ssl_ctx, c->ssl_key, c->ssl_keyformat) != 1) {
        load_error(msg, size, err, "key", c->ssl_key);
        return false;
    }
    if (SSL_CTX_check_private_key(ssl_ctx) != 1) {
        ERR_print_errors_fp(err);
        snprintf(msg, size, "Error validating the certificate\r\n");
        return false;
    }
    if (c->ssl_ca_cert != NULL) {
        STACK_OF(X509_NAME) * names;

        if (SSL_CTX_load_verify_locations(ssl_ctx, c->ssl_ca_cert, NULL) != 1) {
            load_error(msg, size, err, "CA certificate", c->ssl_ca_cert);
            return false;
        }
        /* The names a client is asked to pick its certificate by. */
        names = SSL_load_client_CA_file(c->ssl_ca_cert);
        if (names != NULL) {
            SSL_CTX_set_client_CA_list(ssl_ctx, names);
        }
    }
    return true;
}

static int
on_new_session(SSL *ssl, SSL_SESSION *sess)
{
    struct mm_tls_ctx *ctx = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

    (void)sess;
    __atomic_fetch_add(&ctx->new_sessions, 1, __ATOMIC_RELAXED);
    return 0; /* OpenSSL keeps its own reference; we took none */
}

struct mm_tls_ctx *
mm_tls_ctx_create(const struct mm_settings *s, FILE *err)
{
    static const int verify_modes[] = {
        SSL_VERIFY_NONE,
        SSL_VERIFY_PEER,
        SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
        SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT | SSL_VERIFY_CLIENT_ONCE,
    };
    static const int versions[] = {TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION};
    const struct mm_settings_compat *c = &s->compat;
    struct mm_tls_ctx *ctx = mm_calloc(1, sizeof(*ctx));
    char msg[1024];

    ctx->s = s;
    pthread_rwlock_init(&ctx->lock, NULL);
    ctx->ssl_ctx = SSL_CTX_new(TLS_server_method());
    if (ctx->ssl_ctx == NULL) {
        ERR_print_errors_fp(err);
        mm_tls_ctx_destroy(&ctx);
        return NULL;
    }
    SSL_CTX_set_app_data(ctx->ssl_ctx, ctx);
    SSL_CTX_set_min_proto_version(ctx->ssl_ctx, versions[c->ssl_min_version & 3]);
    if (!load_certs(ctx->ssl_ctx, s, msg, sizeof(msg), err)) {
        fputs(msg, err);
        mm_tls_ctx_destroy(&ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx->ssl_ctx, verify_modes[c->ssl_verify_mode & 3], NULL);
    if (c->ssl_ciphers != NULL && SSL_CTX_set_cipher_list(ctx->ssl_ctx, c->ssl_ciphers) != 1) {
        fprintf(err, "Error setting the provided cipher(s): %s\n", c->ssl_ciphers);
        mm_tls_ctx_destroy(&ctx);
        return NULL;
    }
    if (c->ssl_session_cache) {
        SSL_CTX_sess_set_new_cb(ctx->ssl_ctx, on_new_session);
        SSL_CTX_set_session_cache_mode(ctx->ssl_ctx, SSL_SESS_CACHE_SERVER);
        SSL_CTX_set_session_id_context(ctx->ssl_ctx, (const unsigned char *)TLS_SESSION_ID_CONTEXT,
                                       strlen(TLS_SESSION_ID_CONTEXT));
    } else {
        SSL_CTX_set_session_cache_mode(ctx->ssl_ctx, SSL_SESS_CACHE_OFF);
    }
    /* OpenSSL falls back to user-space crypto by itself when the kernel has
     * no tls module (as memcached, mmem then serves TLS the usual way). */
    if (c->ssl_kernel_tls) {
        SSL_CTX_set_options(ctx->ssl_ctx, SSL_OP_ENABLE_KTLS);
    }
    /* Idle connections give their record buffers back (about 34 KB each);
     * read-ahead takes what the socket holds in one read instead of a
     * header read and a body read per record; partial writes let a large
     * value leave record by record; the write buffer may move between
     * retries because each retry gathers the same bytes afresh. */
    SSL_CTX_set_mode(ctx->ssl_ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                       SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx->ssl_ctx, 1);
    return ctx;
}

void
mm_tls_ctx_destroy(struct mm_tls_ctx **ctxp)
{
    struct mm_tls_ctx *ctx = *ctxp;

    if (ctx == NULL) {
        return;
    }
    SSL_CTX_free(ctx->ssl_ctx);
    pthread_rwlock_destroy(&ctx->lock);
    mm_free(ctx);
    *ctxp = NULL;
}

bool
mm_tls_refresh(struct mm_tls_ctx *ctx, char *msg, size_t size)
{
    SSL_CTX *trial;
    bool ok;

    if (ctx == NULL) {
        snprintf(msg, size, "Error TLS not enabled\r\n");
        return false;
    }
    /* Load into a scratch context first: a bad file then leaves the live
     * one serving the old certificate instead of half the new one. */
    trial = SSL_CTX_new(TLS_server_method());
    if (trial == NULL) {
        snprintf(msg, size, "Error TLS not enabled\r\n");
        return false;
    }
    ok = load_certs(trial, ctx->s, msg, size, stderr);
    SSL_CTX_free(trial);
    if (!ok) {
        return false;
    }
    pthread_rwlock_wrlock(&ctx->lock);
    ok = load_certs(ctx->ssl_ctx, ctx->s, msg, size, stderr);
    pthread_rwlock_unlock(&ctx->lock);
    if (ok) {
        /* 0 means "never": a refresh in the clock's first second counts 1. */
        uint64_t now = mono_seconds();

        __atomic_store_n(&ctx->refreshed_at, now > 0 ? now : 1, __ATOMIC_RELAXED);
    }
    return ok;
}

void
mm_tls_stats_emit(struct mm_tls_ctx *ctx, uint32_t uptime,
                  void (*emit)(void *arg, const char *name, const char *value), void *arg)
{
    char v[32];
    uint64_t at;

    if (ctx == NULL) {
        return;
    }
    if (ctx->s->compat.ssl_session_cache) {
        snprintf(v, sizeof(v), "%llu",
                 (unsigned long long)__atomic_load_n(&ctx->new_sessions, __ATOMIC_RELAXED));
        emit(arg, "ssl_new_sessions", v);
    }
    snprintf(v, sizeof(v), "%llu",
             (unsigned long long)__atomic_load_n(&ctx->handshake_errors, __ATOMIC_RELAXED));
    emit(arg, "ssl_handshake_errors", v);
    /* memcached stamps the start-up load before its clock runs, with its
     * clock's zero, which lies MM_TLS_START_STAMP_AGE seconds before the
     * zero of "uptime": until a refresh_certs, the age shown is that much
     * more than the uptime. */
    at = __atomic_load_n(&ctx->refreshed_at, __ATOMIC_RELAXED);
    snprintf(v, sizeof(v), "%u",
             at != 0 ? (unsigned)(mono_seconds() - at) : uptime + MM_TLS_START_STAMP_AGE);
    emit(arg, "time_since_server_cert_refresh", v);
}

void
mm_tls_stats_reset(struct mm_tls_ctx *ctx)
{
    if (ctx != NULL) {
        __atomic_store_n(&ctx->new_sessions, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&ctx->handshake_errors, 0, __ATOMIC_RELAXED);
    }
}

struct mm_tls_set *
mm_tls_set_create(struct mm_tls_ctx *ctx)
{
    struct mm_tls_set *set;

    if (ctx == NULL) {
        return NULL;
    }
    set = mm_calloc(1, sizeof(*set));
    set->ctx = ctx;
    set->wbuf_size = ctx->s->compat.ssl_wbuf_size > 0 ? ctx->s->compat.ssl_wbuf_size : 16384;
    return set;
}

void
mm_tls_set_destroy(struct mm_tls_set **setp)
{
    struct mm_tls_set *set = *setp;
    size_t i;

    if (set == NULL) {
        return;
    }
    for (i = 0; i < set->nslots; i++) {
        SSL_free(set->slots[i].ssl);
    }
    mm_free(set->slots);
    mm_free(set->wbuf);
    mm_free(set);
    *setp = NULL;
}

static struct tls_slot *
slot_of(const struct mm_tls_set *set, int fd)
{
    return set != NULL && fd >= 0 && (size_t)fd < set->nslots ? &set->slots[fd] : NULL;
}

int
mm_tls_open(struct mm_tls_set *set, int fd)
{
    struct tls_slot *slot;
    SSL *ssl;

    if (set == NULL || fd < 0) {
        return -1;
    }
    if ((size_t)fd >= set->nslots) {
        /* Sockets are numbered densely from the bottom: the table grows to
         * the highest one seen, doubling, 16 bytes a socket. */
        size_t n = set->nslots > 0 ? set->nslots : 64;

        while (n <= (size_t)fd) {
            n *= 2;
        }
        set->slots = mm_realloc(set->slots, n * sizeof(*set->slots));
        memset(set->slots + set->nslots, 0, (n - set->nslots) * sizeof(*set->slots));
        set->nslots = n;
    }
    pthread_rwlock_rdlock(&set->ctx->lock);
    ssl = SSL_new(set->ctx->ssl_ctx);
    pthread_rwlock_unlock(&set->ctx->lock);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        ERR_clear_error();
        return -1;
    }
    SSL_set_accept_state(ssl);
    slot = &set->slots[fd];
    SSL_free(slot->ssl); /* a leftover would be a bug; never leak it */
    memset(slot, 0, sizeof(*slot));
    slot->ssl = ssl;
    return 0;
}

void
mm_tls_close(struct mm_tls_set *set, int fd)
{
    struct tls_slot *slot = slot_of(set, fd);

    if (slot == NULL || slot->ssl == NULL) {
        return;
    }
    if (slot->ready && !slot->broken) {
        /* One try at close_notify; a peer that is gone is not waited for. */
        (void)SSL_shutdown(slot->ssl);
    }
    ERR_clear_error();
    SSL_free(slot->ssl);
    memset(slot, 0, sizeof(*slot));
}

/* A fatal error on slot: OpenSSL must not be asked to shut the session
 * down afterwards, and the queue belongs to nobody else. */
static void
slot_broken(struct tls_slot *slot)
{
    slot->broken = 1;
    ERR_clear_error();
}

enum mm_tls_rc
mm_tls_handshake(struct mm_tls_set *set, int fd)
{
    struct tls_slot *slot = slot_of(set, fd);
    int r;

    if (slot == NULL || slot->ssl == NULL || slot->broken) {
        return MM_TLS_FAILED;
    }
    if (slot->ready) {
        return MM_TLS_DONE;
    }
    ERR_clear_error();
    r = SSL_do_handshake(slot->ssl);
    if (r == 1) {
        slot->ready = 1;
        return MM_TLS_DONE;
    }
    switch (SSL_get_error(slot->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        return MM_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return MM_TLS_WANT_WRITE;
    default:
        if (mm_log_get_level() >= MM_LOG_INFO) {
            char reason[256];

            ERR_error_string_n(ERR_peek_error(), reason, sizeof(reason));
            mm_log_info("<%d TLS handshake failed: %s", fd, reason);
        }
        __atomic_fetch_add(&set->ctx->handshake_errors, 1, __ATOMIC_RELAXED);
        slot_broken(slot);
        return MM_TLS_FAILED;
    }
}

bool
mm_tls_ready(const struct mm_tls_set *set, int fd)
{
    const struct tls_slot *slot = slot_of(set, fd);

    return slot != NULL && slot->ready;
}

/* SSL_read_ex's outcome in readv's terms: 1 = go on, 0 = stop here. */
static int
read_failed(struct tls_slot *slot, int r, size_t got, ssize_t *ret)
{
    int e = SSL_get_error(slot->ssl, r);

    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        /* A KeyUpdate answer that cannot be sent now stays in OpenSSL and
         * leaves with the next write. */
        if (got == 0) {
            errno = EAGAIN;
            *ret = -1;
        }
        return 0;
    }
    if (e == SSL_ERROR_ZERO_RETURN) {
        *ret = (ssize_t)got; /* close_notify: end of stream */
        return 0;
    }
    slot_broken(slot);
    if (got == 0) {
        errno = ECONNRESET;
        *ret = -1;
    }
    return 0;
}

ssize_t
mm_tls_readv(struct mm_tls_set *set, int fd, const struct iovec *iov, int cnt)
{
    struct tls_slot *slot = slot_of(set, fd);
    size_t got = 0;
    ssize_t ret;
    int i;

    if (slot == NULL || slot->ssl == NULL || slot->broken) {
        errno = ECONNRESET;
        return -1;
    }
    slot->full = 0;
    for (i = 0; i < cnt; i++) {
        char *base = iov[i].iov_base;
        size_t off = 0;

        while (off < iov[i].iov_len) {
            size_t n = 0;
            int r;

            ERR_clear_error();
            r = SSL_read_ex(slot->ssl, base + off, iov[i].iov_len - off, &n);
            if (r != 1) {
                ret = (ssize_t)got;
                (void)read_failed(slot, r, got, &ret);
                return ret;
            }
            off += n;
            got += n;
            /* Stop when OpenSSL holds nothing more: another SSL_read would
             * cost a read(2) that says EAGAIN. */
            if (!SSL_has_pending(slot->ssl)) {
                return (ssize_t)got;
            }
        }
    }
    slot->full = 1;
    return (ssize_t)got;
}

bool
mm_tls_pending(const struct mm_tls_set *set, int fd)
{
    const struct tls_slot *slot = slot_of(set, fd);

    return slot != NULL && slot->ssl != NULL && slot->full && !slot->broken &&
           SSL_has_pending(slot->ssl);
}

ssize_t
mm_tls_writev(struct mm_tls_set *set, int fd, const struct iovec *iov, int cnt)
{
    struct tls_slot *slot = slot_of(set, fd);
    const void *buf;
    size_t len;
    size_t n = 0;
    int r;
    int e;

    if (slot == NULL || slot->ssl == NULL || slot->broken) {
        return -1;
    }
    if (cnt <= 0) {
        return 0;
    }
    if (cnt == 1 || iov[0].iov_len >= set->wbuf_size) {
        /* Nothing to gather (one piece, or a value filling records of its
         * own): encrypt from where the bytes lie. */
        buf = iov[0].iov_base;
        len = iov[0].iov_len;
    } else {
        int i;

        if (set->wbuf == NULL) {
            set->wbuf = mm_malloc(set->wbuf_size);
        }
        len = 0;
        for (i = 0; i < cnt && len < set->wbuf_size; i++) {
            size_t take = iov[i].iov_len;

            if (take > set->wbuf_size - len) {
                take = set->wbuf_size - len;
            }
            memcpy(set->wbuf + len, iov[i].iov_base, take);
            len += take;
        }
        buf = set->wbuf;
    }
    ERR_clear_error();
    r = SSL_write_ex(slot->ssl, buf, len, &n);
    if (r == 1) {
        return (ssize_t)n;
    }
    e = SSL_get_error(slot->ssl, r);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        return 0;
    }
    slot_broken(slot);
    return -1;
}

#else /* !MMEM_WITH_TLS */

bool
mm_tls_available(void)
{
    return false;
}

struct mm_tls_ctx *
mm_tls_ctx_create(const struct mm_settings *s, FILE *err)
{
    (void)s;
    fprintf(err, "mmem: this build has no TLS support\n");
    return NULL;
}

void
mm_tls_ctx_destroy(struct mm_tls_ctx **ctxp)
{
    *ctxp = NULL;
}

bool
mm_tls_refresh(struct mm_tls_ctx *ctx, char *msg, size_t size)
{
    (void)ctx;
    snprintf(msg, size, "ERROR\r\n");
    return false;
}

void
mm_tls_stats_emit(struct mm_tls_ctx *ctx, uint32_t uptime,
                  void (*emit)(void *arg, const char *name, const char *value), void *arg)
{
    (void)ctx;
    (void)uptime;
    (void)emit;
    (void)arg;
}

void
mm_tls_stats_reset(struct mm_tls_ctx *ctx)
{
    (void)ctx;
}

struct mm_tls_set *
mm_tls_set_create(struct mm_tls_ctx *ctx)
{
    (void)ctx;
    return NULL;
}

void
mm_tls_set_destroy(struct mm_tls_set **setp)
{
    *setp = NULL;
}

int
mm_tls_open(struct mm_tls_set *set, int fd)
{
    (void)set;
    (void)fd;
    return -1;
}

void
mm_tls_close(struct mm_tls_set *set, int fd)
{
    (void)set;
    (void)fd;
}

enum mm_tls_rc
mm_tls_handshake(struct mm_tls_set *set, int fd)
{
    (void)set;
    (void)fd;
    return MM_TLS_FAILED;
}

bool
mm_tls_ready(const struct mm_tls_set *set, int fd)
{
    (void)set;
    (void)fd;
    return false;
}

ssize_t
mm_tls_readv(struct mm_tls_set *set, int fd, const struct iovec *iov, int cnt)
{
    (void)set;
    (void)fd;
    (void)iov;
    (void)cnt;
    errno = ECONNRESET;
    return -1;
}

bool
mm_tls_pending(const struct mm_tls_set *set, int fd)
{
    (void)set;
    (void)fd;
    return false;
}

ssize_t
mm_tls_writev(struct mm_tls_set *set, int fd, const struct iovec *iov, int cnt)
{
    (void)set;
    (void)fd;
    (void)iov;
    (void)cnt;
    return -1;
}

#endif
