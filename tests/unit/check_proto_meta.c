/* Tests for the meta parser (proto/meta.c) through the text entry point:
 * each line's request type, key, flag bitmap and arguments, memcached
 * 1.6.18's error line for every malformed flag set, every split point of
 * meta requests, and the base64 helpers. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mmem/meta.h"
#include "mmem/req.h"
#include "mmem/text.h"

#define L(s) s, sizeof(s) - 1

static void
parse_ok(const char *in, size_t len, struct mm_req *req)
{
    size_t used = 0;

    ck_assert_int_eq(mm_text_parse(in, len, MM_TEXT_MAX_LINE, req, &used), MM_TEXT_OK);
    ck_assert_uint_eq(used, len);
}

struct ecase {
    const char *in;
    size_t len;
    enum mm_req_type type;
    const char *err; /* NULL: no error */
};

static const struct ecase ecases[] = {
    {L("mg k\r\n"), MM_REQ_MG, NULL},
    {L("mg k v\n"), MM_REQ_MG, NULL},
    {L("mg k x\r\n"), MM_REQ_MG, "CLIENT_ERROR invalid flag\r\n"},
    {L("mg k E5\r\n"), MM_REQ_MG, "CLIENT_ERROR invalid flag\r\n"},
    {L("mg k 7\r\n"), MM_REQ_MG, "CLIENT_ERROR invalid flag\r\n"},
    {L("mg k v v\r\n"), MM_REQ_MG, "CLIENT_ERROR duplicate flag\r\n"},
    {L("mg k O1 O2\r\n"), MM_REQ_MG, "CLIENT_ERROR duplicate flag\r\n"},
    {L("mg k \x80\r\n"), MM_REQ_MG, "CLIENT_ERROR duplicate flag\r\n"},
    {L("mg k Tx\r\n"), MM_REQ_MG, "CLIENT_ERROR bad token in command line format\r\n"},
    {L("mg k T\r\n"), MM_REQ_MG, "CLIENT_ERROR bad token in command line format\r\n"},
    {L("mg k Nx\r\n"), MM_REQ_MG, "CLIENT_ERROR bad token in command line format\r\n"},
    {L("mg k Rx\r\n"), MM_REQ_MG, "CLIENT_ERROR bad token in command line format\r\n"},
    {L("mg k Fx\r\n"), MM_REQ_MG, "CLIENT_ERROR bad command line format\r\n"},
    /* a later bad argument replaces an earlier one; an invalid flag stops */
    {L("mg k Tx Fx\r\n"), MM_REQ_MG, "CLIENT_ERROR bad token in command line format\r\n"},
    {L("mg k Tx Z\r\n"), MM_REQ_MG, "CLIENT_ERROR invalid flag\r\n"},
    {L("mg k Oabcdefghijabcdefghijabcdefghija\r\n"), MM_REQ_MG, NULL},
    {L("mg k Oabcdefghijabcdefghijabcdefghijab\r\n"), MM_REQ_MG,
     "CLIENT_ERROR opaque token too long\r\n"},
    {L("mg k a b c d e f g h i j k l m n o p q r\r\n"), MM_REQ_MG,
     "CLIENT_ERROR options flags are too long\r\n"},
    {L("mg k O0 b c d e f g h i j k l m n o p q\r\n"), MM_REQ_MG, "CLIENT_ERROR invalid flag\r\n"},
    {L("mg !!!! b\r\n"), MM_REQ_MG, "CLIENT_ERROR error decoding key\r\n"},
    {L("mg a2V5O b\r\n"), MM_REQ_MG, "CLIENT_ERROR error decoding key\r\n"},
    {L("mg\r\n"), MM_REQ_ERROR, NULL},
    {L("mg \r\n"), MM_REQ_ERROR, NULL},
    {L("mx k\r\n"), MM_REQ_ERROR, NULL},
    {L("ms k 2\r\n"), MM_REQ_MS, NULL},
    {L("ms k\r\n"), MM_REQ_MG, "CLIENT_ERROR bad command line format\r\n"},
    {L("ms k x\r\n"), MM_REQ_MG, "CLIENT_ERROR bad command line format\r\n"},
    {L("ms k -1\r\n"), MM_REQ_MG, "CLIENT_ERROR bad command line format\r\n"},
    {L("ms k 2 Z\r\n"), MM_REQ_MS, "CLIENT_ERROR invalid flag\r\n"},
    {L("ms k 2 MX\r\n"), MM_REQ_MS, "CLIENT_ERROR invalid mode for ms M token\r\n"},
    {L("ms k 2 Ms\r\n"), MM_REQ_MS, "CLIENT_ERROR invalid mode for ms M token\r\n"},
    {L("ms k 2 MEE\r\n"), MM_REQ_MS, "CLIENT_ERROR incorrect length for M token\r\n"},
    {L("ms k 2 Fx\r\n"), MM_REQ_MS, "CLIENT_ERROR bad command line format\r\n"},
    {L("ms k 2 Cx\r\n"), MM_REQ_MS, "CLIENT_ERROR bad token in command line format\r\n"},
    {L("ms\r\n"), MM_REQ_ERROR, NULL},
    {L("md k\r\n"), MM_REQ_MD, NULL},
    {L("md k x\r\n"), MM_REQ_MD, "CLIENT_ERROR invalid or duplicate flag\r\n"},
    {L("md k Cx\r\n"), MM_REQ_MD, "CLIENT_ERROR invalid or duplicate flag\r\n"},
    {L("md k q q\r\n"), MM_REQ_MD, "CLIENT_ERROR invalid or duplicate flag\r\n"},
    {L("ma k\r\n"), MM_REQ_MA, NULL},
    {L("ma k Dx\r\n"), MM_REQ_MA, "CLIENT_ERROR invalid or duplicate flag\r\n"},
    {L("ma k J-1\r\n"), MM_REQ_MA, "CLIENT_ERROR invalid or duplicate flag\r\n"},
    {L("ma k MX\r\n"), MM_REQ_MA, "CLIENT_ERROR invalid mode for ma M token\r\n"},
    {L("ma k Mi\r\n"), MM_REQ_MA, "CLIENT_ERROR invalid mode for ma M token\r\n"},
    {L("ma k M-\r\n"), MM_REQ_MA, NULL},
    {L("me k\r\n"), MM_REQ_ME, NULL},
    {L("me\r\n"), MM_REQ_ME, "CLIENT_ERROR bad command line format\r\n"},
    {L("me a2V5O b\r\n"), MM_REQ_ME, "CLIENT_ERROR error decoding key\r\n"},
};

