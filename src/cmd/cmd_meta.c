/* Meta commands (mg ms md ma me) over the store, answered as memcached
 * 1.6.18 answers them: two-letter status codes, the return flags in the
 * order the client sent them, q hiding only the "nothing to report" code of
 * each command, and errors always sent. ms reuses the two-phase storage
 * path of cmd.c (mm_cmd_store_begin/end call in here). */
#include "config.h"

#include "cmd/cmd_int.h"
#include "mmem/clock.h"
#include "mmem/cmd.h"
#include "mmem/hash.h"
#include "mmem/item.h"
#include "mmem/meta.h"
#include "mmem/out.h"
#include "mmem/req.h"
#include "mmem/scan.h"
#include "mmem/settings.h"
#include "mmem/stats.h"
#include "mmem/store.h"

#include <stdio.h>
#include <string.h>

/* memcached's item header without the CAS field, for "me"'s size= field;
 * its smallest slab class is this plus -n, and chunk sizes are multiples of
 * 8. */
#define META_ME_ITEM_HDR 48u
#define META_ME_CHUNK_ALIGN 8u
#define META_MC_CLASSES 64u

static bool
has(const struct mm_req *req, char c)
{
    return (req->meta.seen & MM_META_FLAG(c)) != 0;
}

static void
out_err(struct mm_out *out, const char *err)
{
    mm_out_append(out, err, strlen(err));
}

static void
out_u64(struct mm_out *out, char letter, uint64_t v)
{
    char buf[MM_U64_MAXLEN + 2];
    size_t n;

    buf[0] = ' ';
    buf[1] = letter;
    n = mm_u64toa(v, buf + 2);
    mm_out_append(out, buf, n + 2);
}

static void
out_i64(struct mm_out *out, char letter, int64_t v)
{
    char buf[MM_I64_MAXLEN + 2];
    size_t n;

    buf[0] = ' ';
    buf[1] = letter;
    n = mm_i64toa(v, buf + 2);
    mm_out_append(out, buf, n + 2);
}

/* The key as the client sees it: base64 again when it was sent so. */
static void
out_key(struct mm_out *out, const struct mm_req *req, const char *key, size_t nkey)
{
    if (req->meta.binary_key) {
        char b64[MM_META_B64_LEN(MM_STORE_KEY_MAX)];
        size_t n = mm_meta_b64_encode(key, nkey, b64);

        mm_out_append(out, b64, n);
    } else {
        mm_out_append(out, key, nkey);
    }
}

/* "VA <n>": the status and the size of the data block that follows. */
static void
out_va(struct mm_out *out, uint64_t n)
{
    char buf[MM_U64_MAXLEN + 3] = "VA ";
    size_t len = mm_u64toa(n, buf + 3);

    mm_out_append(out, buf, len + 3);
}

static int64_t
ttl_left(const struct mm_cmd_ctx *ctx, mm_reltime_t exp)
{
    mm_reltime_t now = mm_clock_now(ctx->env->clock);

    if (exp == 0) {
        return -1;
    }
    return exp > now ? (int64_t)(exp - now) : 0;
}

/* Return flags. it may be NULL (a miss or failure): then only the flags that
 * echo the request are written. cas is the one to report for 'c'. */
static void
out_flags(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out,
          const struct mm_item *it, uint64_t cas, const char *allowed,
          const struct mm_store_mget *mg)
{
    const struct mm_req_meta *m = &req->meta;
    unsigned i;

    for (i = 0; i < m->norder; i++) {
        char c = m->order[i];

        if (strchr(allowed, c) == NULL) {
            continue;
        }
        switch (c) {
        case 'O':
            MM_OUT_LIT(out, " O");
            mm_out_append(out, m->opaque, m->nopaque);
            break;
        case 'k':
            MM_OUT_LIT(out, " k");
            if (it != NULL) {
                out_key(out, req, mm_item_key(it), mm_item_nkey(it));
            } else {
                struct mm_span key = mm_meta_key(req);

                out_key(out, req, key.p, key.len);
            }
            /* A base64 key is marked right after it. */
            if (m->binary_key) {
                MM_OUT_LIT(out, " b");
            }
            break;
        case 'c':
            out_u64(out, 'c', cas);
            break;
        case 'f':
            if (it != NULL) {
                out_u64(out, 'f', mm_item_flags(it));
            }
            break;
        case 's':
            if (it != NULL) {
                out_u64(out, 's', mm_item_vlen(it));
            }
            break;
        case 't':
            if (it != NULL) {
                out_i64(out, 't', ttl_left(ctx, mm_item_exptime(it)));
            }
            break;
        case 'l':
            /* l and h describe the item as it was before this request. */
            if (mg != NULL) {
                mm_reltime_t now = mm_clock_now(ctx->env->clock);
                mm_reltime_t at = mg->atime_before;

                out_u64(out, 'l', now > at ? now - at : 0);
            }
            break;
        case 'h':
            if (mg != NULL) {
                out_u64(out, 'h', mg->fetched_before ? 1 : 0);
            }
            break;
        default:
            break;
        }
    }
    /* Recache state comes last, in memcached's order. */
    if (mg != NULL) {
        if (mg->token_sent) {
            MM_OUT_LIT(out, " Z");
        }
        if (mg->stale) {
            MM_OUT_LIT(out, " X");
        }
        if (mg->won) {
            MM_OUT_LIT(out, " W");
        }
    }
}

