/*
 * program: the in-memory form of a compiled Larmor program (.lbc), the API
 * the compiler uses to build one, and the file reader/writer/verifier.
 *
 * A program is one self-contained object with its own free: pools (strings,
 * numbers, times, shapes, event templates, loops), code with one source span
 * per instruction, the parameter values used, and the system it was checked
 * against. Nothing in it points into the compiler's memory.
 */
#ifndef LARMOR_PROGRAM_H
#define LARMOR_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/diag.h"
#include "base/labels.h"

#define LBC_MAGIC "LARMORBC"       /* 8 bytes */
#define LBC_VERSION 2u
#define LBC_FLAG_PULSEQ 1u         /* header flags bit 0: imported from a Pulseq .seq */
#define LBC_FLAGS_KNOWN LBC_FLAG_PULSEQ

#define OPF_EVENT 1
#define OPF_JUMP 2

enum lbc_op {
#define OP(name, ops, flags, syn) OP_##name,
#include "vm/opcodes.def"
#undef OP
    OP__COUNT
};

struct lbc_opinfo {
    const char *name;
    const char *operands;
    int flags;
    const char *synopsis;
};
extern const struct lbc_opinfo lbc_ops[OP__COUNT];

/* Math functions of OP_MATH. */
#define VM_MATH_LIST(X) X(SIN, "sin") X(COS, "cos") X(TAN, "tan") X(ASIN, "asin") \
    X(ACOS, "acos") X(ATAN, "atan") X(SQRT, "sqrt") X(EXP, "exp") X(LOG, "log") \
    X(ABS, "abs") X(FLOOR, "floor") X(CEIL, "ceil") X(ROUND, "round") X(SINC, "sinc")
enum vm_math {
#define X(e, s) VM_MATH_##e,
    VM_MATH_LIST(X)
#undef X
    VM_MATH__COUNT
};
extern const char *const vm_math_names[VM_MATH__COUNT];

/* Label counters (ISMRMRD encoding counters / Pulseq labels): base/labels.h. */

/* RF use, as in Pulseq 1.5. */
#define VM_RFUSE_LIST(X) X(UNDEFINED, "undefined") X(EXCITATION, "excitation") \
    X(REFOCUSING, "refocusing") X(INVERSION, "inversion") X(SATURATION, "saturation") \
    X(PREPARATION, "preparation") X(OTHER, "other")
enum vm_rfuse {
#define X(e, s) VM_RFUSE_##e,
    VM_RFUSE_LIST(X)
#undef X
    VM_RFUSE__COUNT
};
extern const char *const vm_rfuse_names[VM_RFUSE__COUNT];

/* Event templates: a fixed list of fields per template type. */
enum lbc_tmpl_type { TMPL_RF, TMPL_GRAD, TMPL_ADC, TMPL_TRIG, TMPL_END, TMPL__COUNT };

/* How a template field gets its value. */
enum lbc_field_kind {
    FK_NONE,    /* absent: the field's default */
    FK_NUM,     /* v = number-pool index (double) */
    FK_TIME,    /* v = time-pool index (int64 ns) */
    FK_REG,     /* v = register index, F or T as the field requires */
    FK_SHAPE,   /* v = shape-pool index */
    FK_IMM,     /* v = small immediate (an enum or axis) */
    FK__COUNT
};

/* Field order of each template type. "F" fields are doubles, "T" fields ns. */
enum { RFF_MAG, RFF_PHASE_SHAPE, RFF_DT, RFF_AMP, RFF_PHASE, RFF_FREQ, RFF_DELAY,
       RFF_CENTRE, RFF_USE, RFF__COUNT };
/* mag: SHAPE (required); phase_shape: SHAPE or NONE (radians); dt: T raster of
   the samples; amp: F peak B1 in T; phase: F rad; freq: F Hz offset; delay: T
   from block start; centre: T from pulse start (NONE = duration/2); use: IMM. */
enum { GF_AXIS, GF_KIND, GF_AMP, GF_DELAY, GF_RISE, GF_FLAT, GF_FALL, GF_SHAPE, GF_DT,
       GF__COUNT };
