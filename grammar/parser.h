/* A Bison parser, made by GNU Bison 3.8.2.  */

/* Bison interface for Yacc-like parsers in C

   Copyright (C) 1984, 1989-1990, 2000-2015, 2018-2021 Free Software Foundation,
   Inc.

   This program is free software: you can redistribute it and/or modify
   it under the terms of the GNU General Public License as published by
   the Free Software Foundation, either version 3 of the License, or
   (at your option) any later version.

   This program is distributed in the hope that it will be useful,
   but WITHOUT ANY WARRANTY; without even the implied warranty of
   MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
   GNU General Public License for more details.

   You should have received a copy of the GNU General Public License
   along with this program.  If not, see <https://www.gnu.org/licenses/>.  */

/* As a special exception, you may create a larger work that contains
   part or all of the Bison parser skeleton and distribute that work
   under terms of your choice, so long as that work isn't itself a
   parser generator using the skeleton or a modified version thereof
   as a parser skeleton.  Alternatively, if you modify or redistribute
   the parser skeleton itself, you may (at your option) remove this
   special exception, which will cause the skeleton and the resulting
   Bison output files to be licensed under the GNU General Public
   License without this special exception.

   This special exception was added by the Free Software Foundation in
   version 2.2 of Bison.  */

/* DO NOT RELY ON FEATURES THAT ARE NOT DOCUMENTED in the manual,
   especially those whose name start with YY_ or yy_.  They are
   private implementation details that can be changed or removed.  */

#ifndef YY_LX_GRAMMAR_PARSER_H_INCLUDED
# define YY_LX_GRAMMAR_PARSER_H_INCLUDED
/* Debug traces.  */
#ifndef LX_DEBUG
# if defined YYDEBUG
#if YYDEBUG
#   define LX_DEBUG 1
#  else
#   define LX_DEBUG 0
#  endif
# else /* ! defined YYDEBUG */
#  define LX_DEBUG 0
# endif /* ! defined YYDEBUG */
#endif  /* ! defined LX_DEBUG */
#if LX_DEBUG
extern int lx_debug;
#endif
/* "%code requires" blocks.  */
#line 15 "./grammar/parser.y"

#include <stdint.h>
#include "grammar/ast.h"
#include "grammar/lexer.h"
typedef void *yyscan_t;
struct nlist { struct node *head, *tail; };
typedef struct lx_loc { uint32_t start, end; } LX_LTYPE;
#define LX_LTYPE_IS_DECLARED 1
#define YYLLOC_DEFAULT(Cur, Rhs, N) do { \
        if (N) { (Cur).start = YYRHSLOC(Rhs, 1).start; (Cur).end = YYRHSLOC(Rhs, N).end; } \
        else { (Cur).start = (Cur).end = YYRHSLOC(Rhs, 0).end; } } while (0)

#line 70 "./grammar/parser.h"

/* Token kinds.  */
#ifndef LX_TOKENTYPE
# define LX_TOKENTYPE
  enum lx_tokentype
  {
    LX_EMPTY = -2,
    LX_EOF = 0,                    /* "end of file"  */
    LX_error = 256,                /* error  */
    LX_UNDEF = 257,                /* "invalid token"  */
    START_EXPR = 258,              /* "start of expression"  */
    IDENT = 259,                   /* "identifier"  */
    NUMBER = 260,                  /* "number"  */
    STRING = 261,                  /* "string"  */
    IMPORT = 262,                  /* "'import'"  */
    AS = 263,                      /* "'as'"  */
    PARAM = 264,                   /* "'param'"  */
    IN = 265,                      /* "'in'"  */
    LET = 266,                     /* "'let'"  */
    FN = 267,                      /* "'fn'"  */
    SEQUENCE = 268,                /* "'sequence'"  */
    FOR = 269,                     /* "'for'"  */
    IF = 270,                      /* "'if'"  */
    THEN = 271,                    /* "'then'"  */
    ELSE = 272,                    /* "'else'"  */
    BLOCK = 273,                   /* "'block'"  */
    ALIGN = 274,                   /* "'align'"  */
    WAIT = 275,                    /* "'wait'"  */
    UNTIL = 276,                   /* "'until'"  */
    RETURN = 277,                  /* "'return'"  */
    TRUE = 278,                    /* "'true'"  */
    FALSE = 279,                   /* "'false'"  */
    AND = 280,                     /* "'and'"  */
    OR = 281,                      /* "'or'"  */
    NOT = 282,                     /* "'not'"  */
    WITH = 283,                    /* "'with'"  */
    ASSERT = 284,                  /* "'assert'"  */
    RF = 285,                      /* "'rf'"  */
    GRAD = 286,                    /* "'grad'"  */
    ADC = 287,                     /* "'adc'"  */
    LABEL = 288,                   /* "'label'"  */
    DOTDOT = 289,                  /* "'..'"  */
    EQ = 290,                      /* "'=='"  */
    NE = 291,                      /* "'!='"  */
    LE = 292,                      /* "'<='"  */
    GE = 293,                      /* "'>='"  */
    PLUSEQ = 294,                  /* "'+='"  */
    UMINUS = 295                   /* UMINUS  */
  };
  typedef enum lx_tokentype lx_token_kind_t;
#endif

/* Value type.  */
#if ! defined LX_STYPE && ! defined LX_STYPE_IS_DECLARED
union LX_STYPE
{
#line 87 "./grammar/parser.y"

    struct node *node;
    const char *str;
    struct nlist list;

#line 133 "./grammar/parser.h"

};
typedef union LX_STYPE LX_STYPE;
# define LX_STYPE_IS_TRIVIAL 1
# define LX_STYPE_IS_DECLARED 1
#endif

/* Location type.  */
#if ! defined LX_LTYPE && ! defined LX_LTYPE_IS_DECLARED
typedef struct LX_LTYPE LX_LTYPE;
struct LX_LTYPE
{
  int first_line;
  int first_column;
  int last_line;
  int last_column;
};
# define LX_LTYPE_IS_DECLARED 1
# define LX_LTYPE_IS_TRIVIAL 1
#endif




int lx_parse (yyscan_t scanner, struct lex_state *st);

/* "%code provides" blocks.  */
#line 28 "./grammar/parser.y"

int lx_lex(LX_STYPE *lval, LX_LTYPE *lloc, yyscan_t scanner);

#line 165 "./grammar/parser.h"

#endif /* !YY_LX_GRAMMAR_PARSER_H_INCLUDED  */
