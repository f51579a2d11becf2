/*
 * ytree: see ytree.h.
 */
#include "runtime/io/ytree.h"

#include "base/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static uint32_t byte_at(const struct ydoc *L, size_t index)
{
    return (uint32_t)(index < L->ncpos ? L->cpos[index] : L->len);
}

struct span yspan(const struct ydoc *L, uint32_t start, uint32_t end)
{
    return (struct span){ L->file, start, end };
}

struct span ynspan(const struct ydoc *L, const struct ynode *n)
{
    return yspan(L, n->start, n->end);
}

bool ynull(const struct ynode *n)
{
    return n->kind == YK_SCALAR && n->plain && n->len == 0;
}

/* libyaml counts characters; spans are bytes. Map every character of the
   UTF-8 text (after a byte order mark, which libyaml does not count). */
void ydoc_init(struct ydoc *L, struct diag_ctx *d, const struct ydoc_kind *kind,
               const char *path, const char *text, size_t len)
{
    memset(L, 0, sizeof *L);
    L->d = d;
    L->k = kind;
    L->file = diag_add_file(d, path, text, len);
    L->text = text;
    L->len = len;
    arena_init(&L->a);
    size_t i = 0, k = 0;
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
        i = 3;
    L->cpos = xmalloc((len + 1) * sizeof *L->cpos);
    while (i < len) {
        unsigned char c = (unsigned char)text[i];
        size_t w = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 :
                   (c & 0xF8) == 0xF0 ? 4 : 1;
        L->cpos[k++] = (uint32_t)i;
        i = i + w > len ? len : i + w;
    }
    L->cpos[k++] = (uint32_t)len;
    L->ncpos = k;
}

void ydoc_fini(struct ydoc *L)
{
    free(L->cpos);
    L->cpos = NULL;
    arena_fini(&L->a);
}

static struct ynode *new_node(struct ydoc *L, enum ykind k, const yaml_event_t *ev)
{
    struct ynode *n = arena_alloc(&L->a, sizeof *n);
    n->kind = k;
    n->start = byte_at(L, ev->start_mark.index);
    n->end = byte_at(L, ev->end_mark.index);
    if (n->end < n->start)
        n->end = n->start;
    n->vstart = UINT32_MAX;
    return n;
}

static void report_syntax(struct ydoc *L, const struct ydoc_kind *k, const yaml_parser_t *p)
{
    uint32_t off;
    if (p->error == YAML_READER_ERROR)
        off = (uint32_t)(p->problem_offset < L->len ? p->problem_offset : L->len);
    else
        off = byte_at(L, p->problem_mark.index);
    const char *problem = p->problem ? p->problem : "malformed YAML";
    struct span at = yspan(L, off, off + 1);
    struct diag *g;
    if (p->error == YAML_READER_ERROR && p->problem_value != -1)
        g = diag_error(L->d, k->syntax_code, at, "YAML syntax error: %s (byte 0x%02X)",
                       problem, (unsigned)p->problem_value & 0xFF);
    else
        g = diag_error(L->d, k->syntax_code, at, "YAML syntax error: %s", problem);
    if (p->context && p->error != YAML_READER_ERROR) {
        uint32_t c = byte_at(L, p->context_mark.index);
        diag_note(g, yspan(L, c, c + 1), "%s", p->context);
    }
    if (off < L->len && L->text[off] == '\t')
        diag_help(g, "indent with spaces: YAML does not allow tabs");
    else if (p->error == YAML_READER_ERROR)
        diag_help(g, "%s is UTF-8 text", k->what);
    else
        diag_help(g, "%s", k->syntax_help);
}

struct frame {
    struct ynode *node;
    struct ynode **kids;
    size_t n, cap;
    const char *anchor;
};

struct anchor {
    const char *name;
    struct ynode *node;
};

/* Add a finished node to the open collection, or make it the root. */
static void attach(struct frame *fr, size_t nfr, struct ynode *n, struct ynode **root)
{
    if (nfr) {
        struct frame *f = &fr[nfr - 1];
        VEC_PUSH(f->kids, f->n, f->cap, n);
    } else if (!*root) {
        *root = n;
    }
}

