/*
 * test_lang: CUnit suites for the sequence language, end to end through
 * compile_text() and the timing VM:
 *
 *   lang.numbers  numbers with units, unit errors and their spans, exact
 *                 integer-ns time arithmetic, the polymorphic plain 0
 *   lang.params   defaults, ranges, -D overrides, the program's param table
 *   lang.expr     let, operators, conditions, functions, builtins, arrays,
 *                 comprehensions, records and `with`
 *   lang.import   stdlib modules, modules beside the sequence, missing
 *                 modules and import cycles
 *   lang.events   blocks and their events as the VM plays them
 *   lang.loops    loops stay loops; per-iteration values seen by a backend
 *   lang.timing   the spin echo's timing constraints, the minimum-TE
 *                 report, determinism and the bytecode round trip
 *
 * Values computed at compile time are read back from the program's param
 * table (`param v__ = EXPR`); run-time values from the events a collecting
 * backend records. stdlib comes from $top_srcdir/stdlib when top_srcdir is
 * set, sequences from $top_srcdir/sequences (else ./sequences).
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler/compile.h"
#include "base/diag.h"
#include "tests/testutil.h"
#include "base/units.h"
#include "base/util.h"
#include "vm/program.h"
#include "vm/vm.h"

int register_lang_tests(void);

#define PI 3.14159265358979323846
#define GAMMA_BAR 42.577478518e6     /* Hz/T, the default system's */
#define MS 1000000LL                 /* ns */
#define US 1000LL                    /* ns */

/* ---- compiling ---- */

static char *sequence_path(const char *name)
{
    const char *t = getenv("top_srcdir");
    if (!t || !*t)
        t = ".";
    size_t n = strlen(t) + strlen(name) + 32;
    char *p = malloc(n);
    snprintf(p, n, "%s/sequences/%s", t, name);
    return p;
}

static struct lbc_program *compile_at(const char *path, const char *src, const char *const *defs,
                                      int nd, struct diag_ctx *d)
{
    struct compile_opts o;
    memset(&o, 0, sizeof o);
    o.path = path;
    o.defines = (const char **)defs;
    o.ndefines = nd;
    o.stdlib_dir = test_stdlib_dir();
    /* language tests need no scanner limits; the shipped sequences do
       (tests/test_check.c tests the checks themselves) */
    o.no_check = strstr(path, "/sequences/") == NULL;
    return compile_text(path, src, strlen(src), &o, d);
}

static struct lbc_program *compile_d(const char *src, const char *const *defs, int nd,
                                     struct diag_ctx *d)
{
    return compile_at("test.psq", src, defs, nd, d);
}

/* Index of the first diagnostic with this code, or -1. */
static int find_code(const struct diag_ctx *d, int code)
{
    for (size_t i = 0; i < d->ndiags; i++)
        if (d->diags[i]->code == code)
            return (int)i;
    return -1;
}

/* Compile a program that must succeed; prints the diagnostics if not. */
static struct lbc_program *compile_ok_d(const char *src, const char *const *defs, int nd)
{
    struct diag_ctx d;
    diag_init(&d);
    struct lbc_program *p = compile_d(src, defs, nd, &d);
    CU_ASSERT_PTR_NOT_NULL(p);
    CU_ASSERT_EQUAL(d.nerrors, 0);
    if (!p || d.nerrors) {
        fprintf(stderr, "\n--- unexpected errors for:\n%s\n", src);
        diag_print_all(&d, stderr, false);
    }
    diag_fini(&d);
    return p;
}

static struct lbc_program *compile_ok(const char *src)
{
    return compile_ok_d(src, NULL, 0);
}

/* Compile a program that must fail with the given code among its errors.
   Returns that diagnostic's index in *d (left initialised for the caller,
   who must diag_fini it), or -1. */
static int compile_err_d(const char *src, const char *const *defs, int nd, int code,
                         struct diag_ctx *d)
{
    diag_init(d);
    struct lbc_program *p = compile_d(src, defs, nd, d);
    CU_ASSERT_PTR_NULL(p);
    lbc_free(p);
    int i = find_code(d, code);
    CU_ASSERT(i >= 0);
    if (i < 0) {
        fprintf(stderr, "\n--- expected E%04d for:\n%s\n--- got:\n", code, src);
        diag_print_all(d, stderr, false);
    }
    return i;
}

static void expect_err(const char *src, int code)
{
    struct diag_ctx d;
    compile_err_d(src, NULL, 0, code, &d);
    diag_fini(&d);
}

static void expect_err_def(const char *src, const char *def, int code)
{
    struct diag_ctx d;
    const char *defs[1] = { def };
    compile_err_d(src, defs, 1, code, &d);
    diag_fini(&d);
}

static const struct lbc_param *find_param(const struct lbc_program *p, const char *name)
{
    for (uint32_t i = 0; p && i < p->nparams; i++)
        if (!strcmp(lbc_str(p, p->params[i].name), name))
            return &p->params[i];
    return NULL;
}

/* Evaluate EXPR at compile time after PRELUDE (top-level statements), as a
   param; the param's record is copied to *out. */
static bool eval_param(const char *prelude, const char *expr, struct lbc_param *out)
{
    size_t n = strlen(prelude) + strlen(expr) + 64;
    char *src = malloc(n);
    snprintf(src, n, "%s\nparam v__ = %s\nsequence { }\n", prelude, expr);
    struct lbc_program *p = compile_ok(src);
    const struct lbc_param *prm = find_param(p, "v__");
    CU_ASSERT_PTR_NOT_NULL(prm);
    bool ok = prm != NULL;
    if (ok)
        *out = *prm;
    else
        fprintf(stderr, "\n--- no value for: %s\n", expr);
    lbc_free(p);
    free(src);
    return ok;
}

/* A plain number (or quantity in SI) computed at compile time; NAN if not. */
static double numv(const char *prelude, const char *expr)
{
    struct lbc_param v;
    if (!eval_param(prelude, expr, &v))
        return NAN;
    CU_ASSERT_EQUAL(v.kind, PARAM_NUM);
    return v.kind == PARAM_NUM ? v.f : NAN;
}

/* A time computed at compile time, ns; INT64_MIN if not a time. */
static int64_t timev(const char *prelude, const char *expr)
{
    struct lbc_param v;
    if (!eval_param(prelude, expr, &v))
        return INT64_MIN;
    CU_ASSERT_EQUAL(v.kind, PARAM_TIME);
    CU_ASSERT(v.dim[0] == 1 && v.dim[1] == 0 && v.dim[2] == 0);
    return v.kind == PARAM_TIME ? v.t : INT64_MIN;
}

/* The dimension of a compile-time value. */
static struct dim dimv(const char *prelude, const char *expr)
{
    struct lbc_param v;
    if (!eval_param(prelude, expr, &v))
        return (struct dim){ 99, 99, 99 };
    return (struct dim){ v.dim[0], v.dim[1], v.dim[2] };
}

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

static int log_block_end(void *ctx, const struct vm_block *b)
{
    struct evlog *L = ctx;
    if (L->n == L->cap) {
        L->cap = L->cap ? 2 * L->cap : 64;
        L->v = realloc(L->v, L->cap * sizeof *L->v);
    }
    struct ev *e = &L->v[L->n++];
    memset(e, 0, sizeof *e);
    e->start = b->start_ns;
    e->dur = b->dur_ns;
    if (b->name)
        snprintf(e->name, sizeof e->name, "%s", b->name);
    e->is_delay = b->is_delay;
    e->has_rf = b->has_rf;
    if (b->has_rf) {
        e->rf_delay = b->rf.delay_ns;
        e->rf_dur = b->rf.dur_ns;
        e->rf_dt = b->rf.dt_ns;
        e->rf_centre = b->start_ns + b->rf.delay_ns + b->rf.centre_ns;
        e->rf_amp = b->rf.amp;
        e->rf_phase = b->rf.phase;
        e->rf_freq = b->rf.freq;
        e->rf_use = b->rf.use;
        e->rf_n = b->rf.n;
        for (uint32_t i = 0; i < b->rf.n; i++)
            e->rf_sum += b->rf.mag[i];
    }
    e->has_adc = b->has_adc;
    if (b->has_adc) {
        e->adc_delay = b->adc.delay_ns;
        e->adc_dwell = b->adc.dwell_ns;
        e->adc_samples = b->adc.samples;
        e->adc_centre = b->start_ns + b->adc.delay_ns +
                        (int64_t)b->adc.samples * b->adc.dwell_ns / 2;
        e->adc_phase = b->adc.phase;
        e->adc_freq = b->adc.freq;
        memcpy(e->adc_labels, b->adc.labels, sizeof e->adc_labels);
    }
    for (int a = 0; a < 3; a++) {
        e->has_grad[a] = b->has_grad[a];
        if (!b->has_grad[a])
            continue;
        const struct vm_grad *g = &b->grad[a];
        e->gkind[a] = g->kind;
        e->gamp[a] = g->amp;
        e->gdelay[a] = g->delay_ns;
        e->grise[a] = g->rise_ns;
        e->gflat[a] = g->flat_ns;
        e->gfall[a] = g->fall_ns;
        e->gdt[a] = g->dt_ns;
        e->gdur[a] = g->dur_ns;
        e->gn[a] = g->n;
        for (uint32_t i = 0; g->shape && i < g->n && i < 8; i++)
            e->gshape[a][i] = g->shape[i];
    }
    e->has_trig = b->has_trig;
    if (b->has_trig) {
        e->trig_ch = b->trig.channel;
        e->trig_delay = b->trig.delay_ns;
        e->trig_dur = b->trig.dur_ns;
    }
    memcpy(e->labels, b->labels, sizeof e->labels);
    return 0;
}

static int log_end(void *ctx, int64_t total)
{
    ((struct evlog *)ctx)->total = total;
    return 0;
}

static int log_error(void *ctx, const struct vm_error *e)
{
    struct evlog *L = ctx;
    if (!L->nerr++)
        L->first_err = (int)e->code;
    return 0;
}

/* Run p, recording every block (delays included); returns vm_run's result. */
static int run_log(const struct lbc_program *p, struct evlog *L)
{
    memset(L, 0, sizeof *L);
    struct vm_backend be;
    memset(&be, 0, sizeof be);
    be.ctx = L;
    be.block_end = log_block_end;
    be.end = log_end;
    struct vm_opts vo = { log_error, L, 0 };
    int64_t total = -1;
    int rc = vm_run(p, &be, &vo, &total);
    CU_ASSERT_EQUAL(total, L->total);
    return rc;
}

static void evlog_free(struct evlog *L)
{
    free(L->v);
    memset(L, 0, sizeof *L);
}

/* The k-th (0-based) non-delay block, or NULL. */
static const struct ev *blk(const struct evlog *L, size_t k)
{
    for (size_t i = 0; i < L->n; i++)
        if (!L->v[i].is_delay && k-- == 0)
            return &L->v[i];
    return NULL;
}

static size_t nblocks(const struct evlog *L)
{
    size_t n = 0;
    for (size_t i = 0; i < L->n; i++)
        n += !L->v[i].is_delay;
    return n;
}

/* Compile src (must succeed) and run it with no VM error. */
static struct lbc_program *compile_run(const char *src, struct evlog *L)
{
    struct lbc_program *p = compile_ok(src);
    if (!p) {
        memset(L, 0, sizeof *L);
        return NULL;
    }
    CU_ASSERT_EQUAL(run_log(p, L), 0);
    return p;
}

/* Absolute offset of needle in hay (the n-th occurrence, 0-based). */
static uint32_t offset_of(const char *hay, const char *needle, int nth)
{
    const char *p = hay;
    for (;;) {
        p = strstr(p, needle);
        if (!p || nth-- == 0)
            break;
        p++;
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    return (uint32_t)(p - hay);
}

/* =================================================================== */
/* lang.numbers                                                         */

static void test_num_time_literals(void)
{
    CU_ASSERT_EQUAL(timev("", "20 ms"), 20000000);
    CU_ASSERT_EQUAL(timev("", "20ms"), 20000000);
    CU_ASSERT_EQUAL(timev("", "1.5 us"), 1500);
    CU_ASSERT_EQUAL(timev("", "2 s"), 2000000000);
    CU_ASSERT_EQUAL(timev("", "100 ns"), 100);
    CU_ASSERT_EQUAL(timev("", "2.5e-3 s"), 2500000);
    CU_ASSERT_EQUAL(timev("", "0.000000001 s"), 1);
    /* quantities are SI */
    CU_ASSERT_DOUBLE_EQUAL(numv("", "40 mT/m"), 0.04, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "150 T/m/s"), 150, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "2 mT/m/ms"), 2, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "90 deg"), PI / 2, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "5 mm"), 5e-3, 1e-18);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "1.5 kHz"), 1500, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "12 uT"), 12e-6, 1e-20);
    struct dim d = dimv("", "40 mT/m");
    CU_ASSERT_TRUE(dim_eq(d, DIM_GRAD));
    d = dimv("", "3 kHz");
    CU_ASSERT_TRUE(dim_eq(d, DIM_FREQ));
    d = dimv("", "90 deg");
    CU_ASSERT_TRUE(dim_is_none(d));
}

static void test_num_unknown_unit(void)
{
    struct diag_ctx d;
    const char *src = "let x = 5 parsecs\nsequence { }\n";
    int i = compile_err_d(src, NULL, 0, 103, &d);
    if (i >= 0) {
        CU_ASSERT_EQUAL(d.diags[i]->span.start, offset_of(src, "parsecs", 0));
        CU_ASSERT_EQUAL(d.diags[i]->span.end, offset_of(src, "parsecs", 0) + 7);
        CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->msg, "parsecs"));
    }
    diag_fini(&d);
    /* a time finer than 1 ns */
    expect_err("let x = 0.5 ns\nsequence { }\n", 104);
}

