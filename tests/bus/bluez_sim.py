# SPDX-License-Identifier: MIT
# -*- coding: utf-8 -*-
'''A BlueZ 5.66 simulator (and one 5.87 behaviour) for the bus tier (tests/bus/run).

A python3-dbusmock template (run as
`/usr/bin/python3 -m dbusmock --system --template tests/bus/bluez_sim.py
[-p '{"adapter": "hci0"}']`) built on dbusmock's bluez5 template, with what
the stock template lacks and blueratchetd needs:

  AgentManager1   RegisterAgent/RequestDefaultAgent remember the caller's
                  unique name, so the simulator can call the agent back like
                  bluetoothd does (SimAgentCall).
  GattManager1    RegisterApplication calls the application's
                  GetManagedObjects before it replies and records the
                  services and characteristics it found.
  LEAdvertisingManager1  RegisterAdvertisement reads the advertisement's
                  properties before it replies.
  Device1         SimConnect/SimDisconnect change Connected (the property and
                  a PropertiesChanged signal), Disconnect and Connect work.
                  SimPairNotConnected: Device1.Pair on a device that is not
                  connected, as 5.66 and as 5.82+ (GATT held until the
                  pairing ends) do it.
  Remote centrals over the daemon's GATT server, modelled on
                  src/gatt-database.c of BlueZ 5.66/5.87: CCC state per
                  device and characteristic (SimCentralSubscribe /
                  SimCentralUnsubscribe; bluetoothd calls StartNotify on each
                  enabling CCC write and StopNotify when the last central
                  disabled it); a PropertiesChanged(Value) of the
                  application goes to every connected device whose CCC on
                  that characteristic is enabled (send_notification_to_devices),
                  into that device's inbox (SimCentralRead); SimDisconnect
                  clears a device's CCCs unless it is bonded (SimSetBonded).
                  SimCentralWrite calls WriteValue on rx and
                  SimCentralReadValue calls ReadValue (e.g. on slot) with
                  {"device": <path>, "mtu": q, "link": "LE", ...} as
                  bluetoothd does.
  SimEvents       the org.blueratchet Manager1 signals seen, with the
                  CLOCK_MONOTONIC time they arrived (for latency figures).

Control methods are on org.bluez.Mock at /, next to the stock ones.
Every time is time.monotonic() (CLOCK_MONOTONIC, comparable between
processes).  Every registration and every agent call is answered
asynchronously: the daemon calls back into us before it replies.
'''

import time

import dbus
import dbus.service

# The stock template: its D-Bus methods (AddAdapter, AddDevice, ...) become
# ours, since AddTemplate picks every decorated method of this module.
from dbusmock.templates.bluez5 import *  # noqa: F401,F403 pylint: disable=wildcard-import
from dbusmock.templates import bluez5
from dbusmock import mockobject

BUS_NAME = 'org.bluez'
MAIN_OBJ = '/'
SYSTEM_BUS = True
IS_OBJECT_MANAGER = True

MOCK = 'org.bluez.Mock'
GATT_MANAGER = 'org.bluez.GattManager1'
ADV_MANAGER = 'org.bluez.LEAdvertisingManager1'
GATT_SERVICE = 'org.bluez.GattService1'
GATT_CHRC = 'org.bluez.GattCharacteristic1'
ADVERTISEMENT = 'org.bluez.LEAdvertisement1'
AGENT = 'org.bluez.Agent1'
PROPS = 'org.freedesktop.DBus.Properties'
OBJMGR = 'org.freedesktop.DBus.ObjectManager'
BR_MANAGER = 'org.blueratchet.Manager1'

RX_UUID = '6e2f0a1c-8b3d-4c52-9e1a-5b7c2d10b0a1'
TX_UUID = '6e2f0a1c-8b3d-4c52-9e1a-5b7c2d10b0a2'
SLOT_UUID = '6e2f0a1c-8b3d-4c52-9e1a-5b7c2d10b0a3'
TX_SLOT_PREFIX = '6e2f0a1c-8b3d-4c52-9e1a-5b7c2d10b1'  # + k as two hex digits


