/*
 * exec: statements. Top-level and function-body statements run at compile
 * time; inside `sequence` (and procedures called from it) loops, run-time
 * conditions, blocks and their events are lowered to bytecode. Events follow
 * the Pulseq block model: at most one RF, one gradient per axis, one ADC and
 * one trigger per block.
 */
#include "compiler/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool need_sequence(struct cg *c, struct node *n, const char *what)
{
    if (c->in_sequence)
        return true;
    struct diag *g = DIAG(c, 214, n->span, "%s only belongs in the sequence body", what);
    diag_help(g, "move it into `sequence { ... }` or into a function called from there");
    return false;
}

static void bind_checked(struct cg *c, struct env *e, const char *name, struct value v,
                         struct span sp, struct node *decl)
{
    struct binding *old = env_lookup_local(e, name);
    if (old) {
        struct diag *g = DIAG(c, 215, sp, "'%s' is already defined", name);
        if (old->decl.file >= 0)
            diag_note(g, old->decl, "the first definition is here");
        return;
    }
    struct binding *b = env_bind(c, e, name, v, sp);
    b->node = decl;
}

/* Set template field f from v (a time or a number of dimension d). */
static void field_from(struct cg *c, struct lbc_field *f, const struct value *v, bool time)
{
    if (v->reg >= 0) {
        f->kind = FK_REG;
        f->v = v->reg;
    } else if (time) {
        f->kind = FK_TIME;
        f->v = lbc_add_time(c->prog, v->k == V_TIME ? v->u.t : 0);
    } else {
        f->kind = FK_NUM;
        f->v = lbc_add_num(c->prog, v->u.f);
    }
}

/* Look up an optional field of an event record; checks its unit. */
static bool opt_field(struct cg *c, const struct record *r, const char *name, struct dim d,
                      struct span sp, const char *ev, struct value *out)
{
    const struct value *v = rec_get(r, name);
    if (!v)
        return false;
    char what[96];
    snprintf(what, sizeof what, "the %s field '%s'", ev, name);
    if (dim_is_time(d)) {
        if (!want_time(c, v, sp, what))
            return false;
        *out = v->k == V_TIME ? *v : v_time(0);
        return true;
    }
    if (!want_num(c, v, d, sp, what))
        return false;
    *out = *v;
    return true;
}

static bool time_field(struct cg *c, const struct record *r, const char *name, struct span sp,
                       const char *ev, struct lbc_field *f)
{
    struct value v;
    if (!opt_field(c, r, name, DIM_TIME, sp, ev, &v))
        return false;
    field_from(c, f, &v, true);
    return true;
}

static bool num_field(struct cg *c, const struct record *r, const char *name, struct dim d,
                      struct span sp, const char *ev, struct lbc_field *f)
{
    struct value v;
    if (!opt_field(c, r, name, d, sp, ev, &v))
        return false;
    field_from(c, f, &v, false);
    return true;
}

static const struct record *event_record(struct cg *c, struct env *e, struct node *n,
                                         const char *ev, struct value *hold)
{
    *hold = eval(c, e, n->a);
    if (hold->k == V_NONE)
        return NULL;
    if (hold->k != V_RECORD) {
        struct diag *g = DIAG(c, 601, n->a->span, "%s needs a record describing the event, "
                              "not %s", ev, v_kind_name(hold));
        if (!strcmp(ev, "rf"))
            diag_help(g, "e.g. rf rf.sinc(flip = 90 deg, dur = 3 ms, tbw = 4, thickness = 5 mm)");
        else if (!strcmp(ev, "grad"))
            diag_help(g, "e.g. grad x { amp: 10 mT/m, rise: 200 us, flat: 2 ms }");
        else if (!strcmp(ev, "adc"))
            diag_help(g, "e.g. adc { samples: 256, dwell: 10 us }");
        return NULL;
    }
    return hold->u.rec;
}

/* Where field `name` of an event's record was written: its name in a
   record literal or a `with` update of expr, else NULL (the record was
   built elsewhere, by a function). */
static const struct span *field_span(const struct node *expr, const char *name)
{
    while (expr) {
        const struct node *lit = expr->kind == N_RECORD ? expr
                                 : expr->kind == N_WITH ? expr->b : NULL;
        for (const struct node *f = lit ? lit->list : NULL; f; f = f->next)
            if (f->kind == N_RFIELD && !strcmp(f->name, name))
                return &f->name_span;
        expr = expr->kind == N_WITH ? expr->a : NULL;
    }
    return NULL;
}

