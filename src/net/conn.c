/* The connection state machine: read bytes (into the set's scratch buffer,
 * so idle connections hold none), frame and parse requests, execute them
 * through cmd/, read storage values straight into item memory, and write the
 * replies gathered in the connection's mm_out at the end of each event. Also
 * the per-worker connection set: the idle sweep and "stats conns". The first
 * byte picks the protocol (0x80: binary, as memcached's -B auto). UDP
 * datagrams are served by udp.c. */
#include "config.h"

#include "mmem/conn.h"

#include "mmem/alloc.h"
#include "mmem/cmd.h"
#include "mmem/cmd_auth.h"
#include "mmem/cmd_binary.h"
#include "mmem/cmd_sasl.h"
#include "mmem/ev.h"
#include "mmem/iobuf.h"
#include "mmem/log.h"
#include "mmem/out.h"
#include "mmem/protocol_binary.h"
#include "mmem/req.h"
#include "mmem/resp_limit.h"
#include "mmem/settings.h"
#include "mmem/stats.h"
#include "mmem/text.h"
#include "mmem/tls.h"
#include "mmem/watch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CONN_RBUF_SIZE (16 * 1024)
#define CONN_RBUF_MAX (1024 * 1024)
#define CONN_OUT_CAP (4 * 1024 * 1024)
#define CONN_IOV_MAX IOV_MAX /* one writev carries a whole batch */
/* Copied replies (errors, headers, misses) cost memory byte for byte, where
 * item references cost none: a client that never reads may pin only this
 * much of them, and this many iovecs, besides the out_cap byte backlog. */
#define CONN_SCRATCH_CAP (64 * 1024)
#define CONN_IOVS_CAP 4096
/* Reply chunks a worker keeps for its next replies (32 KiB). */
#define CONN_OUT_CACHE_CHUNKS 8

enum conn_state {
    CONN_PARSE = 0, /* between requests: parse what is buffered, read more */
    CONN_NREAD,     /* reading a storage value (and its trailer) into an item */
    CONN_SWALLOW,   /* discarding a refused value */
    CONN_CLOSING    /* write what is pending, then close */
};

/* What a storage request needs while its value arrives over several reads:
 * kept out of line (most values arrive with their line) and recycled
 * through the set. Only the non-span fields of req are valid (the line is
 * consumed). */
struct mm_conn_pending {
    struct mm_item *it; /* NULL while reading an auth token */
    char *dst;          /* where the value goes */
    union {
        struct mm_req req;                    /* text */
        struct mm_bin_req breq;               /* binary */
        char auth_buf[MM_CMD_AUTH_TOKEN_MAX]; /* the -Y token being read */
    } u;
};

struct mm_conn {
    struct mm_ev_io io;
    struct mm_conn_set *set;
    struct mm_conn *next, *prev; /* set->all */
    /* The flags and small fields below fill 16 bytes: with them the struct
     * is 256 bytes, an allocator size class, where 272 bytes took jemalloc's
     * 320 class (idle connections are most of a big server's memory). */
    unsigned paused : 1;        /* backpressure: not reading nor parsing */
    unsigned yielded : 1;       /* -R reached with requests still buffered */
    unsigned write_blocked : 1; /* the socket said EAGAIN: wait for POLLOUT */
    unsigned started : 1;       /* the first byte was seen (protocol chosen) */
    unsigned binary : 1;        /* speaking the binary protocol */
    unsigned auth_read : 1;     /* CONN_NREAD is reading an ASCII auth token */
    unsigned rbuf_held : 1;     /* holds one of read_buf_mem_limit's read buffers */
    unsigned swallow_hold : 1;  /* CONN_SWALLOW: write nothing until it is done */
    bool busy;                  /* inside conn_process (for "stats conns") */
    bool authed;                /* passed -Y / -S authentication */
    char trailer[2];
    uint8_t tgot;
    uint8_t state;     /* enum conn_state */
    uint8_t transport; /* enum mm_conn_transport */
    uint8_t shown;     /* atomic: enum conn_shown, for "stats conns" */
    uint8_t listen;    /* index in set->listen_names + 1; 0 = none */
    uint16_t resps;    /* read_buf_mem_limit response objects held until written */
    uint32_t last_cmd; /* monotonic seconds; atomic (read by "stats conns") */
    struct mm_iobuf rbuf;
    struct mm_out out;

    /* The value being read (CONN_NREAD: the rest is in pend) or swallowed
     * (CONN_SWALLOW); the states exclude each other. */
    union {
        struct {
            uint32_t vlen, vgot;
        };
        uint64_t swallow;
    };
    struct mm_conn_pending *pend; /* the request, while its value is read */
    struct mm_cmd_sasl *sasl;     /* -S: Cyrus state, made on demand */
    struct conn_watch *watch;     /* "watch": a log stream (conn_watch_*) */
    struct mm_cmd_dump *dump;     /* "lru_crawler metadump" in progress */
};

/* An idle connection costs this struct and nothing else in user space;
 * keep it within jemalloc's 256-byte size class. */
_Static_assert(sizeof(struct mm_conn) <= 256, "struct mm_conn fits 256 bytes");

/* Seconds on the monotonic clock; 32 bits last 136 years of uptime. */
static uint32_t
mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint32_t)ts.tv_sec;
}

/* The index + 1 of a listener's name in the set (0: none, or the table is
 * full). Names are the listeners' own strings, alive as long as the server,
 * so the pointer identifies them. Caller holds set->lock. */
static uint8_t
listen_index(struct mm_conn_set *set, const char *name)
{
    unsigned i;

    if (name == NULL) {
        return 0;
    }
    for (i = 0; i < set->nlisten; i++) {
        if (set->listen_names[i] == name) {
            return (uint8_t)(i + 1);
        }
    }
    if (set->nlisten == MM_CONN_LISTEN_MAX) {
        return 0;
    }
    set->listen_names[set->nlisten++] = name;
    return (uint8_t)set->nlisten;
}

