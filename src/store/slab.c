/* Slab classes. Computes the class table (memcached's rule for -n and -f,
 * with finer steps for small chunks), borrows pages from the page pool and
 * hands out their chunks (per-page free lists, lazily carved pages), lets
 * the page mover detach a page, and keeps the registry of large items,
 * charged against the pool's budget. Knows nothing about items beyond their
 * size; eviction and moving items are the store's job. */
#include "config.h"

#include "store/slab_int.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mmem/alloc.h"
#include "mmem/log.h"

#define LARGE_ROUND 4096u
/* Bytes before a large item: its registry index, padded so the item keeps
 * 16-byte alignment. */
#define LARGE_PREFIX 16u
/* Handles of slab chunks stay below 2^31; the top bit marks large items. */
#define HANDLE_UNITS ((size_t)0x7fffffffu)

/* The smallest unit (1 << shift, at least 8 bytes) with which 2^31 - 1
 * handles span the limit plus a page per class (a class with no page may
 * take one beyond the limit) and one more. */
static unsigned
pick_shift(size_t limit, unsigned nclasses, size_t page_size)
{
    size_t need = limit + (size_t)(nclasses + 1) * page_size;
    unsigned shift = 3;

    /* 64 KiB units already span the whole 47-bit address space; a limit
     * beyond that fails at the reservation. */
    while (shift < 16 && need > (HANDLE_UNITS << shift)) {
        shift++;
    }
    return shift;
}

static size_t
os_page(void)
{
    long page = sysconf(_SC_PAGESIZE);

    return page > 0 ? (size_t)page : 4096u;
}

static void
add_class(struct mm_slab *sl, unsigned id, size_t size)
{
    sl->cls[id].size = (uint32_t)size;
    sl->cls[id].perslab = (uint32_t)(sl->page_size / size);
}

/* memcached's rule: start at base (its 48-byte header + chunk_min), align,
 * multiply by the factor (truncating), stop once the next size would reach
 * chunk_max / factor; the last class is chunk_max (rounded up to the
 * alignment, which only a coarse unit can require).
 *
 * With fine_max set, the classes up to it step by fine_step bytes from
 * fine_base (our own header + chunk_min) instead: the factor wastes up to a
 * fifth of each small chunk, 12% on average, more than our whole header.
 * Above fine_max the classes are exactly memcached's, so an item (always
 * smaller here than in memcached) never needs a bigger chunk than it would
 * there. Both parts together stay within the 63 class ids. */
static void
build_classes(struct mm_slab *sl, const struct mm_slab_cfg *cfg)
{
    size_t align = (size_t)1 << sl->pool.shift;
    size_t size = cfg->base;
    size_t last = (sl->chunk_max + align - 1) / align * align;
    size_t step = cfg->fine_step < align ? align : (cfg->fine_step + align - 1) / align * align;
    size_t covered = 0; /* largest fine class */
    unsigned id = 1;

    if (cfg->nsizes > 0) {
        /* The user's table, as memcached builds it from slab_sizes. */
        unsigned i;

        for (i = 0; i < cfg->nsizes && id < MM_SLAB_MAX_CLASSES; i++) {
            add_class(sl, id++, (cfg->sizes[i] + align - 1) / align * align);
        }
        add_class(sl, id, last);
        sl->nclasses = id;
        return;
    }
    if (cfg->fine_max > 0 && cfg->fine_step > 0) {
        size_t f = (cfg->fine_base + step - 1) / step * step;

        for (; f <= cfg->fine_max && id < MM_SLAB_MAX_CLASSES; f += step) {
            if ((double)f >= (double)sl->chunk_max / cfg->factor) {
                break;
            }
            add_class(sl, id++, f);
            covered = f;
        }
    }
    while (id < MM_SLAB_MAX_CLASSES) {
        if ((double)size >= (double)sl->chunk_max / cfg->factor) {
            break;
        }
        if (size % align) {
            size += align - (size % align);
        }
        if (size > covered) {
            add_class(sl, id++, size);
        }
        size = (size_t)((double)size * cfg->factor);
    }
    add_class(sl, id, last);
    sl->nclasses = id;
}

