#!/bin/sh
# SPDX-License-Identifier: MIT
# One man page from its scdoc source, for docs/man/meson.build:
#   scdoc.sh SCDOC VERSION DATADIR PLUGINDIR COMPLETIONSDIR < page.scd > page
# 1. @VERSION@, @DATADIR@, @PLUGINDIR@ and @COMPLETIONSDIR@ become this
#    build's values, so the pages name the files where this build installs
#    them.
# 2. scdoc (1.11) writes the page.
# 3. The paragraph macros scdoc puts where they do nothing (".P" right after
#    a section header, or right before one, another ".P" or the end) are
#    dropped, and one right before ".RE" moves after it: mandoc -Tlint warns about each, and the page must
#    lint clean (meson test man-pages) so that a real warning is seen.
set -eu
scdoc=$1 version=$2 datadir=$3 plugindir=$4 completionsdir=$5
sed -e "s|@VERSION@|$version|g" -e "s|@DATADIR@|$datadir|g" \
    -e "s|@PLUGINDIR@|$plugindir|g" -e "s|@COMPLETIONSDIR@|$completionsdir|g" |
"$scdoc" |
awk '
{ line[NR] = $0 }
END {
    # ".P" then ".RE": the paragraph break goes after the block instead.
    for (i = NR - 1; i >= 1; i--)
        for (j = i; j < NR && line[j] == ".P" && line[j + 1] == ".RE"; j++) {
            line[j] = ".RE"
            line[j + 1] = ".P"
        }
    kept = ""
    for (i = 1; i <= NR; i++) {
        if (line[i] == ".P") {
            if (kept ~ /^\.(SH|SS|TH|P)( |$)/) continue
            if (i == NR || line[i + 1] ~ /^\.(SH|SS|P)( |$)/) continue
        }
        print line[i]
        kept = line[i]
    }
}'
