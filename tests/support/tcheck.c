/* One place for the Check runner boilerplate of the integration tests; see
 * tcheck.h for the exit-code contract. */
#include "config.h"

#include "tcheck.h"

#include <stdio.h>
#include <stdlib.h>

int
mm_tcheck_run(Suite *s, unsigned flags, const char *note)
{
    SRunner *sr;
    int failed;

    if (note != NULL) {
        fprintf(stderr, "%s\n", note);
    }
    sr = srunner_create(s);
    if ((flags & MM_TCHECK_FORK) != 0) {
        srunner_set_fork_status(sr, CK_FORK);
    }
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    /* Frees the suite too: the runner owns it once created. */
    srunner_free(sr);
    if (failed != 0) {
        return EXIT_FAILURE;
    }
    return (flags & MM_TCHECK_PARTIAL) != 0 ? MM_TCHECK_SKIP : EXIT_SUCCESS;
}

int
mm_tcheck_skip(const char *why)
{
    fprintf(stderr, "%s\n", why);
    return MM_TCHECK_SKIP;
}
