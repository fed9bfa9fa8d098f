/* LRU lists: order, the bump rate limit, and the tail walk that skips
 * referenced and locked items and prefers nothing but the tail. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "item_space.h"
#include "store/ht_int.h"
#include "store/item_int.h"
#include "store/lru_int.h"

static struct mm_ht *ht;
static struct mm_lru lru;
static mm_reltime_t dead_before; /* items with exptime in (0, this] are dead */

static bool
dead_cb(void *arg, const struct mm_item *it, mm_reltime_t now)
{
    mm_reltime_t e = mm_item_load_exptime(it);

    (void)arg;
    (void)now;
    return e != 0 && e <= dead_before;
}

static void
setup(void)
{
    tspace_init();
    ht = mm_ht_create(0, 4, 2, NULL, &tsp);
    mm_lru_init(&lru);
    dead_before = 0;
}

static void
teardown(void)
{
    mm_lru_fini(&lru);
    mm_ht_destroy(&ht);
    tspace_fini();
}

/* A linked item "k<i>" (exptime exp) at time now. */
static struct mm_item *
add(unsigned i, mm_reltime_t exp, mm_reltime_t now)
{
    char key[16];
    size_t nkey = (size_t)snprintf(key, sizeof(key), "k%u", i);
    uint8_t cls;
    struct mm_item *it = titem(mm_item_ntotal(nkey, 4, true), &cls);
    mm_hash_t h = mm_hash(key, nkey);

    mm_item_init(it, key, (uint8_t)nkey, cls, 0, true, 0, exp, 4, now);
    memcpy(mm_item_data(it), "data", 4);
    mm_ht_lock(ht, h);
    it->iflags |= MM_ITEM_F_LINKED;
    mm_ht_insert_locked(ht, it, h);
    mm_ht_unlock(ht, h);
    mm_lru_link(&lru, it, now);
    return it;
}

static struct mm_item *
evict(bool allow, unsigned max_walk, bool *reclaimed)
{
    struct mm_lru_walk w = {.now = 1000, .max_walk = max_walk, .evict = allow, .dead = dead_cb};

    return mm_lru_evict(&lru, ht, &w, reclaimed);
}

START_TEST(test_order)
{
    struct mm_item *a = add(1, 0, 10);
    struct mm_item *b = add(2, 0, 11);
    struct mm_item *c = add(3, 0, 12);
    bool rec;

    ck_assert_ptr_eq(lru.head, c);
    ck_assert_ptr_eq(lru.tail, a);
    ck_assert_uint_eq(lru.count, 3);
    ck_assert_uint_eq(lru.bytes, 3 * mm_item_total(a));
    ck_assert_ptr_eq(evict(true, 5, &rec), a);
    ck_assert(!rec);
    ck_assert(!(a->iflags & MM_ITEM_F_LINKED));
    ck_assert_uint_eq(mm_ht_count(ht), 2);
    ck_assert_ptr_eq(evict(true, 5, &rec), b);
    ck_assert_ptr_eq(evict(true, 5, &rec), c);
    ck_assert_ptr_null(evict(true, 5, &rec));
    ck_assert_ptr_null(lru.head);
    ck_assert_ptr_null(lru.tail);
    ck_assert_uint_eq(lru.count, 0);
    ck_assert_uint_eq(lru.bytes, 0);
    ck_assert_uint_eq(lru.c.evicted, 3);
    ck_assert_uint_eq(lru.c.evicted_unfetched, 3);
    ck_assert_uint_eq(lru.c.evicted_time, 1000 - 12);
    tfree(a);
    tfree(b);
    tfree(c);
}
END_TEST

START_TEST(test_unlink_middle)
{
    struct mm_item *a = add(1, 0, 10);
    struct mm_item *b = add(2, 0, 10);
    struct mm_item *c = add(3, 0, 10);

    mm_lru_unlink(&lru, b);
    ck_assert_ptr_eq(lru.head, c);
    ck_assert_ptr_eq(c->lru_next, a);
    ck_assert_ptr_eq(a->lru_prev, c);
    ck_assert_uint_eq(lru.count, 2);
    mm_lru_unlink(&lru, c);
    mm_lru_unlink(&lru, a);
    ck_assert_ptr_null(lru.head);
    ck_assert_ptr_null(lru.tail);
    tfree(a);
    tfree(b);
    tfree(c);
}
END_TEST

START_TEST(test_bump_rate_limit)
{
    struct mm_item *a = add(1, 0, 100);
    struct mm_item *b = add(2, 0, 100);

    ck_assert_ptr_eq(lru.tail, a);
    /* Less than a minute later: no move. */
    ck_assert(!mm_lru_bump(&lru, a, 100 + MM_LRU_BUMP_INTERVAL - 1));
    ck_assert_ptr_eq(lru.tail, a);
    ck_assert_uint_eq(mm_item_atime(a), 100);
    /* A minute later: to the head, atime updated. */
    ck_assert(mm_lru_bump(&lru, a, 100 + MM_LRU_BUMP_INTERVAL));
    ck_assert_ptr_eq(lru.head, a);
    ck_assert_ptr_eq(lru.tail, b);
    ck_assert_uint_eq(mm_item_atime(a), 160);
    /* And the limit starts again from the new atime. */
    ck_assert(!mm_lru_bump(&lru, a, 200));
    ck_assert(mm_lru_bump(&lru, b, 200));
    ck_assert_ptr_eq(lru.head, b);
    ck_assert_ptr_eq(lru.tail, a);
    mm_lru_unlink(&lru, a);
    mm_lru_unlink(&lru, b);
    tfree(a);
    tfree(b);
}
END_TEST

