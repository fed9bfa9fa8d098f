#ifndef MMEM_CMD_INT_H
#define MMEM_CMD_INT_H

/* Private to src/cmd (and its white-box tests). */

struct mm_cmd_env;

/* The version string commands report: env->version or PACKAGE_VERSION. */
const char *mm_cmd_version(const struct mm_cmd_env *env);

/* memcached's highest slab class id + 1, for "stats cachedump" checks. */
#define MM_CMD_MAX_SLAB_CLASSES 64

#endif
