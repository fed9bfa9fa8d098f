/* Hash table: insert/find/remove, collisions, shards, and the invariants of
 * incremental growth (every item findable at every step, each bucket under
 * the stripe of its items' hashes). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "item_space.h"
#include "store/ht_int.h"
#include "store/item_int.h"

/* Keys "<hex>" hash to exactly that number: tests choose bucket, stripe and
 * shard bits directly, and can force collisions. */
static mm_hash_t
hex_hash(const void *key, size_t nkey)
{
    char buf[32];

    memcpy(buf, key, nkey < sizeof(buf) - 1 ? nkey : sizeof(buf) - 1);
    buf[nkey < sizeof(buf) - 1 ? nkey : sizeof(buf) - 1] = '\0';
    return strtoull(buf, NULL, 16);
}

static struct mm_item *
mk(const char *key)
{
    size_t nkey = strlen(key);
    uint8_t cls;
    struct mm_item *it = titem(mm_item_ntotal(nkey, 0, false, false), &cls);

    mm_item_init(it, key, (uint8_t)nkey, cls, false, 0, 0, 0, 0);
    return it;
}

/* The item's key as a C string in buf (32 bytes). */
static const char *
keystr(const struct mm_item *it, char *buf)
{
    memcpy(buf, mm_item_key(it), it->nkey);
    buf[it->nkey] = '\0';
    return buf;
}

static void
put(struct mm_ht *ht, struct mm_item *it)
{
    mm_hash_t h = mm_ht_hash(ht, mm_item_key(it), it->nkey);

    mm_ht_lock(ht, h);
    mm_ht_insert_locked(ht, it, h);
    mm_ht_unlock(ht, h);
}

static struct mm_item *
get(struct mm_ht *ht, const char *key)
{
    mm_hash_t h = mm_ht_hash(ht, key, strlen(key));
    struct mm_item *it;

    mm_ht_lock(ht, h);
    it = mm_ht_find_locked(ht, key, strlen(key), h);
    mm_ht_unlock(ht, h);
    return it;
}

static bool
del(struct mm_ht *ht, struct mm_item *it)
{
    mm_hash_t h = mm_ht_hash(ht, mm_item_key(it), it->nkey);
    bool ok;

    mm_ht_lock(ht, h);
    ok = mm_ht_remove_locked(ht, it, h);
    mm_ht_unlock(ht, h);
    return ok;
}

START_TEST(test_basic)
{
    struct mm_ht *ht = mm_ht_create(0, 4, 2, hex_hash, &tsp);
    struct mm_item *a = mk("1");
    struct mm_item *b = mk("2");

    ck_assert_ptr_null(get(ht, "1"));
    put(ht, a);
    put(ht, b);
    ck_assert_ptr_eq(get(ht, "1"), a);
    ck_assert_ptr_eq(get(ht, "2"), b);
    ck_assert_uint_eq(mm_ht_count(ht), 2);
    ck_assert(del(ht, a));
    ck_assert(!del(ht, a));
    ck_assert_ptr_null(get(ht, "1"));
    ck_assert_ptr_eq(get(ht, "2"), b);
    ck_assert_uint_eq(mm_ht_count(ht), 1);
    ck_assert_int_eq(mm_ht_verify(ht, 0), 1);
    mm_ht_destroy(&ht);
    ck_assert_ptr_null(ht);
    tfree(a);
    tfree(b);
}
END_TEST

START_TEST(test_collisions)
{
    /* 16 buckets: 0x5, 0x15, 0x25, 0x105 share bucket 5. Different keys with
     * the same low bits; plus "05" hashes like "5" exactly. */
    struct mm_ht *ht = mm_ht_create(0, 4, 2, hex_hash, &tsp);
    const char *keys[] = {"5", "15", "25", "105", "05"};
    struct mm_item *its[5];
    unsigned i;

    for (i = 0; i < 5; i++) {
        its[i] = mk(keys[i]);
        put(ht, its[i]);
    }
    for (i = 0; i < 5; i++) {
        ck_assert_ptr_eq(get(ht, keys[i]), its[i]);
    }
    /* Remove from the middle of the chain. */
    ck_assert(del(ht, its[2]));
    ck_assert_ptr_null(get(ht, "25"));
    for (i = 0; i < 5; i++) {
        if (i != 2) {
            ck_assert_ptr_eq(get(ht, keys[i]), its[i]);
        }
    }
    ck_assert_int_eq(mm_ht_verify(ht, 0), 4);
    mm_ht_destroy(&ht);
    for (i = 0; i < 5; i++) {
        tfree(its[i]);
    }
}
END_TEST

