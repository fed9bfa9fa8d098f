/* Differences a client could see, checked against memcached 1.6.18 with
 * the same bytes (issue 13): the meta fetch marks (mg u, h, l, t, me),
 * "stats detail" per-prefix counters (with -D), "stats cachedump", and
 * -o read_buf_mem_limit. Each case starts memcached and the target with the
 * same arguments and compares the replies. Numbers that are whole seconds
 * of each server's own clock (l, t, la=, exp=, a cachedump expiry) may
 * differ by one, as the two clocks tick at different sub-second phases;
 * CAS values are not compared. Skipped when memcached is not installed. */
#include "config.h"

#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "server.h"
#include "tcheck.h"

#define SENTINEL "mn\r\n"
#define SENTINEL_REPLY "MN\r\n"

struct pair {
    struct mm_tserver ref;
    struct mm_tserver tgt;
    struct mm_tclient rc;
    struct mm_tclient tc;
};

static void
pair_start(struct pair *p, const char *const *args)
{
    ck_assert_msg(mm_tserver_start(&p->ref, MM_TSERVER_MEMCACHED, 0, args) == 0,
                  "cannot start memcached");
    ck_assert_msg(mm_tserver_start(&p->tgt, MM_TSERVER_TARGET, 0, args) == 0,
                  "cannot start target");
    ck_assert(mm_tclient_connect(&p->rc, p->ref.host, p->ref.port) == 0);
    ck_assert(mm_tclient_connect(&p->tc, p->tgt.host, p->tgt.port) == 0);
}

static void
pair_stop(struct pair *p)
{
    mm_tclient_close(&p->rc);
    mm_tclient_close(&p->tc);
    (void)mm_tserver_stop(&p->tgt);
    (void)mm_tserver_stop(&p->ref);
}

/* Markers after which a number is a clock reading (tolerance 1) or a CAS
 * (not compared). */
static int
number_rule(const char *s, size_t i)
{
    static const char *const clock_marks[] = {" l", " t", "la=", "exp=", "; "};
    static const char *const cas_marks[] = {" c", "cas="};
    size_t k;

    for (k = 0; k < sizeof(clock_marks) / sizeof(clock_marks[0]); k++) {
        size_t n = strlen(clock_marks[k]);

        if (i >= n && memcmp(s + i - n, clock_marks[k], n) == 0) {
            return 1;
        }
    }
    for (k = 0; k < sizeof(cas_marks) / sizeof(cas_marks[0]); k++) {
        size_t n = strlen(cas_marks[k]);

        if (i >= n && memcmp(s + i - n, cas_marks[k], n) == 0) {
            return 2;
        }
    }
    return 0;
}

/* a and b equal but for the numbers number_rule() lets differ. */
static bool
similar(const char *a, const char *b)
{
    size_t i = 0, j = 0;

    while (a[i] != '\0' && b[j] != '\0') {
        int rule = i == j ? number_rule(a, i) : 0;

        if (rule != 0 && (isdigit((unsigned char)a[i]) || a[i] == '-') &&
            (isdigit((unsigned char)b[j]) || b[j] == '-') && number_rule(b, j) == rule) {
            char *ea, *eb;
            long long x = strtoll(a + i, &ea, 10);
            long long y = strtoll(b + j, &eb, 10);

            if (rule == 1 && llabs(x - y) > 1) {
                return false;
            }
            i = (size_t)(ea - a);
            j = (size_t)(eb - b);
            continue;
        }
        if (a[i] != b[j]) {
            return false;
        }
        i++;
        j++;
    }
    return a[i] == b[j];
}

/* Send req, then the no-op, and return what came before its reply. */
static char *
xchg(struct mm_tclient *c, const char *req)
{
    size_t len;
    char *r;

    ck_assert(mm_tclient_sendstr(c, req) == 0);
    ck_assert(mm_tclient_sendstr(c, SENTINEL) == 0);
    r = mm_tclient_read_until(c, SENTINEL_REPLY, &len);
    ck_assert_msg(len >= 4 && strcmp(r + len - 4, SENTINEL_REPLY) == 0, "no reply to %s", req);
    r[len - 4] = '\0';
    return r;
}

/* One request to both; the replies must be similar(). "sleep N" sleeps N
 * milliseconds instead. */
