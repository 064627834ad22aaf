#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make-initramfs.sh MODDIR RELEASE OUT [MODULE...] — build the testbed's tiny
# initramfs.  MODULEs are loaded too (tests/package/service adds virtio_blk
# and ext4 for a guest whose overlay's upper layer is a disk that outlives a
# reboot).
#
# Contents: busybox-static, the init script (lib/initramfs-init), and only the
# modules needed to reach the host's root over virtio-9p and lay a tmpfs
# overlay on it (with their dependencies, resolved from modules.dep and
# listed in load order in /modules.order).  Everything else (bluetooth
# modules, bluez, dbus, bash) comes from the host root or the bind-mounted
# module tree inside the guest.  Built with `busybox cpio` (the host has no
# cpio); written to OUT (gzip).  Takes well under a second.
set -euo pipefail
moddir=${1:?MODDIR}; release=${2:?RELEASE}; out=${3:?OUT}; shift 3
here=$(cd "$(dirname "$0")" && pwd)
busybox=$(command -v busybox)

want=(virtio_pci 9pnet_virtio 9p overlay "$@")

declare -A seen=()
order=()
resolve() {  # depth-first: dependencies first
    local mod=$1 path deps d
    path=$(awk -v m="$mod" -F: '{n=$1; sub(/.*\//,"",n); sub(/\.ko(\..*)?$/,"",n); gsub(/-/,"_",n)}
                                n==m {print $1; exit}' "$moddir/modules.dep")
    [ -n "$path" ] || { grep -qE "/$mod\.ko" "$moddir/modules.builtin" && return 0; echo "make-initramfs: no module $mod" >&2; exit 1; }
    [ -z "${seen[$path]:-}" ] || return 0
    seen[$path]=1
    deps=$(awk -v p="$path" -F': *' '$1==p {print $2; exit}' "$moddir/modules.dep")
    for d in $deps; do
        d=${d##*/}; d=${d%%.ko*}; d=${d//-/_}
        resolve "$d"
    done
    order+=("$path")
}
for m in "${want[@]}"; do resolve "$m"; done

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,newroot,lower,upper,mods}
cp "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
cp "$here/initramfs-init" "$stage/init"
chmod 755 "$stage/init"
: > "$stage/modules.order"
for p in "${order[@]}"; do
    cp "$moddir/$p" "$stage/mods/"
    echo "${p##*/}" >> "$stage/modules.order"
done
echo "$release" > "$stage/release"
(cd "$stage" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc 2>/dev/null) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
