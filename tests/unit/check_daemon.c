/* check_daemon: the root refusal and user switch (ids passed in, so every
 * branch runs whoever runs the tests), RLIMIT_NOFILE planning and raising,
 * the pid file, -r and -k, and daemonizing (in a grandchild that reports
 * back through a pipe). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmem/daemon.h"
#include "mmem/settings.h"

static char *errbuf;
static size_t errlen;
static FILE *err;

static void
setup(void)
{
    err = open_memstream(&errbuf, &errlen);
}

static void
teardown(void)
{
    fclose(err);
    free(errbuf);
}

static const char *
errtext(void)
{
    fflush(err);
    return errbuf;
}

/* ---- root and -u --------------------------------------------------------- */

START_TEST(test_not_root_ignores_user)
{
    ck_assert_int_eq(mm_daemon_switch_user(1000, 1000, NULL, err), 0);
    ck_assert_int_eq(mm_daemon_switch_user(1000, 1000, "nobody", err), 0);
    ck_assert_str_eq(errtext(), "");
}
END_TEST

START_TEST(test_root_without_user_refused)
{
    ck_assert_int_eq(mm_daemon_switch_user(0, 0, NULL, err), 64);
    ck_assert_str_eq(errtext(), "can't run as root without the -u switch\n");
}
END_TEST

START_TEST(test_root_by_euid_or_uid_refused)
{
    ck_assert_int_eq(mm_daemon_switch_user(1000, 0, NULL, err), MM_SETTINGS_EX_USAGE);
    ck_assert_int_eq(mm_daemon_switch_user(0, 1000, "", err), MM_SETTINGS_EX_USAGE);
    ck_assert_str_eq(errtext(), "can't run as root without the -u switch\n"
                                "can't run as root without the -u switch\n");
}
END_TEST

START_TEST(test_root_unknown_user)
{
    ck_assert_int_eq(mm_daemon_switch_user(0, 0, "mmem-no-such-user", err), 67);
    ck_assert_str_eq(errtext(), "can't find the user mmem-no-such-user to switch to\n");
}
END_TEST

START_TEST(test_switch_to_self_when_root)
{
    /* Only as root can a real switch be made without harm: to root itself. */
    if (geteuid() != 0) {
        ck_assert_int_eq(mm_daemon_switch_user(0, 0, "root", err), MM_SETTINGS_EX_OSERR);
        ck_assert(strstr(errtext(), "failed to") != NULL);
        return;
    }
    ck_assert_int_eq(mm_daemon_switch_user(0, 0, "root", err), 0);
    ck_assert_int_eq(getuid(), 0);
    ck_assert_str_eq(errtext(), "");
}
END_TEST

/* ---- RLIMIT_NOFILE ------------------------------------------------------ */

START_TEST(test_nofile_plan)
{
    unsigned long cur = 0, max = 0;

    /* Enough already: nothing to do. */
    ck_assert(!mm_daemon_nofile_plan(2000, 4000, 1024, &cur, &max));
    ck_assert(!mm_daemon_nofile_plan(1024 + MM_DAEMON_NOFILE_HEADROOM, 4000, 1024, &cur, &max));
    /* Raise the soft limit within the hard one. */
    ck_assert(mm_daemon_nofile_plan(1024, 4000, 1024, &cur, &max));
    ck_assert_uint_eq(cur, 1024 + MM_DAEMON_NOFILE_HEADROOM);
    ck_assert_uint_eq(max, 4000);
    /* Raise both when the hard limit is short. */
    ck_assert(mm_daemon_nofile_plan(1024, 1024, 5000, &cur, &max));
    ck_assert_uint_eq(cur, 5000 + MM_DAEMON_NOFILE_HEADROOM);
    ck_assert_uint_eq(max, 5000 + MM_DAEMON_NOFILE_HEADROOM);
}
END_TEST

START_TEST(test_raise_nofile)
{
    struct rlimit rl;

    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max < 300) {
        return; /* too tight a sandbox to test raising */
    }
    rl.rlim_cur = 100;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    ck_assert_int_eq(mm_daemon_raise_nofile(200, err), 0);
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    ck_assert_uint_eq(rl.rlim_cur, 200 + MM_DAEMON_NOFILE_HEADROOM);
    /* Never lowered. */
    ck_assert_int_eq(mm_daemon_raise_nofile(10, err), 0);
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    ck_assert_uint_eq(rl.rlim_cur, 200 + MM_DAEMON_NOFILE_HEADROOM);
    ck_assert_str_eq(errtext(), "");
}
END_TEST

/* -c up to a hard limit that cannot rise: the soft limit becomes the hard
 * limit (memcached starts there); one more is refused. In a child, since
 * a lowered hard limit may never come back. */
