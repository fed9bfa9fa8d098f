/* Meta commands in the command layer (cmd_meta.c): request bytes go through
 * the text parser, a tiny in-test "connection" and a real store, and the
 * reply bytes are compared with what memcached 1.6.18 sent for the same
 * input on a fresh server. Also: stats counting, q, swallowing after a
 * refused ms, and meta and classic commands sharing one store. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mmem/alloc.h"
#include "mmem/clock.h"
#include "mmem/cmd.h"
#include "mmem/hash.h"
#include "mmem/log.h"
#include "mmem/out.h"
#include "mmem/req.h"
#include "mmem/settings.h"
#include "mmem/stats.h"
#include "mmem/store.h"
#include "mmem/text.h"

#include "cmd_fixture.h"

/* ---- transcripts: input and memcached's reply, each on a fresh store ---- */

struct xcase {
    const char *in;
    size_t inlen;
    const char *want;
    size_t wantlen;
    bool closes;
};

#define X(in, want)                                                                                \
    {                                                                                              \
        in, sizeof(in) - 1, want, sizeof(want) - 1, false                                          \
    }
#define XC(in, want)                                                                               \
    {                                                                                              \
        in, sizeof(in) - 1, want, sizeof(want) - 1, true                                           \
    }

static const struct xcase xcases[] = {
    X("mg k v\r\n", "EN\r\n"),
    X("mg k v q\r\nmn\r\n", "MN\r\n"),
    X("mg k k O1 s\r\n", "EN kk O1\r\n"),
    X("ms foo 3\r\nbar\r\nmg foo s v f t c k O123 q\r\n",
      "HD\r\nVA 3 s3 f0 t-1 c1 kfoo O123\r\nbar\r\n"),
    X("ms k1 2\r\nhi\r\nmg k1 q\r\nmg k1 q k\r\nmn\r\n", "HD\r\nHD\r\nHD kk1\r\nMN\r\n"),
    X("ms foo 3 c k O1 F5 T0\r\nbar\r\n", "HD c1 kfoo O1\r\n"),
    X("ms foo 3 q\r\nbar\r\nmn\r\n", "MN\r\n"),
    X("ms foo bar\r\nabc\r\n", "CLIENT_ERROR bad command line format\r\nERROR\r\n"),
    X("ms foo 3 Z\r\nabc\r\nmn\r\n", "CLIENT_ERROR invalid flag\r\nMN\r\n"),
    X("ms foo 3 MX\r\nabc\r\nmn\r\n", "CLIENT_ERROR invalid mode for ms M token\r\nMN\r\n"),
    X("ms foo 3\r\nabcde\r\n", "CLIENT_ERROR bad data chunk\r\nERROR\r\n"),
    X("ms foo 2 O\r\nhi\r\n", "HD O\r\n"),
    X("ms foo 2 c\r\nhi\r\nms foo 2 c C99\r\nhi\r\nmg foo c\r\n", "HD c1\r\nEX c0\r\nHD c1\r\n"),
    X("ms nope 3 C1\r\nabc\r\n", "NF\r\n"),
    X("ms foo 2\r\nhi\r\nms foo 2 MA\r\nxx\r\nms foo 2 MP\r\nyy\r\nmg foo v\r\n",
      "HD\r\nHD\r\nHD\r\nVA 6\r\nyyhixx\r\n"),
    X("ms zz 2 MA\r\nxx\r\nms zz 2 MR\r\nxx\r\nms zz 2 ME q\r\nxx\r\nms zz 2 ME q\r\nxx\r\nmn\r\n",
      "NS\r\nNS\r\nNS\r\nMN\r\n"),
    X("ms a2V5OQ== 2 b k\r\nhi\r\nmg a2V5OQ== b k v\r\nmg key9 v\r\n",
      "HD ka2V5OQ== b\r\nVA 2 ka2V5OQ== b\r\nhi\r\nVA 2\r\nhi\r\n"),
    X("mg bm9rZXk= k O1 v s b\r\n", "EN kbm9rZXk= b O1\r\n"),
    X("ms foo 2\r\nhi\r\nmd foo q\r\nmd foo\r\nmd foo q\r\nmn\r\n", "HD\r\nNF\r\nNF\r\nMN\r\n"),
    X("ms foo 2\r\nhi\r\nmd foo C9 q\r\nmd foo k C8\r\n", "HD\r\nEX\r\nEX kfoo\r\n"),
    X("md foo k O9 C5\r\n", "NF kfoo O9\r\n"),
    X("ma cnt\r\nma cnt N0 J10 v\r\nma cnt v\r\nma cnt MD D3 v t c k O1\r\n",
      "NF\r\nVA 2\r\n10\r\nVA 2\r\n11\r\nVA 1 t-1 c3 kcnt O1\r\n8\r\n"),
    X("ma nothere q\r\nma nothere N0 q\r\nmn\r\n", "NF\r\nHD\r\nMN\r\n"),
    X("ms nn 2\r\nhi\r\nma nn\r\n",
      "HD\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n"),
    X("ms nm 2\r\n10\r\nma nm q\r\nma nm C9\r\nmn\r\n", "HD\r\nEX\r\nMN\r\n"),
    X("ma nz N0 J5 MD D10 v\r\n", "VA 1\r\n5\r\n"),
    X("ma m1 N0 J18446744073709551615 v\r\nma m1 v\r\n",
      "VA 20\r\n18446744073709551615\r\nVA 1\r\n0\r\n"),
    X("ma m3 N0 T50 t v\r\nma m3 T0 t\r\n", "VA 1 t50\r\n0\r\nHD t-1\r\n"),
    X("ma cnt Dx\r\n", "CLIENT_ERROR invalid or duplicate flag\r\n"),
    X("me k\r\nme\r\n", "EN\r\nCLIENT_ERROR bad command line format\r\n"),
    X("ms cnt 2\r\n10\r\nme cnt\r\n", "HD\r\nME cnt exp=-1 la=0 cas=1 fetch=no cls=1 size=64\r\n"),
    X("set k 5 0 2\r\nhi\r\nmg k v f\r\nms j 2 F3\r\nyo\r\nget j\r\n",
      "STORED\r\nVA 2 f5\r\nhi\r\nHD\r\nVALUE j 3 2\r\nyo\r\nEND\r\n"),
    X("ms k3 2 F7\r\nhi\r\nmd k3 I T30\r\nmg k3 v c t\r\nmg k3 v c\r\nmg k3 v\r\nms k3 "
      "2\r\nnw\r\nmg k3 v\r\n",
      "HD\r\nHD\r\nVA 2 c2 t30 X W\r\nhi\r\nVA 2 c2 Z X\r\nhi\r\nVA 2 Z X\r\nhi\r\nHD\r\nVA "
      "2\r\nnw\r\n"),
    X("mg k4 N30 v c t\r\nmg k4 N30 v c t\r\nmg k4 v\r\nmd k4 I\r\nmg k4 s\r\nmg k4 s\r\n",
      "VA 0 c1 t30 W\r\n\r\nVA 0 c1 t30 Z\r\n\r\nVA 0 Z\r\n\r\nHD\r\nHD s0 X W\r\nHD s0 Z X\r\n"),
    X("ms k5 2 T100\r\nhi\r\nmg k5 R200 v\r\nmg k5 R200 v\r\nmg k5 R50 v\r\n",
      "HD\r\nVA 2 W\r\nhi\r\nVA 2 Z\r\nhi\r\nVA 2 Z\r\nhi\r\n"),
    X("ms k7 2\r\nhi\r\nms k7 2\r\nhi\r\nms k7 2 C1 I\r\nyo\r\nmg k7 v c\r\nms k7 2 C999 "
      "I\r\nzz\r\n",
      "HD\r\nHD\r\nHD\r\nVA 2 c3 X W\r\nyo\r\nEX\r\n"),
    X("mg k8 h l\r\nms k8 2\r\nhi\r\nmg k8 h\r\nmg k8 h\r\nmd k8 I q\r\nmd k8 I C1\r\nmd k9 "
      "I\r\n",
      "EN\r\nHD\r\nHD h0\r\nHD h1\r\nEX\r\nNF\r\n"),
    X("mg\r\nmd\r\nma\r\nms\r\nmz k\r\n", "ERROR\r\nERROR\r\nERROR\r\nERROR\r\nERROR\r\n"),
};