class Sim:  # pylint: disable=too-few-public-methods
    '''The simulator's state, one per process (one bluetoothd).'''

    def __init__(self):
        self.bus = None
        self.ready = 0.0          # monotonic time the (last) adapter was up
        self.agent = None         # (sender, path, capability)
        self.default_agent = None
        self.registrations = []   # (kind, adapter, detail, t)
        # adapter path -> {'sender', 'root', 'service', 'rx', 'tx', 'slot',
        # 'tx_slots': {k: path}, 'chrcs': {path: (uuid, flags)}}
        self.apps = {}
        self.advs = {}            # adapter path -> (sender, path, props)
        self.calls = {}           # id -> [status, detail]
        self.next_call = 1
        self.ccc = {}             # device path -> set of chrc paths whose CCC it enabled
        self.ntfy_cnt = {}        # chrc path -> enabled CCCs (bluetoothd's ntfy_cnt)
        self.bonded = set()       # device paths whose CCC state outlives a disconnect
        self.inbox = {}           # device path -> [(chrc path, value)] notified to it
        self.notify_calls = []    # (member, chrc path) StartNotify/StopNotify sent
        self.write_errors = []
        self.events = []          # (member, args..., t) of org.blueratchet signals
        self.probe = ['none', '']


SIM = Sim()


def _record(kind, adapter, detail):
    SIM.registrations.append((kind, str(adapter), detail, time.monotonic()))


def _add_real_method(obj, iface, fn):
    '''Exports a dbus-python method (with sender_keyword/async_callbacks,
    which dbusmock's AddMethod cannot do) on a dbusmock object.'''
    # pylint: disable=protected-access
    obj.methods.setdefault(iface, {})[fn.__name__] = (
        fn._dbus_in_signature, fn._dbus_out_signature, '', fn)


# --- AgentManager1 -----------------------------------------------------------

@dbus.service.method(bluez5.AGENT_MANAGER_IFACE, in_signature='os', out_signature='',
                     sender_keyword='sender')
def RegisterAgent(_manager, agent_path, capability, sender=None):
    caps = ['DisplayOnly', 'DisplayYesNo', 'KeyboardOnly', 'NoInputNoOutput', 'KeyboardDisplay']
    if capability not in caps:
        raise dbus.exceptions.DBusException('Unsupported capability ' + capability,
                                            name='org.bluez.Error.InvalidArguments')
    if SIM.agent and SIM.agent[0] == sender:
        raise dbus.exceptions.DBusException('Already registered',
                                            name='org.bluez.Error.AlreadyExists')
    SIM.agent = (str(sender), str(agent_path), str(capability))
    if SIM.default_agent is None:
        SIM.default_agent = SIM.agent
    _record('agent', '', f'{sender} {agent_path} {capability}')


@dbus.service.method(bluez5.AGENT_MANAGER_IFACE, in_signature='o', out_signature='',
                     sender_keyword='sender')
def RequestDefaultAgent(_manager, agent_path, sender=None):
    if not SIM.agent or SIM.agent[0] != sender or SIM.agent[1] != agent_path:
        raise dbus.exceptions.DBusException('Agent not registered',
                                            name='org.bluez.Error.DoesNotExist')
    SIM.default_agent = SIM.agent
    _record('default-agent', '', f'{sender} {agent_path}')


@dbus.service.method(bluez5.AGENT_MANAGER_IFACE, in_signature='o', out_signature='',
                     sender_keyword='sender')
def UnregisterAgent(_manager, agent_path, sender=None):
    if not SIM.agent or SIM.agent[0] != sender or SIM.agent[1] != agent_path:
        raise dbus.exceptions.DBusException('Agent not registered',
                                            name='org.bluez.Error.DoesNotExist')
    SIM.agent = None
    SIM.default_agent = None


# --- GattManager1 / LEAdvertisingManager1 ------------------------------------

@dbus.service.method(GATT_MANAGER, in_signature='oa{sv}', out_signature='',
                     sender_keyword='sender', path_keyword='adapter',
                     async_callbacks=('ok', 'err'))
