/* core/auth.c: loading "user:password" files, the constant-time comparison
 * and the parsing of ASCII auth tokens (-Y). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmem/auth.h"

static char path[64];

static struct mm_auth *
load_text(const char *text, char **errout)
{
    static char errbuf[512];
    FILE *err = fmemopen(errbuf, sizeof(errbuf), "w");
    struct mm_auth *a;
    int fd;
    FILE *f;

    snprintf(path, sizeof(path), "/tmp/mmem-check-auth-XXXXXX");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_ptr_nonnull(err);
    a = mm_auth_load(path, err);
    fclose(err);
    unlink(path);
    if (errout != NULL) {
        *errout = errbuf;
    }
    return a;
}

#define CHECK(a, u, p) mm_auth_check((a), (u), strlen(u), (p), strlen(p))
#define TOKEN(a, t) mm_auth_token((a), (t), strlen(t))

START_TEST(test_ct_equal)
{
    ck_assert(mm_auth_ct_equal("abc", 3, "abc", 3));
    ck_assert(!mm_auth_ct_equal("abc", 3, "abd", 3));
    ck_assert(!mm_auth_ct_equal("abc", 3, "ab", 2));
    ck_assert(!mm_auth_ct_equal("ab", 2, "abc", 3));
    ck_assert(!mm_auth_ct_equal("abcabc", 6, "abc", 3)); /* cyclic read is no match */
    ck_assert(mm_auth_ct_equal("", 0, "", 0));
    ck_assert(!mm_auth_ct_equal("", 0, "a", 1));
    ck_assert(!mm_auth_ct_equal("a", 1, "", 0));
}
END_TEST

START_TEST(test_load_and_check)
{
    struct mm_auth *a = load_text("alice:secret\n\nbob:p:w\r\ncarol:\n", NULL);

    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(mm_auth_count(a), 3);
    ck_assert(CHECK(a, "alice", "secret"));
    ck_assert(CHECK(a, "bob", "p:w"));
    ck_assert(CHECK(a, "carol", ""));
    ck_assert(!CHECK(a, "alice", "secre"));
    ck_assert(!CHECK(a, "alice", "secret\r"));
    ck_assert(!CHECK(a, "alice", "p:w"));
    ck_assert(!CHECK(a, "bob", "secret"));
    ck_assert(!CHECK(a, "dave", ""));
    mm_auth_free(&a);
    ck_assert_ptr_null(a);
    ck_assert(!CHECK(NULL, "alice", "secret"));
}
END_TEST

START_TEST(test_load_errors)
{
    char *err;
    struct mm_auth *a = load_text("alice:secret\nnocolon\n", &err);

    ck_assert_ptr_null(a);
    ck_assert_ptr_nonnull(strstr(err, "malformed entry"));
    a = load_text(":nouser\n", &err);
    ck_assert_ptr_null(a);
    a = load_text("", &err);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(mm_auth_count(a), 0);
    ck_assert(!CHECK(a, "", ""));
    mm_auth_free(&a);
    {
        char buf[256];
        FILE *f = fmemopen(buf, sizeof(buf), "w");

        ck_assert_ptr_null(mm_auth_load("/nonexistent/mmem-auth", f));
        fclose(f);
        ck_assert_ptr_nonnull(strstr(buf, "Could not open authfile [/nonexistent/mmem-auth]"));
    }
}
END_TEST

START_TEST(test_token)
{
    struct mm_auth *a = load_text("alice:secret\n", NULL);

    ck_assert_int_eq(TOKEN(a, "alice secret"), MM_AUTH_OK);
    ck_assert_int_eq(TOKEN(a, "  alice   secret  "), MM_AUTH_OK);
    ck_assert_int_eq(TOKEN(a, "alice secret extra words"), MM_AUTH_OK);
    ck_assert_int_eq(TOKEN(a, "alice wrong"), MM_AUTH_FAIL);
    ck_assert_int_eq(TOKEN(a, "Alice secret"), MM_AUTH_FAIL);
    ck_assert_int_eq(TOKEN(a, "alice\tsecret"), MM_AUTH_BAD_FORMAT); /* tab is no separator */
    ck_assert_int_eq(TOKEN(a, "alice"), MM_AUTH_BAD_FORMAT);
    ck_assert_int_eq(TOKEN(a, "alice "), MM_AUTH_BAD_FORMAT);
    ck_assert_int_eq(TOKEN(a, ""), MM_AUTH_BAD_FORMAT);
    ck_assert_int_eq(TOKEN(a, "   "), MM_AUTH_BAD_FORMAT);
    /* (buf, len): bytes past len are not read. */
    ck_assert_int_eq(mm_auth_token(a, "alice secretXYZ", 12), MM_AUTH_OK);
    mm_auth_free(&a);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_ct_equal);
    tcase_add_test(tc, test_load_and_check);
    tcase_add_test(tc, test_load_errors);
    tcase_add_test(tc, test_token);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
