/*
 * fuzz_marcos: libFuzzer entry point for the MaRCoS driver's client side
 * (runtime/driver/marcos.c): what it makes of the server's replies. Any
 * reply must be used correctly or refused with a message, without a crash,
 * a leak, undefined behaviour, a hang or a runaway allocation.
 *
 * A fake server runs in the target: a thread on a listening socket on
 * 127.0.0.1 (an ephemeral port). The input is
 *   one options byte: bit 7 set, the sample callback refuses ADC window
 *     (bits 0-6) mod FM_NADC (the driver must stop without a safe stop);
 *   then replies, each a 2-byte little-endian length and that many bytes
 *     (a length past the input's end: the rest of it).
 * For every complete request the driver sends (read with msgpack's own
 * unpacker), on whichever connection, the server sends the next reply's
 * bytes verbatim; a reply of length 0, or no reply left, closes the
 * connection instead. So that a reply cut inside a msgpack object does not
 * leave the driver waiting for its timeout, the server sends the following
 * replies at once until the bytes it has sent end on an object's boundary
 * (or a reply of length 0 or the input's end closes the connection).
 *
 * Each input gets a fresh driver handle (opened and prepared: the request
 * indices start at 0, so that a reply's index is the input's, not the
 * process's history), for a program of FM_NADC short ADC windows compiled
 * once for the system marcos_lowfield. After the run the target checks:
 * run returns 0 exactly when st->complete; a complete run delivered every
 * window, in order, whole, on the one connection that carried are_you_real
 * and run_seq; a failed run says why (non-empty st->msg); every delivered
 * sample is finite; the windows delivered are st->adcs_received; run_seq
 * went only to a server whose are_you_real reply was a valid reply of
 * major version 1 (the server decodes what it sent, once its own scan
 * found each reply whole); a run that sent run_seq and failed (not by the
 * callback's refusal alone) attempted the safe stop on a second
 * connection; st->safe_stopped exactly when the safe stop's 12 replies
 * were all valid, and then halt_and_reset, the 10 direct writes and the
 * emergency stop were sent. A broken check aborts.
 *
 * The driver's messages to stderr are sent to /dev/null during a run;
 * FUZZ_DEBUG=1 keeps them and prints each run's status. The timeout in the
 * URI (0.1 s) is only reached when something is wrong (the server never
 * stalls), so a run takes well under a millisecond: about 3000 runs a
 * second under ASan. tests/fuzz/make_marcos_seeds.py writes the
 * seeds (tests/fuzz/marcos-seed/); tests/test_regress.c replays them (each
 * must complete, or be refused as the seed's name says) and
 * tests/fuzz/marcos-regress/.
 */
#include <math.h>
#include <msgpack.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "base/diag.h"
#include "base/paths.h"
#include "compiler/compile.h"
#include "runtime/driver/driver.h"
#include "runtime/system/system.h"
#include "vm/program.h"
#include "tests/fuzzutil.h"

/* 1 when the run completed, else 0 (libFuzzer's entry returns 0 either
   way). Aborts on a broken invariant. */
int fuzz_marcos_one(const uint8_t *data, size_t size);

/* The program: three ADC windows of 4, 6 and 2 samples. */
#define FM_SOURCE                                                            \
    "sequence {\n"                                                           \
    "  block { adc { samples: 4, dwell: 10 us, delay: 10 us } }\n"           \
    "  block { adc { samples: 6, dwell: 10 us, delay: 10 us } }\n"           \
    "  block { adc { samples: 2, dwell: 10 us, delay: 10 us } }\n"           \
    "}\n"
enum { FM_NADC = 3, FM_MAX_CONNS = 8, FM_MAX_REQS = 24 };
static const uint32_t fm_samples[FM_NADC] = { 4, 6, 2 };

/* What the driver sent on each connection: one letter per request
   (a are_you_real, r run_seq, h halt_and_reset, d direct, e emergency
   stop, ? anything else). */
struct fm_log {
    int conns;
    char req[FM_MAX_CONNS][FM_MAX_REQS + 1];
    /* the leading replies sent on each connection that the driver must
       take (fm_valid), and whether the first on the first connection
       came from a server of the driver's major version */
    int valid[FM_MAX_CONNS];
    bool major_ok;
};

