#!/bin/sh
# outfaults.sh: output faults never lose data (issue 24), run by `make check`.
# What the golden cases (tests/golden/cli/out_*) cannot show, because it
# needs files set up first or a signal: a failed write leaves an existing
# file as it was and no temporary behind; a full disk (a small tmpfs) or a
# read-only folder gets a clear error and exit 1; SIGINT or SIGTERM during
# `larmor scan` keeps a valid raw file under its name, marked incomplete,
# that `larmor recon` reads and notes.
#
# The full-disk and read-only cases mount a tmpfs in a private mount
# namespace (`unshare -rm`, no real privilege needed); where unshare or the
# mount is refused they are skipped and said so. chmod 0555 is tried only
# when not running as root (root ignores the mode); the read-only remount
# covers the same case as root too.
#
# top_srcdir and top_builddir default to this script's parent folder.

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(dirname "$here")}"
: "${top_builddir:=$(dirname "$here")}"
LARMOR="$top_builddir/larmor"
SEQ="$top_srcdir/sequences/spin_echo.psq"
export NO_COLOR=1
unset LARMOR_STDLIB

pass=0
fail=0
skip=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: outfaults: $*"; fail=$((fail + 1)); }
skipped() { echo "outfaults: skipped: $*"; skip=$((skip + 1)); }

# expect NAME STATUS TEXT CMD...: CMD exits STATUS and its stderr holds TEXT.
expect() {
    name=$1 want=$2 text=$3
    shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" != "$want" ]; then
        bad "$name: exit $got, expected $want"; cat "$tmp/err"
    elif ! grep -qF -- "$text" "$tmp/err"; then
        bad "$name: stderr lacks '$text'"; cat "$tmp/err"
    else
        ok
    fi
}

# no_tmp NAME DIR: no temporary (NAME.tmp-PID-N) left in DIR.
no_tmp() {
    if ls "$2" | grep -q '\.tmp-'; then
        bad "$1: a temporary file was left in $2: $(ls "$2" | tr '\n' ' ')"
    else
        ok
    fi
}

# same NAME FILE COPY: FILE is byte for byte its saved COPY.
same() {
    if cmp -s "$2" "$3"; then ok; else bad "$1: $2 was changed or removed"; fi
}

# ismrmrd_leak CMD...: CMD run with libismrmrd's leak on a failed append
# suppressed (tests/lsan-ismrmrd.supp says which); nothing else is.
ismrmrd_leak() {
    LSAN_OPTIONS="suppressions=$here/lsan-ismrmrd.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" "$@"
}

