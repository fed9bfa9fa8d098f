/* The server object: one listener (acceptor thread) and -t workers over a
 * shared store, and the process-wide views commands need: counters summed
 * across threads, "stats reset" as a baseline, "stats conns" and the
 * listener gauges. It owns threads but no policy: main.c decides when.
 * The UDP sockets (-U) are bound here and served by every worker. */
#include "config.h"

#include "mmem/server.h"

#include "mmem/alloc.h"
#include "mmem/auth.h"
#include "mmem/cmd_sasl.h"
#include "mmem/clock.h"
#include "mmem/cmd.h"
#include "mmem/ev.h"
#include "mmem/listener.h"
#include "mmem/log.h"
#include "mmem/notify.h"
#include "mmem/prefix.h"
#include "mmem/settings.h"
#include "mmem/stats.h"
#include "mmem/tls.h"
#include "mmem/udp.h"
#include "mmem/worker.h"

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <string.h>
#include <unistd.h>

/* The version "version" and "stats" report. Clients and tools gate
 * features on memcached's version number (memccapable, for one, fails 17
 * of its text tests against "0.1.0"), so mmem reports the memcached release
 * whose behaviour it reproduces; -V still prints mmem's own version. */
#define SERVER_COMPAT_VERSION "1.6.18"
/* -N is at most -t, and -t at most a few hundred in practice. */
#define MM_SERVER_NAPI_MAX 1024

struct mm_server {
    const struct mm_settings *s;
    struct mm_store *store;
    struct mm_clock *clock;
    struct mm_cmd_env env;
    struct mm_auth *auth;   /* -Y table, shared read-only by the workers */
    bool sasl_up;           /* -S: Cyrus SASL initialised */
    struct mm_tls_ctx *tls; /* -Z: the TLS context (owned) */
    struct mm_conn_cfg conn_cfg;
    struct mm_listener *listener;
    struct mm_udp_socks udp; /* the bound sockets; workers use dup()s */
    struct mm_worker **workers;
    unsigned nworkers;
    unsigned next_worker;              /* round robin; acceptor thread only */
    unsigned napi[MM_SERVER_NAPI_MAX]; /* -N: NAPI ids seen, in order; acceptor only */
    unsigned nnapi;
    unsigned long live; /* open client connections (atomic) */
    struct mm_stats acceptor_stats;
    pthread_mutex_t base_lock; /* guards base */
    struct mm_stats base;      /* totals at the last "stats reset" */
};

/* Gauges are not reset: memcached's "stats reset" leaves them. */
static void
clear_gauges(struct mm_stats *st)
{
    st->curr_connections = 0;
    st->connection_structures = 0;
}

static void
raw_sum(struct mm_server *srv, struct mm_stats *sum)
{
    unsigned i;

    mm_stats_sum(sum, &srv->acceptor_stats);
    for (i = 0; srv->workers != NULL && i < srv->nworkers; i++) {
        if (srv->workers[i] != NULL) {
            mm_stats_sum(sum, &srv->workers[i]->stats);
        }
    }
}

static void
env_stats_sum(void *arg, struct mm_stats *sum)
{
    struct mm_server *srv = arg;
    struct mm_stats raw;

    memset(&raw, 0, sizeof(raw));
    raw_sum(srv, &raw);
    pthread_mutex_lock(&srv->base_lock);
    /* Counters only grow, but a relaxed sum may be read a little before a
     * reset's; clamp so that nothing shows as a huge wrapped number. */
#define SRV_X_SUB(name) sum->name += raw.name >= srv->base.name ? raw.name - srv->base.name : 0;
    MM_STATS_THREAD_FIELDS(SRV_X_SUB)
#undef SRV_X_SUB
    pthread_mutex_unlock(&srv->base_lock);
}

static void
env_stats_reset(void *arg)
{
    struct mm_server *srv = arg;
    struct mm_stats raw;

    /* Blocks have one writer each, so instead of zeroing them from here the
     * current totals become the baseline later sums start from. */
    memset(&raw, 0, sizeof(raw));
    raw_sum(srv, &raw);
    clear_gauges(&raw);
    pthread_mutex_lock(&srv->base_lock);
    srv->base = raw;
    pthread_mutex_unlock(&srv->base_lock);
    mm_tls_stats_reset(srv->tls);
}

static bool
env_tls_refresh(void *arg, char *msg, size_t size)
{
    struct mm_server *srv = arg;

    return mm_tls_refresh(srv->tls, msg, size);
}

static void
env_tls_stats(void *arg, void (*emit)(void *emit_arg, const char *name, const char *value),
              void *emit_arg)
{
    struct mm_server *srv = arg;

    mm_tls_stats_emit(srv->tls, mm_clock_now(srv->clock), emit, emit_arg);
}

