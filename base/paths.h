/*
 * paths: where Larmor finds its installed files. Today that is the stdlib
 * folder (the sequence modules and stdlib/systems/NAME.yaml): the environment
 * override LARMOR_STDLIB, the source tree's stdlib/ for an uninstalled
 * build (LARMOR_SRC_STDLIB_DIR), and the installed one (LARMOR_STDLIB_DIR),
 * both set by Makefile.am. The compiler and the system loader both ask here.
 */
#ifndef LARMOR_PATHS_H
#define LARMOR_PATHS_H

/* The stdlib folder when none is given: $LARMOR_STDLIB if set and not
   empty, else the source tree's stdlib/ if it exists, else the installed one. */
const char *paths_stdlib(void);

#endif
