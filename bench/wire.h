/* Blocking, buffered text-protocol I/O for the benchmark clients: one
 * connection, requests gathered in an output buffer and sent in one go (a
 * pipeline), replies read line by line or as counted value bytes. Every
 * socket call has a timeout, so a stalled server ends a run instead of
 * hanging it. */
#ifndef MMEM_BENCH_WIRE_H
#define MMEM_BENCH_WIRE_H

#include <stddef.h>

struct mm_wire {
    int fd;
    char *in; /* read buffer: bytes [pos, len) are unread */
    size_t in_cap, pos, len;
    char *out; /* requests not sent yet */
    size_t out_cap, out_len;
};

/* Connect to host:port (numeric IPv4 or IPv6 address, or a name) with
 * TCP_NODELAY and send/receive timeouts of timeout_s. Returns 0 or -1 with
 * errno. */
int mm_wire_connect(struct mm_wire *w, const char *host, int port, double timeout_s);
void mm_wire_close(struct mm_wire *w);

/* Room for n more request bytes; the caller writes them at the returned
 * pointer and then calls mm_wire_commit(w, n). Never fails (aborts on OOM). */
char *mm_wire_reserve(struct mm_wire *w, size_t n);
void mm_wire_commit(struct mm_wire *w, size_t n);
/* Send everything gathered. Returns 0 or -1 (error or timeout). */
int mm_wire_flush(struct mm_wire *w);

/* The next reply line without its CRLF (valid until the next read call).
 * Returns 0, or -1 on error, timeout, end of stream or a line over the buffer
 * size. */
int mm_wire_line(struct mm_wire *w, const char **line, size_t *len);
/* The next n bytes (valid until the next read call). Returns 0 or -1. */
int mm_wire_bytes(struct mm_wire *w, size_t n, const char **p);

#endif