def RegisterApplication(_adapter_obj, app, _options, sender=None, adapter=None, ok=None,
                        err=None):
    if adapter in SIM.apps and SIM.apps[adapter]['sender'] == sender:
        err(dbus.exceptions.DBusException('Already Exists', name='org.bluez.Error.AlreadyExists'))
        return
    proxy = SIM.bus.get_object(sender, app, introspect=False)

    def got(objects):
        found = {'sender': str(sender), 'root': str(app), 'rx': None, 'tx': None,
                 'slot': None, 'tx_slots': {}, 'chrcs': {}, 'service': None}
        for path, ifaces in objects.items():
            if GATT_SERVICE in ifaces:
                found['service'] = str(ifaces[GATT_SERVICE].get('UUID', ''))
            if GATT_CHRC in ifaces:
                uuid = str(ifaces[GATT_CHRC].get('UUID', '')).lower()
                flags = [str(f) for f in ifaces[GATT_CHRC].get('Flags', [])]
                found['chrcs'][str(path)] = (uuid, flags)
                if uuid == RX_UUID:
                    found['rx'] = str(path)
                elif uuid == TX_UUID:
                    found['tx'] = str(path)
                elif uuid == SLOT_UUID:
                    found['slot'] = str(path)
                elif uuid.startswith(TX_SLOT_PREFIX) and len(uuid) == len(TX_SLOT_PREFIX) + 2:
                    found['tx_slots'][int(uuid[-2:], 16)] = str(path)
        if not found['service']:
            err(dbus.exceptions.DBusException('No object received',
                                              name='org.bluez.Error.Failed'))
            return
        SIM.apps[adapter] = found
        _record('application', adapter,
                f"{sender} {app} service={found['service']} rx={found['rx']} tx={found['tx']} "
                f"slot={found['slot']} tx_slots={len(found['tx_slots'])}")
        ok()

    def failed(e):
        err(dbus.exceptions.DBusException('GetManagedObjects failed: ' + str(e),
                                          name='org.bluez.Error.Failed'))

    proxy.GetManagedObjects(dbus_interface=OBJMGR, reply_handler=got, error_handler=failed,
                            timeout=5)


@dbus.service.method(GATT_MANAGER, in_signature='o', out_signature='', path_keyword='adapter')
def UnregisterApplication(_adapter_obj, _app, adapter=None):
    SIM.apps.pop(adapter, None)


@dbus.service.method(ADV_MANAGER, in_signature='oa{sv}', out_signature='',
                     sender_keyword='sender', path_keyword='adapter',
                     async_callbacks=('ok', 'err'))
def RegisterAdvertisement(_adapter_obj, adv, _options, sender=None, adapter=None, ok=None,
                          err=None):
    if adapter in SIM.advs and SIM.advs[adapter][0] == sender:
        err(dbus.exceptions.DBusException('Already Exists', name='org.bluez.Error.AlreadyExists'))
        return
    proxy = SIM.bus.get_object(sender, adv, introspect=False)

    def got(props):
        if str(props.get('Type', '')) not in ('peripheral', 'broadcast'):
            err(dbus.exceptions.DBusException('Invalid Type',
                                              name='org.bluez.Error.InvalidArguments'))
            return
        SIM.advs[adapter] = (str(sender), str(adv), props)
        uuids = ','.join(str(u) for u in props.get('ServiceUUIDs', []))
        _record('advertisement', adapter, f"{sender} {adv} type={props.get('Type')} "
                f"uuids={uuids} discoverable={bool(props.get('Discoverable', False))}")
        ok()

    def failed(e):
        err(dbus.exceptions.DBusException('reading the advertisement failed: ' + str(e),
                                          name='org.bluez.Error.Failed'))

    proxy.GetAll(ADVERTISEMENT, dbus_interface=PROPS, reply_handler=got, error_handler=failed,
                 timeout=5)


@dbus.service.method(ADV_MANAGER, in_signature='o', out_signature='', path_keyword='adapter')
def UnregisterAdvertisement(_adapter_obj, _adv, adapter=None):
    SIM.advs.pop(adapter, None)


# --- control: adapters and devices -------------------------------------------

def _add_adapter(mock, name):
    path = bluez5.AddAdapter(mock, name, 'blueratchet-bus-sim')
    obj = mockobject.objects[path]
    for fn in (RegisterApplication, UnregisterApplication):
        _add_real_method(obj, GATT_MANAGER, fn)
    for fn in (RegisterAdvertisement, UnregisterAdvertisement):
        _add_real_method(obj, ADV_MANAGER, fn)
    obj.AddProperties(ADV_MANAGER, {
        'ActiveInstances': dbus.Byte(0, variant_level=1),
        'SupportedInstances': dbus.Byte(5, variant_level=1),
    })
    return path


