/* Levelled logging to stderr. The level is the only process state outside
 * the frozen settings, because the "verbosity" command changes it at run
 * time; it lives in an atomic so any thread may read it without a lock. */
#include "config.h"

#include "mmem/log.h"

#include <stdarg.h>
#include <stdio.h>

static int log_level = MM_LOG_WARN;

void
mm_log_set_level(int level)
{
    if (level < MM_LOG_WARN) {
        level = MM_LOG_WARN;
    }
    if (level > MM_LOG_TRACE) {
        level = MM_LOG_TRACE;
    }
    __atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

int
mm_log_get_level(void)
{
    return __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

void
mm_log(enum mm_log_level level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    int n;

    if ((int)level > mm_log_get_level()) {
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if ((size_t)n > sizeof(line) - 2) {
        n = (int)sizeof(line) - 2;
    }
    line[n++] = '\n';
    /* One fwrite per line so lines from different threads do not interleave. */
    fwrite(line, 1, (size_t)n, stderr);
}
