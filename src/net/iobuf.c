/* The connection read buffer (see mmem/iobuf.h for the hold rule). It grows
 * by doubling up to a maximum for long lines, compacts only when it must
 * make room, and gives its memory back when a connection goes idle. It does
 * no I/O itself: the connection reads into the room space() offers. */
#include "config.h"

#include "mmem/iobuf.h"

#include "mmem/alloc.h"

#include <assert.h>
#include <string.h>

void
mm_iobuf_init(struct mm_iobuf *b, size_t initial, size_t max)
{
    assert(initial > 0 && initial <= max);
    memset(b, 0, sizeof(*b));
    b->initial = initial;
    b->max = max;
}

void
mm_iobuf_fini(struct mm_iobuf *b)
{
    assert(b->holds == 0);
    mm_free(b->base);
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
        size_t ncap = b->cap * 2;

        if (ncap > b->max) {
            ncap = b->max;
        }
        b->base = mm_realloc(b->base, ncap);
        b->cap = ncap;
    }
    *room = b->cap - b->tail;
    return *room > 0 ? b->base + b->tail : NULL;
}

void
mm_iobuf_produce(struct mm_iobuf *b, size_t n)
{
    assert(n <= b->cap - b->tail);
    b->tail += n;
}

void
mm_iobuf_consume(struct mm_iobuf *b, size_t n)
{
    assert(n <= b->tail - b->head);
    b->head += n;
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

    if (b->holds > 0 || b->base == NULL) {
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
