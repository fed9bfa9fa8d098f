/* The read buffer's rules: lazy allocation, growth to a cap, no movement
 * while a hold is taken, compaction and release when allowed, and lending
 * of a scratch area that leaves the buffer owning only unparsed bytes. */
#include "config.h"

#include "mmem/iobuf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static void
put(struct mm_iobuf *b, const char *s)
{
    size_t n = strlen(s);
    size_t room = 0;
    char *p = mm_iobuf_space(b, &room);

    ck_assert_ptr_nonnull(p);
    ck_assert_uint_ge(room, n);
    memcpy(p, s, n);
    mm_iobuf_produce(b, n);
}

START_TEST(test_lazy_and_release)
{
    struct mm_iobuf b;

    mm_iobuf_init(&b, 64, 256);
    ck_assert_ptr_null(b.base);
    ck_assert_uint_eq(mm_iobuf_len(&b), 0);
    put(&b, "get a\r\n");
    ck_assert_uint_eq(b.cap, 64);
    ck_assert_uint_eq(mm_iobuf_len(&b), 7);
    ck_assert_int_eq(memcmp(mm_iobuf_data(&b), "get a\r\n", 7), 0);
    mm_iobuf_consume(&b, 7);
    ck_assert_uint_eq(mm_iobuf_len(&b), 0);
    ck_assert(mm_iobuf_trim(&b));
    ck_assert_ptr_null(b.base);
    ck_assert_uint_eq(b.cap, 0);
    ck_assert(!mm_iobuf_trim(&b));
    mm_iobuf_fini(&b);
}
END_TEST

START_TEST(test_grow_to_max)
{
    struct mm_iobuf b;
    size_t room = 0;
    char *p;
    int rounds = 0;

    mm_iobuf_init(&b, 16, 100);
    /* Fill without consuming: doubles 16 -> 32 -> 64 -> 100, then full. */
    while ((p = mm_iobuf_space(&b, &room)) != NULL && rounds < 100) {
        memset(p, 'x', room);
        mm_iobuf_produce(&b, room);
        rounds++;
    }
    ck_assert_int_lt(rounds, 100);
    ck_assert_uint_eq(b.cap, 100);
    ck_assert_uint_eq(mm_iobuf_len(&b), 100);
    ck_assert(mm_iobuf_full(&b));
    ck_assert_uint_eq(room, 0);
    /* Consuming frees room again (by compaction). */
    mm_iobuf_consume(&b, 10);
    ck_assert(!mm_iobuf_full(&b));
    p = mm_iobuf_space(&b, &room);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(room, 10);
    ck_assert_uint_eq(b.head, 0);
    ck_assert_uint_eq(mm_iobuf_len(&b), 90);
    mm_iobuf_fini(&b);
}
END_TEST

START_TEST(test_hold_freezes)
{
    struct mm_iobuf b;
    const char *data;
    char *p;
    size_t room = 0;
    size_t cap;

    mm_iobuf_init(&b, 16, 1024);
    put(&b, "0123456789abcd");
    mm_iobuf_consume(&b, 10);
    data = mm_iobuf_data(&b);
    cap = b.cap;
    mm_iobuf_hold(&b);
    /* Only the 2 bytes after the tail are offered: no compaction, no
     * growth, no realloc while the span at data is in use. */
    p = mm_iobuf_space(&b, &room);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(room, 2);
    memcpy(p, "ef", 2);
    mm_iobuf_produce(&b, 2);
    p = mm_iobuf_space(&b, &room);
    ck_assert_ptr_null(p);
    ck_assert_uint_eq(room, 0);
    ck_assert_ptr_eq(mm_iobuf_data(&b), data);
    ck_assert_uint_eq(b.cap, cap);
    ck_assert(!mm_iobuf_trim(&b));
    /* Consuming everything under a hold does not rewind either. */
    mm_iobuf_consume(&b, 6);
    ck_assert_uint_eq(b.head, 16);
    ck_assert(!mm_iobuf_trim(&b));
    ck_assert_ptr_nonnull(b.base);
    mm_iobuf_unhold(&b);
    ck_assert(mm_iobuf_trim(&b));
    ck_assert_ptr_null(b.base);
    mm_iobuf_fini(&b);
}
END_TEST

START_TEST(test_nested_holds)
{
    struct mm_iobuf b;
    size_t room = 0;

    mm_iobuf_init(&b, 8, 64);
    put(&b, "abcdefgh");
    mm_iobuf_hold(&b);
    mm_iobuf_hold(&b);
    mm_iobuf_unhold(&b);
    ck_assert_ptr_null(mm_iobuf_space(&b, &room));
    mm_iobuf_unhold(&b);
    ck_assert_ptr_nonnull(mm_iobuf_space(&b, &room));
    ck_assert_uint_eq(b.cap, 16);
    ck_assert_int_eq(memcmp(mm_iobuf_data(&b), "abcdefgh", 8), 0);
    mm_iobuf_fini(&b);
}
END_TEST

