/* The binary protocol's framing, request validation and reply composers.
 * The parser is a pure function over (buf, len): it decodes the 24-byte
 * header, checks the lengths the way memcached 1.6 does (and with the same
 * outcome: reply then close, or reply and carry on) and fills an mm_bin_req
 * whose spans point into buf. Values are never buffered here. */
#include "config.h"

#include "mmem/protocol_binary.h"

#include "mmem/out.h"

#include <string.h>

/* Length rules per opcode, as memcached checks them. */
enum bin_shape {
    SHAPE_UNKNOWN = 0, /* unknown opcode: "Unknown command", body skipped */
    SHAPE_SASL,        /* served as unknown without -S, body skipped exactly */
    SHAPE_GET,         /* key, no extras, no value */
    SHAPE_STORE,       /* 8 bytes of extras, key, value */
    SHAPE_CONCAT,      /* no extras, key, value */
    SHAPE_KEY_ONLY,    /* delete */
    SHAPE_DELTA,       /* 20 bytes of extras, key */
    SHAPE_EMPTY,       /* noop, version, quit */
    SHAPE_FLUSH,       /* 0 or 4 bytes of extras only */
    SHAPE_STAT,        /* optional key only */
    SHAPE_TOUCH        /* 4 bytes of extras, key */
};

struct bin_op {
    enum bin_shape shape;
    enum mm_req_type type;
    bool quiet;
    bool with_key;
};

static const struct bin_op bin_ops[256] = {
    [MM_BIN_OP_GET] = {SHAPE_GET, MM_REQ_GET, false, false},
    [MM_BIN_OP_GETQ] = {SHAPE_GET, MM_REQ_GET, true, false},
    [MM_BIN_OP_GETK] = {SHAPE_GET, MM_REQ_GET, false, true},
    [MM_BIN_OP_GETKQ] = {SHAPE_GET, MM_REQ_GET, true, true},
    [MM_BIN_OP_SET] = {SHAPE_STORE, MM_REQ_SET, false, false},
    [MM_BIN_OP_SETQ] = {SHAPE_STORE, MM_REQ_SET, true, false},
    [MM_BIN_OP_ADD] = {SHAPE_STORE, MM_REQ_ADD, false, false},
    [MM_BIN_OP_ADDQ] = {SHAPE_STORE, MM_REQ_ADD, true, false},
    [MM_BIN_OP_REPLACE] = {SHAPE_STORE, MM_REQ_REPLACE, false, false},
    [MM_BIN_OP_REPLACEQ] = {SHAPE_STORE, MM_REQ_REPLACE, true, false},
    [MM_BIN_OP_APPEND] = {SHAPE_CONCAT, MM_REQ_APPEND, false, false},
    [MM_BIN_OP_APPENDQ] = {SHAPE_CONCAT, MM_REQ_APPEND, true, false},
    [MM_BIN_OP_PREPEND] = {SHAPE_CONCAT, MM_REQ_PREPEND, false, false},
    [MM_BIN_OP_PREPENDQ] = {SHAPE_CONCAT, MM_REQ_PREPEND, true, false},
    [MM_BIN_OP_DELETE] = {SHAPE_KEY_ONLY, MM_REQ_DELETE, false, false},
    [MM_BIN_OP_DELETEQ] = {SHAPE_KEY_ONLY, MM_REQ_DELETE, true, false},
    [MM_BIN_OP_INCREMENT] = {SHAPE_DELTA, MM_REQ_INCR, false, false},
    [MM_BIN_OP_INCREMENTQ] = {SHAPE_DELTA, MM_REQ_INCR, true, false},
    [MM_BIN_OP_DECREMENT] = {SHAPE_DELTA, MM_REQ_DECR, false, false},
    [MM_BIN_OP_DECREMENTQ] = {SHAPE_DELTA, MM_REQ_DECR, true, false},
    [MM_BIN_OP_QUIT] = {SHAPE_EMPTY, MM_REQ_QUIT, false, false},
    [MM_BIN_OP_QUITQ] = {SHAPE_EMPTY, MM_REQ_QUIT, true, false},
    [MM_BIN_OP_FLUSH] = {SHAPE_FLUSH, MM_REQ_FLUSH_ALL, false, false},
    [MM_BIN_OP_FLUSHQ] = {SHAPE_FLUSH, MM_REQ_FLUSH_ALL, true, false},
    [MM_BIN_OP_NOOP] = {SHAPE_EMPTY, MM_REQ_MN, false, false},
    [MM_BIN_OP_VERSION] = {SHAPE_EMPTY, MM_REQ_VERSION, false, false},
    [MM_BIN_OP_STAT] = {SHAPE_STAT, MM_REQ_STATS, false, false},
    [MM_BIN_OP_TOUCH] = {SHAPE_TOUCH, MM_REQ_TOUCH, false, false},
    [MM_BIN_OP_GAT] = {SHAPE_TOUCH, MM_REQ_GAT, false, false},
    [MM_BIN_OP_GATQ] = {SHAPE_TOUCH, MM_REQ_GAT, true, false},
    [MM_BIN_OP_GATK] = {SHAPE_TOUCH, MM_REQ_GAT, false, true},
    [MM_BIN_OP_GATKQ] = {SHAPE_TOUCH, MM_REQ_GAT, true, true},
    [MM_BIN_OP_SASL_LIST_MECHS] = {SHAPE_SASL, MM_REQ_ERROR, false, false},
    [MM_BIN_OP_SASL_AUTH] = {SHAPE_SASL, MM_REQ_ERROR, false, false},
    [MM_BIN_OP_SASL_STEP] = {SHAPE_SASL, MM_REQ_ERROR, false, false},
    /* VERBOSITY is absent on purpose: memcached 1.6.18 answers it as an
     * unknown command (its handler is never reached). */
};

