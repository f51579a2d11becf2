/*
 * langutil: what the language suites (test_lang.c, test_lang_events.c,
 * test_lang_timing.c) share: compiling source text or a shipped sequence
 * and asserting it succeeds or fails with a code; values computed at compile
 * time, read back from the program's param table (`param v__ = EXPR`); and
 * a collecting backend that records every block the VM plays (struct evlog,
 * which owns its array of struct ev).
 */
#ifndef LARMOR_TESTS_LANGUTIL_H
#define LARMOR_TESTS_LANGUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "base/units.h"
#include "vm/program.h"
#include "vm/vm.h"

#define PI 3.14159265358979323846
#define GAMMA_BAR 42.577478518e6     /* Hz/T, the default system's */
#define MS 1000000LL                 /* ns */
#define US 1000LL                    /* ns */

/* ---- a collecting backend ---- */

struct ev {
    int64_t start, dur;
    char name[24];
    bool is_delay, has_rf, has_adc, has_trig;
    bool has_grad[3];
    int64_t rf_delay, rf_dur, rf_dt, rf_centre;     /* rf_centre: absolute */
    double rf_amp, rf_phase, rf_freq;
    int rf_use;
    uint32_t rf_n;
    double rf_sum;                                  /* sum of the mag samples */
    int64_t adc_delay, adc_dwell, adc_centre;       /* adc_centre: absolute */
    uint32_t adc_samples;
    double adc_phase, adc_freq;
    int32_t adc_labels[VM_LABEL__COUNT];
    int gkind[3];
    double gamp[3];
    int64_t gdelay[3], grise[3], gflat[3], gfall[3], gdt[3], gdur[3];
    uint32_t gn[3];
    double gshape[3][8];
    int trig_ch;
    int64_t trig_delay, trig_dur;
    int32_t labels[VM_LABEL__COUNT];
};

struct evlog {
    struct ev *v;
    size_t n, cap;
    int64_t total;
    int nerr;
    int first_err;
};

/* Compiles src as the file path with -D defs; the shipped sequences are checked, test sources not. */
struct lbc_program *compile_at(const char *path, const char *src, const char *const *defs,
                               int nd, struct diag_ctx *d);

/* Compiles src as test.psq with -D defs. */
struct lbc_program *compile_d(const char *src, const char *const *defs, int nd,
                              struct diag_ctx *d);

/* Index of the first diagnostic with this code, or -1. */
int find_code(const struct diag_ctx *d, int code);

/* Compile a program that must succeed; prints the diagnostics if not. */
struct lbc_program *compile_ok_d(const char *src, const char *const *defs, int nd);

/* compile_ok_d without -D. */
struct lbc_program *compile_ok(const char *src);

/* Compile a program that must fail with the given code among its errors.
   Returns that diagnostic's index in *d (left initialised for the caller,
   who must diag_fini it), or -1. */
int compile_err_d(const char *src, const char *const *defs, int nd, int code,
                  struct diag_ctx *d);

/* src must fail to compile with the code among its errors. */
void expect_err(const char *src, int code);

/* The same with one -D definition. */
void expect_err_def(const char *src, const char *def, int code);

/* The param of the program with this name, or NULL. */
const struct lbc_param *find_param(const struct lbc_program *p, const char *name);

/* Evaluate EXPR at compile time after PRELUDE (top-level statements), as a
   param; the param's record is copied to *out. */
bool eval_param(const char *prelude, const char *expr, struct lbc_param *out);

/* A plain number (or quantity in SI) computed at compile time; NAN if not. */
double numv(const char *prelude, const char *expr);

/* A time computed at compile time, ns; INT64_MIN if not a time. */
int64_t timev(const char *prelude, const char *expr);

/* The dimension of a compile-time value. */
struct dim dimv(const char *prelude, const char *expr);

/* Run p, recording every block (delays included); returns vm_run's result. */
int run_log(const struct lbc_program *p, struct evlog *L);

/* Frees the recorded blocks. */
void evlog_free(struct evlog *L);

/* The k-th (0-based) non-delay block, or NULL. */
const struct ev *blk(const struct evlog *L, size_t k);

/* How many non-delay blocks were recorded. */
size_t nblocks(const struct evlog *L);

/* Compile src (must succeed) and run it with no VM error. */
struct lbc_program *compile_run(const char *src, struct evlog *L);

/* Absolute offset of needle in hay (the n-th occurrence, 0-based). */
uint32_t offset_of(const char *hay, const char *needle, int nth);

/* Compiles sequences/NAME with -D defs; NULL (and a note) when unreadable. */
struct lbc_program *compile_file_defs(const char *name, const char *const *defs, int nd,
                                      struct diag_ctx *d);

/* compile_file_defs that must succeed; prints the diagnostics if not. */
struct lbc_program *compile_file_ok(const char *name, const char *const *defs, int nd);

/* ---- tables of cases: one assertion per case, as the single calls make ---- */

/* A compile-time value: EXPR (after the table's prelude) is want. */
struct num_case {
    const char *expr;
    double want;
};

/* A compile-time time: EXPR is want ns. */
struct time_case {
    const char *expr;
    int64_t want;
};

/* A compile-time value within tol of want. */
struct near_case {
    const char *expr;
    double want, tol;
};

/* A source that fails to compile with code among its errors. */
struct err_case {
    const char *src;
    int code;
};

/* numv(prelude, expr) == want for each case. */
void expect_nums(const char *prelude, const struct num_case *c, size_t n);

/* timev(prelude, expr) == want for each case. */
void expect_times(const char *prelude, const struct time_case *c, size_t n);

/* numv(prelude, expr) within tol of want for each case. */
void expect_nears(const char *prelude, const struct near_case *c, size_t n);

/* expect_err for each case. */
void expect_errs(const struct err_case *c, size_t n);

#define EXPECT_NUMS(pre, t) expect_nums(pre, t, sizeof t / sizeof t[0])
#define EXPECT_TIMES(pre, t) expect_times(pre, t, sizeof t / sizeof t[0])
#define EXPECT_NEARS(pre, t) expect_nears(pre, t, sizeof t / sizeof t[0])
#define EXPECT_ERRS(t) expect_errs(t, sizeof t / sizeof t[0])

#endif