/* The set keeps one spare pending block: a client streaming sets whose
 * values straddle reads reuses it instead of allocating each time. */
static struct mm_conn_pending *
conn_pending_get(struct mm_conn *c)
{
    struct mm_conn_set *set = c->set;
    struct mm_conn_pending *p = set->spare;

    if (c->pend != NULL) {
        return c->pend;
    }
    if (p != NULL) {
        set->spare = NULL;
    } else {
        p = mm_malloc(sizeof(*p));
    }
    c->pend = p;
    return p;
}

static void
conn_pending_put(struct mm_conn *c)
{
    struct mm_conn_set *set = c->set;

    if (c->pend == NULL) {
        return;
    }
    if (set->spare == NULL) {
        set->spare = c->pend;
    } else {
        mm_free(c->pend);
    }
    c->pend = NULL;
}

void
mm_conn_cfg_from_settings(struct mm_conn_cfg *cfg, const struct mm_settings *s)
{
    cfg->rbuf_size = CONN_RBUF_SIZE;
    cfg->rbuf_max = CONN_RBUF_MAX;
    cfg->out_cap = CONN_OUT_CAP;
    cfg->reqs_per_event = s->reqs_per_event > 0 ? (unsigned)s->reqs_per_event : 20;
    cfg->idle_timeout = s->idle_timeout;
    cfg->obj_limit = s->read_buf_mem_limit;
    cfg->threads = s->num_threads > 0 ? (unsigned)s->num_threads : 1;
}

static void conn_on_io(struct mm_ev_io *io, unsigned revents);
static void conn_idle_sweep(struct mm_ev_timer *t);
static void conn_publish(struct mm_conn *c);
static bool conn_write(struct mm_conn *c);

/* ---- watch: the connection as a log stream (include/mmem/watch.h) ------
 * After "watch" the connection holds a watcher on the hub and a timer that
 * moves the watcher's lines into the output every CONN_WATCH_MS. The ring
 * in the hub bounds memory: lines wait there while the client is slow and
 * are skipped (and counted) once it is full, because the pump stops filling
 * the output past CONN_WATCH_OUT_MAX. */
#define CONN_WATCH_MS 10
#define CONN_WATCH_OUT_MAX (64 * 1024)

struct conn_watch {
    struct mm_watcher *watcher;
    struct mm_ev_timer timer;
};

static void
conn_watch_pump(struct mm_ev_timer *t)
{
    struct mm_conn *c = t->arg;
    struct mm_watch *hub = c->set->cmd->env->watch;
    char buf[4096];
    size_t n;

    while (mm_out_pending(&c->out) < CONN_WATCH_OUT_MAX &&
           (n = mm_watch_read(hub, c->watch->watcher, buf, sizeof(buf))) > 0) {
        mm_out_append(&c->out, buf, n);
    }
    /* conn_write may close c (a watcher that left), which stops this timer;
     * nothing of c is touched after it. */
    if (mm_out_pending(&c->out) > 0 && !c->write_blocked) {
        (void)conn_write(c);
    }
}

static void
conn_watch_start(struct mm_conn *c)
{
    c->watch = mm_calloc(1, sizeof(*c->watch));
    c->watch->watcher = c->set->cmd->watcher;
    c->set->cmd->watcher = NULL;
    mm_ev_timer_init(&c->watch->timer, conn_watch_pump, c);
    mm_ev_timer_start(c->set->loop, &c->watch->timer, CONN_WATCH_MS, CONN_WATCH_MS);
}

static void
conn_watch_stop(struct mm_conn *c)
{
    if (c->watch != NULL) {
        mm_ev_timer_stop(c->set->loop, &c->watch->timer);
        mm_watch_remove(c->set->cmd->env->watch, &c->watch->watcher);
        mm_free(c->watch);
        c->watch = NULL;
    }
}

/* ---- output ---------------------------------------------------------- */

static void
conn_update_events(struct mm_conn *c)
{
    unsigned ev = 0;

    if (c->state != CONN_CLOSING && !c->paused) {
        ev |= MM_EV_READ;
    }
    /* A yielded connection asks for POLLOUT, which a healthy socket reports
     * at once: it gets its next turn after the other ready connections. */
    if (((c->write_blocked && mm_out_pending(&c->out) > 0) || c->yielded) &&
        !(c->state == CONN_SWALLOW && c->swallow_hold)) {
        ev |= MM_EV_WRITE;
    }
    if (mm_ev_io_set(c->set->loop, &c->io, ev) != 0) {
        mm_log_warn("conn %d: cannot watch the socket", c->io.fd);
    }
    conn_publish(c);
}

/* writev what is pending, without SIGPIPE. Returns bytes written, 0 on
 * EAGAIN, -1 on a dead peer. */
static ssize_t
conn_send(struct mm_conn *c)
{
    struct iovec *iov;
    struct msghdr msg;
    ssize_t n;
    int cnt;

    cnt = mm_out_iov(&c->out, &iov, CONN_IOV_MAX);
    if (cnt <= 0) {
        return 0;
    }
    if (c->transport == MM_CONN_TLS) {
        return mm_tls_writev(c->set->tls, c->io.fd, iov, cnt);
    }
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = iov;
    msg.msg_iovlen = (size_t)cnt;
    for (;;) {
        n = sendmsg(c->io.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) {
            return n;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return 0;
        }
        return -1;
    }
}

static void conn_process(struct mm_conn *c);

/* ---- metadump: the dump goes out a step at a time ----------------------
 * While a dump runs the connection parses nothing and counts as paused, so
 * conn_write calls conn_process again whenever the output has drained; each
 * pass adds steps only up to CONN_DUMP_OUT_MAX of pending output, which
 * bounds the memory a dump holds however large the cache. Requests that
 * followed the metadump line are parsed once it is done. */
