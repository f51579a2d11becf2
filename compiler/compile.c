/*
 * compile: the compiler driver. Loads the main file and its imports (from
 * the sequence's own folder, then stdlib/), evaluates params with -D
 * overrides and their ranges, lowers the sequence body, and runs the
 * program once on the timing VM (the dry run) so that timing constraints
 * that cannot be met are reported at their source, with the minimum value
 * of the parameter that would satisfy them.
 */
#include "compiler/internal.h"
#include "base/membudget.h"
#include "base/paths.h"
#include "runtime/check/check.h"
#include "vm/vm.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* State that survives the repeated compilations of the min-search. */
struct session {
    struct arena ast_arena;
    struct diag_ctx *diag;
    const struct compile_opts *opts;
    struct system sys;
    struct parsed_file *parsed;
    struct override *ovr;
    int novr;
    int main_file;
    uint64_t work;             /* evaluation work of all attempts (opts->max_work) */
};

static bool file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}


static struct parsed_file *parse_cached(struct session *s, const char *path, int file)
{
    for (struct parsed_file *p = s->parsed; p; p = p->next)
        if (!strcmp(p->path, path))
            return p;
    struct parsed_file *p = arena_alloc(&s->ast_arena, sizeof *p);
    p->path = arena_strdup(&s->ast_arena, path);
    p->file = file;
    p->ast = parse_file(&s->ast_arena, s->diag, file);
    p->next = s->parsed;
    s->parsed = p;
    return p;
}

/* Load (or find) a source file by path, registered under `shown` (the name
   diagnostics and line tables use); -1 if it cannot be read. */
static int load_source(struct session *s, const char *path, const char *shown, struct span from,
                       const char *what)
{
    int f = diag_find_file(s->diag, shown);
    if (f >= 0)
        return f;
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        diag_error(s->diag, 503, from, "cannot read %s '%s': %s", what, path, strerror(errno));
        return -1;
    }
    if (memchr(text, 0, len)) {
        diag_error(s->diag, 503, from, "%s '%s' is not a text file (it contains NUL bytes)",
                   what, path);
        free(text);
        return -1;
    }
    f = diag_add_file(s->diag, shown, text, len);
    free(text);
    return f;
}

static char *dir_of(const char *path)
{
    char *tmp = xstrdup(path);
    char *d = xstrdup(dirname(tmp));
    free(tmp);
    return d;
}

static void eval_module(struct cg *c, struct session *s, struct module *m, bool is_main);

static struct module *import_module(struct cg *c, struct session *s, struct module *from,
                                    struct node *imp)
{
    const char *name = imp->name;
    char *dir = dir_of(from->path);
    const char *std = c->opts->stdlib_dir ? c->opts->stdlib_dir : paths_stdlib();
    char *cands[2] = { xasprintf("%s/%s.psq", dir, name), xasprintf("%s/%s.psq", std, name) };
    char *rdir = realpath(dir, NULL), *rstd = realpath(std, NULL);
    bool in_std = rdir && rstd && !strcmp(rdir, rstd);
    free(rdir);
    free(rstd);
    free(dir);
    const char *found = NULL;
    char *shown = NULL;
    for (int i = 0; i < 2; i++)
        if (!found && file_exists(cands[i])) {
            found = cands[i];
            /* stdlib modules are shown as stdlib/NAME.psq wherever it lives, so
               that listings and diagnostics do not depend on the install path */
            shown = (i == 1 || in_std) ? xasprintf("stdlib/%s.psq", name) : xstrdup(found);
        }
    if (!found) {
        struct diag *g = DIAG(c, 501, imp->name_span, "cannot find module '%s'", name);
        diag_note(g, SPAN_NONE, "looked for %s.psq in the sequence's folder and in stdlib/",
                  name);
        free(cands[0]);
        free(cands[1]);
        return NULL;
    }
    char *path = xstrdup(found);
    free(cands[0]);
    free(cands[1]);
    for (struct module *m = c->mods; m; m = m->next)
        if (!strcmp(m->path, path)) {
            free(path);
            free(shown);
            if (m->state == MOD_LOADING) {
                struct strbuf b;
                sb_init(&b);
                sb_printf(&b, "%s", m->name);
                /* the chain: modules still loading, newest first in the list */
                struct module *chain[64];
                int nch = 0;
                for (struct module *x = c->mods; x && nch < 64; x = x->next)
                    if (x->state == MOD_LOADING)
                        chain[nch++] = x;
                /* chain[0] is the innermost; print from m down to the innermost */
                int start = -1;
                for (int i = 0; i < nch; i++)
                    if (chain[i] == m)
                        start = i;
                for (int i = start - 1; i >= 0; i--)
                    sb_printf(&b, " -> %s", chain[i]->name);
                sb_printf(&b, " -> %s", m->name);
                struct diag *g = DIAG(c, 502, imp->name_span, "import cycle: %s", b.s);
                diag_help(g, "move what both modules need into a third module");
                sb_fini(&b);
                return NULL;
            }
            return m->state == MOD_DONE ? m : NULL;
        }
    struct module *m = arena_alloc(c->arena, sizeof *m);
    m->name = name;
    m->path = arena_strdup(c->arena, path);
    free(path);
    m->import_span = imp->name_span;
    m->state = MOD_LOADING;
    m->next = c->mods;
    c->mods = m;
    m->file = load_source(s, m->path, shown, imp->name_span, "module");
    free(shown);
    if (m->file < 0) {
        m->state = MOD_FAILED;
        return NULL;
    }
    m->ast = parse_cached(s, m->path, m->file)->ast;
    eval_module(c, s, m, false);
    return m->state == MOD_DONE ? m : NULL;
}

