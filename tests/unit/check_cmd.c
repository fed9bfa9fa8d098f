/* Tests for the command layer: request bytes go through the text parser, a
 * tiny in-test "connection" and a real store, and the reply bytes are
 * compared with what memcached 1.6.18 sent for the same input (captured on a
 * loopback port). Also: stats deltas, the CAS flow, flush delays, noreply,
 * quit/shutdown, verbosity and every stats group. No sockets. */
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
    X("\n", "ERROR\r\n"),
    X("\r\n", "ERROR\r\n"),
    X("\r\r\n", "ERROR\r\n"),
    X("x\r\n", "ERROR\r\n"),
    X("GET a\r\n", "ERROR\r\n"),
    X("get\r\n", "ERROR\r\n"),
    X("get \r\n", "ERROR\r\n"),
    X("get a\r\n", "END\r\n"),
    X("set k 0 0 1\r\na\r\nget k\r\n", "STORED\r\nVALUE k 0 1\r\na\r\nEND\r\n"),
    X("set k 0 0 1\r\r\na\r\n", "STORED\r\n"),
    X("set k 0 0 1\r\n", ""),
    X("set k 0 0 1 noreply\r\na\r\nget k\r\n", "VALUE k 0 1\r\na\r\nEND\r\n"),
    X("set k 0 0 1 junk\r\na\r\n", "STORED\r\n"),
    X("set k 0 0 1 noreply junk\r\na\r\n", "ERROR\r\nERROR\r\n"),
    X("set k 0 0\r\n", "ERROR\r\n"),
    X("set k 0 0 -1\r\nab\r\n", "CLIENT_ERROR bad command line format\r\nERROR\r\n"),
    X("set k 0 0 -1 noreply\r\nab\r\n", "ERROR\r\n"),
    X("set k abc 0 1\r\na\r\n", "CLIENT_ERROR bad command line format\r\nERROR\r\n"),
    X("set k 4294967296 0 1\r\na\r\nget k\r\n", "STORED\r\nVALUE k 0 1\r\na\r\nEND\r\n"),
    X("set k 4294967297 0 1\r\na\r\nget k\r\n", "STORED\r\nVALUE k 1 1\r\na\r\nEND\r\n"),
    X("set k -1 0 1\r\na\r\n", "CLIENT_ERROR bad command line format\r\nERROR\r\n"),
    X("set k -0 0 1\r\na\r\nget k\r\n", "STORED\r\nVALUE k 0 1\r\na\r\nEND\r\n"),
    X("set k +5 0 1\r\na\r\nget k\r\n", "STORED\r\nVALUE k 5 1\r\na\r\nEND\r\n"),
    X("set k 5\tx 0 1\r\na\r\nget k\r\n", "STORED\r\nVALUE k 5 1\r\na\r\nEND\r\n"),
    X("set k 0 0 3\r\nabcde\r\n", "CLIENT_ERROR bad data chunk\r\nERROR\r\n"),
    X("set k 0 0 3\r\nabcdefgh\r\n", "CLIENT_ERROR bad data chunk\r\nERROR\r\n"),
    X("set k 0 0 3 noreply\r\nabcdefgh\r\n", "ERROR\r\n"),
    X("set k 0 0 3\r\nab\r\n\r\n", "CLIENT_ERROR bad data chunk\r\nERROR\r\n"),
    X("set a 0 0 1\r\na\r\nset a 0 0 3\r\nabcde\r\nget a\r\n",
      "STORED\r\nCLIENT_ERROR bad data chunk\r\nERROR\r\nVALUE a 0 1\r\na\r\nEND\r\n"),
    X("set k 0 0 2147483646\r\n", "CLIENT_ERROR bad command line format\r\n"),
    X("set k 0 9999999999 1\r\na\r\nget k\r\n", "STORED\r\nEND\r\n"),
    X("set k 0 4294967296 1\r\na\r\nget k\r\n", "STORED\r\nVALUE k 0 1\r\na\r\nEND\r\n"),
    X("set k 0 -1 1\r\na\r\nget k\r\n", "STORED\r\nEND\r\n"),
    X("set k 0 2147483648 1\r\na\r\nget k\r\n", "STORED\r\nEND\r\n"),
    X("set k 0 -2147483649 1\r\na\r\nget k\r\n", "STORED\r\nVALUE k 0 1\r\na\r\nEND\r\n"),
    X("set k 0 0 4294967297\r\na\r\nget k\r\n", "STORED\r\nVALUE k 0 1\r\na\r\nEND\r\n"),
    X("set k 0 0 1\na\r\n", "STORED\r\n"),
    X("set k 0 0 1\r\na\nget k\r\n", "CLIENT_ERROR bad data chunk\r\nERROR\r\n"),
    X("set\0 k 0 0 1\r\na\r\n", "ERROR\r\nERROR\r\n"),
    X("get a\0b\r\n", "END\r\n"),
    X("cas k 0 0 1\r\na\r\n", "ERROR\r\nERROR\r\n"),
    X("cas k 0 0 1 abc\r\na\r\n", "CLIENT_ERROR bad command line format\r\nERROR\r\n"),
    X("cas nokey 0 0 1 5\r\na\r\n", "NOT_FOUND\r\n"),
    X("cas k 0 0 1 5 noreply\r\na\r\n", ""),
    X("set k 0 0 1\r\na\r\ncas k 0 0 1 999999\r\nb\r\n", "STORED\r\nEXISTS\r\n"),
    X("set a 0 0 1\r\na\r\nget a a b a\r\n",
      "STORED\r\nVALUE a 0 1\r\na\r\nVALUE a 0 1\r\na\r\nVALUE a 0 1\r\na\r\nEND\r\n"),
    X("set a 0 0 1\r\na\r\ngetx a\r\n", "STORED\r\nERROR\r\n"),
    X("gat\r\n", "ERROR\r\n"),
    X("gat 10\r\n", "END\r\n"),
    X("gat abc a\r\n", "CLIENT_ERROR invalid exptime argument\r\n"),
    X("set a 0 0 1\r\na\r\ngat 100 a b\r\n", "STORED\r\nVALUE a 0 1\r\na\r\nEND\r\n"),
    X("set a 0 0 1\r\na\r\ngat -1 a\r\nget a\r\n", "STORED\r\nVALUE a 0 1\r\na\r\nEND\r\nEND\r\n"),
    X("get a\tb\r\n", "END\r\n"),
    X("get  a   b  \r\n", "END\r\n"),
    X("   get a\r\n", "END\r\n"),
    X("delete\r\n", "ERROR\r\n"),
    X("delete k\r\n", "NOT_FOUND\r\n"),
    X("set k 0 0 1\r\na\r\ndelete k\r\n", "STORED\r\nDELETED\r\n"),
    X("set k 0 0 1\r\na\r\ndelete k 0\r\n", "STORED\r\nDELETED\r\n"),
    X("delete k 5\r\n", "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n"),
    X("delete k 0 noreply\r\n", ""),
    X("delete k 5 noreply\r\n", ""),
    X("delete k noreply\r\n", ""),
    X("delete k 0 0\r\n",
      "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n"),
    X("delete k a b c\r\n", "ERROR\r\n"),
    X("incr\r\n", "ERROR\r\n"),
    X("incr k\r\n", "ERROR\r\n"),
    X("incr k 1\r\n", "NOT_FOUND\r\n"),
    X("incr k abc\r\n", "CLIENT_ERROR invalid numeric delta argument\r\n"),
    X("incr k -1\r\n", "CLIENT_ERROR invalid numeric delta argument\r\n"),
    X("incr k 18446744073709551616\r\n", "CLIENT_ERROR invalid numeric delta argument\r\n"),
    X("incr k 1 noreply\r\n", ""),
    X("incr k 1 2\r\n", "NOT_FOUND\r\n"),
    X("set n 0 0 2\r\n10\r\nincr n 5\r\nget n\r\ndecr n 100\r\nget n\r\n",
      "STORED\r\n15\r\nVALUE n 0 2\r\n15\r\nEND\r\n0\r\nVALUE n 0 2\r\n0 \r\nEND\r\n"),
    X("set n 0 0 3\r\n100\r\ndecr n 91\r\nget n\r\n",
      "STORED\r\n9\r\nVALUE n 0 3\r\n9  \r\nEND\r\n"),
    X("set n 0 0 2\r\n99\r\nincr n 1\r\nget n\r\n",
      "STORED\r\n100\r\nVALUE n 0 3\r\n100\r\nEND\r\n"),
    X("set n 0 0 20\r\n18446744073709551615\r\nincr n 2\r\nget n\r\n",
      "STORED\r\n1\r\nVALUE n 0 20\r\n1                   \r\nEND\r\n"),
    X("set n 0 0 3\r\nabc\r\nincr n 1\r\n",
      "STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n"),
    X("set n 0 0 0\r\n\r\nincr n 1\r\n",
      "STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n"),
    X("set n 0 0 1\r\n5\r\nincr n -18446744073709551615\r\n", "STORED\r\n6\r\n"),
    X("set n 0 0 1\r\n5\r\nincr n 3 noreply\r\nget n\r\n", "STORED\r\nVALUE n 0 1\r\n8\r\nEND\r\n"),
    X("touch\r\n", "ERROR\r\n"),
    X("touch k\r\n", "ERROR\r\n"),
    X("touch k 10\r\n", "NOT_FOUND\r\n"),
    X("touch k abc\r\n", "CLIENT_ERROR invalid exptime argument\r\n"),
    X("touch k 10 noreply\r\n", ""),
    X("set k 0 0 1\r\na\r\ntouch k 10\r\n", "STORED\r\nTOUCHED\r\n"),
    X("set k 0 0 1\r\na\r\ntouch k 10 x\r\n", "STORED\r\nTOUCHED\r\n"),
    X("flush_all\r\n", "OK\r\n"),
    X("flush_all 0\r\n", "OK\r\n"),
    X("flush_all noreply\r\n", ""),
    X("flush_all 0 noreply\r\n", ""),
    X("flush_all abc\r\n", "CLIENT_ERROR invalid exptime argument\r\n"),
    X("flush_all abc noreply\r\n", ""),
    X("flush_all 10 20\r\n", "OK\r\n"),
    X("flush_all 1 2 3\r\n", "ERROR\r\n"),
    X("flush_all noreply 5\r\n", "CLIENT_ERROR invalid exptime argument\r\n"),
    X("set a 0 0 1\r\na\r\nflush_all -1\r\nget a\r\n", "STORED\r\nOK\r\nEND\r\n"),
    X("set a 0 0 1\r\na\r\nflush_all 2\r\nget a\r\n",
      "STORED\r\nOK\r\nVALUE a 0 1\r\na\r\nEND\r\n"),
    X("version\r\n", "VERSION 1.6.18\r\n"),
    X("version x y\r\n", "VERSION 1.6.18\r\n"),
    X("verbosity\r\n", "ERROR\r\n"),
    X("verbosity 1\r\n", "OK\r\n"),
    X("verbosity abc\r\n", "CLIENT_ERROR bad command line format\r\n"),
    X("verbosity noreply\r\n", ""),
    X("verbosity 1 noreply\r\n", ""),
    X("verbosity 1 2\r\n", "OK\r\n"),
    X("verbosity 1 2 3\r\n", "ERROR\r\n"),
    XC("quit\r\nget a\r\n", ""),
    XC("set a 0 0 1\r\na\r\nquit\r\n", "STORED\r\n"),
    XC("quit x\r\n", ""),
    X("shutdown\r\n", "ERROR: shutdown not enabled\r\n"),
    X("shutdown graceful\r\n", "ERROR: shutdown not enabled\r\n"),
    X("shutdown x\r\n", "ERROR: shutdown not enabled\r\n"),
    X("cache_memlimit\r\n", "ERROR\r\n"),
    X("cache_memlimit 100\r\n", "OK\r\n"),
    X("cache_memlimit 7\r\n", "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n"),
    X("cache_memlimit abc\r\n", "ERROR\r\n"),
    X("cache_memlimit 2000000000\r\n",
      "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes\r\n"),
    X("cache_memlimit 100 noreply\r\n", ""),
    X("cache_memlimit 64 x\r\n", "OK\r\n"),
    X("misbehave\r\n", "ERROR\r\n"),
    X("mn\r\n", "MN\r\n"),
    X("mn x y\r\n", "MN\r\n"),
    X("mn q\r\n", "MN\r\n"),
    X("mn noreply\r\n", "MN\r\n"),
    X("mx\r\n", "ERROR\r\n"),
    X("stats reset\r\n", "RESET\r\n"),
    X("stats reset x\r\n", "RESET\r\n"),
    X("stats detail\r\n", "CLIENT_ERROR usage: stats detail on|off|dump\r\n"),
    X("stats detail on\r\n", "OK\r\n"),
    X("stats detail dump\r\n", "END\r\n"),
    X("stats detail off\r\n", "OK\r\n"),
    X("stats detail x\r\n", "CLIENT_ERROR usage: stats detail on|off|dump\r\n"),
    X("stats cachedump\r\n", "CLIENT_ERROR bad command line\r\n"),
    X("stats cachedump 1\r\n", "CLIENT_ERROR bad command line\r\n"),
    X("stats cachedump 1 10\r\n", "END\r\n"),
    X("stats cachedump x 10\r\n", "CLIENT_ERROR bad command line format\r\n"),
    X("stats cachedump 99999 10\r\n", "CLIENT_ERROR Illegal slab id\r\n"),
    X("stats cachedump 64 10\r\n", "CLIENT_ERROR Illegal slab id\r\n"),
    X("stats cachedump 63 10\r\n", "END\r\n"),
    X("stats foo\r\n", "ERROR\r\n"),
    X("stats noreply\r\n", "ERROR\r\n"),
    X("stats sizes_disable\r\n", "STAT sizes_status disabled\r\n"),
    X("stats items\r\n", "END\r\n"),
    X("stats items x\r\n", "END\r\n"),
    XC("GET / HTTP/1.1\r\n", ""),
    XC("get a\r\nGET / HTTP/1.1\r\n", "END\r\n"),
    X("get / HTTP/1.1\r\n", "END\r\n"),
    XC("foo HTTP/1.0\r\n", ""),
    X("version HTTP/1.1\r\n", "VERSION 1.6.18\r\n"),
    X("verbosity HTTP/1.1\r\n", "CLIENT_ERROR bad command line format\r\n"),
    X("flush_all HTTP/1.1\r\n", "CLIENT_ERROR invalid exptime argument\r\n"),
    X("tx HTTP/1.1\r\n", "ERROR\r\n"),
    X("mx HTTP/1.1\r\n", "ERROR\r\n"),
    XC("mxx HTTP/1.1\r\n", ""),
    X("x HTTP/1.1\r\n", "ERROR\r\n"),
    X("a b c d e f g h i j k l m n o p q r s t u v w x y z\r\n", "ERROR\r\n"),
    X("get a b c d e f g h i j k l m n o p q r s t u v w x y z\r\n", "END\r\n"),
    X("set a b c d e f g h i j k l m n o p q r s t u v w x y z\r\n", "ERROR\r\n"),
    X("set k 0 0 1\r\na\r\ngets k\r\ncas k 0 0 1 1\r\nb\r\ncas k 0 0 1 1\r\nc\r\n",
      "STORED\r\nVALUE k 0 1 1\r\na\r\nEND\r\nSTORED\r\nEXISTS\r\n"),
    X("set k 0 0 1 noreply\r\na\r\nset k 0 0 3 noreply\r\nabcde\r\n", "ERROR\r\n"),
    X("add k 0 0 1\r\nb\r\nreplace zz 0 0 1\r\nb\r\nappend zz 0 0 1\r\nb\r\nprepend zz 0 0 "
      "1\r\nb\r\n",
      "STORED\r\nNOT_STORED\r\nNOT_STORED\r\nNOT_STORED\r\n"),
    X("set k 0 0 1\r\na\r\nappend k 0 0 1\r\nb\r\nprepend k 0 0 1\r\nc\r\nget k\r\n",
      "STORED\r\nSTORED\r\nSTORED\r\nVALUE k 0 3\r\ncab\r\nEND\r\n"),
    X("set k 5 0 1\r\na\r\nappend k 7 0 1\r\nb\r\nget k\r\n",
      "STORED\r\nSTORED\r\nVALUE k 5 2\r\nab\r\nEND\r\n"),
    X("incr\0 k 1\r\n", "ERROR\r\n"),
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

