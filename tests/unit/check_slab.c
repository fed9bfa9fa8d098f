/* Slab class table, chunk allocation, the memory limit and -L. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/handle_int.h"
#include "store/item_int.h"
#include "store/slab_int.h"

/* `memcached -vv` (1.6.18, defaults -n 48 -f 1.25): chunk size, perslab. */
static const unsigned mc_sizes[][2] = {
    {96, 10922}, {120, 8738}, {152, 6898}, {192, 5461},  {240, 4369}, {304, 3449}, {384, 2730},
    {480, 2184}, {600, 1747}, {752, 1394}, {944, 1110},  {1184, 885}, {1480, 708}, {1856, 564},
    {2320, 451}, {2904, 361}, {3632, 288}, {4544, 230},  {5680, 184}, {7104, 147}, {8880, 118},
    {11104, 94}, {13880, 75}, {17352, 60}, {21696, 48},  {27120, 38}, {33904, 30}, {42384, 24},
    {52984, 19}, {66232, 15}, {82792, 12}, {103496, 10}, {129376, 8}, {161720, 6}, {202152, 5},
    {252696, 4}, {315872, 3}, {394840, 2}, {524288, 2},
};

static void
cfg_default(struct mm_slab_cfg *c, size_t limit)
{
    memset(c, 0, sizeof(*c));
    c->mem_limit = limit;
    c->factor = 1.25;
    c->base = 48 + 48;
}

START_TEST(test_class_table_matches_memcached)
{
    struct mm_slab sl;
    struct mm_slab_cfg c;
    unsigned i;
    unsigned n = sizeof(mc_sizes) / sizeof(mc_sizes[0]);

    cfg_default(&c, 64u << 20);
    ck_assert_int_eq(mm_slab_init(&sl, &c), 0);
    ck_assert_uint_eq(sl.nclasses, n);
    for (i = 0; i < n; i++) {
        ck_assert_uint_eq(sl.cls[i + 1].size, mc_sizes[i][0]);
        ck_assert_uint_eq(sl.cls[i + 1].perslab, mc_sizes[i][1]);
    }
    mm_slab_fini(&sl);
}
END_TEST

START_TEST(test_fine_classes)
{
    struct mm_slab sl;
    struct mm_slab_cfg c;
    unsigned i;
    unsigned j;
    unsigned k;
    unsigned n = sizeof(mc_sizes) / sizeof(mc_sizes[0]);

    /* mmem's default: 16-byte steps from our header + -n below 512 bytes,
     * memcached's own classes above. */
    cfg_default(&c, 64u << 20);
    c.fine_base = 20 + 48;
    c.fine_max = 512;
    c.fine_step = 16;
    ck_assert_int_eq(mm_slab_init(&sl, &c), 0);
    ck_assert_uint_eq(sl.cls[1].size, 80);
    ck_assert_uint_eq(sl.cls[2].size, 96);
    for (i = 1; sl.cls[i].size < 512; i++) {
        ck_assert_uint_eq(sl.cls[i + 1].size, sl.cls[i].size + 16);
    }
    ck_assert_uint_eq(sl.cls[i].size, 512);
    /* Above: exactly memcached's table, 600 .. 524288. */
    for (j = 0; mc_sizes[j][0] <= 512; j++) {
    }
    for (k = 0; j + k < n; k++) {
        ck_assert_uint_eq(sl.cls[i + 1 + k].size, mc_sizes[j + k][0]);
    }
    ck_assert_uint_eq(sl.cls[i + 1].size, 600);
    ck_assert_uint_eq(i + k, sl.nclasses);
    for (i = 1; i <= sl.nclasses; i++) {
        ck_assert_uint_eq(sl.cls[i].size % MM_SLAB_ALIGN, 0);
        if (i > 1) {
            ck_assert_uint_gt(sl.cls[i].size, sl.cls[i - 1].size);
        }
    }
    ck_assert_uint_le(sl.nclasses, MM_SLAB_MAX_CLASSES);
    /* A 14-byte key, a 100-byte value, CAS and a 20-byte header: 142 bytes
     * waste 2 (memcached's item, 173 bytes, needs its 192-byte class). */
    ck_assert_uint_eq(sl.cls[mm_slab_class(&sl, 142)].size, 144);
    /* Never a bigger chunk than memcached's: our item is 31 bytes smaller
     * (20-byte header against 48, no NUL or "\r\n"), and every size of
     * memcached's table is covered by one of ours at or below it. */
    for (k = 0; k < n; k++) {
        size_t mc_chunk = mc_sizes[k][0];

        ck_assert_uint_le(sl.cls[mm_slab_class(&sl, mc_chunk - 31)].size, mc_chunk);
    }
    mm_slab_fini(&sl);
}
END_TEST

