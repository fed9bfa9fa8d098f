/* Listening sockets and the acceptor thread: binds what -l/-p/-s ask for,
 * accepts with accept4(), enforces -c like memcached (the extra client is
 * told "ERROR Too many open connections" and dropped), backs off when the
 * process is out of descriptors, and hands every socket to a worker. It
 * never reads from a client. */
#include "config.h"

#include "mmem/listener.h"

#include "mmem/alloc.h"
#include "mmem/ev.h"
#include "mmem/log.h"
#include "mmem/settings.h"
#include "mmem/stats.h"
#include "mmem/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LISTENER_MAX_SOCKS 64
#define LISTENER_ACCEPT_BATCH 64
#define LISTENER_RETRY_MS 100    /* out of descriptors: try again after */
#define LISTENER_FULL_POLL_MS 10 /* -c reached without maxconns_fast */

static const char too_many[] = "ERROR Too many open connections\r\n";

struct listener_sock {
    struct mm_ev_io io;
    struct mm_listener *owner;
    int fd;
    int family;
    int port;
    enum mm_conn_transport transport;
    char name[128]; /* "tcp:127.0.0.1:11211", also listen_addr */
};

struct mm_listener {
    struct mm_listener_cfg cfg;
    const struct mm_settings *s;
    struct listener_sock socks[LISTENER_MAX_SOCKS];
    int nsocks;
    char *unix_path; /* unlinked on destroy */
    time_t created;
    FILE *portfile;     /* $MEMCACHED_PORT_FILENAME.lck while binding */
    char *portfile_tmp; /* its name; renamed by announce */

    struct mm_ev_loop *loop;
    struct mm_ev_wake *wake;
    struct mm_ev_timer retry_timer;
    struct mm_ev_timer tick_timer;
    pthread_t thread;
    bool started;
    bool paused;           /* loop thread only */
    bool fd_warned;        /* EMFILE logged since the last success */
    uint64_t accepting;    /* atomic: for "stats" */
    uint64_t disabled_num; /* atomic: listen_disabled_num */
};

/* ---- binding ------------------------------------------------------------ */

static int
sock_add(struct mm_listener *l, int fd, int family, enum mm_conn_transport transport)
{
    struct listener_sock *ls;
    struct sockaddr_storage ss;
    socklen_t slen = sizeof(ss);

    if (l->nsocks == LISTENER_MAX_SOCKS) {
        mm_log_error("too many listening sockets (at most %d)", LISTENER_MAX_SOCKS);
        close(fd);
        return -1;
    }
    ls = &l->socks[l->nsocks++];
    memset(ls, 0, sizeof(*ls));
    ls->owner = l;
    ls->fd = fd;
    ls->family = family;
    ls->transport = transport;
    ls->port = -1;
    memset(&ss, 0, sizeof(ss));
    if (getsockname(fd, (struct sockaddr *)&ss, &slen) == 0) {
        mm_conn_format_addr(ls->name, sizeof(ls->name), transport, &ss, slen);
        if (ss.ss_family == AF_INET) {
            ls->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            ls->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
    }
    if (transport != MM_CONN_UNIX && l->portfile != NULL) {
        mm_listener_portfile_line(l->portfile, "TCP", family, ls->port);
    }
    return 0;
}

static int
first_tcp_port(const struct mm_listener *l)
{
    int i;

    for (i = 0; i < l->nsocks; i++) {
        if (l->socks[i].transport != MM_CONN_UNIX && l->socks[i].port > 0) {
            return l->socks[i].port;
        }
    }
    return -1;
}

static void
tune_listener(int fd, int family)
{
    int one = 1;

    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (family == AF_INET || family == AF_INET6) {
        /* Accepted sockets inherit these on Linux: set once here. */
        (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    if (family == AF_INET6) {
        /* The IPv4 wildcard gets its own socket, as in memcached. */
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
}

/* bind(), except that with -p 0 every socket after the first tries the
 * port the first one got (the IPv6 twin, other -l addresses), so that one
 * port number serves all; a free port of its own if that one is taken. */
static int
bind_addr(struct mm_listener *l, int fd, const struct addrinfo *ai, bool ephemeral)
{
    struct sockaddr_storage ss;
    int first = first_tcp_port(l);

    if (!ephemeral || first <= 0 || ai->ai_addrlen > sizeof(ss)) {
        return bind(fd, ai->ai_addr, ai->ai_addrlen);
    }
    memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    if (ss.ss_family == AF_INET) {
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)first);
    } else if (ss.ss_family == AF_INET6) {
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)first);
    }
    if (bind(fd, (struct sockaddr *)&ss, ai->ai_addrlen) == 0) {
        return 0;
    }
    return bind(fd, ai->ai_addr, ai->ai_addrlen);
}

