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
 * Owners of other modules read fields directly; only settings.c writes.
 * Strings point into argv or into the struct's own string store (strbuf), so
 * the struct must outlive its users and must not be copied by value and then
 * discarded. See doc/options.md for what mmem does with every option. */

#define MM_SETTINGS_MAX_LISTEN 16
#define MM_SETTINGS_STRBUF 4096
#define MM_SETTINGS_MAX_NOTED 64

/* Exit statuses, as memcached uses them (sysexits.h values). */
#define MM_SETTINGS_EX_USAGE 64
#define MM_SETTINGS_EX_NOUSER 67
#define MM_SETTINGS_EX_OSERR 71

enum mm_settings_proto {
    MM_SETTINGS_PROTO_AUTO = 0,
    MM_SETTINGS_PROTO_ASCII,
    MM_SETTINGS_PROTO_BINARY
};

/* Values of memcached -o options that mmem accepts and validates but does
 * not act on. They are kept so that "stats settings" shows what was asked
 * for, and so main can say at -v that they have no effect. */
struct mm_settings_compat {
    int slab_automove;          /* -o slab_automove (memcached default 1) */
    double slab_automove_ratio; /* 0.80 */
    int slab_automove_window;   /* 30 */
    int lru_crawler_sleep;      /* 100 (microseconds) */
    uint32_t lru_crawler_tocrawl;
    int tail_repair_time;
    const char *hash_algorithm;   /* as given (NULL: MM_HASH_NAME, the one used) */
    int hot_lru_pct;              /* 20 */
    int warm_lru_pct;             /* 40 */
    double hot_max_factor;        /* 0.20 */
    double warm_max_factor;       /* 2.00 */
    bool temp_lru;                /* set by temporary_ttl */
    bool lru_maintainer;          /* memcached's default: on */
    bool lru_crawler;             /* memcached's default: on */
    bool slab_reassign;           /* memcached's default: on */
    int temporary_ttl;            /* 61 */
    uint32_t watcher_logbuf_size; /* bytes (given in KB) */
    uint32_t worker_logbuf_size;  /* bytes (given in KB) */
    const char *slab_sizes;       /* as given; parsed into slab_size[] by mm_settings_check */
    uint32_t sock_cookie_id;      /* SO_MARK of listening sockets, 0 = none */
    bool drop_privileges;
    /* extstore */
    const char *ext_path;
    uint32_t ext_page_size; /* MB */
    uint32_t ext_wbuf_size; /* bytes (given in MB) */
    uint32_t ext_threads;
    uint32_t ext_io_depth;
    uint32_t ext_item_size;
    uint32_t ext_item_age;
    uint32_t ext_low_ttl;
    uint32_t ext_recache_rate;
    uint32_t ext_compact_under;
    uint32_t ext_drop_under;
    uint32_t ext_max_sleep;
    double ext_max_frag;
    double slab_automove_freeratio;
    bool ext_drop_unread;
    /* TLS: acted on in a build with OpenSSL (net/tls.c), absent without */
    const char *ssl_chain_cert;
    const char *ssl_key;
    const char *ssl_ciphers;
    const char *ssl_ca_cert;
    int ssl_verify_mode;
    int ssl_keyformat;      /* 1 = PEM */
    int ssl_min_version;    /* 0..3 = tlsv1.0..tlsv1.3; default 2 */
    uint32_t ssl_wbuf_size; /* bytes (given in KB) */
    bool ssl_session_cache;
    bool ssl_kernel_tls;
    int num_napi_ids; /* -N, 0 = unset */
};

/* memcached takes at most this many -o slab_sizes entries. */
#define MM_SETTINGS_SLAB_SIZES_MAX 62

struct mm_settings {
    /* transports */
    int port;               /* -p, default 11211; 0 = no TCP, -1 = an ephemeral port;
                   * -U alone sets it to the UDP port (mm_settings_check) */
    int udp_port;           /* -U, default 0 (off), -1 = an ephemeral port */
    const char *socketpath; /* -s, NULL = TCP */
    int access;             /* -a, octal, default 0700 */
    const char *listen[MM_SETTINGS_MAX_LISTEN]; /* -l entries, one address each
                                                 * (comma/semicolon lists split,
                                                 * duplicates dropped) */
    int nlisten;
    const char *inter; /* all -l entries joined with ',' (NULL if none),
                                   * as memcached reports "inter" */
    int backlog;       /* -b, default 1024 */
    int ready_fd;      /* --ready-fd: write the bound port here, -1 = none */
    bool ssl_enabled;  /* -Z: TLS on every TCP listener but "notls:" ones
                        * (the ssl_* options are in compat) */

    /* process */
    bool daemonize;        /* -d */
    const char *username;  /* -u */
    const char *pid_file;  /* -P */
    bool lock_memory;      /* -k */
    bool maxcore;          /* -r */
    int verbose;           /* -v count */
    bool shutdown_command; /* -A */

