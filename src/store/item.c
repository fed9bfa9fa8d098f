/* Item accessors and the saturating reference count. An item is a fixed
 * 48-byte header, an optional CAS, the key and the raw value in one block;
 * this file knows the layout, the other store files use these helpers and
 * never compute offsets themselves. */
#include "config.h"

#include "store/item_int.h"

#include <string.h>

static inline size_t
cas_size(const struct mm_item *it)
{
    return (it->layout & MM_ITEM_L_CAS) ? 8u : 0u;
}

const char *
mm_item_key(const struct mm_item *it)
{
    return (const char *)it + MM_ITEM_HDR_SIZE + cas_size(it);
}

uint8_t
mm_item_nkey(const struct mm_item *it)
{
    return it->nkey;
}

char *
mm_item_data(struct mm_item *it)
{
    return (char *)it + MM_ITEM_HDR_SIZE + cas_size(it) + it->nkey;
}

const char *
mm_item_cdata(const struct mm_item *it)
{
    return (const char *)it + MM_ITEM_HDR_SIZE + cas_size(it) + it->nkey;
}

uint32_t
mm_item_vlen(const struct mm_item *it)
{
    return it->vlen;
}

uint32_t
mm_item_flags(const struct mm_item *it)
{
    return it->client_flags;
}

unsigned
mm_item_clsid(const struct mm_item *it)
{
    return it->cls;
}

uint64_t
mm_item_cas(const struct mm_item *it)
{
    uint64_t cas = 0;

    if (it->layout & MM_ITEM_L_CAS) {
        memcpy(&cas, (const char *)it + MM_ITEM_HDR_SIZE, sizeof(cas));
    }
    return cas;
}

mm_reltime_t
mm_item_exptime(const struct mm_item *it)
{
    return mm_item_load_exptime(it);
}

mm_reltime_t
mm_item_atime(const struct mm_item *it)
{
    return mm_item_load_atime(it);
}

size_t
mm_item_total(const struct mm_item *it)
{
    return MM_ITEM_HDR_SIZE + cas_size(it) + it->nkey + it->vlen;
}

void
mm_item_init(struct mm_item *it, const char *key, uint8_t nkey, uint8_t cls, uint8_t shard,
             bool cas, uint32_t client_flags, mm_reltime_t exptime, uint32_t vlen, mm_reltime_t now)
{
    it->lru_prev = NULL;
    it->lru_next = NULL;
    it->h_next = 0;
    it->atime = now;
    it->exptime = exptime;
    it->vlen = vlen;
    it->client_flags = client_flags;
    it->refcnt = 1;
    it->iflags = 0;
    it->cls = cls;
    it->nkey = nkey;
    it->shard = shard;
    it->layout = cas ? MM_ITEM_L_CAS : 0;
    it->spare = 0;
    if (cas) {
        memset((char *)it + MM_ITEM_HDR_SIZE, 0, 8);
    }
    memcpy((char *)mm_item_key(it), key, nkey);
}

void
mm_item_set_cas(struct mm_item *it, uint64_t cas)
{
    if (it->layout & MM_ITEM_L_CAS) {
        memcpy((char *)it + MM_ITEM_HDR_SIZE, &cas, sizeof(cas));
    }
}

void
mm_item_ref(struct mm_item *it)
{
    uint16_t old = __atomic_load_n(&it->refcnt, __ATOMIC_RELAXED);

    /* A compare-exchange loop instead of fetch_add, so the count can stop at
     * the maximum instead of wrapping to zero. */
    do {
        if (old == MM_ITEM_REF_MAX) {
            return;
        }
    } while (!__atomic_compare_exchange_n(&it->refcnt, &old, (uint16_t)(old + 1), true,
                                          __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
}

bool
mm_item_unref(struct mm_item *it)
{
    uint16_t old = __atomic_load_n(&it->refcnt, __ATOMIC_RELAXED);

    do {
        if (old == MM_ITEM_REF_MAX || old == 0) {
            /* Pinned (saturated), or a double unref that we refuse to turn
             * into a double free. */
            return false;
        }
    } while (!__atomic_compare_exchange_n(&it->refcnt, &old, (uint16_t)(old - 1), true,
                                          __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
    return old == 1;
}

uint16_t
mm_item_refcnt(const struct mm_item *it)
{
    /* Acquire: a caller that sees the count drop to 1 may reuse the memory,
     * so it must also see everything the releasing reader did before. */
    return __atomic_load_n(&it->refcnt, __ATOMIC_ACQUIRE);
}
