/* Command line, end to end: help and version, rejected options and values
 * (exit status compared with memcached's where memcached rejects them too),
 * and the flags that change behaviour on the wire: -c, -A, -F, -C, -I, -L,
 * -t, -s/-a, -l with several addresses, -d/-P, -U, -o ev_backend. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "server.h"
#include "tcheck.h"

#define RUN_TIMEOUT_MS 3000

/* Run a binary to completion with argv (NULL-terminated, argv[0] added
 * here). Returns the wait status; *out gets the output. */
static int
run_bin(const char *bin, const char *const *args, char **out)
{
    const char *argv[40];
    int n = 0;
    int i;

    argv[n++] = bin;
    for (i = 0; args[i] != NULL && n < 39; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    return mm_tserver_run(bin, argv, RUN_TIMEOUT_MS, out);
}

static const char *
target_bin(void)
{
    const char *b = mm_tserver_bin(MM_TSERVER_TARGET);

    ck_assert_msg(b != NULL, "MMEM_BIN is not executable");
    return b;
}

/* Some checks are about mmem's own answers where memcached behaves
 * otherwise (it has SASL, TLS, UDP...): they pass vacuously when the suite
 * is pointed at memcached itself to validate it. */
static bool
mmem_only(void)
{
    if (mm_tserver_target_is_memcached()) {
        fprintf(stderr, "target is memcached: mmem-specific check not applicable\n");
        return true;
    }
    return false;
}

START_TEST(test_help)
{
    const char *args[] = {"-h", NULL};
    char *out;
    int st = run_bin(target_bin(), args, &out);

    ck_assert_msg(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "-h: status 0x%x", st);
    ck_assert_msg(strstr(out, "-p") != NULL && strstr(out, "-m") != NULL &&
                      strstr(out, "-c") != NULL && strstr(out, "-U") != NULL,
                  "-h output does not list the options:\n%s", out);
    free(out);
}
END_TEST

START_TEST(test_version)
{
    const char *args[] = {"-V", NULL};
    char *out;
    int st = run_bin(target_bin(), args, &out);

    ck_assert_msg(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "-V: status 0x%x", st);
    ck_assert_msg(strlen(out) > 2 && strchr(out, '.') != NULL && strchr(out, '\n') != NULL,
                  "-V output: '%s'", out);
    /* One line, and short: scripts parse it. */
    ck_assert_msg(strchr(out, '\n') == out + strlen(out) - 1, "-V printed more than a line");
    free(out);
}
END_TEST

/* Argument sets memcached refuses to start with (checked against it by
 * test_bad_args_rejected_by_memcached). */
static const char *const bad_args[][3] = {
    {"-m", "abc", NULL},
    {"-m", "0", NULL},
    {"-c", "0", NULL},
    {"-c", "abc", NULL},
    {"-t", "0", NULL},
    {"-t", "abc", NULL},
    {"-I", "1", NULL},
    {"-I", "2g", NULL},
    {"-I", "abc", NULL},
    {"-f", "0.5", NULL},
    {"-f", "abc", NULL},
    {"-n", "0", NULL},
    {"-R", "0", NULL},
    {"-B", "bogus", NULL},
    {"-D", NULL, NULL},
    {"-o", "no_such_option", NULL},
    {"-o", "hashpower=99", NULL},
    {"--no-such-long-option", NULL, NULL},
    {"-j", NULL, NULL},
};

#define NBAD (sizeof(bad_args) / sizeof(bad_args[0]))

/* Build "[-u root] -l 127.0.0.1 -p <any> <bad...>" for kind. */
static int
run_with_bad(enum mm_tserver_kind kind, int idx, char **out)
{
    const char *args[12];
    int n = 0;
    int i;

    if (geteuid() == 0) {
        args[n++] = "-u";
        args[n++] = "root";
    }
    args[n++] = "-l";
    args[n++] = "127.0.0.1";
    args[n++] = "-p";
    args[n++] = mm_tserver_any_port(kind);
    for (i = 0; i < 2 && bad_args[idx][i] != NULL; i++) {
        args[n++] = bad_args[idx][i];
    }
    args[n] = NULL;
    return run_bin(mm_tserver_bin(kind), args, out);
}

START_TEST(test_bad_args_rejected)
{
    char *out;
    int st = run_with_bad(MM_TSERVER_TARGET, _i, &out);

    ck_assert_msg(st != -1, "'%s %s': still running after %d ms (accepted?)", bad_args[_i][0],
                  bad_args[_i][1] ? bad_args[_i][1] : "", RUN_TIMEOUT_MS);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != 0, "'%s %s': status 0x%x, output:\n%s",
                  bad_args[_i][0], bad_args[_i][1] ? bad_args[_i][1] : "", st, out);
    ck_assert_msg(strlen(out) > 0, "'%s': refused without a message", bad_args[_i][0]);
    if (mm_tserver_have_memcached()) {
        char *mout;
        int mst = run_with_bad(MM_TSERVER_MEMCACHED, _i, &mout);

        /* Informational: memcached itself mixes 1 and EX_USAGE (64). */
        if (mst >= 0 && WIFEXITED(mst) && WEXITSTATUS(mst) != WEXITSTATUS(st)) {
            fprintf(stderr, "note: '%s %s' exits %d, memcached %d\n", bad_args[_i][0],
                    bad_args[_i][1] ? bad_args[_i][1] : "", WEXITSTATUS(st), WEXITSTATUS(mst));
        }
        free(mout);
    }
    free(out);
}
END_TEST

