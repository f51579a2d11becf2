/*
 * vm: the timing VM. A register machine over verified bytecode with an
 * int64-nanosecond clock. Event instructions assemble one block at a time;
 * END resolves the block's duration and alignment (inserting a delay block
 * when the anchor must wait), writes the time marks and plays the block to
 * the backend. Loops run a fixed iteration count computed at FORPREP, so a
 * program terminates whatever its registers hold.
 */
#include "vm/vm.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/units.h"
#include "base/util.h"

union reg {
    double f;
    int64_t t;
};

struct loopst {
    int32_t loop;
    uint64_t remaining;   /* iterations left after the current one */
    double value;
};

struct vm {
    const struct lbc_program *p;
    const struct vm_backend *be;
    const struct vm_opts *opts;
    union reg *r;
    int64_t now;
    uint64_t nblocks;
    bool open;
    bool has_dur;
    struct vm_block blk;
    int32_t labels[VM_LABEL__COUNT];
    struct loopst loops[VM_MAX_LOOPS];
    struct vm_loopidx loopidx[VM_MAX_LOOPS];  /* what blocks show backends */
    int nloops;
    int nerrors;
    bool stop;
    uint32_t pc;
};

double vm_math_apply(int fn, double x);

double vm_math_apply(int fn, double x)
{
    switch (fn) {
    case VM_MATH_SIN: return sin(x);
    case VM_MATH_COS: return cos(x);
    case VM_MATH_TAN: return tan(x);
    case VM_MATH_ASIN: return asin(x);
    case VM_MATH_ACOS: return acos(x);
    case VM_MATH_ATAN: return atan(x);
    case VM_MATH_SQRT: return sqrt(x);
    case VM_MATH_EXP: return exp(x);
    case VM_MATH_LOG: return log(x);
    case VM_MATH_ABS: return fabs(x);
    case VM_MATH_FLOOR: return floor(x);
    case VM_MATH_CEIL: return ceil(x);
    case VM_MATH_ROUND: return round(x);
    case VM_MATH_SINC: {
        double px = 3.14159265358979323846 * x;
        return fabs(px) < 1e-12 ? 1.0 : sin(px) / px;
    }
    }
    return NAN;
}

/* A time for a message, in the units diagnostics use ("2.2 ms"). */
static const char *tstr(char *buf, size_t n, int64_t ns)
{
    units_format((double)ns * 1e-9, DIM_TIME, buf, n);
    return buf;
}

/* Report a run-time error; returns true if the run must stop. */
static bool verr(struct vm *vm, enum vm_errcode code, bool fatal, int64_t need,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static bool verr(struct vm *vm, enum vm_errcode code, bool fatal, int64_t need,
                 const char *fmt, ...)
{
    struct vm_error e;
    memset(&e, 0, sizeof e);
    e.code = code;
    e.pc = vm->pc;
    e.time_ns = vm->now;
    e.need_ns = need;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof e.msg, fmt, ap);
    va_end(ap);
    e.nloops = vm->nloops;
    for (int i = 0; i < vm->nloops; i++) {
        e.loops[i].name = vm->p->loops[vm->loops[i].loop].name;
        e.loops[i].value = vm->loops[i].value;
    }
    vm->nerrors++;
    int stop = 0;
    if (vm->opts && vm->opts->on_error)
        stop = vm->opts->on_error(vm->opts->err_ctx, &e);
    if (stop || fatal)
        vm->stop = true;
    return vm->stop;
}

static const struct lbc_field *tfields(const struct vm *vm, int32_t t)
{
    return &vm->p->fields[vm->p->tmpls[t].off];
}

static double fnum(const struct vm *vm, const struct lbc_field *f, double def)
{
    switch (f->kind) {
    case FK_NUM: return vm->p->nums[f->v];
    case FK_REG: return vm->r[f->v].f;
    case FK_TIME: return (double)vm->p->times[f->v] * 1e-9;
    case FK_IMM: return f->v;
    default: return def;
    }
}

