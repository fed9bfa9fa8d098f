/* "lru_crawler": enable/disable the store's crawler thread, set its pace
 * (sleep, tocrawl), queue a crawl of some classes, and metadump, which
 * walks the store in small steps (mm_store_walk) and formats one line per
 * live item in memcached 1.6.18's format. The connection drives the
 * steps as its output drains, so a dump never sits whole in memory. */
#include "config.h"

#include "cmd/cmd_int.h"
#include "mmem/alloc.h"
#include "mmem/clock.h"
#include "mmem/cmd.h"
#include "mmem/out.h"
#include "mmem/req.h"
#include "mmem/settings.h"
#include "mmem/text.h"
#include "mmem/watch.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Items per step: a few hundred lines of at most ~850 bytes each. */
#define DUMP_STEP_ITEMS 64u
/* key= (3 * 250) plus the fixed fields with 20-digit numbers. */
#define DUMP_LINE_MAX 1024

struct mm_cmd_dump {
    struct mm_store_cursor cur;
    uint64_t classes; /* bit i: class i wanted */
    time_t started;   /* unix time of reltime 0 */
};

struct dump_step {
    const struct mm_cmd_dump *d;
    struct mm_out *out;
};

/* "all", or a comma list of class ids 1..63 (empty items skipped, as
 * memcached's strtok does). */
static bool
parse_classes(struct mm_span arg, bool hash_ok, uint64_t *mask)
{
    size_t i = 0;

    if ((arg.len == 3 && memcmp(arg.p, "all", 3) == 0) ||
        (hash_ok && arg.len == 4 && memcmp(arg.p, "hash", 4) == 0)) {
        *mask = UINT64_MAX;
        return true;
    }
    *mask = 0;
    while (i < arg.len) {
        struct mm_span tok;
        uint32_t id;

        tok.p = arg.p + i;
        tok.len = 0;
        while (i < arg.len && arg.p[i] != ',') {
            tok.len++;
            i++;
        }
        i++;
        if (tok.len == 0) {
            continue;
        }
        if (!mm_text_scan_u32(tok, &id) || id < 1 || id >= MM_CMD_MAX_SLAB_CLASSES) {
            return false;
        }
        *mask |= UINT64_C(1) << id;
    }
    return true;
}

static void
dump_line(void *arg, const struct mm_store_walk_item *wi)
{
    const struct dump_step *s = arg;
    char line[DUMP_LINE_MAX];
    char enc[3 * 255];
    long long exp = -1;
    int n;

    /* Large items (class 0) are listed with "all" only. */
    if ((s->d->classes & (UINT64_C(1) << (wi->cls & 63u))) == 0) {
        return;
    }
    if (wi->exptime != 0) {
        exp = (long long)s->d->started + wi->exptime;
    }
    n = snprintf(line, sizeof(line),
                 "key=%.*s exp=%lld la=%lld cas=%" PRIu64 " fetch=%s cls=%u size=%" PRIu32 "\n",
                 (int)mm_watch_uri_encode(wi->key, wi->nkey, enc), enc, exp,
                 (long long)s->d->started + wi->atime, wi->cas, wi->fetched ? "yes" : "no", wi->cls,
                 wi->size);
    if (n > 0) {
        mm_out_append(s->out, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
    }
}

bool
mm_cmd_dump_step(struct mm_cmd_ctx *ctx, struct mm_cmd_dump *d, struct mm_out *out)
{
    struct dump_step s;

    s.d = d;
    s.out = out;
    if (mm_store_walk(ctx->env->store, &d->cur, dump_line, &s, DUMP_STEP_ITEMS)) {
        return false;
    }
    MM_OUT_LIT(out, "END\r\n");
    return true;
}

void
mm_cmd_dump_free(struct mm_cmd_dump **d)
{
    mm_free(*d);
    *d = NULL;
}

static enum mm_cmd_rc
exec_metadump(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out)
{
    struct mm_cmd_dump *d;
    uint64_t classes;

    if (!ctx->env->settings->dump_enabled) {
        MM_OUT_LIT(out, "ERROR metadump not allowed\r\n");
        return MM_CMD_OK;
    }
    /* memcached hands the socket to its crawler, so replies still queued
     * would interleave with the dump: it refuses instead, and so do we. */
    if (mm_out_pending(out) > 0) {
        MM_OUT_LIT(out, "ERROR cannot pipeline other commands before metadump\r\n");
        return MM_CMD_OK;
    }
    if (!parse_classes(req->args, true, &classes)) {
        MM_OUT_LIT(out, "BADCLASS invalid class id\r\n");
        return MM_CMD_OK;
    }
    d = mm_calloc(1, sizeof(*d));
    d->classes = classes;
    d->started = mm_clock_unix(ctx->env->clock) - (time_t)mm_clock_now(ctx->env->clock);
    ctx->dump = d;
    return MM_CMD_DUMP;
}

enum mm_cmd_rc
mm_cmd_crawler_exec(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out)
{
    struct mm_store *st = ctx->env->store;
    uint64_t classes;
    uint32_t v;

    switch (req->num) {
    case MM_REQ_CRAWLER_ENABLE:
        if (mm_store_crawler_set(st, true)) {
            /* memcached's words when its thread is already running. */
            MM_OUT_LIT(out, "ERROR failed to start lru crawler thread\r\n");
        } else {
            MM_OUT_LIT(out, "OK\r\n");
        }
        return MM_CMD_OK;
    case MM_REQ_CRAWLER_DISABLE:
        (void)mm_store_crawler_set(st, false);
        MM_OUT_LIT(out, "OK\r\n");
        return MM_CMD_OK;
    case MM_REQ_CRAWLER_TOCRAWL:
    case MM_REQ_CRAWLER_SLEEP:
        if (!mm_text_scan_u32(req->args, &v)) {
            MM_OUT_LIT(out, "CLIENT_ERROR bad command line format\r\n");
        } else if (req->num == MM_REQ_CRAWLER_SLEEP && v > 1000000) {
            MM_OUT_LIT(out, "CLIENT_ERROR sleep must be one second or less\r\n");
        } else {
            if (req->num == MM_REQ_CRAWLER_SLEEP) {
                mm_store_crawler_set_sleep(st, v);
            } else {
                mm_store_crawler_set_tocrawl(st, v);
            }
            MM_OUT_LIT(out, "OK\r\n");
        }
        return MM_CMD_OK;
    default:
        break;
    }
    if (!mm_store_crawler_enabled(st)) {
        MM_OUT_LIT(out, "CLIENT_ERROR lru crawler disabled\r\n");
        return MM_CMD_OK;
    }
    if (req->num == MM_REQ_CRAWLER_METADUMP) {
        return exec_metadump(ctx, req, out);
    }
    if (req->args.len == 4 && memcmp(req->args.p, "hash", 4) == 0) {
        MM_OUT_LIT(out, "ERROR an unknown error happened\r\n");
    } else if (!parse_classes(req->args, false, &classes)) {
        MM_OUT_LIT(out, "BADCLASS invalid class id\r\n");
    } else if (classes == 0) {
        MM_OUT_LIT(out, "NOTSTARTED no items to crawl\r\n");
    } else if (!mm_store_crawl(st, classes)) {
        MM_OUT_LIT(out, "BUSY currently processing crawler request\r\n");
    } else {
        MM_OUT_LIT(out, "OK\r\n");
    }
    return MM_CMD_OK;
}