START_TEST(test_skip_referenced)
{
    struct mm_item *a = add(1, 0, 10);
    struct mm_item *b = add(2, 0, 10);
    bool rec;

    mm_item_ref(a); /* a reader holds the tail */
    ck_assert_ptr_eq(evict(true, 5, &rec), b);
    ck_assert_ptr_eq(lru.tail, a);
    ck_assert_uint_eq(lru.c.lrutail_reflocked, 1);
    /* Only a is left and it is still referenced. */
    ck_assert_ptr_null(evict(true, 5, &rec));
    ck_assert(a->iflags & MM_ITEM_F_LINKED);
    mm_item_unref(a);
    ck_assert_ptr_eq(evict(true, 5, &rec), a);
    tfree(a);
    tfree(b);
}
END_TEST

START_TEST(test_skip_locked)
{
    struct mm_item *a = add(1, 0, 10);
    struct mm_item *b = NULL;
    mm_hash_t ha = mm_hash("k1", 2);
    unsigned i;
    bool rec;

    /* A second item under a different stripe than a. */
    for (i = 2; b == NULL && i < 100; i++) {
        char key[16];
        size_t n = (size_t)snprintf(key, sizeof(key), "k%u", i);

        if (mm_ht_stripe(ht, mm_hash(key, n)) != mm_ht_stripe(ht, ha)) {
            b = add(i, 0, 10);
        }
    }
    ck_assert_ptr_nonnull(b);
    mm_ht_lock(ht, ha); /* as if a thread were working on key k1 */
    ck_assert_ptr_eq(evict(true, 5, &rec), b);
    ck_assert_ptr_null(evict(true, 5, &rec));
    mm_ht_unlock(ht, ha);
    ck_assert_ptr_eq(evict(true, 5, &rec), a);
    tfree(a);
    tfree(b);
}
END_TEST

START_TEST(test_reclaim_only_without_evict)
{
    struct mm_item *a = add(1, 0, 10);  /* live */
    struct mm_item *b = add(2, 50, 10); /* expires at 50 */
    struct mm_item *c = add(3, 0, 10);  /* live */
    bool rec;

    dead_before = 0;
    ck_assert_ptr_null(evict(false, 5, &rec));
    dead_before = 100;
    ck_assert_ptr_eq(evict(false, 5, &rec), b);
    ck_assert(rec);
    ck_assert_uint_eq(lru.c.reclaimed, 1);
    ck_assert_uint_eq(lru.c.expired_unfetched, 1);
    ck_assert_uint_eq(lru.c.evicted, 0);
    ck_assert_ptr_null(evict(false, 5, &rec));
    ck_assert_uint_eq(lru.count, 2);
    /* With eviction allowed the tail goes first. */
    ck_assert_ptr_eq(evict(true, 5, &rec), a);
    ck_assert(!rec);
    mm_lru_unlink(&lru, c);
    tfree(a);
    tfree(b);
    tfree(c);
}
END_TEST

START_TEST(test_walk_bound)
{
    struct mm_item *its[10];
    unsigned i;
    bool rec;

    for (i = 0; i < 10; i++) {
        its[i] = add(i, 0, 10);
        if (i < 4) {
            mm_item_ref(its[i]); /* the 4 oldest are busy */
        }
    }
    ck_assert_ptr_null(evict(true, 4, &rec));
    ck_assert_ptr_eq(evict(true, 5, &rec), its[4]);
    for (i = 0; i < 4; i++) {
        mm_item_unref(its[i]);
    }
    for (i = 0; i < 10; i++) {
        if (i != 4) {
            ck_assert_ptr_nonnull(evict(true, 1, &rec));
        }
    }
    ck_assert_uint_eq(lru.count, 0);
    for (i = 0; i < 10; i++) {
        tfree(its[i]);
    }
}
END_TEST

START_TEST(test_evicted_flags)
{
    struct mm_item *a = add(1, 77, 10);
    struct mm_item *b = add(2, 0, 10);
    bool rec;

    a->iflags |= MM_ITEM_F_FETCHED | MM_ITEM_F_ACTIVE;
    ck_assert_ptr_eq(evict(true, 5, &rec), a);
    ck_assert_uint_eq(lru.c.evicted, 1);
    ck_assert_uint_eq(lru.c.evicted_nonzero, 1);
    ck_assert_uint_eq(lru.c.evicted_active, 1);
    ck_assert_uint_eq(lru.c.evicted_unfetched, 0);
    ck_assert_ptr_eq(evict(true, 5, &rec), b);
    ck_assert_uint_eq(lru.c.evicted_nonzero, 1);
    ck_assert_uint_eq(lru.c.evicted_unfetched, 1);
    tfree(a);
    tfree(b);
}
END_TEST

static Suite *
lru_suite(void)
{
    Suite *s = suite_create("lru");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_order);
    tcase_add_test(tc, test_unlink_middle);
    tcase_add_test(tc, test_bump_rate_limit);
    tcase_add_test(tc, test_skip_referenced);
    tcase_add_test(tc, test_skip_locked);
    tcase_add_test(tc, test_reclaim_only_without_evict);
    tcase_add_test(tc, test_walk_bound);
    tcase_add_test(tc, test_evicted_flags);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(lru_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