START_TEST(test_fine_classes_cap)
{
    struct mm_slab sl;
    struct mm_slab_cfg c;

    /* A small factor on top: the table stops at 63 ids, the last one
     * chunk_max, as memcached's does. */
    cfg_default(&c, 64u << 20);
    c.fine_base = 20 + 48;
    c.fine_max = 512;
    c.fine_step = 16;
    c.factor = 1.05;
    ck_assert_int_eq(mm_slab_init(&sl, &c), 0);
    ck_assert_uint_eq(sl.nclasses, MM_SLAB_MAX_CLASSES);
    ck_assert_uint_eq(sl.cls[sl.nclasses].size, 524288);
    mm_slab_fini(&sl);
}
END_TEST

START_TEST(test_class_table_factor_2)
{
    struct mm_slab sl;
    struct mm_slab_cfg c;

    /* memcached -f 2 -n 48: 96, 192, ..., 196608, then 524288. */
    cfg_default(&c, 64u << 20);
    c.factor = 2.0;
    ck_assert_int_eq(mm_slab_init(&sl, &c), 0);
    ck_assert_uint_eq(sl.cls[1].size, 96);
    ck_assert_uint_eq(sl.cls[2].size, 192);
    ck_assert_uint_eq(sl.cls[12].size, 196608);
    ck_assert_uint_eq(sl.nclasses, 13);
    ck_assert_uint_eq(sl.cls[13].size, 524288);
    mm_slab_fini(&sl);
}
END_TEST

START_TEST(test_class_lookup)
{
    struct mm_slab sl;
    struct mm_slab_cfg c;

    cfg_default(&c, 64u << 20);
    ck_assert_int_eq(mm_slab_init(&sl, &c), 0);
    ck_assert_uint_eq(mm_slab_class(&sl, 1), 1);
    ck_assert_uint_eq(mm_slab_class(&sl, 96), 1);
    ck_assert_uint_eq(mm_slab_class(&sl, 97), 2);
    ck_assert_uint_eq(mm_slab_class(&sl, 152), 3);
    ck_assert_uint_eq(mm_slab_class(&sl, 153), 4);
    ck_assert_uint_eq(mm_slab_class(&sl, 524288), sl.nclasses);
    ck_assert_uint_eq(mm_slab_class(&sl, 524289), 0);
    ck_assert_uint_eq(mm_slab_class(&sl, 0), 0);
    mm_slab_fini(&sl);
}
END_TEST

START_TEST(test_bad_cfg)
{
    struct mm_slab sl;
    struct mm_slab_cfg c;

    cfg_default(&c, 0);
    c.factor = 1.0;
    ck_assert_int_eq(mm_slab_init(&sl, &c), -1);
}
END_TEST

