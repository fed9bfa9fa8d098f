/* Statistics over the wire: "stats", "stats settings", "stats items",
 * "stats slabs", "stats sizes" and "stats conns" must list memcached's field
 * names in memcached's order (compared with a live memcached started with
 * the same flags, values masked), "stats sizes" must match memcached byte
 * for byte, and the counters must move by exactly what a scripted sequence
 * of commands implies. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "server.h"
#include "tcheck.h"

/* Fields memcached prints that mmem documents as absent. Empty on purpose:
 * a name added here needs a line in doc/ explaining why. */
static const char *const omitted_stats[] = {NULL};

static bool
omitted(const char *name)
{
    size_t i;

    for (i = 0; omitted_stats[i] != NULL; i++) {
        if (strcmp(omitted_stats[i], name) == 0) {
            return true;
        }
    }
#ifndef MMEM_WITH_TLS
    /* Debian's memcached has TLS; a build without it lists no ssl_*, as a
     * memcached built without TLS (doc/options.md). */
    if (strncmp(name, "ssl_", 4) == 0) {
        return true;
    }
#endif
    return false;
}

/* Per-class stats carry the class number ("items:3:number", "5:chunk_size");
 * classes differ with item header sizes, so compare "items:N:number". The
 * result lists each normalised name once, in first-seen order. */
static size_t
normalise_names(const struct mm_tstats *st, char ***out)
{
    char **names = calloc(st->n + 1, sizeof(char *));
    size_t n = 0;
    size_t i;
    size_t j;

    for (i = 0; i < st->n; i++) {
        const char *src = st->name[i];
        char buf[256];
        size_t o = 0;
        bool dup = false;

        while (*src != '\0' && o < sizeof(buf) - 2) {
            if (*src >= '0' && *src <= '9' && (o == 0 || buf[o - 1] == ':')) {
                const char *d = src;

                while (*d >= '0' && *d <= '9') {
                    d++;
                }
                if (*d == ':') {
                    buf[o++] = 'N';
                    src = d;
                    continue;
                }
            }
            buf[o++] = *src++;
        }
        buf[o] = '\0';
        for (j = 0; j < n; j++) {
            if (strcmp(names[j], buf) == 0) {
                dup = true;
            }
        }
        if (!dup) {
            names[n++] = strdup(buf);
        }
    }
    *out = names;
    return n;
}

