/*
 * cmd_run: larmor run, a sequence on a real console through a driver, with
 * the output folder of larmor scan.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

/* Run s's checked program on the driver at uri, the raw data into dir
   (reconstructed there when the driver wrote it); the exit status. */
static int run_on_driver(const struct cli_seq *s, const char *uri, const char *dir)
{
    /* the ticket: what passed the checks, for the driver to verify */
    struct drv_ticket t;
    drv_ticket_make(&t, s->p, &s->sys);
    char *path = xasprintf("%s/raw.h5", dir);
    char *name = cli_default_out(s->path, "");
    struct diag_ctx src;
    diag_init(&src);
    cli_load_sources(&src, s->p);
    struct run_opts ro = { uri, path, name, false, &src };
    bool wrote = false;
    int rc = driver_run(s->p, &s->sys, &t, &ro, &wrote, stderr);
    diag_fini(&src);
    free(name);
    if (rc == 0 && wrote) {
        struct recon_cli rec;
        cli_recon_defaults(&rec);
        rc = reconstruct(path, dir, &rec, stderr) ? EXIT_INPUT : 0;
    }
    free(path);
    return rc;
}

/* larmor run: compile + check for the driver's system, run on the driver,
   write the raw data and reconstruct (the layout of larmor scan) */
int cmd_run(int argc, char **argv)
{
    static const struct option extra[] = {
        { "driver", required_argument, NULL, OPT_DRIVER },
        { NULL, 0, NULL, 0 },
    };
    const char *uri = NULL;
    struct cli_seq s;
    int rc = 0;
    char *dir = NULL, *path = NULL;
    if (!cli_seq_begin(&s, "run", argc, argv, extra, run_opt, &uri,
                       "a sequence (.psq or .lbc) is needed", &rc))
        goto out;
    if (!uri) {
        rc = cli_usage_error("run", "%s",
                             "--driver URI is needed (marcos://HOST:PORT or record:FILE)");
        goto out;
    }
    /* the driver's own system: MaRCoS consoles are low-field */
    if (!s.so.system && (!strncmp(uri, "marcos:", 7) || !strncmp(uri, "record:", 7)))
        s.so.system = "marcos_lowfield";
    char e[1024];
    if (cli_seq_system(&s) != 0 || driver_check_uri(uri, &s.sys, e, sizeof e) != 0) {
        if (!s.d.nerrors)
            fprintf(stderr, "larmor run: %s\n", e);
        cli_print_diags(&s.d);
        rc = EXIT_INPUT;
        goto out;
    }
    if (!(dir = cli_seq_out_dir(&s))) {
        rc = EXIT_INPUT;
        goto out;
    }
    rc = cli_seq_check(&s, false);
    cli_print_diags(&s.d);
    if (!rc)
        rc = cli_seq_check_txt(&s, dir, "sent", &path);
    if (!rc)
        rc = run_on_driver(&s, uri, dir);
out:
    cli_seq_fini(&s);
    free(path);
    free(dir);
    return rc;
}
