/*
 * eval: expression evaluation with dimensional checking. A partial
 * evaluator: constants are folded at compile time; anything that depends on
 * a run-time value (a loop variable, a block time) is lowered to register
 * instructions. Times are integer nanoseconds; sums and differences of
 * times are exact, other results with the dimension of time are rounded to
 * the nearest nanosecond.
 */
#include "compiler/internal.h"
#include "base/membudget.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

bool cg_work(struct cg *c, uint64_t n, struct span sp)
{
    if (c->over_work)
        return false;
    if (c->mem_cap && c->arena->bytes > c->mem_cap) {
        c->over_work = true;
        char cap[32], why[128];
        mem_fmt(c->mem_cap, cap, sizeof cap);
        mem_budget(why, sizeof why);
        struct diag *g = diag_error(c->diag, 315, sp, "evaluating this sequence (its values, "
                                    "calls and arrays) has taken more than the memory budget "
                                    "of %s (%s)", cap, why);
        diag_help(g, "if the sequence is right and the machine has the memory, raise the "
                  "budget: " MEM_BUDGET_RAISE);
        diag_note(g, SPAN_NONE, "an evaluation keeps its values until the compilation "
                  "ends: look for a very large array, or a function that calls itself "
                  "more than once per step (f(n) calling f(n - 1) twice is 2^n calls)");
        return false;
    }
    uint64_t max = c->opts ? c->opts->max_work : 0;
    if (!max)
        return true;
    c->work += n;
    if (c->work <= max)
        return true;
    DIAG(c, 315, sp, "this compilation needs more than %llu steps of work, its limit",
         (unsigned long long)max);
    c->over_work = true;
    return false;
}

void cg_release(struct cg *c)
{
    if (c->sink) {
        diag_fini(c->sink);
        free(c->sink);
        c->sink = NULL;
    }
}

struct diag_ctx *cg_diag(struct cg *c)
{
    c->work += CG_DIAG_WORK;   /* the next cg_work() sees it */
    if (!c->over_work)
        return c->diag;
    /* past the work or memory limit every evaluation unwinds with no
       value; what it would report then (an rf with no shape, ...) only
       follows from the E0315 and is not shown */
    if (!c->sink) {
        c->sink = xmalloc(sizeof *c->sink);
        diag_init(c->sink);
    }
    return c->sink;
}

int32_t cg_newreg(struct cg *c)
{
    return (int32_t)c->prog->nregs++;
}

struct lbc_span cg_span(struct cg *c, struct span sp)
{
    struct lbc_span s = { -1, 0, 0, sp.start, sp.end };
    const struct src_file *f = diag_file(c->diag, sp.file);
    if (f) {
        int line, col;
        s.file = lbc_add_string(c->prog, f->path);
        diag_linecol(c->diag, sp.file, sp.start, &line, &col);
        s.line = (uint32_t)line;
        s.col = (uint32_t)col;
    }
    return s;
}

uint32_t cg_emit(struct cg *c, enum lbc_op op, int32_t a, int32_t b, int32_t c_, struct span sp)
{
    struct lbc_span s = cg_span(c, sp);
    return lbc_emit(c->prog, op, a, b, c_, &s);
}

int32_t cg_to_reg(struct cg *c, const struct value *v, struct span sp)
{
    if (v->reg >= 0)
        return v->reg;
    int32_t r = cg_newreg(c);
    if (v->k == V_TIME)
        cg_emit(c, OP_LOADT, r, lbc_add_time(c->prog, v->u.t), 0, sp);
    else
        cg_emit(c, OP_LOADF, r, lbc_add_num(c->prog, v->u.f), 0, sp);
    return r;
}

/* A register holding v as an F value (seconds for times). */
int32_t ev_to_freg(struct cg *c, const struct value *v, struct span sp)
{
    if (v->k == V_TIME) {
        if (v->reg < 0) {
            struct value f = v_num((double)v->u.t * 1e-9, DIM_TIME);
            return cg_to_reg(c, &f, sp);
        }
        int32_t r = cg_newreg(c);
        cg_emit(c, OP_T2F, r, v->reg, 0, sp);
        return r;
    }
    return cg_to_reg(c, v, sp);
}

/* A run-time value of dimension d computed in F register r. */
struct value ev_from_freg(struct cg *c, int32_t r, struct dim d, struct span sp)
{
    struct value v = v_num(0, d);
    if (dim_is_time(d)) {
        v = v_time(0);
        v.reg = cg_newreg(c);
        cg_emit(c, OP_F2T, v.reg, r, 0, sp);
        return v;
    }
    v.reg = r;
    return v;
}

