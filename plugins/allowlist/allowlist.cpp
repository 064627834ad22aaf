// The `allowlist` approval plugin: a first contact is approved iff the
// peer's identity (base64url or hex) or its BLE address is listed in a file.
//
//   [Plugin:allowlist]
//   File = /etc/blueratchet/allowlist
//
// One entry per line; blank lines and lines starting with '#' are ignored.
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

// The entries (ids as given, hex and addresses lowercased), or an error.
bool read_list(const std::string& file, std::vector<std::string>& out, std::string& error) {
    std::ifstream in(file);
    if (!in) {
        error = file + ": cannot open: " + std::strerror(errno);
        return false;
    }
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        std::string t = trim(line);
        if (t.empty() || t[0] == '#') continue;
        if (is_b64url_id(t)) {
            out.push_back(t);
        } else if (is_hex_id(t) || is_address(t)) {
            out.push_back(lower(t));
        } else {
            error = file + ":" + std::to_string(n) + ": \"" + t +
                    "\" is neither a device id (43 base64url or 64 hex characters) nor a BLE "
                    "address (AA:BB:CC:DD:EE:FF)";
            return false;
        }
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
    std::vector<std::string> entries;
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
        std::vector<std::string> entries;
        std::string why;
        if (!read_list(s->file, entries, why)) {
            br::plugin::log(s->host, BR_LOG_ERROR, "refused (fail closed): " + why);
            return;
        }
        std::string id = c->peer_id, hex = lower(c->peer_id_hex), addr = lower(c->address);
        for (const auto& e : entries) {
            if (e == id || e == hex || (!addr.empty() && e == addr)) {
                br::plugin::log(s->host, BR_LOG_INFO,
                                "approved: " + e + " is listed in " + s->file);
                verdict = BR_APPROVE;
                return;
            }
        }
        br::plugin::log(
            s->host, BR_LOG_WARNING,
            "refused: neither " + id + " nor " + c->address + " is listed in " + s->file);
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