static void test_num_add_mismatch(void)
{
    struct diag_ctx d;
    const char *src = "param a = 1\nlet x = 20 ms + 40 mT/m\nsequence { }\n";
    int i = compile_err_d(src, NULL, 0, 301, &d);
    if (i >= 0) {
        const struct diag *g = d.diags[i];
        uint32_t s = offset_of(src, "20 ms", 0), e = offset_of(src, "mT/m", 0) + 4;
        CU_ASSERT_EQUAL(g->span.start, s);
        CU_ASSERT_EQUAL(g->span.end, e);
        CU_ASSERT_STRING_EQUAL(diag_file(&d, g->span.file)->path, "test.psq");
        CU_ASSERT_PTR_NOT_NULL(strstr(g->msg, "cannot add"));
        CU_ASSERT_PTR_NOT_NULL(strstr(g->msg, "time"));
        CU_ASSERT_PTR_NOT_NULL(strstr(g->msg, "gradient amplitude"));
        /* notes point at each operand */
        CU_ASSERT_EQUAL(g->nnotes, 2);
        if (g->nnotes == 2) {
            CU_ASSERT_EQUAL(g->notes[0].span.start, s);
            CU_ASSERT_EQUAL(g->notes[0].span.end, s + 5);
            CU_ASSERT_EQUAL(g->notes[1].span.start, offset_of(src, "40 mT/m", 0));
            CU_ASSERT_EQUAL(g->notes[1].span.end, e);
        }
    }
    /* exactly one error: no cascade from the failed let */
    CU_ASSERT_EQUAL(d.nerrors, 1);
    diag_fini(&d);
    /* the span of a nested binary expression is the whole of it */
    src = "let y = (1 ms + 2 ms) - 3 Hz\nsequence { }\n";
    i = compile_err_d(src, NULL, 0, 301, &d);
    if (i >= 0) {
        CU_ASSERT_EQUAL(d.diags[i]->span.start, offset_of(src, "(1 ms", 0));
        CU_ASSERT_EQUAL(d.diags[i]->span.end, offset_of(src, "3 Hz", 0) + 4);
    }
    diag_fini(&d);
    expect_err("let x = 1 + 20 ms\nsequence { }\n", 301);
    expect_err("let x = 20 ms - 1 mm\nsequence { }\n", 301);
    expect_err("let x = 1 ms < 1 mT\nsequence { }\n", 301);
    expect_err("let x = 5 ms % 2 mm\nsequence { }\n", 301);
    expect_err("let x = 2 ^ (1 ms)\nsequence { }\n", 304);
}

static void test_num_exact_time(void)
{
    CU_ASSERT_EQUAL(timev("param te = 20 ms", "te / 2"), 10000000);
    CU_ASSERT_EQUAL(timev("param te = 8.82 ms", "te / 2"), 4410000);
    CU_ASSERT_EQUAL(timev("param te = 3 ns", "te / 2 + te / 2"), 4);   /* 1.5 -> 2, twice */
    CU_ASSERT_EQUAL(timev("", "1 ms + 1 ns"), 1000001);
    CU_ASSERT_EQUAL(timev("", "10 s - 1 ns"), 9999999999LL);
    CU_ASSERT_EQUAL(timev("", "10 ms % 3 ms"), 1000000);
    CU_ASSERT_EQUAL(timev("", "-10 ms % 3 ms"), 2000000);
    /* the sum of many small times stays exact (no floating accumulation) */
    CU_ASSERT_EQUAL(timev("", "sum([0.1 ms for i in 0 .. 1000])"), 100000000);
    CU_ASSERT_EQUAL(timev("", "sum([1 ns for i in 0 .. 1000])"), 1000);
    /* time * number and time / number round to the nearest ns */
    CU_ASSERT_EQUAL(timev("", "1 ms / 3"), 333333);
    CU_ASSERT_EQUAL(timev("", "2 ms / 3"), 666667);
    CU_ASSERT_EQUAL(timev("", "7 ns * 0.3"), 2);
    CU_ASSERT_EQUAL(timev("", "7 ns * 0.5"), 4);
    CU_ASSERT_EQUAL(timev("", "0.3 * 10 ns"), 3);
    CU_ASSERT_EQUAL(timev("", "3 * 20 ms"), 60000000);
    CU_ASSERT_EQUAL(timev("", "1 / 1 kHz"), 1000000);
    CU_ASSERT_EQUAL(timev("", "256 * 10 us"), 2560000);
    /* time / time is a plain number, time * frequency too */
    CU_ASSERT_DOUBLE_EQUAL(numv("", "3 ms / 2 ms"), 1.5, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "2 ms * 1 kHz"), 2, 1e-12);
    CU_ASSERT_TRUE(dim_eq(dimv("", "40 mT/m * 1 ms"), ((struct dim){ 1, -1, 1 })));
    CU_ASSERT_TRUE(dim_eq(dimv("", "40 mT/m / 200 us"), DIM_SLEW));
}

static void test_num_zero_polymorphic(void)
{
    CU_ASSERT_EQUAL(timev("", "20 ms + 0"), 20000000);
    CU_ASSERT_EQUAL(timev("", "0 + 20 ms"), 20000000);
    CU_ASSERT_EQUAL(timev("", "0 - 3 ms"), -3000000);
    CU_ASSERT_EQUAL(timev("", "max(0 s, 2 ms - 0)"), 2000000);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "0 + 40 mT/m"), 0.04, 1e-15);
    CU_ASSERT_TRUE(dim_eq(dimv("", "0 + 40 mT/m"), DIM_GRAD));
    CU_ASSERT_DOUBLE_EQUAL(numv("", "if 5 mT/m > 0 then 1 else 2"), 1, 0);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "if 0 == 0 ms then 1 else 2"), 1, 0);
    /* 0 in an event field of any unit */
    struct evlog L;
    struct lbc_program *p = compile_run(
        "sequence { block { grad x { amp: 0, rise: 10 us, delay: 0 } ; duration 1 ms } }\n", &L);
    const struct ev *e = blk(&L, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(e->gamp[0], 0.0);
    CU_ASSERT_EQUAL(e->gdelay[0], 0);
    CU_ASSERT_EQUAL(e->dur, 1 * MS);
    evlog_free(&L);
    lbc_free(p);
    /* but a non-zero plain number is not a time */
    expect_err("sequence { block { duration 5 } }\n", 311);
    expect_err("let x = 2 + 20 ms\nsequence { }\n", 301);
}

/* =================================================================== */
/* lang.params                                                          */

static const char *param_src =
    "param te = 20 ms in 5 ms .. 200 ms \"echo time\"\n"
    "param fov = 256 mm\n"
    "param matrix = 128 in 8 .. 1024\n"
    "param flip = 15 deg in 1 deg .. 90 deg\n"
    "let half = te / 2\n"
    "param derived = half\n"
    "sequence { block { duration te } }\n";

static void test_param_defaults(void)
{
    struct lbc_program *p = compile_ok(param_src);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->nparams, 5);
    const struct lbc_param *te = find_param(p, "te"), *fov = find_param(p, "fov"),
                           *m = find_param(p, "matrix"), *fl = find_param(p, "flip"),
                           *dv = find_param(p, "derived");
    CU_ASSERT_PTR_NOT_NULL_FATAL(te);
    CU_ASSERT_PTR_NOT_NULL_FATAL(fov);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_PTR_NOT_NULL_FATAL(fl);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dv);
    CU_ASSERT_EQUAL(te->kind, PARAM_TIME);
    CU_ASSERT_EQUAL(te->t, 20 * MS);
    CU_ASSERT(te->dim[0] == 1 && te->dim[1] == 0 && te->dim[2] == 0);
    CU_ASSERT_EQUAL(fov->kind, PARAM_NUM);
    CU_ASSERT_DOUBLE_EQUAL(fov->f, 0.256, 1e-15);
    CU_ASSERT(fov->dim[0] == 0 && fov->dim[1] == 1 && fov->dim[2] == 0);
    CU_ASSERT_EQUAL(m->f, 128);
    CU_ASSERT(m->dim[0] == 0 && m->dim[1] == 0 && m->dim[2] == 0);
    CU_ASSERT_DOUBLE_EQUAL(fl->f, 15 * PI / 180, 1e-15);
    CU_ASSERT_EQUAL(dv->t, 10 * MS);
    /* params are listed in declaration order */
    CU_ASSERT_STRING_EQUAL(lbc_str(p, p->params[0].name), "te");
    CU_ASSERT_STRING_EQUAL(lbc_str(p, p->params[2].name), "matrix");
    struct evlog L;
    CU_ASSERT_EQUAL(run_log(p, &L), 0);
    CU_ASSERT_EQUAL(L.n, 1);
    CU_ASSERT_EQUAL(L.total, 20 * MS);
    evlog_free(&L);
    lbc_free(p);
}

static void test_param_overrides(void)
{
    const char *defs[] = { "te=30ms", "matrix=64", "fov=0.2 m", "flip=90deg" };
    struct lbc_program *p = compile_ok_d(param_src, defs, 4);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(find_param(p, "te")->t, 30 * MS);
    CU_ASSERT_EQUAL(find_param(p, "matrix")->f, 64);
    CU_ASSERT_DOUBLE_EQUAL(find_param(p, "fov")->f, 0.2, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(find_param(p, "flip")->f, PI / 2, 1e-15);
    /* what depends on a param sees the override */
    CU_ASSERT_EQUAL(find_param(p, "derived")->t, 15 * MS);
    struct evlog L;
    CU_ASSERT_EQUAL(run_log(p, &L), 0);
    CU_ASSERT_EQUAL(L.total, 30 * MS);
    evlog_free(&L);
    lbc_free(p);
    /* an expression with units is allowed */
    const char *d2[] = { "te=2 * 10 ms + 500 us" };
    p = compile_ok_d(param_src, d2, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(find_param(p, "te")->t, 20500 * US);
    lbc_free(p);
}

static void test_param_errors(void)
{
    /* units are required */
    struct diag_ctx d;
    const char *d1[] = { "te=30" };
    int i = compile_err_d(param_src, d1, 1, 402, &d);
    if (i >= 0) {
        CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->msg, "te"));
        CU_ASSERT_PTR_NOT_NULL(d.diags[i]->help);
        if (d.diags[i]->help)
            CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->help, "-D te=20"));
    }
    diag_fini(&d);
    expect_err_def(param_src, "te=30 mT", 402);
    expect_err_def(param_src, "matrix=64 ms", 402);
    expect_err_def(param_src, "te=true", 402);
    /* unknown name */
    i = compile_err_d(param_src, (const char *[]){ "tee=30ms" }, 1, 401, &d);
    if (i >= 0) {
        CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->msg, "tee"));
        CU_ASSERT_PTR_NOT_NULL(d.diags[i]->help);
        if (d.diags[i]->help)
            CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->help, "matrix"));
    }
    diag_fini(&d);
    /* outside the range, from -D and as a default */
    i = compile_err_d(param_src, (const char *[]){ "te=300ms" }, 1, 403, &d);
    if (i >= 0)
        CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->msg, "te"));
    diag_fini(&d);
    expect_err_def(param_src, "matrix=4", 403);
    expect_err_def(param_src, "te=4999 us", 403);
    expect_err("param te = 1 ms in 5 ms .. 200 ms\nsequence { }\n", 403);
    /* the range limits themselves are inside */
    struct lbc_program *p = compile_ok_d(param_src, (const char *[]){ "te=5ms", "matrix=1024" },
                                         2);
    CU_ASSERT_PTR_NOT_NULL(p);
    lbc_free(p);
    /* malformed -D, given twice, bad default */
    expect_err_def(param_src, "te", 406);
    expect_err_def(param_src, "=5ms", 406);
    struct diag_ctx d2;
    compile_err_d(param_src, (const char *[]){ "te=30ms", "te=40ms" }, 2, 407, &d2);
    diag_fini(&d2);
    expect_err("param s = \"text\"\nsequence { }\n", 404);
    expect_err("param r = 5 ms in 1 mm .. 2 mm\nsequence { }\n", 405);
    expect_err("param r = 5 ms in 10 ms .. 2 ms\nsequence { }\n", 405);
}

/* The one error of an out-of-range param must not cascade into "unknown
   name" errors wherever the param is used. */
static void test_param_error_no_cascade(void)
{
    struct diag_ctx d;
    compile_err_d("param n = 2 in 8 .. 16\nlet k = n * 2\nsequence { }\n", NULL, 0, 403, &d);
    CU_ASSERT_EQUAL(find_code(&d, 201), -1);
    CU_ASSERT_EQUAL(d.nerrors, 1);
    diag_fini(&d);
    compile_err_d("param te = 10 ms\nlet k = te * 2\nsequence { }\n",
                  (const char *[]){ "te=10" }, 1, 402, &d);
    CU_ASSERT_EQUAL(find_code(&d, 201), -1);
    CU_ASSERT_EQUAL(d.nerrors, 1);
    diag_fini(&d);
}

/* =================================================================== */
/* lang.expr                                                            */

