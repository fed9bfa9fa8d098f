/* Background reclaim: the crawler thread walks every class's chunks and the
 * large items and unlinks what has expired or been flushed, so that memory
 * serves live items (see crawler_int.h). */
#include "config.h"

#include "store/crawler_int.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "mmem/alloc.h"
#include "store/ht_int.h"
#include "store/item_int.h"
#include "store/slab_int.h"
#include "store/store_int.h"

/* How often the thread looks at the clock and the stop flag when idle. */
#define IDLE_WAIT_MS 250u

static void
sleep_us(unsigned us)
{
    struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

struct grab {
    struct mm_item *it;
};

static bool
grab_pin(void *arg, void *p)
{
    struct grab *g = arg;

    if (!mm_item_pin(p)) {
        return false;
    }
    g->it = p;
    return true;
}

static struct mm_item *
grab_at(struct mm_store *st, unsigned cls, uint64_t i)
{
    struct grab g = {NULL};

    if (cls == MM_ITEM_CLS_LARGE) {
        mm_slab_large_with(&st->slab, (uint32_t)i, grab_pin, &g);
    } else {
        mm_slab_chunk_with(&st->slab, cls, i, grab_pin, &g);
    }
    return g.it;
}

static bool
stopping(struct mm_store *st)
{
    struct mm_crawler *cr = &st->crawler;
    bool stop;

    pthread_mutex_lock(&cr->bg.lock);
    stop = cr->bg.stop;
    pthread_mutex_unlock(&cr->bg.lock);
    return stop;
}

/* One class: every chunk (or the first tocrawl items). */
static uint64_t
crawl_class(struct mm_store *st, unsigned cls, bool in_thread)
{
    struct mm_crawler *cr = &st->crawler;
    uint32_t tocrawl = __atomic_load_n(&cr->tocrawl, __ATOMIC_RELAXED);
    unsigned pause = __atomic_load_n(&cr->sleep_us, __ATOMIC_RELAXED);
    uint64_t span =
        cls == MM_ITEM_CLS_LARGE ? mm_slab_large_span(&st->slab) : mm_slab_carved(&st->slab, cls);
    uint64_t reclaimed = 0;
    uint64_t checked = 0;
    uint64_t i;

    for (i = 0; i < span && (tocrawl == 0 || checked < tocrawl); i++) {
        struct mm_item *it = grab_at(st, cls, i);
        mm_reltime_t now;
        mm_hash_t h;

        if (it == NULL) {
            continue;
        }
        checked++;
        now = mm_store_now(st);
        /* Under the stripe: the CAS a flush compares with changes under it. */
        h = mm_ht_hash(st->ht, mm_item_key(it), it->nkey);
        mm_ht_lock(st->ht, h);
        if ((it->iflags & MM_ITEM_F_LINKED) && mm_store_item_dead(st, it, now)) {
            mm_store_evict_locked(st, it, h, now);
            reclaimed++;
        }
        mm_ht_unlock(st->ht, h);
        mm_store_unref(st, it);
        if (checked % MM_CRAWLER_PER_SLEEP == 0) {
            if (in_thread && stopping(st)) {
                break;
            }
            if (pause > 0) {
                sleep_us(pause);
            }
        }
    }
    __atomic_fetch_add(&cr->reclaimed[cls], reclaimed, __ATOMIC_RELAXED);
    __atomic_fetch_add(&cr->checked[cls], checked, __ATOMIC_RELAXED);
    return reclaimed;
}

static uint64_t
run(struct mm_store *st, uint64_t mask, bool in_thread)
{
    uint64_t reclaimed = 0;
    unsigned c;

    __atomic_fetch_add(&st->crawler.starts, 1, __ATOMIC_RELAXED);
    for (c = 0; c < st->nlru; c++) {
        if (mask & ((uint64_t)1 << c)) {
            reclaimed += crawl_class(st, c, in_thread);
        }
    }
    return reclaimed;
}

uint64_t
mm_crawler_run(struct mm_store *st, uint64_t mask)
{
    return run(st, mask, false);
}

bool
mm_crawler_request(struct mm_store *st, uint64_t mask)
{
    struct mm_crawler *cr = &st->crawler;
    bool ok = true;

    pthread_mutex_lock(&cr->bg.lock);
    if (cr->want != 0) {
        ok = false;
    } else {
        cr->want = mask;
        pthread_cond_signal(&cr->bg.wake);
    }
    pthread_mutex_unlock(&cr->bg.lock);
    return ok;
}

void
mm_crawler_schedule(struct mm_store *st, mm_reltime_t at)
{
    struct mm_crawler *cr = &st->crawler;

    pthread_mutex_lock(&cr->bg.lock);
    if (at < cr->next) {
        cr->next = at;
        cr->idle = 1;
    }
    pthread_mutex_unlock(&cr->bg.lock);
}

static void *
crawler_main(void *arg)
{
    struct mm_store *st = arg;
    struct mm_crawler *cr = &st->crawler;
    uint64_t all = st->nlru >= 64 ? UINT64_MAX : ((uint64_t)1 << st->nlru) - 1;

    pthread_mutex_lock(&cr->bg.lock);
    while (!cr->bg.stop) {
        uint64_t mask = cr->want;
        mm_reltime_t now = mm_store_now(st);
        bool scheduled = mask == 0 && now >= cr->next && mm_store_crawler_enabled(st);

        if (mask == 0 && !scheduled) {
            (void)mm_bg_wait_locked(&cr->bg, IDLE_WAIT_MS);
            continue;
        }
        if (scheduled) {
            mask = all;
        }
        pthread_mutex_unlock(&cr->bg.lock);
        __atomic_store_n(&cr->running, true, __ATOMIC_RELAXED);
        uint64_t got = run(st, mask, true);
        __atomic_store_n(&cr->running, false, __ATOMIC_RELAXED);
        pthread_mutex_lock(&cr->bg.lock);
        if (scheduled) {
            /* Sooner while runs find dead items, up to a minute apart
             * while they find none. */
            cr->idle =
                got > 0 ? 1u
                        : (cr->idle * 2 > MM_CRAWLER_IDLE_MAX ? MM_CRAWLER_IDLE_MAX : cr->idle * 2);
            cr->next = mm_store_now(st) + cr->idle;
        } else {
            cr->want = 0;
        }
    }
    pthread_mutex_unlock(&cr->bg.lock);
    return NULL;
}

void
mm_crawler_init(struct mm_store *st)
{
    struct mm_crawler *cr = &st->crawler;

    memset(cr, 0, sizeof(*cr));
    mm_bg_init(&cr->bg);
    cr->sleep_us = st->cfg.crawler_sleep_us;
    cr->tocrawl = st->cfg.crawler_tocrawl;
    cr->idle = 1;
    cr->nlru = st->nlru;
    cr->reclaimed = mm_calloc(st->nlru, sizeof(*cr->reclaimed));
    cr->checked = mm_calloc(st->nlru, sizeof(*cr->checked));
}

void
mm_crawler_fini(struct mm_store *st)
{
    struct mm_crawler *cr = &st->crawler;

    mm_bg_fini(&cr->bg);
    mm_free(cr->reclaimed);
    mm_free(cr->checked);
}

int
mm_crawler_start(struct mm_store *st)
{
    return mm_bg_start(&st->crawler.bg, crawler_main, st);
}

void
mm_crawler_stop(struct mm_store *st)
{
    mm_bg_stop(&st->crawler.bg);
}

/* ------------------------------------------------------------------ */
/* The store's public face ("lru_crawler ...")                          */

bool
mm_store_crawl(struct mm_store *st, uint64_t classes)
{
    /* The large items have no class id of their own; they are shown with
     * the largest class, and crawled with it. */
    if (classes & ((uint64_t)1 << st->slab.nclasses)) {
        classes |= 1u;
    }
    if (!mm_bg_started(&st->crawler.bg)) {
        /* A store without its threads (tests, tools) crawls in place. */
        (void)mm_crawler_run(st, classes);
        return true;
    }
    return mm_crawler_request(st, classes);
}

void
mm_store_crawler_set_sleep(struct mm_store *st, unsigned us)
{
    __atomic_store_n(&st->crawler.sleep_us, us, __ATOMIC_RELAXED);
}

void
mm_store_crawler_set_tocrawl(struct mm_store *st, uint32_t n)
{
    __atomic_store_n(&st->crawler.tocrawl, n, __ATOMIC_RELAXED);
}

unsigned
mm_store_crawler_sleep(struct mm_store *st)
{
    return __atomic_load_n(&st->crawler.sleep_us, __ATOMIC_RELAXED);
}

uint32_t
mm_store_crawler_tocrawl(struct mm_store *st)
{
    return __atomic_load_n(&st->crawler.tocrawl, __ATOMIC_RELAXED);
}
