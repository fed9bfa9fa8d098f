/* Text protocol, end to end: a table of raw requests is sent to memcached and
 * to the target started with the same arguments, and the replies must be
 * byte-identical once CAS uniques and the version string are masked. A
 * second group asserts literal replies against the target alone, so the
 * basics are still checked where memcached is not installed. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "server.h"
#include "tcheck.h"

/* Item size limit for both servers: small enough to cross cheaply, and
 * memcached 1.6 accepts it without tuning slab_chunk_max. */
#define ITEM_MAX "512k"
#define ITEM_MAX_BYTES 524288

/* Reply to the sentinel appended after each request: "mn" is a no-op that
 * answers "MN\r\n", so a complete reply is recognised without timing. */
#define SENTINEL "mn\r\n"
#define SENTINEL_REPLY "MN\r\n"

#define TC_NOSENTINEL 0x1u /* server closes, or must see no more bytes: read to EOF */

#define K10 "kkkkkkkkkk"
#define K50 K10 K10 K10 K10 K10
#define K250 K50 K50 K50 K50 K50
#define K251 K250 "k"
#define X100                                                                                       \
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
    "xxxxxxxx"
#define X1000 X100 X100 X100 X100 X100 X100 X100 X100 X100 X100
#define X3000 X1000 X1000 X1000

struct tcase_req {
    const char *name;
    const char *req;
    size_t len; /* 0 = strlen(req) */
    unsigned flags;
    char *(*gen)(size_t *len); /* builds big requests at run time */
};

static char *
gen_value_req(const char *head, size_t vlen, const char *tail, size_t *len)
{
    size_t hl = strlen(head);
    size_t tl = strlen(tail);
    char *p = malloc(hl + vlen + 2 + tl + 1);

    memcpy(p, head, hl);
    memset(p + hl, 'v', vlen);
    memcpy(p + hl + vlen, "\r\n", 2);
    memcpy(p + hl + vlen + 2, tail, tl + 1);
    *len = hl + vlen + 2 + tl;
    return p;
}

static char *
gen_at_limit(size_t *len)
{
    /* Exactly -I bytes of value: the item header pushes it over. */
    return gen_value_req("set big 0 0 524288\r\n", ITEM_MAX_BYTES, "get big\r\n", len);
}

static char *
gen_over_limit(size_t *len)
{
    return gen_value_req("set big 0 0 524289\r\n", ITEM_MAX_BYTES + 1, "get big\r\n", len);
}

static char *
gen_over_limit_noreply(size_t *len)
{
    return gen_value_req("set big 0 0 600000 noreply\r\n", 600000, "get big\r\n", len);
}

static char *
gen_under_limit(size_t *len)
{
    /* Leaves room for any sane item header (memcached's is ~60 bytes). */
    return gen_value_req("set big 0 0 523264\r\n", ITEM_MAX_BYTES - 1024,
                         "get big\r\ndelete big\r\n", len);
}

static char *
gen_append_over_limit(size_t *len)
{
    size_t l1;
    size_t l2;
    char *a = gen_value_req("set big 0 0 400000\r\n", 400000, "", &l1);
    char *b = gen_value_req("append big 0 0 200000\r\n", 200000, "get nope\r\n", &l2);
    char *p = malloc(l1 + l2 + 1);

    memcpy(p, a, l1);
    memcpy(p + l1, b, l2 + 1);
    free(a);
    free(b);
    *len = l1 + l2;
    return p;
}

static char *
gen_long_noeol(size_t *len)
{
    /* 20 kB without a line end: no server may buffer this forever. */
    char *p = malloc(20001);

    memset(p, 'x', 20000);
    p[20000] = '\0';
    *len = 20000;
    return p;
}

static char *
gen_many_keys(size_t *len)
{
    /* A get line well over 2 kB is legal: memcached reads it in pieces. */
    size_t cap = 16384;
    char *p = malloc(cap);
    size_t n = 0;
    int i;

    n += (size_t)snprintf(p + n, cap - n, "set key7 0 0 2\r\nhi\r\nget");
    for (i = 0; i < 1000; i++) {
        n += (size_t)snprintf(p + n, cap - n, " key%d", i);
    }
    n += (size_t)snprintf(p + n, cap - n, "\r\n");
    *len = n;
    return p;
}

static char *
gen_big_pipeline(size_t *len)
{
    /* Many small commands in one write: replies must come back in order. */
    size_t cap = 200000;
    char *p = malloc(cap);
    size_t n = 0;
    int i;

    for (i = 0; i < 500; i++) {
        n += (size_t)snprintf(p + n, cap - n, "set p%d %d 0 %d\r\n%d\r\n", i, i,
                              (int)snprintf(NULL, 0, "%d", i * 7), i * 7);
        n += (size_t)snprintf(p + n, cap - n, "incr p%d 3\r\nget p%d\r\n", i, i);
        if (i % 5 == 0) {
            n += (size_t)snprintf(p + n, cap - n, "delete p%d\r\nget p%d\r\n", i, i);
        }
    }
    *len = n;
    return p;
}

