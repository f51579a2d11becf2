/*
 * cli: what the commands of `larmor` share. The exit statuses, the option
 * ids (one number space, so that scan can take simulate's and recon's
 * options at once), the option loop every command runs, the options every
 * sequence command takes (-D, -o, --system, --stdlib), the value parsers
 * (quantities through the one parser, unit_parse_quantity), and struct
 * cli_seq: a command on one sequence, from its options to the program,
 * compiled, imported or loaded, with or without the checks. cli.c holds
 * these helpers, main.c the command table and the help; each cmd_*.c one
 * group of commands.
 */
#ifndef LARMOR_CLI_H
#define LARMOR_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/diag.h"
#include "base/outfile.h"
#include "base/units.h"
#include "runtime/check/check.h"
#include "runtime/system/system.h"
#include "vm/program.h"
#include "vm/vm.h"

struct compile_opts;
struct recon_cli;

#define EXIT_INPUT 1
#define EXIT_USAGE 2

enum { OPT_PHANTOM = 180, OPT_SPINS, OPT_COILS, OPT_SNR, OPT_SEED, OPT_THREADS, OPT_QUIET,
       OPT_NODIFF, OPT_RES = 200, OPT_STDLIB = 256, OPT_SYSTEM, OPT_FROM, OPT_TO, OPT_BLOCKS,
       OPT_DELAYS, OPT_LIST, OPT_JSON, OPT_REPS, OPT_FORMAT = 300, OPT_WINDOW, OPT_MOSAIC,
       OPT_PF, OPT_POCS_IT, OPT_KEEP_OS, OPT_SENS, OPT_KSPACE, OPT_WISDOM, OPT_DIFF,
       OPT_SPOILING, OPT_WIDEN, OPT_REP = 340, OPT_SAR, OPT_PNS, OPT_SIZE, OPT_MARKS,
       OPT_STRICT = 380, OPT_SEQFORMAT, OPT_DRIVER = 400 };

/* The missing-operand message of most sequence commands. */
#define CLI_NEED_SEQ "a sequence (.psq, .lbc or .seq) is needed"

/* A command's handler of one option (ch, its value arg or NULL): 0 taken,
   -1 a bad value (cli_getopt reports it), above 0 an exit status after
   the handler's own message. */
typedef int (*cli_opt_fn)(int ch, const char *arg, void *ctx);

/* Options shared by the commands that take a sequence. */
struct seq_opts {
    const char **defines;
    int ndefines;
    size_t capdefines;
    const char *out;
    const char *stdlib;
    const char *system;          /* --system NAME|PATH; NULL: generic_3t */
    bool strict;                 /* import --strict: a .seq signature mismatch is an error */
};

/* The minima of the time params a compile found (larmor check's report). */
struct cli_mins {
    struct check_minimum v[16];
    int n;
};

/* A command on one sequence: its options and operand, its diagnostics,
   and the system, program and checks it loads; cli_seq_fini frees them. */
struct cli_seq {
    const char *cmd;             /* the command's name, for messages */
    struct seq_opts so;
    const char *path;            /* the operand: a .psq, .lbc or .seq */
    struct diag_ctx d;
    struct system sys;
    struct lbc_program *p;
    struct check *ck;
    struct cli_mins mins;
};

/* The larmor command on an argument vector (argv[0] the program): the
   exit status. main() in cli/larmor.c calls it; it keeps no state between
   calls except the memory budget that --max-memory sets. */
int larmor_main(int argc, char **argv);

/* Print "larmor CMD: " fmt (with arg) and the --help hint; EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, const char *arg);
/* Print the usage and help text of command name to out. */
void cli_print_usage(const char *name, FILE *out);

/* Append the options of src to the table dst of n entries (room for cap),
   keeping it terminated; the new count. */
int cli_add_options(struct option *dst, int n, int cap, const struct option *src);
/* Run the options of argv through on: --help (-h) prints cmd's usage,
   an unknown option or a bad value is a usage error. Returns the index of
   the first operand, or -1 with *rc set (0 after --help). */
int cli_getopt(const char *cmd, int argc, char **argv, const char *shorts,
               const struct option *opts, cli_opt_fn on, void *ctx, int *rc);

