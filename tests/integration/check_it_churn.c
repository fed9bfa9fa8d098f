/* Bounded memory under churn: several clients overwrite many keys with
 * values of random (log-uniform) sizes, far more bytes than -m, with gets
 * mixed in, while a sampler thread follows the server's VmRSS; the peak
 * must stay within -m plus the fixed overhead doc/robustness.md states.
 * Also: slow readers flooding multi-gets of large values cannot grow it. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "it_load.h"
#include "server.h"
#include "tcheck.h"

#define MEM_MB 64
#define NCLIENTS 4
#define NKEYS 4096
#define RUN_MS 10000
#define OPS_PER_CLIENT 40000
/* Stop writing once this much has gone through (per client): 16x -m in all. */
#define BYTES_PER_CLIENT ((long long)MEM_MB * 1024 * 1024 * 16 / NCLIENTS)
#define GET_PERCENT 25

/* What mmem needs besides -m: the hash table, worker threads' stacks and
 * per-connection buffers, class pages taken over the limit and allocator
 * slack (doc/robustness.md, "Bounded memory"). Sanitizer builds keep freed
 * memory in quarantine (256 MB by default) and shadow the heap, so there
 * the bound only catches runaway growth. */
#ifdef MMEM_SANITIZERS
#define RSS_OVERHEAD_MB 640
#else
#define RSS_OVERHEAD_MB 32
#endif

static struct mm_tserver srv;

/* ---- RSS sampler -------------------------------------------------------- */

struct sampler {
    pthread_t tid;
    pid_t pid;
    int stop; /* atomic */
    long peak_kb;
    long samples;
};

static void *
sampler_main(void *arg)
{
    struct sampler *s = arg;

    while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
        long rss = mm_tserver_rss_kb(s->pid);

        if (rss > s->peak_kb) {
            s->peak_kb = rss;
        }
        s->samples++;
        mm_tserver_sleep_ms(5);
    }
    return NULL;
}

static void
sampler_start(struct sampler *s, pid_t pid)
{
    memset(s, 0, sizeof(*s));
    s->pid = pid;
    ck_assert_int_eq(pthread_create(&s->tid, NULL, sampler_main, s), 0);
}

static long
sampler_stop(struct sampler *s)
{
    __atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
    pthread_join(s->tid, NULL);
    return s->peak_kb;
}

/* ---- helpers ------------------------------------------------------------ */

/* The bytes of key k at length len: a get can check them without a log of
 * what was written, and a value landing under the wrong key fails. */
static void
fill(char *buf, unsigned k, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        buf[i] = (char)('a' + (k * 7 + len + i) % 26);
    }
}

static long long
stat_num(struct mm_tclient *c, const char *name)
{
    struct mm_tstats st;
    long long v;

    ck_assert(mm_tclient_stats(c, NULL, &st) == 0);
    v = mm_tstats_num(&st, name);
    mm_tstats_free(&st);
    return v;
}

/* ---- churn -------------------------------------------------------------- */

struct churner {
    pthread_t tid;
    int id;
    size_t min_len;
    size_t max_len;
    double end_ms;
    long sets;
    long gets;
    long hits;
    long nomem;
    long long bytes;
    char err[256];
};

/* Parse one get reply for key k: a miss, or a value whose bytes match. */
static bool
check_get(struct churner *w, struct mm_tclient *c, unsigned k, char *scratch)
{
    char *line = mm_tclient_read_line(c);
    char want[64];
    unsigned long len;
    char *data;

    if (line == NULL) {
        snprintf(w->err, sizeof(w->err), "get k%u: no reply", k);
        return false;
    }
    if (strcmp(line, "END\r\n") == 0) {
        free(line);
        return true;
    }
    snprintf(want, sizeof(want), "VALUE k%u 0 ", k);
    if (strncmp(line, want, strlen(want)) != 0 || sscanf(line + strlen(want), "%lu", &len) != 1 ||
        len < w->min_len || len > w->max_len) {
        snprintf(w->err, sizeof(w->err), "get k%u: bad header %.100s", k, line);
        free(line);
        return false;
    }
    free(line);
    data = mm_tclient_read_n(c, len + 2);
    fill(scratch, k, len);
    if (data == NULL || memcmp(data, scratch, len) != 0 || memcmp(data + len, "\r\n", 2) != 0) {
        snprintf(w->err, sizeof(w->err), "get k%u: %lu bytes corrupted", k, len);
        free(data);
        return false;
    }
    free(data);
    w->hits++;
    if (!mm_tclient_expect(c, "END\r\n")) {
        snprintf(w->err, sizeof(w->err), "get k%u: no END", k);
        return false;
    }
    return true;
}

