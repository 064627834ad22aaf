# SPDX-License-Identifier: MIT
# 90-broken-missing-char, host B: the usual stand-in peripheral (see the .a.sh).
stack_up
start_peripheral
signal advertising
wait_peer done 180 >/dev/null