START_TEST(test_errors)
{
    const struct ecase *c = &ecases[_i];
    struct mm_req req;

    parse_ok(c->in, c->len, &req);
    ck_assert_msg(req.type == c->type, "case %d (%s): type %d want %d", _i, c->in, req.type,
                  c->type);
    if (c->err == NULL) {
        ck_assert_msg(req.meta.err == NULL, "case %d (%s): unexpected %s", _i, c->in, req.meta.err);
    } else {
        ck_assert_msg(req.meta.err != NULL, "case %d (%s): no error", _i, c->in);
        ck_assert_str_eq(req.meta.err, c->err);
    }
    if (c->type == MM_REQ_ERROR) {
        ck_assert_int_eq(req.err, MM_REQ_ERR_UNKNOWN);
    }
}
END_TEST

START_TEST(test_mg_flags)
{
    static const char in[] = "mg key s v f t c k O123 q h l T30 N5 R7\r\n";
    struct mm_req req;

    parse_ok(L(in), &req);
    ck_assert_int_eq(req.type, MM_REQ_MG);
    ck_assert_ptr_null(req.meta.err);
    ck_assert_uint_eq(req.key.len, 3);
    ck_assert(memcmp(req.key.p, "key", 3) == 0);
    ck_assert(req.noreply);
    ck_assert_int_eq(req.exptime, 30);
    ck_assert_int_eq(req.meta.vivify, 5);
    ck_assert_int_eq(req.meta.recache, 7);
    ck_assert_uint_eq(req.meta.nopaque, 3);
    ck_assert(memcmp(req.meta.opaque, "123", 3) == 0);
    ck_assert_uint_eq(req.meta.norder, 13);
    ck_assert(memcmp(req.meta.order, "svftckOqhlTNR", 13) == 0);
    ck_assert((req.meta.seen & MM_META_FLAG('v')) != 0);
    ck_assert((req.meta.seen & MM_META_FLAG('R')) != 0);
    ck_assert((req.meta.seen & MM_META_FLAG('b')) == 0);
    ck_assert((req.meta.seen & MM_META_FLAG('C')) == 0);
}
END_TEST

START_TEST(test_ms_args)
{
    static const char in[] = "ms k 12 F4294967297 C99 MA T-1 I b\r\n";
    static const char b64[] = "ms a2V5OQ== 0 b\r\n";
    struct mm_req req;

    /* "k" is not base64 with b: */
    parse_ok(L(in), &req);
    ck_assert_str_eq(req.meta.err, "CLIENT_ERROR error decoding key\r\n");
    parse_ok(L("ms k 12 F4294967297 C99 MA T-1 I\r\n"), &req);
    ck_assert_int_eq(req.type, MM_REQ_MS);
    ck_assert(mm_req_is_storage(req.type));
    ck_assert_ptr_null(req.meta.err);
    ck_assert_uint_eq(req.vlen, 12);
    ck_assert_uint_eq(req.flags, 1); /* truncated to 32 bits, as memcached */
    ck_assert_uint_eq(req.cas, 99);
    ck_assert_int_eq(req.meta.mode, 'A');
    ck_assert_int_eq(req.exptime, -1);
    ck_assert(!req.noreply);
    parse_ok(L(b64), &req);
    ck_assert_ptr_null(req.meta.err);
    ck_assert(req.meta.binary_key);
    /* the span stays on the base64 text; the decoded key is a copy */
    ck_assert_uint_eq(req.key.len, 8);
    ck_assert(memcmp(req.key.p, "a2V5OQ==", 8) == 0);
    ck_assert_uint_eq(mm_meta_key(&req).len, 4);
    ck_assert(memcmp(mm_meta_key(&req).p, "key9", 4) == 0);
}
END_TEST

