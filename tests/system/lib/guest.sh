# SPDX-License-Identifier: MIT
# guest.sh — the scenario API, sourced inside each guest (bash).
#
# Environment set by guest-main.sh:
#   BR_HOST     A (central, controller over a UART) or B (peripheral + radio)
#   BR_PEER     the other host's letter
#   BR_OUT      /br/hostA or /br/hostB: this host's logs (shared with the host)
#   BR_SYNC     /br/sync: marker files both guests see (9p, cache=none)
#   BR_REPO     the project checkout (read-only host root)
#   BR_BUILD    the project's build folder (for blueratchetd & co. later)
#   BR_TESTBED  the testbed folder (kernel cache, h4relay binary, logs)
#
# Verdicts:   pass | fail REASON        (the first verdict wins)
# Timing:     stage NAME                (time since the previous stage mark)
#             stage_mark                (start timing the next stage now)
# Waiting:    wait_for SECONDS "what" CMD [ARGS...]   (poll until CMD succeeds,
#             fail naming "what" on timeout); poll_for SECONDS CMD... (status)
# Peers:      signal NAME [VALUE]; wait_peer NAME SECONDS  (prints VALUE)
# Daemons:    spawn NAME CMD [ARGS...] (log in $BR_OUT/NAME.log; its death
#             while still wanted fails the scenario); stop NAME [SIGNAL];
#             running NAME
# Stack:      stack_up (radio/controller, dbus, btmon, bluetoothd, power on)
#             start_bluetoothd, wait_adapter
# bluetoothctl: btctl_start; btctl "cmd"; btctl_expect REGEX SECONDS;
#             btctl_match REGEX (prints the matched line); btctl_once ARGS...
# D-Bus:      bz_get OBJ IFACE PROP; dev_path ADDR; dev_is ADDR PROP
# btmon:      decoded live into $BR_OUT/btmon.log; btmon_decode (waits for it);
#             btmon_has REGEX; expect_btmon REGEX "what"

# The stand-in peripheral's GATT layout (lib/peripheral.py reads these too).
export BR_GATT_SERVICE=6b1e0001-5a1f-4c2e-9b7e-b1e00000000a
export BR_GATT_PLAIN=6b1e0002-5a1f-4c2e-9b7e-b1e00000000a     # read
export BR_GATT_SECRET=6b1e0003-5a1f-4c2e-9b7e-b1e00000000a    # encrypt-authenticated-read
export BR_GATT_PLAIN_VALUE=br-plain-1 BR_GATT_SECRET_VALUE=br-secret-ok

BR_PIDS=/tmp/br-pids
mkdir -p "$BR_PIDS"
HCI=${HCI:-hci0}

now() { local up _; read -r up _ < /proc/uptime; echo "$up"; }
log() { printf '[%8s] %s\n' "$(now)" "$*"; }

