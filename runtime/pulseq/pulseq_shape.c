/*
 * pulseq_shape: the samples of a .seq file's shapes, between the parser
 * and the builder. A shape declares its sample count (num_samples) and is
 * usually written compressed, so that three lines of text can declare 10^9
 * samples. This module owns that compression (a run-length encoded
 * derivative: counted while parsing, expanded here) and the bound on what
 * a shape may expand to: what the blocks that play it can hold.
 *
 * The bound is applied once every section is read (a file may give
 * [SHAPES] before [BLOCKS], as the reference readers allow) and before
 * anything is expanded; then the shapes some event plays, and only those,
 * are decoded in place at the end of the reader's values, so that the
 * builder reads plain arrays and needs no decoding state of its own.
 *
 * The bound (format 1.4 on, where a block's duration is its own column):
 * a shape that an event of block B plays at a spacing of dt (the RF
 * raster, half of it for 1.5's half-raster RF, the gradient raster, the
 * ADC raster for an ADC phase shape) holds at most 2 * (duration(B) / dt)
 * + 16 samples, B being the longest block that plays it; a time shape's
 * point count and its last time (in rasters) likewise. Twice, because a
 * time shape may write a corner twice, and because the exact fit (delays,
 * the event's end) is the checker's: an event that merely overruns its
 * block imports, and the check reports it with its times (E0642). Before
 * 1.4 a block lasts as long as its events, so a shape sets its own block's
 * length and only PQ_MAX_SAMPLES bounds it. Then the memory the decoded
 * shapes and the program will take is checked against the memory budget
 * (base/membudget.h, E0747), still before anything is decoded.
 */
#include "runtime/pulseq/pulseq_internal.h"

#include <math.h>
#include <stdlib.h>

#include "base/membudget.h"
#include "base/util.h"

/* Walk the compressed values pk[0..n): a value written twice is followed
   by the count of further repeats. With out, the expansion (m values) is
   written there. False if the values are malformed or do not expand to
   exactly m. */
static bool rle_walk(const double *pk, uint32_t n, uint32_t m, double *out)
{
    size_t k = 0, i = 0;
    while (i < n) {
        if (i + 1 < n && pk[i] == pk[i + 1]) {
            double c = i + 2 < n ? pk[i + 2] : -1;
            if (!(c >= 0 && c == floor(c) && c <= m) || k + (size_t)c + 2 > m)
                return false;
            for (size_t j = 0; out && j < (size_t)c + 2; j++)
                out[k + j] = pk[i];
            k += (size_t)c + 2;
            i += 3;
        } else if (k >= m) {
            return false;
        } else {
            if (out)
                out[k] = pk[i];
            k++;
            i++;
        }
    }
    return k == m;
}

bool pq_shape_expands_to(const double *pk, uint32_t n, uint32_t m)
{
    return rle_walk(pk, n, m, NULL);
}

/* What the blocks let one shape play. */
struct shape_bound {
    bool played, as_time;    /* some event plays it; as a time shape */
    int64_t limit;           /* the most samples (or rasters of a time shape) */
    int64_t dur, dt;         /* ns: the longest block that plays it, the spacing */
    size_t block;            /* that block's index */
    const char *raster;      /* the spacing's name */
};

struct bounds {
    struct reader *r;
    struct shape_bound *b;   /* per shape */
    size_t block;            /* the block being walked */
    int64_t dur;             /* its duration, ns */
};

/* Shape id (a table's column; 0 or less: none) is played in the current
   block at a spacing of dt ns. */
static void play(struct bounds *bs, double id, int64_t dt, const char *raster, bool as_time)
{
    int32_t i = id > 0 ? pq_idmap_get(&bs->r->shmap, (int64_t)id) : -1;
    if (i < 0)
        return;      /* not defined: the builder says so at the event */
    struct shape_bound *b = &bs->b[i];
    if (dt < 1)
        dt = 1;
    int64_t limit = 2 * (bs->dur / dt) + 16;
    if (!b->played || limit > b->limit) {
        b->limit = limit;
        b->dur = bs->dur;
        b->dt = dt;
        b->block = bs->block;
        b->raster = raster;
    }
    b->played = true;
    b->as_time |= as_time;
}

