#ifndef MMEM_STORE_H
#define MMEM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmem/clock.h"
#include "mmem/hash.h"

/* The store: a sharded, lock-striped hash table over slab-allocated items
 * with CLOCK eviction per slab class (an approximation of LRU). It knows
 * nothing of the wire format or the event loop. Every function is
 * thread-safe. Lock order is written at the top of store.c and in
 * doc/store.md.
 *
 * Items returned to callers carry a reference; give it back with
 * mm_store_unref(). An item stays readable while referenced even if it is
 * deleted, replaced or evicted meanwhile.
 *
 * Contract details for callers:
 *  - h is always mm_hash(key, nkey) (the store recomputes it for commit and
 *    for eviction, so another hash would misplace items).
 *  - Keys are 1..MM_STORE_KEY_MAX bytes; longer keys get TOO_LARGE.
 *  - "Too large" follows memcached's arithmetic (header + CAS + key + 1 +
 *    value + 2 > item_size_max) so the same values are refused.
 *  - Expiry times are reltimes from mm_clock_exptime(); 0 = never. */

struct mm_item;
struct mm_store;
struct mm_watch;

enum mm_store_rc {
    MM_STORE_OK = 0,
    MM_STORE_NOT_FOUND,
    MM_STORE_EXISTS,      /* cas mismatch */
    MM_STORE_NOT_STORED,  /* add on existing, replace/append/prepend on missing */
    MM_STORE_NOMEM,       /* no memory and eviction disabled or impossible */
    MM_STORE_TOO_LARGE,   /* larger than the largest slab class / -I */
    MM_STORE_NON_NUMERIC, /* incr/decr on a value that is not a number */
    MM_STORE_DELTA_NOMEM  /* incr/decr needed a new item and none could be had */
};

#define MM_STORE_KEY_MAX 250

enum mm_store_mode {
    MM_STORE_SET = 0,
    MM_STORE_ADD,
    MM_STORE_REPLACE,
    MM_STORE_APPEND,
    MM_STORE_PREPEND,
    MM_STORE_CAS,
    /* Meta "ms C<cas> I": as CAS, but a CAS older than the item's still
     * stores, keeping the old expiry and token and marking the item stale. */
    MM_STORE_CAS_STALE
};

struct mm_store_cfg {
    size_t mem_limit;              /* bytes of item memory (-m) */
    double factor;                 /* -f */
    size_t chunk_min;              /* -n: smallest key+value+header space */
    size_t item_size_max;          /* -I */
    size_t slab_page_size;         /* page size: 1 MB, or -I if larger */
    size_t slab_chunk_max;         /* largest chunk; larger items are chained or refused */
    bool prealloc;                 /* -L */
    bool evict;                    /* false with -M */
    bool use_cas;                  /* false with -C */
    unsigned hashpower;            /* initial log2(buckets) per shard, 0 = default */
    bool hash_expand;              /* grow the table online */
    unsigned shard_bits;           /* log2(shards), at most 8 */
    const struct mm_clock *clock;  /* required */
    bool track_sizes;              /* -o track_sizes: "stats sizes" from the start */
    struct mm_watch *watch;        /* "watch evictions" hub; NULL: none */
    bool crawler_off;              /* -o no_lru_crawler: "lru_crawler" starts disabled */
    unsigned crawler_sleep_us;     /* lru_crawler_sleep: pause per 1,000 items checked */
    uint32_t crawler_tocrawl;      /* lru_crawler_tocrawl: items per class per run, 0 = all */
    bool reassign_off;             /* -o no_slab_reassign: pages never move */
    int slab_automove;             /* 0 off, 1 (memcached's default), 2 aggressive */
    double slab_automove_ratio;    /* 0 = 0.8 */
    unsigned slab_automove_window; /* samples (ticks of 100 ms); 0 = 30 */
    uint32_t temporary_ttl;        /* > 0: items with a TTL up to this are never evicted */
    const uint32_t *slab_sizes;    /* -o slab_sizes: the classes below slab_chunk_max */
    unsigned nslab_sizes;          /* 0: mmem's own table */
};

