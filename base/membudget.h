/*
 * membudget: the one memory budget that every input boundary checks before
 * it makes an allocation sized by the input (the simulator's isochromats,
 * the recon's k-space and image volume, a Pulseq import's decoded shapes
 * and program, a phantom's voxels).
 *
 * The budget is, in this order: a value set by the program (larmor's
 * global --max-memory option, or a test), else the environment variable
 * LARMOR_MAX_MEMORY, else 80 % of the memory available: MemAvailable of
 * /proc/meminfo (sysconf's available pages where there is none), or what
 * is left under the cgroup's limit (memory.max less memory.current, cgroup
 * v2; memory.limit_in_bytes less memory.usage_in_bytes, v1) when that is
 * less. A size is written as a number of bytes with an optional binary
 * suffix: K, M, G, T (also KiB, MiB, GiB, TiB, and KB, MB, GB, TB, which
 * mean the same powers of 1024 here), e.g. 512M, 1.5G, 2GiB.
 *
 * A check names the input, what is being sized and the bytes it needs,
 * and either passes or refuses with the size and the budget (in MiB or
 * GiB) and how to raise the budget. Nothing here allocates.
 */
#ifndef LARMOR_MEMBUDGET_H
#define LARMOR_MEMBUDGET_H

#include <stdbool.h>
#include <stddef.h>

#include "base/diag.h"

#define MEM_BUDGET_ENV "LARMOR_MAX_MEMORY"
/* How to raise the budget, for a caller's own help line. */
#define MEM_BUDGET_RAISE MEM_BUDGET_ENV "=SIZE in the environment or larmor --max-memory SIZE " \
    "(e.g. 16G)"

/* Parse a size ("512M", "1.5G", "4096"); -1 when s is not one (empty, no
   digits, an unknown suffix, 0, or past SIZE_MAX). */
int mem_parse_size(const char *s, size_t *bytes);

/* Set the budget (0: back to the environment variable or the default).
   how says where it came from in messages ("--max-memory 2G"); it is
   copied. */
void mem_budget_set(size_t bytes, const char *how);

/* The budget now, and in why (when not NULL) where it comes from:
   "--max-memory 2G", "LARMOR_MAX_MEMORY=2G" or "80 % of the 12.3 GiB of
   memory available". A LARMOR_MAX_MEMORY that is not a size is ignored
   here (mem_budget_env_error reports it). */
size_t mem_budget(char *why, size_t whylen);

/* When LARMOR_MAX_MEMORY is set but is not a size, a message saying so
   into err and -1; else 0. */
int mem_budget_env_error(char *err, size_t errlen);

/* The memory available to this process (bytes), as described above
   (before the 80 %). */
size_t mem_available(void);

/* The parsers behind mem_available, for the tests: MemAvailable in a
   /proc/meminfo text (0 if absent); the bytes of a cgroup limit file
   ("max" or garbage: 0, meaning no limit). */
size_t mem_parse_meminfo(const char *text);
size_t mem_parse_cgroup(const char *text);

/* "1.5 GiB", "12.0 MiB", "640 KiB", "100 bytes" */
void mem_fmt(size_t bytes, char *buf, size_t n);

/* Saturating arithmetic for sizes: SIZE_MAX on overflow (any SIZE_MAX
   operand stays SIZE_MAX). */
size_t mem_mul(size_t a, size_t b);
size_t mem_add(size_t a, size_t b);

/* 0 when bytes fit the budget; else -1 with the message in err:
   "INPUT: WHAT would take 2.0 GiB of memory, over the budget of 1.0 GiB
   (LARMOR_MAX_MEMORY=1G); ..." and the fix. input may be NULL (the
   caller names it): the message then starts with what. */
int mem_check(const char *input, const char *what, size_t bytes, char *err, size_t errlen);

/* The same as a diagnostic: NULL when bytes fit, else the error reported
   to d (code, span) with its help line, so a caller can add notes (or
   replace the help with its own fix, ending in MEM_BUDGET_RAISE). */
struct diag *mem_check_diag(struct diag_ctx *d, int code, struct span span, const char *input,
                            const char *what, size_t bytes);

#endif
