/*
 * paths: the install paths (see paths.h). The folders come from the build
 * (-DLARMOR_STDLIB_DIR, -DLARMOR_SRC_STDLIB_DIR); a build without them
 * looks for ./stdlib.
 */
#include "base/paths.h"

#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>

#ifndef LARMOR_STDLIB_DIR
#define LARMOR_STDLIB_DIR "stdlib"
#endif
#ifndef LARMOR_SRC_STDLIB_DIR
#define LARMOR_SRC_STDLIB_DIR LARMOR_STDLIB_DIR
#endif

static bool dir_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *paths_stdlib(void)
{
    const char *env = getenv("LARMOR_STDLIB");
    if (env && *env)
        return env;
    if (dir_exists(LARMOR_SRC_STDLIB_DIR))
        return LARMOR_SRC_STDLIB_DIR;
    return LARMOR_STDLIB_DIR;
}
