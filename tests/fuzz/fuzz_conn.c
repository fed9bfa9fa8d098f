/* libFuzzer target for the whole connection: a real store, the command layer,
 * a poll loop and one connection over a socketpair, fed the input as a byte
 * stream (text, meta or binary, as -B or its first byte decides). The stream
 * is fed whole, then again on a fresh server cut into chunks whose sizes come
 * from the input's header; the replies, whether the server hung up and the
 * store's contents must be the same, a hang-up must have a cause memcached
 * also hangs up for, and nothing may leak. Also linked into replay_conn,
 * which runs the corpus under `make check`. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mmem/clock.h"
#include "mmem/cmd.h"
#include "mmem/conn.h"
#include "mmem/ev.h"
#include "mmem/log.h"
#include "mmem/settings.h"
#include "mmem/stats.h"
#include "mmem/store.h"

#include "fuzz.h"

/* Input layout: byte 0's low 3 bits give n, the next n bytes the chunk sizes
 * (each byte + 1, used in turn, cyclically); the rest is the stream. With
 * n = 0 the stream is only fed whole. Byte 0's next bits pick the server's
 * options: two for -B (auto, ascii, binary, auto) and one for -C. */
#define FUZZ_MAX_CUTS 7u
#define FUZZ_OPT_PROTO(b) (((b) >> 3) & 3u)
#define FUZZ_OPT_NO_CAS 0x20u

/* Replies kept per run; a stream of a few kB cannot make more than this
 * unless it asks for a value many times, which is cut off (and the two runs
 * then compare only their first FUZZ_OUT_MAX bytes). */
#define FUZZ_OUT_MAX (1u << 20)

/* Loop iterations allowed for one chunk before the server counts as hung. */
#define FUZZ_SPIN_MAX 200000

/* memcached's limit for a line it will hold without a newline (text.h). */
#define FUZZ_LONG_LINE 2048

struct fuzz_server {
    struct mm_clock clock;
    struct mm_settings settings;
    struct mm_store *store;
    struct mm_ev_loop *loop;
    struct mm_stats stats;
    struct mm_cmd_env env;
    struct mm_cmd_ctx ctx;
    struct mm_conn_set set;
    struct mm_conn *conn;
    unsigned long live;
    int server_fd; /* valid while set.count > 0 */
    int client_fd;
};

struct fuzz_result {
    char *out;
    size_t len;
    bool closed;
    struct mm_store_stats store; /* at the end of the run */
};

static void
env_sum(void *arg, struct mm_stats *sum)
{
    struct fuzz_server *fs = arg;

    mm_stats_sum(sum, &fs->stats);
}

static void
env_reset(void *arg)
{
    struct fuzz_server *fs = arg;

    mm_stats_reset(&fs->stats);
}

static void
env_conns(void *arg, mm_cmd_emit_fn emit, void *emit_arg)
{
    struct fuzz_server *fs = arg;

    mm_conn_set_emit(&fs->set, emit, emit_arg);
}

/* The -B value byte 0 asks for. */
static enum mm_settings_proto
opt_proto(uint8_t b)
{
    switch (FUZZ_OPT_PROTO(b)) {
    case 1:
        return MM_SETTINGS_PROTO_ASCII;
    case 2:
        return MM_SETTINGS_PROTO_BINARY;
    default:
        return MM_SETTINGS_PROTO_AUTO;
    }
}

