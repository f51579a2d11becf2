/*
 * pulseq_read: the .seq reader (formats 1.2 to 1.5). One pass splits the
 * text into sections and rows (every number checked, every row's column
 * count checked against its section and version, IDs unique); a second
 * pass walks [BLOCKS] and emits the straight-line program, resolving each
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
 *   are classed by flip angle (up to 100 degrees: excitation).
 * - Labels: the counters Larmor has are kept (SETs, then INCs); ACQ, TRID
 *   and the flags are dropped with one warning each. A file without LIN
 *   labels gets them from the phase-encode moment before each ADC, so that
 *   a plain Cartesian Pulseq file reconstructs.
 * - Triggers: Larmor channel = Pulseq channel (outputs, type 1) or 16 +
 *   channel (inputs, type 2). Soft delays play at their nominal length.
 *   ROTATIONS are applied to the block's gradients where the result is
 *   exact (one axis, or trapezoids with one timing).
 */
#include "runtime/pulseq/pulseq.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/md5.h"
#include "runtime/util.h"

enum sec { S_NONE, S_VERSION, S_DEFS, S_BLOCKS, S_RF, S_GRAD, S_TRAP, S_ADC, S_DELAYS,
           S_EXTLIST, S_EXTSPEC, S_SHAPES, S_SIGNATURE };

#define MAXCOL 12

struct row {                 /* one event row */
    uint32_t line, start, end;
    int64_t id;
    double v[MAXCOL];        /* columns after the id */
    char use;                /* 1.5 RF use letter */
};

struct blockrow {
    uint32_t line, start, end;
    int32_t c[7];            /* dur/delay rf gx gy gz adc ext */
};

struct idmap {               /* open addressing: id -> index */
    int64_t *key;
    int32_t *val;
    size_t cap, n;
};

struct table {
    struct row *r;
    size_t n, cap;
    struct idmap map;
    bool present;
    uint32_t line;           /* of the section header */
};

struct shape {
    int64_t id;
    uint32_t line, start, end;
    uint32_t off, n;         /* into the reader's values */
};

enum extkind { X_UNKNOWN, X_LABELSET, X_LABELINC, X_TRIGGERS, X_DELAYS, X_ROTATIONS };

struct extrow {
    uint32_t line, start, end;
    int64_t id;
    double v[9];
    int nv;
    int label;               /* LABELSET/LABELINC: index into label_names, -1 */
};

struct extspec {
    int64_t type;            /* the type number the header gives */
    char name[32];
    enum extkind kind;
    uint32_t line, start, end;
    struct extrow *r;
    size_t n, cap;
    struct idmap map;
};

struct reader {
    const char *path, *text;
    size_t len;
    int file;                /* diag file index */
    struct diag_ctx *d;
    const struct pulseq_read_opts *o;
    bool failed;
    int major, minor, rev;
    int ver;                 /* major*10000 + minor*100 + rev */
    bool have_version;
    /* definitions (ns) */
    int64_t graster, rraster, araster, braster;
    double fov[3];
    bool have_fov;
    uint32_t req_line, req_start, req_end;
    char required[16][32];
    int nrequired;
    struct blockrow *b;
    size_t nb, capb;
    bool have_blocks;
    struct table rf, grad, trap, adc, delays, ext;
    struct extspec *xs;
    size_t nxs, capxs;
    struct shape *sh;
    size_t nsh, capsh;
    struct idmap shmap;
    double *vals;
    size_t nvals, capvals;
    bool have_shapes;
    /* signature */
    char hash[64];
    bool have_hash, md5_type;
    uint32_t hash_line, hash_start, hash_end;
    size_t sig_at;           /* offset of the [SIGNATURE] line */
    bool have_sig;
};

/* Pulseq label names: the first VM_LABEL__COUNT map to Larmor counters in
   this order (must match enum vm_label). */
static const char *const label_names[] = {
    "LIN", "PAR", "SLC", "ECO", "REP", "AVG", "SET", "SEG", "PHS",
    "ACQ", "TRID", "NAV", "REV", "SMS", "REF", "IMA", "OFF", "NOISE", "PMC", "NOROT",
    "NOPOS", "NOSCL", "ONCE",
};
#define NLABELNAMES ((int)ARRAY_LEN(label_names))

/* ---------- id maps ---------- */

static uint64_t hash64(int64_t k)
{
    uint64_t x = (uint64_t)k * 0x9e3779b97f4a7c15ULL;
    return x ^ (x >> 29);
}

static void idmap_fini(struct idmap *m)
{
    free(m->key);
    free(m->val);
    memset(m, 0, sizeof *m);
}

static int32_t idmap_get(const struct idmap *m, int64_t k)
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

static void idmap_put(struct idmap *m, int64_t k, int32_t v)
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
                idmap_put(&g, m->key[i], m->val[i]);
        idmap_fini(m);
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

