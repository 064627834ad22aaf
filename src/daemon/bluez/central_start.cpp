// SPDX-License-Identifier: MIT
#include "daemon/bluez/central_start.hpp"

namespace br::daemon::bluez {

CentralStart::Added& CentralStart::on(const std::string& device, std::uint64_t connection) {
    Added& a = added_[device];
    if (a.connection != connection) a = Added{connection};
    return a;
}

void CentralStart::chrc_added(const std::string& device, std::uint64_t connection,
                              Clock::time_point now) {
    Added& a = on(device, connection);
    a.last = now;
    a.any = true;
}

void CentralStart::resolved(const std::string& device, std::uint64_t connection) {
    on(device, connection).was_resolved = true;
}

bool CentralStart::services_seen(const std::string& device, std::uint64_t connection) const {
    auto it = added_.find(device);
    return it != added_.end() && it->second.connection == connection &&
           (it->second.any || it->second.was_resolved);
}

CentralStart::Decision CentralStart::decide(const std::string& device, std::uint64_t connection,
                                            bool resolved, Clock::time_point now) const {
    if (resolved) return {Verdict::Resolved, {}};
    auto it = added_.find(device);
    // None appeared on this connection (bluetoothd's cache, or nothing
    // yet), or the connection is being torn down.
    if (it == added_.end() || it->second.connection != connection || !it->second.any ||
        it->second.was_resolved)
        return {};
    auto quiet = std::chrono::duration_cast<std::chrono::milliseconds>(now - it->second.last);
    if (quiet >= kSettle) return {Verdict::Settled, {}};
    return {Verdict::Wait, kSettle - quiet};
}

}  // namespace br::daemon::bluez