set_result() {  # first verdict wins
    [ -s "$BR_OUT/result" ] && return 0
    printf '%s\n' "$*" > "$BR_OUT/result.tmp" && mv "$BR_OUT/result.tmp" "$BR_OUT/result"
}
fail() {
    log "FAIL: $*"
    if [ ! -s "$BR_OUT/result" ]; then
        set_result "FAIL: $*"
        # Mark the moment in every log, so the tails printed on the host end
        # where things went wrong, not after the teardown.
        local f
        for f in "$BR_OUT"/*.log; do
            [ "$f" = "$BR_OUT/transcript.log" ] || echo "=== [$(now)] FAIL verdict of host $BR_HOST here" >> "$f"
        done
    fi
    exit 1
}
pass() { log "PASS"; set_result "PASS"; exit 0; }

# --- timing ---------------------------------------------------------------
stage_mark() { now > /tmp/br-stage-mark; }
stage() {  # stage NAME [SECONDS]
    local t d
    t=$(now)
    if [ $# -ge 2 ]; then d=$2
    else d=$(awk -v a="$(cat /tmp/br-stage-mark 2>/dev/null || echo 0)" -v b="$t" 'BEGIN{printf "%.2f", b-a}')
    fi
    echo "$1 $d" >> "$BR_OUT/timings"
    echo "$t" > /tmp/br-stage-mark
    log "stage $1: ${d}s"
}

# --- daemons --------------------------------------------------------------
alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }
spawn() {  # spawn [-o] NAME CMD [ARGS...]   (-o: optional, its death is not a failure)
    local optional=0
    [ "$1" = -o ] && { optional=1; shift; }
    local name=$1; shift
    echo "=== [$(now)] start: $*" >> "$BR_OUT/$name.log"
    "$@" >> "$BR_OUT/$name.log" 2>&1 < /dev/null &
    echo $! > "$BR_PIDS/$name"
    [ "$optional" = 1 ] && touch "$BR_PIDS/.optional-$name"
    log "started $name (pid $!): $*"
}
pid_of() { cat "$BR_PIDS/$1" 2>/dev/null; }
running() { local p; p=$(pid_of "$1") && [ -n "$p" ] && alive "$p"; }
stop() {  # stop NAME [SIGNAL]: signal it, wait until it is gone (10 s, then KILL)
    local name=$1 sig=${2:-TERM} p i
    p=$(pid_of "$name") || return 0
    rm -f "$BR_PIDS/$name"
    alive "$p" || return 0
    log "stopping $name (pid $p) with SIG$sig"
    kill -s "$sig" "$p" 2>/dev/null || true
    for i in $(seq 1 50); do alive "$p" || return 0; sleep 0.2; done
    log "$name did not exit on SIG$sig; killing"
    kill -KILL "$p" 2>/dev/null || true
}
check_daemons() {  # fail if a wanted daemon died
    local f name p
    for f in "$BR_PIDS"/*; do
        [ -e "$f" ] || continue
        name=${f##*/}; p=$(cat "$f")
        [ -e "$BR_PIDS/.optional-$name" ] && continue
        if ! alive "$p"; then
            rm -f "$f"
            fail "$name (pid $p) exited unexpectedly; last lines of $name.log: $(tail -n 3 "$BR_OUT/$name.log" | tr '\n' '|' | cut -c1-300)"
        fi
    done
}

# --- waiting and peers ----------------------------------------------------
peer_result() { cat "/br/host$BR_PEER/result" 2>/dev/null || true; }
wait_for() {  # wait_for SECONDS "what" CMD [ARGS...]
    local tmo=$1 what=$2; shift 2
    local end=$(( ${EPOCHREALTIME/./} / 1000 + tmo * 1000 ))
    until "$@" >/dev/null 2>&1; do
        check_daemons
        case $(peer_result) in FAIL*) fail "while waiting for $what: host $BR_PEER failed ($(peer_result))";; esac
        (( ${EPOCHREALTIME/./} / 1000 < end )) || fail "timeout after ${tmo}s waiting for $what"
        sleep 0.2
    done
}
poll_for() {  # poll_for SECONDS CMD [ARGS...] — like wait_for, but returns 1 on timeout
    local end=$(( ${EPOCHREALTIME/./} / 1000 + $1 * 1000 )); shift
    until "$@" >/dev/null 2>&1; do
        check_daemons
        (( ${EPOCHREALTIME/./} / 1000 < end )) || return 1
        sleep 0.2
    done
}
signal() {  # signal NAME [VALUE]
    printf '%s\n' "${2:-}" > "$BR_SYNC/$BR_HOST.$1.tmp"
    mv "$BR_SYNC/$BR_HOST.$1.tmp" "$BR_SYNC/$BR_HOST.$1"
    log "signalled $1${2:+ = $2}"
}
wait_peer() {  # wait_peer NAME SECONDS — prints the value the peer signalled
    wait_for "$2" "host $BR_PEER to signal '$1'" test -e "$BR_SYNC/$BR_PEER.$1"
    cat "$BR_SYNC/$BR_PEER.$1"
}