/* A formatted value as one shell word for a -D hint: "500 ms" -> "500ms". */
static void one_word(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++)
        if (*r != ' ')
            *w++ = *r;
    *w = 0;
}

static struct override *find_override(struct cg *c, const char *name)
{
    for (int i = 0; i < c->novr; i++)
        if (!strcmp(c->ovr[i].name, name))
            return &c->ovr[i];
    return NULL;
}

static void eval_param(struct cg *c, struct env *e, struct node *n)
{
    struct value def = eval(c, e, n->a);
    if (def.k == V_NONE)
        return;
    if (!v_is_const_num(&def) || def.k == V_BOOL) {
        DIAG(c, 404, n->a->span, "a param default must be a constant number, not %s",
             v_kind_name(&def));
        return;
    }
    struct value v = def;
    struct span vsp = n->a->span;
    struct override *o = find_override(c, n->name);
    if (o) {
        o->used = true;
        struct value ov = o->forced ? o->fv : eval(c, c->root, o->expr);
        if (ov.k == V_NONE)
            return;
        char dd[96], od[96];
        dim_describe(def.dim, dd, sizeof dd);
        if (!v_is_const_num(&ov) || ov.k == V_BOOL) {
            DIAG(c, 402, o->span, "the value for '%s' must be a number", n->name);
            return;
        }
        if (!dim_eq(ov.dim, def.dim)) {
            dim_describe(ov.dim, od, sizeof od);
            struct diag *g = DIAG(c, 402, o->span, "'%s' is %s, but the value given is %s",
                                  n->name, dd, od);
            diag_note(g, n->name_span, "'%s' is declared here", n->name);
            if (dim_is_none(ov.dim)) {
                char ex[64];
                units_format(v_si(&def), def.dim, ex, sizeof ex);
                one_word(ex);
                diag_help(g, "give the unit, e.g. -D %s=%s", n->name, ex);
            }
            return;
        }
        v = ov;
        vsp = o->span;
    }
    if (n->b) {
        struct value lo = eval(c, e, n->b), hi = eval(c, e, n->c);
        if (lo.k == V_NONE || hi.k == V_NONE)
            return;
        if (!v_is_const_num(&lo) || !dim_eq(lo.dim, def.dim) || !v_is_const_num(&hi) ||
            !dim_eq(hi.dim, def.dim)) {
            char dd[96];
            dim_describe(def.dim, dd, sizeof dd);
            DIAG(c, 405, (struct span){ n->b->span.file, n->b->span.start, n->c->span.end },
                 "the range of '%s' must be constants of its unit, %s", n->name, dd);
            return;
        }
        double x = v_si(&v), l = v_si(&lo), h = v_si(&hi);
        if (l > h) {
            DIAG(c, 405, (struct span){ n->b->span.file, n->b->span.start, n->c->span.end },
                 "the range of '%s' is empty (its minimum is above its maximum)", n->name);
            return;
        }
        if (x < l || x > h) {
            char xs[64], ls[64], hs[64];
            units_format(x, v.dim, xs, sizeof xs);
            units_format(l, v.dim, ls, sizeof ls);
            units_format(h, v.dim, hs, sizeof hs);
            struct diag *g = DIAG(c, 403, vsp, "%s = %s is outside its range %s .. %s",
                                  n->name, xs, ls, hs);
            if (o)
                diag_note(g, (struct span){ n->b->span.file, n->b->span.start, n->c->span.end },
                          "the range is declared here");
            return;
        }
    }
    struct binding *old = env_lookup_local(e, n->name);
    if (old) {
        struct diag *g = DIAG(c, 215, n->name_span, "'%s' is already defined", n->name);
        diag_note(g, old->decl, "the first definition is here");
        return;
    }
    struct binding *b = env_bind(c, e, n->name, v, n->name_span);
    b->is_param = true;
    b->node = n;
    struct lbc_param p = { lbc_add_string(c->prog, n->name), v.k == V_TIME ? PARAM_TIME : PARAM_NUM,
                           { v.dim.s, v.dim.m, v.dim.T }, v.k == V_TIME ? 0 : v.u.f,
                           v.k == V_TIME ? v.u.t : 0 };
    lbc_add_param(c->prog, &p);
}

