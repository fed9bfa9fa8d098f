/* Tests for binary command execution: request packets go through the binary
 * parser, a tiny in-test connection and a real store; the response packets
 * are decoded and checked field by field against what memcached 1.6.18
 * answered for the same packets on a loopback port (status, message, opaque
 * and CAS echo, quiet silence, incr's initial value and no-create expiry,
 * stat framing). No sockets. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmem/clock.h"
#include "mmem/cmd.h"
#include "mmem/cmd_binary.h"
#include "mmem/out.h"
#include "mmem/protocol_binary.h"
#include "mmem/settings.h"
#include "mmem/stats.h"
#include "mmem/store.h"

/* ---- fixture ---- */

static struct mm_clock clk;
static struct mm_settings settings;
static struct mm_store *store;
static struct mm_stats wstats;
static struct mm_cmd_env env;
static struct mm_cmd_ctx ctx;
static struct mm_out out;

static void
setup(void)
{
    struct mm_store_cfg cfg;

    mm_clock_init(&clk);
    memset(&settings, 0, sizeof(settings));
    settings.maxbytes = 64 * 1024 * 1024;
    settings.maxconns = 1024;
    settings.num_threads = 4;
    settings.flush_enabled = true;
    settings.use_cas = true;
    memset(&cfg, 0, sizeof(cfg));
    cfg.mem_limit = settings.maxbytes;
    cfg.item_size_max = 1024 * 1024;
    cfg.evict = true;
    cfg.use_cas = true;
    cfg.clock = &clk;
    store = mm_store_create(&cfg);
    ck_assert_ptr_nonnull(store);
    memset(&wstats, 0, sizeof(wstats));
    memset(&env, 0, sizeof(env));
    env.settings = &settings;
    env.store = store;
    env.clock = &clk;
    env.version = "1.6.18";
    ctx.env = &env;
    ctx.stats = &wstats;
    mm_out_init(&out, mm_cmd_item_release, store);
}

static void
teardown(void)
{
    mm_out_fini(&out);
    mm_store_destroy(&store);
}

/* ---- requests ---- */

static unsigned char in[1 << 22];
static size_t inlen;

static void
put_be(unsigned char *p, uint64_t v, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        p[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
    }
}

/* Append a request; vlen bytes of 'v' are used when val is NULL. */
static void
add_req(uint8_t op, const char *key, const unsigned char *ext, size_t next, const char *val,
        size_t vlen, uint32_t opaque, uint64_t cas)
{
    unsigned char *b = in + inlen;
    size_t nkey = strlen(key);

    memset(b, 0, MM_BIN_HEADER_LEN);
    b[0] = MM_BIN_MAGIC_REQ;
    b[1] = op;
    put_be(b + 2, nkey, 2);
    b[4] = (unsigned char)next;
    put_be(b + 8, next + nkey + vlen, 4);
    put_be(b + 12, opaque, 4);
    put_be(b + 16, cas, 8);
    inlen += MM_BIN_HEADER_LEN;
    if (next > 0) {
        memcpy(in + inlen, ext, next);
    }
    inlen += next;
    memcpy(in + inlen, key, nkey);
    inlen += nkey;
    if (val != NULL) {
        memcpy(in + inlen, val, vlen);
    } else {
        memset(in + inlen, 'v', vlen);
    }
    inlen += vlen;
}

static void
add_store(uint8_t op, const char *key, uint32_t flags, uint32_t exptime, const char *val,
          uint64_t cas)
{
    unsigned char ext[8];

    put_be(ext, flags, 4);
    put_be(ext + 4, exptime, 4);
    add_req(op, key, ext, 8, val, strlen(val), 0x100 + op, cas);
}

static void
add_delta(uint8_t op, const char *key, uint64_t delta, uint64_t initial, uint32_t exptime)
{
    unsigned char ext[20];

    put_be(ext, delta, 8);
    put_be(ext + 8, initial, 8);
    put_be(ext + 16, exptime, 4);
    add_req(op, key, ext, 20, "", 0, 0x200 + op, 0);
}

static void
add_simple(uint8_t op, const char *key)
{
    add_req(op, key, NULL, 0, "", 0, 0x300 + op, 0);
}

static void
add_touch(uint8_t op, const char *key, uint32_t exptime)
{
    unsigned char ext[4];

    put_be(ext, exptime, 4);
    add_req(op, key, ext, 4, "", 0, 0x400 + op, 0);
}

/* ---- the in-test connection ---- */

