#ifndef MMEM_PROTOCOL_BINARY_H
#define MMEM_PROTOCOL_BINARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmem/req.h"

struct mm_out;

/* The memcached binary protocol: wire constants, a pure request parser and
 * reply composers. Every packet starts with a 24-byte header (all integers
 * big-endian), followed by extlen bytes of extras, keylen bytes of key and
 * the rest of bodylen as the value:
 *
 *   offset  0: magic (0x80 request, 0x81 response)
 *           1: opcode
 *           2: key length (16 bits)
 *           4: extras length (8 bits)
 *           5: data type (8 bits, always 0)
 *           6: vbucket id (request) / status (response) (16 bits)
 *           8: total body length (32 bits)
 *          12: opaque (32 bits, echoed)
 *          16: CAS (64 bits)
 *
 * ---------------------------------------------------------------------------
 * Contract for the connection (net/conn.c), with the unconsumed input at
 * [buf, buf + len):
 *
 *   rc = mm_bin_parse(buf, len, &breq, &used);
 *
 *   MM_BIN_AGAIN  Nothing consumed: read more and call again.
 *   MM_BIN_CLOSE  Bad magic: close without a reply (memcached does).
 *   MM_BIN_OK     breq is filled; then:
 *     - breq.action == MM_BIN_ACT_STORE: consume `used` (header, extras and
 *       key), call mm_cmd_bin_store_begin() and read breq.req.vlen value
 *       bytes (no trailer) into the item, or swallow them.
 *     - otherwise: call mm_cmd_bin_exec() (spans point into buf), consume
 *       `used`, then discard breq.swallow more input bytes. MM_CMD_CLOSE
 *       from exec means "flush the replies, then close".
 *
 * The parser never asks for more than MM_BIN_HEADER_LEN + 255 + 250 bytes
 * before deciding: values are never buffered by it, so a declared 4 GB body
 * allocates nothing (the store refuses it as too large, and the connection
 * discards the bytes).
 * ------------------------------------------------------------------------- */

#define MM_BIN_MAGIC_REQ 0x80
#define MM_BIN_MAGIC_RES 0x81
#define MM_BIN_HEADER_LEN 24
#define MM_BIN_KEY_MAX 250

enum mm_bin_opcode {
    MM_BIN_OP_GET = 0x00,
    MM_BIN_OP_SET = 0x01,
    MM_BIN_OP_ADD = 0x02,
    MM_BIN_OP_REPLACE = 0x03,
    MM_BIN_OP_DELETE = 0x04,
    MM_BIN_OP_INCREMENT = 0x05,
    MM_BIN_OP_DECREMENT = 0x06,
    MM_BIN_OP_QUIT = 0x07,
    MM_BIN_OP_FLUSH = 0x08,
    MM_BIN_OP_GETQ = 0x09,
    MM_BIN_OP_NOOP = 0x0a,
    MM_BIN_OP_VERSION = 0x0b,
    MM_BIN_OP_GETK = 0x0c,
    MM_BIN_OP_GETKQ = 0x0d,
    MM_BIN_OP_APPEND = 0x0e,
    MM_BIN_OP_PREPEND = 0x0f,
    MM_BIN_OP_STAT = 0x10,
    MM_BIN_OP_SETQ = 0x11,
    MM_BIN_OP_ADDQ = 0x12,
    MM_BIN_OP_REPLACEQ = 0x13,
    MM_BIN_OP_DELETEQ = 0x14,
    MM_BIN_OP_INCREMENTQ = 0x15,
    MM_BIN_OP_DECREMENTQ = 0x16,
    MM_BIN_OP_QUITQ = 0x17,
    MM_BIN_OP_FLUSHQ = 0x18,
    MM_BIN_OP_APPENDQ = 0x19,
    MM_BIN_OP_PREPENDQ = 0x1a,
    MM_BIN_OP_VERBOSITY = 0x1b,
    MM_BIN_OP_TOUCH = 0x1c,
    MM_BIN_OP_GAT = 0x1d,
    MM_BIN_OP_GATQ = 0x1e,
    MM_BIN_OP_SASL_LIST_MECHS = 0x20,
    MM_BIN_OP_SASL_AUTH = 0x21,
    MM_BIN_OP_SASL_STEP = 0x22,
    MM_BIN_OP_GATK = 0x23,
    MM_BIN_OP_GATKQ = 0x24
};

