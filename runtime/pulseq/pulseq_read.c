/*
 * pulseq_read: the .seq reader (formats 1.2 to 1.5). One pass splits the
 * text into sections and rows (every number checked, every row's column
 * count checked against its section and version, IDs unique, shapes'
 * compression checked, the signature verified); then pulseq_shape.c bounds
 * the shapes the blocks play and decodes them, and pulseq_build.c walks
 * [BLOCKS] and emits the straight-line program, resolving each
 * ID (an unknown one is an error at the row that names it). Templates are
 * made once per Pulseq event ID and per block duration. Every error names
 * the line and says what would fix it; the reader stops at the first one.
 *
 * Decisions (docs/architecture.md, "Pulseq"):
 * - Times are rounded to the nanosecond; rasters come from [DEFINITIONS]
 *   (Pulseq's defaults where a pre-1.4 file has none).
 * - Pre-1.4 files: the second block column is a [DELAYS] ID; a block lasts
 *   as long as its longest event or its delay.
 * - RF phase shapes hold cycles; a phase shape of only 0 and 1/2 becomes
 *   the sign of the magnitude. RF and gradients given on a time shape are
 *   resampled at raster centres (a 4-point [0 a a 0] gradient becomes the
 *   trapezoid it is, exactly). RF use is read from 1.5 files; older ones
 *   are classed by flip angle as the toolboxes do (below 90.01 degrees:
 *   excitation, else refocusing).
 * - Labels: the counters Larmor has are kept (SETs, then INCs); ACQ, TRID
 *   and the flags are dropped with one warning each. A file without LIN
 *   labels gets them from the phase-encode moment before each ADC, so that
 *   a plain Cartesian Pulseq file reconstructs.
 * - Triggers: Larmor channel = Pulseq channel (outputs, type 1) or 16 +
 *   channel (inputs, type 2). Soft delays play at their nominal length.
 *   ROTATIONS are applied to the block's gradients where the result is
 *   exact (one axis, or trapezoids with one timing).
 */
#include "runtime/pulseq/pulseq_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/md5.h"
#include "base/membudget.h"
#include "base/util.h"

enum sec { S_NONE, S_VERSION, S_DEFS, S_BLOCKS, S_RF, S_GRAD, S_TRAP, S_ADC, S_DELAYS,
           S_EXTLIST, S_EXTSPEC, S_SHAPES, S_SIGNATURE };

/* Pulseq label names: the first VM_LABEL__COUNT map to Larmor counters in
   this order (must match enum vm_label). */
const char *const pq_label_names[] = {
    "LIN", "PAR", "SLC", "ECO", "REP", "AVG", "SET", "SEG", "PHS",
    "ACQ", "TRID", "NAV", "REV", "SMS", "REF", "IMA", "OFF", "NOISE", "PMC", "NOROT",
    "NOPOS", "NOSCL", "ONCE",
};


/* ---------- id maps ---------- */

static uint64_t hash64(int64_t k)
{
    uint64_t x = (uint64_t)k * 0x9e3779b97f4a7c15ULL;
    return x ^ (x >> 29);
}

void pq_idmap_fini(struct idmap *m)
{
    free(m->key);
    free(m->val);
    memset(m, 0, sizeof *m);
}

int32_t pq_idmap_get(const struct idmap *m, int64_t k)
{
    if (!m->cap)
        return -1;
    for (size_t i = hash64(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->val[i] < 0)
            return -1;
        if (m->key[i] == k)
            return m->val[i];
    }
}

void pq_idmap_put(struct idmap *m, int64_t k, int32_t v)
{
    if (2 * (m->n + 1) > m->cap) {
        struct idmap g = { 0 };
        g.cap = m->cap ? 2 * m->cap : 64;
        g.key = xmalloc(g.cap * sizeof *g.key);
        g.val = xmalloc(g.cap * sizeof *g.val);
        for (size_t i = 0; i < g.cap; i++)
            g.val[i] = -1;
        for (size_t i = 0; i < m->cap; i++)
            if (m->val[i] >= 0)
                pq_idmap_put(&g, m->key[i], m->val[i]);
        pq_idmap_fini(m);
        *m = g;
    }
    size_t i = hash64(k) & (m->cap - 1);
    while (m->val[i] >= 0 && m->key[i] != k)
        i = (i + 1) & (m->cap - 1);
    if (m->val[i] < 0)
        m->n++;
    m->key[i] = k;
    m->val[i] = v;
}

/* ---------- diagnostics ---------- */

struct diag *pq_err(struct reader *r, int code, uint32_t start, uint32_t end, const char *help, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct diag *g = diag_error(r->d, code, (struct span){ r->file, start, end }, "%s", msg);
    if (help)
        diag_help(g, "%s", help);
    r->failed = true;
    return g;
}

struct diag *pq_warn(struct reader *r, int code, uint32_t start, uint32_t end,
                          const char *help, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct diag *g = diag_warning(r->d, code, (struct span){ r->file, start, end }, "%s", msg);
    if (help)
        diag_help(g, "%s", help);
    return g;
}

/* ---------- tokens ---------- */

struct tok {
    uint32_t start, end;
};

