// SPDX-License-Identifier: MIT
// org.blueratchet.Peer1 at /org/blueratchet/<adapter>/peer_<hex>, for every
// peer of one adapter the model has announced.
//
// One fallback vtable on the adapter's path serves them all: find() reads
// the peer out of the path, the adapter node's enumerator lists the paths
// (introspection, GetManagedObjects).  Per peer there is only the entry
// below, what its last signal published (so PropertiesChanged names exactly
// what changed, and a peer of an adapter that is away, e.g. while
// bluetoothd restarts, still answers as it did): about 200 bytes, where an
// sdbus-c++ 1.2.0 object cost 4.8 KB (issue #11).  Internal to
// src/daemon/api/.
#pragma once

#include <systemd/sd-bus.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/api/paths.hpp"
#include "daemon/api/raw_bus.hpp"
#include "daemon/model.hpp"

namespace br::daemon::api {

class PeerObjects {
  public:
    static constexpr const char* kInterface = "org.blueratchet.Peer1";

    // Registers the vtable on `adapter_path`.
    PeerObjects(sd_bus* bus, std::string adapter_path);
    PeerObjects(const PeerObjects&) = delete;
    PeerObjects& operator=(const PeerObjects&) = delete;

    bool contains(const PeerKey& key) const { return peers_.count(key) != 0; }

    // The peer as the model sees it now.  New: its object appears
    // (InterfacesAdded if `announce`); known: PropertiesChanged names the
    // properties that differ from what was published.
    void show(const PeerKey& key, const PeerView& v, bool announce);
    // InterfacesRemoved; from then on the path answers UnknownObject.
    void remove(const PeerKey& key);

    // Every peer's path, for the node enumerator.
    void paths(std::vector<std::string>& out) const;
    // The first peer after `after` (the first of all without), in key order:
    // a cursor that survives changes between two calls.
    std::optional<PeerKey> key_after(const std::optional<PeerKey>& after) const;

    Served served() { return {kInterface, kVtable, find, this}; }

  private:
    // The mutable properties as published; Adapter and DeviceId come from
    // the path.
    struct Published {
        std::string address;
        std::string alias;
        std::string role;
        std::int64_t created_unix = 0;
        std::int64_t last_seen_unix = 0;
        std::uint32_t epoch = 0;
        bool connected = false;
    };
    using Entry = std::map<PeerKey, Published>::value_type;

    static int find(sd_bus* bus, const char* path, const char* interface, void* userdata,
                    void** found, sd_bus_error* error);
    static int get(sd_bus* bus, const char* path, const char* interface, const char* property,
                   sd_bus_message* reply, void* userdata, sd_bus_error* error);
    static const sd_bus_vtable kVtable[];

    sd_bus* bus_;
    std::string adapter_path_;
    std::map<PeerKey, Published> peers_;
    Slot slot_;
};

}  // namespace br::daemon::api
