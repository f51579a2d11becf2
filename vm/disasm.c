/*
 * disasm: the human-readable listing of a program (larmor disasm, golden
 * tests). The layout is stable: a header, the parameters, every pool, the
 * loop table, then one line per instruction with its operands decoded by
 * kind and its source location. Numbers are printed in the shortest form
 * that reads back to the same double, so listings are exact and tidy.
 *
 * The listing is safe on any program, verified or not: an index out of
 * range prints as "?" instead of being followed.
 */
#include "vm/program.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "vm/lbc_internal.h"

static void sb_clear(struct strbuf *b)
{
    b->len = 0;
    if (b->s)
        b->s[0] = 0;
}

/* Shortest %.Ng (N <= 17) that reads back to the same bits, with
   integer-valued magnitudes below 1e17 written out in full. */
static void fmt_num(char *buf, size_t n, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        double back = strtod(buf, NULL);
        if (memcmp(&back, &v, sizeof v) != 0)
            continue;
        /* 10 is "10", not "1e+01": integers up to 17 digits in full */
        const char *e = strchr(buf, 'e');
        int x = e ? atoi(e + 1) : -1;
        if (x >= 0 && x < 17)
            snprintf(buf, n, "%.*g", x + 1, v);
        return;
    }
    snprintf(buf, n, "%.17g", v);
}

/* A time in the unit (ns, us, ms, s) that puts the mantissa in [1, 1000). */
static void fmt_tidy_time(char *buf, size_t n, int64_t ns)
{
    double a = fabs((double)ns);
    static const struct { double scale; const char *unit; } u[] = {
        { 1e9, "s" }, { 1e6, "ms" }, { 1e3, "us" }, { 1, "ns" },
    };
    size_t i = 0;
    while (i + 1 < ARRAY_LEN(u) && a < u[i].scale)
        i++;
    if (ns == 0)
        i = 0;
    snprintf(buf, n, "%.9g %s", (double)ns / u[i].scale, u[i].unit);
}

/* SI unit for exponents of s, m, T: "T/m/s", "m^2", "Hz", "" ... */
static void fmt_unit(char *buf, size_t n, const int8_t dim[3])
{
    static const char *const base[3] = { "s", "m", "T" };
    if (dim[0] == -1 && dim[1] == 0 && dim[2] == 0) {
        snprintf(buf, n, "Hz");
        return;
    }
    struct strbuf b;
    sb_init(&b);
    /* numerator in the order T, m, s; then each denominator */
    static const int order[3] = { 2, 1, 0 };
    bool any = false;
    for (int k = 0; k < 3; k++) {
        int e = dim[order[k]];
        if (e <= 0)
            continue;
        if (any)
            sb_putc(&b, '*');
        sb_puts(&b, base[order[k]]);
        if (e != 1)
            sb_printf(&b, "^%d", e);
        any = true;
    }
    for (int k = 0; k < 3; k++) {
        int e = dim[order[k]];
        if (e >= 0)
            continue;
        sb_puts(&b, any ? "/" : "1/");
        any = true;
        sb_puts(&b, base[order[k]]);
        if (e != -1)
            sb_printf(&b, "^%d", -e);
    }
    snprintf(buf, n, "%s", b.s ? b.s : "");
    sb_fini(&b);
}

/* s as a C string literal. */
static void put_quoted(struct strbuf *b, const char *s)
{
    sb_putc(b, '"');
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        switch (*c) {
        case '"': sb_puts(b, "\\\""); break;
        case '\\': sb_puts(b, "\\\\"); break;
        case '\n': sb_puts(b, "\\n"); break;
        case '\t': sb_puts(b, "\\t"); break;
        case '\r': sb_puts(b, "\\r"); break;
        default:
            if (*c < 0x20 || *c == 0x7f)
                sb_printf(b, "\\x%02x", *c);
            else
                sb_putc(b, (char)*c);
        }
    }
    sb_putc(b, '"');
}

static void put_str_ref(struct strbuf *b, const struct lbc_program *p, int32_t s)
{
    if (s == -1) {
        sb_putc(b, '-');
        return;
    }
    sb_printf(b, "s%d(", s);
    if (s >= 0 && (uint32_t)s < p->nstrs && p->strs[s])
        put_quoted(b, p->strs[s]);
    else
        sb_putc(b, '?');
    sb_putc(b, ')');
}

static void put_num_ref(struct strbuf *b, const struct lbc_program *p, int32_t k)
{
    char nb[40];
    if (k >= 0 && (uint32_t)k < p->nnums) {
        fmt_num(nb, sizeof nb, p->nums[k]);
        sb_printf(b, "k%d(=%s)", k, nb);
    } else {
        sb_printf(b, "k%d(?)", k);
    }
}

