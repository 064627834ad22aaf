// SPDX-License-Identifier: MIT
// Names shared by the BlueZ glue: interfaces, our GATT layout, and small
// helpers for sdbus-c++ 1.2.0 used the safe way (docs/DAEMON.md, "Rules
// every file keeps"): proxies always on the daemon's
// connection and kept alive until their replies arrive, every callback
// wrapped so that no exception reaches sd-bus.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "daemon/log.hpp"

namespace br::daemon::bluez {

inline constexpr const char* kService = "org.bluez";
inline constexpr const char* kAdapter = "org.bluez.Adapter1";
inline constexpr const char* kDevice = "org.bluez.Device1";
inline constexpr const char* kAgent = "org.bluez.Agent1";
inline constexpr const char* kAgentManager = "org.bluez.AgentManager1";
inline constexpr const char* kGattManager = "org.bluez.GattManager1";
inline constexpr const char* kGattService = "org.bluez.GattService1";
inline constexpr const char* kGattChrc = "org.bluez.GattCharacteristic1";
inline constexpr const char* kAdvManager = "org.bluez.LEAdvertisingManager1";
inline constexpr const char* kAdvertisement = "org.bluez.LEAdvertisement1";
inline constexpr const char* kProperties = "org.freedesktop.DBus.Properties";
inline constexpr const char* kObjectManager = "org.freedesktop.DBus.ObjectManager";

// The blueratchet GATT service (docs/DAEMON.md, PROTOCOL.md 3.1).  rx: the
// central writes fragments (write-without-response, write); tx: we notify
// fragments, to every subscribed central; slot (read): gives the reading
// central its own tx.k, on which we notify that central's fragments only.
inline constexpr const char* kServiceUuid = "6e2f0a1c-8b3d-4c52-9e1a-5b7c2d10b0a0";
inline constexpr const char* kRxUuid = "6e2f0a1c-8b3d-4c52-9e1a-5b7c2d10b0a1";
inline constexpr const char* kTxUuid = "6e2f0a1c-8b3d-4c52-9e1a-5b7c2d10b0a2";
inline constexpr const char* kSlotUuid = "6e2f0a1c-8b3d-4c52-9e1a-5b7c2d10b0a3";
// Read: the PSM this daemon takes session channels on; written by a central:
// its own (0x01 || u16 little-endian; docs/PROTOCOL.md 8.3).
inline constexpr const char* kPsmUuid = "6e2f0a1c-8b3d-4c52-9e1a-5b7c2d10b0a4";
// tx.k: this prefix and k as two lowercase hex digits.
inline constexpr const char* kTxSlotUuidPrefix = "6e2f0a1c-8b3d-4c52-9e1a-5b7c2d10b1";
// How many tx.k a peripheral offers: the number of centrals it serves at once
// with exact delivery (each costs 3 ATT handles and some discovery time).
inline constexpr std::size_t kTxSlots = 32;
// The slot value: format 0x01, then the index or kNoSlot (use the shared tx).
inline constexpr std::uint8_t kSlotFormat = 0x01;
inline constexpr std::uint8_t kNoSlot = 0xff;
std::string tx_slot_uuid(std::size_t k);
// The k of a tx.k UUID (lowercase), nullopt for any other UUID.
std::optional<std::size_t> tx_slot_of_uuid(const std::string& uuid);

// Our characteristics as BlueZ's GATT client shows them under a peer device
// ("" / absent when not there): rx and tx always, slot and tx.k (by k) on a
// peripheral that offers them.
struct PeerChrcs {
    std::string rx, tx, slot, psm;
    std::map<std::size_t, std::string> tx_slots;
};

// The objects we register with BlueZ.  Deliberately outside /org/blueratchet:
// the management API has its ObjectManager there, and its clients should not
// see GATT objects in it.
inline constexpr const char* kAgentPath = "/blueratchet/bluez/agent";
inline std::string app_path(const std::string& adapter_name) {
    return "/blueratchet/bluez/" + adapter_name + "/gatt";
}
inline std::string adv_path(const std::string& adapter_name) {
    return "/blueratchet/bluez/" + adapter_name + "/advertisement";
}

using Properties = std::map<std::string, sdbus::Variant>;
using Interfaces = std::map<std::string, Properties>;
using ManagedObjects = std::map<sdbus::ObjectPath, Interfaces>;

template <typename T>
std::optional<T> prop(const Properties& props, const std::string& name) {
    auto it = props.find(name);
    if (it == props.end()) return std::nullopt;
    try {
        if (!it->second.containsValueOfType<T>()) return std::nullopt;
        return it->second.get<T>();
    } catch (...) {
        return std::nullopt;
    }
}

// "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF" -> "AA:BB:CC:DD:EE:FF" ("" if not a device path).
std::string address_from_device_path(const std::string& path);
// "/org/bluez/hci0/dev_.../service0010/char0011" -> "/org/bluez/hci0/dev_..."
std::string device_of(const std::string& path);
// "/org/bluez/hci0/dev_..." -> "/org/bluez/hci0"
std::string adapter_of(const std::string& path);

// Runs f, logging (never propagating) any exception: for every callback
// sd-bus calls (signal matches, async replies), where an exception would
// terminate the daemon.
template <typename F>
void guarded(const char* what, F&& f) noexcept {
    try {
        f();
    } catch (const sdbus::Error& e) {
        log::error(what, ": D-Bus error ", e.getName(), ": ", e.getMessage());
    } catch (const std::exception& e) {
        log::error(what, ": ", e.what());
    } catch (...) {
        log::error(what, ": unknown exception");
    }
}

// Proxies to org.bluez objects, one per path, all on the daemon's
// connection.  A proxy is never destroyed while the daemon runs: sdbus-c++
// 1.2.0 cancels a proxy's pending async calls when it dies, and destroying it
// from inside its own reply callback is a use after free.
class ProxyPool {
  public:
    explicit ProxyPool(sdbus::IConnection& conn) : conn_(conn) {}
    sdbus::IProxy& get(const std::string& path);

  private:
    sdbus::IConnection& conn_;
    std::map<std::string, std::unique_ptr<sdbus::IProxy>> proxies_;
};

}  // namespace br::daemon::bluez
