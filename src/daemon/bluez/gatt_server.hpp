// SPDX-License-Identifier: MIT
// The peripheral side: our GATT application on one adapter, registered with
// GattManager1.RegisterApplication (asynchronously: bluetoothd calls our
// GetManagedObjects before it replies).
//
//   <app>                      org.freedesktop.DBus.ObjectManager (sd-bus's own)
//   <app>/service0             GattService1  UUID kServiceUuid, primary
//   <app>/service0/rx          GattCharacteristic1  write-without-response, write
//   <app>/service0/tx          GattCharacteristic1  notify (shared)
//   <app>/service0/slot        GattCharacteristic1  read
//   <app>/service0/tx0..tx31   GattCharacteristic1  notify (tx.k, one central each)
//
// rx uses WriteValue, not AcquireWrite: in BlueZ 5.66 an acquired write
// socket belongs to the characteristic, not to a device, so writes of two
// centrals would arrive mixed on one socket; WriteValue names the device
// (options["device"]) and the MTU (options["mtu"]) with every fragment.
//
// Notifications go out as PropertiesChanged(Value), which bluetoothd sends
// to every central whose CCC on that characteristic is enabled: the app
// cannot name a device.  So a central that reads `slot` (ReadValue names the
// device) gets its own tx.k and we notify its fragments there only; a
// central that does not (a 1.1 build, or past kTxSlots) gets them on the
// shared tx, as before, one handshaking central at a time.  Not AcquireNotify
// on the server side: BlueZ 5.66 shares one socket per characteristic, and
// 5.87 may close another device's socket when a central disconnects (BlueZ
// issue #1452); docs/DAEMON.md, "GATT service".
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/util/bytes.hpp"
#include "daemon/bluez/bluez.hpp"
#include "daemon/bluez/slot_table.hpp"

namespace br::daemon::bluez {

class GattServer {
  public:
    // A fragment written to rx by `device` at the given ATT MTU.
    using WriteHook =
        std::function<void(const std::string& device, ByteView fragment, std::size_t mtu)>;

    // `bluez_owner` gives org.bluez's current unique name ("" if none): rx
    // writes, slot reads and tx/tx.k subscriptions from anyone else are
    // refused (NotPermitted).  `disconnected(device)`: the device is known to
    // be disconnected (a slot read still in flight from a dropped link gets
    // no slot).
    // `channel_psm`: the PSM we take session channels on (0: none, and no
    // `psm` characteristic); `on_psm(device, psm)`: a central wrote its own.
    GattServer(sdbus::IConnection& conn, ProxyPool& pool, std::string adapter_path,
               std::string adapter_name, WriteHook on_write,
               std::function<std::string()> bluez_owner,
               std::function<bool(const std::string& device)> disconnected,
               std::uint16_t channel_psm = 0,
               std::function<void(const std::string& device, std::uint16_t psm)> on_psm = {});

    void register_with_bluez();
    bool registered() const { return registered_; }
    // bluetoothd left: registration and every slot are gone.
    void bluez_gone();
    // Sends one fragment to `device`: on its tx.k if it read slot k on this
    // connection, else on the shared tx.
    bool notify(const std::string& device, ByteView fragment);
    // The device disconnected or went away: its slot is free.
    void release(const std::string& device);

  private:
    struct NotifyChrc {
        std::string path;
        std::unique_ptr<sdbus::IObject> obj;
        bool notifying = false;
    };
    bool from_bluez(sdbus::IObject& obj) const;
    void add_notify_chrc(NotifyChrc& c, std::string uuid, std::string name);
    std::vector<std::uint8_t> read_slot(const Properties& options);
    void slot_pool_full(const std::string& address);

    sdbus::IConnection& conn_;
    ProxyPool& pool_;
    std::string adapter_path_;
    std::string adapter_name_;
    std::string root_, service_, rx_, slot_, psm_;
    WriteHook on_write_;
    std::function<std::string()> bluez_owner_;
    std::function<bool(const std::string&)> disconnected_;
    std::unique_ptr<sdbus::IObject> app_, service_obj_, rx_obj_, slot_obj_, psm_obj_;
    std::uint16_t channel_psm_ = 0;
    std::function<void(const std::string& device, std::uint16_t psm)> on_psm_;
    void add_psm_chrc();
    NotifyChrc tx_;
    std::vector<NotifyChrc> tx_slots_;  // tx.k at index k; sized once, never moved
    SlotTable slots_{kTxSlots};
    std::optional<std::chrono::steady_clock::time_point> full_warned_;
    std::size_t full_unwarned_ = 0;
    bool registered_ = false;
    unsigned generation_ = 0;
};

}  // namespace br::daemon::bluez
