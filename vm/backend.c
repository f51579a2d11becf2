/*
 * backend: the read-only view of a program that backends receive
 * (struct vm_view, see backend.h) and the lookups on it: parameters by
 * index and by name, loop variable names, an instruction's source and
 * whether two instructions stand for one event. Only this module and the
 * VM look inside struct lbc_program on a backend's behalf.
 */
#include "vm/backend.h"

#include <string.h>

/* The view of p (an empty one for NULL). */
void vm_view_init(struct vm_view *v, const struct lbc_program *p)
{
    memset(v, 0, sizeof *v);
    v->source = "?";
    if (!p)
        return;
    v->prog = p;
    v->source = lbc_str(p, p->source);
    v->origin = p->origin == LBC_ORIGIN_PULSEQ ? LBC_ORIGIN_PULSEQ : LBC_ORIGIN_PSQ;
    v->sys_name = p->sys_name >= 0 ? lbc_str(p, p->sys_name) : NULL;
    v->sys_hash = p->sys_hash;
    v->grad_raster = p->grad_raster;
    v->rf_raster = p->rf_raster;
    v->adc_raster = p->adc_raster;
    v->block_raster = p->block_raster;
    v->rf_ringdown = p->rf_ringdown;
    v->adc_dead = p->adc_dead;
    v->nparams = p->nparams;
    v->nshapes = p->nshapes;
}

/* Declared parameter i; zeroed when out of range. */
struct vm_param vm_view_param(const struct vm_view *v, uint32_t i)
{
    struct vm_param r;
    memset(&r, 0, sizeof r);
    if (i >= v->nparams)
        return r;
    const struct lbc_param *q = &v->prog->params[i];
    r.name = lbc_str(v->prog, q->name);
    r.kind = q->kind == PARAM_TIME ? PARAM_TIME : PARAM_NUM;
    memcpy(r.dim, q->dim, sizeof r.dim);
    r.value = q->kind == PARAM_TIME ? (double)q->t * 1e-9 : q->f;
    return r;
}

/* The value of parameter name (the first so called), or dflt. */
double vm_view_param_value(const struct vm_view *v, const char *name, double dflt)
{
    for (uint32_t i = 0; i < v->nparams; i++) {
        struct vm_param q = vm_view_param(v, i);
        if (!strcmp(q.name, name))
            return q.value;
    }
    return dflt;
}

/* A loop variable's name from its string index. */
const char *vm_view_loop_name(const struct vm_view *v, int32_t name)
{
    return lbc_str(v->prog, name);
}

/* Where instruction pc came from. */
bool vm_view_pos(const struct vm_view *v, uint32_t pc, struct lbc_srcpos *pos)
{
    return lbc_pc_pos(v->prog, pc, pos);
}

/* The span of instruction pc in d's registered files. */
struct span vm_view_span(const struct vm_view *v, uint32_t pc, const struct diag_ctx *d,
                         struct lbc_srcpos *pos)
{
    return lbc_pc_span(v->prog, pc, d, pos);
}

/* Whether a and b stand for one event of the source. */
bool vm_view_same_event(const struct vm_view *v, uint32_t a, uint32_t b)
{
    if (a == b)
        return true;
    const struct lbc_program *p = v->prog;
    if (v->origin != LBC_ORIGIN_PULSEQ || !p->lines || a >= p->ncode || b >= p->ncode)
        return false;
    const struct lbc_span *x = &p->lines[a], *y = &p->lines[b];
    return x->file >= 0 && x->file == y->file && x->start == y->start && x->end == y->end &&
           p->code[a].op == p->code[b].op;
}