START_TEST(test_shards)
{
    /* 2 shard bits: the top two bits pick the shard. */
    struct mm_ht *ht = mm_ht_create(2, 3, 2, hex_hash, &tsp);
    struct mm_item *a = mk("1");
    struct mm_item *b = mk("4000000000000001");
    struct mm_item *c = mk("c000000000000001");

    ck_assert_uint_eq(mm_ht_nshards(ht), 4);
    ck_assert_uint_eq(mm_ht_shard(ht, 0x1), 0);
    ck_assert_uint_eq(mm_ht_shard(ht, 0x4000000000000001ull), 1);
    ck_assert_uint_eq(mm_ht_shard(ht, 0xc000000000000001ull), 3);
    put(ht, a);
    put(ht, b);
    put(ht, c);
    ck_assert_ptr_eq(get(ht, "1"), a);
    ck_assert_ptr_eq(get(ht, "4000000000000001"), b);
    ck_assert_ptr_eq(get(ht, "c000000000000001"), c);
    ck_assert_int_eq(mm_ht_verify(ht, 0), 1);
    ck_assert_int_eq(mm_ht_verify(ht, 1), 1);
    ck_assert_int_eq(mm_ht_verify(ht, 2), 0);
    ck_assert_int_eq(mm_ht_verify(ht, 3), 1);
    /* Same low bits, different shards: no interference. */
    ck_assert(del(ht, b));
    ck_assert_ptr_eq(get(ht, "1"), a);
    ck_assert_ptr_eq(get(ht, "c000000000000001"), c);
    mm_ht_destroy(&ht);
    tfree(a);
    tfree(b);
    tfree(c);
}
END_TEST

START_TEST(test_hashpower_raised_to_stripes)
{
    struct mm_ht *ht = mm_ht_create(0, 1, 4, hex_hash, &tsp);
    unsigned power;
    bool exp;
    uint64_t cur;

    mm_ht_shard_state(ht, 0, &power, &exp, &cur);
    ck_assert_uint_eq(power, 4);
    ck_assert(!exp);
    mm_ht_destroy(&ht);
    ck_assert_ptr_null(mm_ht_create(9, 4, 2, hex_hash, &tsp));
}
END_TEST

/* Grow a table one bucket at a time and check, after every step, that every
 * item is still found and the verifier's placement rules hold. Run for
 * shard_bits 0 and 2 through a loop test. */
START_TEST(test_growth_steps)
{
    unsigned shard_bits = (unsigned)_i * 2;
    struct mm_ht *ht = mm_ht_create(shard_bits, 3, 2, hex_hash, &tsp);
    enum { N = 200 };
    struct mm_item *its[N];
    char key[32];
    unsigned i;
    unsigned s;
    unsigned steps = 0;
    unsigned power;
    bool exp;
    uint64_t cur;

    for (i = 0; i < N; i++) {
        /* Spread over all shards; low bits vary. */
        uint64_t h = ((uint64_t)(i % (1u << shard_bits)) << (64 - (shard_bits ? shard_bits : 1))) |
                     ((uint64_t)i * 2654435761u & 0xffffffu);

        if (shard_bits == 0) {
            h &= 0xffffffu;
        }
        snprintf(key, sizeof(key), "%llx", (unsigned long long)h);
        its[i] = mk(key);
        put(ht, its[i]);
    }
    for (s = 0; s < (1u << shard_bits); s++) {
        mm_ht_shard_state(ht, s, &power, &exp, &cur);
        ck_assert_uint_eq(power, 3);
        ck_assert(mm_ht_grow_wanted(ht, s));
        /* One growth doubles the shard; keep stepping until the load is
         * back under 1.5 per bucket, checking after every single step. */
        while (mm_ht_grow_wanted(ht, s) && steps < 100000) {
            mm_ht_grow_step(ht, s, 1);
            steps++;
            ck_assert_int_ge(mm_ht_verify(ht, s), 0);
            for (i = 0; i < N; i++) {
                ck_assert_ptr_eq(get(ht, keystr(its[i], key)), its[i]);
            }
        }
        ck_assert_int_ge(mm_ht_verify(ht, s), 0);
    }
    for (i = 0; i < N; i++) {
        ck_assert_ptr_eq(get(ht, keystr(its[i], key)), its[i]);
    }
    /* Load now at most 1.5 per bucket in every shard. */
    for (s = 0; s < (1u << shard_bits); s++) {
        long n = mm_ht_verify(ht, s);

        mm_ht_shard_state(ht, s, &power, &exp, &cur);
        ck_assert(!exp);
        ck_assert_int_le(n, ((1L << power) * 3) / 2);
        ck_assert(!mm_ht_grow_wanted(ht, s));
    }
    ck_assert_uint_eq(mm_ht_count(ht), N);
    mm_ht_destroy(&ht);
    for (i = 0; i < N; i++) {
        tfree(its[i]);
    }
}
END_TEST

