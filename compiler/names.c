/*
 * names: the name check of functions no call reaches. A function is
 * inlined where it is called, so its body's names are resolved only then;
 * without this check an uncalled function whose body names nothing would
 * compile. The compiler notes every function it defines (with its closure:
 * the scope it was defined in, complete once the compilation has run) and
 * every function it calls; after the compilation this module walks the
 * body of each function never called, with scopes built as a call would
 * build them (parameters, let, fn, for, comprehension and block names),
 * and reports each identifier bound in none of them as eval.c reports it
 * at a call (E0201 "unknown name", with a did-you-mean). The statements
 * bind their names in order, as a call runs them; a function defined
 * inside is walked once its enclosing scopes are complete, as it would be
 * resolved at its own call, after them. A branch a call might skip at
 * compile time is walked all the same: its names must exist.
 *
 * It owns the table of defined functions (in the compilation's arena).
 */
#include "compiler/internal.h"

#include <stdlib.h>
#include <string.h>

struct fn_seen {
    struct node *decl;       /* N_FN; NULL: a free slot */
    struct env *env;         /* its closure, NULL if only seen called */
    bool called;
};

static uint32_t ptr_hash(const void *p)
{
    uintptr_t x = (uintptr_t)p;
    x ^= x >> 17;
    x *= 0x9E3779B97F4A7C15ull;
    return (uint32_t)(x >> 32);
}

/* The slot of decl, added (empty) if absent. */
static struct fn_seen *slot_of(struct cg *c, struct node *decl)
{
    if ((c->nfns + 1) * 2 > c->capfns) {
        uint32_t cap = c->capfns ? c->capfns * 2 : 64;
        struct fn_seen *tab = arena_alloc(c->arena, cap * sizeof *tab);
        for (uint32_t i = 0; i < c->capfns; i++) {
            struct fn_seen *f = &c->fns[i];
            if (!f->decl)
                continue;
            uint32_t h = ptr_hash(f->decl) & (cap - 1);
            while (tab[h].decl)
                h = (h + 1) & (cap - 1);
            tab[h] = *f;
        }
        c->fns = tab;
        c->capfns = cap;
    }
    uint32_t h = ptr_hash(decl) & (c->capfns - 1);
    while (c->fns[h].decl && c->fns[h].decl != decl)
        h = (h + 1) & (c->capfns - 1);
    if (!c->fns[h].decl) {
        c->fns[h].decl = decl;
        c->nfns++;
    }
    return &c->fns[h];
}

void names_defined(struct cg *c, struct node *decl, struct env *env)
{
    struct fn_seen *f = slot_of(c, decl);
    if (!f->env)
        f->env = env;
}

void names_called(struct cg *c, struct node *decl)
{
    slot_of(c, decl)->called = true;
}

/* ---------------------------------------------------------------- the walk */

/* A function body waiting for its enclosing scopes to be complete. */
struct pending {
    struct node *decl;
    struct env *env;
};

struct walk {
    struct cg *c;
    struct pending *todo;
    size_t ntodo, captodo;
    int depth;               /* of the recursion, capped like eval's */
};

static void walk_stmts(struct walk *w, struct env *e, struct node *list);

static void bind(struct walk *w, struct env *e, const char *name, struct span sp)
{
    if (name && !env_lookup_local(e, name))
        env_bind(w->c, e, name, v_none(), sp);
}

static void walk_expr(struct walk *w, struct env *e, struct node *n);

/* The scope of the variable of n (a loop or a comprehension) under e, its
   range lo .. hi walked in e first. */
static struct env *var_scope(struct walk *w, struct env *e, struct node *lo, struct node *hi,
                             struct node *n)
{
    walk_expr(w, e, lo);
    walk_expr(w, e, hi);
    struct env *le = env_new(w->c, e, 8);
    bind(w, le, n->name, n->name_span);
    return le;
}

