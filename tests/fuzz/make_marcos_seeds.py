#!/usr/bin/env python3
"""make_marcos_seeds: write the seeds of tests/fuzz_marcos.c into
tests/fuzz/marcos-seed/ (or the folder given): reply sequences of a fake
MaRCoS server, in the target's layout (an options byte, then each reply as
a 2-byte little-endian length and its msgpack bytes). The msgpack is
written by hand, with the standard library only, in the shapes
marcos_server sends (runtime/driver/marcos.c's header comment; the
emulator tests/marcos_emu.c): [128 (129 after an emergency stop),
request index + 1, 0, server version, {command: result}, {status}].

The program of the target has three ADC windows of 4, 6 and 2 samples
(12 in all). A seed named *.ok must give a complete run; one named *.fail
must be refused (tests/test_regress.c replays both). Not run by make:
    python3 tests/fuzz/make_marcos_seeds.py [DIR]
"""
import os
import struct
import sys

SAMPLES = 12
V105 = (1 << 16) | 5


def pack(o):
    """msgpack of o: None, bool, int, float, str, bytes, list, dict (in
    insertion order), each in its smallest encoding as msgpack-c writes it."""
    if o is None:
        return b"\xc0"
    if o is True:
        return b"\xc3"
    if o is False:
        return b"\xc2"
    if isinstance(o, int):
        if 0 <= o < 0x80:
            return bytes([o])
        if -32 <= o < 0:
            return struct.pack("b", o)
        if 0 <= o < 1 << 8:
            return b"\xcc" + struct.pack(">B", o)
        if 0 <= o < 1 << 16:
            return b"\xcd" + struct.pack(">H", o)
        if 0 <= o < 1 << 32:
            return b"\xce" + struct.pack(">I", o)
        if o >= 0:
            return b"\xcf" + struct.pack(">Q", o)
        if o >= -(1 << 7):
            return b"\xd0" + struct.pack(">b", o)
        if o >= -(1 << 15):
            return b"\xd1" + struct.pack(">h", o)
        if o >= -(1 << 31):
            return b"\xd2" + struct.pack(">i", o)
        return b"\xd3" + struct.pack(">q", o)
    if isinstance(o, float):
        return b"\xcb" + struct.pack(">d", o)
    if isinstance(o, str):
        b = o.encode()
        if len(b) < 32:
            return bytes([0xA0 | len(b)]) + b
        if len(b) < 1 << 8:
            return b"\xd9" + bytes([len(b)]) + b
        return b"\xda" + struct.pack(">H", len(b)) + b
    if isinstance(o, bytes):
        return b"\xc4" + bytes([len(o)]) + o
    if isinstance(o, list):
        n = len(o)
        head = bytes([0x90 | n]) if n < 16 else b"\xdc" + struct.pack(">H", n)
        return head + b"".join(pack(x) for x in o)
    if isinstance(o, dict):
        n = len(o)
        head = bytes([0x80 | n]) if n < 16 else b"\xde" + struct.pack(">H", n)
        return head + b"".join(pack(k) + pack(v) for k, v in o.items())
    raise TypeError(o)


def reply(idx, result, status=None, code=128, version=V105):
    """The reply to request idx (its index is idx + 1)."""
    return pack([code, idx + 1, 0, version, result, status or {}])


def rx(n, floats=False, extra=None):
    """run_seq's result: n samples of rx0_i and rx0_q, 32-bit two's
    complement words sent as unsigned (negative ones past 2^31)."""
    i = [(1000 * (k + 1)) & 0xFFFFFFFF for k in range(n)]
    q = [(-700 * (k + 1)) & 0xFFFFFFFF for k in range(n)]
    if floats:
        i = [float(1000 * (k + 1)) for k in range(n)]
        q = [float(-700 * (k + 1)) for k in range(n)]
    m = {"rx0_i": i, "rx0_q": q}
    if extra:
        m.update(extra)
    return {"run_seq": m}


def safe_stop(first=2):
    """The replies to the safe stop: halt_and_reset, 10 direct writes, the
    emergency stop (129), from request index first on."""
    r = [reply(first, {"halt_and_reset": 0})]
    r += [reply(first + 1 + k, {"direct": 0}) for k in range(10)]
    r.append(reply(first + 11, {}, {"warnings": ["emergency stop: outputs halted"]}, code=129))
    return r


def seed(replies, options=0):
    out = bytes([options])
    for r in replies:
        out += struct.pack("<H", len(r)) + r
    return out


REAL = reply(0, {"are_you_real": "hardware"})


