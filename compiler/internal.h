/*
 * internal: the compiler's shared types. Values are immutable and live in
 * the compilation arena. A number or time may be a compile-time constant or
 * a run-time value held in a VM register (reg >= 0): the evaluator is a
 * partial evaluator that folds constants and emits bytecode for whatever
 * depends on loop variables or block times.
 */
#ifndef LARMOR_COMPILER_INTERNAL_H
#define LARMOR_COMPILER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler/compile.h"
#include "grammar/ast.h"
#include "base/units.h"
#include "base/util.h"
#include "vm/program.h"

enum vkind {
    V_NONE, V_NUM, V_TIME, V_BOOL, V_STR, V_ARRAY, V_RECORD,
    V_FUNC, V_BUILTIN, V_MODULE, V_BLOCKREF
};

struct array;
struct record;
struct func;
struct module;
struct blockref;

struct value {
    enum vkind k;
    struct dim dim;          /* V_NUM; V_TIME is always DIM_TIME */
    int32_t reg;             /* -1: constant; else the register holding it */
    union {
        double f;            /* V_NUM, V_BOOL (0/1) */
        int64_t t;           /* V_TIME, ns */
        const char *s;       /* V_STR */
        struct array *arr;
        struct record *rec;
        struct func *fn;
        int builtin;
        struct module *mod;
        struct blockref *blk;
    } u;
};

struct array {
    uint32_t n;
    struct value *v;
    int32_t pool;            /* shape-pool index once placed, else -1 */
};

struct record {
    uint32_t n;
    const char **names;
    struct value *v;
};

struct func {
    struct node *decl;       /* N_FN */
    struct env *env;         /* closure */
    struct module *mod;
};

struct blockref {
    const char *name;
    int32_t r_start, r_rf, r_adc, r_end;  /* T registers (-1 if absent) */
};

struct binding {
    const char *name;
    struct value v;
    struct span decl;
    struct node *node;       /* N_LET / N_PARAM / N_FN defining it, if any */
    bool is_param;
    uint32_t hash;           /* the name's hash (name_hash in value.c) */
    struct binding *next;    /* hash chain */
};

struct env {
    struct env *parent;
    struct binding **tab;
    uint32_t nb;             /* buckets (power of two) */
    uint32_t count;
};

enum mod_state { MOD_LOADING, MOD_DONE, MOD_FAILED };

struct module {
    const char *name;
    const char *path;
    int file;
    struct node *ast;
    struct env *env;
    enum mod_state state;
    struct span import_span; /* where it was first imported */
    struct module *next;
};

/* A param override from -D. */
struct override {
    const char *name;
    struct node *expr;
    struct span span;
    bool used;
    bool forced;             /* set by the min-search: value below */
    struct value fv;
};

/* A timing constraint: an END with an alignment or a WAITUNTIL. */
struct constraint {
    uint32_t pc;
    struct node *expr;       /* the target expression */
    struct node *stmt;       /* the block or wait statement */
    int anchor;              /* enum vm_align or 0 for wait */
};

struct cg {
    struct arena *arena;
    struct diag_ctx *diag;
    const struct compile_opts *opts;
    const struct system *sys;
    struct lbc_program *prog;
    struct module *mods;     /* all loaded modules */
    struct module *main;
    struct env *root;        /* builtins */
    struct override *ovr;
    int novr;
    int depth;               /* call depth */
    bool in_sequence;        /* lowering the sequence body: events allowed */
    bool in_block;
    bool runtime_branch;     /* inside a run-time if: `return` not allowed */
    int loop_depth;
    struct constraint *cons;
    size_t ncons, capcons;
    /* the open block */
    struct {
        struct node *rf, *adc, *trig, *dur, *grad[3];
        bool has_label;
        struct lbc_field end[EF__COUNT];
    } blk;
    /* parse cache shared by repeated compilations (min-search) */
    struct parsed_file *parsed;
    /* set by the min search: stop at errors quietly */
    bool quiet;
    /* evaluation work done so far (opts->max_work); sticky once over */
    uint64_t work;
    bool over_work;
    /* the memory budget (base/membudget.h) when the compilation began:
       the values, environments and arrays of an evaluation live in the
       arena until it ends, so a runaway recursion is stopped by it */
    size_t mem_cap;
    /* where diagnostics go once over_work is set (discarded; cg_diag) */
    struct diag_ctx *sink;
    /* eval/exec recursion depth (CG_MAX_NEST), so that deep input cannot
       overflow the C stack */
    int nest;
    bool over_nest;
    /* the functions defined and called (names.c): a hash table by decl */
    struct fn_seen *fns;
    uint32_t nfns, capfns;
};

#define CG_MAX_NEST 1000

struct parsed_file {
    const char *path;
    int file;
    struct node *ast;
    struct parsed_file *next;
};