/* axis: IMM 0..2 (x y z); kind: IMM 0 trapezoid, 1 arbitrary; amp: F T/m (peak
   of the trapezoid, or scale of the shape); delay, rise, flat, fall: T; shape:
   SHAPE (arbitrary only, unitless samples multiplied by amp); dt: T. */
enum { GRAD_TRAP = 0, GRAD_ARB = 1 };
enum { AF_SAMPLES, AF_DWELL, AF_DELAY, AF_FREQ, AF_PHASE, AF__COUNT };
/* samples: F (an integer count); dwell, delay: T; freq: F Hz; phase: F rad. */
enum { TF_CHANNEL, TF_DELAY, TF_DUR, TF__COUNT };
/* channel: IMM; delay, dur: T. */
enum { EF_DUR, EF_ALIGN_KIND, EF_ALIGN_AT, EF_MARK_START, EF_MARK_RF, EF_MARK_ADC,
       EF_MARK_END, EF__COUNT };
/* dur: T or NONE (NONE: the end of the last event, rounded up to the block
   raster); align_kind: IMM enum vm_align; align_at: T absolute time the
   anchor must fall on; mark_*: REG (T) receiving the absolute time of the
   block start, RF centre, ADC centre and block end, or NONE. */
enum vm_align { ALIGN_NONE, ALIGN_START, ALIGN_RF, ALIGN_ADC, ALIGN_END };

extern const int lbc_tmpl_nfields[TMPL__COUNT];
extern const char *const lbc_tmpl_names[TMPL__COUNT];

struct lbc_insn {
    uint8_t op;
    int32_t a, b, c;
};

/* Source span of an instruction: file is a string-pool index (-1: none). */
struct lbc_span {
    int32_t file;
    uint32_t line, col;      /* 1-based, 0 if unknown */
    uint32_t start, end;     /* byte offsets into that file */
};

struct lbc_shape {
    uint32_t off, len;       /* into shapedata */
};

struct lbc_field {
    uint8_t kind;            /* enum lbc_field_kind */
    int32_t v;
};

struct lbc_tmpl {
    uint8_t type;            /* enum lbc_tmpl_type */
    uint32_t off, n;         /* into fields; n == lbc_tmpl_nfields[type] */
};

struct lbc_loop {
    int32_t name;            /* string: the loop variable */
    int32_t ctr, lim, step;  /* F registers */
};

enum lbc_param_kind { PARAM_NUM = 0, PARAM_TIME = 1 };
struct lbc_param {
    int32_t name;            /* string */
    uint8_t kind;            /* enum lbc_param_kind */
    int8_t dim[3];           /* exponents of s, m, T */
    double f;                /* value if PARAM_NUM (SI) */
    int64_t t;               /* value if PARAM_TIME (ns) */
};

/* Where a program came from: compiled from a .psq, or imported from a
   Pulseq .seq (straight-line, an instruction per occurrence of an event,
   every occurrence's span the .seq row that defines the event). Kept in
   the .lbc header's flags (bit 0: Pulseq). */
enum lbc_origin { LBC_ORIGIN_PSQ = 0, LBC_ORIGIN_PULSEQ = 1 };

struct lbc_program {
    uint32_t version;
    uint32_t nregs;
    uint8_t origin;          /* enum lbc_origin */
    int32_t source;          /* string: main source file path */
    int32_t sys_name;        /* string: system the program was checked against */
    uint64_t sys_hash;
    int64_t grad_raster, rf_raster, adc_raster, block_raster;  /* ns */
    int64_t rf_ringdown, adc_dead;  /* ns: part of a block's default duration (as in Pulseq) */

    char **strs;        uint32_t nstrs;
    double *nums;       uint32_t nnums;
    int64_t *times;     uint32_t ntimes;
    double *shapedata;  uint32_t nshapedata;
    struct lbc_shape *shapes;  uint32_t nshapes;
    struct lbc_field *fields;  uint32_t nfields;
    struct lbc_tmpl *tmpls;    uint32_t ntmpls;
    struct lbc_loop *loops;    uint32_t nloops;
    struct lbc_insn *code;     uint32_t ncode;
    struct lbc_span *lines;    /* ncode entries */
    struct lbc_param *params;  uint32_t nparams;