START_TEST(test_transcript)
{
    const struct xcase *c = &xcases[_i];

    feed(c->in, c->inlen);
    ck_assert_msg(reply_len == c->wantlen && memcmp(reply, c->want, reply_len) == 0,
                  "case %d in: %s\ngot: [%s]\nwant: [%s]", _i, c->in, reply, c->want);
    ck_assert_msg(closed == c->closes, "case %d: closed %d", _i, closed);
}
END_TEST

/* The counters memcached 1.6.18 moves for each meta command. */
START_TEST(test_stats_counts)
{
    feed_str("ms a 1\r\nx\r\nmg a v\r\nmg b v\r\nmg a T5\r\nmg b T5\r\n");
    ck_assert_uint_eq(wstats.cmd_set, 1);
    ck_assert_uint_eq(wstats.cmd_get, 3);
    ck_assert_uint_eq(wstats.get_hits, 1);
    ck_assert_uint_eq(wstats.get_misses, 2);
    ck_assert_uint_eq(wstats.cmd_touch, 1);
    ck_assert_uint_eq(wstats.touch_hits, 1);
    ck_assert_uint_eq(wstats.touch_misses, 0);
    feed_str("md a\r\nmd a\r\nmn\r\nma c\r\nma c N0\r\nma c\r\nmg x y\r\n");
    ck_assert_uint_eq(wstats.delete_hits, 1);
    ck_assert_uint_eq(wstats.delete_misses, 1);
    ck_assert_uint_eq(wstats.incr_misses, 1);
    ck_assert_uint_eq(wstats.incr_hits, 1);
    ck_assert_uint_eq(wstats.cmd_get, 3); /* an error counts nothing */
    ck_assert_uint_eq(wstats.cmd_meta, 0);
    feed_str("me a\r\nms a 1 C5\r\nx\r\n");
    ck_assert_uint_eq(wstats.cmd_meta, 1);
    ck_assert_uint_eq(wstats.cas_misses, 1);
    ck_assert_uint_eq(wstats.cmd_set, 2);
}
END_TEST

