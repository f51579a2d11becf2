/* A Bison parser, made by GNU Bison 3.8.2.  */

/* Bison implementation for Yacc-like parsers in C

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

/* C LALR(1) parser skeleton written by Richard Stallman, by
   simplifying the original so-called "semantic" parser.  */

/* DO NOT RELY ON FEATURES THAT ARE NOT DOCUMENTED in the manual,
   especially those whose name start with YY_ or yy_.  They are
   private implementation details that can be changed or removed.  */

/* All symbols defined below should begin with yy or YY, to avoid
   infringing on user name space.  This should be done even for local
   variables, as they might otherwise be expanded by user macros.
   There are some unavoidable exceptions within include files to
   define necessary library symbols; they are noted "INFRINGES ON
   USER NAME SPACE" below.  */

/* Identify Bison output, and Bison version.  */
#define YYBISON 30802

/* Bison version string.  */
#define YYBISON_VERSION "3.8.2"

/* Skeleton name.  */
#define YYSKELETON_NAME "yacc.c"

/* Pure parsers.  */
#define YYPURE 2

/* Push parsers.  */
#define YYPUSH 0

/* Pull parsers.  */
#define YYPULL 1

/* Substitute the type names.  */
#define YYSTYPE         LX_STYPE
#define YYLTYPE         LX_LTYPE
/* Substitute the variable and function names.  */
#define yyparse         lx_parse
#define yylex           lx_lex
#define yyerror         lx_error
#define yydebug         lx_debug
#define yynerrs         lx_nerrs


# ifndef YY_CAST
#  ifdef __cplusplus
#   define YY_CAST(Type, Val) static_cast<Type> (Val)
#   define YY_REINTERPRET_CAST(Type, Val) reinterpret_cast<Type> (Val)
#  else
#   define YY_CAST(Type, Val) ((Type) (Val))
#   define YY_REINTERPRET_CAST(Type, Val) ((Type) (Val))
#  endif
# endif
# ifndef YY_NULLPTR
#  if defined __cplusplus
#   if 201103L <= __cplusplus
#    define YY_NULLPTR nullptr
#   else
#    define YY_NULLPTR 0
#   endif
#  else
#   define YY_NULLPTR ((void*)0)
#  endif
# endif

#include "parser.h"
/* Symbol kind.  */
enum yysymbol_kind_t
{
  YYSYMBOL_YYEMPTY = -2,
  YYSYMBOL_YYEOF = 0,                      /* "end of file"  */
  YYSYMBOL_YYerror = 1,                    /* error  */
  YYSYMBOL_YYUNDEF = 2,                    /* "invalid token"  */
  YYSYMBOL_START_EXPR = 3,                 /* "start of expression"  */
  YYSYMBOL_IDENT = 4,                      /* "identifier"  */
  YYSYMBOL_NUMBER = 5,                     /* "number"  */
  YYSYMBOL_STRING = 6,                     /* "string"  */
  YYSYMBOL_IMPORT = 7,                     /* "'import'"  */
  YYSYMBOL_AS = 8,                         /* "'as'"  */
  YYSYMBOL_PARAM = 9,                      /* "'param'"  */
  YYSYMBOL_IN = 10,                        /* "'in'"  */
  YYSYMBOL_LET = 11,                       /* "'let'"  */
  YYSYMBOL_FN = 12,                        /* "'fn'"  */
  YYSYMBOL_SEQUENCE = 13,                  /* "'sequence'"  */
  YYSYMBOL_FOR = 14,                       /* "'for'"  */
  YYSYMBOL_IF = 15,                        /* "'if'"  */
  YYSYMBOL_THEN = 16,                      /* "'then'"  */
  YYSYMBOL_ELSE = 17,                      /* "'else'"  */
  YYSYMBOL_BLOCK = 18,                     /* "'block'"  */
  YYSYMBOL_ALIGN = 19,                     /* "'align'"  */
  YYSYMBOL_WAIT = 20,                      /* "'wait'"  */
  YYSYMBOL_UNTIL = 21,                     /* "'until'"  */
  YYSYMBOL_RETURN = 22,                    /* "'return'"  */
  YYSYMBOL_TRUE = 23,                      /* "'true'"  */
  YYSYMBOL_FALSE = 24,                     /* "'false'"  */
  YYSYMBOL_AND = 25,                       /* "'and'"  */
  YYSYMBOL_OR = 26,                        /* "'or'"  */
  YYSYMBOL_NOT = 27,                       /* "'not'"  */
  YYSYMBOL_WITH = 28,                      /* "'with'"  */
  YYSYMBOL_ASSERT = 29,                    /* "'assert'"  */
  YYSYMBOL_RF = 30,                        /* "'rf'"  */
  YYSYMBOL_GRAD = 31,                      /* "'grad'"  */
  YYSYMBOL_ADC = 32,                       /* "'adc'"  */
  YYSYMBOL_LABEL = 33,                     /* "'label'"  */
  YYSYMBOL_DOTDOT = 34,                    /* "'..'"  */
  YYSYMBOL_EQ = 35,                        /* "'=='"  */
  YYSYMBOL_NE = 36,                        /* "'!='"  */
  YYSYMBOL_LE = 37,                        /* "'<='"  */
  YYSYMBOL_GE = 38,                        /* "'>='"  */
  YYSYMBOL_PLUSEQ = 39,                    /* "'+='"  */
  YYSYMBOL_40_ = 40,                       /* '<'  */
  YYSYMBOL_41_ = 41,                       /* '>'  */
  YYSYMBOL_42_ = 42,                       /* '+'  */
  YYSYMBOL_43_ = 43,                       /* '-'  */
  YYSYMBOL_44_ = 44,                       /* '*'  */
  YYSYMBOL_45_ = 45,                       /* '/'  */
  YYSYMBOL_46_ = 46,                       /* '%'  */
  YYSYMBOL_UMINUS = 47,                    /* UMINUS  */
  YYSYMBOL_48_ = 48,                       /* '^'  */
  YYSYMBOL_49_ = 49,                       /* ';'  */
  YYSYMBOL_50_ = 50,                       /* '='  */
  YYSYMBOL_51_ = 51,                       /* '('  */
  YYSYMBOL_52_ = 52,                       /* ')'  */
  YYSYMBOL_53_ = 53,                       /* ','  */
  YYSYMBOL_54_ = 54,                       /* '{'  */
  YYSYMBOL_55_ = 55,                       /* '}'  */
  YYSYMBOL_56_ = 56,                       /* '.'  */
  YYSYMBOL_57_ = 57,                       /* '['  */
  YYSYMBOL_58_ = 58,                       /* ']'  */
  YYSYMBOL_59_ = 59,                       /* ':'  */
  YYSYMBOL_YYACCEPT = 60,                  /* $accept  */
  YYSYMBOL_file = 61,                      /* file  */
  YYSYMBOL_topstmts = 62,                  /* topstmts  */
  YYSYMBOL_topstmt = 63,                   /* topstmt  */
  YYSYMBOL_opt_assert_msg = 64,            /* opt_assert_msg  */
  YYSYMBOL_importlist = 65,                /* importlist  */
  YYSYMBOL_modname = 66,                   /* modname  */
  YYSYMBOL_opt_doc = 67,                   /* opt_doc  */
  YYSYMBOL_fnparams = 68,                  /* fnparams  */
  YYSYMBOL_fnparams1 = 69,                 /* fnparams1  */
  YYSYMBOL_fnparam = 70,                   /* fnparam  */
  YYSYMBOL_opt_default = 71,               /* opt_default  */
  YYSYMBOL_body = 72,                      /* body  */
  YYSYMBOL_stmts = 73,                     /* stmts  */
  YYSYMBOL_stmt = 74,                      /* stmt  */
  YYSYMBOL_anchor = 75,                    /* anchor  */
  YYSYMBOL_ifstmt = 76,                    /* ifstmt  */
  YYSYMBOL_items = 77,                     /* items  */
  YYSYMBOL_item = 78,                      /* item  */
  YYSYMBOL_name = 79,                      /* name  */
  YYSYMBOL_fieldname = 80,                 /* fieldname  */
  YYSYMBOL_expr = 81,                      /* expr  */
  YYSYMBOL_unary = 82,                     /* unary  */
  YYSYMBOL_postfix = 83,                   /* postfix  */
  YYSYMBOL_primary = 84,                   /* primary  */
  YYSYMBOL_exprs = 85,                     /* exprs  */
  YYSYMBOL_exprs1 = 86,                    /* exprs1  */
  YYSYMBOL_args = 87,                      /* args  */
  YYSYMBOL_args1 = 88,                     /* args1  */
  YYSYMBOL_arg = 89,                       /* arg  */
  YYSYMBOL_rfields = 90,                   /* rfields  */
  YYSYMBOL_rfields1 = 91,                  /* rfields1  */
  YYSYMBOL_rfield = 92                     /* rfield  */
};
typedef enum yysymbol_kind_t yysymbol_kind_t;



/* Unqualified %code blocks.  */
#line 32 "./grammar/parser.y"

#include <string.h>

static struct span SP(struct lex_state *st, LX_LTYPE l)
{
    return (struct span){ st->file, l.start, l.end };
}

static struct node *mk(struct lex_state *st, enum node_kind k, LX_LTYPE l)
{
    return ast_new(st->arena, k, SP(st, l));
}

static struct node *bin(struct lex_state *st, int op, struct node *a, struct node *b, LX_LTYPE l)
{
    struct node *n = mk(st, N_BINOP, l);
    n->op = op;
    n->a = a;
    n->b = b;
    return n;
}

static struct nlist one(struct node *n)
{
    struct nlist l = { n, n };
    return l;
}

static struct nlist append(struct nlist l, struct node *n)
{
    if (!n)
        return l;
    if (!l.head)
        l.head = n;
    else
        l.tail->next = n;
    l.tail = n;
    while (l.tail->next)   /* n may be a chain (an import list) */
        l.tail = l.tail->next;
    return l;
}

static struct nlist none(void)
{
    struct nlist l = { NULL, NULL };
    return l;
}

static void lx_error(LX_LTYPE *loc, yyscan_t scanner, struct lex_state *st, const char *msg)
{
    (void)scanner;
    diag_error(st->diag, 100, SP(st, *loc), "%s", msg);
}

#line 258 "./grammar/parser.c"

#ifdef short
# undef short
#endif

/* On compilers that do not define __PTRDIFF_MAX__ etc., make sure
   <limits.h> and (if available) <stdint.h> are included
   so that the code can choose integer types of a good width.  */

#ifndef __PTRDIFF_MAX__
# include <limits.h> /* INFRINGES ON USER NAME SPACE */
# if defined __STDC_VERSION__ && 199901 <= __STDC_VERSION__
#  include <stdint.h> /* INFRINGES ON USER NAME SPACE */
#  define YY_STDINT_H
# endif
#endif

/* Narrow types that promote to a signed type and that can represent a
   signed or unsigned integer of at least N bits.  In tables they can
   save space and decrease cache pressure.  Promoting to a signed type
   helps avoid bugs in integer arithmetic.  */

#ifdef __INT_LEAST8_MAX__
typedef __INT_LEAST8_TYPE__ yytype_int8;
#elif defined YY_STDINT_H
typedef int_least8_t yytype_int8;
#else
typedef signed char yytype_int8;
#endif

#ifdef __INT_LEAST16_MAX__
typedef __INT_LEAST16_TYPE__ yytype_int16;
#elif defined YY_STDINT_H
typedef int_least16_t yytype_int16;
#else
typedef short yytype_int16;
#endif

/* Work around bug in HP-UX 11.23, which defines these macros
   incorrectly for preprocessor constants.  This workaround can likely
   be removed in 2023, as HPE has promised support for HP-UX 11.23
   (aka HP-UX 11i v2) only through the end of 2022; see Table 2 of
   <https://h20195.www2.hpe.com/V2/getpdf.aspx/4AA4-7673ENW.pdf>.  */
#ifdef __hpux
# undef UINT_LEAST8_MAX
# undef UINT_LEAST16_MAX
# define UINT_LEAST8_MAX 255
# define UINT_LEAST16_MAX 65535
#endif

#if defined __UINT_LEAST8_MAX__ && __UINT_LEAST8_MAX__ <= __INT_MAX__
typedef __UINT_LEAST8_TYPE__ yytype_uint8;
#elif (!defined __UINT_LEAST8_MAX__ && defined YY_STDINT_H \
       && UINT_LEAST8_MAX <= INT_MAX)
typedef uint_least8_t yytype_uint8;
#elif !defined __UINT_LEAST8_MAX__ && UCHAR_MAX <= INT_MAX
typedef unsigned char yytype_uint8;
#else
typedef short yytype_uint8;
#endif

#if defined __UINT_LEAST16_MAX__ && __UINT_LEAST16_MAX__ <= __INT_MAX__
typedef __UINT_LEAST16_TYPE__ yytype_uint16;
#elif (!defined __UINT_LEAST16_MAX__ && defined YY_STDINT_H \
       && UINT_LEAST16_MAX <= INT_MAX)
typedef uint_least16_t yytype_uint16;
#elif !defined __UINT_LEAST16_MAX__ && USHRT_MAX <= INT_MAX
typedef unsigned short yytype_uint16;
#else
typedef int yytype_uint16;
#endif

#ifndef YYPTRDIFF_T
# if defined __PTRDIFF_TYPE__ && defined __PTRDIFF_MAX__
#  define YYPTRDIFF_T __PTRDIFF_TYPE__
#  define YYPTRDIFF_MAXIMUM __PTRDIFF_MAX__
# elif defined PTRDIFF_MAX
#  ifndef ptrdiff_t
#   include <stddef.h> /* INFRINGES ON USER NAME SPACE */
#  endif
#  define YYPTRDIFF_T ptrdiff_t
#  define YYPTRDIFF_MAXIMUM PTRDIFF_MAX
# else
#  define YYPTRDIFF_T long
#  define YYPTRDIFF_MAXIMUM LONG_MAX
# endif
#endif

#ifndef YYSIZE_T
# ifdef __SIZE_TYPE__
#  define YYSIZE_T __SIZE_TYPE__
# elif defined size_t
#  define YYSIZE_T size_t
# elif defined __STDC_VERSION__ && 199901 <= __STDC_VERSION__
#  include <stddef.h> /* INFRINGES ON USER NAME SPACE */
#  define YYSIZE_T size_t
# else
#  define YYSIZE_T unsigned
# endif
#endif

#define YYSIZE_MAXIMUM                                  \
  YY_CAST (YYPTRDIFF_T,                                 \
           (YYPTRDIFF_MAXIMUM < YY_CAST (YYSIZE_T, -1)  \
            ? YYPTRDIFF_MAXIMUM                         \
            : YY_CAST (YYSIZE_T, -1)))

#define YYSIZEOF(X) YY_CAST (YYPTRDIFF_T, sizeof (X))


