/* The store front door: every store mode, delete/touch/get, incr/decr with
 * memcached's quirks, flush (now and delayed), expiry, eviction, -M, size
 * limits, large items, references across eviction, and stats. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmem/item.h"
#include "mmem/store.h"
#include "store/item_int.h"
#include "store/slab_int.h"
#include "store/store_int.h"

static struct mm_clock clk;
static struct mm_store *st;

static void
cfg_init(struct mm_store_cfg *c)
{
    memset(c, 0, sizeof(*c));
    c->mem_limit = 64u << 20;
    c->evict = true;
    c->use_cas = true;
    c->hash_expand = true;
    c->hashpower = 8;
    c->clock = &clk;
}

static void
open_store(const struct mm_store_cfg *c)
{
    memset(&clk, 0, sizeof(clk));
    mm_clock_init_at(&clk, 1700000000, 1000);
    st = mm_store_create(c);
    ck_assert_ptr_nonnull(st);
}

static void
setup(void)
{
    struct mm_store_cfg c;

    cfg_init(&c);
    open_store(&c);
}

static void
teardown(void)
{
    mm_store_destroy(&st);
}

static mm_hash_t
H(const char *k)
{
    return mm_hash(k, strlen(k));
}

static enum mm_store_rc
store_full(const char *key, const void *val, size_t vlen, uint32_t flags, mm_reltime_t exp,
           enum mm_store_mode mode, uint64_t cas_in, uint64_t *cas_out)
{
    enum mm_store_rc rc;
    struct mm_item *it =
        mm_store_reserve(st, key, strlen(key), H(key), flags, exp, (uint32_t)vlen, &rc);

    if (it == NULL) {
        return rc;
    }
    memcpy(mm_item_data(it), val, vlen);
    return mm_store_commit(st, it, mode, cas_in, cas_out);
}

static enum mm_store_rc
store_mode(const char *key, const char *val, enum mm_store_mode mode)
{
    return store_full(key, val, strlen(val), 0, 0, mode, 0, NULL);
}

static enum mm_store_rc
set(const char *key, const char *val)
{
    return store_mode(key, val, MM_STORE_SET);
}

/* The value of key as a string ("" + NULL return when missing). */
static char value_buf[2 << 20];

static const char *
get_val(const char *key)
{
    struct mm_item *it = mm_store_get(st, key, strlen(key), H(key), false, 0, NULL);

    if (it == NULL) {
        return NULL;
    }
    memcpy(value_buf, mm_item_cdata(it), mm_item_vlen(it));
    value_buf[mm_item_vlen(it)] = '\0';
    mm_store_unref(st, it);
    return value_buf;
}

static uint64_t
cas_of(const char *key)
{
    struct mm_item *it = mm_store_get(st, key, strlen(key), H(key), false, 0, NULL);
    uint64_t cas;

    ck_assert_ptr_nonnull(it);
    cas = mm_item_cas(it);
    mm_store_unref(st, it);
    return cas;
}

static void
audit_clean(void)
{
    struct mm_store_audit a;

    mm_store_audit(st, &a);
    ck_assert_uint_eq(a.lru_items, a.ht_items);
    ck_assert_uint_eq(a.not_linked, 0);
    ck_assert_uint_eq(a.extra_refs, 0);
    ck_assert_uint_eq(a.slab_used + a.large_items, a.lru_items);
    ck_assert_uint_eq(a.lru_bytes, a.walked_bytes);
}

/* Collect emitted stats into a small table for lookups. */
struct kv {
    char name[64];
    char value[32];
};
static struct kv stats_tab[2048];
static unsigned stats_n;

static void
collect(void *arg, const char *name, const char *value)
{
    (void)arg;
    if (stats_n < 2048) {
        snprintf(stats_tab[stats_n].name, sizeof(stats_tab[0].name), "%s", name);
        snprintf(stats_tab[stats_n].value, sizeof(stats_tab[0].value), "%s", value);
        stats_n++;
    }
}

