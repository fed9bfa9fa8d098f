/* Memory follows the workload (issue 12), seen from the wire: any store
 * that fits -I succeeds whatever was stored before, the page mover and the
 * LRU crawler answer their commands as memcached 1.6.18 does and really
 * move pages and reclaim items, cache_memlimit gives memory back, and after
 * a shift in value sizes the pages follow the new sizes.
 *
 * Replies are compared byte for byte with a memcached started beside mmem
 * with the same flags when one is installed; the tables also carry the
 * replies memcached gives, so mmem is held to them without it. */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "it_load.h"
#include "server.h"
#include "tcheck.h"

#define PAGE_SIZE (1024 * 1024)
#define MAX_CLASSES 256

/* ---- values and requests ----------------------------------------------- */

/* Value bytes depend on the seed (one per key), so a wrong item or a torn
 * one cannot pass for the right one. */
static void
fill_value(char *buf, size_t len, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
    size_t k;

    for (k = 0; k < len; k++) {
        if ((k & 7) == 0) {
            it_rng_next(&s);
        }
        buf[k] = (char)('a' + ((s >> ((k & 7) * 8)) & 15));
    }
}

/* A growing request buffer. */
struct rbuf {
    char *p;
    size_t len;
    size_t cap;
};

static void
rb_reserve(struct rbuf *b, size_t more)
{
    if (b->len + more > b->cap) {
        b->cap = (b->len + more) * 2;
        b->p = realloc(b->p, b->cap);
        ck_assert_ptr_nonnull(b->p);
    }
}

/* Append "<verb> <key> 0 <ttl> <len>[ noreply]\r\n<value>\r\n". */
static void
rb_store(struct rbuf *b, const char *verb, const char *key, unsigned ttl, size_t len, uint64_t seed,
         bool noreply)
{
    rb_reserve(b, len + 320);
    b->len += (size_t)sprintf(b->p + b->len, "%s %s 0 %u %zu%s\r\n", verb, key, ttl, len,
                              noreply ? " noreply" : "");
    fill_value(b->p + b->len, len, seed);
    b->len += len;
    memcpy(b->p + b->len, "\r\n", 2);
    b->len += 2;
}

/* Send b on c (and empty it). */
static void
rb_flush(struct rbuf *b, struct mm_tclient *c)
{
    ck_assert(mm_tclient_send(c, b->p, b->len) == 0);
    b->len = 0;
}

/* "get key": 1 when the value is there and is exactly seed's len bytes,
 * 0 on a miss; a wrong value fails the test. */
static int
get_check(struct mm_tclient *c, const char *key, size_t len, uint64_t seed)
{
    char req[300];
    char head[300];
    char *line;
    char *got;
    char *want;

    snprintf(req, sizeof(req), "get %s\r\n", key);
    ck_assert(mm_tclient_sendstr(c, req) == 0);
    line = mm_tclient_read_line(c);
    ck_assert_ptr_nonnull(line);
    if (strcmp(line, "END\r\n") == 0) {
        free(line);
        return 0;
    }
    snprintf(head, sizeof(head), "VALUE %s 0 %zu\r\n", key, len);
    ck_assert_msg(strcmp(line, head) == 0, "get %s: header '%s', expected '%s'", key, line, head);
    free(line);
    got = mm_tclient_read_n(c, len + 2);
    ck_assert_ptr_nonnull(got);
    want = malloc(len);
    ck_assert_ptr_nonnull(want);
    fill_value(want, len, seed);
    ck_assert_msg(memcmp(got, want, len) == 0 && memcmp(got + len, "\r\n", 2) == 0,
                  "get %s: %zu bytes of wrong data", key, len);
    free(want);
    free(got);
    ck_assert(mm_tclient_expect(c, "END\r\n"));
    return 1;
}

/* ---- stats ------------------------------------------------------------- */

static long long
stat_num(struct mm_tclient *c, const char *sub, const char *name)
{
    struct mm_tstats st;
    long long v;

    ck_assert(mm_tclient_stats(c, sub, &st) == 0);
    v = mm_tstats_num(&st, name);
    mm_tstats_free(&st);
    ck_assert_msg(v >= 0, "stats %s: no '%s'", sub == NULL ? "" : sub, name);
    return v;
}

/* A stat's value as a malloc'd string ("" when missing). */
static char *
stat_str(struct mm_tclient *c, const char *sub, const char *name)
{
    struct mm_tstats st;
    const char *v;
    char *out;

    ck_assert(mm_tclient_stats(c, sub, &st) == 0);
    v = mm_tstats_get(&st, name);
    out = strdup(v == NULL ? "" : v);
    mm_tstats_free(&st);
    return out;
}

/* One slab class from "stats slabs". */
struct slabclass {
    long long chunk_size;
    long long chunks_per_page;
    long long total_pages;
};

/* Fill cls[id] for every class "stats slabs" lists (others stay zero).
 * Returns total_malloced from the same listing. */
static long long
read_classes(struct mm_tclient *c, struct slabclass *cls)
{
    struct mm_tstats st;
    long long malloced;
    size_t i;

    memset(cls, 0, sizeof(*cls) * MAX_CLASSES);
    ck_assert(mm_tclient_stats(c, "slabs", &st) == 0);
    for (i = 0; i < st.n; i++) {
        char field[64];
        int id;

        if (sscanf(st.name[i], "%d:%63s", &id, field) != 2 || id < 0 || id >= MAX_CLASSES) {
            continue;
        }
        if (strcmp(field, "chunk_size") == 0) {
            cls[id].chunk_size = atoll(st.value[i]);
        } else if (strcmp(field, "chunks_per_page") == 0) {
            cls[id].chunks_per_page = atoll(st.value[i]);
        } else if (strcmp(field, "total_pages") == 0) {
            cls[id].total_pages = atoll(st.value[i]);
        }
    }
    malloced = mm_tstats_num(&st, "total_malloced");
    mm_tstats_free(&st);
    ck_assert_int_ge(malloced, 0);
    return malloced;
}