/* Stored state numbers (used for stacks). */
typedef yytype_uint8 yy_state_t;

/* State numbers in computations.  */
typedef int yy_state_fast_t;

#ifndef YY_
# if defined YYENABLE_NLS && YYENABLE_NLS
#  if ENABLE_NLS
#   include <libintl.h> /* INFRINGES ON USER NAME SPACE */
#   define YY_(Msgid) dgettext ("bison-runtime", Msgid)
#  endif
# endif
# ifndef YY_
#  define YY_(Msgid) Msgid
# endif
#endif


#ifndef YY_ATTRIBUTE_PURE
# if defined __GNUC__ && 2 < __GNUC__ + (96 <= __GNUC_MINOR__)
#  define YY_ATTRIBUTE_PURE __attribute__ ((__pure__))
# else
#  define YY_ATTRIBUTE_PURE
# endif
#endif

#ifndef YY_ATTRIBUTE_UNUSED
# if defined __GNUC__ && 2 < __GNUC__ + (7 <= __GNUC_MINOR__)
#  define YY_ATTRIBUTE_UNUSED __attribute__ ((__unused__))
# else
#  define YY_ATTRIBUTE_UNUSED
# endif
#endif

/* Suppress unused-variable warnings by "using" E.  */
#if ! defined lint || defined __GNUC__
# define YY_USE(E) ((void) (E))
#else
# define YY_USE(E) /* empty */
#endif

/* Suppress an incorrect diagnostic about yylval being uninitialized.  */
#if defined __GNUC__ && ! defined __ICC && 406 <= __GNUC__ * 100 + __GNUC_MINOR__
# if __GNUC__ * 100 + __GNUC_MINOR__ < 407
#  define YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN                           \
    _Pragma ("GCC diagnostic push")                                     \
    _Pragma ("GCC diagnostic ignored \"-Wuninitialized\"")
# else
#  define YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN                           \
    _Pragma ("GCC diagnostic push")                                     \
    _Pragma ("GCC diagnostic ignored \"-Wuninitialized\"")              \
    _Pragma ("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")
# endif
# define YY_IGNORE_MAYBE_UNINITIALIZED_END      \
    _Pragma ("GCC diagnostic pop")
#else
# define YY_INITIAL_VALUE(Value) Value
#endif
#ifndef YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN
# define YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN
# define YY_IGNORE_MAYBE_UNINITIALIZED_END
#endif
#ifndef YY_INITIAL_VALUE
# define YY_INITIAL_VALUE(Value) /* Nothing. */
#endif

#if defined __cplusplus && defined __GNUC__ && ! defined __ICC && 6 <= __GNUC__
# define YY_IGNORE_USELESS_CAST_BEGIN                          \
    _Pragma ("GCC diagnostic push")                            \
    _Pragma ("GCC diagnostic ignored \"-Wuseless-cast\"")
# define YY_IGNORE_USELESS_CAST_END            \
    _Pragma ("GCC diagnostic pop")
#endif
#ifndef YY_IGNORE_USELESS_CAST_BEGIN
# define YY_IGNORE_USELESS_CAST_BEGIN
# define YY_IGNORE_USELESS_CAST_END
#endif


#define YY_ASSERT(E) ((void) (0 && (E)))

#if 1

/* The parser invokes alloca or malloc; define the necessary symbols.  */

# ifdef YYSTACK_USE_ALLOCA
#  if YYSTACK_USE_ALLOCA
#   ifdef __GNUC__
#    define YYSTACK_ALLOC __builtin_alloca
#   elif defined __BUILTIN_VA_ARG_INCR
#    include <alloca.h> /* INFRINGES ON USER NAME SPACE */
#   elif defined _AIX
#    define YYSTACK_ALLOC __alloca
#   elif defined _MSC_VER
#    include <malloc.h> /* INFRINGES ON USER NAME SPACE */
#    define alloca _alloca
#   else
#    define YYSTACK_ALLOC alloca
#    if ! defined _ALLOCA_H && ! defined EXIT_SUCCESS
#     include <stdlib.h> /* INFRINGES ON USER NAME SPACE */
      /* Use EXIT_SUCCESS as a witness for stdlib.h.  */
#     ifndef EXIT_SUCCESS
#      define EXIT_SUCCESS 0
#     endif
#    endif
#   endif
#  endif
# endif

# ifdef YYSTACK_ALLOC
   /* Pacify GCC's 'empty if-body' warning.  */
#  define YYSTACK_FREE(Ptr) do { /* empty */; } while (0)
#  ifndef YYSTACK_ALLOC_MAXIMUM
    /* The OS might guarantee only one guard page at the bottom of the stack,
       and a page size can be as small as 4096 bytes.  So we cannot safely
       invoke alloca (N) if N exceeds 4096.  Use a slightly smaller number
       to allow for a few compiler-allocated temporary stack slots.  */
#   define YYSTACK_ALLOC_MAXIMUM 4032 /* reasonable circa 2006 */
#  endif
# else
#  define YYSTACK_ALLOC YYMALLOC
#  define YYSTACK_FREE YYFREE
#  ifndef YYSTACK_ALLOC_MAXIMUM
#   define YYSTACK_ALLOC_MAXIMUM YYSIZE_MAXIMUM
#  endif
#  if (defined __cplusplus && ! defined EXIT_SUCCESS \
       && ! ((defined YYMALLOC || defined malloc) \
             && (defined YYFREE || defined free)))
#   include <stdlib.h> /* INFRINGES ON USER NAME SPACE */
#   ifndef EXIT_SUCCESS
#    define EXIT_SUCCESS 0
#   endif
#  endif
#  ifndef YYMALLOC
#   define YYMALLOC malloc
#   if ! defined malloc && ! defined EXIT_SUCCESS
void *malloc (YYSIZE_T); /* INFRINGES ON USER NAME SPACE */
#   endif
#  endif
#  ifndef YYFREE
#   define YYFREE free
#   if ! defined free && ! defined EXIT_SUCCESS
void free (void *); /* INFRINGES ON USER NAME SPACE */
#   endif
#  endif
# endif
#endif /* 1 */

#if (! defined yyoverflow \
     && (! defined __cplusplus \
         || (defined LX_LTYPE_IS_TRIVIAL && LX_LTYPE_IS_TRIVIAL \
             && defined LX_STYPE_IS_TRIVIAL && LX_STYPE_IS_TRIVIAL)))

/* A type that is properly aligned for any stack member.  */
union yyalloc
{
  yy_state_t yyss_alloc;
  YYSTYPE yyvs_alloc;
  YYLTYPE yyls_alloc;
};

/* The size of the maximum gap between one aligned stack and the next.  */
# define YYSTACK_GAP_MAXIMUM (YYSIZEOF (union yyalloc) - 1)

/* The size of an array large to enough to hold all stacks, each with
   N elements.  */
# define YYSTACK_BYTES(N) \
     ((N) * (YYSIZEOF (yy_state_t) + YYSIZEOF (YYSTYPE) \
             + YYSIZEOF (YYLTYPE)) \
      + 2 * YYSTACK_GAP_MAXIMUM)

# define YYCOPY_NEEDED 1

/* Relocate STACK from its old location to the new one.  The
   local variables YYSIZE and YYSTACKSIZE give the old and new number of
   elements in the stack, and YYPTR gives the new location of the
   stack.  Advance YYPTR to a properly aligned location for the next
   stack.  */
# define YYSTACK_RELOCATE(Stack_alloc, Stack)                           \
    do                                                                  \
      {                                                                 \
        YYPTRDIFF_T yynewbytes;                                         \
        YYCOPY (&yyptr->Stack_alloc, Stack, yysize);                    \
        Stack = &yyptr->Stack_alloc;                                    \
        yynewbytes = yystacksize * YYSIZEOF (*Stack) + YYSTACK_GAP_MAXIMUM; \
        yyptr += yynewbytes / YYSIZEOF (*yyptr);                        \
      }                                                                 \
    while (0)

#endif

#if defined YYCOPY_NEEDED && YYCOPY_NEEDED
/* Copy COUNT objects from SRC to DST.  The source and destination do
   not overlap.  */
# ifndef YYCOPY
#  if defined __GNUC__ && 1 < __GNUC__
#   define YYCOPY(Dst, Src, Count) \
      __builtin_memcpy (Dst, Src, YY_CAST (YYSIZE_T, (Count)) * sizeof (*(Src)))
#  else
#   define YYCOPY(Dst, Src, Count)              \
      do                                        \
        {                                       \
          YYPTRDIFF_T yyi;                      \
          for (yyi = 0; yyi < (Count); yyi++)   \
            (Dst)[yyi] = (Src)[yyi];            \
        }                                       \
      while (0)
#  endif
# endif
#endif /* !YYCOPY_NEEDED */

/* YYFINAL -- State number of the termination state.  */
#define YYFINAL  22
/* YYLAST -- Last index in YYTABLE.  */
#define YYLAST   804

/* YYNTOKENS -- Number of terminals.  */
#define YYNTOKENS  60
/* YYNNTS -- Number of nonterminals.  */
#define YYNNTS  33
/* YYNRULES -- Number of rules.  */
#define YYNRULES  127
/* YYNSTATES -- Number of states.  */
#define YYNSTATES  245

/* YYMAXUTOK -- Last valid token kind.  */
#define YYMAXUTOK   295


/* YYTRANSLATE(TOKEN-NUM) -- Symbol number corresponding to TOKEN-NUM
   as returned by yylex, with out-of-bounds checking.  */
#define YYTRANSLATE(YYX)                                \
  (0 <= (YYX) && (YYX) <= YYMAXUTOK                     \
   ? YY_CAST (yysymbol_kind_t, yytranslate[YYX])        \
   : YYSYMBOL_YYUNDEF)

/* YYTRANSLATE[TOKEN-NUM] -- Symbol number corresponding to TOKEN-NUM
   as returned by yylex.  */
static const yytype_int8 yytranslate[] =
{
       0,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,    46,     2,     2,
      51,    52,    44,    42,    53,    43,    56,    45,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,    59,    49,
      40,    50,    41,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,    57,     2,    58,    48,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,    54,     2,    55,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     1,     2,     3,     4,
       5,     6,     7,     8,     9,    10,    11,    12,    13,    14,
      15,    16,    17,    18,    19,    20,    21,    22,    23,    24,
      25,    26,    27,    28,    29,    30,    31,    32,    33,    34,
      35,    36,    37,    38,    39,    47
};

#if LX_DEBUG
/* YYRLINE[YYN] -- Source line where rule number YYN was defined.  */
static const yytype_int16 yyrline[] =
{
       0,   128,   128,   129,   133,   134,   135,   136,   140,   141,
     144,   147,   149,   152,   155,   156,   161,   162,   166,   168,
     170,   172,   177,   181,   182,   186,   187,   191,   192,   196,
     201,   202,   206,   210,   211,   212,   213,   217,   219,   222,
     223,   224,   226,   229,   232,   233,   234,   235,   237,   241,
     242,   243,   255,   256,   258,   263,   264,   265,   266,   270,
     271,   273,   274,   276,   278,   293,   299,   300,   301,   302,
     303,   307,   308,   309,   310,   311,   312,   313,   314,   315,
     316,   317,   318,   319,   320,   321,   322,   325,   326,   327,
     331,   335,   336,   338,   339,   343,   344,   345,   346,   347,
     348,   349,   350,   351,   352,   353,   356,   360,   361,   362,
     366,   367,   371,   372,   373,   377,   378,   382,   383,   385,
     387,   389,   394,   395,   396,   400,   401,   405
};
#endif

/** Accessing symbol of state STATE.  */
#define YY_ACCESSING_SYMBOL(State) YY_CAST (yysymbol_kind_t, yystos[State])

#if 1
/* The user-facing name of the symbol whose (internal) number is
   YYSYMBOL.  No bounds checking.  */
static const char *yysymbol_name (yysymbol_kind_t yysymbol) YY_ATTRIBUTE_UNUSED;

static const char *
yysymbol_name (yysymbol_kind_t yysymbol)
{
  static const char *const yy_sname[] =
  {
  "end of file", "error", "invalid token", "start of expression",
  "identifier", "number", "string", "'import'", "'as'", "'param'", "'in'",
  "'let'", "'fn'", "'sequence'", "'for'", "'if'", "'then'", "'else'",
  "'block'", "'align'", "'wait'", "'until'", "'return'", "'true'",
  "'false'", "'and'", "'or'", "'not'", "'with'", "'assert'", "'rf'",
  "'grad'", "'adc'", "'label'", "'..'", "'=='", "'!='", "'<='", "'>='",
  "'+='", "'<'", "'>'", "'+'", "'-'", "'*'", "'/'", "'%'", "UMINUS", "'^'",
  "';'", "'='", "'('", "')'", "','", "'{'", "'}'", "'.'", "'['", "']'",
  "':'", "$accept", "file", "topstmts", "topstmt", "opt_assert_msg",
  "importlist", "modname", "opt_doc", "fnparams", "fnparams1", "fnparam",
  "opt_default", "body", "stmts", "stmt", "anchor", "ifstmt", "items",
  "item", "name", "fieldname", "expr", "unary", "postfix", "primary",
  "exprs", "exprs1", "args", "args1", "arg", "rfields", "rfields1",
  "rfield", YY_NULLPTR
  };
  return yy_sname[yysymbol];
}
#endif

#define YYPACT_NINF (-170)

#define yypact_value_is_default(Yyn) \
  ((Yyn) == YYPACT_NINF)

#define YYTABLE_NINF (-3)

#define yytable_value_is_error(Yyn) \
  ((Yyn) == YYTABLE_NINF)

/* YYPACT[STATE-NUM] -- Index in YYTABLE of the portion describing
   STATE-NUM.  */
static const yytype_int16 yypact[] =
{
      14,   282,    18,   183,  -170,  -170,  -170,   282,  -170,  -170,
     282,  -170,  -170,  -170,   282,   282,     6,   282,   714,  -170,
     -36,  -170,  -170,  -170,     6,    20,     6,    20,   -29,   282,
    -170,  -170,   467,   742,   -19,   617,  -170,  -170,  -170,  -170,
    -170,   -26,   -25,   -18,  -170,   388,   -27,   -12,   282,   282,
     -20,   282,   282,   282,   282,   282,   282,   282,   282,   282,
     282,   282,   282,   311,     6,   282,    -8,    34,  -170,  -170,
      -4,    17,    19,  -170,  -170,   593,   282,  -170,   282,  -170,
       6,    20,  -170,   282,   742,   728,     6,   756,   756,   756,
     756,   756,   756,    35,    35,   -19,   -19,   -19,   -19,    24,
      28,    38,    39,   714,    32,    40,  -170,  -170,   412,     6,
      20,   282,   282,     6,   224,    79,  -170,   497,   714,  -170,
      81,   714,    37,   282,   282,   282,   282,  -170,   311,  -170,
      91,  -170,   338,   714,    44,    48,    54,  -170,  -170,     6,
      20,   282,     8,   253,   282,   282,  -170,  -170,  -170,  -170,
     -36,  -170,   282,   282,  -170,   714,   714,   714,   714,  -170,
      20,  -170,   282,  -170,   282,  -170,   -31,     6,    51,    98,
     521,    86,  -170,   -11,   282,   714,   714,   593,   714,   642,
    -170,   666,   714,   282,  -170,  -170,   282,   282,    95,  -170,
    -170,  -170,    63,    65,    86,  -170,   714,  -170,   282,   282,
     714,   714,   690,   -10,   282,  -170,   282,   282,    20,   282,
      20,  -170,  -170,  -170,    69,    72,   436,   363,   282,  -170,
    -170,   545,   714,   714,   282,   714,   -28,   282,  -170,  -170,
    -170,   521,  -170,   714,   282,   282,   569,  -170,   105,   714,
     714,  -170,  -170,   125,  -170
};