@dbus.service.method(MOCK, in_signature='s', out_signature='s')
def SimAddAdapter(self, name):
    '''An adapter with GattManager1 and LEAdvertisingManager1 (SimReadyTime
    becomes the time it appeared).'''
    path = _add_adapter(self, name)
    SIM.ready = time.monotonic()
    return path


def _set_connected(path, value):
    dev = mockobject.objects[path]
    dev.connected = value
    dev.props[bluez5.DEVICE_IFACE]['Connected'] = dbus.Boolean(value, variant_level=1)
    changed = {'Connected': dbus.Boolean(value, variant_level=1)}
    if not value:
        dev.props[bluez5.DEVICE_IFACE]['ServicesResolved'] = dbus.Boolean(False, variant_level=1)
        changed['ServicesResolved'] = dbus.Boolean(False, variant_level=1)
    t = time.monotonic()
    dev.EmitSignal(PROPS, 'PropertiesChanged', 'sa{sv}as', [bluez5.DEVICE_IFACE, changed, []])
    return t


@dbus.service.method(MOCK, in_signature='o', out_signature='d')
def SimConnect(_self, path):
    '''An LE connection from the device: Connected=true.'''
    return _set_connected(str(path), True)


def _link_dropped(device):
    '''What bluetoothd does at att_disconnected: a bonded device keeps its
    CCC state, any other has it cleared (clear_ccc_state: each enabled CCC
    counts as a disable).  The device's inbox stays: it is what the
    central received while connected (an ABORT right before the daemon's
    Disconnect, say), and it reads it when it likes.'''
    if device in SIM.bonded:
        return
    for path in sorted(SIM.ccc.pop(device, set())):
        _ccc_disabled(path)


@dbus.service.method(MOCK, in_signature='o', out_signature='d')
def SimDisconnect(_self, path):
    '''The link dropped: Connected=false.  Returns when the signal was sent.'''
    t = _set_connected(str(path), False)
    _link_dropped(str(path))
    return t


@dbus.service.method(MOCK, in_signature='ob', out_signature='')
def SimSetBonded(_self, path, bonded):
    '''Whether the device is bonded (its CCC state survives disconnects).'''
    if bonded:
        SIM.bonded.add(str(path))
    else:
        SIM.bonded.discard(str(path))


@dbus.service.method(MOCK, in_signature='oso', out_signature='d')
def SimDisconnectThenProbe(_self, path, dest, probe):
    '''Connected=false, then (on the same connection, so the receiver sees it
    after the signal) Properties.GetAll(org.blueratchet.Session1) on `probe`
    at `dest`.  The answer is kept for SimProbeResult.'''
    t = _set_connected(str(path), False)
    _link_dropped(str(path))
    SIM.probe = ['pending', '']

    def done(props):
        SIM.probe = ['ok', f"State={props.get('State', '?')}"]

    def failed(e):
        SIM.probe = ['error', f'{e.get_dbus_name()}: {e.get_dbus_message()}']

    SIM.bus.call_async(str(dest), str(probe), PROPS, 'GetAll', 's', ['org.blueratchet.Session1'],
                       done, failed)
    return t


@dbus.service.method(MOCK, in_signature='', out_signature='ss')
def SimProbeResult(_self):
    return tuple(SIM.probe)


@dbus.service.method(MOCK, in_signature='o', out_signature='b')
def SimIsConnected(_self, path):
    return bool(mockobject.objects[str(path)].connected)


@dbus.service.method(MOCK, in_signature='', out_signature='a(sssd)')
def SimRegistrations(_self):
    return dbus.Array(SIM.registrations, signature='(sssd)')


@dbus.service.method(MOCK, in_signature='', out_signature='d')
def SimReadyTime(_self):
    return SIM.ready


@dbus.service.method(MOCK, in_signature='', out_signature='(sss)')
def SimAgent(_self):
    return SIM.default_agent or ('', '', '')


# --- control: calling the agent ----------------------------------------------

