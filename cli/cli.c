/*
 * cli: the helpers the commands share (cli.h): the error and option
 * parsing common to every sequence command, the value parsers with units,
 * the output file, and the first step of most commands, which turns a
 * .psq, .seq or .lbc into a program (compiled and checked where asked).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "compiler/compile.h"
#include "runtime/pulseq/pulseq.h"
#include "base/util.h"

/* Load the --system choice (generic_3t without one) from the stdlib
   (--stdlib, else the default) or a path; errors go to d. */
int cli_load_system(const struct seq_opts *so, struct system *sys, struct diag_ctx *d)
{
    return system_resolve(so->system, so->stdlib, sys, d);
}

/* Register with d the source files p's line table names (those not
   there yet): a regular file under 16 MiB only, since a .lbc names its
   source and may come from anywhere; a file that cannot be read is left
   out (its diagnostics give the location in a note instead). */
void cli_load_sources(struct diag_ctx *d, const struct lbc_program *p)
{
    size_t n;
    const char **files = lbc_source_files(p, &n);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (diag_find_file(d, files[i]) >= 0 || stat(files[i], &st) != 0 ||
            !S_ISREG(st.st_mode) || st.st_size >= (16 << 20))
            continue;
        size_t len;
        char *text = read_file(files[i], &len);
        if (text) {
            diag_add_file(d, files[i], text, len);
            free(text);
        }
    }
    free(files);
}

/* Import a Pulseq .seq (so->strict: a signature mismatch is an error);
   diagnostics go to d. */
static struct lbc_program *import_seq(const char *path, const struct seq_opts *so,
                                      struct diag_ctx *d)
{
    struct pulseq_read_opts ro = { .strict = so->strict };
    return pulseq_read_file(path, &ro, d);
}

/* Compile a .psq, import a .seq or load a .lbc; diagnostics are printed. */
struct lbc_program *cli_load_program(const char *path, const struct seq_opts *so, int *rc)
{
    if (str_has_suffix(path, ".seq")) {
        if (so->ndefines) {
            fprintf(stderr, "larmor: -D applies to .psq sources; %s is a Pulseq file\n", path);
            *rc = EXIT_USAGE;
            return NULL;
        }
        struct diag_ctx d;
        diag_init(&d);
        struct lbc_program *p = import_seq(path, so, &d);
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
    if (cli_load_system(so, &sys, &d) == 0)
        p = compile_file(&co, &d);
    diag_print_all(&d, stderr, diag_want_color(stderr));
    if (!p) {
        fprintf(stderr, "%d error%s\n", d.nerrors, d.nerrors == 1 ? "" : "s");
        *rc = EXIT_INPUT;
    }
    diag_fini(&d);
    return p;
}

/* What an option's value must look like, for "bad value" messages. */
const char *cli_opt_hint(int ch)
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
int cli_parse_opts(const char *cmd, int argc, char **argv, struct seq_opts *so,
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
            cli_print_usage(cmd, stdout);
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
            *rc = cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
            return -1;
        case ':':
            *rc = cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
            return -1;
        default:
            if (on_extra && on_extra(ch, optarg, ectx) == 0)
                break;
            *rc = cli_opt_hint(ch) ? cli_usage_error(cmd, "%s", cli_opt_hint(ch))
                                   : cli_usage_error(cmd, "bad value for '%s'", argv[optind - 1]);
            return -1;
        }
    }
    return optind;
}

/* The common start of a command that takes one sequence: parse the options
   and return the operand, or NULL with *rc set (0 after --help). */
const char *cli_one_operand(const char *cmd, int argc, char **argv, struct seq_opts *so,
                            const struct option *extra,
                            int (*on_extra)(int, const char *, void *), void *ectx,
                            const char *need, int *rc)
{
    int i = cli_parse_opts(cmd, argc, argv, so, extra, on_extra, ectx, rc);
    if (i < 0)
        return NULL;
    if (argc - i != 1) {
        *rc = cli_usage_error(cmd, "%s", argc - i < 1 ? need : "one file at a time");
        return NULL;
    }
    return argv[i];
}

/* The output stream: the -o file, or stdout. NULL (and a message) on error. */
FILE *cli_open_output(const char *cmd, const char *path)
{
    if (!path)
        return stdout;
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "larmor %s: cannot write %s: %s\n", cmd, path, strerror(errno));
    return f;
}