/* Zeroed fields of a cfg mean: factor 1.25, chunk_min 48, item_size_max 1 MB,
 * slab_page_size 1 MB, slab_chunk_max page/2, hashpower 16, mem_limit
 * unlimited. */

/* Outcome counters a command needs for stats (hits vs. expired vs. flushed). */
enum mm_store_get_result {
    MM_STORE_GET_HIT = 0,
    MM_STORE_GET_MISS,
    MM_STORE_GET_EXPIRED,
    MM_STORE_GET_FLUSHED
};

struct mm_store *mm_store_create(const struct mm_store_cfg *cfg);
void mm_store_destroy(struct mm_store **st);

/* Look up a live item; NULL if missing, expired or flushed (*why says which;
 * why may be NULL). With touch, the expiry becomes new_exp (gat/touch). */
struct mm_item *mm_store_get(struct mm_store *st, const char *key, size_t nkey, mm_hash_t h,
                             bool touch, mm_reltime_t new_exp, enum mm_store_get_result *why);

/* Meta get (mg): mm_store_get plus stale-while-revalidate, in one locked
 * step so exactly one client wins the recache token:
 *  - vivify: a miss creates an empty item expiring at vivify_exp, and wins;
 *  - recache: a hit expiring before recache_at wins, unless a token was
 *    already handed out;
 *  - a stale item wins if no token was handed out since it went stale.
 * A win marks the item so later requests see token_sent. The "before"
 * fields describe the item as it was before this request. Unless no_bump or
 * peek, the request is a fetch: the first sets the fetched bit, later ones
 * set the last access to now (memcached's "h" and "l"); mm_store_get and
 * mm_store_touch count as fetches too. */
struct mm_store_mget {
    bool touch; /* in: set the expiry to new_exp */
    mm_reltime_t new_exp;
    bool vivify; /* in */
    mm_reltime_t vivify_exp;
    bool recache; /* in */
    mm_reltime_t recache_at;
    bool no_bump;        /* in: "u": not a fetch (no fetched bit, last access, LRU mark) */
    bool peek;           /* in: "me": as no_bump, and not counted as a hit either */
    bool created;        /* out: made by vivify */
    bool won;            /* out: this client holds the token (W) */
    bool stale;          /* out: X */
    bool token_sent;     /* out: another client holds the token (Z) */
    bool fetched_before; /* out: h */
    mm_reltime_t atime_before;
};
struct mm_item *mm_store_mget(struct mm_store *st, const char *key, size_t nkey, mm_hash_t h,
                              struct mm_store_mget *m, enum mm_store_get_result *why);

/* Meta delete with I: keep the item but mark it stale, give it a new CAS,
 * clear its token, and set its expiry when set_exp. cas_in as for delete. */
enum mm_store_rc mm_store_invalidate(struct mm_store *st, const char *key, size_t nkey, mm_hash_t h,
                                     uint64_t cas_in, bool set_exp, mm_reltime_t exptime);

/* Reserve an unlinked item for key with room for vlen value bytes. Returns
 * NULL with *rc = TOO_LARGE or NOMEM. The caller fills mm_item_data(), then
 * commits or aborts; the reserve reference is consumed by either. */
struct mm_item *mm_store_reserve(struct mm_store *st, const char *key, size_t nkey, mm_hash_t h,
                                 uint32_t client_flags, mm_reltime_t exptime, uint32_t vlen,
                                 enum mm_store_rc *rc);
/* Link a reserved item according to mode. cas_in is the client's CAS for
 * MM_STORE_CAS. On OK, *cas_out (if not NULL) gets the new CAS. */
enum mm_store_rc mm_store_commit(struct mm_store *st, struct mm_item *it, enum mm_store_mode mode,
                                 uint64_t cas_in, uint64_t *cas_out);
