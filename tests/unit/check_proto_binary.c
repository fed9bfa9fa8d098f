/* Tests for the binary protocol parser and composers: header decoding,
 * every opcode's length rules (the outcomes memcached 1.6.18 gives: reply and
 * carry on, reply and close, or close at once), huge declared bodies, every
 * split point of every request (each packet sits in an exact-size heap
 * buffer, so a read past the end is caught under ASan), and response bytes. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmem/out.h"
#include "mmem/protocol_binary.h"

/* Build a request; bodylen < 0 means "extras + key + value". */
static size_t
pkt(unsigned char *b, uint8_t magic, uint8_t op, const char *key, size_t nkey, const void *ext,
    size_t next, const char *val, size_t nval, long long bodylen, uint32_t opaque, uint64_t cas)
{
    uint32_t bl = bodylen < 0 ? (uint32_t)(next + nkey + nval) : (uint32_t)bodylen;
    size_t n = MM_BIN_HEADER_LEN;
    int i;

    memset(b, 0, MM_BIN_HEADER_LEN);
    b[0] = magic;
    b[1] = op;
    b[2] = (unsigned char)(nkey >> 8);
    b[3] = (unsigned char)nkey;
    b[4] = (unsigned char)next;
    for (i = 0; i < 4; i++) {
        b[8 + i] = (unsigned char)(bl >> (24 - 8 * i));
        b[12 + i] = (unsigned char)(opaque >> (24 - 8 * i));
    }
    for (i = 0; i < 8; i++) {
        b[16 + i] = (unsigned char)(cas >> (56 - 8 * i));
    }
    if (next > 0) {
        memcpy(b + n, ext, next);
    }
    n += next;
    memcpy(b + n, key, nkey);
    n += nkey;
    memcpy(b + n, val, nval);
    return n + nval;
}

static const unsigned char ext_store[8] = {0, 0, 0, 5, 0, 0, 0, 100};
static const unsigned char ext_delta[20] = {0, 0, 0, 0, 0, 0, 0,    3,    0,    0,
                                            0, 0, 0, 0, 0, 9, 0xff, 0xff, 0xff, 0xff};
static const unsigned char ext_touch[4] = {0, 0, 0, 10};
static char long_key[300];

struct bcase {
    const char *name;
    uint8_t magic, op;
    size_t nkey;
    const void *ext;
    size_t next;
    const char *val;
    long long bodylen;
    enum mm_bin_rc rc;
    enum mm_req_type type;
    enum mm_bin_status err;
    bool close_after;
    enum mm_bin_action action;
    uint64_t swallow;
    bool quiet, with_key;
};