static void
step(struct pair *p, const char *req)
{
    char *a, *b;

    if (strncmp(req, "sleep ", 6) == 0) {
        mm_tserver_sleep_ms(atoi(req + 6));
        return;
    }
    a = xchg(&p->rc, req);
    b = xchg(&p->tc, req);
    if (!similar(a, b)) {
        fprintf(stderr, "\n=== request: %s", req);
        mm_tclient_print_diff("memcached", a, strlen(a), "target", b, strlen(b));
        ck_abort_msg("reply differs from memcached");
    }
    free(a);
    free(b);
}

static void
steps(struct pair *p, const char *const *reqs)
{
    for (; *reqs != NULL; reqs++) {
        step(p, *reqs);
    }
}

/* ---- part 3: the meta fetch marks -------------------------------------- */

START_TEST(test_fetch_marks)
{
    static const char *const reqs[] = {
        /* The issue's case: u is no fetch, so the next get still says h0. */
        "ms k 3 T100\r\nabc\r\n", "mg k s t u h\r\n", "mg k s t h\r\n", "mg k s t h\r\n",
        /* touch and gat are fetches; u with T touches without fetching. */
        "ms a 3\r\nabc\r\n", "touch a 50\r\n", "mg a h t\r\n", "ms b 3\r\nabc\r\n", "gat 40 b\r\n",
        "mg b h l t\r\n", "ms f 1\r\n1\r\n", "mg f u T30 h t\r\n", "mg f h t\r\n",
        /* me is no fetch, and reports memcached's fetch bit, class and size. */
        "ms g 1 F7\r\n1\r\n", "me g\r\n", "mg g h\r\n", "me g\r\n", "mg g h l\r\n", "me g\r\n",
        /* a new value starts unfetched */
        "set d 0 0 1\r\n1\r\n", "get d\r\n", "incr d 500\r\n", "mg d h\r\n",
        "append d 0 0 1\r\n2\r\n", "mg d h\r\n",
        /* last access: the first fetch keeps the store time, later ones
         * move it; u moves nothing. */
        "set x 0 0 1\r\n1\r\n", "sleep 2100", "get x\r\n", "mg x l h\r\n", "sleep 1100",
        "mg x l h u\r\n", "me x\r\n", "mg x l h\r\n", "sleep 1100", "mg x l h u\r\n", "gets x\r\n",
        "mg x l h\r\n", NULL};
    struct pair p;

    pair_start(&p, NULL);
    steps(&p, reqs);
    pair_stop(&p);
}
END_TEST

START_TEST(test_me_class)
{
    static const size_t sizes[] = {1, 40, 80, 200, 500, 1000, 5000, 100000, 400000, 600000};
    struct pair p;
    size_t i;

    pair_start(&p, NULL);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t n = sizes[i];
        char *req = malloc(n + 64);
        int h = snprintf(req, 64, "set big 9 0 %zu\r\n", n);

        memset(req + h, 'v', n);
        memcpy(req + h + n, "\r\nme big\r\n", 11);
        step(&p, req);
        free(req);
    }
    pair_stop(&p);
}
END_TEST

/* ---- part 4: stats detail and stats cachedump ------------------------- */

static const char *
settings_value(struct mm_tclient *c, const char *name, char *buf, size_t size)
{
    struct mm_tstats st;
    const char *v;

    ck_assert(mm_tclient_stats(c, "settings", &st) == 0);
    v = mm_tstats_get(&st, name);
    ck_assert_ptr_nonnull(v);
    snprintf(buf, size, "%s", v);
    mm_tstats_free(&st);
    return buf;
}

