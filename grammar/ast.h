/*
 * ast: the syntax tree the parser builds. Nodes live in the compilation's
 * arena and are freed with it. Every node has a span (byte offsets into its
 * source file); lists are chained through `next` in source order.
 */
#ifndef LARMOR_AST_H
#define LARMOR_AST_H

#include <stdbool.h>
#include <stdint.h>

#include "base/diag.h"
#include "base/units.h"
#include "base/util.h"

enum node_kind {
    /* expressions */
    N_NUM,       /* num (SI) with dim; is_time: ns holds the value */
    N_STR,       /* str */
    N_BOOL,      /* op = 0/1 */
    N_IDENT,     /* name */
    N_FIELD,     /* a . name */
    N_INDEX,     /* a [ b ] */
    N_CALL,      /* a ( list: N_ARG ) */
    N_ARG,       /* name (or NULL) = a */
    N_UNOP,      /* op a */
    N_BINOP,     /* a op b */
    N_IFEXPR,    /* if a then b else c */
    N_ARRAY,     /* [ list ] */
    N_COMPREH,   /* [ a for name in b .. c ] */
    N_RECORD,    /* { list: N_RFIELD } */
    N_RFIELD,    /* name : a */
    N_WITH,      /* a with b (b an N_RECORD) */
    /* statements */
    N_IMPORT,    /* name (module), str = alias or NULL */
    N_PARAM,     /* name = a [in b .. c] str=doc */
    N_LET,       /* name = a */
    N_FN,        /* name ( list: N_FNPARAM ) = a | { list2 } */
    N_FNPARAM,   /* name [= a] */
    N_SEQUENCE,  /* { list } */
    N_FOR,       /* for name in a .. b { list } */
    N_IF,        /* if a { list } else { list2 } (else-if: list2 holds one N_IF) */
    N_BLOCK,     /* block [name] [align op = a] { list: items } */
    N_EV_RF,     /* rf a */
    N_EV_GRAD,   /* grad name(axis) a */
    N_EV_ADC,    /* adc a */
    N_EV_TRIG,   /* trigger a */
    N_EV_LABEL,  /* label name = a (op 0) | name += a (op 1) */
    N_EV_DUR,    /* duration a */
    N_DELAY,     /* delay a */
    N_WAIT,      /* wait until a */
    N_RETURN,    /* return a */
    N_EXPRSTMT,  /* a */
    N_ASSERT,    /* assert a [, str] */
    N__COUNT
};

/* Operators (N_UNOP / N_BINOP op field). */
enum {
    OPR_ADD = 1, OPR_SUB, OPR_MUL, OPR_DIV, OPR_MOD, OPR_POW,
    OPR_EQ, OPR_NE, OPR_LT, OPR_LE, OPR_GT, OPR_GE, OPR_AND, OPR_OR,
    OPR_NEG, OPR_NOT,
};

struct node {
    enum node_kind kind;
    struct span span;
    struct node *next;
    const char *name;
    struct span name_span;
    struct node *a, *b, *c;
    struct node *list, *list2;
    int op;
    /* N_NUM */
    double num;
    int64_t ns;
    struct dim dim;
    bool is_time;
    const char *unit;     /* the unit as written, or NULL */
    const char *str;
};

struct node *ast_new(struct arena *a, enum node_kind k, struct span sp);
const char *ast_op_name(int op);

/* Parse a whole source file (already registered in d as `file`) into a list
   of top-level statements. Syntax errors go to d; the parser recovers and
   reports several. Returns the list head (may be partial on errors). */
struct node *parse_file(struct arena *a, struct diag_ctx *d, int file);

/* Parse a single expression starting at byte `offset` of a registered file
   (for -D name=value); NULL on error. */
struct node *parse_expr_text(struct arena *a, struct diag_ctx *d, int file, uint32_t offset);

#endif
