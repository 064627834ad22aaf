// SPDX-License-Identifier: MIT
// The org.blueratchet API on a real (private) dbus-daemon, over a fake Model.
//
// The server side (Api + FakeModel) runs on its connection's own event-loop
// thread, as in the daemon; the test drives the model through a small
// control object on that connection (/test, org.blueratchet.Test), so model
// events happen on the loop thread too.  The client uses the proxies
// generated from dbus/*.xml and pumps its connection by hand.
#include <gtest/gtest.h>
#include <poll.h>
#include <sdbus-c++/sdbus-c++.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/util/peer_id.hpp"
#include "daemon/api/api.hpp"
#include "daemon/api/errors.hpp"
#include "daemon/shown.hpp"
#include "fake_server.hpp"
#include "org.blueratchet.Adapter1_proxy.h"
#include "org.blueratchet.Manager1_proxy.h"
#include "org.blueratchet.Peer1_proxy.h"
#include "org.blueratchet.ServiceHandler1_adaptor.h"
#include "org.blueratchet.Session1_proxy.h"
#include "private_bus.hpp"

namespace br::test {
namespace {

using br::daemon::Api;
namespace errors = br::daemon::errors;

struct Event {
    std::string
        what;  // SessionMinted, SessionInvalidated, ApprovalRequested, Added, Removed, Changed
    std::string path;
    std::string detail;
};

class ManagerClient final
    : public sdbus::ProxyInterfaces<org::blueratchet::Manager1_proxy, sdbus::ObjectManager_proxy> {
  public:
    ManagerClient(sdbus::IConnection& conn, std::vector<Event>& events)
        : ProxyInterfaces(conn, errors::kBusName, errors::kManagerPath), events_(events) {
        registerProxy();
    }
    ~ManagerClient() { unregisterProxy(); }

  private:
    void onSessionMinted(const sdbus::ObjectPath& session, const std::string&,
                         const std::string& peer_id, const std::string& kind, const uint32_t& epoch,
                         const std::string&, const std::string& short_code) override {
        events_.push_back({"SessionMinted", session,
                           peer_id + " " + kind + " " + std::to_string(epoch) + " " + short_code});
    }
    void onSessionInvalidated(const sdbus::ObjectPath& session, const std::string&,
                              const std::string&, const std::string& reason) override {
        events_.push_back({"SessionInvalidated", session, reason});
    }
    void onApprovalRequested(const std::string& adapter, const std::string& peer_id,
                             const std::string&, const std::string& short_code,
                             const uint32_t&) override {
        events_.push_back({"ApprovalRequested", adapter, peer_id + " " + short_code});
    }
    void onBondRefused(const std::string& adapter, const std::string& peer_id, const std::string&,
                       const std::string& reason) override {
        events_.push_back({"BondRefused", adapter, peer_id + " " + reason});
    }
    void onAttemptFailed(const std::string& adapter, const std::string& peer_id,
                         const std::string& address, const std::string& reason,
                         const std::string& error, const std::string& detail) override {
        events_.push_back({"AttemptFailed", adapter,
                           peer_id + "|" + address + "|" + reason + "|" + error + "|" + detail});
    }
    void onInterfacesAdded(
        const sdbus::ObjectPath& path,
        const std::map<std::string, std::map<std::string, sdbus::Variant>>& ifaces) override {
        std::string names;
        for (const auto& [name, props] : ifaces) {
            if (name.rfind("org.blueratchet.", 0) == 0) names += name;
        }
        events_.push_back({"Added", path, names});
    }
    void onInterfacesRemoved(const sdbus::ObjectPath& path,
                             const std::vector<std::string>& ifaces) override {
        std::string names;
        for (const auto& name : ifaces) {
            if (name.rfind("org.blueratchet.", 0) == 0) names += name;
        }
        events_.push_back({"Removed", path, names});
    }

    std::vector<Event>& events_;
};

class SessionClient final : public sdbus::ProxyInterfaces<org::blueratchet::Session1_proxy> {
  public:
    SessionClient(sdbus::IConnection& conn, const std::string& path)
        : ProxyInterfaces(conn, errors::kBusName, path) {
        registerProxy();
    }
    ~SessionClient() { unregisterProxy(); }
};

class PeerClient final : public sdbus::ProxyInterfaces<org::blueratchet::Peer1_proxy> {
  public:
    PeerClient(sdbus::IConnection& conn, const std::string& path)
        : ProxyInterfaces(conn, errors::kBusName, path) {
        registerProxy();
    }
    ~PeerClient() { unregisterProxy(); }
};

class AdapterClient final : public sdbus::ProxyInterfaces<org::blueratchet::Adapter1_proxy> {
  public:
    AdapterClient(sdbus::IConnection& conn, const std::string& path)
        : ProxyInterfaces(conn, errors::kBusName, path) {
        registerProxy();
    }
    ~AdapterClient() { unregisterProxy(); }
};

template <typename F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const sdbus::Error& e) {
        return e.getName();
    }
    return "(no error)";
}

