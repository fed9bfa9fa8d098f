/* "stats" and its groups in memcached 1.6.18's names and order. Counters
 * come from the workers' blocks (summed through the env), gauges from the
 * server, store figures from the store's emit functions, settings from
 * mm_settings_emit(); this file only orders and formats them. Fields for
 * features mmem lacks are reported as memcached reports them when unused. */
#include "config.h"

#include "mmem/cmd.h"

#include "cmd/cmd_int.h"
#include "mmem/clock.h"
#include "mmem/out.h"
#include "mmem/prefix.h"
#include "mmem/req.h"
#include "mmem/settings.h"
#include "mmem/stats.h"
#include "mmem/store.h"
#include "mmem/scan.h"
#include "mmem/text.h"
#include "mmem/watch.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void
emit_line(void *arg, const char *name, const char *value)
{
    mm_text_stat(arg, name, value);
}

static void
stat_u64(struct mm_out *out, const char *name, uint64_t v)
{
    char buf[24];

    buf[mm_u64toa(v, buf)] = '\0';
    mm_text_stat(out, name, buf);
}

static void
stat_timeval(struct mm_out *out, const char *name, const struct timeval *tv)
{
    char buf[48];

    snprintf(buf, sizeof(buf), "%ld.%06ld", (long)tv->tv_sec, (long)tv->tv_usec);
    mm_text_stat(out, name, buf);
}

/* The general "stats" block is memcached's order with the store's figures
 * spliced in: the store emits its run (store_too_large ... lru_bumps_dropped)
 * in order, and three groups of server fields sit inside that run, in front
 * of limit_maxbytes, hash_power_level and bytes. */
struct general {
    struct mm_out *out;
    const struct mm_cmd_env *env;
    const struct mm_stats *sum;
    uint64_t accepting, listen_disabled;
    bool io_done, conn_done, log_done;
};

static void
general_io(struct general *g)
{
    if (!g->io_done) {
        g->io_done = true;
        stat_u64(g->out, "auth_cmds", g->sum->auth_cmds);
        stat_u64(g->out, "auth_errors", g->sum->auth_errors);
        if (g->env->settings->idle_timeout > 0) {
            stat_u64(g->out, "idle_kicks", g->sum->idle_kicks);
        }
        stat_u64(g->out, "bytes_read", g->sum->bytes_read);
        stat_u64(g->out, "bytes_written", g->sum->bytes_written);
    }
}

static void
general_conn(struct general *g)
{
    if (!g->conn_done) {
        general_io(g);
        g->conn_done = true;
        stat_u64(g->out, "accepting_conns", g->accepting);
        stat_u64(g->out, "listen_disabled_num", g->listen_disabled);
        stat_u64(g->out, "time_in_listen_disabled_us", 0);
        stat_u64(g->out, "threads", (uint64_t)g->env->settings->num_threads);
        stat_u64(g->out, "conn_yields", g->sum->conn_yields);
    }
}

/* Logger figures come from the "watch" hub; mmem has no NAPI ids, so the
 * last two read as on an idle memcached. */
static void
general_log(struct general *g)
{
    struct mm_watch_stats ws;

    if (!g->log_done) {
        general_conn(g);
        g->log_done = true;
        mm_watch_stats(g->env->watch, &ws);
        stat_u64(g->out, "log_worker_dropped", ws.worker_dropped);
        stat_u64(g->out, "log_worker_written", ws.worker_written);
        stat_u64(g->out, "log_watcher_skipped", ws.watcher_skipped);
        stat_u64(g->out, "log_watcher_sent", ws.watcher_sent);
        stat_u64(g->out, "log_watchers", ws.watchers);
        if (g->env->tls_stats != NULL) {
            g->env->tls_stats(g->env->arg, emit_line, g->out);
        }
        stat_u64(g->out, "unexpected_napi_ids", g->sum->unexpected_napi_ids);
        stat_u64(g->out, "round_robin_fallback", g->sum->round_robin_fallback);
    }
}

