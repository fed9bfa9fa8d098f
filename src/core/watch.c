/* The "watch" log hub: formats event lines the way memcached 1.6.18's logger
 * prints them and copies each into the bounded ring of every interested
 * watcher. Lines are formatted once per event, by the thread that has the
 * event, under the hub's mutex, which only exists on that path when someone
 * watches. Draining a ring onto a socket is the connection's job (net/). */
#include "config.h"

#include "mmem/watch.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "mmem/alloc.h"

#define WATCH_RING_DEFAULT (256u * 1024u)
/* Room kept free for a "skipped=<n>" line in front of the next line. */
#define WATCH_SKIP_RESERVE 128u
/* A line: fixed words plus a key of 250 bytes, each of which may take 3
 * bytes once URI-encoded. */
#define WATCH_LINE_MAX 1024u

struct mm_watcher {
    struct mm_watcher *next;
    unsigned flags;
    uint64_t min_gid; /* lines older than the watcher are not its business */
    uint64_t skipped; /* lines lost since the last one that fitted */
    char *ring;
    size_t size;
    size_t head; /* first unread byte */
    size_t len;  /* unread bytes */
};

static void
recompute_mask_locked(struct mm_watch *w)
{
    unsigned mask = 0;
    struct mm_watcher *wr;

    for (wr = w->list; wr != NULL; wr = wr->next) {
        mask |= wr->flags;
    }
    __atomic_store_n(&w->mask, mask, __ATOMIC_RELAXED);
}

struct mm_watch *
mm_watch_create(size_t ring_size)
{
    struct mm_watch *w = mm_calloc(1, sizeof(*w));

    pthread_mutex_init(&w->lock, NULL);
    /* The ring must hold at least one whole line and a skip note. */
    if (ring_size < WATCH_LINE_MAX + WATCH_SKIP_RESERVE) {
        ring_size = ring_size == 0 ? WATCH_RING_DEFAULT : WATCH_LINE_MAX + WATCH_SKIP_RESERVE;
    }
    w->ring_size = ring_size;
    return w;
}

void
mm_watch_destroy(struct mm_watch **wp)
{
    struct mm_watch *w = *wp;

    if (w == NULL) {
        return;
    }
    while (w->list != NULL) {
        struct mm_watcher *wr = w->list;

        mm_watch_remove(w, &wr);
    }
    pthread_mutex_destroy(&w->lock);
    mm_free(w);
    *wp = NULL;
}

static bool
word_is(const char *p, size_t len, const char *lit)
{
    return len == strlen(lit) && memcmp(p, lit, len) == 0;
}

bool
mm_watch_parse_flags(const char *args, size_t len, unsigned *flags)
{
    static const struct {
        const char *name;
        unsigned flag;
    } words[] = {
        {"rawcmds", MM_WATCH_RAWCMDS},     {"evictions", MM_WATCH_EVICTIONS},
        {"fetchers", MM_WATCH_FETCHERS},   {"mutations", MM_WATCH_MUTATIONS},
        {"sysevents", MM_WATCH_SYSEVENTS}, {"connevents", MM_WATCH_CONNEVENTS},
        {"proxyreqs", MM_WATCH_PROXYREQS}, {"proxyevents", MM_WATCH_PROXYEVENTS},
        {"proxyuser", MM_WATCH_PROXYUSER},
    };
    unsigned f = 0;
    size_t i = 0;

    while (i < len) {
        size_t start;
        size_t k;
        bool known = false;

        while (i < len && args[i] == ' ') {
            i++;
        }
        start = i;
        while (i < len && args[i] != ' ') {
            i++;
        }
        if (i == start) {
            break;
        }
        for (k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
            if (word_is(args + start, i - start, words[k].name)) {
                f |= words[k].flag;
                known = true;
                break;
            }
        }
        if (!known) {
            return false;
        }
    }
    *flags = f != 0 ? f : MM_WATCH_FETCHERS;
    return true;
}