/* YYDEFACT[STATE-NUM] -- Default reduction number in state STATE-NUM.
   Performed when YYTABLE does not specify something else to do.  Zero
   means the default is an error.  */
static const yytype_int8 yydefact[] =
{
       4,     0,     0,     0,    99,    95,    96,     0,    97,    98,
       0,   100,   101,   102,     0,     0,   122,   107,     3,    71,
      90,    91,     1,     7,     0,     0,     0,     0,     0,     0,
       6,     5,     0,    88,    87,     0,    66,    67,    68,    69,
      70,     0,     0,   123,   125,   110,     0,   108,     0,     0,
       0,     0,     0,     0,     0,     0,     0,     0,     0,     0,
       0,     0,     0,   112,     0,     0,     8,    18,    22,    65,
       0,     0,     0,    33,    14,    16,     0,   103,     0,   106,
     124,     0,   104,   109,    84,    85,   122,    78,    79,    81,
      83,    80,    82,    72,    73,    74,    75,    76,    77,    99,
     100,   101,   102,   117,     0,   113,   115,    92,     0,     0,
       0,     0,     0,    25,     0,     0,    15,     0,   127,   126,
       0,   111,     0,     0,     0,     0,     0,    94,   114,    93,
      20,    19,    23,    11,    30,     0,    26,    27,    36,     0,
       0,     0,     0,     0,     0,     0,    35,    32,    34,    39,
      48,    17,     0,     0,    86,   118,   119,   120,   121,   116,
       0,    24,     0,     9,     0,    29,     0,     0,     0,     0,
       0,     0,    55,     0,     0,    44,    46,    16,    89,     0,
      21,     0,    31,     0,    13,    28,     0,     0,    52,    51,
      49,    50,     0,     0,     0,    55,    45,    47,     0,     0,
      12,    37,     0,     0,     0,    58,     0,     0,     0,     0,
       0,    57,    40,    56,     0,     0,     0,    23,     0,    53,
      54,     0,    64,    59,     0,    61,     0,     0,    41,   105,
      10,     0,    55,    60,     0,     0,     0,    38,     0,    63,
      62,    55,    43,     0,    42
};

/* YYPGOTO[NTERM-NUM].  */
static const yytype_int16 yypgoto[] =
{
    -170,  -170,  -170,  -170,   -49,  -170,   -22,   -87,  -170,  -170,
     -35,  -170,  -163,  -170,  -170,   -63,   -70,  -169,  -170,     5,
     -15,    -1,  -170,    25,  -170,  -170,  -170,  -170,  -170,    13,
      60,  -170,    68
};

/* YYDEFGOTO[NTERM-NUM].  */
static const yytype_uint8 yydefgoto[] =
{
       0,     2,     3,    31,   116,    66,   134,   163,   135,   136,
     137,   165,    74,   114,   148,   192,   149,   193,   213,    70,
      68,   103,    19,    20,    21,    46,    47,   104,   105,   106,
      42,    43,    44
};

/* YYTABLE[YYPACT[STATE-NUM]] -- What to do in state STATE-NUM.  If
   positive, shift that token.  If negative, reduce the rule whose
   number is the opposite.  If YYTABLE_NINF, syntax error.  */
static const yytype_int16 yytable[] =
{
      18,    41,    67,   184,    71,   141,    32,   188,   194,    33,
      36,   234,    69,    34,    35,    63,    45,     1,    22,   183,
      64,    65,   235,    73,    69,    73,   215,   171,    75,    62,
      79,    82,    72,    78,    86,    80,    37,    38,    39,    40,
     219,    83,   110,   195,    73,   109,   111,    84,    85,   107,
      87,    88,    89,    90,    91,    92,    93,    94,    95,    96,
      97,    98,   172,   238,   108,    41,   205,   112,   237,   206,
     113,    41,   243,   205,   123,   117,   206,   118,   124,    59,
      60,    61,   121,    62,   127,   151,   120,   130,   125,   126,
     189,   153,   154,   128,   164,   207,   208,   209,   210,   160,
     166,   186,   207,   208,   209,   210,   205,   167,   187,   206,
     132,   133,   203,   204,   211,   131,   190,   168,   191,   227,
     212,   211,   155,   156,   157,   158,   205,   228,   197,   206,
     230,   214,   185,   220,     0,   207,   208,   209,   210,   150,
     170,   159,   175,   176,   177,   169,   122,   173,   119,     0,
       0,   178,   179,     0,   211,   207,   208,   209,   210,     0,
     242,   181,     0,   182,     0,   180,     0,     0,     0,     0,
       0,     0,     0,   196,   211,     0,     0,     0,     0,     0,
     244,     0,   200,    -2,    23,   201,   202,     0,     0,     0,
      24,     0,    25,     0,    26,    27,    28,   216,   217,     0,
       0,     0,     0,   221,     0,   222,   223,     0,   225,     0,
       0,     0,    29,   224,     0,   226,     0,   231,     0,     0,
       0,     0,     0,   233,     0,   138,   236,     0,     4,     5,
       6,     0,    30,   239,   240,   139,     0,     0,   140,   141,
       0,     0,   142,     0,   143,     0,   144,     8,     9,     0,
       0,     0,     0,   145,    11,    12,    13,     4,     5,     6,
       0,     0,     0,     0,     0,     0,     0,     0,     7,     0,
       0,     0,     0,   146,   174,    15,     8,     9,    16,   147,
      10,    17,     0,    11,    12,    13,     4,     5,     6,     0,
       0,     0,     0,     0,     0,     0,    14,     7,     0,     0,
       0,     0,     0,     0,    15,     8,     9,    16,     0,    10,
      17,     0,    11,    12,    13,    99,     5,     6,     0,     0,
       0,     0,     0,     0,     0,    14,     7,     0,     0,     0,
       0,     0,     0,    15,     8,     9,    16,     0,    10,    17,
       0,   100,   101,   102,   161,     0,     0,     0,   162,     0,
       0,     0,     0,     0,    14,     0,     0,     0,     0,     0,
       0,     0,    15,    48,    49,    16,    50,     0,    17,   161,
       0,     0,     0,    51,    52,    53,    54,     0,    55,    56,
      57,    58,    59,    60,    61,     0,    62,     0,    48,    49,
       0,    50,     0,     0,     0,     0,     0,     0,    51,    52,
      53,    54,    81,    55,    56,    57,    58,    59,    60,    61,
       0,    62,     0,    48,    49,     0,    50,     0,     0,     0,
       0,     0,     0,    51,    52,    53,    54,     0,    55,    56,
      57,    58,    59,    60,    61,     0,    62,    48,    49,     0,
      50,     0,     0,     0,     0,     0,     0,    51,    52,    53,
      54,     0,    55,    56,    57,    58,    59,    60,    61,     0,
      62,    48,    49,     0,    50,     0,     0,     0,     0,     0,
     129,    51,    52,    53,    54,     0,    55,    56,    57,    58,
      59,    60,    61,    76,    62,     0,     0,     0,     0,     0,
       0,     0,    48,    49,   229,    50,     0,     0,     0,     0,
       0,     0,    51,    52,    53,    54,     0,    55,    56,    57,
      58,    59,    60,    61,   152,    62,     0,     0,     0,     0,
       0,     0,    48,    49,     0,    50,     0,     0,     0,     0,
       0,     0,    51,    52,    53,    54,     0,    55,    56,    57,
      58,    59,    60,    61,     0,    62,    48,    49,     0,    50,
       0,     0,     0,     0,     0,     0,    51,    52,    53,    54,
       0,    55,    56,    57,    58,    59,    60,    61,     0,    62,
      48,    49,     0,    50,     0,    73,     0,     0,     0,     0,
      51,    52,    53,    54,     0,    55,    56,    57,    58,    59,
      60,    61,     0,    62,    48,    49,     0,    50,     0,   232,
       0,     0,     0,     0,    51,    52,    53,    54,     0,    55,
      56,    57,    58,    59,    60,    61,     0,    62,    48,    49,
       0,    50,     0,   241,     0,     0,     0,     0,    51,    52,
      53,    54,     0,    55,    56,    57,    58,    59,    60,    61,
       0,    62,    48,    49,     0,    50,   115,     0,     0,     0,
       0,     0,    51,    52,    53,    54,     0,    55,    56,    57,
      58,    59,    60,    61,     0,    62,     0,    48,    49,    77,
      50,     0,     0,     0,     0,     0,   198,    51,    52,    53,
      54,     0,    55,    56,    57,    58,    59,    60,    61,     0,
      62,    48,    49,     0,    50,     0,     0,     0,     0,     0,
     199,    51,    52,    53,    54,     0,    55,    56,    57,    58,
      59,    60,    61,     0,    62,    48,    49,     0,    50,     0,
       0,     0,     0,     0,   218,    51,    52,    53,    54,     0,
      55,    56,    57,    58,    59,    60,    61,     0,    62,    48,
      49,     0,    50,     0,     0,     0,     0,     0,     0,    51,
      52,    53,    54,    48,    55,    56,    57,    58,    59,    60,
      61,     0,    62,    51,    52,    53,    54,     0,    55,    56,
      57,    58,    59,    60,    61,     0,    62,    51,    52,    53,
      54,     0,    55,    56,    57,    58,    59,    60,    61,     0,
      62,    -3,    -3,    -3,    -3,     0,    -3,    -3,    57,    58,
      59,    60,    61,     0,    62
};

static const yytype_int16 yycheck[] =
{
       1,    16,    24,   166,    26,    15,     7,   170,    19,    10,
       4,    39,     4,    14,    15,    51,    17,     3,     0,    50,
      56,    57,    50,    54,     4,    54,   195,    19,    29,    48,
      55,    58,    27,    59,    54,    53,    30,    31,    32,    33,
     203,    53,     8,    54,    54,    53,    50,    48,    49,    64,
      51,    52,    53,    54,    55,    56,    57,    58,    59,    60,
      61,    62,    54,   232,    65,    80,     1,    50,   231,     4,
      51,    86,   241,     1,    50,    76,     4,    78,    50,    44,
      45,    46,    83,    48,    52,     6,    81,   109,    50,    50,
       4,    10,    55,    53,    50,    30,    31,    32,    33,     8,
      52,    50,    30,    31,    32,    33,     1,    53,    10,     4,
     111,   112,    17,    50,    49,   110,    30,   139,    32,    50,
      55,    49,   123,   124,   125,   126,     1,    55,   177,     4,
     217,   194,   167,   203,    -1,    30,    31,    32,    33,   114,
     141,   128,   143,   144,   145,   140,    86,   142,    80,    -1,
      -1,   152,   153,    -1,    49,    30,    31,    32,    33,    -1,
      55,   162,    -1,   164,    -1,   160,    -1,    -1,    -1,    -1,
      -1,    -1,    -1,   174,    49,    -1,    -1,    -1,    -1,    -1,
      55,    -1,   183,     0,     1,   186,   187,    -1,    -1,    -1,
       7,    -1,     9,    -1,    11,    12,    13,   198,   199,    -1,
      -1,    -1,    -1,   204,    -1,   206,   207,    -1,   209,    -1,
      -1,    -1,    29,   208,    -1,   210,    -1,   218,    -1,    -1,
      -1,    -1,    -1,   224,    -1,     1,   227,    -1,     4,     5,
       6,    -1,    49,   234,   235,    11,    -1,    -1,    14,    15,
      -1,    -1,    18,    -1,    20,    -1,    22,    23,    24,    -1,
      -1,    -1,    -1,    29,    30,    31,    32,     4,     5,     6,
      -1,    -1,    -1,    -1,    -1,    -1,    -1,    -1,    15,    -1,
      -1,    -1,    -1,    49,    21,    51,    23,    24,    54,    55,
      27,    57,    -1,    30,    31,    32,     4,     5,     6,    -1,
      -1,    -1,    -1,    -1,    -1,    -1,    43,    15,    -1,    -1,
      -1,    -1,    -1,    -1,    51,    23,    24,    54,    -1,    27,
      57,    -1,    30,    31,    32,     4,     5,     6,    -1,    -1,
      -1,    -1,    -1,    -1,    -1,    43,    15,    -1,    -1,    -1,
      -1,    -1,    -1,    51,    23,    24,    54,    -1,    27,    57,
      -1,    30,    31,    32,     6,    -1,    -1,    -1,    10,    -1,
      -1,    -1,    -1,    -1,    43,    -1,    -1,    -1,    -1,    -1,
      -1,    -1,    51,    25,    26,    54,    28,    -1,    57,     6,
      -1,    -1,    -1,    35,    36,    37,    38,    -1,    40,    41,
      42,    43,    44,    45,    46,    -1,    48,    -1,    25,    26,
      -1,    28,    -1,    -1,    -1,    -1,    -1,    -1,    35,    36,
      37,    38,    14,    40,    41,    42,    43,    44,    45,    46,
      -1,    48,    -1,    25,    26,    -1,    28,    -1,    -1,    -1,
      -1,    -1,    -1,    35,    36,    37,    38,    -1,    40,    41,
      42,    43,    44,    45,    46,    -1,    48,    25,    26,    -1,
      28,    -1,    -1,    -1,    -1,    -1,    -1,    35,    36,    37,
      38,    -1,    40,    41,    42,    43,    44,    45,    46,    -1,
      48,    25,    26,    -1,    28,    -1,    -1,    -1,    -1,    -1,
      58,    35,    36,    37,    38,    -1,    40,    41,    42,    43,
      44,    45,    46,    16,    48,    -1,    -1,    -1,    -1,    -1,
      -1,    -1,    25,    26,    58,    28,    -1,    -1,    -1,    -1,
      -1,    -1,    35,    36,    37,    38,    -1,    40,    41,    42,
      43,    44,    45,    46,    17,    48,    -1,    -1,    -1,    -1,
      -1,    -1,    25,    26,    -1,    28,    -1,    -1,    -1,    -1,
      -1,    -1,    35,    36,    37,    38,    -1,    40,    41,    42,
      43,    44,    45,    46,    -1,    48,    25,    26,    -1,    28,
      -1,    -1,    -1,    -1,    -1,    -1,    35,    36,    37,    38,
      -1,    40,    41,    42,    43,    44,    45,    46,    -1,    48,
      25,    26,    -1,    28,    -1,    54,    -1,    -1,    -1,    -1,
      35,    36,    37,    38,    -1,    40,    41,    42,    43,    44,
      45,    46,    -1,    48,    25,    26,    -1,    28,    -1,    54,
      -1,    -1,    -1,    -1,    35,    36,    37,    38,    -1,    40,
      41,    42,    43,    44,    45,    46,    -1,    48,    25,    26,
      -1,    28,    -1,    54,    -1,    -1,    -1,    -1,    35,    36,
      37,    38,    -1,    40,    41,    42,    43,    44,    45,    46,
      -1,    48,    25,    26,    -1,    28,    53,    -1,    -1,    -1,
      -1,    -1,    35,    36,    37,    38,    -1,    40,    41,    42,
      43,    44,    45,    46,    -1,    48,    -1,    25,    26,    52,
      28,    -1,    -1,    -1,    -1,    -1,    34,    35,    36,    37,
      38,    -1,    40,    41,    42,    43,    44,    45,    46,    -1,
      48,    25,    26,    -1,    28,    -1,    -1,    -1,    -1,    -1,
      34,    35,    36,    37,    38,    -1,    40,    41,    42,    43,
      44,    45,    46,    -1,    48,    25,    26,    -1,    28,    -1,
      -1,    -1,    -1,    -1,    34,    35,    36,    37,    38,    -1,
      40,    41,    42,    43,    44,    45,    46,    -1,    48,    25,
      26,    -1,    28,    -1,    -1,    -1,    -1,    -1,    -1,    35,
      36,    37,    38,    25,    40,    41,    42,    43,    44,    45,
      46,    -1,    48,    35,    36,    37,    38,    -1,    40,    41,
      42,    43,    44,    45,    46,    -1,    48,    35,    36,    37,
      38,    -1,    40,    41,    42,    43,    44,    45,    46,    -1,
      48,    35,    36,    37,    38,    -1,    40,    41,    42,    43,
      44,    45,    46,    -1,    48
};

