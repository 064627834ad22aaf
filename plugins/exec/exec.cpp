// SPDX-License-Identifier: MIT
// The `exec` hook plugin: runs a program on every mint and invalidation.
//
//   [Plugin:exec]
//   Program = /usr/local/bin/on-session   # absolute path, executable
//   Arguments = --quiet                   # optional; split at blanks, passed literally
//   Timeout = 5                           # seconds, then the process group is killed
//   CertificateDirectory = /run/blueratchet/sessions   # where x509-export writes:
//       the daemon sets it to x509-export's Directory when both are loaded
//       and warns at start-up if it is set otherwise (plugin_host.cpp,
//       link_exec_to_x509_export)
//
// The program is started with posix_spawn(): argv is Program followed by
// Arguments, no shell ever sees them, so nothing is expanded or split
// further.  Its environment holds only PATH and the facts:
//
//   BR_EVENT            minted | invalidated
//   BR_ADAPTER, BR_ADAPTER_ADDRESS, BR_PEER (base64url), BR_PEER_HEX,
//   BR_ADDRESS, BR_KIND, BR_ROLE, BR_EPOCH, BR_FINGERPRINT, BR_SHORT_CODE,
//   BR_NOT_BEFORE, BR_NOT_AFTER (unix seconds)
//   BR_REASON           invalidated only: LinkLost|Expired|Revoked|Replaced|Shutdown
//   BR_SESSION_DIR      CertificateDirectory/<adapter>/<peer hex>
//   BR_CERT_FILE, BR_KEY_FILE, BR_PEER_CERT_FILE
//                       set when the file exists (x509-export listed before
//                       exec in [Plugins] Load writes them first)
//
// It runs in its own process group with stdin on /dev/null and stdout and
// stderr on the daemon's stderr.  At Timeout the group gets SIGTERM, and
// SIGKILL 500 ms later.  The plugin waits for the program, so events reach
// it one at a time; Timeout must leave room under the daemon's call timeout.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <sstream>
#include <thread>

#include "plugin_util.hpp"

namespace {

struct State {
    const br_host* host = nullptr;
    std::string program;
    std::vector<std::string> arguments;
    unsigned timeout = 5;
    std::string cert_dir = "/run/blueratchet/sessions";
};

int init(const br_host* host, const br_kv* config, size_t n, void** state, char* error,
         size_t error_size) {
    auto s = std::make_unique<State>();
    s->host = host;
    for (const auto& kv : br::plugin::settings(config, n)) {
        if (kv.key == "Program") {
            s->program = kv.value;
        } else if (kv.key == "Arguments") {
            std::istringstream in(kv.value);
            std::string a;
            while (in >> a) s->arguments.push_back(a);
        } else if (kv.key == "Timeout") {
            auto t = br::plugin::parse_seconds(kv.value, 1, 300);
            if (!t)
                return br::plugin::fail(
                    error, error_size,
                    "Timeout: must be 1..300 seconds (got \"" + kv.value + "\")");
            s->timeout = *t;
        } else if (kv.key == "CertificateDirectory") {
            if (kv.value.empty() || kv.value[0] != '/')
                return br::plugin::fail(error, error_size,
                                        "CertificateDirectory: must be an absolute path");
            s->cert_dir = kv.value;
        } else {
            return br::plugin::fail(error, error_size,
                                    "unknown key " + kv.key +
                                        " in [Plugin:exec] (known: Program, Arguments, Timeout, "
                                        "CertificateDirectory)");
        }
    }
    if (s->program.empty())
        return br::plugin::fail(error, error_size, "[Plugin:exec] Program = <path> is required");
    if (s->program[0] != '/')
        return br::plugin::fail(error, error_size,
                                "Program: must be an absolute path (no PATH lookup)");
    struct stat st {};
    if (::stat(s->program.c_str(), &st) != 0)
        return br::plugin::fail(error, error_size,
                                "Program " + s->program + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode) || ::access(s->program.c_str(), X_OK) != 0)
        return br::plugin::fail(error, error_size,
                                "Program " + s->program + ": not an executable file");
    // The program may take Timeout, then 0.5 s to die; the daemon disables a
    // plugin whose callback outlives its call timeout.
    if (static_cast<unsigned long>(s->timeout) * 1000 + 1000 >= host->call_timeout_ms)
        return br::plugin::fail(error, error_size,
                                "Timeout = " + std::to_string(s->timeout) +
                                    " s does not fit under the daemon's call timeout of " +
                                    std::to_string(host->call_timeout_ms / 1000) +
                                    " s ([Plugins] CallTimeout); lower it or raise that");
    *state = s.release();
    return 0;
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

void run(State& s, const char* event, const br_session_info* si, const char* reason) {
    std::vector<std::string> env = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        std::string("BR_EVENT=") + event,
        std::string("BR_ADAPTER=") + si->adapter,
        std::string("BR_ADAPTER_ADDRESS=") + si->adapter_address,
        std::string("BR_PEER=") + si->peer_id,
        std::string("BR_PEER_HEX=") + si->peer_id_hex,
        std::string("BR_ADDRESS=") + si->address,
        std::string("BR_KIND=") + si->kind,
        std::string("BR_ROLE=") + si->role,
        "BR_EPOCH=" + std::to_string(si->epoch),
        std::string("BR_FINGERPRINT=") + si->fingerprint,
        std::string("BR_SHORT_CODE=") + si->short_code,
        "BR_NOT_BEFORE=" + std::to_string(si->not_before),
        "BR_NOT_AFTER=" + std::to_string(si->not_after),
    };
    if (reason) env.push_back(std::string("BR_REASON=") + reason);
    std::string dir = s.cert_dir + "/" + si->adapter + "/" + si->peer_id_hex;
    env.push_back("BR_SESSION_DIR=" + dir);
    if (exists(dir + "/cert.pem")) env.push_back("BR_CERT_FILE=" + dir + "/cert.pem");
    if (exists(dir + "/key.pem")) env.push_back("BR_KEY_FILE=" + dir + "/key.pem");
    if (exists(dir + "/peer-cert.pem"))
        env.push_back("BR_PEER_CERT_FILE=" + dir + "/peer-cert.pem");

