/*
 * cli: the helpers the commands share (cli.h): the option loop and the
 * options common to every sequence command, the value parsers (a quantity
 * through the one parser, unit_parse_quantity), the output files, and
 * struct cli_seq, the first steps of a command on one sequence: its
 * operand turned into a program (compiled, imported or loaded, and checked
 * where asked) and the check report of scan and run.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "compiler/compile.h"
#include "runtime/pulseq/pulseq.h"
#include "runtime/recon/reconstruct.h"
#include "base/util.h"

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

int cli_add_options(struct option *dst, int n, int cap, const struct option *src)
{
    for (int i = 0; src && src[i].name && n < cap - 1; i++)
        dst[n++] = src[i];
    memset(&dst[n], 0, sizeof dst[n]);
    return n;
}

/* "unknown option" for arg (as given; optopt: the letter of an unknown
   short option, else 0), with the nearest long option of opts when arg
   looks like a typo of it (--jsn: --json). */
static int unknown_option(const char *cmd, const char *arg, int optopt_ch,
                          const struct option *opts)
{
    if (optopt_ch && strncmp(arg, "--", 2)) {
        char name[8];
        snprintf(name, sizeof name, "-%c", optopt_ch);
        return cli_usage_error(cmd, "unknown option '%s'", name);
    }
    const char *names[64];
    size_t n = 0;
    for (size_t i = 0; opts && opts[i].name && n < ARRAY_LEN(names); i++)
        names[n++] = opts[i].name;
    char given[64];
    snprintf(given, sizeof given, "%s", arg + (strncmp(arg, "--", 2) ? 0 : 2));
    given[strcspn(given, "=")] = '\0';          /* --jsn=x: the name alone */
    const char *near = str_nearest(given, names, n);
    if (!near)
        return cli_usage_error(cmd, "unknown option '%s'", arg);
    char msg[160];
    snprintf(msg, sizeof msg, "unknown option '%%s'; did you mean '--%s'?", near);
    return cli_usage_error(cmd, msg, arg);
}

int cli_getopt(const char *cmd, int argc, char **argv, const char *shorts,
               const struct option *opts, cli_opt_fn on, void *ctx, int *rc)
{
    /* 0, not 1: glibc then forgets where it was inside a cluster of short
       options from an earlier parse (whose argv may be gone) */
    optind = 0;
    opterr = 0;
    /* a leading ':' makes getopt_long tell a missing value (':') from an
       unknown option ('?') */
    char sh[128];
    snprintf(sh, sizeof sh, ":%s", shorts ? shorts : "");
    for (int ch; (ch = getopt_long(argc, argv, sh, opts, NULL)) != -1;) {
        int r;
        switch (ch) {
        case 'h':
            cli_print_usage(cmd, stdout);
            *rc = 0;
            return -1;
        case '?':
            *rc = unknown_option(cmd, argv[optind - 1], optopt, opts);
            return -1;
        case ':': {
            char name[8];
            const char *o = argv[optind - 1];
            if (optopt && strncmp(o, "--", 2)) {    /* -o, or the end of a cluster -vo */
                snprintf(name, sizeof name, "-%c", optopt);
                o = name;
            }
            *rc = cli_usage_error(cmd, "option '%s' needs a value", o);
            return -1;
        }
        default:
            if ((r = on(ch, optarg, ctx)) == 0)
                break;
            if (r > 0)
                *rc = r;
            else if (opt_hint(ch))
                *rc = cli_usage_error(cmd, "%s", opt_hint(ch));
            else
                *rc = cli_usage_error(cmd, "bad value for '%s'", argv[optind - 1]);
            return -1;
        }
    }
    return optind;
}

/* The common options of a sequence command, then the command's own. */
struct seq_opt_ctx {
    struct seq_opts *so;
    cli_opt_fn on_extra;
    void *ectx;
};

static int seq_opt(int ch, const char *arg, void *ctx)
{
    struct seq_opt_ctx *c = ctx;
    struct seq_opts *so = c->so;
    if (ch == 'D') {
        vec_reserve((void **)&so->defines, &so->capdefines, (size_t)so->ndefines + 1,
                    sizeof *so->defines);
        so->defines[so->ndefines++] = arg;
        return 0;
    }
    /* -o, --stdlib and --system: a path or name kept as given */
    const char **value = ch == 'o' ? &so->out : ch == OPT_STDLIB ? &so->stdlib
                       : ch == OPT_SYSTEM ? &so->system : NULL;
    if (value) {
        *value = arg;
        return 0;
    }
    return c->on_extra ? c->on_extra(ch, arg, c->ectx) : -1;
}

