/*
 * image_ismrmrd: the ISMRMRD image writer (img_write_ismrmrd of image.h)
 * through libismrmrd's C API: one 2D image per slice and frame in the
 * series image_0 of group "dataset", written to a temporary that is
 * renamed into place, or appended in place to an existing ISMRMRD file
 * (next to its raw data), after checking that a series already there has
 * this image size and data type.
 *
 * libismrmrd reports errors through a process-wide handler; the writer
 * installs its own for the length of a call, collects the first message
 * for the caller's err buffer and empties the library's error stack
 * afterwards. HDF5's automatic error printing is off meanwhile (h5.h's
 * h5_quiet_begin/end). Owned here: nothing beyond a call.
 */
#include "runtime/recon/image.h"
#include "runtime/recon/image_internal.h"

#include <complex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hdf5.h>
#include <ismrmrd/dataset.h>
#include <ismrmrd/ismrmrd.h>
#include <ismrmrd/version.h>

#include "runtime/io/h5.h"
#include "base/outfile.h"
#include "base/util.h"

#define IMG_GROUP "dataset"
#define IMG_SERIES "image_0"
#define IMG_U16_MAX 65535

/* libismrmrd's first message during one call of ours. */
static _Thread_local struct img_sink {
    bool active;
    char msg[256];
} img_sink;

static void img_on_ismrmrd_error(const char *file, int line, const char *func, int code,
                                 const char *msg)
{
    (void)file;
    (void)line;
    (void)code;
    if (!img_sink.active) {
        fprintf(stderr, "libismrmrd: %s: %s\n", func ? func : "?", msg ? msg : "?");
        return;
    }
    if (!img_sink.msg[0])
        snprintf(img_sink.msg, sizeof img_sink.msg, "%s", msg ? msg : "unknown error");
}

struct img_libcall {
    struct h5_quiet q;
};

static void img_lib_begin(struct img_libcall *c)
{
    ismrmrd_set_error_handler(img_on_ismrmrd_error);
    img_sink.active = true;
    img_sink.msg[0] = 0;
    h5_quiet_begin(&c->q);
}

/* The library's message (with HDF5's innermost reason) or fallback into
   msg; both error stacks emptied, HDF5's printing restored. */
static void img_lib_end(struct img_libcall *c, char *msg, size_t len, const char *fallback)
{
    char h5[256];
    h5_error_detail(h5, sizeof h5);
    if (img_sink.msg[0] && h5[0])
        snprintf(msg, len, "%s (HDF5: %s)", img_sink.msg, h5);
    else
        snprintf(msg, len, "%s", img_sink.msg[0] ? img_sink.msg : h5[0] ? h5 : fallback);
    while (ismrmrd_pop_error(NULL, NULL, NULL, NULL, NULL))
        ;
    img_sink.active = false;
    h5_quiet_end(&c->q);
}

/* Text content: the five XML specials as entities, control characters
   other than tab and line ends left out. */
static void xml_text(struct strbuf *b, const char *s)
{
    static const char *const entity[128] = {
        ['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;", ['\''] = "&apos;",
    };
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c < 128 && entity[*c])
            sb_puts(b, entity[*c]);
        else if (*c >= 0x20 || *c == '\t' || *c == '\n' || *c == '\r')
            sb_putc(b, (char)*c);
    }
}

/* A minimal header valid for the ISMRMRD schema: the protocol name, one
   encoding with the image's matrix and field of view (the resonance
   frequency, which the schema requires, unknown: 0). */
