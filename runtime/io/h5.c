/*
 * h5: a small wrapper over the HDF5 C API (see h5.h). Every function
 * returns a status and writes its reason into the caller's buffer; no
 * HDF5 handle leaves this file. Messages name the object ("/sample/data
 * has 2 dimensions"), not the file: the caller adds that.
 */
#include "runtime/io/h5.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

struct h5file {
    hid_t id;
};

void h5_process_init(void)
{
    H5dont_atexit();
}

static void quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void h5_quiet_begin(struct h5_quiet *q)
{
    H5E_auto2_t func = NULL;
    q->data = NULL;
    if (H5Eget_auto2(H5E_DEFAULT, &func, &q->data) < 0)
        func = NULL;
    q->func = (void (*)(void))func;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void h5_quiet_end(const struct h5_quiet *q)
{
    H5Eclear2(H5E_DEFAULT);
    H5Eset_auto2(H5E_DEFAULT, (H5E_auto2_t)q->func, q->data);
}

struct h5_detail {
    char *buf;
    size_t len;
};

const char *h5_condense(char *buf, size_t len, const char *desc)
{
    /* "file write failed: time = ..., filename = ..., errno = 28, error
       message = 'No space left on device', buf = 0x..." */
    const char *em = strstr(desc, "error message = '");
    const char *end = em ? strchr(em + 17, '\'') : NULL;
    const char *t = strstr(desc, ": time =");
    if (em && end && t && t < em)
        snprintf(buf, len, "%.*s: %.*s", (int)(t - desc), desc, (int)(end - em - 17), em + 17);
    else
        snprintf(buf, len, "%s", desc);
    return buf;
}

/* Walking up from the innermost error: keep the first description given. */
static herr_t first_desc(unsigned n, const H5E_error2_t *e, void *data)
{
    struct h5_detail *d = data;
    (void)n;
    if (!d->buf[0] && e && e->desc && e->desc[0])
        h5_condense(d->buf, d->len, e->desc);
    return 0;
}

const char *h5_error_detail(char *buf, size_t len)
{
    struct h5_detail d = { buf, len };
    if (!buf || !len)
        return "";
    buf[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_desc, &d);
    H5Eclear2(H5E_DEFAULT);
    return buf;
}

/* HDF5's reason, in parentheses, after the message already in err; clears
   HDF5's error stack. */
static void add_reason(char *err, size_t errlen)
{
    char why[160];
    h5_error_detail(why, sizeof why);
    if (!err || !errlen)
        return;
    size_t l = strlen(err);
    if (why[0] && l + 4 < errlen)
        snprintf(err + l, errlen - l, " (HDF5: %s)", why);
}

/* Write the message, then HDF5's reason in parentheses when there is one;
   clears HDF5's error stack. */
#define FAIL(err, errlen, ...) do { \
        errf(err, errlen, __VA_ARGS__); \
        add_reason(err, errlen); } while (0)

/* The handle for a file HDF5 opened or created (id), or NULL with the
   reason when it did not (id < 0): what says which it was. */
static struct h5file *wrap(hid_t id, const char *what, char *err, size_t errlen)
{
    if (id < 0) {
        FAIL(err, errlen, "HDF5 cannot %s it", what);
        return NULL;
    }
    struct h5file *f = xmalloc(sizeof *f);
    f->id = id;
    return f;
}

struct h5file *h5_open(const char *path, char *err, size_t errlen)
{
    quiet();
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "cannot read it: %s", strerror(errno));
        return NULL;
    }
    unsigned char sig[8] = { 0 };
    size_t got = fread(sig, 1, sizeof sig, fp);
    fclose(fp);
    /* HDF5's signature is usually at offset 0 (a user block moves it), so
       ask the library as well before calling it something else. */
    if (got < 8 || memcmp(sig, "\x89HDF\r\n\x1a\n", 8) != 0) {
        htri_t is = H5Fis_hdf5(path);
        H5Eclear2(H5E_DEFAULT);
        if (is <= 0) {
            snprintf(err, errlen, "it is not an HDF5 file");
            return NULL;
        }
    }
    return wrap(H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), "open", err, errlen);
}

struct h5file *h5_create(const char *path, char *err, size_t errlen)
{
    quiet();
    return wrap(H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "create", err,
                errlen);
}

int h5_close(struct h5file *f, char *err, size_t errlen)
{
    if (!f)
        return 0;
    int rc = 0;
    if (H5Fclose(f->id) < 0) {
        FAIL(err, errlen, "HDF5 cannot close it");
        rc = -1;
    }
    free(f);
    return rc;
}

