# lib-blueratchetd.sh — helpers for the blueratchetd scenarios (1x-*),
# sourced by their .a.sh/.b.sh parts after lib/guest.sh.
#
# The daemon's log lines are the observable (docs/DAEMON.md, "Log lines"):
#   <6>session minted adapter=hci0 peer=<id> address=<addr> kind=pair role=initiator
#      epoch=1 fingerprint=<64 hex> short_code=<6 digits> not_after=<unix>
#   <6>session invalidated adapter=hci0 peer=<id> address=<addr> epoch=1
#      fingerprint=<hex> reason=LinkLost

BR_DAEMON=${BR_DAEMON:-$BR_BUILD/src/daemon/blueratchetd}

# br_daemon_up: the BlueZ stack, the bus policy for org.blueratchet, then
# blueratchetd (pairing window open, so first contacts are approved).
br_daemon_up() {
    stack_up
    [ -x "$BR_DAEMON" ] || fail "no daemon at $BR_DAEMON (build it: ninja -C \$BR_BUILD src/daemon/blueratchetd)"
    if [ -f "$BR_REPO/dbus/org.blueratchet.conf" ]; then
        cp "$BR_REPO/dbus/org.blueratchet.conf" /etc/dbus-1/system.d/org.blueratchet.conf
    else
        cat > /etc/dbus-1/system.d/org.blueratchet.conf <<'POLICY'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy user="root">
    <allow own="org.blueratchet"/>
    <allow send_destination="org.blueratchet"/>
  </policy>
</busconfig>
POLICY
    fi
    dbus-send --system --print-reply --dest=org.freedesktop.DBus / \
        org.freedesktop.DBus.ReloadConfig > /dev/null
    cat > /tmp/br-main.conf <<'CONF'
[Session]
HandshakeTimeout = 20
CONF
    spawn blueratchetd "$BR_DAEMON" --config /tmp/br-main.conf --state-dir /tmp/br-state \
        --debug --pairing-window 600
    wait_for 20 "blueratchetd to register its agent" \
        grep -q "registered agent" "$BR_OUT/blueratchetd.log"
    if [ "$BR_HOST" = B ]; then
        wait_for 20 "blueratchetd to register its GATT application" \
            grep -q "registered gatt application adapter=$HCI" "$BR_OUT/blueratchetd.log"
    fi
    stage daemon
}

# br_minted ADDR EPOCH: prints the daemon's "session minted" line for that
# peer address and epoch (status 1 if none yet).
br_minted() {
    grep -E "session minted adapter=$HCI .*address=$1 .*epoch=$2 " "$BR_OUT/blueratchetd.log" \
        | tail -n1 | grep .
}
# br_invalidated ADDR EPOCH [REASON]
br_invalidated() {
    grep -E "session invalidated adapter=$HCI .*address=$1 epoch=$2 .*reason=${3:-LinkLost}" \
        "$BR_OUT/blueratchetd.log" | tail -n1 | grep .
}
# br_fp_code LINE: "fingerprint=<hex> short_code=<digits>"
br_fp_code() { echo "$1" | grep -oE 'fingerprint=[0-9a-f]{64} short_code=[0-9]{6}'; }