template <typename F>
std::string message_of(F&& f) {
    try {
        f();
    } catch (const sdbus::Error& e) {
        return e.getMessage();
    }
    return "(no error)";
}

class ApiOnBus : public ::testing::Test {
  protected:
    void SetUp() override {
        bus_ = std::make_unique<PrivateBus>();
        server_ = std::make_unique<Server>(bus_->address());
        client_ = sdbus::createSessionBusConnectionWithAddress(bus_->address());
        manager_ = std::make_unique<ManagerClient>(*client_, events_);
        changes_ = client_->addMatch(
            "type='signal',sender='org.blueratchet',interface='org.freedesktop.DBus.Properties',"
            "member='PropertiesChanged',path_namespace='/org/blueratchet'",
            [this](sdbus::Message& msg) {
                std::string iface;
                std::map<std::string, sdbus::Variant> changed;
                std::vector<std::string> invalidated;
                msg >> iface >> changed >> invalidated;
                std::string names;
                for (const auto& [k, v] : changed) names += (names.empty() ? "" : ",") + k;
                events_.push_back({"Changed", msg.getPath(), names});
            });
        control_ = sdbus::createProxy(*client_, errors::kBusName, "/test");
        pump_for(std::chrono::milliseconds(20));
        events_.clear();
    }
    void TearDown() override {
        control_.reset();
        changes_.reset();
        manager_.reset();
        client_.reset();
        server_.reset();
        bus_.reset();
    }

    // Dispatches the client's incoming signals until pred holds or 5 s pass.
    bool pump_until(const std::function<bool()>& pred) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (true) {
            while (client_->processPendingRequest()) {
            }
            if (pred()) return true;
            if (std::chrono::steady_clock::now() > deadline) return false;
            auto pd = client_->getEventLoopPollData();
            pollfd p{pd.fd, pd.events, 0};
            ::poll(&p, 1, 20);
        }
    }
    void pump_for(std::chrono::milliseconds d) {
        auto end = std::chrono::steady_clock::now() + d;
        pump_until([&] { return std::chrono::steady_clock::now() > end; });
    }
    int index_of(const std::string& what, const std::string& path) const {
        for (std::size_t i = 0; i < events_.size(); ++i) {
            if (events_[i].what == what && events_[i].path == path) return static_cast<int>(i);
        }
        return -1;
    }
    bool has(const std::string& what, const std::string& path) const {
        return index_of(what, path) >= 0;
    }
    std::string dump() const {
        std::string s;
        for (const auto& e : events_) s += e.what + " " + e.path + " " + e.detail + "\n";
        return s;
    }
    template <typename... Args>
    void control(const std::string& method, const Args&... args) {
        control_->callMethod(method).onInterface("org.blueratchet.Test").withArguments(args...);
    }
    std::set<std::string> object_paths() {
        std::set<std::string> out;
        for (const auto& [path, ifaces] : manager_->GetManagedObjects()) out.insert(path);
        return out;
    }

    std::unique_ptr<PrivateBus> bus_;
    std::unique_ptr<Server> server_;
    std::unique_ptr<sdbus::IConnection> client_;
    std::unique_ptr<ManagerClient> manager_;
    sdbus::Slot changes_;
    std::unique_ptr<sdbus::IProxy> control_;
    std::vector<Event> events_;

    const std::string peer1_ = make_id(1);
    const std::string peer1_hex_ = br::PeerId::from_base64url(make_id(1))->hex();
    const std::string peer1_path_ = "/org/blueratchet/hci0/peer_" + peer1_hex_;
    const std::string session1_path_ = peer1_path_ + "/session";
};

