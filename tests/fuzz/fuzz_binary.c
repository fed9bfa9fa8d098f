/* libFuzzer target for the binary protocol parser. Each input is parsed as a
 * stream of packets (values and skipped bodies stepped over as a connection
 * would) and every result is checked against what the connection relies on:
 * used <= len, the key span inside the input, lengths consistent with the
 * header, the prefix property (every shorter prefix gives AGAIN or the same
 * decision) and a bounded look-ahead. Any violation aborts. Also linked into
 * replay_binary, which runs tests/fuzz/corpus/binary under `make check`. */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmem/protocol_binary.h"

#include "fuzz.h"

/* The most the parser may need before deciding: header, extras, key. */
#define FUZZ_LOOKAHEAD (MM_BIN_HEADER_LEN + 255 + 65535)

static void
check_ok(const struct mm_bin_req *b, const char *buf, size_t len, size_t used)
{
    const struct mm_bin_header *h = &b->hdr;

    FUZZ_CHECK(used >= MM_BIN_HEADER_LEN && used <= len);
    FUZZ_CHECK(h->magic == MM_BIN_MAGIC_REQ);
    if (b->req.type == MM_REQ_ERROR) {
        FUZZ_CHECK(b->err != MM_BIN_ST_OK);
        FUZZ_CHECK(b->action == MM_BIN_ACT_EXEC);
        return;
    }
    FUZZ_CHECK(h->keylen <= MM_BIN_KEY_MAX);
    FUZZ_CHECK((uint32_t)h->extlen + h->keylen <= h->bodylen);
    FUZZ_CHECK(b->req.key.len == h->keylen);
    FUZZ_CHECK(b->req.key.p >= buf && b->req.key.p + b->req.key.len <= buf + used);
    FUZZ_CHECK(used == (size_t)MM_BIN_HEADER_LEN + h->extlen + h->keylen);
    if (b->action == MM_BIN_ACT_STORE) {
        FUZZ_CHECK(b->req.vlen == h->bodylen - h->extlen - h->keylen);
        FUZZ_CHECK(b->req.key.len > 0);
    }
    FUZZ_CHECK(b->req.noreply == b->quiet);
}

/* Every prefix of the bytes the parser looked at: AGAIN, then the same
 * decision from the first length that decides on. */
static void
check_prefixes(const char *buf, size_t len, enum mm_bin_rc rc, const struct mm_bin_req *full,
               size_t used)
{
    size_t k, lim = len < 2048 ? len : 2048;
    bool decided = false;

    for (k = 0; k < lim; k++) {
        struct mm_bin_req b;
        size_t u = 7;
        char *copy = malloc(k ? k : 1);
        enum mm_bin_rc r;

        memcpy(copy, buf, k);
        r = mm_bin_parse(copy, k, &b, &u);
        free(copy);
        if (r == MM_BIN_AGAIN) {
            FUZZ_CHECK(!decided);
            FUZZ_CHECK(u == 0);
            continue;
        }
        decided = true;
        FUZZ_CHECK(r == rc);
        FUZZ_CHECK(u == used);
        FUZZ_CHECK(b.req.type == full->req.type && b.err == full->err);
        FUZZ_CHECK(b.swallow == full->swallow && b.close_after == full->close_after);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    size_t off = 0;
    int packets = 0;

    while (off < size && packets++ < 4096) {
        struct mm_bin_req b;
        size_t used = 0;
        size_t left = size - off;
        enum mm_bin_rc rc = mm_bin_parse(buf + off, left, &b, &used);

        if (rc == MM_BIN_AGAIN) {
            FUZZ_CHECK(used == 0);
            /* it only waits for header, extras and key */
            FUZZ_CHECK(left < FUZZ_LOOKAHEAD);
            break;
        }
        check_prefixes(buf + off, left, rc, &b, used);
        if (rc == MM_BIN_CLOSE) {
            FUZZ_CHECK(used == 0);
            FUZZ_CHECK((unsigned char)buf[off] != MM_BIN_MAGIC_REQ);
            break;
        }
        check_ok(&b, buf + off, left, used);
        if (b.close_after) {
            break;
        }
        off += used;
        if (b.action == MM_BIN_ACT_STORE) {
            left = size - off;
            off += b.req.vlen < left ? b.req.vlen : left;
        } else {
            left = size - off;
            off += b.swallow < left ? b.swallow : left;
        }
    }
    return 0;
}
