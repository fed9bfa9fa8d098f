/* CLOCK eviction: the hand's order, second chance for accessed items, the
 * bump rate limit, and the sweep skipping free chunks, referenced, unlinked
 * and locked items. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "item_space.h"
#include "store/ht_int.h"
#include "store/item_int.h"
#include "store/lru_int.h"

/* Every test item lands in this class of the test slab (item_space.h). */
#define CLS 1u

static struct mm_ht *ht;
static struct mm_lru lru;
static mm_reltime_t dead_before; /* items with exptime in (0, this] are dead */
static unsigned released;        /* items the sweep freed */

static bool
dead_cb(void *arg, const struct mm_item *it, mm_reltime_t now)
{
    mm_reltime_t e = mm_item_load_exptime(it);

    (void)arg;
    (void)now;
    return e != 0 && e <= dead_before;
}

static uint64_t
span_cb(void *arg)
{
    (void)arg;
    return mm_slab_carved(&tslab, CLS);
}

static bool
chunk_fn(void *arg, void *p)
{
    *(void **)arg = p;
    return true;
}

/* Chunk i of the class, NULL if not carved. */
static struct mm_item *
chunk_cb(void *arg, uint64_t i)
{
    void *p = NULL;

    (void)arg;
    mm_slab_chunk_with(&tslab, CLS, i, chunk_fn, &p);
    return p;
}

static struct mm_item *
grab_cb(void *arg, uint64_t i, bool *busy)
{
    struct mm_item *it = chunk_cb(arg, i);

    if (it == NULL) {
        return NULL;
    }
    if (mm_item_pin(it)) {
        return it;
    }
    *busy = mm_item_refcnt(it) > 1;
    return NULL;
}

static void
release_cb(void *arg, struct mm_item *it)
{
    (void)arg;
    (void)it;
    released++;
}

static void
setup(void)
{
    tspace_init();
    ht = mm_ht_create(0, 4, 2, NULL, &tsp);
    mm_lru_init(&lru);
    dead_before = 0;
    released = 0;
}

static void
teardown(void)
{
    mm_lru_fini(&lru);
    mm_ht_destroy(&ht);
    tspace_fini();
}

/* Chunks of the class carved so far. */
static uint64_t
carved(void)
{
    struct mm_slab_class_stats cs;

    mm_slab_class_stats(&tslab, CLS, &cs);
    return cs.npages * cs.perslab - cs.free_end;
}

/* An item "k<i>" (exptime exp) at time now, in the next chunk; linked. */
static struct mm_item *
add_unlinked(unsigned i, mm_reltime_t exp, mm_reltime_t now)
{
    char key[16];
    size_t nkey = (size_t)snprintf(key, sizeof(key), "k%u", i);
    uint8_t cls;
    struct mm_item *it = titem(mm_item_ntotal(nkey, 4, true, false), &cls);

    /* Fresh chunks, in carve order: chunk i is the i-th item added. */
    ck_assert_uint_eq(cls, CLS);
    ck_assert_ptr_eq(it, chunk_cb(NULL, carved() - 1));
    mm_item_init(it, key, (uint8_t)nkey, cls, true, 0, exp, 4, now);
    memcpy(mm_item_data(it), "data", 4);
    return it;
}

static struct mm_item *
add(unsigned i, mm_reltime_t exp, mm_reltime_t now)
{
    struct mm_item *it = add_unlinked(i, exp, now);
    mm_hash_t h = mm_hash(mm_item_key(it), it->nkey);

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
    struct mm_lru_walk w = {.now = 1000,
                            .max_walk = max_walk,
                            .evict = allow,
                            .dead = dead_cb,
                            .span = span_cb,
                            .grab = grab_cb,
                            .release = release_cb};

    return mm_lru_evict(&lru, ht, &w, reclaimed);
}

START_TEST(test_order)
{
    struct mm_item *a = add(1, 0, 10);
    struct mm_item *b = add(2, 0, 11);
    struct mm_item *c = add(3, 0, 12);
    bool rec;

    ck_assert_uint_eq(lru.count, 3);
    ck_assert_uint_eq(lru.bytes, 3 * mm_item_total(a));
    ck_assert_ptr_eq(evict(true, 5, &rec), a);
    ck_assert(!rec);
    ck_assert(!(a->iflags & MM_ITEM_F_LINKED));
    /* The victim is raw memory: no sweep may touch it again. */
    ck_assert_uint_eq(mm_item_refcnt(a), 0);
    ck_assert_uint_eq(mm_ht_count(ht), 2);
    ck_assert_ptr_eq(evict(true, 5, &rec), b);
    ck_assert_ptr_eq(evict(true, 5, &rec), c);
    /* Only free chunks left. */
    ck_assert_ptr_null(evict(true, 5, &rec));
    ck_assert_uint_eq(lru.count, 0);
    ck_assert_uint_eq(lru.bytes, 0);
    ck_assert_uint_eq(lru.c.evicted, 3);
    ck_assert_uint_eq(lru.c.evicted_unfetched, 3);
    ck_assert_uint_eq(lru.c.evicted_time, 1000 - 12);
    ck_assert_uint_eq(mm_ht_count(ht), 0);
}
END_TEST