START_TEST(test_ma_args)
{
    struct mm_req req;

    parse_ok(L("ma n\r\n"), &req);
    ck_assert_uint_eq(req.delta, 1); /* the default delta */
    parse_ok(L("ma n D18446744073709551615 J7 N0 MD q\r\n"), &req);
    ck_assert_ptr_null(req.meta.err);
    ck_assert_uint_eq(req.delta, UINT64_MAX);
    ck_assert_uint_eq(req.meta.initial, 7);
    ck_assert_int_eq(req.meta.mode, 'D');
    ck_assert(req.noreply);
    ck_assert((req.meta.seen & MM_META_FLAG('N')) != 0);
}
END_TEST

/* Every strict prefix of a meta request is "incomplete"; the whole is OK,
 * and bytes after it change nothing. */
START_TEST(test_split_points)
{
    static const char *const reqs[] = {
        "mg key v c f O1 k\r\n",
        "ms key 5 T10 F3 MS c\r\n",
        "md a2V5OQ== b q\r\n",
        "ma key N0 J3 D2 v\r\n",
        "me key\r\n",
        "mg k v v\r\n",
    };
    size_t r;

    for (r = 0; r < sizeof(reqs) / sizeof(reqs[0]); r++) {
        const char *in = reqs[r];
        size_t len = strlen(in);
        struct mm_req whole;
        struct mm_req more;
        char buf[128];
        size_t n;

        parse_ok(in, len, &whole);
        for (n = 0; n < len; n++) {
            struct mm_req req;
            size_t used = 99;

            ck_assert_int_eq(mm_text_parse(in, n, MM_TEXT_MAX_LINE, &req, &used), MM_TEXT_AGAIN);
            ck_assert_uint_eq(used, 0);
        }
        memcpy(buf, in, len);
        memcpy(buf + len, "mg other v\r\n", 12);
        parse_ok(buf, len, &more);
        {
            size_t used = 0;

            ck_assert_int_eq(mm_text_parse(buf, len + 12, MM_TEXT_MAX_LINE, &more, &used),
                             MM_TEXT_OK);
            ck_assert_uint_eq(used, len);
        }
        ck_assert_int_eq(more.type, whole.type);
        ck_assert_uint_eq(more.meta.seen, whole.meta.seen);
        ck_assert(more.meta.err == whole.meta.err);
        ck_assert_uint_eq(more.key.len, whole.key.len);
    }
}
END_TEST

START_TEST(test_base64)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const enc[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char out[64];
    char back[64];
    size_t i;

    for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        size_t n = mm_meta_b64_encode(plain[i], strlen(plain[i]), out);

        ck_assert_uint_eq(n, strlen(enc[i]));
        ck_assert(memcmp(out, enc[i], n) == 0);
        ck_assert_uint_eq(n, MM_META_B64_LEN(strlen(plain[i])));
        if (n > 0) {
            ck_assert_uint_eq(mm_meta_b64_decode(enc[i], n, back, sizeof(back)), strlen(plain[i]));
            ck_assert(memcmp(back, plain[i], strlen(plain[i])) == 0);
        }
    }
    /* bad input */
    ck_assert_uint_eq(mm_meta_b64_decode("Zm9", 3, back, sizeof(back)), 0);
    ck_assert_uint_eq(mm_meta_b64_decode("Zm9!", 4, back, sizeof(back)), 0);
    ck_assert_uint_eq(mm_meta_b64_decode("Z=9v", 4, back, sizeof(back)), 0);
    ck_assert_uint_eq(mm_meta_b64_decode("Zg==Zm9v", 8, back, sizeof(back)), 0);
    ck_assert_uint_eq(mm_meta_b64_decode("Zm9vYmFy", 8, back, 5), 0);
    /* every byte value survives a round trip */
    for (i = 0; i < 48; i++) {
        out[i] = (char)(i * 37 + 11);
    }
    {
        char e[MM_META_B64_LEN(48)];
        size_t n = mm_meta_b64_encode(out, 48, e);

        ck_assert_uint_eq(mm_meta_b64_decode(e, n, back, sizeof(back)), 48);
        ck_assert(memcmp(back, out, 48) == 0);
    }
}
END_TEST

static Suite *
meta_suite(void)
{
    Suite *s = suite_create("proto_meta");
    TCase *tc = tcase_create("meta");

    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_errors, 0, (int)(sizeof(ecases) / sizeof(ecases[0])));
    tcase_add_test(tc, test_mg_flags);
    tcase_add_test(tc, test_ms_args);
    tcase_add_test(tc, test_ma_args);
    tcase_add_test(tc, test_split_points);
    tcase_add_test(tc, test_base64);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(meta_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
