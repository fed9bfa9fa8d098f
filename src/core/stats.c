/* Per-thread counter blocks: summing and resetting. Counting itself is the
 * MM_STAT_* macros in the header, so it inlines at every call site. */
#include "config.h"

#include "mmem/stats.h"

void
mm_stats_sum(struct mm_stats *sum, const struct mm_stats *src)
{
#define MM_STATS_X_SUM(name) sum->name += __atomic_load_n(&src->name, __ATOMIC_RELAXED);
    MM_STATS_THREAD_FIELDS(MM_STATS_X_SUM)
#undef MM_STATS_X_SUM
}

void
mm_stats_reset(struct mm_stats *st)
{
#define MM_STATS_X_RESET(name) __atomic_store_n(&st->name, 0, __ATOMIC_RELAXED);
    MM_STATS_THREAD_FIELDS(MM_STATS_X_RESET)
#undef MM_STATS_X_RESET
}
