/* Ports, the port file, the fd limit and the -o options mmem refuses or
 * serves its own way, differential against memcached 1.6.18: the same
 * command line runs under both, and the exit status (or "still running"),
 * the start-up messages and $MEMCACHED_PORT_FILENAME must match. Ports the
 * kernel picks are compared as "N". Skipped where memcached is missing. */
#include "config.h"

#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server.h"
#include "tcheck.h"

/* A server still up after this is "running". It is stopped earlier once
 * its port file is in place (start-up done); only a server that writes
 * none waits the whole time, so the bound can be generous for a loaded
 * machine. */
#define RUN_MS 5000
#define MAX_ARGS 24

struct outcome {
    int status; /* wait status, or -1: still running when stopped */
    char *out;  /* stdout + stderr */
    char file[512];
    char state[16]; /* "none", ".lck" or "file" */
};

/* Rewrite the digits after ": " as N (ephemeral ports), into a copy. */
static void
mask_ports(char *s, size_t len)
{
    char copy[512];
    size_t r = 0, w = 0;

    snprintf(copy, sizeof(copy), "%s", s);
    while (copy[r] != '\0' && w + 1 < len) {
        if (copy[r] == ' ' && r > 0 && copy[r - 1] == ':' && isdigit((unsigned char)copy[r + 1])) {
            s[w++] = ' ';
            if (w + 1 < len) {
                s[w++] = 'N';
            }
            r++;
            while (isdigit((unsigned char)copy[r])) {
                r++;
            }
            continue;
        }
        s[w++] = copy[r++];
    }
    s[w] = '\0';
}