static struct diag *rerr(struct reader *r, int code, uint32_t start, uint32_t end,
                         const char *help, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static struct diag *rerr(struct reader *r, int code, uint32_t start, uint32_t end,
                         const char *help, const char *fmt, ...)
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

static struct diag *rwarn(struct reader *r, int code, uint32_t start, uint32_t end,
                          const char *help, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static struct diag *rwarn(struct reader *r, int code, uint32_t start, uint32_t end,
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
    rerr(r, 731, t->start, t->end, "write a decimal number here",
         "%s: '%.*s' is not a number", what, (int)(t->end - t->start), r->text + t->start);
    return false;
}

static bool id_or_err(struct reader *r, const struct tok *t, int64_t *v, const char *what)
{
    if (tok_int(r, t, v) && *v > 0 && *v <= INT32_MAX)
        return true;
    rerr(r, 731, t->start, t->end, "IDs are whole numbers from 1",
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
    rerr(r, 731, ls, le, help, "%s row has %d column%s, expected %d", sec_name(s), got,
         got == 1 ? "" : "s", want);
}

static void dup_id(struct reader *r, const char *sec, int64_t id, uint32_t s, uint32_t e,
                   uint32_t first_line)
{
    struct diag *g = rerr(r, 732, s, e, "give each row its own ID",
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
            rerr(r, 731, u->start, u->end, "the last RF column is one of e r s i p o u",
                 "[RF]: '%.*s' is not an RF use", (int)(u->end - u->start), r->text + u->start);
            return;
        }
        row.use = (char)c;
    }
    for (int i = 0; i < nv; i++)
        if (!num_or_err(r, &t[i + 1], &row.v[i], sec_name(s)))
            return;
    int32_t have = idmap_get(&tb->map, row.id);
    if (have >= 0) {
        int line;
        int col;
        diag_linecol(r->d, r->file, tb->r[have].start, &line, &col);
        dup_id(r, sec_name(s), row.id, t[0].start, t[0].end, (uint32_t)line);
        return;
    }
    idmap_put(&tb->map, row.id, (int32_t)tb->n);
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
        rerr(r, 731, t[0].start, t[0].end, "block IDs are whole numbers from 1",
             "[BLOCKS]: '%.*s' is not a valid block ID", (int)(t[0].end - t[0].start),
             r->text + t[0].start);
        return;
    }
    if ((size_t)v != r->nb + 1) {
        rerr(r, 732, t[0].start, t[0].end, "number the blocks 1, 2, 3, ... in order",
             "[BLOCKS]: block ID %lld where %zu was expected", (long long)v, r->nb + 1);
        return;
    }
    for (int i = 1; i < n; i++) {
        if (!tok_int(r, &t[i], &v) || v < 0 || v > INT32_MAX) {
            rerr(r, 731, t[i].start, t[i].end,
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
            rerr(r, 731, ls, le, "write the raster in seconds, e.g. 1e-05",
                 "%s takes one value", rasters[k].key);
            return;
        }
        if (!num_or_err(r, &t[1], &v, rasters[k].key))
            return;
        double ns = v * 1e9;
        if (!(ns >= 0.5 && ns < 1e9) || fabs(ns - llround(ns)) > 1e-3) {
            rerr(r, 744, t[1].start, t[1].end,
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
        rerr(r, 731, ls, le, "[VERSION] holds the lines 'major N', 'minor N', 'revision N'",
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
        rerr(r, 731, t[1].start, t[1].end, "a version number is a whole number",
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
        rerr(r, 731, ls, le, help, "%s row has %d column%s, expected %d", x->name,
             n > MAXTOK ? MAXTOK + 1 : n, n == 1 ? "" : "s", want);
        return;
    }
    if (!id_or_err(r, &t[0], &e.id, x->name))
        return;
    if (x->kind == X_LABELSET || x->kind == X_LABELINC) {
        if (!num_or_err(r, &t[1], &e.v[0], x->name))
            return;
        for (int i = 0; i < NLABELNAMES; i++)
            if (tok_is(r, &t[2], label_names[i]))
                e.label = i;
        if (e.label < 0) {
            rerr(r, 731, t[2].start, t[2].end,
                 "labels are SLC SEG REP AVG SET ECO PHS LIN PAR ACQ TRID and the flags NAV "
                 "REV SMS REF IMA OFF NOISE PMC NOROT NOPOS NOSCL ONCE",
                 "%s: unknown label '%.*s'", x->name, (int)(t[2].end - t[2].start),
                 r->text + t[2].start);
            return;
        }
        if (e.v[0] != floor(e.v[0]) || fabs(e.v[0]) > 1e9) {
            rerr(r, 744, t[1].start, t[1].end, "a label value is a whole number",
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
    int32_t have = idmap_get(&x->map, e.id);
    if (have >= 0) {
        int line, col;
        diag_linecol(r->d, r->file, x->r[have].start, &line, &col);
        dup_id(r, x->name, e.id, t[0].start, t[0].end, (uint32_t)line);
        return;
    }
    idmap_put(&x->map, e.id, (int32_t)x->n);
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
            rerr(r, 735, st->cur.start, st->cur.end, "follow shape_id with 'num_samples M'",
                 "shape %lld has no num_samples line", (long long)st->cur.id);
            return;
        }
        if (n != 2) {
            rerr(r, 731, ls, le, "write 'shape_id N'", "shape_id takes one ID");
            return;
        }
        memset(&st->cur, 0, sizeof st->cur);
        if (!id_or_err(r, &t[1], &st->cur.id, "shape_id"))
            return;
        st->cur.start = ls;
        st->cur.end = le;
        int32_t have = idmap_get(&r->shmap, st->cur.id);
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
            rerr(r, 735, ls, le, "num_samples follows a 'shape_id N' line",
                 "num_samples without a shape_id");
            return;
        }
        int64_t v;
        if (n != 2 || !tok_int(r, &t[1], &v) || v < 1 || v > 100000000) {
            rerr(r, 735, ls, le, "write 'num_samples M' with M from 1",
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
        rerr(r, 735, ls, le, "shape values follow 'shape_id N' and 'num_samples M'",
             "a value outside a shape");
        return;
    }
    if (n != 1) {
        rerr(r, 735, ls, le, "write one shape value per line", "a shape line holds %d values",
             n > MAXTOK ? MAXTOK + 1 : n);
        return;
    }
    double v;
    if (!num_or_err(r, &t[0], &v, "[SHAPES]"))
        return;
    if (r->nvals >= UINT32_MAX - 1) {
        rerr(r, 735, ls, le, NULL, "too many shape values");
        return;
    }
    VEC_PUSH(r->vals, r->nvals, r->capvals, v);
    st->cur.n++;
}

/* Decompress the shape just read in place at the end of vals. */
static bool finish_shape(struct reader *r, struct shape_state *st)
{
    st->in = false;
    struct shape *s = &st->cur;
    uint32_t m = (uint32_t)st->nsamples;
    if (s->n == 0) {
        rerr(r, 735, s->start, s->end, "list the shape's values after num_samples",
             "shape %lld has no values", (long long)s->id);
        return false;
    }
    if (s->n > m) {
        rerr(r, 735, s->start, s->end, "a shape holds at most num_samples values",
             "shape %lld has %u values for %u samples", (long long)s->id, s->n, m);
        return false;
    }
    if (s->n < m) {
        /* derivative, run-length encoded: a value written twice is followed
           by the count of further repeats */
        double *pk = xmalloc(s->n * sizeof *pk);
        memcpy(pk, r->vals + s->off, s->n * sizeof *pk);
        r->nvals = s->off;
        vec_reserve((void **)&r->vals, &r->capvals, r->nvals + m, sizeof *r->vals);
        double *out = r->vals + s->off;
        size_t k = 0, i = 0;
        bool bad = false;
        while (i < s->n && !bad) {
            if (i + 1 < s->n && pk[i] == pk[i + 1]) {
                double c = i + 2 < s->n ? pk[i + 2] : -1;
                if (!(c >= 0 && c == floor(c) && c <= m)) {
                    bad = true;
                    break;
                }
                size_t rep = (size_t)c + 2;
                if (k + rep > m) {
                    bad = true;
                    break;
                }
                for (size_t j = 0; j < rep; j++)
                    out[k++] = pk[i];
                i += 3;
            } else {
                if (k >= m) {
                    bad = true;
                    break;
                }
                out[k++] = pk[i++];
            }
        }
        free(pk);
        if (bad || k != m) {
            rerr(r, 735, s->start, s->end,
                 "a compressed shape is a run-length encoded derivative that expands to "
                 "exactly num_samples values",
                 "shape %lld does not decompress to %u samples", (long long)s->id, m);
            return false;
        }
        for (size_t j = 1; j < m; j++)
            out[j] += out[j - 1];
        r->nvals = s->off + m;
        s->n = m;
    }
    idmap_put(&r->shmap, s->id, (int32_t)r->nsh);
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

/* The first pass: every line into its section's table. */
static void parse_lines(struct reader *r)
{
    enum sec cur = S_NONE;
    struct extspec *x = NULL;
    struct shape_state st;
    memset(&st, 0, sizeof st);
    size_t pos = 0;
    struct tok t[MAXTOK];
    while (pos < r->len && !r->failed) {
        const char *nl = memchr(r->text + pos, '\n', r->len - pos);
        uint32_t ls = (uint32_t)pos, le = (uint32_t)(nl ? (size_t)(nl - r->text) : r->len);
        pos = nl ? le + 1u : r->len;
        uint32_t ce = ls;
        while (ce < le && r->text[ce] != '#')
            ce++;
        int n = split(r->text, ls, ce, t);
        if (n == 0)
            continue;
        uint32_t te = n > MAXTOK ? ce : t[n - 1].end;
        if (r->text[t[0].start] == '[') {
            enum sec s = section_of(r, &t[0]);
            if (s == S_NONE || n != 1) {
                rerr(r, 734, t[0].start, te,
                     "sections are [VERSION] [DEFINITIONS] [BLOCKS] [RF] [GRADIENTS] [TRAP] "
                     "[ADC] [DELAYS] [EXTENSIONS] [SHAPES] [SIGNATURE]",
                     "unknown section '%.*s'", (int)(te - t[0].start), r->text + t[0].start);
                return;
            }
            if (cur == S_SHAPES && st.in && !finish_shape(r, &st))
                return;
            if (s != S_VERSION && !r->have_version) {
                rerr(r, 734, t[0].start, t[0].end,
                     "a .seq file starts with [VERSION] (major, minor, revision)",
                     "%s before [VERSION]", sec_name(s));
                return;
            }
            if (s == S_VERSION && r->have_version) {
                rerr(r, 732, t[0].start, t[0].end, "keep one [VERSION] section",
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
                rerr(r, 736, ls, le, "Larmor reads formats 1.2 to 1.5",
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
                rerr(r, 731, ls, le, "write 'extension NAME N' with N the type number used in "
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
                    rerr(r, 732, t[2].start, t[2].end, "give each extension its own type number",
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
            rerr(r, 734, ls, te, "a .seq file starts with [VERSION]",
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
        rerr(r, 735, st.cur.start, st.cur.end, "follow shape_id with 'num_samples M' and the "
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
        rwarn(r, 739, r->sig_at, r->sig_at + 11, "write 'Type md5' and 'Hash <32 hex digits>'",
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
        rerr(r, 739, r->hash_start, r->hash_end, help,
             "signature mismatch: the file's MD5 is %s", want);
    else
        rwarn(r, 739, r->hash_start, r->hash_end, help,
              "signature mismatch: the file's MD5 is %s", want);
}

/* ---------- building the program ---------- */

struct builder {
    struct reader *r;
    struct lbc_program *p;
    int32_t file;            /* string index of the path */
    int32_t *rf_t, *adc_t;   /* template per row, -1 until made */
    int32_t *grad_t[3];      /* per axis: [GRADIENTS] rows then [TRAP] rows */
    int32_t *trig_t;
    struct idmap end_t;      /* duration (ns) -> END template */
    int32_t zero_k;
    bool warned_label[32];
    bool warned_soft, warned_ppm;
    int32_t *lin;            /* per block: derived LIN label or -1 */
};

static int64_t us2ns(double us)
{
    return llround(us * 1000.0);
}

static bool sane_us(double us)
{
    return isfinite(us) && us >= 0 && us < 1e12;
}

static const struct shape *get_shape(struct builder *bd, int64_t id, const struct row *row,
                                     const char *what)
{
    int32_t i = idmap_get(&bd->r->shmap, id);
    if (i < 0) {
        rerr(bd->r, 733, row->start, row->end, "define the shape in [SHAPES] or fix the ID",
             "%s refers to shape %lld, which is not defined", what, (long long)id);
        return NULL;
    }
    return &bd->r->sh[i];
}

/* Values at (j + 0.5) of a piecewise-linear function through (t, v). */
static void resample(double *out, size_t n, const double *t, const double *v, size_t m)
{
    size_t k = 0;
    for (size_t j = 0; j < n; j++) {
        double x = (double)j + 0.5;
        while (k + 1 < m && t[k + 1] < x)
            k++;
        if (x <= t[0])
            out[j] = v[0];
        else if (k + 1 >= m)
            out[j] = v[m - 1];
        else {
            double dt = t[k + 1] - t[k];
            out[j] = dt > 0 ? v[k] + (v[k + 1] - v[k]) * (x - t[k]) / dt : v[k + 1];
        }
    }
}

/* Check that a time shape increases and fits; returns its sample count on
   the raster (its last time), or 0 after an error. */
static size_t time_shape_len(struct builder *bd, const struct shape *ts, const struct row *row,
                             const char *what)
{
    const double *t = bd->r->vals + ts->off;
    for (uint32_t i = 0; i < ts->n; i++)
        if (!(t[i] >= 0 && t[i] < 1e9) || (i && t[i] < t[i - 1])) {
            rerr(bd->r, 735, ts->start, ts->end, "a time shape lists increasing times in "
                 "raster units from 0", "time shape %lld (of an %s event) is not "
                 "increasing", (long long)ts->id, what);
            (void)row;
            return 0;
        }
    double last = t[ts->n - 1];
    if (last < 0.5) {
        rerr(bd->r, 735, ts->start, ts->end, "a time shape must span at least one raster",
             "time shape %lld lasts less than one raster", (long long)ts->id);
        return 0;
    }
    return (size_t)llround(last);
}

static int32_t make_rf(struct builder *bd, int32_t idx)
{
    struct reader *r = bd->r;
    const struct row *row = &r->rf.r[idx];
    bool v15 = r->ver >= 10500, v14 = r->ver >= 10400;
    double amp_hz = row->v[0];
    int64_t mag_id = (int64_t)row->v[1], ph_id = (int64_t)row->v[2];
    int64_t time_id = v14 ? (int64_t)row->v[3] : 0;
    double center_us = v15 ? row->v[4] : -1;
    double delay_us = v15 ? row->v[5] : v14 ? row->v[4] : row->v[3];
    double freq = v15 ? row->v[8] : v14 ? row->v[5] : row->v[4];
    double phase = v15 ? row->v[9] : v14 ? row->v[6] : row->v[5];
    double ppm_f = v15 ? row->v[6] : 0, ppm_p = v15 ? row->v[7] : 0;
    if ((ppm_f != 0 || ppm_p != 0) && !bd->warned_ppm) {
        bd->warned_ppm = true;
        rwarn(r, 741, row->start, row->end, "give offsets in Hz and rad for Larmor",
              "frequency and phase offsets in ppm are ignored (they need the field strength)");
    }
    if (row->v[1] != floor(row->v[1]) || row->v[1] < 1 || row->v[2] != floor(row->v[2]) ||
        row->v[2] < 0 || (v14 && row->v[3] != floor(row->v[3]))) {
        rerr(r, 731, row->start, row->end, "shape IDs are whole numbers (the magnitude's from 1)",
             "[RF] %lld: bad shape ID", (long long)row->id);
        return -1;
    }
    if (!sane_us(delay_us) || (v15 && !sane_us(center_us))) {
        rerr(r, 744, row->start, row->end, "delays and centres are times from 0 in us",
             "[RF] %lld: bad delay or centre", (long long)row->id);
        return -1;
    }
    const struct shape *ms = get_shape(bd, mag_id, row, "the RF magnitude");
    if (!ms)
        return -1;
    const struct shape *ps = ph_id ? get_shape(bd, ph_id, row, "the RF phase") : NULL;
    if (ph_id && !ps)
        return -1;
    if (ps && ps->n != ms->n) {
        rerr(r, 735, row->start, row->end, "an RF's phase shape has as many samples as its "
             "magnitude", "[RF] %lld: magnitude shape %lld has %u samples, phase shape %lld %u",
             (long long)row->id, (long long)mag_id, ms->n, (long long)ph_id, ps->n);
        return -1;
    }
    const double *mv = r->vals + ms->off, *pv = ps ? r->vals + ps->off : NULL;
    size_t n = ms->n;
    int64_t dt = r->rraster;
    double *mag, *ph = NULL;
    if (time_id > 0) {
        const struct shape *ts = get_shape(bd, time_id, row, "the RF time");
        if (!ts)
            return -1;
        if (ts->n != ms->n) {
            rerr(r, 735, row->start, row->end, "a time shape has as many samples as its shape",
                 "[RF] %lld: time shape %lld has %u samples, magnitude %u", (long long)row->id,
                 (long long)time_id, ts->n, ms->n);
            return -1;
        }
        size_t nn = time_shape_len(bd, ts, row, "RF");
        if (!nn)
            return -1;
        const double *tv = r->vals + ts->off;
        /* samples at regular raster centres: keep them, with their spacing */
        double step = n > 1 ? tv[1] - tv[0] : 2 * tv[0];
        bool regular = step >= 1 && step == floor(step) && fabs(tv[0] - step / 2) < 1e-9;
        for (size_t i = 1; regular && i < n; i++)
            regular = fabs(tv[i] - tv[i - 1] - step) < 1e-9;
        if (regular) {
            dt = r->rraster * (int64_t)step;
            mag = xmalloc(n * sizeof *mag);
            memcpy(mag, mv, n * sizeof *mag);
            if (pv) {
                ph = xmalloc(n * sizeof *ph);
                memcpy(ph, pv, n * sizeof *ph);
            }
        } else {
            mag = xmalloc(nn * sizeof *mag);
            resample(mag, nn, tv, mv, n);
            if (pv) {
                ph = xmalloc(nn * sizeof *ph);
                resample(ph, nn, tv, pv, n);
            }
            n = nn;
        }
    } else {
        if (time_id < 0)
            dt = r->rraster / 2;
        mag = xmalloc(n * sizeof *mag);
        memcpy(mag, mv, n * sizeof *mag);
        if (pv) {
            ph = xmalloc(n * sizeof *ph);
            memcpy(ph, pv, n * sizeof *ph);
        }
    }
    /* phase in cycles: 0 and 1/2 only -> a signed magnitude */
    if (ph) {
        bool sign_only = true;
        for (size_t i = 0; i < n && sign_only; i++) {
            double c = ph[i] - floor(ph[i]);
            sign_only = c < 1e-6 || c > 1 - 1e-6 || fabs(c - 0.5) < 1e-6;
        }
        if (sign_only) {
            for (size_t i = 0; i < n; i++) {
                double c = ph[i] - floor(ph[i]);
                if (fabs(c - 0.5) < 1e-6)
                    mag[i] = -mag[i];
            }
            free(ph);
            ph = NULL;
        } else {
            for (size_t i = 0; i < n; i++)
                ph[i] *= 2 * M_PI;
        }
    }
    if (n > UINT32_MAX / 2) {
        free(mag);
        free(ph);
        rerr(r, 735, row->start, row->end, NULL, "[RF] %lld: the pulse is too long",
             (long long)row->id);
        return -1;
    }
    /* centre: given (1.5) or the middle of the peak (as the toolboxes do) */
    int64_t centre;
    double peak = 0, re = 0, im = 0;
    for (size_t i = 0; i < n; i++) {
        if (fabs(mag[i]) > peak)
            peak = fabs(mag[i]);
        re += mag[i] * (ph ? cos(ph[i]) : 1);
        im += mag[i] * (ph ? sin(ph[i]) : 0);
    }
    if (v15) {
        centre = us2ns(center_us);
    } else {
        size_t i0 = 0, i1 = 0;
        bool first = true;
        for (size_t i = 0; i < n; i++)
            if (fabs(mag[i]) >= peak * 0.99999) {
                if (first)
                    i0 = i;
                first = false;
                i1 = i;
            }
        centre = llround(((double)i0 + (double)i1 + 1.0) / 2.0 * (double)dt);
    }
    enum vm_rfuse use = VM_RFUSE_UNDEFINED;
    switch (row->use) {
    case 'e': use = VM_RFUSE_EXCITATION; break;
    case 'r': use = VM_RFUSE_REFOCUSING; break;
    case 'i': use = VM_RFUSE_INVERSION; break;
    case 's': use = VM_RFUSE_SATURATION; break;
    case 'p': use = VM_RFUSE_PREPARATION; break;
    case 'o': use = VM_RFUSE_OTHER; break;
    case 'u': use = VM_RFUSE_UNDEFINED; break;
    default: {
        double flip = 2 * M_PI * fabs(amp_hz) * hypot(re, im) * (double)dt * 1e-9;
        use = flip <= 100 * M_PI / 180 ? VM_RFUSE_EXCITATION : VM_RFUSE_REFOCUSING;
    }
    }
    struct lbc_field f[RFF__COUNT];
    memset(f, 0, sizeof f);
    f[RFF_MAG] = (struct lbc_field){ FK_SHAPE, lbc_add_shape(bd->p, mag, (uint32_t)n) };
    if (ph)
        f[RFF_PHASE_SHAPE] = (struct lbc_field){ FK_SHAPE, lbc_add_shape(bd->p, ph, (uint32_t)n) };
    f[RFF_DT] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, dt) };
    f[RFF_AMP] = (struct lbc_field){ FK_NUM, lbc_add_num(bd->p, amp_hz / PULSEQ_GAMMA_BAR) };
    f[RFF_PHASE] = (struct lbc_field){ FK_NUM, lbc_add_num(bd->p, phase) };
    f[RFF_FREQ] = (struct lbc_field){ FK_NUM, lbc_add_num(bd->p, freq) };
    f[RFF_DELAY] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, us2ns(delay_us)) };
    f[RFF_CENTRE] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, centre) };
    f[RFF_USE] = (struct lbc_field){ FK_IMM, (int32_t)use };
    free(mag);
    free(ph);
    return lbc_add_tmpl(bd->p, TMPL_RF, f);
}

/* The gradient of a [GRADIENTS] (gi < ngrad) or [TRAP] row on an axis,
   its amplitude scaled by scale (a rotation). */
static int32_t make_grad(struct builder *bd, int axis, bool trap, int32_t idx, double scale)
{
    struct reader *r = bd->r;
    struct lbc_field f[GF__COUNT];
    memset(f, 0, sizeof f);
    f[GF_AXIS] = (struct lbc_field){ FK_IMM, axis };
    if (trap) {
        const struct row *row = &r->trap.r[idx];
        for (int i = 1; i < 5; i++)
            if (!sane_us(row->v[i])) {
                rerr(r, 744, row->start, row->end, "trapezoid times are from 0, in us",
                     "[TRAP] %lld: a negative or absurd time", (long long)row->id);
                return -1;
            }
        f[GF_KIND] = (struct lbc_field){ FK_IMM, GRAD_TRAP };
        f[GF_AMP] = (struct lbc_field){ FK_NUM,
                                        lbc_add_num(bd->p, scale * row->v[0] / PULSEQ_GAMMA_BAR) };
        f[GF_RISE] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, us2ns(row->v[1])) };
        f[GF_FLAT] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, us2ns(row->v[2])) };
        f[GF_FALL] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, us2ns(row->v[3])) };
        f[GF_DELAY] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, us2ns(row->v[4])) };
        return lbc_add_tmpl(bd->p, TMPL_GRAD, f);
    }
    const struct row *row = &r->grad.r[idx];
    bool v15 = r->ver >= 10500, v14 = r->ver >= 10400;
    double amp = row->v[0];
    double sid = v15 ? row->v[3] : row->v[1];
    double tid = v15 ? row->v[4] : v14 ? row->v[2] : 0;
    double delay = v15 ? row->v[5] : v14 ? row->v[3] : row->v[2];
    if (sid != floor(sid) || sid < 1 || tid != floor(tid)) {
        rerr(r, 731, row->start, row->end, "shape IDs are whole numbers from 1",
             "[GRADIENTS] %lld: bad shape ID", (long long)row->id);
        return -1;
    }
    if (!sane_us(delay)) {
        rerr(r, 744, row->start, row->end, "a delay is a time from 0 in us",
             "[GRADIENTS] %lld: bad delay", (long long)row->id);
        return -1;
    }
    const struct shape *s = get_shape(bd, (int64_t)sid, row, "the gradient");
    if (!s)
        return -1;
    const double *v = r->vals + s->off;
    int64_t dt = r->graster;
    int32_t shape;
    if (tid > 0) {
        const struct shape *ts = get_shape(bd, (int64_t)tid, row, "the gradient time");
        if (!ts)
            return -1;
        if (ts->n != s->n) {
            rerr(r, 735, row->start, row->end, "a time shape has as many samples as its shape",
                 "[GRADIENTS] %lld: time shape %lld has %u samples, waveform %u",
                 (long long)row->id, (long long)tid, ts->n, s->n);
            return -1;
        }
        size_t nn = time_shape_len(bd, ts, row, "gradient");
        if (!nn)
            return -1;
        const double *t = r->vals + ts->off;
        /* a trapezoid written as corners is that trapezoid */
        if (s->n == 4 && v[0] == 0 && v[3] == 0 && v[1] == v[2] && t[0] == floor(t[0]) &&
            t[1] == floor(t[1]) && t[2] == floor(t[2]) && t[3] == floor(t[3])) {
            f[GF_KIND] = (struct lbc_field){ FK_IMM, GRAD_TRAP };
            f[GF_AMP] = (struct lbc_field){ FK_NUM, lbc_add_num(bd->p, scale * amp * v[1] /
                                                                        PULSEQ_GAMMA_BAR) };
            int64_t g = r->graster;
            int64_t rise = (int64_t)(t[1] - t[0]) * g, flat = (int64_t)(t[2] - t[1]) * g;
            int64_t fall = (int64_t)(t[3] - t[2]) * g;
            f[GF_RISE] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, rise) };
            f[GF_FLAT] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, flat) };
            f[GF_FALL] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, fall) };
            f[GF_DELAY] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, us2ns(delay) +
                                                                    (int64_t)t[0] * g) };
            return lbc_add_tmpl(bd->p, TMPL_GRAD, f);
        }
        double *w = xmalloc(nn * sizeof *w);
        resample(w, nn, t, v, s->n);
        shape = lbc_add_shape(bd->p, w, (uint32_t)nn);
        free(w);
    } else {
        shape = lbc_add_shape(bd->p, v, s->n);
    }
    f[GF_KIND] = (struct lbc_field){ FK_IMM, GRAD_ARB };
    f[GF_AMP] = (struct lbc_field){ FK_NUM, lbc_add_num(bd->p, scale * amp / PULSEQ_GAMMA_BAR) };
    f[GF_DELAY] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, us2ns(delay)) };
    f[GF_SHAPE] = (struct lbc_field){ FK_SHAPE, shape };
    f[GF_DT] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, dt) };
    return lbc_add_tmpl(bd->p, TMPL_GRAD, f);
}

