/*
 * diag: registry of source files and rendering of diagnostics in the
 * gcc style with the source line and a caret line under the whole span.
 */
#include "base/diag.h"
#include "base/util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void diag_init(struct diag_ctx *d)
{
    memset(d, 0, sizeof *d);
}

static void diag_free_one(struct diag *g)
{
    for (size_t i = 0; i < g->nnotes; i++)
        free(g->notes[i].msg);
    free(g->notes);
    free(g->msg);
    free(g->help);
    free(g);
}

void diag_truncate(struct diag_ctx *d, size_t n, int nerrors, int nwarnings)
{
    for (size_t i = n; i < d->ndiags; i++)
        diag_free_one(d->diags[i]);
    if (n < d->ndiags)
        d->ndiags = n;
    d->nerrors = nerrors;
    d->nwarnings = nwarnings;
}

void diag_clear(struct diag_ctx *d)
{
    for (size_t i = 0; i < d->ndiags; i++)
        diag_free_one(d->diags[i]);
    d->ndiags = 0;
    d->nerrors = d->nwarnings = 0;
}

void diag_fini(struct diag_ctx *d)
{
    diag_clear(d);
    free(d->diags);
    for (size_t i = 0; i < d->nfiles; i++) {
        free(d->files[i]->path);
        free(d->files[i]->text);
        free(d->files[i]->line_starts);
        free(d->files[i]);
    }
    free(d->files);
    memset(d, 0, sizeof *d);
}

int diag_add_file(struct diag_ctx *d, const char *path, const char *text, size_t len)
{
    struct src_file *f = xcalloc(1, sizeof *f);
    f->path = xstrdup(path);
    f->text = xstrndup(text, len);
    f->len = len;
    size_t cap = 0;
    VEC_PUSH(f->line_starts, f->nlines, cap, 0);
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n' && i + 1 <= len)
            VEC_PUSH(f->line_starts, f->nlines, cap, i + 1);
    VEC_PUSH(d->files, d->nfiles, d->capfiles, f);
    return (int)d->nfiles - 1;
}

int diag_find_file(const struct diag_ctx *d, const char *path)
{
    for (size_t i = 0; i < d->nfiles; i++)
        if (strcmp(d->files[i]->path, path) == 0)
            return (int)i;
    return -1;
}

const struct src_file *diag_file(const struct diag_ctx *d, int file)
{
    if (file < 0 || (size_t)file >= d->nfiles)
        return NULL;
    return d->files[file];
}

