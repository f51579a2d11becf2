/*
 * backend: the interface between the timing VM and whatever consumes its
 * events (the check backend, the trace printer, the Bloch simulator, a
 * hardware driver, a file writer). A backend is a table of function
 * pointers the VM borrows; every pointer may be NULL. Times are absolute
 * int64 nanoseconds from the start of the program; amplitudes are SI.
 * The VM assembles a whole block (it may have to insert an alignment delay
 * before it) and then calls block_start, rf, grad (per axis), adc, trigger
 * and block_end in that order. A callback returning non-zero stops the run.
 *
 * begin() receives a read-only view of the program (struct vm_view): its
 * provenance, the system it was checked against, the rasters, the declared
 * parameters, loop variable names and the pc -> source lookup. A backend
 * reads the program through the view only, never its pools or code; the
 * vm_view_* functions (vm/backend.c) are the lookups on it.
 */
#ifndef LARMOR_BACKEND_H
#define LARMOR_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "base/diag.h"
#include "vm/program.h"

struct vm_rf {
    int64_t delay_ns;         /* from block start */
    int64_t dur_ns;           /* n * dt */
    int64_t dt_ns;            /* sample raster */
    int64_t centre_ns;        /* from pulse start */
    double amp;               /* peak B1 (T) */
    double phase;             /* rad */
    double freq;              /* Hz offset */
    enum vm_rfuse use;
    const double *mag;        /* n samples, unitless, scaled by amp */
    const double *phase_shape;/* n samples in rad, or NULL */
    uint32_t n;
    int32_t shape_id, phase_shape_id;  /* pool indices (phase -1 if none) */
    uint32_t pc;              /* instruction that added it */
};

struct vm_grad {
    int axis;                 /* 0 x, 1 y, 2 z */
    int kind;                 /* GRAD_TRAP or GRAD_ARB */
    double amp;               /* T/m */
    int64_t delay_ns, rise_ns, flat_ns, fall_ns;  /* trapezoid */
    const double *shape;      /* arbitrary: n unitless samples */
    uint32_t n;
    int32_t shape_id;
    int64_t dt_ns;
    int64_t dur_ns;           /* total duration after delay */
    uint32_t pc;
};

struct vm_adc {
    uint32_t samples;
    int64_t dwell_ns, delay_ns;
    double freq, phase;
    int32_t labels[VM_LABEL__COUNT];  /* counter values latched at this ADC */
    uint32_t pc;
};

struct vm_trig {
    int channel;
    int64_t delay_ns, dur_ns;
    uint32_t pc;
};

/* One active loop: the loop variable (a string in the program's pool) and
   its value in the current iteration, outermost first. */
struct vm_loopidx {
    int32_t name;
    double value;
};

#define VM_MAX_LOOPS 32

struct vm_block {
    uint64_t index;           /* 0-based count of blocks emitted */
    int64_t start_ns, dur_ns;
    const char *name;         /* NULL if anonymous or an inserted delay */
    bool is_delay;            /* an empty delay block (DELAY, WAITUNTIL, alignment) */
    uint32_t pc;              /* BEGIN (or DELAY...) instruction */
    bool has_rf, has_adc, has_trig;
    bool has_grad[3];
    struct vm_rf rf;
    struct vm_grad grad[3];
    struct vm_adc adc;
    struct vm_trig trig;
    int32_t labels[VM_LABEL__COUNT];  /* counter values at the end of the block */
    const struct vm_loopidx *loops;   /* the loops active when the block ended */
    int nloops;
};

/* One declared parameter, as the program holds it. */
struct vm_param {
    const char *name;
    enum lbc_param_kind kind;
    int8_t dim[3];            /* exponents of s, m, T */
    double value;             /* SI: a time in seconds */
};

/* What a backend sees of the program it plays. The strings belong to the
   program, which outlives the view; a copy of the view is as good as the
   original. */
struct vm_view {
    const char *source;       /* the main source file ("?" if none) */
    enum lbc_origin origin;
    const char *sys_name;     /* the system it was checked against; NULL: none */
    uint64_t sys_hash;
    int64_t grad_raster, rf_raster, adc_raster, block_raster;  /* ns */
    int64_t rf_ringdown, adc_dead;  /* ns: part of a block's default duration */
    uint32_t nparams;         /* vm_view_param(v, 0 .. nparams-1) */
    uint32_t nshapes;         /* the events' shape ids are below this */
    const struct lbc_program *prog;  /* only for the vm_view_* lookups */
};

/* The view of program p (no allocation; valid while p lives). p NULL: an
   empty view (no source, no parameters, no instruction has a source). */
void vm_view_init(struct vm_view *v, const struct lbc_program *p);
/* Declared parameter i (i < v->nparams). */
struct vm_param vm_view_param(const struct vm_view *v, uint32_t i);
/* The value (SI, a time in s) of the parameter called name, or dflt if the
   program declares none: the one parameter lookup by name. */
double vm_view_param_value(const struct vm_view *v, const char *name, double dflt);
/* The name of a loop variable (struct vm_loopidx's name). */
const char *vm_view_loop_name(const struct vm_view *v, int32_t name);
/* Where instruction pc came from (lbc_pc_pos); false if it has no source. */
bool vm_view_pos(const struct vm_view *v, uint32_t pc, struct lbc_srcpos *pos);
/* The span of instruction pc among d's registered files (lbc_pc_span). */
struct span vm_view_span(const struct vm_view *v, uint32_t pc, const struct diag_ctx *d,
                         struct lbc_srcpos *pos);
/* Whether instructions a and b stand for one event of the source: the
   same instruction or, in an imported Pulseq program, the same kind of
   event at the same .seq row (its occurrences have an instruction each). */
bool vm_view_same_event(const struct vm_view *v, uint32_t a, uint32_t b);

struct vm;

struct vm_backend {
    void *ctx;
    int (*begin)(void *ctx, const struct vm_view *v);
    int (*block_start)(void *ctx, const struct vm_block *b);
    int (*rf)(void *ctx, const struct vm_block *b, const struct vm_rf *rf);
    int (*grad)(void *ctx, const struct vm_block *b, const struct vm_grad *g);
    int (*adc)(void *ctx, const struct vm_block *b, const struct vm_adc *adc);
    int (*trigger)(void *ctx, const struct vm_block *b, const struct vm_trig *t);
    int (*block_end)(void *ctx, const struct vm_block *b);
    int (*end)(void *ctx, int64_t total_ns);
};

#endif