static const char *
stat(const char *name)
{
    unsigned i;

    for (i = 0; i < stats_n; i++) {
        if (strcmp(stats_tab[i].name, name) == 0) {
            return stats_tab[i].value;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------ */

START_TEST(test_set_get)
{
    struct mm_item *it;
    enum mm_store_get_result why;
    uint64_t cas = 0;

    ck_assert_ptr_null(get_val("a"));
    ck_assert_int_eq(store_full("a", "hello", 5, 42, 0, MM_STORE_SET, 0, &cas), MM_STORE_OK);
    ck_assert_uint_ne(cas, 0);
    it = mm_store_get(st, "a", 1, H("a"), false, 0, &why);
    ck_assert_ptr_nonnull(it);
    ck_assert_int_eq(why, MM_STORE_GET_HIT);
    ck_assert_uint_eq(mm_item_vlen(it), 5);
    ck_assert_int_eq(memcmp(mm_item_cdata(it), "hello", 5), 0);
    ck_assert_uint_eq(mm_item_flags(it), 42);
    ck_assert_uint_eq(mm_item_cas(it), cas);
    ck_assert_int_eq(memcmp(mm_item_key(it), "a", 1), 0);
    mm_store_unref(st, it);
    it = mm_store_get(st, "b", 1, H("b"), false, 0, &why);
    ck_assert_ptr_null(it);
    ck_assert_int_eq(why, MM_STORE_GET_MISS);
    /* Overwrite: new value, higher CAS. */
    ck_assert_int_eq(set("a", "x"), MM_STORE_OK);
    ck_assert_str_eq(get_val("a"), "x");
    ck_assert_uint_gt(cas_of("a"), cas);
    /* Empty values are fine. */
    ck_assert_int_eq(set("e", ""), MM_STORE_OK);
    ck_assert_str_eq(get_val("e"), "");
    audit_clean();
}
END_TEST

START_TEST(test_add_replace)
{
    ck_assert_int_eq(store_mode("k", "1", MM_STORE_REPLACE), MM_STORE_NOT_STORED);
    ck_assert_ptr_null(get_val("k"));
    ck_assert_int_eq(store_mode("k", "1", MM_STORE_ADD), MM_STORE_OK);
    ck_assert_int_eq(store_mode("k", "2", MM_STORE_ADD), MM_STORE_NOT_STORED);
    ck_assert_str_eq(get_val("k"), "1");
    ck_assert_int_eq(store_mode("k", "3", MM_STORE_REPLACE), MM_STORE_OK);
    ck_assert_str_eq(get_val("k"), "3");
    audit_clean();
}
END_TEST

START_TEST(test_append_prepend)
{
    struct mm_item *it;

    ck_assert_int_eq(store_mode("k", "x", MM_STORE_APPEND), MM_STORE_NOT_STORED);
    ck_assert_int_eq(store_mode("k", "x", MM_STORE_PREPEND), MM_STORE_NOT_STORED);
    ck_assert_ptr_null(get_val("k"));
    ck_assert_int_eq(store_full("k", "mid", 3, 7, 5000, MM_STORE_SET, 0, NULL), MM_STORE_OK);
    /* The appended piece's own flags/exptime are ignored. */
    ck_assert_int_eq(store_full("k", "END", 3, 99, 1, MM_STORE_APPEND, 0, NULL), MM_STORE_OK);
    ck_assert_int_eq(store_full("k", "go", 2, 98, 2, MM_STORE_PREPEND, 0, NULL), MM_STORE_OK);
    it = mm_store_get(st, "k", 1, H("k"), false, 0, NULL);
    ck_assert_ptr_nonnull(it);
    ck_assert_uint_eq(mm_item_vlen(it), 8);
    ck_assert_int_eq(memcmp(mm_item_cdata(it), "gomidEND", 8), 0);
    ck_assert_uint_eq(mm_item_flags(it), 7);
    ck_assert_uint_eq(mm_item_exptime(it), 5000);
    mm_store_unref(st, it);
    /* With a CAS: must match. */
    ck_assert_int_eq(store_full("k", "!", 1, 0, 0, MM_STORE_APPEND, cas_of("k") + 100, NULL),
                     MM_STORE_EXISTS);
    ck_assert_int_eq(store_full("k", "!", 1, 0, 0, MM_STORE_APPEND, cas_of("k"), NULL),
                     MM_STORE_OK);
    ck_assert_str_eq(get_val("k"), "gomidEND!");
    audit_clean();
}
END_TEST

START_TEST(test_cas)
{
    uint64_t c1;
    uint64_t c2 = 0;

    ck_assert_int_eq(store_full("k", "v", 1, 0, 0, MM_STORE_CAS, 1, NULL), MM_STORE_NOT_FOUND);
    ck_assert_int_eq(set("k", "v1"), MM_STORE_OK);
    c1 = cas_of("k");
    ck_assert_int_eq(store_full("k", "v2", 2, 0, 0, MM_STORE_CAS, c1 + 1, NULL), MM_STORE_EXISTS);
    ck_assert_int_eq(store_full("k", "v2", 2, 0, 0, MM_STORE_CAS, 0, NULL), MM_STORE_EXISTS);
    ck_assert_str_eq(get_val("k"), "v1");
    ck_assert_int_eq(store_full("k", "v2", 2, 0, 0, MM_STORE_CAS, c1, &c2), MM_STORE_OK);
    ck_assert_uint_gt(c2, c1);
    ck_assert_str_eq(get_val("k"), "v2");
    /* The old CAS is stale now. */
    ck_assert_int_eq(store_full("k", "v3", 2, 0, 0, MM_STORE_CAS, c1, NULL), MM_STORE_EXISTS);
    audit_clean();
}
END_TEST

/* Meta get: vivify on miss, the recache token, stale items. */
static struct mm_item *
mget(const char *key, struct mm_store_mget *m)
{
    return mm_store_mget(st, key, strlen(key), H(key), m, NULL);
}

START_TEST(test_mget_vivify_and_token)
{
    struct mm_store_mget m;
    struct mm_item *it;

    memset(&m, 0, sizeof(m));
    /* Without N a miss stays a miss. */
    ck_assert_ptr_null(mget("v", &m));
    ck_assert(!m.created && !m.won);
    m.vivify = true;
    m.vivify_exp = 1030;
    it = mget("v", &m);
    ck_assert_ptr_nonnull(it);
    ck_assert(m.created && m.won && !m.token_sent && !m.stale);
    ck_assert_uint_eq(mm_item_vlen(it), 0);
    ck_assert_uint_eq(mm_item_exptime(it), 1030);
    mm_store_unref(st, it);
    /* The next client finds the item and that the token is taken. */
    it = mget("v", &m);
    ck_assert_ptr_nonnull(it);
    ck_assert(!m.created && !m.won && m.token_sent);
    mm_store_unref(st, it);
    /* A real value replaces the placeholder and clears the token. */
    ck_assert_int_eq(set("v", "x"), MM_STORE_OK);
    memset(&m, 0, sizeof(m));
    it = mget("v", &m);
    ck_assert(!m.token_sent && !m.won);
    mm_store_unref(st, it);
    audit_clean();
}
END_TEST

START_TEST(test_mget_recache)
{
    struct mm_store_mget m;
    struct mm_item *it;

    ck_assert_int_eq(store_full("r", "v", 1, 0, 1100, MM_STORE_SET, 0, NULL), MM_STORE_OK);
    ck_assert_int_eq(set("n", "v"), MM_STORE_OK);
    memset(&m, 0, sizeof(m));
    m.recache = true;
    m.recache_at = 1050; /* expires after that: no win */
    it = mget("r", &m);
    ck_assert(!m.won && !m.token_sent);
    mm_store_unref(st, it);
    m.recache_at = 1200;
    it = mget("r", &m);
    ck_assert(m.won && !m.token_sent);
    mm_store_unref(st, it);
    it = mget("r", &m);
    ck_assert(!m.won && m.token_sent);
    mm_store_unref(st, it);
    /* An item that never expires is never due for recache. */
    it = mget("n", &m);
    ck_assert(!m.won);
    mm_store_unref(st, it);
    audit_clean();
}
END_TEST

START_TEST(test_mget_before_fields)
{
    struct mm_store_mget m;
    struct mm_item *it;

    ck_assert_int_eq(set("h", "v"), MM_STORE_OK);
    memset(&m, 0, sizeof(m));
    it = mget("h", &m);
    ck_assert(!m.fetched_before);
    ck_assert_uint_eq(m.atime_before, 1000);
    mm_store_unref(st, it);
    it = mget("h", &m);
    ck_assert(m.fetched_before);
    mm_store_unref(st, it);
    m.touch = true;
    m.new_exp = 1500;
    it = mget("h", &m);
    ck_assert_uint_eq(mm_item_exptime(it), 1500);
    mm_store_unref(st, it);
}
END_TEST

START_TEST(test_invalidate)
{
    struct mm_store_mget m;
    struct mm_item *it;
    uint64_t c1;

    ck_assert_int_eq(mm_store_invalidate(st, "s", 1, H("s"), 0, false, 0), MM_STORE_NOT_FOUND);
    ck_assert_int_eq(set("s", "v"), MM_STORE_OK);
    c1 = cas_of("s");
    ck_assert_int_eq(mm_store_invalidate(st, "s", 1, H("s"), c1 + 5, false, 0), MM_STORE_EXISTS);
    ck_assert_int_eq(mm_store_invalidate(st, "s", 1, H("s"), c1, true, 1040), MM_STORE_OK);
    /* still there, with a new CAS and the new expiry, marked stale */
    memset(&m, 0, sizeof(m));
    it = mget("s", &m);
    ck_assert_ptr_nonnull(it);
    ck_assert_uint_gt(mm_item_cas(it), c1);
    ck_assert_uint_eq(mm_item_exptime(it), 1040);
    ck_assert(m.stale && m.won && !m.token_sent);
    mm_store_unref(st, it);
    it = mget("s", &m);
    ck_assert(m.stale && !m.won && m.token_sent);
    mm_store_unref(st, it);
    /* invalidating again hands out a fresh token */
    ck_assert_int_eq(mm_store_invalidate(st, "s", 1, H("s"), 0, false, 0), MM_STORE_OK);
    it = mget("s", &m);
    ck_assert(m.stale && m.won && !m.token_sent);
    mm_store_unref(st, it);
    audit_clean();
}
END_TEST

START_TEST(test_cas_stale)
{
    struct mm_store_mget m;
    struct mm_item *it;
    uint64_t c1;

    ck_assert_int_eq(store_full("c", "v", 1, 0, 0, MM_STORE_CAS_STALE, 1, NULL),
                     MM_STORE_NOT_FOUND);
    /* move the CAS counter on so that an older CAS exists */
    ck_assert_int_eq(set("other", "v"), MM_STORE_OK);
    ck_assert_int_eq(store_full("c", "v1", 2, 0, 1300, MM_STORE_SET, 0, NULL), MM_STORE_OK);
    c1 = cas_of("c");
    ck_assert_uint_gt(c1, 1);
    /* newer than the item's: refused */
    ck_assert_int_eq(store_full("c", "v2", 2, 0, 0, MM_STORE_CAS_STALE, c1 + 1, NULL),
                     MM_STORE_EXISTS);
    /* older: stored, stale, old expiry kept */
    ck_assert_int_eq(store_full("c", "v3", 2, 0, 0, MM_STORE_CAS_STALE, c1 - 1, NULL), MM_STORE_OK);
    memset(&m, 0, sizeof(m));
    it = mget("c", &m);
    ck_assert(m.stale && m.won);
    ck_assert_uint_eq(mm_item_exptime(it), 1300);
    ck_assert(memcmp(mm_item_cdata(it), "v3", 2) == 0);
    mm_store_unref(st, it);
    /* matching: a normal, fresh store */
    c1 = cas_of("c");
    ck_assert_int_eq(store_full("c", "v4", 2, 0, 0, MM_STORE_CAS_STALE, c1, NULL), MM_STORE_OK);
    it = mget("c", &m);
    ck_assert(!m.stale && !m.won && !m.token_sent);
    mm_store_unref(st, it);
    audit_clean();
}
END_TEST

START_TEST(test_cas_disabled)
{
    struct mm_store_cfg c;

    mm_store_destroy(&st);
    cfg_init(&c);
    c.use_cas = false;
    open_store(&c);
    ck_assert_int_eq(set("k", "v"), MM_STORE_OK);
    ck_assert_uint_eq(cas_of("k"), 0);
    /* memcached -C: cas never matches. */
    ck_assert_int_eq(store_full("k", "w", 1, 0, 0, MM_STORE_CAS, 0, NULL), MM_STORE_EXISTS);
    ck_assert_int_eq(store_full("k", "w", 1, 0, 0, MM_STORE_CAS, 1, NULL), MM_STORE_EXISTS);
    ck_assert_str_eq(get_val("k"), "v");
    audit_clean();
}
END_TEST

START_TEST(test_abort)
{
    enum mm_store_rc rc;
    struct mm_item *it = mm_store_reserve(st, "k", 1, H("k"), 0, 0, 10, &rc);
    struct mm_store_audit a;

    ck_assert_ptr_nonnull(it);
    ck_assert_int_eq(rc, MM_STORE_OK);
    mm_store_audit(st, &a);
    ck_assert_uint_eq(a.slab_used, 1);
    mm_store_abort(st, it);
    mm_store_audit(st, &a);
    ck_assert_uint_eq(a.slab_used, 0);
    ck_assert_ptr_null(get_val("k"));
}
END_TEST

START_TEST(test_delete)
{
    uint64_t c;

    ck_assert_int_eq(mm_store_delete(st, "k", 1, H("k"), 0), MM_STORE_NOT_FOUND);
    ck_assert_int_eq(set("k", "v"), MM_STORE_OK);
    ck_assert_int_eq(mm_store_delete(st, "k", 1, H("k"), 0), MM_STORE_OK);
    ck_assert_ptr_null(get_val("k"));
    ck_assert_int_eq(mm_store_delete(st, "k", 1, H("k"), 0), MM_STORE_NOT_FOUND);
    /* With a CAS. */
    ck_assert_int_eq(set("k", "v"), MM_STORE_OK);
    c = cas_of("k");
    ck_assert_int_eq(mm_store_delete(st, "k", 1, H("k"), c + 1), MM_STORE_EXISTS);
    ck_assert_str_eq(get_val("k"), "v");
    ck_assert_int_eq(mm_store_delete(st, "k", 1, H("k"), c), MM_STORE_OK);
    ck_assert_ptr_null(get_val("k"));
    audit_clean();
}
END_TEST

static enum mm_store_rc
delta(const char *key, bool incr, uint64_t d, uint64_t *v)
{
    return mm_store_delta(st, key, strlen(key), H(key), incr, d, 0, v, NULL);
}

START_TEST(test_delta_padding_quirk)
{
    uint64_t v = 0;

    /* memcached: set k "100"; decr k 91 -> 9, stored as "9  ". */
    ck_assert_int_eq(set("k", "100"), MM_STORE_OK);
    ck_assert_int_eq(delta("k", false, 91, &v), MM_STORE_OK);
    ck_assert_uint_eq(v, 9);
    ck_assert_str_eq(get_val("k"), "9  ");
    /* "9  " parses (trailing spaces), incr 5 -> "14 ". */
    ck_assert_int_eq(delta("k", true, 5, &v), MM_STORE_OK);
    ck_assert_uint_eq(v, 14);
    ck_assert_str_eq(get_val("k"), "14 ");
    /* Longer than the old value: a new item, no padding. */
    ck_assert_int_eq(delta("k", true, 986, &v), MM_STORE_OK);
    ck_assert_str_eq(get_val("k"), "1000");
    audit_clean();
}
END_TEST

START_TEST(test_delta_wrap_floor)
{
    uint64_t v = 0;

    ck_assert_int_eq(set("n", "18446744073709551615"), MM_STORE_OK);
    ck_assert_int_eq(delta("n", true, 2, &v), MM_STORE_OK);
    ck_assert_uint_eq(v, 1);
    ck_assert_str_eq(get_val("n"), "1                   ");
    ck_assert_int_eq(set("d", "5"), MM_STORE_OK);
    ck_assert_int_eq(delta("d", false, 7, &v), MM_STORE_OK);
    ck_assert_uint_eq(v, 0);
    ck_assert_str_eq(get_val("d"), "0");
    ck_assert_int_eq(delta("missing", true, 1, &v), MM_STORE_NOT_FOUND);
}
END_TEST

START_TEST(test_delta_parsing)
{
    uint64_t v = 0;

    /* Answers taken from memcached 1.6.18. */
    static const struct {
        const char *val;
        enum mm_store_rc rc;
        uint64_t res; /* after incr 1 */
    } cases[] = {
        {"ab", MM_STORE_NON_NUMERIC, 0},
        {"", MM_STORE_NON_NUMERIC, 0},
        {" x", MM_STORE_NON_NUMERIC, 0},
        {"  ", MM_STORE_NON_NUMERIC, 0},
        {"12ab", MM_STORE_NON_NUMERIC, 0},
        {"0x5", MM_STORE_NON_NUMERIC, 0},
        {"-12", MM_STORE_NON_NUMERIC, 0},
        {"-", MM_STORE_NON_NUMERIC, 0},
        {"18446744073709551616", MM_STORE_NON_NUMERIC, 0},
        {"99999999999999999999  ", MM_STORE_NON_NUMERIC, 0},
        {" 12", MM_STORE_OK, 13},
        {"12 ", MM_STORE_OK, 13},
        {"+5", MM_STORE_OK, 6},
        {"-0", MM_STORE_OK, 1},
        {"1 a", MM_STORE_OK, 2},
        {"1\t ", MM_STORE_OK, 2},
        {"\n5\n", MM_STORE_OK, 6},
        {"000000000000000000001", MM_STORE_OK, 2},
        {"0000000000000000000000001", MM_STORE_OK, 2},
        {"-18446744073709551615", MM_STORE_OK, 2},
    };
    unsigned i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum mm_store_rc rc;

        ck_assert_int_eq(set("k", cases[i].val), MM_STORE_OK);
        rc = delta("k", true, 1, &v);
        ck_assert_msg(rc == cases[i].rc, "value '%s': rc %d", cases[i].val, rc);
        if (rc == MM_STORE_OK) {
            ck_assert_msg(v == cases[i].res, "value '%s': %llu", cases[i].val,
                          (unsigned long long)v);
        } else {
            /* Refused values stay as they were. */
            ck_assert_str_eq(get_val("k"), cases[i].val);
        }
    }
    /* An embedded NUL ends the number, as in memcached's C string. */
    ck_assert_int_eq(store_full("z", "5\0x", 3, 0, 0, MM_STORE_SET, 0, NULL), MM_STORE_OK);
    ck_assert_int_eq(delta("z", true, 1, &v), MM_STORE_OK);
    ck_assert_uint_eq(v, 6);
}
END_TEST

START_TEST(test_delta_cas_and_refs)
{
    uint64_t v = 0;
    uint64_t c;
    uint64_t cnew = 0;
    struct mm_item *held;

    ck_assert_int_eq(set("k", "100"), MM_STORE_OK);
    c = cas_of("k");
    ck_assert_int_eq(mm_store_delta(st, "k", 1, H("k"), true, 1, c + 5, &v, NULL), MM_STORE_EXISTS);
    ck_assert_int_eq(mm_store_delta(st, "k", 1, H("k"), true, 1, c, &v, &cnew), MM_STORE_OK);
    ck_assert_uint_eq(v, 101);
    ck_assert_uint_gt(cnew, c);
    ck_assert_uint_eq(cas_of("k"), cnew);
    /* While a reader holds the item, the update must not change what it
     * sees: a new item is made instead of writing in place. */
    held = mm_store_get(st, "k", 1, H("k"), false, 0, NULL);
    ck_assert_int_eq(delta("k", false, 100, &v), MM_STORE_OK);
    ck_assert_int_eq(memcmp(mm_item_cdata(held), "101", 3), 0);
    /* The copy keeps the old length and padding, as an in-place write would. */
    ck_assert_str_eq(get_val("k"), "1  ");
    mm_store_unref(st, held);
    audit_clean();
}
END_TEST

START_TEST(test_touch_and_expiry)
{
    enum mm_store_get_result why;
    struct mm_item *it;

    ck_assert_int_eq(store_full("k", "v", 1, 0, 1010, MM_STORE_SET, 0, NULL), MM_STORE_OK);
    ck_assert_int_eq(store_full("p", "v", 1, 0, 0, MM_STORE_SET, 0, NULL), MM_STORE_OK);
    mm_clock_init_at(&clk, 1700000000, 1009);
    ck_assert_str_eq(get_val("k"), "v");
    ck_assert_int_eq(mm_store_touch(st, "k", 1, H("k"), 1020), MM_STORE_OK);
    ck_assert_int_eq(mm_store_touch(st, "x", 1, H("x"), 1020), MM_STORE_NOT_FOUND);
    mm_clock_init_at(&clk, 1700000000, 1015);
    ck_assert_str_eq(get_val("k"), "v");
    /* gat: get and touch at once. */
    it = mm_store_get(st, "k", 1, H("k"), true, 1030, &why);
    ck_assert_ptr_nonnull(it);
    ck_assert_uint_eq(mm_item_exptime(it), 1030);
    mm_store_unref(st, it);
    mm_clock_init_at(&clk, 1700000000, 1030);
    it = mm_store_get(st, "k", 1, H("k"), false, 0, &why);
    ck_assert_ptr_null(it);
    ck_assert_int_eq(why, MM_STORE_GET_EXPIRED);
    /* An expired item is gone for every operation. */
    ck_assert_int_eq(mm_store_touch(st, "k", 1, H("k"), 0), MM_STORE_NOT_FOUND);
    ck_assert_int_eq(store_mode("k", "z", MM_STORE_REPLACE), MM_STORE_NOT_STORED);
    ck_assert_int_eq(store_mode("k", "z", MM_STORE_ADD), MM_STORE_OK);
    /* exptime 0 never expires. */
    mm_clock_init_at(&clk, 1700000000, 1000000);
    ck_assert_str_eq(get_val("p"), "v");
    audit_clean();
}
END_TEST

START_TEST(test_flush_now)
{
    enum mm_store_get_result why;

    ck_assert_int_eq(set("a", "1"), MM_STORE_OK);
    mm_clock_init_at(&clk, 1700000000, 1001);
    ck_assert_int_eq(set("b", "2"), MM_STORE_OK);
    mm_store_flush(st, 0);
    /* Stored in the same second, after the flush: survives (CAS rule). */
    ck_assert_int_eq(set("c", "3"), MM_STORE_OK);
    ck_assert_ptr_null(mm_store_get(st, "a", 1, H("a"), false, 0, &why));
    ck_assert_int_eq(why, MM_STORE_GET_FLUSHED);
    ck_assert_ptr_null(get_val("b"));
    ck_assert_str_eq(get_val("c"), "3");
    mm_clock_init_at(&clk, 1700000000, 1002);
    ck_assert_str_eq(get_val("c"), "3");
    ck_assert_int_eq(set("d", "4"), MM_STORE_OK);
    ck_assert_str_eq(get_val("d"), "4");
    audit_clean();
}
END_TEST

/* mm_store_walk reports live items only, in steps of about max items. */
struct walk_seen {
    char keys[8][8];
    bool fetched[8];
    uint32_t exptime[8];
    unsigned n;
};

static void
walk_collect(void *arg, const struct mm_store_walk_item *wi)
{
    struct walk_seen *w = arg;

    ck_assert_uint_lt(w->n, 8);
    ck_assert_uint_lt(wi->nkey, 8);
    memcpy(w->keys[w->n], wi->key, wi->nkey);
    w->keys[w->n][wi->nkey] = '\0';
    w->fetched[w->n] = wi->fetched;
    w->exptime[w->n] = wi->exptime;
    ck_assert_uint_gt(wi->cas, 0);
    ck_assert_uint_gt(wi->size, wi->nkey);
    ck_assert_uint_gt(wi->cls, 0);
    w->n++;
}

static void
walk_all(struct walk_seen *w)
{
    struct mm_store_cursor cur = {0, 0};
    unsigned calls = 0;

    memset(w, 0, sizeof(*w));
    while (mm_store_walk(st, &cur, walk_collect, w, 1)) {
        calls++;
        ck_assert_uint_lt(calls, 100000);
    }
}

START_TEST(test_walk_live_only)
{
    struct walk_seen w;
    unsigned i;
    bool saw_a = false;
    bool saw_c = false;

    ck_assert_int_eq(set("a", "1"), MM_STORE_OK);
    ck_assert_int_eq(store_full("b", "2", 1, 0, 1005, MM_STORE_SET, 0, NULL), MM_STORE_OK);
    ck_assert_int_eq(store_full("c", "3", 1, 0, 2000, MM_STORE_SET, 0, NULL), MM_STORE_OK);
    ck_assert_str_eq(get_val("a"), "1");
    mm_clock_init_at(&clk, 1700000000, 1006);
    walk_all(&w);
    ck_assert_uint_eq(w.n, 2);
    for (i = 0; i < w.n; i++) {
        if (strcmp(w.keys[i], "a") == 0) {
            saw_a = true;
            ck_assert(w.fetched[i]);
            ck_assert_uint_eq(w.exptime[i], 0);
        } else {
            ck_assert_str_eq(w.keys[i], "c");
            saw_c = true;
            ck_assert(!w.fetched[i]);
            ck_assert_uint_eq(w.exptime[i], 2000);
        }
    }
    ck_assert(saw_a && saw_c);
    mm_store_flush(st, 1006);
    mm_clock_init_at(&clk, 1700000000, 1007);
    walk_all(&w);
    ck_assert_uint_eq(w.n, 0);
    ck_assert_int_eq(set("d", "4"), MM_STORE_OK);
    walk_all(&w);
    ck_assert_uint_eq(w.n, 1);
    ck_assert_str_eq(w.keys[0], "d");
}
END_TEST

START_TEST(test_crawler_switch)
{
    ck_assert(mm_store_crawler_enabled(st));
    ck_assert(mm_store_crawler_set(st, false));
    ck_assert(!mm_store_crawler_enabled(st));
    ck_assert(!mm_store_crawler_set(st, true));
    ck_assert(mm_store_crawler_enabled(st));
}
END_TEST

START_TEST(test_flush_delayed)
{
    /* flush_all 10 at t=1000: items last stored at or before 1009 vanish
     * once the clock reaches 1009. */
    ck_assert_int_eq(set("a", "1"), MM_STORE_OK);
    mm_store_flush(st, 1010);
    ck_assert_str_eq(get_val("a"), "1");
    mm_clock_init_at(&clk, 1700000000, 1005);
    ck_assert_int_eq(set("b", "2"), MM_STORE_OK);
    mm_clock_init_at(&clk, 1700000000, 1008);
    ck_assert_str_eq(get_val("a"), "1");
    ck_assert_str_eq(get_val("b"), "2");
    mm_clock_init_at(&clk, 1700000000, 1009);
    ck_assert_ptr_null(get_val("a"));
    ck_assert_ptr_null(get_val("b"));
    mm_clock_init_at(&clk, 1700000000, 1010);
    ck_assert_int_eq(set("c", "3"), MM_STORE_OK);
    mm_clock_init_at(&clk, 1700000000, 2000);
    ck_assert_str_eq(get_val("c"), "3");
    audit_clean();
}
END_TEST

START_TEST(test_flush_no_cas)
{
    struct mm_store_cfg c;

    mm_store_destroy(&st);
    cfg_init(&c);
    c.use_cas = false;
    open_store(&c);
    ck_assert_int_eq(set("a", "1"), MM_STORE_OK);
    mm_store_flush(st, 0);
    ck_assert_ptr_null(get_val("a"));
    /* Without CAS memcached flushes the whole current second. */
    ck_assert_int_eq(set("b", "2"), MM_STORE_OK);
    ck_assert_ptr_null(get_val("b"));
    mm_clock_init_at(&clk, 1700000000, 1001);
    ck_assert_int_eq(set("b", "2"), MM_STORE_OK);
    ck_assert_str_eq(get_val("b"), "2");
}
END_TEST

START_TEST(test_too_large)
{
    enum mm_store_rc rc = MM_STORE_OK;
    char key[300];

    /* Default -I 1m: memcached stores 1048516 bytes under a 1-byte key and
     * refuses 1048517 (its size: 48 + 8 + key + 1 + value + 2). */
    ck_assert_ptr_null(mm_store_reserve(st, "k", 1, H("k"), 0, 0, 1048517, &rc));
    ck_assert_int_eq(rc, MM_STORE_TOO_LARGE);
    {
        struct mm_item *it = mm_store_reserve(st, "k", 1, H("k"), 0, 0, 1048516, &rc);

        ck_assert_ptr_nonnull(it);
        mm_store_abort(st, it);
    }
    memset(key, 'k', sizeof(key));
    ck_assert_ptr_null(mm_store_reserve(st, key, 251, mm_hash(key, 251), 0, 0, 1, &rc));
    ck_assert_int_eq(rc, MM_STORE_TOO_LARGE);
    ck_assert_int_eq(set("", "v"), MM_STORE_TOO_LARGE);
    mm_store_stats(st, collect, NULL);
    ck_assert_str_eq(stat("store_too_large"), "3");
}
END_TEST

START_TEST(test_large_items)
{
    static char big[1000000];
    struct mm_item *it;
    struct mm_store_audit a;
    unsigned i;

    for (i = 0; i < sizeof(big); i++) {
        big[i] = (char)('a' + i % 26);
    }
    ck_assert_int_eq(store_full("big", big, sizeof(big), 3, 0, MM_STORE_SET, 0, NULL), MM_STORE_OK);
    it = mm_store_get(st, "big", 3, H("big"), false, 0, NULL);
    ck_assert_ptr_nonnull(it);
    ck_assert_uint_eq(mm_item_vlen(it), sizeof(big));
    /* One contiguous value. */
    ck_assert_int_eq(memcmp(mm_item_cdata(it), big, sizeof(big)), 0);
    mm_store_unref(st, it);
    mm_store_audit(st, &a);
    ck_assert_uint_eq(a.large_items, 1);
    /* Append to it: still one piece. */
    ck_assert_int_eq(store_full("big", "XYZ", 3, 0, 0, MM_STORE_APPEND, 0, NULL), MM_STORE_OK);
    it = mm_store_get(st, "big", 3, H("big"), false, 0, NULL);
    ck_assert_uint_eq(mm_item_vlen(it), sizeof(big) + 3);
    ck_assert_int_eq(memcmp(mm_item_cdata(it) + sizeof(big), "XYZ", 3), 0);
    ck_assert_uint_eq(mm_item_flags(it), 3);
    mm_store_unref(st, it);
    /* Numbers are never that large. */
    {
        uint64_t v;

        ck_assert_int_eq(delta("big", true, 1, &v), MM_STORE_NON_NUMERIC);
    }
    ck_assert_int_eq(mm_store_delete(st, "big", 3, H("big"), 0), MM_STORE_OK);
    mm_store_audit(st, &a);
    ck_assert_uint_eq(a.large_items, 0);
    audit_clean();
}
END_TEST

static void
small_store(size_t limit, bool evict)
{
    struct mm_store_cfg c;

    mm_store_destroy(&st);
    cfg_init(&c);
    c.mem_limit = limit;
    c.evict = evict;
    open_store(&c);
}

/* Key "key:<i>" (12 bytes) with a 100-byte value: the eviction tests'
 * items, ~150 bytes each, so 20,000 of them are 3 MB through a 2 MB cache. */
static void
set_numbered(unsigned i)
{
    char key[32];
    char val[100];

    memset(val, 'v', sizeof(val));
    snprintf(key, sizeof(key), "key:%08u", i);
    ck_assert_int_eq(store_full(key, val, sizeof(val), 0, 0, MM_STORE_SET, 0, NULL), MM_STORE_OK);
}

static bool
has_numbered(unsigned i)
{
    char key[32];

    snprintf(key, sizeof(key), "key:%08u", i);
    return get_val(key) != NULL;
}

START_TEST(test_eviction_keeps_newest)
{
    unsigned i;
    unsigned n = 20000;
    unsigned found_new = 0;
    unsigned found_old = 0;

    small_store(2u << 20, true);
    for (i = 0; i < n; i++) {
        set_numbered(i);
    }
    for (i = 0; i < n; i++) {
        if (has_numbered(i)) {
            if (i >= n - 1000) {
                found_new++;
            } else if (i < 1000) {
                found_old++;
            }
        }
    }
    ck_assert_uint_eq(found_new, 1000);
    ck_assert_uint_eq(found_old, 0);
    stats_n = 0;
    mm_store_stats(st, collect, NULL);
    ck_assert_uint_gt(strtoull(stat("evictions"), NULL, 10), 0);
    ck_assert_uint_eq(strtoull(stat("evicted_unfetched"), NULL, 10),
                      strtoull(stat("evictions"), NULL, 10));
    ck_assert_uint_le(strtoull(stat("bytes"), NULL, 10), 2u << 20);
    ck_assert_uint_eq(
        strtoull(stat("curr_items"), NULL, 10) + strtoull(stat("evictions"), NULL, 10), n);
    audit_clean();
}
END_TEST

/* Chunks per page of the class that holds a 12-byte key and a 100-byte
 * value, the items of the tests below. */
static unsigned
per_page_of_test_item(void)
{
    struct mm_slab *sl = mm_store_slab(st);

    return sl->cls[mm_slab_class(sl, mm_item_ntotal(12, 100, true, false))].perslab;
}

START_TEST(test_reclaim_expired_first)
{
    char key[32];
    char val[100];
    unsigned i;
    unsigned per_page;

    small_store(1u << 20, true);
    per_page = per_page_of_test_item();
    memset(val, 'v', sizeof(val));
    /* Fill the single page; the first half expire at 1005. */
    for (i = 0; i < per_page; i++) {
        snprintf(key, sizeof(key), "key:%08u", i);
        ck_assert_int_eq(store_full(key, val, sizeof(val), 0, i < per_page / 2 ? 1005 : 0,
                                    MM_STORE_SET, 0, NULL),
                         MM_STORE_OK);
    }
    mm_clock_init_at(&clk, 1700000000, 1010);
    snprintf(key, sizeof(key), "key:%08u", per_page);
    ck_assert_int_eq(store_full(key, val, sizeof(val), 0, 0, MM_STORE_SET, 0, NULL), MM_STORE_OK);
    stats_n = 0;
    mm_store_stats(st, collect, NULL);
    ck_assert_str_eq(stat("reclaimed"), "1");
    ck_assert_str_eq(stat("expired_unfetched"), "1");
    ck_assert_str_eq(stat("evictions"), "0");
}
END_TEST

START_TEST(test_eviction_spares_hit_items)
{
    unsigned i;
    unsigned n = 20000;
    unsigned hot_lost = 0;
    unsigned cold_found = 0;

    small_store(2u << 20, true);
    /* The first 5,000 keys; every tenth is read after each batch of
     * writes, as a working set would be. */
    for (i = 0; i < n; i++) {
        set_numbered(i);
        if (i >= 5000 && i % 1000 == 0) {
            unsigned k;

            for (k = 0; k < 5000; k += 10) {
                (void)has_numbered(k);
            }
        }
    }
    for (i = 0; i < 5000; i++) {
        if (i % 10 == 0) {
            hot_lost += !has_numbered(i);
        } else {
            cold_found += has_numbered(i);
        }
    }
    /* The hit items were spared by the clock hand, pass after pass; the
     * cold ones written with them are long gone. */
    ck_assert_uint_eq(hot_lost, 0);
    ck_assert_uint_eq(cold_found, 0);
    audit_clean();
}
END_TEST

START_TEST(test_no_evict_nomem)
{
    char key[32];
    char val[100];
    unsigned i;
    enum mm_store_rc rc = MM_STORE_OK;

    small_store(1u << 20, false);
    memset(val, 'v', sizeof(val));
    for (i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "key:%08u", i);
        rc = store_full(key, val, sizeof(val), 0, i == 3 ? 1005 : 0, MM_STORE_SET, 0, NULL);
        if (rc != MM_STORE_OK) {
            break;
        }
    }
    ck_assert_int_eq(rc, MM_STORE_NOMEM);
    ck_assert_uint_eq(i, per_page_of_test_item());
    /* Nothing was evicted: the first key is still there. */
    ck_assert_ptr_nonnull(get_val("key:00000000"));
    /* An expired item may still be reclaimed under -M. */
    mm_clock_init_at(&clk, 1700000000, 1010);
    ck_assert_int_eq(store_full("new", val, sizeof(val), 0, 0, MM_STORE_SET, 0, NULL), MM_STORE_OK);
    ck_assert_int_eq(store_full("new2", val, sizeof(val), 0, 0, MM_STORE_SET, 0, NULL),
                     MM_STORE_NOMEM);
    stats_n = 0;
    mm_store_stats(st, collect, NULL);
    ck_assert_str_eq(stat("evictions"), "0");
    ck_assert_str_eq(stat("reclaimed"), "1");
    ck_assert_str_eq(stat("store_no_memory"), "2");
    stats_n = 0;
    mm_store_stats_items(st, collect, NULL);
    {
        struct mm_slab *sl = mm_store_slab(st);
        char name[64];

        snprintf(name, sizeof(name), "items:%u:outofmemory",
                 mm_slab_class(sl, mm_item_ntotal(12, 100, true, false)));
        ck_assert_str_eq(stat(name), "2");
    }
    audit_clean();
}
END_TEST

START_TEST(test_reference_survives_eviction)
{
    char key[32];
    unsigned i;
    struct mm_item *deleted;
    struct mm_item *replaced;

    small_store(1u << 20, true);
    ck_assert_int_eq(store_full("first", "keepme", 6, 0, 0, MM_STORE_SET, 0, NULL), MM_STORE_OK);
    ck_assert_int_eq(set("second", "old"), MM_STORE_OK);
    deleted = mm_store_get(st, "first", 5, H("first"), false, 0, NULL);
    replaced = mm_store_get(st, "second", 6, H("second"), false, 0, NULL);
    ck_assert_ptr_nonnull(deleted);
    ck_assert_ptr_nonnull(replaced);
    ck_assert_int_eq(mm_store_delete(st, "first", 5, H("first"), 0), MM_STORE_OK);
    ck_assert_int_eq(set("second", "new"), MM_STORE_OK);
    /* Churn the same slab class through eviction many times over: freed
     * chunks get reused, but never the two held ones. */
    for (i = 0; i < 40000; i++) {
        snprintf(key, sizeof(key), "key:%08u", i);
        ck_assert_int_eq(store_full(key, "keepme", 6, 0, 0, MM_STORE_SET, 0, NULL), MM_STORE_OK);
    }
    ck_assert_int_eq(memcmp(mm_item_key(deleted), "first", 5), 0);
    ck_assert_int_eq(memcmp(mm_item_cdata(deleted), "keepme", 6), 0);
    ck_assert_int_eq(memcmp(mm_item_key(replaced), "second", 6), 0);
    ck_assert_int_eq(memcmp(mm_item_cdata(replaced), "old", 3), 0);
    ck_assert_ptr_null(get_val("first"));
    mm_store_unref(st, deleted);
    mm_store_unref(st, replaced);
    audit_clean();
}
END_TEST

START_TEST(test_referenced_tail_not_evicted)
{
    char key[32];
    char val[100];
    unsigned i;
    struct mm_item *held;

    small_store(1u << 20, true);
    memset(val, 'v', sizeof(val));
    ck_assert_int_eq(store_full("oldest", val, sizeof(val), 0, 0, MM_STORE_SET, 0, NULL),
                     MM_STORE_OK);
    held = mm_store_get(st, "oldest", 6, H("oldest"), false, 0, NULL);
    for (i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "key:%08u", i);
        ck_assert_int_eq(store_full(key, val, sizeof(val), 0, 0, MM_STORE_SET, 0, NULL),
                         MM_STORE_OK);
    }
    /* Still linked and readable: eviction walked past it. */
    ck_assert_ptr_nonnull(get_val("oldest"));
    ck_assert_int_eq(memcmp(mm_item_cdata(held), val, sizeof(val)), 0);
    mm_store_unref(st, held);
    stats_n = 0;
    mm_store_stats(st, collect, NULL);
    ck_assert_uint_gt(strtoull(stat("lrutail_reflocked"), NULL, 10), 0);
}
END_TEST