/* ---- values over the limits (default -I 1m) ---- */

static char *
big_request(const char *head, size_t vlen, const char *tail, size_t *len)
{
    size_t hl = strlen(head), tl = strlen(tail);
    char *buf = malloc(hl + vlen + tl + 1);

    ck_assert_ptr_nonnull(buf);
    memcpy(buf, head, hl);
    memset(buf + hl, 'x', vlen);
    memcpy(buf + hl + vlen, tail, tl);
    *len = hl + vlen + tl;
    return buf;
}

START_TEST(test_too_large)
{
    size_t len;
    char *req;

    /* swallowed, answered, and the old value is gone */
    feed_str("set k 0 0 1\r\na\r\n");
    req = big_request("set k 0 0 2000000\r\n", 2000000, "\r\nget k\r\n", &len);
    feed(req, len);
    ck_assert_str_eq(reply, "SERVER_ERROR object too large for cache\r\nEND\r\n");
    free(req);

    /* noreply: nothing but the get */
    feed_str("set k 0 0 1\r\na\r\n");
    req = big_request("set k 0 0 2000000 noreply\r\n", 2000000, "\r\nget k\r\n", &len);
    feed(req, len);
    ck_assert_str_eq(reply, "END\r\n");
    free(req);

    /* the swallow does not check the trailer: the bytes after it are a line */
    req = big_request("set k 0 0 2000000\r\n", 2000000, "\r\r\n", &len);
    feed(req, len);
    ck_assert_str_eq(reply, "SERVER_ERROR object too large for cache\r\nERROR\r\n");
    free(req);

    /* append does not delete the old value */
    feed_str("set k 0 0 1\r\na\r\n");
    req = big_request("append k 0 0 2000000\r\n", 2000000, "\r\nget k\r\n", &len);
    feed(req, len);
    ck_assert_str_eq(reply,
                     "SERVER_ERROR object too large for cache\r\nVALUE k 0 1\r\na\r\nEND\r\n");
    free(req);

    /* just under the limit is stored and read back whole */
    req = big_request("set k 0 0 1048000\r\n", 1048000, "\r\nget k\r\n", &len);
    feed(req, len);
    ck_assert_uint_eq(reply_len, 8 + 19 + 1048000 + 2 + 5);
    ck_assert(memcmp(reply, "STORED\r\nVALUE k 0 1048000\r\nxxx", 30) == 0);
    ck_assert(memcmp(reply + reply_len - 7, "\r\nEND\r\n", 7) == 0);
    free(req);
}
END_TEST