#define MAXTOK 16

/* Split [s, e) into whitespace-separated tokens; returns their count
   (MAXTOK + 1 if there are more). */
static int split(const char *text, uint32_t s, uint32_t e, struct tok *t)
{
    int n = 0;
    uint32_t i = s;
    while (i < e) {
        while (i < e && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r'))
            i++;
        if (i >= e)
            break;
        uint32_t b = i;
        while (i < e && text[i] != ' ' && text[i] != '\t' && text[i] != '\r')
            i++;
        if (n == MAXTOK)
            return MAXTOK + 1;
        t[n].start = b;
        t[n].end = i;
        n++;
    }
    return n;
}

static bool tok_is(const struct reader *r, const struct tok *t, const char *w)
{
    size_t n = strlen(w);
    return t->end - t->start == n && !strncasecmp(r->text + t->start, w, n);
}

/* A number token: the whole token must parse and be finite. */
static bool tok_num(struct reader *r, const struct tok *t, double *v)
{
    char buf[64];
    size_t n = t->end - t->start;
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, r->text + t->start, n);
    buf[n] = 0;
    char *endp;
    errno = 0;
    *v = strtod(buf, &endp);
    return *endp == 0 && isfinite(*v) && endp != buf;
}

/* A whole number token (fast path for [BLOCKS]). */
static bool tok_int(const struct reader *r, const struct tok *t, int64_t *v)
{
    const char *s = r->text + t->start, *e = r->text + t->end;
    bool neg = false;
    if (s < e && (*s == '-' || *s == '+'))
        neg = *s++ == '-';
    if (s == e || e - s > 15)
        return false;
    int64_t x = 0;
    for (; s < e; s++) {
        if (*s < '0' || *s > '9')
            return false;
        x = x * 10 + (*s - '0');
    }
    *v = neg ? -x : x;
    return true;
}

static bool num_or_err(struct reader *r, const struct tok *t, double *v, const char *what)
{
    if (tok_num(r, t, v))
        return true;
    pq_err(r, 731, t->start, t->end, "write a decimal number here",
         "%s: '%.*s' is not a number", what, (int)(t->end - t->start), r->text + t->start);
    return false;
}

static bool id_or_err(struct reader *r, const struct tok *t, int64_t *v, const char *what)
{
    if (tok_int(r, t, v) && *v > 0 && *v <= INT32_MAX)
        return true;
    pq_err(r, 731, t->start, t->end, "IDs are whole numbers from 1",
         "%s: '%.*s' is not a valid ID", what, (int)(t->end - t->start), r->text + t->start);
    return false;
}

/* ---------- sections ---------- */

static const char *sec_name(enum sec s)
{
    switch (s) {
    case S_VERSION: return "[VERSION]";
    case S_DEFS: return "[DEFINITIONS]";
    case S_BLOCKS: return "[BLOCKS]";
    case S_RF: return "[RF]";
    case S_GRAD: return "[GRADIENTS]";
    case S_TRAP: return "[TRAP]";
    case S_ADC: return "[ADC]";
    case S_DELAYS: return "[DELAYS]";
    case S_EXTLIST: return "[EXTENSIONS]";
    case S_SHAPES: return "[SHAPES]";
    case S_SIGNATURE: return "[SIGNATURE]";
    default: return "extension";
    }
}

/* Expected column count of an event row (id included). */
static int ncols(const struct reader *r, enum sec s)
{
    bool v15 = r->ver >= 10500, v14 = r->ver >= 10400;
    switch (s) {
    case S_RF: return v15 ? 12 : v14 ? 8 : 7;
    case S_GRAD: return v15 ? 7 : v14 ? 5 : 4;
    case S_TRAP: return 6;
    case S_ADC: return v15 ? 9 : 6;
    case S_DELAYS: return 2;
    case S_EXTLIST: return 4;
    case S_BLOCKS: return r->ver < 10300 ? 7 : 8;
    default: return 0;
    }
}

static struct table *table_of(struct reader *r, enum sec s)
{
    switch (s) {
    case S_RF: return &r->rf;
    case S_GRAD: return &r->grad;
    case S_TRAP: return &r->trap;
    case S_ADC: return &r->adc;
    case S_DELAYS: return &r->delays;
    case S_EXTLIST: return &r->ext;
    default: return NULL;
    }
}

static void wrong_cols(struct reader *r, enum sec s, uint32_t ls, uint32_t le, int got, int want)
{
    char help[160];
    snprintf(help, sizeof help, "a %s row of format %d.%d.%d has %d columns", sec_name(s),
             r->major, r->minor, r->rev, want);
    pq_err(r, 731, ls, le, help, "%s row has %d column%s, expected %d", sec_name(s), got,
         got == 1 ? "" : "s", want);
}

static void dup_id(struct reader *r, const char *sec, int64_t id, uint32_t s, uint32_t e,
                   uint32_t first_line)
{
    struct diag *g = pq_err(r, 732, s, e, "give each row its own ID",
                          "%s ID %lld is defined twice (first on line %u)", sec, (long long)id,
                          first_line);
    (void)g;
}

