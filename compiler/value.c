/*
 * value: compile-time values and scopes (hashed environments chained to
 * their parent), and their descriptions for diagnostics.
 */
#include "compiler/internal.h"

#include <stdio.h>
#include <string.h>

static uint32_t name_hash(const char *s)
{
    return (uint32_t)fnv1a64(FNV1A64_INIT, s, strlen(s));
}

struct env *env_new(struct cg *c, struct env *parent, uint32_t nbuckets)
{
    struct env *e = arena_alloc(c->arena, sizeof *e);
    e->parent = parent;
    e->nb = nbuckets;
    e->tab = arena_alloc(c->arena, nbuckets * sizeof *e->tab);
    return e;
}

static void env_grow(struct cg *c, struct env *e)
{
    uint32_t nb = e->nb * 4;
    struct binding **tab = arena_alloc(c->arena, nb * sizeof *tab);
    for (uint32_t i = 0; i < e->nb; i++) {
        struct binding *b = e->tab[i];
        while (b) {
            struct binding *nx = b->next;
            uint32_t h = b->hash & (nb - 1);
            b->next = tab[h];
            tab[h] = b;
            b = nx;
        }
    }
    e->tab = tab;
    e->nb = nb;
}

/* The binding of name (hash h) in e itself: a chain entry is compared by
   its stored hash before its text, so a lookup hashes the name once and
   calls strcmp only on a likely match. */
static struct binding *env_find(const struct env *e, const char *name, uint32_t h)
{
    for (struct binding *b = e->tab[h & (e->nb - 1)]; b; b = b->next)
        if (b->hash == h && (b->name == name || strcmp(b->name, name) == 0))
            return b;
    return NULL;
}

struct binding *env_lookup_local(struct env *e, const char *name)
{
    return env_find(e, name, name_hash(name));
}

struct binding *env_lookup(struct env *e, const char *name)
{
    uint32_t h = name_hash(name);
    for (; e; e = e->parent) {
        struct binding *b = env_find(e, name, h);
        if (b)
            return b;
    }
    return NULL;
}

struct binding *env_bind(struct cg *c, struct env *e, const char *name, struct value v,
                         struct span decl)
{
    if (e->count + 1 > e->nb * 2)
        env_grow(c, e);
    struct binding *b = arena_alloc(c->arena, sizeof *b);
    b->name = name;
    b->v = v;
    b->decl = decl;
    b->hash = name_hash(name);
    uint32_t h = b->hash & (e->nb - 1);
    b->next = e->tab[h];
    e->tab[h] = b;
    e->count++;
    return b;
}

struct value v_num(double f, struct dim d)
{
    struct value v = { 0 };
    v.k = V_NUM;
    v.dim = d;
    v.reg = -1;
    v.u.f = f;
    return v;
}

struct value v_time(int64_t t)
{
    struct value v = { 0 };
    v.k = V_TIME;
    v.dim = DIM_TIME;
    v.reg = -1;
    v.u.t = t;
    return v;
}

struct value v_bool(bool b)
{
    struct value v = { 0 };
    v.k = V_BOOL;
    v.reg = -1;
    v.u.f = b ? 1 : 0;
    return v;
}

struct value v_none(void)
{
    struct value v = { 0 };
    v.k = V_NONE;
    v.reg = -1;
    return v;
}

const char *v_kind_name(const struct value *v)
{
    switch (v->k) {
    case V_NONE: return "nothing";
    case V_NUM: return dim_is_none(v->dim) ? "a number" : "a quantity";
    case V_TIME: return "a time";
    case V_BOOL: return "a boolean";
    case V_STR: return "a string";
    case V_ARRAY: return "an array";
    case V_RECORD: return "a record";
    case V_FUNC: return "a function";
    case V_BUILTIN: return "a built-in function";
    case V_MODULE: return "a module";
    case V_BLOCKREF: return "a block";
    }
    return "?";
}

void v_describe(const struct value *v, char *buf, size_t n)
{
    if (v->k == V_NUM || v->k == V_TIME) {
        if (v->reg >= 0) {
            char d[96];
            dim_describe(v->dim, d, sizeof d);
            snprintf(buf, n, "%s known at run time", d);
        } else {
            units_format(v_si(v), v->dim, buf, n);
        }
        return;
    }
    if (v->k == V_BOOL && v->reg < 0) {
        snprintf(buf, n, "%s", v->u.f != 0 ? "true" : "false");
        return;
    }
    if (v->k == V_RECORD) {
        struct strbuf b;
        sb_init(&b);
        sb_puts(&b, "a record {");
        for (uint32_t i = 0; i < v->u.rec->n && i < 8; i++)
            sb_printf(&b, "%s%s", i ? ", " : " ", v->u.rec->names[i]);
        if (v->u.rec->n > 8)
            sb_puts(&b, ", ...");
        sb_puts(&b, " }");
        snprintf(buf, n, "%s", b.s);
        sb_fini(&b);
        return;
    }
    snprintf(buf, n, "%s", v_kind_name(v));
}

const struct value *rec_get(const struct record *r, const char *name)
{
    for (uint32_t i = 0; i < r->n; i++)
        if (strcmp(r->names[i], name) == 0)
            return &r->v[i];
    return NULL;
}

bool v_is_const_num(const struct value *v)
{
    return (v->k == V_NUM || v->k == V_TIME || v->k == V_BOOL) && v->reg < 0;
}

double v_si(const struct value *v)
{
    if (v->k == V_TIME)
        return (double)v->u.t * 1e-9;
    return v->u.f;
}