/* A too-long key anywhere in a get drops the values of that get. */
START_TEST(test_get_long_key)
{
    char in[600];
    char k251[252];

    memset(k251, 'k', 251);
    k251[251] = '\0';
    feed_str("set a 0 0 1\r\na\r\n");
    snprintf(in, sizeof(in), "get a %s a\r\n", k251);
    feed_str(in);
    ck_assert_str_eq(reply, "CLIENT_ERROR bad command line format\r\n");
    ck_assert_uint_eq(wstats.get_hits, 1);
    ck_assert_uint_eq(wstats.cmd_get, 1);
    /* unsent replies of earlier requests go too, as in memcached */
    snprintf(in, sizeof(in), "get a\r\nset b 0 0 1\r\nb\r\nget b %s\r\nget b\r\n", k251);
    feed_batch(in, strlen(in));
    ck_assert_str_eq(reply, "CLIENT_ERROR bad command line format\r\nVALUE b 0 1\r\nb\r\nEND\r\n");
    /* once part of the output is on the wire, only this get's replies go */
    MM_OUT_LIT(&out, "PENDING\r\n");
    mm_out_consume(&out, 3);
    snprintf(in, sizeof(in), "get a %s\r\n", k251);
    feed_str(in);
    ck_assert_str_eq(reply, "DING\r\nCLIENT_ERROR bad command line format\r\n");
    snprintf(in, sizeof(in), "get %s\r\n", k251);
    feed_str(in);
    ck_assert_str_eq(reply, "CLIENT_ERROR bad command line format\r\n");
    /* the next request is served normally */
    feed_str("get a\r\n");
    ck_assert_str_eq(reply, "VALUE a 0 1\r\na\r\nEND\r\n");
}
END_TEST

