/* The connection state machine over a socketpair, with a real event loop
 * (every backend), a real store and the real command layer, but no
 * listener: pipelining, split reads, values larger than the read buffer,
 * noreply, quit, bad data chunks, -R yields and backpressure, and the
 * memory a connection holds between requests. */
#include "config.h"

#include "mmem/clock.h"
#include "mmem/cmd.h"
#include "mmem/conn.h"
#include "mmem/ev.h"
#include "mmem/stats.h"
#include "mmem/store.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct fixture {
    struct mm_clock clock;
    struct mm_store *store;
    struct mm_ev_loop *loop;
    struct mm_stats stats;
    struct mm_cmd_env env;
    struct mm_cmd_ctx ctx;
    struct mm_conn_set set;
    unsigned long live;
};

static struct fixture fx;

static void
env_sum(void *arg, struct mm_stats *sum)
{
    (void)arg;
    mm_stats_sum(sum, &fx.stats);
}

static void
env_reset(void *arg)
{
    (void)arg;
    mm_stats_reset(&fx.stats);
}

static void
env_gauges(void *arg, uint64_t *a, uint64_t *d, uint64_t *r)
{
    (void)arg;
    *a = 1;
    *d = 0;
    *r = 0;
}

static void
env_conns(void *arg, void (*emit)(void *, const char *, const char *), void *emit_arg)
{
    (void)arg;
    mm_conn_set_emit(&fx.set, emit, emit_arg);
}

static void
env_shutdown(void *arg, bool graceful)
{
    (void)arg;
    (void)graceful;
}

static void
setup_with(const char *backend, const struct mm_conn_cfg *cfg)
{
    struct mm_store_cfg sc;

    memset(&fx, 0, sizeof(fx));
    signal(SIGPIPE, SIG_IGN);
    mm_clock_init(&fx.clock);
    memset(&sc, 0, sizeof(sc));
    sc.mem_limit = 64u << 20;
    sc.factor = 1.25;
    sc.chunk_min = 48;
    sc.item_size_max = 1u << 20;
    sc.slab_page_size = 1u << 20;
    sc.slab_chunk_max = 512u << 10;
    sc.evict = true;
    sc.use_cas = true;
    sc.hash_expand = false;
    sc.clock = &fx.clock;
    fx.store = mm_store_create(&sc);
    ck_assert_ptr_nonnull(fx.store);
    fx.loop = mm_ev_loop_create(backend);
    ck_assert_ptr_nonnull(fx.loop);
    fx.env.store = fx.store;
    fx.env.clock = &fx.clock;
    fx.env.ev_backend = backend;
    fx.env.stats_sum = env_sum;
    fx.env.stats_reset = env_reset;
    fx.env.conns_emit = env_conns;
    fx.env.server_gauges = env_gauges;
    fx.env.shutdown = env_shutdown;
    fx.ctx.env = &fx.env;
    fx.ctx.stats = &fx.stats;
    mm_conn_set_init(&fx.set, fx.loop, &fx.ctx, fx.store, cfg);
    fx.set.live = &fx.live;
}

static void
default_cfg(struct mm_conn_cfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->rbuf_size = 1024;
    cfg->rbuf_max = 64 * 1024;
    cfg->out_cap = 256 * 1024;
    cfg->reqs_per_event = 1000;
}

static void
teardown(void)
{
    mm_conn_set_fini(&fx.set);
    mm_ev_loop_destroy(&fx.loop);
    mm_store_destroy(&fx.store);
}

/* A connection over a socketpair of the given type; returns the client end
 * (non-blocking) and the server-side connection in *c. */
static int
open_conn(int type, struct mm_conn **c)
{
    int sv[2];

    ck_assert_int_eq(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv), 0);
    ck_assert_int_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
    ck_assert_int_eq(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
    fx.live++;
    *c = mm_conn_create(&fx.set, sv[0], MM_CONN_UNIX, NULL);
    ck_assert_ptr_nonnull(*c);
    return sv[1];
}

static uint64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
pump(int iterations)
{
    int i;

    for (i = 0; i < iterations; i++) {
        ck_assert_int_eq(mm_ev_loop_run_once(fx.loop, 5), 0);
    }
}

static void
send_all(int fd, const char *p, size_t n)
{
    uint64_t deadline = now_ms() + 5000;

    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        ck_assert_msg(w < 0 && errno == EAGAIN, "send: %s", strerror(errno));
        ck_assert_msg(now_ms() < deadline, "send timed out");
        pump(1);
    }
}