static void eval_module(struct cg *c, struct session *s, struct module *m, bool is_main)
{
    m->env = env_new(c, c->root, 64);
    struct node *seq = NULL;
    for (struct node *n = m->ast; n; n = n->next) {
        switch (n->kind) {
        case N_IMPORT: {
            struct module *im = import_module(c, s, m, n);
            const char *as = n->str ? n->str : n->name;
            struct value v = v_none();
            if (im) {
                v.k = V_MODULE;
                v.u.mod = im;
            }
            if (env_lookup_local(m->env, as)) {
                DIAG(c, 215, n->name_span, "'%s' is already defined", as);
                break;
            }
            env_bind(c, m->env, as, v, n->name_span);
            break;
        }
        case N_PARAM:
            if (!is_main) {
                struct diag *g = DIAG(c, 504, n->span, "a module cannot declare params");
                diag_help(g, "declare params in the sequence file and pass them to functions");
                break;
            }
            eval_param(c, m->env, n);
            /* a param in error is bound to no value: its uses report nothing more */
            if (!env_lookup_local(m->env, n->name))
                env_bind(c, m->env, n->name, v_none(), n->name_span);
            break;
        case N_SEQUENCE:
            if (!is_main) {
                DIAG(c, 505, n->span, "a module cannot have a sequence body");
                break;
            }
            if (seq) {
                struct diag *g = DIAG(c, 506, n->span, "a file has one sequence body");
                diag_note(g, seq->span, "the first one is here");
                break;
            }
            seq = n;
            break;
        default: {
            struct value dummy;
            exec_stmt(c, m->env, n, &dummy);
            break;
        }
        }
    }
    m->state = MOD_DONE;
    if (!is_main)
        return;
    if (!seq) {
        const struct src_file *f = diag_file(c->diag, m->file);
        struct diag *g = DIAG(c, 507, (struct span){ m->file, (uint32_t)(f ? f->len : 0),
                                                     (uint32_t)(f ? f->len : 0) },
                              "no sequence body in this file");
        diag_help(g, "a sequence file ends with `sequence { ... }` holding its blocks");
        return;
    }
    c->in_sequence = true;
    struct value dummy;
    struct env *se = env_new(c, m->env, 16);
    exec_stmts(c, se, seq->list, &dummy);
    c->in_sequence = false;
}

/* ---- the dry run ---- */

struct dry {
    struct cg *c;
    struct session *s;
    const struct lbc_program *p;
    struct node **stop_on;     /* min-search: stop at a TOO_LATE of any of these nodes */
    int nstop;
    bool hit;                  /* it happened */
    struct vm_error first_late[64];
    struct node *late_node[64];
    int nlate;
    int other_errors;
    uint32_t seen_pc[256];
    int seen_code[256];
    struct diag *seen_diag[256];
    int nseen;
    uint64_t repeats[256];
};

static struct constraint *constraint_at(struct cg *c, uint32_t pc)
{
    for (size_t i = 0; i < c->ncons; i++)
        if (c->cons[i].pc == pc)
            return &c->cons[i];
    return NULL;
}

static struct span pc_span(struct cg *c, const struct lbc_program *p, uint32_t pc)
{
    return lbc_pc_span(p, pc, c->diag, NULL);
}

static void loops_text(const struct lbc_program *p, const struct vm_error *e, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; i < e->nloops && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s=%.0f", i ? " " : "",
                                lbc_str(p, e->loops[i].name), e->loops[i].value);
}

