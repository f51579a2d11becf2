/*
 * driver_plugin: a driver plugin for the loader's tests, built twice: as
 * tests/larmor-driver-loop.so with this larmor's ABI, and as
 * tests/larmor-driver-oldabi.so claiming an older one (which the loader
 * must refuse). It accepts any program and receives nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/driver/driver.h"

#ifndef PLUGIN_ABI
#define PLUGIN_ABI DRV_ABI_VERSION
#endif

struct loop {
    int opened;
};

static void *lp_open(const char *uri, const struct system *sys, char *err, size_t errlen)
{
    (void)sys;
    if (strncmp(uri, "loop://", 7) && strncmp(uri, "oldabi://", 9)) {
        if (err && errlen)
            strncpy(err, "not a loop:// URI", errlen - 1);
        return NULL;
    }
    struct loop *l = calloc(1, sizeof *l);
    if (l)
        l->opened = 1;
    return l;
}

static void lp_caps(void *h, struct drv_caps *c)
{
    (void)h;
    memset(c, 0, sizeof *c);
    strcpy(c->name, "loop");
    c->clock_hz = 1000000;
}

static int lp_prepare(void *h, const struct lbc_program *p, const struct drv_ticket *t,
                      struct drv_msgs *m)
{
    (void)h;
    (void)p;
    (void)m;
    return t ? 0 : -1;
}

static int lp_run(void *h, drv_sample_fn cb, void *ctx, struct drv_status *st)
{
    (void)h;
    (void)cb;
    (void)ctx;
    memset(st, 0, sizeof *st);
    st->complete = true;
    return 0;
}

static void lp_abort(void *h)
{
    (void)h;
}

static void lp_close(void *h)
{
    free(h);
}

extern const uint32_t larmor_driver_abi;
extern const struct drv_ops larmor_driver_ops;
const uint32_t larmor_driver_abi = PLUGIN_ABI;
const struct drv_ops larmor_driver_ops = {
    PLUGIN_ABI, "loop", "a test plugin", lp_open, lp_caps, lp_prepare, lp_run, lp_abort, lp_close,
};
