# SPDX-License-Identifier: MIT
# 01-pair-plain, host A (central): plain BlueZ end to end.
# Scan with bluetoothctl, connect, pair (LE Secure Connections, numeric
# comparison confirmed on both sides), read a characteristic that needs an
# authenticated link, disconnect; check Paired/Bonded and the SMP exchange in
# btmon's capture.
stack_up
B=$(wait_peer addr 180)
btctl_start KeyboardDisplay
wait_peer advertising 120 >/dev/null

stage_mark
scan_for "$B" 30
stage discover

btctl "connect $B"
wait_for 30 "Connected: yes for $B" dev_is "$B" Connected
stage connect
wait_for 30 "ServicesResolved: yes for $B" dev_is "$B" ServicesResolved
stage resolve

btctl "pair $B"
btctl_expect "Confirm passkey [0-9]{6}" 30
passkey=$(btctl_match "Confirm passkey" | grep -oE '[0-9]{6}' | head -n1)
btctl "yes"
btctl_expect "Pairing successful" 30
stage pair
signal paired "$passkey"

wait_for 10 "Paired: yes for $B" dev_is "$B" Paired
wait_for 10 "Bonded: yes for $B" dev_is "$B" Bonded
btctl "info $B"
btctl_expect "Bonded: yes" 10
btctl_text | grep -E 'Name|Paired|Bonded|Connected|Trusted' | sed 's/^/    info: /'

stage_mark
gatt_read "$BR_GATT_SECRET" "$BR_GATT_SECRET_VALUE" 20
stage read

btctl "disconnect $B"
wait_for 30 "Connected: no for $B" dev_not "$B" Connected
stage disconnect

btmon_decode
expect_btmon 'SMP: Pairing Request' "the SMP Pairing Request"
expect_btmon 'SMP: Pairing Response' "the SMP Pairing Response"
expect_btmon 'SMP: Pairing Public Key' "the LE SC public key exchange"
expect_btmon 'SMP: Pairing Confirm' "the SMP Pairing Confirm"
expect_btmon 'SMP: Pairing Random' "the SMP Pairing Random"
expect_btmon 'SMP: Pairing DHKey Check' "the LE SC DHKey check"
expect_btmon 'Authentication requirement: Bonding, MITM, SC' "Bonding+MITM+SC in the pairing request"
signal done
