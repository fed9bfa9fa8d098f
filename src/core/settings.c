/* Command line: memcached 1.6.18's flags, long options and -o extended
 * options parsed into struct mm_settings, with memcached's defaults, its
 * validation messages and exit statuses, plus the "stats settings" listing in
 * memcached's order. Options that mmem does not implement are either refused
 * by name (-e; -S when built without SASL) or accepted, validated and noted for main to report;
 * without OpenSSL, -Z and the ssl_* options do not exist, as in a memcached built without TLS.
 * No I/O other than writing messages to the FILEs the caller passes. */
#include "config.h"

#include "mmem/settings.h"
#include "mmem/hash.h"
#include "mmem/scan.h"

#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define KB ((size_t)1024)
#define MB ((size_t)1024 * 1024)

/* memcached's own limits and page size: the validation below reproduces its
 * checks against these, whatever page size mmem's slab allocator then uses. */
#define ITEM_SIZE_MAX_LOWER 1024
#define ITEM_SIZE_MAX_UPPER (1024 * MB)
#define MEMCACHED_PAGE_SIZE MB

/* TLS (-Z, -o ssl_*) exists only in a build with OpenSSL (configure). */
#ifdef MMEM_WITH_TLS
#define SETTINGS_TLS true
#define SETTINGS_TLS_FLAG "Z"
#else
#define SETTINGS_TLS false
#define SETTINGS_TLS_FLAG ""
#endif

/* Long option values beyond any char: mmem's own long options. */
#define OPT_READY_FD 1000

/* -o options. "applied" ones change what mmem does; the others are accepted
 * for compatibility and noted. The order is the order of the usage text. */
#define MM_XOPTS(X)                                                                                \
    X(MAXCONNS_FAST, "maxconns_fast", true)                                                        \
    X(NO_MAXCONNS_FAST, "no_maxconns_fast", true)                                                  \
    X(HASHPOWER, "hashpower", true)                                                                \
    X(NO_HASHEXPAND, "no_hashexpand", true)                                                        \
    X(IDLE_TIMEOUT, "idle_timeout", true)                                                          \
    X(SLAB_CHUNK_MAX, "slab_chunk_max", true)                                                      \
    X(READ_BUF_MEM_LIMIT, "read_buf_mem_limit", true)                                              \
    X(EV_BACKEND, "ev_backend", true)                                                              \
    X(SHARD_BITS, "shard_bits", true)                                                              \
    X(NO_CHUNKED_ITEMS, "no_chunked_items", true)                                                  \
    X(MODERN, "modern", true)                                                                      \
    X(NO_MODERN, "no_modern", true)                                                                \
    X(HASH_ALGORITHM, "hash_algorithm", true)                                                      \
    X(LRU_CRAWLER, "lru_crawler", true)                                                            \
    X(NO_LRU_CRAWLER, "no_lru_crawler", true)                                                      \
    X(LRU_CRAWLER_SLEEP, "lru_crawler_sleep", true)                                                \
    X(LRU_CRAWLER_TOCRAWL, "lru_crawler_tocrawl", true)                                            \
    X(LRU_MAINTAINER, "lru_maintainer", false)                                                     \
    X(NO_LRU_MAINTAINER, "no_lru_maintainer", false)                                               \
    X(HOT_LRU_PCT, "hot_lru_pct", false)                                                           \
    X(WARM_LRU_PCT, "warm_lru_pct", false)                                                         \
    X(HOT_MAX_FACTOR, "hot_max_factor", false)                                                     \
    X(WARM_MAX_FACTOR, "warm_max_factor", false)                                                   \
    X(TEMPORARY_TTL, "temporary_ttl", true)                                                        \
    X(WATCHER_LOGBUF_SIZE, "watcher_logbuf_size", true)                                            \
    X(WORKER_LOGBUF_SIZE, "worker_logbuf_size", true)                                              \
    X(TRACK_SIZES, "track_sizes", true)                                                            \
    X(SLAB_REASSIGN, "slab_reassign", true)                                                        \
    X(NO_SLAB_REASSIGN, "no_slab_reassign", true)                                                  \
    X(SLAB_AUTOMOVE, "slab_automove", true)                                                        \
    X(NO_SLAB_AUTOMOVE, "no_slab_automove", true)                                                  \
    X(SLAB_AUTOMOVE_RATIO, "slab_automove_ratio", true)                                            \
    X(SLAB_AUTOMOVE_WINDOW, "slab_automove_window", true)                                          \
    X(SLAB_SIZES, "slab_sizes", true)                                                              \
    X(INLINE_ASCII_RESP, "inline_ascii_resp", true)                                                \
    X(NO_INLINE_ASCII_RESP, "no_inline_ascii_resp", true)                                          \
    X(NO_DROP_PRIVILEGES, "no_drop_privileges", true)                                              \
    X(RESP_OBJ_MEM_LIMIT, "resp_obj_mem_limit", true)                                              \
    X(SOCK_COOKIE_ID, "sock_cookie_id", true)                                                      \
    X(SSL_CHAIN_CERT, "ssl_chain_cert", true)                                                      \
    X(SSL_KEY, "ssl_key", true)                                                                    \
    X(SSL_VERIFY_MODE, "ssl_verify_mode", true)                                                    \
    X(SSL_KEYFORMAT, "ssl_keyformat", true)                                                        \
    X(SSL_CIPHERS, "ssl_ciphers", true)                                                            \
    X(SSL_CA_CERT, "ssl_ca_cert", true)                                                            \
    X(SSL_WBUF_SIZE, "ssl_wbuf_size", true)                                                        \
    X(SSL_SESSION_CACHE, "ssl_session_cache", true)                                                \
    X(SSL_KERNEL_TLS, "ssl_kernel_tls", true)                                                      \
    X(SSL_MIN_VERSION, "ssl_min_version", true)

enum xopt_id {
#define XOPT_ENUM(id, name, applied) XOPT_##id,
    MM_XOPTS(XOPT_ENUM)
#undef XOPT_ENUM
        XOPT_COUNT
};

struct xopt {
    const char *name;
    bool applied;
};

static const struct xopt xopts[] = {
#define XOPT_ROW(id, name, applied) {name, applied},
    MM_XOPTS(XOPT_ROW)
#undef XOPT_ROW
};

_Static_assert(XOPT_COUNT < UINT16_MAX, "noted ids fit in uint16_t");

static const char *const ssl_versions[] = {"tlsv1.0", "tlsv1.1", "tlsv1.2", "tlsv1.3"};

/* ---- small helpers ------------------------------------------------------ */

/* glibc's atoi is (int)strtol: saturated at long range, then truncated to
 * int. memcached parses most numeric flags with atoi, so mmem does the same
 * (with the truncation made well defined). */
static int
c_atoi(const char *v)
{
    long l = strtol(v, NULL, 10);

    return (int)(unsigned)(unsigned long)l;
}

static bool
scan_u32_str(const char *v, uint32_t *out)
{
    return mm_scan_u32(v, v + strlen(v), out);
}

static bool
scan_i32_str(const char *v, int32_t *out)
{
    return mm_scan_i32(v, v + strlen(v), out);
}

static enum mm_settings_rc
fail(struct mm_settings *s, int code)
{
    s->exit_code = code;
    return MM_SETTINGS_ERROR;
}

/* Copy n bytes of p into the settings' string store, NUL-terminated. NULL
 * when the store is full (a command line of several kilobytes). */
static char *
store_str(struct mm_settings *s, const char *p, size_t n)
{
    char *dst;

    if (s->strbuf_used + n + 1 > sizeof(s->strbuf)) {
        return NULL;
    }
    dst = s->strbuf + s->strbuf_used;
    memcpy(dst, p, n);
    dst[n] = '\0';
    s->strbuf_used += n + 1;
    return dst;
}

static void
note(struct mm_settings *s, unsigned id)
{
    int i;

    for (i = 0; i < s->nnoted; i++) {
        if (s->noted[i] == id) {
            return;
        }
    }
    if (s->nnoted < MM_SETTINGS_MAX_NOTED) {
        s->noted[s->nnoted++] = (uint16_t)id;
    }
}

