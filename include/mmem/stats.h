#ifndef MMEM_STATS_H
#define MMEM_STATS_H

#include <stdint.h>

/* Per-thread counter blocks. Each worker owns one block and is its only
 * writer; "stats" sums all blocks. Writers use MM_STAT_INCR/ADD, which compile
 * to a plain relaxed store (no lock prefix); readers use mm_stats_sum(), which
 * loads each field relaxed, so the sum is never torn per field and the race is
 * defined behaviour (and TSan-clean).
 *
 * The list uses memcached's stat names where memcached has one. */
#define MM_STATS_THREAD_FIELDS(X)                                                                  \
    X(cmd_get)                                                                                     \
    X(get_hits)                                                                                    \
    X(get_misses)                                                                                  \
    X(get_expired)                                                                                 \
    X(get_flushed)                                                                                 \
    X(cmd_set)                                                                                     \
    X(cmd_touch)                                                                                   \
    X(touch_hits)                                                                                  \
    X(touch_misses)                                                                                \
    X(cmd_flush)                                                                                   \
    X(delete_hits)                                                                                 \
    X(delete_misses)                                                                               \
    X(incr_hits)                                                                                   \
    X(incr_misses)                                                                                 \
    X(decr_hits)                                                                                   \
    X(decr_misses)                                                                                 \
    X(cas_hits)                                                                                    \
    X(cas_misses)                                                                                  \
    X(cas_badval)                                                                                  \
    X(cmd_meta)                                                                                    \
    X(auth_cmds)                                                                                   \
    X(auth_errors)                                                                                 \
    X(bytes_read)                                                                                  \
    X(bytes_written)                                                                               \
    X(conn_yields)                                                                                 \
    X(total_connections)                                                                           \
    X(rejected_connections)                                                                        \
    X(connection_structures)                                                                       \
    X(curr_connections)                                                                            \
    X(idle_kicks)                                                                                  \
    X(response_obj_oom)                                                                            \
    X(read_buf_oom)                                                                                \
    X(unexpected_napi_ids)                                                                         \
    X(round_robin_fallback)

struct mm_stats {
#define MM_STATS_X_FIELD(name) uint64_t name;
    MM_STATS_THREAD_FIELDS(MM_STATS_X_FIELD)
#undef MM_STATS_X_FIELD
};

#define MM_STAT_ADD(st, field, n)                                                                  \
    __atomic_store_n(&(st)->field, (st)->field + (uint64_t)(n), __ATOMIC_RELAXED)
#define MM_STAT_INCR(st, field) MM_STAT_ADD(st, field, 1)

/* sum += relaxed snapshot of src, field by field. */
void mm_stats_sum(struct mm_stats *sum, const struct mm_stats *src);
/* Zero a block ("stats reset"); called by the block's owner thread only, or
 * while the owner is known not to write. */
void mm_stats_reset(struct mm_stats *st);

#endif
