/* The classic text protocol parser: frames one line, tokenizes it the way
 * memcached 1.6.18 does and fills a struct mm_req. It decides every reply
 * that depends on the line alone (token counts, number formats, key length,
 * noreply) but touches no store: cmd/ executes the request. Pure: no
 * allocation, no I/O, nothing read outside [buf, buf + len). */
#include "config.h"

#include "mmem/text.h"

#include "mmem/meta.h"

#include <limits.h>
#include <string.h>

/* memcached looks at no more than 24 tokens (23 real ones plus a terminal
 * marker); get lines go on past that, everything else counts as "too many". */
#define TEXT_MAX_TOKENS 23

struct line {
    const char *p;
    size_t len;
    struct mm_span tok[TEXT_MAX_TOKENS];
    size_t ntok; /* tokens seen, capped at TEXT_MAX_TOKENS */
};

static bool
span_eq(struct mm_span s, const char *lit)
{
    size_t n = strlen(lit);

    return s.len == n && memcmp(s.p, lit, n) == 0;
}

static bool
has_prefix(const char *p, size_t len, const char *lit)
{
    size_t n = strlen(lit);

    return len >= n && memcmp(p, lit, n) == 0;
}

/* isspace() in the C locale, which is what strtol skips and what memcached's
 * safe_strto* accept right after a number. */
static bool
c_isspace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* The shared core of strtol/strtoul on a token: leading white space, an
 * optional sign, decimal digits. Returns false where strtoX would leave
 * endptr at the start (no digits). *mag saturates; *overflow is set when
 * the magnitude does not fit in 64 bits. On success, the number must be
 * followed by the end of the token or a white-space byte (memcached accepts
 * "5\tjunk" as 5). */
static bool
scan_number(struct mm_span t, bool *neg, uint64_t *mag, bool *overflow)
{
    const char *p = t.p;
    const char *end = t.p + t.len;
    bool any = false;

    *neg = false;
    *mag = 0;
    *overflow = false;
    while (p < end && c_isspace(*p)) {
        p++;
    }
    if (p < end && (*p == '+' || *p == '-')) {
        *neg = *p == '-';
        p++;
    }
    while (p < end && *p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');

        if (*mag > (UINT64_MAX - d) / 10) {
            *overflow = true;
        } else {
            *mag = *mag * 10 + d;
        }
        any = true;
        p++;
    }
    if (!any) {
        return false;
    }
    return p == end || c_isspace(*p);
}

/* memcached's safe_strtoull: strtoull semantics (a '-' negates modulo 2^64),
 * then refuse a result that is negative as a signed number when the text
 * has a minus sign. So "-1" fails but "-0" is 0. */
static bool
text_strtoull(struct mm_span t, uint64_t *out)
{
    bool neg, overflow;
    uint64_t mag, v;

    if (!scan_number(t, &neg, &mag, &overflow) || overflow) {
        return false;
    }
    v = neg ? (uint64_t)0 - mag : mag;
    if ((int64_t)v < 0 && neg) {
        return false;
    }
    *out = v;
    return true;
}

/* memcached's safe_strtoul on a 64-bit long: as safe_strtoull, then the
 * value is truncated to 32 bits (flags 4294967297 are stored as 1). */
