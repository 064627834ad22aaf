// SPDX-License-Identifier: MIT
// PeerId: a blueratchet device's identity (its Ed25519 public key, 32
// bytes) as one value, with the two ways it is spelled (docs/API.md):
//
//   base64url, no padding, 43 characters  the canonical form: logs, the API,
//                                         blueratchetctl, certificates' CN
//   lowercase hex, 64 digits              object paths (D-Bus allows only
//                                         [A-Za-z0-9_] there) and file names
//
// parse() takes either (hex in either case) and refuses everything else,
// including a base64url string whose unused low bits are set (a second
// spelling of the same bytes).  Header-only and free of libsodium, so the
// daemon, its API layer and blueratchetctl share this one codec.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace br {

class PeerId {
  public:
    static constexpr std::size_t kBytes = 32;
    static constexpr std::size_t kBase64urlLen = 43;
    static constexpr std::size_t kHexLen = 64;
    using Bytes32 = std::array<std::uint8_t, kBytes>;

    PeerId() = default;
    explicit PeerId(const Bytes32& bytes) : bytes_(bytes) {}

    // Either form; nullopt for anything else.
    static std::optional<PeerId> parse(std::string_view text) {
        if (text.size() == kBase64urlLen) return from_base64url(text);
        if (text.size() == kHexLen) return from_hex(text);
        return std::nullopt;
    }
    static std::optional<PeerId> from_base64url(std::string_view text);
    static std::optional<PeerId> from_hex(std::string_view text);

    std::string base64url() const;
    std::string hex() const;
    const Bytes32& bytes() const { return bytes_; }

    auto operator<=>(const PeerId&) const = default;

  private:
    Bytes32 bytes_{};
};

namespace peer_id_detail {

inline int b64url_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

inline int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace peer_id_detail

inline std::optional<PeerId> PeerId::from_base64url(std::string_view text) {
    if (text.size() != kBase64urlLen) return std::nullopt;
    Bytes32 out{};
    std::size_t n = 0;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        const int v = peer_id_detail::b64url_value(c);
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = static_cast<std::uint8_t>((acc >> bits) & 0xff);
        }
    }
    // 43 characters carry 258 bits: the last 2 must be zero (canonical).
    if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
    return PeerId(out);
}

inline std::optional<PeerId> PeerId::from_hex(std::string_view text) {
    if (text.size() != kHexLen) return std::nullopt;
    Bytes32 out{};
    for (std::size_t i = 0; i < kBytes; ++i) {
        const int hi = peer_id_detail::hex_value(text[2 * i]);
        const int lo = peer_id_detail::hex_value(text[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return PeerId(out);
}

inline std::string PeerId::base64url() const {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve(kBase64urlLen);
    std::uint32_t acc = 0;
    int bits = 0;
    for (std::uint8_t b : bytes_) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(alphabet[(acc >> bits) & 63]);
        }
    }
    if (bits > 0) out.push_back(alphabet[(acc << (6 - bits)) & 63]);
    return out;
}

inline std::string PeerId::hex() const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(kHexLen);
    for (std::uint8_t b : bytes_) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 15]);
    }
    return out;
}

}  // namespace br
