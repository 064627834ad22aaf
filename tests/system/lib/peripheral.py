#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Stand-in peripheral for host B until blueratchetd exists.

Registers with the local bluetoothd, over the system bus:
  * an Agent1 (KeyboardDisplay) that accepts numeric comparison and logs the
    passkey it was shown ("AGENT confirm <addr> <passkey>"),
  * a GATT application with one service and two characteristics:
      PLAIN_UUID   flags read                        -> PLAIN_VALUE
      SECRET_UUID  flags encrypt-authenticated-read  -> SECRET_VALUE
  * a connectable LE advertisement carrying the service UUID.
bluetoothd forgets all three when it restarts, so the script watches
org.bluez's owner and registers everything again; each complete registration
prints "REGISTERED <n>".  Output is line-buffered for the scenario to wait on.
"""
import os
import sys

import dbus
import dbus.exceptions
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

# The layout is shared with the scenarios through lib/guest.sh's BR_GATT_*.
SERVICE_UUID = os.environ.get("BR_GATT_SERVICE", "6b1e0001-5a1f-4c2e-9b7e-b1e00000000a")
PLAIN_UUID = os.environ.get("BR_GATT_PLAIN", "6b1e0002-5a1f-4c2e-9b7e-b1e00000000a")
SECRET_UUID = os.environ.get("BR_GATT_SECRET", "6b1e0003-5a1f-4c2e-9b7e-b1e00000000a")
PLAIN_VALUE = os.environ.get("BR_GATT_PLAIN_VALUE", "br-plain-1").encode()
SECRET_VALUE = os.environ.get("BR_GATT_SECRET_VALUE", "br-secret-ok").encode()

BLUEZ = "org.bluez"
APP_PATH = "/blueratchet/testbed"
AGENT_PATH = "/blueratchet/testbed/agent"
ADV_PATH = "/blueratchet/testbed/adv0"
GATT_SVC = "org.bluez.GattService1"
GATT_CHR = "org.bluez.GattCharacteristic1"
PROPS = "org.freedesktop.DBus.Properties"


def say(*args):
    print(*args, flush=True)


class Rejected(dbus.exceptions.DBusException):
    _dbus_error_name = "org.bluez.Error.Rejected"


class Agent(dbus.service.Object):
    @dbus.service.method("org.bluez.Agent1", in_signature="", out_signature="")
    def Release(self):
        say("AGENT release")

    @dbus.service.method("org.bluez.Agent1", in_signature="ou", out_signature="")
    def RequestConfirmation(self, device, passkey):
        say("AGENT confirm %s %06d" % (device, passkey))

    @dbus.service.method("org.bluez.Agent1", in_signature="o", out_signature="")
    def RequestAuthorization(self, device):
        say("AGENT authorize %s" % device)

    @dbus.service.method("org.bluez.Agent1", in_signature="ouq", out_signature="")
    def DisplayPasskey(self, device, passkey, entered):
        say("AGENT display %s %06d" % (device, passkey))

    @dbus.service.method("org.bluez.Agent1", in_signature="o", out_signature="u")
    def RequestPasskey(self, device):
        say("AGENT passkey-request %s (rejected)" % device)
        raise Rejected("no keyboard in the testbed")

    @dbus.service.method("org.bluez.Agent1", in_signature="os", out_signature="")
    def AuthorizeService(self, device, uuid):
        say("AGENT authorize-service %s %s" % (device, uuid))

    @dbus.service.method("org.bluez.Agent1", in_signature="", out_signature="")
    def Cancel(self):
        say("AGENT cancel")


class Characteristic(dbus.service.Object):
    def __init__(self, bus, path, service, uuid, flags, value):
        super().__init__(bus, path)
        self.path, self.service, self.uuid = path, service, uuid
        self.flags, self.value = flags, value

    def props(self):
        return {GATT_CHR: {
            "Service": dbus.ObjectPath(self.service),
            "UUID": self.uuid,
            "Flags": dbus.Array(self.flags, signature="s"),
        }}

    @dbus.service.method(GATT_CHR, in_signature="a{sv}", out_signature="ay")
    def ReadValue(self, options):
        say("GATT read %s by %s" % (self.uuid, options.get("device", "?")))
        return dbus.Array(self.value, signature="y")


class Application(dbus.service.Object):
    def __init__(self, bus):
        super().__init__(bus, APP_PATH)
        self.service_path = APP_PATH + "/service0"
        self.chars = [
            Characteristic(bus, self.service_path + "/char0", self.service_path,
                           PLAIN_UUID, ["read"], PLAIN_VALUE),
            Characteristic(bus, self.service_path + "/char1", self.service_path,
                           SECRET_UUID, ["encrypt-authenticated-read"], SECRET_VALUE),
        ]

    @dbus.service.method("org.freedesktop.DBus.ObjectManager", out_signature="a{oa{sa{sv}}}")
    def GetManagedObjects(self):
        objs = {dbus.ObjectPath(self.service_path): {GATT_SVC: {
            "UUID": SERVICE_UUID, "Primary": True,
            "Characteristics": dbus.Array([dbus.ObjectPath(c.path) for c in self.chars],
                                          signature="o")}}}
        for c in self.chars:
            objs[dbus.ObjectPath(c.path)] = c.props()
        return objs


class Advertisement(dbus.service.Object):
    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, iface, prop):
        return self.GetAll(iface)[prop]

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return {"Type": "peripheral",
                "ServiceUUIDs": dbus.Array([SERVICE_UUID], signature="s"),
                "LocalName": "br-hostB",
                # LE General Discoverable flag: without it bluetoothd hides
                # the device from a discovery session.
                "Discoverable": dbus.Boolean(True)}

    @dbus.service.method("org.bluez.LEAdvertisement1", in_signature="", out_signature="")
    def Release(self):
        say("ADV released")


def main():
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SystemBus()
    adapter = sys.argv[1] if len(sys.argv) > 1 else "/org/bluez/hci0"
    agent, app, adv = Agent(bus, AGENT_PATH), Application(bus), Advertisement(bus, ADV_PATH)
    state = {"n": 0, "pending": 0}

    def failed(what):
        def cb(err):
            say("ERROR %s: %s" % (what, err))
            loop.quit()
        return cb

    def done(what):
        def cb(*_):
            say("OK %s" % what)
            state["pending"] -= 1
            if state["pending"] == 0:
                state["n"] += 1
                say("REGISTERED %d" % state["n"])
        return cb

    def register():
        try:
            obj = bus.get_object(BLUEZ, adapter)
        except dbus.exceptions.DBusException as e:
            say("waiting for %s: %s" % (adapter, e.get_dbus_name()))
            return True  # GLib timeout: try again
        ad_props = dbus.Interface(obj, PROPS)
        try:
            ad_props.Set("org.bluez.Adapter1", "Powered", dbus.Boolean(True))
        except dbus.exceptions.DBusException as e:
            say("waiting for %s: %s" % (adapter, e.get_dbus_name()))
            return True
        try:
            am = dbus.Interface(bus.get_object(BLUEZ, "/org/bluez"), "org.bluez.AgentManager1")
            am.RegisterAgent(AGENT_PATH, "KeyboardDisplay")
            am.RequestDefaultAgent(AGENT_PATH)
            say("OK agent")
            ad_props.Set("org.bluez.Adapter1", "Pairable", dbus.Boolean(True))
            state["pending"] = 2
            dbus.Interface(obj, "org.bluez.GattManager1").RegisterApplication(
                APP_PATH, {}, reply_handler=done("gatt"), error_handler=failed("gatt"))
            dbus.Interface(obj, "org.bluez.LEAdvertisingManager1").RegisterAdvertisement(
                ADV_PATH, {}, reply_handler=done("advertisement"),
                error_handler=failed("advertisement"))
        except dbus.exceptions.DBusException as e:
            failed("registration")(e)
        return False

    def owner_changed(name, old, new):
        if name == BLUEZ and new:
            say("org.bluez appeared (%s): registering again" % new)
            GLib.timeout_add(300, register)
        elif name == BLUEZ:
            say("org.bluez vanished")

    bus.add_signal_receiver(owner_changed, "NameOwnerChanged", "org.freedesktop.DBus",
                            arg0=BLUEZ)
    loop = GLib.MainLoop()
    if bus.name_has_owner(BLUEZ):
        GLib.timeout_add(10, register)
    say("peripheral started")
    loop.run()
    return 1


if __name__ == "__main__":
    sys.exit(main())