static void
free_names(char **names, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

/* Compare the name sequences of ref (memcached) and got (target), skipping
 * documented omissions. Prints both lists from the first difference. */
static bool
same_names(const char *what, const struct mm_tstats *ref, const struct mm_tstats *got)
{
    char **rn;
    char **gn;
    size_t rc = normalise_names(ref, &rn);
    size_t gc = normalise_names(got, &gn);
    size_t i = 0;
    size_t j = 0;
    bool ok = true;

    while (i < rc || j < gc) {
        if (i < rc && omitted(rn[i])) {
            i++;
            continue;
        }
        if (i < rc && j < gc && strcmp(rn[i], gn[j]) == 0) {
            i++;
            j++;
            continue;
        }
        ok = false;
        break;
    }
    if (!ok) {
        size_t k;

        fprintf(stderr, "\n=== %s: field names differ at memcached #%zu / target #%zu ===\n", what,
                i, j);
        fprintf(stderr, "%-32s %s\n", "memcached", "target");
        for (k = 0; k < 12 && (i + k < rc || j + k < gc); k++) {
            fprintf(stderr, "%-32s %s\n", i + k < rc ? rn[i + k] : "-",
                    j + k < gc ? gn[j + k] : "-");
        }
        for (k = 0; k < rc; k++) {
            bool found = false;
            size_t m;

            for (m = 0; m < gc; m++) {
                found = found || strcmp(rn[k], gn[m]) == 0;
            }
            if (!found && !omitted(rn[k])) {
                fprintf(stderr, "missing in target: %s\n", rn[k]);
            }
        }
        for (k = 0; k < gc; k++) {
            bool found = false;
            size_t m;

            for (m = 0; m < rc; m++) {
                found = found || strcmp(gn[k], rn[m]) == 0;
            }
            if (!found) {
                fprintf(stderr, "extra in target: %s\n", gn[k]);
            }
        }
    }
    free_names(rn, rc);
    free_names(gn, gc);
    return ok;
}

static struct mm_tserver ref_srv;
static struct mm_tserver tgt_srv;

static void
names_setup(void)
{
    if (mm_tserver_startl(&ref_srv, MM_TSERVER_MEMCACHED, 0, NULL) != 0) {
        ck_abort_msg("cannot start memcached");
    }
    if (mm_tserver_startl(&tgt_srv, MM_TSERVER_TARGET, 0, NULL) != 0) {
        ck_abort_msg("cannot start target server");
    }
}

static void
names_teardown(void)
{
    if (mm_tserver_stop(&tgt_srv) != 0 || mm_tserver_stop(&ref_srv) != 0) {
        fprintf(stderr, "WARNING: a server did not stop cleanly\n");
    }
}

/* Fetch "stats <sub>" from both servers after running prep on each. */
static void
compare_names_on(struct mm_tserver *ref, struct mm_tserver *tgt, const char *sub, const char *prep,
                 const char *prep_reply)
{
    struct mm_tclient rc;
    struct mm_tclient gc;
    struct mm_tstats rs;
    struct mm_tstats gs;
    char what[64];

    ck_assert(mm_tclient_connect(&rc, ref->host, ref->port) == 0);
    ck_assert(mm_tclient_connect(&gc, tgt->host, tgt->port) == 0);
    if (prep != NULL) {
        ck_assert(mm_tclient_cmd(&rc, prep, prep_reply));
        ck_assert(mm_tclient_cmd(&gc, prep, prep_reply));
    }
    ck_assert(mm_tclient_stats(&rc, sub, &rs) == 0);
    ck_assert(mm_tclient_stats(&gc, sub, &gs) == 0);
    ck_assert_msg(rs.n > 0, "memcached printed no stats for '%s'", sub ? sub : "");
    snprintf(what, sizeof(what), "stats%s%s", sub ? " " : "", sub ? sub : "");
    ck_assert_msg(same_names(what, &rs, &gs), "%s: names or order differ from memcached", what);
    mm_tstats_free(&rs);
    mm_tstats_free(&gs);
    mm_tclient_close(&rc);
    mm_tclient_close(&gc);
}

static void
compare_names(const char *sub, const char *prep, const char *prep_reply)
{
    compare_names_on(&ref_srv, &tgt_srv, sub, prep, prep_reply);
}

START_TEST(test_names_general)
{
    compare_names(NULL, NULL, NULL);
}
END_TEST

START_TEST(test_names_settings)
{
    compare_names("settings", NULL, NULL);
}
END_TEST

START_TEST(test_names_items)
{
    compare_names("items", "set it1 0 0 10\r\n0123456789\r\nget it1\r\n",
                  "STORED\r\nVALUE it1 0 10\r\n0123456789\r\nEND\r\n");
}
END_TEST

START_TEST(test_names_slabs)
{
    compare_names("slabs", "set sl1 0 0 10\r\n0123456789\r\n", "STORED\r\n");
}
END_TEST

START_TEST(test_stats_values_sane)
{
    struct mm_tclient c;
    struct mm_tstats st;
    struct mm_tstats rs;
    struct mm_tclient rc;

    ck_assert(mm_tclient_connect(&c, tgt_srv.host, tgt_srv.port) == 0);
    ck_assert(mm_tclient_connect(&rc, ref_srv.host, ref_srv.port) == 0);
    ck_assert(mm_tclient_stats(&c, NULL, &st) == 0);
    ck_assert(mm_tclient_stats(&rc, NULL, &rs) == 0);
    ck_assert_int_gt(mm_tstats_num(&st, "pid"), 0);
    if (!tgt_srv.external) {
        ck_assert_int_eq(mm_tstats_num(&st, "pid"), tgt_srv.pid);
    }
    ck_assert_int_ge(mm_tstats_num(&st, "uptime"), 0);
    ck_assert_int_gt(mm_tstats_num(&st, "time"), 1600000000);
    ck_assert_ptr_nonnull(mm_tstats_get(&st, "version"));
    /* Same defaults as memcached for these. */
    ck_assert_str_eq(mm_tstats_get(&st, "limit_maxbytes"), mm_tstats_get(&rs, "limit_maxbytes"));
    ck_assert_str_eq(mm_tstats_get(&st, "threads"), mm_tstats_get(&rs, "threads"));
    ck_assert_str_eq(mm_tstats_get(&st, "max_connections"), mm_tstats_get(&rs, "max_connections"));
    ck_assert_str_eq(mm_tstats_get(&st, "pointer_size"), mm_tstats_get(&rs, "pointer_size"));
    mm_tstats_free(&st);
    mm_tstats_free(&rs);
    mm_tclient_close(&c);
    mm_tclient_close(&rc);
}
END_TEST

START_TEST(test_settings_values_match)
{
    struct mm_tclient c;
    struct mm_tstats st;
    struct mm_tstats rs;
    struct mm_tclient rc;
    static const char *const same[] = {"maxbytes",      "maxconns",      "tcpport",
                                       "udpport",       "evictions",     "growth_factor",
                                       "chunk_size",    "num_threads",   "cas_enabled",
                                       "item_size_max", "flush_enabled", NULL};
    size_t i;

    ck_assert(mm_tclient_connect(&c, tgt_srv.host, tgt_srv.port) == 0);
    ck_assert(mm_tclient_connect(&rc, ref_srv.host, ref_srv.port) == 0);
    ck_assert(mm_tclient_stats(&c, "settings", &st) == 0);
    ck_assert(mm_tclient_stats(&rc, "settings", &rs) == 0);
    for (i = 0; same[i] != NULL; i++) {
        const char *a = mm_tstats_get(&rs, same[i]);
        const char *b = mm_tstats_get(&st, same[i]);

        ck_assert_msg(a != NULL, "memcached lacks settings %s", same[i]);
        ck_assert_msg(b != NULL, "target lacks settings %s", same[i]);
        /* Both listen on an ephemeral port, so only the field's presence
         * is comparable there. */
        if (strcmp(same[i], "tcpport") != 0) {
            ck_assert_msg(strcmp(a, b) == 0, "settings %s: memcached '%s', target '%s'", same[i], a,
                          b);
        }
    }
    mm_tstats_free(&st);
    mm_tstats_free(&rs);
    mm_tclient_close(&c);
    mm_tclient_close(&rc);
}
END_TEST

/* ---- the same flags on both servers ------------------------------------ */

/* Flags that change which fields memcached lists (LRU maintainer, crawler,
 * slab mover, temporary LRU, idle kicks, maxconns_fast, size tracking, CAS).
 * Each set is given to both servers; after the same workload every group
 * must list the same names in the same order. There is no exception: mmem
 * lacks these features but lists their fields (zero) exactly when memcached
 * would. */
#define FLAGSET_MAX 12
static const char *const flagsets[][FLAGSET_MAX] = {
    {NULL},
    {"-o", "track_sizes", NULL},
    {"-o", "no_modern", NULL},
    {"-o", "no_lru_maintainer", NULL},
    {"-o", "temporary_ttl=30", NULL},
    {"-o", "idle_timeout=60", NULL},
    {"-o", "no_lru_crawler,no_slab_reassign,no_maxconns_fast", NULL},
    {"-C", "-t", "2", "-m", "8", "-I", "2m", "-f", "1.5", "-n", "64", NULL},
};
#define NFLAGSETS ((int)(sizeof(flagsets) / sizeof(flagsets[0])))

static struct mm_tserver fs_ref;
static struct mm_tserver fs_tgt;

static void
flagset_start(int i)
{
    ck_assert_msg(mm_tserver_start(&fs_ref, MM_TSERVER_MEMCACHED, 0, flagsets[i]) == 0,
                  "cannot start memcached with flag set %d", i);
    ck_assert_msg(mm_tserver_start(&fs_tgt, MM_TSERVER_TARGET, 0, flagsets[i]) == 0,
                  "cannot start target with flag set %d", i);
}

static void
flagset_stop(void)
{
    ck_assert(mm_tserver_stop(&fs_tgt) == 0);
    ck_assert(mm_tserver_stop(&fs_ref) == 0);
}

/* A small workload touching several classes, expiry, a miss and a delta. */
static void
workload(struct mm_tserver *srv)
{
    static const char reply[] = "STORED\r\nSTORED\r\nSTORED\r\nVALUE a 0 10\r\n0123456789\r\n"
                                "END\r\n6\r\nNOT_FOUND\r\nTOUCHED\r\n";
    char req[512];
    char big[201];
    struct mm_tclient c;

    memset(big, 'x', 200);
    big[200] = '\0';
    snprintf(req, sizeof(req),
             "set a 0 0 10\r\n0123456789\r\nset b 0 100 200\r\n%s\r\nset n 0 0 1\r\n5\r\n"
             "get a zz\r\nincr n 1\r\ndelete zz\r\ntouch b 100\r\n",
             big);
    ck_assert(mm_tclient_connect(&c, srv->host, srv->port) == 0);
    ck_assert(mm_tclient_cmd(&c, req, reply));
    mm_tclient_close(&c);
}

/* "stats conns" lists one block per socket, in fd order, and the fds
 * differ between the servers: compare the multiset of per-socket field
 * lists ("addr,listen_addr,state,secs_since_last_cmd"). */
static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static size_t
conn_shapes(const struct mm_tstats *st, char **shapes, size_t max)
{
    size_t n = 0;
    size_t i;
    long cur = -1;

    for (i = 0; i < st->n; i++) {
        char *end;
        long fd = strtol(st->name[i], &end, 10);
        size_t len;

        ck_assert_msg(*end == ':', "odd conns field %s", st->name[i]);
        if (fd != cur) {
            ck_assert(n < max);
            shapes[n++] = calloc(1, 256);
            cur = fd;
        }
        len = strlen(shapes[n - 1]);
        snprintf(shapes[n - 1] + len, 256 - len, "%s%s", len > 0 ? "," : "", end + 1);
    }
    qsort(shapes, n, sizeof(shapes[0]), cmp_str);
    return n;
}

/* Fetch the sorted shapes of "stats conns" on c into shapes. */
static size_t
fetch_conn_shapes(struct mm_tclient *c, char **shapes, size_t max)
{
    struct mm_tstats st;
    size_t n;

    ck_assert(mm_tclient_stats(c, "conns", &st) == 0);
    n = conn_shapes(&st, shapes, max);
    mm_tstats_free(&st);
    return n;
}

static void
free_shapes(char **shapes, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(shapes[i]);
    }
}