static void *
churner_main(void *arg)
{
    struct churner *w = arg;
    uint64_t rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(w->id + 1);
    char *req = malloc(w->max_len + 128);
    char *scratch = malloc(w->max_len + 2);
    struct mm_tclient c;
    int op;

    if (req == NULL || scratch == NULL || mm_tclient_connect(&c, srv.host, srv.port) != 0) {
        snprintf(w->err, sizeof(w->err), "setup failed");
        free(req);
        free(scratch);
        return NULL;
    }
    for (op = 0; op < OPS_PER_CLIENT && w->bytes < BYTES_PER_CLIENT && it_now_ms() < w->end_ms;
         op++) {
        unsigned k = (unsigned)(it_rng_next(&rng) % NKEYS);
        char *line;

        if (it_rng_next(&rng) % 100 < GET_PERCENT) {
            int n = snprintf(req, 64, "get k%u\r\n", k);

            w->gets++;
            if (mm_tclient_send(&c, req, (size_t)n) != 0 || !check_get(w, &c, k, scratch)) {
                break;
            }
            continue;
        }
        {
            size_t len = it_rng_len(&rng, w->min_len, w->max_len);
            size_t n = (size_t)sprintf(req, "set k%u 0 0 %zu\r\n", k, len);

            fill(req + n, k, len);
            memcpy(req + n + len, "\r\n", 2);
            if (mm_tclient_send(&c, req, n + len + 2) != 0) {
                snprintf(w->err, sizeof(w->err), "send failed");
                break;
            }
            w->sets++;
            w->bytes += (long long)len;
        }
        line = mm_tclient_read_line(&c);
        if (line == NULL) {
            snprintf(w->err, sizeof(w->err), "set: no reply");
            break;
        }
        /* Out of memory is allowed (every evictable tail may be in use for
         * a moment), anything else is not. */
        if (strcmp(line, "SERVER_ERROR out of memory storing object\r\n") == 0) {
            w->nomem++;
        } else if (strcmp(line, "STORED\r\n") != 0) {
            snprintf(w->err, sizeof(w->err), "set: %.100s", line);
            free(line);
            break;
        }
        free(line);
    }
    mm_tclient_close(&c);
    free(req);
    free(scratch);
    return NULL;
}

/* Run the churn with value sizes in [min_len, max_len] and check the RSS
 * bound; name labels the printed figures. */
static void
churn(const char *name, size_t min_len, size_t max_len)
{
    struct churner w[NCLIENTS];
    struct sampler smp;
    struct mm_tclient c;
    struct mm_tstats st;
    double t0 = it_now_ms();
    long sets = 0;
    long gets = 0;
    long hits = 0;
    long nomem = 0;
    long long bytes = 0;
    long peak;
    int i;

    ck_assert_msg(mm_tserver_startl(&srv, MM_TSERVER_TARGET, 0, "-m", "64", "-t", "4", NULL) == 0,
                  "cannot start target");
    sampler_start(&smp, srv.pid);
    for (i = 0; i < NCLIENTS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].id = i;
        w[i].min_len = min_len;
        w[i].max_len = max_len;
        w[i].end_ms = t0 + RUN_MS;
        ck_assert_int_eq(pthread_create(&w[i].tid, NULL, churner_main, &w[i]), 0);
    }
    for (i = 0; i < NCLIENTS; i++) {
        pthread_join(w[i].tid, NULL);
        sets += w[i].sets;
        gets += w[i].gets;
        hits += w[i].hits;
        nomem += w[i].nomem;
        bytes += w[i].bytes;
    }
    peak = sampler_stop(&smp);
    for (i = 0; i < NCLIENTS; i++) {
        ck_assert_msg(w[i].err[0] == '\0', "client %d: %s", i, w[i].err);
    }

    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    ck_assert(mm_tclient_stats(&c, NULL, &st) == 0);
    printf("%s: %.1f s, %ld sets (%lld MB, %ld out of memory), %ld gets (%ld hits), "
           "evictions %lld, peak RSS %ld kB (%ld samples), bound %d MB\n",
           name, (it_now_ms() - t0) / 1000.0, sets, bytes >> 20, nomem, gets, hits,
           mm_tstats_num(&st, "evictions"), peak, smp.samples, MEM_MB + RSS_OVERHEAD_MB);
    fflush(stdout);
    /* The load must really have gone past the limit, or the bound means
     * nothing. */
    ck_assert_int_gt(mm_tstats_num(&st, "evictions"), 0);
    ck_assert_int_le(mm_tstats_num(&st, "bytes"), MEM_MB * 1024LL * 1024LL);
    ck_assert_int_gt(bytes, 2LL * MEM_MB * 1024 * 1024);
    ck_assert_int_lt(nomem, sets / 10 + 1);
    ck_assert_int_gt(peak, 0);
    ck_assert_msg(peak <= (MEM_MB + RSS_OVERHEAD_MB) * 1024L,
                  "%s: peak RSS %ld kB with -m %d: over the %d MB bound", name, peak, MEM_MB,
                  MEM_MB + RSS_OVERHEAD_MB);
    mm_tstats_free(&st);
    mm_tclient_close(&c);
    ck_assert_msg(mm_tserver_stop(&srv) == 0, "target did not stop cleanly");
}