static bool
text_strtoul(struct mm_span t, uint32_t *out)
{
    uint64_t v;

    if (!text_strtoull(t, &v)) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* memcached's safe_strtol on a 64-bit long: strtol range checks (64-bit),
 * then the value is truncated to 32 bits without a range check, so an
 * exptime of 4294967296 is 0 and 2147483648 is negative. */
static bool
text_strtol(struct mm_span t, int32_t *out)
{
    bool neg, overflow;
    uint64_t mag;

    if (!scan_number(t, &neg, &mag, &overflow) || overflow) {
        return false;
    }
    if (neg ? mag > (uint64_t)INT64_MAX + 1 : mag > (uint64_t)INT64_MAX) {
        return false;
    }
    *out = (int32_t)(uint32_t)(neg ? (uint64_t)0 - mag : mag);
    return true;
}

static void
tokenize(struct line *l)
{
    size_t i = 0;

    l->ntok = 0;
    while (i < l->len && l->ntok < TEXT_MAX_TOKENS) {
        size_t start;

        while (i < l->len && l->p[i] == ' ') {
            i++;
        }
        if (i == l->len) {
            break;
        }
        start = i;
        while (i < l->len && l->p[i] != ' ') {
            i++;
        }
        l->tok[l->ntok].p = l->p + start;
        l->tok[l->ntok].len = i - start;
        l->ntok++;
    }
    if (l->ntok == TEXT_MAX_TOKENS) {
        /* Any further token makes the count "too many"; memcached reports
         * ntokens == 24 in both cases, so one more is as good as many. */
        while (i < l->len && l->p[i] == ' ') {
            i++;
        }
        if (i < l->len) {
            l->ntok = TEXT_MAX_TOKENS + 1;
        }
    }
}

/* Tokens usable as tok[] (the count may exceed the array by one). */
static size_t
seen(const struct line *l)
{
    return l->ntok > TEXT_MAX_TOKENS ? TEXT_MAX_TOKENS : l->ntok;
}

/* memcached's set_noreply_maybe: the last token it looked at is "noreply". */
static bool
last_is_noreply(const struct line *l)
{
    return seen(l) > 0 && span_eq(l->tok[seen(l) - 1], "noreply");
}

/* From the start of token i to the end of the line (empty if none). */
static struct mm_span
rest_from(const struct line *l, size_t i)
{
    struct mm_span s;

    if (i < seen(l)) {
        s.p = l->tok[i].p;
        s.len = (size_t)(l->p + l->len - s.p);
    } else {
        s.p = l->p + l->len;
        s.len = 0;
    }
    return s;
}

static void
set_error(struct mm_req *req, enum mm_req_err err, bool noreply)
{
    req->type = MM_REQ_ERROR;
    req->err = err;
    req->noreply = noreply;
}

static void
parse_retrieval(const struct line *l, struct mm_req *req, enum mm_req_type type)
{
    size_t first_key = 1;

    req->type = type;
    if (type == MM_REQ_GAT || type == MM_REQ_GATS) {
        if (!text_strtol(l->tok[1], &req->exptime)) {
            set_error(req, MM_REQ_ERR_EXPTIME, false);
            return;
        }
        first_key = 2;
    }
    req->keys = rest_from(l, first_key);
}

static void
parse_storage(const struct line *l, struct mm_req *req, enum mm_req_type type)
{
    size_t n = l->ntok;
    bool is_cas = type == MM_REQ_CAS;
    int32_t vlen;

    if (is_cas ? (n != 6 && n != 7) : (n != 5 && n != 6)) {
        set_error(req, MM_REQ_ERR_UNKNOWN, false);
        return;
    }
    req->type = type;
    req->noreply = last_is_noreply(l);
    req->key = l->tok[1];
    if (req->key.len > MM_KEY_MAX_LENGTH) {
        set_error(req, MM_REQ_ERR_FORMAT, req->noreply);
        return;
    }
    if (!text_strtoul(l->tok[2], &req->flags) || !text_strtol(l->tok[3], &req->exptime) ||
        !text_strtol(l->tok[4], &vlen)) {
        set_error(req, MM_REQ_ERR_FORMAT, req->noreply);
        return;
    }
    if (is_cas && !text_strtoull(l->tok[5], &req->cas)) {
        set_error(req, MM_REQ_ERR_FORMAT, req->noreply);
        return;
    }
    if (vlen < 0 || vlen > INT_MAX - 2) {
        set_error(req, MM_REQ_ERR_FORMAT, req->noreply);
        return;
    }
    req->vlen = (uint32_t)vlen;
}

static void
parse_delete(const struct line *l, struct mm_req *req)
{
    size_t n = l->ntok;

    if (n < 2 || n > 4) {
        set_error(req, MM_REQ_ERR_UNKNOWN, false);
        return;
    }
    req->type = MM_REQ_DELETE;
    if (n > 2) {
        /* The old "delete <key> <time>" form survives only with time 0. */
        bool hold_zero = span_eq(l->tok[2], "0");
        bool noreply = last_is_noreply(l);

        req->noreply = noreply;
        if (!((n == 3 && (hold_zero || noreply)) || (n == 4 && hold_zero && noreply))) {
            set_error(req, MM_REQ_ERR_USAGE_DELETE, noreply);
            return;
        }
    }
    req->key = l->tok[1];
    if (req->key.len > MM_KEY_MAX_LENGTH) {
        set_error(req, MM_REQ_ERR_FORMAT, req->noreply);
    }
}

static void
parse_arith(const struct line *l, struct mm_req *req, enum mm_req_type type)
{
    if (l->ntok != 3 && l->ntok != 4) {
        set_error(req, MM_REQ_ERR_UNKNOWN, false);
        return;
    }
    req->type = type;
    req->noreply = last_is_noreply(l);
    req->key = l->tok[1];
    if (req->key.len > MM_KEY_MAX_LENGTH) {
        set_error(req, MM_REQ_ERR_FORMAT, req->noreply);
        return;
    }
    if (!text_strtoull(l->tok[2], &req->delta)) {
        set_error(req, MM_REQ_ERR_DELTA, req->noreply);
    }
}

static void
parse_touch(const struct line *l, struct mm_req *req)
{
    if (l->ntok != 3 && l->ntok != 4) {
        set_error(req, MM_REQ_ERR_UNKNOWN, false);
        return;
    }
    req->type = MM_REQ_TOUCH;
    req->noreply = last_is_noreply(l);
    req->key = l->tok[1];
    if (req->key.len > MM_KEY_MAX_LENGTH) {
        set_error(req, MM_REQ_ERR_FORMAT, req->noreply);
        return;
    }
    if (!text_strtol(l->tok[2], &req->exptime)) {
        set_error(req, MM_REQ_ERR_EXPTIME, req->noreply);
    }
}

static void
parse_flush_all(const struct line *l, struct mm_req *req)
{
    int32_t delay = 0;

    if (l->ntok < 1 || l->ntok > 3) {
        set_error(req, MM_REQ_ERR_UNKNOWN, false);
        return;
    }
    req->type = MM_REQ_FLUSH_ALL;
    req->noreply = last_is_noreply(l);
    if (l->ntok != (req->noreply ? 2u : 1u)) {
        req->has_arg = true;
        /* Not an MM_REQ_ERROR: memcached counts cmd_flush and checks -F
         * before it looks at the argument, so cmd/ reports this. */
        if (!text_strtol(l->tok[1], &delay)) {
            req->err = MM_REQ_ERR_EXPTIME;
        }
    }
    req->num = delay;
}

/* "lru_crawler enable|disable" or "lru_crawler <sub> <arg>": memcached
 * answers ERROR to any other shape (no noreply either). The argument is
 * checked by cmd/, which knows the slab classes. */
static void
parse_lru_crawler(const struct line *l, struct mm_req *req)
{
    static const char *const subs[] = {
        [MM_REQ_CRAWLER_CRAWL] = "crawl",     [MM_REQ_CRAWLER_METADUMP] = "metadump",
        [MM_REQ_CRAWLER_TOCRAWL] = "tocrawl", [MM_REQ_CRAWLER_SLEEP] = "sleep",
        [MM_REQ_CRAWLER_ENABLE] = "enable",   [MM_REQ_CRAWLER_DISABLE] = "disable",
    };
    size_t i;

    for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        bool no_arg = i == MM_REQ_CRAWLER_ENABLE || i == MM_REQ_CRAWLER_DISABLE;

        if (l->ntok == (no_arg ? 2u : 3u) && span_eq(l->tok[1], subs[i])) {
            req->type = MM_REQ_LRU_CRAWLER;
            req->num = (int64_t)i;
            req->args = no_arg ? rest_from(l, 2) : l->tok[2];
            return;
        }
    }
    set_error(req, MM_REQ_ERR_UNKNOWN, false);
}

