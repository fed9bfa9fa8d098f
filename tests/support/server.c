/* Spawns mmem or memcached for the integration tests and stops it again.
 * Readiness is race-free: mmem reports its bound port on --ready-fd, and
 * memcached (or mmem in port-file mode) writes MEMCACHED_PORT_FILENAME.
 * The only state kept across calls is the list of pids to kill if a test
 * process dies early; it is per process and never shared with the server. */
#include "config.h"

#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The child sees the readiness pipe on this descriptor: high enough not to
 * collide with stdio or anything the server opens early. */
#define READY_FD 100
#define START_TIMEOUT_MS 10000
#define MAX_ARGS 64
#define MAX_GUARDED 32

/* Servers that must die with this process. Test support code only: the rule
 * against mutable globals is for the daemon, and a fixture that leaks
 * servers on a failed assertion would be worse. */
static pid_t guarded[MAX_GUARDED];
static pid_t guard_owner[MAX_GUARDED];
static bool guard_registered;

static void
guard_kill_all(void)
{
    int i;
    pid_t self = getpid();

    for (i = 0; i < MAX_GUARDED; i++) {
        /* Forked test children inherit this list; only the process that
         * started a server may kill it, or every finished test would take
         * the shared servers down with it. */
        if (guarded[i] > 0 && guard_owner[i] == self) {
            kill(guarded[i], SIGKILL);
            guarded[i] = 0;
        }
    }
}

void
mm_tserver_guard_pid(pid_t pid)
{
    int i;

    if (!guard_registered) {
        atexit(guard_kill_all);
        guard_registered = true;
    }
    for (i = 0; i < MAX_GUARDED; i++) {
        if (guarded[i] <= 0) {
            guarded[i] = pid;
            guard_owner[i] = getpid();
            return;
        }
    }
}

static void
guard_forget(pid_t pid)
{
    int i;

    for (i = 0; i < MAX_GUARDED; i++) {
        if (guarded[i] == pid) {
            guarded[i] = 0;
        }
    }
}

void
mm_tserver_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static bool
executable(const char *path)
{
    return path != NULL && path[0] != '\0' && access(path, X_OK) == 0;
}

const char *
mm_tserver_bin(enum mm_tserver_kind kind)
{
    const char *p = getenv(kind == MM_TSERVER_TARGET ? "MMEM_BIN" : "MEMCACHED_BIN");

    return executable(p) ? p : NULL;
}

bool
mm_tserver_have_memcached(void)
{
    return mm_tserver_bin(MM_TSERVER_MEMCACHED) != NULL;
}

bool
mm_tserver_target_is_memcached(void)
{
    const char *p = getenv("MMEM_BIN");
    const char *base;

    if (p == NULL) {
        return false;
    }
    base = strrchr(p, '/');
    base = base ? base + 1 : p;
    return strstr(base, "memcached") != NULL;
}

bool
mm_tserver_target_external(void)
{
    const char *a = getenv("MMEM_TEST_ADDR");

    return a != NULL && a[0] != '\0';
}

/* True when the binary for kind is memcached, whatever the suite calls it. */
static bool
speaks_memcached(enum mm_tserver_kind kind)
{
    return kind == MM_TSERVER_MEMCACHED || mm_tserver_target_is_memcached();
}

const char *
mm_tserver_any_port(enum mm_tserver_kind kind)
{
    (void)kind;
    return "-1"; /* "-p 0" turns TCP off, in mmem as in memcached */
}

static int
parse_addr(struct mm_tserver *s, const char *addr)
{
    const char *colon = strrchr(addr, ':');
    size_t hlen;

    if (colon == NULL || colon == addr) {
        fprintf(stderr, "MMEM_TEST_ADDR must be host:port, got '%s'\n", addr);
        return -1;
    }
    hlen = (size_t)(colon - addr);
    if (hlen >= sizeof(s->host)) {
        hlen = sizeof(s->host) - 1;
    }
    memcpy(s->host, addr, hlen);
    s->host[hlen] = '\0';
    s->port = atoi(colon + 1);
    return s->port > 0 ? 0 : -1;
}

