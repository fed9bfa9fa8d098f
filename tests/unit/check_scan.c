/* check_scan: the span scanners accept exactly what memcached's safe_strto*
 * accept (sign quirks, white space, truncation to 32 bits), never read past
 * the span, and the formatters round-trip every edge value. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmem/scan.h"

/* Scan a C string through a heap copy of exactly its length, so ASan would
 * catch a read of the byte after the span. */
static bool
u64(const char *s, uint64_t *out)
{
    size_t n = strlen(s);
    char *copy = malloc(n ? n : 1);
    bool ok;

    memcpy(copy, s, n);
    ok = mm_scan_u64(copy, copy + n, out);
    free(copy);
    return ok;
}

static bool
u32(const char *s, uint32_t *out)
{
    size_t n = strlen(s);
    char *copy = malloc(n ? n : 1);
    bool ok;

    memcpy(copy, s, n);
    ok = mm_scan_u32(copy, copy + n, out);
    free(copy);
    return ok;
}

static bool
i64(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    char *copy = malloc(n ? n : 1);
    bool ok;

    memcpy(copy, s, n);
    ok = mm_scan_i64(copy, copy + n, out);
    free(copy);
    return ok;
}

static bool
i32(const char *s, int32_t *out)
{
    size_t n = strlen(s);
    char *copy = malloc(n ? n : 1);
    bool ok;

    memcpy(copy, s, n);
    ok = mm_scan_i32(copy, copy + n, out);
    free(copy);
    return ok;
}

START_TEST(test_u64_accepts)
{
    static const struct {
        const char *in;
        uint64_t want;
    } cases[] = {
        {"0", 0},
        {"1", 1},
        {"007", 7},
        {"+3", 3},
        {"-0", 0},
        {" 42", 42},
        {"\t2", 2},
        {"5\tx", 5},
        {"5 ", 5},
        {"5\r", 5},
        {"18446744073709551615", UINT64_MAX},
        {"00000000000000000000018446744073709551615", UINT64_MAX},
        {"-18446744073709551615", 1},
        {"-9223372036854775809", 9223372036854775807ull},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t v = 12345;

        ck_assert_msg(u64(cases[i].in, &v), "'%s' refused", cases[i].in);
        ck_assert_msg(v == cases[i].want, "'%s' -> %llu", cases[i].in, (unsigned long long)v);
    }
}
END_TEST

START_TEST(test_u64_refuses)
{
    static const char *const bad[] = {
        "",
        " ",
        "-",
        "+",
        "x",
        "1x",
        "0x10",
        "18446744073709551616",
        "99999999999999999999999",
        "-1",
        "-5",
        "-9223372036854775808",
        "--1",
        "+-1",
        "1.5",
        "1e3",
        "\0011", /* a control byte (not white space) before the digit */
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 777;

        ck_assert_msg(!u64(bad[i], &v), "'%s' accepted as %llu", bad[i], (unsigned long long)v);
        ck_assert_msg(v == 777, "'%s': output written on failure", bad[i]);
    }
}
END_TEST

START_TEST(test_u32_truncates_like_memcached)
{
    uint32_t v;

    ck_assert(u32("4294967295", &v));
    ck_assert_uint_eq(v, 4294967295u);
    ck_assert(u32("4294967297", &v));
    ck_assert_uint_eq(v, 1);
    ck_assert(u32("18446744073709551615", &v));
    ck_assert_uint_eq(v, 4294967295u);
    ck_assert(!u32("-1", &v));
    ck_assert(!u32("18446744073709551616", &v));
    ck_assert(!u32("12a", &v));
}
END_TEST

START_TEST(test_i64_range)
{
    int64_t v;

    ck_assert(i64("9223372036854775807", &v));
    ck_assert(v == INT64_MAX);
    ck_assert(i64("-9223372036854775808", &v));
    ck_assert(v == INT64_MIN);
    ck_assert(i64("-1", &v));
    ck_assert(v == -1);
    ck_assert(i64("+17", &v));
    ck_assert(v == 17);
    ck_assert(!i64("9223372036854775808", &v));
    ck_assert(!i64("-9223372036854775809", &v));
    ck_assert(!i64("", &v));
    ck_assert(!i64("-", &v));
    ck_assert(!i64("1-", &v));
}
END_TEST