/* Parse the CAS of a single "VALUE k f n cas" reply. */
static uint64_t
reply_cas(void)
{
    unsigned long long cas = 0;
    char key[64];
    unsigned f, n;

    ck_assert_int_eq(sscanf(reply, "VALUE %63s %u %u %llu", key, &f, &n, &cas), 4);
    return cas;
}

START_TEST(test_cas_flow)
{
    char in[128];
    uint64_t cas1, cas2;

    feed_str("set k 0 0 1\r\na\r\n");
    feed_str("gets k\r\n");
    cas1 = reply_cas();
    ck_assert_uint_ne(cas1, 0);
    snprintf(in, sizeof(in), "cas k 3 0 1 %llu\r\nb\r\n", (unsigned long long)cas1);
    feed_str(in);
    ck_assert_str_eq(reply, "STORED\r\n");
    /* the same CAS again is stale */
    feed_str(in);
    ck_assert_str_eq(reply, "EXISTS\r\n");
    feed_str("gets k\r\n");
    cas2 = reply_cas();
    ck_assert_uint_ne(cas2, cas1);
    ck_assert(strstr(reply, "\r\nb\r\nEND\r\n") != NULL);
    ck_assert(strncmp(reply, "VALUE k 3 1 ", 12) == 0);
    /* gats reports the CAS too */
    feed_str("gats 100 k\r\n");
    ck_assert_uint_eq(reply_cas(), cas2);
    feed_str("cas gone 0 0 1 1\r\nb\r\n");
    ck_assert_str_eq(reply, "NOT_FOUND\r\n");
    ck_assert_uint_eq(wstats.cas_hits, 1);
    ck_assert_uint_eq(wstats.cas_badval, 1);
    ck_assert_uint_eq(wstats.cas_misses, 1);
    ck_assert_uint_eq(wstats.cmd_set, 4);
}
END_TEST

