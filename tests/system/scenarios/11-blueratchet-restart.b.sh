# 11-blueratchet-restart, host B (peripheral); see the .a.sh.
source "$BR_REPO/tests/system/scenarios/lib-blueratchetd.sh"
br_daemon_up
wait_for 20 "B's daemon to register its advertisement" \
    grep -q "registered advertisement adapter=$HCI" "$BR_OUT/blueratchetd.log"
signal advertising
A=$(wait_peer addr 180)

# 1.
fp=$(wait_peer paired 120)
wait_for 10 "B's daemon to mint a session with $A (epoch 1)" br_minted "$A" 1
[ "$(br_fp_code "$(br_minted "$A" 1)")" = "$fp" ] || fail "A and B minted different sessions"
grep -q "pairing confirmed device=$(dev_path "$A")" "$BR_OUT/blueratchetd.log" \
    || fail "B's agent did not confirm the pairing"
grep -E "agent Request|pairing conf" "$BR_OUT/blueratchetd.log" | sed 's/^/    B: /'
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
    test "$(grep -c "registered gatt application adapter=$HCI" "$BR_OUT/blueratchetd.log")" -ge 2
wait_for 20 "B's daemon to register its advertisement again" \
    test "$(grep -c "registered advertisement adapter=$HCI" "$BR_OUT/blueratchetd.log")" -ge 2
wait_for 20 "B's daemon to register its agent again" \
    test "$(grep -c "registered agent" "$BR_OUT/blueratchetd.log")" -ge 2
log "re-registered $(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}') s after the new bluetoothd was on the bus and powered"
stage re-register
signal restarted
fp2=$(wait_peer resumed 120)
wait_for 10 "B's daemon to mint the resumed session (epoch 2)" br_minted "$A" 2
[ "$(br_fp_code "$(br_minted "$A" 2)")" = "$fp2" ] || fail "A and B minted different epoch 2 sessions"
signal resumed "$fp2"

# 3.
wait_peer plain-connected 90 >/dev/null
wait_for 45 "B's daemon to disconnect $A (no session)" \
    grep -q "no session within .* device=$A: disconnecting" "$BR_OUT/blueratchetd.log"
grep "no session within" "$BR_OUT/blueratchetd.log" | sed 's/^/    B: /'
wait_peer done 90 >/dev/null
signal done