#define CONN_DUMP_OUT_MAX (64 * 1024)

/* Returns true once the dump is complete (and freed). */
static bool
conn_dump_pump(struct mm_conn *c)
{
    while (mm_out_pending(&c->out) < CONN_DUMP_OUT_MAX) {
        if (mm_cmd_dump_step(c->set->cmd, c->dump, &c->out)) {
            mm_cmd_dump_free(&c->dump);
            return true;
        }
    }
    return false;
}

/* Too much output waiting for this client: stop reading its requests. With
 * resume, the lower (half) marks at which reading starts again. */
static bool
conn_backlogged(const struct mm_conn *c, bool resume)
{
    unsigned shift = resume ? 1 : 0;

    return mm_out_pending(&c->out) >= c->set->cfg.out_cap >> shift ||
           (size_t)c->out.nchunks * MM_OUT_CHUNK_SIZE >= (size_t)CONN_SCRATCH_CAP >> shift ||
           c->out.icount - c->out.ihead >= (uint32_t)CONN_IOVS_CAP >> shift;
}

/* ---- -o read_buf_mem_limit --------------------------------------------
 * memcached's per-thread cache of read buffers and response objects
 * (resp_limit.h). A request takes a response object before it runs and
 * holds it until its reply is written; memcached closes a connection that
 * cannot get one, unsent replies and all. */
static bool
conn_take_resp(struct mm_conn *c)
{
    if (!mm_resp_limit_on(&c->set->resp) || c->resps == UINT16_MAX) {
        return true;
    }
    if (!mm_resp_limit_take(&c->set->resp)) {
        MM_STAT_INCR(c->set->cmd->stats, response_obj_oom);
        (void)mm_out_discard_unwritten(&c->out);
        c->state = CONN_CLOSING;
        return false;
    }
    c->resps++;
    return true;
}

/* Replies all written: their response objects go back. */
static void
conn_settle_resps(struct mm_conn *c)
{
    if (c->resps > 0 && mm_out_pending(&c->out) == 0) {
        mm_resp_limit_put(&c->set->resp, c->resps);
        c->resps = 0;
    }
}

/* Write as much as the socket takes; resume a paused connection once its
 * backlog has drained below half the cap. Returns false if c was closed. */
static bool
conn_write(struct mm_conn *c)
{
    struct mm_stats *st = c->set->cmd->stats;

    if (c->state == CONN_SWALLOW && c->swallow_hold) {
        /* memcached sends nothing while it discards a refused text value
         * or an unknown binary command's body: the error (and any reply
         * before it) goes out once those bytes are in. A refused binary
         * store is answered first, as memcached writes it before it
         * swallows. */
        conn_update_events(c);
        return true;
    }

    for (;;) {
        while (mm_out_pending(&c->out) > 0) {
            ssize_t n = conn_send(c);

            if (n < 0) {
                mm_conn_close(c);
                return false;
            }
            if (n == 0) {
                c->write_blocked = true;
                break;
            }
            MM_STAT_ADD(st, bytes_written, n);
            mm_out_consume(&c->out, (size_t)n);
        }
        if (mm_out_pending(&c->out) == 0) {
            c->write_blocked = false;
            if (c->state == CONN_CLOSING) {
                mm_conn_close(c);
                return false;
            }
        }
        if (c->paused && !conn_backlogged(c, true)) {
            c->paused = false;
            conn_process(c);
            if (mm_out_pending(&c->out) > 0 && !c->write_blocked) {
                continue;
            }
            if (c->state == CONN_CLOSING && mm_out_pending(&c->out) == 0) {
                continue;
            }
        }
        break;
    }
    conn_settle_resps(c);
    conn_update_events(c);
    return true;
}

/* ---- input ----------------------------------------------------------- */

static void
conn_store_finish(struct mm_conn *c)
{
    bool ok = c->trailer[0] == '\r' && c->trailer[1] == '\n';
    struct mm_item *it = c->pend->it;

    c->state = CONN_PARSE;
    if (c->auth_read) {
        c->auth_read = false;
        if (ok) {
            c->authed = mm_cmd_ascii_auth(c->set->cmd, c->pend->u.auth_buf, c->vlen, &c->out);
        } else {
            mm_cmd_ascii_auth_bad_trailer(&c->out);
        }
    } else if (c->binary) {
        mm_cmd_bin_store_end(c->set->cmd, &c->pend->u.breq, it, &c->out);
    } else {
        mm_cmd_store_end(c->set->cmd, &c->pend->u.req, it, ok, &c->out);
    }
    conn_pending_put(c);
}

/* Move buffered bytes into the value being read, then the trailer. */
static void
conn_fill_value(struct mm_conn *c)
{
    size_t len = mm_iobuf_len(&c->rbuf);
    const char *p = mm_iobuf_data(&c->rbuf);
    size_t n = 0;

    if (c->vgot < c->vlen && len > 0) {
        n = c->vlen - c->vgot;
        if (n > len) {
            n = len;
        }
        memcpy(c->pend->dst + c->vgot, p, n);
        c->vgot += (uint32_t)n;
    }
    while (c->vgot == c->vlen && c->tgot < 2 && n < len) {
        c->trailer[c->tgot++] = p[n++];
    }
    mm_iobuf_consume(&c->rbuf, n);
    if (c->vgot == c->vlen && c->tgot == 2) {
        conn_store_finish(c);
    }
}

static void
conn_fill_swallow(struct mm_conn *c)
{
    size_t n = mm_iobuf_len(&c->rbuf);

    if (n > c->swallow) {
        n = c->swallow;
    }
    mm_iobuf_consume(&c->rbuf, n);
    c->swallow -= n;
    if (c->swallow == 0) {
        c->state = CONN_PARSE;
        c->swallow_hold = false;
    }
}

