/* Many clients at once on the same keys: incr/decr from several threads and
 * gets/cas retry loops must add up exactly, with nothing lost or doubled.
 * Each thread has its own connection; every loop is bounded in count and
 * by a deadline so a stuck server fails the test instead of hanging it. */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "server.h"
#include "tcheck.h"

#define NTHREADS 8
#define INCRS_PER_THREAD 2000
#define BATCH 50
#define NKEYS 4
#define CAS_PER_THREAD 150
#define CAS_MAX_ATTEMPTS 20000
#define DEADLINE_S 60

static struct mm_tserver srv;

struct worker {
    int id;
    char err[256];
    long retries;
};

static void
srv_setup(void)
{
    ck_assert_msg(mm_tserver_startl(&srv, MM_TSERVER_TARGET, 0, "-t", "4", NULL) == 0,
                  "cannot start target server");
}

static void
srv_teardown(void)
{
    ck_assert_msg(mm_tserver_stop(&srv) == 0, "target did not stop cleanly");
}

static time_t
deadline(void)
{
    return time(NULL) + DEADLINE_S;
}

static bool
read_number(struct mm_tclient *c, unsigned long long *v, struct worker *w)
{
    char *line = mm_tclient_read_line(c);
    char *end;

    if (line == NULL) {
        snprintf(w->err, sizeof(w->err), "no reply (timeout or close)");
        return false;
    }
    *v = strtoull(line, &end, 10);
    if (end == line || strcmp(end, "\r\n") != 0) {
        snprintf(w->err, sizeof(w->err), "not a number: %.200s", line);
        free(line);
        return false;
    }
    free(line);
    return true;
}

/* Pipelined incr on the shared counters, plus an incr/decr pair on a key
 * that must end where it started. */
static void *
incr_worker(void *arg)
{
    struct worker *w = arg;
    struct mm_tclient c;
    time_t dl = deadline();
    int done = 0;

    if (mm_tclient_connect(&c, srv.host, srv.port) != 0) {
        snprintf(w->err, sizeof(w->err), "connect failed");
        return NULL;
    }
    while (done < INCRS_PER_THREAD && w->err[0] == '\0') {
        char req[BATCH * 48];
        size_t n = 0;
        int i;

        if (time(NULL) > dl) {
            snprintf(w->err, sizeof(w->err), "deadline passed after %d incrs", done);
            break;
        }
        for (i = 0; i < BATCH; i++) {
            n += (size_t)snprintf(req + n, sizeof(req) - n, "incr ctr%d 1\r\n",
                                  (done + i + w->id) % NKEYS);
            n += (size_t)snprintf(req + n, sizeof(req) - n, "%s bal 3\r\n",
                                  (i % 2) ? "decr" : "incr");
        }
        if (mm_tclient_send(&c, req, n) != 0) {
            snprintf(w->err, sizeof(w->err), "send failed");
            break;
        }
        for (i = 0; i < 2 * BATCH; i++) {
            unsigned long long v;

            if (!read_number(&c, &v, w)) {
                break;
            }
        }
        done += BATCH;
    }
    mm_tclient_close(&c);
    return NULL;
}

static unsigned long long
get_number(struct mm_tclient *c, const char *key)
{
    char req[64];
    char *line;
    char *data;
    unsigned long f;
    size_t b;
    char k[64];
    unsigned long long v;

    snprintf(req, sizeof(req), "get %s\r\n", key);
    ck_assert(mm_tclient_sendstr(c, req) == 0);
    line = mm_tclient_read_line(c);
    ck_assert_ptr_nonnull(line);
    ck_assert_msg(sscanf(line, "VALUE %63s %lu %zu", k, &f, &b) == 3, "bad: %s", line);
    data = mm_tclient_read_n(c, b + 2);
    ck_assert_ptr_nonnull(data);
    ck_assert(mm_tclient_expect(c, "END\r\n"));
    v = strtoull(data, NULL, 10);
    free(line);
    free(data);
    return v;
}

START_TEST(test_incr_exact)
{
    pthread_t th[NTHREADS];
    struct worker w[NTHREADS];
    struct mm_tclient c;
    unsigned long long total = 0;
    int i;

    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    for (i = 0; i < NKEYS; i++) {
        char req[64];

        snprintf(req, sizeof(req), "set ctr%d 0 0 1\r\n0\r\n", i);
        ck_assert(mm_tclient_cmd(&c, req, "STORED\r\n"));
    }
    /* Far from 0 so decr never hits the floor whatever the interleaving. */
    ck_assert(mm_tclient_cmd(&c, "set bal 0 0 7\r\n1000000\r\n", "STORED\r\n"));
    memset(w, 0, sizeof(w));
    for (i = 0; i < NTHREADS; i++) {
        w[i].id = i;
        ck_assert(pthread_create(&th[i], NULL, incr_worker, &w[i]) == 0);
    }
    for (i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
    }
    for (i = 0; i < NTHREADS; i++) {
        ck_assert_msg(w[i].err[0] == '\0', "thread %d: %s", i, w[i].err);
    }
    for (i = 0; i < NKEYS; i++) {
        char key[16];

        snprintf(key, sizeof(key), "ctr%d", i);
        total += get_number(&c, key);
    }
    ck_assert_uint_eq(total, (unsigned long long)NTHREADS * INCRS_PER_THREAD);
    ck_assert_uint_eq(get_number(&c, "bal"), 1000000);
    mm_tclient_close(&c);
}
END_TEST

