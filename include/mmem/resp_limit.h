#ifndef MMEM_RESP_LIMIT_H
#define MMEM_RESP_LIMIT_H

#include <stdbool.h>
#include <stddef.h>

/* memcached's -o read_buf_mem_limit, as a count a worker keeps. memcached
 * gives each worker thread a cache of 16 KB objects capped at
 * limit / threads (at least one object): a connection holds one as its
 * read buffer while it has unprocessed input, and response objects come 13
 * to a 16 KB bundle from the same cache. A request needs one response
 * object (a get one per key) from when it runs until its reply is written;
 * a worker keeps its last bundle once it had one. When the cache is
 * exhausted memcached refuses the read (read_buf_oom, the connection is
 * closed) or the response (response_obj_oom). mmem has neither kind of
 * object, so it counts them here to refuse in the same places.
 *
 * Owned by one worker: no locking. A limit of 0 means no limit: every take
 * succeeds and nothing is counted. */

#define MM_RESP_LIMIT_OBJ_SIZE 16384u
#define MM_RESP_LIMIT_PER_BUNDLE 13u

struct mm_resp_limit {
    unsigned cap;     /* 16 KB objects the worker may hold; 0 = no limit */
    unsigned rbufs;   /* held as read buffers */
    unsigned bundles; /* held as response bundles */
    unsigned resps;   /* response objects in use */
};

/* limit_bytes: read_buf_mem_limit in bytes (0: none); threads: -t. */
void mm_resp_limit_init(struct mm_resp_limit *l, size_t limit_bytes, unsigned threads);
bool mm_resp_limit_on(const struct mm_resp_limit *l);

/* A read buffer for a connection that has none; false when none is left. */
bool mm_resp_limit_take_rbuf(struct mm_resp_limit *l);
void mm_resp_limit_put_rbuf(struct mm_resp_limit *l);

/* One response object; false when a new bundle would be needed and none is
 * left. */
bool mm_resp_limit_take(struct mm_resp_limit *l);
/* Give back n response objects; empty bundles go back to the cache except
 * the last one. */
void mm_resp_limit_put(struct mm_resp_limit *l, unsigned n);

#endif
