/* The crawler: expired and flushed items go back to free chunks, live ones
 * stay; tocrawl bounds a run; counters; the thread runs on its own and on
 * request. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mmem/item.h"
#include "mmem/store.h"
#include "store/item_int.h"
#include "store/slab_int.h"
#include "store/store_int.h"

static struct mm_clock clk;
static struct mm_store *st;

static void
setup(void)
{
    struct mm_store_cfg c;

    memset(&c, 0, sizeof(c));
    c.mem_limit = 64u << 20;
    c.evict = true;
    c.use_cas = true;
    c.hash_expand = true;
    c.hashpower = 2; /* few stripes: ThreadSanitizer tracks at most 64 held locks */
    c.clock = &clk;
    memset(&clk, 0, sizeof(clk));
    mm_clock_init_at(&clk, 1700000000, 1000);
    st = mm_store_create(&c);
    ck_assert_ptr_nonnull(st);
}

static void
teardown(void)
{
    mm_store_destroy(&st);
}

static void
put(unsigned i, size_t vlen, mm_reltime_t exp)
{
    char key[32];
    size_t n = (size_t)snprintf(key, sizeof(key), "k%05u", i);
    enum mm_store_rc rc;
    struct mm_item *it = mm_store_reserve(st, key, n, mm_hash(key, n), 0, exp, (uint32_t)vlen, &rc);

    ck_assert_ptr_nonnull(it);
    memset(mm_item_data(it), 'v', vlen);
    ck_assert_int_eq(mm_store_commit(st, it, MM_STORE_SET, 0, NULL), MM_STORE_OK);
}

static uint64_t
sum(const uint64_t *per_class)
{
    uint64_t s = 0;
    unsigned i;

    for (i = 0; i < st->nlru; i++) {
        s += __atomic_load_n(&per_class[i], __ATOMIC_RELAXED);
    }
    return s;
}

START_TEST(test_reclaims_expired_only)
{
    mm_reltime_t now = mm_clock_now(&clk);
    struct mm_store_stats ss;
    size_t before;
    unsigned i;

    for (i = 0; i < 1000; i++) {
        put(i, 50, i % 2 ? now + 5 : 0);
    }
    put(5000, 800000, now + 5); /* a large item too */
    ck_assert_uint_eq(mm_crawler_run(st, UINT64_MAX), 0);
    before = mm_slab_malloced(&st->slab);
    ck_assert_uint_gt(before, 1u << 20); /* one page and the large item */
    __atomic_fetch_add(&clk.now, 6, __ATOMIC_RELAXED);
    ck_assert_uint_eq(mm_crawler_run(st, UINT64_MAX), 501);
    mm_store_stats_get(st, &ss);
    ck_assert_uint_eq(ss.curr_items, 500);
    ck_assert_uint_eq(ss.reclaimed, 501);
    ck_assert_uint_eq(ss.expired_unfetched, 501);
    ck_assert_uint_eq(sum(st->crawler.reclaimed), 501);
    ck_assert_uint_eq(sum(st->crawler.checked), 1001 + 1001);
    /* Their chunks are free again: no new page for the same number. */
    for (i = 0; i < 500; i++) {
        put(10000 + i, 50, 0);
    }
    ck_assert_uint_eq(mm_slab_malloced(&st->slab), 1u << 20);
}
END_TEST

START_TEST(test_reclaims_flushed)
{
    unsigned i;

    for (i = 0; i < 100; i++) {
        put(i, 50, 0);
    }
    mm_store_flush(st, 0);
    __atomic_fetch_add(&clk.now, 1, __ATOMIC_RELAXED);
    ck_assert_uint_eq(mm_crawler_run(st, UINT64_MAX), 100);
}
END_TEST

START_TEST(test_tocrawl_bounds_a_run)
{
    mm_reltime_t now = mm_clock_now(&clk);
    unsigned i;

    for (i = 0; i < 1000; i++) {
        put(i, 50, now + 1);
    }
    __atomic_fetch_add(&clk.now, 2, __ATOMIC_RELAXED);
    mm_store_crawler_set_tocrawl(st, 100);
    ck_assert_uint_eq(mm_store_crawler_tocrawl(st), 100);
    ck_assert_uint_eq(mm_crawler_run(st, UINT64_MAX), 100);
    mm_store_crawler_set_tocrawl(st, 0);
    ck_assert_uint_eq(mm_crawler_run(st, UINT64_MAX), 900);
}
END_TEST

