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

enum { RX_OK = 0, RX_LOST = -1, RX_TIMEOUT = -2, RX_ABORT = -3, RX_BAD = -4, RX_BIG = -5 };

/* The replies of one connection. msgpack-c allocates a container's
   elements when it reads the container's header, before they arrive (five
   bytes claiming 2^32 array elements ask for 96 GiB), so a reply is only
   handed to its unpacker once all of its bytes are here: a scan of the
   bytes after the unpacker's read position (u.off; the unpacker keeps
   those bytes in order when it moves its buffer) counts the objects still
   owed, without allocating, and refuses a reply that cannot fit in the
   exchange's limit. Every element then stands on at least one received
   byte, and what the unpacker allocates is bounded by the reply's size. */
struct rx_stream {
    msgpack_unpacker u;
    size_t scanned;              /* bytes of the next reply scanned, from u.off */
    uint64_t pending;            /* objects the scan has still to read */
};

static bool rx_init(struct rx_stream *s)
{
    s->scanned = 0;
    s->pending = 1;
    return msgpack_unpacker_init(&s->u, 65536);
}

static void rx_fini(struct rx_stream *s)
{
    msgpack_unpacker_destroy(&s->u);
}

/* Scan on: 1 when the next reply's bytes are all buffered, 0 when more are
   needed, RX_BAD when they are not msgpack, RX_BIG when the reply cannot
   fit in max bytes. */
static int rx_scan(struct rx_stream *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s->u.buffer + s->u.off;
    size_t n = s->u.used - s->u.off, i = s->scanned;
    while (s->pending) {
        /* every object owed needs at least a byte */
        if (s->pending > max || i > max - s->pending)
            return RX_BIG;
        if (i >= n)
            break;
        unsigned b = p[i];
        uint64_t head = 1, body = 0, kids = 0;
        int lenb = 0;            /* big-endian length or count bytes after the type */
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
            ;                    /* fixint, nil, false, true */
        else if (b <= 0x8f)
            kids = 2 * (uint64_t)(b & 0x0f);                  /* fixmap */
        else if (b <= 0x9f)
            kids = b & 0x0f;                                  /* fixarray */
        else if (b <= 0xbf)
            body = b & 0x1f;                                  /* fixstr */
        else if (b == 0xc1)
            return RX_BAD;                                    /* never used */
        else if (b <= 0xc6)
            lenb = 1 << (b - 0xc4);                           /* bin 8/16/32 */
        else if (b <= 0xc9) {
            lenb = 1 << (b - 0xc7);                           /* ext 8/16/32 */
            head = 2;                                         /* and its type byte */
        } else if (b <= 0xcb)
            head = b == 0xca ? 5 : 9;                         /* float 32/64 */
        else if (b <= 0xd3)
            head = 1 + (1u << ((b - 0xcc) & 3));              /* uint, int 8..64 */
        else if (b <= 0xd8)
            head = 2 + (1u << (b - 0xd4));                    /* fixext 1..16 */
        else if (b <= 0xdb)
            lenb = 1 << (b - 0xd9);                           /* str 8/16/32 */
        else
            lenb = (b & 1) ? 4 : 2;                           /* array, map 16/32 */
        if (lenb) {
            if (n - i < 1 + (size_t)lenb)
                break;
            uint64_t v = 0;
            for (int k = 0; k < lenb; k++)
                v = v << 8 | p[i + 1 + (size_t)k];
            head += (uint64_t)lenb;
            if (b >= 0xde)
                kids = 2 * v;
            else if (b >= 0xdc)
                kids = v;
            else
                body = v;
        }
        if (head + body > max - i)
            return RX_BIG;
        if (head + body > n - i)
            break;
        i += (size_t)(head + body);
        s->pending += kids - 1;
    }
    s->scanned = i;
    return s->pending == 0;
}

/* Receive one reply of at most max bytes before the deadline, polling the
   stop flag. */