START_TEST(test_large_evicts_large)
{
    static char big[600000];
    enum mm_store_rc rc;

    small_store(2u << 20, true);
    memset(big, 'b', sizeof(big));
    ck_assert_int_eq(store_full("b1", big, sizeof(big), 0, 0, MM_STORE_SET, 0, NULL), MM_STORE_OK);
    ck_assert_int_eq(store_full("b2", big, sizeof(big), 0, 0, MM_STORE_SET, 0, NULL), MM_STORE_OK);
    ck_assert_int_eq(store_full("b3", big, sizeof(big), 0, 0, MM_STORE_SET, 0, NULL), MM_STORE_OK);
    ck_assert_int_eq(store_full("b4", big, sizeof(big), 0, 0, MM_STORE_SET, 0, NULL), MM_STORE_OK);
    ck_assert_ptr_null(get_val("b1"));
    ck_assert_ptr_nonnull(get_val("b4"));
    ck_assert_uint_le(mm_slab_malloced(mm_store_slab(st)), 2u << 20);
    /* Under -M the same store answers NOMEM. */
    small_store(1u << 20, false);
    ck_assert_int_eq(store_full("b1", big, sizeof(big), 0, 0, MM_STORE_SET, 0, NULL), MM_STORE_OK);
    ck_assert_ptr_null(mm_store_reserve(st, "b2", 2, H("b2"), 0, 0, sizeof(big), &rc));
    ck_assert_int_eq(rc, MM_STORE_NOMEM);
}
END_TEST

