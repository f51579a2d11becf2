/*
 * main: the `larmor` command. Git-style subcommands, each a row of the
 * command table with its own --help. Exit status: 0 success, 1 errors in
 * the input, 2 usage errors.
 */
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compiler/compile.h"
#include "config.h"
#include "runtime/check/check.h"
#include "base/diag.h"
#include "runtime/driver/run.h"
#include "runtime/phantom/phantom.h"
#include "runtime/plot/plot.h"
#include "runtime/pulseq/pulseq.h"
#include "runtime/recon/reconstruct.h"
#include "runtime/bloch/simulate.h"
#include "runtime/system/system.h"
#include "runtime/trace/trace.h"
#include "base/units.h"
#include "base/util.h"
#include "vm/program.h"
#include "vm/vm.h"

#define EXIT_INPUT 1
#define EXIT_USAGE 2

struct cmd {
    const char *name;
    const char *summary;
    const char *usage;
    int (*run)(int argc, char **argv);
};

static const struct cmd *find_cmd(const char *name);

static int usage_error(const char *cmd, const char *fmt, const char *arg)
{
    fprintf(stderr, "larmor %s: ", cmd);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'larmor %s --help'.\n", cmd);
    return EXIT_USAGE;
}

static void print_usage(const struct cmd *c, FILE *out)
{
    fprintf(out, "usage: %s\n\n%s\n", c->usage, c->summary);
}

/* Options shared by the commands that take a sequence. */
struct seq_opts {
    const char **defines;
    int ndefines;
    size_t capdefines;
    const char *out;
    const char *stdlib;
    const char *system;          /* --system NAME|PATH; NULL: generic_3t */
};

/* Load the --system choice (generic_3t without one) from the stdlib
   (--stdlib, else the default) or a path; errors go to d. */
static int load_system(const struct seq_opts *so, struct system *sys, struct diag_ctx *d)
{
    return system_resolve(so->system, so->stdlib, sys, d);
}

/* Import a Pulseq .seq (--strict: a signature mismatch is an error);
   diagnostics go to d. */
static bool seq_strict;

static struct lbc_program *import_seq(const char *path, struct diag_ctx *d)
{
    struct pulseq_read_opts ro = { .strict = seq_strict };
    return pulseq_read_file(path, &ro, d);
}

/* Compile a .psq, import a .seq or load a .lbc; diagnostics are printed. */
static struct lbc_program *load_program(const char *path, const struct seq_opts *so, int *rc)
{
    if (str_has_suffix(path, ".seq")) {
        if (so->ndefines) {
            fprintf(stderr, "larmor: -D applies to .psq sources; %s is a Pulseq file\n", path);
            *rc = EXIT_USAGE;
            return NULL;
        }
        struct diag_ctx d;
        diag_init(&d);
        struct lbc_program *p = import_seq(path, &d);
        diag_print_all(&d, stderr, diag_want_color(stderr));
        if (!p) {
            fprintf(stderr, "%d error%s\n", d.nerrors, d.nerrors == 1 ? "" : "s");
            *rc = EXIT_INPUT;
        }
        diag_fini(&d);
        return p;
    }
    if (str_has_suffix(path, ".lbc")) {
        if (so->ndefines || so->system) {
            fprintf(stderr, "larmor: %s applies to .psq sources; %s is already compiled\n",
                    so->ndefines ? "-D" : "--system", path);
            *rc = EXIT_USAGE;
            return NULL;
        }
        char err[512];
        struct lbc_program *p = lbc_read_file(path, err, sizeof err);
        if (!p) {
            fprintf(stderr, "larmor: error[E0701]: %s\n", err);
            *rc = EXIT_INPUT;
        }
        return p;
    }
    struct diag_ctx d;
    diag_init(&d);
    struct system sys;
    struct compile_opts co = { 0 };
    co.path = path;
    co.defines = so->defines;
    co.ndefines = so->ndefines;
    co.stdlib_dir = so->stdlib;
    co.sys = &sys;
    struct lbc_program *p = NULL;
    if (load_system(so, &sys, &d) == 0)
        p = compile_file(&co, &d);
    diag_print_all(&d, stderr, diag_want_color(stderr));
    if (!p) {
        fprintf(stderr, "%d error%s\n", d.nerrors, d.nerrors == 1 ? "" : "s");
        *rc = EXIT_INPUT;
    }
    diag_fini(&d);
    return p;
}

enum { OPT_PHANTOM = 180, OPT_SPINS, OPT_COILS, OPT_SNR, OPT_SEED, OPT_THREADS, OPT_QUIET,
       OPT_NODIFF, OPT_RES = 200, OPT_STDLIB = 256, OPT_SYSTEM, OPT_FROM, OPT_TO, OPT_BLOCKS, OPT_DELAYS, OPT_LIST,
       OPT_JSON, OPT_REPS, OPT_FORMAT = 300, OPT_WINDOW, OPT_MOSAIC, OPT_PF, OPT_POCS_IT,
       OPT_KEEP_OS, OPT_SENS, OPT_KSPACE, OPT_WISDOM, OPT_DIFF, OPT_SPOILING,
       OPT_REP = 340, OPT_SAR, OPT_PNS, OPT_SIZE, OPT_MARKS,
       OPT_STRICT = 380, OPT_SEQFORMAT };

/* What an option's value must look like, for "bad value" messages. */
static const char *opt_hint(int ch)
{
    switch (ch) {
    case OPT_FORMAT:
        return "--format takes png, nii, cfl, h5 or all, comma-separated (--format png,nii)";
    case OPT_SEQFORMAT:
        return "--format takes 1.4 or 1.5";
    case OPT_WINDOW:
        return "--window takes LO:HI with LO < HI (--window 0:0.5)";
    case OPT_PF:
        return "--partial-fourier takes zero or pocs";
    case OPT_POCS_IT:
        return "--pocs-iterations takes a whole number from 1 to 1000";
    case OPT_SPOILING:
        return "--spoiling takes ideal or none";
    case OPT_SPINS:
        return "--spins takes N or AxBxC, each 1 to 65536 (--spins 1x1x16)";
    case OPT_COILS:
        return "--coils takes a whole number from 1 to 128";
    case OPT_SNR:
        return "--snr takes a positive number";
    case OPT_THREADS:
        return "--threads takes a whole number from 1 to 1024";
    case OPT_RES:
        return "--res takes a positive length (--res 2mm)";
    case OPT_FROM:
    case OPT_TO:
        return "--from and --to take a time with its unit (--from 10ms, --to 1.5s)";
    case OPT_REP:
        return "--rep takes a repetition number (0, 1, 2, ...; larmor trace shows them)";
    case OPT_SIZE:
        return "--size takes WIDTHxHEIGHT, each 16 to 16384 (--size 1600x900)";
    }
    return NULL;
}

/* Parse the common options; returns the index of the first operand or -1. */
static int parse_seq_opts(const char *cmd, int argc, char **argv, struct seq_opts *so,
                          const struct option *extra, int (*on_extra)(int, const char *, void *),
                          void *ectx, int *rc)
{
    struct option base[48] = {
        { "help", no_argument, NULL, 'h' },
        { "define", required_argument, NULL, 'D' },
        { "output", required_argument, NULL, 'o' },
        { "stdlib", required_argument, NULL, OPT_STDLIB },
        { "system", required_argument, NULL, OPT_SYSTEM },
    };
    int nb = 5;
    for (int i = 0; extra && extra[i].name && nb < 47; i++)
        base[nb++] = extra[i];
    memset(&base[nb], 0, sizeof base[nb]);
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "hD:o:", base, NULL)) != -1) {
        switch (ch) {
        case 'h':
            print_usage(find_cmd(cmd), stdout);
            *rc = 0;
            return -1;
        case 'D':
            vec_reserve((void **)&so->defines, &so->capdefines,
                        (size_t)so->ndefines + 1, sizeof *so->defines);
            so->defines[so->ndefines++] = optarg;
            break;
        case 'o':
            so->out = optarg;
            break;
        case OPT_STDLIB:
            so->stdlib = optarg;
            break;
        case OPT_SYSTEM:
            so->system = optarg;
            break;
        case '?':
            *rc = usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
            return -1;
        case ':':
            *rc = usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
            return -1;
        default:
            if (on_extra && on_extra(ch, optarg, ectx) == 0)
                break;
            *rc = opt_hint(ch) ? usage_error(cmd, "%s", opt_hint(ch))
                               : usage_error(cmd, "bad value for '%s'", argv[optind - 1]);
            return -1;
        }
    }
    return optind;
}

