/*
 * verify: the structural check every program passes before it is written
 * or run. After lbc_verify returns 0 the VM may index any pool with any
 * operand without a bounds check, follow any jump, and trust the loop
 * structure: every operand is in range for the kind its opcode gives it
 * (vm/opcodes.def), every template has the fields of its type with allowed
 * kinds, every FORPREP has its FORLOOP, loops nest strictly and no more
 * than VM_MAX_LOOPS deep, jumps go forward and stay in their loop, and the
 * code ends with HALT.
 *
 * Nothing is assumed about the values in registers or pools (NaN, negative
 * durations): those are run-time errors of the VM.
 */
#include "vm/program.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "vm/lbc_internal.h"
#include "vm/vm.h"

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static bool str_ok(const struct lbc_program *p, int32_t s)
{
    return s >= 0 && (uint32_t)s < p->nstrs;
}

static bool str_or_none_ok(const struct lbc_program *p, int32_t s)
{
    return s == -1 || str_ok(p, s);
}

static bool reg_ok(const struct lbc_program *p, int32_t r)
{
    return r >= 0 && (uint32_t)r < p->nregs;
}

static bool idx_ok(int32_t v, uint32_t n)
{
    return v >= 0 && (uint32_t)v < n;
}

static int verify_header(const struct lbc_program *p, char *err, size_t errlen)
{
    if (p->nregs > LBC_MAX_REGS)
        return fail(err, errlen, "%u registers, at most %u allowed", p->nregs, LBC_MAX_REGS);
    if (!str_or_none_ok(p, p->source))
        return fail(err, errlen, "source file name: string index %d out of range (%u strings)",
                    p->source, p->nstrs);
    if (!str_or_none_ok(p, p->sys_name))
        return fail(err, errlen, "system name: string index %d out of range (%u strings)",
                    p->sys_name, p->nstrs);
    static const char *const rname[4] = { "gradient", "RF", "ADC", "block" };
    const int64_t r[4] = { p->grad_raster, p->rf_raster, p->adc_raster, p->block_raster };
    for (int i = 0; i < 4; i++)
        if (r[i] < 1 || r[i] > LBC_MAX_RASTER_NS)
            return fail(err, errlen, "%s raster %lld ns out of range (1 ns .. 1 s)", rname[i],
                        (long long)r[i]);
    if (p->rf_ringdown < 0 || p->rf_ringdown > LBC_MAX_RASTER_NS ||
        p->adc_dead < 0 || p->adc_dead > LBC_MAX_RASTER_NS)
        return fail(err, errlen, "dead times %lld ns (RF ringdown) and %lld ns (ADC) must lie "
                    "in 0 .. 1 s", (long long)p->rf_ringdown, (long long)p->adc_dead);
    for (uint32_t i = 0; i < p->nstrs; i++)
        if (!p->strs[i])
            return fail(err, errlen, "string %u is missing", i);
    return 0;
}

