# SPDX-License-Identifier: MIT
# host.sh — host-side helpers of tests/system/run (sourced; bash).
# Expects: REPO, TB (testbed folder), VMLINUZ, INITRD, KMOD (module tree),
# GUEST_TIMEOUT, BR_BUILD, DEBUG.

# qemu_guest HOST LOGDIR EXTRA-ARGS... — one TCG guest, run in the background
# under `timeout`; its pid goes to QEMU_PID.  Console in hostX/console.log,
# qemu's own messages in hostX/qemu.log.
qemu_guest() {
    local host=$1 logdir=$2; shift 2
    local append="console=ttyS0 quiet panic=-1 br.host=$host br.scenario=$SCENARIO"
    append+=" br.repo=$REPO br.testbed=$TB br.build=$BR_BUILD br.timeout=$GUEST_TIMEOUT"
    append+=" br.debug=$DEBUG br.kmod=$KMOD br.main=$REPO/tests/system/lib/guest-main.sh"
    [ -z "${BR_PACKAGE:-}" ] || append+=" br.package=$BR_PACKAGE"
    # BR_BLUEZ_A / BR_BLUEZ_B: a folder of another BlueZ release's programs
    # (lib/build-bluez.sh) for that guest; unset: Debian's.
    local bluez_var=BR_BLUEZ_$host
    [ -z "${!bluez_var:-}" ] || append+=" br.bluez=${!bluez_var}"
    mkdir -p "$logdir/host$host"
    timeout --kill-after=10 "$((GUEST_TIMEOUT + 120))" \
        qemu-system-x86_64 -accel tcg,tb-size=64 -cpu max -m 384 -smp 1 \
        -nodefaults -display none -no-reboot \
        -kernel "$VMLINUZ" -initrd "$INITRD" -append "$append" \
        -fsdev local,id=r,path=/,readonly=on,security_model=none,multidevs=remap \
        -device virtio-9p-pci,fsdev=r,mount_tag=hostroot \
        -fsdev "local,id=o,path=$logdir,security_model=none" \
        -device virtio-9p-pci,fsdev=o,mount_tag=out \
        -serial "file:$logdir/host$host/console.log" \
        "$@" > "$logdir/host$host/qemu.log" 2>&1 &
    QEMU_PID=$!
}

# boot_pair LOGDIR — boots guest B (peripheral, radio) and then guest A
# (central, controller on a UART connected to B's virtio-serial port bt.a),
# waits for both.  Sets WALL (seconds), RC_A, RC_B (qemu/timeout exit codes).
boot_pair() {
    local logdir=$1 sock t0 pa pb
    # Global, so that run's EXIT trap removes it if we never get to.
    SOCKDIR=$(mktemp -d /tmp/br-testbed.XXXXXX)
    sock=$SOCKDIR/air.sock
    t0=${EPOCHREALTIME}
    qemu_guest B "$logdir" -device virtio-serial-pci \
        -chardev "socket,id=pa,path=$sock,server=on,wait=off" \
        -device virtserialport,chardev=pa,name=bt.a
    pb=$QEMU_PID
    for _ in $(seq 1 100); do [ -S "$sock" ] && break; sleep 0.1; done
    [ -S "$sock" ] || echo "testbed: guest B's socket $sock did not appear (see $logdir/hostB/qemu.log)" >&2
    qemu_guest A "$logdir" -chardev "socket,id=bt,path=$sock" -serial chardev:bt
    pa=$QEMU_PID
    # A guest killed by its watchdog makes `timeout` exit 124: that is a
    # verdict (verdict_of), not a reason for run's `set -e` to stop here.
    RC_A=0; wait "$pa" || RC_A=$?
    RC_B=0; wait "$pb" || RC_B=$?
    WALL=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.0f", b-a}')
    rm -rf "$SOCKDIR"; SOCKDIR=
}