static void event_row(struct reader *r, enum sec s, uint32_t ls, uint32_t le, struct tok *t,
                      int n)
{
    struct table *tb = table_of(r, s);
    int want = ncols(r, s);
    if (n != want) {
        wrong_cols(r, s, ls, le, n > MAXTOK ? MAXTOK + 1 : n, want);
        return;
    }
    struct row row;
    memset(&row, 0, sizeof row);
    row.line = 0;
    row.start = ls;
    row.end = le;
    if (!id_or_err(r, &t[0], &row.id, sec_name(s)))
        return;
    int nv = n - 1;
    if (s == S_RF && r->ver >= 10500) {
        nv--;
        const struct tok *u = &t[n - 1];
        int c = tolower((unsigned char)r->text[u->start]);
        if (u->end - u->start != 1 || !strchr("ersipou", c)) {
            pq_err(r, 731, u->start, u->end, "the last RF column is one of e r s i p o u",
                 "[RF]: '%.*s' is not an RF use", (int)(u->end - u->start), r->text + u->start);
            return;
        }
        row.use = (char)c;
    }
    for (int i = 0; i < nv; i++)
        if (!num_or_err(r, &t[i + 1], &row.v[i], sec_name(s)))
            return;
    /* the columns that hold IDs (shapes, extension types and rows) are
       whole numbers, so that the builder may use them as such */
    static const int rf15[] = { 1, 2, 3, -1 }, rf14[] = { 1, 2, 3, -1 }, rf13[] = { 1, 2, -1 },
                     g15[] = { 3, 4, -1 }, g14[] = { 1, 2, -1 }, g13[] = { 1, -1 },
                     adc15[] = { 7, -1 }, ext[] = { 0, 1, 2, -1 }, none[] = { -1 };
    bool v15 = r->ver >= 10500, v14 = r->ver >= 10400;
    const int *ids = s == S_RF ? (v15 ? rf15 : v14 ? rf14 : rf13) :
                     s == S_GRAD ? (v15 ? g15 : v14 ? g14 : g13) :
                     s == S_ADC && v15 ? adc15 : s == S_EXTLIST ? ext : none;
    for (int k = 0; ids[k] >= 0; k++) {
        double v = row.v[ids[k]];
        if (!(v == floor(v) && v >= -1 && v <= INT32_MAX)) {
            const struct tok *bad = &t[ids[k] + 1];
            pq_err(r, 731, bad->start, bad->end, "IDs are whole numbers (0: none)",
                   "%s: '%.*s' is not a valid ID", sec_name(s), (int)(bad->end - bad->start),
                   r->text + bad->start);
            return;
        }
    }
    int32_t have = pq_idmap_get(&tb->map, row.id);
    if (have >= 0) {
        int line;
        int col;
        diag_linecol(r->d, r->file, tb->r[have].start, &line, &col);
        dup_id(r, sec_name(s), row.id, t[0].start, t[0].end, (uint32_t)line);
        return;
    }
    pq_idmap_put(&tb->map, row.id, (int32_t)tb->n);
    VEC_PUSH(tb->r, tb->n, tb->cap, row);
}

static void block_row(struct reader *r, uint32_t ls, uint32_t le, struct tok *t, int n)
{
    int want = ncols(r, S_BLOCKS);
    if (n != want) {
        wrong_cols(r, S_BLOCKS, ls, le, n > MAXTOK ? MAXTOK + 1 : n, want);
        return;
    }
    struct blockrow b;
    memset(&b, 0, sizeof b);
    b.start = ls;
    b.end = le;
    int64_t v;
    if (!tok_int(r, &t[0], &v) || v <= 0) {
        pq_err(r, 731, t[0].start, t[0].end, "block IDs are whole numbers from 1",
             "[BLOCKS]: '%.*s' is not a valid block ID", (int)(t[0].end - t[0].start),
             r->text + t[0].start);
        return;
    }
    if ((size_t)v != r->nb + 1) {
        pq_err(r, 732, t[0].start, t[0].end, "number the blocks 1, 2, 3, ... in order",
             "[BLOCKS]: block ID %lld where %zu was expected", (long long)v, r->nb + 1);
        return;
    }
    for (int i = 1; i < n; i++) {
        if (!tok_int(r, &t[i], &v) || v < 0 || v > INT32_MAX) {
            pq_err(r, 731, t[i].start, t[i].end,
                 "block columns are durations and event IDs: whole numbers from 0",
                 "[BLOCKS]: '%.*s' is not a whole number from 0", (int)(t[i].end - t[i].start),
                 r->text + t[i].start);
            return;
        }
        b.c[i - 1] = (int32_t)v;
    }
    VEC_PUSH(r->b, r->nb, r->capb, b);
}

