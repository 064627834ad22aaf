// SPDX-License-Identifier: MIT
#include "daemon/bluez/bluez.hpp"

namespace br::daemon::bluez {

std::string device_of(const std::string& path) {
    auto pos = path.find("/dev_");
    if (pos == std::string::npos) return "";
    auto end = path.find('/', pos + 1);
    return end == std::string::npos ? path : path.substr(0, end);
}

std::string adapter_of(const std::string& path) {
    auto pos = path.find("/dev_");
    return pos == std::string::npos ? path : path.substr(0, pos);
}

std::string address_from_device_path(const std::string& path) {
    std::string dev = device_of(path);
    if (dev.empty()) return "";
    std::string tail = dev.substr(dev.find("/dev_") + 5);
    if (tail.size() != 17) return "";
    for (char& c : tail)
        if (c == '_') c = ':';
    return tail;
}

std::string tx_slot_uuid(std::size_t k) {
    static const char* hex = "0123456789abcdef";
    std::string u = kTxSlotUuidPrefix;
    u += hex[(k >> 4) & 15];
    u += hex[k & 15];
    return u;
}

std::optional<std::size_t> tx_slot_of_uuid(const std::string& uuid) {
    const std::string prefix = kTxSlotUuidPrefix;
    if (uuid.size() != prefix.size() + 2 || uuid.compare(0, prefix.size(), prefix) != 0)
        return std::nullopt;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    int hi = nibble(uuid[prefix.size()]), lo = nibble(uuid[prefix.size() + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    return static_cast<std::size_t>(hi * 16 + lo);
}

sdbus::IProxy& ProxyPool::get(const std::string& path) {
    auto& p = proxies_[path];
    if (!p) p = sdbus::createProxy(conn_, kService, path);
    return *p;
}

}  // namespace br::daemon::bluez