/* Run the loop and collect replies until want bytes arrived, the peer
 * closed (*eof), or 5 s passed. Returns the byte count (buf NUL-ended). */
static size_t
collect(int fd, char *buf, size_t cap, size_t want, bool *eof)
{
    uint64_t deadline = now_ms() + 5000;
    size_t got = 0;

    if (eof != NULL) {
        *eof = false;
    }
    while (got < want && now_ms() < deadline) {
        ssize_t r = recv(fd, buf + got, cap - 1 - got, 0);

        if (r > 0) {
            got += (size_t)r;
            continue;
        }
        if (r == 0 || (r < 0 && errno == ECONNRESET)) {
            /* A close with unread input arrives as a reset. */
            if (eof != NULL) {
                *eof = true;
            }
            break;
        }
        ck_assert_int_eq(errno, EAGAIN);
        pump(1);
    }
    buf[got] = '\0';
    return got;
}

static void
expect(int fd, const char *want)
{
    char buf[8192];
    size_t n = collect(fd, buf, sizeof(buf), strlen(want), NULL);

    ck_assert_msg(n == strlen(want) && memcmp(buf, want, n) == 0, "got [%s] want [%s]", buf, want);
}

/* Between requests a connection holds no read buffer and no output. */
static void
assert_holds_nothing(const struct mm_conn *c)
{
    ck_assert_uint_eq(mm_conn_rbuf_cap(c), 0);
    ck_assert_uint_eq(mm_conn_pending(c), 0);
}

START_TEST(test_simple)
{
    struct mm_conn_cfg cfg;
    struct mm_conn *c;
    int fd;

    default_cfg(&cfg);
    setup_with(mm_ev_backends()[_i], &cfg);
    fd = open_conn(SOCK_STREAM, &c);
    send_all(fd, "set a 0 0 5\r\nhello\r\n", 20);
    expect(fd, "STORED\r\n");
    send_all(fd, "get a\r\n", 7);
    expect(fd, "VALUE a 0 5\r\nhello\r\nEND\r\n");
    assert_holds_nothing(c);
    ck_assert_uint_eq(fx.stats.curr_connections, 1);
    ck_assert_uint_eq(fx.stats.bytes_read, 27);
    ck_assert_uint_eq(fx.stats.bytes_written, 8 + 25);
    close(fd);
    pump(3);
    ck_assert_uint_eq(fx.stats.curr_connections, 0);
    ck_assert_uint_eq(fx.live, 0);
    teardown();
}
END_TEST

/* Many requests in one write: every reply leaves in a single writev (one
 * SOCK_SEQPACKET record). */
START_TEST(test_pipeline_one_write)
{
    struct mm_conn_cfg cfg;
    struct mm_conn *c;
    char req[8192];
    char want[8192];
    char buf[16384];
    size_t rl = 0, wl = 0;
    ssize_t r;
    int fd, i;

    default_cfg(&cfg);
    cfg.rbuf_size = 8192; /* a record larger than the buffer is truncated */
    setup_with(mm_ev_backends()[_i], &cfg);
    fd = open_conn(SOCK_SEQPACKET, &c);
    for (i = 0; i < 40; i++) {
        rl += (size_t)snprintf(req + rl, sizeof(req) - rl, "set k%d 0 0 2\r\nv%d\r\nget k%d\r\n", i,
                               i % 10, i);
        wl += (size_t)snprintf(want + wl, sizeof(want) - wl,
                               "STORED\r\nVALUE k%d 0 2\r\nv%d\r\nEND\r\n", i, i % 10);
    }
    ck_assert_int_eq(send(fd, req, rl, 0), (ssize_t)rl);
    pump(3);
    r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    ck_assert_int_eq(r, (ssize_t)wl);
    ck_assert_int_eq(memcmp(buf, want, wl), 0);
    /* Nothing else was sent. */
    ck_assert_int_lt(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 0);
    close(fd);
    teardown();
}
END_TEST

/* Every split point of a set + get, delivered in two writes. */
START_TEST(test_split_points)
{
    static const char req[] = "set key 5 0 10\r\n0123456789\r\nget key\r\n";
    static const char want[] = "STORED\r\nVALUE key 5 10\r\n0123456789\r\nEND\r\n";
    struct mm_conn_cfg cfg;
    size_t n = sizeof(req) - 1;
    size_t split;

    default_cfg(&cfg);
    setup_with(mm_ev_backends()[_i], &cfg);
    for (split = 1; split < n; split++) {
        struct mm_conn *c;
        int fd = open_conn(SOCK_STREAM, &c);

        send_all(fd, req, split);
        pump(2);
        send_all(fd, req + split, n - split);
        expect(fd, want);
        close(fd);
        pump(2);
    }
    ck_assert_uint_eq(fx.stats.curr_connections, 0);
    teardown();
}
END_TEST

