/* Password tables for ASCII auth (-Y) and the SASL plain password file:
 * "user:password" lines loaded once into an immutable array. Checks walk
 * every entry and compare in length-dependent time only, so the reply time
 * says nothing about which bytes of a guess were right. */
#include "config.h"

#include "mmem/auth.h"

#include "mmem/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct auth_entry {
    char *user;
    size_t ulen;
    char *pass;
    size_t plen;
};

struct mm_auth {
    struct auth_entry *e;
    size_t n, cap;
};

bool
mm_auth_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    const volatile unsigned char *x = a;
    const volatile unsigned char *y = b;
    unsigned char diff = alen == blen ? 0 : 1;
    size_t i;

    /* Walk the first string whole whatever the other's length, reading the
     * other cyclically, so the loop count never depends on the content. */
    for (i = 0; i < alen; i++) {
        diff |= (unsigned char)(x[i] ^ (blen > 0 ? y[i % blen] : 0));
    }
    return diff == 0;
}

static void
auth_add(struct mm_auth *a, const char *line, size_t ulen, const char *pass, size_t plen)
{
    struct auth_entry *en;

    if (a->n == a->cap) {
        a->cap = a->cap == 0 ? 8 : a->cap * 2;
        a->e = mm_realloc(a->e, a->cap * sizeof(*a->e));
    }
    en = &a->e[a->n++];
    en->user = mm_malloc(ulen + 1);
    memcpy(en->user, line, ulen);
    en->user[ulen] = '\0';
    en->ulen = ulen;
    en->pass = mm_malloc(plen + 1);
    memcpy(en->pass, pass, plen);
    en->pass[plen] = '\0';
    en->plen = plen;
}

struct mm_auth *
mm_auth_load(const char *path, FILE *err)
{
    struct mm_auth *a;
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;

    if (f == NULL) {
        int e = errno;

        fprintf(err, "Could not open authfile [%s] for reading, error %s\n", path, strerror(e));
        return NULL;
    }
    a = mm_calloc(1, sizeof(*a));
    while ((got = getline(&line, &cap, f)) >= 0) {
        size_t len = (size_t)got;
        char *colon;

        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
            len--;
        }
        if (len == 0) {
            continue;
        }
        colon = memchr(line, ':', len);
        if (colon == NULL || colon == line) {
            fprintf(err, "Authfile [%s] has a malformed entry. Should be 'user:password'\n", path);
            free(line);
            fclose(f);
            mm_auth_free(&a);
            return NULL;
        }
        auth_add(a, line, (size_t)(colon - line), colon + 1, len - (size_t)(colon - line) - 1);
    }
    free(line);
    fclose(f);
    return a;
}

void
mm_auth_free(struct mm_auth **ap)
{
    struct mm_auth *a = *ap;
    size_t i;

    if (a == NULL) {
        return;
    }
    for (i = 0; i < a->n; i++) {
        mm_free(a->e[i].user);
        mm_free(a->e[i].pass);
    }
    mm_free(a->e);
    mm_free(a);
    *ap = NULL;
}

size_t
mm_auth_count(const struct mm_auth *a)
{
    return a != NULL ? a->n : 0;
}

bool
mm_auth_check(const struct mm_auth *a, const char *user, size_t ulen, const char *pass, size_t plen)
{
    bool ok = false;
    size_t i;

    if (a == NULL) {
        return false;
    }
    /* No early exit: every entry costs the same whether or not one matched. */
    for (i = 0; i < a->n; i++) {
        bool u = mm_auth_ct_equal(user, ulen, a->e[i].user, a->e[i].ulen);
        bool p = mm_auth_ct_equal(pass, plen, a->e[i].pass, a->e[i].plen);

        ok |= u & p;
    }
    return ok;
}

enum mm_auth_rc
mm_auth_token(const struct mm_auth *a, const char *buf, size_t len)
{
    const char *word[2] = {NULL, NULL};
    size_t wlen[2] = {0, 0};
    size_t i = 0;
    int n = 0;

    while (i < len) {
        size_t start;

        while (i < len && buf[i] == ' ') {
            i++;
        }
        if (i == len) {
            break;
        }
        start = i;
        while (i < len && buf[i] != ' ') {
            i++;
        }
        if (n == 2) {
            /* Words after the password are ignored, as memcached does. */
            break;
        }
        word[n] = buf + start;
        wlen[n] = i - start;
        n++;
    }
    if (n != 2) {
        return MM_AUTH_BAD_FORMAT;
    }
    return mm_auth_check(a, word[0], wlen[0], word[1], wlen[1]) ? MM_AUTH_OK : MM_AUTH_FAIL;
}