static void
server_start(struct fuzz_server *fs, uint8_t opts)
{
    struct mm_store_cfg sc;
    struct mm_conn_cfg cc;
    int sv[2];

    memset(fs, 0, sizeof(*fs));
    /* "verbosity" is process-wide: each run starts quiet, as mmem does. */
    mm_log_set_level(MM_LOG_WARN);
    /* A frozen clock: nothing expires or ages between the two runs. */
    mm_clock_init_at(&fs->clock, 1700000000, 1000);
    mm_settings_init(&fs->settings);
    fs->settings.binding_protocol = opt_proto(opts);
    fs->settings.use_cas = (opts & FUZZ_OPT_NO_CAS) == 0;
    memset(&sc, 0, sizeof(sc));
    sc.mem_limit = 2u << 20;
    sc.item_size_max = 64u << 10;
    sc.slab_page_size = 64u << 10;
    sc.slab_chunk_max = 16u << 10; /* values over 16 kB are chained */
    sc.evict = true;
    sc.use_cas = fs->settings.use_cas;
    sc.hashpower = 8;
    sc.clock = &fs->clock;
    fs->store = mm_store_create(&sc);
    FUZZ_CHECK(fs->store != NULL);
    fs->loop = mm_ev_loop_create("poll");
    FUZZ_CHECK(fs->loop != NULL);
    fs->env.settings = &fs->settings;
    fs->env.store = fs->store;
    fs->env.clock = &fs->clock;
    fs->env.version = "1.6.18";
    fs->env.ev_backend = "poll";
    fs->env.stats_sum = env_sum;
    fs->env.stats_reset = env_reset;
    fs->env.conns_emit = env_conns;
    fs->env.arg = fs;
    fs->ctx.env = &fs->env;
    fs->ctx.stats = &fs->stats;
    /* Small buffers, so that short inputs reach growth, the line limit,
     * backpressure and -R yields. */
    memset(&cc, 0, sizeof(cc));
    cc.rbuf_size = 64;
    cc.rbuf_max = 4096;
    cc.out_cap = 4096;
    cc.reqs_per_event = 5;
    mm_conn_set_init(&fs->set, fs->loop, &fs->ctx, fs->store, &cc);
    fs->set.live = &fs->live;
    FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    FUZZ_CHECK(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
    FUZZ_CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
    fs->live = 1;
    fs->server_fd = sv[0];
    fs->client_fd = sv[1];
    fs->conn = mm_conn_create(&fs->set, sv[0], MM_CONN_UNIX, NULL);
    FUZZ_CHECK(fs->conn != NULL);
}

static void
server_stop(struct fuzz_server *fs)
{
    mm_conn_set_fini(&fs->set);
    /* Every connection gave its count back exactly once. */
    FUZZ_CHECK(fs->live == 0);
    FUZZ_CHECK(fs->set.count == 0);
    mm_ev_loop_destroy(&fs->loop);
    mm_store_destroy(&fs->store);
    close(fs->client_fd);
}

/* Read what the server wrote; notes a hang-up. Returns bytes read. */
static size_t
drain(struct fuzz_server *fs, struct fuzz_result *r)
{
    char tmp[16384];
    size_t got = 0;

    for (;;) {
        ssize_t n = recv(fs->client_fd, tmp, sizeof(tmp), 0);

        if (n > 0) {
            size_t keep = (size_t)n;

            if (keep > FUZZ_OUT_MAX - r->len) {
                keep = FUZZ_OUT_MAX - r->len;
            }
            memcpy(r->out + r->len, tmp, keep);
            r->len += keep;
            got += (size_t)n;
            continue;
        }
        if (n == 0) {
            r->closed = true;
        } else {
            FUZZ_CHECK(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
                       errno == ECONNRESET);
            if (errno == ECONNRESET) {
                r->closed = true;
            }
        }
        return got;
    }
}

/* Run the loop until the server has nothing left to do with what it was
 * sent: its socket is empty, nothing is pending, and two iterations in a row
 * changed nothing (a yielded batch takes one more iteration). */
static void
settle(struct fuzz_server *fs, struct fuzz_result *r)
{
    unsigned quiet = 0;
    long spins = 0;

    while (quiet < 2) {
        uint64_t read_before = fs->stats.bytes_read;
        uint64_t yields_before = fs->stats.conn_yields;
        size_t got;
        bool busy = false;

        FUZZ_CHECK(++spins < FUZZ_SPIN_MAX);
        FUZZ_CHECK(mm_ev_loop_run_once(fs->loop, 0) == 0);
        got = drain(fs, r);
        if (fs->set.count == 0) {
            /* Closed: collect the last bytes and the EOF. */
            while (!r->closed) {
                FUZZ_CHECK(++spins < FUZZ_SPIN_MAX);
                (void)drain(fs, r);
            }
            return;
        }
        if (fs->conn != NULL) {
            int unread = 0;

            FUZZ_CHECK(ioctl(fs->server_fd, FIONREAD, &unread) == 0);
            busy = unread > 0 || mm_conn_pending(fs->conn) > 0;
        }
        if (busy || got > 0 || fs->stats.bytes_read != read_before ||
            fs->stats.conn_yields != yields_before) {
            quiet = 0;
        } else {
            quiet++;
        }
    }
}

/* Send all of p (the server is run while the socket is full). Returns false
 * if the server hung up first. */
static bool
feed(struct fuzz_server *fs, struct fuzz_result *r, const uint8_t *p, size_t n)
{
    long spins = 0;

    while (n > 0) {
        ssize_t w;

        if (fs->set.count == 0) {
            return false;
        }
        w = send(fs->client_fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EPIPE || errno == ECONNRESET)) {
            return false;
        }
        FUZZ_CHECK(w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
        FUZZ_CHECK(++spins < FUZZ_SPIN_MAX);
        FUZZ_CHECK(mm_ev_loop_run_once(fs->loop, 0) == 0);
        (void)drain(fs, r);
    }
    return true;
}

/* One fresh server fed stream in chunks (cuts == NULL: whole). */
static void
run_stream(uint8_t opts, const uint8_t *stream, size_t len, const uint8_t *cuts, size_t ncuts,
           struct fuzz_result *r)
{
    struct fuzz_server fs;
    size_t off = 0;
    size_t i = 0;

    server_start(&fs, opts);
    while (off < len) {
        size_t n = len - off;

        if (cuts != NULL) {
            size_t want = (size_t)cuts[i++ % ncuts] + 1;

            if (want < n) {
                n = want;
            }
        }
        if (!feed(&fs, r, stream + off, n)) {
            break;
        }
        off += n;
        settle(&fs, r);
        if (fs.set.count == 0) {
            fs.conn = NULL;
            break;
        }
    }
    if (len == 0) {
        settle(&fs, r);
    }
    if (fs.set.count == 0) {
        fs.conn = NULL;
    }
    mm_store_stats_get(fs.store, &r->store);
    server_stop(&fs);
}

static bool
contains(const uint8_t *p, size_t len, const char *s)
{
    size_t n = strlen(s);
    size_t i;

    for (i = 0; i + n <= len; i++) {
        if (memcmp(p + i, s, n) == 0) {
            return true;
        }
    }
    return false;
}

/* Whether the text stream has a line longer than memcached holds without
 * its newline. Whether it is hung up on depends on how much of it one read
 * brings (memcached and mmem alike): a line that arrives whole with its
 * newline is answered, one that arrives in pieces is not. */
static bool
text_long_line(const uint8_t *p, size_t len)
{
    size_t run = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        run = p[i] == '\n' ? 0 : run + 1;
        if (run > FUZZ_LONG_LINE) {
            return true;
        }
    }
    return false;
}

