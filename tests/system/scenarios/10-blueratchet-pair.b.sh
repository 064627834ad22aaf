# 10-blueratchet-pair, host B (peripheral): blueratchetd advertises its GATT
# service and answers A's handshakes; see the .a.sh for the story.
source "$BR_REPO/tests/system/scenarios/lib-blueratchetd.sh"
br_daemon_up
grep -q "registered gatt application adapter=$HCI" "$BR_OUT/blueratchetd.log"
wait_for 20 "B's daemon to register its advertisement" \
    grep -q "registered advertisement adapter=$HCI" "$BR_OUT/blueratchetd.log"
signal advertising
A=$(wait_peer addr 180)

wait_for 90 "B's daemon to mint a session with $A (epoch 1)" br_minted "$A" 1
line=$(br_minted "$A" 1)
log "B: $line"
signal minted1 "$(br_fp_code "$line")"
[ "$(wait_peer minted1 60)" = "$(br_fp_code "$line")" ] || fail "A minted another fingerprint/short code"

wait_peer disconnected 60 >/dev/null
wait_for 5 "B's daemon to invalidate the epoch 1 session" br_invalidated "$A" 1
log "B: $(br_invalidated "$A" 1)"
signal invalidated1

wait_for 90 "B's daemon to mint a resumed session with $A (epoch 2)" br_minted "$A" 2
line2=$(br_minted "$A" 2)
log "B: $line2"
signal minted2 "$(br_fp_code "$line2")"
[ "$(wait_peer minted2 60)" = "$(br_fp_code "$line2")" ] || fail "A minted another epoch 2 fingerprint"

wait_peer paired 90 >/dev/null
wait_for 10 "Paired: yes for $A on B" dev_is "$A" Paired
grep -E "pairing confirmed|agent Request" "$BR_OUT/blueratchetd.log" | sed 's/^/    B: /' || true
grep -q "pairing confirmed" "$BR_OUT/blueratchetd.log" || fail "B's agent was never asked to confirm"
wait_peer done 90 >/dev/null
wait_for 5 "B's daemon to invalidate the epoch 2 session" br_invalidated "$A" 2
signal done
