#ifndef MMEM_TEST_SERVER_H
#define MMEM_TEST_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Test fixture that runs a server binary (mmem or memcached) as a child
 * process, learns the port it bound without racing for a free one, and stops
 * it again. The child's stdout and stderr go to a temp file that is printed
 * when something goes wrong.
 *
 * Environment read here (set by AM_TESTS_ENVIRONMENT):
 *   MMEM_BIN        the mmem binary under test
 *   MEMCACHED_BIN   the reference memcached (empty = not installed)
 *   MMEM_TEST_ADDR  host:port of an already running server: the "target"
 *                   is then not spawned at all
 * If MMEM_BIN's file name contains "memcached", the target is driven the way
 * memcached is (port file rather than --ready-fd); this lets the suites be
 * checked against memcached itself. */

enum mm_tserver_kind {
    MM_TSERVER_TARGET = 0, /* $MMEM_BIN, the server under test */
    MM_TSERVER_MEMCACHED   /* $MEMCACHED_BIN, the reference */
};

/* How the fixture builds the command line. */
#define MM_TSERVER_F_NOLISTEN 0x1u /* caller gives -l/-p/-s itself: no "-l 127.0.0.1 -p 0" */
#define MM_TSERVER_F_NOWAIT 0x2u   /* do not wait for readiness (caller probes) */
#define MM_TSERVER_F_PORTFILE 0x4u /* learn the port from MEMCACHED_PORT_FILENAME even for mmem */
#define MM_TSERVER_F_NOUSER 0x8u   /* never add "-u root" */

struct mm_tserver {
    enum mm_tserver_kind kind;
    bool external;     /* MMEM_TEST_ADDR: nothing was spawned */
    pid_t pid;         /* 0 when external or stopped */
    char host[64];     /* where to connect */
    int port;          /* first TCP port learnt, 0 if none */
    int port6;         /* first TCP INET6 port from the port file, 0 if none */
    char logpath[64];  /* child's stdout+stderr */
    char portpath[64]; /* MEMCACHED_PORT_FILENAME, "" when unused */
};

/* Path of the binary for kind, or NULL when it is not configured/executable. */
const char *mm_tserver_bin(enum mm_tserver_kind kind);

/* True when memcached (the reference) can be run. */
bool mm_tserver_have_memcached(void);

/* True when the target is memcached itself (MMEM_BIN names memcached). */
bool mm_tserver_target_is_memcached(void);

/* True when MMEM_TEST_ADDR points the suites at an external server. */
bool mm_tserver_target_external(void);

/* Start kind with extra arguments argv (NULL-terminated, may be NULL) and
 * wait (up to 10 s) until it listens. Returns 0, or -1 after printing why
 * (and the child's output) to stderr; the child is then already reaped. */
int mm_tserver_start(struct mm_tserver *s, enum mm_tserver_kind kind, unsigned flags,
                     const char *const *argv);

/* The -p value that asks kind for an ephemeral port: "-1" for both ("0"
 * turns TCP off). For callers using F_NOLISTEN. */
const char *mm_tserver_any_port(enum mm_tserver_kind kind);

/* Same, arguments given as a NULL-terminated list. */
int mm_tserver_startl(struct mm_tserver *s, enum mm_tserver_kind kind, unsigned flags, ...);

/* Poll the port file (F_PORTFILE/F_NOLISTEN starts) for up to timeout_ms,
 * without regard to the child: for servers that daemonize. 0 or -1. */
int mm_tserver_wait_portfile(struct mm_tserver *s, int timeout_ms);

/* Forget a server that is no longer our child (it daemonized, or was
 * reaped by mm_tserver_wait): remove its temp files. */
void mm_tserver_release(struct mm_tserver *s);

/* Send sig and wait up to timeout_ms for the child to exit. Returns its
 * wait status, or -1 if it did not exit in time (it is then SIGKILLed and
 * reaped). An external server is left alone and 0 is returned. */
int mm_tserver_stop_sig(struct mm_tserver *s, int sig, int timeout_ms);

/* SIGTERM + wait 5 s. Returns 0 if the server exited with status 0. */
int mm_tserver_stop(struct mm_tserver *s);

/* Wait up to timeout_ms for the child to exit by itself (no signal).
 * Returns its wait status or -1 if it is still running. */
int mm_tserver_wait(struct mm_tserver *s, int timeout_ms);

/* True while the child is alive (not yet exited). */
bool mm_tserver_alive(struct mm_tserver *s);

/* Print the child's captured output to stderr under a header. */
void mm_tserver_dump_log(const struct mm_tserver *s);

/* Read the child's captured output into a malloc'd NUL-terminated string. */
char *mm_tserver_read_log(const struct mm_tserver *s);

/* Run bin with argv (argv[0] included) to completion, capturing stdout+
 * stderr into *out (malloc'd, NUL-terminated). Gives up after timeout_ms
 * (SIGKILL). Returns the wait status, or -1 on timeout/spawn failure. */
int mm_tserver_run(const char *bin, const char *const *argv, int timeout_ms, char **out);
/* The same, but a server still running is stopped as soon as ready_path
 * exists (it has finished starting up), and only then after timeout_ms. */
int mm_tserver_run_until(const char *bin, const char *const *argv, int timeout_ms,
                         const char *ready_path, char **out);

/* Remember a pid that must be SIGKILLed if this test process exits early
 * (e.g. a daemonized server whose parent is gone). */
void mm_tserver_guard_pid(pid_t pid);

/* Resident set size of pid in kB (VmRSS), or -1. */
long mm_tserver_rss_kb(pid_t pid);

/* Sleep ms milliseconds. */
void mm_tserver_sleep_ms(int ms);

#endif
