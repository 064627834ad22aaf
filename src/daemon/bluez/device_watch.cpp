// SPDX-License-Identifier: MIT
#include "daemon/bluez/device_watch.hpp"

#include "daemon/log.hpp"

namespace br::daemon::bluez {

DeviceWatch::DeviceWatch(sdbus::IConnection& conn, ProxyPool& pool, Hooks hooks)
    : conn_(conn), pool_(pool), hooks_(std::move(hooks)) {
    dbus_ = sdbus::createProxy(conn_, "org.freedesktop.DBus", "/org/freedesktop/DBus");
}

void DeviceWatch::start() {
    conn_.addMatch(
        "type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
        "path_namespace='/org/bluez'",
        [this](sdbus::Message& msg) {
            guarded("PropertiesChanged", [&] {
                if (owner_.empty() || msg.getSender() != owner_) return;
                on_properties_changed(msg);
            });
        },
        sdbus::floating_slot);
    conn_.addMatch(
        "type='signal',interface='org.freedesktop.DBus.ObjectManager',path='/'",
        [this](sdbus::Message& msg) {
            guarded("ObjectManager signal", [&] {
                if (owner_.empty() || msg.getSender() != owner_) return;
                sdbus::ObjectPath path;
                msg >> path;
                if (msg.getMemberName() == "InterfacesAdded") {
                    Interfaces ifaces;
                    msg >> ifaces;
                    add_interfaces(path, ifaces);
                } else if (msg.getMemberName() == "InterfacesRemoved") {
                    std::vector<std::string> ifaces;
                    msg >> ifaces;
                    remove_interfaces(path, ifaces);
                }
            });
        },
        sdbus::floating_slot);
    conn_.addMatch(
        "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
        "member='NameOwnerChanged',arg0='org.bluez'",
        [this](sdbus::Message& msg) {
            guarded("NameOwnerChanged", [&] {
                std::string name, old_owner, new_owner;
                msg >> name >> old_owner >> new_owner;
                if (name != kService) return;
                on_owner(new_owner);
            });
        },
        sdbus::floating_slot);
    unsigned gen = generation_;
    dbus_->callMethodAsync("GetNameOwner")
        .onInterface("org.freedesktop.DBus")
        .withArguments(std::string(kService))
        .uponReplyInvoke([this, gen](const sdbus::Error* err, std::string owner) {
            guarded("GetNameOwner reply", [&] {
                if (gen != generation_ || !owner_.empty()) return;  // a signal was faster
                if (err) {
                    log::info("org.bluez is not on the bus yet: waiting for bluetoothd");
                    return;
                }
                on_owner(owner);
            });
        });
}

void DeviceWatch::on_owner(const std::string& owner) {
    if (owner == owner_) return;
    ++generation_;
    if (!owner_.empty()) {
        log::warning("org.bluez vanished (owner ", owner_, "): bluetoothd stopped");
        owner_.clear();
        devices_.clear();
        chrcs_.clear();
        auto old = std::move(adapters_);
        adapters_.clear();
        if (hooks_.bluez_down) hooks_.bluez_down();
        for (auto& [p, a] : old)
            if (hooks_.adapter_removed) hooks_.adapter_removed(p);
    }
    if (owner.empty()) return;
    owner_ = owner;
    log::info("org.bluez is ", owner, ": loading its objects");
    load_objects();
}

void DeviceWatch::load_objects() {
    unsigned gen = generation_;
    pool_.get("/")
        .callMethodAsync("GetManagedObjects")
        .onInterface(kObjectManager)
        .uponReplyInvoke([this, gen](const sdbus::Error* err, ManagedObjects objects) {
            guarded("GetManagedObjects reply", [&] {
                if (gen != generation_) return;
                if (err) {
                    log::error("GetManagedObjects of org.bluez failed: ", err->getName(), ": ",
                               err->getMessage());
                    return;
                }
                // Adapters first, then devices, then characteristics.
                for (auto& [path, ifaces] : objects)
                    if (ifaces.count(kAdapter))
                        add_interfaces(path, {{kAdapter, ifaces.at(kAdapter)}});
                if (hooks_.bluez_up) hooks_.bluez_up();
                for (auto& [path, ifaces] : objects)
                    if (ifaces.count(kDevice))
                        add_interfaces(path, {{kDevice, ifaces.at(kDevice)}});
                // All characteristics before any chrc_added: a central starts
                // at the first one that completes rx and tx, and must see
                // slot and the tx.k by then (in handle order they may come
                // after tx).
                for (auto& [path, ifaces] : objects)
                    if (ifaces.count(kGattChrc))
                        add_interfaces(path, {{kGattChrc, ifaces.at(kGattChrc)}}, false);
                std::vector<Chrc> ours;
                for (auto& [path, c] : chrcs_)
                    if (c.uuid == kRxUuid || c.uuid == kTxUuid) ours.push_back(c);
                for (const auto& c : ours)
                    if (hooks_.chrc_added) hooks_.chrc_added(c);
            });
        });
}

void DeviceWatch::add_interfaces(const std::string& path, const Interfaces& ifaces, bool announce) {
    if (auto it = ifaces.find(kAdapter); it != ifaces.end()) update_adapter(path, it->second);
    if (auto it = ifaces.find(kDevice); it != ifaces.end()) update_device(path, it->second);
    if (auto it = ifaces.find(kGattChrc); it != ifaces.end()) {
        Chrc c;
        c.path = path;
        c.device = device_of(path);
        c.uuid = prop<std::string>(it->second, "UUID").value_or("");
        if (c.device.empty()) return;
        for (auto& ch : c.uuid)
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        chrcs_[path] = c;
        if (announce && (c.uuid == kRxUuid || c.uuid == kTxUuid) && hooks_.chrc_added)
            hooks_.chrc_added(c);
    }
}

void DeviceWatch::remove_interfaces(const std::string& path,
                                    const std::vector<std::string>& ifaces) {
    for (const auto& i : ifaces) {
        if (i == kDevice) {
            // The device and everything under it.
            for (auto it = chrcs_.begin(); it != chrcs_.end();)
                it = it->second.device == path ? chrcs_.erase(it) : std::next(it);
            if (devices_.erase(path) && hooks_.device_removed) hooks_.device_removed(path);
        } else if (i == kAdapter) {
            if (adapters_.erase(path) && hooks_.adapter_removed) hooks_.adapter_removed(path);
        } else if (i == kGattChrc) {
            chrcs_.erase(path);
        }
    }
}

void DeviceWatch::on_properties_changed(sdbus::Message& msg) {
    std::string iface;
    Properties changed;
    msg >> iface >> changed;
    const std::string path = msg.getPath();
    if (iface == kDevice) {
        update_device(path, changed);
    } else if (iface == kAdapter) {
        if (adapters_.count(path)) update_adapter(path, changed);
    } else if (iface == kGattChrc) {
        auto v = prop<std::vector<std::uint8_t>>(changed, "Value");
        if (v && chrcs_.count(path) && hooks_.chrc_value)
            hooks_.chrc_value(path, ByteView(v->data(), v->size()));
    }
}

void DeviceWatch::update_adapter(const std::string& path, const Properties& props) {
    Adapter& a = adapters_[path];
    a.path = path;
    a.name = path.substr(path.rfind('/') + 1);
    if (auto v = prop<std::string>(props, "Address")) a.address = *v;
    if (auto v = prop<bool>(props, "Powered")) a.powered = *v;
    if (hooks_.adapter_up) hooks_.adapter_up(a);
}

void DeviceWatch::update_device(const std::string& path, const Properties& props) {
    auto it = devices_.find(path);
    bool is_new = it == devices_.end();
    if (is_new) {
        // PropertiesChanged before InterfacesAdded cannot happen in BlueZ,
        // but a device only learnt from a signal is fine too.
        Device d;
        d.path = path;
        d.adapter = adapter_of(path);
        d.address = address_from_device_path(path);
        it = devices_.emplace(path, d).first;
    }
    Device before = it->second;
    Device& d = it->second;
    if (auto v = prop<std::string>(props, "Address")) d.address = *v;
    if (auto v = prop<sdbus::ObjectPath>(props, "Adapter")) d.adapter = *v;
    if (auto v = prop<bool>(props, "Connected")) d.connected = *v;
    if (auto v = prop<bool>(props, "ServicesResolved")) {
        d.resolved = *v;
        // Services resolve only on a live connection.  bluetoothd 5.66 was
        // seen (testbed, a reconnection right after a disconnect) to signal
        // ServicesResolved=true with no PropertiesChanged for Connected=true
        // before it (bluetoothctl showed none either, and later a
        // Connected=false): take the one for the other.
        if (*v && !d.connected && !prop<bool>(props, "Connected")) {
            log::debug("device ", d.address, ": ServicesResolved without Connected: connected");
            d.connected = true;
        }
    }
    if (!d.connected) d.resolved = false;
    if (d.connected && !before.connected) ++d.connection;
    if (hooks_.device_changed &&
        (is_new || d.connected != before.connected || d.resolved != before.resolved))
        hooks_.device_changed(d, before);
}

const DeviceWatch::Device* DeviceWatch::device(const std::string& path) const {
    auto it = devices_.find(path);
    return it == devices_.end() ? nullptr : &it->second;
}

PeerChrcs DeviceWatch::our_chrcs(const std::string& device) const {
    PeerChrcs out;
    for (const auto& [p, c] : chrcs_) {
        if (c.device != device) continue;
        if (c.uuid == kRxUuid) out.rx = p;
        if (c.uuid == kTxUuid) out.tx = p;
        if (c.uuid == kSlotUuid) out.slot = p;
        if (c.uuid == kPsmUuid) out.psm = p;
        if (auto k = tx_slot_of_uuid(c.uuid)) out.tx_slots[*k] = p;
    }
    return out;
}

}  // namespace br::daemon::bluez