    std::vector<char*> argv, envp;
    argv.push_back(s.program.data());
    for (auto& a : s.arguments) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);

    posix_spawnattr_t attr;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&fa);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGHUP);
    // Own process group (so the timeout kills what it started), the
    // daemon's blocked signals unblocked, ignored ones back to default.
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, 2, 1);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, s.program.c_str(), &fa, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        br::plugin::log(s.host, BR_LOG_ERROR, "cannot run " + s.program + ": " + std::strerror(rc));
        return;
    }

    using Clock = std::chrono::steady_clock;
    auto start = Clock::now();
    auto deadline = start + std::chrono::seconds(s.timeout);
    int status = 0;
    bool killed = false;
    for (;;) {
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) {
            br::plugin::log(s.host, BR_LOG_ERROR, std::string("waitpid: ") + std::strerror(errno));
            return;
        }
        auto now = Clock::now();
        if (!killed && now >= deadline) {
            br::plugin::log(s.host, BR_LOG_WARNING,
                            s.program + " (" + event + ") still running after " +
                                std::to_string(s.timeout) + " s: killing its process group");
            ::kill(-pid, SIGTERM);
            killed = true;
            deadline = now + std::chrono::milliseconds(500);
        } else if (killed && now >= deadline) {
            ::kill(-pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (killed) ::kill(-pid, SIGKILL);  // whatever of the group is left
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !killed) {
        br::plugin::log(s.host, BR_LOG_DEBUG,
                        s.program + " (" + event + ") done in " + std::to_string(ms) + " ms");
    } else if (WIFEXITED(status)) {
        br::plugin::log(s.host, BR_LOG_WARNING,
                        s.program + " (" + event + ") exited with status " +
                            std::to_string(WEXITSTATUS(status)));
    } else if (WIFSIGNALED(status)) {
        br::plugin::log(s.host, BR_LOG_WARNING,
                        s.program + " (" + event + ") killed by signal " +
                            std::to_string(WTERMSIG(status)) + (killed ? " (timeout)" : ""));
    }
}

void minted(void* state, const br_session_info* si) {
    auto* s = static_cast<State*>(state);
    br::plugin::guarded(s->host, "session_minted", [&] { run(*s, "minted", si, nullptr); });
}

void invalidated(void* state, const br_session_info* si, const char* reason) {
    auto* s = static_cast<State*>(state);
    br::plugin::guarded(s->host, "session_invalidated",
                        [&] { run(*s, "invalidated", si, reason ? reason : ""); });
}

void fini(void* state) {
    delete static_cast<State*>(state);
}

const br_plugin kPlugin = {
    BLUERATCHET_PLUGIN_ABI_VERSION,
    "exec",
    BR_PLUGIN_SESSION_HOOKS,
    init,
    nullptr,
    nullptr,
    nullptr,
    minted,
    invalidated,
    fini,
};

}  // namespace

extern "C" BLUERATCHET_PLUGIN_EXPORT const br_plugin* blueratchet_plugin_v1(void) {
    return &kPlugin;
}
