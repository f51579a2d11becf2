/*
 * lbc_io: the .lbc file format: writing a program to bytes or a file, and
 * reading one back. docs/bytecode-format.md describes every byte.
 *
 * Everything is little-endian and written one byte at a time, so the file
 * is the same on every host. The reader treats its input as hostile: every
 * count is checked against the bytes that remain before anything is
 * allocated, so memory use is bounded by a small multiple of the input
 * size, and any failure frees what was built. It then runs lbc_verify, so
 * a program it returns is safe to execute.
 */
#include "vm/program.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/membudget.h"
#include "base/outfile.h"
#include "base/util.h"

#define HEADER_LEN 28   /* magic 8, version 4, flags 4, crc 4, payload length 8 */

/* The file's CRC-32: of the payload, followed by the flags word (as
   stored, 4 bytes at offset 12) when the flags are not 0. A program
   without flags has the CRC it had before flags had a meaning; with the
   word covered, no flipped flag bit reads as another valid program. */
static uint32_t file_crc(const unsigned char *file, size_t plen)
{
    uint32_t c = crc32_update(0, file + HEADER_LEN, plen);
    static const unsigned char zero[4] = { 0, 0, 0, 0 };
    if (memcmp(file + 12, zero, 4) != 0)
        c = crc32_update(c, file + 12, 4);
    return c;
}

/* ---- writing ---- */

struct wbuf {
    unsigned char *b;
    size_t n, cap;
};