struct value ev_num_result(struct cg *c, double si, struct dim d, struct span sp)
{
    if (!isfinite(si)) {
        DIAG(c, 307, sp, "the result is not a finite number");
        return v_none();
    }
    if (dim_is_time(d)) {
        double ns = si * 1e9;
        if (fabs(ns) > 9.0e18) {
            DIAG(c, 307, sp, "time %g s is out of range", si);
            return v_none();
        }
        return v_time(llrint(ns));
    }
    return v_num(si, d);
}

bool ev_is_numeric(const struct value *v)
{
    return v->k == V_NUM || v->k == V_TIME;
}

static bool is_zero_const(const struct value *v)
{
    return v->k == V_NUM && v->reg < 0 && v->u.f == 0 && dim_is_none(v->dim);
}

struct diag *ev_dim_mismatch(struct cg *c, struct span sp, const char *verb,
                             const struct value *a, struct span sa,
                             const struct value *b, struct span sb)
{
    char da[96], db[96];
    dim_describe(a->dim, da, sizeof da);
    dim_describe(b->dim, db, sizeof db);
    struct diag *g = DIAG(c, 301, sp, "cannot %s %s and %s", verb, da, db);
    diag_note(g, sa, "this is %s", da);
    diag_note(g, sb, "this is %s", db);
    return g;
}

bool ev_need_numeric(struct cg *c, const struct value *v, struct span sp, const char *op)
{
    if (ev_is_numeric(v))
        return true;
    if (v->k != V_NONE)
        DIAG(c, 302, sp, "operator '%s' needs a number, not %s", op, v_kind_name(v));
    return false;
}

static bool need_bool(struct cg *c, const struct value *v, struct span sp, const char *what)
{
    if (v->k == V_BOOL)
        return true;
    if (v->k != V_NONE)
        DIAG(c, 303, sp, "'%s' needs true or false, not %s", what, v_kind_name(v));
    return false;
}

static struct value rt_bool(int32_t r)
{
    struct value v = v_bool(false);
    v.reg = r;
    return v;
}

static struct value compare(struct cg *c, int op, struct value a, struct value b,
                            struct node *n)
{
    const char *on = ast_op_name(op);
    if ((op == OPR_EQ || op == OPR_NE) && a.k == V_STR && b.k == V_STR) {
        bool eq = strcmp(a.u.s, b.u.s) == 0;
        return v_bool(op == OPR_EQ ? eq : !eq);
    }
    if ((op == OPR_EQ || op == OPR_NE) && a.k == V_BOOL && b.k == V_BOOL) {
        if (a.reg < 0 && b.reg < 0) {
            bool eq = a.u.f == b.u.f;
            return v_bool(op == OPR_EQ ? eq : !eq);
        }
    } else {
        if (!ev_need_numeric(c, &a, n->a->span, on) || !ev_need_numeric(c, &b, n->b->span, on))
            return v_none();
        if (!dim_eq(a.dim, b.dim) && !is_zero_const(&a) && !is_zero_const(&b)) {
            ev_dim_mismatch(c, n->span, "compare", &a, n->a->span, &b, n->b->span);
            return v_none();
        }
    }
    if (a.reg < 0 && b.reg < 0) {
        bool r;
        if (a.k == V_TIME && b.k == V_TIME) {
            int64_t x = a.u.t, y = b.u.t;
            r = op == OPR_EQ ? x == y : op == OPR_NE ? x != y : op == OPR_LT ? x < y :
                op == OPR_LE ? x <= y : op == OPR_GT ? x > y : x >= y;
        } else {
            double x = v_si(&a), y = v_si(&b);
            r = op == OPR_EQ ? x == y : op == OPR_NE ? x != y : op == OPR_LT ? x < y :
                op == OPR_LE ? x <= y : op == OPR_GT ? x > y : x >= y;
        }
        return v_bool(r);
    }
    bool times = a.k == V_TIME && b.k == V_TIME;
    int32_t ra, rb;
    if (times) {
        ra = cg_to_reg(c, &a, n->a->span);
        rb = cg_to_reg(c, &b, n->b->span);
    } else {
        ra = ev_to_freg(c, &a, n->a->span);
        rb = ev_to_freg(c, &b, n->b->span);
    }
    enum lbc_op o;
    bool swap = false;
    switch (op) {
    case OPR_EQ: o = times ? OP_EQT : OP_EQF; break;
    case OPR_NE: o = times ? OP_NET : OP_NEF; break;
    case OPR_LT: o = times ? OP_LTT : OP_LTF; break;
    case OPR_LE: o = times ? OP_LET : OP_LEF; break;
    case OPR_GT: o = times ? OP_LTT : OP_LTF; swap = true; break;
    default: o = times ? OP_LET : OP_LEF; swap = true; break;
    }
    int32_t r = cg_newreg(c);
    cg_emit(c, o, r, swap ? rb : ra, swap ? ra : rb, n->span);
    return rt_bool(r);
}