static void test_expr_arith(void)
{
    CU_ASSERT_EQUAL(numv("", "7 + 3 * 2"), 13);
    CU_ASSERT_EQUAL(numv("", "(7 + 3) * 2"), 20);
    CU_ASSERT_EQUAL(numv("", "7 - 10"), -3);
    CU_ASSERT_EQUAL(numv("", "7 / 2"), 3.5);
    CU_ASSERT_EQUAL(numv("", "7 % 3"), 1);
    CU_ASSERT_EQUAL(numv("", "-7 % 3"), 2);     /* the sign of the divisor */
    CU_ASSERT_EQUAL(numv("", "7.5 % 2"), 1.5);
    CU_ASSERT_EQUAL(numv("", "2 ^ 10"), 1024);
    CU_ASSERT_EQUAL(numv("", "2 ^ 3 ^ 2"), 512);  /* right associative */
    CU_ASSERT_EQUAL(numv("", "-2 ^ 2"), -4);      /* ^ binds tighter than unary - */
    CU_ASSERT_EQUAL(numv("", "2 * -3"), -6);
    CU_ASSERT_EQUAL(numv("", "10 - 4 - 3"), 3);   /* left associative */
    CU_ASSERT_EQUAL(numv("", "24 / 4 / 2"), 3);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "(3 mm) ^ 2"), 9e-6, 1e-20);
    CU_ASSERT_TRUE(dim_eq(dimv("", "(3 mm) ^ 2"), ((struct dim){ 0, 2, 0 })));
    CU_ASSERT_TRUE(dim_eq(dimv("", "(2 ms) ^ -1"), DIM_FREQ));
    CU_ASSERT_EQUAL(numv("let a = 4\nlet b = a * a", "b - a"), 12);
    expect_err("let x = 1 / 0\nsequence { }\n", 305);
    expect_err("let x = 5 % 0\nsequence { }\n", 305);
    expect_err("let x = 1 ms / 0\nsequence { }\n", 305);
    expect_err("let x = (2 mm) ^ 0.5\nsequence { }\n", 304);
    expect_err("let x = \"a\" * 2\nsequence { }\n", 302);
    /* let: unknown name, defined twice */
    struct diag_ctx d;
    int i = compile_err_d("let alpha = 1\nlet y = alpah + 1\nsequence { }\n", NULL, 0, 201,
                          &d);
    if (i >= 0 && d.diags[i]->help)
        CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->help, "alpha"));
    diag_fini(&d);
    expect_err("let a = 1\nlet a = 2\nsequence { }\n", 215);
}

static void test_expr_logic(void)
{
    CU_ASSERT_EQUAL(numv("", "if 1 < 2 then 1 else 0"), 1);
    CU_ASSERT_EQUAL(numv("", "if 2 < 2 then 1 else 0"), 0);
    CU_ASSERT_EQUAL(numv("", "if 2 <= 2 then 1 else 0"), 1);
    CU_ASSERT_EQUAL(numv("", "if 3 > 2 then 1 else 0"), 1);
    CU_ASSERT_EQUAL(numv("", "if 2 >= 3 then 1 else 0"), 0);
    CU_ASSERT_EQUAL(numv("", "if 2 == 2 then 1 else 0"), 1);
    CU_ASSERT_EQUAL(numv("", "if 2 != 2 then 1 else 0"), 0);
    CU_ASSERT_EQUAL(numv("", "if 20 ms == 20000 us then 1 else 0"), 1);
    CU_ASSERT_EQUAL(numv("", "if 1 ms < 999 us then 1 else 0"), 0);
    CU_ASSERT_EQUAL(numv("", "if \"ab\" == \"ab\" then 1 else 0"), 1);
    CU_ASSERT_EQUAL(numv("", "if \"ab\" != \"ab\" then 1 else 0"), 0);
    CU_ASSERT_EQUAL(numv("", "if true and false then 1 else 0"), 0);
    CU_ASSERT_EQUAL(numv("", "if true and true then 1 else 0"), 1);
    CU_ASSERT_EQUAL(numv("", "if false or true then 1 else 0"), 1);
    CU_ASSERT_EQUAL(numv("", "if false or false then 1 else 0"), 0);
    CU_ASSERT_EQUAL(numv("", "if not false then 1 else 0"), 1);
    CU_ASSERT_EQUAL(numv("", "if not 1 < 2 then 1 else 0"), 0);
    /* precedence: not > and > or; comparisons bind tighter than and */
    CU_ASSERT_EQUAL(numv("", "if true or false and false then 1 else 0"), 1);
    CU_ASSERT_EQUAL(numv("", "if 1 < 2 and 3 < 4 then 1 else 0"), 1);
    CU_ASSERT_EQUAL(numv("", "if true == false then 1 else 0"), 0);
    /* short circuit at compile time: the right side is not evaluated */
    CU_ASSERT_EQUAL(numv("", "if false and 1 / 0 > 0 then 1 else 0"), 0);
    CU_ASSERT_EQUAL(numv("", "if true or 1 / 0 > 0 then 1 else 0"), 1);
    /* the branch not taken is not evaluated either */
    CU_ASSERT_EQUAL(numv("", "if true then 5 else 1 / 0"), 5);
    CU_ASSERT_EQUAL(timev("", "if 1 > 2 then 1 ms else 2 ms"), 2 * MS);
    /* nested if-expressions */
    CU_ASSERT_EQUAL(numv("let x = 5", "if x < 3 then 1 else if x < 6 then 2 else 3"), 2);
    expect_err("let x = if 1 then 2 else 3\nsequence { }\n", 303);
    expect_err("let x = 1 and true\nsequence { }\n", 303);
    expect_err("let x = not 3\nsequence { }\n", 303);
}

static void test_expr_if_stmt(void)
{
    /* compile-time if / else if / else (in function bodies and in the
       sequence; the top level holds only declarations) */
    const char *pre =
        "fn pick(x) {\n"
        "  if x < 3 { return 1 } else if x < 6 { return 2 } else { return 3 }\n"
        "}\n"
        "fn only_then(x) {\n"
        "  let r = 10\n"
        "  if x > 0 { return r + x }\n"
        "  return r\n"
        "}\n"
        "fn chk(x) {\n"
        "  if x > 3 { assert true } else { assert false, \"else taken\" }\n"
        "  return x\n"
        "}\n";
    CU_ASSERT_EQUAL(numv(pre, "pick(1)"), 1);
    CU_ASSERT_EQUAL(numv(pre, "pick(3)"), 2);
    CU_ASSERT_EQUAL(numv(pre, "pick(5.9)"), 2);
    CU_ASSERT_EQUAL(numv(pre, "pick(6)"), 3);
    CU_ASSERT_EQUAL(numv(pre, "only_then(2)"), 12);
    CU_ASSERT_EQUAL(numv(pre, "only_then(-2)"), 10);
    CU_ASSERT_EQUAL(numv(pre, "chk(5)"), 5);
    struct diag_ctx d;
    char src[1024];
    snprintf(src, sizeof src, "%slet v = chk(1)\nsequence { }\n", pre);
    int i = compile_err_d(src, NULL, 0, 218, &d);
    if (i >= 0)
        CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->msg, "else taken"));
    CU_ASSERT_EQUAL(d.nerrors, 1);
    diag_fini(&d);
    expect_err("fn f(x) { if x { return 1 } return 2 }\nlet v = f(3)\nsequence { }\n", 303);
    /* the statement is only allowed where statements are */
    expect_err("if true { }\nsequence { }\n", 100);
    struct lbc_program *p;
    /* in the sequence, a condition on a compile-time value picks a branch
       without emitting a jump */
    struct evlog L;
    p = compile_run("param n = 2\nsequence {\n"
                    "  if n == 2 { block two { duration 2 ms } } else { block other { duration 3 ms } }\n"
                    "}\n", &L);
    CU_ASSERT_EQUAL(L.n, 1);
    if (L.n == 1) {
        CU_ASSERT_STRING_EQUAL(L.v[0].name, "two");
        CU_ASSERT_EQUAL(L.v[0].dur, 2 * MS);
    }
    for (uint32_t k = 0; p && k < p->ncode; k++)
        CU_ASSERT(p->code[k].op != OP_JMPF && p->code[k].op != OP_JMP);
    evlog_free(&L);
    lbc_free(p);
    /* a run-time condition outside the sequence */
    expect_err("fn f(x) { if x > 0 { return 1 } return 2 }\nsequence { for i in 0 .. 2 { "
               "block { duration f(i) * 1 ms } } }\n", 216);
}

static void test_expr_runtime_conditions(void)
{
    struct evlog L;
    struct lbc_program *p = compile_run(
        "sequence {\n"
        "  for i in 0 .. 6 {\n"
        "    if i % 2 == 0 { block even { duration 1 ms } }\n"
        "    else if i == 3 { block three { duration 3 ms } }\n"
        "    else { block odd { duration 2 ms } }\n"
        "    if i > 0 and not (i >= 4) or i == 5 { block mid { duration 10 us } }\n"
        "    block g { grad x { amp: (if i > 2 then 4 else 1) * 1 mT/m, rise: 10 us } ; "
        "duration (if i < 2 then 100 us else 200 us) }\n"
        "  }\n"
        "}\n", &L);
    static const char *const want[] = {
        "even", "g",                     /* i = 0 */
        "odd", "mid", "g",               /* 1 */
        "even", "mid", "g",              /* 2 */
        "three", "mid", "g",             /* 3 */
        "even", "g",                     /* 4 */
        "odd", "mid", "g",               /* 5 */
    };
    size_t nw = sizeof want / sizeof want[0];
    CU_ASSERT_EQUAL(nblocks(&L), nw);
    int gi = 0;
    for (size_t k = 0; k < nw && k < nblocks(&L); k++) {
        const struct ev *e = blk(&L, k);
        CU_ASSERT_STRING_EQUAL(e->name, want[k]);
        if (!strcmp(e->name, "even"))
            CU_ASSERT_EQUAL(e->dur, 1 * MS);
        if (!strcmp(e->name, "odd"))
            CU_ASSERT_EQUAL(e->dur, 2 * MS);
        if (!strcmp(e->name, "three"))
            CU_ASSERT_EQUAL(e->dur, 3 * MS);
        if (!strcmp(e->name, "g")) {
            CU_ASSERT_DOUBLE_EQUAL(e->gamp[0], gi > 2 ? 4e-3 : 1e-3, 1e-18);
            CU_ASSERT_EQUAL(e->dur, gi < 2 ? 100 * US : 200 * US);
            gi++;
        }
    }
    CU_ASSERT_EQUAL(gi, 6);
    evlog_free(&L);
    lbc_free(p);
    /* run-time if-expressions need numbers of one unit in both branches */
    expect_err("sequence { for i in 0 .. 2 { block { duration if i > 0 then 1 ms else 2 mm } } }\n",
               301);
    expect_err("sequence { for i in 0 .. 2 { let r = if i > 0 then \"a\" else \"b\" } }\n", 306);
}

static const char *fn_prelude =
    "fn f(a, b = 2) = a * 10 + b\n"
    "fn g(x) {\n"
    "  let y = x * 2\n"
    "  if y > 4 { return y }\n"
    "  return -1\n"
    "}\n"
    "fn fact(n) = if n <= 1 then 1 else n * fact(n - 1)\n"
    "fn s(n) = if n == 0 then 0 else n + s(n - 1)\n"
    "fn curry(k) = k + f(b = k, a = 1)\n"
    "fn dflt(t = 2 * base) = t\n"
    "let base = 3 ms\n";

static void test_expr_functions(void)
{
    CU_ASSERT_EQUAL(numv(fn_prelude, "f(1)"), 12);
    CU_ASSERT_EQUAL(numv(fn_prelude, "f(1, 3)"), 13);
    CU_ASSERT_EQUAL(numv(fn_prelude, "f(b = 5, a = 2)"), 25);
    CU_ASSERT_EQUAL(numv(fn_prelude, "f(4, b = 0)"), 40);
    CU_ASSERT_EQUAL(numv(fn_prelude, "g(3)"), 6);
    CU_ASSERT_EQUAL(numv(fn_prelude, "g(1)"), -1);
    CU_ASSERT_EQUAL(numv(fn_prelude, "fact(10)"), 3628800);
    CU_ASSERT_EQUAL(numv(fn_prelude, "s(90)"), 4095);
    CU_ASSERT_EQUAL(numv(fn_prelude, "curry(7)"), 24);
    /* functions take any value: times, records */
    CU_ASSERT_EQUAL(timev(fn_prelude, "f(1 ms, b = 2 ms) "), 12 * MS);
    CU_ASSERT_EQUAL(timev("fn end(r) = r.delay + r.dur", "end({ delay: 1 ms, dur: 2 ms })"),
                    3 * MS);

    struct diag_ctx d;
    char src[2048];
    snprintf(src, sizeof src, "%slet v = f(1, 2, 3)\nsequence { }\n", fn_prelude);
    int i = compile_err_d(src, NULL, 0, 209, &d);
    if (i >= 0)
        CU_ASSERT_EQUAL(d.diags[i]->span.start, offset_of(src, "3)", 0));
    diag_fini(&d);
    snprintf(src, sizeof src, "%slet v = f(1, c = 3)\nsequence { }\n", fn_prelude);
    i = compile_err_d(src, NULL, 0, 210, &d);
    if (i >= 0) {
        CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->msg, "'c'"));
        CU_ASSERT_EQUAL(d.diags[i]->span.start, offset_of(src, "c = 3", 0));
        CU_ASSERT_EQUAL(d.diags[i]->span.end, offset_of(src, "c = 3", 0) + 1);
    }
    diag_fini(&d);
    snprintf(src, sizeof src, "%slet v = f(b = 3)\nsequence { }\n", fn_prelude);
    i = compile_err_d(src, NULL, 0, 213, &d);
    if (i >= 0)
        CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->msg, "'a'"));
    diag_fini(&d);
    snprintf(src, sizeof src, "%slet v = f(1, a = 3)\nsequence { }\n", fn_prelude);
    expect_err(src, 211);
    /* no end to the recursion */
    snprintf(src, sizeof src, "%slet v = s(150)\nsequence { }\n", fn_prelude);
    i = compile_err_d(src, NULL, 0, 212, &d);
    if (i >= 0 && d.diags[i]->help)
        CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->help, "'s'"));
    diag_fini(&d);
    expect_err("fn forever(n) = forever(n + 1)\nlet v = forever(0)\nsequence { }\n", 212);
    expect_err("fn a(n) = b(n)\nfn b(n) = a(n)\nlet v = a(0)\nsequence { }\n", 212);
    /* calling what is not a function */
    expect_err("let x = 3\nlet y = x(1)\nsequence { }\n", 206);
    expect_err("let y = undefined_fn(1)\nsequence { }\n", 201);
}