/* A storage request line; after/avail are the bytes buffered past it. The
 * value is copied at once when it is all there (the usual case); otherwise
 * the request is kept aside and the value read as it comes. Returns how many
 * of the bytes after the line it used. */
static size_t
conn_start_store(struct mm_conn *c, const struct mm_req *req, const char *after, size_t avail)
{
    struct mm_conn_pending *pend;
    struct mm_item *it = NULL;
    char *dst = NULL;
    enum mm_cmd_rc rc;

    rc = mm_cmd_store_begin(c->set->cmd, req, &c->out, &it, &dst);
    switch (rc) {
    case MM_CMD_STORE_READ:
        if (avail >= (size_t)req->vlen + 2) {
            bool ok = after[req->vlen] == '\r' && after[req->vlen + 1] == '\n';

            memcpy(dst, after, req->vlen);
            mm_cmd_store_end(c->set->cmd, req, it, ok, &c->out);
            return (size_t)req->vlen + 2;
        }
        pend = conn_pending_get(c);
        pend->u.req = *req;
        /* The line is about to be consumed: nothing may follow these spans. */
        memset(&pend->u.req.key, 0, sizeof(pend->u.req.key));
        memset(&pend->u.req.keys, 0, sizeof(pend->u.req.keys));
        memset(&pend->u.req.args, 0, sizeof(pend->u.req.args));
        pend->it = it;
        pend->dst = dst;
        c->state = CONN_NREAD;
        c->vlen = req->vlen;
        c->vgot = 0;
        c->tgot = 0;
        break;
    case MM_CMD_STORE_SWALLOW:
        c->state = CONN_SWALLOW;
        c->swallow = (uint64_t)req->vlen + 2;
        c->swallow_hold = true;
        break;
    case MM_CMD_CLOSE:
        c->state = CONN_CLOSING;
        break;
    case MM_CMD_OK:
    case MM_CMD_WATCH:
    case MM_CMD_DUMP:
        break;
    }
    return 0;
}

/* A text line on a -Y connection not authenticated yet (cmd_auth.h): only
 * "set" is heard, and its value is read as a token, never stored. */
static void
conn_auth_line(struct mm_conn *c, const struct mm_req *req)
{
    struct mm_conn_pending *pend;

    if (req->type != MM_REQ_SET) {
        mm_cmd_unauthenticated(&c->out);
        return;
    }
    if (req->vlen > MM_CMD_AUTH_TOKEN_MAX) {
        mm_cmd_ascii_auth_too_long(c->set->cmd, &c->out);
        c->state = CONN_SWALLOW;
        c->swallow = (size_t)req->vlen + 2;
        return;
    }
    c->state = CONN_NREAD;
    c->auth_read = true;
    pend = conn_pending_get(c);
    pend->it = NULL;
    pend->dst = pend->u.auth_buf;
    c->vlen = req->vlen;
    c->vgot = 0;
    c->tgot = 0;
}

/* A binary storage request: its value (no trailer) goes into the item,
 * copied at once when it is all in after/avail. Returns how many of those
 * bytes it used. */
static size_t
conn_start_bin_store(struct mm_conn *c, const struct mm_bin_req *breq, const char *after,
                     size_t avail)
{
    struct mm_conn_pending *pend;
    struct mm_item *it = NULL;
    char *dst = NULL;

    if (mm_cmd_bin_store_begin(c->set->cmd, breq, &c->out, &it, &dst) != MM_CMD_STORE_READ) {
        c->state = CONN_SWALLOW;
        c->swallow = breq->req.vlen;
        return 0;
    }
    if (avail >= breq->req.vlen) {
        memcpy(dst, after, breq->req.vlen);
        mm_cmd_bin_store_end(c->set->cmd, breq, it, &c->out);
        return breq->req.vlen;
    }
    pend = conn_pending_get(c);
    pend->u.breq = *breq;
    memset(&pend->u.breq.req.key, 0, sizeof(pend->u.breq.req.key));
    memset(&pend->u.breq.req.args, 0, sizeof(pend->u.breq.req.args));
    pend->it = it;
    pend->dst = dst;
    c->state = CONN_NREAD;
    c->vlen = breq->req.vlen;
    c->vgot = 0;
    /* No trailer in binary: mark it as already read and good. */
    c->trailer[0] = '\r';
    c->trailer[1] = '\n';
    c->tgot = 2;
    return 0;
}

/* -S (cmd_sasl.h): the gate for unauthenticated connections, and SASL
 * requests, which are executed with their whole body in the buffer. Returns
 * true when it handled breq; *more then says whether to go on parsing. */
static bool
conn_sasl_gate(struct mm_conn *c, const struct mm_bin_req *breq, const char *p, size_t len,
               bool *more)
{
    const struct mm_bin_header *h = &breq->hdr;
    size_t need = MM_BIN_HEADER_LEN + (size_t)h->bodylen;

    *more = false;
    if (!c->authed && !mm_cmd_sasl_allowed_unauth(h->opcode)) {
        mm_cmd_sasl_refuse(h, &c->out);
        c->state = CONN_CLOSING;
        return true;
    }
    if (!mm_cmd_sasl_opcode(h->opcode) || breq->close_after) {
        return false;
    }
    if (h->bodylen > MM_CMD_SASL_BODY_MAX) {
        mm_cmd_sasl_refuse(h, &c->out);
        c->state = CONN_CLOSING;
        return true;
    }
    if (len < need) {
        if (mm_iobuf_full(&c->rbuf)) {
            c->state = CONN_CLOSING;
        }
        return true;
    }
    mm_cmd_sasl_exec(c->set->cmd, &c->sasl, h, p + MM_BIN_HEADER_LEN, &c->out, &c->authed);
    mm_iobuf_consume(&c->rbuf, need);
    *more = true;
    return true;
}

