// SPDX-License-Identifier: MIT
// The central side: the peer's blueratchet characteristics, reached through
// BlueZ's GATT client objects under the device path.
//
// Which characteristic to listen on: if the peripheral has `slot`, we read
// it first and listen on the tx.k it names (the peripheral then notifies our
// fragments there and to nobody else, so several centrals can handshake with
// it at once); without slot, with a failed read or when it has no slot left
// (0xff), on the shared tx as a 1.1 central does (PROTOCOL.md 3.1).
//
// Preferred transport: AcquireNotify on that characteristic and AcquireWrite
// on rx (SOCK_SEQPACKET sockets, one datagram per ATT value, the MTU in the
// reply; the sockets HUP when the link drops).  Fallback when BlueZ refuses
// either: StartNotify + PropertiesChanged(Value), WriteValue(type=command)
// for rx.  A StartNotify session outlives the link in BlueZ (its client
// writes the CCC again at the next connection), so stop() ends it with
// StopNotify: at the next connection the slot may be another central's.
// Subscribing completes before the first write, so nothing the peripheral
// sends can be missed.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "core/util/bytes.hpp"
#include "daemon/bluez/bluez.hpp"
#include "daemon/event_loop.hpp"
#include "daemon/manager/connection.hpp"

namespace br::daemon::bluez {

class GattClient {
  public:
    struct Hooks {
        // The transport is up: false when the manager declined (then the
        // sockets are released).
        std::function<bool(const std::string& device, LinkIo io)> ready;
        // One notified value from the device's tx.
        std::function<void(const std::string& device, ByteView fragment)> fragment;
        std::function<void(const std::string& device, const std::string& why)> lost;
        // The PSM the peripheral's daemon takes session channels on (read
        // from its `psm` characteristic once the link is handed over), and
        // ours, written to it so that it can open channels to us (0: none).
        std::function<void(const std::string& device, std::uint16_t psm)> peer_psm;
        std::uint16_t our_psm = 0;
    };
    GattClient(ProxyPool& pool, EventLoop& loop, Hooks hooks);
    ~GattClient();

    // Starts on `device` (once per connection) with its characteristics (rx
    // and tx at least).
    void start(const std::string& device, const PeerChrcs& chrcs);
    bool active(const std::string& device) const { return links_.count(device) != 0; }
    // Hands on what the peer notified before its link went and is still
    // waiting in our socket (call before declaring the link lost).
    void drain(const std::string& device);
    // The connection is gone: sockets closed, state dropped.
    void stop(const std::string& device);
    void stop_all();
    // A PropertiesChanged(Value) of a characteristic (StartNotify fallback).
    void chrc_value(const std::string& path, ByteView value);

  private:
    struct Link {
        std::string device, rx;
        PeerChrcs chrcs;
        std::string notify;               // the characteristic we listen on: tx.k or tx
        std::optional<std::size_t> slot;  // k, or none: the shared tx
        unsigned gen = 0;
        int notify_fd = -1, write_fd = -1;
        std::size_t mtu = 23;
        bool notify_via_signal = false;
        bool start_notify_sent = false;  // a StartNotify session to end in stop()
        bool handed = false;             // the manager took the link (ready said yes)
    };
    void read_slot(const std::string& device, unsigned gen);
    void subscribe(const std::string& device, unsigned gen);
    void acquire_write(const std::string& device, unsigned gen);
    void up(const std::string& device, unsigned gen);
    void exchange_psm(const std::string& device, unsigned gen);
    void on_notify_fd(const std::string& device, unsigned gen, std::uint32_t events);
    bool read_pending(const std::string& device, unsigned gen);
    bool send(const std::string& device, unsigned gen, ByteView fragment);
    Link* find(const std::string& device, unsigned gen);
    void close_fds(Link& l);

    ProxyPool& pool_;
    EventLoop& loop_;
    Hooks hooks_;
    std::map<std::string, Link> links_;
    unsigned next_gen_ = 1;
};

}  // namespace br::daemon::bluez