static void
compare_conns(struct mm_tserver *ref, struct mm_tserver *tgt)
{
    struct mm_tclient rc;
    struct mm_tclient gc;
    char *ra[16];
    char *ga[16];
    size_t rn;
    size_t gn;
    size_t i;
    int tries;

    ck_assert(mm_tclient_connect(&rc, ref->host, ref->port) == 0);
    ck_assert(mm_tclient_connect(&gc, tgt->host, tgt->port) == 0);
    /* Both see earlier clients leave asynchronously: ask again (bounded)
     * until each lists only its listener and this client. */
    for (tries = 0;; tries++) {
        rn = fetch_conn_shapes(&rc, ra, 16);
        gn = fetch_conn_shapes(&gc, ga, 16);
        if ((rn == 2 && gn == 2) || tries == 200) {
            break;
        }
        free_shapes(ra, rn);
        free_shapes(ga, gn);
        mm_tserver_sleep_ms(10);
    }
    ck_assert_msg(rn == gn, "stats conns: memcached lists %zu sockets, target %zu", rn, gn);
    for (i = 0; i < rn; i++) {
        ck_assert_msg(strcmp(ra[i], ga[i]) == 0, "stats conns: memcached '%s', target '%s'", ra[i],
                      ga[i]);
    }
    free_shapes(ra, rn);
    free_shapes(ga, gn);
    mm_tclient_close(&rc);
    mm_tclient_close(&gc);
}