static int net_recv_obj(int fd, struct rx_stream *s, msgpack_unpacked *obj, size_t max,
                        double deadline, volatile sig_atomic_t *stop)
{
    for (;;) {
        int k = rx_scan(s, max);
        if (k < 0)
            return k;
        if (k == 1) {
            msgpack_unpack_return r = msgpack_unpacker_next(&s->u, obj);
            s->scanned = 0;
            s->pending = 1;
            /* the scan found the object whole: anything but success is a
               reply msgpack-c refuses (nested too deep) */
            return r == MSGPACK_UNPACK_SUCCESS ? RX_OK : RX_BAD;
        }
        if (stop && *stop)
            return RX_ABORT;
        double left = deadline - monotonic_s();
        if (left <= 0)
            return RX_TIMEOUT;
        struct pollfd pf = { fd, POLLIN, 0 };
        int n = poll(&pf, 1, left > 0.1 ? 100 : (int)(left * 1000) + 1);
        if (n <= 0)
            continue;
        if (!msgpack_unpacker_reserve_buffer(&s->u, 65536))
            return RX_BAD;
        ssize_t got = recv(fd, msgpack_unpacker_buffer(&s->u), 65536, 0);
        if (got == 0)
            return RX_LOST;
        if (got < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            return RX_LOST;
        }
        msgpack_unpacker_buffer_consumed(&s->u, (size_t)got);
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

/* A server's text for the terminal and the run's message: at most 400
   bytes, control characters (a NUL, an escape sequence) as '?'. */
static void server_text(char *out, size_t cap, const msgpack_object *s)
{
    if (s->type != MSGPACK_OBJECT_STR) {
        snprintf(out, cap, "(a msgpack %s, not a text)",
                 s->type == MSGPACK_OBJECT_NIL ? "nil" : s->type == MSGPACK_OBJECT_ARRAY ? "array"
                 : s->type == MSGPACK_OBJECT_MAP ? "map" : "value");
        return;
    }
    size_t n = s->via.str.size < 400 ? s->via.str.size : 400;
    if (n >= cap)
        n = cap - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s->via.str.ptr[i];
        out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    out[n] = '\0';
}

/* Show the reply's errors, warnings and infos (the status map holds only
   the non-empty ones); the number of errors, with the first ones' text in
   msg. An error that is not a text, or an "errors" that is not a list, is
   an error still: the server said something went wrong. */
static int show_messages(const msgpack_object *st, char *msg, size_t msglen)
{
    static const char *const kinds[] = { "errors", "warnings", "infos" };
    static const char *const label[] = { "error", "warning", "info" };
    int nerr = 0;
    size_t used = strlen(msg);
    for (int k = 0; k < 3; k++) {
        const msgpack_object *a = map_get(st, kinds[k]);
        if (!a)
            continue;
        bool list = a->type == MSGPACK_OBJECT_ARRAY;
        uint32_t n = list ? a->via.array.size : 1;
        for (uint32_t i = 0; i < n; i++) {
            char text[401];
            server_text(text, sizeof text, list ? &a->via.array.ptr[i] : a);
            fprintf(stderr, "marcos: server %s: %s\n", label[k], text);
            if (k == 0) {
                nerr++;
                if (used + 8 < msglen) {
                    int w = snprintf(msg + used, msglen - used, "%sserver error: %s",
                                     used ? "; " : "", text);
                    used += w > 0 ? (size_t)w : 0;
                    if (used >= msglen)
                        used = msglen - 1;
                }
            }
        }
    }
    return nerr;
}

/* The longest reply taken to a request other than run_seq: a status map
   of messages, a result of a few numbers. */
#define MC_REPLY_MAX ((size_t)1 << 20)

/* One request/reply exchange on fd; the reply (at most max bytes) into
   *res, owned by the caller. */
static int exchange(struct mc *m, int fd, struct rx_stream *rs, msgpack_unpacked *res, int type,
                    const char *cmd, uint64_t arg, const uint32_t *w, size_t nw, size_t max,
                    double wait_s, bool abortable, char *err, size_t errlen)
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
    rc = net_recv_obj(fd, rs, res, max, monotonic_s() + wait_s, abortable ? &m->stop : NULL);
    if (rc == RX_OK) {
        const msgpack_object *o = &res->data;
        /* [code, index, 0, version, {command: result}, {status}] */
        if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 6 ||
            o->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
            (o->via.array.ptr[0].via.u64 != 128 && o->via.array.ptr[0].via.u64 != 129) ||
            o->via.array.ptr[4].type != MSGPACK_OBJECT_MAP ||
            o->via.array.ptr[5].type != MSGPACK_OBJECT_MAP) {
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
    } else if (rc == RX_BIG) {
        errf(err, errlen, "the console's reply to %s is over %zu bytes, more than it can "
             "hold", cmd ? cmd : "the stop", max);
        rc = RX_BAD;
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
    struct rx_stream rs;
    if (!rx_init(&rs)) {
        errf(err, errlen, "out of memory");
        close(fd);
        return -1;
    }
    msgpack_unpacked res;
    msgpack_unpacked_init(&res);
    uint32_t direct[16];
    int nd = 0;
    /* the gradient core set to transfer on LSB writes only (MG_CTRL_XFER,
       "update on MSB writes", off), as marcos_client's write_dac does
       (grad_board.py, update_on_msb_writes): each channel's MSB word then
       waits for its LSB word, instead of sending the new MSB with the last
       LSB of the run (GPA-FHDO: a command word read as 87.5 % of full
       scale until the LSB follows; OCRA1: two words for one channel,
       latched as "data lost"). The next run sets the core up again. */
    direct[nd++] = (MB_GRAD_CTRL << 24) | (unsigned)m->cfg.board | (unsigned)m->cfg.spi_div << 2 |
                   MG_CTRL_RESET_N;
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
    int rc = exchange(m, fd, &rs, &res, 0, "halt_and_reset", 0, NULL, 0, MC_REPLY_MAX,
                      m->cfg.timeout_s, false, err, errlen);
    if (rc == RX_OK)
        show_messages(&res.data.via.array.ptr[5], ignored, sizeof ignored);
    for (int i = 0; i < nd && rc == RX_OK; i++)
        rc = exchange(m, fd, &rs, &res, 0, "direct", direct[i], NULL, 0, MC_REPLY_MAX,
                      m->cfg.timeout_s, false, err, errlen);
    if (rc == RX_OK)
        rc = exchange(m, fd, &rs, &res, 1, NULL, 0, NULL, 0, MC_REPLY_MAX, m->cfg.timeout_s,
                      false, err, errlen);
    /* what the server says of its emergency stop is for the operator */
    if (rc == RX_OK)
        show_messages(&res.data.via.array.ptr[5], ignored, sizeof ignored);
    msgpack_unpacked_destroy(&res);
    rx_fini(&rs);
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

/* One RX sample into *v: the server sends the 32-bit two's complement
   words as unsigned integers (marcos_server's read_rx; marcos_client reads
   them back as int32), so a value past 2^31 is negative. A signed integer
   or a float (an emulator's) is taken when a 32-bit word could hold it.
   Anything else - another type, a value past 32 bits, NaN or an infinity -
   is no sample of the console's, and 0 would hide it: -1. */
static int rx_value(const msgpack_object *o, double *v)
{
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= 0xffffffffu) {
        *v = (double)(int32_t)(uint32_t)o->via.u64;
        return 0;
    }
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && o->via.i64 >= INT32_MIN) {
        *v = (double)o->via.i64;
        return 0;
    }
    if ((o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32) &&
        fabs(o->via.f64) <= 2147483648.0) {        /* false for NaN */
        *v = o->via.f64;
        return 0;
    }
    return -1;
}

/* How delivering a run's samples ended, when not with every window. */
struct rx_end {
    bool short_data;             /* fewer samples than the windows hold */
    bool stopped;                /* the callback refused a window */
    bool bad;                    /* a value that is no sample; msg says which */
    char msg[128];
};

/* Deliver the received samples window by window; the number of whole
   windows. */
static size_t deliver(struct mc *m, const msgpack_object *rx, drv_sample_fn cb, void *ctx,
                      struct rx_end *end)
{
    const msgpack_object *ri = rx ? map_get(rx, "rx0_i") : NULL;
    const msgpack_object *rq = rx ? map_get(rx, "rx0_q") : NULL;
    size_t have = 0;
    if (ri && rq && ri->type == MSGPACK_OBJECT_ARRAY && rq->type == MSGPACK_OBJECT_ARRAY)
        have = ri->via.array.size < rq->via.array.size ? ri->via.array.size : rq->via.array.size;
    size_t off = 0, done = 0;
    memset(end, 0, sizeof *end);
    float *buf = NULL;
    size_t cap = 0;
    for (size_t a = 0; a < m->ev.nadc; a++) {
        const struct ev_adc *w = &m->ev.adc[a];
        if (off + w->samples > have) {
            end->short_data = true;
            break;
        }
        vec_reserve((void **)&buf, &cap, 2 * (size_t)w->samples, sizeof *buf);
        double c = cos(-w->phase) / m->cfg.rx_fs, s = sin(-w->phase) / m->cfg.rx_fs;
        for (uint32_t j = 0; j < w->samples; j++) {
            double re, im;
            const msgpack_object *oi = &ri->via.array.ptr[off + j];
            const msgpack_object *oq = &rq->via.array.ptr[off + j];
            if (rx_value(oi, &re) || rx_value(oq, &im)) {
                snprintf(end->msg, sizeof end->msg, "the console's rx0_%c[%zu] (ADC %zu) is "
                         "not a 32-bit sample", rx_value(oi, &re) ? 'i' : 'q', off + j, a);
                end->bad = true;
                break;
            }
            buf[2 * j] = (float)(re * c - im * s);
            buf[2 * j + 1] = (float)(re * s + im * c);
        }
        if (end->bad)
            break;
        off += w->samples;
        if (cb && cb(ctx, a, w->samples, buf) != 0) {
            end->stopped = true;
            break;
        }
        done++;
    }
    free(buf);
    if (done == m->ev.nadc && have > off)
        fprintf(stderr, "marcos: warning: the console returned %zu samples more than the "
                "program's ADC windows hold (%zu); they were dropped\n", have - off, off);
    return done;
}

/* The longest reply taken to run_seq: the status map's room and, for
   every sample of the program, rx0 and rx1 I and Q as float64 (9 bytes,
   the widest number), twice over (extra samples are dropped, not
   refused). */
static size_t run_reply_max(const struct mc *m)
{
    size_t n = 0;
    for (size_t a = 0; a < m->ev.nadc; a++)
        n += m->ev.adc[a].samples;
    return MC_REPLY_MAX + (n < SIZE_MAX / 128 ? n : SIZE_MAX / 128) * 2 * 4 * 9;
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
    struct rx_stream rs;
    if (!rx_init(&rs)) {
        snprintf(st->msg, sizeof st->msg, "out of memory; nothing was sent");
        close(fd);
        return 1;
    }
    msgpack_unpacked res;
    msgpack_unpacked_init(&res);
    /* who is there: the server's version first (nothing is sent to a
       server of another major version) */
    int rc = exchange(m, fd, &rs, &res, 0, "are_you_real", 0, NULL, 0, MC_REPLY_MAX,
                      m->cfg.timeout_s, true, err, sizeof err);
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
        rx_fini(&rs);
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
    rc = exchange(m, fd, &rs, &res, 0, "run_seq", 0, m->prog.w, m->prog.n, run_reply_max(m),
                  run_s + m->cfg.timeout_s, true, err, sizeof err);
    bool fault = rc != RX_OK;
    if (rc == RX_OK) {
        const msgpack_object *o = &res.data;
        int nerr = show_messages(&o->via.array.ptr[5], st->msg, sizeof st->msg);
        const msgpack_object *rx = map_get(&o->via.array.ptr[4], "run_seq");
        struct rx_end end;
        st->adcs_received = deliver(m, rx && rx->type == MSGPACK_OBJECT_MAP ? rx : NULL, cb,
                                    ctx, &end);
        if (nerr) {
            fault = true;
        } else if (end.bad) {
            fault = true;
            snprintf(st->msg, sizeof st->msg, "%s; %zu of %zu ADC windows delivered", end.msg,
                     st->adcs_received, m->ev.nadc);
        } else if (end.stopped) {
            /* the run is over and the console idle: the receiving end
               failed (the caller says why); no stop is needed */
            snprintf(st->msg, sizeof st->msg, "the samples could not be stored after ADC %zu",
                     st->adcs_received);
            msgpack_unpacked_destroy(&res);
            rx_fini(&rs);
            close(fd);
            return 1;
        } else if (end.short_data || st->adcs_received < m->ev.nadc) {
            fault = true;
            snprintf(st->msg, sizeof st->msg, "the console returned %zu of %zu ADC windows",
                     st->adcs_received, m->ev.nadc);
        }
    } else {
        snprintf(st->msg, sizeof st->msg, "%s", err);
        st->interrupted = rc == RX_ABORT;
    }
    msgpack_unpacked_destroy(&res);
    rx_fini(&rs);
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