static struct value logic(struct cg *c, struct env *e, struct node *n)
{
    const char *on = ast_op_name(n->op);
    struct value a = eval(c, e, n->a);
    if (!need_bool(c, &a, n->a->span, on))
        return v_none();
    if (a.reg < 0) {
        bool av = a.u.f != 0;
        if (n->op == OPR_AND && !av)
            return v_bool(false);
        if (n->op == OPR_OR && av)
            return v_bool(true);
        struct value b = eval(c, e, n->b);
        if (!need_bool(c, &b, n->b->span, on))
            return v_none();
        return b;
    }
    struct value b = eval(c, e, n->b);
    if (!need_bool(c, &b, n->b->span, on))
        return v_none();
    if (b.reg < 0) {
        bool bv = b.u.f != 0;
        if (n->op == OPR_AND)
            return bv ? a : v_bool(false);
        return bv ? v_bool(true) : a;
    }
    int32_t r = cg_newreg(c);
    cg_emit(c, n->op == OPR_AND ? OP_AND : OP_OR, r, a.reg, b.reg, n->span);
    return rt_bool(r);
}

struct value ev_arith(struct cg *c, int op, struct value a, struct value b,
                      struct node *n, struct span sa, struct span sb)
{
    const char *on = ast_op_name(op);
    if (op == OPR_ADD && a.k == V_STR && b.k == V_STR) {
        if (!cg_work(c, strlen(a.u.s) + strlen(b.u.s), n->span))
            return v_none();
        char *s = arena_alloc(c->arena, strlen(a.u.s) + strlen(b.u.s) + 1);
        strcpy(s, a.u.s);
        strcat(s, b.u.s);
        struct value v = v_none();
        v.k = V_STR;
        v.u.s = s;
        return v;
    }
    if (!ev_need_numeric(c, &a, sa, on) || !ev_need_numeric(c, &b, sb, on))
        return v_none();
    struct dim d;
    bool ok = true;
    switch (op) {
    case OPR_ADD:
    case OPR_SUB:
    case OPR_MOD:
        if (is_zero_const(&b) && op != OPR_MOD)
            return a;
        if (is_zero_const(&a) && op == OPR_ADD)
            return b;
        if (!dim_eq(a.dim, b.dim) && !(is_zero_const(&a) && op == OPR_SUB)) {
            ev_dim_mismatch(c, n->span, op == OPR_ADD ? "add" : op == OPR_SUB ? "subtract" :
                            "take the remainder of", &a, sa, &b, sb);
            return v_none();
        }
        d = is_zero_const(&a) ? b.dim : a.dim;
        break;
    case OPR_MUL: d = dim_mul(a.dim, b.dim); break;
    case OPR_DIV: d = dim_div(a.dim, b.dim); break;
    default: /* POW */
        if (!dim_is_none(b.dim)) {
            char db[96];
            dim_describe(b.dim, db, sizeof db);
            DIAG(c, 304, sb, "an exponent must be a plain number, not %s", db);
            return v_none();
        }
        if (dim_is_none(a.dim)) {
            d = DIM_NONE;
        } else {
            if (b.reg >= 0 || b.u.f != floor(b.u.f) || fabs(b.u.f) > 60) {
                DIAG(c, 304, sb, "a quantity with a unit can only be raised to a constant "
                     "whole power");
                return v_none();
            }
            d = dim_pow(a.dim, (int)b.u.f, &ok);
            if (!ok) {
                DIAG(c, 304, n->span, "the unit of this power is out of range");
                return v_none();
            }
        }
        break;
    }
    if (a.reg < 0 && b.reg < 0) {
        /* exact integer paths for times */
        if (a.k == V_TIME && b.k == V_TIME && (op == OPR_ADD || op == OPR_SUB)) {
            int64_t r;
            if (op == OPR_ADD ? __builtin_add_overflow(a.u.t, b.u.t, &r)
                              : __builtin_sub_overflow(a.u.t, b.u.t, &r)) {
                DIAG(c, 307, n->span, "time overflow");
                return v_none();
            }
            return v_time(r);
        }
        if (a.k == V_TIME && b.k == V_TIME && op == OPR_MOD) {
            if (b.u.t == 0) {
                DIAG(c, 305, sb, "division by zero");
                return v_none();
            }
            int64_t r = b.u.t == -1 ? 0 : a.u.t % b.u.t;   /* INT64_MIN % -1 traps */
            if (r != 0 && ((r < 0) != (b.u.t < 0)))
                r += b.u.t;
            return v_time(r);
        }
        if (a.k == V_TIME && b.k == V_TIME && op == OPR_DIV) {
            if (b.u.t == 0) {
                DIAG(c, 305, sb, "division by zero");
                return v_none();
            }
            return v_num((double)a.u.t / (double)b.u.t, DIM_NONE);
        }
        if (dim_is_time(d) && (op == OPR_MUL || op == OPR_DIV)) {
            const struct value *tv = a.k == V_TIME ? &a : &b;
            const struct value *fv = a.k == V_TIME ? &b : &a;
            if (tv->k == V_TIME && dim_is_none(fv->dim)) {
                double r;
                if (op == OPR_MUL)
                    r = (double)tv->u.t * fv->u.f;
                else if (tv == &a) {
                    if (fv->u.f == 0) {
                        DIAG(c, 305, sb, "division by zero");
                        return v_none();
                    }
                    r = (double)tv->u.t / fv->u.f;
                } else
                    goto general;
                if (!isfinite(r) || fabs(r) > 9.0e18) {
                    DIAG(c, 307, n->span, "this time is out of range (at most 9e9 s)");
                    return v_none();
                }
                return v_time(llrint(r));
            }
        }
    general:;
        double x = v_si(&a), y = v_si(&b), r;
        switch (op) {
        case OPR_ADD: r = x + y; break;
        case OPR_SUB: r = x - y; break;
        case OPR_MUL: r = x * y; break;
        case OPR_DIV:
            if (y == 0) {
                DIAG(c, 305, sb, "division by zero");
                return v_none();
            }
            r = x / y;
            break;
        case OPR_MOD:
            if (y == 0) {
                DIAG(c, 305, sb, "division by zero");
                return v_none();
            }
            r = fmod(x, y);
            if (r != 0 && ((r < 0) != (y < 0)))
                r += y;
            break;
        default: r = pow(x, y); break;
        }
        return ev_num_result(c, r, d, n->span);
    }
    /* run time */
    if (a.k == V_TIME && b.k == V_TIME && (op == OPR_ADD || op == OPR_SUB)) {
        struct value v = v_time(0);
        v.reg = cg_newreg(c);
        int32_t ra = cg_to_reg(c, &a, sa), rb = cg_to_reg(c, &b, sb);
        cg_emit(c, op == OPR_ADD ? OP_ADDT : OP_SUBT, v.reg, ra, rb, n->span);
        return v;
    }
    int32_t ra = ev_to_freg(c, &a, sa), rb = ev_to_freg(c, &b, sb);
    int32_t r = cg_newreg(c);
    enum lbc_op o = op == OPR_ADD ? OP_ADDF : op == OPR_SUB ? OP_SUBF : op == OPR_MUL ? OP_MULF :
                    op == OPR_DIV ? OP_DIVF : op == OPR_MOD ? OP_MODF : OP_POWF;
    cg_emit(c, o, r, ra, rb, n->span);
    return ev_from_freg(c, r, d, n->span);
}

