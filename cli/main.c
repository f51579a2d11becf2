/*
 * main: the `larmor` command. Git-style subcommands, each a row of the
 * command table with its own --help. Exit status: 0 success, 1 errors in
 * the input, 2 usage errors. Owns the table, the dispatch and the help and
 * usage texts; the commands live in cmd_*.c, what they share in cli.c.
 * The process entry is cli/larmor.c; larmor_main can be called more than
 * once in a process (the CLI fuzz target, tests/fuzz_cli.c, does).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "base/membudget.h"
#include "base/util.h"
#include "runtime/io/h5.h"

struct cmd {
    const char *name;
    const char *summary;
    const char *usage;
    int (*run)(int argc, char **argv);
};

static const struct cmd *find_cmd(const char *name);

int cli_usage_error(const char *cmd, const char *fmt, const char *arg)
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

void cli_print_usage(const char *name, FILE *out)
{
    print_usage(find_cmd(name), out);
}

static int cmd_help(int argc, char **argv);

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
      "(SIGINT) or SIGTERM stops early and leaves a valid file holding what was\n"
      "simulated, marked incomplete (exit 130 or 143).\n\n"
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
      "  --widen-limits  accept encoding counters past the header's encodingLimits\n"
      "                  (and readouts past its matrix): the grid is sized from the\n"
      "                  data, with a warning saying what was past (default: refused)\n"
      "  --quiet         no notes or summary",
      "larmor recon RAW.h5 [-o OUT] [--format LIST] [--window LO:HI] [--mosaic] "
      "[--partial-fourier zero|pocs] [--sens MAPS] [--kspace BASE] [--widen-limits]", cmd_recon },
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
      "(130 after Ctrl-C or SIGINT, 143 after SIGTERM).\n\n"
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
    fprintf(out, "usage: larmor [--max-memory SIZE] COMMAND [ARGS]\n\n"
            "Larmor compiles MRI pulse sequences (*.psq) to checked bytecode (*.lbc)\n"
            "and runs them.\n\ncommands:\n");
    for (size_t i = 0; i < ARRAY_LEN(cmds); i++) {
        const char *nl = strchr(cmds[i].summary, '\n');
        int n = nl ? (int)(nl - cmds[i].summary) : (int)strlen(cmds[i].summary);
        fprintf(out, "  %-9s %.*s\n", cmds[i].name, n, cmds[i].summary);
    }
    fprintf(out, "\noptions before the command:\n"
            "  --max-memory SIZE  the memory budget of every input (e.g. 2G; default: the\n"
            "                     environment's %s, else 80 %% of the memory available)\n"
            "\n'larmor COMMAND --help' tells more.\n", MEM_BUDGET_ENV);
}

/* "'NAME' is not a command", with the nearest command when NAME looks like
   a typo of one (compil: compile). */
static void not_a_command(const char *name)
{
    const char *names[ARRAY_LEN(cmds)];
    for (size_t i = 0; i < ARRAY_LEN(cmds); i++)
        names[i] = cmds[i].name;
    const char *near = str_nearest(name, names, ARRAY_LEN(cmds));
    if (near)
        fprintf(stderr, "larmor: '%s' is not a command; did you mean '%s'?\n", name, near);
    else
        fprintf(stderr, "larmor: '%s' is not a command\n", name);
}

static int cmd_help(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        print_usage(find_cmd("help"), stdout);
        return 0;
    }
    if (argc >= 2) {
        const struct cmd *c = find_cmd(argv[1]);
        if (!c) {
            not_a_command(argv[1]);
            fprintf(stderr, "Try 'larmor help' for the list of commands.\n");
            return EXIT_USAGE;
        }
        print_usage(c, stdout);
        return 0;
    }
    main_usage(stdout);
    return 0;
}

/* Whatever a command printed to standard output must have reached it: a
   full disk or a closed pipe is an error (exit 1), never a silent exit 0
   with a truncated listing. Checked once here, after the command, so that
   the order of stdout and stderr stays as the command wrote them. */
static int finish_stdout(const char *cmd, int rc)
{
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return rc;
    int e = errno ? errno : EIO;
    fprintf(stderr, "larmor %s: standard output: cannot write: %s; what was written is "
            "incomplete\n", cmd, strerror(e));
    return rc ? rc : EXIT_INPUT;
}

/* The options before the command (--max-memory SIZE, or =SIZE), and a
   LARMOR_MAX_MEMORY that is not a size; how many arguments they took, or
   -1 after a usage message. */
static int global_options(int argc, char **argv)
{
    int i = 1;
    while (i < argc && !strncmp(argv[i], "--max-memory", 12) &&
           (argv[i][12] == 0 || argv[i][12] == '=')) {
        const char *v = argv[i][12] == '=' ? argv[i] + 13 : i + 1 < argc ? argv[++i] : NULL;
        size_t b;
        if (!v || mem_parse_size(v, &b) != 0) {
            fprintf(stderr, "larmor: --max-memory takes a size: a number of bytes with K, M, G "
                    "or T (powers of 1024), e.g. --max-memory 2G\n");
            return -1;
        }
        char how[64];
        snprintf(how, sizeof how, "--max-memory %s", v);
        mem_budget_set(b, how);
        i++;
    }
    char err[256];
    if (mem_budget_env_error(err, sizeof err) != 0) {
        fprintf(stderr, "larmor: %s\n", err);
        return -1;
    }
    return i - 1;
}

int larmor_main(int argc, char **argv)
{
    h5_process_init();
    if (argc < 2) {
        main_usage(stderr);
        return EXIT_USAGE;
    }
    int shift = global_options(argc, argv);
    if (shift < 0)
        return EXIT_USAGE;
    argc -= shift;
    argv += shift;
    if (argc < 2) {
        main_usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
        return finish_stdout("version", cmd_version(0, NULL));
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return finish_stdout("help", cmd_help(1, argv));
    const struct cmd *c = find_cmd(argv[1]);
    if (!c) {
        not_a_command(argv[1]);
        main_usage(stderr);
        return EXIT_USAGE;
    }
    return finish_stdout(c->name, c->run(argc - 1, argv + 1));
}
