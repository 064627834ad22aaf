// SPDX-License-Identifier: MIT
// exec: the program gets the facts in its environment (and nothing else),
// its arguments literally (no shell), and is killed at the timeout.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <map>
#include <sstream>

#include "harness.hpp"

namespace br::daemon::plugins::test {
namespace {

using namespace std::chrono_literals;

// Records its arguments (after $1, the output path) and its environment,
// one per line, in $1.<event>.
const char* kRecorder = R"(#!/bin/sh
out=$1; shift
{
  for a in "$@"; do printf 'ARG=%s\n' "$a"; done
  env | sort
  if [ -n "$BR_CERT_FILE" ] && [ -f "$BR_CERT_FILE" ]; then echo CERT_EXISTED=1; fi
} > "$out.tmp"
mv "$out.tmp" "$out.$BR_EVENT"
)";

const char* kSleeper = R"(#!/bin/sh
echo $$ > "$1.pid"
sleep 30 &
echo $! > "$1.child"
wait
echo finished > "$1.done"
)";

struct Exec {
    TempDir tmp;
    std::string program = tmp.path + "/on-session";
    std::string out = tmp.path + "/out";
    EventLoop loop;
    std::unique_ptr<PluginHost> host;

    Exec(const char* script, std::vector<std::pair<std::string, std::string>> extra = {},
         std::vector<std::string> hooks = {"exec"}) {
        std::ofstream(program) << script;
        ::chmod(program.c_str(), 0755);
        HostOptions o;
        o.directory = tmp.path + "/plugins";
        std::filesystem::create_directories(o.directory);
        for (const auto& h : hooks)
            std::filesystem::create_symlink(shipped_dir() + "/" + h + ".so",
                                            o.directory + "/" + h + ".so");
        o.hooks = hooks;
        o.settings["exec"] = {{"Program", program}};
        for (auto& kv : extra) o.settings["exec"].push_back(kv);
        o.settings["x509-export"] = {{"Directory", tmp.path + "/sessions"}};
        host = std::make_unique<PluginHost>(loop, o);
        host->load();
    }
    bool settle(std::chrono::milliseconds limit = 10s) {
        return run_steps(loop, {[&] { return host->idle(); }}, limit);
    }
    std::map<std::string, std::string> env(const std::string& event,
                                           std::vector<std::string>* args) {
        std::map<std::string, std::string> m;
        std::ifstream in(out + "." + event);
        std::string line;
        while (std::getline(in, line)) {
            auto eq = line.find('=');
            if (eq == std::string::npos) continue;
            if (line.compare(0, 4, "ARG=") == 0) {
                if (args) args->push_back(line.substr(4));
                continue;
            }
            m[line.substr(0, eq)] = line.substr(eq + 1);
        }
        return m;
    }
};

TEST(Exec, EnvironmentIsTheFactsAndNothingElse) {
    ::setenv("BR_TEST_SHOULD_NOT_LEAK", "1", 1);
    Exec x(kRecorder);
    x.host.reset();  // again, with the output path as the first argument
    HostOptions o;
    o.directory = shipped_dir();
    o.hooks = {"exec"};
    o.settings["exec"] = {{"Program", x.program}, {"Arguments", x.out}, {"Timeout", "5"}};
    x.host = std::make_unique<PluginHost>(x.loop, o);
    x.host->load();
    ASSERT_TRUE(status_of(*x.host, "exec")->ok) << status_of(*x.host, "exec")->reason;
    x.host->session_minted(facts(3));
    x.host->session_invalidated(facts(3).fingerprint, "Expired");
    ASSERT_TRUE(x.settle());

    auto m = x.env("minted", nullptr);
    EXPECT_EQ(m["BR_EVENT"], "minted");
    EXPECT_EQ(m["BR_ADAPTER"], "hci0");
    EXPECT_EQ(m["BR_ADAPTER_ADDRESS"], "00:11:22:33:44:55");
    EXPECT_EQ(m["BR_PEER"], facts().peer_id);
    EXPECT_EQ(m["BR_PEER_HEX"], facts().peer_id_hex);
    EXPECT_EQ(m["BR_ADDRESS"], "AA:BB:CC:DD:EE:01");
    EXPECT_EQ(m["BR_KIND"], "pair");
    EXPECT_EQ(m["BR_ROLE"], "responder");
    EXPECT_EQ(m["BR_EPOCH"], "3");
    EXPECT_EQ(m["BR_FINGERPRINT"], facts(3).fingerprint);
    EXPECT_EQ(m["BR_SHORT_CODE"], "654321");
    EXPECT_EQ(m["BR_NOT_BEFORE"], "1700000000");
    EXPECT_EQ(m["BR_NOT_AFTER"], "1700003600");
    EXPECT_EQ(m["BR_SESSION_DIR"], "/run/blueratchet/sessions/hci0/" + facts().peer_id_hex);
    EXPECT_EQ(m.count("BR_REASON"), 0u);
    EXPECT_EQ(m.count("BR_TEST_SHOULD_NOT_LEAK"), 0u);
    EXPECT_EQ(m.count("HOME"), 0u);
    for (const auto& [k, v] : m) {
        bool allowed = k.rfind("BR_", 0) == 0 || k == "PATH" || k == "PWD" || k == "SHLVL" ||
                       k == "_" || k == "OLDPWD";  // the last ones: /bin/sh's own
        EXPECT_TRUE(allowed) << k << "=" << v;
    }
    auto inv = x.env("invalidated", nullptr);
    EXPECT_EQ(inv["BR_EVENT"], "invalidated");
    EXPECT_EQ(inv["BR_REASON"], "Expired");
    EXPECT_EQ(inv["BR_EPOCH"], "3");
    ::unsetenv("BR_TEST_SHOULD_NOT_LEAK");
}