/* gets + cas until it sticks, CAS_PER_THREAD times. */
static void *
cas_worker(void *arg)
{
    struct worker *w = arg;
    struct mm_tclient c;
    time_t dl = deadline();
    int done = 0;
    long attempts = 0;

    if (mm_tclient_connect(&c, srv.host, srv.port) != 0) {
        snprintf(w->err, sizeof(w->err), "connect failed");
        return NULL;
    }
    while (done < CAS_PER_THREAD && w->err[0] == '\0') {
        char *line;
        char *data;
        char req[128];
        char k[16];
        unsigned long f;
        size_t b;
        unsigned long long cas;
        unsigned long long v;
        int n;

        if (++attempts > CAS_MAX_ATTEMPTS || time(NULL) > dl) {
            snprintf(w->err, sizeof(w->err), "gave up after %ld attempts, %d done", attempts, done);
            break;
        }
        if (mm_tclient_sendstr(&c, "gets casctr\r\n") != 0 ||
            (line = mm_tclient_read_line(&c)) == NULL) {
            snprintf(w->err, sizeof(w->err), "gets failed");
            break;
        }
        if (sscanf(line, "VALUE %15s %lu %zu %llu", k, &f, &b, &cas) != 4 || b > 30) {
            snprintf(w->err, sizeof(w->err), "bad gets line: %.200s", line);
            free(line);
            break;
        }
        free(line);
        data = mm_tclient_read_n(&c, b + 2);
        if (data == NULL || !mm_tclient_expect(&c, "END\r\n")) {
            snprintf(w->err, sizeof(w->err), "bad gets body");
            free(data);
            break;
        }
        v = strtoull(data, NULL, 10) + 1;
        free(data);
        n = snprintf(NULL, 0, "%llu", v);
        snprintf(req, sizeof(req), "cas casctr 0 0 %d %llu\r\n%llu\r\n", n, cas, v);
        if (mm_tclient_sendstr(&c, req) != 0 || (line = mm_tclient_read_line(&c)) == NULL) {
            snprintf(w->err, sizeof(w->err), "cas failed");
            break;
        }
        if (strcmp(line, "STORED\r\n") == 0) {
            done++;
        } else if (strcmp(line, "EXISTS\r\n") == 0) {
            w->retries++;
        } else {
            snprintf(w->err, sizeof(w->err), "unexpected cas reply: %.200s", line);
        }
        free(line);
    }
    mm_tclient_close(&c);
    return NULL;
}

START_TEST(test_cas_loop_exact)
{
    pthread_t th[NTHREADS];
    struct worker w[NTHREADS];
    struct mm_tclient c;
    int i;

    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    ck_assert(mm_tclient_cmd(&c, "set casctr 0 0 1\r\n0\r\n", "STORED\r\n"));
    memset(w, 0, sizeof(w));
    for (i = 0; i < NTHREADS; i++) {
        w[i].id = i;
        ck_assert(pthread_create(&th[i], NULL, cas_worker, &w[i]) == 0);
    }
    for (i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
    }
    for (i = 0; i < NTHREADS; i++) {
        ck_assert_msg(w[i].err[0] == '\0', "thread %d: %s", i, w[i].err);
    }
    /* Every STORED is exactly one increment: lost updates would show as a
     * smaller total, a cas that wrongly succeeded as the same. */
    ck_assert_uint_eq(get_number(&c, "casctr"), (unsigned long long)NTHREADS * CAS_PER_THREAD);
    mm_tclient_close(&c);
}
END_TEST

/* add races: of many clients adding the same fresh key, exactly one wins. */
static void *
add_worker(void *arg)
{
    struct worker *w = arg;
    struct mm_tclient c;
    int i;

    if (mm_tclient_connect(&c, srv.host, srv.port) != 0) {
        snprintf(w->err, sizeof(w->err), "connect failed");
        return NULL;
    }
    for (i = 0; i < 200 && w->err[0] == '\0'; i++) {
        char req[64];
        char *line;

        snprintf(req, sizeof(req), "add race%d 0 0 1\r\n%d\r\n", i, w->id);
        if (mm_tclient_sendstr(&c, req) != 0 || (line = mm_tclient_read_line(&c)) == NULL) {
            snprintf(w->err, sizeof(w->err), "add failed");
            break;
        }
        if (strcmp(line, "STORED\r\n") == 0) {
            w->retries++; /* counts wins here */
        } else if (strcmp(line, "NOT_STORED\r\n") != 0) {
            snprintf(w->err, sizeof(w->err), "unexpected add reply: %.200s", line);
        }
        free(line);
    }
    mm_tclient_close(&c);
    return NULL;
}

START_TEST(test_add_race_single_winner)
{
    pthread_t th[NTHREADS];
    struct worker w[NTHREADS];
    struct mm_tclient c;
    long wins = 0;
    int i;

    /* The keys must not exist yet (matters with MMEM_TEST_ADDR). */
    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    ck_assert(mm_tclient_cmd(&c, "flush_all\r\n", "OK\r\n"));
    mm_tclient_close(&c);
    memset(w, 0, sizeof(w));
    for (i = 0; i < NTHREADS; i++) {
        w[i].id = i;
        ck_assert(pthread_create(&th[i], NULL, add_worker, &w[i]) == 0);
    }
    for (i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
    }
    for (i = 0; i < NTHREADS; i++) {
        ck_assert_msg(w[i].err[0] == '\0', "thread %d: %s", i, w[i].err);
        wins += w[i].retries;
    }
    ck_assert_int_eq(wins, 200);
}
END_TEST

static Suite *
concurrency_suite(void)
{
    Suite *s = suite_create("it_concurrency");
    TCase *tc = tcase_create("exact");

    tcase_add_checked_fixture(tc, srv_setup, srv_teardown);
    tcase_set_timeout(tc, DEADLINE_S + 30);
    tcase_add_test(tc, test_incr_exact);
    tcase_add_test(tc, test_cas_loop_exact);
    tcase_add_test(tc, test_add_race_single_winner);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return mm_tcheck_run(concurrency_suite(), 0, NULL);
}
