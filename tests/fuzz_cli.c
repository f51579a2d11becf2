/*
 * fuzz_cli: libFuzzer entry point for the larmor command's argument
 * vectors: the whole command (larmor_main, cli/main.c) on an argv the
 * fuzzer writes, in a scratch folder that holds a small sequence, a
 * phantom, its bytecode, its Pulseq export and its raw data. Any vector
 * must give exit 0, 1 or 2, and a non-zero exit must say why on stderr
 * (never a silent failure); no crash, leak, undefined behaviour or hang.
 *
 * The input is the arguments after "larmor", separated by NUL bytes (at
 * most FC_MAX_ARGS of at most FC_MAX_ARG bytes). The files are
 * tests/fuzz/cli-fixture/ (seq.psq: an 8-line gradient echo whose params
 * cannot make it long; ph.yaml: a 29-voxel disc) and what the command
 * makes of them once per process (seq.lbc, seq.seq, raw.h5); all are
 * written again before every run and everything else in the folder is
 * removed, so that one run cannot change the next; the caller's working
 * folder is restored after each run. So that a run touches
 * nothing outside its folder and stays quick, a vector is skipped (not
 * run) when an argument holds a '/' or sets --max-memory; every run has a
 * 16 MiB memory budget, which bounds the built-in phantoms. stdin is
 * /dev/null; stdout and stderr go to files in the folder for the length of
 * the run (the sanitizers' reports keep the original stderr).
 *
 * Build and run: tests/fuzz/run.sh (the command's own sources, which are
 * not in liblarmor.a, come from larmor_SOURCES in Makefile.am); seeds:
 * tests/fuzz/cli-seed/ (one vector per command). tests/test_regress.c
 * replays the seeds (each must exit 0) and tests/fuzz/cli-regress/.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/membudget.h"
#include "base/util.h"
#include "cli/cli.h"
#include "tests/fuzzutil.h"

/* The exit status of the run, or -1 when the vector was skipped. The
   first call sets the folder up (fuzz_cli_setup with the default
   fixture and stdlib folders, unless the caller did). */
int fuzz_cli_one(const uint8_t *data, size_t size);

/* Set the scratch folder up from the fixture folder, with the stdlib at
   stdlib (LARMOR_STDLIB); 0, or -1 with a message on stderr. */
int fuzz_cli_setup(const char *fixtures, const char *stdlib);

enum { FC_MAX_ARGS = 16, FC_MAX_ARG = 256, FC_BUDGET = 16 << 20 };

/* The sanitizers report to this descriptor when the runtime has the hook. */
void __sanitizer_set_report_fd(void *fd) __attribute__((weak));

struct fc_file {
    const char *name;
    char *data;
    size_t len;
};

static struct fc_file fc_files[] = {
    { "seq.psq", NULL, 0 }, { "ph.yaml", NULL, 0 }, { "seq.lbc", NULL, 0 },
    { "seq.seq", NULL, 0 }, { "raw.h5", NULL, 0 },
};
#define FC_NFILES (sizeof fc_files / sizeof *fc_files)

static char fc_cwd[512];
static int fc_ready;

static int fc_spit(const char *name, const char *data, size_t len)
{
    FILE *f = fopen(name, "wb");
    if (!f)
        return -1;
    size_t put = fwrite(data, 1, len, f);
    return fclose(f) != 0 || put != len ? -1 : 0;
}

/* Remove everything under the current folder (a depth-first walk; the
   folder itself stays). */
static void fc_wipe(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            chmod(path, 0700);
            fc_wipe(path);
            rmdir(path);
        } else {
            unlink(path);
        }
    }
    closedir(d);
}

static int fc_restore(void)
{
    fc_wipe(fc_cwd);
    for (size_t i = 0; i < FC_NFILES; i++)
        if (fc_files[i].data && fc_spit(fc_files[i].name, fc_files[i].data, fc_files[i].len))
            return -1;
    return 0;
}

/* Run larmor on the words, with stdout and stderr into files of the
   folder; the exit status and the size of what went to stderr. */