char *cli_default_out(const char *in, const char *ext)
{
    const char *base = strrchr(in, '/');
    base = base ? base + 1 : in;
    const char *dot = strrchr(base, '.');
    size_t n = dot ? (size_t)(dot - base) : strlen(base);
    return xasprintf("%.*s%s", (int)n, base, ext);
}

/* Load seq (compile a .psq, import a .seq) and write it as bytecode to
   -o or the source name with .lbc; the exit status. */
int cli_write_lbc(const char *cmd, const char *seq, const struct seq_opts *so)
{
    int rc = 0;
    struct lbc_program *p = cli_load_program(seq, so, &rc);
    if (!p)
        return rc;
    char *out = so->out ? xstrdup(so->out) : cli_default_out(seq, ".lbc");
    char err[512];
    if (lbc_write_file(p, out, err, sizeof err) != 0) {
        fprintf(stderr, "larmor %s: cannot write %s: %s\n", cmd, out, err);
        rc = EXIT_INPUT;
    }
    free(out);
    lbc_free(p);
    return rc;
}

/* Parse a time with a unit ("10ms", "2.5 s") into ns. */
int cli_parse_time(const char *s, int64_t *ns)
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
int cli_parse_quantity(const char *s, struct dim want, double *si)
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

int cli_parse_length(const char *s, double *m)
{
    return cli_parse_quantity(s, (struct dim){ .s = 0, .m = 1, .T = 0 }, m);
}

/* "A..B" (A <= B) or "N" into an inclusive range; -1 if malformed. */
int cli_parse_range(const char *arg, uint64_t *first, uint64_t *last)
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

int cli_vm_error(void *ctx, const struct vm_error *e)
{
    const struct lbc_program *p = ctx;
    struct lbc_srcpos pos;
    if (lbc_pc_pos(p, e->pc, &pos))
        fprintf(stderr, "%s:%u:%u: ", pos.path, pos.line, pos.col);
    fprintf(stderr, "error[E%04d]: %s (t = %lld ns", (int)e->code, e->msg, (long long)e->time_ns);
    for (int i = 0; i < e->nloops; i++)
        fprintf(stderr, " %s=%.0f", lbc_str(p, e->loops[i].name), e->loops[i].value);
    fprintf(stderr, ")\n");
    return 0;
}

static void on_minimum(void *ctx, const char *param, int64_t cur, int64_t min, int at_floor)
{
    struct cli_mins *m = ctx;
    if (m->n >= 16)
        return;
    struct check_minimum *x = &m->v[m->n++];
    snprintf(x->name, sizeof x->name, "%s", param);
    x->current_ns = cur;
    x->min_ns = min;
    x->at_floor = at_floor;
}

/* Compile a .psq with its checks, or load a .lbc and check it against
   sys (a warning when it was compiled for another system). Diagnostics go
   to d; returns 0, EXIT_INPUT or EXIT_USAGE. mins NULL: no minimum search. */
int cli_compile_checked(const char *cmd, const char *seq, const struct seq_opts *so,
                        struct system *sys, struct lbc_program **pp, struct check **ckp,
                        struct cli_mins *mins, struct diag_ctx *d)
{
    *pp = NULL;
    *ckp = NULL;
    if (cli_load_system(so, sys, d) != 0)
        return EXIT_INPUT;
    bool is_seq = str_has_suffix(seq, ".seq");
    if (str_has_suffix(seq, ".lbc") || is_seq) {
        if (so->ndefines)
            return cli_usage_error(cmd, "-D applies to .psq sources; '%s' is already compiled",
                                   seq);
        char err[512];
        struct lbc_program *p = is_seq ? import_seq(seq, so, d)
                                       : lbc_read_file(seq, err, sizeof err);
        if (!p) {
            if (!is_seq)
                fprintf(stderr, "larmor: error[E0701]: %s\n", err);
            return EXIT_INPUT;
        }
        *pp = p;
        cli_load_sources(d, p);
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
        struct vm_opts vo = { cli_vm_error, p, 0 };
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

int cli_parse_int(const char *s, long lo, long hi, long *v)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (end == s || *end || errno || x < lo || x > hi)
        return -1;
    *v = x;
    return 0;
}
