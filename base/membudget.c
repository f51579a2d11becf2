/*
 * membudget: the memory budget of every input boundary (membudget.h).
 * Owns the override set by the program, the reading of LARMOR_MAX_MEMORY,
 * /proc/meminfo and the cgroup's limit, and the wording of a refusal.
 */
#include "base/membudget.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

static size_t g_override;
static char g_how[64];

size_t mem_mul(size_t a, size_t b)
{
    if (a == SIZE_MAX || b == SIZE_MAX)
        return SIZE_MAX;
    if (a && b > SIZE_MAX / a)
        return SIZE_MAX;
    return a * b;
}

size_t mem_add(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

int mem_parse_size(const char *s, size_t *bytes)
{
    if (!s)
        return -1;
    while (isspace((unsigned char)*s))
        s++;
    if (!isdigit((unsigned char)*s) && *s != '.')
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || !(v > 0))
        return -1;
    while (*end == ' ')
        end++;
    static const char *const sfx[] = { "K", "M", "G", "T" };
    double scale = 1;
    if (*end) {
        int k = -1;
        for (int i = 0; i < 4; i++)
            if (toupper((unsigned char)*end) == sfx[i][0])
                k = i;
        if (k < 0)
            return -1;
        end++;
        /* K, KB, KiB (and the same in any case) all mean 1024 */
        if ((end[0] == 'i' || end[0] == 'I') && (end[1] == 'B' || end[1] == 'b'))
            end += 2;
        else if (end[0] == 'B' || end[0] == 'b')
            end++;
        if (*end)
            return -1;
        for (int i = 0; i <= k; i++)
            scale *= 1024;
    }
    double b = floor(v * scale);
    if (!(b >= 1) || b >= (double)SIZE_MAX)
        return -1;
    *bytes = (size_t)b;
    return 0;
}

void mem_budget_set(size_t bytes, const char *how)
{
    g_override = bytes;
    snprintf(g_how, sizeof g_how, "%s", bytes && how ? how : "");
}

size_t mem_parse_meminfo(const char *text)
{
    const char *p = text ? strstr(text, "MemAvailable:") : NULL;
    if (!p)
        return 0;
    unsigned long long kb;
    if (sscanf(p, "MemAvailable: %llu kB", &kb) != 1)
        return 0;
    return mem_mul((size_t)kb, 1024);
}

size_t mem_parse_cgroup(const char *text)
{
    if (!text)
        return 0;
    while (isspace((unsigned char)*text))
        text++;
    if (!isdigit((unsigned char)*text))
        return 0;          /* "max": no limit */
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || (*end && !isspace((unsigned char)*end)))
        return 0;
    return v > SIZE_MAX ? SIZE_MAX : (size_t)v;
}

/* The first 4 KiB of a small file (a /proc or /sys entry), or NULL. */
static char *read_small(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t k = fread(buf, 1, n - 1, f);
    fclose(f);
    buf[k] = 0;
    return k ? buf : NULL;
}

/* What the cgroup leaves (limit less usage); SIZE_MAX when it sets no
   limit. */
static size_t cgroup_left(void)
{
    static const char *const files[][2] = {
        { "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current" },
        { "/sys/fs/cgroup/memory/memory.limit_in_bytes",
          "/sys/fs/cgroup/memory/memory.usage_in_bytes" },
    };
    char buf[4096];
    for (size_t i = 0; i < ARRAY_LEN(files); i++) {
        size_t lim = mem_parse_cgroup(read_small(files[i][0], buf, sizeof buf));
        /* v1 writes "no limit" as a number near 2^63 */
        if (!lim || lim >= ((size_t)1 << 62))
            continue;
        size_t used = mem_parse_cgroup(read_small(files[i][1], buf, sizeof buf));
        return used < lim ? lim - used : 0;
    }
    return SIZE_MAX;
}