static int32_t make_adc(struct builder *bd, int32_t idx)
{
    struct reader *r = bd->r;
    const struct row *row = &r->adc.r[idx];
    bool v15 = r->ver >= 10500;
    double num = row->v[0], dwell = row->v[1], delay = row->v[2];
    double freq = v15 ? row->v[5] : row->v[3], phase = v15 ? row->v[6] : row->v[4];
    if (!(num >= 1 && num <= 1e9 && num == floor(num))) {
        rerr(r, 744, row->start, row->end, "an ADC takes a whole number of samples from 1",
             "[ADC] %lld: %g samples", (long long)row->id, num);
        return -1;
    }
    if (!(dwell > 0 && dwell < 1e9) || !sane_us(delay)) {
        rerr(r, 744, row->start, row->end, "the dwell is in ns (positive), the delay in us",
             "[ADC] %lld: bad dwell or delay", (long long)row->id);
        return -1;
    }
    if (v15 && (row->v[3] != 0 || row->v[4] != 0) && !bd->warned_ppm) {
        bd->warned_ppm = true;
        rwarn(r, 741, row->start, row->end, "give offsets in Hz and rad for Larmor",
              "frequency and phase offsets in ppm are ignored (they need the field strength)");
    }
    if (v15 && row->v[7] != 0) {
        rerr(r, 740, row->start, row->end, "Larmor's ADC has a constant phase",
             "[ADC] %lld: ADC phase modulation shapes are not supported", (long long)row->id);
        return -1;
    }
    struct lbc_field f[AF__COUNT];
    memset(f, 0, sizeof f);
    f[AF_SAMPLES] = (struct lbc_field){ FK_NUM, lbc_add_num(bd->p, num) };
    f[AF_DWELL] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, llround(dwell)) };
    f[AF_DELAY] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, us2ns(delay)) };
    f[AF_FREQ] = (struct lbc_field){ FK_NUM, lbc_add_num(bd->p, freq) };
    f[AF_PHASE] = (struct lbc_field){ FK_NUM, lbc_add_num(bd->p, phase) };
    return lbc_add_tmpl(bd->p, TMPL_ADC, f);
}

