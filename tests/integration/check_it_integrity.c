/* Integrity under concurrency: writer and reader threads, over text and
 * binary connections, share a key set on a -t 4 server. Every value carries
 * its key, a generation and a checksum, and every read is checked against a
 * log of the writes: no corrupted value, no value from another key, no read
 * older than a write acknowledged before it was sent. With nothing evicted,
 * each key ends at its last acknowledged write; append/prepend and incr
 * keys, each with an exact oracle, are mixed in. */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "it_load.h"
#include "server.h"
#include "tcheck.h"

#define NKEYS 64
#define NCTRS 4
#define NWRITERS 4
#define NREADERS 4
#define MIN_LEN 1
#define MAX_LEN (200 * 1024)
#define RUN_MS 8000
#define WRITER_OPS 8000
#define READER_OPS 16000
#define REC_LEN 16

/* The value of (key, gen, len) is the first len bytes of
 * "K<key>G<gen>L<len>C<fnv of the body>|" followed by a body drawn from a
 * stream seeded by key and gen. Values shorter than the header are known
 * only by comparing them with the logged writes of the same length. */
#define HDR_LEN 42

/* Binary protocol opcodes used here. */
#define OP_GET 0x00
#define OP_SET 0x01
#define OP_INCR 0x05
#define OP_APPEND 0x0e
#define OP_PREPEND 0x0f

static struct mm_tserver srv;

/* ---- the oracle --------------------------------------------------------- */

struct wrec {
    uint32_t len;
    uint64_t send_t; /* ticket taken before the request was sent */
    uint64_t ack_t;  /* ticket taken once STORED came back; 0 before */
};

struct keylog {
    pthread_mutex_t lock;
    struct wrec *w; /* w[gen - 1] */
    size_t n;
    size_t cap;
};

struct rrec {
    uint16_t key;
    uint8_t slen;        /* a value shorter than the header: its length... */
    char sdata[HDR_LEN]; /* ...and bytes, as several writes may match */
    uint64_t gen;        /* 0: a miss */
    uint64_t rs;         /* ticket before the get was sent */
    uint64_t ra;         /* ticket after the reply was read */
};

/* Per append/prepend key (one per writer, written only by it) and per
 * counter: requests sent and acknowledged, as atomics. */
struct counted {
    uint64_t sent;
    uint64_t acked;
};

struct world {
    uint64_t ticket; /* atomic: orders events across threads */
    struct keylog keys[NKEYS];
    struct counted app[NWRITERS];
    struct counted pre[NWRITERS];
    struct counted ctr[NCTRS];
    double end_ms;
};

static struct world *world;

struct thr {
    pthread_t tid;
    int id;
    bool binary;
    long ops;
    long sets;
    long gets;
    long hits;
    long appends;
    long incrs;
    long corrupt;
    struct rrec *reads;
    size_t nreads;
    char err[256];
};

static uint64_t
ticket(void)
{
    return __atomic_add_fetch(&world->ticket, 1, __ATOMIC_SEQ_CST);
}

static uint64_t
fnv64(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t i;

    for (i = 0; i < n; i++) {
        h = (h ^ b[i]) * 0x100000001b3ULL;
    }
    return h;
}

/* Writes the value of (key, gen, len) into buf (len bytes). */
static void
make_value(char *buf, unsigned key, uint64_t gen, size_t len)
{
    uint64_t s = (gen * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)key << 32) ^ 0x5bd1e995ULL;
    char hdr[HDR_LEN + 1];
    size_t i;

    for (i = HDR_LEN; i < len; i++) {
        /* Any byte, "\r\n" included: framing must not depend on content. */
        buf[i] = (char)(it_rng_next(&s) >> 56);
    }
    snprintf(hdr, sizeof(hdr), "K%05uG%010lluL%06zuC%016llx|", key, (unsigned long long)gen, len,
             (unsigned long long)fnv64(buf + HDR_LEN, len > HDR_LEN ? len - HDR_LEN : 0));
    memcpy(buf, hdr, len < HDR_LEN ? len : HDR_LEN);
}

