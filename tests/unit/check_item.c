/* Item layout, accessors and the saturating reference count. */
#include "config.h"

#include <check.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "store/item_int.h"

/* The header must stay 48 bytes (memcached's is 48 + 8 CAS, like ours with
 * CAS); growing it costs memory on every item. */
_Static_assert(sizeof(struct mm_item) == 48, "item header is 48 bytes");
_Static_assert(offsetof(struct mm_item, h_next) == 16, "h_next offset");
_Static_assert(sizeof(((struct mm_item *)0)->h_next) == 4, "h_next is a 32-bit handle");
_Static_assert(offsetof(struct mm_item, refcnt) == 36, "refcnt offset");
_Static_assert(offsetof(struct mm_item, nkey) == 40, "nkey offset");

static struct mm_item *
make(const char *key, const char *val, bool cas)
{
    size_t nkey = strlen(key);
    size_t vlen = strlen(val);
    struct mm_item *it = malloc(mm_item_ntotal(nkey, vlen, cas));

    mm_item_init(it, key, (uint8_t)nkey, 3, 1, cas, 0xdeadbeef, 77, (uint32_t)vlen, 5);
    memcpy(mm_item_data(it), val, vlen);
    return it;
}

START_TEST(test_layout_with_cas)
{
    struct mm_item *it = make("hello", "world!", true);

    ck_assert_uint_eq(mm_item_total(it), 48 + 8 + 5 + 6);
    ck_assert_ptr_eq(mm_item_key(it), (char *)it + 56);
    ck_assert_ptr_eq(mm_item_cdata(it), (char *)it + 61);
    ck_assert_int_eq(memcmp(mm_item_key(it), "hello", 5), 0);
    ck_assert_int_eq(memcmp(mm_item_cdata(it), "world!", 6), 0);
    ck_assert_uint_eq(mm_item_nkey(it), 5);
    ck_assert_uint_eq(mm_item_vlen(it), 6);
    ck_assert_uint_eq(mm_item_flags(it), 0xdeadbeef);
    ck_assert_uint_eq(mm_item_exptime(it), 77);
    ck_assert_uint_eq(mm_item_atime(it), 5);
    ck_assert_uint_eq(mm_item_cas(it), 0);
    mm_item_set_cas(it, 0x1122334455667788ull);
    ck_assert_uint_eq(mm_item_cas(it), 0x1122334455667788ull);
    /* Setting the CAS must not disturb the key. */
    ck_assert_int_eq(memcmp(mm_item_key(it), "hello", 5), 0);
    ck_assert(mm_item_key_eq(it, "hello", 5));
    ck_assert(!mm_item_key_eq(it, "hellO", 5));
    ck_assert(!mm_item_key_eq(it, "hell", 4));
    free(it);
}
END_TEST

START_TEST(test_layout_without_cas)
{
    struct mm_item *it = make("k", "v", false);

    ck_assert_uint_eq(mm_item_total(it), 48 + 1 + 1);
    ck_assert_ptr_eq(mm_item_key(it), (char *)it + 48);
    mm_item_set_cas(it, 99);
    ck_assert_uint_eq(mm_item_cas(it), 0);
    ck_assert_int_eq(mm_item_key(it)[0], 'k');
    ck_assert_int_eq(mm_item_cdata(it)[0], 'v');
    free(it);
}
END_TEST

START_TEST(test_refcount)
{
    struct mm_item *it = make("k", "v", true);

    ck_assert_uint_eq(mm_item_refcnt(it), 1);
    mm_item_ref(it);
    ck_assert_uint_eq(mm_item_refcnt(it), 2);
    ck_assert(!mm_item_unref(it));
    ck_assert(mm_item_unref(it));
    ck_assert_uint_eq(mm_item_refcnt(it), 0);
    /* A stray extra unref must not wrap around. */
    ck_assert(!mm_item_unref(it));
    ck_assert_uint_eq(mm_item_refcnt(it), 0);
    free(it);
}
END_TEST

START_TEST(test_refcount_saturates)
{
    struct mm_item *it = make("k", "v", true);
    unsigned i;

    for (i = 0; i < 70000; i++) {
        mm_item_ref(it);
    }
    ck_assert_uint_eq(mm_item_refcnt(it), MM_ITEM_REF_MAX);
    /* Pinned: unrefs never bring it back to zero. */
    for (i = 0; i < 70000; i++) {
        ck_assert(!mm_item_unref(it));
    }
    ck_assert_uint_eq(mm_item_refcnt(it), MM_ITEM_REF_MAX);
    free(it);
}
END_TEST

static Suite *
item_suite(void)
{
    Suite *s = suite_create("item");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_layout_with_cas);
    tcase_add_test(tc, test_layout_without_cas);
    tcase_add_test(tc, test_refcount);
    tcase_add_test(tc, test_refcount_saturates);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(item_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
