#ifndef MMEM_UDP_H
#define MMEM_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>

/* The UDP transport (-U), as memcached 1.6 frames it.
 *
 * Every datagram, both ways, starts with an 8-byte frame header of four
 * big-endian 16-bit fields: request id, sequence number, total datagrams,
 * reserved. A request is one datagram: its header must say "1 datagram"
 * (bytes 4-5 are 0x00 0x01) and carry at least one payload byte, or it is
 * dropped without a reply. Each reply (one per request, and one per key of a
 * multi-key text get) is split into datagrams of at most
 * MM_UDP_DATAGRAM_MAX bytes, header included; the request id is echoed, the
 * sequence counts from 0 within that reply and the total is
 * mm_udp_total() of the reply's length. See doc/protocol.md for the rest.
 *
 * The first half of this header is pure framing (no I/O, tested alone); the
 * second is the per-worker service that net/ wires into each worker's loop.
 * Every worker serves every UDP socket (each through its own dup()ed
 * descriptor, as memcached does), one datagram at a time, from one buffer
 * of MM_UDP_READ_MAX bytes allocated when the worker is created. */

#define MM_UDP_HEADER_LEN 8
#define MM_UDP_DATAGRAM_MAX 1400 /* memcached's largest datagram, header included */
#define MM_UDP_PAYLOAD_MAX (MM_UDP_DATAGRAM_MAX - MM_UDP_HEADER_LEN)
#define MM_UDP_READ_MAX 65536 /* longer requests are truncated to this */

struct mm_udp_header {
    uint16_t request_id;
    uint16_t seq;
    uint16_t total;
    uint16_t reserved;
};

/* Decode the header of a received datagram of len bytes. Returns true when
 * the datagram is a request memcached serves: more than the header, and a
 * total of exactly 1 datagram (the sequence number and the reserved field
 * are not looked at). *h is filled whenever len >= MM_UDP_HEADER_LEN. */
bool mm_udp_header_decode(const unsigned char *p, size_t len, struct mm_udp_header *h);

/* Write the 8 header bytes at p. */
void mm_udp_header_encode(unsigned char *p, const struct mm_udp_header *h);

/* How many datagrams a reply of len bytes takes: len / MM_UDP_PAYLOAD_MAX
 * rounded up, 0 for an empty reply, at most 65535 (memcached's cap; a
 * longer reply is still sent whole, with this total). */
uint16_t mm_udp_total(size_t len);

/* Gather the next datagram's payload: the first min(max, bytes in src)
 * bytes of the iovecs src[0..nsrc) into dst (at most ndst entries; the
 * pieces point into src's memory). *bytes is set to the payload length.
 * Returns the number of dst entries used. Pure. */
int mm_udp_slice(const struct iovec *src, int nsrc, size_t max, struct iovec *dst, int ndst,
                 size_t *bytes);

/* ---- the service ------------------------------------------------------- */

struct mm_cmd_ctx;
struct mm_ev_loop;
struct mm_settings;
struct mm_store;
struct mm_udp;

/* The bound UDP sockets, made once for the whole server. */
#define MM_UDP_MAX_SOCKS 16
struct mm_udp_socks {
    int fd[MM_UDP_MAX_SOCKS];
    int family[MM_UDP_MAX_SOCKS];
    int port[MM_UDP_MAX_SOCKS];
    int n;
};

/* Bind UDP sockets for -U on the -l addresses, with memcached's -l rules
 * (a port in an entry applies to UDP too; no -l = every interface, IPv4 and
 * IPv6; -1 = an ephemeral port). Nothing is bound when -U is 0 or a unix
 * socket (-s) is used. Each bound socket gets memcached's "UDP INET: <port>"
 * line in portfile (the listener's, may be NULL). Returns 0, or -1 after
 * logging memcached's messages (socks then holds nothing). */
int mm_udp_bind(const struct mm_settings *s, struct mm_udp_socks *socks, FILE *portfile);
/* Close what mm_udp_bind() opened. */
void mm_udp_close(struct mm_udp_socks *socks);

/* A worker's UDP service over every socket in socks (each dup()ed, so the
 * worker owns its descriptors). Runs on loop, executes through cmd, and
 * releases item references to store. Counts each socket as a connection in
 * cmd->stats, as memcached does. Call on the thread that will run the loop
 * (or before it starts). Returns NULL if a descriptor or the loop fails. */
struct mm_udp *mm_udp_create(struct mm_ev_loop *loop, struct mm_cmd_ctx *cmd,
                             struct mm_store *store, const struct mm_udp_socks *socks);
/* Stop watching, close the worker's descriptors, free. Loop thread (or
 * after the loop stopped). */
void mm_udp_destroy(struct mm_udp **u);

/* "stats conns" lines for the worker's UDP descriptors ("<fd>:UDP",
 * "<fd>:addr", "<fd>:state", "<fd>:secs_since_last_cmd"). Any thread. */
void mm_udp_emit(const struct mm_udp *u,
                 void (*emit)(void *arg, const char *name, const char *value), void *arg);

#endif