static const struct bcase cases[] = {
    /* name, magic, op, nkey, ext, next, val, bodylen, rc, type, err, close, action, swallow,
     * quiet, with_key */
    {"get", 0x80, MM_BIN_OP_GET, 3, NULL, 0, "", -1, MM_BIN_OK, MM_REQ_GET, 0, false, 0, 0, false,
     false},
    {"getq", 0x80, MM_BIN_OP_GETQ, 3, NULL, 0, "", -1, MM_BIN_OK, MM_REQ_GET, 0, false, 0, 0, true,
     false},
    {"getk", 0x80, MM_BIN_OP_GETK, 3, NULL, 0, "", -1, MM_BIN_OK, MM_REQ_GET, 0, false, 0, 0, false,
     true},
    {"getkq", 0x80, MM_BIN_OP_GETKQ, 3, NULL, 0, "", -1, MM_BIN_OK, MM_REQ_GET, 0, false, 0, 0,
     true, true},
    {"get key 250", 0x80, MM_BIN_OP_GET, 250, NULL, 0, "", -1, MM_BIN_OK, MM_REQ_GET, 0, false, 0,
     0, false, false},
    {"get key 251", 0x80, MM_BIN_OP_GET, 251, NULL, 0, "", -1, MM_BIN_OK, MM_REQ_ERROR,
     MM_BIN_ST_EINVAL, true, 0, 0, false, false},
    {"get no key", 0x80, MM_BIN_OP_GET, 0, NULL, 0, "", -1, MM_BIN_OK, MM_REQ_ERROR,
     MM_BIN_ST_EINVAL, true, 0, 0, false, false},
    {"get extras", 0x80, MM_BIN_OP_GET, 3, ext_touch, 4, "", -1, MM_BIN_OK, MM_REQ_ERROR,
     MM_BIN_ST_EINVAL, true, 0, 0, false, false},
    {"get value", 0x80, MM_BIN_OP_GET, 3, NULL, 0, "v", -1, MM_BIN_OK, MM_REQ_ERROR,
     MM_BIN_ST_EINVAL, true, 0, 0, false, false},
    {"get huge body", 0x80, MM_BIN_OP_GET, 3, NULL, 0, "", 0xfffffff0LL, MM_BIN_OK, MM_REQ_ERROR,
     MM_BIN_ST_EINVAL, true, 0, 0, false, false},
    {"key+ext > body", 0x80, MM_BIN_OP_GET, 3, NULL, 0, "", 2, MM_BIN_OK, MM_REQ_ERROR,
     MM_BIN_ST_UNKNOWN_COMMAND, true, 0, 0, false, false},
    {"set", 0x80, MM_BIN_OP_SET, 3, ext_store, 8, "hello", -1, MM_BIN_OK, MM_REQ_SET, 0, false,
     MM_BIN_ACT_STORE, 0, false, false},
    {"setq", 0x80, MM_BIN_OP_SETQ, 3, ext_store, 8, "hello", -1, MM_BIN_OK, MM_REQ_SET, 0, false,
     MM_BIN_ACT_STORE, 0, true, false},
    {"addq", 0x80, MM_BIN_OP_ADDQ, 3, ext_store, 8, "", -1, MM_BIN_OK, MM_REQ_ADD, 0, false,
     MM_BIN_ACT_STORE, 0, true, false},
    {"replace", 0x80, MM_BIN_OP_REPLACE, 3, ext_store, 8, "x", -1, MM_BIN_OK, MM_REQ_REPLACE, 0,
     false, MM_BIN_ACT_STORE, 0, false, false},
    {"set no extras", 0x80, MM_BIN_OP_SET, 3, NULL, 0, "hello", -1, MM_BIN_OK, MM_REQ_ERROR,
     MM_BIN_ST_EINVAL, true, 0, 0, false, false},
    {"set no key", 0x80, MM_BIN_OP_SETQ, 0, ext_store, 8, "hello", -1, MM_BIN_OK, MM_REQ_ERROR,
     MM_BIN_ST_EINVAL, true, 0, 0, true, false},
    {"set huge body", 0x80, MM_BIN_OP_SET, 3, ext_store, 8, "", 0xffffffffLL, MM_BIN_OK, MM_REQ_SET,
     0, false, MM_BIN_ACT_STORE, 0, false, false},
    {"append", 0x80, MM_BIN_OP_APPEND, 3, NULL, 0, "xy", -1, MM_BIN_OK, MM_REQ_APPEND, 0, false,
     MM_BIN_ACT_STORE, 0, false, false},
    {"prependq", 0x80, MM_BIN_OP_PREPENDQ, 3, NULL, 0, "xy", -1, MM_BIN_OK, MM_REQ_PREPEND, 0,
     false, MM_BIN_ACT_STORE, 0, true, false},
    {"append extras", 0x80, MM_BIN_OP_APPEND, 3, ext_store, 8, "xy", -1, MM_BIN_OK, MM_REQ_ERROR,
     MM_BIN_ST_EINVAL, true, 0, 0, false, false},
    {"delete", 0x80, MM_BIN_OP_DELETE, 3, NULL, 0, "", -1, MM_BIN_OK, MM_REQ_DELETE, 0, false, 0, 0,
     false, false},
    {"deleteq", 0x80, MM_BIN_OP_DELETEQ, 3, NULL, 0, "", -1, MM_BIN_OK, MM_REQ_DELETE, 0, false, 0,
     0, true, false},
    {"delete value", 0x80, MM_BIN_OP_DELETE, 3, NULL, 0, "vv", -1, MM_BIN_OK, MM_REQ_ERROR,
     MM_BIN_ST_EINVAL, true, 0, 0, false, false},
    {"incr", 0x80, MM_BIN_OP_INCREMENT, 3, ext_delta, 20, "", -1, MM_BIN_OK, MM_REQ_INCR, 0, false,
     0, 0, false, false},
    {"decrq", 0x80, MM_BIN_OP_DECREMENTQ, 3, ext_delta, 20, "", -1, MM_BIN_OK, MM_REQ_DECR, 0,
     false, 0, 0, true, false},
    {"incr short extras", 0x80, MM_BIN_OP_INCREMENT, 3, ext_delta, 16, "", -1, MM_BIN_OK,
     MM_REQ_ERROR, MM_BIN_ST_EINVAL, true, 0, 0, false, false},
    {"quit", 0x80, MM_BIN_OP_QUIT, 0, NULL, 0, "", -1, MM_BIN_OK, MM_REQ_QUIT, 0, false, 0, 0,
     false, false},
    {"quitq", 0x80, MM_BIN_OP_QUITQ, 0, NULL, 0, "", -1, MM_BIN_OK, MM_REQ_QUIT, 0, false, 0, 0,
     true, false},
    {"quit key", 0x80, MM_BIN_OP_QUIT, 1, NULL, 0, "", -1, MM_BIN_OK, MM_REQ_ERROR,
     MM_BIN_ST_EINVAL, true, 0, 0, false, false},
    {"noop", 0x80, MM_BIN_OP_NOOP, 0, NULL, 0, "", -1, MM_BIN_OK, MM_REQ_MN, 0, false, 0, 0, false,
     false},
    {"version", 0x80, MM_BIN_OP_VERSION, 0, NULL, 0, "", -1, MM_BIN_OK, MM_REQ_VERSION, 0, false, 0,
     0, false, false},
    {"version body", 0x80, MM_BIN_OP_VERSION, 0, NULL, 0, "x", -1, MM_BIN_OK, MM_REQ_ERROR,
     MM_BIN_ST_EINVAL, true, 0, 0, false, false},
    {"flush", 0x80, MM_BIN_OP_FLUSH, 0, NULL, 0, "", -1, MM_BIN_OK, MM_REQ_FLUSH_ALL, 0, false, 0,
     0, false, false},
    {"flushq delay", 0x80, MM_BIN_OP_FLUSHQ, 0, ext_touch, 4, "", -1, MM_BIN_OK, MM_REQ_FLUSH_ALL,
     0, false, 0, 0, true, false},
    {"flush bad extras", 0x80, MM_BIN_OP_FLUSH, 0, ext_touch, 2, "", -1, MM_BIN_OK, MM_REQ_ERROR,
     MM_BIN_ST_EINVAL, true, 0, 0, false, false},
    {"stat", 0x80, MM_BIN_OP_STAT, 0, NULL, 0, "", -1, MM_BIN_OK, MM_REQ_STATS, 0, false, 0, 0,
     false, false},
    {"stat group", 0x80, MM_BIN_OP_STAT, 5, NULL, 0, "", -1, MM_BIN_OK, MM_REQ_STATS, 0, false, 0,
     0, false, false},
    {"stat extras", 0x80, MM_BIN_OP_STAT, 0, ext_touch, 4, "", -1, MM_BIN_OK, MM_REQ_ERROR,
     MM_BIN_ST_EINVAL, true, 0, 0, false, false},
    {"touch", 0x80, MM_BIN_OP_TOUCH, 3, ext_touch, 4, "", -1, MM_BIN_OK, MM_REQ_TOUCH, 0, false, 0,
     0, false, false},
    {"touch value", 0x80, MM_BIN_OP_TOUCH, 3, ext_touch, 4, "zz", -1, MM_BIN_OK, MM_REQ_TOUCH, 0,
     false, 0, 2, false, false},
    {"gatkq", 0x80, MM_BIN_OP_GATKQ, 3, ext_touch, 4, "", -1, MM_BIN_OK, MM_REQ_GAT, 0, false, 0, 0,
     true, true},
    {"gat no extras", 0x80, MM_BIN_OP_GAT, 3, NULL, 0, "", -1, MM_BIN_OK, MM_REQ_ERROR,
     MM_BIN_ST_EINVAL, true, 0, 0, false, false},
    /* unknown: header consumed, then extras + key + a whole body skipped */
    {"unknown", 0x80, 0x50, 3, ext_touch, 2, "xyz", -1, MM_BIN_OK, MM_REQ_ERROR,
     MM_BIN_ST_UNKNOWN_COMMAND, false, 0, 2 + 3 + 8, false, false},
    {"verbosity", 0x80, MM_BIN_OP_VERBOSITY, 0, ext_touch, 4, "", -1, MM_BIN_OK, MM_REQ_ERROR,
     MM_BIN_ST_UNKNOWN_COMMAND, false, 0, 8, false, false},
    {"unknown huge body", 0x80, 0x50, 3, ext_touch, 2, "", 0xffffffffLL, MM_BIN_OK, MM_REQ_ERROR,
     MM_BIN_ST_UNKNOWN_COMMAND, false, 0, 0xffffffffULL + 5, false, false},
    {"unknown long key", 0x80, 0x50, 300, NULL, 0, "", -1, MM_BIN_OK, MM_REQ_ERROR,
     MM_BIN_ST_EINVAL, true, 0, 0, false, false},
    /* SASL without -S: unknown, body skipped exactly */
    {"sasl auth", 0x80, MM_BIN_OP_SASL_AUTH, 5, NULL, 0, "\0a\0b", -1, MM_BIN_OK, MM_REQ_ERROR,
     MM_BIN_ST_UNKNOWN_COMMAND, false, 0, 9, false, false},
    {"sasl list", 0x80, MM_BIN_OP_SASL_LIST_MECHS, 0, NULL, 0, "", -1, MM_BIN_OK, MM_REQ_ERROR,
     MM_BIN_ST_UNKNOWN_COMMAND, false, 0, 0, false, false},
    /* bad magic: close without reply */
    {"response magic", 0x81, MM_BIN_OP_NOOP, 0, NULL, 0, "", -1, MM_BIN_CLOSE, MM_REQ_NONE, 0,
     false, 0, 0, false, false},
    {"zero magic", 0x00, MM_BIN_OP_GET, 3, NULL, 0, "", -1, MM_BIN_CLOSE, MM_REQ_NONE, 0, false, 0,
     0, false, false},
};