/* Send req to both servers and require the same bytes back, read up to and
 * including the first occurrence of until. */
static void
same_bytes(struct mm_tserver *ref, struct mm_tserver *tgt, const char *req, const char *until)
{
    struct mm_tclient rc;
    struct mm_tclient gc;
    char *a;
    char *b;
    size_t alen;
    size_t blen;

    ck_assert(mm_tclient_connect(&rc, ref->host, ref->port) == 0);
    ck_assert(mm_tclient_connect(&gc, tgt->host, tgt->port) == 0);
    ck_assert(mm_tclient_sendstr(&rc, req) == 0);
    ck_assert(mm_tclient_sendstr(&gc, req) == 0);
    a = mm_tclient_read_until(&rc, until, &alen);
    b = mm_tclient_read_until(&gc, until, &blen);
    if (alen != blen || memcmp(a, b, alen) != 0) {
        mm_tclient_print_diff("memcached", a, alen, "target", b, blen);
        ck_abort_msg("'%.*s': replies differ", (int)strcspn(req, "\r"), req);
    }
    free(a);
    free(b);
    mm_tclient_close(&rc);
    mm_tclient_close(&gc);
}

START_TEST(test_flagset_names)
{
    static const char *const groups[] = {NULL, "settings", "items", "slabs", "sizes"};
    size_t g;

    flagset_start(_i);
    workload(&fs_ref);
    workload(&fs_tgt);
    for (g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        compare_names_on(&fs_ref, &fs_tgt, groups[g], NULL, NULL);
    }
    compare_conns(&fs_ref, &fs_tgt);
    /* The size histogram (or "disabled") is deterministic: same bytes. */
    same_bytes(&fs_ref, &fs_tgt, "stats sizes\r\n", "END\r\n");
    flagset_stop();
}
END_TEST

/* stats sizes_enable / sizes_disable at run time, with and without CAS:
 * replies (no END line), the histogram of items stored afterwards, and the
 * track_sizes setting, byte for byte. */