static struct value negate(struct cg *c, struct value a, struct node *n)
{
    if (!ev_need_numeric(c, &a, n->a->span, "-"))
        return v_none();
    if (a.reg < 0) {
        if (a.k == V_TIME) {
            if (a.u.t == INT64_MIN) {
                DIAG(c, 307, n->span, "time overflow");
                return v_none();
            }
            return v_time(-a.u.t);
        }
        return v_num(-a.u.f, a.dim);
    }
    struct value v = a;
    v.reg = cg_newreg(c);
    cg_emit(c, a.k == V_TIME ? OP_NEGT : OP_NEGF, v.reg, a.reg, 0, n->span);
    return v;
}

/* A known name close to `name`, for "did you mean". Only for the first
   errors of a compilation: the scan is costly, and a failing function
   called many times would repeat it for every call. */
static const char *suggest_env(struct cg *c, struct env *e, const char *name)
{
    if (c->diag->nerrors > 20)
        return NULL;
    const char *best = NULL;
    int bd = 3;
    for (; e; e = e->parent)
        for (uint32_t i = 0; i < e->nb; i++)
            for (struct binding *b = e->tab[i]; b; b = b->next) {
                int dd = (int)str_distance(name, b->name, false);
                if (dd < bd && dd < (int)strlen(name)) {
                    bd = dd;
                    best = b->name;
                }
            }
    return best;
}

void ev_unknown_name(struct cg *c, struct env *e, struct node *n)
{
    struct diag *g = DIAG(c, 201, n->span, "unknown name '%s'", n->name);
    const char *s = suggest_env(c, e, n->name);
    if (s)
        diag_help(g, "did you mean '%s'?", s);
}

static struct value eval_ident(struct cg *c, struct env *e, struct node *n)
{
    struct binding *b = env_lookup(e, n->name);
    if (!b) {
        ev_unknown_name(c, e, n);
        return v_none();
    }
    return b->v;
}

