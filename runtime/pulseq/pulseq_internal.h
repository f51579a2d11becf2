/*
 * pulseq_internal: what the .seq reader's parts share: the tables the
 * parser (pulseq_read.c) fills and the builder (pulseq_build.c) turns into
 * a program, the ID maps, the diagnostics helpers, and the shapes' bound
 * and decoding in between (pulseq_shape.c). Not for other modules.
 */
#ifndef LARMOR_PULSEQ_INTERNAL_H
#define LARMOR_PULSEQ_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/pulseq/pulseq.h"

#define MAXCOL 12

struct row {                 /* one event row */
    uint32_t line, start, end;
    int64_t id;
    double v[MAXCOL];        /* columns after the id */
    char use;                /* 1.5 RF use letter */
};

struct blockrow {
    uint32_t line, start, end;
    int32_t c[7];            /* dur/delay rf gx gy gz adc ext */
};

struct idmap {               /* open addressing: id -> index */
    int64_t *key;
    int32_t *val;
    size_t cap, n;
};

struct table {
    struct row *r;
    size_t n, cap;
    struct idmap map;
    bool present;
    uint32_t line;           /* of the section header */
};

struct shape {
    int64_t id;
    uint32_t line, start, end;
    uint32_t off, n;         /* into the reader's values: as written, and after
                                pq_shapes_prepare the samples of a played shape */
    uint32_t m;              /* num_samples, as declared */
    bool packed;             /* the values written are compressed (expand to m) */
};

enum extkind { X_UNKNOWN, X_LABELSET, X_LABELINC, X_TRIGGERS, X_DELAYS, X_ROTATIONS };

struct extrow {
    uint32_t line, start, end;
    int64_t id;
    double v[9];
    int nv;
    int label;               /* LABELSET/LABELINC: index into pq_label_names, -1 */
};

struct extspec {
    int64_t type;            /* the type number the header gives */
    char name[32];
    enum extkind kind;
    uint32_t line, start, end;
    struct extrow *r;
    size_t n, cap;
    struct idmap map;
};

struct reader {
    const char *path, *text;
    size_t len;
    int file;                /* diag file index */
    struct diag_ctx *d;
    const struct pulseq_read_opts *o;
    bool failed;
    int major, minor, rev;
    int ver;                 /* major*10000 + minor*100 + rev */
    bool have_version;
    int64_t version_line;    /* a [VERSION] after other sections: its line's offset, else -1 */
    /* definitions (ns) */
    int64_t graster, rraster, araster, braster;
    double fov[3];
    bool have_fov;
    uint32_t req_line, req_start, req_end;
    char required[16][32];
    int nrequired;
    struct blockrow *b;
    size_t nb, capb;
    bool have_blocks;
    struct table rf, grad, trap, adc, delays, ext;
    struct extspec *xs;
    size_t nxs, capxs;
    struct shape *sh;
    size_t nsh, capsh;
    struct idmap shmap;
    double *vals;
    size_t nvals, capvals;
    bool have_shapes;
    /* signature */
    char hash[64];
    bool have_hash, md5_type;
    uint32_t hash_line, hash_start, hash_end;
    size_t sig_at;           /* offset of the [SIGNATURE] line */
    bool have_sig;
};

/* Pulseq label names: the first VM_LABEL__COUNT map to Larmor counters in
   the order of enum vm_label. */
extern const char *const pq_label_names[];
#define NLABELNAMES 23

/* ID maps (open addressing, id -> index; -1 if absent). */
void pq_idmap_fini(struct idmap *m);
int32_t pq_idmap_get(const struct idmap *m, int64_t k);
void pq_idmap_put(struct idmap *m, int64_t k, int32_t v);

/* An error (the reader stops) or a warning at the byte range [start, end)
   of the file, with an optional help line. */
struct diag *pq_err(struct reader *r, int code, uint32_t start, uint32_t end, const char *help,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
struct diag *pq_warn(struct reader *r, int code, uint32_t start, uint32_t end, const char *help,
                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Most samples a shape may declare (8 bytes each once decoded). */
#define PQ_MAX_SAMPLES 100000000u

/* Whether the compressed values pk[0..n) (a run-length encoded
   derivative) expand to exactly m samples; counted, nothing expanded. */
bool pq_shape_expands_to(const double *pk, uint32_t n, uint32_t m);
/* Bound every shape an event plays by the longest block that plays it
   (refused past it, before anything is decoded), then decode those shapes,
   and only those, for the builder. False after an error. */
bool pq_shapes_prepare(struct reader *r);

/* The program of a parsed file, or NULL after an error. */
struct lbc_program *pq_build(struct reader *r);

#endif
