#ifndef MMEM_CMD_H
#define MMEM_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Command execution, independent of the socket: a parsed request plus the
 * store gives replies appended to an mm_out. net/ owns the bytes (reading the
 * line, reading a value into item memory, writing replies); cmd/ owns the
 * meaning (CAS, exptime and flush rules, stats counting, reply choice).
 *
 * ---------------------------------------------------------------------------
 * Contract for the connection (net/conn.c), after mm_text_parse() gave
 * MM_TEXT_OK for `req` and the line's bytes were consumed:
 *
 * Non-storage request (!mm_req_is_storage(req->type), MM_REQ_ERROR included):
 *     rc = mm_cmd_exec(ctx, &req, out);
 *     MM_CMD_OK     carry on with the next request.
 *     MM_CMD_CLOSE  stop parsing; write what is pending in `out`, then close
 *                   (quit; shutdown). Nothing is appended for quit.
 *
 * Storage request (set/add/replace/append/prepend/cas):
 *     rc = mm_cmd_store_begin(ctx, &req, out, &it, &dst);
 *     MM_CMD_STORE_READ     read exactly req.vlen bytes to dst (the item's
 *                           own memory) and then exactly 2 more bytes (the
 *                           trailer) anywhere, then call
 *                               mm_cmd_store_end(ctx, &req, it,
 *                                                trailer == "\r\n", out);
 *                           store_end consumes `it` in every case.
 *     MM_CMD_STORE_SWALLOW  the item could not be had (too large, no memory);
 *                           the reply is already in `out` (or suppressed by
 *                           noreply). Discard exactly req.vlen + 2 input
 *                           bytes, whatever they are, then carry on. No
 *                           store_end call.
 *   The value may arrive over many reads and the read buffer may move
 *   meanwhile: store_end reads no span of req (copy req by value; its spans
 *   may dangle).
 *
 * Bad trailer (memcached's "bad data chunk"): the connection still consumes
 * exactly vlen + 2 bytes, store_end(value_ok = false) drops the item and
 * answers "CLIENT_ERROR bad data chunk" (unless noreply), and parsing simply
 * resumes at the next byte. The bytes that follow (typically the rest of an
 * over-long value and its "\r\n") are parsed as commands, which gives
 * memcached's second line, "ERROR". Example, "set k 0 0 3\r\nabcde\r\n":
 * value "abc", trailer "de" (bad), then the line "\r\n" -> "ERROR".
 *
 * Byte counters (bytes_read, bytes_written) and connection counters are the
 * connection's to count; cmd/ counts everything else into ctx->stats.
 * ------------------------------------------------------------------------- */

struct mm_auth;
struct mm_item;
struct mm_out;
struct mm_req;
struct mm_settings;
struct mm_stats;
struct mm_store;
struct mm_clock;
struct mm_watch;
struct mm_prefix;
struct mm_resp_limit;
struct mm_watcher;

/* emit(emit_arg, name, value): one "STAT <name> <value>" line. */
typedef void (*mm_cmd_emit_fn)(void *emit_arg, const char *name, const char *value);

/* What the server exposes to commands that look beyond one connection
 * (stats, shutdown, verbosity). Filled by net/ (or main) at start-up; the
 * callbacks are thread-safe and may be NULL where noted. */
struct mm_cmd_env {
    const struct mm_settings *settings;
    struct mm_store *store;
    const struct mm_clock *clock;
    const char *version;          /* "VERSION" reply and "STAT version";
                                     NULL = PACKAGE_VERSION */
    const char *libevent_version; /* "STAT libevent"; NULL = "none" */
    const char *ev_backend;       /* loop backend name (informational) */
    /* Sum every worker's counter block into *sum (which starts zeroed).
     * NULL: only ctx->stats is reported. */
    void (*stats_sum)(void *arg, struct mm_stats *sum);
    /* Zero every worker's counter block ("stats reset"). NULL: only
     * ctx->stats is zeroed. */
    void (*stats_reset)(void *arg);
    /* "stats conns": one emit per connection field, names as memcached
     * ("<fd>:addr", "<fd>:state", ...). NULL: no lines. */
    void (*conns_emit)(void *arg, mm_cmd_emit_fn emit, void *emit_arg);
    /* Process-wide gauges for "stats". NULL: 1, 0, 0. */
    void (*server_gauges)(void *arg, uint64_t *accepting_conns, uint64_t *listen_disabled_num,
                          uint64_t *reserved_fds);
    /* "shutdown" (only with -A): begin a stop; graceful for "shutdown
     * graceful". Called before mm_cmd_exec returns MM_CMD_CLOSE. */
    void (*shutdown)(void *arg, bool graceful);
    /* "refresh_certs": reload the TLS certificate and key. Returns true, or
     * false with the one-line reply ("Error ...\r\n") in msg. NULL: a build
     * without TLS, where the command is unknown ("ERROR"). */
    bool (*tls_refresh)(void *arg, char *msg, size_t size);
    /* The ssl_* lines of "stats" (emit per line). NULL: none. */
    void (*tls_stats)(void *arg, mm_cmd_emit_fn emit, void *emit_arg);
    void *arg;
    /* -Y: the loaded auth file (auth.h); NULL = text clients need no auth. */
    const struct mm_auth *auth;
    /* The "watch" log hub (watch.h); NULL: "watch" is refused as if -W. */
    struct mm_watch *watch;
    /* "stats detail" per-prefix counters (prefix.h); NULL: none kept. */
    struct mm_prefix *prefix;
};

/* Per-worker execution context. */
struct mm_cmd_ctx {
    const struct mm_cmd_env *env;
    struct mm_stats *stats; /* the worker's own counter block */
    /* Set by the connection before it runs requests: the client's socket,
     * which "watch" lines report as cfd. */
    int cfd;
    /* -o read_buf_mem_limit (resp_limit.h): the worker's count, and the
     * response objects the running connection holds (it stops counting at
     * UINT16_MAX). While both are set, a get takes one more object per key
     * after the first; NULL: no limit. */
    struct mm_resp_limit *resp_limit;
    uint16_t *resps_held;
    /* Out, with MM_CMD_WATCH: the watcher attached to env->watch, now the
     * connection's to drain and to mm_watch_remove() when it closes. */
    struct mm_watcher *watcher;
    /* Out, with MM_CMD_DUMP: the metadump in progress, now the
     * connection's to run with mm_cmd_dump_step() and free. */
    struct mm_cmd_dump *dump;
};

enum mm_cmd_rc {
    MM_CMD_OK = 0,
    MM_CMD_CLOSE,         /* flush pending replies, then close */
    MM_CMD_STORE_READ,    /* storage: read vlen bytes into *dst, 2 more,
                                     then call mm_cmd_store_end */
    MM_CMD_STORE_SWALLOW, /* storage refused (reply already composed):
                                     discard vlen + 2 bytes of input */
    MM_CMD_WATCH,         /* "watch": "OK" is in out; from now on the
                             connection is a log stream of ctx->watcher
                             (mm_watch_read) and its input is ignored */
    MM_CMD_DUMP           /* "lru_crawler metadump": ctx->dump streams
                             the lines; see mm_cmd_dump_step */
};

/* "lru_crawler metadump": append the lines of a few hundred items (a
 * bounded amount, a few tens of KB at most) to out. Call again once out has
 * drained; parse no other request meanwhile. Returns true when the dump is
 * complete ("END" appended); the caller then frees it. */
struct mm_cmd_dump;
bool mm_cmd_dump_step(struct mm_cmd_ctx *ctx, struct mm_cmd_dump *d, struct mm_out *out);
void mm_cmd_dump_free(struct mm_cmd_dump **d);

/* Execute a non-storage request (MM_REQ_ERROR included). */
enum mm_cmd_rc mm_cmd_exec(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out);

/* Storage, first half: reserve. On MM_CMD_STORE_READ, *it is a reserved
 * item and *dst points at its req->vlen value bytes. A too-large or
 * out-of-memory "set" also deletes the key's current value, as memcached
 * does (so a failed set never leaves stale data behind). */
enum mm_cmd_rc mm_cmd_store_begin(struct mm_cmd_ctx *ctx, const struct mm_req *req,
                                  struct mm_out *out, struct mm_item **it, char **dst);

/* Storage, second half: commit (value_ok) or drop it (bad trailer). Reads
 * only req's non-span fields. Always consumes it. */
void mm_cmd_store_end(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_item *it,
                      bool value_ok, struct mm_out *out);

/* Give back a reserved item without committing it, e.g. when the connection
 * closes while a value is still being read. */
void mm_cmd_store_abort(struct mm_cmd_ctx *ctx, struct mm_item *it);

/* Release function for mm_out references: mm_out_init(o,
 * mm_cmd_item_release, store). Values in replies are referenced, not
 * copied; each reference is one item reference handed to the mm_out. */
void mm_cmd_item_release(void *store, void *item);

/* "stats" and its groups; args is the text after "stats". Used by
 * mm_cmd_exec; exposed for tests. */
void mm_cmd_stats(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out);

#endif