/* Whether every link on the way to path exists (H5Lexists needs that). */
static bool links_exist(hid_t file, const char *path)
{
    if (!path || path[0] != '/')
        return false;
    size_t n = strlen(path);
    char *buf = xmalloc(n + 1);
    bool ok = true;
    for (size_t i = 1; i <= n && ok; i++) {
        if (i < n && path[i] != '/')
            continue;
        if (i == 1 && n == 1)
            break;          /* the root */
        memcpy(buf, path, i);
        buf[i] = 0;
        if (i > 1 && buf[i - 1] == '/')
            continue;       /* a trailing or doubled slash */
        htri_t e = H5Lexists(file, buf, H5P_DEFAULT);
        ok = e > 0;
    }
    free(buf);
    H5Eclear2(H5E_DEFAULT);
    return ok;
}

enum h5_kind h5_kind(struct h5file *f, const char *path)
{
    if (!links_exist(f->id, path))
        return H5_NONE;
    hid_t o = H5Oopen(f->id, path, H5P_DEFAULT);
    if (o < 0) {
        H5Eclear2(H5E_DEFAULT);
        return H5_NONE;
    }
    H5I_type_t t = H5Iget_type(o);
    H5Oclose(o);
    return t == H5I_GROUP ? H5_GROUP : t == H5I_DATASET ? H5_DATASET : H5_OTHER;
}

bool h5_has_attr(struct h5file *f, const char *path, const char *name)
{
    if (h5_kind(f, path) == H5_NONE)
        return false;
    htri_t e = H5Aexists_by_name(f->id, path, name, H5P_DEFAULT);
    H5Eclear2(H5E_DEFAULT);
    return e > 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **h5_members(struct h5file *f, const char *path, size_t *n)
{
    *n = 0;
    if (h5_kind(f, path) != H5_GROUP)
        return NULL;
    hid_t g = H5Gopen2(f->id, path, H5P_DEFAULT);
    if (g < 0) {
        H5Eclear2(H5E_DEFAULT);
        return NULL;
    }
    H5G_info_t info;
    char **names = NULL;
    if (H5Gget_info(g, &info) >= 0 && info.nlinks > 0 && info.nlinks < 1000000) {
        names = xcalloc(info.nlinks, sizeof *names);
        for (hsize_t i = 0; i < info.nlinks; i++) {
            ssize_t len = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, NULL, 0,
                                             H5P_DEFAULT);
            if (len < 0)
                continue;
            char *s = xmalloc((size_t)len + 1);
            if (H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, s, (size_t)len + 1,
                                   H5P_DEFAULT) < 0) {
                free(s);
                continue;
            }
            names[(*n)++] = s;
        }
        qsort(names, *n, sizeof *names, cmp_names);
    }
    H5Gclose(g);
    H5Eclear2(H5E_DEFAULT);
    return names;
}

void h5_free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static bool numeric(hid_t type)
{
    H5T_class_t c = H5Tget_class(type);
    return c == H5T_INTEGER || c == H5T_FLOAT;
}

static const char *class_name(hid_t type)
{
    switch (H5Tget_class(type)) {
    case H5T_STRING: return "strings";
    case H5T_COMPOUND: return "compound records";
    case H5T_ARRAY: return "arrays";
    case H5T_VLEN: return "variable-length sequences";
    case H5T_ENUM: return "enumerated values";
    case H5T_REFERENCE: return "references";
    default: return "values that are not numbers";
    }
}

/* Open a numeric dataset and read its shape. Returns the dataset (close it
   with H5Dclose) or -1 with the reason. */
static hid_t open_numeric(struct h5file *f, const char *path, int *rank, hsize_t *dims,
                          char *err, size_t errlen)
{
    enum h5_kind k = h5_kind(f, path);
    if (k != H5_DATASET) {
        snprintf(err, errlen, "%s %s", path, k == H5_NONE ? "is missing" :
                 k == H5_GROUP ? "is a group, not a dataset" : "is not a dataset");
        return -1;
    }
    hid_t d = H5Dopen2(f->id, path, H5P_DEFAULT);
    if (d < 0) {
        FAIL(err, errlen, "%s cannot be opened", path);
        return -1;
    }
    hid_t t = H5Dget_type(d);
    hid_t s = H5Dget_space(d);
    int r = s >= 0 ? H5Sget_simple_extent_ndims(s) : -1;
    int rc = 0;
    if (t < 0 || s < 0 || r < 0) {
        FAIL(err, errlen, "%s cannot be read", path);
        rc = -1;
    } else if (!numeric(t)) {
        snprintf(err, errlen, "%s holds %s", path, class_name(t));
        rc = -1;
    } else if (r > H5_MAX_RANK) {
        snprintf(err, errlen, "%s has %d dimensions (at most %d are read)", path, r,
                 H5_MAX_RANK);
        rc = -1;
    } else {
        *rank = r;
        if (r > 0)
            H5Sget_simple_extent_dims(s, dims, NULL);
    }
    if (t >= 0)
        H5Tclose(t);
    if (s >= 0)
        H5Sclose(s);
    if (rc) {
        H5Dclose(d);
        return -1;
    }
    return d;
}

