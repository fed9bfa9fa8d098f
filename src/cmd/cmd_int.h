#ifndef MMEM_CMD_INT_H
#define MMEM_CMD_INT_H

/* Private to src/cmd (and its white-box tests). */

#include <stdbool.h>
#include <stdint.h>

#include "mmem/clock.h"
#include "mmem/prefix.h"
#include "mmem/req.h"
#include "mmem/store.h"

struct mm_cmd_ctx;
struct mm_cmd_env;
struct mm_stats;

/* The version string commands report: env->version or PACKAGE_VERSION. */
const char *mm_cmd_version(const struct mm_cmd_env *env);

/* Shared by the text and binary command sets, so both count and convert
 * alike. */
/* A client's exptime as a store reltime (0 = never). */
mm_reltime_t mm_cmd_rel_exptime(const struct mm_cmd_ctx *ctx, int64_t exptime);
/* Count one key of a get (touch: gat) into the stats block. */
void mm_cmd_count_get(struct mm_stats *st, bool touch, bool hit, enum mm_store_get_result why);
/* "stats detail": count op for key in env->prefix (nothing when there is
 * none, or the switch is off). */
void mm_cmd_count_prefix(struct mm_cmd_ctx *ctx, struct mm_span key, enum mm_prefix_op op);
/* The store mode of a storage request type. */
enum mm_store_mode mm_cmd_store_mode(enum mm_req_type t);

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

/* A literal reply, unless the request said noreply. */
#define REPLY(req, out, lit)                                                                       \
    do {                                                                                           \
        if (!(req)->noreply) {                                                                     \
            MM_OUT_LIT((out), lit);                                                                \
        }                                                                                          \
    } while (0)

/* "slabs reassign|automove" (cmd_slabs.c). */
enum mm_cmd_rc mm_cmd_slabs_exec(struct mm_cmd_ctx *ctx, const struct mm_req *req,
                                 struct mm_out *out);
/* "lru_crawler" (cmd_crawler.c); MM_CMD_DUMP for a metadump begun. */
enum mm_cmd_rc mm_cmd_crawler_exec(struct mm_cmd_ctx *ctx, const struct mm_req *req,
                                   struct mm_out *out);

/* "watch" (cmd_watch.c): the command, and the log events of the command
 * layer. Each event costs one relaxed load when nobody watches. */
enum mm_cmd_rc mm_cmd_watch_exec(struct mm_cmd_ctx *ctx, const struct mm_req *req,
                                 struct mm_out *out);
/* item_get for one key of a fetch; it NULL on a miss (why says which). */
void mm_cmd_watch_get(struct mm_cmd_ctx *ctx, struct mm_span key, const struct mm_item *it,
                      enum mm_store_get_result why);
/* item_store: prep copies what the line needs from the reserved item before
 * the commit consumes it; store then reports the commit's result. */
struct mm_cmd_watch_item {
    bool on;
    uint8_t nkey;
    unsigned clsid;
    uint32_t vlen;
    mm_reltime_t exptime;
    char key[256];
};
void mm_cmd_watch_store_prep(struct mm_cmd_ctx *ctx, const struct mm_item *it,
                             struct mm_cmd_watch_item *w);
void mm_cmd_watch_store(struct mm_cmd_ctx *ctx, const struct mm_cmd_watch_item *w,
                        enum mm_store_mode mode, enum mm_store_rc rc);

#endif
