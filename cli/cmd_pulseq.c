/*
 * cmd_pulseq: the Pulseq commands: import (a .seq to bytecode) and export
 * (a checked sequence to a signed .seq).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "runtime/pulseq/pulseq.h"
#include "base/util.h"

/* ---- Pulseq: import and export ---- */

static int import_opt(int ch, const char *arg, void *ctx)
{
    (void)arg;
    if (ch == OPT_STRICT) {
        ((struct seq_opts *)ctx)->strict = true;
        return 0;
    }
    return -1;
}

/* larmor import: a Pulseq .seq to bytecode. */
int cmd_import(int argc, char **argv)
{
    struct seq_opts so = { 0 };
    static const struct option extra[] = {
        { "strict", no_argument, NULL, OPT_STRICT },
        { NULL, 0, NULL, 0 },
    };
    int rc = 0;
    const char *seq = cli_one_operand("import", argc, argv, &so, extra, import_opt, &so,
                                      "a Pulseq .seq file is needed", &rc);
    if (!seq)
        goto out;
    if (!str_has_suffix(seq, ".seq")) {
        rc = cli_usage_error("import", "'%s' is not a .seq file", seq);
        goto out;
    }
    rc = cli_write_lbc("import", seq, &so);
out:
    free(so.defines);
    return rc;
}

static int export_opt(int ch, const char *arg, void *ctx)
{
    enum pulseq_format *f = ctx;
    if (ch != OPT_SEQFORMAT)
        return -1;
    if (!strcmp(arg, "1.4"))
        *f = PULSEQ_1_4;
    else if (!strcmp(arg, "1.5"))
        *f = PULSEQ_1_5;
    else
        return -1;
    return 0;
}

/* larmor export: a checked sequence as a signed Pulseq .seq. */
int cmd_export(int argc, char **argv)
{
    struct seq_opts so = { 0 };
    enum pulseq_format fmt = PULSEQ_1_5;
    static const struct option extra[] = {
        { "format", required_argument, NULL, OPT_SEQFORMAT },
        { NULL, 0, NULL, 0 },
    };
    int rc = 0;
    struct diag_ctx d;
    diag_init(&d);
    struct lbc_program *p = NULL;
    struct check *ck = NULL;
    char *text = NULL, *name = NULL;
    const char *seq = cli_one_operand("export", argc, argv, &so, extra, export_opt, &fmt,
                                      "a sequence (.psq, .lbc or .seq) is needed", &rc);
    if (!seq)
        goto out;
    struct system sys;
    rc = cli_compile_checked("export", seq, &so, &sys, &p, &ck, NULL, &d);
    if (rc == EXIT_USAGE)
        goto out;
    if (!rc && check_count(ck, false)) {
        struct diag *g = diag_error(&d, 760, SPAN_NONE, "%s does not pass its checks on '%s'; "
                                    "not exported", seq, sys.name);
        diag_help(g, "fix the violations above (or export --system for the scanner it is "
                  "meant for)");
        rc = EXIT_INPUT;
    }
    if (rc)
        goto print;
    name = cli_default_out(seq, "");
    struct pulseq_write_opts wo = { fmt, name };
    size_t len;
    if (pulseq_write(p, &sys, &wo, &text, &len, &d) != 0) {
        rc = EXIT_INPUT;
        goto print;
    }
    char *o = so.out ? xstrdup(so.out) : cli_default_out(seq, ".seq");
    FILE *f = fopen(o, "w");
    if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "larmor export: cannot write %s: %s\n", o, strerror(errno));
        rc = EXIT_INPUT;
    }
    free(o);
print:
    diag_print_all(&d, stderr, diag_want_color(stderr));
    if (d.nerrors)
        fprintf(stderr, "%d error%s\n", d.nerrors, d.nerrors == 1 ? "" : "s");
out:
    free(text);
    free(name);
    check_free(ck);
    lbc_free(p);
    diag_fini(&d);
    free(so.defines);
    return rc;
}
