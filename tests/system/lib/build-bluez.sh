#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# build-bluez.sh TARBALL OUTDIR — builds bluetoothd, bluetoothctl, btmon,
# btmgmt and btvirt of the BlueZ release in TARBALL (a `git archive` of an
# upstream tag, as ../shared/third_party/bluez/bluez-5.87.tar.xz) under
# OUTDIR, never in the source tree; prints OUTDIR/bin.  Built once: a later
# call with the same tarball (by sha256) reuses OUTDIR/bin.
#
# Called by tests/system/matrix (issue #14: the system tier against BlueZ
# 5.66 and 5.87).  Measured here (2 cores): bootstrap + configure 9 s, the
# build 54 s.  Needs autoconf automake libtool libglib2.0-dev libdbus-1-dev
# libudev-dev libical-dev libreadline-dev (Debian 12; scripts/install-deps
# test installs them).
# BlueZ is GPL-2.0; these programs run in the testbed's guests only and
# nothing of BlueZ is linked into blueratchet.
set -euo pipefail
tarball=$(realpath "$1")
out=$(realpath -m "$2")  # absolute: the build runs in $out/src
need=(autoconf automake libtool libglib2.0-dev libdbus-1-dev libudev-dev libical-dev libreadline-dev)
missing=()
for p in "${need[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "build-bluez: missing Debian packages: ${missing[*]}" >&2
    exit 1
fi
sum=$(sha256sum "$tarball" | cut -d' ' -f1)
if [ -f "$out/bin/.sha256" ] && [ "$(cat "$out/bin/.sha256")" = "$sum" ]; then
    echo "$out/bin"
    exit 0
fi
rm -rf "$out"
mkdir -p "$out/src" "$out/bin"
tar -xJf "$tarball" -C "$out/src" --strip-components=1
cd "$out/src"
{
    ./bootstrap
    # Only what the testbed runs: the daemon with its GATT and LE support,
    # the tools, and btvirt (--enable-testing); no audio, OBEX, mesh, HID.
    ./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var --disable-manpages \
        --disable-cups --disable-obex --disable-mesh --disable-midi --disable-a2dp \
        --disable-avrcp --disable-network --disable-hid --disable-hog \
        --enable-tools --enable-testing --enable-experimental
    make -j "$(nproc)"
} > "$out/build.log" 2>&1 || { tail -n 30 "$out/build.log" >&2; echo "build-bluez: failed ($out/build.log)" >&2; exit 1; }
cp src/bluetoothd client/bluetoothctl monitor/btmon tools/btmgmt emulator/btvirt "$out/bin/"
echo "$sum" > "$out/bin/.sha256"
echo "$out/bin"
