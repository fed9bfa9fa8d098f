/* UDP framing without sockets: the 8-byte header both ways, which request
 * headers are served, the datagram count of a reply, and how a reply's
 * iovecs are cut into datagram payloads. */
#include "config.h"

#include "mmem/udp.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_encode_big_endian)
{
    struct mm_udp_header h = {0x1234, 0x0102, 0xfffe, 0};
    unsigned char p[MM_UDP_HEADER_LEN];
    const unsigned char want[MM_UDP_HEADER_LEN] = {0x12, 0x34, 0x01, 0x02, 0xff, 0xfe, 0, 0};

    memset(p, 0xaa, sizeof(p));
    mm_udp_header_encode(p, &h);
    ck_assert_int_eq(memcmp(p, want, sizeof(want)), 0);
}
END_TEST

START_TEST(test_decode_round_trip)
{
    struct mm_udp_header h = {0xbeef, 7, 1, 0x0203};
    struct mm_udp_header back;
    unsigned char p[MM_UDP_HEADER_LEN + 1];

    mm_udp_header_encode(p, &h);
    p[MM_UDP_HEADER_LEN] = 'x';
    memset(&back, 0, sizeof(back));
    /* Sequence and reserved are ignored, as memcached ignores them. */
    ck_assert(mm_udp_header_decode(p, sizeof(p), &back));
    ck_assert_uint_eq(back.request_id, 0xbeef);
    ck_assert_uint_eq(back.seq, 7);
    ck_assert_uint_eq(back.total, 1);
    ck_assert_uint_eq(back.reserved, 0x0203);
}
END_TEST

START_TEST(test_decode_refusals)
{
    unsigned char p[16] = {0, 1, 0, 0, 0, 1, 0, 0, 'v', '\r', '\n'};
    struct mm_udp_header h;

    /* Too short: no header at all, or a header with no payload. */
    ck_assert(!mm_udp_header_decode(p, 0, &h));
    ck_assert(!mm_udp_header_decode(p, 7, &h));
    ck_assert(!mm_udp_header_decode(p, 8, &h));
    ck_assert_uint_eq(h.request_id, 1); /* still decoded for the caller */
    ck_assert(mm_udp_header_decode(p, 9, &h));
    /* A multi-datagram request (or one claiming 0 or 257 datagrams). */
    p[5] = 2;
    ck_assert(!mm_udp_header_decode(p, 11, &h));
    p[5] = 0;
    ck_assert(!mm_udp_header_decode(p, 11, &h));
    p[4] = 1;
    p[5] = 1;
    ck_assert(!mm_udp_header_decode(p, 11, &h));
}
END_TEST

START_TEST(test_total)
{
    ck_assert_uint_eq(MM_UDP_PAYLOAD_MAX, 1392);
    ck_assert_uint_eq(mm_udp_total(0), 0);
    ck_assert_uint_eq(mm_udp_total(1), 1);
    ck_assert_uint_eq(mm_udp_total(1392), 1);
    ck_assert_uint_eq(mm_udp_total(1393), 2);
    /* 2790 bytes: 1400 would say 2 datagrams; memcached sends 3. */
    ck_assert_uint_eq(mm_udp_total(2790), 3);
    ck_assert_uint_eq(mm_udp_total((size_t)1392 * 65535), 65535);
    ck_assert_uint_eq(mm_udp_total((size_t)1392 * 65535 + 1), 65535);
    ck_assert_uint_eq(mm_udp_total((size_t)1 << 40), 65535);
}
END_TEST

START_TEST(test_slice)
{
    char a[10], b[3000], c[5];
    struct iovec src[4] = {{a, sizeof(a)}, {NULL, 0}, {b, sizeof(b)}, {c, sizeof(c)}};
    struct iovec dst[8];
    size_t bytes = 0;
    int n;

    n = mm_udp_slice(src, 4, MM_UDP_PAYLOAD_MAX, dst, 8, &bytes);
    ck_assert_int_eq(n, 2); /* the empty iovec is skipped */
    ck_assert_uint_eq(bytes, 1392);
    ck_assert_ptr_eq(dst[0].iov_base, a);
    ck_assert_uint_eq(dst[0].iov_len, 10);
    ck_assert_ptr_eq(dst[1].iov_base, b);
    ck_assert_uint_eq(dst[1].iov_len, 1382);

    n = mm_udp_slice(src, 4, 100000, dst, 8, &bytes);
    ck_assert_int_eq(n, 3);
    ck_assert_uint_eq(bytes, 3015);

    /* Bounded by the room in dst. */
    n = mm_udp_slice(src, 4, 100000, dst, 1, &bytes);
    ck_assert_int_eq(n, 1);
    ck_assert_uint_eq(bytes, 10);

    n = mm_udp_slice(src, 4, 0, dst, 8, &bytes);
    ck_assert_int_eq(n, 0);
    ck_assert_uint_eq(bytes, 0);
    n = mm_udp_slice(src, 0, 1000, dst, 8, &bytes);
    ck_assert_int_eq(n, 0);
    ck_assert_uint_eq(bytes, 0);
}
END_TEST

/* Cutting a reply the way the sender does: consecutive slices of at most
 * 1392 bytes cover every byte once, in order, in mm_udp_total() pieces. */
START_TEST(test_slices_cover_reply)
{
    static char buf[5000];
    struct iovec src[3];
    size_t sizes[] = {1, 1391, 1392, 1393, 2790, 4999};
    size_t k;

    for (k = 0; k < sizeof(buf); k++) {
        buf[k] = (char)(k * 7);
    }
    for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t len = sizes[k];
        size_t cut = len / 3;
        size_t done = 0;
        unsigned count = 0;

        src[0].iov_base = buf;
        src[0].iov_len = cut;
        src[1].iov_base = buf + cut;
        src[1].iov_len = len - cut;
        while (done < len) {
            struct iovec rest[3], dst[4];
            size_t bytes = 0, off = 0, skip = done;
            int nrest = 0, i, n;

            for (i = 0; i < 2; i++) {
                if (skip >= src[i].iov_len) {
                    skip -= src[i].iov_len;
                    continue;
                }
                rest[nrest].iov_base = (char *)src[i].iov_base + skip;
                rest[nrest].iov_len = src[i].iov_len - skip;
                skip = 0;
                nrest++;
            }
            n = mm_udp_slice(rest, nrest, MM_UDP_PAYLOAD_MAX, dst, 4, &bytes);
            ck_assert_uint_gt(bytes, 0);
            ck_assert_uint_le(bytes, MM_UDP_PAYLOAD_MAX);
            for (i = 0; i < n; i++) {
                ck_assert_ptr_eq(dst[i].iov_base, buf + done + off);
                off += dst[i].iov_len;
            }
            ck_assert_uint_eq(off, bytes);
            done += bytes;
            count++;
        }
        ck_assert_uint_eq(done, len);
        ck_assert_uint_eq(count, mm_udp_total(len));
    }
}
END_TEST

static Suite *
udp_suite(void)
{
    Suite *s = suite_create("udp");
    TCase *tc = tcase_create("framing");

    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_encode_big_endian);
    tcase_add_test(tc, test_decode_round_trip);
    tcase_add_test(tc, test_decode_refusals);
    tcase_add_test(tc, test_total);
    tcase_add_test(tc, test_slice);
    tcase_add_test(tc, test_slices_cover_reply);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(udp_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
