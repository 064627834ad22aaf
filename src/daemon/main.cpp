// SPDX-License-Identifier: MIT
// blueratchetd [--config PATH] [--state-dir DIR] [--plugin-dir DIR] [--debug]
//              [--pairing-window SECONDS]
//
// The blueratchet daemon: BlueZ's default pairing agent, the blueratchet
// handshake over its own GATT service, session certificates per connection.
// Logs go to stderr with journald priority prefixes.  docs/DAEMON.md.
#include <malloc.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <sdbus-c++/sdbus-c++.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

#include "daemon/api/api.hpp"
#include "daemon/config.hpp"
#include "daemon/daemon.hpp"
#include "daemon/event_loop.hpp"
#include "daemon/log.hpp"
#include "version.hpp"

namespace {

void usage(std::ostream& os) {
    os << "usage: blueratchetd [--config PATH] [--state-dir DIR] [--plugin-dir DIR] [--debug]"
          " [--pairing-window SECONDS] [--version]\n"
          "  --config PATH            main.conf (default /etc/blueratchet/main.conf)\n"
          "  --state-dir DIR          overrides [General] StateDirectory\n"
          "  --plugin-dir DIR         overrides [General] PluginDirectory\n"
          "  --debug                  log debug lines too (<7>)\n"
          "  --pairing-window SECONDS open every adapter's pairing window at start\n";
}

// The daemon holds identity keys, seeds and session keys: no core dump and
// no ptrace by anyone without CAP_SYS_PTRACE (issue #10, item 5: an exported
// private key was found in a core dump).  Not dumpable also makes
// /proc/<pid>/* root's.  RLIMIT_CORE = 0 as well, for a daemon started
// outside the unit (which sets LimitCORE=0).
void no_core_dumps() {
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        std::cerr << "blueratchetd: prctl(PR_SET_DUMPABLE, 0): " << std::strerror(errno) << "\n";
    const rlimit none{0, 0};
    if (::setrlimit(RLIMIT_CORE, &none) != 0)
        std::cerr << "blueratchetd: setrlimit(RLIMIT_CORE, 0): " << std::strerror(errno) << "\n";
}

// A fixed mmap threshold: every allocation above it is its own mapping,
// returned to the kernel when freed.  glibc's default threshold rises to the
// size of the largest mapped block freed so far (up to 32 MiB), after which
// such blocks come from the heap and stay resident: one caller sending a few
// 20 MiB arguments (the bus allows 32 MiB messages) left the daemon tens of
// MB larger for good (issue #10, item 9b).  Setting it also fixes the trim
// threshold at its default, 128 KiB.
void fixed_mmap_threshold() {
    if (::mallopt(M_MMAP_THRESHOLD, 128 * 1024) != 1)
        std::cerr << "blueratchetd: mallopt(M_MMAP_THRESHOLD) not applied (another allocator?)\n";
}

}  // namespace

int main(int argc, char** argv) {
    using namespace br::daemon;
    std::string config_path = "/etc/blueratchet/main.conf";
    std::string state_dir;
    std::string plugin_dir;
    std::uint32_t window = 0;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&](const char* name) -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "blueratchetd: " << name << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--config") {
            config_path = value("--config");
        } else if (a == "--state-dir") {
            state_dir = value("--state-dir");
        } else if (a == "--plugin-dir") {
            plugin_dir = value("--plugin-dir");
            if (plugin_dir.empty() || plugin_dir[0] != '/') {
                std::cerr << "blueratchetd: --plugin-dir takes an absolute path\n";
                return 2;
            }
        } else if (a == "--debug") {
            log::set_debug(true);
        } else if (a == "--pairing-window") {
            std::string v = value("--pairing-window");
            char* end = nullptr;
            unsigned long s = std::strtoul(v.c_str(), &end, 10);
            if (v.empty() || *end || s > kMaxPairingWindowSeconds) {
                std::cerr << "blueratchetd: --pairing-window takes 0.." << kMaxPairingWindowSeconds
                          << " seconds\n";
                return 2;
            }
            window = static_cast<std::uint32_t>(s);
        } else if (a == "--help" || a == "-h") {
            usage(std::cout);
            return 0;
        } else if (a == "--version") {
            std::cout << "blueratchetd " << BR_VERSION << "\n";
            return 0;
        } else {
            std::cerr << "blueratchetd: unknown argument " << a << "\n";
            usage(std::cerr);
            return 2;
        }
    }
    // After the command line (so that --version and --help print nothing
    // else, even under a sanitizer's allocator) and before anything secret
    // is allocated.
    no_core_dumps();
    fixed_mmap_threshold();

    auto loaded = load_config(config_path);
    if (!loaded.config) {
        log::error("configuration: ", loaded.error ? loaded.error->message() : "invalid");
        return 1;
    }
    Config config = *loaded.config;
    if (!state_dir.empty()) config.state_directory = state_dir;
    if (!plugin_dir.empty()) config.plugin_directory = plugin_dir;

    // SIGTERM/SIGINT through a signalfd, so shutdown runs on the loop.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        log::error("signalfd: ", std::strerror(errno));
        return 1;
    }

    std::unique_ptr<sdbus::IConnection> conn;
    try {
        conn = sdbus::createSystemBusConnection("org.blueratchet");
    } catch (const sdbus::Error& e) {
        log::error("cannot own org.blueratchet on the system bus: ", e.getName(), ": ",
                   e.getMessage());
        return 1;
    }

    int rc = 0;
    try {
        EventLoop loop;
        loop.attach_bus(*conn);
        loop.watch_fd(sfd, EPOLLIN, [&](std::uint32_t) {
            signalfd_siginfo si{};
            while (::read(sfd, &si, sizeof si) == sizeof si) {
                log::info("signal ", strsignal(static_cast<int>(si.ssi_signo)), ": stopping");
                loop.stop(0);
            }
        });
        Daemon daemon(config, config.state_directory, *conn, loop);
        daemon.open_pairing_window_at_start(window);
        auto api = std::make_unique<Api>(*conn, loop, daemon.manager());
        log::info("blueratchetd started bus_name=org.blueratchet unique_name=",
                  conn->getUniqueName(), " state=", config.state_directory, " role=",
                  config.role == GattRoles::Peripheral ? "peripheral"
                  : config.role == GattRoles::Central  ? "central"
                                                       : "both",
                  " io_capability=", config.io_capability,
                  " handshake_timeout=", config.handshake_timeout_seconds,
                  " validity=", config.validity_seconds);
        daemon.start();
        rc = loop.run();
        api.reset();
    } catch (const std::exception& e) {
        log::error("fatal: ", e.what());
        rc = 1;
    }
    ::close(sfd);
    log::info("blueratchetd stopped");
    return rc;
}