START_TEST(test_shrink_after_long_line)
{
    struct mm_iobuf b;
    char line[200];

    mm_iobuf_init(&b, 32, 512);
    memset(line, 'k', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    while (mm_iobuf_len(&b) < sizeof(line) - 1) {
        size_t room = 0;
        size_t want = sizeof(line) - 1 - mm_iobuf_len(&b);
        char *p = mm_iobuf_space(&b, &room);

        ck_assert_ptr_nonnull(p);
        if (room > want) {
            room = want;
        }
        memcpy(p, line, room);
        mm_iobuf_produce(&b, room);
    }
    ck_assert_uint_ge(b.cap, 199);
    put(&b, "get x\r\n");
    /* The long line is done; what is left fits the initial size. */
    mm_iobuf_consume(&b, 199);
    ck_assert(mm_iobuf_trim(&b));
    ck_assert_uint_eq(b.cap, 32);
    ck_assert_uint_eq(mm_iobuf_len(&b), 7);
    ck_assert_int_eq(memcmp(mm_iobuf_data(&b), "get x\r\n", 7), 0);
    mm_iobuf_fini(&b);
}
END_TEST

START_TEST(test_compact_keeps_partial)
{
    struct mm_iobuf b;
    size_t room = 0;
    char *p;

    mm_iobuf_init(&b, 16, 16);
    put(&b, "get a\r\nget bb");
    mm_iobuf_consume(&b, 7);
    /* 3 bytes of room at the end (< cap/4 is 4): compacts rather than
     * fails, keeping the partial request. */
    p = mm_iobuf_space(&b, &room);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(room, 10);
    ck_assert_uint_eq(mm_iobuf_len(&b), 6);
    ck_assert_int_eq(memcmp(mm_iobuf_data(&b), "get bb", 6), 0);
    mm_iobuf_fini(&b);
}
END_TEST

/* A lent area takes the reads; settling keeps only the unconsumed tail, in
 * an allocation of about its size, and the next loan takes it back. */
START_TEST(test_lend_settle)
{
    char scratch[128];
    struct mm_iobuf b;

    mm_iobuf_init(&b, 64, 1024);
    ck_assert(mm_iobuf_lend(&b, scratch, sizeof(scratch)));
    put(&b, "get a\r\nget b");
    ck_assert_ptr_eq(b.base, scratch);
    ck_assert_uint_eq(b.cap, sizeof(scratch));
    mm_iobuf_consume(&b, 7);
    mm_iobuf_settle(&b);
    ck_assert(!b.lent);
    ck_assert_ptr_nonnull(b.base);
    ck_assert(b.base != scratch);
    ck_assert_uint_eq(b.cap, 64);
    ck_assert_uint_eq(mm_iobuf_len(&b), 5);
    ck_assert_int_eq(memcmp(mm_iobuf_data(&b), "get b", 5), 0);
    /* The scratch is reused by someone else meanwhile. */
    memset(scratch, 'x', sizeof(scratch));
    ck_assert(mm_iobuf_lend(&b, scratch, sizeof(scratch)));
    ck_assert_ptr_eq(b.base, scratch);
    ck_assert_int_eq(memcmp(mm_iobuf_data(&b), "get b", 5), 0);
    put(&b, "\r\n");
    mm_iobuf_consume(&b, 7);
    mm_iobuf_settle(&b);
    /* Everything parsed: nothing owned. */
    ck_assert_ptr_null(b.base);
    ck_assert_uint_eq(b.cap, 0);
    ck_assert_uint_eq(mm_iobuf_len(&b), 0);
    /* Settling without a loan changes nothing. */
    mm_iobuf_settle(&b);
    ck_assert_ptr_null(b.base);
    mm_iobuf_fini(&b);
}
END_TEST

/* No loan while a hold is taken, while one is already running, or when the
 * bytes owned would fill more than half the area; a lent area that must grow
 * moves into memory of the buffer's own. */
START_TEST(test_lend_refused_and_grow)
{
    char scratch[64];
    char other[64];
    char big[100];
    struct mm_iobuf b;
    size_t room = 0;
    char *p;

    mm_iobuf_init(&b, 64, 1024);
    mm_iobuf_hold(&b);
    ck_assert(!mm_iobuf_lend(&b, scratch, sizeof(scratch)));
    mm_iobuf_unhold(&b);
    ck_assert(mm_iobuf_lend(&b, scratch, sizeof(scratch)));
    ck_assert(!mm_iobuf_lend(&b, other, sizeof(other)));
    ck_assert_ptr_eq(b.base, scratch);
    memset(big, 'k', sizeof(big));
    p = mm_iobuf_space(&b, &room);
    ck_assert_ptr_eq(p, scratch);
    ck_assert_uint_eq(room, 64);
    memcpy(p, big, 64);
    mm_iobuf_produce(&b, 64);
    /* Full: the next space() grows into a buffer of its own. */
    p = mm_iobuf_space(&b, &room);
    ck_assert_ptr_nonnull(p);
    ck_assert(!b.lent);
    ck_assert(b.base != scratch);
    ck_assert_uint_eq(b.cap, 128);
    ck_assert_uint_eq(room, 64);
    memset(scratch, 0, sizeof(scratch));
    ck_assert_int_eq(memcmp(mm_iobuf_data(&b), big, 64), 0);
    /* 64 bytes owned do not fit in half of a 64-byte area. */
    ck_assert(!mm_iobuf_lend(&b, scratch, sizeof(scratch)));
    ck_assert(b.base != scratch);
    mm_iobuf_settle(&b);
    ck_assert_uint_eq(mm_iobuf_len(&b), 64);
    mm_iobuf_fini(&b);
    ck_assert_ptr_null(b.base);
}
END_TEST

static Suite *
iobuf_suite(void)
{
    Suite *s = suite_create("iobuf");
    TCase *tc = tcase_create("rules");

    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_lazy_and_release);
    tcase_add_test(tc, test_grow_to_max);
    tcase_add_test(tc, test_hold_freezes);
    tcase_add_test(tc, test_nested_holds);
    tcase_add_test(tc, test_shrink_after_long_line);
    tcase_add_test(tc, test_compact_keeps_partial);
    tcase_add_test(tc, test_lend_settle);
    tcase_add_test(tc, test_lend_refused_and_grow);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(iobuf_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