const char *
mm_settings_noted(const struct mm_settings *s, int i)
{
    unsigned id;

    if (i < 0 || i >= s->nnoted) {
        return NULL;
    }
    id = s->noted[i];
    return id < XOPT_COUNT ? xopts[id].name : NULL;
}

/* ---- defaults ----------------------------------------------------------- */

void
mm_settings_init(struct mm_settings *s)
{
    struct mm_settings_compat *c = &s->compat;

    memset(s, 0, sizeof(*s));
    s->port = 11211;
    s->udp_port = 0;
    s->access = 0700;
    s->backlog = 1024;
    s->ready_fd = -1;
    s->maxbytes = 64 * MB;
    s->evict_to_free = true;
    s->item_size_max = MB;
    s->factor = 1.25;
    s->chunk_size = 48;
    s->use_cas = true;
    s->slab_chunk_size_max = MEMCACHED_PAGE_SIZE / 2;
    s->slab_page_size = MEMCACHED_PAGE_SIZE;
    s->hash_expand = true;
    s->maxconns = 1024;
    s->maxconns_fast = true;
    s->num_threads = 4;
    s->reqs_per_event = 20;
    s->binding_protocol = MM_SETTINGS_PROTO_AUTO;
    s->flush_enabled = true;
    s->dump_enabled = true;
    s->watch_enabled = true;
    s->prefix_delimiter = ':';

    c->slab_automove = 1;
    c->slab_automove_ratio = 0.8;
    c->slab_automove_window = 30;
    c->lru_crawler_sleep = 100;
    c->hot_lru_pct = 20;
    c->warm_lru_pct = 40;
    c->hot_max_factor = 0.2;
    c->warm_max_factor = 2.0;
    c->lru_maintainer = true;
    c->lru_crawler = true;
    c->slab_reassign = true;
    c->temporary_ttl = 61;
    c->watcher_logbuf_size = 256 * 1024;
    c->worker_logbuf_size = 64 * 1024;
    c->drop_privileges = true;
    c->ext_page_size = 64;
    c->ext_wbuf_size = 4 * 1024 * 1024;
    c->ext_threads = 1;
    c->ext_io_depth = 1;
    c->ext_item_size = 512;
    c->ext_item_age = UINT32_MAX;
    c->ext_recache_rate = 2000;
    c->ext_max_sleep = 1000000;
    c->ext_max_frag = 0.8;
    c->slab_automove_freeratio = 0.01;
    c->ssl_keyformat = 1;
    c->ssl_min_version = 2;
    c->ssl_wbuf_size = 16 * 1024;
}

/* ---- -l ----------------------------------------------------------------- */

static bool
listen_has(const struct mm_settings *s, const char *p, size_t n)
{
    int i;

    for (i = 0; i < s->nlisten; i++) {
        if (strlen(s->listen[i]) == n && memcmp(s->listen[i], p, n) == 0) {
            return true;
        }
    }
    return false;
}

/* One -l argument: a list separated by ',' or ';' (as memcached splits it
 * when it binds). Each new address becomes one entry. */
static enum mm_settings_rc
add_listen(struct mm_settings *s, const char *arg, FILE *err)
{
    const char *p = arg;

    while (*p != '\0') {
        size_t n = strcspn(p, ",;");

        if (n > 0 && !listen_has(s, p, n)) {
            char *e;

            if (s->nlisten >= MM_SETTINGS_MAX_LISTEN) {
                fprintf(err, "mmem: too many -l addresses (at most %d)\n", MM_SETTINGS_MAX_LISTEN);
                return fail(s, MM_SETTINGS_EX_USAGE);
            }
            e = store_str(s, p, n);
            if (e == NULL) {
                fprintf(err, "mmem: -l arguments too long\n");
                return fail(s, MM_SETTINGS_EX_USAGE);
            }
            s->listen[s->nlisten++] = e;
        }
        p += n;
        if (*p != '\0') {
            p++;
        }
    }
    return MM_SETTINGS_OK;
}

/* Rebuild the joined "inter" string from the entries. */
static enum mm_settings_rc
join_listen(struct mm_settings *s, FILE *err)
{
    size_t total = 0;
    char *dst;
    char *w;
    int i;

    if (s->nlisten == 0) {
        s->inter = NULL;
        return MM_SETTINGS_OK;
    }
    for (i = 0; i < s->nlisten; i++) {
        total += strlen(s->listen[i]) + 1;
    }
    if (s->strbuf_used + total > sizeof(s->strbuf)) {
        fprintf(err, "mmem: -l arguments too long\n");
        return fail(s, MM_SETTINGS_EX_USAGE);
    }
    dst = s->strbuf + s->strbuf_used;
    w = dst;
    for (i = 0; i < s->nlisten; i++) {
        size_t n = strlen(s->listen[i]);

        if (i > 0) {
            *w++ = ',';
        }
        memcpy(w, s->listen[i], n);
        w += n;
    }
    *w = '\0';
    s->strbuf_used += total;
    s->inter = dst;
    return MM_SETTINGS_OK;
}

int
mm_settings_split_listen(const char *entry, char *host, size_t hostlen, int *port)
{
    const char *h = entry;
    size_t hn;
    const char *portstr = NULL;

    if (entry == NULL || host == NULL || hostlen == 0) {
        return -1;
    }
    if (entry[0] == '[') {
        const char *close = strchr(entry, ']');

        if (close == NULL) {
            return -1;
        }
        h = entry + 1;
        hn = (size_t)(close - h);
        if (close[1] == ':') {
            portstr = close + 2;
        } else if (close[1] != '\0') {
            return -1;
        }
    } else {
        const char *colon = strchr(entry, ':');

        hn = strlen(entry);
        /* One ':' separates a port; more mean a bare IPv6 address. */
        if (colon != NULL && strchr(colon + 1, ':') == NULL) {
            hn = (size_t)(colon - entry);
            portstr = colon + 1;
        }
    }
    if (portstr != NULL) {
        int32_t v;

        if (!mm_scan_i32(portstr, portstr + strlen(portstr), &v) || v < 0 || v > 65535) {
            return -1;
        }
        *port = v;
    }
    if (hn >= hostlen) {
        return -1;
    }
    if (hn == 1 && h[0] == '*') {
        hn = 0;
    }
    memcpy(host, h, hn);
    host[hn] = '\0';
    return 0;
}

/* ---- -o ----------------------------------------------------------------- */

static int
xopt_lookup(const char *name)
{
    int i;

    for (i = 0; i < XOPT_COUNT; i++) {
        if (!SETTINGS_TLS && i >= XOPT_SSL_CHAIN_CERT && i <= XOPT_SSL_MIN_VERSION) {
            continue; /* a build without TLS does not know these names */
        }
        if (strcmp(xopts[i].name, name) == 0) {
            return i;
        }
    }
    return -1;
}

/* "Missing X argument", memcached's wording for most options. */
static enum mm_settings_rc
missing(struct mm_settings *s, FILE *err, const char *name)
{
    fprintf(err, "Missing %s argument\n", name);
    return fail(s, 1);
}

static enum mm_settings_rc
unparsable(struct mm_settings *s, FILE *err, const char *name)
{
    fprintf(err, "could not parse argument to %s\n", name);
    return fail(s, 1);
}

/* Options taking a 32-bit unsigned with memcached's generic messages; the
 * value is multiplied by unit. */
static enum mm_settings_rc
xopt_u32(struct mm_settings *s, FILE *err, const char *name, const char *val, uint32_t unit,
         uint32_t *dst)
{
    uint32_t v;

    if (val == NULL) {
        return missing(s, err, name);
    }
    if (!scan_u32_str(val, &v)) {
        return unparsable(s, err, name);
    }
    *dst = v * unit;
    return MM_SETTINGS_OK;
}

static enum mm_settings_rc
xopt_string(struct mm_settings *s, FILE *err, const char *name, const char *val, const char **dst)
{
    if (val == NULL) {
        return missing(s, err, name);
    }
    *dst = val;
    return MM_SETTINGS_OK;
}

/* Apply one "name[=value]" -o option. val is NULL when there was no '=';
 * both live in the settings' string store. */