/* A refused ms swallows its value: the bytes are not parsed as commands. */
START_TEST(test_ms_too_large)
{
    size_t vlen = 2 * 1024 * 1024;
    char *in = malloc(vlen + 64);
    int n = sprintf(in, "ms k %zu\r\n", vlen);

    feed_str("ms k 2\r\nhi\r\n");
    memset(in + n, 'g', vlen);
    memcpy(in + n + vlen, "\r\nmg k v\r\n", 10);
    feed(in, (size_t)n + vlen + 10);
    reply[reply_len] = '\0';
    /* and the old value is gone, as memcached drops it */
    ck_assert_str_eq(reply, "SERVER_ERROR object too large for cache\r\nEN\r\n");
    free(in);
}
END_TEST

START_TEST(test_me_disabled)
{
    settings.dump_enabled = false;
    EXPECT("ms k 2\r\nhi\r\nme k\r\n", "HD\r\nCLIENT_ERROR metadump not allowed\r\n");
}
END_TEST

/* Meta and classic commands share items, CAS and flags. */
START_TEST(test_shared_store)
{
    EXPECT("set k 7 0 2\r\n10\r\nma k v\r\nincr k 5\r\nmg k v f\r\n",
           "STORED\r\nVA 2\r\n11\r\n16\r\nVA 2 f7\r\n16\r\n");
    EXPECT("mg k c\r\ngets k\r\n", "HD c3\r\nVALUE k 7 2 3\r\n16\r\nEND\r\n");
    EXPECT("ms k 1 C3 F1\r\nz\r\ncas k 2 0 1 3\r\ny\r\ndelete k\r\nmd k\r\n",
           "HD\r\nEXISTS\r\nDELETED\r\nNF\r\n");
}
END_TEST

static Suite *
meta_suite(void)
{
    Suite *s = suite_create("cmd_meta");
    TCase *tc = tcase_create("meta");
    int nx = (int)(sizeof(xcases) / sizeof(xcases[0]));

    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_transcript, 0, nx);
    tcase_add_test(tc, test_stats_counts);
    tcase_add_test(tc, test_ms_too_large);
    tcase_add_test(tc, test_me_disabled);
    tcase_add_test(tc, test_shared_store);
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