/* The memory mmem counts against -m never goes past it. */
static void
assert_within_limit(struct mm_tclient *c, const char *when)
{
    long long malloced = stat_num(c, "slabs", "total_malloced");
    long long limit = stat_num(c, NULL, "limit_maxbytes");

    ck_assert_int_gt(limit, 0);
    ck_assert_msg(malloced <= limit, "%s: total_malloced %lld over limit_maxbytes %lld", when,
                  malloced, limit);
}

/* ---- mmem beside memcached --------------------------------------------- */

struct side {
    struct mm_tserver srv;
    struct mm_tclient c;
};

struct pair {
    struct side tgt;
    struct side ref;
    bool with_ref; /* memcached is running beside the target */
};

static void
side_start(struct side *s, enum mm_tserver_kind kind, const char *const *argv)
{
    ck_assert_msg(mm_tserver_start(&s->srv, kind, 0, argv) == 0, "cannot start %s",
                  kind == MM_TSERVER_TARGET ? "target" : "memcached");
    ck_assert(mm_tclient_connect(&s->c, s->srv.host, s->srv.port) == 0);
}

static void
pair_start(struct pair *p, const char *const *argv)
{
    memset(p, 0, sizeof(*p));
    side_start(&p->tgt, MM_TSERVER_TARGET, argv);
    p->with_ref = mm_tserver_have_memcached();
    if (p->with_ref) {
        side_start(&p->ref, MM_TSERVER_MEMCACHED, argv);
    }
}

static void
pair_stop(struct pair *p)
{
    int rc;

    mm_tclient_close(&p->tgt.c);
    if (p->with_ref) {
        /* memcached takes a second to exit: let both stop at once. */
        mm_tclient_close(&p->ref.c);
        kill(p->ref.srv.pid, SIGTERM);
    }
    rc = mm_tserver_stop(&p->tgt.srv);
    if (p->with_ref) {
        mm_tserver_stop(&p->ref.srv);
    }
    ck_assert_msg(rc == 0, "target did not stop cleanly");
}

/* Send req then "mn" and return everything before "MN\r\n" (malloc'd): a
 * noreply that answers shows up as bytes, one that is silent as "". */
static char *
exchange(struct mm_tclient *c, const char *req, size_t len)
{
    char *all;
    size_t n;

    ck_assert(mm_tclient_send(c, req, len) == 0);
    ck_assert(mm_tclient_sendstr(c, "mn\r\n") == 0);
    all = mm_tclient_read_until(c, "MN\r\n", &n);
    ck_assert_msg(n >= 4 && memcmp(all + n - 4, "MN\r\n", 4) == 0, "'%.*s': no reply",
                  (int)strcspn(req, "\r"), req);
    all[n - 4] = '\0';
    return all;
}

/* Send tgt_req to mmem and ref_req to memcached (the same request unless a
 * class id differs between them); the replies must be the same bytes, and
 * equal to want when it is not NULL. Returns mmem's reply. */
static char *
pair_exchange(struct pair *p, const char *tgt_req, const char *ref_req, size_t len,
              const char *want)
{
    char *got = exchange(&p->tgt.c, tgt_req, len);
    int req_len = (int)strcspn(tgt_req, "\r");

    if (p->with_ref) {
        char *ref = exchange(&p->ref.c, ref_req, ref_req == tgt_req ? len : strlen(ref_req));

        if (strcmp(ref, got) != 0) {
            mm_tclient_print_diff("memcached", ref, strlen(ref), "target", got, strlen(got));
            ck_abort_msg("'%.*s': replies differ", req_len, tgt_req);
        }
        free(ref);
    }
    if (want != NULL && strcmp(got, want) != 0) {
        mm_tclient_print_diff("expected", want, strlen(want), "target", got, strlen(got));
        ck_abort_msg("'%.*s': not memcached's reply", req_len, tgt_req);
    }
    return got;
}

static void
pair_expect(struct pair *p, const char *req, const char *want)
{
    free(pair_exchange(p, req, req, strlen(req), want));
}

/* Both servers' "stats settings" show name with value want. */
static void
pair_setting(struct pair *p, const char *name, const char *want)
{
    char *got = stat_str(&p->tgt.c, "settings", name);

    ck_assert_msg(strcmp(got, want) == 0, "target: stats settings %s is '%s', expected '%s'", name,
                  got, want);
    free(got);
    if (p->with_ref) {
        got = stat_str(&p->ref.c, "settings", name);
        ck_assert_msg(strcmp(got, want) == 0, "memcached: stats settings %s is '%s', expected '%s'",
                      name, got, want);
        free(got);
    }
}

/* A request and memcached 1.6.18's reply to it ("" when it is silent). */
struct step {
    const char *req;
    const char *reply;
};

static void
pair_steps(struct pair *p, const struct step *steps, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        pair_expect(p, steps[i].req, steps[i].reply);
    }
}

/* ---- 1. a large value after the pool is full --------------------------- */

/* Store one value of len bytes under key on both servers: same reply, and
 * it must be STORED. */
static void
pair_store(struct pair *p, struct rbuf *b, const char *key, size_t len, uint64_t seed)
{
    rb_store(b, "set", key, 0, len, seed, false);
    free(pair_exchange(p, b->p, b->p, b->len, "STORED\r\n"));
    b->len = 0;
}

START_TEST(test_large_after_full)
{
    static const char *const args[] = {"-m", "8", NULL};
    static const size_t sizes[] = {1,     2,      10,     100,    1000,   5000,   16384,
                                   16385, 100000, 300000, 524288, 524289, 600000, 1000000};
    struct pair p;
    struct rbuf b = {0};
    char key[32];
    size_t i;

    pair_start(&p, args);
    for (i = 0; i < 120; i++) {
        snprintf(key, sizeof(key), "v%zu", i);
        pair_store(&p, &b, key, 100 * 1024, i);
    }
    pair_store(&p, &b, "big", 600000, 7);
    ck_assert_int_eq(get_check(&p.tgt.c, "big", 600000, 7), 1);
    assert_within_limit(&p.tgt.c, "-m 8 after 120 x 100 KB and 600000 B");

    pair_expect(&p, "flush_all\r\n", "OK\r\n");
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        snprintf(key, sizeof(key), "s%zu", sizes[i]);
        pair_store(&p, &b, key, sizes[i], 1000 + i);
        ck_assert_int_eq(get_check(&p.tgt.c, key, sizes[i], 1000 + i), 1);
        assert_within_limit(&p.tgt.c, key);
    }
    free(b.p);
    pair_stop(&p);
}
END_TEST

