/*
 * test_lbc: CUnit suite "lbc" for the bytecode modules (vm/program.c,
 * vm/lbc_io.c, vm/verify.c, vm/disasm.c): builder deduplication, a
 * write/read round trip that compares every pool, rejection of every
 * single-bit corruption and every truncation of a valid file, the header
 * error messages, one verifier rejection per rule, the pc -> source lookup
 * and the read-only view backends receive (vm/backend.c).
 *
 * If LARMOR_LBC_SEED_DIR is set, the round-trip test also writes the valid
 * programs it builds there (seed corpus for tests/fuzz_lbc.c).
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/util.h"
#include "vm/backend.h"
#include "vm/program.h"
#include "tests/testutil.h"

int register_lbc_tests(void);

/* A small program that uses every pool, every template type, a loop with a
   conditional jump inside it, params and spans. */
static struct lbc_program *build_sample(void)
{
    struct lbc_program *p = lbc_new();
    p->nregs = 8;
    p->source = lbc_add_string(p, "spin_echo.psq");
    p->sys_name = lbc_add_string(p, "generic_3t");
    p->sys_hash = 0x0123456789abcdefULL;

    static const double sinc[5] = { 0.0, 0.6366, 1.0, 0.6366, 0.0 };
    int32_t a0 = lbc_add_shape(p, sinc, 5);
    int32_t k0 = lbc_add_num(p, 0.0), k1 = lbc_add_num(p, 10.0), k2 = lbc_add_num(p, 1.0);
    int32_t t0 = lbc_add_time(p, 1000), t1 = lbc_add_time(p, 10000000);
    int32_t L0 = lbc_add_loop(p, lbc_add_string(p, "line"), 1, 2, 3);

    struct lbc_field rf[RFF__COUNT] = { { 0, 0 } };
    rf[RFF_MAG] = (struct lbc_field){ FK_SHAPE, a0 };
    rf[RFF_DT] = (struct lbc_field){ FK_TIME, t0 };
    rf[RFF_AMP] = (struct lbc_field){ FK_NUM, lbc_add_num(p, 11.7e-6) };
    rf[RFF_USE] = (struct lbc_field){ FK_IMM, VM_RFUSE_EXCITATION };
    int32_t e0 = lbc_add_tmpl(p, TMPL_RF, rf);
    struct lbc_field g[GF__COUNT] = { { 0, 0 } };
    g[GF_AXIS] = (struct lbc_field){ FK_IMM, 2 };
    g[GF_KIND] = (struct lbc_field){ FK_IMM, GRAD_TRAP };
    g[GF_AMP] = (struct lbc_field){ FK_REG, 4 };
    g[GF_RISE] = (struct lbc_field){ FK_TIME, t0 };
    g[GF_FLAT] = (struct lbc_field){ FK_TIME, t1 };
    g[GF_FALL] = (struct lbc_field){ FK_TIME, t0 };
    int32_t e1 = lbc_add_tmpl(p, TMPL_GRAD, g);
    struct lbc_field adc[AF__COUNT] = { { 0, 0 } };
    adc[AF_SAMPLES] = (struct lbc_field){ FK_NUM, k1 };
    adc[AF_DWELL] = (struct lbc_field){ FK_TIME, t0 };
    int32_t e2 = lbc_add_tmpl(p, TMPL_ADC, adc);
    struct lbc_field tr[TF__COUNT] = { { 0, 0 } };
    tr[TF_CHANNEL] = (struct lbc_field){ FK_IMM, 1 };
    tr[TF_DUR] = (struct lbc_field){ FK_TIME, t0 };
    int32_t e3 = lbc_add_tmpl(p, TMPL_TRIG, tr);
    struct lbc_field end[EF__COUNT] = { { 0, 0 } };
    end[EF_DUR] = (struct lbc_field){ FK_REG, 5 };
    end[EF_ALIGN_KIND] = (struct lbc_field){ FK_IMM, ALIGN_RF };
    end[EF_ALIGN_AT] = (struct lbc_field){ FK_TIME, t1 };
    end[EF_MARK_RF] = (struct lbc_field){ FK_REG, 6 };
    int32_t e4 = lbc_add_tmpl(p, TMPL_END, end);