/* YYSTOS[STATE-NUM] -- The symbol kind of the accessing symbol of
   state STATE-NUM.  */
static const yytype_int8 yystos[] =
{
       0,     3,    61,    62,     4,     5,     6,    15,    23,    24,
      27,    30,    31,    32,    43,    51,    54,    57,    81,    82,
      83,    84,     0,     1,     7,     9,    11,    12,    13,    29,
      49,    63,    81,    81,    81,    81,     4,    30,    31,    32,
      33,    80,    90,    91,    92,    81,    85,    86,    25,    26,
      28,    35,    36,    37,    38,    40,    41,    42,    43,    44,
      45,    46,    48,    51,    56,    57,    65,    66,    80,     4,
      79,    66,    79,    54,    72,    81,    16,    52,    59,    55,
      53,    14,    58,    53,    81,    81,    54,    81,    81,    81,
      81,    81,    81,    81,    81,    81,    81,    81,    81,     4,
      30,    31,    32,    81,    87,    88,    89,    80,    81,    53,
       8,    50,    50,    51,    73,    53,    64,    81,    81,    92,
      79,    81,    90,    50,    50,    50,    50,    52,    53,    58,
      66,    79,    81,    81,    66,    68,    69,    70,     1,    11,
      14,    15,    18,    20,    22,    29,    49,    55,    74,    76,
      83,     6,    17,    10,    55,    81,    81,    81,    81,    89,
       8,     6,    10,    67,    50,    71,    52,    53,    66,    79,
      81,    19,    54,    79,    21,    81,    81,    81,    81,    81,
      79,    81,    81,    50,    72,    70,    50,    10,    72,     4,
      30,    32,    75,    77,    19,    54,    81,    64,    34,    34,
      81,    81,    81,    17,    50,     1,     4,    30,    31,    32,
      33,    49,    55,    78,    75,    77,    81,    81,    34,    72,
      76,    81,    81,    81,    79,    81,    79,    50,    55,    58,
      67,    81,    54,    81,    39,    50,    81,    72,    77,    81,
      81,    54,    55,    77,    55
};

/* YYR1[RULE-NUM] -- Symbol kind of the left-hand side of rule RULE-NUM.  */
static const yytype_int8 yyr1[] =
{
       0,    60,    61,    61,    62,    62,    62,    62,    63,    63,
      63,    63,    63,    63,    63,    63,    64,    64,    65,    65,
      65,    65,    66,    67,    67,    68,    68,    69,    69,    70,
      71,    71,    72,    73,    73,    73,    73,    74,    74,    74,
      74,    74,    74,    74,    74,    74,    74,    74,    74,    75,
      75,    75,    76,    76,    76,    77,    77,    77,    77,    78,
      78,    78,    78,    78,    78,    79,    80,    80,    80,    80,
      80,    81,    81,    81,    81,    81,    81,    81,    81,    81,
      81,    81,    81,    81,    81,    81,    81,    81,    81,    81,
      82,    83,    83,    83,    83,    84,    84,    84,    84,    84,
      84,    84,    84,    84,    84,    84,    84,    85,    85,    85,
      86,    86,    87,    87,    87,    88,    88,    89,    89,    89,
      89,    89,    90,    90,    90,    91,    91,    92
};

/* YYR2[RULE-NUM] -- Number of symbols on the right-hand side of rule RULE-NUM.  */
static const yytype_int8 yyr2[] =
{
       0,     2,     1,     2,     0,     2,     2,     2,     2,     5,
       9,     4,     7,     6,     2,     3,     0,     2,     1,     3,
       3,     5,     1,     0,     1,     0,     1,     1,     3,     2,
       0,     2,     3,     0,     2,     2,     2,     4,     7,     1,
       4,     5,     9,     8,     2,     3,     2,     3,     1,     1,
       1,     1,     3,     5,     5,     0,     2,     2,     2,     2,
       3,     2,     4,     4,     2,     1,     1,     1,     1,     1,
       1,     1,     3,     3,     3,     3,     3,     3,     3,     3,
       3,     3,     3,     3,     3,     3,     5,     2,     2,     6,
       1,     1,     3,     4,     4,     1,     1,     1,     1,     1,
       1,     1,     1,     3,     3,     9,     3,     0,     1,     2,
       1,     3,     0,     1,     2,     1,     3,     1,     3,     3,
       3,     3,     0,     1,     2,     1,     3,     3
};


enum { YYENOMEM = -2 };

#define yyerrok         (yyerrstatus = 0)
#define yyclearin       (yychar = LX_EMPTY)

#define YYACCEPT        goto yyacceptlab
#define YYABORT         goto yyabortlab
#define YYERROR         goto yyerrorlab
#define YYNOMEM         goto yyexhaustedlab


#define YYRECOVERING()  (!!yyerrstatus)

#define YYBACKUP(Token, Value)                                    \
  do                                                              \
    if (yychar == LX_EMPTY)                                        \
      {                                                           \
        yychar = (Token);                                         \
        yylval = (Value);                                         \
        YYPOPSTACK (yylen);                                       \
        yystate = *yyssp;                                         \
        goto yybackup;                                            \
      }                                                           \
    else                                                          \
      {                                                           \
        yyerror (&yylloc, scanner, st, YY_("syntax error: cannot back up")); \
        YYERROR;                                                  \
      }                                                           \
  while (0)

/* Backward compatibility with an undocumented macro.
   Use LX_error or LX_UNDEF. */
#define YYERRCODE LX_UNDEF

/* YYLLOC_DEFAULT -- Set CURRENT to span from RHS[1] to RHS[N].
   If N is 0, then set CURRENT to the empty location which ends
   the previous symbol: RHS[0] (always defined).  */

#ifndef YYLLOC_DEFAULT
# define YYLLOC_DEFAULT(Current, Rhs, N)                                \
    do                                                                  \
      if (N)                                                            \
        {                                                               \
          (Current).first_line   = YYRHSLOC (Rhs, 1).first_line;        \
          (Current).first_column = YYRHSLOC (Rhs, 1).first_column;      \
          (Current).last_line    = YYRHSLOC (Rhs, N).last_line;         \
          (Current).last_column  = YYRHSLOC (Rhs, N).last_column;       \
        }                                                               \
      else                                                              \
        {                                                               \
          (Current).first_line   = (Current).last_line   =              \
            YYRHSLOC (Rhs, 0).last_line;                                \
          (Current).first_column = (Current).last_column =              \
            YYRHSLOC (Rhs, 0).last_column;                              \
        }                                                               \
    while (0)
#endif

#define YYRHSLOC(Rhs, K) ((Rhs)[K])


/* Enable debugging if requested.  */
#if LX_DEBUG

# ifndef YYFPRINTF
#  include <stdio.h> /* INFRINGES ON USER NAME SPACE */
#  define YYFPRINTF fprintf
# endif

# define YYDPRINTF(Args)                        \
do {                                            \
  if (yydebug)                                  \
    YYFPRINTF Args;                             \
} while (0)


/* YYLOCATION_PRINT -- Print the location on the stream.
   This macro was not mandated originally: define only if we know
   we won't break user code: when these are the locations we know.  */

# ifndef YYLOCATION_PRINT

#  if defined YY_LOCATION_PRINT

   /* Temporary convenience wrapper in case some people defined the
      undocumented and private YY_LOCATION_PRINT macros.  */
#   define YYLOCATION_PRINT(File, Loc)  YY_LOCATION_PRINT(File, *(Loc))

#  elif defined LX_LTYPE_IS_TRIVIAL && LX_LTYPE_IS_TRIVIAL

/* Print *YYLOCP on YYO.  Private, do not rely on its existence. */

YY_ATTRIBUTE_UNUSED
static int
yy_location_print_ (FILE *yyo, YYLTYPE const * const yylocp)
{
  int res = 0;
  int end_col = 0 != yylocp->last_column ? yylocp->last_column - 1 : 0;
  if (0 <= yylocp->first_line)
    {
      res += YYFPRINTF (yyo, "%d", yylocp->first_line);
      if (0 <= yylocp->first_column)
        res += YYFPRINTF (yyo, ".%d", yylocp->first_column);
    }
  if (0 <= yylocp->last_line)
    {
      if (yylocp->first_line < yylocp->last_line)
        {
          res += YYFPRINTF (yyo, "-%d", yylocp->last_line);
          if (0 <= end_col)
            res += YYFPRINTF (yyo, ".%d", end_col);
        }
      else if (0 <= end_col && yylocp->first_column < end_col)
        res += YYFPRINTF (yyo, "-%d", end_col);
    }
  return res;
}

#   define YYLOCATION_PRINT  yy_location_print_

    /* Temporary convenience wrapper in case some people defined the
       undocumented and private YY_LOCATION_PRINT macros.  */
#   define YY_LOCATION_PRINT(File, Loc)  YYLOCATION_PRINT(File, &(Loc))

#  else

#   define YYLOCATION_PRINT(File, Loc) ((void) 0)
    /* Temporary convenience wrapper in case some people defined the
       undocumented and private YY_LOCATION_PRINT macros.  */
#   define YY_LOCATION_PRINT  YYLOCATION_PRINT

#  endif
# endif /* !defined YYLOCATION_PRINT */


# define YY_SYMBOL_PRINT(Title, Kind, Value, Location)                    \
do {                                                                      \
  if (yydebug)                                                            \
    {                                                                     \
      YYFPRINTF (stderr, "%s ", Title);                                   \
      yy_symbol_print (stderr,                                            \
                  Kind, Value, Location, scanner, st); \
      YYFPRINTF (stderr, "\n");                                           \
    }                                                                     \
} while (0)


/*-----------------------------------.
| Print this symbol's value on YYO.  |
`-----------------------------------*/

static void
yy_symbol_value_print (FILE *yyo,
                       yysymbol_kind_t yykind, YYSTYPE const * const yyvaluep, YYLTYPE const * const yylocationp, yyscan_t scanner, struct lex_state *st)
{
  FILE *yyoutput = yyo;
  YY_USE (yyoutput);
  YY_USE (yylocationp);
  YY_USE (scanner);
  YY_USE (st);
  if (!yyvaluep)
    return;
  YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN
  YY_USE (yykind);
  YY_IGNORE_MAYBE_UNINITIALIZED_END
}


/*---------------------------.
| Print this symbol on YYO.  |
`---------------------------*/

static void
yy_symbol_print (FILE *yyo,
                 yysymbol_kind_t yykind, YYSTYPE const * const yyvaluep, YYLTYPE const * const yylocationp, yyscan_t scanner, struct lex_state *st)
{
  YYFPRINTF (yyo, "%s %s (",
             yykind < YYNTOKENS ? "token" : "nterm", yysymbol_name (yykind));

  YYLOCATION_PRINT (yyo, yylocationp);
  YYFPRINTF (yyo, ": ");
  yy_symbol_value_print (yyo, yykind, yyvaluep, yylocationp, scanner, st);
  YYFPRINTF (yyo, ")");
}

/*------------------------------------------------------------------.
| yy_stack_print -- Print the state stack from its BOTTOM up to its |
| TOP (included).                                                   |
`------------------------------------------------------------------*/

static void
yy_stack_print (yy_state_t *yybottom, yy_state_t *yytop)
{
  YYFPRINTF (stderr, "Stack now");
  for (; yybottom <= yytop; yybottom++)
    {
      int yybot = *yybottom;
      YYFPRINTF (stderr, " %d", yybot);
    }
  YYFPRINTF (stderr, "\n");
}

# define YY_STACK_PRINT(Bottom, Top)                            \
do {                                                            \
  if (yydebug)                                                  \
    yy_stack_print ((Bottom), (Top));                           \
} while (0)


/*------------------------------------------------.
| Report that the YYRULE is going to be reduced.  |
`------------------------------------------------*/

static void
yy_reduce_print (yy_state_t *yyssp, YYSTYPE *yyvsp, YYLTYPE *yylsp,
                 int yyrule, yyscan_t scanner, struct lex_state *st)
{
  int yylno = yyrline[yyrule];
  int yynrhs = yyr2[yyrule];
  int yyi;
  YYFPRINTF (stderr, "Reducing stack by rule %d (line %d):\n",
             yyrule - 1, yylno);
  /* The symbols being reduced.  */
  for (yyi = 0; yyi < yynrhs; yyi++)
    {
      YYFPRINTF (stderr, "   $%d = ", yyi + 1);
      yy_symbol_print (stderr,
                       YY_ACCESSING_SYMBOL (+yyssp[yyi + 1 - yynrhs]),
                       &yyvsp[(yyi + 1) - (yynrhs)],
                       &(yylsp[(yyi + 1) - (yynrhs)]), scanner, st);
      YYFPRINTF (stderr, "\n");
    }
}

