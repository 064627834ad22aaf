// SPDX-License-Identifier: MIT
// The loader: every shipped plugin loads through it; a missing file, a
// wrong ABI version, a missing symbol, a wrong name, a wrong kind and a
// plugin that hangs are refused with the file and the reason, and the
// daemon (this process) carries on.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace br::daemon::plugins::test {
namespace {

using namespace std::chrono_literals;

TEST(Loader, EveryShippedPluginLoads) {
    TempDir tmp;
    std::string prog = tmp.path + "/prog";
    ASSERT_EQ(::symlink("/bin/true", prog.c_str()), 0);
    for (std::string approval : {"window", "allowlist", "confirm"}) {
        std::string list = tmp.path + "/allow";
        FILE* f = std::fopen(list.c_str(), "w");
        std::fclose(f);
        EventLoop loop;
        HostOptions o;
        o.directory = shipped_dir();
        o.approval = approval;
        o.hooks = {"x509-export", "exec"};
        o.settings["allowlist"] = {{"File", list}};
        o.settings["x509-export"] = {{"Directory", tmp.path + "/sessions"}};
        o.settings["exec"] = {{"Program", "/bin/true"}};
        PluginHost host(loop, o);
        host.load();
        EXPECT_TRUE(host.approval_available()) << approval;
        ASSERT_EQ(host.status().size(), 3u);
        for (const auto& s : host.status()) {
            EXPECT_TRUE(s.ok) << s.name << ": " << s.reason;
            EXPECT_EQ(s.path, shipped_dir() + "/" + s.name + ".so");
        }
    }
}

TEST(Loader, TheExampleLoads) {
    EventLoop loop;
    HostOptions o;
    o.directory = shipped_dir();
    o.approval = "example";
    o.hooks = {"example"};
    o.settings["example"] = {{"Greeting", "hi"}};
    PluginHost host(loop, o);
    host.load();
    ASSERT_TRUE(host.approval_available());
    Verdict v;
    host.request_approval(contact(true), v.callback());
    host.session_minted(facts());
    EXPECT_TRUE(run_steps(loop, {[&] { return v.done && host.idle(); }}));
    EXPECT_TRUE(v.approved);
}

struct Refusal {
    const char* dir;  // "shipped" or "test"
    const char* name;
    bool as_approval;
    const char* reason;
};

class LoaderRefuses : public ::testing::TestWithParam<Refusal> {};

TEST_P(LoaderRefuses, NamesTheFileAndTheReason) {
    const auto& r = GetParam();
    EventLoop loop;
    HostOptions o;
    o.directory = std::string(r.dir) == "shipped" ? shipped_dir() : test_plugin_dir();
    if (r.as_approval)
        o.approval = r.name;
    else
        o.hooks = {r.name};
    PluginHost host(loop, o);
    host.load();
    const PluginStatus* s = status_of(host, r.name);
    ASSERT_NE(s, nullptr);
    EXPECT_FALSE(s->ok);
    EXPECT_EQ(s->path, o.directory + "/" + r.name + ".so");
    EXPECT_NE(s->reason.find(r.reason), std::string::npos) << s->reason;
    EXPECT_FALSE(host.approval_available());
    if (r.as_approval) {
        // Fail closed: every first contact is refused, at once and never
        // from inside the call.
        Verdict v;
        host.request_approval(contact(true), v.callback());
        EXPECT_FALSE(v.done);
        EXPECT_TRUE(run_steps(loop, {[&] { return v.done; }}));
        EXPECT_FALSE(v.approved);
        EXPECT_NE(v.why.find("not available"), std::string::npos) << v.why;
        EXPECT_EQ(v.decision.by, Decision::By::Unavailable);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LoaderRefuses,
    ::testing::Values(Refusal{"test", "missing", true, "no such file"},
                      Refusal{"test", "bad_abi", true,
                              "ABI version 99, this daemon speaks version 1"},
                      Refusal{"test", "no_symbol", true, "no symbol blueratchet_plugin_v1"},
                      Refusal{"test", "misnamed", true, "calls itself 'window', not 'misnamed'"},
                      Refusal{"shipped", "exec", true, "not an approval plugin"},
                      Refusal{"shipped", "window", false, "not a session hook plugin"},
                      Refusal{"shipped", "allowlist", true, "File = <path> is required"},
                      Refusal{"test", "../evil", true, "not a plugin name"}));

TEST(Loader, AHangingInitIsBounded) {
    EventLoop loop;
    HostOptions o;
    o.directory = test_plugin_dir();
    o.approval = "testplug";
    o.settings["testplug"] = {{"HangIn", "init"}};
    o.call_timeout = 300ms;
    auto t0 = std::chrono::steady_clock::now();
    PluginHost host(loop, o);
    host.load();
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(took, 3s);
    const PluginStatus* s = status_of(host, "testplug");
    ASSERT_NE(s, nullptr);
    EXPECT_FALSE(s->ok);
    EXPECT_NE(s->reason.find("did not return within 300 ms"), std::string::npos) << s->reason;
    EXPECT_FALSE(host.approval_available());
}

TEST(Loader, AHangingApprovalIsRefusedAndThePluginDisabled) {
    EventLoop loop;
    HostOptions o;
    o.directory = test_plugin_dir();
    o.approval = "testplug";
    o.settings["testplug"] = {{"HangIn", "approve"}};
    o.call_timeout = 300ms;
    PluginHost host(loop, o);
    host.load();
    ASSERT_TRUE(host.approval_available());
    Verdict v1, v2;
    auto t0 = std::chrono::steady_clock::now();
    host.request_approval(contact(true), v1.callback());
    EXPECT_TRUE(run_steps(loop, {[&] { return v1.done; }}));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
    EXPECT_FALSE(v1.approved);
    EXPECT_NE(v1.why.find("approve() did not return within 300 ms"), std::string::npos) << v1.why;
    EXPECT_FALSE(host.approval_available());
    EXPECT_NE(status_of(host, "testplug")->reason.find("disabled"), std::string::npos);
}

TEST(Loader, AHangingHookIsSkippedAndTheNextPluginStillRuns) {
    TempDir tmp;
    EventLoop loop;
    HostOptions o;
    o.directory = tmp.path;
    // Both plugins in one directory: links to the build's files.
    ASSERT_EQ(::symlink((test_plugin_dir() + "/testplug.so").c_str(),
                        (tmp.path + "/testplug.so").c_str()),
              0);
    ASSERT_EQ(::symlink((shipped_dir() + "/x509-export.so").c_str(),
                        (tmp.path + "/x509-export.so").c_str()),
              0);
    o.hooks = {"testplug", "x509-export"};
    o.settings["testplug"] = {{"HangIn", "minted"}};
    o.settings["x509-export"] = {{"Directory", tmp.path + "/sessions"}};
    o.call_timeout = 300ms;
    PluginHost host(loop, o);
    host.load();
    host.session_minted(facts());
    std::string cert = tmp.path + "/sessions/hci0/" + facts().peer_id_hex + "/cert.pem";
    EXPECT_TRUE(run_steps(loop, {[&] { return ::access(cert.c_str(), F_OK) == 0; }}));
    EXPECT_FALSE(status_of(host, "testplug")->ok);
    EXPECT_TRUE(status_of(host, "x509-export")->ok);
}

TEST(Loader, AnInvalidVerdictDisablesThePlugin) {
    EventLoop loop;
    HostOptions o;
    o.directory = test_plugin_dir();
    o.approval = "testplug";
    o.settings["testplug"] = {{"Verdict", "7"}};
    PluginHost host(loop, o);
    host.load();
    Verdict v;
    host.request_approval(contact(true), v.callback());
    EXPECT_TRUE(run_steps(loop, {[&] { return v.done; }}));
    EXPECT_FALSE(v.approved);
    EXPECT_NE(status_of(host, "testplug")->reason.find("approve() returned 7"), std::string::npos);
}

}  // namespace
}  // namespace br::daemon::plugins::test
