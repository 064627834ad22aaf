// SPDX-License-Identifier: MIT
// x509-export: on mint the PEMs appear, 0600 in 0700 directories; on
// invalidation they are gone at once; leftovers of a crash are cleaned.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "harness.hpp"

namespace br::daemon::plugins::test {
namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct Export {
    TempDir tmp;
    std::string dir = tmp.path + "/run/blueratchet/sessions";
    std::string peer_dir = dir + "/hci0/" + facts().peer_id_hex;
    EventLoop loop;
    std::unique_ptr<PluginHost> host;
    Export() {
        HostOptions o;
        o.directory = shipped_dir();
        o.hooks = {"x509-export"};
        o.settings["x509-export"] = {{"Directory", dir}};
        host = std::make_unique<PluginHost>(loop, o);
        host->load();
        EXPECT_TRUE(status_of(*host, "x509-export")->ok) << status_of(*host, "x509-export")->reason;
    }
    // The loop runs once per test: everything goes through one run_steps().
    bool settle() {
        return run_steps(loop, {[&] { return host->idle(); }});
    }
    std::function<bool()> idle() {
        return [this] { return host->idle(); };
    }
};

TEST(X509Export, WritesOwnerOnlyFilesOnMint) {
    Export e;
    EXPECT_EQ(mode_of(e.dir), 0700u);
    e.host->session_minted(facts());
    ASSERT_TRUE(e.settle());
    EXPECT_EQ(mode_of(e.dir + "/hci0"), 0700u);
    EXPECT_EQ(mode_of(e.peer_dir), 0700u);
    for (const char* f : {"cert.pem", "key.pem", "peer-cert.pem", "fingerprint"}) {
        EXPECT_EQ(mode_of(e.peer_dir + "/" + f), 0600u) << f;
        struct stat st {};
        ASSERT_EQ(::stat((e.peer_dir + "/" + f).c_str(), &st), 0);
        EXPECT_EQ(st.st_uid, ::geteuid());
    }
    EXPECT_EQ(slurp(e.peer_dir + "/cert.pem"), facts().cert_pem);
    EXPECT_EQ(slurp(e.peer_dir + "/key.pem"), facts().key_pem);
    EXPECT_EQ(slurp(e.peer_dir + "/peer-cert.pem"), facts().peer_cert_pem);
    EXPECT_EQ(slurp(e.peer_dir + "/fingerprint"), facts().fingerprint + "\n");
}

TEST(X509Export, RemovesThemOnInvalidation) {
    Export e;
    e.host->session_minted(facts());
    bool existed = false;
    ASSERT_TRUE(run_steps(e.loop, {e.idle(),
                                   [&] {
                                       existed =
                                           ::access((e.peer_dir + "/key.pem").c_str(), F_OK) == 0;
                                       e.host->session_invalidated(facts().fingerprint, "LinkLost");
                                       return true;
                                   },
                                   e.idle()}));
    EXPECT_TRUE(existed);
    EXPECT_NE(::access((e.peer_dir + "/key.pem").c_str(), F_OK), 0);
    EXPECT_NE(::access(e.peer_dir.c_str(), F_OK), 0);
    EXPECT_NE(::access((e.dir + "/hci0").c_str(), F_OK), 0);
    EXPECT_EQ(::access(e.dir.c_str(), F_OK), 0);
}

TEST(X509Export, ANewerSessionOfThePeerSurvivesTheOldOnesInvalidation) {
    Export e;
    e.host->session_minted(facts(1));
    e.host->session_invalidated(facts(1).fingerprint, "Replaced");
    e.host->session_minted(facts(2));
    std::string fp;
    ASSERT_TRUE(run_steps(e.loop, {e.idle(),
                                   [&] {
                                       fp = slurp(e.peer_dir + "/fingerprint");
                                       // Unknown (never minted) sessions touch nothing.
                                       e.host->session_invalidated(facts(7).fingerprint,
                                                                   "LinkLost");
                                       return true;
                                   },
                                   e.idle()}));
    EXPECT_EQ(fp, facts(2).fingerprint + "\n");
    EXPECT_EQ(::access((e.peer_dir + "/key.pem").c_str(), F_OK), 0);
}

TEST(X509Export, TheDaemonStoppingRemovesThem) {
    auto e = std::make_unique<Export>();
    e->host->session_minted(facts());
    ASSERT_TRUE(e->settle());
    std::string peer_dir = e->peer_dir;
    e->host.reset();  // fini(): belt and braces, as the daemon invalidated nothing
    EXPECT_NE(::access(peer_dir.c_str(), F_OK), 0);
}

TEST(X509Export, LeftoversOfACrashAreRemovedAtStart) {
    TempDir tmp;
    std::string dir = tmp.path + "/sessions";
    std::string stale = dir + "/hci1/" + std::string(64, 'a');
    std::filesystem::create_directories(stale);
    std::ofstream(stale + "/key.pem") << "old secret";
    std::ofstream(dir + "/unrelated") << "not ours";
    EventLoop loop;
    HostOptions o;
    o.directory = shipped_dir();
    o.hooks = {"x509-export"};
    o.settings["x509-export"] = {{"Directory", dir}};
    PluginHost host(loop, o);
    host.load();
    EXPECT_NE(::access((stale + "/key.pem").c_str(), F_OK), 0);
    EXPECT_EQ(::access((dir + "/unrelated").c_str(), F_OK), 0);
}

TEST(X509Export, RefusesASymlinkedDirectory) {
    TempDir tmp;
    std::string real = tmp.path + "/real", link = tmp.path + "/sessions";
    std::filesystem::create_directories(real);
    ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
    EventLoop loop;
    HostOptions o;
    o.directory = shipped_dir();
    o.hooks = {"x509-export"};
    o.settings["x509-export"] = {{"Directory", link}};
    PluginHost host(loop, o);
    host.load();
    auto* s = status_of(host, "x509-export");
    ASSERT_NE(s, nullptr);
    EXPECT_FALSE(s->ok);
    EXPECT_NE(s->reason.find(link), std::string::npos) << s->reason;
}

}  // namespace
}  // namespace br::daemon::plugins::test