/* The common start of a command that takes one sequence: parse the options
   and return the operand, or NULL with *rc set (0 after --help). */
static const char *one_operand(const char *cmd, int argc, char **argv, struct seq_opts *so,
                               const struct option *extra,
                               int (*on_extra)(int, const char *, void *), void *ectx,
                               const char *need, int *rc)
{
    int i = parse_seq_opts(cmd, argc, argv, so, extra, on_extra, ectx, rc);
    if (i < 0)
        return NULL;
    if (argc - i != 1) {
        *rc = usage_error(cmd, "%s", argc - i < 1 ? need : "one file at a time");
        return NULL;
    }
    return argv[i];
}

/* The output stream: the -o file, or stdout. NULL (and a message) on error. */
static FILE *open_output(const char *cmd, const char *path)
{
    if (!path)
        return stdout;
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "larmor %s: cannot write %s: %s\n", cmd, path, strerror(errno));
    return f;
}

static char *default_out(const char *in, const char *ext)
{
    const char *base = strrchr(in, '/');
    base = base ? base + 1 : in;
    const char *dot = strrchr(base, '.');
    size_t n = dot ? (size_t)(dot - base) : strlen(base);
    return xasprintf("%.*s%s", (int)n, base, ext);
}

/* Load seq (compile a .psq, import a .seq) and write it as bytecode to
   -o or the source name with .lbc; the exit status. */
static int load_and_write_lbc(const char *cmd, const char *seq, const struct seq_opts *so)
{
    int rc = 0;
    struct lbc_program *p = load_program(seq, so, &rc);
    if (!p)
        return rc;
    char *out = so->out ? xstrdup(so->out) : default_out(seq, ".lbc");
    char err[512];
    if (lbc_write_file(p, out, err, sizeof err) != 0) {
        fprintf(stderr, "larmor %s: cannot write %s: %s\n", cmd, out, err);
        rc = EXIT_INPUT;
    }
    free(out);
    lbc_free(p);
    return rc;
}

static int cmd_compile(int argc, char **argv)
{
    struct seq_opts so = { 0 };
    int rc = 0;
    const char *seq = one_operand("compile", argc, argv, &so, NULL, NULL, NULL,
                                  "a sequence file is needed", &rc);
    if (!seq)
        goto out;
    if (str_has_suffix(seq, ".lbc")) {
        rc = usage_error("compile", "'%s' is already bytecode; compile takes a .psq", seq);
        goto out;
    }
    rc = load_and_write_lbc("compile", seq, &so);
out:
    free(so.defines);
    return rc;
}

static int cmd_disasm(int argc, char **argv)
{
    struct seq_opts so = { 0 };
    int rc = 0;
    const char *seq = one_operand("disasm", argc, argv, &so, NULL, NULL, NULL,
                                  "a .lbc (or .psq) file is needed", &rc);
    if (!seq)
        goto out;
    struct lbc_program *p = load_program(seq, &so, &rc);
    if (!p)
        goto out;
    FILE *f = open_output("disasm", so.out);
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

/* Parse a time with a unit ("10ms", "2.5 s") into ns. */
static int parse_time_arg(const char *s, int64_t *ns)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s)
        return -1;
    while (*end == ' ')
        end++;
    double scale = 1;
    struct dim d = DIM_TIME;
    if (*end && !unit_parse(end, strlen(end), &scale, &d))
        return -1;
    if (!*end && v != 0)
        return -1;
    if (!dim_is_time(d))
        return -1;
    double x = v * scale * 1e9;
    if (!isfinite(x) || fabs(x) > 9e18)
        return -1;
    *ns = llrint(x);
    return 0;
}

/* Parse a quantity with a unit of dimension want ("2mm", "0.5 s") into SI;
   a bare number is read as SI. */
static int parse_quantity_arg(const char *s, struct dim want, double *si)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || !isfinite(v))
        return -1;
    while (*end == ' ')
        end++;
    double scale = 1;
    struct dim d = want;
    if (*end && !unit_parse(end, strlen(end), &scale, &d))
        return -1;
    if (!dim_eq(d, want))
        return -1;
    *si = v * scale;
    return isfinite(*si) ? 0 : -1;
}

static int parse_length_arg(const char *s, double *m)
{
    return parse_quantity_arg(s, (struct dim){ .s = 0, .m = 1, .T = 0 }, m);
}

/* "A..B" (A <= B) or "N" into an inclusive range; -1 if malformed. */
static int parse_range_arg(const char *arg, uint64_t *first, uint64_t *last)
{
    unsigned long long a, b;
    if (sscanf(arg, "%llu..%llu", &a, &b) == 2 && a <= b) {
        *first = a;
        *last = b;
        return 0;
    }
    if (sscanf(arg, "%llu", &a) == 1) {
        *first = *last = a;
        return 0;
    }
    return -1;
}

static int trace_opt(int ch, const char *arg, void *ctx)
{
    struct trace_opts *o = ctx;
    switch (ch) {
    case OPT_FROM: return parse_time_arg(arg, &o->from_ns);
    case OPT_TO: return parse_time_arg(arg, &o->to_ns);
    case OPT_DELAYS: o->show_delays = 1; return 0;
    case OPT_REPS: return parse_range_arg(arg, &o->first_rep, &o->last_rep);
    case OPT_BLOCKS: return parse_range_arg(arg, &o->first_block, &o->last_block);
    }
    return -1;
}

static int vm_err_print(void *ctx, const struct vm_error *e)
{
    const struct lbc_program *p = ctx;
    const struct lbc_span *s = e->pc < p->ncode ? &p->lines[e->pc] : NULL;
    if (s && s->file >= 0)
        fprintf(stderr, "%s:%u:%u: ", lbc_str(p, s->file), s->line, s->col);
    fprintf(stderr, "error[E%04d]: %s (t = %lld ns", (int)e->code, e->msg, (long long)e->time_ns);
    for (int i = 0; i < e->nloops; i++)
        fprintf(stderr, " %s=%.0f", lbc_str(p, e->loops[i].name), e->loops[i].value);
    fprintf(stderr, ")\n");
    return 0;
}