static struct fm_server {
    int lfd, port;
    int wake[2];                 /* main -> server: the run is over */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned gen, served;        /* inputs handed over, inputs finished */
    const uint8_t *p;            /* the current input's replies */
    size_t n, at;
    struct fm_log log;
} fm_srv = { .lfd = -1, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

/* --- the server ------------------------------------------------------------ */

/* Skip one msgpack object at p[*at..n): 1 and *at past it, 0 when the
   bytes end inside it, -1 when it is malformed. Written here rather than
   taken from the driver, so that the server's idea of a boundary does not
   share the driver's mistakes. No allocation: a container's element count
   is only a count. */
static int fm_skip(const uint8_t *p, size_t n, size_t *at)
{
    uint64_t pending = 1;
    size_t i = *at;
    while (pending) {
        if (i >= n)
            return 0;
        unsigned b = p[i];
        uint64_t head = 1, body = 0, kids = 0;
        int lenb = 0;           /* bytes of a big-endian length or count after the type */
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
        } else if (b <= 0x8f) {
            kids = 2 * (uint64_t)(b & 0xf);
        } else if (b <= 0x9f) {
            kids = b & 0xf;
        } else if (b <= 0xbf) {
            body = b & 0x1f;
        } else if (b == 0xc1) {
            return -1;
        } else if (b >= 0xc4 && b <= 0xc6) {
            lenb = 1 << (b - 0xc4);
        } else if (b >= 0xc7 && b <= 0xc9) {
            lenb = 1 << (b - 0xc7);
            head = 2;           /* the ext type byte */
        } else if (b == 0xca || b == 0xcb) {
            head = b == 0xca ? 5 : 9;
        } else if (b >= 0xcc && b <= 0xd3) {
            head = 1 + (1u << ((b - 0xcc) & 3));
        } else if (b >= 0xd4 && b <= 0xd8) {
            head = 2 + (1u << (b - 0xd4));
        } else if (b >= 0xd9 && b <= 0xdb) {
            lenb = 1 << (b - 0xd9);
        } else if (b == 0xdc || b == 0xdd) {
            lenb = b == 0xdc ? 2 : 4;
        } else {                /* 0xde, 0xdf */
            lenb = b == 0xde ? 2 : 4;
        }
        if (lenb) {
            if (n - i < 1 + (size_t)lenb)
                return 0;
            uint64_t v = 0;
            for (int k = 0; k < lenb; k++)
                v = v << 8 | p[i + 1 + k];
            head += (uint64_t)lenb;
            if (b >= 0xdc && b <= 0xdd)
                kids = v;
            else if (b >= 0xde)
                kids = 2 * v;
            else
                body = v;
        }
        if (head + body > n - i)
            return 0;
        i += (size_t)(head + body);
        pending += kids - 1;
    }
    *at = i;
    return 1;
}

/* The next reply: 1 and its bytes, or 0 when the input is used up. */
static int fm_next(struct fm_server *s, const uint8_t **r, size_t *len)
{
    if (s->at >= s->n)
        return 0;
    size_t l = s->p[s->at];
    if (s->at + 1 < s->n)
        l |= (size_t)s->p[s->at + 1] << 8;
    s->at += 2;
    if (s->at > s->n)
        s->at = s->n;
    if (l > s->n - s->at)
        l = s->n - s->at;
    *r = s->p + s->at;
    *len = l;
    s->at += l;
    return 1;
}

/* The sent bytes of one connection and where their last whole object
   ended. */
struct fm_stream {
    uint8_t *b;
    size_t n, cap, boundary;
    bool broken;                /* malformed: the driver stops reading */
};

static void fm_append(struct fm_stream *t, const uint8_t *p, size_t len)
{
    if (t->n + len > t->cap) {
        t->cap = (t->n + len) * 2;
        t->b = realloc(t->b, t->cap);
        if (!t->b)
            abort();
    }
    memcpy(t->b + t->n, p, len);
    t->n += len;
}

/* The bytes sent end inside an object. */
static bool fm_mid_object(struct fm_stream *t)
{
    while (!t->broken && t->boundary < t->n) {
        int k = fm_skip(t->b, t->n, &t->boundary);
        if (k == 0)
            return true;
        if (k < 0)
            t->broken = true;
    }
    return false;
}

static void fm_send(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t k = send(fd, p, len, MSG_NOSIGNAL);
        if (k <= 0)
            return;             /* the driver has gone: what it read is what it got */
        p += k;
        len -= (size_t)k;
    }
}