TEST_F(ApiOnBus, ObjectsAndProperties) {
    auto objects = manager_->GetManagedObjects();
    ASSERT_EQ(objects.count("/org/blueratchet/hci0"), 1u);
    ASSERT_EQ(objects.count(peer1_path_), 1u);
    EXPECT_EQ(objects.size(), 3u);  // hci0 and two peers, no sessions yet
    const auto& peer = objects[peer1_path_]["org.blueratchet.Peer1"];
    EXPECT_EQ(peer.at("DeviceId").get<std::string>(), peer1_);
    EXPECT_EQ(peer.at("Alias").get<std::string>(), "kitchen-sensor");
    EXPECT_EQ(peer.at("Epoch").get<uint32_t>(), 3u);
    EXPECT_EQ(peer.at("Created").get<int64_t>(), 1700000000);
    EXPECT_EQ(peer.at("Adapter").get<sdbus::ObjectPath>(), "/org/blueratchet/hci0");

    EXPECT_EQ(manager_->Version(), "0.1.0");
    EXPECT_EQ(manager_->Adapters(), (std::vector<sdbus::ObjectPath>{"/org/blueratchet/hci0"}));

    AdapterClient hci0(*client_, "/org/blueratchet/hci0");
    EXPECT_EQ(hci0.Name(), "hci0");
    EXPECT_EQ(hci0.Address(), "00:11:22:33:44:55");
    EXPECT_TRUE(hci0.Powered());
    EXPECT_FALSE(hci0.PairingWindowOpen());
    EXPECT_EQ(hci0.PairingWindowRemaining(), 0u);
}

TEST_F(ApiOnBus, PairingWindowChangesAreSignalled) {
    manager_->SetPairingWindow("hci0", 90);
    ASSERT_TRUE(pump_until([&] { return has("Changed", "/org/blueratchet/hci0"); })) << dump();
    EXPECT_EQ(events_[index_of("Changed", "/org/blueratchet/hci0")].detail, "PairingWindowOpen");
    AdapterClient hci0(*client_, "/org/blueratchet/hci0");
    EXPECT_TRUE(hci0.PairingWindowOpen());
    EXPECT_EQ(hci0.PairingWindowRemaining(), 90u);
    manager_->SetPairingWindow("hci0", 0);
    EXPECT_FALSE(hci0.PairingWindowOpen());
    EXPECT_EQ(error_of([&] { manager_->SetPairingWindow("hci9", 10); }), errors::kNotFound);
    EXPECT_EQ(error_of([&] { manager_->SetPairingWindow("hci0/../x", 10); }),
              errors::kInvalidArgument);
}

TEST_F(ApiOnBus, NamedErrors) {
    std::string unknown = make_id(99);
    EXPECT_EQ(error_of([&] { manager_->ForgetPeer("hci0", unknown); }), errors::kNotFound);
    EXPECT_NE(message_of([&] { manager_->ForgetPeer("hci0", unknown); }).find("no peer"),
              std::string::npos);
    EXPECT_EQ(error_of([&] { manager_->ForgetPeer("hci0", "not-an-id"); }),
              errors::kInvalidArgument);
    EXPECT_EQ(error_of([&] { manager_->Approve("hci0", unknown); }), errors::kNotFound);
    EXPECT_EQ(error_of([&] { manager_->Reject("", unknown); }), errors::kInvalidArgument);
}

// Issue #10, item 9b: an invalid argument is echoed cut to 64 bytes, with an
// ellipsis and its length, and the cut never splits a UTF-8 character (the
// reply would not be valid D-Bus and never be sent).
TEST_F(ApiOnBus, InvalidArgumentsAreEchoedCut) {
    std::string long_id(100000, 'x');
    std::string m = message_of([&] { manager_->ForgetPeer("hci0", long_id); });
    EXPECT_NE(m.find("\"" + std::string(64, 'x') + "...(100000 bytes)\""), std::string::npos)
        << m.substr(0, 200);
    EXPECT_LT(m.size(), 200u);
    // 63 ASCII bytes, then two-byte characters: the 65th byte is inside one.
    std::string utf8 = std::string(63, 'a');
    for (int i = 0; i < 1000; ++i) utf8 += "\xc3\xa9";  // é
    m = message_of([&] { manager_->SetPairingWindow(utf8, 0); });
    EXPECT_NE(m.find("\"" + std::string(63, 'a') + "...(2063 bytes)\""), std::string::npos)
        << m.substr(0, 200);
    EXPECT_EQ(daemon::cut(std::string(64, 'b')), std::string(64, 'b'));
    EXPECT_EQ(daemon::cut(std::string(62, 'b') + "\xc3\xa9z"),
              std::string(62, 'b') + "\xc3\xa9...(65 bytes)");
}

