/* The sharded, lock-striped hash table. Each shard has its own bucket array,
 * stripe locks, item count and growth state, and grows on its own by moving
 * a few buckets per mm_ht_grow_step() call. Items are chained through
 * h_next; buckets and links are 32-bit handles (store/handle_int.h), half
 * the size of pointers. The table never allocates or frees items. */
#include "config.h"

#include "store/ht_int.h"

#include <string.h>

#include "mmem/alloc.h"
#include "store/handle_int.h"
#include "store/item_int.h"

struct ht_shard {
    pthread_mutex_t *stripes;
    uint32_t *buckets; /* 2^power handles; the new array while growing */
    uint32_t *old;     /* 2^(power-1) while growing, else NULL */
    unsigned power;    /* atomic; changes with every stripe held */
    bool expanding;    /* atomic; changes with every stripe held */
    uint64_t cursor;   /* atomic: old buckets below it are moved */
    uint64_t nitems;   /* atomic */
    pthread_mutex_t grow_lock;
} __attribute__((aligned(64)));

struct mm_ht {
    unsigned shard_bits;
    unsigned nshards;
    unsigned stripe_bits;
    uint64_t stripe_mask;
    bool expand; /* atomic */
    mm_ht_hash_fn hash;
    struct mm_item_space sp; /* decodes the handles in buckets and h_next */
    struct ht_shard *shards;
};

/* Bucket arrays come from mm_map: when a growth retires the old array its
 * pages leave the process at once (a malloc block of megabytes stayed
 * resident in the allocator, about 7 bytes per item at 500,000 items). */
static uint32_t *
buckets_alloc(unsigned power)
{
    return mm_map(((size_t)1 << power) * sizeof(uint32_t));
}

static void
buckets_free(uint32_t *b, unsigned power)
{
    mm_unmap(b, ((size_t)1 << power) * sizeof(uint32_t));
}

static inline uint64_t
mask(unsigned bits)
{
    return bits >= 64 ? UINT64_MAX : (((uint64_t)1 << bits) - 1);
}

struct mm_ht *
mm_ht_create(unsigned shard_bits, unsigned hashpower, unsigned stripe_bits, mm_ht_hash_fn hash,
             const struct mm_item_space *sp)
{
    struct mm_ht *ht;
    unsigned i;
    size_t j;

    if (sp == NULL || shard_bits > 8 || stripe_bits > 20 || hashpower > MM_HT_MAX_POWER) {
        return NULL;
    }
    if (hashpower < stripe_bits) {
        hashpower = stripe_bits;
    }
    if (hashpower == 0) {
        hashpower = 1;
    }
    ht = mm_calloc(1, sizeof(*ht));
    ht->shard_bits = shard_bits;
    ht->nshards = 1u << shard_bits;
    ht->stripe_bits = stripe_bits;
    ht->stripe_mask = mask(stripe_bits);
    ht->expand = true;
    ht->hash = hash != NULL ? hash : mm_hash;
    ht->sp = *sp;
    ht->shards = mm_aligned_alloc(64, ht->nshards * sizeof(*ht->shards));
    for (i = 0; i < ht->nshards; i++) {
        struct ht_shard *s = &ht->shards[i];

        memset(s, 0, sizeof(*s));
        s->power = hashpower;
        s->buckets = buckets_alloc(hashpower);
        s->stripes = mm_malloc(((size_t)1 << stripe_bits) * sizeof(*s->stripes));
        for (j = 0; j < ((size_t)1 << stripe_bits); j++) {
            pthread_mutex_init(&s->stripes[j], NULL);
        }
        pthread_mutex_init(&s->grow_lock, NULL);
    }
    return ht;
}

void
mm_ht_destroy(struct mm_ht **htp)
{
    struct mm_ht *ht = *htp;
    unsigned i;
    size_t j;

    if (ht == NULL) {
        return;
    }
    for (i = 0; i < ht->nshards; i++) {
        struct ht_shard *s = &ht->shards[i];

        for (j = 0; j < ((size_t)1 << ht->stripe_bits); j++) {
            pthread_mutex_destroy(&s->stripes[j]);
        }
        pthread_mutex_destroy(&s->grow_lock);
        mm_free(s->stripes);
        buckets_free(s->buckets, s->power);
        buckets_free(s->old, s->power - 1);
    }
    mm_free(ht->shards);
    mm_free(ht);
    *htp = NULL;
}

mm_hash_t
mm_ht_hash(const struct mm_ht *ht, const void *key, size_t nkey)
{
    return ht->hash(key, nkey);
}

