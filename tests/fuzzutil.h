/*
 * fuzzutil: what the structure-aware fuzz targets (tests/fuzz_raw.c,
 * tests/fuzz_phantom.c) share: a cursor that reads the fuzzer's bytes as
 * small integers, doubles and strings (reading past the end gives zeros and
 * empty strings, so every input decodes), and one scratch folder per
 * process for the files a target writes before it reads them back.
 * Header-only (static functions): each target is one source file for
 * tests/fuzz/run.sh, and tests/test_regress.c includes both.
 */
#ifndef LARMOR_TESTS_FUZZUTIL_H
#define LARMOR_TESTS_FUZZUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/paths.h"

struct fz_cur {
    const uint8_t *p;
    size_t n, at;
};

static inline unsigned fz_u8(struct fz_cur *c)
{
    return c->at < c->n ? c->p[c->at++] : 0;
}

static inline uint64_t fz_u64(struct fz_cur *c, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)fz_u8(c) << (8 * i);
    return v;
}

static inline double fz_f64(struct fz_cur *c)
{
    uint64_t b = fz_u64(c, 8);
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

/* A NUL-terminated string of at most cap - 1 bytes into buf (the rest of a
   longer one is skipped up to its NUL). */
static inline void fz_str(struct fz_cur *c, char *buf, size_t cap)
{
    size_t k = 0;
    while (c->at < c->n) {
        char ch = (char)c->p[c->at++];
        if (!ch)
            break;
        if (k + 1 < cap)
            buf[k++] = ch;
    }
    buf[k] = '\0';
}

static inline int fz_done(const struct fz_cur *c)
{
    return c->at >= c->n;
}

static char fz_dir_path[256];

static void fz_dir_remove(void)
{
    if (fz_dir_path[0])
        rmdir(fz_dir_path);
}

/* The process's scratch folder (made on the first call under $TMPDIR, or
   /dev/shm, or /tmp; removed at exit once empty); NULL if none could be made. */
static inline const char *fz_dir(void)
{
    if (fz_dir_path[0])
        return fz_dir_path;
    const char *bases[] = { getenv("TMPDIR"), "/dev/shm", "/tmp" };
    for (size_t i = 0; i < sizeof bases / sizeof *bases; i++) {
        if (!bases[i] || !*bases[i])
            continue;
        snprintf(fz_dir_path, sizeof fz_dir_path, "%s/larmor-fuzz-XXXXXX", bases[i]);
        if (mkdtemp(fz_dir_path)) {
            atexit(fz_dir_remove);
            return fz_dir_path;
        }
    }
    fz_dir_path[0] = '\0';
    return NULL;
}

/* The stdlib folder of the targets that compile: $LARMOR_STDLIB, else
   -DLARMOR_FUZZ_STDLIB="dir" (tests/fuzz/run.sh), else the default. */
static inline const char *fz_stdlib(void)
{
    const char *env = getenv("LARMOR_STDLIB");
    if (env && *env)
        return env;
#ifdef LARMOR_FUZZ_STDLIB
    return LARMOR_FUZZ_STDLIB;
#else
    return paths_stdlib();
#endif
}

#endif