enum mm_bin_status {
    MM_BIN_ST_OK = 0x00,
    MM_BIN_ST_KEY_ENOENT = 0x01,
    MM_BIN_ST_KEY_EEXISTS = 0x02,
    MM_BIN_ST_E2BIG = 0x03,
    MM_BIN_ST_EINVAL = 0x04,
    MM_BIN_ST_NOT_STORED = 0x05,
    MM_BIN_ST_DELTA_BADVAL = 0x06,
    MM_BIN_ST_AUTH_ERROR = 0x20,
    MM_BIN_ST_UNKNOWN_COMMAND = 0x81,
    MM_BIN_ST_ENOMEM = 0x82
};

/* The header, decoded to host order. */
struct mm_bin_header {
    uint8_t magic;
    uint8_t opcode;
    uint16_t keylen;
    uint8_t extlen;
    uint8_t datatype;
    uint16_t vbucket; /* status, in a response */
    uint32_t bodylen;
    uint32_t opaque;
    uint64_t cas;
};

/* What the connection does with a parsed request. */
enum mm_bin_action {
    MM_BIN_ACT_EXEC = 0, /* mm_cmd_bin_exec() */
    MM_BIN_ACT_STORE     /* storage: the value follows (see above) */
};

/* A parsed binary request. `req` carries the generic fields cmd/ knows from
 * the text protocol (type, key, flags, exptime, vlen, cas, delta, num); the
 * rest is binary-only. type MM_REQ_ERROR means "answer `err`" (and close
 * if close_after). */
struct mm_bin_req {
    struct mm_bin_header hdr;
    enum mm_bin_action action;
    struct mm_req req;
    enum mm_bin_status err; /* for MM_REQ_ERROR */
    bool close_after;       /* protocol error: reply, then close */
    bool quiet;             /* a ...Q opcode */
    bool with_key;          /* GETK/GETKQ/GATK/GATKQ: the key is echoed */
    uint64_t initial;       /* incr/decr: value for a missing key */
    uint32_t delta_exptime; /* incr/decr: 0xffffffff = do not create */
    uint64_t swallow;       /* input to discard after `used` (unknown ops);
                               may exceed 4 GB */
};

/* incr/decr expiry that means "fail on a missing key instead of creating". */
#define MM_BIN_DELTA_NO_CREATE 0xffffffffu

enum mm_bin_rc { MM_BIN_OK = 0, MM_BIN_AGAIN, MM_BIN_CLOSE };

/* Decode the 24 header bytes at p (no validation). */
void mm_bin_header_decode(const unsigned char *p, struct mm_bin_header *h);

/* Parse one request at buf (see the contract above). Pure: no allocation,
 * nothing read outside [buf, buf + len). */
enum mm_bin_rc mm_bin_parse(const char *buf, size_t len, struct mm_bin_req *breq, size_t *used);

/* memcached's message for an error status ("Not found", ...); "" for OK. */
const char *mm_bin_status_str(enum mm_bin_status st, size_t *len);

/* ---- Reply composers (append to an mm_out; never fail) ---- */

/* A response header plus extras and key; the caller appends vlen value
 * bytes after it. */
void mm_bin_response(struct mm_out *o, uint8_t opcode, uint16_t status, uint32_t opaque,
                     uint64_t cas, const void *extras, uint8_t extlen, const char *key,
                     uint16_t keylen, uint32_t vlen);
/* An error response with memcached's message as the body. */
void mm_bin_error(struct mm_out *o, uint8_t opcode, uint32_t opaque, enum mm_bin_status st);

#endif