START_TEST(test_memlimit_change)
{
    char key[32];
    unsigned i;

    small_store(1u << 20, false);
    for (i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "key:%08u", i);
        if (set(key, "0123456789012345678901234567890123456789") != MM_STORE_OK) {
            break;
        }
    }
    ck_assert_uint_lt(i, 100000);
    /* A key of the same length: the same class, which has its page. */
    ck_assert_int_eq(set("more:0000000", "0123456789012345678901234567890123456789"),
                     MM_STORE_NOMEM);
    mm_store_set_limit(st, 2u << 20);
    ck_assert_int_eq(set("more:0000000", "0123456789012345678901234567890123456789"), MM_STORE_OK);
    stats_n = 0;
    mm_store_stats(st, collect, NULL);
    ck_assert_str_eq(stat("limit_maxbytes"), "2097152");
}
END_TEST

START_TEST(test_shards_and_growth)
{
    struct mm_store_cfg c;
    char key[32];
    unsigned i;

    mm_store_destroy(&st);
    cfg_init(&c);
    c.shard_bits = 2;
    c.hashpower = 6; /* 16 buckets per shard */
    open_store(&c);
    for (i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "key:%u", i);
        ck_assert_int_eq(set(key, "v"), MM_STORE_OK);
    }
    while (mm_store_maintain(st, 64)) {
    }
    for (i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "key:%u", i);
        ck_assert_ptr_nonnull(get_val(key));
    }
    stats_n = 0;
    mm_store_stats(st, collect, NULL);
    /* 5000 items need 4 shards x 2^10 buckets (load <= 1.5). */
    ck_assert_uint_ge(strtoull(stat("hash_power_level"), NULL, 10), 12);
    ck_assert_str_eq(stat("hash_is_expanding"), "0");
    ck_assert_str_eq(stat("curr_items"), "5000");
    audit_clean();
}
END_TEST