static int cmd_trace(int argc, char **argv)
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
    const char *seq = one_operand("trace", argc, argv, &so, extra, trace_opt, &to,
                                  "a sequence (.psq, .lbc or .seq) is needed", &rc);
    if (!seq)
        goto out;
    struct lbc_program *p = load_program(seq, &so, &rc);
    if (!p)
        goto out;
    FILE *f = open_output("trace", so.out);
    if (!f) {
        rc = EXIT_INPUT;
    } else {
        struct trace_ctx tc = { .out = f, .o = to };
        struct vm_backend be;
        trace_backend(&be, &tc);
        struct vm_opts vo = { vm_err_print, p, 0 };
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

/* ---- check ---- */

struct mins {
    struct check_minimum v[16];
    int n;
};

static void on_minimum(void *ctx, const char *param, int64_t cur, int64_t min, int at_floor)
{
    struct mins *m = ctx;
    if (m->n >= 16)
        return;
    struct check_minimum *x = &m->v[m->n++];
    snprintf(x->name, sizeof x->name, "%s", param);
    x->current_ns = cur;
    x->min_ns = min;
    x->at_floor = at_floor;
}

static int check_opt(int ch, const char *arg, void *ctx)
{
    (void)arg;
    if (ch != OPT_JSON)
        return -1;
    *(bool *)ctx = true;
    return 0;
}

/* Compile a .psq with its checks, or load a .lbc and check it against
   sys (a warning when it was compiled for another system). Diagnostics go
   to d; returns 0, EXIT_INPUT or EXIT_USAGE. mins NULL: no minimum search. */
static int compile_checked(const char *cmd, const char *seq, const struct seq_opts *so,
                           struct system *sys, struct lbc_program **pp, struct check **ckp,
                           struct mins *mins, struct diag_ctx *d)
{
    *pp = NULL;
    *ckp = NULL;
    if (load_system(so, sys, d) != 0)
        return EXIT_INPUT;
    bool is_seq = str_has_suffix(seq, ".seq");
    if (str_has_suffix(seq, ".lbc") || is_seq) {
        if (so->ndefines)
            return usage_error(cmd, "-D applies to .psq sources; '%s' is already compiled", seq);
        char err[512];
        struct lbc_program *p = is_seq ? import_seq(seq, d) : lbc_read_file(seq, err, sizeof err);
        if (!p) {
            if (!is_seq)
                fprintf(stderr, "larmor: error[E0701]: %s\n", err);
            return EXIT_INPUT;
        }
        *pp = p;
        const char *was = p->sys_name >= 0 ? lbc_str(p, p->sys_name) : "(none)";
        /* an imported Pulseq program (no system) is checked without a warning */
        if (!is_seq && p->sys_name >= 0 &&
            (p->sys_hash != sys->hash || strcmp(was, sys->name))) {
            struct diag *g = diag_warning(d, 676, SPAN_NONE, "%s was compiled for system '%s' "
                                          "(hash 0x%016" PRIx64 "); checking it against '%s' "
                                          "(hash 0x%016" PRIx64 ")", seq, was, p->sys_hash,
                                          sys->name, sys->hash);
            diag_help(g, "rasters and dead times are those it was compiled with; recompile the "
                      ".psq with --system %s to design for this scanner", sys->name);
        }
        struct check *ck = check_new(sys);
        struct vm_backend be;
        check_backend(ck, &be);
        struct vm_opts vo = { vm_err_print, p, 0 };
        if (vm_run(p, &be, &vo, NULL) != 0) {
            check_free(ck);
            return EXIT_INPUT;
        }
        check_report(ck, p, d);
        *ckp = ck;
        return 0;
    }
    struct compile_opts co = { 0 };
    co.path = seq;
    co.defines = so->defines;
    co.ndefines = so->ndefines;
    co.stdlib_dir = so->stdlib;
    co.sys = sys;
    co.check_out = ckp;
    co.on_minimum = mins ? on_minimum : NULL;   /* NULL: no minimum search */
    co.min_ctx = mins;
    *pp = compile_file(&co, d);
    if (!*pp || !*ckp)
        return EXIT_INPUT;
    return 0;
}

static int cmd_check(int argc, char **argv)
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
    struct mins mins = { .n = 0 };
    const char *seq = one_operand("check", argc, argv, &so, extra, check_opt, &json,
                                  "a sequence (.psq, .lbc or .seq) is needed", &rc);
    if (!seq)
        goto out;
    struct system sys;
    rc = compile_checked("check", seq, &so, &sys, &p, &ck, &mins, &d);
    if (rc == EXIT_USAGE)
        goto out;
    if (rc)
        goto print;
    FILE *f = open_output("check", so.out);
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

static int cmd_params(int argc, char **argv)
{
    struct seq_opts so = { 0 };
    int rc = 0;
    const char *seq = one_operand("params", argc, argv, &so, NULL, NULL, NULL,
                                  "a .psq sequence file is needed", &rc);
    if (!seq)
        goto out;
    if (str_has_suffix(seq, ".lbc")) {
        rc = usage_error("params", "'%s' is bytecode; params reads a .psq", seq);
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
    if (load_system(&so, &sys, &d) != 0 || compile_describe_params(&co, &d, stdout) != 0)
        rc = EXIT_INPUT;
    diag_print_all(&d, stderr, diag_want_color(stderr));
    diag_fini(&d);
out:
    free(so.defines);
    return rc;
}

/* larmor system --list: each shipped system with its description. */
static int list_systems(const char *stdlib)
{
    size_t n;
    char **names = system_names(stdlib, &n);
    if (!n)
        fprintf(stderr, "larmor system: no systems in %s/systems\n",
                stdlib ? stdlib : compile_default_stdlib());
    for (size_t i = 0; i < n; i++) {
        struct diag_ctx d;
        diag_init(&d);
        struct system sys;
        if (system_resolve(names[i], stdlib, &sys, &d) == 0)
            printf("%-20s %s\n", names[i], sys.description);
        else
            printf("%-20s (does not load: %d error%s; larmor system %s tells)\n", names[i],
                   d.nerrors, d.nerrors == 1 ? "" : "s", names[i]);
        diag_fini(&d);
        free(names[i]);
    }
    free(names);
    return n ? 0 : EXIT_INPUT;
}

static int cmd_system(int argc, char **argv)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },
        { "list", no_argument, NULL, OPT_LIST },
        { "stdlib", required_argument, NULL, OPT_STDLIB },
        { NULL, 0, NULL, 0 },
    };
    const char *stdlib = NULL;
    bool list = false;
    optind = 1;
    opterr = 0;
    for (int ch; (ch = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
        switch (ch) {
        case 'h':
            print_usage(find_cmd("system"), stdout);
            return 0;
        case OPT_LIST:
            list = true;
            break;
        case OPT_STDLIB:
            stdlib = optarg;
            break;
        case ':':
            return usage_error("system", "option '%s' needs a value", argv[optind - 1]);
        default:
            return usage_error("system", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind > (list ? 0 : 1))
        return usage_error("system", "%s",
                           list ? "--list takes no system" : "one system at a time");
    if (list)
        return list_systems(stdlib);
    struct diag_ctx d;
    diag_init(&d);
    struct system sys;
    int rc = 0;
    if (system_resolve(optind < argc ? argv[optind] : NULL, stdlib, &sys, &d) == 0) {
        system_print(&sys, stdout);
    } else {
        diag_print_all(&d, stderr, diag_want_color(stderr));
        fprintf(stderr, "%d error%s\n", d.nerrors, d.nerrors == 1 ? "" : "s");
        rc = EXIT_INPUT;
    }
    diag_fini(&d);
    return rc;
}

/* larmor simulate */
struct sim_cli {
    const char *phantom;
    int diffusion;               /* -1 --no-diffusion, +1 --diffusion, 0 default (off) */
    int spoiling;                /* -1 --spoiling none, 0 ideal (default) */
    double res;
    struct simulate_opts so;
};

static int parse_int_arg(const char *s, long lo, long hi, long *v)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (end == s || *end || errno || x < lo || x > hi)
        return -1;
    *v = x;
    return 0;
}

static int sim_opt(int ch, const char *arg, void *ctx)
{
    struct sim_cli *c = ctx;
    struct sim_opts *o = &c->so.sim;
    long v;
    switch (ch) {
    case OPT_PHANTOM:
        c->phantom = arg;
        return 0;
    case OPT_RES:
        return parse_length_arg(arg, &c->res) != 0 || !(c->res > 0) ? -1 : 0;
    case OPT_SPINS: {
        /* N (along z, the slice direction) or AxBxC */
        long a = 1, b = 1, z = 1;
        char buf[64];
        snprintf(buf, sizeof buf, "%s", arg);
        char *x1 = strchr(buf, 'x');
        if (!x1)
            return parse_int_arg(buf, 1, 65536, &z) ? -1 : (o->spins[2] = (int)z, 0);
        *x1 = 0;
        char *x2 = strchr(x1 + 1, 'x');
        if (!x2)
            return -1;
        *x2 = 0;
        if (parse_int_arg(buf, 1, 65536, &a) || parse_int_arg(x1 + 1, 1, 65536, &b) ||
            parse_int_arg(x2 + 1, 1, 65536, &z))
            return -1;
        o->spins[0] = (int)a;
        o->spins[1] = (int)b;
        o->spins[2] = (int)z;
        return 0;
    }
    case OPT_COILS:
        return parse_int_arg(arg, 1, 128, &v) ? -1 : (o->ncoils = (int)v, 0);
    case OPT_SNR: {
        char *end;
        double x = strtod(arg, &end);
        return end == arg || *end || !(x > 0) || !isfinite(x) ? -1 : (o->snr = x, 0);
    }
    case OPT_SEED:
        return parse_int_arg(arg, 0, LONG_MAX, &v) ? -1 : (o->seed = (uint64_t)v, 0);
    case OPT_THREADS:
        return parse_int_arg(arg, 1, 1024, &v) ? -1 : (o->threads = (int)v, 0);
    case OPT_QUIET:
        c->so.quiet = true;
        return 0;
    case OPT_NODIFF:
        c->diffusion = -1;
        return 0;
    case OPT_DIFF:
        c->diffusion = 1;
        return 0;
    case OPT_SPOILING:
        if (!strcmp(arg, "ideal"))
            c->spoiling = 0;
        else if (!strcmp(arg, "none"))
            c->spoiling = -1;
        else
            return -1;
        return 0;
    }
    return -1;
}

/* Simulate program p (from file seq) on the phantom of c into out; the
   scanner is --system, or the one a .lbc was compiled for. */
static int run_simulation(const char *seq, const struct lbc_program *p, const struct seq_opts *so,
                          struct sim_cli *c, const char *out)
{
    struct diag_ctx d;
    diag_init(&d);
    struct system sys;
    const char *sysname = so->system;
    if (str_has_suffix(seq, ".lbc") && p->sys_name >= 0)
        sysname = lbc_str(p, p->sys_name);
    if (system_resolve(sysname, so->stdlib, &sys, &d) != 0) {
        diag_print_all(&d, stderr, diag_want_color(stderr));
        diag_fini(&d);
        return EXIT_INPUT;
    }
    struct phantom *ph = phantom_load(c->phantom ? c->phantom : "shepp-logan", c->res, &d);
    if (d.ndiags)
        diag_print_all(&d, stderr, diag_want_color(stderr));
    diag_fini(&d);
    if (!ph)
        return EXIT_INPUT;
    /* Diffusion is simulated on request: a random walk needs many
       isochromats per voxel to mean the voxel's attenuation (one spin's
       walk is phase noise), and costs more than the rest of the
       simulation; imaging sequences barely feel it. */
    c->so.sim.diffusion = c->diffusion > 0;
    c->so.sim.ideal_spoiling = c->spoiling >= 0;
    c->so.sim.gamma = 2 * M_PI * sys.gamma;   /* rad/s/T from gamma-bar */
    c->so.sim.b0 = sys.b0;
    c->so.out = out;
    char *name = default_out(seq, "");
    c->so.seq_name = name;
    c->so.progress = isatty(2);
    int r = simulate_run(p, &sys, ph, &c->so, stderr);
    free(name);
    phantom_free(ph);
    return r == 130 ? 130 : r ? EXIT_INPUT : 0;
}

static const struct option sim_options[] = {
    { "phantom", required_argument, NULL, OPT_PHANTOM },
    { "res", required_argument, NULL, OPT_RES },
    { "spins", required_argument, NULL, OPT_SPINS },
    { "coils", required_argument, NULL, OPT_COILS },
    { "snr", required_argument, NULL, OPT_SNR },
    { "seed", required_argument, NULL, OPT_SEED },
    { "threads", required_argument, NULL, OPT_THREADS },
    { "quiet", no_argument, NULL, OPT_QUIET },
    { "no-diffusion", no_argument, NULL, OPT_NODIFF },
    { "diffusion", no_argument, NULL, OPT_DIFF },
    { "spoiling", required_argument, NULL, OPT_SPOILING },
    { NULL, 0, NULL, 0 },
};

static int cmd_simulate(int argc, char **argv)
{
    struct seq_opts so = { 0 };
    struct sim_cli c;
    memset(&c, 0, sizeof c);
    sim_opts_default(&c.so.sim);
    int rc = 0;
    char *out = NULL;
    struct lbc_program *p = NULL;
    const char *seq = one_operand("simulate", argc, argv, &so, sim_options, sim_opt, &c,
                                  "a sequence (.psq, .lbc or .seq) is needed", &rc);
    if (!seq)
        goto out;
    p = load_program(seq, &so, &rc);
    if (!p)
        goto out;
    out = so.out ? xstrdup(so.out) : default_out(seq, ".h5");
    rc = run_simulation(seq, p, &so, &c, out);
out:
    lbc_free(p);
    free(out);
    free(so.defines);
    return rc;
}

/* larmor recon */
static const struct option recon_options[] = {
    { "format", required_argument, NULL, OPT_FORMAT },
    { "window", required_argument, NULL, OPT_WINDOW },
    { "mosaic", no_argument, NULL, OPT_MOSAIC },
    { "partial-fourier", required_argument, NULL, OPT_PF },
    { "pocs-iterations", required_argument, NULL, OPT_POCS_IT },
    { "keep-oversampling", no_argument, NULL, OPT_KEEP_OS },
    { "sens", required_argument, NULL, OPT_SENS },
    { "kspace", required_argument, NULL, OPT_KSPACE },
    { "fft-wisdom", required_argument, NULL, OPT_WISDOM },
    { NULL, 0, NULL, 0 },
};

static int recon_opt(int ch, const char *arg, struct recon_cli *c)
{
    long v;
    switch (ch) {
    case OPT_FORMAT:
        return recon_parse_formats(arg, &c->formats);
    case OPT_WINDOW: {
        char *end;
        double lo = strtod(arg, &end);
        if (end == arg || *end != ':')
            return -1;
        const char *h = end + 1;
        double hi = strtod(h, &end);
        if (end == h || *end || !isfinite(lo) || !isfinite(hi) || !(hi > lo))
            return -1;
        c->png.lo = lo;
        c->png.hi = hi;
        return 0;
    }
    case OPT_MOSAIC:
        c->png.mosaic = true;
        return 0;
    case OPT_PF:
        if (!strcmp(arg, "zero"))
            c->ro.pf = RECON_PF_ZERO;
        else if (!strcmp(arg, "pocs"))
            c->ro.pf = RECON_PF_POCS;
        else
            return -1;
        return 0;
    case OPT_POCS_IT:
        return parse_int_arg(arg, 1, 1000, &v) ? -1 : (c->ro.pocs_iterations = (int)v, 0);
    case OPT_KEEP_OS:
        c->ro.keep_oversampling = true;
        return 0;
    case OPT_SENS:
        c->sens_path = arg;
        return 0;
    case OPT_KSPACE:
        c->kspace_path = arg;
        return 0;
    case OPT_WISDOM:
        c->wisdom = arg;
        return 0;
    case OPT_THREADS:
        return parse_int_arg(arg, 1, 1024, &v) ? -1 : (c->threads = (int)v, 0);
    case OPT_QUIET:
        c->quiet = true;
        return 0;
    }
    return -1;
}

/* A file name with its extension cut (and the folders kept). */
static char *strip_ext(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    size_t n = dot && (!slash || dot > slash) ? (size_t)(dot - path) : strlen(path);
    return xasprintf("%.*s", (int)n, path);
}

static int cmd_recon(int argc, char **argv)
{
    struct option opts[24] = {
        { "help", no_argument, NULL, 'h' },
        { "output", required_argument, NULL, 'o' },
        { "threads", required_argument, NULL, OPT_THREADS },
        { "quiet", no_argument, NULL, OPT_QUIET },
    };
    int n = 4;
    for (int i = 0; recon_options[i].name; i++)
        opts[n++] = recon_options[i];
    memset(&opts[n], 0, sizeof opts[n]);
    struct recon_cli c;
    memset(&c, 0, sizeof c);
    c.ro.pf = RECON_PF_POCS;
    const char *out = NULL;
    optind = 1;
    opterr = 0;
    for (int ch; (ch = getopt_long(argc, argv, "ho:", opts, NULL)) != -1;) {
        switch (ch) {
        case 'h':
            print_usage(find_cmd("recon"), stdout);
            return 0;
        case 'o':
            out = optarg;
            break;
        case ':':
            return usage_error("recon", "option '%s' needs a value", argv[optind - 1]);
        case '?':
            return usage_error("recon", "unknown option '%s'", argv[optind - 1]);
        default:
            if (recon_opt(ch, optarg, &c) != 0)
                return opt_hint(ch) ? usage_error("recon", "%s", opt_hint(ch))
                                    : usage_error("recon", "bad value for '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return usage_error("recon", "%s", argc - optind < 1 ? "an ISMRMRD raw data file is needed"
                                                           : "one raw data file at a time");
    const char *raw = argv[optind];
    char *dflt = out ? NULL : strip_ext(raw);
    int rc = reconstruct(raw, out ? out : dflt, &c, stderr) ? EXIT_INPUT : 0;
    free(dflt);
    return rc;
}

/* larmor scan: compile + check, simulate, reconstruct */
struct scan_cli {
    struct sim_cli sim;
    struct recon_cli rec;
};

/* The scan's overview.png (the image next to its k-space): recon hooks. */
struct overview_hook {
    struct plot_overview *ov;
    const char *dir, *title;
};

static void overview_kspace(void *ctx, const struct kspace *k)
{
    struct overview_hook *h = ctx;
    plot_overview_kspace(h->ov, k);
}

static int overview_image(void *ctx, const struct image_vol *v, char **written, char *err,
                          size_t errlen)
{
    struct overview_hook *h = ctx;
    char *path = xasprintf("%s/overview.png", h->dir);
    if (plot_overview_write(h->ov, v, h->title, path, err, errlen) != 0) {
        free(path);
        return -1;
    }
    *written = path;
    return 0;
}

static int scan_opt(int ch, const char *arg, void *ctx)
{
    struct scan_cli *s = ctx;
    if (ch == OPT_THREADS || ch == OPT_QUIET) {
        if (sim_opt(ch, arg, &s->sim) != 0)
            return -1;
        return recon_opt(ch, arg, &s->rec);
    }
    if (sim_opt(ch, arg, &s->sim) == 0)
        return 0;
    return recon_opt(ch, arg, &s->rec);
}

static int cmd_scan(int argc, char **argv)
{
    struct seq_opts so = { 0 };
    struct scan_cli sc;
    memset(&sc, 0, sizeof sc);
    sim_opts_default(&sc.sim.so.sim);
    sc.rec.ro.pf = RECON_PF_POCS;
    struct option extra[32];
    int n = 0;
    for (int i = 0; sim_options[i].name; i++)
        extra[n++] = sim_options[i];
    for (int i = 0; recon_options[i].name; i++)
        extra[n++] = recon_options[i];
    memset(&extra[n], 0, sizeof extra[n]);
    int rc = 0;
    char *dir = NULL, *path = NULL;
    struct lbc_program *p = NULL;
    struct check *ck = NULL;
    struct mins mins = { .n = 0 };
    struct diag_ctx d;
    diag_init(&d);
    const char *seq = one_operand("scan", argc, argv, &so, extra, scan_opt, &sc,
                                  "a sequence (.psq, .lbc or .seq) is needed", &rc);
    if (!seq)
        goto out;
    /* 1. compile and check: nothing runs that did not pass (and a sequence
       that does not compile leaves no folder behind) */
    struct system sys;
    rc = compile_checked("scan", seq, &so, &sys, &p, &ck, &mins, &d);
    diag_print_all(&d, stderr, diag_want_color(stderr));
    if (rc)
        goto out;
    dir = so.out ? xstrdup(so.out) : default_out(seq, "");
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "larmor scan: cannot create the folder %s: %s\n", dir, strerror(errno));
        rc = EXIT_INPUT;
        goto out;
    }
    path = xasprintf("%s/check.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "larmor scan: cannot write %s: %s\n", path, strerror(errno));
        rc = EXIT_INPUT;
        goto out;
    }
    check_print_text(ck, p, mins.v, mins.n, f);
    fclose(f);
    if (check_count(ck, false)) {
        fprintf(stderr, "larmor scan: %s does not pass the checks for %s (see %s); "
                "nothing was simulated\n", seq, sys.name, path);
        rc = EXIT_INPUT;
        goto out;
    }
    if (!sc.sim.so.quiet)
        fprintf(stderr, "checked %s for %s: %d warning%s -> %s\n", seq, sys.name,
                check_count(ck, true), check_count(ck, true) == 1 ? "" : "s", path);
    free(path);
    path = xasprintf("%s/raw.h5", dir);
    /* 2. simulate (a .lbc on the system it was checked for) */
    rc = run_simulation(seq, p, &so, &sc.sim, path);
    if (rc)
        goto out;
    /* 3. reconstruct, and the overview */
    struct overview_hook oh = { plot_overview_new(), dir, seq };
    sc.rec.on_kspace = overview_kspace;
    sc.rec.on_image = overview_image;
    sc.rec.hook_ctx = &oh;
    rc = reconstruct(path, dir, &sc.rec, stderr) ? EXIT_INPUT : 0;
    plot_overview_free(oh.ov);
    plot_cleanup();
out:
    diag_fini(&d);
    check_free(ck);
    lbc_free(p);
    free(path);
    free(dir);
    free(so.defines);
    return rc;
}

/* larmor plot */
struct plot_cli {
    struct plot_opts po;
    bool kspace, window;
    unsigned safety;             /* PLOT_SAR | PLOT_PNS */
};

static int plot_opt(int ch, const char *arg, void *ctx)
{
    struct plot_cli *c = ctx;
    long v;
    switch (ch) {
    case OPT_FROM:
        c->window = true;
        return parse_time_arg(arg, &c->po.from_ns);
    case OPT_TO:
        c->window = true;
        return parse_time_arg(arg, &c->po.to_ns);
    case OPT_REP:
        return parse_int_arg(arg, 0, LONG_MAX, &v) ? -1 : (c->po.rep = v, 0);
    case OPT_MARKS:
        c->po.blocks = true;
        return 0;
    case OPT_KSPACE:
        c->kspace = true;
        return 0;
    case OPT_SAR:
        c->safety |= PLOT_SAR;
        return 0;
    case OPT_PNS:
        c->safety |= PLOT_PNS;
        return 0;
    case OPT_SIZE: {
        long w, h;
        char buf[64], *x;
        snprintf(buf, sizeof buf, "%s", arg);
        if (!(x = strchr(buf, 'x')))
            return -1;
        *x = 0;
        if (parse_int_arg(buf, 16, 16384, &w) || parse_int_arg(x + 1, 16, 16384, &h))
            return -1;
        c->po.width = (int)w;
        c->po.height = (int)h;
        return 0;
    }
    }
    return -1;
}

static int cmd_plot(int argc, char **argv)
{
    static const struct option extra[] = {
        { "from", required_argument, NULL, OPT_FROM },
        { "to", required_argument, NULL, OPT_TO },
        { "rep", required_argument, NULL, OPT_REP },
        { "blocks", no_argument, NULL, OPT_MARKS },
        { "kspace", no_argument, NULL, OPT_KSPACE },
        { "sar", no_argument, NULL, OPT_SAR },
        { "pns", no_argument, NULL, OPT_PNS },
        { "size", required_argument, NULL, OPT_SIZE },
        { NULL, 0, NULL, 0 },
    };
    struct seq_opts so = { 0 };
    struct plot_cli c = { .kspace = false };
    plot_opts_init(&c.po);
    int rc = 0;
    char *out = NULL;
    struct lbc_program *p = NULL;
    struct check *ck = NULL;
    struct diag_ctx d;
    diag_init(&d);
    const char *seq = one_operand("plot", argc, argv, &so, extra, plot_opt, &c,
                                  "a sequence (.psq, .lbc or .seq) is needed", &rc);
    if (!seq)
        goto out;
    if (c.window && c.po.rep >= 0) {
        rc = usage_error("plot", "%s", "--rep picks its own time window; give it or --from/--to");
        goto out;
    }
    if (c.po.to_ns >= 0 && c.po.to_ns <= c.po.from_ns) {
        rc = usage_error("plot", "%s", "--to must come after --from (and after 0)");
        goto out;
    }
    if (c.kspace && c.safety) {
        rc = usage_error("plot", "%s", "--kspace and --sar/--pns make different plots; "
                         "one at a time");
        goto out;
    }
    out = so.out ? xstrdup(so.out)
                 : default_out(seq, c.kspace ? "_kspace.png" : c.safety == PLOT_SAR ? "_sar.png" :
                               c.safety == PLOT_PNS ? "_pns.png" : c.safety ? "_safety.png" :
                               ".png");
    if (plot_format_of(out) < 0) {
        rc = usage_error("plot", "-o %s: the file name must end in .png, .svg or .pdf (the "
                         "extension picks the format)", out);
        goto out;
    }
    struct system sys;
    rc = compile_checked("plot", seq, &so, &sys, &p, &ck, NULL, &d);
    diag_print_all(&d, stderr, diag_want_color(stderr));
    if (rc)
        goto out;
    if (check_count(ck, false))
        fprintf(stderr, "larmor plot: %s does not pass the checks for %s (above); plotting it "
                "anyway\n", seq, sys.name);
    char err[1024];
    int r = c.kspace ? plot_kspace(p, &sys, &c.po, out, err, sizeof err)
            : c.safety ? plot_safety(p, &sys, c.safety, &c.po, out, err, sizeof err)
                       : plot_timing(p, &sys, &c.po, out, err, sizeof err);
    if (r != 0) {
        fprintf(stderr, "larmor plot: %s\n", err);
        rc = EXIT_INPUT;
    }
    plot_cleanup();
out:
    diag_fini(&d);
    check_free(ck);
    lbc_free(p);
    free(out);
    free(so.defines);
    return rc;
}

/* larmor phantom [P] [--res LEN]: load a phantom (the built-in Shepp-Logan
   when none is named) and describe it, or print its errors. */
/* ---- Pulseq: import and export ---- */

static int import_opt(int ch, const char *arg, void *ctx)
{
    (void)arg;
    (void)ctx;
    if (ch == OPT_STRICT) {
        seq_strict = true;
        return 0;
    }
    return -1;
}

static int cmd_import(int argc, char **argv)
{
    struct seq_opts so = { 0 };
    static const struct option extra[] = {
        { "strict", no_argument, NULL, OPT_STRICT },
        { NULL, 0, NULL, 0 },
    };
    int rc = 0;
    const char *seq = one_operand("import", argc, argv, &so, extra, import_opt, NULL,
                                  "a Pulseq .seq file is needed", &rc);
    if (!seq)
        goto out;
    if (!str_has_suffix(seq, ".seq")) {
        rc = usage_error("import", "'%s' is not a .seq file", seq);
        goto out;
    }
    rc = load_and_write_lbc("import", seq, &so);
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

static int cmd_export(int argc, char **argv)
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
    const char *seq = one_operand("export", argc, argv, &so, extra, export_opt, &fmt,
                                  "a sequence (.psq, .lbc or .seq) is needed", &rc);
    if (!seq)
        goto out;
    struct system sys;
    rc = compile_checked("export", seq, &so, &sys, &p, &ck, NULL, &d);
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
    name = default_out(seq, "");
    struct pulseq_write_opts wo = { fmt, name };
    size_t len;
    if (pulseq_write(p, &sys, &wo, &text, &len, &d) != 0) {
        rc = EXIT_INPUT;
        goto print;
    }
    char *o = so.out ? xstrdup(so.out) : default_out(seq, ".seq");
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

static int cmd_phantom(int argc, char **argv)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },
        { "res", required_argument, NULL, OPT_RES },
        { NULL, 0, NULL, 0 },
    };
    double res = 0;
    optind = 1;
    opterr = 0;
    for (int ch; (ch = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
        switch (ch) {
        case 'h':
            print_usage(find_cmd("phantom"), stdout);
            return 0;
        case OPT_RES:
            if (parse_length_arg(optarg, &res) != 0 || !(res > 0))
                return usage_error("phantom", "--res needs a positive length such as 2mm, not '%s'",
                                   optarg);
            break;
        case ':':
            return usage_error("phantom", "option '%s' needs a value", argv[optind - 1]);
        default:
            return usage_error("phantom", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind > 1)
        return usage_error("phantom", "%s", "one phantom at a time");
    struct diag_ctx d;
    diag_init(&d);
    int rc = 0;
    struct phantom *ph = phantom_load(optind < argc ? argv[optind] : "shepp-logan", res, &d);
    if (ph) {
        phantom_describe(ph, stdout);
        phantom_free(ph);
    }
    if (d.ndiags)
        diag_print_all(&d, stderr, diag_want_color(stderr));
    if (!ph) {
        fprintf(stderr, "%d error%s\n", d.nerrors, d.nerrors == 1 ? "" : "s");
        rc = EXIT_INPUT;
    }
    diag_fini(&d);
    return rc;
}

static int cmd_help(int argc, char **argv);

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("larmor %s (bytecode format %u)\n", PACKAGE_VERSION, LBC_VERSION);
    return 0;
}

/* larmor run: compile + check for the driver's system, run on the driver,
   write the raw data and reconstruct (the layout of larmor scan) */
enum { OPT_DRIVER = 400 };

static int run_opt(int ch, const char *arg, void *ctx)
{
    if (ch == OPT_DRIVER) {
        *(const char **)ctx = arg;
        return 0;
    }
    return -1;
}

static int cmd_run(int argc, char **argv)
{
    static const struct option extra[] = {
        { "driver", required_argument, NULL, OPT_DRIVER },
        { NULL, 0, NULL, 0 },
    };
    struct seq_opts so = { 0 };
    const char *uri = NULL;
    int rc = 0;
    char *dir = NULL, *path = NULL;
    struct lbc_program *p = NULL;
    struct check *ck = NULL;
    struct diag_ctx d;
    diag_init(&d);
    const char *seq = one_operand("run", argc, argv, &so, extra, run_opt, &uri,
                                  "a sequence (.psq or .lbc) is needed", &rc);
    if (!seq)
        goto out;
    if (!uri) {
        rc = usage_error("run", "%s", "--driver URI is needed (marcos://HOST:PORT or record:FILE)");
        goto out;
    }
    /* the driver's own system: MaRCoS consoles are low-field */
    if (!so.system && (!strncmp(uri, "marcos:", 7) || !strncmp(uri, "record:", 7)))
        so.system = "marcos_lowfield";
    struct system sys;
    char e[1024];
    if (load_system(&so, &sys, &d) != 0 || driver_check_uri(uri, &sys, e, sizeof e) != 0) {
        if (!d.nerrors)
            fprintf(stderr, "larmor run: %s\n", e);
        diag_print_all(&d, stderr, diag_want_color(stderr));
        rc = EXIT_INPUT;
        goto out;
    }
    dir = so.out ? xstrdup(so.out) : default_out(seq, "");
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "larmor run: cannot create the folder %s: %s\n", dir, strerror(errno));
        rc = EXIT_INPUT;
        goto out;
    }
    rc = compile_checked("run", seq, &so, &sys, &p, &ck, NULL, &d);
    diag_print_all(&d, stderr, diag_want_color(stderr));
    if (rc)
        goto out;
    path = xasprintf("%s/check.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "larmor run: cannot write %s: %s\n", path, strerror(errno));
        rc = EXIT_INPUT;
        goto out;
    }
    check_print_text(ck, p, NULL, 0, f);
    fclose(f);
    if (check_count(ck, false)) {
        fprintf(stderr, "larmor run: %s does not pass the checks for %s (see %s); nothing was "
                "sent\n", seq, sys.name, path);
        rc = EXIT_INPUT;
        goto out;
    }
    /* the ticket: what passed the checks, for the driver to verify */
    struct drv_ticket t;
    drv_ticket_make(&t, p, &sys);
    free(path);
    path = xasprintf("%s/raw.h5", dir);
    char *name = default_out(seq, "");
    struct run_opts ro = { uri, path, name, false };
    bool wrote = false;
    rc = driver_run(p, &sys, &t, &ro, &wrote, stderr);
    free(name);
    if (rc == 0 && wrote) {
        struct recon_cli rec;
        memset(&rec, 0, sizeof rec);
        rec.ro.pf = RECON_PF_POCS;
        rc = reconstruct(path, dir, &rec, stderr) ? EXIT_INPUT : 0;
    }