START_TEST(test_alloc_free_reuse)
{
    struct mm_slab sl;
    struct mm_slab_cfg c;
    struct mm_slab_class_stats cs;
    char *a;
    char *b;
    char *d;

    cfg_default(&c, 64u << 20);
    ck_assert_int_eq(mm_slab_init(&sl, &c), 0);
    ck_assert_uint_eq(mm_slab_malloced(&sl), 0);
    a = mm_slab_alloc(&sl, 1);
    b = mm_slab_alloc(&sl, 1);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_eq(b, a + 96);
    memset(a, 'x', 96);
    memset(b, 'y', 96);
    ck_assert_uint_eq(mm_slab_malloced(&sl), 1u << 20);
    mm_slab_class_stats(&sl, 1, &cs);
    ck_assert_uint_eq(cs.npages, 1);
    ck_assert_uint_eq(cs.used, 2);
    ck_assert_uint_eq(cs.free_end, 10922 - 2);
    mm_slab_free(&sl, a, 1);
    mm_slab_class_stats(&sl, 1, &cs);
    ck_assert_uint_eq(cs.used, 1);
    ck_assert_uint_eq(cs.free_chunks, 1);
    d = mm_slab_alloc(&sl, 1);
    ck_assert_ptr_eq(d, a);
    /* b was not disturbed by a's trip through the free list. */
    ck_assert_int_eq(b[0], 'y');
    ck_assert_int_eq(b[95], 'y');
    mm_slab_fini(&sl);
}
END_TEST

START_TEST(test_limit)
{
    struct mm_slab sl;
    struct mm_slab_cfg c;
    unsigned n = 0;

    /* Two pages: class 39 (524288 bytes, 2 per page) gets both pages, then
     * stops. */
    cfg_default(&c, 2u << 20);
    ck_assert_int_eq(mm_slab_init(&sl, &c), 0);
    while (mm_slab_alloc(&sl, sl.nclasses) != NULL && n < 100) {
        n++;
    }
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(mm_slab_malloced(&sl), 2u << 20);
    /* Not even a class with no page yet gets one past the limit (memcached
     * lets it; the store empties another page instead). */
    ck_assert_ptr_null(mm_slab_alloc(&sl, 1));
    ck_assert_uint_eq(mm_slab_malloced(&sl), 2u << 20);
    /* Raising the limit lets classes grow again, one page at a time. */
    mm_slab_set_limit(&sl, 3u << 20);
    n = 0;
    while (mm_slab_alloc(&sl, 1) != NULL && n < 20000) {
        n++;
    }
    ck_assert_uint_eq(n, 10922);
    ck_assert_uint_eq(mm_slab_malloced(&sl), 3u << 20);
    mm_slab_fini(&sl);
}
END_TEST

START_TEST(test_large)
{
    struct mm_slab sl;
    struct mm_slab_cfg c;
    void *a;
    void *b;

    cfg_default(&c, 2u << 20);
    ck_assert_int_eq(mm_slab_init(&sl, &c), 0);
    a = mm_slab_large_alloc(&sl, 1000000);
    ck_assert_ptr_nonnull(a);
    memset(a, 1, 1000000);
    ck_assert_uint_eq(mm_slab_malloced(&sl), 1003520); /* rounded to 4 KB */
    b = mm_slab_large_alloc(&sl, 1100000);
    ck_assert_ptr_null(b);
    b = mm_slab_large_alloc(&sl, 1000000);
    ck_assert_ptr_nonnull(b);
    mm_slab_large_free(&sl, a, 1000000);
    ck_assert_uint_eq(mm_slab_malloced(&sl), 1003520);
    mm_slab_large_free(&sl, b, 1000000);
    ck_assert_uint_eq(mm_slab_malloced(&sl), 0);
    mm_slab_fini(&sl);
}
END_TEST

static unsigned with_calls;

static bool
with_fn(void *arg, void *p)
{
    with_calls++;
    return p == arg;
}

START_TEST(test_large_with)
{
    struct mm_slab sl;
    struct mm_slab_cfg c;
    void *a;
    uint32_t i;

    cfg_default(&c, 64u << 20);
    ck_assert_int_eq(mm_slab_init(&sl, &c), 0);
    a = mm_slab_large_alloc(&sl, 600000);
    ck_assert_ptr_nonnull(a);
    i = mm_slab_large_index(a);
    with_calls = 0;
    ck_assert(mm_slab_large_with(&sl, i, with_fn, a));
    ck_assert_uint_eq(with_calls, 1);
    mm_slab_large_free(&sl, a, 600000);
    /* A free slot: fn is not called. */
    ck_assert(!mm_slab_large_with(&sl, i, with_fn, a));
    ck_assert(!mm_slab_large_with(&sl, i + 1, with_fn, a));
    ck_assert_uint_eq(with_calls, 1);
    mm_slab_fini(&sl);
}
END_TEST