int h5_dims(struct h5file *f, const char *path, int *rank, uint64_t dims[H5_MAX_RANK],
            char *err, size_t errlen)
{
    hsize_t hd[H5_MAX_RANK] = { 0 };
    int r = 0;
    hid_t d = open_numeric(f, path, &r, hd, err, errlen);
    if (d >= 0) {
        H5Dclose(d);
        *rank = r;
        for (int i = 0; i < r; i++)
            dims[i] = (uint64_t)hd[i];
    }
    return d >= 0 ? 0 : -1;
}

int h5_read_doubles(struct h5file *f, const char *path, double *out, size_t count,
                    char *err, size_t errlen)
{
    hsize_t hd[H5_MAX_RANK] = { 0 };
    int r = 0;
    hid_t d = open_numeric(f, path, &r, hd, err, errlen);
    if (d < 0)
        return -1;
    uint64_t total = 1;
    for (int i = 0; i < r; i++)
        total = hd[i] && total > UINT64_MAX / hd[i] ? UINT64_MAX : total * hd[i];
    int rc = 0;
    if (total != (uint64_t)count) {
        snprintf(err, errlen, "%s has %llu values, not the %zu expected", path,
                 (unsigned long long)total, count);
        rc = -1;
    } else if (count && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
        FAIL(err, errlen, "%s cannot be read", path);
        rc = -1;
    }
    H5Dclose(d);
    return rc;
}

/* Open attribute name of the object at path; -1 with the reason. */
static hid_t open_attr(struct h5file *f, const char *path, const char *name, char *err,
                       size_t errlen)
{
    if (!h5_has_attr(f, path, name)) {
        snprintf(err, errlen, "%s has no attribute '%s'", path, name);
        return -1;
    }
    hid_t a = H5Aopen_by_name(f->id, path, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0)
        FAIL(err, errlen, "attribute '%s' of %s cannot be opened", name, path);
    return a;
}

static bool one_element(hid_t a)
{
    hid_t s = H5Aget_space(a);
    if (s < 0)
        return false;
    hssize_t np = H5Sget_simple_extent_npoints(s);
    H5Sclose(s);
    return np == 1;
}

int h5_attr_double(struct h5file *f, const char *path, const char *name, double *out,
                   char *err, size_t errlen)
{
    hid_t a = open_attr(f, path, name, err, errlen);
    if (a < 0)
        return -1;
    hid_t t = H5Aget_type(a);
    int rc = 0;
    if (t < 0 || !numeric(t)) {
        snprintf(err, errlen, "attribute '%s' of %s is not a number", name, path);
        rc = -1;
    } else if (!one_element(a)) {
        snprintf(err, errlen, "attribute '%s' of %s is not a single number", name, path);
        rc = -1;
    } else if (H5Aread(a, H5T_NATIVE_DOUBLE, out) < 0) {
        FAIL(err, errlen, "attribute '%s' of %s cannot be read", name, path);
        rc = -1;
    }
    if (t >= 0)
        H5Tclose(t);
    H5Aclose(a);
    return rc;
}

int h5_attr_string(struct h5file *f, const char *path, const char *name, char **out,
                   char *err, size_t errlen)
{
    *out = NULL;
    hid_t a = open_attr(f, path, name, err, errlen);
    if (a < 0)
        return -1;
    hid_t t = H5Aget_type(a);
    int rc = -1;
    if (t < 0 || H5Tget_class(t) != H5T_STRING) {
        snprintf(err, errlen, "attribute '%s' of %s is not a string", name, path);
    } else if (!one_element(a)) {
        snprintf(err, errlen, "attribute '%s' of %s is not a single string", name, path);
    } else if (H5Tis_variable_str(t) > 0) {
        hid_t m = H5Tcopy(H5T_C_S1);
        H5Tset_size(m, H5T_VARIABLE);
        H5Tset_cset(m, H5Tget_cset(t));
        char *s = NULL;
        if (H5Aread(a, m, &s) < 0 || !s) {
            FAIL(err, errlen, "attribute '%s' of %s cannot be read", name, path);
        } else {
            *out = xstrdup(s);
            rc = 0;
        }
        if (s)
            H5free_memory(s);
        H5Tclose(m);
    } else {
        size_t sz = H5Tget_size(t);
        if (sz == 0 || sz > (1u << 20)) {
            snprintf(err, errlen, "attribute '%s' of %s is a string of %zu bytes", name, path,
                     sz);
        } else {
            char *s = xcalloc(sz + 1, 1);
            if (H5Aread(a, t, s) < 0) {
                FAIL(err, errlen, "attribute '%s' of %s cannot be read", name, path);
                free(s);
            } else {
                *out = s;
                rc = 0;
            }
        }
    }
    if (t >= 0)
        H5Tclose(t);
    H5Aclose(a);
    return rc;
}

