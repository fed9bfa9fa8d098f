/* check_prefix: the "stats detail" counters. MurmurHash3 against published
 * vectors, what counts and what does not, memcached's dump order (captured
 * from memcached 1.6.18), the entry cap, clear, and counting from threads. */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmem/prefix.h"

struct dump {
    char text[8192];
    size_t len;
};

static void
collect(void *arg, const char *text, size_t len)
{
    struct dump *d = arg;

    ck_assert(d->len + len < sizeof(d->text));
    memcpy(d->text + d->len, text, len);
    d->len += len;
    d->text[d->len] = '\0';
}

static const char *
dump_of(struct mm_prefix *p, struct dump *d)
{
    d->len = 0;
    d->text[0] = '\0';
    mm_prefix_dump(p, collect, d);
    return d->text;
}

static void
rec(struct mm_prefix *p, const char *key, enum mm_prefix_op op)
{
    mm_prefix_record(p, key, strlen(key), op);
}

START_TEST(test_hash_vectors)
{
    /* MurmurHash3_x86_32, seed 0. */
    ck_assert_uint_eq(mm_prefix_hash("", 0), 0u);
    ck_assert_uint_eq(mm_prefix_hash("a", 1), 0x3c2569b2u);
    ck_assert_uint_eq(mm_prefix_hash("abc", 3), 0xb3dd93fau);
    ck_assert_uint_eq(mm_prefix_hash("abcd", 4), 0x43ed676au);
    ck_assert_uint_eq(mm_prefix_hash("Hello, world!", 13), 0xc0363e43u);
    ck_assert_uint_eq(mm_prefix_hash("The quick brown fox jumps over the lazy dog", 43),
                      0x2e4ff723u);
}
END_TEST

START_TEST(test_counts)
{
    struct mm_prefix *p = mm_prefix_create(':', true, 0);
    struct dump d;

    rec(p, "a:1", MM_PREFIX_SET);
    rec(p, "a:1", MM_PREFIX_HIT);
    rec(p, "a:2", MM_PREFIX_GET);
    rec(p, "a:b:c", MM_PREFIX_DELETE);
    rec(p, "nocolon", MM_PREFIX_SET);
    ck_assert_str_eq(dump_of(p, &d), "PREFIX a get 2 hit 1 set 1 del 1\r\n");
    ck_assert_uint_eq(mm_prefix_count(p), 1);
    mm_prefix_destroy(&p);
    ck_assert_ptr_null(p);
}
END_TEST

START_TEST(test_switch_keeps_counters)
{
    struct mm_prefix *p = mm_prefix_create(':', false, 0);
    struct dump d;

    rec(p, "a:1", MM_PREFIX_SET);
    ck_assert_str_eq(dump_of(p, &d), "");
    mm_prefix_set_enabled(p, true);
    ck_assert(mm_prefix_enabled(p));
    rec(p, "a:1", MM_PREFIX_SET);
    mm_prefix_set_enabled(p, false);
    rec(p, "a:1", MM_PREFIX_SET);
    ck_assert_str_eq(dump_of(p, &d), "PREFIX a get 0 hit 0 set 1 del 0\r\n");
    mm_prefix_clear(p);
    ck_assert_str_eq(dump_of(p, &d), "");
    ck_assert_uint_eq(mm_prefix_count(p), 0);
    mm_prefix_destroy(&p);
}
END_TEST

START_TEST(test_memcached_order)
{
    /* memcached 1.6.18 listed these, recorded in this order, as below. */
    static const char *const keys[] = {"a:1", "b:1", "c:1", "d:1", "l:1", "k:1", ":x", "x:"};
    struct mm_prefix *p = mm_prefix_create(':', true, 0);
    struct dump d;
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        rec(p, keys[i], MM_PREFIX_GET);
    }
    ck_assert_str_eq(dump_of(p, &d), "PREFIX  get 1 hit 0 set 0 del 0\r\n"
                                     "PREFIX b get 1 hit 0 set 0 del 0\r\n"
                                     "PREFIX x get 1 hit 0 set 0 del 0\r\n"
                                     "PREFIX l get 1 hit 0 set 0 del 0\r\n"
                                     "PREFIX c get 1 hit 0 set 0 del 0\r\n"
                                     "PREFIX d get 1 hit 0 set 0 del 0\r\n"
                                     "PREFIX a get 1 hit 0 set 0 del 0\r\n"
                                     "PREFIX k get 1 hit 0 set 0 del 0\r\n");
    mm_prefix_destroy(&p);
}
END_TEST

