/*
 * cmd_info: the commands that describe rather than run: system (a scanner
 * description, or the list of shipped ones), phantom and version.
 */
#include <stdlib.h>

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

/* larmor system: a scanner description, or the list of shipped ones. */
int cmd_system(int argc, char **argv)
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
            cli_print_usage("system", stdout);
            return 0;
        case OPT_LIST:
            list = true;
            break;
        case OPT_STDLIB:
            stdlib = optarg;
            break;
        case ':':
            return cli_usage_error("system", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("system", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind > (list ? 0 : 1))
        return cli_usage_error("system", "%s",
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
    optind = 1;
    opterr = 0;
    for (int ch; (ch = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
        switch (ch) {
        case 'h':
            cli_print_usage("phantom", stdout);
            return 0;
        case OPT_RES:
            if (cli_parse_length(optarg, &res) != 0 || !(res > 0))
                return cli_usage_error("phantom",
                                       "--res needs a positive length such as 2mm, not '%s'",
                                       optarg);
            break;
        case ':':
            return cli_usage_error("phantom", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("phantom", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind > 1)
        return cli_usage_error("phantom", "%s", "one phantom at a time");
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

/* larmor version: the version and the bytecode format. */
int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("larmor %s (bytecode format %u)\n", PACKAGE_VERSION, LBC_VERSION);
    return 0;
}