START_TEST(test_no_hash_expand)
{
    struct mm_store_cfg c;
    char key[32];
    unsigned i;

    mm_store_destroy(&st);
    cfg_init(&c);
    c.hash_expand = false;
    c.hashpower = 4;
    open_store(&c);
    for (i = 0; i < 500; i++) {
        snprintf(key, sizeof(key), "key:%u", i);
        ck_assert_int_eq(set(key, "v"), MM_STORE_OK);
    }
    ck_assert(!mm_store_maintain(st, 64));
    stats_n = 0;
    mm_store_stats(st, collect, NULL);
    ck_assert_str_eq(stat("hash_power_level"), "4");
    ck_assert_str_eq(stat("hash_bytes"), "64"); /* 16 4-byte handles */
    for (i = 0; i < 500; i++) {
        snprintf(key, sizeof(key), "key:%u", i);
        ck_assert_ptr_nonnull(get_val(key));
    }
}
END_TEST

/* What an item of the memory benchmark (14-byte key, 100-byte value, CAS,
 * flags 0) costs in slab memory: a 144-byte chunk, where memcached needs
 * 192 (its 48-byte header, the NUL and "\r\n" land it in that class).
 * doc/benchmarks.md measures the RSS that follows from it. */
START_TEST(test_item_footprint)
{
    struct mm_slab *sl = mm_store_slab(st);
    size_t total = mm_item_ntotal(14, 100, true, false);
    unsigned cls = mm_slab_class(sl, total);

    ck_assert_uint_eq(MM_ITEM_HDR_SIZE, 20);
    ck_assert_uint_eq(total, 142);
    ck_assert_uint_eq(sl->cls[cls].size, 144);
    /* Flags other than 0 take 4 bytes more: the next class, 160 bytes. */
    ck_assert_uint_eq(sl->cls[mm_slab_class(sl, mm_item_ntotal(14, 100, true, true))].size, 160);
    /* Without CAS (-C): 134 bytes, also a 144-byte chunk. */
    ck_assert_uint_eq(sl->cls[mm_slab_class(sl, mm_item_ntotal(14, 100, false, false))].size, 144);
}
END_TEST

