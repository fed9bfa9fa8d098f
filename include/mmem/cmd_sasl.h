#ifndef MMEM_CMD_SASL_H
#define MMEM_CMD_SASL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mmem/cmd.h"

/* SASL authentication (-S) for the binary protocol, through Cyrus SASL with
 * memcached's application name ("memcached"): SASL_CONF_PATH names the
 * directory of memcached.conf (mech_list, sasldb_path...), and
 * MEMCACHED_SASL_PWDB a file of "user:password" lines checked instead of
 * the SASL databases (mechanisms that send the password, e.g. PLAIN).
 * Built only with configure's SASL support (MMEM_WITH_SASL); without it,
 * mm_cmd_sasl_available() is false and -S is refused by settings.
 *
 * Contract for the connection when settings->sasl:
 *   - after mm_bin_parse() gave MM_BIN_OK, a request that is not
 *     mm_cmd_sasl_allowed_unauth() on a connection not yet authenticated is
 *     answered with mm_cmd_sasl_refuse() and the connection is closed (its
 *     body is not read);
 *   - a SASL opcode (mm_cmd_sasl_opcode()) is executed whole: wait until
 *     header + bodylen bytes are buffered (bodylen over
 *     MM_CMD_SASL_BODY_MAX: refuse and close), then
 *     mm_cmd_sasl_exec(ctx, &state, hdr, body, out, &authed) and consume
 *     header + body. `state` is the connection's (NULL at first) and goes
 *     back through mm_cmd_sasl_free() when the connection closes.
 * A failed SASL_AUTH/SASL_STEP drops a connection's earlier
 * authentication, as memcached does. */

#define MM_CMD_SASL_BODY_MAX 4096

struct mm_bin_header;
struct mm_cmd_sasl;

bool mm_cmd_sasl_available(void);
/* Once, before workers start: initialise Cyrus SASL and load
 * MEMCACHED_SASL_PWDB. false after writing why to err. */
bool mm_cmd_sasl_init(FILE *err);
void mm_cmd_sasl_shutdown(void);

bool mm_cmd_sasl_opcode(uint8_t opcode);
bool mm_cmd_sasl_allowed_unauth(uint8_t opcode);
void mm_cmd_sasl_refuse(const struct mm_bin_header *hdr, struct mm_out *out);
void mm_cmd_sasl_exec(struct mm_cmd_ctx *ctx, struct mm_cmd_sasl **state,
                      const struct mm_bin_header *hdr, const char *body, struct mm_out *out,
                      bool *authed);
void mm_cmd_sasl_free(struct mm_cmd_sasl **state);

#endif
