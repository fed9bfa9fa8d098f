/* Command semantics for the binary protocol: the same store calls and stats
 * counting as cmd.c, answered with binary responses (status codes, opaque
 * and CAS echoed, quiet opcodes silent on success). "stat" reuses the text
 * stats code and re-frames its lines, so both protocols report the same
 * figures in the same order. */
#include "config.h"

#include "mmem/cmd_binary.h"

#include "cmd/cmd_int.h"
#include "mmem/alloc.h"
#include "mmem/hash.h"
#include "mmem/item.h"
#include "mmem/out.h"
#include "mmem/protocol_binary.h"
#include "mmem/req.h"
#include "mmem/settings.h"
#include "mmem/stats.h"
#include "mmem/store.h"

#include <stdio.h>
#include <string.h>

static void
bin_err(const struct mm_bin_req *b, struct mm_out *out, enum mm_bin_status st)
{
    mm_bin_error(out, b->hdr.opcode, b->hdr.opaque, st);
}

/* A bodiless success (unless quiet). */
static void
bin_ok(const struct mm_bin_req *b, struct mm_out *out, uint64_t cas)
{
    if (!b->quiet) {
        mm_bin_response(out, b->hdr.opcode, MM_BIN_ST_OK, b->hdr.opaque, cas, NULL, 0, NULL, 0, 0);
    }
}

static void
exec_get(struct mm_cmd_ctx *ctx, const struct mm_bin_req *b, struct mm_out *out)
{
    const struct mm_req *req = &b->req;
    bool touch = req->type == MM_REQ_GAT || req->type == MM_REQ_TOUCH;
    mm_reltime_t exp = touch ? mm_cmd_rel_exptime(ctx, req->exptime) : 0;
    enum mm_store_get_result why = MM_STORE_GET_MISS;
    struct mm_item *it;
    unsigned char flags[4];
    uint32_t f, vlen;

    it = mm_store_get(ctx->env->store, req->key.p, req->key.len, mm_hash(req->key.p, req->key.len),
                      touch, exp, &why);
    mm_cmd_count_get(ctx->stats, touch, it != NULL, why);
    mm_cmd_count_prefix(ctx, req->key, it != NULL ? MM_PREFIX_HIT : MM_PREFIX_GET);
    mm_cmd_watch_get(ctx, req->key, it, why);
    if (it == NULL) {
        if (b->quiet) {
            return;
        }
        if (b->with_key) {
            /* GETK/GATK misses carry the key and no message. */
            mm_bin_response(out, b->hdr.opcode, MM_BIN_ST_KEY_ENOENT, b->hdr.opaque, 0, NULL, 0,
                            req->key.p, (uint16_t)req->key.len, 0);
        } else {
            bin_err(b, out, MM_BIN_ST_KEY_ENOENT);
        }
        return;
    }
    f = mm_item_flags(it);
    flags[0] = (unsigned char)(f >> 24);
    flags[1] = (unsigned char)(f >> 16);
    flags[2] = (unsigned char)(f >> 8);
    flags[3] = (unsigned char)f;
    /* TOUCH answers flags and CAS only; the value stays home. */
    vlen = req->type == MM_REQ_TOUCH ? 0 : mm_item_vlen(it);
    mm_bin_response(out, b->hdr.opcode, MM_BIN_ST_OK, b->hdr.opaque, mm_item_cas(it), flags,
                    sizeof(flags), b->with_key ? mm_item_key(it) : NULL,
                    b->with_key ? mm_item_nkey(it) : 0, vlen);
    if (vlen > 0) {
        mm_out_ref(out, mm_item_cdata(it), vlen, it);
    } else {
        mm_store_unref(ctx->env->store, it);
    }
}

static void
exec_delete(struct mm_cmd_ctx *ctx, const struct mm_bin_req *b, struct mm_out *out)
{
    const struct mm_req *req = &b->req;
    enum mm_store_rc rc;

    mm_cmd_count_prefix(ctx, req->key, MM_PREFIX_DELETE);
    rc = mm_store_delete(ctx->env->store, req->key.p, req->key.len,
                         mm_hash(req->key.p, req->key.len), req->cas);
    if (rc == MM_STORE_OK) {
        MM_STAT_INCR(ctx->stats, delete_hits);
        bin_ok(b, out, 0);
    } else if (rc == MM_STORE_EXISTS) {
        bin_err(b, out, MM_BIN_ST_KEY_EEXISTS);
    } else {
        MM_STAT_INCR(ctx->stats, delete_misses);
        bin_err(b, out, MM_BIN_ST_KEY_ENOENT);
    }
}

