#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# A session channel service and client in one file (docs/API.md).
#   echo-service.py serve             offer "echo" to every peer with a live session
#   echo-service.py connect PEER_ID   send a line to PEER_ID's "echo", print the answer
# Needs python3-dbus and python3-gi; run as root or as a member of "bluetooth".
import socket, sys
import dbus, dbus.service, dbus.mainloop.glib
from gi.repository import GLib

dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.SystemBus()
manager = dbus.Interface(bus.get_object('org.blueratchet', '/org/blueratchet'),
                         'org.blueratchet.Manager1')

class Echo(dbus.service.Object):
    @dbus.service.method('org.blueratchet.ServiceHandler1', in_signature='sssh')
    def NewChannel(self, adapter, peer_id, service, channel):
        sock = socket.socket(fileno=channel.take())  # a connected socket: plaintext
        print(f'{service}: a channel from {peer_id} on {adapter}', flush=True)
        def echo(fd, condition):
            data = sock.recv(65536)
            if not data:  # the peer ended its side, or the session ended
                sock.close()
                return False
            sock.sendall(data)
            return True
        GLib.io_add_watch(sock.fileno(), GLib.IO_IN | GLib.IO_HUP, echo)

if sys.argv[1] == 'serve':
    Echo(bus, '/com/example/echo')
    manager.RegisterService('echo', '/com/example/echo')
    GLib.MainLoop().run()
else:  # answered once the peer's daemon accepted; the session's TLS is under it
    sock = socket.socket(fileno=manager.OpenChannel('hci0', sys.argv[2], 'echo').take())
    sock.sendall(b'hello over the session\n')
    sock.shutdown(socket.SHUT_WR)  # our side is done; the answer still comes
    print(sock.makefile().read(), end='')