static void
slurp(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;

    if (f != NULL) {
        n = fread(buf, 1, len - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
}

/* Run bin as "bin -u nobody <args>" with a fresh port file name. */
static void
run_one(const char *bin, const char *const *args, bool ephemeral, struct outcome *o)
{
    const char *argv[MAX_ARGS + 4];
    char pf[64], lck[80];
    int n = 0;
    int i;

    snprintf(pf, sizeof(pf), "/tmp/mmem-ports-%d", (int)getpid());
    snprintf(lck, sizeof(lck), "%s.lck", pf);
    unlink(pf);
    unlink(lck);
    argv[n++] = bin;
    argv[n++] = "-u";
    argv[n++] = "nobody";
    for (i = 0; args[i] != NULL && n < MAX_ARGS; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    setenv("MEMCACHED_PORT_FILENAME", pf, 1);
    o->status = mm_tserver_run_until(bin, argv, RUN_MS, pf, &o->out);
    unsetenv("MEMCACHED_PORT_FILENAME");
    ck_assert_ptr_nonnull(o->out);
    if (access(pf, F_OK) == 0) {
        snprintf(o->state, sizeof(o->state), "file");
        slurp(pf, o->file, sizeof(o->file));
    } else if (access(lck, F_OK) == 0) {
        snprintf(o->state, sizeof(o->state), ".lck");
        slurp(lck, o->file, sizeof(o->file));
    } else {
        snprintf(o->state, sizeof(o->state), "none");
        o->file[0] = '\0';
    }
    unlink(pf);
    unlink(lck);
    if (ephemeral) {
        mask_ports(o->file, sizeof(o->file));
    }
}

/* The outcome of args under memcached and mmem must be the same. */
static void
same(const char *const *args, bool ephemeral)
{
    struct outcome m, t;
    char line[256] = "";
    int i;

    for (i = 0; args[i] != NULL; i++) {
        strncat(line, args[i], sizeof(line) - strlen(line) - 2);
        strcat(line, " ");
    }
    run_one(mm_tserver_bin(MM_TSERVER_MEMCACHED), args, ephemeral, &m);
    run_one(mm_tserver_bin(MM_TSERVER_TARGET), args, ephemeral, &t);
    ck_assert_msg(m.status == t.status, "%s: status 0x%x, memcached 0x%x\n--- mmem:\n%s", line,
                  t.status, m.status, t.out);
    ck_assert_msg(strcmp(m.out, t.out) == 0, "%s: output\n--- mmem:\n%s--- memcached:\n%s", line,
                  t.out, m.out);
    ck_assert_msg(strcmp(m.state, t.state) == 0 && strcmp(m.file, t.file) == 0,
                  "%s: port file %s\n%s--- memcached: %s\n%s", line, t.state, t.file, m.state,
                  m.file);
    free(m.out);
    free(t.out);
}

static bool
skip(void)
{
    if (!mm_tserver_have_memcached() || mm_tserver_target_external()) {
        fprintf(stderr, "memcached not installed (or external target): skipped\n");
        return true;
    }
    return false;
}

/* A fixed port below the kernel's ephemeral range, different per run. */
static const char *
fixed_port(void)
{
    static char buf[16];

    snprintf(buf, sizeof(buf), "%d", 20000 + (int)(getpid() % 6000) * 2);
    return buf;
}

START_TEST(test_port_lines)
{
    const char *p = fixed_port();
    const char *const udp_alone[] = {"-l", "127.0.0.1", "-U", p, NULL};
    const char *const udp_alone_any[] = {"-l", "127.0.0.1", "-U", "-1", NULL};
    const char *const tcp_any[] = {"-l", "127.0.0.1", "-p", "-1", NULL};
    const char *const tcp_off[] = {"-l", "127.0.0.1", "-p", "0", NULL};
    const char *const tcp_off_udp[] = {"-l", "127.0.0.1", "-p", "0", "-U", "-1", NULL};
    const char *const both_off[] = {"-l", "127.0.0.1", "-p", "0", "-U", "0", NULL};
    const char *const two_addrs[] = {"-l", "127.0.0.1,127.0.0.2", "-p", "-1", "-U", "-1", NULL};
    const char *const port_word[] = {"-l", "127.0.0.1", "-p", "abc", NULL};
    const char *const unix_sock[] = {"-s", "/tmp/mmem-ports.sock", "-p", p, "-U", p, NULL};

    if (skip()) {
        return;
    }
    same(udp_alone, false);
    same(udp_alone_any, true);
    same(tcp_any, true);
    same(tcp_off, false);
    same(tcp_off_udp, true);
    same(both_off, false);
    same(two_addrs, true);
    same(port_word, false);
    same(unix_sock, false);
    unlink("/tmp/mmem-ports.sock");
}
END_TEST

START_TEST(test_port_failures)
{
    const char *const neg[] = {"-l", "127.0.0.1", "-p", "-5", NULL};
    const char *const neg_all[] = {"-p", "-5", NULL};
    const char *const neg_udp[] = {"-l", "127.0.0.1", "-p", "-1", "-U", "-2", NULL};
    const char *const neg_udp_all[] = {"-p", "-1", "-U", "-2", NULL};
    const char *const high[] = {"-l", "127.0.0.1", "-p", "70000", NULL};
    const char *const high_udp_alone[] = {"-l", "127.0.0.1", "-U", "65536", NULL};

    if (skip()) {
        return;
    }
    same(neg, false);
    same(neg_all, false);
    same(neg_udp, true);
    same(neg_udp_all, true);
    same(high, false);
    same(high_udp_alone, false);
}
END_TEST

/* -c up to the hard limit on open files, and one more. */
START_TEST(test_conn_limit)
{
    struct rlimit rl;
    char hard[32], over[32];
    const char *const at[] = {"-l", "127.0.0.1", "-p", "-1", "-c", hard, NULL};
    const char *const past[] = {"-l", "127.0.0.1", "-p", "-1", "-c", over, NULL};
    if (skip()) {
        return;
    }
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (1u << 20) || rl.rlim_max < 100) {
        fprintf(stderr, "hard limit %lu: -c at the limit not tested\n", (unsigned long)rl.rlim_max);
    } else {
        snprintf(hard, sizeof(hard), "%lu", (unsigned long)rl.rlim_max);
        snprintf(over, sizeof(over), "%lu", (unsigned long)rl.rlim_max + 1);
        same(at, true);
        same(past, true);
    }
}
END_TEST

/* Options that start the same and print the same under both. */
START_TEST(test_options_alike)
{
    static const char *const opts[] = {
        "resp_obj_mem_limit=5", "sock_cookie_id=5",   "inline_ascii_resp",
        "no_inline_ascii_resp", "no_drop_privileges", "hash_algorithm=xxh3",
        "hash_algorithm=bogus", "sock_cookie_id=abc", "no_such_option=1",
    };
    size_t i;

    if (skip()) {
        return;
    }
    for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        const char *const args[] = {"-l", "127.0.0.1", "-p", "-1", "-U", "-1", "-o", opts[i], NULL};

        same(args, true);
    }
}
END_TEST

/* Extstore options (and drop_privileges, tail_repair_time=N >= 10): mmem
 * refuses them as a memcached without the feature refuses a name it does
 * not know. The installed memcached has extstore, so its answer to an
 * unknown name stands in, the name swapped. */
START_TEST(test_options_refused_as_unknown)
{
    static const char *const opts[][2] = {
        {"ext_path=/tmp/mmem-ext:64m", "zzz_path=/tmp/mmem-ext:64m"},
        {"ext_page_size=8", "zzz_page_size=8"},
        {"ext_drop_unread", "zzz_drop_unread"},
        {"ext_max_frag=0.5", "zzz_max_frag=0.5"},
        {"slab_automove_freeratio=0.1", "zzzz_automove_freeratio=0.1"},
        {"drop_privileges", "zzzz_privileges"},
        {"tail_repair_time=60", "zzzz_repair_time=60"},
    };
    size_t i;

    if (skip()) {
        return;
    }
    for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        const char *const mine[] = {"-l", "127.0.0.1", "-p", "-1", "-o", opts[i][0], NULL};
        const char *const theirs[] = {"-l", "127.0.0.1", "-p", "-1", "-o", opts[i][1], NULL};
        struct outcome m, t;
        char want[256];
        const char *at;

        run_one(mm_tserver_bin(MM_TSERVER_MEMCACHED), theirs, true, &m);
        run_one(mm_tserver_bin(MM_TSERVER_TARGET), mine, true, &t);
        at = strstr(m.out, opts[i][1]);
        ck_assert_ptr_nonnull(at);
        snprintf(want, sizeof(want), "%.*s%s%s", (int)(at - m.out), m.out, opts[i][0],
                 at + strlen(opts[i][1]));
        ck_assert_msg(m.status == t.status, "%s: status 0x%x, memcached 0x%x", opts[i][0], t.status,
                      m.status);
        ck_assert_str_eq(t.out, want);
        free(m.out);
        free(t.out);
    }
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("it_ports");
    TCase *tc = tcase_create("ports");

    if (!mm_tserver_have_memcached() || mm_tserver_target_external()) {
        return mm_tcheck_skip("memcached 1.6.18 is needed to compare with");
    }

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_port_lines);
    tcase_add_test(tc, test_port_failures);
    tcase_add_test(tc, test_conn_limit);
    tcase_add_test(tc, test_options_alike);
    tcase_add_test(tc, test_options_refused_as_unknown);
    suite_add_tcase(s, tc);
    return mm_tcheck_run(s, MM_TCHECK_FORK, NULL);
}
