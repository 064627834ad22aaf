// SPDX-License-Identifier: MIT
#include "daemon/api/peer_objects.hpp"

namespace br::daemon::api {

namespace {

constexpr std::uint64_t kChanges = SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE;

}  // namespace

// Members in name order, flags as sdbus-c++ gave them (it sorted members and
// marked the interface unprivileged): introspection is what it was
// (dbus/org.blueratchet.Peer1.xml).
const sd_bus_vtable PeerObjects::kVtable[] = {
    SD_BUS_VTABLE_START(SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_PROPERTY("Adapter", "o", get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Address", "s", get, 0, kChanges),
    SD_BUS_PROPERTY("Alias", "s", get, 0, kChanges),
    SD_BUS_PROPERTY("Connected", "b", get, 0, kChanges),
    SD_BUS_PROPERTY("Created", "x", get, 0, kChanges),
    SD_BUS_PROPERTY("DeviceId", "s", get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Epoch", "u", get, 0, kChanges),
    SD_BUS_PROPERTY("LastSeen", "x", get, 0, kChanges),
    SD_BUS_PROPERTY("Role", "s", get, 0, kChanges),
    SD_BUS_VTABLE_END,
};

PeerObjects::PeerObjects(sd_bus* bus, std::string adapter_path)
    : bus_(bus), adapter_path_(std::move(adapter_path)) {
    sd_bus_slot* slot = nullptr;
    check(sd_bus_add_fallback_vtable(bus_, &slot, adapter_path_.c_str(), kInterface, kVtable, find,
                                     this),
          "cannot serve Peer1");
    slot_.reset(slot);
}

int PeerObjects::find(sd_bus* /*bus*/, const char* path, const char* /*interface*/, void* userdata,
                      void** found, sd_bus_error* /*error*/) {
    auto* self = static_cast<PeerObjects*>(userdata);
    auto named = read_path(self->adapter_path_, path);
    if (!named || named->kind != Named::Kind::Peer) return 0;
    auto it = self->peers_.find(named->key);
    if (it == self->peers_.end()) return 0;
    // The getters get the entry: sd-bus calls them right after find(), with
    // nothing in between that could change the map.
    *found = &*it;
    return 1;
}

int PeerObjects::get(sd_bus* /*bus*/, const char* path, const char* /*interface*/,
                     const char* property, sd_bus_message* reply, void* userdata,
                     sd_bus_error* error) {
    return answering("Peer1 property", error, [&]() -> int {
        const auto& [key, p] = *static_cast<const Entry*>(userdata);
        std::string_view name = property;
        auto text = [&](const std::string& s) {
            return sd_bus_message_append_basic(reply, 's', s.c_str());
        };
        if (name == "Adapter") {
            // The peer's path is <adapter path>/peer_<hex>.
            std::string_view peer = path;
            std::string adapter(peer.substr(0, peer.rfind('/')));
            return sd_bus_message_append_basic(reply, 'o', adapter.c_str());
        }
        if (name == "DeviceId") return text(key_b64(key));
        if (name == "Address") return text(p.address);
        if (name == "Alias") return text(p.alias);
        if (name == "Role") return text(p.role);
        if (name == "Epoch") return sd_bus_message_append_basic(reply, 'u', &p.epoch);
        if (name == "Created") return sd_bus_message_append_basic(reply, 'x', &p.created_unix);
        if (name == "LastSeen") return sd_bus_message_append_basic(reply, 'x', &p.last_seen_unix);
        if (name == "Connected") {
            int b = p.connected;
            return sd_bus_message_append_basic(reply, 'b', &b);
        }
        throw sdbus::Error(errors::kFailed, "no property " + std::string(name));
    });
}

void PeerObjects::show(const PeerKey& key, const PeerView& v, bool announce) {
    Published now{v.address,        v.alias, v.role,     v.created_unix,
                  v.last_seen_unix, v.epoch, v.connected};
    std::string path = peer_path(adapter_path_, key);
    auto [it, added] = peers_.try_emplace(key, now);
    if (added) {
        if (announce) emit_added(bus_, path);
        return;
    }
    Published& was = it->second;
    std::vector<std::string> changed;
    if (now.address != was.address) changed.push_back("Address");
    if (now.alias != was.alias) changed.push_back("Alias");
    if (now.role != was.role) changed.push_back("Role");
    if (now.epoch != was.epoch) changed.push_back("Epoch");
    if (now.created_unix != was.created_unix) changed.push_back("Created");
    if (now.last_seen_unix != was.last_seen_unix) changed.push_back("LastSeen");
    if (now.connected != was.connected) changed.push_back("Connected");
    was = std::move(now);
    emit_changed(bus_, path, kInterface, changed);
}

void PeerObjects::remove(const PeerKey& key) {
    auto it = peers_.find(key);
    if (it == peers_.end()) return;
    // sd-bus lists the interfaces through find(): before the entry goes.
    emit_removed(bus_, peer_path(adapter_path_, key));
    peers_.erase(it);
}

void PeerObjects::paths(std::vector<std::string>& out) const {
    out.reserve(out.size() + peers_.size());
    for (const auto& [key, p] : peers_) out.push_back(peer_path(adapter_path_, key));
}

std::optional<PeerKey> PeerObjects::key_after(const std::optional<PeerKey>& after) const {
    auto it = after ? peers_.upper_bound(*after) : peers_.begin();
    if (it == peers_.end()) return std::nullopt;
    return it->first;
}

}  // namespace br::daemon::api