static bool in_list(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(name, list[i]))
            return true;
    return false;
}

/* The fields of one kind of event: those it plays, and those the stdlib's
   constructors add to describe it (read by sequences, never played). */
struct ev_fields {
    const char *what;                   /* "a trapezoid gradient" */
    const char *const *play;
    size_t nplay;
    const char *const *describe;
    size_t ndescribe;
    const char *help;                   /* for a field of another kind, or NULL */
};

/* Every field of an event's record must be one that the event plays or
   describes. Any other is a typo or belongs to another kind of event, and
   would be dropped without a word: 'flatt' leaves a trapezoid without its
   flat top, 'phse' plays an RF pulse at phase 0, 'amp' on a waveform was
   never applied. One E0614 for each; false if there was one. */
static bool known_fields(struct cg *c, const struct record *r, const struct node *expr,
                         const struct ev_fields *k)
{
    bool ok = true;
    for (uint32_t i = 0; i < r->n; i++) {
        const char *name = r->names[i];
        if (in_list(name, k->play, k->nplay) || in_list(name, k->describe, k->ndescribe))
            continue;
        ok = false;
        const struct span *at = field_span(expr, name);
        struct diag *g = DIAG(c, 614, at ? *at : expr->span, "%s has no field '%s'", k->what,
                              name);
        const char *near = str_nearest(name, k->play, k->nplay);
        if (!near)
            near = str_nearest(name, k->describe, k->ndescribe);
        if (near)
            diag_help(g, "did you mean '%s'?", near);
        else if (k->help)
            diag_help(g, "%s", k->help);
        char *pl = str_join(k->play, k->nplay);
        if (k->ndescribe) {
            char *ds = str_join(k->describe, k->ndescribe);
            diag_note(g, SPAN_NONE, "%s plays %s, and may carry %s to describe it", k->what,
                      pl, ds);
            free(ds);
        } else {
            diag_note(g, SPAN_NONE, "%s plays %s", k->what, pl);
        }
        free(pl);
        if (!at)
            diag_note(g, SPAN_NONE, "the field was set where this record was built (by a "
                      "function, or a let)");
    }
    return ok;
}

static const char *const rf_play[] = { "shape", "phase_shape", "dt", "amp", "flip", "phase",
                                       "freq", "delay", "centre", "use" };
static const char *const rf_describe[] = { "dur", "bw", "select", "rephase", "thickness" };
static const char *const trap_play[] = { "amp", "rise", "flat", "fall", "delay" };
static const char *const arb_play[] = { "waveform", "dt", "delay" };
static const char *const grad_describe[] = { "area" };
static const char *const adc_play[] = { "samples", "dwell", "delay", "freq", "phase" };
static const char *const trig_play[] = { "channel", "delay", "dur" };

static const struct ev_fields rf_fields = {
    "an rf event", rf_play, ARRAY_LEN(rf_play), rf_describe, ARRAY_LEN(rf_describe), NULL
};
static const struct ev_fields trap_fields = {
    "a trapezoid gradient", trap_play, ARRAY_LEN(trap_play), grad_describe,
    ARRAY_LEN(grad_describe), "a gradient given as samples takes a 'waveform' (and 'dt') "
    "instead of amp, rise, flat and fall"
};
static const struct ev_fields arb_fields = {
    "an arbitrary gradient ('waveform')", arb_play, ARRAY_LEN(arb_play), grad_describe,
    ARRAY_LEN(grad_describe), "the waveform's own values are played: scale or shape the "
    "array itself, e.g. [w[i] * 0.5 for i in 0 .. len(w)]"
};
static const struct ev_fields adc_fields = {
    "an adc event", adc_play, ARRAY_LEN(adc_play), NULL, 0, NULL
};
static const struct ev_fields trig_fields = {
    "a trigger event", trig_play, ARRAY_LEN(trig_play), NULL, 0, NULL
};