static struct value block_field(struct cg *c, struct blockref *br, struct node *n)
{
    int32_t r = -1;
    if (strcmp(n->name, "start") == 0)
        r = br->r_start;
    else if (strcmp(n->name, "end") == 0)
        r = br->r_end;
    else if (strcmp(n->name, "rf") == 0) {
        r = br->r_rf;
        if (r < 0) {
            DIAG(c, 204, n->name_span, "block '%s' has no rf event", br->name);
            return v_none();
        }
    } else if (strcmp(n->name, "adc") == 0) {
        r = br->r_adc;
        if (r < 0) {
            DIAG(c, 204, n->name_span, "block '%s' has no adc event", br->name);
            return v_none();
        }
    } else {
        struct diag *g = DIAG(c, 203, n->name_span, "a block has no time '%s'", n->name);
        diag_help(g, "a block gives the times start, end, rf (the RF centre) and adc (the "
                  "ADC centre)");
        return v_none();
    }
    struct value v = v_time(0);
    v.reg = r;
    return v;
}

static struct value eval_field(struct cg *c, struct env *e, struct node *n)
{
    struct value a = eval(c, e, n->a);
    switch (a.k) {
    case V_NONE:
        return a;
    case V_MODULE: {
        struct module *m = a.u.mod;
        struct binding *b = m->env ? env_lookup_local(m->env, n->name) : NULL;
        if (!b || n->name[0] == '_') {
            if (m->state == MOD_FAILED)
                return v_none();
            struct diag *g = DIAG(c, 202, n->name_span, "module '%s' has no '%s'", m->name,
                                  n->name);
            const char *s = m->env ? suggest_env(c, m->env, n->name) : NULL;
            if (s)
                diag_help(g, "did you mean '%s.%s'?", m->name, s);
            return v_none();
        }
        return b->v;
    }
    case V_RECORD: {
        const struct value *v = rec_get(a.u.rec, n->name);
        if (!v) {
            struct diag *g = DIAG(c, 203, n->name_span, "the record has no field '%s'", n->name);
            struct strbuf b;
            sb_init(&b);
            for (uint32_t i = 0; i < a.u.rec->n; i++)
                sb_printf(&b, "%s%s", i ? ", " : "", a.u.rec->names[i]);
            diag_help(g, "its fields are: %s", b.s ? b.s : "(none)");
            sb_fini(&b);
            return v_none();
        }
        return *v;
    }
    case V_BLOCKREF:
        return block_field(c, a.u.blk, n);
    default: {
        DIAG(c, 203, n->span, "%s has no fields", v_kind_name(&a));
        return v_none();
    }
    }
}

/* Place a constant array of numbers (or times) in the shape pool. */
static int32_t array_pool(struct cg *c, struct array *arr, struct span sp, struct dim *d)
{
    if (!cg_work(c, arr->n, sp))
        return -1;
    double *tmp = xmalloc(arr->n * sizeof *tmp);
    for (uint32_t i = 0; i < arr->n; i++) {
        const struct value *v = &arr->v[i];
        if (!v_is_const_num(v) || v->k == V_BOOL || !dim_eq(v->dim, arr->v[0].dim)) {
            DIAG(c, 206, sp, "this array must hold constant numbers of one unit to be "
                 "indexed at run time");
            free(tmp);
            return -1;
        }
        tmp[i] = v_si(v);
    }
    *d = arr->v[0].dim;
    int32_t p = lbc_add_shape(c->prog, tmp, arr->n);
    free(tmp);
    return p;
}

static struct value eval_index(struct cg *c, struct env *e, struct node *n)
{
    struct value a = eval(c, e, n->a);
    struct value i = eval(c, e, n->b);
    if (a.k == V_NONE || i.k == V_NONE)
        return v_none();
    if (a.k != V_ARRAY) {
        DIAG(c, 206, n->a->span, "only arrays can be indexed, this is %s", v_kind_name(&a));
        return v_none();
    }
    if (i.k != V_NUM || !dim_is_none(i.dim)) {
        DIAG(c, 206, n->b->span, "an index must be a plain number, not %s", v_kind_name(&i));
        return v_none();
    }
    if (i.reg < 0) {
        double x = i.u.f;
        if (x != floor(x) || x < 0 || x >= a.u.arr->n) {
            struct diag *g = DIAG(c, 205, n->b->span, "index %g is out of range", x);
            diag_help(g, "the array has %u elements, indexed 0 to %u", a.u.arr->n,
                      a.u.arr->n ? a.u.arr->n - 1 : 0);
            return v_none();
        }
        return a.u.arr->v[(uint32_t)x];
    }
    if (a.u.arr->n == 0) {
        DIAG(c, 205, n->span, "indexing an empty array");
        return v_none();
    }
    struct dim d;
    int32_t p = array_pool(c, a.u.arr, n->a->span, &d);
    if (p < 0)
        return v_none();
    struct value v = dim_is_time(d) ? v_time(0) : v_num(0, d);
    v.reg = cg_newreg(c);
    cg_emit(c, dim_is_time(d) ? OP_IDXT : OP_IDX, v.reg, p, i.reg, n->span);
    return v;
}

