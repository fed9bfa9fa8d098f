/* Authentication over the wire: ASCII auth tokens (-Y) and SASL (-S) for
 * the binary protocol. Each test starts its own server with a password file
 * written to a private temp directory, so nothing is shared between them. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "server.h"

struct auth_fx {
    char dir[64];
    char authfile[128];
    struct mm_tserver srv;
    struct mm_tclient c;
};

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
}

static void
fx_dir(struct auth_fx *fx)
{
    memset(fx, 0, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/mmem-auth-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(fx->dir));
    snprintf(fx->authfile, sizeof(fx->authfile), "%s/auth", fx->dir);
}

static void
fx_cleanup(struct auth_fx *fx)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* An mmem with -Y over "alice:secret" and "bob:p:w" (a colon in a
 * password), and one connection to it. */
static void
ascii_start(struct auth_fx *fx)
{
    fx_dir(fx);
    write_file(fx->authfile, "alice:secret\n\nbob:p:w\r\n");
    ck_assert_int_eq(mm_tserver_startl(&fx->srv, MM_TSERVER_TARGET, 0, "-Y", fx->authfile, NULL),
                     0);
    ck_assert_int_eq(mm_tclient_connect(&fx->c, fx->srv.host, fx->srv.port), 0);
}

static void
ascii_stop(struct auth_fx *fx)
{
    mm_tclient_close(&fx->c);
    ck_assert_int_eq(mm_tserver_stop(&fx->srv), 0);
    fx_cleanup(fx);
}

#define UNAUTH "CLIENT_ERROR unauthenticated\r\n"

START_TEST(test_ascii_refused_before_auth)
{
    struct auth_fx fx;

    ascii_start(&fx);
    ck_assert(mm_tclient_cmd(&fx.c, "version\r\n", UNAUTH));
    ck_assert(mm_tclient_cmd(&fx.c, "get a\r\n", UNAUTH));
    ck_assert(mm_tclient_cmd(&fx.c, "mg a v\r\n", UNAUTH));
    ck_assert(mm_tclient_cmd(&fx.c, "stats\r\n", UNAUTH));
    /* Not even quit is heard: the connection stays. */
    ck_assert(mm_tclient_cmd(&fx.c, "quit\r\n", UNAUTH));
    ck_assert(mm_tclient_cmd(&fx.c, "bogus\r\n", UNAUTH));
    /* Only "set" carries a token; add's line is refused by itself. */
    ck_assert(mm_tclient_cmd(&fx.c, "add k 0 0 12\r\n", UNAUTH));
    ck_assert(mm_tclient_cmd(&fx.c, "set k\r\n", UNAUTH));
    /* Several at once: one reply each. */
    ck_assert(mm_tclient_cmd(&fx.c, "get a\r\nget b\r\n", UNAUTH UNAUTH));
    ascii_stop(&fx);
}
END_TEST

START_TEST(test_ascii_right_password)
{
    struct auth_fx fx;
    struct mm_tstats st;

    ascii_start(&fx);
    ck_assert(mm_tclient_cmd(&fx.c, "set anything 0 0 12\r\nalice secret\r\n", "STORED\r\n"));
    ck_assert(mm_tclient_cmd(&fx.c, "version\r\n", "VERSION 1.6.18\r\n"));
    /* The token was not stored under its key. */
    ck_assert(mm_tclient_cmd(&fx.c, "get anything\r\n", "END\r\n"));
    ck_assert(mm_tclient_cmd(&fx.c, "set k 0 0 2\r\nhi\r\n", "STORED\r\n"));
    ck_assert(mm_tclient_cmd(&fx.c, "get k\r\n", "VALUE k 0 2\r\nhi\r\nEND\r\n"));
    ck_assert_int_eq(mm_tclient_stats(&fx.c, NULL, &st), 0);
    ck_assert_int_eq(mm_tstats_num(&st, "auth_cmds"), 1);
    ck_assert_int_eq(mm_tstats_num(&st, "auth_errors"), 0);
    mm_tstats_free(&st);
    ck_assert_int_eq(mm_tclient_stats(&fx.c, "settings", &st), 0);
    ck_assert_str_eq(mm_tstats_get(&st, "auth_enabled_ascii"), fx.authfile);
    ck_assert_str_eq(mm_tstats_get(&st, "binding_protocol"), "ascii");
    mm_tstats_free(&st);
    ascii_stop(&fx);
}
END_TEST

