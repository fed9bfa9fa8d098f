/* Blocking socket client for the integration tests. Every read is bounded by
 * SO_RCVTIMEO so a silent server turns into a failed assertion, and the
 * helpers print escaped bytes so protocol mismatches are readable. */
#include "config.h"

#include "client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static void
set_timeouts(int fd, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void
init_client(struct mm_tclient *c, int fd)
{
    memset(c, 0, sizeof(*c));
    c->fd = fd;
    set_timeouts(fd, MM_TCLIENT_TIMEOUT_MS);
}

int
mm_tclient_connect(struct mm_tclient *c, const char *host, int port)
{
    struct sockaddr_storage ss;
    socklen_t slen;
    int fd;
    int one = 1;

    memset(&ss, 0, sizeof(ss));
    if (strchr(host, ':') != NULL) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((unsigned short)port);
        if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) {
            return -1;
        }
        slen = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

        s4->sin_family = AF_INET;
        s4->sin_port = htons((unsigned short)port);
        if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) {
            return -1;
        }
        slen = sizeof(*s4);
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    set_timeouts(fd, MM_TCLIENT_TIMEOUT_MS);
    if (connect(fd, (struct sockaddr *)&ss, slen) != 0) {
        fprintf(stderr, "connect %s:%d: %s\n", host, port, strerror(errno));
        close(fd);
        return -1;
    }
    /* Pipelined requests are built by the test; no need to batch small
     * writes, and Nagle would only add delay. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    init_client(c, fd);
    return 0;
}

int
mm_tclient_connect_unix(struct mm_tclient *c, const char *path)
{
    struct sockaddr_un sun;
    int fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
        return -1;
    }
    strcpy(sun.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
        close(fd);
        return -1;
    }
    init_client(c, fd);
    return 0;
}

void
mm_tclient_set_timeout(struct mm_tclient *c, int ms)
{
    set_timeouts(c->fd, ms);
}

void
mm_tclient_close(struct mm_tclient *c)
{
    if (c->fd >= 0) {
        close(c->fd);
    }
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
    c->len = c->cap = 0;
}

int
mm_tclient_send(struct mm_tclient *c, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int
mm_tclient_sendstr(struct mm_tclient *c, const char *s)
{
    return mm_tclient_send(c, s, strlen(s));
}

int
mm_tclient_fill(struct mm_tclient *c)
{
    ssize_t n;

    if (c->eof) {
        return 0;
    }
    if (c->cap - c->len < 65536) {
        size_t ncap = c->cap ? c->cap * 2 : 131072;
        char *nb = realloc(c->buf, ncap + 1);

        if (nb == NULL) {
            return -1;
        }
        c->buf = nb;
        c->cap = ncap;
    }
    do {
        n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    } while (n < 0 && errno == EINTR);
    if (n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE))) {
        /* A reset is how a close with unread input looks from here; the
         * tests only care that the server hung up. */
        c->eof = true;
        return 0;
    }
    if (n < 0) {
        return -1;
    }
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    return (int)n;
}

/* Take the first n buffered bytes as a new string. */
static char *
take(struct mm_tclient *c, size_t n)
{
    char *out = malloc(n + 1);

    if (out == NULL) {
        abort();
    }
    if (n > 0) {
        memcpy(out, c->buf, n);
    }
    out[n] = '\0';
    if (n < c->len) {
        memmove(c->buf, c->buf + n, c->len - n);
    }
    c->len -= n;
    return out;
}

static bool
ends_with(const char *buf, size_t len, const char *suffix)
{
    size_t sl = strlen(suffix);

    return len >= sl && memcmp(buf + len - sl, suffix, sl) == 0;
}

char *
mm_tclient_read_until(struct mm_tclient *c, const char *suffix, size_t *len)
{
    while (!(c->len > 0 && ends_with(c->buf, c->len, suffix))) {
        if (mm_tclient_fill(c) <= 0) {
            break;
        }
    }
    if (len != NULL) {
        *len = c->len;
    }
    return take(c, c->len);
}

char *
mm_tclient_read_line(struct mm_tclient *c)
{
    for (;;) {
        char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;

        if (nl != NULL) {
            return take(c, (size_t)(nl - c->buf) + 1);
        }
        if (mm_tclient_fill(c) <= 0) {
            return NULL;
        }
    }
}

char *
mm_tclient_read_n(struct mm_tclient *c, size_t n)
{
    while (c->len < n) {
        if (mm_tclient_fill(c) <= 0) {
            return NULL;
        }
    }
    return take(c, n);
}

char *
mm_tclient_read_all(struct mm_tclient *c, size_t *len, bool *closed)
{
    while (mm_tclient_fill(c) > 0) {
    }
    if (closed != NULL) {
        *closed = c->eof;
    }
    if (len != NULL) {
        *len = c->len;
    }
    return take(c, c->len);
}