static int64_t ftime(const struct vm *vm, const struct lbc_field *f, int64_t def)
{
    switch (f->kind) {
    case FK_TIME: return vm->p->times[f->v];
    case FK_REG: return vm->r[f->v].t;
    case FK_NUM: return llrint(vm->p->nums[f->v] * 1e9);
    case FK_IMM: return f->v;
    default: return def;
    }
}

static const double *shape_ptr(const struct vm *vm, int32_t s, uint32_t *n)
{
    const struct lbc_shape *sh = &vm->p->shapes[s];
    *n = sh->len;
    return vm->p->shapedata + sh->off;
}

/* a + b into *out, or a fatal VMERR_ARITH if the clock would overflow. */
static bool tadd(struct vm *vm, int64_t a, int64_t b, int64_t *out)
{
    if (!__builtin_add_overflow(a, b, out))
        return true;
    verr(vm, VMERR_ARITH, true, 0, "time overflow (%lld ns + %lld ns)", (long long)a,
         (long long)b);
    return false;
}

/* n samples of dt: the duration, or false with an error if it is 2^60 ns
   or more (event times stay far from int64 overflow). */
static bool samples_dur(struct vm *vm, int64_t dt, int64_t n, const char *what, int64_t *out)
{
    if (!__builtin_mul_overflow(dt, n, out) && *out < INT64_C(1) << 60)
        return true;
    verr(vm, VMERR_BAD_EVENT, false, 0, "%s is too long (%lld samples of %lld ns)", what,
         (long long)n, (long long)dt);
    return false;
}

static bool need_open(struct vm *vm, const char *what)
{
    if (vm->open)
        return true;
    verr(vm, VMERR_BAD_EVENT, true, 0, "%s outside a block", what);
    return false;
}

static bool check_nonneg(struct vm *vm, int64_t v, const char *what)
{
    if (v >= 0 && v < INT64_C(1) << 60)
        return true;
    char t[64];
    verr(vm, VMERR_NEG_DUR, false, 0, "%s is negative (%s)", what, tstr(t, sizeof t, v));
    return false;
}

static void op_rf(struct vm *vm, int32_t t)
{
    if (!need_open(vm, "rf"))
        return;
    if (vm->blk.has_rf) {
        verr(vm, VMERR_DUP_EVENT, false, 0, "a second rf event in one block");
        return;
    }
    const struct lbc_field *f = tfields(vm, t);
    struct vm_rf *rf = &vm->blk.rf;
    memset(rf, 0, sizeof *rf);
    rf->pc = vm->pc;
    rf->shape_id = f[RFF_MAG].v;
    rf->mag = shape_ptr(vm, f[RFF_MAG].v, &rf->n);
    rf->phase_shape_id = -1;
    if (f[RFF_PHASE_SHAPE].kind == FK_SHAPE) {
        uint32_t n2;
        rf->phase_shape_id = f[RFF_PHASE_SHAPE].v;
        rf->phase_shape = shape_ptr(vm, f[RFF_PHASE_SHAPE].v, &n2);
        if (n2 != rf->n) {
            verr(vm, VMERR_BAD_EVENT, true, 0, "rf phase shape length differs from its shape");
            return;
        }
    }
    rf->dt_ns = ftime(vm, &f[RFF_DT], vm->p->rf_raster);
    if (rf->dt_ns <= 0 || rf->dt_ns > INT64_C(1) << 40) {
        verr(vm, VMERR_BAD_EVENT, false, 0, "rf sample raster must be positive");
        return;
    }
    if (!samples_dur(vm, rf->dt_ns, rf->n, "the rf pulse", &rf->dur_ns))
        return;
    rf->amp = fnum(vm, &f[RFF_AMP], 0);
    rf->phase = fnum(vm, &f[RFF_PHASE], 0);
    rf->freq = fnum(vm, &f[RFF_FREQ], 0);
    rf->delay_ns = ftime(vm, &f[RFF_DELAY], 0);
    rf->centre_ns = ftime(vm, &f[RFF_CENTRE], rf->dur_ns / 2);
    rf->use = f[RFF_USE].kind == FK_IMM && f[RFF_USE].v < VM_RFUSE__COUNT ?
              (enum vm_rfuse)f[RFF_USE].v : VM_RFUSE_UNDEFINED;
    if (!isfinite(rf->amp) || !isfinite(rf->phase) || !isfinite(rf->freq)) {
        verr(vm, VMERR_ARITH, true, 0, "rf amplitude, phase or frequency is not finite");
        return;
    }
    if (!check_nonneg(vm, rf->delay_ns, "the rf delay") ||
        !check_nonneg(vm, rf->centre_ns, "the rf centre"))
        return;
    vm->blk.has_rf = true;
}