/* Whether a get, gets, gat or gats line of the text stream has a key over
 * 250 bytes. memcached then drops every reply not yet sent, earlier
 * pipelined ones included, so the replies depend on what was written
 * before: "bogus\r\nget <long key>\r\n" in one packet gets only the
 * CLIENT_ERROR, in two packets ERROR first (mmem does the same). Generous:
 * value bytes that look like such a line count too. */
static bool
text_get_long_key(const uint8_t *p, size_t len)
{
    size_t i = 0;

    while (i < len) {
        size_t end = i;
        size_t tok = 0;
        size_t j = i;

        while (end < len && p[end] != '\n') {
            end++;
        }
        while (j < end && p[j] == ' ') {
            j++;
        }
        if (end - j > 4 && (memcmp(p + j, "get", 3) == 0 || memcmp(p + j, "gat", 3) == 0)) {
            for (; j < end; j++) {
                tok = p[j] == ' ' ? 0 : tok + 1;
                if (tok > 250) {
                    return true;
                }
            }
        }
        i = end + 1;
    }
    return false;
}

/* Whether the text stream holds something memcached hangs up on: quit, a
 * line ending in an HTTP/ token, or a line it will not hold. Generous (a
 * value's bytes count too): it only has to cover every real cause. */
static bool
text_may_close(const uint8_t *p, size_t len)
{
    return contains(p, len, "quit") || contains(p, len, "HTTP/") || text_long_line(p, len);
}

static uint32_t
get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The same for binary: a bad magic byte, lengths that contradict each
 * other, or quit in the frames sent, or a reply with status EINVAL or
 * "unknown command" (memcached answers a malformed request so, then hangs
 * up). */
static bool
binary_may_close(const uint8_t *p, size_t len, const struct fuzz_result *r)
{
    const uint8_t *o = (const uint8_t *)r->out;
    size_t off = 0;

    while (r->len - off >= 24) {
        const uint8_t *h = o + off;
        unsigned status = (unsigned)h[6] << 8 | h[7];

        if (status == 0x04 || status == 0x81) {
            return true;
        }
        if (get32(h + 8) > r->len - off - 24) {
            break;
        }
        off += 24 + get32(h + 8);
    }
    off = 0;
    while (len - off >= 24) {
        const uint8_t *h = p + off;
        size_t keylen = (size_t)h[2] << 8 | h[3];
        size_t extlen = h[4];
        uint32_t bodylen = get32(h + 8);

        if (h[0] != 0x80 || keylen > 250 || extlen + keylen > bodylen || h[1] == 0x07 ||
            h[1] == 0x17) {
            return true;
        }
        if (bodylen > len - off - 24) {
            break;
        }
        off += 24 + bodylen;
    }
    return false;
}

/* Streams that must end in a hang-up: a first request that is quit. */
static bool
must_close(const uint8_t *p, size_t len, bool binary)
{
    static const uint8_t bin_quit[24] = {0x80, 0x07};

    if (binary) {
        return len >= 24 && memcmp(p, bin_quit, 24) == 0;
    }
    return (len >= 5 && memcmp(p, "quit\n", 5) == 0) || (len >= 6 && memcmp(p, "quit\r\n", 6) == 0);
}

