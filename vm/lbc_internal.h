/*
 * lbc_internal: what the bytecode modules (program.c, lbc_io.c, verify.c,
 * disasm.c, gendoc.c) share and nobody else needs: the description of every
 * event-template field (name, which field kinds it accepts, the names of its
 * immediate values). The verifier checks templates against it, the
 * disassembler and the doc generator print from it, so the three agree.
 */
#ifndef LARMOR_LBC_INTERNAL_H
#define LARMOR_LBC_INTERNAL_H

#include <stdbool.h>

#include "vm/program.h"

/* What a template field accepts (besides FK_NONE unless it is required). */
enum lbc_fclass {
    FC_SHAPE,   /* FK_SHAPE */
    FC_TIME,    /* FK_TIME or FK_REG (a T register) */
    FC_NUM,     /* FK_NUM or FK_REG (an F register) */
    FC_IMM,     /* FK_IMM, 0 .. imm_max */
    FC_MARK,    /* FK_REG: an output T register */
};

struct lbc_fieldinfo {
    const char *name;
    enum lbc_fclass fclass;
    bool required;                 /* FK_NONE not allowed */
    int imm_max;                   /* FC_IMM: largest value allowed */
    const char *const *imm_names;  /* FC_IMM: imm_max+1 names, or NULL */
    const char *doc;               /* one line, with the unit */
};

/* lbc_tmpl_fields[type][i] describes field i of a template of that type
   (lbc_tmpl_nfields[type] entries). */
extern const struct lbc_fieldinfo *const lbc_tmpl_fields[TMPL__COUNT];

/* The template type an event opcode takes as operand a, or -1. */
int lbc_op_tmpl_type(enum lbc_op op);

/* The field kind names ("none", "num", ...), FK__COUNT entries. */
extern const char *const lbc_field_kind_names[FK__COUNT];

/* Documented limits checked by the verifier. */
#define LBC_MAX_REGS (1u << 20)
#define LBC_MAX_RASTER_NS 1000000000LL   /* 1 s */

#endif
