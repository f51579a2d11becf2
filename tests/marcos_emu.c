/*
 * marcos-emu: a MaRCoS protocol emulator for the tests and for trying
 * `larmor run` by hand. It listens on 127.0.0.1, speaks the console's
 * msgpack protocol (runtime/driver/marcos.c has the message shapes), runs
 * each run_seq through the instruction-level model (tests/marcos_model.c)
 * and answers with loopback RX samples: in every RX window, the signal of
 * a point object at an offset set by --k-scale, s = A e^{i(phi_tx - k.c)}
 * where k is the integral of the gradient DAC codes since the end of the
 * last TX pulse, A and phi_tx that pulse's peak magnitude and its phase.
 * A model fault (a lost write, gradient transfers too close) is answered
 * with the server's error for it.
 *
 *   tests/marcos-emu --port N [--port-file F] [--log F] [--fault KIND]
 *                    [--fault-run K] [--k-scale CX,CY,CZ] [--server-version M.m.d]
 *                    [--idle S]
 *
 * --port 0 picks a free port (written to --port-file). --log appends one
 * line per request (run_seq, halt_and_reset, direct 0x..., emergency_stop).
 * --fault makes run number K (default 1) fail: underrun, rxfull, overflow,
 * ocra1, fhdo (the server's error strings, with half the samples), warning
 * (a warning, the run completes), drop (the connection closes without a
 * reply), hang (no reply until the client goes), die (the emulator exits:
 * the safe stop finds nobody), garbage (a reply that is not a MaRCoS
 * reply). --server-version answers as that version (a client of another
 * major, minor or debug version gets an error, a warning or an info and
 * its request still runs, as marcos_server does). --idle: exit after S seconds without a
 * request (default 60). A close-server request (type 2) ends it.
 */
#include <errno.h>
#include <math.h>
#include <msgpack.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "runtime/driver/marcos.h"
#include "base/util.h"
#include "tests/marcos_model.h"

static const char *log_path;
static const char *fault_kind;
static int fault_run = 1;
static int runs;
static double kscale[3];
static uint32_t server_version = MARCOS_VERSION;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    if (!log_path)
        return;
    FILE *f = fopen(log_path, "a");
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fclose(f);
}

static void pack_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

/* A piecewise-constant channel with its running integral at each change. */
struct prefix {
    const struct ev_list *l;
    double *P;
};

static void prefix_init(struct prefix *x, const struct ev_list *l)
{
    x->l = l;
    x->P = xmalloc((l->n + 1) * sizeof *x->P);
    x->P[0] = 0;
    for (size_t i = 1; i < l->n; i++)
        x->P[i] = x->P[i - 1] + (double)l->v[i - 1].value * (double)(l->v[i].tick - l->v[i - 1].tick);
}

