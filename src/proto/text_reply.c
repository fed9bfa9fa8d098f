/* Reply composers for the text protocol: the fixed error strings and the
 * few generated lines (VALUE headers, numbers, STAT lines). They only append
 * to an mm_out; values themselves are referenced by cmd/, not copied here. */
#include "config.h"

#include "mmem/out.h"
#include "mmem/scan.h"
#include "mmem/text.h"

#include <string.h>

void
mm_text_error(struct mm_out *o, enum mm_req_err err, bool noreply)
{
    size_t n;
    const char *s = mm_text_err_str(err, &n);

    if (!noreply && n > 0) {
        mm_out_append(o, s, n);
    }
}

void
mm_text_value_header(struct mm_out *o, const char *key, size_t nkey, uint32_t flags, uint32_t vlen,
                     bool with_cas, uint64_t cas)
{
    /* "VALUE " + key (<= 250) + 3 numbers and separators fit one reserve. */
    char *p = mm_out_reserve(o, 6 + nkey + 3 * 21 + 2);
    char *start = p;

    memcpy(p, "VALUE ", 6);
    p += 6;
    memcpy(p, key, nkey);
    p += nkey;
    *p++ = ' ';
    p += mm_u64toa(flags, p);
    *p++ = ' ';
    p += mm_u64toa(vlen, p);
    if (with_cas) {
        *p++ = ' ';
        p += mm_u64toa(cas, p);
    }
    *p++ = '\r';
    *p++ = '\n';
    mm_out_commit(o, (size_t)(p - start));
}

void
mm_text_number(struct mm_out *o, uint64_t n)
{
    char buf[24];
    size_t len = mm_u64toa(n, buf);

    buf[len++] = '\r';
    buf[len++] = '\n';
    mm_out_append(o, buf, len);
}

void
mm_text_stat(struct mm_out *o, const char *name, const char *value)
{
    MM_OUT_LIT(o, "STAT ");
    mm_out_append(o, name, strlen(name));
    MM_OUT_LIT(o, " ");
    mm_out_append(o, value, strlen(value));
    MM_OUT_LIT(o, "\r\n");
}
