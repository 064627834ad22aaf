#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# prepare-kernel.sh DIR — make Debian's own kernel available to the testbed.
#
# Downloads the current linux-image-<abi>-amd64 .deb with `apt-get download`
# (never installs it), unpacks it with `dpkg -x` and runs depmod on the tree.
# Everything is cached under DIR/kernel/<package>/, so later runs reuse it and
# need no network.  Prints the kernel release (e.g. 6.1.0-56-amd64) on stdout;
# the caller finds vmlinuz at DIR/kernel/<package>/root/boot/vmlinuz-<release>
# and the modules at DIR/kernel/<package>/root/lib/modules/<release>.
set -euo pipefail
dir=${1:?usage: prepare-kernel.sh DIR}
kdir=$dir/kernel
mkdir -p "$kdir"

log() { echo "prepare-kernel: $*" >&2; }

# Which ABI package does the metapackage point at?  (apt-cache reads the
# local package lists; on a machine where they are missing or stale, one
# `apt-get update` refreshes them.)
resolve() {
    apt-cache depends linux-image-amd64 2>/dev/null \
        | awk '/Depends: linux-image-[0-9]/ {print $2; exit}' || true
}
updated=0
pkg=$(resolve)
if [ -z "$pkg" ]; then
    log "apt cannot resolve linux-image-amd64; running apt-get update"
    apt-get update -qq >&2 || log "apt-get update failed"
    updated=1
    pkg=$(resolve)
fi
if [ -z "$pkg" ]; then
    # Offline: use whatever was cached last.
    pkg=$(ls -1 "$kdir" 2>/dev/null | grep '^linux-image-' | grep -v '\.tmp$' | sort -V | tail -1) || true
    [ -n "$pkg" ] && [ -f "$kdir/$pkg/.ready" ] || { log "cannot resolve linux-image-amd64 and nothing is cached"; exit 1; }
    log "using cached $pkg"
fi
release=${pkg#linux-image-}
out=$kdir/$pkg

if [ -f "$out/.ready" ]; then
    echo "$release"
    exit 0
fi

rm -rf "$out.tmp"
mkdir -p "$out.tmp"
log "downloading $pkg (about 70 MB, once; cached in $out)"
# apt-get download writes into the current directory.  If the lists were
# stale (the file is gone from the mirror), refresh them once, resolve the
# package again and retry.
if ! (cd "$out.tmp" && apt-get download -q "$pkg" >&2); then
    [ "$updated" = 0 ] || { log "download of $pkg failed"; exit 1; }
    log "download failed; running apt-get update and retrying"
    apt-get update -qq >&2
    new=$(resolve)
    if [ -n "$new" ] && [ "$new" != "$pkg" ]; then
        rm -rf "$out.tmp"
        exec "$0" "$@"   # the ABI moved on: start over with the new package
    fi
    (cd "$out.tmp" && apt-get download -q "$pkg" >&2)
fi
deb=$(ls "$out.tmp"/*.deb)
log "unpacking $(basename "$deb")"
dpkg -x "$deb" "$out.tmp/root"
# The .deb ships no modules.dep; build it for the guest's modprobe.
depmod -b "$out.tmp/root" "$release"
[ -f "$out.tmp/root/boot/vmlinuz-$release" ] || { log "no vmlinuz-$release in $deb"; exit 1; }
touch "$out.tmp/.ready"
rm -rf "$out"
mv "$out.tmp" "$out"
for old in "$kdir"/linux-image-*; do   # an older ABI's tree (~470 MB) is dead weight now
    [ "$old" = "$out" ] || { log "removing superseded $(basename "$old")"; rm -rf "$old"; }
done
log "kernel $release ready"
echo "$release"
