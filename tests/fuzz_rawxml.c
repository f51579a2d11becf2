/*
 * fuzz_rawxml: libFuzzer entry point for the ISMRMRD XML header reader
 * and writer (runtime/io/rawdata_xml.c, libxml2) on their own, at the
 * speed fuzz_raw cannot reach (it writes an HDF5 file per input). The
 * input is the header text. It must parse or be refused with a message;
 * a header that parses must come back the same through the writer: the
 * text written from it, parsed and written again, is the same text (the
 * writer's numbers read back as written, its '?' for what XML cannot
 * hold is stable), and the two parses agree on every number. Seeds: the
 * headers of tests/fuzz/raw-seed/ (their text up to the first NUL).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/io/rawdata_internal.h"

/* 1 when the input parsed, else 0 (libFuzzer's entry returns 0 either
   way). */
int fuzz_rawxml_one(const uint8_t *data, size_t size);

static void fx_fail(const char *what, const char *a, const char *b)
{
    fprintf(stderr, "fuzz_rawxml: %s\n--- first\n%s\n--- second\n%s\n", what, a ? a : "",
            b ? b : "");
    abort();
}

/* The numbers of two parses of the same header agree (NaN with NaN). */
static int fx_same(const struct raw_header *a, const struct raw_header *b)
{
    const double da[] = { a->b0, a->larmor_hz, a->fov[0], a->fov[1], a->fov[2],
                          a->recon_fov[0], a->recon_fov[1], a->recon_fov[2], a->tr, a->te,
                          a->ti, a->flip };
    const double db[] = { b->b0, b->larmor_hz, b->fov[0], b->fov[1], b->fov[2],
                          b->recon_fov[0], b->recon_fov[1], b->recon_fov[2], b->tr, b->te,
                          b->ti, b->flip };
    for (size_t i = 0; i < sizeof da / sizeof *da; i++)
        if (!(da[i] == db[i] || (isnan(da[i]) && isnan(db[i]))))
            return 0;
    if (a->ncoils != b->ncoils || a->nparams != b->nparams)
        return 0;
    for (int i = 0; i < 3; i++)
        if (a->matrix[i] != b->matrix[i] || a->recon_matrix[i] != b->recon_matrix[i])
            return 0;
    for (int l = 0; l < VM_LABEL__COUNT; l++)
        if (memcmp(&a->limits[l], &b->limits[l], sizeof a->limits[l]))
            return 0;
    for (size_t i = 0; i < a->nparams; i++)
        if (!(a->param_values[i] == b->param_values[i] ||
              (isnan(a->param_values[i]) && isnan(b->param_values[i]))))
            return 0;
    return 1;
}

int fuzz_rawxml_one(const uint8_t *data, size_t size)
{
    char *xml = malloc(size + 1);
    if (!xml)
        return 0;
    memcpy(xml, data, size);
    xml[size] = '\0';
    struct raw_header h1, h2;
    struct rxml_strings s1, s2;
    char err[512] = "";
    memset(&h1, 0, sizeof h1);
    memset(&s1, 0, sizeof s1);
    int rc = rxml_parse(&h1, &s1, xml, "fuzz.h5", err, sizeof err);
    free(xml);
    if (rc != 0) {
        if (!err[0])
            fx_fail("a refusal with no message", NULL, NULL);
        rxml_strings_free(&s1, h1.nparams);
        return 0;
    }
    char *w1 = rxml_write(&h1);
    memset(&h2, 0, sizeof h2);
    memset(&s2, 0, sizeof s2);
    if (rxml_parse(&h2, &s2, w1, "fuzz.h5", err, sizeof err) != 0)
        fx_fail(err, w1, NULL);
    char *w2 = rxml_write(&h2);
    if (strcmp(w1, w2))
        fx_fail("the header written from a parse does not read back as written", w1, w2);
    /* the first parse (of the fuzzer's text) against the second (of
       what the writer made of it): the numbers go through mm and ms */
    struct raw_header h3;
    struct rxml_strings s3;
    memset(&h3, 0, sizeof h3);
    memset(&s3, 0, sizeof s3);
    if (rxml_parse(&h3, &s3, w2, "fuzz.h5", err, sizeof err) != 0 || !fx_same(&h2, &h3))
        fx_fail("a parse of the written header differs from the header", w1, w2);
    rxml_strings_free(&s3, h3.nparams);
    free(w1);
    free(w2);
    rxml_strings_free(&s2, h2.nparams);
    rxml_strings_free(&s1, h1.nparams);
    return 1;
}

#ifndef LARMOR_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_rawxml_one(data, size);
    return 0;
}
#endif
