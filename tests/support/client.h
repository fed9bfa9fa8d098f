#ifndef MMEM_TEST_CLIENT_H
#define MMEM_TEST_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

/* Blocking test client: every socket has SO_RCVTIMEO/SO_SNDTIMEO, so a
 * server that stops answering fails the test instead of hanging it. Reads
 * accumulate in a growing buffer; helpers consume from its front. */

#define MM_TCLIENT_TIMEOUT_MS 5000

struct mm_tclient {
    int fd;
    char *buf; /* received, not yet consumed */
    size_t len;
    size_t cap;
    bool eof; /* the peer closed (or reset) the connection */
};

/* Connect to host:port over TCP (IPv4 or IPv6 literal). 0 or -1. */
int mm_tclient_connect(struct mm_tclient *c, const char *host, int port);

/* Connect to a unix socket. 0 or -1. */
int mm_tclient_connect_unix(struct mm_tclient *c, const char *path);

/* Change the receive timeout (ms). */
void mm_tclient_set_timeout(struct mm_tclient *c, int ms);

void mm_tclient_close(struct mm_tclient *c);

/* Send all bytes. 0 or -1. */
int mm_tclient_send(struct mm_tclient *c, const void *data, size_t len);
int mm_tclient_sendstr(struct mm_tclient *c, const char *s);

/* One recv() into the buffer. >0 bytes, 0 on EOF (c->eof set), -1 on
 * timeout or error. */
int mm_tclient_fill(struct mm_tclient *c);

/* Read until the buffered data ends with suffix, EOF or timeout. Returns
 * all buffered bytes (malloc'd, NUL-terminated, length in *len) and
 * consumes them. Never NULL. */
char *mm_tclient_read_until(struct mm_tclient *c, const char *suffix, size_t *len);

/* Read one line (through "\n"), malloc'd and NUL-terminated with its line
 * end, consumed. NULL on EOF/timeout before a full line. */
char *mm_tclient_read_line(struct mm_tclient *c);

/* Read exactly n bytes (malloc'd, NUL-terminated), or NULL. */
char *mm_tclient_read_n(struct mm_tclient *c, size_t n);

/* Read until EOF or timeout; *closed tells which. Everything is consumed. */
char *mm_tclient_read_all(struct mm_tclient *c, size_t *len, bool *closed);

/* Read strlen(expected) bytes and compare; on mismatch print both, escaped,
 * to stderr. */
bool mm_tclient_expect(struct mm_tclient *c, const char *expected);

/* Send req then expect reply. */
bool mm_tclient_cmd(struct mm_tclient *c, const char *req, const char *reply);

/* Connection is closed by the peer within the receive timeout (any bytes
 * before the close are discarded). */
bool mm_tclient_expect_close(struct mm_tclient *c);

/* A parsed "STAT name value" listing. */
struct mm_tstats {
    size_t n;
    char **name;
    char **value;
};

/* Send "stats[ sub]\r\n" and parse until "END\r\n". 0 or -1 (bad reply,
 * printed). sub may be NULL. */
int mm_tclient_stats(struct mm_tclient *c, const char *sub, struct mm_tstats *st);

/* Value of a stat, or NULL. */
const char *mm_tstats_get(const struct mm_tstats *st, const char *name);

/* Numeric value of a stat, or -1 when missing. */
long long mm_tstats_num(const struct mm_tstats *st, const char *name);

void mm_tstats_free(struct mm_tstats *st);

/* Print data escaped (\r \n \xNN, long runs elided) to stderr. */
void mm_tclient_print_escaped(const char *label, const char *data, size_t len);

/* Print a readable diff of two byte strings: first differing offset, then
 * both, escaped, around it. */
void mm_tclient_print_diff(const char *la, const char *a, size_t alen, const char *lb,
                           const char *b, size_t blen);

#endif