/* 10 B to 500 kB: every value fits a slab chunk (the largest is 512 kB). */
START_TEST(test_churn_slab)
{
    churn("churn_slab", 10, 500 * 1024);
}
END_TEST

/* 520 kB to 1000 kB: every value is a large item with its own allocation,
 * which must be charged against -m for what it really costs. */
START_TEST(test_churn_large)
{
    churn("churn_large", 520 * 1024, 1000 * 1024);
}
END_TEST

/* ---- multi-get flood with slow readers ---------------------------------- */

#define NBIG 48
#define BIG_LEN (400 * 1024)
#define NSLOW 8
#define FLOOD_MS 4000
#define SLOW_READ 8192
#define GOOD_TIMEOUT_MS 2000

/* Value of big key k at generation gen: its generation in 8 digits, then
 * bytes that depend on both, so a mix of two versions is caught. */
static void
big_fill(char *buf, unsigned k, unsigned gen)
{
    size_t i;

    snprintf(buf, 9, "%08u", gen);
    for (i = 8; i < BIG_LEN; i++) {
        buf[i] = (char)('a' + (k * 7 + gen + i) % 26);
    }
}

static bool
big_check(const char *buf, unsigned k, char *scratch)
{
    unsigned gen;

    if (sscanf(buf, "%8u", &gen) != 1) {
        return false;
    }
    big_fill(scratch, k, gen);
    return memcmp(buf, scratch, BIG_LEN) == 0;
}

struct flood_bg {
    pthread_t tid;
    double end_ms;
    long rounds;
    long nomem;
    long long bytes; /* sent, all of it read by the server */
    double worst_ms;
    char err[256];
};

/* Overwrites the big keys in turn, so the versions the slow readers hold
 * go stale while they are still referenced. */
static void *
overwriter_main(void *arg)
{
    struct flood_bg *b = arg;
    char *req = malloc(BIG_LEN + 64);
    struct mm_tclient c;
    unsigned gen = 1;

    if (req == NULL || mm_tclient_connect(&c, srv.host, srv.port) != 0) {
        snprintf(b->err, sizeof(b->err), "setup failed");
        free(req);
        return NULL;
    }
    while (it_now_ms() < b->end_ms && b->rounds < 100000) {
        unsigned k = gen % NBIG;
        size_t n = (size_t)sprintf(req, "set big%u 0 0 %d\r\n", k, BIG_LEN);
        char *line;

        big_fill(req + n, k, gen);
        memcpy(req + n + BIG_LEN, "\r\n", 2);
        if (mm_tclient_send(&c, req, n + BIG_LEN + 2) != 0 ||
            (line = mm_tclient_read_line(&c)) == NULL) {
            snprintf(b->err, sizeof(b->err), "overwrite: no reply");
            break;
        }
        if (strcmp(line, "SERVER_ERROR out of memory storing object\r\n") == 0) {
            b->nomem++;
        } else if (strcmp(line, "STORED\r\n") != 0) {
            snprintf(b->err, sizeof(b->err), "overwrite: %.100s", line);
            free(line);
            break;
        }
        free(line);
        b->bytes += (long long)(n + BIG_LEN + 2);
        b->rounds++;
        gen++;
    }
    mm_tclient_close(&c);
    free(req);
    return NULL;
}

/* A well-behaved client: small set/get round trips, each answered within
 * GOOD_TIMEOUT_MS, all through the flood. */