static bool
name_in(const char *name, const char *const *list)
{
    for (; *list != NULL; list++) {
        if (strcmp(name, *list) == 0) {
            return true;
        }
    }
    return false;
}

/* memcached prints some fields only while the feature behind them is on;
 * mmem has none of these features, but follows the flags that turn them
 * off (-o no_lru_maintainer, no_lru_crawler, no_slab_reassign, no_modern),
 * so the listing has the names memcached would have with the same flags. */
static bool
general_hidden(const struct mm_settings *s, const char *name)
{
    static const char *const maintainer[] = {
        "lru_maintainer_juggles", "evicted_active",  "moves_to_cold",     "moves_to_warm",
        "moves_within_lru",       "direct_reclaims", "lru_bumps_dropped", NULL};
    static const char *const crawler[] = {"lru_crawler_running", "lru_crawler_starts", NULL};

    if (!s->compat.slab_reassign &&
        (strncmp(name, "slab_reassign_", 14) == 0 || strcmp(name, "slabs_moved") == 0)) {
        return true;
    }
    return (!s->compat.lru_crawler && name_in(name, crawler)) ||
           (!s->compat.lru_maintainer && name_in(name, maintainer));
}

static void
general_store_emit(void *arg, const char *name, const char *value)
{
    struct general *g = arg;

    if (general_hidden(g->env->settings, name)) {
        return;
    }
    if (strcmp(name, "limit_maxbytes") == 0) {
        general_io(g);
    } else if (strcmp(name, "hash_power_level") == 0) {
        general_conn(g);
    } else if (strcmp(name, "bytes") == 0) {
        general_log(g);
    }
    mm_text_stat(g->out, name, value);
}

static void
stats_general(struct mm_cmd_ctx *ctx, struct mm_out *out)
{
    const struct mm_cmd_env *env = ctx->env;
    struct mm_stats sum;
    struct general g;
    struct rusage ru;
    uint64_t reserved_fds = 0;

    memset(&sum, 0, sizeof(sum));
    if (env->stats_sum != NULL) {
        env->stats_sum(env->arg, &sum);
    } else {
        mm_stats_sum(&sum, ctx->stats);
    }
    memset(&g, 0, sizeof(g));
    g.out = out;
    g.env = env;
    g.sum = &sum;
    g.accepting = 1;
    if (env->server_gauges != NULL) {
        env->server_gauges(env->arg, &g.accepting, &g.listen_disabled, &reserved_fds);
    }
    memset(&ru, 0, sizeof(ru));
    getrusage(RUSAGE_SELF, &ru);

    stat_u64(out, "pid", (uint64_t)getpid());
    stat_u64(out, "uptime", mm_clock_now(env->clock));
    stat_u64(out, "time", (uint64_t)mm_clock_unix(env->clock));
    mm_text_stat(out, "version", mm_cmd_version(env));
    mm_text_stat(out, "libevent", env->libevent_version != NULL ? env->libevent_version : "none");
    stat_u64(out, "pointer_size", 8 * sizeof(void *));
    stat_timeval(out, "rusage_user", &ru.ru_utime);
    stat_timeval(out, "rusage_system", &ru.ru_stime);
    stat_u64(out, "max_connections", (uint64_t)env->settings->maxconns);
    stat_u64(out, "curr_connections", sum.curr_connections);
    stat_u64(out, "total_connections", sum.total_connections);
    if (env->settings->maxconns_fast) {
        /* memcached counts (and lists) these only with maxconns_fast. */
        stat_u64(out, "rejected_connections", sum.rejected_connections);
    }
    stat_u64(out, "connection_structures", sum.connection_structures);
    stat_u64(out, "response_obj_oom", sum.response_obj_oom);
    /* mmem has no response-object or read-buffer pools to report. */
    stat_u64(out, "response_obj_count", 0);
    stat_u64(out, "response_obj_bytes", 0);
    stat_u64(out, "read_buf_count", 0);
    stat_u64(out, "read_buf_bytes", 0);
    stat_u64(out, "read_buf_bytes_free", 0);
    stat_u64(out, "read_buf_oom", sum.read_buf_oom);
    stat_u64(out, "reserved_fds", reserved_fds);
    stat_u64(out, "cmd_get", sum.cmd_get);
    stat_u64(out, "cmd_set", sum.cmd_set);
    stat_u64(out, "cmd_flush", sum.cmd_flush);
    stat_u64(out, "cmd_touch", sum.cmd_touch);
    stat_u64(out, "cmd_meta", sum.cmd_meta);
    stat_u64(out, "get_hits", sum.get_hits);
    stat_u64(out, "get_misses", sum.get_misses);
    stat_u64(out, "get_expired", sum.get_expired);
    stat_u64(out, "get_flushed", sum.get_flushed);
    stat_u64(out, "delete_misses", sum.delete_misses);
    stat_u64(out, "delete_hits", sum.delete_hits);
    stat_u64(out, "incr_misses", sum.incr_misses);
    stat_u64(out, "incr_hits", sum.incr_hits);
    stat_u64(out, "decr_misses", sum.decr_misses);
    stat_u64(out, "decr_hits", sum.decr_hits);
    stat_u64(out, "cas_misses", sum.cas_misses);
    stat_u64(out, "cas_hits", sum.cas_hits);
    stat_u64(out, "cas_badval", sum.cas_badval);
    stat_u64(out, "touch_hits", sum.touch_hits);
    stat_u64(out, "touch_misses", sum.touch_misses);
    mm_store_stats(env->store, general_store_emit, &g);
    /* If the store emitted no anchors, the server fields still appear. */
    general_log(&g);
    MM_OUT_LIT(out, "END\r\n");
}