START_TEST(test_bad_args_rejected_by_memcached)
{
    char *out;
    int st;

    /* Keeps the table above honest: every entry is refused by the spec. */
    if (!mm_tserver_have_memcached()) {
        return;
    }
    st = run_with_bad(MM_TSERVER_MEMCACHED, _i, &out);
    ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) != 0,
                  "memcached accepts '%s %s' (status 0x%x): fix the table", bad_args[_i][0],
                  bad_args[_i][1] ? bad_args[_i][1] : "", st);
    free(out);
}
END_TEST

START_TEST(test_unsupported_flags_named)
{
    /* -Z is served (tests/integration/tls.sh) or, without OpenSSL, unknown. */
    static const char *const flags[][3] = {
        {"-e", "/tmp/mmem-it-memfile", NULL},
    };
    const char *args[10];
    char *out;
    int st;
    int n = 0;

    if (mmem_only()) {
        return;
    }
    if (geteuid() == 0) {
        args[n++] = "-u";
        args[n++] = "root";
    }
    args[n++] = "-l";
    args[n++] = "127.0.0.1";
    args[n++] = "-p";
    args[n++] = "0";
    args[n++] = flags[_i][0];
    if (flags[_i][1] != NULL) {
        args[n++] = flags[_i][1];
    }
    args[n] = NULL;
    st = run_bin(target_bin(), args, &out);
    ck_assert_msg(st != -1, "%s: server started instead of refusing", flags[_i][0]);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != 0, "%s: status 0x%x", flags[_i][0], st);
    ck_assert_msg(strstr(out, flags[_i][0]) != NULL, "%s: message does not name the flag:\n%s",
                  flags[_i][0], out);
    free(out);
}
END_TEST

START_TEST(test_root_without_user_refused)
{
    const char *args[] = {"-l", "127.0.0.1", "-p", "0", NULL};
    char *out;
    int st;

    if (geteuid() != 0) {
        /* Only meaningful as root. */
        return;
    }
    args[3] = mm_tserver_any_port(MM_TSERVER_TARGET);
    st = run_bin(target_bin(), args, &out);
    ck_assert_msg(st != -1, "started as root without -u");
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != 0, "status 0x%x", st);
    ck_assert_msg(strstr(out, "root") != NULL, "message does not mention root:\n%s", out);
    free(out);
}
END_TEST

/* set/get round trip on a running server. */
static void
smoke(const struct mm_tserver *s)
{
    struct mm_tclient c;

    ck_assert_msg(mm_tclient_connect(&c, s->host, s->port) == 0, "connect failed");
    ck_assert(mm_tclient_cmd(&c, "set smoke 1 0 2\r\nok\r\nget smoke\r\n",
                             "STORED\r\nVALUE smoke 1 2\r\nok\r\nEND\r\n"));
    mm_tclient_close(&c);
}

/* -U serves UDP beside TCP: the TCP side is unchanged and nothing is
 * logged as unsupported. (tests/integration/check_it_udp.c covers UDP.) */
