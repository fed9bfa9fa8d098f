/* Command semantics for the text protocol: turns a parsed request into store
 * calls, counts them into the worker's stats block and composes memcached's
 * replies into an mm_out. No socket, no parsing of wire bytes (proto/ did
 * that) and no storage rules (store/ owns CAS, expiry and delta). "stats"
 * lives in cmd_stats.c. */
#include "config.h"

#include "mmem/cmd.h"

#include "cmd/cmd_int.h"
#include "mmem/clock.h"
#include "mmem/hash.h"
#include "mmem/item.h"
#include "mmem/log.h"
#include "mmem/out.h"
#include "mmem/prefix.h"
#include "mmem/req.h"
#include "mmem/resp_limit.h"
#include "mmem/settings.h"
#include "mmem/stats.h"
#include "mmem/store.h"
#include "mmem/text.h"

#include <string.h>

/* memcached caps "verbosity" here. */
#define CMD_MAX_VERBOSITY 2

/* cache_memlimit bounds, in megabytes, as memcached. */
#define CMD_MEMLIMIT_MIN_MB 8
#define CMD_MEMLIMIT_MAX_MB 1000000000

void
mm_cmd_item_release(void *store, void *item)
{
    mm_store_unref(store, item);
}

const char *
mm_cmd_version(const struct mm_cmd_env *env)
{
    return env->version != NULL ? env->version : PACKAGE_VERSION;
}

mm_reltime_t
mm_cmd_rel_exptime(const struct mm_cmd_ctx *ctx, int64_t exptime)
{
    return mm_clock_exptime(ctx->env->clock, exptime);
}

/* One hit: the header as scratch bytes, the value by reference (the item
 * reference from the store moves into the mm_out), then the trailer. */
static void
reply_value(struct mm_cmd_ctx *ctx, struct mm_out *out, struct mm_item *it, bool with_cas)
{
    uint32_t vlen = mm_item_vlen(it);

    mm_text_value_header(out, mm_item_key(it), mm_item_nkey(it), mm_item_flags(it), vlen, with_cas,
                         mm_item_cas(it));
    if (vlen > 0) {
        mm_out_ref(out, mm_item_cdata(it), vlen, it);
    } else {
        mm_store_unref(ctx->env->store, it);
    }
    MM_OUT_LIT(out, "\r\n");
}

void
mm_cmd_count_get(struct mm_stats *st, bool touch, bool hit, enum mm_store_get_result why)
{
    /* memcached 1.6 counts gat/gats as touches only, not as gets. */
    if (touch) {
        MM_STAT_INCR(st, cmd_touch);
        if (hit) {
            MM_STAT_INCR(st, touch_hits);
        } else {
            MM_STAT_INCR(st, touch_misses);
        }
    } else {
        MM_STAT_INCR(st, cmd_get);
        if (hit) {
            MM_STAT_INCR(st, get_hits);
        } else {
            MM_STAT_INCR(st, get_misses);
        }
    }
    if (!hit && why == MM_STORE_GET_EXPIRED) {
        MM_STAT_INCR(st, get_expired);
    } else if (!hit && why == MM_STORE_GET_FLUSHED) {
        MM_STAT_INCR(st, get_flushed);
    }
}

void
mm_cmd_count_prefix(struct mm_cmd_ctx *ctx, struct mm_span key, enum mm_prefix_op op)
{
    if (ctx->env->prefix != NULL) {
        mm_prefix_record(ctx->env->prefix, key.p, key.len, op);
    }
}

/* A too-long key in a get: memcached then throws away every reply of the
 * connection that has not been sent yet (earlier pipelined ones included)
 * and answers only the error; the counts already made stay. When part of
 * a reply is already on the wire, only this get's own replies go. */
static void
drop_unsent(struct mm_out *out, const struct mm_out_mark *get_mark)
{
    if (!mm_out_discard_unwritten(out)) {
        mm_out_rollback(out, get_mark);
    }
}

/* Under -o read_buf_mem_limit each key after the first of a get needs one
 * more of memcached's response objects. Without one, memcached drops every
 * unsent reply of the connection and answers only an error (the keys
 * before stay counted); the error reuses the objects given back. */
static bool
get_key_resp(struct mm_cmd_ctx *ctx, struct mm_out *out, const struct mm_out_mark *mark)
{
    if (ctx->resp_limit == NULL || ctx->resps_held == NULL || *ctx->resps_held == UINT16_MAX) {
        return true;
    }
    if (mm_resp_limit_take(ctx->resp_limit)) {
        (*ctx->resps_held)++;
        return true;
    }
    MM_STAT_INCR(ctx->stats, response_obj_oom);
    drop_unsent(out, mark);
    if (mm_out_pending(out) == 0) {
        mm_resp_limit_put(ctx->resp_limit, *ctx->resps_held);
        *ctx->resps_held = 0;
        if (mm_resp_limit_take(ctx->resp_limit)) {
            (*ctx->resps_held)++;
        }
    }
    MM_OUT_LIT(out, "SERVER_ERROR out of memory writing get response\r\n");
    return false;
}

