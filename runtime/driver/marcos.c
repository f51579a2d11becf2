/*
 * marcos: the MaRCoS driver (marcos://HOST[:PORT][?options]). The one
 * module that speaks the console's wire protocol (msgpack over TCP,
 * notes/marcos.md): a request is [0, index, 0, version, {command: arg}],
 * an emergency stop [1, ...]; a reply [128 (129 after an emergency stop),
 * index + 1, 0, server version, {command: result}, {"errors": [...],
 * "warnings": [...], "infos": [...]}].
 *
 * A run first asks are_you_real, to learn the server's version (another
 * major version: nothing is sent; another minor one: a warning; the server
 * itself adds an error, a warning or an info for a major, minor or debug
 * mismatch, marcos_server src/iface.cpp), then sends the lowered
 * words (marcos_lower.c) as run_seq, waits for the
 * reply (the run's length plus the URI's timeout; every socket operation
 * has a deadline), splits rx0_i/rx0_q into the program's ADC windows and
 * hands each to the sample callback. Any fault - a server error (shown with
 * its text), a lost connection, a timeout, abort() (Ctrl-C) - ends in the
 * safe stop: on a fresh connection halt_and_reset, direct writes that set
 * every gradient channel, TX I/Q and the gates to zero, then an emergency
 * stop request. Server warnings and infos are shown and the run goes on.
 */
#include "runtime/driver/marcos.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <msgpack.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/util.h"

struct mc {
    struct marcos_cfg cfg;
    struct system sys;
    struct drv_caps caps;
    struct ev_program ev;
    struct marcos_prog prog;
    bool prepared;
    volatile sig_atomic_t stop;
    uint32_t idx;
};

/* --- sockets with deadlines ------------------------------------------------ */

static int net_connect(const char *host, int port, double timeout_s, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    int rc = getaddrinfo(host, ps, &hints, &res);
    if (rc) {
        errf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    errf(err, errlen, "cannot connect to %s:%d", host, port);
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        if (errno == EINPROGRESS) {
            struct pollfd pf = { fd, POLLOUT, 0 };
            int k = poll(&pf, 1, (int)(timeout_s * 1000));
            int so = 0;
            socklen_t sl = sizeof so;
            if (k == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) == 0 && so == 0)
                break;
            errf(err, errlen, "cannot connect to %s:%d: %s", host, port,
                 k == 0 ? "timed out" : strerror(so ? so : errno));
        } else {
            errf(err, errlen, "cannot connect to %s:%d: %s", host, port, strerror(errno));
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

/* Send all of buf before the deadline; -1 on error or timeout. */
static int net_send(int fd, const void *buf, size_t len, double deadline, char *err, size_t errlen)
{
    const char *p = buf;
    while (len) {
        double left = deadline - monotonic_s();
        if (left <= 0) {
            errf(err, errlen, "timed out sending to the console");
            return -1;
        }
        struct pollfd pf = { fd, POLLOUT, 0 };
        int k = poll(&pf, 1, (int)(left * 1000) + 1);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            continue;
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            errf(err, errlen, "connection to the console lost while sending: %s", strerror(errno));
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

enum { RX_OK = 0, RX_LOST = -1, RX_TIMEOUT = -2, RX_ABORT = -3, RX_BAD = -4 };

/* Receive one msgpack object before the deadline, polling the stop flag. */
static int net_recv_obj(int fd, msgpack_unpacker *u, msgpack_unpacked *obj, double deadline,
                        volatile sig_atomic_t *stop)
{
    for (;;) {
        msgpack_unpack_return r = msgpack_unpacker_next(u, obj);
        if (r == MSGPACK_UNPACK_SUCCESS)
            return RX_OK;
        if (r == MSGPACK_UNPACK_PARSE_ERROR || r == MSGPACK_UNPACK_NOMEM_ERROR)
            return RX_BAD;
        if (stop && *stop)
            return RX_ABORT;
        double left = deadline - monotonic_s();
        if (left <= 0)
            return RX_TIMEOUT;
        struct pollfd pf = { fd, POLLIN, 0 };
        int k = poll(&pf, 1, left > 0.1 ? 100 : (int)(left * 1000) + 1);
        if (k <= 0)
            continue;
        if (!msgpack_unpacker_reserve_buffer(u, 65536))
            return RX_BAD;
        ssize_t n = recv(fd, msgpack_unpacker_buffer(u), 65536, 0);
        if (n == 0)
            return RX_LOST;
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            return RX_LOST;
        }
        msgpack_unpacker_buffer_consumed(u, (size_t)n);
    }
}

/* --- messages ---------------------------------------------------------------- */

static void pack_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

/* A request of type (0 request, 1 emergency stop) with one command (NULL:
   an empty map) whose argument is an unsigned integer or the words. */
static void pack_request(msgpack_sbuffer *sb, int type, uint32_t idx, const char *cmd,
                         uint64_t arg, const uint32_t *words, size_t nwords)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 5);
    msgpack_pack_uint32(&pk, (uint32_t)type);
    msgpack_pack_uint32(&pk, idx);
    msgpack_pack_uint32(&pk, 0);
    msgpack_pack_uint32(&pk, MARCOS_VERSION);
    msgpack_pack_map(&pk, cmd ? 1 : 0);
    if (!cmd)
        return;
    pack_str(&pk, cmd);
    if (words) {
        msgpack_pack_bin(&pk, nwords * 4);
        for (size_t i = 0; i < nwords; i++) {
            unsigned char b[4] = { (unsigned char)words[i], (unsigned char)(words[i] >> 8),
                                   (unsigned char)(words[i] >> 16), (unsigned char)(words[i] >> 24) };
            msgpack_pack_bin_body(&pk, b, 4);
        }
    } else {
        msgpack_pack_uint64(&pk, arg);
    }
}

static const msgpack_object *map_get(const msgpack_object *m, const char *key)
{
    if (m->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object *k = &m->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
            !memcmp(k->via.str.ptr, key, k->via.str.size))
            return &m->via.map.ptr[i].val;
    }
    return NULL;
}

