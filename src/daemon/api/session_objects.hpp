// SPDX-License-Identifier: MIT
// org.blueratchet.Session1 at /org/blueratchet/<adapter>/peer_<hex>/session,
// for every live session of one adapter.
//
// Served like the peers, from one fallback vtable on the adapter's path
// (adapter_node.hpp says why it must be a fallback there too).  A session
// lives in the map below: Invalidate() may end the very session it runs on
// and the entry simply goes, since sd-bus keeps nothing of ours after a
// handler returns (sdbus-c++ objects had to be retired until the next loop
// turn).  The manager's SessionMinted/SessionInvalidated, and their order
// with these objects' signals, are api.cpp's.  Internal to src/daemon/api/.
#pragma once

#include <systemd/sd-bus.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/api/paths.hpp"
#include "daemon/api/raw_bus.hpp"
#include "daemon/model.hpp"

namespace br::daemon::api {

class SessionObjects {
  public:
    static constexpr const char* kInterface = "org.blueratchet.Session1";

    // Asks (asynchronously) whether the unique bus name `sender` is root's,
    // then calls back with nothing or the error to answer.
    using RootCheck = std::function<void(const std::string& sender,
                                         std::function<void(std::optional<sdbus::Error>)> then)>;

    // Registers the vtable on `adapter_path`.
    SessionObjects(sd_bus* bus, std::string adapter_path, Model& model, RootCheck require_root);
    SessionObjects(const SessionObjects&) = delete;
    SessionObjects& operator=(const SessionObjects&) = delete;

    const SessionView* view(const PeerKey& key) const;

    // A session minted: its object appears (InterfacesAdded if `announce`).
    // The caller removes any session it replaces first.
    void add(const PeerKey& key, const SessionView& v, bool announce);
    // InterfacesRemoved; from then on the path answers UnknownObject.
    void remove(const PeerKey& key);

    // Every session's path, and every path with a session under it, for the
    // node enumerator.
    void paths(std::vector<std::string>& out) const;
    void parent_paths(std::vector<std::string>& out) const;
    // The first session after `after` (the first of all without), in key
    // order: a cursor that survives changes between two calls.
    std::optional<PeerKey> key_after(const std::optional<PeerKey>& after) const;

    Served served() { return {kInterface, kVtable, find, this}; }

  private:
    static int find(sd_bus* bus, const char* path, const char* interface, void* userdata,
                    void** found, sd_bus_error* error);
    static int get(sd_bus* bus, const char* path, const char* interface, const char* property,
                   sd_bus_message* reply, void* userdata, sd_bus_error* error);
    static int on_export(sd_bus_message* m, void* userdata, sd_bus_error* error);
    static int on_invalidate(sd_bus_message* m, void* userdata, sd_bus_error* error);
    static const sd_bus_vtable kVtable[];

    // The session a call or property read at `path` is about (find() said
    // there is one).
    std::pair<const PeerKey, SessionView>& at(const char* path);
    int export_session(sd_bus_message* m);

    sd_bus* bus_;
    std::string adapter_path_;
    Model& model_;
    RootCheck require_root_;
    std::map<PeerKey, SessionView> sessions_;
    Slot slot_;
};

}  // namespace br::daemon::api