/* Bind every address host resolves to. host NULL = all interfaces.
 * transport: MM_CONN_TCP, or MM_CONN_TLS for a -Z listener. On failure
 * returns -1 with *why set to the errno memcached's final message reports,
 * after the first line it prints itself (see listener.h). */
static int
bind_tcp(struct mm_listener *l, const char *host, int port, enum mm_conn_transport transport,
         int *why)
{
    struct addrinfo hints, *res = NULL, *ai;
    char portstr[16];
    int bound = 0;
    int rc;

    mm_listener_port_service(port, portstr, sizeof(portstr));
    memset(&hints, 0, sizeof(hints));
    hints.ai_flags = AI_PASSIVE;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        *why = mm_listener_gai_error(rc);
        return -1;
    }
    *why = 0;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);

        if (fd < 0) {
            *why = errno;
            if (errno == EMFILE) {
                mm_log_error("server_socket: %s", strerror(errno));
                freeaddrinfo(res);
                return -1;
            }
            continue; /* e.g. no IPv6 in this kernel: try the next one */
        }
        tune_listener(fd, ai->ai_family);
        mm_listener_mark(l->s, fd);
        if (bind_addr(l, fd, ai, port <= 0) != 0) {
            int e = errno;

            close(fd);
            *why = e;
            /* Taken already, or the IPv6 wildcard on a host without IPv6:
             * the other addresses may do (memcached skips the first). */
            if (e == EADDRINUSE ||
                (e == EADDRNOTAVAIL && ai->ai_family == AF_INET6 && host == NULL)) {
                continue;
            }
            mm_log_error("bind(): %s", strerror(e));
            freeaddrinfo(res);
            return -1;
        }
        if (listen(fd, l->s->backlog > 0 ? l->s->backlog : 1024) != 0) {
            *why = errno;
            mm_log_error("listen(): %s", strerror(errno));
            close(fd);
            freeaddrinfo(res);
            return -1;
        }
        if (sock_add(l, fd, ai->ai_family, transport) != 0) {
            freeaddrinfo(res);
            return -1;
        }
        bound++;
    }
    freeaddrinfo(res);
    return bound > 0 ? 0 : -1;
}

/* One -l entry: the split follows memcached (settings.c does it). */
static int
bind_item(struct mm_listener *l, const char *item, int *why)
{
    char host[256];
    int port = l->s->port;
    enum mm_conn_transport transport = l->s->ssl_enabled ? MM_CONN_TLS : MM_CONN_TCP;

    /* -Z: "notls:" keeps one listener plain; without -Z memcached refuses
     * the prefix. settings.c cannot be -Z in a build without TLS. */
    if (mm_tls_available() && strncmp(item, "notls:", 6) == 0) {
        if (!l->s->ssl_enabled) {
            mm_log_error("'notls' option is valid only when SSL is enabled");
            mm_log_error("failed to listen on one of interface(s) %s", item);
            return -1;
        }
        item += 6;
        transport = MM_CONN_TCP;
    }
    if (mm_settings_split_listen(item, host, sizeof(host), &port) != 0) {
        mm_log_error("bad listen address: %s", item);
        *why = EINVAL;
        return -1;
    }
    return bind_tcp(l, host[0] != '\0' ? host : NULL, port, transport, why);
}

