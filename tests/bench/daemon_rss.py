#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# tests/bench/daemon_rss.py BLUERATCHETD STATE_DIR PEERS [--counts 0,1000,PEERS]
#
# blueratchetd's resident memory with 0, 1,000 and PEERS stored peers (or
# the --counts given), each run on a private system bus with the BlueZ
# simulator of the bus tier (tests/bus/run starts them the same way).
# STATE_DIR is one adapter directory filled by bench_store with PEERS peers;
# a smaller count runs on a copy of its identity and its first N peer
# records, 0 on an empty state.  The simulator's hci0 has the address
# 00:01:02:03:04:05, so bench_store must have used the adapter directory
# 00_01_02_03_04_05.  The daemon's VmRSS and VmHWM are read from /proc once it
# has logged "adapter added ... peers=N" and registered with the simulator
# (a second's wait).  Prints one JSON object: "runs", one per count, and
# "empty" and "full" (the first and the last); root only (the bus policy).
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from xml.sax.saxutils import escape as xml_escape

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SIM = os.path.join(ROOT, 'tests', 'bus', 'bluez_sim.py')
POLICY = os.path.join(ROOT, 'dbus', 'org.blueratchet.conf')
BUS_CONF = '''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path={socket}</listen>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
  <include>{policy}</include>
</busconfig>
'''
CONF = '''[General]
Role = peripheral
[Session]
Validity = 3600
'''


def status(pid):
    out = {}
    with open(f'/proc/{pid}/status', encoding='utf-8') as f:
        for line in f:
            key, _, value = line.partition(':')
            if key in ('VmRSS', 'VmHWM'):
                out[key] = int(value.split()[0])
    return out


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise RuntimeError(f'timed out waiting for {what}')
        time.sleep(0.05)


def measure(daemon, state, tmp, tag):
    '''Starts the daemon on `state`; its memory once the adapter is loaded.'''
    conf = os.path.join(tmp, 'main.conf')
    with open(conf, 'w', encoding='utf-8') as f:
        f.write(CONF)
    log_path = os.path.join(tmp, f'blueratchetd-{tag}.log')
    t0 = time.monotonic()
    proc = subprocess.Popen([daemon, '--config', conf, '--state-dir', state],
                            stdout=subprocess.DEVNULL, stderr=open(log_path, 'w', encoding='utf-8'))
    try:
        def added():
            if proc.poll() is not None:
                raise RuntimeError(f'blueratchetd exited ({proc.returncode}): see {log_path}')
            with open(log_path, encoding='utf-8', errors='replace') as f:
                return 'adapter added' in f.read()
        wait_for(added, 120, 'blueratchetd to load the adapter')
        ready = time.monotonic() - t0
        time.sleep(1.0)
        with open(log_path, encoding='utf-8', errors='replace') as f:
            line = next(l for l in f if 'adapter added' in l)
        peers = int(line.split(' peers=')[1].split()[0])
        return dict(status(proc.pid), peers=peers, ready_s=round(ready, 3))
    finally:
        proc.terminate()
        proc.wait(10)


ADAPTER_DIR = '00_01_02_03_04_05'


def partial_state(state, count, tmp):
    '''A state directory with STATE's identity and its first `count` peers.'''
    out = os.path.join(tmp, f'state-{count}')
    src, dst = os.path.join(state, ADAPTER_DIR), os.path.join(out, ADAPTER_DIR)
    os.makedirs(os.path.join(dst, 'peers'), mode=0o700)
    os.chmod(out, 0o700)
    shutil.copy2(os.path.join(src, 'identity'), dst)
    for name in sorted(os.listdir(os.path.join(src, 'peers')))[:count]:
        shutil.copy2(os.path.join(src, 'peers', name), os.path.join(dst, 'peers'))
    return out


def main():
    daemon, state, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
    counts = [0, 1000, want]
    if len(sys.argv) == 6 and sys.argv[4] == '--counts':
        counts = [int(c) for c in sys.argv[5].split(',')]
    counts = sorted({c for c in counts if 0 <= c <= want})
    tmp = tempfile.mkdtemp(prefix='br-bench-daemon-')
    procs = []
    try:
        socket = os.path.join(tmp, 'system_bus_socket')
        bus_conf = os.path.join(tmp, 'system.conf')
        with open(bus_conf, 'w', encoding='utf-8') as f:
            f.write(BUS_CONF.format(socket=xml_escape(socket), policy=xml_escape(POLICY)))
        bus = subprocess.Popen(['dbus-daemon', '--config-file=' + bus_conf, '--nofork',
                                '--nopidfile', '--print-address=1'],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(bus)
        os.environ['DBUS_SYSTEM_BUS_ADDRESS'] = bus.stdout.readline().strip()
        os.environ.pop('DBUS_SESSION_BUS_ADDRESS', None)
        sim = subprocess.Popen(['/usr/bin/python3', '-m', 'dbusmock', '--system', '--template',
                                SIM, '-p', json.dumps({'adapter': 'hci0'})],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(sim)
        wait_for(lambda: subprocess.run(
            ['dbus-send', '--system', '--print-reply', '--dest=org.bluez', '/org/bluez/hci0',
             'org.freedesktop.DBus.Properties.Get', 'string:org.bluez.Adapter1',
             'string:Address'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        ).returncode == 0, 30, 'the BlueZ simulator')
        runs = []
        for count in counts:
            if count == 0:
                where = os.path.join(tmp, 'empty-state')
            elif count == want:
                where = state
            else:
                where = partial_state(state, count, tmp)
            run = measure(daemon, where, tmp, str(count))
            if run['peers'] != count:
                raise RuntimeError(f'the daemon loaded {run["peers"]} peers, not {count}')
            runs.append(run)
        print(json.dumps({'runs': runs, 'empty': runs[0], 'full': runs[-1]}))
    except Exception as e:  # reported in the table rather than failing the run
        print(json.dumps({'error': str(e)}))
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


main()
