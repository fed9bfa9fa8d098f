/* Per-prefix get/hit/set/delete counters ("stats detail"). A fixed table of
 * 256 chained buckets under one mutex, capped in entries so a client
 * inventing prefixes cannot grow it without bound. The bucket of a prefix
 * and the order within a bucket follow memcached so "stats detail dump"
 * lists the same lines in the same order. */
#include "config.h"

#include "mmem/prefix.h"

#include "mmem/alloc.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define BUCKETS 256u
/* "PREFIX " + prefix (< 250 bytes) + four 20-digit counters and labels. */
#define LINE_MAX_LEN 400u

struct entry {
    struct entry *next;
    uint64_t get, hit, set, del;
    size_t len;
    char name[];
};

struct mm_prefix {
    pthread_mutex_t lock;
    char delim;
    bool enabled; /* atomic: read without the lock on every request */
    size_t max;
    size_t count; /* lock */
    struct entry *bucket[BUCKETS];
};

struct mm_prefix *
mm_prefix_create(char delimiter, bool enabled, size_t max_prefixes)
{
    struct mm_prefix *p = mm_calloc(1, sizeof(*p));

    pthread_mutex_init(&p->lock, NULL);
    p->delim = delimiter;
    p->enabled = enabled;
    p->max = max_prefixes != 0 ? max_prefixes : MM_PREFIX_MAX_DEFAULT;
    return p;
}

void
mm_prefix_destroy(struct mm_prefix **pp)
{
    struct mm_prefix *p = *pp;

    if (p == NULL) {
        return;
    }
    mm_prefix_clear(p);
    pthread_mutex_destroy(&p->lock);
    mm_free(p);
    *pp = NULL;
}

void
mm_prefix_set_enabled(struct mm_prefix *p, bool on)
{
    __atomic_store_n(&p->enabled, on, __ATOMIC_RELAXED);
}

bool
mm_prefix_enabled(const struct mm_prefix *p)
{
    return __atomic_load_n(&p->enabled, __ATOMIC_RELAXED);
}

static uint32_t
rotl32(uint32_t x, unsigned r)
{
    return (x << r) | (x >> (32 - r));
}

static uint32_t
mix_k(uint32_t k)
{
    k *= 0xcc9e2d51u;
    k = rotl32(k, 15);
    return k * 0x1b873593u;
}

uint32_t
mm_prefix_hash(const char *data, size_t len)
{
    const unsigned char *b = (const unsigned char *)data;
    size_t nblocks = len / 4;
    uint32_t h = 0;
    uint32_t k = 0;
    size_t i;

    for (i = 0; i < nblocks; i++) {
        const unsigned char *q = b + 4 * i;

        k = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
        h ^= mix_k(k);
        h = rotl32(h, 13) * 5u + 0xe6546b64u;
    }
    b += 4 * nblocks;
    k = 0;
    switch (len & 3u) {
    case 3:
        k ^= (uint32_t)b[2] << 16;
        /* fall through */
    case 2:
        k ^= (uint32_t)b[1] << 8;
        /* fall through */
    case 1:
        k ^= b[0];
        h ^= mix_k(k);
        break;
    default:
        break;
    }
    h ^= (uint32_t)len;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

/* The entry for name, created (at the head of its bucket, as memcached
 * links it) when there is room; NULL when the table is full. Needs lock. */
static struct entry *
find_or_add_locked(struct mm_prefix *p, const char *name, size_t len)
{
    struct entry **head = &p->bucket[mm_prefix_hash(name, len) % BUCKETS];
    struct entry *e;

    for (e = *head; e != NULL; e = e->next) {
        if (e->len == len && memcmp(e->name, name, len) == 0) {
            return e;
        }
    }
    if (p->count >= p->max) {
        return NULL;
    }
    e = mm_calloc(1, sizeof(*e) + len);
    memcpy(e->name, name, len);
    e->len = len;
    e->next = *head;
    *head = e;
    p->count++;
    return e;
}

void
mm_prefix_record(struct mm_prefix *p, const char *key, size_t nkey, enum mm_prefix_op op)
{
    const char *d;
    struct entry *e;

    if (!mm_prefix_enabled(p)) {
        return;
    }
    d = memchr(key, p->delim, nkey);
    if (d == NULL) {
        return;
    }
    pthread_mutex_lock(&p->lock);
    e = find_or_add_locked(p, key, (size_t)(d - key));
    if (e != NULL) {
        switch (op) {
        case MM_PREFIX_HIT:
            /* A hit is a get too. */
            e->hit++;
            /* fall through */
        case MM_PREFIX_GET:
            e->get++;
            break;
        case MM_PREFIX_SET:
            e->set++;
            break;
        case MM_PREFIX_DELETE:
            e->del++;
            break;
        }
    }
    pthread_mutex_unlock(&p->lock);
}

void
mm_prefix_clear(struct mm_prefix *p)
{
    unsigned i;

    pthread_mutex_lock(&p->lock);
    for (i = 0; i < BUCKETS; i++) {
        struct entry *e = p->bucket[i];

        while (e != NULL) {
            struct entry *next = e->next;

            mm_free(e);
            e = next;
        }
        p->bucket[i] = NULL;
    }
    p->count = 0;
    pthread_mutex_unlock(&p->lock);
}

size_t
mm_prefix_count(struct mm_prefix *p)
{
    size_t n;

    pthread_mutex_lock(&p->lock);
    n = p->count;
    pthread_mutex_unlock(&p->lock);
    return n;
}

void
mm_prefix_dump(struct mm_prefix *p, mm_prefix_line_fn line, void *arg)
{
    char buf[LINE_MAX_LEN];
    unsigned i;

    pthread_mutex_lock(&p->lock);
    for (i = 0; i < BUCKETS; i++) {
        const struct entry *e;

        for (e = p->bucket[i]; e != NULL; e = e->next) {
            int n = snprintf(buf, sizeof(buf),
                             "PREFIX %.*s get %llu hit %llu set %llu del %llu\r\n", (int)e->len,
                             e->name, (unsigned long long)e->get, (unsigned long long)e->hit,
                             (unsigned long long)e->set, (unsigned long long)e->del);

            if (n > 0) {
                line(arg, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
            }
        }
    }
    pthread_mutex_unlock(&p->lock);
}