    struct lbc_span sp = { p->source, 3, 5, 40, 52 };
    lbc_emit(p, OP_LOADF, 1, k0, 0, &sp);                      /* 0 */
    lbc_emit(p, OP_LOADF, 2, k1, 0, &sp);                      /* 1 */
    lbc_emit(p, OP_LOADF, 3, k2, 0, &sp);                      /* 2 */
    sp.line = 23;
    uint32_t prep = lbc_emit(p, OP_FORPREP, L0, 0, 0, &sp);    /* 3 */
    lbc_emit(p, OP_BEGIN, lbc_add_string(p, "excite"), 0, 0, &sp);
    lbc_emit(p, OP_RF, e0, 0, 0, &sp);
    lbc_emit(p, OP_GRAD, e1, 0, 0, &sp);
    lbc_emit(p, OP_ADC, e2, 0, 0, &sp);
    lbc_emit(p, OP_TRIG, e3, 0, 0, NULL);
    lbc_emit(p, OP_LABEL, VM_LABEL_LIN, 1, 3, NULL);           /* 9 */
    lbc_emit(p, OP_LTF, 0, 1, 2, NULL);                        /* 10 */
    lbc_emit(p, OP_JMPF, 0, 13, 0, NULL);                      /* 11 */
    lbc_emit(p, OP_NOP, 0, 0, 0, NULL);                        /* 12 */
    lbc_emit(p, OP_END, e4, 0, 0, NULL);                       /* 13 */
    uint32_t loop = lbc_emit(p, OP_FORLOOP, L0, (int32_t)prep + 1, 0, NULL);  /* 14 */
    p->code[prep].b = (int32_t)loop + 1;
    lbc_emit(p, OP_MATH, 7, 4, VM_MATH_SINC, NULL);            /* 15 */
    lbc_emit(p, OP_DELAY, 7, 0, 0, NULL);                      /* 16 */
    lbc_emit(p, OP_HALT, 0, 0, 0, NULL);                       /* 17 */

    struct lbc_param te = { lbc_add_string(p, "te"), PARAM_TIME, { 1, 0, 0 }, 0, 20000000 };
    struct lbc_param fov = { lbc_add_string(p, "fov"), PARAM_NUM, { 0, 1, 0 }, 0.256, 0 };
    struct lbc_param gmax = { lbc_add_string(p, "gmax"), PARAM_NUM, { 0, -1, 1 }, 0.04, 0 };
    lbc_add_param(p, &te);
    lbc_add_param(p, &fov);
    lbc_add_param(p, &gmax);
    return p;
}

static unsigned char *write_sample(size_t *len)
{
    struct lbc_program *p = build_sample();
    unsigned char *buf = NULL;
    CU_ASSERT_FATAL(lbc_write_buf(p, &buf, len) == 0);
    lbc_free(p);
    return buf;
}

