# SPDX-License-Identifier: MIT
# 90-broken-missing-char, host A: DELIBERATELY BROKEN (run only when named or
# with BR_SYSTEM_BROKEN=1).  Connects like 01-pair-plain but reads a
# characteristic host B does not have; the verdict and the printed log tails
# must point at that read.
stack_up
B=$(wait_peer addr 180)
btctl_start
wait_peer advertising 120 >/dev/null
scan_for "$B" 30
btctl "connect $B"
wait_for 30 "Connected: yes for $B" dev_is "$B" Connected
wait_for 30 "ServicesResolved: yes for $B" dev_is "$B" ServicesResolved
gatt_read 6b1e00ff-5a1f-4c2e-9b7e-b1e00000000a "no-such-value" 20
signal done
