/*
 * bench_util: helpers shared by the benchmark programs (each is its own
 * executable, so these are static inline).
 */
#ifndef LARMOR_BENCH_UTIL_H
#define LARMOR_BENCH_UTIL_H

#include <stdlib.h>

#include "vm/program.h"

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Size of the program's .lbc file in bytes (0 if it cannot be written). */
static inline size_t lbc_size(const struct lbc_program *p)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    if (lbc_write_buf(p, &buf, &len) != 0)
        return 0;
    free(buf);
    return len;
}

#endif