/* Answer one request: 1 when the connection stays open. */
static int fm_answer(struct fm_server *s, int fd, struct fm_stream *t)
{
    const uint8_t *r;
    size_t len;
    pthread_mutex_lock(&s->mu);
    int more = fm_next(s, &r, &len);
    pthread_mutex_unlock(&s->mu);
    if (!more || !len)
        return 0;
    for (;;) {
        fm_send(fd, r, len);
        fm_append(t, r, len);
        if (!fm_mid_object(t))
            return 1;
        pthread_mutex_lock(&s->mu);
        more = fm_next(s, &r, &len);
        pthread_mutex_unlock(&s->mu);
        if (!more || !len)
            return 0;
    }
}

static char fm_letter(const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 5)
        return '?';
    const msgpack_object *a = o->via.array.ptr;
    if (a[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER && a[0].via.u64 == 1)
        return 'e';
    if (a[4].type != MSGPACK_OBJECT_MAP || a[4].via.map.size != 1 ||
        a[4].via.map.ptr[0].key.type != MSGPACK_OBJECT_STR)
        return '?';
    const msgpack_object_str *k = &a[4].via.map.ptr[0].key.via.str;
    static const char *const cmds[] = { "are_you_real", "run_seq", "halt_and_reset", "direct" };
    for (int i = 0; i < 4; i++)
        if (k->size == strlen(cmds[i]) && !memcmp(k->ptr, cmds[i], k->size))
            return "arhd"[i];
    return '?';
}

/* Whether o is a reply the driver must take as the answer to request idx
   (runtime/driver/marcos.c's exchange: [128 or 129, idx + 1, _, _, map,
   map]); *major_ok: its version is the driver's major one. */
static bool fm_valid(const msgpack_object *o, uint64_t idx, bool *major_ok)
{
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 6)
        return false;
    const msgpack_object *a = o->via.array.ptr;
    *major_ok = a[3].type == MSGPACK_OBJECT_POSITIVE_INTEGER && (a[3].via.u64 >> 16) == 1;
    return a[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
           (a[0].via.u64 == 128 || a[0].via.u64 == 129) &&
           a[1].type == MSGPACK_OBJECT_POSITIVE_INTEGER && a[1].via.u64 == idx + 1 &&
           a[4].type == MSGPACK_OBJECT_MAP && a[5].type == MSGPACK_OBJECT_MAP;
}

/* Log what the replies sent on connection c were: how many of them, from
   the first on, answer the requests from index base on. Each is decoded
   once fm_skip found it whole, so msgpack-c allocates for its received
   bytes only. */
static void fm_judge(struct fm_server *s, int c, const struct fm_stream *t)
{
    uint64_t base = c == 0 ? 0 : 2;     /* the safe stop follows are_you_real and run_seq */
    msgpack_unpacked o;
    msgpack_unpacked_init(&o);
    size_t at = 0;
    for (int k = 0; k < FM_MAX_REQS; k++) {
        size_t start = at, off = 0;
        if (fm_skip(t->b, t->n, &at) != 1 ||
            msgpack_unpack_next(&o, (const char *)t->b + start, at - start, &off) !=
                MSGPACK_UNPACK_SUCCESS)
            break;
        bool major = false;
        if (!fm_valid(&o.data, base + (uint64_t)k, &major))
            break;
        if (c == 0 && k == 0)
            s->log.major_ok = major;
        s->log.valid[c]++;
    }
    msgpack_unpacked_destroy(&o);
}

/* Serve one connection until the driver closes it or the replies say so.
   The run being over does not end it: the driver has closed its end by
   then, and the requests it sent before are still to be read (and
   logged). A connection the driver leaves open hangs here, and the
   fuzzer reports the timeout. */
static void fm_conn(struct fm_server *s, int fd)
{
    /* a reply sent in pieces goes at once, not after the driver's delayed
       acknowledgement of the first */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    msgpack_unpacker u;
    if (!msgpack_unpacker_init(&u, 4096))
        abort();
    msgpack_unpacked req;
    msgpack_unpacked_init(&req);
    struct fm_stream t = { 0 };
    int c = s->log.conns < FM_MAX_CONNS ? s->log.conns : -1;
    s->log.conns++;
    for (int open = 1; open;) {
        struct pollfd pf = { fd, POLLIN, 0 };
        if (poll(&pf, 1, -1) < 0)
            continue;
        if (!msgpack_unpacker_reserve_buffer(&u, 4096))
            abort();
        ssize_t k = recv(fd, msgpack_unpacker_buffer(&u), 4096, 0);
        if (k <= 0)
            break;
        msgpack_unpacker_buffer_consumed(&u, (size_t)k);
        while (open && msgpack_unpacker_next(&u, &req) == MSGPACK_UNPACK_SUCCESS) {
            if (c >= 0) {
                size_t l = strlen(s->log.req[c]);
                if (l < FM_MAX_REQS)
                    s->log.req[c][l] = fm_letter(&req.data);
            }
            open = fm_answer(s, fd, &t);
        }
    }
    if (c >= 0)
        fm_judge(s, c, &t);
    free(t.b);
    msgpack_unpacked_destroy(&req);
    msgpack_unpacker_destroy(&u);
}