# --- D-Bus ----------------------------------------------------------------
bz_get() {  # bz_get OBJ IFACE PROP — prints the value (last word for scalars)
    dbus-send --system --print-reply=literal --reply-timeout=5000 --dest=org.bluez "$1" \
        org.freedesktop.DBus.Properties.Get "string:$2" "string:$3" 2>/dev/null \
        | awk '{print $NF}'
}
bz_set_bool() {  # bz_set_bool OBJ IFACE PROP true|false
    dbus-send --system --print-reply --reply-timeout=10000 --dest=org.bluez "$1" \
        org.freedesktop.DBus.Properties.Set "string:$2" "string:$3" "variant:boolean:$4" >/dev/null
}
dev_path() { echo "/org/bluez/$HCI/dev_${1//:/_}"; }
dev_is() { [ "$(bz_get "$(dev_path "$1")" org.bluez.Device1 "$2")" = true ]; }
dev_not() { [ "$(bz_get "$(dev_path "$1")" org.bluez.Device1 "$2")" = false ]; }
bluez_on_bus() {
    dbus-send --system --print-reply=literal --dest=org.freedesktop.DBus / \
        org.freedesktop.DBus.NameHasOwner string:org.bluez 2>/dev/null | grep -q true
}
adapter_is() { [ "$(bz_get "/org/bluez/$HCI" org.bluez.Adapter1 "$1")" = true ]; }
adapter_addr() { bz_get "/org/bluez/$HCI" org.bluez.Adapter1 Address; }

# --- btmon ----------------------------------------------------------------
# btmon runs twice: `btmon -w` keeps the capture (btmon.snoop, for Wireshark
# or a later btmon), a second one decodes live into btmon.log, which the
# checks read.  (Decoding the capture afterwards with `btmon -r` segfaults in
# 5.66 on ATT traffic, in the guest and on the host.)
start_btmon() {
    spawn btmon-capture btmon -w "$BR_OUT/btmon.snoop"
    spawn -o btmon stdbuf -oL btmon -T -C 160 -c never
}
btmon_decode() { sleep 1; }  # let the live decoder catch up
btmon_has() { grep -qE "$1" "$BR_OUT/btmon.log"; }
expect_btmon() {  # expect_btmon REGEX "what" — in the decoded capture, logs the first hit
    if ! btmon_has "$1"; then
        running btmon || fail "btmon's live decoder died before showing $2 (/$1/); see btmon.log, capture in btmon.snoop"
        fail "btmon capture ($BR_OUT/btmon.log) lacks $2 (/$1/)"
    fi
    log "btmon: $2: $(grep -m1 -E "$1" "$BR_OUT/btmon.log" | sed 's/^ *//')"
}

# --- bluetoothctl ---------------------------------------------------------
# A long-running bluetoothctl fed through a fifo; its output is in
# $BR_OUT/bluetoothctl.log.  btctl_expect looks only at output produced after
# the last btctl command.
btctl_start() {  # btctl_start [AGENT-CAPABILITY] — with one, its agent becomes the default
    rm -f /tmp/btctl.in; mkfifo /tmp/btctl.in
    spawn bluetoothctl sh -c "exec bluetoothctl --agent ${1:-NoInputNoOutput} < /tmp/btctl.in"
    exec 7> /tmp/btctl.in
    BTCTL_MARK=0
    btctl_expect "Agent registered" 20
    if [ -n "${1:-}" ]; then
        btctl "default-agent"; btctl_expect "Default agent request successful" 15
    fi
}
btctl_text() {  # output since the last command, without colours and prompts
    tail -c +$((BTCTL_MARK + 1)) "$BR_OUT/bluetoothctl.log" \
        | sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g' -e 's/\r/\n/g' | tr -d '\001\002'
}
btctl() {
    BTCTL_MARK=$(stat -c %s "$BR_OUT/bluetoothctl.log")
    log "bluetoothctl> $*"
    printf '%s\n' "$*" >&7
}
btctl_has() { btctl_text | grep -qE "$1"; }
btctl_expect() {  # btctl_expect REGEX SECONDS
    wait_for "$2" "bluetoothctl to print /$1/" btctl_has "$1"
    log "bluetoothctl: $(btctl_match "$1")"
}
btctl_match() { btctl_text | grep -E "$1" | head -n1; }
btctl_once() {  # one-shot: bluetoothctl ARGS... (command mode), output on stdout
    timeout 20 bluetoothctl "$@" 2>&1 | sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g' | tr -d '\001\002\r'
}

