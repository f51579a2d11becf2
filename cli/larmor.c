/*
 * larmor: the process entry of the `larmor` command; everything else is
 * in larmor_main (cli/main.c), so that a test or a fuzz target can run the
 * command in its own process.
 */
#include "cli/cli.h"

int main(int argc, char **argv)
{
    return larmor_main(argc, argv);
}
