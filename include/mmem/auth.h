#ifndef MMEM_AUTH_H
#define MMEM_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Password tables: memcached's ASCII auth file (-Y, "user:password" lines)
 * and the plain password file named by MEMCACHED_SASL_PWDB (same format).
 * Loaded once at start-up, read-only afterwards (shared by all workers).
 * Comparisons take the same time whatever the password's content. */

struct mm_auth;

enum mm_auth_rc {
    MM_AUTH_OK = 0,
    MM_AUTH_FAIL,      /* unknown user or wrong password */
    MM_AUTH_BAD_FORMAT /* the token is not "user password" */
};

/* Load `path`. On failure writes memcached's message to err and returns
 * NULL. An empty file gives an empty table (every check fails). */
struct mm_auth *mm_auth_load(const char *path, FILE *err);
void mm_auth_free(struct mm_auth **a);
size_t mm_auth_count(const struct mm_auth *a);

/* Does (user, pass) match an entry? Every entry is compared, and each
 * comparison's time depends only on lengths, not on where bytes differ. */
bool mm_auth_check(const struct mm_auth *a, const char *user, size_t ulen, const char *pass,
                   size_t plen);

/* An ASCII auth token: the value of a "set", "<user> <password>" split on
 * spaces as memcached splits command lines (runs of spaces count as one,
 * leading and trailing ones are ignored, words after the second are
 * ignored). Pure over (buf, len). */
enum mm_auth_rc mm_auth_token(const struct mm_auth *a, const char *buf, size_t len);

/* Equal length and equal bytes, in time that depends only on the lengths. */
bool mm_auth_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

#endif
