#ifndef MMEM_CMD_INT_H
#define MMEM_CMD_INT_H

/* Private to src/cmd (and its white-box tests). */

#include <stdbool.h>

struct mm_cmd_env;

/* The version string commands report: env->version or PACKAGE_VERSION. */
const char *mm_cmd_version(const struct mm_cmd_env *env);

/* memcached's highest slab class id + 1, for "stats cachedump" checks. */
#define MM_CMD_MAX_SLAB_CLASSES 64

/* Meta commands (cmd_meta.c): exec for mg md ma me, and the two halves of
 * ms, called by mm_cmd_exec / mm_cmd_store_begin / mm_cmd_store_end with the
 * same contract (cmd.h). */
struct mm_cmd_ctx;
struct mm_item;
struct mm_out;
struct mm_req;
enum mm_cmd_rc mm_cmd_meta_exec(struct mm_cmd_ctx *ctx, const struct mm_req *req,
                                struct mm_out *out);
enum mm_cmd_rc mm_cmd_meta_store_begin(struct mm_cmd_ctx *ctx, const struct mm_req *req,
                                       struct mm_out *out, struct mm_item **it, char **dst);
void mm_cmd_meta_store_end(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_item *it,
                           bool value_ok, struct mm_out *out);

#endif