static enum mm_settings_rc
apply_xopt(struct mm_settings *s, int id, const char *val, FILE *err)
{
    struct mm_settings_compat *c = &s->compat;
    const char *name = xopts[id].name;
    int32_t i32;
    uint32_t u32;

    switch ((enum xopt_id)id) {
    case XOPT_MAXCONNS_FAST:
        s->maxconns_fast = true;
        break;
    case XOPT_NO_MAXCONNS_FAST:
        s->maxconns_fast = false;
        break;
    case XOPT_HASHPOWER:
        if (val == NULL) {
            fprintf(err, "Missing numeric argument for hashpower\n");
            return fail(s, 1);
        }
        s->hashpower_init = c_atoi(val);
        if (s->hashpower_init < 12) {
            fprintf(err, "Initial hashtable multiplier of %d is too low\n", s->hashpower_init);
            return fail(s, 1);
        }
        if (s->hashpower_init > 32) {
            fprintf(err,
                    "Initial hashtable multiplier of %d is too high\n"
                    "Choose a value based on \"STAT hash_power_level\" from a running instance\n",
                    s->hashpower_init);
            return fail(s, 1);
        }
        break;
    case XOPT_NO_HASHEXPAND:
        s->hash_expand = false;
        break;
    case XOPT_IDLE_TIMEOUT:
        if (val == NULL) {
            fprintf(err, "Missing numeric argument for idle_timeout\n");
            return fail(s, 1);
        }
        /* memcached takes atoi(); a negative timeout never fires there, so
         * it is the same as 0 (off) here. */
        i32 = c_atoi(val);
        s->idle_timeout = i32 > 0 ? (unsigned)i32 : 0;
        break;
    case XOPT_SLAB_CHUNK_MAX:
        /* memcached crashes on a missing or zero value; mmem refuses. The
         * value is in bytes, whatever memcached's help text says. */
        if (val == NULL) {
            return missing(s, err, name);
        }
        if (!scan_i32_str(val, &i32) || i32 <= 0) {
            return unparsable(s, err, name);
        }
        s->slab_chunk_size_max = (size_t)i32;
        s->slab_chunk_changed = true;
        break;
    case XOPT_READ_BUF_MEM_LIMIT:
        if (val == NULL) {
            return missing(s, err, name);
        }
        if (!scan_u32_str(val, &u32)) {
            return unparsable(s, err, name);
        }
        s->read_buf_mem_limit = (size_t)u32 * MB;
        break;
    case XOPT_EV_BACKEND:
        if (val == NULL || val[0] == '\0') {
            return missing(s, err, name);
        }
        /* Whether the name exists is the event loop's business: it is
         * checked when the first loop is created, with the list of names. */
        s->ev_backend = val;
        break;
    case XOPT_SHARD_BITS:
        if (val == NULL) {
            return missing(s, err, name);
        }
        if (!scan_u32_str(val, &u32) || u32 > 8) {
            fprintf(err, "shard_bits must be between 0 and 8\n");
            return fail(s, 1);
        }
        s->shard_bits = u32;
        break;
    case XOPT_NO_CHUNKED_ITEMS:
        s->slab_chunk_size_max = MEMCACHED_PAGE_SIZE;
        break;
    case XOPT_MODERN:
        break;
    case XOPT_NO_MODERN:
        /* 1.4 defaults: the parts with meaning in mmem are the chunk size
         * and maxconns_fast; the rest only change reported values. */
        if (!s->slab_chunk_changed) {
            s->slab_chunk_size_max = MEMCACHED_PAGE_SIZE;
        }
        s->maxconns_fast = false;
        c->slab_automove = 0;
        c->lru_maintainer = false;
        c->lru_crawler = false;
        c->slab_reassign = false;
        c->hash_algorithm = "jenkins";
        break;
    case XOPT_HASH_ALGORITHM:
        if (val == NULL) {
            fprintf(err, "Missing hash_algorithm argument\n");
            return fail(s, 1);
        }
        if (strcmp(val, "jenkins") != 0 && strcmp(val, "murmur3") != 0 &&
            strcmp(val, "xxh3") != 0) {
            fprintf(err, "Unknown hash_algorithm option (jenkins, murmur3, xxh3)\n");
            return fail(s, 1);
        }
        c->hash_algorithm = val;
        break;
    case XOPT_LRU_CRAWLER:
    case XOPT_NO_LRU_CRAWLER:
        c->lru_crawler = id == XOPT_LRU_CRAWLER;
        break;
    case XOPT_LRU_CRAWLER_SLEEP:
        if (val == NULL) {
            fprintf(err, "Missing lru_crawler_sleep value\n");
            return fail(s, 1);
        }
        c->lru_crawler_sleep = c_atoi(val);
        if (c->lru_crawler_sleep > 1000000 || c->lru_crawler_sleep < 0) {
            fprintf(err, "LRU crawler sleep must be between 0 and 1 second\n");
            return fail(s, 1);
        }
        break;
    case XOPT_LRU_CRAWLER_TOCRAWL:
        if (val == NULL) {
            fprintf(err, "Missing lru_crawler_tocrawl value\n");
            return fail(s, 1);
        }
        if (!scan_u32_str(val, &c->lru_crawler_tocrawl)) {
            fprintf(err, "lru_crawler_tocrawl takes a numeric 32bit value\n");
            return fail(s, 1);
        }
        break;
    case XOPT_LRU_MAINTAINER:
        c->lru_maintainer = true;
        break;
    case XOPT_NO_LRU_MAINTAINER:
        c->lru_maintainer = false;
        break;
    case XOPT_HOT_LRU_PCT:
    case XOPT_WARM_LRU_PCT: {
        int *pct = id == XOPT_HOT_LRU_PCT ? &c->hot_lru_pct : &c->warm_lru_pct;

        if (val == NULL) {
            return missing(s, err, name);
        }
        *pct = c_atoi(val);
        if (*pct < 1 || *pct >= 80) {
            fprintf(err, "%s must be > 1 and < 80\n", name);
            return fail(s, 1);
        }
        break;
    }
    case XOPT_HOT_MAX_FACTOR:
    case XOPT_WARM_MAX_FACTOR: {
        double *f = id == XOPT_HOT_MAX_FACTOR ? &c->hot_max_factor : &c->warm_max_factor;

        if (val == NULL) {
            return missing(s, err, name);
        }
        *f = strtod(val, NULL);
        if (!(*f > 0)) {
            fprintf(err, "%s must be > 0\n", name);
            return fail(s, 1);
        }
        break;
    }
    case XOPT_TEMPORARY_TTL:
        if (val == NULL) {
            return missing(s, err, name);
        }
        c->temp_lru = true;
        c->temporary_ttl = c_atoi(val);
        break;
    case XOPT_WATCHER_LOGBUF_SIZE:
        return xopt_u32(s, err, name, val, 1024, &c->watcher_logbuf_size);
    case XOPT_WORKER_LOGBUF_SIZE:
        /* memcached 1.6.18 falls through into slab_sizes here (a bug); mmem
         * keeps the documented meaning. */
        return xopt_u32(s, err, name, val, 1024, &c->worker_logbuf_size);
    case XOPT_TRACK_SIZES:
        s->track_sizes = true;
        break;
    case XOPT_SLAB_REASSIGN:
    case XOPT_NO_SLAB_REASSIGN:
        c->slab_reassign = id == XOPT_SLAB_REASSIGN;
        break;
    case XOPT_SLAB_AUTOMOVE:
        if (val == NULL) {
            c->slab_automove = 1;
            break;
        }
        c->slab_automove = c_atoi(val);
        if (c->slab_automove < 0 || c->slab_automove > 2) {
            fprintf(err, "slab_automove must be between 0 and 2\n");
            return fail(s, 1);
        }
        break;
    case XOPT_NO_SLAB_AUTOMOVE:
        c->slab_automove = 0;
        break;
    case XOPT_SLAB_AUTOMOVE_RATIO:
        if (val == NULL) {
            return missing(s, err, name);
        }
        c->slab_automove_ratio = strtod(val, NULL);
        if (!(c->slab_automove_ratio > 0 && c->slab_automove_ratio <= 1)) {
            fprintf(err, "slab_automove_ratio must be > 0 and < 1\n");
            return fail(s, 1);
        }
        break;
    case XOPT_SLAB_AUTOMOVE_WINDOW:
        if (val == NULL) {
            return missing(s, err, name);
        }
        c->slab_automove_window = c_atoi(val);
        if (c->slab_automove_window < 3) {
            fprintf(err, "slab_automove_window must be > 2\n");
            return fail(s, 1);
        }
        break;
    case XOPT_SLAB_SIZES:
        /* memcached crashes without a value; mmem refuses. */
        return xopt_string(s, err, name, val, &c->slab_sizes);
    case XOPT_INLINE_ASCII_RESP:
    case XOPT_NO_INLINE_ASCII_RESP:
        /* Both are accepted and ignored by memcached 1.6 itself: replies
         * look the same either way. */
        break;
    case XOPT_NO_DROP_PRIVILEGES:
        /* No sandbox is asked for, and mmem sets up none. */
        c->drop_privileges = false;
        break;
    case XOPT_RESP_OBJ_MEM_LIMIT:
        /* memcached 1.6.18 ignores the value after this one line, so the
         * line is all a user gets there too. */
        fprintf(err, "DEPRECATED: resp_obj_mem_limit no longer used. See read_buf_mem_limit,\n");
        break;
    case XOPT_SOCK_COOKIE_ID:
        /* memcached crashes without a value; mmem refuses. Read as
         * strtoul, so a word is 0, and 0 sets no mark. */
        if (val == NULL) {
            return missing(s, err, name);
        }
        c->sock_cookie_id = (uint32_t)strtoul(val, NULL, 10);
        break;
    case XOPT_SSL_CHAIN_CERT:
        return xopt_string(s, err, name, val, &c->ssl_chain_cert);
    case XOPT_SSL_KEY:
        return xopt_string(s, err, name, val, &c->ssl_key);
    case XOPT_SSL_CIPHERS:
        return xopt_string(s, err, name, val, &c->ssl_ciphers);
    case XOPT_SSL_CA_CERT:
        return xopt_string(s, err, name, val, &c->ssl_ca_cert);
    case XOPT_SSL_VERIFY_MODE:
    case XOPT_SSL_MIN_VERSION: {
        int *dst = id == XOPT_SSL_VERIFY_MODE ? &c->ssl_verify_mode : &c->ssl_min_version;

        if (val == NULL) {
            return missing(s, err, name);
        }
        if (!scan_i32_str(val, &i32)) {
            return unparsable(s, err, name);
        }
        if (i32 < 0 || i32 > 3) {
            fprintf(err, "Invalid %s. Use help to see valid options.\n", name);
            return fail(s, 1);
        }
        *dst = i32;
        break;
    }
    case XOPT_SSL_KEYFORMAT:
        if (val == NULL) {
            return missing(s, err, name);
        }
        if (!scan_i32_str(val, &i32)) {
            return unparsable(s, err, name);
        }
        c->ssl_keyformat = i32;
        break;
    case XOPT_SSL_WBUF_SIZE:
        return xopt_u32(s, err, name, val, 1024, &c->ssl_wbuf_size);
    case XOPT_SSL_SESSION_CACHE:
        c->ssl_session_cache = true;
        break;
    case XOPT_SSL_KERNEL_TLS:
        c->ssl_kernel_tls = true;
        break;
    case XOPT_COUNT:
        break;
    }
    return MM_SETTINGS_OK;
}

