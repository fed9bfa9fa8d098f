/* The page pool: the memory budget, the arena every slab page is cut from,
 * and the stack of pages given back by the page mover. Knows nothing of
 * classes or items. */
#include "config.h"

#include "store/pool_int.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mmem/alloc.h"
#include "mmem/log.h"

/* Slab handles stay below 2^31; the top bit marks large items. */
#define HANDLE_UNITS ((size_t)0x7fffffffu)

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

/* The whole handle range if the system lets us (it is only address space;
 * pages cost memory once touched), else just what the limit can use
 * (ulimit -v or strict overcommit refuse the big one). */
static int
arena_reserve(struct mm_pool *p, size_t extra)
{
    size_t full = HANDLE_UNITS << p->shift;
    size_t small = p->limit + extra;
    size_t page = os_page();

    full -= full % page;
    small = (small + page - 1) / page * page;
    if (small > full) {
        small = full;
    }
    p->arena = reserve(full);
    p->arena_size = full;
    if (p->arena == NULL) {
        mm_log_warn("slab: cannot reserve %zu bytes of address space; reserving %zu", full, small);
        p->arena = reserve(small);
        p->arena_size = small;
    }
    if (p->arena == NULL) {
        mm_log_error("slab: cannot reserve %zu bytes of address space for slab pages", small);
        p->arena_size = 0;
        return -1;
    }
    p->hbase = p->arena - ((size_t)1 << p->shift);
    return 0;
}

int
mm_pool_init(struct mm_pool *p, size_t limit, size_t page_size, unsigned shift, size_t extra)
{
    size_t align = (size_t)1 << shift;

    memset(p, 0, sizeof(*p));
    p->limit = limit;
    p->page_size = page_size;
    p->shift = shift;
    p->page_stride = (page_size + align - 1) / align * align;
    if (arena_reserve(p, extra) != 0) {
        return -1;
    }
    p->npages_max = (uint32_t)(p->arena_size / p->page_stride);
    /* Descriptors and the stack are only touched as pages are used. */
    p->pages = mm_calloc(p->npages_max ? p->npages_max : 1, sizeof(*p->pages));
    p->free_stack = mm_calloc(p->npages_max ? p->npages_max : 1, sizeof(*p->free_stack));
    pthread_mutex_init(&p->lock, NULL);
    return 0;
}

void
mm_pool_fini(struct mm_pool *p)
{
    if (p->arena != NULL) {
        munmap(p->arena, p->arena_size);
    }
    mm_free(p->pages);
    mm_free(p->free_stack);
    pthread_mutex_destroy(&p->lock);
    memset(p, 0, sizeof(*p));
}

bool
mm_pool_charge(struct mm_pool *p, size_t len)
{
    size_t cur = __atomic_load_n(&p->charged, __ATOMIC_RELAXED);
    size_t lim;

    do {
        lim = __atomic_load_n(&p->limit, __ATOMIC_RELAXED);
        if (lim != 0 && cur + len > lim) {
            return false;
        }
    } while (!__atomic_compare_exchange_n(&p->charged, &cur, cur + len, true, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    return true;
}

void
mm_pool_uncharge(struct mm_pool *p, size_t len)
{
    __atomic_fetch_sub(&p->charged, len, __ATOMIC_RELAXED);
}

uint32_t
mm_pool_take(struct mm_pool *p)
{
    uint32_t pg = MM_POOL_NONE;

    if (!mm_pool_charge(p, p->page_size)) {
        return MM_POOL_NONE;
    }
    pthread_mutex_lock(&p->lock);
    if (p->nfree_stack > 0) {
        pg = p->free_stack[p->nfree_stack - 1];
        __atomic_store_n(&p->nfree_stack, p->nfree_stack - 1, __ATOMIC_RELAXED);
    } else if (p->arena_used + p->page_stride <= p->arena_size) {
        pg = (uint32_t)(p->arena_used / p->page_stride);
        p->arena_used += p->page_stride;
    }
    pthread_mutex_unlock(&p->lock);
    if (pg == MM_POOL_NONE) {
        /* Only once cache_memlimit raised the limit past the reservation,
         * or with the small fallback reservation: handled like the limit,
         * the caller evicts. */
        mm_pool_uncharge(p, p->page_size);
        __atomic_fetch_add(&p->malloc_fails, 1, __ATOMIC_RELAXED);
    }
    return pg;
}

void
mm_pool_give(struct mm_pool *p, uint32_t pg)
{
    /* Zero pages from here on, and no RSS until touched again. Done before
     * the page can be taken, so nobody sees it half cleared. */
    (void)madvise(mm_pool_addr(p, pg), p->page_stride, MADV_DONTNEED);
    pthread_mutex_lock(&p->lock);
    __atomic_store_n(&p->nfree_stack, p->nfree_stack + 1, __ATOMIC_RELAXED);
    p->free_stack[p->nfree_stack - 1] = pg;
    pthread_mutex_unlock(&p->lock);
    mm_pool_uncharge(p, p->page_size);
}

void
mm_pool_set_limit(struct mm_pool *p, size_t limit)
{
    __atomic_store_n(&p->limit, limit, __ATOMIC_RELAXED);
}

size_t
mm_pool_limit(const struct mm_pool *p)
{
    return __atomic_load_n(&p->limit, __ATOMIC_RELAXED);
}

size_t
mm_pool_charged(const struct mm_pool *p)
{
    return __atomic_load_n(&p->charged, __ATOMIC_RELAXED);
}

uint64_t
mm_pool_spare_pages(const struct mm_pool *p)
{
    size_t lim = mm_pool_limit(p);
    size_t cur = mm_pool_charged(p);

    if (lim == 0) {
        return UINT64_MAX;
    }
    return lim > cur ? (lim - cur) / p->page_size : 0;
}

uint64_t
mm_pool_pooled(const struct mm_pool *p)
{
    return __atomic_load_n(&p->nfree_stack, __ATOMIC_RELAXED);
}

size_t
mm_pool_excess(const struct mm_pool *p)
{
    size_t lim = mm_pool_limit(p);
    size_t cur = mm_pool_charged(p);

    return lim != 0 && cur > lim ? cur - lim : 0;
}
