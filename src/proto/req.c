/* Helpers over parsed requests that every protocol shares: walking a
 * space-separated token list (multi-get keys, stats arguments) and naming
 * request types for logs and tests. Pure functions, no allocation. */
#include "config.h"

#include "mmem/req.h"

bool
mm_span_next_token(struct mm_span list, size_t *pos, struct mm_span *tok)
{
    size_t i = *pos;
    size_t start;

    while (i < list.len && list.p[i] == ' ') {
        i++;
    }
    if (i >= list.len) {
        *pos = list.len;
        return false;
    }
    start = i;
    while (i < list.len && list.p[i] != ' ') {
        i++;
    }
    tok->p = list.p + start;
    tok->len = i - start;
    *pos = i;
    return true;
}

bool
mm_req_next_key(const struct mm_req *req, size_t *pos, struct mm_span *key)
{
    return mm_span_next_token(req->keys, pos, key);
}

const char *
mm_req_type_name(enum mm_req_type t)
{
    static const char *const names[MM_REQ__COUNT] = {
        [MM_REQ_NONE] = "none",
        [MM_REQ_ERROR] = "error",
        [MM_REQ_GET] = "get",
        [MM_REQ_GETS] = "gets",
        [MM_REQ_GAT] = "gat",
        [MM_REQ_GATS] = "gats",
        [MM_REQ_SET] = "set",
        [MM_REQ_ADD] = "add",
        [MM_REQ_REPLACE] = "replace",
        [MM_REQ_APPEND] = "append",
        [MM_REQ_PREPEND] = "prepend",
        [MM_REQ_CAS] = "cas",
        [MM_REQ_DELETE] = "delete",
        [MM_REQ_INCR] = "incr",
        [MM_REQ_DECR] = "decr",
        [MM_REQ_TOUCH] = "touch",
        [MM_REQ_FLUSH_ALL] = "flush_all",
        [MM_REQ_VERSION] = "version",
        [MM_REQ_VERBOSITY] = "verbosity",
        [MM_REQ_QUIT] = "quit",
        [MM_REQ_STATS] = "stats",
        [MM_REQ_SHUTDOWN] = "shutdown",
        [MM_REQ_CACHE_MEMLIMIT] = "cache_memlimit",
        [MM_REQ_MS] = "ms",
        [MM_REQ_MN] = "mn",
        [MM_REQ_MG] = "mg",
        [MM_REQ_MD] = "md",
        [MM_REQ_MA] = "ma",
        [MM_REQ_ME] = "me",
        [MM_REQ_WATCH] = "watch",
        [MM_REQ_LRU_CRAWLER] = "lru_crawler",
        [MM_REQ_SLABS] = "slabs",
        [MM_REQ_REFRESH_CERTS] = "refresh_certs",
    };

    if ((unsigned)t >= MM_REQ__COUNT) {
        return "?";
    }
    return names[t];
}
