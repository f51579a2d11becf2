/*
 * rawdata_xml: the ISMRMRD XML header (ismrmrdHeader) of raw data, both
 * ways, through libxml2; the one user of libxml2 in Larmor.
 *
 * Writing builds the header as a libxml2 tree, in the element order of
 * schema/ismrmrd.xsd (ISMRMRD 1.8), with the default namespace ISMRMRD's,
 * and serialises it indented by two spaces. Numbers are formatted here so
 * that they read back as written: integers plainly, doubles as the
 * shortest of %.15g, %.16g and %.17g that round-trips; lengths go out in
 * mm and times in ms (the schema's units), angles in degrees. Text that
 * XML 1.0 cannot hold (control characters, invalid UTF-8) is written as
 * '?'.
 *
 * Reading parses with libxml2 without a network, without loading a DTD
 * and without substituting entities a DTD declares (a reference to one is
 * refused, as an undeclared one is); errors go to a handler here (nothing
 * is printed) and the first one is reported. The tree is
 * searched by element path on local names, namespaces ignored, so that
 * files of other writers (a prefixed namespace, CDATA, character
 * references) read as ours do. Owned here: nothing beyond a call; the
 * strings of a parsed header go to the caller's struct rxml_strings.
 */
#include "runtime/io/rawdata_internal.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ismrmrd/version.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "base/util.h"

#define RXML_NS "http://www.ismrm.org/ISMRMRD"
#define RXML_XSI "http://www.w3.org/2001/XMLSchema-instance"

/* encodingLimits in the schema's order. */
static const int rxml_limit_order[VM_LABEL__COUNT] = {
    VM_LABEL_LIN, VM_LABEL_PAR, VM_LABEL_AVG, VM_LABEL_SLC, VM_LABEL_ECO,
    VM_LABEL_PHS, VM_LABEL_REP, VM_LABEL_SET, VM_LABEL_SEG,
};
static const char *const rxml_axis[3] = { "x", "y", "z" };

/* ---------------------------------------------------------------------- */
/* Writing                                                                 */
/* ---------------------------------------------------------------------- */

/* libxml2 failed to allocate: abort with a message, as xmalloc does. */
static void rx_oom(const char *what)
{
    fprintf(stderr, "larmor: out of memory (libxml2 could not %s)\n", what);
    abort();
}

/* Shortest of %.15g, %.16g, %.17g that reads back as v; the schema's
   spellings for the non-finite. */