/* Resolve an event ID of a block row into its table's row index. */
static int32_t lookup(struct builder *bd, const struct blockrow *b, int col, struct table *tb,
                      const char *sec)
{
    int32_t i = idmap_get(&tb->map, b->c[col]);
    if (i < 0 && !tb->present) {
        rerr(bd->r, 734, b->start, b->end, "add the section, or use 0 for no event",
             "the block names %s %d but the file has no %s section (is it truncated?)", sec,
             b->c[col], sec);
    } else if (i < 0) {
        static const char *const cols[] = { "duration", "RF", "GX", "GY", "GZ", "ADC", "EXT" };
        char help[128];
        snprintf(help, sizeof help, "define %s %d or use 0 for no event", sec, b->c[col]);
        rerr(bd->r, 733, b->start, b->end, help, "the block's %s column names %s %d, which is "
             "not defined", cols[col], sec, b->c[col]);
    }
    return i;
}

/* Gradient area (Hz/m * s) of a [GRADIENTS]/[TRAP] event id, NAN if unknown. */
static double grad_area(struct reader *r, int32_t id)
{
    int32_t i = idmap_get(&r->trap.map, id);
    if (i >= 0) {
        const double *v = r->trap.r[i].v;
        return v[0] * (v[1] / 2 + v[2] + v[3] / 2) * 1e-6;
    }
    i = idmap_get(&r->grad.map, id);
    if (i < 0)
        return NAN;
    const struct row *row = &r->grad.r[i];
    bool v15 = r->ver >= 10500, v14 = r->ver >= 10400;
    double sid = v15 ? row->v[3] : row->v[1], tid = v15 ? row->v[4] : v14 ? row->v[2] : 0;
    int32_t s = idmap_get(&r->shmap, (int64_t)sid);
    if (s < 0)
        return NAN;
    const double *v = r->vals + r->sh[s].off;
    uint32_t n = r->sh[s].n;
    double a = 0;
    int32_t ts = tid > 0 ? idmap_get(&r->shmap, (int64_t)tid) : -1;
    if (ts >= 0 && r->sh[ts].n == n) {
        const double *t = r->vals + r->sh[ts].off;
        for (uint32_t k = 1; k < n; k++)
            a += (v[k] + v[k - 1]) / 2 * (t[k] - t[k - 1]);
    } else {
        for (uint32_t k = 0; k < n; k++)
            a += v[k];
    }
    return row->v[0] * a * (double)r->graster * 1e-9;
}