/* A constant array of plain numbers as a shape-pool entry, scaled by 1/scale. */
static int32_t shape_of(struct cg *c, const struct value *v, struct span sp, const char *what,
                        struct dim d, double *maxabs, double *sum)
{
    if (v->k != V_ARRAY || v->u.arr->n == 0) {
        DIAG(c, 602, sp, "%s must be a non-empty array of numbers", what);
        return -1;
    }
    struct array *a = v->u.arr;
    if (!cg_work(c, a->n, sp))
        return -1;
    double *tmp = xmalloc(a->n * sizeof *tmp);
    double mx = 0, s = 0;
    for (uint32_t i = 0; i < a->n; i++) {
        const struct value *x = &a->v[i];
        if (x->k != V_NUM || x->reg >= 0 || !dim_eq(x->dim, d)) {
            char dd[96], have[96];
            dim_describe(d, dd, sizeof dd);
            v_describe(x, have, sizeof have);
            DIAG(c, 602, sp, "%s must hold constants of %s; element %u is %s", what, dd, i,
                 have);
            free(tmp);
            return -1;
        }
        tmp[i] = x->u.f;
        if (fabs(tmp[i]) > mx)
            mx = fabs(tmp[i]);
        s += tmp[i];
    }
    if (maxabs) {
        *maxabs = mx;
        if (mx > 0)
            for (uint32_t i = 0; i < a->n; i++)
                tmp[i] /= mx;
    }
    if (sum)
        *sum = s;
    int32_t p = lbc_add_shape(c->prog, tmp, a->n);
    free(tmp);
    return p;
}

static const char *use_names[] = { "undefined", "excitation", "refocusing", "inversion",
                                   "saturation", "preparation", "other" };

static void lower_rf(struct cg *c, struct env *e, struct node *n)
{
    struct value hold;
    const struct record *r = event_record(c, e, n, "rf", &hold);
    if (!r || !known_fields(c, r, n->a, &rf_fields))
        return;
    struct span sp = n->a->span;
    struct lbc_field f[RFF__COUNT];
    memset(f, 0, sizeof f);
    const struct value *shape = rec_get(r, "shape");
    if (!shape) {
        struct diag *g = DIAG(c, 603, sp, "an rf event needs a 'shape' (its samples)");
        diag_help(g, "build pulses with the rf module: rf.hard(...), rf.sinc(...), "
                  "rf.gauss(...)");
        return;
    }
    double sum = 0;
    int32_t sh = shape_of(c, shape, sp, "the rf shape", DIM_NONE, NULL, &sum);
    if (sh < 0)
        return;
    f[RFF_MAG] = (struct lbc_field){ FK_SHAPE, sh };
    const struct value *ph = rec_get(r, "phase_shape");
    if (ph) {
        int32_t p = shape_of(c, ph, sp, "the rf phase_shape", DIM_NONE, NULL, NULL);
        if (p < 0)
            return;
        if (c->prog->shapes[p].len != c->prog->shapes[sh].len) {
            DIAG(c, 602, sp, "the rf phase_shape must have as many samples as its shape");
            return;
        }
        f[RFF_PHASE_SHAPE] = (struct lbc_field){ FK_SHAPE, p };
    }
    struct value dt = v_time(c->sys->rf_raster_ns);
    opt_field(c, r, "dt", DIM_TIME, sp, "rf", &dt);
    field_from(c, &f[RFF_DT], &dt, true);
    struct value amp;
    if (!opt_field(c, r, "amp", DIM_TESLA, sp, "rf", &amp)) {
        struct value flip;
        if (rec_get(r, "amp"))
            return;
        if (!opt_field(c, r, "flip", DIM_NONE, sp, "rf", &flip)) {
            if (!rec_get(r, "flip"))
                DIAG(c, 603, sp, "an rf event needs 'amp' (peak B1) or 'flip' (flip angle)");
            return;
        }
        if (dt.reg >= 0) {
            DIAG(c, 603, sp, "a flip angle needs the rf raster 'dt' known at compile time");
            return;
        }
        double area = sum * (double)dt.u.t * 1e-9;   /* s */
        if (fabs(area) < 1e-15) {
            DIAG(c, 604, sp, "this rf shape has no area, so no flip angle can be set; "
                 "give 'amp' instead");
            return;
        }
        double k = 1.0 / (2 * 3.14159265358979323846 * c->sys->gamma * area); /* T per rad */
        if (flip.reg < 0) {
            amp = v_num(flip.u.f * k, DIM_TESLA);
        } else {
            struct value kv = v_num(k, DIM_NONE);
            amp = v_num(0, DIM_TESLA);
            amp.reg = cg_newreg(c);
            cg_emit(c, OP_MULF, amp.reg, flip.reg, cg_to_reg(c, &kv, sp), sp);
        }
    }
    field_from(c, &f[RFF_AMP], &amp, false);
    if (!num_field(c, r, "phase", DIM_NONE, sp, "rf", &f[RFF_PHASE]))
        f[RFF_PHASE] = (struct lbc_field){ FK_NONE, 0 };
    if (!num_field(c, r, "freq", DIM_FREQ, sp, "rf", &f[RFF_FREQ]))
        f[RFF_FREQ] = (struct lbc_field){ FK_NONE, 0 };
    if (!time_field(c, r, "delay", sp, "rf", &f[RFF_DELAY]))
        f[RFF_DELAY] = (struct lbc_field){ FK_NONE, 0 };
    if (!time_field(c, r, "centre", sp, "rf", &f[RFF_CENTRE]))
        f[RFF_CENTRE] = (struct lbc_field){ FK_NONE, 0 };
    f[RFF_USE] = (struct lbc_field){ FK_IMM, VM_RFUSE_UNDEFINED };
    const struct value *use = rec_get(r, "use");
    if (use) {
        int u = -1;
        if (use->k == V_STR)
            for (int i = 0; i < (int)ARRAY_LEN(use_names); i++)
                if (!strcmp(use->u.s, use_names[i]))
                    u = i;
        if (u < 0) {
            struct diag *g = use->k == V_STR
                ? DIAG(c, 605, sp, "unknown rf use \"%s\"", use->u.s)
                : DIAG(c, 605, sp, "the rf use must be a string, not %s", v_kind_name(use));
            diag_help(g, "use is one of \"excitation\", \"refocusing\", \"inversion\", "
                      "\"saturation\", \"preparation\", \"other\"");
            return;
        }
        f[RFF_USE].v = u;
    }
    cg_emit(c, OP_RF, lbc_add_tmpl(c->prog, TMPL_RF, f), 0, 0, n->span);
}