static void test_expr_function_defaults(void)
{
    /* a default is evaluated in the function's scope at the call */
    CU_ASSERT_EQUAL(timev(fn_prelude, "dflt()"), 6 * MS);
    CU_ASSERT_EQUAL(timev(fn_prelude, "dflt(t = 1 ms)"), 1 * MS);
    /* a default may refer to an earlier parameter */
    CU_ASSERT_EQUAL(numv("fn h(a, b = a * 2) = a + b", "h(3)"), 9);
}

static void test_expr_builtins(void)
{
    CU_ASSERT_DOUBLE_EQUAL(numv("", "sin(pi / 2)"), 1, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "sin(30 deg)"), 0.5, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "cos(0)"), 1, 0);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "cos(pi)"), -1, 1e-15);
    CU_ASSERT_EQUAL(numv("", "sqrt(16)"), 4);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "sqrt((3 mm) ^ 2 + (4 mm) ^ 2)"), 5e-3, 1e-17);
    CU_ASSERT_TRUE(dim_eq(dimv("", "sqrt((3 mm) ^ 2)"), DIM_LENGTH));
    CU_ASSERT_EQUAL(numv("", "exp(0)"), 1);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "exp(1)"), exp(1.0), 1e-15);
    CU_ASSERT_EQUAL(numv("", "abs(-3.5)"), 3.5);
    CU_ASSERT_EQUAL(timev("", "abs(-3 ms)"), 3 * MS);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "abs(-4 mT/m)"), 4e-3, 1e-18);
    CU_ASSERT_EQUAL(numv("", "min(3, 1, 2)"), 1);
    CU_ASSERT_EQUAL(numv("", "max(3, 1, 2)"), 3);
    CU_ASSERT_EQUAL(numv("", "min([4, -2, 9])"), -2);
    CU_ASSERT_EQUAL(numv("", "max([4, -2, 9])"), 9);
    CU_ASSERT_EQUAL(timev("", "max(1 ms, 500 us)"), 1 * MS);
    CU_ASSERT_EQUAL(timev("", "min(1 ms, 500 us)"), 500 * US);
    CU_ASSERT_EQUAL(numv("", "floor(2.7)"), 2);
    CU_ASSERT_EQUAL(numv("", "floor(-2.5)"), -3);
    CU_ASSERT_EQUAL(numv("", "ceil(2.1)"), 3);
    CU_ASSERT_EQUAL(numv("", "ceil(-2.1)"), -2);
    CU_ASSERT_EQUAL(numv("", "round(2.5)"), 3);
    CU_ASSERT_EQUAL(numv("", "round(2.4)"), 2);
    CU_ASSERT_EQUAL(numv("", "round(-2.5)"), -3);
    CU_ASSERT_EQUAL(numv("", "sinc(0)"), 1);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "sinc(0.5)"), 2 / PI, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "sinc(1)"), 0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "pi"), PI, 0);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "2 * pi"), 2 * PI, 0);
    CU_ASSERT_EQUAL(timev("", "ceil_to(23 us, 10 us)"), 30 * US);
    CU_ASSERT_EQUAL(timev("", "ceil_to(20 us, 10 us)"), 20 * US);
    CU_ASSERT_EQUAL(timev("", "floor_to(29 us, 10 us)"), 20 * US);
    CU_ASSERT_EQUAL(timev("", "round_to(25 us, 10 us)"), 30 * US);
    CU_ASSERT_EQUAL(timev("", "round_to(24 us, 10 us)"), 20 * US);
    CU_ASSERT_EQUAL(timev("", "ceil_to(1 ns, 10 us)"), 10 * US);
    CU_ASSERT_EQUAL(timev("", "floor_to(-1 ns, 10 us)"), -10 * US);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "ceil_to(0.3 mm, 0.1 mm)"), 0.3e-3, 1e-18);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "floor_to(7.5, 2)"), 6, 0);
    CU_ASSERT_EQUAL(numv("", "len([1, 2, 3])"), 3);
    CU_ASSERT_EQUAL(numv("", "len([])"), 0);
    CU_ASSERT_EQUAL(numv("", "sum([1, 2, 3.5])"), 6.5);
    CU_ASSERT_EQUAL(timev("", "sum([1 ms, 2 ms, 3 us])"), 3003 * US);
    CU_ASSERT_EQUAL(numv("", "sum([])"), 0);
    /* wrong units, wrong counts */
    expect_err("let x = sin(1 ms)\nsequence { }\n", 312);
    expect_err("let x = floor(1.5 ms)\nsequence { }\n", 312);
    expect_err("let x = sqrt(2 mm)\nsequence { }\n", 312);
    expect_err("let x = sin(1, 2)\nsequence { }\n", 209);
    expect_err("let x = atan2(1)\nsequence { }\n", 213);
    expect_err("let x = sin(x = 1)\nsequence { }\n", 210);
    expect_err("let x = max(1 ms, 2 mm)\nsequence { }\n", 301);
    expect_err("let x = ceil_to(1 ms, 0 s)\nsequence { }\n", 314);
    expect_err("let x = ceil_to(1 ms, 1 mm)\nsequence { }\n", 301);
    expect_err("let x = sum([1 ms, 1 mm])\nsequence { }\n", 301);
    expect_err("let x = len(3)\nsequence { }\n", 312);
    expect_err("let x = min()\nsequence { }\n", 313);
    /* the same builtins at run time, through the VM */
    struct evlog L;
    struct lbc_program *p = compile_run(
        "sequence { for i in 0 .. 4 { block {\n"
        "  grad x { amp: (sin(i * pi / 6) + sqrt(i) + abs(1 - i)) * 1 mT/m, rise: 10 us }\n"
        "  grad y { amp: (floor(i / 3) + ceil(i / 3) + round(i / 4) + min(i, 2)) * 1 mT/m, rise: 10 us }\n"
        "  grad z { amp: (max(i, 2) + cos(i) + exp(-i)) * 1 mT/m, rise: 10 us }\n"
        "  duration ceil_to(i * 7 us + 1 us, 10 us) + floor_to(i * 7 us, 10 us) + 1 ms\n"
        "} } }\n", &L);
    CU_ASSERT_EQUAL(nblocks(&L), 4);
    for (int i = 0; i < 4 && (size_t)i < nblocks(&L); i++) {
        const struct ev *e = blk(&L, (size_t)i);
        double x = sin(i * PI / 6) + sqrt(i) + fabs(1.0 - i);
        double y = floor(i / 3.0) + ceil(i / 3.0) + round(i / 4.0) + (i < 2 ? i : 2);
        double z = (i > 2 ? i : 2) + cos(i) + exp(-i);
        CU_ASSERT_DOUBLE_EQUAL(e->gamp[0], x * 1e-3, 1e-15);
        CU_ASSERT_DOUBLE_EQUAL(e->gamp[1], y * 1e-3, 1e-15);
        CU_ASSERT_DOUBLE_EQUAL(e->gamp[2], z * 1e-3, 1e-15);
        int64_t c = (i * 7 + 1 + 9) / 10 * 10, f = (i * 7) / 10 * 10;
        CU_ASSERT_EQUAL(e->dur, (c + f) * US + 1 * MS);
    }
    evlog_free(&L);
    lbc_free(p);
}

static void test_expr_arrays(void)
{
    const char *pre = "let a = [10, 20, 30]\nlet t = [1 ms, 2 ms, 3 ms]\n"
                      "let sq = [i * i for i in 0 .. 5]\nlet nested = [[1, 2], [3, 4]]\n";
    CU_ASSERT_EQUAL(numv(pre, "a[0]"), 10);
    CU_ASSERT_EQUAL(numv(pre, "a[2]"), 30);
    CU_ASSERT_EQUAL(numv(pre, "a[1 + 1] - a[0]"), 20);
    CU_ASSERT_EQUAL(timev(pre, "t[1]"), 2 * MS);
    CU_ASSERT_EQUAL(numv(pre, "len(sq)"), 5);
    CU_ASSERT_EQUAL(numv(pre, "sq[4]"), 16);
    CU_ASSERT_EQUAL(numv(pre, "sum(sq)"), 30);
    CU_ASSERT_EQUAL(numv(pre, "nested[1][0]"), 3);
    CU_ASSERT_EQUAL(numv(pre, "len([x * 2 for x in 3 .. 3])"), 0);
    CU_ASSERT_EQUAL(numv(pre, "sum([x for x in -2 .. 3])"), 0);
    CU_ASSERT_EQUAL(timev(pre, "sum([t[k] * 2 for k in 0 .. 3])"), 12 * MS);
    CU_ASSERT_EQUAL(numv(pre, "[1, 2, 3,][2]"), 3);   /* trailing comma */
    struct diag_ctx d;
    const char *src = "let a = [10, 20, 30]\nlet x = a[3]\nsequence { }\n";
    int i = compile_err_d(src, NULL, 0, 205, &d);
    if (i >= 0) {
        CU_ASSERT_EQUAL(d.diags[i]->span.start, offset_of(src, "3]", 0));
        CU_ASSERT_PTR_NOT_NULL(d.diags[i]->help);
    }
    diag_fini(&d);
    expect_err("let a = [10, 20, 30]\nlet x = a[-1]\nsequence { }\n", 205);
    expect_err("let a = [10, 20, 30]\nlet x = a[0.5]\nsequence { }\n", 205);
    expect_err("let a = [10, 20, 30]\nlet x = a[1 ms]\nsequence { }\n", 206);
    expect_err("let a = 5\nlet x = a[0]\nsequence { }\n", 206);
    expect_err("param n = 3\nlet x = [i for i in 0 .. n + 0.5]\nsequence { }\n", 308);
    /* indexing by a loop variable: times and numbers */
    struct evlog L;
    struct lbc_program *p = compile_run(
        "let t = [1 ms, 2 ms, 3 ms]\nlet g = [i * 2 for i in 0 .. 3]\n"
        "sequence { for i in 0 .. 3 { block { grad y { amp: g[i] * 1 mT/m, rise: 10 us }\n"
        "  duration t[i] } } }\n", &L);
    CU_ASSERT_EQUAL(nblocks(&L), 3);
    for (size_t k = 0; k < 3 && k < nblocks(&L); k++) {
        CU_ASSERT_EQUAL(blk(&L, k)->dur, (int64_t)(k + 1) * MS);
        CU_ASSERT_DOUBLE_EQUAL(blk(&L, k)->gamp[1], 2e-3 * (double)k, 1e-18);
    }
    CU_ASSERT_EQUAL(L.total, 6 * MS);
    evlog_free(&L);
    lbc_free(p);
    /* out of range at run time: found by the dry run */
    expect_err("let t = [1 ms, 2 ms]\nsequence { for i in 0 .. 3 { block { duration t[i] } } }\n",
               645);
}

static void test_expr_records(void)
{
    const char *pre = "let r = { a: 1, b: 2 ms, rf: \"x\" }\n"
                      "let u = r with { a: 5, c: 3 }\n"
                      "let nest = { inner: { v: 7 } }\n";
    CU_ASSERT_EQUAL(numv(pre, "r.a"), 1);
    CU_ASSERT_EQUAL(timev(pre, "r.b"), 2 * MS);
    CU_ASSERT_EQUAL(numv(pre, "u.a"), 5);
    CU_ASSERT_EQUAL(timev(pre, "u.b"), 2 * MS);
    CU_ASSERT_EQUAL(numv(pre, "u.c"), 3);
    CU_ASSERT_EQUAL(numv(pre, "r.a"), 1);                  /* r itself is unchanged */
    CU_ASSERT_EQUAL(numv(pre, "if r.rf == \"x\" then 1 else 0"), 1);  /* keyword field */
    CU_ASSERT_EQUAL(numv(pre, "nest.inner.v"), 7);
    CU_ASSERT_EQUAL(numv(pre, "(nest with { inner: nest.inner with { v: 8 } }).inner.v"), 8);
    CU_ASSERT_EQUAL(numv(pre, "(r with { a: r.a + 1 } with { a: 10 }).a"), 10);
    struct diag_ctx d;
    int i = compile_err_d("let r = { a: 1, b: 2 }\nlet x = r.c\nsequence { }\n", NULL, 0, 203,
                          &d);
    if (i >= 0 && d.diags[i]->help)
        CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->help, "a, b"));
    diag_fini(&d);
    expect_err("let r = { a: 1, a: 2 }\nsequence { }\n", 207);
    expect_err("let r = 5 with { a: 1 }\nsequence { }\n", 208);
    expect_err("let x = 5\nlet y = x.a\nsequence { }\n", 203);
}

/* =================================================================== */
/* lang.import                                                          */

