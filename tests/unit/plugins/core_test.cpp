// SPDX-License-Identifier: MIT
// The plugins in the daemon: two Managers (central A, peripheral B) on
// one event loop, their GATT links replaced by in-memory queues.  B runs
// Approval = confirm and Load = x509-export: the first contact waits for
// the operator (Model::decide_approval, what `blueratchetctl approve`
// calls), the session's files appear on mint and go on link loss.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/time/clock.hpp"
#include "daemon/event_loop.hpp"
#include "daemon/manager/manager.hpp"
#include "harness.hpp"

namespace br::daemon::plugins::test {
namespace {

using namespace std::chrono_literals;

struct NoBluez : BluezActions {
    std::vector<std::string> disconnected;
    void disconnect(const std::string& device_path) override {
        disconnected.push_back(device_path);
    }
    void reconnect(const std::string& device_path) override { disconnect(device_path); }
    void pair(const std::string&) override {}
};

constexpr const char* kAddrA = "00:1A:7D:DA:71:0A";
constexpr const char* kAddrB = "00:1A:7D:DA:71:0B";
constexpr const char* kAdapter = "/org/bluez/hci0";
const std::string kDevA = std::string(kAdapter) + "/dev_00_1A_7D_DA_71_0A";  // A as B sees it
const std::string kDevB = std::string(kAdapter) + "/dev_00_1A_7D_DA_71_0B";  // B as A sees it

struct Pair {
    TempDir tmp;
    EventLoop loop;
    time::SystemClock clock;
    NoBluez bluez_a, bluez_b;
    std::unique_ptr<Manager> a, b;
    std::vector<PendingApproval> requested;
    std::string export_dir = tmp.path + "/sessions";

    explicit Pair(const std::string& approval_b) {
        Config ca;
        ca.plugin_directory = shipped_dir();
        ca.handshake_timeout_seconds = 25;
        Config cb = ca;
        cb.approval = approval_b;
        cb.plugins_load = {"x509-export"};
        cb.plugin_settings["x509-export"] = {{"Directory", export_dir, 1}};
        cb.plugin_settings["confirm"] = {{"Timeout", "20", 2}};
        std::filesystem::create_directories(tmp.path + "/a");
        std::filesystem::create_directories(tmp.path + "/b");
        a = std::make_unique<Manager>(ca, tmp.path + "/a", loop, bluez_a, clock);
        b = std::make_unique<Manager>(cb, tmp.path + "/b", loop, bluez_b, clock);
        Model::Listener l;
        l.approval_requested = [this](const PendingApproval& p) { requested.push_back(p); };
        b->set_listener(l);
        EXPECT_TRUE(a->add_adapter(kAdapter, "hci0", kAddrA, true));
        EXPECT_TRUE(b->add_adapter(kAdapter, "hci0", kAddrB, true));
        EXPECT_TRUE(a->set_pairing_window("hci0", 60).has_value());
    }

    // A connects to B: fragments cross on the next loop turn, as over GATT.
    void connect() {
        LinkIo notify;
        notify.att_mtu = 185;
        notify.send = [this](ByteView f) {
            Bytes copy(f.begin(), f.end());
            loop.defer([this, copy] { a->deliver(kDevB, copy); });
            return true;
        };
        EXPECT_NE(b->link_up(kAdapter, kDevA, kAddrA, LinkRole::Peripheral, notify), nullptr);
        LinkIo write;
        write.att_mtu = 185;
        write.send = [this](ByteView f) {
            Bytes copy(f.begin(), f.end());
            loop.defer([this, copy] { b->deliver(kDevA, copy, 185); });
            return true;
        };
        EXPECT_NE(a->link_up(kAdapter, kDevB, kAddrB, LinkRole::Central, write), nullptr);
    }