static void
exec_mg(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out)
{
    struct mm_span key = mm_meta_key(req);
    struct mm_store *st = ctx->env->store;
    const struct mm_clock *clk = ctx->env->clock;
    enum mm_store_get_result why = MM_STORE_GET_MISS;
    struct mm_store_mget m;
    struct mm_item *it;

    memset(&m, 0, sizeof(m));
    m.touch = has(req, 'T');
    m.new_exp = m.touch ? mm_clock_exptime(clk, req->exptime) : 0;
    m.vivify = has(req, 'N');
    m.vivify_exp = m.vivify ? mm_clock_exptime(clk, req->meta.vivify) : 0;
    m.recache = has(req, 'R');
    m.recache_at = m.recache ? mm_clock_exptime(clk, req->meta.recache) : 0;
    m.no_bump = has(req, 'u');
    it = mm_store_mget(st, key.p, key.len, mm_hash(key.p, key.len), &m, &why);
    mm_cmd_watch_get(ctx, key, m.created ? NULL : it, why);
    /* memcached counts a hit with T as a touch, any miss as a get miss. */
    if (m.touch && it != NULL && !m.created) {
        MM_STAT_INCR(ctx->stats, cmd_touch);
        MM_STAT_INCR(ctx->stats, touch_hits);
    } else {
        MM_STAT_INCR(ctx->stats, cmd_get);
        if (it != NULL && !m.created) {
            MM_STAT_INCR(ctx->stats, get_hits);
        } else {
            MM_STAT_INCR(ctx->stats, get_misses);
        }
    }
    if (it == NULL) {
        if (why == MM_STORE_GET_EXPIRED) {
            MM_STAT_INCR(ctx->stats, get_expired);
        } else if (why == MM_STORE_GET_FLUSHED) {
            MM_STAT_INCR(ctx->stats, get_flushed);
        }
        if (!req->noreply) {
            MM_OUT_LIT(out, "EN");
            out_flags(ctx, req, out, NULL, 0, "Ok", NULL);
            MM_OUT_LIT(out, "\r\n");
        }
        return;
    }
    if (has(req, 'v')) {
        uint32_t vlen = mm_item_vlen(it);

        out_va(out, vlen);
        out_flags(ctx, req, out, it, mm_item_cas(it), "Okcfstlh", &m);
        MM_OUT_LIT(out, "\r\n");
        if (vlen > 0) {
            mm_out_ref(out, mm_item_cdata(it), vlen, it);
            it = NULL;
        }
        MM_OUT_LIT(out, "\r\n");
    } else {
        MM_OUT_LIT(out, "HD");
        out_flags(ctx, req, out, it, mm_item_cas(it), "Okcfstlh", &m);
        MM_OUT_LIT(out, "\r\n");
    }
    if (it != NULL) {
        mm_store_unref(st, it);
    }
}

static void
exec_md(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out)
{
    struct mm_span key = mm_meta_key(req);
    mm_hash_t h = mm_hash(key.p, key.len);
    enum mm_store_rc rc;

    /* I keeps the item as stale data (T then sets its expiry). */
    if (has(req, 'I')) {
        rc = mm_store_invalidate(ctx->env->store, key.p, key.len, h, req->cas, has(req, 'T'),
                                 mm_clock_exptime(ctx->env->clock, req->exptime));
    } else {
        rc = mm_store_delete(ctx->env->store, key.p, key.len, h, req->cas);
    }

    if (rc == MM_STORE_OK) {
        MM_STAT_INCR(ctx->stats, delete_hits);
        if (req->noreply) {
            return;
        }
        MM_OUT_LIT(out, "HD");
    } else if (rc == MM_STORE_EXISTS) {
        MM_OUT_LIT(out, "EX");
    } else {
        MM_STAT_INCR(ctx->stats, delete_misses);
        MM_OUT_LIT(out, "NF");
    }
    out_flags(ctx, req, out, NULL, 0, "Ok", NULL);
    MM_OUT_LIT(out, "\r\n");
}

