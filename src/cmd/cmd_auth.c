/* ASCII authentication (-Y): the first "set" of a connection carries
 * "user password" as its value; the reply says whether it matched, and
 * auth_cmds/auth_errors count the attempts (malformed tokens and refused
 * commands are not attempts, as in memcached). */
#include "config.h"

#include "mmem/cmd_auth.h"

#include "mmem/auth.h"
#include "mmem/out.h"
#include "mmem/stats.h"

bool
mm_cmd_ascii_auth(struct mm_cmd_ctx *ctx, const char *value, size_t len, struct mm_out *out)
{
    switch (mm_auth_token(ctx->env->auth, value, len)) {
    case MM_AUTH_OK:
        MM_STAT_INCR(ctx->stats, auth_cmds);
        MM_OUT_LIT(out, "STORED\r\n");
        return true;
    case MM_AUTH_FAIL:
        MM_STAT_INCR(ctx->stats, auth_cmds);
        MM_STAT_INCR(ctx->stats, auth_errors);
        MM_OUT_LIT(out, "CLIENT_ERROR authentication failure\r\n");
        return false;
    case MM_AUTH_BAD_FORMAT:
        break;
    }
    MM_OUT_LIT(out, "CLIENT_ERROR bad authentication token format\r\n");
    return false;
}

void
mm_cmd_ascii_auth_too_long(struct mm_cmd_ctx *ctx, struct mm_out *out)
{
    /* No entry is this long in practice; count it as a failed attempt so a
     * flood of them shows in auth_errors. */
    MM_STAT_INCR(ctx->stats, auth_cmds);
    MM_STAT_INCR(ctx->stats, auth_errors);
    MM_OUT_LIT(out, "CLIENT_ERROR authentication failure\r\n");
}

void
mm_cmd_ascii_auth_bad_trailer(struct mm_out *out)
{
    MM_OUT_LIT(out, "CLIENT_ERROR bad command line termination\r\n");
}

void
mm_cmd_unauthenticated(struct mm_out *out)
{
    MM_OUT_LIT(out, "CLIENT_ERROR unauthenticated\r\n");
}