START_TEST(test_i32_truncates_like_memcached)
{
    int32_t v;

    ck_assert(i32("-1", &v));
    ck_assert_int_eq(v, -1);
    ck_assert(i32("2147483647", &v));
    ck_assert_int_eq(v, INT32_MAX);
    /* memcached: an exptime of 4294967296 is 0, 2147483648 is negative. */
    ck_assert(i32("4294967296", &v));
    ck_assert_int_eq(v, 0);
    ck_assert(i32("2147483648", &v));
    ck_assert_int_eq(v, INT32_MIN);
    ck_assert(!i32("9223372036854775808", &v));
    ck_assert(!i32("abc", &v));
}
END_TEST

START_TEST(test_span_bounds)
{
    const char buf[] = "12345";
    uint64_t v;

    /* Only the span counts: the digits after end are not read. */
    ck_assert(mm_scan_u64(buf, buf + 2, &v));
    ck_assert_uint_eq(v, 12);
    ck_assert(!mm_scan_u64(buf, buf, &v));
    ck_assert(!mm_scan_u64(buf + 2, buf, &v));
    ck_assert(!mm_scan_u64(NULL, NULL, &v));
}
END_TEST

START_TEST(test_strict)
{
    const char *ok = "0123";
    const char *big = "18446744073709551616";
    const char *sp = " 1";
    const char *sign = "+1";
    uint64_t v;

    ck_assert(mm_scan_u64_strict(ok, ok + 4, &v));
    ck_assert_uint_eq(v, 123);
    ck_assert(!mm_scan_u64_strict(big, big + strlen(big), &v));
    ck_assert(!mm_scan_u64_strict(sp, sp + 2, &v));
    ck_assert(!mm_scan_u64_strict(sign, sign + 2, &v));
    ck_assert(!mm_scan_u64_strict(ok, ok, &v));
}
END_TEST

START_TEST(test_format)
{
    static const uint64_t uv[] = {0, 1, 9, 10, 99, 100, 4294967295u, 4294967296u, UINT64_MAX};
    static const int64_t iv[] = {0, -1, 1, INT64_MIN, INT64_MAX, -10, INT32_MIN};
    char buf[MM_U64_MAXLEN + 1];
    char want[32];
    size_t i, n;

    for (i = 0; i < sizeof(uv) / sizeof(uv[0]); i++) {
        uint64_t back;

        n = mm_u64toa(uv[i], buf);
        snprintf(want, sizeof(want), "%llu", (unsigned long long)uv[i]);
        ck_assert_uint_eq(n, strlen(want));
        ck_assert(memcmp(buf, want, n) == 0);
        ck_assert(mm_scan_u64(buf, buf + n, &back));
        ck_assert(back == uv[i]);
    }
    for (i = 0; i < sizeof(iv) / sizeof(iv[0]); i++) {
        int64_t back;

        n = mm_i64toa(iv[i], buf);
        snprintf(want, sizeof(want), "%lld", (long long)iv[i]);
        ck_assert_uint_eq(n, strlen(want));
        ck_assert(memcmp(buf, want, n) == 0);
        ck_assert(mm_scan_i64(buf, buf + n, &back));
        ck_assert(back == iv[i]);
    }
    ck_assert_uint_eq(mm_u64toa(UINT64_MAX, buf), MM_U64_MAXLEN);
    ck_assert_uint_eq(mm_i64toa(INT64_MIN, buf), MM_I64_MAXLEN);
}
END_TEST

static Suite *
scan_suite(void)
{
    Suite *s = suite_create("scan");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_u64_accepts);
    tcase_add_test(tc, test_u64_refuses);
    tcase_add_test(tc, test_u32_truncates_like_memcached);
    tcase_add_test(tc, test_i64_range);
    tcase_add_test(tc, test_i32_truncates_like_memcached);
    tcase_add_test(tc, test_span_bounds);
    tcase_add_test(tc, test_strict);
    tcase_add_test(tc, test_format);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(scan_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
