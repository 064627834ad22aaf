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

sdbus::IProxy& ProxyPool::get(const std::string& path) {
    auto& p = proxies_[path];
    if (!p) p = sdbus::createProxy(conn_, kService, path);
    return *p;
}

}  // namespace br::daemon::bluez