START_TEST(test_flush_delay)
{
    feed_str("set a 0 0 1\r\na\r\n");
    feed_str("flush_all 10\r\n");
    ck_assert_str_eq(reply, "OK\r\n");
    feed_str("get a\r\n");
    ck_assert_str_eq(reply, "VALUE a 0 1\r\na\r\nEND\r\n");
    __atomic_store_n(&clk.now, clk.now + 11, __ATOMIC_RELAXED);
    feed_str("get a\r\n");
    ck_assert_str_eq(reply, "END\r\n");
    ck_assert_uint_eq(wstats.get_flushed, 1);
    ck_assert_uint_eq(wstats.cmd_flush, 1);
    /* items stored after the flush time live */
    feed_str("set b 0 0 1\r\nb\r\nget b\r\n");
    ck_assert_str_eq(reply, "STORED\r\nVALUE b 0 1\r\nb\r\nEND\r\n");
}
END_TEST

START_TEST(test_flush_disabled)
{
    settings.flush_enabled = false;
    feed_str("set a 0 0 1\r\na\r\n");
    feed_str("flush_all\r\n");
    ck_assert_str_eq(reply, "CLIENT_ERROR flush_all not allowed\r\n");
    feed_str("flush_all abc\r\n");
    ck_assert_str_eq(reply, "CLIENT_ERROR flush_all not allowed\r\n");
    ck_assert_uint_eq(wstats.cmd_flush, 2);
    feed_str("get a\r\n");
    ck_assert_str_eq(reply, "VALUE a 0 1\r\na\r\nEND\r\n");
}
END_TEST

START_TEST(test_expiry)
{
    feed_str("set a 0 5 1\r\na\r\ntouch a 100\r\n");
    ck_assert_str_eq(reply, "STORED\r\nTOUCHED\r\n");
    __atomic_store_n(&clk.now, clk.now + 50, __ATOMIC_RELAXED);
    feed_str("get a\r\n");
    ck_assert_str_eq(reply, "VALUE a 0 1\r\na\r\nEND\r\n");
    feed_str("gat 1 a\r\n");
    ck_assert_str_eq(reply, "VALUE a 0 1\r\na\r\nEND\r\n");
    __atomic_store_n(&clk.now, clk.now + 2, __ATOMIC_RELAXED);
    feed_str("get a\r\n");
    ck_assert_str_eq(reply, "END\r\n");
    ck_assert_uint_eq(wstats.get_expired, 1);
}
END_TEST

/* Counter deltas as memcached 1.6.18 counts them. */
START_TEST(test_stats_counts)
{
    feed_str("set a 0 0 1\r\na\r\nget a\r\nget zz\r\nget a zz a\r\n");
    ck_assert_uint_eq(wstats.cmd_set, 1);
    ck_assert_uint_eq(wstats.cmd_get, 5);
    ck_assert_uint_eq(wstats.get_hits, 3);
    ck_assert_uint_eq(wstats.get_misses, 2);
    /* gat counts as touches only */
    feed_str("gat 100 a\r\ngats 100 a zz\r\n");
    ck_assert_uint_eq(wstats.cmd_get, 5);
    ck_assert_uint_eq(wstats.cmd_touch, 3);
    ck_assert_uint_eq(wstats.touch_hits, 2);
    ck_assert_uint_eq(wstats.touch_misses, 1);
    feed_str("touch a 10\r\ntouch zz 10\r\n");
    ck_assert_uint_eq(wstats.cmd_touch, 5);
    ck_assert_uint_eq(wstats.touch_hits, 3);
    ck_assert_uint_eq(wstats.touch_misses, 2);
    feed_str("delete a\r\ndelete a\r\n");
    ck_assert_uint_eq(wstats.delete_hits, 1);
    ck_assert_uint_eq(wstats.delete_misses, 1);
    feed_str("incr n 1\r\ndecr n 1\r\nset n 0 0 1\r\n1\r\nincr n 1\r\ndecr n 1\r\n");
    ck_assert_uint_eq(wstats.incr_misses, 1);
    ck_assert_uint_eq(wstats.decr_misses, 1);
    ck_assert_uint_eq(wstats.incr_hits, 1);
    ck_assert_uint_eq(wstats.decr_hits, 1);
    /* a bad chunk counts as a set; a line error does not */
    feed_str("set a 0 0 1\r\nabc\r\nset a 0 0 -1\r\n");
    ck_assert_uint_eq(wstats.cmd_set, 3);
    /* flush errors are counted too */
    feed_str("flush_all abc\r\nflush_all 1 2 3\r\n");
    ck_assert_uint_eq(wstats.cmd_flush, 1);
    /* an expired item on get */
    feed_str("set e 0 -1 1\r\na\r\nget e\r\n");
    ck_assert_uint_eq(wstats.get_expired, 1);
}
END_TEST

START_TEST(test_noreply_silent)
{
    feed_str("set a 0 0 1 noreply\r\na\r\nadd a 0 0 1 noreply\r\nb\r\n"
             "replace a 0 0 1 noreply\r\nc\r\nappend a 0 0 1 noreply\r\nd\r\n"
             "prepend a 0 0 1 noreply\r\ne\r\ncas a 0 0 1 1 noreply\r\nf\r\n"
             "incr a 1 noreply\r\ndecr a 1 noreply\r\ntouch a 1 noreply\r\n"
             "delete a noreply\r\ndelete a noreply\r\nflush_all noreply\r\n"
             "verbosity 1 noreply\r\ncache_memlimit 100 noreply\r\n"
             "cache_memlimit 1 noreply\r\nincr a x noreply\r\n");
    ck_assert_uint_eq(reply_len, 0);
    feed_str("set a 0 0 2 noreply\r\n12\r\nincr a 1 noreply\r\nget a\r\n");
    ck_assert_str_eq(reply, "VALUE a 0 2\r\n13\r\nEND\r\n");
}
END_TEST

