/* The command-layer test fixture (see cmd_fixture.h). */
#include "config.h"

#include "cmd_fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmem/req.h"
#include "mmem/text.h"

/* ---- fixture ---- */

struct mm_clock clk;
struct mm_settings settings;
struct mm_store *store;
struct mm_stats wstats;
struct mm_cmd_env env;
struct mm_cmd_ctx ctx;
struct mm_out out;
int shutdown_calls;
bool shutdown_graceful;

static void
env_shutdown(void *arg, bool graceful)
{
    (void)arg;
    shutdown_calls++;
    shutdown_graceful = graceful;
}

static void
env_conns(void *arg, mm_cmd_emit_fn emit, void *emit_arg)
{
    (void)arg;
    emit(emit_arg, "7:addr", "tcp:127.0.0.1:1234");
    emit(emit_arg, "7:state", "conn_parse_cmd");
}

void
setup(void)
{
    struct mm_store_cfg cfg;

    mm_clock_init(&clk);
    memset(&settings, 0, sizeof(settings));
    settings.maxbytes = 64 * 1024 * 1024;
    settings.maxconns = 1024;
    settings.num_threads = 4;
    settings.flush_enabled = true;
    settings.dump_enabled = true;
    settings.use_cas = true;
    /* memcached's defaults for what decides which stats fields are listed. */
    settings.maxconns_fast = true;
    settings.compat.lru_maintainer = true;
    settings.compat.lru_crawler = true;
    settings.compat.slab_reassign = true;
    memset(&cfg, 0, sizeof(cfg));
    cfg.mem_limit = settings.maxbytes;
    cfg.item_size_max = 1024 * 1024;
    cfg.evict = true;
    cfg.use_cas = true;
    cfg.hash_expand = true;
    cfg.clock = &clk;
    store = mm_store_create(&cfg);
    ck_assert_ptr_nonnull(store);
    memset(&wstats, 0, sizeof(wstats));
    memset(&env, 0, sizeof(env));
    env.settings = &settings;
    env.store = store;
    env.clock = &clk;
    env.version = "1.6.18";
    env.libevent_version = "2.1.12-stable";
    env.shutdown = env_shutdown;
    env.conns_emit = env_conns;
    ctx.env = &env;
    ctx.stats = &wstats;
    shutdown_calls = 0;
    mm_out_init(&out, mm_cmd_item_release, store);
}

void
teardown(void)
{
    mm_out_fini(&out);
    mm_store_destroy(&store);
}

/* ---- a minimal connection: parse, execute, read values from the input ---- */

char reply[1 << 22];
size_t reply_len;
bool closed;
unsigned dump_steps; /* metadump steps that left output to write */
static bool batch;   /* feed_batch(): write only at the end */

/* Move everything pending in the builder into reply[]. */
void
drain(void)
{
    for (;;) {
        struct iovec *iov;
        int n = mm_out_iov(&out, &iov, 64);
        size_t total = 0;
        int i;

        if (n <= 0) {
            break;
        }
        for (i = 0; i < n; i++) {
            ck_assert_uint_le(reply_len + iov[i].iov_len, sizeof(reply));
            memcpy(reply + reply_len, iov[i].iov_base, iov[i].iov_len);
            reply_len += iov[i].iov_len;
            total += iov[i].iov_len;
        }
        mm_out_consume(&out, total);
    }
}

/* Feed len bytes; returns the bytes left unconsumed (an incomplete line). */
size_t
feed(const char *in, size_t len)
{
    size_t off = 0, line_start = 0;

    reply_len = 0;
    closed = false;
    while (off < len && !closed) {
        struct mm_req req;
        size_t used;
        enum mm_text_rc rc = mm_text_parse(in + off, len - off, MM_TEXT_MAX_LINE, &req, &used);

        if (rc == MM_TEXT_AGAIN) {
            break;
        }
        if (rc == MM_TEXT_CLOSE) {
            closed = true;
            break;
        }
        line_start = off;
        off += used;
        if (mm_req_is_storage(req.type)) {
            struct mm_item *it = NULL;
            char *dst = NULL;
            struct mm_req copy = req;
            enum mm_cmd_rc crc = mm_cmd_store_begin(&ctx, &req, &out, &it, &dst);
            size_t need = (size_t)req.vlen + 2;

            if (crc == MM_CMD_STORE_SWALLOW) {
                off += need < len - off ? need : len - off;
                continue;
            }
            ck_assert_int_eq(crc, MM_CMD_STORE_READ);
            if (len - off < need) {
                /* incomplete value: give the item back and leave the whole
                 * request unconsumed, as a connection would wait for more */
                mm_cmd_store_abort(&ctx, it);
                off = line_start;
                break;
            }
            memcpy(dst, in + off, req.vlen);
            /* store_end must not read spans: make them dangle */
            copy.key.p = NULL;
            copy.keys.p = NULL;
            mm_cmd_store_end(&ctx, &copy, it, memcmp(in + off + req.vlen, "\r\n", 2) == 0, &out);
            off += need;
        } else {
            enum mm_cmd_rc crc = mm_cmd_exec(&ctx, &req, &out);

            if (crc == MM_CMD_CLOSE) {
                closed = true;
            } else if (crc == MM_CMD_DUMP) {
                /* As a connection does: one step per drained output. */
                while (!mm_cmd_dump_step(&ctx, ctx.dump, &out)) {
                    dump_steps++;
                    drain();
                }
                mm_cmd_dump_free(&ctx.dump);
            }
        }
        /* Write after every request, so no reply still holds an item when
         * the next request runs (memcached's replies below were captured
         * that way: its in-place incr/decr depends on it). Batch mode
         * writes only at the end, as a connection does for one read. */
        if (!batch) {
            drain();
        }
    }
    drain();
    reply[reply_len] = '\0';
    return len - off;
}

void
feed_str(const char *s)
{
    feed(s, strlen(s));
}

/* Like feed(), but replies stay in the builder until the whole input has
 * been processed. */
void
feed_batch(const char *in, size_t len)
{
    batch = true;
    feed(in, len);
    batch = false;
}
