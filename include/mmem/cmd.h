#ifndef MMEM_CMD_H
#define MMEM_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Command execution, independent of the socket: a parsed request plus the
 * store gives replies appended to an mm_out. net/ owns the bytes (reading the
 * line, reading a value into item memory, writing replies); cmd/ owns the
 * meaning (CAS, exptime and flush rules, stats counting, reply choice). */

struct mm_item;
struct mm_out;
struct mm_req;
struct mm_settings;
struct mm_stats;
struct mm_store;
struct mm_clock;

/* What the server exposes to commands that look beyond one connection
 * (stats, shutdown, verbosity). Filled by net/ at start-up; the callbacks are
 * thread-safe. */
struct mm_cmd_env {
    const struct mm_settings *settings;
    struct mm_store *store;
    const struct mm_clock *clock;
    const char *ev_backend;
    /* Sum every worker's counter block into *sum. */
    void (*stats_sum)(void *arg, struct mm_stats *sum);
    /* Zero every worker's counter block ("stats reset"). */
    void (*stats_reset)(void *arg);
    /* "stats conns": emit(emit_arg, name, value) per connection field. */
    void (*conns_emit)(void *arg, void (*emit)(void *emit_arg, const char *name, const char *value),
                       void *emit_arg);
    /* Process-wide gauges for "stats": listen state and reserved fds. */
    void (*server_gauges)(void *arg, uint64_t *accepting_conns, uint64_t *listen_disabled_num,
                          uint64_t *reserved_fds);
    /* "shutdown" (only with -A): begin a graceful stop. */
    void (*shutdown)(void *arg);
    void *arg;
};

/* Per-worker execution context. */
struct mm_cmd_ctx {
    const struct mm_cmd_env *env;
    struct mm_stats *stats;       /* the worker's own counter block */
};

enum mm_cmd_rc {
    MM_CMD_OK = 0,
    MM_CMD_CLOSE,                 /* reply (if any) then close: quit, fatal errors */
    MM_CMD_STORE_READ,            /* storage: read vlen bytes into *dst, then call store_end */
    MM_CMD_STORE_SWALLOW          /* storage refused (reply already composed): discard
                                     vlen + 2 bytes of input */
};

/* Execute a non-storage request. */
enum mm_cmd_rc mm_cmd_exec(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_out *out);

/* Storage, first half: validate and reserve. On MM_CMD_STORE_READ, *it is a
 * reserved item and *dst points at its vlen value bytes; net/ reads the value
 * there and the 2 trailer bytes elsewhere. */
enum mm_cmd_rc mm_cmd_store_begin(struct mm_cmd_ctx *ctx, const struct mm_req *req,
                                  struct mm_out *out, struct mm_item **it, char **dst);

/* Storage, second half. value_ok is false when the trailer was not "\r\n"
 * (memcached's "bad data chunk"). Only req's non-span fields are read: the
 * read buffer may have moved since store_begin. */
void mm_cmd_store_end(struct mm_cmd_ctx *ctx, const struct mm_req *req, struct mm_item *it,
                      bool value_ok, struct mm_out *out);

/* Release function for mm_out references (arg is the store). */
void mm_cmd_item_release(void *store, void *item);

#endif