static void walk_expr(struct walk *w, struct env *e, struct node *n)
{
    if (!n || w->depth >= CG_MAX_NEST)
        return;
    w->depth++;
    switch (n->kind) {
    case N_IDENT:
        if (!env_lookup(e, n->name))
            ev_unknown_name(w->c, e, n);
        break;
    case N_FIELD:
        walk_expr(w, e, n->a);          /* the field's name is no variable */
        break;
    case N_COMPREH:
        walk_expr(w, var_scope(w, e, n->b, n->c, n), n->a);
        break;
    default:
        /* operands, arguments (N_ARG), elements, record fields (N_RFIELD) */
        walk_expr(w, e, n->a);
        walk_expr(w, e, n->b);
        walk_expr(w, e, n->c);
        for (struct node *x = n->list; x; x = x->next)
            walk_expr(w, e, x);
        break;
    }
    w->depth--;
}

static void walk_stmt(struct walk *w, struct env *e, struct node *n)
{
    switch (n->kind) {
    case N_FN: {
        /* its body is resolved at its call: walked once e is complete */
        bind(w, e, n->name, n->name_span);
        struct pending p = { n, e };
        VEC_PUSH(w->todo, w->ntodo, w->captodo, p);
        break;
    }
    case N_LET:
        walk_expr(w, e, n->a);
        bind(w, e, n->name, n->name_span);
        break;
    case N_FOR:
        walk_stmts(w, var_scope(w, e, n->a, n->b, n), n->list);
        break;
    case N_IF:
        walk_expr(w, e, n->a);
        walk_stmts(w, env_new(w->c, e, 8), n->list);
        walk_stmts(w, env_new(w->c, e, 8), n->list2);
        break;
    case N_BLOCK:
        for (struct node *it = n->list; it; it = it->next)
            walk_expr(w, e, it->a);     /* an event's name is its axis or counter */
        walk_expr(w, e, n->a);
        bind(w, e, n->name, n->name_span);
        break;
    case N_PARAM:
    case N_IMPORT:
    case N_SEQUENCE:
        break;                          /* refused at a call whatever they name */
    default:
        /* the events, delay, wait, return, assert, an expression */
        walk_expr(w, e, n->a);
        break;
    }
}

static void walk_stmts(struct walk *w, struct env *e, struct node *list)
{
    if (w->depth >= CG_MAX_NEST)
        return;
    w->depth++;
    for (struct node *n = list; n; n = n->next)
        walk_stmt(w, e, n);
    w->depth--;
}

/* A function's body in a scope of its parameters under env. */
static void walk_fn(struct walk *w, struct node *decl, struct env *env)
{
    struct env *fe = env_new(w->c, env, 16);
    for (struct node *p = decl->list; p; p = p->next)
        bind(w, fe, p->name, p->name_span);
    for (struct node *p = decl->list; p; p = p->next)
        walk_expr(w, fe, p->a);         /* the defaults */
    if (decl->a)
        walk_expr(w, fe, decl->a);
    else
        walk_stmts(w, fe, decl->list2);
}

static int cmp_pending(const void *a, const void *b)
{
    const struct span *x = &((const struct pending *)a)->decl->span;
    const struct span *y = &((const struct pending *)b)->decl->span;
    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    return x->start < y->start ? -1 : x->start > y->start;
}

void names_check_uncalled(struct cg *c)
{
    struct walk w = { c, NULL, 0, 0, 0 };
    for (uint32_t i = 0; i < c->capfns; i++) {
        const struct fn_seen *f = &c->fns[i];
        if (f->decl && f->env && !f->called) {
            struct pending p = { f->decl, f->env };
            VEC_PUSH(w.todo, w.ntodo, w.captodo, p);
        }
    }
    /* in the order of the source: the table's order is the pointers' */
    if (w.ntodo > 1)
        qsort(w.todo, w.ntodo, sizeof *w.todo, cmp_pending);
    for (size_t i = 0; i < w.ntodo; i++) {
        struct pending p = w.todo[i];
        walk_fn(&w, p.decl, p.env);
    }
    free(w.todo);
}