static void test_import_stdlib(void)
{
    const char *pre = "import grad\nimport grad as g2\nimport rf, readout\n"
                      "let t = grad.trap(amp = 10 mT/m, rise = 100 us, flat = 1 ms)\n";
    CU_ASSERT_EQUAL(timev(pre, "grad.dur(t)"), 1200 * US);
    CU_ASSERT_EQUAL(timev(pre, "g2.dur(t)"), 1200 * US);
    CU_ASSERT_EQUAL(timev(pre, "t.fall"), 100 * US);
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "t.area"), 10e-3 * 1.1e-3, 1e-18);
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "grad.scale(t, -0.5).amp"), -5e-3, 1e-18);
    CU_ASSERT_EQUAL(timev(pre, "rf.hard(flip = 90 deg).dur"), 500 * US);
    CU_ASSERT_EQUAL(numv(pre, "readout.pe_scale(0, 128)"), 1);
    /* trap_area: the exact area on the gradient raster */
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "grad.trap_area(area = 20 mT/m * 1 ms).area"), 20e-6,
                           1e-15);
    CU_ASSERT_EQUAL(timev(pre, "grad.trap_area(area = 20 mT/m * 1 ms).rise % 10 us"), 0);
    /* private names are not exported; unknown names are reported */
    expect_err("import rf\nlet x = rf._sinc(0)\nsequence { }\n", 202);
    expect_err("import grad\nlet x = grad.nosuch\nsequence { }\n", 202);
    expect_err("import grad as g\nimport rf as g\nsequence { }\n", 215);
}

struct tmpdir {
    char path[64];
    char files[8][256];
    int n;
};

static void td_init(struct tmpdir *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "/tmp/larmor_test_XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(t->path));
}

static const char *td_write(struct tmpdir *t, const char *name, const char *text)
{
    char *p = t->files[t->n++];
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s/%s", t->path, name);
    memcpy(p, tmp, sizeof tmp);
    FILE *f = fopen(p, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static void td_fini(struct tmpdir *t)
{
    for (int i = 0; i < t->n; i++)
        unlink(t->files[i]);
    rmdir(t->path);
}

/* Compile `src` as if it were the file NAME in t; returns the program. */
static struct lbc_program *td_compile(struct tmpdir *t, const char *name, const char *src,
                                      struct diag_ctx *d)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", t->path, name);
    return compile_at(path, src, NULL, 0, d);
}

static void test_import_local(void)
{
    struct tmpdir t;
    td_init(&t);
    td_write(&t, "mymod.psq", "# a local module\nimport grad\nfn twice(x) = 2 * x\nlet k = 21\n"
                              "fn trap_dur(a) = grad.dur(grad.trap(amp = a, rise = 50 us))\n");
    /* a local module shadows the stdlib one of the same name */
    td_write(&t, "rf.psq", "let marker = 7\n");
    struct diag_ctx d;
    diag_init(&d);
    struct lbc_program *p = td_compile(&t, "main.psq",
        "import mymod, rf\nparam v = mymod.twice(mymod.k)\nparam m = rf.marker\n"
        "param td = mymod.trap_dur(1 mT/m)\nsequence { }\n", &d);
    CU_ASSERT_PTR_NOT_NULL(p);
    if (!p)
        diag_print_all(&d, stderr, false);
    CU_ASSERT_EQUAL(d.nerrors, 0);
    if (p) {
        CU_ASSERT_EQUAL(find_param(p, "v")->f, 42);
        CU_ASSERT_EQUAL(find_param(p, "m")->f, 7);
        CU_ASSERT_EQUAL(find_param(p, "td")->t, 100 * US);
    }
    lbc_free(p);
    diag_fini(&d);
    /* errors inside an imported module point into that module */
    td_write(&t, "bad.psq", "let oops = 1 ms + 1 mm\n");
    diag_init(&d);
    p = td_compile(&t, "main2.psq", "import bad\nsequence { }\n", &d);
    CU_ASSERT_PTR_NULL(p);
    int i = find_code(&d, 301);
    CU_ASSERT(i >= 0);
    if (i >= 0) {
        const char *fp = diag_file(&d, d.diags[i]->span.file)->path;
        CU_ASSERT_PTR_NOT_NULL(strstr(fp, "bad.psq"));
        CU_ASSERT_EQUAL(d.diags[i]->span.start, 11);
    }
    lbc_free(p);
    diag_fini(&d);
    /* a module cannot declare params or a sequence */
    td_write(&t, "withparam.psq", "param x = 1\n");
    diag_init(&d);
    p = td_compile(&t, "main3.psq", "import withparam\nsequence { }\n", &d);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT(find_code(&d, 504) >= 0);
    lbc_free(p);
    diag_fini(&d);
    td_fini(&t);
}

static void test_import_errors(void)
{
    struct diag_ctx d;
    const char *src = "import nosuchmodule\nsequence { }\n";
    int i = compile_err_d(src, NULL, 0, 501, &d);
    if (i >= 0) {
        CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->msg, "nosuchmodule"));
        CU_ASSERT_EQUAL(d.diags[i]->span.start, 7);
        CU_ASSERT_EQUAL(d.diags[i]->span.end, 7 + strlen("nosuchmodule"));
    }
    diag_fini(&d);

    struct tmpdir t;
    td_init(&t);
    td_write(&t, "cyc_a.psq", "import cyc_b\nlet a = 1\n");
    td_write(&t, "cyc_b.psq", "import cyc_a\nlet b = 2\n");
    td_write(&t, "self.psq", "import self\n");
    diag_init(&d);
    struct lbc_program *p = td_compile(&t, "main.psq", "import cyc_a\nsequence { }\n", &d);
    CU_ASSERT_PTR_NULL(p);
    i = find_code(&d, 502);
    CU_ASSERT(i >= 0);
    if (i >= 0) {
        CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->msg, "import cycle"));
        CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->msg, "cyc_a -> cyc_b -> cyc_a"));
        CU_ASSERT_PTR_NOT_NULL(strstr(diag_file(&d, d.diags[i]->span.file)->path, "cyc_b.psq"));
    }
    lbc_free(p);
    diag_fini(&d);
    diag_init(&d);
    p = td_compile(&t, "main2.psq", "import self\nsequence { }\n", &d);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT(find_code(&d, 502) >= 0);
    lbc_free(p);
    diag_fini(&d);
    td_fini(&t);
}

/* =================================================================== */
/* lang.events                                                          */

