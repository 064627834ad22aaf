# SPDX-License-Identifier: MIT
# 02-bluetoothd-restart, host A (central): connect and read; host B's
# bluetoothd is killed (SIGKILL) while connected and started again; once it
# is back, A connects again and reads through the new bluetoothd.
stack_up
B=$(wait_peer addr 180)
btctl_start
wait_peer advertising 120 >/dev/null

stage_mark
scan_for "$B" 30
stage discover
btctl "connect $B"
wait_for 30 "Connected: yes for $B" dev_is "$B" Connected
stage connect
wait_for 30 "ServicesResolved: yes for $B" dev_is "$B" ServicesResolved
stage resolve
gatt_read "$BR_GATT_PLAIN" "$BR_GATT_PLAIN_VALUE" 20
stage read
signal connected

wait_peer killed 60 >/dev/null
stage_mark
if poll_for 20 dev_not "$B" Connected; then
    log "the link dropped after B's bluetoothd was killed"
else
    log "the link survived B's bluetoothd for 20 s; disconnecting from A"
    btctl "disconnect $B"
    wait_for 20 "Connected: no for $B" dev_not "$B" Connected
fi
stage link-down

wait_peer restarted 120 >/dev/null
stage_mark
scan_for "$B" 30
btctl "connect $B"
wait_for 30 "Connected: yes for $B (after B's bluetoothd restart)" dev_is "$B" Connected
stage reconnect
wait_for 30 "ServicesResolved: yes for $B (after restart)" dev_is "$B" ServicesResolved
gatt_read "$BR_GATT_PLAIN" "$BR_GATT_PLAIN_VALUE" 20
stage reread
signal reconnected
wait_peer verified 60 >/dev/null

btctl "disconnect $B"
wait_for 30 "Connected: no for $B" dev_not "$B" Connected
signal done
