# SPDX-License-Identifier: MIT
# lib-blueratchetd.sh — helpers for the blueratchetd scenarios (1x-*),
# sourced by their .a.sh/.b.sh parts after lib/guest.sh.
#
# The daemon's log lines are the observable (docs/DAEMON.md, "Log lines"):
#   <6>session minted adapter=hci0 peer=<id> address=<addr> kind=pair role=initiator
#      epoch=1 fingerprint=<64 hex> short_code=<6 digits> not_after=<unix>
#   <6>session invalidated adapter=hci0 peer=<id> address=<addr> epoch=1
#      fingerprint=<hex> reason=LinkLost

# BR_PACKAGE (tests/system/run with BR_PACKAGE=blueratchet_*.deb, as
# ./scripts/test runs it): the daemon, blueratchetctl, the plugins and the bus
# policy are the Debian package's files at the paths it installs them to
# (br_install_package).  Without it, from the build folder.
if [ -n "${BR_PACKAGE:-}" ]; then
    BR_DAEMON=/usr/sbin/blueratchetd
    BR_CTL=/usr/bin/blueratchetctl
else
    BR_DAEMON=${BR_DAEMON:-$BR_BUILD/src/daemon/blueratchetd}
    BR_CTL=${BR_CTL:-$BR_BUILD/src/ctl/blueratchetctl}
fi

# br_install_package: the package's files unpacked onto the guest's overlay,
# once per guest.  Unpacked, not dpkg -i: under TCG, dpkg -i spends about
# 150 s reading the dpkg database over 9p (measured), more than a scenario's
# watchdog allows; the maintainer scripts (enabling the unit, purge) run in
# the package tier's install cycle, and the guests have no systemd anyway.
br_install_package() {
    [ -n "${BR_PACKAGE:-}" ] || return 0
    [ -x /usr/sbin/blueratchetd ] && [ -f /run/br-package-unpacked ] && return 0
    local t0=$EPOCHREALTIME
    # --keep-directory-symlink: the package's ./lib/ must go through the
    # usr-merged /lib -> usr/lib link (dpkg-deb -x replaced it with a real
    # directory, and every program lost its libraries).
    dpkg-deb --fsys-tarfile "$BR_PACKAGE" | tar -x --keep-directory-symlink -C / > "$BR_OUT/dpkg.log" 2>&1 \
        || fail "unpacking $BR_PACKAGE onto / failed ($(tail -n1 "$BR_OUT/dpkg.log"))"
    : > /run/br-package-unpacked
    log "unpacked blueratchet $(dpkg-deb -f "$BR_PACKAGE" Version) from $(basename "$BR_PACKAGE")" \
        "in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}') s: $("$BR_DAEMON" --version)"
}

# br_daemon_up: the BlueZ stack, the bus policy for org.blueratchet, then
# blueratchetd (pairing window open on both hosts, so first contacts are
# approved on both sides).
br_daemon_up() {
    stack_up
    br_daemon_start
}

# br_bus_policy: org.blueratchet's policy file in the guest's overlay, then
# the bus re-reads its configuration.
br_bus_policy() {
    if [ -n "${BR_PACKAGE:-}" ]; then
        [ -f /usr/share/dbus-1/system.d/org.blueratchet.conf ] || fail "the package installed no bus policy"
    elif [ -f "$BR_REPO/dbus/org.blueratchet.conf" ]; then
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
}

