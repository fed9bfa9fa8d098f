/* Slab classes and pages. Computes the class table the way memcached does
 * (so -n/-f give the same chunk sizes), hands out chunks from per-class free
 * lists and lazily carved pages, and keeps the global memory limit. Knows
 * nothing about items beyond their size; eviction is the store's job. */
#include "config.h"

#include "store/slab_int.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mmem/alloc.h"
#include "mmem/log.h"

#define LARGE_ROUND 4096u

int
mm_slab_init(struct mm_slab *sl, const struct mm_slab_cfg *cfg)
{
    unsigned id = 1;
    unsigned size;

    memset(sl, 0, sizeof(*sl));
    sl->page_size = cfg->page_size ? cfg->page_size : MM_SLAB_PAGE_DEFAULT;
    sl->chunk_max = cfg->chunk_max ? cfg->chunk_max : sl->page_size / 2;
    if (cfg->factor <= 1.0 || cfg->base == 0 || sl->chunk_max > sl->page_size ||
        cfg->base > sl->chunk_max) {
        return -1;
    }
    sl->mem_limit = cfg->mem_limit;
    pthread_mutex_init(&sl->arena_lock, NULL);
    pthread_mutex_init(&sl->large_lock, NULL);
    sl->large_dir = mm_calloc(MM_SLAB_LARGE_BLOCKS, sizeof(*sl->large_dir));

    /* memcached's rule: start at header + chunk_min, align to 8, multiply by
     * the factor (truncating), stop once the next size would reach
     * chunk_max / factor; the last class is exactly chunk_max. With the
     * default factor that wastes up to a fifth of each chunk, 12% on
     * average, which for small items is more than the header. So below
     * fine_max (512 bytes by default, where most cached items are) the
     * classes step by fine_step (16) bytes instead: at most 15 bytes
     * wasted. Both parts together stay within the 63 class ids. */
    size = (unsigned)cfg->base;
    if (cfg->fine_max > 0 && cfg->fine_step > 0 && size % cfg->fine_step) {
        size += (unsigned)(cfg->fine_step - size % cfg->fine_step);
    }
    while (id < MM_SLAB_MAX_CLASSES) {
        if ((double)size >= (double)sl->chunk_max / cfg->factor) {
            break;
        }
        if (size % MM_SLAB_ALIGN) {
            size += MM_SLAB_ALIGN - (size % MM_SLAB_ALIGN);
        }
        sl->cls[id].size = size;
        sl->cls[id].perslab = (uint32_t)(sl->page_size / size);
        if (size < cfg->fine_max && cfg->fine_step > 0) {
            size += (unsigned)cfg->fine_step;
        } else {
            size = (unsigned)(size * cfg->factor);
        }
        id++;
    }
    sl->cls[id].size = (uint32_t)sl->chunk_max;
    sl->cls[id].perslab = (uint32_t)(sl->page_size / sl->chunk_max);
    sl->nclasses = id;
    for (id = 1; id <= sl->nclasses; id++) {
        pthread_mutex_init(&sl->cls[id].lock, NULL);
    }

    if (cfg->prealloc && sl->mem_limit >= sl->page_size) {
        sl->arena_size = sl->mem_limit - sl->mem_limit % sl->page_size;
        sl->arena = mm_alloc_try(sl->arena_size);
        if (sl->arena == NULL) {
            mm_log_warn("slab: cannot preallocate %zu bytes in one block; "
                        "allocating pages on demand",
                        sl->arena_size);
            sl->arena_size = 0;
        } else {
            /* Give each class its first page now, as -L promises, while
             * the arena lasts. */
            for (id = 1; id <= sl->nclasses; id++) {
                void *p = mm_slab_alloc(sl, id);

                if (p == NULL) {
                    break;
                }
                mm_slab_free(sl, p, id);
            }
        }
    }
    return 0;
}