START_TEST(test_growth_with_changes_midway)
{
    /* Insert and remove while a growth is half done: new items land in the
     * right array and removals find items in either array. */
    struct mm_ht *ht = mm_ht_create(0, 2, 2, hex_hash, &tsp);
    struct mm_item *its[64];
    char key[16];
    unsigned i;
    unsigned power;
    bool exp;
    uint64_t cur;

    for (i = 0; i < 7; i++) {
        snprintf(key, sizeof(key), "%x", i);
        its[i] = mk(key);
        put(ht, its[i]);
    }
    ck_assert(mm_ht_grow_step(ht, 0, 1)); /* starts: 4 -> 8 buckets */
    ck_assert(mm_ht_grow_step(ht, 0, 2)); /* moves old buckets 0 and 1 */
    mm_ht_shard_state(ht, 0, &power, &exp, &cur);
    ck_assert_uint_eq(power, 3);
    ck_assert(exp);
    ck_assert_uint_eq(cur, 2);
    for (i = 7; i < 64; i++) {
        snprintf(key, sizeof(key), "%x", i);
        its[i] = mk(key);
        put(ht, its[i]);
        ck_assert_int_ge(mm_ht_verify(ht, 0), 0);
    }
    /* Remove every third item, from moved and unmoved buckets. */
    for (i = 0; i < 64; i += 3) {
        ck_assert(del(ht, its[i]));
    }
    ck_assert_int_ge(mm_ht_verify(ht, 0), 0);
    while (mm_ht_grow_step(ht, 0, 1)) {
        ck_assert_int_ge(mm_ht_verify(ht, 0), 0);
    }
    for (i = 0; i < 64; i++) {
        snprintf(key, sizeof(key), "%x", i);
        if (i % 3 == 0) {
            ck_assert_ptr_null(get(ht, key));
        } else {
            ck_assert_ptr_eq(get(ht, key), its[i]);
        }
    }
    mm_ht_destroy(&ht);
    for (i = 0; i < 64; i++) {
        tfree(its[i]);
    }
}
END_TEST

START_TEST(test_no_expand)
{
    struct mm_ht *ht = mm_ht_create(0, 2, 1, hex_hash, &tsp);
    struct mm_item *its[20];
    char key[16];
    unsigned i;
    struct mm_ht_stats hs;

    mm_ht_set_expand(ht, false);
    for (i = 0; i < 20; i++) {
        snprintf(key, sizeof(key), "%x", i);
        its[i] = mk(key);
        put(ht, its[i]);
    }
    ck_assert(!mm_ht_grow_wanted(ht, 0));
    ck_assert(!mm_ht_grow_step(ht, 0, 100));
    mm_ht_stats(ht, &hs);
    ck_assert_uint_eq(hs.power, 2);
    ck_assert_uint_eq(hs.bytes, 4 * sizeof(uint32_t));
    ck_assert(!hs.expanding);
    for (i = 0; i < 20; i++) {
        snprintf(key, sizeof(key), "%x", i);
        ck_assert_ptr_eq(get(ht, key), its[i]);
    }
    mm_ht_set_expand(ht, true);
    ck_assert(mm_ht_grow_step(ht, 0, 1));
    mm_ht_stats(ht, &hs);
    ck_assert_uint_eq(hs.power, 3);
    ck_assert_uint_eq(hs.bytes, 8 * sizeof(uint32_t));
    ck_assert(hs.expanding);
    mm_ht_destroy(&ht);
    for (i = 0; i < 20; i++) {
        tfree(its[i]);
    }
}
END_TEST