const char *cli_seq_begin(struct cli_seq *s, const char *cmd, int argc, char **argv,
                          const struct option *extra, cli_opt_fn on_extra, void *ectx,
                          const char *need, int *rc)
{
    memset(s, 0, sizeof *s);
    s->cmd = cmd;
    diag_init(&s->d);
    struct option opts[48] = {
        { "help", no_argument, NULL, 'h' },
        { "define", required_argument, NULL, 'D' },
        { "output", required_argument, NULL, 'o' },
        { "stdlib", required_argument, NULL, OPT_STDLIB },
        { "system", required_argument, NULL, OPT_SYSTEM },
    };
    cli_add_options(opts, 5, 48, extra);
    struct seq_opt_ctx c = { &s->so, on_extra, ectx };
    int i = cli_getopt(cmd, argc, argv, "hD:o:", opts, seq_opt, &c, rc);
    if (i < 0)
        return NULL;
    if (argc - i != 1) {
        *rc = cli_usage_error(cmd, "%s", argc - i < 1 ? need : "one file at a time");
        return NULL;
    }
    return s->path = argv[i];
}

void cli_seq_fini(struct cli_seq *s)
{
    check_free(s->ck);
    lbc_free(s->p);
    diag_fini(&s->d);
    free(s->so.defines);
}

/* A quantity as the command line has always taken it: the blanks strtod
   skipped before the number, then the one parser, but no tab (strtod and
   unit_parse never took one). */
static bool parse_quantity(const char *s, double *si, struct dim *d, bool *has_unit)
{
    while (isspace((unsigned char)*s))
        s++;
    if (strchr(s, '\t'))
        return false;
    return unit_parse_quantity(s, strlen(s), si, d, has_unit);
}

int cli_parse_time(const char *s, int64_t *ns)
{
    double si;
    struct dim d;
    bool has_unit;
    if (!parse_quantity(s, &si, &d, &has_unit))
        return -1;
    /* a bare number is a time only when it is 0 */
    if (has_unit ? !dim_is_time(d) : si != 0)
        return -1;
    double x = si * 1e9;
    if (!isfinite(x) || fabs(x) > 9e18)
        return -1;
    *ns = llrint(x);
    return 0;
}

int cli_parse_length(const char *s, double *m)
{
    double si;
    struct dim d;
    bool has_unit;
    if (!parse_quantity(s, &si, &d, &has_unit) || (has_unit && !dim_eq(d, DIM_LENGTH)))
        return -1;
    *m = si;
    return 0;
}

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

FILE *cli_open_output(const char *cmd, const char *path, struct outfile *o)
{
    char err[1024];
    if (outfile_open(o, path, err, sizeof err) != 0) {
        fprintf(stderr, "larmor %s: %s\n", cmd, err);
        return NULL;
    }
    return o->fp;
}

int cli_close_output(const char *cmd, struct outfile *o)
{
    char err[1024];
    if (outfile_commit(o, err, sizeof err) != 0) {
        fprintf(stderr, "larmor %s: %s\n", cmd, err);
        return EXIT_INPUT;
    }
    return 0;
}

char *cli_default_out(const char *in, const char *ext)
{
    const char *base = strrchr(in, '/');
    base = base ? base + 1 : in;
    const char *dot = strrchr(base, '.');
    size_t n = dot ? (size_t)(dot - base) : strlen(base);
    return xasprintf("%.*s%s", (int)n, base, ext);
}

void cli_print_diags(const struct diag_ctx *d)
{
    diag_print_all(d, stderr, diag_want_color(stderr));
}

void cli_print_error_count(const struct diag_ctx *d)
{
    fprintf(stderr, "%d error%s\n", d->nerrors, d->nerrors == 1 ? "" : "s");
}

void cli_print_outcome(const struct diag_ctx *d)
{
    cli_print_diags(d);
    if (d->nerrors)
        cli_print_error_count(d);
}

int cli_seq_system(struct cli_seq *s)
{
    return system_resolve(s->so.system, s->so.stdlib, &s->sys, &s->d);
}