START_TEST(test_given_sizes)
{
    static const uint32_t sizes[] = {100, 200, 300};
    struct mm_slab sl;
    struct mm_slab_cfg c;

    /* -o slab_sizes: those chunks (8-byte aligned), then chunk_max, with
     * memcached's chunks per page. */
    cfg_default(&c, 64u << 20);
    c.sizes = sizes;
    c.nsizes = 3;
    ck_assert_int_eq(mm_slab_init(&sl, &c), 0);
    ck_assert_uint_eq(sl.nclasses, 4);
    ck_assert_uint_eq(sl.cls[1].size, 104);
    ck_assert_uint_eq(sl.cls[1].perslab, 10082);
    ck_assert_uint_eq(sl.cls[2].size, 200);
    ck_assert_uint_eq(sl.cls[3].size, 304);
    ck_assert_uint_eq(sl.cls[3].perslab, 3449);
    ck_assert_uint_eq(sl.cls[4].size, 524288);
    ck_assert_uint_eq(mm_slab_class(&sl, 105), 2);
    ck_assert_uint_eq(mm_slab_class(&sl, 305), 4);
    mm_slab_fini(&sl);
}
END_TEST

START_TEST(test_prealloc)
{
    struct mm_slab sl;
    struct mm_slab_cfg c;
    struct mm_slab_class_stats cs;
    unsigned id;

    cfg_default(&c, 16u << 20);
    c.prealloc = true;
    ck_assert_int_eq(mm_slab_init(&sl, &c), 0);
    ck_assert_ptr_nonnull(sl.pool.arena);
    /* Classes got their first page from the arena, in order, while the
     * budget lasted: 16 pages for 16 MB, none past the limit. */
    ck_assert_uint_gt(sl.nclasses, 16);
    for (id = 1; id <= sl.nclasses; id++) {
        mm_slab_class_stats(&sl, id, &cs);
        if (id > 16) {
            ck_assert_uint_eq(cs.npages, 0);
            continue;
        }
        ck_assert_uint_eq(cs.npages, 1);
        ck_assert_ptr_eq(mm_pool_addr(&sl.pool, sl.cls[id].pages[0]),
                         sl.pool.arena + (size_t)(id - 1) * sl.pool.page_stride);
    }
    ck_assert_uint_eq(mm_slab_malloced(&sl), 16u << 20);
    ck_assert_ptr_null(mm_slab_alloc(&sl, sl.nclasses));
    ck_assert_ptr_nonnull(mm_slab_alloc(&sl, 1));
    ck_assert_uint_eq(mm_slab_malloced(&sl), 16u << 20);
    mm_slab_fini(&sl);
}
END_TEST

/* Slab chunks and large items decode from their handles; 0 is NULL. */
START_TEST(test_handles_roundtrip)
{
    struct mm_slab sl;
    struct mm_slab_cfg c;
    struct mm_item_space sp;
    struct mm_item *big;
    unsigned id;

    cfg_default(&c, 64u << 20);
    ck_assert_int_eq(mm_slab_init(&sl, &c), 0);
    ck_assert_uint_eq(sl.pool.shift, 3);
    sp = mm_item_space_of(&sl);
    ck_assert_ptr_null(mm_item_at(&sp, 0));
    for (id = 1; id <= sl.nclasses; id++) {
        int k;

        for (k = 0; k < 3; k++) {
            struct mm_item *it = mm_slab_alloc(&sl, id);
            uint32_t h;

            it->cls_layout = (uint8_t)id; /* the class tells slab from large */
            h = mm_item_handle(&sp, it);
            ck_assert_uint_ne(h, 0);
            ck_assert_uint_lt(h, MM_HANDLE_LARGE);
            ck_assert_ptr_eq(mm_item_at(&sp, h), it);
        }
    }
    big = mm_slab_large_alloc(&sl, 600000);
    ck_assert_ptr_nonnull(big);
    big->cls_layout = MM_ITEM_CLS_LARGE;
    ck_assert_uint_eq(mm_item_handle(&sp, big), MM_HANDLE_LARGE | mm_slab_large_index(big));
    ck_assert_ptr_eq(mm_item_at(&sp, mm_item_handle(&sp, big)), big);
    mm_slab_large_free(&sl, big, 600000);
    mm_slab_fini(&sl);
}
END_TEST

