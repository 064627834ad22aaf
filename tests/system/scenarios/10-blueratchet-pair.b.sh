# 10-blueratchet-pair, host B (peripheral): blueratchetd advertises its GATT
# service and answers A's handshakes; B checks its own API view and exports
# its credentials to /br/hostB/epochN/ for A's mTLS checks; see the .a.sh.
source "$BR_REPO/tests/system/scenarios/lib-blueratchetd.sh"
BR_SESSION_CONF=$'Validity = 90\nOnExpiry = rekey'
br_daemon_up
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

# 4.
a_passkey=$(wait_peer paired 150)
wait_for 10 "Paired: yes for $A on B" dev_is "$A" Paired
grep -E "pairing confirmed|agent Request|LE bond" "$BR_OUT/blueratchetd.log" | sed 's/^/    B: /' || true
grep -q "pairing confirmed" "$BR_OUT/blueratchetd.log" || fail "B's agent was never asked to confirm"
grep -qE "LE bond confirmed device=$(dev_path "$A") .*same passkey" "$BR_OUT/blueratchetd.log" \
    || fail "B's agent did not confirm from the passkeys compared inside the session"
b_passkey=$(grep -oE "agent RequestConfirmation device=[^ ]* passkey=[0-9]+" "$BR_OUT/blueratchetd.log" | tail -n1 | sed 's/.*passkey=//')
[ -n "$a_passkey" ] && [ "$a_passkey" = "$b_passkey" ] \
    || fail "the two bluetoothds asked about different passkeys (A $a_passkey, B $b_passkey) yet the bond went through"
log "B: both bluetoothds asked about passkey $b_passkey; compared inside the session"

# 5. Expiry (rekey): epoch 3 from A over the live link.  B's epoch 2 ends
# with Expired (B's timer first: it waits for the central's resume) or
# Replaced (A's resume arrived first).
wait_for 200 "B's daemon to mint the rekeyed session with $A (epoch 3)" br_minted "$A" 3
line3=$(br_minted "$A" 3)
log "B: $line3"
reason=$(br_invalidated_any "$A" 2) || fail "B's epoch 2 was never invalidated"
case $reason in Expired|Replaced) ;; *) fail "B's epoch 2 ended with reason=$reason, want Expired or Replaced";; esac
log "B's epoch 2 ended: reason=$reason"
signal b-epoch2-reason "$reason"
dev_is "$A" Connected || fail "B's link to $A dropped at the rekey"
signal rekeyed "$(br_fp_code "$line3")"
[ "$(wait_peer rekeyed 60)" = "$(br_fp_code "$line3")" ] || fail "A minted another epoch 3 fingerprint"
br_expect_session "$A" 3 "$(br_fp_code "$line3")"

# 6.
wait_peer done 120 >/dev/null
wait_for 5 "B's daemon to invalidate the epoch 3 session" br_invalidated "$A" 3
br_expect_no_session
signal done