/* One -o argument: "name[=value][,name[=value]...]". */
static enum mm_settings_rc
parse_xopts(struct mm_settings *s, const char *arg, FILE *err)
{
    char *copy = store_str(s, arg, strlen(arg));
    char *p = copy;

    if (copy == NULL) {
        fprintf(err, "mmem: -o arguments too long\n");
        return fail(s, MM_SETTINGS_EX_USAGE);
    }
    while (*p != '\0') {
        char *tok = p;
        char *comma = strchr(p, ',');
        char *eq;
        int id;
        enum mm_settings_rc rc;

        if (comma != NULL) {
            *comma = '\0';
            p = comma + 1;
        } else {
            p += strlen(p);
        }
        eq = strchr(tok, '=');
        if (eq != NULL) {
            *eq = '\0';
        }
        id = xopt_lookup(tok);
        if (id < 0) {
            if (eq != NULL) {
                *eq = '=';
            }
            fprintf(err, "Illegal suboption \"%s\"\n", tok);
            return fail(s, 1);
        }
        rc = apply_xopt(s, id, eq != NULL ? eq + 1 : NULL, err);
        if (rc != MM_SETTINGS_OK) {
            return rc;
        }
        if (!xopts[id].applied) {
            note(s, (unsigned)id);
        }
    }
    return MM_SETTINGS_OK;
}

/* ---- help, licence ------------------------------------------------------ */

