/* check_stats: summing per-thread blocks adds every field, reset zeroes
 * every field, and the increment macros touch only their own field. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mmem/stats.h"

#define NFIELDS (sizeof(struct mm_stats) / sizeof(uint64_t))

START_TEST(test_sum_and_reset)
{
    struct mm_stats a, b, sum;
    uint64_t *pa = (uint64_t *)&a;
    uint64_t *pb = (uint64_t *)&b;
    uint64_t *ps = (uint64_t *)&sum;
    size_t i;

    for (i = 0; i < NFIELDS; i++) {
        pa[i] = i + 1;
        pb[i] = 1000 * (i + 1);
    }
    memset(&sum, 0, sizeof(sum));
    mm_stats_sum(&sum, &a);
    mm_stats_sum(&sum, &b);
    for (i = 0; i < NFIELDS; i++) {
        ck_assert_uint_eq(ps[i], 1001 * (i + 1));
    }
    mm_stats_reset(&a);
    for (i = 0; i < NFIELDS; i++) {
        ck_assert_uint_eq(pa[i], 0);
    }
}
END_TEST

START_TEST(test_macros)
{
    struct mm_stats st;

    memset(&st, 0, sizeof(st));
    MM_STAT_INCR(&st, get_hits);
    MM_STAT_INCR(&st, get_hits);
    MM_STAT_ADD(&st, bytes_read, 40);
    ck_assert_uint_eq(st.get_hits, 2);
    ck_assert_uint_eq(st.bytes_read, 40);
    ck_assert_uint_eq(st.get_misses, 0);
    ck_assert_uint_eq(st.cmd_get, 0);
}
END_TEST

static Suite *
stats_suite(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_sum_and_reset);
    tcase_add_test(tc, test_macros);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(stats_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
