/*
 * builtins: the functions and values every sequence sees without an
 * import: the math functions (sin ... sinc, atan2), min and max, len and
 * sum, the rounding to a step (ceil_to, floor_to, round_to), pi, and the
 * `system` record of the scanner's limits. builtins_install binds them in
 * the root environment; builtin_call evaluates a call of one, folding
 * constants and emitting VM code for run-time values as eval.c does.
 */
#include "compiler/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

/* vm/vm.c: the VM's OP_MATH, so that folded constants match run time. */
double vm_math_apply(int fn, double x);

enum builtin {
    B_SIN, B_COS, B_TAN, B_ASIN, B_ACOS, B_ATAN, B_SQRT, B_EXP, B_LOG, B_ABS, B_FLOOR,
    B_CEIL, B_ROUND, B_SINC, B_ATAN2, B_MIN, B_MAX, B_LEN, B_SUM, B_CEIL_TO, B_FLOOR_TO,
    B_ROUND_TO, B__COUNT
};

static const struct {
    const char *name;
    int math;        /* enum vm_math for unary math, else -1 */
} builtins[B__COUNT] = {
    [B_SIN] = { "sin", VM_MATH_SIN }, [B_COS] = { "cos", VM_MATH_COS },
    [B_TAN] = { "tan", VM_MATH_TAN }, [B_ASIN] = { "asin", VM_MATH_ASIN },
    [B_ACOS] = { "acos", VM_MATH_ACOS }, [B_ATAN] = { "atan", VM_MATH_ATAN },
    [B_SQRT] = { "sqrt", VM_MATH_SQRT }, [B_EXP] = { "exp", VM_MATH_EXP },
    [B_LOG] = { "log", VM_MATH_LOG }, [B_ABS] = { "abs", VM_MATH_ABS },
    [B_FLOOR] = { "floor", VM_MATH_FLOOR }, [B_CEIL] = { "ceil", VM_MATH_CEIL },
    [B_ROUND] = { "round", VM_MATH_ROUND }, [B_SINC] = { "sinc", VM_MATH_SINC },
    [B_ATAN2] = { "atan2", -1 }, [B_MIN] = { "min", -1 }, [B_MAX] = { "max", -1 },
    [B_LEN] = { "len", -1 }, [B_SUM] = { "sum", -1 }, [B_CEIL_TO] = { "ceil_to", -1 },
    [B_FLOOR_TO] = { "floor_to", -1 }, [B_ROUND_TO] = { "round_to", -1 },
};

static struct value record_of(struct cg *c, const char **names, const struct value *vals, int n)
{
    struct value v = ev_make_record(c, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        v.u.rec->names[i] = names[i];
        v.u.rec->v[i] = vals[i];
    }
    return v;
}

void builtins_install(struct cg *c, struct env *root)
{
    for (int i = 0; i < B__COUNT; i++) {
        struct value v = v_none();
        v.k = V_BUILTIN;
        v.u.builtin = i;
        env_bind(c, root, builtins[i].name, v, SPAN_NONE);
    }
    env_bind(c, root, "pi", v_num(PI, DIM_NONE), SPAN_NONE);
    const struct system *s = c->sys;
    const char *names[] = { "name", "b0", "gamma", "max_grad", "max_slew", "grad_raster",
                            "rf_raster", "adc_raster", "block_raster", "rf_dead_time",
                            "rf_ringdown", "adc_dead_time", "max_b1" };
    struct value vals[13];
    vals[0] = v_none();
    vals[0].k = V_STR;
    vals[0].u.s = arena_strdup(c->arena, s->name);
    vals[1] = v_num(s->b0, DIM_TESLA);
    vals[2] = v_num(s->gamma, (struct dim){ -1, 0, -1 });
    vals[3] = v_num(s->max_grad, DIM_GRAD);
    vals[4] = v_num(s->max_slew, DIM_SLEW);
    vals[5] = v_time(s->grad_raster_ns);
    vals[6] = v_time(s->rf_raster_ns);
    vals[7] = v_time(s->adc_raster_ns);
    vals[8] = v_time(s->block_raster_ns);
    vals[9] = v_time(s->rf_dead_ns);
    vals[10] = v_time(s->rf_ringdown_ns);
    vals[11] = v_time(s->adc_dead_ns);
    vals[12] = v_num(s->max_b1, DIM_TESLA);
    env_bind(c, root, "system", record_of(c, names, vals, 13), SPAN_NONE);
}

struct argv {
    struct value v;
    struct node *n;
};