/* A limit past what 2^31 8-byte units reach takes a coarser unit, and
 * chunks are aligned to it. */
START_TEST(test_shift_rule)
{
    struct mm_slab sl;
    struct mm_slab_cfg c;
    unsigned id;

    cfg_default(&c, (size_t)20 << 30);
    if (mm_slab_init(&sl, &c) != 0) {
        return; /* no 32 GiB of address space here: nothing to check */
    }
    ck_assert_uint_eq(sl.pool.shift, 4);
    for (id = 1; id <= sl.nclasses; id++) {
        ck_assert_uint_eq(sl.cls[id].size % 16, 0);
    }
    mm_slab_fini(&sl);
    cfg_default(&c, ((size_t)16 << 30) - ((size_t)128 << 20));
    ck_assert_int_eq(mm_slab_init(&sl, &c), 0);
    ck_assert_uint_eq(sl.pool.shift, 3);
    mm_slab_fini(&sl);
}
END_TEST

/* Freed registry slots read NULL and are reused before the span grows. */
START_TEST(test_large_slots_reused)
{
    struct mm_slab sl;
    struct mm_slab_cfg c;
    void *a;
    void *b;
    void *d;

    cfg_default(&c, 0);
    ck_assert_int_eq(mm_slab_init(&sl, &c), 0);
    ck_assert_uint_eq(mm_slab_large_span(&sl), 0);
    a = mm_slab_large_alloc(&sl, 700000);
    b = mm_slab_large_alloc(&sl, 700000);
    ck_assert_uint_eq(mm_slab_large_index(a), 0);
    ck_assert_uint_eq(mm_slab_large_index(b), 1);
    ck_assert_uint_eq(mm_slab_large_span(&sl), 2);
    ck_assert_ptr_eq(mm_slab_large_at(&sl, 1), b);
    mm_slab_large_free(&sl, a, 700000);
    ck_assert_ptr_null(mm_slab_large_at(&sl, 0));
    mm_slab_large_free(&sl, b, 700000);
    ck_assert_ptr_null(mm_slab_large_at(&sl, 1));
    /* Last freed, first reused. */
    d = mm_slab_large_alloc(&sl, 700000);
    ck_assert_uint_eq(mm_slab_large_index(d), 1);
    a = mm_slab_large_alloc(&sl, 700000);
    ck_assert_uint_eq(mm_slab_large_index(a), 0);
    ck_assert_uint_eq(mm_slab_large_span(&sl), 2);
    ck_assert_ptr_eq(mm_slab_large_at(&sl, 0), a);
    ck_assert_ptr_eq(mm_slab_large_at(&sl, 1), d);
    ck_assert_ptr_null(mm_slab_large_at(&sl, 2));
    /* The charge includes the 16-byte prefix, in whole pages. */
    ck_assert_uint_eq(mm_slab_malloced(&sl), 2 * ((700000 + 16 + 4095) / 4096 * 4096));
    mm_slab_large_free(&sl, a, 700000);
    mm_slab_large_free(&sl, d, 700000);
    ck_assert_uint_eq(mm_slab_malloced(&sl), 0);
    mm_slab_fini(&sl);
}
END_TEST

/* With no limit the whole handle range is the only bound: page allocation
 * fails cleanly once it is cut up, and the last chunk still has a handle.
 * Pages are carved without being touched, so this costs no memory. */