static unsigned char reply[1 << 22];
static size_t reply_len;
static bool closed;

static void
drain(void)
{
    for (;;) {
        struct iovec *iov;
        int n = mm_out_iov(&out, &iov, 64);
        size_t total = 0;
        int i;

        if (n <= 0) {
            break;
        }
        for (i = 0; i < n; i++) {
            ck_assert_uint_le(reply_len + iov[i].iov_len, sizeof(reply));
            memcpy(reply + reply_len, iov[i].iov_base, iov[i].iov_len);
            reply_len += iov[i].iov_len;
            total += iov[i].iov_len;
        }
        mm_out_consume(&out, total);
    }
}

/* Run everything queued in in[]; the input is reset afterwards. */
static void
run(void)
{
    size_t off = 0;

    reply_len = 0;
    closed = false;
    while (off < inlen && !closed) {
        struct mm_bin_req b;
        size_t used;
        enum mm_bin_rc rc = mm_bin_parse((const char *)in + off, inlen - off, &b, &used);

        if (rc == MM_BIN_AGAIN) {
            break;
        }
        if (rc == MM_BIN_CLOSE) {
            closed = true;
            break;
        }
        off += used;
        if (b.action == MM_BIN_ACT_STORE) {
            struct mm_item *it = NULL;
            char *dst = NULL;
            struct mm_bin_req copy = b;

            if (mm_cmd_bin_store_begin(&ctx, &b, &out, &it, &dst) == MM_CMD_STORE_READ) {
                ck_assert_uint_le(b.req.vlen, inlen - off);
                memcpy(dst, in + off, b.req.vlen);
                /* store_end must not read spans */
                copy.req.key.p = NULL;
                mm_cmd_bin_store_end(&ctx, &copy, it, &out);
            }
            off += b.req.vlen < inlen - off ? b.req.vlen : inlen - off;
        } else {
            if (mm_cmd_bin_exec(&ctx, &b, &out) == MM_CMD_CLOSE) {
                closed = true;
            }
            off += b.swallow < inlen - off ? b.swallow : inlen - off;
        }
        drain();
    }
    drain();
    inlen = 0;
}

/* ---- decoded responses ---- */

struct resp {
    struct mm_bin_header h;
    const unsigned char *ext;
    const char *key;
    const char *val;
    size_t vlen;
};

static struct resp rs[512];
static int nrs;

static void
decode(void)
{
    size_t off = 0;

    nrs = 0;
    while (off < reply_len) {
        struct resp *r = &rs[nrs++];

        ck_assert_int_lt(nrs, 512);
        ck_assert_uint_ge(reply_len - off, MM_BIN_HEADER_LEN);
        mm_bin_header_decode(reply + off, &r->h);
        ck_assert_uint_eq(r->h.magic, MM_BIN_MAGIC_RES);
        ck_assert_uint_ge(reply_len - off - MM_BIN_HEADER_LEN, r->h.bodylen);
        r->ext = reply + off + MM_BIN_HEADER_LEN;
        r->key = (const char *)r->ext + r->h.extlen;
        r->val = r->key + r->h.keylen;
        r->vlen = r->h.bodylen - r->h.extlen - r->h.keylen;
        off += MM_BIN_HEADER_LEN + r->h.bodylen;
    }
}

static void
expect(int i, uint8_t op, uint16_t status, const char *val)
{
    ck_assert_int_lt(i, nrs);
    ck_assert_uint_eq(rs[i].h.opcode, op);
    ck_assert_uint_eq(rs[i].h.vbucket, status);
    ck_assert_uint_eq(rs[i].vlen, strlen(val));
    ck_assert(memcmp(rs[i].val, val, rs[i].vlen) == 0);
}

static uint32_t
flags_of(int i)
{
    ck_assert_uint_eq(rs[i].h.extlen, 4);
    return (uint32_t)rs[i].ext[0] << 24 | (uint32_t)rs[i].ext[1] << 16 |
           (uint32_t)rs[i].ext[2] << 8 | rs[i].ext[3];
}

static uint64_t
num_of(int i)
{
    uint64_t v = 0;
    int k;

    ck_assert_uint_eq(rs[i].vlen, 8);
    for (k = 0; k < 8; k++) {
        v = v << 8 | (unsigned char)rs[i].val[k];
    }
    return v;
}

/* ---- tests ---- */

