/* Item layout, accessors and the saturating reference count. */
#include "config.h"

#include <check.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "store/item_int.h"

/* The header is 20 bytes (memcached's is 48, each plus 8 for the CAS);
 * growing it costs memory on every item. The refcount must stay out of the
 * first 8 bytes, where a free chunk keeps its free-list link. */
_Static_assert(sizeof(struct mm_item) == 20, "item header is 20 bytes");
_Static_assert(offsetof(struct mm_item, refcnt) >= 8, "refcnt clear of the free-list link");
_Static_assert(sizeof(((struct mm_item *)0)->h_next) == 4, "h_next is a 32-bit handle");

static struct mm_item *
make_flags(const char *key, const char *val, bool cas, uint32_t flags, uint8_t cls)
{
    size_t nkey = strlen(key);
    size_t vlen = strlen(val);
    size_t total = mm_item_ntotal(nkey, vlen, cas, flags != 0) +
                   (cls == MM_ITEM_CLS_LARGE ? MM_ITEM_LARGE_EXTRA : 0);
    struct mm_item *it = malloc(total);

    mm_item_init(it, key, (uint8_t)nkey, cls, cas, flags, 77, (uint32_t)vlen, 5);
    memcpy(mm_item_data(it), val, vlen);
    ck_assert_uint_eq(mm_item_total(it), total);
    return it;
}

static struct mm_item *
make(const char *key, const char *val, bool cas)
{
    return make_flags(key, val, cas, 0xdeadbeef, 3);
}

START_TEST(test_layout_with_cas)
{
    struct mm_item *it = make("hello", "world!", true);

    ck_assert_uint_eq(mm_item_total(it), MM_ITEM_HDR_SIZE + 8 + 4 + 5 + 6);
    ck_assert_ptr_eq(mm_item_key(it), (char *)it + MM_ITEM_HDR_SIZE + 12);
    ck_assert_ptr_eq(mm_item_cdata(it), (char *)it + MM_ITEM_HDR_SIZE + 17);
    ck_assert_uint_eq(mm_item_clsid(it), 3);
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

    ck_assert_uint_eq(mm_item_total(it), MM_ITEM_HDR_SIZE + 4 + 1 + 1);
    ck_assert_ptr_eq(mm_item_key(it), (char *)it + MM_ITEM_HDR_SIZE + 4);
    mm_item_set_cas(it, 99);
    ck_assert_uint_eq(mm_item_cas(it), 0);
    ck_assert_int_eq(mm_item_key(it)[0], 'k');
    ck_assert_int_eq(mm_item_cdata(it)[0], 'v');
    free(it);
}
END_TEST

START_TEST(test_flags_zero_take_no_room)
{
    /* As in memcached, client flags 0 are not stored. */
    struct mm_item *it = make_flags("key", "val", true, 0, 7);

    ck_assert_uint_eq(mm_item_total(it), MM_ITEM_HDR_SIZE + 8 + 3 + 3);
    ck_assert_uint_eq(mm_item_flags(it), 0);
    ck_assert_ptr_eq(mm_item_key(it), (char *)it + MM_ITEM_HDR_SIZE + 8);
    mm_item_set_cas(it, 42);
    ck_assert_uint_eq(mm_item_cas(it), 42);
    ck_assert_int_eq(memcmp(mm_item_key(it), "key", 3), 0);
    ck_assert_int_eq(memcmp(mm_item_cdata(it), "val", 3), 0);
    ck_assert_uint_eq(mm_item_clsid(it), 7);
    free(it);
}
END_TEST

START_TEST(test_large_layout)
{
    /* A large item keeps its 32-bit length after the header. */
    struct mm_item *it = make_flags("big", "0123456789", true, 5, MM_ITEM_CLS_LARGE);

    ck_assert_uint_eq(mm_item_vlen(it), 10);
    ck_assert_uint_eq(mm_item_flags(it), 5);
    ck_assert_uint_eq(mm_item_clsid(it), MM_ITEM_CLS_LARGE);
    ck_assert_ptr_eq(mm_item_key(it), (char *)it + MM_ITEM_HDR_SIZE + 4 + 8 + 4);
    mm_item_set_cas(it, 0xabcdef);
    ck_assert_uint_eq(mm_item_cas(it), 0xabcdef);
    ck_assert_uint_eq(mm_item_vlen(it), 10);
    ck_assert_int_eq(memcmp(mm_item_cdata(it), "0123456789", 10), 0);
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
    tcase_add_test(tc, test_flags_zero_take_no_room);
    tcase_add_test(tc, test_large_layout);
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