START_TEST(test_detail)
{
    static const char *const reqs[] = {"stats detail\r\n",
                                       "stats detail bogus\r\n",
                                       "stats detail dump\r\n",
                                       "set a:1 0 0 1\r\n1\r\n",
                                       "stats detail dump\r\n",
                                       "stats detail on junk\r\n",
                                       "set a:1 0 0 1\r\n1\r\n",
                                       "add a:1 0 0 1\r\n1\r\n",
                                       "stats detail dump\r\n",
                                       "gat 0 c:1 a:1\r\n",
                                       "gets d:1\r\n",
                                       "touch e:1 0\r\n",
                                       "incr f:1 1\r\n",
                                       "mg g:1 v\r\n",
                                       "ms h:1 1\r\n1\r\n",
                                       "md i:1\r\n",
                                       "ma j:1\r\n",
                                       "delete k:1\r\n",
                                       "cas a:1 0 0 1 99\r\n1\r\n",
                                       "append l:1 0 0 1\r\n1\r\n",
                                       "get :x\r\n",
                                       "get x:\r\n",
                                       "get a:b:c nocolon\r\n",
                                       "get a:1 a:1 a:1\r\n",
                                       "stats detail dump\r\n",
                                       "stats detail off\r\n",
                                       "get a:1\r\n",
                                       "stats detail dump\r\n",
                                       "stats reset\r\n",
                                       "stats detail dump\r\n",
                                       NULL};
    struct pair p;
    char a[16], b[16];

    pair_start(&p, NULL);
    steps(&p, reqs);
    step(&p, "stats detail on\r\n");
    ck_assert_str_eq(settings_value(&p.rc, "detail_enabled", a, sizeof(a)),
                     settings_value(&p.tc, "detail_enabled", b, sizeof(b)));
    ck_assert_str_eq(b, "yes");
    pair_stop(&p);
}
END_TEST

START_TEST(test_detail_delimiter)
{
    static const char *const args[] = {"-D", "/", NULL};
    static const char *const reqs[] = {"set a/1 0 0 1\r\n1\r\n", "set b:1 0 0 1\r\n1\r\n",
                                       "get a/1 a/2 p/q/r\r\n",  "delete a/1\r\n",
                                       "stats detail dump\r\n",  NULL};
    struct pair p;
    char a[16], b[16];
    int i;

    pair_start(&p, args);
    ck_assert_str_eq(settings_value(&p.rc, "detail_enabled", a, sizeof(a)),
                     settings_value(&p.tc, "detail_enabled", b, sizeof(b)));
    steps(&p, reqs);
    /* Many prefixes: the dump order is memcached's hash order. */
    for (i = 0; i < 300; i++) {
        char req[64];

        snprintf(req, sizeof(req), "get pre%d/x\r\n", i);
        (void)mm_tclient_send(&p.rc, req, strlen(req));
        (void)mm_tclient_send(&p.tc, req, strlen(req));
        free(mm_tclient_read_until(&p.rc, "END\r\n", NULL));
        free(mm_tclient_read_until(&p.tc, "END\r\n", NULL));
    }
    step(&p, "stats detail dump\r\n");
    pair_stop(&p);
}
END_TEST

/* A binary request: header, extras, key, value. */
static size_t
bin_pkt(char *buf, unsigned char op, const char *key, const char *extras, size_t nextras,
        const char *val)
{
    size_t nkey = strlen(key), nval = strlen(val);
    uint32_t body = (uint32_t)(nkey + nextras + nval);

    memset(buf, 0, 24);
    buf[0] = (char)0x80;
    buf[1] = (char)op;
    buf[2] = (char)(nkey >> 8);
    buf[3] = (char)nkey;
    buf[4] = (char)nextras;
    buf[8] = (char)(body >> 24);
    buf[9] = (char)(body >> 16);
    buf[10] = (char)(body >> 8);
    buf[11] = (char)body;
    memcpy(buf + 24, extras, nextras);
    memcpy(buf + 24 + nextras, key, nkey);
    memcpy(buf + 24 + nextras + nkey, val, nval);
    return 24 + nextras + nkey + nval;
}

START_TEST(test_detail_binary)
{
    /* set, get hit and miss, touch, gat, delete, incr, append, add, getq */
    static const struct {
        unsigned char op;
        const char *key;
        size_t nextras;
        const char *val;
    } reqs[] = {{0x01, "p:1", 8, "v"}, {0x00, "p:1", 0, ""},  {0x00, "p:2", 0, ""},
                {0x1c, "p:1", 4, ""},  {0x1d, "p:1", 4, ""},  {0x04, "p:1", 0, ""},
                {0x05, "q:1", 20, ""}, {0x0e, "a:1", 0, "v"}, {0x02, "b:1", 8, "v"},
                {0x02, "b:1", 8, "v"}, {0x09, "c:1", 0, ""}};
    static const char extras[20] = {0};
    struct pair p;
    struct mm_tclient b[2];
    struct mm_tserver *srv[2];
    size_t i;
    int k;

    pair_start(&p, NULL);
    srv[0] = &p.ref;
    srv[1] = &p.tgt;
    step(&p, "stats detail on\r\n");
    for (k = 0; k < 2; k++) {
        ck_assert(mm_tclient_connect(&b[k], srv[k]->host, srv[k]->port) == 0);
        mm_tclient_set_timeout(&b[k], 300);
        for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
            char buf[128];
            size_t n = bin_pkt(buf, reqs[i].op, reqs[i].key, extras, reqs[i].nextras, reqs[i].val);

            ck_assert(mm_tclient_send(&b[k], buf, n) == 0);
        }
        /* NOOP: its reply means all the above were handled. */
        {
            char buf[32];
            size_t n = bin_pkt(buf, 0x0a, "", extras, 0, "");
            size_t len;
            bool closed;

            ck_assert(mm_tclient_send(&b[k], buf, n) == 0);
            free(mm_tclient_read_all(&b[k], &len, &closed));
            ck_assert(!closed);
        }
        mm_tclient_close(&b[k]);
    }
    step(&p, "stats detail dump\r\n");
    pair_stop(&p);
}
END_TEST

