/*
 * driver: the registry of built-in drivers, the plugin loader, the
 * program's ticket, and the record driver (record:FILE), which writes the
 * event program (events.h) of the MaRCoS console configured by the URI's
 * options (record:FILE?board=gpa-fhdo) as text: the golden files of the
 * hardware path.
 */
#include "runtime/driver/driver.h"

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/driver/events.h"
#include "runtime/driver/marcos.h"
#include "base/outfile.h"
#include "base/util.h"
#include "vm/backend.h"

const struct drv_ops *const drv_builtins[] = { &drv_marcos_ops, &drv_record_ops, NULL };

const struct drv_ops *drv_find(const char *uri, void **dl, char *err, size_t errlen)
{
    *dl = NULL;
    const char *colon = strchr(uri, ':');
    if (!colon || colon == uri) {
        errf(err, errlen, "'%s' is not a driver URI: write marcos://HOST:PORT or record:FILE",
             uri);
        return NULL;
    }
    size_t sl = (size_t)(colon - uri);
    for (int i = 0; drv_builtins[i]; i++)
        if (strlen(drv_builtins[i]->scheme) == sl && !strncmp(uri, drv_builtins[i]->scheme, sl))
            return drv_builtins[i];
    /* a plugin: larmor-driver-SCHEME.so on $LARMOR_DRIVER_PATH */
    char scheme[64];
    if (sl >= sizeof scheme) {
        errf(err, errlen, "unknown driver scheme in '%s'", uri);
        return NULL;
    }
    memcpy(scheme, uri, sl);
    scheme[sl] = 0;
    for (size_t i = 0; i < sl; i++)
        if (!((scheme[i] >= 'a' && scheme[i] <= 'z') || (scheme[i] >= '0' && scheme[i] <= '9') ||
              scheme[i] == '-' || scheme[i] == '_')) {
            errf(err, errlen, "unknown driver scheme '%s' (built in: marcos, record)", scheme);
            return NULL;
        }
    const char *dir = getenv("LARMOR_DRIVER_PATH");
    if (!dir || !*dir) {
        errf(err, errlen, "unknown driver '%s': the built-in drivers are marcos and record; a "
             "plugin larmor-driver-%s.so is looked for in $LARMOR_DRIVER_PATH, which is not set",
             scheme, scheme);
        return NULL;
    }
    char *path = xasprintf("%s/larmor-driver-%s.so", dir, scheme);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        errf(err, errlen, "cannot load the driver plugin %s: %s", path, dlerror());
        free(path);
        return NULL;
    }
    const uint32_t *abi = dlsym(h, "larmor_driver_abi");
    const struct drv_ops *ops = dlsym(h, "larmor_driver_ops");
    if (!abi || !ops || *abi != DRV_ABI_VERSION || ops->abi != DRV_ABI_VERSION || !ops->open ||
        !ops->caps || !ops->prepare || !ops->run || !ops->abort || !ops->close) {
        if (!abi || !ops)
            errf(err, errlen, "%s is not a Larmor driver (it lacks larmor_driver_abi or "
                 "larmor_driver_ops)", path);
        else if (*abi != DRV_ABI_VERSION || ops->abi != DRV_ABI_VERSION)
            errf(err, errlen, "%s was built for driver ABI %u; this larmor has ABI %u: rebuild "
                 "the plugin against this larmor's runtime/driver/driver.h", path, *abi,
                 DRV_ABI_VERSION);
        else
            errf(err, errlen, "%s leaves a function of its driver table NULL", path);
        dlclose(h);
        free(path);
        return NULL;
    }
    free(path);
    *dl = h;
    return ops;
}

void drv_unload(void *dl)
{
    if (dl)
        dlclose(dl);
}

static uint32_t program_crc(const struct lbc_program *p)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    if (lbc_write_buf(p, &buf, &len) != 0)
        return 0;
    uint32_t c = crc32_update(0, buf, len);
    free(buf);
    return c;
}

void drv_ticket_make(struct drv_ticket *t, const struct lbc_program *p, const struct system *sys)
{
    memset(t, 0, sizeof *t);
    t->crc = program_crc(p);
    snprintf(t->sys_name, sizeof t->sys_name, "%s", sys->name);
    t->sys_hash = sys->hash;
}