char *
mm_tserver_read_log(const struct mm_tserver *s)
{
    FILE *f;
    char *buf;
    long n;

    if (s->logpath[0] == '\0' || (f = fopen(s->logpath, "r")) == NULL) {
        return strdup("");
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n < 0) {
        n = 0;
    }
    buf = malloc((size_t)n + 1);
    if (buf == NULL) {
        fclose(f);
        return NULL;
    }
    n = (long)fread(buf, 1, (size_t)n, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

void
mm_tserver_dump_log(const struct mm_tserver *s)
{
    char *log = mm_tserver_read_log(s);

    fprintf(stderr, "---- %s server (pid %d) output ----\n%s---- end ----\n",
            s->kind == MM_TSERVER_TARGET ? "target" : "memcached", (int)s->pid, log ? log : "");
    free(log);
}

/* Parse "TCP INET: <port>" / "TCP INET6: <port>" lines. Returns true once
 * at least one TCP port has been found. */
static bool
read_portfile(struct mm_tserver *s)
{
    FILE *f = fopen(s->portpath, "r");
    char line[128];
    int p;

    if (f == NULL) {
        return false;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "TCP INET: %d", &p) == 1 && s->port == 0) {
            s->port = p;
        } else if (sscanf(line, "TCP INET6: %d", &p) == 1 && s->port6 == 0) {
            s->port6 = p;
        }
    }
    fclose(f);
    return s->port != 0 || s->port6 != 0;
}

static void
cleanup_files(struct mm_tserver *s)
{
    if (s->logpath[0] != '\0') {
        unlink(s->logpath);
        s->logpath[0] = '\0';
    }
    if (s->portpath[0] != '\0') {
        char lck[80];

        unlink(s->portpath);
        snprintf(lck, sizeof(lck), "%s.lck", s->portpath);
        unlink(lck);
        s->portpath[0] = '\0';
    }
}

/* The child died or never got ready: report and reap. */
static int
start_failed(struct mm_tserver *s, const char *why)
{
    int status = 0;

    fprintf(stderr, "server start failed: %s\n", why);
    if (s->pid > 0) {
        if (waitpid(s->pid, &status, WNOHANG) == 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
        }
        if (WIFEXITED(status)) {
            fprintf(stderr, "server exited with status %d\n", WEXITSTATUS(status));
        } else if (WIFSIGNALED(status)) {
            fprintf(stderr, "server killed by signal %d\n", WTERMSIG(status));
        }
        guard_forget(s->pid);
    }
    mm_tserver_dump_log(s);
    cleanup_files(s);
    s->pid = 0;
    return -1;
}

static int
wait_ready_fd(struct mm_tserver *s, int rfd)
{
    char buf[32];
    size_t len = 0;
    long deadline = now_ms() + START_TIMEOUT_MS;

    while (len < sizeof(buf) - 1) {
        struct pollfd pfd = {.fd = rfd, .events = POLLIN};
        long left = deadline - now_ms();
        ssize_t n;

        if (left <= 0) {
            return start_failed(s, "no port on --ready-fd within 10 s");
        }
        if (poll(&pfd, 1, (int)left) <= 0) {
            continue;
        }
        n = read(rfd, buf + len, sizeof(buf) - 1 - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return start_failed(s, "--ready-fd closed before a port was written");
        }
        len += (size_t)n;
        buf[len] = '\0';
        if (strchr(buf, '\n') != NULL) {
            s->port = atoi(buf);
            if (s->port <= 0) {
                return start_failed(s, "bad port written on --ready-fd");
            }
            return 0;
        }
    }
    return start_failed(s, "over-long line on --ready-fd");
}

static int
wait_portfile(struct mm_tserver *s)
{
    long deadline = now_ms() + START_TIMEOUT_MS;
    int status;

    while (now_ms() < deadline) {
        if (read_portfile(s)) {
            return 0;
        }
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            /* Already reaped: tell start_failed not to wait again. */
            guard_forget(s->pid);
            s->pid = 0;
            fprintf(stderr, "server exited early (status 0x%x)\n", (unsigned)status);
            return start_failed(s, "server exited before writing its port file");
        }
        mm_tserver_sleep_ms(10);
    }
    return start_failed(s, "no port file within 10 s");
}

void
mm_tserver_release(struct mm_tserver *s)
{
    if (s->pid > 0) {
        guard_forget(s->pid);
        s->pid = 0;
    }
    cleanup_files(s);
}

int
mm_tserver_wait_portfile(struct mm_tserver *s, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;

    if (s->portpath[0] == '\0') {
        return -1;
    }
    while (now_ms() < deadline) {
        if (read_portfile(s)) {
            return 0;
        }
        mm_tserver_sleep_ms(10);
    }
    return -1;
}

