#!/bin/sh
# SPDX-License-Identifier: MIT
# meson install script: installs SOURCE as TARGET (an absolute path, or one
# relative to the install prefix) only if TARGET does not exist yet.  A
# configuration file an operator edits is never overwritten by a later
# `meson install`; the shipped defaults are always installed beside the
# documentation (DEFAULTS), so a new key can be looked up there.
#   install-if-absent.sh SOURCE TARGET DEFAULTS
set -eu
src=$1 target=$2 defaults=$3
case $target in /*) ;; *) target=$MESON_INSTALL_PREFIX/$target ;; esac
case $defaults in /*) ;; *) defaults=$MESON_INSTALL_PREFIX/$defaults ;; esac
dest=${DESTDIR:-}$target
if [ -e "$dest" ]; then
    echo "Keeping $dest (yours; the shipped defaults are in $defaults)" >&2
else
    mkdir -p "$(dirname "$dest")"
    install -m 0644 "$src" "$dest"
    echo "Installing $src to $dest" >&2
fi