TEST_F(ApiOnBus, ThrowingModelAnswersFailedAndTheServerLives) {
    control("SetThrow", true);
    std::string err = error_of([&] { manager_->ForgetPeer("hci0", peer1_); });
    EXPECT_EQ(err, errors::kFailed);
    EXPECT_NE(
        message_of([&] { manager_->ForgetPeer("hci0", peer1_); }).find("simulated core failure"),
        std::string::npos);
    // Not even a std::exception: still a Failed answer.
    EXPECT_EQ(error_of([&] { manager_->Approve("hci0", peer1_); }), errors::kFailed);
    control("SetThrow", false);
    // Still serving.
    EXPECT_EQ(manager_->Adapters().size(), 1u);
    manager_->ForgetPeer("hci0", peer1_);
    EXPECT_EQ(object_paths().count(peer1_path_), 0u);
}

TEST_F(ApiOnBus, SessionLifecycle) {
    control("Mint", std::string("hci0"), peer1_, std::string("resume"));
    ASSERT_TRUE(pump_until([&] { return has("SessionMinted", session1_path_); })) << dump();
    ASSERT_TRUE(has("Added", session1_path_)) << dump();
    EXPECT_EQ(events_[index_of("Added", session1_path_)].detail, "org.blueratchet.Session1");
    EXPECT_LT(index_of("Added", session1_path_), index_of("SessionMinted", session1_path_));
    EXPECT_EQ(events_[index_of("SessionMinted", session1_path_)].detail,
              peer1_ + " resume 7 123456");

    SessionClient session(*client_, session1_path_);
    EXPECT_EQ(session.Peer(), peer1_path_);
    EXPECT_EQ(session.Kind(), "resume");
    EXPECT_EQ(session.State(), "live");
    EXPECT_EQ(session.ShortCode(), "123456");
    EXPECT_EQ(session.NotAfter(), 1700003600u);

    auto cert = session.Export("certificate", "pem");
    EXPECT_EQ(std::string(cert.begin(), cert.end()), "CERT-PEM:" + peer1_);
    auto peer_der = session.Export("peer-certificate", "der");
    EXPECT_EQ(std::string(peer_der.begin(), peer_der.end()), "PEERCERT-DER:" + peer1_);
    if (geteuid() == 0) {
        auto key = session.Export("key", "pem");
        EXPECT_EQ(std::string(key.begin(), key.end()), "KEY-PEM:" + peer1_);
    } else {
        EXPECT_EQ(error_of([&] { session.Export("key", "pem"); }), errors::kNotPermitted);
    }
    EXPECT_EQ(error_of([&] { session.Export("secret", "pem"); }), errors::kInvalidArgument);
    EXPECT_EQ(error_of([&] { session.Export("certificate", "txt"); }), errors::kInvalidArgument);

    // Invalidate() removes the object it is called on.
    events_.clear();
    session.Invalidate();
    ASSERT_TRUE(pump_until([&] { return has("Removed", session1_path_); })) << dump();
    ASSERT_TRUE(has("SessionInvalidated", session1_path_)) << dump();
    EXPECT_EQ(events_[index_of("SessionInvalidated", session1_path_)].detail, "invalidated");
    EXPECT_LT(index_of("SessionInvalidated", session1_path_), index_of("Removed", session1_path_));
    // The object is gone from the bus (after its handler returned).
    ASSERT_TRUE(pump_until([&] { return object_paths().count(session1_path_) == 0; }));
    EXPECT_NE(error_of([&] { session.Invalidate(); }), "(no error)");

    // A new session at the same path, ended by a disconnect this time.
    events_.clear();
    control("Mint", std::string("hci0"), peer1_, std::string("pair"));
    ASSERT_TRUE(pump_until([&] { return has("SessionMinted", session1_path_); })) << dump();
    control("Disconnect", std::string("hci0"), peer1_);
    ASSERT_TRUE(pump_until([&] { return has("Removed", session1_path_); })) << dump();
    EXPECT_EQ(events_[index_of("SessionInvalidated", session1_path_)].detail, "disconnected");
    EXPECT_EQ(object_paths().count(session1_path_), 0u);
}