static void lower_grad(struct cg *c, struct env *e, struct node *n, int axis)
{
    struct value hold;
    const struct record *r = event_record(c, e, n, "grad", &hold);
    if (!r || !known_fields(c, r, n->a, rec_get(r, "waveform") ? &arb_fields : &trap_fields))
        return;
    struct span sp = n->a->span;
    struct lbc_field f[GF__COUNT];
    memset(f, 0, sizeof f);
    f[GF_AXIS] = (struct lbc_field){ FK_IMM, axis };
    if (!time_field(c, r, "delay", sp, "grad", &f[GF_DELAY]))
        f[GF_DELAY] = (struct lbc_field){ FK_NONE, 0 };
    const struct value *wf = rec_get(r, "waveform");
    if (wf) {
        double mx = 0;
        int32_t sh = shape_of(c, wf, sp, "the gradient waveform", DIM_GRAD, &mx, NULL);
        if (sh < 0)
            return;
        f[GF_KIND] = (struct lbc_field){ FK_IMM, GRAD_ARB };
        f[GF_SHAPE] = (struct lbc_field){ FK_SHAPE, sh };
        struct value amp = v_num(mx, DIM_GRAD);
        field_from(c, &f[GF_AMP], &amp, false);
        struct value dt = v_time(c->sys->grad_raster_ns);
        opt_field(c, r, "dt", DIM_TIME, sp, "grad", &dt);
        field_from(c, &f[GF_DT], &dt, true);
    } else {
        f[GF_KIND] = (struct lbc_field){ FK_IMM, GRAD_TRAP };
        if (!num_field(c, r, "amp", DIM_GRAD, sp, "grad", &f[GF_AMP])) {
            if (!rec_get(r, "amp")) {
                struct diag *g = DIAG(c, 606, sp, "a gradient needs 'amp' (a trapezoid) or "
                                      "'waveform' (an arbitrary gradient)");
                diag_help(g, "build trapezoids with the grad module: grad.trap(area = ...)");
            }
            return;
        }
        if (!time_field(c, r, "rise", sp, "grad", &f[GF_RISE])) {
            if (!rec_get(r, "rise"))
                DIAG(c, 606, sp, "a trapezoid needs 'rise' (its ramp-up time)");
            return;
        }
        if (!time_field(c, r, "flat", sp, "grad", &f[GF_FLAT]))
            f[GF_FLAT] = (struct lbc_field){ FK_NONE, 0 };
        if (!time_field(c, r, "fall", sp, "grad", &f[GF_FALL]))
            f[GF_FALL] = f[GF_RISE];
        f[GF_SHAPE] = (struct lbc_field){ FK_NONE, 0 };
        f[GF_DT] = (struct lbc_field){ FK_NONE, 0 };
    }
    cg_emit(c, OP_GRAD, lbc_add_tmpl(c->prog, TMPL_GRAD, f), 0, 0, n->span);
}