/* Whether any block carries a LIN label (LABELSET/LABELINC). */
static bool file_has_lin(struct reader *r)
{
    for (size_t i = 0; i < r->nxs; i++)
        if (r->xs[i].kind == X_LABELSET || r->xs[i].kind == X_LABELINC)
            for (size_t j = 0; j < r->xs[i].n; j++)
                if (r->xs[i].r[j].label == VM_LABEL_LIN)
                    return true;
    return false;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* LIN labels from the phase-encode moment: ky at each ADC (the y moment
   since the last excitation, negated by refocusing pulses), on the grid of
   the smallest step between distinct values. Left alone (bd->lin NULL)
   unless it gives a plausible Cartesian grid. */
static void derive_lin(struct builder *bd)
{
    struct reader *r = bd->r;
    if (file_has_lin(r) || (r->o && r->o->no_derive_lin))
        return;
    double *ky = xmalloc((r->nb ? r->nb : 1) * sizeof *ky);
    size_t nadc = 0;
    double k = 0;
    bool ok = true;
    for (size_t i = 0; i < r->nb && ok; i++) {
        const struct blockrow *b = &r->b[i];
        ky[i] = NAN;
        if (b->c[1]) {
            int32_t ri = idmap_get(&r->rf.map, b->c[1]);
            if (ri >= 0) {
                const struct row *row = &r->rf.r[ri];
                bool exc = row->use ? row->use == 'e' : true;
                if (!row->use) {
                    /* older files: a flip of up to 100 degrees excites */
                    int32_t s = idmap_get(&r->shmap, (int64_t)row->v[1]);
                    double sum = 0;
                    if (s >= 0)
                        for (uint32_t j = 0; j < r->sh[s].n; j++)
                            sum += r->vals[r->sh[s].off + j];
                    exc = 360 * fabs(row->v[0] * sum) * (double)r->rraster * 1e-9 <= 100;
                }
                if (exc)
                    k = 0;
                else if (row->use == 'r' || !row->use)
                    k = -k;
            }
        }
        if (b->c[5])
            ky[i] = k, nadc++;
        if (b->c[3]) {
            double a = grad_area(r, b->c[3]);
            if (isnan(a))
                ok = false;
            k += a;
        }
    }
    if (!ok || nadc < 2) {
        free(ky);
        return;
    }
    double *s = xmalloc(nadc * sizeof *s);
    size_t m = 0;
    double kmax = 0;
    for (size_t i = 0; i < r->nb; i++)
        if (!isnan(ky[i])) {
            s[m++] = ky[i];
            if (fabs(ky[i]) > kmax)
                kmax = fabs(ky[i]);
        }
    qsort(s, m, sizeof *s, cmp_double);
    double tol = 1e-6 * kmax + 1e-9, step = INFINITY;
    size_t ndist = 1;
    for (size_t i = 1; i < m; i++)
        if (s[i] - s[i - 1] > tol) {
            ndist++;
            if (s[i] - s[i - 1] < step)
                step = s[i] - s[i - 1];
        }
    double kmin = s[0], span = s[m - 1] - s[0];
    free(s);
    if (ndist < 2 || !(span / step < 4096)) {
        free(ky);
        return;
    }
    bd->lin = xmalloc(r->nb * sizeof *bd->lin);
    for (size_t i = 0; i < r->nb; i++)
        bd->lin[i] = isnan(ky[i]) ? -1 : (int32_t)llround((ky[i] - kmin) / step);
    free(ky);
}

static void emit_label(struct builder *bd, int label, int inc, double v, const struct lbc_span *sp)
{
    int32_t k = lbc_add_num(bd->p, v);
    lbc_emit(bd->p, OP_LOADF, 0, k, 0, sp);
    lbc_emit(bd->p, OP_LABEL, label, inc, 0, sp);
}

/* Quaternion (w x y z) or matrix (9 values, row-major) to a matrix. */
static void rotation(const struct extrow *e, double m[3][3])
{
    if (e->nv == 9) {
        for (int i = 0; i < 9; i++)
            m[i / 3][i % 3] = e->v[i];
        return;
    }
    double w = e->v[0], x = e->v[1], y = e->v[2], z = e->v[3];
    double n = sqrt(w * w + x * x + y * y + z * z);
    if (n > 0) {
        w /= n;
        x /= n;
        y /= n;
        z /= n;
    }
    m[0][0] = 1 - 2 * (y * y + z * z); m[0][1] = 2 * (x * y - w * z); m[0][2] = 2 * (x * z + w * y);
    m[1][0] = 2 * (x * y + w * z); m[1][1] = 1 - 2 * (x * x + z * z); m[1][2] = 2 * (y * z - w * x);
    m[2][0] = 2 * (x * z - w * y); m[2][1] = 2 * (y * z + w * x); m[2][2] = 1 - 2 * (x * x + y * y);
}

static bool same_trap_timing(const double *a, const double *b)
{
    return a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4];
}

