#ifndef MMEM_REQ_H
#define MMEM_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A parsed request. Parsers fill it from a buffer without copying: spans
 * point into the caller's read buffer, which must stay unchanged while the
 * request is in use (see the rule in net/iobuf and doc/architecture.md).
 * mm_cmd_store_end() is the exception: it reads only the non-span fields, so
 * the buffer may move while a value is being read. */

struct mm_span {
    const char *p;
    size_t len;
};

enum mm_req_type {
    MM_REQ_NONE = 0,
    /* A line that earns an error reply (req->err says which). It is still
     * "executed": mm_cmd_exec() composes the reply, honouring noreply. */
    MM_REQ_ERROR,
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
    /* meta set: also a storage request (value follows), see meta.h */
    MM_REQ_MS,
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
    MM_REQ_MN, /* meta no-op */
    MM_REQ_MG, /* meta get, delete, arithmetic, debug: see meta.h */
    MM_REQ_MD,
    MM_REQ_MA,
    MM_REQ_ME,
    MM_REQ_WATCH, /* watch [kinds...]: args holds the rest of the line */
    /* lru_crawler <sub> [arg]: num is an MM_REQ_CRAWLER_* sub-command, args
     * its one argument token (empty for enable/disable). */
    MM_REQ_LRU_CRAWLER,
    /* slabs reassign <src> <dst> | slabs automove <n>: num is an
     * MM_REQ_SLABS_* sub-command, args the rest of the line after it (two
     * tokens for reassign, one for automove). */
    MM_REQ_SLABS,
    MM_REQ_REFRESH_CERTS, /* refresh_certs [...] [noreply]: reload the TLS files */
    MM_REQ__COUNT
};

/* Error replies a parser may choose. The text protocol's exact bytes for each
 * are given by mm_text_err_str() (text.h). */
enum mm_req_err {
    MM_REQ_ERR_NONE = 0,
    MM_REQ_ERR_UNKNOWN,      /* "ERROR" */
    MM_REQ_ERR_FORMAT,       /* "CLIENT_ERROR bad command line format" */
    MM_REQ_ERR_DELTA,        /* "CLIENT_ERROR invalid numeric delta argument" */
    MM_REQ_ERR_EXPTIME,      /* "CLIENT_ERROR invalid exptime argument" */
    MM_REQ_ERR_USAGE_DELETE, /* "CLIENT_ERROR bad command line format.  Usage: ..." */
    MM_REQ_ERR__COUNT
};

/* lru_crawler sub-commands (req->num of MM_REQ_LRU_CRAWLER). */
#define MM_REQ_CRAWLER_CRAWL 0
#define MM_REQ_CRAWLER_METADUMP 1
#define MM_REQ_CRAWLER_TOCRAWL 2
#define MM_REQ_CRAWLER_SLEEP 3
#define MM_REQ_CRAWLER_ENABLE 4
#define MM_REQ_CRAWLER_DISABLE 5

/* slabs sub-commands (req->num of MM_REQ_SLABS). */
#define MM_REQ_SLABS_REASSIGN 0
#define MM_REQ_SLABS_AUTOMOVE 1

/* Shutdown modes (req->num of MM_REQ_SHUTDOWN). */
#define MM_REQ_SHUTDOWN_NOW 0
#define MM_REQ_SHUTDOWN_GRACEFUL 1
#define MM_REQ_SHUTDOWN_INVALID 2

static inline bool
mm_req_is_storage(enum mm_req_type t)
{
    return t >= MM_REQ_SET && t <= MM_REQ_MS;
}

static inline bool
mm_req_is_retrieval(enum mm_req_type t)
{
    return t >= MM_REQ_GET && t <= MM_REQ_GATS;
}

/* Meta commands (mg ms md ma me): the flags of the line, filled by
 * mm_meta_parse_line() (meta.h). Numeric flag arguments go to the common fields
 * of mm_req where they mean the same thing (F -> flags, T -> exptime,
 * C -> cas, D -> delta, q -> noreply, ms's datalen -> vlen). Everything here
 * is copied, not a span, so it survives while an ms value is being read. */
#define MM_META_OPAQUE_MAX 32 /* bytes of an O token, its letter included */
#define MM_META_MAX_FLAGS 17  /* flag tokens memcached accepts after the key */
#define MM_META_FLAG(c) (UINT64_C(1) << ((unsigned)(c) - 'A'))

struct mm_req_meta {
    uint64_t seen;                 /* MM_META_FLAG(letter) for each flag given */
    const char *err;               /* "CLIENT_ERROR ...\r\n" to answer instead, or NULL */
    char order[MM_META_MAX_FLAGS]; /* flag letters in request order */
    uint8_t norder;
    uint8_t nopaque;                 /* bytes in opaque */
    char opaque[MM_META_OPAQUE_MAX]; /* the O token without its letter */
    char mode;                       /* M token ('\0' if none) */
    bool binary_key;                 /* b: key was base64 and is decoded below */
    int32_t vivify;                  /* N token */
    int32_t recache;                 /* R token */
    uint64_t initial;                /* J token */
    uint8_t nkey;                    /* its length */
    char key[256];                   /* the decoded key when binary_key; req->key
                                        stays the base64 text in the buffer */
};

struct mm_req {
    enum mm_req_type type;
    enum mm_req_err err;     /* for MM_REQ_ERROR, and for FLUSH_ALL whose
                                 argument was bad (counted, then refused) */
    bool noreply;            /* suppress the reply (errors included) */
    bool has_arg;            /* flush_all: a delay was given */
    struct mm_span key;      /* single-key commands */
    struct mm_span keys;     /* get/gets/gat/gats: the raw key list, walked
                                 with mm_req_next_key(); may be empty */
    struct mm_span args;     /* stats: the rest of the line after "stats" */
    uint32_t flags;          /* client flags */
    int32_t exptime;         /* as sent (after memcached's 32-bit wrap);
                                 converted by cmd/ */
    uint32_t vlen;           /* storage: value length (without "\r\n") */
    uint64_t cas;            /* cas command */
    uint64_t delta;          /* incr/decr */
    int64_t num;             /* flush_all delay, verbosity level, memlimit
                                 in MB, shutdown mode */
    struct mm_req_meta meta; /* meta commands only */
};

/* Walk a space-separated token list: sets *tok to the next token and returns
 * true, or returns false at the end. *pos starts at 0. Tokens are separated
 * by one or more spaces (only ' ': a tab is part of a token, as memcached).
 * Length validation is the caller's. */
bool mm_span_next_token(struct mm_span list, size_t *pos, struct mm_span *tok);

/* The same over req->keys. memcached checks each key's length only when it
 * reaches it, so the walker does not: keys longer than 250 bytes come back
 * and cmd/ answers CLIENT_ERROR for them. */
bool mm_req_next_key(const struct mm_req *req, size_t *pos, struct mm_span *key);

/* Human-readable name of a request type ("get", "set", ...; "error"). */
const char *mm_req_type_name(enum mm_req_type t);

#endif