static struct value math_unary(struct cg *c, int b, struct value x, struct node *call,
                               struct node *an)
{
    const char *name = builtins[b].name;
    struct dim d = x.dim;
    if (!ev_is_numeric(&x)) {
        DIAG(c, 312, an->span, "%s() needs a number, not %s", name, v_kind_name(&x));
        return v_none();
    }
    if (b == B_SQRT) {
        if (d.s % 2 || d.m % 2 || d.T % 2) {
            char dd[96];
            dim_describe(d, dd, sizeof dd);
            DIAG(c, 312, an->span, "the square root of %s would have a fractional unit", dd);
            return v_none();
        }
        d = (struct dim){ (int8_t)(d.s / 2), (int8_t)(d.m / 2), (int8_t)(d.T / 2) };
    } else if (b != B_ABS && !dim_is_none(d)) {
        char dd[96];
        dim_describe(d, dd, sizeof dd);
        struct diag *g = DIAG(c, 312, an->span, "%s() needs a plain number, not %s", name, dd);
        if (b == B_CEIL || b == B_FLOOR || b == B_ROUND)
            diag_help(g, "to round a quantity to a raster use %s_to(x, step), e.g. "
                      "%s_to(t, 10 us)", name, name);
        return v_none();
    }
    if (x.reg < 0) {
        double r = vm_math_apply(builtins[b].math, v_si(&x));
        if (x.k == V_TIME && b == B_ABS) {
            if (x.u.t == INT64_MIN) {
                DIAG(c, 307, call->span, "time overflow");
                return v_none();
            }
            return v_time(x.u.t < 0 ? -x.u.t : x.u.t);
        }
        return ev_num_result(c, r, d, call->span);
    }
    int32_t rx = ev_to_freg(c, &x, an->span);
    int32_t r = cg_newreg(c);
    cg_emit(c, OP_MATH, r, rx, builtins[b].math, call->span);
    return ev_from_freg(c, r, d, call->span);
}

static struct value minmax(struct cg *c, int b, struct argv *args, int n, struct node *call)
{
    struct value *vals;
    int cnt;
    struct node **nodes;
    struct value *tmpv = NULL;
    struct node **tmpn = NULL;
    if (n == 1 && args[0].v.k == V_ARRAY) {
        cnt = (int)args[0].v.u.arr->n;
        vals = args[0].v.u.arr->v;
        tmpn = xmalloc((size_t)(cnt ? cnt : 1) * sizeof *tmpn);
        for (int i = 0; i < cnt; i++)
            tmpn[i] = args[0].n;
        nodes = tmpn;
    } else {
        cnt = n;
        tmpv = xmalloc((size_t)(n ? n : 1) * sizeof *tmpv);
        tmpn = xmalloc((size_t)(n ? n : 1) * sizeof *tmpn);
        for (int i = 0; i < n; i++) {
            tmpv[i] = args[i].v;
            tmpn[i] = args[i].n;
        }
        vals = tmpv;
        nodes = tmpn;
    }
    struct value acc = v_none();
    if (!cg_work(c, (uint64_t)cnt, call->span))
        goto out;
    if (cnt == 0) {
        DIAG(c, 313, call->span, "%s() needs at least one value", builtins[b].name);
        goto out;
    }
    for (int i = 0; i < cnt; i++) {
        if (!ev_need_numeric(c, &vals[i], nodes[i]->span, builtins[b].name)) {
            acc = v_none();
            goto out;
        }
        if (!dim_eq(vals[i].dim, vals[0].dim)) {
            ev_dim_mismatch(c, call->span, "compare", &vals[0], nodes[0]->span, &vals[i],
                            nodes[i]->span);
            acc = v_none();
            goto out;
        }
    }
    acc = vals[0];
    for (int i = 1; i < cnt; i++) {
        struct value x = vals[i];
        if (acc.reg < 0 && x.reg < 0) {
            bool less = acc.k == V_TIME ? x.u.t < acc.u.t : x.u.f < acc.u.f;
            if (b == B_MIN ? less : (acc.k == V_TIME ? x.u.t > acc.u.t : x.u.f > acc.u.f))
                acc = x;
            continue;
        }
        int32_t ra = ev_to_freg(c, &acc, call->span), rx = ev_to_freg(c, &x, call->span);
        int32_t r = cg_newreg(c);
        cg_emit(c, b == B_MIN ? OP_MINF : OP_MAXF, r, ra, rx, call->span);
        acc = ev_from_freg(c, r, acc.dim, call->span);
    }
out:
    free(tmpv);
    free(tmpn);
    return acc;
}