static char *img_minimal_xml(const struct image_vol *v)
{
    struct strbuf b;
    sb_init(&b);
    sb_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
              "<ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\">\n"
              "  <version>%d</version>\n", ISMRMRD_XMLHDR_VERSION);
    if (v->sequence_name) {
        sb_puts(&b, "  <measurementInformation>\n"
                    "    <patientPosition>HFS</patientPosition>\n"
                    "    <protocolName>");
        xml_text(&b, v->sequence_name);
        sb_puts(&b, "</protocolName>\n  </measurementInformation>\n");
    }
    sb_puts(&b, "  <experimentalConditions>\n"
                "    <H1resonanceFrequency_Hz>0</H1resonanceFrequency_Hz>\n"
                "  </experimentalConditions>\n"
                "  <encoding>\n");
    const char *space[2] = { "encodedSpace", "reconSpace" };
    for (int s = 0; s < 2; s++) {
        sb_printf(&b, "    <%s>\n      <matrixSize><x>%d</x><y>%d</y><z>%d</z></matrixSize>\n"
                  "      <fieldOfView_mm><x>%.9g</x><y>%.9g</y><z>%.9g</z></fieldOfView_mm>\n"
                  "    </%s>\n", space[s], v->nx, v->ny, v->nz,
                  v->nx * v->voxel[0] * IMG_MM_PER_M, v->ny * v->voxel[1] * IMG_MM_PER_M,
                  v->nz * v->voxel[2] * IMG_MM_PER_M, space[s]);
    }
    sb_puts(&b, "    <encodingLimits/>\n"
                "    <trajectory>other</trajectory>\n"
                "  </encoding>\n"
                "</ismrmrdHeader>\n");
    return sb_take(&b);
}

/* The values ISMRMRD's 16-bit fields must hold; -1 with a message. */
static int img_ismrmrd_check(const struct image_vol *v, const char *path, char *err, size_t errlen)
{
    if (v->nx > IMG_U16_MAX || v->ny > IMG_U16_MAX || v->nz > IMG_U16_MAX) {
        errf(err, errlen, "%s: %d x %d x %d voxels: ISMRMRD holds at most %d along each axis",
                path, v->nx, v->ny, v->nz, IMG_U16_MAX);
        return -1;
    }
    if ((long long)v->nz * v->nframes > IMG_U16_MAX) {
        errf(err, errlen, "%s: %d slices x %d frames: ISMRMRD's image index holds at most %d "
                "images", path, v->nz, v->nframes, IMG_U16_MAX);
        return -1;
    }
    static const int used[] = { VM_LABEL_ECO, VM_LABEL_PHS, VM_LABEL_REP, VM_LABEL_SET };
    for (int f = 0; f < v->nframes; f++) {
        const int32_t *l = img_labels(v, f);
        for (size_t u = 0; u < ARRAY_LEN(used); u++) {
            if (l[used[u]] < 0 || l[used[u]] > IMG_U16_MAX) {
                errf(err, errlen, "%s: frame %d: label %s = %d; ISMRMRD counters are 0 to %d",
                        path, f, vm_label_names[used[u]], (int)l[used[u]], IMG_U16_MAX);
                return -1;
            }
        }
    }
    return 0;
}

/* Whether the images already in /dataset/image_0 of the open file fid (if
   any) have our size and data type: libismrmrd would otherwise append the
   header and fail on the data, leaving a series with a header too many
   (and leak on that path). 0, or -1 with the reason in why. */
