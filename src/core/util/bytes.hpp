// SPDX-License-Identifier: MIT
// Byte containers and helpers shared by every core module.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace br {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;
template <std::size_t N>
using ByteArray = std::array<std::uint8_t, N>;

// Lowercase hex of any byte range.
std::string to_hex(ByteView data);
// Parses hex (either case); nullopt on odd length or a non-hex character.
std::optional<Bytes> from_hex(std::string_view hex);

// Views a string's characters as bytes (labels, test payloads).
inline ByteView as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Appends helpers used by the encoders: big-endian integers and raw bytes.
void append(Bytes& out, ByteView data);
void append_u8(Bytes& out, std::uint8_t v);
void append_u16be(Bytes& out, std::uint16_t v);
void append_u32be(Bytes& out, std::uint32_t v);
void append_u64be(Bytes& out, std::uint64_t v);

// Bounded big-endian reader: every read checks the remaining length, so a
// decoder built on it cannot run past its input.  After any failed read the
// reader stays failed (ok() == false) and further reads return zeros.
class Reader {
  public:
    explicit Reader(ByteView data) : data_(data) {}

    std::uint8_t u8();
    std::uint16_t u16be();
    std::uint32_t u32be();
    std::uint64_t u64be();
    // Returns a view of the next n bytes, or an empty view (and fails) if short.
    ByteView take(std::size_t n);
    template <std::size_t N>
    ByteArray<N> take_array() {
        ByteArray<N> out{};
        ByteView v = take(N);
        if (v.size() == N) std::copy(v.begin(), v.end(), out.begin());
        return out;
    }

    bool ok() const { return ok_; }
    std::size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
    bool at_end() const { return ok_ && pos_ == data_.size(); }

  private:
    ByteView data_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

}  // namespace br