/* The shapes the events of block row b play, as the builder reads them
   ([TRAP] before [GRADIENTS] where an ID is in both). */
static void block_plays(struct bounds *bs, const struct blockrow *b)
{
    struct reader *r = bs->r;
    bool v15 = r->ver >= 10500, v14 = r->ver >= 10400;
    int32_t i;
    if (b->c[1] && (i = pq_idmap_get(&r->rf.map, b->c[1])) >= 0) {
        const double *v = r->rf.r[i].v;
        double tid = v14 ? v[3] : 0;
        int64_t dt = tid < 0 ? r->rraster / 2 : r->rraster;
        const char *name = tid < 0 ? "half the RF raster" : "the RF raster";
        play(bs, v[1], dt, name, false);
        play(bs, v[2], dt, name, false);
        play(bs, tid, r->rraster, "the RF raster", true);
    }
    for (int a = 2; a <= 4; a++) {
        if (!b->c[a] || pq_idmap_get(&r->trap.map, b->c[a]) >= 0 ||
            (i = pq_idmap_get(&r->grad.map, b->c[a])) < 0)
            continue;
        const double *v = r->grad.r[i].v;
        play(bs, v15 ? v[3] : v[1], r->graster, "the gradient raster", false);
        play(bs, v15 ? v[4] : v14 ? v[2] : 0, r->graster, "the gradient raster", true);
    }
    if (v15 && b->c[5] && (i = pq_idmap_get(&r->adc.map, b->c[5])) >= 0)
        play(bs, r->adc.r[i].v[7], r->araster, "the ADC raster", false);
}

/* Refuse shape s at its shape_id line: its sample count (or, time_end,
   its last time in rasters) n is past bound b; the block in a note. */
static void refuse(struct reader *r, const struct shape *s, const struct shape_bound *b,
                   bool time_end, double n)
{
    const struct blockrow *br = &r->b[b->block];
    const char *unit = time_end ? "rasters" : "samples";
    struct diag *g = pq_err(r, 746, s->start, s->end, time_end ?
                            "a time shape gives times in rasters from the event's start: fix "
                            "them, or lengthen the block" :
                            "num_samples counts the samples after decompression: fix it, or "
                            "lengthen the block",
                            "%sshape %lld %s %.10g %s, but the longest block that plays it "
                            "(block %zu) lasts %g us, %lld %s of %g us (%s): at most %lld "
                            "(twice that plus 16)", b->as_time ? "time " : "",
                            (long long)s->id, time_end ? "ends at" : "declares", n, unit,
                            b->block + 1, (double)b->dur / 1000, (long long)(b->dur / b->dt),
                            unit, (double)b->dt / 1000, b->raster, (long long)b->limit);
    diag_note(g, (struct span){ r->file, br->start, br->end }, "block %zu lasts %g us (%d x "
              "BlockDurationRaster %g us)", b->block + 1, (double)b->dur / 1000, br->c[0],
              (double)r->braster / 1000);
}

/* Check every played shape against its bound and PQ_MAX_SAMPLES; the
   values the decoded shapes will need (*need). False after an error. */
