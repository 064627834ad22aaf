// SPDX-License-Identifier: MIT
#include "daemon/api/adapter_node.hpp"

#include <new>
#include <string_view>
#include <vector>

namespace br::daemon::api {

AdapterNode::AdapterNode(sd_bus* bus, const std::string& path, Model& model,
                         SessionObjects::RootCheck require_root)
    : adapter(bus, path, model),
      peers(bus, path),
      sessions(bus, path, model, std::move(require_root)) {
    sd_bus_slot* slot = nullptr;
    check(sd_bus_add_node_enumerator(bus, &slot, path.c_str(), enumerate, this),
          "cannot list the peers");
    enumerator_.reset(slot);
}

// sd-bus asks for the paths under `prefix`, which is either the path being
// introspected, whose children only are wanted (sd-bus writes each path it
// gets as one child node, "peer_<hex>/session" included), or the object
// manager's, /org/blueratchet, for GetManagedObjects, which wants every
// object below.
int AdapterNode::enumerate(sd_bus* /*bus*/, const char* prefix, void* userdata, char*** nodes,
                           sd_bus_error* error) {
    return answering("listing peers", error, [&] {
        auto* self = static_cast<AdapterNode*>(userdata);
        std::string_view asked = prefix;
        std::vector<std::string> paths;
        if (asked == self->path()) {
            // The adapter's children: its peers, and the parent of any session
            // whose peer is not (or no longer) published.
            self->peers.paths(paths);
            self->sessions.parent_paths(paths);
        } else if (path_within(self->path(), asked)) {
            self->peers.paths(paths);
            self->sessions.paths(paths);
        } else if (auto named = read_path(self->path(), asked);
                   named && named->kind == Named::Kind::Peer && self->sessions.view(named->key)) {
            // A peer's child: its session.
            paths.push_back(session_path(self->path(), named->key));
        }
        char** strv = to_strv(paths);
        if (!strv) throw std::bad_alloc();
        *nodes = strv;
        return 0;
    });
}

}  // namespace br::daemon::api
