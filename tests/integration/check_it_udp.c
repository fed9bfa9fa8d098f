/* UDP (-U), end to end and differential against memcached: each case is one
 * request datagram sent to both servers; every datagram that comes back
 * (frame header and payload) is written into a transcript, and the two
 * transcripts must be equal once binary CAS values are masked. Both servers
 * run one worker (-t 1), so a sentinel datagram sent after the case is
 * answered after it: the transcript ends there, with no waiting on silence.
 * Cases where memcached's answer depends on which of its threads reads the
 * datagram (a value cut short, long pipelines) are checked on the target
 * alone, against the behaviour doc/protocol.md promises. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "client.h"
#include "server.h"
#include "tcheck.h"

#define SENTINEL_ID 0xfffe
#define RECV_TIMEOUT_S 5
#define MAX_DATAGRAMS 2000
#define START_TRIES 5

struct udp_srv {
    struct mm_tserver srv;
    int port; /* UDP */
    int fd;   /* client socket, connected to the server */
    bool up;
};

static struct udp_srv ref, tgt;

/* A UDP port free right now. The server binds it a moment later, so a
 * start is retried with a new port if another process took it. */
static int
free_udp_port(int family)
{
    struct sockaddr_storage ss;
    socklen_t slen = sizeof(ss);
    int fd = socket(family, SOCK_DGRAM, 0);
    int port = -1;

    ck_assert_int_ge(fd, 0);
    memset(&ss, 0, sizeof(ss));
    if (family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_loopback;
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;

        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    if (bind(fd, (struct sockaddr *)&ss,
             family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) == 0 &&
        getsockname(fd, (struct sockaddr *)&ss, &slen) == 0) {
        port = family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                  : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    close(fd);
    return port;
}

static int
udp_connect(int family, const char *host, int port)
{
    struct sockaddr_storage ss;
    struct timeval tv = {RECV_TIMEOUT_S, 0};
    socklen_t slen;
    int fd = socket(family, SOCK_DGRAM, 0);

    ck_assert_int_ge(fd, 0);
    memset(&ss, 0, sizeof(ss));
    if (family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        ck_assert_int_eq(inet_pton(AF_INET6, host, &in6->sin6_addr), 1);
        slen = sizeof(*in6);
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;

        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        ck_assert_int_eq(inet_pton(AF_INET, host, &in->sin_addr), 1);
        slen = sizeof(*in);
    }
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&ss, slen), 0);
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    return fd;
}

/* Start kind with -U on a free port plus extra (NULL-terminated, at most
 * 6 entries). */
static int
udp_start(struct udp_srv *u, enum mm_tserver_kind kind, const char *const *extra)
{
    int attempt;

    memset(u, 0, sizeof(*u));
    for (attempt = 0; attempt < START_TRIES; attempt++) {
        const char *argv[12];
        char portstr[16];
        int n = 0, i;

        u->port = free_udp_port(AF_INET);
        ck_assert_int_gt(u->port, 0);
        snprintf(portstr, sizeof(portstr), "%d", u->port);
        argv[n++] = "-t";
        argv[n++] = "1";
        argv[n++] = "-U";
        argv[n++] = portstr;
        for (i = 0; extra != NULL && extra[i] != NULL && n < 11; i++) {
            argv[n++] = extra[i];
        }
        argv[n] = NULL;
        if (mm_tserver_start(&u->srv, kind, 0, argv) == 0) {
            u->fd = udp_connect(AF_INET, "127.0.0.1", u->port);
            u->up = true;
            return 0;
        }
    }
    return -1;
}

static void
udp_stop(struct udp_srv *u)
{
    if (u->up) {
        close(u->fd);
        ck_assert_int_eq(mm_tserver_stop(&u->srv), 0);
        u->up = false;
    }
}

static void
put_be16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)(v & 0xff);
}

static unsigned
get_be16(const unsigned char *p)
{
    return ((unsigned)p[0] << 8) | p[1];
}

