/*
 * test_lang: CUnit suites for the values of the sequence language, end to
 * end through compile_text():
 *
 *   lang.numbers  numbers with units, unit errors and their spans, exact
 *                 integer-ns time arithmetic, the polymorphic plain 0
 *   lang.params   defaults, ranges, -D overrides, the program's param table
 *   lang.expr     let, operators, conditions, functions, builtins, arrays,
 *                 comprehensions, records and `with`
 *
 * Values computed at compile time are read back from the program's param
 * table (`param v__ = EXPR`, tests/langutil.c); stdlib comes from
 * $top_srcdir/stdlib when top_srcdir is set. The programs the language
 * builds are tested in test_lang_events.c and test_lang_timing.c.
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
#include "tests/langutil.h"
#include "tests/testutil.h"
#include "base/units.h"
#include "base/util.h"
#include "vm/program.h"
#include "vm/vm.h"

int register_lang_tests(void);

/* =================================================================== */
/* lang.numbers                                                         */

static void test_num_time_literals(void)
{
    const struct time_case times[] = {
        { "20 ms", 20000000 },
        { "20ms", 20000000 },
        { "1.5 us", 1500 },
        { "2 s", 2000000000 },
        { "100 ns", 100 },
        { "2.5e-3 s", 2500000 },
        { "0.000000001 s", 1 },
    };
    EXPECT_TIMES("", times);
    /* quantities are SI */
    const struct near_case nears[] = {
        { "40 mT/m", 0.04, 1e-15 },
        { "150 T/m/s", 150, 1e-12 },
        { "2 mT/m/ms", 2, 1e-12 },
        { "90 deg", PI / 2, 1e-15 },
        { "5 mm", 5e-3, 1e-18 },
        { "1.5 kHz", 1500, 1e-9 },
        { "12 uT", 12e-6, 1e-20 },
    };
    EXPECT_NEARS("", nears);
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
    const struct err_case errs[] = {
        { "let x = 1 + 20 ms\nsequence { }\n", 301 },
        { "let x = 20 ms - 1 mm\nsequence { }\n", 301 },
        { "let x = 1 ms < 1 mT\nsequence { }\n", 301 },
        { "let x = 5 ms % 2 mm\nsequence { }\n", 301 },
        { "let x = 2 ^ (1 ms)\nsequence { }\n", 304 },
    };
    EXPECT_ERRS(errs);
}

static void test_num_exact_time(void)
{
    CU_ASSERT_EQUAL(timev("param te = 20 ms", "te / 2"), 10000000);
    CU_ASSERT_EQUAL(timev("param te = 8.82 ms", "te / 2"), 4410000);
    CU_ASSERT_EQUAL(timev("param te = 3 ns", "te / 2 + te / 2"), 4);   /* 1.5 -> 2, twice */
    const struct time_case times[] = {
        { "1 ms + 1 ns", 1000001 },
        { "10 s - 1 ns", 9999999999LL },
        { "10 ms % 3 ms", 1000000 },
        { "-10 ms % 3 ms", 2000000 },
        /* the sum of many small times stays exact (no floating accumulation) */
        { "sum([0.1 ms for i in 0 .. 1000])", 100000000 },
        { "sum([1 ns for i in 0 .. 1000])", 1000 },
        /* time * number and time / number round to the nearest ns */
        { "1 ms / 3", 333333 },
        { "2 ms / 3", 666667 },
        { "7 ns * 0.3", 2 },
        { "7 ns * 0.5", 4 },
        { "0.3 * 10 ns", 3 },
        { "3 * 20 ms", 60000000 },
        { "1 / 1 kHz", 1000000 },
        { "256 * 10 us", 2560000 },
    };
    EXPECT_TIMES("", times);
    /* time / time is a plain number, time * frequency too */
    CU_ASSERT_DOUBLE_EQUAL(numv("", "3 ms / 2 ms"), 1.5, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "2 ms * 1 kHz"), 2, 1e-12);
    CU_ASSERT_TRUE(dim_eq(dimv("", "40 mT/m * 1 ms"), ((struct dim){ 1, -1, 1 })));
    CU_ASSERT_TRUE(dim_eq(dimv("", "40 mT/m / 200 us"), DIM_SLEW));
}

