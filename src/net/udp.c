/* The UDP transport: memcached's 8-byte frame header, one request datagram
 * answered reply by reply, each reply cut into datagrams of at most 1400
 * bytes. Requests run through the same parsers and cmd/ calls as TCP; only
 * the framing differs. A worker answers one datagram at a time from its own
 * buffer and holds no state between datagrams (no value spans two). */
#include "config.h"

#include "mmem/udp.h"

#include "mmem/alloc.h"
#include "mmem/cmd.h"
#include "mmem/cmd_binary.h"
#include "mmem/conn.h"
#include "mmem/ev.h"
#include "mmem/listener.h"
#include "mmem/log.h"
#include "mmem/out.h"
#include "mmem/protocol_binary.h"
#include "mmem/req.h"
#include "mmem/settings.h"
#include "mmem/stats.h"
#include "mmem/text.h"
#include "mmem/watch.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Datagrams read per readiness report before the loop gets a turn. */
#define UDP_READ_BATCH 16
/* iovecs of one datagram: header + payload pieces (values are referenced,
 * so a datagram may gather several small pieces). */
#define UDP_IOV_MAX 64
/* memcached asks for the largest send buffer the kernel allows, so that
 * a large reply rarely meets EAGAIN; Linux caps this at wmem_max. */
#define UDP_SNDBUF_WANT (256 * 1024 * 1024)
/* The reply of a multi-key get is one per key; every key but the last
 * loses the "END\r\n" the single-key get composed. */
#define UDP_END_LEN 5

/* ---- framing ------------------------------------------------------------ */

static uint16_t
get16(const unsigned char *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static void
put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)(v & 0xff);
}

bool
mm_udp_header_decode(const unsigned char *p, size_t len, struct mm_udp_header *h)
{
    if (len < MM_UDP_HEADER_LEN) {
        return false;
    }
    h->request_id = get16(p);
    h->seq = get16(p + 2);
    h->total = get16(p + 4);
    h->reserved = get16(p + 6);
    /* memcached drops a request that claims more than one datagram (or
     * none) and one with no payload; the other fields are not checked. */
    return len > MM_UDP_HEADER_LEN && h->total == 1;
}

void
mm_udp_header_encode(unsigned char *p, const struct mm_udp_header *h)
{
    put16(p, h->request_id);
    put16(p + 2, h->seq);
    put16(p + 4, h->total);
    put16(p + 6, h->reserved);
}

uint16_t
mm_udp_total(size_t len)
{
    size_t n = len / MM_UDP_PAYLOAD_MAX + (len % MM_UDP_PAYLOAD_MAX != 0 ? 1 : 0);

    return n > UINT16_MAX ? UINT16_MAX : (uint16_t)n;
}

int
mm_udp_slice(const struct iovec *src, int nsrc, size_t max, struct iovec *dst, int ndst,
             size_t *bytes)
{
    size_t got = 0;
    int used = 0;
    int i;

    for (i = 0; i < nsrc && used < ndst && got < max; i++) {
        size_t n = src[i].iov_len;

        if (n == 0) {
            continue;
        }
        if (n > max - got) {
            n = max - got;
        }
        dst[used].iov_base = src[i].iov_base;
        dst[used].iov_len = n;
        used++;
        got += n;
    }
    *bytes = got;
    return used;
}

/* ---- sockets ------------------------------------------------------------ */