int
mm_slab_init(struct mm_slab *sl, const struct mm_slab_cfg *cfg)
{
    unsigned id;
    unsigned shift;
    size_t align;

    memset(sl, 0, sizeof(*sl));
    sl->page_size = cfg->page_size ? cfg->page_size : MM_SLAB_PAGE_DEFAULT;
    sl->chunk_max = cfg->chunk_max ? cfg->chunk_max : sl->page_size / 2;
    if (cfg->factor <= 1.0 || cfg->base == 0 || sl->chunk_max > sl->page_size ||
        cfg->base > sl->chunk_max) {
        return -1;
    }
    /* The unit depends on the class count and the count (slightly) on the
     * unit: count with 8-byte alignment first. A coarser alignment only
     * makes sizes grow faster, so the count cannot rise on the rebuild. */
    sl->pool.shift = 3;
    build_classes(sl, cfg);
    shift = pick_shift(cfg->mem_limit, sl->nclasses, sl->page_size);
    if (shift > 3) {
        sl->pool.shift = shift;
        build_classes(sl, cfg);
    }
    if (sl->cls[sl->nclasses].perslab == 0) {
        return -1;
    }
    align = (size_t)1 << shift;
    if (mm_pool_init(&sl->pool, cfg->mem_limit, sl->page_size, shift,
                     (size_t)(sl->nclasses + 1) * ((sl->page_size + align - 1) / align * align)) !=
        0) {
        return -1;
    }
    pthread_mutex_init(&sl->large_lock, NULL);
    for (id = 1; id <= sl->nclasses; id++) {
        pthread_mutex_init(&sl->cls[id].lock, NULL);
    }
    sl->large_dir = mm_calloc(MM_SLAB_LARGE_BLOCKS, sizeof(*sl->large_dir));

    if (cfg->prealloc) {
        /* Give each class its first page now, as -L promises, while the
         * budget lasts. */
        for (id = 1; id <= sl->nclasses && mm_slab_grow(sl, id); id++) {
        }
    }
    return 0;
}

void
mm_slab_fini(struct mm_slab *sl)
{
    unsigned id;

    for (id = 1; id <= sl->nclasses; id++) {
        struct mm_slab_class *c = &sl->cls[id];

        mm_free(c->pages);
        pthread_mutex_destroy(&c->lock);
    }
    if (sl->large_dir != NULL) {
        for (id = 0; id < MM_SLAB_LARGE_BLOCKS; id++) {
            mm_free(sl->large_dir[id]);
        }
        mm_free(sl->large_dir);
    }
    mm_pool_fini(&sl->pool);
    pthread_mutex_destroy(&sl->large_lock);
    memset(sl, 0, sizeof(*sl));
}

unsigned
mm_slab_class(const struct mm_slab *sl, size_t total)
{
    unsigned lo = 1;
    unsigned hi = sl->nclasses;

    if (total == 0 || total > sl->chunk_max) {
        return 0;
    }
    /* Sizes grow strictly with the id, except that a factor close to 1 can
     * repeat a size; a binary search still finds the first fit. */
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;

        if (sl->cls[mid].size >= total) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return lo;
}

static inline struct mm_page *
page_of(struct mm_slab *sl, uint32_t pg)
{
    return &sl->pool.pages[pg];
}

static inline uint8_t
page_state(const struct mm_page *d)
{
    return __atomic_load_n(&d->state, __ATOMIC_RELAXED);
}

/* The class's list of pages with room. Caller holds c->lock. */
static void
avail_add(struct mm_slab *sl, struct mm_slab_class *c, uint32_t pg)
{
    struct mm_page *d = page_of(sl, pg);

    d->aprev = 0;
    d->anext = c->avail;
    if (c->avail != 0) {
        page_of(sl, c->avail - 1)->aprev = pg + 1;
    }
    c->avail = pg + 1;
    d->in_avail = 1;
}