TEST(Exec, ArgumentsArePassedLiterallyNeverThroughAShell) {
    TempDir tmp;
    std::string pwned = tmp.path + "/pwned";
    std::ofstream(tmp.path + "/on-session") << kRecorder;
    ::chmod((tmp.path + "/on-session").c_str(), 0755);
    std::string out = tmp.path + "/out";
    EventLoop loop;
    HostOptions o;
    o.directory = shipped_dir();
    o.hooks = {"exec"};
    std::string evil1 = "$(touch" + std::string("${IFS}") + pwned + ")";
    std::string evil2 = "`touch${IFS}" + pwned + "`;touch${IFS}" + pwned + "|&>x*";
    o.settings["exec"] = {{"Program", tmp.path + "/on-session"},
                          {"Arguments", out + " " + evil1 + " " + evil2 + " $BR_PEER"}};
    PluginHost host(loop, o);
    host.load();
    ASSERT_TRUE(status_of(host, "exec")->ok) << status_of(host, "exec")->reason;
    host.session_minted(facts());
    ASSERT_TRUE(run_steps(loop, {[&] { return host.idle(); }}));
    std::vector<std::string> args;
    std::map<std::string, std::string> m;
    {
        std::ifstream in(out + ".minted");
        std::string line;
        while (std::getline(in, line))
            if (line.rfind("ARG=", 0) == 0) args.push_back(line.substr(4));
    }
    EXPECT_EQ(args, (std::vector<std::string>{evil1, evil2, "$BR_PEER"}));
    EXPECT_NE(::access(pwned.c_str(), F_OK), 0) << "something ran a shell over the arguments";
}

TEST(Exec, ThePathHasShellMetacharactersAndStillRuns) {
    TempDir tmp;
    std::string dir = tmp.path + "/a dir;$(x)";
    std::filesystem::create_directories(dir);
    std::string prog = dir + "/on session";
    std::ofstream(prog) << kRecorder;
    ::chmod(prog.c_str(), 0755);
    EventLoop loop;
    HostOptions o;
    o.directory = shipped_dir();
    o.hooks = {"exec"};
    o.settings["exec"] = {{"Program", prog}, {"Arguments", tmp.path + "/out"}};
    PluginHost host(loop, o);
    host.load();
    ASSERT_TRUE(status_of(host, "exec")->ok) << status_of(host, "exec")->reason;
    host.session_minted(facts());
    ASSERT_TRUE(run_steps(loop, {[&] { return host.idle(); }}));
    EXPECT_EQ(::access((tmp.path + "/out.minted").c_str(), F_OK), 0);
}

bool gone(pid_t pid) {
    if (::kill(pid, 0) != 0) return errno == ESRCH;
    std::ifstream st("/proc/" + std::to_string(pid) + "/stat");
    std::string s;
    std::getline(st, s);
    auto close = s.rfind(')');
    return close != std::string::npos && close + 2 < s.size() && s[close + 2] == 'Z';
}