static size_t
build(const struct bcase *c, unsigned char *b)
{
    size_t nval = c->val != NULL ? strlen(c->val) : 0;

    if (c->op == MM_BIN_OP_SASL_AUTH) {
        nval = 4; /* embedded NULs */
    }
    return pkt(b, c->magic, c->op, long_key, c->nkey, c->ext, c->next, c->val, nval, c->bodylen,
               0x01020304, 0);
}

static unsigned char pbuf[1024];

static void
init_key(void)
{
    memset(long_key, 'k', sizeof(long_key));
}

START_TEST(test_cases)
{
    const struct bcase *c = &cases[_i];
    size_t n;
    struct mm_bin_req b;
    size_t used = 99;
    char *heap;
    enum mm_bin_rc rc;

    init_key();
    n = build(c, pbuf);
    heap = malloc(n);
    memcpy(heap, pbuf, n);
    rc = mm_bin_parse(heap, n, &b, &used);
    ck_assert_msg(rc == c->rc, "%s: rc %d", c->name, rc);
    if (rc == MM_BIN_OK) {
        ck_assert_msg(b.req.type == c->type, "%s: type %d", c->name, b.req.type);
        ck_assert_msg(b.close_after == c->close_after, "%s: close", c->name);
        ck_assert_msg(b.swallow == c->swallow, "%s: swallow %llu", c->name,
                      (unsigned long long)b.swallow);
        ck_assert_msg(b.quiet == c->quiet && b.with_key == c->with_key, "%s: quiet/key", c->name);
        ck_assert_uint_eq(b.hdr.opaque, 0x01020304);
        ck_assert_uint_eq(b.hdr.opcode, c->op);
        ck_assert_uint_le(used, n);
        if (c->type == MM_REQ_ERROR) {
            ck_assert_msg(b.err == c->err, "%s: err %#x", c->name, b.err);
        } else {
            ck_assert_msg(b.action == c->action, "%s: action", c->name);
            ck_assert_uint_eq(b.req.key.len, c->nkey);
            ck_assert_ptr_eq(b.req.key.p, heap + MM_BIN_HEADER_LEN + c->next);
            ck_assert_uint_eq(used, MM_BIN_HEADER_LEN + c->next + c->nkey);
            ck_assert(b.req.noreply == c->quiet);
        }
    } else {
        ck_assert_uint_eq(used, 0);
    }
    free(heap);
}
END_TEST