/* A request datagram: header (id, seq, total, reserved) + payload. */
static size_t
frame(unsigned char *out, unsigned rid, unsigned seq, unsigned total, unsigned res,
      const void *payload, size_t len)
{
    put_be16(out, rid);
    put_be16(out + 2, seq);
    put_be16(out + 4, total);
    put_be16(out + 6, res);
    memcpy(out + 8, payload, len);
    return len + 8;
}

struct transcript {
    char *text;
    size_t len, cap;
    unsigned datagrams;
};

static void
tr_add(struct transcript *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->text = realloc(t->text, t->cap);
        ck_assert_ptr_nonnull(t->text);
    }
    memcpy(t->text + t->len, s, n);
    t->len += n;
    t->text[t->len] = '\0';
}

/* Send one datagram, then the sentinel; write every reply datagram before
 * the sentinel's into *t as "id seq total reserved len:payload\n". */
static void
exchange(struct udp_srv *u, const void *dgram, size_t len, struct transcript *t)
{
    static unsigned char buf[70000];
    unsigned char sentinel[32];
    size_t slen = frame(sentinel, SENTINEL_ID, 0, 1, 0, "version\r\n", 9);

    memset(t, 0, sizeof(*t));
    tr_add(t, "", 0);
    ck_assert_int_eq(send(u->fd, dgram, len, 0), (ssize_t)len);
    ck_assert_int_eq(send(u->fd, sentinel, slen, 0), (ssize_t)slen);
    for (;;) {
        ssize_t n = recv(u->fd, buf, sizeof(buf), 0);
        char head[64];

        ck_assert_msg(n >= 0, "no reply from %s within %d s",
                      u->srv.kind == MM_TSERVER_MEMCACHED ? "memcached" : "the target",
                      RECV_TIMEOUT_S);
        ck_assert_int_ge(n, 8);
        if (get_be16(buf) == SENTINEL_ID) {
            break;
        }
        ck_assert_uint_lt(t->datagrams, MAX_DATAGRAMS);
        t->datagrams++;
        /* Binary replies carry CAS values the two servers number alike
         * only by chance. */
        if (n >= 8 + 24 && buf[8] == 0x81 && get_be16(buf + 2) == 0) {
            memset(buf + 8 + 16, 'C', 8);
        }
        snprintf(head, sizeof(head), "%u %u %u %u %zd:", get_be16(buf), get_be16(buf + 2),
                 get_be16(buf + 4), get_be16(buf + 6), n);
        tr_add(t, head, strlen(head));
        tr_add(t, (const char *)buf + 8, (size_t)n - 8);
        tr_add(t, "\n", 1);
    }
}

/* ---- the differential cases ----------------------------------------- */

struct ucase {
    const char *name;
    unsigned rid, seq, total, res;
    const char *payload; /* NULL: raw holds the whole datagram */
    size_t plen;         /* 0: strlen(payload) */
    const char *raw;
    size_t rawlen;
};

#define T(name, payload)                                                                           \
    {                                                                                              \
        name, 0x1234, 0, 1, 0, payload, 0, NULL, 0                                                 \
    }
#define TB(name, payload)                                                                          \
    {                                                                                              \
        name, 0x4321, 0, 1, 0, payload, sizeof(payload) - 1, NULL, 0                               \
    }
#define HDR(name, rid, seq, total, res, payload)                                                   \
    {                                                                                              \
        name, rid, seq, total, res, payload, 0, NULL, 0                                            \
    }
#define RAW(name, raw)                                                                             \
    {                                                                                              \
        name, 0, 0, 0, 0, NULL, 0, raw, sizeof(raw) - 1                                            \
    }

/* Binary request headers: magic, opcode, keylen, extlen, 0, 0, bodylen,
 * opaque 0xdeadbeef, cas 0. */
#define BIN(op, kl, el, bl)                                                                        \
    "\x80" op "\x00" kl el "\x00\x00\x00"                                                          \
    "\x00\x00\x00" bl "\xde\xad\xbe\xef"                                                           \
    "\x00\x00\x00\x00\x00\x00\x00\x00"