static int dry_on_error(void *ctx, const struct vm_error *e)
{
    struct dry *d = ctx;
    struct cg *c = d->c;
    if (e->code == VMERR_TOO_LATE) {
        struct constraint *k = constraint_at(c, e->pc);
        struct node *node = k ? k->expr : NULL;
        if (d->stop_on) {
            for (int i = 0; i < d->nstop; i++)
                if (node == d->stop_on[i]) {
                    d->hit = true;
                    return 1;
                }
            return 0;
        }
        for (int i = 0; i < d->nlate; i++)
            if (d->late_node[i] == node)
                return 0;
        if (d->nlate < 64) {
            d->first_late[d->nlate] = *e;
            d->late_node[d->nlate++] = node;
        }
        return 0;
    }
    d->other_errors++;
    if (d->stop_on)
        return 1;
    for (int i = 0; i < d->nseen; i++)
        if (d->seen_pc[i] == e->pc && d->seen_code[i] == (int)e->code) {
            d->repeats[i]++;
            return 0;
        }
    char lt[256];
    loops_text(d->p, e, lt, sizeof lt);
    char ts[64];
    units_format((double)e->time_ns * 1e-9, DIM_TIME, ts, sizeof ts);
    struct diag *g = diag_error(c->diag, (int)e->code, pc_span(c, d->p, e->pc), "%s", e->msg);
    if (lt[0])
        diag_note(g, SPAN_NONE, "at t = %s, %s", ts, lt);
    else
        diag_note(g, SPAN_NONE, "at t = %s", ts);
    if (d->nseen < 256) {
        d->seen_pc[d->nseen] = e->pc;
        d->seen_code[d->nseen] = (int)e->code;
        d->seen_diag[d->nseen] = g;
        d->repeats[d->nseen] = 0;
        d->nseen++;
    }
    return d->nseen >= 20;
}

/* Params a constraint expression depends on, through let bindings. */
static int collect_params(struct cg *c, struct env *e, struct node *n, struct binding **out,
                          int nout, int depth)
{
    if (!n || depth > 8)
        return nout;
    if (n->kind == N_IDENT) {
        struct binding *b = env_lookup(e, n->name);
        if (b && b->is_param) {
            for (int i = 0; i < nout; i++)
                if (out[i] == b)
                    return nout;
            if (nout < 8)
                out[nout++] = b;
        } else if (b && b->node && b->node->kind == N_LET) {
            nout = collect_params(c, c->main->env, b->node->a, out, nout, depth + 1);
        }
        return nout;
    }
    nout = collect_params(c, e, n->a, out, nout, depth);
    nout = collect_params(c, e, n->b, out, nout, depth);
    nout = collect_params(c, e, n->c, out, nout, depth);
    for (struct node *x = n->list; x; x = x->next)
        nout = collect_params(c, e, x, out, nout, depth);
    return nout;
}

static struct lbc_program *compile_attempt(struct session *s, struct override *extra,
                                           struct node **stop_on, int nstop, bool *hit,
                                           bool quiet);

/* Whether the sequence compiles (quietly, timing only) with time param b
   forced to t and none of the constraints `nodes` fails. */
static bool feasible_at(struct session *s, struct binding *b, struct node **nodes, int nn,
                        int64_t t)
{
    struct override o = { 0 };
    o.name = b->name;
    o.forced = true;
    o.span = SPAN_NONE;
    o.fv = v_time(t);
    bool hit = false;
    struct lbc_program *p = compile_attempt(s, &o, nodes, nn, &hit, true);
    bool ok = p && !hit;
    lbc_free(p);
    return ok;
}

/* Smallest value of param b (a time) for which constraint `node` holds;
   returns false if none up to hi_ns. */
static bool min_search(struct session *s, struct binding *b, struct node **nodes, int nn,
                       int64_t lo, int64_t hi, int64_t *out)
{
    /* find a feasible upper bound, doubling */
    int64_t h = lo;
    bool ok = false;
    for (int i = 0; i < 40; i++) {
        int64_t step = h - lo > 0 ? (h - lo) : (lo > 1000 ? lo : 1000);
        h = lo + 2 * step;
        if (h > hi)
            h = hi;
        if (feasible_at(s, b, nodes, nn, h)) {
            ok = true;
            break;
        }
        if (h >= hi)
            break;
    }
    if (!ok)
        return false;
    int64_t l = lo;
    while (h - l > 1) {
        int64_t mid = l + (h - l) / 2;
        if (feasible_at(s, b, nodes, nn, mid))
            h = mid;
        else
            l = mid;
    }
    *out = h;
    return true;
}