START_TEST(test_get_set)
{
    uint64_t cas;

    add_simple(MM_BIN_OP_GET, "k1");
    add_store(MM_BIN_OP_SET, "k1", 5, 0, "hello", 0);
    add_simple(MM_BIN_OP_GET, "k1");
    add_simple(MM_BIN_OP_GETK, "k1");
    add_simple(MM_BIN_OP_GETQ, "nokey");
    add_simple(MM_BIN_OP_GETKQ, "nokey");
    add_simple(MM_BIN_OP_GETK, "nokey");
    add_simple(MM_BIN_OP_GETQ, "k1");
    add_simple(MM_BIN_OP_NOOP, "");
    run();
    decode();
    ck_assert_int_eq(nrs, 7);
    expect(0, MM_BIN_OP_GET, MM_BIN_ST_KEY_ENOENT, "Not found");
    ck_assert_uint_eq(rs[0].h.opaque, 0x300 + MM_BIN_OP_GET);
    ck_assert_uint_eq(rs[0].h.cas, 0);
    expect(1, MM_BIN_OP_SET, MM_BIN_ST_OK, "");
    ck_assert_uint_eq(rs[1].h.opaque, 0x100 + MM_BIN_OP_SET);
    cas = rs[1].h.cas;
    ck_assert_uint_ne(cas, 0);
    expect(2, MM_BIN_OP_GET, MM_BIN_ST_OK, "hello");
    ck_assert_uint_eq(flags_of(2), 5);
    ck_assert_uint_eq(rs[2].h.keylen, 0);
    ck_assert_uint_eq(rs[2].h.cas, cas);
    expect(3, MM_BIN_OP_GETK, MM_BIN_ST_OK, "hello");
    ck_assert_uint_eq(rs[3].h.keylen, 2);
    ck_assert(memcmp(rs[3].key, "k1", 2) == 0);
    /* GETK miss: the key, no message */
    expect(4, MM_BIN_OP_GETK, MM_BIN_ST_KEY_ENOENT, "");
    ck_assert_uint_eq(rs[4].h.keylen, 5);
    ck_assert_uint_eq(rs[4].h.extlen, 0);
    /* GETQ hits are answered */
    expect(5, MM_BIN_OP_GETQ, MM_BIN_ST_OK, "hello");
    expect(6, MM_BIN_OP_NOOP, MM_BIN_ST_OK, "");
    ck_assert_uint_eq(wstats.get_hits, 3);
    ck_assert_uint_eq(wstats.get_misses, 4);
    ck_assert_uint_eq(wstats.cmd_set, 1);
}
END_TEST

START_TEST(test_store_modes)
{
    uint64_t cas;

    add_store(MM_BIN_OP_SETQ, "a", 0, 0, "1", 0);
    add_store(MM_BIN_OP_ADD, "a", 0, 0, "2", 0);
    add_store(MM_BIN_OP_ADDQ, "a", 0, 0, "2", 0);
    add_store(MM_BIN_OP_REPLACE, "nokey", 0, 0, "2", 0);
    add_store(MM_BIN_OP_REPLACEQ, "a", 0, 0, "3", 0);
    add_req(MM_BIN_OP_APPEND, "nokey", NULL, 0, "x", 1, 9, 0);
    add_req(MM_BIN_OP_APPENDQ, "a", NULL, 0, "x", 1, 9, 0);
    add_req(MM_BIN_OP_PREPEND, "a", NULL, 0, "p", 1, 9, 0);
    add_store(MM_BIN_OP_SET, "a", 0, 0, "z", 12345);
    add_store(MM_BIN_OP_SET, "nokey", 0, 0, "z", 12345);
    add_simple(MM_BIN_OP_GET, "a");
    run();
    decode();
    ck_assert_int_eq(nrs, 8);
    expect(0, MM_BIN_OP_ADD, MM_BIN_ST_KEY_EEXISTS, "Data exists for key.");
    /* quiet opcodes still report errors, under their own opcode */
    expect(1, MM_BIN_OP_ADDQ, MM_BIN_ST_KEY_EEXISTS, "Data exists for key.");
    expect(2, MM_BIN_OP_REPLACE, MM_BIN_ST_KEY_ENOENT, "Not found");
    expect(3, MM_BIN_OP_APPEND, MM_BIN_ST_NOT_STORED, "Not stored.");
    expect(4, MM_BIN_OP_PREPEND, MM_BIN_ST_OK, "");
    expect(5, MM_BIN_OP_SET, MM_BIN_ST_KEY_EEXISTS, "Data exists for key.");
    expect(6, MM_BIN_OP_SET, MM_BIN_ST_KEY_ENOENT, "Not found");
    expect(7, MM_BIN_OP_GET, MM_BIN_ST_OK, "p3x");
    cas = rs[7].h.cas;
    ck_assert_uint_eq(rs[4].h.cas, cas);

    /* the right CAS swaps and returns a new one */
    add_store(MM_BIN_OP_SET, "a", 0, 0, "new", cas);
    add_store(MM_BIN_OP_SET, "a", 0, 0, "newer", cas);
    run();
    decode();
    ck_assert_int_eq(nrs, 2);
    expect(0, MM_BIN_OP_SET, MM_BIN_ST_OK, "");
    ck_assert_uint_ne(rs[0].h.cas, cas);
    expect(1, MM_BIN_OP_SET, MM_BIN_ST_KEY_EEXISTS, "Data exists for key.");
    ck_assert_uint_eq(wstats.cas_hits, 1);
    ck_assert_uint_eq(wstats.cas_badval, 2);
    ck_assert_uint_eq(wstats.cas_misses, 1);
}
END_TEST

