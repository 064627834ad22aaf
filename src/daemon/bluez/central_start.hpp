// SPDX-License-Identifier: MIT
// When the central may start its GATT client on a device (gatt_client.hpp):
// the decision alone, no bus and no timers, so that it can be tested on
// made-up times.  The daemon asks decide() whenever something about the
// device changes and, when told to, again after `retry_in`.
//
// The rule.  Normally: once bluetoothd sets ServicesResolved=true on a
// connection under which our rx and tx characteristics exist.  But
// bluetoothd 5.66 was seen on the testbed (twice: scenario 10 in a
// fresh-clone run, scenario 12 in a CI run) to export the peer's GATT
// services of a new connection (the objects appear, its own profiles read
// their characteristics), then signal ServicesResolved=false and never
// true, until the peripheral gave up and disconnected.  So we also start
// kSettle after the last of our characteristics appeared *during this
// connection*: bluetoothd exports a connection's services in one go, right
// before it sets ServicesResolved, so a second of silence means the signal
// is not coming.  Characteristics that bluetoothd kept from an earlier
// connection (its GATT cache) do not count: they exist before the services
// are read again, and calls on them fail until then.  Nor does a
// connection on which ServicesResolved was true and is false again: that is
// bluetoothd tearing the link down (it clears ServicesResolved before it
// signals Connected=false).  docs/DAEMON.md, "BlueZ versions".
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace br::daemon::bluez {

class CentralStart {
  public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::chrono::milliseconds kSettle{1000};

    enum class Verdict {
        Wait,      // not yet: ask again after retry_in (if non-zero) or on the next event
        Resolved,  // start: bluetoothd said ServicesResolved
        Settled,   // start: our characteristics appeared kSettle ago, no ServicesResolved
    };
    struct Decision {
        Verdict verdict = Verdict::Wait;
        std::chrono::milliseconds retry_in{0};
        bool start() const { return verdict != Verdict::Wait; }
    };

    // One of our characteristics appeared under `device` while its
    // connection number `connection` (DeviceWatch::Device::connection) was up.
    void chrc_added(const std::string& device, std::uint64_t connection, Clock::time_point now);
    // bluetoothd said ServicesResolved=true on that connection.
    void resolved(const std::string& device, std::uint64_t connection);
    // The device is gone (removed, or bluetoothd restarted).
    void forget(const std::string& device) { added_.erase(device); }
    void forget_all() { added_.clear(); }

    // bluetoothd said ServicesResolved, or one of ours appeared, on
    // connection `connection` of `device` (bluez::PairHold).
    bool services_seen(const std::string& device, std::uint64_t connection) const;

    // Whether to start now on connection `connection` of a connected
    // `device` under which our rx and tx exist.
    Decision decide(const std::string& device, std::uint64_t connection, bool resolved,
                    Clock::time_point now) const;

  private:
    struct Added {
        std::uint64_t connection = 0;
        Clock::time_point last{};   // the last of ours appeared (if any did)
        bool any = false;           // one of ours appeared on this connection
        bool was_resolved = false;  // ServicesResolved was true on it
    };
    Added& on(const std::string& device, std::uint64_t connection);
    std::map<std::string, Added> added_;
};

}  // namespace br::daemon::bluez
