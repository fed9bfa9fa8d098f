#ifndef MMEM_TESTS_REQGEN_H
#define MMEM_TESTS_REQGEN_H

#include <stddef.h>
#include <stdint.h>

#include "mmem/req.h"

/* Test-only request composer: the wire bytes of a text request, so tests can
 * check that composing then parsing gives the request back (round trip) and
 * generate inputs for the fuzz corpus. Not linked into mmem. */

/* Write the request line for req (with "\r\n") into buf. For storage types
 * the line only: the caller appends vlen value bytes and "\r\n". Fields used
 * per type are those mm_text_parse() fills; key/keys/args spans are copied.
 * Returns the length, or 0 if cap is too small or the type has no line. */
size_t mm_reqgen_line(const struct mm_req *req, char *buf, size_t cap);

/* Fill req with a random, valid request drawn from *seed (xorshift), keys
 * taken from keybuf (which must hold 3 * 250 + 16 bytes and outlive req). */
void mm_reqgen_random(struct mm_req *req, uint64_t *seed, char *keybuf, size_t keycap);

#endif