int
mm_tserver_start(struct mm_tserver *s, enum mm_tserver_kind kind, unsigned flags,
                 const char *const *argv)
{
    const char *args[MAX_ARGS + 16];
    char readyarg[32];
    int nargs = 0;
    int pipefd[2] = {-1, -1};
    int logfd;
    bool use_ready;
    const char *bin;
    int i;

    memset(s, 0, sizeof(*s));
    s->kind = kind;
    snprintf(s->host, sizeof(s->host), "127.0.0.1");

    if (kind == MM_TSERVER_TARGET && mm_tserver_target_external()) {
        s->external = true;
        return parse_addr(s, getenv("MMEM_TEST_ADDR"));
    }
    bin = mm_tserver_bin(kind);
    if (bin == NULL) {
        fprintf(stderr, "server binary for %s is not executable (%s)\n",
                kind == MM_TSERVER_TARGET ? "MMEM_BIN" : "MEMCACHED_BIN",
                getenv(kind == MM_TSERVER_TARGET ? "MMEM_BIN" : "MEMCACHED_BIN"));
        return -1;
    }

    use_ready =
        !speaks_memcached(kind) && !(flags & (MM_TSERVER_F_PORTFILE | MM_TSERVER_F_NOLISTEN));

    snprintf(s->logpath, sizeof(s->logpath), "/tmp/mmem-it-log-XXXXXX");
    logfd = mkstemp(s->logpath);
    if (logfd < 0) {
        s->logpath[0] = '\0';
        perror("mkstemp");
        return -1;
    }
    if (!use_ready) {
        int pf;

        snprintf(s->portpath, sizeof(s->portpath), "/tmp/mmem-it-port-XXXXXX");
        pf = mkstemp(s->portpath);
        if (pf >= 0) {
            close(pf);
            /* The server creates the file once it listens; it must not
             * exist before, or we would read it empty. */
            unlink(s->portpath);
        }
    }

    args[nargs++] = bin;
    if (geteuid() == 0 && !(flags & MM_TSERVER_F_NOUSER)) {
        args[nargs++] = "-u";
        args[nargs++] = "root";
    }
    if (!(flags & MM_TSERVER_F_NOLISTEN)) {
        args[nargs++] = "-l";
        args[nargs++] = "127.0.0.1";
        args[nargs++] = "-p";
        /* "-p 0" means "no TCP"; "-p -1" is an ephemeral port (reported
         * in the port file, or on --ready-fd by mmem). */
        args[nargs++] = mm_tserver_any_port(kind);
    }
    if (use_ready) {
        snprintf(readyarg, sizeof(readyarg), "--ready-fd=%d", READY_FD);
        args[nargs++] = readyarg;
        if (pipe2(pipefd, O_CLOEXEC) != 0) {
            perror("pipe2");
            close(logfd);
            cleanup_files(s);
            return -1;
        }
    }
    for (i = 0; argv != NULL && argv[i] != NULL && i < MAX_ARGS; i++) {
        args[nargs++] = argv[i];
    }
    args[nargs] = NULL;

    fflush(stdout);
    fflush(stderr);
    s->pid = fork();
    if (s->pid < 0) {
        perror("fork");
        close(logfd);
        cleanup_files(s);
        return -1;
    }
    if (s->pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (devnull >= 0) {
            dup2(devnull, 0);
        }
        dup2(logfd, 1);
        dup2(logfd, 2);
        if (use_ready) {
            /* dup2 clears close-on-exec on the copy only. */
            dup2(pipefd[1], READY_FD);
        }
        if (s->portpath[0] != '\0') {
            setenv("MEMCACHED_PORT_FILENAME", s->portpath, 1);
        } else {
            unsetenv("MEMCACHED_PORT_FILENAME");
        }
        execv(bin, (char *const *)args);
        fprintf(stderr, "execv %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    close(logfd);
    mm_tserver_guard_pid(s->pid);

    if (use_ready) {
        int rc;

        close(pipefd[1]);
        rc = (flags & MM_TSERVER_F_NOWAIT) ? 0 : wait_ready_fd(s, pipefd[0]);
        close(pipefd[0]);
        return rc;
    }
    if (flags & MM_TSERVER_F_NOWAIT) {
        return 0;
    }
    return wait_portfile(s);
}

int
mm_tserver_startl(struct mm_tserver *s, enum mm_tserver_kind kind, unsigned flags, ...)
{
    const char *argv[MAX_ARGS + 1];
    int n = 0;
    const char *a;
    va_list ap;

    va_start(ap, flags);
    while ((a = va_arg(ap, const char *)) != NULL && n < MAX_ARGS) {
        argv[n++] = a;
    }
    va_end(ap);
    argv[n] = NULL;
    return mm_tserver_start(s, kind, flags, argv);
}

/* Wait for pid to exit: 0 (status set), -1 on error, 1 when timeout_ms
 * passed first, or when ready_path (if not NULL) exists: the server is up
 * and running, so waiting longer says nothing more. */
static int
reap_until(pid_t pid, int timeout_ms, const char *ready_path, int *status)
{
    long deadline = now_ms() + timeout_ms;

    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);

        if (r == pid) {
            return 0;
        }
        if (r < 0 && errno != EINTR) {
            return -1;
        }
        if (now_ms() >= deadline || (ready_path != NULL && access(ready_path, F_OK) == 0)) {
            return 1;
        }
        mm_tserver_sleep_ms(5);
    }
}