static void
avail_remove(struct mm_slab *sl, struct mm_slab_class *c, uint32_t pg)
{
    struct mm_page *d = page_of(sl, pg);

    if (d->aprev != 0) {
        page_of(sl, d->aprev - 1)->anext = d->anext;
    } else {
        c->avail = d->anext;
    }
    if (d->anext != 0) {
        page_of(sl, d->anext - 1)->aprev = d->aprev;
    }
    d->anext = d->aprev = 0;
    d->in_avail = 0;
}

/* A page fresh from the pool joins class c. Caller holds c->lock. */
static void
attach_locked(struct mm_slab *sl, unsigned id, uint32_t pg)
{
    struct mm_slab_class *c = &sl->cls[id];
    struct mm_page *d = page_of(sl, pg);

    if (c->npages == c->pages_cap) {
        c->pages_cap = c->pages_cap ? c->pages_cap * 2 : 16;
        c->pages = mm_realloc(c->pages, c->pages_cap * sizeof(*c->pages));
    }
    d->free = NULL;
    d->nfree = 0;
    d->live = 0;
    d->carved = 0;
    __atomic_store_n(&d->cls, (uint8_t)id, __ATOMIC_RELAXED);
    __atomic_store_n(&d->state, (uint8_t)MM_PAGE_USED, __ATOMIC_RELAXED);
    c->pages[c->npages++] = pg;
    c->uncarved += c->perslab;
    avail_add(sl, c, pg);
}

/* A chunk from the first page with room, or NULL. Caller holds c->lock. */
static void *
take_chunk_locked(struct mm_slab *sl, struct mm_slab_class *c)
{
    uint32_t pg;
    struct mm_page *d;
    char *p;

    if (c->avail == 0) {
        return NULL;
    }
    pg = c->avail - 1;
    d = page_of(sl, pg);
    if (d->free != NULL) {
        p = d->free;
        memcpy(&d->free, p, sizeof(void *));
        d->nfree--;
        c->nfree--;
    } else {
        p = mm_pool_addr(&sl->pool, pg) + (size_t)d->carved * c->size;
        d->carved++;
        c->uncarved--;
    }
    if (d->nfree == 0 && d->carved == c->perslab) {
        avail_remove(sl, c, pg);
    }
    d->live++;
    c->used++;
    return p;
}