# define YY_REDUCE_PRINT(Rule)          \
do {                                    \
  if (yydebug)                          \
    yy_reduce_print (yyssp, yyvsp, yylsp, Rule, scanner, st); \
} while (0)

/* Nonzero means print parse trace.  It is left uninitialized so that
   multiple parsers can coexist.  */
int yydebug;
#else /* !LX_DEBUG */
# define YYDPRINTF(Args) ((void) 0)
# define YY_SYMBOL_PRINT(Title, Kind, Value, Location)
# define YY_STACK_PRINT(Bottom, Top)
# define YY_REDUCE_PRINT(Rule)
#endif /* !LX_DEBUG */


/* YYINITDEPTH -- initial size of the parser's stacks.  */
#ifndef YYINITDEPTH
# define YYINITDEPTH 200
#endif

/* YYMAXDEPTH -- maximum size the stacks can grow to (effective only
   if the built-in stack extension method is used).

   Do not make this value too large; the results are undefined if
   YYSTACK_ALLOC_MAXIMUM < YYSTACK_BYTES (YYMAXDEPTH)
   evaluated with infinite-precision integer arithmetic.  */

#ifndef YYMAXDEPTH
# define YYMAXDEPTH 10000
#endif


/* Context of a parse error.  */
typedef struct
{
  yy_state_t *yyssp;
  yysymbol_kind_t yytoken;
  YYLTYPE *yylloc;
} yypcontext_t;

/* Put in YYARG at most YYARGN of the expected tokens given the
   current YYCTX, and return the number of tokens stored in YYARG.  If
   YYARG is null, return the number of expected tokens (guaranteed to
   be less than YYNTOKENS).  Return YYENOMEM on memory exhaustion.
   Return 0 if there are more than YYARGN expected tokens, yet fill
   YYARG up to YYARGN. */
static int
yypcontext_expected_tokens (const yypcontext_t *yyctx,
                            yysymbol_kind_t yyarg[], int yyargn)
{
  /* Actual size of YYARG. */
  int yycount = 0;
  int yyn = yypact[+*yyctx->yyssp];
  if (!yypact_value_is_default (yyn))
    {
      /* Start YYX at -YYN if negative to avoid negative indexes in
         YYCHECK.  In other words, skip the first -YYN actions for
         this state because they are default actions.  */
      int yyxbegin = yyn < 0 ? -yyn : 0;
      /* Stay within bounds of both yycheck and yytname.  */
      int yychecklim = YYLAST - yyn + 1;
      int yyxend = yychecklim < YYNTOKENS ? yychecklim : YYNTOKENS;
      int yyx;
      for (yyx = yyxbegin; yyx < yyxend; ++yyx)
        if (yycheck[yyx + yyn] == yyx && yyx != YYSYMBOL_YYerror
            && !yytable_value_is_error (yytable[yyx + yyn]))
          {
            if (!yyarg)
              ++yycount;
            else if (yycount == yyargn)
              return 0;
            else
              yyarg[yycount++] = YY_CAST (yysymbol_kind_t, yyx);
          }
    }
  if (yyarg && yycount == 0 && 0 < yyargn)
    yyarg[0] = YYSYMBOL_YYEMPTY;
  return yycount;
}




/* The kind of the lookahead of this context.  */
static yysymbol_kind_t
yypcontext_token (const yypcontext_t *yyctx) YY_ATTRIBUTE_UNUSED;

static yysymbol_kind_t
yypcontext_token (const yypcontext_t *yyctx)
{
  return yyctx->yytoken;
}

/* The location of the lookahead of this context.  */
static YYLTYPE *
yypcontext_location (const yypcontext_t *yyctx) YY_ATTRIBUTE_UNUSED;

static YYLTYPE *
yypcontext_location (const yypcontext_t *yyctx)
{
  return yyctx->yylloc;
}

/* User defined function to report a syntax error.  */
static int
yyreport_syntax_error (const yypcontext_t *yyctx, yyscan_t scanner, struct lex_state *st);

/*-----------------------------------------------.
| Release the memory associated to this symbol.  |
`-----------------------------------------------*/

static void
yydestruct (const char *yymsg,
            yysymbol_kind_t yykind, YYSTYPE *yyvaluep, YYLTYPE *yylocationp, yyscan_t scanner, struct lex_state *st)
{
  YY_USE (yyvaluep);
  YY_USE (yylocationp);
  YY_USE (scanner);
  YY_USE (st);
  if (!yymsg)
    yymsg = "Deleting";
  YY_SYMBOL_PRINT (yymsg, yykind, yyvaluep, yylocationp);

  YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN
  YY_USE (yykind);
  YY_IGNORE_MAYBE_UNINITIALIZED_END
}






/*----------.
| yyparse.  |
`----------*/