/* ---- 2. memcached's issue 41: 69 sizes growing by x1.2 ----------------- */

#define ISSUE41_SIZES 69

/* Ten items at each size from 2 bytes up, each size ceil(1.2 x) of the one
 * before; every store must be STORED. */
static size_t
issue41_fill(struct pair *p, int per_size)
{
    struct rbuf b = {0};
    size_t len = 2;
    int i;
    int j;

    for (i = 0; i < ISSUE41_SIZES; i++) {
        for (j = 0; j < per_size; j++) {
            char key[32];

            snprintf(key, sizeof(key), "key%d:%d", i, j);
            pair_store(p, &b, key, len, (uint64_t)(i * 100 + j));
        }
        if (i + 1 < ISSUE41_SIZES) {
            len = (len * 12 + 9) / 10;
        }
    }
    free(b.p);
    return len;
}

START_TEST(test_issue41)
{
    const char *const args[] = {"-m", _i == 0 ? "8" : "64", NULL};
    struct pair p;
    size_t last;

    pair_start(&p, _i == 0 ? args : NULL);
    last = issue41_fill(&p, 10);
    assert_within_limit(&p.tgt.c, "after the x1.2 sizes");
    /* The newest item, of the largest size, is still there. */
    ck_assert_int_eq(get_check(&p.tgt.c, "key68:9", last, 68 * 100 + 9), 1);
    pair_stop(&p);
}
END_TEST

/* ---- 3. appends across the 16 KB boundary at -m 48 --------------------- */

#define APPEND_START 15000
#define APPEND_STEP 700
#define APPEND_END 18000
#define SWEEP_STEP 8000
#define SWEEP_MAX (1024 * 1024 - 8000)

/* Server flags, and whether every class is filled first by a sweep of
 * sizes from 1 KB to 1 MB, 8 KB apart (68 MB through a 48 MB cache: each
 * class takes a page, and that must not push the total past -m), or by one
 * item of each of the x1.2 sizes. */
struct append_case {
    const char *argv[5];
    bool sweep;
};

static const struct append_case append_cases[] = {
    {{"-m", "48", NULL}, true},
    {{"-m", "48", "-o", "slab_chunk_max=16384", NULL}, false},
    /* Large values evict many small "large" items at once. */
    {{"-m", "48", "-o", "slab_chunk_max=16384", NULL}, true},
};

START_TEST(test_append_16k)
{
    const struct append_case *ac = &append_cases[_i];
    struct pair p;
    struct rbuf b = {0};
    char *whole = malloc(APPEND_END + APPEND_STEP);
    char *piece = malloc(APPEND_STEP);
    size_t len;
    uint64_t seed = 1;
    char *got;

    ck_assert_ptr_nonnull(whole);
    ck_assert_ptr_nonnull(piece);
    pair_start(&p, ac->argv);
    if (!ac->sweep) {
        issue41_fill(&p, 1);
    }
    for (len = 1000; ac->sweep && len <= SWEEP_MAX; len += SWEEP_STEP) {
        char key[32];

        snprintf(key, sizeof(key), "sweep%zu", len);
        pair_store(&p, &b, key, len, len);
        assert_within_limit(&p.tgt.c, key);
    }
    assert_within_limit(&p.tgt.c, "after the fill");
    len = APPEND_START;
    pair_store(&p, &b, "ap", APPEND_START, seed);
    fill_value(whole, APPEND_START, seed);
    while (len < APPEND_END) {
        char head[64];
        int n;

        seed++;
        fill_value(piece, APPEND_STEP, seed);
        memcpy(whole + len, piece, APPEND_STEP);
        n = snprintf(head, sizeof(head), "append ap 0 0 %d\r\n", APPEND_STEP);
        rb_reserve(&b, (size_t)n + APPEND_STEP + 2);
        memcpy(b.p, head, (size_t)n);
        memcpy(b.p + n, piece, APPEND_STEP);
        memcpy(b.p + n + APPEND_STEP, "\r\n", 2);
        b.len = (size_t)n + APPEND_STEP + 2;
        free(pair_exchange(&p, b.p, b.p, b.len, "STORED\r\n"));
        b.len = 0;
        len += APPEND_STEP;
        assert_within_limit(&p.tgt.c, "after an append");
    }
    /* The value reads back as the concatenation. */
    ck_assert(mm_tclient_sendstr(&p.tgt.c, "get ap\r\n") == 0);
    {
        char head[64];

        snprintf(head, sizeof(head), "VALUE ap 0 %zu\r\n", len);
        ck_assert(mm_tclient_expect(&p.tgt.c, head));
    }
    got = mm_tclient_read_n(&p.tgt.c, len);
    ck_assert_ptr_nonnull(got);
    ck_assert_msg(memcmp(got, whole, len) == 0, "appended value reads back wrong");
    ck_assert(mm_tclient_expect(&p.tgt.c, "\r\nEND\r\n"));
    free(got);
    free(whole);
    free(piece);
    free(b.p);
    pair_stop(&p);
}
END_TEST

/* ---- 4. slabs reassign / slabs automove -------------------------------- */

