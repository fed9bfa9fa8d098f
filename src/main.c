/* mmem's entry point: parse and check the settings, do the process chores
 * in memcached's order (core limits, open files, user, daemon, memory lock),
 * create the store and the server, then wait for a signal in the main thread
 * and shut down in reverse order. All the work happens in the server's
 * threads; main.c only wires modules together. */
#include "config.h"

#include "mmem/clock.h"
#include "mmem/daemon.h"
#include "mmem/log.h"
#include "mmem/notify.h"
#include "mmem/server.h"
#include "mmem/settings.h"
#include "mmem/store.h"
#include "mmem/tls.h"
#include "mmem/watch.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
store_cfg_from_settings(struct mm_store_cfg *cfg, const struct mm_settings *s,
                        const struct mm_clock *clock)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->mem_limit = s->maxbytes;
    cfg->factor = s->factor;
    cfg->chunk_min = (size_t)s->chunk_size;
    cfg->item_size_max = s->item_size_max;
    cfg->slab_page_size = s->slab_page_size;
    cfg->slab_chunk_max = s->slab_chunk_size_max;
    cfg->prealloc = s->prealloc;
    cfg->evict = s->evict_to_free;
    cfg->use_cas = s->use_cas;
    cfg->hashpower = (unsigned)s->hashpower_init;
    cfg->hash_expand = s->hash_expand;
    cfg->shard_bits = s->shard_bits;
    cfg->clock = clock;
    cfg->track_sizes = s->track_sizes;
    cfg->crawler_off = !s->compat.lru_crawler;
    cfg->slab_sizes = s->slab_size;
    cfg->nslab_sizes = s->nslab_sizes;
    cfg->crawler_sleep_us = (unsigned)s->compat.lru_crawler_sleep;
    cfg->crawler_tocrawl = s->compat.lru_crawler_tocrawl;
    cfg->reassign_off = !s->compat.slab_reassign;
    cfg->slab_automove = s->compat.slab_automove;
    cfg->slab_automove_ratio = s->compat.slab_automove_ratio;
    cfg->slab_automove_window = (unsigned)s->compat.slab_automove_window;
    cfg->temporary_ttl =
        s->compat.temp_lru && s->compat.temporary_ttl > 0 ? (uint32_t)s->compat.temporary_ttl : 0;
}

/* memcached's start-up order (see daemon.h). Returns 0 or an exit status;
 * the helpers' -1 means "warned, carry on". */
static int
prepare_process(const struct mm_settings *s)
{
    int rc;
    int i;
    const char *opt;

    if (s->maxcore && (rc = mm_daemon_raise_core(stderr)) > 0) {
        return rc;
    }
    if ((rc = mm_daemon_raise_nofile(s->maxconns, stderr)) > 0) {
        return rc;
    }
    if ((rc = mm_daemon_switch_user(getuid(), geteuid(), s->username, stderr)) > 0) {
        return rc;
    }
    if (s->daemonize && (rc = mm_daemon_daemonize(s->maxcore, s->verbose > 0, stderr)) > 0) {
        return rc;
    }
    if (s->lock_memory) {
        (void)mm_daemon_lock_memory(stderr);
    }
    for (i = 0; (opt = mm_settings_noted(s, i)) != NULL; i++) {
        mm_log_info("option %s has no effect in mmem", opt);
    }
    return 0;
}

/* UDP cannot carry either kind of authentication: memcached refuses to
 * start with both, in these words. Returns 0 or an exit status. */
static int
check_udp(const struct mm_settings *s)
{
    if (s->udp_port == 0) {
        return 0;
    }
    if (s->auth_file != NULL) {
        fprintf(stderr, "Cannot use UDP with ascii authentication enabled (-U 0 to disable)\n");
        return MM_SETTINGS_EX_USAGE;
    }
    if (s->sasl) {
        fprintf(stderr, "ERROR: Cannot enable UDP while using binary SASL authentication.\n");
        return MM_SETTINGS_EX_USAGE;
    }
    return 0;
}

/* Block the signals main waits for; threads created later inherit the
 * mask, so only sigwait() below ever sees them. */