static void lower_adc(struct cg *c, struct env *e, struct node *n)
{
    struct value hold;
    const struct record *r = event_record(c, e, n, "adc", &hold);
    if (!r || !known_fields(c, r, n->a, &adc_fields))
        return;
    struct span sp = n->a->span;
    struct lbc_field f[AF__COUNT];
    memset(f, 0, sizeof f);
    struct value s;
    if (!opt_field(c, r, "samples", DIM_NONE, sp, "adc", &s)) {
        if (!rec_get(r, "samples"))
            DIAG(c, 607, sp, "an adc event needs 'samples'");
        return;
    }
    if (s.reg < 0 && (s.u.f != floor(s.u.f) || s.u.f < 1 || s.u.f > 1e9)) {
        DIAG(c, 607, sp, "adc samples must be a whole number from 1, not %g", s.u.f);
        return;
    }
    field_from(c, &f[AF_SAMPLES], &s, false);
    if (!time_field(c, r, "dwell", sp, "adc", &f[AF_DWELL])) {
        if (!rec_get(r, "dwell"))
            DIAG(c, 607, sp, "an adc event needs 'dwell' (the sample spacing)");
        return;
    }
    if (!time_field(c, r, "delay", sp, "adc", &f[AF_DELAY]))
        f[AF_DELAY] = (struct lbc_field){ FK_NONE, 0 };
    if (!num_field(c, r, "freq", DIM_FREQ, sp, "adc", &f[AF_FREQ]))
        f[AF_FREQ] = (struct lbc_field){ FK_NONE, 0 };
    if (!num_field(c, r, "phase", DIM_NONE, sp, "adc", &f[AF_PHASE]))
        f[AF_PHASE] = (struct lbc_field){ FK_NONE, 0 };
    cg_emit(c, OP_ADC, lbc_add_tmpl(c->prog, TMPL_ADC, f), 0, 0, n->span);
}

static void lower_trig(struct cg *c, struct env *e, struct node *n)
{
    struct value hold;
    const struct record *r = event_record(c, e, n, "trigger", &hold);
    if (!r || !known_fields(c, r, n->a, &trig_fields))
        return;
    struct span sp = n->a->span;
    struct lbc_field f[TF__COUNT];
    memset(f, 0, sizeof f);
    struct value ch = v_num(0, DIM_NONE);
    opt_field(c, r, "channel", DIM_NONE, sp, "trigger", &ch);
    if (ch.reg >= 0 || ch.u.f < 0 || ch.u.f > 255 || ch.u.f != floor(ch.u.f)) {
        DIAG(c, 608, sp, "a trigger channel must be a constant whole number 0..255");
        return;
    }
    f[TF_CHANNEL] = (struct lbc_field){ FK_IMM, (int32_t)ch.u.f };
    if (!time_field(c, r, "delay", sp, "trigger", &f[TF_DELAY]))
        f[TF_DELAY] = (struct lbc_field){ FK_NONE, 0 };
    if (!time_field(c, r, "dur", sp, "trigger", &f[TF_DUR]))
        f[TF_DUR] = (struct lbc_field){ FK_NONE, 0 };
    cg_emit(c, OP_TRIG, lbc_add_tmpl(c->prog, TMPL_TRIG, f), 0, 0, n->span);
}

static bool once(struct cg *c, struct node **slot, struct node *n, const char *what)
{
    if (*slot) {
        struct diag *g = DIAG(c, 609, n->span, "a block holds at most one %s", what);
        diag_note(g, (*slot)->span, "the first one is here");
        diag_help(g, "Pulseq's block model: one RF, one gradient per axis, one ADC; split "
                  "the block in two");
        return false;
    }
    *slot = n;
    return true;
}

static void lower_label(struct cg *c, struct env *e, struct node *n)
{
    int ctr = -1;
    for (int i = 0; i < VM_LABEL__COUNT; i++)
        if (!strcmp(n->name, vm_label_names[i]))
            ctr = i;
    if (ctr < 0) {
        struct diag *g = DIAG(c, 610, n->name_span, "unknown label counter '%s'", n->name);
        diag_help(g, "counters are lin, par, slc, eco, rep, avg, set, seg, phs");
        return;
    }
    struct value v = eval(c, e, n->a);
    if (!want_num(c, &v, DIM_NONE, n->a->span, "a label value"))
        return;
    if (v.reg < 0 && (v.u.f != floor(v.u.f) || fabs(v.u.f) > 2147483647.0)) {
        DIAG(c, 610, n->a->span, "a label value must be a whole number");
        return;
    }
    cg_emit(c, OP_LABEL, ctr, n->op, cg_to_reg(c, &v, n->a->span), n->span);
}