START_TEST(test_class_mask)
{
    mm_reltime_t now = mm_clock_now(&clk);
    unsigned small = mm_slab_class(&st->slab, mm_item_ntotal(6, 50, true, false));
    unsigned i;

    for (i = 0; i < 100; i++) {
        put(i, 50, now + 1);
        put(1000 + i, 2000, now + 1);
    }
    __atomic_fetch_add(&clk.now, 2, __ATOMIC_RELAXED);
    ck_assert_uint_eq(mm_crawler_run(st, (uint64_t)1 << small), 100);
    ck_assert_uint_eq(mm_crawler_run(st, UINT64_MAX), 100);
}
END_TEST

START_TEST(test_thread_on_request_and_schedule)
{
    mm_reltime_t now = mm_clock_now(&clk);
    struct timespec ts = {0, 2000000};
    struct mm_store_stats ss;
    unsigned i;

    for (i = 0; i < 1000; i++) {
        put(i, 50, now + 1);
    }
    __atomic_fetch_add(&clk.now, 2, __ATOMIC_RELAXED);
    ck_assert_int_eq(mm_store_start_threads(st), 0);
    ck_assert(mm_store_crawl(st, UINT64_MAX));
    for (i = 0; i < 2500; i++) {
        mm_store_stats_get(st, &ss);
        if (ss.curr_items == 0) {
            break;
        }
        nanosleep(&ts, NULL);
    }
    ck_assert_uint_eq(ss.curr_items, 0);
    ck_assert_uint_ge(__atomic_load_n(&st->crawler.starts, __ATOMIC_RELAXED), 1);
    /* Later items are found by the thread's own schedule, no request. */
    now = mm_clock_now(&clk);
    for (i = 0; i < 100; i++) {
        put(5000 + i, 50, now + 1);
    }
    __atomic_fetch_add(&clk.now, 5, __ATOMIC_RELAXED);
    for (i = 0; i < 2500; i++) {
        mm_store_stats_get(st, &ss);
        if (ss.curr_items == 0) {
            break;
        }
        nanosleep(&ts, NULL);
    }
    ck_assert_uint_eq(ss.curr_items, 0);
}
END_TEST

START_TEST(test_flush_wakes_the_schedule)
{
    struct timespec ts = {0, 2000000};
    struct mm_store_stats ss;
    unsigned i;

    ck_assert_int_eq(mm_store_start_threads(st), 0);
    for (i = 0; i < 2500 && __atomic_load_n(&st->crawler.starts, __ATOMIC_RELAXED) == 0; i++) {
        nanosleep(&ts, NULL);
    }
    /* The first run found nothing: the next is seconds away, and the test
     * clock does not move. A flush brings it forward. */
    for (i = 0; i < 100; i++) {
        put(i, 50, 0);
    }
    mm_store_flush(st, 0);
    for (i = 0; i < 2500; i++) {
        mm_store_stats_get(st, &ss);
        if (ss.curr_items == 0) {
            break;
        }
        nanosleep(&ts, NULL);
    }
    ck_assert_uint_eq(ss.curr_items, 0);
    ck_assert_uint_eq(ss.reclaimed, 100);
}
END_TEST

START_TEST(test_disabled_thread_idles)
{
    mm_reltime_t now = mm_clock_now(&clk);
    struct timespec ts = {0, 300000000};
    struct mm_store_stats ss;
    unsigned i;

    ck_assert(mm_store_crawler_set(st, false));
    for (i = 0; i < 100; i++) {
        put(i, 50, now + 1);
    }
    __atomic_fetch_add(&clk.now, 5, __ATOMIC_RELAXED);
    ck_assert_int_eq(mm_store_start_threads(st), 0);
    nanosleep(&ts, NULL);
    mm_store_stats_get(st, &ss);
    ck_assert_uint_eq(ss.curr_items, 100);
    ck_assert(!mm_store_crawler_set(st, true));
}
END_TEST

static Suite *
crawler_suite(void)
{
    Suite *s = suite_create("crawler");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_reclaims_expired_only);
    tcase_add_test(tc, test_reclaims_flushed);
    tcase_add_test(tc, test_tocrawl_bounds_a_run);
    tcase_add_test(tc, test_class_mask);
    tcase_add_test(tc, test_thread_on_request_and_schedule);
    tcase_add_test(tc, test_flush_wakes_the_schedule);
    tcase_add_test(tc, test_disabled_thread_idles);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(crawler_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
