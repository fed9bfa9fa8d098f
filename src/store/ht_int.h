#ifndef MMEM_STORE_HT_INT_H
#define MMEM_STORE_HT_INT_H

/* The sharded, lock-striped hash table with online growth.
 *
 * Bits of the 64-bit hash h:
 *   shard  = h >> (64 - shard_bits)            (top bits)
 *   bucket = h & mask(hashpower of the shard)  (low bits)
 *   stripe = h & mask(stripe_bits)             (low bits, stripe_bits <= hashpower)
 *
 * Growth doubles one shard's bucket array in small steps: old bucket b is
 * split into new buckets b and b + 2^old_power. Both have the same low
 * stripe_bits as b, so one stripe lock covers the old bucket and both halves,
 * and every *_locked call sees a consistent bucket whether or not it has been
 * moved yet. Only the start and the end of a growth (swapping the arrays)
 * take all stripe locks of the shard, in index order.
 *
 * The table never frees items; it only links them through h_next, by
 * 32-bit handle. */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmem/hash.h"

struct mm_item;
struct mm_item_space;
struct mm_ht;

typedef mm_hash_t (*mm_ht_hash_fn)(const void *key, size_t nkey);

/* Largest per-shard hashpower growth will reach. */
#define MM_HT_MAX_POWER 32u
#define MM_HT_DEFAULT_STRIPE_BITS 10u

/* hashpower is the initial log2(buckets) of each shard (at least
 * stripe_bits, raised if lower). hash may be NULL for mm_hash(); growth uses
 * it to recompute an item's hash from its key. sp (copied) decodes the
 * handles of the items that will be stored: every item must come from its
 * slab. Aborts on allocation failure, returns NULL for shard_bits > 8 or a
 * NULL sp. */
struct mm_ht *mm_ht_create(unsigned shard_bits, unsigned hashpower, unsigned stripe_bits,
                           mm_ht_hash_fn hash, const struct mm_item_space *sp);
/* Frees the table, not the items in it. */
void mm_ht_destroy(struct mm_ht **ht);

mm_hash_t mm_ht_hash(const struct mm_ht *ht, const void *key, size_t nkey);
unsigned mm_ht_shard(const struct mm_ht *ht, mm_hash_t h);
unsigned mm_ht_nshards(const struct mm_ht *ht);
unsigned mm_ht_stripe(const struct mm_ht *ht, mm_hash_t h);

void mm_ht_lock(struct mm_ht *ht, mm_hash_t h);
/* For the eviction sweep, which holds a clock hand's lock: never blocks. */
bool mm_ht_trylock(struct mm_ht *ht, mm_hash_t h);
void mm_ht_unlock(struct mm_ht *ht, mm_hash_t h);

/* The caller holds the stripe lock of h on every *_locked call. */
struct mm_item *mm_ht_find_locked(struct mm_ht *ht, const char *key, size_t nkey, mm_hash_t h);
/* it must not be in the table (no duplicate-key check). */
void mm_ht_insert_locked(struct mm_ht *ht, struct mm_item *it, mm_hash_t h);
/* false if it was not found. */
bool mm_ht_remove_locked(struct mm_ht *ht, struct mm_item *it, mm_hash_t h);

/* One growth step for a shard; the caller holds no stripe lock of that
 * shard. Starts a growth when the shard holds more than 1.5 items per bucket
 * (and growth is enabled), else moves up to nbuckets old buckets, finishing
 * the growth after the last one. Returns true while a growth is in progress.
 * Concurrent callers on one shard do not wait: all but one return at once. */
bool mm_ht_grow_step(struct mm_ht *ht, unsigned shard, unsigned nbuckets);
/* Cheap check (no lock): a step on this shard would do something. */
bool mm_ht_grow_wanted(struct mm_ht *ht, unsigned shard);
void mm_ht_set_expand(struct mm_ht *ht, bool enabled);

uint64_t mm_ht_count(const struct mm_ht *ht);

/* Walk one unit of a shard: every item whose hash has the low bits the
 * cursor *pos names, at the finest level the shard can give consistently
 * under one stripe lock (its bucket, or its old bucket while growing). fn
 * runs for each item with that stripe held. *pos is a bit-reversed counter
 * (the scheme of Redis' SCAN): because growth only splits buckets by one
 * more high bit, units visited before a growth cover exactly the units that
 * come before *pos after it, so an item present throughout is seen once.
 * Start with *pos = 0; returns true when the shard is done (*pos is back at
 * 0). */
typedef void (*mm_ht_walk_fn)(void *arg, const struct mm_item *it);
bool mm_ht_walk_unit(struct mm_ht *ht, unsigned shard, uint32_t *pos, mm_ht_walk_fn fn, void *arg);

struct mm_ht_stats {
    unsigned power; /* log2 of total buckets (max shard power + shard bits) */
    uint64_t bytes; /* bucket array bytes (new arrays during growth) */
    bool expanding; /* some shard is growing */
};
void mm_ht_stats(struct mm_ht *ht, struct mm_ht_stats *out);

/* Test aid: with every stripe of the shard held, check that each item sits
 * in the bucket its hash selects (old or new array as the growth cursor
 * says) and under the stripe its hash selects. Returns the number of items
 * seen, or -1 on the first violation. */
long mm_ht_verify(struct mm_ht *ht, unsigned shard);
/* Test aid: the shard's current power and growth cursor. */
void mm_ht_shard_state(struct mm_ht *ht, unsigned shard, unsigned *power, bool *expanding,
                       uint64_t *cursor);

#endif
