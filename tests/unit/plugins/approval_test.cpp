// SPDX-License-Identifier: MIT
// The approval plugins through the real loader: window, allowlist and
// confirm grant, refuse and time out.
#include <gtest/gtest.h>

#include <fstream>

#include "harness.hpp"

namespace br::daemon::plugins::test {
namespace {

using namespace std::chrono_literals;

struct Host {
    EventLoop loop;
    std::unique_ptr<PluginHost> host;
    std::vector<PendingApproval> requested;
    explicit Host(HostOptions o) {
        host = std::make_unique<PluginHost>(loop, std::move(o));
        host->on_pending = [this](const PendingApproval& p) { requested.push_back(p); };
        host->load();
    }
    // One question per test: the event loop runs once.
    Verdict ask(const FirstContact& c) {
        Verdict v;
        host->request_approval(c, v.callback());
        EXPECT_TRUE(run_steps(loop, {[&] { return v.done; }}));
        return v;
    }
    // Several questions in one run; `before[i]` runs before question i.
    std::vector<Verdict> ask_all(const std::vector<FirstContact>& cs,
                                 std::vector<std::function<void()>> before = {}) {
        std::vector<Verdict> vs(cs.size());
        std::vector<std::function<bool()>> steps;
        for (std::size_t i = 0; i < cs.size(); ++i) {
            steps.push_back([&, i] {
                if (i < before.size() && before[i]) before[i]();
                host->request_approval(cs[i], vs[i].callback());
                return true;
            });
            steps.push_back([&, i] { return vs[i].done; });
        }
        EXPECT_TRUE(run_steps(loop, steps));
        return vs;
    }
};

HostOptions options(const std::string& approval) {
    HostOptions o;
    o.directory = shipped_dir();
    o.approval = approval;
    return o;
}

// --- window -----------------------------------------------------------------

TEST(Window, ApprovesWhileTheWindowIsOpen) {
    Host h(options("window"));
    auto v = h.ask(contact(true));
    EXPECT_TRUE(v.approved);
    EXPECT_EQ(v.why, "approved by plugin window");
    EXPECT_TRUE(h.requested.empty());
}

TEST(Window, RefusesWhileTheWindowIsClosed) {
    Host h(options("window"));
    auto v = h.ask(contact(false));
    EXPECT_FALSE(v.approved);
    EXPECT_EQ(v.why, "refused by plugin window");
    // What `blueratchetctl monitor` shows of it (Manager1.AttemptFailed):
    // which plugin, and its own words.
    EXPECT_EQ(v.decision.by, Decision::By::Plugin);
    EXPECT_EQ(v.decision.plugin, "window");
    EXPECT_EQ(v.decision.words, "refused: pairing window closed");
}

// --- allowlist --------------------------------------------------------------

struct Allowlist {
    TempDir tmp;
    std::string file = tmp.path + "/allowlist";
    void write(const std::string& text) { std::ofstream(file) << text; }
    HostOptions options() {
        auto o = test::options("allowlist");
        o.settings["allowlist"] = {{"File", file}};
        return o;
    }
};

TEST(Allowlist, ApprovesAListedIdentity) {
    Allowlist a;
    a.write("# devices\n\n" + contact().peer_id + "\n");
    Host h(a.options());
    auto c = contact(false);  // the window plays no part
    EXPECT_TRUE(h.ask(c).approved);
}

TEST(Allowlist, ApprovesAListedHexIdentityInAnyCase) {
    Allowlist a;
    std::string hex = contact().peer_id_hex;
    for (auto& ch : hex) ch = static_cast<char>(std::toupper(ch));
    a.write(hex + "\n");
    Host h(a.options());
    auto vs = h.ask_all({contact(false), contact(false)},
                        {nullptr,
                         // re-read for every first contact
                         [&] { a.write(std::string(64, 'f') + "\n"); }});
    EXPECT_TRUE(vs[0].approved);
    EXPECT_FALSE(vs[1].approved);
}

// Issue #10, item 4: a BLE address is spoofable, so it can never authorise a
// pairing on its own.  A file that lists one alone is refused when the plugin
// loads, naming the line, and every first contact is refused (fail closed).
TEST(Allowlist, AnAddressAloneIsRefusedAtLoadNamingTheLine) {
    Allowlist a;
    a.write("# the old format\n" + contact().peer_id + "\n" + contact().address + "\n");
    Host h(a.options());
    EXPECT_FALSE(h.host->approval_available());
    auto* s = status_of(*h.host, "allowlist");
    ASSERT_NE(s, nullptr);
    EXPECT_NE(s->reason.find(a.file + ":3:"), std::string::npos) << s->reason;
    EXPECT_NE(s->reason.find("address alone"), std::string::npos) << s->reason;
    // A fresh identity at the listed address: refused.
    auto stranger = contact(false);
    stranger.peer_id = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    stranger.peer_id_hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    EXPECT_FALSE(h.ask(stranger).approved);
}

// The same line written into the file while the daemon runs (the file is
// read again for every first contact): every first contact is refused, the
// listed identity's included, until the line is fixed.
TEST(Allowlist, AnAddressAloneAddedLaterFailsClosed) {
    Allowlist a;
    a.write(contact().peer_id + "\n");
    Host h(a.options());
    auto vs =
        h.ask_all({contact(), contact(), contact()},
                  {nullptr, [&] { a.write(contact().peer_id + "\n" + contact().address + "\n"); },
                   [&] { a.write(contact().peer_id + " " + contact().address + "\n"); }});
    EXPECT_TRUE(vs[0].approved);
    EXPECT_FALSE(vs[1].approved);
    EXPECT_TRUE(vs[2].approved);
}

// "<identity> <address>": identity AND address must match.  The address
// narrows an identity's entry (in any case), it never admits another one.
TEST(Allowlist, AnAddressNarrowsAnIdentityNeverWidensIt) {
    Allowlist a;
    a.write(contact().peer_id + "  aa:bb:cc:dd:ee:02   # the lab's phone\n");
    Host h(a.options());
    auto at_01 = contact(false);  // AA:BB:CC:DD:EE:01
    auto at_02 = contact(false);
    at_02.address = "AA:BB:CC:DD:EE:02";
    auto stranger_at_02 = at_02;
    stranger_at_02.peer_id = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    stranger_at_02.peer_id_hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    auto vs = h.ask_all({at_01, at_02, stranger_at_02});
    EXPECT_FALSE(vs[0].approved);
    EXPECT_TRUE(vs[1].approved);
    EXPECT_FALSE(vs[2].approved);
}

TEST(Allowlist, RefusesAnUnlistedPeerEvenWithTheWindowOpen) {
    Allowlist a;
    // Another identity at the contact's own address.
    a.write(std::string(64, 'f') + " AA:BB:CC:DD:EE:01\n");
    Host h(a.options());
    auto v = h.ask(contact(true));
    EXPECT_FALSE(v.approved);
    EXPECT_EQ(v.why, "refused by plugin allowlist");
}

TEST(Allowlist, FailsClosedWhenTheFileGoesBadOrAway) {
    Allowlist a;
    a.write(contact().peer_id + "\n");
    Host h(a.options());
    auto vs = h.ask_all({contact(), contact(), contact()},
                        {nullptr, [&] { a.write(contact().peer_id + "\nnot-an-entry\n"); },
                         [&] { ::unlink(a.file.c_str()); }});
    EXPECT_TRUE(vs[0].approved);
    EXPECT_FALSE(vs[1].approved);
    EXPECT_FALSE(vs[2].approved);
}

TEST(Allowlist, ABadFileRefusesThePluginWithTheLine) {
    Allowlist a;
    a.write("# ok\nAA:BB:CC:DD:EE:0G\n");
    Host h(a.options());
    EXPECT_FALSE(h.host->approval_available());
    auto* s = status_of(*h.host, "allowlist");
    ASSERT_NE(s, nullptr);
    EXPECT_NE(s->reason.find(a.file + ":2:"), std::string::npos) << s->reason;
}

// Issue #10, item 9b: a bad line is echoed cut to 64 bytes with its length.
TEST(Allowlist, AHugeBadLineIsEchoedCut) {
    Allowlist a;
    a.write(std::string(100000, 'z') + "\n");
    Host h(a.options());
    auto* s = status_of(*h.host, "allowlist");
    ASSERT_NE(s, nullptr);
    EXPECT_NE(s->reason.find("\"" + std::string(64, 'z') + "...(100000 bytes)\""),
              std::string::npos)
        << s->reason.substr(0, 300);
    EXPECT_LT(s->reason.size(), 300u);
}

// --- confirm ----------------------------------------------------------------

HostOptions confirm(unsigned timeout) {
    auto o = options("confirm");
    o.settings["confirm"] = {{"Timeout", std::to_string(timeout)}};
    return o;
}

TEST(Confirm, PendsUntilTheOperatorApproves) {
    Host h(confirm(20));
    Verdict v;
    h.host->request_approval(contact(false), v.callback());
    ApiResult<bool> r = api_failure(ApiError::Failed, "operator_verdict not called");
    bool ok =
        run_steps(h.loop, {
                              [&] { return !h.requested.empty(); },
                              [&] {
                                  // monitor / approvals see it
                                  auto p = h.host->pending();
                                  EXPECT_EQ(p.size(), 1u);
                                  EXPECT_FALSE(v.done);
                                  r = h.host->operator_verdict("hci0", contact().peer_id, true);
                                  return true;
                              },
                              [&] { return v.done; },
                          });
    ASSERT_TRUE(ok);
    EXPECT_TRUE(r.has_value()) << (r.has_value() ? std::string() : r.error().message);
    ASSERT_EQ(h.requested.size(), 1u);
    EXPECT_EQ(h.requested[0].adapter, "hci0");
    EXPECT_EQ(h.requested[0].peer_id, contact().peer_id);
    EXPECT_EQ(h.requested[0].short_code, "123456");
    EXPECT_EQ(h.requested[0].address, "AA:BB:CC:DD:EE:01");
    EXPECT_GE(h.requested[0].expires_in, 18u);
    EXPECT_LE(h.requested[0].expires_in, 20u);
    EXPECT_TRUE(v.approved);
    EXPECT_EQ(v.why, "approved by plugin confirm");
    EXPECT_TRUE(h.host->pending().empty());
}

TEST(Confirm, TheOperatorRejectsByHexId) {
    Host h(confirm(20));
    Verdict v;
    h.host->request_approval(contact(true), v.callback());
    ASSERT_TRUE(run_steps(h.loop, {[&] { return !h.requested.empty(); },
                                   [&] {
                                       auto r = h.host->operator_verdict(
                                           "hci0", contact().peer_id_hex, false);
                                       EXPECT_TRUE(r.has_value());
                                       return true;
                                   },
                                   [&] { return v.done; }}));
    EXPECT_FALSE(v.approved);
    EXPECT_EQ(v.why, "refused by plugin confirm");
    EXPECT_EQ(v.decision.by, Decision::By::Plugin);
    EXPECT_EQ(v.decision.words, "the operator's verdict");
}

TEST(Confirm, NoVerdictTimesOut) {
    Host h(confirm(1));
    auto t0 = std::chrono::steady_clock::now();
    auto v = h.ask(contact(true));
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_FALSE(v.approved);
    EXPECT_NE(v.why.find("timed out"), std::string::npos) << v.why;
    EXPECT_EQ(v.decision.by, Decision::By::Timeout);
    EXPECT_EQ(v.decision.plugin, "confirm");
    EXPECT_EQ(v.decision.waited_seconds, 1u);
    EXPECT_GE(took, 900ms);
    EXPECT_LT(took, 3s);
    ASSERT_EQ(h.requested.size(), 1u);
    EXPECT_LE(h.requested[0].expires_in, 1u);  // the plugin's Timeout, not the ceiling
    EXPECT_TRUE(h.host->pending().empty());
    // Too late now.
    auto r = h.host->operator_verdict("hci0", contact().peer_id, true);
    EXPECT_TRUE(!r.has_value());
}

TEST(Confirm, TheDaemonsCeilingWins) {
    auto o = confirm(600);
    o.approval_timeout_seconds = 1;
    Host h(o);
    auto v = h.ask(contact(true));
    EXPECT_FALSE(v.approved);
    EXPECT_NE(v.why.find("timed out"), std::string::npos);
}

TEST(Confirm, UnknownPeerOrAdapterIsNotFound) {
    Host h(confirm(20));
    auto r = h.host->operator_verdict("hci0", contact().peer_id, true);
    ASSERT_TRUE(!r.has_value());
    EXPECT_EQ(r.error().error, ApiError::NotFound);
}

TEST(Confirm, CancelledWhenTheLinkGoes) {
    Host h(confirm(20));
    Verdict v;
    auto id = h.host->request_approval(contact(true), v.callback());
    ASSERT_TRUE(run_steps(h.loop, {[&] { return !h.requested.empty(); },
                                   [&] {
                                       h.host->cancel_approval(id);
                                       return true;
                                   },
                                   [&] { return h.host->idle(); }}));
    EXPECT_FALSE(v.done);  // the caller is gone: no verdict
    EXPECT_TRUE(h.host->pending().empty());
}

TEST(Window, TakesNoOperatorVerdicts) {
    // window never pends, so there is nothing to decide.
    Host h(options("window"));
    auto r = h.host->operator_verdict("hci0", contact().peer_id, true);
    ASSERT_TRUE(!r.has_value());
    EXPECT_EQ(r.error().error, ApiError::NotFound);
}

}  // namespace
}  // namespace br::daemon::plugins::test