START_TEST(test_sizes_switch)
{
    static const char *const cas_off[] = {"-C", NULL};
    const char *const *args = _i == 0 ? NULL : cas_off;
    static const char *const steps[][2] = {
        {"stats sizes_enable\r\nmn\r\n", "MN\r\n"},
        {"set c 0 0 30\r\n012345678901234567890123456789\r\nset d 0 0 1\r\nx\r\n"
         "delete a\r\nmn\r\n",
         "MN\r\n"},
        {"stats sizes\r\n", "END\r\n"},
        {"stats sizes_enable\r\nmn\r\n", "MN\r\n"},
        {"stats sizes_disable\r\nmn\r\n", "MN\r\n"},
        {"stats sizes\r\n", "END\r\n"},
        {"stats sizes_disable\r\nmn\r\n", "MN\r\n"},
    };
    struct mm_tclient c;
    struct mm_tstats st;
    size_t i;

    ck_assert(mm_tserver_start(&fs_ref, MM_TSERVER_MEMCACHED, 0, args) == 0);
    ck_assert(mm_tserver_start(&fs_tgt, MM_TSERVER_TARGET, 0, args) == 0);
    workload(&fs_ref);
    workload(&fs_tgt);
    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        same_bytes(&fs_ref, &fs_tgt, steps[i][0], steps[i][1]);
        if (i == 0) {
            /* track_sizes in "stats settings" follows the switch. */
            ck_assert(mm_tclient_connect(&c, fs_tgt.host, fs_tgt.port) == 0);
            ck_assert(mm_tclient_stats(&c, "settings", &st) == 0);
            ck_assert_str_eq(mm_tstats_get(&st, "track_sizes"), _i == 0 ? "yes" : "no");
            mm_tstats_free(&st);
            mm_tclient_close(&c);
        }
    }
    flagset_stop();
}
END_TEST

/* -N: on loopback every socket's NAPI id is 0, so each connection is
 * handed out round robin and counted in round_robin_fallback, on both
 * servers alike. */
static long long
napi_count(struct mm_tclient *c, const char *name)
{
    struct mm_tstats st;
    long long v;

    ck_assert(mm_tclient_stats(c, NULL, &st) == 0);
    v = mm_tstats_num(&st, name);
    mm_tstats_free(&st);
    return v;
}

static void
napi_deltas(const struct mm_tserver *srv, long long *fallback, long long *unexpected)
{
    struct mm_tclient a;
    struct mm_tclient more[3];
    long long f0;
    long long u0;
    unsigned i;

    ck_assert(mm_tclient_connect(&a, srv->host, srv->port) == 0);
    f0 = napi_count(&a, "round_robin_fallback");
    u0 = napi_count(&a, "unexpected_napi_ids");
    for (i = 0; i < 3; i++) {
        ck_assert(mm_tclient_connect(&more[i], srv->host, srv->port) == 0);
        ck_assert(mm_tclient_cmd(&more[i], "version\r\n", "VERSION 1.6.18\r\n"));
    }
    *fallback = napi_count(&a, "round_robin_fallback") - f0;
    *unexpected = napi_count(&a, "unexpected_napi_ids") - u0;
    for (i = 0; i < 3; i++) {
        mm_tclient_close(&more[i]);
    }
    mm_tclient_close(&a);
}

START_TEST(test_napi_fallback)
{
    static const char *const args[] = {"-t", "2", "-N", "2", NULL};
    long long ref_f;
    long long ref_u;
    long long tgt_f;
    long long tgt_u;

    ck_assert(mm_tserver_start(&fs_ref, MM_TSERVER_MEMCACHED, 0, args) == 0);
    ck_assert(mm_tserver_start(&fs_tgt, MM_TSERVER_TARGET, 0, args) == 0);
    napi_deltas(&fs_ref, &ref_f, &ref_u);
    napi_deltas(&fs_tgt, &tgt_f, &tgt_u);
    ck_assert_int_eq(tgt_f, ref_f);
    ck_assert_int_eq(tgt_u, ref_u);
    ck_assert_int_eq(tgt_f, 3);
    flagset_stop();
}
END_TEST

/* -o slab_sizes: the same classes as memcached's, sizes and chunks per page
 * (-L gives every class a page, so "stats slabs" lists them all). */
static char *
slab_table(const struct mm_tserver *srv)
{
    struct mm_tclient c;
    struct mm_tstats st;
    char *out = calloc(1, 4096);
    size_t n = 0;
    size_t i;

    ck_assert_ptr_nonnull(out);
    ck_assert(mm_tclient_connect(&c, srv->host, srv->port) == 0);
    ck_assert(mm_tclient_stats(&c, "slabs", &st) == 0);
    for (i = 0; i < st.n; i++) {
        if (strstr(st.name[i], ":chunk_size") != NULL ||
            strstr(st.name[i], ":chunks_per_page") != NULL) {
            n += (size_t)snprintf(out + n, 4096 - n, "%s %s\n", st.name[i], st.value[i]);
        }
    }
    mm_tstats_free(&st);
    mm_tclient_close(&c);
    return out;
}