static int verify_pools(const struct lbc_program *p, char *err, size_t errlen)
{
    for (uint32_t i = 0; i < p->nshapes; i++) {
        const struct lbc_shape *s = &p->shapes[i];
        if (s->len < 1)
            return fail(err, errlen, "shape a%u is empty", i);
        if ((uint64_t)s->off + s->len > p->nshapedata)
            return fail(err, errlen, "shape a%u: samples %u..%llu past the end of the shape data (%u)",
                        i, s->off, (unsigned long long)s->off + s->len, p->nshapedata);
    }

    for (uint32_t i = 0; i < p->nfields; i++) {
        const struct lbc_field *f = &p->fields[i];
        bool ok;
        switch (f->kind) {
        case FK_NONE: ok = f->v == 0; break;
        case FK_NUM: ok = idx_ok(f->v, p->nnums); break;
        case FK_TIME: ok = idx_ok(f->v, p->ntimes); break;
        case FK_REG: ok = reg_ok(p, f->v); break;
        case FK_SHAPE: ok = idx_ok(f->v, p->nshapes); break;
        case FK_IMM: ok = f->v >= 0 && f->v <= 255; break;
        default:
            return fail(err, errlen, "template field %u: bad field kind %u", i, f->kind);
        }
        if (!ok && f->kind == FK_NONE)
            return fail(err, errlen, "template field %u: an absent field has value 0, not %d", i,
                        f->v);
        if (!ok)
            return fail(err, errlen, "template field %u: %s value %d out of range", i,
                        lbc_field_kind_names[f->kind], f->v);
    }

    for (uint32_t i = 0; i < p->ntmpls; i++) {
        const struct lbc_tmpl *t = &p->tmpls[i];
        if (t->type >= TMPL__COUNT)
            return fail(err, errlen, "template e%u: bad type %u", i, t->type);
        const char *tn = lbc_tmpl_names[t->type];
        if (t->n != (uint32_t)lbc_tmpl_nfields[t->type])
            return fail(err, errlen, "template e%u (%s): %u fields, a %s template has %d", i, tn,
                        t->n, tn, lbc_tmpl_nfields[t->type]);
        if ((uint64_t)t->off + t->n > p->nfields)
            return fail(err, errlen, "template e%u (%s): fields %u..%llu past the end of the field table (%u)",
                        i, tn, t->off, (unsigned long long)t->off + t->n, p->nfields);
        const struct lbc_field *f = p->fields + t->off;
        const struct lbc_fieldinfo *fi = lbc_tmpl_fields[t->type];
        for (uint32_t k = 0; k < t->n; k++) {
            uint8_t kind = f[k].kind;
            bool ok;
            const char *want;
            if (kind == FK_NONE) {
                if (fi[k].required)
                    return fail(err, errlen, "template e%u (%s): field %s is required", i, tn,
                                fi[k].name);
                continue;
            }
            switch (fi[k].fclass) {
            case FC_SHAPE: ok = kind == FK_SHAPE; want = "a shape"; break;
            case FC_TIME: ok = kind == FK_TIME || kind == FK_REG; want = "a time or a register"; break;
            case FC_NUM: ok = kind == FK_NUM || kind == FK_REG; want = "a number or a register"; break;
            case FC_IMM: ok = kind == FK_IMM; want = "an immediate"; break;
            case FC_MARK: ok = kind == FK_REG; want = "a register"; break;
            default: ok = false; want = "?"; break;
            }
            if (!ok)
                return fail(err, errlen, "template e%u (%s): field %s is %s, it must be %s", i, tn,
                            fi[k].name, lbc_field_kind_names[kind], want);
            if (fi[k].fclass == FC_IMM && f[k].v > fi[k].imm_max)
                return fail(err, errlen, "template e%u (%s): field %s = %d out of range (0..%d)", i,
                            tn, fi[k].name, f[k].v, fi[k].imm_max);
        }
        if (t->type == TMPL_GRAD && f[GF_KIND].v == GRAD_ARB && f[GF_SHAPE].kind != FK_SHAPE)
            return fail(err, errlen, "template e%u (grad): an arbitrary gradient needs a shape", i);
        if (t->type == TMPL_RF && f[RFF_PHASE_SHAPE].kind == FK_SHAPE
            && p->shapes[f[RFF_PHASE_SHAPE].v].len != p->shapes[f[RFF_MAG].v].len)
            return fail(err, errlen, "template e%u (rf): phase shape has %u samples, magnitude %u", i,
                        p->shapes[f[RFF_PHASE_SHAPE].v].len, p->shapes[f[RFF_MAG].v].len);
    }

    for (uint32_t i = 0; i < p->nloops; i++) {
        const struct lbc_loop *l = &p->loops[i];
        if (!str_ok(p, l->name))
            return fail(err, errlen, "loop L%u: name string %d out of range (%u strings)", i,
                        l->name, p->nstrs);
        if (!reg_ok(p, l->ctr) || !reg_ok(p, l->lim) || !reg_ok(p, l->step))
            return fail(err, errlen, "loop L%u (%s): register out of range (%u registers)", i,
                        p->strs[l->name], p->nregs);
    }

    for (uint32_t i = 0; i < p->nparams; i++) {
        const struct lbc_param *q = &p->params[i];
        if (!str_ok(p, q->name))
            return fail(err, errlen, "parameter %u: name string %d out of range (%u strings)", i,
                        q->name, p->nstrs);
        if (q->kind != PARAM_NUM && q->kind != PARAM_TIME)
            return fail(err, errlen, "parameter %u (%s): bad kind %u", i, p->strs[q->name], q->kind);
    }
    return 0;
}

