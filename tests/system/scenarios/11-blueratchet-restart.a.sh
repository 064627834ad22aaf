# 11-blueratchet-restart, host A (central): the agent deferral, bluetoothd
# restart and the "no session, no service" deadline.
#  1. `pair` without connecting first: both agents get RequestConfirmation
#     before the blueratchet handshake has run; they defer it and confirm once
#     the session is minted on that connection (Pairing successful, epoch 1).
#  2. B's bluetoothd is killed while connected: both daemons invalidate; B's
#     daemon registers agent, GATT application and advertisement again with
#     the new bluetoothd; A reconnects and resumes (epoch 2).
#  3. A's daemon stops; A connects with plain bluetoothctl; B's daemon
#     disconnects A after HandshakeTimeout (no session, no service).
source "$BR_REPO/tests/system/scenarios/lib-blueratchetd.sh"
br_daemon_up
B=$(wait_peer addr 180)
btctl_start
btctl "agent off"
btctl_expect "Agent unregistered" 10
wait_peer advertising 120 >/dev/null
stage_mark
scan_for "$B" 30
stage discover

# 1. Pair first: the confirmation waits for the handshake.
btctl "pair $B"
btctl_expect "Pairing successful|Failed to pair" 60
btctl_has "Pairing successful" || fail "pairing failed: $(btctl_match 'Failed to pair')"
stage pair
wait_for 20 "A's daemon to mint a session with $B (epoch 1)" br_minted "$B" 1
grep -q "pairing confirmation deferred device=$(dev_path "$B")" "$BR_OUT/blueratchetd.log" \
    || fail "A's agent answered RequestConfirmation without deferring it"
grep -q "pairing confirmed device=$(dev_path "$B"): blueratchet session minted" "$BR_OUT/blueratchetd.log" \
    || fail "A's agent did not confirm from the minted session"
grep -E "agent Request|pairing conf|session minted" "$BR_OUT/blueratchetd.log" | sed 's/^/    A: /'
signal paired "$(br_fp_code "$(br_minted "$B" 1)")"
wait_for 30 "Connected: yes for $B" dev_is "$B" Connected

# 2. bluetoothd restart on B.
wait_peer killed 60 >/dev/null
stage_mark
wait_for 30 "the link to drop after B's bluetoothd was killed" dev_not "$B" Connected
wait_for 5 "A's daemon to invalidate epoch 1" br_invalidated "$B" 1
stage link-down
wait_peer restarted 120 >/dev/null
stage_mark
scan_for "$B" 30
btctl "connect $B"
wait_for 30 "Connected: yes for $B (after B's bluetoothd restart)" dev_is "$B" Connected
wait_for 40 "A's daemon to resume with $B (epoch 2)" br_minted "$B" 2
stage resume
signal resumed "$(br_fp_code "$(br_minted "$B" 2)")"
wait_peer resumed 60 >/dev/null
btctl "disconnect $B"
wait_for 30 "Connected: no for $B" dev_not "$B" Connected

# 3. No daemon on A: B's daemon must drop the connection.
stop blueratchetd
stage_mark
btctl "connect $B"
wait_for 30 "Connected: yes for $B (no daemon on A)" dev_is "$B" Connected
signal plain-connected
wait_for 45 "B to disconnect a central without a session" dev_not "$B" Connected
stage deadline
signal done
wait_peer done 60 >/dev/null
