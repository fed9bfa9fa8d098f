/* Unit tests for the response builder (mm_out): appends, reservations,
 * references released exactly once and only after their bytes are written,
 * partial writes at every byte offset, rollback to a mark, fini, the
 * promise that a drained builder holds no memory, and the per-thread cache
 * that takes its buffers and hands them to the next builder. */
#include "config.h"

#include "mmem/out.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REFS 4096

/* Reference bookkeeping: each reference is an index into these arrays; the
 * release callback checks it is released once, in order, and only after the
 * stream has been consumed past its last byte. */
struct refs {
    size_t consumed;      /* bytes consumed so far */
    size_t end[MAX_REFS]; /* stream offset just past the ref's bytes */
    bool released[MAX_REFS];
    int order[MAX_REFS];
    int nreleased;
    int ntaken;
    int errors;
};

static void
on_release(void *arg, void *obj)
{
    struct refs *r = arg;
    int id = (int)(intptr_t)obj;

    if (id < 0 || id >= r->ntaken || r->released[id] || r->consumed < r->end[id]) {
        r->errors++;
        return;
    }
    r->released[id] = true;
    r->order[r->nreleased++] = id;
}

/* A growing expected stream built alongside the builder. */
struct stream {
    char *buf;
    size_t len, cap;
};