static struct value eval_ifexpr(struct cg *c, struct env *e, struct node *n)
{
    struct value cond = eval(c, e, n->a);
    if (!need_bool(c, &cond, n->a->span, "if"))
        return v_none();
    if (cond.reg < 0)
        return eval(c, e, cond.u.f != 0 ? n->b : n->c);
    struct value a = eval(c, e, n->b);
    struct value b = eval(c, e, n->c);
    if (a.k == V_NONE || b.k == V_NONE)
        return v_none();
    bool nums = (ev_is_numeric(&a) && ev_is_numeric(&b)) || (a.k == V_BOOL && b.k == V_BOOL);
    if (!nums) {
        DIAG(c, 306, n->span, "with a condition known only at run time, both branches must "
             "be numbers (here: %s and %s)", v_kind_name(&a), v_kind_name(&b));
        return v_none();
    }
    if (!dim_eq(a.dim, b.dim)) {
        ev_dim_mismatch(c, n->span, "choose between", &a, n->b->span, &b, n->c->span);
        return v_none();
    }
    struct value v = a;
    v.reg = cg_newreg(c);
    int32_t rb = cg_to_reg(c, &b, n->c->span);
    int32_t ra = cg_to_reg(c, &a, n->b->span);
    cg_emit(c, OP_MOV, v.reg, rb, 0, n->span);
    cg_emit(c, OP_SEL, v.reg, cond.reg, ra, n->span);
    return v;
}

struct value ev_make_record(struct cg *c, uint32_t n)
{
    struct value v = v_none();
    v.k = V_RECORD;
    v.u.rec = arena_alloc(c->arena, sizeof *v.u.rec);
    v.u.rec->n = n;
    v.u.rec->names = arena_alloc(c->arena, (n ? n : 1) * sizeof(char *));
    v.u.rec->v = arena_alloc(c->arena, (n ? n : 1) * sizeof(struct value));
    return v;
}

static struct value eval_record(struct cg *c, struct env *e, struct node *n)
{
    uint32_t cnt = 0;
    for (struct node *f = n->list; f; f = f->next)
        cnt++;
    struct value v = ev_make_record(c, cnt);
    uint32_t i = 0;
    for (struct node *f = n->list; f; f = f->next) {
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(v.u.rec->names[j], f->name) == 0) {
                DIAG(c, 207, f->name_span, "field '%s' is given twice", f->name);
                break;
            }
        v.u.rec->names[i] = f->name;
        v.u.rec->v[i] = eval(c, e, f->a);
        i++;
    }
    return v;
}

static struct value eval_with(struct cg *c, struct env *e, struct node *n)
{
    struct value a = eval(c, e, n->a);
    struct value upd = eval_record(c, e, n->b);
    if (a.k == V_NONE)
        return a;
    if (a.k != V_RECORD) {
        DIAG(c, 208, n->a->span, "'with' updates a record, not %s", v_kind_name(&a));
        return v_none();
    }
    uint32_t extra = 0;
    for (uint32_t i = 0; i < upd.u.rec->n; i++)
        if (!rec_get(a.u.rec, upd.u.rec->names[i]))
            extra++;
    struct value v = ev_make_record(c, a.u.rec->n + extra);
    for (uint32_t i = 0; i < a.u.rec->n; i++) {
        v.u.rec->names[i] = a.u.rec->names[i];
        const struct value *u = rec_get(upd.u.rec, a.u.rec->names[i]);
        v.u.rec->v[i] = u ? *u : a.u.rec->v[i];
    }
    uint32_t k = a.u.rec->n;
    for (uint32_t i = 0; i < upd.u.rec->n; i++)
        if (!rec_get(a.u.rec, upd.u.rec->names[i])) {
            v.u.rec->names[k] = upd.u.rec->names[i];
            v.u.rec->v[k++] = upd.u.rec->v[i];
        }
    return v;
}

static struct value make_array(struct cg *c, uint32_t n)
{
    struct value v = v_none();
    v.k = V_ARRAY;
    v.u.arr = arena_alloc(c->arena, sizeof *v.u.arr);
    v.u.arr->n = n;
    v.u.arr->pool = -1;
    v.u.arr->v = arena_alloc(c->arena, (n ? n : 1) * sizeof(struct value));
    return v;
}

static bool const_int(struct cg *c, const struct value *v, struct span sp, const char *what,
                      double *out)
{
    if (v->k == V_NONE)
        return false;
    if (v->k != V_NUM || !dim_is_none(v->dim) || v->reg >= 0 || v->u.f != floor(v->u.f)) {
        char d[96];
        v_describe(v, d, sizeof d);
        DIAG(c, 308, sp, "%s must be a whole number known at compile time, not %s", what, d);
        return false;
    }
    *out = v->u.f;
    return true;
}

