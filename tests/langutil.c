/*
 * langutil: the helpers the language suites share (see langutil.h): the
 * compiling and asserting wrappers, compile-time values read back as params,
 * and the collecting backend.
 */
#include "tests/langutil.h"

#include <CUnit/CUnit.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/compile.h"
#include "base/util.h"
#include "tests/testutil.h"

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

struct lbc_program *compile_at(const char *path, const char *src, const char *const *defs,
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

struct lbc_program *compile_d(const char *src, const char *const *defs, int nd,
                              struct diag_ctx *d)
{
    return compile_at("test.psq", src, defs, nd, d);
}

/* Index of the first diagnostic with this code, or -1. */
int find_code(const struct diag_ctx *d, int code)
{
    for (size_t i = 0; i < d->ndiags; i++)
        if (d->diags[i]->code == code)
            return (int)i;
    return -1;
}

/* Compile a program that must succeed; prints the diagnostics if not. */
struct lbc_program *compile_ok_d(const char *src, const char *const *defs, int nd)
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

struct lbc_program *compile_ok(const char *src)
{
    return compile_ok_d(src, NULL, 0);
}

/* Compile a program that must fail with the given code among its errors.
   Returns that diagnostic's index in *d (left initialised for the caller,
   who must diag_fini it), or -1. */
int compile_err_d(const char *src, const char *const *defs, int nd, int code,
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

void expect_err(const char *src, int code)
{
    struct diag_ctx d;
    compile_err_d(src, NULL, 0, code, &d);
    diag_fini(&d);
}

void expect_err_def(const char *src, const char *def, int code)
{
    struct diag_ctx d;
    const char *defs[1] = { def };
    compile_err_d(src, defs, 1, code, &d);
    diag_fini(&d);
}

const struct lbc_param *find_param(const struct lbc_program *p, const char *name)
{
    for (uint32_t i = 0; p && i < p->nparams; i++)
        if (!strcmp(lbc_str(p, p->params[i].name), name))
            return &p->params[i];
    return NULL;
}

/* Evaluate EXPR at compile time after PRELUDE (top-level statements), as a
   param; the param's record is copied to *out. */
bool eval_param(const char *prelude, const char *expr, struct lbc_param *out)
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
double numv(const char *prelude, const char *expr)
{
    struct lbc_param v;
    if (!eval_param(prelude, expr, &v))
        return NAN;
    CU_ASSERT_EQUAL(v.kind, PARAM_NUM);
    return v.kind == PARAM_NUM ? v.f : NAN;
}

/* A time computed at compile time, ns; INT64_MIN if not a time. */
int64_t timev(const char *prelude, const char *expr)
{
    struct lbc_param v;
    if (!eval_param(prelude, expr, &v))
        return INT64_MIN;
    CU_ASSERT_EQUAL(v.kind, PARAM_TIME);
    CU_ASSERT(v.dim[0] == 1 && v.dim[1] == 0 && v.dim[2] == 0);
    return v.kind == PARAM_TIME ? v.t : INT64_MIN;
}

/* The dimension of a compile-time value. */
struct dim dimv(const char *prelude, const char *expr)
{
    struct lbc_param v;
    if (!eval_param(prelude, expr, &v))
        return (struct dim){ 99, 99, 99 };
    return (struct dim){ v.dim[0], v.dim[1], v.dim[2] };
}

/* ---- a collecting backend ---- */

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
int run_log(const struct lbc_program *p, struct evlog *L)
{
    memset(L, 0, sizeof *L);
    struct vm_backend be = { .ctx = L, .block_end = log_block_end, .end = log_end };
    struct vm_opts vo = { log_error, L, 0 };
    int64_t total = -1;
    int rc = vm_run(p, &be, &vo, &total);
    CU_ASSERT_EQUAL(total, L->total);
    return rc;
}

void evlog_free(struct evlog *L)
{
    free(L->v);
    memset(L, 0, sizeof *L);
}

/* The k-th (0-based) non-delay block, or NULL. */
const struct ev *blk(const struct evlog *L, size_t k)
{
    for (size_t i = 0; i < L->n; i++)
        if (!L->v[i].is_delay && k-- == 0)
            return &L->v[i];
    return NULL;
}

size_t nblocks(const struct evlog *L)
{
    size_t n = 0;
    for (size_t i = 0; i < L->n; i++)
        n += !L->v[i].is_delay;
    return n;
}

/* Compile src (must succeed) and run it with no VM error. */
struct lbc_program *compile_run(const char *src, struct evlog *L)
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
uint32_t offset_of(const char *hay, const char *needle, int nth)
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


struct lbc_program *compile_file_defs(const char *name, const char *const *defs, int nd,
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

struct lbc_program *compile_file_ok(const char *name, const char *const *defs, int nd)
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

void expect_nums(const char *prelude, const struct num_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double v = numv(prelude, c[i].expr);
        CU_ASSERT_EQUAL(v, c[i].want);
        if (v != c[i].want)
            fprintf(stderr, "\n--- %s: %.17g, want %.17g\n", c[i].expr, v, c[i].want);
    }
}

void expect_times(const char *prelude, const struct time_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t v = timev(prelude, c[i].expr);
        CU_ASSERT_EQUAL(v, c[i].want);
        if (v != c[i].want)
            fprintf(stderr, "\n--- %s: %lld ns, want %lld ns\n", c[i].expr, (long long)v,
                    (long long)c[i].want);
    }
}

void expect_nears(const char *prelude, const struct near_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double v = numv(prelude, c[i].expr);
        CU_ASSERT_DOUBLE_EQUAL(v, c[i].want, c[i].tol);
        if (!(fabs(v - c[i].want) <= fabs(c[i].tol)))
            fprintf(stderr, "\n--- %s: %.17g, want %.17g +- %g\n", c[i].expr, v, c[i].want,
                    c[i].tol);
    }
}

void expect_errs(const struct err_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        expect_err(c[i].src, c[i].code);
}
