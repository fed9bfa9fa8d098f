/* The whole server in-process: listener, acceptor thread and workers over a
 * real store, spoken to over loopback TCP and a unix socket. Covers what
 * check_conn cannot: handoff to workers, -c (maxconns), --ready-fd and
 * MEMCACHED_PORT_FILENAME, "stats conns", the unix socket mode, and a clean
 * stop with clients still connected. */
#include "config.h"

#include "mmem/clock.h"
#include "mmem/server.h"
#include "mmem/settings.h"
#include "mmem/store.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static struct mm_settings settings;
static struct mm_clock clk;
static struct mm_store *store;
static struct mm_server *srv;

static void
base_settings(void)
{
    memset(&settings, 0, sizeof(settings));
    settings.port = -1; /* a port the kernel picks (0 turns TCP off, as in memcached) */
    settings.access = 0700;
    settings.backlog = 128;
    settings.ready_fd = -1;
    settings.maxconns = 1024;
    settings.maxconns_fast = true;
    settings.num_threads = 2;
    settings.reqs_per_event = 20;
    settings.maxbytes = 16u << 20;
    settings.evict_to_free = true;
    settings.item_size_max = 1u << 20;
    settings.factor = 1.25;
    settings.chunk_size = 48;
    settings.use_cas = true;
    settings.slab_chunk_size_max = 512u << 10;
    settings.slab_page_size = 1u << 20;
    settings.flush_enabled = true;
    settings.listen[0] = "127.0.0.1";
    settings.nlisten = 1;
}

static void
start(void)
{
    struct mm_store_cfg sc;

    signal(SIGPIPE, SIG_IGN);
    mm_clock_init(&clk);
    srv = mm_server_create(&settings, NULL, &clk);
    ck_assert_ptr_nonnull(srv);
    memset(&sc, 0, sizeof(sc));
    sc.mem_limit = settings.maxbytes;
    sc.factor = settings.factor;
    sc.chunk_min = (size_t)settings.chunk_size;
    sc.item_size_max = settings.item_size_max;
    sc.slab_page_size = settings.slab_page_size;
    sc.slab_chunk_max = settings.slab_chunk_size_max;
    sc.evict = true;
    sc.use_cas = true;
    sc.clock = &clk;
    store = mm_store_create(&sc);
    ck_assert_ptr_nonnull(store);
    mm_server_set_store(srv, store);
    ck_assert_int_eq(mm_server_start(srv), 0);
}

static void
stop(void)
{
    mm_server_destroy(&srv);
    ck_assert_ptr_null(srv);
    mm_store_destroy(&store);
}