int ydoc_parse(struct ydoc *L, struct ynode **root)
{
    const struct ydoc_kind *k = L->k;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        fprintf(stderr, "larmor: out of memory (YAML parser)\n");
        abort();
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)L->text, L->len);
    struct frame *fr = NULL;
    size_t nfr = 0, capfr = 0;
    struct anchor *an = NULL;
    size_t nan = 0, capan = 0;
    int ndocs = 0, rc = 0;
    *root = NULL;
    for (bool done = false; !done;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            report_syntax(L, k, &p);
            rc = 1;
            break;
        }
        struct ynode *n = NULL;
        const char *anchor = NULL;    /* of the node n just finished */
        switch (ev.type) {
        case YAML_DOCUMENT_START_EVENT:
            if (++ndocs > 1) {
                uint32_t o = byte_at(L, ev.start_mark.index);
                struct diag *g = diag_error(L->d, k->structure_code, yspan(L, o, o + 3),
                                            "a second YAML document in %s", k->what);
                diag_help(g, "%s", k->second_doc_help);
                rc = 1;
                done = true;
            }
            break;
        case YAML_SCALAR_EVENT: {
            n = new_node(L, YK_SCALAR, &ev);
            n->len = ev.data.scalar.length;
            n->str = arena_strndup(&L->a, (const char *)ev.data.scalar.value, n->len);
            n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            uint32_t in = n->plain ? n->start : n->start + 1;
            bool quoted = ev.data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                          ev.data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
            if ((n->plain || quoted) && in + n->len <= L->len &&
                n->end - n->start == n->len + (n->plain ? 0 : 2) &&
                !memcmp(L->text + in, n->str, n->len))
                n->vstart = in;
            attach(fr, nfr, n, root);
            anchor = (const char *)ev.data.scalar.anchor;
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            bool seq = ev.type == YAML_SEQUENCE_START_EVENT;
            struct ynode *c = new_node(L, seq ? YK_SEQ : YK_MAP, &ev);
            if (nfr >= (size_t)k->max_depth) {
                struct diag *g = diag_error(L->d, k->structure_code, ynspan(L, c),
                                            "YAML nested more than %d levels deep", k->max_depth);
                diag_help(g, "%s", k->depth_help);
                rc = 1;
                done = true;
                break;
            }
            const yaml_char_t *a = seq ? ev.data.sequence_start.anchor
                                       : ev.data.mapping_start.anchor;
            struct frame f = { c, NULL, 0, 0, a ? arena_strdup(&L->a, (const char *)a) : NULL };
            VEC_PUSH(fr, nfr, capfr, f);
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
            if (!nfr)
                break;
            struct frame f = fr[--nfr];
            n = f.node;
            uint32_t e = byte_at(L, ev.end_mark.index);
            n->end = e > n->start ? e : n->start;
            n->nkids = f.n;
            n->kids = arena_alloc(&L->a, (f.n ? f.n : 1) * sizeof *n->kids);
            if (f.n)
                memcpy(n->kids, f.kids, f.n * sizeof *n->kids);
            free(f.kids);
            attach(fr, nfr, n, root);
            anchor = f.anchor;
            break;
        }
        case YAML_ALIAS_EVENT: {
            const char *name = (const char *)ev.data.alias.anchor;
            struct ynode *a = NULL;
            for (size_t i = nan; i-- > 0 && !a;)
                if (!strcmp(an[i].name, name))
                    a = an[i].node;
            if (!a) {
                struct span at = yspan(L, byte_at(L, ev.start_mark.index),
                                           byte_at(L, ev.end_mark.index));
                struct diag *g = diag_error(L->d, k->structure_code, at,
                                            "alias *%s has no anchor &%s before it", name, name);
                diag_help(g, "define `&%s` on a complete value earlier in the file, or write "
                          "the value out", name);
                rc = 1;
                done = true;
                break;
            }
            attach(fr, nfr, a, root);
            break;
        }
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        default:
            break;
        }
        if (n && anchor) {
            struct anchor y = { arena_strdup(&L->a, anchor), n };
            VEC_PUSH(an, nan, capan, y);
        }
        yaml_event_delete(&ev);
    }
    for (size_t i = 0; i < nfr; i++)
        free(fr[i].kids);
    free(fr);
    free(an);
    yaml_parser_delete(&p);
    return rc;
}

