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

/* larmor compile: a .psq (or .seq) to a checked .lbc. */
int cmd_compile(int argc, char **argv)
{
    struct seq_opts so = { 0 };
    int rc = 0;
    const char *seq = cli_one_operand("compile", argc, argv, &so, NULL, NULL, NULL,
                                      "a sequence file is needed", &rc);
    if (!seq)
        goto out;
    if (str_has_suffix(seq, ".lbc")) {
        rc = cli_usage_error("compile", "'%s' is already bytecode; compile takes a .psq", seq);
        goto out;
    }
    rc = cli_write_lbc("compile", seq, &so);
out:
    free(so.defines);
    return rc;
}

/* larmor disasm: the readable listing of a program. */
int cmd_disasm(int argc, char **argv)
{
    struct seq_opts so = { 0 };
    int rc = 0;
    const char *seq = cli_one_operand("disasm", argc, argv, &so, NULL, NULL, NULL,
                                      "a .lbc (or .psq) file is needed", &rc);
    if (!seq)
        goto out;
    struct lbc_program *p = cli_load_program(seq, &so, &rc);
    if (!p)
        goto out;
    FILE *f = cli_open_output("disasm", so.out);
    if (!f) {
        rc = EXIT_INPUT;
    } else {
        lbc_disasm(p, f);
        if (f != stdout)
            fclose(f);
    }
    lbc_free(p);
out:
    free(so.defines);
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
    struct seq_opts so = { 0 };
    struct trace_opts to = { 0, -1, 0, UINT64_MAX, 0, 0, UINT64_MAX };
    static const struct option extra[] = {
        { "from", required_argument, NULL, OPT_FROM },
        { "to", required_argument, NULL, OPT_TO },
        { "blocks", required_argument, NULL, OPT_BLOCKS },
        { "delays", no_argument, NULL, OPT_DELAYS },
        { "reps", required_argument, NULL, OPT_REPS },
        { NULL, 0, NULL, 0 },
    };
    int rc = 0;
    const char *seq = cli_one_operand("trace", argc, argv, &so, extra, trace_opt, &to,
                                      "a sequence (.psq, .lbc or .seq) is needed", &rc);
    if (!seq)
        goto out;
    struct lbc_program *p = cli_load_program(seq, &so, &rc);
    if (!p)
        goto out;
    FILE *f = cli_open_output("trace", so.out);
    if (!f) {
        rc = EXIT_INPUT;
    } else {
        struct trace_ctx tc = { .out = f, .o = to };
        struct vm_backend be;
        trace_backend(&be, &tc);
        struct vm_opts vo = { cli_vm_error, p, 0 };
        if (vm_run(p, &be, &vo, NULL) != 0)
            rc = EXIT_INPUT;
        if (f != stdout)
            fclose(f);
    }
    lbc_free(p);
out:
    free(so.defines);
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

/* larmor check: the report of a sequence against a scanner's limits. */
int cmd_check(int argc, char **argv)
{
    struct seq_opts so = { 0 };
    bool json = false;
    static const struct option extra[] = {
        { "json", no_argument, NULL, OPT_JSON },
        { NULL, 0, NULL, 0 },
    };
    int rc = 0;
    struct diag_ctx d;
    diag_init(&d);
    struct lbc_program *p = NULL;
    struct check *ck = NULL;
    struct cli_mins mins = { .n = 0 };
    const char *seq = cli_one_operand("check", argc, argv, &so, extra, check_opt, &json,
                                      "a sequence (.psq, .lbc or .seq) is needed", &rc);
    if (!seq)
        goto out;
    struct system sys;
    rc = cli_compile_checked("check", seq, &so, &sys, &p, &ck, &mins, &d);
    if (rc == EXIT_USAGE)
        goto out;
    if (rc)
        goto print;
    FILE *f = cli_open_output("check", so.out);
    if (!f) {
        rc = EXIT_INPUT;
        goto print;
    }
    if (json)
        check_print_json(ck, p, mins.v, mins.n, f);
    else
        check_print_text(ck, p, mins.v, mins.n, f);
    if (f != stdout)
        fclose(f);
    if (check_count(ck, false))
        rc = EXIT_INPUT;
print:
    diag_print_all(&d, stderr, diag_want_color(stderr));
    if (d.nerrors)
        fprintf(stderr, "%d error%s\n", d.nerrors, d.nerrors == 1 ? "" : "s");
out:
    check_free(ck);
    lbc_free(p);
    diag_fini(&d);
    free(so.defines);
    return rc;
}

/* larmor params: a .psq's params with their values, ranges and docs. */
int cmd_params(int argc, char **argv)
{
    struct seq_opts so = { 0 };
    int rc = 0;
    const char *seq = cli_one_operand("params", argc, argv, &so, NULL, NULL, NULL,
                                      "a .psq sequence file is needed", &rc);
    if (!seq)
        goto out;
    if (str_has_suffix(seq, ".lbc")) {
        rc = cli_usage_error("params", "'%s' is bytecode; params reads a .psq", seq);
        goto out;
    }
    struct diag_ctx d;
    diag_init(&d);
    struct system sys;
    struct compile_opts co = { 0 };
    co.path = seq;
    co.defines = so.defines;
    co.ndefines = so.ndefines;
    co.stdlib_dir = so.stdlib;
    co.sys = &sys;
    if (cli_load_system(&so, &sys, &d) != 0 || compile_describe_params(&co, &d, stdout) != 0)
        rc = EXIT_INPUT;
    diag_print_all(&d, stderr, diag_want_color(stderr));
    diag_fini(&d);
out:
    free(so.defines);
    return rc;
}