static void def_row(struct reader *r, uint32_t ls, uint32_t le, struct tok *t, int n)
{
    static const struct { const char *key; size_t off; } rasters[] = {
        { "GradientRasterTime", offsetof(struct reader, graster) },
        { "RadiofrequencyRasterTime", offsetof(struct reader, rraster) },
        { "AdcRasterTime", offsetof(struct reader, araster) },
        { "BlockDurationRaster", offsetof(struct reader, braster) },
    };
    for (size_t k = 0; k < ARRAY_LEN(rasters); k++) {
        if (!tok_is(r, &t[0], rasters[k].key))
            continue;
        double v;
        if (n != 2) {
            pq_err(r, 731, ls, le, "write the raster in seconds, e.g. 1e-05",
                 "%s takes one value", rasters[k].key);
            return;
        }
        if (!num_or_err(r, &t[1], &v, rasters[k].key))
            return;
        double ns = v * 1e9;
        if (!(ns >= 0.5 && ns < 1e9) || fabs(ns - llround(ns)) > 1e-3) {
            pq_err(r, 744, t[1].start, t[1].end,
                 "a raster is a positive whole number of nanoseconds below 1 s",
                 "%s %g s is not a usable raster", rasters[k].key, v);
            return;
        }
        *(int64_t *)((char *)r + rasters[k].off) = llround(ns);
        return;
    }
    if (tok_is(r, &t[0], "FOV") && n == 4) {
        for (int i = 0; i < 3; i++)
            if (!num_or_err(r, &t[i + 1], &r->fov[i], "FOV"))
                return;
        r->have_fov = true;
    } else if (tok_is(r, &t[0], "RequiredExtensions")) {
        r->req_line = 1;
        r->req_start = ls;
        r->req_end = le;
        for (int i = 1; i < n && i <= MAXTOK && r->nrequired < 16; i++) {
            size_t m = t[i].end - t[i].start;
            if (m >= sizeof r->required[0])
                m = sizeof r->required[0] - 1;
            memcpy(r->required[r->nrequired], r->text + t[i].start, m);
            r->required[r->nrequired++][m] = 0;
        }
    }
    /* other definitions (Name, TotalDuration, ...) are informative */
}

static void version_row(struct reader *r, struct tok *t, int n, uint32_t ls, uint32_t le)
{
    int *dst = tok_is(r, &t[0], "major") ? &r->major : tok_is(r, &t[0], "minor") ? &r->minor :
               tok_is(r, &t[0], "revision") ? &r->rev : NULL;
    int64_t v;
    if (!dst || n != 2) {
        pq_err(r, 731, ls, le, "[VERSION] holds the lines 'major N', 'minor N', 'revision N'",
             "unexpected line in [VERSION]");
        return;
    }
    /* a revision may carry a suffix ("1.4.0.dev"): the leading number counts */
    struct tok u = t[1];
    if (dst == &r->rev) {
        uint32_t e = u.start;
        while (e < u.end && isdigit((unsigned char)r->text[e]))
            e++;
        if (e > u.start)
            u.end = e;
    }
    if (!tok_int(r, &u, &v) || v < 0 || v > 99) {
        pq_err(r, 731, t[1].start, t[1].end, "a version number is a whole number",
             "bad version number '%.*s'", (int)(t[1].end - t[1].start), r->text + t[1].start);
        return;
    }
    *dst = (int)v;
    r->ver = r->major * 10000 + r->minor * 100 + r->rev;
    r->have_version = true;
}

static enum extkind ext_kind(const char *name)
{
    if (!strcasecmp(name, "LABELSET")) return X_LABELSET;
    if (!strcasecmp(name, "LABELINC")) return X_LABELINC;
    if (!strcasecmp(name, "TRIGGERS")) return X_TRIGGERS;
    if (!strcasecmp(name, "DELAYS")) return X_DELAYS;
    if (!strcasecmp(name, "ROTATIONS")) return X_ROTATIONS;
    return X_UNKNOWN;
}

static void ext_row(struct reader *r, struct extspec *x, uint32_t ls, uint32_t le, struct tok *t,
                    int n)
{
    if (x->kind == X_UNKNOWN)
        return;
    struct extrow e;
    memset(&e, 0, sizeof e);
    e.start = ls;
    e.end = le;
    e.label = -1;
    int want = x->kind == X_LABELSET || x->kind == X_LABELINC ? 3 : x->kind == X_TRIGGERS ? 5 :
               x->kind == X_DELAYS ? 5 : 5;
    if (x->kind == X_ROTATIONS && n == 10)
        want = 10;     /* a rotation matrix instead of a quaternion */
    if (n != want) {
        char help[128];
        snprintf(help, sizeof help, "a %s row has %d columns", x->name, want);
        pq_err(r, 731, ls, le, help, "%s row has %d column%s, expected %d", x->name,
             n > MAXTOK ? MAXTOK + 1 : n, n == 1 ? "" : "s", want);
        return;
    }
    if (!id_or_err(r, &t[0], &e.id, x->name))
        return;
    if (x->kind == X_LABELSET || x->kind == X_LABELINC) {
        if (!num_or_err(r, &t[1], &e.v[0], x->name))
            return;
        for (int i = 0; i < NLABELNAMES; i++)
            if (tok_is(r, &t[2], pq_label_names[i]))
                e.label = i;
        if (e.label < 0) {
            pq_err(r, 731, t[2].start, t[2].end,
                 "labels are SLC SEG REP AVG SET ECO PHS LIN PAR ACQ TRID and the flags NAV "
                 "REV SMS REF IMA OFF NOISE PMC NOROT NOPOS NOSCL ONCE",
                 "%s: unknown label '%.*s'", x->name, (int)(t[2].end - t[2].start),
                 r->text + t[2].start);
            return;
        }
        if (e.v[0] != floor(e.v[0]) || fabs(e.v[0]) > 1e9) {
            pq_err(r, 744, t[1].start, t[1].end, "a label value is a whole number",
                 "%s: label value %g is not a whole number", x->name, e.v[0]);
            return;
        }
        e.nv = 1;
    } else {
        int nv = n - 1;
        if (x->kind == X_DELAYS)
            nv = 3;     /* the fifth column is the hint name */
        for (int i = 0; i < nv; i++)
            if (!num_or_err(r, &t[i + 1], &e.v[i], x->name))
                return;
        e.nv = nv;
    }
    int32_t have = pq_idmap_get(&x->map, e.id);
    if (have >= 0) {
        int line, col;
        diag_linecol(r->d, r->file, x->r[have].start, &line, &col);
        dup_id(r, x->name, e.id, t[0].start, t[0].end, (uint32_t)line);
        return;
    }
    pq_idmap_put(&x->map, e.id, (int32_t)x->n);
    VEC_PUSH(x->r, x->n, x->cap, e);
}