/* "slabs reassign <src> <dst>" (exactly that many tokens, no noreply) or
 * "slabs automove <n>|ratio <r> [...] [noreply]"; any other shape is ERROR,
 * as in memcached. The numbers are checked by cmd/, which knows the
 * classes. */
static void
parse_slabs(const struct line *l, struct mm_req *req)
{
    if (l->ntok == 4 && span_eq(l->tok[1], "reassign")) {
        req->num = MM_REQ_SLABS_REASSIGN;
    } else if (l->ntok >= 3 && span_eq(l->tok[1], "automove")) {
        /* memcached takes noreply here (and ignores extra tokens). */
        req->num = MM_REQ_SLABS_AUTOMOVE;
        req->noreply = last_is_noreply(l);
    } else {
        set_error(req, MM_REQ_ERR_UNKNOWN, false);
        return;
    }
    req->type = MM_REQ_SLABS;
    req->args = rest_from(l, 2);
}

/* "verbosity <level> [noreply]" and "cache_memlimit <MB> [noreply]": one
 * 32-bit argument. They differ only in the error memcached gives for a bad
 * number: verbosity a format error, cache_memlimit a plain "ERROR" (noreply
 * honoured by both). */
static void
parse_u32_arg(const struct line *l, struct mm_req *req, enum mm_req_type type,
              enum mm_req_err bad_number)
{
    uint32_t v;

