// SPDX-License-Identifier: MIT
// Small helpers the shipped plugins share: configuration lookup, logging,
// error reporting across the C ABI.  Header-only; each plugin is its own
// shared object.
#pragma once

#include <blueratchet/plugin.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <vector>

namespace br::plugin {

struct Setting {
    std::string key;
    std::string value;
};

inline std::vector<Setting> settings(const br_kv* kv, size_t n) {
    std::vector<Setting> out;
    for (size_t i = 0; i < n; ++i)
        out.push_back({kv[i].key ? kv[i].key : "", kv[i].value ? kv[i].value : ""});
    return out;
}

// Copies `msg` into the host's error buffer.
inline int fail(char* error, size_t size, const std::string& msg) {
    if (error && size > 0) std::snprintf(error, size, "%s", msg.c_str());
    return 1;
}

// "Timeout" -> seconds in lo..hi, or nullopt.
inline std::optional<unsigned> parse_seconds(const std::string& v, unsigned lo, unsigned hi) {
    if (v.empty() || v.size() > 6) return std::nullopt;
    unsigned n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + static_cast<unsigned>(c - '0');
    }
    if (n < lo || n > hi) return std::nullopt;
    return n;
}

inline void log(const br_host* h, int level, const std::string& msg) {
    if (h && h->log) h->log(h, level, msg.c_str());
}

// Runs f, turning any exception into a log line: nothing may cross the C ABI.
template <typename F>
void guarded(const br_host* h, const char* what, F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        log(h, BR_LOG_ERROR, std::string(what) + ": " + e.what());
    } catch (...) {
        log(h, BR_LOG_ERROR, std::string(what) + ": unknown exception");
    }
}

}  // namespace br::plugin
