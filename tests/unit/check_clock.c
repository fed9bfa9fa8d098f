/* check_clock: memcached's exptime rules at every boundary (0, negative,
 * exactly 30 days, one second more, absolute before start, at now, in the
 * future), the start-up offset, and that the clock never runs backwards. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "mmem/clock.h"

#define T0 ((time_t)1700000000) /* the Unix time the test clock "started" */
#define NOW 1000u               /* seconds since then */

static struct mm_clock clk;

static void
setup(void)
{
    mm_clock_init_at(&clk, T0, NOW);
}

START_TEST(test_init_offset)
{
    struct mm_clock c;
    time_t before = time(NULL);

    mm_clock_init(&c);
    /* memcached: uptime is 2 right after start, so now is never 0. */
    ck_assert_uint_eq(mm_clock_now(&c), MM_CLOCK_START_OFFSET);
    ck_assert(c.started >= before - MM_CLOCK_START_OFFSET);
    ck_assert(c.started <= time(NULL) - MM_CLOCK_START_OFFSET);
    ck_assert(mm_clock_unix(&c) >= before && mm_clock_unix(&c) <= time(NULL));
}
END_TEST

START_TEST(test_update_monotonic)
{
    mm_reltime_t before = mm_clock_now(&clk);

    /* The monotonic clock has not moved a whole second past the origin the
     * test set: now stays (never goes back). */
    mm_clock_update(&clk);
    ck_assert_uint_ge(mm_clock_now(&clk), before);
    ck_assert_uint_le(mm_clock_now(&clk), before + 5);
    /* An origin further back makes update move now forward. */
    clk.mono_start -= 100;
    mm_clock_update(&clk);
    ck_assert_uint_ge(mm_clock_now(&clk), before + 100);
}
END_TEST

START_TEST(test_unix)
{
    ck_assert(mm_clock_unix(&clk) == T0 + NOW);
}
END_TEST

START_TEST(test_zero_never)
{
    ck_assert_uint_eq(mm_clock_exptime(&clk, 0), 0);
    ck_assert(!mm_clock_expired(0, NOW));
    ck_assert(!mm_clock_expired(0, UINT32_MAX));
}
END_TEST

START_TEST(test_negative_expired)
{
    static const int64_t neg[] = {-1, -2, -100000, INT32_MIN, INT64_MIN};
    size_t i;

    for (i = 0; i < sizeof(neg) / sizeof(neg[0]); i++) {
        mm_reltime_t e = mm_clock_exptime(&clk, neg[i]);

        ck_assert_uint_eq(e, 1);
        ck_assert(mm_clock_expired(e, NOW));
    }
}
END_TEST

START_TEST(test_relative)
{
    ck_assert_uint_eq(mm_clock_exptime(&clk, 1), NOW + 1);
    ck_assert_uint_eq(mm_clock_exptime(&clk, 100), NOW + 100);
    /* Exactly 30 days is still relative. */
    ck_assert_uint_eq(mm_clock_exptime(&clk, MM_CLOCK_REALTIME_MAXDELTA),
                      NOW + MM_CLOCK_REALTIME_MAXDELTA);
    ck_assert(!mm_clock_expired(mm_clock_exptime(&clk, 1), NOW));
    ck_assert(mm_clock_expired(mm_clock_exptime(&clk, 1), NOW + 1));
}
END_TEST

START_TEST(test_absolute)
{
    /* One second over 30 days is an absolute time in 1970: expired. */
    ck_assert_uint_eq(mm_clock_exptime(&clk, MM_CLOCK_REALTIME_MAXDELTA + 1), 1);
    /* At or before the origin: 1 (expired, and not "never"). */
    ck_assert_uint_eq(mm_clock_exptime(&clk, (int64_t)T0), 1);
    ck_assert_uint_eq(mm_clock_exptime(&clk, (int64_t)T0 - 1), 1);
    /* Just after the origin but before now: in the past, expired. */
    ck_assert_uint_eq(mm_clock_exptime(&clk, (int64_t)T0 + 1), 1);
    ck_assert(mm_clock_expired(mm_clock_exptime(&clk, (int64_t)T0 + 500), NOW));
    /* Exactly now: expired (e <= now). */
    ck_assert_uint_eq(mm_clock_exptime(&clk, (int64_t)T0 + NOW), NOW);
    ck_assert(mm_clock_expired(mm_clock_exptime(&clk, (int64_t)T0 + NOW), NOW));
    /* In the future: alive until then. */
    ck_assert_uint_eq(mm_clock_exptime(&clk, (int64_t)T0 + NOW + 60), NOW + 60);
    ck_assert(!mm_clock_expired(NOW + 60, NOW));
    /* Far future saturates instead of wrapping to a small value. */
    ck_assert_uint_eq(mm_clock_exptime(&clk, INT64_MAX), UINT32_MAX);
}
END_TEST

static Suite *
clock_suite(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 10);
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_init_offset);
    tcase_add_test(tc, test_update_monotonic);
    tcase_add_test(tc, test_unix);
    tcase_add_test(tc, test_zero_never);
    tcase_add_test(tc, test_negative_expired);
    tcase_add_test(tc, test_relative);
    tcase_add_test(tc, test_absolute);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(clock_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