/* Shapes: "shape_id N", "num_samples M", then one value per line. */
struct shape_state {
    bool in;                 /* inside a shape (after num_samples) */
    bool want_num;           /* after shape_id, before num_samples */
    struct shape cur;
    double nsamples;
};

static bool finish_shape(struct reader *r, struct shape_state *st);

static void shape_line(struct reader *r, struct shape_state *st, uint32_t ls, uint32_t le,
                       struct tok *t, int n)
{
    if (tok_is(r, &t[0], "shape_id")) {
        if (st->in && !finish_shape(r, st))
            return;
        if (st->want_num) {
            pq_err(r, 735, st->cur.start, st->cur.end, "follow shape_id with 'num_samples M'",
                 "shape %lld has no num_samples line", (long long)st->cur.id);
            return;
        }
        if (n != 2) {
            pq_err(r, 731, ls, le, "write 'shape_id N'", "shape_id takes one ID");
            return;
        }
        memset(&st->cur, 0, sizeof st->cur);
        if (!id_or_err(r, &t[1], &st->cur.id, "shape_id"))
            return;
        st->cur.start = ls;
        st->cur.end = le;
        int32_t have = pq_idmap_get(&r->shmap, st->cur.id);
        if (have >= 0) {
            int line, col;
            diag_linecol(r->d, r->file, r->sh[have].start, &line, &col);
            dup_id(r, "[SHAPES]", st->cur.id, t[1].start, t[1].end, (uint32_t)line);
            return;
        }
        st->want_num = true;
        return;
    }
    if (tok_is(r, &t[0], "num_samples")) {
        if (!st->want_num) {
            pq_err(r, 735, ls, le, "num_samples follows a 'shape_id N' line",
                 "num_samples without a shape_id");
            return;
        }
        int64_t v;
        if (n != 2 || !tok_int(r, &t[1], &v) || v < 1 || v > UINT32_MAX) {
            pq_err(r, 735, ls, le, "write 'num_samples M' with M from 1 to 4294967295",
                 "bad num_samples line");
            return;
        }
        st->nsamples = (double)v;
        st->want_num = false;
        st->in = true;
        st->cur.off = (uint32_t)r->nvals;
        return;
    }
    if (!st->in) {
        pq_err(r, 735, ls, le, "shape values follow 'shape_id N' and 'num_samples M'",
             "a value outside a shape");
        return;
    }
    if (n != 1) {
        pq_err(r, 735, ls, le, "write one shape value per line", "a shape line holds %d values",
             n > MAXTOK ? MAXTOK + 1 : n);
        return;
    }
    double v;
    if (!num_or_err(r, &t[0], &v, "[SHAPES]"))
        return;
    if (r->nvals >= UINT32_MAX - 1) {
        pq_err(r, 735, ls, le, NULL, "too many shape values");
        return;
    }
    VEC_PUSH(r->vals, r->nvals, r->capvals, v);
    st->cur.n++;
}

/* Check the shape just read: its values are num_samples as they are, or a
   compression of them (expanded later, and only if an event plays it, by
   pq_shapes_prepare). */
static bool finish_shape(struct reader *r, struct shape_state *st)
{
    st->in = false;
    struct shape *s = &st->cur;
    uint32_t m = (uint32_t)st->nsamples;
    s->m = m;
    if (s->n == 0) {
        pq_err(r, 735, s->start, s->end, "list the shape's values after num_samples",
             "shape %lld has no values", (long long)s->id);
        return false;
    }
    /* From 1.4 a shape of num_samples values is stored as it is; before,
       every shape was compressed (such a count could come by chance), so
       an old file's shape is decompressed when it can be. A compressed
       shape may also hold more values than samples: a run "a a 0" stores
       3 values for 2 samples (pypulseq's decompress_shape and MATLAB
       Pulseq's decompressShape expand any count that is not num_samples) */
    if (s->n != m || r->ver < 10400) {
        s->packed = pq_shape_expands_to(r->vals + s->off, s->n, m);
        if (!s->packed && s->n != m) {
            pq_err(r, 735, s->start, s->end,
                 "a compressed shape is a run-length encoded derivative that expands to "
                 "exactly num_samples values",
                 "shape %lld does not decompress to %u samples", (long long)s->id, m);
            return false;
        }
    }
    pq_idmap_put(&r->shmap, s->id, (int32_t)r->nsh);
    VEC_PUSH(r->sh, r->nsh, r->capsh, *s);
    return true;
}

