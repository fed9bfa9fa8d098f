#ifndef MMEM_TEXT_H
#define MMEM_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "mmem/req.h"

/* The classic text protocol: line framing and the command parser. Pure
 * functions over (buf, len): no allocation, no I/O, no global state, nothing
 * read outside [buf, buf + len). */

#define MM_KEY_MAX_LENGTH 250

enum mm_text_rc {
    MM_TEXT_OK = 0,           /* *req filled, *used bytes consumed (line + "\n") */
    MM_TEXT_AGAIN,            /* incomplete: read more */
    MM_TEXT_ERROR             /* *err says which reply memcached gives; *used
                                 bytes (the whole line) are to be discarded */
};

/* Which error reply the parser chose; the text composer turns each into
 * memcached's exact bytes. */
enum mm_text_err {
    MM_TEXT_ERR_NONE = 0,
    MM_TEXT_ERR_UNKNOWN,          /* "ERROR" */
    MM_TEXT_ERR_FORMAT,           /* "CLIENT_ERROR bad command line format" */
    MM_TEXT_ERR_LINE_TOO_LONG,    /* "CLIENT_ERROR line too long" (conn closes) */
    MM_TEXT_ERR_KEY_TOO_LONG,     /* as memcached answers an over-long key */
    MM_TEXT_ERR_INVALID_DELTA,    /* "CLIENT_ERROR invalid numeric delta argument" */
    MM_TEXT_ERR_INVALID_EXPTIME,  /* "CLIENT_ERROR invalid exptime argument" */
    MM_TEXT_ERR_USAGE_DELETE,     /* "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]" */
    MM_TEXT_ERR_STORE_NEGATIVE,   /* storage line with a bad length: memcached
                                     answers and then treats the value as commands */
    MM_TEXT_ERR__COUNT
};

/* Parse one request line starting at buf. The longest line accepted is
 * max_line bytes (memcached: 2048 for most commands, larger key lists for get).
 * A bare "\n" ends a line as "\r\n" does. */
enum mm_text_rc mm_text_parse(const char *buf, size_t len, size_t max_line, struct mm_req *req,
                              enum mm_text_err *err, size_t *used);

/* memcached's exact reply bytes for an error (including "\r\n"). */
const char *mm_text_err_str(enum mm_text_err err, size_t *len);

#endif
