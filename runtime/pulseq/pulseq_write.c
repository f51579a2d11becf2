/*
 * pulseq_write: the .seq writer. A VM backend that turns each played block
 * into a [BLOCKS] row; events, shapes and extension lists are interned
 * (one row per distinct text), so a repeated event is written once. Shapes
 * are normalised to a peak of 1 (Pulseq's convention), quantised to 1e-7
 * and compressed as the format specifies (a run-length encoded
 * derivative) where that is shorter; times are written in the units of
 * their column without loss (fractional microseconds where needed). The
 * counters are written as LABELSET wherever they change, so the counter
 * values at every ADC are the VM's. The file ends with its MD5 signature.
 */
#include "runtime/pulseq/pulseq.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/md5.h"
#include "base/util.h"
#include "runtime/wave/wave.h"
#include "vm/vm.h"

/* An interning table: text -> 1-based ID, rows kept in order. */
struct intern {
    char **s;
    size_t n, cap;
    uint32_t *slot;          /* open addressing: index + 1, 0 empty */
    size_t nslot;
};

static uint64_t str_hash(const char *s)
{
    return fnv1a64(FNV1A64_INIT, s, strlen(s));
}

static int32_t intern(struct intern *t, const char *s)
{
    if (2 * (t->n + 1) > t->nslot) {
        size_t ns = t->nslot ? 2 * t->nslot : 256;
        uint32_t *sl = xcalloc(ns, sizeof *sl);
        for (size_t i = 0; i < t->n; i++) {
            size_t h = str_hash(t->s[i]) & (ns - 1);
            while (sl[h])
                h = (h + 1) & (ns - 1);
            sl[h] = (uint32_t)i + 1;
        }
        free(t->slot);
        t->slot = sl;
        t->nslot = ns;
    }
    size_t h = str_hash(s) & (t->nslot - 1);
    while (t->slot[h]) {
        if (!strcmp(t->s[t->slot[h] - 1], s))
            return (int32_t)t->slot[h];
        h = (h + 1) & (t->nslot - 1);
    }
    VEC_PUSH(t->s, t->n, t->cap, xstrdup(s));
    t->slot[h] = (uint32_t)t->n;
    return (int32_t)t->n;
}

static void intern_fini(struct intern *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->s[i]);
    free(t->s);
    free(t->slot);
}

/* Shapes already written, by the program's shape pool index: the pool
   deduplicates, so one index is one waveform (key: mag index, phase index
   and raster multiple). */
struct shape_memo {
    uint64_t key;
    int32_t mag, phase;
    double peak;
};

struct writer {
    struct shape_memo *memo;
    size_t nmemo;            /* a power of two: the table size */
    struct vm_view v;        /* of the program written */
    const struct system *sys;
    const struct pulseq_write_opts *o;
    struct diag_ctx *d;
    bool failed;
    struct strbuf blocks;
    uint64_t nblocks;
    struct intern rf, grad, trap, adc, shapes, trig, lset, ext;
    int32_t labels[VM_LABEL__COUNT];
    bool have_labels;
    int64_t total_ns;
    struct strbuf tmp;
};