/* Every prefix of every request: AGAIN until the parser has what it needs,
 * then exactly the full packet's outcome; never a read past the prefix. */
START_TEST(test_split_points)
{
    const struct bcase *c = &cases[_i];
    struct mm_bin_req full, part;
    size_t n, k, used_full, used;
    bool decided = false;
    enum mm_bin_rc rc_full, rc;

    init_key();
    n = build(c, pbuf);
    rc_full = mm_bin_parse((const char *)pbuf, n, &full, &used_full);
    for (k = 0; k <= n; k++) {
        char *heap = malloc(k > 0 ? k : 1);

        memcpy(heap, pbuf, k);
        rc = mm_bin_parse(heap, k, &part, &used);
        if (k < MM_BIN_HEADER_LEN) {
            ck_assert_int_eq(rc, MM_BIN_AGAIN);
        }
        if (rc == MM_BIN_AGAIN) {
            ck_assert_msg(!decided, "%s: AGAIN after a decision at %zu", c->name, k);
            ck_assert_uint_eq(used, 0);
        } else {
            decided = true;
            ck_assert_int_eq(rc, rc_full);
            ck_assert_uint_eq(used, used_full);
            ck_assert_uint_le(used, k);
            ck_assert_int_eq(part.req.type, full.req.type);
            ck_assert_int_eq(part.err, full.err);
            ck_assert_uint_eq(part.swallow, full.swallow);
            ck_assert_uint_eq(part.req.vlen, full.req.vlen);
        }
        free(heap);
    }
    ck_assert(decided);
}
END_TEST

