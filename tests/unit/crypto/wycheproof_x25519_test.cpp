// SPDX-License-Identifier: MIT
// Every case of Wycheproof's x25519_test.json through br::x25519.
//
// Wycheproof marks 254 cases "acceptable": public keys on the twist, non-
// canonical encodings and small-order points.  RFC 7748 X25519 handles twist
// points and non-canonical encodings like any other input, and so do we: the
// shared secret must match.  The one behaviour we choose differently from the
// RFC is the all-zero output (the cases flagged ZeroSharedSecret, which are
// the small-order public keys): libsodium, and so x25519(), refuses those.
// The test asserts exactly that split: nullopt if and only if the expected
// shared secret is all-zero, the exact shared secret otherwise.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>

#include "core/crypto/x25519.hpp"
#include "vectors.hpp"

namespace br {
namespace {

bool all_zero(const Bytes& b) {
    return std::all_of(b.begin(), b.end(), [](std::uint8_t x) { return x == 0; });
}

TEST(WycheproofX25519, AllCases) {
    const auto doc = test::load_vectors("wycheproof/x25519_test.json");
    int valid = 0, acceptable = 0, invalid = 0, zero_rejected = 0, total = 0;
    for (const auto& group : doc["testGroups"]) {
        ASSERT_EQ(group["curve"], "curve25519");
        for (const auto& tc : group["tests"]) {
            ++total;
            const std::string result = tc["result"];
            const Bytes priv = test::hex_bytes(tc["private"]);
            const Bytes pub = test::hex_bytes(tc["public"]);
            const Bytes shared = test::hex_bytes(tc["shared"]);
            auto got = x25519(priv, pub);
            if (result == "valid") {
                ++valid;
                ASSERT_TRUE(got.has_value()) << test::case_name(tc);
                EXPECT_EQ(to_hex(got->view()), to_hex(shared)) << test::case_name(tc);
            } else if (result == "acceptable") {
                ++acceptable;
                if (all_zero(shared)) {
                    ++zero_rejected;
                    EXPECT_TRUE(test::has_flag(tc, "ZeroSharedSecret")) << test::case_name(tc);
                    EXPECT_FALSE(got.has_value())
                        << "zero shared secret accepted, " << test::case_name(tc);
                    EXPECT_TRUE(x25519_is_low_order(pub)) << test::case_name(tc);
                } else {
                    ASSERT_TRUE(got.has_value()) << test::case_name(tc);
                    EXPECT_EQ(to_hex(got->view()), to_hex(shared)) << test::case_name(tc);
                    EXPECT_FALSE(x25519_is_low_order(pub)) << test::case_name(tc);
                }
            } else {
                // The file has no invalid cases today; if one appears it must be refused.
                ++invalid;
                EXPECT_FALSE(got.has_value() && to_hex(got->view()) == to_hex(shared))
                    << test::case_name(tc);
            }
        }
    }
    EXPECT_EQ(total, doc["numberOfTests"].get<int>());
    if (!HasFailure()) {
        std::cout << "Wycheproof X25519: " << total << " cases (valid " << valid << ", acceptable "
                  << acceptable << ", invalid " << invalid << "), all as expected; "
                  << zero_rejected << " acceptable cases with an all-zero shared secret rejected\n";
    }
}

TEST(X25519, WrongLengthsAreRejected) {
    const auto kp = X25519KeyPair::generate();
    const Bytes short_key(31, 9);
    EXPECT_FALSE(x25519(short_key, kp.pub).has_value());
    EXPECT_FALSE(x25519(kp.secret.view(), short_key).has_value());
    EXPECT_THROW(X25519KeyPair::from_secret(short_key), std::invalid_argument);
}

TEST(X25519, KeyPairsAgree) {
    const auto a = X25519KeyPair::generate();
    const auto b = X25519KeyPair::generate();
    auto ab = x25519(a.secret.view(), b.pub);
    auto ba = x25519(b.secret.view(), a.pub);
    ASSERT_TRUE(ab && ba);
    EXPECT_TRUE(ct_equal(ab->view(), ba->view()));
    const auto a2 = a.clone();
    EXPECT_EQ(a2.pub, a.pub);
}

// RFC 7748 section 6.1: Alice's and Bob's key pairs and their shared secret.
TEST(X25519, Rfc7748Section6_1) {
    auto alice = X25519KeyPair::from_secret(
        *from_hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
    auto bob = X25519KeyPair::from_secret(
        *from_hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
    EXPECT_EQ(to_hex(alice.pub),
              "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    EXPECT_EQ(to_hex(bob.pub), "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    auto k = x25519(alice.secret.view(), bob.pub);
    ASSERT_TRUE(k);
    EXPECT_EQ(to_hex(k->view()),
              "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
}

}  // namespace
}  // namespace br
