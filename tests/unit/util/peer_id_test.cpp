// SPDX-License-Identifier: MIT
// PeerId: both spellings round-trip, and every other string is refused.
#include "core/util/peer_id.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

namespace br {
namespace {

PeerId sample() {
    PeerId::Bytes32 b{};
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i * 37 + 5);
    return PeerId(b);
}

TEST(PeerId, BothFormsRoundTrip) {
    const PeerId id = sample();
    const std::string b64 = id.base64url();
    const std::string hex = id.hex();
    EXPECT_EQ(b64.size(), PeerId::kBase64urlLen);
    EXPECT_EQ(hex.size(), PeerId::kHexLen);
    EXPECT_EQ(PeerId::parse(b64), id);
    EXPECT_EQ(PeerId::parse(hex), id);
    std::string upper = hex;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(PeerId::parse(upper), id);
}

// The codec is ours (no libsodium, so blueratchetctl shares it): check it
// against libsodium's base64url on many random ids.
TEST(PeerId, Base64urlAgreesWithLibsodium) {
    ASSERT_GE(sodium_init(), 0);
    for (int n = 0; n < 1000; ++n) {
        PeerId::Bytes32 b{};
        randombytes_buf(b.data(), b.size());
        char ref[64];
        sodium_bin2base64(ref, sizeof ref, b.data(), b.size(),
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        EXPECT_EQ(PeerId(b).base64url(), ref);
        EXPECT_EQ(PeerId::parse(ref), PeerId(b));
    }
}

TEST(PeerId, RefusesEverythingElse) {
    const std::string b64 = sample().base64url();
    const std::string hex = sample().hex();
    EXPECT_FALSE(PeerId::parse(""));
    EXPECT_FALSE(PeerId::parse(b64.substr(1)));
    EXPECT_FALSE(PeerId::parse(b64 + "A"));
    EXPECT_FALSE(PeerId::parse(hex.substr(2)));
    EXPECT_FALSE(PeerId::parse(std::string(43, '=')));
    EXPECT_FALSE(PeerId::parse(std::string(64, 'g')));
    std::string plus = b64;
    plus[3] = '+';  // standard base64, not base64url
    EXPECT_FALSE(PeerId::parse(plus));
    // The last character carries 4 bits of data and 2 unused ones: a set
    // unused bit is another spelling of the same id, refused.
    std::string loose = b64;
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const auto last = std::string_view(alphabet).find(loose.back());
    loose.back() = alphabet[last | 1];
    EXPECT_FALSE(PeerId::parse(loose));
}

TEST(PeerId, OrdersByBytes) {
    PeerId::Bytes32 lo{}, hi{};
    hi[0] = 1;
    EXPECT_LT(PeerId(lo), PeerId(hi));
    EXPECT_EQ(PeerId(lo), PeerId(lo));
}

}  // namespace
}  // namespace br