static enum sec section_of(struct reader *r, const struct tok *t)
{
    static const struct { const char *n; enum sec s; } secs[] = {
        { "[VERSION]", S_VERSION }, { "[DEFINITIONS]", S_DEFS }, { "[BLOCKS]", S_BLOCKS },
        { "[RF]", S_RF }, { "[GRADIENTS]", S_GRAD }, { "[TRAP]", S_TRAP }, { "[ADC]", S_ADC },
        { "[DELAYS]", S_DELAYS }, { "[EXTENSIONS]", S_EXTLIST }, { "[SHAPES]", S_SHAPES },
        { "[SIGNATURE]", S_SIGNATURE },
    };
    for (size_t i = 0; i < ARRAY_LEN(secs); i++)
        if (tok_is(r, t, secs[i].n))
            return secs[i].s;
    return S_NONE;
}

/* The line at *pos (then past it): its start and end (*ls, *le), where its
   comment starts (*ce), its tokens in t; how many (0: a blank line), or -1
   at the end of the text. */
static int next_line(const struct reader *r, size_t *pos, uint32_t *ls, uint32_t *le,
                     uint32_t *ce, struct tok *t)
{
    if (*pos >= r->len)
        return -1;
    const char *nl = memchr(r->text + *pos, '\n', r->len - *pos);
    *ls = (uint32_t)*pos;
    *le = (uint32_t)(nl ? (size_t)(nl - r->text) : r->len);
    *pos = nl ? *le + 1u : r->len;
    uint32_t c = *ls;
    while (c < *le && r->text[c] != '#')
        c++;
    *ce = c;
    return split(r->text, *ls, c, t);
}

/* A file whose [VERSION] comes after other sections (pulseq 1.2's own
   examples put [DEFINITIONS] first; the reference readers take sections in
   any order): the version is read ahead from there, before the first pass,
   so that every section is read as its format says. Only the first
   [VERSION] counts; nothing is done when the file starts with it. */
static void prescan_version(struct reader *r)
{
    r->version_line = -1;
    bool first = true, in = false;
    struct tok t[MAXTOK];
    size_t pos = 0;
    uint32_t ls, le, ce;
    for (int n; !r->failed && (n = next_line(r, &pos, &ls, &le, &ce, t)) >= 0;) {
        if (n == 0)
            continue;
        if (r->text[t[0].start] == '[') {
            if (in)
                return;                 /* the end of the [VERSION] read ahead */
            bool is_version = n == 1 && section_of(r, &t[0]) == S_VERSION;
            if (is_version && first)
                return;                 /* the usual order: the first pass reads it */
            first = false;
            if (is_version) {
                in = true;
                r->version_line = ls;
            }
            continue;
        }
        if (in && n <= MAXTOK)
            version_row(r, t, n, ls, n ? t[n - 1].end : ce);
    }
}

