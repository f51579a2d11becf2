/*
 * driver: the interface to a hardware console (or a file that stands for
 * one). A driver is a table of functions (struct drv_ops): open by URI,
 * capabilities, prepare (lower and validate, no I/O), run with a sample
 * callback, abort, close. The built-in drivers (record, marcos) are linked
 * in; any other URI scheme is looked up as a plugin, a shared object
 * larmor-driver-SCHEME.so in $LARMOR_DRIVER_PATH (or the folder given by
 * a `plugin:PATH.so#URI` prefix) that exports `larmor_driver_abi` (a
 * uint32_t equal to DRV_ABI_VERSION) and `larmor_driver_ops`.
 *
 * Nothing is sent unless the program passed the checks for the driver's
 * own system: the caller gives prepare a ticket (struct drv_ticket) made
 * when the checks passed, holding the CRC-32 of the serialised program and
 * the system's name and hash; prepare re-serialises the program and
 * refuses it when the CRC, the program's recorded system or the driver's
 * system differ (drv_verify_ticket).
 */
#ifndef LARMOR_DRIVER_H
#define LARMOR_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runtime/system/system.h"
#include "vm/program.h"

#define DRV_ABI_VERSION 1u

/* What a console can do; the event program (events.h) is built for it. */
struct drv_caps {
    char name[32];               /* "marcos (ocra1)" */
    int64_t clock_hz;            /* the tick clock: 122880000 for MaRCoS */
    int tx_channels, grad_channels, rx_channels;
    int tx_bits;                 /* TX I/Q DAC: 16 (codes +-(2^15 - 1)) */
    int dac_bits;                /* gradient DAC: 18 (OCRA1) or 16 (GPA-FHDO) */
    uint32_t decim_min, decim_max;   /* RX decimation: ticks per sample */
    int64_t grad_min_spacing;    /* ticks between two gradient updates of the board */
    int64_t grad_group_step;     /* more ticks per further channel changed on one tick */
    bool grad_serial;            /* channels updated one after another (GPA-FHDO) */
    uint64_t max_words;          /* longest run: machine words one run may hold */
    double grad_fs[3];           /* T/m at gradient DAC full scale, x y z */
    double b1_fs;                /* T at TX full scale */
    double lo_hz;                /* the carrier (LO) frequency, Hz */
    int lo_bits;                 /* LO phase increment = round(2^lo_bits * f / clock) */
    int64_t tx_gate_lead_ns;     /* the TX gate opens this long before a pulse (the
                                    system's RF dead time: the amplifier's unblanking) */
};

/* Made by the caller when the checks passed (drv_ticket_make). */
struct drv_ticket {
    uint32_t crc;                /* CRC-32 of lbc_write_buf(program) */
    char sys_name[64];
    uint64_t sys_hash;
};

/* A refusal or a note of prepare, at the instruction that caused it. */
struct drv_msg {
    bool note;                   /* a note (what was rounded), not a refusal */
    int code;                    /* E09xx */
    uint32_t pc;                 /* instruction (UINT32_MAX: none) */
    int64_t time_ns;             /* sequence time (-1: none) */
    char msg[256];
    char help[256];
};

struct drv_msgs {
    struct drv_msg *v;
    size_t n, cap;
    size_t nerrors;
};

void drv_msgs_fini(struct drv_msgs *m);
/* Add a refusal (note false) or a note. */
struct drv_msg *drv_msg_add(struct drv_msgs *m, bool note, int code, uint32_t pc,
                            int64_t time_ns, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* One ADC's samples, in playing order: index is the ADC's 0-based number,
   iq interleaved complex (re, im) floats, n samples (n < expected when the
   run ended early). Returns non-zero to stop. */
typedef int (*drv_sample_fn)(void *ctx, size_t index, uint32_t n, const float *iq);

/* How a run ended. */
struct drv_status {
    bool complete;               /* every sample of every ADC arrived */
    bool interrupted;            /* abort() was called (Ctrl-C) */
    bool safe_stopped;           /* the safe stop was sent and acknowledged */
    size_t adcs_received;
    char msg[1024];              /* what went wrong (server errors with their text) */
};

struct drv_ops {
    uint32_t abi;                /* DRV_ABI_VERSION */
    const char *scheme;          /* "marcos", "record" */
    const char *summary;
    /* Open a URI for the system sys (the driver's own description; it
       keeps a copy). NULL with a message in err. No I/O for network
       drivers: connecting is done by run. */
    void *(*open)(const char *uri, const struct system *sys, char *err, size_t errlen);
    void (*caps)(void *h, struct drv_caps *c);
    /* Lower p for the console and validate it; no I/O. Refusals and notes
       go to m; returns 0 when the program can be placed exactly. */
    int (*prepare)(void *h, const struct lbc_program *p, const struct drv_ticket *t,
                   struct drv_msgs *m);
    /* Run the prepared program; samples go to cb. Returns 0 when complete,
       1 otherwise (st says why; the safe stop has been done). */
    int (*run)(void *h, drv_sample_fn cb, void *ctx, struct drv_status *st);
    /* Ask a run in progress to stop (async-signal-safe: sets a flag). */
    void (*abort)(void *h);
    void (*close)(void *h);
};

/* The built-in drivers. */
extern const struct drv_ops drv_record_ops;
extern const struct drv_ops drv_marcos_ops;

/* A driver for uri: a built-in one by scheme, else a plugin. *dl receives
   the dlopen handle to close with drv_unload (NULL for a built-in). NULL
   with a message in err. */
const struct drv_ops *drv_find(const char *uri, void **dl, char *err, size_t errlen);
void drv_unload(void *dl);
/* The list of built-in drivers, NULL-terminated. */
extern const struct drv_ops *const drv_builtins[];

/* The ticket for a program that passed the checks against sys. */
void drv_ticket_make(struct drv_ticket *t, const struct lbc_program *p, const struct system *sys);
/* 0 if p is the program t was made for and both were checked against
   sys; else a refusal in m and -1. */
int drv_verify_ticket(const struct drv_ticket *t, const struct lbc_program *p,
                      const struct system *sys, struct drv_msgs *m);

#endif
