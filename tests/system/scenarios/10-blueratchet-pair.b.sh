# SPDX-License-Identifier: MIT
# 10-blueratchet-pair, host B (peripheral): blueratchetd advertises its GATT
# service and answers A's handshakes; B checks its own API view and exports
# its credentials to /br/hostB/epochN/ for A's mTLS checks; see the .a.sh.
source "$BR_REPO/tests/system/scenarios/lib-blueratchetd.sh"
BR_SESSION_CONF=$'Validity = 90\nOnExpiry = rekey'
br_daemon_up
spawn -o brmonitor "$BR_CTL" monitor
# The echo service A's session channels reach.
spawn channel-serve "$BR_CTL" channel serve echo -- cat
wait_for 10 "blueratchetctl to serve echo" grep -q "serving echo" "$BR_OUT/channel-serve.log"
grep -q "registered gatt application adapter=$HCI" "$BR_OUT/blueratchetd.log"
wait_for 20 "B's daemon to register its advertisement" \
    grep -q "registered advertisement adapter=$HCI" "$BR_OUT/blueratchetd.log"
signal advertising
A=$(wait_peer addr 180)

# 1.
wait_for 90 "B's daemon to mint a session with $A (epoch 1)" br_minted "$A" 1
line=$(br_minted "$A" 1)
fp1=$(br_fp_code "$line")
log "B: $line"
signal minted1 "$fp1"
[ "$(wait_peer minted1 60)" = "$fp1" ] || fail "A minted another fingerprint/short code"
br_expect_session "$A" 1 "$fp1"
slot_a=$(wait_peer slot1 60)
grep -qE "gatt slot adapter=$HCI device=$A slot=$slot_a\b" "$BR_OUT/blueratchetd.log" \
    || fail "B's daemon did not log slot $slot_a for $A: $(grep 'gatt slot' "$BR_OUT/blueratchetd.log" | tail -n1)"
log "B: $(grep -E "gatt slot adapter=$HCI device=$A" "$BR_OUT/blueratchetd.log" | tail -n1)"
br_export "$A" "$BR_OUT/epoch1"
signal exported1

# 2.
wait_peer disconnected 180 >/dev/null
wait_for 5 "B's daemon to invalidate the epoch 1 session" br_invalidated "$A" 1
log "B: $(br_invalidated "$A" 1)"
br_expect_no_session
br_export_refused "$A"
signal invalidated1

# 3.
wait_for 180 "B's daemon to mint a resumed session with $A (epoch 2)" br_minted "$A" 2
line2=$(br_minted "$A" 2)
fp2=$(br_fp_code "$line2")
log "B: $line2"
signal minted2 "$fp2"
[ "$(wait_peer minted2 60)" = "$fp2" ] || fail "A minted another epoch 2 fingerprint"
br_expect_session "$A" 2 "$fp2"
br_export "$A" "$BR_OUT/epoch2"
signal exported2

# 4. Someone between the LE links: arm the relay (lib/h4relay.c) to flip one
# bit of the next SMP Pairing Random A sends.
wait_peer want-interference 200 >/dev/null
: > "$H4RELAY_ARM"
signal interference-armed
asked_a=$(wait_peer interference-refused 90)
grep -q "flipped one bit" "$BR_OUT/h4relay.log" || fail "the relay never changed A's SMP Pairing Random"
wait_for 10 "B's daemon to refuse the bond" \
    grep -qE "LE bond refused device=$(dev_path "$A") .*passkeys differ" "$BR_OUT/blueratchetd.log"