static int
bind_unix(struct mm_listener *l, const char *path)
{
    struct sockaddr_un sun;
    struct stat st;
    mode_t old_umask;
    int fd;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        mm_log_error("unix socket path too long: %s", path);
        return -1;
    }
    /* A socket left behind by an earlier run is in the way; anything that
     * is not a socket is not ours to remove. */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        (void)unlink(path);
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        mm_log_error("socket(AF_UNIX): %s", strerror(errno));
        return -1;
    }
    tune_listener(fd, AF_UNIX);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    /* The mode (-a) applies at bind time through the umask. */
    old_umask = umask((mode_t)(~l->s->access & 0777));
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
        mm_log_error("bind(%s): %s", path, strerror(errno));
        umask(old_umask);
        close(fd);
        return -1;
    }
    umask(old_umask);
    if (listen(fd, l->s->backlog > 0 ? l->s->backlog : 1024) != 0) {
        mm_log_error("listen(%s): %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    l->unix_path = strdup(path);
    return sock_add(l, fd, AF_UNIX, MM_CONN_UNIX);
}

/* memcached writes the port file only when it listens on the network,
 * through "<name>.lck" opened for appending before the first bind; a
 * failed start leaves that file behind, as memcached's does. */
static void
open_portfile(struct mm_listener *l)
{
    const char *fname = getenv("MEMCACHED_PORT_FILENAME");
    size_t len;

    if (fname == NULL) {
        return;
    }
    len = strlen(fname) + sizeof(".lck");
    l->portfile_tmp = mm_malloc(len);
    snprintf(l->portfile_tmp, len, "%s.lck", fname);
    l->portfile = fopen(l->portfile_tmp, "a");
    if (l->portfile == NULL) {
        /* A warning only: memcached goes on without the file. */
        mm_log_error("Failed to open \"%s\": %s", l->portfile_tmp, strerror(errno));
        mm_free(l->portfile_tmp);
        l->portfile_tmp = NULL;
    }
}

static int
bind_all(struct mm_listener *l)
{
    const struct mm_settings *s = l->s;
    int i;

    int why = 0;

    if (s->socketpath != NULL) {
        return bind_unix(l, s->socketpath);
    }
    open_portfile(l);
    if (s->port == 0) {
        return 0; /* -p 0: no TCP at all, as in memcached */
    }
    if (s->nlisten == 0) {
        if (bind_tcp(l, NULL, s->port, s->ssl_enabled ? MM_CONN_TLS : MM_CONN_TCP, &why) != 0) {
            mm_log_error("failed to listen on TCP port %d: %s", s->port, strerror(why));
            return -1;
        }
        return 0;
    }
    for (i = 0; i < s->nlisten; i++) {
        if (bind_item(l, s->listen[i], &why) != 0) {
            mm_listener_fail_interfaces(s, why);
            return -1;
        }
    }
    return 0;
}

struct mm_listener *
mm_listener_create(const struct mm_listener_cfg *cfg)
{
    struct mm_listener *l = mm_calloc(1, sizeof(*l));

    l->cfg = *cfg;
    l->s = cfg->settings;
    l->created = time(NULL);
    if (bind_all(l) != 0) {
        mm_listener_destroy(&l);
        return NULL;
    }
    /* memcached counts its listening connections among the connections. */
    if (cfg->stats != NULL) {
        MM_STAT_ADD(cfg->stats, total_connections, l->nsocks);
        MM_STAT_ADD(cfg->stats, connection_structures, l->nsocks);
    }
    __atomic_store_n(&l->accepting, 1, __ATOMIC_RELAXED);
    return l;
}

int
mm_listener_nsocks(const struct mm_listener *l)
{
    return l->nsocks;
}

int
mm_listener_port(const struct mm_listener *l)
{
    return first_tcp_port(l);
}

FILE *
mm_listener_portfile(const struct mm_listener *l)
{
    return l->portfile;
}

void
mm_listener_announce(struct mm_listener *l)
{
    int port = first_tcp_port(l);

    if (l->s->ready_fd >= 0) {
        char line[32];
        int n = snprintf(line, sizeof(line), "%d\n", port);

        if (write(l->s->ready_fd, line, (size_t)n) != n) {
            mm_log_warn("--ready-fd=%d: %s", l->s->ready_fd, strerror(errno));
        }
        close(l->s->ready_fd);
    }
    if (l->portfile != NULL) {
        /* Complete now: the rename shows a reader the whole file at once
         * (memcached's tests poll for it). */
        const char *fname = getenv("MEMCACHED_PORT_FILENAME");
        int bad = fclose(l->portfile);

        l->portfile = NULL;
        if (bad != 0 || fname == NULL || rename(l->portfile_tmp, fname) != 0) {
            mm_log_warn("cannot write %s: %s", l->portfile_tmp, strerror(errno));
        }
        mm_free(l->portfile_tmp);
        l->portfile_tmp = NULL;
    }
}

void
mm_listener_mark(const struct mm_settings *s, int fd)
{
    int mark = (int)s->compat.sock_cookie_id;

    /* A firewall may match on the mark. Without the privilege for it this
     * is a warning, as in memcached. */
    if (mark != 0 && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) != 0) {
        mm_log_error("setsockopt: %s", strerror(errno));
    }
}