static int fc_run(int argc, char **argv, long *errlen)
{
    fflush(stdout);
    fflush(stderr);
    int out = dup(1), err = dup(2);
    int o = open(".stdout", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(".stderr", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (o >= 0)
        dup2(o, 1);
    if (e >= 0)
        dup2(e, 2);
    int rc = larmor_main(argc, argv);
    fflush(stdout);
    fflush(stderr);
    clearerr(stdout);
    dup2(out, 1);
    dup2(err, 2);
    close(out);
    close(err);
    *errlen = e >= 0 ? (long)lseek(e, 0, SEEK_END) : 1;
    if (o >= 0)
        close(o);
    if (e >= 0)
        close(e);
    return rc;
}

static void fc_cleanup(void)
{
    if (!fc_cwd[0])
        return;
    fc_wipe(fc_cwd);
    rmdir(fc_cwd);
}

int fuzz_cli_setup(const char *fixtures, const char *stdlib)
{
    if (fc_ready)
        return 0;
    const char *dir = fz_dir();
    if (dir)
        snprintf(fc_cwd, sizeof fc_cwd, "%s/cli", dir);
    if (!dir || (mkdir(fc_cwd, 0700) != 0 && errno != EEXIST)) {
        fprintf(stderr, "fuzz_cli: no scratch folder\n");
        return -1;
    }
    atexit(fc_cleanup);
    for (size_t i = 0; i < 2; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", fixtures, fc_files[i].name);
        fc_files[i].data = read_file(path, &fc_files[i].len);
        if (!fc_files[i].data) {
            fprintf(stderr, "fuzz_cli: cannot read %s\n", path);
            return -1;
        }
    }
    char abs[PATH_MAX];
    if (stdlib && realpath(stdlib, abs))
        setenv("LARMOR_STDLIB", abs, 1);
    unsetenv("LARMOR_DRIVER_PATH");
    unsetenv("LARMOR_MAX_MEMORY");
    int here = open(".", O_RDONLY | O_DIRECTORY);
    if (!freopen("/dev/null", "r", stdin) || here < 0 || chdir(fc_cwd) != 0 ||
        fc_restore() != 0) {
        fprintf(stderr, "fuzz_cli: cannot set up %s\n", fc_cwd);
        if (here >= 0)
            close(here);
        return -1;
    }
    if (__sanitizer_set_report_fd)
        __sanitizer_set_report_fd((void *)(intptr_t)dup(2));
    /* the derived files, made by the command itself */
    static const char *const make[3][7] = {
        { "larmor", "compile", "seq.psq", "-o", "seq.lbc" },
        { "larmor", "export", "seq.psq", "-o", "seq.seq" },
        { "larmor", "simulate", "seq.psq", "--phantom", "ph.yaml", "-o", "raw.h5" },
    };
    for (size_t k = 0; k < 3; k++) {
        static char words[7][16];
        char *argv[8];
        int argc = 0;
        for (; argc < 7 && make[k][argc]; argc++)
            argv[argc] = strcpy(words[argc], make[k][argc]);
        argv[argc] = NULL;
        long errlen;
        mem_budget_set(FC_BUDGET, "the CLI fuzz target");
        if (fc_run(argc, argv, &errlen) != 0) {
            fprintf(stderr, "fuzz_cli: `larmor %s` of the fixture failed\n", argv[1]);
            return -1;
        }
        fc_files[2 + k].data = read_file(fc_files[2 + k].name, &fc_files[2 + k].len);
        if (!fc_files[2 + k].data)
            return -1;
    }
    fc_ready = 1;
    int back = fchdir(here);
    close(here);
    return back;
}

int fuzz_cli_one(const uint8_t *data, size_t size)
{
#ifdef LARMOR_FUZZ_TOP
    if (!fc_ready && fuzz_cli_setup(LARMOR_FUZZ_TOP "/tests/fuzz/cli-fixture",
                                    LARMOR_FUZZ_TOP "/stdlib") != 0)
        abort();
#endif
    if (!fc_ready)
        abort();
    static char words[FC_MAX_ARGS][FC_MAX_ARG];
    char *argv[FC_MAX_ARGS + 2];
    int argc = 0;
    static char prog[] = "larmor";
    argv[argc++] = prog;
    size_t at = 0;
    while (at < size && argc <= FC_MAX_ARGS) {
        char *w = words[argc - 1];
        size_t k = 0;
        while (at < size && data[at]) {
            if (k + 1 < FC_MAX_ARG)
                w[k++] = (char)data[at];
            at++;
        }
        at++;    /* the NUL */
        w[k] = '\0';
        if (strchr(w, '/') || !strncmp(w, "--max-memory", 12))
            return -1;
        argv[argc++] = w;
    }
    argv[argc] = NULL;
    int here = open(".", O_RDONLY | O_DIRECTORY);
    if (here < 0 || chdir(fc_cwd) != 0 || fc_restore() != 0)
        abort();
    mem_budget_set(FC_BUDGET, "the CLI fuzz target");
    long errlen = 0;
    int rc = fc_run(argc, argv, &errlen);
    mem_budget_set(0, NULL);
    if (fchdir(here) != 0)
        abort();
    close(here);
    if (rc < 0 || rc > 2 || (rc != 0 && errlen <= 0)) {
        fprintf(stderr, "fuzz_cli: exit %d with %ld bytes on stderr for:", rc, errlen);
        for (int i = 1; i < argc; i++)
            fprintf(stderr, " '%s'", argv[i]);
        fprintf(stderr, "\n");
        abort();
    }
    return rc;
}

#ifndef LARMOR_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_cli_one(data, size);
    return 0;
}
#endif