/* Show the reply's errors, warnings and infos (the status map holds only
   the non-empty ones); the number of errors, with the first ones' text in
   msg. */
static int show_messages(const msgpack_object *st, char *msg, size_t msglen)
{
    static const char *const kinds[] = { "errors", "warnings", "infos" };
    static const char *const label[] = { "error", "warning", "info" };
    int nerr = 0;
    size_t used = strlen(msg);
    for (int k = 0; k < 3; k++) {
        const msgpack_object *a = map_get(st, kinds[k]);
        if (!a || a->type != MSGPACK_OBJECT_ARRAY)
            continue;
        for (uint32_t i = 0; i < a->via.array.size; i++) {
            const msgpack_object *s = &a->via.array.ptr[i];
            if (s->type != MSGPACK_OBJECT_STR)
                continue;
            int len = s->via.str.size > 400 ? 400 : (int)s->via.str.size;
            fprintf(stderr, "marcos: server %s: %.*s\n", label[k], len, s->via.str.ptr);
            if (k == 0) {
                nerr++;
                if (used + 8 < msglen) {
                    int w = snprintf(msg + used, msglen - used, "%sserver error: %.*s",
                                     used ? "; " : "", len, s->via.str.ptr);
                    used += w > 0 ? (size_t)w : 0;
                    if (used >= msglen)
                        used = msglen - 1;
                }
            }
        }
    }
    return nerr;
}

/* One request/reply exchange on fd; the reply's result map and status map
   are copied into *out (owned by the caller's msgpack_unpacked). */