out:
    diag_fini(&d);
    check_free(ck);
    lbc_free(p);
    free(path);
    free(dir);
    free(so.defines);
    return rc;
}

static const struct cmd cmds[] = {
    { "compile", "Compile a sequence to checked bytecode.\n"
      "The timing is solved and every limit of the scanner checked (rasters, dead\n"
      "times, gradients, slew, RF, ADC, SAR, PNS: see larmor check) by a dry run\n"
      "of the VM; any violation is an error. The output defaults to the source\n"
      "name with .lbc in the current folder.\n\n"
      "  -D name=value   override a param (units required: -D te=30ms)\n"
      "  -o FILE         write the bytecode to FILE\n"
      "  --system S      compile for scanner S: a shipped name (larmor system --list)\n"
      "                  or a YAML file; default generic_3t\n"
      "  --stdlib DIR    look for stdlib modules (and systems/) in DIR",
      "larmor compile SEQ.psq [-D name=value ...] [--system S] [-o SEQ.lbc]", cmd_compile },
    { "import", "Import a Pulseq .seq file (format 1.2 to 1.5) as bytecode.\n"
      "Every command that takes a sequence also takes a .seq directly. Malformed\n"
      "files are refused with the line at fault; a signature (MD5) mismatch is a\n"
      "warning, an error with --strict.\n\n"
      "  --strict        a signature mismatch is an error\n"
      "  -o FILE         write the bytecode to FILE (default: the name with .lbc)",
      "larmor import IN.seq [--strict] [-o OUT.lbc]", cmd_import },
    { "export", "Write a checked sequence as a Pulseq .seq file, signed with its MD5.\n"
      "The sequence is compiled and checked against the scanner (--system); one that\n"
      "fails a check, or does not fit the scanner's rasters, is refused at the\n"
      "offending event's source line. For GE's 4/2/2/4 us rasters use --system\n"
      "generic_3t_ge.\n\n"
      "  --format V      1.5 (default) or 1.4\n"
      "  --system S      the target scanner (default generic_3t)\n"
      "  -D name=value   override a param\n"
      "  -o FILE         write to FILE (default: the name with .seq)",
      "larmor export SEQ [--format 1.4|1.5] [--system S] [-o OUT.seq]", cmd_export },
    { "disasm", "Print a readable listing of a bytecode file.\n"
      "A .psq is compiled first.\n\n"
      "  -o FILE         write the listing to FILE",
      "larmor disasm SEQ.lbc [-o FILE]", cmd_disasm },
    { "trace", "List the blocks and events the timing VM plays.\n"
      "Times are integer nanoseconds; SEQ is a .psq, a .lbc or a Pulseq .seq.\n\n"
      "  --from T, --to T   only blocks overlapping this time window (e.g. --from 10ms)\n"
      "  --blocks A..B      only blocks A to B (0-based; or a single block N)\n"
      "  --reps A..B        only repetitions A to B (0-based; or a single one N): a\n"
      "                     repetition is one pass through the innermost loop's body\n"
      "                     (one TR); blocks show it as rep=N with their loop indices\n"
      "  --delays           also list empty delay blocks\n"
      "  -D name=value      override a param\n"
      "  --system S         compile a .psq for scanner S (default generic_3t)\n"
      "  -o FILE            write the listing to FILE",
      "larmor trace SEQ [--from T] [--to T] [--blocks A..B] [--reps A..B] [-D name=value ...]", cmd_trace },
    { "check", "Check a sequence against a scanner's limits and print the report.\n"
      "Every event on its raster and inside its block, dead times, RF/ADC overlap,\n"
      "gradient amplitude (per axis and vector), slew, continuity between blocks,\n"
      "RF peak B1 and length, ADC dwell and samples, SAR over every 10 s and 6 min\n"
      "window (IEC 60601-2-33), PNS (IEC 60601-2-33:2022 nerve-response model) and\n"
      "dB/dt, acoustic bands. The report gives the peaks against their limits, the\n"
      "duration and the minimum of each param a timing constraint uses (TE, TR);\n"
      "violations follow on stderr, grouped, with their source location and loop\n"
      "indices. SEQ is a .psq, a .lbc or a Pulseq .seq. Exit status 1 if any check fails.\n\n"
      "  --json          the report as JSON (violations included)\n"
      "  -D name=value   override a param\n"
      "  --system S      check against scanner S (default generic_3t)\n"
      "  -o FILE         write the report to FILE",
      "larmor check SEQ [-D name=value ...] [--system S] [--json] [-o FILE]", cmd_check },
    { "params", "List a sequence's params.\n"
      "Name, value (after any -D), allowed range and doc string.\n\n"
      "  -D name=value   show the value after this override\n"
      "  --system S      evaluate for scanner S (default generic_3t)",
      "larmor params SEQ.psq [-D name=value ...] [--system S]", cmd_params },
    { "system", "Show a scanner description, or list the shipped ones.\n"
      "S is a shipped name (stdlib/systems/S.yaml) or the path of a YAML file\n"
      "(containing '/' or ending in .yaml); default generic_3t. Prints every\n"
      "value with its unit and the derived SAR and PNS limits, or the errors.\n\n"
      "  --list          list the shipped systems with their descriptions\n"
      "  --stdlib DIR    look for systems/ in DIR",
      "larmor system [S] [--list] [--stdlib DIR]", cmd_system },
    { "simulate", "Run a sequence on the virtual scanner and write its raw data.\n"
      "The program plays to a Bloch simulator (exact rotations, T1, T2, T2*,\n"
      "off-resonance, diffusion) on a phantom; every ADC's samples go to an ISMRMRD\n"
      "file (HDF5) with their labels, flags and the encoding limits, which BART,\n"
      "Gadgetron and larmor recon read. SEQ is a .psq (compiled and checked for\n"
      "--system) or a .lbc (simulated for the system it was compiled for). Ctrl-C\n"
      "stops early and leaves a valid file holding what was simulated.\n\n"
      "  -o FILE         the raw data (default: SEQ's name with .h5)\n"
      "  --phantom P     shepp-logan (default), shepp-logan-3d, a .yaml, .h5 (JEMRIS)\n"
      "                  or .phantom (KomaMRI) file; see larmor phantom\n"
      "  --res LEN       rasterise a YAML phantom at this voxel size\n"
      "  --spins N|AxBxC isochromats per voxel: N along z, or a grid (default 1);\n"
      "                  T2* < T2 and spoiling within a voxel need several\n"
      "  --coils N       receive coils: 1 uniform (default) or a ring of N loops\n"
      "  --snr X         add thermal noise: X = the fully relaxed 90 degree FID\n"
      "                  amplitude over the noise standard deviation (default none)\n"
      "  --seed N        seed of the noise and the diffusion random walk (default 1)\n"
      "  --threads N     threads (default: all cores)\n"
      "  --diffusion     simulate diffusion (a random walk; use several isochromats\n"
      "                  per voxel, e.g. --spins 1x1x64); off by default\n"
      "  --no-diffusion  do not (the default)\n"
      "  --spoiling ideal|none   ideal (default): before each excitation, zero the\n"
      "                  transverse magnetisation the gradients since the last one\n"
      "                  dephased by a cycle or more across a voxel, as RF and\n"
      "                  gradient spoiling do in a real voxel; none: keep it (for\n"
      "                  FISP-like sequences, with many isochromats per voxel)\n"
      "  --quiet         no progress bar or summary\n"
      "  -D name=value   override a param\n"
      "  --system S      scanner (default generic_3t)",
      "larmor simulate SEQ [-o raw.h5] [--phantom P] [--spins N] [--coils N] [--snr X] "
      "[-D name=value ...] [--system S]", cmd_simulate },
    { "recon", "Reconstruct ISMRMRD raw data into images.\n"
      "RAW is an ISMRMRD file (ours or another tool's). Samples are placed on the\n"
      "k-space grid by their encoding counters (lin, par, slc, eco, phs, rep, set;\n"
      "averages averaged), reversed EPI lines are flipped and phase-corrected from\n"
      "the reference lines, partial Fourier is filled in (POCS by default), readout\n"
      "oversampling is removed, and coils are combined (sum of squares, or Roemer\n"
      "with --sens). Cartesian and EPI trajectories only.\n\n"
      "  -o OUT          a folder (default: RAW without .h5) for image.png and\n"
      "                  image.nii, or one file whose extension picks the format:\n"
      "                  .png, .nii (NIfTI-1), .cfl (BART), .h5 (ISMRMRD images)\n"
      "  --format LIST   what goes into the folder: png,nii,cfl,h5 or all\n"
      "  --window LO:HI  PNG grey levels from LO to HI (default 0 to the 99.5th\n"
      "                  percentile of the volume)\n"
      "  --mosaic        one PNG with all slices tiled (default: one per slice)\n"
      "  --partial-fourier zero|pocs   zero-fill, or POCS (default)\n"
      "  --pocs-iterations N           default 10\n"
      "  --keep-oversampling           keep the readout's full sampled FOV\n"
      "  --sens MAPS     coil sensitivities as a BART array (x, y, z, coils) for a\n"
      "                  Roemer combination\n"
      "  --kspace BASE   also write the k-space grid as BART BASE.cfl/.hdr\n"
      "  --threads N     FFTW threads (default: all cores)\n"
      "  --fft-wisdom F  plan with FFTW_MEASURE and keep the wisdom in F\n"
      "  --quiet         no notes or summary",
      "larmor recon RAW.h5 [-o OUT] [--format LIST] [--window LO:HI] [--mosaic] "
      "[--partial-fourier zero|pocs] [--sens MAPS] [--kspace BASE]", cmd_recon },
    { "scan", "Compile, check, simulate and reconstruct: the virtual scanner in one go.\n"
      "Writes into OUTDIR (default: SEQ's name): check.txt (the report of larmor\n"
      "check), raw.h5 (ISMRMRD raw data), the images (image.png, image.nii) and\n"
      "overview.png (a slice of the image next to the log-magnitude of its k-space).\n"
      "A sequence that fails its checks is not simulated (exit status 1).\n"
      "Takes every option of larmor simulate and larmor recon.\n\n"
      "  -o OUTDIR       the output folder\n"
      "  -D name=value   override a param\n"
      "  --system S      scanner (default generic_3t)\n"
      "  --phantom P     see larmor simulate (default: the built-in Shepp-Logan)",
      "larmor scan SEQ [-D name=value ...] [--phantom P] [--system S] [-o OUTDIR] "
      "[simulate and recon options]", cmd_scan },
    { "run", "Run a sequence on a console through a driver.\n"
      "The sequence is compiled and checked for the driver's own system (default\n"
      "marcos_lowfield for marcos:// and record:); nothing is sent unless it passes.\n"
      "The driver verifies the program's checksum and system, lowers it and refuses\n"
      "what it cannot place exactly, at the event's source line. OUTDIR gets\n"
      "check.txt, raw.h5 (ISMRMRD) and the images, as larmor scan writes them. A\n"
      "fault (server error, lost connection, timeout, Ctrl-C) ends in a safe stop;\n"
      "the samples received are written, marked incomplete; the exit status is 1\n"
      "(130 after Ctrl-C).\n\n"
      "  --driver URI    marcos://HOST[:PORT][?board=ocra1|gpa-fhdo&spi_div=N&grad_fs=T/m\n"
      "                  &rf_fs=T&rx_fs=N&timeout=S] (port 11111), or record:FILE (the\n"
      "                  event program as text); other schemes load a plugin\n"
      "                  larmor-driver-SCHEME.so from $LARMOR_DRIVER_PATH\n"
      "  --system S      the driver's system\n"
      "  -D name=value   override a param\n"
      "  -o OUTDIR       the output folder (default: the sequence's name)",
      "larmor run SEQ --driver URI [--system S] [-D name=value ...] [-o OUTDIR]", cmd_run },
    { "plot", "Draw a sequence: its timing diagram, k-space, SAR or PNS.\n"
      "The timing diagram shows the RF magnitude and phase, Gx, Gy, Gz and the ADC\n"
      "windows on one time axis; --kspace the k-space trajectory (kx, ky) with the\n"
      "ADC samples, k reset at each excitation and negated at each refocusing;\n"
      "--sar the SAR of the 10 s and 6 min windows ending at each time, --pns the\n"
      "nerve-stimulation level, each against its limits (the model of larmor\n"
      "check). The extension of -o picks the format: .png, .svg or .pdf. SEQ is a\n"
      ".psq, .lbc or .seq; a sequence that fails its checks is plotted all the same.\n\n"
      "  -o FILE         the picture (default: SEQ's name with .png, _kspace.png,\n"
      "                  _sar.png, _pns.png or _safety.png)\n"
      "  --from T, --to T  only this time window (e.g. --from 10ms --to 25ms)\n"
      "  --rep N         only repetition N (0-based, as larmor trace --reps counts)\n"
      "  --blocks        timing: mark the block boundaries and names\n"
      "  --kspace        the k-space trajectory instead of the timing diagram\n"
      "  --sar, --pns    SAR and/or PNS over time instead (both: three panels)\n"
      "  --size WxH      picture size (pixels for PNG, points for SVG and PDF;\n"
      "                  defaults: timing 1200x800, k-space 800x800, 1200x400 per\n"
      "                  SAR or PNS panel)\n"
      "  -D name=value   override a param\n"
      "  --system S      compile a .psq for scanner S (default generic_3t)\n"
      "  --stdlib DIR    look for stdlib modules (and systems/) in DIR",
      "larmor plot SEQ [-o FILE.png|svg|pdf] [--rep N | --from T --to T] [--blocks] "
      "[--kspace | --sar | --pns] [-D name=value ...]", cmd_plot },
    { "phantom", "Describe a phantom, or show what is wrong with a phantom file.\n"
      "P is shepp-logan (the built-in 2D MR Shepp-Logan, the default),\n"
      "shepp-logan-3d, a YAML description (.yaml), a JEMRIS sample (.h5) or a\n"
      "KomaMRI phantom (.phantom). Prints the voxel count, extent, voxel size and\n"
      "the tissues with their T1, T2, T2*, PD, off-resonance and diffusion.\n\n"
      "  --res LEN       rasterise a YAML description at this voxel size",
      "larmor phantom [P] [--res LEN]", cmd_phantom },
    { "version", "Print the version.", "larmor version", cmd_version },
    { "help", "Show the list of commands, or the help of one.", "larmor help [COMMAND]", cmd_help },
};