static void
exec_get(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out)
{
    bool touch = req->type == MM_REQ_GAT || req->type == MM_REQ_GATS;
    bool with_cas = req->type == MM_REQ_GETS || req->type == MM_REQ_GATS;
    mm_reltime_t exp = touch ? mm_cmd_rel_exptime(ctx, req->exptime) : 0;
    struct mm_out_mark mark;
    struct mm_span key;
    size_t pos = 0;
    unsigned nkeys = 0;

    mm_out_mark(out, &mark);
    while (mm_req_next_key(req, &pos, &key)) {
        enum mm_store_get_result why = MM_STORE_GET_MISS;
        struct mm_item *it;

        if (nkeys++ > 0 && !get_key_resp(ctx, out, &mark)) {
            return;
        }
        if (key.len > MM_KEY_MAX_LENGTH) {
            drop_unsent(out, &mark);
            MM_OUT_LIT(out, "CLIENT_ERROR bad command line format\r\n");
            return;
        }
        it = mm_store_get(ctx->env->store, key.p, key.len, mm_hash(key.p, key.len), touch, exp,
                          &why);
        mm_cmd_count_get(ctx->stats, touch, it != NULL, why);
        mm_cmd_count_prefix(ctx, key, it != NULL ? MM_PREFIX_HIT : MM_PREFIX_GET);
        mm_cmd_watch_get(ctx, key, it, why);
        if (it != NULL) {
            reply_value(ctx, out, it, with_cas);
        }
    }
    MM_OUT_LIT(out, "END\r\n");
}

static void
exec_delete(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out)
{
    enum mm_store_rc rc;

    mm_cmd_count_prefix(ctx, req->key, MM_PREFIX_DELETE);
    rc = mm_store_delete(ctx->env->store, req->key.p, req->key.len,
                         mm_hash(req->key.p, req->key.len), 0);
    if (rc == MM_STORE_OK) {
        MM_STAT_INCR(ctx->stats, delete_hits);
        REPLY(req, out, "DELETED\r\n");
    } else {
        MM_STAT_INCR(ctx->stats, delete_misses);
        REPLY(req, out, "NOT_FOUND\r\n");
    }
}