refused_b=$(grep -E "LE bond refused device=$(dev_path "$A") .*passkeys differ" "$BR_OUT/blueratchetd.log" | tail -n1)
asked_b=$(grep -oE "agent RequestConfirmation device=[^ ]* passkey=[0-9]+" "$BR_OUT/blueratchetd.log" | tail -n1 | sed 's/.*passkey=//')
log "B: $refused_b"
[ -n "$asked_b" ] || fail "B's bluetoothd never asked B's agent to confirm a passkey"
[ "$asked_a" != "$asked_b" ] || fail "both bluetoothds asked about $asked_b: the relay's change did not reach the passkey"
echo "$refused_b" | grep -q "(ours $((10#$asked_b)), the peer's $((10#$asked_a)))" \
    || fail "B's refusal does not name the two passkeys the bluetoothds asked about (B $asked_b, A $asked_a): $refused_b"
wait_for 10 "B's monitor to print the refusal" grep -q "bond-refused .*passkeys differ" "$BR_OUT/brmonitor.log"
mon=$(grep "bond-refused .*passkeys differ" "$BR_OUT/brmonitor.log" | tail -n1)
log "B's monitor: $mon"
[ -f "$H4RELAY_ARM" ] && fail "the relay was still armed after the pairing"
dev_not "$A" Paired || fail "B's bluetoothd holds a bond with $A after the refusal"
wait_for 20 "B's daemon to invalidate the epoch 2 session" br_invalidated "$A" 2
br_expect_no_session
signal interference-monitor "$mon"
signal interference-checked "$asked_b"
wait_for 90 "B's daemon to mint a resumed session with $A (epoch 3)" br_minted "$A" 3
line3=$(br_minted "$A" 3)
fp3=$(br_fp_code "$line3")
signal minted3 "$fp3"
[ "$(wait_peer minted3 60)" = "$fp3" ] || fail "A minted another epoch 3 fingerprint"
br_expect_session "$A" 3 "$fp3"

# 5.
a_passkey=$(wait_peer paired 150)
wait_for 10 "Paired: yes for $A on B" dev_is "$A" Paired
grep -E "pairing confirmed|agent Request|LE bond" "$BR_OUT/blueratchetd.log" | sed 's/^/    B: /' || true
grep -q "pairing confirmed" "$BR_OUT/blueratchetd.log" || fail "B's agent was never asked to confirm"
grep -qE "LE bond confirmed device=$(dev_path "$A") .*epoch=3: .*same passkey" "$BR_OUT/blueratchetd.log" \
    || fail "B's agent did not confirm from the passkeys compared inside the session"
b_passkey=$(grep -oE "agent RequestConfirmation device=[^ ]* passkey=[0-9]+" "$BR_OUT/blueratchetd.log" | tail -n1 | sed 's/.*passkey=//')
[ -n "$a_passkey" ] && [ "$a_passkey" = "$b_passkey" ] \
    || fail "the two bluetoothds asked about different passkeys (A $a_passkey, B $b_passkey) yet the bond went through"
log "B: both bluetoothds asked about passkey $b_passkey; compared inside the session"

# 6. Expiry (rekey): epoch 4 from A over the live link.  B's epoch 3 ends
# with Expired (B's timer first: it waits for the central's resume) or
# Replaced (A's resume arrived first).
wait_for 200 "B's daemon to mint the rekeyed session with $A (epoch 4)" br_minted "$A" 4
line4=$(br_minted "$A" 4)
log "B: $line4"
reason=$(br_invalidated_any "$A" 3) || fail "B's epoch 3 was never invalidated"
case $reason in Expired|Replaced) ;; *) fail "B's epoch 3 ended with reason=$reason, want Expired or Replaced";; esac
log "B's epoch 3 ended: reason=$reason"
signal b-epoch3-reason "$reason"
dev_is "$A" Connected || fail "B's link to $A dropped at the rekey"
signal rekeyed "$(br_fp_code "$line4")"
[ "$(wait_peer rekeyed 60)" = "$(br_fp_code "$line4")" ] || fail "A minted another epoch 4 fingerprint"
br_expect_session "$A" 4 "$(br_fp_code "$line4")"

# 7.
wait_peer done 120 >/dev/null
wait_for 5 "B's daemon to invalidate the epoch 4 session" br_invalidated "$A" 4
br_expect_no_session
signal done