void
mm_listener_portfile_line(FILE *f, const char *proto, int family, int port)
{
    fprintf(f, "%s INET%s: %d\n", proto, family == AF_INET6 ? "6" : "", port);
}

void
mm_listener_port_service(int port, char *buf, size_t len)
{
    /* -1 asks for any port; other values go to getaddrinfo as memcached
     * passes them (a negative one fails there, 65536 and up wrap). */
    snprintf(buf, len, "%d", port == -1 ? 0 : port);
}

int
mm_listener_gai_error(int rc)
{
    if (rc == EAI_SYSTEM) {
        int e = errno;

        mm_log_error("getaddrinfo(): %s", strerror(e));
        return e;
    }
    mm_log_error("getaddrinfo(): %s", gai_strerror(rc));
    return 0; /* memcached's errno is untouched: its last line says Success */
}

void
mm_listener_fail_interfaces(const struct mm_settings *s, int why)
{
    mm_log_error("failed to listen on one of interface(s) %s: %s", s->inter, strerror(why));
}

/* ---- accepting ---------------------------------------------------------- */

static void
set_accepting(struct mm_listener *l, bool on)
{
    int i;

    if (on == !l->paused) {
        return;
    }
    l->paused = !on;
    for (i = 0; i < l->nsocks; i++) {
        (void)mm_ev_io_set(l->loop, &l->socks[i].io, on ? MM_EV_READ : 0);
    }
    __atomic_store_n(&l->accepting, on ? 1 : 0, __ATOMIC_RELAXED);
    if (!on) {
        __atomic_fetch_add(&l->disabled_num, 1, __ATOMIC_RELAXED);
    }
}

static void
pause_for(struct mm_listener *l, uint64_t ms)
{
    set_accepting(l, false);
    mm_ev_timer_start(l->loop, &l->retry_timer, ms, 0);
}

/* The maxconns test memcached applies: the client count plus the
 * descriptors held in reserve must stay below -c minus one. */
static bool
over_limit(const struct mm_listener *l, unsigned long clients)
{
    return clients + 1 + l->cfg.reserved_fds >= (unsigned long)l->s->maxconns - 1;
}

static void
on_retry(struct mm_ev_timer *t)
{
    struct mm_listener *l = t->arg;
    unsigned long live = l->cfg.live != NULL ? __atomic_load_n(l->cfg.live, __ATOMIC_RELAXED) : 0;

    if (!l->s->maxconns_fast && over_limit(l, live)) {
        mm_ev_timer_start(l->loop, &l->retry_timer, LISTENER_FULL_POLL_MS, 0);
        return;
    }
    set_accepting(l, true);
}

static void
reject(struct mm_listener *l, int fd)
{
    /* Count first: a client that sees the close and then asks "stats" on
     * another connection must find the rejection counted. */
    if (l->cfg.stats != NULL) {
        MM_STAT_INCR(l->cfg.stats, rejected_connections);
    }
    /* Best effort: a fresh socket has room for one short line. */
    (void)send(fd, too_many, sizeof(too_many) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    close(fd);
}

static void
on_accept(struct mm_ev_io *io, unsigned revents)
{
    struct listener_sock *ls = io->arg;
    struct mm_listener *l = ls->owner;
    int i;

    (void)revents;
    for (i = 0; i < LISTENER_ACCEPT_BATCH && !l->paused; i++) {
        unsigned long before = 0;
        int fd = accept4(ls->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Once per episode: the retry timer would repeat it. */
                if (!l->fd_warned) {
                    mm_log_warn("accept(): %s; retrying every %d ms", strerror(errno),
                                LISTENER_RETRY_MS);
                    l->fd_warned = true;
                }
                pause_for(l, LISTENER_RETRY_MS);
            } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
                mm_log_warn("accept(): %s", strerror(errno));
            }
            return;
        }
        l->fd_warned = false;
        if (l->cfg.live != NULL) {
            before = __atomic_fetch_add(l->cfg.live, 1, __ATOMIC_RELAXED);
        }
        if (l->s->maxconns > 0 && over_limit(l, before)) {
            __atomic_fetch_sub(l->cfg.live, 1, __ATOMIC_RELAXED);
            if (l->s->maxconns_fast) {
                reject(l, fd);
                continue;
            }
            /* Without maxconns_fast memcached stops accepting until a client
             * leaves; the one already accepted is dropped. */
            close(fd);
            pause_for(l, LISTENER_FULL_POLL_MS);
            return;
        }
        l->cfg.handoff(l->cfg.handoff_arg, fd, ls->transport, ls->name);
    }
}

