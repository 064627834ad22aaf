# SPDX-License-Identifier: MIT
# 11-blueratchet-restart, host B (peripheral); see the .a.sh.
source "$BR_REPO/tests/system/scenarios/lib-blueratchetd.sh"
BR_SESSION_CONF=$'Validity = 60\nOnExpiry = disconnect'
br_daemon_up
wait_for 20 "B's daemon to register its advertisement" \
    grep -q "registered advertisement adapter=$HCI" "$BR_OUT/blueratchetd.log"
signal advertising
A=$(wait_peer addr 180)

# 0. A pairs without blueratchet: B's agent defers, then rejects.
wait_peer refused 150 >/dev/null
wait_for 30 "B's daemon to reject the pairing of $A" \
    grep -q "pairing rejected device=$(dev_path "$A")" "$BR_OUT/blueratchetd.log"
grep -E "LE bond deferred|pairing rejected|handshake timeout|no session within" "$BR_OUT/blueratchetd.log" \
    | sed 's/^/    B: /'
grep -q "LE bond deferred device=$(dev_path "$A")" "$BR_OUT/blueratchetd.log" \
    || fail "B's agent did not defer A's RequestConfirmation"
# The deadline armed at the connection fires before the confirmation's own
# (armed later, at RequestConfirmation): no session, no service.
grep -q "no session within .* device=$A: disconnecting" "$BR_OUT/blueratchetd.log" \
    || fail "B's daemon did not disconnect $A for having no session"
if br_minted "$A" 1 > /dev/null; then fail "B minted a session with a central that has no blueratchetd"; fi
wait_for 30 "B to see $A disconnected" dev_not "$A" Connected
if dev_is "$A" Paired; then fail "B has $A as Paired after rejecting it"; fi
br_expect_no_session
signal refused-checked

# 1.
fp=$(wait_peer paired 180)
wait_for 10 "B's daemon to mint a session with $A (epoch 1)" br_minted "$A" 1
[ "$(br_fp_code "$(br_minted "$A" 1)")" = "$fp" ] || fail "A and B minted different sessions"
grep -q "pairing confirmed device=$(dev_path "$A")" "$BR_OUT/blueratchetd.log" \
    || fail "B's agent did not confirm the pairing"
grep -E "agent Request|LE bond|pairing conf" "$BR_OUT/blueratchetd.log" | sed 's/^/    B: /'
wait_for 10 "Paired: yes for $A on B" dev_is "$A" Paired

# 2. Kill bluetoothd while connected.
wait_for 20 "B's bluetoothd to see $A connected" dev_is "$A" Connected
stage_mark
stop bluetoothd KILL
signal killed
wait_for 5 "B's daemon to invalidate epoch 1 when bluetoothd vanished" br_invalidated "$A" 1
start_bluetoothd
t0=$(now)
wait_for 20 "B's daemon to register its GATT application again" \
    br_log_count_ge 2 "registered gatt application adapter=$HCI"
wait_for 20 "B's daemon to register its advertisement again" \
    br_log_count_ge 2 "registered advertisement adapter=$HCI"
wait_for 20 "B's daemon to register its agent again" \
    br_log_count_ge 2 "registered agent"
log "re-registered $(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}') s after the new bluetoothd was on the bus and powered"
stage re-register
signal restarted
fp2=$(wait_peer resumed 120)
wait_for 10 "B's daemon to mint the resumed session (epoch 2)" br_minted "$A" 2
[ "$(br_fp_code "$(br_minted "$A" 2)")" = "$fp2" ] || fail "A and B minted different epoch 2 sessions"
signal resumed "$fp2"

# 3. Expiry: B's link drops without anybody disconnecting.
wait_for 120 "the link to drop when epoch 2 expires (OnExpiry=disconnect)" dev_not "$A" Connected
reason=$(br_invalidated_any "$A" 2) || fail "B's epoch 2 was never invalidated"
log "B's epoch 2: reason=$reason; $(grep "session expired adapter=$HCI" "$BR_OUT/blueratchetd.log" | tail -n1)"
if [ "$reason" = Expired ]; then
    grep -q "session expired adapter=$HCI .*: disconnecting (OnExpiry=disconnect)" "$BR_OUT/blueratchetd.log" \
        || fail "B's epoch 2 expired but B's daemon did not log the OnExpiry=disconnect"
fi
br_expect_no_session
signal expired "$reason"

wait_peer done 120 >/dev/null
signal done