/* Which logged write of key produced data (len bytes)? Its generation, or
 * 0 if none did: a corrupted read. scratch holds MAX_LEN bytes. */
static uint64_t
identify(unsigned key, const char *data, size_t len, char *scratch)
{
    struct keylog *kl = &world->keys[key];
    uint64_t found = 0;
    size_t i;

    if (len >= HDR_LEN) {
        unsigned k;
        unsigned long long g;
        size_t l;
        unsigned long long sum;

        /* Self-checking first (right key, length and checksum), then the
         * exact bytes of that logged write. */
        if (data[HDR_LEN - 1] != '|' ||
            sscanf(data, "K%5uG%10lluL%6zuC%16llx", &k, &g, &l, &sum) != 4 || k != key ||
            l != len || sum != fnv64(data + HDR_LEN, len - HDR_LEN)) {
            return 0;
        }
        pthread_mutex_lock(&kl->lock);
        if (g >= 1 && g <= kl->n && kl->w[g - 1].len == len) {
            found = g;
        }
        pthread_mutex_unlock(&kl->lock);
        if (found != 0) {
            make_value(scratch, key, found, len);
            if (memcmp(scratch, data, len) != 0) {
                found = 0;
            }
        }
        return found;
    }
    pthread_mutex_lock(&kl->lock);
    for (i = kl->n; i > 0 && found == 0; i--) {
        if (kl->w[i - 1].len == len) {
            make_value(scratch, key, i, len);
            if (memcmp(scratch, data, len) == 0) {
                found = i;
            }
        }
    }
    pthread_mutex_unlock(&kl->lock);
    return found;
}

/* An append/prepend record: writer, sequence number and a check. */
static void
make_rec(char *buf, char kind, unsigned w, unsigned seq)
{
    char tmp[REC_LEN + 1];
    unsigned ck = (unsigned)(fnv64(&seq, sizeof(seq)) ^ w) & 0xffffu;

    snprintf(tmp, sizeof(tmp), "%c%02u%08u%04x;", kind, w, seq, ck);
    memcpy(buf, tmp, REC_LEN);
}

/* ---- protocol helpers --------------------------------------------------- */