static void fmt_double(char *buf, size_t len, double v)
{
    if (isnan(v)) {
        snprintf(buf, len, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, len, v > 0 ? "INF" : "-INF");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* v * 1000 (m -> mm, s -> ms) rounded to 1e-6 of the new unit, so that
   0.256 m is written "256" and reads back as 0.256. */
static double to_milli(double v)
{
    return fabs(v) < 1e6 ? round(v * 1e9) / 1e6 : v * 1e3;
}

/* The length of the valid UTF-8 sequence of two to four bytes at s in
   *adv, or false. */
static bool utf8_seq(const unsigned char *s, size_t *adv)
{
    unsigned c = s[0];
    size_t n;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
    else return false;
    for (size_t i = 1; i <= n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return false;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)) ||
        (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
        return false;
    *adv = n + 1;
    return true;
}

/* s with what XML 1.0 cannot hold (control characters other than tab and
   line ends, invalid UTF-8) replaced by '?'; a new string. */
static char *xml_clean(const char *s)
{
    struct strbuf b;
    sb_init(&b);
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        unsigned c = *u;
        size_t adv = 1;
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            sb_putc(&b, '?');
        else if (c < 0x80)
            sb_putc(&b, (char)c);
        else if (utf8_seq(u, &adv))
            sb_putn(&b, (const char *)u, adv);
        else
            sb_putc(&b, '?');
        u += adv;
    }
    return sb_take(&b);
}

/* The tree being written: its document and ISMRMRD's namespace. */
struct xw {
    xmlDocPtr doc;
    xmlNsPtr ns;
};

static xmlNodePtr xw_open(const struct xw *w, xmlNodePtr parent, const char *tag)
{
    return xmlNewChild(parent, w->ns, BAD_CAST tag, NULL);
}

static void xw_str(const struct xw *w, xmlNodePtr parent, const char *tag, const char *v)
{
    char *clean = xml_clean(v);
    xmlNewTextChild(parent, w->ns, BAD_CAST tag, BAD_CAST clean);
    free(clean);
}

static void xw_int(const struct xw *w, xmlNodePtr parent, const char *tag, long long v)
{
    char num[32];
    snprintf(num, sizeof num, "%lld", v);
    xmlNewTextChild(parent, w->ns, BAD_CAST tag, BAD_CAST num);
}

static void xw_dbl(const struct xw *w, xmlNodePtr parent, const char *tag, double v)
{
    char num[40];
    fmt_double(num, sizeof num, v);
    xmlNewTextChild(parent, w->ns, BAD_CAST tag, BAD_CAST num);
}

/* encodedSpace or reconSpace: matrixSize and fieldOfView_mm. */
static void xw_space(const struct xw *w, xmlNodePtr parent, const char *tag, const int m[3],
                     const double fov[3])
{
    xmlNodePtr sp = xw_open(w, parent, tag);
    xmlNodePtr ms = xw_open(w, sp, "matrixSize");
    for (int i = 0; i < 3; i++)
        xw_int(w, ms, rxml_axis[i], m[i]);
    xmlNodePtr fv = xw_open(w, sp, "fieldOfView_mm");
    for (int i = 0; i < 3; i++)
        xw_dbl(w, fv, rxml_axis[i], to_milli(fov[i]));
}

/* <encoding>: the two spaces, the limits in use, the trajectory. */
static void xw_encoding(const struct xw *w, xmlNodePtr root, const struct raw_header *h)
{
    xmlNodePtr enc = xw_open(w, root, "encoding");
    xw_space(w, enc, "encodedSpace", h->matrix, h->fov);
    xw_space(w, enc, "reconSpace", h->recon_matrix, h->recon_fov);
    xmlNodePtr lims = xw_open(w, enc, "encodingLimits");
    for (int j = 0; j < VM_LABEL__COUNT; j++) {
        int l = rxml_limit_order[j];
        const struct raw_limit *lim = &h->limits[l];
        if (lim->max < lim->min)
            continue;
        xmlNodePtr ln = xw_open(w, lims, raw_limit_name[l]);
        xw_int(w, ln, "minimum", lim->min);
        xw_int(w, ln, "maximum", lim->max);
        xw_int(w, ln, "center", lim->centre);
    }
    xw_str(w, enc, "trajectory", h->trajectory ? h->trajectory : "other");
}

/* <sequenceParameters> (those known) and <userParameters>. */
static void xw_parameters(const struct xw *w, xmlNodePtr root, const struct raw_header *h)
{
    if (h->tr > 0 || h->te > 0 || h->ti > 0 || h->flip > 0) {
        xmlNodePtr sp = xw_open(w, root, "sequenceParameters");
        if (h->tr > 0)
            xw_dbl(w, sp, "TR", to_milli(h->tr));
        if (h->te > 0)
            xw_dbl(w, sp, "TE", to_milli(h->te));
        if (h->ti > 0)
            xw_dbl(w, sp, "TI", to_milli(h->ti));
        if (h->flip > 0)
            xw_dbl(w, sp, "flipAngle_deg", h->flip * (180.0 / M_PI));
    }
    if (h->nparams) {
        xmlNodePtr up = xw_open(w, root, "userParameters");
        for (size_t i = 0; i < h->nparams; i++) {
            xmlNodePtr p = xw_open(w, up, "userParameterDouble");
            xw_str(w, p, "name", h->param_names[i]);
            xw_dbl(w, p, "value", h->param_values[i]);
        }
    }
}

char *rxml_write(const struct raw_header *h)
{
    struct xw w;
    w.doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr root = xmlNewDocNode(w.doc, NULL, BAD_CAST "ismrmrdHeader", NULL);
    xmlDocSetRootElement(w.doc, root);
    w.ns = xmlNewNs(root, BAD_CAST RXML_NS, NULL);
    xmlSetNs(root, w.ns);
    xmlNsPtr xsi = xmlNewNs(root, BAD_CAST RXML_XSI, BAD_CAST "xsi");
    xmlNewNsProp(root, xsi, BAD_CAST "schemaLocation", BAD_CAST RXML_NS " ismrmrd.xsd");
    xw_int(&w, root, "version", ISMRMRD_XMLHDR_VERSION);

    xmlNodePtr mi = xw_open(&w, root, "measurementInformation");
    xw_str(&w, mi, "patientPosition", "HFS");
    if (h->sequence_name)
        xw_str(&w, mi, "protocolName", h->sequence_name);

    xmlNodePtr asi = xw_open(&w, root, "acquisitionSystemInformation");
    xw_str(&w, asi, "systemVendor", "Larmor");
    if (h->system_name)
        xw_str(&w, asi, "systemModel", h->system_name);
    if (h->b0 > 0)
        xw_dbl(&w, asi, "systemFieldStrength_T", h->b0);
    xw_int(&w, asi, "receiverChannels", h->ncoils);

    xmlNodePtr ec = xw_open(&w, root, "experimentalConditions");
    xw_int(&w, ec, "H1resonanceFrequency_Hz", llround(h->larmor_hz));
    xw_encoding(&w, root, h);
    xw_parameters(&w, root, h);

    xmlChar *mem = NULL;
    int len = 0;
    xmlDocDumpFormatMemoryEnc(w.doc, &mem, &len, "UTF-8", 1);
    xmlFreeDoc(w.doc);
    if (!mem)
        rx_oom("serialise the header");
    char *out = xstrndup((const char *)mem, (size_t)len);
    xmlFree(mem);
    return out;
}

/* ---------------------------------------------------------------------- */
/* Reading                                                                 */
/* ---------------------------------------------------------------------- */

/* The first fatal error and the first other error libxml2 reports while
   parsing, as sentences. */
struct rx_errors {
    char fatal[240];
    char other[240];
};

static void rx_on_error(void *ud, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = ud;
    struct rx_errors *r = ctxt ? ctxt->_private : NULL;
    if (!r || !e || e->level < XML_ERR_ERROR)
        return;
    char *why = e->level == XML_ERR_FATAL ? r->fatal : r->other;
    size_t len = sizeof r->fatal;
    if (why[0])
        return;
    const char *s1 = e->str1 ? e->str1 : "?", *s2 = e->str2 ? e->str2 : "?";
    if (e->code == XML_ERR_TAG_NAME_MISMATCH) {
        snprintf(why, len, "line %d: end tag </%.60s> does not close <%.60s>", e->line, s2, s1);
    } else if (e->code == XML_ERR_UNDECLARED_ENTITY || e->code == XML_WAR_UNDECLARED_ENTITY) {
        snprintf(why, len, "line %d: unknown entity reference &%.60s;", e->line, s1);
    } else {
        const char *m = e->message ? e->message : "malformed";
        size_t n = strlen(m);
        while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
            n--;
        snprintf(why, len, "line %d: %.*s", e->line, (int)(n > 200 ? 200 : n), m);
    }
}

/* The first entity reference left in the tree below node (one a DTD of
   the document declares: libxml2 substitutes only the predefined ones and
   character references), or NULL. */
static xmlNodePtr rx_entity_ref(xmlNodePtr node)
{
    for (xmlNodePtr c = node; c; c = c->next) {
        if (c->type == XML_ENTITY_REF_NODE)
            return c;
        if (c->type == XML_ELEMENT_NODE) {
            xmlNodePtr e = rx_entity_ref(c->children);
            if (e)
                return e;
        }
    }
    return NULL;
}

/* Parse xml; NULL with why on malformed input. Nothing is printed. */
static xmlDocPtr rx_parse(const char *xml, char *why, size_t whylen)
{
    struct rx_errors r = { "", "" };
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt)
        rx_oom("start a parser");
    ctxt->_private = &r;
    ctxt->sax->serror = rx_on_error;
    size_t len = strlen(xml);
    xmlDocPtr doc = len > (size_t)INT32_MAX ? NULL
        : xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOWARNING);
    if (doc && !ctxt->wellFormed) {
        xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlNodePtr ent = doc ? rx_entity_ref(doc->children) : NULL;
    if (ent) {
        /* as with an undeclared entity: DTDs are not read */
        snprintf(r.fatal, sizeof r.fatal, "line %d: unknown entity reference &%.60s;",
                 (int)xmlGetLineNo(ent), (const char *)ent->name);
        xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlFreeParserCtxt(ctxt);
    if (!doc)
        snprintf(why, whylen, "%s", r.fatal[0] ? r.fatal : r.other[0] ? r.other
                                    : len ? "the parser gave up" : "no root element");
    return doc;
}

/* The first child element of node named name (local name), or NULL. */
static xmlNodePtr rx_child(xmlNodePtr node, const char *name)
{
    for (xmlNodePtr c = node ? node->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
            return c;
    return NULL;
}

/* The element at a '/'-separated path below node, or NULL. */
static xmlNodePtr rx_path(xmlNodePtr node, const char *path)
{
    char part[64];
    while (node && *path) {
        const char *sl = strchr(path, '/');
        size_t n = sl ? (size_t)(sl - path) : strlen(path);
        if (n >= sizeof part)
            return NULL;
        memcpy(part, path, n);
        part[n] = 0;
        node = rx_child(node, part);
        path += n + (sl ? 1 : 0);
    }
    return node;
}

static bool rx_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A node's own character data (its text children) with surrounding white
   space removed (a new string). */
static char *rx_trimmed(xmlNodePtr node)
{
    struct strbuf b;
    sb_init(&b);
    for (xmlNodePtr c = node->children; c; c = c->next)
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
            sb_puts(&b, (const char *)c->content);
    char *all = sb_take(&b);
    const char *t = all;
    size_t n = strlen(t);
    while (n && rx_is_space(*t)) {
        t++;
        n--;
    }
    while (n && rx_is_space(t[n - 1]))
        n--;
    char *out = xstrndup(t, n);
    free(all);
    return out;
}

/* Reading context for error messages. */
struct xread {
    const char *file;
    char *err;
    size_t errlen;
};

/* Number at path below node into *v: 1 found, 0 absent (or required:
   error), -1 malformed. */
static int xml_num(const struct xread *r, xmlNodePtr node, const char *base, const char *path,
                   bool required, bool integer, double *v)
{
    xmlNodePtr n = rx_path(node, path);
    if (!n) {
        if (required) {
            errf(r->err, r->errlen, "%s: XML header: <%s/%s> is missing", r->file, base, path);
            return -1;
        }
        return 0;
    }
    char *t = rx_trimmed(n);
    char *end;
    errno = 0;
    double x = strtod(t, &end);
    bool ok = *t && !*end && errno != ERANGE;
    if (ok && integer)
        ok = isfinite(x) && x == floor(x);
    if (!ok) {
        errf(r->err, r->errlen, "%s: XML header: <%s/%s> holds \"%.40s\", not %s", r->file, base,
                path, t, integer ? "an integer" : "a number");
        free(t);
        return -1;
    }
    free(t);
    *v = x;
    return 1;
}

/* Integer in lo..hi at path, or absent (*v untouched). */
static int xml_int_in(const struct xread *r, xmlNodePtr node, const char *base, const char *path,
                      bool required, double lo, double hi, int *v)
{
    double x;
    int k = xml_num(r, node, base, path, required, true, &x);
    if (k <= 0)
        return k;
    if (x < lo || x > hi) {
        errf(r->err, r->errlen, "%s: XML header: <%s/%s> = %.0f is not %.0f to %.0f", r->file,
                base, path, x, lo, hi);
        return -1;
    }
    *v = (int)x;
    return 1;
}

static int xml_string(xmlNodePtr node, const char *path, char **out)
{
    xmlNodePtr n = rx_path(node, path);
    if (!n)
        return 0;
    *out = rx_trimmed(n);
    return 1;
}

/* encodedSpace or reconSpace: matrixSize and fieldOfView_mm (mm -> m). */
static int xml_space_read(const struct xread *r, xmlNodePtr enc, const char *name, int m[3],
                          double fov[3])
{
    char base[64], p[64];
    snprintf(base, sizeof base, "encoding/%s", name);
    xmlNodePtr sp = rx_child(enc, name);
    if (!sp) {
        errf(r->err, r->errlen, "%s: XML header: <%s> is missing", r->file, base);
        return -1;
    }
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "matrixSize/%s", rxml_axis[i]);
        if (xml_int_in(r, sp, base, p, true, 0, RAW_U16_MAX, &m[i]) < 0)
            return -1;
        snprintf(p, sizeof p, "fieldOfView_mm/%s", rxml_axis[i]);
        double mm;
        if (xml_num(r, sp, base, p, true, false, &mm) < 0)
            return -1;
        fov[i] = mm / 1e3;
    }
    return 0;
}

