/* check_alloc: the wrappers return usable, aligned, zeroed (calloc) memory,
 * realloc keeps contents, the allocator name matches the build, and an
 * impossible request aborts with a message; mm_map gives zeroed pages. */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mmem/alloc.h"

#ifdef MMEM_SANITIZERS
/* Let ASan's malloc fail like libc's (NULL) instead of reporting, so the
 * out-of-memory paths are tested in sanitizer builds too. */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}
#endif

START_TEST(test_basic)
{
    unsigned char *p = mm_malloc(100);
    unsigned char *z = mm_calloc(10, 10);
    size_t i;

    memset(p, 0xab, 100);
    for (i = 0; i < 100; i++) {
        ck_assert_uint_eq(z[i], 0);
    }
    p = mm_realloc(p, 100000);
    for (i = 0; i < 100; i++) {
        ck_assert_uint_eq(p[i], 0xab);
    }
    mm_free(p);
    mm_free(z);
    mm_free(NULL);
    /* Zero-size requests give a real pointer (NULL would mean failure). */
    p = mm_malloc(0);
    ck_assert_ptr_nonnull(p);
    mm_free(p);
}
END_TEST

START_TEST(test_aligned)
{
    size_t a;

    for (a = 1; a <= 4096; a *= 2) {
        void *p = mm_aligned_alloc(a, 33);

        ck_assert_uint_eq((uintptr_t)p % a, 0);
        memset(p, 1, 33);
        mm_free(p);
    }
}
END_TEST

START_TEST(test_map)
{
    size_t n = 3 * 4096 + 100;
    unsigned char *p = mm_map(n);
    size_t i;

    ck_assert_ptr_nonnull(p);
    for (i = 0; i < n; i++) {
        ck_assert_uint_eq(p[i], 0);
    }
    memset(p, 7, n);
    mm_unmap(p, n);
    mm_unmap(NULL, n); /* nothing to give back: no effect */
}
END_TEST

START_TEST(test_name)
{
#ifdef MMEM_WITH_JEMALLOC
    ck_assert_str_eq(mm_alloc_name(), "jemalloc");
#else
    ck_assert_str_eq(mm_alloc_name(), "libc");
#endif
}
END_TEST

START_TEST(test_oom_aborts)
{
    (void)mm_malloc(SIZE_MAX / 2);
}
END_TEST

START_TEST(test_calloc_overflow_aborts)
{
    (void)mm_calloc(SIZE_MAX / 2, 4);
}
END_TEST

static Suite *
alloc_suite(void)
{
    Suite *s = suite_create("alloc");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_basic);
    tcase_add_test(tc, test_aligned);
    tcase_add_test(tc, test_map);
    tcase_add_test(tc, test_name);
    suite_add_tcase(s, tc);
    {
        TCase *oom = tcase_create("oom");

        tcase_set_timeout(oom, 10);
        tcase_add_test_raise_signal(oom, test_oom_aborts, SIGABRT);
        tcase_add_test_raise_signal(oom, test_calloc_overflow_aborts, SIGABRT);
        suite_add_tcase(s, oom);
    }
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(alloc_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
