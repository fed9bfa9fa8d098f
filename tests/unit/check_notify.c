/* check_notify: the sd_notify wrapper against a unix datagram socket the
 * test owns (named through $NOTIFY_SOCKET, as systemd does), and the real
 * binary: READY=1 arrives only once mmem accepts connections, STOPPING=1
 * when it is told to stop. In a build without libsystemd the same tests
 * check that nothing is ever sent. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmem/notify.h"
#include "server.h"

/* The manager's end: a datagram socket bound in a private directory. */
struct manager {
    char dir[64];
    char path[128];
    int fd;
};

static void
manager_open(struct manager *m, bool abstract)
{
    struct sockaddr_un sa;
    socklen_t len;

    memset(m, 0, sizeof(*m));
    snprintf(m->dir, sizeof(m->dir), "/tmp/mmem-notify-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(m->dir));
    m->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(m->fd, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (abstract) {
        /* "@name" in $NOTIFY_SOCKET means the abstract namespace: a
         * leading NUL in sun_path and no file at all. */
        snprintf(m->path, sizeof(m->path), "@%s/n", m->dir);
        memcpy(sa.sun_path + 1, m->path + 1, strlen(m->path) - 1);
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(m->path));
    } else {
        snprintf(m->path, sizeof(m->path), "%s/n", m->dir);
        memcpy(sa.sun_path, m->path, strlen(m->path) + 1);
        len = (socklen_t)sizeof(sa);
    }
    ck_assert_int_eq(bind(m->fd, (struct sockaddr *)&sa, len), 0);
    ck_assert_int_eq(setenv("NOTIFY_SOCKET", m->path, 1), 0);
}

static void
manager_close(struct manager *m)
{
    char file[160];

    close(m->fd);
    snprintf(file, sizeof(file), "%s/n", m->dir);
    (void)unlink(file);
    (void)rmdir(m->dir);
    unsetenv("NOTIFY_SOCKET");
}

/* Receive one message within timeout_ms into buf (NUL-terminated). Returns
 * its length, or -1 when none came. */
static int
manager_recv(struct manager *m, char *buf, size_t size, int timeout_ms)
{
    struct pollfd p = {.fd = m->fd, .events = POLLIN};
    ssize_t n;

    if (poll(&p, 1, timeout_ms) != 1) {
        return -1;
    }
    n = recv(m->fd, buf, size - 1, 0);
    if (n < 0) {
        return -1;
    }
    buf[n] = '\0';
    return (int)n;
}

/* Wait for a message equal to want, skipping others (a future mmem may
 * send STATUS= lines too). */
static bool
manager_expect(struct manager *m, const char *want, int timeout_ms)
{
    char buf[512];
    int i;

    for (i = 0; i < 16; i++) {
        if (manager_recv(m, buf, sizeof(buf), timeout_ms) < 0) {
            return false;
        }
        if (strcmp(buf, want) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- the wrapper ---------------------------------------------------------- */

START_TEST(test_no_socket_is_noop)
{
    unsetenv("NOTIFY_SOCKET");
    ck_assert_int_eq(mm_notify_ready(), 0);
    ck_assert_int_eq(mm_notify_stopping(), 0);
}
END_TEST

START_TEST(test_ready_and_stopping_sent)
{
    struct manager m;
    char buf[64];

    manager_open(&m, false);
    if (mm_notify_enabled()) {
        ck_assert_int_eq(mm_notify_ready(), 1);
        ck_assert_int_eq(manager_recv(&m, buf, sizeof(buf), 5000), 7);
        ck_assert_str_eq(buf, "READY=1");
        ck_assert_int_eq(mm_notify_stopping(), 1);
        ck_assert_int_gt(manager_recv(&m, buf, sizeof(buf), 5000), 0);
        ck_assert_str_eq(buf, "STOPPING=1");
        /* The variable stays for later calls and for children. */
        ck_assert_str_eq(getenv("NOTIFY_SOCKET"), m.path);
    } else {
        ck_assert_int_eq(mm_notify_ready(), 0);
        ck_assert_int_eq(mm_notify_stopping(), 0);
        ck_assert_int_eq(manager_recv(&m, buf, sizeof(buf), 100), -1);
    }
    manager_close(&m);
}
END_TEST

START_TEST(test_abstract_socket)
{
    struct manager m;
    char buf[64];

    manager_open(&m, true);
    if (mm_notify_enabled()) {
        ck_assert_int_eq(mm_notify_ready(), 1);
        ck_assert_int_gt(manager_recv(&m, buf, sizeof(buf), 5000), 0);
        ck_assert_str_eq(buf, "READY=1");
    } else {
        ck_assert_int_eq(mm_notify_ready(), 0);
    }
    manager_close(&m);
}
END_TEST

START_TEST(test_missing_socket_reports_error)
{
    setenv("NOTIFY_SOCKET", "/nonexistent-mmem-dir/notify", 1);
    if (mm_notify_enabled()) {
        /* A failure to tell the manager is reported, never fatal. */
        ck_assert_int_lt(mm_notify_ready(), 0);
        ck_assert_int_lt(mm_notify_stopping(), 0);
    } else {
        ck_assert_int_eq(mm_notify_ready(), 0);
    }
    unsetenv("NOTIFY_SOCKET");
}
END_TEST

/* ---- the daemon ------------------------------------------------------------ */

static int
connect_port(int port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc;

    ck_assert_int_ge(fd, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    close(fd);
    return rc;
}

START_TEST(test_daemon_ready_after_listen)
{
    struct manager m;
    struct mm_tserver srv;
    int status;

    if (mm_tserver_bin(MM_TSERVER_TARGET) == NULL || mm_tserver_target_is_memcached() ||
        mm_tserver_target_external()) {
        return; /* needs the mmem binary itself */
    }
    manager_open(&m, false);
    /* NOWAIT: readiness is learnt from READY=1 alone, so the checks below
     * see the state mmem was in when it sent it. */
    ck_assert_int_eq(mm_tserver_startl(&srv, MM_TSERVER_TARGET,
                                       MM_TSERVER_F_PORTFILE | MM_TSERVER_F_NOWAIT, NULL),
                     0);
    if (mm_notify_enabled()) {
        if (!manager_expect(&m, "READY=1", 10000)) {
            mm_tserver_dump_log(&srv);
            ck_abort_msg("no READY=1 from mmem within 10 s");
        }
        /* The port was announced and the listener accepts before READY. */
        ck_assert_int_eq(mm_tserver_wait_portfile(&srv, 100), 0);
        ck_assert_int_gt(srv.port, 0);
        ck_assert_int_eq(connect_port(srv.port), 0);
        ck_assert(mm_tserver_alive(&srv));
        ck_assert_int_eq(kill(srv.pid, SIGTERM), 0);
        ck_assert(manager_expect(&m, "STOPPING=1", 10000));
    } else {
        char buf[64];

        ck_assert_int_eq(mm_tserver_wait_portfile(&srv, 10000), 0);
        ck_assert_int_eq(connect_port(srv.port), 0);
        ck_assert_int_eq(manager_recv(&m, buf, sizeof(buf), 100), -1);
    }
    status = mm_tserver_stop_sig(&srv, SIGTERM, 10000);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    mm_tserver_release(&srv);
    manager_close(&m);
}
END_TEST

static Suite *
notify_suite(void)
{
    Suite *s = suite_create("notify");
    TCase *tw = tcase_create("wrapper");
    TCase *td = tcase_create("daemon");

    tcase_add_test(tw, test_no_socket_is_noop);
    tcase_add_test(tw, test_ready_and_stopping_sent);
    tcase_add_test(tw, test_abstract_socket);
    tcase_add_test(tw, test_missing_socket_reports_error);
    tcase_set_timeout(tw, 20);
    suite_add_tcase(s, tw);

    tcase_add_test(td, test_daemon_ready_after_listen);
    tcase_set_timeout(td, 40);
    suite_add_tcase(s, td);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(notify_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