int drv_verify_ticket(const struct drv_ticket *t, const struct lbc_program *p,
                      const struct system *sys, struct drv_msgs *m)
{
    if (!t) {
        drv_msg_add(m, false, 911, UINT32_MAX, -1, "the program has no record of passing the "
                    "checks; nothing is sent unchecked");
        return -1;
    }
    uint32_t crc = program_crc(p);
    if (crc != t->crc) {
        drv_msg_add(m, false, 911, UINT32_MAX, -1, "the program's checksum 0x%08x is not the "
                    "0x%08x it had when it passed the checks", crc, t->crc);
        return -1;
    }
    struct vm_view v;
    vm_view_init(&v, p);
    const char *was = v.sys_name ? v.sys_name : "(none)";
    if (strcmp(t->sys_name, sys->name) || t->sys_hash != sys->hash) {
        struct drv_msg *g = drv_msg_add(m, false, 912, UINT32_MAX, -1, "the program was "
                                        "checked against system '%s', not this driver's '%s'",
                                        t->sys_name, sys->name);
        if (g)
            snprintf(g->help, sizeof g->help, "check it with --system %s", sys->name);
        return -1;
    }
    if (strcmp(was, sys->name) || v.sys_hash != sys->hash) {
        struct drv_msg *g = drv_msg_add(m, false, 912, UINT32_MAX, -1, "the program was "
                                        "compiled for system '%s' (hash 0x%016" PRIx64 "), not "
                                        "this driver's '%s' (hash 0x%016" PRIx64 ")", was,
                                        v.sys_hash, sys->name, sys->hash);
        if (g)
            snprintf(g->help, sizeof g->help, "recompile the .psq with --system %s", sys->name);
        return -1;
    }
    return 0;
}

/* --- the record driver ------------------------------------------------------ */

struct rec {
    char *path;
    struct marcos_cfg cfg;
    struct system sys;
    struct ev_program ev;
    bool prepared;
};

static void *rec_open(const char *uri, const struct system *sys, char *err, size_t errlen)
{
    const char *file = uri + strlen("record:");
    const char *q = strchr(file, '?');
    size_t fl = q ? (size_t)(q - file) : strlen(file);
    if (strncmp(uri, "record:", 7) || fl == 0) {
        errf(err, errlen, "'%s': write record:FILE (the event program goes to FILE; - for "
             "standard output)", uri);
        return NULL;
    }
    struct rec *r = xcalloc(1, sizeof *r);
    char *mu = xasprintf("marcos://record%s", q ? q : "");
    if (marcos_check_system(sys, err, errlen) != 0 ||
        marcos_parse_uri(&r->cfg, mu, sys, err, errlen) != 0) {
        free(mu);
        free(r);
        return NULL;
    }
    free(mu);
    r->path = xstrndup(file, fl);
    r->sys = *sys;
    return r;
}

static void rec_caps(void *h, struct drv_caps *c)
{
    struct rec *r = h;
    marcos_caps(c, &r->cfg, &r->sys);
    c->rx_channels = 0;    /* nothing is received */
}

static int rec_prepare(void *h, const struct lbc_program *p, const struct drv_ticket *t,
                       struct drv_msgs *m)
{
    struct rec *r = h;
    ev_fini(&r->ev);
    r->prepared = false;
    if (drv_verify_ticket(t, p, &r->sys, m) != 0)
        return -1;
    struct drv_caps c;
    marcos_caps(&c, &r->cfg, &r->sys);
    if (ev_build(&r->ev, p, &c, m) != 0)
        return -1;
    r->prepared = true;
    return 0;
}

static int rec_run(void *h, drv_sample_fn cb, void *ctx, struct drv_status *st)
{
    (void)cb;
    (void)ctx;
    struct rec *r = h;
    memset(st, 0, sizeof *st);
    if (!r->prepared) {
        snprintf(st->msg, sizeof st->msg, "nothing prepared");
        return 1;
    }
    struct outfile o;
    if (outfile_open(&o, strcmp(r->path, "-") ? r->path : NULL, st->msg, sizeof st->msg) != 0)
        return 1;
    bool to_stdout = o.fp == stdout;
    ev_write(&r->ev, o.fp);
    if (outfile_commit(&o, st->msg, sizeof st->msg) != 0)
        return 1;
    if (to_stdout && (fflush(stdout) != 0 || ferror(stdout))) {
        snprintf(st->msg, sizeof st->msg, "standard output: cannot write: %s", strerror(errno));
        return 1;
    }
    st->complete = true;
    return 0;
}

static void rec_abort(void *h)
{
    (void)h;
}

static void rec_close(void *h)
{
    struct rec *r = h;
    if (!r)
        return;
    ev_fini(&r->ev);
    free(r->path);
    free(r);
}

const struct drv_ops drv_record_ops = {
    DRV_ABI_VERSION, "record", "the event program as text (record:FILE[?board=...])",
    rec_open, rec_caps, rec_prepare, rec_run, rec_abort, rec_close,
};
