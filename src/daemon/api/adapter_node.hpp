// SPDX-License-Identifier: MIT
// Everything the API serves at and under one adapter's path,
// /org/blueratchet/<adapter>: the adapter (Adapter1), its peers (Peer1) and
// their live sessions (Session1).
//
// sd-bus answers a call at a path with the vtables registered on it or, as
// fallbacks, on its nearest ancestors, and introspects a path at the
// deepest one that has anything registered: here that is the adapter's path
// for all three kinds.  sd-bus refuses to mix fallback and plain vtables on
// one path, so all three are fallbacks whose find() answers only for their
// own paths; the node enumerator here names the peer and session paths, so
// Introspect lists them as children and the ObjectManager on
// /org/blueratchet finds them for GetManagedObjects.  Nothing is registered
// per peer or session.
//
// A node stays for the Api's life once made, even while its adapter is away
// (bluetoothd restarting): the peers stay published, as they always were,
// and nothing is unregistered under a handler that may be running on it.
// Internal to src/daemon/api/.
#pragma once

#include <systemd/sd-bus.h>

#include <string>

#include "daemon/api/adapter_object.hpp"
#include "daemon/api/peer_objects.hpp"
#include "daemon/api/raw_bus.hpp"
#include "daemon/api/session_objects.hpp"
#include "daemon/model.hpp"

namespace br::daemon::api {

class AdapterNode {
  public:
    AdapterNode(sd_bus* bus, const std::string& path, Model& model,
                SessionObjects::RootCheck require_root);
    AdapterNode(const AdapterNode&) = delete;
    AdapterNode& operator=(const AdapterNode&) = delete;

    const std::string& path() const { return adapter.path(); }

    AdapterObject adapter;
    PeerObjects peers;
    SessionObjects sessions;

  private:
    static int enumerate(sd_bus* bus, const char* prefix, void* userdata, char*** nodes,
                         sd_bus_error* error);

    Slot enumerator_;
};

}  // namespace br::daemon::api
