// SPDX-License-Identifier: MIT
#include "daemon/api/raw_bus.hpp"

#include <cstdlib>
#include <cstring>

namespace br::daemon::api {

namespace {

// sdbus-c++ 1.2.0 does not expose the sd_bus_message under a Message: its
// `msg_` is protected, and a member pointer formed through a derived class
// reaches it without instantiating anything.
struct RawMessage : sdbus::Message {
    static sd_bus_message* of(const sdbus::Message& m) {
        return static_cast<sd_bus_message*>(m.*(&RawMessage::msg_));
    }
};

}  // namespace

sd_bus_message* raw_message(const sdbus::Message& m) {
    return RawMessage::of(m);
}

sd_bus* raw_bus(sdbus::IProxy& proxy) {
    // A message made on the connection knows its bus; this one is never sent.
    auto call = proxy.createMethodCall("org.freedesktop.DBus", "GetId");
    sd_bus* bus = sd_bus_message_get_bus(raw_message(call));
    if (!bus) throw sdbus::Error(errors::kFailed, "no sd-bus connection under sdbus-c++");
    return bus;
}

char** to_strv(const std::vector<std::string>& items) {
    auto** out = static_cast<char**>(std::calloc(items.size() + 1, sizeof(char*)));
    if (!out) return nullptr;
    for (std::size_t i = 0; i < items.size(); ++i) {
        out[i] = strdup(items[i].c_str());
        if (!out[i]) {
            for (std::size_t j = 0; j < i; ++j) std::free(out[j]);
            std::free(out);
            return nullptr;
        }
    }
    return out;
}

void emit_added(sd_bus* bus, const std::string& path) {
    if (int r = sd_bus_emit_object_added(bus, path.c_str()); r < 0)
        log_error("InterfacesAdded " + path + ": " + std::strerror(-r));
}

void emit_removed(sd_bus* bus, const std::string& path) {
    if (int r = sd_bus_emit_object_removed(bus, path.c_str()); r < 0)
        log_error("InterfacesRemoved " + path + ": " + std::strerror(-r));
}

void emit_changed(sd_bus* bus, const std::string& path, const char* interface,
                  const std::vector<std::string>& properties) {
    if (properties.empty()) return;
    std::vector<char*> names;
    for (const auto& p : properties) names.push_back(const_cast<char*>(p.c_str()));
    names.push_back(nullptr);
    if (int r = sd_bus_emit_properties_changed_strv(bus, path.c_str(), interface, names.data());
        r < 0)
        log_error("PropertiesChanged " + path + ": " + std::strerror(-r));
}

}  // namespace br::daemon::api
