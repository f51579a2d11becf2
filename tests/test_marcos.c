/*
 * test_marcos: the hardware path without hardware, up to the words: the
 * MaRCoS lowering (word encoding, WAIT splitting, same-tick packing,
 * gradient latency, every refusal), the driver registry, and the
 * instruction-level model replaying the words of every sequence that
 * compiles for the MaRCoS system into exactly the record driver's event
 * program. The protocol emulator driven by the larmor binary is
 * test_marcos_emu.c's.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "compiler/compile.h"
#include "base/diag.h"
#include "runtime/driver/driver.h"
#include "runtime/driver/events.h"
#include "runtime/driver/marcos.h"
#include "runtime/io/rawdata.h"
#include "runtime/system/system.h"
#include "base/util.h"
#include "tests/marcos_model.h"
#include "tests/scanutil.h"
#include "tests/testutil.h"

int register_marcos_tests(void);

static struct system msys;      /* marcos_lowfield */

static int suite_init(void)
{
    return load_system("marcos_lowfield", &msys);
}

static bool has_msg(const struct drv_msgs *m, int code)
{
    for (size_t i = 0; i < m->n; i++)
        if (!m->v[i].note && m->v[i].code == code)
            return true;
    return false;
}

static const struct drv_msg *find_msg(const struct drv_msgs *m, int code)
{
    for (size_t i = 0; i < m->n; i++)
        if (!m->v[i].note && m->v[i].code == code)
            return &m->v[i];
    return NULL;
}

/* An empty event program for the default MaRCoS set-up of msys. */
static void ev_empty(struct ev_program *e, struct marcos_cfg *c, const char *uri)
{
    char err[256];
    CU_ASSERT_EQUAL_FATAL(marcos_parse_uri(c, uri, &msys, err, sizeof err), 0);
    memset(e, 0, sizeof *e);
    marcos_caps(&e->caps, c, &msys);
}

/* Lower e, replay the words in the model and expect the same channels. */
static void expect_model_equal(const struct ev_program *e, const struct marcos_prog *mp)
{
    struct mm_result r;
    int rc = mm_run(&r, mp->w, mp->n);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc)
        fprintf(stderr, "\nmodel fault: %s\n", r.fault);
    char msg[256];
    int d = ev_compare(r.ch, e->ch, msg, sizeof msg);
    CU_ASSERT_EQUAL(d, 0);
    if (d)
        fprintf(stderr, "\nmodel vs record: %s\n", msg);
    mm_free(&r);
}

/* The output cycle of each type-B word (issue + delay), in program order. */
static size_t outputs(const struct marcos_prog *mp, int64_t *issue, int64_t *out, size_t cap)
{
    int64_t c = 0;
    size_t n = 0;
    for (size_t i = 0; i < mp->n; i++) {
        uint32_t w = mp->w[i];
        if (w & 0x80000000u) {
            if (n < cap) {
                issue[n] = c;
                out[n] = c + ((w >> 16) & 0xff);
            }
            n++;
            c++;
        } else if ((w >> 24) == MI_WAIT) {
            c += (w & 0xffffff) + 3;
        } else {
            c++;
        }
    }
    return n;
}