/* The index of the first change after tick t (l->n if none). */
static size_t after(const struct ev_list *l, int64_t t)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (l->v[mid].tick <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The integral of the channel up to tick t. */
static double integral(const struct prefix *x, int64_t t)
{
    const struct ev_list *l = x->l;
    size_t i = after(l, t);
    if (i == 0)
        return 0;
    return x->P[i - 1] + (double)l->v[i - 1].value * (double)(t - l->v[i - 1].tick);
}

/* The channel's value at tick t (0 before its first change). */
static int64_t value_at(const struct ev_list *l, int64_t t)
{
    size_t i = after(l, t);
    return i ? l->v[i - 1].value : 0;
}

/* Loopback samples of every RX window, appended to re/im. */
static size_t loopback(const struct mm_result *r, double **re, double **im)
{
    size_t n = 0, cap = 0, cap2 = 0;
    const struct ev_list *en = &r->ch[EV_RX_EN], *gate = &r->ch[EV_TX_GATE];
    struct prefix G[3];
    for (int ax = 0; ax < 3; ax++)
        prefix_init(&G[ax], &r->ch[EV_GX + ax]);
    for (size_t i = 0; i + 1 < en->n; i++) {
        if (en->v[i].value != 1)
            continue;
        int64_t a = en->v[i].tick, b = en->v[i + 1].tick;
        int64_t d = value_at(&r->ch[EV_RX_RATE], a);
        if (d <= 0)
            continue;
        /* the last TX pulse that ended before the window */
        int64_t rise = -1, fall = -1;
        for (size_t g = 0; g + 1 < gate->n; g++)
            if (gate->v[g].value == 1 && gate->v[g + 1].tick <= a) {
                rise = gate->v[g].tick;
                fall = gate->v[g + 1].tick;
            }
        double amp = 0, ph = 0;
        if (fall >= 0) {
            for (int q = EV_TX_I; q <= EV_TX_Q; q++)
                for (size_t k = after(&r->ch[q], rise - 1); k < r->ch[q].n; k++) {
                    int64_t t = r->ch[q].v[k].tick;
                    if (t >= fall)
                        break;
                    double x = (double)value_at(&r->ch[EV_TX_I], t);
                    double y = (double)value_at(&r->ch[EV_TX_Q], t);
                    if (hypot(x, y) > amp) {
                        amp = hypot(x, y);
                        ph = atan2(y, x);
                    }
                }
        }
        double k0[3];
        for (int ax = 0; ax < 3; ax++)
            k0[ax] = fall >= 0 ? integral(&G[ax], fall) : 0;
        for (int64_t t = a; t + d <= b; t += d) {
            int64_t c = t + d / 2;
            double phase = ph;
            for (int ax = 0; ax < 3; ax++)
                if (kscale[ax] != 0)
                    phase -= kscale[ax] * (integral(&G[ax], c) - k0[ax]);
            vec_reserve((void **)re, &cap, n + 1, sizeof **re);
            vec_reserve((void **)im, &cap2, n + 1, sizeof **im);
            double A = amp / 32767 * 1048576;   /* 2^20 at TX full scale */
            (*re)[n] = A * cos(phase);
            (*im)[n] = A * sin(phase);
            n++;
        }
    }
    for (int ax = 0; ax < 3; ax++)
        free(G[ax].P);
    return n;
}

static void reply_head(msgpack_packer *pk, int code, uint64_t idx)
{
    msgpack_pack_array(pk, 6);
    msgpack_pack_uint32(pk, (uint32_t)code);
    msgpack_pack_uint64(pk, idx + 1);
    msgpack_pack_uint32(pk, 0);
    msgpack_pack_uint32(pk, server_version);
}

/* The status map, with only the non-empty lists as the server sends it:
   an error, a warning, an info (each NULL or a text), and the version
   mismatch's text in the list its size calls for (vlevel 0 error, 1
   warning, 2 info; -1 none). */
static void pack_status(msgpack_packer *pk, const char *error, const char *warning,
                        const char *info, const char *vtext, int vlevel)
{
    const char *lists[3][2] = { { vlevel == 0 ? vtext : NULL, error },
                                { vlevel == 1 ? vtext : NULL, warning },
                                { vlevel == 2 ? vtext : NULL, info } };
    static const char *const names[] = { "errors", "warnings", "infos" };
    int n[3], nmap = 0;
    for (int k = 0; k < 3; k++) {
        n[k] = (lists[k][0] != NULL) + (lists[k][1] != NULL);
        nmap += n[k] > 0;
    }
    msgpack_pack_map(pk, (size_t)nmap);
    for (int k = 0; k < 3; k++) {
        if (!n[k])
            continue;
        pack_str(pk, names[k]);
        msgpack_pack_array(pk, (size_t)n[k]);
        for (int j = 0; j < 2; j++)
            if (lists[k][j])
                pack_str(pk, lists[k][j]);
    }
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        struct pollfd pf = { fd, POLLOUT, 0 };
        if (poll(&pf, 1, 5000) <= 0)
            return -1;
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

enum { KEEP, CLOSE, HANG, QUIT };

/* Handle one request; the reply goes to sb. */
static int handle(const msgpack_object *o, msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 5 ||
        o->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
        logf_("bad request");
        return CLOSE;
    }
    uint64_t type = o->via.array.ptr[0].via.u64;
    uint64_t idx = o->via.array.ptr[1].type == MSGPACK_OBJECT_POSITIVE_INTEGER
                       ? o->via.array.ptr[1].via.u64 : 0;
    const msgpack_object *m = &o->via.array.ptr[4];
    if (type == 1) {
        logf_("emergency_stop");
        reply_head(&pk, 129, idx);
        msgpack_pack_map(&pk, 0);
        pack_status(&pk, NULL, "emergency stop: outputs halted (emulated)", NULL, NULL, -1);
        return KEEP;
    }
    if (type == 2) {
        logf_("close_server");
        reply_head(&pk, 128, idx);
        msgpack_pack_map(&pk, 0);
        pack_status(&pk, NULL, NULL, "Shutting down server.", NULL, -1);
        return QUIT;
    }
    /* a client of another version: an error (major), a warning (minor) or
       an info (debug), as marcos_server's iface.cpp does; the request
       still runs */
    static char vbuf[160];
    int vlevel = -1;
    const msgpack_object *cv = &o->via.array.ptr[3];
    if (cv->type == MSGPACK_OBJECT_POSITIVE_INTEGER && cv->via.u64 != server_version) {
        uint64_t c = cv->via.u64;
        vlevel = (c >> 16) != (server_version >> 16) ? 0
                 : ((c >> 8) & 0xff) != ((server_version >> 8) & 0xff) ? 1 : 2;
        snprintf(vbuf, sizeof vbuf, "Client version %u.%u.%u %s server version %u.%u.%u",
                 (unsigned)(c >> 16) & 0xff, (unsigned)(c >> 8) & 0xff, (unsigned)c & 0xff,
                 vlevel == 0 ? "significantly different from" : vlevel == 1 ? "different from"
                                                                           : "differs slightly from",
                 server_version >> 16, (server_version >> 8) & 0xff, server_version & 0xff);
    }
    reply_head(&pk, 128, idx);
    uint32_t nk = m->type == MSGPACK_OBJECT_MAP ? m->via.map.size : 0;
    msgpack_pack_map(&pk, nk);
    const char *error = NULL, *warning = NULL;
    static char ebuf[300];
    int ret = KEEP;
    for (uint32_t i = 0; i < nk; i++) {
        const msgpack_object *k = &m->via.map.ptr[i].key, *v = &m->via.map.ptr[i].val;
        char key[64] = "";
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size < sizeof key) {
            memcpy(key, k->via.str.ptr, k->via.str.size);
            key[k->via.str.size] = 0;
        }
        msgpack_pack_object(&pk, *k);
        if (!strcmp(key, "run_seq") && v->type == MSGPACK_OBJECT_BIN) {
            runs++;
            size_t nw = v->via.bin.size / 4;
            uint32_t *w = xmalloc((nw ? nw : 1) * sizeof *w);
            const unsigned char *b = (const unsigned char *)v->via.bin.ptr;
            for (size_t j = 0; j < nw; j++)
                w[j] = (uint32_t)b[4 * j] | (uint32_t)b[4 * j + 1] << 8 |
                       (uint32_t)b[4 * j + 2] << 16 | (uint32_t)b[4 * j + 3] << 24;
            logf_("run_seq %zu words", nw);
            struct mm_result r;
            mm_run(&r, w, nw);
            free(w);
            double *re = NULL, *im = NULL;
            size_t ns = loopback(&r, &re, &im);
            const char *f = fault_kind && runs == fault_run ? fault_kind : NULL;
            if (r.faults) {
                snprintf(ebuf, sizeof ebuf, "%s", r.fault);
                error = ebuf;
            }
            if (f && !strcmp(f, "drop")) {
                logf_("dropped the connection");
                mm_free(&r);
                free(re);
                free(im);
                return CLOSE;
            }
            if (f && !strcmp(f, "garbage")) {
                logf_("answered garbage");
                msgpack_sbuffer_clear(sb);
                pack_str(&pk, "this is not a MaRCoS reply");
                mm_free(&r);
                free(re);
                free(im);
                return KEEP;
            }
            if (f && !strcmp(f, "die")) {
                logf_("died");
                _exit(0);      /* the console is gone: nothing answers the safe stop */
            }
            if (f && !strcmp(f, "hang")) {
                logf_("hanging");
                mm_free(&r);
                free(re);
                free(im);
                return HANG;
            }
            if (f && !strcmp(f, "underrun"))
                error = "memory buffer underrun around byte address 0x4000";
            else if (f && !strcmp(f, "rxfull"))
                error = "RX FIFO/s full: samples were lost";
            else if (f && !strcmp(f, "overflow"))
                error = "output buffers overflowed: timing is wrong";
            else if (f && !strcmp(f, "ocra1"))
                error = "ocra1 data was lost";
            else if (f && !strcmp(f, "fhdo"))
                error = "gpa-fhdo gradient error; possibly missing samples";
            else if (f && !strcmp(f, "warning"))
                warning = "RX FIFO nearly full (emulated warning)";
            if (error)
                ns /= 2;       /* the run stopped half-way */
            logf_("run %d: %zu samples%s%s", runs, ns, error ? ", error: " : "",
                  error ? error : "");
            msgpack_pack_map(&pk, 4);
            static const char *const names[] = { "rx0_i", "rx0_q", "rx1_i", "rx1_q" };
            for (int c = 0; c < 4; c++) {
                pack_str(&pk, names[c]);
                size_t cnt = c < 2 ? ns : 0;
                msgpack_pack_array(&pk, (uint32_t)cnt);
                /* 32-bit two's complement sent as unsigned, as the server does */
                for (size_t j = 0; j < cnt; j++)
                    msgpack_pack_uint32(&pk, (uint32_t)(int32_t)llround(c == 0 ? re[j] : im[j]));
            }
            mm_free(&r);
            free(re);
            free(im);
        } else if (!strcmp(key, "halt_and_reset")) {
            logf_("halt_and_reset");
            msgpack_pack_int32(&pk, 0);
        } else if (!strcmp(key, "direct") && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
            logf_("direct 0x%08llx", (unsigned long long)v->via.u64);
            msgpack_pack_int32(&pk, 0);
        } else if (!strcmp(key, "are_you_real")) {
            pack_str(&pk, "simulation");
        } else {
            logf_("unknown command %s", key);
            msgpack_pack_int32(&pk, -1);
            warning = "unknown command";
        }
    }
    pack_status(&pk, error, warning, NULL, vlevel >= 0 ? vbuf : NULL, vlevel);
    return ret;
}

