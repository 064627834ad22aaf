// SPDX-License-Identifier: MIT
// blueratchetd's wiring: the bus connection, the BlueZ glue
// (src/daemon/bluez/) and the manager (src/daemon/manager/), all on one
// event loop.  BlueZ events go to the manager; its requests (disconnect)
// go to BlueZ.  Both GATT roles end in the same two calls: link_up() when
// a connection is ours, deliver() for each value the device sends.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <map>
#include <memory>
#include <set>
#include <string>

#include "core/time/clock.hpp"
#include "daemon/bluez/advertisement.hpp"
#include "daemon/bluez/agent.hpp"
#include "daemon/bluez/bluez.hpp"
#include "daemon/bluez/central_start.hpp"
#include "daemon/bluez/device_watch.hpp"
#include "daemon/bluez/gatt_client.hpp"
#include "daemon/bluez/gatt_server.hpp"
#include "daemon/bluez/l2cap_transport.hpp"
#include "daemon/bluez/pair_hold.hpp"
#include "daemon/config.hpp"
#include "daemon/event_loop.hpp"
#include "daemon/manager/manager.hpp"

namespace br::daemon {

class Daemon : public BluezActions {
  public:
    Daemon(const Config& config, std::string state_dir, sdbus::IConnection& conn, EventLoop& loop);
    ~Daemon() override;

    // Adds the match rules and starts looking for bluetoothd.
    void start();
    Manager& manager() { return manager_; }
    // Opens the pairing window of every adapter for `seconds` as it appears.
    void open_pairing_window_at_start(std::uint32_t seconds) { initial_window_ = seconds; }

    void disconnect(const std::string& device_path) override;
    void reconnect(const std::string& device_path) override;
    void pair(const std::string& device_path) override;

  private:
    bool peripheral_role() const { return config_.role != GattRoles::Central; }
    bool central_role() const { return config_.role != GattRoles::Peripheral; }
    void on_adapter(const bluez::DeviceWatch::Adapter& a);
    void on_device(const bluez::DeviceWatch::Device& now, const bluez::DeviceWatch::Device& before);
    void on_device_removed(const std::string& path);
    void peripheral_link_up(const std::string& adapter_path, const std::string& device,
                            const std::string& address);
    // The device's tx.k on our GATT server is free again (it disconnected).
    void release_slot(const std::string& device);
    void on_bluez_down();
    // Starts our GATT client on the device if we are the central of its
    // connection and bluez::CentralStart says its services are ready (or
    // asks again later).
    void consider_central(const std::string& device);
    // A confirmation the manager holds for a device without a link of ours:
    // PairHold::grace() later, is bluetoothd holding its GATT for that pairing
    // (bluez/pair_hold.hpp)?
    void watch_pair_hold(const std::string& device);
    void check_pair_hold(const std::string& device, std::uint64_t connection);
    void save_clocks_periodically();
    void connect(const std::string& device_path);
    // Device1.<method>(), asynchronously; a failure is logged.
    void call_device(const std::string& device_path, const std::string& method);

    Config config_;
    sdbus::IConnection& conn_;
    EventLoop& loop_;
    time::SystemClock clock_;
    bluez::ProxyPool pool_;
    // Session channels' transport (before the manager, whose channels use it).
    std::unique_ptr<bluez::L2capTransport> channel_transport_;
    Manager manager_;
    std::unique_ptr<bluez::DeviceWatch> watch_;
    std::unique_ptr<bluez::Agent> agent_;
    std::unique_ptr<bluez::GattClient> client_;
    // Never destroyed before the daemon: a pending registration reply
    // refers to them.
    std::map<std::string, std::unique_ptr<bluez::GattServer>> servers_;
    std::map<std::string, std::unique_ptr<bluez::Advertisement>> advs_;
    std::uint32_t initial_window_ = 0;
    bluez::CentralStart central_start_;
    // consider_central() again, per device, when CentralStart said "after".
    std::map<std::string, Loop::TimerId> central_retry_;
    // watch_pair_hold()'s timer, per device.
    std::map<std::string, Loop::TimerId> pair_hold_checks_;
    // Devices to connect again once their link is down (reconnect()).
    std::set<std::string> reconnect_when_down_;
};

}  // namespace br::daemon