static int
socks_add(struct mm_udp_socks *socks, int fd, int family)
{
    struct sockaddr_storage ss;
    socklen_t slen = sizeof(ss);
    int port = 0;

    if (socks->n == MM_UDP_MAX_SOCKS) {
        mm_log_error("too many UDP sockets (at most %d)", MM_UDP_MAX_SOCKS);
        close(fd);
        return -1;
    }
    memset(&ss, 0, sizeof(ss));
    if (getsockname(fd, (struct sockaddr *)&ss, &slen) == 0) {
        port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                        : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    socks->fd[socks->n] = fd;
    socks->family[socks->n] = family;
    socks->port[socks->n] = port;
    socks->n++;
    return 0;
}

/* Bind every address host resolves to, failing as bind_tcp in listener.c
 * does (*why: the errno of memcached's last line). */
static int
bind_udp(const struct mm_settings *s, struct mm_udp_socks *socks, const char *host, int port,
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
    hints.ai_socktype = SOCK_DGRAM;
    rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        *why = mm_listener_gai_error(rc);
        return -1;
    }
    *why = 0;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        int one = 1;
        int sndbuf = UDP_SNDBUF_WANT;
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);

        if (fd < 0) {
            *why = errno;
            if (errno == EMFILE) {
                mm_log_error("server_socket: %s", strerror(errno));
                freeaddrinfo(res);
                return -1;
            }
            continue;
        }
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
        mm_listener_mark(s, fd);
        if (ai->ai_family == AF_INET6) {
            /* The IPv4 wildcard gets its own socket, as for TCP. */
            (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        }
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            int e = errno;

            close(fd);
            *why = e;
            if (e == EADDRINUSE ||
                (e == EADDRNOTAVAIL && ai->ai_family == AF_INET6 && host == NULL)) {
                continue;
            }
            mm_log_error("bind(): %s", strerror(e));
            freeaddrinfo(res);
            return -1;
        }
        if (socks_add(socks, fd, ai->ai_family) != 0) {
            freeaddrinfo(res);
            return -1;
        }
        bound++;
    }
    freeaddrinfo(res);
    return bound > 0 ? 0 : -1;
}

int
mm_udp_bind(const struct mm_settings *s, struct mm_udp_socks *socks, FILE *portfile)
{
    int why = 0;
    int i;

    memset(socks, 0, sizeof(*socks));
    /* As in memcached: -U 0 is off, and a unix socket replaces the network
     * listeners, UDP included. */
    if (s->udp_port == 0 || s->socketpath != NULL) {
        return 0;
    }
    if (s->nlisten == 0) {
        if (bind_udp(s, socks, NULL, s->udp_port, &why) != 0) {
            mm_log_error("failed to listen on UDP port %d: %s", s->udp_port, strerror(why));
            mm_udp_close(socks);
            return -1;
        }
    }
    for (i = 0; i < s->nlisten; i++) {
        char host[256];
        int port = s->udp_port; /* a port in the -l entry wins, as for TCP */

        if (mm_settings_split_listen(s->listen[i], host, sizeof(host), &port) != 0) {
            mm_log_error("bad listen address: %s", s->listen[i]);
            mm_udp_close(socks);
            return -1;
        }
        if (bind_udp(s, socks, host[0] != '\0' ? host : NULL, port, &why) != 0) {
            mm_listener_fail_interfaces(s, why);
            mm_udp_close(socks);
            return -1;
        }
    }
    for (i = 0; portfile != NULL && i < socks->n; i++) {
        mm_listener_portfile_line(portfile, "UDP", socks->family[i], socks->port[i]);
    }
    return 0;
}

void
mm_udp_close(struct mm_udp_socks *socks)
{
    int i;

    for (i = 0; i < socks->n; i++) {
        close(socks->fd[i]);
    }
    socks->n = 0;
}

/* ---- the per-worker service --------------------------------------------- */

struct udp_sock {
    struct mm_ev_io io;
    struct mm_udp *u;
    int fd;
    time_t last_cmd; /* monotonic seconds; atomic ("stats conns") */
    char name[160];  /* "udp:127.0.0.1:11211" */
};

struct mm_udp {
    struct mm_ev_loop *loop;
    struct mm_cmd_ctx *cmd;
    struct udp_sock socks[MM_UDP_MAX_SOCKS];
    int nsocks;
    bool blocked; /* a send met EAGAIN: wait for POLLOUT, read nothing */

    /* The datagram being answered: payload at buf[pos, len). Its spans
     * stay valid until the last reply to it is sent, because nothing is
     * read into buf before then. */
    unsigned char *buf;
    size_t len, pos;
    bool active;
    bool sent_any; /* a datagram of its replies went out */
    struct udp_sock *from;
    struct sockaddr_storage peer;
    socklen_t peerlen;
    uint16_t request_id;