static void
prefix_line(void *arg, const char *text, size_t len)
{
    mm_out_append(arg, text, len);
}

/* "stats detail": the switch and the dump of the per-prefix counters. The
 * switch replies OK whatever follows it, as memcached does. */
static void
stats_detail(struct mm_cmd_ctx *ctx, struct mm_span sub, struct mm_out *out)
{
    struct mm_prefix *p = ctx->env->prefix;

    if (sub.len == 2 && memcmp(sub.p, "on", 2) == 0) {
        if (p != NULL) {
            mm_prefix_set_enabled(p, true);
        }
        MM_OUT_LIT(out, "OK\r\n");
    } else if (sub.len == 3 && memcmp(sub.p, "off", 3) == 0) {
        if (p != NULL) {
            mm_prefix_set_enabled(p, false);
        }
        MM_OUT_LIT(out, "OK\r\n");
    } else if (sub.len == 4 && memcmp(sub.p, "dump", 4) == 0) {
        if (p != NULL) {
            mm_prefix_dump(p, prefix_line, out);
        }
        MM_OUT_LIT(out, "END\r\n");
    } else {
        MM_OUT_LIT(out, "CLIENT_ERROR usage: stats detail on|off|dump\r\n");
    }
}

/* memcached builds the cachedump reply in one 2 MB buffer: a line goes in
 * only while it, "END\r\n" and a NUL still fit. */
#define CACHEDUMP_MAX (2u * 1024u * 1024u)
#define CACHEDUMP_STEP 64u

struct cachedump {
    struct mm_out *out;
    const struct mm_clock *clock;
    unsigned cls;
    uint32_t limit; /* 0: no limit */
    uint32_t shown;
    size_t bytes;
    bool done;
};

/* Runs under a stripe lock (mm_store_walk): it only formats and copies. */
static void
cachedump_item(void *arg, const struct mm_store_walk_item *wi)
{
    struct cachedump *cd = arg;
    char line[MM_KEY_MAX_LENGTH + 64];
    int n;

    if (cd->done || wi->cls != cd->cls) {
        return;
    }
    n = snprintf(line, sizeof(line), "ITEM %.*s [%" PRIu32 " b; %lld s]\r\n", (int)wi->nkey,
                 wi->key, wi->vlen,
                 wi->exptime == 0 ? 0LL : (long long)(cd->clock->started + (time_t)wi->exptime));
    if (n <= 0 || cd->bytes + (size_t)n + 6 > CACHEDUMP_MAX) {
        cd->done = true;
        return;
    }
    mm_out_append(cd->out, line, (size_t)n);
    cd->bytes += (size_t)n;
    if (++cd->shown == cd->limit) {
        cd->done = true;
    }
}