static void upper(char *dst, const char *src, size_t n)
{
    size_t i = 0;
    for (; src[i] && i + 1 < n; i++)
        dst[i] = (char)toupper((unsigned char)src[i]);
    dst[i] = 0;
}

/* Report the failed timing constraints. Constraints that depend on the same
   time param are reported once, with the smallest value of that param that
   satisfies all of them (found by bisection over repeated compilations). */
static void report_late(struct cg *c, struct session *s, struct dry *d)
{
    bool done[64] = { false };
    for (int i = 0; i < d->nlate; i++) {
        if (done[i])
            continue;
        const struct vm_error *e = &d->first_late[i];
        struct node *node = d->late_node[i];
        struct constraint *k = constraint_at(c, e->pc);
        struct span sp = node ? node->span : pc_span(c, d->p, e->pc);
        char lt[256], late[64], ts[64];
        loops_text(d->p, e, lt, sizeof lt);
        units_format((double)e->need_ns * 1e-9, DIM_TIME, late, sizeof late);
        units_format((double)e->time_ns * 1e-9, DIM_TIME, ts, sizeof ts);
        struct binding *params[8];
        int np = node ? collect_params(c, c->main->env, node, params, 0, 0) : 0;
        struct binding *b = NULL;
        for (int j = 0; j < np && !b; j++)
            if (params[j]->v.k == V_TIME)
                b = params[j];
        if (b) {
            /* every failed constraint that depends on the same param */
            struct node *group[64];
            int ng = 0;
            for (int j = i; j < d->nlate; j++) {
                struct binding *pj[8];
                int npj = d->late_node[j] ? collect_params(c, c->main->env, d->late_node[j],
                                                           pj, 0, 0) : 0;
                for (int q = 0; q < npj; q++)
                    if (pj[q] == b) {
                        group[ng++] = d->late_node[j];
                        done[j] = true;
                        break;
                    }
            }
            int64_t hi = INT64_C(1000000000000);   /* 1000 s */
            struct node *pn = b->node;
            if (pn && pn->c) {
                struct value hv = eval(c, c->main->env, pn->c);
                if (hv.k == V_TIME && hv.reg < 0)
                    hi = hv.u.t;
            }
            int64_t best;
            char up[64], cur[64];
            upper(up, b->name, sizeof up);
            units_format((double)b->v.u.t * 1e-9, DIM_TIME, cur, sizeof cur);
            struct diag *g;
            if (b->v.u.t < hi && min_search(s, b, group, ng, b->v.u.t, hi, &best)) {
                /* round up to 1 us for display, so that the value shown works */
                int64_t shown = (best + 999) / 1000 * 1000;
                char ms[64];
                units_format((double)shown * 1e-9, DIM_TIME, ms, sizeof ms);
                g = DIAG(c, 620, sp, "%s %s is below the minimum %s for this sequence", up, cur,
                         ms);
                char msd[64];
                snprintf(msd, sizeof msd, "%s", ms);
                one_word(msd);
                diag_help(g, "use -D %s=%s or more, or shorten the events in between", b->name,
                          msd);
            } else {
                char hs[64];
                units_format((double)hi * 1e-9, DIM_TIME, hs, sizeof hs);
                g = DIAG(c, 620, sp, "%s %s is too short, and no %s up to %s satisfies this "
                         "constraint", up, cur, b->name, hs);
            }
            diag_note(g, b->decl, "'%s' is declared here", b->name);
            if (lt[0])
                diag_note(g, SPAN_NONE, "first at t = %s (%s): the target is %s in the past",
                          ts, lt, late);
            else
                diag_note(g, SPAN_NONE, "first at t = %s: the target is %s in the past", ts,
                          late);
            continue;
        }
        done[i] = true;
        const char *what = !k ? "this event" : k->anchor == ALIGN_RF ? "the rf centre" :
                           k->anchor == ALIGN_ADC ? "the adc centre" :
                           k->anchor == ALIGN_END ? "the block end" :
                           k->anchor == ALIGN_START ? "the block start" : "the wait target";
        struct diag *g = DIAG(c, 620, sp, "timing constraint cannot be met: %s lies %s before "
                              "the events ahead of it end", what, late);
        if (lt[0])
            diag_note(g, SPAN_NONE, "first at t = %s (%s)", ts, lt);
        diag_help(g, "lengthen the interval or shorten the blocks before this point");
    }
}