# br_daemon_start: (after stack_up) the bus policy, main.conf and the daemon.
# BR_SESSION_CONF: extra lines for main.conf's [Session] section, e.g.
# $'Validity = 60\nOnExpiry = rekey' (set before calling).
br_daemon_start() {
    br_install_package
    [ -x "$BR_DAEMON" ] || fail "no daemon at $BR_DAEMON (build it: ninja -C \$BR_BUILD src/daemon/blueratchetd)"
    br_bus_policy
    printf '[Session]\nHandshakeTimeout = 20\n%s\n' "${BR_SESSION_CONF:-}" > /tmp/br-main.conf
    # Both sides open a pairing window: since protocol 1.1 a first contact
    # needs the central's approval too (its user compares the code, as in LE
    # numeric comparison); the window is the default approval policy.
    local window=(--pairing-window 600) wrap=()
    # BR_SANDBOXED=1: what the unit's sandbox leaves a root daemon
    # (systemd/blueratchet.service: CapabilityBoundingSet= empty,
    # NoNewPrivileges, RestrictAddressFamilies=AF_UNIX AF_BLUETOOTH).  The
    # guests have no systemd: setpriv drops every capability, and strace
    # records each socket the daemon opens so br_sandbox_check can say that
    # no other address family was needed (the seccomp half systemd would add).
    if [ "${BR_SANDBOXED:-0}" = 1 ]; then
        wrap=(setpriv --bounding-set=-all --inh-caps=-all --ambient-caps=-all --no-new-privs --
              strace --seccomp-bpf -f -qq -e trace=socket,socketpair -e signal=none
              -o "$BR_OUT/daemon-sockets.log" --)
    fi
    spawn blueratchetd "${wrap[@]}" "$BR_DAEMON" --config /tmp/br-main.conf --state-dir /tmp/br-state \
        --debug "${window[@]}"
    wait_for 20 "blueratchetd to register its agent" \
        grep -q "registered agent" "$BR_OUT/blueratchetd.log"
    # Under strace, the daemon itself is what stop, kill -STOP and
    # check_daemons must reach (strace would detach on SIGTERM and leave it
    # running); strace exits with it.
    if [ "${BR_SANDBOXED:-0}" = 1 ]; then
        pgrep -x blueratchetd | head -n1 > "$BR_PIDS/blueratchetd"
        log "blueratchetd runs sandboxed as pid $(pid_of blueratchetd) (under strace)"
    fi
    if [ "$BR_HOST" = B ]; then
        wait_for 20 "blueratchetd to register its GATT application" \
            grep -q "registered gatt application adapter=$HCI" "$BR_OUT/blueratchetd.log"
    fi
    stage daemon
}

# br_sandbox_check: (BR_SANDBOXED=1) the daemon ran with no capability at
# all, and opened sockets of AF_UNIX and AF_BLUETOOTH only, none refused.
br_sandbox_check() {
    local pid caps families refused
    pid=$(pgrep -x blueratchetd | head -n1)
    [ -n "$pid" ] || fail "br_sandbox_check: blueratchetd is not running"
    caps=$(awk '/^CapEff:|^CapPrm:|^CapBnd:/ {printf "%s %s ", $1, $2}' "/proc/$pid/status")
    case $caps in
        "CapPrm: 0000000000000000 CapEff: 0000000000000000 CapBnd: 0000000000000000 ") ;;
        *) fail "blueratchetd (pid $pid) holds capabilities: $caps" ;;
    esac
    families=$(grep -oE 'socket(pair)?\(AF_[A-Z0-9]+' "$BR_OUT/daemon-sockets.log" | sed 's/.*(//' | sort | uniq -c | awk '{printf "%s x%s ", $2, $1}')
    [ -n "$families" ] || fail "strace saw no socket of blueratchetd ($BR_OUT/daemon-sockets.log)"
    if grep -oE 'socket(pair)?\(AF_[A-Z0-9]+' "$BR_OUT/daemon-sockets.log" | grep -vqE '\((AF_UNIX|AF_BLUETOOTH)$'; then
        fail "blueratchetd opened a socket outside AF_UNIX and AF_BLUETOOTH: $families"
    fi
    refused=$(grep -E 'socket(pair)?\(.*= -1 E(PERM|ACCES)' "$BR_OUT/daemon-sockets.log" | head -n1 || true)
    [ -z "$refused" ] || fail "a socket was refused to the sandboxed daemon: $refused"
    log "sandbox: blueratchetd (pid $pid) $caps; sockets it opened: $families(none refused)"
}

