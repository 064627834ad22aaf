# 12-blueratchet-channel, host B (peripheral); see the .a.sh.
source "$BR_REPO/tests/system/scenarios/lib-blueratchetd.sh"
br_daemon_up
wait_for 20 "B's daemon to register its advertisement" \
    grep -q "registered advertisement adapter=$HCI" "$BR_OUT/blueratchetd.log"
grep -q "session channels on PSM 129" "$BR_OUT/blueratchetd.log" \
    || fail "B's daemon is not listening for session channels: $(grep -i 'channel' "$BR_OUT/blueratchetd.log" | head -n2)"
# The echo service: each channel's bytes come straight back.
spawn channel-serve "$BR_CTL" channel serve echo -- cat
wait_for 10 "blueratchetctl to serve echo" grep -q "serving echo" "$BR_OUT/channel-serve.log"
signal advertising
A=$(wait_peer addr 180)

wait_peer transferred 900 >/dev/null
grep -q "session channel opened adapter=$HCI .*service=echo (by the peer)" "$BR_OUT/blueratchetd.log" \
    || fail "B's daemon never logged the channel A opened"
grep -E "session channel" "$BR_OUT/blueratchetd.log" | sed 's/^/    B: /'
signal b-checked

wait_peer done 600 >/dev/null
grep -E "session channel" "$BR_OUT/blueratchetd.log" | tail -n4 | sed 's/^/    B: /'
signal done