START_TEST(test_udp_with_tcp)
{
    struct mm_tserver s;
    struct sockaddr_in in;
    socklen_t slen = sizeof(in);
    char port[16];
    char *log;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    /* A UDP port free a moment ago: good enough for one start. */
    ck_assert_int_ge(fd, 0);
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&in, &slen), 0);
    snprintf(port, sizeof(port), "%d", ntohs(in.sin_port));
    close(fd);
    ck_assert(mm_tserver_startl(&s, MM_TSERVER_TARGET, 0, "-U", port, NULL) == 0);
    smoke(&s);
    log = mm_tserver_read_log(&s);
    ck_assert_msg(strstr(log, "UDP") == NULL, "-U %s: unexpected log:\n%s", port, log);
    free(log);
    ck_assert(mm_tserver_stop(&s) == 0);
}
END_TEST

START_TEST(test_maxconns)
{
    struct mm_tserver s;
    struct mm_tclient c[40];
    struct mm_tstats st;
    int n;
    int accepted = 0;
    bool rejected = false;

    ck_assert(mm_tserver_startl(&s, MM_TSERVER_TARGET, 0, "-c", "20", "-t", "1", NULL) == 0);
    for (n = 0; n < 40 && !rejected; n++) {
        char *line;

        ck_assert(mm_tclient_connect(&c[n], s.host, s.port) == 0);
        ck_assert(mm_tclient_sendstr(&c[n], "version\r\n") == 0);
        line = mm_tclient_read_line(&c[n]);
        ck_assert_msg(line != NULL, "connection %d: no reply", n);
        if (strncmp(line, "VERSION ", 8) == 0) {
            accepted++;
        } else {
            ck_assert_str_eq(line, "ERROR Too many open connections\r\n");
            ck_assert(mm_tclient_expect_close(&c[n]));
            rejected = true;
        }
        free(line);
    }
    ck_assert_msg(rejected, "-c 20: 40 connections all accepted");
    ck_assert_int_ge(accepted, 1);
    ck_assert_int_le(accepted, 20);
    ck_assert(mm_tclient_stats(&c[0], NULL, &st) == 0);
    ck_assert_int_ge(mm_tstats_num(&st, "rejected_connections"), 1);
    ck_assert_int_eq(mm_tstats_num(&st, "max_connections"), 20);
    mm_tstats_free(&st);
    while (n-- > 0) {
        mm_tclient_close(&c[n]);
    }
    ck_assert(mm_tserver_stop(&s) == 0);
}
END_TEST

START_TEST(test_shutdown_needs_A)
{
    struct mm_tserver s;
    struct mm_tclient c;
    int st;

    ck_assert(mm_tserver_startl(&s, MM_TSERVER_TARGET, 0, NULL) == 0);
    ck_assert(mm_tclient_connect(&c, s.host, s.port) == 0);
    ck_assert(mm_tclient_cmd(&c, "shutdown\r\n", "ERROR: shutdown not enabled\r\n"));
    mm_tclient_close(&c);
    ck_assert(mm_tserver_alive(&s));
    ck_assert(mm_tserver_stop(&s) == 0);

    ck_assert(mm_tserver_startl(&s, MM_TSERVER_TARGET, 0, "-A", NULL) == 0);
    ck_assert(mm_tclient_connect(&c, s.host, s.port) == 0);
    ck_assert(mm_tclient_sendstr(&c, "shutdown\r\n") == 0);
    ck_assert(mm_tclient_expect_close(&c));
    mm_tclient_close(&c);
    st = mm_tserver_wait(&s, 5000);
    ck_assert_msg(st != -1, "-A: server still running 5 s after shutdown");
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "shutdown: status 0x%x", st);
    mm_tserver_release(&s);
}
END_TEST

START_TEST(test_flush_disabled)
{
    struct mm_tserver s;
    struct mm_tclient c;

    ck_assert(mm_tserver_startl(&s, MM_TSERVER_TARGET, 0, "-F", NULL) == 0);
    ck_assert(mm_tclient_connect(&c, s.host, s.port) == 0);
    ck_assert(mm_tclient_cmd(&c, "set f 0 0 1\r\nx\r\nflush_all\r\nflush_all 0\r\n",
                             "STORED\r\nCLIENT_ERROR flush_all not allowed\r\n"
                             "CLIENT_ERROR flush_all not allowed\r\n"));
    ck_assert(mm_tclient_cmd(&c, "flush_all noreply\r\nget f\r\n", "VALUE f 0 1\r\nx\r\nEND\r\n"));
    mm_tclient_close(&c);
    ck_assert(mm_tserver_stop(&s) == 0);
}
END_TEST