START_TEST(test_second_chance)
{
    struct mm_item *a = add(1, 0, 10);
    struct mm_item *b = add(2, 0, 10);
    struct mm_item *c = add(3, 0, 10);
    bool rec;

    mm_lru_bump(&lru, a, 20);
    ck_assert(a->iflags & MM_ITEM_F_ACCESSED);
    /* a was hit: spared once, its bit cleared; b goes. */
    ck_assert_ptr_eq(evict(true, 5, &rec), b);
    ck_assert(!(a->iflags & MM_ITEM_F_ACCESSED));
    ck_assert(a->iflags & MM_ITEM_F_LINKED);
    /* The hand moves on from b: c, then a (no longer protected). */
    ck_assert_ptr_eq(evict(true, 5, &rec), c);
    ck_assert_ptr_eq(evict(true, 5, &rec), a);
}
END_TEST

START_TEST(test_two_levels)
{
    struct mm_item *a = add(1, 0, 10);
    struct mm_item *b = add(2, 0, 10);
    struct mm_item *c = add(3, 0, 10);
    struct mm_item *d = add(4, 0, 10);
    bool rec;

    /* a is read twice, b once: a outlives b by a turn of the hand. */
    mm_lru_bump(&lru, a, 20);
    mm_lru_bump(&lru, a, 21);
    mm_lru_bump(&lru, b, 20);
    ck_assert(a->iflags & MM_ITEM_F_REUSED);
    ck_assert(!(b->iflags & MM_ITEM_F_REUSED));
    ck_assert_ptr_eq(evict(true, 5, &rec), c);
    ck_assert(a->iflags & MM_ITEM_F_ACCESSED);
    ck_assert(!(a->iflags & MM_ITEM_F_REUSED));
    ck_assert(!(b->iflags & MM_ITEM_F_ACCESSED));
    ck_assert_ptr_eq(evict(true, 5, &rec), d);
    ck_assert_ptr_eq(evict(true, 5, &rec), b);
    ck_assert_ptr_eq(evict(true, 5, &rec), a);
}
END_TEST

START_TEST(test_all_accessed_still_yields)
{
    struct mm_item *its[4];
    unsigned i;
    bool rec;

    for (i = 0; i < 4; i++) {
        its[i] = add(i, 0, 10);
        mm_lru_bump(&lru, its[i], 10);
    }
    /* A whole turn only clears bits; the second turn takes the first. */
    ck_assert_ptr_eq(evict(true, 5, &rec), its[0]);
    for (i = 1; i < 4; i++) {
        ck_assert(!(its[i]->iflags & MM_ITEM_F_ACCESSED));
    }
}
END_TEST

START_TEST(test_spare_limit)
{
    unsigned i;
    bool rec;
    struct mm_item *first = NULL;
    struct mm_item *got;

    /* More accessed items in a row than one sweep spares: the sweep
     * stops sparing and takes the next one instead of failing. */
    for (i = 0; i < 300; i++) {
        struct mm_item *it = add(i, 0, 10);

        if (first == NULL) {
            first = it;
        }
        mm_lru_bump(&lru, it, 10);
    }
    got = evict(true, 5, &rec);
    ck_assert_ptr_nonnull(got);
    ck_assert_ptr_eq(got, chunk_cb(NULL, 256));
    ck_assert(!(first->iflags & MM_ITEM_F_ACCESSED));
}
END_TEST

START_TEST(test_bump_rate_limit)
{
    struct mm_item *a = add(1, 0, 100);

    /* Less than a minute later: marked, atime kept. */
    ck_assert(!mm_lru_bump(&lru, a, 100 + MM_LRU_BUMP_INTERVAL - 1));
    ck_assert(a->iflags & MM_ITEM_F_ACCESSED);
    ck_assert_uint_eq(mm_item_atime(a), 100);
    /* A minute later: atime refreshed. */
    ck_assert(mm_lru_bump(&lru, a, 100 + MM_LRU_BUMP_INTERVAL));
    ck_assert_uint_eq(mm_item_atime(a), 160);
    /* And the limit starts again from the new atime. */
    ck_assert(!mm_lru_bump(&lru, a, 200));
    ck_assert_uint_eq(mm_item_atime(a), 160);
}
END_TEST

START_TEST(test_skip_referenced)
{
    struct mm_item *a = add(1, 0, 10);
    struct mm_item *b = add(2, 0, 10);
    bool rec;

    mm_item_ref(a); /* a reader holds a */
    ck_assert_ptr_eq(evict(true, 5, &rec), b);
    ck_assert_uint_eq(lru.c.lrutail_reflocked, 1);
    ck_assert_uint_eq(mm_item_refcnt(a), 2);
    /* Only a is left and it is still referenced. */
    ck_assert_ptr_null(evict(true, 5, &rec));
    ck_assert(mm_item_unref(a) == false);
    ck_assert_ptr_eq(evict(true, 5, &rec), a);
}
END_TEST

