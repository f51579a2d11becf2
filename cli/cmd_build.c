/*
 * cmd_build: the commands that build and inspect a program without running
 * it on a scanner: compile, disasm, trace (the VM's event list), check (the
 * report against a scanner's limits) and params.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "compiler/compile.h"
#include "runtime/trace/trace.h"
#include "base/util.h"

/* A usage error (fmt with seq) for a command that does not take bytecode,
   if seq is a .lbc; else 0. */
static int refuse_lbc(const char *cmd, const char *seq, const char *fmt)
{
    return str_has_suffix(seq, ".lbc") ? cli_usage_error(cmd, fmt, seq) : 0;
}

/* larmor compile: a .psq (or .seq) to a checked .lbc. */
int cmd_compile(int argc, char **argv)
{
    struct cli_seq s;
    int rc = 0;
    const char *seq = cli_seq_begin(&s, "compile", argc, argv, NULL, NULL, NULL,
                                    "a sequence file is needed", &rc);
    if (seq && !(rc = refuse_lbc("compile", seq,
                                 "'%s' is already bytecode; compile takes a .psq")))
        rc = cli_seq_write_lbc(&s);
    cli_seq_fini(&s);
    return rc;
}

/* larmor disasm: the readable listing of a program. */
int cmd_disasm(int argc, char **argv)
{
    struct cli_seq s;
    int rc = 0;
    if (!cli_seq_begin(&s, "disasm", argc, argv, NULL, NULL, NULL,
                       "a .lbc (or .psq) file is needed", &rc) ||
        (rc = cli_seq_load(&s)) != 0)
        goto out;
    struct outfile o;
    FILE *f = cli_open_output("disasm", s.so.out, &o);
    if (!f) {
        rc = EXIT_INPUT;
        goto out;
    }
    lbc_disasm(s.p, f);
    rc = cli_close_output("disasm", &o);
out:
    cli_seq_fini(&s);
    return rc;
}

static int trace_opt(int ch, const char *arg, void *ctx)
{
    struct trace_opts *o = ctx;
    switch (ch) {
    case OPT_FROM: return cli_parse_time(arg, &o->from_ns);
    case OPT_TO: return cli_parse_time(arg, &o->to_ns);
    case OPT_DELAYS: o->show_delays = 1; return 0;
    case OPT_REPS: return cli_parse_range(arg, &o->first_rep, &o->last_rep);
    case OPT_BLOCKS: return cli_parse_range(arg, &o->first_block, &o->last_block);
    }
    return -1;
}

/* larmor trace: the blocks and events the timing VM plays. */
int cmd_trace(int argc, char **argv)
{
    struct trace_opts to = { 0, -1, 0, UINT64_MAX, 0, 0, UINT64_MAX };
    static const struct option extra[] = {
        { "from", required_argument, NULL, OPT_FROM },
        { "to", required_argument, NULL, OPT_TO },
        { "blocks", required_argument, NULL, OPT_BLOCKS },
        { "delays", no_argument, NULL, OPT_DELAYS },
        { "reps", required_argument, NULL, OPT_REPS },
        { NULL, 0, NULL, 0 },
    };
    struct cli_seq s;
    int rc = 0;
    if (!cli_seq_begin(&s, "trace", argc, argv, extra, trace_opt, &to, CLI_NEED_SEQ, &rc) ||
        (rc = cli_seq_load(&s)) != 0)
        goto out;
    struct outfile o;
    FILE *f = cli_open_output("trace", s.so.out, &o);
    if (!f) {
        rc = EXIT_INPUT;
        goto out;
    }
    struct trace_ctx tc = { .out = f, .o = to };
    struct vm_backend be;
    trace_backend(&be, &tc);
    struct vm_opts vo = { cli_vm_error, s.p, 0 };
    if (vm_run(s.p, &be, &vo, NULL) != 0)
        rc = EXIT_INPUT;
    if (cli_close_output("trace", &o) != 0)
        rc = EXIT_INPUT;
out:
    cli_seq_fini(&s);
    return rc;
}

static int check_opt(int ch, const char *arg, void *ctx)
{
    (void)arg;
    if (ch != OPT_JSON)
        return -1;
    *(bool *)ctx = true;
    return 0;
}

/* Print s's check report (as JSON if json) to -o or stdout; 0, or
   EXIT_INPUT if it cannot be written or the sequence fails its checks. */
static int print_check(const struct cli_seq *s, bool json)
{
    struct outfile o;
    FILE *f = cli_open_output("check", s->so.out, &o);
    if (!f)
        return EXIT_INPUT;
    if (json)
        check_print_json(s->ck, s->p, s->mins.v, s->mins.n, f);
    else
        check_print_text(s->ck, s->p, s->mins.v, s->mins.n, f);
    if (cli_close_output("check", &o) != 0)
        return EXIT_INPUT;
    return check_count(s->ck, false) ? EXIT_INPUT : 0;
}

/* larmor check: the report of a sequence against a scanner's limits. */
int cmd_check(int argc, char **argv)
{
    bool json = false;
    static const struct option extra[] = {
        { "json", no_argument, NULL, OPT_JSON },
        { NULL, 0, NULL, 0 },
    };
    struct cli_seq s;
    int rc = 0;
    if (!cli_seq_begin(&s, "check", argc, argv, extra, check_opt, &json, CLI_NEED_SEQ, &rc))
        goto out;
    rc = cli_seq_check(&s, true);
    if (rc == EXIT_USAGE)
        goto out;
    if (!rc)
        rc = print_check(&s, json);
    cli_print_outcome(&s.d);
out:
    cli_seq_fini(&s);
    return rc;
}

/* larmor params: a .psq's params with their values, ranges and docs. */
int cmd_params(int argc, char **argv)
{
    struct cli_seq s;
    int rc = 0;
    const char *seq = cli_seq_begin(&s, "params", argc, argv, NULL, NULL, NULL,
                                    "a .psq sequence file is needed", &rc);
    if (!seq || (rc = refuse_lbc("params", seq, "'%s' is bytecode; params reads a .psq")))
        goto out;
    struct compile_opts co;
    cli_seq_compile_opts(&co, &s);
    if (cli_seq_system(&s) != 0 || compile_describe_params(&co, &s.d, stdout) != 0)
        rc = EXIT_INPUT;
    cli_print_diags(&s.d);
out:
    cli_seq_fini(&s);
    return rc;
}