START_TEST(test_ascii_wrong_password)
{
    struct auth_fx fx;
    struct mm_tclient c2;
    struct mm_tstats st;

    ascii_start(&fx);
    ck_assert(mm_tclient_cmd(&fx.c, "set x 0 0 9\r\nalice bad\r\n",
                             "CLIENT_ERROR authentication failure\r\n"));
    ck_assert(mm_tclient_cmd(&fx.c, "version\r\n", UNAUTH));
    /* A prefix, a longer guess, another user's password, the wrong case. */
    ck_assert(mm_tclient_cmd(&fx.c, "set x 0 0 9\r\nalice sec\r\n",
                             "CLIENT_ERROR authentication failure\r\n"));
    ck_assert(mm_tclient_cmd(&fx.c, "set x 0 0 13\r\nalice secrets\r\n",
                             "CLIENT_ERROR authentication failure\r\n"));
    ck_assert(mm_tclient_cmd(&fx.c, "set x 0 0 9\r\nalice p:w\r\n",
                             "CLIENT_ERROR authentication failure\r\n"));
    ck_assert(mm_tclient_cmd(&fx.c, "set x 0 0 12\r\nALICE secret\r\n",
                             "CLIENT_ERROR authentication failure\r\n"));
    /* Malformed tokens are not attempts. */
    ck_assert(mm_tclient_cmd(&fx.c, "set x 0 0 5\r\nalice\r\n",
                             "CLIENT_ERROR bad authentication token format\r\n"));
    /* Bad trailer: "ab" is the value, "cd" the trailer, and the "\r\n"
     * after it an (empty, refused) line of its own. */
    ck_assert(mm_tclient_cmd(&fx.c, "set x 0 0 2\r\nabcd\r\n",
                             "CLIENT_ERROR bad command line termination\r\n" UNAUTH));
    /* Runs of spaces separate words; the colon password is whole. */
    ck_assert(mm_tclient_cmd(&fx.c, "set x 0 0 10\r\n bob  p:w \r\n", "STORED\r\n"));
    ck_assert_int_eq(mm_tclient_stats(&fx.c, NULL, &st), 0);
    ck_assert_int_eq(mm_tstats_num(&st, "auth_cmds"), 6);
    ck_assert_int_eq(mm_tstats_num(&st, "auth_errors"), 5);
    mm_tstats_free(&st);
    /* Authentication is per connection. */
    ck_assert_int_eq(mm_tclient_connect(&c2, fx.srv.host, fx.srv.port), 0);
    ck_assert(mm_tclient_cmd(&c2, "version\r\n", UNAUTH));
    mm_tclient_close(&c2);
    ascii_stop(&fx);
}
END_TEST

START_TEST(test_ascii_token_in_pieces)
{
    struct auth_fx fx;
    const char *req = "set x 0 0 12 noreply\r\nalice secret\r\n";
    size_t i;

    ascii_start(&fx);
    for (i = 0; req[i] != '\0'; i++) {
        ck_assert_int_eq(mm_tclient_send(&fx.c, req + i, 1), 0);
    }
    /* noreply or not, the answer is sent. */
    ck_assert(mm_tclient_expect(&fx.c, "STORED\r\n"));
    ck_assert(mm_tclient_cmd(&fx.c, "get x\r\n", "END\r\n"));
    ascii_stop(&fx);
}
END_TEST

START_TEST(test_ascii_token_too_long)
{
    struct auth_fx fx;
    char *req = malloc(3000);
    int n;

    ck_assert_ptr_nonnull(req);
    ascii_start(&fx);
    n = snprintf(req, 3000, "set x 0 0 2000\r\n");
    memset(req + n, 'a', 2000);
    memcpy(req + n + 2000, "\r\n", 3);
    ck_assert(mm_tclient_cmd(&fx.c, req, "CLIENT_ERROR authentication failure\r\n"));
    /* The whole value was swallowed: the next line is a line. */
    ck_assert(mm_tclient_cmd(&fx.c, "version\r\n", UNAUTH));
    free(req);
    ascii_stop(&fx);
}
END_TEST

START_TEST(test_ascii_start_errors)
{
    struct auth_fx fx;
    const char *bin = mm_tserver_bin(MM_TSERVER_TARGET);
    char *out = NULL;
    int st;

    ck_assert_ptr_nonnull(bin);
    fx_dir(&fx);
    {
        const char *argv[] = {bin,  "-u",        "root", "-Y", fx.authfile,
                              "-l", "127.0.0.1", "-p",   "0",  NULL};

        /* Missing file. */
        st = mm_tserver_run(bin, argv, 10000, &out);
        ck_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) != 0);
        ck_assert_ptr_nonnull(strstr(out, "Could not open authfile"));
        free(out);
        /* A line without a colon. */
        write_file(fx.authfile, "alice:secret\nnocolon\n");
        st = mm_tserver_run(bin, argv, 10000, &out);
        ck_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) != 0);
        ck_assert_ptr_nonnull(strstr(out, "malformed entry"));
        free(out);
    }
    {
        const char *argv[] = {bin, "-u", "root", "-Y", fx.authfile, "-B", "binary", NULL};

        st = mm_tserver_run(bin, argv, 10000, &out);
        ck_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 64);
        ck_assert_ptr_nonnull(strstr(out, "BINARY protocol"));
        free(out);
    }
    fx_cleanup(&fx);
}
END_TEST

static Suite *
auth_suite(void)
{
    Suite *s = suite_create("it_auth");
    TCase *tc = tcase_create("ascii");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_ascii_refused_before_auth);
    tcase_add_test(tc, test_ascii_right_password);
    tcase_add_test(tc, test_ascii_wrong_password);
    tcase_add_test(tc, test_ascii_token_in_pieces);
    tcase_add_test(tc, test_ascii_token_too_long);
    tcase_add_test(tc, test_ascii_start_errors);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(auth_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