# br_channel_end EPOCH: how the last session channel ended around the
# invalidation of EPOCH.  When the link drops the kernel resets the L2CAP
# channel with it, usually before the daemon hears of the disconnection:
# then the channel has ended (its application at end-of-stream) before the
# invalidation; otherwise the invalidation closes it, and the daemon says
# how long after (docs/DAEMON.md, "Log lines").
br_channel_end() {  # status 1: neither
    local inv_line closed_line
    inv_line=$(grep -n "session invalidated .* epoch=$1 " "$BR_OUT/blueratchetd.log" | tail -n1 | cut -d: -f1)
    [ -n "$inv_line" ] || { echo "no invalidation of epoch $1"; return 1; }
    closed_line=$(grep -n "session channel closed " "$BR_OUT/blueratchetd.log" | tail -n1 | cut -d: -f1)
    if sed -n "$inv_line,\$p" "$BR_OUT/blueratchetd.log" | grep -q "session channels closed .*ms_after_invalidation="; then
        echo "closed by the invalidation: $(sed -n "$inv_line,\$p" "$BR_OUT/blueratchetd.log" | grep -m1 -oE "channels=[0-9]+ ms_after_invalidation=[0-9.]+")"
    elif [ -n "$closed_line" ] && [ "$closed_line" -lt "$inv_line" ]; then
        echo "ended before the invalidation, with its L2CAP channel: $(sed -n "${closed_line}p" "$BR_OUT/blueratchetd.log" | grep -oE 'why=.*')"
    else
        echo "neither closed by the invalidation nor before it"
        return 1
    fi
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
# fp_text "fingerprint=<hex> short_code=<digits>": "short code NNNNNN, fingerprint <hex>"
fp_text() { echo "$1" | sed -E 's/fingerprint=([0-9a-f]+) short_code=([0-9]+)/short code \2, fingerprint \1/'; }

# br_log_count_ge N REGEX: blueratchetd.log has at least N lines matching
# (a function, so wait_for re-reads the log on every poll; a
# `test "$(grep -c ...)"` argument would be expanded once, before waiting).
br_log_count_ge() {
    [ "$(grep -cE "$2" "$BR_OUT/blueratchetd.log" 2>/dev/null || true)" -ge "$1" ]
}

# br_invalidated_any ADDR EPOCH: the reason epoch EPOCH was invalidated with
# (status 1 if it was not).
br_invalidated_any() {
    grep -E "session invalidated adapter=$HCI .*address=$1 epoch=$2 " "$BR_OUT/blueratchetd.log" \
        | tail -n1 | grep -oE 'reason=[A-Za-z]+' | cut -d= -f2 | grep .
}

# --- blueratchetctl ---------------------------------------------------------
# br_ctl ARGS...: blueratchetctl, its output on stdout and (with the command)
# in blueratchetctl.log; its exit status.
br_ctl() {
    local rc=0 out
    out=$("$BR_CTL" "$@" 2>&1) || rc=$?
    { echo "=== [$(now)] blueratchetctl $* (exit $rc)"; printf '%s\n' "$out"; } >> "$BR_OUT/blueratchetctl.log"
    printf '%s\n' "$out"
    return $rc
}
# br_sessions: one line per session `blueratchetctl sessions --json` lists:
#   address epoch fingerprint short_code state kind
br_sessions() {
    local js
    js=$(br_ctl --json sessions) || fail "blueratchetctl sessions --json failed: $js"
    printf '%s' "$js" | /usr/bin/python3 -c '
import json, sys
for s in json.load(sys.stdin):
    print(s["address"], s["epoch"], s["fingerprint"], s["short_code"], s["state"], s["kind"])'
}
# br_expect_session ADDR EPOCH "fingerprint=.. short_code=..": the API lists
# exactly one session, live, with that peer, epoch, fingerprint and code.
br_expect_session() {
    local list want
    list=$(br_sessions)
    want="$1 $2 $(echo "$3" | sed -E 's/fingerprint=([0-9a-f]+) short_code=([0-9]+)/\1 \2/') live"
    [ "$(printf '%s\n' "$list" | grep -c .)" = 1 ] \
        || fail "blueratchetctl sessions lists $(printf '%s\n' "$list" | grep -c .) sessions, want 1: $list"
    case $list in "$want "*) ;; *) fail "blueratchetctl sessions: '$list', want '$want ...'";; esac
    log "blueratchetctl sessions --json: $list"
}
# br_expect_no_session: the API lists no session at all.
br_expect_no_session() {
    local list
    list=$(br_sessions)
    [ -z "$list" ] || fail "blueratchetctl sessions still lists: $list"
    log "blueratchetctl sessions --json: [] (no session)"
}
# br_export ADDR DIR: the live session's certificate, the peer's certificate
# and the session key, PEM, into DIR/cert.pem, DIR/peer.pem, DIR/key.pem.
br_export() {
    mkdir -p "$2"
    br_ctl export "$1" --format pem --out "$2/cert.pem" > /dev/null \
        || fail "blueratchetctl export $1 (certificate) failed: $(tail -n1 "$BR_OUT/blueratchetctl.log")"
    br_ctl export "$1" --what peer-certificate --format pem --out "$2/peer.pem" > /dev/null \
        || fail "blueratchetctl export $1 --what peer-certificate failed: $(tail -n1 "$BR_OUT/blueratchetctl.log")"
    br_ctl export "$1" --what key --format pem --out "$2/key.pem" > /dev/null \
        || fail "blueratchetctl export $1 --what key failed: $(tail -n1 "$BR_OUT/blueratchetctl.log")"
    openssl verify -CAfile "$2/cert.pem" "$2/cert.pem" > /dev/null 2>&1 \
        || fail "openssl verify -CAfile cert.pem cert.pem refused $2/cert.pem: $(openssl verify -CAfile "$2/cert.pem" "$2/cert.pem" 2>&1 | tr '\n' ' ')"
    log "exported $2/{cert,peer,key}.pem; openssl verify: $(openssl verify -CAfile "$2/cert.pem" "$2/cert.pem" 2>&1)"
}
# br_export_refused ADDR: every export for ADDR fails now (no live session).
br_export_refused() {
    local what out
    for what in certificate peer-certificate key; do
        if out=$(br_ctl export "$1" --what "$what" --format pem); then
            fail "blueratchetctl export $1 --what $what still worked after the link dropped"
        fi
        log "export $what refused: $out"
        BR_EXPORT_REFUSED=$out
    done
}

