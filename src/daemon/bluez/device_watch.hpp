// SPDX-License-Identifier: MIT
// What BlueZ has, kept current from signals: adapters, devices and GATT
// characteristics (org.freedesktop.DBus.ObjectManager of org.bluez), and who
// owns org.bluez (NameOwnerChanged).  Three match rules in all:
//   PropertiesChanged under path_namespace='/org/bluez' (Device1, Adapter1,
//   GattCharacteristic1), InterfacesAdded/Removed on '/', and
//   NameOwnerChanged for org.bluez.
// Signals whose sender is not org.bluez's current owner are ignored.  When
// org.bluez gets a new owner (a bluetoothd restart) everything is reloaded
// and bluez_up() fires again, so the daemon registers again.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/util/bytes.hpp"
#include "daemon/bluez/bluez.hpp"

namespace br::daemon::bluez {

class DeviceWatch {
  public:
    struct Adapter {
        std::string path, name, address;
        bool powered = false;
    };
    struct Device {
        std::string path, adapter, address;
        bool connected = false, resolved = false;
        // Counts Connected false->true: tells a timer armed on one connection
        // from the next connection of the same device.
        std::uint64_t connection = 0;
    };
    struct Chrc {
        std::string path, device, uuid;
    };
    struct Hooks {
        std::function<void()> bluez_up;  // objects loaded, owner known
        std::function<void()> bluez_down;
        std::function<void(const Adapter&)> adapter_up;  // added or changed
        std::function<void(const std::string& path)> adapter_removed;
        std::function<void(const Device& now, const Device& before)> device_changed;
        std::function<void(const std::string& path)> device_removed;
        std::function<void(const Chrc&)> chrc_added;
        std::function<void(const std::string& path, ByteView value)> chrc_value;
    };

    DeviceWatch(sdbus::IConnection& conn, ProxyPool& pool, Hooks hooks);
    void start();

    const std::string& owner() const { return owner_; }
    const std::map<std::string, Adapter>& adapters() const { return adapters_; }
    const Device* device(const std::string& path) const;
    // Our characteristics under a device.
    PeerChrcs our_chrcs(const std::string& device) const;

  private:
    void on_owner(const std::string& owner);
    void load_objects();
    // `announce`: call chrc_added for one of our characteristics (the
    // initial load announces them only once all are known).
    void add_interfaces(const std::string& path, const Interfaces& ifaces, bool announce = true);
    void remove_interfaces(const std::string& path, const std::vector<std::string>& ifaces);
    void on_properties_changed(sdbus::Message& msg);
    void update_device(const std::string& path, const Properties& props);
    void update_adapter(const std::string& path, const Properties& props);

    sdbus::IConnection& conn_;
    ProxyPool& pool_;
    Hooks hooks_;
    std::unique_ptr<sdbus::IProxy> dbus_;
    std::string owner_;
    unsigned generation_ = 0;
    std::map<std::string, Adapter> adapters_;
    std::map<std::string, Device> devices_;
    std::map<std::string, Chrc> chrcs_;
};

}  // namespace br::daemon::bluez