START_TEST(test_fields)
{
    struct mm_bin_req b;
    size_t used, n;
    unsigned char flush_ext[4] = {0, 0, 0x01, 0x00};

    /* set: flags, exptime, CAS, value length */
    n = pkt(pbuf, 0x80, MM_BIN_OP_SET, "key", 3, ext_store, 8, "hello", 5, -1, 7,
            0x1122334455667788ULL);
    ck_assert_int_eq(mm_bin_parse((const char *)pbuf, n, &b, &used), MM_BIN_OK);
    ck_assert_uint_eq(used, 24 + 8 + 3);
    ck_assert_uint_eq(b.req.flags, 5);
    ck_assert_int_eq(b.req.exptime, 100);
    ck_assert_uint_eq(b.req.vlen, 5);
    ck_assert_uint_eq(b.req.cas, 0x1122334455667788ULL);
    ck_assert_uint_eq(b.hdr.cas, 0x1122334455667788ULL);
    ck_assert(memcmp(b.req.key.p, "key", 3) == 0);

    /* a 4 GB body is only a length: the value is never buffered */
    n = pkt(pbuf, 0x80, MM_BIN_OP_SET, "key", 3, ext_store, 8, "", 0, 0xffffffffLL, 7, 0);
    ck_assert_int_eq(mm_bin_parse((const char *)pbuf, n, &b, &used), MM_BIN_OK);
    ck_assert_uint_eq(b.req.vlen, 0xffffffffu - 11);
    ck_assert_uint_eq(used, n);

    /* incr: delta, initial, the no-create expiry */
    n = pkt(pbuf, 0x80, MM_BIN_OP_INCREMENT, "ctr", 3, ext_delta, 20, "", 0, -1, 7, 0);
    ck_assert_int_eq(mm_bin_parse((const char *)pbuf, n, &b, &used), MM_BIN_OK);
    ck_assert_uint_eq(b.req.delta, 3);
    ck_assert_uint_eq(b.initial, 9);
    ck_assert_uint_eq(b.delta_exptime, MM_BIN_DELTA_NO_CREATE);

    /* flush with a delay */
    n = pkt(pbuf, 0x80, MM_BIN_OP_FLUSH, "", 0, flush_ext, 4, "", 0, -1, 7, 0);
    ck_assert_int_eq(mm_bin_parse((const char *)pbuf, n, &b, &used), MM_BIN_OK);
    ck_assert_int_eq(b.req.num, 256);
    ck_assert(b.req.has_arg);

    /* stat: the key is the group */
    n = pkt(pbuf, 0x80, MM_BIN_OP_STAT, "items", 5, NULL, 0, "", 0, -1, 7, 0);
    ck_assert_int_eq(mm_bin_parse((const char *)pbuf, n, &b, &used), MM_BIN_OK);
    ck_assert_uint_eq(b.req.args.len, 5);
    ck_assert(memcmp(b.req.args.p, "items", 5) == 0);

    /* two packets back to back: only the first is consumed */
    n = pkt(pbuf, 0x80, MM_BIN_OP_NOOP, "", 0, NULL, 0, "", 0, -1, 1, 0);
    n += pkt(pbuf + n, 0x80, MM_BIN_OP_VERSION, "", 0, NULL, 0, "", 0, -1, 2, 0);
    ck_assert_int_eq(mm_bin_parse((const char *)pbuf, n, &b, &used), MM_BIN_OK);
    ck_assert_uint_eq(used, 24);
    ck_assert_int_eq(b.req.type, MM_REQ_MN);
    ck_assert_int_eq(mm_bin_parse((const char *)pbuf + used, n - used, &b, &used), MM_BIN_OK);
    ck_assert_int_eq(b.req.type, MM_REQ_VERSION);
    ck_assert_uint_eq(b.hdr.opaque, 2);
}
END_TEST

