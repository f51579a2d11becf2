/*
 * parser.y: the grammar of the Larmor sequence language. A pure, reentrant
 * bison parser with byte-offset locations; it builds the AST in the
 * compilation's arena. Statement separators (';') are optional. On a syntax
 * error it reports what was found and what was expected, then recovers at
 * the next statement so that several errors are reported in one run.
 */
%define api.pure full
%define api.prefix {lx_}
%define parse.error custom
%locations
%param {yyscan_t scanner}
%parse-param {struct lex_state *st}

%code requires {
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
}

%code provides {
int lx_lex(LX_STYPE *lval, LX_LTYPE *lloc, yyscan_t scanner);
}

%code {
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
}

%union {
    struct node *node;
    const char *str;
    struct nlist list;
}

%token START_EXPR "start of expression"
%token <str> IDENT "identifier"
%token <node> NUMBER "number"
%token <str> STRING "string"
%token IMPORT "'import'" AS "'as'" PARAM "'param'" IN "'in'" LET "'let'" FN "'fn'"
%token SEQUENCE "'sequence'" FOR "'for'" IF "'if'" THEN "'then'" ELSE "'else'"
%token BLOCK "'block'" ALIGN "'align'" WAIT "'wait'" UNTIL "'until'"
%token RETURN "'return'" TRUE "'true'" FALSE "'false'" AND "'and'" OR "'or'"
%token NOT "'not'" WITH "'with'" ASSERT "'assert'"
%token RF "'rf'" GRAD "'grad'" ADC "'adc'" LABEL "'label'"
%token DOTDOT "'..'" EQ "'=='" NE "'!='" LE "'<='" GE "'>='" PLUSEQ "'+='"

%type <node> expr primary postfix unary topstmt stmt item fnparam arg rfield
%type <node> ifstmt opt_default
%type <list> topstmts stmts items fnparams fnparams1 args args1 exprs exprs1
%type <list> rfields rfields1 body importlist
%type <str> name opt_doc modname fieldname

%expect 5  /* 4 from optional separators, 1: `grad x ...` outside a block (shift) */
%precedence ELSE
%precedence WITH
%left OR
%left AND
%precedence NOT
%nonassoc EQ NE '<' LE '>' GE
%left '+' '-'
%left '*' '/' '%'
%precedence UMINUS
%right '^'

%start file

%%

file
    : topstmts                  { st->result = $1.head; }
    | START_EXPR expr           { st->result = $2; }
    ;

topstmts
    : %empty                    { $$ = none(); }
    | topstmts topstmt          { $$ = append($1, $2); }
    | topstmts ';'              { $$ = $1; }
    | topstmts error            { $$ = $1; }
    ;

topstmt
    : IMPORT importlist         { $$ = $2.head; }
    | PARAM name '=' expr opt_doc {
          $$ = mk(st, N_PARAM, @$); $$->name = $2; $$->name_span = SP(st, @2);
          $$->a = $4; $$->str = $5; }
    | PARAM name '=' expr IN expr DOTDOT expr opt_doc {
          $$ = mk(st, N_PARAM, @$); $$->name = $2; $$->name_span = SP(st, @2);
          $$->a = $4; $$->b = $6; $$->c = $8; $$->str = $9; }
    | LET modname '=' expr      {
          $$ = mk(st, N_LET, @$); $$->name = $2; $$->name_span = SP(st, @2); $$->a = $4; }
    | FN name '(' fnparams ')' '=' expr {
          $$ = mk(st, N_FN, @$); $$->name = $2; $$->name_span = SP(st, @2);
          $$->list = $4.head; $$->a = $7; }
    | FN name '(' fnparams ')' body {
          $$ = mk(st, N_FN, @$); $$->name = $2; $$->name_span = SP(st, @2);
          $$->list = $4.head; $$->list2 = $6.head; }
    | SEQUENCE body             { $$ = mk(st, N_SEQUENCE, @1); $$->list = $2.head; }
    | ASSERT expr opt_assert_msg {
          $$ = mk(st, N_ASSERT, @$); $$->a = $2; $$->str = st->pending_msg; st->pending_msg = NULL; }
    ;