START_TEST(test_skip_unlinked)
{
    struct mm_item *a = add_unlinked(1, 0, 10); /* reserved, being filled */
    struct mm_item *b = add(2, 0, 10);
    bool rec;

    ck_assert_ptr_eq(evict(true, 5, &rec), b);
    /* The owner's reference is intact, and nothing was freed. */
    ck_assert_uint_eq(mm_item_refcnt(a), 1);
    ck_assert_uint_eq(released, 0);
    ck_assert_ptr_null(evict(true, 5, &rec));
}
END_TEST

START_TEST(test_skip_locked)
{
    struct mm_item *a = add(1, 0, 10);
    struct mm_item *b = add(2, 0, 10);
    mm_hash_t ha = mm_hash(mm_item_key(a), a->nkey);
    mm_hash_t hb = mm_hash(mm_item_key(b), b->nkey);
    bool rec;

    if (mm_ht_stripe(ht, ha) == mm_ht_stripe(ht, hb)) {
        return; /* keys share a stripe in this table; nothing to show */
    }
    mm_ht_lock(ht, ha);
    ck_assert_ptr_eq(evict(true, 5, &rec), b);
    ck_assert_uint_eq(mm_item_refcnt(a), 1);
    ck_assert_ptr_null(evict(true, 5, &rec));
    mm_ht_unlock(ht, ha);
    ck_assert_ptr_eq(evict(true, 5, &rec), a);
}
END_TEST

START_TEST(test_reclaim_only_without_evict)
{
    struct mm_item *a = add(1, 0, 10);  /* live */
    struct mm_item *b = add(2, 50, 10); /* dead once dead_before >= 50 */
    bool rec;

    ck_assert_ptr_null(evict(false, 5, &rec));
    dead_before = 100;
    ck_assert_ptr_eq(evict(false, 5, &rec), b);
    ck_assert(rec);
    ck_assert_uint_eq(lru.c.reclaimed, 1);
    ck_assert_uint_eq(lru.c.expired_unfetched, 1);
    ck_assert_uint_eq(lru.c.evicted, 0);
    ck_assert_ptr_null(evict(false, 5, &rec));
    ck_assert(a->iflags & MM_ITEM_F_LINKED);
}
END_TEST

START_TEST(test_walk_bound)
{
    unsigned i;
    bool rec;

    for (i = 0; i < 10; i++) {
        struct mm_item *it = add(i, 0, 10);

        mm_item_ref(it); /* all in use */
    }
    (void)add(10, 0, 10);
    /* Four referenced items looked at, then the sweep gives up. */
    ck_assert_ptr_null(evict(true, 4, &rec));
    ck_assert_uint_eq(lru.c.lrutail_reflocked, 4);
    ck_assert_uint_eq(lru.hand, 4);
    /* With room enough it reaches the free one. */
    ck_assert_ptr_eq(evict(true, 20, &rec), chunk_cb(NULL, 10));
}
END_TEST

START_TEST(test_evicted_flags)
{
    struct mm_item *a = add(1, 30, 10);
    bool rec;

    a->iflags |= MM_ITEM_F_FETCHED | MM_ITEM_F_ACTIVE;
    ck_assert_ptr_eq(evict(true, 5, &rec), a);
    ck_assert_uint_eq(lru.c.evicted, 1);
    ck_assert_uint_eq(lru.c.evicted_nonzero, 1);
    ck_assert_uint_eq(lru.c.evicted_unfetched, 0);
    ck_assert_uint_eq(lru.c.evicted_active, 1);
}
END_TEST

START_TEST(test_hand_atime)
{
    struct mm_lru_walk w = {.span = span_cb, .grab = grab_cb, .release = release_cb};
    mm_reltime_t t = 0;
    bool rec;

    ck_assert(!mm_lru_hand_atime(&lru, &w, &t));
    (void)add(1, 0, 10);
    (void)add(2, 0, 20);
    ck_assert(mm_lru_hand_atime(&lru, &w, &t));
    ck_assert_uint_eq(t, 10);
    (void)evict(true, 5, &rec);
    ck_assert(mm_lru_hand_atime(&lru, &w, &t));
    ck_assert_uint_eq(t, 20);
}
END_TEST

static Suite *
lru_suite(void)
{
    Suite *s = suite_create("lru");
    TCase *tc = tcase_create("clock");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_order);
    tcase_add_test(tc, test_second_chance);
    tcase_add_test(tc, test_two_levels);
    tcase_add_test(tc, test_all_accessed_still_yields);
    tcase_add_test(tc, test_spare_limit);
    tcase_add_test(tc, test_bump_rate_limit);
    tcase_add_test(tc, test_skip_referenced);
    tcase_add_test(tc, test_skip_unlinked);
    tcase_add_test(tc, test_skip_locked);
    tcase_add_test(tc, test_reclaim_only_without_evict);
    tcase_add_test(tc, test_walk_bound);
    tcase_add_test(tc, test_evicted_flags);
    tcase_add_test(tc, test_hand_atime);
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
