/* Memory limit end to end: with a small -m the server keeps taking writes
 * far beyond the limit by evicting, its resident size stays bounded, and
 * the newest keys survive; with -M it refuses stores once full instead. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "server.h"
#include "tcheck.h"

#define MEM_MB 8
#define VALUE_LEN 10000
#define TOTAL_MB 96
#define NWRITES (TOTAL_MB * 1024 * 1024 / VALUE_LEN)
#define BATCH 64
#define NEWEST_CHECKED 100

/* The limit covers item memory only: allow for threads, connection buffers,
 * the hash table and allocator slack. Sanitizer builds keep freed memory in
 * quarantine and shadow it, so their bound is only a sanity check. */
#ifdef MMEM_SANITIZERS
#define RSS_SLACK_MB 512
#else
#define RSS_SLACK_MB 32
#endif

static struct mm_tserver srv;

static void
value_for(char *buf, int i)
{
    int k;

    /* Content depends on the key so a wrong item cannot pass for it. */
    for (k = 0; k < VALUE_LEN; k++) {
        buf[k] = (char)('a' + (i + k) % 26);
    }
}

/* Store keys [from, to) with noreply in pipelined batches, then one plain
 * get as a barrier so every store has been processed on return. */
static void
write_range(struct mm_tclient *c, int from, int to)
{
    char *req = malloc((size_t)BATCH * (VALUE_LEN + 64));
    int i = from;

    ck_assert_ptr_nonnull(req);
    while (i < to) {
        size_t n = 0;
        int b;

        for (b = 0; b < BATCH && i < to; b++, i++) {
            n += (size_t)sprintf(req + n, "set key%d 0 0 %d noreply\r\n", i, VALUE_LEN);
            value_for(req + n, i);
            n += VALUE_LEN;
            memcpy(req + n, "\r\n", 2);
            n += 2;
        }
        ck_assert(mm_tclient_send(c, req, n) == 0);
    }
    free(req);
    ck_assert(mm_tclient_cmd(c, "get barrier\r\n", "END\r\n"));
}

START_TEST(test_evicts_under_limit)
{
    struct mm_tclient c;
    struct mm_tstats st;
    char *expect = malloc(VALUE_LEN + 2);
    long rss;
    int i;

    ck_assert_msg(mm_tserver_startl(&srv, MM_TSERVER_TARGET, 0, "-m", "8", NULL) == 0,
                  "cannot start target");
    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    write_range(&c, 0, NWRITES);

    rss = mm_tserver_rss_kb(srv.pid);
    ck_assert_msg(rss > 0, "cannot read VmRSS of pid %d", (int)srv.pid);
    ck_assert_msg(rss < (MEM_MB + RSS_SLACK_MB) * 1024L,
                  "RSS %ld kB after writing %d MB with -m %d: over the %d MB bound", rss, TOTAL_MB,
                  MEM_MB, MEM_MB + RSS_SLACK_MB);

    /* The most recent writes are at the head of the LRU. */
    for (i = NWRITES - NEWEST_CHECKED; i < NWRITES; i++) {
        char req[64];
        char head[64];

        snprintf(req, sizeof(req), "get key%d\r\n", i);
        snprintf(head, sizeof(head), "VALUE key%d 0 %d\r\n", i, VALUE_LEN);
        ck_assert(mm_tclient_sendstr(&c, req) == 0);
        ck_assert_msg(mm_tclient_expect(&c, head), "newest key%d is gone", i);
        value_for(expect, i);
        memcpy(expect + VALUE_LEN, "\r\n", 2);
        {
            char *got = mm_tclient_read_n(&c, VALUE_LEN + 2);

            ck_assert_ptr_nonnull(got);
            ck_assert_msg(memcmp(got, expect, VALUE_LEN + 2) == 0, "key%d has wrong data", i);
            free(got);
        }
        ck_assert(mm_tclient_expect(&c, "END\r\n"));
    }
    /* The oldest cannot all fit. */
    ck_assert(mm_tclient_cmd(&c, "get key0\r\n", "END\r\n"));

    ck_assert(mm_tclient_stats(&c, NULL, &st) == 0);
    ck_assert_int_gt(mm_tstats_num(&st, "evictions"), 0);
    ck_assert_int_eq(mm_tstats_num(&st, "limit_maxbytes"), MEM_MB * 1024L * 1024L);
    ck_assert_int_le(mm_tstats_num(&st, "bytes"), MEM_MB * 1024L * 1024L);
    ck_assert_int_lt(mm_tstats_num(&st, "curr_items"), NWRITES);
    ck_assert_int_ge(mm_tstats_num(&st, "curr_items"), NEWEST_CHECKED);
    ck_assert_int_eq(mm_tstats_num(&st, "total_items"), NWRITES);
    mm_tstats_free(&st);
    mm_tclient_close(&c);
    free(expect);
    ck_assert_msg(mm_tserver_stop(&srv) == 0, "target did not stop cleanly");
}
END_TEST