static int
reap(pid_t pid, int timeout_ms, int *status)
{
    return reap_until(pid, timeout_ms, NULL, status);
}

int
mm_tserver_wait(struct mm_tserver *s, int timeout_ms)
{
    int status = 0;

    if (s->external || s->pid <= 0) {
        return -1;
    }
    if (reap(s->pid, timeout_ms, &status) != 0) {
        return -1;
    }
    guard_forget(s->pid);
    s->pid = 0;
    return status;
}

bool
mm_tserver_alive(struct mm_tserver *s)
{
    int status;

    if (s->external) {
        return true;
    }
    if (s->pid <= 0) {
        return false;
    }
    if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
        guard_forget(s->pid);
        s->pid = 0;
        return false;
    }
    return true;
}

int
mm_tserver_stop_sig(struct mm_tserver *s, int sig, int timeout_ms)
{
    int status = 0;
    int r;

    if (s->external) {
        return 0;
    }
    if (s->pid <= 0) {
        fprintf(stderr, "stop: server already gone\n");
        mm_tserver_dump_log(s);
        cleanup_files(s);
        return -1;
    }
    kill(s->pid, sig);
    r = reap(s->pid, timeout_ms, &status);
    if (r != 0) {
        fprintf(stderr, "server pid %d did not exit within %d ms of signal %d: killed\n",
                (int)s->pid, timeout_ms, sig);
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &status, 0);
        mm_tserver_dump_log(s);
        status = -1;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "server pid %d ended with wait status 0x%x after signal %d\n", (int)s->pid,
                (unsigned)status, sig);
        mm_tserver_dump_log(s);
    }
    guard_forget(s->pid);
    s->pid = 0;
    cleanup_files(s);
    return status;
}

int
mm_tserver_stop(struct mm_tserver *s)
{
    int st = mm_tserver_stop_sig(s, SIGTERM, 5000);

    return (st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0) ? 0 : -1;
}

int
mm_tserver_run(const char *bin, const char *const *argv, int timeout_ms, char **out)
{
    return mm_tserver_run_until(bin, argv, timeout_ms, NULL, out);
}

int
mm_tserver_run_until(const char *bin, const char *const *argv, int timeout_ms,
                     const char *ready_path, char **out)
{
    char path[64];
    int fd;
    pid_t pid;
    int status = 0;
    struct mm_tserver tmp;

    *out = NULL;
    snprintf(path, sizeof(path), "/tmp/mmem-it-run-XXXXXX");
    fd = mkstemp(path);
    if (fd < 0) {
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        close(fd);
        unlink(path);
        return -1;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (devnull >= 0) {
            dup2(devnull, 0);
        }
        dup2(fd, 1);
        dup2(fd, 2);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(fd);
    if (reap_until(pid, timeout_ms, ready_path, &status) != 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        status = -1;
    }
    memset(&tmp, 0, sizeof(tmp));
    snprintf(tmp.logpath, sizeof(tmp.logpath), "%s", path);
    *out = mm_tserver_read_log(&tmp);
    unlink(path);
    return status;
}

long
mm_tserver_rss_kb(pid_t pid)
{
    char path[64];
    char line[256];
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "VmRSS: %ld", &kb) == 1) {
            break;
        }
    }
    fclose(f);
    return kb;
}