unsigned
mm_ht_shard(const struct mm_ht *ht, mm_hash_t h)
{
    return ht->shard_bits == 0 ? 0 : (unsigned)(h >> (64 - ht->shard_bits));
}

unsigned
mm_ht_nshards(const struct mm_ht *ht)
{
    return ht->nshards;
}

unsigned
mm_ht_stripe(const struct mm_ht *ht, mm_hash_t h)
{
    return (unsigned)(h & ht->stripe_mask);
}

static inline pthread_mutex_t *
stripe_of(struct mm_ht *ht, mm_hash_t h)
{
    return &ht->shards[mm_ht_shard(ht, h)].stripes[h & ht->stripe_mask];
}

void
mm_ht_lock(struct mm_ht *ht, mm_hash_t h)
{
    pthread_mutex_lock(stripe_of(ht, h));
}

bool
mm_ht_trylock(struct mm_ht *ht, mm_hash_t h)
{
    return pthread_mutex_trylock(stripe_of(ht, h)) == 0;
}

void
mm_ht_unlock(struct mm_ht *ht, mm_hash_t h)
{
    pthread_mutex_unlock(stripe_of(ht, h));
}

/* The head pointer of h's chain. Caller holds h's stripe: the old bucket
 * of h cannot be moved meanwhile, because moving it needs the same stripe. */
static uint32_t *
chain_locked(struct ht_shard *s, mm_hash_t h)
{
    unsigned power = __atomic_load_n(&s->power, __ATOMIC_RELAXED);

    if (__atomic_load_n(&s->expanding, __ATOMIC_RELAXED)) {
        uint64_t ob = h & mask(power - 1);

        if (ob >= __atomic_load_n(&s->cursor, __ATOMIC_ACQUIRE)) {
            return &s->old[ob];
        }
    }
    return &s->buckets[h & mask(power)];
}

struct mm_item *
mm_ht_find_locked(struct mm_ht *ht, const char *key, size_t nkey, mm_hash_t h)
{
    struct mm_item *it = mm_item_at(&ht->sp, *chain_locked(&ht->shards[mm_ht_shard(ht, h)], h));

    while (it != NULL && !mm_item_key_eq(it, key, nkey)) {
        it = mm_item_at(&ht->sp, it->h_next);
    }
    return it;
}

void
mm_ht_insert_locked(struct mm_ht *ht, struct mm_item *it, mm_hash_t h)
{
    struct ht_shard *s = &ht->shards[mm_ht_shard(ht, h)];
    uint32_t *head = chain_locked(s, h);

    it->h_next = *head;
    *head = mm_item_handle(&ht->sp, it);
    __atomic_fetch_add(&s->nitems, 1, __ATOMIC_RELAXED);
}

bool
mm_ht_remove_locked(struct mm_ht *ht, struct mm_item *it, mm_hash_t h)
{
    struct ht_shard *s = &ht->shards[mm_ht_shard(ht, h)];
    uint32_t *pp = chain_locked(s, h);
    uint32_t hit = mm_item_handle(&ht->sp, it);

    while (*pp != 0 && *pp != hit) {
        pp = &mm_item_at(&ht->sp, *pp)->h_next;
    }
    if (*pp == 0) {
        return false;
    }
    *pp = it->h_next;
    it->h_next = 0;
    __atomic_fetch_sub(&s->nitems, 1, __ATOMIC_RELAXED);
    return true;
}

static void
lock_all(struct mm_ht *ht, struct ht_shard *s)
{
    size_t j;

    /* Index order; nobody else ever holds two stripes, so this cannot
     * deadlock against ordinary operations. */
    for (j = 0; j < ((size_t)1 << ht->stripe_bits); j++) {
        pthread_mutex_lock(&s->stripes[j]);
    }
}

static void
unlock_all(struct mm_ht *ht, struct ht_shard *s)
{
    size_t j;

    for (j = 0; j < ((size_t)1 << ht->stripe_bits); j++) {
        pthread_mutex_unlock(&s->stripes[j]);
    }
}

static bool
overloaded(const struct mm_ht *ht, struct ht_shard *s)
{
    unsigned power = __atomic_load_n(&s->power, __ATOMIC_RELAXED);
    uint64_t n = __atomic_load_n(&s->nitems, __ATOMIC_RELAXED);

    return __atomic_load_n(&ht->expand, __ATOMIC_RELAXED) && power < MM_HT_MAX_POWER &&
           n > (((uint64_t)1 << power) * 3) / 2;
}

