# SPDX-License-Identifier: MIT
# 01-pair-plain, host B (peripheral): advertise a GATT service, accept the
# pairing (numeric comparison) and check the bond from this side.
stack_up
stage_mark
start_peripheral
stage peripheral
signal advertising
A=$(wait_peer addr 180)

passkey=$(wait_peer paired 180)
grep -q "AGENT confirm .* $passkey" "$BR_OUT/peripheral.log" \
    || fail "B's agent was not asked to confirm passkey $passkey (see peripheral.log)"
log "B's agent confirmed the same passkey $passkey"
wait_for 10 "Paired: yes for $A on B" dev_is "$A" Paired
wait_for 10 "Bonded: yes for $A on B" dev_is "$A" Bonded
btctl_once info "$A" | grep -E 'Device|Paired|Bonded|Trusted' | sed 's/^/    info: /' || true

info=/var/lib/bluetooth/$BR_ADDR/$A/info
wait_for 10 "the bond in $info" test -s "$info"
grep -A6 -E '^\[(LongTermKey|PeripheralLongTermKey|SlaveLongTermKey)\]' "$info" | sed 's/^/    bond: /'
grep -q '^Authenticated=[1-9]' "$info" || fail "the stored LTK is not authenticated (see var-lib-bluetooth/)"

wait_peer done 120 >/dev/null
btmon_decode
expect_btmon 'SMP: Pairing Request' "the SMP Pairing Request"
expect_btmon 'SMP: Pairing DHKey Check' "the LE SC DHKey check"
grep -q "GATT read $BR_GATT_SECRET" "$BR_OUT/peripheral.log" || fail "the peripheral never served a read of $BR_GATT_SECRET"
