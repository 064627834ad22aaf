# 12-blueratchet-channel, host A (central): session channels (issue #12,
# docs/PROTOCOL.md 8.3) between two blueratchetds over a real LE L2CAP
# credit-based channel, real kernel, real bluetoothd.
#  1. A connects and the pair mint a session; B serves `echo` with
#     `blueratchetctl channel serve echo -- cat`.
#  2. A sends 1 MiB (a marker string inside) through
#     `blueratchetctl channel connect B echo` and gets it back, SHA-256 equal;
#     btmon saw the LE credit-based connection on B's PSM, and the marker
#     never crossed the air in clear.
#  3. A channel held open ends with the link: `bluetoothctl disconnect`, and
#     blueratchetctl on A reads end-of-stream (time printed).
#  4. With no session, opening a channel is refused.
#  5. A reconnects (resume, epoch 2) and a new channel works.
# guest-timeout: 900
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

# 1. A session.
btctl "connect $B"
wait_for 30 "Connected: yes for $B" dev_is "$B" Connected
wait_for 40 "A's daemon to mint a session with $B (epoch 1)" br_minted "$B" 1
stage session
wait_for 20 "A's daemon to learn B's channel PSM" \
    grep -q "device $B takes session channels on PSM 129" "$BR_OUT/blueratchetd.log"

# 2. 1 MiB there and back through B's echo.
marker="BLUERATCHET-CLEAR-TEXT-MARKER-$$"
{ printf '%s' "$marker"; head -c 1048576 /dev/urandom; printf '%s' "$marker"; } > /tmp/up
t0=$(now)
timeout 600 "$BR_CTL" channel connect "$B" echo < /tmp/up > /tmp/down 2> /tmp/connect.err \
    || fail "channel connect failed: $(cat /tmp/connect.err)"
t1=$(now)
up=$(sha256sum < /tmp/up | cut -c1-64)
down=$(sha256sum < /tmp/down | cut -c1-64)
[ "$up" = "$down" ] || fail "the echo came back different: $(stat -c %s /tmp/down) bytes, sha256 $down (sent $up)"
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
log "1 MiB + markers to B's echo and back over the session channel in $secs s (sha256 $up): $(awk -v s="$secs" 'BEGIN{printf "%.1f", 2*1048576/1024/s}') KiB/s both ways together"
stage transfer "$secs"
grep -E "session channel" "$BR_OUT/blueratchetd.log" | sed 's/^/    A: /'
btmon_decode
expect_btmon "LE Credit Based Connection Request|LE Connection Request" "the LE credit-based connection request"
expect_btmon "PSM: 129" "B's PSM in the capture"
if grep -aq "$marker" "$BR_OUT/btmon.snoop" "$BR_OUT/btmon.log"; then
    fail "the marker crossed the air in clear"
fi
log "the marker $marker is nowhere in the capture (btmon.snoop, btmon.log)"
signal transferred
wait_peer b-checked 60 >/dev/null

# 3. A held channel ends with the link.
mkfifo /tmp/hold
( sleep 600 > /tmp/hold & )
"$BR_CTL" channel connect "$B" echo < /tmp/hold > /tmp/held 2> /tmp/held.err &
held=$!
held_open() {
    [ "$(grep -c "session channel opened adapter=$HCI .*service=echo (by us)" "$BR_OUT/blueratchetd.log")" -ge 2 ]
}
wait_for 60 "the held channel to open" held_open
t0=$(now)
btctl "disconnect $B"
for _ in $(seq 200); do alive "$held" || break; sleep 0.05; done
alive "$held" && fail "blueratchetctl channel connect still runs after the link went"
t1=$(now)
log "after bluetoothctl disconnect, blueratchetctl read end-of-stream within $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s (command to process exit, polled every 50 ms)"
grep -E "session channel closed .*why=the session ended" "$BR_OUT/blueratchetd.log" | tail -n1 | sed 's/^/    A: /' \
    || fail "A's daemon did not close the channel with the session"
pkill -f "sleep 600" || true

# 4. No session: refused.
wait_for 30 "$B disconnected" dev_not "$B" Connected
if "$BR_CTL" channel connect "$B" echo < /dev/null > /dev/null 2> /tmp/nosession.err; then
    fail "a channel opened without a session"
fi
log "no session: $(cat /tmp/nosession.err)"

# 5. Resume, new epoch, a new channel.
scan_for "$B" 30
btctl "connect $B"
wait_for 30 "Connected: yes for $B" dev_is "$B" Connected
wait_for 40 "A's daemon to mint the resumed session (epoch 2)" br_minted "$B" 2
echo "after the resume" | timeout 120 "$BR_CTL" channel connect "$B" echo > /tmp/again 2>&1 \
    || fail "no channel after the resume: $(cat /tmp/again)"
[ "$(cat /tmp/again)" = "after the resume" ] || fail "after the resume the echo said: $(cat /tmp/again)"
log "epoch 2: a new channel echoed 'after the resume'"
signal done
wait_peer done 120 >/dev/null
pass
