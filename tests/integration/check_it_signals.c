/* Signals and privileges, as memcached handles them: SIGTERM, SIGINT and
 * SIGUSR1 (memcached's graceful stop) end the server promptly with exit
 * status 0 even while clients are connected (idle or in the middle of a
 * request); SIGHUP does not end it. Run as root, -u leaves the server
 * running under that user. */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <pwd.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "server.h"
#include "tcheck.h"

#define PROMPT_MS 5000

static struct mm_tserver srv;

static void
start(void)
{
    ck_assert_msg(mm_tserver_startl(&srv, MM_TSERVER_TARGET, 0, NULL) == 0, "cannot start target");
}

/* Connect n clients and leave them in different states: idle after a
 * command, mid-line, and mid-value. */
static void
open_busy_clients(struct mm_tclient *c, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        ck_assert(mm_tclient_connect(&c[i], srv.host, srv.port) == 0);
        ck_assert(mm_tclient_cmd(&c[i], "set sig 0 0 1\r\nx\r\n", "STORED\r\n"));
        if (i % 3 == 1) {
            ck_assert(mm_tclient_sendstr(&c[i], "get si") == 0);
        } else if (i % 3 == 2) {
            ck_assert(mm_tclient_sendstr(&c[i], "set sig 0 0 100\r\nabc") == 0);
        }
    }
}

static void
check_exit_on(int sig)
{
    struct mm_tclient c[6];
    int st;
    int i;

    start();
    open_busy_clients(c, 6);
    st = mm_tserver_stop_sig(&srv, sig, PROMPT_MS);
    ck_assert_msg(st != -1, "server did not exit within %d ms of signal %d", PROMPT_MS, sig);
    ck_assert_msg(WIFEXITED(st), "server died of signal %d instead of exiting",
                  WIFSIGNALED(st) ? WTERMSIG(st) : -1);
    ck_assert_msg(WEXITSTATUS(st) == 0, "exit status %d after signal %d", WEXITSTATUS(st), sig);
    /* Clients see the connections go away. */
    for (i = 0; i < 6; i++) {
        ck_assert(mm_tclient_expect_close(&c[i]));
        mm_tclient_close(&c[i]);
    }
}

START_TEST(test_sigterm_exits_zero)
{
    check_exit_on(SIGTERM);
}
END_TEST

START_TEST(test_sigint_exits_zero)
{
    check_exit_on(SIGINT);
}
END_TEST

START_TEST(test_sigusr1_exits_zero)
{
    check_exit_on(SIGUSR1);
}
END_TEST

/* The real and effective uid of pid from /proc, or -1. */
static long
proc_uid(pid_t pid, int field)
{
    char path[64], line[256];
    long ids[4] = {-1, -1, -1, -1};
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "Uid:", 4) == 0 &&
            sscanf(line + 4, "%ld %ld %ld %ld", &ids[0], &ids[1], &ids[2], &ids[3]) == 4) {
            break;
        }
    }
    fclose(f);
    return ids[field];
}

START_TEST(test_user_drops_privileges)
{
    struct passwd *pw;
    struct mm_tclient c;

    if (geteuid() != 0) {
        fprintf(stderr, "not root: -u has nothing to drop, test skipped\n");
        return;
    }
    pw = getpwnam("nobody");
    ck_assert_msg(pw != NULL, "no user nobody");
    /* The fixture passes -u root first; the later -u wins, as in memcached. */
    ck_assert(mm_tserver_startl(&srv, MM_TSERVER_TARGET, 0, "-u", "nobody", NULL) == 0);
    ck_assert_int_eq(proc_uid(srv.pid, 0), (long)pw->pw_uid);
    ck_assert_int_eq(proc_uid(srv.pid, 1), (long)pw->pw_uid);
    ck_assert_int_eq(proc_uid(srv.pid, 2), (long)pw->pw_uid);
    /* Still serving after the switch. */
    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    ck_assert(mm_tclient_cmd(&c, "set u 0 0 1\r\nx\r\n", "STORED\r\n"));
    mm_tclient_close(&c);
    ck_assert_msg(mm_tserver_stop(&srv) == 0, "did not stop cleanly under -u nobody");
}
END_TEST

START_TEST(test_sigterm_idle)
{
    start();
    ck_assert_msg(mm_tserver_stop_sig(&srv, SIGTERM, PROMPT_MS) == 0,
                  "idle server did not exit 0 promptly on SIGTERM");
}
END_TEST

START_TEST(test_sighup_survives)
{
    struct mm_tclient c;
    int i;

    start();
    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    ck_assert(mm_tclient_cmd(&c, "set hup 0 0 2\r\nok\r\n", "STORED\r\n"));
    for (i = 0; i < 3; i++) {
        ck_assert(kill(srv.pid, SIGHUP) == 0);
        mm_tserver_sleep_ms(50);
    }
    ck_assert_msg(mm_tserver_alive(&srv), "SIGHUP ended the server");
    /* Same connection and the data survive. */
    ck_assert(mm_tclient_cmd(&c, "get hup\r\n", "VALUE hup 0 2\r\nok\r\nEND\r\n"));
    mm_tclient_close(&c);
    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    ck_assert(mm_tclient_cmd(&c, "get hup\r\n", "VALUE hup 0 2\r\nok\r\nEND\r\n"));
    mm_tclient_close(&c);
    ck_assert_msg(mm_tserver_stop(&srv) == 0, "did not stop cleanly after SIGHUP");
}
END_TEST

START_TEST(test_sigpipe_ignored)
{
    struct mm_tclient c;
    struct mm_tclient d;
    int i;

    start();
    /* Ask for a lot and hang up before reading: the server's writes then
     * hit a closed socket, which must not kill it with SIGPIPE. */
    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    ck_assert(mm_tclient_sendstr(&c, "set big 0 0 100000\r\n") == 0);
    {
        char *v = malloc(100002);

        for (i = 0; i < 100000; i++) {
            v[i] = 'z';
        }
        v[100000] = '\r';
        v[100001] = '\n';
        ck_assert(mm_tclient_send(&c, v, 100002) == 0);
        free(v);
    }
    ck_assert(mm_tclient_expect(&c, "STORED\r\n"));
    for (i = 0; i < 20; i++) {
        ck_assert(mm_tclient_sendstr(&c, "get big big big big big big big big\r\n") == 0);
    }
    mm_tclient_close(&c);
    mm_tserver_sleep_ms(100);
    ck_assert_msg(mm_tserver_alive(&srv), "server died after a client hung up mid-reply");
    ck_assert(mm_tclient_connect(&d, srv.host, srv.port) == 0);
    ck_assert(mm_tclient_cmd(&d, "get nothing\r\n", "END\r\n"));
    mm_tclient_close(&d);
    ck_assert_msg(mm_tserver_stop(&srv) == 0, "did not stop cleanly");
}
END_TEST

static Suite *
signals_suite(void)
{
    Suite *s = suite_create("it_signals");
    TCase *tc = tcase_create("signals");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_sigterm_exits_zero);
    tcase_add_test(tc, test_sigint_exits_zero);
    tcase_add_test(tc, test_sigusr1_exits_zero);
    tcase_add_test(tc, test_user_drops_privileges);
    tcase_add_test(tc, test_sigterm_idle);
    tcase_add_test(tc, test_sighup_survives);
    tcase_add_test(tc, test_sigpipe_ignored);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    if (mm_tserver_target_external()) {
        return mm_tcheck_skip("MMEM_TEST_ADDR set: signal tests need their own server, skipped");
    }
    return mm_tcheck_run(signals_suite(), 0, NULL);
}
