#ifndef MMEM_TESTS_CMD_FIXTURE_H
#define MMEM_TESTS_CMD_FIXTURE_H

/* The command-layer test fixture shared by check_cmd and check_cmd_meta: a
 * real store and settings, a worker context, and a tiny in-test
 * "connection" that parses text/meta input, executes it, reads storage
 * values from the same input and collects the reply bytes. */

#include <stdbool.h>
#include <stddef.h>

#include "mmem/clock.h"
#include "mmem/cmd.h"
#include "mmem/out.h"
#include "mmem/settings.h"
#include "mmem/stats.h"
#include "mmem/store.h"

extern struct mm_clock clk;
extern struct mm_settings settings;
extern struct mm_store *store;
extern struct mm_stats wstats;
extern struct mm_cmd_env env;
extern struct mm_cmd_ctx ctx;
extern struct mm_out out;
extern int shutdown_calls;
extern bool shutdown_graceful;

extern char reply[1 << 22];
extern size_t reply_len;
extern bool closed;
extern unsigned dump_steps;

/* Checked fixture: a fresh store and context per test. */
void setup(void);
void teardown(void);

/* Move everything pending in the builder into reply[]. */
void drain(void);
/* Feed len bytes, writing after every request; returns the bytes left
 * unconsumed (an incomplete request). */
size_t feed(const char *in, size_t len);
void feed_str(const char *s);
/* Like feed(), but replies stay in the builder until the whole input has
 * been processed, as a connection writes once per read. */
void feed_batch(const char *in, size_t len);

#define EXPECT(in, want)                                                                           \
    do {                                                                                           \
        feed((in), sizeof(in) - 1);                                                                \
        ck_assert_msg(reply_len == sizeof(want) - 1 && memcmp(reply, want, reply_len) == 0,        \
                      "in: %s\ngot: [%s]\nwant: [%s]", in, reply, want);                           \
    } while (0)

#endif
