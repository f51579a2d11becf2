/*
 * program: the opcode and name tables of the Larmor bytecode, the builder
 * API the compiler uses to assemble a struct lbc_program, and the one
 * lookup of an instruction's source position in the program's line table
 * (every backend, the compiler and the command line map a pc through it).
 *
 * The program owns every pool. Strings, numbers, times and shapes are
 * deduplicated through small open-addressing hash tables kept in a private
 * side structure (p->priv, struct lbc_builder) that is created on the first
 * lbc_add_* call and freed by lbc_free. The tables index the pools lazily:
 * entries that reached a pool some other way (lbc_read_buf, a direct push)
 * are indexed on the next add, so dedup also works on a program read back
 * from a file. Numbers and shapes are compared by bit pattern (-0.0 and 0.0
 * are different entries, a NaN equals the same NaN).
 */
#include "vm/program.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "vm/lbc_internal.h"

const struct lbc_opinfo lbc_ops[OP__COUNT] = {
#define OP(name, ops, flags, syn) { #name, ops, flags, syn },
#include "vm/opcodes.def"
#undef OP
};

const char *const vm_math_names[VM_MATH__COUNT] = {
#define X(e, s) s,
    VM_MATH_LIST(X)
#undef X
};

const char *const vm_rfuse_names[VM_RFUSE__COUNT] = {
#define X(e, s) s,
    VM_RFUSE_LIST(X)
#undef X
};

const int lbc_tmpl_nfields[TMPL__COUNT] = {
    [TMPL_RF] = RFF__COUNT, [TMPL_GRAD] = GF__COUNT, [TMPL_ADC] = AF__COUNT,
    [TMPL_TRIG] = TF__COUNT, [TMPL_END] = EF__COUNT,
};

const char *const lbc_tmpl_names[TMPL__COUNT] = { "rf", "grad", "adc", "trig", "end" };

const char *const lbc_field_kind_names[FK__COUNT] = {
    "none", "num", "time", "reg", "shape", "imm",
};

static const char *const axis_names[] = { "x", "y", "z" };
static const char *const gkind_names[] = { "trap", "arb" };
static const char *const align_names[] = { "none", "start", "rf", "adc", "end" };

static const struct lbc_fieldinfo rf_fields[RFF__COUNT] = {
    [RFF_MAG] = { "mag", FC_SHAPE, true, 0, NULL, "magnitude samples (unitless, scaled by amp)" },
    [RFF_PHASE_SHAPE] = { "phase_shape", FC_SHAPE, false, 0, NULL, "phase samples (rad), same length as mag" },
    [RFF_DT] = { "dt", FC_TIME, false, 0, NULL, "sample raster (ns)" },
    [RFF_AMP] = { "amp", FC_NUM, false, 0, NULL, "peak B1 (T)" },
    [RFF_PHASE] = { "phase", FC_NUM, false, 0, NULL, "phase offset (rad)" },
    [RFF_FREQ] = { "freq", FC_NUM, false, 0, NULL, "frequency offset (Hz)" },
    [RFF_DELAY] = { "delay", FC_TIME, false, 0, NULL, "from block start (ns)" },
    [RFF_CENTRE] = { "centre", FC_TIME, false, 0, NULL, "from pulse start (ns); none: duration/2" },
    [RFF_USE] = { "use", FC_IMM, false, VM_RFUSE__COUNT - 1, vm_rfuse_names, "enum vm_rfuse" },
};

static const struct lbc_fieldinfo grad_fields[GF__COUNT] = {
    [GF_AXIS] = { "axis", FC_IMM, true, 2, axis_names, "0 x, 1 y, 2 z" },
    [GF_KIND] = { "kind", FC_IMM, true, 1, gkind_names, "0 trapezoid, 1 arbitrary" },
    [GF_AMP] = { "amp", FC_NUM, false, 0, NULL, "trapezoid peak or shape scale (T/m)" },
    [GF_DELAY] = { "delay", FC_TIME, false, 0, NULL, "from block start (ns)" },
    [GF_RISE] = { "rise", FC_TIME, false, 0, NULL, "ramp-up time (ns)" },
    [GF_FLAT] = { "flat", FC_TIME, false, 0, NULL, "flat-top time (ns)" },
    [GF_FALL] = { "fall", FC_TIME, false, 0, NULL, "ramp-down time (ns)" },
    [GF_SHAPE] = { "shape", FC_SHAPE, false, 0, NULL, "arbitrary waveform samples (unitless); required if kind is arb" },
    [GF_DT] = { "dt", FC_TIME, false, 0, NULL, "arbitrary waveform raster (ns)" },
};