verdict_of() {  # verdict_of LOGDIR HOST RC
    local f=$1/host$2/result
    if [ -s "$f" ]; then cat "$f"
    elif [ "$3" = 124 ] || [ "$3" = 137 ]; then echo "FAIL: host $2 gave no verdict: qemu timed out"
    else echo "FAIL: host $2 gave no verdict (qemu exit $3; see host$2/console.log)"
    fi
}

timing() {  # timing LOGDIR HOST STAGE — seconds or -
    awk -v s="$3" '$1==s {v=$2} END {print (v=="" ? "-" : v)}' "$1/host$2/timings" 2>/dev/null || echo -
}

timings_line() {  # one line with every stage of both hosts, in order
    local logdir=$1 h
    for h in A B; do
        printf '    %s:' "$h"
        if [ -s "$logdir/host$h/timings" ]; then
            awk '{printf " %s %ss", $1, $2} END {print ""}' "$logdir/host$h/timings"
        else echo " (none)"; fi
    done
    printf '    wall: %s s (launch of guest B to both powered off)\n' "$WALL"
}

declare -A TAILED=()
tail_file() {  # tail_file FILE N — the last N lines up to the FAIL marker (once per file)
    [ -s "$1" ] && [ -z "${TAILED[$1]:-}" ] || return 0
    TAILED[$1]=1
    echo "    --- ${1#"$LOGROOT"/} (last $2 lines up to the failure) ---"
    sed -e '/^=== \[.*\] FAIL verdict of host/q' -e '/^\[ *[0-9.]*\] result: /q' "$1" | tail -n "$2" \
        | sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g' -e 's/\r//g' -e 's/^/    | /' | cut -c1-200
}

print_failure_logs() {  # the tails that usually explain a failure
    local logdir=$1 h f v named
    TAILED=()
    for h in A B; do
        v=$(cat "$logdir/host$h/result" 2>/dev/null || true)
        case $v in
            PASS) ;;
            "")   # no verdict: the guest hung or crashed
                  tail_file "$logdir/host$h/transcript.log" 25
                  tail_file "$logdir/host$h/console.log" 20
                  tail_file "$logdir/host$h/qemu.log" 5 ;;
            *"host "?" failed ("*)  # it only saw its peer fail
                  tail_file "$logdir/host$h/transcript.log" 6 ;;
            *)    # this host's own failure: its transcript, the logs the
                  # verdict names, then the usual suspects
                  tail_file "$logdir/host$h/transcript.log" 25
                  # (no match is normal: `|| true`, or set -e would end the run here)
                  named=$(echo "$v" | grep -oE '[a-z0-9_.-]+\.log' | sort -u || true)
                  for f in $named; do tail_file "$logdir/host$h/$f" 15; done
                  tail_file "$logdir/host$h/blueratchetd.log" 25
                  tail_file "$logdir/host$h/bluetoothctl.log" 12
                  tail_file "$logdir/host$h/bluetoothd.log" 12
                  tail_file "$logdir/host$h/peripheral.log" 10
                  tail_file "$logdir/host$h/btmon.log" 20
                  local dm='failed|timed out|timeout:|error|warn|-110'
                  # (TCG's "Fast TSC calibration failed" is in every boot: not news)
                  local dm_normal='ommand line|Fast TSC calibration failed'
                  if grep -iE "$dm" "$logdir/host$h/dmesg.log" 2>/dev/null | grep -qvE "$dm_normal"; then
                      echo "    --- host$h/dmesg.log (errors) ---"
                      grep -iE "$dm" "$logdir/host$h/dmesg.log" | grep -vE "$dm_normal" | tail -n 6 \
                          | sed 's/^/    | /' | cut -c1-200
                  fi ;;
        esac
    done
    # The peer's daemons usually tell the other half of the story.
    for h in A B; do
        tail_file "$logdir/host$h/blueratchetd.log" 15
        tail_file "$logdir/host$h/bluetoothd.log" 8
    done
}