static int
tcp_connect(int port)
{
    struct sockaddr_in sin;
    struct timeval tv = {5, 0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

/* Send req, read until the reply ends with `end` (or EOF/timeout). */
static size_t
roundtrip(int fd, const char *req, char *buf, size_t cap, const char *end)
{
    size_t got = 0;
    size_t el = strlen(end);

    if (req != NULL) {
        ck_assert_int_eq(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    }
    while (got < cap - 1) {
        ssize_t r = recv(fd, buf + got, cap - 1 - got, 0);

        if (r <= 0) {
            break;
        }
        got += (size_t)r;
        buf[got] = '\0';
        if (got >= el && memcmp(buf + got - el, end, el) == 0) {
            break;
        }
    }
    buf[got] = '\0';
    return got;
}

START_TEST(test_tcp_roundtrip_many_clients)
{
    char buf[512];
    int fds[16];
    int port, i;

    base_settings();
    start();
    port = mm_server_port(srv);
    ck_assert_int_gt(port, 0);
    /* More clients than workers: round robin spreads them, all work. */
    for (i = 0; i < 16; i++) {
        char req[64];
        char want[64];

        fds[i] = tcp_connect(port);
        snprintf(req, sizeof(req), "set k%d 0 0 1\r\n%d\r\nget k%d\r\n", i, i % 10, i);
        snprintf(want, sizeof(want), "STORED\r\nVALUE k%d 0 1\r\n%d\r\nEND\r\n", i, i % 10);
        roundtrip(fds[i], req, buf, sizeof(buf), "END\r\n");
        ck_assert_str_eq(buf, want);
    }
    /* Stop with every client still connected: they see EOF. */
    stop();
    for (i = 0; i < 16; i++) {
        ck_assert_int_eq(recv(fds[i], buf, sizeof(buf), 0), 0);
        close(fds[i]);
    }
}
END_TEST

START_TEST(test_maxconns_fast)
{
    char buf[8192];
    int fds[8];
    int port, i, n = 0;
    int fd;

    base_settings();
    settings.num_threads = 1;
    /* Reserved: 5 per worker; refused once clients + 1 + 5 >= 12 - 1. */
    settings.maxconns = 12;
    start();
    port = mm_server_port(srv);
    for (i = 0; i < 5; i++) {
        fds[i] = tcp_connect(port);
        roundtrip(fds[i], "get x\r\n", buf, sizeof(buf), "END\r\n");
        ck_assert_str_eq(buf, "END\r\n");
        n++;
    }
    fd = tcp_connect(port);
    roundtrip(fd, NULL, buf, sizeof(buf), "\r\n");
    ck_assert_str_eq(buf, "ERROR Too many open connections\r\n");
    ck_assert_int_eq(recv(fd, buf, sizeof(buf), 0), 0);
    close(fd);
    /* One leaves: a new client is served again. */
    close(fds[0]);
    usleep(200 * 1000);
    fds[0] = tcp_connect(port);
    roundtrip(fds[0], "get x\r\n", buf, sizeof(buf), "END\r\n");
    ck_assert_str_eq(buf, "END\r\n");
    roundtrip(fds[0], "stats\r\n", buf, sizeof(buf), "END\r\n");
    ck_assert_ptr_nonnull(strstr(buf, "STAT rejected_connections 1\r\n"));
    ck_assert_ptr_nonnull(strstr(buf, "STAT curr_connections 5\r\n"));
    for (i = 0; i < n; i++) {
        close(fds[i]);
    }
    stop();
}
END_TEST

START_TEST(test_ready_fd_and_port_file)
{
    char path[64];
    char line[64];
    char buf[128];
    int pfd[2];
    ssize_t r;
    FILE *f;
    int port;

    base_settings();
    ck_assert_int_eq(pipe(pfd), 0);
    settings.ready_fd = pfd[1];
    snprintf(path, sizeof(path), "/tmp/mmem-check-server-%d.port", (int)getpid());
    setenv("MEMCACHED_PORT_FILENAME", path, 1);
    start();
    port = mm_server_port(srv);
    r = read(pfd[0], buf, sizeof(buf) - 1);
    ck_assert_int_gt(r, 0);
    buf[r] = '\0';
    snprintf(line, sizeof(line), "%d\n", port);
    ck_assert_str_eq(buf, line);
    /* The write end was closed after the port: EOF now. */
    ck_assert_int_eq(read(pfd[0], buf, sizeof(buf)), 0);
    close(pfd[0]);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
    snprintf(line, sizeof(line), "TCP INET: %d\n", port);
    ck_assert_str_eq(buf, line);
    fclose(f);
    unlink(path);
    unsetenv("MEMCACHED_PORT_FILENAME");
    stop();
}
END_TEST

static int
unix_connect(const char *path)
{
    struct sockaddr_un sun;
    struct timeval tv = {5, 0};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

START_TEST(test_unix_socket)
{
    char path[64];
    char buf[1024];
    struct stat st;
    int fd;

    base_settings();
    snprintf(path, sizeof(path), "/tmp/mmem-check-server-%d.sock", (int)getpid());
    settings.socketpath = path;
    settings.access = 0600;
    start();
    /* A unix socket disables TCP, as in memcached. */
    ck_assert_int_eq(mm_server_port(srv), -1);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert(S_ISSOCK(st.st_mode));
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    fd = unix_connect(path);
    roundtrip(fd, "set u 3 0 2\r\nhi\r\nget u\r\n", buf, sizeof(buf), "END\r\n");
    ck_assert_str_eq(buf, "STORED\r\nVALUE u 3 2\r\nhi\r\nEND\r\n");
    roundtrip(fd, "stats conns\r\n", buf, sizeof(buf), "END\r\n");
    ck_assert_ptr_nonnull(strstr(buf, ":state conn_listening\r\n"));
    ck_assert_ptr_nonnull(strstr(buf, ":state conn_parse_cmd\r\n"));
    close(fd);
    stop();
    /* The path is removed on the way out. */
    ck_assert_int_ne(stat(path, &st), 0);
}
END_TEST

START_TEST(test_stats_conns_tcp)
{
    char buf[2048];
    char want[64];
    int fd, idle, port;

    base_settings();
    start();
    port = mm_server_port(srv);
    idle = tcp_connect(port);
    fd = tcp_connect(port);
    roundtrip(idle, "get x\r\n", buf, sizeof(buf), "END\r\n");
    /* The idle connection's worker records its state just after its reply
     * leaves, so the client may see the reply first: ask again (bounded). */
    for (int i = 0; i < 100; i++) {
        roundtrip(fd, "stats conns\r\n", buf, sizeof(buf), "END\r\n");
        if (strstr(buf, ":state conn_waiting\r\n") != NULL) {
            break;
        }
        usleep(10000);
    }
    snprintf(want, sizeof(want), ":listen_addr tcp:127.0.0.1:%d\r\n", port);
    ck_assert_ptr_nonnull(strstr(buf, want));
    snprintf(want, sizeof(want), ":addr tcp:127.0.0.1:%d\r\n", port);
    ck_assert_ptr_nonnull(strstr(buf, want));
    ck_assert_ptr_nonnull(strstr(buf, ":state conn_waiting\r\n"));
    ck_assert_ptr_nonnull(strstr(buf, ":state conn_listening\r\n"));
    close(idle);
    close(fd);
    stop();
}
END_TEST

START_TEST(test_bind_conflict)
{
    struct mm_server *other;

    base_settings();
    start();
    /* Same address and port again: create fails cleanly. */
    settings.port = mm_server_port(srv);
    other = mm_server_create(&settings, store, &clk);
    ck_assert_ptr_null(other);
    stop();
}
END_TEST

static Suite *
server_suite(void)
{
    Suite *s = suite_create("server");
    TCase *tc = tcase_create("server");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_tcp_roundtrip_many_clients);
    tcase_add_test(tc, test_maxconns_fast);
    tcase_add_test(tc, test_ready_fd_and_port_file);
    tcase_add_test(tc, test_unix_socket);
    tcase_add_test(tc, test_stats_conns_tcp);
    tcase_add_test(tc, test_bind_conflict);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(server_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