/* A link creation list that makes missing parent groups and UTF-8 names. */
static hid_t lcpl_utf8(void)
{
    hid_t l = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(l, 1);
    H5Pset_char_encoding(l, H5T_CSET_UTF8);
    return l;
}

int h5_write_group(struct h5file *f, const char *path, char *err, size_t errlen)
{
    enum h5_kind k = h5_kind(f, path);
    if (k == H5_GROUP)
        return 0;
    if (k != H5_NONE) {
        snprintf(err, errlen, "%s exists and is not a group", path);
        return -1;
    }
    hid_t l = lcpl_utf8();
    hid_t g = H5Gcreate2(f->id, path, l, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(l);
    if (g < 0) {
        FAIL(err, errlen, "cannot create the group %s", path);
        return -1;
    }
    H5Gclose(g);
    return 0;
}

int h5_write_doubles(struct h5file *f, const char *path, int rank, const uint64_t *dims,
                     const double *v, char *err, size_t errlen)
{
    if (rank < 1 || rank > H5_MAX_RANK) {
        snprintf(err, errlen, "cannot write %s with %d dimensions", path, rank);
        return -1;
    }
    hsize_t hd[H5_MAX_RANK];
    uint64_t n = 1;
    for (int i = 0; i < rank; i++) {
        hd[i] = dims[i];
        n *= dims[i];
    }
    hid_t s = H5Screate_simple(rank, hd, NULL);
    hid_t l = lcpl_utf8();
    hid_t d = s >= 0 ? H5Dcreate2(f->id, path, H5T_IEEE_F64LE, s, l, H5P_DEFAULT, H5P_DEFAULT)
                     : -1;
    int rc = 0;
    if (d < 0) {
        FAIL(err, errlen, "cannot create the dataset %s", path);
        rc = -1;
    } else if (n && H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
        FAIL(err, errlen, "cannot write the dataset %s", path);
        rc = -1;
    }
    if (d >= 0)
        H5Dclose(d);
    H5Pclose(l);
    if (s >= 0)
        H5Sclose(s);
    return rc;
}

/* Create a scalar attribute of file type t and write value (memory type m). */
static int write_attr(struct h5file *f, const char *path, const char *name, hid_t t, hid_t m,
                      const void *value, char *err, size_t errlen)
{
    if (h5_kind(f, path) == H5_NONE) {
        snprintf(err, errlen, "%s is missing", path);
        return -1;
    }
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t p = H5Pcreate(H5P_ATTRIBUTE_CREATE);
    H5Pset_char_encoding(p, H5T_CSET_UTF8);
    hid_t a = H5Acreate_by_name(f->id, path, name, t, s, p, H5P_DEFAULT, H5P_DEFAULT);
    int rc = 0;
    if (a < 0 || H5Awrite(a, m, value) < 0) {
        FAIL(err, errlen, "cannot write the attribute '%s' of %s", name, path);
        rc = -1;
    }
    if (a >= 0)
        H5Aclose(a);
    H5Pclose(p);
    H5Sclose(s);
    return rc;
}

int h5_write_attr_string(struct h5file *f, const char *path, const char *name,
                         const char *value, char *err, size_t errlen)
{
    /* a fixed-length, NUL-terminated UTF-8 string, as HDF5.jl writes one */
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(value) + 1);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    H5Tset_cset(t, H5T_CSET_UTF8);
    int rc = write_attr(f, path, name, t, t, value, err, errlen);
    H5Tclose(t);
    return rc;
}

int h5_write_attr_int(struct h5file *f, const char *path, const char *name, int64_t value,
                      char *err, size_t errlen)
{
    return write_attr(f, path, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value, err, errlen);
}

void h5_close_open_objects(int64_t fid)
{
    unsigned types = H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR |
                     H5F_OBJ_LOCAL;
    ssize_t n = H5Fget_obj_count((hid_t)fid, types);
    if (n <= 0)
        return;
    hid_t *ids = xmalloc((size_t)n * sizeof *ids);
    n = H5Fget_obj_ids((hid_t)fid, types, (size_t)n, ids);
    for (ssize_t i = 0; i < n; i++) {
        if (H5Iget_type(ids[i]) == H5I_ATTR)
            H5Aclose(ids[i]);
        else
            H5Oclose(ids[i]);
    }
    free(ids);
}
