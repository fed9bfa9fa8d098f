/* libFuzzer target for the text protocol parser. Each input is parsed as a
 * stream of requests (storage values skipped as a connection would) and
 * every result is checked against the properties the connection relies on:
 * used <= len, spans inside the input, the prefix property, and stability
 * when more bytes follow. Any violation aborts. Also linked into replay.c,
 * which runs the corpus under `make check` without a fuzzer. */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmem/req.h"
#include "mmem/text.h"

#include "fuzz.h"

static bool
span_inside(struct mm_span s, const char *buf, size_t len)
{
    return s.p >= buf && s.p <= buf + len && s.len <= (size_t)(buf + len - s.p);
}

/* A line a connection may keep growing past max_line. */
static bool
is_get_line(const char *buf, size_t len)
{
    size_t i = 0;

    while (i < len && buf[i] == ' ') {
        i++;
    }
    if (i > MM_TEXT_MAX_LEADING_SPACES) {
        return false;
    }
    return (len - i >= 4 && memcmp(buf + i, "get ", 4) == 0) ||
           (len - i >= 5 && memcmp(buf + i, "gets ", 5) == 0);
}

static void
check_req(const struct mm_req *req, const char *buf, size_t len, size_t used)
{
    struct mm_span k;
    size_t pos = 0, nkeys = 0;

    FUZZ_CHECK(req->type > MM_REQ_NONE && req->type < MM_REQ__COUNT);
    FUZZ_CHECK((unsigned)req->err < MM_REQ_ERR__COUNT);
    FUZZ_CHECK(req->type != MM_REQ_ERROR || req->err != MM_REQ_ERR_NONE);
    /* spans lie inside the line, not just the buffer */
    FUZZ_CHECK(span_inside(req->key, buf, used));
    FUZZ_CHECK(span_inside(req->keys, buf, used));
    FUZZ_CHECK(span_inside(req->args, buf, used));
    (void)len;
    if (mm_req_is_storage(req->type)) {
        FUZZ_CHECK(req->key.len > 0 && req->key.len <= MM_KEY_MAX_LENGTH);
        FUZZ_CHECK(req->vlen <= INT32_MAX - 2);
        FUZZ_CHECK(memchr(req->key.p, ' ', req->key.len) == NULL);
    }
    while (mm_req_next_key(req, &pos, &k)) {
        FUZZ_CHECK(k.len > 0);
        FUZZ_CHECK(k.p >= req->keys.p && k.p + k.len <= req->keys.p + req->keys.len);
        FUZZ_CHECK(memchr(k.p, ' ', k.len) == NULL);
        FUZZ_CHECK(++nkeys <= req->keys.len);
    }
}

/* Parse one request at buf and check everything about it. Returns the
 * bytes a connection would consume (line plus value), 0 to stop. */
static size_t
one(const char *buf, size_t len, size_t max_line)
{
    struct mm_req req, req2;
    size_t used = 12345, used2, n, step;
    enum mm_text_rc rc = mm_text_parse(buf, len, max_line, &req, &used);

    FUZZ_CHECK(rc == MM_TEXT_OK || rc == MM_TEXT_AGAIN || rc == MM_TEXT_CLOSE);
    FUZZ_CHECK(used <= len);
    if (rc != MM_TEXT_OK) {
        FUZZ_CHECK(used == 0);
        /* AGAIN beyond max_line only for lines that may grow */
        if (rc == MM_TEXT_AGAIN && len > max_line) {
            FUZZ_CHECK(is_get_line(buf, len));
        }
        if (rc == MM_TEXT_AGAIN) {
            FUZZ_CHECK(memchr(buf, '\n', len) == NULL);
        }
        return 0;
    }
    FUZZ_CHECK(used > 0 && buf[used - 1] == '\n');
    FUZZ_CHECK(memchr(buf, '\n', used - 1) == NULL);
    check_req(&req, buf, len, used);

    /* The line alone gives the same request. */
    FUZZ_CHECK(mm_text_parse(buf, used, max_line, &req2, &used2) == MM_TEXT_OK);
    FUZZ_CHECK(used2 == used && req2.type == req.type && req2.err == req.err);
    FUZZ_CHECK(req2.noreply == req.noreply && req2.key.p == req.key.p &&
               req2.key.len == req.key.len && req2.vlen == req.vlen);

    /* Prefix property: shorter inputs are AGAIN, or CLOSE past max_line for
     * a line that may not grow. Long lines are sampled to bound the work. */
    step = used > 4096 ? used / 512 : 1;
    for (n = 0; n < used; n += step) {
        enum mm_text_rc prc = mm_text_parse(buf, n, max_line, &req2, &used2);

        FUZZ_CHECK(used2 == 0);
        if (prc == MM_TEXT_CLOSE) {
            FUZZ_CHECK(n > max_line && !is_get_line(buf, n));
        } else {
            FUZZ_CHECK(prc == MM_TEXT_AGAIN);
        }
    }
    if (mm_req_is_storage(req.type)) {
        size_t need = (size_t)req.vlen + 2;

        return len - used >= need ? used + need : 0;
    }
    return used;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    /* The first byte picks a line limit now and then, to reach the
     * over-long paths with short inputs. */
    size_t max_line = (size > 0 && data[0] == '!') ? 64 : MM_TEXT_MAX_LINE;
    size_t off = 0;
    int guard = 0;

    while (off < size && guard++ < 100000) {
        size_t n = one(buf + off, size - off, max_line);

        if (n == 0) {
            break;
        }
        off += n;
    }
    return 0;
}