START_TEST(test_raise_nofile_to_hard_limit)
{
    pid_t pid = fork();
    int st = 0;

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct rlimit rl = {100, 300};
        FILE *devnull = fopen("/dev/null", "w");

        if (devnull == NULL || setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            _exit(2);
        }
        /* Root with CAP_SYS_RESOURCE may raise it anyway: then not testable. */
        rl.rlim_max = 301 + MM_DAEMON_NOFILE_HEADROOM;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0) {
            _exit(0);
        }
        if (mm_daemon_raise_nofile(300, devnull) != 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0 ||
            rl.rlim_cur != 300 || rl.rlim_max != 300) {
            _exit(3);
        }
        _exit(mm_daemon_raise_nofile(301, devnull) == 71 ? 0 : 4);
    }
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status 0x%x", st);
}
END_TEST

START_TEST(test_raise_nofile_impossible)
{
    /* Beyond fs.nr_open, not even root may go. */
    ck_assert_int_eq(mm_daemon_raise_nofile(INT_MAX - MM_DAEMON_NOFILE_HEADROOM, err), 71);
    ck_assert_str_eq(errtext(), "failed to set rlimit for open files. Try starting as root or "
                                "requesting smaller maxconns value.\n");
}
END_TEST

/* ---- -r, -k --------------------------------------------------------------- */

START_TEST(test_raise_core)
{
    struct rlimit rl;
    int rc;

    ck_assert_int_eq(getrlimit(RLIMIT_CORE, &rl), 0);
    rl.rlim_cur = 0;
    ck_assert_int_eq(setrlimit(RLIMIT_CORE, &rl), 0);
    rc = mm_daemon_raise_core(err);
    if (rc != 0) {
        /* Only possible when the hard limit is 0 and cannot be raised. */
        ck_assert_int_eq(rl.rlim_max, 0);
        ck_assert_int_eq(rc, 71);
        ck_assert_str_eq(errtext(), "failed to ensure corefile creation\n");
        return;
    }
    ck_assert_int_eq(getrlimit(RLIMIT_CORE, &rl), 0);
    ck_assert(rl.rlim_cur > 0);
    ck_assert(rl.rlim_cur == rl.rlim_max);
    ck_assert_str_eq(errtext(), "");
}
END_TEST

START_TEST(test_lock_memory)
{
    int rc;

#ifdef MMEM_SANITIZERS
    /* ASan's terabytes of reserved shadow memory make mlockall pointless. */
    return;
#endif
    rc = mm_daemon_lock_memory(err);

    if (rc == 0) {
        ck_assert_str_eq(errtext(), "");
        munlockall();
    } else {
        ck_assert_int_eq(rc, -1);
        ck_assert(strncmp(errtext(), "warning: -k invalid, mlockall() ", 32) == 0);
    }
}
END_TEST

/* ---- pid file ------------------------------------------------------------ */

static char dir[64];

static void
pid_setup(void)
{
    setup();
    snprintf(dir, sizeof(dir), "/tmp/mmem-check-daemon-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
pid_teardown(void)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/pid", dir);
    unlink(path);
    rmdir(dir);
    teardown();
}

static void
read_file(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    size_t got;

    ck_assert_ptr_nonnull(f);
    got = fread(buf, 1, n - 1, f);
    buf[got] = '\0';
    fclose(f);
}

START_TEST(test_pidfile)
{
    char path[128], tmp[128], buf[64];
    struct stat st;

    snprintf(path, sizeof(path), "%s/pid", dir);
    snprintf(tmp, sizeof(tmp), "%s/pid.tmp", dir);
    ck_assert_int_eq(mm_daemon_pidfile_write(path, 12345, err), 0);
    read_file(path, buf, sizeof(buf));
    ck_assert_str_eq(buf, "12345\n");
    ck_assert_int_eq(stat(tmp, &st), -1);
    ck_assert_str_eq(errtext(), "");
    /* Rewriting over a stale pid (no such process) is silent. */
    ck_assert_int_eq(mm_daemon_pidfile_write(path, 54321, err), 0);
    read_file(path, buf, sizeof(buf));
    ck_assert_str_eq(buf, "54321\n");
    ck_assert_int_eq(mm_daemon_pidfile_remove(path, err), 0);
    ck_assert_int_eq(stat(path, &st), -1);
    ck_assert_str_eq(errtext(), "");
    ck_assert_int_eq(mm_daemon_pidfile_remove(path, err), -1);
    ck_assert(strncmp(errtext(), "Could not remove the pid file ", 30) == 0);
    ck_assert_int_eq(mm_daemon_pidfile_write(NULL, 1, err), 0);
    ck_assert_int_eq(mm_daemon_pidfile_remove(NULL, err), 0);
}
END_TEST

START_TEST(test_pidfile_running_warns)
{
    char path[128], buf[64], want[160];
    long self = (long)getpid();

    snprintf(path, sizeof(path), "%s/pid", dir);
    /* The file names a live process (our parent, the test runner). */
    ck_assert_int_eq(mm_daemon_pidfile_write(path, getppid(), err), 0);
    ck_assert_int_eq(mm_daemon_pidfile_write(path, (pid_t)self, err), 0);
    snprintf(want, sizeof(want),
             "WARNING: The pid file contained the following (running) pid: %ld\n", (long)getppid());
    ck_assert_str_eq(errtext(), want);
    read_file(path, buf, sizeof(buf));
    ck_assert_int_eq(strtol(buf, NULL, 10), self);
}
END_TEST

START_TEST(test_pidfile_unwritable)
{
    char path[160];

    snprintf(path, sizeof(path), "%s/no/such/dir/pid", dir);
    ck_assert_int_eq(mm_daemon_pidfile_write(path, 1, err), -1);
    ck_assert(strncmp(errtext(), "Could not open the pid file ", 28) == 0);
    ck_assert(strstr(errtext(), "No such file or directory") != NULL);
}
END_TEST

/* ---- -d ------------------------------------------------------------------- */

/* Daemonize in a child; the surviving grandchild writes what it sees to a
 * pipe: "<pid> <sid> <cwd> <stdout is /dev/null>". */
static void
daemonize_and_report(bool keep_cwd, bool keep_stdio, char *line, size_t n, int *parent_status)
{
    int fds[2];
    pid_t child;
    struct pollfd pfd;
    ssize_t got;
    size_t used = 0;

    ck_assert_int_eq(pipe(fds), 0);
    child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        char cwd[256];
        struct stat so, dn;
        char out[400];
        int len;

        close(fds[0]);
        if (mm_daemon_daemonize(keep_cwd, keep_stdio, stderr) != 0) {
            _exit(3);
        }
        if (getcwd(cwd, sizeof(cwd)) == NULL) {
            snprintf(cwd, sizeof(cwd), "?");
        }
        fstat(STDOUT_FILENO, &so);
        stat("/dev/null", &dn);
        len = snprintf(out, sizeof(out), "%ld %ld %s %d\n", (long)getpid(), (long)getsid(0), cwd,
                       S_ISCHR(so.st_mode) && so.st_rdev == dn.st_rdev);
        (void)!write(fds[1], out, (size_t)len);
        _exit(0);
    }
    close(fds[1]);
    ck_assert_int_eq(waitpid(child, parent_status, 0), child);
    pfd.fd = fds[0];
    pfd.events = POLLIN;
    /* Bounded: the grandchild writes at once; 5 s is plenty. */
    while (used < n - 1 && poll(&pfd, 1, 5000) > 0) {
        got = read(fds[0], line + used, n - 1 - used);
        if (got <= 0) {
            break;
        }
        used += (size_t)got;
    }
    line[used] = '\0';
    close(fds[0]);
}