/* <encoding>: the spaces, the limits present, the trajectory. */
static int rx_encoding(const struct xread *r, xmlNodePtr root, struct raw_header *h,
                       struct rxml_strings *s)
{
    xmlNodePtr enc = rx_child(root, "encoding");
    if (!enc) {
        errf(r->err, r->errlen, "%s: XML header: <encoding> is missing", r->file);
        return -1;
    }
    if (xml_space_read(r, enc, "encodedSpace", h->matrix, h->fov) < 0)
        return -1;
    if (rx_child(enc, "reconSpace")) {
        if (xml_space_read(r, enc, "reconSpace", h->recon_matrix, h->recon_fov) < 0)
            return -1;
    } else {
        memcpy(h->recon_matrix, h->matrix, sizeof h->matrix);
        memcpy(h->recon_fov, h->fov, sizeof h->fov);
    }
    xmlNodePtr lims = rx_child(enc, "encodingLimits");
    for (int l = 0; l < VM_LABEL__COUNT && lims; l++) {
        xmlNodePtr ln = rx_child(lims, raw_limit_name[l]);
        if (!ln)
            continue;
        char base[80];
        snprintf(base, sizeof base, "encoding/encodingLimits/%s", raw_limit_name[l]);
        int v[3] = { 0, 0, 0 };
        static const char *const part[3] = { "minimum", "maximum", "center" };
        for (int k = 0; k < 3; k++)
            if (xml_int_in(r, ln, base, part[k], false, 0, RAW_U16_MAX, &v[k]) < 0)
                return -1;
        h->limits[l] = (struct raw_limit){ v[0], v[1], v[2] };
    }
    if (xml_string(enc, "trajectory", &s->traj))
        h->trajectory = s->traj;
    return 0;
}

