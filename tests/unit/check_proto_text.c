/* Tests for the text protocol parser: every command and form, noreply,
 * memcached's number and framing quirks, over-long lines, every split point
 * of every request, and a round trip through the test request composer.
 * Expected results were taken from memcached 1.6.18 on a loopback port. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmem/req.h"
#include "mmem/text.h"
#include "tests/support/reqgen.h"

#define L(s) s, sizeof(s) - 1

struct pcase {
    const char *in;
    size_t len;
    enum mm_text_rc rc;
    enum mm_req_type type;
    enum mm_req_err err;
    bool noreply;
};

static enum mm_text_rc
parse(const char *in, size_t len, struct mm_req *req, size_t *used)
{
    return mm_text_parse(in, len, MM_TEXT_MAX_LINE, req, used);
}

/* Each line alone, as memcached classifies it. */
static const struct pcase cases[] = {
    /* framing and unknown commands */
    {L("\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("\r\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("  \n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("x\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("GET a\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("SET k 0 0 1\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("getx a\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("versionx\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("misbehave\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("mn x y noreply\r\n"), MM_TEXT_OK, MM_REQ_MN, 0, false},
    {L("mg a v\r\n"), MM_TEXT_OK, MM_REQ_MG, 0, false},
    {L("mg\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("mx HTTP/1.1\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("tx HTTP/1.1\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("x HTTP/1.1\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("a b c d e f g h i j k l m n o p q r s t u v w x y z\r\n"), MM_TEXT_OK, MM_REQ_ERROR,
     MM_REQ_ERR_UNKNOWN, false},
    {L("set\0 k 0 0 1\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("incr\0 k 1\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    /* retrieval */
    {L("get\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("get \r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("gets\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("gat\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("get a\r\n"), MM_TEXT_OK, MM_REQ_GET, 0, false},
    {L("get a\n"), MM_TEXT_OK, MM_REQ_GET, 0, false},
    {L("   get a\r\n"), MM_TEXT_OK, MM_REQ_GET, 0, false},
    {L("get a\0b\r\n"), MM_TEXT_OK, MM_REQ_GET, 0, false},
    {L("get / HTTP/1.1\r\n"), MM_TEXT_OK, MM_REQ_GET, 0, false},
    {L("gets a b\r\n"), MM_TEXT_OK, MM_REQ_GETS, 0, false},
    {L("gat 10\r\n"), MM_TEXT_OK, MM_REQ_GAT, 0, false},
    {L("gat 10 a\r\n"), MM_TEXT_OK, MM_REQ_GAT, 0, false},
    {L("gats 1\r\n"), MM_TEXT_OK, MM_REQ_GATS, 0, false},
    {L("gat abc a\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_EXPTIME, false},
    {L("get a b c d e f g h i j k l m n o p q r s t u v w x y z\r\n"), MM_TEXT_OK, MM_REQ_GET, 0,
     false},
    /* storage */
    {L("set k 0 0 1\r\n"), MM_TEXT_OK, MM_REQ_SET, 0, false},
    {L("set k 0 0 1\n"), MM_TEXT_OK, MM_REQ_SET, 0, false},
    {L("set k 0 0 1 noreply\r\n"), MM_TEXT_OK, MM_REQ_SET, 0, true},
    {L("set k 0 0 1 junk\r\n"), MM_TEXT_OK, MM_REQ_SET, 0, false},
    {L("set k 0 0 1 0\r\n"), MM_TEXT_OK, MM_REQ_SET, 0, false},
    {L("set k 0 0 1 noreply junk\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("set k 0 0 1 noreply noreply\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("set k 0 0\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("set k 0 0 noreply\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_FORMAT, true},
    {L("set k 0 0 -1\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_FORMAT, false},
    {L("set k 0 0 -1 noreply\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_FORMAT, true},
    {L("set k abc 0 1\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_FORMAT, false},
    {L("set k -1 0 1\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_FORMAT, false},
    {L("set k 0 0 0x1\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_FORMAT, false},
    {L("set k 0 99999999999999999999 1\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_FORMAT, false},
    {L("set k 0 0 2147483646\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_FORMAT, false},
    {L("set k 0 0 2147483645\r\n"), MM_TEXT_OK, MM_REQ_SET, 0, false},
    {L("set k 0 0 1\r\r\n"), MM_TEXT_OK, MM_REQ_SET, 0, false},
    {L("add k 0 0 1\r\n"), MM_TEXT_OK, MM_REQ_ADD, 0, false},
    {L("replace k 0 0 1\r\n"), MM_TEXT_OK, MM_REQ_REPLACE, 0, false},
    {L("append k 0 0 1\r\n"), MM_TEXT_OK, MM_REQ_APPEND, 0, false},
    {L("prepend k 0 0 1 noreply\r\n"), MM_TEXT_OK, MM_REQ_PREPEND, 0, true},
    {L("cas k 0 0 1\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("cas k 0 0 1 5\r\n"), MM_TEXT_OK, MM_REQ_CAS, 0, false},
    {L("cas k 0 0 1 5 noreply\r\n"), MM_TEXT_OK, MM_REQ_CAS, 0, true},
    {L("cas k 0 0 1 abc\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_FORMAT, false},
    {L("cas k 0 0 1 -1\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_FORMAT, false},
    /* delete */
    {L("delete\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("delete k\r\n"), MM_TEXT_OK, MM_REQ_DELETE, 0, false},
    {L("delete k 0\r\n"), MM_TEXT_OK, MM_REQ_DELETE, 0, false},
    {L("delete k noreply\r\n"), MM_TEXT_OK, MM_REQ_DELETE, 0, true},
    {L("delete k 0 noreply\r\n"), MM_TEXT_OK, MM_REQ_DELETE, 0, true},
    {L("delete k 5\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_USAGE_DELETE, false},
    {L("delete k 5 noreply\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_USAGE_DELETE, true},
    {L("delete k 0 0\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_USAGE_DELETE, false},
    {L("delete k noreply 0\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_USAGE_DELETE, false},
    {L("delete k a b c\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    /* incr/decr */
    {L("incr\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("incr k\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("incr k 1\r\n"), MM_TEXT_OK, MM_REQ_INCR, 0, false},
    {L("incr k 1 2\r\n"), MM_TEXT_OK, MM_REQ_INCR, 0, false},
    {L("incr k 1 noreply\r\n"), MM_TEXT_OK, MM_REQ_INCR, 0, true},
    {L("incr k abc\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_DELTA, false},
    {L("incr k -1\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_DELTA, false},
    {L("incr k 18446744073709551616\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_DELTA, false},
    {L("decr k 1\r\n"), MM_TEXT_OK, MM_REQ_DECR, 0, false},
    {L("decr k x noreply\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_DELTA, true},
    /* touch */
    {L("touch\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("touch k\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("touch k 10\r\n"), MM_TEXT_OK, MM_REQ_TOUCH, 0, false},
    {L("touch k 10 x\r\n"), MM_TEXT_OK, MM_REQ_TOUCH, 0, false},
    {L("touch k 10 noreply\r\n"), MM_TEXT_OK, MM_REQ_TOUCH, 0, true},
    {L("touch k abc\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_EXPTIME, false},
    /* flush_all */
    {L("flush_all\r\n"), MM_TEXT_OK, MM_REQ_FLUSH_ALL, 0, false},
    {L("flush_all 0\r\n"), MM_TEXT_OK, MM_REQ_FLUSH_ALL, 0, false},
    {L("flush_all -1\r\n"), MM_TEXT_OK, MM_REQ_FLUSH_ALL, 0, false},
    {L("flush_all noreply\r\n"), MM_TEXT_OK, MM_REQ_FLUSH_ALL, 0, true},
    {L("flush_all 0 noreply\r\n"), MM_TEXT_OK, MM_REQ_FLUSH_ALL, 0, true},
    {L("flush_all 10 20\r\n"), MM_TEXT_OK, MM_REQ_FLUSH_ALL, 0, false},
    {L("flush_all abc\r\n"), MM_TEXT_OK, MM_REQ_FLUSH_ALL, MM_REQ_ERR_EXPTIME, false},
    {L("flush_all abc noreply\r\n"), MM_TEXT_OK, MM_REQ_FLUSH_ALL, MM_REQ_ERR_EXPTIME, true},
    {L("flush_all noreply 5\r\n"), MM_TEXT_OK, MM_REQ_FLUSH_ALL, MM_REQ_ERR_EXPTIME, false},
    {L("flush_all 1 2 3\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    /* the rest */
    {L("version\r\n"), MM_TEXT_OK, MM_REQ_VERSION, 0, false},
    {L("version x y\r\n"), MM_TEXT_OK, MM_REQ_VERSION, 0, false},
    {L("version HTTP/1.1\r\n"), MM_TEXT_OK, MM_REQ_VERSION, 0, false},
    {L("quit\r\n"), MM_TEXT_OK, MM_REQ_QUIT, 0, false},
    {L("quit x\r\n"), MM_TEXT_OK, MM_REQ_QUIT, 0, false},
    {L("verbosity\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("verbosity 1\r\n"), MM_TEXT_OK, MM_REQ_VERBOSITY, 0, false},
    {L("verbosity 1 2\r\n"), MM_TEXT_OK, MM_REQ_VERBOSITY, 0, false},
    {L("verbosity 1 noreply\r\n"), MM_TEXT_OK, MM_REQ_VERBOSITY, 0, true},
    {L("verbosity abc\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_FORMAT, false},
    {L("verbosity noreply\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_FORMAT, true},
    {L("verbosity 1 2 3\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("cache_memlimit\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("cache_memlimit 100\r\n"), MM_TEXT_OK, MM_REQ_CACHE_MEMLIMIT, 0, false},
    {L("mn\r\n"), MM_TEXT_OK, MM_REQ_MN, 0, false},
    {L("mn extra\n"), MM_TEXT_OK, MM_REQ_MN, 0, false},
    {L("mz foo\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("cache_memlimit 64 x\r\n"), MM_TEXT_OK, MM_REQ_CACHE_MEMLIMIT, 0, false},
    {L("cache_memlimit abc\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("cache_memlimit abc noreply\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, true},
    {L("stats\r\n"), MM_TEXT_OK, MM_REQ_STATS, 0, false},
    {L("stats items x\r\n"), MM_TEXT_OK, MM_REQ_STATS, 0, false},
    {L("stats noreply\r\n"), MM_TEXT_OK, MM_REQ_STATS, 0, false},
    {L("shutdown\r\n"), MM_TEXT_OK, MM_REQ_SHUTDOWN, 0, false},
    {L("shutdown graceful\r\n"), MM_TEXT_OK, MM_REQ_SHUTDOWN, 0, false},
    {L("shutdown x\r\n"), MM_TEXT_OK, MM_REQ_SHUTDOWN, 0, false},
    /* lru_crawler: fixed shapes, no noreply (memcached answers ERROR) */
    {L("lru_crawler\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("lru_crawler metadump\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("lru_crawler metadump all x\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("lru_crawler crawl all noreply\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("lru_crawler mgdump all\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("lru_crawler enable x\r\n"), MM_TEXT_OK, MM_REQ_ERROR, MM_REQ_ERR_UNKNOWN, false},
    {L("lru_crawler metadump 1,2\r\n"), MM_TEXT_OK, MM_REQ_LRU_CRAWLER, 0, false},
    {L("lru_crawler sleep x\r\n"), MM_TEXT_OK, MM_REQ_LRU_CRAWLER, 0, false},
    {L("lru_crawler disable\r\n"), MM_TEXT_OK, MM_REQ_LRU_CRAWLER, 0, false},
    /* HTTP clients are dropped, but only from the fall-through */
    {L("GET / HTTP/1.1\r\n"), MM_TEXT_CLOSE, MM_REQ_NONE, 0, false},
    {L("foo HTTP/1.0\r\n"), MM_TEXT_CLOSE, MM_REQ_NONE, 0, false},
    {L("mxx HTTP/1.1\r\n"), MM_TEXT_CLOSE, MM_REQ_NONE, 0, false},
    {L("HTTP/1.1\r\n"), MM_TEXT_CLOSE, MM_REQ_NONE, 0, false},
};

static size_t
line_len(const char *in, size_t len)
{
    const char *nl = memchr(in, '\n', len);

    return nl ? (size_t)(nl - in) + 1 : 0;
}

START_TEST(test_table)
{
    const struct pcase *c = &cases[_i];
    struct mm_req req;
    size_t used = 99;
    enum mm_text_rc rc = parse(c->in, c->len, &req, &used);

    ck_assert_msg(rc == c->rc, "case %d (%s): rc %d, want %d", _i, c->in, rc, c->rc);
    if (rc != MM_TEXT_OK) {
        ck_assert_uint_eq(used, 0);
        return;
    }
    ck_assert_uint_eq(used, line_len(c->in, c->len));
    ck_assert_msg(req.type == c->type, "case %d (%s): type %s, want %s", _i, c->in,
                  mm_req_type_name(req.type), mm_req_type_name(c->type));
    ck_assert_msg(req.err == c->err, "case %d (%s): err %d, want %d", _i, c->in, req.err, c->err);
    ck_assert_msg(req.noreply == c->noreply, "case %d (%s): noreply %d", _i, c->in, req.noreply);
}
END_TEST

/* Every proper prefix of an OK request is AGAIN; the full one gives the same
 * result with bytes appended after it. */
START_TEST(test_split_points)
{
    const struct pcase *c = &cases[_i];
    struct mm_req req, req2;
    size_t used, used2, n;
    char buf[256];

    for (n = 0; n < c->len; n++) {
        enum mm_text_rc rc = parse(c->in, n, &req, &used);

        if (c->rc == MM_TEXT_OK || n < line_len(c->in, c->len)) {
            ck_assert_msg(rc == MM_TEXT_AGAIN, "case %d prefix %zu: rc %d", _i, n, rc);
            ck_assert_uint_eq(used, 0);
        }
    }
    ck_assert_uint_lt(c->len + 16, sizeof(buf));
    memcpy(buf, c->in, c->len);
    memcpy(buf + c->len, "get more\r\nxx", 12);
    ck_assert_int_eq(parse(buf, c->len + 12, &req2, &used2), c->rc);
    if (c->rc == MM_TEXT_OK) {
        parse(c->in, c->len, &req, &used);
        ck_assert_uint_eq(used, used2);
        ck_assert_int_eq(req.type, req2.type);
        ck_assert_int_eq(req.err, req2.err);
    }
}
END_TEST

static bool
span_is(struct mm_span s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

START_TEST(test_storage_fields)
{
    struct mm_req req;
    size_t used;

    ck_assert_int_eq(parse(L("set foo 42 100 5\r\nhello\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_uint_eq(used, 18);
    ck_assert(span_is(req.key, "foo"));
    ck_assert_uint_eq(req.flags, 42);
    ck_assert_int_eq(req.exptime, 100);
    ck_assert_uint_eq(req.vlen, 5);
    ck_assert(!req.noreply);

    ck_assert_int_eq(parse(L("cas k 1 -5 0 18446744073709551615 noreply\r\n"), &req, &used),
                     MM_TEXT_OK);
    ck_assert_int_eq(req.type, MM_REQ_CAS);
    ck_assert_int_eq(req.exptime, -5);
    ck_assert_uint_eq(req.vlen, 0);
    ck_assert(req.cas == UINT64_MAX);
    ck_assert(req.noreply);

    /* spaces collapse, any number of them */
    ck_assert_int_eq(parse(L("  set   k  1   2   3  \r\n"), &req, &used), MM_TEXT_OK);
    ck_assert(span_is(req.key, "k"));
    ck_assert_uint_eq(req.flags, 1);
    ck_assert_uint_eq(req.vlen, 3);

    /* tabs are part of a key */
    ck_assert_int_eq(parse(L("set a\tb 0 0 1\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert(span_is(req.key, "a\tb"));
}
END_TEST

/* memcached's safe_strto* quirks, as probed on 1.6.18. */
START_TEST(test_number_quirks)
{
    struct mm_req req;
    size_t used;

    /* flags: 32-bit truncation of a 64-bit parse */
    ck_assert_int_eq(parse(L("set k 4294967297 0 1\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.type, MM_REQ_SET);
    ck_assert_uint_eq(req.flags, 1);
    ck_assert_int_eq(parse(L("set k 4294967296 0 1\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_uint_eq(req.flags, 0);
    /* "-0" and "+5" are numbers; a sign alone is not */
    ck_assert_int_eq(parse(L("set k -0 0 1\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.type, MM_REQ_SET);
    ck_assert_int_eq(parse(L("set k +5 0 1\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_uint_eq(req.flags, 5);
    ck_assert_int_eq(parse(L("set k - 0 1\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.type, MM_REQ_ERROR);
    /* white space before a number is skipped, after it ends the number */
    ck_assert_int_eq(parse(L("set k \t5 0 1\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_uint_eq(req.flags, 5);
    ck_assert_int_eq(parse(L("set k 5\tx 0 1\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_uint_eq(req.flags, 5);
    ck_assert_int_eq(parse(L("set k 0 0 1\t\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_uint_eq(req.vlen, 1);
    /* exptime and length: 64-bit parse, 32-bit wrap, no range check */
    ck_assert_int_eq(parse(L("set k 0 9999999999 1\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.exptime, 1410065407);
    ck_assert_int_eq(parse(L("set k 0 2147483648 1\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.exptime, INT32_MIN);
    ck_assert_int_eq(parse(L("set k 0 -2147483649 1\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.exptime, INT32_MAX);
    ck_assert_int_eq(parse(L("set k 0 4294967296 1\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.exptime, 0);
    ck_assert_int_eq(parse(L("set k 0 0 4294967297\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.type, MM_REQ_SET);
    ck_assert_uint_eq(req.vlen, 1);
    ck_assert_int_eq(parse(L("set k 0 0 9223372036854775808\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.type, MM_REQ_ERROR);
    /* delta: a large negative wraps to a small positive */
    ck_assert_int_eq(parse(L("incr k -18446744073709551615\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.type, MM_REQ_INCR);
    ck_assert(req.delta == 1);
    ck_assert_int_eq(parse(L("incr k -0\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert(req.delta == 0);
    ck_assert_int_eq(parse(L("incr k 18446744073709551615\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert(req.delta == UINT64_MAX);
    ck_assert_int_eq(parse(L("incr k -9223372036854775808\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.type, MM_REQ_ERROR);
}
END_TEST

START_TEST(test_key_limits)
{
    char buf[1024];
    struct mm_req req;
    size_t used;
    int n;
    const char *forms[] = {"set %s 0 0 1\r\n", "delete %s\r\n", "incr %s 1\r\n", "touch %s 1\r\n",
                           "delete %s noreply\r\n"};
    char k250[251], k251[252];
    size_t i;

    memset(k250, 'k', 250);
    k250[250] = '\0';
    memset(k251, 'k', 251);
    k251[251] = '\0';
    for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        n = snprintf(buf, sizeof(buf), forms[i], k250);
        ck_assert_int_eq(parse(buf, (size_t)n, &req, &used), MM_TEXT_OK);
        ck_assert_int_ne(req.type, MM_REQ_ERROR);
        ck_assert_uint_eq(req.key.len, 250);
        n = snprintf(buf, sizeof(buf), forms[i], k251);
        ck_assert_int_eq(parse(buf, (size_t)n, &req, &used), MM_TEXT_OK);
        ck_assert_int_eq(req.type, MM_REQ_ERROR);
        ck_assert_int_eq(req.err, MM_REQ_ERR_FORMAT);
        ck_assert_int_eq(req.noreply, i == 4);
    }
    /* get checks key lengths only when it reaches them (cmd/ does) */
    n = snprintf(buf, sizeof(buf), "get a %s\r\n", k251);
    ck_assert_int_eq(parse(buf, (size_t)n, &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.type, MM_REQ_GET);
}
END_TEST

START_TEST(test_key_walk)
{
    struct mm_req req;
    struct mm_span k;
    size_t used, pos = 0;
    const char *in = "get  a bb   ccc \r\n";
    const char *want[] = {"a", "bb", "ccc"};
    int n = 0;

    ck_assert_int_eq(parse(in, strlen(in), &req, &used), MM_TEXT_OK);
    while (mm_req_next_key(&req, &pos, &k)) {
        ck_assert_int_lt(n, 3);
        ck_assert(span_is(k, want[n]));
        n++;
    }
    ck_assert_int_eq(n, 3);
    ck_assert(!mm_req_next_key(&req, &pos, &k));

    ck_assert_int_eq(parse(L("gats 30 x y\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.exptime, 30);
    pos = 0;
    ck_assert(mm_req_next_key(&req, &pos, &k) && span_is(k, "x"));
    ck_assert(mm_req_next_key(&req, &pos, &k) && span_is(k, "y"));
    ck_assert(!mm_req_next_key(&req, &pos, &k));

    ck_assert_int_eq(parse(L("gat 10\r\n"), &req, &used), MM_TEXT_OK);
    pos = 0;
    ck_assert(!mm_req_next_key(&req, &pos, &k));
}
END_TEST

/* More than 24 tokens: get keeps going, everything else is "too many". */
START_TEST(test_many_keys)
{
    char buf[8192];
    size_t len = 0, used, pos = 0;
    struct mm_req req;
    struct mm_span k;
    int i, n = 0;

    len += (size_t)sprintf(buf, "get");
    for (i = 0; i < 1000; i++) {
        len += (size_t)sprintf(buf + len, " k%d", i);
    }
    len += (size_t)sprintf(buf + len, "\r\n");
    ck_assert_int_eq(parse(buf, len, &req, &used), MM_TEXT_OK);
    ck_assert_uint_eq(used, len);
    while (mm_req_next_key(&req, &pos, &k)) {
        char want[16];

        sprintf(want, "k%d", n);
        ck_assert(span_is(k, want));
        n++;
    }
    ck_assert_int_eq(n, 1000);
}
END_TEST

START_TEST(test_long_lines)
{
    static char buf[40000];
    struct mm_req req;
    size_t used;

    /* non-get line over the limit without a newline: close */
    memcpy(buf, "delete ", 7);
    memset(buf + 7, 'k', 3000);
    ck_assert_int_eq(parse(buf, 2048, &req, &used), MM_TEXT_AGAIN);
    ck_assert_int_eq(parse(buf, 2049, &req, &used), MM_TEXT_CLOSE);
    ck_assert_int_eq(parse(buf, 3007, &req, &used), MM_TEXT_CLOSE);
    /* the same line, newline present: answered (key too long) */
    memcpy(buf + 3007, "\r\n", 2);
    ck_assert_int_eq(parse(buf, 3009, &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.type, MM_REQ_ERROR);
    ck_assert_int_eq(req.err, MM_REQ_ERR_FORMAT);
    ck_assert_uint_eq(used, 3009);

    /* get and gets lines may grow; gat may not */
    memcpy(buf, "get ", 4);
    ck_assert_int_eq(parse(buf, 3007, &req, &used), MM_TEXT_AGAIN);
    memcpy(buf, "gets ", 5);
    ck_assert_int_eq(parse(buf, 3007, &req, &used), MM_TEXT_AGAIN);
    memcpy(buf, "gat 1 ", 6);
    ck_assert_int_eq(parse(buf, 3007, &req, &used), MM_TEXT_CLOSE);
    memcpy(buf, "getsx ", 6);
    ck_assert_int_eq(parse(buf, 3007, &req, &used), MM_TEXT_CLOSE);
    /* up to 100 leading spaces are tolerated in front of get */
    memset(buf, ' ', 100);
    memcpy(buf + 100, "get ", 4);
    memset(buf + 104, 'k', 3000);
    ck_assert_int_eq(parse(buf, 3104, &req, &used), MM_TEXT_AGAIN);
    memset(buf, ' ', 101);
    memcpy(buf + 101, "get ", 4);
    ck_assert_int_eq(parse(buf, 3104, &req, &used), MM_TEXT_CLOSE);

    /* a huge get line: its too-long key is cmd/'s to report */
    memcpy(buf, "get ", 4);
    memset(buf + 4, 'k', 20000);
    memcpy(buf + 20004, "\r\n", 2);
    ck_assert_int_eq(parse(buf, 20000, &req, &used), MM_TEXT_AGAIN);
    ck_assert_int_eq(parse(buf, 20006, &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.type, MM_REQ_GET);
    ck_assert_uint_eq(req.keys.len, 20000);

    /* a smaller limit is honoured */
    ck_assert_int_eq(mm_text_parse("delete abc", 10, 8, &req, &used), MM_TEXT_CLOSE);
    ck_assert_int_eq(mm_text_parse("delete abc", 10, 10, &req, &used), MM_TEXT_AGAIN);
}
END_TEST

START_TEST(test_pipeline)
{
    const char in[] = "get a\r\nset b 0 0 1\r\nx\r\ndelete b\nversion\r\n";
    size_t off = 0, used;
    struct mm_req req;
    enum mm_req_type want[] = {MM_REQ_GET, MM_REQ_SET, MM_REQ_DELETE, MM_REQ_VERSION};
    int i;

    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(parse(in + off, sizeof(in) - 1 - off, &req, &used), MM_TEXT_OK);
        ck_assert_int_eq(req.type, want[i]);
        off += used;
        if (req.type == MM_REQ_SET) {
            off += req.vlen + 2;
        }
    }
    ck_assert_uint_eq(off, sizeof(in) - 1);
    ck_assert_int_eq(parse(in + off, 0, &req, &used), MM_TEXT_AGAIN);
}
END_TEST

START_TEST(test_misc_fields)
{
    struct mm_req req;
    size_t used;

    ck_assert_int_eq(parse(L("flush_all 30\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert(req.has_arg);
    ck_assert_int_eq(req.num, 30);
    ck_assert_int_eq(parse(L("flush_all -1\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.num, -1);
    ck_assert_int_eq(parse(L("flush_all noreply\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert(!req.has_arg);
    ck_assert_int_eq(parse(L("verbosity 7\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.num, 7);
    ck_assert_int_eq(parse(L("cache_memlimit 100\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.num, 100);
    ck_assert_int_eq(parse(L("shutdown\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.num, MM_REQ_SHUTDOWN_NOW);
    ck_assert_int_eq(parse(L("shutdown graceful\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.num, MM_REQ_SHUTDOWN_GRACEFUL);
    ck_assert_int_eq(parse(L("shutdown graceful x\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.num, MM_REQ_SHUTDOWN_INVALID);
    ck_assert_int_eq(parse(L("stats  detail dump \r\n"), &req, &used), MM_TEXT_OK);
    ck_assert(span_is(req.args, "detail dump "));
    ck_assert_int_eq(parse(L("stats\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_uint_eq(req.args.len, 0);
    ck_assert_int_eq(parse(L("lru_crawler  metadump  1,2 \r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.type, MM_REQ_LRU_CRAWLER);
    ck_assert_int_eq(req.num, MM_REQ_CRAWLER_METADUMP);
    ck_assert(span_is(req.args, "1,2"));
    ck_assert_int_eq(parse(L("lru_crawler tocrawl 5\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.num, MM_REQ_CRAWLER_TOCRAWL);
    ck_assert(span_is(req.args, "5"));
    ck_assert_int_eq(parse(L("lru_crawler enable\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert_int_eq(req.num, MM_REQ_CRAWLER_ENABLE);
    ck_assert_uint_eq(req.args.len, 0);
    ck_assert_int_eq(parse(L("delete k 0 noreply\r\n"), &req, &used), MM_TEXT_OK);
    ck_assert(span_is(req.key, "k"));
}
END_TEST

START_TEST(test_err_strings)
{
    size_t n;

    ck_assert_str_eq(mm_text_err_str(MM_REQ_ERR_UNKNOWN, &n), "ERROR\r\n");
    ck_assert_uint_eq(n, 7);
    ck_assert_str_eq(mm_text_err_str(MM_REQ_ERR_FORMAT, &n),
                     "CLIENT_ERROR bad command line format\r\n");
    ck_assert_str_eq(mm_text_err_str(MM_REQ_ERR_DELTA, &n),
                     "CLIENT_ERROR invalid numeric delta argument\r\n");
    ck_assert_str_eq(mm_text_err_str(MM_REQ_ERR_EXPTIME, &n),
                     "CLIENT_ERROR invalid exptime argument\r\n");
    ck_assert_str_eq(mm_text_err_str(MM_REQ_ERR_USAGE_DELETE, &n),
                     "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n");
}
END_TEST

/* Compose random valid requests, parse them back, compare every field the
 * parser fills, and check the split-point property on each. */
START_TEST(test_round_trip)
{
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    char keybuf[1024];
    char wire[2048];
    int i;

    for (i = 0; i < 3000; i++) {
        struct mm_req want, got;
        size_t len, used, n;

        mm_reqgen_random(&want, &seed, keybuf, sizeof(keybuf));
        len = mm_reqgen_line(&want, wire, sizeof(wire));
        ck_assert_uint_gt(len, 0);
        ck_assert_msg(parse(wire, len, &got, &used) == MM_TEXT_OK, "%.*s", (int)len, wire);
        ck_assert_uint_eq(used, len);
        ck_assert_msg(got.type == want.type, "%.*s: %s", (int)len, wire,
                      mm_req_type_name(got.type));
        ck_assert_int_eq(got.err, MM_REQ_ERR_NONE);
        ck_assert_int_eq(got.noreply, want.noreply);
        ck_assert_uint_eq(got.key.len, want.key.len);
        ck_assert(memcmp(got.key.p, want.key.p, want.key.len) == 0);
        if (mm_req_is_retrieval(want.type)) {
            ck_assert_uint_eq(got.keys.len - (got.keys.len > want.keys.len ? 0 : 0), want.keys.len);
            ck_assert(memcmp(got.keys.p, want.keys.p, want.keys.len) == 0);
        }
        ck_assert_uint_eq(got.flags, want.flags);
        ck_assert_int_eq(got.exptime, want.exptime);
        ck_assert_uint_eq(got.vlen, want.vlen);
        ck_assert(got.cas == want.cas);
        ck_assert(got.delta == want.delta);
        ck_assert_int_eq(got.num, want.num);
        ck_assert_int_eq(got.has_arg, want.has_arg);
        if (want.type == MM_REQ_STATS) {
            ck_assert_uint_eq(got.args.len, want.args.len);
        }
        for (n = 0; n < len; n++) {
            ck_assert_int_eq(parse(wire, n, &got, &used), MM_TEXT_AGAIN);
        }
    }
}
END_TEST

START_TEST(test_reqgen_limits)
{
    struct mm_req req;
    char buf[64];

    memset(&req, 0, sizeof(req));
    req.type = MM_REQ_ERROR;
    ck_assert_uint_eq(mm_reqgen_line(&req, buf, sizeof(buf)), 0);
    req.type = MM_REQ_SET;
    req.key.p = "key";
    req.key.len = 3;
    req.vlen = 5;
    req.noreply = true;
    ck_assert_uint_eq(mm_reqgen_line(&req, buf, sizeof(buf)), 23);
    ck_assert(memcmp(buf, "set key 0 0 5 noreply\r\n", 23) == 0);
    /* too small a buffer gives 0, not a truncated line */
    ck_assert_uint_eq(mm_reqgen_line(&req, buf, 10), 0);
}
END_TEST

static Suite *
proto_text_suite(void)
{
    Suite *s = suite_create("proto_text");
    TCase *tc = tcase_create("parse");
    int ncases = (int)(sizeof(cases) / sizeof(cases[0]));

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_table, 0, ncases);
    tcase_add_loop_test(tc, test_split_points, 0, ncases);
    tcase_add_test(tc, test_storage_fields);
    tcase_add_test(tc, test_number_quirks);
    tcase_add_test(tc, test_key_limits);
    tcase_add_test(tc, test_key_walk);
    tcase_add_test(tc, test_many_keys);
    tcase_add_test(tc, test_long_lines);
    tcase_add_test(tc, test_pipeline);
    tcase_add_test(tc, test_misc_fields);
    tcase_add_test(tc, test_err_strings);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_reqgen_limits);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(proto_text_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