static bool
conn_one_bin_request(struct mm_conn *c)
{
    const char *p = mm_iobuf_data(&c->rbuf);
    size_t len = mm_iobuf_len(&c->rbuf);
    struct mm_bin_req breq;
    size_t used = 0;
    enum mm_bin_rc rc;

    mm_iobuf_hold(&c->rbuf);
    rc = mm_bin_parse(p, len, &breq, &used);
    if (rc == MM_BIN_AGAIN) {
        mm_iobuf_unhold(&c->rbuf);
        if (mm_iobuf_full(&c->rbuf)) {
            c->state = CONN_CLOSING;
        }
        return false;
    }
    if (rc == MM_BIN_CLOSE) {
        mm_iobuf_unhold(&c->rbuf);
        c->state = CONN_CLOSING;
        return false;
    }
    if (!conn_take_resp(c)) {
        mm_iobuf_unhold(&c->rbuf);
        return false;
    }
    __atomic_store_n(&c->last_cmd, mono_now(), __ATOMIC_RELAXED);
    if (c->set->cmd->env->settings != NULL && c->set->cmd->env->settings->sasl) {
        bool more;

        mm_iobuf_unhold(&c->rbuf);
        if (conn_sasl_gate(c, &breq, p, len, &more)) {
            return more;
        }
        mm_iobuf_hold(&c->rbuf);
    }
    if (breq.action == MM_BIN_ACT_STORE) {
        used += conn_start_bin_store(c, &breq, p + used, len - used);
        mm_iobuf_unhold(&c->rbuf);
        mm_iobuf_consume(&c->rbuf, used);
        return true;
    }
    if (mm_cmd_bin_exec(c->set->cmd, &breq, &c->out) == MM_CMD_CLOSE) {
        c->state = CONN_CLOSING;
    } else if (breq.swallow > 0) {
        c->state = CONN_SWALLOW;
        c->swallow = (size_t)breq.swallow;
        c->swallow_hold =
            breq.req.type == MM_REQ_ERROR && breq.err == MM_BIN_ST_UNKNOWN_COMMAND &&
            (breq.hdr.opcode < MM_BIN_OP_SASL_LIST_MECHS || breq.hdr.opcode > MM_BIN_OP_SASL_STEP);
    }
    mm_iobuf_unhold(&c->rbuf);
    mm_iobuf_consume(&c->rbuf, used);
    return c->state != CONN_CLOSING;
}

/* Parse and execute one buffered request. Returns false when nothing more
 * can be done with the bytes buffered now. */
static bool
conn_one_request(struct mm_conn *c)
{
    const char *p = mm_iobuf_data(&c->rbuf);
    size_t len = mm_iobuf_len(&c->rbuf);
    struct mm_req req;
    size_t used = 0;
    enum mm_text_rc rc;

    if (!c->started) {
        const struct mm_settings *st = c->set->cmd->env->settings;
        enum mm_settings_proto proto = st != NULL ? st->binding_protocol : MM_SETTINGS_PROTO_AUTO;

        c->started = true;
        /* -B binary frames everything as binary, so a text client is
         * dropped as a bad magic byte once a header's worth has arrived
         * (as memcached does); -B ascii never looks at the first byte. */
        c->binary = proto == MM_SETTINGS_PROTO_BINARY ||
                    ((unsigned char)p[0] == MM_BIN_MAGIC_REQ && proto != MM_SETTINGS_PROTO_ASCII);
    }
    if (c->binary) {
        return conn_one_bin_request(c);
    }
    /* No memset of req: the parser fills it whenever it returns a line. */
    mm_iobuf_hold(&c->rbuf);
    rc = mm_text_parse(p, len, MM_TEXT_MAX_LINE, &req, &used);
    if (rc == MM_TEXT_AGAIN) {
        mm_iobuf_unhold(&c->rbuf);
        if (mm_iobuf_full(&c->rbuf)) {
            /* A get line longer than the largest buffer we allow (memcached
             * has no limit there): drop the client, without a reply, as
             * memcached does for any line it will not hold. */
            mm_log_info("conn %d: request line over %zu bytes, closing", c->io.fd,
                        c->set->cfg.rbuf_max);
            c->state = CONN_CLOSING;
        }
        return false;
    }
    if (rc == MM_TEXT_CLOSE) {
        mm_iobuf_unhold(&c->rbuf);
        c->state = CONN_CLOSING;
        return false;
    }
    if (!conn_take_resp(c)) {
        mm_iobuf_unhold(&c->rbuf);
        return false;
    }
    __atomic_store_n(&c->last_cmd, mono_now(), __ATOMIC_RELAXED);
    if (c->set->cmd->env->auth != NULL && !c->authed) {
        conn_auth_line(c, &req);
        mm_iobuf_unhold(&c->rbuf);
        mm_iobuf_consume(&c->rbuf, used);
        return c->state != CONN_CLOSING;
    }
    if (mm_req_is_storage(req.type)) {
        used += conn_start_store(c, &req, p + used, len - used);
        mm_iobuf_unhold(&c->rbuf);
        mm_iobuf_consume(&c->rbuf, used);
        return c->state != CONN_CLOSING;
    }
    switch (mm_cmd_exec(c->set->cmd, &req, &c->out)) {
    case MM_CMD_CLOSE:
        c->state = CONN_CLOSING;
        break;
    case MM_CMD_WATCH:
        conn_watch_start(c);
        break;
    case MM_CMD_DUMP:
        c->dump = c->set->cmd->dump;
        c->set->cmd->dump = NULL;
        break;
    default:
        break;
    }
    mm_iobuf_unhold(&c->rbuf);
    mm_iobuf_consume(&c->rbuf, used);
    return c->state != CONN_CLOSING && c->watch == NULL;
}

