/*
 * vm: the timing VM. It executes a verified program, keeps the sequence
 * clock as int64 nanoseconds, assembles blocks from event instructions and
 * plays them to a borrowed backend. Deterministic: the same program gives
 * the identical event stream.
 *
 * Run-time errors (an alignment that cannot be met, a negative duration, an
 * index out of range) are reported through vm_error records that carry the
 * instruction, the time and the active loop indices; the caller maps the
 * instruction to its source span with the program's line table.
 */
#ifndef LARMOR_VM_H
#define LARMOR_VM_H

#include "vm/backend.h"

enum vm_errcode {
    VMERR_TOO_LATE = 640,     /* an alignment or wait target lies in the past */
    VMERR_NEG_DUR = 641,      /* a negative duration or delay */
    VMERR_BLOCK_SHORT = 642,  /* events outlast the block's given duration */
    VMERR_DUP_EVENT = 643,    /* two RF / ADC / gradients on one axis in a block */
    VMERR_NO_ANCHOR = 644,    /* align rf/adc on a block without one */
    VMERR_INDEX = 645,        /* array index out of range */
    VMERR_ARITH = 646,        /* division by zero, non-finite value, time overflow */
    VMERR_ASSERT = 647,       /* an ERROR instruction */
    VMERR_LOOP = 648,         /* a loop bound that is not finite or too large */
    VMERR_BAD_EVENT = 649,    /* an event value out of its domain (negative samples...) */
    VMERR_BACKEND = 650,      /* the backend stopped the run */
};

struct vm_error {
    enum vm_errcode code;
    uint32_t pc;
    int64_t time_ns;
    char msg[256];
    int64_t need_ns;          /* TOO_LATE: how far past the target we already are */
    int nloops;
    struct { int32_t name; double value; } loops[VM_MAX_LOOPS];
};

struct vm_opts {
    /* Called for each run-time error; return non-zero to stop the run.
       Fatal errors stop the run whatever it returns. */
    int (*on_error)(void *ctx, const struct vm_error *e);
    void *err_ctx;
    /* Stop after this many blocks (0 = no limit). */
    uint64_t max_blocks;
};

/* Run p against backend be. Returns 0 if the whole program ran with no
   error, 1 if errors were reported, -1 if the backend stopped it. The total
   duration (ns) goes to *total_ns if non-NULL. */
int vm_run(const struct lbc_program *p, const struct vm_backend *be,
           const struct vm_opts *opts, int64_t *total_ns);

/* vm_run with a bound on its work, for untrusted programs (fuzzers, the
   compiler's dry run under compile_opts.max_work): after max_steps
   instructions (0 = no limit) the run stops with a VMERR_LOOP error. */
int vm_run_limited(const struct lbc_program *p, const struct vm_backend *be,
                   const struct vm_opts *opts, uint64_t max_steps, int64_t *total_ns);

#endif