    /* The reply being sent: its first unit_left pending bytes of out, then
     * unit_drop bytes thrown away; or, for an empty reply that still shows,
     * one bare header (send_bare). */
    struct mm_out out;
    size_t unit_left, unit_drop;
    bool send_bare;
    uint16_t seq, total;

    /* A multi-key text get, answered one key per reply. */
    bool mget;
    struct mm_req mreq;
    size_t mpos;
};

static time_t
mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return ts.tv_sec;
}

static void udp_on_io(struct mm_ev_io *io, unsigned revents);

static void
watch(struct mm_udp *u)
{
    int i;

    for (i = 0; i < u->nsocks; i++) {
        struct udp_sock *us = &u->socks[i];
        unsigned ev = MM_EV_READ;

        if (u->blocked) {
            ev = us == u->from ? MM_EV_WRITE : 0;
        }
        if (mm_ev_io_set(u->loop, &us->io, ev) != 0) {
            mm_log_warn("udp %d: cannot watch the socket", us->fd);
        }
    }
}

/* One datagram of the current reply. Returns 1 sent, 0 EAGAIN, -1 failed. */
static int
send_one(struct mm_udp *u)
{
    struct iovec iov[UDP_IOV_MAX];
    struct iovec *src = NULL;
    unsigned char hdr[MM_UDP_HEADER_LEN];
    struct mm_udp_header h;
    struct msghdr msg;
    size_t bytes = 0;
    int nsrc;
    int cnt = 1;
    ssize_t n;

    h.request_id = u->request_id;
    h.seq = u->seq;
    h.total = u->total;
    h.reserved = 0;
    mm_udp_header_encode(hdr, &h);
    iov[0].iov_base = hdr;
    iov[0].iov_len = sizeof(hdr);
    if (!u->send_bare) {
        size_t max = u->unit_left < MM_UDP_PAYLOAD_MAX ? u->unit_left : MM_UDP_PAYLOAD_MAX;

        nsrc = mm_out_iov(&u->out, &src, UDP_IOV_MAX - 1);
        cnt += mm_udp_slice(src, nsrc, max, iov + 1, UDP_IOV_MAX - 1, &bytes);
    }
    memset(&msg, 0, sizeof(msg));
    msg.msg_name = &u->peer;
    msg.msg_namelen = u->peerlen;
    msg.msg_iov = iov;
    msg.msg_iovlen = (size_t)cnt;
    do {
        n = sendmsg(u->from->fd, &msg, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }
    MM_STAT_ADD(u->cmd->stats, bytes_written, n);
    u->sent_any = true;
    u->seq++;
    if (u->send_bare) {
        u->send_bare = false;
    } else {
        mm_out_consume(&u->out, bytes);
        u->unit_left -= bytes;
    }
    return 1;
}

/* Forget the rest of the datagram: its pending replies and requests. */
static void
drop_datagram(struct mm_udp *u)
{
    size_t pending = mm_out_pending(&u->out);

    if (pending > 0) {
        mm_out_consume(&u->out, pending);
    }
    u->unit_left = 0;
    u->unit_drop = 0;
    u->send_bare = false;
    u->mget = false;
    u->active = false;
}

/* Send what is left of the current reply. Returns false on EAGAIN. */
static bool
send_reply(struct mm_udp *u)
{
    while (u->unit_left > 0 || u->send_bare) {
        int rc = send_one(u);

        if (rc == 0) {
            return false;
        }
        if (rc < 0) {
            /* The peer cannot be reached (or the reply is refused): the
             * rest of what it asked for is dropped, as memcached does. */
            mm_log_debug("udp %d: sendmsg: %s", u->from->fd, strerror(errno));
            drop_datagram(u);
            return true;
        }
    }
    if (u->unit_drop > 0) {
        mm_out_consume(&u->out, u->unit_drop);
        u->unit_drop = 0;
    }
    return true;
}

/* The reply just composed in out becomes the one to send. quiet: the
 * request asked for no reply (noreply, meta q), so an empty reply shows
 * nothing. An empty reply that is not quiet goes out as a bare header
 * (total 0), but only while nothing was sent for this datagram: memcached
 * retires empty replies that follow a sent one without sending them. */
static void
start_reply(struct mm_udp *u, bool quiet, size_t drop)
{
    size_t len = mm_out_pending(&u->out);

    u->unit_drop = drop <= len ? drop : len;
    u->unit_left = len - u->unit_drop;
    u->seq = 0;
    u->total = mm_udp_total(u->unit_left);
    u->send_bare = u->unit_left == 0 && !quiet && !u->sent_any;
}

static bool next_reply(struct mm_udp *u);

/* One key of a multi-key get: the single-key get's reply, less its END
 * unless it is the last key. */
static bool
next_key(struct mm_udp *u)
{
    struct mm_req one;
    struct mm_span key, peek;
    size_t after;
    bool last;

    if (!mm_req_next_key(&u->mreq, &u->mpos, &key)) {
        u->mget = false;
        return next_reply(u);
    }
    after = u->mpos;
    last = !mm_req_next_key(&u->mreq, &after, &peek);
    one = u->mreq;
    one.keys = key;
    (void)mm_cmd_exec(u->cmd, &one, &u->out);
    if (last) {
        u->mget = false;
    }
    start_reply(u, false, last ? 0 : UDP_END_LEN);
    return true;
}

/* A text get with several keys is answered key by key, as memcached's
 * UDP replies are one per key; a key over the limit makes the whole line
 * one error reply instead (memcached drops the keys before it). */
static bool
split_get(const struct mm_req *req)
{
    struct mm_span key;
    size_t pos = 0;
    unsigned n = 0;

    if (!mm_req_is_retrieval(req->type)) {
        return false;
    }
    while (mm_req_next_key(req, &pos, &key)) {
        if (key.len > MM_KEY_MAX_LENGTH) {
            return false;
        }
        n++;
    }
    return n > 1;
}

/* A storage request's value must be in the datagram: a value cut short
 * abandons the request and the rest of the datagram, with no reply. */
static bool
text_store(struct mm_udp *u, struct mm_req *req, size_t used)
{
    const char *v = (const char *)u->buf + u->pos + used;
    size_t avail = u->len - u->pos - used;
    size_t need = (size_t)req->vlen + 2;
    struct mm_item *it = NULL;
    char *dst = NULL;

    switch (mm_cmd_store_begin(u->cmd, req, &u->out, &it, &dst)) {
    case MM_CMD_STORE_READ:
        if (avail < need) {
            mm_cmd_store_abort(u->cmd, it);
            return false;
        }
        memcpy(dst, v, req->vlen);
        mm_cmd_store_end(u->cmd, req, it, v[req->vlen] == '\r' && v[req->vlen + 1] == '\n',
                         &u->out);
        u->pos += used + need;
        break;
    case MM_CMD_STORE_SWALLOW:
        u->pos += used + (need < avail ? need : avail);
        break;
    case MM_CMD_CLOSE:
        u->pos = u->len;
        break;
    case MM_CMD_OK:
    case MM_CMD_WATCH:
    case MM_CMD_DUMP:
        u->pos += used;
        break;
    }
    start_reply(u, req->noreply, 0);
    return true;
}

static bool
text_request(struct mm_udp *u)
{
    const char *p = (const char *)u->buf + u->pos;
    struct mm_req req;
    size_t used = 0;

    memset(&req, 0, sizeof(req));
    if (mm_text_parse(p, u->len - u->pos, MM_TEXT_MAX_LINE, &req, &used) != MM_TEXT_OK) {
        /* A line cut short, or one memcached closes a TCP client for:
         * the rest of the datagram is dropped. */
        return false;
    }
    if (mm_req_is_storage(req.type)) {
        return text_store(u, &req, used);
    }
    u->pos += used;
    if (split_get(&req)) {
        u->mget = true;
        u->mreq = req;
        u->mpos = 0;
        return next_key(u);
    }
    switch (mm_cmd_exec(u->cmd, &req, &u->out)) {
    case MM_CMD_CLOSE:
        u->pos = u->len; /* quit: nothing after it is read */
        break;
    case MM_CMD_WATCH:
        /* A datagram socket cannot carry a log stream: let it go. */
        mm_watch_remove(u->cmd->env->watch, &u->cmd->watcher);
        break;
    case MM_CMD_DUMP:
        /* Nor a dump: it is dropped, and the reply stays empty. */
        mm_cmd_dump_free(&u->cmd->dump);
        break;
    default:
        break;
    }
    start_reply(u, req.noreply, 0);
    return true;
}

static bool
bin_request(struct mm_udp *u)
{
    const char *p = (const char *)u->buf + u->pos;
    size_t avail = u->len - u->pos;
    struct mm_bin_req breq;
    size_t used = 0;

    if (mm_bin_parse(p, avail, &breq, &used) != MM_BIN_OK) {
        return false;
    }
    avail -= used;
    if (breq.action == MM_BIN_ACT_STORE) {
        struct mm_item *it = NULL;
        char *dst = NULL;
        size_t vlen = breq.req.vlen;

        if (mm_cmd_bin_store_begin(u->cmd, &breq, &u->out, &it, &dst) == MM_CMD_STORE_READ) {
            if (avail < vlen) {
                mm_cmd_store_abort(u->cmd, it);
                return false;
            }
            memcpy(dst, p + used, vlen);
            mm_cmd_bin_store_end(u->cmd, &breq, it, &u->out);
        }
        u->pos += used + (vlen < avail ? vlen : avail);
    } else {
        if (mm_cmd_bin_exec(u->cmd, &breq, &u->out) == MM_CMD_CLOSE) {
            u->pos = u->len;
        } else {
            u->pos += used + (breq.swallow < avail ? (size_t)breq.swallow : avail);
        }
    }
    /* memcached keeps a reply object for every binary request, quiet ones
     * included: an empty one shows as a bare header when it comes first. */
    start_reply(u, false, 0);
    return true;
}

/* Compose the next reply of the datagram. Returns false when there is
 * none (the datagram is answered). */
static bool
next_reply(struct mm_udp *u)
{
    if (u->mget) {
        return next_key(u);
    }
    if (u->pos >= u->len) {
        return false;
    }
    /* memcached picks the protocol per request over UDP, whatever -B. */
    if (u->buf[u->pos] == MM_BIN_MAGIC_REQ) {
        return bin_request(u);
    }
    return text_request(u);
}

/* Answer the current datagram until done or blocked. */
static void
drive(struct mm_udp *u)
{
    while (u->active) {
        if (!send_reply(u)) {
            u->blocked = true;
            return;
        }
        if (!u->active || !next_reply(u)) {
            u->active = false;
        }
    }
    u->blocked = false;
}

static void
receive(struct mm_udp *u, struct udp_sock *us)
{
    int i;

    for (i = 0; i < UDP_READ_BATCH && !u->blocked; i++) {
        struct mm_udp_header h;
        ssize_t n;

        u->peerlen = sizeof(u->peer);
        do {
            n = recvfrom(us->fd, u->buf, MM_UDP_READ_MAX, MSG_DONTWAIT, (struct sockaddr *)&u->peer,
                         &u->peerlen);
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            return; /* EAGAIN: another worker took it, or nothing left */
        }
        if ((size_t)n <= MM_UDP_HEADER_LEN) {
            continue; /* memcached neither counts nor answers these */
        }
        MM_STAT_ADD(u->cmd->stats, bytes_read, n);
        if (!mm_udp_header_decode(u->buf, (size_t)n, &h)) {
            continue;
        }
        __atomic_store_n(&us->last_cmd, mono_now(), __ATOMIC_RELAXED);
        u->from = us;
        u->request_id = h.request_id;
        u->len = (size_t)n;
        u->pos = MM_UDP_HEADER_LEN;
        u->active = true;
        u->sent_any = false;
        u->mget = false;
        if (next_reply(u)) {
            drive(u);
        } else {
            u->active = false;
        }
    }
}

static void
udp_on_io(struct mm_ev_io *io, unsigned revents)
{
    struct udp_sock *us = io->arg;
    struct mm_udp *u = us->u;
    bool was_blocked = u->blocked;

    if (u->blocked) {
        if (us != u->from || (revents & MM_EV_WRITE) == 0) {
            return;
        }
        drive(u);
    }
    if (!u->blocked && (revents & MM_EV_READ) != 0) {
        receive(u, us);
    }
    if (u->blocked != was_blocked) {
        watch(u);
    }
}

struct mm_udp *
mm_udp_create(struct mm_ev_loop *loop, struct mm_cmd_ctx *cmd, struct mm_store *store,
              const struct mm_udp_socks *socks)
{
    struct mm_udp *u = mm_calloc(1, sizeof(*u));
    int i;

    u->loop = loop;
    u->cmd = cmd;
    u->buf = mm_malloc(MM_UDP_READ_MAX);
    mm_out_init(&u->out, mm_cmd_item_release, store);
    for (i = 0; i < socks->n; i++) {
        struct udp_sock *us = &u->socks[i];
        struct sockaddr_storage ss;
        socklen_t slen = sizeof(ss);

        us->u = u;
        us->fd = fcntl(socks->fd[i], F_DUPFD_CLOEXEC, 0);
        if (us->fd < 0) {
            mm_log_error("udp: dup(): %s", strerror(errno));
            mm_udp_destroy(&u);
            return NULL;
        }
        u->nsocks++;
        us->last_cmd = mono_now();
        memset(&ss, 0, sizeof(ss));
        if (getsockname(us->fd, (struct sockaddr *)&ss, &slen) == 0) {
            /* The TCP formatter's layout, with the transport renamed. */
            mm_conn_format_addr(us->name, sizeof(us->name), MM_CONN_TCP, &ss, slen);
            memcpy(us->name, "udp", 3);
        }
        mm_ev_io_init(&us->io, us->fd, udp_on_io, us);
        if (mm_ev_io_set(loop, &us->io, MM_EV_READ) != 0) {
            mm_log_error("udp %d: the event loop refused the socket", us->fd);
            mm_udp_destroy(&u);
            return NULL;
        }
        /* memcached counts each worker's UDP socket as a connection. */
        MM_STAT_INCR(cmd->stats, curr_connections);
        MM_STAT_INCR(cmd->stats, total_connections);
        MM_STAT_INCR(cmd->stats, connection_structures);
    }
    return u;
}

void
mm_udp_destroy(struct mm_udp **up)
{
    struct mm_udp *u = *up;
    int i;

    if (u == NULL) {
        return;
    }
    for (i = 0; i < u->nsocks; i++) {
        mm_ev_io_clear(u->loop, &u->socks[i].io);
        close(u->socks[i].fd);
    }
    mm_out_fini(&u->out);
    mm_free(u->buf);
    mm_free(u);
    *up = NULL;
}

void
mm_udp_emit(const struct mm_udp *u, void (*emit)(void *arg, const char *name, const char *value),
            void *arg)
{
    time_t now = mono_now();
    char name[64];
    char value[32];
    int i;

    for (i = 0; i < u->nsocks; i++) {
        const struct udp_sock *us = &u->socks[i];
        long secs = (long)(now - __atomic_load_n(&us->last_cmd, __ATOMIC_RELAXED));

        snprintf(name, sizeof(name), "%d:UDP", us->fd);
        emit(arg, name, "UDP");
        snprintf(name, sizeof(name), "%d:addr", us->fd);
        emit(arg, name, us->name);
        snprintf(name, sizeof(name), "%d:state", us->fd);
        emit(arg, name, "conn_read");
        snprintf(name, sizeof(name), "%d:secs_since_last_cmd", us->fd);
        snprintf(value, sizeof(value), "%ld", secs < 0 ? 0L : secs);
        emit(arg, name, value);
    }
}
