// SPDX-License-Identifier: MIT
// org.blueratchet.Adapter1 at /org/blueratchet/<adapter>, while the model
// has that adapter.
//
// Served by sd-bus from a fallback vtable on the adapter's own path: sd-bus
// refuses a fallback vtable (the peers' and sessions') on a path that also
// has a plain one, so all three interfaces under an adapter are fallbacks
// there, each answering only for its own paths (adapter_node.hpp).  Keeps the
// view it last published, so change signals name exactly the properties
// that changed.  Internal to src/daemon/api/.
#pragma once

#include <systemd/sd-bus.h>

#include <optional>
#include <string>

#include "daemon/api/raw_bus.hpp"
#include "daemon/model.hpp"

namespace br::daemon::api {

class AdapterObject {
  public:
    static constexpr const char* kInterface = "org.blueratchet.Adapter1";

    // Registers the vtable on `path` (no object there until appear()).
    AdapterObject(sd_bus* bus, std::string path, Model& model);
    AdapterObject(const AdapterObject&) = delete;
    AdapterObject& operator=(const AdapterObject&) = delete;

    bool present() const { return view_.has_value(); }
    const std::string& path() const { return path_; }

    // The adapter is there with `v`: InterfacesAdded when it was not and
    // `announce`; PropertiesChanged with what changed when it was.
    void show(const AdapterView& v, bool announce);
    // The adapter went away: InterfacesRemoved, then nothing at the path.
    void remove();

    Served served() { return {kInterface, kVtable, find, this}; }

  private:
    static int find(sd_bus* bus, const char* path, const char* interface, void* userdata,
                    void** found, sd_bus_error* error);
    static int get(sd_bus* bus, const char* path, const char* interface, const char* property,
                   sd_bus_message* reply, void* userdata, sd_bus_error* error);
    static const sd_bus_vtable kVtable[];

    sd_bus* bus_;
    std::string path_;
    Model& model_;
    std::optional<AdapterView> view_;  // set while the adapter is there
    Slot slot_;
};

}  // namespace br::daemon::api
