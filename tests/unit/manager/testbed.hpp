// SPDX-License-Identifier: MIT
// Managers (each one blueratchetd: its own state directory and adapter)
// on one FakeLoop, their GATT links replaced by in-memory wires whose
// values cross on the next loop turn, as over the air.  The approval
// policy is the shipped window plugin with the windows open: first
// contacts pass on both sides, from the plugin's worker thread.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemon/manager/manager.hpp"
#include "fake_loop.hpp"

namespace br::daemon::test {

inline constexpr const char* kAdapterPath = "/org/bluez/hci0";

inline std::string device_path(const std::string& address) {
    std::string p = std::string(kAdapterPath) + "/dev_" + address;
    for (auto& c : p)
        if (c == ':') c = '_';
    return p;
}

struct RecordingBluez : BluezActions {
    std::vector<std::string> disconnected;
    std::vector<std::string> reconnected;
    std::vector<std::string> paired;  // Device1.Pair calls
    void disconnect(const std::string& device) override { disconnected.push_back(device); }
    void reconnect(const std::string& device) override {
        disconnected.push_back(device);
        reconnected.push_back(device);
    }
    void pair(const std::string& device) override { paired.push_back(device); }
    bool asked(const std::string& device) const {
        return std::find(disconnected.begin(), disconnected.end(), device) != disconnected.end();
    }
};

// One daemon.
struct Node {
    std::string name, address;  // address: our adapter's (it names the state directory)
    std::string seen_as;        // the address peers see (a copy of a device differs here)
    Config config;
    RecordingBluez bluez;
    std::unique_ptr<Manager> manager;
    std::vector<SessionView> minted, invalidated;
    std::vector<BondRefusal> refused;
    std::vector<AttemptFailure> failed;  // every Manager1.AttemptFailed the API was told of
    std::vector<PeerView> peer_events;   // every Peer1 the API was told to add or refresh
    int adapter_changes = 0;             // Adapter1 properties the API was told to refresh

    Manager* operator->() { return manager.get(); }
    std::string path() const { return device_path(seen_as); }  // how peers see it
    // The one session with `peer` as the API lists it.
    std::optional<SessionView> session_with(const Node& peer) const {
        for (const auto& s : manager->sessions())
            if (s.address == peer.seen_as) return s;
        return std::nullopt;
    }
    bool live_with(const Node& peer) const {
        auto s = session_with(peer);
        return s && s->state == "live";
    }
};

// What one link carries; cut it to lose everything in flight and after.
struct Wire {
    bool to_peripheral = true;
    bool to_central = true;
    std::size_t fragments = 0;
};

class Testbed {
  public:
    Testbed() {
        char tmpl[] = "/tmp/br-manager-test-XXXXXX";
        dir_ = ::mkdtemp(tmpl) ? tmpl : "";
        EXPECT_FALSE(dir_.empty());
    }
    ~Testbed() {
        nodes_.clear();  // the managers first: they cancel their timers on the loop
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    // A daemon; `tweak` adjusts its configuration before it starts.
    Node& node(const std::string& name, const std::string& address,
               const std::function<void(Config&)>& tweak = nullptr,
               const std::string& state_from = "", const std::string& seen_as = "") {
        auto n = std::make_unique<Node>();
        n->name = name;
        n->address = address;
        n->seen_as = seen_as.empty() ? address : seen_as;
        const char* plugins = std::getenv("BR_PLUGIN_BUILD_DIR");
        EXPECT_NE(plugins, nullptr) << "run through meson test";
        n->config.plugin_directory = plugins ? plugins : "/nonexistent";
        n->config.handshake_timeout_seconds = 10;
        if (tweak) tweak(n->config);
        const std::string state = dir_ + "/" + name;
        std::filesystem::create_directories(state);
        if (!state_from.empty())
            std::filesystem::copy(dir_ + "/" + state_from, state,
                                  std::filesystem::copy_options::recursive |
                                      std::filesystem::copy_options::overwrite_existing);
        n->manager = std::make_unique<Manager>(n->config, state, loop, n->bluez, wall);
        Node* raw = n.get();
        Model::Listener l;
        l.session_minted = [raw](const SessionView& v) { raw->minted.push_back(v); };
        l.session_invalidated = [raw](const SessionView& v) { raw->invalidated.push_back(v); };
        l.bond_refused = [raw](const BondRefusal& r) { raw->refused.push_back(r); };
        l.attempt_failed = [raw](const AttemptFailure& f) { raw->failed.push_back(f); };
        l.peer_added = [raw](const PeerView& v) { raw->peer_events.push_back(v); };
        l.peer_changed = [raw](const PeerView& v) { raw->peer_events.push_back(v); };
        l.adapters_changed = [raw] { ++raw->adapter_changes; };
        n->manager->set_listener(l);
        // A copy of another node's state directory keeps its adapter
        // address (the directory's name) and is seen at `seen_as`.
        EXPECT_TRUE(n->manager->add_adapter(kAdapterPath, "hci0", address, true));
        EXPECT_TRUE(n->manager->set_pairing_window("hci0", 3600).has_value());
        nodes_.push_back(std::move(n));
        return *raw;
    }

    // `central` connects to `peripheral`: the peripheral's link comes up (as
    // at Connected=true), then the central's (as when its GATT client is
    // ready), which starts the handshake.
    std::shared_ptr<Wire> connect(Node& central, Node& peripheral, std::size_t att_mtu = 185) {
        auto wire = std::make_shared<Wire>();
        LinkIo notify;
        notify.att_mtu = att_mtu;
        notify.send = [this, wire, &central, &peripheral](ByteView f) {
            Bytes copy(f.begin(), f.end());
            ++wire->fragments;
            loop.defer([wire, copy, &central, &peripheral] {
                if (wire->to_central) central->deliver(peripheral.path(), copy);
            });
            return true;
        };
        peripheral->link_up(kAdapterPath, central.path(), central.seen_as, LinkRole::Peripheral,
                            notify);
        LinkIo write;
        write.att_mtu = att_mtu;
        write.send = [this, wire, att_mtu, &central, &peripheral](ByteView f) {
            Bytes copy(f.begin(), f.end());
            ++wire->fragments;
            loop.defer([wire, copy, att_mtu, &central, &peripheral] {
                if (wire->to_peripheral) peripheral->deliver(central.path(), copy, att_mtu);
            });
            return true;
        };
        central->link_up(kAdapterPath, peripheral.path(), peripheral.seen_as, LinkRole::Central,
                         write);
        return wire;
    }
    // The BLE link drops: both sides see Connected=false.
    void disconnect(Node& central, Node& peripheral) {
        central->link_lost(peripheral.path(), "test: disconnected");
        peripheral->link_lost(central.path(), "test: disconnected");
    }
    // Runs until both hold a live session with each other (plugins think
    // on their own threads: real time, bounded).
    bool until_live(Node& a, Node& b) {
        return loop.settle_until([&] { return a.live_with(b) && b.live_with(a); });
    }

    time::ManualClock wall{1'900'000'000};
    FakeLoop loop{wall};

  private:
    std::string dir_;
    std::vector<std::unique_ptr<Node>> nodes_;
};

}  // namespace br::daemon::test