static void
expect(struct stream *s, const void *p, size_t n)
{
    if (n == 0) {
        return;
    }
    if (s->len + n > s->cap) {
        s->cap = (s->len + n) * 2;
        s->buf = realloc(s->buf, s->cap);
        ck_assert_ptr_nonnull(s->buf);
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
}

static void
app(struct mm_out *o, struct stream *s, const char *p, size_t n)
{
    mm_out_append(o, p, n);
    expect(s, p, n);
}

static void
take_ref(struct mm_out *o, struct stream *s, struct refs *r, const char *p, size_t n)
{
    int id = r->ntaken++;

    ck_assert_int_lt(id, MAX_REFS);
    expect(s, p, n);
    r->end[id] = s->len;
    mm_out_ref(o, p, n, (void *)(intptr_t)id);
}

/* Consume up to n bytes: copy them out of the iovecs as writev would, then
 * tell the builder. Returns how many were consumed. */
static size_t
write_some(struct mm_out *o, struct refs *r, struct stream *got, size_t n)
{
    struct iovec *iov;
    int cnt = mm_out_iov(o, &iov, 1024);
    size_t done = 0;
    int k;

    for (k = 0; k < cnt && done < n; k++) {
        size_t take = iov[k].iov_len;

        ck_assert_uint_gt(take, 0);
        if (take > n - done) {
            take = n - done;
        }
        expect(got, iov[k].iov_base, take);
        done += take;
    }
    r->consumed += done;
    mm_out_consume(o, done);
    return done;
}

static void
assert_idle(const struct mm_out *o)
{
    ck_assert_uint_eq(mm_out_pending(o), 0);
    ck_assert_ptr_null(o->iov);
    ck_assert_ptr_null(o->chunks);
    ck_assert_ptr_null(o->tail);
    ck_assert_ptr_null(o->refs);
    ck_assert_uint_eq(o->icap, 0);
    ck_assert_uint_eq(o->rcap, 0);
}

static void
assert_same(const struct stream *a, const struct stream *b)
{
    ck_assert_uint_eq(a->len, b->len);
    ck_assert_int_eq(memcmp(a->buf, b->buf, a->len), 0);
}

START_TEST(test_append_coalesces)
{
    struct mm_out o;
    struct iovec *iov;
    int n;

    mm_out_init(&o, NULL, NULL);
    assert_idle(&o);
    ck_assert_int_eq(mm_out_iov(&o, &iov, 16), 0);
    mm_out_append(&o, "STORED", 6);
    MM_OUT_LIT(&o, "\r\n");
    mm_out_str(&o, "END\r\n", 5);
    mm_out_append(&o, "ignored", 0);
    ck_assert_uint_eq(mm_out_pending(&o), 13);
    n = mm_out_iov(&o, &iov, 16);
    ck_assert_int_eq(n, 1);
    ck_assert_uint_eq(iov[0].iov_len, 13);
    ck_assert_int_eq(memcmp(iov[0].iov_base, "STORED\r\nEND\r\n", 13), 0);
    mm_out_consume(&o, 13);
    assert_idle(&o);
    mm_out_fini(&o);
}
END_TEST

START_TEST(test_reserve_commit)
{
    struct mm_out o;
    struct iovec *iov;
    char *p;
    int n;

    mm_out_init(&o, NULL, NULL);
    p = mm_out_reserve(&o, 64);
    ck_assert_ptr_nonnull(p);
    n = snprintf(p, 64, "VALUE %s %u %u\r\n", "k", 0u, 5u);
    mm_out_commit(&o, (size_t)n);
    mm_out_append(&o, "hello", 5);
    /* A reservation committed with 0 adds nothing. */
    (void)mm_out_reserve(&o, MM_OUT_RESERVE_MAX);
    mm_out_commit(&o, 0);
    MM_OUT_LIT(&o, "\r\n");
    ck_assert_int_eq(mm_out_iov(&o, &iov, 16), 1);
    ck_assert_uint_eq(iov[0].iov_len, (size_t)n + 7);
    ck_assert_int_eq(memcmp(iov[0].iov_base, "VALUE k 0 5\r\nhello\r\n", (size_t)n + 7), 0);
    mm_out_fini(&o);
    assert_idle(&o);
}
END_TEST

/* Big appends and reservations that do not fit the current chunk. */
START_TEST(test_chunk_overflow)
{
    struct mm_out o;
    struct refs r;
    struct stream want = {0}, got = {0};
    char big[10000];
    size_t k;

    memset(&r, 0, sizeof(r));
    for (k = 0; k < sizeof(big); k++) {
        big[k] = (char)('a' + k % 26);
    }
    mm_out_init(&o, on_release, &r);
    app(&o, &want, big, sizeof(big));
    ck_assert_uint_ge((unsigned)mm_out_iov(&o, &(struct iovec *){NULL}, 64), 3);
    /* Fill the tail almost up, then reserve more than is left. */
    for (k = 0; k < 40; k++) {
        char *p = mm_out_reserve(&o, MM_OUT_RESERVE_MAX);
        int n = snprintf(p, MM_OUT_RESERVE_MAX, "line %zu with some padding to use space\r\n", k);

        mm_out_commit(&o, (size_t)n);
        expect(&want, p, (size_t)n);
    }
    ck_assert_uint_eq(mm_out_pending(&o), want.len);
    while (mm_out_pending(&o) > 0) {
        ck_assert_uint_gt(write_some(&o, &r, &got, 777), 0);
    }
    assert_same(&want, &got);
    assert_idle(&o);
    mm_out_fini(&o);
    free(want.buf);
    free(got.buf);
}
END_TEST

START_TEST(test_ref_released_after_write)
{
    static const char value[] = "hello";
    struct mm_out o;
    struct refs r;
    struct stream want = {0}, got = {0};
    struct iovec *iov;

    memset(&r, 0, sizeof(r));
    mm_out_init(&o, on_release, &r);
    app(&o, &want, "VALUE k 0 5\r\n", 13);
    take_ref(&o, &want, &r, value, 5);
    app(&o, &want, "\r\nEND\r\n", 7);
    ck_assert_int_eq(mm_out_iov(&o, &iov, 16), 3);
    ck_assert_ptr_eq(iov[1].iov_base, value); /* referenced, not copied */

    write_some(&o, &r, &got, 13);
    ck_assert_int_eq(r.nreleased, 0);
    write_some(&o, &r, &got, 4);
    ck_assert_int_eq(r.nreleased, 0);
    write_some(&o, &r, &got, 1);
    ck_assert_int_eq(r.nreleased, 1);
    write_some(&o, &r, &got, 100);
    ck_assert_int_eq(r.nreleased, 1);
    ck_assert_int_eq(r.errors, 0);
    assert_same(&want, &got);
    assert_idle(&o);
    mm_out_fini(&o);
    ck_assert_int_eq(r.nreleased, 1);
    free(want.buf);
    free(got.buf);
}
END_TEST

/* The stream used by the split tests: small appends, references (two of
 * them adjacent in memory, so they share an iovec), a zero-length reference
 * mid-stream, a multi-chunk append and reservations. */
static const char item_mem[] = "KEY1VALUE-ONE|KEY2VALUE-TWO";

static void
build(struct mm_out *o, struct stream *s, struct refs *r)
{
    static char big[6000];
    char *p;
    size_t k;
    int n;

    for (k = 0; k < sizeof(big); k++) {
        big[k] = (char)('A' + k % 23);
    }
    app(o, s, "VALUE ", 6);
    take_ref(o, s, r, item_mem, 4); /* "KEY1" */
    app(o, s, " 0 9\r\n", 6);
    take_ref(o, s, r, item_mem + 4, 9);  /* "VALUE-ONE" */
    take_ref(o, s, r, item_mem + 13, 1); /* "|", adjacent: same iovec */
    take_ref(o, s, r, item_mem, 0);      /* zero-length, mid-stream */
    app(o, s, "\r\n", 2);
    p = mm_out_reserve(o, 100);
    n = snprintf(p, 100, "VALUE %s %d %d\r\n", "KEY2", 7, 9);
    mm_out_commit(o, (size_t)n);
    expect(s, p, (size_t)n);
    take_ref(o, s, r, item_mem + 18, 9);
    app(o, s, big, sizeof(big));
    take_ref(o, s, r, item_mem + 14, 4);
    app(o, s, "END\r\n", 5);
}

static void
check_all_released(const struct refs *r)
{
    int k;

    ck_assert_int_eq(r->errors, 0);
    ck_assert_int_eq(r->nreleased, r->ntaken);
    for (k = 0; k < r->nreleased; k++) {
        ck_assert_int_eq(r->order[k], k); /* in the order taken */
    }
}

START_TEST(test_split_every_offset)
{
    struct stream ref_stream = {0};
    struct refs r0;
    struct mm_out o;
    size_t total, split;

    memset(&r0, 0, sizeof(r0));
    mm_out_init(&o, NULL, NULL);
    build(&o, &ref_stream, &r0);
    total = ref_stream.len;
    ck_assert_uint_eq(mm_out_pending(&o), total);
    mm_out_fini(&o);

    /* First split bytes, then the rest. */
    for (split = 0; split <= total; split++) {
        struct stream want = {0}, got = {0};
        struct refs *r = calloc(1, sizeof(*r));

        ck_assert_ptr_nonnull(r);
        mm_out_init(&o, on_release, r);
        build(&o, &want, r);
        ck_assert_uint_eq(write_some(&o, r, &got, split), split);
        ck_assert_int_eq(r->errors, 0);
        while (mm_out_pending(&o) > 0) {
            ck_assert_uint_gt(write_some(&o, r, &got, total), 0);
        }
        assert_same(&want, &got);
        check_all_released(r);
        assert_idle(&o);
        mm_out_fini(&o);
        ck_assert_int_eq(r->nreleased, r->ntaken);
        free(r);
        free(want.buf);
        free(got.buf);
    }
    free(ref_stream.buf);
}
END_TEST

START_TEST(test_split_steps)
{
    struct mm_out o;
    size_t step;

    /* Writes of step bytes at a time, for every step size up to 700, then
     * a few large ones. */
    for (step = 1; step <= 7000; step = step < 700 ? step + 1 : step + 997) {
        struct stream want = {0}, got = {0};
        struct refs *r = calloc(1, sizeof(*r));

        ck_assert_ptr_nonnull(r);
        mm_out_init(&o, on_release, r);
        build(&o, &want, r);
        while (mm_out_pending(&o) > 0) {
            ck_assert_uint_gt(write_some(&o, r, &got, step), 0);
            ck_assert_int_eq(r->errors, 0);
        }
        assert_same(&want, &got);
        check_all_released(r);
        assert_idle(&o);
        mm_out_fini(&o);
        free(r);
        free(want.buf);
        free(got.buf);
    }
}
END_TEST

START_TEST(test_iov_max)
{
    static const char mem[200];
    struct mm_out o;
    struct refs r;
    struct iovec *iov;
    int k;

    memset(&r, 0, sizeof(r));
    mm_out_init(&o, on_release, &r);
    /* Every other byte: never adjacent, so one iovec each. */
    for (k = 0; k < 100; k++) {
        r.end[r.ntaken] = (size_t)k + 1;
        mm_out_ref(&o, mem + 2 * k, 1, (void *)(intptr_t)r.ntaken++);
    }
    ck_assert_int_eq(mm_out_iov(&o, &iov, 10), 10);
    ck_assert_int_eq(mm_out_iov(&o, &iov, 1000), 100);
    r.consumed = 10;
    mm_out_consume(&o, 10);
    ck_assert_int_eq(r.nreleased, 10);
    ck_assert_int_eq(mm_out_iov(&o, &iov, 1000), 90);
    ck_assert_ptr_eq(iov[0].iov_base, mem + 20);
    r.consumed = SIZE_MAX; /* fini releases without writing */
    mm_out_fini(&o);
    ck_assert_int_eq(r.nreleased, 100);
    ck_assert_int_eq(r.errors, 0);
}
END_TEST

START_TEST(test_zero_length_ref)
{
    struct mm_out o;
    struct refs r;
    struct stream want = {0}, got = {0};

    memset(&r, 0, sizeof(r));
    mm_out_init(&o, on_release, &r);
    /* Nothing pending: released at once, nothing held. */
    take_ref(&o, &want, &r, item_mem, 0);
    ck_assert_int_eq(r.nreleased, 1);
    assert_idle(&o);

    /* Behind pending bytes: released once they are written. */
    app(&o, &want, "abc", 3);
    take_ref(&o, &want, &r, item_mem, 0);
    ck_assert_int_eq(r.nreleased, 1);
    write_some(&o, &r, &got, 2);
    ck_assert_int_eq(r.nreleased, 1);
    write_some(&o, &r, &got, 1);
    ck_assert_int_eq(r.nreleased, 2);
    ck_assert_int_eq(r.errors, 0);
    assert_idle(&o);
    mm_out_fini(&o);
    free(want.buf);
    free(got.buf);
}
END_TEST

START_TEST(test_rollback)
{
    struct mm_out o;
    struct refs r;
    struct stream want = {0}, got = {0};
    struct mm_out_mark m;
    struct iovec *iov;
    char big[5000];

    memset(&r, 0, sizeof(r));
    memset(big, 'z', sizeof(big));
    mm_out_init(&o, on_release, &r);
    app(&o, &want, "a", 1);
    mm_out_mark(&o, &m);
    /* Extends the mark's last iovec, adds a ref and more chunks. */
    mm_out_append(&o, "bbb", 3);
    r.end[r.ntaken] = 0; /* rolled back: released without being written */
    mm_out_ref(&o, item_mem, 4, (void *)(intptr_t)r.ntaken++);
    mm_out_append(&o, big, sizeof(big));
    ck_assert_uint_eq(mm_out_pending(&o), 1 + 3 + 4 + sizeof(big));
    mm_out_rollback(&o, &m);
    ck_assert_int_eq(r.nreleased, 1);
    ck_assert_uint_eq(mm_out_pending(&o), 1);
    ck_assert_int_eq(mm_out_iov(&o, &iov, 16), 1);
    ck_assert_uint_eq(iov[0].iov_len, 1);

    /* Appends continue where the mark was. */
    app(&o, &want, "c", 1);
    ck_assert_int_eq(mm_out_iov(&o, &iov, 16), 1);
    while (mm_out_pending(&o) > 0) {
        write_some(&o, &r, &got, 100);
    }
    assert_same(&want, &got);
    ck_assert_int_eq(r.errors, 0);
    assert_idle(&o);
    mm_out_fini(&o);
    free(want.buf);
    free(got.buf);
}
END_TEST

START_TEST(test_rollback_to_empty)
{
    struct mm_out o;
    struct refs r;
    struct mm_out_mark m;

    memset(&r, 0, sizeof(r));
    mm_out_init(&o, on_release, &r);
    mm_out_mark(&o, &m);
    mm_out_append(&o, "quiet miss\r\n", 12);
    r.end[r.ntaken] = 0;
    mm_out_ref(&o, item_mem, 4, (void *)(intptr_t)r.ntaken++);
    mm_out_rollback(&o, &m);
    ck_assert_int_eq(r.nreleased, 1);
    assert_idle(&o);
    mm_out_fini(&o);
    ck_assert_int_eq(r.nreleased, 1);
    ck_assert_int_eq(r.errors, 0);
}
END_TEST

/* A mark taken after a partial write (a consume before the mark is fine). */
START_TEST(test_rollback_after_partial)
{
    struct mm_out o;
    struct refs r;
    struct stream want = {0}, got = {0};
    struct mm_out_mark m;
    char big[9000];

    memset(&r, 0, sizeof(r));
    memset(big, 'q', sizeof(big));
    mm_out_init(&o, on_release, &r);
    app(&o, &want, big, sizeof(big));
    take_ref(&o, &want, &r, item_mem, 9);
    write_some(&o, &r, &got, 5000);
    mm_out_mark(&o, &m);
    mm_out_append(&o, big, 3000);
    mm_out_ref(&o, item_mem, 4, (void *)(intptr_t)r.ntaken++);
    r.end[1] = 0;
    mm_out_rollback(&o, &m);
    ck_assert_int_eq(r.nreleased, 1);
    ck_assert(r.released[1]);
    app(&o, &want, "tail", 4);
    while (mm_out_pending(&o) > 0) {
        write_some(&o, &r, &got, 1000);
    }
    assert_same(&want, &got);
    ck_assert_int_eq(r.nreleased, 2);
    ck_assert_int_eq(r.errors, 0);
    assert_idle(&o);
    free(want.buf);
    free(got.buf);
}
END_TEST

START_TEST(test_discard_unwritten)
{
    struct mm_out o;
    struct refs r;
    struct iovec *iov;

    memset(&r, 0, sizeof(r));
    mm_out_init(&o, on_release, &r);
    mm_out_append(&o, "STORED\r\n", 8);
    r.end[r.ntaken] = 0; /* discarded: released without being written */
    mm_out_ref(&o, item_mem, 4, (void *)(intptr_t)r.ntaken++);
    ck_assert(mm_out_discard_unwritten(&o));
    ck_assert_int_eq(r.nreleased, 1);
    ck_assert_uint_eq(mm_out_pending(&o), 0);
    assert_idle(&o);

    /* Once part of the stream has been written, nothing is discarded. */
    mm_out_append(&o, "abcdef", 6);
    ck_assert_int_eq(mm_out_iov(&o, &iov, 16), 1);
    mm_out_consume(&o, 2);
    ck_assert(!mm_out_discard_unwritten(&o));
    ck_assert_uint_eq(mm_out_pending(&o), 4);
    mm_out_fini(&o);
}
END_TEST

START_TEST(test_fini_releases)
{
    struct mm_out o;
    struct refs r;
    struct stream want = {0}, got = {0};

    memset(&r, 0, sizeof(r));
    mm_out_init(&o, on_release, &r);
    build(&o, &want, &r);
    write_some(&o, &r, &got, 20);
    ck_assert_int_lt(r.nreleased, r.ntaken);
    /* fini releases the rest, without the bytes being written. */
    r.consumed = SIZE_MAX;
    mm_out_fini(&o);
    check_all_released(&r);
    assert_idle(&o);
    /* The builder is reusable after fini. */
    mm_out_append(&o, "x", 1);
    ck_assert_uint_eq(mm_out_pending(&o), 1);
    mm_out_fini(&o);
    assert_idle(&o);
    free(want.buf);
    free(got.buf);
}
END_TEST

/* A slow reader: the builder never drains while appends and references keep
 * coming, which exercises the array compaction and chunk recycling. */
START_TEST(test_backlog)
{
    struct mm_out o;
    struct refs *r = calloc(1, sizeof(*r));
    struct stream want = {0}, got = {0};
    static char mem[8192];
    int k;

    ck_assert_ptr_nonnull(r);
    for (k = 0; k < (int)sizeof(mem); k++) {
        mem[k] = (char)('0' + k % 10);
    }
    mm_out_init(&o, on_release, r);
    for (k = 0; k < 3000; k++) {
        char line[32];
        int n = snprintf(line, sizeof(line), "<%d>", k);

        app(&o, &want, line, (size_t)n);
        if (r->ntaken < MAX_REFS) {
            take_ref(&o, &want, r, mem + (k * 3) % 8000, 1 + (size_t)k % 5);
        }
        /* Write about half of what is pending, but never all of it. */
        if (mm_out_pending(&o) > 1) {
            write_some(&o, r, &got, mm_out_pending(&o) / 2);
        }
        ck_assert_int_eq(r->errors, 0);
        ck_assert_uint_gt(mm_out_pending(&o), 0);
    }
    while (mm_out_pending(&o) > 0) {
        write_some(&o, r, &got, 333);
    }
    assert_same(&want, &got);
    check_all_released(r);
    assert_idle(&o);
    mm_out_fini(&o);
    free(r);
    free(want.buf);
    free(got.buf);
}
END_TEST

/* A drained builder parks its buffers in the cache (chunks up to the cap,
 * small arrays) and the next builder starts from them; bytes and releases
 * are unaffected. */
START_TEST(test_cache_reuse)
{
    static const char val[] = "0123456789";
    struct mm_out_cache cache;
    struct mm_out a, b;
    struct refs *r = calloc(1, sizeof(*r));
    struct mm_out_chunk *first;
    struct iovec *arr;
    struct iovec *iov;
    char big[5000];
    int n;

    ck_assert_ptr_nonnull(r);
    mm_out_cache_init(&cache, 2);
    mm_out_init(&a, on_release, r);
    mm_out_use_cache(&a, &cache);
    MM_OUT_LIT(&a, "VALUE k 0 10\r\n");
    r->end[r->ntaken] = mm_out_pending(&a) + 10;
    mm_out_ref(&a, val, 10, (void *)(intptr_t)r->ntaken++);
    MM_OUT_LIT(&a, "\r\nEND\r\n");
    first = a.chunks;
    arr = a.iov;
    ck_assert_uint_eq(mm_out_pending(&a), 14 + 10 + 7);
    r->consumed = mm_out_pending(&a);
    mm_out_consume(&a, mm_out_pending(&a));
    assert_idle(&a);
    ck_assert_int_eq(r->nreleased, 1);
    ck_assert_int_eq(r->errors, 0);
    ck_assert_uint_eq(cache.nchunks, 1);
    ck_assert_ptr_eq(cache.chunks, first);
    ck_assert_ptr_eq(cache.iov, arr);
    ck_assert_ptr_nonnull(cache.refs);

    /* The next builder gets them back. */
    mm_out_init(&b, NULL, NULL);
    mm_out_use_cache(&b, &cache);
    MM_OUT_LIT(&b, "END\r\n");
    ck_assert_ptr_eq(b.chunks, first);
    ck_assert_ptr_eq(b.iov, arr);
    ck_assert_uint_eq(cache.nchunks, 0);
    ck_assert_ptr_null(cache.iov);
    n = mm_out_iov(&b, &iov, 16);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(memcmp(iov[0].iov_base, "END\r\n", 5), 0);
    /* Three chunks' worth: only two stay in the cache. */
    memset(big, 'x', sizeof(big));
    mm_out_append(&b, big, sizeof(big));
    mm_out_append(&b, big, sizeof(big));
    ck_assert_uint_eq(b.nchunks, 3);
    mm_out_consume(&b, mm_out_pending(&b));
    assert_idle(&b);
    ck_assert_uint_eq(cache.nchunks, 2);
    mm_out_fini(&a);
    mm_out_fini(&b);
    mm_out_cache_fini(&cache);
    ck_assert_ptr_null(cache.chunks);
    ck_assert_ptr_null(cache.iov);
    ck_assert_ptr_null(cache.refs);
    free(r);
}
END_TEST

/* A deep backlog's arrays are not kept: the cache stays small. */
START_TEST(test_cache_skips_big_arrays)
{
    static char bytes[1024];
    struct mm_out_cache cache;
    struct mm_out o;
    int i;

    mm_out_cache_init(&cache, 4);
    mm_out_init(&o, NULL, NULL);
    mm_out_use_cache(&o, &cache);
    /* Separate bytes, so no two references share an iovec. */
    for (i = 0; i < 300; i++) {
        mm_out_ref(&o, bytes + 2 * i, 1, bytes);
    }
    ck_assert_uint_ge(o.icap, 300);
    ck_assert_uint_ge(o.rcap, 300);
    mm_out_consume(&o, mm_out_pending(&o));
    assert_idle(&o);
    ck_assert_ptr_null(cache.iov);
    ck_assert_ptr_null(cache.refs);
    mm_out_fini(&o);
    mm_out_cache_fini(&cache);
}
END_TEST

static Suite *
out_suite(void)
{
    Suite *s = suite_create("out");
    TCase *tc = tcase_create("out");

    tcase_add_test(tc, test_append_coalesces);
    tcase_add_test(tc, test_reserve_commit);
    tcase_add_test(tc, test_chunk_overflow);
    tcase_add_test(tc, test_ref_released_after_write);
    tcase_add_test(tc, test_split_every_offset);
    tcase_add_test(tc, test_split_steps);
    tcase_add_test(tc, test_iov_max);
    tcase_add_test(tc, test_zero_length_ref);
    tcase_add_test(tc, test_rollback);
    tcase_add_test(tc, test_rollback_to_empty);
    tcase_add_test(tc, test_rollback_after_partial);
    tcase_add_test(tc, test_discard_unwritten);
    tcase_add_test(tc, test_fini_releases);
    tcase_add_test(tc, test_backlog);
    tcase_add_test(tc, test_cache_reuse);
    tcase_add_test(tc, test_cache_skips_big_arrays);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(out_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
