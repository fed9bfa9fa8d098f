/* The meta protocol parser: mg ms md ma me lines become an mm_req with the
 * flags as a bitmap plus their arguments, and memcached 1.6.18's exact error
 * line when something is wrong. Pure: works over (line, len) only, copies
 * what must outlive the line (opaque, decoded key) into the request. */
#include "config.h"

#include "mmem/meta.h"

#include "mmem/req.h"
#include "mmem/scan.h"
#include "mmem/text.h"

#include <string.h>

/* memcached counts the terminating empty token too and refuses more than
 * 20 tokens, so at most 19 words (command and key included). */
#define META_MAX_WORDS 19

#define ERR_FORMAT "CLIENT_ERROR bad command line format\r\n"
#define ERR_TOO_LONG "CLIENT_ERROR options flags are too long\r\n"
#define ERR_DUP "CLIENT_ERROR duplicate flag\r\n"
#define ERR_INVALID "CLIENT_ERROR invalid flag\r\n"
#define ERR_TOKEN "CLIENT_ERROR bad token in command line format\r\n"
#define ERR_B64 "CLIENT_ERROR error decoding key\r\n"
#define ERR_MLEN "CLIENT_ERROR incorrect length for M token\r\n"
#define ERR_INITIAL "CLIENT_ERROR invalid numeric initial value\r\n"
#define ERR_DELTA "CLIENT_ERROR invalid numeric delta value\r\n"
#define ERR_OPAQUE "CLIENT_ERROR opaque token too long\r\n"
/* md and ma report every flag problem with this one line. */
#define ERR_FLAG_GENERIC "CLIENT_ERROR invalid or duplicate flag\r\n"
#define ERR_MS_MODE "CLIENT_ERROR invalid mode for ms M token\r\n"
#define ERR_MA_MODE "CLIENT_ERROR invalid mode for ma M token\r\n"

/* Flags memcached 1.6.18 knows, for any meta command; the others are
 * "invalid flag" (E and x, documented later, are among them). */
static const char known_flags[] = "bNTRlOPLkstcfvhuqFCMJDI";

static int
b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

size_t
mm_meta_b64_decode(const char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    size_t i;

    if (n == 0 || n % 4 != 0) {
        return 0;
    }
    for (i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;
        int j;

        for (j = 0; j < 4; j++) {
            unsigned char c = (unsigned char)in[i + (size_t)j];

            /* Padding is only allowed in the last two places of the last
             * group. */
            if (c == '=' && i + 4 == n && j >= 2) {
                v[j] = 0;
                pad++;
                continue;
            }
            if (pad > 0) {
                return 0;
            }
            v[j] = b64_val(c);
            if (v[j] < 0) {
                return 0;
            }
        }
        if (o + (size_t)(3 - pad) > cap) {
            return 0;
        }
        out[o++] = (char)((v[0] << 2) | (v[1] >> 4));
        if (pad < 2) {
            out[o++] = (char)(((v[1] & 15) << 4) | (v[2] >> 2));
        }
        if (pad < 1) {
            out[o++] = (char)(((v[2] & 3) << 6) | v[3]);
        }
    }
    return o;
}

size_t
mm_meta_b64_encode(const char *in, size_t n, char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = (const unsigned char *)in;
    size_t o = 0;
    size_t i;

    for (i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        size_t left = n - i;

        if (left > 1) {
            v |= (unsigned)p[i + 1] << 8;
        }
        if (left > 2) {
            v |= p[i + 2];
        }
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = left > 1 ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = left > 2 ? alphabet[v & 63] : '=';
    }
    return o;
}

/* Split on spaces; returns the number of words, storing at most max. */
static size_t
split_words(const char *line, size_t len, struct mm_span *w, size_t max)
{
    struct mm_span list = {line, len};
    struct mm_span tok;
    size_t pos = 0;
    size_t n = 0;

    while (mm_span_next_token(list, &pos, &tok)) {
        if (n < max) {
            w[n] = tok;
        }
        n++;
    }
    return n;
}

static bool
is_known_flag(unsigned char c)
{
    return c != '\0' && strchr(known_flags, c) != NULL;
}

/* memcached's flag pre-pass: every flag is looked at in order; an unknown
 * or repeated one stops at once, other bad arguments are remembered (the
 * last one reported) and the walk goes on. Returns the error line or NULL;
 * *generic_err gets the line for flag errors that carry no text of their own
 * (a bad F). */
