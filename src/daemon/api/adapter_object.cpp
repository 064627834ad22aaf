// SPDX-License-Identifier: MIT
#include "daemon/api/adapter_object.hpp"

#include <string_view>
#include <vector>

namespace br::daemon::api {

namespace {

constexpr std::uint64_t kChanges = SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE;

}  // namespace

// Members in name order, flags as sdbus-c++ gave them (it sorted members and
// marked the interface unprivileged): introspection is what it was, and the
// `bluetooth` group needs no capability (dbus/org.blueratchet.Adapter1.xml).
const sd_bus_vtable AdapterObject::kVtable[] = {
    SD_BUS_VTABLE_START(SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_PROPERTY("Address", "s", get, 0, kChanges),
    SD_BUS_PROPERTY("DeviceId", "s", get, 0, kChanges),
    SD_BUS_PROPERTY("Name", "s", get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("PairingWindowOpen", "b", get, 0, kChanges),
    // Counts down between change notifications: read from the model, never signalled.
    SD_BUS_PROPERTY("PairingWindowRemaining", "u", get, 0, 0),
    SD_BUS_PROPERTY("Powered", "b", get, 0, kChanges),
    SD_BUS_PROPERTY("Role", "s", get, 0, kChanges),
    SD_BUS_VTABLE_END,
};

AdapterObject::AdapterObject(sd_bus* bus, std::string path, Model& model)
    : bus_(bus), path_(std::move(path)), model_(model) {
    sd_bus_slot* slot = nullptr;
    check(sd_bus_add_fallback_vtable(bus_, &slot, path_.c_str(), kInterface, kVtable, find, this),
          "cannot serve Adapter1");
    slot_.reset(slot);
}

int AdapterObject::find(sd_bus* /*bus*/, const char* path, const char* /*interface*/,
                        void* userdata, void** found, sd_bus_error* /*error*/) {
    // Only the adapter's own path, and only while it is there.
    auto* self = static_cast<AdapterObject*>(userdata);
    if (!self->view_ || self->path_ != path) return 0;
    *found = self;
    return 1;
}

int AdapterObject::get(sd_bus* /*bus*/, const char* /*path*/, const char* /*interface*/,
                       const char* property, sd_bus_message* reply, void* userdata,
                       sd_bus_error* error) {
    return answering("Adapter1 property", error, [&]() -> int {
        auto* self = static_cast<AdapterObject*>(userdata);
        const AdapterView& v = *self->view_;  // find() answered only while set
        std::string_view p = property;
        auto text = [&](const std::string& s) {
            return sd_bus_message_append_basic(reply, 's', s.c_str());
        };
        auto flag = [&](bool b) {
            int i = b;
            return sd_bus_message_append_basic(reply, 'b', &i);
        };
        if (p == "Address") return text(v.address);
        if (p == "DeviceId") return text(v.device_id);
        if (p == "Name") return text(v.name);
        if (p == "PairingWindowOpen") return flag(v.pairing_window_open);
        if (p == "Powered") return flag(v.powered);
        if (p == "Role") return text(v.role);
        if (p == "PairingWindowRemaining") {
            std::uint32_t left = 0;
            for (const auto& a : self->model_.adapters()) {
                if (a.name == v.name) left = a.pairing_window_open ? a.pairing_window_remaining : 0;
            }
            return sd_bus_message_append_basic(reply, 'u', &left);
        }
        throw sdbus::Error(errors::kFailed, "no property " + std::string(p));
    });
}

void AdapterObject::show(const AdapterView& v, bool announce) {
    if (!view_) {
        view_ = v;
        if (announce) emit_added(bus_, path_);
        return;
    }
    std::vector<std::string> changed;
    if (v.address != view_->address) changed.push_back("Address");
    if (v.device_id != view_->device_id) changed.push_back("DeviceId");
    if (v.powered != view_->powered) changed.push_back("Powered");
    if (v.role != view_->role) changed.push_back("Role");
    if (v.pairing_window_open != view_->pairing_window_open) changed.push_back("PairingWindowOpen");
    view_ = v;
    emit_changed(bus_, path_, kInterface, changed);
}

void AdapterObject::remove() {
    if (!view_) return;
    // sd-bus lists the interfaces through find(): before the view goes.
    emit_removed(bus_, path_);
    view_.reset();
}

}  // namespace br::daemon::api