/* Checks operand number k (0 a, 1 b, 2 c) of the instruction at pc. */
static int verify_operand(const struct lbc_program *p, uint32_t pc, int k, char kind, int32_t v,
                          char *err, size_t errlen)
{
    const struct lbc_insn *in = &p->code[pc];
    const char *on = lbc_ops[in->op].name;
    char oc = "abc"[k];
    switch (kind) {
    case 'R':
        if (!reg_ok(p, v))
            return fail(err, errlen, "pc %u: %s operand %c: register r%d out of range (%u registers)",
                        pc, on, oc, v, p->nregs);
        return 0;
    case 'K':
        if (!idx_ok(v, p->nnums))
            return fail(err, errlen, "pc %u: %s operand %c: number k%d out of range (%u numbers)",
                        pc, on, oc, v, p->nnums);
        return 0;
    case 'I':
        if (!idx_ok(v, p->ntimes))
            return fail(err, errlen, "pc %u: %s operand %c: time t%d out of range (%u times)",
                        pc, on, oc, v, p->ntimes);
        return 0;
    case 'S':
        if (!str_or_none_ok(p, v))
            return fail(err, errlen, "pc %u: %s operand %c: string s%d out of range (%u strings)",
                        pc, on, oc, v, p->nstrs);
        return 0;
    case 'E': {
        if (!idx_ok(v, p->ntmpls))
            return fail(err, errlen, "pc %u: %s operand %c: template e%d out of range (%u templates)",
                        pc, on, oc, v, p->ntmpls);
        int want = lbc_op_tmpl_type(in->op);
        if (want >= 0 && p->tmpls[v].type != want)
            return fail(err, errlen, "pc %u: %s operand %c: template e%d is %s, not %s", pc, on, oc,
                        v, lbc_tmpl_names[p->tmpls[v].type], lbc_tmpl_names[want]);
        return 0;
    }
    case 'A':
        if (!idx_ok(v, p->nshapes))
            return fail(err, errlen, "pc %u: %s operand %c: shape a%d out of range (%u shapes)",
                        pc, on, oc, v, p->nshapes);
        return 0;
    case 'L':
        if (!idx_ok(v, p->nloops))
            return fail(err, errlen, "pc %u: %s operand %c: loop L%d out of range (%u loops)",
                        pc, on, oc, v, p->nloops);
        return 0;
    case 'M':
        if (!idx_ok(v, VM_MATH__COUNT))
            return fail(err, errlen, "pc %u: %s operand %c: unknown math function %d", pc, on, oc, v);
        return 0;
    case 'C':
        if (!idx_ok(v, VM_LABEL__COUNT))
            return fail(err, errlen, "pc %u: %s operand %c: unknown label counter %d", pc, on, oc, v);
        return 0;
    case 'N':
        if (v < 0 || v > 255)
            return fail(err, errlen, "pc %u: %s operand %c: immediate %d out of range (0..255)",
                        pc, on, oc, v);
        return 0;
    case 'P':
        if (in->op == OP_FORLOOP) {
            if (v < 0 || (uint32_t)v > pc)
                return fail(err, errlen, "pc %u: %s target %d is not backward", pc, on, v);
        } else if (v < 0 || (uint32_t)v <= pc) {
            return fail(err, errlen, "pc %u: %s target %d is not forward", pc, on, v);
        } else if ((uint32_t)v > p->ncode) {
            return fail(err, errlen, "pc %u: %s target %d past the end of the code (%u)", pc, on, v,
                        p->ncode);
        }
        return 0;
    default:    /* '-' or absent: unused */
        if (v != 0)
            return fail(err, errlen, "pc %u: %s operand %c is unused and must be 0, not %d", pc, on,
                        oc, v);
        return 0;
    }
}

static int jump_target(const struct lbc_insn *in)
{
    return in->op == OP_JMP ? in->a : in->b;
}