int
yyparse (yyscan_t scanner, struct lex_state *st)
{
/* Lookahead token kind.  */
int yychar;


/* The semantic value of the lookahead symbol.  */
/* Default value used for initialization, for pacifying older GCCs
   or non-GCC compilers.  */
YY_INITIAL_VALUE (static YYSTYPE yyval_default;)
YYSTYPE yylval YY_INITIAL_VALUE (= yyval_default);

/* Location data for the lookahead symbol.  */
static YYLTYPE yyloc_default
# if defined LX_LTYPE_IS_TRIVIAL && LX_LTYPE_IS_TRIVIAL
  = { 1, 1, 1, 1 }
# endif
;
YYLTYPE yylloc = yyloc_default;

    /* Number of syntax errors so far.  */
    int yynerrs = 0;

    yy_state_fast_t yystate = 0;
    /* Number of tokens to shift before error messages enabled.  */
    int yyerrstatus = 0;

    /* Refer to the stacks through separate pointers, to allow yyoverflow
       to reallocate them elsewhere.  */

    /* Their size.  */
    YYPTRDIFF_T yystacksize = YYINITDEPTH;

    /* The state stack: array, bottom, top.  */
    yy_state_t yyssa[YYINITDEPTH];
    yy_state_t *yyss = yyssa;
    yy_state_t *yyssp = yyss;

    /* The semantic value stack: array, bottom, top.  */
    YYSTYPE yyvsa[YYINITDEPTH];
    YYSTYPE *yyvs = yyvsa;
    YYSTYPE *yyvsp = yyvs;

    /* The location stack: array, bottom, top.  */
    YYLTYPE yylsa[YYINITDEPTH];
    YYLTYPE *yyls = yylsa;
    YYLTYPE *yylsp = yyls;

  int yyn;
  /* The return value of yyparse.  */
  int yyresult;
  /* Lookahead symbol kind.  */
  yysymbol_kind_t yytoken = YYSYMBOL_YYEMPTY;
  /* The variables used to return semantic value and location from the
     action routines.  */
  YYSTYPE yyval;
  YYLTYPE yyloc;

  /* The locations where the error started and ended.  */
  YYLTYPE yyerror_range[3];



#define YYPOPSTACK(N)   (yyvsp -= (N), yyssp -= (N), yylsp -= (N))

  /* The number of symbols on the RHS of the reduced rule.
     Keep to zero when no symbol should be popped.  */
  int yylen = 0;

  YYDPRINTF ((stderr, "Starting parse\n"));

  yychar = LX_EMPTY; /* Cause a token to be read.  */

  yylsp[0] = yylloc;
  goto yysetstate;


/*------------------------------------------------------------.
| yynewstate -- push a new state, which is found in yystate.  |
`------------------------------------------------------------*/
yynewstate:
  /* In all cases, when you get here, the value and location stacks
     have just been pushed.  So pushing a state here evens the stacks.  */
  yyssp++;


/*--------------------------------------------------------------------.
| yysetstate -- set current state (the top of the stack) to yystate.  |
`--------------------------------------------------------------------*/
yysetstate:
  YYDPRINTF ((stderr, "Entering state %d\n", yystate));
  YY_ASSERT (0 <= yystate && yystate < YYNSTATES);
  YY_IGNORE_USELESS_CAST_BEGIN
  *yyssp = YY_CAST (yy_state_t, yystate);
  YY_IGNORE_USELESS_CAST_END
  YY_STACK_PRINT (yyss, yyssp);

  if (yyss + yystacksize - 1 <= yyssp)
#if !defined yyoverflow && !defined YYSTACK_RELOCATE
    YYNOMEM;
#else
    {
      /* Get the current used size of the three stacks, in elements.  */
      YYPTRDIFF_T yysize = yyssp - yyss + 1;

# if defined yyoverflow
      {
        /* Give user a chance to reallocate the stack.  Use copies of
           these so that the &'s don't force the real ones into
           memory.  */
        yy_state_t *yyss1 = yyss;
        YYSTYPE *yyvs1 = yyvs;
        YYLTYPE *yyls1 = yyls;

        /* Each stack pointer address is followed by the size of the
           data in use in that stack, in bytes.  This used to be a
           conditional around just the two extra args, but that might
           be undefined if yyoverflow is a macro.  */
        yyoverflow (YY_("memory exhausted"),
                    &yyss1, yysize * YYSIZEOF (*yyssp),
                    &yyvs1, yysize * YYSIZEOF (*yyvsp),
                    &yyls1, yysize * YYSIZEOF (*yylsp),
                    &yystacksize);
        yyss = yyss1;
        yyvs = yyvs1;
        yyls = yyls1;
      }
# else /* defined YYSTACK_RELOCATE */
      /* Extend the stack our own way.  */
      if (YYMAXDEPTH <= yystacksize)
        YYNOMEM;
      yystacksize *= 2;
      if (YYMAXDEPTH < yystacksize)
        yystacksize = YYMAXDEPTH;

      {
        yy_state_t *yyss1 = yyss;
        union yyalloc *yyptr =
          YY_CAST (union yyalloc *,
                   YYSTACK_ALLOC (YY_CAST (YYSIZE_T, YYSTACK_BYTES (yystacksize))));
        if (! yyptr)
          YYNOMEM;
        YYSTACK_RELOCATE (yyss_alloc, yyss);
        YYSTACK_RELOCATE (yyvs_alloc, yyvs);
        YYSTACK_RELOCATE (yyls_alloc, yyls);
#  undef YYSTACK_RELOCATE
        if (yyss1 != yyssa)
          YYSTACK_FREE (yyss1);
      }
# endif

      yyssp = yyss + yysize - 1;
      yyvsp = yyvs + yysize - 1;
      yylsp = yyls + yysize - 1;

      YY_IGNORE_USELESS_CAST_BEGIN
      YYDPRINTF ((stderr, "Stack size increased to %ld\n",
                  YY_CAST (long, yystacksize)));
      YY_IGNORE_USELESS_CAST_END

      if (yyss + yystacksize - 1 <= yyssp)
        YYABORT;
    }
#endif /* !defined yyoverflow && !defined YYSTACK_RELOCATE */


  if (yystate == YYFINAL)
    YYACCEPT;

  goto yybackup;


/*-----------.
| yybackup.  |
`-----------*/
yybackup:
  /* Do appropriate processing given the current state.  Read a
     lookahead token if we need one and don't already have one.  */

  /* First try to decide what to do without reference to lookahead token.  */
  yyn = yypact[yystate];
  if (yypact_value_is_default (yyn))
    goto yydefault;

  /* Not known => get a lookahead token if don't already have one.  */

  /* YYCHAR is either empty, or end-of-input, or a valid lookahead.  */
  if (yychar == LX_EMPTY)
    {
      YYDPRINTF ((stderr, "Reading a token\n"));
      yychar = yylex (&yylval, &yylloc, scanner);
    }

  if (yychar <= LX_EOF)
    {
      yychar = LX_EOF;
      yytoken = YYSYMBOL_YYEOF;
      YYDPRINTF ((stderr, "Now at end of input.\n"));
    }
  else if (yychar == LX_error)
    {
      /* The scanner already issued an error message, process directly
         to error recovery.  But do not keep the error token as
         lookahead, it is too special and may lead us to an endless
         loop in error recovery. */
      yychar = LX_UNDEF;
      yytoken = YYSYMBOL_YYerror;
      yyerror_range[1] = yylloc;
      goto yyerrlab1;
    }
  else
    {
      yytoken = YYTRANSLATE (yychar);
      YY_SYMBOL_PRINT ("Next token is", yytoken, &yylval, &yylloc);
    }

  /* If the proper action on seeing token YYTOKEN is to reduce or to
     detect an error, take that action.  */
  yyn += yytoken;
  if (yyn < 0 || YYLAST < yyn || yycheck[yyn] != yytoken)
    goto yydefault;
  yyn = yytable[yyn];
  if (yyn <= 0)
    {
      if (yytable_value_is_error (yyn))
        goto yyerrlab;
      yyn = -yyn;
      goto yyreduce;
    }

  /* Count tokens shifted since error; after three, turn off error
     status.  */
  if (yyerrstatus)
    yyerrstatus--;

  /* Shift the lookahead token.  */
  YY_SYMBOL_PRINT ("Shifting", yytoken, &yylval, &yylloc);
  yystate = yyn;
  YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN
  *++yyvsp = yylval;
  YY_IGNORE_MAYBE_UNINITIALIZED_END
  *++yylsp = yylloc;

  /* Discard the shifted token.  */
  yychar = LX_EMPTY;
  goto yynewstate;


/*-----------------------------------------------------------.
| yydefault -- do the default action for the current state.  |
`-----------------------------------------------------------*/
yydefault:
  yyn = yydefact[yystate];
  if (yyn == 0)
    goto yyerrlab;
  goto yyreduce;


/*-----------------------------.
| yyreduce -- do a reduction.  |
`-----------------------------*/
yyreduce:
  /* yyn is the number of a rule to reduce with.  */
  yylen = yyr2[yyn];

  /* If YYLEN is nonzero, implement the default value of the action:
     '$$ = $1'.

     Otherwise, the following line sets YYVAL to garbage.
     This behavior is undocumented and Bison
     users should not rely upon it.  Assigning to YYVAL
     unconditionally makes the parser a bit smaller, and it avoids a
     GCC warning that YYVAL may be used uninitialized.  */
  yyval = yyvsp[1-yylen];

  /* Default location. */
  YYLLOC_DEFAULT (yyloc, (yylsp - yylen), yylen);
  yyerror_range[1] = yyloc;
  YY_REDUCE_PRINT (yyn);
  switch (yyn)
    {
  case 2: /* file: topstmts  */
#line 128 "./grammar/parser.y"
                                { st->result = (yyvsp[0].list).head; }
#line 1684 "./grammar/parser.c"
    break;

  case 3: /* file: "start of expression" expr  */
#line 129 "./grammar/parser.y"
                                { st->result = (yyvsp[0].node); }
#line 1690 "./grammar/parser.c"
    break;

  case 4: /* topstmts: %empty  */
#line 133 "./grammar/parser.y"
                                { (yyval.list) = none(); }
#line 1696 "./grammar/parser.c"
    break;

  case 5: /* topstmts: topstmts topstmt  */
#line 134 "./grammar/parser.y"
                                { (yyval.list) = append((yyvsp[-1].list), (yyvsp[0].node)); }
#line 1702 "./grammar/parser.c"
    break;

  case 6: /* topstmts: topstmts ';'  */
#line 135 "./grammar/parser.y"
                                { (yyval.list) = (yyvsp[-1].list); }
#line 1708 "./grammar/parser.c"
    break;

  case 7: /* topstmts: topstmts error  */
#line 136 "./grammar/parser.y"
                                { (yyval.list) = (yyvsp[-1].list); }
#line 1714 "./grammar/parser.c"
    break;

  case 8: /* topstmt: "'import'" importlist  */
#line 140 "./grammar/parser.y"
                                { (yyval.node) = (yyvsp[0].list).head; }
#line 1720 "./grammar/parser.c"
    break;

  case 9: /* topstmt: "'param'" name '=' expr opt_doc  */
#line 141 "./grammar/parser.y"
                                  {
          (yyval.node) = mk(st, N_PARAM, (yyloc)); (yyval.node)->name = (yyvsp[-3].str); (yyval.node)->name_span = SP(st, (yylsp[-3]));
          (yyval.node)->a = (yyvsp[-1].node); (yyval.node)->str = (yyvsp[0].str); }
#line 1728 "./grammar/parser.c"
    break;

  case 10: /* topstmt: "'param'" name '=' expr "'in'" expr "'..'" expr opt_doc  */
#line 144 "./grammar/parser.y"
                                                      {
          (yyval.node) = mk(st, N_PARAM, (yyloc)); (yyval.node)->name = (yyvsp[-7].str); (yyval.node)->name_span = SP(st, (yylsp[-7]));
          (yyval.node)->a = (yyvsp[-5].node); (yyval.node)->b = (yyvsp[-3].node); (yyval.node)->c = (yyvsp[-1].node); (yyval.node)->str = (yyvsp[0].str); }
#line 1736 "./grammar/parser.c"
    break;

  case 11: /* topstmt: "'let'" modname '=' expr  */
#line 147 "./grammar/parser.y"
                                {
          (yyval.node) = mk(st, N_LET, (yyloc)); (yyval.node)->name = (yyvsp[-2].str); (yyval.node)->name_span = SP(st, (yylsp[-2])); (yyval.node)->a = (yyvsp[0].node); }
#line 1743 "./grammar/parser.c"
    break;

  case 12: /* topstmt: "'fn'" name '(' fnparams ')' '=' expr  */
#line 149 "./grammar/parser.y"
                                        {
          (yyval.node) = mk(st, N_FN, (yyloc)); (yyval.node)->name = (yyvsp[-5].str); (yyval.node)->name_span = SP(st, (yylsp[-5]));
          (yyval.node)->list = (yyvsp[-3].list).head; (yyval.node)->a = (yyvsp[0].node); }
#line 1751 "./grammar/parser.c"
    break;

  case 13: /* topstmt: "'fn'" name '(' fnparams ')' body  */
#line 152 "./grammar/parser.y"
                                    {
          (yyval.node) = mk(st, N_FN, (yyloc)); (yyval.node)->name = (yyvsp[-4].str); (yyval.node)->name_span = SP(st, (yylsp[-4]));
          (yyval.node)->list = (yyvsp[-2].list).head; (yyval.node)->list2 = (yyvsp[0].list).head; }
#line 1759 "./grammar/parser.c"
    break;

  case 14: /* topstmt: "'sequence'" body  */
#line 155 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_SEQUENCE, (yylsp[-1])); (yyval.node)->list = (yyvsp[0].list).head; }
#line 1765 "./grammar/parser.c"
    break;

  case 15: /* topstmt: "'assert'" expr opt_assert_msg  */
#line 156 "./grammar/parser.y"
                                 {
          (yyval.node) = mk(st, N_ASSERT, (yyloc)); (yyval.node)->a = (yyvsp[-1].node); (yyval.node)->str = st->pending_msg; st->pending_msg = NULL; }
#line 1772 "./grammar/parser.c"
    break;

  case 16: /* opt_assert_msg: %empty  */
#line 161 "./grammar/parser.y"
                                { st->pending_msg = NULL; }
#line 1778 "./grammar/parser.c"
    break;

  case 17: /* opt_assert_msg: ',' "string"  */
#line 162 "./grammar/parser.y"
                                { st->pending_msg = (yyvsp[0].str); }
#line 1784 "./grammar/parser.c"
    break;

  case 18: /* importlist: modname  */
#line 166 "./grammar/parser.y"
                                { struct node *n = mk(st, N_IMPORT, (yylsp[0])); n->name = (yyvsp[0].str);
                                  n->name_span = SP(st, (yylsp[0])); (yyval.list) = one(n); }
#line 1791 "./grammar/parser.c"
    break;

  case 19: /* importlist: modname "'as'" name  */
#line 168 "./grammar/parser.y"
                                { struct node *n = mk(st, N_IMPORT, (yyloc)); n->name = (yyvsp[-2].str);
                                  n->name_span = SP(st, (yylsp[-2])); n->str = (yyvsp[0].str); (yyval.list) = one(n); }
#line 1798 "./grammar/parser.c"
    break;

  case 20: /* importlist: importlist ',' modname  */
#line 170 "./grammar/parser.y"
                                { struct node *n = mk(st, N_IMPORT, (yylsp[0])); n->name = (yyvsp[0].str);
                                  n->name_span = SP(st, (yylsp[0])); (yyval.list) = append((yyvsp[-2].list), n); }
#line 1805 "./grammar/parser.c"
    break;

  case 21: /* importlist: importlist ',' modname "'as'" name  */
#line 172 "./grammar/parser.y"
                                     { struct node *n = mk(st, N_IMPORT, (yylsp[-2])); n->name = (yyvsp[-2].str);
                                  n->name_span = SP(st, (yylsp[-2])); n->str = (yyvsp[0].str); (yyval.list) = append((yyvsp[-4].list), n); }
#line 1812 "./grammar/parser.c"
    break;

  case 22: /* modname: fieldname  */
#line 177 "./grammar/parser.y"
                                { (yyval.str) = (yyvsp[0].str); }
#line 1818 "./grammar/parser.c"
    break;

  case 23: /* opt_doc: %empty  */
#line 181 "./grammar/parser.y"
                                { (yyval.str) = NULL; }
#line 1824 "./grammar/parser.c"
    break;

  case 24: /* opt_doc: "string"  */
#line 182 "./grammar/parser.y"
                                { (yyval.str) = (yyvsp[0].str); }
#line 1830 "./grammar/parser.c"
    break;

  case 25: /* fnparams: %empty  */
#line 186 "./grammar/parser.y"
                                { (yyval.list) = none(); }
#line 1836 "./grammar/parser.c"
    break;

  case 26: /* fnparams: fnparams1  */
#line 187 "./grammar/parser.y"
                                { (yyval.list) = (yyvsp[0].list); }
#line 1842 "./grammar/parser.c"
    break;

  case 27: /* fnparams1: fnparam  */
#line 191 "./grammar/parser.y"
                                { (yyval.list) = one((yyvsp[0].node)); }
#line 1848 "./grammar/parser.c"
    break;

  case 28: /* fnparams1: fnparams1 ',' fnparam  */
#line 192 "./grammar/parser.y"
                                { (yyval.list) = append((yyvsp[-2].list), (yyvsp[0].node)); }
#line 1854 "./grammar/parser.c"
    break;

  case 29: /* fnparam: modname opt_default  */
#line 196 "./grammar/parser.y"
                                   { (yyval.node) = mk(st, N_FNPARAM, (yyloc)); (yyval.node)->name = (yyvsp[-1].str);
                                  (yyval.node)->name_span = SP(st, (yylsp[-1])); (yyval.node)->a = (yyvsp[0].node); }
#line 1861 "./grammar/parser.c"
    break;

  case 30: /* opt_default: %empty  */
#line 201 "./grammar/parser.y"
                                { (yyval.node) = NULL; }
#line 1867 "./grammar/parser.c"
    break;

  case 31: /* opt_default: '=' expr  */
#line 202 "./grammar/parser.y"
                                { (yyval.node) = (yyvsp[0].node); }
#line 1873 "./grammar/parser.c"
    break;

  case 32: /* body: '{' stmts '}'  */
#line 206 "./grammar/parser.y"
                                { (yyval.list) = (yyvsp[-1].list); }
#line 1879 "./grammar/parser.c"
    break;

  case 33: /* stmts: %empty  */
#line 210 "./grammar/parser.y"
                                { (yyval.list) = none(); }
#line 1885 "./grammar/parser.c"
    break;

  case 34: /* stmts: stmts stmt  */
#line 211 "./grammar/parser.y"
                                { (yyval.list) = append((yyvsp[-1].list), (yyvsp[0].node)); }
#line 1891 "./grammar/parser.c"
    break;

  case 35: /* stmts: stmts ';'  */
#line 212 "./grammar/parser.y"
                                { (yyval.list) = (yyvsp[-1].list); }
#line 1897 "./grammar/parser.c"
    break;

  case 36: /* stmts: stmts error  */
#line 213 "./grammar/parser.y"
                                { (yyval.list) = (yyvsp[-1].list); }
#line 1903 "./grammar/parser.c"
    break;

  case 37: /* stmt: "'let'" modname '=' expr  */
#line 217 "./grammar/parser.y"
                                   {
          (yyval.node) = mk(st, N_LET, (yyloc)); (yyval.node)->name = (yyvsp[-2].str); (yyval.node)->name_span = SP(st, (yylsp[-2])); (yyval.node)->a = (yyvsp[0].node); }
#line 1910 "./grammar/parser.c"
    break;

  case 38: /* stmt: "'for'" name "'in'" expr "'..'" expr body  */
#line 219 "./grammar/parser.y"
                                        {
          (yyval.node) = mk(st, N_FOR, (yyloc)); (yyval.node)->name = (yyvsp[-5].str); (yyval.node)->name_span = SP(st, (yylsp[-5]));
          (yyval.node)->a = (yyvsp[-3].node); (yyval.node)->b = (yyvsp[-1].node); (yyval.node)->list = (yyvsp[0].list).head; }
#line 1918 "./grammar/parser.c"
    break;

  case 39: /* stmt: ifstmt  */
#line 222 "./grammar/parser.y"
                                { (yyval.node) = (yyvsp[0].node); }
#line 1924 "./grammar/parser.c"
    break;

  case 40: /* stmt: "'block'" '{' items '}'  */
#line 223 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_BLOCK, (yylsp[-3])); (yyval.node)->list = (yyvsp[-1].list).head; }
#line 1930 "./grammar/parser.c"
    break;

  case 41: /* stmt: "'block'" name '{' items '}'  */
#line 224 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_BLOCK, (yylsp[-4])); (yyval.node)->name = (yyvsp[-3].str);
                                  (yyval.node)->name_span = SP(st, (yylsp[-3])); (yyval.node)->list = (yyvsp[-1].list).head; }
#line 1937 "./grammar/parser.c"
    break;

  case 42: /* stmt: "'block'" name "'align'" anchor '=' expr '{' items '}'  */
#line 226 "./grammar/parser.y"
                                                     {
          (yyval.node) = mk(st, N_BLOCK, (yylsp[-8])); (yyval.node)->name = (yyvsp[-7].str); (yyval.node)->name_span = SP(st, (yylsp[-7]));
          (yyval.node)->op = st->pending_anchor; (yyval.node)->a = (yyvsp[-3].node); (yyval.node)->list = (yyvsp[-1].list).head; }
#line 1945 "./grammar/parser.c"
    break;

  case 43: /* stmt: "'block'" "'align'" anchor '=' expr '{' items '}'  */
#line 229 "./grammar/parser.y"
                                                {
          (yyval.node) = mk(st, N_BLOCK, (yylsp[-7])); (yyval.node)->op = st->pending_anchor; (yyval.node)->a = (yyvsp[-3].node);
          (yyval.node)->list = (yyvsp[-1].list).head; }
#line 1953 "./grammar/parser.c"
    break;

  case 44: /* stmt: "'wait'" expr  */
#line 232 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_DELAY, (yyloc)); (yyval.node)->a = (yyvsp[0].node); }
#line 1959 "./grammar/parser.c"
    break;

  case 45: /* stmt: "'wait'" "'until'" expr  */
#line 233 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_WAIT, (yyloc)); (yyval.node)->a = (yyvsp[0].node); }
#line 1965 "./grammar/parser.c"
    break;

  case 46: /* stmt: "'return'" expr  */
#line 234 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_RETURN, (yyloc)); (yyval.node)->a = (yyvsp[0].node); }
#line 1971 "./grammar/parser.c"
    break;

  case 47: /* stmt: "'assert'" expr opt_assert_msg  */
#line 235 "./grammar/parser.y"
                                 {
          (yyval.node) = mk(st, N_ASSERT, (yyloc)); (yyval.node)->a = (yyvsp[-1].node); (yyval.node)->str = st->pending_msg; st->pending_msg = NULL; }
#line 1978 "./grammar/parser.c"
    break;

  case 48: /* stmt: postfix  */
#line 237 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_EXPRSTMT, (yyloc)); (yyval.node)->a = (yyvsp[0].node); }
#line 1984 "./grammar/parser.c"
    break;

  case 49: /* anchor: "'rf'"  */
#line 241 "./grammar/parser.y"
                                { st->pending_anchor = 2; }
#line 1990 "./grammar/parser.c"
    break;

  case 50: /* anchor: "'adc'"  */
#line 242 "./grammar/parser.y"
                                { st->pending_anchor = 3; }
#line 1996 "./grammar/parser.c"
    break;

  case 51: /* anchor: "identifier"  */
#line 243 "./grammar/parser.y"
                                {
          if (strcmp((yyvsp[0].str), "start") == 0) st->pending_anchor = 1;
          else if (strcmp((yyvsp[0].str), "end") == 0) st->pending_anchor = 4;
          else {
              struct diag *g = diag_error(st->diag, 105, SP(st, (yylsp[0])),
                                          "unknown alignment anchor '%s'", (yyvsp[0].str));
              diag_help(g, "a block aligns its start, end, rf or adc: `align rf = excite.rf + te/2`");
              st->pending_anchor = 1;
          } }
#line 2010 "./grammar/parser.c"
    break;

  case 52: /* ifstmt: "'if'" expr body  */
#line 255 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_IF, (yyloc)); (yyval.node)->a = (yyvsp[-1].node); (yyval.node)->list = (yyvsp[0].list).head; }
#line 2016 "./grammar/parser.c"
    break;

  case 53: /* ifstmt: "'if'" expr body "'else'" body  */
#line 256 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_IF, (yyloc)); (yyval.node)->a = (yyvsp[-3].node); (yyval.node)->list = (yyvsp[-2].list).head;
                                  (yyval.node)->list2 = (yyvsp[0].list).head; (yyval.node)->op = 1; }