/* ------------------------------------------------------ sorting diagnostics */

struct diag_pos {
    uint32_t start;
    size_t i;
    struct diag *g;
};

static int cmp_pos(const void *a, const void *b)
{
    const struct diag_pos *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

void ydoc_sort_diags(struct diag_ctx *d, size_t n0)
{
    size_t n = d->ndiags - n0;
    if (n < 2)
        return;
    struct diag_pos *p = xmalloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = (struct diag_pos){ d->diags[n0 + i]->span.start, i, d->diags[n0 + i] };
    qsort(p, n, sizeof *p, cmp_pos);
    for (size_t i = 0; i < n; i++)
        d->diags[n0 + i] = p[i].g;
    free(p);
}

/* ------------------------------------------------------------- scalars */

const char *ykind_name(const struct ydoc *L, const struct ynode *n)
{
    if (n->kind == YK_MAP)
        return L->k->map_name;
    if (n->kind == YK_SEQ)
        return L->k->seq_name;
    return ynull(n) ? "nothing" : "a single value";
}

const char *ykey_leaf(const char *path)
{
    const char *d = strrchr(path, '.');
    return d ? d + 1 : path;
}

void yreport_not_scalar(struct ydoc *L, const struct ynode *v, const char *key,
                        const char *what, const char *example)
{
    int code = L->k->type_code;
    struct diag *g = ynull(v)
        ? diag_error(L->d, code, ynspan(L, v), "%s has no value", key)
        : diag_error(L->d, code, ynspan(L, v), "%s must be %s, not %s", key, what,
                     ykind_name(L, v));
    diag_help(g, "write it as `%s: %s`", ykey_leaf(key), example);
}

bool yscalar(struct ydoc *L, const struct ynode *v, const char *key, const char *what,
             const char *example)
{
    if (v->kind == YK_SCALAR && !ynull(v))
        return true;
    yreport_not_scalar(L, v, key, what, example);
    return false;
}

bool yquantity_split(const struct ydoc *L, const struct ynode *v, struct yquantity *q)
{
    const char *s = v->str;
    size_t n = v->len, a = 0;
    while (a < n && (s[a] == ' ' || s[a] == '\t'))
        a++;
    while (n > a && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    size_t nl = unit_number_len(s + a, n - a);
    if (!nl)
        return false;
    size_t u0 = a + nl;
    while (u0 < n && (s[u0] == ' ' || s[u0] == '\t'))
        u0++;
    q->num = a;
    q->nnum = nl;
    q->unit = u0;
    q->nunit = n - u0;
    q->uspan = v->vstart != UINT32_MAX
        ? yspan(L, v->vstart + (uint32_t)u0, v->vstart + (uint32_t)n) : ynspan(L, v);
    return true;
}

bool yin_range(struct ydoc *L, const struct ynode *v, const char *key, bool help_leaf, double x,
               double lo, double hi, bool lo_open,
               void (*fmt)(double si, int kind, char *buf, size_t n), int kind)
{
    if (!(x > hi || x < lo || (lo_open && x == lo)))
        return true;
    char xs[64], ls[64], hs[64];
    fmt(x, kind, xs, sizeof xs);
    fmt(lo, kind, ls, sizeof ls);
    fmt(hi, kind, hs, sizeof hs);
    int code = L->k->range_code;
    bool sign = x <= lo && lo == 0;
    struct diag *g = sign
        ? diag_error(L->d, code, ynspan(L, v), "%s must be %s, not %s", key,
                     lo_open ? "positive" : "zero or positive", xs)
        : diag_error(L->d, code, ynspan(L, v), "%s %s is out of range", key, xs);
    diag_help(g, "%s must be in %s%s, %s]%s", help_leaf ? ykey_leaf(key) : key,
              lo_open ? "(" : "[", ls, hs, sign ? "" : "; check the number and its unit");
    return false;
}

/* ----------------------------------------------------- the section walker */

static const char *where_name(const struct ysec *s)
{
    return s->where[0] ? s->where : "the top level";
}

/* A key of m that is a scalar: the index of its name, or reported
   (unknown, with a did-you-mean) and n. */
static size_t known_key(struct ydoc *L, struct ysec *s, const struct ynode *k)
{
    const char *const *names = s->names;
    size_t n = s->n, j = 0;
    while (j < n && strcmp(names[j], k->str))
        j++;
    if (j < n)
        return j;
    const char *wn = where_name(s);
    struct diag *g = diag_error(L->d, L->k->unknown_code, ynspan(L, k), "unknown key '%s' %s %s",
                                k->str, s->where[0] ? "in" : "at", wn);
    const char *near = str_nearest(k->str, names, n);
    char *all = str_join(names, n);
    if (near) {
        diag_help(g, "did you mean '%s'? %s takes: %s", near, wn, all);
        for (size_t t = 0; t < n; t++)
            if (names[t] == near)
                s->typo[t] = true;
    } else {
        diag_help(g, "%s takes: %s", wn, all);
    }
    free(all);
    return n;
}

bool ysec_open(struct ydoc *L, struct ysec *s, const char *where, const struct ynode *key,
               const struct ynode *m, const char *const *names, size_t n)
{
    const struct ydoc_kind *dk = L->k;
    memset(s, 0, sizeof *s);
    snprintf(s->where, sizeof s->where, "%s", where);
    s->key = key;
    s->map = m;
    s->names = names;
    s->n = n < YSEC_MAX ? n : YSEC_MAX;
    const char *wn = where_name(s);
    const char *prep = where[0] ? "in" : dk->top_prep;
    if (m->kind != YK_MAP) {
        struct diag *g = diag_error(L->d, dk->type_code, ynull(m) && key ? ynspan(L, key)
                                                                          : ynspan(L, m),
                                    "%s must be a mapping of %s, not %s",
                                    where[0] ? where : dk->what, dk->map_lines, ykind_name(L, m));
        char *all = str_join(names, n);
        diag_help(g, "%s takes: %s", wn, all);
        free(all);
        return false;
    }
    for (size_t i = 0; i + 1 < m->nkids; i += 2) {
        const struct ynode *k = m->kids[i], *v = m->kids[i + 1];
        if (k->kind != YK_SCALAR) {
            struct diag *g = diag_error(L->d, dk->type_code, ynspan(L, k), "a key %s %s must be "
                                        "a name, not %s", prep, wn, ykind_name(L, k));
            diag_help(g, "write `name: value`");
            continue;
        }
        size_t j = known_key(L, s, k);
        if (j == s->n)
            continue;
        if (s->k[j]) {
            struct diag *g = diag_error(L->d, dk->dup_code, ynspan(L, k), "'%s' is given twice "
                                        "%s %s", k->str, prep, wn);
            diag_note(g, ynspan(L, s->k[j]), "first given here");
            diag_help(g, "keep one of them");
            continue;
        }
        s->k[j] = k;
        s->v[j] = v;
    }
    return true;
}

int ysec_index(const struct ysec *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->names[i], key))
            return (int)i;
    return -1;
}