void
mm_settings_usage(FILE *out)
{
    fprintf(out, "%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
    fprintf(out,
            "-p, --port=<num>          TCP port to listen on (default: 11211; 0: no TCP,\n"
            "                          -1: a free port)\n"
            "-U, --udp-port=<num>      UDP port to listen on (default: 0, off; -1: a free\n"
            "                          port); given alone, TCP listens on it too\n"
            "-s, --unix-socket=<file>  listen on this UNIX socket instead of TCP\n"
            "-a, --unix-mask=<mask>    permissions of the UNIX socket, octal (default: 700)\n"
            "-A, --enable-shutdown     allow the ascii \"shutdown\" command\n"
            "-l, --listen=<addr>       address to listen on (default: all); repeat the flag or\n"
            "                          give a comma list; <addr>:<port>, [<ipv6>]:<port> and a\n"
            "                          bare IPv6 address are accepted\n");
    if (SETTINGS_TLS) {
        fprintf(out,
                "                          with -Z, a 'notls:' prefix makes that listener plain\n"
                "                          (-l notls:<ip>:<port>)\n");
    }
    fprintf(out,
            "-d, --daemon              detach and run in the background\n"
            "-r, --enable-coredumps    raise the core file size limit to the maximum\n"
            "-u, --user=<user>         switch to this user after start-up (needed as root)\n"
            "-m, --memory-limit=<num>  memory for items, in megabytes (default: 64)\n"
            "-M, --disable-evictions   answer an error when memory is full instead of evicting\n"
            "-c, --conn-limit=<num>    most connections open at once (default: 1024)\n"
            "-k, --lock-memory         lock all pages in memory (mlockall)\n"
            "-v, --verbose             log errors and warnings from the event loop\n"
            "-vv                       also log client commands and replies\n"
            "-vvv                      also log internal state changes\n"
            "-h, --help                show this text and exit\n"
            "-i, --license             show the licence and exit\n"
            "-V, --version             show the version and exit\n"
            "-P, --pidfile=<file>      write the process id to this file\n"
            "-f, --slab-growth-factor=<num> size ratio between slab classes above 512\n"
            "                          bytes; 16-byte steps up to it (default: 1.25)\n"
            "-n, --slab-min-size=<bytes> smallest space for key, value and flags (default: 48)\n"
            "-L, --enable-largepages  allocate all item memory up front\n"
            "-D <char>                 delimiter between key prefix and id for per-prefix\n"
            "                          stats (default: \":\"); giving it turns those stats on,\n"
            "                          otherwise \"stats detail on\" does\n"
            "-t, --threads=<num>       worker threads (default: 4)\n"
            "-R, --max-reqs-per-event  requests served from one connection before the others\n"
            "                          get a turn (default: 20)\n"
            "-C, --disable-cas         do not keep CAS values\n"
            "-b, --listen-backlog=<num> listen queue length (default: 1024)\n"
            "-B, --protocol=<name>     ascii, binary or auto (default: auto)\n"
            "-I, --max-item-size=<num> largest item, with k or m suffix\n"
            "                          (default: 1m, min: 1k, max: 1024m)\n"
            "-S, --enable-sasl         turn on SASL authentication (binary protocol)\n"
            "-F, --disable-flush-all   refuse the flush_all command\n"
            "-X, --disable-dumping     refuse stats cachedump and lru_crawler metadump\n"
            "-W, --disable-watch       refuse the watch command\n"
            "-Y, --auth-file=<file>    ASCII authentication: a file of user:password lines\n"
            "-e, --memory-file=<file>  item memory in a mapped file (not supported yet)\n");
    if (SETTINGS_TLS) {
        fprintf(out, "-Z, --enable-ssl          TLS on every TCP listener (see ssl_* below)\n");
    }
    fprintf(out,
            "-N, --napi-ids=<num>      NAPI ids: a connection goes to the worker of its\n"
            "                          receive queue's NAPI id (round robin for id 0)\n"
            "    --ready-fd=<fd>       (mmem) once listening, write the TCP port and a newline\n"
            "                          to this file descriptor\n"
            "-o, --extended            extended options, comma separated, key or key=value:\n");
    fprintf(
        out,
        "   - maxconns_fast:       close new connections at once past -c (default: on;\n"
        "                          no_maxconns_fast turns it off)\n"
        "   - hashpower:           initial hash table size as a power of two (12-32)\n"
        "   - no_hashexpand:       never grow the hash table\n"
        "   - idle_timeout:        close connections idle this many seconds (default: 0, never)\n"
        "   - slab_chunk_max:      largest slab chunk, in bytes (default: 524288)\n"
        "   - read_buf_mem_limit:  megabytes for connection buffers (default: 0, no limit)\n"
        "   - no_chunked_items:    slab chunks as large as a page\n"
        "   - modern, no_modern:   today's defaults / 1.4's defaults\n"
        "   - ev_backend:          (mmem) event loop: epoll (default), libevent or poll\n"
        "   - shard_bits:          (mmem) split the table into 2^n shards, 0-8 (default: 0)\n"
        "   - track_sizes:         keep the \"stats sizes\" histogram from the start\n"
        "   - watcher_logbuf_size: KB of log lines held per \"watch\" client (default: 256)\n"
        "   - slab_reassign, no_slab_reassign: let pages move between classes (default: on)\n"
        "   - slab_automove:       0 off, 1 move pages to where items are evicted young\n"
        "                          (default), 2 move on every eviction\n"
        "   - slab_automove_ratio: how much colder a source must be (default: 0.8)\n"
        "   - slab_automove_window: samples (100 ms each) a class must be evicting in\n"
        "                          (default: 30)\n"
        "   - lru_crawler, no_lru_crawler: reclaim expired items in the background (on)\n"
        "   - lru_crawler_sleep:   microseconds of pause per 1,000 items (default: 100)\n"
        "   - lru_crawler_tocrawl: items per class per run, 0 = all (default: 0)\n"
        "   - temporary_ttl:       items with a TTL up to this are never evicted\n"
        "   - worker_logbuf_size:  accepted; watch lines go straight to each watcher's\n"
        "                          buffer, none wait per worker (default: 64)\n"
        "   - hash_algorithm:      jenkins, murmur3 or xxh3: the name \"stats settings\"\n"
        "                          reports; mmem hashes keys with xxh64 whatever it says\n"
        "   - sock_cookie_id:      SO_MARK of the listening sockets, for firewalls\n"
        "   - no_drop_privileges:  no system call sandbox (mmem has none to drop)\n"
        "   - inline_ascii_resp, no_inline_ascii_resp, resp_obj_mem_limit: accepted and\n"
        "                          ignored, as memcached 1.6 does\n"
        "   - slab_sizes:          the classes' chunk sizes, dash separated (above them\n"
        "                          one class of slab_chunk_max)\n");
    if (SETTINGS_TLS) {
        fprintf(
            out,
            "   - ssl_chain_cert:      certificate chain file in PEM format\n"
            "   - ssl_key:             private key, if not part of the ssl_chain_cert file\n"
            "   - ssl_keyformat:       private key format: 1 PEM, 2 DER (default: 1)\n"
            "   - ssl_verify_mode:     client certificates: 0 not asked (default), 1 checked\n"
            "                          if sent, 2 required, 3 required once per session\n"
            "   - ssl_ciphers:         OpenSSL cipher list (TLS 1.2 and older)\n"
            "   - ssl_ca_cert:         PEM file of the CAs client certificates must chain to\n"
            "   - ssl_wbuf_size:       KB gathered into one TLS record per write (default: 16)\n"
            "   - ssl_session_cache:   server-side session cache, for resumption\n"
            "   - ssl_kernel_tls:      kernel TLS offload where the kernel offers it\n"
            "   - ssl_min_version:     oldest protocol accepted: 0 tlsv1.0, 1 tlsv1.1,\n"
            "                          2 tlsv1.2 (default), 3 tlsv1.3\n");
    }
    fprintf(out,
            "  accepted for compatibility with memcached, checked, and without effect in mmem:\n"
            "   - lru_maintainer, no_lru_maintainer, hot_lru_pct, warm_lru_pct,\n"
            "     hot_max_factor, warm_max_factor\n"
            "Environment: MEMCACHED_PORT_FILENAME=<file> gets \"TCP INET: <port>\" and\n"
            "\"UDP INET: <port>\" lines (INET6 for IPv6) for the ports bound.\n");
}

void
mm_settings_license(FILE *out)
{
    fprintf(out, "%s %s\n\n", PACKAGE_NAME, PACKAGE_VERSION);
    fprintf(out, "MIT License\n"
                 "\n"
                 "Permission is hereby granted, free of charge, to any person obtaining a copy\n"
                 "of this software and associated documentation files (the \"Software\"), to deal\n"
                 "in the Software without restriction, including without limitation the rights\n"
                 "to use, copy, modify, merge, publish, distribute, sublicense, and/or sell\n"
                 "copies of the Software, and to permit persons to whom the Software is\n"
                 "furnished to do so, subject to the following conditions:\n"
                 "\n"
                 "The above copyright notice and this permission notice shall be included in all\n"
                 "copies or substantial portions of the Software.\n"
                 "\n"
                 "THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR\n"
                 "IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,\n"
                 "FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE\n"
                 "AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER\n"
                 "LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,\n"
                 "OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE\n"
                 "SOFTWARE.\n"
                 "\n"
                 "[ libevent ]\n"
                 "\n"
                 "mmem links libevent (https://libevent.org/), distributed under the 3-clause\n"
                 "BSD licence by Niels Provos, Nick Mathewson and its contributors. Its licence\n"
                 "text ships with libevent (on Debian: /usr/share/doc/libevent-*/copyright).\n");
}

/* ---- argv --------------------------------------------------------------- */

static const char shortopts[] =
    ":a:A" SETTINGS_TLS_FLAG "p:s:U:m:Mc:khiVrvdl:u:P:f:n:t:D:LR:Cb:B:I:SFXWY:e:o:N:";

static const struct option longopts[] = {
    {"unix-mask", required_argument, NULL, 'a'},
    {"enable-shutdown", no_argument, NULL, 'A'},
#ifdef MMEM_WITH_TLS
    {"enable-ssl", no_argument, NULL, 'Z'},
#endif
    {"port", required_argument, NULL, 'p'},
    {"unix-socket", required_argument, NULL, 's'},
    {"udp-port", required_argument, NULL, 'U'},
    {"memory-limit", required_argument, NULL, 'm'},
    {"disable-evictions", no_argument, NULL, 'M'},
    {"conn-limit", required_argument, NULL, 'c'},
    {"lock-memory", no_argument, NULL, 'k'},
    {"help", no_argument, NULL, 'h'},
    {"license", no_argument, NULL, 'i'},
    {"version", no_argument, NULL, 'V'},
    {"enable-coredumps", no_argument, NULL, 'r'},
    {"verbose", optional_argument, NULL, 'v'},
    {"daemon", no_argument, NULL, 'd'},
    {"listen", required_argument, NULL, 'l'},
    {"user", required_argument, NULL, 'u'},
    {"pidfile", required_argument, NULL, 'P'},
    {"slab-growth-factor", required_argument, NULL, 'f'},
    {"slab-min-size", required_argument, NULL, 'n'},
    {"threads", required_argument, NULL, 't'},
    {"enable-largepages", no_argument, NULL, 'L'},
    {"max-reqs-per-event", required_argument, NULL, 'R'},
    {"disable-cas", no_argument, NULL, 'C'},
    {"listen-backlog", required_argument, NULL, 'b'},
    {"protocol", required_argument, NULL, 'B'},
    {"max-item-size", required_argument, NULL, 'I'},
    {"enable-sasl", no_argument, NULL, 'S'},
    {"disable-flush-all", no_argument, NULL, 'F'},
    {"disable-dumping", no_argument, NULL, 'X'},
    {"disable-watch", no_argument, NULL, 'W'},
    {"auth-file", required_argument, NULL, 'Y'},
    {"memory-file", required_argument, NULL, 'e'},
    {"extended", required_argument, NULL, 'o'},
    {"napi-ids", required_argument, NULL, 'N'},
    {"ready-fd", required_argument, NULL, OPT_READY_FD},
    {NULL, 0, NULL, 0},
};

static enum mm_settings_rc
unsupported(struct mm_settings *s, FILE *err, const char *flag, const char *what)
{
    fprintf(err, "mmem: %s (%s) is not supported yet\n", flag, what);
    return fail(s, MM_SETTINGS_EX_USAGE);
}

/* The long name of a long option getopt just looked at, for messages. */
static const char *
long_name_of(int c)
{
    const struct option *o;

    for (o = longopts; o->name != NULL; o++) {
        if (o->val == c) {
            return o->name;
        }
    }
    return "?";
}

/* getopt's own messages name the program from argv[0]; mmem prints its own
 * (to err, so they can be tested) in glibc's wording. */
static void
getopt_error(int c, int argc, char **argv, int longindex, FILE *err)
{
    const char *arg = optind - 1 < argc && optind >= 1 ? argv[optind - 1] : "";
    bool is_long = strncmp(arg, "--", 2) == 0;

    if (c == ':') {
        if (is_long) {
            fprintf(err, "mmem: option '--%s' requires an argument\n",
                    longindex >= 0 ? longopts[longindex].name : long_name_of(optopt));
        } else {
            fprintf(err, "mmem: option requires an argument -- '%c'\n", optopt);
        }
    } else if (is_long) {
        if (optopt != 0) {
            fprintf(err, "mmem: option '--%s' doesn't allow an argument\n", long_name_of(optopt));
        } else {
            fprintf(err, "mmem: unrecognized option '%s'\n", arg);
        }
    } else {
        fprintf(err, "mmem: invalid option -- '%c'\n", optopt);
    }
    fprintf(err, "Illegal argument \"?\"\n");
}

/* -I value: a number with an optional k/m suffix (memcached reads the number
 * with atoi, so "2g" is 2 bytes and is refused later as too small). */
static size_t
parse_item_size(const char *arg)
{
    size_t n = strlen(arg);
    char unit = n > 0 ? arg[n - 1] : '\0';
    long long v;

    if (unit == 'k' || unit == 'K' || unit == 'm' || unit == 'M') {
        char num[32];
        size_t len = n - 1 < sizeof(num) - 1 ? n - 1 : sizeof(num) - 1;

        memcpy(num, arg, len);
        num[len] = '\0';
        v = c_atoi(num);
        v *= (unit == 'k' || unit == 'K') ? 1024 : 1024 * 1024;
    } else {
        v = c_atoi(arg);
    }
    /* Negative values become 0, which the checks refuse as too small. */
    return v > 0 ? (size_t)v : 0;
}

static enum mm_settings_rc
parse_one(struct mm_settings *s, int c, const char *arg, FILE *out, FILE *err)
{
    switch (c) {
    case 'a':
        s->access = (int)strtol(arg, NULL, 8);
        break;
    case 'A':
        s->shutdown_command = true;
        break;
    case 'Z':
        s->ssl_enabled = true;
        break;
    case 'p':
        s->port = c_atoi(arg);
        s->port_given = true;
        break;
    case 's':
        s->socketpath = arg;
        break;
    case 'U':
        s->udp_port = c_atoi(arg);
        s->udp_port_given = true;
        break;
    case 'm':
        /* As memcached: atoi() megabytes, so "-m 1g" is 1 MB and "-m -1" is
         * practically unlimited. */
        s->maxbytes = (size_t)(long)c_atoi(arg) * MB;
        break;
    case 'M':
        s->evict_to_free = false;
        break;
    case 'c':
        s->maxconns = c_atoi(arg);
        if (s->maxconns <= 0) {
            fprintf(err, "Maximum connections must be greater than 0\n");
            return fail(s, 1);
        }
        break;
    case 'k':
        s->lock_memory = true;
        break;
    case 'h':
        mm_settings_usage(out);
        return MM_SETTINGS_EXIT_OK;
    case 'i':
        mm_settings_license(out);
        return MM_SETTINGS_EXIT_OK;
    case 'V':
        fprintf(out, "%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
        return MM_SETTINGS_EXIT_OK;
    case 'r':
        s->maxcore = true;
        break;
    case 'v':
        s->verbose++;
        break;
    case 'd':
        s->daemonize = true;
        break;
    case 'l':
        return add_listen(s, arg, err);
    case 'u':
        s->username = arg;
        break;
    case 'P':
        s->pid_file = arg;
        break;
    case 'f':
        s->factor = strtod(arg, NULL);
        /* memcached lets inf and nan through (and then crashes); no. */
        if (!(s->factor > 1.0) || !isfinite(s->factor)) {
            fprintf(err, "Factor must be greater than 1\n");
            return fail(s, 1);
        }
        break;
    case 'n':
        s->chunk_size = c_atoi(arg);
        /* memcached only refuses 0; a negative minimum makes no slab sizes
         * at all, so mmem refuses it with the same message. */
        if (s->chunk_size <= 0) {
            fprintf(err, "Chunk size must be greater than 0\n");
            return fail(s, 1);
        }
        break;
    case 't':
        s->num_threads = c_atoi(arg);
        if (s->num_threads <= 0) {
            fprintf(err, "Number of threads must be greater than 0\n");
            return fail(s, 1);
        }
        if (s->num_threads > 64) {
            /* memcached's wording, missing space included. */
            fprintf(err, "WARNING: Setting a high number of workerthreads is not "
                         "recommended.\n"
                         " Set this value to the number of cores in your machine or less.\n");
        }
        break;
    case 'D':
        if (arg == NULL || arg[0] == '\0') {
            fprintf(err, "No delimiter specified\n");
            return fail(s, 1);
        }
        s->prefix_delimiter = arg[0];
        s->detail_enabled = true;
        break;
    case 'L':
        s->prealloc = true;
        break;
    case 'R':
        s->reqs_per_event = c_atoi(arg);
        if (s->reqs_per_event == 0) {
            fprintf(err, "Number of requests per event must be greater than 0\n");
            return fail(s, 1);
        }
        break;
    case 'C':
        s->use_cas = false;
        break;
    case 'b':
        s->backlog = c_atoi(arg);
        break;
    case 'B':
        if (strcmp(arg, "auto") == 0) {
            s->binding_protocol = MM_SETTINGS_PROTO_AUTO;
        } else if (strcmp(arg, "binary") == 0) {
            s->binding_protocol = MM_SETTINGS_PROTO_BINARY;
        } else if (strcmp(arg, "ascii") == 0) {
            s->binding_protocol = MM_SETTINGS_PROTO_ASCII;
        } else {
            fprintf(err,
                    "Invalid value for binding protocol: %s\n"
                    " -- should be one of auto, binary, or ascii\n",
                    arg);
            return fail(s, MM_SETTINGS_EX_USAGE);
        }
        break;
    case 'I':
        s->item_size_max = parse_item_size(arg);
        break;
    case 'S':
#ifdef MMEM_WITH_SASL
        s->sasl = true;
        break;
#else
        fprintf(err, "mmem: -S (SASL authentication) is not available: this mmem was built "
                     "without Cyrus SASL (configure --with-sasl)\n");
        return fail(s, MM_SETTINGS_EX_USAGE);
#endif
    case 'F':
        s->flush_enabled = false;
        break;
    case 'X':
        s->dump_enabled = false;
        break;
    case 'W':
        s->watch_enabled = false;
        break;
    case 'Y':
        s->auth_file = arg;
        break;
    case 'e':
        return unsupported(s, err, "-e", "memory file");
    case 'o':
        return parse_xopts(s, arg, err);
    case 'N':
        s->compat.num_napi_ids = c_atoi(arg);
        if (s->compat.num_napi_ids <= 0) {
            fprintf(err, "Maximum number of NAPI IDs must be greater than 0\n");
            return fail(s, 1);
        }
        break;
    case OPT_READY_FD: {
        uint64_t fd;

        if (!mm_scan_u64_strict(arg, arg + strlen(arg), &fd) || fd > INT_MAX) {
            fprintf(err, "mmem: --ready-fd needs a file descriptor number, not \"%s\"\n", arg);
            return fail(s, MM_SETTINGS_EX_USAGE);
        }
        s->ready_fd = (int)fd;
        break;
    }
    default:
        fprintf(err, "Illegal argument \"%c\"\n", c);
        return fail(s, 1);
    }
    return MM_SETTINGS_OK;
}

enum mm_settings_rc
mm_settings_parse(struct mm_settings *s, int argc, char **argv, FILE *out, FILE *err)
{
    int c;
    int longindex = -1;

    /* getopt keeps its state in globals; 0 makes glibc start over, so that a
     * second parse in the same process (tests) sees all of argv. */
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, shortopts, longopts, &longindex)) != -1) {
        enum mm_settings_rc rc;

        if (c == '?' || c == ':') {
            getopt_error(c, argc, argv, longindex, err);
            return fail(s, 1);
        }
        rc = parse_one(s, c, optarg, out, err);
        longindex = -1;
        if (rc != MM_SETTINGS_OK) {
            return rc;
        }
    }
    return join_listen(s, err);
}

