// SPDX-License-Identifier: MIT
// blueratchetctl against the API over a fake Model on a private
// dbus-daemon (DBUS_SYSTEM_BUS_ADDRESS points it there).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/util/peer_id.hpp"
#include "ctl/bus.hpp"
#include "fake_server.hpp"
#include "private_bus.hpp"

namespace br::test {
namespace {

using json = nlohmann::json;

struct CtlRun {
    int status = -1;
    std::string out, err;
};

std::string ctl_path() {
    const char* p = std::getenv("BR_CTL");
    return p ? p : "blueratchetctl";
}

std::string drain(int fd) {
    std::string s;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<std::size_t>(n));
    return s;
}

// Runs blueratchetctl with `args` on the bus at `address`, through `wrapper`
// (e.g. setpriv ...) if given.
CtlRun run_ctl(const std::string& address, std::vector<std::string> args,
               std::vector<std::string> wrapper = {}) {
    int out[2], err[2];
    EXPECT_EQ(pipe(out), 0);
    EXPECT_EQ(pipe(err), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(out[0]);
        close(err[0]);
        setenv("DBUS_SYSTEM_BUS_ADDRESS", address.c_str(), 1);
        std::string path = ctl_path();
        std::vector<char*> argv;
        for (auto& w : wrapper) argv.push_back(w.data());
        argv.push_back(path.data());
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    CtlRun r;
    // Both pipes are small here; read stdout then stderr.
    r.out = drain(out[0]);
    r.err = drain(err[0]);
    close(out[0]);
    close(err[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

class Ctl : public ::testing::Test {
  protected:
    void SetUp() override {
        bus_ = std::make_unique<PrivateBus>();
        server_ = std::make_unique<Server>(bus_->address());
        client_ = sdbus::createSessionBusConnectionWithAddress(bus_->address());
        control_ = sdbus::createProxy(*client_, "org.blueratchet", "/test");
    }
    void TearDown() override {
        control_.reset();
        client_.reset();
        server_.reset();
        bus_.reset();
    }
    CtlRun ctl(std::vector<std::string> args) { return run_ctl(bus_->address(), std::move(args)); }
    template <typename... Args>
    void control(const std::string& method, const Args&... args) {
        control_->callMethod(method).onInterface("org.blueratchet.Test").withArguments(args...);
    }

    std::unique_ptr<PrivateBus> bus_;
    std::unique_ptr<Server> server_;
    std::unique_ptr<sdbus::IConnection> client_;
    std::unique_ptr<sdbus::IProxy> control_;

    const std::string peer1_ = make_id(1);
    const std::string peer1_hex_ = br::PeerId::from_base64url(make_id(1))->hex();
    const std::string peer2_ = make_id(2);
};

TEST_F(Ctl, Status) {
    CtlRun r = ctl({"status"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("blueratchetd 0.1.0 is running"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("hci0  00:11:22:33:44:55  powered"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("2 peer(s), 0 live session(s), 0 pending approval(s)"), std::string::npos)
        << r.out;

    r = ctl({"status", "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    json j = json::parse(r.out);
    EXPECT_EQ(j["version"], "0.1.0");
    EXPECT_EQ(j["peers"], 2);
    EXPECT_EQ(j["adapters"][0]["name"], "hci0");
    // --json before the command works too.
    EXPECT_EQ(ctl({"--json", "status"}).status, 0);
}

TEST_F(Ctl, Listings) {
    CtlRun r = ctl({"peers", "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    json j = json::parse(r.out);
    ASSERT_EQ(j.size(), 2u);
    EXPECT_EQ(j[0]["device_id"], peer1_);
    EXPECT_EQ(j[0]["id_hex"], peer1_hex_);
    EXPECT_EQ(j[0]["alias"], "kitchen-sensor");

    r = ctl({"peers"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out.rfind("PEER", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("kitchen-sensor"), std::string::npos);

    r = ctl({"adapters", "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(json::parse(r.out)[0]["address"], "00:11:22:33:44:55");

    r = ctl({"sessions", "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(json::parse(r.out).empty());
    control("Mint", std::string("hci0"), peer1_, std::string("pair"));
    r = ctl({"sessions", "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    j = json::parse(r.out);
    ASSERT_EQ(j.size(), 1u);
    EXPECT_EQ(j[0]["peer_id"], peer1_);
    EXPECT_EQ(j[0]["short_code"], "123456");

    r = ctl({"approvals", "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(json::parse(r.out).empty());
}

TEST_F(Ctl, ShowAcceptsEveryPeerSpelling) {
    control("Mint", std::string("hci0"), peer1_, std::string("resume"));
    for (const std::string& arg : {peer1_, peer1_hex_, peer1_.substr(0, 6), peer1_hex_.substr(0, 8),
                                   std::string("aa:bb:cc:00:00:01"),
                                   "/org/blueratchet/hci0/peer_" + peer1_hex_ + "/session"}) {
        CtlRun r = ctl({"show", arg, "--json"});
        ASSERT_EQ(r.status, 0) << arg << ": " << r.err;
        json j = json::parse(r.out);
        EXPECT_EQ(j["device_id"], peer1_) << arg;
        EXPECT_EQ(j["session"]["kind"], "resume") << arg;
    }
    CtlRun r = ctl({"show", peer2_.substr(0, 5)});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("Alias       door"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("No live session"), std::string::npos) << r.out;

    r = ctl({"show", "zzzzzz"});
    EXPECT_EQ(r.status, 3);  // not found
    EXPECT_EQ(r.err, "blueratchetctl: no peer matches \"zzzzzz\"\n");
    r = ctl({"show", "AA"});
    EXPECT_EQ(r.status, 2);  // usage
    EXPECT_NE(r.err.find("at least 4 characters"), std::string::npos) << r.err;
    r = ctl({"show", peer1_, "--adapter", "hci1"});
    EXPECT_EQ(r.status, 3);
}

TEST_F(Ctl, PairingWindow) {
    CtlRun r = ctl({"pairing", "on", "30", "--adapter", "hci0"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "hci0: pairing window open for 30s\n");
    json j = json::parse(ctl({"adapters", "--json"}).out);
    EXPECT_EQ(j[0]["pairing_window_open"], true);
    EXPECT_EQ(j[0]["pairing_window_remaining"], 30);

    r = ctl({"pairing", "off"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "hci0: pairing window closed\n");
    EXPECT_EQ(json::parse(ctl({"adapters", "--json"}).out)[0]["pairing_window_open"], false);

    // The default length comes from main.conf.
    std::string conf = bus_->dir() + "/main.conf";
    std::ofstream(conf) << "[Pairing]\nWindowSeconds = 45\n";
    r = ctl({"pairing", "on", "--config", conf});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "hci0: pairing window open for 45s\n");
    std::ofstream(conf) << "[Pairing]\nWindowSeconds = 0\n";
    r = ctl({"pairing", "on", "--config", conf});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find(conf + ":2: WindowSeconds: must be 1..3600"), std::string::npos) << r.err;

    r = ctl({"pairing", "on", "10", "--adapter", "hci7"});
    EXPECT_EQ(r.status, 3);
    EXPECT_EQ(r.err, "blueratchetctl: no adapter hci7\n");
}

TEST_F(Ctl, Forget) {
    CtlRun r = ctl({"forget", peer1_hex_.substr(0, 10)});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "forgot " + peer1_ + " on hci0\n");
    EXPECT_EQ(json::parse(ctl({"peers", "--json"}).out).size(), 1u);
    r = ctl({"forget", peer1_});
    EXPECT_EQ(r.status, 3);
    EXPECT_NE(r.err.find("no peer matches"), std::string::npos) << r.err;
}

TEST_F(Ctl, ExportWritesFilesWithTheRightModes) {
    CtlRun r = ctl({"export", peer1_});
    EXPECT_EQ(r.status, 3);
    EXPECT_EQ(r.err, "blueratchetctl: peer " + peer1_ + " has no live session\n");

    control("Mint", std::string("hci0"), peer1_, std::string("pair"));
    r = ctl({"export", peer1_});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "CERT-PEM:" + peer1_);

    std::string key = bus_->dir() + "/session.key", cert = bus_->dir() + "/session.der";
    r = ctl({"export", peer1_, "--what", "key", "--out", key});
    if (geteuid() != 0) {
        EXPECT_EQ(r.status, 1);
        EXPECT_NE(r.err.find("only root"), std::string::npos) << r.err;
        return;
    }
    ASSERT_EQ(r.status, 0) << r.err;
    struct stat st {};
    ASSERT_EQ(stat(key.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    std::stringstream ss;
    ss << std::ifstream(key).rdbuf();
    EXPECT_EQ(ss.str(), "KEY-PEM:" + peer1_);

    r = ctl({"export", peer1_, "--what", "peer-certificate", "--format", "der", "--out", cert});
    ASSERT_EQ(r.status, 0) << r.err;
    ASSERT_EQ(stat(cert.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST_F(Ctl, OnlyRootExportsKeys) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to run blueratchetctl as nobody";
    if (access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "no setpriv";
    control("Mint", std::string("hci0"), peer1_, std::string("pair"));
    std::vector<std::string> nobody{"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
                                    "--clear-groups"};
    // The private bus lets anyone call: this is the daemon's own check.
    CtlRun r = run_ctl(bus_->address(), {"export", peer1_, "--what", "key"}, nobody);
    EXPECT_EQ(r.status, 4);  // permission denied
    EXPECT_EQ(r.err, "blueratchetctl: only root may export a session private key\n");
    EXPECT_EQ(r.out, "");
    r = run_ctl(bus_->address(), {"export", peer1_, "--what", "certificate"}, nobody);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "CERT-PEM:" + peer1_);
}

TEST_F(Ctl, ApproveAndReject) {
    std::string newcomer = make_id(60);
    control("RequestApproval", std::string("hci0"), newcomer);
    CtlRun r = ctl({"approvals"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find(newcomer), std::string::npos) << r.out;
    r = ctl({"approve", newcomer.substr(0, 8)});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "approved " + newcomer + " on hci0\n");

    control("RequestApproval", std::string("hci0"), newcomer);
    r = ctl({"reject", "AA:BB:CC:00:00:77"});
    ASSERT_EQ(r.status, 0) << r.err;
    std::vector<std::string> decisions;
    control_->callMethod("Decisions").onInterface("org.blueratchet.Test").storeResultsTo(decisions);
    EXPECT_EQ(decisions,
              (std::vector<std::string>{newcomer + ":approved", newcomer + ":rejected"}));

    // A paired peer with nothing pending: the daemon says so.
    r = ctl({"approve", peer1_});
    EXPECT_EQ(r.status, 3);
    EXPECT_EQ(r.err, "blueratchetctl: no pending approval for " + peer1_ + "\n");
}

TEST_F(Ctl, ErrorsAndUsage) {
    control("SetThrow", true);
    CtlRun r = ctl({"forget", peer1_});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "blueratchetctl: ForgetPeer failed: simulated core failure\n");
    control("SetThrow", false);

    for (const auto& args :
         std::vector<std::vector<std::string>>{{},
                                               {"frobnicate"},
                                               {"pairing"},
                                               {"pairing", "on", "abc"},
                                               {"export", peer1_, "--what", "secret"},
                                               {"show"}}) {
        r = ctl(args);
        EXPECT_EQ(r.status, 2) << (args.empty() ? "" : args[0]) << ": " << r.err;
        EXPECT_EQ(r.err.rfind("blueratchetctl: ", 0), 0u) << r.err;
    }
    r = ctl({"--help"});
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.out.find("monitor"), std::string::npos);
}

TEST_F(Ctl, DaemonMissing) {
    PrivateBus empty;
    CtlRun r = run_ctl(empty.address(), {"status"});
    EXPECT_EQ(r.status, 5);  // no daemon
    EXPECT_EQ(r.err,
              "blueratchetctl: blueratchetd is not running (nobody owns org.blueratchet on the "
              "system bus)\n");
    r = run_ctl("unix:path=/nonexistent/bus", {"peers"});
    EXPECT_EQ(r.status, 5);
    EXPECT_EQ(r.err.rfind("blueratchetctl: cannot connect to the system bus: ", 0), 0u) << r.err;
}

TEST_F(Ctl, CheckConfig) {
    std::string conf = bus_->dir() + "/check.conf";
    std::ofstream(conf) << "[Session]\nValidity = 600\n";
    CtlRun r = ctl({"check-config", conf});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, conf + ": OK\n");
    std::ofstream(conf) << "[Session]\nValidty = 600\n";
    r = ctl({"check-config", conf});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "blueratchetctl: " + conf + ":2: unknown key Validty in [Session]\n");
}

TEST_F(Ctl, MonitorPrintsOneLinePerEventUntilInterrupted) {
    int out[2], err[2];
    ASSERT_EQ(pipe(out), 0);
    ASSERT_EQ(pipe(err), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(out[0]);
        close(err[0]);
        setenv("DBUS_SYSTEM_BUS_ADDRESS", bus_->address().c_str(), 1);
        std::string path = ctl_path();
        execl(path.c_str(), path.c_str(), "monitor", "--json", static_cast<char*>(nullptr));
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    // Subscribed once it says so on stderr.
    std::string banner;
    char c;
    while (read(err[0], &c, 1) == 1 && c != '\n') banner.push_back(c);
    ASSERT_NE(banner.find("monitoring"), std::string::npos) << banner;

    control("Mint", std::string("hci0"), peer1_, std::string("pair"));
    control("RequestApproval", std::string("hci0"), make_id(70));
    control("FailAttempt", std::string("hci0"), std::string("AA:BB:CC:00:00:42"));
    control("Disconnect", std::string("hci0"), peer1_);

    std::vector<json> events;
    std::string buf;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (events.size() < 6 && std::chrono::steady_clock::now() < deadline) {
        pollfd p{out[0], POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        char chunk[4096];
        ssize_t n = read(out[0], chunk, sizeof chunk);
        if (n <= 0) break;
        buf.append(chunk, static_cast<std::size_t>(n));
        std::size_t nl;
        while ((nl = buf.find('\n')) != std::string::npos) {
            events.push_back(json::parse(buf.substr(0, nl)));
            buf.erase(0, nl + 1);
        }
    }
    kill(pid, SIGINT);
    int status = 0;
    waitpid(pid, &status, 0);
    close(out[0]);
    close(err[0]);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

    std::vector<std::string> kinds;
    for (const auto& e : events) kinds.push_back(e["event"]);
    EXPECT_EQ(kinds,
              (std::vector<std::string>{"added", "session-minted", "approval-requested",
                                        "attempt-failed", "session-invalidated", "removed"}));
    ASSERT_EQ(events.size(), 6u);
    EXPECT_EQ(events[1]["peer_id"], peer1_);
    events[3].erase("time");
    EXPECT_EQ(events[3], json({{"event", "attempt-failed"},
                               {"adapter", "hci0"},
                               {"peer_id", ""},
                               {"address", "AA:BB:CC:00:00:42"},
                               {"reason", "HandshakeFailed"},
                               {"error", "Noise.DecryptFailed"},
                               {"detail",
                                "handshake failed: noise handshake failed: decryption "
                                "failed"}}));
    EXPECT_EQ(events[4]["reason"], "disconnected");
    EXPECT_EQ(events[5]["interfaces"][0], "org.blueratchet.Session1");
}

// Issue #13 item 5: blueratchetctl in scripts.  Exit statuses a script can
// tell apart (2 usage, 3 not found, 4 denied above, 5 no daemon), unknown
// commands named, a peer id that starts with '-', --json honoured or
// refused, check-config of a missing file, the pairing window's bound,
// --adapter checked the same everywhere, revoke.
TEST_F(Ctl, CommandLinesForScripts) {
    CtlRun r = ctl({"frobnicate"});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("unknown command \"frobnicate\""), std::string::npos) << r.err;
    r = ctl({"pairing", "sideways"});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("unknown command \"sideways\" (pairing takes: on, off)"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(ctl({"revoke"}).status, 2);  // a command without its peer

    // One base64url id in 64 starts with '-': still a peer, not an option.
    PeerId::Bytes32 bytes{};
    bytes[0] = 0xf8;  // top six bits 62: '-'
    bytes[1] = 0x42;
    const std::string dash = PeerId(bytes).base64url();
    ASSERT_EQ(dash[0], '-');
    control("AddPeer", std::string("hci0"), dash, std::string("AA:BB:CC:00:00:2D"));
    r = ctl({"show", dash});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("Peer " + dash), std::string::npos) << r.out;
    r = ctl({"--json", "show", dash, "--adapter", "hci0"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(json::parse(r.out)["device_id"], dash);

    // Not found: a peer, an adapter, a live session, a file.
    EXPECT_EQ(ctl({"show", make_id(99)}).status, 3);
    EXPECT_EQ(ctl({"peers", "--adapter", "hci7"}).status, 3);
    EXPECT_EQ(ctl({"export", peer2_}).status, 3);
    r = ctl({"check-config", "/nonexistent/main.conf"});
    EXPECT_EQ(r.status, 3);
    EXPECT_NE(r.err.find("No such file"), std::string::npos) << r.err;

    // --adapter's form is checked before anything, by every command.
    for (const auto& cmd :
         std::vector<std::vector<std::string>>{{"peers", "--adapter", "hci0/../x"},
                                               {"show", peer1_, "--adapter", "hci0 x"},
                                               {"pairing", "off", "--adapter", "-"},
                                               {"agent", "--adapter", "hci0;"}}) {
        r = ctl(cmd);
        EXPECT_EQ(r.status, 2) << cmd[0] << ": " << r.err;
        EXPECT_NE(r.err.find("bad adapter name"), std::string::npos) << cmd[0] << ": " << r.err;
    }
    // The pairing window is bounded as [Pairing] WindowSeconds is.
    EXPECT_EQ(ctl({"pairing", "on", "3601"}).status, 2);
    EXPECT_EQ(ctl({"pairing", "on", "3600"}).status, 0);

    // --json: honoured, or refused (never silently ignored).
    r = ctl({"--json", "forget", peer2_});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(json::parse(r.out)["action"], "forgot");
    for (const auto& cmd :
         std::vector<std::vector<std::string>>{{"--json", "export", peer1_},
                                               {"--json", "agent"},
                                               {"--json", "channel", "connect", peer1_, "echo"}}) {
        r = ctl(cmd);
        EXPECT_EQ(r.status, 2) << cmd[1] << ": " << r.err;
        EXPECT_NE(r.err.find("--json is not supported"), std::string::npos) << r.err;
    }

    // revoke: the live session ends (Session1.Invalidate); none left: 3.
    control("Mint", std::string("hci0"), peer1_, std::string("pair"));
    r = ctl({"revoke", peer1_});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "revoked " + peer1_ + " on hci0\n");
    r = ctl({"--json", "sessions"});
    EXPECT_EQ(json::parse(r.out).size(), 0u) << r.out;
    EXPECT_EQ(ctl({"revoke", peer1_}).status, 3);
}

// What blueratchetctl says when the bus could not start the daemon
// (issue #13 item 5).  The Spawn case also runs for real in install-tree;
// NoSuchUnit needs systemd's bus (the alias of a disabled unit is missing).
TEST(Describe, AFailedActivationSaysWhyAndWhereToLook) {
    const std::string disabled = ctl::describe(sdbus::Error(
        "org.freedesktop.systemd1.NoSuchUnit", "Unit dbus-org.blueratchet.service not found."));
    EXPECT_NE(disabled.find("not enabled"), std::string::npos) << disabled;
    EXPECT_NE(disabled.find("systemctl enable --now blueratchet"), std::string::npos) << disabled;
    const std::string failed = ctl::describe(
        sdbus::Error("org.freedesktop.systemd1.UnitFailed", "Unit blueratchet.service failed."));
    EXPECT_NE(failed.find("failed to start (Unit blueratchet.service failed.)"), std::string::npos)
        << failed;
    EXPECT_NE(failed.find("blueratchetctl check-config"), std::string::npos) << failed;
    EXPECT_NE(failed.find("journalctl -u blueratchet"), std::string::npos) << failed;
    const std::string absent = ctl::describe(
        sdbus::Error("org.freedesktop.DBus.Error.ServiceUnknown", "The name is not activatable"));
    EXPECT_NE(absent.find("not running"), std::string::npos) << absent;
}

}  // namespace
}  // namespace br::test