/* clang-format off */
#define T(n, r) {.name = (n), .req = (r)}
/* For requests with NUL bytes in them: the literal's own size. */
#define TB(n, r) {.name = (n), .req = (r), .len = sizeof(r) - 1}
#define TF(n, r, f) {.name = (n), .req = (r), .flags = (f)}
#define TG(n, g) {.name = (n), .gen = (g)}
#define TGF(n, g, f) {.name = (n), .gen = (g), .flags = (f)}
/* clang-format on */

static const struct tcase_req cases[] = {
    /* set and the storage line */
    T("set_get", "set a 0 0 1\r\nx\r\nget a\r\n"),
    T("set_flags", "set a 123 0 3\r\nabc\r\nget a\r\n"),
    T("set_flags_max", "set a 4294967295 0 1\r\nx\r\nget a\r\n"),
    T("set_flags_over", "set a 4294967296 0 1\r\nx\r\nget a\r\n"),
    T("set_flags_neg", "set a -1 0 1\r\nx\r\nget a\r\n"),
    T("set_flags_junk", "set a 12x 0 1\r\nx\r\nget a\r\n"),
    T("set_zero_len", "set a 0 0 0\r\n\r\nget a\r\n"),
    TB("set_binary_value", "set a 0 0 5\r\na\0\r\nb\r\nget a\r\n"),
    T("set_overwrite", "set a 1 0 1\r\nx\r\nset a 2 0 2\r\nyy\r\nget a\r\n"),
    T("set_noreply", "set a 0 0 1 noreply\r\nx\r\nget a\r\n"),
    T("set_neg_exptime", "set a 0 -1 1\r\nx\r\nget a\r\n"),
    T("set_exptime_future", "set a 0 1000 1\r\nx\r\nget a\r\n"),
    T("set_exptime_abs_past", "set a 0 2592001 1\r\nx\r\nget a\r\n"),
    T("set_exptime_bad", "set a 0 abc 1\r\nx\r\nget a\r\n"),
    T("set_flags_bad", "set a abc 0 1\r\nx\r\nget a\r\n"),
    T("set_len_bad", "set a 0 0 abc\r\nx\r\nget a\r\n"),
    T("set_len_neg", "set a 0 0 -1\r\nget a\r\n"),
    T("set_len_over_int", "set a 0 0 2147483648\r\nget a\r\n"),
    T("set_too_few_tokens", "set a 0 0\r\nget a\r\n"),
    T("set_no_args", "set\r\n"),
    T("set_too_many_tokens", "set a 0 0 1 noreply extra\r\nx\r\nget a\r\n"),
    T("set_sixth_not_noreply", "set a 0 0 1 foo\r\nx\r\nget a\r\n"),
    T("set_bad_chunk_long", "set a 0 0 3\r\nabcd\r\nget a\r\n"),
    T("set_bad_chunk_short", "set a 0 0 3\r\nab\r\n\r\nget a\r\n"),
    T("set_bad_chunk_no_crlf", "set a 0 0 3\r\nabcde\r\nget a\r\n"),
    T("set_data_bare_lf", "set a 0 0 1\na\nget a\n"),
    T("set_cmd_bare_lf", "set a 0 0 1\nx\r\nget a\n"),
    T("set_key_250", "set " K250 " 0 0 1\r\nx\r\nget " K250 "\r\n"),
    T("set_key_251", "set " K251 " 0 0 1\r\nx\r\nget a\r\n"),
    TG("set_value_under_limit", gen_under_limit),
    TG("set_value_at_limit", gen_at_limit),
    TG("set_value_over_limit", gen_over_limit),
    TG("set_value_over_limit_noreply", gen_over_limit_noreply),
    TG("append_over_limit", gen_append_over_limit),

    /* add / replace / append / prepend */
    T("add", "add a 0 0 1\r\nx\r\nadd a 0 0 1\r\ny\r\nget a\r\n"),
    T("add_noreply", "add a 0 0 1 noreply\r\nx\r\nadd a 0 0 1 noreply\r\ny\r\nget a\r\n"),
    T("replace", "replace a 0 0 1\r\nx\r\nset a 0 0 1\r\ny\r\nreplace a 7 0 1\r\nz\r\nget a\r\n"),
    T("replace_noreply", "replace a 0 0 1 noreply\r\nx\r\nget a\r\n"),
    T("append_missing", "append a 0 0 1\r\nx\r\nget a\r\n"),
    T("prepend_missing", "prepend a 0 0 1\r\nx\r\nget a\r\n"),
    T("append_prepend",
      "set a 5 0 2\r\nmm\r\nappend a 9 0 2\r\nzz\r\nprepend a 8 0 2\r\naa\r\nget a\r\n"),
    T("append_noreply", "set a 0 0 1\r\nb\r\nappend a 0 0 1 noreply\r\nc\r\nget a\r\n"),
    T("prepend_noreply", "set a 0 0 1\r\nb\r\nprepend a 0 0 1 noreply\r\nc\r\nget a\r\n"),
    T("append_bad_chunk", "set a 0 0 1\r\nb\r\nappend a 0 0 1\r\ncc\r\nget a\r\n"),
    T("add_bad_tokens", "add a 0\r\nreplace\r\nappend a\r\nprepend a 0 0 x\r\n"),

    /* cas */
    T("cas_missing", "cas a 0 0 1 1\r\nx\r\nget a\r\n"),
    T("cas_mismatch", "set a 0 0 1\r\nx\r\ncas a 0 0 1 999999999\r\ny\r\nget a\r\n"),
    T("cas_mismatch_noreply",
      "set a 0 0 1\r\nx\r\ncas a 0 0 1 999999999 noreply\r\ny\r\nget a\r\n"),
    T("cas_bad_unique", "set a 0 0 1\r\nx\r\ncas a 0 0 1 abc\r\ny\r\nget a\r\n"),
    T("cas_neg_unique", "set a 0 0 1\r\nx\r\ncas a 0 0 1 -1\r\ny\r\nget a\r\n"),
    T("cas_no_unique", "set a 0 0 1\r\nx\r\ncas a 0 0 1\r\ny\r\nget a\r\n"),
    T("cas_bad_chunk", "set a 0 0 1\r\nx\r\ncas a 0 0 1 1\r\nyy\r\nget a\r\n"),

    /* retrieval */
    T("get_miss", "get a\r\n"),
    T("get_multi", "set a 1 0 1\r\nx\r\nset b 2 0 2\r\nyy\r\nget a b c a\r\n"),
    T("gets_multi", "set a 1 0 1\r\nx\r\nset b 2 0 2\r\nyy\r\ngets a c b\r\n"),
    T("get_no_key", "get\r\ngets\r\n"),
    T("get_trailing_space", "set a 0 0 1\r\nx\r\nget a \r\nget  a\r\n"),
    T("get_key_251", "get " K251 "\r\n"),
    /* Both servers drop every unsent reply on this error, the STORED of
     * the pipelined set included (one small write arrives in one read). */
    T("get_key_251_among_others", "set a 0 0 1\r\nx\r\nget a " K251 " a\r\n"),
    T("gets_key_251", "gets " K251 "\r\n"),
    TG("get_many_keys_long_line", gen_many_keys),
    T("gat", "set a 3 0 1\r\nx\r\ngat 1000 a b\r\nget a\r\n"),
    T("gats", "set a 3 0 1\r\nx\r\ngats 1000 a b a\r\n"),
    T("gat_expire", "set a 0 0 1\r\nx\r\ngat -1 a\r\nget a\r\n"),
    T("gat_bad_exptime", "set a 0 0 1\r\nx\r\ngat abc a\r\ngats x1 a\r\n"),
    T("gat_no_key", "gat 10\r\ngats 10\r\ngat\r\n"),
    T("gat_key_251", "gat 10 " K251 "\r\n"),

    /* delete */
    T("delete", "set a 0 0 1\r\nx\r\ndelete a\r\ndelete a\r\nget a\r\n"),
    T("delete_zero", "set a 0 0 1\r\nx\r\ndelete a 0\r\nget a\r\n"),
    T("delete_time", "set a 0 0 1\r\nx\r\ndelete a 1\r\nget a\r\n"),
    T("delete_noreply", "set a 0 0 1\r\nx\r\ndelete a noreply\r\nget a\r\n"),
    T("delete_zero_noreply", "set a 0 0 1\r\nx\r\ndelete a 0 noreply\r\nget a\r\n"),
    T("delete_junk", "set a 0 0 1\r\nx\r\ndelete a junk\r\ndelete a 0 0\r\nget a\r\n"),
    T("delete_no_key", "delete\r\n"),
    T("delete_key_251", "delete " K251 "\r\n"),

    /* incr / decr */
    T("incr_basic", "set n 0 0 1\r\n5\r\nincr n 10\r\nget n\r\n"),
    T("incr_missing", "incr n 1\r\ndecr n 1\r\n"),
    T("incr_grows", "set n 0 0 2\r\n99\r\nincr n 1\r\nget n\r\n"),
    T("incr_wrap", "set n 0 0 20\r\n18446744073709551615\r\nincr n 1\r\nget n\r\n"),
    T("incr_wrap_large", "set n 0 0 1\r\n2\r\nincr n 18446744073709551615\r\nget n\r\n"),
    T("decr_floor", "set n 0 0 2\r\n10\r\ndecr n 100\r\nget n\r\n"),
    T("decr_space_pad", "set n 0 0 3\r\n100\r\ndecr n 1\r\nget n\r\ndecr n 90\r\nget n\r\n"),
    T("decr_then_incr", "set n 0 0 2\r\n10\r\ndecr n 1\r\nincr n 1\r\nget n\r\n"),
    T("incr_non_numeric", "set n 0 0 3\r\nabc\r\nincr n 1\r\ndecr n 1\r\n"),
    T("incr_value_too_big", "set n 0 0 20\r\n18446744073709551616\r\nincr n 1\r\n"),
    T("incr_value_negative", "set n 0 0 3\r\n-12\r\nincr n 1\r\n"),
    T("incr_value_spaces", "set n 0 0 4\r\n 12 \r\nincr n 1\r\nget n\r\n"),
    T("incr_value_empty", "set n 0 0 0\r\n\r\nincr n 1\r\n"),
    T("incr_delta_bad", "set n 0 0 1\r\n1\r\nincr n abc\r\nincr n -1\r\ndecr n 1x\r\n"),
    T("incr_delta_too_big", "set n 0 0 1\r\n1\r\nincr n 18446744073709551616\r\n"),
    T("incr_noreply", "set n 0 0 1\r\n1\r\nincr n 5 noreply\r\ndecr n 2 noreply\r\nget n\r\n"),
    T("incr_bad_tokens", "incr\r\nincr n\r\nincr n 1 2\r\ndecr n\r\n"),
    T("incr_key_251", "incr " K251 " 1\r\n"),
    T("incr_keeps_flags", "set n 42 0 1\r\n1\r\nincr n 1\r\nget n\r\n"),

    /* touch */
    T("touch", "touch a 10\r\nset a 0 0 1\r\nx\r\ntouch a 10\r\nget a\r\n"),
    T("touch_expire", "set a 0 0 1\r\nx\r\ntouch a -1\r\nget a\r\n"),
    T("touch_bad", "set a 0 0 1\r\nx\r\ntouch a abc\r\ntouch a\r\ntouch\r\n"),
    T("touch_noreply", "set a 0 0 1\r\nx\r\ntouch a 10 noreply\r\ntouch b 10 noreply\r\n"),
    T("touch_key_251", "touch " K251 " 10\r\n"),

    /* flush_all */
    T("flush_all", "set a 0 0 1\r\nx\r\nflush_all\r\nget a\r\n"),
    T("flush_all_zero", "set a 0 0 1\r\nx\r\nflush_all 0\r\nget a\r\n"),
    T("flush_all_noreply", "set a 0 0 1\r\nx\r\nflush_all noreply\r\nget a\r\n"),
    T("flush_all_zero_noreply", "set a 0 0 1\r\nx\r\nflush_all 0 noreply\r\nget a\r\n"),
    T("flush_all_delay", "set a 0 0 1\r\nx\r\nflush_all 1000\r\nget a\r\n"),
    T("flush_all_neg", "set a 0 0 1\r\nx\r\nflush_all -1\r\nget a\r\n"),
    T("flush_all_bad", "set a 0 0 1\r\nx\r\nflush_all abc\r\nflush_all 1 2\r\nget a\r\n"),

    /* misc commands */
    T("version", "version\r\n"),
    T("version_arg", "version foo\r\n"),
    T("verbosity", "verbosity 1\r\nverbosity 0\r\n"),
    T("verbosity_noreply", "verbosity 1 noreply\r\nverbosity 0 noreply\r\n"),
    T("verbosity_bad", "verbosity\r\nverbosity abc\r\nverbosity 1 2 3\r\n"),
    T("stats_reset", "stats reset\r\n"),
    T("stats_unknown", "stats nosuchthing\r\n"),

    /* malformed input */
    T("unknown_command", "foo\r\nfoo bar baz\r\n"),
    T("uppercase_command", "GET a\r\nSET a 0 0 1\r\n"),
    T("empty_line", "\r\n"),
    T("bare_lf_line", "\n"),
    T("spaces_line", "   \r\n"),
    T("leading_space", " get a\r\n"),
    T("tab_separator", "get\ta\r\n"),
    TB("nul_in_line", "get a\0b\r\n"),
    T("long_line_complete", X3000 "\r\n"),
    T("long_set_line", "set " X3000 " 0 0 1\r\nx\r\n"),
    TF("long_line_no_eol", X3000, TC_NOSENTINEL),
    TGF("very_long_line_no_eol", gen_long_noeol, TC_NOSENTINEL),
    TF("quit", "set a 0 0 1\r\nx\r\nquit\r\nget a\r\n", TC_NOSENTINEL),

    /* pipelines */
    T("pipeline_mixed",
      "set a 0 0 1\r\n1\r\nadd a 0 0 1\r\n2\r\nincr a 5\r\nget a b\r\ndelete a\r\n"
      "bogus\r\nappend a 0 0 1\r\n3\r\ntouch a 1\r\nversion\r\nget a\r\n"),
    T("pipeline_noreply_everywhere",
      "set a 0 0 1 noreply\r\n1\r\nadd b 0 0 1 noreply\r\n2\r\nreplace a 0 0 1 noreply\r\n3\r\n"
      "append a 0 0 1 noreply\r\n4\r\nprepend a 0 0 1 noreply\r\n5\r\n"
      "cas a 0 0 1 1 noreply\r\n6\r\nincr b 1 noreply\r\ndecr b 1 noreply\r\n"
      "touch a 100 noreply\r\ndelete b noreply\r\nflush_all 100 noreply\r\n"
      "verbosity 0 noreply\r\nget a b\r\n"),
    TG("pipeline_big", gen_big_pipeline),
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static struct mm_tserver ref_srv;
static struct mm_tserver tgt_srv;

/* Set by the (parent-side) fixture when the target does not answer the
 * sentinel: every case would otherwise wait out the read timeout. */
static bool sentinel_broken;

static bool
answers_sentinel(const struct mm_tserver *srv)
{
    struct mm_tclient c;
    bool ok;

    if (mm_tclient_connect(&c, srv->host, srv->port) != 0) {
        return false;
    }
    mm_tclient_set_timeout(&c, 2000);
    ok = mm_tclient_cmd(&c, SENTINEL, SENTINEL_REPLY);
    mm_tclient_close(&c);
    return ok;
}

static void
diff_setup(void)
{
    if (mm_tserver_startl(&ref_srv, MM_TSERVER_MEMCACHED, 0, "-I", ITEM_MAX, NULL) != 0) {
        ck_abort_msg("cannot start memcached");
    }
    if (mm_tserver_startl(&tgt_srv, MM_TSERVER_TARGET, 0, "-I", ITEM_MAX, NULL) != 0) {
        ck_abort_msg("cannot start target server");
    }
    sentinel_broken = !answers_sentinel(&tgt_srv);
}

static void
diff_teardown(void)
{
    int a = mm_tserver_stop(&tgt_srv);
    int b = mm_tserver_stop(&ref_srv);

    /* An unchecked teardown cannot fail a test; say it loudly instead. */
    if (a != 0 || b != 0) {
        fprintf(stderr, "WARNING: server did not stop cleanly (target %d, memcached %d)\n", a, b);
    }
}

/* Mask what legitimately differs between servers: the CAS unique of
 * "VALUE <key> <flags> <bytes> <cas>" and the text after "VERSION ".
 * VALUE data blocks are copied verbatim, so a value that looks like a
 * protocol line is never rewritten. */
static char *
mask_reply(const char *in, size_t len, size_t *olen)
{
    char *out = malloc(len + 64);
    size_t i = 0;
    size_t o = 0;

    while (i < len) {
        const char *nl = memchr(in + i, '\n', len - i);
        size_t ll = nl ? (size_t)(nl - (in + i)) + 1 : len - i;
        const char *line = in + i;

        if (ll > 6 && memcmp(line, "VALUE ", 6) == 0 && nl != NULL) {
            char tmp[512];
            char key[300];
            unsigned long flags;
            unsigned long long bytes;
            unsigned long long cas;
            int n;
            size_t cpy = ll < sizeof(tmp) - 1 ? ll : sizeof(tmp) - 1;

            memcpy(tmp, line, cpy);
            tmp[cpy] = '\0';
            n = sscanf(tmp, "VALUE %299s %lu %llu %llu", key, &flags, &bytes, &cas);
            if (n == 4) {
                o += (size_t)sprintf(out + o, "VALUE %s %lu %llu <cas>\r\n", key, flags, bytes);
                out = realloc(out, len + 64 + o);
            } else {
                memcpy(out + o, line, ll);
                o += ll;
            }
            i += ll;
            if (n >= 3 && bytes + 2 <= len - i) {
                memcpy(out + o, in + i, bytes + 2);
                o += bytes + 2;
                i += bytes + 2;
            }
            continue;
        }
        if (ll > 8 && memcmp(line, "VERSION ", 8) == 0 && nl != NULL) {
            memcpy(out + o, "VERSION <v>\r\n", 13);
            o += 13;
            i += ll;
            continue;
        }
        memcpy(out + o, line, ll);
        o += ll;
        i += ll;
    }
    out[o] = '\0';
    *olen = o;
    return out;
}

/* Send one case to srv on a fresh connection after a flush, and return the
 * masked reply with "<closed>" appended when the server hung up. */
static char *
run_case(struct mm_tserver *srv, const struct tcase_req *tc, size_t *olen)
{
    struct mm_tclient c;
    char *req;
    size_t rlen;
    char *raw;
    size_t raw_len;
    char *masked;
    bool closed;

    ck_assert_msg(mm_tclient_connect(&c, srv->host, srv->port) == 0, "connect %s:%d failed",
                  srv->host, srv->port);
    ck_assert(mm_tclient_cmd(&c, "flush_all\r\n", "OK\r\n"));
    if (tc->gen != NULL) {
        req = tc->gen(&rlen);
    } else {
        rlen = tc->len ? tc->len : strlen(tc->req);
        req = malloc(rlen + 1);
        memcpy(req, tc->req, rlen);
    }
    if (!(tc->flags & TC_NOSENTINEL)) {
        req = realloc(req, rlen + sizeof(SENTINEL));
        memcpy(req + rlen, SENTINEL, sizeof(SENTINEL) - 1);
        rlen += sizeof(SENTINEL) - 1;
    }
    /* A server that closes early makes send fail with EPIPE; the reply
     * read below still shows what it answered before. */
    (void)mm_tclient_send(&c, req, rlen);
    free(req);
    /* Every case answers in milliseconds; keep a wrong one from eating the
     * whole tcase timeout. */
    mm_tclient_set_timeout(&c, 3000);

    if (tc->flags & TC_NOSENTINEL) {
        mm_tclient_set_timeout(&c, 2000);
        raw = mm_tclient_read_all(&c, &raw_len, &closed);
    } else {
        raw = mm_tclient_read_until(&c, SENTINEL_REPLY, &raw_len);
        closed = c.eof;
    }
    masked = mask_reply(raw, raw_len, olen);
    free(raw);
    masked = realloc(masked, *olen + 16);
    if (closed) {
        memcpy(masked + *olen, "<closed>", 9);
        *olen += 8;
    } else if (tc->flags & TC_NOSENTINEL) {
        memcpy(masked + *olen, "<open>", 7);
        *olen += 6;
    }
    mm_tclient_close(&c);
    return masked;
}

START_TEST(test_diff_case)
{
    const struct tcase_req *tc = &cases[_i];
    size_t rl;
    size_t tl;
    char *ref;
    char *got;

    ck_assert_msg(!sentinel_broken,
                  "case %s: the target does not answer \"mn\" with \"MN\", "
                  "which every case uses to find the end of the reply",
                  tc->name);
    ref = run_case(&ref_srv, tc, &rl);
    got = run_case(&tgt_srv, tc, &tl);

    if (rl != tl || memcmp(ref, got, rl) != 0) {
        fprintf(stderr, "\n=== case %s: reply differs from memcached ===\n", tc->name);
        mm_tclient_print_diff("memcached", ref, rl, "target", got, tl);
        ck_abort_msg("case %s: reply differs from memcached (see diff above)", tc->name);
    }
    free(ref);
    free(got);
}
END_TEST

/* ---- literal assertions against the target alone ---------------------- */

static struct mm_tserver lit_srv;

static void
lit_setup(void)
{
    if (mm_tserver_startl(&lit_srv, MM_TSERVER_TARGET, 0, "-I", ITEM_MAX, NULL) != 0) {
        ck_abort_msg("cannot start target server");
    }
}

static void
lit_teardown(void)
{
    if (mm_tserver_stop(&lit_srv) != 0) {
        fprintf(stderr, "WARNING: target did not stop cleanly\n");
    }
}

static void
lit_connect(struct mm_tclient *c)
{
    ck_assert_msg(mm_tclient_connect(c, lit_srv.host, lit_srv.port) == 0, "connect failed");
}

/* Read "VALUE key flags bytes cas\r\n" for a gets and return the cas. */
static unsigned long long
read_gets_cas(struct mm_tclient *c, const char *key)
{
    char *line = mm_tclient_read_line(c);
    char k[300];
    unsigned long f;
    unsigned long long b;
    unsigned long long cas = 0;

    ck_assert_msg(line != NULL, "no reply to gets");
    ck_assert_msg(sscanf(line, "VALUE %299s %lu %llu %llu", k, &f, &b, &cas) == 4,
                  "bad gets line: %s", line);
    ck_assert_str_eq(k, key);
    free(line);
    free(mm_tclient_read_n(c, b + 2));
    ck_assert(mm_tclient_expect(c, "END\r\n"));
    return cas;
}

START_TEST(test_lit_set_get)
{
    struct mm_tclient c;

    lit_connect(&c);
    ck_assert(mm_tclient_cmd(&c, "set lit1 7 0 5\r\nhello\r\n", "STORED\r\n"));
    ck_assert(mm_tclient_cmd(&c, "get lit1\r\n", "VALUE lit1 7 5\r\nhello\r\nEND\r\n"));
    ck_assert(mm_tclient_cmd(&c, "get nolit\r\n", "END\r\n"));
    ck_assert(mm_tclient_cmd(&c, "delete lit1\r\n", "DELETED\r\n"));
    ck_assert(mm_tclient_cmd(&c, "delete lit1\r\n", "NOT_FOUND\r\n"));
    mm_tclient_close(&c);
}
END_TEST

START_TEST(test_lit_cas_flow)
{
    struct mm_tclient c;
    unsigned long long cas1;
    unsigned long long cas2;
    char req[128];

    lit_connect(&c);
    ck_assert(mm_tclient_cmd(&c, "set lcas 0 0 1\r\na\r\n", "STORED\r\n"));
    ck_assert(mm_tclient_sendstr(&c, "gets lcas\r\n") == 0);
    cas1 = read_gets_cas(&c, "lcas");
    ck_assert(cas1 != 0);
    snprintf(req, sizeof(req), "cas lcas 0 0 1 %llu\r\nb\r\n", cas1);
    ck_assert(mm_tclient_cmd(&c, req, "STORED\r\n"));
    /* The unique changed with the store, so the old one is stale now. */
    ck_assert(mm_tclient_cmd(&c, req, "EXISTS\r\n"));
    ck_assert(mm_tclient_sendstr(&c, "gets lcas\r\n") == 0);
    cas2 = read_gets_cas(&c, "lcas");
    ck_assert(cas2 != cas1);
    snprintf(req, sizeof(req), "cas lcas 0 0 1 %llu noreply\r\nc\r\nget lcas\r\n", cas2);
    ck_assert(mm_tclient_cmd(&c, req, "VALUE lcas 0 1\r\nc\r\nEND\r\n"));
    /* Every other store changes the unique as well. */
    ck_assert(mm_tclient_cmd(&c, "touch lcas 100\r\n", "TOUCHED\r\n"));
    ck_assert(mm_tclient_cmd(&c, "incr lcas 1\r\n",
                             "CLIENT_ERROR cannot increment or decrement "
                             "non-numeric value\r\n"));
    mm_tclient_close(&c);
}
END_TEST

START_TEST(test_lit_incr_decr)
{
    struct mm_tclient c;

    lit_connect(&c);
    ck_assert(mm_tclient_cmd(&c, "set lnum 0 0 2\r\n10\r\n", "STORED\r\n"));
    ck_assert(mm_tclient_cmd(&c, "incr lnum 5\r\n", "15\r\n"));
    ck_assert(mm_tclient_cmd(&c, "decr lnum 6\r\n", "9\r\n"));
    /* decr that shortens the number pads with a space in place. */
    ck_assert(mm_tclient_cmd(&c, "get lnum\r\n", "VALUE lnum 0 2\r\n9 \r\nEND\r\n"));
    ck_assert(mm_tclient_cmd(&c, "decr lnum 100\r\n", "0\r\n"));
    ck_assert(mm_tclient_cmd(&c, "set lnum 0 0 20\r\n18446744073709551615\r\n", "STORED\r\n"));
    ck_assert(mm_tclient_cmd(&c, "incr lnum 2\r\n", "1\r\n"));
    ck_assert(
        mm_tclient_cmd(&c, "incr lnum x\r\n", "CLIENT_ERROR invalid numeric delta argument\r\n"));
    ck_assert(mm_tclient_cmd(&c, "incr nolnum 1\r\n", "NOT_FOUND\r\n"));
    mm_tclient_close(&c);
}
END_TEST

START_TEST(test_lit_noreply_silent)
{
    struct mm_tclient c;

    lit_connect(&c);
    /* Nothing may come back for noreply commands: the first bytes seen must
     * be the reply to the final get. */
    ck_assert(mm_tclient_cmd(&c,
                             "set lnr 0 0 1 noreply\r\n1\r\nadd lnr 0 0 1 noreply\r\n2\r\n"
                             "replace lnr 0 0 1 noreply\r\n3\r\nappend lnr 0 0 1 noreply\r\n4\r\n"
                             "prepend lnr 0 0 1 noreply\r\n5\r\nincr lnr 1 noreply\r\n"
                             "decr lnr 2 noreply\r\ntouch lnr 0 noreply\r\n"
                             "get lnr\r\n",
                             "VALUE lnr 0 3\r\n533\r\nEND\r\n"));
    ck_assert(mm_tclient_cmd(&c, "delete lnr noreply\r\nget lnr\r\n", "END\r\n"));
    mm_tclient_close(&c);
}
END_TEST

START_TEST(test_lit_errors)
{
    struct mm_tclient c;

    lit_connect(&c);
    ck_assert(mm_tclient_cmd(&c, "bogus\r\n", "ERROR\r\n"));
    ck_assert(mm_tclient_cmd(&c, "get " K251 "\r\n", "CLIENT_ERROR bad command line format\r\n"));
    ck_assert(mm_tclient_cmd(&c, "set lerr 0 0 1\r\nab\r\n", "CLIENT_ERROR bad data chunk\r\n"));
    /* The byte after the bad chunk is read as a (bad) command line. */
    ck_assert(mm_tclient_expect(&c, "ERROR\r\n"));
    ck_assert(
        mm_tclient_cmd(&c, "set lerr 0 0 -1\r\n", "CLIENT_ERROR bad command line format\r\n"));
    ck_assert(mm_tclient_cmd(&c, "version\r\n", "VERSION "));
    free(mm_tclient_read_line(&c));
    ck_assert(mm_tclient_cmd(&c, "quit\r\n", ""));
    ck_assert(mm_tclient_expect_close(&c));
    mm_tclient_close(&c);
}
END_TEST

/* An over-long key in a multi-get discards that get's partial reply and
 * answers only the error (doc/protocol.md; as memcached, replies of earlier
 * commands still unsent go too, which depends on how reads split, so the set
 * is sent on its own here). */
START_TEST(test_lit_key_too_long_in_get)
{
    struct mm_tclient c;

    lit_connect(&c);
    ck_assert(mm_tclient_cmd(&c, "set lk 0 0 1\r\nx\r\n", "STORED\r\n"));
    ck_assert(
        mm_tclient_cmd(&c, "get lk " K251 " lk\r\n", "CLIENT_ERROR bad command line format\r\n"));
    ck_assert(mm_tclient_cmd(&c, "get lk\r\n", "VALUE lk 0 1\r\nx\r\nEND\r\n"));
    mm_tclient_close(&c);
}
END_TEST

START_TEST(test_lit_byte_at_a_time)
{
    struct mm_tclient c;
    const char *req = "set lbyte 3 0 4\r\nabcd\r\nget lbyte\r\n";
    size_t i;

    lit_connect(&c);
    /* Every split point of a request must be handled. */
    for (i = 0; req[i] != '\0'; i++) {
        ck_assert(mm_tclient_send(&c, req + i, 1) == 0);
        mm_tserver_sleep_ms(1);
    }
    ck_assert(mm_tclient_expect(&c, "STORED\r\nVALUE lbyte 3 4\r\nabcd\r\nEND\r\n"));
    mm_tclient_close(&c);
}
END_TEST

START_TEST(test_lit_large_value)
{
    struct mm_tclient c;
    size_t vlen = 400000;
    size_t rlen;
    char *req = gen_value_req("set lbig 0 0 400000\r\n", vlen, "get lbig\r\n", &rlen);
    char *line;
    char *data;
    size_t i;

    lit_connect(&c);
    /* Vary the bytes so misplaced chunks show up. */
    for (i = 0; i < vlen; i++) {
        req[21 + i] = (char)('a' + (i * 7) % 26);
    }
    ck_assert(mm_tclient_send(&c, req, rlen) == 0);
    ck_assert(mm_tclient_expect(&c, "STORED\r\n"));
    line = mm_tclient_read_line(&c);
    ck_assert_ptr_nonnull(line);
    ck_assert_str_eq(line, "VALUE lbig 0 400000\r\n");
    data = mm_tclient_read_n(&c, vlen + 2);
    ck_assert_ptr_nonnull(data);
    ck_assert(memcmp(data, req + 21, vlen + 2) == 0);
    ck_assert(mm_tclient_expect(&c, "END\r\n"));
    free(line);
    free(data);
    free(req);
    mm_tclient_close(&c);
}
END_TEST

START_TEST(test_lit_too_large)
{
    struct mm_tclient c;
    size_t rlen;
    char *req = gen_value_req("set lhuge 0 0 600000\r\n", 600000, "get lhuge\r\n", &rlen);

    lit_connect(&c);
    ck_assert(mm_tclient_send(&c, req, rlen) == 0);
    /* The value is swallowed, so the get right after it is answered. */
    ck_assert(mm_tclient_expect(&c, "SERVER_ERROR object too large for cache\r\nEND\r\n"));
    free(req);
    mm_tclient_close(&c);
}
END_TEST

static Suite *
text_suite(bool with_diff)
{
    Suite *s = suite_create("it_text");
    TCase *tc;

    if (with_diff) {
        tc = tcase_create("diff");
        tcase_add_unchecked_fixture(tc, diff_setup, diff_teardown);
        tcase_set_timeout(tc, 20);
        tcase_add_loop_test(tc, test_diff_case, 0, (int)NCASES);
        suite_add_tcase(s, tc);
    }
    tc = tcase_create("literal");
    tcase_add_unchecked_fixture(tc, lit_setup, lit_teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_lit_set_get);
    tcase_add_test(tc, test_lit_cas_flow);
    tcase_add_test(tc, test_lit_incr_decr);
    tcase_add_test(tc, test_lit_noreply_silent);
    tcase_add_test(tc, test_lit_errors);
    tcase_add_test(tc, test_lit_key_too_long_in_get);
    tcase_add_test(tc, test_lit_byte_at_a_time);
    tcase_add_test(tc, test_lit_large_value);
    tcase_add_test(tc, test_lit_too_large);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    bool with_diff = mm_tserver_have_memcached();

    /* The literal tests passing without the differential half is a skip. */
    return mm_tcheck_run(text_suite(with_diff), with_diff ? 0 : MM_TCHECK_PARTIAL,
                         with_diff ? NULL : MM_TCHECK_NO_MEMCACHED);
}
