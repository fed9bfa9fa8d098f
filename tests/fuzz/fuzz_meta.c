/* libFuzzer target for the meta protocol parser. Each input is parsed as a
 * stream of requests through the text entry point (ms values skipped as a
 * connection would); every meta request is checked for the properties
 * cmd/ relies on: spans inside the input, bounded flag and opaque counts,
 * an error that is a full CLIENT_ERROR line, and the prefix property. The
 * base64 helpers must round-trip any bytes. Any violation aborts. Also
 * linked into replay_meta, which runs the corpus under `make check`. */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmem/meta.h"
#include "mmem/req.h"
#include "mmem/text.h"

#include "fuzz.h"

static bool
is_meta(enum mm_req_type t)
{
    return t == MM_REQ_MG || t == MM_REQ_MS || t == MM_REQ_MD || t == MM_REQ_MA || t == MM_REQ_ME;
}

static void
check_meta(const struct mm_req *req, const char *buf, size_t used)
{
    const struct mm_req_meta *m = &req->meta;
    struct mm_span k = mm_meta_key(req);

    FUZZ_CHECK(req->key.p >= buf && req->key.len <= used &&
               req->key.p + req->key.len <= buf + used);
    FUZZ_CHECK(m->norder <= MM_META_MAX_FLAGS);
    FUZZ_CHECK(m->nopaque < MM_META_OPAQUE_MAX);
    if (m->err != NULL) {
        size_t n = strlen(m->err);

        FUZZ_CHECK(n > 14 && memcmp(m->err, "CLIENT_ERROR ", 13) == 0);
        FUZZ_CHECK(memcmp(m->err + n - 2, "\r\n", 2) == 0);
        return;
    }
    FUZZ_CHECK(k.len >= 1 && k.len <= MM_KEY_MAX_LENGTH);
    if (m->binary_key) {
        char dec[256];

        /* Three bytes per four characters, and decoding is repeatable. */
        FUZZ_CHECK(k.len <= req->key.len / 4 * 3);
        FUZZ_CHECK(mm_meta_b64_decode(req->key.p, req->key.len, dec, sizeof(dec)) == k.len);
        FUZZ_CHECK(memcmp(dec, k.p, k.len) == 0);
    }
}

static void
check_b64(const uint8_t *data, size_t size)
{
    char enc[MM_META_B64_LEN(192)];
    char dec[192];
    size_t n = size < sizeof(dec) ? size : sizeof(dec);
    size_t e;

    if (n == 0) {
        return;
    }
    e = mm_meta_b64_encode((const char *)data, n, enc);
    FUZZ_CHECK(e == MM_META_B64_LEN(n));
    FUZZ_CHECK(mm_meta_b64_decode(enc, e, dec, sizeof(dec)) == n);
    FUZZ_CHECK(memcmp(dec, data, n) == 0);
    /* Arbitrary text never decodes past the room given. */
    (void)mm_meta_b64_decode((const char *)data, size, dec, 16);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    size_t off = 0;
    unsigned guard = 0;

    check_b64(data, size);
    while (off < size && guard++ < 10000) {
        struct mm_req req;
        size_t used = 0;
        enum mm_text_rc rc = mm_text_parse(buf + off, size - off, MM_TEXT_MAX_LINE, &req, &used);

        if (rc != MM_TEXT_OK) {
            FUZZ_CHECK(used == 0);
            break;
        }
        FUZZ_CHECK(used > 0 && used <= size - off);
        if (is_meta(req.type)) {
            size_t n;

            check_meta(&req, buf + off, used);
            /* Every strict prefix of the line is incomplete (short lines
             * only, to keep the run fast). */
            for (n = 0; used < 256 && n < used; n++) {
                struct mm_req part;
                size_t pu = 1;

                FUZZ_CHECK(mm_text_parse(buf + off, n, MM_TEXT_MAX_LINE, &part, &pu) ==
                           MM_TEXT_AGAIN);
                FUZZ_CHECK(pu == 0);
            }
        }
        off += used;
        if (mm_req_is_storage(req.type)) {
            size_t skip = (size_t)req.vlen + 2;

            off += skip < size - off ? skip : size - off;
        }
    }
    return 0;
}