static const struct lbc_fieldinfo adc_fields[AF__COUNT] = {
    [AF_SAMPLES] = { "samples", FC_NUM, false, 0, NULL, "number of samples (an integer)" },
    [AF_DWELL] = { "dwell", FC_TIME, false, 0, NULL, "dwell time (ns)" },
    [AF_DELAY] = { "delay", FC_TIME, false, 0, NULL, "from block start (ns)" },
    [AF_FREQ] = { "freq", FC_NUM, false, 0, NULL, "frequency offset (Hz)" },
    [AF_PHASE] = { "phase", FC_NUM, false, 0, NULL, "phase offset (rad)" },
};

static const struct lbc_fieldinfo trig_fields[TF__COUNT] = {
    [TF_CHANNEL] = { "channel", FC_IMM, false, 255, NULL, "trigger channel" },
    [TF_DELAY] = { "delay", FC_TIME, false, 0, NULL, "from block start (ns)" },
    [TF_DUR] = { "dur", FC_TIME, false, 0, NULL, "duration (ns)" },
};

static const struct lbc_fieldinfo end_fields[EF__COUNT] = {
    [EF_DUR] = { "dur", FC_TIME, false, 0, NULL, "block duration (ns); none: end of the last event, rounded up to the block raster" },
    [EF_ALIGN_KIND] = { "align", FC_IMM, false, 4, align_names, "enum vm_align: which anchor is aligned" },
    [EF_ALIGN_AT] = { "at", FC_TIME, false, 0, NULL, "absolute time the anchor must fall on (ns)" },
    [EF_MARK_START] = { "mark_start", FC_MARK, false, 0, NULL, "receives the absolute block start time (ns)" },
    [EF_MARK_RF] = { "mark_rf", FC_MARK, false, 0, NULL, "receives the absolute RF centre time (ns)" },
    [EF_MARK_ADC] = { "mark_adc", FC_MARK, false, 0, NULL, "receives the absolute ADC centre time (ns)" },
    [EF_MARK_END] = { "mark_end", FC_MARK, false, 0, NULL, "receives the absolute block end time (ns)" },
};

const struct lbc_fieldinfo *const lbc_tmpl_fields[TMPL__COUNT] = {
    rf_fields, grad_fields, adc_fields, trig_fields, end_fields,
};

/* The template type an event opcode takes as operand a, or -1. */
int lbc_op_tmpl_type(enum lbc_op op)
{
    switch (op) {
    case OP_RF: return TMPL_RF;
    case OP_GRAD: return TMPL_GRAD;
    case OP_ADC: return TMPL_ADC;
    case OP_TRIG: return TMPL_TRIG;
    case OP_END: return TMPL_END;
    default: return -1;
    }
}

/* ---- dedup hash tables ---- */

/* Open addressing, linear probing, power-of-two capacity, at most half
   full. A slot holds pool index + 1 (0 = empty) and the low 32 bits of the
   entry's hash, so growing never has to look at the pool. */
struct htab {
    uint32_t *idx1;
    uint32_t *hash;
    size_t cap, used;
    uint32_t indexed;   /* pool entries [0, indexed) are in the table */
};

struct lbc_builder {
    struct htab strs, nums, times, shapes;
};

static void ht_fini(struct htab *h)
{
    free(h->idx1);
    free(h->hash);
}

static void ht_put(struct htab *h, uint32_t hash, uint32_t idx);

static void ht_grow(struct htab *h)
{
    struct htab old = *h;
    h->cap = old.cap ? old.cap * 2 : 64;
    h->idx1 = xcalloc(h->cap, sizeof *h->idx1);
    h->hash = xcalloc(h->cap, sizeof *h->hash);
    h->used = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.idx1[i])
            ht_put(h, old.hash[i], old.idx1[i] - 1);
    ht_fini(&old);
}

/* Insert without looking for an equal entry (the caller did). */
static void ht_put(struct htab *h, uint32_t hash, uint32_t idx)
{
    if ((h->used + 1) * 2 > h->cap)
        ht_grow(h);
    size_t m = h->cap - 1, i = hash & m;
    while (h->idx1[i])
        i = (i + 1) & m;
    h->idx1[i] = idx + 1;
    h->hash[i] = hash;
    h->used++;
}

/* Pool-specific hashing and equality: key is what lbc_add_* was given. */
typedef bool (*ht_eq_fn)(const struct lbc_program *p, uint32_t idx, const void *key);
typedef uint32_t (*ht_hash_idx_fn)(const struct lbc_program *p, uint32_t idx);

