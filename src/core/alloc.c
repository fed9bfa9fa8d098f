/* The one place that calls the allocator. With jemalloc configured, linking
 * it replaces malloc for the whole process (Debian's build is unprefixed), so
 * these are thin wrappers either way; the jemalloc build also calls one of
 * its own functions so the linker can never drop the library. Exhaustion of
 * bookkeeping memory is fatal. */
#include "config.h"

#include "mmem/alloc.h"
#include "mmem/log.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#ifdef MMEM_WITH_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

static void
oom(const char *what, size_t size)
{
    mm_log_error("out of memory: %s of %zu bytes failed", what, size);
    abort();
}

void *
mm_malloc(size_t size)
{
    /* malloc(0) may return NULL legitimately; ask for one byte instead so
     * that NULL always means failure. */
    void *p = malloc(size != 0 ? size : 1);

    if (p == NULL) {
        oom("malloc", size);
    }
    return p;
}

void *
mm_calloc(size_t n, size_t size)
{
    void *p;

    if (n != 0 && size > SIZE_MAX / n) {
        oom("calloc (overflow)", SIZE_MAX);
    }
    p = calloc(n != 0 ? n : 1, size != 0 ? size : 1);
    if (p == NULL) {
        oom("calloc", n * size);
    }
    return p;
}

void *
mm_realloc(void *p, size_t size)
{
    void *q = realloc(p, size != 0 ? size : 1);

    if (q == NULL) {
        oom("realloc", size);
    }
    return q;
}

void
mm_free(void *p)
{
    free(p);
}

void *
mm_aligned_alloc(size_t alignment, size_t size)
{
    void *p = NULL;
    int rc;

    /* posix_memalign wants a power of two that is a multiple of
     * sizeof(void *); smaller powers of two are rounded up, which is still
     * correctly aligned for the caller. */
    if (alignment < sizeof(void *)) {
        alignment = sizeof(void *);
    }
    rc = posix_memalign(&p, alignment, size != 0 ? size : 1);
    if (rc != 0 || p == NULL) {
        errno = rc;
        oom("aligned alloc", size);
    }
    return p;
}

const char *
mm_alloc_name(void)
{
#ifdef MMEM_WITH_JEMALLOC
    const char *version = NULL;
    size_t len = sizeof(version);

    /* A real call into jemalloc: it keeps the library linked even with
     * --as-needed, and it fails only if jemalloc is not the one in use. */
    if (mallctl("version", &version, &len, NULL, 0) == 0 && version != NULL) {
        return "jemalloc";
    }
#endif
    return "libc";
}

void *
mm_map(size_t size)
{
    void *p = mmap(NULL, size != 0 ? size : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);

    if (p == MAP_FAILED) {
        oom("mmap", size);
    }
    return p;
}

void
mm_unmap(void *p, size_t size)
{
    if (p != NULL) {
        munmap(p, size != 0 ? size : 1);
    }
}