/* ---- cross-field checks ------------------------------------------------- */

/* -o slab_sizes=A-B-C: each a number (memcached's safe_strtoul; a word
 * reads as 0) from -n to slab_chunk_max, each more than 8 bytes above the
 * one before, at most MM_SETTINGS_SLAB_SIZES_MAX; empty entries are
 * skipped, as strtok skips them. memcached's messages; 0 or -1. */
static int
parse_slab_sizes(struct mm_settings *s, FILE *err)
{
    const char *p = s->compat.slab_sizes;
    uint32_t last = 0;

    if (*p == '\0') {
        return -1; /* memcached exits with no word */
    }
    s->nslab_sizes = 0;
    while (*p != '\0') {
        const char *end = strchr(p, '-');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        uint32_t size = 0;

        if (len > 0) {
            if (!mm_scan_u32(p, p + len, &size)) {
                size = 0;
            }
            if (size < (uint32_t)s->chunk_size || size > s->slab_chunk_size_max) {
                fprintf(err, "slab size %u is out of valid range\n", size);
                return -1;
            }
            if (size <= last) {
                fprintf(err,
                        "slab size %u cannot be lower than or equal to a previous class size\n",
                        size);
                return -1;
            }
            if (size <= last + 8) {
                fprintf(err, "slab size %u must be at least 8 bytes larger than previous class\n",
                        size);
                return -1;
            }
            if (s->nslab_sizes == MM_SETTINGS_SLAB_SIZES_MAX) {
                fprintf(err, "too many slab classes specified\n");
                return -1;
            }
            s->slab_size[s->nslab_sizes++] = size;
            last = size;
        }
        p += len + (end != NULL ? 1 : 0);
    }
    return 0;
}