static void put_u32le(unsigned char *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

/* Recomputes the payload checksum after a deliberate edit. */
static void fix_crc(unsigned char *buf, size_t len)
{
    put_u32le(buf + 16, crc32_update(0, buf + 28, len - 28));
}

static void test_sample_verifies(void)
{
    struct lbc_program *p = build_sample();
    char err[256] = "";
    int rc = lbc_verify(p, err, sizeof err);
    if (rc)
        fprintf(stderr, "verify: %s\n", err);
    CU_ASSERT_EQUAL(rc, 0);
    lbc_free(p);
}

static void test_dedup(void)
{
    struct lbc_program *p = lbc_new();
    int32_t a = lbc_add_string(p, "alpha");
    CU_ASSERT_EQUAL(lbc_add_string(p, "alpha"), a);
    CU_ASSERT_NOT_EQUAL(lbc_add_string(p, "beta"), a);
    CU_ASSERT_NOT_EQUAL(lbc_add_string(p, ""), a);
    CU_ASSERT_EQUAL(lbc_add_string(p, ""), lbc_add_string(p, ""));
    /* enough entries to grow the tables several times */
    char name[32];
    int32_t idx[3000];
    for (int i = 0; i < 3000; i++) {
        snprintf(name, sizeof name, "s%d", i);
        idx[i] = lbc_add_string(p, name);
    }
    CU_ASSERT_EQUAL(p->nstrs, 3003u);
    int same = 1;
    for (int i = 0; i < 3000; i++) {
        snprintf(name, sizeof name, "s%d", i);
        same &= lbc_add_string(p, name) == idx[i];
        same &= strcmp(lbc_str(p, idx[i]), name) == 0;
    }
    CU_ASSERT(same);
    CU_ASSERT_EQUAL(p->nstrs, 3003u);
    CU_ASSERT_STRING_EQUAL(lbc_str(p, -1), "?");
    CU_ASSERT_STRING_EQUAL(lbc_str(p, 99999), "?");

    int32_t z = lbc_add_num(p, 0.0), nz = lbc_add_num(p, -0.0);
    CU_ASSERT_NOT_EQUAL(z, nz);
    CU_ASSERT_EQUAL(lbc_add_num(p, 0.0), z);
    CU_ASSERT_EQUAL(lbc_add_num(p, -0.0), nz);
    double nan = NAN;
    int32_t kn = lbc_add_num(p, nan);
    CU_ASSERT_EQUAL(lbc_add_num(p, nan), kn);
    for (int i = 0; i < 2000; i++)
        lbc_add_num(p, i * 0.5);
    CU_ASSERT_EQUAL(p->nnums, 2000u + 2);    /* 0.0 reappears as 0*0.5 */
    CU_ASSERT_EQUAL(lbc_add_num(p, 999.5), lbc_add_num(p, 1999 * 0.5));

    int32_t t = lbc_add_time(p, 1000);
    CU_ASSERT_EQUAL(lbc_add_time(p, 1000), t);
    CU_ASSERT_NOT_EQUAL(lbc_add_time(p, -1000), t);
    CU_ASSERT_EQUAL(lbc_add_time(p, INT64_MIN), lbc_add_time(p, INT64_MIN));

    double s1[3] = { 1, 2, 3 }, s2[3] = { 1, 2, 3 }, s3[2] = { 1, 2 };
    int32_t a1 = lbc_add_shape(p, s1, 3);
    CU_ASSERT_EQUAL(lbc_add_shape(p, s2, 3), a1);
    CU_ASSERT_NOT_EQUAL(lbc_add_shape(p, s3, 2), a1);
    CU_ASSERT_EQUAL(p->nshapedata, 5u);
    lbc_free(p);
}

static void assert_equal_programs(const struct lbc_program *a, const struct lbc_program *b)
{
    CU_ASSERT_EQUAL(a->nregs, b->nregs);
    CU_ASSERT_EQUAL(a->source, b->source);
    CU_ASSERT_EQUAL(a->sys_name, b->sys_name);
    CU_ASSERT_EQUAL(a->sys_hash, b->sys_hash);
    CU_ASSERT_EQUAL(a->grad_raster, b->grad_raster);
    CU_ASSERT_EQUAL(a->rf_raster, b->rf_raster);
    CU_ASSERT_EQUAL(a->adc_raster, b->adc_raster);
    CU_ASSERT_EQUAL(a->block_raster, b->block_raster);
    CU_ASSERT_EQUAL_FATAL(a->nstrs, b->nstrs);
    for (uint32_t i = 0; i < a->nstrs; i++)
        CU_ASSERT_STRING_EQUAL(a->strs[i], b->strs[i]);
#define SAME_POOL(arr, n) do { \
        CU_ASSERT_EQUAL_FATAL(a->n, b->n); \
        for (uint32_t i_ = 0; i_ < a->n; i_++) \
            CU_ASSERT(memcmp(&a->arr[i_], &b->arr[i_], sizeof a->arr[i_]) == 0); \
    } while (0)
    SAME_POOL(nums, nnums);
    SAME_POOL(times, ntimes);
    SAME_POOL(shapedata, nshapedata);
    SAME_POOL(shapes, nshapes);
    SAME_POOL(loops, nloops);
#undef SAME_POOL
    /* structs with padding: compare member by member */
    CU_ASSERT_EQUAL_FATAL(a->nfields, b->nfields);
    for (uint32_t i = 0; i < a->nfields; i++) {
        CU_ASSERT_EQUAL(a->fields[i].kind, b->fields[i].kind);
        CU_ASSERT_EQUAL(a->fields[i].v, b->fields[i].v);
    }
    CU_ASSERT_EQUAL_FATAL(a->ntmpls, b->ntmpls);
    for (uint32_t i = 0; i < a->ntmpls; i++) {
        CU_ASSERT_EQUAL(a->tmpls[i].type, b->tmpls[i].type);
        CU_ASSERT_EQUAL(a->tmpls[i].off, b->tmpls[i].off);
        CU_ASSERT_EQUAL(a->tmpls[i].n, b->tmpls[i].n);
    }
    CU_ASSERT_EQUAL_FATAL(a->ncode, b->ncode);
    for (uint32_t i = 0; i < a->ncode; i++) {
        CU_ASSERT_EQUAL(a->code[i].op, b->code[i].op);
        CU_ASSERT_EQUAL(a->code[i].a, b->code[i].a);
        CU_ASSERT_EQUAL(a->code[i].b, b->code[i].b);
        CU_ASSERT_EQUAL(a->code[i].c, b->code[i].c);
        CU_ASSERT(memcmp(&a->lines[i], &b->lines[i], sizeof a->lines[i]) == 0);
    }
    CU_ASSERT_EQUAL_FATAL(a->nparams, b->nparams);
    for (uint32_t i = 0; i < a->nparams; i++) {
        const struct lbc_param *x = &a->params[i], *y = &b->params[i];
        CU_ASSERT_EQUAL(x->name, y->name);
        CU_ASSERT_EQUAL(x->kind, y->kind);
        CU_ASSERT(memcmp(x->dim, y->dim, 3) == 0);
        CU_ASSERT(memcmp(&x->f, &y->f, sizeof x->f) == 0);
        CU_ASSERT_EQUAL(x->t, y->t);
    }
}