/* The system, the conditions and the protocol's name. */
static int rx_system(const struct xread *r, xmlNodePtr root, struct raw_header *h,
                     struct rxml_strings *s)
{
    double x;
    int k;
    if ((k = xml_num(r, root, "ismrmrdHeader", "experimentalConditions/H1resonanceFrequency_Hz",
                     false, false, &x)) < 0)
        return -1;
    if (k)
        h->larmor_hz = x;
    if ((k = xml_num(r, root, "ismrmrdHeader", "acquisitionSystemInformation/systemFieldStrength_T",
                     false, false, &x)) < 0)
        return -1;
    if (k)
        h->b0 = x;
    if (xml_int_in(r, root, "ismrmrdHeader", "acquisitionSystemInformation/receiverChannels",
                   false, 0, RAW_U16_MAX, &h->ncoils) < 0)
        return -1;
    if (xml_string(root, "acquisitionSystemInformation/systemModel", &s->sys))
        h->system_name = s->sys;
    if (xml_string(root, "measurementInformation/protocolName", &s->seq))
        h->sequence_name = s->seq;
    return 0;
}

/* <sequenceParameters> (ms, degrees -> s, rad) and <userParameters>. */
static int rx_parameters(const struct xread *r, xmlNodePtr root, struct raw_header *h,
                         struct rxml_strings *s)
{
    static const char *const seqp[4] = { "TR", "TE", "TI", "flipAngle_deg" };
    double *seqv[4] = { &h->tr, &h->te, &h->ti, &h->flip };
    double x;
    int k;
    xmlNodePtr sp = rx_child(root, "sequenceParameters");
    for (int i = 0; i < 4 && sp; i++) {
        if ((k = xml_num(r, sp, "sequenceParameters", seqp[i], false, false, &x)) < 0)
            return -1;
        if (k)
            *seqv[i] = i < 3 ? x / 1e3 : x * (M_PI / 180.0);
    }

