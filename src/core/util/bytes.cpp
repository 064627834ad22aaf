// SPDX-License-Identifier: MIT
#include "core/util/bytes.hpp"

#include <algorithm>

namespace br {

std::string to_hex(ByteView data) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(data.size() * 2);
    for (std::uint8_t b : data) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 0x0f]);
    }
    return out;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<Bytes> from_hex(std::string_view hex) {
    if (hex.size() % 2 != 0) return std::nullopt;
    Bytes out(hex.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
        int hi = hex_value(hex[2 * i]);
        int lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
    }
    return out;
}

void append(Bytes& out, ByteView data) {
    out.insert(out.end(), data.begin(), data.end());
}
void append_u8(Bytes& out, std::uint8_t v) {
    out.push_back(v);
}
void append_u16be(Bytes& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
}
void append_u32be(Bytes& out, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
void append_u64be(Bytes& out, std::uint64_t v) {
    for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

ByteView Reader::take(std::size_t n) {
    if (!ok_ || data_.size() - pos_ < n) {
        ok_ = false;
        return {};
    }
    ByteView v = data_.subspan(pos_, n);
    pos_ += n;
    return v;
}

std::uint8_t Reader::u8() {
    ByteView v = take(1);
    return v.empty() ? 0 : v[0];
}
std::uint16_t Reader::u16be() {
    ByteView v = take(2);
    return v.empty() ? 0 : static_cast<std::uint16_t>((v[0] << 8) | v[1]);
}
std::uint32_t Reader::u32be() {
    ByteView v = take(4);
    std::uint32_t r = 0;
    for (std::uint8_t b : v) r = (r << 8) | b;
    return r;
}
std::uint64_t Reader::u64be() {
    ByteView v = take(8);
    std::uint64_t r = 0;
    for (std::uint8_t b : v) r = (r << 8) | b;
    return r;
}

}  // namespace br
