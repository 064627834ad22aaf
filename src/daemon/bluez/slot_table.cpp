// SPDX-License-Identifier: MIT
#include "daemon/bluez/slot_table.hpp"

namespace br::daemon::bluez {

SlotTable::SlotTable(std::size_t slots) : owner_(slots), last_(slots), freed_at_(slots, 0) {}

std::optional<std::size_t> SlotTable::assign(const std::string& device) {
    if (auto it = held_.find(device); it != held_.end()) return it->second;
    std::optional<std::size_t> pick;
    for (std::size_t k = 0; k < owner_.size(); ++k) {
        if (!owner_[k].empty()) continue;
        if (last_[k] == device) {
            pick = k;  // its own slot from an earlier connection
            break;
        }
        // Otherwise the slot whose last holder is least likely to want it back:
        // never held beats held, and an earlier release beats a later one.
        if (!pick || (last_[k].empty() && !last_[*pick].empty()) ||
            (last_[k].empty() == last_[*pick].empty() && freed_at_[k] < freed_at_[*pick]))
            pick = k;
    }
    if (!pick) return std::nullopt;
    owner_[*pick] = device;
    last_[*pick] = device;
    held_[device] = *pick;
    return pick;
}

std::optional<std::size_t> SlotTable::slot_of(const std::string& device) const {
    auto it = held_.find(device);
    if (it == held_.end()) return std::nullopt;
    return it->second;
}

void SlotTable::release(const std::string& device) {
    auto it = held_.find(device);
    if (it == held_.end()) return;
    owner_[it->second].clear();
    freed_at_[it->second] = ++releases_;
    held_.erase(it);
}

void SlotTable::release_all() {
    for (auto it = held_.begin(); it != held_.end();) release((it++)->first);
}

}  // namespace br::daemon::bluez
