// SPDX-License-Identifier: MIT
// The `allowlist` approval plugin: a first contact is approved iff the
// peer's identity (base64url or hex) is listed in a file, and, when the
// entry also names a BLE address, the contact comes from that address.
//
//   [Plugin:allowlist]
//   File = /etc/blueratchet/allowlist
//
// One entry per line, "<identity>" or "<identity> <address>"; blank lines
// and everything from a '#' on are ignored.  An address only narrows an
// identity's entry (identity AND address must match): it never authorises
// a pairing by itself, since anyone can send from any address.  A line with
// an address alone is an error (a file of the format before issue #10).
// The file is read again for every first contact, so edits apply at once;
// a file that cannot be read or has a bad line refuses every first contact
// (fail closed) until it is fixed.  The pairing window plays no part.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <fstream>
#include <memory>
#include <sstream>

#include "plugin_util.hpp"

namespace {

struct State {
    const br_host* host = nullptr;
    std::string file;
};

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string trim(const std::string& s) {
    auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return {};
    auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

bool is_b64url_id(const std::string& s) {
    return s.size() == 43 && std::all_of(s.begin(), s.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
           });
}
bool is_hex_id(const std::string& s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return std::isxdigit(static_cast<unsigned char>(c));
           });
}
bool is_address(const std::string& s) {
    if (s.size() != 17) return false;
    for (size_t i = 0; i < s.size(); ++i) {
        if (i % 3 == 2) {
            if (s[i] != ':') return false;
        } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
            return false;
        }
    }
    return true;
}

// A value as an error message echoes it: at most 64 bytes, then an ellipsis
// and the length (a file line can be of any length); the daemon's
// src/daemon/shown.hpp in the plugin's own shared object.
std::string shown(const std::string& s) {
    if (s.size() <= 64) return "\"" + s + "\"";
    std::size_t n = 64;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;  // UTF-8 boundary
    return "\"" + s.substr(0, n) + "...(" + std::to_string(s.size()) + " bytes)\"";
}

// One entry: the identity in both spellings the contact carries, and the
// address it is bound to ("" = any).
struct Entry {
    std::string id;       // base64url as given, or lowercased hex
    std::string address;  // lowercased, or ""
};

// The entries, or an error naming the file and line.
bool read_list(const std::string& file, std::vector<Entry>& out, std::string& error) {
    std::ifstream in(file);
    if (!in) {
        error = file + ": cannot open: " + std::strerror(errno);
        return false;
    }
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        std::string t = trim(line.substr(0, line.find('#')));
        if (t.empty()) continue;
        std::istringstream words(t);
        std::string first, second, extra;
        words >> first >> second >> extra;
        auto where = file + ":" + std::to_string(n) + ": ";
        if (is_address(first)) {
            error = where + "a BLE address alone (" + first +
                    ") cannot authorise a pairing, anyone can send from it: list the "
                    "device's identity, optionally followed by its address";
            return false;
        }
        Entry e;
        if (is_b64url_id(first)) {
            e.id = first;
        } else if (is_hex_id(first)) {
            e.id = lower(first);
        } else {
            error =
                where + shown(first) + " is not a device id (43 base64url or 64 hex characters)";
            return false;
        }
        if (!second.empty()) {
            if (!is_address(second)) {
                error = where + shown(second) +
                        " after the id is not a BLE address (AA:BB:CC:DD:EE:FF)";
                return false;
            }
            e.address = lower(second);
        }
        if (!extra.empty()) {
            error = where + "unexpected " + shown(extra) +
                    ": an entry is \"<id>\" or \"<id> <address>\"";
            return false;
        }
        out.push_back(std::move(e));
    }
    if (in.bad()) {
        error = file + ": read error";
        return false;
    }
    return true;
}

int init(const br_host* host, const br_kv* config, size_t n, void** state, char* error,
         size_t error_size) {
    auto s = std::make_unique<State>();
    s->host = host;
    for (const auto& kv : br::plugin::settings(config, n)) {
        if (kv.key == "File") {
            if (kv.value.empty() || kv.value[0] != '/')
                return br::plugin::fail(error, error_size, "File: must be an absolute path");
            s->file = kv.value;
        } else {
            return br::plugin::fail(
                error, error_size,
                "unknown key " + kv.key + " in [Plugin:allowlist] (known: File)");
        }
    }
    if (s->file.empty())
        return br::plugin::fail(error, error_size, "[Plugin:allowlist] File = <path> is required");
    std::vector<Entry> entries;
    std::string why;
    if (!read_list(s->file, entries, why)) return br::plugin::fail(error, error_size, why);
    br::plugin::log(host, BR_LOG_INFO, std::to_string(entries.size()) + " entries in " + s->file);
    *state = s.release();
    return 0;
}

int approve(void* state, const br_first_contact* c, br_approval_id) {
    auto* s = static_cast<State*>(state);
    int verdict = BR_REJECT;
    br::plugin::guarded(s->host, "approve", [&] {
        std::vector<Entry> entries;
        std::string why;
        if (!read_list(s->file, entries, why)) {
            br::plugin::log(s->host, BR_LOG_ERROR, "refused (fail closed): " + why);
            return;
        }
        std::string id = c->peer_id, hex = lower(c->peer_id_hex), addr = lower(c->address);
        bool listed_elsewhere = false;
        for (const auto& e : entries) {
            if (e.id != id && e.id != hex) continue;
            if (!e.address.empty() && e.address != addr) {
                listed_elsewhere = true;
                continue;
            }
            br::plugin::log(s->host, BR_LOG_INFO,
                            "approved: " + id +
                                (e.address.empty() ? std::string() : " at " + addr) +
                                " is listed in " + s->file);
            verdict = BR_APPROVE;
            return;
        }
        br::plugin::log(s->host, BR_LOG_WARNING,
                        listed_elsewhere ? "refused: " + id + " is listed in " + s->file +
                                               " only at another address, not " + addr
                                         : "refused: " + id + " is not listed in " + s->file);
    });
    return verdict;
}

void fini(void* state) {
    delete static_cast<State*>(state);
}

const br_plugin kPlugin = {
    BLUERATCHET_PLUGIN_ABI_VERSION,
    "allowlist",
    BR_PLUGIN_APPROVAL,
    init,
    approve,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    fini,
};

}  // namespace

extern "C" BLUERATCHET_PLUGIN_EXPORT const br_plugin* blueratchet_plugin_v1(void) {
    return &kPlugin;
}