START_TEST(test_too_large)
{
    static char big[1024 * 1024 + 10];

    memset(big, 'x', sizeof(big) - 1);
    add_store(MM_BIN_OP_SET, "big", 0, 0, "old", 0);
    add_store(MM_BIN_OP_SETQ, "big", 0, 0, big, 0);
    add_simple(MM_BIN_OP_GET, "big");
    add_simple(MM_BIN_OP_NOOP, "");
    run();
    decode();
    ck_assert_int_eq(nrs, 4);
    expect(0, MM_BIN_OP_SET, MM_BIN_ST_OK, "");
    expect(1, MM_BIN_OP_SETQ, MM_BIN_ST_E2BIG, "Too large.");
    /* a failed set leaves no stale value behind */
    expect(2, MM_BIN_OP_GET, MM_BIN_ST_KEY_ENOENT, "Not found");
    expect(3, MM_BIN_OP_NOOP, MM_BIN_ST_OK, "");
}
END_TEST

START_TEST(test_delta)
{
    add_delta(MM_BIN_OP_INCREMENT, "c", 1, 10, 0);
    add_delta(MM_BIN_OP_INCREMENT, "c", 5, 10, 0);
    add_delta(MM_BIN_OP_INCREMENT, "d", 1, 10, MM_BIN_DELTA_NO_CREATE);
    add_delta(MM_BIN_OP_DECREMENT, "c", 100, 10, 0);
    add_delta(MM_BIN_OP_INCREMENTQ, "c", 7, 0, 0);
    add_delta(MM_BIN_OP_DECREMENT, "e", 1, 7, 0);
    add_store(MM_BIN_OP_SET, "s", 0, 0, "abc", 0);
    add_delta(MM_BIN_OP_INCREMENT, "s", 1, 0, 0);
    add_simple(MM_BIN_OP_GET, "c");
    run();
    decode();
    ck_assert_int_eq(nrs, 8);
    ck_assert_uint_eq(rs[0].h.opcode, MM_BIN_OP_INCREMENT);
    ck_assert_uint_eq(rs[0].h.vbucket, MM_BIN_ST_OK);
    ck_assert_uint_eq(num_of(0), 10);
    ck_assert_uint_ne(rs[0].h.cas, 0);
    ck_assert_uint_eq(num_of(1), 15);
    ck_assert_uint_gt(rs[1].h.cas, rs[0].h.cas);
    expect(2, MM_BIN_OP_INCREMENT, MM_BIN_ST_KEY_ENOENT, "Not found");
    ck_assert_uint_eq(num_of(3), 0);
    ck_assert_uint_eq(num_of(4), 7);
    ck_assert_uint_eq(rs[4].h.opcode, MM_BIN_OP_DECREMENT);
    expect(5, MM_BIN_OP_SET, MM_BIN_ST_OK, "");
    expect(6, MM_BIN_OP_INCREMENT, MM_BIN_ST_DELTA_BADVAL,
           "Non-numeric server-side value for incr or decr");
    /* rewritten in place, space-padded to the old length (memcached) */
    expect(7, MM_BIN_OP_GET, MM_BIN_ST_OK, "7 ");
    ck_assert_uint_eq(wstats.incr_misses, 2);
    ck_assert_uint_eq(wstats.decr_misses, 1);
}
END_TEST