static void *
good_main(void *arg)
{
    struct flood_bg *b = arg;
    struct mm_tclient c;

    if (mm_tclient_connect(&c, srv.host, srv.port) != 0) {
        snprintf(b->err, sizeof(b->err), "connect failed");
        return NULL;
    }
    mm_tclient_set_timeout(&c, GOOD_TIMEOUT_MS);
    while (it_now_ms() < b->end_ms && b->rounds < 100000) {
        char req[96];
        char reply[32];
        double t = it_now_ms();
        int len = snprintf(reply, sizeof(reply), "v%ld", b->rounds);

        snprintf(req, sizeof(req), "set good 0 0 %d\r\n%s\r\n", len, reply);
        b->bytes += (long long)strlen(req) + 10; /* and "get good\r\n" */
        if (!mm_tclient_cmd(&c, req, "STORED\r\n")) {
            snprintf(b->err, sizeof(b->err), "good set %ld not served", b->rounds);
            break;
        }
        snprintf(req, sizeof(req), "VALUE good 0 %d\r\nv%ld\r\nEND\r\n", len, b->rounds);
        if (!mm_tclient_cmd(&c, "get good\r\n", req)) {
            snprintf(b->err, sizeof(b->err), "good get %ld not served", b->rounds);
            break;
        }
        t = it_now_ms() - t;
        if (t > b->worst_ms) {
            b->worst_ms = t;
        }
        b->rounds++;
        mm_tserver_sleep_ms(10);
    }
    mm_tclient_close(&c);
    return NULL;
}

/* Read one complete multi-get reply (NBIG values then END) from a blocking
 * client and check every value. */
static void
read_multiget(struct mm_tclient *c, char *scratch)
{
    unsigned k;

    for (k = 0; k < NBIG; k++) {
        char head[64];
        char *data;

        snprintf(head, sizeof(head), "VALUE big%u 0 %d\r\n", k, BIG_LEN);
        ck_assert(mm_tclient_expect(c, head));
        data = mm_tclient_read_n(c, BIG_LEN + 2);
        ck_assert_ptr_nonnull(data);
        ck_assert_msg(big_check(data, k, scratch), "big%u corrupted in a multi-get reply", k);
        ck_assert(memcmp(data + BIG_LEN, "\r\n", 2) == 0);
        free(data);
    }
    ck_assert(mm_tclient_expect(c, "END\r\n"));
}