static size_t
flatten(struct mm_out *o, unsigned char *dst, size_t cap)
{
    struct iovec *iov;
    int cnt = mm_out_iov(o, &iov, 64);
    size_t n = 0;
    int i;

    for (i = 0; i < cnt; i++) {
        ck_assert_uint_le(n + iov[i].iov_len, cap);
        memcpy(dst + n, iov[i].iov_base, iov[i].iov_len);
        n += iov[i].iov_len;
    }
    return n;
}

START_TEST(test_compose)
{
    static const unsigned char want_err[] = {0x81, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
                                             0x00, 0x00, 0x09, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x00,
                                             0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 'N',  'o',  't',
                                             ' ',  'f',  'o',  'u',  'n',  'd'};
    static const unsigned char want_hit[] = {0x81, 0x0c, 0x00, 0x02, 0x04, 0x00, 0x00, 0x00, 0x00,
                                             0x00, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00,
                                             0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00,
                                             0x05, 'k',  '1',  'h',  'e',  'l',  'l',  'o'};
    const unsigned char flags[4] = {0, 0, 0, 5};
    unsigned char got[128];
    struct mm_out o;
    size_t n;
    struct mm_bin_header h;

    mm_out_init(&o, NULL, NULL);
    mm_bin_error(&o, MM_BIN_OP_GET, 0xdeadbeef, MM_BIN_ST_KEY_ENOENT);
    n = flatten(&o, got, sizeof(got));
    ck_assert_uint_eq(n, sizeof(want_err));
    ck_assert(memcmp(got, want_err, n) == 0);
    mm_out_fini(&o);

    mm_out_init(&o, NULL, NULL);
    mm_bin_response(&o, MM_BIN_OP_GETK, MM_BIN_ST_OK, 7, 0x0102, flags, 4, "k1", 2, 5);
    mm_out_append(&o, "hello", 5);
    n = flatten(&o, got, sizeof(got));
    ck_assert_uint_eq(n, sizeof(want_hit));
    ck_assert(memcmp(got, want_hit, n) == 0);
    mm_bin_header_decode(got, &h);
    ck_assert_uint_eq(h.magic, MM_BIN_MAGIC_RES);
    ck_assert_uint_eq(h.keylen, 2);
    ck_assert_uint_eq(h.extlen, 4);
    ck_assert_uint_eq(h.bodylen, 11);
    ck_assert_uint_eq(h.opaque, 7);
    ck_assert_uint_eq(h.cas, 0x0102);
    mm_out_fini(&o);
}
END_TEST

START_TEST(test_status_strings)
{
    size_t n = 0;

    ck_assert_str_eq(mm_bin_status_str(MM_BIN_ST_KEY_ENOENT, &n), "Not found");
    ck_assert_uint_eq(n, 9);
    ck_assert_str_eq(mm_bin_status_str(MM_BIN_ST_KEY_EEXISTS, NULL), "Data exists for key.");
    ck_assert_str_eq(mm_bin_status_str(MM_BIN_ST_E2BIG, NULL), "Too large.");
    ck_assert_str_eq(mm_bin_status_str(MM_BIN_ST_EINVAL, NULL), "Invalid arguments");
    ck_assert_str_eq(mm_bin_status_str(MM_BIN_ST_NOT_STORED, NULL), "Not stored.");
    ck_assert_str_eq(mm_bin_status_str(MM_BIN_ST_DELTA_BADVAL, NULL),
                     "Non-numeric server-side value for incr or decr");
    ck_assert_str_eq(mm_bin_status_str(MM_BIN_ST_UNKNOWN_COMMAND, NULL), "Unknown command");
    ck_assert_str_eq(mm_bin_status_str(MM_BIN_ST_ENOMEM, NULL), "Out of memory");
    ck_assert_str_eq(mm_bin_status_str(MM_BIN_ST_OK, &n), "");
    ck_assert_uint_eq(n, 0);
}
END_TEST

static Suite *
proto_binary_suite(void)
{
    Suite *s = suite_create("proto_binary");
    TCase *tc = tcase_create("parse");
    int ncases = (int)(sizeof(cases) / sizeof(cases[0]));

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_cases, 0, ncases);
    tcase_add_loop_test(tc, test_split_points, 0, ncases);
    tcase_add_test(tc, test_fields);
    tcase_add_test(tc, test_compose);
    tcase_add_test(tc, test_status_strings);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(proto_binary_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