START_TEST(test_delete)
{
    add_simple(MM_BIN_OP_DELETE, "a");
    add_store(MM_BIN_OP_SET, "a", 0, 0, "1", 0);
    add_req(MM_BIN_OP_DELETE, "a", NULL, 0, "", 0, 1, 999999);
    add_simple(MM_BIN_OP_DELETEQ, "a");
    add_simple(MM_BIN_OP_DELETEQ, "a");
    run();
    decode();
    ck_assert_int_eq(nrs, 4);
    expect(0, MM_BIN_OP_DELETE, MM_BIN_ST_KEY_ENOENT, "Not found");
    expect(2, MM_BIN_OP_DELETE, MM_BIN_ST_KEY_EEXISTS, "Data exists for key.");
    expect(3, MM_BIN_OP_DELETEQ, MM_BIN_ST_KEY_ENOENT, "Not found");
    ck_assert_uint_eq(wstats.delete_hits, 1);
}
END_TEST

START_TEST(test_touch_gat)
{
    add_touch(MM_BIN_OP_TOUCH, "t", 10);
    add_store(MM_BIN_OP_SET, "t", 7, 0, "val", 0);
    add_touch(MM_BIN_OP_TOUCH, "t", 10);
    add_touch(MM_BIN_OP_GAT, "t", 10);
    add_touch(MM_BIN_OP_GATK, "t", 10);
    add_touch(MM_BIN_OP_GATQ, "nokey", 10);
    add_touch(MM_BIN_OP_GATKQ, "nokey", 10);
    add_touch(MM_BIN_OP_GATK, "nokey", 10);
    run();
    decode();
    ck_assert_int_eq(nrs, 6);
    expect(0, MM_BIN_OP_TOUCH, MM_BIN_ST_KEY_ENOENT, "Not found");
    /* touch: flags and CAS, no value */
    expect(2, MM_BIN_OP_TOUCH, MM_BIN_ST_OK, "");
    ck_assert_uint_eq(flags_of(2), 7);
    ck_assert_uint_eq(rs[2].h.cas, rs[1].h.cas);
    expect(3, MM_BIN_OP_GAT, MM_BIN_ST_OK, "val");
    expect(4, MM_BIN_OP_GATK, MM_BIN_ST_OK, "val");
    ck_assert_uint_eq(rs[4].h.keylen, 1);
    expect(5, MM_BIN_OP_GATK, MM_BIN_ST_KEY_ENOENT, "");
    ck_assert_uint_eq(rs[5].h.keylen, 5);
    ck_assert_uint_eq(wstats.touch_hits, 3);
    ck_assert_uint_eq(wstats.touch_misses, 4);
}
END_TEST

START_TEST(test_misc)
{
    unsigned char ext[4] = {0, 0, 0, 1};

    add_simple(MM_BIN_OP_VERSION, "");
    add_simple(MM_BIN_OP_NOOP, "");
    add_store(MM_BIN_OP_SET, "f", 0, 0, "1", 0);
    add_simple(MM_BIN_OP_FLUSH, "");
    add_simple(MM_BIN_OP_GET, "f");
    add_simple(MM_BIN_OP_FLUSHQ, "");
    /* unknown opcode, extras and key read, then a body length skipped */
    add_req(0x50, "abc", ext, 4, "xyz", 3, 5, 0);
    memset(in + inlen, 'P', 7);
    inlen += 7;
    add_req(MM_BIN_OP_VERBOSITY, "", ext, 4, "", 0, 6, 0);
    memset(in + inlen, 'P', 4);
    inlen += 4;
    add_req(MM_BIN_OP_SASL_LIST_MECHS, "", NULL, 0, "", 0, 7, 0);
    add_simple(MM_BIN_OP_QUIT, "");
    add_simple(MM_BIN_OP_NOOP, "");
    run();
    decode();
    ck_assert(closed);
    ck_assert_int_eq(nrs, 9);
    expect(0, MM_BIN_OP_VERSION, MM_BIN_ST_OK, "1.6.18");
    expect(1, MM_BIN_OP_NOOP, MM_BIN_ST_OK, "");
    expect(3, MM_BIN_OP_FLUSH, MM_BIN_ST_OK, "");
    expect(4, MM_BIN_OP_GET, MM_BIN_ST_KEY_ENOENT, "Not found");
    expect(5, 0x50, MM_BIN_ST_UNKNOWN_COMMAND, "Unknown command");
    ck_assert_uint_eq(rs[5].h.opaque, 5);
    expect(6, MM_BIN_OP_VERBOSITY, MM_BIN_ST_UNKNOWN_COMMAND, "Unknown command");
    expect(7, MM_BIN_OP_SASL_LIST_MECHS, MM_BIN_ST_UNKNOWN_COMMAND, "Unknown command");
    expect(8, MM_BIN_OP_QUIT, MM_BIN_ST_OK, "");
    ck_assert_uint_eq(wstats.cmd_flush, 2);

    add_simple(MM_BIN_OP_QUITQ, "");
    add_simple(MM_BIN_OP_NOOP, "");
    run();
    ck_assert(closed);
    ck_assert_uint_eq(reply_len, 0);

    /* -F: flush refused as an auth failure */
    settings.flush_enabled = false;
    add_simple(MM_BIN_OP_FLUSHQ, "");
    run();
    decode();
    ck_assert_int_eq(nrs, 1);
    expect(0, MM_BIN_OP_FLUSHQ, MM_BIN_ST_AUTH_ERROR, "Auth failure.");
}
END_TEST

