/* "watch": a watcher connection receives memcached's log lines for the
 * fetches, stores and evictions of other clients (fields asserted, not
 * timestamps), lines are skipped and counted when the watcher is slow, and
 * -W or an unknown kind refuse the command. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "server.h"
#include "tcheck.h"

static struct mm_tserver srv;

static void
start(const char *const *argv)
{
    ck_assert_msg(mm_tserver_start(&srv, MM_TSERVER_TARGET, 0, argv) == 0, "cannot start");
}

static void
stop(void)
{
    ck_assert(mm_tserver_stop(&srv) == 0);
}

/* Read one line from the watcher and require its prefix "ts=<n>.<n> gid="
 * and then want (everything after the gid number). */
static void
expect_line(struct mm_tclient *w, const char *want)
{
    char *line = mm_tclient_read_line(w);
    char *p;

    ck_assert_msg(line != NULL, "no watch line (wanted %s)", want);
    ck_assert_msg(strncmp(line, "ts=", 3) == 0, "bad line %s", line);
    p = line + 3;
    ck_assert(strspn(p, "0123456789") > 0);
    p += strspn(p, "0123456789");
    ck_assert_msg(*p == '.', "bad ts in %s", line);
    p++;
    p += strspn(p, "0123456789");
    ck_assert_msg(strncmp(p, " gid=", 5) == 0, "bad gid in %s", line);
    p += 5;
    ck_assert(strspn(p, "0123456789") > 0);
    p += strspn(p, "0123456789");
    ck_assert_msg(*p == ' ' && strcmp(p + 1, want) == 0, "got '%s', want '... %s'", line, want);
    free(line);
}

START_TEST(test_fetchers_mutations)
{
    struct mm_tclient w;
    struct mm_tclient c;
    struct mm_tstats st;

    start(NULL);
    ck_assert(mm_tclient_connect(&w, srv.host, srv.port) == 0);
    ck_assert(mm_tclient_cmd(&w, "watch fetchers mutations\r\n", "OK\r\n"));
    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    ck_assert(mm_tclient_cmd(&c, "set foo 5 0 3\r\nbar\r\nadd foo 0 0 1\r\nx\r\n",
                             "STORED\r\nNOT_STORED\r\n"));
    ck_assert(mm_tclient_cmd(&c, "get foo a%b\r\n", "VALUE foo 5 3\r\nbar\r\nEND\r\n"));
    /* cfd is the client's socket: the fixture cannot know it, so take it
     * from the first line and require the same in the others. */
    {
        char *line = mm_tclient_read_line(&w);
        char want[256];
        const char *cfd;
        int fd;

        ck_assert_ptr_nonnull(line);
        cfd = strstr(line, " cfd=");
        ck_assert_ptr_nonnull(cfd);
        fd = atoi(cfd + 5);
        ck_assert_ptr_nonnull(strstr(line, " gid=2 type=item_store key=foo status=stored cmd=set "
                                           "ttl=0 clsid=1 cfd="));
        free(line);
        snprintf(want, sizeof(want),
                 "type=item_store key=foo status=not_stored cmd=add ttl=0 clsid=1 cfd=%d size=1\n",
                 fd);
        expect_line(&w, want);
        snprintf(want, sizeof(want), "type=item_get key=foo status=found clsid=1 cfd=%d size=3\n",
                 fd);
        expect_line(&w, want);
        /* Keys are URI-encoded as memcached does. */
        snprintf(want, sizeof(want),
                 "type=item_get key=a%%25b status=not_found clsid=0 cfd=%d size=0\n", fd);
        expect_line(&w, want);
    }
    /* The watcher's own input is ignored. */
    ck_assert(mm_tclient_sendstr(&w, "get foo\r\n") == 0);
    ck_assert(mm_tclient_stats(&c, NULL, &st) == 0);
    ck_assert_int_eq(mm_tstats_num(&st, "log_watchers"), 1);
    ck_assert_int_eq(mm_tstats_num(&st, "log_watcher_sent"), 4);
    ck_assert_int_eq(mm_tstats_num(&st, "log_worker_written"), 4);
    ck_assert_int_eq(mm_tstats_num(&st, "log_watcher_skipped"), 0);
    mm_tstats_free(&st);
    mm_tclient_close(&w);
    mm_tclient_close(&c);
    stop();
}
END_TEST