static void put_time_ref(struct strbuf *b, const struct lbc_program *p, int32_t t)
{
    if (t >= 0 && (uint32_t)t < p->ntimes)
        sb_printf(b, "t%d(=%" PRId64 " ns)", t, p->times[t]);
    else
        sb_printf(b, "t%d(?)", t);
}

static const char *name_or_q(const char *const *names, int n, int32_t i)
{
    return i >= 0 && i < n ? names[i] : "?";
}

/* One operand of kind c. */
static void put_operand(struct strbuf *b, const struct lbc_program *p, char c, int32_t v)
{
    switch (c) {
    case 'R': sb_printf(b, "r%d", v); break;
    case 'K': put_num_ref(b, p, v); break;
    case 'I': put_time_ref(b, p, v); break;
    case 'S': put_str_ref(b, p, v); break;
    case 'E':
        sb_printf(b, "e%d(%s)", v, v >= 0 && (uint32_t)v < p->ntmpls && p->tmpls[v].type < TMPL__COUNT
                                       ? lbc_tmpl_names[p->tmpls[v].type] : "?");
        break;
    case 'A': sb_printf(b, "a%d", v); break;
    case 'L':
        sb_printf(b, "L%d(%s)", v, v >= 0 && (uint32_t)v < p->nloops
                                       ? lbc_str(p, p->loops[v].name) : "?");
        break;
    case 'M': sb_puts(b, name_or_q(vm_math_names, VM_MATH__COUNT, v)); break;
    case 'C': sb_puts(b, name_or_q(vm_label_names, VM_LABEL__COUNT, v)); break;
    case 'N': sb_printf(b, "#%d", v); break;
    case 'P': sb_printf(b, "->%04d", v); break;
    default: sb_printf(b, "%d", v); break;
    }
}

static void put_field(struct strbuf *b, const struct lbc_program *p,
                      const struct lbc_fieldinfo *fi, const struct lbc_field *f)
{
    sb_printf(b, "%s=", fi->name);
    switch (f->kind) {
    case FK_NONE: sb_putc(b, '-'); break;
    case FK_NUM: put_num_ref(b, p, f->v); break;
    case FK_TIME: put_time_ref(b, p, f->v); break;
    case FK_REG: sb_printf(b, "r%d", f->v); break;
    case FK_SHAPE: sb_printf(b, "a%d", f->v); break;
    case FK_IMM:
        if (fi->fclass == FC_IMM && fi->imm_names && f->v >= 0 && f->v <= fi->imm_max)
            sb_puts(b, fi->imm_names[f->v]);
        else
            sb_printf(b, "#%d", f->v);
        break;
    default: sb_printf(b, "?%u:%d", f->kind, f->v); break;
    }
}

static void print_header(const struct lbc_program *p, FILE *out)
{
    struct strbuf b;
    sb_init(&b);
    fprintf(out, "larmor bytecode version %u\n", p->version);
    fprintf(out, "registers  %u\n", p->nregs);
    put_str_ref(&b, p, p->source);
    fprintf(out, "source     %s\n", b.s);
    sb_clear(&b);
    put_str_ref(&b, p, p->sys_name);
    fprintf(out, "system     %s hash 0x%016" PRIx64 "\n", b.s, p->sys_hash);
    fprintf(out, "rasters    grad %" PRId64 " ns, rf %" PRId64 " ns, adc %" PRId64
            " ns, block %" PRId64 " ns\n",
            p->grad_raster, p->rf_raster, p->adc_raster, p->block_raster);
    fprintf(out, "dead times rf ringdown %" PRId64 " ns, adc %" PRId64 " ns\n", p->rf_ringdown,
            p->adc_dead);
    sb_fini(&b);
}

static void print_params(const struct lbc_program *p, FILE *out)
{
    fprintf(out, "\nparams (%u)\n", p->nparams);
    for (uint32_t i = 0; i < p->nparams; i++) {
        const struct lbc_param *q = &p->params[i];
        char v[64], u[64];
        if (q->kind == PARAM_TIME) {
            fmt_tidy_time(v, sizeof v, q->t);
            fprintf(out, "  %s = %s\n", lbc_str(p, q->name), v);
        } else {
            fmt_num(v, sizeof v, q->f);
            fmt_unit(u, sizeof u, q->dim);
            fprintf(out, "  %s = %s%s%s\n", lbc_str(p, q->name), v, u[0] ? " " : "", u);
        }
    }
}