/* Handle what is buffered, up to -R requests and while the output backlog
 * is under the cap. Never frees c: closing is left to the caller through
 * CONN_CLOSING. */
static void
conn_process(struct mm_conn *c)
{
    unsigned done = 0;

    if (c->watch != NULL) {
        /* A log stream ignores what its client sends (as memcached). */
        mm_iobuf_consume(&c->rbuf, mm_iobuf_len(&c->rbuf));
        return;
    }
    c->set->cmd->cfd = c->io.fd;
    c->set->cmd->resps_held = &c->resps;
    c->busy = true;
    conn_publish(c);
    for (;;) {
        if (c->dump != NULL && !conn_dump_pump(c)) {
            c->paused = true;
            break;
        }
        if (c->state == CONN_NREAD) {
            conn_fill_value(c);
        } else if (c->state == CONN_SWALLOW) {
            conn_fill_swallow(c);
        }
        if (c->state != CONN_PARSE || mm_iobuf_len(&c->rbuf) == 0) {
            break;
        }
        if (conn_backlogged(c, false)) {
            /* The client is not reading its replies: stop reading its
             * requests until the backlog drains (conn_write resumes). */
            c->paused = true;
            break;
        }
        if (done >= c->set->cfg.reqs_per_event) {
            c->yielded = true;
            MM_STAT_INCR(c->set->cmd->stats, conn_yields);
            break;
        }
        done++;
        if (!conn_one_request(c)) {
            break;
        }
    }
    if (c->state != CONN_PARSE || mm_iobuf_len(&c->rbuf) == 0) {
        c->yielded = false;
    }
    c->set->cmd->resps_held = NULL;
    c->busy = false;
    conn_publish(c);
}

/* One read: a value in progress goes straight into the item, with whatever
 * follows it landing in the read buffer, which borrows the set's scratch
 * area for the pass; bytes left unparsed (a request cut by the read, or
 * requests left by a yield or a pause) are then copied into memory of the
 * connection's own. Returns false if c was closed. */
static bool
conn_read(struct mm_conn *c)
{
    struct iovec iov[2];
    int cnt = 0;
    size_t room = 0;
    char *space;
    size_t direct = 0;
    ssize_t n;

    if (!c->rbuf_held && mm_resp_limit_on(&c->set->resp)) {
        /* memcached takes a read buffer from the cache before it reads, and
         * drops the client when there is none. */
        if (!mm_resp_limit_take_rbuf(&c->set->resp)) {
            MM_STAT_INCR(c->set->cmd->stats, read_buf_oom);
            mm_conn_close(c);
            return false;
        }
        c->rbuf_held = true;
    }
    if (c->state == CONN_NREAD && c->vgot < c->vlen) {
        direct = c->vlen - c->vgot;
        iov[cnt].iov_base = c->pend->dst + c->vgot;
        iov[cnt].iov_len = direct;
        cnt++;
    }
    (void)mm_iobuf_lend(&c->rbuf, c->set->scratch, c->set->cfg.rbuf_size);
    space = mm_iobuf_space(&c->rbuf, &room);
    if (space != NULL) {
        iov[cnt].iov_base = space;
        iov[cnt].iov_len = room;
        cnt++;
    }
    if (cnt == 0) {
        /* Buffer full of complete requests (yielded): handle them first. */
        mm_iobuf_settle(&c->rbuf);
        return true;
    }
    do {
        n = c->transport == MM_CONN_TLS ? mm_tls_readv(c->set->tls, c->io.fd, iov, cnt)
                                        : readv(c->io.fd, iov, cnt);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        mm_iobuf_settle(&c->rbuf);
        return true;
    }
    if (n <= 0) {
        mm_conn_close(c);
        return false;
    }
    MM_STAT_ADD(c->set->cmd->stats, bytes_read, n);
    if ((size_t)n <= direct) {
        c->vgot += (uint32_t)n;
    } else {
        c->vgot += (uint32_t)direct;
        mm_iobuf_produce(&c->rbuf, (size_t)n - direct);
    }
    conn_process(c);
    mm_iobuf_settle(&c->rbuf);
    if (c->rbuf_held && c->state == CONN_PARSE && mm_iobuf_len(&c->rbuf) == 0) {
        /* Nothing left to parse: the buffer goes back, as memcached's does
         * while the connection waits. */
        mm_resp_limit_put_rbuf(&c->set->resp);
        c->rbuf_held = false;
    }
    return true;
}

/* The TLS handshake, one step per readiness event; the loop watches for
 * what OpenSSL waits on. Returns true once requests may be read. */
static bool
conn_tls_handshake(struct mm_conn *c)
{
    enum mm_tls_rc rc = mm_tls_handshake(c->set->tls, c->io.fd);

    if (rc == MM_TLS_FAILED) {
        mm_conn_close(c);
        return false;
    }
    if (rc != MM_TLS_DONE &&
        mm_ev_io_set(c->set->loop, &c->io, rc == MM_TLS_WANT_WRITE ? MM_EV_WRITE : MM_EV_READ) !=
            0) {
        mm_conn_close(c);
        return false;
    }
    return rc == MM_TLS_DONE;
}

/* Decrypted bytes held by OpenSSL that the socket will not announce. */
static bool
conn_tls_pending(const struct mm_conn *c)
{
    return c->transport == MM_CONN_TLS && c->state != CONN_CLOSING && !c->paused && !c->yielded &&
           mm_tls_pending(c->set->tls, c->io.fd);
}