enum mm_settings_rc
mm_settings_check(struct mm_settings *s, FILE *err)
{
    const struct mm_settings_compat *c = &s->compat;

    if (c->num_napi_ids > s->num_threads) {
        fprintf(err, "Number of napi_ids(%d) cannot be greater than number of threads(%d)\n",
                c->num_napi_ids, s->num_threads);
        return fail(s, MM_SETTINGS_EX_USAGE);
    }
    if (s->item_size_max < ITEM_SIZE_MAX_LOWER) {
        fprintf(err, "Item max size cannot be less than 1024 bytes.\n");
        return fail(s, MM_SETTINGS_EX_USAGE);
    }
    if (s->item_size_max > s->maxbytes / 2) {
        fprintf(err, "Cannot set item size limit higher than 1/2 of memory max.\n");
        return fail(s, MM_SETTINGS_EX_USAGE);
    }
    if (s->item_size_max > ITEM_SIZE_MAX_UPPER) {
        fprintf(err, "Cannot set item size limit higher than a gigabyte.\n");
        return fail(s, MM_SETTINGS_EX_USAGE);
    }
    /* Large items are made of chunks of at most half a page, unless the
     * chunk size was chosen explicitly. */
    if (s->item_size_max > MB && !s->slab_chunk_changed) {
        s->slab_chunk_size_max = MEMCACHED_PAGE_SIZE / 2;
    }
    if (s->slab_chunk_size_max > s->item_size_max) {
        fprintf(err, "slab_chunk_max (bytes: %zu) cannot be larger than -I (item_size_max %zu)\n",
                s->slab_chunk_size_max, s->item_size_max);
        return fail(s, MM_SETTINGS_EX_USAGE);
    }
    if (s->item_size_max % s->slab_chunk_size_max != 0) {
        fprintf(err,
                "-I (item_size_max: %zu) must be evenly divisible by slab_chunk_max (bytes: "
                "%zu)\n",
                s->item_size_max, s->slab_chunk_size_max);
        return fail(s, MM_SETTINGS_EX_USAGE);
    }
    if (MEMCACHED_PAGE_SIZE % s->slab_chunk_size_max != 0) {
        fprintf(err, "slab_chunk_max (bytes: %zu) must divide evenly into %zu (slab_page_size)\n",
                s->slab_chunk_size_max, (size_t)MEMCACHED_PAGE_SIZE);
        return fail(s, MM_SETTINGS_EX_USAGE);
    }
    if (c->hot_lru_pct + c->warm_lru_pct > 80) {
        fprintf(err, "hot_lru_pct + warm_lru_pct cannot be more than 80%% combined\n");
        return fail(s, MM_SETTINGS_EX_USAGE);
    }
    if (c->temp_lru && !c->lru_maintainer) {
        fprintf(err, "temporary_ttl requires lru_maintainer to be enabled\n");
        return fail(s, MM_SETTINGS_EX_USAGE);
    }
    if (c->slab_sizes != NULL && parse_slab_sizes(s, err) != 0) {
        return fail(s, MM_SETTINGS_EX_USAGE);
    }
    /* -U alone serves TCP on the UDP port too, as memcached does. */
    if (s->udp_port_given && s->udp_port != 0 && !s->port_given) {
        s->port = s->udp_port;
    }
    /* Only the TCP port's upper bound is checked here, as in memcached; a
     * negative port other than -1 (ephemeral) fails when it is bound, and
     * a UDP port above 65535 is bound modulo 65536, as getaddrinfo reads it. */
    if (s->port > 65535) {
        fprintf(err, "ERROR: Invalid port number %d.\n", s->port);
        return fail(s, MM_SETTINGS_EX_USAGE);
    }
    /* Auth pins the protocol: ASCII tokens (-Y) only exist in text, SASL
     * (-S) only in binary; "auto" becomes the one that can authenticate. */
    if (s->auth_file != NULL) {
        if (s->binding_protocol == MM_SETTINGS_PROTO_BINARY) {
            fprintf(err, "ERROR: You cannot allow the BINARY protocol while using ascii "
                         "authentication tokens.\n");
            return fail(s, MM_SETTINGS_EX_USAGE);
        }
        s->binding_protocol = MM_SETTINGS_PROTO_ASCII;
    }
    if (s->sasl) {
        if (s->binding_protocol == MM_SETTINGS_PROTO_ASCII) {
            fprintf(err, "ERROR: You cannot allow the ASCII protocol while using SASL.\n");
            return fail(s, MM_SETTINGS_EX_USAGE);
        }
        s->binding_protocol = MM_SETTINGS_PROTO_BINARY;
    }
    /* mmem's slab allocator takes pages of at least one item. */
    s->slab_page_size =
        s->item_size_max > MEMCACHED_PAGE_SIZE ? s->item_size_max : MEMCACHED_PAGE_SIZE;
    return MM_SETTINGS_OK;
}

/* ---- stats settings ----------------------------------------------------- */

struct emitter {
    mm_settings_emit_fn fn;
    void *arg;
};

static void
emit_str(const struct emitter *e, const char *name, const char *value)
{
    e->fn(e->arg, name, value);
}