START_TEST(test_slab_sizes_classes)
{
    static const char *const args[] = {"-L", "-m", "200", "-o", "slab_sizes=100-200-300", NULL};
    char *ref;
    char *tgt;

    ck_assert(mm_tserver_start(&fs_ref, MM_TSERVER_MEMCACHED, 0, args) == 0);
    ck_assert(mm_tserver_start(&fs_tgt, MM_TSERVER_TARGET, 0, args) == 0);
    ref = slab_table(&fs_ref);
    tgt = slab_table(&fs_tgt);
    ck_assert_str_eq(tgt, ref);
    ck_assert(strstr(tgt, "3:chunk_size 304\n") != NULL);
    free(ref);
    free(tgt);
    flagset_stop();
}
END_TEST

/* ---- counters: target only, one fresh server per test ------------------ */

static struct mm_tserver cnt_srv;

static void
cnt_setup(void)
{
    ck_assert_msg(mm_tserver_startl(&cnt_srv, MM_TSERVER_TARGET, 0, NULL) == 0,
                  "cannot start target server");
}

static void
cnt_teardown(void)
{
    ck_assert_msg(mm_tserver_stop(&cnt_srv) == 0, "target did not stop cleanly");
}

static void
cnt_connect(struct mm_tclient *c)
{
    ck_assert_msg(mm_tclient_connect(c, cnt_srv.host, cnt_srv.port) == 0, "connect failed");
}

static long long
delta(const struct mm_tstats *before, const struct mm_tstats *after, const char *name)
{
    long long a = mm_tstats_num(after, name);
    long long b = mm_tstats_num(before, name);

    ck_assert_msg(a >= 0 && b >= 0, "stat %s missing", name);
    return a - b;
}

#define ck_assert_delta(b, a, name, want)                                                          \
    do {                                                                                           \
        long long d_ = delta((b), (a), (name));                                                    \
        ck_assert_msg(d_ == (want), "stat %s moved by %lld, expected %lld", (name), d_,            \
                      (long long)(want));                                                          \
    } while (0)

static unsigned long long
gets_cas(struct mm_tclient *c, const char *key)
{
    char req[300];
    char *line;
    unsigned long long cas = 0;
    unsigned long f;
    unsigned long long b;
    char k[256];

    snprintf(req, sizeof(req), "gets %s\r\n", key);
    ck_assert(mm_tclient_sendstr(c, req) == 0);
    line = mm_tclient_read_line(c);
    ck_assert_ptr_nonnull(line);
    ck_assert_msg(sscanf(line, "VALUE %255s %lu %llu %llu", k, &f, &b, &cas) == 4, "bad: %s", line);
    free(line);
    free(mm_tclient_read_n(c, b + 2));
    ck_assert(mm_tclient_expect(c, "END\r\n"));
    return cas;
}