START_TEST(test_no_evict_out_of_memory)
{
    struct mm_tclient c;
    struct mm_tstats st;
    char *req = malloc(VALUE_LEN + 64);
    int stored = 0;
    int i;
    bool full = false;

    ck_assert_msg(mm_tserver_startl(&srv, MM_TSERVER_TARGET, 0, "-m", "8", "-M", NULL) == 0,
                  "cannot start target");
    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    /* 8 MB of 10 kB values is < 900 items; give it three times that. */
    for (i = 0; i < 3 * 8 * 1024 * 1024 / VALUE_LEN && !full; i++) {
        size_t n = (size_t)sprintf(req, "set key%d 0 0 %d\r\n", i, VALUE_LEN);
        char *line;

        value_for(req + n, i);
        memcpy(req + n + VALUE_LEN, "\r\n", 2);
        ck_assert(mm_tclient_send(&c, req, n + VALUE_LEN + 2) == 0);
        line = mm_tclient_read_line(&c);
        ck_assert_ptr_nonnull(line);
        if (strcmp(line, "STORED\r\n") == 0) {
            stored++;
        } else {
            ck_assert_str_eq(line, "SERVER_ERROR out of memory storing object\r\n");
            full = true;
        }
        free(line);
    }
    ck_assert_msg(full, "never ran out of memory with -m 8 -M after %d stores", stored);
    ck_assert_int_gt(stored, 100);
    /* Nothing was evicted to make room: the first key is still there. */
    ck_assert(mm_tclient_sendstr(&c, "get key0\r\n") == 0);
    ck_assert(mm_tclient_expect(&c, "VALUE key0 0 10000\r\n"));
    free(mm_tclient_read_n(&c, VALUE_LEN + 2));
    ck_assert(mm_tclient_expect(&c, "END\r\n"));
    ck_assert(mm_tclient_stats(&c, NULL, &st) == 0);
    ck_assert_int_eq(mm_tstats_num(&st, "evictions"), 0);
    ck_assert_int_eq(mm_tstats_num(&st, "curr_items"), stored);
    mm_tstats_free(&st);
    /* Small items still have room in their own class, or fail the same way;
     * either way the connection stays usable. */
    ck_assert(mm_tclient_cmd(&c, "version\r\n", "VERSION "));
    free(mm_tclient_read_line(&c));
    mm_tclient_close(&c);
    free(req);
    ck_assert_msg(mm_tserver_stop(&srv) == 0, "target did not stop cleanly");
}
END_TEST

static Suite *
eviction_suite(void)
{
    Suite *s = suite_create("it_eviction");
    TCase *tc = tcase_create("memory");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_evicts_under_limit);
    tcase_add_test(tc, test_no_evict_out_of_memory);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    if (mm_tserver_target_external()) {
        return mm_tcheck_skip("MMEM_TEST_ADDR set: eviction needs its own -m server, skipped");
    }
    return mm_tcheck_run(eviction_suite(), 0, NULL);
}