bool
mm_ht_grow_wanted(struct mm_ht *ht, unsigned shard)
{
    struct ht_shard *s = &ht->shards[shard];

    return __atomic_load_n(&s->expanding, __ATOMIC_RELAXED) || overloaded(ht, s);
}

static void
start_growth(struct mm_ht *ht, struct ht_shard *s)
{
    unsigned power = __atomic_load_n(&s->power, __ATOMIC_RELAXED);
    /* Allocate before taking the stripes so no operation waits on it. */
    uint32_t *nb = buckets_alloc(power + 1);

    lock_all(ht, s);
    s->old = s->buckets;
    s->buckets = nb;
    __atomic_store_n(&s->cursor, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&s->power, power + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&s->expanding, true, __ATOMIC_RELAXED);
    unlock_all(ht, s);
}

static void
finish_growth(struct mm_ht *ht, struct ht_shard *s)
{
    uint32_t *old;

    lock_all(ht, s);
    old = s->old;
    s->old = NULL;
    __atomic_store_n(&s->expanding, false, __ATOMIC_RELAXED);
    unlock_all(ht, s);
    buckets_free(old, __atomic_load_n(&s->power, __ATOMIC_RELAXED) - 1);
}

/* Move old bucket b into the new array. Both halves b and b + 2^(power-1)
 * share b's stripe, which we hold. */
static void
move_bucket(struct mm_ht *ht, struct ht_shard *s, uint64_t b)
{
    pthread_mutex_t *lock = &s->stripes[b & ht->stripe_mask];
    unsigned power = __atomic_load_n(&s->power, __ATOMIC_RELAXED);
    uint32_t cur;

    pthread_mutex_lock(lock);
    cur = s->old[b];
    while (cur != 0) {
        struct mm_item *it = mm_item_at(&ht->sp, cur);
        uint32_t next = it->h_next;
        mm_hash_t h = ht->hash(mm_item_key(it), it->nkey);
        uint32_t *head = &s->buckets[h & mask(power)];

        it->h_next = *head;
        *head = cur;
        cur = next;
    }
    s->old[b] = 0;
    __atomic_store_n(&s->cursor, b + 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(lock);
}

bool
mm_ht_grow_step(struct mm_ht *ht, unsigned shard, unsigned nbuckets)
{
    struct ht_shard *s = &ht->shards[shard];
    bool more;

    if (pthread_mutex_trylock(&s->grow_lock) != 0) {
        return true;
    }
    if (!__atomic_load_n(&s->expanding, __ATOMIC_RELAXED)) {
        if (overloaded(ht, s)) {
            start_growth(ht, s);
        }
    } else {
        uint64_t oldsize = (uint64_t)1 << (__atomic_load_n(&s->power, __ATOMIC_RELAXED) - 1);
        uint64_t b = __atomic_load_n(&s->cursor, __ATOMIC_RELAXED);
        unsigned i;

        for (i = 0; i < nbuckets && b < oldsize; i++, b++) {
            move_bucket(ht, s, b);
        }
        if (b == oldsize) {
            finish_growth(ht, s);
        }
    }
    more = __atomic_load_n(&s->expanding, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&s->grow_lock);
    return more;
}

void
mm_ht_set_expand(struct mm_ht *ht, bool enabled)
{
    __atomic_store_n(&ht->expand, enabled, __ATOMIC_RELAXED);
}

uint64_t
mm_ht_count(const struct mm_ht *ht)
{
    uint64_t n = 0;
    unsigned i;

    for (i = 0; i < ht->nshards; i++) {
        n += __atomic_load_n(&ht->shards[i].nitems, __ATOMIC_RELAXED);
    }
    return n;
}

static uint32_t
rev32(uint32_t v)
{
    v = ((v >> 1) & 0x55555555u) | ((v & 0x55555555u) << 1);
    v = ((v >> 2) & 0x33333333u) | ((v & 0x33333333u) << 2);
    v = ((v >> 4) & 0x0f0f0f0fu) | ((v & 0x0f0f0f0fu) << 4);
    v = ((v >> 8) & 0x00ff00ffu) | ((v & 0x00ff00ffu) << 8);
    return (v >> 16) | (v << 16);
}

static void
walk_chain(const struct mm_item_space *sp, uint32_t h, mm_ht_walk_fn fn, void *arg)
{
    const struct mm_item *it;

    for (it = mm_item_at(sp, h); it != NULL; it = mm_item_at(sp, it->h_next)) {
        fn(arg, it);
    }
}

bool
mm_ht_walk_unit(struct mm_ht *ht, unsigned shard, uint32_t *pos, mm_ht_walk_fn fn, void *arg)
{
    struct ht_shard *s = &ht->shards[shard];
    uint32_t v = *pos;
    /* Levels never drop below stripe_bits, so the unit's stripe is known
     * before the level is read; power, expanding and this unit's part of
     * the growth cursor only change with this stripe held. */
    pthread_mutex_t *lock = &s->stripes[v & ht->stripe_mask];
    unsigned power;
    unsigned level;
    uint32_t u;

    pthread_mutex_lock(lock);
    power = __atomic_load_n(&s->power, __ATOMIC_RELAXED);
    level = power;
    if (__atomic_load_n(&s->expanding, __ATOMIC_RELAXED)) {
        level = power - 1;
        u = v & (uint32_t)mask(level);
        if (u >= __atomic_load_n(&s->cursor, __ATOMIC_ACQUIRE)) {
            walk_chain(&ht->sp, s->old[u], fn, arg);
        } else {
            walk_chain(&ht->sp, s->buckets[u], fn, arg);
            walk_chain(&ht->sp, s->buckets[u + ((uint64_t)1 << level)], fn, arg);
        }
    } else {
        u = v & (uint32_t)mask(level);
        walk_chain(&ht->sp, s->buckets[u], fn, arg);
    }
    pthread_mutex_unlock(lock);

    /* Next unit: increment the reversed low `level` bits. */
    v |= ~(uint32_t)mask(level);
    v = rev32(rev32(v) + 1);
    *pos = v;
    return v == 0;
}

void
mm_ht_stats(struct mm_ht *ht, struct mm_ht_stats *out)
{
    unsigned i;
    unsigned maxp = 0;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < ht->nshards; i++) {
        struct ht_shard *s = &ht->shards[i];
        unsigned p = __atomic_load_n(&s->power, __ATOMIC_RELAXED);

        if (p > maxp) {
            maxp = p;
        }
        out->bytes += ((uint64_t)1 << p) * sizeof(uint32_t);
        if (__atomic_load_n(&s->expanding, __ATOMIC_RELAXED)) {
            out->expanding = true;
        }
    }
    out->power = maxp + ht->shard_bits;
}

