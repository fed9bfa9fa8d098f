/* Item accessors and the saturating reference count. An item is a 24-byte
 * header, then (each only where needed) a large item's length, the CAS and
 * the client flags, then the key and the raw value, in one block; this file
 * knows the layout, the other store files use these helpers and never
 * compute offsets themselves. */
#include "config.h"

#include "store/item_int.h"

#include <stddef.h>
#include <string.h>

/* Bytes between the header and the key. */
static inline size_t
pre_key(const struct mm_item *it)
{
    unsigned cl = it->cls_layout;

    return ((cl & MM_ITEM_CLS_MASK) == MM_ITEM_CLS_LARGE ? MM_ITEM_LARGE_EXTRA : 0u) +
           ((cl & MM_ITEM_L_CAS) ? 8u : 0u) + ((cl & MM_ITEM_L_FLAGS) ? 4u : 0u);
}

/* Offset of the CAS (when present). */
static inline size_t
cas_off(const struct mm_item *it)
{
    return MM_ITEM_HDR_SIZE + (mm_item_cls(it) == MM_ITEM_CLS_LARGE ? MM_ITEM_LARGE_EXTRA : 0u);
}

const char *
mm_item_key(const struct mm_item *it)
{
    return (const char *)it + MM_ITEM_HDR_SIZE + pre_key(it);
}

uint8_t
mm_item_nkey(const struct mm_item *it)
{
    return it->nkey;
}

char *
mm_item_data(struct mm_item *it)
{
    return (char *)it + MM_ITEM_HDR_SIZE + pre_key(it) + it->nkey;
}

const char *
mm_item_cdata(const struct mm_item *it)
{
    return (const char *)it + MM_ITEM_HDR_SIZE + pre_key(it) + it->nkey;
}

uint32_t
mm_item_vlen(const struct mm_item *it)
{
    uint32_t v;

    if (mm_item_cls(it) != MM_ITEM_CLS_LARGE) {
        return it->vlen24;
    }
    memcpy(&v, (const char *)it + MM_ITEM_HDR_SIZE, sizeof(v));
    return v;
}

uint32_t
mm_item_flags(const struct mm_item *it)
{
    uint32_t f = 0;

    if (it->cls_layout & MM_ITEM_L_FLAGS) {
        memcpy(&f, (const char *)it + cas_off(it) + (mm_item_has_cas(it) ? 8u : 0u), sizeof(f));
    }
    return f;
}

unsigned
mm_item_clsid(const struct mm_item *it)
{
    return mm_item_cls(it);
}

uint64_t
mm_item_cas(const struct mm_item *it)
{
    uint64_t cas = 0;

    if (mm_item_has_cas(it)) {
        memcpy(&cas, (const char *)it + cas_off(it), sizeof(cas));
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
    return MM_ITEM_HDR_SIZE + pre_key(it) + it->nkey + mm_item_vlen(it);
}

void
mm_item_init(struct mm_item *it, const char *key, uint8_t nkey, uint8_t cls, bool cas,
             uint32_t client_flags, mm_reltime_t exptime, uint32_t vlen, mm_reltime_t now)
{
    it->h_next = 0;
    it->atime = now;
    it->exptime = exptime;
    it->nkey = nkey;
    it->iflags = 0;
    it->cls_layout =
        (uint8_t)(cls | (cas ? MM_ITEM_L_CAS : 0u) | (client_flags != 0 ? MM_ITEM_L_FLAGS : 0u));
    if (cls == MM_ITEM_CLS_LARGE) {
        it->vlen24 = 0;
        memcpy((char *)it + MM_ITEM_HDR_SIZE, &vlen, sizeof(vlen));
    } else {
        it->vlen24 = vlen;
    }
    if (cas) {
        memset((char *)it + cas_off(it), 0, 8);
    }
    if (client_flags != 0) {
        memcpy((char *)it + cas_off(it) + (cas ? 8u : 0u), &client_flags, sizeof(client_flags));
    }
    memcpy((char *)mm_item_key(it), key, nkey);
    __atomic_store_n(&it->refcnt, 1, __ATOMIC_RELEASE);
}

void
mm_item_set_cas(struct mm_item *it, uint64_t cas)
{
    if (mm_item_has_cas(it)) {
        memcpy((char *)it + cas_off(it), &cas, sizeof(cas));
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
mm_item_pin(struct mm_item *it)
{
    uint16_t one = 1;

    return __atomic_compare_exchange_n(&it->refcnt, &one, 2, false, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED);
}

bool
mm_item_tryref(struct mm_item *it)
{
    uint16_t old = __atomic_load_n(&it->refcnt, __ATOMIC_RELAXED);

    do {
        if (old == 0 || old == MM_ITEM_REF_MAX) {
            return false;
        }
    } while (!__atomic_compare_exchange_n(&it->refcnt, &old, (uint16_t)(old + 1), true,
                                          __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
    return true;
}

void
mm_item_copy(struct mm_item *dst, const struct mm_item *src)
{
    size_t head = offsetof(struct mm_item, refcnt);
    size_t body = MM_ITEM_HDR_SIZE;

    /* Everything but the link and the count, which stay the copy's own;
     * the count is published last, as mm_item_init does. */
    memcpy((char *)dst + sizeof(dst->h_next), (const char *)src + sizeof(src->h_next),
           head - sizeof(src->h_next));
    dst->h_next = 0;
    dst->iflags = src->iflags;
    dst->cls_layout = src->cls_layout;
    memcpy((char *)dst + body, (const char *)src + body, mm_item_total(src) - body);
    __atomic_store_n(&dst->refcnt, 1, __ATOMIC_RELEASE);
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