# ---- in a private mount namespace: a full tmpfs and a read-only one ----
if [ "$1" = --inside ]; then
    tmp=$2
    mnt="$tmp/mnt"
    mkdir -p "$mnt"
    mount -t tmpfs -o size=256k tmpfs "$mnt" || exit 77
    # a good .lbc and raw file there, then fill the disk to the last bytes
    "$LARMOR" compile "$SEQ" -o "$mnt/se.lbc" || exit 1
    cp "$mnt/se.lbc" "$tmp/se.lbc.orig"
    "$LARMOR" simulate "$SEQ" -D matrix=16 -D tr=50ms --quiet -o "$mnt/raw.h5" || exit 1
    cp "$mnt/raw.h5" "$tmp/raw.h5.orig"
    dd if=/dev/zero of="$mnt/filler" bs=1k count=1024 2>/dev/null
    expect "compile over a file on a full disk" 1 "No space left on device" \
        "$LARMOR" compile "$SEQ" -D matrix=64 -o "$mnt/se.lbc"
    grep -qF "the file already there was left as it was" "$tmp/err" ||
        bad "compile on a full disk: the message does not say the old file is kept"
    same "compile on a full disk" "$mnt/se.lbc" "$tmp/se.lbc.orig"
    expect "simulate over a raw file on a full disk" 1 "No space left on device" \
        ismrmrd_leak "$LARMOR" simulate "$SEQ" --quiet -o "$mnt/raw.h5"
    same "simulate on a full disk" "$mnt/raw.h5" "$tmp/raw.h5.orig"
    no_tmp "full disk" "$mnt"
    # a scan into a folder on a full disk: check.txt may fit, raw.h5 does not
    rm -f "$mnt/filler"
    dd if=/dev/zero of="$mnt/filler" bs=1k count=120 2>/dev/null
    expect "scan into a full disk" 1 "so it was removed" \
        ismrmrd_leak "$LARMOR" scan "$SEQ" -o "$mnt/scan"
    [ ! -e "$mnt/scan/raw.h5" ] || bad "scan on a full disk: raw.h5 exists"
    no_tmp "scan on a full disk" "$mnt/scan"
    # read-only: the existing file stays, the error names the file system
    rm -f "$mnt/filler"
    mount -o remount,ro "$mnt" || exit 77
    expect "compile into a read-only folder" 1 "Read-only file system" \
        "$LARMOR" compile "$SEQ" -o "$mnt/se.lbc"
    same "compile into a read-only folder" "$mnt/se.lbc" "$tmp/se.lbc.orig"
    expect "plot into a read-only folder" 1 "Read-only file system" \
        "$LARMOR" plot "$SEQ" -o "$mnt/se.png"
    expect "recon into a read-only folder" 1 "Read-only file system" \
        "$LARMOR" recon "$mnt/raw.h5" -o "$mnt/img"
    echo "$pass $fail" >"$tmp/inside"
    exit 0
fi