static void
env_conns_emit(void *arg, void (*emit)(void *emit_arg, const char *name, const char *value),
               void *emit_arg)
{
    struct mm_server *srv = arg;
    unsigned i;

    /* Listeners first: they have the lowest fds, and memcached lists by fd. */
    if (srv->listener != NULL) {
        mm_listener_emit(srv->listener, emit, emit_arg);
    }
    for (i = 0; srv->workers != NULL && i < srv->nworkers; i++) {
        if (srv->workers[i] != NULL && srv->workers[i]->udp != NULL) {
            mm_udp_emit(srv->workers[i]->udp, emit, emit_arg);
        }
    }
    for (i = 0; srv->workers != NULL && i < srv->nworkers; i++) {
        if (srv->workers[i] != NULL) {
            mm_conn_set_emit(&srv->workers[i]->conns, emit, emit_arg);
        }
    }
}

static void
env_server_gauges(void *arg, uint64_t *accepting_conns, uint64_t *listen_disabled_num,
                  uint64_t *reserved_fds)
{
    struct mm_server *srv = arg;

    *accepting_conns = 0;
    *listen_disabled_num = 0;
    if (srv->listener != NULL) {
        mm_listener_gauges(srv->listener, accepting_conns, listen_disabled_num);
    }
    *reserved_fds = 5u * srv->nworkers;
}

static void
env_shutdown(void *arg, bool graceful)
{
    (void)arg;
    /* main.c waits for these in sigwait(); every thread blocks them, so the
     * signal stays pending until main collects it and stops us in order.
     * SIGUSR1 is memcached's graceful-shutdown signal. */
    (void)kill(getpid(), graceful ? SIGUSR1 : SIGTERM);
}

/* -N: the worker for a socket by the NAPI id of the receive queue it came
 * in on, as memcached picks its thread: each new id gets the next worker,
 * up to -N ids. An id of 0 (no busy-polling queue, as on loopback) falls
 * back to round robin (round_robin_fallback), and so does an id past the
 * first -N (unexpected_napi_ids). -1: round robin. Acceptor thread only. */
static int
napi_worker(struct mm_server *srv, int fd)
{
    unsigned id = 0;
    socklen_t len = sizeof(id);
    unsigned i;

    if (getsockopt(fd, SOL_SOCKET, SO_INCOMING_NAPI_ID, &id, &len) != 0 || id == 0) {
        MM_STAT_INCR(&srv->acceptor_stats, round_robin_fallback);
        return -1;
    }
    for (i = 0; i < srv->nnapi; i++) {
        if (srv->napi[i] == id) {
            return (int)(i % srv->nworkers);
        }
    }
    if (srv->nnapi < (unsigned)srv->s->compat.num_napi_ids && srv->nnapi < MM_SERVER_NAPI_MAX) {
        srv->napi[srv->nnapi] = id;
        return (int)(srv->nnapi++ % srv->nworkers);
    }
    MM_STAT_INCR(&srv->acceptor_stats, unexpected_napi_ids);
    return -1;
}

static void
handoff(void *arg, int fd, enum mm_conn_transport transport, const char *listen_name)
{
    struct mm_server *srv = arg;
    int napi =
        srv->s->compat.num_napi_ids > 0 && transport != MM_CONN_UNIX ? napi_worker(srv, fd) : -1;
    struct mm_worker *w;

    if (napi >= 0) {
        w = srv->workers[napi];
    } else {
        w = srv->workers[srv->next_worker];
        srv->next_worker = (srv->next_worker + 1) % srv->nworkers;
    }
    mm_worker_handoff(w, fd, transport, listen_name);
}

static void
tick(void *arg)
{
    struct mm_server *srv = arg;

    mm_clock_update(srv->clock);
}

struct mm_server *
mm_server_create(const struct mm_settings *s, struct mm_store *store, struct mm_clock *clock)
{
    struct mm_server *srv = mm_calloc(1, sizeof(*srv));
    struct mm_listener_cfg lc;

    srv->s = s;
    srv->store = store;
    srv->clock = clock;
    srv->nworkers = s->num_threads > 0 ? (unsigned)s->num_threads : 1;
    pthread_mutex_init(&srv->base_lock, NULL);

    srv->env.settings = s;
    srv->env.store = store;
    srv->env.clock = clock;
    srv->env.ev_backend = s->ev_backend;
    srv->env.version = SERVER_COMPAT_VERSION;
    srv->env.libevent_version = mm_ev_libevent_version();
    srv->env.stats_sum = env_stats_sum;
    srv->env.stats_reset = env_stats_reset;
    srv->env.conns_emit = env_conns_emit;
    srv->env.server_gauges = env_server_gauges;
    srv->env.shutdown = env_shutdown;
    if (mm_tls_available()) {
        srv->env.tls_refresh = env_tls_refresh;
        srv->env.tls_stats = env_tls_stats;
    }
    srv->env.arg = srv;
    srv->env.prefix = mm_prefix_create(s->prefix_delimiter, s->detail_enabled, 0);
    if (s->auth_file != NULL) {
        srv->auth = mm_auth_load(s->auth_file, stderr);
        if (srv->auth == NULL) {
            mm_server_destroy(&srv);
            return NULL;
        }
        srv->env.auth = srv->auth;
    }
    if (s->sasl) {
        if (!mm_cmd_sasl_init(stderr)) {
            mm_server_destroy(&srv);
            return NULL;
        }
        srv->sasl_up = true;
    }
    mm_conn_cfg_from_settings(&srv->conn_cfg, s);

    memset(&lc, 0, sizeof(lc));
    lc.settings = s;
    lc.handoff = handoff;
    lc.handoff_arg = srv;
    lc.tick = tick;
    lc.tick_arg = srv;
    lc.live = &srv->live;
    lc.stats = &srv->acceptor_stats;
    lc.reserved_fds = 5u * srv->nworkers;
    lc.backend = s->ev_backend;
    srv->listener = mm_listener_create(&lc);
    if (srv->listener == NULL ||
        mm_udp_bind(s, &srv->udp, mm_listener_portfile(srv->listener)) != 0) {
        mm_server_destroy(&srv);
        return NULL;
    }

    return srv;
}