static void test_event_hard_pulse_flip(void)
{
    struct evlog L;
    struct lbc_program *p = compile_run(
        "import rf\n"
        "sequence {\n"
        "  block a { rf rf.hard(flip = 90 deg) }\n"
        "  block b { rf rf.hard(flip = 30 deg, dur = 1 ms, phase = 90 deg) }\n"
        "  block c { rf { shape: [0.5, 1, 0.5], dt: 2 us, flip: 10 deg, delay: 100 us } }\n"
        "  block d { rf { shape: [1, 1], amp: 5 uT, freq: 1 kHz, use: \"refocusing\" } }\n"
        "}\n", &L);
    CU_ASSERT_EQUAL_FATAL(nblocks(&L), 4);
    const struct ev *a = blk(&L, 0), *b = blk(&L, 1), *c = blk(&L, 2), *d = blk(&L, 3);
    /* amp = flip / (2 pi gamma_bar integral(shape dt)) */
    double want_a = (PI / 2) / (2 * PI * GAMMA_BAR * 500e-6);
    CU_ASSERT_DOUBLE_EQUAL(a->rf_amp, want_a, want_a * 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(a->rf_amp, 1.17432976e-5, 1e-13);
    CU_ASSERT_EQUAL(a->rf_n, 500);
    CU_ASSERT_EQUAL(a->rf_dt, 1 * US);
    CU_ASSERT_EQUAL(a->rf_dur, 500 * US);
    CU_ASSERT_EQUAL(a->rf_delay, 100 * US);                    /* system rf dead time */
    CU_ASSERT_EQUAL(a->rf_centre, a->start + 100 * US + 250 * US);
    CU_ASSERT_EQUAL(a->rf_use, VM_RFUSE_EXCITATION);
    CU_ASSERT_EQUAL(a->rf_sum, 500);
    CU_ASSERT_EQUAL(a->dur, 630 * US);                         /* 100 + 500 + 30 ringdown */
    double want_b = (PI / 6) / (2 * PI * GAMMA_BAR * 1e-3);
    CU_ASSERT_DOUBLE_EQUAL(b->rf_amp, want_b, want_b * 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(b->rf_phase, PI / 2, 1e-15);
    CU_ASSERT_EQUAL(b->rf_centre, b->start + 100 * US + 500 * US);
    CU_ASSERT_EQUAL(b->start, a->start + a->dur);
    /* a shaped pulse: the integral is sum(shape) * dt */
    double want_c = (10 * PI / 180) / (2 * PI * GAMMA_BAR * 2.0 * 2e-6);
    CU_ASSERT_DOUBLE_EQUAL(c->rf_amp, want_c, want_c * 1e-12);
    CU_ASSERT_EQUAL(c->rf_dur, 6 * US);
    CU_ASSERT_EQUAL(c->rf_centre, c->start + 100 * US + 3 * US);
    CU_ASSERT_EQUAL(c->dur, 140 * US);            /* 106 us + 30 us ringdown up to the raster */
    CU_ASSERT_DOUBLE_EQUAL(d->rf_amp, 5e-6, 1e-20);
    CU_ASSERT_DOUBLE_EQUAL(d->rf_freq, 1000, 1e-12);
    CU_ASSERT_EQUAL(d->rf_use, VM_RFUSE_REFOCUSING);
    CU_ASSERT_EQUAL(d->rf_delay, 0);
    CU_ASSERT_EQUAL(d->rf_centre, d->start + 1 * US);
    evlog_free(&L);
    lbc_free(p);
    /* flip as a run-time value: amp scales with it */
    p = compile_run("import rf\nsequence { for i in 1 .. 4 { block { rf rf.hard(flip = i * 10 deg) } } }\n",
                    &L);
    for (size_t k = 0; k < 3 && k < nblocks(&L); k++) {
        double w = ((double)(k + 1) * 10 * PI / 180) / (2 * PI * GAMMA_BAR * 500e-6);
        CU_ASSERT_DOUBLE_EQUAL(blk(&L, k)->rf_amp, w, w * 1e-12);
    }
    evlog_free(&L);
    lbc_free(p);
}

static void test_event_rf_errors(void)
{
    struct diag_ctx d;
    const char *src = "import rf\nlet p = rf.hard(flip = 90 deg)\n"
                      "sequence { block { rf p\n rf p } }\n";
    int i = compile_err_d(src, NULL, 0, 609, &d);
    if (i >= 0) {
        CU_ASSERT_EQUAL(d.diags[i]->span.start, offset_of(src, "rf p", 1));
        CU_ASSERT_EQUAL(d.diags[i]->nnotes, 1);
        if (d.diags[i]->nnotes == 1)
            CU_ASSERT_EQUAL(d.diags[i]->notes[0].span.start, offset_of(src, "rf p", 0));
    }
    diag_fini(&d);
    expect_err("sequence { block { grad x { amp: 1 mT/m, rise: 10 us }\n"
               "grad x { amp: 1 mT/m, rise: 10 us } } }\n", 609);
    expect_err("sequence { block { adc { samples: 1, dwell: 1 us }\nadc { samples: 1, dwell: 1 us } } }\n",
               609);
    expect_err("sequence { block { duration 1 ms\nduration 2 ms } }\n", 609);
    expect_err("sequence { block { rf { amp: 1 uT } } }\n", 603);
    expect_err("sequence { block { rf { shape: [1] } } }\n", 603);
    expect_err("sequence { block { rf { shape: [0, 0], flip: 90 deg } } }\n", 604);
    expect_err("sequence { block { rf { shape: [1], amp: 1 uT, use: \"bogus\" } } }\n", 605);
    expect_err("sequence { block { rf { shape: [1], amp: 1 mT/m } } }\n", 311);
    expect_err("sequence { block { rf 5 } }\n", 601);
    expect_err("sequence { block { rf { shape: [], amp: 1 uT } } }\n", 602);
}

static void test_event_gradients(void)
{
    struct evlog L;
    struct lbc_program *p = compile_run(
        "sequence {\n"
        "  block t { grad y { amp: 10 mT/m, rise: 100 us, flat: 500 us, fall: 200 us, delay: 50 us }\n"
        "            grad x { amp: -5 mT/m, rise: 30 us } }\n"
        "  block w { grad z { waveform: [0 mT/m, 5 mT/m, 10 mT/m, 5 mT/m] } }\n"
        "  block w2 { grad x { waveform: [1 mT/m, -2 mT/m], dt: 20 us, delay: 10 us } }\n"
        "}\n", &L);
    CU_ASSERT_EQUAL_FATAL(nblocks(&L), 3);
    const struct ev *t = blk(&L, 0), *w = blk(&L, 1), *w2 = blk(&L, 2);
    CU_ASSERT_TRUE(t->has_grad[1]);
    CU_ASSERT_TRUE(t->has_grad[0]);
    CU_ASSERT_FALSE(t->has_grad[2]);
    CU_ASSERT_EQUAL(t->gkind[1], GRAD_TRAP);
    CU_ASSERT_DOUBLE_EQUAL(t->gamp[1], 10e-3, 1e-18);
    CU_ASSERT_EQUAL(t->gdelay[1], 50 * US);
    CU_ASSERT_EQUAL(t->grise[1], 100 * US);
    CU_ASSERT_EQUAL(t->gflat[1], 500 * US);
    CU_ASSERT_EQUAL(t->gfall[1], 200 * US);
    CU_ASSERT_EQUAL(t->gdur[1], 800 * US);
    /* fall defaults to rise, flat to 0 */
    CU_ASSERT_DOUBLE_EQUAL(t->gamp[0], -5e-3, 1e-18);
    CU_ASSERT_EQUAL(t->grise[0], 30 * US);
    CU_ASSERT_EQUAL(t->gflat[0], 0);
    CU_ASSERT_EQUAL(t->gfall[0], 30 * US);
    CU_ASSERT_EQUAL(t->dur, 850 * US);
    /* arbitrary: amp is the peak, the shape is normalised to it */
    CU_ASSERT_EQUAL(w->gkind[2], GRAD_ARB);
    CU_ASSERT_DOUBLE_EQUAL(w->gamp[2], 10e-3, 1e-18);
    CU_ASSERT_EQUAL(w->gn[2], 4);
    CU_ASSERT_EQUAL(w->gdt[2], 10 * US);                       /* gradient raster */
    CU_ASSERT_EQUAL(w->gdur[2], 40 * US);
    CU_ASSERT_DOUBLE_EQUAL(w->gshape[2][0], 0.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(w->gshape[2][1], 0.5, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(w->gshape[2][2], 1.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(w->gshape[2][3], 0.5, 1e-15);
    CU_ASSERT_EQUAL(w->dur, 40 * US);
    CU_ASSERT_DOUBLE_EQUAL(w2->gamp[0] * w2->gshape[0][0], 1e-3, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(w2->gamp[0] * w2->gshape[0][1], -2e-3, 1e-15);
    CU_ASSERT_EQUAL(w2->gdt[0], 20 * US);
    CU_ASSERT_EQUAL(w2->gdelay[0], 10 * US);
    CU_ASSERT_EQUAL(w2->dur, 50 * US);
    evlog_free(&L);
    lbc_free(p);
    expect_err("sequence { block { grad q { amp: 1 mT/m, rise: 10 us } } }\n", 611);
    expect_err("sequence { block { grad x { rise: 10 us } } }\n", 606);
    expect_err("sequence { block { grad x { amp: 1 mT/m } } }\n", 606);
    expect_err("sequence { block { grad x { amp: 1 mT, rise: 10 us } } }\n", 311);
    expect_err("sequence { block { grad x { amp: 1 mT/m, rise: 10 } } }\n", 311);
    expect_err("sequence { block { grad x { waveform: [1 mT, 2 mT] } } }\n", 602);
}

static void test_event_adc_trigger_labels(void)
{
    struct evlog L;
    struct lbc_program *p = compile_run(
        "sequence {\n"
        "  block r { adc { samples: 128, dwell: 10 us, delay: 20 us, freq: 100 Hz, phase: 45 deg }\n"
        "            trigger { channel: 2, delay: 5 us, dur: 40 us }\n"
        "            label lin = 7\n"
        "            label slc = 2 }\n"
        "  block s { label lin += 3\n"
        "            adc { samples: 1, dwell: 100 ns } }\n"
        "  block { label lin += -1 }\n"
        "}\n", &L);
    CU_ASSERT_EQUAL_FATAL(nblocks(&L), 3);
    const struct ev *r = blk(&L, 0), *s = blk(&L, 1), *u = blk(&L, 2);
    CU_ASSERT_TRUE(r->has_adc);
    CU_ASSERT_EQUAL(r->adc_samples, 128);
    CU_ASSERT_EQUAL(r->adc_dwell, 10 * US);
    CU_ASSERT_EQUAL(r->adc_delay, 20 * US);
    CU_ASSERT_EQUAL(r->adc_centre, r->start + 20 * US + 640 * US);
    CU_ASSERT_DOUBLE_EQUAL(r->adc_freq, 100, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(r->adc_phase, PI / 4, 1e-15);
    CU_ASSERT_EQUAL(r->dur, 1310 * US);               /* + 10 us ADC dead time */
    CU_ASSERT_TRUE(r->has_trig);
    CU_ASSERT_EQUAL(r->trig_ch, 2);
    CU_ASSERT_EQUAL(r->trig_delay, 5 * US);
    CU_ASSERT_EQUAL(r->trig_dur, 40 * US);
    /* labels set in a block are latched by that block's ADC */
    CU_ASSERT_EQUAL(r->adc_labels[VM_LABEL_LIN], 7);
    CU_ASSERT_EQUAL(r->adc_labels[VM_LABEL_SLC], 2);
    CU_ASSERT_EQUAL(r->adc_labels[VM_LABEL_PAR], 0);
    CU_ASSERT_EQUAL(s->adc_labels[VM_LABEL_LIN], 10);
    CU_ASSERT_EQUAL(s->adc_labels[VM_LABEL_SLC], 2);
    CU_ASSERT_EQUAL(s->dur, 20 * US);             /* 100 ns + 10 us dead time up to the raster */
    CU_ASSERT_EQUAL(u->labels[VM_LABEL_LIN], 9);
    CU_ASSERT_FALSE(u->has_adc);
    evlog_free(&L);
    lbc_free(p);
    expect_err("sequence { block { label foo = 1 } }\n", 610);
    expect_err("sequence { block { label lin = 1.5 } }\n", 610);
    expect_err("sequence { block { adc { samples: 0, dwell: 1 us } } }\n", 607);
    expect_err("sequence { block { adc { samples: 10 } } }\n", 607);
    expect_err("sequence { block { trigger { channel: 300 } } }\n", 608);
    expect_err("sequence { block { flash 1 } }\n", 106);
}

static void test_event_blocks(void)
{
    struct evlog L;
    struct lbc_program *p = compile_run(
        "sequence {\n"
        "  block a { duration 5 ms }\n"
        "  wait 1 ms\n"
        "  block b { grad x { amp: 1 mT/m, rise: 15 us } }\n"       /* 30 us -> raster */
        "  block c align start = a.start + 10 ms { duration 1 ms }\n"
        "  block { duration c.end - a.start }\n"
        "  wait until a.start + 30 ms\n"
        "}\n", &L);
    /* a, delay 1 ms, b, alignment delay, c, anonymous, wait delay */
    CU_ASSERT_EQUAL_FATAL(L.n, 7);
    CU_ASSERT_STRING_EQUAL(L.v[0].name, "a");
    CU_ASSERT_EQUAL(L.v[0].start, 0);
    CU_ASSERT_EQUAL(L.v[0].dur, 5 * MS);
    CU_ASSERT_TRUE(L.v[1].is_delay);
    CU_ASSERT_EQUAL(L.v[1].dur, 1 * MS);
    CU_ASSERT_STRING_EQUAL(L.v[2].name, "b");
    CU_ASSERT_EQUAL(L.v[2].start, 6 * MS);
    CU_ASSERT_EQUAL(L.v[2].dur, 30 * US);
    CU_ASSERT_TRUE(L.v[3].is_delay);
    CU_ASSERT_EQUAL(L.v[3].dur, 10 * MS - 6 * MS - 30 * US);
    CU_ASSERT_STRING_EQUAL(L.v[4].name, "c");
    CU_ASSERT_EQUAL(L.v[4].start, 10 * MS);
    CU_ASSERT_EQUAL(L.v[5].name[0], 0);
    CU_ASSERT_EQUAL(L.v[5].dur, 11 * MS);
    CU_ASSERT_TRUE(L.v[6].is_delay);
    CU_ASSERT_EQUAL(L.v[6].start, 22 * MS);
    CU_ASSERT_EQUAL(L.total, 30 * MS);
    /* blocks follow each other without gaps */
    for (size_t k = 1; k < L.n; k++)
        CU_ASSERT_EQUAL(L.v[k].start, L.v[k - 1].start + L.v[k - 1].dur);
    evlog_free(&L);
    lbc_free(p);
    /* a block shorter than its events; a target in the past */
    expect_err("sequence { block { grad x { amp: 1 mT/m, rise: 1 ms } ; duration 1 ms } }\n", 642);
    expect_err("sequence { block a { duration 5 ms }\n"
               "block align start = a.start + 1 ms { duration 1 ms } }\n", 620);
    expect_err("sequence { wait -1 ms }\n", 613);
    expect_err("block { duration 1 ms }\nsequence { }\n", 100);
    expect_err("fn f() { block { duration 1 ms } }\nlet x = f()\nsequence { }\n", 214);
    expect_err("sequence { block a { duration 1 ms } ; block b { duration a.adc } }\n", 204);
    expect_err("sequence { block a align rf = 1 ms { duration 1 ms } }\n", 612);
    expect_err("param x = 1\n", 507);
    expect_err("sequence { }\nsequence { }\n", 506);
}

/* =================================================================== */
/* lang.loops                                                           */

static struct lbc_program *compile_file_defs(const char *name, const char *const *defs, int nd,
                                             struct diag_ctx *d)
{
    char *path = sequence_path(name);
    size_t len;
    char *src = read_file(path, &len);
    CU_ASSERT_PTR_NOT_NULL(src);
    struct lbc_program *p = NULL;
    if (src)
        p = compile_at(path, src, defs, nd, d);
    else
        fprintf(stderr, "\ncannot read %s: %s\n", path, strerror(errno));
    free(src);
    free(path);
    return p;
}

static struct lbc_program *compile_file_ok(const char *name, const char *const *defs, int nd)
{
    struct diag_ctx d;
    diag_init(&d);
    struct lbc_program *p = compile_file_defs(name, defs, nd, &d);
    CU_ASSERT_PTR_NOT_NULL(p);
    if (!p)
        diag_print_all(&d, stderr, false);
    diag_fini(&d);
    return p;
}

static void test_loops_stay_loops(void)
{
    const char *d16[] = { "matrix=16" }, *d512[] = { "matrix=512" };
    struct lbc_program *a = compile_file_ok("gradient_echo.psq", d16, 1);
    struct lbc_program *b = compile_file_ok("gradient_echo.psq", d512, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(a->ncode, b->ncode);
    CU_ASSERT_EQUAL(a->nloops, b->nloops);
    CU_ASSERT_EQUAL(a->ntmpls, b->ntmpls);
    CU_ASSERT(a->ncode < 400);
    struct evlog La, Lb;
    CU_ASSERT_EQUAL(run_log(a, &La), 0);
    CU_ASSERT_EQUAL(run_log(b, &Lb), 0);
    size_t na = 0, nb = 0;
    for (size_t k = 0; k < La.n; k++)
        na += !strcmp(La.v[k].name, "excite");
    for (size_t k = 0; k < Lb.n; k++)
        nb += !strcmp(Lb.v[k].name, "excite");
    CU_ASSERT_EQUAL(na, 16);
    CU_ASSERT_EQUAL(nb, 512);
    CU_ASSERT_EQUAL(La.total, 16 * 15 * MS);
    CU_ASSERT_EQUAL(Lb.total, 512 * 15 * MS);
    evlog_free(&La);
    evlog_free(&Lb);
    lbc_free(a);
    lbc_free(b);
    /* the same with the spin echo (nested loops) */
    const char *s1[] = { "matrix=16", "slices=2" }, *s2[] = { "matrix=256", "slices=9" };
    a = compile_file_ok("spin_echo.psq", s1, 2);
    b = compile_file_ok("spin_echo.psq", s2, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(a->ncode, b->ncode);
    CU_ASSERT_EQUAL(a->nloops, 2);
    lbc_free(a);
    lbc_free(b);
}

static void test_loops_gre_per_iteration(void)
{
    const char *defs[] = { "matrix=16" };
    struct lbc_program *p = compile_file_ok("gradient_echo.psq", defs, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    struct evlog L;
    CU_ASSERT_EQUAL(run_log(p, &L), 0);
    const double inc = 117 * PI / 180;
    const double kmax = 8 / 0.256;                  /* matrix / 2 / fov, 1/m */
    int n = 0;
    double amp0 = 0;
    int64_t tr_start = -1;
    for (size_t k = 0; k < L.n; k++) {
        const struct ev *e = &L.v[k];
        if (strcmp(e->name, "excite"))
            continue;
        CU_ASSERT_FATAL(k + 2 < L.n);
        const struct ev *pe = &L.v[k + 1];
        /* the echo block follows, after an alignment delay */
        const struct ev *echo = NULL;
        for (size_t j = k + 1; j < L.n && !echo; j++)
            if (!strcmp(L.v[j].name, "echo"))
                echo = &L.v[j];
        CU_ASSERT_PTR_NOT_NULL_FATAL(echo);
        /* RF spoiling: phi_n = 117 deg * n (n + 1) / 2 mod 2 pi, on the RF and the ADC */
        double want = fmod(inc * n * (n + 1) / 2, 2 * PI);
        CU_ASSERT_DOUBLE_EQUAL(e->rf_phase, want, 1e-9);
        CU_ASSERT_DOUBLE_EQUAL(echo->adc_phase, want, 1e-9);
        CU_ASSERT(e->rf_phase >= 0 && e->rf_phase < 2 * PI);
        /* labels */
        CU_ASSERT_EQUAL(echo->adc_labels[VM_LABEL_LIN], n);
        /* phase encode: line 0 has the full area -kmax / gamma, line n the
           fraction (8 - n) / 8 of it */
        CU_ASSERT_TRUE(pe->has_grad[1]);
        double area = pe->gamp[1] * (pe->gflat[1] + (pe->grise[1] + pe->gfall[1]) / 2.0) * 1e-9;
        double want_area = -kmax / GAMMA_BAR * (8.0 - n) / 8.0;
        CU_ASSERT_DOUBLE_EQUAL(area, want_area, 1e-12);
        if (n == 0)
            amp0 = pe->gamp[1];
        CU_ASSERT_DOUBLE_EQUAL(pe->gamp[1], amp0 * (8.0 - n) / 8.0, fabs(amp0) * 1e-12);
        /* TE: the echo centre lies te after the excitation centre; TR */
        CU_ASSERT_EQUAL(echo->adc_centre - e->rf_centre, 6 * MS);
        if (tr_start >= 0)
            CU_ASSERT_EQUAL(e->start - tr_start, 15 * MS);
        tr_start = e->start;
        n++;
    }
    CU_ASSERT_EQUAL(n, 16);
    CU_ASSERT_EQUAL(L.total - tr_start, 15 * MS);
    evlog_free(&L);
    lbc_free(p);
}

static void test_loops_nested_and_labels(void)
{
    struct evlog L;
    struct lbc_program *p = compile_run(
        "sequence {\n"
        "  for a in 0 .. 3 {\n"
        "    for b in 2 .. 4 {\n"
        "      block x { adc { samples: 1, dwell: 1 us } ; label lin = a * 10 + b ; label avg += 1 }\n"
        "    }\n"
        "    for e in 5 .. 5 { block never { duration 1 ms } }\n"
        "  }\n"
        "}\n", &L);
    CU_ASSERT_EQUAL(nblocks(&L), 6);
    int k = 0;
    for (int a = 0; a < 3; a++)
        for (int b = 2; b < 4; b++, k++) {
            const struct ev *e = blk(&L, (size_t)k);
            if (!e)
                continue;
            CU_ASSERT_STRING_EQUAL(e->name, "x");
            CU_ASSERT_EQUAL(e->adc_labels[VM_LABEL_LIN], a * 10 + b);
            CU_ASSERT_EQUAL(e->adc_labels[VM_LABEL_AVG], k + 1);
        }
    evlog_free(&L);
    lbc_free(p);
    /* loop bounds: whole numbers */
    expect_err("sequence { for i in 0 .. 2.5 { } }\n", 308);
    expect_err("sequence { for i in 0 ms .. 2 { } }\n", 311);
    expect_err("fn f() { for i in 0 .. 2 { } }\nlet x = f()\nsequence { }\n", 214);
}

/* =================================================================== */
/* lang.timing                                                          */

/* Checks the spin echo's constraints on every repetition. */
static void check_spin_echo(const struct evlog *L, int64_t te, int64_t tr, int reps)
{
    int n = 0;
    int64_t prev = -1;
    for (size_t k = 0; k < L->n; k++) {
        const struct ev *e = &L->v[k];
        if (strcmp(e->name, "excite"))
            continue;
        const struct ev *ref = NULL, *echo = NULL;
        for (size_t j = k + 1; j < L->n && !echo; j++) {
            if (!strcmp(L->v[j].name, "excite"))
                break;
            if (!strcmp(L->v[j].name, "refocus"))
                ref = &L->v[j];
            if (!strcmp(L->v[j].name, "echo"))
                echo = &L->v[j];
        }
        CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
        CU_ASSERT_PTR_NOT_NULL_FATAL(echo);
        CU_ASSERT_TRUE(e->has_rf && ref->has_rf && echo->has_adc);
        CU_ASSERT_EQUAL(e->rf_use, VM_RFUSE_EXCITATION);
        CU_ASSERT_EQUAL(ref->rf_use, VM_RFUSE_REFOCUSING);
        CU_ASSERT_EQUAL(ref->rf_centre - e->rf_centre, te / 2);
        CU_ASSERT_EQUAL(echo->adc_centre - e->rf_centre, te);
        if (prev >= 0)
            CU_ASSERT_EQUAL(e->start - prev, tr);
        prev = e->start;
        n++;
    }
    CU_ASSERT_EQUAL(n, reps);
    CU_ASSERT_EQUAL(L->total - prev, tr);
    CU_ASSERT_EQUAL(L->total, (int64_t)reps * tr);
}

static void test_timing_spin_echo(void)
{
    const char *d1[] = { "matrix=16", "slices=2" };
    struct lbc_program *p = compile_file_ok("spin_echo.psq", d1, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    struct evlog L;
    CU_ASSERT_EQUAL(run_log(p, &L), 0);
    check_spin_echo(&L, 20 * MS, 500 * MS, 32);
    /* the slices: the RF frequency offsets follow the slice position */
    const struct ev *first = NULL, *last = NULL;
    for (size_t k = 0; k < L.n; k++)
        if (!strcmp(L.v[k].name, "excite")) {
            if (!first)
                first = &L.v[k];
            last = &L.v[k];
        }
    CU_ASSERT_DOUBLE_EQUAL(first->rf_freq, -last->rf_freq, 1e-9);
    CU_ASSERT(first->rf_freq != 0);
    evlog_free(&L);
    lbc_free(p);
    /* other TE and TR */
    const char *d2[] = { "matrix=16", "te=33.34 ms", "tr=100 ms" };
    p = compile_file_ok("spin_echo.psq", d2, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(run_log(p, &L), 0);
    check_spin_echo(&L, 33340000, 100 * MS, 16);
    evlog_free(&L);
    lbc_free(p);
    /* a TE whose alignment delays fall off the 10 us block raster is
       refused by the check, at the aligned block */
    const char *d3[] = { "matrix=16", "te=33.333333 ms", "tr=100 ms" };
    struct diag_ctx d;
    diag_init(&d);
    p = compile_file_defs("spin_echo.psq", d3, 3, &d);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT(find_code(&d, 660) >= 0);
    diag_fini(&d);
    lbc_free(p);
}

static void test_timing_min_te(void)
{
    const char *d1[] = { "matrix=16", "te=5ms" };
    struct diag_ctx d;
    diag_init(&d);
    struct lbc_program *p = compile_file_defs("spin_echo.psq", d1, 2, &d);
    CU_ASSERT_PTR_NULL(p);
    lbc_free(p);
    int i = find_code(&d, 620);
    CU_ASSERT_FATAL(i >= 0);
    CU_ASSERT_EQUAL(d.nerrors, 1);
    const char *msg = d.diags[i]->msg;
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "is below the minimum"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "TE 5 ms"));
    /* the primary span is the constraint's target expression */
    const struct src_file *f = diag_file(&d, d.diags[i]->span.file);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(strncmp(f->text + d.diags[i]->span.start, "excite.rf + te / 2",
                            d.diags[i]->span.end - d.diags[i]->span.start), 0);
    const char *m = strstr(msg, "minimum ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    char *end;
    double v = strtod(m + 8, &end);
    char unit[8] = "";
    sscanf(end, " %7[a-z]", unit);
    CU_ASSERT_STRING_EQUAL(unit, "ms");
    int64_t min_ns = llround(v * 1e6);
    char shown[32];
    snprintf(shown, sizeof shown, "%.*s", (int)(end - (m + 8)), m + 8);
    diag_fini(&d);
    CU_ASSERT(min_ns > 5 * MS && min_ns < 20 * MS);

    /* the minimum works */
    char def[64];
    snprintf(def, sizeof def, "te=%s ms", shown);   /* as printed */
    const char *d2[] = { "matrix=16", def };
    p = compile_file_ok("spin_echo.psq", d2, 2);
    CU_ASSERT_PTR_NOT_NULL(p);
    if (p) {
        CU_ASSERT_EQUAL(find_param(p, "te")->t, min_ns);
        struct evlog L;
        CU_ASSERT_EQUAL(run_log(p, &L), 0);
        check_spin_echo(&L, min_ns, 500 * MS, 16);
        evlog_free(&L);
    }
    lbc_free(p);
    /* and 10 us less does not */
    snprintf(def, sizeof def, "te=%lld ns", (long long)(min_ns - 10 * US));
    const char *d3[] = { "matrix=16", def };
    diag_init(&d);
    p = compile_file_defs("spin_echo.psq", d3, 2, &d);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT(find_code(&d, 620) >= 0);
    lbc_free(p);
    diag_fini(&d);
}

static void test_timing_tr_too_short(void)
{
    const char *d1[] = { "matrix=16", "tr=12ms", "te=10ms" };
    struct diag_ctx d;
    diag_init(&d);
    struct lbc_program *p = compile_file_defs("spin_echo.psq", d1, 3, &d);
    CU_ASSERT_PTR_NULL(p);
    int i = find_code(&d, 620);
    CU_ASSERT(i >= 0);
    if (i >= 0) {
        CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->msg, "TR 12 ms"));
        CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->msg, "is below the minimum"));
    }
    lbc_free(p);
    diag_fini(&d);
}

static void test_timing_determinism(void)
{
    const char *d1[] = { "matrix=16" };
    struct lbc_program *p = compile_file_ok("gradient_echo.psq", d1, 1);
    struct lbc_program *q = compile_file_ok("gradient_echo.psq", d1, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    struct evlog A, B, C;
    CU_ASSERT_EQUAL(run_log(p, &A), 0);
    CU_ASSERT_EQUAL(run_log(p, &B), 0);
    CU_ASSERT_EQUAL(run_log(q, &C), 0);
    CU_ASSERT(A.n > 0);
    CU_ASSERT_EQUAL(A.n, B.n);
    CU_ASSERT_EQUAL(A.total, B.total);
    if (A.n == B.n)
        CU_ASSERT_EQUAL(memcmp(A.v, B.v, A.n * sizeof *A.v), 0);
    /* two compilations give the same program and the same events */
    CU_ASSERT_EQUAL(A.n, C.n);
    if (A.n == C.n)
        CU_ASSERT_EQUAL(memcmp(A.v, C.v, A.n * sizeof *A.v), 0);
    unsigned char *bp = NULL, *bq = NULL;
    size_t lp = 0, lq = 0;
    CU_ASSERT_EQUAL(lbc_write_buf(p, &bp, &lp), 0);
    CU_ASSERT_EQUAL(lbc_write_buf(q, &bq, &lq), 0);
    CU_ASSERT_EQUAL(lp, lq);
    if (lp == lq && bp && bq)
        CU_ASSERT_EQUAL(memcmp(bp, bq, lp), 0);
    free(bp);
    free(bq);
    evlog_free(&A);
    evlog_free(&B);
    evlog_free(&C);
    lbc_free(p);
    lbc_free(q);
}

static void roundtrip(struct lbc_program *p)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(lbc_write_buf(p, &buf, &len), 0);
    char err[256] = "";
    struct lbc_program *q = lbc_read_buf(buf, len, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(q);
    if (!q) {
        fprintf(stderr, "\nlbc_read_buf: %s\n", err);
        free(buf);
        return;
    }
    CU_ASSERT_EQUAL(q->ncode, p->ncode);
    CU_ASSERT_EQUAL(q->nparams, p->nparams);
    struct evlog A, B;
    int ra = run_log(p, &A), rb = run_log(q, &B);
    CU_ASSERT_EQUAL(ra, 0);
    CU_ASSERT_EQUAL(rb, 0);
    CU_ASSERT(A.n > 0);
    CU_ASSERT_EQUAL(A.n, B.n);
    CU_ASSERT_EQUAL(A.total, B.total);
    if (A.n == B.n)
        CU_ASSERT_EQUAL(memcmp(A.v, B.v, A.n * sizeof *A.v), 0);
    /* writing the read program gives the same bytes */
    unsigned char *buf2 = NULL;
    size_t len2 = 0;
    CU_ASSERT_EQUAL(lbc_write_buf(q, &buf2, &len2), 0);
    CU_ASSERT_EQUAL(len2, len);
    if (len2 == len && buf2)
        CU_ASSERT_EQUAL(memcmp(buf, buf2, len), 0);
    free(buf2);
    evlog_free(&A);
    evlog_free(&B);
    lbc_free(q);
    free(buf);
}

static void test_timing_bytecode_roundtrip(void)
{
    const char *d1[] = { "matrix=16", "slices=3" };
    struct lbc_program *p = compile_file_ok("spin_echo.psq", d1, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    roundtrip(p);
    lbc_free(p);
    const char *d2[] = { "matrix=16" };
    p = compile_file_ok("gradient_echo.psq", d2, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    roundtrip(p);
    lbc_free(p);
}


/* =================================================================== */
/* lang.stdlib: the stdlib's designs, exactly                           */
/* =================================================================== */

#define STD_PRE "import grad, rf, readout, timing\n"

/* trap_area and triangle: the area exact (1e-12 relative), ramps and flat
   top on the gradient raster, within max_grad and max_slew, and shortest:
   one raster step less cannot hold the area. */
static void test_stdlib_trap_area(void)
{
    double G = numv(STD_PRE, "system.max_grad"), S = numv(STD_PRE, "system.max_slew");
    double R = timev(STD_PRE, "system.grad_raster") * 1e-9;
    const char *areas[] = { "1 mT/m * 10 us", "2 mT/m * 1 ms", "20 mT/m * 1 ms",
                            "-35 mT/m * 3 ms", "100 mT/m * 1 ms" };
    for (size_t i = 0; i < sizeof areas / sizeof *areas; i++) {
        char pre[256];
        snprintf(pre, sizeof pre, STD_PRE "let A = %s\nlet t = grad.trap_area(area = A)\n"
                 "let tri = grad.triangle(area = A)\n", areas[i]);
        double A = numv(pre, "A"), amp = numv(pre, "t.amp");
        double rise = timev(pre, "t.rise") * 1e-9, flat = timev(pre, "t.flat") * 1e-9;
        CU_ASSERT_DOUBLE_EQUAL(numv(pre, "t.area"), A, 1e-12 * fabs(A));
        CU_ASSERT_DOUBLE_EQUAL(amp * (rise + flat), A, 1e-12 * fabs(A));
        CU_ASSERT_EQUAL(timev(pre, "t.rise") % timev(pre, "system.grad_raster"), 0);
        CU_ASSERT_EQUAL(timev(pre, "t.flat") % timev(pre, "system.grad_raster"), 0);
        CU_ASSERT_EQUAL(timev(pre, "t.fall"), timev(pre, "t.rise"));
        CU_ASSERT(fabs(amp) <= G * (1 + 1e-12));
        CU_ASSERT(fabs(amp) / rise <= S * (1 + 1e-12));
        if (flat == 0) {     /* a triangle: a shorter ramp cannot reach the area */
            CU_ASSERT((rise - R) * (rise - R) * S < fabs(A));
        } else {             /* at full amplitude, one flat step less falls short */
            CU_ASSERT(G * (rise + flat - R) < fabs(A));
        }
        /* the triangle */
        double trise = timev(pre, "tri.rise") * 1e-9;
        CU_ASSERT_EQUAL(timev(pre, "tri.flat"), 0);
        CU_ASSERT_DOUBLE_EQUAL(numv(pre, "tri.area"), A, 1e-12 * fabs(A));
        CU_ASSERT(fabs(numv(pre, "tri.amp")) / trise <= S * (1 + 1e-12));
        CU_ASSERT((trise - R) * (trise - R) * S < fabs(A) || trise == R);
    }
    /* zero area: a zero lobe of one raster step */
    CU_ASSERT_EQUAL(numv(STD_PRE, "grad.trap_area(area = 0).amp"), 0);
    /* trap_flat_area: the flat top holds the area */
    CU_ASSERT_DOUBLE_EQUAL(numv(STD_PRE, "grad.trap_flat_area(flat_area = 5 mT/m * 2 ms, "
                                         "flat = 2 ms).amp"), 5e-3, 1e-15);
    /* spoiler (and crusher): cycles / (length γ) */
    double gam = numv(STD_PRE, "system.gamma");
    CU_ASSERT_DOUBLE_EQUAL(numv(STD_PRE, "grad.spoiler(cycles = 4, length = 5 mm).area"),
                           4 / (5e-3 * gam), 1e-12 * 4 / (5e-3 * gam));
    CU_ASSERT_DOUBLE_EQUAL(numv(STD_PRE, "grad.crusher(cycles = 2, length = 3 mm).area"),
                           2 / (3e-3 * gam), 1e-12 * 2 / (3e-3 * gam));
}

/* readout.cartesian, phase_encode, pe_table and epi: k-space steps of
   1/fov exactly, the prephaser moving k to the start of the line, the ADC
   centred on the flat top and on the ADC raster. */
static void test_stdlib_readout(void)
{
    const char *pre = STD_PRE
        "let ro = readout.cartesian(fov = 220 mm, matrix = 96, dwell = 12 us, oversampling = 2)\n"
        "let ro2 = readout.cartesian(fov = 256 mm, matrix = 128, bw = 50 kHz)\n"
        "let pe = readout.phase_encode(fov = 220 mm, matrix = 96)\n"
        "let e = readout.epi(fov = 240 mm, matrix = 64, dwell = 4 us)\n";
    double gam = numv(pre, "system.gamma");
    /* the readout's amplitude: matrix / (fov γ window) over the window */
    double amp = numv(pre, "ro.grad.amp"), win = 192 * 12e-6;
    CU_ASSERT_DOUBLE_EQUAL(amp * win * gam, 96 / 0.22, 1e-9 * 96 / 0.22);
    CU_ASSERT_EQUAL((long)numv(pre, "ro.adc.samples"), 192);
    /* the ADC's centre is the flat top's centre (to the ADC raster) */
    int64_t adc_c = timev(pre, "timing.adc_centre(ro.adc)");
    int64_t flat_c = timev(pre, "ro.grad.rise + ro.grad.flat / 2");
    CU_ASSERT(llabs(adc_c - flat_c) <= timev(pre, "system.adc_raster"));
    /* the prephaser's area takes k to minus the area to the flat top's centre */
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "ro.prephaser.area"),
                           -amp * (timev(pre, "ro.grad.rise") * 0.5e-9 +
                                   timev(pre, "ro.grad.flat") * 0.5e-9), 1e-15);
    /* bandwidth: dwell = 1 / bw on the ADC raster */
    CU_ASSERT_EQUAL(timev(pre, "ro2.adc.dwell"), 20000);
    /* phase encoding: line 0 at k = -matrix/2 / fov; lines a step 1/fov apart */
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "pe.trap.area") * gam, -48 / 0.22, 1e-9 * 48 / 0.22);
    CU_ASSERT_EQUAL(numv(pre, "len(readout.pe_table(96))"), 96);
    CU_ASSERT_EQUAL(numv(pre, "readout.pe_table(96)[0]"), 1);
    CU_ASSERT_EQUAL(numv(pre, "readout.pe_table(96)[48]"), 0);
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "(readout.pe_table(96)[0] - readout.pe_table(96)[1]) * "
                                     "pe.trap.area") * gam, -1 / 0.22, 1e-9);
    /* EPI: blip of 1/fov inside the ramp down; prephasers to the first line */
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "e.blip.area") * gam, 1 / 0.24, 1e-9);
    CU_ASSERT(timev(pre, "e.blip.delay") >= timev(pre, "e.grad.rise + e.grad.flat"));
    CU_ASSERT_EQUAL(timev(pre, "grad.dur(e.blip)"), timev(pre, "grad.dur(e.grad)")); /* delay incl. */
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "e.pe_prephaser.area") * gam, -32 / 0.24, 1e-9 * 32 / 0.24);
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "e.grad.amp") * 64 * 4e-6 * gam, 64 / 0.24, 1e-9 * 64 / 0.24);
    CU_ASSERT_EQUAL(timev(pre, "e.echo_spacing"), timev(pre, "grad.dur(e.grad)"));
    CU_ASSERT_EQUAL(numv(pre, "readout.epi_sign(0)"), 1);
    CU_ASSERT_EQUAL(numv(pre, "readout.epi_sign(3)"), -1);
}