static const struct step slabs_steps[] = {
    {"slabs reassign a b\r\n", "CLIENT_ERROR bad command line format\r\n"},
    {"slabs reassign 1 x\r\n", "CLIENT_ERROR bad command line format\r\n"},
    {"slabs reassign\r\n", "ERROR\r\n"},
    {"slabs reassign 1\r\n", "ERROR\r\n"},
    {"slabs reassign 1 2 3\r\n", "ERROR\r\n"},
    {"slabs reassign 1 2 3 4\r\n", "ERROR\r\n"},
    {"slabs reassign 1 2 noreply\r\n", "ERROR\r\n"},
    {"slabs reassign 1 1\r\n", "SAME src and dst class are identical\r\n"},
    {"slabs reassign -1 1\r\n", "BADCLASS invalid src or dst class id\r\n"},
    {"slabs reassign 1 -1\r\n", "BADCLASS invalid src or dst class id\r\n"},
    {"slabs reassign 64 1\r\n", "BADCLASS invalid src or dst class id\r\n"},
    {"slabs reassign 1 64\r\n", "BADCLASS invalid src or dst class id\r\n"},
    {"slabs reassign 200 1\r\n", "BADCLASS invalid src or dst class id\r\n"},
    {"slabs reassign 1 200\r\n", "BADCLASS invalid src or dst class id\r\n"},
    /* A class that has no page at all. */
    {"slabs reassign 1 2\r\n", "NOSPARE source class has no spare pages\r\n"},
    {"slabs reassign 1 0\r\n", "NOSPARE source class has no spare pages\r\n"},
    {"slabs\r\n", "ERROR\r\n"},
    {"slabs foo 1\r\n", "ERROR\r\n"},
    {"slabs automove\r\n", "ERROR\r\n"},
    {"slabs automove 0\r\n", "OK\r\n"},
    {"slabs automove 2\r\n", "OK\r\n"},
    {"slabs automove 1\r\n", "OK\r\n"},
    {"slabs automove 3\r\n", "ERROR\r\n"},
    {"slabs automove -1\r\n", "CLIENT_ERROR bad command line format\r\n"},
    {"slabs automove x\r\n", "CLIENT_ERROR bad command line format\r\n"},
    /* The pool (class 0) as a source: it holds no page yet. */
    {"slabs reassign 0 1\r\n", "NOSPARE source class has no spare pages\r\n"},
    {"slabs reassign 0 0\r\n", "SAME src and dst class are identical\r\n"},
    /* automove ignores extra tokens, takes noreply, and sets the ratio. */
    {"slabs automove 1 2\r\n", "OK\r\n"},
    {"slabs automove 1 2 3\r\n", "OK\r\n"},
    {"slabs automove 1 noreply\r\n", ""},
    {"slabs automove x noreply\r\n", ""},
    {"slabs automove 3 noreply\r\n", ""},
    {"slabs automove ratio\r\n", "ERROR\r\n"},
    {"slabs automove ratio x\r\n", "ERROR\r\n"},
    {"slabs automove ratio 0.5\r\n", "OK\r\n"},
    {"slabs automove 1\r\n", "OK\r\n"},
};

START_TEST(test_slabs_replies)
{
    struct pair p;
    struct rbuf b = {0};
    char req_tgt[64];
    char req_ref[64];
    int cls_tgt = -1;
    int cls_ref = -1;
    struct slabclass *cls = calloc(MAX_CLASSES, sizeof(*cls));
    int i;

    ck_assert_ptr_nonnull(cls);
    pair_start(&p, NULL);
    pair_steps(&p, slabs_steps, sizeof(slabs_steps) / sizeof(slabs_steps[0]));
    pair_setting(&p, "slab_automove", "1");
    pair_expect(&p, "slabs automove 2\r\n", "OK\r\n");
    pair_setting(&p, "slab_automove", "2");
    pair_expect(&p, "slabs automove 0\r\n", "OK\r\n");
    pair_setting(&p, "slab_automove", "0");

    /* A class that holds one page has none to spare either. Class ids
     * differ between the two servers: look each one up. */
    pair_store(&p, &b, "one", 3000, 1);
    read_classes(&p.tgt.c, cls);
    for (i = 0; i < MAX_CLASSES; i++) {
        if (cls[i].total_pages == 1) {
            cls_tgt = i;
        }
    }
    if (p.with_ref) {
        read_classes(&p.ref.c, cls);
        for (i = 0; i < MAX_CLASSES; i++) {
            if (cls[i].total_pages == 1) {
                cls_ref = i;
            }
        }
    }
    ck_assert_msg(cls_tgt > 0, "target: no class with one page after one store");
    ck_assert_msg(!p.with_ref || cls_ref > 0, "memcached: no class with one page after one store");
    snprintf(req_tgt, sizeof(req_tgt), "slabs reassign %d 0\r\n", cls_tgt);
    snprintf(req_ref, sizeof(req_ref), "slabs reassign %d 0\r\n", cls_ref);
    free(pair_exchange(&p, req_tgt, req_ref, strlen(req_tgt),
                       "NOSPARE source class has no spare pages\r\n"));
    snprintf(req_tgt, sizeof(req_tgt), "slabs reassign %d %d\r\n", cls_tgt, cls_tgt + 1);
    snprintf(req_ref, sizeof(req_ref), "slabs reassign %d %d\r\n", cls_ref, cls_ref + 1);
    free(pair_exchange(&p, req_tgt, req_ref, strlen(req_tgt),
                       "NOSPARE source class has no spare pages\r\n"));
    free(cls);
    free(b.p);
    pair_stop(&p);
}
END_TEST

static const struct step no_reassign_steps[] = {
    {"slabs reassign 1 2\r\n", "CLIENT_ERROR slab reassignment disabled\r\n"},
    {"slabs reassign 1 1\r\n", "CLIENT_ERROR slab reassignment disabled\r\n"},
    {"slabs reassign a b\r\n", "CLIENT_ERROR slab reassignment disabled\r\n"},
    {"slabs reassign 1 200\r\n", "CLIENT_ERROR slab reassignment disabled\r\n"},
    {"slabs reassign 1\r\n", "ERROR\r\n"},
    {"slabs automove 1\r\n", "OK\r\n"},
    {"slabs automove 3\r\n", "ERROR\r\n"},
};

START_TEST(test_slabs_no_reassign)
{
    static const char *const args[] = {"-o", "no_slab_reassign", NULL};
    struct pair p;

    pair_start(&p, args);
    pair_setting(&p, "slab_reassign", "no");
    pair_steps(&p, no_reassign_steps, sizeof(no_reassign_steps) / sizeof(no_reassign_steps[0]));
    pair_stop(&p);
}
END_TEST

#define MOVE_VALUE 5000
#define MOVE_ITEMS 800
#define MOVE_WAIT_MS 10000