START_TEST(test_shutdown)
{
    settings.shutdown_command = true;
    feed_str("shutdown x\r\n");
    ck_assert_str_eq(reply, "CLIENT_ERROR invalid shutdown mode\r\n");
    ck_assert(!closed);
    feed_str("shutdown noreply\r\n");
    ck_assert_str_eq(reply, "CLIENT_ERROR invalid shutdown mode\r\n");
    ck_assert_int_eq(shutdown_calls, 0);
    feed_str("shutdown graceful\r\nget a\r\n");
    ck_assert_uint_eq(reply_len, 0);
    ck_assert(closed);
    ck_assert_int_eq(shutdown_calls, 1);
    ck_assert(shutdown_graceful);
    feed_str("shutdown\r\n");
    ck_assert(closed);
    ck_assert_int_eq(shutdown_calls, 2);
    ck_assert(!shutdown_graceful);
}
END_TEST

START_TEST(test_verbosity)
{
    feed_str("verbosity 2\r\n");
    ck_assert_str_eq(reply, "OK\r\n");
    ck_assert_int_eq(mm_log_get_level(), 2);
    feed_str("verbosity 100\r\n");
    ck_assert_int_eq(mm_log_get_level(), 2);
    feed_str("verbosity 0\r\n");
    ck_assert_int_eq(mm_log_get_level(), 0);
    feed_str("verbosity 1 noreply\r\n");
    ck_assert_int_eq(mm_log_get_level(), 1);
}
END_TEST

/* memcached 1.6.18's "stats" names, in order (captured). */
static const char *const general_names[] = {
    "pid",
    "uptime",
    "time",
    "version",
    "libevent",
    "pointer_size",
    "rusage_user",
    "rusage_system",
    "max_connections",
    "curr_connections",
    "total_connections",
    "rejected_connections",
    "connection_structures",
    "response_obj_oom",
    "response_obj_count",
    "response_obj_bytes",
    "read_buf_count",
    "read_buf_bytes",
    "read_buf_bytes_free",
    "read_buf_oom",
    "reserved_fds",
    "cmd_get",
    "cmd_set",
    "cmd_flush",
    "cmd_touch",
    "cmd_meta",
    "get_hits",
    "get_misses",
    "get_expired",
    "get_flushed",
    "delete_misses",
    "delete_hits",
    "incr_misses",
    "incr_hits",
    "decr_misses",
    "decr_hits",
    "cas_misses",
    "cas_hits",
    "cas_badval",
    "touch_hits",
    "touch_misses",
    "store_too_large",
    "store_no_memory",
    "auth_cmds",
    "auth_errors",
    "bytes_read",
    "bytes_written",
    "limit_maxbytes",
    "accepting_conns",
    "listen_disabled_num",
    "time_in_listen_disabled_us",
    "threads",
    "conn_yields",
    "hash_power_level",
    "hash_bytes",
    "hash_is_expanding",
    "slab_reassign_rescues",
    "slab_reassign_chunk_rescues",
    "slab_reassign_evictions_nomem",
    "slab_reassign_inline_reclaim",
    "slab_reassign_busy_items",
    "slab_reassign_busy_deletes",
    "slab_reassign_running",
    "slabs_moved",
    "lru_crawler_running",
    "lru_crawler_starts",
    "lru_maintainer_juggles",
    "malloc_fails",
    "log_worker_dropped",
    "log_worker_written",
    "log_watcher_skipped",
    "log_watcher_sent",
    "log_watchers",
    "unexpected_napi_ids",
    "round_robin_fallback",
    "bytes",
    "curr_items",
    "total_items",
    "slab_global_page_pool",
    "expired_unfetched",
    "evicted_unfetched",
    "evicted_active",
    "evictions",
    "reclaimed",
    "crawler_reclaimed",
    "crawler_items_checked",
    "lrutail_reflocked",
    "moves_to_cold",
    "moves_to_warm",
    "moves_within_lru",
    "direct_reclaims",
    "lru_bumps_dropped",
};

/* Find "STAT name value\r\n" in reply; returns the value or NULL. */
static const char *
stat_value(const char *name, char *buf, size_t cap)
{
    char pat[96];
    const char *p, *e;

    snprintf(pat, sizeof(pat), "STAT %s ", name);
    p = strstr(reply, pat);
    if (p == NULL) {
        return NULL;
    }
    p += strlen(pat);
    e = strstr(p, "\r\n");
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_lt((size_t)(e - p), cap);
    memcpy(buf, p, (size_t)(e - p));
    buf[e - p] = '\0';
    return buf;
}

START_TEST(test_stats_general)
{
    size_t n = sizeof(general_names) / sizeof(general_names[0]);
    size_t i;
    const char *p;
    char v[64];

    feed_str("set a 0 0 1\r\na\r\nget a\r\nget b\r\n");
    feed_str("stats\r\n");
    /* exactly memcached's names in memcached's order, then END */
    p = reply;
    for (i = 0; i < n; i++) {
        size_t nl = strlen(general_names[i]);

        ck_assert_msg(strncmp(p, "STAT ", 5) == 0, "line %zu: %.40s", i, p);
        ck_assert_msg(strncmp(p + 5, general_names[i], nl) == 0 && p[5 + nl] == ' ',
                      "line %zu: want %s, got %.40s", i, general_names[i], p);
        p = strstr(p, "\r\n");
        ck_assert_ptr_nonnull(p);
        p += 2;
    }
    ck_assert_str_eq(p, "END\r\n");
    ck_assert_str_eq(stat_value("version", v, sizeof(v)), "1.6.18");
    ck_assert_str_eq(stat_value("libevent", v, sizeof(v)), "2.1.12-stable");
    ck_assert_str_eq(stat_value("cmd_get", v, sizeof(v)), "2");
    ck_assert_str_eq(stat_value("get_hits", v, sizeof(v)), "1");
    ck_assert_str_eq(stat_value("get_misses", v, sizeof(v)), "1");
    ck_assert_str_eq(stat_value("cmd_set", v, sizeof(v)), "1");
    ck_assert_str_eq(stat_value("curr_items", v, sizeof(v)), "1");
    ck_assert_str_eq(stat_value("threads", v, sizeof(v)), "4");
    ck_assert_str_eq(stat_value("max_connections", v, sizeof(v)), "1024");
    ck_assert_str_eq(stat_value("accepting_conns", v, sizeof(v)), "1");
    ck_assert_str_eq(stat_value("limit_maxbytes", v, sizeof(v)), "67108864");
    ck_assert_str_eq(stat_value("pointer_size", v, sizeof(v)), "64");
    ck_assert_ptr_nonnull(stat_value("rusage_user", v, sizeof(v)));
    ck_assert_ptr_nonnull(strchr(v, '.'));
    ck_assert_uint_eq(strlen(strchr(v, '.')), 7);
    snprintf(v + 32, 32, "%ld", (long)(clk.started + clk.now));
    ck_assert_str_eq(stat_value("time", v, 32), v + 32);

    /* reset zeroes the counters */
    feed_str("stats reset\r\n");
    ck_assert_str_eq(reply, "RESET\r\n");
    ck_assert_uint_eq(wstats.cmd_get, 0);
    feed_str("stats\r\n");
    ck_assert_str_eq(stat_value("get_hits", v, sizeof(v)), "0");
    ck_assert_str_eq(stat_value("curr_items", v, sizeof(v)), "1");
}
END_TEST