START_TEST(test_multiget_slow_readers)
{
    struct flood_bg over;
    struct flood_bg good;
    struct mm_tclient slow[NSLOW];
    struct mm_tclient c;
    struct sampler smp;
    char *req = malloc(BIG_LEN + 64);
    char *scratch = malloc(BIG_LEN);
    char line[NBIG * 8 + 8];
    char sink[SLOW_READ];
    size_t line_len = 4;
    size_t sent[NSLOW];
    size_t total_sent = 0;
    long long read_before;
    long long read_after;
    double end;
    long base;
    long peak;
    unsigned k;
    int i;

    ck_assert_ptr_nonnull(req);
    ck_assert_ptr_nonnull(scratch);
    ck_assert_msg(mm_tserver_startl(&srv, MM_TSERVER_TARGET, 0, "-m", "64", "-t", "4", NULL) == 0,
                  "cannot start target");
    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    for (k = 0; k < NBIG; k++) {
        size_t n = (size_t)sprintf(req, "set big%u 0 0 %d\r\n", k, BIG_LEN);

        big_fill(req + n, k, 0);
        memcpy(req + n + BIG_LEN, "\r\n", 2);
        ck_assert(mm_tclient_send(&c, req, n + BIG_LEN + 2) == 0);
        ck_assert(mm_tclient_expect(&c, "STORED\r\n"));
    }
    memcpy(line, "get", 3);
    for (k = 0; k < NBIG; k++) {
        line_len += (size_t)sprintf(line + line_len - 1, " big%u", k);
    }
    memcpy(line + line_len - 1, "\r\n", 2);
    line_len++;
    base = mm_tserver_rss_kb(srv.pid);
    read_before = stat_num(&c, "bytes_read");

    /* Each line asks for 19 MB of values; every slow client pipelines as
     * many as the socket takes and reads a trickle. */
    sampler_start(&smp, srv.pid);
    memset(&over, 0, sizeof(over));
    memset(&good, 0, sizeof(good));
    end = it_now_ms() + FLOOD_MS;
    over.end_ms = end;
    good.end_ms = end;
    ck_assert_int_eq(pthread_create(&over.tid, NULL, overwriter_main, &over), 0);
    ck_assert_int_eq(pthread_create(&good.tid, NULL, good_main, &good), 0);
    for (i = 0; i < NSLOW; i++) {
        ck_assert(mm_tclient_connect(&slow[i], srv.host, srv.port) == 0);
        fcntl(slow[i].fd, F_SETFL, fcntl(slow[i].fd, F_GETFL) | O_NONBLOCK);
        sent[i] = 0;
    }
    while (it_now_ms() < end) {
        for (i = 0; i < NSLOW; i++) {
            ssize_t n = send(slow[i].fd, line + sent[i] % line_len, line_len - sent[i] % line_len,
                             MSG_NOSIGNAL);

            ck_assert_msg(n > 0 || errno == EAGAIN || errno == EINTR, "send: %s", strerror(errno));
            if (n > 0) {
                sent[i] += (size_t)n;
            }
            /* Only the first half of the clients read at all. */
            if (i < NSLOW / 2) {
                n = recv(slow[i].fd, sink, sizeof(sink), MSG_DONTWAIT);
                ck_assert_msg(n > 0 || errno == EAGAIN || errno == EINTR, "recv: %s",
                              strerror(errno));
            }
        }
        mm_tserver_sleep_ms(20);
    }
    pthread_join(over.tid, NULL);
    pthread_join(good.tid, NULL);
    peak = sampler_stop(&smp);
    for (i = 0; i < NSLOW; i++) {
        total_sent += sent[i];
    }
    /* What the server read from the slow clients: all it read, less the
     * other clients' requests and the "stats\r\n" that took the figure. */
    read_after = stat_num(&c, "bytes_read") - over.bytes - good.bytes - 7;
    printf("multiget_slow_readers: %d clients sent %zu bytes of multi-gets (%zu MB of replies "
           "asked), server read %lld; %ld overwrites (%ld out of memory); good client %ld "
           "rounds, worst %.1f ms; RSS %ld kB before, peak %ld kB\n",
           NSLOW, total_sent, total_sent / line_len * NBIG * (BIG_LEN >> 10) >> 10,
           read_after - read_before, over.rounds, over.nomem, good.rounds, good.worst_ms, base,
           peak);
    fflush(stdout);
    ck_assert_msg(over.err[0] == '\0', "overwriter: %s", over.err);
    ck_assert_msg(good.err[0] == '\0', "good client: %s", good.err);
    ck_assert_int_gt(good.rounds, 10);
    ck_assert_int_gt(over.rounds, 0);
    ck_assert_msg(read_after - read_before < (long long)total_sent,
                  "the server read all %zu bytes the slow clients sent", total_sent);
    ck_assert_msg(peak <= (MEM_MB + RSS_OVERHEAD_MB) * 1024L,
                  "peak RSS %ld kB with -m %d: over the %d MB bound", peak, MEM_MB,
                  MEM_MB + RSS_OVERHEAD_MB);

    /* A client that never read gets whole, intact replies once it does:
     * every value is some version written for its key. */
    fcntl(slow[NSLOW - 1].fd, F_SETFL, fcntl(slow[NSLOW - 1].fd, F_GETFL) & ~O_NONBLOCK);
    for (i = 0; i < 3; i++) {
        read_multiget(&slow[NSLOW - 1], scratch);
    }
    for (i = 0; i < NSLOW; i++) {
        struct linger lg = {1, 0};

        /* Leave with the backlog unread (RST). */
        setsockopt(slow[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        mm_tclient_close(&slow[i]);
    }
    ck_assert(mm_tclient_cmd(&c, "get good\r\n", "VALUE good 0 "));
    mm_tclient_close(&c);
    free(req);
    free(scratch);
    ck_assert_msg(mm_tserver_stop(&srv) == 0, "target did not stop cleanly");
}
END_TEST

static Suite *
churn_suite(void)
{
    Suite *s = suite_create("it_churn");
    TCase *tc = tcase_create("churn");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_churn_slab);
    tcase_add_test(tc, test_churn_large);
    suite_add_tcase(s, tc);
    tc = tcase_create("flood");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_multiget_slow_readers);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    if (mm_tserver_target_external()) {
        return mm_tcheck_skip("MMEM_TEST_ADDR set: churn needs its own -m server, skipped");
    }
    return mm_tcheck_run(churn_suite(), 0, NULL);
}
