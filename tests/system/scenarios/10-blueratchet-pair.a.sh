# 10-blueratchet-pair, host A (central): blueratchetd on both hosts, A's
# daemon is the default agent (bluetoothctl runs with `agent off`).
#  1. connect: A's daemon runs the pairing handshake over B's GATT service;
#     both daemons log a minted session (epoch 1) with the same fingerprint
#     and short code;
#  2. disconnect: both invalidate it (reason=LinkLost);
#  3. reconnect: a resume, epoch 2, the same fingerprint on both sides;
#  4. LE pairing (`pair`): both agents' RequestConfirmation is answered from
#     the live blueratchet session; Paired: yes.
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

# 1. First contact: pairing handshake.
btctl "connect $B"
wait_for 30 "Connected: yes for $B" dev_is "$B" Connected
stage connect
wait_for 40 "A's daemon to mint a session with $B (epoch 1)" \
    br_minted "$B" 1
stage handshake
line=$(br_minted "$B" 1)
log "A: $line"
signal minted1 "$(br_fp_code "$line")"
[ "$(wait_peer minted1 60)" = "$(br_fp_code "$line")" ] \
    || fail "B minted another fingerprint/short code: $(wait_peer minted1 1) vs $(br_fp_code "$line")"
log "both sides: $(br_fp_code "$line")"

# 2. Link loss invalidates.
btctl "disconnect $B"
wait_for 30 "Connected: no for $B" dev_not "$B" Connected
wait_for 5 "A's daemon to invalidate the epoch 1 session" br_invalidated "$B" 1
log "A: $(br_invalidated "$B" 1)"
signal disconnected
wait_peer invalidated1 30 >/dev/null
stage invalidate

# 3. Reconnect: a resume, epoch 2.
btctl "connect $B"
wait_for 30 "Connected: yes for $B (again)" dev_is "$B" Connected
wait_for 40 "A's daemon to mint a resumed session with $B (epoch 2)" br_minted "$B" 2
stage resume
line2=$(br_minted "$B" 2)
log "A: $line2"
echo "$line2" | grep -q "kind=resume" || fail "the second session is not a resume: $line2"
signal minted2 "$(br_fp_code "$line2")"
[ "$(wait_peer minted2 60)" = "$(br_fp_code "$line2")" ] || fail "B minted another epoch 2 fingerprint"
[ "$(br_fp_code "$line2")" != "$(br_fp_code "$line")" ] || fail "epoch 2 has epoch 1's fingerprint"

# 4. LE pairing over the live session: the agents confirm from it.
btctl "pair $B"
btctl_expect "Pairing successful|Failed to pair" 40
btctl_has "Pairing successful" || fail "pairing failed: $(btctl_match 'Failed to pair')"
stage pair
wait_for 10 "Paired: yes for $B" dev_is "$B" Paired
grep -E "pairing confirmed|agent Request" "$BR_OUT/blueratchetd.log" | sed 's/^/    A: /' || true
signal paired

btctl "disconnect $B"
wait_for 30 "Connected: no for $B" dev_not "$B" Connected
wait_for 5 "A's daemon to invalidate the epoch 2 session" br_invalidated "$B" 2
signal done
wait_peer done 60 >/dev/null
