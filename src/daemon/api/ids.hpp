// Device ids as the API and blueratchetctl spell them: base64url without
// padding (43 characters for 32 bytes, the canonical form) or lowercase hex
// (64 digits, used in object paths).  Header-only: shared by the daemon's
// API layer and blueratchetctl.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace br::daemon::ids {

inline constexpr std::size_t kIdBytes = 32;
inline constexpr std::size_t kB64Len = 43;
inline constexpr std::size_t kHexLen = 64;

inline int b64url_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

inline std::optional<std::vector<std::uint8_t>> b64url_decode(std::string_view s) {
    if (s.size() % 4 == 1) return std::nullopt;
    std::vector<std::uint8_t> out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : s) {
        int v = b64url_value(c);
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xff));
        }
    }
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;  // non-canonical
    return out;
}

inline std::string b64url_encode(const std::vector<std::uint8_t>& in) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (std::uint8_t b : in) {
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

inline std::optional<std::vector<std::uint8_t>> hex_decode(std::string_view s) {
    if (s.size() % 2 != 0) return std::nullopt;
    auto nib = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i < s.size(); i += 2) {
        int hi = nib(s[i]), lo = nib(s[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
    }
    return out;
}

inline std::string hex_encode(const std::vector<std::uint8_t>& in) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::uint8_t b : in) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 15]);
    }
    return out;
}

// A full id in either form -> base64url; nullopt if it is neither.
inline std::optional<std::string> canonical_id(std::string_view s) {
    if (s.size() == kB64Len) {
        auto bytes = b64url_decode(s);
        if (bytes && bytes->size() == kIdBytes) return std::string(s);
    }
    if (s.size() == kHexLen) {
        auto bytes = hex_decode(s);
        if (bytes && bytes->size() == kIdBytes) return b64url_encode(*bytes);
    }
    return std::nullopt;
}

inline std::optional<std::string> id_hex(std::string_view b64) {
    auto bytes = b64url_decode(b64);
    if (!bytes) return std::nullopt;
    return hex_encode(*bytes);
}

}  // namespace br::daemon::ids