/* ma on a miss with N: create the item holding J, as an add. */
static bool
ma_vivify(struct mm_cmd_ctx *ctx, const struct mm_req *req, uint64_t *cas)
{
    struct mm_span key = mm_meta_key(req);
    struct mm_store *st = ctx->env->store;
    mm_hash_t h = mm_hash(key.p, key.len);
    char num[MM_U64_MAXLEN];
    size_t n = mm_u64toa(req->meta.initial, num);
    enum mm_store_rc rc = MM_STORE_NOMEM;
    /* A T given with N wins over N's TTL for the new item, as memcached. */
    int32_t ttl = (req->meta.seen & MM_META_FLAG('T')) != 0 ? req->exptime : req->meta.vivify;
    mm_reltime_t exp = mm_clock_exptime(ctx->env->clock, ttl);
    struct mm_item *it;

    it = mm_store_reserve(st, key.p, key.len, h, 0, exp, (uint32_t)n, &rc);
    if (it == NULL) {
        return false;
    }
    memcpy(mm_item_data(it), num, n);
    return mm_store_commit(st, it, MM_STORE_ADD, 0, cas) == MM_STORE_OK;
}

static void
exec_ma(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out)
{
    struct mm_span key = mm_meta_key(req);
    struct mm_store *st = ctx->env->store;
    mm_hash_t h = mm_hash(key.p, key.len);
    char mode = req->meta.mode;
    bool incr = !(mode == 'D' || mode == '-');
    uint64_t value = 0;
    uint64_t cas = 0;
    struct mm_item *it;
    enum mm_store_rc rc;

    rc = mm_store_delta(st, key.p, key.len, h, incr, req->delta, req->cas, &value, &cas);
    switch (rc) {
    case MM_STORE_OK:
        if (incr) {
            MM_STAT_INCR(ctx->stats, incr_hits);
        } else {
            MM_STAT_INCR(ctx->stats, decr_hits);
        }
        if (has(req, 'T')) {
            mm_store_touch(st, key.p, key.len, h, mm_clock_exptime(ctx->env->clock, req->exptime));
        }
        if (req->noreply) {
            return;
        }
        break;
    case MM_STORE_NOT_FOUND:
        if (has(req, 'N')) {
            if (!ma_vivify(ctx, req, &cas)) {
                MM_OUT_LIT(out, "NS");
                out_flags(ctx, req, out, NULL, 0, "Ok", NULL);
                MM_OUT_LIT(out, "\r\n");
                return;
            }
            value = req->meta.initial;
            break;
        }
        if (incr) {
            MM_STAT_INCR(ctx->stats, incr_misses);
        } else {
            MM_STAT_INCR(ctx->stats, decr_misses);
        }
        MM_OUT_LIT(out, "NF");
        out_flags(ctx, req, out, NULL, 0, "Ok", NULL);
        MM_OUT_LIT(out, "\r\n");
        return;
    case MM_STORE_EXISTS:
        MM_OUT_LIT(out, "EX");
        out_flags(ctx, req, out, NULL, 0, "Ok", NULL);
        MM_OUT_LIT(out, "\r\n");
        return;
    case MM_STORE_NON_NUMERIC:
        MM_OUT_LIT(out, "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
        return;
    default:
        MM_OUT_LIT(out, "SERVER_ERROR out of memory\r\n");
        return;
    }
    /* The item for t (and the key): look it up again without touching. */
    it = mm_store_get(st, key.p, key.len, h, false, 0, NULL);
    if (has(req, 'v')) {
        char num[MM_U64_MAXLEN];
        size_t n = mm_u64toa(value, num);

        out_va(out, n);
        out_flags(ctx, req, out, it, cas, "Oktc", NULL);
        MM_OUT_LIT(out, "\r\n");
        mm_out_append(out, num, n);
        MM_OUT_LIT(out, "\r\n");
    } else {
        MM_OUT_LIT(out, "HD");
        out_flags(ctx, req, out, it, cas, "Oktc", NULL);
        MM_OUT_LIT(out, "\r\n");
    }
    if (it != NULL) {
        mm_store_unref(st, it);
    }
}

/* The slab class memcached gives an item of its size total: its class
 * table grows from header + -n by -f, 8-byte aligned, up to slab_chunk_max,
 * which is the last class and also holds (the head of) every larger item.
 * mmem's own classes differ, and "me" shows memcached's so that clients see
 * memcached's figures. */
static unsigned
mc_clsid(const struct mm_settings *s, size_t total)
{
    size_t size = META_ME_ITEM_HDR + (size_t)s->chunk_size;
    double top = (double)s->slab_chunk_size_max / s->factor;
    unsigned id = 1;

    for (; id < META_MC_CLASSES - 1 && (double)size < top; id++) {
        if (size % META_ME_CHUNK_ALIGN != 0) {
            size += META_ME_CHUNK_ALIGN - size % META_ME_CHUNK_ALIGN;
        }
        if (total <= size) {
            return id;
        }
        size = (size_t)((double)size * s->factor);
    }
    return id;
}

static void
exec_me(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out)
{
    struct mm_span key = mm_meta_key(req);
    struct mm_store *st = ctx->env->store;
    mm_reltime_t now = mm_clock_now(ctx->env->clock);
    struct mm_store_mget m;
    mm_reltime_t at;
    struct mm_item *it;
    size_t total;
    char line[160];
    int n;

    if (!ctx->env->settings->dump_enabled) {
        MM_OUT_LIT(out, "CLIENT_ERROR metadump not allowed\r\n");
        return;
    }
    /* A look that is not a fetch: memcached's "me" leaves the item's
     * fetched bit and last access as they were. */
    memset(&m, 0, sizeof(m));
    m.peek = true;
    it = mm_store_mget(st, key.p, key.len, mm_hash(key.p, key.len), &m, NULL);
    if (it == NULL) {
        MM_OUT_LIT(out, "EN\r\n");
        return;
    }
    at = m.atime_before;
    MM_OUT_LIT(out, "ME ");
    out_key(out, req, mm_item_key(it), mm_item_nkey(it));
    /* size= follows memcached's item arithmetic (header, key + NUL, client
     * flags when not 0, value + "\r\n", CAS) so clients see the numbers
     * memcached would give. */
    total = META_ME_ITEM_HDR + mm_item_nkey(it) + 1u + (mm_item_flags(it) != 0 ? 4u : 0u) +
            mm_item_vlen(it) + 2u + (mm_item_cas(it) != 0 ? 8u : 0u);
    n = snprintf(line, sizeof(line), " exp=%lld la=%llu cas=%llu fetch=%s cls=%u size=%llu\r\n",
                 (long long)ttl_left(ctx, mm_item_exptime(it)),
                 (unsigned long long)(now > at ? now - at : 0), (unsigned long long)mm_item_cas(it),
                 m.fetched_before ? "yes" : "no", mc_clsid(ctx->env->settings, total),
                 (unsigned long long)total);
    mm_out_append(out, line, (size_t)n);
    mm_store_unref(st, it);
}

enum mm_cmd_rc
mm_cmd_meta_exec(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out)
{
    /* Of the meta commands memcached 1.6.18 counts only "me" in cmd_meta
     * (in meta_cmds); the others count as the classic commands they stand
     * for, and errors count nothing. */
    if (req->type == MM_REQ_ME) {
        MM_STAT_INCR(ctx->stats, cmd_meta);
    }
    if (req->meta.err != NULL) {
        out_err(out, req->meta.err);
        return MM_CMD_OK;
    }
    switch (req->type) {
    case MM_REQ_MG:
        exec_mg(ctx, req, out);
        break;
    case MM_REQ_MD:
        exec_md(ctx, req, out);
        break;
    case MM_REQ_MA:
        exec_ma(ctx, req, out);
        break;
    case MM_REQ_ME:
        exec_me(ctx, req, out);
        break;
    default:
        MM_OUT_LIT(out, "ERROR\r\n");
        break;
    }
    return MM_CMD_OK;
}

static enum mm_store_mode
ms_mode(const struct mm_req *req)
{
    switch (req->meta.mode) {
    case 'E':
        /* add ignores C, as memcached */
        return MM_STORE_ADD;
    case 'A':
        /* append/prepend check a given C themselves (cas_in) */
        return MM_STORE_APPEND;
    case 'P':
        return MM_STORE_PREPEND;
    case 'R':
        /* memcached turns replace and set into cas when C is given */
        if (!has(req, 'C')) {
            return MM_STORE_REPLACE;
        }
        break;
    default:
        if (!has(req, 'C')) {
            return MM_STORE_SET;
        }
        break;
    }
    return has(req, 'I') ? MM_STORE_CAS_STALE : MM_STORE_CAS;
}

enum mm_cmd_rc
mm_cmd_meta_store_begin(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out,
                        struct mm_item **it, char **dst)
{
    struct mm_span key = mm_meta_key(req);
    struct mm_store *st = ctx->env->store;
    mm_hash_t h;
    enum mm_store_rc rc = MM_STORE_NOMEM;

    *it = NULL;
    *dst = NULL;
    if (req->meta.err != NULL) {
        out_err(out, req->meta.err);
        return MM_CMD_STORE_SWALLOW;
    }
    h = mm_hash(key.p, key.len);
    *it = mm_store_reserve(st, key.p, key.len, h, req->flags,
                           mm_clock_exptime(ctx->env->clock, req->exptime), req->vlen, &rc);
    if (*it != NULL) {
        *dst = mm_item_data(*it);
        return MM_CMD_STORE_READ;
    }
    if (rc == MM_STORE_TOO_LARGE) {
        MM_OUT_LIT(out, "SERVER_ERROR object too large for cache\r\n");
    } else {
        MM_OUT_LIT(out, "SERVER_ERROR out of memory storing object\r\n");
    }
    /* As memcached: a failed ms never leaves the old value readable,
     * whatever the mode. */
    mm_store_delete(st, key.p, key.len, h, 0);
    return MM_CMD_STORE_SWALLOW;
}

void
mm_cmd_meta_store_end(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_item *it,
                      bool value_ok, struct mm_out *out)
{
    enum mm_store_mode mode = ms_mode(req);
    char key[MM_STORE_KEY_MAX];
    size_t nkey = mm_item_nkey(it);
    uint64_t cas = 0;
    struct mm_req echo;
    struct mm_cmd_watch_item watched;
    enum mm_store_rc rc;

    MM_STAT_INCR(ctx->stats, cmd_set);
    if (!value_ok) {
        mm_store_abort(ctx->env->store, it);
        MM_OUT_LIT(out, "CLIENT_ERROR bad data chunk\r\n");
        return;
    }
    /* The reply may name the key, and commit gives the item away. */
    memcpy(key, mm_item_key(it), nkey);
    mm_cmd_watch_store_prep(ctx, it, &watched);
    rc = mm_store_commit(ctx->env->store, it, mode, req->cas, &cas);
    mm_cmd_watch_store(ctx, &watched, mode, rc);
    if (mode == MM_STORE_CAS || mode == MM_STORE_CAS_STALE) {
        if (rc == MM_STORE_OK) {
            MM_STAT_INCR(ctx->stats, cas_hits);
        } else if (rc == MM_STORE_EXISTS) {
            MM_STAT_INCR(ctx->stats, cas_badval);
        } else if (rc == MM_STORE_NOT_FOUND) {
            MM_STAT_INCR(ctx->stats, cas_misses);
        }
    }
    switch (rc) {
    case MM_STORE_OK:
        if (req->noreply) {
            return;
        }
        MM_OUT_LIT(out, "HD");
        break;
    case MM_STORE_EXISTS:
        MM_OUT_LIT(out, "EX");
        cas = 0;
        break;
    case MM_STORE_NOT_FOUND:
        MM_OUT_LIT(out, "NF");
        cas = 0;
        break;
    case MM_STORE_NOT_STORED:
        MM_OUT_LIT(out, "NS");
        cas = 0;
        break;
    case MM_STORE_TOO_LARGE:
        MM_OUT_LIT(out, "SERVER_ERROR object too large for cache\r\n");
        return;
    default:
        MM_OUT_LIT(out, "SERVER_ERROR out of memory storing object\r\n");
        return;
    }
    /* req's key span may dangle by now: echo the copy. */
    echo = *req;
    echo.key.p = key;
    echo.key.len = nkey;
    echo.meta.binary_key = req->meta.binary_key;
    out_flags(ctx, &echo, out, NULL, cas, "Okc", NULL);
    MM_OUT_LIT(out, "\r\n");
}