static void w_bytes(struct wbuf *w, const void *p, size_t n)
{
    vec_reserve((void **)&w->b, &w->cap, w->n + n, 1);
    if (n)
        memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void w_u8(struct wbuf *w, uint8_t v)
{
    w_bytes(w, &v, 1);
}

static void w_u32(struct wbuf *w, uint32_t v)
{
    unsigned char b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    w_bytes(w, b, 4);
}

static void w_u64(struct wbuf *w, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    w_bytes(w, b, 8);
}

static void w_i32(struct wbuf *w, int32_t v)
{
    w_u32(w, (uint32_t)v);
}

static void w_i64(struct wbuf *w, int64_t v)
{
    w_u64(w, (uint64_t)v);
}

static void w_f64(struct wbuf *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    w_u64(w, u);
}

static void put_u32_at(unsigned char *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64_at(unsigned char *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

/* Serialises p into a new heap buffer (*out, free with free()). Returns 0,
   or -1 if a string is too long for the format (nothing is allocated). */
int lbc_write_buf(const struct lbc_program *p, unsigned char **out, size_t *outlen)
{
    for (uint32_t i = 0; i < p->nstrs; i++)
        if (strlen(p->strs[i]) > UINT32_MAX)
            return -1;

    struct wbuf w = { NULL, 0, 0 };
    /* header, completed below */
    w_bytes(&w, LBC_MAGIC, 8);
    w_u32(&w, LBC_VERSION);
    w_u32(&w, p->origin == LBC_ORIGIN_PULSEQ ? LBC_FLAG_PULSEQ : 0);  /* flags */
    w_u32(&w, 0);               /* crc */
    w_u64(&w, 0);               /* payload length */

    w_u32(&w, p->nregs);
    w_i32(&w, p->source);
    w_i32(&w, p->sys_name);
    w_u64(&w, p->sys_hash);
    w_i64(&w, p->grad_raster);
    w_i64(&w, p->rf_raster);
    w_i64(&w, p->adc_raster);
    w_i64(&w, p->block_raster);
    w_i64(&w, p->rf_ringdown);
    w_i64(&w, p->adc_dead);

    w_u32(&w, p->nstrs);
    for (uint32_t i = 0; i < p->nstrs; i++) {
        size_t n = strlen(p->strs[i]);
        w_u32(&w, (uint32_t)n);
        w_bytes(&w, p->strs[i], n);
    }
    w_u32(&w, p->nnums);
    for (uint32_t i = 0; i < p->nnums; i++)
        w_f64(&w, p->nums[i]);
    w_u32(&w, p->ntimes);
    for (uint32_t i = 0; i < p->ntimes; i++)
        w_i64(&w, p->times[i]);
    w_u32(&w, p->nshapedata);
    for (uint32_t i = 0; i < p->nshapedata; i++)
        w_f64(&w, p->shapedata[i]);
    w_u32(&w, p->nshapes);
    for (uint32_t i = 0; i < p->nshapes; i++) {
        w_u32(&w, p->shapes[i].off);
        w_u32(&w, p->shapes[i].len);
    }
    w_u32(&w, p->nfields);
    for (uint32_t i = 0; i < p->nfields; i++) {
        w_u8(&w, p->fields[i].kind);
        w_i32(&w, p->fields[i].v);
    }
    w_u32(&w, p->ntmpls);
    for (uint32_t i = 0; i < p->ntmpls; i++) {
        w_u8(&w, p->tmpls[i].type);
        w_u32(&w, p->tmpls[i].off);
        w_u32(&w, p->tmpls[i].n);
    }
    w_u32(&w, p->nloops);
    for (uint32_t i = 0; i < p->nloops; i++) {
        w_i32(&w, p->loops[i].name);
        w_i32(&w, p->loops[i].ctr);
        w_i32(&w, p->loops[i].lim);
        w_i32(&w, p->loops[i].step);
    }
    w_u32(&w, p->ncode);
    for (uint32_t i = 0; i < p->ncode; i++) {
        w_u8(&w, p->code[i].op);
        w_i32(&w, p->code[i].a);
        w_i32(&w, p->code[i].b);
        w_i32(&w, p->code[i].c);
    }
    for (uint32_t i = 0; i < p->ncode; i++) {
        w_i32(&w, p->lines[i].file);
        w_u32(&w, p->lines[i].line);
        w_u32(&w, p->lines[i].col);
        w_u32(&w, p->lines[i].start);
        w_u32(&w, p->lines[i].end);
    }
    w_u32(&w, p->nparams);
    for (uint32_t i = 0; i < p->nparams; i++) {
        const struct lbc_param *q = &p->params[i];
        w_i32(&w, q->name);
        w_u8(&w, q->kind);
        for (int k = 0; k < 3; k++)
            w_u8(&w, (uint8_t)q->dim[k]);
        w_f64(&w, q->f);
        w_i64(&w, q->t);
    }

    size_t plen = w.n - HEADER_LEN;
    put_u32_at(w.b + 16, file_crc(w.b, plen));
    put_u64_at(w.b + 20, (uint64_t)plen);
    *out = w.b;
    *outlen = w.n;
    return 0;
}

/* Verifies p and writes it to path through base/outfile (a temporary file
   in the same directory that is renamed over path), so a failure never
   leaves a partial file. Returns 0 or -1 with a message in err. */
int lbc_write_file(const struct lbc_program *p, const char *path, char *err, size_t errlen)
{
    char verr[256];
    if (lbc_verify(p, verr, sizeof verr) != 0) {
        snprintf(err, errlen, "%s: refusing to write an invalid program: %s", path, verr);
        return -1;
    }
    unsigned char *buf;
    size_t len;
    if (lbc_write_buf(p, &buf, &len) != 0) {
        snprintf(err, errlen, "%s: a string is too long for the bytecode format", path);
        return -1;
    }

    struct outfile o;
    int ret = outfile_open(&o, path, err, errlen);
    if (ret == 0) {
        outfile_write(&o, buf, len);
        ret = outfile_commit(&o, err, errlen);
    }
    free(buf);
    return ret;
}

/* ---- reading ---- */

struct rbuf {
    const unsigned char *b;
    size_t len, pos;
    char *err;
    size_t errlen;
    bool failed;
};

static void r_fail(struct rbuf *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void r_fail(struct rbuf *r, const char *fmt, ...)
{
    if (r->failed)
        return;
    r->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, r->errlen, fmt, ap);
    va_end(ap);
}

/* True if n more bytes are there; otherwise records a truncation at what. */
static bool r_have(struct rbuf *r, size_t n, const char *what)
{
    if (r->failed)
        return false;
    if (r->len - r->pos < n) {
        r_fail(r, "truncated file: %s at byte %zu", what, r->pos);
        return false;
    }
    return true;
}

static uint64_t r_le(struct rbuf *r, int nbytes, const char *what)
{
    if (!r_have(r, (size_t)nbytes, what))
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < nbytes; i++)
        v |= (uint64_t)r->b[r->pos + (size_t)i] << (8 * i);
    r->pos += (size_t)nbytes;
    return v;
}

static uint8_t r_u8(struct rbuf *r, const char *what)
{
    return (uint8_t)r_le(r, 1, what);
}

static uint32_t r_u32(struct rbuf *r, const char *what)
{
    return (uint32_t)r_le(r, 4, what);
}

static int32_t r_i32(struct rbuf *r, const char *what)
{
    return (int32_t)r_u32(r, what);
}

static uint64_t r_u64(struct rbuf *r, const char *what)
{
    return r_le(r, 8, what);
}

static int64_t r_i64(struct rbuf *r, const char *what)
{
    return (int64_t)r_u64(r, what);
}

static double r_f64(struct rbuf *r, const char *what)
{
    uint64_t u = r_u64(r, what);
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* Reads a pool count and checks that count entries of at least minsize
   bytes each can still follow; allocates count elements of esz (zeroed)
   into *arr. Returns false on error. */
static bool r_pool(struct rbuf *r, const char *what, size_t minsize, size_t esz,
                   void **arr, uint32_t *count, size_t *cap)
{
    size_t at = r->pos;
    uint32_t n = r_u32(r, what);
    if (r->failed)
        return false;
    if ((uint64_t)n > (r->len - r->pos) / minsize) {
        r_fail(r, "truncated file: %s count %u needs at least %llu bytes, %zu left at byte %zu",
               what, n, (unsigned long long)n * minsize, r->len - r->pos, at);
        return false;
    }
    *arr = n ? xcalloc(n, esz) : NULL;
    *count = n;
    *cap = n;
    return true;
}

/* Checks the 28-byte file header of a .lbc image (magic, version, known
   flags, payload length, CRC) and returns its flags in *flags; false with
   a reason in err. */
static bool read_header(const unsigned char *buf, size_t len, uint32_t *flags, char *err,
                        size_t errlen)
{
    if (len < 8) {
        if (len == 0 || memcmp(buf, LBC_MAGIC, len) == 0)
            snprintf(err, errlen, "truncated file: magic at byte 0 (file is %zu bytes)", len);
        else
            snprintf(err, errlen, "not a Larmor bytecode file (bad magic)");
        return false;
    }
    if (memcmp(buf, LBC_MAGIC, 8) != 0) {
        snprintf(err, errlen, "not a Larmor bytecode file (bad magic)");
        return false;
    }
    struct rbuf r = { buf, len, 8, err, errlen, false };
    uint32_t version = r_u32(&r, "header");
    if (!r.failed && version != LBC_VERSION) {
        snprintf(err, errlen, "bytecode format version %u, this larmor reads version %u",
                 version, LBC_VERSION);
        return false;
    }
    *flags = r_u32(&r, "header");
    if (!r.failed && (*flags & ~LBC_FLAGS_KNOWN) != 0) {
        snprintf(err, errlen, "unknown header flags 0x%08x", *flags & ~LBC_FLAGS_KNOWN);
        return false;
    }
    uint32_t crc = r_u32(&r, "header");
    uint64_t plen = r_u64(&r, "header");
    if (r.failed)
        return false;
    if (plen > len - HEADER_LEN) {
        snprintf(err, errlen,
                 "truncated file: header announces %llu payload bytes, file ends at byte %zu",
                 (unsigned long long)plen, len);
        return false;
    }
    if (plen < len - HEADER_LEN) {
        snprintf(err, errlen, "trailing garbage after byte %llu (file is %zu bytes)",
                 (unsigned long long)plen + HEADER_LEN, len);
        return false;
    }
    if (file_crc(buf, (size_t)plen) != crc) {
        snprintf(err, errlen, "checksum mismatch: the file is corrupted");
        return false;
    }
    return true;
}

/* Parses and verifies a whole .lbc image. NULL with a reason in err on
   any problem; never crashes, never leaks. */
struct lbc_program *lbc_read_buf(const unsigned char *buf, size_t len, char *err, size_t errlen)
{
    uint32_t flags = 0;
    if (!read_header(buf, len, &flags, err, errlen))
        return NULL;
    struct rbuf r = { buf, len, HEADER_LEN, err, errlen, false };

    struct lbc_program *p = lbc_new();

    p->origin = flags & LBC_FLAG_PULSEQ ? LBC_ORIGIN_PULSEQ : LBC_ORIGIN_PSQ;
    p->nregs = r_u32(&r, "program header");
    p->source = r_i32(&r, "program header");
    p->sys_name = r_i32(&r, "program header");
    p->sys_hash = r_u64(&r, "program header");
    p->grad_raster = r_i64(&r, "program header");
    p->rf_raster = r_i64(&r, "program header");
    p->adc_raster = r_i64(&r, "program header");
    p->block_raster = r_i64(&r, "program header");
    p->rf_ringdown = r_i64(&r, "program header");
    p->adc_dead = r_i64(&r, "program header");
    if (r.failed)
        goto fail;

    /* strings: count, then u32 length + bytes each */
    uint32_t nstrs;
    if (!r_pool(&r, "string pool", 4, sizeof(char *), (void **)&p->strs, &nstrs, &p->cap_strs))
        goto fail;
    for (uint32_t i = 0; i < nstrs; i++) {
        uint32_t n = r_u32(&r, "string length");
        if (!r_have(&r, n, "string"))
            goto fail;
        if (memchr(buf + r.pos, 0, n)) {
            r_fail(&r, "string %u contains a NUL byte (at byte %zu)", i, r.pos);
            goto fail;
        }
        p->strs[i] = xstrndup((const char *)buf + r.pos, n);
        p->nstrs = i + 1;
        r.pos += n;
    }

    if (!r_pool(&r, "number pool", 8, sizeof(double), (void **)&p->nums, &p->nnums, &p->cap_nums))
        goto fail;
    for (uint32_t i = 0; i < p->nnums; i++)
        p->nums[i] = r_f64(&r, "number");

    if (!r_pool(&r, "time pool", 8, sizeof(int64_t), (void **)&p->times, &p->ntimes, &p->cap_times))
        goto fail;
    for (uint32_t i = 0; i < p->ntimes; i++)
        p->times[i] = r_i64(&r, "time");

    if (!r_pool(&r, "shape data", 8, sizeof(double), (void **)&p->shapedata, &p->nshapedata,
                &p->cap_shapedata))
        goto fail;
    for (uint32_t i = 0; i < p->nshapedata; i++)
        p->shapedata[i] = r_f64(&r, "shape sample");

    if (!r_pool(&r, "shape table", 8, sizeof(struct lbc_shape), (void **)&p->shapes, &p->nshapes,
                &p->cap_shapes))
        goto fail;
    for (uint32_t i = 0; i < p->nshapes; i++) {
        p->shapes[i].off = r_u32(&r, "shape");
        p->shapes[i].len = r_u32(&r, "shape");
    }

    if (!r_pool(&r, "template fields", 5, sizeof(struct lbc_field), (void **)&p->fields,
                &p->nfields, &p->cap_fields))
        goto fail;
    for (uint32_t i = 0; i < p->nfields; i++) {
        p->fields[i].kind = r_u8(&r, "field");
        p->fields[i].v = r_i32(&r, "field");
    }

    if (!r_pool(&r, "template table", 9, sizeof(struct lbc_tmpl), (void **)&p->tmpls, &p->ntmpls,
                &p->cap_tmpls))
        goto fail;
    for (uint32_t i = 0; i < p->ntmpls; i++) {
        p->tmpls[i].type = r_u8(&r, "template");
        p->tmpls[i].off = r_u32(&r, "template");
        p->tmpls[i].n = r_u32(&r, "template");
    }

    if (!r_pool(&r, "loop table", 16, sizeof(struct lbc_loop), (void **)&p->loops, &p->nloops,
                &p->cap_loops))
        goto fail;
    for (uint32_t i = 0; i < p->nloops; i++) {
        p->loops[i].name = r_i32(&r, "loop");
        p->loops[i].ctr = r_i32(&r, "loop");
        p->loops[i].lim = r_i32(&r, "loop");
        p->loops[i].step = r_i32(&r, "loop");
    }

    /* code: 13 bytes per instruction, then 20 bytes of span per instruction */
    if (!r_pool(&r, "code", 13 + 20, sizeof(struct lbc_insn), (void **)&p->code, &p->ncode,
                &p->cap_code))
        goto fail;
    p->lines = p->ncode ? xcalloc(p->ncode, sizeof *p->lines) : NULL;
    for (uint32_t i = 0; i < p->ncode; i++) {
        p->code[i].op = r_u8(&r, "instruction");
        p->code[i].a = r_i32(&r, "instruction");
        p->code[i].b = r_i32(&r, "instruction");
        p->code[i].c = r_i32(&r, "instruction");
    }
    for (uint32_t i = 0; i < p->ncode; i++) {
        p->lines[i].file = r_i32(&r, "line table");
        p->lines[i].line = r_u32(&r, "line table");
        p->lines[i].col = r_u32(&r, "line table");
        p->lines[i].start = r_u32(&r, "line table");
        p->lines[i].end = r_u32(&r, "line table");
    }

    if (!r_pool(&r, "parameters", 24, sizeof(struct lbc_param), (void **)&p->params, &p->nparams,
                &p->cap_params))
        goto fail;
    for (uint32_t i = 0; i < p->nparams; i++) {
        struct lbc_param *q = &p->params[i];
        q->name = r_i32(&r, "parameter");
        q->kind = r_u8(&r, "parameter");
        for (int k = 0; k < 3; k++)
            q->dim[k] = (int8_t)r_u8(&r, "parameter");
        q->f = r_f64(&r, "parameter");
        q->t = r_i64(&r, "parameter");
    }
    if (r.failed)
        goto fail;
    if (r.pos != len) {
        r_fail(&r, "trailing bytes in payload at byte %zu (file is %zu bytes)", r.pos, len);
        goto fail;
    }

    if (lbc_verify(p, err, errlen) != 0)
        goto fail_quiet;
    return p;

fail:
    if (!r.failed)
        snprintf(err, errlen, "malformed file");
fail_quiet:
    lbc_free(p);
    return NULL;
}

/* Reads, parses and verifies the file at path; NULL with a reason
   (prefixed with the path) in err on failure. */
struct lbc_program *lbc_read_file(const char *path, char *err, size_t errlen)
{
    /* the file's bytes and the program made of them (each count is held
       to the bytes that follow it, so at most a small multiple of them),
       before reading */
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
        mem_check(path, "loading the bytecode (four times its size)",
                  mem_mul((size_t)st.st_size, 4), err, errlen) != 0)
        return NULL;
    size_t len = 0;
    char *buf = read_file(path, &len);
    if (!buf) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    char why[512];
    struct lbc_program *p = lbc_read_buf((const unsigned char *)buf, len, why, sizeof why);
    if (!p)
        snprintf(err, errlen, "%s: %s", path, why);
    free(buf);
    return p;
}