START_TEST(test_counters_script)
{
    struct mm_tclient c;
    struct mm_tstats b;
    struct mm_tstats a;
    unsigned long long cas;
    char req[128];

    cnt_connect(&c);
    ck_assert(mm_tclient_stats(&c, NULL, &b) == 0);

    ck_assert(
        mm_tclient_cmd(&c, "set a 0 0 1\r\n1\r\nset b 0 0 1\r\n2\r\n", "STORED\r\nSTORED\r\n"));
    ck_assert(mm_tclient_cmd(&c, "get a\r\nget zz\r\n", "VALUE a 0 1\r\n1\r\nEND\r\nEND\r\n"));
    ck_assert(
        mm_tclient_cmd(&c, "get a b zz\r\n", "VALUE a 0 1\r\n1\r\nVALUE b 0 1\r\n2\r\nEND\r\n"));
    ck_assert(mm_tclient_cmd(&c, "delete a\r\ndelete zz\r\n", "DELETED\r\nNOT_FOUND\r\n"));
    ck_assert(mm_tclient_cmd(&c,
                             "incr n 1\r\nset n 0 0 1\r\n5\r\nincr n 1\r\ndecr n 1\r\n"
                             "decr zz 1\r\n",
                             "NOT_FOUND\r\nSTORED\r\n6\r\n5\r\nNOT_FOUND\r\n"));
    ck_assert(mm_tclient_cmd(&c, "cas zz 0 0 1 1\r\nx\r\ncas b 0 0 1 999999999\r\nx\r\n",
                             "NOT_FOUND\r\nEXISTS\r\n"));
    cas = gets_cas(&c, "b");
    snprintf(req, sizeof(req), "cas b 0 0 1 %llu\r\ny\r\n", cas);
    ck_assert(mm_tclient_cmd(&c, req, "STORED\r\n"));
    ck_assert(mm_tclient_cmd(&c, "touch b 100\r\ntouch zz 100\r\n", "TOUCHED\r\nNOT_FOUND\r\n"));

    ck_assert(mm_tclient_stats(&c, NULL, &a) == 0);
    /* get a, get zz, get a b zz and the gets: one per key. */
    ck_assert_delta(&b, &a, "cmd_get", 6);
    ck_assert_delta(&b, &a, "get_hits", 4);
    ck_assert_delta(&b, &a, "get_misses", 2);
    /* set a, set b, set n and the three cas attempts. */
    ck_assert_delta(&b, &a, "cmd_set", 6);
    ck_assert_delta(&b, &a, "delete_hits", 1);
    ck_assert_delta(&b, &a, "delete_misses", 1);
    ck_assert_delta(&b, &a, "incr_hits", 1);
    ck_assert_delta(&b, &a, "incr_misses", 1);
    ck_assert_delta(&b, &a, "decr_hits", 1);
    ck_assert_delta(&b, &a, "decr_misses", 1);
    ck_assert_delta(&b, &a, "cas_misses", 1);
    ck_assert_delta(&b, &a, "cas_badval", 1);
    ck_assert_delta(&b, &a, "cas_hits", 1);
    ck_assert_delta(&b, &a, "cmd_touch", 2);
    ck_assert_delta(&b, &a, "touch_hits", 1);
    ck_assert_delta(&b, &a, "touch_misses", 1);
    /* b and n remain; a was deleted. */
    ck_assert_delta(&b, &a, "curr_items", 2);
    /* Every successful store links a new item: set a, b, n, the cas, and
     * incr/decr do not. */
    ck_assert_delta(&b, &a, "total_items", 4);
    ck_assert_int_gt(delta(&b, &a, "bytes_read"), 200);
    ck_assert_int_gt(delta(&b, &a, "bytes_written"), 100);
    mm_tstats_free(&b);
    mm_tstats_free(&a);
    mm_tclient_close(&c);
}
END_TEST

START_TEST(test_counters_flush)
{
    struct mm_tclient c;
    struct mm_tstats b;
    struct mm_tstats a;

    cnt_connect(&c);
    ck_assert(mm_tclient_cmd(&c, "set f 0 0 1\r\n1\r\n", "STORED\r\n"));
    ck_assert(mm_tclient_stats(&c, NULL, &b) == 0);
    ck_assert(mm_tclient_cmd(&c, "flush_all\r\nget f\r\n", "OK\r\nEND\r\n"));
    ck_assert(mm_tclient_stats(&c, NULL, &a) == 0);
    ck_assert_delta(&b, &a, "cmd_flush", 1);
    ck_assert_delta(&b, &a, "get_flushed", 1);
    ck_assert_delta(&b, &a, "get_misses", 1);
    mm_tstats_free(&b);
    mm_tstats_free(&a);
    mm_tclient_close(&c);
}
END_TEST

START_TEST(test_counters_connections)
{
    struct mm_tclient c;
    struct mm_tclient extra[3];
    struct mm_tstats b;
    struct mm_tstats a;
    struct mm_tstats z;
    int i;

    cnt_connect(&c);
    ck_assert(mm_tclient_stats(&c, NULL, &b) == 0);
    for (i = 0; i < 3; i++) {
        cnt_connect(&extra[i]);
        /* A round trip proves the server has accepted the connection. */
        ck_assert(mm_tclient_cmd(&extra[i], "version\r\n", "VERSION "));
        free(mm_tclient_read_line(&extra[i]));
    }
    ck_assert(mm_tclient_stats(&c, NULL, &a) == 0);
    ck_assert_delta(&b, &a, "curr_connections", 3);
    ck_assert_delta(&b, &a, "total_connections", 3);
    for (i = 0; i < 3; i++) {
        ck_assert(mm_tclient_cmd(&extra[i], "quit\r\n", ""));
        ck_assert(mm_tclient_expect_close(&extra[i]));
        mm_tclient_close(&extra[i]);
    }
    /* The server notices the closes asynchronously: poll, bounded. */
    for (i = 0; i < 200; i++) {
        ck_assert(mm_tclient_stats(&c, NULL, &z) == 0);
        if (delta(&b, &z, "curr_connections") == 0) {
            break;
        }
        mm_tstats_free(&z);
        mm_tserver_sleep_ms(10);
    }
    ck_assert_msg(i < 200, "curr_connections did not drop back after the closes");
    ck_assert_delta(&b, &z, "total_connections", 3);
    mm_tstats_free(&z);
    mm_tstats_free(&b);
    mm_tstats_free(&a);
    mm_tclient_close(&c);
}
END_TEST