#line 2023 "./grammar/parser.c"
    break;

  case 54: /* ifstmt: "'if'" expr body "'else'" ifstmt  */
#line 258 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_IF, (yyloc)); (yyval.node)->a = (yyvsp[-3].node); (yyval.node)->list = (yyvsp[-2].list).head;
                                  (yyval.node)->list2 = (yyvsp[0].node); (yyval.node)->op = 1; }
#line 2030 "./grammar/parser.c"
    break;

  case 55: /* items: %empty  */
#line 263 "./grammar/parser.y"
                                { (yyval.list) = none(); }
#line 2036 "./grammar/parser.c"
    break;

  case 56: /* items: items item  */
#line 264 "./grammar/parser.y"
                                { (yyval.list) = append((yyvsp[-1].list), (yyvsp[0].node)); }
#line 2042 "./grammar/parser.c"
    break;

  case 57: /* items: items ';'  */
#line 265 "./grammar/parser.y"
                                { (yyval.list) = (yyvsp[-1].list); }
#line 2048 "./grammar/parser.c"
    break;

  case 58: /* items: items error  */
#line 266 "./grammar/parser.y"
                                { (yyval.list) = (yyvsp[-1].list); }
#line 2054 "./grammar/parser.c"
    break;

  case 59: /* item: "'rf'" expr  */
#line 270 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_EV_RF, (yyloc)); (yyval.node)->a = (yyvsp[0].node); }
#line 2060 "./grammar/parser.c"
    break;

  case 60: /* item: "'grad'" name expr  */
#line 271 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_EV_GRAD, (yyloc)); (yyval.node)->name = (yyvsp[-1].str);
                                  (yyval.node)->name_span = SP(st, (yylsp[-1])); (yyval.node)->a = (yyvsp[0].node); }
#line 2067 "./grammar/parser.c"
    break;

  case 61: /* item: "'adc'" expr  */
#line 273 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_EV_ADC, (yyloc)); (yyval.node)->a = (yyvsp[0].node); }
#line 2073 "./grammar/parser.c"
    break;

  case 62: /* item: "'label'" name '=' expr  */
#line 274 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_EV_LABEL, (yyloc)); (yyval.node)->name = (yyvsp[-2].str);
                                  (yyval.node)->name_span = SP(st, (yylsp[-2])); (yyval.node)->a = (yyvsp[0].node); (yyval.node)->op = 0; }
#line 2080 "./grammar/parser.c"
    break;

  case 63: /* item: "'label'" name "'+='" expr  */
#line 276 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_EV_LABEL, (yyloc)); (yyval.node)->name = (yyvsp[-2].str);
                                  (yyval.node)->name_span = SP(st, (yylsp[-2])); (yyval.node)->a = (yyvsp[0].node); (yyval.node)->op = 1; }
#line 2087 "./grammar/parser.c"
    break;

  case 64: /* item: "identifier" expr  */
#line 278 "./grammar/parser.y"
                                {
          if (strcmp((yyvsp[-1].str), "duration") == 0) {
              (yyval.node) = mk(st, N_EV_DUR, (yyloc));
          } else {
              (yyval.node) = mk(st, N_EV_TRIG, (yyloc));
              if (strcmp((yyvsp[-1].str), "trigger") != 0) {
                  struct diag *g = diag_error(st->diag, 106, SP(st, (yylsp[-1])),
                                              "'%s' is not an event", (yyvsp[-1].str));
                  diag_help(g, "a block holds rf, grad x|y|z, adc, trigger, label and duration");
              }
          }
          (yyval.node)->a = (yyvsp[0].node); }
#line 2104 "./grammar/parser.c"
    break;

  case 65: /* name: "identifier"  */
#line 293 "./grammar/parser.y"
                                { (yyval.str) = (yyvsp[0].str); }
#line 2110 "./grammar/parser.c"
    break;

  case 66: /* fieldname: "identifier"  */
#line 299 "./grammar/parser.y"
                                { (yyval.str) = (yyvsp[0].str); }
#line 2116 "./grammar/parser.c"
    break;

  case 67: /* fieldname: "'rf'"  */
#line 300 "./grammar/parser.y"
                                { (yyval.str) = "rf"; }
#line 2122 "./grammar/parser.c"
    break;

  case 68: /* fieldname: "'grad'"  */
#line 301 "./grammar/parser.y"
                                { (yyval.str) = "grad"; }
#line 2128 "./grammar/parser.c"
    break;

  case 69: /* fieldname: "'adc'"  */
#line 302 "./grammar/parser.y"
                                { (yyval.str) = "adc"; }
#line 2134 "./grammar/parser.c"
    break;

  case 70: /* fieldname: "'label'"  */
#line 303 "./grammar/parser.y"
                                { (yyval.str) = "label"; }
#line 2140 "./grammar/parser.c"
    break;

  case 71: /* expr: unary  */
#line 307 "./grammar/parser.y"
                                { (yyval.node) = (yyvsp[0].node); }
#line 2146 "./grammar/parser.c"
    break;

  case 72: /* expr: expr '+' expr  */
#line 308 "./grammar/parser.y"
                                { (yyval.node) = bin(st, OPR_ADD, (yyvsp[-2].node), (yyvsp[0].node), (yyloc)); }
#line 2152 "./grammar/parser.c"
    break;

  case 73: /* expr: expr '-' expr  */
#line 309 "./grammar/parser.y"
                                { (yyval.node) = bin(st, OPR_SUB, (yyvsp[-2].node), (yyvsp[0].node), (yyloc)); }
#line 2158 "./grammar/parser.c"
    break;

  case 74: /* expr: expr '*' expr  */
#line 310 "./grammar/parser.y"
                                { (yyval.node) = bin(st, OPR_MUL, (yyvsp[-2].node), (yyvsp[0].node), (yyloc)); }
#line 2164 "./grammar/parser.c"
    break;

  case 75: /* expr: expr '/' expr  */
#line 311 "./grammar/parser.y"
                                { (yyval.node) = bin(st, OPR_DIV, (yyvsp[-2].node), (yyvsp[0].node), (yyloc)); }
#line 2170 "./grammar/parser.c"
    break;

  case 76: /* expr: expr '%' expr  */
#line 312 "./grammar/parser.y"
                                { (yyval.node) = bin(st, OPR_MOD, (yyvsp[-2].node), (yyvsp[0].node), (yyloc)); }
#line 2176 "./grammar/parser.c"
    break;

  case 77: /* expr: expr '^' expr  */
#line 313 "./grammar/parser.y"
                                { (yyval.node) = bin(st, OPR_POW, (yyvsp[-2].node), (yyvsp[0].node), (yyloc)); }
#line 2182 "./grammar/parser.c"
    break;

  case 78: /* expr: expr "'=='" expr  */
#line 314 "./grammar/parser.y"
                                { (yyval.node) = bin(st, OPR_EQ, (yyvsp[-2].node), (yyvsp[0].node), (yyloc)); }
#line 2188 "./grammar/parser.c"
    break;

  case 79: /* expr: expr "'!='" expr  */
#line 315 "./grammar/parser.y"
                                { (yyval.node) = bin(st, OPR_NE, (yyvsp[-2].node), (yyvsp[0].node), (yyloc)); }
#line 2194 "./grammar/parser.c"
    break;

  case 80: /* expr: expr '<' expr  */
#line 316 "./grammar/parser.y"
                                { (yyval.node) = bin(st, OPR_LT, (yyvsp[-2].node), (yyvsp[0].node), (yyloc)); }
#line 2200 "./grammar/parser.c"
    break;

  case 81: /* expr: expr "'<='" expr  */
#line 317 "./grammar/parser.y"
                                { (yyval.node) = bin(st, OPR_LE, (yyvsp[-2].node), (yyvsp[0].node), (yyloc)); }
#line 2206 "./grammar/parser.c"
    break;

  case 82: /* expr: expr '>' expr  */
#line 318 "./grammar/parser.y"
                                { (yyval.node) = bin(st, OPR_GT, (yyvsp[-2].node), (yyvsp[0].node), (yyloc)); }
#line 2212 "./grammar/parser.c"
    break;

  case 83: /* expr: expr "'>='" expr  */
#line 319 "./grammar/parser.y"
                                { (yyval.node) = bin(st, OPR_GE, (yyvsp[-2].node), (yyvsp[0].node), (yyloc)); }
#line 2218 "./grammar/parser.c"
    break;

  case 84: /* expr: expr "'and'" expr  */
#line 320 "./grammar/parser.y"
                                { (yyval.node) = bin(st, OPR_AND, (yyvsp[-2].node), (yyvsp[0].node), (yyloc)); }
#line 2224 "./grammar/parser.c"
    break;

  case 85: /* expr: expr "'or'" expr  */
#line 321 "./grammar/parser.y"
                                { (yyval.node) = bin(st, OPR_OR, (yyvsp[-2].node), (yyvsp[0].node), (yyloc)); }
#line 2230 "./grammar/parser.c"
    break;

  case 86: /* expr: expr "'with'" '{' rfields '}'  */
#line 322 "./grammar/parser.y"
                                { struct node *r = mk(st, N_RECORD, (yylsp[-2])); r->list = (yyvsp[-1].list).head;
                                  r->span.end = (yylsp[0]).end;
                                  (yyval.node) = mk(st, N_WITH, (yyloc)); (yyval.node)->a = (yyvsp[-4].node); (yyval.node)->b = r; }
#line 2238 "./grammar/parser.c"
    break;

  case 87: /* expr: '-' expr  */
#line 325 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_UNOP, (yyloc)); (yyval.node)->op = OPR_NEG; (yyval.node)->a = (yyvsp[0].node); }
#line 2244 "./grammar/parser.c"
    break;

  case 88: /* expr: "'not'" expr  */
#line 326 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_UNOP, (yyloc)); (yyval.node)->op = OPR_NOT; (yyval.node)->a = (yyvsp[0].node); }
#line 2250 "./grammar/parser.c"
    break;

  case 89: /* expr: "'if'" expr "'then'" expr "'else'" expr  */
#line 327 "./grammar/parser.y"
                                  { (yyval.node) = mk(st, N_IFEXPR, (yyloc)); (yyval.node)->a = (yyvsp[-4].node); (yyval.node)->b = (yyvsp[-2].node); (yyval.node)->c = (yyvsp[0].node); }
#line 2256 "./grammar/parser.c"
    break;

  case 90: /* unary: postfix  */
#line 331 "./grammar/parser.y"
                                { (yyval.node) = (yyvsp[0].node); }
#line 2262 "./grammar/parser.c"
    break;

  case 91: /* postfix: primary  */
#line 335 "./grammar/parser.y"
                                { (yyval.node) = (yyvsp[0].node); }
#line 2268 "./grammar/parser.c"
    break;

  case 92: /* postfix: postfix '.' fieldname  */
#line 336 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_FIELD, (yyloc)); (yyval.node)->a = (yyvsp[-2].node); (yyval.node)->name = (yyvsp[0].str);
                                  (yyval.node)->name_span = SP(st, (yylsp[0])); }
#line 2275 "./grammar/parser.c"
    break;

  case 93: /* postfix: postfix '[' expr ']'  */
#line 338 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_INDEX, (yyloc)); (yyval.node)->a = (yyvsp[-3].node); (yyval.node)->b = (yyvsp[-1].node); }
#line 2281 "./grammar/parser.c"
    break;

  case 94: /* postfix: postfix '(' args ')'  */
#line 339 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_CALL, (yyloc)); (yyval.node)->a = (yyvsp[-3].node); (yyval.node)->list = (yyvsp[-1].list).head; }
#line 2287 "./grammar/parser.c"
    break;

  case 95: /* primary: "number"  */
#line 343 "./grammar/parser.y"
                                { (yyval.node) = (yyvsp[0].node); }
#line 2293 "./grammar/parser.c"
    break;

  case 96: /* primary: "string"  */
#line 344 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_STR, (yyloc)); (yyval.node)->str = (yyvsp[0].str); }
#line 2299 "./grammar/parser.c"
    break;

  case 97: /* primary: "'true'"  */
#line 345 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_BOOL, (yyloc)); (yyval.node)->op = 1; }
#line 2305 "./grammar/parser.c"
    break;

  case 98: /* primary: "'false'"  */
#line 346 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_BOOL, (yyloc)); (yyval.node)->op = 0; }
#line 2311 "./grammar/parser.c"
    break;

  case 99: /* primary: "identifier"  */
#line 347 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_IDENT, (yyloc)); (yyval.node)->name = (yyvsp[0].str); (yyval.node)->name_span = (yyval.node)->span; }
#line 2317 "./grammar/parser.c"
    break;

  case 100: /* primary: "'rf'"  */
#line 348 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_IDENT, (yyloc)); (yyval.node)->name = "rf"; (yyval.node)->name_span = (yyval.node)->span; }
#line 2323 "./grammar/parser.c"
    break;

  case 101: /* primary: "'grad'"  */
#line 349 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_IDENT, (yyloc)); (yyval.node)->name = "grad"; (yyval.node)->name_span = (yyval.node)->span; }
#line 2329 "./grammar/parser.c"
    break;

  case 102: /* primary: "'adc'"  */
#line 350 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_IDENT, (yyloc)); (yyval.node)->name = "adc"; (yyval.node)->name_span = (yyval.node)->span; }
#line 2335 "./grammar/parser.c"
    break;

  case 103: /* primary: '(' expr ')'  */
#line 351 "./grammar/parser.y"
                                { (yyval.node) = (yyvsp[-1].node); }
#line 2341 "./grammar/parser.c"
    break;

  case 104: /* primary: '[' exprs ']'  */
#line 352 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_ARRAY, (yyloc)); (yyval.node)->list = (yyvsp[-1].list).head; }
#line 2347 "./grammar/parser.c"
    break;

  case 105: /* primary: '[' expr "'for'" name "'in'" expr "'..'" expr ']'  */
#line 353 "./grammar/parser.y"
                                                {
          (yyval.node) = mk(st, N_COMPREH, (yyloc)); (yyval.node)->a = (yyvsp[-7].node); (yyval.node)->name = (yyvsp[-5].str); (yyval.node)->name_span = SP(st, (yylsp[-5]));
          (yyval.node)->b = (yyvsp[-3].node); (yyval.node)->c = (yyvsp[-1].node); }
#line 2355 "./grammar/parser.c"
    break;

  case 106: /* primary: '{' rfields '}'  */
#line 356 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_RECORD, (yyloc)); (yyval.node)->list = (yyvsp[-1].list).head; }
#line 2361 "./grammar/parser.c"
    break;

  case 107: /* exprs: %empty  */
#line 360 "./grammar/parser.y"
                                { (yyval.list) = none(); }
