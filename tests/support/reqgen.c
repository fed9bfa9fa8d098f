/* Test-only composer for text requests: turns a struct mm_req back into
 * wire bytes (round-trip tests, corpus generation) and draws random valid
 * requests. It writes what a well-behaved client would send. */
#include "config.h"

#include "tests/support/reqgen.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct wbuf {
    char *p;
    size_t len, cap;
    bool full;
};

static void
put(struct wbuf *w, const char *s, size_t n)
{
    if (w->full || w->cap - w->len < n) {
        w->full = true;
        return;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

static void
puts_(struct wbuf *w, const char *s)
{
    put(w, s, strlen(s));
}

static void
putf(struct wbuf *w, const char *fmt, unsigned long long v, bool is_signed)
{
    char tmp[32];
    int n;

    if (is_signed) {
        n = snprintf(tmp, sizeof(tmp), " %lld", (long long)v);
    } else {
        n = snprintf(tmp, sizeof(tmp), fmt, v);
    }
    put(w, tmp, (size_t)n);
}

static void
put_span(struct wbuf *w, struct mm_span s)
{
    put(w, " ", 1);
    put(w, s.p, s.len);
}

size_t
mm_reqgen_line(const struct mm_req *req, char *buf, size_t cap)
{
    struct wbuf w = {buf, 0, cap, false};
    const char *name = mm_req_type_name(req->type);

    switch (req->type) {
    case MM_REQ_NONE:
    case MM_REQ_ERROR:
    case MM_REQ__COUNT:
        return 0;
    default:
        break;
    }
    puts_(&w, name);
    switch (req->type) {
    case MM_REQ_GAT:
    case MM_REQ_GATS:
        putf(&w, NULL, (unsigned long long)(long long)req->exptime, true);
        /* fall through */
    case MM_REQ_GET:
    case MM_REQ_GETS:
        if (req->keys.len > 0) {
            put_span(&w, req->keys);
        }
        break;
    case MM_REQ_SET:
    case MM_REQ_ADD:
    case MM_REQ_REPLACE:
    case MM_REQ_APPEND:
    case MM_REQ_PREPEND:
    case MM_REQ_CAS:
        put_span(&w, req->key);
        putf(&w, " %llu", req->flags, false);
        putf(&w, NULL, (unsigned long long)(long long)req->exptime, true);
        putf(&w, " %llu", req->vlen, false);
        if (req->type == MM_REQ_CAS) {
            putf(&w, " %llu", req->cas, false);
        }
        break;
    case MM_REQ_DELETE:
        put_span(&w, req->key);
        break;
    case MM_REQ_INCR:
    case MM_REQ_DECR:
        put_span(&w, req->key);
        putf(&w, " %llu", req->delta, false);
        break;
    case MM_REQ_TOUCH:
        put_span(&w, req->key);
        putf(&w, NULL, (unsigned long long)(long long)req->exptime, true);
        break;
    case MM_REQ_FLUSH_ALL:
        if (req->has_arg) {
            putf(&w, NULL, (unsigned long long)req->num, true);
        }
        break;
    case MM_REQ_VERBOSITY:
    case MM_REQ_CACHE_MEMLIMIT:
        putf(&w, " %llu", (unsigned long long)req->num, false);
        break;
    case MM_REQ_STATS:
        if (req->args.len > 0) {
            put_span(&w, req->args);
        }
        break;
    case MM_REQ_SHUTDOWN:
        if (req->num == MM_REQ_SHUTDOWN_GRACEFUL) {
            puts_(&w, " graceful");
        }
        break;
    default:
        break;
    }
    if (req->noreply) {
        puts_(&w, " noreply");
    }
    puts_(&w, "\r\n");
    return w.full ? 0 : w.len;
}

static uint64_t
next(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

/* A key of 1..250 printable bytes (no space, no control characters). */
static struct mm_span
rand_key(uint64_t *seed, char *p)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789_-:.!ABCXYZ";
    size_t n = 1 + (size_t)(next(seed) % (next(seed) % 4 == 0 ? 250 : 12));
    struct mm_span s = {p, n};
    size_t i;

    for (i = 0; i < n; i++) {
        p[i] = alphabet[next(seed) % (sizeof(alphabet) - 1)];
    }
    return s;
}

void
mm_reqgen_random(struct mm_req *req, uint64_t *seed, char *keybuf, size_t keycap)
{
    static const enum mm_req_type types[] = {
        MM_REQ_GET,     MM_REQ_GETS,      MM_REQ_GAT,    MM_REQ_GATS,    MM_REQ_SET,
        MM_REQ_ADD,     MM_REQ_REPLACE,   MM_REQ_APPEND, MM_REQ_PREPEND, MM_REQ_CAS,
        MM_REQ_DELETE,  MM_REQ_INCR,      MM_REQ_DECR,   MM_REQ_TOUCH,   MM_REQ_FLUSH_ALL,
        MM_REQ_VERSION, MM_REQ_VERBOSITY, MM_REQ_QUIT,   MM_REQ_STATS,   MM_REQ_CACHE_MEMLIMIT,
    };
    enum mm_req_type t = types[next(seed) % (sizeof(types) / sizeof(types[0]))];
    bool can_noreply = false;

    (void)keycap;
    memset(req, 0, sizeof(*req));
    req->type = t;
    req->key.p = keybuf;
    req->keys.p = keybuf;
    req->args.p = keybuf;
    switch (t) {
    case MM_REQ_GAT:
    case MM_REQ_GATS:
        req->exptime = (int32_t)(uint32_t)next(seed);
        /* fall through */
    case MM_REQ_GET:
    case MM_REQ_GETS: {
        size_t nkeys = 1 + next(seed) % 3;
        size_t i, off = 0;

        for (i = 0; i < nkeys; i++) {
            struct mm_span k = rand_key(seed, keybuf + off);

            off += k.len;
            if (i + 1 < nkeys) {
                keybuf[off++] = ' ';
            }
        }
        req->keys.len = off;
        break;
    }
    case MM_REQ_CAS:
        req->cas = next(seed);
        /* fall through */
    case MM_REQ_SET:
    case MM_REQ_ADD:
    case MM_REQ_REPLACE:
    case MM_REQ_APPEND:
    case MM_REQ_PREPEND:
        req->key = rand_key(seed, keybuf);
        req->flags = (uint32_t)next(seed);
        req->exptime = (int32_t)(uint32_t)next(seed);
        req->vlen = (uint32_t)(next(seed) % 5000);
        can_noreply = true;
        break;
    case MM_REQ_DELETE:
        req->key = rand_key(seed, keybuf);
        can_noreply = true;
        break;
    case MM_REQ_INCR:
    case MM_REQ_DECR:
        req->key = rand_key(seed, keybuf);
        req->delta = next(seed);
        can_noreply = true;
        break;
    case MM_REQ_TOUCH:
        req->key = rand_key(seed, keybuf);
        req->exptime = (int32_t)(uint32_t)next(seed);
        can_noreply = true;
        break;
    case MM_REQ_FLUSH_ALL:
        req->has_arg = next(seed) % 2 == 0;
        req->num = req->has_arg ? (int32_t)(uint32_t)next(seed) : 0;
        can_noreply = true;
        break;
    case MM_REQ_VERBOSITY:
        req->num = (uint32_t)next(seed);
        can_noreply = true;
        break;
    case MM_REQ_CACHE_MEMLIMIT:
        req->num = (uint32_t)next(seed);
        can_noreply = true;
        break;
    case MM_REQ_STATS: {
        static const char *const groups[] = {"",      "items", "slabs", "settings",
                                             "sizes", "conns", "reset", "detail dump"};
        const char *g = groups[next(seed) % (sizeof(groups) / sizeof(groups[0]))];

        req->args.len = strlen(g);
        memcpy(keybuf, g, req->args.len);
        break;
    }
    default:
        break;
    }
    if (can_noreply) {
        req->noreply = next(seed) % 3 == 0;
    }
}