START_TEST(test_arena_exhausted)
{
    struct mm_slab sl;
    struct mm_slab_cfg c;
    struct mm_item_space sp;
    size_t before;
    char *p;
    char *last = NULL;

    cfg_default(&c, 0);
    ck_assert_int_eq(mm_slab_init(&sl, &c), 0);
    sp = mm_item_space_of(&sl);
    while ((p = mm_slab_alloc(&sl, sl.nclasses)) != NULL) {
        last = p;
    }
    ck_assert_uint_eq(sl.cls[sl.nclasses].npages, sl.pool.arena_size / sl.pool.page_stride);
    /* Even a class with no page at all gets none now, and the failed
     * attempt leaves no charge behind. */
    before = mm_slab_malloced(&sl);
    ck_assert_ptr_null(mm_slab_alloc(&sl, 1));
    ck_assert_uint_eq(mm_slab_malloced(&sl), before);
    ck_assert_uint_lt((size_t)(last - sp.base) >> sp.shift, MM_HANDLE_LARGE);
    mm_slab_fini(&sl);
}
END_TEST

/* The sanitizers' own reservations do not survive a tight RLIMIT_AS. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RLIMIT_AS_TESTABLE 0
#else
#define RLIMIT_AS_TESTABLE 1

static size_t
vm_size(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t kb = 0;

    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "VmSize: %zu kB", &kb) == 1) {
            break;
        }
    }
    fclose(f);
    return kb << 10;
}

/* In a child under ulimit -v: the big reservation is refused, so the arena
 * is the limit plus a page per class; a limit the address space cannot hold
 * at all fails init. */
static int
fallback_child(void)
{
    struct mm_slab sl;
    struct mm_slab_cfg c;
    struct rlimit rl;
    size_t want;

    rl.rlim_cur = rl.rlim_max = vm_size() + ((size_t)256 << 20);
    if (setrlimit(RLIMIT_AS, &rl) != 0) {
        return 10;
    }
    cfg_default(&c, 64u << 20);
    if (mm_slab_init(&sl, &c) != 0) {
        return 11;
    }
    want = (64u << 20) + (size_t)(sl.nclasses + 1) * sl.pool.page_stride;
    if (sl.pool.arena_size != want) {
        return 12;
    }
    /* Raising the limit past the reservation: pages stop at its end. */
    mm_slab_set_limit(&sl, 0);
    while (mm_slab_alloc(&sl, sl.nclasses) != NULL) {
    }
    if (sl.pool.arena_used != sl.pool.arena_size) {
        return 13;
    }
    mm_slab_fini(&sl);
    cfg_default(&c, (size_t)1 << 30);
    if (mm_slab_init(&sl, &c) != -1) {
        return 14;
    }
    return 0;
}

#endif

START_TEST(test_arena_fallback)
{
#if !RLIMIT_AS_TESTABLE
    return;
#else
    pid_t pid = fork();
    int status;

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        _exit(fallback_child());
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
#endif
}
END_TEST

static Suite *
slab_suite(void)
{
    Suite *s = suite_create("slab");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_class_table_matches_memcached);
    tcase_add_test(tc, test_class_table_factor_2);
    tcase_add_test(tc, test_fine_classes);
    tcase_add_test(tc, test_large_with);
    tcase_add_test(tc, test_fine_classes_cap);
    tcase_add_test(tc, test_class_lookup);
    tcase_add_test(tc, test_bad_cfg);
    tcase_add_test(tc, test_alloc_free_reuse);
    tcase_add_test(tc, test_limit);
    tcase_add_test(tc, test_large);
    tcase_add_test(tc, test_prealloc);
    tcase_add_test(tc, test_given_sizes);
    tcase_add_test(tc, test_handles_roundtrip);
    tcase_add_test(tc, test_shift_rule);
    tcase_add_test(tc, test_large_slots_reused);
    tcase_add_test(tc, test_arena_exhausted);
    tcase_add_test(tc, test_arena_fallback);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(slab_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