/* The first pass: every line into its section's table. */
static void parse_lines(struct reader *r)
{
    enum sec cur = S_NONE;
    struct extspec *x = NULL;
    struct shape_state st;
    memset(&st, 0, sizeof st);
    size_t pos = 0;
    struct tok t[MAXTOK];
    uint32_t ls, le, ce;
    for (int n; !r->failed && (n = next_line(r, &pos, &ls, &le, &ce, t)) >= 0;) {
        if (n == 0)
            continue;
        uint32_t te = n > MAXTOK ? ce : t[n - 1].end;
        if (r->text[t[0].start] == '[') {
            enum sec s = section_of(r, &t[0]);
            if (s == S_NONE || n != 1) {
                pq_err(r, 734, t[0].start, te,
                     "sections are [VERSION] [DEFINITIONS] [BLOCKS] [RF] [GRADIENTS] [TRAP] "
                     "[ADC] [DELAYS] [EXTENSIONS] [SHAPES] [SIGNATURE]",
                     "unknown section '%.*s'", (int)(te - t[0].start), r->text + t[0].start);
                return;
            }
            if (cur == S_SHAPES && st.in && !finish_shape(r, &st))
                return;
            if (s == S_VERSION && (int64_t)ls == r->version_line) {
                cur = S_VERSION;        /* read ahead (prescan_version): read again */
                continue;
            }
            if (s != S_VERSION && !r->have_version) {
                pq_err(r, 734, t[0].start, t[0].end,
                     "a .seq file starts with [VERSION] (major, minor, revision)",
                     "%s before [VERSION]", sec_name(s));
                return;
            }
            if (s == S_VERSION && r->have_version) {
                pq_err(r, 732, t[0].start, t[0].end, "keep one [VERSION] section",
                     "a second [VERSION] section");
                return;
            }
            if (s == S_VERSION && r->ver == 0)
                r->have_version = false;
            struct table *tb = table_of(r, s);
            if (tb) {
                tb->present = true;
                tb->line = ls;
            }
            if (s == S_BLOCKS)
                r->have_blocks = true;
            if (s == S_SHAPES)
                r->have_shapes = true;
            if (s == S_SIGNATURE) {
                r->have_sig = true;
                r->sig_at = ls;
            }
            if (s == S_BLOCKS && r->ver < 10200) {
                pq_err(r, 736, ls, le, "Larmor reads formats 1.2 to 1.5",
                     "format %d.%d.%d is not supported", r->major, r->minor, r->rev);
                return;
            }
            cur = s;
            x = NULL;
            continue;
        }
        if (tok_is(r, &t[0], "extension") && cur != S_SIGNATURE) {
            if (cur == S_SHAPES && st.in && !finish_shape(r, &st))
                return;
            int64_t type;
            if (n != 3 || !tok_int(r, &t[2], &type) || type < 1) {
                pq_err(r, 731, ls, le, "write 'extension NAME N' with N the type number used in "
                     "[EXTENSIONS]", "bad extension header");
                return;
            }
            struct extspec e;
            memset(&e, 0, sizeof e);
            e.type = type;
            size_t m = t[1].end - t[1].start;
            if (m >= sizeof e.name)
                m = sizeof e.name - 1;
            memcpy(e.name, r->text + t[1].start, m);
            e.kind = ext_kind(e.name);
            e.start = ls;
            e.end = le;
            for (size_t i = 0; i < r->nxs; i++)
                if (r->xs[i].type == type) {
                    pq_err(r, 732, t[2].start, t[2].end, "give each extension its own type number",
                         "extension type %lld is defined twice", (long long)type);
                    return;
                }
            VEC_PUSH(r->xs, r->nxs, r->capxs, e);
            x = &r->xs[r->nxs - 1];
            cur = S_EXTSPEC;
            continue;
        }
        if (n > MAXTOK && cur != S_BLOCKS) {
            wrong_cols(r, cur, ls, le, n, ncols(r, cur));
            return;
        }
        switch (cur) {
        case S_NONE:
            pq_err(r, 734, ls, te, "a .seq file starts with [VERSION]",
                 "text outside any section");
            return;
        case S_VERSION: version_row(r, t, n, ls, te); break;
        case S_DEFS: def_row(r, ls, te, t, n); break;
        case S_BLOCKS: block_row(r, ls, te, t, n); break;
        case S_RF: case S_GRAD: case S_TRAP: case S_ADC: case S_DELAYS: case S_EXTLIST:
            event_row(r, cur, ls, te, t, n);
            break;
        case S_EXTSPEC: ext_row(r, x, ls, te, t, n); break;
        case S_SHAPES: shape_line(r, &st, ls, te, t, n); break;
        case S_SIGNATURE:
            if (tok_is(r, &t[0], "Type") && n == 2) {
                r->md5_type = tok_is(r, &t[1], "md5");
            } else if (tok_is(r, &t[0], "Hash") && n == 2) {
                size_t m = t[1].end - t[1].start;
                if (m >= sizeof r->hash)
                    m = sizeof r->hash - 1;
                memcpy(r->hash, r->text + t[1].start, m);
                r->hash[m] = 0;
                r->have_hash = true;
                r->hash_start = t[1].start;
                r->hash_end = t[1].end;
            }
            break;
        }
    }
    if (r->failed)
        return;
    if (cur == S_SHAPES && st.in)
        finish_shape(r, &st);
    if (st.want_num && !r->failed)
        pq_err(r, 735, st.cur.start, st.cur.end, "follow shape_id with 'num_samples M' and the "
             "values", "shape %lld ends before its num_samples line (is the file truncated?)",
             (long long)st.cur.id);
}

int pulseq_verify_md5(const char *text, size_t len, char found[33])
{
    found[0] = 0;
    /* find the [SIGNATURE] line and the Hash in it */
    size_t at = SIZE_MAX;
    for (size_t i = 0; i + 11 <= len; i++)
        if ((i == 0 || text[i - 1] == '\n') && !strncasecmp(text + i, "[SIGNATURE]", 11)) {
            at = i;
            break;
        }
    if (at == SIZE_MAX)
        return -1;
    const char *h = NULL;
    for (size_t i = at; i + 5 <= len; i++)
        if (text[i - 1] == '\n' && !strncasecmp(text + i, "Hash", 4) &&
            (text[i + 4] == ' ' || text[i + 4] == '\t')) {
            h = text + i + 4;
            break;
        }
    if (!h)
        return -1;
    while (h < text + len && (*h == ' ' || *h == '\t'))
        h++;
    size_t m = 0;
    while (h + m < text + len && isxdigit((unsigned char)h[m]) && m < 32)
        m++;
    memcpy(found, h, m);
    found[m] = 0;
    char want[33];
    md5_hex(want, text, at > 0 ? at - 1 : 0);
    return m == 32 && !strncasecmp(want, found, 32);
}

