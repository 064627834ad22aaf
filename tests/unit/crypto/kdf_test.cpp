// SPDX-License-Identifier: MIT
#include "core/crypto/kdf.hpp"

#include <gtest/gtest.h>

namespace br {
namespace {

// RFC 5869 Appendix A.1 (the Wycheproof suite covers the rest).
TEST(Hkdf, Rfc5869Case1) {
    auto ikm = *from_hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
    auto salt = *from_hex("000102030405060708090a0b0c");
    auto info = *from_hex("f0f1f2f3f4f5f6f7f8f9");
    auto okm = hkdf(salt, ikm, info, 42);
    ASSERT_TRUE(okm);
    EXPECT_EQ(
        to_hex(*okm),
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(Derive, LabelsSeparateOutputs) {
    ByteArray<32> key{};
    key[0] = 1;
    ByteArray<32> a{}, b{};
    derive(key, "one", {}, a);
    derive(key, "two", {}, b);
    EXPECT_NE(a, b);
}

TEST(SecretBytes, WipeEmptiesAndMoveTransfers) {
    SecretBytes s(ByteView(as_bytes("secret")));
    SecretBytes t = std::move(s);
    EXPECT_TRUE(s.empty());
    EXPECT_EQ(t.size(), 6u);
    t.wipe();
    EXPECT_TRUE(t.empty());
}

}  // namespace
}  // namespace br