START_TEST(test_stats_groups)
{
    char v[64];

    feed_str("set a 0 0 1\r\na\r\n");
    feed_str("stats settings\r\n");
    ck_assert_str_eq(stat_value("maxbytes", v, sizeof(v)), "67108864");
    ck_assert(strcmp(reply + reply_len - 5, "END\r\n") == 0);
    feed_str("stats items\r\n");
    ck_assert_str_eq(stat_value("items:1:number", v, sizeof(v)), "1");
    ck_assert(strcmp(reply + reply_len - 5, "END\r\n") == 0);
    feed_str("stats slabs\r\n");
    ck_assert_ptr_nonnull(stat_value("active_slabs", v, sizeof(v)));
    ck_assert_ptr_nonnull(stat_value("total_malloced", v, sizeof(v)));
    ck_assert(strcmp(reply + reply_len - 5, "END\r\n") == 0);
    feed_str("stats sizes\r\n");
    ck_assert_str_eq(reply, "STAT sizes_status disabled\r\nEND\r\n");
    feed_str("stats conns\r\n");
    ck_assert_str_eq(reply,
                     "STAT 7:addr tcp:127.0.0.1:1234\r\nSTAT 7:state conn_parse_cmd\r\nEND\r\n");
    settings.dump_enabled = false;
    feed_str("stats cachedump 1 1\r\n");
    ck_assert_str_eq(reply, "CLIENT_ERROR stats cachedump not allowed\r\n");
}
END_TEST

START_TEST(test_memlimit)
{
    char v[64];

    feed_str("cache_memlimit 100\r\nstats\r\n");
    ck_assert(strncmp(reply, "OK\r\n", 4) == 0);
    ck_assert_str_eq(stat_value("limit_maxbytes", v, sizeof(v)), "104857600");
    feed_str("cache_memlimit 8\r\n");
    ck_assert_str_eq(reply, "OK\r\n");
}
END_TEST

/* Pipelined requests split at every byte give the same replies as one
 * buffer (the parser never consumes a partial request). */
START_TEST(test_split_feed)
{
    static const char in[] = "set a 0 0 3\r\nabc\r\nget a b\r\nincr a 1\r\ndelete a\r\nget a\r\n";
    char whole[256];
    size_t wlen, split;

    feed_str("flush_all\r\n");
    feed(in, sizeof(in) - 1);
    ck_assert_uint_lt(reply_len, sizeof(whole));
    memcpy(whole, reply, reply_len);
    wlen = reply_len;
    for (split = 1; split < sizeof(in) - 1; split++) {
        char got[256];
        size_t glen, left;

        feed_str("flush_all\r\n");
        /* first part: whatever is complete; then the rest with the leftover */
        left = feed(in, split);
        memcpy(got, reply, reply_len);
        glen = reply_len;
        /* then the unconsumed bytes plus the rest */
        feed(in + split - left, sizeof(in) - 1 - (split - left));
        memcpy(got + glen, reply, reply_len);
        glen += reply_len;
        ck_assert_msg(glen == wlen && memcmp(got, whole, wlen) == 0, "split %zu", split);
    }
}
END_TEST

/* lru_crawler: memcached 1.6.18's replies, captured from it. */
START_TEST(test_lru_crawler_replies)
{
    EXPECT("lru_crawler metadump 99\r\n", "BADCLASS invalid class id\r\n");
    EXPECT("lru_crawler metadump 0\r\n", "BADCLASS invalid class id\r\n");
    EXPECT("lru_crawler metadump 64\r\n", "BADCLASS invalid class id\r\n");
    EXPECT("lru_crawler metadump 1a\r\n", "BADCLASS invalid class id\r\n");
    EXPECT("lru_crawler metadump 1,99\r\n", "BADCLASS invalid class id\r\n");
    EXPECT("lru_crawler metadump 63\r\n", "END\r\n");
    EXPECT("lru_crawler metadump 1,\r\n", "END\r\n");
    EXPECT("lru_crawler metadump hash\r\n", "END\r\n");
    EXPECT("lru_crawler metadump\r\n", "ERROR\r\n");
    EXPECT("lru_crawler mgdump all\r\n", "ERROR\r\n");
    EXPECT("lru_crawler crawl all\r\n", "OK\r\n");
    EXPECT("lru_crawler crawl 1,2\r\n", "OK\r\n");
    EXPECT("lru_crawler crawl 0\r\n", "BADCLASS invalid class id\r\n");
    EXPECT("lru_crawler crawl hash\r\n", "ERROR an unknown error happened\r\n");
    EXPECT("lru_crawler tocrawl 10\r\n", "OK\r\n");
    EXPECT("lru_crawler tocrawl -1\r\n", "CLIENT_ERROR bad command line format\r\n");
    EXPECT("lru_crawler sleep 1000000\r\n", "OK\r\n");
    EXPECT("lru_crawler sleep 1000001\r\n", "CLIENT_ERROR sleep must be one second or less\r\n");
    EXPECT("lru_crawler sleep x\r\n", "CLIENT_ERROR bad command line format\r\n");
    EXPECT("lru_crawler enable\r\n", "ERROR failed to start lru crawler thread\r\n");
    EXPECT("lru_crawler disable\r\n", "OK\r\n");
    EXPECT("lru_crawler disable\r\n", "OK\r\n");
    EXPECT("lru_crawler metadump all\r\n", "CLIENT_ERROR lru crawler disabled\r\n");
    EXPECT("lru_crawler crawl all\r\n", "CLIENT_ERROR lru crawler disabled\r\n");
    EXPECT("lru_crawler enable\r\n", "OK\r\n");
    feed_batch("version\r\nlru_crawler metadump all\r\n", 35);
    ck_assert_str_eq(reply,
                     "VERSION 1.6.18\r\nERROR cannot pipeline other commands before metadump\r\n");
    settings.dump_enabled = false;
    EXPECT("lru_crawler metadump 99\r\n", "ERROR metadump not allowed\r\n");
}
END_TEST