/* The minimum of every time param the timing constraints depend on, for
   `larmor check` (compile_opts.on_minimum). */
static void report_minimums(struct cg *c, struct session *s)
{
    struct binding *seen[32];
    int nseen = 0;
    for (size_t i = 0; i < c->ncons && nseen < 32; i++) {
        struct binding *params[8];
        int np = c->cons[i].expr ? collect_params(c, c->main->env, c->cons[i].expr, params, 0, 0)
                                 : 0;
        for (int j = 0; j < np && nseen < 32; j++) {
            struct binding *b = params[j];
            bool dup = false;
            for (int q = 0; q < nseen; q++)
                dup |= seen[q] == b;
            if (dup || b->v.k != V_TIME || b->v.reg >= 0)
                continue;
            seen[nseen++] = b;
            struct node *group[64];
            int ng = 0;
            for (size_t k = 0; k < c->ncons && ng < 64; k++) {
                struct binding *pk[8];
                int npk = c->cons[k].expr ? collect_params(c, c->main->env, c->cons[k].expr,
                                                           pk, 0, 0) : 0;
                for (int q = 0; q < npk; q++)
                    if (pk[q] == b) {
                        group[ng++] = c->cons[k].expr;
                        break;
                    }
            }
            int64_t lo = 0, cur = b->v.u.t, best = cur;
            if (b->node && b->node->b) {
                struct value lv = eval(c, c->main->env, b->node->b);
                if (lv.k == V_TIME && lv.reg < 0 && lv.u.t > 0 && lv.u.t < cur)
                    lo = lv.u.t;
            }
            bool floor_ok = feasible_at(s, b, group, ng, lo);
            if (floor_ok)
                best = lo;
            else if (!min_search(s, b, group, ng, lo, cur, &best))
                continue;
            s->opts->on_minimum(s->opts->min_ctx, b->name, cur, best, floor_ok);
        }
    }
}

