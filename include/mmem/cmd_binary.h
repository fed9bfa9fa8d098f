#ifndef MMEM_CMD_BINARY_H
#define MMEM_CMD_BINARY_H

#include <stdbool.h>

#include "mmem/cmd.h"

/* Execution of binary-protocol requests (see protocol_binary.h for the
 * parser and the connection's side of the contract). Same store, counters
 * and rules as the text commands (cmd.h); only the replies differ.
 *
 * Non-storage (breq->action == MM_BIN_ACT_EXEC, errors included):
 *     rc = mm_cmd_bin_exec(ctx, breq, out);   MM_CMD_OK or MM_CMD_CLOSE
 * Storage (MM_BIN_ACT_STORE):
 *     rc = mm_cmd_bin_store_begin(ctx, breq, out, &it, &dst);
 *     MM_CMD_STORE_READ     read breq->req.vlen bytes to dst, then
 *                           mm_cmd_bin_store_end(ctx, breq, it, out)
 *                           (breq copied by value; its spans may dangle).
 *     MM_CMD_STORE_SWALLOW  reply composed; discard breq->req.vlen bytes.
 * An item still being read when the connection closes goes back through
 * mm_cmd_store_abort(). */

struct mm_bin_req;
struct mm_item;
struct mm_out;

enum mm_cmd_rc mm_cmd_bin_exec(struct mm_cmd_ctx *ctx, const struct mm_bin_req *breq,
                               struct mm_out *out);
enum mm_cmd_rc mm_cmd_bin_store_begin(struct mm_cmd_ctx *ctx, const struct mm_bin_req *breq,
                                      struct mm_out *out, struct mm_item **it, char **dst);
void mm_cmd_bin_store_end(struct mm_cmd_ctx *ctx, const struct mm_bin_req *breq, struct mm_item *it,
                          struct mm_out *out);

#endif