/* A page really moves: fill one class to several pages, give one back to
 * the pool, and watch the counters; what is still there reads back right. */
START_TEST(test_slabs_move)
{
    static const char *const args[] = {"-o", "slab_automove=0", NULL};
    struct mm_tserver srv;
    struct mm_tclient c;
    struct rbuf b = {0};
    struct slabclass *cls = calloc(MAX_CLASSES, sizeof(*cls));
    long long moved0;
    long long pages0 = 0;
    long long pages = 0;
    long long moved = 0;
    int id = -1;
    int hits = 0;
    double deadline;
    char req[64];
    int i;

    ck_assert_ptr_nonnull(cls);
    ck_assert(mm_tserver_start(&srv, MM_TSERVER_TARGET, 0, args) == 0);
    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    for (i = 0; i < MOVE_ITEMS; i++) {
        char key[32];

        snprintf(key, sizeof(key), "m%d", i);
        rb_store(&b, "set", key, 0, MOVE_VALUE, (uint64_t)i, true);
    }
    rb_flush(&b, &c);
    ck_assert(mm_tclient_cmd(&c, "mn\r\n", "MN\r\n"));
    read_classes(&c, cls);
    for (i = 0; i < MAX_CLASSES; i++) {
        if (cls[i].total_pages >= 3) {
            id = i;
            pages0 = cls[i].total_pages;
        }
    }
    ck_assert_msg(id > 0, "no class with 3 pages after %d x %d B", MOVE_ITEMS, MOVE_VALUE);
    moved0 = stat_num(&c, NULL, "slabs_moved");

    snprintf(req, sizeof(req), "slabs reassign %d 0\r\n", id);
    ck_assert(mm_tclient_cmd(&c, req, "OK\r\n"));
    deadline = it_now_ms() + MOVE_WAIT_MS;
    while (it_now_ms() < deadline) {
        moved = stat_num(&c, NULL, "slabs_moved");
        read_classes(&c, cls);
        pages = cls[id].total_pages;
        if (moved > moved0 && pages == pages0 - 1) {
            break;
        }
        mm_tserver_sleep_ms(50);
    }
    ck_assert_msg(moved > moved0, "slabs_moved stayed at %lld", moved0);
    ck_assert_msg(pages == pages0 - 1, "class %d: %lld pages after the move, had %lld", id, pages,
                  pages0);

    for (i = 0; i < MOVE_ITEMS; i++) {
        char key[32];

        snprintf(key, sizeof(key), "m%d", i);
        hits += get_check(&c, key, MOVE_VALUE, (uint64_t)i);
    }
    /* At most one page worth of items was lost. */
    ck_assert_msg(hits >= MOVE_ITEMS - cls[id].chunks_per_page, "%d of %d items left", hits,
                  MOVE_ITEMS);
    ck_assert_int_eq(stat_num(&c, NULL, "curr_items"), hits);
    free(cls);
    free(b.p);
    mm_tclient_close(&c);
    ck_assert_msg(mm_tserver_stop(&srv) == 0, "target did not stop cleanly");
}
END_TEST

/* ---- 5. lru_crawler ---------------------------------------------------- */

#define CRAWL_ITEMS 1000
#define CRAWL_TTL 2
#define CRAWL_VALUE 10
#define CRAWL_WAIT_MS 8000
#define CRAWL_ALL "lru_crawler crawl all\r\n"
#define BUSY_CRAWLER "BUSY currently processing crawler request\r\n"

/* A crawl request, sent again while the crawler is still busy with the
 * last one (either server may be). */
static char *
crawl_until_taken(struct mm_tclient *c, const char *req)
{
    double deadline = it_now_ms() + 5000;
    char *got;

    for (;;) {
        got = exchange(c, req, strlen(req));
        if (strcmp(got, BUSY_CRAWLER) != 0 || it_now_ms() > deadline) {
            return got;
        }
        free(got);
        mm_tserver_sleep_ms(20);
    }
}

static void
pair_crawl(struct pair *p, const char *req, const char *want)
{
    char *got = crawl_until_taken(&p->tgt.c, req);

    ck_assert_msg(strcmp(got, want) == 0, "target: '%.*s' answered '%s', expected '%s'",
                  (int)strcspn(req, "\r"), req, got, want);
    free(got);
    if (p->with_ref) {
        got = crawl_until_taken(&p->ref.c, req);
        ck_assert_msg(strcmp(got, want) == 0, "memcached: '%.*s' answered '%s', expected '%s'",
                      (int)strcspn(req, "\r"), req, got, want);
        free(got);
    }
}

/* Sum of one per-class field of "stats items". */
static long long
items_sum(struct mm_tclient *c, const char *field)
{
    struct mm_tstats st;
    long long sum = 0;
    size_t i;

    ck_assert(mm_tclient_stats(c, "items", &st) == 0);
    for (i = 0; i < st.n; i++) {
        const char *f = strrchr(st.name[i], ':');

        if (f != NULL && strcmp(f + 1, field) == 0) {
            sum += atoll(st.value[i]);
        }
    }
    mm_tstats_free(&st);
    return sum;
}

/* Expired items leave without anyone asking for them; "keep" stays. With
 * recrawl the crawl is asked for again every second: memcached has been
 * seen (under load) to answer OK and leave the items for a later crawl. */
static void
wait_reclaimed(struct side *s, const char *who, bool recrawl)
{
    double deadline = it_now_ms() + CRAWL_WAIT_MS;
    double next = it_now_ms() + 1000;
    long long items = -1;

    while (it_now_ms() < deadline) {
        items = stat_num(&s->c, NULL, "curr_items");
        if (items == 1) {
            return;
        }
        if (recrawl && it_now_ms() > next) {
            free(exchange(&s->c, CRAWL_ALL, strlen(CRAWL_ALL)));
            next += 1000;
        }
        mm_tserver_sleep_ms(100);
    }
    ck_abort_msg("%s: curr_items %lld after the crawl, expected 1", who, items);
}