static int exchange(struct mc *m, int fd, msgpack_unpacker *u, msgpack_unpacked *res, int type,
                    const char *cmd, uint64_t arg, const uint32_t *w, size_t nw, double wait_s,
                    bool abortable, char *err, size_t errlen)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    uint32_t idx = m->idx++;
    pack_request(&sb, type, idx, cmd, arg, w, nw);
    double t = monotonic_s();
    int rc = net_send(fd, sb.data, sb.size, t + m->cfg.timeout_s + (double)sb.size / 1e6, err,
                      errlen);
    msgpack_sbuffer_destroy(&sb);
    if (rc)
        return RX_LOST;
    rc = net_recv_obj(fd, u, res, monotonic_s() + wait_s, abortable ? &m->stop : NULL);
    if (rc == RX_OK) {
        const msgpack_object *o = &res->data;
        if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 6 ||
            o->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
            (o->via.array.ptr[0].via.u64 != 128 && o->via.array.ptr[0].via.u64 != 129)) {
            errf(err, errlen, "the console's reply is not a MaRCoS reply");
            return RX_BAD;
        }
        const msgpack_object *ri = &o->via.array.ptr[1];
        if (ri->type != MSGPACK_OBJECT_POSITIVE_INTEGER || ri->via.u64 != (uint64_t)idx + 1) {
            errf(err, errlen, "the console's reply does not answer request %u", (unsigned)idx);
            return RX_BAD;
        }
    } else if (rc == RX_TIMEOUT) {
        errf(err, errlen, "the console did not answer %s within %.1f s", cmd ? cmd : "the stop",
             wait_s);
    } else if (rc == RX_LOST) {
        errf(err, errlen, "connection to the console lost while waiting for %s",
             cmd ? cmd : "the stop");
    } else if (rc == RX_ABORT) {
        errf(err, errlen, "interrupted");
    } else {
        errf(err, errlen, "the console's reply could not be decoded");
    }
    return rc;
}

/* The safe stop, on a fresh connection: halt, outputs to zero, emergency
   stop. Returns 0 when every step was acknowledged. */
static int safe_stop(struct mc *m, char *err, size_t errlen)
{
    int fd = net_connect(m->cfg.host, m->cfg.port, m->cfg.timeout_s, err, errlen);
    if (fd < 0)
        return -1;
    msgpack_unpacker u;
    msgpack_unpacker_init(&u, 65536);
    msgpack_unpacked res;
    msgpack_unpacked_init(&res);
    uint32_t direct[16];
    int nd = 0;
    direct[nd++] = (MB_GRAD_CTRL << 24) | (unsigned)m->cfg.board | (unsigned)m->cfg.spi_div << 2 |
                   MG_CTRL_RESET_N | MG_CTRL_XFER;
    for (unsigned ch = 0; ch < 3; ch++) {
        uint32_t w = m->cfg.board == MARCOS_OCRA1
                         ? (ch << 25) | ((uint32_t)(ch == 2) << 24) | (1u << 20)
                         : ((0x0008u | ch | ch << 9) << 16) | 0x8000u;
        direct[nd++] = (MB_GRAD_MSB << 24) | (w >> 16);
        direct[nd++] = (MB_GRAD_LSB << 24) | (w & 0xffffu);
    }
    direct[nd++] = MB_TX0_I << 24;
    direct[nd++] = MB_TX0_Q << 24;
    direct[nd++] = MB_GATES << 24;
    char ignored[256] = "";
    int rc = exchange(m, fd, &u, &res, 0, "halt_and_reset", 0, NULL, 0, m->cfg.timeout_s, false,
                      err, errlen);
    if (rc == RX_OK)
        show_messages(&res.data.via.array.ptr[5], ignored, sizeof ignored);
    for (int i = 0; i < nd && rc == RX_OK; i++)
        rc = exchange(m, fd, &u, &res, 0, "direct", direct[i], NULL, 0, m->cfg.timeout_s, false,
                      err, errlen);
    if (rc == RX_OK)
        rc = exchange(m, fd, &u, &res, 1, NULL, 0, NULL, 0, m->cfg.timeout_s, false, err, errlen);
    /* what the server says of its emergency stop is for the operator */
    if (rc == RX_OK)
        show_messages(&res.data.via.array.ptr[5], ignored, sizeof ignored);
    msgpack_unpacked_destroy(&res);
    msgpack_unpacker_destroy(&u);
    close(fd);
    return rc == RX_OK ? 0 : -1;
}

/* --- the driver table --------------------------------------------------------- */

static void *mc_open(const char *uri, const struct system *sys, char *err, size_t errlen)
{
    struct mc *m = xcalloc(1, sizeof *m);
    if (marcos_check_system(sys, err, errlen) != 0 ||
        marcos_parse_uri(&m->cfg, uri, sys, err, errlen) != 0) {
        free(m);
        return NULL;
    }
    m->sys = *sys;
    marcos_caps(&m->caps, &m->cfg, sys);
    return m;
}

static void mc_caps(void *h, struct drv_caps *c)
{
    *c = ((struct mc *)h)->caps;
}