# --- the stack ------------------------------------------------------------
new_dmesg_has() {  # new_dmesg_has SINCE_LINE REGEX
    dmesg | tail -n +"$(( $1 + 1 ))" | grep -qE "$2"
}
controller_ready() {  # the kernel finished setting up $HCI (it has read the address)
    local out
    out=$(hciconfig "$HCI" 2>/dev/null) || return 1
    [[ $out == *"BD Address: "* && $out != *"BD Address: 00:00:00:00:00:00"* && $out != *INIT* ]]
}

# bring_up_controller NAME CMD...: start the program that creates $HCI and
# wait (15 s) until the kernel has set it up.  Retried (at most twice, each
# logged in the transcript and in $BR_OUT/retries) only on the emulator
# start-up race the notes name: the first HCI_Reset through a cold path
# exceeds the kernel's 2 s command timeout ("Opcode 0x0c03 failed: -110") or
# the controller never finishes its set-up.
bring_up_controller() {
    local name=$1; shift
    local attempt since end why
    for attempt in 1 2 3; do
        since=$(dmesg | wc -l)
        spawn "$name" "$@"
        end=$(( ${EPOCHREALTIME/./} / 1000 + 15000 ))
        why="not set up within 15 s"
        while (( ${EPOCHREALTIME/./} / 1000 < end )); do
            if controller_ready; then
                log "$HCI ready (attempt $attempt): $(hciconfig "$HCI" | grep -o 'BD Address: [0-9A-F:]*')"
                return 0
            fi
            if new_dmesg_has "$since" 'Opcode 0x0c03 failed'; then why="HCI_Reset timed out (Opcode 0x0c03 failed: -110)"; break; fi
            running "$name" || { why="$name exited"; break; }
            sleep 0.2
        done
        log "RETRY: $HCI via $name, attempt $attempt: $why; dmesg: $(dmesg | tail -n +$((since + 1)) | grep -E 'hci' | tail -n 2 | tr '\n' '|')"
        echo "RETRY $name attempt $attempt: $why" >> "$BR_OUT/retries"
        stop "$name" TERM
        sleep 0.5
    done
    fail "$HCI never came up through $name after 3 attempts (see dmesg.log, $name.log)"
}

H4RELAY_ARM=/tmp/h4relay-flip-next-smp-random
radio_up_b() {  # host B: btvirt gives B its controller and serves the air
    modprobe -a virtio_console af_alg algif_skcipher algif_hash cmac ecb bluetooth
    start_btmon
    modprobe hci_vhci
    cat "$(command -v btvirt)" > /dev/null   # warm the page cache for its first reply
    bring_up_controller btvirt btvirt -s -L -l1
    wait_for 10 "btvirt's LE server socket" test -S /tmp/bt-server-le
    local port="" d
    for d in /sys/class/virtio-ports/*; do
        [ "$(cat "$d/name" 2>/dev/null)" = bt.a ] && port=/dev/${d##*/}
    done
    [ -n "$port" ] || fail "no virtio-serial port named bt.a (qemu -device virtserialport)"
    # $H4RELAY_ARM armed: the next SMP Pairing Random from A gets one bit
    # flipped (lib/h4relay.c): someone between the LE links, on demand.
    spawn h4relay "$BR_TESTBED/bin/h4relay" "$port" /tmp/bt-server-le "$H4RELAY_ARM"
    wait_for 5 "h4relay to connect" grep -q relaying "$BR_OUT/h4relay.log"
    signal radio
}

