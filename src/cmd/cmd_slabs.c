/* "slabs reassign <src> <dst>" and "slabs automove <0|1|2>": the page
 * mover's commands, with memcached 1.6.18's replies. */
#include "config.h"

#include "cmd/cmd_int.h"
#include "mmem/cmd.h"
#include "mmem/out.h"
#include "mmem/req.h"
#include "mmem/scan.h"
#include "mmem/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The next white-space separated token of *rest. */
static struct mm_span
next_token(struct mm_span *rest)
{
    struct mm_span t;

    while (rest->len > 0 && rest->p[0] == ' ') {
        rest->p++;
        rest->len--;
    }
    t.p = rest->p;
    t.len = 0;
    while (t.len < rest->len && t.p[t.len] != ' ') {
        t.len++;
    }
    rest->p += t.len;
    rest->len -= t.len;
    return t;
}

static void
exec_reassign(struct mm_cmd_ctx *ctx, struct mm_span args, struct mm_out *out)
{
    struct mm_span a = next_token(&args);
    struct mm_span b = next_token(&args);
    int32_t src;
    int32_t dst;

    /* memcached checks the switch before it looks at the numbers. */
    if (mm_store_reassign(ctx->env->store, -1, -1) == MM_STORE_REASSIGN_DISABLED) {
        MM_OUT_LIT(out, "CLIENT_ERROR slab reassignment disabled\r\n");
        return;
    }
    if (!mm_scan_i32(a.p, a.p + a.len, &src) || !mm_scan_i32(b.p, b.p + b.len, &dst)) {
        MM_OUT_LIT(out, "CLIENT_ERROR bad command line format\r\n");
        return;
    }
    switch (mm_store_reassign(ctx->env->store, src, dst)) {
    case MM_STORE_REASSIGN_OK:
        MM_OUT_LIT(out, "OK\r\n");
        break;
    case MM_STORE_REASSIGN_BUSY:
        MM_OUT_LIT(out, "BUSY currently processing reassign request\r\n");
        break;
    case MM_STORE_REASSIGN_BADCLASS:
        MM_OUT_LIT(out, "BADCLASS invalid src or dst class id\r\n");
        break;
    case MM_STORE_REASSIGN_NOSPARE:
        MM_OUT_LIT(out, "NOSPARE source class has no spare pages\r\n");
        break;
    case MM_STORE_REASSIGN_SAME:
        MM_OUT_LIT(out, "SAME src and dst class are identical\r\n");
        break;
    default:
        MM_OUT_LIT(out, "CLIENT_ERROR slab reassignment disabled\r\n");
        break;
    }
}

/* safe_strtod: a number, then white space or the end, and no overflow. */
static bool
scan_double(struct mm_span t, double *out)
{
    char buf[64];
    char *end;
    double v;

    if (t.len == 0 || t.len >= sizeof(buf)) {
        return false;
    }
    memcpy(buf, t.p, t.len);
    buf[t.len] = '\0';
    errno = 0;
    v = strtod(buf, &end);
    if (errno == ERANGE || end == buf || *end != '\0') {
        return false;
    }
    *out = v;
    return true;
}

static void
exec_automove(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out)
{
    struct mm_span rest = req->args;
    struct mm_span a = next_token(&rest);
    uint32_t level;

    if (a.len == 5 && memcmp(a.p, "ratio", 5) == 0) {
        struct mm_span b = next_token(&rest);
        double ratio;

        if (!scan_double(b, &ratio)) {
            REPLY(req, out, "ERROR\r\n");
        } else {
            mm_store_set_automove_ratio(ctx->env->store, ratio);
            REPLY(req, out, "OK\r\n");
        }
    } else if (!mm_scan_u32(a.p, a.p + a.len, &level)) {
        REPLY(req, out, "CLIENT_ERROR bad command line format\r\n");
    } else if (level > 2) {
        REPLY(req, out, "ERROR\r\n");
    } else {
        mm_store_set_automove(ctx->env->store, (int)level);
        REPLY(req, out, "OK\r\n");
    }
}

enum mm_cmd_rc
mm_cmd_slabs_exec(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out)
{
    if (req->num == MM_REQ_SLABS_REASSIGN) {
        exec_reassign(ctx, req->args, out);
    } else {
        exec_automove(ctx, req, out);
    }
    return MM_CMD_OK;
}