static int mc_prepare(void *h, const struct lbc_program *p, const struct drv_ticket *t,
                      struct drv_msgs *msgs)
{
    struct mc *m = h;
    ev_fini(&m->ev);
    marcos_prog_fini(&m->prog);
    m->prepared = false;
    if (drv_verify_ticket(t, p, &m->sys, msgs) != 0)
        return -1;
    if (ev_build(&m->ev, p, &m->caps, msgs) != 0)
        return -1;
    if (marcos_lower(&m->prog, &m->ev, &m->cfg, msgs) != 0)
        return -1;
    m->prepared = true;
    return 0;
}

/* One RX sample: the server sends the 32-bit two's complement words as
   unsigned integers (marcos_server's read_rx; marcos_client reads them
   back as int32), so a value past 2^31 is negative. */
static double rx_value(const msgpack_object *o)
{
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return o->via.u64 <= 0xffffffffu ? (double)(int32_t)(uint32_t)o->via.u64
                                         : (double)o->via.u64;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return (double)o->via.i64;
    if (o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32)
        return o->via.f64;
    return 0;
}

/* Deliver the received samples window by window; the number of whole
   windows. */
static size_t deliver(struct mc *m, const msgpack_object *rx, drv_sample_fn cb, void *ctx,
                      bool *short_data, bool *stopped)
{
    const msgpack_object *ri = rx ? map_get(rx, "rx0_i") : NULL;
    const msgpack_object *rq = rx ? map_get(rx, "rx0_q") : NULL;
    size_t have = 0;
    if (ri && rq && ri->type == MSGPACK_OBJECT_ARRAY && rq->type == MSGPACK_OBJECT_ARRAY)
        have = ri->via.array.size < rq->via.array.size ? ri->via.array.size : rq->via.array.size;
    size_t off = 0, done = 0;
    *short_data = *stopped = false;
    float *buf = NULL;
    size_t cap = 0;
    for (size_t a = 0; a < m->ev.nadc; a++) {
        const struct ev_adc *w = &m->ev.adc[a];
        if (off + w->samples > have) {
            *short_data = true;
            break;
        }
        vec_reserve((void **)&buf, &cap, 2 * (size_t)w->samples, sizeof *buf);
        double c = cos(-w->phase) / m->cfg.rx_fs, s = sin(-w->phase) / m->cfg.rx_fs;
        for (uint32_t j = 0; j < w->samples; j++) {
            double re = rx_value(&ri->via.array.ptr[off + j]);
            double im = rx_value(&rq->via.array.ptr[off + j]);
            buf[2 * j] = (float)(re * c - im * s);
            buf[2 * j + 1] = (float)(re * s + im * c);
        }
        off += w->samples;
        if (cb && cb(ctx, a, w->samples, buf) != 0) {
            *stopped = true;
            break;
        }
        done++;
    }
    free(buf);
    if (!*short_data && !*stopped && done == m->ev.nadc && have > off)
        fprintf(stderr, "marcos: warning: the console returned %zu samples more than the "
                "program's ADC windows hold (%zu); they were dropped\n", have - off, off);
    return done;
}

