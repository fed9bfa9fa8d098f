/* Runs every file of the fuzz corpus through the fuzz target's entry point,
 * so the corpus is a regression test on builds without a fuzzer. Arguments
 * are files or directories; with none, the text corpus under $MMEM_SRCDIR
 * (set by make check) or the current directory is used. */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The corpus directory under tests/fuzz/corpus run by default; each target's
 * replay program is built with its own. */
#ifndef REPLAY_CORPUS
#define REPLAY_CORPUS "text"
#endif

/* Inputs larger than this are not corpus material. */
#define REPLAY_MAX_FILE (4u << 20)

static int
run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    size_t n;

    if (f == NULL) {
        perror(path);
        return -1;
    }
    buf = malloc(REPLAY_MAX_FILE);
    if (buf == NULL) {
        fclose(f);
        return -1;
    }
    n = fread(buf, 1, REPLAY_MAX_FILE, f);
    fclose(f);
    /* An exact-size copy, so ASan sees any read past the input. */
    {
        uint8_t *exact = malloc(n ? n : 1);

        if (exact == NULL) {
            free(buf);
            return -1;
        }
        memcpy(exact, buf, n);
        free(buf);
        LLVMFuzzerTestOneInput(exact, n);
        free(exact);
    }
    return 0;
}

static int
run_path(const char *path, unsigned *count)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    int rc = 0;

    if (stat(path, &st) != 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return run_file(path);
    }
    d = opendir(path);
    if (d == NULL) {
        perror(path);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        char sub[4096];

        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        if (run_path(sub, count) != 0) {
            rc = -1;
        }
    }
    closedir(d);
    return rc;
}

int
main(int argc, char **argv)
{
    unsigned count = 0;
    int rc = 0;
    int i;

    if (argc > 1) {
        for (i = 1; i < argc; i++) {
            if (run_path(argv[i], &count) != 0) {
                rc = 1;
            }
        }
    } else {
        const char *src = getenv("MMEM_SRCDIR");
        char dir[4096];

        snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/" REPLAY_CORPUS, src ? src : ".");
        if (run_path(dir, &count) != 0) {
            rc = 1;
        }
    }
    printf("replayed %u inputs\n", count);
    if (count == 0) {
        fprintf(stderr, "no corpus inputs found\n");
        return 1;
    }
    return rc;
}