START_TEST(test_stripes_and_trylock)
{
    struct mm_ht *ht = mm_ht_create(0, 4, 2, hex_hash, &tsp);

    /* Stripe = low stripe_bits of the hash, whatever the bucket count. */
    ck_assert_uint_eq(mm_ht_stripe(ht, 0x5), 1);
    ck_assert_uint_eq(mm_ht_stripe(ht, 0x15), 1);
    ck_assert_uint_eq(mm_ht_stripe(ht, 0x6), 2);
    mm_ht_lock(ht, 0x5);
    ck_assert(!mm_ht_trylock(ht, 0x15)); /* same stripe */
    ck_assert(mm_ht_trylock(ht, 0x6));
    mm_ht_unlock(ht, 0x6);
    mm_ht_unlock(ht, 0x5);
    ck_assert(mm_ht_trylock(ht, 0x15));
    mm_ht_unlock(ht, 0x15);
    mm_ht_destroy(&ht);
}
END_TEST

/* Walk counters, indexed by the client flags the test gave each item. */
struct walk_count {
    unsigned *seen;
    unsigned n;
};

static void
walk_count_fn(void *arg, const struct mm_item *it)
{
    struct walk_count *w = arg;

    ck_assert_uint_lt(mm_item_flags(it), w->n);
    w->seen[mm_item_flags(it)]++;
}

static struct mm_item *
mk_idx(uint64_t h, unsigned idx)
{
    char key[32];
    size_t nkey = (size_t)snprintf(key, sizeof(key), "%llx", (unsigned long long)h);
    uint8_t cls;
    struct mm_item *it = titem(mm_item_ntotal(nkey, 0, false, true), &cls);

    mm_item_init(it, key, (uint8_t)nkey, cls, false, idx, 0, 0, 0);
    return it;
}

/* A walk sees every item present throughout exactly once while the table
 * grows under it (several doublings, stepped one bucket at a time between
 * units), and items added meanwhile at most once. _i picks the shard bits. */
START_TEST(test_walk_during_growth)
{
    unsigned shard_bits = (unsigned)_i;
    struct mm_ht *ht = mm_ht_create(shard_bits, 2, 1, hex_hash, &tsp);
    enum { N0 = 64, NMAX = 4000 };
    struct mm_item **its = calloc(NMAX, sizeof(*its));
    struct walk_count w;
    unsigned n = 0;
    unsigned s;
    unsigned units = 0;
    unsigned growths = 0;
    unsigned i;
    uint64_t rnd = 88172645463325252ull;

    w.seen = calloc(NMAX, sizeof(*w.seen));
    w.n = NMAX;
    for (; n < N0; n++) {
        rnd ^= rnd << 13;
        rnd ^= rnd >> 7;
        rnd ^= rnd << 17;
        its[n] = mk_idx(shard_bits == 0 ? rnd & 0xffffffffffffull : rnd, n);
        put(ht, its[n]);
    }
    for (s = 0; s < (1u << shard_bits); s++) {
        uint32_t pos = 0;
        bool done = false;

        while (!done && units < 1000000) {
            unsigned k;

            done = mm_ht_walk_unit(ht, s, &pos, walk_count_fn, &w);
            units++;
            /* Keep the table growing: add items and move one bucket. */
            for (k = 0; k < 8 && n < NMAX; k++, n++) {
                rnd ^= rnd << 13;
                rnd ^= rnd >> 7;
                rnd ^= rnd << 17;
                its[n] = mk_idx(shard_bits == 0 ? rnd & 0xffffffffffffull : rnd, n);
                put(ht, its[n]);
            }
            for (k = 0; k < (1u << shard_bits); k++) {
                bool was;
                bool now;
                unsigned p;
                uint64_t c;

                mm_ht_shard_state(ht, k, &p, &was, &c);
                mm_ht_grow_step(ht, k, 2);
                mm_ht_shard_state(ht, k, &p, &now, &c);
                growths += !was && now;
            }
        }
        ck_assert(done);
    }
    ck_assert_uint_ge(growths, 2);
    for (i = 0; i < N0; i++) {
        ck_assert_uint_eq(w.seen[i], 1);
    }
    for (; i < n; i++) {
        ck_assert_uint_le(w.seen[i], 1);
    }
    for (i = 0; i < n; i++) {
        ck_assert_ptr_nonnull(its[i]);
        tfree(its[i]);
    }
    mm_ht_destroy(&ht);
    free(its);
    free(w.seen);
}
END_TEST