radio_up_a() {  # host A: its controller sits on B's air, reached over ttyS1
    modprobe -a bluetooth cmac ecb
    start_btmon
    modprobe hci_uart
    wait_peer radio 120 >/dev/null
    stage_mark
    bring_up_controller btattach btattach -B /dev/ttyS1 -P h4
}

start_dbus() {
    mkdir -p /run/dbus
    dbus-daemon --system --fork --print-pid > /tmp/dbus.pid
    wait_for 10 "the system bus" test -S /run/dbus/system_bus_socket
}

start_bluetoothd() {
    local dbg=()
    [ "$BR_DEBUG" = 1 ] && dbg=(-d)
    spawn bluetoothd "${BR_BLUETOOTHD:-/usr/libexec/bluetooth/bluetoothd}" -n "${dbg[@]}"
    wait_adapter
}

wait_adapter() {  # bluetoothd on the bus, adapter powered and pairable
    wait_for 30 "org.bluez on the system bus" bluez_on_bus
    wait_for 30 "/org/bluez/$HCI on D-Bus" adapter_addr
    adapter_is Powered || bz_set_bool "/org/bluez/$HCI" org.bluez.Adapter1 Powered true
    wait_for 20 "$HCI powered" adapter_is Powered
    adapter_is Pairable || bz_set_bool "/org/bluez/$HCI" org.bluez.Adapter1 Pairable true
}

stack_up() {  # everything up to a powered adapter on D-Bus; signals addr
    stage_mark
    if [ "$BR_HOST" = B ]; then radio_up_b; else radio_up_a; fi
    stage controller
    start_dbus
    start_bluetoothd
    stage stack
    BR_ADDR=$(adapter_addr)
    log "adapter $HCI address $BR_ADDR"
    signal addr "$BR_ADDR"
}

# --- end of a guest's run (called by guest-main.sh) -------------------------
collect_logs() {
    local f
    for f in "$BR_PIDS"/*; do [ -e "$f" ] && stop "${f##*/}" TERM; done
    dmesg > "$BR_OUT/dmesg.log"
    cp -r /var/lib/bluetooth "$BR_OUT/var-lib-bluetooth" 2>/dev/null || true
    cat /proc/uptime > "$BR_OUT/uptime"
}

# --- scenario building blocks ------------------------------------------------
start_peripheral() {  # host B: the stand-in GATT peripheral (lib/peripheral.py)
    spawn peripheral /usr/bin/python3 -u "$BR_REPO/tests/system/lib/peripheral.py" "/org/bluez/$HCI"
    wait_for 60 "the peripheral to register its GATT application and advertisement" \
        grep -q "REGISTERED ${1:-1}" "$BR_OUT/peripheral.log"
}

scan_for() {  # scan_for ADDR SECONDS — LE scan in the bluetoothctl session until ADDR shows up
    btctl "scan le"
    wait_for "$2" "device $1 to be discovered" dev_known "$1"
    btctl "scan off"
}
dev_known() { [ -n "$(bz_get "$(dev_path "$1")" org.bluez.Device1 Address)" ]; }

gatt_read() {  # gatt_read UUID EXPECTED SECONDS — read a characteristic of the connected device
    local err='Failed to read|No attribute selected|Unable to|not available|org\.bluez\.Error'
    btctl "menu gatt"
    btctl "select-attribute $1"
    btctl "read"
    wait_for "$3" "characteristic $1 to read '$2' (or an error)" btctl_has "$2|$err"
    if ! btctl_has "$2"; then
        fail "reading characteristic $1 failed: bluetoothctl said '$(btctl_match "$err" | sed 's/^[[:space:]]*//; s/\[[^]]*\]# //g')' (see bluetoothctl.log; the peer's GATT database is in its bluetoothd.log/btmon.log)"
    fi
    log "read $1: $(btctl_match "$2")"
    btctl "back"
}