opt_assert_msg
    : %empty                    { st->pending_msg = NULL; }
    | ',' STRING                { st->pending_msg = $2; }
    ;

importlist
    : modname                   { struct node *n = mk(st, N_IMPORT, @1); n->name = $1;
                                  n->name_span = SP(st, @1); $$ = one(n); }
    | modname AS name           { struct node *n = mk(st, N_IMPORT, @$); n->name = $1;
                                  n->name_span = SP(st, @1); n->str = $3; $$ = one(n); }
    | importlist ',' modname    { struct node *n = mk(st, N_IMPORT, @3); n->name = $3;
                                  n->name_span = SP(st, @3); $$ = append($1, n); }
    | importlist ',' modname AS name { struct node *n = mk(st, N_IMPORT, @3); n->name = $3;
                                  n->name_span = SP(st, @3); n->str = $5; $$ = append($1, n); }
    ;

modname
    : fieldname                 { $$ = $1; }
    ;

opt_doc
    : %empty                    { $$ = NULL; }
    | STRING                    { $$ = $1; }
    ;

fnparams
    : %empty                    { $$ = none(); }
    | fnparams1                 { $$ = $1; }
    ;

fnparams1
    : fnparam                   { $$ = one($1); }
    | fnparams1 ',' fnparam     { $$ = append($1, $3); }
    ;

fnparam
    : modname opt_default          { $$ = mk(st, N_FNPARAM, @$); $$->name = $1;
                                  $$->name_span = SP(st, @1); $$->a = $2; }
    ;

opt_default
    : %empty                    { $$ = NULL; }
    | '=' expr                  { $$ = $2; }
    ;

body
    : '{' stmts '}'             { $$ = $2; }
    ;

stmts
    : %empty                    { $$ = none(); }
    | stmts stmt                { $$ = append($1, $2); }
    | stmts ';'                 { $$ = $1; }
    | stmts error               { $$ = $1; }
    ;

stmt
    : LET modname '=' expr         {
          $$ = mk(st, N_LET, @$); $$->name = $2; $$->name_span = SP(st, @2); $$->a = $4; }
    | FOR name IN expr DOTDOT expr body {
          $$ = mk(st, N_FOR, @$); $$->name = $2; $$->name_span = SP(st, @2);
          $$->a = $4; $$->b = $6; $$->list = $7.head; }
    | ifstmt                    { $$ = $1; }
    | BLOCK '{' items '}'       { $$ = mk(st, N_BLOCK, @1); $$->list = $3.head; }
    | BLOCK name '{' items '}'  { $$ = mk(st, N_BLOCK, @1); $$->name = $2;
                                  $$->name_span = SP(st, @2); $$->list = $4.head; }
    | BLOCK name ALIGN anchor '=' expr '{' items '}' {
          $$ = mk(st, N_BLOCK, @1); $$->name = $2; $$->name_span = SP(st, @2);
          $$->op = st->pending_anchor; $$->a = $6; $$->list = $8.head; }
    | BLOCK ALIGN anchor '=' expr '{' items '}' {
          $$ = mk(st, N_BLOCK, @1); $$->op = st->pending_anchor; $$->a = $5;
          $$->list = $7.head; }
    | WAIT expr                 { $$ = mk(st, N_DELAY, @$); $$->a = $2; }
    | WAIT UNTIL expr           { $$ = mk(st, N_WAIT, @$); $$->a = $3; }
    | RETURN expr               { $$ = mk(st, N_RETURN, @$); $$->a = $2; }
    | ASSERT expr opt_assert_msg {
          $$ = mk(st, N_ASSERT, @$); $$->a = $2; $$->str = st->pending_msg; st->pending_msg = NULL; }
    | postfix                   { $$ = mk(st, N_EXPRSTMT, @$); $$->a = $1; }
    /* parsed only to be reported (E0220, E0221) instead of a cascade of
       syntax errors: top-level statements and events outside a block */
    | PARAM name '=' expr       { $$ = mk(st, N_PARAM, @$); $$->name = $2; }
    | PARAM name '=' expr IN expr DOTDOT expr { $$ = mk(st, N_PARAM, @$); $$->name = $2; }
    | IMPORT importlist         { $$ = mk(st, N_IMPORT, @$); }
    | SEQUENCE body             { $$ = mk(st, N_SEQUENCE, @1); }
    | GRAD IDENT expr           { $$ = mk(st, N_EV_GRAD, @$); $$->name = $2;
                                  $$->name_span = SP(st, @2); $$->a = $3; }
    | LABEL name '=' expr       { $$ = mk(st, N_EV_LABEL, @$); $$->name = $2; $$->a = $4; }
    | LABEL name PLUSEQ expr    { $$ = mk(st, N_EV_LABEL, @$); $$->name = $2; $$->a = $4; }
    ;

