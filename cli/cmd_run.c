/*
 * cmd_run: larmor run, a sequence on a real console through a driver, with
 * the output folder of larmor scan.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "runtime/driver/run.h"
#include "runtime/recon/reconstruct.h"
#include "base/util.h"

/* --driver URI */
static int run_opt(int ch, const char *arg, void *ctx)
{
    if (ch == OPT_DRIVER) {
        *(const char **)ctx = arg;
        return 0;
    }
    return -1;
}

/* larmor run: compile + check for the driver's system, run on the driver,
   write the raw data and reconstruct (the layout of larmor scan) */
int cmd_run(int argc, char **argv)
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
    const char *seq = cli_one_operand("run", argc, argv, &so, extra, run_opt, &uri,
                                      "a sequence (.psq or .lbc) is needed", &rc);
    if (!seq)
        goto out;
    if (!uri) {
        rc = cli_usage_error("run", "%s",
                             "--driver URI is needed (marcos://HOST:PORT or record:FILE)");
        goto out;
    }
    /* the driver's own system: MaRCoS consoles are low-field */
    if (!so.system && (!strncmp(uri, "marcos:", 7) || !strncmp(uri, "record:", 7)))
        so.system = "marcos_lowfield";
    struct system sys;
    char e[1024];
    if (cli_load_system(&so, &sys, &d) != 0 || driver_check_uri(uri, &sys, e, sizeof e) != 0) {
        if (!d.nerrors)
            fprintf(stderr, "larmor run: %s\n", e);
        diag_print_all(&d, stderr, diag_want_color(stderr));
        rc = EXIT_INPUT;
        goto out;
    }
    dir = so.out ? xstrdup(so.out) : cli_default_out(seq, "");
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "larmor run: cannot create the folder %s: %s\n", dir, strerror(errno));
        rc = EXIT_INPUT;
        goto out;
    }
    rc = cli_compile_checked("run", seq, &so, &sys, &p, &ck, NULL, &d);
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
    char *name = cli_default_out(seq, "");
    struct diag_ctx src;
    diag_init(&src);
    cli_load_sources(&src, p);
    struct run_opts ro = { uri, path, name, false, &src };
    bool wrote = false;
    rc = driver_run(p, &sys, &t, &ro, &wrote, stderr);
    diag_fini(&src);
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