/* The span of an event's defining row (checks group an event's
   violations by it). */
static struct lbc_span row_span(struct builder *bd, uint32_t start, uint32_t end)
{
    int line, col;
    diag_linecol(bd->r->d, bd->r->file, start, &line, &col);
    return (struct lbc_span){ bd->file, (uint32_t)line, 1, start, end };
}

static struct lbc_span grad_span(struct builder *bd, bool trap, int32_t idx)
{
    const struct row *row = trap ? &bd->r->trap.r[idx] : &bd->r->grad.r[idx];
    return row_span(bd, row->start, row->end);
}

/* Emit one block. Returns false after an error. */
static bool emit_block(struct builder *bd, size_t bi)
{
    struct reader *r = bd->r;
    const struct blockrow *b = &r->b[bi];
    int line, col;
    diag_linecol(r->d, r->file, b->start, &line, &col);
    struct lbc_span sp = { bd->file, (uint32_t)line, 1, b->start, b->end };
    bool pre14 = r->ver < 10400;
    /* extensions first: they may rotate the gradients */
    struct extrow *labels[64];
    int nlabels = 0;
    const struct extrow *trig = NULL, *rot = NULL;
    if (b->c[6]) {
        if (!r->ext.present) {
            rerr(r, 734, b->start, b->end, "add the [EXTENSIONS] list or set the column to 0",
                 "the block names extension %d but the file has no [EXTENSIONS] section",
                 b->c[6]);
            return false;
        }
        int32_t e = lookup(bd, b, 6, &r->ext, "extension");
        size_t steps = 0;
        while (e >= 0) {
            const struct row *er = &r->ext.r[e];
            if (++steps > r->ext.n) {
                rerr(r, 733, er->start, er->end, "end the list with next ID 0",
                     "the extension list starting at %d loops", b->c[6]);
                return false;
            }
            struct extspec *x = NULL;
            for (size_t i = 0; i < r->nxs; i++)
                if (r->xs[i].type == (int64_t)er->v[0])
                    x = &r->xs[i];
            if (!x) {
                rerr(r, 733, er->start, er->end, "add an 'extension NAME TYPE' specification",
                     "extension type %g has no specification", er->v[0]);
                return false;
            }
            if (x->kind != X_UNKNOWN) {
                int32_t k = idmap_get(&x->map, (int64_t)er->v[1]);
                if (k < 0) {
                    rerr(r, 733, er->start, er->end, "define the row or fix the reference",
                         "%s %g is not defined", x->name, er->v[1]);
                    return false;
                }
                struct extrow *xr = &x->r[k];
                switch (x->kind) {
                case X_LABELSET: case X_LABELINC:
                    if (nlabels < 64) {
                        xr->nv = x->kind == X_LABELINC ? 2 : 1;   /* mark inc */
                        labels[nlabels++] = xr;
                    }
                    break;
                case X_TRIGGERS:
                    if (trig) {
                        rerr(r, 740, b->start, b->end, "split the triggers over two blocks",
                             "a block with two triggers (Larmor plays one per block)");
                        return false;
                    }
                    trig = xr;
                    break;
                case X_DELAYS:
                    if (!bd->warned_soft) {
                        bd->warned_soft = true;
                        rwarn(r, 742, b->start, b->end, "to change TE or TR, change the "
                              "block durations", "soft delays play at their nominal "
                              "durations in Larmor");
                    }
                    break;
                case X_ROTATIONS: rot = xr; break;
                default: break;
                }
            }
            int64_t next = (int64_t)er->v[2];
            if (!next)
                break;
            e = idmap_get(&r->ext.map, next);
            if (e < 0) {
                rerr(r, 733, er->start, er->end, "end the list with 0 or define the next row",
                     "extension list row names next %lld, which is not defined",
                     (long long)next);
                return false;
            }
        }
        if (e < 0 && r->failed)
            return false;
    }
    lbc_emit(bd->p, OP_BEGIN, -1, 0, 0, &sp);
    int64_t content = 0;
    if (b->c[1]) {
        int32_t i = lookup(bd, b, 1, &r->rf, "[RF]");
        if (i < 0)
            return false;
        if (bd->rf_t[i] < 0 && (bd->rf_t[i] = make_rf(bd, i)) < 0)
            return false;
        struct lbc_span es = row_span(bd, r->rf.r[i].start, r->rf.r[i].end);
        lbc_emit(bd->p, OP_RF, bd->rf_t[i], 0, 0, &es);
        if (pre14) {
            const struct lbc_tmpl *t = &bd->p->tmpls[bd->rf_t[i]];
            const struct lbc_field *f = &bd->p->fields[t->off];
            int64_t e = bd->p->times[f[RFF_DELAY].v] + bd->p->times[f[RFF_DT].v] *
                        (int64_t)bd->p->shapes[f[RFF_MAG].v].len;
            if (e > content)
                content = e;
        }
    }
    /* gradients: [GRADIENTS] and [TRAP] share the ID space */
    struct { bool on, trap; int32_t idx; double amp; } g[3];
    memset(g, 0, sizeof g);
    for (int a = 0; a < 3; a++) {
        int id = b->c[2 + a];
        if (!id)
            continue;
        int32_t ti = idmap_get(&r->trap.map, id), gi = idmap_get(&r->grad.map, id);
        if (ti < 0 && gi < 0) {
            static const char *const ax[] = { "GX", "GY", "GZ" };
            rerr(r, 733, b->start, b->end, "define it in [GRADIENTS] or [TRAP], or use 0",
                 "the block's %s column names gradient %d, which is not defined", ax[a], id);
            return false;
        }
        g[a].on = true;
        g[a].trap = ti >= 0;
        g[a].idx = ti >= 0 ? ti : gi;
    }
    double rm[3][3];
    bool rotate = false;
    if (rot) {
        rotation(rot, rm);
        rotate = fabs(rm[0][0] - 1) > 1e-12 || fabs(rm[1][1] - 1) > 1e-12 ||
                 fabs(rm[2][2] - 1) > 1e-12;
    }
    if (rotate) {
        int non = 0, src = -1;
        bool traps_alike = true;
        for (int a = 0; a < 3; a++)
            if (g[a].on) {
                non++;
                if (src >= 0 && (!g[a].trap || !g[src].trap ||
                                 !same_trap_timing(r->trap.r[g[a].idx].v, r->trap.r[g[src].idx].v)))
                    traps_alike = false;
                if (src < 0)
                    src = a;
            }
        if (non > 1 && !traps_alike) {
            rerr(r, 740, rot->start, rot->end, "rotate gradients that share one timing, or "
                 "write the rotated waveforms out", "this rotation mixes gradients of "
                 "different shapes (Larmor rotates one gradient, or trapezoids of one timing)");
            return false;
        }
        if (non == 1) {
            for (int a = 0; a < 3; a++) {
                double s = rm[a][src];
                if (fabs(s) < 1e-12)
                    continue;
                int32_t t = make_grad(bd, a, g[src].trap, g[src].idx, s);
                if (t < 0)
                    return false;
                struct lbc_span es = grad_span(bd, g[src].trap, g[src].idx);
                lbc_emit(bd->p, OP_GRAD, t, 0, 0, &es);
            }
        } else if (non > 1) {
            for (int a = 0; a < 3; a++) {
                double amp = 0;
                for (int j = 0; j < 3; j++)
                    if (g[j].on)
                        amp += rm[a][j] * r->trap.r[g[j].idx].v[0];
                if (fabs(amp) < 1e-9)
                    continue;
                double s = amp / r->trap.r[g[src].idx].v[0];
                int32_t t = make_grad(bd, a, true, g[src].idx, s);
                if (t < 0)
                    return false;
                struct lbc_span es = grad_span(bd, true, g[src].idx);
                lbc_emit(bd->p, OP_GRAD, t, 0, 0, &es);
            }
        }
    } else {
        for (int a = 0; a < 3; a++) {
            if (!g[a].on)
                continue;
            int32_t *cache = &bd->grad_t[a][g[a].trap ? r->grad.n + (size_t)g[a].idx :
                                            (size_t)g[a].idx];
            if (*cache < 0 && (*cache = make_grad(bd, a, g[a].trap, g[a].idx, 1)) < 0)
                return false;
            struct lbc_span es = grad_span(bd, g[a].trap, g[a].idx);
            lbc_emit(bd->p, OP_GRAD, *cache, 0, 0, &es);
        }
    }
    if (pre14)
        for (uint32_t pc = bd->p->ncode; pc-- > 0 && bd->p->code[pc].op == OP_GRAD;) {
            const struct lbc_field *f = &bd->p->fields[bd->p->tmpls[bd->p->code[pc].a].off];
            int64_t e = bd->p->times[f[GF_DELAY].v];
            if (f[GF_KIND].v == GRAD_TRAP)
                e += bd->p->times[f[GF_RISE].v] + bd->p->times[f[GF_FLAT].v] +
                     bd->p->times[f[GF_FALL].v];
            else
                e += bd->p->times[f[GF_DT].v] * (int64_t)bd->p->shapes[f[GF_SHAPE].v].len;
            if (e > content)
                content = e;
        }
    if (b->c[5]) {
        int32_t i = lookup(bd, b, 5, &r->adc, "[ADC]");
        if (i < 0)
            return false;
        if (bd->adc_t[i] < 0 && (bd->adc_t[i] = make_adc(bd, i)) < 0)
            return false;
        struct lbc_span es = row_span(bd, r->adc.r[i].start, r->adc.r[i].end);
        lbc_emit(bd->p, OP_ADC, bd->adc_t[i], 0, 0, &es);
        if (pre14) {
            const double *v = r->adc.r[i].v;
            int64_t e = us2ns(v[2]) + (int64_t)v[0] * llround(v[1]);
            if (e > content)
                content = e;
        }
    }
    if (trig) {
        double type = trig->v[0], ch = trig->v[1];
        if (!(type == 1 || type == 2) || !(ch >= 0 && ch <= 15 && ch == floor(ch)) ||
            !sane_us(trig->v[2]) || !sane_us(trig->v[3])) {
            rerr(r, 744, trig->start, trig->end, "a trigger is: id type(1 output, 2 input) "
                 "channel(0-15) delay(us) duration(us)", "bad trigger row");
            return false;
        }
        struct lbc_field f[TF__COUNT];
        memset(f, 0, sizeof f);
        f[TF_CHANNEL] = (struct lbc_field){ FK_IMM, (int32_t)((type - 1) * 16 + ch) };
        f[TF_DELAY] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, us2ns(trig->v[2])) };
        f[TF_DUR] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, us2ns(trig->v[3])) };
        struct lbc_span es = row_span(bd, trig->start, trig->end);
        lbc_emit(bd->p, OP_TRIG, lbc_add_tmpl(bd->p, TMPL_TRIG, f), 0, 0, &es);
        int64_t e = us2ns(trig->v[2]) + us2ns(trig->v[3]);
        if (e > content)
            content = e;
    }
    /* labels: all SETs, then all INCs */
    for (int pass = 1; pass <= 2; pass++)
        for (int i = 0; i < nlabels; i++) {
            const struct extrow *l = labels[i];
            if (l->nv != pass)
                continue;
            if (l->label >= VM_LABEL__COUNT) {
                if (!bd->warned_label[l->label]) {
                    bd->warned_label[l->label] = true;
                    rwarn(r, 741, l->start, l->end, "Larmor keeps the counters LIN PAR SLC "
                          "ECO REP AVG SET SEG PHS", "label %s is ignored",
                          label_names[l->label]);
                }
                continue;
            }
            emit_label(bd, l->label, pass == 2, l->v[0], &sp);
        }
    if (bd->lin && bd->lin[bi] >= 0)
        emit_label(bd, VM_LABEL_LIN, 0, bd->lin[bi], &sp);
    /* duration */
    int64_t dur;
    if (pre14) {
        dur = content;
        if (b->c[0]) {
            int32_t i = lookup(bd, b, 0, &r->delays, "[DELAYS]");
            if (i < 0)
                return false;
            if (!sane_us(r->delays.r[i].v[0])) {
                rerr(r, 744, r->delays.r[i].start, r->delays.r[i].end, "a delay is a time "
                     "from 0 in us", "bad delay");
                return false;
            }
            int64_t d = us2ns(r->delays.r[i].v[0]);
            if (d > dur)
                dur = d;
        }
    } else {
        dur = (int64_t)b->c[0] * r->braster;
    }
    int32_t et = idmap_get(&bd->end_t, dur);
    if (et < 0) {
        struct lbc_field f[EF__COUNT];
        memset(f, 0, sizeof f);
        f[EF_DUR] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, dur) };
        et = lbc_add_tmpl(bd->p, TMPL_END, f);
        idmap_put(&bd->end_t, dur, et);
    }
    lbc_emit(bd->p, OP_END, et, 0, 0, &sp);
    return true;
}

