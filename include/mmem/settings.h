#ifndef MMEM_SETTINGS_H
#define MMEM_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Process settings: parsed once from argv (memcached 1.6's flags and its -o
 * extended options), validated, then frozen. After start-up they are only
 * read, which is why they are the one process-wide object mmem allows.
 *
 * Owners of other modules read fields directly; only settings.c writes. */

#define MM_SETTINGS_MAX_LISTEN 16

enum mm_settings_proto {
    MM_SETTINGS_PROTO_AUTO = 0,
    MM_SETTINGS_PROTO_ASCII,
    MM_SETTINGS_PROTO_BINARY
};

struct mm_settings {
    /* transports */
    int port;                     /* -p, default 11211 (0 = pick one) */
    int udp_port;                 /* -U, default 0 (off) */
    const char *socketpath;       /* -s, NULL = TCP */
    int access;                   /* -a, octal, default 0700 */
    const char *listen[MM_SETTINGS_MAX_LISTEN]; /* -l, each may be "a,b" split */
    int nlisten;
    int backlog;                  /* -b, default 1024 */
    int ready_fd;                 /* --ready-fd: write the bound port here, -1 = none */

    /* process */
    bool daemonize;               /* -d */
    const char *username;         /* -u */
    const char *pid_file;         /* -P */
    bool lock_memory;             /* -k */
    bool maxcore;                 /* -r */
    int verbose;                  /* -v count */
    bool shutdown_command;        /* -A */

    /* memory and items */
    size_t maxbytes;              /* -m in bytes, default 64 MB */
    bool evict_to_free;           /* true unless -M */
    size_t item_size_max;         /* -I, default 1 MB */
    double factor;                /* -f, default 1.25 */
    int chunk_size;               /* -n, default 48 */
    bool prealloc;                /* -L */
    bool use_cas;                 /* true unless -C */
    size_t slab_chunk_size_max;   /* -o slab_chunk_max, bytes; default item_size_max/2 */
    size_t slab_page_size;        /* 1 MB, or -I when larger */
    int hashpower_init;           /* -o hashpower, 0 = default */
    bool hash_expand;             /* false with -o no_hashexpand */

    /* connections and threads */
    int maxconns;                 /* -c, default 1024 */
    bool maxconns_fast;           /* -o maxconns_fast (default on) */
    int num_threads;              /* -t, default 4 */
    int reqs_per_event;           /* -R, default 20 */
    enum mm_settings_proto binding_protocol; /* -B */
    unsigned idle_timeout;        /* -o idle_timeout, seconds, 0 = off */
    size_t read_buf_mem_limit;    /* -o read_buf_mem_limit, bytes, 0 = unlimited */
    const char *ev_backend;       /* -o ev_backend=libevent|poll (mmem only) */
    unsigned shard_bits;          /* -o shard_bits (mmem only) */

    /* commands */
    bool flush_enabled;           /* false with -F */
    bool dump_enabled;            /* false with -X */
    bool watch_enabled;           /* false with -W */
    char prefix_delimiter;        /* -D */
    bool detail_enabled;          /* set when -D is given */
};

enum mm_settings_rc {
    MM_SETTINGS_OK = 0,
    MM_SETTINGS_EXIT_OK = 1,      /* -h / -V / -i handled: exit 0 */
    MM_SETTINGS_ERROR = -1        /* message already written: exit 1 (EX_USAGE as memcached) */
};

/* Fill s with memcached's defaults. */
void mm_settings_init(struct mm_settings *s);

/* Parse argv (memcached's short and long flags plus -o). Messages for -h/-V
 * go to out, errors to err. Afterwards the caller calls mm_settings_check(). */
enum mm_settings_rc mm_settings_parse(struct mm_settings *s, int argc, char **argv,
                                      FILE *out, FILE *err);

/* Cross-field validation and derived values (slab page size, chunk max).
 * Returns MM_SETTINGS_OK or MM_SETTINGS_ERROR after writing a message to err. */
enum mm_settings_rc mm_settings_check(struct mm_settings *s, FILE *err);

/* Emit "stats settings" lines: emit(arg, name, value) once per setting in
 * memcached's order and with memcached's names. */
typedef void (*mm_settings_emit_fn)(void *arg, const char *name, const char *value);
void mm_settings_emit(const struct mm_settings *s, mm_settings_emit_fn emit, void *arg);

#endif
