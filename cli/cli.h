/*
 * cli: what the commands of `larmor` share. The exit statuses, the option
 * ids (one number space, so that scan can take simulate's and recon's
 * options at once), the options every sequence command takes (-D, -o,
 * --system, --stdlib) and their parsing, the value parsers with units,
 * and the common first step of a command: compile a .psq, import a .seq
 * or load a .lbc, with or without the checks. cli.c holds these helpers,
 * main.c the command table and the help; each cmd_*.c one group of
 * commands.
 */
#ifndef LARMOR_CLI_H
#define LARMOR_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/diag.h"
#include "base/units.h"
#include "runtime/check/check.h"
#include "runtime/system/system.h"
#include "vm/program.h"
#include "vm/vm.h"

#define EXIT_INPUT 1
#define EXIT_USAGE 2

enum { OPT_PHANTOM = 180, OPT_SPINS, OPT_COILS, OPT_SNR, OPT_SEED, OPT_THREADS, OPT_QUIET,
       OPT_NODIFF, OPT_RES = 200, OPT_STDLIB = 256, OPT_SYSTEM, OPT_FROM, OPT_TO, OPT_BLOCKS, OPT_DELAYS, OPT_LIST,
       OPT_JSON, OPT_REPS, OPT_FORMAT = 300, OPT_WINDOW, OPT_MOSAIC, OPT_PF, OPT_POCS_IT,
       OPT_KEEP_OS, OPT_SENS, OPT_KSPACE, OPT_WISDOM, OPT_DIFF, OPT_SPOILING,
       OPT_REP = 340, OPT_SAR, OPT_PNS, OPT_SIZE, OPT_MARKS,
       OPT_STRICT = 380, OPT_SEQFORMAT, OPT_DRIVER = 400 };

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

/* Print "larmor CMD: " fmt (with arg) and the --help hint; EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, const char *arg);
/* Print the usage and help text of command name to out. */
void cli_print_usage(const char *name, FILE *out);

/* What an option's value must look like, for "bad value" messages; NULL
   for options without a hint. */
const char *cli_opt_hint(int ch);
/* Parse the common options; returns the index of the first operand or -1. */
int cli_parse_opts(const char *cmd, int argc, char **argv, struct seq_opts *so,
                   const struct option *extra, int (*on_extra)(int, const char *, void *),
                   void *ectx, int *rc);
/* The common start of a command that takes one sequence: parse the options
   and return the operand, or NULL with *rc set (0 after --help). */
const char *cli_one_operand(const char *cmd, int argc, char **argv, struct seq_opts *so,
                            const struct option *extra,
                            int (*on_extra)(int, const char *, void *), void *ectx,
                            const char *need, int *rc);

/* Parse a time with a unit ("10ms", "2.5 s") into ns. */
int cli_parse_time(const char *s, int64_t *ns);
/* Parse a quantity with a unit of dimension want ("2mm", "0.5 s") into SI;
   a bare number is read as SI. */
int cli_parse_quantity(const char *s, struct dim want, double *si);
/* Parse a length with a unit ("2mm") into metres. */
int cli_parse_length(const char *s, double *m);
/* "A..B" (A <= B) or "N" into an inclusive range; -1 if malformed. */
int cli_parse_range(const char *arg, uint64_t *first, uint64_t *last);
/* A whole number from lo to hi, nothing else; -1 if not. */
int cli_parse_int(const char *s, long lo, long hi, long *v);

/* The output stream: the -o file, or stdout. NULL (and a message) on error. */
FILE *cli_open_output(const char *cmd, const char *path);
/* The base name of in with its extension replaced by ext (in the current
   folder). */
char *cli_default_out(const char *in, const char *ext);

/* Load the --system choice (generic_3t without one) from the stdlib
   (--stdlib, else the default) or a path; errors go to d. */
int cli_load_system(const struct seq_opts *so, struct system *sys, struct diag_ctx *d);
/* Compile a .psq, import a .seq or load a .lbc; diagnostics are printed. */
struct lbc_program *cli_load_program(const char *path, const struct seq_opts *so, int *rc);
/* Load seq (compile a .psq, import a .seq) and write it as bytecode to
   -o or the source name with .lbc; the exit status. */
int cli_write_lbc(const char *cmd, const char *seq, const struct seq_opts *so);
/* Compile a .psq with its checks, or load a .lbc and check it against
   sys (a warning when it was compiled for another system). Diagnostics go
   to d; returns 0, EXIT_INPUT or EXIT_USAGE. mins NULL: no minimum search. */
int cli_compile_checked(const char *cmd, const char *seq, const struct seq_opts *so,
                        struct system *sys, struct lbc_program **pp, struct check **ckp,
                        struct cli_mins *mins, struct diag_ctx *d);
/* Register with d the source files of p's line table that are not there
   yet (regular files under 16 MiB), for diagnostics at their lines. */
void cli_load_sources(struct diag_ctx *d, const struct lbc_program *p);
/* Print a VM run error of program ctx with its source location. */
int cli_vm_error(void *ctx, const struct vm_error *e);

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