cd "$top_srcdir" || exit 1
[ -x "$LARMOR" ] || { echo "outfaults.sh: $LARMOR not built" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/outfaults.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# ---- a write that fails keeps what was there: a device that is full ----
"$LARMOR" compile "$SEQ" -o "$tmp/se.lbc" || bad "compile to a fresh file failed"
cp "$tmp/se.lbc" "$tmp/se.lbc.orig"
ln -s /dev/full "$tmp/full.png"
expect "plot through a link to /dev/full" 1 "No space left on device" \
    "$LARMOR" plot "$SEQ" -o "$tmp/full.png"
ln -s /dev/full "$tmp/full.nii"
"$LARMOR" simulate "$SEQ" -D matrix=16 -D tr=50ms --quiet -o "$tmp/raw.h5" ||
    bad "simulate to a fresh file failed"
expect "recon to a link to /dev/full" 1 "No space left on device" \
    "$LARMOR" recon "$tmp/raw.h5" -o "$tmp/full.nii"
expect "recon into a file as folder" 1 "is a file, not a folder" \
    "$LARMOR" recon "$tmp/raw.h5" -o "$tmp/se.lbc/img"
expect "recon into a file" 1 "exists and is not a folder" \
    "$LARMOR" recon "$tmp/raw.h5" -o "$tmp/se.lbc"
same "recon into a file" "$tmp/se.lbc" "$tmp/se.lbc.orig"
# standard output that cannot be written: a listing to a full device
expect_stdout_full() {
    name=$1
    shift
    "$@" >/dev/full 2>"$tmp/err"
    got=$?
    if [ "$got" != 1 ]; then
        bad "$name: exit $got, expected 1"; cat "$tmp/err"
    elif ! grep -qF "standard output: cannot write" "$tmp/err"; then
        bad "$name: stderr lacks 'standard output: cannot write'"; cat "$tmp/err"
    else
        ok
    fi
}
expect_stdout_full "disasm to a full stdout" "$LARMOR" disasm "$SEQ"
expect_stdout_full "trace to a full stdout" "$LARMOR" trace "$SEQ"
# a successful rewrite replaces the file and keeps its mode
chmod 0640 "$tmp/se.lbc"
"$LARMOR" compile "$SEQ" -D matrix=64 -o "$tmp/se.lbc" || bad "compile over a file failed"
cmp -s "$tmp/se.lbc" "$tmp/se.lbc.orig" && bad "compile over a file: it was not replaced"
[ "$(stat -c %a "$tmp/se.lbc")" = 640 ] || bad "compile over a file: mode not kept"
# through a link: the file it names is replaced, the link stays
ln -s se.lbc "$tmp/link.lbc"
"$LARMOR" compile "$SEQ" -o "$tmp/link.lbc" || bad "compile through a link failed"
[ -L "$tmp/link.lbc" ] || bad "compile through a link: the link was replaced"
same "compile through a link" "$tmp/se.lbc" "$tmp/se.lbc.orig"
no_tmp "device and link cases" "$tmp"

# ---- a folder without write permission (not as root: root ignores it) ----
if [ "$(id -u)" = 0 ]; then
    skipped "chmod 0555 folder (running as root, where permissions do not bite; the read-only mount below covers it)"
else
    mkdir "$tmp/ro"
    cp "$tmp/se.lbc.orig" "$tmp/ro/se.lbc"
    chmod 0555 "$tmp/ro"
    expect "compile into a 0555 folder" 1 "Permission denied" \
        "$LARMOR" compile "$SEQ" -o "$tmp/ro/se.lbc"
    same "compile into a 0555 folder" "$tmp/ro/se.lbc" "$tmp/se.lbc.orig"
    chmod 0755 "$tmp/ro"
fi

# ---- a full disk and a read-only file system (a private tmpfs) ----
if command -v unshare >/dev/null 2>&1 &&
    unshare -rm sh -c 'mount -t tmpfs -o size=64k tmpfs "$1"' sh "$tmp" 2>/dev/null; then
    unshare -rm sh "$0" --inside "$tmp"
    st=$?
    if [ "$st" = 77 ]; then
        skipped "full disk / read-only tmpfs (the mount was refused)"
    elif [ "$st" != 0 ] || [ ! -f "$tmp/inside" ]; then
        bad "the tmpfs cases did not run through (exit $st)"
    else
        read -r p f <"$tmp/inside"
        pass=$((pass + p))
        fail=$((fail + f))
    fi
else
    skipped "full disk / read-only tmpfs (unshare -rm or a tmpfs mount is not available)"
fi

# ---- SIGINT and SIGTERM mid-scan ----
# stop_scan SIGNAL STATUS: a scan signalled once its raw file is being
# written exits STATUS and leaves raw.h5 valid, marked, and read by recon.
stop_scan() {
    d="$tmp/scan_$1"
    "$LARMOR" scan "$SEQ" -D slices=4 --spins 4 -o "$d" --threads 1 >"$tmp/scan.out" 2>"$tmp/scan.err" &
    pid=$!
    i=0
    while [ $i -lt 600 ] && ! ls "$d" 2>/dev/null | grep -q '^raw\.h5\.tmp-'; do
        sleep 0.1
        i=$((i + 1))
    done
    [ -e "$d/raw.h5" ] && bad "scan $1: raw.h5 under its name while it is written"
    sleep 0.5
    kill "-$1" "$pid"
    wait "$pid"
    got=$?
    [ "$got" = "$2" ] || { bad "scan $1: exit $got, expected $2"; cat "$tmp/scan.err"; }
    grep -qF "stopped by SIG$1" "$tmp/scan.err" || bad "scan $1: no message saying so"
    grep -qF "acquisitions simulated so far" "$tmp/scan.err" ||
        bad "scan $1: the message does not say how many acquisitions were kept"
    no_tmp "scan $1" "$d"
    expect "recon after $1" 0 "is marked incomplete (larmor_incomplete = 1)" \
        "$LARMOR" recon "$d/raw.h5" -o "$d/img"
    ls "$d/img/"image*.png >/dev/null 2>&1 || bad "recon after $1: no image"
}
stop_scan INT 130
stop_scan TERM 143

echo "outfaults: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