static int
cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Split a cachedump into its ITEM lines, sorted; *n gets the count. */
static char **
item_lines(char *dump, size_t *n)
{
    size_t cap = 16;
    char **v = malloc(cap * sizeof(*v));
    char *save = NULL;
    char *line;

    *n = 0;
    for (line = strtok_r(dump, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "ITEM ", 5) != 0) {
            ck_assert_str_eq(line, "END\r");
            continue;
        }
        if (*n == cap) {
            cap *= 2;
            v = realloc(v, cap * sizeof(*v));
        }
        v[(*n)++] = line;
    }
    qsort(v, *n, sizeof(*v), cmp_str);
    return v;
}

/* The class id of the only class with items, from "stats items". */
static int
busy_class(struct mm_tclient *c)
{
    struct mm_tstats st;
    int cls = -1;
    size_t i;

    ck_assert(mm_tclient_stats(c, "items", &st) == 0);
    for (i = 0; i < st.n; i++) {
        int id;
        char field[64];

        if (sscanf(st.name[i], "items:%d:%63s", &id, field) == 2 && strcmp(field, "number") == 0 &&
            atoll(st.value[i]) > 0) {
            ck_assert_msg(cls == -1 || cls == id, "items in more than one class");
            cls = id;
        }
    }
    mm_tstats_free(&st);
    ck_assert_int_ne(cls, -1);
    return cls;
}

/* cachedump of the busy class on each server, compared as sets of lines;
 * returns the number of lines. */
static size_t
compare_dumps(struct pair *p, unsigned limit, bool same_items)
{
    char req[64];
    char *a, *b;
    char **la, **lb;
    size_t na, nb, i;

    snprintf(req, sizeof(req), "stats cachedump %d %u\r\n", busy_class(&p->rc), limit);
    a = xchg(&p->rc, req);
    snprintf(req, sizeof(req), "stats cachedump %d %u\r\n", busy_class(&p->tc), limit);
    b = xchg(&p->tc, req);
    ck_assert(strlen(a) <= 2u * 1024 * 1024 && strlen(b) <= 2u * 1024 * 1024);
    la = item_lines(a, &na);
    lb = item_lines(b, &nb);
    ck_assert_uint_eq(na, nb);
    for (i = 0; same_items && i < na; i++) {
        ck_assert_msg(similar(la[i], lb[i]), "%s vs %s", la[i], lb[i]);
    }
    free(la);
    free(lb);
    free(a);
    free(b);
    return na;
}

START_TEST(test_cachedump)
{
    static const char *const errs[] = {"stats cachedump\r\n",
                                       "stats cachedump 1\r\n",
                                       "stats cachedump x 1\r\n",
                                       "stats cachedump -1 0\r\n",
                                       "stats cachedump 1 -1\r\n",
                                       "stats cachedump 1 1x\r\n",
                                       "stats cachedump 64 0\r\n",
                                       "stats cachedump 0 0\r\n",
                                       "stats cachedump 63 0\r\n",
                                       "stats cachedump 2 0 x\r\n",
                                       NULL};
    static const char *const sets[] = {"set a 0 0 3\r\nabc\r\n", "set bb 0 100 3\r\nxyz\r\n",
                                       "set c 5 0 3\r\n123\r\n", "set ddd 0 9000 3\r\n123\r\n",
                                       NULL};
    struct pair p;

    pair_start(&p, NULL);
    steps(&p, errs);
    steps(&p, sets);
    /* memcached lists only its cold LRU segment, where its LRU maintainer
     * moves new items within a moment; mmem has no segments and lists the
     * class's live items. */
    mm_tserver_sleep_ms(1500);
    ck_assert_uint_eq(compare_dumps(&p, 0, true), 4);
    ck_assert_uint_eq(compare_dumps(&p, 2, false), 2);
    ck_assert_uint_eq(compare_dumps(&p, 9, true), 4);
    pair_stop(&p);
}
END_TEST

