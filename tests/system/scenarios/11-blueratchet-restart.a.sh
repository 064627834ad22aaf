# SPDX-License-Identifier: MIT
# 11-blueratchet-restart, host A (central): a central without blueratchet,
# the agent deferral, bluetoothd restart, expiry with OnExpiry=disconnect and
# the "no session, no service" deadline (step 0).  Both daemons run with [Session]
# Validity = 60, OnExpiry = disconnect.
#  0. A has no blueratchetd yet: plain bluetoothctl (KeyboardDisplay agent)
#     `pair`s and confirms the passkey; B's daemon defers its
#     RequestConfirmation; no handshake comes, so HandshakeTimeout after the
#     connection B's daemon disconnects A ("no session, no service") and
#     answers the deferred confirmation Rejected: Failed to pair, Paired: no
#     on both sides, no session on B.  Then A starts blueratchetd (agent off
#     in bluetoothctl, the daemon becomes the default agent).
#  1. `pair` without connecting first: both agents get RequestConfirmation
#     before the blueratchet handshake has run; they defer it, and once the
#     session is minted on that connection each daemon sends its passkey to
#     the other inside the session and confirms because they are equal
#     (Pairing successful, epoch 1).  Where A's bluetoothd (5.82 and later)
#     holds GATT until the pairing ends, A's daemon refuses after 8 s
#     (Failed to pair), connects again and, once epoch 1 is minted, pairs
#     itself, confirmed the same way (Paired: yes).
#  2. B's bluetoothd is killed while connected: both daemons invalidate; B's
#     daemon registers agent, GATT application and advertisement again with
#     the new bluetoothd; A reconnects and resumes (epoch 2).
#  3. expiry, OnExpiry=disconnect: nobody disconnects; 60 s after epoch 2
#     was minted the link drops; the side whose timer fires first logs
#     reason=Expired and "disconnecting (OnExpiry=disconnect)", the other
#     Expired or LinkLost (whichever comes first by a fraction of a second).
# guest-timeout: 420
source "$BR_REPO/tests/system/scenarios/lib-blueratchetd.sh"
BR_SESSION_CONF=$'Validity = 60\nOnExpiry = disconnect'
stack_up
B=$(wait_peer addr 180)
btctl_start KeyboardDisplay
wait_peer advertising 120 >/dev/null
stage_mark
scan_for "$B" 30
stage discover

# 0. A central without blueratchet is refused bonding.
btctl "pair $B"
btctl_expect "Confirm passkey [0-9]{6}|Failed to pair" 40
if btctl_has "Confirm passkey"; then
    log "A's plain agent: $(btctl_match 'Confirm passkey'); answering yes"
    btctl "yes"
fi
btctl_expect "Failed to pair|Pairing successful" 60
if btctl_has "Pairing successful"; then fail "a central without blueratchet paired with B"; fi
log "A (no blueratchetd): $(btctl_match 'Failed to pair')"
stage refused
wait_for 30 "the link to drop after the refused pairing" dev_not "$B" Connected
dev_not "$B" Paired || fail "Paired is not 'no' on A after the refused pairing"
signal refused
wait_peer refused-checked 60 >/dev/null
btctl "agent off"
btctl_expect "Agent unregistered" 10
br_daemon_start

# 1. Pair first: the confirmation waits for the handshake.  (A scans again:
# bluetoothd forgets an unpaired, disconnected device after 30 s.)
scan_for "$B" 30
btctl "pair $B"
btctl_expect "Pairing successful|Failed to pair" 60
if btctl_has "Pairing successful"; then
    log "pair: the bond followed the session on the connection Pair made"
else
    # BlueZ 5.82 and later may hold GATT until this pairing ends (a race in
    # the kernel: docs/DAEMON.md "BlueZ versions").  A's daemon then refuses
    # at once, connects again and pairs itself once the session is live.
    grep -q "LE bond refused device=$(dev_path "$B"): bluetoothd holds GATT" "$BR_OUT/blueratchetd.log" \
        || fail "pairing failed: $(btctl_match 'Failed to pair')"
    log "pair: $(btctl_match 'Failed to pair'): bluetoothd held GATT; A's daemon pairs after the session"
    wait_for 60 "A's daemon to pair with $B once the session is live" \
        grep -q "paired device=$B" "$BR_OUT/blueratchetd.log"
fi
wait_for 20 "Paired: yes for $B on A" dev_is "$B" Paired
stage pair
wait_for 20 "A's daemon to mint a session with $B (epoch 1)" br_minted "$B" 1
grep -q "LE bond deferred device=$(dev_path "$B")" "$BR_OUT/blueratchetd.log" \
    || fail "A's agent answered RequestConfirmation without deferring it"
grep -q "LE bond confirmed device=$(dev_path "$B") .*both bluetoothds asked about the same passkey" \
    "$BR_OUT/blueratchetd.log" \
    || fail "A's agent did not confirm from the passkeys compared over the minted session"
grep -E "agent Request|LE bond|pairing conf|session minted|pairing device|paired device|Pair of" \
    "$BR_OUT/blueratchetd.log" | sed 's/^/    A: /'
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

# 3. Expiry, OnExpiry=disconnect: nobody disconnects, the link drops.
not_after=$(br_minted "$B" 2 | grep -oE 'not_after=[0-9]+' | cut -d= -f2)
log "epoch 2 not_after=$not_after ($(( not_after - $(date +%s) )) s from now by A's clock)"
stage_mark
wait_for 120 "the link to drop when epoch 2 expires (OnExpiry=disconnect)" dev_not "$B" Connected
stage expiry
log "link dropped $(( $(date +%s) - not_after )) s after not_after (by A's clock)"
reason_a=$(br_invalidated_any "$B" 2) || fail "A's epoch 2 was never invalidated"
log "A's epoch 2: reason=$reason_a; $(grep "session expired adapter=$HCI" "$BR_OUT/blueratchetd.log" | tail -n1)"
reason_b=$(wait_peer expired 60)
case "$reason_a/$reason_b" in
    Expired/Expired|Expired/LinkLost|LinkLost/Expired) ;;
    *) fail "epoch 2 ended with reason A=$reason_a B=$reason_b; want Expired on at least one side" ;;
esac
if [ "$reason_a" = Expired ]; then
    grep -q "session expired adapter=$HCI .*: disconnecting (OnExpiry=disconnect)" "$BR_OUT/blueratchetd.log" \
        || fail "A's epoch 2 expired but A's daemon did not log the OnExpiry=disconnect"
fi
log "epoch 2 ended: A reason=$reason_a, B reason=$reason_b"
br_expect_no_session

signal done
wait_peer done 60 >/dev/null