#define C10 "0123456789"
#define C100 C10 C10 C10 C10 C10 C10 C10 C10 C10 C10
#define C1000 C100 C100 C100 C100 C100 C100 C100 C100 C100 C100
#define K10 "kkkkkkkkkk"
#define K50 K10 K10 K10 K10 K10
#define K251 K50 K50 K50 K50 K50 "k"

static const struct ucase cases[] = {
    T("version", "version\r\n"),
    HDR("request id echoed", 0xabcd, 0, 1, 0, "version\r\n"),
    HDR("sequence ignored", 0x0102, 5, 1, 0, "version\r\n"),
    HDR("reserved ignored", 0x0103, 0, 1, 7, "version\r\n"),
    HDR("two datagrams: dropped", 0x0104, 0, 2, 0, "version\r\n"),
    HDR("zero datagrams: dropped", 0x0105, 0, 0, 0, "version\r\n"),
    HDR("257 datagrams: dropped", 0x0106, 0, 0x101, 0, "version\r\n"),
    RAW("header only: dropped", "\x00\x01\x00\x00\x00\x01\x00\x00"),
    RAW("short header: dropped", "\x00\x01\x00\x00\x00\x01\x00"),
    T("set", "set a 0 0 5\r\nhello\r\n"),
    T("get hit", "get a\r\n"),
    T("get miss", "get nope1\r\n"),
    T("multi-get: one reply per hit", "get a a\r\n"),
    T("multi-get: misses between hits", "get a nope1 nope2 a\r\n"),
    T("multi-get: leading miss", "get nope1 a\r\n"),
    T("multi-get: leading misses", "get nope1 nope2 a\r\n"),
    T("multi-get: trailing misses", "get a nope1 nope2\r\n"),
    T("multi-get: all misses", "get nope1 nope2\r\n"),
    T("multi-get: hit miss hit", "get a nope1 a\r\n"),
    T("gets multi", "gets a a\r\n"),
    T("set big", "set big 7 0 3000\r\n" C1000 C1000 C1000 "\r\n"),
    T("large reply split in 3", "get big\r\n"),
    T("large replies, each split", "get big a big nope1\r\n"),
    T("error: unknown command", "bogus\r\n"),
    T("error: key too long", "get " K251 "\r\n"),
    T("error: long key after a hit", "get a " K251 " a\r\n"),
    T("error: bad data chunk", "set w 0 0 3\r\nabcde\r\n"),
    T("incomplete line: dropped", "get a"),
    T("empty line", "\r\n"),
    T("noreply set, then get", "set q 0 0 3 noreply\r\nabc\r\nget q\r\n"),
    T("pipelined set and get", "set z 0 0 3\r\nabc\r\nget z\r\n"),
    T("pipelined, last line cut", "version\r\nversion\r\nversion"),
    T("quit stops the datagram", "quit\r\nversion\r\n"),
    T("version then quit", "version\r\nquit\r\nversion\r\n"),
    T("incr", "set n 0 0 1\r\n5\r\nincr n 3\r\n"),
    T("delete", "delete n\r\n"),
    T("verbosity noreply", "verbosity 1 noreply\r\nverbosity 1\r\n"),
    T("meta noop", "mn\r\n"),
    T("meta quiet miss then hit", "mg nope1 q\r\nmg a s v q\r\nmn\r\n"),
    T("meta miss", "mg nope1\r\n"),
    T("meta set and get", "ms mk 2\r\nhi\r\nmg mk v\r\n"),
    T("meta large value", "mg big s v\r\n"),
    TB("binary noop", BIN("\x0a", "\x00", "\x00", "\x00")),
    TB("binary version", BIN("\x0b", "\x00", "\x00", "\x00")),
    TB("binary get hit", BIN("\x00", "\x01", "\x00", "\x01") "a"),
    TB("binary get big", BIN("\x00", "\x03", "\x00", "\x03") "big"),
    TB("binary get miss", BIN("\x00", "\x05", "\x00", "\x05") "nope1"),
    TB("binary getq miss, noop",
       BIN("\x09", "\x05", "\x00", "\x05") "nope1" BIN("\x0a", "\x00", "\x00", "\x00")),
    TB("binary setq, noop",
       BIN("\x11", "\x02", "\x08", "\x0d") "\x00\x00\x00\x00\x00\x00\x00\x00"
                                           "bkval" BIN("\x0a", "\x00", "\x00", "\x00")),
    TB("binary set", BIN("\x01", "\x02", "\x08", "\x0d") "\x00\x00\x00\x00\x00\x00\x00\x00"
                                                         "bkval"),
    TB("binary cut short", "\x80\x0a\x00\x00\x00\x00"),
    TB("binary bad magic", "\x81\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                           "\xde\xad\xbe\xef\x00\x00\x00\x00\x00\x00\x00\x00"),
};

static void
diff_setup(void)
{
    const char *const extra[] = {"-I", "512k", NULL};

    if (udp_start(&ref, MM_TSERVER_MEMCACHED, extra) != 0) {
        ck_abort_msg("cannot start memcached with -U");
    }
    if (udp_start(&tgt, MM_TSERVER_TARGET, extra) != 0) {
        ck_abort_msg("cannot start the target with -U");
    }
}

static void
diff_teardown(void)
{
    if (tgt.up) {
        close(tgt.fd);
        (void)mm_tserver_stop(&tgt.srv);
        tgt.up = false;
    }
    if (ref.up) {
        close(ref.fd);
        (void)mm_tserver_stop(&ref.srv);
        ref.up = false;
    }
}

static size_t
case_datagram(const struct ucase *c, unsigned char *out)
{
    if (c->payload == NULL) {
        memcpy(out, c->raw, c->rawlen);
        return c->rawlen;
    }
    return frame(out, c->rid, c->seq, c->total, c->res, c->payload,
                 c->plen != 0 ? c->plen : strlen(c->payload));
}

/* Every case in order on one pair of servers: later cases read what
 * earlier ones stored. */
START_TEST(test_diff_all)
{
    static unsigned char dgram[8 + 8192];
    size_t k;
    int failures = 0;

    for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct transcript a, b;
        size_t len = case_datagram(&cases[k], dgram);

        exchange(&ref, dgram, len, &a);
        exchange(&tgt, dgram, len, &b);
        if (a.len != b.len || memcmp(a.text, b.text, a.len) != 0) {
            fprintf(stderr, "UDP case \"%s\" differs:\n", cases[k].name);
            mm_tclient_print_diff("memcached", a.text, a.len, "target", b.text, b.len);
            failures++;
        }
        free(a.text);
        free(b.text);
    }
    ck_assert_int_eq(failures, 0);
}
END_TEST