static void emit_fmt(const struct emitter *e, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
emit_fmt(const struct emitter *e, const char *name, const char *fmt, ...)
{
    char buf[64];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    e->fn(e->arg, name, buf);
}

static void
emit_bool(const struct emitter *e, const char *name, bool v)
{
    e->fn(e->arg, name, v ? "yes" : "no");
}

/* The ssl_* lines, only in a build with TLS (memcached without TLS has none). */
static void
emit_tls(const struct emitter *e, const struct mm_settings *s)
{
    /* memcached shows OpenSSL's verify flags: none, peer, peer|fail-if-none,
     * peer|fail-if-none|client-once. */
    static const int verify_flags[] = {0, 1, 3, 7};
    const struct mm_settings_compat *c = &s->compat;

    emit_bool(e, "ssl_enabled", s->ssl_enabled);
    /* memcached prints these two with "%s" of a NULL pointer and the next
     * two with an explicit "NULL": keep both spellings. */
    emit_str(e, "ssl_chain_cert", c->ssl_chain_cert != NULL ? c->ssl_chain_cert : "(null)");
    emit_str(e, "ssl_key", c->ssl_key != NULL ? c->ssl_key : "(null)");
    emit_fmt(e, "ssl_verify_mode", "%d", verify_flags[c->ssl_verify_mode & 3]);
    emit_fmt(e, "ssl_keyformat", "%d", c->ssl_keyformat);
    emit_str(e, "ssl_ciphers", c->ssl_ciphers != NULL ? c->ssl_ciphers : "NULL");
    emit_str(e, "ssl_ca_cert", c->ssl_ca_cert != NULL ? c->ssl_ca_cert : "NULL");
    emit_fmt(e, "ssl_wbuf_size", "%u", c->ssl_wbuf_size);
    emit_bool(e, "ssl_session_cache", c->ssl_session_cache);
    emit_bool(e, "ssl_kernel_tls", c->ssl_kernel_tls);
    emit_str(e, "ssl_min_version", ssl_versions[c->ssl_min_version & 3]);
}

void
mm_settings_emit(const struct mm_settings *s, mm_settings_emit_fn fn, void *arg)
{
    const struct mm_settings_compat *c = &s->compat;
    const struct emitter e = {fn, arg};
    static const char *const protos[] = {"auto-negotiate", "ascii", "binary"};
    char delim[2] = {s->prefix_delimiter, '\0'};

    emit_fmt(&e, "maxbytes", "%zu", s->maxbytes);
    emit_fmt(&e, "maxconns", "%d", s->maxconns);
    emit_fmt(&e, "tcpport", "%d", s->port);
    emit_fmt(&e, "udpport", "%d", s->udp_port);
    emit_str(&e, "inter", s->inter != NULL ? s->inter : "NULL");
    emit_fmt(&e, "verbosity", "%d", s->verbose);
    emit_str(&e, "oldest", "0");
    emit_str(&e, "evictions", s->evict_to_free ? "on" : "off");
    emit_str(&e, "domain_socket", s->socketpath != NULL ? s->socketpath : "NULL");
    emit_fmt(&e, "umask", "%o", (unsigned)s->access);
    emit_bool(&e, "shutdown_command", s->shutdown_command);
    emit_fmt(&e, "growth_factor", "%.2f", s->factor);
    emit_fmt(&e, "chunk_size", "%d", s->chunk_size);
    emit_fmt(&e, "num_threads", "%d", s->num_threads);
    emit_fmt(&e, "num_threads_per_udp", "%d", s->num_threads);
    emit_str(&e, "stat_key_prefix", delim);
    emit_bool(&e, "detail_enabled", s->detail_enabled);
    emit_fmt(&e, "reqs_per_event", "%d", s->reqs_per_event);
    emit_bool(&e, "cas_enabled", s->use_cas);
    emit_fmt(&e, "tcp_backlog", "%d", s->backlog);
    emit_str(&e, "binding_protocol", protos[s->binding_protocol]);
    emit_bool(&e, "auth_enabled_sasl", s->sasl);
    if (s->auth_file != NULL) {
        emit_str(&e, "auth_enabled_ascii", s->auth_file);
    } else {
        emit_bool(&e, "auth_enabled_ascii", false);
    }
    emit_fmt(&e, "item_size_max", "%zu", s->item_size_max);
    emit_bool(&e, "maxconns_fast", s->maxconns_fast);
    emit_fmt(&e, "hashpower_init", "%d", s->hashpower_init);
    emit_bool(&e, "slab_reassign", c->slab_reassign);
    emit_fmt(&e, "slab_automove", "%d", c->slab_automove);
    emit_fmt(&e, "slab_automove_ratio", "%.2f", c->slab_automove_ratio);
    emit_fmt(&e, "slab_automove_window", "%d", c->slab_automove_window);
    emit_fmt(&e, "slab_chunk_max", "%zu", s->slab_chunk_size_max);
    emit_bool(&e, "lru_crawler", c->lru_crawler);
    emit_fmt(&e, "lru_crawler_sleep", "%d", c->lru_crawler_sleep);
    emit_fmt(&e, "lru_crawler_tocrawl", "%u", c->lru_crawler_tocrawl);
    emit_fmt(&e, "tail_repair_time", "%d", c->tail_repair_time);
    emit_bool(&e, "flush_enabled", s->flush_enabled);
    emit_bool(&e, "dump_enabled", s->dump_enabled);
    /* The hash only decides where a key lives inside mmem; a name the
     * user chose (or no_modern's) is reported as given. */
    emit_str(&e, "hash_algorithm", c->hash_algorithm != NULL ? c->hash_algorithm : MM_HASH_NAME);
    emit_bool(&e, "lru_maintainer_thread", c->lru_maintainer);
    emit_bool(&e, "lru_segmented", c->lru_maintainer);
    emit_fmt(&e, "hot_lru_pct", "%d", c->hot_lru_pct);
    emit_fmt(&e, "warm_lru_pct", "%d", c->warm_lru_pct);
    emit_fmt(&e, "hot_max_factor", "%.2f", c->hot_max_factor);
    emit_fmt(&e, "warm_max_factor", "%.2f", c->warm_max_factor);
    emit_bool(&e, "temp_lru", c->temp_lru);
    emit_fmt(&e, "temporary_ttl", "%d", c->temporary_ttl);
    emit_fmt(&e, "idle_timeout", "%u", s->idle_timeout);
    emit_fmt(&e, "watcher_logbuf_size", "%u", c->watcher_logbuf_size);
    emit_fmt(&e, "worker_logbuf_size", "%u", c->worker_logbuf_size);
    emit_fmt(&e, "read_buf_mem_limit", "%zu", s->read_buf_mem_limit);
    emit_bool(&e, "track_sizes", s->track_sizes);
    emit_bool(&e, "inline_ascii_response", false);
    emit_fmt(&e, "ext_item_size", "%u", c->ext_item_size);
    emit_fmt(&e, "ext_item_age", "%u", c->ext_item_age);
    emit_fmt(&e, "ext_low_ttl", "%u", c->ext_low_ttl);
    emit_fmt(&e, "ext_recache_rate", "%u", c->ext_recache_rate);
    emit_fmt(&e, "ext_wbuf_size", "%u", c->ext_wbuf_size);
    emit_fmt(&e, "ext_compact_under", "%u", c->ext_compact_under);
    emit_fmt(&e, "ext_drop_under", "%u", c->ext_drop_under);
    emit_fmt(&e, "ext_max_sleep", "%u", c->ext_max_sleep);
    emit_fmt(&e, "ext_max_frag", "%.2f", c->ext_max_frag);
    emit_fmt(&e, "slab_automove_freeratio", "%.3f", c->slab_automove_freeratio);
    emit_bool(&e, "ext_drop_unread", c->ext_drop_unread);
    if (SETTINGS_TLS) {
        emit_tls(&e, s);
    }
    if (c->num_napi_ids > 0) {
        emit_fmt(&e, "num_napi_ids", "%d", c->num_napi_ids);
    } else {
        emit_str(&e, "num_napi_ids", "(null)");
    }
    emit_str(&e, "memory_file", "(null)");
}