START_TEST(test_lru_crawler_metadump_lines)
{
    long long now = (long long)time(NULL);
    long long la;
    long long exp;
    unsigned long long cas;
    unsigned cls;
    unsigned size;
    char key[64];
    char fetch[4];
    char *line2;

    feed_str("set a%20b 5 0 3\r\nxyz\r\nset k 0 100 1\r\nx\r\nget a%20b\r\n");
    feed_str("lru_crawler metadump all\r\n");
    ck_assert_msg(strncmp(reply + reply_len - 5, "END\r\n", 5) == 0, "%s", reply);
    ck_assert_ptr_nonnull(strstr(reply, "key=a%2520b exp=-1 la="));
    ck_assert_ptr_nonnull(strstr(reply, " fetch=yes cls=1 size="));
    line2 = strstr(reply, "key=k ");
    ck_assert_ptr_nonnull(line2);
    ck_assert_int_eq(sscanf(line2, "key=%63s exp=%lld la=%lld cas=%llu fetch=%3s cls=%u size=%u\n",
                            key, &exp, &la, &cas, fetch, &cls, &size),
                     7);
    ck_assert_str_eq(key, "k");
    ck_assert_int_ge(exp, now + 95);
    ck_assert_int_le(exp, now + 105);
    ck_assert_int_ge(la, now - 5);
    ck_assert_int_le(la, now + 5);
    ck_assert_uint_eq(cas, 2);
    ck_assert_str_eq(fetch, "no");
    ck_assert_uint_eq(cls, 1);
    ck_assert_uint_gt(size, 1);
    /* Class filters: class 1 lists both, another class neither. */
    feed_str("lru_crawler metadump 1\r\n");
    ck_assert_ptr_nonnull(strstr(reply, "key=k "));
    EXPECT("lru_crawler metadump 2,3\r\n", "END\r\n");
    /* Deleted, expired and flushed items are not listed. */
    EXPECT("delete k\r\n", "DELETED\r\n");
    feed_str("lru_crawler metadump all\r\n");
    ck_assert_ptr_null(strstr(reply, "key=k "));
    EXPECT("flush_all\r\n", "OK\r\n");
    clk.now += 2;
    EXPECT("lru_crawler metadump all\r\n", "END\r\n");
}
END_TEST

/* A larger dump comes out in many bounded steps, each key exactly once. */
START_TEST(test_lru_crawler_metadump_steps)
{
    enum { N = 3000 };
    static unsigned char seen[N];
    char line[64];
    const char *p;
    unsigned i;
    unsigned n = 0;

    for (i = 0; i < N; i++) {
        snprintf(line, sizeof(line), "set key:%u 0 0 1\r\nv\r\n", i);
        feed_str(line);
    }
    dump_steps = 0;
    feed_str("lru_crawler metadump all\r\n");
    ck_assert_uint_gt(dump_steps, 10);
    for (p = reply; (p = strstr(p, "key=key%3A")) != NULL; p++) {
        unsigned k = (unsigned)strtoul(p + 10, NULL, 10);

        ck_assert_uint_lt(k, N);
        ck_assert_uint_eq(seen[k], 0);
        seen[k] = 1;
        n++;
    }
    ck_assert_uint_eq(n, N);
}
END_TEST

static Suite *
cmd_suite(void)
{
    Suite *s = suite_create("cmd");
    TCase *tc = tcase_create("text");
    int nx = (int)(sizeof(xcases) / sizeof(xcases[0]));

    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_transcript, 0, nx);
    tcase_add_test(tc, test_too_large);
    tcase_add_test(tc, test_get_long_key);
    tcase_add_test(tc, test_cas_flow);
    tcase_add_test(tc, test_flush_delay);
    tcase_add_test(tc, test_flush_disabled);
    tcase_add_test(tc, test_lru_crawler_replies);
    tcase_add_test(tc, test_lru_crawler_metadump_lines);
    tcase_add_test(tc, test_lru_crawler_metadump_steps);
    tcase_add_test(tc, test_expiry);
    tcase_add_test(tc, test_stats_counts);
    tcase_add_test(tc, test_noreply_silent);
    tcase_add_test(tc, test_shutdown);
    tcase_add_test(tc, test_verbosity);
    tcase_add_test(tc, test_stats_general);
    tcase_add_test(tc, test_stats_groups);
    tcase_add_test(tc, test_memlimit);
    tcase_add_test(tc, test_split_feed);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(cmd_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
