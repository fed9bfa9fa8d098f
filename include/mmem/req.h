#ifndef MMEM_REQ_H
#define MMEM_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A parsed request. Parsers fill it from a buffer without copying: spans
 * point into the caller's read buffer, which must stay unchanged while the
 * request is in use (see the rule in net/iobuf and doc/architecture.md). */

struct mm_span {
    const char *p;
    size_t len;
};

enum mm_req_type {
    MM_REQ_NONE = 0,
    /* retrieval */
    MM_REQ_GET,
    MM_REQ_GETS,
    MM_REQ_GAT,
    MM_REQ_GATS,
    /* storage: a value of vlen bytes plus "\r\n" follows the line */
    MM_REQ_SET,
    MM_REQ_ADD,
    MM_REQ_REPLACE,
    MM_REQ_APPEND,
    MM_REQ_PREPEND,
    MM_REQ_CAS,
    /* others */
    MM_REQ_DELETE,
    MM_REQ_INCR,
    MM_REQ_DECR,
    MM_REQ_TOUCH,
    MM_REQ_FLUSH_ALL,
    MM_REQ_VERSION,
    MM_REQ_VERBOSITY,
    MM_REQ_QUIT,
    MM_REQ_STATS,
    MM_REQ_SHUTDOWN,
    MM_REQ_CACHE_MEMLIMIT,
    MM_REQ_MISBEHAVE,
    MM_REQ__COUNT
};

static inline bool
mm_req_is_storage(enum mm_req_type t)
{
    return t >= MM_REQ_SET && t <= MM_REQ_CAS;
}

struct mm_req {
    enum mm_req_type type;
    bool noreply;
    bool has_arg;             /* an optional numeric argument was given */
    struct mm_span key;       /* single-key commands */
    struct mm_span keys;      /* get/gets/gat/gats: the raw key list, walked
                                 with mm_req_next_key() */
    struct mm_span args;      /* stats: the rest of the line after "stats" */
    uint32_t flags;           /* client flags */
    int64_t exptime;          /* as sent; converted by cmd/ */
    uint32_t vlen;            /* storage: value length (without "\r\n") */
    uint64_t cas;             /* cas command */
    uint64_t delta;           /* incr/decr */
    int64_t num;              /* flush_all delay, verbosity level, memlimit MB,
                                 shutdown: unused */
};

/* Walk a key list: sets *key to the next key and returns true, or returns
 * false at the end. *pos starts at 0. Keys are separated by one or more
 * spaces. Key-length validation is the caller's (memcached checks each key as
 * it reaches it). */
bool mm_req_next_key(const struct mm_req *req, size_t *pos, struct mm_span *key);

#endif
