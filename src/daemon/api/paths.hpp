// SPDX-License-Identifier: MIT
// The object paths of org.blueratchet, written and read back:
//
//   /org/blueratchet/<adapter>                        Adapter1
//   /org/blueratchet/<adapter>/peer_<64 hex>          Peer1
//   /org/blueratchet/<adapter>/peer_<64 hex>/session  Session1
//
// Peers and sessions are served from fallback vtables on their adapter's
// path (adapter_node.hpp), so a path under it must be read back to the peer
// it names.  Internal to src/daemon/api/.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/peer_id.hpp"
#include "daemon/api/errors.hpp"

namespace br::daemon::api {

// A peer's id (its 32 bytes): how peers and sessions are keyed (not their
// 64-character hex, to keep 10,000 peers small).
using PeerKey = PeerId;

// Object path elements may only hold [A-Za-z0-9_].
inline std::string path_element(const std::string& s) {
    std::string out = s;
    for (char& c : out) {
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            c = '_';
    }
    return out.empty() ? std::string("_") : out;
}

inline std::string adapter_path(const std::string& adapter) {
    return std::string(errors::kManagerPath) + "/" + path_element(adapter);
}

inline std::string key_hex(const PeerKey& key) {
    return key.hex();
}

inline std::string key_b64(const PeerKey& key) {
    return key.base64url();
}

// The key of a peer id in hex (64 digits) or, failing that, base64url.
inline std::optional<PeerKey> key_of(std::string_view id_hex, std::string_view id_b64 = {}) {
    if (auto key = PeerId::from_hex(id_hex)) return key;
    return PeerId::from_base64url(id_b64);
}

inline std::string peer_path(const std::string& adapter_path, const PeerKey& key) {
    return adapter_path + "/peer_" + key_hex(key);
}

inline std::string session_path(const std::string& adapter_path, const PeerKey& key) {
    return peer_path(adapter_path, key) + "/session";
}

// What a path under an adapter's path names, if anything.
struct Named {
    enum class Kind { Peer, Session } kind;
    PeerKey key;
};

inline std::optional<Named> read_path(std::string_view adapter_path, std::string_view path) {
    if (path.size() <= adapter_path.size() || path.substr(0, adapter_path.size()) != adapter_path)
        return std::nullopt;
    std::string_view tail = path.substr(adapter_path.size());
    constexpr std::string_view kPeer = "/peer_", kSession = "/session";
    if (tail.substr(0, kPeer.size()) != kPeer) return std::nullopt;
    tail.remove_prefix(kPeer.size());
    Named::Kind kind = Named::Kind::Peer;
    if (tail.size() == PeerId::kHexLen + kSession.size() &&
        tail.substr(PeerId::kHexLen) == kSession) {
        kind = Named::Kind::Session;
        tail = tail.substr(0, PeerId::kHexLen);
    }
    // Lowercase only: each object has exactly one path.
    if (tail.size() != PeerId::kHexLen ||
        tail.find_first_not_of("0123456789abcdef") != std::string_view::npos)
        return std::nullopt;
    auto key = key_of(tail);
    if (!key) return std::nullopt;
    return Named{kind, *key};
}

// Whether `path` is `prefix` or below it (D-Bus object paths).
inline bool path_within(std::string_view path, std::string_view prefix) {
    if (prefix == "/") return true;
    return path.substr(0, prefix.size()) == prefix &&
           (path.size() == prefix.size() || path[prefix.size()] == '/');
}

}  // namespace br::daemon::api
