# SPDX-License-Identifier: MIT
# 12-blueratchet-channel, host A (central): session channels (issue #12,
# docs/PROTOCOL.md 8.3) between two blueratchetds over a real LE L2CAP
# credit-based channel, real kernel, real bluetoothd.
#  1. A connects and the pair mint a session; B serves `echo` with
#     `blueratchetctl channel serve echo -- cat`, and so does A.  A keeps
#     its epoch-1 certificate and key (`blueratchetctl export`).
#  2. A sends 1 MiB (a marker string inside) through
#     `blueratchetctl channel connect B echo` and gets it back, SHA-256 equal;
#     btmon saw the LE credit-based connection on B's PSM and SDUs that
#     start with TLS records, and the marker never crossed the air in clear.
#     The same file through a plain L2CAP CoC echo (br-l2cap-echo, no TLS,
#     no daemon) on the same link: the throughput ratio.  B checks that A
#     wrote its own PSM, and opens a channel to A's echo (peripheral to
#     central).
#  3. A channel held open ends with the link: `bluetoothctl disconnect`, and
#     blueratchetctl on A reads end-of-stream (time printed); on each side
#     the channel ended with its L2CAP channel before the invalidation, or
#     the invalidation closed it (how long after: printed).
#  4. With no session, opening a channel is refused by A's daemon; and a
#     central with no session (A with its daemon stopped, SIGSTOP, and the
#     epoch-1 credentials) that opens B's PSM itself is hung up on before
#     any byte.
#  5. A reconnects (resume, epoch 2) and a new channel works; A's epoch-1
#     certificate and key are refused by B for a new channel, while the
#     same tool with the epoch-2 ones is accepted.
#  6. Session1.Invalidate on A with a channel held open: A's daemon closes
#     it and prints how long after the invalidation.
# Both daemons run as the unit's sandbox leaves them (BR_SANDBOXED): no
# capability at all, and (strace says) no socket but AF_UNIX and
# AF_BLUETOOTH ones.
# guest-timeout: 900
source "$BR_REPO/tests/system/scenarios/lib-blueratchetd.sh"
BR_SANDBOXED=1  # the unit's sandbox: no capability, AF_UNIX and AF_BLUETOOTH only
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
wait_for 60 "A's daemon to mint a session with $B (epoch 1)" br_minted "$B" 1
stage session
wait_for 20 "A's daemon to learn B's channel PSM" \
    grep -q "device $B takes session channels on PSM 129" "$BR_OUT/blueratchetd.log"
spawn channel-serve "$BR_CTL" channel serve echo -- cat
wait_for 10 "blueratchetctl to serve echo" grep -q "serving echo" "$BR_OUT/channel-serve.log"
# What a session's holder has, kept past its session: for steps 4 and 5
# (the key is exported as PEM only; the tool takes PKCS#8 DER).
export_der() {  # export_der DIR
    mkdir -p "$1"
    br_ctl export "$B" --format der --out "$1/cert.der" > /dev/null &&
        br_ctl export "$B" --what key --format pem --out "$1/key.pem" > /dev/null &&
        openssl pkey -in "$1/key.pem" -outform DER -out "$1/key.der" &&
        br_ctl export "$B" --what peer-certificate --format der --out "$1/peer.der" > /dev/null ||
        fail "blueratchetctl export failed: $(tail -n1 "$BR_OUT/blueratchetctl.log")"
}
export_der /tmp/epoch1

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
records=$(awk -v PSM=129 -f "$BR_REPO/tests/system/lib/tls-records.awk" "$BR_OUT/btmon.log" | sort)
log "SDUs on PSM 129 by the TLS record they start with (btmon): $(echo "$records" | tr '\n' ';')"
echo "$records" | grep -qE '^16 03 0[13] ' || fail "btmon shows no SDU on PSM 129 starting with a TLS handshake record"
echo "$records" | grep -qE '^17 03 03 ' || fail "btmon shows no SDU on PSM 129 starting with a TLS application-data record"

# The same 1 MiB through a plain LE CoC on the same link: what the session
# channel costs (TLS, two daemons' relays, blueratchetctl) against the bare
# transport.
L2ECHO="$BR_BUILD/tests/system/br-l2cap-echo"
[ -x "$L2ECHO" ] || fail "no $L2ECHO (built with -Dtests=true)"
t0=$(now)
timeout 600 "$L2ECHO" send "$B" 131 < /tmp/up > /tmp/plain 2> /tmp/plain.err \
    || fail "plain L2CAP echo failed: $(cat /tmp/plain.err)"
t1=$(now)
cmp -s /tmp/up /tmp/plain || fail "the plain echo came back different ($(stat -c %s /tmp/plain) bytes)"
plain_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
log "plain L2CAP CoC (PSM 131, no TLS, no daemon): $(cat /tmp/plain.err); $plain_secs s command to exit"
log "THROUGHPUT session channel $(awk -v s="$secs" 'BEGIN{printf "%.1f", 2*1048576/1024/s}') KiB/s, plain CoC $(awk -v s="$plain_secs" 'BEGIN{printf "%.1f", 2*1048576/1024/s}') KiB/s: ratio session/plain $(awk -v a="$secs" -v b="$plain_secs" 'BEGIN{printf "%.2f", b/a}')"
stage plain "$plain_secs"
signal transferred
wait_peer b-checked 120 >/dev/null
grep -q "session channel opened adapter=$HCI .*service=echo (by the peer)" "$BR_OUT/blueratchetd.log" \
    || fail "A's daemon never logged the channel B opened to A's echo"