/* Replies that depend on more than the stream (counters, rusage, the time):
 * such runs are not compared. */
static bool
nondeterministic(const struct fuzz_result *r, bool binary)
{
    const uint8_t *o = (const uint8_t *)r->out;

    if (binary) {
        /* A stat reply header: magic 0x81, opcode 0x10. */
        return contains(o, r->len, "\x81\x10");
    }
    return contains(o, r->len, "STAT ");
}

/* The store ended the same, silent (noreply, quiet) requests included. Not
 * total_items: incr rewrites a value in place only while no reply still
 * references it, which depends on when replies were written (as in
 * memcached). */
static void
check_same_store(const struct fuzz_result *whole, const struct fuzz_result *cut)
{
    FUZZ_CHECK(cut->store.curr_items == whole->store.curr_items);
    FUZZ_CHECK(cut->store.bytes == whole->store.bytes);
    FUZZ_CHECK(cut->store.evictions == whole->store.evictions);
    FUZZ_CHECK(cut->store.store_too_large == whole->store.store_too_large);
    FUZZ_CHECK(cut->store.store_no_memory == whole->store.store_no_memory);
}

/* Show both replies (cut short) before a comparison fails. */
static void
report(const struct fuzz_result *whole, const struct fuzz_result *cut)
{
    fprintf(stderr, "whole: %zu bytes%s\n%.*s\ncut: %zu bytes%s\n%.*s\n", whole->len,
            whole->closed ? ", closed" : "", (int)(whole->len < 2000 ? whole->len : 2000),
            whole->out, cut->len, cut->closed ? ", closed" : "",
            (int)(cut->len < 2000 ? cut->len : 2000), cut->out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_result whole;
    struct fuzz_result cut;
    const uint8_t *cuts;
    const uint8_t *stream;
    size_t ncuts;
    size_t len;
    bool binary;
    bool long_line;
    bool long_get;

    if (size == 0) {
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    ncuts = data[0] & FUZZ_MAX_CUTS;
    if (size < 1 + ncuts) {
        return 0;
    }
    cuts = data + 1;
    stream = data + 1 + ncuts;
    len = size - 1 - ncuts;
    /* As the connection decides (-B, else the first byte). */
    binary = opt_proto(data[0]) == MM_SETTINGS_PROTO_BINARY ||
             (opt_proto(data[0]) == MM_SETTINGS_PROTO_AUTO && len > 0 && stream[0] == 0x80);

    memset(&whole, 0, sizeof(whole));
    whole.out = malloc(FUZZ_OUT_MAX);
    FUZZ_CHECK(whole.out != NULL);
    run_stream(data[0], stream, len, NULL, 0, &whole);
    if (getenv("MMEM_FUZZ_SHOW") != NULL) {
        /* For writing corpus entries: what the server answered. */
        fwrite(whole.out, 1, whole.len, stdout);
        printf("[%s]\n", whole.closed ? "closed" : "open");
    }
    if (whole.closed) {
        FUZZ_CHECK(binary ? binary_may_close(stream, len, &whole) : text_may_close(stream, len));
    } else {
        FUZZ_CHECK(!must_close(stream, len, binary));
    }
    if (ncuts > 0 && !nondeterministic(&whole, binary)) {
        memset(&cut, 0, sizeof(cut));
        cut.out = malloc(FUZZ_OUT_MAX);
        FUZZ_CHECK(cut.out != NULL);
        run_stream(data[0], stream, len, cuts, ncuts, &cut);
        long_line = !binary && text_long_line(stream, len);
        long_get = !binary && text_get_long_key(stream, len);
        if (long_line && (cut.closed || whole.closed)) {
            /* Only one of the runs may have been hung up on, early: the
             * shorter reply must be where the longer one started. */
            size_t n = cut.len < whole.len ? cut.len : whole.len;

            FUZZ_CHECK(long_get || memcmp(cut.out, whole.out, n) == 0);
        } else if (long_get) {
            /* Which replies were dropped depends on the cuts. */
            FUZZ_CHECK(cut.closed == whole.closed);
            check_same_store(&whole, &cut);
        } else {
            if (cut.closed != whole.closed || cut.len != whole.len ||
                memcmp(cut.out, whole.out, whole.len) != 0) {
                report(&whole, &cut);
            }
            FUZZ_CHECK(cut.closed == whole.closed);
            FUZZ_CHECK(cut.len == whole.len);
            FUZZ_CHECK(memcmp(cut.out, whole.out, whole.len) == 0);
            check_same_store(&whole, &cut);
        }
        free(cut.out);
    }
    free(whole.out);
    return 0;
}
