/*
 * ytree: a YAML text parsed into a small tree whose nodes carry their byte
 * spans, for the schema checkers of the scanner descriptions (sysconf.c)
 * and the phantom descriptions (phantom_load.c), which report every problem
 * at its place in the file. libyaml's event parser does the reading; aliases
 * share the anchored node; one document only.
 *
 * It also owns what both checkers do alike: the section walker (a mapping
 * checked against a table of keys, with unknown keys reported with a
 * did-you-mean, duplicates and missing keys), the scalar checks, the split
 * of a "number unit" value, and the file-order sort of the diagnostics.
 * The messages differ between the two kinds of file only where struct
 * ydoc_kind says.
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
    /* the schema's messages */
    int type_code;            /* a mapping, sequence or scalar where another is due */
    int unknown_code;         /* an unknown key */
    int dup_code;             /* a key given twice */
    int missing_code;         /* a required key missing */
    int range_code;           /* a value out of its range */
    const char *the_what;     /* "the system file" */
    const char *map_name;     /* what a mapping is called: "a mapping" */
    const char *seq_name;     /* what a sequence is called: "a list" */
    const char *map_lines;    /* "`key: value` lines" in "must be a mapping of ..." */
    const char *top_prep;     /* "at" or "in" the top level, for keys not names and twice */
    const char *add_prep;     /* "under" or "to": "add `k: v` under gradient:" */
    const char *add_end;      /* ":" or "" after that section's name */
};

/* One file being read: the nodes and strings live in the arena. */
struct ydoc {
    struct diag_ctx *d;
    const struct ydoc_kind *k;
    int file;                 /* the diag registry's index of the text */
    const char *text;
    size_t len;
    uint32_t *cpos;           /* libyaml's character index -> byte offset */
    size_t ncpos;
    struct arena a;
};

/* Register text with d under path and prepare L for a file of kind k (no
   parsing yet). */
void ydoc_init(struct ydoc *L, struct diag_ctx *d, const struct ydoc_kind *kind,
               const char *path, const char *text, size_t len);
/* Free L's nodes and strings. */
void ydoc_fini(struct ydoc *L);

/* Parse L's text into a tree (*root NULL for an empty text). Returns 0, or
   1 with the error reported. */
int ydoc_parse(struct ydoc *L, struct ynode **root);

/* Put the diagnostics of d from index n0 on in the order of their place in
   the file (stable: the schema walks report section by section). */
void ydoc_sort_diags(struct diag_ctx *d, size_t n0);

struct span yspan(const struct ydoc *L, uint32_t start, uint32_t end);
struct span ynspan(const struct ydoc *L, const struct ynode *n);

/* YAML's null: an empty plain scalar (`key:` with nothing after it). */
bool ynull(const struct ynode *n);

/* What a node is, for messages: "a mapping", "a list", "nothing", "a
   single value" (the mapping's and list's names from L's kind). */
const char *ykind_name(const struct ydoc *L, const struct ynode *n);

/* The last part of a key path: "radius" of "objects[2].radius". */
const char *ykey_leaf(const char *path);

/* Report that v, the value of key, is not a scalar with a value: "KEY has
   no value" or "KEY must be WHAT, not ...", with `leaf: example` as help. */
void yreport_not_scalar(struct ydoc *L, const struct ynode *v, const char *key,
                        const char *what, const char *example);

/* Whether v is a scalar with a value; reported (yreport_not_scalar) if not. */
bool yscalar(struct ydoc *L, const struct ynode *v, const char *key, const char *what,
             const char *example);

/* A value written "number unit", blanks trimmed: offsets into v->str. */
struct yquantity {
    size_t num, nnum;         /* the number */
    size_t unit, nunit;       /* the unit (nunit 0: none) */
    struct span uspan;        /* the unit's span, or the value's if the text
                                 does not hold it verbatim */
};

/* Split scalar v into number and unit (base/units.h unit_number_len).
   false if it does not start with a number (nothing reported). */
bool yquantity_split(const struct ydoc *L, const struct ynode *v, struct yquantity *q);

/* Whether x, the value of key given at v, lies in [lo, hi] ((lo, hi] if
   lo_open); if not, report it ("KEY must be positive, not X", "KEY X is
   out of range") with the bounds as fmt writes a value of kind. The help
   names the key's leaf if help_leaf, else the whole key. */
bool yin_range(struct ydoc *L, const struct ynode *v, const char *key, bool help_leaf, double x,
               double lo, double hi, bool lo_open,
               void (*fmt)(double si, int kind, char *buf, size_t n), int kind);

/* ---------------------------------------------------- the section walker */

#define YSEC_MAX 16

/* One mapping of a schema: where it is, its valid keys, what was found. */
struct ysec {
    char where[96];           /* "gradient", "tissues.water"; "" at the top */
    const struct ynode *key;  /* the section's key in its parent, NULL at the top */
    const struct ynode *map;
    const char *const *names; /* the valid keys, at most YSEC_MAX */
    size_t n;
    const struct ynode *k[YSEC_MAX], *v[YSEC_MAX];
    bool typo[YSEC_MAX];      /* an unknown key looks like this one: not "missing" too */
};

/* Open the mapping m as a section with the given keys: unknown (with a
   did-you-mean), duplicate and non-scalar keys are reported. Returns false
   (reported) if m is not a mapping. */
bool ysec_open(struct ydoc *L, struct ysec *s, const char *where, const struct ynode *key,
               const struct ynode *m, const char *const *names, size_t n);

/* The index of key among the section's names, or -1. */
int ysec_index(const struct ysec *s, const char *key);
/* The value given for key, or NULL. */
const struct ynode *ysec_val(const struct ysec *s, const char *key);
/* The key node of key as written, or NULL. */
const struct ynode *ysec_key(const struct ysec *s, const char *key);

/* The full name of a key: "gradient.raster". */
void ysec_path(const struct ysec *s, const char *key, char *buf, size_t n);

/* Report that the section has no key (unless an unknown key looked like
   it), with `key: example` as help. */
void ysec_missing(struct ydoc *L, const struct ysec *s, const char *key, const char *example);

#endif