static void test_num_zero_polymorphic(void)
{
    const struct time_case times[] = {
        { "20 ms + 0", 20000000 },
        { "0 + 20 ms", 20000000 },
        { "0 - 3 ms", -3000000 },
        { "max(0 s, 2 ms - 0)", 2000000 },
    };
    EXPECT_TIMES("", times);
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
    const struct err_case errs[] = {
        { "param s = \"text\"\nsequence { }\n", 404 },
        { "param r = 5 ms in 1 mm .. 2 mm\nsequence { }\n", 405 },
        { "param r = 5 ms in 10 ms .. 2 ms\nsequence { }\n", 405 },
    };
    EXPECT_ERRS(errs);
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
    const struct num_case nums[] = {
        { "7 + 3 * 2", 13 },
        { "(7 + 3) * 2", 20 },
        { "7 - 10", -3 },
        { "7 / 2", 3.5 },
        { "7 % 3", 1 },
    };
    EXPECT_NUMS("", nums);
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
    const struct err_case errs[] = {
        { "let x = 1 / 0\nsequence { }\n", 305 },
        { "let x = 5 % 0\nsequence { }\n", 305 },
        { "let x = 1 ms / 0\nsequence { }\n", 305 },
        { "let x = (2 mm) ^ 0.5\nsequence { }\n", 304 },
        { "let x = \"a\" * 2\nsequence { }\n", 302 },
    };
    EXPECT_ERRS(errs);
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
    const struct num_case nums[] = {
        { "if 1 < 2 then 1 else 0", 1 },
        { "if 2 < 2 then 1 else 0", 0 },
        { "if 2 <= 2 then 1 else 0", 1 },
        { "if 3 > 2 then 1 else 0", 1 },
        { "if 2 >= 3 then 1 else 0", 0 },
        { "if 2 == 2 then 1 else 0", 1 },
        { "if 2 != 2 then 1 else 0", 0 },
        { "if 20 ms == 20000 us then 1 else 0", 1 },
        { "if 1 ms < 999 us then 1 else 0", 0 },
        { "if \"ab\" == \"ab\" then 1 else 0", 1 },
        { "if \"ab\" != \"ab\" then 1 else 0", 0 },
        { "if true and false then 1 else 0", 0 },
        { "if true and true then 1 else 0", 1 },
        { "if false or true then 1 else 0", 1 },
        { "if false or false then 1 else 0", 0 },
        { "if not false then 1 else 0", 1 },
        { "if not 1 < 2 then 1 else 0", 0 },
        /* precedence: not > and > or; comparisons bind tighter than and */
        { "if true or false and false then 1 else 0", 1 },
        { "if 1 < 2 and 3 < 4 then 1 else 0", 1 },
        { "if true == false then 1 else 0", 0 },
        /* short circuit at compile time: the right side is not evaluated */
        { "if false and 1 / 0 > 0 then 1 else 0", 0 },
        { "if true or 1 / 0 > 0 then 1 else 0", 1 },
        /* the branch not taken is not evaluated either */
        { "if true then 5 else 1 / 0", 5 },
    };
    EXPECT_NUMS("", nums);
    CU_ASSERT_EQUAL(timev("", "if 1 > 2 then 1 ms else 2 ms"), 2 * MS);
    /* nested if-expressions */
    CU_ASSERT_EQUAL(numv("let x = 5", "if x < 3 then 1 else if x < 6 then 2 else 3"), 2);
    const struct err_case errs[] = {
        { "let x = if 1 then 2 else 3\nsequence { }\n", 303 },
        { "let x = 1 and true\nsequence { }\n", 303 },
        { "let x = not 3\nsequence { }\n", 303 },
    };
    EXPECT_ERRS(errs);
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
    const struct num_case nums[] = {
        { "pick(1)", 1 },
        { "pick(3)", 2 },
        { "pick(5.9)", 2 },
        { "pick(6)", 3 },
        { "only_then(2)", 12 },
        { "only_then(-2)", 10 },
        { "chk(5)", 5 },
    };
    EXPECT_NUMS(pre, nums);
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
    const struct num_case nums[] = {
        { "f(1)", 12 },
        { "f(1, 3)", 13 },
        { "f(b = 5, a = 2)", 25 },
        { "f(4, b = 0)", 40 },
        { "g(3)", 6 },
        { "g(1)", -1 },
        { "fact(10)", 3628800 },
        { "s(90)", 4095 },
        { "curry(7)", 24 },
    };
    EXPECT_NUMS(fn_prelude, nums);
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
    const struct err_case errs[] = {
        { "fn forever(n) = forever(n + 1)\nlet v = forever(0)\nsequence { }\n", 212 },
        { "fn a(n) = b(n)\nfn b(n) = a(n)\nlet v = a(0)\nsequence { }\n", 212 },
        /* calling what is not a function */
        { "let x = 3\nlet y = x(1)\nsequence { }\n", 206 },
        { "let y = undefined_fn(1)\nsequence { }\n", 201 },
    };
    EXPECT_ERRS(errs);
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
    const struct near_case nears[] = {
        { "sin(pi / 2)", 1, 1e-15 },
        { "sin(30 deg)", 0.5, 1e-15 },
        { "cos(0)", 1, 0 },
        { "cos(pi)", -1, 1e-15 },
    };
    EXPECT_NEARS("", nears);
    CU_ASSERT_EQUAL(numv("", "sqrt(16)"), 4);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "sqrt((3 mm) ^ 2 + (4 mm) ^ 2)"), 5e-3, 1e-17);
    CU_ASSERT_TRUE(dim_eq(dimv("", "sqrt((3 mm) ^ 2)"), DIM_LENGTH));
    CU_ASSERT_EQUAL(numv("", "exp(0)"), 1);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "exp(1)"), exp(1.0), 1e-15);
    CU_ASSERT_EQUAL(numv("", "abs(-3.5)"), 3.5);
    CU_ASSERT_EQUAL(timev("", "abs(-3 ms)"), 3 * MS);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "abs(-4 mT/m)"), 4e-3, 1e-18);
    const struct num_case nums[] = {
        { "min(3, 1, 2)", 1 },
        { "max(3, 1, 2)", 3 },
        { "min([4, -2, 9])", -2 },
        { "max([4, -2, 9])", 9 },
    };
    EXPECT_NUMS("", nums);
    CU_ASSERT_EQUAL(timev("", "max(1 ms, 500 us)"), 1 * MS);
    CU_ASSERT_EQUAL(timev("", "min(1 ms, 500 us)"), 500 * US);
    const struct num_case nums2[] = {
        { "floor(2.7)", 2 },
        { "floor(-2.5)", -3 },
        { "ceil(2.1)", 3 },
        { "ceil(-2.1)", -2 },
        { "round(2.5)", 3 },
        { "round(2.4)", 2 },
        { "round(-2.5)", -3 },
        { "sinc(0)", 1 },
    };
    EXPECT_NUMS("", nums2);
    const struct near_case nears2[] = {
        { "sinc(0.5)", 2 / PI, 1e-15 },
        { "sinc(1)", 0, 1e-15 },
        { "pi", PI, 0 },
        { "2 * pi", 2 * PI, 0 },
    };
    EXPECT_NEARS("", nears2);
    const struct time_case times[] = {
        { "ceil_to(23 us, 10 us)", 30 * US },
        { "ceil_to(20 us, 10 us)", 20 * US },
        { "floor_to(29 us, 10 us)", 20 * US },
        { "round_to(25 us, 10 us)", 30 * US },
        { "round_to(24 us, 10 us)", 20 * US },
        { "ceil_to(1 ns, 10 us)", 10 * US },
        { "floor_to(-1 ns, 10 us)", -10 * US },
    };
    EXPECT_TIMES("", times);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "ceil_to(0.3 mm, 0.1 mm)"), 0.3e-3, 1e-18);
    CU_ASSERT_DOUBLE_EQUAL(numv("", "floor_to(7.5, 2)"), 6, 0);
    const struct num_case nums3[] = {
        { "len([1, 2, 3])", 3 },
        { "len([])", 0 },
        { "sum([1, 2, 3.5])", 6.5 },
    };
    EXPECT_NUMS("", nums3);
    CU_ASSERT_EQUAL(timev("", "sum([1 ms, 2 ms, 3 us])"), 3003 * US);
    CU_ASSERT_EQUAL(numv("", "sum([])"), 0);
    /* wrong units, wrong counts */
    const struct err_case errs[] = {
        { "let x = sin(1 ms)\nsequence { }\n", 312 },
        { "let x = floor(1.5 ms)\nsequence { }\n", 312 },
        { "let x = sqrt(2 mm)\nsequence { }\n", 312 },
        { "let x = sin(1, 2)\nsequence { }\n", 209 },
        { "let x = atan2(1)\nsequence { }\n", 213 },
        { "let x = sin(x = 1)\nsequence { }\n", 210 },
        { "let x = max(1 ms, 2 mm)\nsequence { }\n", 301 },
        { "let x = ceil_to(1 ms, 0 s)\nsequence { }\n", 314 },
        { "let x = ceil_to(1 ms, 1 mm)\nsequence { }\n", 301 },
        { "let x = sum([1 ms, 1 mm])\nsequence { }\n", 301 },
        { "let x = len(3)\nsequence { }\n", 312 },
        { "let x = min()\nsequence { }\n", 313 },
    };
    EXPECT_ERRS(errs);
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
    const struct num_case nums[] = {
        { "a[0]", 10 },
        { "a[2]", 30 },
        { "a[1 + 1] - a[0]", 20 },
    };
    EXPECT_NUMS(pre, nums);
    CU_ASSERT_EQUAL(timev(pre, "t[1]"), 2 * MS);
    const struct num_case nums2[] = {
        { "len(sq)", 5 },
        { "sq[4]", 16 },
        { "sum(sq)", 30 },
        { "nested[1][0]", 3 },
        { "len([x * 2 for x in 3 .. 3])", 0 },
        { "sum([x for x in -2 .. 3])", 0 },
    };
    EXPECT_NUMS(pre, nums2);
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
    const struct err_case errs[] = {
        { "let a = [10, 20, 30]\nlet x = a[-1]\nsequence { }\n", 205 },
        { "let a = [10, 20, 30]\nlet x = a[0.5]\nsequence { }\n", 205 },
        { "let a = [10, 20, 30]\nlet x = a[1 ms]\nsequence { }\n", 206 },
        { "let a = 5\nlet x = a[0]\nsequence { }\n", 206 },
        { "param n = 3\nlet x = [i for i in 0 .. n + 0.5]\nsequence { }\n", 308 },
    };
    EXPECT_ERRS(errs);
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
    const struct num_case nums[] = {
        { "nest.inner.v", 7 },
        { "(nest with { inner: nest.inner with { v: 8 } }).inner.v", 8 },
        { "(r with { a: r.a + 1 } with { a: 10 }).a", 10 },
    };
    EXPECT_NUMS(pre, nums);
    struct diag_ctx d;
    int i = compile_err_d("let r = { a: 1, b: 2 }\nlet x = r.c\nsequence { }\n", NULL, 0, 203,
                          &d);
    if (i >= 0 && d.diags[i]->help)
        CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->help, "a, b"));
    diag_fini(&d);
    const struct err_case errs[] = {
        { "let r = { a: 1, a: 2 }\nsequence { }\n", 207 },
        { "let r = 5 with { a: 1 }\nsequence { }\n", 208 },
        { "let x = 5\nlet y = x.a\nsequence { }\n", 203 },
    };
    EXPECT_ERRS(errs);
}

/* =================================================================== */

int register_lang_tests(void)
{
    static const struct test_def numbers[] = {
        { "time literals held as integer ns; quantities in SI", test_num_time_literals },
        { "unknown unit E0103, sub-ns time E0104", test_num_unknown_unit },
        { "ms + mT/m is E0301 spanning the whole expression", test_num_add_mismatch },
        { "exact time arithmetic and ns rounding", test_num_exact_time },
        { "plain 0 is dimension-polymorphic", test_num_zero_polymorphic },
    };
    static const struct test_def params[] = {
        { "defaults in the param table", test_param_defaults },
        { "-D overrides", test_param_overrides },
        { "E0401 E0402 E0403 and friends", test_param_errors },
        { "a bad param does not cascade", test_param_error_no_cascade },
    };
    static const struct test_def expr[] = {
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
    return TEST_ADD_SUITE("lang.numbers", numbers) ||
           TEST_ADD_SUITE("lang.params", params) ||
           TEST_ADD_SUITE("lang.expr", expr);
}