# --- mutual TLS over loopback with exported session credentials ----------
# br_mtls NAME SERVER_DIR SERVER_TRUST CLIENT_DIR CLIENT_TRUST: OpenSSL's
# s_server with SERVER_DIR/{cert,key}.pem trusting exactly SERVER_TRUST,
# s_client with CLIENT_DIR/{cert,key}.pem trusting exactly CLIENT_TRUST;
# TLS 1.3, both sides verify (-Verify 1, -verify_return_error).  Status 0 if
# the handshake completed with both verified and data went through.
# Transcripts in $BR_OUT/tls/NAME.{server,client}.
BR_TLS_PORT=24400
br_mtls() {
    local name=$1 sdir=$2 strust=$3 cdir=$4 ctrust=$5 rc=0 spid i
    mkdir -p "$BR_OUT/tls"
    ip link set lo up 2>/dev/null || true
    BR_TLS_PORT=$((BR_TLS_PORT + 1))
    # s_server must keep its stdin open (EOF makes it quit): a fifo held by
    # a sleep (the guests have no /dev/fd for process substitution).
    rm -f "/tmp/br-tls-$name.in" && mkfifo "/tmp/br-tls-$name.in"
    sleep 60 > "/tmp/br-tls-$name.in" &
    local hold=$!
    openssl s_server -tls1_3 -accept "127.0.0.1:$BR_TLS_PORT" -naccept 1 \
        -cert "$sdir/cert.pem" -key "$sdir/key.pem" -CAfile "$strust" -Verify 1 \
        -verify_return_error > "$BR_OUT/tls/$name.server" 2>&1 < "/tmp/br-tls-$name.in" &
    spid=$!
    local port_hex
    port_hex=$(printf '%04X' "$BR_TLS_PORT")
    for i in $(seq 1 150); do   # listening: state 0A in /proc/net/tcp
        grep -qE "^ *[0-9]+: 0100007F:$port_hex 00000000:0000 0A" /proc/net/tcp && break
        sleep 0.1
    done
    { echo "hello over blueratchet ($name)"; sleep 1; } | timeout 20 openssl s_client -tls1_3 \
        -connect "127.0.0.1:$BR_TLS_PORT" -cert "$cdir/cert.pem" -key "$cdir/key.pem" \
        -CAfile "$ctrust" -verify_return_error > "$BR_OUT/tls/$name.client" 2>&1 || rc=$?
    kill "$spid" "$hold" 2>/dev/null || true
    wait "$spid" "$hold" 2>/dev/null || true
    rm -f "/tmp/br-tls-$name.in"
    [ $rc -eq 0 ] && grep -q "Verification: OK" "$BR_OUT/tls/$name.client" \
        && grep -q "hello over blueratchet ($name)" "$BR_OUT/tls/$name.server"
}
# br_tls_why NAME: the line that says why an attempt failed
br_tls_why() {
    grep -hiE 'alert|verify error|error:|unable|certificate' "$BR_OUT/tls/$1.client" "$BR_OUT/tls/$1.server" \
        2>/dev/null | grep -viE '^(verify return|---|Server certificate|Acceptable|Client certificate types|Requested Signature|Shared Requested|Peer signing|Peer signature)' \
        | head -n1 | cut -c1-160
}

# --- narration (scripts/demo prints it) ---------------------------------------
# narrate MSG: a line of the story, in the transcript and in $BR_OUT/narration.
narrate() {
    log "NARRATE: $*"
    printf '%s\n' "$*" >> "$BR_OUT/narration"
}
# narrate_block: stdin, indented, into the narration
narrate_block() { sed 's/^/      /' >> "$BR_OUT/narration"; }
