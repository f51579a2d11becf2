/*
 * labels: the acquisition counters a sequence sets on its ADCs (the
 * ISMRMRD encoding counters; Pulseq's labels). The one list of their names
 * and order, shared by the language, the bytecode, the raw-data format and
 * the recon, none of which needs the others' definitions for it.
 */
#ifndef LARMOR_LABELS_H
#define LARMOR_LABELS_H

#define VM_LABEL_LIST(X) X(LIN, "lin") X(PAR, "par") X(SLC, "slc") X(ECO, "eco") \
    X(REP, "rep") X(AVG, "avg") X(SET, "set") X(SEG, "seg") X(PHS, "phs")
enum vm_label {
#define X(e, s) VM_LABEL_##e,
    VM_LABEL_LIST(X)
#undef X
    VM_LABEL__COUNT
};

/* The language's name of each counter ("lin", "par", ...). */
extern const char *const vm_label_names[VM_LABEL__COUNT];

#endif
