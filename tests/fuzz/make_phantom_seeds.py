#!/usr/bin/env python3
"""make_phantom_seeds.py: write the HDF5 seeds of tests/fuzz_phantom.c into
tests/fuzz/phantom-seed/: programs (the operation list that the target's
header comment describes) that build a JEMRIS sample and KomaMRI phantoms in
both layouts KomaMRIFiles has written (a dataset per property; a group per
property with "values" and a "type"), one with a motion group. The YAML
seeds are the golden phantoms (tests/fuzz/run.sh adds them). Run from the
repository root: python3 tests/fuzz/make_phantom_seeds.py"""
import math
import os
import struct

# the target's fp_paths and fp_names, by index
PATHS = ["/", "/sample", "/sample/data", "/sample/resolution", "/sample/offset",
         "/position", "/position/x", "/position/y", "/position/z",
         "/contrast", "/contrast/\u03c1", "/contrast/T1", "/contrast/T2", "/contrast/T2s",
         "/contrast/\u0394w", "/contrast/D\u03bb1", "/contrast/D\u03bb2",
         "/contrast/D\u03b8", "/motion",
         "/position/x/values", "/position/y/values", "/position/z/values",
         "/contrast/\u03c1/values", "/contrast/T1/values", "/contrast/T2/values",
         "/contrast/T2s/values", "/contrast/\u0394w/values", "/contrast/T1/table",
         "/contrast/\u03c1/table", "/contrast/T2/table", "/motion/types"]
NAMES = ["Ns", "Dims", "Version", "Name", "type", "model"]


def dataset(path, dims, values):
    b = bytes([0, PATHS.index(path), len(dims) - 1]) + bytes(dims)
    return b + b"".join(struct.pack("<d", v) for v in values)


def attr_int(path, name, v):
    return bytes([1, PATHS.index(path), NAMES.index(name)]) + struct.pack("<q", v)


def attr_str(path, name, s):
    return bytes([2, PATHS.index(path), NAMES.index(name)]) + s.encode() + b"\0"


def group(path):
    return bytes([3, PATHS.index(path)])


def jemris():
    # (Nz, Ny, Nx, P) = (1, 4, 4, 5): M0, R1 (1/ms), R2, R2*, DB (rad/ms)
    vals = []
    for y in range(4):
        for x in range(4):
            inside = 1 <= x <= 2 and 1 <= y <= 2
            vals += [1.0 if inside else 0.0, 1 / 800, 1 / 80, 1 / 60, 0.0]
    return (bytes([1]) + dataset("/sample/data", [1, 4, 4, 5], vals) +
            dataset("/sample/resolution", [3], [2.0, 2.0, 5.0]) +
            dataset("/sample/offset", [3], [0.0, 0.0, 0.0]))


def koma_spins(n=6):
    xs = [0.01 * math.cos(2 * math.pi * i / n) for i in range(n)]
    ys = [0.01 * math.sin(2 * math.pi * i / n) for i in range(n)]
    return n, xs, ys


def koma_new(motion=False):
    n, xs, ys = koma_spins()
    b = (bytes([2]) + attr_str("/", "Version", "0.9.0") + attr_str("/", "Name", "ring") +
         attr_int("/", "Ns", n) + attr_int("/", "Dims", 2) +
         dataset("/position/x", [n], xs) + dataset("/position/y", [n], ys) +
         dataset("/position/z", [n], [0.0] * n) +
         dataset("/contrast/\u03c1", [n], [1.0] * n) +
         dataset("/contrast/T1", [n], [0.8] * n) + dataset("/contrast/T2", [n], [0.08] * n) +
         dataset("/contrast/T2s", [n], [0.05] * n) +
         dataset("/contrast/\u0394w", [n], [2 * math.pi * 10 * i for i in range(n)]) +
         dataset("/contrast/D\u03bb1", [n], [2e-9] * n) +
         dataset("/contrast/D\u03bb2", [n], [1e-9] * n))
    if motion:
        b += group("/motion") + dataset("/motion/types", [2], [1.0, 2.0])
    return b


def koma_old():
    n, xs, ys = koma_spins(4)
    b = bytes([2]) + attr_str("/", "Name", "old") + attr_int("/", "Ns", n)
    for path, v in (("/position/x/values", xs), ("/position/y/values", ys)):
        b += dataset(path, [n], v) + attr_str(path.rsplit("/", 1)[0], "type", "Explicit")
    b += group("/position/z") + attr_str("/position/z", "type", "Default")
    b += dataset("/contrast/\u03c1/values", [n], [1.0, 0.5, 1.0, 0.5])
    b += attr_str("/contrast/\u03c1", "type", "Explicit")
    b += dataset("/contrast/T1/values", [n], [1, 2, 1, 2])
    b += dataset("/contrast/T1/table", [2], [0.8, 1.2])
    b += attr_str("/contrast/T1", "type", "Indexed")
    b += dataset("/contrast/T2/values", [n], [0.08] * n)
    b += attr_str("/contrast/T2", "type", "Explicit")
    return b


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "phantom-seed")
    os.makedirs(out, exist_ok=True)
    for name, data in (("jemris-grid", jemris()), ("koma-0.9", koma_new()),
                       ("koma-motion", koma_new(True)), ("koma-old-layout", koma_old())):
        with open(os.path.join(out, name + ".seed"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
