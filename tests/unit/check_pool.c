/* The page pool: the budget, pages taken and given back (their memory
 * zeroed and reused), the limit moved at run time. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "store/pool_int.h"

#define MB (1024u * 1024u)

static struct mm_pool pool;

static void
open_pool(size_t limit)
{
    ck_assert_int_eq(mm_pool_init(&pool, limit, MB, 3, 2 * MB), 0);
}

START_TEST(test_take_until_limit)
{
    uint32_t a;
    uint32_t b;
    uint32_t c;

    open_pool(3 * MB);
    a = mm_pool_take(&pool);
    b = mm_pool_take(&pool);
    c = mm_pool_take(&pool);
    ck_assert_uint_ne(a, MM_POOL_NONE);
    ck_assert_uint_ne(b, MM_POOL_NONE);
    ck_assert_uint_ne(c, MM_POOL_NONE);
    ck_assert_uint_eq(mm_pool_charged(&pool), 3 * MB);
    ck_assert_uint_eq(mm_pool_spare_pages(&pool), 0);
    /* The fourth would pass the limit: refused, nothing charged. */
    ck_assert_uint_eq(mm_pool_take(&pool), MM_POOL_NONE);
    ck_assert_uint_eq(mm_pool_charged(&pool), 3 * MB);
    /* Pages are cut from the arena in order. */
    ck_assert_ptr_eq(mm_pool_addr(&pool, b), mm_pool_addr(&pool, a) + pool.page_stride);
    ck_assert_uint_eq(mm_pool_index(&pool, mm_pool_addr(&pool, c) + 12345), c);
    mm_pool_fini(&pool);
}
END_TEST

START_TEST(test_give_back_zeroes_and_reuses)
{
    uint32_t a;
    uint32_t again;
    char *p;
    size_t i;

    open_pool(2 * MB);
    a = mm_pool_take(&pool);
    (void)mm_pool_take(&pool);
    p = mm_pool_addr(&pool, a);
    memset(p, 0xab, MB);
    mm_pool_give(&pool, a);
    ck_assert_uint_eq(mm_pool_charged(&pool), MB);
    ck_assert_uint_eq(mm_pool_pooled(&pool), 1);
    ck_assert_uint_eq(mm_pool_spare_pages(&pool), 1);
    /* The page comes back before any new one, and reads as zeros: the
     * clock sweeps rely on a fresh chunk's count being 0. */
    again = mm_pool_take(&pool);
    ck_assert_uint_eq(again, a);
    ck_assert_uint_eq(mm_pool_pooled(&pool), 0);
    for (i = 0; i < MB; i += 4096) {
        ck_assert_int_eq(p[i], 0);
    }
    ck_assert_int_eq(p[MB - 1], 0);
    mm_pool_fini(&pool);
}
END_TEST

START_TEST(test_charge_bytes)
{
    open_pool(2 * MB);
    ck_assert(mm_pool_charge(&pool, MB + 4096));
    ck_assert(!mm_pool_charge(&pool, MB));
    /* A page does not fit beside it either. */
    ck_assert_uint_eq(mm_pool_take(&pool), MM_POOL_NONE);
    mm_pool_uncharge(&pool, MB + 4096);
    ck_assert_uint_eq(mm_pool_charged(&pool), 0);
    ck_assert_uint_ne(mm_pool_take(&pool), MM_POOL_NONE);
    mm_pool_fini(&pool);
}
END_TEST

START_TEST(test_limit_moves)
{
    uint32_t pg[4];
    unsigned i;

    open_pool(4 * MB);
    for (i = 0; i < 4; i++) {
        pg[i] = mm_pool_take(&pool);
        ck_assert_uint_ne(pg[i], MM_POOL_NONE);
    }
    /* cache_memlimit lowered: the excess is what the mover must give. */
    mm_pool_set_limit(&pool, 2 * MB);
    ck_assert_uint_eq(mm_pool_limit(&pool), 2 * MB);
    ck_assert_uint_eq(mm_pool_excess(&pool), 2 * MB);
    ck_assert_uint_eq(mm_pool_spare_pages(&pool), 0);
    mm_pool_give(&pool, pg[0]);
    mm_pool_give(&pool, pg[1]);
    ck_assert_uint_eq(mm_pool_excess(&pool), 0);
    ck_assert_uint_eq(mm_pool_take(&pool), MM_POOL_NONE);
    /* Raised again: room for more. */
    mm_pool_set_limit(&pool, 3 * MB);
    ck_assert_uint_ne(mm_pool_take(&pool), MM_POOL_NONE);
    mm_pool_fini(&pool);
}
END_TEST

START_TEST(test_no_limit)
{
    open_pool(0);
    ck_assert_uint_eq(mm_pool_spare_pages(&pool), UINT64_MAX);
    ck_assert_uint_ne(mm_pool_take(&pool), MM_POOL_NONE);
    ck_assert_uint_eq(mm_pool_excess(&pool), 0);
    mm_pool_fini(&pool);
}
END_TEST

static Suite *
pool_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_take_until_limit);
    tcase_add_test(tc, test_give_back_zeroes_and_reuses);
    tcase_add_test(tc, test_charge_bytes);
    tcase_add_test(tc, test_limit_moves);
    tcase_add_test(tc, test_no_limit);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(pool_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