void
mm_server_set_store(struct mm_server *srv, struct mm_store *store)
{
    srv->store = store;
    srv->env.store = store;
}

void
mm_server_set_tls(struct mm_server *srv, struct mm_tls_ctx *tls)
{
    mm_tls_ctx_destroy(&srv->tls);
    srv->tls = tls;
    srv->conn_cfg.tls = tls;
}

void
mm_server_set_watch(struct mm_server *srv, struct mm_watch *watch)
{
    srv->env.watch = watch;
}

unsigned long
mm_server_fixed_conns(const struct mm_server *srv)
{
    /* As memcached counts them: each listening socket is a connection, each
     * UDP socket one per worker, plus the descriptors held in reserve. */
    return (unsigned long)mm_listener_nsocks(srv->listener) +
           (unsigned long)srv->udp.n * srv->nworkers + 5ul * srv->nworkers;
}

int
mm_server_port(const struct mm_server *srv)
{
    return mm_listener_port(srv->listener);
}

int
mm_server_start(struct mm_server *srv)
{
    unsigned i;

    /* Loops and threads are created here, not in create(), so that main.c
     * may daemonize (fork) in between. */
    srv->workers = mm_calloc(srv->nworkers, sizeof(*srv->workers));
    for (i = 0; i < srv->nworkers; i++) {
        srv->workers[i] =
            mm_worker_create(i, srv->s->ev_backend, &srv->env, &srv->conn_cfg, &srv->live);
        if (srv->workers[i] == NULL) {
            mm_log_error("cannot create worker %u (event backend %s)", i,
                         srv->s->ev_backend != NULL ? srv->s->ev_backend : "default");
            return -1;
        }
        if (srv->udp.n > 0 && mm_worker_add_udp(srv->workers[i], &srv->udp) != 0) {
            mm_log_error("worker %u cannot serve UDP", i);
            return -1;
        }
    }
    if (srv->env.ev_backend == NULL) {
        srv->env.ev_backend = mm_ev_loop_backend(srv->workers[0]->loop);
    }
    for (i = 0; i < srv->nworkers; i++) {
        if (mm_worker_start(srv->workers[i]) != 0) {
            mm_log_error("cannot start worker thread %u", i);
            return -1;
        }
    }
    if (mm_listener_start(srv->listener) != 0) {
        return -1;
    }
    mm_listener_announce(srv->listener);
    return 0;
}

void
mm_server_stop(struct mm_server *srv)
{
    unsigned i;

    (void)mm_notify_stopping();
    /* Order matters: no new sockets reach a worker after it stopped. */
    if (srv->listener != NULL) {
        mm_listener_stop(srv->listener);
    }
    for (i = 0; srv->workers != NULL && i < srv->nworkers; i++) {
        if (srv->workers[i] != NULL) {
            mm_worker_stop(srv->workers[i]);
        }
    }
}

void
mm_server_destroy(struct mm_server **srvp)
{
    struct mm_server *srv = *srvp;
    unsigned i;

    if (srv == NULL) {
        return;
    }
    mm_server_stop(srv);
    for (i = 0; srv->workers != NULL && i < srv->nworkers; i++) {
        mm_worker_destroy(&srv->workers[i]);
    }
    mm_free(srv->workers);
    mm_listener_destroy(&srv->listener);
    mm_udp_close(&srv->udp);
    pthread_mutex_destroy(&srv->base_lock);
    mm_auth_free(&srv->auth);
    mm_tls_ctx_destroy(&srv->tls);
    mm_prefix_destroy(&srv->env.prefix);
    if (srv->sasl_up) {
        mm_cmd_sasl_shutdown();
    }
    mm_free(srv);
    *srvp = NULL;
}