static struct value eval_comprehension(struct cg *c, struct env *e, struct node *n)
{
    struct value lo = eval(c, e, n->b), hi = eval(c, e, n->c);
    double l, h;
    if (!const_int(c, &lo, n->b->span, "a range bound", &l) ||
        !const_int(c, &hi, n->c->span, "a range bound", &h))
        return v_none();
    double cnt = h > l ? h - l : 0;
    if (cnt > 1e7) {
        DIAG(c, 309, n->span, "this array would have %.0f elements (at most 10 million)", cnt);
        return v_none();
    }
    struct value v = make_array(c, (uint32_t)cnt);
    struct env *le = env_new(c, e, 2);
    struct binding *b = env_bind(c, le, n->name, v_num(l, DIM_NONE), n->name_span);
    int errs = c->diag->nerrors;
    for (uint32_t i = 0; i < (uint32_t)cnt; i++) {
        if (!cg_work(c, 1, n->span))
            return v_none();
        b->v = v_num(l + i, DIM_NONE);
        v.u.arr->v[i] = eval(c, le, n->a);
        const struct value *x = &v.u.arr->v[i];
        if ((x->k == V_NUM || x->k == V_TIME || x->k == V_BOOL) && x->reg >= 0) {
            DIAG(c, 310, n->a->span, "array elements must be known at compile time");
            return v_none();
        }
        if (c->diag->nerrors > errs)
            return v_none();
    }
    return v;
}

static struct value eval_node(struct cg *c, struct env *e, struct node *n);

bool cg_enter(struct cg *c, struct span sp)
{
    if (c->nest >= CG_MAX_NEST) {
        if (!c->over_nest) {
            c->over_nest = true;
            DIAG(c, 222, sp, "expressions and statements nested deeper than %d levels "
                 "(counting function calls)", CG_MAX_NEST);
        }
        return false;
    }
    c->nest++;
    return true;
}

struct value eval(struct cg *c, struct env *e, struct node *n)
{
    if (!cg_enter(c, n->span))
        return v_none();
    struct value v = eval_node(c, e, n);
    c->nest--;
    return v;
}

static struct value eval_node(struct cg *c, struct env *e, struct node *n)
{
    switch (n->kind) {
    case N_NUM:
        return n->is_time ? v_time(n->ns) : v_num(n->num, n->dim);
    case N_STR: {
        struct value v = v_none();
        v.k = V_STR;
        v.u.s = n->str;
        return v;
    }
    case N_BOOL:
        return v_bool(n->op != 0);
    case N_IDENT:
        return eval_ident(c, e, n);
    case N_FIELD:
        return eval_field(c, e, n);
    case N_INDEX:
        return eval_index(c, e, n);
    case N_CALL: {
        struct value f = eval(c, e, n->a);
        if (f.k == V_NONE)
            return f;
        if (f.k != V_FUNC && f.k != V_BUILTIN) {
            DIAG(c, 206, n->a->span, "%s is not a function", v_kind_name(&f));
            return v_none();
        }
        return call_value(c, f, n, e);
    }
    case N_UNOP: {
        struct value a = eval(c, e, n->a);
        if (a.k == V_NONE)
            return a;
        if (n->op == OPR_NEG)
            return negate(c, a, n);
        if (!need_bool(c, &a, n->a->span, "not"))
            return v_none();
        if (a.reg < 0)
            return v_bool(a.u.f == 0);
        int32_t r = cg_newreg(c);
        cg_emit(c, OP_NOT, r, a.reg, 0, n->span);
        return rt_bool(r);
    }
    case N_BINOP: {
        if (n->op == OPR_AND || n->op == OPR_OR)
            return logic(c, e, n);
        struct value a = eval(c, e, n->a);
        struct value b = eval(c, e, n->b);
        if (a.k == V_NONE || b.k == V_NONE)
            return v_none();
        if (n->op >= OPR_EQ && n->op <= OPR_GE)
            return compare(c, n->op, a, b, n);
        return ev_arith(c, n->op, a, b, n, n->a->span, n->b->span);
    }
    case N_IFEXPR:
        return eval_ifexpr(c, e, n);
    case N_ARRAY: {
        uint32_t cnt = 0;
        for (struct node *x = n->list; x; x = x->next)
            cnt++;
        struct value v = make_array(c, cnt);
        uint32_t i = 0;
        for (struct node *x = n->list; x; x = x->next)
            v.u.arr->v[i++] = eval(c, e, x);
        return v;
    }
    case N_COMPREH:
        return eval_comprehension(c, e, n);
    case N_RECORD:
        return eval_record(c, e, n);
    case N_WITH:
        return eval_with(c, e, n);
    default:
        DIAG(c, 999, n->span, "internal error: not an expression");
        return v_none();
    }
}

