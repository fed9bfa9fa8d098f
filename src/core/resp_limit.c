/* The object count behind -o read_buf_mem_limit (see resp_limit.h): read
 * buffers and bundles of response objects drawn from one per-worker cap, as
 * memcached 1.6.18 draws them from its per-thread cache. */
#include "config.h"

#include "mmem/resp_limit.h"

#include <string.h>

void
mm_resp_limit_init(struct mm_resp_limit *l, size_t limit_bytes, unsigned threads)
{
    size_t per;

    memset(l, 0, sizeof(*l));
    if (limit_bytes == 0) {
        return;
    }
    per = limit_bytes / (threads > 0 ? threads : 1);
    /* Under one object's worth memcached still allows one. */
    l->cap = per < MM_RESP_LIMIT_OBJ_SIZE ? 1u : (unsigned)(per / MM_RESP_LIMIT_OBJ_SIZE);
}

bool
mm_resp_limit_on(const struct mm_resp_limit *l)
{
    return l->cap != 0;
}

static bool
room(const struct mm_resp_limit *l)
{
    return l->rbufs + l->bundles < l->cap;
}

bool
mm_resp_limit_take_rbuf(struct mm_resp_limit *l)
{
    if (l->cap == 0) {
        return true;
    }
    if (!room(l)) {
        return false;
    }
    l->rbufs++;
    return true;
}

void
mm_resp_limit_put_rbuf(struct mm_resp_limit *l)
{
    if (l->rbufs > 0) {
        l->rbufs--;
    }
}

bool
mm_resp_limit_take(struct mm_resp_limit *l)
{
    if (l->cap == 0) {
        return true;
    }
    if (l->resps >= l->bundles * MM_RESP_LIMIT_PER_BUNDLE) {
        if (!room(l)) {
            return false;
        }
        l->bundles++;
    }
    l->resps++;
    return true;
}

void
mm_resp_limit_put(struct mm_resp_limit *l, unsigned n)
{
    unsigned keep;

    l->resps = n < l->resps ? l->resps - n : 0;
    keep = (l->resps + MM_RESP_LIMIT_PER_BUNDLE - 1) / MM_RESP_LIMIT_PER_BUNDLE;
    if (keep == 0 && l->bundles > 0) {
        keep = 1;
    }
    if (l->bundles > keep) {
        l->bundles = keep;
    }
}
