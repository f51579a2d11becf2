/*
 * trace: prints every block the VM plays, with its events, as stable text
 * (times in integer ns, amplitudes in SI with %.9g): golden files in tests/
 * hold these listings.
 */
#include "runtime/trace/trace.h"

#include <string.h>

/* Advance the repetition count when the loop indices change. */
void trace_count_rep(struct trace_reps *t, const struct vm_block *b)
{
    bool same = b->nloops == t->last_nloops;
    for (int i = 0; same && i < b->nloops; i++)
        same = b->loops[i].name == t->last_loops[i].name &&
               b->loops[i].value == t->last_loops[i].value;
    if (same)
        return;
    if (t->last_nloops > 0)
        t->rep++;
    t->last_nloops = b->nloops;
    memcpy(t->last_loops, b->loops, (size_t)b->nloops * sizeof *b->loops);
}

static bool in_window(const struct trace_ctx *t, const struct vm_block *b)
{
    if (b->index < t->o.first_block || b->index > t->o.last_block)
        return false;
    if (t->reps.rep < t->o.first_rep || t->reps.rep > t->o.last_rep)
        return false;
    int64_t end = b->start_ns + b->dur_ns;
    if (end < t->o.from_ns && !(b->dur_ns == 0 && b->start_ns == t->o.from_ns))
        return false;
    if (t->o.to_ns >= 0 && b->start_ns > t->o.to_ns)
        return false;
    return true;
}

static const char *line_of(const struct trace_ctx *t, uint32_t pc, char *buf, size_t n)
{
    struct lbc_srcpos pos;
    if (!vm_view_pos(&t->v, pc, &pos)) {
        snprintf(buf, n, "-");
        return buf;
    }
    const char *base = strrchr(pos.path, '/');
    snprintf(buf, n, "%s:%u", base ? base + 1 : pos.path, pos.line);
    return buf;
}

static int t_begin(void *ctx, const struct vm_view *v)
{
    struct trace_ctx *t = ctx;
    t->v = *v;
    fprintf(t->out, "# larmor trace of %s (system %s)\n", v->source,
            v->sys_name ? v->sys_name : "?");
    fprintf(t->out, "# times in ns; B1 in T, gradients in T/m, phases in rad, frequencies in Hz\n");
    return 0;
}

static int t_block_start(void *ctx, const struct vm_block *b)
{
    struct trace_ctx *t = ctx;
    if (!b->is_delay)
        trace_count_rep(&t->reps, b);
    if (!in_window(t, b) || (b->is_delay && !t->o.show_delays))
        return 0;
    char lb[128];
    if (b->is_delay)
        fprintf(t->out, "block %llu t=%lld dur=%lld delay\n", (unsigned long long)b->index,
                (long long)b->start_ns, (long long)b->dur_ns);
    else
    {
        fprintf(t->out, "block %llu t=%lld dur=%lld %s (%s) rep=%llu", (unsigned long long)b->index,
                (long long)b->start_ns, (long long)b->dur_ns, b->name ? b->name : "-",
                line_of(t, b->pc, lb, sizeof lb), (unsigned long long)t->reps.rep);
        for (int i = 0; i < b->nloops; i++)
            fprintf(t->out, " %s=%.17g", vm_view_loop_name(&t->v, b->loops[i].name), b->loops[i].value);
        fputc('\n', t->out);
    }
    t->nprinted++;
    return 0;
}

static int t_rf(void *ctx, const struct vm_block *b, const struct vm_rf *rf)
{
    struct trace_ctx *t = ctx;
    if (!in_window(t, b))
        return 0;
    fprintf(t->out, "  rf    delay=%lld dur=%lld n=%u dt=%lld amp=%.9g phase=%.9g freq=%.9g "
            "centre=%lld use=%s shape=%d\n", (long long)rf->delay_ns, (long long)rf->dur_ns,
            rf->n, (long long)rf->dt_ns, rf->amp, rf->phase, rf->freq, (long long)rf->centre_ns,
            vm_rfuse_names[rf->use], rf->shape_id);
    return 0;
}

static int t_grad(void *ctx, const struct vm_block *b, const struct vm_grad *g)
{
    struct trace_ctx *t = ctx;
    if (!in_window(t, b))
        return 0;
    if (g->kind == GRAD_TRAP)
        fprintf(t->out, "  g%c    delay=%lld trap amp=%.9g rise=%lld flat=%lld fall=%lld\n",
                "xyz"[g->axis], (long long)g->delay_ns, g->amp, (long long)g->rise_ns,
                (long long)g->flat_ns, (long long)g->fall_ns);
    else
        fprintf(t->out, "  g%c    delay=%lld arb amp=%.9g n=%u dt=%lld shape=%d\n",
                "xyz"[g->axis], (long long)g->delay_ns, g->amp, g->n, (long long)g->dt_ns,
                g->shape_id);
    return 0;
}

static int t_adc(void *ctx, const struct vm_block *b, const struct vm_adc *a)
{
    struct trace_ctx *t = ctx;
    if (!in_window(t, b))
        return 0;
    fprintf(t->out, "  adc   delay=%lld n=%u dwell=%lld freq=%.9g phase=%.9g", (long long)a->delay_ns,
            a->samples, (long long)a->dwell_ns, a->freq, a->phase);
    for (int i = 0; i < VM_LABEL__COUNT; i++)
        if (a->labels[i])
            fprintf(t->out, " %s=%d", vm_label_names[i], a->labels[i]);
    fputc('\n', t->out);
    return 0;
}

static int t_trig(void *ctx, const struct vm_block *b, const struct vm_trig *tr)
{
    struct trace_ctx *t = ctx;
    if (!in_window(t, b))
        return 0;
    fprintf(t->out, "  trig  delay=%lld dur=%lld channel=%d\n", (long long)tr->delay_ns,
            (long long)tr->dur_ns, tr->channel);
    return 0;
}

static int t_end(void *ctx, int64_t total)
{
    struct trace_ctx *t = ctx;
    fprintf(t->out, "end t=%lld\n", (long long)total);
    return 0;
}

void trace_backend(struct vm_backend *be, struct trace_ctx *ctx)
{
    memset(be, 0, sizeof *be);
    be->ctx = ctx;
    be->begin = t_begin;
    be->block_start = t_block_start;
    be->rf = t_rf;
    be->grad = t_grad;
    be->adc = t_adc;
    be->trigger = t_trig;
    be->end = t_end;
}