/* Operands of every instruction, then loop structure, then jump regions. */
static int verify_code(const struct lbc_program *p, char *err, size_t errlen)
{
    if (p->ncode == 0)
        return fail(err, errlen, "no code: a program ends with HALT");
    if (!p->lines)
        return fail(err, errlen, "the line table is missing");
    for (uint32_t pc = 0; pc < p->ncode; pc++) {
        const struct lbc_insn *in = &p->code[pc];
        if (in->op >= OP__COUNT)
            return fail(err, errlen, "pc %u: bad opcode %u", pc, in->op);
        const char *ops = lbc_ops[in->op].operands;
        size_t nops = strlen(ops);
        const int32_t v[3] = { in->a, in->b, in->c };
        for (int k = 0; k < 3; k++)
            if (verify_operand(p, pc, k, (size_t)k < nops ? ops[k] : '-', v[k], err, errlen))
                return -1;
        const struct lbc_span *s = &p->lines[pc];
        if (!str_or_none_ok(p, s->file))
            return fail(err, errlen, "pc %u: source file string s%d out of range (%u strings)", pc,
                        s->file, p->nstrs);
    }
    if (p->code[p->ncode - 1].op != OP_HALT)
        return fail(err, errlen, "pc %u: the last instruction is %s, not HALT", p->ncode - 1,
                    lbc_ops[p->code[p->ncode - 1].op].name);

    int ret = -1;
    int32_t *region = xmalloc(p->ncode * sizeof *region);   /* innermost loop, -1 none */
    uint32_t *loop_end = xcalloc(p->nloops, sizeof *loop_end);  /* pc of its FORLOOP */
    uint8_t *used = xcalloc(p->nloops, 1);
    int32_t stack[VM_MAX_LOOPS];
    int depth = 0;

    for (uint32_t pc = 0; pc < p->ncode; pc++) {
        const struct lbc_insn *in = &p->code[pc];
        region[pc] = depth ? stack[depth - 1] : -1;
        if (in->op == OP_FORPREP) {
            int32_t L = in->a;
            uint32_t q = (uint32_t)in->b - 1;   /* b > pc, so q >= pc */
            if (used[L]) {
                fail(err, errlen, "pc %u: FORPREP enters loop L%d (%s) a second time", pc, L,
                     lbc_str(p, p->loops[L].name));
                goto out;
            }
            if (q == pc || p->code[q].op != OP_FORLOOP || p->code[q].a != L) {
                fail(err, errlen, "pc %u: FORPREP L%d exit target %d does not follow a FORLOOP of the same loop",
                     pc, L, in->b);
                goto out;
            }
            if ((uint32_t)p->code[q].b != pc + 1) {
                fail(err, errlen, "pc %u: FORLOOP L%d jumps back to %d, not to its body start %u", q,
                     L, p->code[q].b, pc + 1);
                goto out;
            }
            if (depth && q >= loop_end[stack[depth - 1]]) {
                fail(err, errlen, "pc %u: loop L%d ends at %u, after the loop L%d that contains it",
                     pc, L, q, stack[depth - 1]);
                goto out;
            }
            if (depth == VM_MAX_LOOPS) {
                fail(err, errlen, "pc %u: loops nested more than %d deep", pc, VM_MAX_LOOPS);
                goto out;
            }
            used[L] = 1;
            loop_end[L] = q;
            stack[depth++] = L;
        } else if (in->op == OP_FORLOOP) {
            if (!depth || loop_end[stack[depth - 1]] != pc) {
                fail(err, errlen, "pc %u: FORLOOP L%d without its FORPREP", pc, in->a);
                goto out;
            }
            depth--;
        }
    }
    if (depth) {
        fail(err, errlen, "loop L%d is not closed", stack[depth - 1]);
        goto out;
    }
    for (uint32_t L = 0; L < p->nloops; L++)
        if (!used[L]) {
            fail(err, errlen, "loop L%u (%s) has no FORPREP/FORLOOP", L,
                 lbc_str(p, p->loops[L].name));
            goto out;
        }

    for (uint32_t pc = 0; pc < p->ncode; pc++) {
        const struct lbc_insn *in = &p->code[pc];
        if (in->op != OP_JMP && in->op != OP_JMPF)
            continue;
        int32_t t = jump_target(in);
        int32_t rt = (uint32_t)t == p->ncode ? -1 : region[t];
        int32_t rj = region[pc];
        if (rt == rj)
            continue;
        if (rj >= 0 && (uint32_t)t > loop_end[rj])
            fail(err, errlen, "pc %u: %s target %d leaves its loop", pc, lbc_ops[in->op].name, t);
        else
            fail(err, errlen, "pc %u: %s target %d jumps into the body of loop L%d", pc,
                 lbc_ops[in->op].name, t, rt);
        goto out;
    }
    ret = 0;

out:
    free(used);
    free(loop_end);
    free(region);
    return ret;
}

/* 0 if p is structurally valid, else -1 with the first problem in err. */
int lbc_verify(const struct lbc_program *p, char *err, size_t errlen)
{
    if (verify_header(p, err, errlen) || verify_pools(p, err, errlen)
        || verify_code(p, err, errlen))
        return -1;
    return 0;
}