#line 2367 "./grammar/parser.c"
    break;

  case 108: /* exprs: exprs1  */
#line 361 "./grammar/parser.y"
                                { (yyval.list) = (yyvsp[0].list); }
#line 2373 "./grammar/parser.c"
    break;

  case 109: /* exprs: exprs1 ','  */
#line 362 "./grammar/parser.y"
                                { (yyval.list) = (yyvsp[-1].list); }
#line 2379 "./grammar/parser.c"
    break;

  case 110: /* exprs1: expr  */
#line 366 "./grammar/parser.y"
                                { (yyval.list) = one((yyvsp[0].node)); }
#line 2385 "./grammar/parser.c"
    break;

  case 111: /* exprs1: exprs1 ',' expr  */
#line 367 "./grammar/parser.y"
                                { (yyval.list) = append((yyvsp[-2].list), (yyvsp[0].node)); }
#line 2391 "./grammar/parser.c"
    break;

  case 112: /* args: %empty  */
#line 371 "./grammar/parser.y"
                                { (yyval.list) = none(); }
#line 2397 "./grammar/parser.c"
    break;

  case 113: /* args: args1  */
#line 372 "./grammar/parser.y"
                                { (yyval.list) = (yyvsp[0].list); }
#line 2403 "./grammar/parser.c"
    break;

  case 114: /* args: args1 ','  */
#line 373 "./grammar/parser.y"
                                { (yyval.list) = (yyvsp[-1].list); }
#line 2409 "./grammar/parser.c"
    break;

  case 115: /* args1: arg  */
#line 377 "./grammar/parser.y"
                                { (yyval.list) = one((yyvsp[0].node)); }
#line 2415 "./grammar/parser.c"
    break;

  case 116: /* args1: args1 ',' arg  */
#line 378 "./grammar/parser.y"
                                { (yyval.list) = append((yyvsp[-2].list), (yyvsp[0].node)); }
#line 2421 "./grammar/parser.c"
    break;

  case 117: /* arg: expr  */
#line 382 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_ARG, (yyloc)); (yyval.node)->a = (yyvsp[0].node); }
#line 2427 "./grammar/parser.c"
    break;

  case 118: /* arg: "identifier" '=' expr  */
#line 383 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_ARG, (yyloc)); (yyval.node)->name = (yyvsp[-2].str); (yyval.node)->name_span = SP(st, (yylsp[-2]));
                                  (yyval.node)->a = (yyvsp[0].node); }
#line 2434 "./grammar/parser.c"
    break;

  case 119: /* arg: "'rf'" '=' expr  */
#line 385 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_ARG, (yyloc)); (yyval.node)->name = "rf"; (yyval.node)->name_span = SP(st, (yylsp[-2]));
                                  (yyval.node)->a = (yyvsp[0].node); }
#line 2441 "./grammar/parser.c"
    break;

  case 120: /* arg: "'grad'" '=' expr  */
#line 387 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_ARG, (yyloc)); (yyval.node)->name = "grad"; (yyval.node)->name_span = SP(st, (yylsp[-2]));
                                  (yyval.node)->a = (yyvsp[0].node); }
#line 2448 "./grammar/parser.c"
    break;

  case 121: /* arg: "'adc'" '=' expr  */
#line 389 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_ARG, (yyloc)); (yyval.node)->name = "adc"; (yyval.node)->name_span = SP(st, (yylsp[-2]));
                                  (yyval.node)->a = (yyvsp[0].node); }
#line 2455 "./grammar/parser.c"
    break;

  case 122: /* rfields: %empty  */
#line 394 "./grammar/parser.y"
                                { (yyval.list) = none(); }
#line 2461 "./grammar/parser.c"
    break;

  case 123: /* rfields: rfields1  */
#line 395 "./grammar/parser.y"
                                { (yyval.list) = (yyvsp[0].list); }
#line 2467 "./grammar/parser.c"
    break;

  case 124: /* rfields: rfields1 ','  */
#line 396 "./grammar/parser.y"
                                { (yyval.list) = (yyvsp[-1].list); }
#line 2473 "./grammar/parser.c"
    break;

  case 125: /* rfields1: rfield  */
#line 400 "./grammar/parser.y"
                                { (yyval.list) = one((yyvsp[0].node)); }
#line 2479 "./grammar/parser.c"
    break;

  case 126: /* rfields1: rfields1 ',' rfield  */
#line 401 "./grammar/parser.y"
                                { (yyval.list) = append((yyvsp[-2].list), (yyvsp[0].node)); }
#line 2485 "./grammar/parser.c"
    break;

  case 127: /* rfield: fieldname ':' expr  */
#line 405 "./grammar/parser.y"
                                { (yyval.node) = mk(st, N_RFIELD, (yyloc)); (yyval.node)->name = (yyvsp[-2].str);
                                  (yyval.node)->name_span = SP(st, (yylsp[-2])); (yyval.node)->a = (yyvsp[0].node); }
#line 2492 "./grammar/parser.c"
    break;


#line 2496 "./grammar/parser.c"

      default: break;
    }
  /* User semantic actions sometimes alter yychar, and that requires
     that yytoken be updated with the new translation.  We take the
     approach of translating immediately before every use of yytoken.
     One alternative is translating here after every semantic action,
     but that translation would be missed if the semantic action invokes
     YYABORT, YYACCEPT, or YYERROR immediately after altering yychar or
     if it invokes YYBACKUP.  In the case of YYABORT or YYACCEPT, an
     incorrect destructor might then be invoked immediately.  In the
     case of YYERROR or YYBACKUP, subsequent parser actions might lead
     to an incorrect destructor call or verbose syntax error message
     before the lookahead is translated.  */
  YY_SYMBOL_PRINT ("-> $$ =", YY_CAST (yysymbol_kind_t, yyr1[yyn]), &yyval, &yyloc);

  YYPOPSTACK (yylen);
  yylen = 0;

  *++yyvsp = yyval;
  *++yylsp = yyloc;

  /* Now 'shift' the result of the reduction.  Determine what state
     that goes to, based on the state we popped back to and the rule
     number reduced by.  */
  {
    const int yylhs = yyr1[yyn] - YYNTOKENS;
    const int yyi = yypgoto[yylhs] + *yyssp;
    yystate = (0 <= yyi && yyi <= YYLAST && yycheck[yyi] == *yyssp
               ? yytable[yyi]
               : yydefgoto[yylhs]);
  }

  goto yynewstate;


/*--------------------------------------.
| yyerrlab -- here on detecting error.  |
`--------------------------------------*/
yyerrlab:
  /* Make sure we have latest lookahead translation.  See comments at
     user semantic actions for why this is necessary.  */
  yytoken = yychar == LX_EMPTY ? YYSYMBOL_YYEMPTY : YYTRANSLATE (yychar);
  /* If not already recovering from an error, report this error.  */
  if (!yyerrstatus)
    {
      ++yynerrs;
      {
        yypcontext_t yyctx
          = {yyssp, yytoken, &yylloc};
        if (yyreport_syntax_error (&yyctx, scanner, st) == 2)
          YYNOMEM;
      }
    }

  yyerror_range[1] = yylloc;
  if (yyerrstatus == 3)
    {
      /* If just tried and failed to reuse lookahead token after an
         error, discard it.  */

      if (yychar <= LX_EOF)
        {
          /* Return failure if at end of input.  */
          if (yychar == LX_EOF)
            YYABORT;
        }
      else
        {
          yydestruct ("Error: discarding",
                      yytoken, &yylval, &yylloc, scanner, st);
          yychar = LX_EMPTY;
        }
    }

  /* Else will try to reuse lookahead token after shifting the error
     token.  */
  goto yyerrlab1;


/*---------------------------------------------------.
| yyerrorlab -- error raised explicitly by YYERROR.  |
`---------------------------------------------------*/
yyerrorlab:
  /* Pacify compilers when the user code never invokes YYERROR and the
     label yyerrorlab therefore never appears in user code.  */
  if (0)
    YYERROR;
  ++yynerrs;

  /* Do not reclaim the symbols of the rule whose action triggered
     this YYERROR.  */
  YYPOPSTACK (yylen);
  yylen = 0;
  YY_STACK_PRINT (yyss, yyssp);
  yystate = *yyssp;
  goto yyerrlab1;


/*-------------------------------------------------------------.
| yyerrlab1 -- common code for both syntax error and YYERROR.  |
`-------------------------------------------------------------*/
yyerrlab1:
  yyerrstatus = 3;      /* Each real token shifted decrements this.  */

  /* Pop stack until we find a state that shifts the error token.  */
  for (;;)
    {
      yyn = yypact[yystate];
      if (!yypact_value_is_default (yyn))
        {
          yyn += YYSYMBOL_YYerror;
          if (0 <= yyn && yyn <= YYLAST && yycheck[yyn] == YYSYMBOL_YYerror)
            {
              yyn = yytable[yyn];
              if (0 < yyn)
                break;
            }
        }

      /* Pop the current state because it cannot handle the error token.  */
      if (yyssp == yyss)
        YYABORT;

      yyerror_range[1] = *yylsp;
      yydestruct ("Error: popping",
                  YY_ACCESSING_SYMBOL (yystate), yyvsp, yylsp, scanner, st);
      YYPOPSTACK (1);
      yystate = *yyssp;
      YY_STACK_PRINT (yyss, yyssp);
    }

  YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN
  *++yyvsp = yylval;
  YY_IGNORE_MAYBE_UNINITIALIZED_END

  yyerror_range[2] = yylloc;
  ++yylsp;
  YYLLOC_DEFAULT (*yylsp, yyerror_range, 2);

  /* Shift the error token.  */
  YY_SYMBOL_PRINT ("Shifting", YY_ACCESSING_SYMBOL (yyn), yyvsp, yylsp);

  yystate = yyn;
  goto yynewstate;


/*-------------------------------------.
| yyacceptlab -- YYACCEPT comes here.  |
`-------------------------------------*/
yyacceptlab:
  yyresult = 0;
  goto yyreturnlab;


/*-----------------------------------.
| yyabortlab -- YYABORT comes here.  |
`-----------------------------------*/
yyabortlab:
  yyresult = 1;
  goto yyreturnlab;


/*-----------------------------------------------------------.
| yyexhaustedlab -- YYNOMEM (memory exhaustion) comes here.  |
`-----------------------------------------------------------*/
yyexhaustedlab:
  yyerror (&yylloc, scanner, st, YY_("memory exhausted"));
  yyresult = 2;
  goto yyreturnlab;


/*----------------------------------------------------------.
| yyreturnlab -- parsing is finished, clean up and return.  |
`----------------------------------------------------------*/
yyreturnlab:
  if (yychar != LX_EMPTY)
    {
      /* Make sure we have latest lookahead translation.  See comments at
         user semantic actions for why this is necessary.  */
      yytoken = YYTRANSLATE (yychar);
      yydestruct ("Cleanup: discarding lookahead",
                  yytoken, &yylval, &yylloc, scanner, st);
    }
  /* Do not reclaim the symbols of the rule whose action triggered
     this YYABORT or YYACCEPT.  */
  YYPOPSTACK (yylen);
  YY_STACK_PRINT (yyss, yyssp);
  while (yyssp != yyss)
    {
      yydestruct ("Cleanup: popping",
                  YY_ACCESSING_SYMBOL (+*yyssp), yyvsp, yylsp, scanner, st);
      YYPOPSTACK (1);
    }
#ifndef yyoverflow
  if (yyss != yyssa)
    YYSTACK_FREE (yyss);
#endif

  return yyresult;
}

#line 409 "./grammar/parser.y"


static const char *tok_desc(yysymbol_kind_t k)
{
    return yysymbol_name(k);
}

static int yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner, struct lex_state *st)
{
    (void)scanner;
    yysymbol_kind_t look = yypcontext_token(ctx);
    const LX_LTYPE *loc = yypcontext_location(ctx);
    yysymbol_kind_t exp[8];
    int n = yypcontext_expected_tokens(ctx, exp, 8);
    struct strbuf b;
    sb_init(&b);
    if (look == YYSYMBOL_YYEOF)
        sb_puts(&b, "unexpected end of file");
    else
        sb_printf(&b, "unexpected %s", tok_desc(look));
    if (n > 0 && n <= 6) {
        sb_puts(&b, "; expected ");
        for (int i = 0; i < n; i++) {
            if (i)
                sb_puts(&b, i == n - 1 ? " or " : ", ");
            sb_puts(&b, tok_desc(exp[i]));
        }
    }
    struct span sp = SP(st, *loc);
    if (look == YYSYMBOL_YYEOF && sp.start > 0) {
        sp.start = sp.start;
    }
    diag_error(st->diag, 100, sp, "%s", b.s);
    sb_fini(&b);
    return 0;
}

struct node *ast_new(struct arena *a, enum node_kind k, struct span sp)
{
    struct node *n = arena_alloc(a, sizeof *n);
    n->kind = k;
    n->span = sp;
    return n;
}

typedef void *lx_scanner_t;
int lx_lex_init_extra(struct lex_state *extra, yyscan_t *scanner);
int lx_lex_destroy(yyscan_t scanner);
void *lx__scan_bytes(const char *bytes, int len, yyscan_t scanner);

static struct node *run_parser(struct arena *a, struct diag_ctx *d, int file, int expr_mode,
                               uint32_t offset)
{
    const struct src_file *f = diag_file(d, file);
    if (offset > f->len)
        offset = (uint32_t)f->len;
    struct lex_state st;
    memset(&st, 0, sizeof st);
    st.arena = a;
    st.diag = d;
    st.file = file;
    st.expr_mode = expr_mode;
    st.first_token = expr_mode;
    st.off = offset;
    yyscan_t scanner;
    lx_lex_init_extra(&st, &scanner);
    lx__scan_bytes(f->text + offset, (int)(f->len - offset), scanner);
    int before = d->nerrors;
    int rc = lx_parse(scanner, &st);
    lx_lex_destroy(scanner);
    if (rc != 0 && d->nerrors == before)
        diag_error(d, 100, (struct span){ file, (uint32_t)f->len, (uint32_t)f->len },
                   "the parser gave up (input too deeply nested)");
    return st.result;
}

struct node *parse_file(struct arena *a, struct diag_ctx *d, int file)
{
    return run_parser(a, d, file, 0, 0);
}

struct node *parse_expr_text(struct arena *a, struct diag_ctx *d, int file, uint32_t offset)
{
    int before = d->nerrors;
    struct node *n = run_parser(a, d, file, 1, offset);
    return d->nerrors == before ? n : NULL;
}

const char *ast_op_name(int op)
{
    static const char *const names[] = { "?", "+", "-", "*", "/", "%", "^", "==", "!=",
        "<", "<=", ">", ">=", "and", "or", "-", "not" };
    return op > 0 && op < (int)(sizeof names / sizeof names[0]) ? names[op] : "?";
}
