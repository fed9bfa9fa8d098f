/* "lru_crawler metadump" over a socket: the line format and the error
 * replies compared with memcached (times, CAS and sizes masked), and a dump
 * of 200,000 items that lists every key once while the server's RSS stays
 * flat (the dump is streamed, not built in memory). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "server.h"
#include "tcheck.h"

/* Sanitizer builds shadow and quarantine memory: there the bound only
 * catches a dump built whole (about 16 MB of lines for 200,000 items). */
#ifdef MMEM_SANITIZERS
#define DUMP_RSS_MB 12
#else
#define DUMP_RSS_MB 6
#endif
#define BIG_N 200000u
#define BATCH 1000u

static void
start(struct mm_tserver *s, enum mm_tserver_kind kind)
{
    ck_assert(mm_tserver_start(s, kind, 0, NULL) == 0);
}

/* One command on a fresh connection; the reply, read to suffix. */
static char *
ask(const struct mm_tserver *s, const char *req, const char *suffix)
{
    struct mm_tclient c;
    size_t len;
    char *r;

    ck_assert(mm_tclient_connect(&c, s->host, s->port) == 0);
    ck_assert(mm_tclient_sendstr(&c, req) == 0);
    r = mm_tclient_read_until(&c, suffix, &len);
    mm_tclient_close(&c);
    return r;
}

/* A dump with every number masked ("la=N"), lines sorted so the walk order
 * (hash here, LRU in memcached) does not matter. */
static int
cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
masked_dump(const struct mm_tserver *s)
{
    char *r = ask(s, "lru_crawler metadump all\r\n", "END\r\n");
    char *lines[16];
    size_t n = 0;
    char *out = calloc(1, strlen(r) + 16);
    char *save = NULL;
    char *l;
    size_t i;

    for (l = strtok_r(r, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        char *p;

        ck_assert_uint_lt(n, 16);
        /* exp: -1 stays, a time becomes T; la, cas, size become N. */
        for (p = l; *p != '\0'; p++) {
            if (p > l && p[-1] == '=' && *p >= '0' && *p <= '9' &&
                (strncmp(p - 4, "exp=", 4) == 0 || strncmp(p - 3, "la=", 3) == 0 ||
                 strncmp(p - 4, "cas=", 4) == 0 || strncmp(p - 5, "size=", 5) == 0)) {
                char *q = p;

                while (*q >= '0' && *q <= '9') {
                    q++;
                }
                *p = strncmp(p - 4, "exp=", 4) == 0 ? 'T' : 'N';
                memmove(p + 1, q, strlen(q) + 1);
            }
        }
        lines[n++] = l;
    }
    qsort(lines, n, sizeof(lines[0]), cmp_line);
    for (i = 0; i < n; i++) {
        strcat(out, lines[i]);
        strcat(out, "\n");
    }
    free(r);
    return out;
}

static const char *const setup_cmds = "set plain 3 0 5\r\nhello\r\n"
                                      "set ttl 0 1000 2\r\nxy\r\n"
                                      "set we%ird/k~e.y_- 0 0 1\r\nz\r\n"
                                      "set gone 0 0 1\r\nq\r\n"
                                      "delete gone\r\n"
                                      "get plain\r\n";

START_TEST(test_format_vs_memcached)
{
    struct mm_tserver mm;
    struct mm_tserver mc;
    char *a;
    char *b;

    if (!mm_tserver_have_memcached()) {
        return;
    }
    start(&mm, MM_TSERVER_TARGET);
    start(&mc, MM_TSERVER_MEMCACHED);
    free(ask(&mm, setup_cmds, "END\r\n"));
    free(ask(&mc, setup_cmds, "END\r\n"));
    a = masked_dump(&mm);
    b = masked_dump(&mc);
    ck_assert_msg(strcmp(a, b) == 0, "mmem:\n%s\nmemcached:\n%s", a, b);
    ck_assert_ptr_nonnull(strstr(a, "key=we%25ird%2Fk~e.y_- exp=-1 la=N cas=N fetch=no cls=1"));
    ck_assert_ptr_nonnull(strstr(a, "key=plain exp=-1 la=N cas=N fetch=yes"));
    ck_assert_ptr_nonnull(strstr(a, "key=ttl exp=T "));
    ck_assert_ptr_null(strstr(a, "gone"));
    free(a);
    free(b);
    ck_assert(mm_tserver_stop(&mm) == 0);
    ck_assert(mm_tserver_stop(&mc) == 0);
}
END_TEST

/* Replies compared byte for byte, each request on a fresh connection. */
static const char *const error_cases[] = {
    "lru_crawler metadump 99\r\n",
    "lru_crawler metadump 0\r\n",
    "lru_crawler metadump x\r\n",
    "lru_crawler metadump 1,99\r\n",
    "lru_crawler metadump 63\r\n",
    "lru_crawler metadump\r\n",
    "lru_crawler metadump all extra\r\n",
    "lru_crawler mgdump all\r\n",
    "lru_crawler\r\n",
    "lru_crawler foo\r\n",
    "version\r\nlru_crawler metadump all\r\n",
    "version\r\nlru_crawler metadump 99\r\n",
    "lru_crawler crawl all\r\n",
    "lru_crawler crawl 99\r\n",
    "lru_crawler crawl hash\r\n",
    "lru_crawler crawl\r\n",
    "lru_crawler tocrawl 10\r\n",
    "lru_crawler tocrawl x\r\n",
    "lru_crawler sleep 2000000\r\n",
    "lru_crawler sleep x\r\n",
    "lru_crawler enable\r\n",
    "lru_crawler disable\r\n",
    "lru_crawler metadump all\r\n",
    "lru_crawler enable\r\n",
    "lru_crawler metadump all\r\n",
};

START_TEST(test_errors_vs_memcached)
{
    struct mm_tserver mm;
    struct mm_tserver mc;
    size_t i;

    if (!mm_tserver_have_memcached()) {
        return;
    }
    start(&mm, MM_TSERVER_TARGET);
    start(&mc, MM_TSERVER_MEMCACHED);
    for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        /* Every reply here ends in "\r\n" and is short: wait for its last
         * line by reading until the connection goes quiet. */
        struct mm_tclient c1;
        struct mm_tclient c2;
        size_t l1;
        size_t l2;
        bool closed;
        char *r1;
        char *r2;

        ck_assert(mm_tclient_connect(&c1, mm.host, mm.port) == 0);
        ck_assert(mm_tclient_connect(&c2, mc.host, mc.port) == 0);
        mm_tclient_set_timeout(&c1, 300);
        mm_tclient_set_timeout(&c2, 300);
        ck_assert(mm_tclient_sendstr(&c1, error_cases[i]) == 0);
        ck_assert(mm_tclient_sendstr(&c2, error_cases[i]) == 0);
        r1 = mm_tclient_read_all(&c1, &l1, &closed);
        r2 = mm_tclient_read_all(&c2, &l2, &closed);
        ck_assert_msg(l1 == l2 && memcmp(r1, r2, l1) == 0, "%s: mmem [%s] memcached [%s]",
                      error_cases[i], r1, r2);
        ck_assert_uint_gt(l1, 0);
        free(r1);
        free(r2);
        mm_tclient_close(&c1);
        mm_tclient_close(&c2);
    }
    ck_assert(mm_tserver_stop(&mm) == 0);
    ck_assert(mm_tserver_stop(&mc) == 0);
}
END_TEST