TEST_F(ApiOnBus, ForgetRemovesSessionThenPeer) {
    control("Mint", std::string("hci0"), peer1_, std::string("resume"));
    ASSERT_TRUE(pump_until([&] { return has("SessionMinted", session1_path_); })) << dump();
    events_.clear();
    // The hex form of the id is accepted too.
    manager_->ForgetPeer("hci0", peer1_hex_);
    ASSERT_TRUE(pump_until([&] { return has("Removed", peer1_path_); })) << dump();
    EXPECT_EQ(events_[index_of("SessionInvalidated", session1_path_)].detail, "forgotten");
    EXPECT_LT(index_of("SessionInvalidated", session1_path_), index_of("Removed", session1_path_));
    EXPECT_LT(index_of("Removed", session1_path_), index_of("Removed", peer1_path_));
    auto paths = object_paths();
    EXPECT_EQ(paths.count(peer1_path_), 0u);
    EXPECT_EQ(paths.count(session1_path_), 0u);
    EXPECT_EQ(error_of([&] { manager_->ForgetPeer("hci0", peer1_); }), errors::kNotFound);
}

// What the manager reports of an attempt that ended without a session
// reaches the bus as Manager1.AttemptFailed, every field in its place.
TEST_F(ApiOnBus, AFailedAttemptIsSignalled) {
    control("FailAttempt", std::string("hci0"), std::string("AA:BB:CC:00:00:42"));
    ASSERT_TRUE(pump_until([&] { return has("AttemptFailed", "hci0"); })) << dump();
    EXPECT_EQ(events_[index_of("AttemptFailed", "hci0")].detail,
              "|AA:BB:CC:00:00:42|HandshakeFailed|Noise.DecryptFailed|handshake failed: noise "
              "handshake failed: decryption failed");
}

TEST_F(ApiOnBus, ApprovalsAndPeerChanges) {
    std::string newcomer = make_id(50);
    control("RequestApproval", std::string("hci0"), newcomer);
    ASSERT_TRUE(pump_until([&] { return has("ApprovalRequested", "hci0"); })) << dump();
    EXPECT_EQ(events_[index_of("ApprovalRequested", "hci0")].detail, newcomer + " 654321");
    auto pending = manager_->ListPendingApprovals();
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_EQ(pending[0].get<1>(), newcomer);
    EXPECT_EQ(pending[0].get<3>(), "654321");
    manager_->Approve("hci0", newcomer);
    EXPECT_TRUE(manager_->ListPendingApprovals().empty());
    EXPECT_EQ(error_of([&] { manager_->Reject("hci0", newcomer); }), errors::kNotFound);

    events_.clear();
    control("Rename", peer1_, std::string("pantry"));
    ASSERT_TRUE(pump_until([&] { return has("Changed", peer1_path_); })) << dump();
    EXPECT_EQ(events_[index_of("Changed", peer1_path_)].detail, "Alias,Connected");
    PeerClient peer(*client_, peer1_path_);
    EXPECT_EQ(peer.Alias(), "pantry");
    EXPECT_TRUE(peer.Connected());

    events_.clear();
    control("AddAdapter", std::string("hci1"));
    ASSERT_TRUE(pump_until([&] { return has("Added", "/org/blueratchet/hci1"); })) << dump();
    ASSERT_TRUE(pump_until([&] { return has("Changed", "/org/blueratchet"); })) << dump();
    EXPECT_EQ(manager_->Adapters().size(), 2u);
}

}  // namespace
}  // namespace br::test

