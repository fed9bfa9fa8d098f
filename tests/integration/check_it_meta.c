/* Meta protocol, end to end: each request of a table goes to memcached and
 * to the target (same arguments, flushed first) and the replies must match
 * byte for byte once the values that legitimately differ are masked (CAS
 * numbers, seconds since last access, the slab class and fetch bit of "me").
 * A literal group checks the basics against the target alone. */
#include "config.h"

#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "server.h"
#include "tcheck.h"

#define SENTINEL "mn\r\n"
#define SENTINEL_REPLY "MN\r\n"

#define K10 "kkkkkkkkkk"
#define K50 K10 K10 K10 K10 K10
#define K250 K50 K50 K50 K50 K50

struct mcase {
    const char *name;
    const char *req;
};

static const struct mcase cases[] = {
    {"mg_miss", "mg nokey v\r\n"},
    {"mg_miss_q", "mg nokey v q\r\nmg nokey q k O1\r\n"},
    {"mg_hit_hd", "ms k 3\r\nabc\r\nmg k\r\nmg k q\r\n"},
    {"mg_flags", "ms k 3 F9 T0\r\nabc\r\nmg k s v f t c k O123 q\r\n"},
    {"mg_ttl", "ms k 2 T100\r\nhi\r\nmg k t v\r\nmg k T0 t\r\nmg k t\r\n"},
    {"mg_touch_neg", "ms k 2\r\nhi\r\nmg k T-1 v\r\nmg k v\r\n"},
    {"mg_empty_value", "ms k 0\r\n\r\nmg k v s\r\n"},
    {"mg_b64", "ms a2V5OQ== 2 b k\r\nhi\r\nmg a2V5OQ== b k v\r\nmg key9 v\r\n"},
    {"mg_b64_bad", "mg !!!! b\r\nmg a2V5O b\r\nmg k k b\r\n"},
    {"mg_invalid_flag", "mg k x\r\nmg k E1\r\nmg k k 7\r\n"},
    {"mg_dup_flag", "mg k v v\r\nmg k O1 O2\r\n"},
    {"mg_bad_tokens", "mg k Tx\r\nmg k Nx\r\nmg k Rx\r\nmg k T\r\nmg k Fx\r\n"},
    {"mg_opaque_long",
     "mg k Oabcdefghijabcdefghijabcdefghijab\r\nmg k Oabcdefghijabcdefghijabcdefghija\r\n"},
    {"mg_too_many", "mg k a b c d e f g h i j k l m n o p q r\r\n"
                    "mg k O0 b c d e f g h i j k l m n o p q\r\n"},
    {"mg_no_key", "mg\r\nmg \r\nmgx k\r\nmz k\r\n"},
    {"mg_long_key", "mg " K250 "k v\r\nmg " K250 " v\r\n"},
    {"ms_basic", "ms k 3 c k O1 F5 T0\r\nbar\r\nmg k v f\r\n"},
    {"ms_q", "ms k 3 q\r\nbar\r\nms k 3 q ME\r\nbar\r\n"},
    {"ms_no_len", "ms k\r\nms\r\n"},
    {"ms_bad_len", "ms k bar\r\nabc\r\nms k -1\r\nabc\r\n"},
    {"ms_bad_flag_swallows", "ms k 3 Z\r\nabc\r\nms k 3 S\r\nabc\r\nmg k\r\n"},
    {"ms_bad_args", "ms k 2 Fx\r\nhi\r\nms k 2 Cx\r\nhi\r\nms k 2 Tx\r\nhi\r\nms k 2 E5\r\nhi\r\n"},
    {"ms_modes", "ms k 2 MA\r\nxx\r\nms k 2\r\nhi\r\nms k 2 MA\r\nxx\r\nms k 2 MP\r\nyy\r\n"
                 "mg k v\r\nms z 2 MR\r\nxx\r\nms k 2 MR\r\nrr\r\nms k 2 ME\r\nee\r\n"
                 "ms n 2 ME\r\nee\r\nmg n v\r\nms k 2 MS\r\nss\r\nmg k v\r\n"},
    {"ms_bad_mode", "ms k 2 MX\r\nxx\r\nms k 2 Ms\r\nxx\r\nms k 2 MEE\r\nxx\r\n"},
    {"ms_cas", "ms k 2 c C99\r\nhi\r\nms k 2\r\nhi\r\nms k 2 C1 c\r\nhi\r\n"},
    {"ms_modes_cas", "ms k 2\r\nhi\r\nms k 2 MA C99\r\nxx\r\nms k 2 MP C99\r\nxx\r\n"
                     "ms k 2 MR C99\r\nxx\r\nms k 2 ME C99\r\nxx\r\nms j 2 ME C99\r\nxx\r\n"
                     "ms z 2 MR C99\r\nxx\r\nmg k v\r\nmg j v\r\n"},
    {"ms_bad_chunk", "ms k 3\r\nabcde\r\nmg k\r\n"},
    {"ms_opaque_empty", "ms k 2 O\r\nhi\r\n"},
    {"ms_long_key", "ms " K250 "k 2\r\nhi\r\n"},
    {"md_basic", "ms k 2\r\nhi\r\nmd k q\r\nmd k\r\nmd k q\r\nmd k k O9\r\n"},
    {"md_cas", "ms k 2\r\nhi\r\nmd k C1 q\r\nmd k k C1\r\nmg k v\r\n"},
    {"md_bad", "md k x\r\nmd k Cx\r\nmd k Tx\r\nmd k Z\r\nmd\r\nmd k v v\r\n"},
    {"ma_basic", "ma c\r\nma c N0 J10 v\r\nma c v\r\nma c MD D3 v t k O1\r\nma c M- D100 v\r\n"},
    {"ma_q", "ma n q\r\nma n N0 q\r\nms m 2\r\n10\r\nma m q\r\nma m C1\r\n"},
    {"ma_bad", "ma c D-1\r\nma c Dx\r\nma c Jx\r\nma c MX\r\nma c Mi\r\nma c Z\r\nma\r\n"},
    {"ma_nonnum", "ms k 2\r\nhi\r\nma k\r\n"},
    {"ma_wrap", "ma c N0 J18446744073709551615 v\r\nma c v\r\nma d N0 J5 MD D10 v\r\n"},
    {"ma_ttl", "ma c N0 T50 t v\r\nma c T0 t\r\nma c N0 t\r\n"},
    {"ma_incr_modes", "ma c N0 MI v\r\nma c M+ v\r\nma c M- v\r\nma c MD v\r\n"},
    {"me_basic", "me nokey\r\nme\r\nms k 2\r\nhi\r\nme k\r\n"},
    {"me_b64", "ms a2V5OQ== 2 b\r\nhi\r\nme a2V5OQ== b\r\n"},
    {"b_flag_order",
     "mg bm9rZXk= k O1 v s b\r\nmg nokey s O1 k\r\nmd bm9rZXk= b O1 k\r\n"
     "ma bm9rZXk= b k O1\r\nms bm9rZXk= 2 b O1 k c\r\nhi\r\nmg bm9rZXk= b k O2 v\r\n"},
    {"stale_md_i", "ms k 2 F7\r\nhi\r\nmd k I T30\r\nmg k v c t\r\nmg k v c\r\nmg k v\r\n"
                   "ms k 2\r\nnw\r\nmg k v\r\n"},
    {"vivify", "mg v N30 v c t\r\nmg v N30 v c t\r\nmg v v\r\nmd v I\r\nmg v s\r\nmg v s\r\n"
               "mg w N30 T60 t v\r\nmg w N0 k O5 q\r\n"},
    {"recache", "ms r 2 T100\r\nhi\r\nmg r R200 v\r\nmg r R200 v\r\nmg r R50 v\r\n"
                "ms n 2\r\nhi\r\nmg n R50 v\r\n"},
    {"ms_stale", "ms k 2\r\nhi\r\nms k 2 C1 I\r\nyo\r\nmg k v\r\nms k 2 C999999 I\r\nzz\r\n"
                 "ms k 2 C1\r\nzz\r\n"},
    {"hit_before", "mg h h\r\nms h 2\r\nhi\r\nmg h h\r\nmg h h v\r\nmd h I q\r\nmd h I C1\r\n"
                   "md nope I\r\n"},
    /* "mn foo bar" is a literal test: the harness reads up to the first
     * MN, so a case whose own reply is MN cannot be compared here. */
    {"classic_and_meta", "set k 5 0 2\r\nhi\r\nmg k v f\r\nms j 2 F3\r\nyo\r\nget j\r\n"
                         "incr n 1\r\nma n N0 J7 v\r\nincr n 1\r\ndelete j\r\nmg j v\r\n"},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static struct mm_tserver ref_srv;
static struct mm_tserver tgt_srv;

static void
diff_setup(void)
{
    if (mm_tserver_startl(&ref_srv, MM_TSERVER_MEMCACHED, 0, NULL) != 0) {
        ck_abort_msg("cannot start memcached");
    }
    if (mm_tserver_startl(&tgt_srv, MM_TSERVER_TARGET, 0, NULL) != 0) {
        ck_abort_msg("cannot start target server");
    }
}

static void
diff_teardown(void)
{
    int a = mm_tserver_stop(&tgt_srv);
    int b = mm_tserver_stop(&ref_srv);

    if (a != 0 || b != 0) {
        fprintf(stderr, "WARNING: server did not stop cleanly (target %d, memcached %d)\n", a, b);
    }
}

/* Replace the digits after `prefix` (at a token start) by "#". */
static size_t
mask_number(const char *line, size_t ll, size_t i, const char *prefix, char *out, size_t *o)
{
    size_t pl = strlen(prefix);

    if (i + pl <= ll && (i == 0 || line[i - 1] == ' ') && memcmp(line + i, prefix, pl) == 0 &&
        i + pl < ll && (isdigit((unsigned char)line[i + pl]) || line[i + pl] == '-')) {
        size_t j = i + pl;

        memcpy(out + *o, prefix, pl);
        *o += pl;
        out[(*o)++] = '#';
        while (j < ll && line[j] != ' ' && line[j] != '\r' && line[j] != '\n') {
            j++;
        }
        return j;
    }
    return i;
}

/* Mask per-server values in meta status lines; data blocks after "VA <n>"
 * are copied verbatim. */
static char *
mask_reply(const char *in, size_t len, size_t *olen)
{
    char *out = malloc(2 * len + 16);
    size_t i = 0;
    size_t o = 0;

    while (i < len) {
        const char *nl = memchr(in + i, '\n', len - i);
        size_t ll = nl ? (size_t)(nl - (in + i)) + 1 : len - i;
        const char *line = in + i;
        bool status = ll >= 2 && (memcmp(line, "HD", 2) == 0 || memcmp(line, "VA", 2) == 0 ||
                                  memcmp(line, "EX", 2) == 0 || memcmp(line, "NF", 2) == 0 ||
                                  memcmp(line, "NS", 2) == 0 || memcmp(line, "ME", 2) == 0);
        unsigned long long vlen = 0;
        size_t j = 0;

        if (status && ll > 3 && memcmp(line, "VA ", 3) == 0) {
            vlen = strtoull(line + 3, NULL, 10) + 2;
        }
        while (j < ll) {
            size_t k = j;

            if (status) {
                static const char *const masks[] = {"c", "l", "cas=", "la=", "cls=", "fetch="};
                size_t m;

                for (m = 0; m < sizeof(masks) / sizeof(masks[0]) && k == j; m++) {
                    k = mask_number(line, ll, j, masks[m], out, &o);
                }
                if (k == j && j + 6 <= ll && memcmp(line + j, "fetch=", 6) == 0) {
                    memcpy(out + o, "fetch=#", 7);
                    o += 7;
                    k = j + 6;
                    while (k < ll && line[k] != ' ' && line[k] != '\r') {
                        k++;
                    }
                }
            }
            if (k == j) {
                out[o++] = line[j++];
            } else {
                j = k;
            }
        }
        i += ll;
        if (vlen > 0 && vlen <= len - i) {
            memcpy(out + o, in + i, vlen);
            o += vlen;
            i += vlen;
        }
    }
    out[o] = '\0';
    *olen = o;
    return out;
}

static char *
run_case(struct mm_tserver *srv, const struct mcase *tc, size_t *olen)
{
    struct mm_tclient c;
    size_t rlen = strlen(tc->req);
    char *req = malloc(rlen + sizeof(SENTINEL));
    char *raw;
    size_t raw_len;
    char *masked;

    ck_assert_msg(mm_tclient_connect(&c, srv->host, srv->port) == 0, "connect %s:%d failed",
                  srv->host, srv->port);
    ck_assert(mm_tclient_cmd(&c, "flush_all\r\n", "OK\r\n"));
    memcpy(req, tc->req, rlen);
    memcpy(req + rlen, SENTINEL, sizeof(SENTINEL));
    rlen += sizeof(SENTINEL) - 1;
    (void)mm_tclient_send(&c, req, rlen);
    free(req);
    mm_tclient_set_timeout(&c, 3000);
    raw = mm_tclient_read_until(&c, SENTINEL_REPLY, &raw_len);
    masked = mask_reply(raw, raw_len, olen);
    free(raw);
    mm_tclient_close(&c);
    return masked;
}

START_TEST(test_diff_case)
{
    const struct mcase *tc = &cases[_i];
    size_t rl;
    size_t tl;
    char *ref = run_case(&ref_srv, tc, &rl);
    char *got = run_case(&tgt_srv, tc, &tl);

    if (rl != tl || memcmp(ref, got, rl) != 0) {
        fprintf(stderr, "\n=== case %s: reply differs from memcached ===\n", tc->name);
        mm_tclient_print_diff("memcached", ref, rl, "target", got, tl);
        ck_abort_msg("case %s: reply differs from memcached (see diff above)", tc->name);
    }
    free(ref);
    free(got);
}
END_TEST

/* ---- literal checks against the target alone ---- */

static struct mm_tserver lit_srv;

static void
lit_setup(void)
{
    if (mm_tserver_startl(&lit_srv, MM_TSERVER_TARGET, 0, NULL) != 0) {
        ck_abort_msg("cannot start target server");
    }
}

static void
lit_teardown(void)
{
    if (mm_tserver_stop(&lit_srv) != 0) {
        fprintf(stderr, "WARNING: target did not stop cleanly\n");
    }
}

START_TEST(test_lit_set_get)
{
    struct mm_tclient c;

    ck_assert(mm_tclient_connect(&c, lit_srv.host, lit_srv.port) == 0);
    mm_tclient_set_timeout(&c, 3000);
    ck_assert(mm_tclient_cmd(&c, "ms lk 5 F3 T0 O7 k\r\nhello\r\n", "HD O7 klk\r\n"));
    ck_assert(mm_tclient_cmd(&c, "mg lk v f s O8\r\n", "VA 5 f3 s5 O8\r\nhello\r\n"));
    ck_assert(mm_tclient_cmd(&c, "mg lk2 v q\r\nmn\r\n", "MN\r\n"));
    ck_assert(mm_tclient_cmd(&c, "mn foo bar\r\n", "MN\r\n"));
    ck_assert(mm_tclient_cmd(&c, "md lk q\r\nmd lk\r\n", "NF\r\n"));
    ck_assert(mm_tclient_cmd(&c, "ma lc N0 J41 v\r\nma lc v\r\n", "VA 2\r\n41\r\nVA 2\r\n42\r\n"));
    mm_tclient_close(&c);
}
END_TEST

START_TEST(test_lit_byte_at_a_time)
{
    static const char req[] = "ms lb 4 F2\r\nabcd\r\nmg lb v f\r\n";
    struct mm_tclient c;
    size_t i;

    ck_assert(mm_tclient_connect(&c, lit_srv.host, lit_srv.port) == 0);
    mm_tclient_set_timeout(&c, 3000);
    for (i = 0; req[i] != '\0'; i++) {
        ck_assert(mm_tclient_send(&c, req + i, 1) == 0);
        mm_tserver_sleep_ms(1);
    }
    ck_assert(mm_tclient_expect(&c, "HD\r\nVA 4 f2\r\nabcd\r\n"));
    mm_tclient_close(&c);
}
END_TEST

/* Stale-while-revalidate end to end, with two clients: after an
 * invalidation the first reader wins the right to recache (W) and sees the
 * value marked stale (X); a second reader gets the stale value too, told that
 * a winner exists (Z) and without W; the winner's recache with the CAS it was
 * given succeeds, and then both see the fresh value with no flags. */
START_TEST(test_lit_stale_while_revalidate)
{
    struct mm_tclient a, b;
    unsigned long long cas = 0;
    char req[64];
    char *line;

    ck_assert(mm_tclient_connect(&a, lit_srv.host, lit_srv.port) == 0);
    ck_assert(mm_tclient_connect(&b, lit_srv.host, lit_srv.port) == 0);
    mm_tclient_set_timeout(&a, 3000);
    mm_tclient_set_timeout(&b, 3000);
    ck_assert(mm_tclient_cmd(&a, "ms swr 2 T60\r\nv1\r\n", "HD\r\n"));
    ck_assert(mm_tclient_cmd(&a, "md swr I T30\r\n", "HD\r\n"));

    ck_assert(mm_tclient_sendstr(&a, "mg swr v c t\r\n") == 0);
    line = mm_tclient_read_line(&a);
    ck_assert_ptr_nonnull(line);
    ck_assert_msg(sscanf(line, "VA 2 c%llu t30 X W\r\n", &cas) == 1 && strstr(line, " X W\r\n"),
                  "winner saw: %s", line);
    free(line);
    ck_assert(mm_tclient_expect(&a, "v1\r\n"));

    snprintf(req, sizeof(req), "VA 2 c%llu t30 Z X\r\nv1\r\n", cas);
    ck_assert(mm_tclient_cmd(&b, "mg swr v c t\r\n", req));

    snprintf(req, sizeof(req), "ms swr 2 C%llu T60\r\nv2\r\n", cas);
    ck_assert(mm_tclient_cmd(&a, req, "HD\r\n"));
    ck_assert(mm_tclient_cmd(&b, "mg swr v\r\n", "VA 2\r\nv2\r\n"));
    ck_assert(mm_tclient_cmd(&a, "mg swr v\r\n", "VA 2\r\nv2\r\n"));
    mm_tclient_close(&a);
    mm_tclient_close(&b);
}
END_TEST

static Suite *
meta_suite(bool with_diff)
{
    Suite *s = suite_create("it_meta");
    TCase *tc;

    if (with_diff) {
        tc = tcase_create("diff");
        tcase_add_unchecked_fixture(tc, diff_setup, diff_teardown);
        tcase_set_timeout(tc, 20);
        tcase_add_loop_test(tc, test_diff_case, 0, (int)NCASES);
        suite_add_tcase(s, tc);
    }
    tc = tcase_create("literal");
    tcase_add_unchecked_fixture(tc, lit_setup, lit_teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_lit_set_get);
    tcase_add_test(tc, test_lit_byte_at_a_time);
    tcase_add_test(tc, test_lit_stale_while_revalidate);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    bool with_diff = mm_tserver_have_memcached();

    /* The literal tests passing without the differential half is a skip. */
    return mm_tcheck_run(meta_suite(with_diff), with_diff ? 0 : MM_TCHECK_PARTIAL,
                         with_diff ? NULL : MM_TCHECK_NO_MEMCACHED);
}