START_TEST(test_crawler_reclaims)
{
    struct pair p;
    struct rbuf b = {0};
    long long n;
    int i;

    pair_start(&p, NULL);
    /* All in one class, with one item that does not expire, so that the
     * class still shows in "stats items" afterwards. */
    rb_store(&b, "set", "keep", 0, CRAWL_VALUE, 0, true);
    for (i = 0; i < CRAWL_ITEMS; i++) {
        char key[32];

        snprintf(key, sizeof(key), "t%d", i);
        rb_store(&b, "set", key, CRAWL_TTL, CRAWL_VALUE, (uint64_t)i + 1, true);
    }
    free(pair_exchange(&p, b.p, b.p, b.len, ""));
    ck_assert_int_eq(stat_num(&p.tgt.c, NULL, "curr_items"), CRAWL_ITEMS + 1);
    mm_tserver_sleep_ms((CRAWL_TTL + 1) * 1000 + 200);
    pair_crawl(&p, "lru_crawler crawl all\r\n", "OK\r\n");
    wait_reclaimed(&p.tgt, "target", false);
    ck_assert_int_ge(stat_num(&p.tgt.c, NULL, "reclaimed"), CRAWL_ITEMS);
    ck_assert_int_ge(stat_num(&p.tgt.c, NULL, "crawler_reclaimed"), CRAWL_ITEMS);
    n = items_sum(&p.tgt.c, "crawler_reclaimed");
    ck_assert_msg(n >= CRAWL_ITEMS, "stats items: crawler_reclaimed %lld", n);
    if (p.with_ref) {
        /* memcached's LRU maintainer may take expired tails before its
         * crawler does; either way they are gone and counted. */
        wait_reclaimed(&p.ref, "memcached", true);
        n = stat_num(&p.ref.c, NULL, "reclaimed") + stat_num(&p.ref.c, NULL, "crawler_reclaimed");
        ck_assert_int_ge(n, CRAWL_ITEMS);
    }
    ck_assert_int_eq(get_check(&p.tgt.c, "keep", CRAWL_VALUE, 0), 1);
    free(b.p);
    pair_stop(&p);
}
END_TEST

static const struct step crawler_errors[] = {
    {"lru_crawler\r\n", "ERROR\r\n"},
    {"lru_crawler foo\r\n", "ERROR\r\n"},
    {"lru_crawler crawl\r\n", "ERROR\r\n"},
    {"lru_crawler crawl all 1\r\n", "ERROR\r\n"},
    {"lru_crawler crawl 0\r\n", "BADCLASS invalid class id\r\n"},
    {"lru_crawler crawl 99\r\n", "BADCLASS invalid class id\r\n"},
    {"lru_crawler crawl 64\r\n", "BADCLASS invalid class id\r\n"},
    {"lru_crawler crawl -1\r\n", "BADCLASS invalid class id\r\n"},
    {"lru_crawler crawl 1,x\r\n", "BADCLASS invalid class id\r\n"},
    {"lru_crawler crawl 1,0\r\n", "BADCLASS invalid class id\r\n"},
    {"lru_crawler crawl ,\r\n", "NOTSTARTED no items to crawl\r\n"},
    {"lru_crawler crawl ,,\r\n", "NOTSTARTED no items to crawl\r\n"},
    {"lru_crawler sleep\r\n", "ERROR\r\n"},
    {"lru_crawler sleep 2000000\r\n", "CLIENT_ERROR sleep must be one second or less\r\n"},
    {"lru_crawler sleep -1\r\n", "CLIENT_ERROR bad command line format\r\n"},
    {"lru_crawler sleep x\r\n", "CLIENT_ERROR bad command line format\r\n"},
    {"lru_crawler tocrawl x\r\n", "CLIENT_ERROR bad command line format\r\n"},
    {"lru_crawler tocrawl -1\r\n", "CLIENT_ERROR bad command line format\r\n"},
    {"lru_crawler enable noreply\r\n", "ERROR\r\n"},
    {"lru_crawler sleep 5 noreply\r\n", "ERROR\r\n"},
    {"lru_crawler crawl all noreply\r\n", "ERROR\r\n"},
    /* Enabling a running crawler fails. */
    {"lru_crawler enable\r\n", "ERROR failed to start lru crawler thread\r\n"},
};

START_TEST(test_crawler_replies)
{
    struct pair p;

    pair_start(&p, NULL);
    pair_setting(&p, "lru_crawler", "yes");
    pair_setting(&p, "lru_crawler_sleep", "100");
    pair_setting(&p, "lru_crawler_tocrawl", "0");
    pair_steps(&p, crawler_errors, sizeof(crawler_errors) / sizeof(crawler_errors[0]));
    pair_crawl(&p, "lru_crawler crawl all\r\n", "OK\r\n");
    pair_crawl(&p, "lru_crawler crawl 1\r\n", "OK\r\n");
    pair_crawl(&p, "lru_crawler crawl 1,2,3\r\n", "OK\r\n");

    pair_expect(&p, "lru_crawler sleep 1000000\r\n", "OK\r\n");
    pair_setting(&p, "lru_crawler_sleep", "1000000");
    pair_expect(&p, "lru_crawler sleep 0\r\n", "OK\r\n");
    pair_setting(&p, "lru_crawler_sleep", "0");
    pair_expect(&p, "lru_crawler sleep 33\r\n", "OK\r\n");
    pair_setting(&p, "lru_crawler_sleep", "33");
    pair_expect(&p, "lru_crawler tocrawl 7\r\n", "OK\r\n");
    pair_setting(&p, "lru_crawler_tocrawl", "7");
    /* The count is 32 bits wide on both. */
    pair_expect(&p, "lru_crawler tocrawl 4294967297\r\n", "OK\r\n");
    pair_setting(&p, "lru_crawler_tocrawl", "1");
    pair_expect(&p, "lru_crawler tocrawl 0\r\n", "OK\r\n");
    pair_setting(&p, "lru_crawler_tocrawl", "0");

    pair_expect(&p, "lru_crawler disable\r\n", "OK\r\n");
    pair_setting(&p, "lru_crawler", "no");
    pair_expect(&p, "lru_crawler disable\r\n", "OK\r\n");
    pair_expect(&p, "lru_crawler crawl all\r\n", "CLIENT_ERROR lru crawler disabled\r\n");
    pair_expect(&p, "lru_crawler crawl 1\r\n", "CLIENT_ERROR lru crawler disabled\r\n");
    pair_expect(&p, "lru_crawler enable\r\n", "OK\r\n");
    pair_setting(&p, "lru_crawler", "yes");
    pair_setting(&p, "lru_crawler_sleep", "33");
    pair_crawl(&p, "lru_crawler crawl all\r\n", "OK\r\n");
    pair_stop(&p);
}
END_TEST