/* rf: the slice select's amplitude bw / (γ thickness) with bw = tbw / dur;
   the rephaser undoes the select's moment after the pulse centre; the
   pulse starts after the ramp and the RF dead time. */
static void test_stdlib_rf(void)
{
    const char *pre = STD_PRE
        "let p = rf.sinc(flip = 90 deg, dur = 3 ms, tbw = 4, thickness = 5 mm)\n"
        "let q = rf.gauss(flip = 30 deg, dur = 2 ms, tbw = 2, thickness = 3 mm)\n";
    double gam = numv(pre, "system.gamma");
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "p.select.amp"), 4 / 3e-3 / (gam * 5e-3), 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "q.select.amp"), 2 / 2e-3 / (gam * 3e-3), 1e-12);
    /* the select's moment from the pulse centre to its end, and the rephaser */
    double a = numv(pre, "p.select.amp");
    double after = timev(pre, "p.select.delay + p.select.rise + p.select.flat - (p.delay + p.centre)")
                   * 1e-9 + timev(pre, "p.select.fall") * 0.5e-9;
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "p.rephase.area"), -a * after, 1e-15);
    CU_ASSERT(timev(pre, "p.delay") >= timev(pre, "system.rf_dead_time"));
    CU_ASSERT(timev(pre, "p.delay") >= timev(pre, "p.select.delay + p.select.rise"));
    CU_ASSERT_EQUAL(numv(pre, "len(p.shape)"), 3000);
    /* a slice at z is reached by the frequency offset G γ z */
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "rf.offset_freq(p, 10 mm)"), a * gam * 0.01, 1e-9);
}

