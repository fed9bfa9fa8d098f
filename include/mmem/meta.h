#ifndef MMEM_META_H
#define MMEM_META_H

#include <stdbool.h>
#include <stddef.h>

#include "mmem/req.h"

/* The meta protocol (mg ms md ma me; mn is a plain text command) as
 * memcached 1.6.18 speaks it. The text parser frames the line and hands
 * lines whose command word is one of these to mm_meta_parse_line(), a pure
 * function: no allocation, no I/O, nothing read outside [line, line + len).
 *
 * Result, in *req (fully overwritten):
 *   - type MM_REQ_ERROR, err MM_REQ_ERR_UNKNOWN: memcached answers "ERROR"
 *     (no key given to mg ms md ma).
 *   - type MM_REQ_MG/MS/MD/MA/ME with meta.err == NULL: a good request.
 *     key is the key as sent (a span of the line); mm_meta_key() gives
 *     the key to look up (meta.key, decoded, with the b flag);
 *     meta.seen and meta.order list the flags; F, T, C, D, q, datalen are
 *     in flags, exptime, cas, delta, noreply, vlen.
 *   - meta.err != NULL: answer exactly that line (errors ignore q). For
 *     MM_REQ_MS the value (vlen + 2 bytes) is then swallowed; an ms line
 *     refused before its length is known comes back as MM_REQ_MG with err,
 *     so nothing is swallowed.
 * The line excludes its "\r\n"; its first two bytes are the command. */
void mm_meta_parse_line(const char *line, size_t len, struct mm_req *req);

/* The key a meta request names: the decoded one under b, else req->key. */
static inline struct mm_span
mm_meta_key(const struct mm_req *req)
{
    if (req->meta.binary_key) {
        struct mm_span k = {req->meta.key, req->meta.nkey};

        return k;
    }
    return req->key;
}

/* Base64 (RFC 4648, padded) as memcached's b flag uses it. decode returns
 * the decoded length, 0 for bad input or when it would exceed cap.
 * encode writes 4 * ceil(n / 3) bytes and returns that count. */
size_t mm_meta_b64_decode(const char *in, size_t n, char *out, size_t cap);
size_t mm_meta_b64_encode(const char *in, size_t n, char *out);
#define MM_META_B64_LEN(n) ((((n) + 2) / 3) * 4)

#endif