_AGENT_SIGS = {
    'RequestConfirmation': ('ou', ''),
    'RequestAuthorization': ('o', ''),
    'RequestPasskey': ('o', 'u'),
    'RequestPinCode': ('o', 's'),
    'DisplayPinCode': ('os', ''),
    'DisplayPasskey': ('ouq', ''),
    'AuthorizeService': ('os', ''),
    'Cancel': ('', ''),
    'Release': ('', ''),
}


@dbus.service.method(MOCK, in_signature='sav', out_signature='u')
def SimAgentCall(_self, method, args):
    '''Calls the default agent like bluetoothd does; returns a call id for
    SimAgentResult.  The call runs asynchronously (the agent may defer).'''
    return _agent_call(method, args)


@dbus.service.method(MOCK, in_signature='oub', out_signature='u')
def SimPairNotConnected(_self, path, passkey, gatt_held):
    '''What bluetoothd does for Device1.Pair on a device that is not
    connected, up to the agent: it connects (Connected=true), SMP starts,
    and the agent is asked RequestConfirmation(path, passkey); returns the
    call id (SimAgentResult).  The GATT client meanwhile:
      gatt_held  BlueZ 5.82 and later ("device: Elevate bt_att security if
                 bonding is in progress"): bluetoothd raised the ATT
                 channel's security as SMP was under way, so Linux holds ATT
                 until the link is encrypted: nothing is read, exported or
                 resolved.
      else       5.66, a peer without the blueratchet service: its services
                 are read at once, ServicesResolved=true, none of ours.'''
    path = str(path)
    dev = mockobject.objects[path]
    dev.connected = True
    changed = {'Connected': dbus.Boolean(True, variant_level=1)}
    if not gatt_held:
        changed['ServicesResolved'] = dbus.Boolean(True, variant_level=1)
    dev.props[bluez5.DEVICE_IFACE].update(changed)
    dev.EmitSignal(PROPS, 'PropertiesChanged', 'sa{sv}as', [bluez5.DEVICE_IFACE, changed, []])
    return _agent_call('RequestConfirmation', [dbus.ObjectPath(path), dbus.UInt32(passkey)])


def _agent_call(method, args):
    if not SIM.default_agent:
        raise dbus.exceptions.DBusException('no agent registered', name=MOCK + '.NoAgent')
    sig = _AGENT_SIGS[str(method)][0]
    call = SIM.next_call
    SIM.next_call += 1
    SIM.calls[call] = ['pending', '', time.monotonic(), 0.0]
    sender, path, _ = SIM.default_agent
    proxy = SIM.bus.get_object(sender, path, introspect=False)

    def done(*ret):
        SIM.calls[call][0] = 'ok'
        SIM.calls[call][1] = ' '.join(str(r) for r in ret)
        SIM.calls[call][3] = time.monotonic()

    def failed(e):
        SIM.calls[call][0] = 'error'
        SIM.calls[call][1] = f'{e.get_dbus_name()}: {e.get_dbus_message()}'
        SIM.calls[call][3] = time.monotonic()

    proxy.get_dbus_method(str(method), AGENT)(*args, signature=sig, reply_handler=done,
                                              error_handler=failed, timeout=60)
    return dbus.UInt32(call)


@dbus.service.method(MOCK, in_signature='u', out_signature='ssdd')
def SimAgentResult(_self, call):
    '''(status, detail, sent, answered): status pending | ok | error.'''
    status, detail, sent, answered = SIM.calls[int(call)]
    return (status, detail, sent, answered)


# --- control: remote centrals over the daemon's GATT server -------------------

def _app(adapter):
    app = SIM.apps.get(str(adapter))
    if not app or not app['rx'] or not app['tx']:
        raise dbus.exceptions.DBusException('no application registered on ' + str(adapter),
                                            name=MOCK + '.NoApplication')
    return app


def _chrc(device, uuid):
    '''(app, path) of the characteristic with `uuid` in the application
    of the device's adapter.'''
    app = _app(str(device).rsplit('/', 1)[0])
    for path, (u, _flags) in app['chrcs'].items():
        if u == str(uuid).lower():
            return app, path
    raise dbus.exceptions.DBusException(f'no characteristic {uuid}',
                                        name=MOCK + '.NoCharacteristic')