    if (l->ntok != 2 && l->ntok != 3) {
        set_error(req, MM_REQ_ERR_UNKNOWN, false);
        return;
    }
    req->type = type;
    req->noreply = last_is_noreply(l);
    if (!text_strtoul(l->tok[1], &v)) {
        set_error(req, bad_number, req->noreply);
        return;
    }
    req->num = v;
}

static void
parse_shutdown(const struct line *l, struct mm_req *req)
{
    req->type = MM_REQ_SHUTDOWN;
    if (l->ntok == 1) {
        req->num = MM_REQ_SHUTDOWN_NOW;
    } else if (l->ntok == 2 && span_eq(l->tok[1], "graceful")) {
        req->num = MM_REQ_SHUTDOWN_GRACEFUL;
    } else {
        req->num = MM_REQ_SHUTDOWN_INVALID;
    }
}

/* Dispatch on the command word, in memcached's order: a few first letters
 * are routed to their own family (an unknown word there is "ERROR"), the
 * rest go through a list whose fall-through closes HTTP clients. Returns
 * false for "close the connection". */
static bool
dispatch(const struct line *l, struct mm_req *req)
{
    struct mm_span cmd;

    if (l->ntok == 0 || l->tok[0].len < 2) {
        set_error(req, MM_REQ_ERR_UNKNOWN, false);
        return true;
    }
    cmd = l->tok[0];
    switch (cmd.p[0]) {
    case 'm':
        if (cmd.len == 2) {
            /* The meta commands: the no-op here (extra tokens ignored, as
             * memcached ignores them), the others in meta.c. memcached
             * answers other two-letter m words with "ERROR". */
            if (cmd.p[1] == 'n') {
                req->type = MM_REQ_MN;
            } else if (strchr("gsdae", cmd.p[1]) != NULL) {
                mm_meta_parse_line(l->p, l->len, req);
            } else {
                set_error(req, MM_REQ_ERR_UNKNOWN, false);
            }
            return true;
        }
        break;
    case 'g':
        if (l->ntok < 2) {
            set_error(req, MM_REQ_ERR_UNKNOWN, false);
        } else if (span_eq(cmd, "get")) {
            parse_retrieval(l, req, MM_REQ_GET);
        } else if (span_eq(cmd, "gets")) {
            parse_retrieval(l, req, MM_REQ_GETS);
        } else if (span_eq(cmd, "gat")) {
            parse_retrieval(l, req, MM_REQ_GAT);
        } else if (span_eq(cmd, "gats")) {
            parse_retrieval(l, req, MM_REQ_GATS);
        } else {
            set_error(req, MM_REQ_ERR_UNKNOWN, false);
        }
        return true;
    case 's':
        if (span_eq(cmd, "set")) {
            parse_storage(l, req, MM_REQ_SET);
        } else if (span_eq(cmd, "stats")) {
            req->type = MM_REQ_STATS;
            req->args = rest_from(l, 1);
        } else if (span_eq(cmd, "shutdown")) {
            parse_shutdown(l, req);
        } else if (span_eq(cmd, "slabs")) {
            parse_slabs(l, req);
        } else {
            set_error(req, MM_REQ_ERR_UNKNOWN, false);
        }
        return true;
    case 'a':
        if (span_eq(cmd, "add")) {
            parse_storage(l, req, MM_REQ_ADD);
        } else if (span_eq(cmd, "append")) {
            parse_storage(l, req, MM_REQ_APPEND);
        } else {
            set_error(req, MM_REQ_ERR_UNKNOWN, false);
        }
        return true;
    case 'c':
        if (span_eq(cmd, "cas")) {
            parse_storage(l, req, MM_REQ_CAS);
        } else if (span_eq(cmd, "cache_memlimit")) {
            parse_u32_arg(l, req, MM_REQ_CACHE_MEMLIMIT, MM_REQ_ERR_UNKNOWN);
        } else {
            set_error(req, MM_REQ_ERR_UNKNOWN, false);
        }
        return true;
    case 'i':
        if (span_eq(cmd, "incr")) {
            parse_arith(l, req, MM_REQ_INCR);
        } else {
            set_error(req, MM_REQ_ERR_UNKNOWN, false);
        }
        return true;
    case 'd':
        if (span_eq(cmd, "delete")) {
            parse_delete(l, req);
        } else if (span_eq(cmd, "decr")) {
            parse_arith(l, req, MM_REQ_DECR);
        } else {
            set_error(req, MM_REQ_ERR_UNKNOWN, false);
        }
        return true;
    case 't':
        if (span_eq(cmd, "touch")) {
            parse_touch(l, req);
        } else {
            set_error(req, MM_REQ_ERR_UNKNOWN, false);
        }
        return true;
    default:
        break;
    }
    if (span_eq(cmd, "prepend")) {
        parse_storage(l, req, MM_REQ_PREPEND);
    } else if (span_eq(cmd, "replace")) {
        parse_storage(l, req, MM_REQ_REPLACE);
    } else if (span_eq(cmd, "flush_all")) {
        parse_flush_all(l, req);
    } else if (span_eq(cmd, "version")) {
        req->type = MM_REQ_VERSION;
    } else if (span_eq(cmd, "quit")) {
        req->type = MM_REQ_QUIT;
    } else if (span_eq(cmd, "verbosity")) {
        parse_u32_arg(l, req, MM_REQ_VERBOSITY, MM_REQ_ERR_FORMAT);
    } else if (span_eq(cmd, "watch")) {
        req->type = MM_REQ_WATCH;
        req->args = rest_from(l, 1);
    } else if (span_eq(cmd, "lru_crawler")) {
        parse_lru_crawler(l, req);
    } else if (span_eq(cmd, "refresh_certs")) {
        /* Other arguments are ignored, as memcached ignores them. */
        req->type = MM_REQ_REFRESH_CERTS;
        req->noreply = last_is_noreply(l);
    } else {
        struct mm_span last = l->tok[seen(l) - 1];

        if (has_prefix(last.p, last.len, "HTTP/")) {
            return false;
        }
        set_error(req, MM_REQ_ERR_UNKNOWN, false);
    }
    return true;
}

