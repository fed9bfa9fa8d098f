#ifndef MMEM_IOBUF_H
#define MMEM_IOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A connection's read buffer: bytes arrive at the tail, parsed requests are
 * consumed from the head.
 *
 * The rule (relied on by the parsers, which return spans into the buffer):
 * while a hold is taken (mm_iobuf_hold), the buffer is never compacted,
 * reallocated, shrunk or freed; mm_iobuf_space() then only offers the free
 * room already after the tail. Without a hold, space() may move the bytes,
 * so every span taken earlier is invalid after it.
 *
 * Memory: nothing is allocated until the first space() call, and trim()
 * frees the buffer when it is empty (idle connections hold no buffer) or
 * shrinks it back to its initial size after a long line has been consumed.
 * The buffer grows (doubling) up to max bytes, for long lines such as big
 * multi-key gets. Single-threaded.
 *
 * Lending: an owner with a scratch area (one per worker) may lend it to the
 * buffer for one read-and-parse pass (mm_iobuf_lend), and take it back with
 * mm_iobuf_settle(), which copies any unconsumed bytes (a request cut by the
 * read) into an allocation of their size. A connection then owns memory only
 * while it has a partial request buffered. */

struct mm_iobuf {
    char *base;       /* NULL while released */
    uint32_t cap;     /* bytes allocated (or lent) at base */
    uint32_t head;    /* first unconsumed byte */
    uint32_t tail;    /* end of the bytes read */
    uint32_t initial; /* allocation size of a fresh buffer */
    uint32_t max;     /* largest size growth may reach */
    uint16_t holds;   /* parsed requests whose spans point into base */
    bool lent;        /* base is the lender's scratch, not ours */
};

/* initial <= max <= UINT32_MAX; both > 0. Allocates nothing. */
void mm_iobuf_init(struct mm_iobuf *b, size_t initial, size_t max);
/* Free the memory; no hold may be taken. */
void mm_iobuf_fini(struct mm_iobuf *b);

static inline const char *
mm_iobuf_data(const struct mm_iobuf *b)
{
    return b->base + b->head;
}

static inline size_t
mm_iobuf_len(const struct mm_iobuf *b)
{
    return b->tail - b->head;
}

/* True when the unconsumed bytes fill a buffer of the maximum size: no
 * further byte can be read until some are consumed. */
static inline bool
mm_iobuf_full(const struct mm_iobuf *b)
{
    return b->tail - b->head >= b->max;
}

/* Free room to read into: returns where and sets *room (> 0), allocating,
 * compacting or growing as needed and allowed. Returns NULL with *room = 0
 * when there is none: the buffer is full, or a hold is taken and the tail is
 * at the end of the allocation. */
char *mm_iobuf_space(struct mm_iobuf *b, size_t *room);
/* n bytes were written at the pointer space() returned (n <= *room). */
void mm_iobuf_produce(struct mm_iobuf *b, size_t n);
/* n bytes (n <= len) at the head are done with. Never moves memory. */
void mm_iobuf_consume(struct mm_iobuf *b, size_t n);

/* Take and drop a hold (holds nest). */
void mm_iobuf_hold(struct mm_iobuf *b);
void mm_iobuf_unhold(struct mm_iobuf *b);

/* Give memory back when no hold is taken: free the buffer if it is empty,
 * or shrink a grown buffer back to its initial size once its unconsumed
 * bytes fit in that. Returns true if memory was moved or freed. */
bool mm_iobuf_trim(struct mm_iobuf *b);

/* Lend cap bytes at mem (cap <= max) for one pass: when no hold is taken,
 * nothing is lent yet, and the unconsumed bytes (moved to the front of mem)
 * leave at least half of mem free, the buffer's own memory is freed and
 * reads land in mem. Otherwise (a long line in a grown buffer) nothing
 * changes. Returns true if mem was taken. */
bool mm_iobuf_lend(struct mm_iobuf *b, char *mem, size_t cap);
/* End a loan, with no hold taken: unconsumed bytes are copied into a buffer
 * of their own (sized to fit them, at least for a short line), so mem may be
 * lent elsewhere. Does nothing when nothing is lent. */
void mm_iobuf_settle(struct mm_iobuf *b);

#endif