/* The items of mmem's class id, in hash table order (mmem keeps no LRU
 * list to walk), up to limit and to memcached's 2 MB. Class 0 holds
 * mmem's large items but is no class for memcached, so it lists nothing. */
static void
cachedump_run(struct mm_cmd_ctx *ctx, uint32_t id, uint32_t limit, struct mm_out *out)
{
    struct cachedump cd = {out, ctx->env->clock, id, limit, 0, 0, id == 0};
    struct mm_store_cursor cur;
    bool more = true;

    memset(&cur, 0, sizeof(cur));
    while (more && !cd.done) {
        more = mm_store_walk(ctx->env->store, &cur, cachedump_item, &cd, CACHEDUMP_STEP);
    }
    MM_OUT_LIT(out, "END\r\n");
}

static void
stats_cachedump(struct mm_cmd_ctx *ctx, const struct mm_span *tok, size_t ntok, struct mm_out *out)
{
    uint32_t id, limit;

    if (!ctx->env->settings->dump_enabled) {
        MM_OUT_LIT(out, "CLIENT_ERROR stats cachedump not allowed\r\n");
        return;
    }
    if (ntok < 3) {
        MM_OUT_LIT(out, "CLIENT_ERROR bad command line\r\n");
        return;
    }
    if (!mm_text_scan_u32(tok[1], &id) || !mm_text_scan_u32(tok[2], &limit)) {
        MM_OUT_LIT(out, "CLIENT_ERROR bad command line format\r\n");
        return;
    }
    if (id >= MM_CMD_MAX_SLAB_CLASSES) {
        MM_OUT_LIT(out, "CLIENT_ERROR Illegal slab id\r\n");
        return;
    }
    cachedump_run(ctx, id, limit, out);
}

/* "stats settings": the settings as given, except those commands change,
 * which memcached reports as they are now: track_sizes (stats
 * sizes_enable/disable), maxbytes (cache_memlimit), slab_automove and its
 * ratio (slabs automove) and the crawler's (lru_crawler enable|disable|sleep|tocrawl). */
struct settings_ctx {
    struct mm_out *out;
    const struct mm_cmd_env *env;
};

static void
settings_line(void *arg, const char *name, const char *value)
{
    struct settings_ctx *sc = arg;

    struct mm_store *st = sc->env->store;
    struct mm_store_stats ss;
    char buf[32];

    if (strcmp(name, "track_sizes") == 0) {
        value = mm_store_sizes_enabled(st) ? "yes" : "no";
    } else if (strcmp(name, "lru_crawler") == 0) {
        value = mm_store_crawler_enabled(st) ? "yes" : "no";
    } else if (strcmp(name, "maxbytes") == 0) {
        mm_store_stats_get(st, &ss);
        snprintf(buf, sizeof(buf), "%" PRIu64, ss.limit_maxbytes);
        value = buf;
    } else if (strcmp(name, "slab_automove_ratio") == 0) {
        snprintf(buf, sizeof(buf), "%.2f", mm_store_automove_ratio(st));
        value = buf;
    } else if (strcmp(name, "slab_automove") == 0) {
        snprintf(buf, sizeof(buf), "%d", mm_store_automove(st));
        value = buf;
    } else if (strcmp(name, "lru_crawler_sleep") == 0) {
        snprintf(buf, sizeof(buf), "%u", mm_store_crawler_sleep(st));
        value = buf;
    } else if (strcmp(name, "lru_crawler_tocrawl") == 0) {
        snprintf(buf, sizeof(buf), "%" PRIu32, mm_store_crawler_tocrawl(st));
        value = buf;
    } else if (strcmp(name, "detail_enabled") == 0 && sc->env->prefix != NULL) {
        value = mm_prefix_enabled(sc->env->prefix) ? "yes" : "no";
    }
    mm_text_stat(sc->out, name, value);
}

