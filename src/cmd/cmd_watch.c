/* The "watch" command and the command layer's log events: a fetch reports
 * item_get, a store item_store, both to the hub in core/watch.c, which does
 * the formatting. Turning the connection into a stream is net/'s part; this
 * file answers the command and says which events were asked for. */
#include "config.h"

#include "cmd/cmd_int.h"
#include "mmem/cmd.h"
#include "mmem/item.h"
#include "mmem/out.h"
#include "mmem/req.h"
#include "mmem/settings.h"
#include "mmem/watch.h"

#include <string.h>

enum mm_cmd_rc
mm_cmd_watch_exec(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out)
{
    const struct mm_cmd_env *env = ctx->env;
    unsigned flags = 0;

    if (!env->settings->watch_enabled || env->watch == NULL) {
        MM_OUT_LIT(out, "CLIENT_ERROR watch commands not allowed\r\n");
        return MM_CMD_OK;
    }
    if (!mm_watch_parse_flags(req->args.p, req->args.len, &flags)) {
        MM_OUT_LIT(out, "ERROR\r\n");
        return MM_CMD_OK;
    }
    ctx->watcher = mm_watch_add(env->watch, flags);
    if (ctx->watcher == NULL) {
        MM_OUT_LIT(out, "WATCHER_TOO_MANY log watcher limit reached\r\n");
        return MM_CMD_OK;
    }
    MM_OUT_LIT(out, "OK\r\n");
    return MM_CMD_WATCH;
}

void
mm_cmd_watch_get(struct mm_cmd_ctx *ctx, struct mm_span key, const struct mm_item *it,
                 enum mm_store_get_result why)
{
    enum mm_watch_get_status st = MM_WATCH_GET_NOT_FOUND;

    if (!mm_watch_wants(ctx->env->watch, MM_WATCH_FETCHERS)) {
        return;
    }
    if (it != NULL) {
        st = MM_WATCH_GET_FOUND;
    } else if (why == MM_STORE_GET_FLUSHED) {
        st = MM_WATCH_GET_FLUSHED;
    } else if (why == MM_STORE_GET_EXPIRED) {
        st = MM_WATCH_GET_EXPIRED;
    }
    mm_watch_item_get(ctx->env->watch, key.p, key.len, st, it != NULL ? mm_item_clsid(it) : 0,
                      ctx->cfd, it != NULL ? mm_item_vlen(it) : 0);
}

void
mm_cmd_watch_store_prep(struct mm_cmd_ctx *ctx, const struct mm_item *it,
                        struct mm_cmd_watch_item *w)
{
    w->on = mm_watch_wants(ctx->env->watch, MM_WATCH_MUTATIONS);
    if (!w->on) {
        return;
    }
    w->nkey = mm_item_nkey(it);
    memcpy(w->key, mm_item_key(it), w->nkey);
    w->clsid = mm_item_clsid(it);
    w->vlen = mm_item_vlen(it);
    w->exptime = mm_item_exptime(it);
}

void
mm_cmd_watch_store(struct mm_cmd_ctx *ctx, const struct mm_cmd_watch_item *w,
                   enum mm_store_mode mode, enum mm_store_rc rc)
{
    enum mm_watch_store_status st;
    enum mm_watch_store_cmd cmd;
    mm_reltime_t now;

    if (!w->on) {
        return;
    }
    switch (rc) {
    case MM_STORE_OK:
        st = MM_WATCH_STORE_STORED;
        break;
    case MM_STORE_EXISTS:
        st = MM_WATCH_STORE_EXISTS;
        break;
    case MM_STORE_NOT_FOUND:
        st = MM_WATCH_STORE_NOT_FOUND;
        break;
    case MM_STORE_TOO_LARGE:
        st = MM_WATCH_STORE_TOO_LARGE;
        break;
    case MM_STORE_NOMEM:
        st = MM_WATCH_STORE_NO_MEMORY;
        break;
    default:
        st = MM_WATCH_STORE_NOT_STORED;
        break;
    }
    switch (mode) {
    case MM_STORE_ADD:
        cmd = MM_WATCH_CMD_ADD;
        break;
    case MM_STORE_REPLACE:
        cmd = MM_WATCH_CMD_REPLACE;
        break;
    case MM_STORE_APPEND:
        cmd = MM_WATCH_CMD_APPEND;
        break;
    case MM_STORE_PREPEND:
        cmd = MM_WATCH_CMD_PREPEND;
        break;
    case MM_STORE_CAS:
    case MM_STORE_CAS_STALE:
        cmd = MM_WATCH_CMD_CAS;
        break;
    default:
        cmd = MM_WATCH_CMD_SET;
        break;
    }
    /* memcached reports the seconds left, as an unsigned number. */
    now = mm_clock_now(ctx->env->clock);
    mm_watch_item_store(ctx->env->watch, w->key, w->nkey, st, cmd,
                        w->exptime != 0 ? (uint32_t)(w->exptime - now) : 0, w->clsid, ctx->cfd,
                        w->vlen);
}