/* incr/decr on a missing key: store the initial value as a new item. */
static enum mm_store_rc
delta_create(struct mm_cmd_ctx *ctx, const struct mm_bin_req *b, uint64_t *cas_out)
{
    const struct mm_req *req = &b->req;
    struct mm_store *st = ctx->env->store;
    enum mm_store_rc rc = MM_STORE_NOMEM;
    struct mm_item *it;
    char num[24];
    int n = snprintf(num, sizeof(num), "%llu", (unsigned long long)b->initial);

    it = mm_store_reserve(st, req->key.p, req->key.len, mm_hash(req->key.p, req->key.len), 0,
                          mm_cmd_rel_exptime(ctx, (int64_t)b->delta_exptime), (uint32_t)n, &rc);
    if (it == NULL) {
        return rc;
    }
    memcpy(mm_item_data(it), num, (size_t)n);
    return mm_store_commit(st, it, MM_STORE_ADD, 0, cas_out);
}

static void
exec_delta(struct mm_cmd_ctx *ctx, const struct mm_bin_req *b, struct mm_out *out)
{
    const struct mm_req *req = &b->req;
    bool incr = req->type == MM_REQ_INCR;
    uint64_t value = 0;
    uint64_t cas = 0;
    unsigned char body[8];
    enum mm_store_rc rc;
    int tries;

    /* A lost race with another creator is retried once as a delta. */
    for (tries = 0; tries < 2; tries++) {
        rc = mm_store_delta(ctx->env->store, req->key.p, req->key.len,
                            mm_hash(req->key.p, req->key.len), incr, req->delta, req->cas, &value,
                            &cas);
        if (rc != MM_STORE_NOT_FOUND) {
            break;
        }
        if (tries == 0) {
            if (incr) {
                MM_STAT_INCR(ctx->stats, incr_misses);
            } else {
                MM_STAT_INCR(ctx->stats, decr_misses);
            }
        }
        if (b->delta_exptime == MM_BIN_DELTA_NO_CREATE) {
            break;
        }
        rc = delta_create(ctx, b, &cas);
        if (rc == MM_STORE_OK) {
            value = b->initial;
            break;
        }
        if (rc != MM_STORE_NOT_STORED) {
            break;
        }
    }
    switch (rc) {
    case MM_STORE_OK:
        if (b->quiet) {
            break;
        }
        for (int i = 0; i < 8; i++) {
            body[i] = (unsigned char)(value >> (56 - 8 * i));
        }
        mm_bin_response(out, b->hdr.opcode, MM_BIN_ST_OK, b->hdr.opaque, cas, NULL, 0, NULL, 0,
                        sizeof(body));
        mm_out_append(out, body, sizeof(body));
        break;
    case MM_STORE_NOT_FOUND:
    case MM_STORE_NOT_STORED:
        bin_err(b, out, MM_BIN_ST_KEY_ENOENT);
        break;
    case MM_STORE_EXISTS:
        bin_err(b, out, MM_BIN_ST_KEY_EEXISTS);
        break;
    case MM_STORE_NON_NUMERIC:
        bin_err(b, out, MM_BIN_ST_DELTA_BADVAL);
        break;
    case MM_STORE_TOO_LARGE:
        bin_err(b, out, MM_BIN_ST_E2BIG);
        break;
    default:
        bin_err(b, out, MM_BIN_ST_ENOMEM);
        break;
    }
}

static void
exec_flush(struct mm_cmd_ctx *ctx, const struct mm_bin_req *b, struct mm_out *out)
{
    const struct mm_cmd_env *env = ctx->env;
    mm_reltime_t when;

    MM_STAT_INCR(ctx->stats, cmd_flush);
    if (!env->settings->flush_enabled) {
        bin_err(b, out, MM_BIN_ST_AUTH_ERROR);
        return;
    }
    if (b->req.num > 0) {
        when = mm_cmd_rel_exptime(ctx, b->req.num);
    } else {
        when = mm_clock_now(env->clock);
    }
    mm_store_flush(env->store, when);
    bin_ok(b, out, 0);
}

static void
exec_version(struct mm_cmd_ctx *ctx, const struct mm_bin_req *b, struct mm_out *out)
{
    const char *v = mm_cmd_version(ctx->env);
    size_t n = strlen(v);

    mm_bin_response(out, b->hdr.opcode, MM_BIN_ST_OK, b->hdr.opaque, 0, NULL, 0, NULL, 0,
                    (uint32_t)n);
    mm_out_append(out, v, n);
}