void cli_seq_compile_opts(struct compile_opts *co, struct cli_seq *s)
{
    memset(co, 0, sizeof *co);
    co->path = s->path;
    co->defines = s->so.defines;
    co->ndefines = s->so.ndefines;
    co->stdlib_dir = s->so.stdlib;
    co->sys = &s->sys;
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

/* Read a .lbc; NULL after printing why not. */
static struct lbc_program *read_lbc(const char *path)
{
    char err[512];
    struct lbc_program *p = lbc_read_file(path, err, sizeof err);
    if (!p)
        fprintf(stderr, "larmor: error[E0701]: %s\n", err);
    return p;
}

int cli_seq_load(struct cli_seq *s)
{
    const struct seq_opts *so = &s->so;
    bool is_seq = str_has_suffix(s->path, ".seq");
    if (is_seq && so->ndefines) {
        fprintf(stderr, "larmor: -D applies to .psq sources; %s is a Pulseq file\n", s->path);
        return EXIT_USAGE;
    }
    if (str_has_suffix(s->path, ".lbc")) {
        if (so->ndefines || so->system) {
            fprintf(stderr, "larmor: %s applies to .psq sources; %s is already compiled\n",
                    so->ndefines ? "-D" : "--system", s->path);
            return EXIT_USAGE;
        }
        s->p = read_lbc(s->path);
        return s->p ? 0 : EXIT_INPUT;
    }
    struct diag_ctx d;
    diag_init(&d);
    if (is_seq) {
        s->p = import_seq(s->path, so, &d);
    } else if (system_resolve(so->system, so->stdlib, &s->sys, &d) == 0) {
        struct compile_opts co;
        cli_seq_compile_opts(&co, s);
        s->p = compile_file(&co, &d);
    }
    cli_print_diags(&d);
    if (!s->p)
        cli_print_error_count(&d);
    diag_fini(&d);
    return s->p ? 0 : EXIT_INPUT;
}

int cli_seq_write_lbc(struct cli_seq *s)
{
    int rc = cli_seq_load(s);
    if (rc)
        return rc;
    char *out = s->so.out ? xstrdup(s->so.out) : cli_default_out(s->path, ".lbc");
    char err[512];
    if (lbc_write_file(s->p, out, err, sizeof err) != 0) {
        fprintf(stderr, "larmor %s: %s\n", s->cmd, err);
        rc = EXIT_INPUT;
    }
    free(out);
    return rc;
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

/* Check the loaded program s->p against s->sys into s->ck (a warning when
   it was compiled for another system); 0 or EXIT_INPUT. */
static int check_loaded(struct cli_seq *s, bool is_seq)
{
    const struct lbc_program *p = s->p;
    const struct system *sys = &s->sys;
    cli_load_sources(&s->d, p);
    const char *was = p->sys_name >= 0 ? lbc_str(p, p->sys_name) : "(none)";
    /* an imported Pulseq program (no system) is checked without a warning */
    if (!is_seq && p->sys_name >= 0 &&
        (p->sys_hash != sys->hash || strcmp(was, sys->name))) {
        struct diag *g = diag_warning(&s->d, 676, SPAN_NONE, "%s was compiled for system '%s' "
                                      "(hash 0x%016" PRIx64 "); checking it against '%s' "
                                      "(hash 0x%016" PRIx64 ")", s->path, was, p->sys_hash,
                                      sys->name, sys->hash);
        diag_help(g, "rasters and dead times are those it was compiled with; recompile the "
                  ".psq with --system %s to design for this scanner", sys->name);
    }
    struct check *ck = check_new(sys);
    struct vm_backend be;
    check_backend(ck, &be);
    struct vm_opts vo = { cli_vm_error, s->p, 0 };
    if (vm_run(p, &be, &vo, NULL) != 0) {
        check_free(ck);
        return EXIT_INPUT;
    }
    check_report(ck, p, &s->d);
    s->ck = ck;
    return 0;
}

int cli_seq_check(struct cli_seq *s, bool minima)
{
    if (cli_seq_system(s) != 0)
        return EXIT_INPUT;
    bool is_seq = str_has_suffix(s->path, ".seq");
    if (str_has_suffix(s->path, ".lbc") || is_seq) {
        if (s->so.ndefines)
            return cli_usage_error(s->cmd, "-D applies to .psq sources; '%s' is already "
                                   "compiled", s->path);
        s->p = is_seq ? import_seq(s->path, &s->so, &s->d) : read_lbc(s->path);
        return s->p ? check_loaded(s, is_seq) : EXIT_INPUT;
    }
    struct compile_opts co;
    cli_seq_compile_opts(&co, s);
    co.check_out = &s->ck;
    co.on_minimum = minima ? on_minimum : NULL;   /* NULL: no minimum search */
    co.min_ctx = &s->mins;
    s->p = compile_file(&co, &s->d);
    if (!s->p || !s->ck)
        return EXIT_INPUT;
    return 0;
}

char *cli_seq_out_dir(const struct cli_seq *s)
{
    char *dir = s->so.out ? xstrdup(s->so.out) : cli_default_out(s->path, "");
    char err[1024];
    if (outfile_mkdirs(dir, err, sizeof err) != 0) {
        fprintf(stderr, "larmor %s: %s\n", s->cmd, err);
        free(dir);
        return NULL;
    }
    return dir;
}

int cli_seq_check_txt(const struct cli_seq *s, const char *dir, const char *what, char **path)
{
    *path = xasprintf("%s/check.txt", dir);
    struct outfile o;
    FILE *f = cli_open_output(s->cmd, *path, &o);
    if (!f)
        return EXIT_INPUT;
    check_print_text(s->ck, s->p, s->mins.v, s->mins.n, f);
    if (cli_close_output(s->cmd, &o) != 0)
        return EXIT_INPUT;
    if (check_count(s->ck, false)) {
        fprintf(stderr, "larmor %s: %s does not pass the checks for %s (see %s); nothing was "
                "%s\n", s->cmd, s->path, s->sys.name, *path, what);
        return EXIT_INPUT;
    }
    return 0;
}

void cli_recon_defaults(struct recon_cli *c)
{
    memset(c, 0, sizeof *c);
    c->ro.pf = RECON_PF_POCS;
}