void mm_store_abort(struct mm_store *st, struct mm_item *it);

/* Delete; cas_in != 0 deletes only if the CAS matches (EXISTS otherwise). */
enum mm_store_rc mm_store_delete(struct mm_store *st, const char *key, size_t nkey, mm_hash_t h,
                                 uint64_t cas_in);

/* incr/decr as memcached: 64-bit unsigned, incr wraps, decr stops at 0. When
 * the new number is not longer than the old value it is written in place,
 * padded on the right with spaces to the old length (memcached's quirk).
 * *value gets the new number; *cas_out the new CAS (may be NULL). */
enum mm_store_rc mm_store_delta(struct mm_store *st, const char *key, size_t nkey, mm_hash_t h,
                                bool incr, uint64_t delta, uint64_t cas_in, uint64_t *value,
                                uint64_t *cas_out);

enum mm_store_rc mm_store_touch(struct mm_store *st, const char *key, size_t nkey, mm_hash_t h,
                                mm_reltime_t exptime);

/* Invalidate every item stored at or before `when` (a reltime; "now" for an
 * immediate flush, later for flush_all <delay>). */
void mm_store_flush(struct mm_store *st, mm_reltime_t when);

/* Change the memory limit at run time (cache_memlimit). Lowering it wakes
 * the page mover, which gives pages back (evicting their items) until the
 * store fits; without the background threads, eviction keeps usage from
 * growing further. */
void mm_store_set_limit(struct mm_store *st, size_t mem_limit);

/* The background threads: the page mover (automove, "slabs reassign",
 * cache_memlimit) and the crawler (reclaim of expired items). Started by the
 * server after creating the store; stopped by mm_store_destroy. Returns 0 or
 * an errno. */
int mm_store_start_threads(struct mm_store *st);

/* "slabs reassign <src> <dst>" (dst 0: back to the pool; src 0: a page the
 * pool holds, given back earlier) and "slabs automove <0|1|2>"; the replies
 * are memcached's. */
enum mm_store_reassign_rc {
    MM_STORE_REASSIGN_OK = 0,
    MM_STORE_REASSIGN_BUSY,
    MM_STORE_REASSIGN_BADCLASS,
    MM_STORE_REASSIGN_NOSPARE,
    MM_STORE_REASSIGN_SAME,
    MM_STORE_REASSIGN_DISABLED
};
enum mm_store_reassign_rc mm_store_reassign(struct mm_store *st, int src, int dst);
void mm_store_set_automove(struct mm_store *st, int mode);
int mm_store_automove(struct mm_store *st);
/* "slabs automove ratio <r>": slab_automove_ratio at run time. */
void mm_store_set_automove_ratio(struct mm_store *st, double ratio);
double mm_store_automove_ratio(struct mm_store *st);

/* "lru_crawler crawl <ids>|all" (bit i: class i; the large items go with
 * the largest class): false while an earlier request runs (BUSY). sleep and
 * tocrawl as "lru_crawler sleep|tocrawl". */
bool mm_store_crawl(struct mm_store *st, uint64_t classes);
void mm_store_crawler_set_sleep(struct mm_store *st, unsigned us);
void mm_store_crawler_set_tocrawl(struct mm_store *st, uint32_t n);
unsigned mm_store_crawler_sleep(struct mm_store *st);
uint32_t mm_store_crawler_tocrawl(struct mm_store *st);

/* Background upkeep: grow hash table shards by up to nbuckets buckets each.
 * Returns true while some shard is still growing. Safe to call from a timer
 * or a maintenance thread at any time; operations also do small steps
 * themselves, so calling it is optional. */
bool mm_store_maintain(struct mm_store *st, unsigned nbuckets);

/* Walk every live item (not expired, not flushed) in small steps, for
 * "lru_crawler metadump". Zero a cursor to start; each call visits hash
 * units until at least max items were reported or a fixed number of units
 * was looked at, and returns false once the walk is complete. An item
 * present for the whole walk is reported exactly once, growth of the table
 * included; items added or removed meanwhile may or may not be. fn runs with
 * a stripe lock held: it must copy what it needs (the key pointer is only
 * valid during the call) and must not call into the store. */