static struct value round_to(struct cg *c, int b, struct argv *args, struct node *call)
{
    struct value x = args[0].v, s = args[1].v;
    if (!ev_need_numeric(c, &x, args[0].n->span, builtins[b].name) ||
        !ev_need_numeric(c, &s, args[1].n->span, builtins[b].name))
        return v_none();
    if (!dim_eq(x.dim, s.dim)) {
        ev_dim_mismatch(c, call->span, "round", &x, args[0].n->span, &s, args[1].n->span);
        return v_none();
    }
    int mf = b == B_CEIL_TO ? VM_MATH_CEIL : b == B_FLOOR_TO ? VM_MATH_FLOOR : VM_MATH_ROUND;
    if (x.reg < 0 && s.reg < 0) {
        if (v_si(&s) <= 0) {
            DIAG(c, 314, args[1].n->span, "the rounding step must be positive");
            return v_none();
        }
        if (x.k == V_TIME) {
            int64_t q = x.u.t / s.u.t, r = x.u.t % s.u.t;
            if (r != 0) {
                if (mf == VM_MATH_CEIL && r > 0)
                    q++;
                else if (mf == VM_MATH_FLOOR && r < 0)
                    q--;
                else if (mf == VM_MATH_ROUND) {
                    int64_t ar = r < 0 ? -r : r;    /* |r| < step: no overflow */
                    if (ar >= s.u.t - ar)
                        q += r < 0 ? -1 : 1;
                }
            }
            int64_t t;
            if (__builtin_mul_overflow(q, s.u.t, &t)) {
                DIAG(c, 307, call->span, "time overflow");
                return v_none();
            }
            return v_time(t);
        }
        double q = vm_math_apply(mf, x.u.f / s.u.f);
        /* guard against 2.0000000001 * step from float division */
        double qr = nearbyint(x.u.f / s.u.f);
        if (fabs(x.u.f / s.u.f - qr) < 1e-9)
            q = qr;
        return v_num(q * s.u.f, x.dim);
    }
    int32_t rx = ev_to_freg(c, &x, call->span), rs = ev_to_freg(c, &s, call->span);
    int32_t r1 = cg_newreg(c), r2 = cg_newreg(c), r3 = cg_newreg(c);
    cg_emit(c, OP_DIVF, r1, rx, rs, call->span);
    cg_emit(c, OP_MATH, r2, r1, mf, call->span);
    cg_emit(c, OP_MULF, r3, r2, rs, call->span);
    return ev_from_freg(c, r3, x.dim, call->span);
}

struct value builtin_call(struct cg *c, int b, struct node *call, struct env *e)
{
    struct argv args[64];
    int n = 0;
    for (struct node *a = call->list; a; a = a->next) {
        if (a->name) {
            DIAG(c, 210, a->name_span, "%s() takes no named arguments", builtins[b].name);
            return v_none();
        }
        if (n == 64) {
            DIAG(c, 209, a->span, "too many arguments");
            return v_none();
        }
        args[n].v = eval(c, e, a->a);
        args[n].n = a;
        if (args[n].v.k == V_NONE)
            return v_none();
        n++;
    }
    int want = -1;
    if (builtins[b].math >= 0)
        want = 1;
    else if (b == B_ATAN2 || b == B_CEIL_TO || b == B_FLOOR_TO || b == B_ROUND_TO)
        want = 2;
    else if (b == B_LEN || b == B_SUM)
        want = 1;
    if (want >= 0 && n != want) {
        /* the codes of user functions: too many arguments, a missing argument */
        DIAG(c, n > want ? 209 : 213, call->span, "%s() takes %d argument%s, %d given",
             builtins[b].name, want, want == 1 ? "" : "s", n);
        return v_none();
    }
    if (builtins[b].math >= 0)
        return math_unary(c, b, args[0].v, call, args[0].n);
    switch (b) {
    case B_MIN:
    case B_MAX:
        return minmax(c, b, args, n, call);
    case B_CEIL_TO:
    case B_FLOOR_TO:
    case B_ROUND_TO:
        return round_to(c, b, args, call);
    case B_LEN:
        if (args[0].v.k == V_ARRAY)
            return v_num(args[0].v.u.arr->n, DIM_NONE);
        if (args[0].v.k == V_STR)
            return v_num((double)strlen(args[0].v.u.s), DIM_NONE);
        DIAG(c, 312, args[0].n->span, "len() needs an array, not %s", v_kind_name(&args[0].v));
        return v_none();
    case B_SUM: {
        if (args[0].v.k != V_ARRAY) {
            DIAG(c, 312, args[0].n->span, "sum() needs an array, not %s",
                 v_kind_name(&args[0].v));
            return v_none();
        }
        struct array *arr = args[0].v.u.arr;
        if (!cg_work(c, arr->n, call->span))
            return v_none();
        if (arr->n == 0)
            return v_num(0, DIM_NONE);
        struct value acc = arr->v[0];
        for (uint32_t i = 1; i < arr->n; i++) {
            acc = ev_arith(c, OPR_ADD, acc, arr->v[i], call, args[0].n->span, args[0].n->span);
            if (acc.k == V_NONE)
                return acc;
        }
        return acc;
    }
    case B_ATAN2: {
        struct value y = args[0].v, x = args[1].v;
        if (!ev_need_numeric(c, &y, args[0].n->span, "atan2") ||
            !ev_need_numeric(c, &x, args[1].n->span, "atan2"))
            return v_none();
        if (!dim_eq(x.dim, y.dim)) {
            ev_dim_mismatch(c, call->span, "compare", &y, args[0].n->span, &x, args[1].n->span);
            return v_none();
        }
        if (x.reg < 0 && y.reg < 0)
            return v_num(atan2(v_si(&y), v_si(&x)), DIM_NONE);
        DIAG(c, 312, call->span, "atan2() of run-time values is not supported");
        return v_none();
    }
    }
    return v_none();
}