static void
conn_on_io(struct mm_ev_io *io, unsigned revents)
{
    struct mm_conn *c = io->arg;
    unsigned spins = 0;

    if (c->transport == MM_CONN_TLS && !mm_tls_ready(c->set->tls, c->io.fd)) {
        if (!conn_tls_handshake(c)) {
            return;
        }
        revents = MM_EV_READ; /* the last flight may have carried a request */
    }
    if ((revents & MM_EV_WRITE) != 0) {
        if (!conn_write(c)) {
            return;
        }
        if (c->yielded && !c->paused) {
            c->yielded = false;
            conn_process(c);
        }
    }
    if ((revents & MM_EV_READ) != 0 && c->state != CONN_CLOSING && !c->paused) {
        if (!conn_read(c)) {
            return;
        }
    }
    /* TLS: a read stops when the buffer is full; what OpenSSL still holds
     * is read now (bounded: each pass drains up to a buffer's worth). */
    while (conn_tls_pending(c) && spins++ < 64) {
        if (!conn_read(c)) {
            return;
        }
    }
    if (c->state == CONN_CLOSING && mm_out_pending(&c->out) == 0) {
        mm_conn_close(c);
        return;
    }
    (void)mm_iobuf_trim(&c->rbuf);
    conn_settle_resps(c);
    /* Everything one read produced leaves in one write, now: the scratch
     * memory of the reply is then reused by the next ready connection while
     * it is still in the cache. */
    if (mm_out_pending(&c->out) > 0 && !c->write_blocked) {
        (void)conn_write(c);
        return;
    }
    conn_update_events(c);
}

/* ---- lifecycle --------------------------------------------------------- */

struct mm_conn *
mm_conn_create(struct mm_conn_set *set, int fd, enum mm_conn_transport transport,
               const char *listen_name)
{
    struct mm_conn *c = mm_calloc(1, sizeof(*c));
    struct mm_stats *st = set->cmd->stats;

    c->set = set;
    c->transport = transport;
    c->state = CONN_PARSE;
    c->last_cmd = mono_now();
    mm_iobuf_init(&c->rbuf, set->cfg.rbuf_size, set->cfg.rbuf_max);
    mm_out_init(&c->out, mm_cmd_item_release, set->store);
    mm_out_use_cache(&c->out, &set->out_cache);
    mm_ev_io_init(&c->io, fd, conn_on_io, c);
    if ((transport == MM_CONN_TLS && mm_tls_open(set->tls, fd) != 0) ||
        mm_ev_io_set(set->loop, &c->io, MM_EV_READ) != 0) {
        mm_tls_close(set->tls, fd);
        mm_log_warn("conn %d: the event loop refused the socket", fd);
        mm_out_fini(&c->out);
        mm_free(c);
        close(fd);
        if (set->live != NULL) {
            __atomic_fetch_sub(set->live, 1, __ATOMIC_RELAXED);
        }
        return NULL;
    }
    pthread_mutex_lock(&set->lock);
    c->listen = listen_index(set, listen_name);
    c->next = set->all;
    if (set->all != NULL) {
        set->all->prev = c;
    }
    set->all = c;
    set->count++;
    pthread_mutex_unlock(&set->lock);
    if (set->count > set->peak) {
        set->peak = set->count;
        MM_STAT_INCR(st, connection_structures);
    }
    MM_STAT_INCR(st, curr_connections);
    MM_STAT_INCR(st, total_connections);
    mm_log_debug("<%d new client connection", fd);
    return c;
}

void
mm_conn_close(struct mm_conn *c)
{
    struct mm_conn_set *set = c->set;

    mm_log_debug("<%d connection closed.", c->io.fd);
    mm_ev_io_clear(set->loop, &c->io);
    pthread_mutex_lock(&set->lock);
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        set->all = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    set->count--;
    pthread_mutex_unlock(&set->lock);
    if (c->transport == MM_CONN_TLS) {
        mm_tls_close(set->tls, c->io.fd);
    }
    close(c->io.fd);
    if (c->pend != NULL && c->pend->it != NULL) {
        /* The client left in the middle of a value: nothing is stored. */
        mm_cmd_store_abort(set->cmd, c->pend->it);
        c->pend->it = NULL;
    }
    conn_pending_put(c);
    mm_resp_limit_put(&set->resp, c->resps);
    if (c->rbuf_held) {
        mm_resp_limit_put_rbuf(&set->resp);
    }
    mm_cmd_sasl_free(&c->sasl);
    conn_watch_stop(c);
    mm_cmd_dump_free(&c->dump);
    mm_out_fini(&c->out);
    mm_iobuf_fini(&c->rbuf);
    MM_STAT_ADD(set->cmd->stats, curr_connections, (uint64_t)-1);
    if (set->live != NULL) {
        __atomic_fetch_sub(set->live, 1, __ATOMIC_RELAXED);
    }
    mm_free(c);
}

size_t
mm_conn_pending(const struct mm_conn *c)
{
    if (c->state == CONN_SWALLOW && c->swallow_hold) {
        return 0;
    }
    return mm_out_pending(&c->out);
}

bool
mm_conn_read_paused(const struct mm_conn *c)
{
    return c->paused;
}

size_t
mm_conn_rbuf_cap(const struct mm_conn *c)
{
    return c->rbuf.cap;
}

/* ---- the set ----------------------------------------------------------- */

void
mm_conn_set_init(struct mm_conn_set *set, struct mm_ev_loop *loop, struct mm_cmd_ctx *cmd,
                 struct mm_store *store, const struct mm_conn_cfg *cfg)
{
    memset(set, 0, sizeof(*set));
    set->loop = loop;
    set->cmd = cmd;
    set->store = store;
    set->cfg = *cfg;
    if (set->cfg.reqs_per_event == 0) {
        set->cfg.reqs_per_event = 1;
    }
    if (set->cfg.out_cap == 0) {
        set->cfg.out_cap = CONN_OUT_CAP;
    }
    mm_resp_limit_init(&set->resp, set->cfg.obj_limit, set->cfg.threads);
    cmd->resp_limit = mm_resp_limit_on(&set->resp) ? &set->resp : NULL;
    /* One read area for every connection of the set (see conn_read). */
    set->scratch = mm_malloc(set->cfg.rbuf_size);
    set->tls = mm_tls_set_create(set->cfg.tls);
    mm_out_cache_init(&set->out_cache, CONN_OUT_CACHE_CHUNKS);
    pthread_mutex_init(&set->lock, NULL);
    mm_ev_timer_init(&set->idle_timer, conn_idle_sweep, set);
    if (set->cfg.idle_timeout > 0) {
        mm_ev_timer_start(loop, &set->idle_timer, 1000, 1000);
    }
}

