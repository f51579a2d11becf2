/*
 * diag: source files, spans and user-facing diagnostics.
 *
 * A span is a pair of byte offsets into one registered source file; line and
 * column are computed only when printing. A diagnostic has a stable code
 * (E0107), a severity, a message, a primary span and optional notes that
 * point elsewhere (where a param or a limit was declared) plus a help line.
 * The diag context owns the source files it has registered.
 */
#ifndef LARMOR_DIAG_H
#define LARMOR_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct span {
    int file;            /* index into the source registry; -1 = none */
    uint32_t start, end; /* byte offsets, end exclusive */
};
#define SPAN_NONE ((struct span){ -1, 0, 0 })

struct src_file {
    char *path;          /* as given by the user or resolved by import */
    char *text;          /* NUL-terminated contents */
    size_t len;
    size_t *line_starts; /* byte offset of each line */
    size_t nlines;
};

enum diag_sev { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE };

struct diag_note {
    struct span span;
    char *msg;
};

struct diag {
    enum diag_sev sev;
    int code;            /* printed as E%04d (errors) or W%04d (warnings) */
    struct span span;
    char *msg;
    char *help;          /* optional, printed as "help: ..." */
    struct diag_note *notes;
    size_t nnotes, capnotes;
};

struct diag_ctx {
    struct src_file **files;
    size_t nfiles, capfiles;
    struct diag **diags;
    size_t ndiags, capdiags;
    int nerrors, nwarnings;
    int max_errors;      /* stop recording errors after this many (0 = 50) */
};

void diag_init(struct diag_ctx *d);
void diag_fini(struct diag_ctx *d);

/* Register a source text (copied); returns its file index. */
int diag_add_file(struct diag_ctx *d, const char *path, const char *text, size_t len);
/* Find an already registered file by path; -1 if none. */
int diag_find_file(const struct diag_ctx *d, const char *path);
const struct src_file *diag_file(const struct diag_ctx *d, int file);

/* 1-based line and column (in bytes) of an offset. */
void diag_linecol(const struct diag_ctx *d, int file, uint32_t off, int *line, int *col);

/* Record a diagnostic; returns it so notes can be attached. */
struct diag *diag_report(struct diag_ctx *d, enum diag_sev sev, int code,
                         struct span span, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
struct diag *diag_error(struct diag_ctx *d, int code, struct span span,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));
struct diag *diag_warning(struct diag_ctx *d, int code, struct span span,
                          const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void diag_note(struct diag *g, struct span span, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_help(struct diag *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Render one diagnostic (gcc style, source line, caret under the span). */
void diag_render(const struct diag_ctx *d, const struct diag *g, FILE *out, bool color);
/* Render all recorded diagnostics, in the order they were reported. */
void diag_print_all(const struct diag_ctx *d, FILE *out, bool color);
/* Drop the diagnostics recorded after the first n, restoring the counts. */
void diag_truncate(struct diag_ctx *d, size_t n, int nerrors, int nwarnings);
/* Drop all recorded diagnostics (files stay registered). */
void diag_clear(struct diag_ctx *d);

/* Whether stderr should get colour: a terminal and NO_COLOR unset. */
bool diag_want_color(FILE *f);

#endif