/* ---- conversions used by events ---- */

bool want_time(struct cg *c, const struct value *v, struct span sp, const char *what)
{
    if (v->k == V_NONE)
        return false;
    if (v->k == V_TIME || is_zero_const(v))
        return true;
    char d[96];
    v_describe(v, d, sizeof d);
    struct diag *g = DIAG(c, 311, sp, "%s must be a time, not %s", what, d);
    if (v->k == V_NUM && dim_is_none(v->dim))
        diag_help(g, "add a unit: ms, us or s");
    return false;
}

bool want_num(struct cg *c, const struct value *v, struct dim d, struct span sp, const char *what)
{
    if (v->k == V_NONE)
        return false;
    if ((v->k == V_NUM && dim_eq(v->dim, d)) || is_zero_const(v))
        return true;
    char have[96], need[96];
    v_describe(v, have, sizeof have);
    dim_describe(d, need, sizeof need);
    struct diag *g = DIAG(c, 311, sp, "%s must be %s, not %s", what, need, have);
    (void)g;
    return false;
}

/* ---- calls ---- */

struct value call_value(struct cg *c, struct value fv, struct node *call, struct env *e)
{
    if (fv.k == V_BUILTIN)
        return builtin_call(c, fv.u.builtin, call, e);
    struct func *f = fv.u.fn;
    struct node *decl = f->decl;
    names_called(c, decl);          /* its body's names are resolved here */
    int np = 0;
    for (struct node *p = decl->list; p; p = p->next)
        np++;
    struct value *vals = arena_alloc(c->arena, (size_t)(np ? np : 1) * sizeof *vals);
    bool *given = arena_alloc(c->arena, (size_t)(np ? np : 1) * sizeof *given);
    int pos = 0;
    bool bad = false;
    for (struct node *a = call->list; a; a = a->next) {
        int idx = -1;
        if (!a->name) {
            if (pos >= np) {
                struct diag *g = DIAG(c, 209, a->span, "too many arguments: %s() takes %d",
                                      decl->name, np);
                diag_note(g, decl->name_span, "'%s' is defined here", decl->name);
                bad = true;
                break;
            }
            idx = pos++;
        } else {
            int k = 0;
            for (struct node *p = decl->list; p; p = p->next, k++)
                if (strcmp(p->name, a->name) == 0)
                    idx = k;
            if (idx < 0) {
                struct diag *g = DIAG(c, 210, a->name_span, "%s() has no parameter '%s'",
                                      decl->name, a->name);
                struct strbuf b;
                sb_init(&b);
                for (struct node *p = decl->list; p; p = p->next)
                    sb_printf(&b, "%s%s", b.len ? ", " : "", p->name);
                diag_help(g, "its parameters are: %s", b.s ? b.s : "(none)");
                sb_fini(&b);
                diag_note(g, decl->name_span, "'%s' is defined here", decl->name);
                bad = true;
                continue;
            }
            if (given[idx]) {
                DIAG(c, 211, a->span, "argument '%s' is given twice", a->name);
                bad = true;
                continue;
            }
        }
        vals[idx] = eval(c, e, a->a);
        given[idx] = true;
    }
    if (bad)
        return v_none();
    if (!cg_work(c, 1, call->span))
        return v_none();
    if (c->depth >= 100) {
        struct diag *g = DIAG(c, 212, call->span, "calls nested too deeply (100 levels)");
        diag_help(g, "is '%s' recursive without an end?", decl->name);
        return v_none();
    }
    struct env *fe = env_new(c, f->env, 16);
    int k = 0;
    for (struct node *p = decl->list; p; p = p->next, k++) {
        if (!given[k]) {
            if (!p->a) {
                struct diag *g = DIAG(c, 213, call->span, "%s() needs the argument '%s'",
                                      decl->name, p->name);
                diag_note(g, p->name_span, "declared here without a default");
                return v_none();
            }
            c->depth++;
            vals[k] = eval(c, fe, p->a);
            c->depth--;
        }
        env_bind(c, fe, p->name, vals[k], p->name_span);
    }
    c->depth++;
    size_t nd = c->diag->ndiags;
    struct value ret = v_none();
    if (decl->a) {
        ret = eval(c, fe, decl->a);
    } else {
        bool saved = c->runtime_branch;
        c->runtime_branch = false;
        if (!exec_stmts(c, fe, decl->list2, &ret))
            ret = v_none();
        c->runtime_branch = saved;
    }
    c->depth--;
    /* an error inside a function of another file also points at this call */
    for (size_t i = nd; i < c->diag->ndiags; i++) {
        struct diag *g = c->diag->diags[i];
        if (g->sev == DIAG_ERROR && g->span.file >= 0 && g->span.file != call->span.file)
            diag_note(g, call->span, "in this call of %s()", decl->name);
    }
    return ret;
}