START_TEST(test_stats_fields)
{
    struct mm_item *it;

    ck_assert_int_eq(set("a", "x"), MM_STORE_OK);
    it = mm_store_get(st, "a", 1, H("a"), false, 0, NULL);
    mm_store_unref(st, it);
    stats_n = 0;
    mm_store_stats(st, collect, NULL);
    ck_assert_str_eq(stat("curr_items"), "1");
    ck_assert_str_eq(stat("total_items"), "1");
    ck_assert_str_eq(stat("bytes"), "30"); /* 48 + 8 + 1 + 1 */
    ck_assert_str_eq(stat("limit_maxbytes"), "67108864");
    ck_assert_str_eq(stat("hash_power_level"), "8");
    ck_assert_str_eq(stat("hash_bytes"), "1024"); /* 256 4-byte handles */
    ck_assert_str_eq(stat("hash_is_expanding"), "0");
    ck_assert_ptr_nonnull(stat("evictions"));
    ck_assert_ptr_nonnull(stat("reclaimed"));
    ck_assert_ptr_nonnull(stat("evicted_active"));
    ck_assert_ptr_nonnull(stat("malloc_fails"));

    stats_n = 0;
    mm_store_stats_slabs(st, collect, NULL);
    ck_assert_str_eq(stats_tab[0].name, "1:chunk_size");
    {
        const struct mm_slab_class *c1 = &mm_store_slab(st)->cls[1];
        char num[32];

        snprintf(num, sizeof(num), "%u", (unsigned)c1->size);
        ck_assert_str_eq(stat("1:chunk_size"), num);
        snprintf(num, sizeof(num), "%u", (unsigned)(1048576 / c1->size));
        ck_assert_str_eq(stat("1:chunks_per_page"), num);
        ck_assert_str_eq(stat("1:total_pages"), "1");
        ck_assert_str_eq(stat("1:total_chunks"), num);
    }
    ck_assert_str_eq(stat("1:used_chunks"), "1");
    ck_assert_str_eq(stat("1:get_hits"), "1");
    ck_assert_str_eq(stat("1:cmd_set"), "1");
    ck_assert_str_eq(stat("active_slabs"), "1");
    ck_assert_str_eq(stat("total_malloced"), "1048576");
    ck_assert_str_eq(stats_tab[stats_n - 1].name, "total_malloced");

    stats_n = 0;
    mm_store_stats_items(st, collect, NULL);
    ck_assert_str_eq(stats_tab[0].name, "items:1:number");
    ck_assert_str_eq(stat("items:1:number"), "1");
    ck_assert_str_eq(stat("items:1:mem_requested"), "30");
    ck_assert_str_eq(stat("items:1:evicted"), "0");
    ck_assert_ptr_nonnull(stat("items:1:hits_to_temp"));
    ck_assert_ptr_null(stat("items:2:number"));

    stats_n = 0;
    mm_store_stats_sizes(st, collect, NULL);
    ck_assert_str_eq(stat("sizes_status"), "disabled");

    mm_store_stats_reset(st);
    stats_n = 0;
    mm_store_stats(st, collect, NULL);
    ck_assert_str_eq(stat("total_items"), "0");
    ck_assert_str_eq(stat("curr_items"), "1");
    stats_n = 0;
    mm_store_stats_slabs(st, collect, NULL);
    ck_assert_str_eq(stat("1:get_hits"), "0");
}
END_TEST