static int32_t ht_find(const struct htab *h, const struct lbc_program *p, uint32_t hash,
                       const void *key, ht_eq_fn eq)
{
    if (!h->cap)
        return -1;
    size_t m = h->cap - 1, i = hash & m;
    while (h->idx1[i]) {
        if (h->hash[i] == hash && eq(p, h->idx1[i] - 1, key))
            return (int32_t)(h->idx1[i] - 1);
        i = (i + 1) & m;
    }
    return -1;
}

/* Index pool entries added since the last call (duplicates among them
   keep the first). */
static void ht_catch_up(struct htab *h, const struct lbc_program *p, uint32_t n,
                        ht_hash_idx_fn hidx, ht_eq_fn eq_idx)
{
    if (h->indexed > n) {        /* the pool shrank behind our back */
        h->indexed = 0;
        h->used = 0;
        if (h->cap)
            memset(h->idx1, 0, h->cap * sizeof *h->idx1);
    }
    for (uint32_t i = h->indexed; i < n; i++) {
        uint32_t hash = hidx(p, i);
        if (ht_find(h, p, hash, &i, eq_idx) < 0)
            ht_put(h, hash, i);
    }
    h->indexed = n;
}

static uint32_t fold(uint64_t h)
{
    return (uint32_t)(h ^ (h >> 32));
}

static struct lbc_builder *builder(struct lbc_program *p)
{
    if (!p->priv)
        p->priv = xcalloc(1, sizeof(struct lbc_builder));
    return p->priv;
}

/* strings */
static uint32_t str_hash(const char *s)
{
    return fold(fnv1a64(FNV1A64_INIT, s, strlen(s)));
}
static uint32_t str_hash_idx(const struct lbc_program *p, uint32_t i)
{
    return str_hash(p->strs[i]);
}
static bool str_eq(const struct lbc_program *p, uint32_t i, const void *key)
{
    return strcmp(p->strs[i], key) == 0;
}
static bool str_eq_idx(const struct lbc_program *p, uint32_t i, const void *key)
{
    return strcmp(p->strs[i], p->strs[*(const uint32_t *)key]) == 0;
}

/* numbers, by bit pattern */
static uint64_t dbits(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}
static uint32_t u64_hash(uint64_t u)
{
    return fold(fnv1a64(FNV1A64_INIT, &u, sizeof u));
}
static uint32_t num_hash_idx(const struct lbc_program *p, uint32_t i)
{
    return u64_hash(dbits(p->nums[i]));
}
static bool num_eq(const struct lbc_program *p, uint32_t i, const void *key)
{
    return dbits(p->nums[i]) == *(const uint64_t *)key;
}
static bool num_eq_idx(const struct lbc_program *p, uint32_t i, const void *key)
{
    return dbits(p->nums[i]) == dbits(p->nums[*(const uint32_t *)key]);
}

/* times */
static uint32_t time_hash_idx(const struct lbc_program *p, uint32_t i)
{
    return u64_hash((uint64_t)p->times[i]);
}
static bool time_eq(const struct lbc_program *p, uint32_t i, const void *key)
{
    return p->times[i] == *(const int64_t *)key;
}
static bool time_eq_idx(const struct lbc_program *p, uint32_t i, const void *key)
{
    return p->times[i] == p->times[*(const uint32_t *)key];
}

/* shapes: same length and the same sample bits */
struct shape_key {
    const double *v;
    uint32_t n;
};
static uint32_t samples_hash(const double *v, uint32_t n)
{
    uint64_t h = fnv1a64(FNV1A64_INIT, &n, sizeof n);
    return fold(n ? fnv1a64(h, v, n * sizeof *v) : h);
}
static bool shape_in_range(const struct lbc_program *p, uint32_t i)
{
    return (uint64_t)p->shapes[i].off + p->shapes[i].len <= p->nshapedata;
}
static uint32_t shape_hash_idx(const struct lbc_program *p, uint32_t i)
{
    if (!shape_in_range(p, i))
        return 0;
    return samples_hash(p->shapedata + p->shapes[i].off, p->shapes[i].len);
}
static bool samples_eq(const double *a, const double *b, uint32_t n)
{
    return n == 0 || memcmp(a, b, n * sizeof *a) == 0;
}
static bool shape_eq(const struct lbc_program *p, uint32_t i, const void *key)
{
    const struct shape_key *k = key;
    return shape_in_range(p, i) && p->shapes[i].len == k->n
        && samples_eq(p->shapedata + p->shapes[i].off, k->v, k->n);
}
static bool shape_eq_idx(const struct lbc_program *p, uint32_t i, const void *key)
{
    uint32_t j = *(const uint32_t *)key;
    if (!shape_in_range(p, j))
        return false;
    struct shape_key k = { p->shapedata + p->shapes[j].off, p->shapes[j].len };
    return shape_eq(p, i, &k);
}