static uint16_t
get16(const unsigned char *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t
get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get64(const unsigned char *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void
put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void
put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void
put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

void
mm_bin_header_decode(const unsigned char *p, struct mm_bin_header *h)
{
    h->magic = p[0];
    h->opcode = p[1];
    h->keylen = get16(p + 2);
    h->extlen = p[4];
    h->datatype = p[5];
    h->vbucket = get16(p + 6);
    h->bodylen = get32(p + 8);
    h->opaque = get32(p + 12);
    h->cas = get64(p + 16);
}

/* A request that only earns an error reply. */
static enum mm_bin_rc
bin_fail(struct mm_bin_req *b, enum mm_bin_status st, bool close_after, size_t *used)
{
    b->req.type = MM_REQ_ERROR;
    b->action = MM_BIN_ACT_EXEC;
    b->err = st;
    b->close_after = close_after;
    *used = close_after ? MM_BIN_HEADER_LEN : *used;
    return MM_BIN_OK;
}

/* Whether the lengths fit the opcode's shape (memcached's checks). */
static bool
shape_ok(enum bin_shape shape, const struct mm_bin_header *h)
{
    uint32_t ek = (uint32_t)h->extlen + h->keylen;

    switch (shape) {
    case SHAPE_GET:
    case SHAPE_KEY_ONLY:
        return h->extlen == 0 && h->keylen > 0 && h->bodylen == h->keylen;
    case SHAPE_STORE:
        return h->extlen == 8 && h->keylen > 0;
    case SHAPE_CONCAT:
        return h->extlen == 0 && h->keylen > 0;
    case SHAPE_DELTA:
        return h->extlen == 20 && h->keylen > 0 && h->bodylen == ek;
    case SHAPE_EMPTY:
        return h->bodylen == 0;
    case SHAPE_FLUSH:
        return h->keylen == 0 && h->bodylen == h->extlen && (h->extlen == 0 || h->extlen == 4);
    case SHAPE_STAT:
        return h->extlen == 0 && h->bodylen == h->keylen;
    case SHAPE_TOUCH:
        return h->extlen == 4 && h->keylen > 0;
    default:
        return true;
    }
}

enum mm_bin_rc
mm_bin_parse(const char *buf, size_t len, struct mm_bin_req *breq, size_t *used)
{
    const unsigned char *p = (const unsigned char *)buf;
    struct mm_bin_header *h = &breq->hdr;
    const struct bin_op *op;
    const unsigned char *ext;
    size_t ek;

    memset(breq, 0, sizeof(*breq));
    *used = 0;
    if (len < MM_BIN_HEADER_LEN) {
        return MM_BIN_AGAIN;
    }
    if (p[0] != MM_BIN_MAGIC_REQ) {
        return MM_BIN_CLOSE;
    }
    mm_bin_header_decode(p, h);
    op = &bin_ops[h->opcode];
    breq->quiet = op->quiet;
    breq->with_key = op->with_key;
    ek = (size_t)h->extlen + h->keylen;
    /* Checked before anything else, opcode included, as memcached does;
     * both are answered and then the connection is closed. */
    if (h->keylen > MM_BIN_KEY_MAX) {
        return bin_fail(breq, MM_BIN_ST_EINVAL, true, used);
    }
    if (ek > h->bodylen) {
        /* memcached reads extras and key before it notices (at most 505
         * bytes, as the key length is already bounded). */
        if (len - MM_BIN_HEADER_LEN < ek) {
            return MM_BIN_AGAIN;
        }
        return bin_fail(breq, MM_BIN_ST_UNKNOWN_COMMAND, true, used);
    }
    if (op->shape == SHAPE_UNKNOWN || op->shape == SHAPE_SASL) {
        *used = MM_BIN_HEADER_LEN;
        breq->swallow = h->bodylen;
        if (op->shape == SHAPE_UNKNOWN) {
            /* memcached reads extras and key of an unknown command and then
             * skips a whole body length more: the same number of bytes
             * leave the stream here. */
            breq->swallow += ek;
        }
        return bin_fail(breq, MM_BIN_ST_UNKNOWN_COMMAND, false, used);
    }
    if (!shape_ok(op->shape, h)) {
        return bin_fail(breq, MM_BIN_ST_EINVAL, true, used);
    }
    /* Storage and touch carry a value (touch's is ignored) that is not
     * buffered: only header, extras and key must be here. */
    if (len - MM_BIN_HEADER_LEN < ek) {
        return MM_BIN_AGAIN;
    }
    breq->req.type = op->type;
    breq->req.noreply = op->quiet;
    breq->req.key.p = buf + MM_BIN_HEADER_LEN + h->extlen;
    breq->req.key.len = h->keylen;
    breq->req.cas = h->cas;
    ext = p + MM_BIN_HEADER_LEN;
    *used = MM_BIN_HEADER_LEN + ek;
    switch (op->shape) {
    case SHAPE_STORE:
    case SHAPE_CONCAT:
        if (op->shape == SHAPE_STORE) {
            breq->req.flags = get32(ext);
            breq->req.exptime = (int32_t)get32(ext + 4);
        }
        breq->req.vlen = h->bodylen - (uint32_t)ek;
        breq->action = MM_BIN_ACT_STORE;
        break;
    case SHAPE_DELTA:
        breq->req.delta = get64(ext);
        breq->initial = get64(ext + 8);
        breq->delta_exptime = get32(ext + 16);
        breq->req.exptime = (int32_t)breq->delta_exptime;
        break;
    case SHAPE_FLUSH:
        if (h->extlen == 4) {
            breq->req.num = (int32_t)get32(ext);
            breq->req.has_arg = true;
        }
        break;
    case SHAPE_STAT:
        breq->req.args = breq->req.key;
        break;
    case SHAPE_TOUCH:
        breq->req.exptime = (int32_t)get32(ext);
        /* memcached skips a value sent with touch/gat. */
        breq->swallow = h->bodylen - (uint32_t)ek;
        break;
    default:
        break;
    }
    return MM_BIN_OK;
}

const char *
mm_bin_status_str(enum mm_bin_status st, size_t *len)
{
    const char *s;

    switch (st) {
    case MM_BIN_ST_OK:
        s = "";
        break;
    case MM_BIN_ST_KEY_ENOENT:
        s = "Not found";
        break;
    case MM_BIN_ST_KEY_EEXISTS:
        s = "Data exists for key.";
        break;
    case MM_BIN_ST_E2BIG:
        s = "Too large.";
        break;
    case MM_BIN_ST_EINVAL:
        s = "Invalid arguments";
        break;
    case MM_BIN_ST_NOT_STORED:
        s = "Not stored.";
        break;
    case MM_BIN_ST_DELTA_BADVAL:
        s = "Non-numeric server-side value for incr or decr";
        break;
    case MM_BIN_ST_AUTH_ERROR:
        s = "Auth failure.";
        break;
    case MM_BIN_ST_UNKNOWN_COMMAND:
        s = "Unknown command";
        break;
    case MM_BIN_ST_ENOMEM:
        s = "Out of memory";
        break;
    default:
        s = "UNHANDLED ERROR";
        break;
    }
    if (len != NULL) {
        *len = strlen(s);
    }
    return s;
}

void
mm_bin_response(struct mm_out *o, uint8_t opcode, uint16_t status, uint32_t opaque, uint64_t cas,
                const void *extras, uint8_t extlen, const char *key, uint16_t keylen, uint32_t vlen)
{
    unsigned char h[MM_BIN_HEADER_LEN];

    h[0] = MM_BIN_MAGIC_RES;
    h[1] = opcode;
    put16(h + 2, keylen);
    h[4] = extlen;
    h[5] = 0;
    put16(h + 6, status);
    /* keylen <= 65535 and extlen <= 255: the sum cannot wrap unless vlen is
     * within 64 KB of 4 GB, which no item is. */
    put32(h + 8, (uint32_t)extlen + keylen + vlen);
    put32(h + 12, opaque);
    put64(h + 16, cas);
    mm_out_append(o, h, sizeof(h));
    if (extlen > 0) {
        mm_out_append(o, extras, extlen);
    }
    if (keylen > 0) {
        mm_out_append(o, key, keylen);
    }
}

void
mm_bin_error(struct mm_out *o, uint8_t opcode, uint32_t opaque, enum mm_bin_status st)
{
    size_t n = 0;
    const char *msg = mm_bin_status_str(st, &n);

    mm_bin_response(o, opcode, (uint16_t)st, opaque, 0, NULL, 0, NULL, 0, (uint32_t)n);
    if (n > 0) {
        mm_out_append(o, msg, n);
    }
}