START_TEST(test_protocol_errors)
{
    /* a GET with a value: "Invalid arguments", then close */
    add_req(MM_BIN_OP_GET, "k", NULL, 0, "v", 1, 3, 0);
    add_simple(MM_BIN_OP_NOOP, "");
    run();
    decode();
    ck_assert(closed);
    ck_assert_int_eq(nrs, 1);
    expect(0, MM_BIN_OP_GET, MM_BIN_ST_EINVAL, "Invalid arguments");
    ck_assert_uint_eq(rs[0].h.opaque, 3);
}
END_TEST

START_TEST(test_stat)
{
    int i;
    bool saw_pid = false;

    add_store(MM_BIN_OP_SET, "a", 0, 0, "1", 0);
    add_simple(MM_BIN_OP_STAT, "");
    run();
    decode();
    ck_assert_int_gt(nrs, 20);
    for (i = 1; i < nrs - 1; i++) {
        ck_assert_uint_eq(rs[i].h.opcode, MM_BIN_OP_STAT);
        ck_assert_uint_eq(rs[i].h.vbucket, 0);
        ck_assert_uint_gt(rs[i].h.keylen, 0);
        if (rs[i].h.keylen == 3 && memcmp(rs[i].key, "pid", 3) == 0) {
            saw_pid = true;
        }
        if (rs[i].h.keylen == 10 && memcmp(rs[i].key, "curr_items", 10) == 0) {
            ck_assert_uint_eq(rs[i].vlen, 1);
            ck_assert_int_eq(rs[i].val[0], '1');
        }
    }
    ck_assert(saw_pid);
    /* the terminator: empty key and value */
    expect(nrs - 1, MM_BIN_OP_STAT, MM_BIN_ST_OK, "");
    ck_assert_uint_eq(rs[nrs - 1].h.keylen, 0);

    add_simple(MM_BIN_OP_STAT, "bogus");
    add_simple(MM_BIN_OP_STAT, "conns");
    add_simple(MM_BIN_OP_STAT, "reset");
    add_simple(MM_BIN_OP_STAT, "detail dump");
    run();
    decode();
    ck_assert_int_eq(nrs, 5);
    expect(0, MM_BIN_OP_STAT, MM_BIN_ST_KEY_ENOENT, "Not found");
    expect(1, MM_BIN_OP_STAT, MM_BIN_ST_KEY_ENOENT, "Not found");
    expect(2, MM_BIN_OP_STAT, MM_BIN_ST_OK, "");
    ck_assert_uint_eq(rs[2].h.keylen, 0);
    ck_assert_uint_eq(rs[3].h.keylen, 8);
    ck_assert(memcmp(rs[3].key, "detailed", 8) == 0);
    expect(4, MM_BIN_OP_STAT, MM_BIN_ST_OK, "");
}
END_TEST

static Suite *
cmd_binary_suite(void)
{
    Suite *s = suite_create("cmd_binary");
    TCase *tc = tcase_create("exec");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_get_set);
    tcase_add_test(tc, test_store_modes);
    tcase_add_test(tc, test_too_large);
    tcase_add_test(tc, test_delta);
    tcase_add_test(tc, test_delete);
    tcase_add_test(tc, test_touch_gat);
    tcase_add_test(tc, test_misc);
    tcase_add_test(tc, test_protocol_errors);
    tcase_add_test(tc, test_stat);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(cmd_binary_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