def seeds():
    yield "complete.ok", seed([REAL, reply(1, rx(SAMPLES))])
    yield "simulation.ok", seed([reply(0, {"are_you_real": "simulation"}),
                                 reply(1, rx(SAMPLES, extra={"rx1_i": [], "rx1_q": []}))])
    yield "float-samples.ok", seed([REAL, reply(1, rx(SAMPLES, floats=True))])
    yield "extra-samples.ok", seed([REAL, reply(1, rx(SAMPLES + 5))])
    # another minor version: the server warns, the driver warns, the run goes on
    v115 = (1 << 16) | (1 << 8) | 5
    yield "minor-version.ok", seed([
        reply(0, {"are_you_real": "hardware"},
              {"warnings": ["Client version 1.0.5 different from server version 1.1.5"]},
              version=v115),
        reply(1, rx(SAMPLES), version=v115)])
    yield "warnings-infos.ok", seed([
        REAL, reply(1, rx(SAMPLES), {"warnings": ["RX FIFO nearly full"],
                                     "infos": ["run took 1 ms", "a second info"]})])
    # one reply split over two writes, and two replies in one
    whole = reply(1, rx(SAMPLES))
    yield "split.ok", seed([REAL, whole[:7], whole[7:]])
    yield "joined.ok", seed([REAL + reply(1, rx(SAMPLES))])

    # refusals
    yield "major-version.fail", seed([reply(0, {"are_you_real": "hardware"},
                                            version=(2 << 16))])
    yield "short-data.fail", seed([REAL, reply(1, rx(8))] + safe_stop())
    yield "no-data.fail", seed([REAL, reply(1, {"run_seq": {}})] + safe_stop())
    yield "server-error.fail", seed([
        REAL, reply(1, rx(6), {"errors": ["RX FIFO/s full: samples were lost"]})] + safe_stop())
    yield "error-full-data.fail", seed([
        REAL, reply(1, rx(SAMPLES), {"errors": ["ocra1 data was lost"],
                                     "warnings": ["and a warning"]})] + safe_stop())
    yield "wrong-index.fail", seed([REAL, reply(5, rx(SAMPLES))] + safe_stop())
    yield "not-a-reply.fail", seed([REAL, pack("this is not a MaRCoS reply")] + safe_stop())
    yield "dropped.fail", seed([REAL, b""] + safe_stop())
    yield "garbage.fail", seed([REAL, b"\xc1\x00"] + safe_stop())
    yield "no-safe-stop.fail", seed([REAL, reply(1, rx(8))])
    yield "safe-stop-half.fail", seed([REAL, reply(1, rx(8))] + safe_stop()[:4])
    yield "not-real.fail", seed([pack([128, 1, 0])])
    # values that are no 32-bit samples
    bad = rx(SAMPLES)
    bad["run_seq"]["rx0_q"][5] = "7"
    yield "string-sample.fail", seed([REAL, reply(1, bad)] + safe_stop())
    bad = rx(SAMPLES)
    bad["run_seq"]["rx0_i"][0] = 1 << 40
    yield "wide-sample.fail", seed([REAL, reply(1, bad)] + safe_stop())
    bad = rx(SAMPLES, floats=True)
    bad["run_seq"]["rx0_i"][11] = float("nan")
    yield "nan-sample.fail", seed([REAL, reply(1, bad)] + safe_stop())
    # errors in another shape are errors still
    yield "error-not-text.fail", seed([REAL, reply(1, rx(SAMPLES), {"errors": [7]})] +
                                      safe_stop())
    yield "errors-not-list.fail", seed([REAL, reply(1, rx(SAMPLES), {"errors": "boom"})] +
                                       safe_stop())
    yield "status-not-map.fail", seed([REAL, pack([128, 2, 0, V105, rx(SAMPLES), []])] +
                                      safe_stop())
    # a header claiming 2^32 - 1 elements: refused at once, nothing allocated
    # (the empty reply closes the connection, or the server would send the
    # safe stop's replies after it, the reply being unfinished)
    huge = (bytes([0x96]) + pack(128) + pack(2) + pack(0) + pack(V105) + b"\x81" +
            pack("run_seq") + b"\x82" + pack("rx0_i") + b"\xdd\xff\xff\xff\xff")
    yield "huge-array.fail", seed([REAL, huge, b""] + safe_stop())
    # the callback refuses window 1: no safe stop
    yield "callback-refuses.fail", seed([REAL, reply(1, rx(SAMPLES))], options=0x81)


def main():
    top = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(top, "marcos-seed")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