/* An error at the span of instruction pc. */
static void werr(struct writer *w, uint32_t pc, const char *help, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void werr(struct writer *w, uint32_t pc, const char *help, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct lbc_srcpos pos;
    char loc[300] = "";
    struct span sp = vm_view_span(&w->v, pc, w->d, &pos);
    if (sp.file < 0 && pos.path)
        snprintf(loc, sizeof loc, "%s:%u: ", pos.path, pos.line);
    struct diag *g = diag_error(w->d, 761, sp, "%s%s", loc, msg);
    if (help)
        diag_help(g, "%s", help);
    w->failed = true;
}

/* Microseconds from ns, exactly: "12", "12.5", "0.001". */
static void put_us(struct strbuf *b, int64_t ns)
{
    if (ns % 1000 == 0) {
        sb_printf(b, "%" PRId64, ns / 1000);
        return;
    }
    char t[48];
    int64_t a = ns < 0 ? -ns : ns;
    snprintf(t, sizeof t, "%s%" PRId64 ".%03" PRId64, ns < 0 ? "-" : "", a / 1000, a % 1000);
    size_t n = strlen(t);
    while (t[n - 1] == '0')
        t[--n] = 0;
    sb_puts(b, t);
}

static void put_num(struct strbuf *b, double v)
{
    if (v == 0)
        v = 0;   /* no "-0" */
    sb_printf(b, "%.12g", v);
}

/* The shape's ID after quantising to 1e-7 and compressing. */
static int32_t put_shape(struct writer *w, const double *v, size_t n)
{
    int64_t *q = xmalloc(n * sizeof *q);
    for (size_t i = 0; i < n; i++)
        q[i] = llround(v[i] * 1e7);
    struct strbuf *b = &w->tmp;
    b->len = 0;
    sb_printf(b, "num_samples %zu\n", n);
    size_t head = b->len;
    size_t nvals = 0;
    if (n > 4) {
        size_t i = 0;
        int64_t prev = 0;
        while (i < n) {
            int64_t d = q[i] - prev;
            size_t j = i + 1;
            while (j < n && q[j] - q[j - 1] == d)
                j++;
            size_t run = j - i;
            if (run == 1) {
                sb_printf(b, "%.9g\n", (double)d * 1e-7);
                nvals++;
            } else {
                sb_printf(b, "%.9g\n%.9g\n%zu\n", (double)d * 1e-7, (double)d * 1e-7, run - 2);
                nvals += 3;
            }
            prev = q[j - 1];
            i = j;
        }
    }
    if (n <= 4 || nvals >= n) {
        b->len = head;
        for (size_t i = 0; i < n; i++)
            sb_printf(b, "%.9g\n", (double)q[i] * 1e-7);
    }
    sb_putc(b, 0);
    b->len--;
    free(q);
    return intern(&w->shapes, b->s);
}

static const char *rf_use_letter(enum vm_rfuse u)
{
    switch (u) {
    case VM_RFUSE_EXCITATION: return "e";
    case VM_RFUSE_REFOCUSING: return "r";
    case VM_RFUSE_INVERSION: return "i";
    case VM_RFUSE_SATURATION: return "s";
    case VM_RFUSE_PREPARATION: return "p";
    case VM_RFUSE_OTHER: return "o";
    default: return "u";
    }
}

/* The memo entry for key (key + 1 stored; 0 = empty). A full table
   evicts by overwriting: it is only a cache. */
static struct shape_memo *memo_slot(struct writer *w, uint64_t key)
{
    if (!w->nmemo) {
        w->nmemo = 4096;
        w->memo = xcalloc(w->nmemo, sizeof *w->memo);
    }
    size_t h = (size_t)(fnv1a64(FNV1A64_INIT, &key, sizeof key) & (w->nmemo - 1));
    for (size_t i = 0; i < 8; i++) {
        struct shape_memo *m = &w->memo[(h + i) & (w->nmemo - 1)];
        if (m->key == key + 1 || m->key == 0)
            return m;
    }
    return &w->memo[h];
}

static int32_t rf_row(struct writer *w, const struct vm_rf *rf, int32_t ms, int32_t ps,
                      double peak);

static int32_t put_rf(struct writer *w, const struct vm_rf *rf)
{
    int64_t r = w->sys->rf_raster_ns;
    if (rf->dt_ns % r) {
        werr(w, rf->pc, "sample the pulse on the RF raster (or a multiple of it)",
             "the RF samples are %" PRId64 " ns apart, not a multiple of the %" PRId64
             " ns RF raster", rf->dt_ns, r);
        return 0;
    }
    size_t k = (size_t)(rf->dt_ns / r), n = (size_t)rf->n * k;
    uint64_t key = ((uint64_t)(uint32_t)rf->shape_id << 40) ^
                   ((uint64_t)(uint32_t)(rf->phase_shape_id + 1) << 16) ^ (uint64_t)k;
    struct shape_memo *m = memo_slot(w, key);
    if (m->key == key + 1)
        return rf_row(w, rf, m->mag, m->phase, m->peak);
    double *mag = xmalloc((n ? n : 1) * sizeof *mag), *ph = xmalloc((n ? n : 1) * sizeof *ph);
    double peak = 0;
    for (size_t i = 0; i < n; i++) {
        double v = rf->mag[i / k], a = rf->phase_shape ? rf->phase_shape[i / k] : 0;
        if (v < 0) {
            v = -v;
            a += M_PI;
        }
        double c = a / (2 * M_PI);
        c -= floor(c);
        mag[i] = v;
        ph[i] = c;
        if (v > peak)
            peak = v;
    }
    if (peak > 0)
        for (size_t i = 0; i < n; i++)
            mag[i] /= peak;
    int32_t ms = put_shape(w, mag, n);
    /* a phase shape always, zeros included: interpreters expect one */
    int32_t ps = put_shape(w, ph, n);
    free(mag);
    free(ph);
    *m = (struct shape_memo){ key + 1, ms, ps, peak };
    return rf_row(w, rf, ms, ps, peak);
}

static int32_t rf_row(struct writer *w, const struct vm_rf *rf, int32_t ms, int32_t ps,
                      double peak)
{
    struct strbuf *b = &w->tmp;
    b->len = 0;
    put_num(b, rf->amp * peak * PULSEQ_GAMMA_BAR);
    sb_printf(b, " %d %d 0 ", ms, ps);
    if (w->o->format == PULSEQ_1_5) {
        put_us(b, rf->centre_ns);
        sb_putc(b, ' ');
        put_us(b, rf->delay_ns);
        sb_puts(b, " 0 0 ");
        put_num(b, rf->freq);
        sb_putc(b, ' ');
        put_num(b, rf->phase);
        sb_printf(b, " %s", rf_use_letter(rf->use));
    } else {
        put_us(b, rf->delay_ns);
        sb_putc(b, ' ');
        put_num(b, rf->freq);
        sb_putc(b, ' ');
        put_num(b, rf->phase);
    }
    sb_putc(b, 0);
    return intern(&w->rf, b->s);
}

/* A gradient's ID: [TRAP] IDs are written after the [GRADIENTS] ones, so
   they are returned negative here and renumbered at the end. */
static int32_t put_grad(struct writer *w, const struct vm_grad *g)
{
    struct strbuf *b = &w->tmp;
    if (g->kind == GRAD_TRAP) {
        b->len = 0;
        put_num(b, g->amp * PULSEQ_GAMMA_BAR);
        sb_putc(b, ' ');
        put_us(b, g->rise_ns);
        sb_putc(b, ' ');
        put_us(b, g->flat_ns);
        sb_putc(b, ' ');
        put_us(b, g->fall_ns);
        sb_putc(b, ' ');
        put_us(b, g->delay_ns);
        sb_putc(b, 0);
        return -intern(&w->trap, b->s);
    }
    if (g->dt_ns != w->sys->grad_raster_ns) {
        werr(w, g->pc, "sample arbitrary gradients on the gradient raster",
             "the gradient samples are %" PRId64 " ns apart; Pulseq plays them on the %"
             PRId64 " ns gradient raster", g->dt_ns, w->sys->grad_raster_ns);
        return 0;
    }
    uint64_t key = ((uint64_t)(uint32_t)g->shape_id << 40) ^ 0xffffULL;
    struct shape_memo *m = memo_slot(w, key);
    double peak = 0;
    int32_t s;
    if (m->key == key + 1) {
        s = m->mag;
        peak = m->peak;
    } else {
        for (uint32_t i = 0; i < g->n; i++)
            if (fabs(g->shape[i]) > peak)
                peak = fabs(g->shape[i]);
        double *v = xmalloc((g->n ? g->n : 1) * sizeof *v);
        for (uint32_t i = 0; i < g->n; i++)
            v[i] = peak > 0 ? g->shape[i] / peak : 0;
        s = put_shape(w, v, g->n);
        free(v);
        *m = (struct shape_memo){ key + 1, s, 0, peak };
    }
    b->len = 0;
    put_num(b, g->amp * peak * PULSEQ_GAMMA_BAR);
    if (w->o->format == PULSEQ_1_5) {
        sb_putc(b, ' ');
        put_num(b, wave_first(g) * PULSEQ_GAMMA_BAR);
        sb_putc(b, ' ');
        put_num(b, wave_last(g) * PULSEQ_GAMMA_BAR);
    }
    sb_printf(b, " %d 0 ", s);
    put_us(b, g->delay_ns);
    sb_putc(b, 0);
    return intern(&w->grad, b->s);
}

static int32_t put_adc(struct writer *w, const struct vm_adc *a)
{
    struct strbuf *b = &w->tmp;
    b->len = 0;
    sb_printf(b, "%u %" PRId64 " ", a->samples, a->dwell_ns);
    put_us(b, a->delay_ns);
    sb_puts(b, w->o->format == PULSEQ_1_5 ? " 0 0 " : " ");
    put_num(b, a->freq);
    sb_putc(b, ' ');
    put_num(b, a->phase);
    if (w->o->format == PULSEQ_1_5)
        sb_puts(b, " 0");
    sb_putc(b, 0);
    return intern(&w->adc, b->s);
}

#define EXT_TRIG 1
#define EXT_LSET 2

static int wr_block_end(void *ctx, const struct vm_block *b)
{
    struct writer *w = ctx;
    if (w->failed)
        return 0;
    int64_t br = w->sys->block_raster_ns;
    if (b->dur_ns % br) {
        werr(w, b->pc, "make the block last a whole number of block rasters",
             "the block lasts %" PRId64 " ns, not a multiple of the %" PRId64
             " ns block raster", b->dur_ns, br);
        return 0;
    }
    int32_t rf = b->has_rf ? put_rf(w, &b->rf) : 0;
    int32_t g[3] = { 0, 0, 0 };
    for (int a = 0; a < 3; a++)
        if (b->has_grad[a])
            g[a] = put_grad(w, &b->grad[a]);
    int32_t adc = b->has_adc ? put_adc(w, &b->adc) : 0;
    /* extensions: a trigger, then the counters that changed */
    struct strbuf list;
    sb_init(&list);
    char row[128];
    if (b->has_trig) {
        int ch = b->trig.channel;
        if (ch < 0 || ch > 31) {
            werr(w, b->trig.pc, "Pulseq has output channels 0-15 (Larmor 0-15) and inputs "
                 "(Larmor 16-31)", "trigger channel %d has no Pulseq equivalent", ch);
        } else {
            struct strbuf *t = &w->tmp;
            t->len = 0;
            sb_printf(t, "%d %d ", ch < 16 ? 1 : 2, ch % 16);
            put_us(t, b->trig.delay_ns);
            sb_putc(t, ' ');
            put_us(t, b->trig.dur_ns);
            sb_putc(t, 0);
            snprintf(row, sizeof row, "%d %d;", EXT_TRIG, intern(&w->trig, t->s));
            sb_puts(&list, row);
        }
    }
    for (int l = 0; l < VM_LABEL__COUNT; l++) {
        if (b->labels[l] == w->labels[l] && (w->have_labels || b->labels[l] == 0))
            continue;
        snprintf(row, sizeof row, "%d %s", b->labels[l], vm_label_names[l]);
        for (char *c = row; *c; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 'a' + 'A');
        int32_t id = intern(&w->lset, row);
        snprintf(row, sizeof row, "%d %d;", EXT_LSET, id);
        sb_puts(&list, row);
        w->labels[l] = b->labels[l];
    }
    w->have_labels = true;
    int32_t ext = 0;
    if (list.len) {
        sb_putc(&list, 0);
        ext = intern(&w->ext, list.s);
    }
    sb_fini(&list);
    w->nblocks++;
    sb_printf(&w->blocks, "%" PRIu64 " %" PRId64 " %d %d %d %d %d %d\n", w->nblocks,
              b->dur_ns / br, rf, g[0], g[1], g[2], adc, ext);
    return 0;
}

static int wr_end(void *ctx, int64_t total_ns)
{
    ((struct writer *)ctx)->total_ns = total_ns;
    return 0;
}

static int vm_err(void *ctx, const struct vm_error *e)
{
    struct writer *w = ctx;
    werr(w, e->pc, NULL, "%s", e->msg);
    return 1;
}

/* Gradient IDs: [GRADIENTS] 1..n, then [TRAP] n+1..; the block rows hold
   trap IDs negated until here. */
static void renumber(struct writer *w, struct strbuf *out)
{
    int32_t ng = (int32_t)w->grad.n;
    const char *s = w->blocks.s ? w->blocks.s : "";
    /* strtoll, not sscanf: glibc's sscanf measures the whole remaining
       string on every call, which made this quadratic in the block count
       (393,216 blocks: 23 s) */
    while (*s) {
        long long v[8];
        int k = 0;
        for (char *end; k < 8; k++, s = end) {
            v[k] = strtoll(s, &end, 10);
            if (end == s)
                break;
        }
        if (k != 8)
            break;
        for (int a = 3; a <= 5; a++)
            if (v[a] < 0)
                v[a] = ng - v[a];
        sb_printf(out, "%4lld %4lld %3lld %3lld %3lld %3lld %3lld %3lld\n", v[0], v[1], v[2],
                  v[3], v[4], v[5], v[6], v[7]);
        while (*s == '\n')
            s++;
    }
}

int pulseq_write(const struct lbc_program *p, const struct system *sys,
                 const struct pulseq_write_opts *o, char **out, size_t *outlen,
                 struct diag_ctx *d)
{
    struct writer w;
    memset(&w, 0, sizeof w);
    vm_view_init(&w.v, p);
    w.sys = sys;
    w.o = o;
    w.d = d;
    sb_init(&w.blocks);
    sb_init(&w.tmp);
    struct vm_backend be;
    memset(&be, 0, sizeof be);
    be.ctx = &w;
    be.block_end = wr_block_end;
    be.end = wr_end;
    struct vm_opts vo = { vm_err, &w, 0 };
    int rc = vm_run(p, &be, &vo, NULL);
    if (rc != 0 || w.failed) {
        if (!w.failed)
            diag_error(d, 761, SPAN_NONE, "the program did not run to its end");
        rc = -1;
        goto done;
    }
    struct strbuf f;
    sb_init(&f);
    bool v15 = o->format == PULSEQ_1_5;
    sb_puts(&f, "# A Pulseq .seq file, written by Larmor (larmor export)\n\n");
    sb_printf(&f, "[VERSION]\nmajor 1\nminor %d\nrevision %d\n\n", v15 ? 5 : 4, v15 ? 0 : 2);
    sb_puts(&f, "[DEFINITIONS]\n");
    sb_printf(&f, "AdcRasterTime %.9g\n", (double)sys->adc_raster_ns * 1e-9);
    sb_printf(&f, "BlockDurationRaster %.9g\n", (double)sys->block_raster_ns * 1e-9);
    double fov = vm_view_param_value(&w.v, "fov", 0), fy = vm_view_param_value(&w.v, "fov_y", 0),
           th = vm_view_param_value(&w.v, "thickness", 0);
    if (fov > 0)
        sb_printf(&f, "FOV %.9g %.9g %.9g\n", fov, fy > 0 ? fy : fov, th);
    sb_printf(&f, "GradientRasterTime %.9g\n", (double)sys->grad_raster_ns * 1e-9);
    if (o->name && *o->name)
        sb_printf(&f, "Name %s\n", o->name);
    sb_printf(&f, "RadiofrequencyRasterTime %.9g\n", (double)sys->rf_raster_ns * 1e-9);
    sb_printf(&f, "TotalDuration %.9g\n\n", (double)w.total_ns * 1e-9);
    sb_puts(&f, "# blocks: id, duration (block rasters), rf, gx, gy, gz, adc, ext\n[BLOCKS]\n");
    renumber(&w, &f);
    if (w.rf.n) {
        sb_puts(&f, v15 ? "\n# RF: id, amplitude (Hz), magnitude shape, phase shape, time shape, "
                          "centre (us), delay (us), frequency (ppm), phase (rad/MHz), "
                          "frequency (Hz), phase (rad), use\n[RF]\n"
                        : "\n# RF: id, amplitude (Hz), magnitude shape, phase shape, time shape, "
                          "delay (us), frequency (Hz), phase (rad)\n[RF]\n");
        for (size_t i = 0; i < w.rf.n; i++)
            sb_printf(&f, "%zu %s\n", i + 1, w.rf.s[i]);
    }
    if (w.grad.n) {
        sb_puts(&f, v15 ? "\n# arbitrary gradients: id, amplitude (Hz/m), first and last "
                          "value (Hz/m), amplitude shape, time shape, delay (us)\n[GRADIENTS]\n"
                        : "\n# arbitrary gradients: id, amplitude (Hz/m), amplitude shape, "
                          "time shape, delay (us)\n[GRADIENTS]\n");
        for (size_t i = 0; i < w.grad.n; i++)
            sb_printf(&f, "%zu %s\n", i + 1, w.grad.s[i]);
    }
    if (w.trap.n) {
        sb_puts(&f, "\n# trapezoids: id, amplitude (Hz/m), rise, flat top, fall, delay (us)\n"
                    "[TRAP]\n");
        for (size_t i = 0; i < w.trap.n; i++)
            sb_printf(&f, "%zu %s\n", w.grad.n + i + 1, w.trap.s[i]);
    }
    if (w.adc.n) {
        sb_puts(&f, v15 ? "\n# ADC: id, samples, dwell (ns), delay (us), frequency (ppm), "
                          "phase (rad/MHz), frequency (Hz), phase (rad), phase shape\n[ADC]\n"
                        : "\n# ADC: id, samples, dwell (ns), delay (us), frequency (Hz), "
                          "phase (rad)\n[ADC]\n");
        for (size_t i = 0; i < w.adc.n; i++)
            sb_printf(&f, "%zu %s\n", i + 1, w.adc.s[i]);
    }
    if (w.ext.n) {
        sb_puts(&f, "\n# extension lists: id, extension type, its row, the next id (0: the "
                    "end)\n[EXTENSIONS]\n");
        size_t next = w.ext.n + 1;   /* list rows past the heads */
        struct strbuf tail;
        sb_init(&tail);
        for (size_t i = 0; i < w.ext.n; i++) {
            /* "type ref;type ref;..." -> a linked list; its head has the ID i+1 */
            const char *s = w.ext.s[i];
            size_t id = i + 1;
            struct strbuf *dst = &f;
            while (*s) {
                int type, ref, used;
                if (sscanf(s, "%d %d;%n", &type, &ref, &used) != 2)
                    break;
                s += used;
                size_t nid = *s ? next++ : 0;
                sb_printf(dst, "%zu %d %d %zu\n", id, type, ref, nid);
                id = nid;
                dst = &tail;
            }
        }
        if (tail.len)
            sb_puts(&f, tail.s);
        sb_fini(&tail);
        if (w.trig.n) {
            sb_printf(&f, "\n# triggers: id, type, channel, delay (us), duration (us)\n"
                          "extension TRIGGERS %d\n",
                      EXT_TRIG);
            for (size_t i = 0; i < w.trig.n; i++)
                sb_printf(&f, "%zu %s\n", i + 1, w.trig.s[i]);
        }
        if (w.lset.n) {
            sb_printf(&f, "\n# labels set: id, value, label\n"
                          "extension LABELSET %d\n", EXT_LSET);
            for (size_t i = 0; i < w.lset.n; i++)
                sb_printf(&f, "%zu %s\n", i + 1, w.lset.s[i]);
        }
    }
    if (w.shapes.n) {
        sb_puts(&f, "\n# shapes, compressed (derivative, then run lengths)\n[SHAPES]\n");
        for (size_t i = 0; i < w.shapes.n; i++)
            sb_printf(&f, "\nshape_id %zu\n%s", i + 1, w.shapes.s[i]);
    }
    char hex[33];
    md5_hex(hex, f.s, f.len);
    sb_printf(&f, "\n[SIGNATURE]\n# the MD5 of this file's bytes up to, not including, the "
                  "newline before [SIGNATURE]\nType md5\nHash %s\n", hex);
    *outlen = f.len;
    *out = sb_take(&f);
    rc = 0;
done:
    sb_fini(&w.blocks);
    sb_fini(&w.tmp);
    intern_fini(&w.rf);
    intern_fini(&w.grad);
    intern_fini(&w.trap);
    intern_fini(&w.adc);
    intern_fini(&w.shapes);
    intern_fini(&w.trig);
    intern_fini(&w.lset);
    intern_fini(&w.ext);
    free(w.memo);
    return rc;
}