static void fm_accept_all(struct fm_server *s)
{
    for (int fd; (fd = accept(s->lfd, NULL, NULL)) >= 0;) {
        fm_conn(s, fd);
        close(fd);
    }
}

static void *fm_serve(void *arg)
{
    struct fm_server *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (s->served == s->gen)
            pthread_cond_wait(&s->cv, &s->mu);
        pthread_mutex_unlock(&s->mu);
        for (;;) {
            struct pollfd pf[2] = { { s->lfd, POLLIN, 0 }, { s->wake[0], POLLIN, 0 } };
            if (poll(pf, 2, -1) < 0)
                continue;
            /* every connection the run made is in the backlog by the time
               the wake-up comes (connect returned to the driver) */
            fm_accept_all(s);
            if (pf[1].revents)
                break;
        }
        char b;
        if (read(s->wake[0], &b, 1) != 1)
            abort();
        pthread_mutex_lock(&s->mu);
        s->served = s->gen;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
    return NULL;
}

static void fm_server_start(struct fm_server *s)
{
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(s->lfd, 16) != 0 || getsockname(s->lfd, (struct sockaddr *)&a, &al) != 0 ||
        pipe(s->wake) != 0) {
        perror("fuzz_marcos: the fake server");
        abort();
    }
    s->port = ntohs(a.sin_port);
    pthread_t th;
    if (pthread_create(&th, NULL, fm_serve, s) != 0)
        abort();
    pthread_detach(th);
}

/* --- the driver ------------------------------------------------------------ */

static struct system fm_sys;
static struct lbc_program *fm_prog;
static struct drv_ticket fm_ticket;
static char fm_uri[128];
static FILE *fm_null;           /* the driver's stderr during a run */
static FILE *fm_stderr;         /* the target's own */

static void fm_setup(void)
{
    const char *stdlib = fz_stdlib();
    struct diag_ctx d;
    diag_init(&d);
    if (system_resolve("marcos_lowfield", stdlib, &fm_sys, &d) != 0) {
        diag_print_all(&d, stderr, false);
        abort();
    }
    struct compile_opts o = { .path = "fuzz_marcos.psq", .stdlib_dir = stdlib, .sys = &fm_sys };
    fm_prog = compile_text(o.path, FM_SOURCE, strlen(FM_SOURCE), &o, &d);
    if (!fm_prog) {
        diag_print_all(&d, stderr, false);
        abort();
    }
    diag_fini(&d);
    drv_ticket_make(&fm_ticket, fm_prog, &fm_sys);
    fm_server_start(&fm_srv);
    /* the URI's timeout is every wait's slack: the server never stalls, so
       it is only reached when something is wrong */
    snprintf(fm_uri, sizeof fm_uri, "marcos://127.0.0.1:%d?timeout=0.1", fm_srv.port);
    fm_stderr = stderr;
    if (!getenv("FUZZ_DEBUG"))
        fm_null = fopen("/dev/null", "w");
}

struct fm_rx {
    int refuse_at;              /* the window the callback refuses; -1 none */
    size_t calls;
    bool refused;
};

static void fm_fail(const char *what, const struct drv_status *st)
{
    fprintf(fm_stderr, "fuzz_marcos: %s (complete %d, adcs %zu, safe_stopped %d, msg '%s')\n",
            what, st ? st->complete : -1, st ? st->adcs_received : 0,
            st ? st->safe_stopped : -1, st ? st->msg : "");
    for (int c = 0; c < fm_srv.log.conns && c < FM_MAX_CONNS; c++)
        fprintf(fm_stderr, "fuzz_marcos: connection %d: requests %s, %d valid replies\n", c,
                fm_srv.log.req[c], fm_srv.log.valid[c]);
    abort();
}