/* "stats items": the per-class fields of memcached's segmented LRU appear
 * only with its LRU maintainer (on by default), number_temp (which the
 * store emits with temporary_ttl) as well; see general_hidden. */
static void
items_line(void *arg, const char *name, const char *value)
{
    static const char *const maintainer[] = {
        "number_hot",     "number_warm",   "number_cold",   "age_hot",          "age_warm",
        "evicted_active", "moves_to_cold", "moves_to_warm", "moves_within_lru", "direct_reclaims",
        "hits_to_hot",    "hits_to_warm",  "hits_to_cold",  "hits_to_temp",     NULL};
    struct settings_ctx *sc = arg;
    const struct mm_settings_compat *c = &sc->env->settings->compat;
    const char *field = strrchr(name, ':');

    field = field != NULL ? field + 1 : name;
    if (!c->lru_maintainer && name_in(field, maintainer)) {
        return;
    }
    if (!c->lru_maintainer && strcmp(field, "number_temp") == 0) {
        return;
    }
    mm_text_stat(sc->out, name, value);
}

static bool
tok_is(struct mm_span t, const char *lit)
{
    return t.len == strlen(lit) && memcmp(t.p, lit, t.len) == 0;
}

void
mm_cmd_stats(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out)
{
    const struct mm_cmd_env *env = ctx->env;
    struct mm_span tok[3];
    struct mm_span t;
    size_t ntok = 0, pos = 0;

    while (ntok < 3 && mm_span_next_token(req->args, &pos, &t)) {
        tok[ntok++] = t;
    }
    if (ntok == 0) {
        stats_general(ctx, out);
    } else if (tok_is(tok[0], "reset")) {
        if (env->stats_reset != NULL) {
            env->stats_reset(env->arg);
        } else {
            mm_stats_reset(ctx->stats);
        }
        mm_store_stats_reset(env->store);
        mm_watch_stats_reset(env->watch);
        if (env->prefix != NULL) {
            mm_prefix_clear(env->prefix);
        }
        MM_OUT_LIT(out, "RESET\r\n");
    } else if (tok_is(tok[0], "detail")) {
        struct mm_span none = {"", 0};

        stats_detail(ctx, ntok >= 2 ? tok[1] : none, out);
    } else if (tok_is(tok[0], "settings")) {
        struct settings_ctx sc = {out, env};

        mm_settings_emit(env->settings, settings_line, &sc);
        MM_OUT_LIT(out, "END\r\n");
    } else if (tok_is(tok[0], "cachedump")) {
        stats_cachedump(ctx, tok, ntok, out);
    } else if (tok_is(tok[0], "conns")) {
        if (env->conns_emit != NULL) {
            env->conns_emit(env->arg, emit_line, out);
        }
        MM_OUT_LIT(out, "END\r\n");
    } else if (tok_is(tok[0], "items")) {
        struct settings_ctx sc = {out, env};

        mm_store_stats_items(env->store, items_line, &sc);
        MM_OUT_LIT(out, "END\r\n");
    } else if (tok_is(tok[0], "slabs")) {
        mm_store_stats_slabs(env->store, emit_line, out);
        MM_OUT_LIT(out, "END\r\n");
    } else if (tok_is(tok[0], "sizes")) {
        mm_store_stats_sizes(env->store, emit_line, out);
        MM_OUT_LIT(out, "END\r\n");
    } else if (tok_is(tok[0], "sizes_enable")) {
        /* memcached's replies to these two have no END line. */
        if (mm_store_sizes_enable(env->store) == MM_STORE_SIZES_ENABLED) {
            MM_OUT_LIT(out, "STAT sizes_status enabled\r\n");
        } else {
            MM_OUT_LIT(out, "STAT sizes_status error\r\nSTAT sizes_error cas_support_disabled\r\n");
        }
    } else if (tok_is(tok[0], "sizes_disable")) {
        mm_store_sizes_disable(env->store);
        MM_OUT_LIT(out, "STAT sizes_status disabled\r\n");
    } else {
        MM_OUT_LIT(out, "ERROR\r\n");
    }
}