/* value.c */
struct env *env_new(struct cg *c, struct env *parent, uint32_t nbuckets);
struct binding *env_lookup(struct env *e, const char *name);
struct binding *env_lookup_local(struct env *e, const char *name);
struct binding *env_bind(struct cg *c, struct env *e, const char *name, struct value v,
                         struct span decl);
struct value v_num(double f, struct dim d);
struct value v_time(int64_t t);
struct value v_bool(bool b);
struct value v_none(void);
const char *v_kind_name(const struct value *v);
void v_describe(const struct value *v, char *buf, size_t n);
const struct value *rec_get(const struct record *r, const char *name);
bool v_is_const_num(const struct value *v);
double v_si(const struct value *v);   /* constant NUM/TIME/BOOL as SI double */

/* eval.c */
/* Count n units of evaluation work against opts->max_work, and the
   arena against the memory budget; false (with one E0315 for the whole
   compilation) once either is passed. */
bool cg_work(struct cg *c, uint64_t n, struct span sp);
/* Free what c holds outside its arena (the diagnostics sink). */
void cg_release(struct cg *c);
/* Enter one level of eval/exec recursion; false (one E0222 per
   compilation) past CG_MAX_NEST. The caller decrements c->nest after. */
bool cg_enter(struct cg *c, struct span sp);
struct value eval(struct cg *c, struct env *e, struct node *n);
/* Force a value into a register (constants are loaded). */
int32_t cg_to_reg(struct cg *c, const struct value *v, struct span sp);
int32_t cg_newreg(struct cg *c);
struct lbc_span cg_span(struct cg *c, struct span sp);
uint32_t cg_emit(struct cg *c, enum lbc_op op, int32_t a, int32_t b, int32_t c_, struct span sp);
struct value call_value(struct cg *c, struct value fn, struct node *call, struct env *e);
/* Convert a value to the given kind for an event field; reports errors. */
bool want_time(struct cg *c, const struct value *v, struct span sp, const char *what);
bool want_num(struct cg *c, const struct value *v, struct dim d, struct span sp, const char *what);

/* eval.c, for builtins.c: the helpers of arithmetic on values */
/* A record of n fields, names and values unset. */
struct value ev_make_record(struct cg *c, uint32_t n);
/* Whether v is a number or a time. */
bool ev_is_numeric(const struct value *v);
/* A constant result with dimension d (a time in ns if d is time); reports overflow. */
struct value ev_num_result(struct cg *c, double si, struct dim d, struct span sp);
/* A register holding v as a float in SI units. */
int32_t ev_to_freg(struct cg *c, const struct value *v, struct span sp);
/* The run-time value in float register r, of dimension d. */
struct value ev_from_freg(struct cg *c, int32_t r, struct dim d, struct span sp);
/* Whether v is a number or a time; reported as what op needs if not. */
bool ev_need_numeric(struct cg *c, const struct value *v, struct span sp, const char *op);
/* Report that verb (add, compare...) meets values of two dimensions. */
struct diag *ev_dim_mismatch(struct cg *c, struct span sp, const char *verb,
                             const struct value *a, struct span sa, const struct value *b,
                             struct span sb);
/* The arithmetic a op b of call n, folded or lowered. */
struct value ev_arith(struct cg *c, int op, struct value a, struct value b, struct node *n,
                      struct span sa, struct span sb);

/* Report the identifier n that names nothing in e (E0201, with a
   did-you-mean). */
void ev_unknown_name(struct cg *c, struct env *e, struct node *n);

/* names.c */
/* Note that the function decl (an N_FN) is defined with closure env. */
void names_defined(struct cg *c, struct node *decl, struct env *env);
/* Note that the function decl is called. */
void names_called(struct cg *c, struct node *decl);
/* Report each identifier in the body of a function no call reached that
   names nothing in its scopes, as a call would. */
void names_check_uncalled(struct cg *c);

/* builtins.c */
/* Bind the builtin functions, pi and the system record in root. */
void builtins_install(struct cg *c, struct env *root);
/* Evaluate a call of builtin b. */
struct value builtin_call(struct cg *c, int b, struct node *call, struct env *e);

/* exec.c */
/* Execute statements; returns true if a `return` produced *ret. */
bool exec_stmts(struct cg *c, struct env *e, struct node *list, struct value *ret);
/* Execute one statement (not the ones chained after it). */
bool exec_stmt(struct cg *c, struct env *e, struct node *n, struct value *ret);

/* c->diag, charging one diagnostic (CG_DIAG_WORK) to the work budget:
   a failing function called again and again must not report without end. */
struct diag_ctx *cg_diag(struct cg *c);
#define CG_DIAG_WORK 100
#define DIAG(c, code, sp, ...) diag_error(cg_diag(c), code, sp, __VA_ARGS__)

#endif