anchor
    : RF                        { st->pending_anchor = 2; }
    | ADC                       { st->pending_anchor = 3; }
    | IDENT                     {
          if (strcmp($1, "start") == 0) st->pending_anchor = 1;
          else if (strcmp($1, "end") == 0) st->pending_anchor = 4;
          else {
              struct diag *g = diag_error(st->diag, 105, SP(st, @1),
                                          "unknown alignment anchor '%s'", $1);
              diag_help(g, "a block aligns its start, end, rf or adc: `align rf = excite.rf + te/2`");
              st->pending_anchor = 1;
          } }
    ;

ifstmt
    : IF expr body              { $$ = mk(st, N_IF, @$); $$->a = $2; $$->list = $3.head; }
    | IF expr body ELSE body    { $$ = mk(st, N_IF, @$); $$->a = $2; $$->list = $3.head;
                                  $$->list2 = $5.head; $$->op = 1; }
    | IF expr body ELSE ifstmt  { $$ = mk(st, N_IF, @$); $$->a = $2; $$->list = $3.head;
                                  $$->list2 = $5; $$->op = 1; }
    ;

items
    : %empty                    { $$ = none(); }
    | items item                { $$ = append($1, $2); }
    | items ';'                 { $$ = $1; }
    | items error               { $$ = $1; }
    ;

item
    : RF expr                   { $$ = mk(st, N_EV_RF, @$); $$->a = $2; }
    | GRAD name expr            { $$ = mk(st, N_EV_GRAD, @$); $$->name = $2;
                                  $$->name_span = SP(st, @2); $$->a = $3; }
    | ADC expr                  { $$ = mk(st, N_EV_ADC, @$); $$->a = $2; }
    | LABEL name '=' expr       { $$ = mk(st, N_EV_LABEL, @$); $$->name = $2;
                                  $$->name_span = SP(st, @2); $$->a = $4; $$->op = 0; }
    | LABEL name PLUSEQ expr    { $$ = mk(st, N_EV_LABEL, @$); $$->name = $2;
                                  $$->name_span = SP(st, @2); $$->a = $4; $$->op = 1; }
    | IDENT expr                {
          if (strcmp($1, "duration") == 0) {
              $$ = mk(st, N_EV_DUR, @$);
              $$->a = $2;
          } else if (strcmp($1, "trigger") == 0) {
              $$ = mk(st, N_EV_TRIG, @$);
              $$->a = $2;
          } else {
              /* reported here and dropped, so that it is not lowered as a trigger */
              struct diag *g = diag_error(st->diag, 106, SP(st, @1),
                                          "'%s' is not an event", $1);
              diag_help(g, "a block holds rf, grad x|y|z, adc, trigger, label and duration");
              $$ = NULL;
          } }
    ;

name
    : IDENT                     { $$ = $1; }
    ;

/* Keywords that may also be used as names after '.', as record field names
   and as module names in expressions (rf.sinc, excite.rf, t.duration). */
fieldname
    : IDENT                     { $$ = $1; }
    | RF                        { $$ = "rf"; }
    | GRAD                      { $$ = "grad"; }
    | ADC                       { $$ = "adc"; }
    | LABEL                     { $$ = "label"; }
    ;