START_TEST(test_same_bucket_newest_first)
{
    struct mm_prefix *p = mm_prefix_create('/', true, 0);
    char a[16], b[16];
    unsigned i, j;
    struct dump d;
    char want[256];

    /* Find two one-word prefixes that share a bucket. */
    for (i = 0;; i++) {
        snprintf(a, sizeof(a), "p%u", i);
        for (j = i + 1; j < i + 600; j++) {
            snprintf(b, sizeof(b), "p%u", j);
            if (mm_prefix_hash(a, strlen(a)) % 256 == mm_prefix_hash(b, strlen(b)) % 256) {
                goto found;
            }
        }
    }
found:
    strcat(a, "/k");
    strcat(b, "/k");
    rec(p, a, MM_PREFIX_SET);
    rec(p, b, MM_PREFIX_DELETE);
    a[strlen(a) - 2] = '\0';
    b[strlen(b) - 2] = '\0';
    snprintf(want, sizeof(want),
             "PREFIX %s get 0 hit 0 set 0 del 1\r\nPREFIX %s get 0 hit 0 set 1 del 0\r\n", b, a);
    ck_assert_str_eq(dump_of(p, &d), want);
    mm_prefix_destroy(&p);
}
END_TEST

START_TEST(test_cap)
{
    struct mm_prefix *p = mm_prefix_create(':', true, 2);
    struct dump d;

    rec(p, "a:1", MM_PREFIX_SET);
    rec(p, "b:1", MM_PREFIX_SET);
    rec(p, "c:1", MM_PREFIX_SET);
    rec(p, "a:1", MM_PREFIX_SET);
    ck_assert_uint_eq(mm_prefix_count(p), 2);
    dump_of(p, &d);
    ck_assert_ptr_nonnull(strstr(d.text, "PREFIX a get 0 hit 0 set 2 del 0\r\n"));
    ck_assert_ptr_nonnull(strstr(d.text, "PREFIX b get 0 hit 0 set 1 del 0\r\n"));
    ck_assert_ptr_null(strstr(d.text, "PREFIX c "));
    mm_prefix_destroy(&p);
}
END_TEST

START_TEST(test_long_prefix)
{
    struct mm_prefix *p = mm_prefix_create(':', true, 0);
    char key[251];
    struct dump d;

    memset(key, 'x', 249);
    key[249] = ':';
    key[250] = '\0';
    rec(p, key, MM_PREFIX_HIT);
    dump_of(p, &d);
    ck_assert_uint_eq(d.len, strlen("PREFIX ") + 249 + strlen(" get 1 hit 1 set 0 del 0\r\n"));
    mm_prefix_destroy(&p);
}
END_TEST

#define THREADS 4
#define ROUNDS 10000

static void *
hammer(void *arg)
{
    struct mm_prefix *p = arg;
    int i;

    for (i = 0; i < ROUNDS; i++) {
        rec(p, "t:k", MM_PREFIX_HIT);
    }
    return NULL;
}

START_TEST(test_threads)
{
    struct mm_prefix *p = mm_prefix_create(':', true, 0);
    pthread_t t[THREADS];
    struct dump d;
    char want[128];
    int i;

    for (i = 0; i < THREADS; i++) {
        ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, p), 0);
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
    }
    snprintf(want, sizeof(want), "PREFIX t get %d hit %d set 0 del 0\r\n", THREADS * ROUNDS,
             THREADS * ROUNDS);
    ck_assert_str_eq(dump_of(p, &d), want);
    mm_prefix_destroy(&p);
}
END_TEST

static Suite *
prefix_suite(void)
{
    Suite *s = suite_create("prefix");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_hash_vectors);
    tcase_add_test(tc, test_counts);
    tcase_add_test(tc, test_switch_keeps_counters);
    tcase_add_test(tc, test_memcached_order);
    tcase_add_test(tc, test_same_bucket_newest_first);
    tcase_add_test(tc, test_cap);
    tcase_add_test(tc, test_long_prefix);
    tcase_add_test(tc, test_threads);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(prefix_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