def _notify_method(app, path, member):
    SIM.notify_calls.append((member, path))
    # Best effort, as bluetoothd: the reply is ignored.
    SIM.bus.call_async(app['sender'], path, GATT_CHRC, member, '', [], lambda *_: None,
                       lambda *_: None)


def _ccc_disabled(path):
    '''ccc_write_cb with value 0: the count drops; StopNotify at zero.'''
    if not SIM.ntfy_cnt.get(path):
        return
    SIM.ntfy_cnt[path] -= 1
    if SIM.ntfy_cnt[path] == 0:
        for app in SIM.apps.values():
            if path in app['chrcs']:
                _notify_method(app, path, 'StopNotify')


@dbus.service.method(MOCK, in_signature='os', out_signature='')
def SimCentralSubscribe(_self, device, uuid):
    '''The central at `device` enabled notifications (CCC 0x0001) of the
    characteristic `uuid`: bluetoothd calls StartNotify on every such write
    that changes the device's CCC (an identical value just succeeds).'''
    app, path = _chrc(device, uuid)
    mine = SIM.ccc.setdefault(str(device), set())
    if path in mine:
        return
    # Blocking, as the callers expect the subscription to be in place (the
    # daemon answers StartNotify at once and never calls the simulator).
    SIM.notify_calls.append(('StartNotify', path))
    SIM.bus.call_blocking(app['sender'], path, GATT_CHRC, 'StartNotify', '', [], timeout=5)
    mine.add(path)
    SIM.ntfy_cnt[path] = SIM.ntfy_cnt.get(path, 0) + 1


@dbus.service.method(MOCK, in_signature='os', out_signature='')
def SimCentralUnsubscribe(_self, device, uuid):
    '''The central at `device` wrote 0 to that characteristic's CCC.'''
    _app_, path = _chrc(device, uuid)
    mine = SIM.ccc.get(str(device), set())
    if path in mine:
        mine.discard(path)
        _ccc_disabled(path)


@dbus.service.method(MOCK, in_signature='oayq', out_signature='')
def SimCentralWrite(_self, device, value, mtu):
    '''The central wrote `value` to rx (ATT Write Command), at ATT MTU `mtu`.'''
    app = _app(str(device).rsplit('/', 1)[0])
    options = dbus.Dictionary({
        'device': dbus.ObjectPath(device),
        'mtu': dbus.UInt16(mtu),
        'link': dbus.String('LE'),
        'type': dbus.String('command'),
        'offset': dbus.UInt16(0),
    }, signature='sv')

    def failed(e):
        SIM.write_errors.append(f'{e.get_dbus_name()}: {e.get_dbus_message()}')

    SIM.bus.call_async(app['sender'], app['rx'], GATT_CHRC, 'WriteValue', 'aya{sv}',
                       [dbus.ByteArray(bytes(value)), options], lambda *_: None, failed)


@dbus.service.method(MOCK, in_signature='osq', out_signature='ay',
                     async_callbacks=('ok', 'err'))
def SimCentralReadValue(_self, device, uuid, mtu, ok=None, err=None):
    '''The central read the characteristic `uuid` (ATT Read Request): every
    read reaches the application's ReadValue, with the reading device named
    in the options (read_setup_cb / append_options); an error of the
    application comes back as the error of this call.'''
    app, path = _chrc(device, uuid)
    options = dbus.Dictionary({
        'device': dbus.ObjectPath(device),
        'mtu': dbus.UInt16(mtu),
        'link': dbus.String('LE'),
    }, signature='sv')

    def done(value):
        ok(dbus.ByteArray(bytes(value)))

    def failed(e):
        err(dbus.exceptions.DBusException(e.get_dbus_message(), name=e.get_dbus_name()))

    SIM.bus.call_async(app['sender'], path, GATT_CHRC, 'ReadValue', 'a{sv}', [options], done,
                       failed)


@dbus.service.method(MOCK, in_signature='o', out_signature='aay')
def SimCentralRead(_self, device):
    '''Values notified to the central at `device` since the last read, in
    order, from whichever characteristic (what its radio received).'''
    got = SIM.inbox.pop(str(device), [])
    return dbus.Array([dbus.ByteArray(v) for _p, v in got], signature='ay')


