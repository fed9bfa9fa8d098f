/* check_hash: XXH64 against reference values (computed with the reference
 * xxhsum tool, -H1), every tail length path, alignment independence, and
 * that the shard (top) and bucket (bottom) bits are both well spread. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmem/hash.h"

/* Bytes (i * 7 + 3) & 0xff for i in [0, n): covers 32-byte stripes, the
 * 8-, 4- and 1-byte tails. */
static const struct {
    size_t n;
    uint64_t h;
} pattern_vectors[] = {
    {0, 0xef46db3751d8e999ull},   {1, 0x1f25c8d0bc1f4bb6ull},   {3, 0x31d2363f52e564c9ull},
    {4, 0x9bb64b7d66ee9fdaull},   {7, 0x9a7b149959ce60d8ull},   {8, 0xdab99d95c6f90092ull},
    {12, 0xd52e407833af5133ull},  {31, 0xa2aa5f33cc4a6119ull},  {32, 0x23c3c17ef790fd97ull},
    {33, 0x50a7cfc7ba588784ull},  {63, 0x5e3e54b431c7493cull},  {64, 0x0eb64b3ef6eeb01full},
    {100, 0xa61f8d4c170fe531ull}, {257, 0xb7b604f7e4f822faull},
};

static void
fill_pattern(unsigned char *buf, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        buf[i] = (unsigned char)((i * 7 + 3) & 0xff);
    }
}

START_TEST(test_known_strings)
{
    const char *fox = "The quick brown fox jumps over the lazy dog";

    ck_assert(mm_hash("", 0) == 0xef46db3751d8e999ull);
    ck_assert(mm_hash(NULL, 0) == 0xef46db3751d8e999ull);
    ck_assert(mm_hash("a", 1) == 0xd24ec4f1a98c6e5bull);
    ck_assert(mm_hash("abc", 3) == 0x44bc2cf5ad770999ull);
    ck_assert(mm_hash("memcached", 9) == 0xfe38957a99699ce8ull);
    ck_assert(mm_hash(fox, strlen(fox)) == 0x0b242d361fda71bcull);
}
END_TEST

START_TEST(test_pattern_vectors)
{
    unsigned char buf[300];
    size_t i;

    fill_pattern(buf, sizeof(buf));
    for (i = 0; i < sizeof(pattern_vectors) / sizeof(pattern_vectors[0]); i++) {
        uint64_t h = mm_hash(buf, pattern_vectors[i].n);

        ck_assert_msg(h == pattern_vectors[i].h, "len %zu: got %016llx", pattern_vectors[i].n,
                      (unsigned long long)h);
    }
}
END_TEST

START_TEST(test_unaligned)
{
    unsigned char *raw = malloc(300 + 8);
    size_t off;

    /* Same bytes at every alignment: same hash (no aligned-load shortcut). */
    for (off = 0; off < 8; off++) {
        fill_pattern(raw + off, 100);
        ck_assert(mm_hash(raw + off, 100) == 0xa61f8d4c170fe531ull);
    }
    free(raw);
}
END_TEST

START_TEST(test_seed)
{
    ck_assert(mm_hash_xxh64("abc", 3, 0) == mm_hash("abc", 3));
    ck_assert(mm_hash_xxh64("abc", 3, 1) != mm_hash("abc", 3));
    ck_assert(mm_hash_xxh64("abc", 3, 1) == mm_hash_xxh64("abc", 3, 1));
}
END_TEST

START_TEST(test_bits_spread)
{
    /* 4096 sequential keys: each of 16 top-bit shards and 16 low-bit buckets
     * gets a fair share (expected 256; a broken mix gives 0 or 4096). */
    unsigned top[16] = {0};
    unsigned low[16] = {0};
    char key[32];
    int i;

    for (i = 0; i < 4096; i++) {
        int n = snprintf(key, sizeof(key), "key:%d", i);
        mm_hash_t h = mm_hash(key, (size_t)n);

        top[h >> 60]++;
        low[h & 15]++;
    }
    for (i = 0; i < 16; i++) {
        ck_assert_msg(top[i] > 150 && top[i] < 370, "shard %d: %u", i, top[i]);
        ck_assert_msg(low[i] > 150 && low[i] < 370, "bucket %d: %u", i, low[i]);
    }
}
END_TEST

START_TEST(test_single_bit_changes)
{
    /* Flipping one input bit flips about half the output bits. */
    unsigned char buf[40];
    int bit;

    fill_pattern(buf, sizeof(buf));
    for (bit = 0; bit < 40 * 8; bit += 7) {
        uint64_t a = mm_hash(buf, sizeof(buf));
        uint64_t b;
        int diff;

        buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        b = mm_hash(buf, sizeof(buf));
        buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        diff = __builtin_popcountll(a ^ b);
        ck_assert_msg(diff >= 12 && diff <= 52, "bit %d: %d output bits changed", bit, diff);
    }
}
END_TEST

static Suite *
hash_suite(void)
{
    Suite *s = suite_create("hash");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_known_strings);
    tcase_add_test(tc, test_pattern_vectors);
    tcase_add_test(tc, test_unaligned);
    tcase_add_test(tc, test_seed);
    tcase_add_test(tc, test_bits_spread);
    tcase_add_test(tc, test_single_bit_changes);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(hash_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