START_TEST(test_prealloc_store)
{
    struct mm_store_cfg c;

    mm_store_destroy(&st);
    cfg_init(&c);
    c.prealloc = true;
    open_store(&c);
    ck_assert_int_eq(set("a", "x"), MM_STORE_OK);
    ck_assert_str_eq(get_val("a"), "x");
    stats_n = 0;
    mm_store_stats_slabs(st, collect, NULL);
    /* memcached -L gives every class a page up front. */
    {
        char num[16];

        snprintf(num, sizeof(num), "%u", mm_store_slab(st)->nclasses);
        ck_assert_uint_ge(mm_store_slab(st)->nclasses, 30);
        ck_assert_str_eq(stat("active_slabs"), num);
    }
}
END_TEST

static Suite *
store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("ops");
    TCase *tm = tcase_create("memory");

    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_set_get);
    tcase_add_test(tc, test_add_replace);
    tcase_add_test(tc, test_append_prepend);
    tcase_add_test(tc, test_cas);
    tcase_add_test(tc, test_cas_disabled);
    tcase_add_test(tc, test_mget_vivify_and_token);
    tcase_add_test(tc, test_mget_recache);
    tcase_add_test(tc, test_mget_before_fields);
    tcase_add_test(tc, test_invalidate);
    tcase_add_test(tc, test_cas_stale);
    tcase_add_test(tc, test_abort);
    tcase_add_test(tc, test_delete);
    tcase_add_test(tc, test_delta_padding_quirk);
    tcase_add_test(tc, test_delta_wrap_floor);
    tcase_add_test(tc, test_delta_parsing);
    tcase_add_test(tc, test_delta_cas_and_refs);
    tcase_add_test(tc, test_touch_and_expiry);
    tcase_add_test(tc, test_flush_now);
    tcase_add_test(tc, test_walk_live_only);
    tcase_add_test(tc, test_crawler_switch);
    tcase_add_test(tc, test_flush_delayed);
    tcase_add_test(tc, test_flush_no_cas);
    tcase_add_test(tc, test_stats_fields);
    tcase_add_test(tc, test_item_footprint);
    suite_add_tcase(s, tc);

    tcase_set_timeout(tm, 120);
    tcase_add_checked_fixture(tm, setup, teardown);
    tcase_add_test(tm, test_too_large);
    tcase_add_test(tm, test_large_items);
    tcase_add_test(tm, test_eviction_keeps_newest);
    tcase_add_test(tm, test_reclaim_expired_first);
    tcase_add_test(tm, test_eviction_spares_hit_items);
    tcase_add_test(tm, test_no_evict_nomem);
    tcase_add_test(tm, test_reference_survives_eviction);
    tcase_add_test(tm, test_referenced_tail_not_evicted);
    tcase_add_test(tm, test_large_evicts_large);
    tcase_add_test(tm, test_memlimit_change);
    tcase_add_test(tm, test_shards_and_growth);
    tcase_add_test(tm, test_no_hash_expand);
    tcase_add_test(tm, test_prealloc_store);
    suite_add_tcase(s, tm);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(store_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
