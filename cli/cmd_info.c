/*
 * cmd_info: the commands that describe rather than run: system (a scanner
 * description, or the list of shipped ones), phantom and version.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "base/paths.h"
#include "cli/cli.h"
#include "compiler/compile.h"
#include "config.h"
#include "runtime/phantom/phantom.h"

/* larmor system --list: each shipped system with its description. */
static int list_systems(const char *stdlib)
{
    size_t n;
    char **names = system_names(stdlib, &n);
    if (!n)
        fprintf(stderr, "larmor system: no systems in %s/systems\n",
                stdlib ? stdlib : paths_stdlib());
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

/* What larmor system was asked. */
struct system_cli {
    const char *stdlib;
    bool list;
};

static int system_opt(int ch, const char *arg, void *ctx)
{
    struct system_cli *c = ctx;
    if (ch == OPT_LIST)
        c->list = true;
    else if (ch == OPT_STDLIB)
        c->stdlib = arg;
    else
        return -1;
    return 0;
}

/* larmor system: a scanner description, or the list of shipped ones. */
int cmd_system(int argc, char **argv)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },
        { "list", no_argument, NULL, OPT_LIST },
        { "stdlib", required_argument, NULL, OPT_STDLIB },
        { NULL, 0, NULL, 0 },
    };
    struct system_cli c = { NULL, false };
    int rc = 0;
    int i = cli_getopt("system", argc, argv, "h", opts, system_opt, &c, &rc);
    if (i < 0)
        return rc;
    if (argc - i > (c.list ? 0 : 1))
        return cli_usage_error("system", "%s",
                               c.list ? "--list takes no system" : "one system at a time");
    if (c.list)
        return list_systems(c.stdlib);
    struct diag_ctx d;
    diag_init(&d);
    struct system sys;
    if (system_resolve(i < argc ? argv[i] : NULL, c.stdlib, &sys, &d) == 0) {
        system_print(&sys, stdout);
    } else {
        cli_print_diags(&d);
        cli_print_error_count(&d);
        rc = EXIT_INPUT;
    }
    diag_fini(&d);
    return rc;
}

static int phantom_opt(int ch, const char *arg, void *ctx)
{
    double *res = ctx;
    if (ch != OPT_RES)
        return -1;
    if (cli_parse_length(arg, res) != 0 || !(*res > 0))
        return cli_usage_error("phantom", "--res needs a positive length such as 2mm, not '%s'",
                               arg);
    return 0;
}

/* larmor phantom [P] [--res LEN]: load a phantom (the built-in Shepp-Logan
   when none is named) and describe it, or print its errors. */
int cmd_phantom(int argc, char **argv)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },
        { "res", required_argument, NULL, OPT_RES },
        { NULL, 0, NULL, 0 },
    };
    double res = 0;
    int rc = 0;
    int i = cli_getopt("phantom", argc, argv, "h", opts, phantom_opt, &res, &rc);
    if (i < 0)
        return rc;
    if (argc - i > 1)
        return cli_usage_error("phantom", "%s", "one phantom at a time");
    struct diag_ctx d;
    diag_init(&d);
    struct phantom *ph = phantom_load(i < argc ? argv[i] : "shepp-logan", res, &d);
    if (ph) {
        phantom_describe(ph, stdout);
        phantom_free(ph);
    }
    if (d.ndiags)
        cli_print_diags(&d);
    if (!ph) {
        cli_print_error_count(&d);
        rc = EXIT_INPUT;
    }
    diag_fini(&d);
    return rc;
}

/* larmor version: the version and the bytecode format. */
int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("larmor %s (bytecode format %u)\n", PACKAGE_VERSION, LBC_VERSION);
    return 0;
}