static void print_pools(const struct lbc_program *p, FILE *out)
{
    struct strbuf b;
    sb_init(&b);
    char nb[40], nb2[40];

    fprintf(out, "\nstrings (%u)\n", p->nstrs);
    for (uint32_t i = 0; i < p->nstrs; i++) {
        sb_clear(&b);
        put_quoted(&b, p->strs[i] ? p->strs[i] : "");
        fprintf(out, "  s%-5u %s\n", i, b.s);
    }
    fprintf(out, "\nnumbers (%u)\n", p->nnums);
    for (uint32_t i = 0; i < p->nnums; i++) {
        fmt_num(nb, sizeof nb, p->nums[i]);
        fprintf(out, "  k%-5u %s\n", i, nb);
    }
    fprintf(out, "\ntimes (%u)\n", p->ntimes);
    for (uint32_t i = 0; i < p->ntimes; i++)
        fprintf(out, "  t%-5u %" PRId64 " ns\n", i, p->times[i]);
    fprintf(out, "\nshapes (%u, %u samples)\n", p->nshapes, p->nshapedata);
    for (uint32_t i = 0; i < p->nshapes; i++) {
        const struct lbc_shape *s = &p->shapes[i];
        if (s->len == 0 || (uint64_t)s->off + s->len > p->nshapedata) {
            fprintf(out, "  a%-5u %u samples at %u (out of range)\n", i, s->len, s->off);
            continue;
        }
        fmt_num(nb, sizeof nb, p->shapedata[s->off]);
        fmt_num(nb2, sizeof nb2, p->shapedata[s->off + s->len - 1]);
        if (s->len == 1)
            fprintf(out, "  a%-5u 1 sample [%s]\n", i, nb);
        else
            fprintf(out, "  a%-5u %u samples [%s .. %s]\n", i, s->len, nb, nb2);
    }
    fprintf(out, "\ntemplates (%u)\n", p->ntmpls);
    for (uint32_t i = 0; i < p->ntmpls; i++) {
        const struct lbc_tmpl *t = &p->tmpls[i];
        if (t->type >= TMPL__COUNT || t->n != (uint32_t)lbc_tmpl_nfields[t->type]
            || (uint64_t)t->off + t->n > p->nfields) {
            fprintf(out, "  e%-5u ? type %u, %u fields at %u\n", i, t->type, t->n, t->off);
            continue;
        }
        sb_clear(&b);
        for (uint32_t k = 0; k < t->n; k++) {
            if (k)
                sb_putc(&b, ' ');
            put_field(&b, p, &lbc_tmpl_fields[t->type][k], &p->fields[t->off + k]);
        }
        fprintf(out, "  e%-5u %-5s %s\n", i, lbc_tmpl_names[t->type], b.s ? b.s : "");
    }
    fprintf(out, "\nloops (%u)\n", p->nloops);
    for (uint32_t i = 0; i < p->nloops; i++) {
        const struct lbc_loop *l = &p->loops[i];
        fprintf(out, "  L%-5u %s ctr=r%d lim=r%d step=r%d\n", i, lbc_str(p, l->name), l->ctr,
                l->lim, l->step);
    }
    sb_fini(&b);
}

static void print_code(const struct lbc_program *p, FILE *out)
{
    struct strbuf b;
    sb_init(&b);
    fprintf(out, "\ncode (%u)\n", p->ncode);
    for (uint32_t pc = 0; pc < p->ncode; pc++) {
        const struct lbc_insn *in = &p->code[pc];
        sb_clear(&b);
        const char *ops = in->op < OP__COUNT ? lbc_ops[in->op].operands : "";
        size_t nops = strlen(ops);
        const int32_t v[3] = { in->a, in->b, in->c };
        for (int k = 0; k < 3; k++) {
            char c = (size_t)k < nops ? ops[k] : '-';
            if (c == '-' && v[k] == 0)
                continue;
            if (b.len)
                sb_putc(&b, ' ');
            put_operand(&b, p, c, v[k]);
        }
        char opname[16];
        if (in->op < OP__COUNT)
            snprintf(opname, sizeof opname, "%s", lbc_ops[in->op].name);
        else
            snprintf(opname, sizeof opname, "?op%u", in->op);

        char loc[300] = "";
        const struct lbc_span *s = p->lines ? &p->lines[pc] : NULL;
        if (s && (s->file != -1 || s->line)) {
            const char *file = s->file == -1 ? "" : lbc_str(p, s->file);
            if (s->line)
                snprintf(loc, sizeof loc, "%s:%u:%u", file, s->line, s->col);
            else
                snprintf(loc, sizeof loc, "%s", file);
        }
        const char *ostr = b.s ? b.s : "";
        if (loc[0])
            fprintf(out, "  %04u  %-9s %-30s ; %s\n", pc, opname, ostr, loc);
        else if (ostr[0])
            fprintf(out, "  %04u  %-9s %s\n", pc, opname, ostr);
        else
            fprintf(out, "  %04u  %s\n", pc, opname);
    }
    sb_fini(&b);
}

/* Writes the listing of p to out. */
void lbc_disasm(const struct lbc_program *p, FILE *out)
{
    print_header(p, out);
    print_params(p, out);
    print_pools(p, out);
    print_code(p, out);
}