/* A value much larger than the read buffer goes into the item, not through
 * a grown read buffer. */
START_TEST(test_big_value)
{
    struct mm_conn_cfg cfg;
    struct mm_conn *c;
    size_t vlen = 300 * 1000;
    char *val = malloc(vlen);
    char *buf = malloc(vlen + 256);
    char line[64];
    size_t hl, n, i;
    int fd;

    default_cfg(&cfg);
    setup_with(mm_ev_backends()[_i], &cfg);
    fd = open_conn(SOCK_STREAM, &c);
    for (i = 0; i < vlen; i++) {
        val[i] = (char)('a' + i % 26);
    }
    hl = (size_t)snprintf(line, sizeof(line), "set big 7 0 %zu\r\n", vlen);
    send_all(fd, line, hl);
    /* Send in pieces, checking that the read buffer stays at its size. */
    for (i = 0; i < vlen; i += 7000) {
        send_all(fd, val + i, vlen - i < 7000 ? vlen - i : 7000);
        pump(1);
        ck_assert_uint_le(mm_conn_rbuf_cap(c), cfg.rbuf_size);
    }
    send_all(fd, "\r\n", 2);
    expect(fd, "STORED\r\n");
    send_all(fd, "get big\r\n", 9);
    hl = (size_t)snprintf(line, sizeof(line), "VALUE big 7 %zu\r\n", vlen);
    n = collect(fd, buf, vlen + 256, hl + vlen + 7, NULL);
    ck_assert_uint_eq(n, hl + vlen + 7);
    ck_assert_int_eq(memcmp(buf, line, hl), 0);
    ck_assert_int_eq(memcmp(buf + hl, val, vlen), 0);
    ck_assert_int_eq(memcmp(buf + hl + vlen, "\r\nEND\r\n", 7), 0);
    free(val);
    free(buf);
    close(fd);
    teardown();
}
END_TEST

START_TEST(test_noreply)
{
    struct mm_conn_cfg cfg;
    struct mm_conn *c;
    int fd;

    default_cfg(&cfg);
    setup_with(mm_ev_backends()[_i], &cfg);
    fd = open_conn(SOCK_STREAM, &c);
    send_all(fd, "set a 0 0 1 noreply\r\nx\r\nget a\r\n", 31);
    expect(fd, "VALUE a 0 1\r\nx\r\nEND\r\n");
    close(fd);
    teardown();
}
END_TEST

START_TEST(test_quit)
{
    struct mm_conn_cfg cfg;
    struct mm_conn *c;
    char buf[256];
    bool eof = false;
    size_t n;
    int fd;

    default_cfg(&cfg);
    setup_with(mm_ev_backends()[_i], &cfg);
    fd = open_conn(SOCK_STREAM, &c);
    send_all(fd, "get nope\r\nquit\r\nget nope\r\n", 26);
    n = collect(fd, buf, sizeof(buf), sizeof(buf), &eof);
    ck_assert(eof);
    ck_assert_uint_eq(n, 5);
    ck_assert_str_eq(buf, "END\r\n");
    ck_assert_uint_eq(fx.stats.curr_connections, 0);
    close(fd);
    teardown();
}
END_TEST

/* memcached's answer to a value whose trailer is not "\r\n": the reply,
 * nothing stored, and the bytes after the value parsed as commands. */
START_TEST(test_bad_data_chunk)
{
    struct mm_conn_cfg cfg;
    struct mm_conn *c;
    int fd;

    default_cfg(&cfg);
    setup_with(mm_ev_backends()[_i], &cfg);
    fd = open_conn(SOCK_STREAM, &c);
    send_all(fd, "set a 0 0 3\r\nabcde\r\nget a\r\n", 27);
    expect(fd, "CLIENT_ERROR bad data chunk\r\nERROR\r\nEND\r\n");
    close(fd);
    teardown();
}
END_TEST