    static bool live(const Manager& c) {
        auto s = c.sessions();
        return !s.empty() && s[0].state == "live";
    }
};

TEST(Daemon, ConfirmWaitsForTheOperatorThenX509ExportFollowsTheSession) {
    Pair p("confirm");
    std::string peer_dir, cert_pem, exported;
    bool key_there = false;
    ASSERT_TRUE(run_steps(p.loop,
                          {[&] {
                               p.connect();
                               return true;
                           },
                           [&] { return !p.requested.empty(); },
                           [&] {
                               // What `blueratchetctl monitor` / `approvals` show.
                               auto pending = p.b->pending_approvals();
                               EXPECT_EQ(pending.size(), 1u);
                               EXPECT_FALSE(Pair::live(*p.a));
                               auto r = p.b->decide_approval("hci0", p.requested[0].peer_id, true);
                               EXPECT_TRUE(r.has_value())
                                   << (r.has_value() ? std::string() : r.error().message);
                               return true;
                           },
                           [&] { return Pair::live(*p.a) && Pair::live(*p.b); },
                           [&] { return p.b->plugin_host().idle(); },
                           [&] {
                               auto s = p.b->sessions()[0];
                               peer_dir = p.export_dir + "/hci0/" + s.peer_id_hex;
                               std::ifstream in(peer_dir + "/cert.pem");
                               std::stringstream ss;
                               ss << in.rdbuf();
                               cert_pem = ss.str();
                               auto pem = p.b->export_session(
                                   "hci0", s.peer_id, ExportWhat::Certificate, ExportFormat::Pem);
                               if (pem) exported.assign(pem->begin(), pem->end());
                               key_there = ::access((peer_dir + "/key.pem").c_str(), F_OK) == 0;
                               p.b->link_lost(kDevA, "test: link lost");
                               return true;
                           },
                           [&] { return p.b->plugin_host().idle(); }},
                          30s));
    ASSERT_EQ(p.requested.size(), 1u);
    EXPECT_EQ(p.requested[0].adapter, "hci0");
    EXPECT_EQ(p.requested[0].address, kAddrA);
    EXPECT_EQ(p.requested[0].short_code.size(), 6u);
    EXPECT_FALSE(cert_pem.empty());
    EXPECT_EQ(cert_pem, exported);
    EXPECT_TRUE(key_there);
    EXPECT_EQ(p.a->sessions()[0].short_code, p.requested[0].short_code);
    // Invalidated on link loss: the files are gone.
    EXPECT_EQ(p.b->sessions()[0].state, "invalidated");
    EXPECT_NE(::access(peer_dir.c_str(), F_OK), 0);
    EXPECT_TRUE(p.b->pending_approvals().empty());
}

TEST(Daemon, TheOperatorRejects) {
    Pair p("confirm");
    ASSERT_TRUE(run_steps(p.loop,
                          {[&] {
                               p.connect();
                               return true;
                           },
                           [&] { return !p.requested.empty(); },
                           [&] {
                               auto r = p.b->decide_approval("hci0", p.requested[0].peer_id, false);
                               EXPECT_TRUE(r.has_value());
                               return true;
                           },
                           [&] { return !p.bluez_a.disconnected.empty(); }},
                          30s));
    EXPECT_TRUE(p.a->sessions().empty());
    EXPECT_TRUE(p.b->sessions().empty());
    EXPECT_TRUE(p.b->peers().empty());
}

TEST(Daemon, WindowIsTheDefaultAndRefusesWithTheWindowClosed) {
    Pair p("window");
    ASSERT_TRUE(run_steps(p.loop,
                          {[&] {
                               p.connect();
                               return true;
                           },
                           [&] { return !p.bluez_a.disconnected.empty(); }},
                          30s));
    EXPECT_TRUE(p.b->sessions().empty());
    EXPECT_TRUE(p.requested.empty());
}

TEST(Daemon, WindowApprovesWithTheWindowOpen) {
    Pair p("window");
    ASSERT_TRUE(p.b->set_pairing_window("hci0", 60).has_value());
    ASSERT_TRUE(run_steps(p.loop,
                          {[&] {
                               p.connect();
                               return true;
                           },
                           [&] { return Pair::live(*p.a) && Pair::live(*p.b); }},
                          30s));
    EXPECT_TRUE(p.requested.empty());
}

}  // namespace
}  // namespace br::daemon::plugins::test