static int fm_sample(void *ctx, size_t index, uint32_t n, const float *iq)
{
    struct fm_rx *rx = ctx;
    if (index != rx->calls || index >= FM_NADC || n != fm_samples[index])
        fm_fail("a window out of order, out of range or not whole", NULL);
    for (uint32_t j = 0; j < 2 * n; j++)
        if (!isfinite(iq[j]))
            fm_fail("a sample is not finite", NULL);
    rx->calls++;
    if ((int)index == rx->refuse_at) {
        rx->refused = true;
        return 1;
    }
    return 0;
}

int fuzz_marcos_one(const uint8_t *data, size_t size)
{
    if (!fm_prog)
        fm_setup();
    struct fm_server *s = &fm_srv;
    unsigned opt = size ? data[0] : 0;
    pthread_mutex_lock(&s->mu);
    s->p = size ? data + 1 : data;
    s->n = size ? size - 1 : 0;
    s->at = 0;
    memset(&s->log, 0, sizeof s->log);
    s->gen++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);

    FILE *err = stderr;
    if (fm_null)
        stderr = fm_null;
    char e[512] = "";
    void *h = drv_marcos_ops.open(fm_uri, &fm_sys, e, sizeof e);
    struct drv_msgs msgs = { 0 };
    int prep = h ? drv_marcos_ops.prepare(h, fm_prog, &fm_ticket, &msgs) : -1;
    drv_msgs_fini(&msgs);
    struct fm_rx rx = { .refuse_at = (opt & 0x80) ? (int)((opt & 0x7f) % FM_NADC) : -1 };
    struct drv_status st;
    int rc = prep == 0 ? drv_marcos_ops.run(h, fm_sample, &rx, &st) : -1;
    if (h)
        drv_marcos_ops.close(h);
    stderr = err;
    if (prep != 0)
        fm_fail(h ? "the program does not prepare" : e, NULL);

    if (write(s->wake[1], "", 1) != 1)
        abort();
    pthread_mutex_lock(&s->mu);
    while (s->served != s->gen)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);

    const struct fm_log *lg = &s->log;
    if (getenv("FUZZ_DEBUG"))
        fprintf(fm_stderr, "fuzz_marcos: run %d: complete %d, adcs %zu, safe_stopped %d: %s\n",
                rc, st.complete, st.adcs_received, st.safe_stopped, st.msg);
    if ((rc == 0) != st.complete)
        fm_fail("run's return and st->complete disagree", &st);
    if (st.interrupted)
        fm_fail("interrupted, but nothing asked the run to stop", &st);
    if (st.adcs_received != rx.calls - rx.refused)
        fm_fail("st->adcs_received is not the windows delivered", &st);
    /* the server logs a request it read; one that came after the server
       closed the connection (its replies used up, the driver's next
       reply already buffered) is not logged */
    bool asked = lg->conns > 0 && lg->req[0][0] == 'a';
    if (st.complete) {
        if (rx.calls != FM_NADC || rx.refused || lg->conns != 1 || !asked ||
            lg->valid[0] < 2 || !lg->major_ok ||
            strspn(lg->req[0], "ar") != strlen(lg->req[0]) || strlen(lg->req[0]) > 2)
            fm_fail("a complete run that did not deliver every window of one run_seq", &st);
        return 1;
    }
    if (!st.msg[0])
        fm_fail("a failed run that does not say why", &st);
    if (rx.calls && !asked)
        fm_fail("samples delivered without are_you_real first", &st);
    bool sent = lg->conns > 0 && !strcmp(lg->req[0], "ar");
    if (sent && !rx.refused && lg->conns < 2)
        fm_fail("a failed run without the safe stop", &st);
    /* the callback's refusal needs no stop (the console is idle), unless
       the server reported an error too */
    if (rx.refused && lg->conns != 1 && !strstr(st.msg, "server error"))
        fm_fail("a safe stop after the callback's refusal", &st);
    if (sent && !(lg->valid[0] >= 1 && lg->major_ok))
        fm_fail("run_seq sent without a valid are_you_real reply of version 1", &st);
    if (st.safe_stopped) {
        int c = lg->conns - 1;
        if (c < 1 || c >= FM_MAX_CONNS || strcmp(lg->req[c], "hdddddddddde"))
            fm_fail("a safe stop acknowledged that was not sent whole", &st);
    }
    /* the safe stop's 12 replies all valid: the driver took each */
    if (lg->conns == 2 && (lg->valid[1] >= 12) != st.safe_stopped)
        fm_fail(st.safe_stopped ? "a safe stop acknowledged by an invalid reply"
                                : "a safe stop acknowledged whole but said to have failed", &st);
    return 0;
}

#ifndef LARMOR_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_marcos_one(data, size);
    return 0;
}
#endif