START_TEST(test_daemonize)
{
    char line[512];
    long pid, sid;
    char cwd[256];
    int devnull;
    int status;

    daemonize_and_report(false, false, line, sizeof(line), &status);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_int_eq(sscanf(line, "%ld %ld %255s %d", &pid, &sid, cwd, &devnull), 4);
    ck_assert_int_eq(pid, sid); /* a session leader */
    ck_assert_str_eq(cwd, "/");
    ck_assert_int_eq(devnull, 1);
}
END_TEST

START_TEST(test_daemonize_keep)
{
    char line[512];
    char here[256];
    long pid, sid;
    char cwd[256];
    int devnull;
    int status;

    ck_assert_ptr_nonnull(getcwd(here, sizeof(here)));
    daemonize_and_report(true, true, line, sizeof(line), &status);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_int_eq(sscanf(line, "%ld %ld %255s %d", &pid, &sid, cwd, &devnull), 4);
    ck_assert_int_eq(pid, sid);
    ck_assert_str_eq(cwd, here);
    ck_assert_int_eq(devnull, 0);
}
END_TEST

static Suite *
daemon_suite(void)
{
    Suite *s = suite_create("daemon");
    TCase *tu = tcase_create("user");
    TCase *tl = tcase_create("limits");
    TCase *tp = tcase_create("pidfile");
    TCase *td = tcase_create("daemonize");

    tcase_set_timeout(tu, 10);
    tcase_add_checked_fixture(tu, setup, teardown);
    tcase_add_test(tu, test_not_root_ignores_user);
    tcase_add_test(tu, test_root_without_user_refused);
    tcase_add_test(tu, test_root_by_euid_or_uid_refused);
    tcase_add_test(tu, test_root_unknown_user);
    tcase_add_test(tu, test_switch_to_self_when_root);
    suite_add_tcase(s, tu);

    tcase_set_timeout(tl, 10);
    tcase_add_checked_fixture(tl, setup, teardown);
    tcase_add_test(tl, test_nofile_plan);
    tcase_add_test(tl, test_raise_nofile);
    tcase_add_test(tl, test_raise_nofile_impossible);
    tcase_add_test(tl, test_raise_nofile_to_hard_limit);
    tcase_add_test(tl, test_raise_core);
    tcase_add_test(tl, test_lock_memory);
    suite_add_tcase(s, tl);

    tcase_set_timeout(tp, 10);
    tcase_add_checked_fixture(tp, pid_setup, pid_teardown);
    tcase_add_test(tp, test_pidfile);
    tcase_add_test(tp, test_pidfile_running_warns);
    tcase_add_test(tp, test_pidfile_unwritable);
    suite_add_tcase(s, tp);

    tcase_set_timeout(td, 20);
    tcase_add_test(td, test_daemonize);
    tcase_add_test(td, test_daemonize_keep);
    suite_add_tcase(s, td);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(daemon_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