static int img_series_fits(hid_t fid, const struct image_vol *v, char *why, size_t len)
{
    const char *grp = "/" IMG_GROUP "/" IMG_SERIES, *data = "/" IMG_GROUP "/" IMG_SERIES "/data";
    if (H5Lexists(fid, grp, H5P_DEFAULT) <= 0 || H5Lexists(fid, data, H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    int ret = -1;
    hid_t ds = H5Dopen2(fid, data, H5P_DEFAULT), sp = -1, ty = -1;
    hsize_t d[5] = { 0 };
    if (ds < 0 || (sp = H5Dget_space(ds)) < 0 || (ty = H5Dget_type(ds)) < 0) {
        snprintf(why, len, "cannot read the existing series %s", data);
    } else if (H5Sget_simple_extent_ndims(sp) != 5 ||
               H5Sget_simple_extent_dims(sp, d, NULL) != 5) {
        snprintf(why, len, "the existing %s is not an ISMRMRD image series", data);
    } else {
        bool cplx = H5Tget_class(ty) == H5T_COMPOUND;
        if (d[1] != 1 || d[2] != 1 || d[3] != (hsize_t)v->ny || d[4] != (hsize_t)v->nx ||
            cplx != v->is_complex)
            snprintf(why, len, "%s holds %s images of %llu x %llu x %llu (%llu channels); "
                     "these are %s images of %d x %d x 1: write them to another file (or "
                     "truncate)", grp, cplx ? "complex" : "real", (unsigned long long)d[4],
                     (unsigned long long)d[3], (unsigned long long)d[2],
                     (unsigned long long)d[1], v->is_complex ? "complex" : "real", v->nx, v->ny);
        else
            ret = 0;
    }
    if (ty >= 0)
        H5Tclose(ty);
    if (sp >= 0)
        H5Sclose(sp);
    if (ds >= 0)
        H5Dclose(ds);
    H5Eclear2(H5E_DEFAULT);
    return ret;
}

/* The header of the image of slice k of frame f. */
static void img_ismrmrd_head(const struct image_vol *v, int f, int k, ISMRMRD_ImageHeader *h)
{
    ismrmrd_init_image_header(h);
    h->data_type = v->is_complex ? ISMRMRD_CXFLOAT : ISMRMRD_FLOAT;
    h->image_type = v->is_complex ? ISMRMRD_IMTYPE_COMPLEX : ISMRMRD_IMTYPE_MAGNITUDE;
    h->matrix_size[0] = (uint16_t)v->nx;
    h->matrix_size[1] = (uint16_t)v->ny;
    h->matrix_size[2] = 1;
    h->channels = 1;
    h->field_of_view[0] = (float)(v->nx * v->voxel[0] * IMG_MM_PER_M);
    h->field_of_view[1] = (float)(v->ny * v->voxel[1] * IMG_MM_PER_M);
    h->field_of_view[2] = (float)(v->voxel[2] * IMG_MM_PER_M);
    double off = (double)(k - v->nz / 2) * v->voxel[2];
    for (int a = 0; a < 3; a++) {
        h->position[a] = (float)((v->position[a] + off * v->slice_dir[a]) * IMG_MM_PER_M);
        h->read_dir[a] = (float)v->read_dir[a];
        h->phase_dir[a] = (float)v->phase_dir[a];
        h->slice_dir[a] = (float)v->slice_dir[a];
    }
    const int32_t *l = img_labels(v, f);
    h->slice = (uint16_t)k;
    h->contrast = (uint16_t)l[VM_LABEL_ECO];
    h->phase = (uint16_t)l[VM_LABEL_PHS];
    h->repetition = (uint16_t)l[VM_LABEL_REP];
    h->set = (uint16_t)l[VM_LABEL_SET];
    h->image_series_index = 0;
    h->image_index = (uint16_t)(f * v->nz + k + 1);
}

int img_write_ismrmrd(const struct image_vol *v, const char *path, const char *xml_header,
                      bool truncate, char *err, size_t errlen)
{
    if (!img_check(v, path, err, errlen) || img_ismrmrd_check(v, path, err, errlen) < 0)
        return -1;

    /* Append in place to an existing file (which must be HDF5: libismrmrd
       would otherwise replace it); create anything else as a temporary. */
    struct stat st;
    bool in_place = !truncate && stat(path, &st) == 0;
    struct outfile t = { 0 };
    struct img_libcall c;
    char msg[600];
    if (in_place) {
        img_lib_begin(&c);
#if H5_VERSION_GE(1, 12, 0)
        htri_t is_hdf5 = S_ISREG(st.st_mode) ? H5Fis_accessible(path, H5P_DEFAULT) : 0;
#else
        htri_t is_hdf5 = S_ISREG(st.st_mode) ? H5Fis_hdf5(path) : 0;
#endif
        img_lib_end(&c, msg, sizeof msg, "");
        if (is_hdf5 <= 0) {
            errf(err, errlen, "%s: not an HDF5 file; images are appended only to an ISMRMRD "
                    "(HDF5) file", path);
            return -1;
        }
    } else {
        if (outfile_reserve(&t, path, err, errlen) < 0)
            return -1;
        img_lib_begin(&c);
        hid_t fid = H5Fcreate(outfile_name(&t), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        herr_t closed = fid >= 0 ? H5Fclose(fid) : -1;
        img_lib_end(&c, msg, sizeof msg, "HDF5 cannot create it");
        if (closed < 0) {
            errf(err, errlen, "%s: cannot create the file: %s", path, msg);
            outfile_abort(&t);
            return -1;
        }
    }
    const char *target = in_place ? path : outfile_name(&t);

    ISMRMRD_Dataset ds;
    memset(&ds, 0, sizeof ds);
    int ret = -1;
    bool opened = false;
    size_t plane = (size_t)v->nx * (size_t)v->ny;
    float *mag = v->is_complex ? NULL : xmalloc(plane * sizeof *mag);
    char *xml = NULL;
    img_lib_begin(&c);
    int rc = ismrmrd_init_dataset(&ds, target, IMG_GROUP);
    if (rc == ISMRMRD_NOERROR)
        rc = ismrmrd_open_dataset(&ds, false);
    if (rc != ISMRMRD_NOERROR) {
        img_lib_end(&c, msg, sizeof msg, "libismrmrd cannot open it");
        errf(err, errlen, "%s: %s", path, msg);
        goto out;
    }
    opened = true;
    char why[400];
    if (img_series_fits(ds.fileid, v, why, sizeof why) < 0) {
        img_lib_end(&c, msg, sizeof msg, "");
        errf(err, errlen, "%s: %s", path, why);
        goto out;
    }
    if (H5Lexists(ds.fileid, "/" IMG_GROUP "/xml", H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        if (!xml_header)
            xml = img_minimal_xml(v);
        rc = ismrmrd_write_header(&ds, xml_header ? xml_header : xml);
        if (rc != ISMRMRD_NOERROR) {
            img_lib_end(&c, msg, sizeof msg, "libismrmrd cannot write the XML header");
            errf(err, errlen, "%s: XML header: %s", path, msg);
            goto out;
        }
    }
    for (int f = 0; f < v->nframes; f++) {
        for (int k = 0; k < v->nz; k++) {
            ISMRMRD_Image im;
            memset(&im, 0, sizeof im);
            img_ismrmrd_head(v, f, k, &im.head);
            const float complex *s = img_slice(v, f, k);
            if (mag) {
                for (size_t i = 0; i < plane; i++)
                    mag[i] = cabsf(s[i]);
                im.data = mag;
            } else {
                im.data = (void *)s;      /* only read by libismrmrd */
            }
            im.attribute_string = NULL;
            rc = ismrmrd_append_image(&ds, IMG_SERIES, &im);
            if (rc != ISMRMRD_NOERROR) {
                img_lib_end(&c, msg, sizeof msg, "libismrmrd cannot append the image");
                errf(err, errlen, "%s: image %d (slice %d, frame %d) in /%s/%s: %s", path,
                        f * v->nz + k + 1, k, f, IMG_GROUP, IMG_SERIES, msg);
                goto out;
            }
        }
    }
    ret = 0;
    img_lib_end(&c, msg, sizeof msg, "");
out:
    if (opened) {
        img_lib_begin(&c);
        if (ret < 0 && ds.fileid > 0)
            h5_close_open_objects(ds.fileid);
        rc = ismrmrd_close_dataset(&ds);
        img_lib_end(&c, msg, sizeof msg, "libismrmrd cannot close it");
        if (rc != ISMRMRD_NOERROR && ret == 0) {
            errf(err, errlen, "%s: %s", path, msg);
            ret = -1;
        }
    }
    free(ds.filename);
    free(ds.groupname);
    free(xml);
    free(mag);
    if (!in_place) {
        if (ret == 0)
            ret = outfile_commit(&t, err, errlen);
        else
            outfile_abort(&t);
    }
    return ret;
}