static void lower_block(struct cg *c, struct env *e, struct node *n)
{
    if (!need_sequence(c, n, "a block"))
        return;
    memset(&c->blk, 0, sizeof c->blk);
    struct node *rfn = NULL, *adcn = NULL, *trgn = NULL, *durn = NULL, *gn[3] = { 0 };
    cg_emit(c, OP_BEGIN, n->name ? lbc_add_string(c->prog, n->name) : -1, 0, 0, n->span);
    for (struct node *it = n->list; it; it = it->next) {
        switch (it->kind) {
        case N_EV_RF:
            if (once(c, &rfn, it, "rf event"))
                lower_rf(c, e, it);
            break;
        case N_EV_GRAD: {
            int axis = !strcmp(it->name, "x") ? 0 : !strcmp(it->name, "y") ? 1 :
                       !strcmp(it->name, "z") ? 2 : -1;
            if (axis < 0) {
                DIAG(c, 611, it->name_span, "unknown gradient axis '%s'; use x, y or z",
                     it->name);
                break;
            }
            static const char *const gname[] = { "gradient on x", "gradient on y",
                                                 "gradient on z" };
            if (once(c, &gn[axis], it, gname[axis]))
                lower_grad(c, e, it, axis);
            break;
        }
        case N_EV_ADC:
            if (once(c, &adcn, it, "adc event"))
                lower_adc(c, e, it);
            break;
        case N_EV_TRIG:
            if (once(c, &trgn, it, "trigger"))
                lower_trig(c, e, it);
            break;
        case N_EV_LABEL:
            lower_label(c, e, it);
            break;
        case N_EV_DUR:
            once(c, &durn, it, "duration");
            break;
        default:
            break;
        }
    }
    struct lbc_field f[EF__COUNT];
    memset(f, 0, sizeof f);
    if (durn) {
        struct value d = eval(c, e, durn->a);
        if (want_time(c, &d, durn->a->span, "a block duration")) {
            if (d.k != V_TIME)
                d = v_time(0);
            field_from(c, &f[EF_DUR], &d, true);
        }
    }
    f[EF_ALIGN_KIND] = (struct lbc_field){ FK_IMM, ALIGN_NONE };
    struct value at = v_none();
    if (n->a) {
        int k = n->op;
        if (k == ALIGN_RF && !rfn) {
            DIAG(c, 612, n->span, "this block aligns its rf centre but has no rf event");
        } else if (k == ALIGN_ADC && !adcn) {
            DIAG(c, 612, n->span, "this block aligns its adc centre but has no adc event");
        } else {
            at = eval(c, e, n->a);
            if (want_time(c, &at, n->a->span, "an alignment target")) {
                if (at.k != V_TIME)
                    at = v_time(0);
                f[EF_ALIGN_KIND] = (struct lbc_field){ FK_IMM, k };
                field_from(c, &f[EF_ALIGN_AT], &at, true);
            }
        }
    }
    struct blockref *br = NULL;
    if (n->name) {
        br = arena_alloc(c->arena, sizeof *br);
        br->name = n->name;
        br->r_start = cg_newreg(c);
        br->r_end = cg_newreg(c);
        br->r_rf = rfn ? cg_newreg(c) : -1;
        br->r_adc = adcn ? cg_newreg(c) : -1;
        f[EF_MARK_START] = (struct lbc_field){ FK_REG, br->r_start };
        f[EF_MARK_END] = (struct lbc_field){ FK_REG, br->r_end };
        if (rfn)
            f[EF_MARK_RF] = (struct lbc_field){ FK_REG, br->r_rf };
        if (adcn)
            f[EF_MARK_ADC] = (struct lbc_field){ FK_REG, br->r_adc };
    }
    uint32_t pc = cg_emit(c, OP_END, lbc_add_tmpl(c->prog, TMPL_END, f), 0, 0,
                          n->a ? n->a->span : n->span);
    if (n->a && f[EF_ALIGN_KIND].v != ALIGN_NONE) {
        struct constraint k = { pc, n->a, n, n->op };
        VEC_PUSH(c->cons, c->ncons, c->capcons, k);
    }
    if (br) {
        struct value v = v_none();
        v.k = V_BLOCKREF;
        v.u.blk = br;
        bind_checked(c, e, n->name, v, n->name_span, n);
    }
}