/* ---- builder API ---- */

/* A new empty program: no source, no system, Pulseq's default rasters. */
struct lbc_program *lbc_new(void)
{
    struct lbc_program *p = xcalloc(1, sizeof *p);
    p->version = LBC_VERSION;
    p->source = -1;
    p->sys_name = -1;
    p->grad_raster = 10000;
    p->rf_raster = 1000;
    p->adc_raster = 100;
    p->block_raster = 10000;
    return p;
}

/* Frees p and everything it owns; NULL is fine. */
void lbc_free(struct lbc_program *p)
{
    if (!p)
        return;
    if (p->strs)
        for (uint32_t i = 0; i < p->nstrs; i++)
            free(p->strs[i]);
    free(p->strs);
    free(p->nums);
    free(p->times);
    free(p->shapedata);
    free(p->shapes);
    free(p->fields);
    free(p->tmpls);
    free(p->loops);
    free(p->code);
    free(p->lines);
    free(p->params);
    struct lbc_builder *b = p->priv;
    if (b) {
        ht_fini(&b->strs);
        ht_fini(&b->nums);
        ht_fini(&b->times);
        ht_fini(&b->shapes);
        free(b);
    }
    free(p);
}

/* Index of string s in the string pool, adding a copy if it is new. */
int32_t lbc_add_string(struct lbc_program *p, const char *s)
{
    struct htab *h = &builder(p)->strs;
    ht_catch_up(h, p, p->nstrs, str_hash_idx, str_eq_idx);
    uint32_t hash = str_hash(s);
    int32_t i = ht_find(h, p, hash, s, str_eq);
    if (i >= 0)
        return i;
    VEC_PUSH(p->strs, p->nstrs, p->cap_strs, xstrdup(s));
    ht_put(h, hash, p->nstrs - 1);
    h->indexed = p->nstrs;
    return (int32_t)(p->nstrs - 1);
}

/* Index of v (by bit pattern) in the number pool, adding it if new. */
int32_t lbc_add_num(struct lbc_program *p, double v)
{
    struct htab *h = &builder(p)->nums;
    ht_catch_up(h, p, p->nnums, num_hash_idx, num_eq_idx);
    uint64_t bits = dbits(v);
    uint32_t hash = u64_hash(bits);
    int32_t i = ht_find(h, p, hash, &bits, num_eq);
    if (i >= 0)
        return i;
    VEC_PUSH(p->nums, p->nnums, p->cap_nums, v);
    ht_put(h, hash, p->nnums - 1);
    h->indexed = p->nnums;
    return (int32_t)(p->nnums - 1);
}

/* Index of ns in the time pool, adding it if new. */
int32_t lbc_add_time(struct lbc_program *p, int64_t ns)
{
    struct htab *h = &builder(p)->times;
    ht_catch_up(h, p, p->ntimes, time_hash_idx, time_eq_idx);
    uint32_t hash = u64_hash((uint64_t)ns);
    int32_t i = ht_find(h, p, hash, &ns, time_eq);
    if (i >= 0)
        return i;
    VEC_PUSH(p->times, p->ntimes, p->cap_times, ns);
    ht_put(h, hash, p->ntimes - 1);
    h->indexed = p->ntimes;
    return (int32_t)(p->ntimes - 1);
}

/* Index of the shape with samples v[0..n) (by bit pattern), adding a copy
   if new. */
int32_t lbc_add_shape(struct lbc_program *p, const double *v, uint32_t n)
{
    struct htab *h = &builder(p)->shapes;
    ht_catch_up(h, p, p->nshapes, shape_hash_idx, shape_eq_idx);
    struct shape_key k = { v, n };
    uint32_t hash = samples_hash(v, n);
    int32_t i = ht_find(h, p, hash, &k, shape_eq);
    if (i >= 0)
        return i;
    struct lbc_shape s = { p->nshapedata, n };
    vec_reserve((void **)&p->shapedata, &p->cap_shapedata, (size_t)p->nshapedata + n,
                sizeof *p->shapedata);
    if (n)
        memcpy(p->shapedata + p->nshapedata, v, n * sizeof *v);
    p->nshapedata += n;
    VEC_PUSH(p->shapes, p->nshapes, p->cap_shapes, s);
    ht_put(h, hash, p->nshapes - 1);
    h->indexed = p->nshapes;
    return (int32_t)(p->nshapes - 1);
}

