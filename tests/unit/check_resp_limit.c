/* check_resp_limit: the read_buf_mem_limit object count, with the figures
 * memcached 1.6.18 showed (1 MB over 32 threads: one read buffer and one
 * bundle of 13 responses; over 4 threads: 15 bundles). */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "mmem/resp_limit.h"

#define MB (1024u * 1024u)

static unsigned
take_all(struct mm_resp_limit *l)
{
    unsigned n = 0;

    while (n < 100000 && mm_resp_limit_take(l)) {
        n++;
    }
    return n;
}

START_TEST(test_off)
{
    struct mm_resp_limit l;

    mm_resp_limit_init(&l, 0, 4);
    ck_assert(!mm_resp_limit_on(&l));
    ck_assert_uint_eq(take_all(&l), 100000);
    ck_assert(mm_resp_limit_take_rbuf(&l));
}
END_TEST

START_TEST(test_cap_per_thread)
{
    struct mm_resp_limit l;

    mm_resp_limit_init(&l, MB, 32);
    ck_assert_uint_eq(l.cap, 2);
    mm_resp_limit_init(&l, MB, 4);
    ck_assert_uint_eq(l.cap, 16);
    /* Under one object's worth there is still one. */
    mm_resp_limit_init(&l, MB, 100);
    ck_assert_uint_eq(l.cap, 1);
}
END_TEST

START_TEST(test_rbuf_and_bundles_share)
{
    struct mm_resp_limit l;

    mm_resp_limit_init(&l, MB, 32);
    ck_assert(mm_resp_limit_take_rbuf(&l));
    ck_assert_uint_eq(take_all(&l), 13);
    ck_assert(!mm_resp_limit_take_rbuf(&l));
    mm_resp_limit_put(&l, 13);
    /* The last bundle is kept: a second reader still finds no room. */
    ck_assert_uint_eq(l.bundles, 1);
    mm_resp_limit_put_rbuf(&l);
    ck_assert(mm_resp_limit_take_rbuf(&l));
    ck_assert(!mm_resp_limit_take_rbuf(&l));
    ck_assert_uint_eq(take_all(&l), 13);
}
END_TEST

START_TEST(test_many_bundles)
{
    struct mm_resp_limit l;

    mm_resp_limit_init(&l, MB, 4);
    ck_assert(mm_resp_limit_take_rbuf(&l));
    ck_assert_uint_eq(take_all(&l), 195);
    mm_resp_limit_put(&l, 100);
    ck_assert_uint_eq(l.bundles, 8);
    ck_assert_uint_eq(take_all(&l), 100);
    mm_resp_limit_put(&l, 1000);
    ck_assert_uint_eq(l.resps, 0);
    ck_assert_uint_eq(l.bundles, 1);
}
END_TEST

START_TEST(test_one_object)
{
    struct mm_resp_limit l;

    /* One object: the read buffer takes it and no response fits. */
    mm_resp_limit_init(&l, MB, 64);
    ck_assert(mm_resp_limit_take_rbuf(&l));
    ck_assert(!mm_resp_limit_take(&l));
    mm_resp_limit_put_rbuf(&l);
    ck_assert(mm_resp_limit_take(&l));
}
END_TEST

static Suite *
resp_limit_suite(void)
{
    Suite *s = suite_create("resp_limit");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_off);
    tcase_add_test(tc, test_cap_per_thread);
    tcase_add_test(tc, test_rbuf_and_bundles_share);
    tcase_add_test(tc, test_many_bundles);
    tcase_add_test(tc, test_one_object);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(resp_limit_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