START_TEST(test_cas_disabled)
{
    struct mm_tserver s;
    struct mm_tclient c;

    ck_assert(mm_tserver_startl(&s, MM_TSERVER_TARGET, 0, "-C", NULL) == 0);
    ck_assert(mm_tclient_connect(&c, s.host, s.port) == 0);
    ck_assert(mm_tclient_cmd(&c, "set k 0 0 1\r\nx\r\ngets k\r\n",
                             "STORED\r\nVALUE k 0 1 0\r\nx\r\nEND\r\n"));
    ck_assert(mm_tclient_cmd(&c, "cas k 0 0 1 0\r\ny\r\nget k\r\n",
                             "EXISTS\r\nVALUE k 0 1\r\nx\r\nEND\r\n"));
    mm_tclient_close(&c);
    ck_assert(mm_tserver_stop(&s) == 0);
}
END_TEST

static char *
value_req(const char *key, size_t vlen, size_t *len)
{
    char *p = malloc(vlen + 64);
    size_t n = (size_t)sprintf(p, "set %s 0 0 %zu\r\n", key, vlen);

    memset(p + n, 'q', vlen);
    memcpy(p + n + vlen, "\r\n", 2);
    *len = n + vlen + 2;
    return p;
}

START_TEST(test_item_size_limit)
{
    struct mm_tserver s;
    struct mm_tclient c;
    size_t len;
    char *req = value_req("big", 600000, &len);

    /* Default -I 1m takes it... */
    ck_assert(mm_tserver_startl(&s, MM_TSERVER_TARGET, 0, NULL) == 0);
    ck_assert(mm_tclient_connect(&c, s.host, s.port) == 0);
    ck_assert(mm_tclient_send(&c, req, len) == 0);
    ck_assert(mm_tclient_expect(&c, "STORED\r\n"));
    mm_tclient_close(&c);
    ck_assert(mm_tserver_stop(&s) == 0);
    /* ...-I 512k does not. */
    ck_assert(mm_tserver_startl(&s, MM_TSERVER_TARGET, 0, "-I", "512k", NULL) == 0);
    ck_assert(mm_tclient_connect(&c, s.host, s.port) == 0);
    ck_assert(mm_tclient_send(&c, req, len) == 0);
    ck_assert(
        mm_tclient_cmd(&c, "get big\r\n", "SERVER_ERROR object too large for cache\r\nEND\r\n"));
    mm_tclient_close(&c);
    ck_assert(mm_tserver_stop(&s) == 0);
    free(req);
}
END_TEST

/* memcached needs -m of at least 39 MB with -L; the default 64 is fine. */
START_TEST(test_prealloc_starts)
{
    struct mm_tserver s;

    ck_assert(mm_tserver_startl(&s, MM_TSERVER_TARGET, 0, "-L", NULL) == 0);
    smoke(&s);
    ck_assert(mm_tserver_stop(&s) == 0);
}
END_TEST

START_TEST(test_threads)
{
    static const char *const nthreads[] = {"1", "8"};
    struct mm_tserver s;
    struct mm_tclient c;
    struct mm_tstats st;
    int i;

    ck_assert(mm_tserver_startl(&s, MM_TSERVER_TARGET, 0, "-t", nthreads[_i], NULL) == 0);
    /* Enough connections to land on every worker. */
    for (i = 0; i < 16; i++) {
        smoke(&s);
    }
    ck_assert(mm_tclient_connect(&c, s.host, s.port) == 0);
    ck_assert(mm_tclient_stats(&c, NULL, &st) == 0);
    ck_assert_str_eq(mm_tstats_get(&st, "threads"), nthreads[_i]);
    mm_tstats_free(&st);
    mm_tclient_close(&c);
    ck_assert(mm_tserver_stop(&s) == 0);
}
END_TEST

static char *
run_script(const struct mm_tserver *s, size_t *len)
{
    struct mm_tclient c;
    char *out;

    ck_assert(mm_tclient_connect(&c, s->host, s->port) == 0);
    ck_assert(mm_tclient_sendstr(&c, "set a 0 0 1\r\n1\r\nincr a 41\r\nget a b\r\n"
                                     "append a 0 0 1\r\nx\r\ndelete b\r\nbogus\r\n"
                                     "set b 0 0 1 noreply\r\n2\r\ngets zz\r\n"
                                     "touch a 10\r\nget a b\r\nmn\r\n") == 0);
    out = mm_tclient_read_until(&c, "MN\r\n", len);
    mm_tclient_close(&c);
    return out;
}