/* Adds a template of the given type with lbc_tmpl_nfields[type] fields
   copied from f; returns its index. */
int32_t lbc_add_tmpl(struct lbc_program *p, enum lbc_tmpl_type type, const struct lbc_field *f)
{
    uint32_t n = (uint32_t)lbc_tmpl_nfields[type];
    struct lbc_tmpl t = { (uint8_t)type, p->nfields, n };
    vec_reserve((void **)&p->fields, &p->cap_fields, (size_t)p->nfields + n, sizeof *p->fields);
    memcpy(p->fields + p->nfields, f, n * sizeof *f);
    p->nfields += n;
    VEC_PUSH(p->tmpls, p->ntmpls, p->cap_tmpls, t);
    return (int32_t)(p->ntmpls - 1);
}

/* Adds a loop-table entry; returns its index. */
int32_t lbc_add_loop(struct lbc_program *p, int32_t name, int32_t ctr, int32_t lim, int32_t step)
{
    struct lbc_loop l = { name, ctr, lim, step };
    VEC_PUSH(p->loops, p->nloops, p->cap_loops, l);
    return (int32_t)(p->nloops - 1);
}

/* Appends an instruction with its source span (NULL: none); returns its pc. */
uint32_t lbc_emit(struct lbc_program *p, enum lbc_op op, int32_t a, int32_t b, int32_t c,
                  const struct lbc_span *span)
{
    size_t oldcap = p->cap_code;
    vec_reserve((void **)&p->code, &p->cap_code, (size_t)p->ncode + 1, sizeof *p->code);
    if (p->cap_code != oldcap || !p->lines)
        p->lines = xrealloc(p->lines, p->cap_code * sizeof *p->lines);
    struct lbc_insn in = { (uint8_t)op, a, b, c };
    static const struct lbc_span none = { -1, 0, 0, 0, 0 };
    p->code[p->ncode] = in;
    p->lines[p->ncode] = span ? *span : none;
    return p->ncode++;
}

/* Appends a parameter record (copied). */
void lbc_add_param(struct lbc_program *p, const struct lbc_param *prm)
{
    VEC_PUSH(p->params, p->nparams, p->cap_params, *prm);
}

/* The string a pool index names, or "?". */
const char *lbc_str(const struct lbc_program *p, int32_t idx)
{
    if (idx < 0 || (uint32_t)idx >= p->nstrs || !p->strs)
        return "?";
    return p->strs[idx];
}

/* Where instruction pc came from; false when it has no source. */
bool lbc_pc_pos(const struct lbc_program *p, uint32_t pc, struct lbc_srcpos *pos)
{
    memset(pos, 0, sizeof *pos);
    if (!p || pc >= p->ncode || !p->lines || p->lines[pc].file < 0)
        return false;
    const struct lbc_span *ls = &p->lines[pc];
    pos->path = lbc_str(p, ls->file);
    pos->line = ls->line;
    pos->col = ls->col;
    pos->start = ls->start;
    pos->end = ls->end;
    return true;
}

/* The span of instruction pc in d's registered files, or SPAN_NONE. */
struct span lbc_pc_span(const struct lbc_program *p, uint32_t pc, const struct diag_ctx *d,
                        struct lbc_srcpos *pos)
{
    struct lbc_srcpos own;
    if (!pos)
        pos = &own;
    if (!lbc_pc_pos(p, pc, pos))
        return SPAN_NONE;
    int f = diag_find_file(d, pos->path);
    const struct src_file *sf = f >= 0 ? diag_file(d, f) : NULL;
    if (!sf || pos->end > sf->len || pos->start > pos->end)
        return SPAN_NONE;
    return (struct span){ f, pos->start, pos->end };
}

/* The distinct source files of the line table, in order of first use. */
const char **lbc_source_files(const struct lbc_program *p, size_t *n)
{
    *n = 0;
    if (!p->lines || !p->ncode)
        return NULL;
    bool *seen = xcalloc(p->nstrs ? p->nstrs : 1, sizeof *seen);
    const char **v = NULL;
    size_t cap = 0;
    for (uint32_t pc = 0; pc < p->ncode; pc++) {
        int32_t f = p->lines[pc].file;
        if (f < 0 || (uint32_t)f >= p->nstrs || seen[f])
            continue;
        seen[f] = true;
        VEC_PUSH(v, *n, cap, p->strs[f]);
    }
    free(seen);
    return v;
}
