// SPDX-License-Identifier: MIT
#include "daemon/log.hpp"

#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>

namespace br::daemon::log {

namespace {

bool g_debug = false;

bool key_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF" -> {"hci0", "AA:BB:CC:DD:EE:FF"}.
std::optional<std::pair<std::string, std::string>> device_path_parts(std::string_view v) {
    constexpr std::string_view root = "/org/bluez/";
    if (v.substr(0, root.size()) != root) return std::nullopt;
    v.remove_prefix(root.size());
    const auto slash = v.find('/');
    if (slash == std::string_view::npos || v.substr(slash + 1, 4) != "dev_") return std::nullopt;
    std::string adapter(v.substr(0, slash));
    std::string address(v.substr(slash + 5));
    if (adapter.empty() || address.empty()) return std::nullopt;
    for (auto& c : address)
        if (c == '_') c = ':';
    return std::make_pair(std::move(adapter), std::move(address));
}

// Whether stderr is the journal's stream: decided once.
bool to_journal() {
    static const bool yes = [] {
        struct stat st {};
        if (::fstat(STDERR_FILENO, &st) != 0) return false;
        return is_journal_stream(std::getenv("JOURNAL_STREAM"), st.st_dev, st.st_ino);
    }();
    return yes;
}

bool send_to_journal(Level level, const std::string& line) {
    std::vector<std::string> items;
    items.push_back("MESSAGE=" + line);
    items.push_back("PRIORITY=" + std::to_string(static_cast<int>(level)));
    items.emplace_back("SYSLOG_IDENTIFIER=blueratchetd");
    for (auto& f : journal_fields(line)) items.push_back(f.name + "=" + f.value);
    std::vector<iovec> iov;
    iov.reserve(items.size());
    for (auto& i : items) iov.push_back({i.data(), i.size()});
    return ::sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) >= 0;
}

}  // namespace

void set_debug(bool on) {
    g_debug = on;
}
bool debug_enabled() {
    return g_debug;
}

std::vector<Field> journal_fields(std::string_view line) {
    std::optional<std::string> peer, adapter, address, epoch, error, reason, why;
    std::optional<std::string> path_adapter;
    std::size_t i = 0;
    while (i < line.size()) {
        // A key: at the start, or after a space.
        if (i > 0 && line[i - 1] != ' ') {
            ++i;
            continue;
        }
        std::size_t k = i;
        while (k < line.size() && key_char(line[k])) ++k;
        if (k == i || k >= line.size() || line[k] != '=') {
            ++i;
            continue;
        }
        const std::string_view key = line.substr(i, k - i);
        std::size_t v = k + 1;
        std::string value;
        if (key == "why") {
            value = std::string(line.substr(v));
            i = line.size();
        } else if (v < line.size() && line[v] == '"') {
            const auto close = line.find('"', v + 1);
            const auto end = close == std::string_view::npos ? line.size() : close;
            value = std::string(line.substr(v + 1, end - v - 1));
            i = end;
        } else {
            const auto space = line.find(' ', v);
            const auto end = space == std::string_view::npos ? line.size() : space;
            value = std::string(line.substr(v, end - v));
            while (!value.empty() && (value.back() == ':' || value.back() == ',' ||
                                      value.back() == ';' || value.back() == ')'))
                value.pop_back();
            i = end;
        }
        if (value.empty()) continue;
        auto first = [&value](std::optional<std::string>& slot) {
            if (!slot) slot = value;
        };
        if (key == "peer") {
            if (value != "?" && value != "-") first(peer);
        } else if (key == "adapter") {
            first(adapter);
        } else if (key == "address") {
            first(address);
        } else if (key == "device") {
            if (auto parts = device_path_parts(value)) {
                if (!address) address = parts->second;
                if (!path_adapter) path_adapter = parts->first;
            } else if (value[0] != '/') {
                first(address);
            }
        } else if (key == "epoch") {
            first(epoch);
        } else if (key == "error") {
            first(error);
        } else if (key == "reason") {
            first(reason);
        } else if (key == "why") {
            first(why);
        }
    }
    std::vector<Field> out;
    if (peer) out.push_back({"PEER_ID", *peer});
    if (adapter || path_adapter) out.push_back({"ADAPTER", adapter ? *adapter : *path_adapter});
    if (address) out.push_back({"ADDRESS", *address});
    if (epoch) out.push_back({"EPOCH", *epoch});
    if (error || reason || why) out.push_back({"ERROR", error ? *error : reason ? *reason : *why});
    return out;
}

bool is_journal_stream(const char* journal_stream, dev_t dev, ino_t ino) {
    if (!journal_stream) return false;
    const std::string s = journal_stream;
    const auto colon = s.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i)
        if (i != colon && (s[i] < '0' || s[i] > '9')) return false;
    try {
        return std::stoull(s.substr(0, colon)) == static_cast<unsigned long long>(dev) &&
               std::stoull(s.substr(colon + 1)) == static_cast<unsigned long long>(ino);
    } catch (const std::exception&) {
        return false;  // out of range
    }
}

void write(Level level, const std::string& line) {
    std::string flat;
    flat.reserve(line.size());
    for (char c : line) flat.push_back(c == '\n' ? ' ' : c);
    if (to_journal() && send_to_journal(level, flat)) return;
    // One write(2) per line so that lines from a crash or a concurrent
    // writer never interleave mid-line in the journal.
    std::string out = "<" + std::to_string(static_cast<int>(level)) + ">" + flat;
    out.push_back('\n');
    const char* p = out.data();
    std::size_t left = out.size();
    while (left > 0) {
        ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n <= 0) return;
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

}  // namespace br::daemon::log