START_TEST(test_ev_backend_poll)
{
    struct mm_tserver s;
    char *a;
    char *b;
    size_t al;
    size_t bl;

    if (mmem_only()) {
        return;
    }
    ck_assert(mm_tserver_startl(&s, MM_TSERVER_TARGET, 0, "-o", "ev_backend=libevent", NULL) == 0);
    a = run_script(&s, &al);
    ck_assert(mm_tserver_stop(&s) == 0);
    ck_assert(mm_tserver_startl(&s, MM_TSERVER_TARGET, 0, "-o", "ev_backend=poll", NULL) == 0);
    b = run_script(&s, &bl);
    ck_assert(mm_tserver_stop(&s) == 0);
    if (al != bl || memcmp(a, b, al) != 0) {
        mm_tclient_print_diff("libevent", a, al, "poll", b, bl);
        ck_abort_msg("poll backend answers differently from libevent");
    }
    ck_assert_msg(strstr(a, "VALUE a 0 3\r\n42x\r\n") != NULL, "unexpected script reply");
    free(a);
    free(b);
}
END_TEST

START_TEST(test_ev_backend_unknown)
{
    const char *args[] = {"-u", "root", "-l", "127.0.0.1", "-p", "-1", "-o", "ev_backend=bogus",
                          NULL};
    char *out;
    int st;

    if (mmem_only()) {
        return;
    }
    st = run_bin(target_bin(), geteuid() == 0 ? args : args + 2, &out);
    ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) != 0,
                  "ev_backend=bogus: status 0x%x", st);
    ck_assert_msg(strstr(out, "bogus") != NULL || strstr(out, "ev_backend") != NULL,
                  "message does not name the backend:\n%s", out);
    free(out);
}
END_TEST

START_TEST(test_unix_socket)
{
    struct mm_tserver s;
    struct mm_tclient c;
    char dir[] = "/tmp/mmem-it-sock-XXXXXX";
    char path[64];
    struct stat sb;
    int i;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/mc.sock", dir);
    ck_assert(mm_tserver_startl(&s, MM_TSERVER_TARGET, MM_TSERVER_F_NOLISTEN | MM_TSERVER_F_NOWAIT,
                                "-s", path, "-a", "0770", NULL) == 0);
    for (i = 0; i < 500; i++) {
        if (mm_tclient_connect_unix(&c, path) == 0) {
            break;
        }
        ck_assert_msg(mm_tserver_alive(&s), "server exited before listening on %s", path);
        mm_tserver_sleep_ms(10);
    }
    ck_assert_msg(i < 500, "no unix socket at %s after 5 s", path);
    ck_assert(stat(path, &sb) == 0);
    ck_assert(S_ISSOCK(sb.st_mode));
    ck_assert_msg((sb.st_mode & 0777) == 0770, "-a 0770: socket mode is %o",
                  (unsigned)(sb.st_mode & 0777));
    ck_assert(mm_tclient_cmd(&c, "set u 0 0 1\r\nx\r\nget u\r\n",
                             "STORED\r\nVALUE u 0 1\r\nx\r\nEND\r\n"));
    mm_tclient_close(&c);
    ck_assert(mm_tserver_stop(&s) == 0);
    unlink(path);
    rmdir(dir);
}
END_TEST