/* A refused value (too large) is swallowed, not parsed. */
START_TEST(test_swallow)
{
    struct mm_conn_cfg cfg;
    struct mm_conn *c;
    size_t vlen = 2u << 20;
    char *req = malloc(vlen + 64);
    size_t n;
    int fd;

    default_cfg(&cfg);
    setup_with(mm_ev_backends()[_i], &cfg);
    fd = open_conn(SOCK_STREAM, &c);
    n = (size_t)snprintf(req, 64, "set a 0 0 %zu\r\n", vlen);
    memset(req + n, 'g', vlen);
    memcpy(req + n + vlen, "\r\nget a\r\n", 9);
    send_all(fd, req, n + vlen + 9);
    expect(fd, "SERVER_ERROR object too large for cache\r\nEND\r\n");
    free(req);
    close(fd);
    teardown();
}
END_TEST

/* A request cut by a read leaves the connection owning just that piece
 * (reads land in the set's scratch area); once it completes, nothing. */
START_TEST(test_partial_holds_little)
{
    struct mm_conn_cfg cfg;
    struct mm_conn *c;
    int fd;

    default_cfg(&cfg);
    setup_with(mm_ev_backends()[_i], &cfg);
    fd = open_conn(SOCK_STREAM, &c);
    ck_assert_uint_eq(mm_conn_rbuf_cap(c), 0);
    send_all(fd, "get a\r\nget lon", 15);
    expect(fd, "END\r\n");
    ck_assert_uint_gt(mm_conn_rbuf_cap(c), 0);
    ck_assert_uint_le(mm_conn_rbuf_cap(c), 64);
    send_all(fd, "gkey\r\n", 6);
    expect(fd, "END\r\n");
    assert_holds_nothing(c);
    close(fd);
    teardown();
}
END_TEST

/* Values that straddle reads on two connections at once (each keeps its
 * request aside), completed in the other order, then read back. */
START_TEST(test_values_straddle_reads)
{
    struct mm_conn_cfg cfg;
    struct mm_conn *c1, *c2;
    int fd1, fd2;

    default_cfg(&cfg);
    setup_with(mm_ev_backends()[_i], &cfg);
    fd1 = open_conn(SOCK_STREAM, &c1);
    fd2 = open_conn(SOCK_STREAM, &c2);
    send_all(fd1, "set one 1 0 10\r\n01234", 21);
    send_all(fd2, "set two 2 0 6\r\nab", 17);
    pump(3);
    ck_assert_uint_eq(mm_conn_rbuf_cap(c1), 0);
    ck_assert_uint_eq(mm_conn_rbuf_cap(c2), 0);
    send_all(fd2, "cdef\r", 5);
    pump(2);
    send_all(fd2, "\nget one\r\n", 10);
    /* one is not stored yet. */
    expect(fd2, "STORED\r\nEND\r\n");
    send_all(fd1, "56789\r\nget one two\r\n", 20);
    expect(fd1, "STORED\r\nVALUE one 1 10\r\n0123456789\r\n"
                "VALUE two 2 6\r\nabcdef\r\nEND\r\n");
    assert_holds_nothing(c1);
    assert_holds_nothing(c2);
    close(fd1);
    close(fd2);
    teardown();
}
END_TEST

/* A binary set whose value arrives in two reads, then one in a single read;
 * both are answered and the connection ends up holding no buffer. */
START_TEST(test_binary_split_value)
{
    unsigned char req[24 + 8 + 2 + 6];
    unsigned char resp[64];
    struct mm_conn_cfg cfg;
    struct mm_conn *c;
    size_t got;
    int fd;

    default_cfg(&cfg);
    setup_with(mm_ev_backends()[_i], &cfg);
    fd = open_conn(SOCK_STREAM, &c);
    memset(req, 0, sizeof(req));
    req[0] = 0x80;       /* request magic */
    req[1] = 0x01;       /* set */
    req[3] = 2;          /* key length */
    req[4] = 8;          /* extras: flags, exptime */
    req[11] = 8 + 2 + 6; /* body length */
    req[15] = 7;         /* opaque */
    memcpy(req + 32, "bk", 2);
    memcpy(req + 34, "vvvvvv", 6);
    send_all(fd, (const char *)req, 37);
    pump(2);
    ck_assert_uint_eq(mm_conn_rbuf_cap(c), 0);
    send_all(fd, (const char *)req + 37, 3);
    send_all(fd, (const char *)req, sizeof(req));
    got = collect(fd, (char *)resp, sizeof(resp), 48, NULL);
    ck_assert_uint_eq(got, 48);
    ck_assert_uint_eq(resp[0], 0x81);
    ck_assert_uint_eq(resp[7], 0); /* status */
    ck_assert_uint_eq(resp[15], 7);
    ck_assert_uint_eq(resp[24], 0x81);
    ck_assert_uint_eq(resp[24 + 7], 0);
    assert_holds_nothing(c);
    close(fd);
    teardown();
}
END_TEST