bool
mm_tclient_expect(struct mm_tclient *c, const char *expected)
{
    size_t n = strlen(expected);
    char *got;
    bool ok;

    while (c->len < n) {
        if (mm_tclient_fill(c) <= 0) {
            break;
        }
    }
    if (c->len < n) {
        got = take(c, c->len);
        mm_tclient_print_diff("expected", expected, n, "got (short)", got, strlen(got));
        free(got);
        return false;
    }
    got = take(c, n);
    ok = memcmp(got, expected, n) == 0;
    if (!ok) {
        mm_tclient_print_diff("expected", expected, n, "got", got, n);
    }
    free(got);
    return ok;
}

bool
mm_tclient_cmd(struct mm_tclient *c, const char *req, const char *reply)
{
    if (mm_tclient_sendstr(c, req) != 0) {
        fprintf(stderr, "send failed: %s\n", strerror(errno));
        return false;
    }
    return mm_tclient_expect(c, reply);
}

bool
mm_tclient_expect_close(struct mm_tclient *c)
{
    c->len = 0;
    while (mm_tclient_fill(c) > 0) {
        c->len = 0;
    }
    return c->eof;
}

int
mm_tclient_stats(struct mm_tclient *c, const char *sub, struct mm_tstats *st)
{
    char req[128];

    memset(st, 0, sizeof(*st));
    snprintf(req, sizeof(req), "stats%s%s\r\n", sub ? " " : "", sub ? sub : "");
    if (mm_tclient_sendstr(c, req) != 0) {
        return -1;
    }
    for (;;) {
        char *line = mm_tclient_read_line(c);
        char *sp;
        size_t l;

        if (line == NULL) {
            fprintf(stderr, "stats: no END (timeout or close)\n");
            return -1;
        }
        if (strcmp(line, "END\r\n") == 0) {
            free(line);
            return 0;
        }
        l = strlen(line);
        if (strncmp(line, "STAT ", 5) != 0 || l < 7 || line[l - 2] != '\r' ||
            (sp = strchr(line + 5, ' ')) == NULL) {
            mm_tclient_print_escaped("bad stats line", line, l);
            free(line);
            return -1;
        }
        line[l - 2] = '\0';
        *sp = '\0';
        st->name = realloc(st->name, (st->n + 1) * sizeof(char *));
        st->value = realloc(st->value, (st->n + 1) * sizeof(char *));
        st->name[st->n] = strdup(line + 5);
        st->value[st->n] = strdup(sp + 1);
        st->n++;
        free(line);
    }
}

const char *
mm_tstats_get(const struct mm_tstats *st, const char *name)
{
    size_t i;

    for (i = 0; i < st->n; i++) {
        if (strcmp(st->name[i], name) == 0) {
            return st->value[i];
        }
    }
    return NULL;
}

long long
mm_tstats_num(const struct mm_tstats *st, const char *name)
{
    const char *v = mm_tstats_get(st, name);

    return v ? strtoll(v, NULL, 10) : -1;
}

void
mm_tstats_free(struct mm_tstats *st)
{
    size_t i;

    for (i = 0; i < st->n; i++) {
        free(st->name[i]);
        free(st->value[i]);
    }
    free(st->name);
    free(st->value);
    memset(st, 0, sizeof(*st));
}

static void
put_escaped(const char *data, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)data[i];
        size_t run = 1;

        /* Values of hundreds of kB are common here: elide long runs. */
        while (i + run < len && (unsigned char)data[i + run] == ch) {
            run++;
        }
        if (run > 16) {
            fprintf(stderr, "<%zu x 0x%02x>", run, ch);
            i += run - 1;
            continue;
        }
        if (ch == '\r') {
            fputs("\\r", stderr);
        } else if (ch == '\n') {
            fputs("\\n\n    ", stderr);
        } else if (ch == '\\') {
            fputs("\\\\", stderr);
        } else if (ch < 0x20 || ch >= 0x7f) {
            fprintf(stderr, "\\x%02x", ch);
        } else {
            fputc(ch, stderr);
        }
    }
}

void
mm_tclient_print_escaped(const char *label, const char *data, size_t len)
{
    fprintf(stderr, "%s (%zu bytes):\n    ", label, len);
    put_escaped(data, len);
    fputc('\n', stderr);
}

void
mm_tclient_print_diff(const char *la, const char *a, size_t alen, const char *lb, const char *b,
                      size_t blen)
{
    size_t i = 0;
    size_t from;

    while (i < alen && i < blen && a[i] == b[i]) {
        i++;
    }
    fprintf(stderr, "first difference at byte %zu\n", i);
    /* Show from the start of the line holding the difference. */
    from = i;
    while (from > 0 && a[from - 1] != '\n') {
        from--;
    }
    mm_tclient_print_escaped(la, a, alen);
    mm_tclient_print_escaped(lb, b, blen);
    if (from > 0) {
        fprintf(stderr, "from the differing line on:\n  %s: ", la);
        put_escaped(a + from, alen - from);
        fprintf(stderr, "\n  %s: ", lb);
        put_escaped(b + from, blen > from ? blen - from : 0);
        fputc('\n', stderr);
    }
}