static bool
have_ipv6_loopback(void)
{
    struct sockaddr_in6 a;
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    bool ok;

    if (fd < 0) {
        return false;
    }
    memset(&a, 0, sizeof(a));
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

START_TEST(test_listen_several)
{
    struct mm_tserver s;
    struct mm_tclient c;
    bool v6 = have_ipv6_loopback();

    ck_assert(mm_tserver_startl(&s, MM_TSERVER_TARGET, MM_TSERVER_F_NOLISTEN, "-l",
                                v6 ? "127.0.0.1,::1" : "127.0.0.1", "-p",
                                mm_tserver_any_port(MM_TSERVER_TARGET), NULL) == 0);
    ck_assert_int_gt(s.port, 0);
    ck_assert(mm_tclient_connect(&c, "127.0.0.1", s.port) == 0);
    ck_assert(mm_tclient_cmd(&c, "set l 0 0 1\r\nx\r\n", "STORED\r\n"));
    mm_tclient_close(&c);
    if (v6) {
        /* The port file may still be growing when the first line shows. */
        int i;

        for (i = 0; i < 200 && s.port6 == 0; i++) {
            mm_tserver_wait_portfile(&s, 10);
        }
        ck_assert_msg(s.port6 > 0, "no TCP INET6 line in the port file");
        ck_assert(mm_tclient_connect(&c, "::1", s.port6) == 0);
        ck_assert(mm_tclient_cmd(&c, "get l\r\n", "VALUE l 0 1\r\nx\r\nEND\r\n"));
        mm_tclient_close(&c);
    } else {
        fprintf(stderr, "no IPv6 loopback here: ::1 part not run\n");
    }
    ck_assert(mm_tserver_stop(&s) == 0);
}
END_TEST

START_TEST(test_daemonize_pidfile)
{
    struct mm_tserver s;
    char dir[] = "/tmp/mmem-it-daemon-XXXXXX";
    char pidpath[64];
    FILE *f;
    int pid = 0;
    int st;
    int i;
    struct mm_tclient c;
    struct mm_tstats stats;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(pidpath, sizeof(pidpath), "%s/mmem.pid", dir);
    ck_assert(mm_tserver_startl(&s, MM_TSERVER_TARGET, MM_TSERVER_F_NOLISTEN | MM_TSERVER_F_NOWAIT,
                                "-l", "127.0.0.1", "-p", mm_tserver_any_port(MM_TSERVER_TARGET),
                                "-d", "-P", pidpath, NULL) == 0);
    /* The process we started is the one that forks the daemon: it ends. */
    st = mm_tserver_wait(&s, 5000);
    ck_assert_msg(st != -1, "-d: foreground process did not exit");
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "-d: status 0x%x", st);
    for (i = 0; i < 500 && pid <= 0; i++) {
        f = fopen(pidpath, "r");
        if (f != NULL) {
            if (fscanf(f, "%d", &pid) != 1) {
                pid = 0;
            }
            fclose(f);
        }
        if (pid <= 0) {
            mm_tserver_sleep_ms(10);
        }
    }
    ck_assert_msg(pid > 0, "no pid in %s", pidpath);
    mm_tserver_guard_pid(pid);
    ck_assert_msg(kill(pid, 0) == 0, "pid %d from the pid file is not running", pid);
    ck_assert_msg(mm_tserver_wait_portfile(&s, 5000) == 0, "daemon wrote no port file");
    ck_assert(mm_tclient_connect(&c, "127.0.0.1", s.port) == 0);
    ck_assert(mm_tclient_stats(&c, NULL, &stats) == 0);
    ck_assert_int_eq(mm_tstats_num(&stats, "pid"), pid);
    mm_tstats_free(&stats);
    mm_tclient_close(&c);
    /* Not our child: poll until it is gone. */
    ck_assert(kill(pid, SIGTERM) == 0);
    for (i = 0; i < 500 && kill(pid, 0) == 0; i++) {
        mm_tserver_sleep_ms(10);
    }
    ck_assert_msg(i < 500, "daemon pid %d still running 5 s after SIGTERM", pid);
    mm_tserver_release(&s);
    unlink(pidpath);
    rmdir(dir);
}
END_TEST

static Suite *
cli_suite(void)
{
    Suite *s = suite_create("it_cli");
    TCase *tc;

    tc = tcase_create("args");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_help);
    tcase_add_test(tc, test_version);
    tcase_add_loop_test(tc, test_bad_args_rejected, 0, (int)NBAD);
    tcase_add_loop_test(tc, test_bad_args_rejected_by_memcached, 0, (int)NBAD);
    tcase_add_loop_test(tc, test_unsupported_flags_named, 0, 1);
    tcase_add_test(tc, test_root_without_user_refused);
    tcase_add_test(tc, test_ev_backend_unknown);
    suite_add_tcase(s, tc);

    tc = tcase_create("behaviour");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_udp_with_tcp);
    tcase_add_test(tc, test_maxconns);
    tcase_add_test(tc, test_shutdown_needs_A);
    tcase_add_test(tc, test_flush_disabled);
    tcase_add_test(tc, test_cas_disabled);
    tcase_add_test(tc, test_item_size_limit);
    tcase_add_test(tc, test_prealloc_starts);
    tcase_add_loop_test(tc, test_threads, 0, 2);
    tcase_add_test(tc, test_ev_backend_poll);
    tcase_add_test(tc, test_unix_socket);
    tcase_add_test(tc, test_listen_several);
    tcase_add_test(tc, test_daemonize_pidfile);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    if (mm_tserver_target_external()) {
        return mm_tcheck_skip("MMEM_TEST_ADDR set: command-line tests need their own server");
    }
    return mm_tcheck_run(cli_suite(), 0, NULL);
}