START_TEST(test_counters_reset)
{
    struct mm_tclient c;
    struct mm_tstats a;

    cnt_connect(&c);
    ck_assert(mm_tclient_cmd(&c, "set r 0 0 1\r\n1\r\nget r\r\nget nope\r\n",
                             "STORED\r\nVALUE r 0 1\r\n1\r\nEND\r\nEND\r\n"));
    ck_assert(mm_tclient_cmd(&c, "stats reset\r\n", "RESET\r\n"));
    ck_assert(mm_tclient_stats(&c, NULL, &a) == 0);
    ck_assert_int_eq(mm_tstats_num(&a, "cmd_get"), 0);
    ck_assert_int_eq(mm_tstats_num(&a, "get_hits"), 0);
    ck_assert_int_eq(mm_tstats_num(&a, "get_misses"), 0);
    ck_assert_int_eq(mm_tstats_num(&a, "cmd_set"), 0);
    /* Gauges are not counters: the item is still there. */
    ck_assert_int_eq(mm_tstats_num(&a, "curr_items"), 1);
    ck_assert_int_ge(mm_tstats_num(&a, "curr_connections"), 1);
    mm_tstats_free(&a);
    mm_tclient_close(&c);
}
END_TEST

START_TEST(test_items_slabs_values)
{
    struct mm_tclient c;
    struct mm_tstats st;
    size_t i;
    long long number = 0;

    cnt_connect(&c);
    ck_assert(mm_tclient_cmd(&c, "set i1 0 0 3\r\nabc\r\nset i2 0 0 3\r\ndef\r\n",
                             "STORED\r\nSTORED\r\n"));
    ck_assert(mm_tclient_stats(&c, "items", &st) == 0);
    for (i = 0; i < st.n; i++) {
        const char *n = st.name[i];
        size_t l = strlen(n);

        if (strncmp(n, "items:", 6) == 0 && l > 7 && strcmp(n + l - 7, ":number") == 0) {
            number += strtoll(st.value[i], NULL, 10);
        }
    }
    ck_assert_int_eq(number, 2);
    mm_tstats_free(&st);
    ck_assert(mm_tclient_stats(&c, "slabs", &st) == 0);
    ck_assert_int_ge(mm_tstats_num(&st, "active_slabs"), 1);
    ck_assert_int_gt(mm_tstats_num(&st, "total_malloced"), 0);
    mm_tstats_free(&st);
    mm_tclient_close(&c);
}
END_TEST

static Suite *
stats_suite(bool with_ref)
{
    Suite *s = suite_create("it_stats");
    TCase *tc;

    if (with_ref) {
        tc = tcase_create("names");
        tcase_add_unchecked_fixture(tc, names_setup, names_teardown);
        tcase_set_timeout(tc, 20);
        tcase_add_test(tc, test_names_general);
        tcase_add_test(tc, test_names_settings);
        tcase_add_test(tc, test_names_items);
        tcase_add_test(tc, test_names_slabs);
        tcase_add_test(tc, test_stats_values_sane);
        tcase_add_test(tc, test_settings_values_match);
        suite_add_tcase(s, tc);

        tc = tcase_create("flagsets");
        tcase_set_timeout(tc, 30);
        tcase_add_loop_test(tc, test_flagset_names, 0, NFLAGSETS);
        tcase_add_loop_test(tc, test_sizes_switch, 0, 2);
        tcase_add_test(tc, test_napi_fallback);
        tcase_add_test(tc, test_slab_sizes_classes);
        suite_add_tcase(s, tc);
    }
    tc = tcase_create("counters");
    tcase_add_checked_fixture(tc, cnt_setup, cnt_teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_counters_script);
    tcase_add_test(tc, test_counters_flush);
    tcase_add_test(tc, test_counters_connections);
    tcase_add_test(tc, test_counters_reset);
    tcase_add_test(tc, test_items_slabs_values);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    bool with_ref = mm_tserver_have_memcached();

    /* Without a reference memcached a clean run is a skip (and says nothing). */
    return mm_tcheck_run(stats_suite(with_ref), with_ref ? 0 : MM_TCHECK_PARTIAL, NULL);
}