expr
    : unary                     { $$ = $1; }
    | expr '+' expr             { $$ = bin(st, OPR_ADD, $1, $3, @$); }
    | expr '-' expr             { $$ = bin(st, OPR_SUB, $1, $3, @$); }
    | expr '*' expr             { $$ = bin(st, OPR_MUL, $1, $3, @$); }
    | expr '/' expr             { $$ = bin(st, OPR_DIV, $1, $3, @$); }
    | expr '%' expr             { $$ = bin(st, OPR_MOD, $1, $3, @$); }
    | expr '^' expr             { $$ = bin(st, OPR_POW, $1, $3, @$); }
    | expr EQ expr              { $$ = bin(st, OPR_EQ, $1, $3, @$); }
    | expr NE expr              { $$ = bin(st, OPR_NE, $1, $3, @$); }
    | expr '<' expr             { $$ = bin(st, OPR_LT, $1, $3, @$); }
    | expr LE expr              { $$ = bin(st, OPR_LE, $1, $3, @$); }
    | expr '>' expr             { $$ = bin(st, OPR_GT, $1, $3, @$); }
    | expr GE expr              { $$ = bin(st, OPR_GE, $1, $3, @$); }
    | expr AND expr             { $$ = bin(st, OPR_AND, $1, $3, @$); }
    | expr OR expr              { $$ = bin(st, OPR_OR, $1, $3, @$); }
    | expr WITH '{' rfields '}' { struct node *r = mk(st, N_RECORD, @3); r->list = $4.head;
                                  r->span.end = @5.end;
                                  $$ = mk(st, N_WITH, @$); $$->a = $1; $$->b = r; }
    | '-' expr %prec UMINUS     { $$ = mk(st, N_UNOP, @$); $$->op = OPR_NEG; $$->a = $2; }
    | NOT expr                  { $$ = mk(st, N_UNOP, @$); $$->op = OPR_NOT; $$->a = $2; }
    | IF expr THEN expr ELSE expr { $$ = mk(st, N_IFEXPR, @$); $$->a = $2; $$->b = $4; $$->c = $6; }
    ;

unary
    : postfix                   { $$ = $1; }
    ;

postfix
    : primary                   { $$ = $1; }
    | postfix '.' fieldname     { $$ = mk(st, N_FIELD, @$); $$->a = $1; $$->name = $3;
                                  $$->name_span = SP(st, @3); }
    | postfix '[' expr ']'      { $$ = mk(st, N_INDEX, @$); $$->a = $1; $$->b = $3; }
    | postfix '(' args ')'      { $$ = mk(st, N_CALL, @$); $$->a = $1; $$->list = $3.head; }
    ;

primary
    : NUMBER                    { $$ = $1; }
    | STRING                    { $$ = mk(st, N_STR, @$); $$->str = $1; }
    | TRUE                      { $$ = mk(st, N_BOOL, @$); $$->op = 1; }
    | FALSE                     { $$ = mk(st, N_BOOL, @$); $$->op = 0; }
    | IDENT                     { $$ = mk(st, N_IDENT, @$); $$->name = $1; $$->name_span = $$->span; }
    | RF                        { $$ = mk(st, N_IDENT, @$); $$->name = "rf"; $$->name_span = $$->span; }
    | GRAD                      { $$ = mk(st, N_IDENT, @$); $$->name = "grad"; $$->name_span = $$->span; }
    | ADC                       { $$ = mk(st, N_IDENT, @$); $$->name = "adc"; $$->name_span = $$->span; }
    | '(' expr ')'              { $$ = $2; }
    | '[' exprs ']'             { $$ = mk(st, N_ARRAY, @$); $$->list = $2.head; }
    | '[' expr FOR name IN expr DOTDOT expr ']' {
          $$ = mk(st, N_COMPREH, @$); $$->a = $2; $$->name = $4; $$->name_span = SP(st, @4);
          $$->b = $6; $$->c = $8; }
    | '{' rfields '}'           { $$ = mk(st, N_RECORD, @$); $$->list = $2.head; }
    ;

