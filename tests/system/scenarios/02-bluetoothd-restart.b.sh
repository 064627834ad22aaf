# SPDX-License-Identifier: MIT
# 02-bluetoothd-restart, host B (peripheral): while A is connected, kill
# bluetoothd with SIGKILL and start it again; the peripheral must register its
# agent, GATT application and advertisement again, and A must get back in.
stack_up
stage_mark
start_peripheral
stage peripheral
signal advertising
A=$(wait_peer addr 180)

wait_peer connected 180 >/dev/null
wait_for 10 "B's bluetoothd to see $A connected" dev_is "$A" Connected
old=$(pid_of bluetoothd)
stage_mark
stop bluetoothd KILL
signal killed
start_bluetoothd
new=$(pid_of bluetoothd)
log "bluetoothd restarted: pid $old -> $new"
stage bluetoothd-restart
wait_for 60 "the peripheral to register again with the new bluetoothd" \
    grep -q "REGISTERED 2" "$BR_OUT/peripheral.log"
stage re-register
signal restarted

wait_peer reconnected 120 >/dev/null
wait_for 10 "the new bluetoothd to see $A connected" dev_is "$A" Connected
reads=$(grep -c "GATT read $BR_GATT_PLAIN" "$BR_OUT/peripheral.log" || true)
[ "$reads" -ge 2 ] || fail "expected a read of $BR_GATT_PLAIN before and after the restart, peripheral.log shows $reads"
log "served $reads reads of $BR_GATT_PLAIN (before and after the restart)"
signal verified
wait_peer done 120 >/dev/null