static void lower_for(struct cg *c, struct env *e, struct node *n)
{
    if (!need_sequence(c, n, "a for loop")) {
        return;
    }
    struct value lo = eval(c, e, n->a), hi = eval(c, e, n->b);
    if (!want_num(c, &lo, DIM_NONE, n->a->span, "a loop bound") ||
        !want_num(c, &hi, DIM_NONE, n->b->span, "a loop bound"))
        return;
    if (lo.reg < 0 && lo.u.f != floor(lo.u.f)) {
        DIAG(c, 308, n->a->span, "a loop bound must be a whole number, not %g", lo.u.f);
        return;
    }
    if (hi.reg < 0 && hi.u.f != floor(hi.u.f)) {
        DIAG(c, 308, n->b->span, "a loop bound must be a whole number, not %g", hi.u.f);
        return;
    }
    int32_t ctr = cg_newreg(c);
    int32_t rl = cg_to_reg(c, &lo, n->a->span);
    int32_t lim = cg_to_reg(c, &hi, n->b->span);
    struct value one = v_num(1, DIM_NONE);
    int32_t step = cg_to_reg(c, &one, n->span);
    cg_emit(c, OP_MOV, ctr, rl, 0, n->span);
    int32_t loop = lbc_add_loop(c->prog, lbc_add_string(c->prog, n->name), ctr, lim, step);
    uint32_t prep = cg_emit(c, OP_FORPREP, loop, 0, 0, n->span);
    struct env *le = env_new(c, e, 8);
    struct value iv = v_num(0, DIM_NONE);
    iv.reg = ctr;
    env_bind(c, le, n->name, iv, n->name_span);
    c->loop_depth++;
    bool saved = c->runtime_branch;
    c->runtime_branch = true;
    struct value ret;
    if (exec_stmts(c, le, n->list, &ret))
        DIAG(c, 216, n->span, "internal: return inside a loop");
    c->runtime_branch = saved;
    c->loop_depth--;
    uint32_t back = cg_emit(c, OP_FORLOOP, loop, (int32_t)prep + 1, 0, n->span);
    c->prog->code[prep].b = (int32_t)back + 1;
}

static bool exec_if(struct cg *c, struct env *e, struct node *n, struct value *ret)
{
    struct value cond = eval(c, e, n->a);
    if (cond.k == V_NONE)
        return false;
    if (cond.k != V_BOOL) {
        DIAG(c, 303, n->a->span, "an if condition must be true or false, not %s",
             v_kind_name(&cond));
        return false;
    }
    if (cond.reg < 0) {
        struct env *be = env_new(c, e, 8);
        if (cond.u.f != 0)
            return exec_stmts(c, be, n->list, ret);
        if (n->list2)
            return exec_stmts(c, be, n->list2, ret);
        return false;
    }
    if (!c->in_sequence) {
        DIAG(c, 217, n->a->span, "this condition is only known at run time");
        return false;
    }
    bool saved = c->runtime_branch;
    c->runtime_branch = true;
    uint32_t jf = cg_emit(c, OP_JMPF, cond.reg, 0, 0, n->a->span);
    struct value dummy;
    exec_stmts(c, env_new(c, e, 8), n->list, &dummy);
    if (n->list2) {
        uint32_t j = cg_emit(c, OP_JMP, 0, 0, 0, n->span);
        c->prog->code[jf].b = (int32_t)c->prog->ncode;
        exec_stmts(c, env_new(c, e, 8), n->list2, &dummy);
        c->prog->code[j].a = (int32_t)c->prog->ncode;
    } else {
        c->prog->code[jf].b = (int32_t)c->prog->ncode;
    }
    c->runtime_branch = saved;
    return false;
}

/* Check an assert (or lower it when run-time); true if it failed at compile time. */
static bool exec_assert(struct cg *c, struct env *e, struct node *n)
{
    struct value v = eval(c, e, n->a);
    if (v.k == V_NONE)
        return false;
    if (v.k != V_BOOL) {
        DIAG(c, 303, n->a->span, "assert needs a condition, not %s", v_kind_name(&v));
        return false;
    }
    if (v.reg < 0) {
        if (v.u.f == 0) {
            if (n->str)
                DIAG(c, 218, n->a->span, "assertion failed: %s", n->str);
            else
                DIAG(c, 218, n->a->span, "assertion failed");
            return true;
        }
        return false;
    }
    if (!c->in_sequence) {
        DIAG(c, 217, n->a->span, "this condition is only known at run time");
        return false;
    }
    int32_t t = cg_newreg(c);
    cg_emit(c, OP_NOT, t, v.reg, 0, n->span);
    uint32_t j = cg_emit(c, OP_JMPF, t, 0, 0, n->span);
    cg_emit(c, OP_ERROR, lbc_add_string(c->prog, n->str ? n->str : "assertion failed"), 0, 0,
            n->a->span);
    c->prog->code[j].b = (int32_t)c->prog->ncode;
    return false;
}