static int mc_run(void *h, drv_sample_fn cb, void *ctx, struct drv_status *st)
{
    struct mc *m = h;
    memset(st, 0, sizeof *st);
    if (!m->prepared) {
        snprintf(st->msg, sizeof st->msg, "nothing prepared");
        return 1;
    }
    char err[512] = "";
    int fd = net_connect(m->cfg.host, m->cfg.port, m->cfg.timeout_s, err, sizeof err);
    if (fd < 0) {
        snprintf(st->msg, sizeof st->msg, "%s; nothing was sent", err);
        return 1;
    }
    msgpack_unpacker u;
    msgpack_unpacker_init(&u, 65536);
    msgpack_unpacked res;
    msgpack_unpacked_init(&res);
    /* who is there: the server's version first (nothing is sent to a
       server of another major version) */
    int rc = exchange(m, fd, &u, &res, 0, "are_you_real", 0, NULL, 0, m->cfg.timeout_s, true,
                      err, sizeof err);
    uint64_t sv = 0;
    if (rc == RX_OK && res.data.via.array.ptr[3].type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        sv = res.data.via.array.ptr[3].via.u64;
    if (rc == RX_OK && (sv >> 16) != (MARCOS_VERSION >> 16)) {
        snprintf(err, sizeof err, "the server speaks protocol version %u.%u.%u, this driver "
                 "%u.%u.%u", (unsigned)(sv >> 16) & 0xff, (unsigned)(sv >> 8) & 0xff,
                 (unsigned)sv & 0xff, MARCOS_VERSION >> 16, (MARCOS_VERSION >> 8) & 0xff,
                 MARCOS_VERSION & 0xff);
        rc = RX_BAD;
    }
    if (rc != RX_OK) {
        snprintf(st->msg, sizeof st->msg, "%s; nothing was sent", err);
        st->interrupted = rc == RX_ABORT;
        msgpack_unpacked_destroy(&res);
        msgpack_unpacker_destroy(&u);
        close(fd);
        return 1;
    }
    if (sv != MARCOS_VERSION)
        fprintf(stderr, "marcos: warning: the server is version %u.%u.%u, this driver speaks "
                "%u.%u.%u\n", (unsigned)(sv >> 16) & 0xff, (unsigned)(sv >> 8) & 0xff,
                (unsigned)sv & 0xff, MARCOS_VERSION >> 16, (MARCOS_VERSION >> 8) & 0xff,
                MARCOS_VERSION & 0xff);
    double run_s = (double)m->prog.cycles / MARCOS_CLOCK_HZ;
    fprintf(stderr, "marcos: running %zu words (%.2f MB) on %s:%d for %.3g s\n", m->prog.n,
            (double)m->prog.n * 4e-6, m->cfg.host, m->cfg.port, run_s);
    rc = exchange(m, fd, &u, &res, 0, "run_seq", 0, m->prog.w, m->prog.n,
                      run_s + m->cfg.timeout_s, true, err, sizeof err);
    bool fault = rc != RX_OK;
    if (rc == RX_OK) {
        const msgpack_object *o = &res.data;
        int nerr = show_messages(&o->via.array.ptr[5], st->msg, sizeof st->msg);
        const msgpack_object *rx = map_get(&o->via.array.ptr[4], "run_seq");
        bool short_data = false, stopped = false;
        st->adcs_received = deliver(m, rx && rx->type == MSGPACK_OBJECT_MAP ? rx : NULL, cb,
                                    ctx, &short_data, &stopped);
        if (nerr) {
            fault = true;
        } else if (stopped) {
            /* the run is over and the console idle: the receiving end
               failed (the caller says why); no stop is needed */
            snprintf(st->msg, sizeof st->msg, "the samples could not be stored after ADC %zu",
                     st->adcs_received);
            msgpack_unpacked_destroy(&res);
            msgpack_unpacker_destroy(&u);
            close(fd);
            return 1;
        } else if (short_data || st->adcs_received < m->ev.nadc) {
            fault = true;
            snprintf(st->msg, sizeof st->msg, "the console returned %zu of %zu ADC windows",
                     st->adcs_received, m->ev.nadc);
        }
    } else {
        snprintf(st->msg, sizeof st->msg, "%s", err);
        st->interrupted = rc == RX_ABORT;
    }
    msgpack_unpacked_destroy(&res);
    msgpack_unpacker_destroy(&u);
    close(fd);
    if (!fault) {
        st->complete = true;
        return 0;
    }
    char serr[256] = "";
    st->safe_stopped = safe_stop(m, serr, sizeof serr) == 0;
    if (!st->safe_stopped) {
        size_t l = strlen(st->msg);
        snprintf(st->msg + l, sizeof st->msg - l, "; THE SAFE STOP FAILED (%s): switch the "
                 "gradient and RF amplifiers off by hand", serr);
    }
    return 1;
}

static void mc_abort(void *h)
{
    ((struct mc *)h)->stop = 1;
}

static void mc_close(void *h)
{
    struct mc *m = h;
    if (!m)
        return;
    ev_fini(&m->ev);
    marcos_prog_fini(&m->prog);
    free(m);
}

const struct drv_ops drv_marcos_ops = {
    DRV_ABI_VERSION, "marcos", "the MaRCoS console (marcos://HOST[:PORT][?board=ocra1|gpa-fhdo]...)",
    mc_open, mc_caps, mc_prepare, mc_run, mc_abort, mc_close,
};
