#ifndef MMEM_TEXT_H
#define MMEM_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmem/req.h"

struct mm_out;

/* The classic text protocol: line framing, the command parser and the reply
 * composers. The parser is a pure function over (buf, len): no allocation,
 * no I/O, no global state, nothing read outside [buf, buf + len).
 *
 * ---------------------------------------------------------------------------
 * Contract for the connection (net/conn.c). After every read, with the
 * unconsumed input at [buf, buf + len):
 *
 *   rc = mm_text_parse(buf, len, MM_TEXT_MAX_LINE, &req, &used);
 *
 *   MM_TEXT_AGAIN  Nothing consumed (used == 0). Read more and call again
 *                  with all the bytes. If the buffer is full, grow it: AGAIN
 *                  with len > max_line only happens for a "get "/"gets " line
 *                  (memcached's unbounded multi-get); every other over-long
 *                  line gives CLOSE, so only get lines ever need growth.
 *   MM_TEXT_CLOSE  Close the connection without a reply: flush the replies
 *                  already composed for earlier requests, then close.
 *                  Given for a line over max_line with no newline yet that
 *                  is not a get/gets line, and for an unknown command whose
 *                  last token starts with "HTTP/" (memcached drops HTTP
 *                  clients). used == 0; nothing more is parsed.
 *   MM_TEXT_OK     Consume `used` bytes (the line and its "\n"), then:
 *                    - mm_req_is_storage(req.type): mm_cmd_store_begin()
 *                      (see cmd.h for the value flow);
 *                    - otherwise: mm_cmd_exec(); MM_CMD_CLOSE from it means
 *                      "flush pending replies, then close" (quit, shutdown).
 *                  A malformed line is also MM_TEXT_OK, as a request of type
 *                  MM_REQ_ERROR: exec composes the error (or nothing, under
 *                  noreply) and the connection carries on with the next
 *                  byte. memcached never swallows the value of a malformed
 *                  storage line: those bytes are parsed as commands next
 *                  (usually giving "ERROR"), and so does mmem, for free.
 *
 * Framing rules (memcached 1.6.18): a line ends at the first "\n"; one "\r"
 * before it is dropped if the line has at least 2 bytes, so "\r\n" alone is
 * the line "\r" (answered "ERROR"). A NUL byte ends the line early (the rest
 * up to "\n" is ignored). Tokens are separated by spaces only; at most 24
 * tokens are looked at, except that get lines have unbounded key lists.
 * Command names are case-sensitive.
 *
 * Properties (tested in check_proto_text and the fuzzer):
 *   - used <= len; every span in req lies inside [buf, buf + len);
 *   - if (buf, len) gives OK with used = u, every prefix of length
 *     n < u gives AGAIN, except that a prefix longer than max_line may give
 *     CLOSE when the line is not a get line (memcached behaves the same: it
 *     depends on how the bytes arrive);
 *   - appending bytes after an OK line does not change the result.
 * ------------------------------------------------------------------------- */

#define MM_KEY_MAX_LENGTH 250

/* memcached's threshold: a line with no newline after this many bytes is
 * only tolerated if it starts (after at most 100 spaces) with "get " or
 * "gets ". */
#define MM_TEXT_MAX_LINE 2048

/* Leading spaces memcached tolerates in front of an over-long get line. */
#define MM_TEXT_MAX_LEADING_SPACES 100

enum mm_text_rc {
    MM_TEXT_OK = 0, /* *req filled; consume *used bytes; execute req */
    MM_TEXT_AGAIN,  /* incomplete line: read more (used = 0) */
    MM_TEXT_CLOSE   /* close the connection, no reply (used = 0) */
};

/* Parse one request line starting at buf. max_line is normally
 * MM_TEXT_MAX_LINE. *req is fully overwritten on OK. */
enum mm_text_rc mm_text_parse(const char *buf, size_t len, size_t max_line, struct mm_req *req,
                              size_t *used);

/* memcached's exact reply bytes for an error (including "\r\n"). */
const char *mm_text_err_str(enum mm_req_err err, size_t *len);

/* ---- Reply composers (append to an mm_out; never fail) ---- */

/* "VALUE <key> <flags> <bytes>[ <cas>]\r\n" */
void mm_text_value_header(struct mm_out *o, const char *key, size_t nkey, uint32_t flags,
                          uint32_t vlen, bool with_cas, uint64_t cas);
/* "<n>\r\n" (incr/decr reply). */
void mm_text_number(struct mm_out *o, uint64_t n);
/* "STAT <name> <value>\r\n" */
void mm_text_stat(struct mm_out *o, const char *name, const char *value);
/* An error reply for err, unless noreply. */
void mm_text_error(struct mm_out *o, enum mm_req_err err, bool noreply);

/* memcached's safe_strtoul on one token (leading white space, sign, 64-bit
 * parse truncated to 32 bits, "-1" refused); for commands that parse their
 * own arguments (stats cachedump). */
bool mm_text_scan_u32(struct mm_span tok, uint32_t *out);

#endif