/* An over-long line with no newline yet: memcached keeps reading only when
 * it looks like a multi-get ("get " or "gets " after at most 100 spaces). */
static bool
long_line_tolerated(const char *buf, size_t len)
{
    size_t i = 0;

    while (i < len && buf[i] == ' ') {
        i++;
    }
    if (i > MM_TEXT_MAX_LEADING_SPACES) {
        return false;
    }
    return has_prefix(buf + i, len - i, "get ") || has_prefix(buf + i, len - i, "gets ");
}

/* The exact bytes memcached 1.6.18 sends for each parser error. */
static const char *const err_str[MM_REQ_ERR__COUNT] = {
    [MM_REQ_ERR_NONE] = "",
    [MM_REQ_ERR_UNKNOWN] = "ERROR\r\n",
    [MM_REQ_ERR_FORMAT] = "CLIENT_ERROR bad command line format\r\n",
    [MM_REQ_ERR_DELTA] = "CLIENT_ERROR invalid numeric delta argument\r\n",
    [MM_REQ_ERR_EXPTIME] = "CLIENT_ERROR invalid exptime argument\r\n",
    [MM_REQ_ERR_USAGE_DELETE] =
        "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n",
};

const char *
mm_text_err_str(enum mm_req_err err, size_t *len)
{
    const char *s = (unsigned)err < MM_REQ_ERR__COUNT ? err_str[err] : err_str[MM_REQ_ERR_UNKNOWN];

    *len = strlen(s);
    return s;
}

bool
mm_text_scan_u32(struct mm_span tok, uint32_t *out)
{
    return text_strtoul(tok, out);
}

enum mm_text_rc
mm_text_parse(const char *buf, size_t len, size_t max_line, struct mm_req *req, size_t *used)
{
    const char *nl;
    const char *nul;
    struct line l;

    *used = 0;
    nl = len > 0 ? memchr(buf, '\n', len) : NULL;
    if (nl == NULL) {
        if (len > max_line && !long_line_tolerated(buf, len)) {
            return MM_TEXT_CLOSE;
        }
        return MM_TEXT_AGAIN;
    }

    l.p = buf;
    l.len = (size_t)(nl - buf);
    /* "\r" is dropped only from a line of 2 bytes or more: "\r\n" alone is
     * the one-byte command "\r". */
    if (l.len > 1 && buf[l.len - 1] == '\r') {
        l.len--;
    }
    /* memcached works on a C string: a NUL ends the line early. */
    nul = memchr(buf, '\0', l.len);
    if (nul != NULL) {
        l.len = (size_t)(nul - buf);
    }

    memset(req, 0, sizeof(*req));
    req->key.p = buf;
    req->keys.p = buf;
    req->args.p = buf;
    tokenize(&l);
    if (!dispatch(&l, req)) {
        return MM_TEXT_CLOSE;
    }
    *used = (size_t)(nl - buf) + 1;
    return MM_TEXT_OK;
}
