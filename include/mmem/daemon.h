#ifndef MMEM_DAEMON_H
#define MMEM_DAEMON_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/* Process set-up steps memcached performs at start-up, each a plain function
 * that main calls. They write memcached's messages to err and return 0 on
 * success or the exit status memcached would use (MM_SETTINGS_EX_* values,
 * 64/67/71), or -1 for a warning after which start-up goes on. None calls
 * exit(), except that mm_daemon_daemonize ends the parent process.
 *
 * memcached's order, which main should keep:
 *   mm_daemon_raise_core (-r), mm_daemon_raise_nofile (-c),
 *   mm_daemon_switch_user (refuses root without -u; -u),
 *   mm_daemon_daemonize (-d), mm_daemon_lock_memory (-k),
 *   ... listen ..., mm_daemon_pidfile_write (-P),
 *   ... run ..., mm_daemon_pidfile_remove at exit. */

/* Descriptors kept beyond -c for listeners, eventfds, log files... */
#define MM_DAEMON_NOFILE_HEADROOM 64

/* -r: raise the core file size limit to the hard limit (unlimited when
 * allowed). Fails with "failed to ensure corefile creation" (71) when the
 * resulting limit is still 0. */
int mm_daemon_raise_core(FILE *err);

/* Decide the RLIMIT_NOFILE needed for maxconns connections: returns false
 * when cur already fits maxconns + MM_DAEMON_NOFILE_HEADROOM; otherwise true
 * with the new soft and hard limits (the hard limit rises only if it must).
 * Pure function. */
bool mm_daemon_nofile_plan(unsigned long cur, unsigned long max, int maxconns,
                           unsigned long *new_cur, unsigned long *new_max);

/* Raise RLIMIT_NOFILE per mm_daemon_nofile_plan. When the hard limit
 * cannot rise (no privilege) but -c fits under it, the soft limit becomes
 * the hard limit: memcached starts there too (it sets both limits to
 * exactly -c). Otherwise prints memcached's "failed to set rlimit for open
 * files. Try starting as root or requesting smaller maxconns value." and
 * returns 71. Never lowers a limit (mmem keeps any larger limit). */
int mm_daemon_raise_nofile(int maxconns, FILE *err);

/* Root handling, with the ids passed in so every branch is testable:
 *   uid or euid 0 and no username -> "can't run as root without the -u
 *     switch", returns 64 (memcached's message and status);
 *   uid or euid 0 and username    -> look the user up ("can't find the user
 *     %s to switch to", 67), drop supplementary groups, setgid, setuid (71
 *     on failure, with memcached's messages);
 *   neither is 0                  -> nothing (-u is ignored), returns 0.
 * main passes getuid() and geteuid(). */
int mm_daemon_switch_user(uid_t uid, uid_t euid, const char *username, FILE *err);

/* -d: fork; the parent exits 0 at once; the child becomes a session leader,
 * changes to "/" unless keep_cwd (memcached keeps the directory with -r so
 * cores land there) and points stdin/stdout/stderr at /dev/null unless
 * keep_stdio (memcached keeps them with -v). Ignores SIGHUP first. Returns 0
 * in the child, or 71 after "failed to daemon() in order to daemonize". */
int mm_daemon_daemonize(bool keep_cwd, bool keep_stdio, FILE *err);

/* -k: mlockall(MCL_CURRENT | MCL_FUTURE). On failure prints memcached's
 * warning and returns -1; start-up goes on, as memcached does. */
int mm_daemon_lock_memory(FILE *err);

/* -P: write "<pid>\n" to path through path.tmp and a rename, so a reader
 * never sees a partial file. If the file already names a running process,
 * warns first, as memcached does. Failures are warnings (-1), not fatal. */
int mm_daemon_pidfile_write(const char *path, pid_t pid, FILE *err);

/* Remove the pid file at exit; a failure is a warning (-1). */
int mm_daemon_pidfile_remove(const char *path, FILE *err);

#endif