START_TEST(test_big_dump_streams)
{
    struct mm_tserver s;
    struct mm_tclient c;
    static char buf[BATCH * 40];
    unsigned char *seen = calloc(BIG_N, 1);
    unsigned i;
    unsigned n = 0;
    long base;
    long peak;
    size_t len;
    char *r;
    char *p;
    char *nl;

    if (mm_tserver_target_external()) {
        free(seen);
        return;
    }
    start(&s, MM_TSERVER_TARGET);
    ck_assert(mm_tclient_connect(&c, s.host, s.port) == 0);
    for (i = 0; i < BIG_N; i += BATCH) {
        size_t off = 0;
        unsigned k;

        for (k = i; k < i + BATCH; k++) {
            off += (size_t)snprintf(buf + off, sizeof(buf) - off,
                                    "set key:%06u 0 0 1 noreply\r\nv\r\n", k);
        }
        ck_assert(mm_tclient_send(&c, buf, off) == 0);
        ck_assert(mm_tclient_cmd(&c, "mn\r\n", "MN\r\n"));
    }
    base = mm_tserver_rss_kb(s.pid);
    ck_assert_int_gt(base, 0);
    /* Ask for the dump and read nothing for a while: a server that built
     * the whole dump would grow by its full size now. */
    ck_assert(mm_tclient_sendstr(&c, "lru_crawler metadump all\r\n") == 0);
    mm_tserver_sleep_ms(300);
    peak = mm_tserver_rss_kb(s.pid);
    mm_tclient_set_timeout(&c, 20000);
    r = mm_tclient_read_until(&c, "END\r\n", &len);
    if (mm_tserver_rss_kb(s.pid) > peak) {
        peak = mm_tserver_rss_kb(s.pid);
    }
    ck_assert_msg(len > 5 && strcmp(r + len - 5, "END\r\n") == 0, "dump cut short (%zu bytes)",
                  len);
    /* Line by line with explicit lengths: sanitizer builds check the whole
     * haystack on every strstr, which is quadratic over 14 MB. */
    for (p = r; p < r + len; p = nl + 1) {
        unsigned k;

        nl = memchr(p, '\n', (size_t)(r + len - p));
        if (nl == NULL) {
            break;
        }
        if (nl - p < 10 || memcmp(p, "key=key%3A", 10) != 0) {
            continue;
        }
        k = (unsigned)strtoul(p + 10, NULL, 10);
        ck_assert_uint_lt(k, BIG_N);
        ck_assert_msg(seen[k] == 0, "key %u listed twice", k);
        seen[k] = 1;
        n++;
    }
    ck_assert_uint_eq(n, BIG_N);
    ck_assert_msg(peak - base < DUMP_RSS_MB * 1024, "RSS grew %ld kB during the dump (bound %d MB)",
                  peak - base, DUMP_RSS_MB);
    /* The connection is a normal one again afterwards. */
    ck_assert(mm_tclient_cmd(&c, "mn\r\n", "MN\r\n"));
    free(r);
    free(seen);
    mm_tclient_close(&c);
    ck_assert(mm_tserver_stop(&s) == 0);
}
END_TEST

static Suite *
dump_suite(void)
{
    Suite *s = suite_create("it_dump");
    TCase *tc = tcase_create("dump");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_format_vs_memcached);
    tcase_add_test(tc, test_errors_vs_memcached);
    tcase_add_test(tc, test_big_dump_streams);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return mm_tcheck_run(dump_suite(), MM_TCHECK_FORK, NULL);
}