/* One "name value" stat as its own response packet. */
static void
stat_packet(const struct mm_bin_req *b, struct mm_out *out, const char *name, size_t nname,
            const char *value, size_t nvalue)
{
    if (nname > UINT16_MAX) {
        nname = UINT16_MAX;
    }
    mm_bin_response(out, b->hdr.opcode, MM_BIN_ST_OK, b->hdr.opaque, 0, NULL, 0, name,
                    (uint16_t)nname, (uint32_t)nvalue);
    if (nvalue > 0) {
        mm_out_append(out, value, nvalue);
    }
}

/* Re-frame the text stats lines in [p, p + n): "STAT <name> <value>" lines
 * become packets and "END" (or "RESET"/"OK") the empty terminator; any
 * other line means the group is unknown. Returns false for that case. */
static bool
stats_reframe(const struct mm_bin_req *b, struct mm_out *out, const char *p, size_t n)
{
    struct mm_out_mark mark;
    size_t pos = 0;

    mm_out_mark(out, &mark);
    while (pos < n) {
        const char *line = p + pos;
        const char *nl = memchr(line, '\n', n - pos);
        size_t len = nl != NULL ? (size_t)(nl - line) : n - pos;

        pos += len + 1;
        if (len > 0 && line[len - 1] == '\r') {
            len--;
        }
        if (len > 5 && memcmp(line, "STAT ", 5) == 0) {
            const char *name = line + 5;
            const char *sp = memchr(name, ' ', len - 5);
            size_t nname = sp != NULL ? (size_t)(sp - name) : len - 5;
            const char *value = sp != NULL ? sp + 1 : line + len;

            stat_packet(b, out, name, nname, value, (size_t)(line + len - value));
        } else if ((len == 3 && memcmp(line, "END", 3) == 0) ||
                   (len == 5 && memcmp(line, "RESET", 5) == 0) ||
                   (len == 2 && memcmp(line, "OK", 2) == 0)) {
            stat_packet(b, out, NULL, 0, NULL, 0);
            return true;
        } else {
            mm_out_rollback(out, &mark);
            return false;
        }
    }
    mm_out_rollback(out, &mark);
    return false;
}

