#ifndef MMEM_TEST_TCHECK_H
#define MMEM_TEST_TCHECK_H

#include <check.h>

/* The tail every integration test's main() shares: run one suite and turn
 * the outcome into the exit code the automake test driver reads (0 pass,
 * 1 fail, 77 skip). Kept apart from libtestsupport because it needs Check,
 * and the server/client helpers must still build where Check is missing. */

/* Exit code automake's driver reports as SKIP. */
#define MM_TCHECK_SKIP 77

/* The note the differential suites print when memcached is missing, in one
 * place so every suite words it the same way. */
#define MM_TCHECK_NO_MEMCACHED "memcached not found: differential cases skipped"

enum {
    /* Fork every test even if CK_FORK=no is set in the environment: the
     * suite relies on a test's crash or leftover state staying in its own
     * process. */
    MM_TCHECK_FORK = 1u << 0,
    /* The suite was built without some of its cases: a clean run is still
     * reported as a skip, so nobody mistakes half a suite for a full pass. */
    MM_TCHECK_PARTIAL = 1u << 1,
};

/* Run s (taking ownership of it) with flags (MM_TCHECK_*). A non-NULL note is
 * written to stderr, with a newline, before the run starts, so it sits next
 * to Check's own output. Returns EXIT_FAILURE if any test failed,
 * MM_TCHECK_SKIP if all passed but MM_TCHECK_PARTIAL is set, else
 * EXIT_SUCCESS. */
int mm_tcheck_run(Suite *s, unsigned flags, const char *note);

/* Write why to stderr (with a newline) and return MM_TCHECK_SKIP: for a
 * program that cannot run at all in this environment, before it builds its
 * suite. */
int mm_tcheck_skip(const char *why);

#endif