exprs
    : %empty                    { $$ = none(); }
    | exprs1                    { $$ = $1; }
    | exprs1 ','                { $$ = $1; }
    ;

exprs1
    : expr                      { $$ = one($1); }
    | exprs1 ',' expr           { $$ = append($1, $3); }
    ;

args
    : %empty                    { $$ = none(); }
    | args1                     { $$ = $1; }
    | args1 ','                 { $$ = $1; }
    ;

args1
    : arg                       { $$ = one($1); }
    | args1 ',' arg             { $$ = append($1, $3); }
    ;

arg
    : expr                      { $$ = mk(st, N_ARG, @$); $$->a = $1; }
    | IDENT '=' expr            { $$ = mk(st, N_ARG, @$); $$->name = $1; $$->name_span = SP(st, @1);
                                  $$->a = $3; }
    | RF '=' expr               { $$ = mk(st, N_ARG, @$); $$->name = "rf"; $$->name_span = SP(st, @1);
                                  $$->a = $3; }
    | GRAD '=' expr             { $$ = mk(st, N_ARG, @$); $$->name = "grad"; $$->name_span = SP(st, @1);
                                  $$->a = $3; }
    | ADC '=' expr              { $$ = mk(st, N_ARG, @$); $$->name = "adc"; $$->name_span = SP(st, @1);
                                  $$->a = $3; }
    ;

rfields
    : %empty                    { $$ = none(); }
    | rfields1                  { $$ = $1; }
    | rfields1 ','              { $$ = $1; }
    ;

rfields1
    : rfield                    { $$ = one($1); }
    | rfields1 ',' rfield       { $$ = append($1, $3); }
    ;

rfield
    : fieldname ':' expr        { $$ = mk(st, N_RFIELD, @$); $$->name = $1;
                                  $$->name_span = SP(st, @1); $$->a = $3; }
    ;

%%

static const char *tok_desc(yysymbol_kind_t k)
{
    return yysymbol_name(k);
}

static int yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner, struct lex_state *st)
{
    (void)scanner;
    yysymbol_kind_t look = yypcontext_token(ctx);
    const LX_LTYPE *loc = yypcontext_location(ctx);
    yysymbol_kind_t exp[YYNTOKENS];
    int n = yypcontext_expected_tokens(ctx, exp, YYNTOKENS);
    struct strbuf b;
    sb_init(&b);
    if (look == YYSYMBOL_YYEOF)
        sb_puts(&b, "unexpected end of file");
    else
        sb_printf(&b, "unexpected %s", tok_desc(look));
    /* Where an expression may start, say so instead of listing its tokens. */
    bool want_expr = false;
    for (int i = 0; i < n; i++)
        if (exp[i] == YYSYMBOL_NUMBER)
            want_expr = true;
    const char *shown[8];
    int ns = 0;
    if (want_expr)
        shown[ns++] = "an expression";
    for (int i = 0; i < n && ns < 8; i++) {
        yysymbol_kind_t k = exp[i];
        const char *nm = tok_desc(k);
        if (want_expr && (k == YYSYMBOL_NUMBER || k == YYSYMBOL_IDENT || k == YYSYMBOL_STRING ||
                          k == YYSYMBOL_TRUE || k == YYSYMBOL_FALSE || k == YYSYMBOL_RF ||
                          k == YYSYMBOL_GRAD || k == YYSYMBOL_ADC || k == YYSYMBOL_NOT ||
                          k == YYSYMBOL_IF || !strcmp(nm, "'-'") || !strcmp(nm, "'('") ||
                          !strcmp(nm, "'['") || !strcmp(nm, "'{'")))
            continue;
        shown[ns++] = tok_desc(k);
    }
    if (n > 0 && ns <= 6) {
        sb_puts(&b, "; expected ");
        for (int i = 0; i < ns; i++) {
            if (i)
                sb_puts(&b, i == ns - 1 ? " or " : ", ");
            sb_puts(&b, shown[i]);
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