/* Parse a time with a unit ("10ms", "2.5 s") into ns. */
int cli_parse_time(const char *s, int64_t *ns);
/* Parse a length with a unit ("2mm") into metres; a bare number is metres. */
int cli_parse_length(const char *s, double *m);
/* "A..B" (A <= B) or "N" into an inclusive range; -1 if malformed. */
int cli_parse_range(const char *arg, uint64_t *first, uint64_t *last);
/* A whole number from lo to hi, nothing else; -1 if not. */
int cli_parse_int(const char *s, long lo, long hi, long *v);

/* The output stream: the -o file (through base/outfile: a temporary renamed
   into place when complete), or stdout. NULL (and a message) on error. */
FILE *cli_open_output(const char *cmd, const char *path, struct outfile *o);
/* Finish what cli_open_output opened: 0, or EXIT_INPUT with a message when
   a write failed (the -o file is then not replaced; stdout stays open). */
int cli_close_output(const char *cmd, struct outfile *o);
/* The base name of in with its extension replaced by ext (in the current
   folder). */
char *cli_default_out(const char *in, const char *ext);
/* Print the diagnostics of d to stderr. */
void cli_print_diags(const struct diag_ctx *d);
/* Print "N error(s)", the last line of a failed command. */
void cli_print_error_count(const struct diag_ctx *d);
/* Print the diagnostics of d, then their error count if there are errors. */
void cli_print_outcome(const struct diag_ctx *d);

/* Start command cmd on one sequence: parse the common options and those
   of extra (through on_extra, with ectx) into s, and its one operand (need:
   the message when it is missing). Returns the operand, or NULL with *rc
   set (0 after --help). s is ready for cli_seq_fini either way. */
const char *cli_seq_begin(struct cli_seq *s, const char *cmd, int argc, char **argv,
                          const struct option *extra, cli_opt_fn on_extra, void *ectx,
                          const char *need, int *rc);
/* Free what s holds. */
void cli_seq_fini(struct cli_seq *s);
/* Load the --system choice (generic_3t without one) from the stdlib
   (--stdlib, else the default) or a path into s->sys; errors go to s->d. */
int cli_seq_system(struct cli_seq *s);
/* The options of a compilation of s's operand for s->sys. */
void cli_seq_compile_opts(struct compile_opts *co, struct cli_seq *s);
/* Compile a .psq, import a .seq or load a .lbc into s->p; diagnostics are
   printed. 0, or the exit status. */
int cli_seq_load(struct cli_seq *s);
/* Load s's sequence (compile a .psq, import a .seq) and write it as
   bytecode to -o or the source name with .lbc; the exit status. */
int cli_seq_write_lbc(struct cli_seq *s);
/* Compile a .psq with its checks, or load a .lbc or .seq and check it
   against s->sys (a warning when it was compiled for another system), into
   s->p and s->ck. Diagnostics go to s->d; returns 0, EXIT_INPUT or
   EXIT_USAGE. minima: search the minima of the timing params (s->mins). */
int cli_seq_check(struct cli_seq *s, bool minima);
/* The output folder of scan and run (-o, else the sequence's name),
   created if need be; NULL (and a message) if it cannot be. */
char *cli_seq_out_dir(const struct cli_seq *s);
/* Write s's check report to DIR/check.txt; EXIT_INPUT (and a message) if
   it cannot be written or the sequence fails its checks ("nothing was "
   what), else 0. *path: the report's path, for the caller to free. */
int cli_seq_check_txt(const struct cli_seq *s, const char *dir, const char *what, char **path);

/* Register with d the source files of p's line table that are not there
   yet (regular files under 16 MiB), for diagnostics at their lines. */
void cli_load_sources(struct diag_ctx *d, const struct lbc_program *p);
/* Print a VM run error of program ctx with its source location. */
int cli_vm_error(void *ctx, const struct vm_error *e);
/* The defaults of larmor recon (POCS partial Fourier). */
void cli_recon_defaults(struct recon_cli *c);

/* The commands (cmd_build.c, cmd_info.c, cmd_scan.c, cmd_plot.c,
   cmd_pulseq.c, cmd_run.c): argv[0] is the command's name; each returns
   the exit status. */
int cmd_compile(int argc, char **argv);
int cmd_disasm(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_params(int argc, char **argv);
int cmd_system(int argc, char **argv);
int cmd_phantom(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_recon(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_run(int argc, char **argv);

#endif
