#ifndef MMEM_TESTS_FUZZ_H
#define MMEM_TESTS_FUZZ_H

/* Shared by the fuzz targets: libFuzzer's entry point, and the check that
 * turns a broken property into a crash libFuzzer reports (and keeps the
 * input of). */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