static void
exec_stat(struct mm_cmd_ctx *ctx, const struct mm_bin_req *b, struct mm_out *out)
{
    struct mm_out tmp;
    struct iovec *iov = NULL;
    size_t total, off = 0;
    char *flat;
    int cnt, i;

    /* memcached serves no connection list over the binary protocol. */
    if (b->req.args.len == 5 && memcmp(b->req.args.p, "conns", 5) == 0) {
        bin_err(b, out, MM_BIN_ST_KEY_ENOENT);
        return;
    }
    mm_out_init(&tmp, mm_cmd_item_release, ctx->env->store);
    mm_cmd_stats(ctx, &b->req, &tmp);
    total = mm_out_pending(&tmp);
    flat = mm_malloc(total + 1);
    cnt = mm_out_iov(&tmp, &iov, INT32_MAX);
    for (i = 0; i < cnt && off < total; i++) {
        memcpy(flat + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    mm_out_fini(&tmp);
    if (b->req.args.len == 11 && memcmp(b->req.args.p, "detail dump", 11) == 0) {
        /* memcached sends the whole text dump as one stat, "detailed". */
        stat_packet(b, out, "detailed", 8, flat, off);
        stat_packet(b, out, NULL, 0, NULL, 0);
    } else if (!stats_reframe(b, out, flat, off)) {
        bin_err(b, out, MM_BIN_ST_KEY_ENOENT);
    }
    mm_free(flat);
}

enum mm_cmd_rc
mm_cmd_bin_exec(struct mm_cmd_ctx *ctx, const struct mm_bin_req *breq, struct mm_out *out)
{
    switch (breq->req.type) {
    case MM_REQ_ERROR:
        bin_err(breq, out, breq->err);
        return breq->close_after ? MM_CMD_CLOSE : MM_CMD_OK;
    case MM_REQ_GET:
    case MM_REQ_GAT:
    case MM_REQ_TOUCH:
        exec_get(ctx, breq, out);
        break;
    case MM_REQ_DELETE:
        exec_delete(ctx, breq, out);
        break;
    case MM_REQ_INCR:
    case MM_REQ_DECR:
        exec_delta(ctx, breq, out);
        break;
    case MM_REQ_FLUSH_ALL:
        exec_flush(ctx, breq, out);
        break;
    case MM_REQ_VERSION:
        exec_version(ctx, breq, out);
        break;
    case MM_REQ_MN:
        bin_ok(breq, out, 0);
        break;
    case MM_REQ_QUIT:
        bin_ok(breq, out, 0);
        return MM_CMD_CLOSE;
    case MM_REQ_STATS:
        exec_stat(ctx, breq, out);
        break;
    default:
        bin_err(breq, out, MM_BIN_ST_UNKNOWN_COMMAND);
        break;
    }
    return MM_CMD_OK;
}

enum mm_cmd_rc
mm_cmd_bin_store_begin(struct mm_cmd_ctx *ctx, const struct mm_bin_req *breq, struct mm_out *out,
                       struct mm_item **it, char **dst)
{
    const struct mm_req *req = &breq->req;
    struct mm_store *st = ctx->env->store;
    mm_hash_t h = mm_hash(req->key.p, req->key.len);
    enum mm_store_rc rc = MM_STORE_NOMEM;

    mm_cmd_count_prefix(ctx, req->key, MM_PREFIX_SET);
    *it = mm_store_reserve(st, req->key.p, req->key.len, h, req->flags,
                           mm_cmd_rel_exptime(ctx, req->exptime), req->vlen, &rc);
    if (*it != NULL) {
        *dst = mm_item_data(*it);
        return MM_CMD_STORE_READ;
    }
    *dst = NULL;
    bin_err(breq, out, rc == MM_STORE_TOO_LARGE ? MM_BIN_ST_E2BIG : MM_BIN_ST_ENOMEM);
    /* As in text: a set that cannot be stored must not leave the old value
     * readable. */
    if (req->type == MM_REQ_SET) {
        mm_store_delete(st, req->key.p, req->key.len, h, 0);
    }
    return MM_CMD_STORE_SWALLOW;
}

void
mm_cmd_bin_store_end(struct mm_cmd_ctx *ctx, const struct mm_bin_req *breq, struct mm_item *it,
                     struct mm_out *out)
{
    const struct mm_req *req = &breq->req;
    enum mm_store_mode mode = mm_cmd_store_mode(req->type);
    bool is_cas = false;
    uint64_t cas = 0;
    struct mm_cmd_watch_item watched;
    enum mm_store_rc rc;

    /* memcached turns set/add/replace with a CAS into a compare-and-swap;
     * append/prepend check the CAS themselves. */
    if (req->cas != 0 &&
        (mode == MM_STORE_SET || mode == MM_STORE_ADD || mode == MM_STORE_REPLACE)) {
        mode = MM_STORE_CAS;
        is_cas = true;
    }
    MM_STAT_INCR(ctx->stats, cmd_set);
    mm_cmd_watch_store_prep(ctx, it, &watched);
    rc = mm_store_commit(ctx->env->store, it, mode, req->cas, &cas);
    mm_cmd_watch_store(ctx, &watched, mode, rc);
    switch (rc) {
    case MM_STORE_OK:
        if (is_cas) {
            MM_STAT_INCR(ctx->stats, cas_hits);
        }
        bin_ok(breq, out, cas);
        break;
    case MM_STORE_EXISTS:
        if (is_cas) {
            MM_STAT_INCR(ctx->stats, cas_badval);
        }
        bin_err(breq, out, MM_BIN_ST_KEY_EEXISTS);
        break;
    case MM_STORE_NOT_FOUND:
        if (is_cas) {
            MM_STAT_INCR(ctx->stats, cas_misses);
        }
        bin_err(breq, out, MM_BIN_ST_KEY_ENOENT);
        break;
    case MM_STORE_NOT_STORED:
        /* memcached words a refused add as "exists" and a replace of a
         * missing key as "not found"; append/prepend say "not stored". */
        if (mode == MM_STORE_ADD) {
            bin_err(breq, out, MM_BIN_ST_KEY_EEXISTS);
        } else if (mode == MM_STORE_REPLACE) {
            bin_err(breq, out, MM_BIN_ST_KEY_ENOENT);
        } else {
            bin_err(breq, out, MM_BIN_ST_NOT_STORED);
        }
        break;
    case MM_STORE_TOO_LARGE:
        bin_err(breq, out, MM_BIN_ST_E2BIG);
        break;
    default:
        bin_err(breq, out, MM_BIN_ST_ENOMEM);
        break;
    }
}