/* ---- 6. cache_memlimit ------------------------------------------------- */

#define MEMLIMIT_VALUE 1024
#define MEMLIMIT_ITEMS (60 * 1024)
#define MEMLIMIT_WAIT_MS 10000

static const struct step memlimit_errors[] = {
    {"cache_memlimit\r\n", "ERROR\r\n"},
    {"cache_memlimit x\r\n", "ERROR\r\n"},
    {"cache_memlimit -1\r\n", "ERROR\r\n"},
    {"cache_memlimit 0\r\n", "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n"},
    {"cache_memlimit 7\r\n", "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n"},
};

START_TEST(test_memlimit)
{
    struct pair p;
    struct rbuf b = {0};
    long long malloced = -1;
    double deadline;
    int i;

    pair_start(&p, NULL);
    pair_steps(&p, memlimit_errors, sizeof(memlimit_errors) / sizeof(memlimit_errors[0]));
    for (i = 0; i < MEMLIMIT_ITEMS; i++) {
        char key[32];

        snprintf(key, sizeof(key), "f%d", i);
        rb_store(&b, "set", key, 0, MEMLIMIT_VALUE, (uint64_t)i, true);
        if (b.len > (1 << 20) || i == MEMLIMIT_ITEMS - 1) {
            ck_assert(mm_tclient_send(&p.tgt.c, b.p, b.len) == 0);
            if (p.with_ref) {
                ck_assert(mm_tclient_send(&p.ref.c, b.p, b.len) == 0);
            }
            b.len = 0;
        }
    }
    pair_expect(&p, "", "");
    ck_assert_int_gt(stat_num(&p.tgt.c, "slabs", "total_malloced"), 48LL * PAGE_SIZE);

    pair_expect(&p, "cache_memlimit 16\r\n", "OK\r\n");
    pair_setting(&p, "maxbytes", "16777216");
    ck_assert_int_eq(stat_num(&p.tgt.c, NULL, "limit_maxbytes"), 16LL * PAGE_SIZE);
    deadline = it_now_ms() + MEMLIMIT_WAIT_MS;
    while (it_now_ms() < deadline) {
        malloced = stat_num(&p.tgt.c, "slabs", "total_malloced");
        if (malloced <= 16LL * PAGE_SIZE) {
            break;
        }
        mm_tserver_sleep_ms(100);
    }
    ck_assert_msg(malloced <= 16LL * PAGE_SIZE, "total_malloced %lld after cache_memlimit 16",
                  malloced);
    fprintf(stderr, "cache_memlimit 16: total_malloced %lld within %.1f s\n", malloced,
            (it_now_ms() - deadline + MEMLIMIT_WAIT_MS) / 1000.0);

    /* The smaller cache keeps taking writes, of every size. */
    for (i = 0; i < 200; i++) {
        char key[32];
        size_t len = (size_t)(1 + (i * 7919) % 300000);

        snprintf(key, sizeof(key), "after%d", i);
        pair_store(&p, &b, key, len, (uint64_t)i + 5000);
        ck_assert_int_eq(get_check(&p.tgt.c, key, len, (uint64_t)i + 5000), 1);
    }
    assert_within_limit(&p.tgt.c, "stores after cache_memlimit 16");
    pair_expect(&p, "cache_memlimit 32 noreply\r\n", "");
    pair_setting(&p, "maxbytes", "33554432");
    free(b.p);
    pair_stop(&p);
}
END_TEST

/* ---- 7. defaults and options in stats settings ------------------------- */

struct flagset {
    const char *argv[4];
    /* memcached's lines, "name value" joined by ';' */
    const char *lines;
};

static const struct flagset flagsets[] = {
    {{NULL},
     "slab_reassign yes;slab_automove 1;slab_automove_ratio 0.80;slab_automove_window 30;"
     "lru_crawler yes;lru_crawler_sleep 100;lru_crawler_tocrawl 0;lru_maintainer_thread yes;"
     "temp_lru no;temporary_ttl 61"},
    {{"-o", "slab_automove=2,slab_automove_ratio=0.5,slab_automove_window=10", NULL},
     "slab_reassign yes;slab_automove 2;slab_automove_ratio 0.50;slab_automove_window 10;"
     "lru_crawler yes;lru_maintainer_thread yes;temp_lru no"},
    {{"-o", "no_lru_crawler", NULL},
     "slab_reassign yes;slab_automove 1;lru_crawler no;lru_maintainer_thread yes;temp_lru no"},
    {{"-o", "no_slab_reassign", NULL},
     "slab_reassign no;slab_automove 1;lru_crawler yes;lru_maintainer_thread yes;temp_lru no"},
};

START_TEST(test_settings_defaults)
{
    struct pair p;
    char *lines = strdup(flagsets[_i].lines);
    char *save = NULL;
    char *tok;

    pair_start(&p, flagsets[_i].argv);
    for (tok = strtok_r(lines, ";", &save); tok != NULL; tok = strtok_r(NULL, ";", &save)) {
        char *sp = strchr(tok, ' ');

        ck_assert_ptr_nonnull(sp);
        *sp = '\0';
        pair_setting(&p, tok, sp + 1);
    }
    free(lines);
    pair_stop(&p);
}
END_TEST

/* ---- 8. the pages follow a shift in value sizes ------------------------ */

#define SHIFT_FILL_BYTES (70LL * PAGE_SIZE)
#define SHIFT_MS 20000
#define SHIFT_BATCH 50
#define SHIFT_BATCH_MS 20 /* at most 2,500 writes a second */
#define SHIFT_LAST 1000