static void dump_seed(const char *name, const struct lbc_program *p)
{
    const char *dir = getenv("LARMOR_LBC_SEED_DIR");
    if (!dir)
        return;
    char path[4096], err[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (lbc_write_file(p, path, err, sizeof err) != 0)
        fprintf(stderr, "seed: %s\n", err);
}

static void test_round_trip(void)
{
    struct lbc_program *p = build_sample();
    unsigned char *buf;
    size_t len;
    CU_ASSERT_FATAL(lbc_write_buf(p, &buf, &len) == 0);
    CU_ASSERT(memcmp(buf, "LARMORBC", 8) == 0);
    char err[256] = "";
    struct lbc_program *q = lbc_read_buf(buf, len, err, sizeof err);
    if (!q)
        fprintf(stderr, "read: %s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    assert_equal_programs(p, q);

    /* writing the read program gives the same bytes */
    unsigned char *buf2;
    size_t len2;
    CU_ASSERT_FATAL(lbc_write_buf(q, &buf2, &len2) == 0);
    CU_ASSERT(len2 == len && memcmp(buf, buf2, len) == 0);
    free(buf2);

    /* the builder keeps deduplicating on a program read back */
    uint32_t n = q->nstrs;
    CU_ASSERT_EQUAL(lbc_add_string(q, "excite"), lbc_add_string(p, "excite"));
    CU_ASSERT_EQUAL(lbc_add_num(q, 10.0), lbc_add_num(p, 10.0));
    CU_ASSERT_EQUAL(lbc_add_time(q, 1000), lbc_add_time(p, 1000));
    CU_ASSERT_EQUAL(q->nstrs, n);
    uint32_t pc = lbc_emit(q, OP_NOP, 0, 0, 0, NULL);
    CU_ASSERT_EQUAL(pc, n ? q->ncode - 1 : 0);

    dump_seed("sample.seed", p);
    struct lbc_program *m = lbc_new();
    lbc_emit(m, OP_HALT, 0, 0, 0, NULL);
    dump_seed("halt.seed", m);
    lbc_free(m);

    lbc_free(q);
    lbc_free(p);
    free(buf);
}

static void test_file_io(void)
{
    char dir[] = "/tmp/larmor-lbc-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char path[256], err[512];
    snprintf(path, sizeof path, "%s/prog.lbc", dir);

    struct lbc_program *p = build_sample();
    CU_ASSERT_EQUAL(lbc_write_file(p, path, err, sizeof err), 0);
    struct lbc_program *q = lbc_read_file(path, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    assert_equal_programs(p, q);
    lbc_free(q);

    /* an invalid program is refused and the old file stays as it was */
    p->nregs = 2;
    CU_ASSERT_EQUAL(lbc_write_file(p, path, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "refusing to write an invalid program"));
    q = lbc_read_file(path, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(q);
    lbc_free(q);
    unlink(path);

    /* an unwritable directory leaves nothing behind */
    p->nregs = 8;
    snprintf(path, sizeof path, "%s/no/such/dir.lbc", dir);
    CU_ASSERT_EQUAL(lbc_write_file(p, path, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot create"));

    snprintf(path, sizeof path, "%s/missing.lbc", dir);
    CU_ASSERT_PTR_NULL(lbc_read_file(path, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "No such file or directory"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "missing.lbc"));
    rmdir(dir);
    lbc_free(p);
}

static void test_every_bit_flip_rejected(void)
{
    size_t len;
    unsigned char *buf = write_sample(&len);
    char err[256];
    int accepted = 0;
    for (size_t i = 0; i < len; i++)
        for (int bit = 0; bit < 8; bit++) {
            buf[i] ^= (unsigned char)(1u << bit);
            struct lbc_program *q = lbc_read_buf(buf, len, err, sizeof err);
            if (q) {
                accepted++;
                lbc_free(q);
            }
            buf[i] ^= (unsigned char)(1u << bit);
        }
    CU_ASSERT_EQUAL(accepted, 0);
    free(buf);
}

static void test_every_truncation_rejected(void)
{
    size_t len;
    unsigned char *buf = write_sample(&len);
    char err[256];
    int bad = 0;
    for (size_t n = 0; n < len; n++) {
        /* a fresh copy of exactly n bytes so ASan sees any overread */
        unsigned char *cut = xmalloc(n);
        memcpy(cut, buf, n);
        err[0] = 0;
        struct lbc_program *q = lbc_read_buf(cut, n, err, sizeof err);
        if (q || !strstr(err, "truncated"))
            bad++;
        lbc_free(q);
        free(cut);
    }
    CU_ASSERT_EQUAL(bad, 0);
    free(buf);
}

static void test_header_errors(void)
{
    size_t len;
    unsigned char *buf = write_sample(&len);
    char err[256];

    buf[0] = 'X';
    CU_ASSERT_PTR_NULL(lbc_read_buf(buf, len, err, sizeof err));
    CU_ASSERT_STRING_EQUAL(err, "not a Larmor bytecode file (bad magic)");
    CU_ASSERT_PTR_NULL(lbc_read_buf(buf, 3, err, sizeof err));
    CU_ASSERT_STRING_EQUAL(err, "not a Larmor bytecode file (bad magic)");
    buf[0] = 'L';

    put_u32le(buf + 8, 7);
    CU_ASSERT_PTR_NULL(lbc_read_buf(buf, len, err, sizeof err));
    CU_ASSERT_STRING_EQUAL(err, "bytecode format version 7, this larmor reads version 2");
    put_u32le(buf + 8, LBC_VERSION);

    buf[len - 1] ^= 0x40;
    CU_ASSERT_PTR_NULL(lbc_read_buf(buf, len, err, sizeof err));
    CU_ASSERT_STRING_EQUAL(err, "checksum mismatch: the file is corrupted");
    buf[len - 1] ^= 0x40;

    unsigned char *longer = xmalloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0;
    CU_ASSERT_PTR_NULL(lbc_read_buf(longer, len + 1, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "trailing garbage"));
    free(longer);

    /* a huge string count with a valid checksum: refused before allocating */
    put_u32le(buf + 28 + 68, 0xffffffffu);   /* after the program header */
    fix_crc(buf, len);
    CU_ASSERT_PTR_NULL(lbc_read_buf(buf, len, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "truncated file: string pool count 4294967295"));

    struct lbc_program *ok = lbc_read_buf(buf, 0, err, sizeof err);
    CU_ASSERT_PTR_NULL(ok);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "truncated"));
    free(buf);
}

/* A checksummed file holding an invalid program is refused by the
   verifier, with its message. */
static void test_read_runs_verifier(void)
{
    struct lbc_program *p = build_sample();
    p->code[0].a = 200;
    unsigned char *buf;
    size_t len;
    CU_ASSERT_FATAL(lbc_write_buf(p, &buf, &len) == 0);
    char err[256];
    CU_ASSERT_PTR_NULL(lbc_read_buf(buf, len, err, sizeof err));
    CU_ASSERT_STRING_EQUAL(err, "pc 0: LOADF operand a: register r200 out of range (8 registers)");
    free(buf);
    lbc_free(p);
}

/* Builds the sample, lets edit break it, and checks that verification
   fails with a message containing want. */
static void expect_reject(void (*edit)(struct lbc_program *), const char *want)
{
    struct lbc_program *p = build_sample();
    edit(p);
    char err[256] = "";
    int rc = lbc_verify(p, err, sizeof err);
    CU_ASSERT_EQUAL(rc, -1);
    if (!strstr(err, want)) {
        fprintf(stderr, "\n  expected \"%s\", got \"%s\"\n", want, err);
        CU_FAIL("wrong verifier message");
    }
    lbc_free(p);
}

static void e_reg(struct lbc_program *p) { p->code[10].c = 8; }
static void e_num(struct lbc_program *p) { p->code[1].b = 99; }
static void e_str(struct lbc_program *p) { p->code[4].a = -2; }
static void e_tmpl_idx(struct lbc_program *p) { p->code[5].a = 5; }
static void e_tmpl_type(struct lbc_program *p) { p->code[5].a = 1; }
static void e_math(struct lbc_program *p) { p->code[15].c = VM_MATH__COUNT; }
static void e_unused(struct lbc_program *p) { p->code[17].a = 1; }
static void e_opcode(struct lbc_program *p) { p->code[12].op = OP__COUNT; }
static void e_back_jmp(struct lbc_program *p) { p->code[12] = (struct lbc_insn){ OP_JMP, 5, 0, 0 }; }
static void e_self_jmp(struct lbc_program *p) { p->code[11].b = 11; }
static void e_past_end(struct lbc_program *p) { p->code[16] = (struct lbc_insn){ OP_JMP, 19, 0, 0 }; }
static void e_leave(struct lbc_program *p) { p->code[11].b = 15; }
static void e_enter(struct lbc_program *p) { p->code[2] = (struct lbc_insn){ OP_JMP, 5, 0, 0 }; }
static void e_onto_forloop(struct lbc_program *p) { p->code[2] = (struct lbc_insn){ OP_JMP, 14, 0, 0 }; }
static void e_forloop_back(struct lbc_program *p) { p->code[14].b = 5; }
static void e_forprep_exit(struct lbc_program *p) { p->code[3].b = 14; }
static void e_forloop_loop(struct lbc_program *p)
{
    lbc_add_loop(p, 0, 1, 2, 3);
    p->code[14].a = 1;
}
static void e_stray_forloop(struct lbc_program *p) { p->code[16] = (struct lbc_insn){ OP_FORLOOP, 0, 4, 0 }; }
static void e_unused_loop(struct lbc_program *p) { lbc_add_loop(p, 0, 1, 2, 3); }
static void e_no_halt(struct lbc_program *p) { p->ncode--; }
static void e_no_code(struct lbc_program *p) { p->ncode = 0; }
static void e_field_kind(struct lbc_program *p) { p->fields[p->tmpls[0].off + RFF_MAG].kind = FK_NUM; }
static void e_field_bad(struct lbc_program *p) { p->fields[p->tmpls[0].off + RFF_DT].kind = 17; }
static void e_field_range(struct lbc_program *p) { p->fields[p->tmpls[0].off + RFF_DT].v = 50; }
static void e_axis(struct lbc_program *p) { p->fields[p->tmpls[1].off + GF_AXIS].v = 3; }
static void e_arb(struct lbc_program *p) { p->fields[p->tmpls[1].off + GF_KIND].v = GRAD_ARB; }
static void e_align(struct lbc_program *p) { p->fields[p->tmpls[4].off + EF_ALIGN_KIND].v = 5; }
static void e_mark(struct lbc_program *p) { p->fields[p->tmpls[4].off + EF_MARK_RF] = (struct lbc_field){ FK_TIME, 0 }; }
static void e_tmpl_n(struct lbc_program *p) { p->tmpls[2].n = 4; }
static void e_tmpl_off(struct lbc_program *p) { p->tmpls[4].off = p->nfields - 3; }
static void e_shape(struct lbc_program *p) { p->shapes[0].len = 99; }
static void e_loop_reg(struct lbc_program *p) { p->loops[0].step = 8; }
static void e_nregs(struct lbc_program *p) { p->nregs = (1u << 20) + 1; }
static void e_source(struct lbc_program *p) { p->source = (int32_t)p->nstrs; }
static void e_span(struct lbc_program *p) { p->lines[3].file = 1000; }
static void e_param(struct lbc_program *p) { p->params[0].name = -1; }
static void e_raster(struct lbc_program *p) { p->block_raster = 0; }

static void test_verifier_rejects(void)
{
    expect_reject(e_reg, "pc 10: LTF operand c: register r8 out of range (8 registers)");
    expect_reject(e_num, "pc 1: LOADF operand b: number k99 out of range");
    expect_reject(e_str, "pc 4: BEGIN operand a: string s-2 out of range");
    expect_reject(e_tmpl_idx, "pc 5: RF operand a: template e5 out of range");
    expect_reject(e_tmpl_type, "pc 5: RF operand a: template e1 is grad, not rf");
    expect_reject(e_math, "unknown math function");
    expect_reject(e_unused, "pc 17: HALT operand a is unused and must be 0");
    expect_reject(e_opcode, "pc 12: bad opcode");
    expect_reject(e_back_jmp, "pc 12: JMP target 5 is not forward");
    expect_reject(e_self_jmp, "pc 11: JMPF target 11 is not forward");
    expect_reject(e_past_end, "pc 16: JMP target 19 past the end");
    expect_reject(e_leave, "pc 11: JMPF target 15 leaves its loop");
    expect_reject(e_enter, "pc 2: JMP target 5 jumps into the body of loop L0");
    expect_reject(e_onto_forloop, "pc 2: JMP target 14 jumps into the body of loop L0");
    expect_reject(e_forloop_back, "pc 14: FORLOOP L0 jumps back to 5, not to its body start 4");
    expect_reject(e_forprep_exit, "does not follow a FORLOOP of the same loop");
    expect_reject(e_forloop_loop, "does not follow a FORLOOP of the same loop");
    expect_reject(e_stray_forloop, "pc 16: FORLOOP L0 without its FORPREP");
    expect_reject(e_unused_loop, "loop L1 (spin_echo.psq) has no FORPREP/FORLOOP");
    expect_reject(e_no_halt, "pc 16: the last instruction is DELAY, not HALT");
    expect_reject(e_no_code, "no code");
    expect_reject(e_field_kind, "template e0 (rf): field mag is num, it must be a shape");
    expect_reject(e_field_bad, "bad field kind 17");
    expect_reject(e_field_range, "time value 50 out of range");
    expect_reject(e_axis, "template e1 (grad): field axis = 3 out of range (0..2)");
    expect_reject(e_arb, "template e1 (grad): an arbitrary gradient needs a shape");
    expect_reject(e_align, "field align = 5 out of range (0..4)");
    expect_reject(e_mark, "field mark_rf is time, it must be a register");
    expect_reject(e_tmpl_n, "template e2 (adc): 4 fields, a adc template has 5");
    expect_reject(e_tmpl_off, "past the end of the field table");
    expect_reject(e_shape, "shape a0: samples 0..99 past the end");
    expect_reject(e_loop_reg, "loop L0 (line): register out of range");
    expect_reject(e_nregs, "1048577 registers");
    expect_reject(e_source, "source file name: string index");
    expect_reject(e_span, "pc 3: source file string s1000 out of range");
    expect_reject(e_param, "parameter 0: name string -1 out of range");
    expect_reject(e_raster, "block raster 0 ns out of range");
}

/* Loops nest strictly: an inner loop may not end after its outer one, and
   a jump may skip a whole inner loop. */
static void test_verifier_nesting(void)
{
    struct lbc_program *p = lbc_new();
    p->nregs = 4;
    int32_t nm = lbc_add_string(p, "i");
    int32_t L0 = lbc_add_loop(p, nm, 0, 1, 2), L1 = lbc_add_loop(p, nm, 1, 2, 3);
    lbc_emit(p, OP_FORPREP, L0, 7, 0, NULL);      /* 0 */
    lbc_emit(p, OP_JMP, 6, 0, 0, NULL);           /* 1: skips the inner loop */
    lbc_emit(p, OP_FORPREP, L1, 5, 0, NULL);      /* 2 */
    lbc_emit(p, OP_JMPF, 0, 4, 0, NULL);          /* 3: continue */
    lbc_emit(p, OP_FORLOOP, L1, 3, 0, NULL);      /* 4 */
    lbc_emit(p, OP_NOP, 0, 0, 0, NULL);           /* 5 */
    lbc_emit(p, OP_FORLOOP, L0, 1, 0, NULL);      /* 6 */
    lbc_emit(p, OP_HALT, 0, 0, 0, NULL);          /* 7 */
    char err[256] = "";
    CU_ASSERT_EQUAL(lbc_verify(p, err, sizeof err), 0);
    if (*err)
        fprintf(stderr, "%s\n", err);

    p->code[1].a = 4;      /* onto the inner FORLOOP from outside it */
    CU_ASSERT_EQUAL(lbc_verify(p, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "pc 1: JMP target 4 jumps into the body of loop L1");
    p->code[1].a = 6;

    /* overlapping loops: L1 from 2 to 6, L0 from 0 to 4 */
    struct lbc_insn ov[8] = {
        { OP_FORPREP, 0, 5, 0 }, { OP_NOP, 0, 0, 0 }, { OP_FORPREP, 1, 7, 0 },
        { OP_NOP, 0, 0, 0 }, { OP_FORLOOP, 0, 1, 0 }, { OP_NOP, 0, 0, 0 },
        { OP_FORLOOP, 1, 3, 0 }, { OP_HALT, 0, 0, 0 },
    };
    memcpy(p->code, ov, sizeof ov);
    CU_ASSERT_EQUAL(lbc_verify(p, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "pc 2: loop L1 ends at 6, after the loop L0 that contains it");
    lbc_free(p);
}

/* The one pc -> source lookup: position, span in registered files only,
   the distinct files of the line table. */
static void test_source_lookup(void)
{
    struct lbc_program *p = build_sample();
    struct lbc_srcpos pos;
    CU_ASSERT_TRUE(lbc_pc_pos(p, 0, &pos));
    CU_ASSERT_STRING_EQUAL(pos.path, "spin_echo.psq");
    CU_ASSERT(pos.line == 3 && pos.col == 5 && pos.start == 40 && pos.end == 52);
    CU_ASSERT_FALSE(lbc_pc_pos(p, 8, &pos));      /* emitted without a span */
    CU_ASSERT_PTR_NULL(pos.path);
    CU_ASSERT_FALSE(lbc_pc_pos(p, 1000, &pos));   /* past the code */
    struct diag_ctx d;
    diag_init(&d);
    /* the file is not registered: no span, but the position is known */
    struct span sp = lbc_pc_span(p, 0, &d, &pos);
    CU_ASSERT_EQUAL(sp.file, -1);
    CU_ASSERT_STRING_EQUAL(pos.path, "spin_echo.psq");
    /* registered but shorter than the span: no span */
    char text[64];
    memset(text, 'x', sizeof text);
    int f = diag_add_file(&d, "spin_echo.psq", text, 45);
    CU_ASSERT_EQUAL(lbc_pc_span(p, 0, &d, NULL).file, -1);
    diag_fini(&d);
    diag_init(&d);
    f = diag_add_file(&d, "spin_echo.psq", text, sizeof text);
    sp = lbc_pc_span(p, 0, &d, NULL);
    CU_ASSERT(sp.file == f && sp.start == 40 && sp.end == 52);
    CU_ASSERT_EQUAL(lbc_pc_span(p, 8, &d, NULL).file, -1);
    diag_fini(&d);
    size_t n;
    const char **files = lbc_source_files(p, &n);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_STRING_EQUAL(files[0], "spin_echo.psq");
    free(files);
    lbc_free(p);
}

/* The view a backend's begin() receives, and the lookups on it. */
static void test_backend_view(void)
{
    struct lbc_program *p = build_sample();
    struct vm_view v;
    vm_view_init(&v, p);
    CU_ASSERT_STRING_EQUAL(v.source, "spin_echo.psq");
    CU_ASSERT_EQUAL(v.origin, LBC_ORIGIN_PSQ);
    CU_ASSERT_STRING_EQUAL(v.sys_name, "generic_3t");
    CU_ASSERT_EQUAL(v.sys_hash, 0x0123456789abcdefULL);
    CU_ASSERT_EQUAL(v.nparams, 3);
    CU_ASSERT_EQUAL(v.nshapes, p->nshapes);
    struct vm_param q = vm_view_param(&v, 0);
    CU_ASSERT_STRING_EQUAL(q.name, "te");
    CU_ASSERT(q.kind == PARAM_TIME && q.dim[0] == 1 && q.dim[1] == 0 && q.dim[2] == 0);
    CU_ASSERT_DOUBLE_EQUAL(q.value, 0.02, 1e-15);
    q = vm_view_param(&v, 2);
    CU_ASSERT(q.kind == PARAM_NUM && q.dim[1] == -1 && q.dim[2] == 1);
    CU_ASSERT_PTR_NULL(vm_view_param(&v, 3).name);
    CU_ASSERT_DOUBLE_EQUAL(vm_view_param_value(&v, "te", -1), 0.02, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(vm_view_param_value(&v, "fov", -1), 0.256, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(vm_view_param_value(&v, "tr", -1), -1, 0);
    CU_ASSERT_STRING_EQUAL(vm_view_loop_name(&v, p->loops[0].name), "line");
    struct lbc_srcpos pos;
    CU_ASSERT_TRUE(vm_view_pos(&v, 3, &pos));
    CU_ASSERT_EQUAL(pos.line, 23);
    /* one event: the same instruction; two instructions of one span and op
       only in an imported Pulseq program */
    CU_ASSERT_TRUE(vm_view_same_event(&v, 1, 1));
    CU_ASSERT_FALSE(vm_view_same_event(&v, 0, 1));
    p->origin = LBC_ORIGIN_PULSEQ;
    vm_view_init(&v, p);
    CU_ASSERT_EQUAL(v.origin, LBC_ORIGIN_PULSEQ);
    CU_ASSERT_TRUE(vm_view_same_event(&v, 0, 1));
    CU_ASSERT_FALSE(vm_view_same_event(&v, 0, 3));   /* another op */
    CU_ASSERT_FALSE(vm_view_same_event(&v, 8, 9));   /* no source */
    /* a program checked against no system; an empty view */
    p->sys_name = -1;
    vm_view_init(&v, p);
    CU_ASSERT_PTR_NULL(v.sys_name);
    vm_view_init(&v, NULL);
    CU_ASSERT_STRING_EQUAL(v.source, "?");
    CU_ASSERT_EQUAL(v.nparams, 0);
    CU_ASSERT_FALSE(vm_view_pos(&v, 0, &pos));
    lbc_free(p);
}

static void test_disasm(void)
{
    struct lbc_program *p = build_sample();
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    lbc_disasm(p, f);
    fclose(f);
    static const char *const want[] = {
        "larmor bytecode version 2\n",
        "system     s1(\"generic_3t\") hash 0x0123456789abcdef\n",
        "rasters    grad 10000 ns, rf 1000 ns, adc 100 ns, block 10000 ns\n",
        "  te = 20 ms\n",
        "  fov = 0.256 m\n",
        "  gmax = 0.04 T/m\n",
        "  a0     5 samples [0 .. 0]\n",
        "  k3     1.17e-05\n",
        ("  e0     rf    mag=a0 phase_shape=- dt=t0(=1000 ns) amp=k3(=1.17e-05) phase=- freq=- "
         "delay=- centre=- use=excitation\n"),
        "  e1     grad  axis=z kind=trap amp=r4 ",
        "  e4     end   dur=r5 align=rf at=t1(=10000000 ns) mark_start=- mark_rf=r6 ",
        "  L0     line ctr=r1 lim=r2 step=r3\n",
        "  0001  LOADF     r2 k1(=10)                     ; spin_echo.psq:3:5\n",
        "  0003  FORPREP   L0(line) ->0015                ; spin_echo.psq:23:5\n",
        "  0004  BEGIN     s3(\"excite\")",
        "  0009  LABEL     lin #1 r3\n",
        "  0012  NOP\n",
        "  0014  FORLOOP   L0(line) ->0004\n",
        "  0015  MATH      r7 r4 sinc\n",
        "  0017  HALT\n",
    };
    for (size_t i = 0; i < ARRAY_LEN(want); i++)
        if (!strstr(text, want[i])) {
            fprintf(stderr, "\nmissing in listing: [%s]\n", want[i]);
            CU_FAIL("disassembly");
        }
    if (getenv("LARMOR_SHOW_DISASM"))
        fputs(text, stderr);

    /* the whole listing against the golden file; LARMOR_UPDATE_GOLDEN=1
       rewrites it for review */
    const char *srcdir = getenv("top_srcdir");
    if (!srcdir)
        srcdir = getenv("srcdir");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/golden/lbc_sample.dis", srcdir ? srcdir : ".");
    if (getenv("LARMOR_UPDATE_GOLDEN")) {
        FILE *g = fopen(path, "w");
        CU_ASSERT_PTR_NOT_NULL_FATAL(g);
        fputs(text, g);
        fclose(g);
    }
    size_t glen = 0;
    char *golden = read_file(path, &glen);
    if (!golden) {
        fprintf(stderr, "\ncannot read %s: %s\n", path, strerror(errno));
        CU_FAIL("golden listing missing");
    } else if (glen != n || memcmp(golden, text, n) != 0) {
        fprintf(stderr, "\nlisting differs from %s (LARMOR_UPDATE_GOLDEN=1 rewrites it)\n", path);
        CU_FAIL("golden listing differs");
    }
    free(golden);
    free(text);
    lbc_free(p);
}

int register_lbc_tests(void)
{
    static const struct test_def tests[] = {
        { "sample program verifies", test_sample_verifies },
        { "builder deduplicates pools", test_dedup },
        { "write/read round trip", test_round_trip },
        { "file write/read", test_file_io },
        { "every bit flip rejected", test_every_bit_flip_rejected },
        { "every truncation rejected", test_every_truncation_rejected },
        { "header errors", test_header_errors },
        { "reader runs the verifier", test_read_runs_verifier },
        { "verifier rejections", test_verifier_rejects },
        { "verifier loop nesting", test_verifier_nesting },
        { "source lookup", test_source_lookup },
        { "backend view", test_backend_view },
        { "disassembly", test_disasm },
    };
    return TEST_ADD_SUITE("lbc", tests);
}