struct mm_watcher *
mm_watch_add(struct mm_watch *w, unsigned flags)
{
    struct mm_watcher *wr;

    pthread_mutex_lock(&w->lock);
    if (w->count >= MM_WATCH_MAX_WATCHERS) {
        pthread_mutex_unlock(&w->lock);
        return NULL;
    }
    wr = mm_calloc(1, sizeof(*wr));
    wr->ring = mm_malloc(w->ring_size);
    wr->size = w->ring_size;
    wr->flags = flags;
    /* Registering takes an id of its own, as memcached's does: the first
     * line a watcher sees is numbered after it. */
    wr->min_gid = ++w->gid;
    wr->next = w->list;
    w->list = wr;
    w->count++;
    recompute_mask_locked(w);
    pthread_mutex_unlock(&w->lock);
    return wr;
}

void
mm_watch_remove(struct mm_watch *w, struct mm_watcher **wrp)
{
    struct mm_watcher *wr = *wrp;
    struct mm_watcher **pp;

    if (wr == NULL) {
        return;
    }
    pthread_mutex_lock(&w->lock);
    for (pp = &w->list; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == wr) {
            *pp = wr->next;
            w->count--;
            break;
        }
    }
    recompute_mask_locked(w);
    pthread_mutex_unlock(&w->lock);
    mm_free(wr->ring);
    mm_free(wr);
    *wrp = NULL;
}

/* Append n bytes to the ring; the caller checked the room. */
static void
ring_put(struct mm_watcher *wr, const char *p, size_t n)
{
    size_t tail = (wr->head + wr->len) % wr->size;
    size_t first = wr->size - tail < n ? wr->size - tail : n;

    memcpy(wr->ring + tail, p, first);
    memcpy(wr->ring, p + first, n - first);
    wr->len += n;
}

size_t
mm_watch_read(struct mm_watch *w, struct mm_watcher *wr, char *dst, size_t max)
{
    size_t n;
    size_t first;

    pthread_mutex_lock(&w->lock);
    n = wr->len < max ? wr->len : max;
    first = wr->size - wr->head < n ? wr->size - wr->head : n;
    memcpy(dst, wr->ring + wr->head, first);
    memcpy(dst + first, wr->ring, n - first);
    wr->head = (wr->head + n) % wr->size;
    wr->len -= n;
    pthread_mutex_unlock(&w->lock);
    return n;
}

/* Hand one finished line (body without the "ts= gid=" prefix) to the
 * watchers that want kind. */
static void
publish(struct mm_watch *w, unsigned kind, const char *body, size_t blen)
{
    char line[WATCH_LINE_MAX + 64];
    struct timeval tv;
    struct mm_watcher *wr;
    uint64_t gid;
    int n;

    gettimeofday(&tv, NULL);
    pthread_mutex_lock(&w->lock);
    gid = ++w->gid;
    /* memcached prints the microseconds without zero padding. */
    n = snprintf(line, sizeof(line), "ts=%lld.%d gid=%" PRIu64 " %.*s\n", (long long)tv.tv_sec,
                 (int)tv.tv_usec, gid, (int)blen, body);
    if (n <= 0 || (size_t)n >= sizeof(line)) {
        pthread_mutex_unlock(&w->lock);
        return;
    }
    w->written++;
    for (wr = w->list; wr != NULL; wr = wr->next) {
        if ((wr->flags & kind) == 0 || gid < wr->min_gid) {
            continue;
        }
        if (wr->size - wr->len < (size_t)n + WATCH_SKIP_RESERVE) {
            wr->skipped++;
            w->skipped++;
            continue;
        }
        if (wr->skipped > 0) {
            char note[WATCH_SKIP_RESERVE];
            int k = snprintf(note, sizeof(note), "skipped=%" PRIu64 "\n", wr->skipped);

            ring_put(wr, note, (size_t)k);
            wr->skipped = 0;
        }
        ring_put(wr, line, (size_t)n);
        w->sent++;
    }
    pthread_mutex_unlock(&w->lock);
}