static void add_len_param(struct lbc_program *p, const char *name, double v)
{
    struct lbc_param prm;
    memset(&prm, 0, sizeof prm);
    prm.name = lbc_add_string(p, name);
    prm.kind = PARAM_NUM;
    prm.dim[1] = 1;
    prm.f = v;
    lbc_add_param(p, &prm);
}

static struct lbc_program *build(struct reader *r)
{
    struct builder bd;
    memset(&bd, 0, sizeof bd);
    bd.r = r;
    struct lbc_program *p = lbc_new();
    bd.p = p;
    bd.file = lbc_add_string(p, r->path);
    p->source = bd.file;
    p->sys_name = -1;
    p->nregs = 1;
    p->grad_raster = r->graster;
    p->rf_raster = r->rraster;
    p->adc_raster = r->araster;
    p->block_raster = r->braster;
    if (r->have_fov && r->fov[0] > 0) {
        add_len_param(p, "fov", r->fov[0]);
        if (r->fov[1] > 0)
            add_len_param(p, "fov_y", r->fov[1]);
        if (r->fov[2] > 0)
            add_len_param(p, "thickness", r->fov[2]);
    }
    bd.rf_t = xmalloc((r->rf.n + 1) * sizeof(int32_t));
    bd.adc_t = xmalloc((r->adc.n + 1) * sizeof(int32_t));
    for (size_t i = 0; i < r->rf.n; i++)
        bd.rf_t[i] = -1;
    for (size_t i = 0; i < r->adc.n; i++)
        bd.adc_t[i] = -1;
    for (int a = 0; a < 3; a++) {
        bd.grad_t[a] = xmalloc((r->grad.n + r->trap.n + 1) * sizeof(int32_t));
        for (size_t i = 0; i < r->grad.n + r->trap.n; i++)
            bd.grad_t[a][i] = -1;
    }
    derive_lin(&bd);
    if (bd.lin) {
        int lmax = 0;
        for (size_t i = 0; i < r->nb; i++)
            if (bd.lin[i] > lmax)
                lmax = bd.lin[i];
        struct lbc_param prm;
        memset(&prm, 0, sizeof prm);
        prm.name = lbc_add_string(p, "matrix_y");
        prm.kind = PARAM_NUM;
        prm.f = lmax + 1;
        lbc_add_param(p, &prm);
    }
    for (size_t i = 0; i < r->nb && !r->failed; i++)
        if (!emit_block(&bd, i))
            break;
    if (!r->failed) {
        struct lbc_span sp = { bd.file, 0, 0, 0, 0 };
        lbc_emit(p, OP_HALT, 0, 0, 0, &sp);
    }
    free(bd.rf_t);
    free(bd.adc_t);
    for (int a = 0; a < 3; a++)
        free(bd.grad_t[a]);
    free(bd.lin);
    idmap_fini(&bd.end_t);
    if (r->failed) {
        lbc_free(p);
        return NULL;
    }
    char err[256];
    if (lbc_verify(p, err, sizeof err)) {
        rerr(r, 745, 0, 0, NULL, "the imported program does not verify: %s", err);
        lbc_free(p);
        return NULL;
    }
    return p;
}

