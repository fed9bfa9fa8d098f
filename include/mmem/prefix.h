#ifndef MMEM_PREFIX_H
#define MMEM_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Per-prefix counters for "stats detail on|off|dump" (memcached's -D).
 * A key's prefix is what comes before the first delimiter byte; keys
 * without the delimiter are not counted. Counting happens only while the
 * switch is on; the counters stay (and are dumped) when it is turned off,
 * until mm_prefix_clear() ("stats reset").
 *
 * Memory is bounded: at most max_prefixes distinct prefixes are tracked, and
 * a key whose prefix is new once the table is full is not counted.
 *
 * The dump lists prefixes in memcached's order (the bucket of its 256-slot
 * table given by MurmurHash3 of the prefix, newest first within a bucket),
 * so a client sees the same lines in the same order.
 *
 * Every function is thread-safe (one mutex; counting is off by default and
 * costs one relaxed load then). */

struct mm_prefix;

enum mm_prefix_op {
    MM_PREFIX_GET = 0, /* a key looked up by get/gets/gat/gats */
    MM_PREFIX_HIT,     /* the same, and it was found */
    MM_PREFIX_SET,     /* a storage command was accepted for the key */
    MM_PREFIX_DELETE   /* a delete was accepted for the key */
};

/* max_prefixes 0 means MM_PREFIX_MAX_DEFAULT. */
#define MM_PREFIX_MAX_DEFAULT 4096u
struct mm_prefix *mm_prefix_create(char delimiter, bool enabled, size_t max_prefixes);
void mm_prefix_destroy(struct mm_prefix **p);

void mm_prefix_set_enabled(struct mm_prefix *p, bool on);
bool mm_prefix_enabled(const struct mm_prefix *p);

/* Count op for key (nkey bytes). MM_PREFIX_HIT counts a get and a hit. No
 * effect while disabled, for a key without the delimiter, or for a new
 * prefix once the table is full. */
void mm_prefix_record(struct mm_prefix *p, const char *key, size_t nkey, enum mm_prefix_op op);

/* Forget every prefix. */
void mm_prefix_clear(struct mm_prefix *p);

/* Number of prefixes tracked. */
size_t mm_prefix_count(struct mm_prefix *p);

/* Call line(arg, text, len) once per prefix with
 * "PREFIX <p> get <n> hit <n> set <n> del <n>\r\n", in dump order. Runs
 * under the table's lock: line must not call back into p. */
typedef void (*mm_prefix_line_fn)(void *arg, const char *text, size_t len);
void mm_prefix_dump(struct mm_prefix *p, mm_prefix_line_fn line, void *arg);

/* MurmurHash3 x86 32-bit with seed 0, the hash memcached files prefixes
 * under. Exposed for the unit test. */
uint32_t mm_prefix_hash(const char *data, size_t len);

#endif