@dbus.service.method(MOCK, in_signature='o', out_signature='a(say)')
def SimCentralReadFrom(_self, device):
    '''SimCentralRead with the characteristic path of each value.'''
    got = SIM.inbox.pop(str(device), [])
    return dbus.Array([(p, dbus.ByteArray(v)) for p, v in got], signature='(say)')


@dbus.service.method(MOCK, in_signature='', out_signature='a(ss)')
def SimNotifyCalls(_self):
    '''StartNotify/StopNotify calls bluetoothd made on the application.'''
    return dbus.Array(SIM.notify_calls, signature='(ss)')


@dbus.service.method(MOCK, in_signature='', out_signature='as')
def SimWriteErrors(_self):
    return dbus.Array(SIM.write_errors, signature='s')


@dbus.service.method(MOCK, in_signature='', out_signature='a(sssssd)')
def SimEvents(_self):
    '''org.blueratchet signals seen: (member, peer_id, kind-or-reason,
    epoch-or-"", fingerprint-or-"", t); BondRefused: (member, peer_id,
    address, "", reason, t).'''
    return dbus.Array(SIM.events, signature='(sssssd)')


@dbus.service.method(MOCK, in_signature='', out_signature='a(sssssd)')
def SimEventsTake(_self):
    '''SimEvents, and forget them (the load case sees tens of thousands).'''
    out = dbus.Array(SIM.events, signature='(sssssd)')
    SIM.events = []
    return out


def _on_tx(_iface, changed, _invalidated, path=None, sender=None):
    '''property_changed_cb -> send_notification_to_devices: a Value change of
    an application's characteristic goes to every device whose CCC on it is
    enabled and which is connected (BlueZ has no other way: the application
    cannot name a device).'''
    if 'Value' not in changed:
        return
    for adapter, app in SIM.apps.items():
        if app['sender'] != sender or path not in app['chrcs']:
            continue
        value = bytes(changed['Value'])
        for device, paths in SIM.ccc.items():
            if path not in paths or device.rsplit('/', 1)[0] != adapter:
                continue
            dev = mockobject.objects.get(device)
            if dev is None or not getattr(dev, 'connected', False):
                continue
            SIM.inbox.setdefault(device, []).append((str(path), value))


def _on_manager_signal(*args, member=None):
    t = time.monotonic()
    if member == 'SessionMinted':
        _session, _adapter, peer, kind, epoch, fingerprint = args[:6]
        SIM.events.append((member, str(peer), str(kind), str(int(epoch)), str(fingerprint), t))
    elif member == 'SessionInvalidated':
        _session, _adapter, peer, reason = args[:4]
        SIM.events.append((member, str(peer), str(reason), '', '', t))
    elif member == 'BondRefused':
        _adapter, peer, address, reason = args[:4]
        SIM.events.append((member, str(peer), str(address), '', str(reason), t))


_STOCK_DISCONNECT = bluez5.Disconnect


def _device_disconnect(device):
    '''Device1.Disconnect (the daemon's "no session, no service"): the
    stock method, and the link's CCC state as at any other drop.'''
    _STOCK_DISCONNECT(device)
    _link_dropped(str(device.path))


def load(mock, parameters):
    # AddDevice looks Disconnect up in its module at each call.
    bluez5.Disconnect = _device_disconnect
    bluez5.load(mock, parameters)
    SIM.bus = mock.bus_name.get_bus()
    manager = mockobject.objects['/org/bluez']
    for fn in (RegisterAgent, RequestDefaultAgent, UnregisterAgent):
        _add_real_method(manager, bluez5.AGENT_MANAGER_IFACE, fn)
    SIM.bus.add_signal_receiver(_on_tx, signal_name='PropertiesChanged', dbus_interface=PROPS,
                                arg0=GATT_CHRC, path_keyword='path', sender_keyword='sender')
    SIM.bus.add_signal_receiver(_on_manager_signal, dbus_interface=BR_MANAGER,
                                member_keyword='member')
    if parameters and parameters.get('adapter'):
        # dbusmock registers the main object only after load(); the stock
        # AddAdapter needs it for InterfacesAdded.
        mockobject.objects.setdefault('/', mock)
        _add_adapter(mock, str(parameters['adapter']))
    SIM.ready = time.monotonic()