START_TEST(test_cachedump_bound)
{
    /* memcached keeps up to 20% of a class's bytes in its hot segment,
     * which cachedump does not list: with 11000 items more than 8128 are
     * cold, so both replies reach the 2 MB bound. */
    enum { N = 11000 };
    struct pair p;
    char key[241];
    size_t n;
    int i;

    pair_start(&p, NULL);
    for (i = 0; i < N; i++) {
        char req[320];

        /* Keys of one length: every line has the same size. */
        snprintf(key, sizeof(key), "%0240d", i);
        snprintf(req, sizeof(req), "set %s 0 0 2 noreply\r\nvv\r\n", key);
        ck_assert(mm_tclient_sendstr(&p.rc, req) == 0);
        ck_assert(mm_tclient_sendstr(&p.tc, req) == 0);
    }
    free(xchg(&p.rc, ""));
    free(xchg(&p.tc, ""));
    mm_tserver_sleep_ms(1500);
    /* Lines of 5 + 240 + 13 bytes: as many as fit in 2 MB with "END\r\n"
     * and a NUL after them (8128), fewer than the items. */
    n = compare_dumps(&p, 0, false);
    ck_assert_uint_eq(n, (2u * 1024 * 1024 - 6) / (5 + 240 + 13));
    ck_assert_uint_lt(n, N);
    pair_stop(&p);
}
END_TEST

/* ---- part 6: replies held while a refused value is discarded ---------- */

/* Send the parts with a pause after each; what arrived after each part
 * must match memcached's (nothing before the value is in). */
static void
paced_same(struct pair *p, const char *const *parts, const size_t *lens)
{
    struct mm_tclient a, b;
    size_t i;

    ck_assert(mm_tclient_connect(&a, p->ref.host, p->ref.port) == 0);
    ck_assert(mm_tclient_connect(&b, p->tgt.host, p->tgt.port) == 0);
    mm_tclient_set_timeout(&a, 400);
    mm_tclient_set_timeout(&b, 400);
    for (i = 0; parts[i] != NULL; i++) {
        size_t la, lb;
        bool ca, cb;
        char *ra, *rb;

        ck_assert(mm_tclient_send(&a, parts[i], lens[i]) == 0);
        ck_assert(mm_tclient_send(&b, parts[i], lens[i]) == 0);
        ra = mm_tclient_read_all(&a, &la, &ca);
        rb = mm_tclient_read_all(&b, &lb, &cb);
        if (la != lb || memcmp(ra, rb, la) != 0) {
            fprintf(stderr, "\n=== after part %zu\n", i);
            mm_tclient_print_diff("memcached", ra, la, "target", rb, lb);
            ck_abort_msg("differs from memcached");
        }
        free(ra);
        free(rb);
    }
    mm_tclient_close(&a);
    mm_tclient_close(&b);
}