TEST(Exec, IsKilledWithItsProcessGroupAtTheTimeout) {
    TempDir tmp;
    std::string prog = tmp.path + "/slow";
    std::ofstream(prog) << kSleeper;
    ::chmod(prog.c_str(), 0755);
    std::string mark = tmp.path + "/mark";
    EventLoop loop;
    HostOptions o;
    o.directory = shipped_dir();
    o.hooks = {"exec"};
    o.call_timeout = 5s;
    o.settings["exec"] = {{"Program", prog}, {"Arguments", mark}, {"Timeout", "1"}};
    PluginHost host(loop, o);
    host.load();
    ASSERT_TRUE(status_of(host, "exec")->ok) << status_of(host, "exec")->reason;
    auto t0 = std::chrono::steady_clock::now();
    host.session_minted(facts());
    ASSERT_TRUE(run_steps(loop, {[&] { return host.idle(); }}));
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(took, 900ms);
    EXPECT_LT(took, 3s);
    EXPECT_TRUE(status_of(host, "exec")->ok) << "a timed-out program is not a hung plugin";
    EXPECT_NE(::access((mark + ".done").c_str(), F_OK), 0);
    pid_t pid = 0, child = 0;
    std::ifstream(mark + ".pid") >> pid;
    std::ifstream(mark + ".child") >> child;
    ASSERT_GT(pid, 0);
    ASSERT_GT(child, 0);
    EXPECT_TRUE(gone(pid));
    // The grandchild (sleep 30) was in the group too.
    bool child_gone = false;
    for (int i = 0; i < 100 && !(child_gone = gone(child)); ++i) std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(child_gone) << "sleep " << child << " survived";
}

TEST(Exec, ATimeoutThatDoesNotFitUnderTheCallTimeoutIsRefused) {
    TempDir tmp;
    EventLoop loop;
    HostOptions o;
    o.directory = shipped_dir();
    o.hooks = {"exec"};
    o.call_timeout = 5s;
    o.settings["exec"] = {{"Program", "/bin/true"}, {"Timeout", "5"}};
    PluginHost host(loop, o);
    host.load();
    EXPECT_FALSE(status_of(host, "exec")->ok);
    EXPECT_NE(status_of(host, "exec")->reason.find("call timeout"), std::string::npos);
}

TEST(Exec, ARelativeMissingOrNonExecutableProgramIsRefused) {
    TempDir tmp;
    std::string plain = tmp.path + "/plain";
    std::ofstream(plain) << "#!/bin/sh\n";
    ::chmod(plain.c_str(), 0644);
    for (auto [prog, why] : std::vector<std::pair<std::string, std::string>>{
             {"on-session", "absolute path"},
             {"/nonexistent/on-session", "No such file"},
             {plain, "not an executable"},
             {tmp.path, "not an executable"}}) {
        EventLoop loop;
        HostOptions o;
        o.directory = shipped_dir();
        o.hooks = {"exec"};
        o.settings["exec"] = {{"Program", prog}};
        PluginHost host(loop, o);
        host.load();
        EXPECT_FALSE(status_of(host, "exec")->ok) << prog;
        EXPECT_NE(status_of(host, "exec")->reason.find(why), std::string::npos)
            << prog << ": " << status_of(host, "exec")->reason;
    }
}

TEST(Exec, AfterX509ExportTheCertificateFilesExist) {
    TempDir tmp;
    std::string prog = tmp.path + "/on-session";
    std::ofstream(prog) << kRecorder;
    ::chmod(prog.c_str(), 0755);
    std::string plugins = tmp.path + "/plugins";
    std::filesystem::create_directories(plugins);
    for (const char* p : {"x509-export", "exec"})
        std::filesystem::create_symlink(shipped_dir() + "/" + p + ".so", plugins + "/" + p + ".so");
    EventLoop loop;
    HostOptions o;
    o.directory = plugins;
    o.hooks = {"x509-export", "exec"};
    o.settings["x509-export"] = {{"Directory", tmp.path + "/sessions"}};
    o.settings["exec"] = {{"Program", prog},
                          {"Arguments", tmp.path + "/out"},
                          {"CertificateDirectory", tmp.path + "/sessions"}};
    PluginHost host(loop, o);
    host.load();
    host.session_minted(facts());
    ASSERT_TRUE(run_steps(loop, {[&] { return host.idle(); }}));
    std::ifstream in(tmp.path + "/out.minted");
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string dir = tmp.path + "/sessions/hci0/" + facts().peer_id_hex;
    EXPECT_NE(all.find("BR_CERT_FILE=" + dir + "/cert.pem\n"), std::string::npos) << all;
    EXPECT_NE(all.find("BR_KEY_FILE=" + dir + "/key.pem\n"), std::string::npos) << all;
    EXPECT_NE(all.find("BR_PEER_CERT_FILE=" + dir + "/peer-cert.pem\n"), std::string::npos);
    EXPECT_NE(all.find("CERT_EXISTED=1"), std::string::npos);
}

