#!/usr/bin/env python3
"""campaign.py: the campaign tables of docs/reliability.md from run.sh's logs.

    tests/fuzz/campaign.py [--since YYYY-MM-DD] FILE.tsv...

Each FILE is a campaign.tsv that tests/fuzz/run.sh appended to (one line per
target run: UTC date, commit, target, seconds, execs, execs/s, cov, ft,
corpus files, findings, peak RSS in MB). Prints two Markdown tables: the
runs (oldest first), and per target the seconds, executions, the highest
coverage and the findings of those runs. Lines older than --since are left
out. Nothing is written: paste the output into docs/reliability.md.
"""
import argparse
import collections
import sys


def num(s):
    """An integer column, or None where run.sh printed '?'."""
    try:
        return int(s)
    except ValueError:
        return None


def fmt(v):
    return "?" if v is None else f"{v:,}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--since", default="", help="first UTC date to include (YYYY-MM-DD)")
    ap.add_argument("files", nargs="+", help="campaign.tsv files")
    args = ap.parse_args()

    rows = []
    for path in args.files:
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                cols = line.rstrip("\n").split("\t")
                if len(cols) != 11:
                    sys.exit(f"{path}:{lineno}: {len(cols)} columns, expected 11")
                if cols[0] >= args.since:
                    rows.append(cols)
    rows.sort(key=lambda c: c[0])

    print("| UTC | commit | target | s | execs | execs/s | cov | ft | corpus | findings | peak MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for c in rows:
        print(f"| {c[0]} | {c[1]} | `{c[2]}` | {c[3]} | {fmt(num(c[4]))} | {c[5]} | {c[6]} "
              f"| {c[7]} | {c[8]} | {c[9]} | {c[10]} |")

    tot = collections.OrderedDict()
    for c in sorted(rows, key=lambda c: c[2]):
        t = tot.setdefault(c[2], {"s": 0, "execs": 0, "cov": 0, "find": 0, "runs": 0})
        t["runs"] += 1
        t["s"] += num(c[3]) or 0
        t["execs"] += num(c[4]) or 0
        t["cov"] = max(t["cov"], num(c[6]) or 0)
        t["find"] += num(c[9]) or 0
    print()
    print("| target | runs | seconds | executions | highest cov | findings |")
    print("|---|---|---|---|---|---|")
    for name, t in tot.items():
        print(f"| `{name}` | {t['runs']} | {t['s']:,} | {t['execs']:,} | {t['cov']:,} "
              f"| {t['find']} |")


if __name__ == "__main__":
    main()