void
mm_slab_fini(struct mm_slab *sl)
{
    unsigned id;
    uint64_t i;

    for (id = 1; id <= sl->nclasses; id++) {
        struct mm_slab_class *c = &sl->cls[id];

        for (i = 0; i < c->npages; i++) {
            char *pg = c->pages[i];

            if (!(sl->arena != NULL && pg >= sl->arena && pg < sl->arena + sl->arena_size)) {
                munmap(pg, sl->page_size);
            }
        }
        mm_free(c->pages);
        pthread_mutex_destroy(&c->lock);
    }
    for (id = 0; id < MM_SLAB_LARGE_BLOCKS; id++) {
        mm_free(sl->large_dir[id]);
    }
    mm_free(sl->large_dir);
    mm_free(sl->large_free);
    pthread_mutex_destroy(&sl->large_lock);
    mm_free(sl->arena);
    pthread_mutex_destroy(&sl->arena_lock);
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

/* Reserve len bytes of the limit. `force` lets a class with no page at all
 * take one anyway (memcached does the same, so that every size can be stored
 * at least once even under a tiny -m). */
static bool
limit_take(struct mm_slab *sl, size_t len, bool force)
{
    size_t cur = __atomic_load_n(&sl->mem_malloced, __ATOMIC_RELAXED);
    size_t lim;

    do {
        lim = __atomic_load_n(&sl->mem_limit, __ATOMIC_RELAXED);
        if (!force && lim != 0 && cur + len > lim) {
            return false;
        }
    } while (!__atomic_compare_exchange_n(&sl->mem_malloced, &cur, cur + len, true,
                                          __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return true;
}

static void
limit_give(struct mm_slab *sl, size_t len)
{
    __atomic_fetch_sub(&sl->mem_malloced, len, __ATOMIC_RELAXED);
}

static void *
arena_page(struct mm_slab *sl)
{
    void *p = NULL;

    pthread_mutex_lock(&sl->arena_lock);
    if (sl->arena_used + sl->page_size <= sl->arena_size) {
        p = sl->arena + sl->arena_used;
        sl->arena_used += sl->page_size;
    }
    pthread_mutex_unlock(&sl->arena_lock);
    return p;
}

/* Caller holds c->lock. */
static bool
new_page_locked(struct mm_slab *sl, struct mm_slab_class *c)
{
    void *page;

    page = sl->arena != NULL ? arena_page(sl) : NULL;
    if (page != NULL) {
        /* The arena was sized to the limit, so its pages always fit. */
        limit_take(sl, sl->page_size, true);
    } else {
        /* Without an arena, or once it is used up (the limit may have been
         * raised since): ordinary pages under the limit. */
        if (!limit_take(sl, sl->page_size, c->npages == 0)) {
            return false;
        }
        /* Fresh zeroed memory: the eviction sweep reads the refcount of
         * every carved chunk, and a chunk not yet written must read 0. */
        page =
            mmap(NULL, sl->page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (page == MAP_FAILED) {
            page = NULL;
        }
        if (page == NULL) {
            limit_give(sl, sl->page_size);
            __atomic_fetch_add(&sl->malloc_fails, 1, __ATOMIC_RELAXED);
            return false;
        }
    }
    if (c->npages == c->pages_cap) {
        c->pages_cap = c->pages_cap ? c->pages_cap * 2 : 16;
        c->pages = mm_realloc(c->pages, c->pages_cap * sizeof(*c->pages));
    }
    c->pages[c->npages++] = page;
    c->carve = page;
    c->carve_left = c->perslab;
    return true;
}

void *
mm_slab_alloc(struct mm_slab *sl, unsigned id)
{
    struct mm_slab_class *c = &sl->cls[id];
    void *p = NULL;

    pthread_mutex_lock(&c->lock);
    if (c->free_list != NULL) {
        p = c->free_list;
        memcpy(&c->free_list, p, sizeof(void *));
        c->nfree--;
    } else if (c->carve_left > 0 || new_page_locked(sl, c)) {
        p = c->carve;
        c->carve += c->size;
        c->carve_left--;
    }
    if (p != NULL) {
        c->used++;
    }
    pthread_mutex_unlock(&c->lock);
    return p;
}

void
mm_slab_free(struct mm_slab *sl, void *chunk, unsigned id)
{
    struct mm_slab_class *c = &sl->cls[id];

    pthread_mutex_lock(&c->lock);
    memcpy(chunk, &c->free_list, sizeof(void *));
    c->free_list = chunk;
    c->nfree++;
    c->used--;
    pthread_mutex_unlock(&c->lock);
}

/* A large item's charge is its mapping: whole pages. */
static size_t
large_charge(size_t size)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t round = page > (long)LARGE_ROUND ? (size_t)page : LARGE_ROUND;

    return (size + round - 1) / round * round;
}

static void **
large_slot(struct mm_slab *sl, uint32_t i)
{
    return &sl->large_dir[i / MM_SLAB_LARGE_BLOCK][i % MM_SLAB_LARGE_BLOCK];
}

/* A free registry slot for p, or false when the registry is full. */
static bool
large_register(struct mm_slab *sl, char *p)
{
    uint32_t i;

    pthread_mutex_lock(&sl->large_lock);
    if (sl->large_nfree > 0) {
        i = sl->large_free[--sl->large_nfree];
    } else if (sl->large_span < MM_SLAB_LARGE_BLOCK * MM_SLAB_LARGE_BLOCKS) {
        i = sl->large_span;
        if (sl->large_dir[i / MM_SLAB_LARGE_BLOCK] == NULL) {
            sl->large_dir[i / MM_SLAB_LARGE_BLOCK] = mm_calloc(MM_SLAB_LARGE_BLOCK, sizeof(void *));
        }
        __atomic_store_n(&sl->large_span, i + 1, __ATOMIC_RELEASE);
    } else {
        pthread_mutex_unlock(&sl->large_lock);
        return false;
    }
    memcpy(p, &i, sizeof(i));
    __atomic_store_n(large_slot(sl, i), p + MM_SLAB_LARGE_PREFIX, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&sl->large_lock);
    return true;
}

static void
large_unregister(struct mm_slab *sl, uint32_t i)
{
    pthread_mutex_lock(&sl->large_lock);
    __atomic_store_n(large_slot(sl, i), NULL, __ATOMIC_RELEASE);
    if (sl->large_nfree == sl->large_free_cap) {
        sl->large_free_cap = sl->large_free_cap ? sl->large_free_cap * 2 : 64;
        sl->large_free = mm_realloc(sl->large_free, sl->large_free_cap * sizeof(uint32_t));
    }
    sl->large_free[sl->large_nfree++] = i;
    pthread_mutex_unlock(&sl->large_lock);
}

uint32_t
mm_slab_large_index(const void *p)
{
    uint32_t i;

    memcpy(&i, (const char *)p - MM_SLAB_LARGE_PREFIX, sizeof(i));
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
    return __atomic_load_n(large_slot(sl, i), __ATOMIC_ACQUIRE);
}

uint64_t
mm_slab_carved(struct mm_slab *sl, unsigned id)
{
    struct mm_slab_class *c = &sl->cls[id];
    uint64_t n;

    pthread_mutex_lock(&c->lock);
    n = c->npages * c->perslab - c->carve_left;
    pthread_mutex_unlock(&c->lock);
    return n;
}

void *
mm_slab_chunk(struct mm_slab *sl, unsigned id, uint64_t i)
{
    struct mm_slab_class *c = &sl->cls[id];
    char *p;

    /* The pages array may be reallocated by a growing class. */
    pthread_mutex_lock(&c->lock);
    p = (char *)c->pages[i / c->perslab] + (i % c->perslab) * c->size;
    pthread_mutex_unlock(&c->lock);
    return p;
}

void *
mm_slab_large_alloc(struct mm_slab *sl, size_t size)
{
    size_t charge = large_charge(size + MM_SLAB_LARGE_PREFIX);
    char *p;

    if (!limit_take(sl, charge, false)) {
        return NULL;
    }
    /* Each large item is a private mapping rather than a malloc block: a
     * general allocator keeps freed blocks resident for reuse (jemalloc
     * for its decay time, 10 s), so under churn RSS ran far past -m while
     * the charges had long been given back. munmap returns the memory the
     * moment the charge is, and the charge is exactly what is resident. */
    p = mmap(NULL, charge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        limit_give(sl, charge);
        __atomic_fetch_add(&sl->malloc_fails, 1, __ATOMIC_RELAXED);
        return NULL;
    }
    if (!large_register(sl, p)) {
        munmap(p, charge);
        limit_give(sl, charge);
        return NULL;
    }
    __atomic_fetch_add(&sl->large_bytes, charge, __ATOMIC_RELAXED);
    __atomic_fetch_add(&sl->large_count, 1, __ATOMIC_RELAXED);
    return p + MM_SLAB_LARGE_PREFIX;
}

void
mm_slab_large_free(struct mm_slab *sl, void *p, size_t size)
{
    size_t charge = large_charge(size + MM_SLAB_LARGE_PREFIX);

    large_unregister(sl, mm_slab_large_index(p));
    munmap((char *)p - MM_SLAB_LARGE_PREFIX, charge);
    __atomic_fetch_sub(&sl->large_bytes, charge, __ATOMIC_RELAXED);
    __atomic_fetch_sub(&sl->large_count, 1, __ATOMIC_RELAXED);
    limit_give(sl, charge);
}

void
mm_slab_set_limit(struct mm_slab *sl, size_t mem_limit)
{
    __atomic_store_n(&sl->mem_limit, mem_limit, __ATOMIC_RELAXED);
}

size_t
mm_slab_limit(const struct mm_slab *sl)
{
    return __atomic_load_n(&sl->mem_limit, __ATOMIC_RELAXED);
}

size_t
mm_slab_malloced(const struct mm_slab *sl)
{
    return __atomic_load_n(&sl->mem_malloced, __ATOMIC_RELAXED);
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
    out->free_end = c->carve_left;
    pthread_mutex_unlock(&c->lock);
}
