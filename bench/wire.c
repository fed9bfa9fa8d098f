/* Blocking text-protocol I/O: see wire.h. */
#include "config.h"

#include "wire.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* Large enough for any reply line and a value of up to 1 MB with its CRLF. */
#define WIRE_IN_CAP ((size_t)1 << 21)

static void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (q == NULL) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    return q;
}

int
mm_wire_connect(struct mm_wire *w, const char *host, int port, double timeout_s)
{
    struct addrinfo hints, *res = NULL, *ai;
    char service[16];
    struct timeval tv;
    int one = 1, rc;

    memset(w, 0, sizeof(*w));
    w->fd = -1;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof(service), "%d", port);
    rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        errno = EINVAL;
        return -1;
    }
    tv.tv_sec = (time_t)timeout_s;
    tv.tv_usec = (suseconds_t)((timeout_s - (double)tv.tv_sec) * 1e6);
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        /* The timeouts also bound connect() on Linux. */
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            w->fd = fd;
            break;
        }
        close(fd);
    }
    freeaddrinfo(res);
    if (w->fd < 0)
        return -1;
    w->in_cap = WIRE_IN_CAP;
    w->in = xrealloc(NULL, w->in_cap);
    return 0;
}

void
mm_wire_close(struct mm_wire *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    free(w->in);
    free(w->out);
    w->in = w->out = NULL;
}

char *
mm_wire_reserve(struct mm_wire *w, size_t n)
{
    if (w->out_cap - w->out_len < n) {
        size_t cap = w->out_cap ? w->out_cap : 4096;
        while (cap - w->out_len < n)
            cap *= 2;
        w->out = xrealloc(w->out, cap);
        w->out_cap = cap;
    }
    return w->out + w->out_len;
}

void
mm_wire_commit(struct mm_wire *w, size_t n)
{
    w->out_len += n;
}

int
mm_wire_flush(struct mm_wire *w)
{
    size_t off = 0;

    while (off < w->out_len) {
        ssize_t n = send(w->fd, w->out + off, w->out_len - off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        off += (size_t)n;
    }
    w->out_len = 0;
    return 0;
}

/* Read more bytes, first moving the unread ones to the front when the free
 * tail is short. Returns 0 or -1 (error, timeout, end of stream, full). */
static int
fill(struct mm_wire *w)
{
    ssize_t n;

    if (w->pos > 0 && (w->pos == w->len || w->in_cap - w->len < w->in_cap / 4)) {
        memmove(w->in, w->in + w->pos, w->len - w->pos);
        w->len -= w->pos;
        w->pos = 0;
    }
    if (w->len == w->in_cap)
        return -1;
    for (;;) {
        n = recv(w->fd, w->in + w->len, w->in_cap - w->len, 0);
        if (n > 0) {
            w->len += (size_t)n;
            return 0;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return -1;
    }
}

int
mm_wire_line(struct mm_wire *w, const char **line, size_t *len)
{
    size_t scanned = 0;

    for (;;) {
        const char *start = w->in + w->pos;
        size_t avail = w->len - w->pos;
        const char *nl = avail > scanned ? memchr(start + scanned, '\n', avail - scanned) : NULL;
        if (nl != NULL) {
            size_t n = (size_t)(nl - start);
            *line = start;
            *len = n > 0 && start[n - 1] == '\r' ? n - 1 : n;
            w->pos += n + 1;
            return 0;
        }
        scanned = avail;
        if (fill(w) != 0)
            return -1;
    }
}

int
mm_wire_bytes(struct mm_wire *w, size_t n, const char **p)
{
    if (n > w->in_cap)
        return -1;
    while (w->len - w->pos < n) {
        /* Make room for the whole value at once. */
        if (w->in_cap - w->pos < n) {
            memmove(w->in, w->in + w->pos, w->len - w->pos);
            w->len -= w->pos;
            w->pos = 0;
        }
        if (fill(w) != 0)
            return -1;
    }
    *p = w->in + w->pos;
    w->pos += n;
    return 0;
}