START_TEST(test_evictions)
{
    static const char *const args[] = {"-m", "2", "-t", "1", NULL};
    struct mm_tclient w;
    struct mm_tclient c;
    char *value = malloc(2001);
    char req[2100];
    int i;
    int cls = -1;

    start(args);
    ck_assert(mm_tclient_connect(&w, srv.host, srv.port) == 0);
    ck_assert(mm_tclient_cmd(&w, "watch evictions\r\n", "OK\r\n"));
    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    memset(value, 'x', 2000);
    value[2000] = '\0';
    for (i = 0; i < 3000; i++) {
        snprintf(req, sizeof(req), "set key%d 7 0 2000 noreply\r\n%s\r\n", i, value);
        ck_assert(mm_tclient_sendstr(&c, req) == 0);
    }
    ck_assert(mm_tclient_cmd(&c, "mn\r\n", "MN\r\n"));
    /* The class of these items: mmem's class table is its own, so ask. */
    {
        struct mm_tstats items;
        size_t k;

        ck_assert_int_eq(mm_tclient_stats(&c, "items", &items), 0);
        ck_assert_uint_gt(items.n, 0);
        for (k = 0; k < items.n; k++) {
            if (sscanf(items.name[k], "items:%d:number", &cls) == 1) {
                break;
            }
        }
        ck_assert_uint_lt(k, items.n);
        mm_tstats_free(&items);
    }
    /* The oldest item goes first, never fetched, no expiry. */
    snprintf(req, sizeof(req), "type=eviction key=key0 fetch=no ttl=-1 la=0 clsid=%d size=2000\n",
             cls);
    expect_line(&w, req);
    snprintf(req, sizeof(req), "type=eviction key=key1 fetch=no ttl=-1 la=0 clsid=%d size=2000\n",
             cls);
    expect_line(&w, req);
    free(value);
    mm_tclient_close(&w);
    mm_tclient_close(&c);
    stop();
}
END_TEST

/* A watcher that does not read: its ring (1 KB here) and socket fill up,
 * later lines are skipped and counted, and the next line that fits is
 * preceded by "skipped=<n>". */
START_TEST(test_slow_watcher_skips)
{
    static const char *const args[] = {"-o", "watcher_logbuf_size=1", NULL};
    struct mm_tclient w;
    struct mm_tclient c;
    struct mm_tstats st;
    char batch[64 * 16];
    size_t len = 0;
    long long skipped = 0;
    bool seen = false;
    int i;
    int j;

    start(args);
    ck_assert(mm_tclient_connect(&w, srv.host, srv.port) == 0);
    ck_assert(mm_tclient_cmd(&w, "watch\r\n", "OK\r\n"));
    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    for (j = 0; j < 64; j++) {
        len += (size_t)snprintf(batch + len, sizeof(batch) - len, "get miss%03d\r\n", j);
    }
    /* Bounded: at most 4000 batches (256k lines, ~25 MB of log). */
    for (i = 0; i < 4000 && skipped == 0; i++) {
        ck_assert(mm_tclient_send(&c, batch, len) == 0);
        free(mm_tclient_read_n(&c, 64 * 5));
        if (i % 100 == 99) {
            ck_assert(mm_tclient_stats(&c, NULL, &st) == 0);
            skipped = mm_tstats_num(&st, "log_watcher_skipped");
            mm_tstats_free(&st);
        }
    }
    ck_assert_msg(skipped > 0, "a watcher that never reads lost no lines");
    /* Drain what was kept, then cause one more line: it fits now, and the
     * skip note comes first. */
    mm_tclient_set_timeout(&w, 300);
    for (i = 0; i < 400000; i++) {
        char *line = mm_tclient_read_line(&w);

        if (line == NULL) {
            break;
        }
        free(line);
    }
    mm_tclient_set_timeout(&w, MM_TCLIENT_TIMEOUT_MS);
    ck_assert(mm_tclient_cmd(&c, "get last\r\n", "END\r\n"));
    for (i = 0; i < 2 && !seen; i++) {
        char *line = mm_tclient_read_line(&w);

        ck_assert_ptr_nonnull(line);
        seen = strncmp(line, "skipped=", 8) == 0 && atoll(line + 8) > 0;
        free(line);
    }
    ck_assert_msg(seen, "no skipped= line");
    mm_tclient_close(&w);
    mm_tclient_close(&c);
    stop();
}
END_TEST

START_TEST(test_refused)
{
    static const char *const args[] = {"-W", NULL};
    struct mm_tclient c;
    struct mm_tstats st;
    int i;

    start(NULL);
    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    ck_assert(mm_tclient_cmd(&c, "watch bogus\r\n", "ERROR\r\n"));
    ck_assert(mm_tclient_cmd(&c, "watch fetchers\r\n", "OK\r\n"));
    mm_tclient_close(&c);
    /* The watcher is gone once its client is (bounded poll). */
    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    for (i = 0; i < 200; i++) {
        ck_assert(mm_tclient_stats(&c, NULL, &st) == 0);
        if (mm_tstats_num(&st, "log_watchers") == 0) {
            mm_tstats_free(&st);
            break;
        }
        mm_tstats_free(&st);
        mm_tserver_sleep_ms(10);
    }
    ck_assert_int_lt(i, 200);
    mm_tclient_close(&c);
    stop();
    start(args);
    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    ck_assert(mm_tclient_cmd(&c, "watch\r\n", "CLIENT_ERROR watch commands not allowed\r\n"));
    mm_tclient_close(&c);
    stop();
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("it_watch");
    TCase *tc = tcase_create("watch");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_fetchers_mutations);
    tcase_add_test(tc, test_evictions);
    tcase_add_test(tc, test_slow_watcher_skips);
    tcase_add_test(tc, test_refused);
    suite_add_tcase(s, tc);
    return mm_tcheck_run(s, 0, NULL);
}
