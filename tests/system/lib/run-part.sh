#!/bin/bash
# SPDX-License-Identifier: MIT
# run-part.sh — runs this host's part of the scenario (started by
# guest-main.sh in its own session).  A command that fails unguarded ends the
# part with a FAIL verdict naming the command, file and line.
source "$BR_REPO/tests/system/lib/guest.sh"
script=$BR_REPO/tests/system/scenarios/$BR_SCENARIO.${BR_HOST,,}.sh
[ -f "$script" ] || fail "no scenario part $script"
set -eE
trap 'fail "command failed (status $?) at ${BASH_SOURCE[0]##*/}:$LINENO: $BASH_COMMAND"' ERR
source "$script"
pass