/* timing: min_te_gre and min_te_se are exactly the compiler's minimum TE
   of a gradient echo and a spin echo laid out as the helpers assume: at
   that TE it compiles; one block raster step less (two for the spin echo,
   whose TE/2 must stay on the raster) is E0620 (below the minimum). */
static void test_stdlib_timing(void)
{
    const char *pre = STD_PRE
        "let exc = rf.sinc(flip = 15 deg, dur = 2 ms, tbw = 4, thickness = 5 mm)\n"
        "let ro = readout.cartesian(fov = 256 mm, matrix = 128, dwell = 10 us)\n"
        "let lobes = max(grad.dur(exc.rephase), grad.dur(ro.prephaser))\n";
    int64_t te = timev(pre, "timing.min_te_gre(exc, lobes, ro)");
    CU_ASSERT(te > 0);
    for (int k = 0; k < 2; k++) {
        char src[2048];
        snprintf(src, sizeof src, "%sparam te = %lld ns\nsequence {\n"
                 "  block excite { rf exc grad z exc.select }\n"
                 "  block { grad z exc.rephase grad x ro.prephaser }\n"
                 "  block align adc = excite.rf + te { grad x ro.grad adc ro.adc }\n}\n",
                 pre, (long long)(te - k * 10000));
        if (k == 0) {
            struct lbc_program *p = compile_ok(src);
            CU_ASSERT_PTR_NOT_NULL(p);
            lbc_free(p);
        } else {
            expect_err(src, 620);
        }
    }
    /* min_te_se: the same for a spin echo laid out as the helper assumes
       (excitation, lobes, crusher, refocusing, crusher, readout) */
    const char *se = STD_PRE
        "let exc = rf.sinc(flip = 90 deg, dur = 3 ms, tbw = 4, thickness = 5 mm)\n"
        "let ref = rf.sinc(flip = 180 deg, dur = 3 ms, tbw = 4, thickness = 5 mm, "
        "use = \"refocusing\")\n"
        "let ro = readout.cartesian(fov = 256 mm, matrix = 128, dwell = 20 us)\n"
        "let cr = grad.crusher(cycles = 4, length = 5 mm)\n"
        "let pre = max(grad.dur(exc.rephase), grad.dur(ro.prephaser))\n";
    int64_t te_se = timev(se, "timing.min_te_se(exc, pre, ref, grad.dur(cr), ro)");
    CU_ASSERT(te_se > 0);
    for (int k = 0; k < 2; k++) {
        char src[4096];
        snprintf(src, sizeof src, "%sparam te = %lld ns\nsequence {\n"
                 "  block excite { rf exc grad z exc.select }\n"
                 "  block { grad z exc.rephase grad x ro.prephaser }\n"
                 "  block { grad z cr }\n"
                 "  block align rf = excite.rf + te / 2 { rf ref grad z ref.select }\n"
                 "  block { grad z cr }\n"
                 "  block align adc = excite.rf + te { grad x ro.grad adc ro.adc }\n}\n",
                 se, (long long)(te_se - k * 20000));
        if (k == 0) {
            struct lbc_program *p = compile_ok(src);
            CU_ASSERT_PTR_NOT_NULL(p);
            lbc_free(p);
        } else {
            expect_err(src, 620);
        }
    }
    /* min_tr: the blocks' durations on the block raster, summed */
    CU_ASSERT_EQUAL(timev(STD_PRE, "timing.min_tr([1 ms, 15 us, 2 ms])"), 3020000);
}

/* =================================================================== */

struct tdef {
    const char *name;
    CU_TestFunc fn;
};

static int add_suite(const char *name, const struct tdef *t, size_t n)
{
    CU_pSuite s = CU_add_suite(name, NULL, NULL);
    if (!s)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (!CU_add_test(s, t[i].name, t[i].fn))
            return 1;
    return 0;
}

#define ADD(name, arr) add_suite(name, arr, sizeof arr / sizeof arr[0])

int register_lang_tests(void)
{
    static const struct tdef stdlib[] = {
        { "grad: trap_area, triangle shortest and exact; spoilers", test_stdlib_trap_area },
        { "readout: Cartesian, phase encoding, EPI steps of 1/fov", test_stdlib_readout },
        { "rf: slice select and rephaser", test_stdlib_rf },
        { "timing: min_te_gre, min_te_se are the compiler's minimum; min_tr", test_stdlib_timing },
    };
    static const struct tdef numbers[] = {
        { "time literals held as integer ns; quantities in SI", test_num_time_literals },
        { "unknown unit E0103, sub-ns time E0104", test_num_unknown_unit },
        { "ms + mT/m is E0301 spanning the whole expression", test_num_add_mismatch },
        { "exact time arithmetic and ns rounding", test_num_exact_time },
        { "plain 0 is dimension-polymorphic", test_num_zero_polymorphic },
    };
    static const struct tdef params[] = {
        { "defaults in the param table", test_param_defaults },
        { "-D overrides", test_param_overrides },
        { "E0401 E0402 E0403 and friends", test_param_errors },
        { "a bad param does not cascade", test_param_error_no_cascade },
    };
    static const struct tdef expr[] = {
        { "arithmetic + - * / % ^", test_expr_arith },
        { "comparisons, and/or/not, if-expressions", test_expr_logic },
        { "if/else statements at compile time", test_expr_if_stmt },
        { "run-time conditions on a loop variable", test_expr_runtime_conditions },
        { "functions: named args, defaults, recursion", test_expr_functions },
        { "function defaults", test_expr_function_defaults },
        { "builtins", test_expr_builtins },
        { "arrays, indexing, comprehensions", test_expr_arrays },
        { "records and with", test_expr_records },
    };
    static const struct tdef import[] = {
        { "stdlib modules", test_import_stdlib },
        { "modules beside the sequence", test_import_local },
        { "missing module E0501, cycle E0502", test_import_errors },
    };
    static const struct tdef events[] = {
        { "rf: flip to amplitude, centre", test_event_hard_pulse_flip },
        { "rf errors, one rf per block E0609", test_event_rf_errors },
        { "trapezoids and arbitrary gradients", test_event_gradients },
        { "adc, trigger, labels", test_event_adc_trigger_labels },
        { "blocks, durations, delays, alignment", test_event_blocks },
    };
    static const struct tdef loops[] = {
        { "ncode independent of matrix", test_loops_stay_loops },
        { "GRE: RF spoiling, phase encode, labels per line", test_loops_gre_per_iteration },
        { "nested loops and label counters", test_loops_nested_and_labels },
    };
    static const struct tdef timing[] = {
        { "spin echo: te/2, te, tr exact on every repetition", test_timing_spin_echo },
        { "TE too short: E0620 with the true minimum", test_timing_min_te },
        { "TR too short: E0620", test_timing_tr_too_short },
        { "determinism", test_timing_determinism },
        { "bytecode round trip plays the same events", test_timing_bytecode_roundtrip },
    };
    return ADD("lang.numbers", numbers) || ADD("lang.params", params) ||
           ADD("lang.expr", expr) || ADD("lang.import", import) ||
           ADD("lang.events", events) || ADD("lang.loops", loops) ||
           ADD("lang.timing", timing) || ADD("lang.stdlib", stdlib);
}
