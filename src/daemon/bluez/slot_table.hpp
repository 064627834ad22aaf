// SPDX-License-Identifier: MIT
// Which of the peripheral's N per-central notify characteristics (tx.k) each
// connected central uses: the bookkeeping behind the `slot` characteristic
// (docs/PROTOCOL.md 3.1; docs/DAEMON.md, "GATT service").
//
// Why slots at all: bluetoothd sends a PropertiesChanged(Value) to every
// central whose CCC on that characteristic is enabled, and CCC state is the
// only per-device channel a D-Bus GATT application has.  One characteristic
// per connected central makes a notification reach that central only.
//
// A device keeps its slot for the whole connection (a read of `slot` is
// idempotent until release()); the slot is free again once the device
// disconnects.  assign() prefers the slot the same device path had last time:
// a bonded central's CCC outlives the connection in bluetoothd, so a stale
// subscription then points at the central's own slot, not at a neighbour's.
// Beyond N connected centrals assign() says no: those use the shared tx.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace br::daemon::bluez {

class SlotTable {
  public:
    explicit SlotTable(std::size_t slots);

    std::size_t size() const { return owner_.size(); }
    // The device's slot: the one it holds, else a free one (preferring the
    // one it had last, then one nobody had yet, then the longest free);
    // nullopt when all are taken.
    std::optional<std::size_t> assign(const std::string& device);
    // The slot the device holds (nullopt: it uses the shared tx).
    std::optional<std::size_t> slot_of(const std::string& device) const;
    // The device disconnected or went away: its slot is free.
    void release(const std::string& device);
    // bluetoothd left: nobody holds a slot (the last owners stay remembered).
    void release_all();
    std::size_t held() const { return held_.size(); }

  private:
    std::vector<std::string> owner_;            // current holder of each slot ("" = free)
    std::vector<std::string> last_;             // the last holder of each slot ("" = never held)
    std::vector<unsigned long long> freed_at_;  // release order, for "longest free"
    unsigned long long releases_ = 0;
    std::map<std::string, std::size_t> held_;  // device -> slot
};

}  // namespace br::daemon::bluez
