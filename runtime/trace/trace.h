/*
 * trace: the `trace` backend, a text listing of the VM's timed events, one
 * block per line group, filtered by a time window, a block range or a
 * repetition range.
 */
#ifndef LARMOR_TRACE_H
#define LARMOR_TRACE_H

#include <stdint.h>
#include <stdio.h>

#include "vm/backend.h"

struct trace_opts {
    int64_t from_ns, to_ns;       /* time window; to_ns < 0: no end */
    uint64_t first_block, last_block;  /* block range (inclusive); last = UINT64_MAX: all */
    int show_delays;              /* list empty delay blocks too */
    uint64_t first_rep, last_rep; /* repetition range (inclusive); last = UINT64_MAX: all */
};

/* Repetition counting: a repetition is one pass through the body of the
   innermost loop around a block (one TR); blocks before any loop belong to
   repetition 0. Zero-initialised; also used by the plots (--rep). */
struct trace_reps {
    uint64_t rep;
    int last_nloops;
    struct vm_loopidx last_loops[VM_MAX_LOOPS];
};

/* Advance r->rep when block b (not a delay block) starts a repetition. */
void trace_count_rep(struct trace_reps *r, const struct vm_block *b);

struct trace_ctx {
    FILE *out;
    struct trace_opts o;
    struct vm_view v;             /* the program played (set by begin) */
    uint64_t nprinted;
    struct trace_reps reps;
};

/* Fill be with the trace backend writing to ctx->out. */
void trace_backend(struct vm_backend *be, struct trace_ctx *ctx);

#endif