static size_t line_index(const struct src_file *f, uint32_t off)
{
    size_t lo = 0, hi = f->nlines;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (f->line_starts[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

void diag_linecol(const struct diag_ctx *d, int file, uint32_t off, int *line, int *col)
{
    const struct src_file *f = diag_file(d, file);
    if (!f) {
        *line = *col = 0;
        return;
    }
    if (off > f->len)
        off = (uint32_t)f->len;
    size_t li = line_index(f, off);
    *line = (int)li + 1;
    *col = (int)(off - f->line_starts[li]) + 1;
}

static struct diag *vreport(struct diag_ctx *d, enum diag_sev sev, int code,
                            struct span span, const char *fmt, va_list ap)
{
    struct diag *g = xcalloc(1, sizeof *g);
    g->sev = sev;
    g->code = code;
    g->span = span;
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    g->msg = xmalloc((size_t)n + 1);
    vsnprintf(g->msg, (size_t)n + 1, fmt, ap);
    if (sev == DIAG_ERROR)
        d->nerrors++;
    else if (sev == DIAG_WARNING)
        d->nwarnings++;
    VEC_PUSH(d->diags, d->ndiags, d->capdiags, g);
    return g;
}

struct diag *diag_report(struct diag_ctx *d, enum diag_sev sev, int code,
                         struct span span, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct diag *g = vreport(d, sev, code, span, fmt, ap);
    va_end(ap);
    return g;
}

struct diag *diag_error(struct diag_ctx *d, int code, struct span span, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct diag *g = vreport(d, DIAG_ERROR, code, span, fmt, ap);
    va_end(ap);
    return g;
}

struct diag *diag_warning(struct diag_ctx *d, int code, struct span span, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct diag *g = vreport(d, DIAG_WARNING, code, span, fmt, ap);
    va_end(ap);
    return g;
}

void diag_note(struct diag *g, struct span span, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    struct diag_note note = { span, xmalloc((size_t)n + 1) };
    va_start(ap, fmt);
    vsnprintf(note.msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
    VEC_PUSH(g->notes, g->nnotes, g->capnotes, note);
}

void diag_help(struct diag *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    free(g->help);
    g->help = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(g->help, (size_t)n + 1, fmt, ap);
    va_end(ap);
}

bool diag_want_color(FILE *f)
{
    const char *nc = getenv("NO_COLOR");
    if (nc && *nc)
        return false;
    return isatty(fileno(f));
}

#define C_RED "\033[1;31m"
#define C_MAG "\033[1;35m"
#define C_CYN "\033[1;36m"
#define C_BLD "\033[1m"
#define C_GRN "\033[1;32m"
#define C_OFF "\033[0m"

/* Print the source line holding span.start and a caret line under the span. */
static void render_snippet(const struct diag_ctx *d, struct span sp, FILE *out,
                           bool color, const char *caretcol)
{
    const struct src_file *f = diag_file(d, sp.file);
    if (!f)
        return;
    uint32_t start = sp.start > f->len ? (uint32_t)f->len : sp.start;
    size_t li = line_index(f, start);
    size_t ls = f->line_starts[li];
    size_t le = ls;
    while (le < f->len && f->text[le] != '\n' && f->text[le] != '\r')
        le++;
    uint32_t end = sp.end < start ? start : sp.end;
    if (end > le)
        end = (uint32_t)le;
    fprintf(out, "%5zu | %.*s\n", li + 1, (int)(le - ls), f->text + ls);
    fprintf(out, "      | ");
    for (size_t i = ls; i < start; i++)
        fputc(f->text[i] == '\t' ? '\t' : ' ', out);
    if (color)
        fputs(caretcol, out);
    fputc('^', out);
    for (uint32_t i = start + 1; i < end; i++)
        fputc('~', out);
    if (color)
        fputs(C_OFF, out);
    fputc('\n', out);
}

static void render_loc(const struct diag_ctx *d, struct span sp, FILE *out, bool color)
{
    const struct src_file *f = diag_file(d, sp.file);
    if (!f) {
        fprintf(out, "%slarmor:%s ", color ? C_BLD : "", color ? C_OFF : "");
        return;
    }
    int line, col;
    diag_linecol(d, sp.file, sp.start, &line, &col);
    fprintf(out, "%s%s:%d:%d:%s ", color ? C_BLD : "", f->path, line, col, color ? C_OFF : "");
}

void diag_render(const struct diag_ctx *d, const struct diag *g, FILE *out, bool color)
{
    const char *sev = g->sev == DIAG_ERROR ? "error" : g->sev == DIAG_WARNING ? "warning" : "note";
    const char *col = g->sev == DIAG_ERROR ? C_RED : g->sev == DIAG_WARNING ? C_MAG : C_CYN;
    render_loc(d, g->span, out, color);
    if (g->code)
        fprintf(out, "%s%s[%c%04d]:%s %s\n", color ? col : "", sev,
                g->sev == DIAG_WARNING ? 'W' : 'E', g->code, color ? C_OFF : "", g->msg);
    else
        fprintf(out, "%s%s:%s %s\n", color ? col : "", sev, color ? C_OFF : "", g->msg);
    render_snippet(d, g->span, out, color, col);
    for (size_t i = 0; i < g->nnotes; i++) {
        const struct diag_note *n = &g->notes[i];
        if (diag_file(d, n->span.file)) {
            render_loc(d, n->span, out, color);
            fprintf(out, "%snote:%s %s\n", color ? C_CYN : "", color ? C_OFF : "", n->msg);
            render_snippet(d, n->span, out, color, C_CYN);
        } else {
            fprintf(out, "%snote:%s %s\n", color ? C_CYN : "", color ? C_OFF : "", n->msg);
        }
    }
    if (g->help)
        fprintf(out, "%shelp:%s %s\n", color ? C_GRN : "", color ? C_OFF : "", g->help);
}

void diag_print_all(const struct diag_ctx *d, FILE *out, bool color)
{
    for (size_t i = 0; i < d->ndiags; i++)
        diag_render(d, d->diags[i], out, color);
}