static bool check_bounds(struct reader *r, const struct shape_bound *bd, size_t *need)
{
    *need = r->nvals;
    for (size_t i = 0; i < r->nsh; i++) {
        const struct shape *s = &r->sh[i];
        if (!bd[i].played)
            continue;
        if (r->ver >= 10400 && s->m > bd[i].limit) {
            refuse(r, s, &bd[i], false, s->m);
            return false;
        }
        if (s->m > PQ_MAX_SAMPLES) {
            pq_err(r, 735, s->start, s->end, "split the waveform over several shapes and "
                   "blocks", "shape %lld declares %u samples, more than the %u Larmor decodes",
                   (long long)s->id, s->m, PQ_MAX_SAMPLES);
            return false;
        }
        if (s->packed && *need + s->m >= UINT32_MAX) {
            pq_err(r, 735, s->start, s->end, "split the sequence over several files",
                   "shape %lld brings the shape values, as written and decoded, to %zu, "
                   "more than the %u Larmor holds", (long long)s->id, *need + s->m,
                   UINT32_MAX - 1);
            return false;
        }
        if (s->packed)
            *need += s->m;
    }
    return true;
}

/* Expand the played compressed shapes at the end of the values (one
   allocation of exactly need values); then check the time shapes' ends. */
static bool decode_played(struct reader *r, const struct shape_bound *bd, size_t need)
{
    if (need > r->capvals) {
        r->vals = xrealloc(r->vals, need * sizeof *r->vals);
        r->capvals = need;
    }
    for (size_t i = 0; i < r->nsh; i++) {
        struct shape *s = &r->sh[i];
        if (!bd[i].played || !s->packed)
            continue;
        double *out = r->vals + r->nvals;
        rle_walk(r->vals + s->off, s->n, s->m, out);
        for (uint32_t j = 1; j < s->m; j++)
            out[j] += out[j - 1];
        s->off = (uint32_t)r->nvals;
        s->n = s->m;
        s->packed = false;
        r->nvals += s->m;
    }
    for (size_t i = 0; i < r->nsh && r->ver >= 10400; i++) {
        const struct shape *s = &r->sh[i];
        if (!bd[i].as_time)
            continue;
        double last = r->vals[s->off + s->n - 1];
        if (!(last <= (double)bd[i].limit)) {
            refuse(r, s, &bd[i], true, last);
            return false;
        }
    }
    return true;
}

/* The memory the import will take, before any shape is decoded: the
   reader's values once decoded (need doubles) and their copy in the
   program's pool, and the program's instructions with their spans (a
   BEGIN and an END per block, an instruction per event, two per label
   row). False after an error (E0747). */
static bool within_budget(struct reader *r, size_t need)
{
    size_t insns = 0;
    for (size_t i = 0; i < r->nb; i++) {
        size_t k = 2;
        for (int c = 1; c <= 5; c++)
            k += r->b[i].c[c] != 0;
        if (r->b[i].c[6])
            k += 2 * VM_LABEL__COUNT;
        insns = mem_add(insns, k);
    }
    size_t bytes = mem_add(mem_mul(mem_mul(need, 2), sizeof(double)),
                           mem_mul(insns, sizeof(struct lbc_insn) + sizeof(struct lbc_span)));
    char what[160];
    snprintf(what, sizeof what, "importing %zu block%s and %zu shape values", r->nb,
             r->nb == 1 ? "" : "s", need);
    uint32_t at = r->nb ? r->b[0].start : 0;
    struct diag *g = mem_check_diag(r->d, 747, (struct span){ r->file, at, at }, NULL, what,
                                    bytes);
    if (g)
        r->failed = true;
    return !g;
}

bool pq_shapes_prepare(struct reader *r)
{
    if (!r->nsh)
        return within_budget(r, r->nvals);
    struct bounds bs = { r, xcalloc(r->nsh, sizeof *bs.b), 0, 0 };
    for (size_t i = 0; i < r->nb; i++) {
        bs.block = i;
        bs.dur = r->ver >= 10400 ? (int64_t)r->b[i].c[0] * r->braster : 0;
        block_plays(&bs, &r->b[i]);
    }
    size_t need;
    bool ok = check_bounds(r, bs.b, &need) && within_budget(r, need) &&
              decode_played(r, bs.b, need);
    free(bs.b);
    return ok;
}
