/*
 * compile: the compiler's public entry point. Parses a sequence file and the
 * modules it imports, evaluates params and definitions, lowers the
 * `sequence` body to bytecode, solves the timing constraints by a dry run of
 * the timing VM, and returns a self-contained program.
 */
#ifndef LARMOR_COMPILE_H
#define LARMOR_COMPILE_H

#include "base/diag.h"
#include "runtime/system/system.h"
#include "vm/program.h"

struct compile_opts {
    const char *path;            /* the sequence file */
    const char **defines;        /* "name=value" strings from -D */
    int ndefines;
    const char *stdlib_dir;      /* NULL: LARMOR_STDLIB, then the built-in path */
    const struct system *sys;    /* NULL: the built-in default */
    int no_dry_run;              /* skip the timing dry run (tests only) */
    /* Cap on the work of one compilation, for fuzzers and other untrusted
       input; 0 = no limit. Counted separately for evaluation (function
       calls, array and string elements built or scanned) and for the dry
       run (VM instructions). Past it the compilation fails with E0315. */
    uint64_t max_work;
    /* The safety check of the dry run (runtime/check/check.h). If check_out is
       non-NULL the check object is handed over there (the caller frees it
       with check_free), and a program whose only errors are safety
       violations is still returned, for `larmor check` to report. */
    struct check **check_out;
    int no_check;                /* run the dry run without the safety checks */
    /* If set, after a successful compilation each time param that a timing
       constraint depends on (te, tr...) is searched for its minimum (by
       recompiling, as for the "TE below the minimum" error) and reported
       here. at_floor: the param's lower range bound is already feasible, so
       the minimum is that bound or less. */
    void (*on_minimum)(void *ctx, const char *param, int64_t current_ns, int64_t min_ns,
                       int at_floor);
    void *min_ctx;
};

/* Compile; diagnostics go to d (which owns the source texts for printing).
   Returns NULL if there were errors. */
struct lbc_program *compile_file(const struct compile_opts *o, struct diag_ctx *d);

/* Compile from a text already in memory (used by tests and the fuzzer). */
struct lbc_program *compile_text(const char *path, const char *text, size_t len,
                                 const struct compile_opts *o, struct diag_ctx *d);

/* Print the params of a sequence (name, value after -D, range, doc string),
   one per line. Returns 0, or 1 if it does not compile. */
int compile_describe_params(const struct compile_opts *o, struct diag_ctx *d, FILE *out);

#endif
