/* hitrate: a cache-effectiveness load for memcached-compatible servers.
 *
 * Cache-aside clients read Zipf-distributed keys in pipelined batches of
 * gets and set every miss, at a fixed request rate, so two servers driven by
 * the same command see the same requests at the same times whatever their
 * speed. The value size of a key depends on the phase it is written in (phase
 * A: 50-400 bytes, phase B: 1-4 KB), and by default each phase reads its own
 * keys (--shift), so a change of phase moves the working set to other slab
 * classes; the hit ratio per window shows how fast a server follows. Values
 * carry their key id and are checked on every hit.
 *
 * --scan instead reads a small hot set every second while a burst of one-time
 * keys, ten times the cache size, goes through the cache: a good eviction
 * policy keeps the hot set.
 *
 * Output: one line per window (whitespace-separated, header first), then
 * summary lines starting with "# summary". Time in the output is the
 * scheduled time since the start; when the client falls behind, the lag
 * column and the summary say so. */
#include "config.h"

#include "wire.h"
#include "zipf.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define HR_MAX_STAGES 16u
#define HR_MAX_CONNS 256u
#define HR_MAX_BATCH 1024u
#define HR_MAX_SECONDS 86400.0
#define HR_KEY_MAX 32u
/* Value layout: 8 hex digits of the key id, the kind's tag, then a pattern
 * that starts at an offset given by the id. */
#define HR_VALUE_HEAD 9u
#define HR_PATTERN_LEN 8192u
#define HR_PATTERN_OFFSETS 61u

/* What a value is written as: its size range and the tag it carries. */
enum hr_kind {
    HR_KIND_A,    /* phase A: small values */
    HR_KIND_B,    /* phase B: 1-4 KB values */
    HR_KIND_HOT,  /* --scan: the hot set */
    HR_KIND_BULK, /* --scan: the one-time keys of the burst */
    HR_KIND_COUNT,
};

static const struct {
    char tag;
    char key_prefix;
    unsigned lo, hi;
} kinds[HR_KIND_COUNT] = {
    [HR_KIND_A] = {'A', 'a', 50, 400},
    [HR_KIND_B] = {'B', 'b', 1024, 4096},
    [HR_KIND_HOT] = {'H', 'h', 450, 550},
    [HR_KIND_BULK] = {'S', 's', 450, 550},
};

/* What changes at a change of phase (--shift). */
enum hr_shift {
    HR_SHIFT_KEYS,  /* each phase kind reads its own keys: the working set is replaced */
    HR_SHIFT_STALE, /* same keys; a value of the other kind is stale: re-read, then set */
    HR_SHIFT_SAME,  /* same keys; a value of the other kind is a hit */
};

struct hr_opts {
    const char *host;
    int port;
    double rate; /* gets per second (with --scan: gets and burst sets) */
    unsigned conns;
    unsigned batch;
    uint64_t keys;
    double zipf_s;
    uint64_t seed;
    double window_s;
    double scale;
    double timeout_s;
    bool scan;
    enum hr_shift shift;
    unsigned hot;   /* --scan: hot keys, each read once a second */
    double mem_mb;  /* --scan: the server's -m; the burst is 10x this */
    double burst_x; /* --scan: the burst in multiples of mem_mb */
    unsigned nphases;
    struct {
        enum hr_kind kind;
        double seconds;
    } phases[HR_MAX_STAGES];
};

struct hr_stage {
    char name[8];
    enum hr_kind kind;
    uint64_t start_us, end_us;
};

struct hr_window {
    uint64_t start_us, end_us;
    unsigned stage;
};

/* One connection's counts for one window (summed over connections by the
 * reporter once every connection is past the window). */
struct hr_stats {
    uint64_t gets, hits, sets, failed, bad, stale, bulk;
    uint64_t lag_max_us;
};

struct hr_run;

struct hr_conn {
    struct hr_run *run;
    unsigned idx;
    struct mm_wire wire;
    uint64_t rng;
    struct hr_stats *stats; /* one per window */
    unsigned win;           /* the window of the current batch */
    /* Scheduled time before which all this connection's batches are done;
     * UINT64_MAX once it has stopped. Release-stored after the counts. */
    _Atomic uint64_t done_us;
    pthread_t thread;
    bool timed_out; /* stopped at the deadline */
    char error[160];
};