START_TEST(test_swallow_holds_reply)
{
    enum { BIG = 2000000 };
    static const char bin_verbosity[] = {'\x80', 0x1b, 0, 0, 4, 0, 0, 0, 0, 0, 0, 4, 0, 0,
                                         0,      0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    struct pair p;
    char *value = malloc(BIG);
    const char *text[] = {"version\r\nset k 0 0 2000000\r\n", value, "xxxxxxxxxx\r\nversion\r\n",
                          NULL};
    size_t text_lens[] = {0, BIG - 10, 22};
    const char *bin[] = {bin_verbosity, "\0\0\0\0", NULL};
    size_t bin_lens[] = {sizeof(bin_verbosity), 4};

    memset(value, 'x', BIG);
    text_lens[0] = strlen(text[0]);
    pair_start(&p, NULL);
    /* A too-large set: the error (and the reply before it) wait for the
     * value, as in memcached. */
    paced_same(&p, text, text_lens);
    /* A binary VERBOSITY (unknown to 1.6.18) is answered once the body
     * length it is skipped by has arrived. */
    paced_same(&p, bin, bin_lens);
    pair_stop(&p);
    free(value);
}
END_TEST

static long long stat_of(struct mm_tserver *s, const char *name);

/* ---- part 6: touch counts expired and flushed items -------------------- */

START_TEST(test_touch_expired)
{
    /* memcached's crawler reclaims expired items in the background (then
     * they are plain misses); without it both count what the lookup met. */
    static const char *const args[] = {"-o", "no_lru_crawler,no_lru_maintainer", NULL};
    static const char *const reqs[] = {
        "set a 0 1 1\r\n1\r\n", "set c 0 0 1\r\n1\r\n", "sleep 2200", "touch a 10\r\n",
        "flush_all\r\n",        "touch c 10\r\n",       NULL};
    static const char *const names[] = {"get_expired", "get_flushed", "touch_hits", "touch_misses",
                                        "cmd_touch"};
    struct pair p;
    size_t i;

    pair_start(&p, args);
    steps(&p, reqs);
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        ck_assert_int_eq(stat_of(&p.ref, names[i]), stat_of(&p.tgt, names[i]));
    }
    ck_assert_int_eq(stat_of(&p.tgt, "get_expired"), 1);
    ck_assert_int_eq(stat_of(&p.tgt, "get_flushed"), 1);
    pair_stop(&p);
}
END_TEST

/* ---- part 2: read_buf_mem_limit --------------------------------------- */

static const char *const limit_args[] = {"-o", "read_buf_mem_limit=1", "-t", "32", "-R", "500",
                                         NULL};

static long long
stat_of(struct mm_tserver *s, const char *name)
{
    struct mm_tclient c;
    struct mm_tstats st;
    long long v;

    ck_assert(mm_tclient_connect(&c, s->host, s->port) == 0);
    ck_assert(mm_tclient_stats(&c, NULL, &st) == 0);
    v = mm_tstats_num(&st, name);
    mm_tstats_free(&st);
    mm_tclient_close(&c);
    return v;
}

/* Send req on a fresh connection to each and compare everything up to the
 * close or a quiet second. */
static void
fresh_same(struct pair *p, const char *req, bool expect_close)
{
    struct mm_tclient a, b;
    bool ca, cb;
    size_t la, lb;
    char *ra, *rb;

    ck_assert(mm_tclient_connect(&a, p->ref.host, p->ref.port) == 0);
    ck_assert(mm_tclient_connect(&b, p->tgt.host, p->tgt.port) == 0);
    mm_tclient_set_timeout(&a, 1000);
    mm_tclient_set_timeout(&b, 1000);
    ck_assert(mm_tclient_sendstr(&a, req) == 0);
    ck_assert(mm_tclient_sendstr(&b, req) == 0);
    ra = mm_tclient_read_all(&a, &la, &ca);
    rb = mm_tclient_read_all(&b, &lb, &cb);
    if (la != lb || memcmp(ra, rb, la) != 0 || ca != cb) {
        mm_tclient_print_diff("memcached", ra, la, "target", rb, lb);
        ck_abort_msg("differs (closed: memcached %d, target %d)", ca, cb);
    }
    ck_assert_int_eq(ca, expect_close);
    free(ra);
    free(rb);
    mm_tclient_close(&a);
    mm_tclient_close(&b);
}

static char *
repeat(const char *s, int n, const char *tail)
{
    size_t l = strlen(s);
    char *r = malloc(l * (size_t)n + strlen(tail) + 1);
    int i;

    for (i = 0; i < n; i++) {
        memcpy(r + l * (size_t)i, s, l);
    }
    strcpy(r + l * (size_t)n, tail);
    return r;
}

static char *
get_line(int first, int n, const char *prefix)
{
    char *r = malloc(32 + (size_t)n * 8 + strlen(prefix));
    size_t o = (size_t)sprintf(r, "%sget", prefix);
    int i;

    for (i = 0; i < n; i++) {
        o += (size_t)sprintf(r + o, " k%d", first + i);
    }
    strcpy(r + o, "\r\n");
    return r;
}

