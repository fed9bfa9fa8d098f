/* The page mover: emptying a page (items rescued into free chunks, or
 * evicted, a reader's item kept until it lets go), the steal that makes
 * room for any store, the automove policy after a shift in sizes, slabs
 * reassign's answers, cache_memlimit and temporary_ttl. */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmem/item.h"
#include "mmem/store.h"
#include "store/item_int.h"
#include "store/lru_int.h"
#include "store/slab_int.h"
#include "store/store_int.h"

#define MB (1024u * 1024u)

static struct mm_clock clk;
static struct mm_store *st;

static void
open_store(size_t limit, int automove, uint32_t temporary_ttl, bool reassign_off)
{
    struct mm_store_cfg c;

    memset(&c, 0, sizeof(c));
    c.mem_limit = limit;
    c.evict = true;
    c.use_cas = true;
    c.hash_expand = true;
    c.hashpower = 2; /* few stripes: ThreadSanitizer tracks at most 64 held locks */
    c.clock = &clk;
    c.slab_automove = automove;
    c.slab_automove_window = 3;
    c.temporary_ttl = temporary_ttl;
    c.reassign_off = reassign_off;
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
advance(unsigned secs)
{
    __atomic_fetch_add(&clk.now, secs, __ATOMIC_RELAXED);
}

/* Value bytes derived from the key, so a wrong or torn copy shows. */
static void
fill_value(char *v, size_t n, const char *key)
{
    size_t nkey = strlen(key);
    size_t i;

    for (i = 0; i < n; i++) {
        v[i] = (char)(key[i % nkey] ^ (char)i);
    }
}

static enum mm_store_rc
put(const char *key, size_t vlen, mm_reltime_t exp)
{
    enum mm_store_rc rc;
    struct mm_item *it = mm_store_reserve(st, key, strlen(key), mm_hash(key, strlen(key)), 0, exp,
                                          (uint32_t)vlen, &rc);

    if (it == NULL) {
        return rc;
    }
    fill_value(mm_item_data(it), vlen, key);
    return mm_store_commit(st, it, MM_STORE_SET, 0, NULL);
}

/* 1: present and right; 0: absent; the test fails on a wrong value. */
static int
check(const char *key, size_t vlen)
{
    struct mm_item *it =
        mm_store_get(st, key, strlen(key), mm_hash(key, strlen(key)), false, 0, NULL);
    char *want;

    if (it == NULL) {
        return 0;
    }
    want = malloc(vlen);
    fill_value(want, vlen, key);
    ck_assert_uint_eq(mm_item_vlen(it), vlen);
    ck_assert_int_eq(memcmp(mm_item_cdata(it), want, vlen), 0);
    free(want);
    mm_store_unref(st, it);
    return 1;
}

static struct mm_item *
ref(const char *key)
{
    return mm_store_get(st, key, strlen(key), mm_hash(key, strlen(key)), false, 0, NULL);
}

static const char *
key_of(unsigned i)
{
    static char k[32];

    snprintf(k, sizeof(k), "key:%07u", i);
    return k;
}

static unsigned
cls_of(size_t vlen)
{
    return mm_slab_class(&st->slab, mm_item_ntotal(11, vlen, true, false));
}

static uint64_t
pages_of(unsigned cls)
{
    struct mm_slab_class_stats cs;

    mm_slab_class_stats(&st->slab, cls, &cs);
    return cs.npages;
}

static uint64_t
perslab(unsigned cls)
{
    return st->slab.cls[cls].perslab;
}

static uint64_t
returned(void)
{
    return __atomic_load_n(&st->slab.pages_returned, __ATOMIC_RELAXED);
}

START_TEST(test_move_rescues)
{
    unsigned cls;
    unsigned n;
    unsigned i;
    unsigned present = 0;

    open_store(64 * MB, 0, 0, false);
    cls = cls_of(100);
    n = (unsigned)(3 * perslab(cls));
    for (i = 0; i < n; i++) {
        ck_assert_int_eq(put(key_of(i), 100, 0), MM_STORE_OK);
    }
    ck_assert_uint_eq(pages_of(cls), 3);
    /* Room elsewhere in the class: every other item goes. */
    for (i = 0; i < n; i += 2) {
        ck_assert_int_eq(mm_store_delete(st, key_of(i), 11, mm_hash(key_of(i), 11), 0),
                         MM_STORE_OK);
    }
    ck_assert(mm_mover_move_page(st, cls, true, true));
    ck_assert_uint_eq(pages_of(cls), 2);
    ck_assert_uint_eq(returned(), 1);
    ck_assert_uint_eq(mm_slab_malloced(&st->slab), 2 * MB);
    /* Nothing was lost: the page's live items were copied. */
    for (i = 1; i < n; i += 2) {
        present += (unsigned)check(key_of(i), 100);
    }
    ck_assert_uint_eq(present, n / 2);
    ck_assert_uint_gt(st->mover.s.rescues, 0);
    ck_assert_uint_eq(st->mover.s.evictions_nomem, 0);
}
END_TEST

START_TEST(test_move_evicts)
{
    unsigned cls;
    unsigned n;
    unsigned i;
    unsigned present = 0;
    struct mm_store_stats ss;

    open_store(64 * MB, 0, 0, false);
    cls = cls_of(100);
    n = (unsigned)(2 * perslab(cls));
    for (i = 0; i < n; i++) {
        ck_assert_int_eq(put(key_of(i), 100, 0), MM_STORE_OK);
    }
    ck_assert(mm_mover_move_page(st, cls, false, true));
    ck_assert_uint_eq(pages_of(cls), 1);
    for (i = 0; i < n; i++) {
        present += (unsigned)check(key_of(i), 100);
    }
    ck_assert_uint_eq(present, perslab(cls));
    ck_assert_uint_eq(st->mover.s.evictions_nomem, perslab(cls));
    mm_store_stats_get(st, &ss);
    ck_assert_uint_eq(ss.evictions, perslab(cls));
    ck_assert_uint_eq(ss.curr_items, perslab(cls));
}
END_TEST

START_TEST(test_move_waits_for_reader)
{
    unsigned cls;
    unsigned n;
    unsigned i;
    struct mm_item *held;
    char want[100];

    open_store(64 * MB, 0, 0, false);
    cls = cls_of(100);
    n = (unsigned)(2 * perslab(cls));
    for (i = 0; i < n; i++) {
        ck_assert_int_eq(put(key_of(i), 100, 0), MM_STORE_OK);
    }
    /* The first item lies in the page under the hand (chunk 0). */
    held = ref(key_of(0));
    ck_assert_ptr_nonnull(held);
    ck_assert(!mm_mover_move_page(st, cls, false, true));
    ck_assert_uint_eq(returned(), 0);
    ck_assert_uint_ge(st->mover.s.busy_items, 1);
    /* The reader still reads its bytes; the table no longer has them. */
    fill_value(want, sizeof(want), key_of(0));
    ck_assert_int_eq(memcmp(mm_item_cdata(held), want, sizeof(want)), 0);
    ck_assert_int_eq(check(key_of(0), 100), 0);
    /* After its last reference, the mover's next look sends the page
     * back. */
    mm_store_unref(st, held);
    (void)mm_mover_tick(st);
    ck_assert_uint_eq(returned(), 1);
    ck_assert_uint_eq(mm_slab_malloced(&st->slab), MB);
}
END_TEST

START_TEST(test_steal_for_new_class)
{
    unsigned i;
    struct mm_store_stats ss;

    open_store(2 * MB, 0, 0, false);
    for (i = 0; i < 40000; i++) {
        ck_assert_int_eq(put(key_of(i), 100, 0), MM_STORE_OK);
    }
    ck_assert_uint_eq(pages_of(cls_of(100)), 2);
    /* A size with no page, and no room anywhere: a page is emptied for it,
     * never one taken past the limit. */
    ck_assert_int_eq(put("other", 3000, 0), MM_STORE_OK);
    ck_assert_int_eq(check("other", 3000), 1);
    ck_assert_int_eq(put("large", 700000, 0), MM_STORE_OK);
    ck_assert_int_eq(check("large", 700000), 1);
    mm_store_stats_get(st, &ss);
    ck_assert_uint_le(ss.total_malloced, 2 * MB);
    ck_assert_uint_eq(ss.store_no_memory, 0);
}
END_TEST

START_TEST(test_every_size_after_large)
{
    char key[32];
    double size;
    unsigned i;
    unsigned j;
    struct mm_store_stats ss;

    open_store(8 * MB, 0, 0, false);
    for (i = 0; i < 120; i++) {
        ck_assert_int_eq(put(key_of(i), 100 * 1024, 0), MM_STORE_OK);
    }
    ck_assert_int_eq(put("big", 600000, 0), MM_STORE_OK);
    mm_store_flush(st, 0);
    advance(1);
    /* memcached's issue-41 sizes: ten items at each of 69 sizes. */
    for (size = 2, i = 0; i < 69; i++, size *= 1.2) {
        for (j = 0; j < 10; j++) {
            snprintf(key, sizeof(key), "s%u:%u", i, j);
            ck_assert_msg(put(key, (size_t)size, 0) == MM_STORE_OK, "size %zu", (size_t)size);
        }
    }
    mm_store_stats_get(st, &ss);
    ck_assert_uint_le(ss.total_malloced, 8 * MB);
}
END_TEST

START_TEST(test_automove_follows_shift)
{
    unsigned small;
    unsigned big;
    unsigned i;
    unsigned round;
    unsigned k = 0;

    open_store(16 * MB, 1, 0, false);
    small = cls_of(100);
    big = cls_of(2000);
    /* Fill with small items, then let them grow old unread. */
    for (i = 0; i < 200000; i++) {
        ck_assert_int_eq(put(key_of(i), 100, 0), MM_STORE_OK);
    }
    ck_assert_uint_ge(pages_of(small), 15);
    advance(120);
    /* The workload moves to 2 KB values: the big class evicts young items
     * while the small one holds old ones nobody reads. */
    for (round = 0; round < 60 && pages_of(big) * 2 < 16; round++) {
        for (i = 0; i < 2000; i++, k++) {
            ck_assert_int_eq(put(key_of(1000000 + k), 2000, 0), MM_STORE_OK);
        }
        (void)mm_mover_tick(st);
        advance(1);
    }
    ck_assert_msg(pages_of(big) * 2 >= 16, "big class has %" PRIu64 " pages", pages_of(big));
    ck_assert_uint_gt(st->mover.s.pages_moved, 0);
    /* The newest big values are there and right. */
    for (i = k - 100; i < k; i++) {
        ck_assert_int_eq(check(key_of(1000000 + i), 2000), 1);
    }
}
END_TEST

START_TEST(test_automove_off_moves_nothing)
{
    unsigned i;
    unsigned round;
    unsigned k = 0;

    open_store(16 * MB, 0, 0, false);
    for (i = 0; i < 200000; i++) {
        ck_assert_int_eq(put(key_of(i), 100, 0), MM_STORE_OK);
    }
    advance(120);
    for (round = 0; round < 10; round++) {
        for (i = 0; i < 2000; i++, k++) {
            ck_assert_int_eq(put(key_of(1000000 + k), 2000, 0), MM_STORE_OK);
        }
        ck_assert_uint_eq(mm_mover_tick(st), 0);
        advance(1);
    }
    ck_assert_uint_le(pages_of(cls_of(2000)), 1);
}
END_TEST

START_TEST(test_reassign_answers)
{
    unsigned cls;
    unsigned i;

    open_store(64 * MB, 0, 0, false);
    cls = cls_of(100);
    /* The pool as a source: nothing given back to it yet. */
    ck_assert_int_eq(mm_store_reassign(st, 0, 2), MM_STORE_REASSIGN_NOSPARE);
    ck_assert_int_eq(mm_store_reassign(st, -1, 2), MM_STORE_REASSIGN_BADCLASS);
    ck_assert_int_eq(mm_store_reassign(st, 1, (int)st->slab.nclasses + 1),
                     MM_STORE_REASSIGN_BADCLASS);
    ck_assert_int_eq(mm_store_reassign(st, 3, 3), MM_STORE_REASSIGN_SAME);
    ck_assert_int_eq(mm_store_reassign(st, (int)cls, 1), MM_STORE_REASSIGN_NOSPARE);
    for (i = 0; i < perslab(cls); i++) {
        ck_assert_int_eq(put(key_of(i), 100, 0), MM_STORE_OK);
    }
    /* One page: memcached leaves a class its last. */
    ck_assert_int_eq(mm_store_reassign(st, (int)cls, 1), MM_STORE_REASSIGN_NOSPARE);
    for (; i < 2 * perslab(cls) + 1; i++) {
        ck_assert_int_eq(put(key_of(i), 100, 0), MM_STORE_OK);
    }
    ck_assert_int_eq(mm_store_reassign(st, (int)cls, 0), MM_STORE_REASSIGN_OK);
    /* No thread here: the request waits, and the next one is refused. */
    ck_assert_int_eq(mm_store_reassign(st, (int)cls, 1), MM_STORE_REASSIGN_BUSY);
    ck_assert_int_eq(mm_store_start_threads(st), 0);
    for (i = 0; i < 2000 && pages_of(cls) == 3; i++) {
        struct timespec ts = {0, 1000000};

        nanosleep(&ts, NULL);
    }
    ck_assert_uint_eq(pages_of(cls), 2);
}
END_TEST

START_TEST(test_reassign_disabled)
{
    open_store(64 * MB, 1, 0, true);
    ck_assert_int_eq(mm_store_reassign(st, 1, 2), MM_STORE_REASSIGN_DISABLED);
    mm_store_set_automove(st, 2);
    ck_assert_int_eq(mm_store_automove(st), 2);
}
END_TEST

START_TEST(test_memlimit_shrinks)
{
    unsigned i;
    unsigned present = 0;
    struct mm_store_stats ss;

    open_store(8 * MB, 0, 0, false);
    for (i = 0; i < 20000; i++) {
        ck_assert_int_eq(put(key_of(i), 1000, 0), MM_STORE_OK);
    }
    mm_store_stats_get(st, &ss);
    ck_assert_uint_gt(ss.total_malloced, 7 * MB);
    mm_store_set_limit(st, 4 * MB);
    (void)mm_mover_tick(st);
    mm_store_stats_get(st, &ss);
    ck_assert_uint_le(ss.total_malloced, 4 * MB);
    ck_assert_uint_eq(ss.limit_maxbytes, 4 * MB);
    /* Still storing, within the new limit; the newest are there. */
    for (i = 20000; i < 30000; i++) {
        ck_assert_int_eq(put(key_of(i), 1000, 0), MM_STORE_OK);
    }
    for (i = 29900; i < 30000; i++) {
        present += (unsigned)check(key_of(i), 1000);
    }
    ck_assert_uint_eq(present, 100);
    mm_store_stats_get(st, &ss);
    ck_assert_uint_le(ss.total_malloced, 4 * MB);
}
END_TEST

START_TEST(test_temporary_ttl)
{
    unsigned i;
    unsigned stored = 0;
    unsigned present = 0;
    mm_reltime_t now;

    open_store(2 * MB, 0, 60, false);
    now = mm_clock_now(&clk);
    /* Short-TTL items fill memory; they are never evicted for others. */
    for (i = 0; i < 40000; i++) {
        if (put(key_of(i), 100, now + 30) == MM_STORE_OK) {
            stored++;
        }
    }
    ck_assert_uint_gt(stored, 10000);
    ck_assert_uint_lt(stored, 40000);
    ck_assert_int_eq(put("forever", 100, 0), MM_STORE_NOMEM);
    for (i = 0; i < stored; i++) {
        present += (unsigned)check(key_of(i), 100);
    }
    ck_assert_uint_eq(present, stored);
    ck_assert_uint_eq(st->lru[cls_of(100)].temp, stored);
    /* A longer TTL is an ordinary item. */
    advance(31);
    ck_assert_uint_eq(mm_crawler_run(st, UINT64_MAX), stored);
    ck_assert_uint_eq(st->lru[cls_of(100)].temp, 0);
    ck_assert_int_eq(put("forever", 100, 0), MM_STORE_OK);
    ck_assert_int_eq(put("later", 100, mm_clock_now(&clk) + 600), MM_STORE_OK);
    ck_assert_uint_eq(st->lru[cls_of(100)].temp, 0);
}
END_TEST

static Suite *
mover_suite(void)
{
    Suite *s = suite_create("mover");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_move_rescues);
    tcase_add_test(tc, test_move_evicts);
    tcase_add_test(tc, test_move_waits_for_reader);
    tcase_add_test(tc, test_steal_for_new_class);
    tcase_add_test(tc, test_every_size_after_large);
    tcase_add_test(tc, test_automove_follows_shift);
    tcase_add_test(tc, test_automove_off_moves_nothing);
    tcase_add_test(tc, test_reassign_answers);
    tcase_add_test(tc, test_reassign_disabled);
    tcase_add_test(tc, test_memlimit_shrinks);
    tcase_add_test(tc, test_temporary_ttl);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(mover_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
