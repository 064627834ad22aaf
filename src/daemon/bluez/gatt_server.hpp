// The peripheral side: our GATT application on one adapter, registered with
// GattManager1.RegisterApplication (asynchronously: bluetoothd calls our
// GetManagedObjects before it replies).
//
//   <app>                      org.freedesktop.DBus.ObjectManager (sd-bus's own)
//   <app>/service0             GattService1  UUID kServiceUuid, primary
//   <app>/service0/rx          GattCharacteristic1  write-without-response, write
//   <app>/service0/tx          GattCharacteristic1  notify
//
// rx uses WriteValue, not AcquireWrite: in BlueZ 5.66 an acquired write
// socket belongs to the characteristic, not to a device, so writes of two
// centrals would arrive mixed on one socket; WriteValue names the device
// (options["device"]) and the MTU (options["mtu"]) with every fragment.  tx
// notifies through PropertiesChanged(Value) (bluetoothd sends it to the
// subscribed centrals; see docs/DAEMON.md for the one-central-at-a-time
// consequence).
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <functional>
#include <memory>
#include <string>

#include "core/util/bytes.hpp"
#include "daemon/bluez/bluez.hpp"

namespace br::daemon::bluez {

class GattServer {
  public:
    // A fragment written to rx by `device` at the given ATT MTU.
    using WriteHook =
        std::function<void(const std::string& device, ByteView fragment, std::size_t mtu)>;

    // `bluez_owner` gives org.bluez's current unique name ("" if none): rx
    // writes and tx subscriptions from anyone else are refused (NotPermitted).
    GattServer(sdbus::IConnection& conn, ProxyPool& pool, std::string adapter_path,
               std::string adapter_name, WriteHook on_write,
               std::function<std::string()> bluez_owner);

    void register_with_bluez();
    bool registered() const { return registered_; }
    void bluez_gone() { registered_ = false; }
    // Sends one fragment as a notification on tx.
    bool notify(ByteView fragment);

  private:
    bool from_bluez(sdbus::IObject& obj) const;

    sdbus::IConnection& conn_;
    ProxyPool& pool_;
    std::string adapter_path_;
    std::string adapter_name_;
    std::string root_, service_, rx_, tx_;
    WriteHook on_write_;
    std::function<std::string()> bluez_owner_;
    std::unique_ptr<sdbus::IObject> app_, service_obj_, rx_obj_, tx_obj_;
    bool notifying_ = false;
    bool registered_ = false;
    unsigned generation_ = 0;
};

}  // namespace br::daemon::bluez