static void test_words(void)
{
    CU_ASSERT_EQUAL(marcos_word_a(MI_WAIT, 5), 0x02000005u);
    CU_ASSERT_EQUAL(marcos_word_a(MI_FINISH, 0), 0x01000000u);
    CU_ASSERT_EQUAL(marcos_word_b(MB_TX0_I, 3, 0x1234), 0x85031234u);
    CU_ASSERT_EQUAL(marcos_word_b(MB_RX_CTRL, 255, 0xffff), 0x90ffffffu);
    /* the MaRGA HDL's interfaces, counted cycle by cycle (hdl/ocra1_iface.sv,
       hdl/gpa_fhdo_iface.sv; marcos_lower.c gives the lines): at spi_div 10
       OCRA1 is busy 269 cycles after a broadcast and its DACs change after
       268; GPA-FHDO takes a word 277 cycles after the last, is busy for
       288 and its DAC changes after 276; at spi_div 4: 132 and 126 */
    CU_ASSERT_EQUAL(marcos_grad_spacing(MARCOS_OCRA1, 10), 269);
    CU_ASSERT_EQUAL(marcos_grad_spacing(MARCOS_FHDO, 10), 288);
    CU_ASSERT_EQUAL(marcos_grad_latency(MARCOS_OCRA1, 10), 268);
    CU_ASSERT_EQUAL(marcos_grad_latency(MARCOS_FHDO, 10), 276);
    CU_ASSERT_EQUAL(marcos_grad_spacing(MARCOS_FHDO, 4), 132);
    CU_ASSERT_EQUAL(marcos_grad_latency(MARCOS_FHDO, 4), 126);
    struct marcos_cfg c;
    char err[256];
    CU_ASSERT_EQUAL(marcos_parse_uri(&c, "marcos://10.0.0.2", &msys, err, sizeof err), 0);
    CU_ASSERT_EQUAL(c.port, 11111);
    CU_ASSERT_STRING_EQUAL(c.host, "10.0.0.2");
    CU_ASSERT_EQUAL(marcos_parse_uri(&c, "marcos://rp:2000?board=gpa-fhdo&spi_div=4", &msys, err,
                                     sizeof err), 0);
    CU_ASSERT_EQUAL(c.port, 2000);
    CU_ASSERT_EQUAL(c.board, MARCOS_FHDO);
    CU_ASSERT_EQUAL(c.spi_div, 4);
    CU_ASSERT_NOT_EQUAL(marcos_parse_uri(&c, "marcos://rp:0", &msys, err, sizeof err), 0);
    CU_ASSERT_NOT_EQUAL(marcos_parse_uri(&c, "marcos://rp?board=ocra2", &msys, err, sizeof err), 0);
    CU_ASSERT_NOT_EQUAL(marcos_parse_uri(&c, "marcos://rp?colour=red", &msys, err, sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "colour"));
    CU_ASSERT_NOT_EQUAL(marcos_parse_uri(&c, "marcos://", &msys, err, sizeof err), 0);
}

/* The system's console section gives the driver's defaults; the URI
   overrides them; a system without one is refused by the MaRCoS drivers. */