static void
exec_delta(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out)
{
    bool incr = req->type == MM_REQ_INCR;
    uint64_t value = 0;
    enum mm_store_rc rc =
        mm_store_delta(ctx->env->store, req->key.p, req->key.len, mm_hash(req->key.p, req->key.len),
                       incr, req->delta, 0, &value, NULL);

    switch (rc) {
    case MM_STORE_OK:
        if (incr) {
            MM_STAT_INCR(ctx->stats, incr_hits);
        } else {
            MM_STAT_INCR(ctx->stats, decr_hits);
        }
        if (!req->noreply) {
            mm_text_number(out, value);
        }
        break;
    case MM_STORE_NOT_FOUND:
        if (incr) {
            MM_STAT_INCR(ctx->stats, incr_misses);
        } else {
            MM_STAT_INCR(ctx->stats, decr_misses);
        }
        REPLY(req, out, "NOT_FOUND\r\n");
        break;
    case MM_STORE_NON_NUMERIC:
        REPLY(req, out, "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
        break;
    default:
        REPLY(req, out, "SERVER_ERROR out of memory\r\n");
        break;
    }
}

static void
exec_touch(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out)
{
    enum mm_store_get_result why = MM_STORE_GET_MISS;
    /* A touching get rather than mm_store_touch: memcached's touch is a
     * lookup that counts an expired or flushed item as such. */
    struct mm_item *it =
        mm_store_get(ctx->env->store, req->key.p, req->key.len, mm_hash(req->key.p, req->key.len),
                     true, mm_cmd_rel_exptime(ctx, req->exptime), &why);

    mm_cmd_count_get(ctx->stats, true, it != NULL, why);
    if (it != NULL) {
        mm_store_unref(ctx->env->store, it);
        REPLY(req, out, "TOUCHED\r\n");
    } else {
        REPLY(req, out, "NOT_FOUND\r\n");
    }
}

static void
exec_flush_all(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out)
{
    const struct mm_cmd_env *env = ctx->env;
    mm_reltime_t when;

    /* Counted before -F and the argument are checked, as memcached does. */
    MM_STAT_INCR(ctx->stats, cmd_flush);
    if (!env->settings->flush_enabled) {
        REPLY(req, out, "CLIENT_ERROR flush_all not allowed\r\n");
        return;
    }
    if (req->err != MM_REQ_ERR_NONE) {
        mm_text_error(out, req->err, req->noreply);
        return;
    }
    /* A delay of 0 or less means now; a positive one follows the exptime
     * rules (over 30 days is an absolute Unix time). */
    if (req->num > 0) {
        when = mm_cmd_rel_exptime(ctx, req->num);
    } else {
        when = mm_clock_now(env->clock);
    }
    mm_store_flush(env->store, when);
    REPLY(req, out, "OK\r\n");
}

static void
exec_version(struct mm_cmd_ctx *ctx, struct mm_out *out)
{
    const char *v = mm_cmd_version(ctx->env);

    MM_OUT_LIT(out, "VERSION ");
    mm_out_append(out, v, strlen(v));
    MM_OUT_LIT(out, "\r\n");
}

static void
exec_verbosity(const struct mm_req *req, struct mm_out *out)
{
    int64_t level = req->num > CMD_MAX_VERBOSITY ? CMD_MAX_VERBOSITY : req->num;

    mm_log_set_level((int)level);
    REPLY(req, out, "OK\r\n");
}

static void
exec_memlimit(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out)
{
    if (req->num < CMD_MEMLIMIT_MIN_MB) {
        REPLY(req, out, "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n");
    } else if (req->num > CMD_MEMLIMIT_MAX_MB) {
        REPLY(req, out, "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes\r\n");
    } else {
        mm_store_set_limit(ctx->env->store, (size_t)req->num * 1024 * 1024);
        mm_log_info("maxbytes adjusted to %llum", (unsigned long long)req->num);
        REPLY(req, out, "OK\r\n");
    }
}

static void
exec_refresh_certs(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out)
{
    const struct mm_cmd_env *env = ctx->env;
    char msg[1024];

    if (env->tls_refresh == NULL) {
        MM_OUT_LIT(out, "ERROR\r\n");
        return;
    }
    /* As memcached: noreply hides the OK, never the error line. */
    if (env->tls_refresh(env->arg, msg, sizeof(msg))) {
        if (!req->noreply) {
            MM_OUT_LIT(out, "OK\r\n");
        }
    } else {
        mm_out_append(out, msg, strlen(msg));
    }
}

static enum mm_cmd_rc
exec_shutdown(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out)
{
    const struct mm_cmd_env *env = ctx->env;

    if (!env->settings->shutdown_command) {
        MM_OUT_LIT(out, "ERROR: shutdown not enabled\r\n");
        return MM_CMD_OK;
    }
    if (req->num == MM_REQ_SHUTDOWN_INVALID) {
        MM_OUT_LIT(out, "CLIENT_ERROR invalid shutdown mode\r\n");
        return MM_CMD_OK;
    }
    if (env->shutdown != NULL) {
        env->shutdown(env->arg, req->num == MM_REQ_SHUTDOWN_GRACEFUL);
    }
    return MM_CMD_CLOSE;
}

enum mm_cmd_rc
mm_cmd_exec(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out)
{
    switch (req->type) {
    case MM_REQ_ERROR:
        mm_text_error(out, req->err, req->noreply);
        break;
    case MM_REQ_GET:
    case MM_REQ_GETS:
    case MM_REQ_GAT:
    case MM_REQ_GATS:
        exec_get(ctx, req, out);
        break;
    case MM_REQ_DELETE:
        exec_delete(ctx, req, out);
        break;
    case MM_REQ_INCR:
    case MM_REQ_DECR:
        exec_delta(ctx, req, out);
        break;
    case MM_REQ_TOUCH:
        exec_touch(ctx, req, out);
        break;
    case MM_REQ_FLUSH_ALL:
        exec_flush_all(ctx, req, out);
        break;
    case MM_REQ_VERSION:
        exec_version(ctx, out);
        break;
    case MM_REQ_VERBOSITY:
        exec_verbosity(req, out);
        break;
    case MM_REQ_QUIT:
        return MM_CMD_CLOSE;
    case MM_REQ_STATS:
        mm_cmd_stats(ctx, req, out);
        break;
    case MM_REQ_SHUTDOWN:
        return exec_shutdown(ctx, req, out);
    case MM_REQ_CACHE_MEMLIMIT:
        exec_memlimit(ctx, req, out);
        break;
    case MM_REQ_REFRESH_CERTS:
        exec_refresh_certs(ctx, req, out);
        break;
    case MM_REQ_MN:
        MM_OUT_LIT(out, "MN\r\n");
        break;
    case MM_REQ_MG:
    case MM_REQ_MD:
    case MM_REQ_MA:
    case MM_REQ_ME:
        return mm_cmd_meta_exec(ctx, req, out);
    case MM_REQ_WATCH:
        return mm_cmd_watch_exec(ctx, req, out);
    case MM_REQ_LRU_CRAWLER:
        return mm_cmd_crawler_exec(ctx, req, out);
    case MM_REQ_SLABS:
        return mm_cmd_slabs_exec(ctx, req, out);
    default:
        /* Storage requests belong to store_begin; anything else is a
         * caller bug, answered as memcached answers an unknown command. */
        MM_OUT_LIT(out, "ERROR\r\n");
        break;
    }
    return MM_CMD_OK;
}

enum mm_store_mode
mm_cmd_store_mode(enum mm_req_type t)
{
    switch (t) {
    case MM_REQ_ADD:
        return MM_STORE_ADD;
    case MM_REQ_REPLACE:
        return MM_STORE_REPLACE;
    case MM_REQ_APPEND:
        return MM_STORE_APPEND;
    case MM_REQ_PREPEND:
        return MM_STORE_PREPEND;
    case MM_REQ_CAS:
        return MM_STORE_CAS;
    default:
        return MM_STORE_SET;
    }
}

enum mm_cmd_rc
mm_cmd_store_begin(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out,
                   struct mm_item **it, char **dst)
{
    struct mm_store *st = ctx->env->store;
    mm_hash_t h = mm_hash(req->key.p, req->key.len);
    enum mm_store_rc rc = MM_STORE_NOMEM;

    if (req->type == MM_REQ_MS) {
        return mm_cmd_meta_store_begin(ctx, req, out, it, dst);
    }
    /* memcached counts the set for its prefix before it tries to store. */
    mm_cmd_count_prefix(ctx, req->key, MM_PREFIX_SET);
    *it = mm_store_reserve(st, req->key.p, req->key.len, h, req->flags,
                           mm_cmd_rel_exptime(ctx, req->exptime), req->vlen, &rc);
    if (*it != NULL) {
        *dst = mm_item_data(*it);
        return MM_CMD_STORE_READ;
    }
    *dst = NULL;
    if (rc == MM_STORE_TOO_LARGE) {
        REPLY(req, out, "SERVER_ERROR object too large for cache\r\n");
    } else {
        REPLY(req, out, "SERVER_ERROR out of memory storing object\r\n");
    }
    /* A set that cannot be stored must not leave the old value readable. */
    if (req->type == MM_REQ_SET) {
        mm_store_delete(st, req->key.p, req->key.len, h, 0);
    }
    return MM_CMD_STORE_SWALLOW;
}

void
mm_cmd_store_abort(struct mm_cmd_ctx *ctx, struct mm_item *it)
{
    mm_store_abort(ctx->env->store, it);
}

void
mm_cmd_store_end(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_item *it,
                 bool value_ok, struct mm_out *out)
{
    bool is_cas = req->type == MM_REQ_CAS;
    struct mm_cmd_watch_item watched;
    enum mm_store_rc rc;

    if (req->type == MM_REQ_MS) {
        mm_cmd_meta_store_end(ctx, req, it, value_ok, out);
        return;
    }
    /* memcached counts the set once the value is in, good or not. */
    MM_STAT_INCR(ctx->stats, cmd_set);
    if (!value_ok) {
        mm_store_abort(ctx->env->store, it);
        REPLY(req, out, "CLIENT_ERROR bad data chunk\r\n");
        return;
    }
    mm_cmd_watch_store_prep(ctx, it, &watched);
    rc = mm_store_commit(ctx->env->store, it, mm_cmd_store_mode(req->type), req->cas, NULL);
    mm_cmd_watch_store(ctx, &watched, mm_cmd_store_mode(req->type), rc);
    switch (rc) {
    case MM_STORE_OK:
        if (is_cas) {
            MM_STAT_INCR(ctx->stats, cas_hits);
        }
        REPLY(req, out, "STORED\r\n");
        break;
    case MM_STORE_EXISTS:
        if (is_cas) {
            MM_STAT_INCR(ctx->stats, cas_badval);
        }
        REPLY(req, out, "EXISTS\r\n");
        break;
    case MM_STORE_NOT_FOUND:
        if (is_cas) {
            MM_STAT_INCR(ctx->stats, cas_misses);
        }
        REPLY(req, out, "NOT_FOUND\r\n");
        break;
    case MM_STORE_NOT_STORED:
        REPLY(req, out, "NOT_STORED\r\n");
        break;
    case MM_STORE_TOO_LARGE:
        REPLY(req, out, "SERVER_ERROR object too large for cache\r\n");
        break;
    default:
        REPLY(req, out, "SERVER_ERROR out of memory storing object\r\n");
        break;
    }
}