static void
put_be(unsigned char *p, uint64_t v, int n)
{
    int i;

    for (i = n - 1; i >= 0; i--) {
        p[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t
get_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* Send one binary request; buf must hold 24 + extlen + key + value. */
static bool
bin_send(struct mm_tclient *c, char *buf, uint8_t op, const void *ext, size_t extlen,
         const char *key, const void *val, size_t vlen)
{
    unsigned char *h = (unsigned char *)buf;
    size_t klen = strlen(key);
    size_t body = extlen + klen + vlen;

    memset(h, 0, 24);
    h[0] = 0x80;
    h[1] = op;
    put_be(h + 2, klen, 2);
    h[4] = (unsigned char)extlen;
    put_be(h + 8, body, 4);
    put_be(h + 12, 0xabcd, 4);
    if (extlen > 0) {
        memcpy(buf + 24, ext, extlen);
    }
    memcpy(buf + 24 + extlen, key, klen);
    if (vlen > 0) {
        memcpy(buf + 24 + extlen + klen, val, vlen);
    }
    return mm_tclient_send(c, buf, 24 + body) == 0;
}

/* Read one binary response. Returns its status, or -1 on a broken reply;
 * *val (malloc'd) and *vlen get the value (after extras and key). */
static int
bin_recv(struct mm_tclient *c, uint8_t op, char **val, size_t *vlen)
{
    char *h = mm_tclient_read_n(c, 24);
    const unsigned char *u = (const unsigned char *)h;
    size_t body;
    size_t skip;
    int status;
    char *b;

    *val = NULL;
    *vlen = 0;
    if (h == NULL || u[0] != 0x81 || u[1] != op || get_be(u + 12, 4) != 0xabcd) {
        free(h);
        return -1;
    }
    status = (int)get_be(u + 6, 2);
    body = (size_t)get_be(u + 8, 4);
    skip = (size_t)get_be(u + 2, 2) + u[4];
    free(h);
    if (skip > body) {
        return -1;
    }
    b = mm_tclient_read_n(c, body);
    if (b == NULL) {
        return -1;
    }
    *vlen = body - skip;
    *val = malloc(*vlen + 1);
    memcpy(*val, b + skip, *vlen);
    free(b);
    return status;
}

/* get key (text or binary): 1 hit (*val, *vlen), 0 miss, -1 broken. */
static int
do_get(struct thr *t, struct mm_tclient *c, char *buf, const char *key, char **val, size_t *vlen)
{
    char *line;
    char head[64];
    unsigned long len;
    int n;

    *val = NULL;
    if (t->binary) {
        int st;

        if (!bin_send(c, buf, OP_GET, NULL, 0, key, NULL, 0)) {
            return -1;
        }
        st = bin_recv(c, OP_GET, val, vlen);
        if (st == 0) {
            return 1;
        }
        free(*val);
        *val = NULL;
        return st == 1 ? 0 : -1;
    }
    n = snprintf(buf, 80, "get %s\r\n", key);
    if (mm_tclient_send(c, buf, (size_t)n) != 0 || (line = mm_tclient_read_line(c)) == NULL) {
        return -1;
    }
    if (strcmp(line, "END\r\n") == 0) {
        free(line);
        return 0;
    }
    n = snprintf(head, sizeof(head), "VALUE %s 0 ", key);
    if (strncmp(line, head, (size_t)n) != 0 || sscanf(line + n, "%lu", &len) != 1) {
        free(line);
        return -1;
    }
    free(line);
    *val = mm_tclient_read_n(c, len + 2);
    if (*val == NULL || memcmp(*val + len, "\r\n", 2) != 0 || !mm_tclient_expect(c, "END\r\n")) {
        free(*val);
        *val = NULL;
        return -1;
    }
    *vlen = len;
    return 1;
}

/* A storage command (set/append/prepend) acknowledged as stored? */
static bool
do_store(struct thr *t, struct mm_tclient *c, char *buf, const char *cmd, uint8_t op,
         const char *key, const char *data, size_t len)
{
    if (t->binary) {
        unsigned char ext[8] = {0};
        char *v;
        size_t vl;
        int st;

        if (!bin_send(c, buf, op, ext, op == OP_SET ? 8 : 0, key, data, len)) {
            return false;
        }
        st = bin_recv(c, op, &v, &vl);
        free(v);
        return st == 0;
    }
    {
        int n = sprintf(buf, "%s %s 0 0 %zu\r\n", cmd, key, len);

        memcpy(buf + n, data, len);
        memcpy(buf + n + len, "\r\n", 2);
        return mm_tclient_send(c, buf, (size_t)n + len + 2) == 0 &&
               mm_tclient_expect(c, "STORED\r\n");
    }
}

/* incr key by 1: the new value, or -1. */
static long long
do_incr(struct thr *t, struct mm_tclient *c, char *buf, const char *key)
{
    if (t->binary) {
        unsigned char ext[20];
        char *v;
        size_t vl;
        long long r = -1;

        put_be(ext, 1, 8);
        put_be(ext + 8, 0, 8);
        put_be(ext + 16, 0xffffffffu, 4);
        if (!bin_send(c, buf, OP_INCR, ext, sizeof(ext), key, NULL, 0)) {
            return -1;
        }
        if (bin_recv(c, OP_INCR, &v, &vl) == 0 && vl == 8) {
            r = (long long)get_be((unsigned char *)v, 8);
        }
        free(v);
        return r;
    }
    {
        int n = snprintf(buf, 80, "incr %s 1\r\n", key);
        char *line;
        long long r = -1;

        if (mm_tclient_send(c, buf, (size_t)n) != 0 || (line = mm_tclient_read_line(c)) == NULL) {
            return -1;
        }
        if (line[0] >= '0' && line[0] <= '9') {
            r = strtoll(line, NULL, 10);
        }
        free(line);
        return r;
    }
}

/* ---- writers ------------------------------------------------------------ */

static bool
write_key(struct thr *t, struct mm_tclient *c, char *buf, char *val, uint64_t *rng)
{
    unsigned key = (unsigned)(it_rng_next(rng) % NKEYS);
    struct keylog *kl = &world->keys[key];
    size_t len = it_rng_len(rng, MIN_LEN, MAX_LEN);
    char name[16];
    uint64_t gen;

    pthread_mutex_lock(&kl->lock);
    if (kl->n == kl->cap) {
        kl->cap = kl->cap ? kl->cap * 2 : 64;
        kl->w = realloc(kl->w, kl->cap * sizeof(*kl->w));
    }
    gen = ++kl->n;
    kl->w[gen - 1].len = (uint32_t)len;
    kl->w[gen - 1].ack_t = 0;
    kl->w[gen - 1].send_t = ticket();
    pthread_mutex_unlock(&kl->lock);

    make_value(val, key, gen, len);
    snprintf(name, sizeof(name), "ik%u", key);
    if (!do_store(t, c, buf, "set", OP_SET, name, val, len)) {
        snprintf(t->err, sizeof(t->err), "set %s gen %llu (%zu bytes) not stored", name,
                 (unsigned long long)gen, len);
        return false;
    }
    pthread_mutex_lock(&kl->lock);
    kl->w[gen - 1].ack_t = ticket();
    pthread_mutex_unlock(&kl->lock);
    t->sets++;
    return true;
}

static bool
write_rec(struct thr *t, struct mm_tclient *c, char *buf, bool prepend)
{
    struct counted *cn = prepend ? &world->pre[t->id] : &world->app[t->id];
    unsigned seq = (unsigned)__atomic_load_n(&cn->sent, __ATOMIC_SEQ_CST);
    char name[16];
    char rec[REC_LEN];

    snprintf(name, sizeof(name), "%s%d", prepend ? "pp" : "ap", t->id);
    make_rec(rec, prepend ? 'p' : 'a', (unsigned)t->id, seq);
    __atomic_add_fetch(&cn->sent, 1, __ATOMIC_SEQ_CST);
    if (!do_store(t, c, buf, prepend ? "prepend" : "append", prepend ? OP_PREPEND : OP_APPEND, name,
                  rec, REC_LEN)) {
        snprintf(t->err, sizeof(t->err), "%s %s #%u not stored", prepend ? "prepend" : "append",
                 name, seq);
        return false;
    }
    __atomic_add_fetch(&cn->acked, 1, __ATOMIC_SEQ_CST);
    t->appends++;
    return true;
}

static bool
write_incr(struct thr *t, struct mm_tclient *c, char *buf, uint64_t *rng)
{
    unsigned j = (unsigned)(it_rng_next(rng) % NCTRS);
    char name[16];

    snprintf(name, sizeof(name), "ct%u", j);
    __atomic_add_fetch(&world->ctr[j].sent, 1, __ATOMIC_SEQ_CST);
    if (do_incr(t, c, buf, name) < 1) {
        snprintf(t->err, sizeof(t->err), "incr %s failed", name);
        return false;
    }
    __atomic_add_fetch(&world->ctr[j].acked, 1, __ATOMIC_SEQ_CST);
    t->incrs++;
    return true;
}

static void *
writer_main(void *arg)
{
    struct thr *t = arg;
    uint64_t rng = 0xD1B54A32D192ED03ULL * (uint64_t)(t->id + 1);
    char *buf = malloc(MAX_LEN + 256);
    char *val = malloc(MAX_LEN);
    struct mm_tclient c;

    if (buf == NULL || val == NULL || mm_tclient_connect(&c, srv.host, srv.port) != 0) {
        snprintf(t->err, sizeof(t->err), "setup failed");
        free(buf);
        free(val);
        return NULL;
    }
    for (t->ops = 0; t->ops < WRITER_OPS && it_now_ms() < world->end_ms; t->ops++) {
        unsigned r = (unsigned)(it_rng_next(&rng) % 10);
        bool ok;

        if (r < 7) {
            ok = write_key(t, &c, buf, val, &rng);
        } else if (r < 9) {
            ok = write_rec(t, &c, buf, r == 8);
        } else {
            ok = write_incr(t, &c, buf, &rng);
        }
        if (!ok) {
            break;
        }
    }
    mm_tclient_close(&c);
    free(buf);
    free(val);
    return NULL;
}

/* ---- readers ------------------------------------------------------------ */

static bool
read_key(struct thr *t, struct mm_tclient *c, char *buf, char *scratch, uint64_t *rng)
{
    unsigned key = (unsigned)(it_rng_next(rng) % NKEYS);
    struct rrec *rr = &t->reads[t->nreads];
    char name[16];
    char *val;
    size_t len = 0;
    int hit;

    snprintf(name, sizeof(name), "ik%u", key);
    rr->key = (uint16_t)key;
    rr->rs = ticket();
    hit = do_get(t, c, buf, name, &val, &len);
    rr->ra = ticket();
    if (hit < 0) {
        snprintf(t->err, sizeof(t->err), "get %s: broken reply", name);
        return false;
    }
    rr->gen = 0;
    rr->slen = 0;
    if (hit > 0 && len < HDR_LEN) {
        rr->slen = (uint8_t)len;
        memcpy(rr->sdata, val, len);
    }
    if (hit > 0) {
        t->hits++;
        rr->gen = identify(key, val, len, scratch);
        if (rr->gen == 0) {
            t->corrupt++;
            fprintf(stderr, "reader %d: corrupted %s (%zu bytes)\n", t->id, name, len);
            mm_tclient_print_escaped("value", val, len < 200 ? len : 200);
        }
    }
    free(val);
    if (hit == 0 || rr->gen != 0) {
        t->nreads++;
    }
    t->gets++;
    return true;
}

/* An append or prepend key: whole records, in order, from 0 up, and as
 * many as were acknowledged before the get and at most as many as were
 * sent before its reply. */
static bool
read_recs(struct thr *t, struct mm_tclient *c, char *buf, uint64_t *rng)
{
    unsigned w = (unsigned)(it_rng_next(rng) % NWRITERS);
    bool prepend = it_rng_next(rng) % 2 == 0;
    struct counted *cn = prepend ? &world->pre[w] : &world->app[w];
    uint64_t lo = __atomic_load_n(&cn->acked, __ATOMIC_SEQ_CST);
    uint64_t hi;
    char name[16];
    char rec[REC_LEN];
    char *val;
    size_t len = 0;
    size_t n;
    size_t i;
    bool good;

    snprintf(name, sizeof(name), "%s%u", prepend ? "pp" : "ap", w);
    if (do_get(t, c, buf, name, &val, &len) != 1) {
        snprintf(t->err, sizeof(t->err), "get %s: missing or broken", name);
        free(val);
        return false;
    }
    hi = __atomic_load_n(&cn->sent, __ATOMIC_SEQ_CST);
    n = len / REC_LEN;
    good = len % REC_LEN == 0 && n >= lo && n <= hi;
    for (i = 0; i < n && good; i++) {
        make_rec(rec, prepend ? 'p' : 'a', w, (unsigned)(prepend ? n - 1 - i : i));
        good = memcmp(val + i * REC_LEN, rec, REC_LEN) == 0;
    }
    if (!good) {
        t->corrupt++;
        fprintf(stderr, "reader %d: %s has %zu bytes, %llu..%llu records expected\n", t->id, name,
                len, (unsigned long long)lo, (unsigned long long)hi);
        mm_tclient_print_escaped("value", val, len < 200 ? len : 200);
    }
    free(val);
    t->gets++;
    return true;
}

/* A counter: a number (space padding allowed) between the increments
 * acknowledged before the get and those sent before its reply. */
static bool
read_ctr(struct thr *t, struct mm_tclient *c, char *buf, uint64_t *rng)
{
    unsigned j = (unsigned)(it_rng_next(rng) % NCTRS);
    uint64_t lo = __atomic_load_n(&world->ctr[j].acked, __ATOMIC_SEQ_CST);
    uint64_t hi;
    char name[16];
    char *val;
    size_t len = 0;
    size_t i = 0;
    unsigned long long v = 0;
    bool good;

    snprintf(name, sizeof(name), "ct%u", j);
    if (do_get(t, c, buf, name, &val, &len) != 1) {
        snprintf(t->err, sizeof(t->err), "get %s: missing or broken", name);
        free(val);
        return false;
    }
    hi = __atomic_load_n(&world->ctr[j].sent, __ATOMIC_SEQ_CST);
    while (i < len && val[i] >= '0' && val[i] <= '9') {
        v = v * 10 + (unsigned long long)(val[i++] - '0');
    }
    good = i > 0;
    while (i < len && good) {
        good = val[i++] == ' ';
    }
    if (!good || v < lo || v > hi) {
        t->corrupt++;
        fprintf(stderr, "reader %d: %s = %llu, %llu..%llu expected\n", t->id, name, v,
                (unsigned long long)lo, (unsigned long long)hi);
        mm_tclient_print_escaped("value", val, len);
    }
    free(val);
    t->gets++;
    return true;
}

static void *
reader_main(void *arg)
{
    struct thr *t = arg;
    uint64_t rng = 0x8CB92BA72F3D8DD7ULL * (uint64_t)(t->id + 1);
    char *buf = malloc(256);
    char *scratch = malloc(MAX_LEN);
    struct mm_tclient c;

    t->reads = calloc(READER_OPS, sizeof(*t->reads));
    if (buf == NULL || scratch == NULL || t->reads == NULL ||
        mm_tclient_connect(&c, srv.host, srv.port) != 0) {
        snprintf(t->err, sizeof(t->err), "setup failed");
        free(buf);
        free(scratch);
        return NULL;
    }
    for (t->ops = 0; t->ops < READER_OPS && it_now_ms() < world->end_ms; t->ops++) {
        unsigned r = (unsigned)(it_rng_next(&rng) % 10);
        bool ok;

        if (r < 8) {
            ok = read_key(t, &c, buf, scratch, &rng);
        } else if (r < 9) {
            ok = read_recs(t, &c, buf, &rng);
        } else {
            ok = read_ctr(t, &c, buf, &rng);
        }
        if (!ok) {
            break;
        }
    }
    mm_tclient_close(&c);
    free(buf);
    free(scratch);
    return NULL;
}

/* ---- after the run ------------------------------------------------------ */

/* A read of gen g (or a miss, g = 0) that began at ticket rs and ended at
 * ra is stale if g was sent only after ra, or if some write was
 * acknowledged before rs and sent after g was acknowledged (for a miss: if
 * any write was acknowledged before rs). After the run every write has
 * been acknowledged. */
static bool
stale(const struct keylog *kl, uint64_t g, uint64_t rs, uint64_t ra)
{
    uint64_t g_ack = g != 0 ? kl->w[g - 1].ack_t : 0;
    size_t i;

    if (g != 0 && (g_ack == 0 || kl->w[g - 1].send_t > ra)) {
        return true;
    }
    for (i = 0; i < kl->n; i++) {
        const struct wrec *w = &kl->w[i];

        if (w->ack_t != 0 && w->ack_t < rs && (g == 0 || w->send_t > g_ack)) {
            return true;
        }
    }
    return false;
}

/* Is a read of key explained by some write that was current for it? A
 * short value may match several writes of its length: any will do. With
 * rs = ra = UINT64_MAX, this is the check of the final value: a write that
 * was acknowledged, with no write sent after that acknowledgement. */
static bool
read_ok(unsigned key, uint64_t gen, const char *sdata, size_t slen, uint64_t rs, uint64_t ra,
        char *scratch)
{
    const struct keylog *kl = &world->keys[key];
    size_t i;

    if (gen == 0 || slen == 0) {
        return !stale(kl, gen, rs, ra);
    }
    for (i = 1; i <= kl->n; i++) {
        if (kl->w[i - 1].len == slen) {
            make_value(scratch, key, i, slen);
            if (memcmp(scratch, sdata, slen) == 0 && !stale(kl, i, rs, ra)) {
                return true;
            }
        }
    }
    return false;
}

static void
check_final(bool binary, long *checked)
{
    struct thr t;
    struct mm_tclient c;
    char *buf = malloc(256);
    char *scratch = malloc(MAX_LEN);
    unsigned k;
    int i;

    memset(&t, 0, sizeof(t));
    t.binary = binary;
    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    for (k = 0; k < NKEYS; k++) {
        char name[16];
        char *val;
        size_t len = 0;
        int hit;
        uint64_t g = 0;

        snprintf(name, sizeof(name), "ik%u", k);
        hit = do_get(&t, &c, buf, name, &val, &len);
        ck_assert_int_ge(hit, 0);
        if (hit > 0) {
            g = identify(k, val, len, scratch);
            ck_assert_msg(g != 0, "final %s: corrupted (%zu bytes)", name, len);
        }
        ck_assert_msg(read_ok(k, g, val, len < HDR_LEN ? len : 0, UINT64_MAX, UINT64_MAX, scratch),
                      "final %s (%s): gen %llu of %zu, not the last acknowledged write", name,
                      binary ? "binary" : "text", (unsigned long long)g, world->keys[k].n);
        free(val);
        (*checked)++;
    }
    for (i = 0; i < NWRITERS; i++) {
        char name[16];
        char *val;
        size_t len = 0;

        snprintf(name, sizeof(name), "ap%d", i);
        ck_assert_int_eq(do_get(&t, &c, buf, name, &val, &len), 1);
        ck_assert_uint_eq(len, world->app[i].acked * REC_LEN);
        ck_assert_uint_eq(world->app[i].acked, world->app[i].sent);
        free(val);
        snprintf(name, sizeof(name), "pp%d", i);
        ck_assert_int_eq(do_get(&t, &c, buf, name, &val, &len), 1);
        ck_assert_uint_eq(len, world->pre[i].acked * REC_LEN);
        free(val);
    }
    for (i = 0; i < NCTRS; i++) {
        char name[16];
        char *val;
        size_t len = 0;

        snprintf(name, sizeof(name), "ct%d", i);
        ck_assert_int_eq(do_get(&t, &c, buf, name, &val, &len), 1);
        ck_assert_msg(strtoull(val, NULL, 10) == world->ctr[i].acked, "%s = %.*s, %llu incrs acked",
                      name, (int)len, val, (unsigned long long)world->ctr[i].acked);
        free(val);
    }
    mm_tclient_close(&c);
    free(buf);
    free(scratch);
}

START_TEST(test_integrity)
{
    struct thr wr[NWRITERS];
    struct thr rd[NREADERS];
    struct mm_tclient c;
    struct mm_tstats st;
    long sets = 0, appends = 0, incrs = 0, gets = 0, hits = 0, corrupt = 0, stale_reads = 0;
    long checked = 0;
    char *scratch = malloc(MAX_LEN);
    double t0;
    int i;

    world = calloc(1, sizeof(*world));
    ck_assert_ptr_nonnull(world);
    for (i = 0; i < NKEYS; i++) {
        pthread_mutex_init(&world->keys[i].lock, NULL);
    }
    /* Large enough that nothing is evicted: the last-write oracle needs it. */
    ck_assert_msg(mm_tserver_startl(&srv, MM_TSERVER_TARGET, 0, "-m", "1024", "-t", "4", NULL) == 0,
                  "cannot start target");
    ck_assert(mm_tclient_connect(&c, srv.host, srv.port) == 0);
    for (i = 0; i < NWRITERS; i++) {
        char req[64];

        snprintf(req, sizeof(req), "set ap%d 0 0 0\r\n\r\n", i);
        ck_assert(mm_tclient_cmd(&c, req, "STORED\r\n"));
        snprintf(req, sizeof(req), "set pp%d 0 0 0\r\n\r\n", i);
        ck_assert(mm_tclient_cmd(&c, req, "STORED\r\n"));
    }
    for (i = 0; i < NCTRS; i++) {
        char req[64];

        snprintf(req, sizeof(req), "set ct%d 0 0 1\r\n0\r\n", i);
        ck_assert(mm_tclient_cmd(&c, req, "STORED\r\n"));
    }

    t0 = it_now_ms();
    world->end_ms = t0 + RUN_MS;
    for (i = 0; i < NWRITERS; i++) {
        memset(&wr[i], 0, sizeof(wr[i]));
        wr[i].id = i;
        wr[i].binary = i % 2 == 1;
        ck_assert_int_eq(pthread_create(&wr[i].tid, NULL, writer_main, &wr[i]), 0);
    }
    for (i = 0; i < NREADERS; i++) {
        memset(&rd[i], 0, sizeof(rd[i]));
        rd[i].id = i;
        rd[i].binary = i % 2 == 1;
        ck_assert_int_eq(pthread_create(&rd[i].tid, NULL, reader_main, &rd[i]), 0);
    }
    for (i = 0; i < NWRITERS; i++) {
        pthread_join(wr[i].tid, NULL);
        sets += wr[i].sets;
        appends += wr[i].appends;
        incrs += wr[i].incrs;
    }
    for (i = 0; i < NREADERS; i++) {
        size_t j;

        pthread_join(rd[i].tid, NULL);
        gets += rd[i].gets;
        hits += rd[i].hits;
        corrupt += rd[i].corrupt;
        for (j = 0; j < rd[i].nreads; j++) {
            const struct rrec *r = &rd[i].reads[j];

            if (!read_ok(r->key, r->gen, r->sdata, r->slen, r->rs, r->ra, scratch)) {
                stale_reads++;
                fprintf(stderr, "stale read of ik%u: gen %llu\n", r->key,
                        (unsigned long long)r->gen);
            }
        }
    }

    ck_assert(mm_tclient_stats(&c, NULL, &st) == 0);
    printf("integrity: %.1f s, %ld sets, %ld appends/prepends, %ld incrs; %ld gets (%ld hits), "
           "%ld corrupted, %ld stale; evictions %lld\n",
           (it_now_ms() - t0) / 1000.0, sets, appends, incrs, gets, hits, corrupt, stale_reads,
           mm_tstats_num(&st, "evictions"));
    fflush(stdout);
    for (i = 0; i < NWRITERS; i++) {
        ck_assert_msg(wr[i].err[0] == '\0', "writer %d: %s", i, wr[i].err);
    }
    for (i = 0; i < NREADERS; i++) {
        ck_assert_msg(rd[i].err[0] == '\0', "reader %d: %s", i, rd[i].err);
        free(rd[i].reads);
    }
    ck_assert_int_eq(corrupt, 0);
    ck_assert_int_eq(stale_reads, 0);
    ck_assert_int_eq(mm_tstats_num(&st, "evictions"), 0);
    /* Enough happened for the run to mean something. */
    ck_assert_int_gt(sets, 100);
    ck_assert_int_gt(hits, 100);
    ck_assert_int_gt(appends, 10);
    ck_assert_int_gt(incrs, 10);
    /* Then every key, over each protocol, must hold its last write. */
    check_final(false, &checked);
    check_final(true, &checked);
    ck_assert_int_eq(checked, 2 * NKEYS);
    printf("integrity: %ld final values checked\n", checked);
    mm_tstats_free(&st);
    mm_tclient_close(&c);
    for (i = 0; i < NKEYS; i++) {
        free(world->keys[i].w);
        pthread_mutex_destroy(&world->keys[i].lock);
    }
    free(world);
    world = NULL;
    free(scratch);
    ck_assert_msg(mm_tserver_stop(&srv) == 0, "target did not stop cleanly");
}
END_TEST

static Suite *
integrity_suite(void)
{
    Suite *s = suite_create("it_integrity");
    TCase *tc = tcase_create("integrity");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_integrity);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    if (mm_tserver_target_external()) {
        return mm_tcheck_skip("MMEM_TEST_ADDR set: integrity needs its own server, skipped");
    }
    return mm_tcheck_run(integrity_suite(), 0, NULL);
}
