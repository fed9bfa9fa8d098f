#ifndef MMEM_LOG_H
#define MMEM_LOG_H

/* Levelled logging to stderr. The level is fixed at start-up from -v/-vv/-vvv
 * and may be changed by the "verbosity" command, so it is kept in an atomic
 * owned by log.c (the one piece of process state that is not a setting). */

enum mm_log_level {
    MM_LOG_ERROR = -1, /* always printed */
    MM_LOG_WARN = 0,   /* always printed */
    MM_LOG_INFO = 1,   /* -v */
    MM_LOG_DEBUG = 2,  /* -vv */
    MM_LOG_TRACE = 3   /* -vvv */
};

/* Set the current level (clamped to [MM_LOG_WARN, MM_LOG_TRACE]). Thread-safe. */
void mm_log_set_level(int level);
int mm_log_get_level(void);

/* Print one line (a newline is appended) if level <= the current level. */
void mm_log(enum mm_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define mm_log_error(...) mm_log(MM_LOG_ERROR, __VA_ARGS__)
#define mm_log_warn(...) mm_log(MM_LOG_WARN, __VA_ARGS__)
#define mm_log_info(...) mm_log(MM_LOG_INFO, __VA_ARGS__)
#define mm_log_debug(...) mm_log(MM_LOG_DEBUG, __VA_ARGS__)

#endif