static struct lbc_program *compile_attempt(struct session *s, struct override *extra,
                                           struct node **stop_on, int nstop, bool *hit,
                                           bool quiet)
{
    struct diag_ctx *dg = s->diag;
    size_t mark_n = dg->ndiags;
    int mark_e = dg->nerrors, mark_w = dg->nwarnings;
    struct arena arena;
    arena_init(&arena);
    struct cg c;
    memset(&c, 0, sizeof c);
    c.arena = &arena;
    c.diag = dg;
    c.opts = s->opts;
    c.sys = &s->sys;
    c.prog = lbc_new();
    c.quiet = quiet;
    c.work = s->work;          /* the min-search's attempts share one budget */
    c.mem_cap = mem_budget(NULL, 0);
    int novr = s->novr + (extra ? 1 : 0);
    c.ovr = arena_alloc(&arena, (size_t)(novr ? novr : 1) * sizeof *c.ovr);
    for (int i = 0; i < s->novr; i++)
        c.ovr[i] = s->ovr[i];
    if (extra) {
        bool replaced = false;
        for (int i = 0; i < s->novr; i++)
            if (!strcmp(c.ovr[i].name, extra->name)) {
                c.ovr[i] = *extra;
                replaced = true;
            }
        if (!replaced)
            c.ovr[s->novr] = *extra;
        else
            novr--;
    }
    c.novr = novr;
    c.root = env_new(&c, NULL, 64);
    builtins_install(&c, c.root);

    const struct src_file *mf = diag_file(dg, s->main_file);
    struct module *m = arena_alloc(&arena, sizeof *m);
    m->name = "main";
    m->path = mf->path;
    m->file = s->main_file;
    m->state = MOD_LOADING;
    /* counted before parsing: syntax errors in the main file fail the compilation */
    int before = dg->nerrors;
    m->ast = parse_cached(s, mf->path, s->main_file)->ast;
    c.mods = m;
    c.main = m;
    eval_module(&c, s, m, true);
    /* once: the quiet attempts of the minimum-value search follow a full
       one on the same source */
    if (!quiet)
        names_check_uncalled(&c);
    if (!quiet) {
        for (int i = 0; i < c.novr; i++)
            if (!c.ovr[i].used) {
                struct diag *g = DIAG(&c, 401, c.ovr[i].span, "this sequence has no param "
                                      "named '%s'", c.ovr[i].name);
                struct strbuf b;
                sb_init(&b);
                for (uint32_t k = 0; k < c.prog->nparams; k++)
                    sb_printf(&b, "%s%s", k ? ", " : "", lbc_str(c.prog, c.prog->params[k].name));
                diag_help(g, "its params are: %s", b.len ? b.s : "(none)");
                sb_fini(&b);
            }
    }
    struct lbc_program *p = c.prog;
    p->source = lbc_add_string(p, mf->path);
    p->sys_name = lbc_add_string(p, s->sys.name);
    p->sys_hash = s->sys.hash;
    p->grad_raster = s->sys.grad_raster_ns;
    p->rf_raster = s->sys.rf_raster_ns;
    p->adc_raster = s->sys.adc_raster_ns;
    p->block_raster = s->sys.block_raster_ns;
    p->rf_ringdown = s->sys.rf_ringdown_ns;
    p->adc_dead = s->sys.adc_dead_ns;
    cg_emit(&c, OP_HALT, 0, 0, 0, SPAN_NONE);
    bool failed = dg->nerrors > before;
    bool safety_failed = false;
    int other_errors = 0;
    if (!failed && !s->opts->no_dry_run) {
        char err[256];
        if (lbc_verify(p, err, sizeof err) != 0) {
            DIAG(&c, 999, SPAN_NONE, "internal error: generated bytecode does not verify: %s",
                 err);
            failed = true;
        } else {
            struct dry d;
            memset(&d, 0, sizeof d);
            d.c = &c;
            d.s = s;
            d.p = p;
            d.stop_on = stop_on;
            d.nstop = nstop;
            struct vm_opts vo = { dry_on_error, &d, 0 };
            /* the safety checks ride on the dry run, except in the
               minimum-value search, which only asks about timing */
            struct check *ck = NULL;
            struct vm_backend be;
            if (!stop_on && !s->opts->no_check) {
                ck = check_new(&s->sys);
                check_backend(ck, &be);
            }
            int vr = vm_run_limited(p, ck ? &be : NULL, &vo, s->opts->max_work, NULL);
            if (hit)
                *hit = d.hit;
            for (int i = 0; i < d.nseen; i++)
                if (d.repeats[i] && !quiet)
                    diag_note(d.seen_diag[i], SPAN_NONE, "the same error occurs %llu more "
                              "time%s", (unsigned long long)d.repeats[i],
                              d.repeats[i] == 1 ? "" : "s");
            if (!quiet && d.nlate)
                report_late(&c, s, &d);
            if (d.nlate || d.other_errors)
                failed = true;
            /* safety violations only mean something on a complete run */
            if (ck && vr == 0 && !d.nlate && !d.other_errors) {
                other_errors = dg->nerrors - before;
                if (!quiet)
                    check_report(ck, p, dg);
                if (check_count(ck, false)) {
                    safety_failed = true;
                    failed = true;
                }
            }
            if (!quiet && !failed && s->opts->on_minimum)
                report_minimums(&c, s);
            if (ck && s->opts->check_out && !quiet && vr == 0 && !d.nlate && !d.other_errors) {
                *s->opts->check_out = ck;
                ck = NULL;
            }
            check_free(ck);
        }
    }
    if (quiet) {
        failed = failed || dg->nerrors > mark_e;
        diag_truncate(dg, mark_n, mark_e, mark_w);
    }
    s->work = c.work;
    free(c.cons);
    arena_fini(&arena);
    cg_release(&c);
    /* `larmor check` gets a program whose only errors are safety violations */
    bool keep = safety_failed && other_errors == 0 && s->opts->check_out && !quiet;
    if (failed && !keep) {
        lbc_free(p);
        return NULL;
    }
    return p;
}

