/* memcached's own tools against mmem: memcached-tool (display, stats,
 * settings, sizes) and libmemcached's memcstat must succeed and print the
 * fields they read. Skips (77) when neither tool is installed. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "server.h"
#include "tcheck.h"

#define MEMCACHED_TOOL "/usr/share/memcached/scripts/memcached-tool"
#define MEMCSTAT "/usr/bin/memcstat"

static struct mm_tserver srv;

static void
setup(void)
{
    static const char *const args[] = {"-o", "track_sizes", NULL};

    ck_assert(mm_tserver_start(&srv, MM_TSERVER_TARGET, 0, args) == 0);
}

static void
teardown(void)
{
    ck_assert(mm_tserver_stop(&srv) == 0);
}

/* Run a tool, require exit status 0 and every string of want in its
 * output. */
static void
run_tool(const char *const *argv, const char *const *want)
{
    char *out = NULL;
    int st = mm_tserver_run(argv[0], argv, 10000, &out);

    ck_assert_msg(st == 0, "%s %s: status %d\n%s", argv[0], argv[2] ? argv[2] : "", st,
                  out != NULL ? out : "");
    for (; *want != NULL; want++) {
        ck_assert_msg(strstr(out, *want) != NULL, "%s %s: no '%s' in\n%s", argv[0],
                      argv[2] ? argv[2] : "", *want, out);
    }
    free(out);
}

static void
tool(const char *mode, const char *const *want)
{
    char addr[96];
    const char *argv[] = {"/usr/bin/perl", MEMCACHED_TOOL, addr, mode, NULL};

    snprintf(addr, sizeof(addr), "%s:%d", srv.host, srv.port);
    run_tool(argv, want);
}

START_TEST(test_memcached_tool)
{
    static const char *const display[] = {"Item_Size", "Max_age", "Pages", " 1 ", NULL};
    static const char *const stats[] = {"curr_items", "get_hits", "limit_maxbytes", "rusage_user",
                                        NULL};
    static const char *const settings[] = {"maxbytes", "item_size_max", "track_sizes", NULL};
    static const char *const sizes[] = {"Size", "96", NULL};
    struct mm_tclient c;

    if (access(MEMCACHED_TOOL, R_OK) != 0) {
        return;
    }
    /* One small item, so display has a class and sizes a bucket. */
    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    ck_assert(mm_tclient_cmd(&c, "set a 0 0 10\r\n0123456789\r\n", "STORED\r\n"));
    mm_tclient_close(&c);
    tool("display", display);
    tool("stats", stats);
    tool("settings", settings);
    tool("sizes", sizes);
}
END_TEST

/* dump and keys send "lru_crawler metadump all" and read to END: they used
 * to wait forever on mmem's ERROR. */
START_TEST(test_memcached_tool_dump)
{
    static const char *const dump[] = {"add alpha 7 0 5", "hello", "add beta%3A 0 ", "xy", NULL};
    static const char *const keys[] = {"key=alpha exp=-1 la=", "key=beta%253A exp=", NULL};
    struct mm_tclient c;

    if (access(MEMCACHED_TOOL, R_OK) != 0) {
        return;
    }
    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    ck_assert(mm_tclient_cmd(&c, "set alpha 7 0 5\r\nhello\r\n", "STORED\r\n"));
    ck_assert(mm_tclient_cmd(&c, "set beta%3A 0 1000 2\r\nxy\r\n", "STORED\r\n"));
    mm_tclient_close(&c);
    tool("dump", dump);
    tool("keys", keys);
}
END_TEST

START_TEST(test_memcstat)
{
    static const char *const want[] = {
        "Server: ",        "pid:",     "uptime:", "curr_items:", "bytes_read:",
        "limit_maxbytes:", "threads:", NULL};
    char servers[128];
    const char *argv[] = {MEMCSTAT, servers, NULL};

    if (access(MEMCSTAT, X_OK) != 0) {
        return;
    }
    snprintf(servers, sizeof(servers), "--servers=%s:%d", srv.host, srv.port);
    run_tool(argv, want);
}
END_TEST

int
main(void)
{
    Suite *s;
    TCase *tc;

    if (access(MEMCACHED_TOOL, R_OK) != 0 && access(MEMCSTAT, X_OK) != 0) {
        printf("memcached-tool and memcstat not installed: skipped\n");
        return MM_TCHECK_SKIP;
    }
    s = suite_create("it_tools");
    tc = tcase_create("tools");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_memcached_tool);
    tcase_add_test(tc, test_memcached_tool_dump);
    tcase_add_test(tc, test_memcstat);
    suite_add_tcase(s, tc);
    return mm_tcheck_run(s, 0, NULL);
}