size_t mem_available(void)
{
    char buf[4096];
    size_t avail = mem_parse_meminfo(read_small("/proc/meminfo", buf, sizeof buf));
    if (!avail) {
        long pages = sysconf(_SC_AVPHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
        avail = pages > 0 && psz > 0 ? mem_mul((size_t)pages, (size_t)psz) : (size_t)1 << 32;
    }
    size_t cg = cgroup_left();
    return cg < avail ? cg : avail;
}

int mem_budget_env_error(char *err, size_t errlen)
{
    const char *e = getenv(MEM_BUDGET_ENV);
    size_t b;
    if (!e || mem_parse_size(e, &b) == 0)
        return 0;
    errf(err, errlen, "%s='%s' is not a memory size: write a number of bytes with K, M, G or T "
         "(powers of 1024), e.g. %s=2G, or unset it for 80 %% of the available memory",
         MEM_BUDGET_ENV, e, MEM_BUDGET_ENV);
    return -1;
}

size_t mem_budget(char *why, size_t whylen)
{
    if (g_override) {
        if (why && whylen)
            snprintf(why, whylen, "%s", g_how[0] ? g_how : "as set");
        return g_override;
    }
    const char *e = getenv(MEM_BUDGET_ENV);
    size_t b;
    if (e && mem_parse_size(e, &b) == 0) {
        if (why && whylen)
            snprintf(why, whylen, "%s=%s", MEM_BUDGET_ENV, e);
        return b;
    }
    size_t avail = mem_available();
    if (why && whylen) {
        char a[32];
        mem_fmt(avail, a, sizeof a);
        snprintf(why, whylen, "80 %% of the %s of memory available", a);
    }
    return avail / 10 * 8;
}

void mem_fmt(size_t bytes, char *buf, size_t n)
{
    double b = (double)bytes;
    if (bytes == SIZE_MAX)
        snprintf(buf, n, "more than %.0f EiB", b / (1024.0 * 1024 * 1024 * 1024 * 1024 * 1024));
    else if (b >= 1024.0 * 1024 * 1024)
        snprintf(buf, n, "%.1f GiB", b / (1024.0 * 1024 * 1024));
    else if (b >= 1024.0 * 1024)
        snprintf(buf, n, "%.1f MiB", b / (1024.0 * 1024));
    else if (b >= 1024.0)
        snprintf(buf, n, "%.0f KiB", b / 1024.0);
    else
        snprintf(buf, n, "%zu bytes", bytes);
}

/* The refusal's sentence and its fix. */
static void refusal(const char *input, const char *what, size_t bytes, size_t budget,
                    const char *why, char *msg, size_t msglen, char *help, size_t helplen)
{
    char nb[48], bb[48];
    mem_fmt(bytes, nb, sizeof nb);
    mem_fmt(budget, bb, sizeof bb);
    snprintf(msg, msglen, "%s%s%s would take %s of memory, over the budget of %s (%s)",
             input ? input : "", input ? ": " : "", what, nb, bb, why);
    snprintf(help, helplen, "make the input smaller, or raise the budget if the machine has "
             "the memory: " MEM_BUDGET_RAISE);
}

int mem_check(const char *input, const char *what, size_t bytes, char *err, size_t errlen)
{
    char why[96];
    size_t budget = mem_budget(why, sizeof why);
    if (bytes <= budget)
        return 0;
    char msg[512], help[256];
    refusal(input, what, bytes, budget, why, msg, sizeof msg, help, sizeof help);
    errf(err, errlen, "%s; %s", msg, help);
    return -1;
}

struct diag *mem_check_diag(struct diag_ctx *d, int code, struct span span, const char *input,
                            const char *what, size_t bytes)
{
    char why[96];
    size_t budget = mem_budget(why, sizeof why);
    if (bytes <= budget)
        return NULL;
    char msg[512], help[256];
    refusal(input, what, bytes, budget, why, msg, sizeof msg, help, sizeof help);
    struct diag *g = diag_error(d, code, span, "%s", msg);
    diag_help(g, "%s", help);
    return g;
}