static void op_grad(struct vm *vm, int32_t t)
{
    if (!need_open(vm, "grad"))
        return;
    const struct lbc_field *f = tfields(vm, t);
    int axis = f[GF_AXIS].v;
    if (axis < 0 || axis > 2) {
        verr(vm, VMERR_BAD_EVENT, true, 0, "bad gradient axis");
        return;
    }
    if (vm->blk.has_grad[axis]) {
        verr(vm, VMERR_DUP_EVENT, false, 0, "a second gradient on axis %c in one block",
             "xyz"[axis]);
        return;
    }
    struct vm_grad *g = &vm->blk.grad[axis];
    memset(g, 0, sizeof *g);
    g->pc = vm->pc;
    g->axis = axis;
    g->kind = f[GF_KIND].v == GRAD_ARB ? GRAD_ARB : GRAD_TRAP;
    g->amp = fnum(vm, &f[GF_AMP], 0);
    g->delay_ns = ftime(vm, &f[GF_DELAY], 0);
    if (!isfinite(g->amp)) {
        verr(vm, VMERR_ARITH, true, 0, "gradient amplitude is not finite");
        return;
    }
    if (!check_nonneg(vm, g->delay_ns, "the gradient delay"))
        return;
    if (g->kind == GRAD_TRAP) {
        g->rise_ns = ftime(vm, &f[GF_RISE], 0);
        g->flat_ns = ftime(vm, &f[GF_FLAT], 0);
        g->fall_ns = ftime(vm, &f[GF_FALL], g->rise_ns);
        if (!check_nonneg(vm, g->rise_ns, "the gradient rise time") ||
            !check_nonneg(vm, g->flat_ns, "the gradient flat time") ||
            !check_nonneg(vm, g->fall_ns, "the gradient fall time"))
            return;
        g->dur_ns = g->rise_ns + g->flat_ns + g->fall_ns;
    } else {
        if (f[GF_SHAPE].kind != FK_SHAPE) {
            verr(vm, VMERR_BAD_EVENT, true, 0, "arbitrary gradient without a shape");
            return;
        }
        g->shape_id = f[GF_SHAPE].v;
        g->shape = shape_ptr(vm, f[GF_SHAPE].v, &g->n);
        g->dt_ns = ftime(vm, &f[GF_DT], vm->p->grad_raster);
        if (g->dt_ns <= 0 || g->dt_ns > INT64_C(1) << 40) {
            verr(vm, VMERR_BAD_EVENT, false, 0, "gradient raster must be positive");
            return;
        }
        if (!samples_dur(vm, g->dt_ns, g->n, "the gradient waveform", &g->dur_ns))
            return;
    }
    vm->blk.has_grad[axis] = true;
}