    /* builder capacities (not serialised) */
    size_t cap_strs, cap_nums, cap_times, cap_shapedata, cap_shapes, cap_fields,
           cap_tmpls, cap_loops, cap_code, cap_params;

    /* builder-private dedup tables (vm/program.c; not serialised, owned and
       freed by lbc_free; NULL until the first lbc_add_* call) */
    void *priv;
};

/* Building. Every add_* returns the pool index; strings, numbers, times and
   shapes are deduplicated. */
struct lbc_program *lbc_new(void);
void lbc_free(struct lbc_program *p);
int32_t lbc_add_string(struct lbc_program *p, const char *s);
int32_t lbc_add_num(struct lbc_program *p, double v);
int32_t lbc_add_time(struct lbc_program *p, int64_t ns);
int32_t lbc_add_shape(struct lbc_program *p, const double *v, uint32_t n);
int32_t lbc_add_tmpl(struct lbc_program *p, enum lbc_tmpl_type type, const struct lbc_field *f);
int32_t lbc_add_loop(struct lbc_program *p, int32_t name, int32_t ctr, int32_t lim, int32_t step);
uint32_t lbc_emit(struct lbc_program *p, enum lbc_op op, int32_t a, int32_t b, int32_t c,
                  const struct lbc_span *span);
void lbc_add_param(struct lbc_program *p, const struct lbc_param *prm);

/* Serialisation. lbc_write returns 0 or -1 with a message in err. The file
   layout is in docs/bytecode-format.md. lbc_read parses and verifies: it returns NULL
   with a reason in err (truncated, bad magic, version, checksum, an index out
   of range, a bad jump or loop nesting) and never crashes on any input. */
int lbc_write_buf(const struct lbc_program *p, unsigned char **out, size_t *outlen);
int lbc_write_file(const struct lbc_program *p, const char *path, char *err, size_t errlen);
struct lbc_program *lbc_read_buf(const unsigned char *buf, size_t len, char *err, size_t errlen);
struct lbc_program *lbc_read_file(const char *path, char *err, size_t errlen);

/* Structural verification of a program (also run by lbc_read_buf): every
   operand in range for its kind, templates well-formed, jumps forward and
   inside their loop, FORPREP/FORLOOP properly nested. 0 if valid. */
int lbc_verify(const struct lbc_program *p, char *err, size_t errlen);

/* Human-readable listing: header, pools, params, then code with source
   line:col per instruction. */
void lbc_disasm(const struct lbc_program *p, FILE *out);

/* The string a pool index names, or "?" if out of range / -1. */
const char *lbc_str(const struct lbc_program *p, int32_t idx);

/* Where an instruction came from: its line-table entry, the file's path
   resolved (a string of the program). */
struct lbc_srcpos {
    const char *path;        /* NULL: no source */
    uint32_t line, col;      /* 1-based, 0 if unknown */
    uint32_t start, end;     /* byte offsets into that file */
};

/* The source position of instruction pc; false (and *pos zeroed) when pc
   is out of range or has no source. The one pc -> source lookup. */
bool lbc_pc_pos(const struct lbc_program *p, uint32_t pc, struct lbc_srcpos *pos);

/* The span of instruction pc among the files registered in d (the caller
   registers them; nothing is read here). SPAN_NONE when it has no source,
   its file is not in d, or the span no longer fits the file (a .lbc names
   its source, which may have changed); *pos (if given) still says where. */
struct span lbc_pc_span(const struct lbc_program *p, uint32_t pc, const struct diag_ctx *d,
                        struct lbc_srcpos *pos);

/* The distinct source files the line table names, in order of first use:
   *n paths (a malloc'd array of the program's strings; NULL if none). */
const char **lbc_source_files(const struct lbc_program *p, size_t *n);

#endif
