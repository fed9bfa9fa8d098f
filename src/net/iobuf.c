/* The connection read buffer (see mmem/iobuf.h for the hold and lending
 * rules). It grows by doubling up to a maximum for long lines, compacts only
 * when it must make room, reads into a lent scratch area when it holds little,
 * and gives its memory back when a connection goes idle. It does no I/O
 * itself: the connection reads into the room space() offers. */
#include "config.h"

#include "mmem/iobuf.h"

#include "mmem/alloc.h"

#include <assert.h>
#include <string.h>

void
mm_iobuf_init(struct mm_iobuf *b, size_t initial, size_t max)
{
    assert(initial > 0 && initial <= max && max <= UINT32_MAX);
    memset(b, 0, sizeof(*b));
    b->initial = (uint32_t)initial;
    b->max = (uint32_t)max;
}

void
mm_iobuf_fini(struct mm_iobuf *b)
{
    assert(b->holds == 0);
    if (!b->lent) {
        mm_free(b->base);
    }
    b->lent = false;
    b->base = NULL;
    b->cap = 0;
    b->head = 0;
    b->tail = 0;
}

static void
compact(struct mm_iobuf *b)
{
    size_t len = b->tail - b->head;

    if (b->head == 0) {
        return;
    }
    if (len > 0) {
        memmove(b->base, b->base + b->head, len);
    }
    b->head = 0;
    b->tail = len;
}

char *
mm_iobuf_space(struct mm_iobuf *b, size_t *room)
{
    size_t len;

    if (b->base == NULL) {
        b->base = mm_malloc(b->initial);
        b->cap = b->initial;
        b->head = 0;
        b->tail = 0;
    }
    if (b->holds > 0) {
        /* Spans point into the buffer: only the room after the tail. */
        *room = b->cap - b->tail;
        return *room > 0 ? b->base + b->tail : NULL;
    }
    len = b->tail - b->head;
    if (len == 0) {
        /* Nothing to keep: start over at the front for free. */
        b->head = 0;
        b->tail = 0;
    } else if (b->cap - b->tail < b->cap / 4 && b->head > 0) {
        /* Little room left at the end: moving the (usually short) partial
         * request to the front is cheaper than growing. */
        compact(b);
    }
    if (b->tail == b->cap && b->cap < b->max) {
        uint32_t ncap = b->cap < b->max / 2 ? b->cap * 2 : b->max;

        if (b->lent) {
            /* A lent area cannot grow: move into memory of our own. */
            char *own = mm_malloc(ncap);

            memcpy(own, b->base + b->head, len);
            b->base = own;
            b->head = 0;
            b->tail = (uint32_t)len;
            b->lent = false;
        } else {
            b->base = mm_realloc(b->base, ncap);
        }
        b->cap = ncap;
    }
    *room = b->cap - b->tail;
    return *room > 0 ? b->base + b->tail : NULL;
}

void
mm_iobuf_produce(struct mm_iobuf *b, size_t n)
{
    assert(n <= b->cap - b->tail);
    b->tail += (uint32_t)n;
}

void
mm_iobuf_consume(struct mm_iobuf *b, size_t n)
{
    assert(n <= b->tail - b->head);
    b->head += (uint32_t)n;
    if (b->head == b->tail && b->holds == 0) {
        /* Rewinding moves no bytes, so it is allowed without a hold only. */
        b->head = 0;
        b->tail = 0;
    }
}

void
mm_iobuf_hold(struct mm_iobuf *b)
{
    b->holds++;
}

void
mm_iobuf_unhold(struct mm_iobuf *b)
{
    assert(b->holds > 0);
    b->holds--;
}

bool
mm_iobuf_trim(struct mm_iobuf *b)
{
    size_t len;

    if (b->holds > 0 || b->base == NULL || b->lent) {
        return false;
    }
    len = b->tail - b->head;
    if (len == 0) {
        mm_free(b->base);
        b->base = NULL;
        b->cap = 0;
        b->head = 0;
        b->tail = 0;
        return true;
    }
    if (b->cap > b->initial && len <= b->initial / 2) {
        compact(b);
        b->base = mm_realloc(b->base, b->initial);
        b->cap = b->initial;
        return true;
    }
    return false;
}

bool
mm_iobuf_lend(struct mm_iobuf *b, char *mem, size_t cap)
{
    size_t len = b->tail - b->head;

    assert(cap <= b->max);
    if (b->holds > 0 || b->lent || len > cap / 2) {
        return false;
    }
    if (b->base != NULL) {
        /* An idle connection has no buffer: the usual case, free of calls. */
        if (len > 0) {
            memcpy(mem, b->base + b->head, len);
        }
        mm_free(b->base);
    }
    b->base = mem;
    b->cap = (uint32_t)cap;
    b->head = 0;
    b->tail = (uint32_t)len;
    b->lent = true;
    return true;
}

void
mm_iobuf_settle(struct mm_iobuf *b)
{
    size_t len = b->tail - b->head;
    char *own = NULL;
    size_t cap = 0;

    assert(b->holds == 0);
    if (!b->lent) {
        return;
    }
    if (len > 0) {
        /* Usually the start of a request cut by the read: keep just that
         * (rounded up a little so that a line ending soon fits without a
         * reallocation when no scratch is lent next time). */
        cap = (len + 63) & ~(size_t)63;
        own = mm_malloc(cap);
        memcpy(own, b->base + b->head, len);
    }
    b->base = own;
    b->cap = (uint32_t)cap;
    b->head = 0;
    b->tail = (uint32_t)len;
    b->lent = false;
}