    /* memory and items */
    size_t maxbytes;            /* -m in bytes, default 64 MB */
    bool evict_to_free;         /* true unless -M */
    size_t item_size_max;       /* -I, default 1 MB */
    double factor;              /* -f, default 1.25 */
    int chunk_size;             /* -n, default 48 */
    bool prealloc;              /* -L */
    bool use_cas;               /* true unless -C */
    size_t slab_chunk_size_max; /* -o slab_chunk_max, bytes; default item_size_max/2 */
    size_t slab_page_size;      /* 1 MB, or -I when larger (set by mm_settings_check) */
    /* -o slab_sizes, parsed by mm_settings_check: the chunk sizes of the
     * classes below slab_chunk_max (0 of them: mmem's own table). */
    uint32_t slab_size[MM_SETTINGS_SLAB_SIZES_MAX];
    unsigned nslab_sizes;
    int hashpower_init; /* -o hashpower, 0 = default */
    bool hash_expand;   /* false with -o no_hashexpand */

    /* connections and threads */
    int maxconns;                            /* -c, default 1024 */
    bool maxconns_fast;                      /* -o maxconns_fast (default on) */
    int num_threads;                         /* -t, default 4 */
    int reqs_per_event;                      /* -R, default 20 */
    enum mm_settings_proto binding_protocol; /* -B */
    unsigned idle_timeout;     /* -o idle_timeout, seconds, 0 = off (negative given: 0) */
    size_t read_buf_mem_limit; /* -o read_buf_mem_limit, bytes, 0 = unlimited */
    const char *ev_backend;    /* -o ev_backend=libevent|poll (mmem only), NULL = default */
    unsigned shard_bits;       /* -o shard_bits (mmem only), default 0 */

    /* commands */
    bool flush_enabled;    /* false with -F */
    bool dump_enabled;     /* false with -X */
    const char *auth_file; /* -Y: ASCII auth "user:password" file, NULL = off */
    bool sasl;             /* -S: binary clients must authenticate (SASL) */
    bool watch_enabled;    /* false with -W */
    bool track_sizes;      /* -o track_sizes: "stats sizes" from start-up */
    char prefix_delimiter; /* -D, default ':' */
    bool detail_enabled;   /* set when -D is given */

    /* accepted for compatibility, no effect (see mm_settings_noted) */
    struct mm_settings_compat compat;

    /* set when parse/check fail: the exit status memcached uses (1 or 64) */
    int exit_code;

    /* private to settings.c */
    bool slab_chunk_changed;
    bool port_given;     /* -p seen */
    bool udp_port_given; /* -U seen */
    uint16_t noted[MM_SETTINGS_MAX_NOTED];
    int nnoted;
    size_t strbuf_used;
    char strbuf[MM_SETTINGS_STRBUF];
};

enum mm_settings_rc {
    MM_SETTINGS_OK = 0,
    MM_SETTINGS_EXIT_OK = 1, /* -h / -V / -i handled: exit 0 */
    MM_SETTINGS_ERROR = -1   /* message already written: exit(s->exit_code) */
};

/* Fill s with memcached's defaults. */
void mm_settings_init(struct mm_settings *s);

/* Parse argv (memcached's short and long flags plus -o). Messages for -h/-V/-i
 * go to out, errors and warnings to err. argv may be permuted (getopt).
 * Afterwards the caller calls mm_settings_check(). Not thread-safe (getopt). */
enum mm_settings_rc mm_settings_parse(struct mm_settings *s, int argc, char **argv, FILE *out,
                                      FILE *err);

/* Cross-field validation and derived values (slab page size, chunk max), in
 * memcached's order and with its messages. Returns MM_SETTINGS_OK or
 * MM_SETTINGS_ERROR after writing a message to err and setting exit_code. */
enum mm_settings_rc mm_settings_check(struct mm_settings *s, FILE *err);

/* Emit "stats settings" lines: emit(arg, name, value) once per setting in
 * memcached 1.6.18's order and with its names. "oldest" is always "0" and
 * "verbosity" is the -v count: the stats command may substitute run-time
 * values for those two. */
typedef void (*mm_settings_emit_fn)(void *arg, const char *name, const char *value);
void mm_settings_emit(const struct mm_settings *s, mm_settings_emit_fn emit, void *arg);

/* Options given that mmem accepts but does not act on, in the order first
 * given, without duplicates: "-N", "lru_crawler", "ext_path"... i from 0;
 * returns NULL past the end. main logs "option X has no effect in mmem". */
const char *mm_settings_noted(const struct mm_settings *s, int i);

/* Split one -l entry as memcached does: "[v6]:port", "[v6]", "host:port",
 * a bare IPv6 address (two or more ':' and no brackets), or "host". "*" and
 * "" mean any address (host set to ""). *port is left alone when the entry
 * has none. Returns 0, or -1 for a bad entry (unclosed '[', bad port, host
 * longer than hostlen - 1). Pure function. */
int mm_settings_split_listen(const char *entry, char *host, size_t hostlen, int *port);

/* The usage text (-h) and the licence text (-i). */
void mm_settings_usage(FILE *out);
void mm_settings_license(FILE *out);

#endif