static void op_adc(struct vm *vm, int32_t t)
{
    if (!need_open(vm, "adc"))
        return;
    if (vm->blk.has_adc) {
        verr(vm, VMERR_DUP_EVENT, false, 0, "a second adc event in one block");
        return;
    }
    const struct lbc_field *f = tfields(vm, t);
    struct vm_adc *a = &vm->blk.adc;
    memset(a, 0, sizeof *a);
    a->pc = vm->pc;
    double s = fnum(vm, &f[AF_SAMPLES], 0);
    if (!(s >= 1 && s <= 1e9) || s != floor(s)) {
        verr(vm, VMERR_BAD_EVENT, false, 0, "adc samples must be a whole number from 1 (%g)", s);
        return;
    }
    a->samples = (uint32_t)s;
    a->dwell_ns = ftime(vm, &f[AF_DWELL], 0);
    a->delay_ns = ftime(vm, &f[AF_DELAY], 0);
    a->freq = fnum(vm, &f[AF_FREQ], 0);
    a->phase = fnum(vm, &f[AF_PHASE], 0);
    if (a->dwell_ns <= 0 || a->dwell_ns > INT64_C(1) << 40) {
        char ts[64];
        verr(vm, VMERR_BAD_EVENT, false, 0, "adc dwell must be positive (%s)",
             tstr(ts, sizeof ts, a->dwell_ns));
        return;
    }
    if (!isfinite(a->freq) || !isfinite(a->phase)) {
        verr(vm, VMERR_ARITH, true, 0, "adc frequency or phase is not finite");
        return;
    }
    int64_t window;
    if (!check_nonneg(vm, a->delay_ns, "the adc delay") ||
        !samples_dur(vm, a->dwell_ns, a->samples, "the adc window", &window))
        return;
    vm->blk.has_adc = true;
}

static void op_trig(struct vm *vm, int32_t t)
{
    if (!need_open(vm, "trigger"))
        return;
    if (vm->blk.has_trig) {
        verr(vm, VMERR_DUP_EVENT, false, 0, "a second trigger in one block");
        return;
    }
    const struct lbc_field *f = tfields(vm, t);
    struct vm_trig *tr = &vm->blk.trig;
    tr->pc = vm->pc;
    tr->channel = f[TF_CHANNEL].v;
    tr->delay_ns = ftime(vm, &f[TF_DELAY], 0);
    tr->dur_ns = ftime(vm, &f[TF_DUR], 0);
    if (!check_nonneg(vm, tr->delay_ns, "the trigger delay") ||
        !check_nonneg(vm, tr->dur_ns, "the trigger duration"))
        return;
    vm->blk.has_trig = true;
}

static int emit_block(struct vm *vm, struct vm_block *b)
{
    const struct vm_backend *be = vm->be;
    b->index = vm->nblocks++;
    memcpy(b->labels, vm->labels, sizeof b->labels);
    b->loops = vm->loopidx;
    b->nloops = vm->nloops;
    if (!be)
        return 0;
    if (be->block_start && be->block_start(be->ctx, b))
        return -1;
    if (b->has_rf && be->rf && be->rf(be->ctx, b, &b->rf))
        return -1;
    for (int i = 0; i < 3; i++)
        if (b->has_grad[i] && be->grad && be->grad(be->ctx, b, &b->grad[i]))
            return -1;
    if (b->has_adc && be->adc && be->adc(be->ctx, b, &b->adc))
        return -1;
    if (b->has_trig && be->trigger && be->trigger(be->ctx, b, &b->trig))
        return -1;
    if (be->block_end && be->block_end(be->ctx, b))
        return -1;
    return 0;
}

static int emit_delay(struct vm *vm, int64_t dur)
{
    if (dur <= 0)
        return 0;
    struct vm_block d;
    memset(&d, 0, sizeof d);
    d.start_ns = vm->now;
    d.dur_ns = dur;
    d.is_delay = true;
    d.pc = vm->pc;
    int64_t end;
    if (!tadd(vm, vm->now, dur, &end))
        return 0;              /* fatal: the run stops */
    int rc = emit_block(vm, &d);
    vm->now = end;
    return rc;
}

static void op_begin(struct vm *vm, int32_t name)
{
    if (vm->open) {
        verr(vm, VMERR_BAD_EVENT, true, 0, "a block begins inside another block");
        return;
    }
    memset(&vm->blk, 0, sizeof vm->blk);
    vm->blk.name = name >= 0 ? vm->p->strs[name] : NULL;
    vm->blk.pc = vm->pc;
    vm->open = true;
}

