// SPDX-License-Identifier: MIT
// Helpers for the plugin tests: a plugin host on a real event loop, driven
// step by step, and scratch directories.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "daemon/event_loop.hpp"
#include "daemon/plugin_host/plugin_host.hpp"

namespace br::daemon::plugins::test {

inline std::string env_dir(const char* name) {
    const char* v = std::getenv(name);
    EXPECT_NE(v, nullptr) << name << " not set (run through meson test)";
    return v ? v : "/nonexistent";
}
inline std::string shipped_dir() {
    return env_dir("BR_PLUGIN_BUILD_DIR");
}
inline std::string test_plugin_dir() {
    return env_dir("BR_TEST_PLUGIN_DIR");
}

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/br-plugins-test-XXXXXX";
        path = ::mkdtemp(tmpl) ? tmpl : "";
        EXPECT_FALSE(path.empty());
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

// A step runs on the loop every 5 ms until it returns true; then the next
// one.  False if the steps did not all finish within `limit`.
inline bool run_steps(EventLoop& loop, std::vector<std::function<bool()>> steps,
                      std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    std::size_t next = 0;
    bool finished = false;
    std::function<void()> tick = [&] {
        while (next < steps.size() && steps[next]()) ++next;
        if (next == steps.size()) {
            finished = true;
            loop.stop(0);
            return;
        }
        loop.add_timer(std::chrono::milliseconds(5), tick);
    };
    loop.add_timer(std::chrono::milliseconds(0), tick);
    loop.add_timer(limit, [&] { loop.stop(1); });
    loop.run();
    return finished;
}

inline FirstContact contact(bool window_open = true) {
    FirstContact c;
    c.adapter = "hci0";
    c.adapter_address = "00:11:22:33:44:55";
    c.peer_id = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA";
    c.peer_id_hex = "abcdef123456789090abcdef123456789090abcdef123456789090abcdef1234";
    c.address = "AA:BB:CC:DD:EE:01";
    c.short_code = "123456";
    c.window_open = window_open;
    c.window_remaining = window_open ? 60 : 0;
    c.timeout_seconds = 20;
    return c;
}

inline SessionFacts facts(std::uint32_t epoch = 1) {
    SessionFacts f;
    f.adapter = "hci0";
    f.adapter_address = "00:11:22:33:44:55";
    f.peer_id = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA";
    f.peer_id_hex = "abcdef123456789090abcdef123456789090abcdef123456789090abcdef1234";
    f.address = "AA:BB:CC:DD:EE:01";
    f.kind = "pair";
    f.role = "responder";
    f.epoch = epoch;
    f.fingerprint = std::string(63, '0') + std::to_string(epoch % 10);
    f.short_code = "654321";
    f.not_before = 1700000000;
    f.not_after = 1700003600;
    f.cert_pem = "-----BEGIN CERTIFICATE-----\nMINE\n-----END CERTIFICATE-----\n";
    f.peer_cert_pem = "-----BEGIN CERTIFICATE-----\nPEER\n-----END CERTIFICATE-----\n";
    f.key_pem = "-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----\n";
    return f;
}

struct Verdict {
    bool done = false;
    bool approved = false;
    std::string why;
    Decision decision;
    PluginHost::Verdict callback() {
        return [this](const Decision& d) {
            done = true;
            approved = d.approved;
            why = d.why;
            decision = d;
        };
    }
};

inline const PluginStatus* status_of(const PluginHost& h, const std::string& name) {
    for (const auto& s : h.status())
        if (s.name == name) return &s;
    return nullptr;
}

inline mode_t mode_of(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return 0;
    return st.st_mode & 07777;
}

}  // namespace br::daemon::plugins::test