/* With -R 2, ten requests take several turns, and all are answered. */
START_TEST(test_yield)
{
    struct mm_conn_cfg cfg;
    struct mm_conn *c;
    char want[256] = "";
    int fd, i;

    default_cfg(&cfg);
    cfg.reqs_per_event = 2;
    setup_with(mm_ev_backends()[_i], &cfg);
    fd = open_conn(SOCK_STREAM, &c);
    for (i = 0; i < 10; i++) {
        strcat(want, "END\r\n");
    }
    send_all(fd,
             "get a\r\nget a\r\nget a\r\nget a\r\nget a\r\nget a\r\nget a\r\nget a\r\n"
             "get a\r\nget a\r\n",
             70);
    expect(fd, want);
    ck_assert_uint_ge(fx.stats.conn_yields, 4);
    close(fd);
    teardown();
}
END_TEST

/* A client that never reads: the server stops reading it once the backlog
 * passes the cap, memory stays bounded, and everything arrives once the
 * client drains. */
START_TEST(test_backpressure)
{
    struct mm_conn_cfg cfg;
    struct mm_conn *c;
    size_t vlen = 100 * 1000;
    char *val = malloc(vlen);
    char *buf = malloc(1 << 20);
    char line[64];
    char *gets;
    int fd, i, ends = 0;
    int nget = 400;
    size_t hl;
    uint64_t deadline;

    default_cfg(&cfg);
    setup_with(mm_ev_backends()[_i], &cfg);
    fd = open_conn(SOCK_STREAM, &c);
    memset(val, 'v', vlen);
    hl = (size_t)snprintf(line, sizeof(line), "set big 0 0 %zu\r\n", vlen);
    send_all(fd, line, hl);
    send_all(fd, val, vlen);
    send_all(fd, "\r\n", 2);
    expect(fd, "STORED\r\n");
    /* 400 gets of a 100 KB value = 40 MB of replies if nothing held back.
     * One write: many small ones would fill the socket's own budget. */
    gets = malloc((size_t)nget * 9);
    for (i = 0; i < nget; i++) {
        memcpy(gets + i * 9, "get big\r\n", 9);
    }
    send_all(fd, gets, (size_t)nget * 9);
    free(gets);
    pump(50);
    ck_assert(mm_conn_read_paused(c));
    ck_assert_uint_le(mm_conn_pending(c), cfg.out_cap + vlen + 64);
    /* Now drain: every reply arrives. */
    deadline = now_ms() + 20000;
    while (ends < nget && now_ms() < deadline) {
        ssize_t r = recv(fd, buf, 1 << 20, 0);

        if (r > 0) {
            ssize_t k;

            for (k = 0; k < r; k++) {
                /* "END\r\n" ends each reply; values are all 'v'. */
                if (buf[k] == 'E' && k + 4 < r && memcmp(buf + k, "END\r\n", 5) == 0) {
                    ends++;
                }
            }
            continue;
        }
        ck_assert(r < 0 && errno == EAGAIN);
        pump(1);
    }
    ck_assert_int_eq(ends, nget);
    ck_assert_uint_eq(mm_conn_pending(c), 0);
    ck_assert(!mm_conn_read_paused(c));
    free(val);
    free(buf);
    close(fd);
    teardown();
}
END_TEST

START_TEST(test_binary_closes)
{
    struct mm_conn_cfg cfg;
    struct mm_conn *c;
    char buf[64];
    bool eof = false;
    unsigned char hdr[24] = {0x80, 0x0b};
    size_t n;
    int fd;

    /* A 0x80 first byte selects the binary protocol: VERSION is answered,
     * then a packet with a bad magic byte closes the connection. */
    default_cfg(&cfg);
    setup_with(mm_ev_backends()[_i], &cfg);
    fd = open_conn(SOCK_STREAM, &c);
    send_all(fd, (const char *)hdr, sizeof(hdr));
    n = collect(fd, buf, sizeof(buf), 24, &eof);
    ck_assert_uint_ge(n, 24);
    ck_assert_uint_eq((unsigned char)buf[0], 0x81);
    ck_assert_uint_eq((unsigned char)buf[1], 0x0b);
    ck_assert(!eof);
    hdr[0] = 0x81;
    send_all(fd, (const char *)hdr, sizeof(hdr));
    ck_assert_uint_eq(collect(fd, buf, sizeof(buf), sizeof(buf), &eof), 0);
    ck_assert(eof);
    close(fd);
    teardown();
}
END_TEST