/* curr_connections counts each worker's UDP socket, as memcached does. */
START_TEST(test_diff_conn_stats)
{
    struct mm_tclient ca, cb;
    struct mm_tstats sa, sb;

    ck_assert_int_eq(mm_tclient_connect(&ca, ref.srv.host, ref.srv.port), 0);
    ck_assert_int_eq(mm_tclient_connect(&cb, tgt.srv.host, tgt.srv.port), 0);
    ck_assert_int_eq(mm_tclient_stats(&ca, NULL, &sa), 0);
    ck_assert_int_eq(mm_tclient_stats(&cb, NULL, &sb), 0);
    ck_assert_int_eq(mm_tstats_num(&sb, "curr_connections"),
                     mm_tstats_num(&sa, "curr_connections"));
    ck_assert_int_eq(mm_tstats_num(&sb, "total_connections"),
                     mm_tstats_num(&sa, "total_connections"));
    mm_tstats_free(&sa);
    mm_tstats_free(&sb);
    mm_tclient_close(&ca);
    mm_tclient_close(&cb);
}
END_TEST

/* -U cannot be combined with authentication: same words, same status. */
START_TEST(test_diff_refuses_auth)
{
    const char *auth = "/tmp/mmem-it-udp-auth";
    const char *const opts[][4] = {{"-Y", auth, NULL, NULL}, {"-S", NULL, NULL, NULL}};
    FILE *f = fopen(auth, "w");
    size_t k;

    ck_assert_ptr_nonnull(f);
    fputs("user:pass\n", f);
    fclose(f);
    for (k = 0; k < 2; k++) {
        const char *argv[10];
        char *out[2] = {NULL, NULL};
        int st[2];
        int w;

        for (w = 0; w < 2; w++) {
            int n = 0, i;

            argv[n++] = mm_tserver_bin(w == 0 ? MM_TSERVER_MEMCACHED : MM_TSERVER_TARGET);
            argv[n++] = "-u";
            argv[n++] = "root";
            argv[n++] = "-U";
            argv[n++] = "11211";
            for (i = 0; opts[k][i] != NULL; i++) {
                argv[n++] = opts[k][i];
            }
            argv[n] = NULL;
            st[w] = mm_tserver_run(argv[0], argv, 10000, &out[w]);
        }
        ck_assert_int_eq(st[1], st[0]);
        ck_assert_str_eq(out[1], out[0]);
        free(out[0]);
        free(out[1]);
    }
    unlink(auth);
}
END_TEST

