#ifndef MMEM_CMD_AUTH_H
#define MMEM_CMD_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "mmem/cmd.h"

/* ASCII authentication (-Y), as memcached does it. Contract for the
 * connection while ctx->env->auth != NULL and it is not authenticated yet:
 *   - a parsed "set" (MM_REQ_SET, noreply or not): read its vlen bytes and
 *     2 trailer bytes (no item), then, when the trailer is "\r\n", call
 *     mm_cmd_ascii_auth(ctx, value, vlen, out); true = authenticated from
 *     now on. A bad trailer is answered by mm_cmd_ascii_auth_bad_trailer()
 *     (vlen + 2 bytes consumed all the same).
 *     A value longer than MM_CMD_AUTH_TOKEN_MAX is swallowed (vlen + 2
 *     bytes) and answered with mm_cmd_ascii_auth_too_long().
 *   - any other line (quit, errors and binary bytes included): its bytes are
 *     consumed and mm_cmd_unauthenticated() answers; the connection stays.
 * Replies are always sent, noreply or not, as memcached sends them. Unlike
 * memcached 1.6.18, which lets a later reply overwrite an earlier one when
 * several of these arrive in one read, every line gets its own reply. */

#define MM_CMD_AUTH_TOKEN_MAX 1024

bool mm_cmd_ascii_auth(struct mm_cmd_ctx *ctx, const char *value, size_t len, struct mm_out *out);
void mm_cmd_ascii_auth_too_long(struct mm_cmd_ctx *ctx, struct mm_out *out);
void mm_cmd_ascii_auth_bad_trailer(struct mm_out *out);
void mm_cmd_unauthenticated(struct mm_out *out);

#endif