static void check_signature(struct reader *r)
{
    if (!r->have_sig)
        return;
    if (!r->md5_type || !r->have_hash) {
        pq_warn(r, 739, r->sig_at, r->sig_at + 11, "write 'Type md5' and 'Hash <32 hex digits>'",
              "the signature is not an MD5 hash; not verified");
        return;
    }
    char found[33], want[33];
    md5_hex(want, r->text, r->sig_at > 0 ? r->sig_at - 1 : 0);
    int ok = pulseq_verify_md5(r->text, r->len, found);
    if (ok == 1)
        return;
    const char *help = "the file was changed after it was signed; sign it again or fix the "
                       "change (the MD5 covers the bytes before the newline ahead of "
                       "[SIGNATURE])";
    if (r->o && r->o->strict)
        pq_err(r, 739, r->hash_start, r->hash_end, help,
             "signature mismatch: the file's MD5 is %s", want);
    else
        pq_warn(r, 739, r->hash_start, r->hash_end, help,
              "signature mismatch: the file's MD5 is %s", want);
}

static void table_fini(struct table *t)
{
    free(t->r);
    pq_idmap_fini(&t->map);
}

struct lbc_program *pulseq_read_buf(const char *path, const char *text, size_t len,
                                    const struct pulseq_read_opts *o, struct diag_ctx *d)
{
    struct reader r;
    memset(&r, 0, sizeof r);
    r.path = path;
    r.d = d;
    r.o = o;
    r.file = diag_find_file(d, path);
    if (r.file < 0)
        r.file = diag_add_file(d, path, text, len);
    const struct src_file *sf = diag_file(d, r.file);
    r.text = sf->text;
    r.len = sf->len;
    r.graster = 10000;
    r.rraster = 1000;
    r.araster = 100;
    r.braster = 10000;
    struct lbc_program *p = NULL;
    if (memchr(r.text, 0, r.len)) {
        pq_err(&r, 731, 0, 0, "a .seq file is text", "%s holds a NUL byte: not a .seq file", path);
        goto out;
    }
    prescan_version(&r);
    if (!r.failed)
        parse_lines(&r);
    if (r.failed)
        goto out;
    uint32_t eof = (uint32_t)r.len;
    if (!r.have_version) {
        pq_err(&r, 734, eof, eof, "a .seq file starts with [VERSION] (major, minor, revision)",
             "the file has no [VERSION] section");
        goto out;
    }
    if (r.major != 1 || r.ver < 10200 || r.ver >= 10600) {
        pq_err(&r, 736, 0, 0, "Larmor reads formats 1.2 to 1.5",
             "format %d.%d.%d is not supported", r.major, r.minor, r.rev);
        goto out;
    }
    if (!r.have_blocks) {
        pq_err(&r, 734, eof, eof, "a .seq file needs a [BLOCKS] section",
             "the file has no [BLOCKS] section (is it truncated?)");
        goto out;
    }
    for (int i = 0; i < r.nrequired; i++)
        if (ext_kind(r.required[i]) == X_UNKNOWN) {
            pq_err(&r, 737, r.req_start, r.req_end, "this sequence needs an extension Larmor "
                 "cannot play; run it where the extension is supported",
                 "required extension %s is unknown to Larmor", r.required[i]);
            goto out;
        }
    for (size_t i = 0; i < r.nxs; i++)
        if (r.xs[i].kind == X_UNKNOWN)
            pq_warn(&r, 738, r.xs[i].start, r.xs[i].end, "Larmor plays the blocks without it",
                  "unknown extension %s is ignored", r.xs[i].name);
    bool uses_shapes = r.rf.n || r.grad.n;
    if (uses_shapes && !r.have_shapes) {
        pq_err(&r, 734, eof, eof, "add the [SHAPES] section the events refer to",
             "the file has RF or arbitrary gradients but no [SHAPES] section (is it "
             "truncated?)");
        goto out;
    }
    check_signature(&r);
    if (r.failed || !pq_shapes_prepare(&r))
        goto out;
    p = pq_build(&r);
out:
    table_fini(&r.rf);
    table_fini(&r.grad);
    table_fini(&r.trap);
    table_fini(&r.adc);
    table_fini(&r.delays);
    table_fini(&r.ext);
    for (size_t i = 0; i < r.nxs; i++) {
        free(r.xs[i].r);
        pq_idmap_fini(&r.xs[i].map);
    }
    free(r.xs);
    free(r.sh);
    pq_idmap_fini(&r.shmap);
    free(r.vals);
    free(r.b);
    return p;
}

struct lbc_program *pulseq_read_file(const char *path, const struct pulseq_read_opts *o,
                                     struct diag_ctx *d)
{
    /* the text and the copy the diagnostics keep, before reading */
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
        mem_check_diag(d, 747, SPAN_NONE, path, "reading the file (twice its size)",
                       mem_mul((size_t)st.st_size, 2)))
        return NULL;
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        diag_error(d, 730, SPAN_NONE, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    struct lbc_program *p = pulseq_read_buf(path, text, len, o, d);
    free(text);
    return p;
}