static size_t
shift_len(uint64_t i)
{
    uint64_t s = i * 0x9E3779B97F4A7C15ULL + 7;

    return 1024 + (size_t)(it_rng_next(&s) % (3 * 1024 + 1));
}

/* Share of total_malloced in classes with chunks of 1 KB or more. */
static double
large_share(struct mm_tclient *c)
{
    struct slabclass *cls = calloc(MAX_CLASSES, sizeof(*cls));
    long long malloced;
    long long large = 0;
    int i;

    ck_assert_ptr_nonnull(cls);
    malloced = read_classes(c, cls);
    for (i = 0; i < MAX_CLASSES; i++) {
        if (cls[i].chunk_size >= 1024) {
            large += cls[i].total_pages * PAGE_SIZE;
        }
    }
    free(cls);
    return malloced > 0 ? (double)large / (double)malloced : 0.0;
}

/* Of the last SHIFT_LAST large values written, how many read back. */
static int
shift_hits(struct mm_tclient *c, uint64_t written)
{
    int hits = 0;
    uint64_t i;

    for (i = written - SHIFT_LAST; i < written; i++) {
        char key[32];

        snprintf(key, sizeof(key), "large%llu", (unsigned long long)i);
        hits += get_check(c, key, shift_len(i), i);
    }
    return hits;
}

START_TEST(test_shift)
{
    struct mm_tserver srv;
    struct mm_tclient c;
    struct rbuf b = {0};
    uint64_t rng = 42;
    long long filled = 0;
    uint64_t n = 0;
    uint64_t written = 0;
    long long moved = 0;
    double share = 0.0;
    double start;
    int hits;

    ck_assert(mm_tserver_startl(&srv, MM_TSERVER_TARGET, 0, "-m", "64", NULL) == 0);
    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    while (filled < SHIFT_FILL_BYTES) {
        char key[32];
        size_t len = 100 + (size_t)(it_rng_next(&rng) % 201);

        snprintf(key, sizeof(key), "small%llu", (unsigned long long)n++);
        rb_store(&b, "set", key, 0, len, n, true);
        filled += (long long)len;
        if (b.len > (1 << 20)) {
            rb_flush(&b, &c);
        }
    }
    rb_flush(&b, &c);
    ck_assert(mm_tclient_cmd(&c, "mn\r\n", "MN\r\n"));
    ck_assert_int_gt(stat_num(&c, NULL, "evictions"), 0);

    start = it_now_ms();
    while (it_now_ms() - start < SHIFT_MS) {
        double batch_start = it_now_ms();
        char key[32];
        int k;

        for (k = 0; k < SHIFT_BATCH; k++, written++) {
            snprintf(key, sizeof(key), "large%llu", (unsigned long long)written);
            rb_store(&b, "set", key, 0, shift_len(written), written, true);
        }
        rb_flush(&b, &c);
        /* Read one back from the batch before, as a client would. */
        if (written > SHIFT_BATCH) {
            uint64_t r = written - SHIFT_BATCH - 1;

            snprintf(key, sizeof(key), "large%llu", (unsigned long long)r);
            get_check(&c, key, shift_len(r), r);
        }
        /* Done as soon as the pages have followed and the newest values
         * stay: the bound is SHIFT_MS. */
        if (written % 2000 == 0 && written >= 4 * SHIFT_LAST) {
            moved = stat_num(&c, NULL, "slabs_moved");
            share = large_share(&c);
            if (moved > 0 && share > 0.5 && shift_hits(&c, written) > SHIFT_LAST * 9 / 10) {
                break;
            }
        }
        while (it_now_ms() - batch_start < SHIFT_BATCH_MS) {
            mm_tserver_sleep_ms(1);
        }
    }
    moved = stat_num(&c, NULL, "slabs_moved");
    share = large_share(&c);
    hits = shift_hits(&c, written);
    fprintf(stderr,
            "shift: %llu writes in %.1f s, slabs_moved %lld, 1-4 KB share %.2f, "
            "hits %d of the last %d\n",
            (unsigned long long)written, (it_now_ms() - start) / 1000.0, moved, share, hits,
            SHIFT_LAST);
    ck_assert_msg(moved > 0, "no page moved after the shift");
    ck_assert_msg(share > 0.5, "1-4 KB classes hold %.2f of total_malloced", share);
    ck_assert_msg(hits > SHIFT_LAST * 9 / 10, "%d hits of the last %d written", hits, SHIFT_LAST);
    assert_within_limit(&c, "after the shift");
    free(b.p);
    mm_tclient_close(&c);
    ck_assert_msg(mm_tserver_stop(&srv) == 0, "target did not stop cleanly");
}
END_TEST

static Suite *
memory_suite(void)
{
    Suite *s = suite_create("it_memory");
    TCase *tc;

    tc = tcase_create("pool");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_large_after_full);
    tcase_add_loop_test(tc, test_issue41, 0, 2);
    tcase_add_loop_test(tc, test_append_16k, 0,
                        (int)(sizeof(append_cases) / sizeof(append_cases[0])));
    suite_add_tcase(s, tc);

    tc = tcase_create("mover");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_slabs_replies);
    tcase_add_test(tc, test_slabs_no_reassign);
    tcase_add_test(tc, test_slabs_move);
    suite_add_tcase(s, tc);

    tc = tcase_create("crawler");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_crawler_reclaims);
    tcase_add_test(tc, test_crawler_replies);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_set_timeout(tc, 40);
    tcase_add_test(tc, test_memlimit);
    tcase_add_loop_test(tc, test_settings_defaults, 0,
                        (int)(sizeof(flagsets) / sizeof(flagsets[0])));
    suite_add_tcase(s, tc);

    tc = tcase_create("shift");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_shift);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    bool with_ref = mm_tserver_have_memcached();

    if (mm_tserver_target_external()) {
        return mm_tcheck_skip("MMEM_TEST_ADDR set: these cases need servers of their own");
    }
    /* Without memcached mmem is still held to the replies in the tables. */
    return mm_tcheck_run(memory_suite(), with_ref ? 0 : MM_TCHECK_PARTIAL,
                         with_ref ? NULL : MM_TCHECK_NO_MEMCACHED);
}