static void *
slab_alloc(struct mm_slab *sl, unsigned id, bool grow)
{
    struct mm_slab_class *c = &sl->cls[id];
    void *p;

    pthread_mutex_lock(&c->lock);
    p = take_chunk_locked(sl, c);
    if (p == NULL && grow) {
        uint32_t pg = mm_pool_take(&sl->pool);

        if (pg != MM_POOL_NONE) {
            attach_locked(sl, id, pg);
            p = take_chunk_locked(sl, c);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return p;
}

void *
mm_slab_alloc(struct mm_slab *sl, unsigned id)
{
    return slab_alloc(sl, id, true);
}

void *
mm_slab_alloc_held(struct mm_slab *sl, unsigned id)
{
    return slab_alloc(sl, id, false);
}

bool
mm_slab_grow(struct mm_slab *sl, unsigned id)
{
    struct mm_slab_class *c = &sl->cls[id];
    uint32_t pg = mm_pool_take(&sl->pool);

    if (pg == MM_POOL_NONE) {
        return false;
    }
    pthread_mutex_lock(&c->lock);
    attach_locked(sl, id, pg);
    pthread_mutex_unlock(&c->lock);
    return true;
}

/* A detached page's last chunk came back: it leaves the class. Caller
 * holds c->lock; the caller gives it to the pool after unlocking. */
static void
page_done_locked(struct mm_slab_class *c, struct mm_page *d)
{
    d->free = NULL;
    d->nfree = 0;
    d->carved = 0;
    __atomic_store_n(&d->cls, (uint8_t)0, __ATOMIC_RELAXED);
    __atomic_store_n(&d->state, (uint8_t)MM_PAGE_POOL, __ATOMIC_RELAXED);
    c->moving--;
}

static void
page_return(struct mm_slab *sl, uint32_t pg)
{
    mm_pool_give(&sl->pool, pg);
    __atomic_fetch_add(&sl->pages_returned, 1, __ATOMIC_RELAXED);
}

void
mm_slab_free(struct mm_slab *sl, void *chunk, unsigned id)
{
    struct mm_slab_class *c = &sl->cls[id];
    uint32_t pg = mm_pool_index(&sl->pool, chunk);
    struct mm_page *d = page_of(sl, pg);
    bool done = false;

    pthread_mutex_lock(&c->lock);
    memcpy(chunk, &d->free, sizeof(void *));
    d->free = chunk;
    d->nfree++;
    d->live--;
    c->used--;
    if (page_state(d) == MM_PAGE_USED) {
        c->nfree++;
        if (!d->in_avail) {
            avail_add(sl, c, pg);
        }
    } else if (d->live == 0) {
        page_done_locked(c, d);
        done = true;
    }
    pthread_mutex_unlock(&c->lock);
    if (done) {
        page_return(sl, pg);
    }
}

uint32_t
mm_slab_detach(struct mm_slab *sl, unsigned id, uint64_t near, char **first, uint32_t *n)
{
    struct mm_slab_class *c = &sl->cls[id];
    uint32_t pg;
    uint32_t slot;
    uint32_t i;
    struct mm_page *d;
    bool done = false;

    pthread_mutex_lock(&c->lock);
    if (c->npages == 0) {
        pthread_mutex_unlock(&c->lock);
        return MM_POOL_NONE;
    }
    if (near == MM_SLAB_EMPTIEST) {
        /* The page with the fewest chunks in use: giving it costs the
         * fewest moves (a class's free memory is mostly in such pages). */
        uint32_t best = 0;

        for (i = 1; i < c->npages; i++) {
            if (page_of(sl, c->pages[i])->live < page_of(sl, c->pages[best])->live) {
                best = i;
            }
        }
        slot = best;
    } else {
        slot = (uint32_t)((near / c->perslab) % c->npages);
    }
    pg = c->pages[slot];
    d = page_of(sl, pg);
    /* Later pages move down a slot: the clock hand's indexes shift by a
     * page, which only moves where the next sweep starts. */
    for (i = slot; i + 1 < c->npages; i++) {
        c->pages[i] = c->pages[i + 1];
    }
    c->npages--;
    if (d->in_avail) {
        avail_remove(sl, c, pg);
    }
    c->nfree -= d->nfree;
    c->uncarved -= c->perslab - d->carved;
    __atomic_store_n(&d->state, (uint8_t)MM_PAGE_MOVING, __ATOMIC_RELAXED);
    c->moving++;
    *first = mm_pool_addr(&sl->pool, pg);
    *n = d->carved;
    if (d->live == 0) {
        page_done_locked(c, d);
        done = true;
        *n = 0;
    } else {
        /* The mover's hold: the page cannot go back to the pool (and on to
         * another class) while the mover still looks at its chunks. */
        d->live++;
    }
    pthread_mutex_unlock(&c->lock);
    if (done) {
        page_return(sl, pg);
    }
    return pg;
}

uint32_t
mm_slab_page_live(struct mm_slab *sl, unsigned id, uint32_t pg)
{
    struct mm_slab_class *c = &sl->cls[id];
    uint32_t live;

    pthread_mutex_lock(&c->lock);
    live = page_of(sl, pg)->live - 1; /* less the mover's hold */
    pthread_mutex_unlock(&c->lock);
    return live;
}

bool
mm_slab_unhold(struct mm_slab *sl, unsigned id, uint32_t pg)
{
    struct mm_slab_class *c = &sl->cls[id];
    struct mm_page *d = page_of(sl, pg);
    bool done = false;

    pthread_mutex_lock(&c->lock);
    if (--d->live == 0) {
        page_done_locked(c, d);
        done = true;
    }
    pthread_mutex_unlock(&c->lock);
    if (done) {
        page_return(sl, pg);
    }
    return done;
}

/* A large item's charge is its mapping: whole pages. */
static size_t
large_charge(size_t size)
{
    size_t page = os_page();
    size_t round = page > LARGE_ROUND ? page : LARGE_ROUND;

    size += LARGE_PREFIX;
    return (size + round - 1) / round * round;
}

/* A free slot holds (next free slot + 1) << 1 | 1 instead of a pointer:
 * item pointers are 16-byte aligned, so a scanner tells the two apart and
 * the free list needs no memory of its own. */
static inline void **
large_slot(struct mm_slab *sl, uint32_t i)
{
    void **block = __atomic_load_n(&sl->large_dir[i / MM_SLAB_LARGE_BLOCK], __ATOMIC_ACQUIRE);

    return &block[i % MM_SLAB_LARGE_BLOCK];
}

/* A slot for p, or UINT32_MAX when the registry is full. */
static uint32_t
large_register(struct mm_slab *sl, void *p)
{
    uint32_t i;

    pthread_mutex_lock(&sl->large_lock);
    if (sl->large_free != 0) {
        uintptr_t link;

        i = sl->large_free - 1;
        link = (uintptr_t)__atomic_load_n(large_slot(sl, i), __ATOMIC_RELAXED);
        sl->large_free = (uint32_t)(link >> 1);
    } else {
        uint32_t span = sl->large_span;

        if (span >= MM_SLAB_LARGE_BLOCK * MM_SLAB_LARGE_BLOCKS) {
            pthread_mutex_unlock(&sl->large_lock);
            return UINT32_MAX;
        }
        if (span % MM_SLAB_LARGE_BLOCK == 0) {
            void **block = mm_calloc(MM_SLAB_LARGE_BLOCK, sizeof(*block));

            __atomic_store_n(&sl->large_dir[span / MM_SLAB_LARGE_BLOCK], block, __ATOMIC_RELEASE);
        }
        i = span;
    }
    __atomic_store_n(large_slot(sl, i), p, __ATOMIC_RELEASE);
    if (i == sl->large_span) {
        /* After the slot, so a scanner below the span sees a block. */
        __atomic_store_n(&sl->large_span, i + 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&sl->large_lock);
    return i;
}

static void
large_unregister(struct mm_slab *sl, uint32_t i)
{
    pthread_mutex_lock(&sl->large_lock);
    __atomic_store_n(large_slot(sl, i), (void *)(((uintptr_t)sl->large_free << 1) | 1u),
                     __ATOMIC_RELEASE);
    sl->large_free = i + 1;
    pthread_mutex_unlock(&sl->large_lock);
}

bool
mm_slab_large_with(struct mm_slab *sl, uint32_t i, bool (*fn)(void *arg, void *p), void *arg)
{
    bool r = false;
    void *p;

    /* Freeing unregisters under this lock before it unmaps, so while we
     * hold it a registered item's memory stays mapped. */
    pthread_mutex_lock(&sl->large_lock);
    p = mm_slab_large_at(sl, i);
    if (p != NULL) {
        r = fn(arg, p);
    }
    pthread_mutex_unlock(&sl->large_lock);
    return r;
}

void *
mm_slab_large_alloc(struct mm_slab *sl, size_t size)
{
    size_t charge = large_charge(size);
    char *map;
    uint32_t i;

    if (!mm_pool_charge(&sl->pool, charge)) {
        return NULL;
    }
    /* Each large item is a private mapping rather than a malloc block: a
     * general allocator keeps freed blocks resident for reuse (jemalloc
     * for its decay time, 10 s), so under churn RSS ran far past -m while
     * the charges had long been given back. munmap returns the memory the
     * moment the charge is, and the charge is exactly what is resident. */
    map = mmap(NULL, charge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) {
        mm_pool_uncharge(&sl->pool, charge);
        __atomic_fetch_add(&sl->pool.malloc_fails, 1, __ATOMIC_RELAXED);
        return NULL;
    }
    i = large_register(sl, map + LARGE_PREFIX);
    if (i == UINT32_MAX) {
        munmap(map, charge);
        mm_pool_uncharge(&sl->pool, charge);
        __atomic_fetch_add(&sl->pool.malloc_fails, 1, __ATOMIC_RELAXED);
        return NULL;
    }
    memcpy(map, &i, sizeof(i));
    __atomic_fetch_add(&sl->large_bytes, charge, __ATOMIC_RELAXED);
    __atomic_fetch_add(&sl->large_count, 1, __ATOMIC_RELAXED);
    return map + LARGE_PREFIX;
}

void
mm_slab_large_free(struct mm_slab *sl, void *p, size_t size)
{
    size_t charge = large_charge(size);

    large_unregister(sl, mm_slab_large_index(p));
    munmap((char *)p - LARGE_PREFIX, charge);
    __atomic_fetch_sub(&sl->large_bytes, charge, __ATOMIC_RELAXED);
    __atomic_fetch_sub(&sl->large_count, 1, __ATOMIC_RELAXED);
    mm_pool_uncharge(&sl->pool, charge);
}

uint64_t
mm_slab_carved(struct mm_slab *sl, unsigned id)
{
    struct mm_slab_class *c = &sl->cls[id];
    uint64_t n;

    pthread_mutex_lock(&c->lock);
    n = (uint64_t)c->npages * c->perslab;
    pthread_mutex_unlock(&c->lock);
    return n;
}

bool
mm_slab_chunk_with(struct mm_slab *sl, unsigned id, uint64_t i, bool (*fn)(void *arg, void *p),
                   void *arg)
{
    struct mm_slab_class *c = &sl->cls[id];
    bool r = false;

    pthread_mutex_lock(&c->lock);
    if (i < (uint64_t)c->npages * c->perslab) {
        uint32_t pg = c->pages[i / c->perslab];
        uint32_t k = (uint32_t)(i % c->perslab);

        if (k < page_of(sl, pg)->carved) {
            r = fn(arg, mm_pool_addr(&sl->pool, pg) + (size_t)k * c->size);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

uint32_t
mm_slab_large_index(const void *p)
{
    uint32_t i;

    memcpy(&i, (const char *)p - LARGE_PREFIX, sizeof(i));
    return i;
}

uint32_t
mm_slab_large_span(struct mm_slab *sl)
{
    return __atomic_load_n(&sl->large_span, __ATOMIC_ACQUIRE);
}

void *
mm_slab_large_at(struct mm_slab *sl, uint32_t i)
{
    void *p;

    if (i >= mm_slab_large_span(sl)) {
        return NULL;
    }
    p = __atomic_load_n(large_slot(sl, i), __ATOMIC_ACQUIRE);
    return ((uintptr_t)p & 1u) ? NULL : p;
}

void
mm_slab_set_limit(struct mm_slab *sl, size_t mem_limit)
{
    mm_pool_set_limit(&sl->pool, mem_limit);
}

size_t
mm_slab_limit(const struct mm_slab *sl)
{
    return mm_pool_limit(&sl->pool);
}

size_t
mm_slab_malloced(const struct mm_slab *sl)
{
    return mm_pool_charged(&sl->pool);
}

void
mm_slab_class_stats(struct mm_slab *sl, unsigned id, struct mm_slab_class_stats *out)
{
    struct mm_slab_class *c = &sl->cls[id];

    pthread_mutex_lock(&c->lock);
    out->size = c->size;
    out->perslab = c->perslab;
    out->npages = c->npages;
    out->used = c->used;
    out->free_chunks = c->nfree;
    out->free_end = c->uncarved;
    out->moving = c->moving;
    pthread_mutex_unlock(&c->lock);
}