/* delay + dur, saturating (the VM's times are non-negative here; an
   absurd sum is caught later as a time overflow) */
static int64_t end_of(int64_t delay, int64_t dur)
{
    int64_t e;
    return __builtin_add_overflow(delay, dur, &e) ? INT64_MAX / 2 : e;
}

static int op_end(struct vm *vm, int32_t t)
{
    if (!need_open(vm, "end of block"))
        return 0;
    vm->open = false;
    struct vm_block *b = &vm->blk;
    const struct lbc_field *f = tfields(vm, t);
    int64_t content = 0;
    if (b->has_rf && end_of(b->rf.delay_ns, b->rf.dur_ns) > content)
        content = end_of(b->rf.delay_ns, b->rf.dur_ns);
    for (int i = 0; i < 3; i++)
        if (b->has_grad[i] && end_of(b->grad[i].delay_ns, b->grad[i].dur_ns) > content)
            content = end_of(b->grad[i].delay_ns, b->grad[i].dur_ns);
    if (b->has_adc) {
        int64_t e = b->adc.delay_ns + (int64_t)b->adc.samples * b->adc.dwell_ns;
        if (e > content)
            content = e;
    }
    if (b->has_trig && end_of(b->trig.delay_ns, b->trig.dur_ns) > content)
        content = end_of(b->trig.delay_ns, b->trig.dur_ns);
    /* the default duration also leaves the RF ringdown and the ADC dead
       time after those events, as Pulseq's block duration does */
    int64_t need = content;
    if (b->has_rf && end_of(end_of(b->rf.delay_ns, b->rf.dur_ns), vm->p->rf_ringdown) > need)
        need = end_of(end_of(b->rf.delay_ns, b->rf.dur_ns), vm->p->rf_ringdown);
    if (b->has_adc) {
        int64_t e = end_of(b->adc.delay_ns + (int64_t)b->adc.samples * b->adc.dwell_ns,
                           vm->p->adc_dead);
        if (e > need)
            need = e;
    }
    if (b->has_adc)
        memcpy(b->adc.labels, vm->labels, sizeof b->adc.labels);
    int64_t dur;
    if (f[EF_DUR].kind != FK_NONE) {
        dur = ftime(vm, &f[EF_DUR], 0);
        if (dur < 0) {
            char ts[64];
            verr(vm, VMERR_NEG_DUR, false, 0, "the block duration is negative (%s)",
                 tstr(ts, sizeof ts, dur));
            dur = content;
        } else if (dur < content) {
            char t1[64], t2[64];
            verr(vm, VMERR_BLOCK_SHORT, false, content - dur,
                 "the block lasts %s but its events need %s", tstr(t1, sizeof t1, dur),
                 tstr(t2, sizeof t2, content));
            dur = content;
        }
    } else {
        int64_t r = vm->p->block_raster > 0 ? vm->p->block_raster : 1;
        dur = need;
        if (need % r && !tadd(vm, need, r - need % r, &dur))
            return 0;
    }
    b->dur_ns = dur;
    int64_t rf_c = b->has_rf ? b->rf.delay_ns + b->rf.centre_ns : 0;
    int64_t adc_c = b->has_adc ? b->adc.delay_ns +
                    (int64_t)b->adc.samples * b->adc.dwell_ns / 2 : 0;
    int kind = f[EF_ALIGN_KIND].kind == FK_IMM ? f[EF_ALIGN_KIND].v : ALIGN_NONE;
    if (kind != ALIGN_NONE) {
        int64_t off = kind == ALIGN_START ? 0 : kind == ALIGN_RF ? rf_c :
                      kind == ALIGN_ADC ? adc_c : dur;
        if ((kind == ALIGN_RF && !b->has_rf) || (kind == ALIGN_ADC && !b->has_adc)) {
            verr(vm, VMERR_NO_ANCHOR, false, 0, "the block has no %s to align",
                 kind == ALIGN_RF ? "rf" : "adc");
        } else {
            int64_t target = ftime(vm, &f[EF_ALIGN_AT], 0), gap;
            if (__builtin_sub_overflow(target, off, &gap) ||
                __builtin_sub_overflow(gap, vm->now, &gap) || gap == INT64_MIN) {
                verr(vm, VMERR_ARITH, true, 0, "time overflow in the alignment target");
                return 0;
            }
            if (gap < 0) {
                if (verr(vm, VMERR_TOO_LATE, false, -gap, "alignment target is %lld ns in the past",
                         (long long)-gap))
                    return 0;
            } else if (emit_delay(vm, gap)) {
                return -1;
            }
        }
    }
    b->start_ns = vm->now;
    int64_t end;
    if (!tadd(vm, vm->now, dur, &end))
        return 0;
    if (f[EF_MARK_START].kind == FK_REG)
        vm->r[f[EF_MARK_START].v].t = vm->now;
    if (f[EF_MARK_END].kind == FK_REG)
        vm->r[f[EF_MARK_END].v].t = end;
    if (f[EF_MARK_RF].kind == FK_REG)
        vm->r[f[EF_MARK_RF].v].t = vm->now + rf_c;
    if (f[EF_MARK_ADC].kind == FK_REG)
        vm->r[f[EF_MARK_ADC].v].t = vm->now + adc_c;
    int rc = emit_block(vm, b);
    vm->now = end;
    return rc;
}