log "B (peripheral) opened a channel to A's echo: $(grep "session channel opened adapter=$HCI .*service=echo (by the peer)" "$BR_OUT/blueratchetd.log" | tail -n1)"

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
how=$(br_channel_end 1) || fail "A's held channel: $how"
log "A's held channel at the link drop: $how"
pkill -f "sleep 600" || true

# 4. No session: refused.
wait_for 30 "$B disconnected" dev_not "$B" Connected
if "$BR_CTL" channel connect "$B" echo < /dev/null > /dev/null 2> /tmp/nosession.err; then
    fail "a channel opened without a session"
fi
log "no session: $(cat /tmp/nosession.err)"
# A central with no session opening B's PSM itself, with the epoch-1
# credentials: A's daemon is stopped (SIGSTOP) so that it neither resumes
# on the link this makes nor answers anything; B must hang up before TLS.
kill -STOP "$(pid_of blueratchetd)"  # the daemon itself, not its strace
probe=$(timeout 90 "$L2ECHO" tls "$B" 129 /tmp/epoch1/cert.der /tmp/epoch1/key.der /tmp/epoch1/peer.der echo 2>&1) \
    && rc=0 || rc=$?
if dev_is "$B" Connected; then btctl "disconnect $B"; fi
wait_for 30 "the probe's link to go" dev_not "$B" Connected
kill -CONT "$(pid_of blueratchetd)"
[ "$rc" = 3 ] || fail "a central with no session was not refused by B (exit $rc): $probe"
case "$probe" in
    *"before sending any byte"*) log "a central with no session opening B's PSM 129: $probe" ;;
    *) fail "B refused the central with no session, but not before TLS: $probe" ;;
esac
signal probed

# 5. Resume, new epoch, a new channel.
scan_for "$B" 30
btctl "connect $B"
wait_for 30 "Connected: yes for $B" dev_is "$B" Connected
wait_for 60 "A's daemon to mint the resumed session (epoch 2)" br_minted "$B" 2
echo "after the resume" | timeout 120 "$BR_CTL" channel connect "$B" echo > /tmp/again 2>&1 \
    || fail "no channel after the resume: $(cat /tmp/again)"
[ "$(cat /tmp/again)" = "after the resume" ] || fail "after the resume the echo said: $(cat /tmp/again)"
log "epoch 2: a new channel echoed 'after the resume'"
export_der /tmp/epoch2
cmp -s /tmp/epoch1/cert.der /tmp/epoch2/cert.der && fail "A's certificate did not change with the epoch"
# The control first: the tool with the live session's credentials is
# accepted (so a refusal below is B's, not the tool's).
ok=$(timeout 120 "$L2ECHO" tls "$B" 129 /tmp/epoch2/cert.der /tmp/epoch2/key.der /tmp/epoch2/peer.der echo 2>&1) \
    || fail "the tool with the epoch-2 credentials was not accepted: $ok"
log "epoch-2 certificate and key: $ok"
old=$(timeout 120 "$L2ECHO" tls "$B" 129 /tmp/epoch1/cert.der /tmp/epoch1/key.der /tmp/epoch2/peer.der echo 2>&1) \
    && rc=0 || rc=$?
[ "$rc" = 3 ] || fail "A's epoch-1 certificate was not refused for a new channel (exit $rc): $old"
log "epoch-1 certificate and key (B's epoch-2 certificate pinned): $old"

# 6. An invalidation that does not start with the link: Session1.Invalidate
# on A while a channel is held open; A's daemon closes it and says how long
# after the invalidation (PROTOCOL.md 8.3: 10 ms), then drops the link.
rm -f /tmp/hold
mkfifo /tmp/hold
( sleep 600 > /tmp/hold & )
"$BR_CTL" channel connect "$B" echo < /tmp/hold > /tmp/held 2> /tmp/held.err &
held=$!
held_open2() {
    [ "$(grep -c "session channel opened adapter=$HCI .*service=echo (by us)" "$BR_OUT/blueratchetd.log")" -ge 4 ]
}
wait_for 60 "a channel held open under epoch 2" held_open2
path=$(br_ctl --json sessions | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["path"])')
t0=$(now)
dbus-send --system --print-reply --dest=org.blueratchet "$path" org.blueratchet.Session1.Invalidate > /dev/null \
    || fail "Session1.Invalidate of $path failed"
for _ in $(seq 200); do alive "$held" || break; sleep 0.05; done
alive "$held" && fail "blueratchetctl channel connect still runs after Session1.Invalidate"
t1=$(now)
pkill -f "sleep 600" || true
how=$(br_channel_end 2) || fail "A's channel at Session1.Invalidate: $how"
case $how in "closed by the invalidation"*) ;; *) fail "Session1.Invalidate: A's channel was not closed by the invalidation: $how" ;; esac
log "Session1.Invalidate on A: its held channel $how; blueratchetctl exited $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s after dbus-send started (polled every 50 ms)"
br_sandbox_check
signal done
wait_peer done 120 >/dev/null
pass