static const struct cmd *find_cmd(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(cmds); i++)
        if (!strcmp(cmds[i].name, name))
            return &cmds[i];
    return NULL;
}

static void main_usage(FILE *out)
{
    fprintf(out, "usage: larmor COMMAND [ARGS]\n\n"
            "Larmor compiles MRI pulse sequences (*.psq) to checked bytecode (*.lbc)\n"
            "and runs them.\n\ncommands:\n");
    for (size_t i = 0; i < ARRAY_LEN(cmds); i++) {
        const char *nl = strchr(cmds[i].summary, '\n');
        int n = nl ? (int)(nl - cmds[i].summary) : (int)strlen(cmds[i].summary);
        fprintf(out, "  %-9s %.*s\n", cmds[i].name, n, cmds[i].summary);
    }
    fprintf(out, "\n'larmor COMMAND --help' tells more.\n");
}

static int cmd_help(int argc, char **argv)
{
    if (argc >= 2) {
        const struct cmd *c = find_cmd(argv[1]);
        if (!c) {
            fprintf(stderr, "larmor: no command '%s'\n", argv[1]);
            return EXIT_USAGE;
        }
        print_usage(c, stdout);
        return 0;
    }
    main_usage(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        main_usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
        return cmd_version(0, NULL);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return cmd_help(1, argv);
    const struct cmd *c = find_cmd(argv[1]);
    if (!c) {
        fprintf(stderr, "larmor: '%s' is not a command\n", argv[1]);
        main_usage(stderr);
        return EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
