#ifndef MMEM_WATCH_H
#define MMEM_WATCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The log hub behind memcached's "watch" command. Code that has something
 * to report (store: evictions; cmd: fetches and stores) calls an mm_watch_*
 * event function; the hub formats one line in memcached 1.6.18's format
 * ("ts=<sec>.<usec> gid=<n> type=... ...\n") and copies it into the ring of
 * every watcher whose flags ask for that kind of event.
 *
 * Cost when nobody watches: callers test mm_watch_wants(), one relaxed
 * atomic load of the union of all watchers' flags, and do nothing else. The
 * hub's mutex is only taken when at least one watcher wants the event.
 *
 * Memory is bounded: each watcher has a ring of a fixed size (settings'
 * watcher_logbuf_size). A line that does not fit is skipped and counted; the
 * next line that fits is preceded by "skipped=<n>\n", as memcached does.
 *
 * Threads: every function is thread-safe. A watcher is read (drained) by the
 * thread that owns its connection, lines are written by any thread. */

/* Event kinds, for watcher flags and mm_watch_wants(). The names are
 * memcached's "watch" arguments. */
#define MM_WATCH_RAWCMDS 0x001u
#define MM_WATCH_EVICTIONS 0x002u
#define MM_WATCH_FETCHERS 0x004u
#define MM_WATCH_MUTATIONS 0x008u
#define MM_WATCH_SYSEVENTS 0x010u
#define MM_WATCH_CONNEVENTS 0x020u
#define MM_WATCH_PROXYREQS 0x040u
#define MM_WATCH_PROXYEVENTS 0x080u
#define MM_WATCH_PROXYUSER 0x100u

/* memcached's limit on concurrent watchers. */
#define MM_WATCH_MAX_WATCHERS 20

struct mm_watcher;

/* The fields are private to watch.c except `mask`, which mm_watch_wants()
 * reads inline so the test costs no call. */
struct mm_watch {
    unsigned mask; /* atomic: union of the flags of all watchers */
    pthread_mutex_t lock;
    struct mm_watcher *list; /* lock */
    unsigned count;          /* lock: watchers */
    size_t ring_size;        /* bytes per watcher */
    uint64_t gid;            /* lock: last id handed out */
    uint64_t written;        /* lock: lines formatted ("log_worker_written") */
    uint64_t sent;           /* lock: lines copied to a watcher */
    uint64_t skipped;        /* lock: lines a watcher had no room for */
};

/* Create a hub whose watchers get ring_size bytes each (0: 256 KB). */
struct mm_watch *mm_watch_create(size_t ring_size);
/* Free the hub and any watcher still attached; sets *w to NULL. */
void mm_watch_destroy(struct mm_watch **w);

/* True when some watcher wants events of kind (an MM_WATCH_* bit). w may be
 * NULL (no hub: nobody watches). */
static inline bool
mm_watch_wants(const struct mm_watch *w, unsigned kind)
{
    return w != NULL && (__atomic_load_n(&w->mask, __ATOMIC_RELAXED) & kind) != 0;
}

/* Parse the arguments of "watch" (the text after the command, tokens split
 * by spaces) into MM_WATCH_* flags. No argument means fetchers, as in
 * memcached. Returns false for an unknown word. */
bool mm_watch_parse_flags(const char *args, size_t len, unsigned *flags);

/* Attach a watcher for flags. NULL when MM_WATCH_MAX_WATCHERS are attached
 * already (or memory is short). */
struct mm_watcher *mm_watch_add(struct mm_watch *w, unsigned flags);
/* Detach and free a watcher; sets *wr to NULL. */
void mm_watch_remove(struct mm_watch *w, struct mm_watcher **wr);
/* Copy up to max bytes of wr's pending lines to dst and drop them from its
 * ring. Returns the bytes copied (0: nothing pending). */
size_t mm_watch_read(struct mm_watch *w, struct mm_watcher *wr, char *dst, size_t max);

/* item_get status words, memcached's order. */
enum mm_watch_get_status {
    MM_WATCH_GET_NOT_FOUND = 0,
    MM_WATCH_GET_FOUND,
    MM_WATCH_GET_FLUSHED,
    MM_WATCH_GET_EXPIRED
};

/* item_store status and command words, memcached's order. */
enum mm_watch_store_status {
    MM_WATCH_STORE_NOT_STORED = 0,
    MM_WATCH_STORE_STORED,
    MM_WATCH_STORE_EXISTS,
    MM_WATCH_STORE_NOT_FOUND,
    MM_WATCH_STORE_TOO_LARGE,
    MM_WATCH_STORE_NO_MEMORY
};
enum mm_watch_store_cmd {
    MM_WATCH_CMD_NULL = 0,
    MM_WATCH_CMD_ADD,
    MM_WATCH_CMD_SET,
    MM_WATCH_CMD_REPLACE,
    MM_WATCH_CMD_APPEND,
    MM_WATCH_CMD_PREPEND,
    MM_WATCH_CMD_CAS
};

/* Event lines. Each is a no-op unless a watcher wants its kind; keys are
 * URI-encoded as memcached does. vlen is the value length without "\r\n";
 * cfd the client's socket. */
/* fetchers: "type=item_get key= status= clsid= cfd= size=" */
void mm_watch_item_get(struct mm_watch *w, const char *key, size_t nkey,
                       enum mm_watch_get_status status, unsigned clsid, int cfd, uint32_t vlen);
/* mutations: "type=item_store key= status= cmd= ttl= clsid= cfd= size=";
 * ttl is the seconds left (0: no expiry). */
void mm_watch_item_store(struct mm_watch *w, const char *key, size_t nkey,
                         enum mm_watch_store_status status, enum mm_watch_store_cmd cmd,
                         uint32_t ttl, unsigned clsid, int cfd, uint32_t vlen);
/* evictions: "type=eviction key= fetch=yes|no ttl= la= clsid= size=";
 * ttl is the seconds left, -1 without expiry; la the seconds since the last
 * access. */
void mm_watch_eviction(struct mm_watch *w, const char *key, size_t nkey, bool fetched, int64_t ttl,
                       uint32_t la, unsigned clsid, uint32_t vlen);

/* memcached's key encoding for log and dump lines: letters, digits and
 * "-._~" stay, other bytes become %XX. At most 255 bytes of src are taken;
 * dst holds 3 * 255 bytes. Returns the encoded length. */
size_t mm_watch_uri_encode(const char *src, size_t n, char *dst);

/* The "stats" figures: log_worker_dropped, log_worker_written,
 * log_watcher_skipped, log_watcher_sent, log_watchers. */
struct mm_watch_stats {
    uint64_t worker_dropped; /* always 0: lines are never queued per worker */
    uint64_t worker_written;
    uint64_t watcher_skipped;
    uint64_t watcher_sent;
    uint64_t watchers;
};
/* w may be NULL (all zero). */
void mm_watch_stats(struct mm_watch *w, struct mm_watch_stats *out);
/* "stats reset": zero the counters (not the watcher count). */
void mm_watch_stats_reset(struct mm_watch *w);

#endif