START_TEST(test_read_buf_limit)
{
    struct pair p;
    char *req;
    int i;

    pair_start(&p, limit_args);
    /* 500 keys, stored 10 a read (more would exceed the limit). */
    for (i = 0; i < 500; i += 10) {
        int k;

        for (k = i; k < i + 10; k++) {
            char set[64];

            snprintf(set, sizeof(set), "set k%d 0 0 2 noreply\r\nvv\r\n", k);
            ck_assert(mm_tclient_sendstr(&p.rc, set) == 0);
            ck_assert(mm_tclient_sendstr(&p.tc, set) == 0);
        }
        free(xchg(&p.rc, ""));
        free(xchg(&p.tc, ""));
    }
    /* The issue's case: a get of 500 keys. */
    req = get_line(0, 500, "");
    step(&p, req);
    free(req);
    step(&p, "version\r\n");
    ck_assert_int_eq(stat_of(&p.ref, "response_obj_oom"), 1);
    ck_assert_int_eq(stat_of(&p.tgt, "response_obj_oom"), 1);
    /* 13 keys fit one bundle, 14 do not; earlier replies go too. */
    req = get_line(0, 13, "");
    fresh_same(&p, req, false);
    free(req);
    req = get_line(0, 14, "");
    fresh_same(&p, req, false);
    free(req);
    req = get_line(0, 20, "version\r\nversion\r\n");
    fresh_same(&p, req, false);
    free(req);
    /* Requests in one read: 13 are answered, the 14th closes silently. */
    req = repeat("version\r\n", 13, "");
    fresh_same(&p, req, false);
    free(req);
    req = repeat("version\r\n", 14, "");
    fresh_same(&p, req, true);
    free(req);
    ck_assert_int_eq(stat_of(&p.ref, "response_obj_oom"), stat_of(&p.tgt, "response_obj_oom"));
    ck_assert_int_eq(stat_of(&p.ref, "read_buf_oom"), stat_of(&p.tgt, "read_buf_oom"));
    pair_stop(&p);
}
END_TEST

START_TEST(test_read_buf_oom)
{
    struct pair p;
    struct mm_tclient others[2][31];
    struct mm_tclient b[2];
    struct mm_tserver *srv[2];
    int s, i;

    pair_start(&p, limit_args);
    srv[0] = &p.ref;
    srv[1] = &p.tgt;
    /* The pair's own connections are the first of each server: the 33rd
     * shares their worker. One holds a partial line (its read buffer)
     * and its worker's last bundle: the 33rd finds no read buffer. */
    step(&p, "version\r\n");
    ck_assert(mm_tclient_sendstr(&p.rc, "get k") == 0);
    ck_assert(mm_tclient_sendstr(&p.tc, "get k") == 0);
    mm_tserver_sleep_ms(200);
    for (s = 0; s < 2; s++) {
        for (i = 0; i < 31; i++) {
            ck_assert(mm_tclient_connect(&others[s][i], srv[s]->host, srv[s]->port) == 0);
        }
        ck_assert(mm_tclient_connect(&b[s], srv[s]->host, srv[s]->port) == 0);
        mm_tclient_set_timeout(&b[s], 2000);
        ck_assert(mm_tclient_sendstr(&b[s], "version\r\n") == 0);
        ck_assert(mm_tclient_expect_close(&b[s]));
        mm_tclient_close(&b[s]);
    }
    step(&p, "\r\n");
    ck_assert_int_eq(stat_of(&p.ref, "read_buf_oom"), 1);
    ck_assert_int_eq(stat_of(&p.tgt, "read_buf_oom"), 1);
    for (s = 0; s < 2; s++) {
        for (i = 0; i < 31; i++) {
            mm_tclient_close(&others[s][i]);
        }
    }
    pair_stop(&p);
}
END_TEST

static Suite *
parity_suite(void)
{
    Suite *s = suite_create("it_parity");
    TCase *tc = tcase_create("diff");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_fetch_marks);
    tcase_add_test(tc, test_me_class);
    tcase_add_test(tc, test_detail);
    tcase_add_test(tc, test_detail_delimiter);
    tcase_add_test(tc, test_detail_binary);
    tcase_add_test(tc, test_cachedump);
    tcase_add_test(tc, test_cachedump_bound);
    tcase_add_test(tc, test_read_buf_limit);
    tcase_add_test(tc, test_read_buf_oom);
    tcase_add_test(tc, test_swallow_holds_reply);
    tcase_add_test(tc, test_touch_expired);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    if (!mm_tserver_have_memcached()) {
        return mm_tcheck_skip(MM_TCHECK_NO_MEMCACHED);
    }
    return mm_tcheck_run(parity_suite(), 0, NULL);
}