bool exec_stmts(struct cg *c, struct env *e, struct node *list, struct value *ret)
{
    for (struct node *n = list; n; n = n->next)
        if (exec_stmt(c, e, n, ret))
            return true;
    return false;
}

static bool exec_node(struct cg *c, struct env *e, struct node *n, struct value *ret);

bool exec_stmt(struct cg *c, struct env *e, struct node *n, struct value *ret)
{
    if (!cg_enter(c, n->span))
        return false;
    bool r = exec_node(c, e, n, ret);
    c->nest--;
    return r;
}

static bool exec_node(struct cg *c, struct env *e, struct node *n, struct value *ret)
{
    {
        switch (n->kind) {
        case N_LET: {
            /* no value after any earlier error may be its consequence (a param
               in error is bound to no value): report only a first cause */
            struct value v = eval(c, e, n->a);
            if (v.k == V_NONE && c->diag->nerrors == 0)
                DIAG(c, 219, n->a->span, "this expression gives no value");
            bind_checked(c, e, n->name, v, n->name_span, n);
            break;
        }
        case N_FN: {
            struct value v = v_none();
            v.k = V_FUNC;
            v.u.fn = arena_alloc(c->arena, sizeof *v.u.fn);
            v.u.fn->decl = n;
            v.u.fn->env = e;
            bind_checked(c, e, n->name, v, n->name_span, n);
            names_defined(c, n, e);
            break;
        }
        case N_FOR:
            lower_for(c, e, n);
            break;
        case N_IF:
            if (exec_if(c, e, n, ret))
                return true;
            break;
        case N_BLOCK:
            lower_block(c, e, n);
            break;
        case N_DELAY:
        case N_WAIT: {
            if (!need_sequence(c, n, n->kind == N_DELAY ? "a delay" : "wait until"))
                break;
            struct value v = eval(c, e, n->a);
            if (!want_time(c, &v, n->a->span, n->kind == N_DELAY ? "a delay" : "a wait target"))
                break;
            if (v.k != V_TIME)
                v = v_time(0);
            if (n->kind == N_DELAY && v.reg < 0 && v.u.t < 0) {
                char d[64];
                units_format((double)v.u.t * 1e-9, DIM_TIME, d, sizeof d);
                DIAG(c, 613, n->a->span, "a delay cannot be negative (%s)", d);
                break;
            }
            uint32_t pc = cg_emit(c, n->kind == N_DELAY ? OP_DELAY : OP_WAITUNTIL,
                                  cg_to_reg(c, &v, n->a->span), 0, 0, n->a->span);
            if (n->kind == N_WAIT) {
                struct constraint k = { pc, n->a, n, 0 };
                VEC_PUSH(c->cons, c->ncons, c->capcons, k);
            }
            break;
        }
        case N_RETURN:
            if (c->depth == 0) {
                DIAG(c, 216, n->span, "return is only allowed in a function");
                break;
            }
            if (c->runtime_branch) {
                struct diag *g = DIAG(c, 216, n->span, "return inside a loop or a run-time "
                                      "condition is not supported");
                diag_help(g, "compute the value with `if cond then a else b`");
                break;
            }
            *ret = eval(c, e, n->a);
            return true;
        case N_ASSERT:
            /* a failed assert ends the function call (its value is none), so that
               its result does not cause further errors at the caller */
            if (exec_assert(c, e, n) && c->depth > 0 && !c->runtime_branch) {
                *ret = v_none();
                return true;
            }
            break;
        case N_EXPRSTMT: {
            struct value v = eval(c, e, n->a);
            if (v.k != V_NONE && n->a->kind != N_CALL)
                diag_warning(c->diag, 201, n->span, "this expression's value is unused");
            break;
        }
        case N_PARAM:
        case N_IMPORT:
        case N_SEQUENCE: {
            const char *w = n->kind == N_PARAM ? "param" : n->kind == N_IMPORT ? "import" :
                            "sequence";
            DIAG(c, 220, n->span, "'%s' is only allowed at the top level of a file", w);
            break;
        }
        default:
            DIAG(c, 221, n->span, "an event (rf, grad, adc, ...) belongs inside a block");
            break;
        }
    }
    return false;
}
