/*
 * ytree: a YAML text parsed into a small tree whose nodes carry their byte
 * spans, for the schema checkers of the scanner descriptions (sysconf.c)
 * and the phantom descriptions (phantom_load.c), which report every problem
 * at its place in the file. libyaml's event parser does the reading; aliases
 * share the anchored node; one document only.
 */
#ifndef LARMOR_YTREE_H
#define LARMOR_YTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "base/util.h"

enum ykind { YK_SCALAR, YK_SEQ, YK_MAP };

struct ynode {
    enum ykind kind;
    uint32_t start, end;      /* byte offsets of the node in the text */
    const char *str;          /* a scalar's value, NUL-terminated */
    size_t len;
    bool plain;               /* plain style: an empty plain scalar is YAML's null */
    uint32_t vstart;          /* offset of str's first byte if the text holds it
                                 verbatim (sub-spans for units), else UINT32_MAX */
    struct ynode **kids;      /* sequence items, or mapping keys and values alternating */
    size_t nkids;
};

/* What the messages say about the kind of file, and their codes. */
struct ydoc_kind {
    int syntax_code;          /* a YAML syntax error */
    int structure_code;       /* a second document, nesting too deep, an unknown alias */
    int max_depth;
    const char *what;         /* "a system file" */
    const char *syntax_help;  /* the help under a syntax error */
    const char *second_doc_help;
    const char *depth_help;
};

/* One file being read: the nodes and strings live in the arena. */
struct ydoc {
    struct diag_ctx *d;
    int file;                 /* the diag registry's index of the text */
    const char *text;
    size_t len;
    uint32_t *cpos;           /* libyaml's character index -> byte offset */
    size_t ncpos;
    struct arena a;
};

/* Register text with d under path and prepare L (no parsing yet). */
void ydoc_init(struct ydoc *L, struct diag_ctx *d, const char *path, const char *text,
               size_t len);
void ydoc_fini(struct ydoc *L);

/* Parse L's text into a tree (*root NULL for an empty text). Returns 0, or
   1 with the error reported. */
int ydoc_parse(struct ydoc *L, const struct ydoc_kind *k, struct ynode **root);

struct span yspan(const struct ydoc *L, uint32_t start, uint32_t end);
struct span ynspan(const struct ydoc *L, const struct ynode *n);

/* YAML's null: an empty plain scalar (`key:` with nothing after it). */
bool ynull(const struct ynode *n);

#endif