    xmlNodePtr up = rx_child(root, "userParameters");
    size_t np = 0;
    for (xmlNodePtr c = up ? up->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        bool isd = strcmp((const char *)c->name, "userParameterDouble") == 0;
        bool isl = strcmp((const char *)c->name, "userParameterLong") == 0;
        if (!isd && !isl)
            continue;
        const char *base = isd ? "userParameters/userParameterDouble"
                               : "userParameters/userParameterLong";
        char *name = NULL;
        if (!xml_string(c, "name", &name)) {
            errf(r->err, r->errlen, "%s: XML header: <%s> without <name>", r->file, base);
            return -1;
        }
        if (xml_num(r, c, base, "value", true, isl, &x) < 0) {
            free(name);
            return -1;
        }
        s->pnames = xrealloc(s->pnames, (np + 1) * sizeof *s->pnames);
        s->pvals = xrealloc(s->pvals, (np + 1) * sizeof *s->pvals);
        s->pnames[np] = name;
        s->pvals[np] = x;
        h->nparams = ++np;          /* raw_file_free frees what is counted */
        h->param_names = (const char *const *)s->pnames;
        h->param_values = s->pvals;
    }
    return 0;
}

int rxml_parse(struct raw_header *h, struct rxml_strings *s, const char *xml, const char *file,
               char *err, size_t errlen)
{
    char why[240];
    int ret = -1;
    for (int l = 0; l < VM_LABEL__COUNT; l++)
        h->limits[l] = (struct raw_limit){ 0, -1, 0 };
    xmlDocPtr doc = rx_parse(xml, why, sizeof why);
    if (!doc) {
        errf(err, errlen, "%s: XML header is not well-formed: %s", file, why);
        return -1;
    }
    struct xread r = { file, err, errlen };
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root) {
        errf(err, errlen, "%s: XML header is not well-formed: no root element", file);
        goto out;
    }
    if (strcmp((const char *)root->name, "ismrmrdHeader") != 0) {
        bool pre = root->ns && root->ns->prefix;
        errf(err, errlen, "%s: XML header: the root element is <%s%s%s>, not <ismrmrdHeader>",
             file, pre ? (const char *)root->ns->prefix : "", pre ? ":" : "",
             (const char *)root->name);
        goto out;
    }
    if (rx_encoding(&r, root, h, s) < 0 || rx_system(&r, root, h, s) < 0 ||
        rx_parameters(&r, root, h, s) < 0)
        goto out;
    ret = 0;
out:
    xmlFreeDoc(doc);
    return ret;
}

void rxml_strings_free(struct rxml_strings *s, size_t nparams)
{
    free(s->seq);
    free(s->sys);
    free(s->traj);
    for (size_t i = 0; i < nparams; i++)
        free(s->pnames[i]);
    free(s->pnames);
    free(s->pvals);
}