static bool
item_ok(struct mm_ht *ht, unsigned shard, const struct mm_item *it, uint64_t bucket, unsigned bits)
{
    mm_hash_t h = ht->hash(mm_item_key(it), it->nkey);

    return mm_ht_shard(ht, h) == shard && (h & mask(bits)) == bucket &&
           (h & ht->stripe_mask) == (bucket & ht->stripe_mask);
}

long
mm_ht_verify(struct mm_ht *ht, unsigned shard)
{
    struct ht_shard *s = &ht->shards[shard];
    long n = 0;
    uint64_t b;
    unsigned power;
    bool expanding;
    uint64_t cursor;

    pthread_mutex_lock(&s->grow_lock);
    lock_all(ht, s);
    power = s->power;
    expanding = s->expanding;
    cursor = s->cursor;
    for (b = 0; b < ((uint64_t)1 << power) && n >= 0; b++) {
        const struct mm_item *it;

        for (it = mm_item_at(&ht->sp, s->buckets[b]); it != NULL;
             it = mm_item_at(&ht->sp, it->h_next)) {
            /* A new bucket is populated only once its old bucket moved. */
            if ((expanding && (b & mask(power - 1)) >= cursor) ||
                !item_ok(ht, shard, it, b, power)) {
                n = -1;
                break;
            }
            n++;
        }
    }
    if (expanding) {
        for (b = 0; b < ((uint64_t)1 << (power - 1)) && n >= 0; b++) {
            const struct mm_item *it;

            for (it = mm_item_at(&ht->sp, s->old[b]); it != NULL;
                 it = mm_item_at(&ht->sp, it->h_next)) {
                if (b < cursor || !item_ok(ht, shard, it, b, power - 1)) {
                    n = -1;
                    break;
                }
                n++;
            }
        }
    }
    if (n >= 0 && (uint64_t)n != s->nitems) {
        n = -1;
    }
    unlock_all(ht, s);
    pthread_mutex_unlock(&s->grow_lock);
    return n;
}

void
mm_ht_shard_state(struct mm_ht *ht, unsigned shard, unsigned *power, bool *expanding,
                  uint64_t *cursor)
{
    struct ht_shard *s = &ht->shards[shard];

    *power = __atomic_load_n(&s->power, __ATOMIC_RELAXED);
    *expanding = __atomic_load_n(&s->expanding, __ATOMIC_RELAXED);
    *cursor = __atomic_load_n(&s->cursor, __ATOMIC_RELAXED);
}