struct mm_store_cursor {
    unsigned shard;
    uint32_t pos;
};
struct mm_store_walk_item {
    const char *key;
    uint8_t nkey;
    bool fetched;
    unsigned cls;         /* slab class id, 0 for large items */
    mm_reltime_t exptime; /* 0 = never */
    mm_reltime_t atime;   /* last access */
    uint64_t cas;
    uint32_t size; /* bytes the item occupies in mmem */
    uint32_t vlen; /* value bytes */
};
typedef void (*mm_store_walk_fn)(void *arg, const struct mm_store_walk_item *wi);
bool mm_store_walk(struct mm_store *st, struct mm_store_cursor *cur, mm_store_walk_fn fn, void *arg,
                   unsigned max);

/* "lru_crawler enable|disable": the crawler thread reclaims only while
 * enabled, and metadump is refused while disabled, as in memcached. set
 * returns the previous state. */
bool mm_store_crawler_set(struct mm_store *st, bool enabled);
bool mm_store_crawler_enabled(struct mm_store *st);

void mm_store_ref(struct mm_store *st, struct mm_item *it);
void mm_store_unref(struct mm_store *st, struct mm_item *it);

/* Stats: emit(arg, name, value) for the "stats" store fields (curr_items,
 * total_items, bytes, evictions, reclaimed, expired_unfetched,
 * evicted_unfetched, hash_power_level, hash_bytes, hash_is_expanding,
 * limit_maxbytes, ...), and for "stats slabs" / "stats items" in memcached's
 * formats ("STAT items:<cls>:<field>" is composed by the caller from the
 * names given here: emit gets e.g. "items:1:number"). */
typedef void (*mm_store_emit_fn)(void *arg, const char *name, const char *value);
void mm_store_stats(struct mm_store *st, mm_store_emit_fn emit, void *arg);

/* The numbers behind mm_store_stats(), for callers that order "stats"
 * themselves. */
struct mm_store_stats {
    uint64_t curr_items;
    uint64_t total_items;
    uint64_t bytes; /* sum of item sizes */
    uint64_t evictions;
    uint64_t reclaimed;
    uint64_t expired_unfetched;
    uint64_t evicted_unfetched;
    uint64_t evicted_active;
    uint64_t outofmemory;
    uint64_t lrutail_reflocked;
    uint64_t limit_maxbytes;
    uint64_t total_malloced; /* slab pages + large items */
    uint64_t malloc_fails;
    uint64_t store_too_large;
    uint64_t store_no_memory;
    uint64_t hash_power_level;
    uint64_t hash_bytes;
    bool hash_is_expanding;
};
void mm_store_stats_get(struct mm_store *st, struct mm_store_stats *out);
void mm_store_stats_slabs(struct mm_store *st, mm_store_emit_fn emit, void *arg);
void mm_store_stats_items(struct mm_store *st, mm_store_emit_fn emit, void *arg);
void mm_store_stats_sizes(struct mm_store *st, mm_store_emit_fn emit, void *arg);
void mm_store_stats_reset(struct mm_store *st);

/* "stats sizes": mm_store_stats_sizes emits "<bytes> <count>" per non-empty
 * 32-byte bucket of memcached's item size while tracking is on, and
 * "sizes_status disabled" while it is off. Enabling at run time counts only
 * items stored from then on, and needs CAS (memcached's rule). */
enum mm_store_sizes_rc {
    MM_STORE_SIZES_ENABLED = 0,
    MM_STORE_SIZES_NO_CAS /* -C: refused */
};
bool mm_store_sizes_enabled(struct mm_store *st);
enum mm_store_sizes_rc mm_store_sizes_enable(struct mm_store *st);
void mm_store_sizes_disable(struct mm_store *st);

#endif