/* Without growth, a walk over a quiet table lists every item once. */
START_TEST(test_walk_quiet)
{
    struct mm_ht *ht = mm_ht_create(1, 4, 2, hex_hash, &tsp);
    enum { N = 500 };
    struct mm_item *its[N];
    unsigned seen[N];
    struct walk_count w = {seen, N};
    unsigned i;
    unsigned s;

    memset(seen, 0, sizeof(seen));
    mm_ht_set_expand(ht, false);
    for (i = 0; i < N; i++) {
        its[i] = mk_idx(((uint64_t)(i & 1) << 63) | ((uint64_t)i * 2654435761u), i);
        put(ht, its[i]);
    }
    for (s = 0; s < 2; s++) {
        uint32_t pos = 0;
        unsigned units = 0;

        while (!mm_ht_walk_unit(ht, s, &pos, walk_count_fn, &w)) {
            units++;
            ck_assert_uint_lt(units, 1000);
        }
        /* One unit per bucket: 2^4 buckets per shard. */
        ck_assert_uint_eq(units + 1, 16);
    }
    for (i = 0; i < N; i++) {
        ck_assert_uint_eq(seen[i], 1);
        tfree(its[i]);
    }
    mm_ht_destroy(&ht);
}
END_TEST

/* A large item (registry handle) chains with slab items like any other. */
START_TEST(test_large_item_in_chain)
{
    struct mm_ht *ht = mm_ht_create(0, 4, 2, hex_hash, &tsp);
    struct mm_item *a = mk("1");
    size_t vlen = tslab.chunk_max + 1;
    size_t total = mm_item_ntotal(2, vlen, false, false) + MM_ITEM_LARGE_EXTRA;
    struct mm_item *big = mm_slab_large_alloc(&tslab, total);

    ck_assert_ptr_nonnull(big);
    mm_item_init(big, "11", 2, MM_ITEM_CLS_LARGE, false, 0, 0, (uint32_t)vlen, 0);
    ck_assert_uint_eq(mm_item_total(big), total);
    ck_assert_uint_ne(mm_item_handle(&tsp, big) & MM_HANDLE_LARGE, 0);
    put(ht, a);
    put(ht, big);
    ck_assert_ptr_eq(get(ht, "11"), big);
    ck_assert_ptr_eq(get(ht, "1"), a);
    ck_assert(del(ht, big));
    ck_assert_ptr_null(get(ht, "11"));
    ck_assert_ptr_eq(get(ht, "1"), a);
    put(ht, big);
    ck_assert(del(ht, a));
    ck_assert_ptr_eq(get(ht, "11"), big);
    ck_assert(del(ht, big));
    ck_assert_uint_eq(mm_ht_count(ht), 0);
    mm_ht_destroy(&ht);
    mm_slab_large_free(&tslab, big, mm_item_total(big));
    tfree(a);
}
END_TEST

START_TEST(test_needs_space)
{
    ck_assert_ptr_null(mm_ht_create(0, 4, 2, hex_hash, NULL));
}
END_TEST

static Suite *
ht_suite(void)
{
    Suite *s = suite_create("ht");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, tspace_init, tspace_fini);
    tcase_add_test(tc, test_basic);
    tcase_add_test(tc, test_collisions);
    tcase_add_test(tc, test_shards);
    tcase_add_test(tc, test_hashpower_raised_to_stripes);
    tcase_add_loop_test(tc, test_growth_steps, 0, 2);
    tcase_add_test(tc, test_growth_with_changes_midway);
    tcase_add_test(tc, test_no_expand);
    tcase_add_test(tc, test_stripes_and_trylock);
    tcase_add_loop_test(tc, test_walk_during_growth, 0, 3);
    tcase_add_test(tc, test_walk_quiet);
    tcase_add_test(tc, test_large_item_in_chain);
    tcase_add_test(tc, test_needs_space);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(ht_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