static void table_fini(struct table *t)
{
    free(t->r);
    idmap_fini(&t->map);
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
        rerr(&r, 731, 0, 0, "a .seq file is text", "%s holds a NUL byte: not a .seq file", path);
        goto out;
    }
    parse_lines(&r);
    if (r.failed)
        goto out;
    uint32_t eof = (uint32_t)r.len;
    if (!r.have_version) {
        rerr(&r, 734, eof, eof, "a .seq file starts with [VERSION] (major, minor, revision)",
             "the file has no [VERSION] section");
        goto out;
    }
    if (r.major != 1 || r.ver < 10200 || r.ver >= 10600) {
        rerr(&r, 736, 0, 0, "Larmor reads formats 1.2 to 1.5",
             "format %d.%d.%d is not supported", r.major, r.minor, r.rev);
        goto out;
    }
    if (!r.have_blocks) {
        rerr(&r, 734, eof, eof, "a .seq file needs a [BLOCKS] section",
             "the file has no [BLOCKS] section (is it truncated?)");
        goto out;
    }
    for (int i = 0; i < r.nrequired; i++)
        if (ext_kind(r.required[i]) == X_UNKNOWN) {
            rerr(&r, 737, r.req_start, r.req_end, "this sequence needs an extension Larmor "
                 "cannot play; run it where the extension is supported",
                 "required extension %s is unknown to Larmor", r.required[i]);
            goto out;
        }
    for (size_t i = 0; i < r.nxs; i++)
        if (r.xs[i].kind == X_UNKNOWN)
            rwarn(&r, 738, r.xs[i].start, r.xs[i].end, "Larmor plays the blocks without it",
                  "unknown extension %s is ignored", r.xs[i].name);
    bool uses_shapes = r.rf.n || r.grad.n;
    if (uses_shapes && !r.have_shapes) {
        rerr(&r, 734, eof, eof, "add the [SHAPES] section the events refer to",
             "the file has RF or arbitrary gradients but no [SHAPES] section (is it "
             "truncated?)");
        goto out;
    }
    check_signature(&r);
    if (r.failed)
        goto out;
    p = build(&r);
out:
    table_fini(&r.rf);
    table_fini(&r.grad);
    table_fini(&r.trap);
    table_fini(&r.adc);
    table_fini(&r.delays);
    table_fini(&r.ext);
    for (size_t i = 0; i < r.nxs; i++) {
        free(r.xs[i].r);
        idmap_fini(&r.xs[i].map);
    }
    free(r.xs);
    free(r.sh);
    idmap_fini(&r.shmap);
    free(r.vals);
    free(r.b);
    return p;
}

struct lbc_program *pulseq_read_file(const char *path, const struct pulseq_read_opts *o,
                                     struct diag_ctx *d)
{
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
