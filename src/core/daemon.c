/* Start-up steps of a Unix daemon, as memcached performs them: resource
 * limits, the refusal to run as root without -u and the switch to that user,
 * detaching (-d), mlockall (-k) and the pid file (-P). Each returns a status
 * for main to act on; only the parent side of daemonizing exits. */
#include "config.h"

#include "mmem/daemon.h"
#include "mmem/settings.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

int
mm_daemon_raise_core(FILE *err)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_CORE, &rl) != 0) {
        fprintf(err, "failed to ensure corefile creation\n");
        return MM_SETTINGS_EX_OSERR;
    }
    {
        struct rlimit want = {RLIM_INFINITY, RLIM_INFINITY};

        /* Unlimited needs privileges; otherwise settle for the hard limit. */
        if (setrlimit(RLIMIT_CORE, &want) != 0) {
            want.rlim_cur = rl.rlim_max;
            want.rlim_max = rl.rlim_max;
            (void)setrlimit(RLIMIT_CORE, &want);
        }
    }
    if (getrlimit(RLIMIT_CORE, &rl) != 0 || rl.rlim_cur == 0) {
        fprintf(err, "failed to ensure corefile creation\n");
        return MM_SETTINGS_EX_OSERR;
    }
    return 0;
}

bool
mm_daemon_nofile_plan(unsigned long cur, unsigned long max, int maxconns, unsigned long *new_cur,
                      unsigned long *new_max)
{
    unsigned long need = (unsigned long)(maxconns > 0 ? maxconns : 0) + MM_DAEMON_NOFILE_HEADROOM;

    if (cur >= need) {
        return false;
    }
    *new_cur = need;
    *new_max = max >= need ? max : need;
    return true;
}

int
mm_daemon_raise_nofile(int maxconns, FILE *err)
{
    struct rlimit rl;
    unsigned long cur, max;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        fprintf(err, "failed to getrlimit number of files\n");
        return MM_SETTINGS_EX_OSERR;
    }
    if (!mm_daemon_nofile_plan((unsigned long)rl.rlim_cur, (unsigned long)rl.rlim_max, maxconns,
                               &cur, &max)) {
        return 0;
    }
    {
        struct rlimit want = {(rlim_t)cur, (rlim_t)max};

        if (setrlimit(RLIMIT_NOFILE, &want) == 0) {
            return 0;
        }
    }
    /* The headroom cannot be had: memcached starts whenever -c fits under
     * the hard limit, so mmem then settles for the hard limit. */
    if (maxconns > 0 && (rlim_t)maxconns <= rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0) {
            return 0;
        }
    }
    fprintf(err, "failed to set rlimit for open files. Try starting as root or requesting "
                 "smaller maxconns value.\n");
    return MM_SETTINGS_EX_OSERR;
}

int
mm_daemon_switch_user(uid_t uid, uid_t euid, const char *username, FILE *err)
{
    struct passwd *pw;

    if (uid != 0 && euid != 0) {
        return 0;
    }
    if (username == NULL || username[0] == '\0') {
        fprintf(err, "can't run as root without the -u switch\n");
        return MM_SETTINGS_EX_USAGE;
    }
    pw = getpwnam(username);
    if (pw == NULL) {
        fprintf(err, "can't find the user %s to switch to\n", username);
        return MM_SETTINGS_EX_NOUSER;
    }
    if (setgroups(0, NULL) != 0) {
        fprintf(err, "failed to drop supplementary groups: %s\n", strerror(errno));
        return MM_SETTINGS_EX_OSERR;
    }
    if (setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        fprintf(err, "failed to assume identity of user %s\n", username);
        return MM_SETTINGS_EX_OSERR;
    }
    return 0;
}

int
mm_daemon_daemonize(bool keep_cwd, bool keep_stdio, FILE *err)
{
    struct sigaction sa;
    pid_t pid;

    /* The controlling terminal goes away when the session ends. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGHUP, &sa, NULL) != 0) {
        fprintf(err, "Failed to ignore SIGHUP\n");
        return MM_SETTINGS_EX_OSERR;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        fprintf(err, "failed to daemon() in order to daemonize\n");
        return MM_SETTINGS_EX_OSERR;
    }
    if (pid > 0) {
        /* The parent's only job is to let the shell continue. */
        _exit(EXIT_SUCCESS);
    }
    if (setsid() < 0) {
        fprintf(err, "failed to daemon() in order to daemonize\n");
        return MM_SETTINGS_EX_OSERR;
    }
    if (!keep_cwd && chdir("/") != 0) {
        fprintf(err, "failed to daemon() in order to daemonize\n");
        return MM_SETTINGS_EX_OSERR;
    }
    if (!keep_stdio) {
        int fd = open("/dev/null", O_RDWR);

        if (fd < 0) {
            fprintf(err, "failed to daemon() in order to daemonize\n");
            return MM_SETTINGS_EX_OSERR;
        }
        if (dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0 ||
            dup2(fd, STDERR_FILENO) < 0) {
            fprintf(err, "failed to daemon() in order to daemonize\n");
            close(fd);
            return MM_SETTINGS_EX_OSERR;
        }
        if (fd > STDERR_FILENO) {
            close(fd);
        }
    }
    return 0;
}

int
mm_daemon_lock_memory(FILE *err)
{
#ifdef HAVE_MLOCKALL
    if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
        fprintf(err, "warning: -k invalid, mlockall() failed: %s\n", strerror(errno));
        return -1;
    }
    return 0;
#else
    fprintf(err, "warning: -k invalid, mlockall() not supported on this platform.  proceeding "
                 "without.\n");
    return -1;
#endif
}

/* The pid recorded in an existing pid file, or 0. */
static long
read_pid(const char *path)
{
    char buf[32];
    FILE *f = fopen(path, "r");
    long pid = 0;

    if (f == NULL) {
        return 0;
    }
    if (fgets(buf, sizeof(buf), f) != NULL) {
        pid = strtol(buf, NULL, 10);
    }
    fclose(f);
    return pid > 0 ? pid : 0;
}

int
mm_daemon_pidfile_write(const char *path, pid_t pid, FILE *err)
{
    char *tmp;
    size_t len;
    long old;
    FILE *f;
    int rc = 0;

    if (path == NULL) {
        return 0;
    }
    old = read_pid(path);
    if (old > 0 && old != (long)pid && kill((pid_t)old, 0) == 0) {
        fprintf(err, "WARNING: The pid file contained the following (running) pid: %ld\n", old);
    }
    len = strlen(path) + sizeof(".tmp");
    tmp = malloc(len);
    if (tmp == NULL) {
        fprintf(err, "Could not open the pid file %s for writing: %s\n", path, strerror(ENOMEM));
        return -1;
    }
    snprintf(tmp, len, "%s.tmp", path);
    f = fopen(tmp, "w");
    if (f == NULL) {
        fprintf(err, "Could not open the pid file %s for writing: %s\n", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    fprintf(f, "%ld\n", (long)pid);
    if (fclose(f) != 0) {
        fprintf(err, "Could not close the pid file %s: %s\n", tmp, strerror(errno));
        rc = -1;
    } else if (rename(tmp, path) != 0) {
        fprintf(err, "Could not rename the pid file from %s to %s: %s\n", tmp, path,
                strerror(errno));
        rc = -1;
    }
    if (rc != 0) {
        (void)unlink(tmp);
    }
    free(tmp);
    return rc;
}

int
mm_daemon_pidfile_remove(const char *path, FILE *err)
{
    if (path == NULL) {
        return 0;
    }
    if (unlink(path) != 0) {
        fprintf(err, "Could not remove the pid file %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}