static bool f2t(struct vm *vm, double s, int64_t *out)
{
    double ns = s * 1e9;
    if (!isfinite(ns) || fabs(ns) > 9.0e18) {
        verr(vm, VMERR_ARITH, true, 0, "time value out of range (%g s)", s);
        return false;
    }
    *out = llrint(ns);
    return true;
}

int vm_run(const struct lbc_program *p, const struct vm_backend *be,
           const struct vm_opts *opts, int64_t *total_ns)
{
    return vm_run_limited(p, be, opts, 0, total_ns);
}

int vm_run_limited(const struct lbc_program *p, const struct vm_backend *be,
                   const struct vm_opts *opts, uint64_t max_steps, int64_t *total_ns)
{
    struct vm vm;
    memset(&vm, 0, sizeof vm);
    vm.p = p;
    vm.be = be;
    vm.opts = opts;
    vm.r = xcalloc(p->nregs ? p->nregs : 1, sizeof *vm.r);
    int result = 0;
    if (be && be->begin) {
        struct vm_view view;
        vm_view_init(&view, p);
        if (be->begin(be->ctx, &view)) {
            result = -1;
            goto out;
        }
    }
    uint32_t pc = 0;
    const struct lbc_insn *code = p->code;
    union reg *R = vm.r;
    uint64_t steps_left = max_steps ? max_steps : UINT64_MAX;
    while (!vm.stop && pc < p->ncode) {
        const struct lbc_insn *in = &code[pc];
        vm.pc = pc;
        if (steps_left-- == 0) {
            verr(&vm, VMERR_LOOP, true, 0, "the run stopped after %llu instructions, its limit",
                 (unsigned long long)max_steps);
            break;
        }
        int32_t a = in->a, b = in->b, c = in->c;
        pc++;
        switch ((enum lbc_op)in->op) {
        case OP_NOP: break;
        case OP_HALT: pc = p->ncode; break;
        case OP_LOADF: R[a].f = p->nums[b]; break;
        case OP_LOADT: R[a].t = p->times[b]; break;
        case OP_MOV: R[a] = R[b]; break;
        case OP_ADDF: R[a].f = R[b].f + R[c].f; break;
        case OP_SUBF: R[a].f = R[b].f - R[c].f; break;
        case OP_MULF: R[a].f = R[b].f * R[c].f; break;
        case OP_DIVF:
            if (R[c].f == 0) {
                verr(&vm, VMERR_ARITH, true, 0, "division by zero");
                break;
            }
            R[a].f = R[b].f / R[c].f;
            break;
        case OP_MODF: {
            double y = R[c].f;
            if (y == 0) {
                verr(&vm, VMERR_ARITH, true, 0, "division by zero");
                break;
            }
            double r = fmod(R[b].f, y);
            if (r != 0 && ((r < 0) != (y < 0)))
                r += y;
            R[a].f = r;
            break;
        }
        case OP_POWF: R[a].f = pow(R[b].f, R[c].f); break;
        case OP_NEGF: R[a].f = -R[b].f; break;
        case OP_MINF: R[a].f = R[b].f < R[c].f ? R[b].f : R[c].f; break;
        case OP_MAXF: R[a].f = R[b].f > R[c].f ? R[b].f : R[c].f; break;
        case OP_MATH: R[a].f = vm_math_apply(c, R[b].f); break;
        case OP_ADDT:
            if (__builtin_add_overflow(R[b].t, R[c].t, &R[a].t))
                verr(&vm, VMERR_ARITH, true, 0, "time overflow");
            break;
        case OP_SUBT:
            if (__builtin_sub_overflow(R[b].t, R[c].t, &R[a].t))
                verr(&vm, VMERR_ARITH, true, 0, "time overflow");
            break;
        case OP_NEGT:
            if (R[b].t == INT64_MIN)
                verr(&vm, VMERR_ARITH, true, 0, "time overflow");
            else
                R[a].t = -R[b].t;
            break;
        case OP_T2F: R[a].f = (double)R[b].t * 1e-9; break;
        case OP_F2T: {
            int64_t t;
            if (f2t(&vm, R[b].f, &t))
                R[a].t = t;
            break;
        }
        case OP_LTF: R[a].f = R[b].f < R[c].f; break;
        case OP_LEF: R[a].f = R[b].f <= R[c].f; break;
        case OP_EQF: R[a].f = R[b].f == R[c].f; break;
        case OP_NEF: R[a].f = R[b].f != R[c].f; break;
        case OP_LTT: R[a].f = R[b].t < R[c].t; break;
        case OP_LET: R[a].f = R[b].t <= R[c].t; break;
        case OP_EQT: R[a].f = R[b].t == R[c].t; break;
        case OP_NET: R[a].f = R[b].t != R[c].t; break;
        case OP_NOT: R[a].f = R[b].f == 0; break;
        case OP_AND: R[a].f = R[b].f != 0 && R[c].f != 0; break;
        case OP_OR: R[a].f = R[b].f != 0 || R[c].f != 0; break;
        case OP_SEL: if (R[b].f != 0) R[a] = R[c]; break;
        case OP_IDX:
        case OP_IDXT: {
            const struct lbc_shape *sh = &p->shapes[b];
            double x = R[c].f;
            if (!(x >= 0 && x < sh->len) || x != floor(x)) {
                verr(&vm, VMERR_INDEX, true, 0, "index %g is out of range 0..%u", x,
                     sh->len ? sh->len - 1 : 0);
                break;
            }
            double v = p->shapedata[sh->off + (uint32_t)x];
            if (in->op == OP_IDX)
                R[a].f = v;
            else {
                int64_t t;
                if (f2t(&vm, v, &t))
                    R[a].t = t;
            }
            break;
        }
        case OP_ERROR:
            verr(&vm, VMERR_ASSERT, true, 0, "assertion failed: %s", lbc_str(p, a));
            break;
        case OP_JMP: pc = (uint32_t)a; break;
        case OP_JMPF: if (R[a].f == 0) pc = (uint32_t)b; break;
        case OP_FORPREP: {
            const struct lbc_loop *L = &p->loops[a];
            double start = R[L->ctr].f, lim = R[L->lim].f, step = R[L->step].f;
            if (!isfinite(start) || !isfinite(lim) || !(step > 0) || !isfinite(step)) {
                verr(&vm, VMERR_LOOP, true, 0, "loop bounds are not finite numbers");
                break;
            }
            if (!(start < lim)) {
                pc = (uint32_t)b;
                break;
            }
            double n = ceil((lim - start) / step);
            if (n > 1e12) {
                verr(&vm, VMERR_LOOP, true, 0, "loop of %.0f iterations is too long (at most 10^12)", n);
                break;
            }
            if (vm.nloops >= VM_MAX_LOOPS) {
                verr(&vm, VMERR_LOOP, true, 0, "loops nested deeper than %d", VM_MAX_LOOPS);
                break;
            }
            struct loopst *ls = &vm.loops[vm.nloops++];
            ls->loop = a;
            ls->remaining = (uint64_t)n - 1;
            ls->value = start;
            vm.loopidx[vm.nloops - 1].name = L->name;
            vm.loopidx[vm.nloops - 1].value = start;
            break;
        }
        case OP_FORLOOP: {
            if (vm.nloops == 0 || vm.loops[vm.nloops - 1].loop != a) {
                verr(&vm, VMERR_LOOP, true, 0, "loop end without its start");
                break;
            }
            struct loopst *ls = &vm.loops[vm.nloops - 1];
            const struct lbc_loop *L = &p->loops[a];
            if (ls->remaining == 0) {
                vm.nloops--;
                break;
            }
            ls->remaining--;
            ls->value += R[L->step].f;
            R[L->ctr].f = ls->value;
            vm.loopidx[vm.nloops - 1].value = ls->value;
            pc = (uint32_t)b;
            break;
        }
        case OP_BEGIN: op_begin(&vm, a); break;
        case OP_RF: op_rf(&vm, a); break;
        case OP_GRAD: op_grad(&vm, a); break;
        case OP_ADC: op_adc(&vm, a); break;
        case OP_TRIG: op_trig(&vm, a); break;
        case OP_LABEL: {
            double v = R[c].f;
            if (!(fabs(v) < 2147483647.0) || v != floor(v)) {
                verr(&vm, VMERR_BAD_EVENT, true, 0, "label value %g is not a whole number", v);
                break;
            }
            if (b == 0)
                vm.labels[a] = (int32_t)v;
            else
                vm.labels[a] = (int32_t)((int64_t)vm.labels[a] + (int64_t)v);
            break;
        }
        case OP_END:
            if (op_end(&vm, a)) {
                verr(&vm, VMERR_BACKEND, true, 0, "the backend stopped the run");
                result = -1;
            }
            if (vm.opts && vm.opts->max_blocks && vm.nblocks >= vm.opts->max_blocks)
                vm.stop = true;
            break;
        case OP_DELAY: {
            int64_t d = R[a].t;
            if (d < 0) {
                char t[64];
                verr(&vm, VMERR_NEG_DUR, false, 0, "a delay is negative (%s)",
                     tstr(t, sizeof t, d));
                break;
            }
            if (emit_delay(&vm, d)) {
                verr(&vm, VMERR_BACKEND, true, 0, "the backend stopped the run");
                result = -1;
            }
            break;
        }
        case OP_WAITUNTIL: {
            int64_t gap;
            if (__builtin_sub_overflow(R[a].t, vm.now, &gap) || gap == INT64_MIN) {
                verr(&vm, VMERR_ARITH, true, 0, "time overflow in the wait target");
                break;
            }
            if (gap < 0) {
                verr(&vm, VMERR_TOO_LATE, false, -gap, "wait target is %lld ns in the past",
                     (long long)-gap);
                break;
            }
            if (emit_delay(&vm, gap)) {
                verr(&vm, VMERR_BACKEND, true, 0, "the backend stopped the run");
                result = -1;
            }
            break;
        }
        case OP_NOW: R[a].t = vm.now; break;
        default:
            verr(&vm, VMERR_BAD_EVENT, true, 0, "bad opcode %d", in->op);
            break;
        }
    }
    if (result == 0 && be && be->end && be->end(be->ctx, vm.now))
        result = -1;
out:
    if (total_ns)
        *total_ns = vm.now;
    free(vm.r);
    if (result < 0)
        return -1;
    return vm.nerrors ? 1 : 0;
}