/* A line with no end in the largest buffer: the connection is dropped. */
START_TEST(test_endless_line)
{
    struct mm_conn_cfg cfg;
    struct mm_conn *c;
    char *junk;
    char buf[64];
    bool eof = false;
    size_t n;
    int fd;

    default_cfg(&cfg);
    cfg.rbuf_max = 8192;
    setup_with(mm_ev_backends()[_i], &cfg);
    fd = open_conn(SOCK_STREAM, &c);
    n = 3 * cfg.rbuf_max;
    junk = malloc(n);
    memcpy(junk, "get ", 4);
    memset(junk + 4, 'k', n - 4);
    (void)send(fd, junk, n, MSG_NOSIGNAL);
    (void)collect(fd, buf, sizeof(buf), sizeof(buf), &eof);
    ck_assert(eof);
    ck_assert_uint_eq(fx.stats.curr_connections, 0);
    free(junk);
    close(fd);
    teardown();
}
END_TEST

/* The client leaves in the middle of a value: nothing is stored, the
 * reserved item is given back (ASan/valgrind would see a leak). */
START_TEST(test_eof_mid_value)
{
    struct mm_conn_cfg cfg;
    struct mm_conn *c;
    int fd;

    default_cfg(&cfg);
    setup_with(mm_ev_backends()[_i], &cfg);
    fd = open_conn(SOCK_STREAM, &c);
    send_all(fd, "set a 0 0 10\r\n01234", 19);
    pump(3);
    close(fd);
    pump(3);
    ck_assert_uint_eq(fx.stats.curr_connections, 0);
    fd = open_conn(SOCK_STREAM, &c);
    send_all(fd, "get a\r\n", 7);
    expect(fd, "END\r\n");
    close(fd);
    teardown();
}
END_TEST

static void
count_emit(void *arg, const char *name, const char *value)
{
    int *n = arg;

    (void)name;
    ck_assert_ptr_nonnull(value);
    (*n)++;
}

START_TEST(test_idle_timeout_and_emit)
{
    struct mm_conn_cfg cfg;
    struct mm_conn *c;
    char buf[16];
    bool eof = false;
    int fd;
    int lines = 0;

    default_cfg(&cfg);
    cfg.idle_timeout = 1;
    setup_with(mm_ev_backends()[_i], &cfg);
    fd = open_conn(SOCK_STREAM, &c);
    mm_conn_set_emit(&fx.set, count_emit, &lines);
    ck_assert_int_eq(lines, 3); /* addr, state, secs (no listen_addr) */
    /* Within 1-3 s the idle sweep closes it. */
    (void)collect(fd, buf, sizeof(buf), sizeof(buf), &eof);
    ck_assert(eof);
    ck_assert_uint_eq(fx.stats.idle_kicks, 1);
    close(fd);
    teardown();
}
END_TEST

static Suite *
conn_suite(void)
{
    Suite *s = suite_create("conn");
    TCase *tc = tcase_create("state machine");
    int nb = 0; /* every backend compiled in */

    while (mm_ev_backends()[nb] != NULL) {
        nb++;
    }

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_simple, 0, nb);
    tcase_add_loop_test(tc, test_pipeline_one_write, 0, nb);
    tcase_add_loop_test(tc, test_split_points, 0, nb);
    tcase_add_loop_test(tc, test_big_value, 0, nb);
    tcase_add_loop_test(tc, test_noreply, 0, nb);
    tcase_add_loop_test(tc, test_quit, 0, nb);
    tcase_add_loop_test(tc, test_bad_data_chunk, 0, nb);
    tcase_add_loop_test(tc, test_swallow, 0, nb);
    tcase_add_loop_test(tc, test_yield, 0, nb);
    tcase_add_loop_test(tc, test_backpressure, 0, nb);
    tcase_add_loop_test(tc, test_binary_closes, 0, nb);
    tcase_add_loop_test(tc, test_endless_line, 0, nb);
    tcase_add_loop_test(tc, test_eof_mid_value, 0, nb);
    tcase_add_loop_test(tc, test_idle_timeout_and_emit, 0, nb);
    tcase_add_loop_test(tc, test_partial_holds_little, 0, nb);
    tcase_add_loop_test(tc, test_values_straddle_reads, 0, nb);
    tcase_add_loop_test(tc, test_binary_split_value, 0, nb);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(conn_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
