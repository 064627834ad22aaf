// SPDX-License-Identifier: MIT
#include "core/cert/der.hpp"

#include <array>
#include <stdexcept>
#include <string>

namespace br::der {
namespace {

// Howard Hinnant's civil-from-days / days-from-civil (proleptic Gregorian).
struct Civil {
    std::int64_t y;
    unsigned m, d;
};

Civil civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {y + (m <= 2), m, d};
}

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_leap(std::int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(std::int64_t y, unsigned m) {
    static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30,
                                                       31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Reads n ASCII digits; nullopt on any non-digit.
std::optional<unsigned> digits(ByteView s, std::size_t off, std::size_t n) {
    unsigned v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t c = s[off + i];
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}

}  // namespace

void tlv(Bytes& out, std::uint8_t tag, ByteView content) {
    const std::size_t n = content.size();
    if (n > 0xffff) throw std::length_error("DER content longer than 65535 bytes");
    out.push_back(tag);
    if (n < 0x80) {
        out.push_back(static_cast<std::uint8_t>(n));
    } else if (n <= 0xff) {
        out.push_back(0x81);
        out.push_back(static_cast<std::uint8_t>(n));
    } else {
        out.push_back(0x82);
        out.push_back(static_cast<std::uint8_t>(n >> 8));
        out.push_back(static_cast<std::uint8_t>(n));
    }
    out.insert(out.end(), content.begin(), content.end());
}

Bytes tlv(std::uint8_t tag, ByteView content) {
    Bytes out;
    out.reserve(content.size() + 4);
    tlv(out, tag, content);
    return out;
}

Bytes constructed(std::uint8_t tag, std::initializer_list<ByteView> parts) {
    Bytes content;
    for (ByteView p : parts) append(content, p);
    return tlv(tag, content);
}

Bytes integer(std::uint64_t v) {
    Bytes content;
    int shift = 56;
    while (shift > 0 && ((v >> shift) & 0xff) == 0) shift -= 8;
    // A leading 1 bit would read as negative: prefix a zero octet.
    if (((v >> shift) & 0x80) != 0) content.push_back(0);
    for (; shift >= 0; shift -= 8) content.push_back(static_cast<std::uint8_t>(v >> shift));
    return tlv(kInteger, content);
}

Bytes octet_string(ByteView content) {
    return tlv(kOctetString, content);
}

Bytes bit_string(ByteView content) {
    Bytes c;
    c.reserve(content.size() + 1);
    c.push_back(0);  // unused bits
    append(c, content);
    return tlv(kBitString, c);
}

Bytes oid(ByteView encoded) {
    return tlv(kOid, encoded);
}

Bytes utf8_string(std::string_view s) {
    return tlv(kUtf8String, as_bytes(s));
}

Bytes boolean(bool v) {
    const std::uint8_t b = v ? 0xff : 0x00;
    return tlv(kBoolean, ByteView(&b, 1));
}

Bytes x509_time(std::uint32_t unix_seconds) {
    const std::int64_t days = unix_seconds / 86400;
    const std::uint32_t secs = unix_seconds % 86400;
    const Civil c = civil_from_days(days);
    const auto year = static_cast<unsigned>(c.y);  // 1970 .. 2106
    const bool utc = year < 2050;
    std::string s;
    auto put2 = [&s](unsigned v) {
        s += static_cast<char>('0' + v / 10 % 10);
        s += static_cast<char>('0' + v % 10);
    };
    if (!utc) put2(year / 100);
    put2(year % 100);
    put2(c.m);
    put2(c.d);
    put2(secs / 3600);
    put2(secs / 60 % 60);
    put2(secs % 60);
    s += 'Z';
    return tlv(utc ? kUtcTime : kGeneralizedTime, as_bytes(s));
}

std::optional<std::uint8_t> Reader::peek_tag() const {
    if (!ok_ || pos_ >= data_.size()) return std::nullopt;
    return data_[pos_];
}

bool Reader::header(std::uint8_t tag, std::size_t& content_off, std::size_t& len) {
    if (!ok_) return false;
    const std::size_t left = data_.size() - pos_;
    if (left < 2 || data_[pos_] != tag) return ok_ = false;
    const std::uint8_t l0 = data_[pos_ + 1];
    std::size_t off = 2;
    if (l0 < 0x80) {
        len = l0;
    } else if (l0 == 0x81) {
        if (left < 3 || data_[pos_ + 2] < 0x80) return ok_ = false;  // non-minimal
        len = data_[pos_ + 2];
        off = 3;
    } else if (l0 == 0x82) {
        if (left < 4 || data_[pos_ + 2] == 0) return ok_ = false;  // non-minimal
        len = (std::size_t{data_[pos_ + 2]} << 8) | data_[pos_ + 3];
        off = 4;
    } else {
        return ok_ = false;  // indefinite, or longer than we ever write
    }
    if (len > left - off) return ok_ = false;
    content_off = pos_ + off;
    return true;
}

std::optional<ByteView> Reader::expect(std::uint8_t tag) {
    std::size_t off = 0, len = 0;
    if (!header(tag, off, len)) return std::nullopt;
    pos_ = off + len;
    return data_.subspan(off, len);
}

std::optional<ByteView> Reader::expect_raw(std::uint8_t tag) {
    const std::size_t start = pos_;
    std::size_t off = 0, len = 0;
    if (!header(tag, off, len)) return std::nullopt;
    pos_ = off + len;
    return data_.subspan(start, pos_ - start);
}

std::optional<std::uint32_t> parse_u32_integer(ByteView c) {
    if (c.empty() || c.size() > 5) return std::nullopt;
    if (c[0] & 0x80) return std::nullopt;                                  // negative
    if (c.size() > 1 && c[0] == 0 && !(c[1] & 0x80)) return std::nullopt;  // non-minimal
    if (c.size() == 5 && c[0] != 0) return std::nullopt;                   // > 32 bits
    std::uint64_t v = 0;
    for (std::uint8_t b : c) v = (v << 8) | b;
    if (v > 0xffffffffu) return std::nullopt;
    return static_cast<std::uint32_t>(v);
}

std::optional<std::uint32_t> parse_x509_time(std::uint8_t tag, ByteView s) {
    std::int64_t year = 0;
    std::size_t off = 0;
    if (tag == kUtcTime) {
        if (s.size() != 13) return std::nullopt;
        auto yy = digits(s, 0, 2);
        if (!yy) return std::nullopt;
        year = *yy < 50 ? 2000 + *yy : 1900 + *yy;
        if (year >= 2050) return std::nullopt;
        off = 2;
    } else if (tag == kGeneralizedTime) {
        if (s.size() != 15) return std::nullopt;
        auto yyyy = digits(s, 0, 4);
        if (!yyyy) return std::nullopt;
        year = *yyyy;
        if (year < 2050) return std::nullopt;  // RFC 5280: UTCTime through 2049
        off = 4;
    } else {
        return std::nullopt;
    }
    if (s[off + 10] != 'Z') return std::nullopt;
    auto mo = digits(s, off, 2), d = digits(s, off + 2, 2), h = digits(s, off + 4, 2),
         mi = digits(s, off + 6, 2), se = digits(s, off + 8, 2);
    if (!mo || !d || !h || !mi || !se) return std::nullopt;
    if (*mo < 1 || *mo > 12 || *d < 1 || *d > days_in_month(year, *mo) || *h > 23 || *mi > 59 ||
        *se > 59)
        return std::nullopt;
    const std::int64_t t = days_from_civil(year, *mo, *d) * 86400 + std::int64_t{*h} * 3600 +
                           std::int64_t{*mi} * 60 + *se;
    if (t < 0 || t > 0xffffffffLL) return std::nullopt;
    return static_cast<std::uint32_t>(t);
}

}  // namespace br::der
