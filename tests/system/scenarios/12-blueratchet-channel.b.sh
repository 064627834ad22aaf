# SPDX-License-Identifier: MIT
# 12-blueratchet-channel, host B (peripheral); see the .a.sh.
source "$BR_REPO/tests/system/scenarios/lib-blueratchetd.sh"
BR_SANDBOXED=1  # the unit's sandbox: no capability, AF_UNIX and AF_BLUETOOTH only
br_daemon_up
wait_for 20 "B's daemon to register its advertisement" \
    grep -q "registered advertisement adapter=$HCI" "$BR_OUT/blueratchetd.log"
grep -q "session channels on PSM 129" "$BR_OUT/blueratchetd.log" \
    || fail "B's daemon is not listening for session channels: $(grep -i 'channel' "$BR_OUT/blueratchetd.log" | head -n2)"
# The echo service: each channel's bytes come straight back.
spawn channel-serve "$BR_CTL" channel serve echo -- cat
wait_for 10 "blueratchetctl to serve echo" grep -q "serving echo" "$BR_OUT/channel-serve.log"
# The plain LE CoC echo A measures the session channel against.
L2ECHO="$BR_BUILD/tests/system/br-l2cap-echo"
[ -x "$L2ECHO" ] || fail "no $L2ECHO (built with -Dtests=true)"
spawn plain-echo "$L2ECHO" serve 131
wait_for 10 "the plain echo to listen" grep -q "listening on PSM 131" "$BR_OUT/plain-echo.log"
signal advertising
A=$(wait_peer addr 180)

wait_peer transferred 900 >/dev/null
grep -q "session channel opened adapter=$HCI .*service=echo (by the peer)" "$BR_OUT/blueratchetd.log" \
    || fail "B's daemon never logged the channel A opened"
grep -E "session channel" "$BR_OUT/blueratchetd.log" | sed 's/^/    B: /'
# A (the central) wrote its own PSM into our psm characteristic.
grep -q "device $A takes session channels on PSM 129" "$BR_OUT/blueratchetd.log" \
    || fail "B's daemon never learnt A's channel PSM (A's write of psm)"
# The peripheral opens one too: to A's echo.
echo "from the peripheral" | timeout 120 "$BR_CTL" channel connect "$A" echo > /tmp/to-a 2>&1 \
    || fail "B could not open a channel to A's echo: $(cat /tmp/to-a)"
[ "$(cat /tmp/to-a)" = "from the peripheral" ] || fail "A's echo said: $(cat /tmp/to-a)"
log "B (peripheral) to A's echo: 'from the peripheral' came back"
signal b-checked

wait_peer probed 600 >/dev/null
# B's end of A's held channel at the link drop (see the .a.sh).
inv=$(grep -n "session invalidated .* epoch=1 " "$BR_OUT/blueratchetd.log" | tail -n1 | cut -d: -f1)
[ -n "$inv" ] || fail "B's daemon did not invalidate epoch 1"
if sed -n "$inv,\$p" "$BR_OUT/blueratchetd.log" | grep -q "session channels closed .*ms_after_invalidation="; then
    log "B's end of the held channel at the link drop: closed by the invalidation: $(sed -n "$inv,\$p" "$BR_OUT/blueratchetd.log" | grep -m1 -oE "channels=[0-9]+ ms_after_invalidation=[0-9.]+")"
else
    closed=$(head -n "$inv" "$BR_OUT/blueratchetd.log" | grep "session channel closed " | tail -n1)
    [ -n "$closed" ] || fail "B's end of the held channel was neither closed before nor by the invalidation"
    log "B's end of the held channel at the link drop: ended before the invalidation, with its L2CAP channel: ${closed##*why=}"
fi
grep -q "session channel from $A refused: no live session with it" "$BR_OUT/blueratchetd.log" \
    || fail "B's daemon did not log refusing the central with no session"
log "B: $(grep "session channel from $A refused" "$BR_OUT/blueratchetd.log" | tail -n1)"

wait_peer done 600 >/dev/null
grep -E "session channel" "$BR_OUT/blueratchetd.log" | tail -n6 | sed 's/^/    B: /'
br_sandbox_check
signal done
