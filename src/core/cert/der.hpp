// SPDX-License-Identifier: MIT
// A small DER writer and a bounded DER reader, enough for the one X.509 shape
// blueratchet produces (docs/PROTOCOL.md section 7).  Not a general ASN.1
// library: tags are single-byte (low tag numbers only), lengths definite and
// minimally encoded, contents at most 65535 bytes.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>

#include "core/util/bytes.hpp"

namespace br::der {

// Universal and context tags used by the certificate.
inline constexpr std::uint8_t kBoolean = 0x01;
inline constexpr std::uint8_t kInteger = 0x02;
inline constexpr std::uint8_t kBitString = 0x03;
inline constexpr std::uint8_t kOctetString = 0x04;
inline constexpr std::uint8_t kOid = 0x06;
inline constexpr std::uint8_t kUtf8String = 0x0c;
inline constexpr std::uint8_t kUtcTime = 0x17;
inline constexpr std::uint8_t kGeneralizedTime = 0x18;
inline constexpr std::uint8_t kSequence = 0x30;
inline constexpr std::uint8_t kSet = 0x31;
inline constexpr std::uint8_t kContext0 = 0xa0;  // [0] constructed
inline constexpr std::uint8_t kContext3 = 0xa3;  // [3] constructed

// ---- writer ----------------------------------------------------------------
// Appends tag || length || content.  Throws std::length_error past 65535.
void tlv(Bytes& out, std::uint8_t tag, ByteView content);
Bytes tlv(std::uint8_t tag, ByteView content);
// A constructed value whose content is the concatenation of parts.
Bytes constructed(std::uint8_t tag, std::initializer_list<ByteView> parts);
inline Bytes sequence(std::initializer_list<ByteView> parts) {
    return constructed(kSequence, parts);
}
// INTEGER holding a non-negative value, minimal two's-complement encoding.
Bytes integer(std::uint64_t v);
Bytes octet_string(ByteView content);
// BIT STRING with no unused bits.
Bytes bit_string(ByteView content);
// OID from its already-encoded content octets.
Bytes oid(ByteView encoded);
Bytes utf8_string(std::string_view s);
Bytes boolean(bool v);

// X.509 Time (RFC 5280 4.1.2.5): UTCTime YYMMDDHHMMSSZ for years 1950-2049,
// GeneralizedTime YYYYMMDDHHMMSSZ from 2050 on.
Bytes x509_time(std::uint32_t unix_seconds);

// ---- reader ----------------------------------------------------------------
// Reads consecutive TLVs from a buffer.  Every read is bounded by what is
// left; any malformed header (long-form tag, indefinite or non-minimal
// length, length past the end) fails the reader for good.
class Reader {
  public:
    explicit Reader(ByteView data) : data_(data) {}
    // The content of the next TLV if its tag is `tag`; otherwise fails.
    std::optional<ByteView> expect(std::uint8_t tag);
    // The whole next TLV (header included) if its tag is `tag`.
    std::optional<ByteView> expect_raw(std::uint8_t tag);
    // The tag of the next TLV, without consuming it.
    std::optional<std::uint8_t> peek_tag() const;
    bool ok() const { return ok_; }
    bool at_end() const { return ok_ && pos_ == data_.size(); }

  private:
    // Parses the header at pos_; on success sets content offset and length.
    bool header(std::uint8_t tag, std::size_t& content_off, std::size_t& len);
    ByteView data_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

// Reads a non-negative INTEGER of at most 32 bits in minimal encoding.
std::optional<std::uint32_t> parse_u32_integer(ByteView content);
// Parses the content of a UTCTime (tag kUtcTime) or GeneralizedTime
// (kGeneralizedTime) in exactly the form x509_time writes; nullopt for any
// other form or a time outside 0 .. 2^32-1 unix seconds.
std::optional<std::uint32_t> parse_x509_time(std::uint8_t tag, ByteView content);

}  // namespace br::der