struct hr_run {
    struct hr_opts o;
    struct mm_zipf zipf;
    struct hr_stage stages[HR_MAX_STAGES];
    unsigned nstages;
    struct hr_window *windows;
    unsigned nwindows;
    uint64_t total_us;
    uint64_t t0_ns;       /* monotonic start of the schedule */
    uint64_t deadline_ns; /* no batch starts after this */
    /* --scan: the burst's share of the rate and its size. */
    double bulk_rate;
    uint64_t bulk_total;
    uint64_t bulk_start_us;
    char pattern[HR_PATTERN_LEN];
    struct hr_conn *conns;
};

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
sleep_until_ns(uint64_t t)
{
    struct timespec ts = {.tv_sec = (time_t)(t / 1000000000ull),
                          .tv_nsec = (long)(t % 1000000000ull)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* --- values ----------------------------------------------------------------- */

static unsigned
value_size(enum hr_kind kind, uint64_t id)
{
    unsigned span = kinds[kind].hi - kinds[kind].lo + 1;
    return kinds[kind].lo + (unsigned)(mm_zipf_mix(id * HR_KIND_COUNT + kind + 1) % span);
}

/* Phases A and B share their keys unless --shift keys (the default). */
static char
key_prefix(const struct hr_run *run, enum hr_kind kind)
{
    if (run->o.shift != HR_SHIFT_KEYS && (kind == HR_KIND_A || kind == HR_KIND_B))
        return 'k';
    return kinds[kind].key_prefix;
}

static size_t
key_format(const struct hr_run *run, char *buf, enum hr_kind kind, uint64_t id)
{
    char digits[24];
    size_t n = 0, i = 0;

    do {
        digits[n++] = (char)('0' + id % 10);
        id /= 10;
    } while (id != 0);
    buf[i++] = key_prefix(run, kind);
    while (n > 0)
        buf[i++] = digits[--n];
    return i;
}

static void
value_fill(const struct hr_run *run, char *dst, enum hr_kind kind, uint64_t id, unsigned size)
{
    static const char hex[] = "0123456789abcdef";
    unsigned i;

    for (i = 0; i < 8; i++)
        dst[i] = hex[(id >> (28 - 4 * i)) & 0xf];
    dst[8] = kinds[kind].tag;
    memcpy(dst + HR_VALUE_HEAD, run->pattern + id % HR_PATTERN_OFFSETS, size - HR_VALUE_HEAD);
}

/* A value read back for key id is good when it is exactly what some phase
 * wrote for that key: flags name the kind, the size is that kind's size for
 * the id, and the bytes match. Which phase wrote it does not matter. */
static bool
value_good(const struct hr_run *run, enum hr_kind want, uint64_t id, unsigned flags, const char *v,
           size_t len)
{
    char expect[HR_VALUE_HEAD];
    enum hr_kind kind;

    if (flags >= HR_KIND_COUNT || key_prefix(run, (enum hr_kind)flags) != key_prefix(run, want))
        return false;
    kind = (enum hr_kind)flags;
    if (len != value_size(kind, id))
        return false;
    value_fill(run, expect, kind, id, HR_VALUE_HEAD);
    return memcmp(v, expect, HR_VALUE_HEAD) == 0 &&
           memcmp(v + HR_VALUE_HEAD, run->pattern + id % HR_PATTERN_OFFSETS, len - HR_VALUE_HEAD) ==
               0;
}

/* --- requests ----------------------------------------------------------------- */

static void
put_get(const struct hr_run *run, struct mm_wire *w, enum hr_kind kind, uint64_t id)
{
    char *p = mm_wire_reserve(w, 4 + HR_KEY_MAX + 2);
    size_t n;

    memcpy(p, "get ", 4);
    n = 4 + key_format(run, p + 4, kind, id);
    memcpy(p + n, "\r\n", 2);
    mm_wire_commit(w, n + 2);
}

static void
put_set(const struct hr_run *run, struct mm_wire *w, enum hr_kind kind, uint64_t id)
{
    unsigned size = value_size(kind, id);
    char *p = mm_wire_reserve(w, HR_KEY_MAX + 48 + size);
    size_t n;

    memcpy(p, "set ", 4);
    n = 4 + key_format(run, p + 4, kind, id);
    n += (size_t)sprintf(p + n, " %u 0 %u\r\n", (unsigned)kind, size);
    value_fill(run, p + n, kind, id, size);
    n += size;
    memcpy(p + n, "\r\n", 2);
    mm_wire_commit(w, n + 2);
}

static int
conn_fail(struct hr_conn *c, const char *what, const char *line, size_t len)
{
    if (c->error[0] == '\0')
        snprintf(c->error, sizeof(c->error), "%s%s%.*s", what, line ? ": " : "",
                 line ? (int)(len > 80 ? 80 : len) : 0, line ? line : "");
    return -1;
}

enum hr_got {
    HR_GOT_MISS,
    HR_GOT_HIT,
    HR_GOT_STALE, /* --shift stale: a good value of the other phase */
};

/* Reads the reply to "get <key>" into *got; counts a bad value (a bad value
 * still counts as a hit: the server served it). */
static int
read_get(struct hr_conn *c, enum hr_kind kind, uint64_t id, enum hr_got *got, struct hr_stats *st)
{
    char key[HR_KEY_MAX], *end;
    const char *line, *v;
    size_t len, klen = key_format(c->run, key, kind, id);
    unsigned long flags, bytes;

    if (mm_wire_line(&c->wire, &line, &len) != 0)
        return conn_fail(c, "read failed or timed out (get)", NULL, 0);
    if (len == 3 && memcmp(line, "END", 3) == 0) {
        *got = HR_GOT_MISS;
        return 0;
    }
    if (len < 6 + klen + 4 || memcmp(line, "VALUE ", 6) != 0 || memcmp(line + 6, key, klen) != 0 ||
        line[6 + klen] != ' ')
        return conn_fail(c, "unexpected reply to get", line, len);
    /* The line is not NUL-terminated; the numbers end at the CR, which
     * strtoul stops at. */
    flags = strtoul(line + 6 + klen + 1, &end, 10);
    if (*end != ' ')
        return conn_fail(c, "bad VALUE line", line, len);
    bytes = strtoul(end + 1, &end, 10);
    if (end != line + len || bytes > HR_PATTERN_LEN)
        return conn_fail(c, "bad VALUE line", line, len);
    if (mm_wire_bytes(&c->wire, bytes + 2, &v) != 0)
        return conn_fail(c, "read failed or timed out (value)", NULL, 0);
    if (v[bytes] != '\r' || v[bytes + 1] != '\n')
        return conn_fail(c, "value not followed by CRLF", NULL, 0);
    *got = HR_GOT_HIT;
    if (!value_good(c->run, kind, id, (unsigned)flags, v, bytes))
        st->bad++;
    else if (c->run->o.shift == HR_SHIFT_STALE && flags != kind)
        *got = HR_GOT_STALE;
    if (mm_wire_line(&c->wire, &line, &len) != 0)
        return conn_fail(c, "read failed or timed out (END)", NULL, 0);
    if (len != 3 || memcmp(line, "END", 3) != 0)
        return conn_fail(c, "no END after value", line, len);
    return 0;
}

/* Reads n set replies; anything but STORED is a failed store. */
static int
read_sets(struct hr_conn *c, unsigned n, struct hr_stats *st)
{
    const char *line;
    size_t len;

    while (n-- > 0) {
        if (mm_wire_line(&c->wire, &line, &len) != 0)
            return conn_fail(c, "read failed or timed out (set)", NULL, 0);
        if (len != 6 || memcmp(line, "STORED", 6) != 0) {
            st->failed++;
            if (len >= 5 && memcmp(line, "ERROR", 5) == 0)
                return conn_fail(c, "set answered", line, len);
        }
    }
    return 0;
}

/* One cache-aside batch: the gets, then a set for each distinct miss (with
 * the value of kind, the current phase's) plus nbulk one-time sets,
 * pipelined. */
static int
batch_run(struct hr_conn *c, enum hr_kind kind, const uint64_t *ids, unsigned n,
          uint64_t bulk_first, uint64_t nbulk, struct hr_stats *st)
{
    uint64_t miss[HR_MAX_BATCH];
    unsigned i, j, nmiss = 0;
    uint64_t b;

    for (i = 0; i < n; i++)
        put_get(c->run, &c->wire, kind, ids[i]);
    if (mm_wire_flush(&c->wire) != 0)
        return conn_fail(c, "send failed or timed out (gets)", NULL, 0);
    for (i = 0; i < n; i++) {
        enum hr_got got;
        if (read_get(c, kind, ids[i], &got, st) != 0)
            return -1;
        st->gets++;
        if (got == HR_GOT_HIT) {
            st->hits++;
            continue;
        }
        if (got == HR_GOT_STALE)
            st->stale++;
        for (j = 0; j < nmiss && miss[j] != ids[i]; j++)
            ;
        if (j == nmiss)
            miss[nmiss++] = ids[i];
    }
    if (nmiss + nbulk == 0)
        return 0;
    for (i = 0; i < nmiss; i++)
        put_set(c->run, &c->wire, kind, miss[i]);
    for (b = 0; b < nbulk; b++)
        put_set(c->run, &c->wire, HR_KIND_BULK, bulk_first + b);
    if (mm_wire_flush(&c->wire) != 0)
        return conn_fail(c, "send failed or timed out (sets)", NULL, 0);
    st->sets += nmiss;
    st->bulk += nbulk;
    return read_sets(c, nmiss + (unsigned)nbulk, st);
}

/* --- schedule ----------------------------------------------------------------- */

static unsigned
stage_at(const struct hr_run *run, uint64_t t_us)
{
    unsigned s = 0;
    while (s + 1 < run->nstages && t_us >= run->stages[s].end_us)
        s++;
    return s;
}

/* Moves c->win forward to the window holding t_us (times only grow). */
static struct hr_stats *
stats_at(struct hr_conn *c, uint64_t t_us)
{
    const struct hr_run *run = c->run;
    while (c->win + 1 < run->nwindows && t_us >= run->windows[c->win].end_us)
        c->win++;
    return &c->stats[c->win];
}

/* Waits for the batch scheduled at t_us; returns its stats slot, or NULL at
 * the deadline. */
static struct hr_stats *
batch_wait(struct hr_conn *c, uint64_t t_us)
{
    struct hr_run *run = c->run;
    uint64_t due = run->t0_ns + t_us * 1000u, now;
    struct hr_stats *st;

    atomic_store_explicit(&c->done_us, t_us, memory_order_release);
    sleep_until_ns(due);
    now = now_ns();
    if (now > run->deadline_ns) {
        c->timed_out = true;
        return NULL;
    }
    st = stats_at(c, t_us);
    if ((now - due) / 1000u > st->lag_max_us)
        st->lag_max_us = (now - due) / 1000u;
    return st;
}

/* The burst sets due by t_us: a steady bulk_rate from the burst's start
 * until bulk_total. */
static uint64_t
bulk_due(const struct hr_run *run, uint64_t t_us)
{
    double n;

    if (t_us <= run->bulk_start_us)
        return 0;
    n = (double)(t_us - run->bulk_start_us) * run->bulk_rate / 1e6;
    return n >= (double)run->bulk_total ? run->bulk_total : (uint64_t)n;
}

static uint64_t
tick_us(const struct hr_opts *o, uint64_t j)
{
    return (uint64_t)((double)j * o->batch * 1e6 / (o->scan ? o->hot : o->rate));
}

/* Batch j (over all connections) is due at j * batch / rate, and the
 * connection idx runs batches idx, idx + conns, ... so the sequence does not
 * depend on the server. Phases: the keys come from the connection's own
 * seeded generator. --scan: the rate is the hot set's (each hot key is read
 * once a second: batch j reads hot keys j * batch ... mod hot), and during
 * the burst a batch also sets the one-time keys due between its time and the
 * next batch's. */
static void
conn_loop(struct hr_conn *c)
{
    struct hr_run *run = c->run;
    const struct hr_opts *o = &run->o;
    uint64_t ids[HR_MAX_BATCH], j;
    unsigned i;

    for (j = c->idx;; j += o->conns) {
        uint64_t t_us = tick_us(o, j), b0 = 0, b1 = 0;
        enum hr_kind kind = HR_KIND_HOT;
        struct hr_stats *st;

        if (t_us >= run->total_us)
            break;
        for (i = 0; i < o->batch; i++)
            ids[i] = o->scan ? (j * o->batch + i) % o->hot
                             : mm_zipf_id(&run->zipf, mm_zipf_uniform(&c->rng));
        if (o->scan) {
            b0 = bulk_due(run, t_us);
            b1 = bulk_due(run, tick_us(o, j + 1));
        } else {
            kind = run->stages[stage_at(run, t_us)].kind;
        }
        st = batch_wait(c, t_us);
        if (st == NULL || batch_run(c, kind, ids, o->batch, b0, b1 - b0, st) != 0)
            break;
    }
}

static void *
conn_main(void *arg)
{
    struct hr_conn *c = arg;

    conn_loop(c);
    atomic_store_explicit(&c->done_us, UINT64_MAX, memory_order_release);
    return NULL;
}

/* --- plan ----------------------------------------------------------------------- */

static void
stage_add(struct hr_run *run, const char *name, enum hr_kind kind, double seconds)
{
    struct hr_stage *s = &run->stages[run->nstages++];
    uint64_t start = run->nstages > 1 ? s[-1].end_us : 0;

    snprintf(s->name, sizeof(s->name), "%s", name);
    s->kind = kind;
    s->start_us = start;
    s->end_us = start + (uint64_t)(seconds * 1e6 + 0.5);
    run->total_us = s->end_us;
}

static double
at_least(double v, double min)
{
    return v < min ? min : v;
}

/* Stages, then windows: each stage is cut into windows of window_s, the last
 * one shorter when the stage is not a multiple. */
static void
plan(struct hr_run *run)
{
    const struct hr_opts *o = &run->o;
    uint64_t win_us = (uint64_t)(o->window_s * 1e6 + 0.5);
    unsigned s, cap = 0;

    if (o->scan) {
        double avg = (kinds[HR_KIND_BULK].lo + kinds[HR_KIND_BULK].hi) / 2.0;
        run->bulk_rate = o->rate - o->hot;
        run->bulk_total =
            (uint64_t)(o->burst_x * o->scale * o->mem_mb * 1024.0 * 1024.0 / avg + 0.5);
        stage_add(run, "warm", HR_KIND_HOT, at_least(10.0 * o->scale, 2.0));
        stage_add(run, "before", HR_KIND_HOT, at_least(20.0 * o->scale, 1.0));
        run->bulk_start_us = run->total_us;
        stage_add(run, "burst", HR_KIND_HOT,
                  at_least((double)run->bulk_total / run->bulk_rate + 1.0, 1.0));
        stage_add(run, "after", HR_KIND_HOT, at_least(30.0 * o->scale, 1.0));
    } else {
        for (s = 0; s < o->nphases; s++) {
            char name[2] = {kinds[o->phases[s].kind].tag, '\0'};
            stage_add(run, name, o->phases[s].kind, at_least(o->phases[s].seconds * o->scale, 1.0));
        }
    }
    for (s = 0; s < run->nstages; s++)
        cap += (unsigned)((run->stages[s].end_us - run->stages[s].start_us + win_us - 1) / win_us);
    run->windows = calloc(cap, sizeof(*run->windows));
    if (run->windows == NULL)
        abort();
    for (s = 0; s < run->nstages; s++) {
        uint64_t t;
        for (t = run->stages[s].start_us; t < run->stages[s].end_us; t += win_us) {
            struct hr_window *w = &run->windows[run->nwindows++];
            w->start_us = t;
            w->end_us = t + win_us < run->stages[s].end_us ? t + win_us : run->stages[s].end_us;
            w->stage = s;
        }
    }
}

/* --- report ----------------------------------------------------------------------- */

static void
stats_add(struct hr_stats *sum, const struct hr_stats *x)
{
    sum->gets += x->gets;
    sum->hits += x->hits;
    sum->sets += x->sets;
    sum->failed += x->failed;
    sum->bad += x->bad;
    sum->stale += x->stale;
    sum->bulk += x->bulk;
    if (x->lag_max_us > sum->lag_max_us)
        sum->lag_max_us = x->lag_max_us;
}

static double
ratio(uint64_t a, uint64_t b)
{
    return b ? (double)a / (double)b : 0.0;
}

static void
window_print(const struct hr_run *run, unsigned w, struct hr_stats *sum)
{
    const struct hr_window *win = &run->windows[w];
    unsigned i;

    memset(sum, 0, sizeof(*sum));
    for (i = 0; i < run->o.conns; i++)
        stats_add(sum, &run->conns[i].stats[w]);
    printf("%.1f %.1f %s %" PRIu64 " %" PRIu64 " %.4f %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
           " %" PRIu64 " %.1f\n",
           win->start_us / 1e6, win->end_us / 1e6, run->stages[win->stage].name, sum->gets,
           sum->hits, ratio(sum->hits, sum->gets), sum->sets, sum->failed, sum->bad, sum->stale,
           sum->bulk, sum->lag_max_us / 1e3);
    fflush(stdout);
}

static void
summary_line(const char *what, const struct hr_stats *s)
{
    printf("# summary %s gets=%" PRIu64 " hits=%" PRIu64 " hit_ratio=%.4f sets=%" PRIu64
           " failed_stores=%" PRIu64 " bad_values=%" PRIu64 " stale=%" PRIu64 " bulk_sets=%" PRIu64
           " max_lag_ms=%.1f\n",
           what, s->gets, s->hits, ratio(s->hits, s->gets), s->sets, s->failed, s->bad, s->stale,
           s->bulk, s->lag_max_us / 1e3);
}

/* Prints windows as every connection gets past them, then the summary.
 * Returns the number of connections that failed. */
static unsigned
report(struct hr_run *run)
{
    const struct hr_opts *o = &run->o;
    struct hr_stats stage_sum[HR_MAX_STAGES], total, w;
    unsigned next = 0, i, failed = 0;
    bool timed_out = false;
    struct rusage ru;
    double wall, cpu, target;
    uint64_t end_ns;

    memset(stage_sum, 0, sizeof(stage_sum));
    memset(&total, 0, sizeof(total));
    printf(
        "# t_start t_end phase gets hits hit_ratio sets failed_stores bad_values stale bulk_sets "
        "lag_ms\n");
    fflush(stdout);
    while (next < run->nwindows) {
        uint64_t done = UINT64_MAX;
        for (i = 0; i < o->conns; i++) {
            uint64_t d = atomic_load_explicit(&run->conns[i].done_us, memory_order_acquire);
            if (d < done)
                done = d;
        }
        while (next < run->nwindows && run->windows[next].end_us <= done) {
            window_print(run, next, &w);
            stats_add(&stage_sum[run->windows[next].stage], &w);
            stats_add(&total, &w);
            next++;
        }
        if (next < run->nwindows) {
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    /* A run that fails before its start has no length. */
    end_ns = now_ns();
    wall = end_ns > run->t0_ns ? (double)(end_ns - run->t0_ns) / 1e9 : 0.0;
    for (i = 0; i < o->conns; i++) {
        pthread_join(run->conns[i].thread, NULL);
        if (run->conns[i].timed_out)
            timed_out = true;
        if (run->conns[i].error[0] != '\0') {
            printf("# error connection %u: %s\n", i, run->conns[i].error);
            failed++;
        }
    }
    for (i = 0; i < run->nstages; i++)
        summary_line(run->stages[i].name, &stage_sum[i]);
    summary_line("total", &total);
    getrusage(RUSAGE_SELF, &ru);
    cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
          ru.ru_stime.tv_usec / 1e6;
    target = o->scan ? (double)o->hot : o->rate;
    /* The rate counts as kept when 99% of the scheduled gets were made in
     * the scheduled time (a short stall that the client caught up on shows
     * in the lag column and in max_lag_ms, not here). */
    printf("# summary rate target_gets_per_s=%.0f achieved_gets_per_s=%.0f wall_s=%.1f "
           "max_lag_ms=%.1f client_cpu_pct=%.0f reached=%s\n",
           target, wall > 0 ? total.gets / wall : 0.0, wall, total.lag_max_us / 1e3,
           wall > 0 ? 100.0 * cpu / wall : 0.0,
           !timed_out && failed == 0 && wall > 0 && total.gets / wall >= 0.99 * target ? "yes"
                                                                                       : "no");
    if (o->scan)
        printf("# summary burst_size target_sets=%" PRIu64 " sets=%" PRIu64 " bytes=%.0f\n",
               run->bulk_total, total.bulk,
               (double)run->bulk_total * (kinds[HR_KIND_BULK].lo + kinds[HR_KIND_BULK].hi) / 2.0);
    if (timed_out)
        printf("# summary stopped at the deadline: the rate was not kept\n");
    fflush(stdout);
    return failed;
}

/* --- options ----------------------------------------------------------------------- */

static void
usage(FILE *f)
{
    fprintf(f, "usage: hitrate [options]\n"
               "Cache-aside load at a fixed rate; prints the hit ratio per window.\n"
               "  -H, --host HOST       server address (127.0.0.1)\n"
               "  -p, --port PORT       server port (11211)\n"
               "  -P, --phase K:SEC     a phase: K is A (values of 50-400 B) or B (1024-4096 B);\n"
               "                        repeat for a sequence (default: --phase A:60 --phase "
               "B:120)\n"
               "  -r, --rate N          gets per second over all connections (40000); with\n"
               "                        --scan: gets plus burst sets per second\n"
               "  -c, --conns N         connections, one thread each (4)\n"
               "  -b, --batch N         gets pipelined per batch (16)\n"
               "  -k, --keys N          key ids (1000000)\n"
               "  -z, --zipf S          Zipf exponent (0.99)\n"
               "  -s, --seed N          key sequence seed (1)\n"
               "  -w, --window SEC      report window (10)\n"
               "  -x, --scale F         multiply every phase length (and the burst) by F (1)\n"
               "  -t, --timeout SEC     socket timeout (5)\n"
               "      --shift MODE      what a change of phase changes: keys (each phase kind\n"
               "                        has its own keys: the working set is replaced), stale\n"
               "                        (same keys; a value of the other phase is stale: set\n"
               "                        again) or same (same keys; it is a hit) (keys)\n"
               "      --scan            scan resistance: a hot set read every second, then a\n"
               "                        burst of one-time keys\n"
               "      --hot N           --scan: hot keys, about 500 B each (20000)\n"
               "      --mem MB          --scan: the server's -m (64)\n"
               "      --burst X         --scan: burst size in multiples of --mem (10)\n"
               "  -h, --help            this text\n");
}

static bool
parse_double(const char *s, double min, double max, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= min && v <= max))
        return false;
    *out = v;
    return true;
}

static bool
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (*s == '-')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool
parse_phase(struct hr_opts *o, const char *s)
{
    enum hr_kind kind;

    if (o->nphases == HR_MAX_STAGES || (s[0] != 'A' && s[0] != 'B') || s[1] != ':')
        return false;
    kind = s[0] == 'A' ? HR_KIND_A : HR_KIND_B;
    if (!parse_double(s + 2, 0.001, HR_MAX_SECONDS, &o->phases[o->nphases].seconds))
        return false;
    o->phases[o->nphases++].kind = kind;
    return true;
}

static const char *const shift_names[] = {
    [HR_SHIFT_KEYS] = "keys",
    [HR_SHIFT_STALE] = "stale",
    [HR_SHIFT_SAME] = "same",
};

static bool
parse_shift(const char *s, enum hr_shift *out)
{
    unsigned i;

    for (i = 0; i < sizeof(shift_names) / sizeof(shift_names[0]); i++)
        if (strcmp(s, shift_names[i]) == 0) {
            *out = (enum hr_shift)i;
            return true;
        }
    return false;
}

enum {
    OPT_SCAN = 256,
    OPT_SHIFT,
    OPT_HOT,
    OPT_MEM,
    OPT_BURST,
};

static int
parse_opts(struct hr_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"phase", required_argument, NULL, 'P'},
        {"rate", required_argument, NULL, 'r'},
        {"conns", required_argument, NULL, 'c'},
        {"batch", required_argument, NULL, 'b'},
        {"keys", required_argument, NULL, 'k'},
        {"zipf", required_argument, NULL, 'z'},
        {"seed", required_argument, NULL, 's'},
        {"window", required_argument, NULL, 'w'},
        {"scale", required_argument, NULL, 'x'},
        {"timeout", required_argument, NULL, 't'},
        {"scan", no_argument, NULL, OPT_SCAN},
        {"hot", required_argument, NULL, OPT_HOT},
        {"mem", required_argument, NULL, OPT_MEM},
        {"burst", required_argument, NULL, OPT_BURST},
        {"shift", required_argument, NULL, OPT_SHIFT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t u;
    int ch, li = -1;

    *o = (struct hr_opts){.host = "127.0.0.1",
                          .port = 11211,
                          .rate = 40000,
                          .conns = 4,
                          .batch = 16,
                          .keys = 1000000,
                          .zipf_s = 0.99,
                          .seed = 1,
                          .window_s = 10,
                          .scale = 1,
                          .timeout_s = 5,
                          .hot = 20000,
                          .mem_mb = 64,
                          .burst_x = 10};
    while ((ch = getopt_long(argc, argv, "H:p:P:r:c:b:k:z:s:w:x:t:h", longopts, &li)) != -1) {
        bool ok = true;
        switch (ch) {
        case 'H':
            o->host = optarg;
            break;
        case 'p':
            ok = parse_u64(optarg, 1, 65535, &u);
            o->port = (int)u;
            break;
        case 'P':
            ok = parse_phase(o, optarg);
            break;
        case 'r':
            ok = parse_double(optarg, 1, 1e7, &o->rate);
            break;
        case 'c':
            ok = parse_u64(optarg, 1, HR_MAX_CONNS, &u);
            o->conns = (unsigned)u;
            break;
        case 'b':
            ok = parse_u64(optarg, 1, HR_MAX_BATCH, &u);
            o->batch = (unsigned)u;
            break;
        case 'k':
            ok = parse_u64(optarg, 1, 1ull << 32, &o->keys);
            break;
        case 'z':
            ok = parse_double(optarg, 0.01, 10, &o->zipf_s);
            break;
        case 's':
            ok = parse_u64(optarg, 0, UINT64_MAX, &o->seed);
            break;
        case 'w':
            ok = parse_double(optarg, 0.1, HR_MAX_SECONDS, &o->window_s);
            break;
        case 'x':
            ok = parse_double(optarg, 0.001, 100, &o->scale);
            break;
        case 't':
            ok = parse_double(optarg, 0.1, 600, &o->timeout_s);
            break;
        case OPT_SCAN:
            o->scan = true;
            break;
        case OPT_SHIFT:
            ok = parse_shift(optarg, &o->shift);
            break;
        case OPT_HOT:
            ok = parse_u64(optarg, 1, 10000000, &u);
            o->hot = (unsigned)u;
            break;
        case OPT_MEM:
            ok = parse_double(optarg, 1, 1 << 20, &o->mem_mb);
            break;
        case OPT_BURST:
            ok = parse_double(optarg, 0.01, 1000, &o->burst_x);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
        if (!ok) {
            if (li >= 0)
                fprintf(stderr, "hitrate: bad value for --%s: %s\n", longopts[li].name, optarg);
            else
                fprintf(stderr, "hitrate: bad value for -%c: %s\n", ch, optarg);
            return -1;
        }
        li = -1;
    }
    if (optind != argc) {
        fprintf(stderr, "hitrate: unexpected argument %s\n", argv[optind]);
        return -1;
    }
    if (o->scan && o->nphases > 0) {
        fprintf(stderr, "hitrate: --scan and --phase do not mix\n");
        return -1;
    }
    if (o->scan && o->rate <= o->hot) {
        fprintf(stderr,
                "hitrate: --scan needs --rate above --hot (%u) to leave room for the burst\n",
                o->hot);
        return -1;
    }
    if (!o->scan && o->nphases == 0) {
        o->phases[0].kind = HR_KIND_A;
        o->phases[0].seconds = 60;
        o->phases[1].kind = HR_KIND_B;
        o->phases[1].seconds = 120;
        o->nphases = 2;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct hr_run *run;
    unsigned i, failed;
    uint64_t grace_us;

    run = calloc(1, sizeof(*run));
    if (run == NULL || parse_opts(&run->o, argc, argv) != 0)
        return 2;
    if (!run->o.scan && mm_zipf_init(&run->zipf, run->o.keys, run->o.zipf_s) != 0) {
        fprintf(stderr, "hitrate: cannot build the Zipf table for %" PRIu64 " keys\n", run->o.keys);
        return 2;
    }
    for (i = 0; i < HR_PATTERN_LEN; i++)
        run->pattern[i] = (char)('a' + (i * 7 + i / 26) % 26);
    plan(run);
    run->conns = calloc(run->o.conns, sizeof(*run->conns));
    if (run->conns == NULL)
        abort();
    for (i = 0; i < run->o.conns; i++) {
        struct hr_conn *c = &run->conns[i];
        c->run = run;
        c->idx = i;
        c->rng = mm_zipf_mix(run->o.seed * 1000003u + i + 1);
        c->stats = calloc(run->nwindows, sizeof(*c->stats));
        if (c->stats == NULL)
            abort();
        if (mm_wire_connect(&c->wire, run->o.host, run->o.port, run->o.timeout_s) != 0) {
            fprintf(stderr, "hitrate: cannot connect to %s:%d: %s\n", run->o.host, run->o.port,
                    strerror(errno));
            return 1;
        }
    }
    printf("# hitrate %s:%d mode=%s shift=%s rate=%.0f conns=%u batch=%u keys=%" PRIu64
           " zipf=%.2f seed=%" PRIu64 " window_s=%.1f scale=%.3f",
           run->o.host, run->o.port, run->o.scan ? "scan" : "phases", shift_names[run->o.shift],
           run->o.rate, run->o.conns, run->o.batch, run->o.keys, run->o.zipf_s, run->o.seed,
           run->o.window_s, run->o.scale);
    if (run->o.scan)
        printf(" hot=%u mem_mb=%.0f burst_x=%.2f", run->o.hot, run->o.mem_mb, run->o.burst_x);
    printf(" stages=");
    for (i = 0; i < run->nstages; i++)
        printf("%s%s:%.1f", i ? "," : "", run->stages[i].name,
               (run->stages[i].end_us - run->stages[i].start_us) / 1e6);
    printf("\n");
    /* A client that falls far behind stops a quarter of the run (at least
     * 30 s) after the schedule ends, so every run is bounded. */
    grace_us = run->total_us / 4 > 30000000u ? run->total_us / 4 : 30000000u;
    run->t0_ns = now_ns() + 100000000u;
    run->deadline_ns = run->t0_ns + (run->total_us + grace_us) * 1000u;
    for (i = 0; i < run->o.conns; i++) {
        atomic_init(&run->conns[i].done_us, 0);
        if (pthread_create(&run->conns[i].thread, NULL, conn_main, &run->conns[i]) != 0) {
            fprintf(stderr, "hitrate: cannot start a thread\n");
            abort();
        }
    }
    failed = report(run);
    for (i = 0; i < run->o.conns; i++) {
        mm_wire_close(&run->conns[i].wire);
        free(run->conns[i].stats);
    }
    free(run->conns);
    free(run->windows);
    mm_zipf_fini(&run->zipf);
    free(run);
    return failed ? 1 : 0;
}