static void
on_tick(struct mm_ev_timer *t)
{
    struct mm_listener *l = t->arg;

    l->cfg.tick(l->cfg.tick_arg);
}

static void
on_wake(struct mm_ev_wake *w, void *arg)
{
    struct mm_listener *l = arg;

    (void)w;
    mm_ev_loop_stop(l->loop);
}

static void *
acceptor_main(void *arg)
{
    struct mm_listener *l = arg;

    pthread_setname_np(pthread_self(), "mm-acceptor");
    if (mm_ev_loop_run(l->loop) != 0) {
        mm_log_error("acceptor: event loop failed");
    }
    return NULL;
}

int
mm_listener_start(struct mm_listener *l)
{
    int i;

    l->loop = mm_ev_loop_create(l->cfg.backend);
    if (l->loop == NULL) {
        mm_log_error("acceptor: cannot create an event loop");
        return -1;
    }
    l->wake = mm_ev_wake_create(l->loop, on_wake, l);
    if (l->wake == NULL) {
        mm_ev_loop_destroy(&l->loop);
        return -1;
    }
    mm_ev_timer_init(&l->retry_timer, on_retry, l);
    mm_ev_timer_init(&l->tick_timer, on_tick, l);
    if (l->cfg.tick != NULL) {
        mm_ev_timer_start(l->loop, &l->tick_timer, 1000, 1000);
    }
    for (i = 0; i < l->nsocks; i++) {
        mm_ev_io_init(&l->socks[i].io, l->socks[i].fd, on_accept, &l->socks[i]);
        if (mm_ev_io_set(l->loop, &l->socks[i].io, MM_EV_READ) != 0) {
            mm_log_error("acceptor: cannot watch %s", l->socks[i].name);
            return -1;
        }
    }
    if (pthread_create(&l->thread, NULL, acceptor_main, l) != 0) {
        mm_log_error("acceptor: cannot start the thread");
        return -1;
    }
    l->started = true;
    return 0;
}

void
mm_listener_stop(struct mm_listener *l)
{
    int i;

    if (l->started) {
        mm_ev_wake_signal(l->wake);
        pthread_join(l->thread, NULL);
        l->started = false;
    }
    if (l->loop != NULL) {
        for (i = 0; i < l->nsocks; i++) {
            mm_ev_io_clear(l->loop, &l->socks[i].io);
        }
        mm_ev_timer_stop(l->loop, &l->retry_timer);
        mm_ev_timer_stop(l->loop, &l->tick_timer);
        mm_ev_wake_destroy(&l->wake);
        mm_ev_loop_destroy(&l->loop);
    }
    __atomic_store_n(&l->accepting, 0, __ATOMIC_RELAXED);
}

void
mm_listener_destroy(struct mm_listener **lp)
{
    struct mm_listener *l = *lp;
    int i;

    if (l == NULL) {
        return;
    }
    mm_listener_stop(l);
    for (i = 0; i < l->nsocks; i++) {
        close(l->socks[i].fd);
    }
    if (l->unix_path != NULL) {
        (void)unlink(l->unix_path);
        free(l->unix_path);
    }
    if (l->portfile != NULL) {
        (void)fclose(l->portfile); /* the .lck stays, as memcached's does */
        mm_free(l->portfile_tmp);
    }
    mm_free(l);
    *lp = NULL;
}

void
mm_listener_gauges(const struct mm_listener *l, uint64_t *accepting_conns,
                   uint64_t *listen_disabled_num)
{
    *accepting_conns = __atomic_load_n(&l->accepting, __ATOMIC_RELAXED);
    *listen_disabled_num = __atomic_load_n(&l->disabled_num, __ATOMIC_RELAXED);
}

void
mm_listener_emit(const struct mm_listener *l,
                 void (*emit)(void *arg, const char *name, const char *value), void *arg)
{
    char name[64];
    char value[32];
    int i;

    for (i = 0; i < l->nsocks; i++) {
        const struct listener_sock *ls = &l->socks[i];

        snprintf(name, sizeof(name), "%d:addr", ls->fd);
        emit(arg, name, ls->name);
        snprintf(name, sizeof(name), "%d:state", ls->fd);
        emit(arg, name, "conn_listening");
        snprintf(name, sizeof(name), "%d:secs_since_last_cmd", ls->fd);
        snprintf(value, sizeof(value), "%ld", (long)(time(NULL) - l->created));
        emit(arg, name, value);
    }
}