namespace br::test {
namespace {

// An application offering a service: its handler object on the client's
// connection keeps each channel's socket.
class EchoHandler final
    : public sdbus::AdaptorInterfaces<org::blueratchet::ServiceHandler1_adaptor> {
  public:
    EchoHandler(sdbus::IConnection& conn, std::string path)
        : AdaptorInterfaces(conn, std::move(path)) {
        registerAdaptor();
    }
    ~EchoHandler() {
        unregisterAdaptor();
        for (int fd : fds) ::close(fd);
    }
    std::vector<int> fds;
    std::vector<std::string> calls;

  private:
    void NewChannel(const std::string& adapter, const std::string& peer_id,
                    const std::string& service, const sdbus::UnixFd& channel) override {
        calls.push_back(adapter + " " + peer_id + " " + service);
        fds.push_back(::dup(channel.get()));
    }
};

std::string read_line(int fd) {
    std::string out;
    char c;
    while (::read(fd, &c, 1) == 1 && c != '\n') out += c;
    return out;
}

TEST_F(ApiOnBus, OpenChannelAnswersWithAConnectedSocketOrWhyNot) {
    auto error_of = [&](const std::string& service) {
        try {
            (void)manager_->OpenChannel("hci0", peer1_, service);
        } catch (const sdbus::Error& e) {
            return e.getName() + ": " + e.getMessage();
        }
        return std::string("(no error)");
    };
    EXPECT_EQ(error_of("echo").rfind(std::string(errors::kNotFound) + ": no live session", 0), 0u)
        << error_of("echo");
    control("Mint", std::string("hci0"), peer1_, std::string("pair"));
    sdbus::UnixFd channel = manager_->OpenChannel("hci0", peer1_, "echo");
    ASSERT_TRUE(channel.isValid());
    EXPECT_EQ(read_line(channel.get()), "opened echo");
    EXPECT_NE(error_of("nonesuch").find("NoSuchService"), std::string::npos);
    EXPECT_EQ(error_of("x").size() > 0, true);
    try {
        (void)manager_->OpenChannel("hci0", "not-an-id", "echo");
        FAIL() << "a malformed peer id was accepted";
    } catch (const sdbus::Error& e) {
        EXPECT_EQ(e.getName(), errors::kInvalidArgument);
    }
}

TEST_F(ApiOnBus, ARegisteredServiceGetsEachChannelAndGoesWithItsOwner) {
    auto app = sdbus::createSessionBusConnectionWithAddress(bus_->address());
    auto app_manager = sdbus::createProxy(*app, errors::kBusName, errors::kManagerPath);
    auto handler_obj = std::make_unique<EchoHandler>(*app, "/app/echo");
    EchoHandler& handler = *handler_obj;
    app->enterEventLoopAsync();
    app_manager->callMethod("RegisterService")
        .onInterface("org.blueratchet.Manager1")
        .withArguments(std::string("echo"), sdbus::ObjectPath("/app/echo"));
    // Taken: another caller cannot register it, nor unregister it.
    try {
        manager_->RegisterService("echo", "/elsewhere");
        FAIL() << "a taken service was registered twice";
    } catch (const sdbus::Error& e) {
        EXPECT_EQ(e.getName(), errors::kNotPermitted);
    }
    try {
        manager_->UnregisterService("echo");
        FAIL() << "someone else's service was unregistered";
    } catch (const sdbus::Error& e) {
        EXPECT_EQ(e.getName(), errors::kNotFound);
    }
    // A peer opens a channel to it: the application's object gets a socket
    // on which the peer's first words arrive.
    bool delivered = false;
    control_->callMethod("Deliver")
        .onInterface("org.blueratchet.Test")
        .withArguments(std::string("echo"))
        .storeResultsTo(delivered);
    EXPECT_TRUE(delivered);
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (handler.fds.empty() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_EQ(handler.fds.size(), 1u);
    EXPECT_EQ(handler.calls[0], "hci0 " + make_id(1) + " echo");
    EXPECT_EQ(read_line(handler.fds[0]), "hello from the peer");
    // The application leaves the bus: its service goes with it.
    std::string owner = app->getUniqueName();
    app->leaveEventLoop();
    handler_obj.reset();
    app_manager.reset();
    app.reset();
    std::vector<std::string> gone;
    until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (gone.empty() && std::chrono::steady_clock::now() < until) {
        control_->callMethod("Gone").onInterface("org.blueratchet.Test").storeResultsTo(gone);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(gone, std::vector<std::string>{owner});
    control_->callMethod("Deliver")
        .onInterface("org.blueratchet.Test")
        .withArguments(std::string("echo"))
        .storeResultsTo(delivered);
    EXPECT_FALSE(delivered);
    // And the name is free again.
    EXPECT_NO_THROW(manager_->RegisterService("echo", "/elsewhere"));
}

}  // namespace
}  // namespace br::test