/* ---- the target alone ------------------------------------------------ */

static void
tgt_setup(void)
{
    if (udp_start(&tgt, MM_TSERVER_TARGET, NULL) != 0) {
        ck_abort_msg("cannot start the target with -U");
    }
}

static void
tgt_teardown(void)
{
    udp_stop(&tgt);
}

static void
send_payload(struct udp_srv *u, unsigned rid, const char *payload, size_t len, struct transcript *t)
{
    unsigned char *d = malloc(len + 8);
    size_t n;

    ck_assert_ptr_nonnull(d);
    n = frame(d, rid, 0, 1, 0, payload, len);
    exchange(u, d, n, t);
    free(d);
}

/* A value cut short by the end of its datagram is dropped with the rest
 * of the datagram; the next datagram starts afresh (memcached may instead
 * read it as the value's continuation, depending on its thread). */
START_TEST(test_value_cut_short)
{
    struct transcript t;

    send_payload(&tgt, 1, "set y 0 0 10\r\nabc\r\n", 19, &t);
    ck_assert_uint_eq(t.datagrams, 0);
    free(t.text);
    send_payload(&tgt, 2, "defgh\r\n", 7, &t);
    ck_assert_str_eq(t.text, "2 0 1 0 15:ERROR\r\n\n");
    free(t.text);
    send_payload(&tgt, 3, "get y\r\n", 7, &t);
    ck_assert_str_eq(t.text, "3 0 1 0 13:END\r\n\n");
    free(t.text);
}
END_TEST

/* "stats" is one reply: datagrams numbered 0..n-1 of n, each at most 1400
 * bytes, whose payloads put together make the whole listing. */
START_TEST(test_stats_split)
{
    static unsigned char buf[70000];
    unsigned char d[32];
    size_t n = frame(d, 0x77, 0, 1, 0, "stats\r\n", 7);
    char *all = calloc(1, 65536);
    size_t got = 0;
    unsigned seq = 0, total = 0;

    ck_assert_ptr_nonnull(all);
    ck_assert_int_eq(send(tgt.fd, d, n, 0), (ssize_t)n);
    do {
        ssize_t r = recv(tgt.fd, buf, sizeof(buf), 0);

        ck_assert_int_gt(r, 8);
        ck_assert_int_le(r, 1400);
        ck_assert_uint_eq(get_be16(buf), 0x77);
        ck_assert_uint_eq(get_be16(buf + 2), seq);
        if (seq == 0) {
            total = get_be16(buf + 4);
            ck_assert_uint_ge(total, 2);
        }
        ck_assert_uint_eq(get_be16(buf + 4), total);
        ck_assert_uint_eq(get_be16(buf + 6), 0);
        if (seq + 1 < total) {
            ck_assert_int_eq(r, 1400);
        }
        ck_assert_uint_lt(got + (size_t)r, 65536);
        memcpy(all + got, buf + 8, (size_t)r - 8);
        got += (size_t)r - 8;
        seq++;
    } while (seq < total);
    ck_assert_uint_eq(got / 1392 + (got % 1392 != 0), total);
    ck_assert_int_eq(strncmp(all, "STAT pid ", 9), 0);
    ck_assert_int_eq(strcmp(all + got - 5, "END\r\n"), 0);
    free(all);
}
END_TEST