// Issue #10, item 9d: exec's certificate directory and x509-export's were
// two settings, and when they differed the certificate variables were
// silently unset.  x509-export's Directory is now the one setting: exec
// follows it, and a CertificateDirectory that differs, or exec listed before
// x509-export, is a warning at start-up.
struct ExecAfterExport {
    TempDir tmp;
    std::string plugins = tmp.path + "/plugins";
    EventLoop loop;
    std::unique_ptr<PluginHost> host;
    std::string log;  // what load() wrote on stderr

    ExecAfterExport(std::vector<std::string> hooks,
                    std::vector<std::pair<std::string, std::string>> exec_extra = {}) {
        std::string prog = tmp.path + "/on-session";
        std::ofstream(prog) << kRecorder;
        ::chmod(prog.c_str(), 0755);
        std::filesystem::create_directories(plugins);
        for (const char* p : {"x509-export", "exec"})
            std::filesystem::create_symlink(shipped_dir() + "/" + p + ".so",
                                            plugins + "/" + p + ".so");
        HostOptions o;
        o.directory = plugins;
        o.hooks = std::move(hooks);
        o.settings["x509-export"] = {{"Directory", tmp.path + "/sessions"}};
        o.settings["exec"] = {{"Program", prog}, {"Arguments", tmp.path + "/out"}};
        for (auto& [k, v] : exec_extra) {  // "@SESSIONS@" is x509-export's Directory
            if (v.rfind("@SESSIONS@", 0) == 0) v = tmp.path + "/sessions" + v.substr(10);
            o.settings["exec"].emplace_back(k, v);
        }
        host = std::make_unique<PluginHost>(loop, o);
        ::testing::internal::CaptureStderr();
        host->load();
        log = ::testing::internal::GetCapturedStderr();
    }
    std::string minted_env() {
        host->session_minted(facts());
        EXPECT_TRUE(run_steps(loop, {[&] { return host->idle(); }}));
        std::ifstream in(tmp.path + "/out.minted");
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
};

TEST(Exec, FollowsX509ExportsDirectoryWithoutASettingOfItsOwn) {
    ExecAfterExport x({"x509-export", "exec"});
    std::string all = x.minted_env();
    std::string dir = x.tmp.path + "/sessions/hci0/" + facts().peer_id_hex;
    EXPECT_NE(all.find("BR_SESSION_DIR=" + dir + "\n"), std::string::npos) << all;
    EXPECT_NE(all.find("BR_CERT_FILE=" + dir + "/cert.pem\n"), std::string::npos) << all;
    EXPECT_NE(all.find("BR_KEY_FILE=" + dir + "/key.pem\n"), std::string::npos) << all;
    EXPECT_EQ(x.log.find("<4>plugin exec"), std::string::npos) << x.log;
}

TEST(Exec, ACertificateDirectoryThatIsNotX509ExportsIsAWarningAtStart) {
    ExecAfterExport x({"x509-export", "exec"}, {{"CertificateDirectory", "/srv/elsewhere"}});
    auto w = x.log.find("<4>plugin exec: [Plugin:exec] CertificateDirectory = /srv/elsewhere");
    ASSERT_NE(w, std::string::npos) << x.log;
    std::string line = x.log.substr(w, x.log.find('\n', w) - w);
    EXPECT_NE(line.find(x.tmp.path + "/sessions"), std::string::npos) << line;
    EXPECT_NE(line.find("BR_CERT_FILE"), std::string::npos) << line;
    // As configured: the variables stay unset, but not silently.
    EXPECT_EQ(x.minted_env().find("BR_CERT_FILE="), std::string::npos);
    // The same directory written differently is no warning.
    ExecAfterExport same({"x509-export", "exec"}, {{"CertificateDirectory", "@SESSIONS@/"}});
    EXPECT_EQ(same.log.find("<4>plugin exec"), std::string::npos) << same.log;
}

TEST(Exec, ListedBeforeX509ExportIsAWarningAtStart) {
    ExecAfterExport x({"exec", "x509-export"});
    auto w = x.log.find("<4>plugin exec: listed before x509-export in [Plugins] Load");
    EXPECT_NE(w, std::string::npos) << x.log;
}

}  // namespace
}  // namespace br::daemon::plugins::test
