/*
 * lexer: state shared between the flex scanner and the bison parser.
 */
#ifndef LARMOR_LEXER_H
#define LARMOR_LEXER_H

#include "grammar/ast.h"

struct lex_state {
    struct arena *arena;
    struct diag_ctx *diag;
    int file;
    uint32_t off;        /* byte offset of the next character */
    struct node *result; /* the parse result */
    int expr_mode;       /* 1: parse a single expression */
    int first_token;     /* expr_mode: the START_EXPR token not yet sent */
    /* parser scratch (mid-rule values) */
    const char *pending_msg;
    const char *pending_name;
    int pending_anchor;
};

#endif