void
mm_conn_set_close_all(struct mm_conn_set *set)
{
    while (set->all != NULL) {
        mm_conn_close(set->all);
    }
}

void
mm_conn_set_fini(struct mm_conn_set *set)
{
    mm_conn_set_close_all(set);
    mm_ev_timer_stop(set->loop, &set->idle_timer);
    pthread_mutex_destroy(&set->lock);
    mm_free(set->spare);
    set->spare = NULL;
    mm_free(set->scratch);
    set->scratch = NULL;
    mm_tls_set_destroy(&set->tls);
    mm_out_cache_fini(&set->out_cache);
}

static void
conn_idle_sweep(struct mm_ev_timer *t)
{
    struct mm_conn_set *set = t->arg;
    uint32_t now = mono_now();
    struct mm_conn *c = set->all;
    struct mm_conn *next;

    for (; c != NULL; c = next) {
        next = c->next;
        /* Only connections waiting for a new request are idle; one in the
         * middle of a value or with replies to send is busy. */
        if (c->state == CONN_PARSE && mm_iobuf_len(&c->rbuf) == 0 && mm_out_pending(&c->out) == 0 &&
            now - c->last_cmd > set->cfg.idle_timeout) {
            MM_STAT_INCR(set->cmd->stats, idle_kicks);
            mm_conn_close(c);
        }
    }
}

void
mm_conn_format_addr(char *buf, size_t size, enum mm_conn_transport transport,
                    const struct sockaddr_storage *ss, unsigned slen)
{
    char host[INET6_ADDRSTRLEN];

    if (transport == MM_CONN_UNIX || ss->ss_family == AF_UNIX) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)ss;

        if (slen > offsetof(struct sockaddr_un, sun_path) && un->sun_path[0] != '\0') {
            snprintf(buf, size, "unix:%s", un->sun_path);
        } else {
            snprintf(buf, size, "unix:");
        }
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(buf, size, "tcp6:[%s]:%u", host, ntohs(in6->sin6_port));
    } else if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        snprintf(buf, size, "tcp:%s:%u", host, ntohs(in->sin_port));
    } else {
        snprintf(buf, size, "unknown");
    }
}

/* What "stats conns" shows, with memcached's state names so that tools
 * parsing them keep working. */
enum conn_shown {
    SHOWN_WAITING = 0,
    SHOWN_PARSE,
    SHOWN_MWRITE,
    SHOWN_NREAD,
    SHOWN_SWALLOW,
    SHOWN_CLOSING
};

static const char *const conn_shown_names[] = {
    "conn_waiting", "conn_parse_cmd", "conn_mwrite", "conn_nread", "conn_swallow", "conn_closing",
};

static enum conn_shown
conn_shown_state(const struct mm_conn *c)
{
    switch (c->state) {
    case CONN_NREAD:
        return SHOWN_NREAD;
    case CONN_SWALLOW:
        return SHOWN_SWALLOW;
    case CONN_CLOSING:
        return SHOWN_CLOSING;
    default:
        break;
    }
    if (c->busy) {
        return SHOWN_PARSE;
    }
    if (mm_out_pending(&c->out) > 0) {
        return SHOWN_MWRITE;
    }
    return SHOWN_WAITING;
}

/* Other threads read the state through "stats conns": publish a snapshot
 * instead of letting them read fields the owner is changing. */
static void
conn_publish(struct mm_conn *c)
{
    __atomic_store_n(&c->shown, (uint8_t)conn_shown_state(c), __ATOMIC_RELAXED);
}

void
mm_conn_set_emit(struct mm_conn_set *set,
                 void (*emit)(void *arg, const char *name, const char *value), void *arg)
{
    uint32_t now = mono_now();
    struct mm_conn *c;
    char name[64];
    char value[160];

    pthread_mutex_lock(&set->lock);
    for (c = set->all; c != NULL; c = c->next) {
        struct sockaddr_storage ss;
        socklen_t slen = sizeof(ss);
        long secs;

        /* Fields other than the address may be read while the owner writes
         * them; "stats conns" is a snapshot and these are single words. */
        memset(&ss, 0, sizeof(ss));
        if (getpeername(c->io.fd, (struct sockaddr *)&ss, &slen) == 0) {
            mm_conn_format_addr(value, sizeof(value), c->transport, &ss, slen);
            snprintf(name, sizeof(name), "%d:addr", c->io.fd);
            emit(arg, name, value);
        }
        if (c->listen != 0) {
            snprintf(name, sizeof(name), "%d:listen_addr", c->io.fd);
            emit(arg, name, set->listen_names[c->listen - 1]);
        }
        snprintf(name, sizeof(name), "%d:state", c->io.fd);
        emit(arg, name, conn_shown_names[__atomic_load_n(&c->shown, __ATOMIC_RELAXED)]);
        secs = (long)now - (long)__atomic_load_n(&c->last_cmd, __ATOMIC_RELAXED);
        snprintf(name, sizeof(name), "%d:secs_since_last_cmd", c->io.fd);
        snprintf(value, sizeof(value), "%ld", secs < 0 ? 0L : secs);
        emit(arg, name, value);
    }
    pthread_mutex_unlock(&set->lock);
}
