/*
 * util: memory helpers, growable buffers and the per-compilation arena.
 * Out of memory is not recoverable in Larmor: every allocation that fails
 * aborts with a message (STYLE.md). The arena owns tokens, AST nodes,
 * symbols and diagnostics of one compilation and is freed at once.
 */
#ifndef LARMOR_UTIL_H
#define LARMOR_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* malloc/calloc/realloc/strdup that abort on failure. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new heap string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An error message into a caller's buffer (err, errlen); nothing when err
   is NULL or errlen 0. */
void errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Seconds on the monotonic clock (for elapsed times). */
double monotonic_s(void);
/* Whether s ends with suf ("seq.lbc", ".lbc"). */
bool str_has_suffix(const char *s, const char *suf);

/* Levenshtein distance (capped: 99 for strings over 40 bytes), optionally
   ignoring ASCII case. */
unsigned str_distance(const char *a, const char *b, bool fold_case);
/* The closest of names to s if it is close enough to be a typo (1 edit for
   up to 3 letters, 2 up to 8, else 3; case ignored), else NULL. */
const char *str_nearest(const char *s, const char *const *names, size_t n);
/* "a, b, c": a new string. */
char *str_join(const char *const *names, size_t n);

/* Grow *arr (element size esz) so that it holds at least need elements. */
void vec_reserve(void **arr, size_t *cap, size_t need, size_t esz);
#define VEC_PUSH(arr, n, cap, val) do { \
        vec_reserve((void **)&(arr), &(cap), (n) + 1, sizeof(*(arr))); \
        (arr)[(n)++] = (val); } while (0)

/* Bump allocator: everything is freed by arena_fini. */
struct arena_chunk;
struct arena {
    struct arena_chunk *head;
    size_t bytes;            /* held in all, chunk headers included */
};
void arena_init(struct arena *a);
void arena_fini(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);     /* zeroed */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);

/* Growable string. */
struct strbuf {
    char *s;
    size_t len, cap;
};
void sb_init(struct strbuf *b);
void sb_fini(struct strbuf *b);
void sb_putc(struct strbuf *b, char c);
void sb_puts(struct strbuf *b, const char *s);
void sb_putn(struct strbuf *b, const char *s, size_t n);
void sb_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Take ownership of the string (NUL-terminated); b is reset. */
char *sb_take(struct strbuf *b);

/* Read a whole file; returns NULL and sets errno on failure. */
char *read_file(const char *path, size_t *len_out);

/* CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320) of a byte range. */
uint32_t crc32_update(uint32_t crc, const void *data, size_t n);

/* 64-bit FNV-1a hash of a byte range (used for shape dedup and system hashes). */
uint64_t fnv1a64(uint64_t h, const void *data, size_t n);
#define FNV1A64_INIT 0xcbf29ce484222325ULL

#endif