/* The sockets show in "stats settings" and "stats conns" as memcached's. */
START_TEST(test_stats_views)
{
    struct mm_tclient c;
    struct mm_tstats st;
    char want[64];
    size_t i;
    bool seen_addr = false, seen_udp = false;

    ck_assert_int_eq(mm_tclient_connect(&c, tgt.srv.host, tgt.srv.port), 0);
    ck_assert_int_eq(mm_tclient_stats(&c, "settings", &st), 0);
    ck_assert_int_eq(mm_tstats_num(&st, "udpport"), tgt.port);
    mm_tstats_free(&st);
    ck_assert_int_eq(mm_tclient_stats(&c, "conns", &st), 0);
    snprintf(want, sizeof(want), "udp:127.0.0.1:%d", tgt.port);
    for (i = 0; i < st.n; i++) {
        const char *colon = strchr(st.name[i], ':');

        if (colon != NULL && strcmp(colon, ":addr") == 0 && strcmp(st.value[i], want) == 0) {
            seen_addr = true;
        }
        if (colon != NULL && strcmp(colon, ":UDP") == 0 && strcmp(st.value[i], "UDP") == 0) {
            seen_udp = true;
        }
    }
    ck_assert_msg(seen_addr, "no %s in stats conns", want);
    ck_assert(seen_udp);
    mm_tstats_free(&st);
    mm_tclient_close(&c);
}
END_TEST

/* -l applies to UDP as to TCP: an IPv6 loopback address gets an IPv6 UDP
 * socket. Skipped where the host has no IPv6 loopback. */
START_TEST(test_ipv6_listen)
{
    struct mm_tserver s;
    struct transcript t;
    struct udp_srv u;
    char portstr[16];
    int port = free_udp_port(AF_INET6);

    if (port <= 0) {
        return; /* no ::1 here */
    }
    snprintf(portstr, sizeof(portstr), "%d", port);
    ck_assert_int_eq(mm_tserver_startl(&s, MM_TSERVER_TARGET, MM_TSERVER_F_NOLISTEN, "-l", "[::1]",
                                       "-p", mm_tserver_any_port(MM_TSERVER_TARGET), "-U", portstr,
                                       "-t", "1", NULL),
                     0);
    memset(&u, 0, sizeof(u));
    u.srv = s;
    u.port = port;
    u.fd = udp_connect(AF_INET6, "::1", port);
    send_payload(&u, 9, "version\r\n", 9, &t);
    ck_assert_uint_eq(t.datagrams, 1);
    ck_assert_int_eq(strncmp(t.text, "9 0 1 0 24:VERSION ", 19), 0);
    free(t.text);
    close(u.fd);
    ck_assert_int_eq(mm_tserver_stop(&s), 0);
}
END_TEST

static Suite *
udp_suite(bool with_diff)
{
    Suite *s = suite_create("it_udp");
    TCase *tc;

    if (with_diff) {
        tc = tcase_create("diff");
        tcase_set_timeout(tc, 60);
        tcase_add_checked_fixture(tc, diff_setup, diff_teardown);
        tcase_add_test(tc, test_diff_all);
        tcase_add_test(tc, test_diff_conn_stats);
        tcase_add_test(tc, test_diff_refuses_auth);
        suite_add_tcase(s, tc);
    }
    tc = tcase_create("target");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, tgt_setup, tgt_teardown);
    tcase_add_test(tc, test_value_cut_short);
    tcase_add_test(tc, test_stats_split);
    tcase_add_test(tc, test_stats_views);
    suite_add_tcase(s, tc);

    tc = tcase_create("listen");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_ipv6_listen);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    /* An external target cannot be paired with a reference memcached. */
    bool with_diff = mm_tserver_have_memcached() && !mm_tserver_target_external();

    /* Without the differential cases the run still exits 0 rather than 77. */
    return mm_tcheck_run(udp_suite(with_diff), MM_TCHECK_FORK,
                         with_diff ? NULL : MM_TCHECK_NO_MEMCACHED);
}
