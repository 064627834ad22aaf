#!/bin/bash
# SPDX-License-Identifier: MIT
# guest-main.sh — first process of every testbed guest (PID 1 after the
# initramfs's switch_root).  Reads its parameters from the kernel command line
# (br.host=A|B, br.scenario=NAME, br.repo=..., br.testbed=..., br.build=...,
# br.timeout=SECONDS, br.package=FILE.deb), prepares a writable system (fresh tmpfs on /run and
# /var/lib/bluetooth), runs the scenario's part for this host
# (tests/system/scenarios/NAME.a.sh or NAME.b.sh) under a watchdog, then
# collects the logs into the shared folder (/br/hostA or /br/hostB) and powers
# off.  The verdict travels through /br/host?/result, never through qemu's
# exit code.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=dumb
for w in $(cat /proc/cmdline); do
    case $w in
        br.host=*)     BR_HOST=${w#*=} ;;
        br.scenario=*) BR_SCENARIO=${w#*=} ;;
        br.repo=*)     BR_REPO=${w#*=} ;;
        br.testbed=*)  BR_TESTBED=${w#*=} ;;
        br.build=*)    BR_BUILD=${w#*=} ;;
        br.timeout=*)  BR_GUEST_TIMEOUT=${w#*=} ;;
        br.debug=*)    BR_DEBUG=${w#*=} ;;
        br.package=*)  BR_PACKAGE=${w#*=} ;;
        br.bluez=*)    BR_BLUEZ=${w#*=} ;;
    esac
done
export BR_HOST BR_SCENARIO BR_REPO BR_TESTBED BR_BUILD BR_DEBUG=${BR_DEBUG:-0} BR_PACKAGE
export BR_GUEST_TIMEOUT=${BR_GUEST_TIMEOUT:-240}
export BR_OUT=/br/host$BR_HOST BR_SYNC=/br/sync
# Another BlueZ release's programs (tests/system/run: BR_BLUEZ_A/B) come
# first on PATH, and its bluetoothd replaces Debian's.
if [ -n "${BR_BLUEZ:-}" ]; then
    export PATH=$BR_BLUEZ:$PATH BR_BLUETOOTHD=$BR_BLUEZ/bluetoothd
fi
export BR_PEER=$([ "$BR_HOST" = A ] && echo B || echo A)
mkdir -p "$BR_OUT" "$BR_SYNC"

# / is the host's root under a tmpfs overlay, so everything is writable
# already.  /run gets a fresh tmpfs (the host's dbus socket and pid files must
# not show through) unless the checkout lives below it; /tmp is left alone,
# since a checkout (CI's clone, for instance) may live there.
under() { case "$BR_REPO/ $BR_TESTBED/ $BR_BUILD/" in *"$1/"*) return 0;; esac; return 1; }
if under /run; then rm -rf /run/dbus; else mount -t tmpfs -o mode=755 tmpfs /run; fi
mkdir -p /var/lib/bluetooth && mount -t tmpfs -o mode=700 tmpfs /var/lib/bluetooth
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
hostname "host$BR_HOST"
echo 4 > /proc/sys/kernel/printk   # keep the console for errors only

exec >> "$BR_OUT/transcript.log" 2>&1
if ! source "$BR_REPO/tests/system/lib/guest.sh"; then
    echo "FAIL: host $BR_HOST cannot read $BR_REPO/tests/system/lib/guest.sh in the guest" > "$BR_OUT/result"
    sync; echo o > /proc/sysrq-trigger; sleep 30
fi
log "guest $BR_HOST up for scenario $BR_SCENARIO (kernel $(uname -r))"
stage boot "$(now)"

# The scenario part runs in its own session so the watchdog can end it and
# everything it started at once.
setsid bash "$BR_REPO/tests/system/lib/run-part.sh" &
child=$!
( sleep "$BR_GUEST_TIMEOUT"
  log "WATCHDOG: scenario part did not finish within ${BR_GUEST_TIMEOUT}s"
  set_result "FAIL: host $BR_HOST watchdog: scenario part still running after ${BR_GUEST_TIMEOUT}s"
  kill -TERM -- "-$child" 2>/dev/null; sleep 2; kill -KILL -- "-$child" 2>/dev/null ) &
watchdog=$!
wait "$child"; rc=$?
kill "$watchdog" 2>/dev/null
[ -s "$BR_OUT/result" ] || set_result "FAIL: scenario part exited with status $rc without a verdict"
log "result: $(cat "$BR_OUT/result")"

# Host B carries the radio: keep it up until host A has its verdict.
if [ "$BR_HOST" = B ]; then
    end=$(( ${EPOCHREALTIME%.*} + 120 ))
    until [ -s /br/hostA/result ] || (( ${EPOCHREALTIME%.*} > end )); do sleep 0.2; done
fi
collect_logs
log "powering off"
sync
echo o > /proc/sysrq-trigger
sleep 30