const struct ynode *ysec_val(const struct ysec *s, const char *key)
{
    int i = ysec_index(s, key);
    return i >= 0 ? s->v[i] : NULL;
}

const struct ynode *ysec_key(const struct ysec *s, const char *key)
{
    int i = ysec_index(s, key);
    return i >= 0 ? s->k[i] : NULL;
}

void ysec_path(const struct ysec *s, const char *key, char *buf, size_t n)
{
    if (s->where[0])
        snprintf(buf, n, "%s.%s", s->where, key);
    else
        snprintf(buf, n, "%s", key);
}

void ysec_missing(struct ydoc *L, const struct ysec *s, const char *key, const char *example)
{
    int i = ysec_index(s, key);
    if (i >= 0 && s->typo[i])
        return;         /* reported as a misspelling */
    int code = L->k->missing_code;
    struct span at = s->key ? ynspan(L, s->key) : yspan(L, s->map->start, s->map->start);
    struct diag *g = s->where[0]
        ? diag_error(L->d, code, at, "%s has no '%s'", s->where, key)
        : diag_error(L->d, code, at, "%s has no '%s'", L->k->the_what, key);
    if (s->where[0])
        diag_help(g, "add `%s: %s` %s %s%s", key, example, L->k->add_prep, s->where,
                  L->k->add_end);
    else
        diag_help(g, "add a line `%s: %s`", key, example);
}