int main(int argc, char **argv)
{
    int port = -1;
    double idle = 60;
    const char *port_file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--port") && v)
            port = atoi(argv[++i]);
        else if (!strcmp(a, "--port-file") && v)
            port_file = argv[++i];
        else if (!strcmp(a, "--log") && v)
            log_path = argv[++i];
        else if (!strcmp(a, "--fault") && v)
            fault_kind = argv[++i];
        else if (!strcmp(a, "--fault-run") && v)
            fault_run = atoi(argv[++i]);
        else if (!strcmp(a, "--server-version") && v) {
            unsigned ma, mi, db;
            if (sscanf(argv[++i], "%u.%u.%u", &ma, &mi, &db) != 3 || ma > 255 || mi > 255 ||
                db > 255) {
                fprintf(stderr, "marcos-emu: --server-version takes MAJOR.MINOR.DEBUG\n");
                return 2;
            }
            server_version = ma << 16 | mi << 8 | db;
        } else if (!strcmp(a, "--idle") && v)
            idle = atof(argv[++i]);
        else if (!strcmp(a, "--k-scale") && v) {
            if (sscanf(argv[++i], "%lf,%lf,%lf", &kscale[0], &kscale[1], &kscale[2]) != 3) {
                fprintf(stderr, "marcos-emu: --k-scale takes CX,CY,CZ\n");
                return 2;
            }
        } else {
            fprintf(stderr, "usage: marcos-emu --port N [--port-file F] [--log F] [--fault "
                    "underrun|rxfull|overflow|ocra1|fhdo|warning|drop|hang|die|garbage] [--fault-run K] "
                    "[--k-scale CX,CY,CZ] [--server-version M.m.d] [--idle S]\n");
            return 2;
        }
    }
    if (port < 0 || port > 65535) {
        fprintf(stderr, "marcos-emu: --port N is needed (0: any free port)\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 4) != 0) {
        fprintf(stderr, "marcos-emu: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
        return 1;
    }
    socklen_t sl = sizeof sa;
    getsockname(ls, (struct sockaddr *)&sa, &sl);
    port = ntohs(sa.sin_port);
    if (port_file) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, port_file)) {
            fprintf(stderr, "marcos-emu: cannot write %s\n", port_file);
            return 1;
        }
    }
    fprintf(stderr, "marcos-emu: listening on 127.0.0.1:%d\n", port);
    int cfd = -1;
    bool hung = false;
    msgpack_unpacker u;
    msgpack_unpacker_init(&u, 1 << 16);
    msgpack_unpacked res;
    msgpack_unpacked_init(&res);
    int rc = 0;
    for (;;) {
        struct pollfd pf[2] = { { ls, POLLIN, 0 }, { cfd, POLLIN, 0 } };
        int k = poll(pf, cfd >= 0 ? 2 : 1, (int)(idle * 1000));
        if (k == 0) {
            fprintf(stderr, "marcos-emu: idle for %.0f s, exiting\n", idle);
            break;
        }
        if (k < 0) {
            if (errno == EINTR)
                continue;
            rc = 1;
            break;
        }
        if (pf[0].revents & POLLIN) {
            int nfd = accept(ls, NULL, NULL);
            if (nfd >= 0) {
                if (cfd >= 0) {
                    logf_("connection replaced");
                    close(cfd);
                }
                cfd = nfd;
                hung = false;
                msgpack_unpacker_destroy(&u);
                msgpack_unpacker_init(&u, 1 << 16);
                logf_("connect");
            }
            continue;
        }
        if (cfd < 0 || !(pf[1].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        if (!msgpack_unpacker_reserve_buffer(&u, 1 << 16)) {
            rc = 1;
            break;
        }
        ssize_t n = recv(cfd, msgpack_unpacker_buffer(&u), 1 << 16, 0);
        if (n <= 0) {
            logf_(hung ? "client left the hung run" : "disconnect");
            close(cfd);
            cfd = -1;
            continue;
        }
        msgpack_unpacker_buffer_consumed(&u, (size_t)n);
        bool quit = false;
        while (cfd >= 0 && !hung && msgpack_unpacker_next(&u, &res) == MSGPACK_UNPACK_SUCCESS) {
            msgpack_sbuffer sb;
            msgpack_sbuffer_init(&sb);
            int what = handle(&res.data, &sb);
            if (what == HANG) {
                hung = true;
            } else if (what == CLOSE) {
                close(cfd);
                cfd = -1;
            } else if (send_all(cfd, sb.data, sb.size) != 0) {
                close(cfd);
                cfd = -1;
            }
            msgpack_sbuffer_destroy(&sb);
            if (what == QUIT)
                quit = true;
        }
        if (quit)
            break;
    }
    if (cfd >= 0)
        close(cfd);
    close(ls);
    msgpack_unpacked_destroy(&res);
    msgpack_unpacker_destroy(&u);
    return rc;
}