static void test_console_section(void)
{
    const char *text =
        "name: fhdo_scanner\nb0: 50 mT\n"
        "gradient: { max_amplitude: 10 mT/m, max_slew: 40 T/m/s, raster: 10 us }\n"
        "rf: { raster: 1 us, dead_time: 10 us, ringdown: 50 us, max_b1: 200 uT, "
        "max_duration: 10 ms }\n"
        "adc: { raster: 100 ns, dead_time: 10 us, max_samples: 16384, min_dwell: 100 ns, "
        "max_dwell: 33.3 us }\nblock_raster: 10 us\npatient: { mass: 70 kg, mode: normal }\n"
        "sar: { model: b1rms, whole_body: 6.7e-5 W/kg/uT^2 }\n"
        "pns: { model: iec2022, rheobase: 200 T/m/s, chronaxie: 360 us, dbdt_rheobase: 20 T/s, "
        "dbdt_chronaxie: 360 us, dbdt_radius: 0.1 m }\n"
        "console: { type: marcos, gradient_board: gpa-fhdo, spi_div: 4, "
        "grad_full_scale: {x: 12 mT/m, y: 11 mT/m, z: 9 mT/m}, rx_full_scale: 1000 }\n";
    struct system fs;
    struct diag_ctx d;
    diag_init(&d);
    int rc = system_load_text("fhdo.yaml", text, strlen(text), &fs, &d);
    if (rc)
        diag_print_all(&d, stderr, false);
    diag_fini(&d);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(fs.console, SYS_CONSOLE_MARCOS);
    struct marcos_cfg c;
    char err[512];
    CU_ASSERT_EQUAL(marcos_parse_uri(&c, "marcos://rp", &fs, err, sizeof err), 0);
    CU_ASSERT_EQUAL(c.board, MARCOS_FHDO);
    CU_ASSERT_EQUAL(c.spi_div, 4);
    CU_ASSERT_DOUBLE_EQUAL(c.rx_fs, 1000, 0);
    struct drv_caps caps;
    marcos_caps(&caps, &c, &fs);
    CU_ASSERT_DOUBLE_EQUAL(caps.grad_fs[0], 12e-3, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(caps.grad_fs[2], 9e-3, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(caps.b1_fs, 200e-6, 1e-15);     /* max_b1: no rf_full_scale */
    CU_ASSERT_EQUAL(caps.grad_min_spacing, 26 * 5 + 2);
    CU_ASSERT(caps.grad_serial);
    CU_ASSERT_EQUAL(caps.dac_bits, 16);
    CU_ASSERT_EQUAL(marcos_parse_uri(&c, "marcos://rp?board=ocra1&spi_div=10", &fs, err,
                                     sizeof err), 0);
    CU_ASSERT_EQUAL(c.board, MARCOS_OCRA1);
    CU_ASSERT_EQUAL(c.spi_div, 10);
    /* the shipped low-field system's */
    CU_ASSERT_EQUAL(marcos_parse_uri(&c, "marcos://rp", &msys, err, sizeof err), 0);
    CU_ASSERT_EQUAL(c.board, MARCOS_OCRA1);
    CU_ASSERT_EQUAL(c.spi_div, 10);
    /* no console section: refused */
    struct system g3;
    system_default(&g3);
    CU_ASSERT_EQUAL(g3.console, SYS_CONSOLE_NONE);
    CU_ASSERT_PTR_NULL(drv_marcos_ops.open("marcos://rp", &g3, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "describes no MaRCoS console"));
    CU_ASSERT_PTR_NULL(drv_record_ops.open("record:x", &g3, err, sizeof err));
    void *h = drv_marcos_ops.open("marcos://rp", &fs, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(h);
    drv_marcos_ops.close(h);
}

static void test_wait_split(void)
{
    const int64_t M = MARCOS_WAIT_MAX;
    const int64_t gaps[] = { 0, 1, 2, 3, 4, 5, 7, 100, M + 2, M + 3, M + 4, M + 6, M + 7,
                             2 * (M + 3), 2 * (M + 3) + 1, 3 * M + 11, 5 * M };
    for (size_t i = 0; i < ARRAY_LEN(gaps); i++) {
        struct marcos_prog mp = { 0 };
        marcos_fill(&mp, gaps[i]);
        size_t nfill = mp.n;
        uint32_t fin = marcos_word_a(MI_FINISH, 0);
        vec_reserve((void **)&mp.w, &mp.cap, mp.n + 1, sizeof *mp.w);
        mp.w[mp.n++] = fin;
        struct mm_result r;
        CU_ASSERT_EQUAL(mm_run(&r, mp.w, mp.n), 0);
        CU_ASSERT_EQUAL(r.cycles, gaps[i]);
        for (size_t k = 0; k < nfill; k++) {
            uint32_t w = mp.w[k];
            CU_ASSERT((w >> 24) == MI_NOP || (w >> 24) == MI_WAIT);
            if ((w >> 24) == MI_WAIT)
                CU_ASSERT((w & 0xffffff) >= 1);
        }
        /* few words: one WAIT per 2^24 cycles, at most 3 NOPs */
        CU_ASSERT(nfill <= (size_t)(gaps[i] / (M + 3)) + 4);
        mm_free(&r);
        marcos_prog_fini(&mp);
    }
}

/* Lowers e (which must succeed) and lists the issue and output cycles of
   its words, fewer than 64. */
static size_t lower_outputs(struct marcos_prog *mp, struct drv_msgs *m, int64_t *is, int64_t *out,
                            const struct ev_program *e, const struct marcos_cfg *c)
{
    CU_ASSERT_EQUAL_FATAL(marcos_lower(mp, e, c, m), 0);
    size_t n = outputs(mp, is, out, 64);
    CU_ASSERT_FATAL(n < 64);
    return n;
}

/* Changes on one tick issue on consecutive cycles, delays counting down to
   0 on that tick. */
static void test_same_tick(void)
{
    struct ev_program e;
    struct marcos_cfg c;
    ev_empty(&e, &c, "marcos://x");
    int64_t T = 1000;
    ev_list_set(&e.ch[EV_TX_I], T, 100, 0);
    ev_list_set(&e.ch[EV_TX_Q], T, -200, 0);
    ev_list_set(&e.ch[EV_LO], T, 0x1234567, 0);
    ev_list_set(&e.ch[EV_RX_RATE], T, 50, 0);
    ev_list_set(&e.ch[EV_RX_EN], T, 1, 0);
    ev_list_set(&e.ch[EV_TRIG], T, 1, 0);
    ev_list_set(&e.ch[EV_TX_I], T + 1, 0, 0);     /* the very next tick */
    ev_list_set(&e.ch[EV_RX_EN], T + 400, 0, 0);
    ev_list_set(&e.ch[EV_TRIG], T + 400, 0, 0);
    e.end_tick = 2000;
    struct drv_msgs m = { 0 };
    struct marcos_prog mp;
    int64_t is[64], out[64];
    size_t n = lower_outputs(&mp, &m, is, out, &e, &c);
    /* tx I, Q, LO LSB, MSB, rate, gates, rx ctrl on T: 7 words */
    int at_t = 0;
    int64_t first = INT64_MAX, last = INT64_MIN;
    for (size_t i = 0; i < n; i++)
        if (out[i] == MARCOS_T0 + T) {
            at_t++;
            first = is[i] < first ? is[i] : first;
            last = is[i] > last ? is[i] : last;
        }
    CU_ASSERT_EQUAL(at_t, 7);
    CU_ASSERT_EQUAL(last - first, 6);            /* consecutive cycles */
    CU_ASSERT(last <= MARCOS_T0 + T);            /* before the next tick's write */
    expect_model_equal(&e, &mp);
    marcos_prog_fini(&mp);
    drv_msgs_fini(&m);
    ev_fini(&e);
}

/* Gradient words are issued the board's latency early. */
static void latency_case(const char *uri, int64_t L, bool ocra)
{
    struct ev_program e;
    struct marcos_cfg c;
    ev_empty(&e, &c, uri);
    int64_t T = 5000;
    ev_list_set(&e.ch[EV_GX], T, 1000, 0);
    ev_list_set(&e.ch[EV_GX], T + 2000, -5, 0);
    ev_list_set(&e.ch[EV_GY], T + 2000, 7, 0);
    ev_list_set(&e.ch[EV_GZ], T + 2000, -9, 0);
    if (!ocra) {      /* a serial board: events.c staggers same-tick axes, a word
                         every 26 (1 + 10) + 2 cycles (the HDL's busy time) */
        e.ch[EV_GY].v[0].tick += 288;
        e.ch[EV_GZ].v[0].tick += 576;
    }
    e.end_tick = 10000;
    struct drv_msgs m = { 0 };
    struct marcos_prog mp;
    int64_t is[64], out[64];
    lower_outputs(&mp, &m, is, out, &e, &c);
    /* the data words of the first change land L cycles before T */
    bool found_lsb = false, found_msb = false;
    int64_t c_ = 0;
    size_t k = 0;
    for (size_t i = 0; i < mp.n; i++) {
        uint32_t w = mp.w[i];
        if (w & 0x80000000u) {
            unsigned buf = (w >> 24) & 0x7f, data = w & 0xffff;
            if (out[k] == MARCOS_T0 + T - L && buf == MB_GRAD_LSB)
                found_lsb = data == (ocra ? 0x0FA0u : 0x83E8u);
            if (out[k] == MARCOS_T0 + T - L && buf == MB_GRAD_MSB)
                found_msb = data == (ocra ? 0x0110u : 0x0008u);
            k++;
            c_++;
        }
    }
    (void)c_;
    CU_ASSERT(found_lsb);
    CU_ASSERT(found_msb);
    expect_model_equal(&e, &mp);
    marcos_prog_fini(&mp);
    drv_msgs_fini(&m);
    ev_fini(&e);
}

static void test_latency(void)
{
    latency_case("marcos://x", 268, true);
    latency_case("marcos://x?board=gpa-fhdo", 276, false);
}

/* --- programs compiled for the MaRCoS system ------------------------------ */

static struct lbc_program *compile_src_opt(const char *src, const struct system *sys,
                                           bool no_check)
{
    struct diag_ctx d;
    diag_init(&d);
    struct compile_opts o;
    memset(&o, 0, sizeof o);
    o.path = "marcos_test.psq";
    o.stdlib_dir = test_stdlib_dir();
    o.sys = sys;
    o.no_check = no_check;
    struct lbc_program *p = compile_text("marcos_test.psq", src, strlen(src), &o, &d);
    if (!p)
        diag_print_all(&d, stderr, false);
    diag_fini(&d);
    return p;
}

static struct lbc_program *compile_src(const char *src, const struct system *sys)
{
    return compile_src_opt(src, sys, false);
}

static struct lbc_program *compile_seq(const char *name, const char **defs, int ndefs,
                                       const struct system *sys)
{
    struct diag_ctx d;
    diag_init(&d);
    struct lbc_program *p = compile_sequence(name, defs, ndefs, sys, NULL, &d);
    diag_fini(&d);
    return p;
}

/* Prepare p on driver uri for msys; the messages in m. */
static int prepare(const struct lbc_program *p, const char *uri, struct drv_msgs *m)
{
    struct drv_ticket t;
    drv_ticket_make(&t, p, &msys);
    void *dl;
    char err[256];
    const struct drv_ops *ops = drv_find(uri, &dl, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
    void *h = ops->open(uri, &msys, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    int rc = ops->prepare(h, p, &t, m);
    ops->close(h);
    return rc;
}

/* The source line of a message's instruction. */
static uint32_t msg_line(const struct lbc_program *p, const struct drv_msg *g)
{
    return g && g->pc < p->ncode ? p->lines[g->pc].line : 0;
}

/* src compiles for the MaRCoS system and the driver refuses it with code,
   pointing at that source line. */
static void expect_refused_at(const char *src, int code, uint32_t line)
{
    struct lbc_program *p = compile_src(src, &msys);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    struct drv_msgs m = { 0 };
    CU_ASSERT_NOT_EQUAL(prepare(p, "marcos://x", &m), 0);
    CU_ASSERT(has_msg(&m, code));
    CU_ASSERT_EQUAL(msg_line(p, find_msg(&m, code)), line);
    drv_msgs_fini(&m);
    lbc_free(p);
}

static void test_refusals(void)
{
    const char *small[] = { "matrix=16" };
    struct lbc_program *ge = compile_seq("gradient_echo", small, 1, &msys);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ge);
    struct drv_msgs m = { 0 };
    /* the reference: it places */
    CU_ASSERT_EQUAL(prepare(ge, "marcos://x", &m), 0);
    CU_ASSERT_EQUAL(m.nerrors, 0);
    drv_msgs_fini(&m);
    /* 901: RF past the TX full scale, at the rf line (gradient_echo.psq:39) */
    CU_ASSERT_NOT_EQUAL(prepare(ge, "marcos://x?rf_fs=1e-6", &m), 0);
    CU_ASSERT(has_msg(&m, 901));
    CU_ASSERT_EQUAL(msg_line(ge, find_msg(&m, 901)), 39);
    drv_msgs_fini(&m);
    /* 902: a gradient past the DAC full scale */
    CU_ASSERT_NOT_EQUAL(prepare(ge, "marcos://x?grad_fs=0.0005", &m), 0);
    CU_ASSERT(has_msg(&m, 902));
    drv_msgs_fini(&m);
    /* 908: gradient updates closer than the board's transfers (spi_div 63:
       1538 cycles, the 10 us raster is 1229) */
    CU_ASSERT_NOT_EQUAL(prepare(ge, "marcos://x?spi_div=63", &m), 0);
    CU_ASSERT(has_msg(&m, 908));
    CU_ASSERT(msg_line(ge, find_msg(&m, 908)) > 0);
    drv_msgs_fini(&m);
    /* 911: the program changed after its check */
    struct drv_ticket t;
    drv_ticket_make(&t, ge, &msys);
    CU_ASSERT_FATAL(ge->nnums > 0);
    ge->nums[0] += 1;
    CU_ASSERT_NOT_EQUAL(drv_verify_ticket(&t, ge, &msys, &m), 0);
    CU_ASSERT(has_msg(&m, 911));
    ge->nums[0] -= 1;
    drv_msgs_fini(&m);
    CU_ASSERT_NOT_EQUAL(drv_verify_ticket(NULL, ge, &msys, &m), 0);
    CU_ASSERT(has_msg(&m, 911));
    drv_msgs_fini(&m);
    /* 912: checked against another system */
    struct system other = msys;
    snprintf(other.name, sizeof other.name, "elsewhere");
    drv_ticket_make(&t, ge, &other);
    CU_ASSERT_NOT_EQUAL(drv_verify_ticket(&t, ge, &msys, &m), 0);
    CU_ASSERT(has_msg(&m, 912));
    drv_msgs_fini(&m);
    struct system g3;
    system_default(&g3);
    struct lbc_program *ge3 = compile_seq("gradient_echo", small, 1, &g3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ge3);
    drv_ticket_make(&t, ge3, &msys);       /* a forged ticket: the program says generic_3t */
    CU_ASSERT_NOT_EQUAL(drv_verify_ticket(&t, ge3, &msys, &m), 0);
    CU_ASSERT(has_msg(&m, 912));
    drv_msgs_fini(&m);
    lbc_free(ge3);

    /* 903: a dwell outside the decimation range (a console whose range
       ends at 1000 ticks) */
    struct ev_program e;
    struct drv_caps caps;
    struct marcos_cfg c;
    char err[256];
    marcos_parse_uri(&c, "marcos://x", &msys, err, sizeof err);
    marcos_caps(&caps, &c, &msys);
    caps.decim_max = 1000;
    CU_ASSERT_NOT_EQUAL(ev_build(&e, ge, &caps, &m), 0);
    CU_ASSERT(has_msg(&m, 903));
    CU_ASSERT_EQUAL(msg_line(ge, find_msg(&m, 903)), 49);
    ev_fini(&e);
    drv_msgs_fini(&m);
    /* 910: a run longer than the console holds */
    marcos_caps(&caps, &c, &msys);
    CU_ASSERT_EQUAL(ev_build(&e, ge, &caps, &m), 0);
    e.caps.max_words = 1000;
    struct marcos_prog mp;
    CU_ASSERT_NOT_EQUAL(marcos_lower(&mp, &e, &c, &m), 0);
    CU_ASSERT(has_msg(&m, 910));
    marcos_prog_fini(&mp);
    ev_fini(&e);
    drv_msgs_fini(&m);
    lbc_free(ge);

    /* 904: a dwell of 100 ns is 12.288 ticks: 12 would be 2.3 % short */
    expect_refused_at("sequence { block { adc { samples: 8, dwell: 100 ns, delay: 10 us } } }\n",
                      904, 1);
    /* 3.2 us = 393.216 ticks: placed as 393 (-0.05 %), said in a note, as
       is the largest shift of an event time (at most half a tick) */
    struct lbc_program *p = compile_src("sequence { block { adc { samples: 8, dwell: 3.2 us, delay: 10 us } } }\n", &msys);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(prepare(p, "marcos://x", &m), 0);
    CU_ASSERT_EQUAL(m.nerrors, 0);
    CU_ASSERT_EQUAL(m.n, 2);
    bool dwell_note = false, shift_note = false;
    for (size_t i = 0; i < m.n; i++) {
        dwell_note |= m.v[i].note && m.v[i].code == 950 && strstr(m.v[i].msg, "393 ticks");
        shift_note |= m.v[i].note && m.v[i].code == 952;
        if (m.v[i].code == 952) {
            const char *x = strstr(m.v[i].msg, "shift is ");
            double ns = x ? atof(x + 9) : -1;
            CU_ASSERT(ns > 0 && ns <= 1e9 / MARCOS_CLOCK_HZ / 2 + 0.005);
        }
    }
    CU_ASSERT(dwell_note);
    CU_ASSERT(shift_note);
    drv_msgs_fini(&m);
    lbc_free(p);
    /* 905: an RF frequency below zero once the offset is added */
    expect_refused_at("import rf\nsequence {\n  block { rf rf.hard(flip = 10 deg, dur = 100 us) "
                      "with { freq: -3 MHz } }\n}\n", 905, 3);
    /* 907: two long ADCs 20 us apart: 16384 dwells of 1229 ticks run
       26.7 us past the programmed end */
    expect_refused_at("sequence {\n  block { adc { samples: 16384, dwell: 10 us, delay: 10 us } }\n"
                      "  block { adc { samples: 16384, dwell: 10 us, delay: 10 us } }\n}\n",
                      907, 3);
    /* 906: RF and ADC overlapping with different offsets share one LO (the
       checks refuse the overlap on this system; the driver refuses it on
       its own too, so the program here skips the checks) */
    p = compile_src_opt("import rf\nsequence {\n  block {\n    rf rf.hard(flip = 10 deg, dur = "
                        "500 us) with { freq: 1 kHz }\n    adc { samples: 8, dwell: 10 us, delay: "
                        "200 us }\n  }\n}\n", &msys, true);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    marcos_caps(&caps, &c, &msys);
    CU_ASSERT_NOT_EQUAL(ev_build(&e, p, &caps, &m), 0);
    CU_ASSERT(has_msg(&m, 906));
    CU_ASSERT_EQUAL(msg_line(p, find_msg(&m, 906)), 5);
    ev_fini(&e);
    drv_msgs_fini(&m);
    lbc_free(p);
}

/* 909: a burst the delay field cannot absorb: TX I and Q changing on every
   tick issue two words per cycle of output. */
static void test_burst(void)
{
    struct ev_program e;
    struct marcos_cfg c;
    ev_empty(&e, &c, "marcos://x");
    for (int64_t t = 100; t < 700; t++) {
        ev_list_set(&e.ch[EV_TX_I], t, t & 1 ? 5 : 6, 7);
        ev_list_set(&e.ch[EV_TX_Q], t, t & 1 ? 5 : 6, 7);
    }
    e.end_tick = 1000;
    struct drv_msgs m = { 0 };
    struct marcos_prog mp;
    CU_ASSERT_NOT_EQUAL(marcos_lower(&mp, &e, &c, &m), 0);
    CU_ASSERT(has_msg(&m, 909));
    CU_ASSERT_EQUAL(find_msg(&m, 909) ? find_msg(&m, 909)->pc : 0, 7);
    marcos_prog_fini(&mp);
    drv_msgs_fini(&m);
    /* the same on every other tick fits */
    for (int ch = EV_TX_I; ch <= EV_TX_Q; ch++)
        e.ch[ch].n = 0;
    for (int64_t t = 100; t < 700; t += 2) {
        ev_list_set(&e.ch[EV_TX_I], t, t & 2 ? 5 : 6, 7);
        ev_list_set(&e.ch[EV_TX_Q], t, t & 2 ? 5 : 6, 7);
    }
    CU_ASSERT_EQUAL(marcos_lower(&mp, &e, &c, &m), 0);
    expect_model_equal(&e, &mp);
    marcos_prog_fini(&mp);
    drv_msgs_fini(&m);
    ev_fini(&e);
}

/* model(lower(seq)) == record(seq) for every sequence that compiles for
   the MaRCoS system, on both gradient boards; the others must be refused
   by the checks (their `# systems:` line leaves marcos_lowfield out). */
static void test_model_equals_record(void)
{
    static const char *const seqs[] = { "spin_echo", "gradient_echo", "gre3d",
                                        "inversion_recovery", "epi", "turbo_spin_echo",
                                        "bssfp", "diffusion_se" };
    static const char *const boards[] = { "marcos://x", "marcos://x?board=gpa-fhdo" };
    int placed = 0;
    for (size_t i = 0; i < ARRAY_LEN(seqs); i++) {
        char *path = sequence_path(seqs[i]);
        size_t len;
        char *text = read_file(path, &len);
        free(path);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        const char *sl = strstr(text, "# systems:");
        const char *eol = sl ? strchr(sl, '\n') : NULL;
        bool targets = sl && eol && memmem(sl, (size_t)(eol - sl), "marcos_lowfield", 15);
        free(text);
        struct lbc_program *p = compile_seq(seqs[i], NULL, 0, &msys);
        CU_ASSERT_EQUAL(p != NULL, targets);
        if (!p)
            continue;
        for (size_t b = 0; b < ARRAY_LEN(boards); b++) {
            struct marcos_cfg c;
            char err[256];
            marcos_parse_uri(&c, boards[b], &msys, err, sizeof err);
            struct drv_caps caps;
            marcos_caps(&caps, &c, &msys);
            struct ev_program e;
            struct drv_msgs m = { 0 };
            int rc = ev_build(&e, p, &caps, &m);
            CU_ASSERT_EQUAL(rc, 0);
            struct marcos_prog mp = { 0 };
            if (rc == 0)
                rc = marcos_lower(&mp, &e, &c, &m);
            CU_ASSERT_EQUAL(rc, 0);
            if (rc) {
                fprintf(stderr, "\n%s on %s refused:\n", seqs[i], boards[b]);
                for (size_t k = 0; k < m.n; k++)
                    fprintf(stderr, "  E%d %s\n", m.v[k].code, m.v[k].msg);
            } else {
                expect_model_equal(&e, &mp);
                placed++;
                /* something real was compared */
                CU_ASSERT(e.nadc > 0 && e.ch[EV_TX_I].n > 0 && e.ch[EV_GX].n > 0);
            }
            marcos_prog_fini(&mp);
            drv_msgs_fini(&m);
            ev_fini(&e);
        }
        lbc_free(p);
    }
    CU_ASSERT_EQUAL(placed, 8);
}

/* The model itself catches what the hardware would lose. */
static void test_model_faults(void)
{
    uint32_t w[8];
    struct mm_result r;
    /* a buffer written again before its delayed value came out */
    w[0] = marcos_word_b(MB_TX0_I, 10, 1);
    w[1] = marcos_word_b(MB_TX0_I, 0, 2);
    w[2] = marcos_word_a(MI_FINISH, 0);
    CU_ASSERT_NOT_EQUAL(mm_run(&r, w, 3), 0);
    mm_free(&r);
    /* no FINISH */
    CU_ASSERT_NOT_EQUAL(mm_run(&r, w, 1), 0);
    mm_free(&r);
    /* OCRA1 broadcasts 100 cycles apart at spi_div 10 (busy for 269) */
    w[0] = marcos_word_b(MB_GRAD_CTRL, 0, MARCOS_OCRA1 | 10 << 2 | MG_CTRL_RESET_N | MG_CTRL_XFER);
    w[1] = marcos_word_b(MB_GRAD_MSB, 1, 0x0110);      /* MSB and LSB out on cycle 2: */
    w[2] = marcos_word_b(MB_GRAD_LSB, 0, 0x0004);      /* one transfer */
    w[3] = marcos_word_a(MI_WAIT, 97);
    w[4] = marcos_word_b(MB_GRAD_LSB, 0, 0x0008);
    w[5] = marcos_word_a(MI_FINISH, 0);
    CU_ASSERT_NOT_EQUAL(mm_run(&r, w, 6), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.fault, "ocra1 gradient error"));
    mm_free(&r);
    w[3] = marcos_word_a(MI_WAIT, 300);
    CU_ASSERT_EQUAL(mm_run(&r, w, 6), 0);
    /* two DAC values, latency 268 after each strobe: code 1 then 2 */
    CU_ASSERT_EQUAL(r.ch[EV_GX].n, 2);
    if (r.ch[EV_GX].n == 2) {
        CU_ASSERT_EQUAL(r.ch[EV_GX].v[0].tick, 2 + 268 - MARCOS_T0);
        CU_ASSERT_EQUAL(r.ch[EV_GX].v[0].value, 1);
        CU_ASSERT_EQUAL(r.ch[EV_GX].v[1].value, 2);
    }
    mm_free(&r);
}

/* Built-in drivers by scheme; plugins by dlopen behind the ABI check. */
static void test_registry(void)
{
    void *dl = (void *)1;
    char err[512];
    CU_ASSERT_PTR_EQUAL(drv_find("marcos://h", &dl, err, sizeof err), &drv_marcos_ops);
    CU_ASSERT_PTR_NULL(dl);
    CU_ASSERT_PTR_EQUAL(drv_find("record:x.txt", &dl, err, sizeof err), &drv_record_ops);
    CU_ASSERT_PTR_NULL(drv_find("no-colon", &dl, err, sizeof err));
    CU_ASSERT_PTR_NULL(drv_find("we/ird://x", &dl, err, sizeof err));
    const char *b = getenv("top_builddir");
    char *dir = xasprintf("%s/tests", b && *b ? b : ".");
    char *old = getenv("LARMOR_DRIVER_PATH") ? xstrdup(getenv("LARMOR_DRIVER_PATH")) : NULL;
    unsetenv("LARMOR_DRIVER_PATH");
    CU_ASSERT_PTR_NULL(drv_find("loop://x", &dl, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "LARMOR_DRIVER_PATH"));
    setenv("LARMOR_DRIVER_PATH", dir, 1);
    const struct drv_ops *ops = drv_find("loop://x", &dl, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(ops);
    if (!ops)
        fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_PTR_NOT_NULL(dl);
    if (ops) {
        CU_ASSERT_STRING_EQUAL(ops->scheme, "loop");
        void *h = ops->open("loop://x", &msys, err, sizeof err);
        CU_ASSERT_PTR_NOT_NULL(h);
        struct drv_status st;
        CU_ASSERT_EQUAL(ops->run(h, NULL, NULL, &st), 0);
        ops->close(h);
        drv_unload(dl);
    }
    CU_ASSERT_PTR_NULL(drv_find("oldabi://x", &dl, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "ABI 0"));
    CU_ASSERT_PTR_NULL(drv_find("nosuch://x", &dl, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "larmor-driver-nosuch.so"));
    if (old) {
        setenv("LARMOR_DRIVER_PATH", old, 1);
        free(old);
    } else {
        unsetenv("LARMOR_DRIVER_PATH");
    }
    free(dir);
}

int register_marcos_tests(void)
{
    static const struct test_def tests[] = {
        { "machine words, URIs, board timing", test_words },
        { "WAIT splitting", test_wait_split },
        { "the system's console section", test_console_section },
        { "driver registry and plugins", test_registry },
        { "same-tick packing with buffer delays", test_same_tick },
        { "gradient latency compensation", test_latency },
        { "refusals at the event's source line", test_refusals },
        { "a burst past the delay field is refused", test_burst },
        { "model faults", test_model_faults },
        { "model(lower(seq)) == record(seq), every sequence", test_model_equals_record },
    };
    return TEST_ADD_FIXTURE_SUITE("marcos", suite_init, NULL, tests);
}
