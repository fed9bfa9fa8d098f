/* Slab classes and pages. Computes the class table (memcached's rule for -n
 * and -f, with finer steps for small chunks), cuts pages from one reserved
 * arena so chunks can be named by 32-bit handles, hands out chunks from
 * per-class free lists and lazily carved pages, keeps the registry of large
 * items and the global memory limit. Knows nothing about items beyond their
 * size; eviction is the store's job. */
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

static void *
reserve(size_t len)
{
    void *p =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

    return p == MAP_FAILED ? NULL : p;
}

/* Reserve the arena: the whole handle range if the system lets us (it is
 * only address space; pages cost memory once touched), else just what the
 * limit can use (ulimit -v or strict overcommit refuse the big one). */
static int
arena_reserve(struct mm_slab *sl)
{
    size_t full = HANDLE_UNITS << sl->shift;
    size_t small = sl->mem_limit + (size_t)(sl->nclasses + 1) * sl->page_stride;
    size_t page = os_page();

    full -= full % page;
    small = (small + page - 1) / page * page;
    if (small > full) {
        small = full;
    }
    sl->arena = reserve(full);
    sl->arena_size = full;
    if (sl->arena == NULL) {
        mm_log_warn("slab: cannot reserve %zu bytes of address space; reserving %zu", full, small);
        sl->arena = reserve(small);
        sl->arena_size = small;
    }
    if (sl->arena == NULL) {
        mm_log_error("slab: cannot reserve %zu bytes of address space for slab pages", small);
        sl->arena_size = 0;
        return -1;
    }
    sl->hbase = sl->arena - ((size_t)1 << sl->shift);
    return 0;
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
    size_t align = (size_t)1 << sl->shift;
    size_t size = cfg->base;
    size_t last = (sl->chunk_max + align - 1) / align * align;
    size_t step = cfg->fine_step < align ? align : (cfg->fine_step + align - 1) / align * align;
    size_t covered = 0; /* largest fine class */
    unsigned id = 1;

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
    size_t align;

    memset(sl, 0, sizeof(*sl));
    sl->page_size = cfg->page_size ? cfg->page_size : MM_SLAB_PAGE_DEFAULT;
    sl->chunk_max = cfg->chunk_max ? cfg->chunk_max : sl->page_size / 2;
    if (cfg->factor <= 1.0 || cfg->base == 0 || sl->chunk_max > sl->page_size ||
        cfg->base > sl->chunk_max) {
        return -1;
    }
    sl->mem_limit = cfg->mem_limit;
    /* The unit depends on the class count and the count (slightly) on the
     * unit: count with 8-byte alignment first. A coarser alignment only
     * makes sizes grow faster, so the count cannot rise on the rebuild. */
    sl->shift = 3;
    build_classes(sl, cfg);
    sl->shift = pick_shift(sl->mem_limit, sl->nclasses, sl->page_size);
    if (sl->shift > 3) {
        build_classes(sl, cfg);
    }
    align = (size_t)1 << sl->shift;
    sl->page_stride = (sl->page_size + align - 1) / align * align;
    if (sl->cls[sl->nclasses].perslab == 0) {
        return -1;
    }
    pthread_mutex_init(&sl->arena_lock, NULL);
    pthread_mutex_init(&sl->large_lock, NULL);
    for (id = 1; id <= sl->nclasses; id++) {
        pthread_mutex_init(&sl->cls[id].lock, NULL);
    }

    if (arena_reserve(sl) != 0) {
        for (id = 1; id <= sl->nclasses; id++) {
            pthread_mutex_destroy(&sl->cls[id].lock);
        }
        pthread_mutex_destroy(&sl->arena_lock);
        pthread_mutex_destroy(&sl->large_lock);
        return -1;
    }
    sl->large_dir = mm_calloc(MM_SLAB_LARGE_BLOCKS, sizeof(*sl->large_dir));

    if (cfg->prealloc && sl->mem_limit >= sl->page_size) {
        /* Give each class its first page now, as -L promises. */
        for (id = 1; id <= sl->nclasses; id++) {
            void *p = mm_slab_alloc(sl, id);

            if (p == NULL) {
                break;
            }
            mm_slab_free(sl, p, id);
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
    if (sl->arena != NULL) {
        munmap(sl->arena, sl->arena_size);
    }
    pthread_mutex_destroy(&sl->arena_lock);
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
    if (sl->arena_used + sl->page_stride <= sl->arena_size) {
        p = sl->arena + sl->arena_used;
        sl->arena_used += sl->page_stride;
    }
    pthread_mutex_unlock(&sl->arena_lock);
    return p;
}

/* Caller holds c->lock. */
static bool
new_page_locked(struct mm_slab *sl, struct mm_slab_class *c)
{
    void *page;

    if (!limit_take(sl, sl->page_size, c->npages == 0)) {
        return false;
    }
    /* An exhausted arena (only possible once cache_memlimit raised the
     * limit past the reservation, or with the small fallback reservation)
     * is handled like the limit: the caller evicts. */
    page = arena_page(sl);
    if (page == NULL) {
        limit_give(sl, sl->page_size);
        __atomic_fetch_add(&sl->malloc_fails, 1, __ATOMIC_RELAXED);
        return false;
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

    if (!limit_take(sl, charge, false)) {
        return NULL;
    }
    /* Each large item is a private mapping rather than a malloc block: a
     * general allocator keeps freed blocks resident for reuse (jemalloc
     * for its decay time, 10 s), so under churn RSS ran far past -m while
     * the charges had long been given back. munmap returns the memory the
     * moment the charge is, and the charge is exactly what is resident. */
    map = mmap(NULL, charge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) {
        limit_give(sl, charge);
        __atomic_fetch_add(&sl->malloc_fails, 1, __ATOMIC_RELAXED);
        return NULL;
    }
    i = large_register(sl, map + LARGE_PREFIX);
    if (i == UINT32_MAX) {
        munmap(map, charge);
        limit_give(sl, charge);
        __atomic_fetch_add(&sl->malloc_fails, 1, __ATOMIC_RELAXED);
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
    limit_give(sl, charge);
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