static void
block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR1); /* memcached's graceful shutdown */
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void
wait_for_stop(const sigset_t *set)
{
    for (;;) {
        int sig = 0;

        if (sigwait(set, &sig) != 0 || sig == SIGHUP) {
            continue; /* SIGHUP: ignored, as memcached does */
        }
        mm_log_info("Signal handled: %s.", strsignal(sig));
        return;
    }
}

int
main(int argc, char **argv)
{
    struct mm_settings s;
    struct mm_store_cfg store_cfg;
    struct mm_clock clock;
    struct mm_store *store = NULL;
    struct mm_server *srv = NULL;
    struct mm_watch *watch = NULL;
    struct mm_tls_ctx *tls = NULL;
    sigset_t sigs;
    int rc;

    mm_settings_init(&s);
    switch (mm_settings_parse(&s, argc, argv, stdout, stderr)) {
    case MM_SETTINGS_EXIT_OK:
        return EXIT_SUCCESS;
    case MM_SETTINGS_ERROR:
        return s.exit_code != 0 ? s.exit_code : MM_SETTINGS_EX_USAGE;
    case MM_SETTINGS_OK:
        break;
    }
    if (mm_settings_check(&s, stderr) != MM_SETTINGS_OK) {
        return s.exit_code != 0 ? s.exit_code : MM_SETTINGS_EX_USAGE;
    }
    mm_log_set_level(s.verbose);
    rc = check_udp(&s);
    /* -Z: the certificate and key are read before -u drops privileges, as
     * memcached reads them; a bad one ends start-up with status 64. */
    if (rc == 0 && s.ssl_enabled) {
        tls = mm_tls_ctx_create(&s, stderr);
        if (tls == NULL) {
            return MM_SETTINGS_EX_USAGE;
        }
    }
    if (rc == 0) {
        rc = prepare_process(&s);
    }
    if (rc != 0) {
        mm_tls_ctx_destroy(&tls);
        return rc;
    }

    /* From here on there is no fork: threads may start. */
    block_signals(&sigs);
    mm_clock_init(&clock);
    store_cfg_from_settings(&store_cfg, &s, &clock);
    watch = mm_watch_create(s.compat.watcher_logbuf_size);
    store_cfg.watch = watch;
    store = mm_store_create(&store_cfg);
    if (store == NULL) {
        mm_log_error("cannot create the item store (-m %zu MB)", s.maxbytes >> 20);
        mm_tls_ctx_destroy(&tls);
        return MM_SETTINGS_EX_OSERR;
    }
    if (mm_store_start_threads(store) != 0) {
        mm_log_error("cannot start the page mover and crawler threads");
        mm_store_destroy(&store);
        return MM_SETTINGS_EX_OSERR;
    }
    srv = mm_server_create(&s, store, &clock);
    if (srv != NULL) {
        mm_server_set_watch(srv, watch);
        mm_server_set_tls(srv, tls); /* the server owns it from here */
    } else {
        mm_tls_ctx_destroy(&tls);
    }
    if (srv != NULL && mm_server_fixed_conns(srv) + 1 >= (unsigned long)s.maxconns) {
        /* No client could ever connect: memcached refuses to run so. */
        fprintf(stderr, "Maxconns setting is too low, use -c to increase.\n");
        mm_server_destroy(&srv);
        mm_store_destroy(&store);
        mm_watch_destroy(&watch);
        return EXIT_FAILURE;
    }
    if (srv == NULL || mm_server_start(srv) != 0) {
        mm_server_destroy(&srv);
        mm_store_destroy(&store);
        mm_watch_destroy(&watch);
        return MM_SETTINGS_EX_OSERR;
    }
    if (s.pid_file != NULL) {
        (void)mm_daemon_pidfile_write(s.pid_file, getpid(), stderr);
    }
    (void)mm_notify_ready();

    wait_for_stop(&sigs);

    mm_server_destroy(&srv);
    mm_store_destroy(&store);
    mm_watch_destroy(&watch);
    if (s.pid_file != NULL) {
        (void)mm_daemon_pidfile_remove(s.pid_file, stderr);
    }
    return EXIT_SUCCESS;
}