static bool parse_defines(struct session *s, const struct compile_opts *o)
{
    bool ok = true;
    s->ovr = arena_alloc(&s->ast_arena, (size_t)(o->ndefines ? o->ndefines : 1) * sizeof *s->ovr);
    for (int i = 0; i < o->ndefines; i++) {
        const char *def = o->defines[i];
        char *text = xasprintf("-D %s", def);
        int f = diag_add_file(s->diag, "<command line>", text, strlen(text));
        const char *eq = strchr(def, '=');
        size_t nl = eq ? (size_t)(eq - def) : strlen(def);
        bool valid = eq && nl > 0 && (isalpha((unsigned char)def[0]) || def[0] == '_');
        for (size_t k = 0; valid && k < nl; k++)
            if (!isalnum((unsigned char)def[k]) && def[k] != '_')
                valid = false;
        if (!valid) {
            struct diag *g = diag_error(s->diag, 406, (struct span){ f, 3, (uint32_t)strlen(text) },
                                        "-D needs name=value");
            diag_help(g, "e.g. -D te=30ms");
            ok = false;
            free(text);
            continue;
        }
        struct node *e = parse_expr_text(&s->ast_arena, s->diag, f, (uint32_t)(3 + nl + 1));
        if (!e) {
            ok = false;
            free(text);
            continue;
        }
        struct override *ov = &s->ovr[s->novr++];
        memset(ov, 0, sizeof *ov);
        ov->name = arena_strndup(&s->ast_arena, def, nl);
        ov->expr = e;
        ov->span = (struct span){ f, (uint32_t)(3 + nl + 1), (uint32_t)strlen(text) };
        for (int k = 0; k < s->novr - 1; k++)
            if (!strcmp(s->ovr[k].name, ov->name)) {
                diag_error(s->diag, 407, ov->span, "'%s' is given twice with -D", ov->name);
                ok = false;
            }
        free(text);
    }
    return ok;
}

static struct lbc_program *compile_main(struct session *s)
{
    if (!parse_defines(s, s->opts))
        return NULL;
    return compile_attempt(s, NULL, NULL, 0, NULL, false);
}

static void session_init(struct session *s, const struct compile_opts *o, struct diag_ctx *d)
{
    memset(s, 0, sizeof *s);
    arena_init(&s->ast_arena);
    s->diag = d;
    s->opts = o;
    if (o->sys)
        s->sys = *o->sys;
    else
        system_default(&s->sys);
}

struct lbc_program *compile_file(const struct compile_opts *o, struct diag_ctx *d)
{
    struct session s;
    session_init(&s, o, d);
    struct lbc_program *p = NULL;
    s.main_file = load_source(&s, o->path, o->path, SPAN_NONE, "sequence file");
    if (s.main_file >= 0)
        p = compile_main(&s);
    arena_fini(&s.ast_arena);
    return p;
}

struct lbc_program *compile_text(const char *path, const char *text, size_t len,
                                 const struct compile_opts *o, struct diag_ctx *d)
{
    struct session s;
    session_init(&s, o, d);
    s.main_file = diag_add_file(d, path, text, len);
    struct lbc_program *p = compile_main(&s);
    arena_fini(&s.ast_arena);
    return p;
}

/* Text of a node's span in its source file. */
static void span_text(struct diag_ctx *d, struct span sp, char *buf, size_t n)
{
    const struct src_file *f = diag_file(d, sp.file);
    if (!f || sp.end > f->len || sp.start > sp.end) {
        snprintf(buf, n, "?");
        return;
    }
    snprintf(buf, n, "%.*s", (int)(sp.end - sp.start), f->text + sp.start);
}

int compile_describe_params(const struct compile_opts *o, struct diag_ctx *d, FILE *out)
{
    struct session s;
    session_init(&s, o, d);
    int rc = 1;
    s.main_file = load_source(&s, o->path, o->path, SPAN_NONE, "sequence file");
    if (s.main_file < 0)
        goto out_free;
    struct lbc_program *p = compile_main(&s);
    if (!p)
        goto out_free;
    struct node *ast = parse_cached(&s, o->path, s.main_file)->ast;
    for (struct node *n = ast; n; n = n->next) {
        if (n->kind != N_PARAM)
            continue;
        char val[64] = "?", lo[96], hi[96];
        for (uint32_t i = 0; i < p->nparams; i++) {
            const struct lbc_param *q = &p->params[i];
            if (strcmp(lbc_str(p, q->name), n->name))
                continue;
            struct dim dm = { q->dim[0], q->dim[1], q->dim[2] };
            units_format(q->kind == PARAM_TIME ? (double)q->t * 1e-9 : q->f, dm, val, sizeof val);
        }
        fprintf(out, "%-14s %-12s", n->name, val);
        if (n->b) {
            span_text(d, n->b->span, lo, sizeof lo);
            span_text(d, n->c->span, hi, sizeof hi);
            char range[200];
            snprintf(range, sizeof range, "in %s .. %s", lo, hi);
            fprintf(out, " %-22s", range);
        } else {
            fprintf(out, " %-22s", "");
        }
        fprintf(out, " %s\n", n->str ? n->str : "");
    }
    lbc_free(p);
    rc = 0;
out_free:
    arena_fini(&s.ast_arena);
    return rc;
}