static const char *
parse_flags(const struct mm_span *w, size_t nw, size_t first, struct mm_req *req)
{
    struct mm_req_meta *m = &req->meta;
    const char *err = NULL;
    bool failed = false;
    size_t i;

    for (i = first; i < nw; i++) {
        struct mm_span t = w[i];
        unsigned char o = (unsigned char)t.p[0];
        const char *arg = t.p + 1;
        const char *end = t.p + t.len;

        if (o >= 127 || (o >= 'A' && o <= 'z' && (m->seen & MM_META_FLAG(o)) != 0)) {
            return ERR_DUP;
        }
        if (!is_known_flag(o)) {
            return ERR_INVALID;
        }
        m->seen |= MM_META_FLAG(o);
        m->order[m->norder++] = (char)o;
        switch (o) {
        case 'b':
            m->binary_key = true;
            {
                size_t n = mm_meta_b64_decode(req->key.p, req->key.len, m->key, sizeof(m->key));

                if (n == 0) {
                    err = ERR_B64;
                    failed = true;
                }
                m->nkey = (uint8_t)n;
            }
            break;
        case 'N':
            if (!mm_scan_i32(arg, end, &m->vivify)) {
                err = ERR_TOKEN;
                failed = true;
            }
            break;
        case 'T':
            if (!mm_scan_i32(arg, end, &req->exptime)) {
                err = ERR_TOKEN;
                failed = true;
            }
            break;
        case 'R':
            if (!mm_scan_i32(arg, end, &m->recache)) {
                err = ERR_TOKEN;
                failed = true;
            }
            break;
        case 'O':
            if (t.len > MM_META_OPAQUE_MAX) {
                err = ERR_OPAQUE;
                failed = true;
            } else {
                m->nopaque = (uint8_t)(t.len - 1);
                memcpy(m->opaque, arg, t.len - 1);
            }
            break;
        case 'q':
            req->noreply = true;
            break;
        case 'F':
            if (!mm_scan_u32(arg, end, &req->flags)) {
                failed = true;
            }
            break;
        case 'C':
            if (!mm_scan_u64(arg, end, &req->cas)) {
                err = ERR_TOKEN;
                failed = true;
            }
            break;
        case 'M':
            if (t.len != 2) {
                err = ERR_MLEN;
                failed = true;
            } else {
                m->mode = t.p[1];
            }
            break;
        case 'J':
            if (!mm_scan_u64(arg, end, &m->initial)) {
                err = ERR_INITIAL;
                failed = true;
            }
            break;
        case 'D':
            if (!mm_scan_u64(arg, end, &req->delta)) {
                err = ERR_DELTA;
                failed = true;
            }
            break;
        default:
            /* Known flags without an argument, or whose argument is read
             * when the reply is composed. */
            break;
        }
    }
    if (failed && err == NULL) {
        err = ERR_FORMAT;
    }
    return err;
}

static void
parse_me(const struct mm_span *w, size_t nw, struct mm_req *req)
{
    struct mm_req_meta *m = &req->meta;

    req->type = MM_REQ_ME;
    if (nw < 2 || w[1].len > MM_KEY_MAX_LENGTH) {
        m->err = ERR_FORMAT;
        return;
    }
    req->key = w[1];
    if (nw > 2 && w[2].len == 1 && w[2].p[0] == 'b') {
        size_t n = mm_meta_b64_decode(w[1].p, w[1].len, m->key, sizeof(m->key));

        if (n == 0) {
            m->err = ERR_B64;
            return;
        }
        m->binary_key = true;
        m->nkey = (uint8_t)n;
    }
}

void
mm_meta_parse_line(const char *line, size_t len, struct mm_req *req)
{
    struct mm_span w[META_MAX_WORDS + 1];
    struct mm_req_meta *m = &req->meta;
    size_t nw = split_words(line, len, w, META_MAX_WORDS + 1);
    char c = len >= 2 ? line[1] : '\0';
    bool is_ms = c == 's';
    size_t first = 2;
    const char *err;

    memset(req, 0, sizeof(*req));
    req->key.p = line;
    req->keys.p = line;
    req->args.p = line;
    req->delta = 1;
    switch (c) {
    case 'g':
        req->type = MM_REQ_MG;
        break;
    case 's':
        req->type = MM_REQ_MS;
        break;
    case 'd':
        req->type = MM_REQ_MD;
        break;
    case 'a':
        req->type = MM_REQ_MA;
        break;
    case 'e':
        parse_me(w, nw, req);
        return;
    default:
        req->type = MM_REQ_ERROR;
        req->err = MM_REQ_ERR_UNKNOWN;
        return;
    }
    if (nw < 2) {
        req->type = MM_REQ_ERROR;
        req->err = MM_REQ_ERR_UNKNOWN;
        return;
    }
    req->key = w[1];
    /* Until the value length is known an ms error swallows nothing: such
     * lines are reported as mg errors (see meta.h). */
    if (w[1].len > MM_KEY_MAX_LENGTH) {
        m->err = ERR_FORMAT;
    } else if (is_ms && nw == 2) {
        m->err = ERR_FORMAT;
    } else if (nw > META_MAX_WORDS) {
        m->err = ERR_TOO_LONG;
    }
    if (m->err == NULL && is_ms) {
        int32_t vlen;

        if (!mm_scan_i32(w[2].p, w[2].p + w[2].len, &vlen) || vlen < 0 || vlen > INT32_MAX - 2) {
            m->err = ERR_FORMAT;
        } else {
            req->vlen = (uint32_t)vlen;
            first = 3;
        }
    }
    if (m->err != NULL) {
        if (is_ms) {
            req->type = MM_REQ_MG;
        }
        return;
    }
    err = parse_flags(w, nw, first, req);
    if (err != NULL) {
        m->err = (req->type == MM_REQ_MD || req->type == MM_REQ_MA) ? ERR_FLAG_GENERIC : err;
        return;
    }
    if (is_ms && m->mode != '\0' && strchr("EAPRS", m->mode) == NULL) {
        m->err = ERR_MS_MODE;
    } else if (req->type == MM_REQ_MA && m->mode != '\0' && strchr("I+D-", m->mode) == NULL) {
        m->err = ERR_MA_MODE;
    }
}