/* memcached's uriencode: letters, digits and "-._~" stay, everything else
 * becomes %XX. At most 255 key bytes are taken (dst holds 3 * 256 bytes).
 * Returns the encoded length. */
size_t
mm_watch_uri_encode(const char *src, size_t n, char *dst)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    size_t i;

    if (n > 255) {
        n = 255;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            dst[o++] = (char)c;
        } else {
            dst[o++] = '%';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 0xf];
        }
    }
    return o;
}

/* Format "type=..." with the key as %.*s after the encoding, then publish. */
static void emit_body(struct mm_watch *w, unsigned kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
emit_body(struct mm_watch *w, unsigned kind, const char *fmt, ...)
{
    char body[WATCH_LINE_MAX];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof(body)) {
        publish(w, kind, body, (size_t)n);
    }
}

#define KEY_ENC_MAX (3 * 256)

void
mm_watch_item_get(struct mm_watch *w, const char *key, size_t nkey, enum mm_watch_get_status status,
                  unsigned clsid, int cfd, uint32_t vlen)
{
    static const char *const words[] = {"not_found", "found", "flushed", "expired"};
    char enc[KEY_ENC_MAX];

    if (!mm_watch_wants(w, MM_WATCH_FETCHERS)) {
        return;
    }
    emit_body(w, MM_WATCH_FETCHERS,
              "type=item_get key=%.*s status=%s clsid=%u cfd=%d size=%" PRIu32,
              (int)mm_watch_uri_encode(key, nkey, enc), enc, words[status], clsid, cfd, vlen);
}

void
mm_watch_item_store(struct mm_watch *w, const char *key, size_t nkey,
                    enum mm_watch_store_status status, enum mm_watch_store_cmd cmd, uint32_t ttl,
                    unsigned clsid, int cfd, uint32_t vlen)
{
    static const char *const st_words[] = {"not_stored", "stored",    "exists",
                                           "not_found",  "too_large", "no_memory"};
    static const char *const cmd_words[] = {"null",   "add",     "set", "replace",
                                            "append", "prepend", "cas"};
    char enc[KEY_ENC_MAX];

    if (!mm_watch_wants(w, MM_WATCH_MUTATIONS)) {
        return;
    }
    emit_body(w, MM_WATCH_MUTATIONS,
              "type=item_store key=%.*s status=%s cmd=%s ttl=%" PRIu32
              " clsid=%u cfd=%d size=%" PRIu32,
              (int)mm_watch_uri_encode(key, nkey, enc), enc, st_words[status], cmd_words[cmd], ttl,
              clsid, cfd, vlen);
}

void
mm_watch_eviction(struct mm_watch *w, const char *key, size_t nkey, bool fetched, int64_t ttl,
                  uint32_t la, unsigned clsid, uint32_t vlen)
{
    char enc[KEY_ENC_MAX];

    if (!mm_watch_wants(w, MM_WATCH_EVICTIONS)) {
        return;
    }
    emit_body(w, MM_WATCH_EVICTIONS,
              "type=eviction key=%.*s fetch=%s ttl=%lld la=%" PRIu32 " clsid=%u size=%" PRIu32,
              (int)mm_watch_uri_encode(key, nkey, enc), enc, fetched ? "yes" : "no", (long long)ttl,
              la, clsid, vlen);
}

void
mm_watch_stats(struct mm_watch *w, struct mm_watch_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (w == NULL) {
        return;
    }
    pthread_mutex_lock(&w->lock);
    out->worker_written = w->written;
    out->watcher_skipped = w->skipped;
    out->watcher_sent = w->sent;
    out->watchers = w->count;
    pthread_mutex_unlock(&w->lock);
}

void
mm_watch_stats_reset(struct mm_watch *w)
{
    if (w == NULL) {
        return;
    }
    pthread_mutex_lock(&w->lock);
    w->written = 0;
    w->skipped = 0;
    w->sent = 0;
    pthread_mutex_unlock(&w->lock);
}
