// SPDX-License-Identifier: MIT
// Every case of Wycheproof's chacha20_poly1305_test.json through
// br::aead_encrypt / br::aead_decrypt.  The file also has groups with nonces
// of other sizes (0 to 520 bits); our API takes the nonce as a sized view and
// must refuse those (nullopt from both functions) rather than assert.
#include <gtest/gtest.h>

#include <iostream>

#include "core/crypto/aead.hpp"
#include "vectors.hpp"

namespace br {
namespace {

TEST(WycheproofChaCha20Poly1305, AllCases) {
    const auto doc = test::load_vectors("wycheproof/chacha20_poly1305_test.json");
    int valid = 0, acceptable = 0, invalid = 0, total = 0, bad_size = 0;
    for (const auto& group : doc["testGroups"]) {
        for (const auto& tc : group["tests"]) {
            ++total;
            const std::string result = tc["result"];
            const Bytes key = test::hex_bytes(tc["key"]);
            const Bytes iv = test::hex_bytes(tc["iv"]);
            const Bytes aad = test::hex_bytes(tc["aad"]);
            const Bytes msg = test::hex_bytes(tc["msg"]);
            Bytes ct_tag = test::hex_bytes(tc["ct"]);
            append(ct_tag, test::hex_bytes(tc["tag"]));

            auto enc = aead_encrypt(key, iv, aad, msg);
            auto dec = aead_decrypt(key, iv, aad, ct_tag);
            if (result == "valid") {
                ++valid;
                ASSERT_TRUE(enc.has_value()) << test::case_name(tc);
                EXPECT_EQ(to_hex(*enc), to_hex(ct_tag)) << test::case_name(tc);
                ASSERT_TRUE(dec.has_value()) << test::case_name(tc);
                EXPECT_EQ(to_hex(*dec), to_hex(msg)) << test::case_name(tc);
            } else if (result == "acceptable") {
                ++acceptable;
            } else {
                ++invalid;
                EXPECT_FALSE(dec.has_value()) << test::case_name(tc);
                if (iv.size() != kAeadNonceLen || key.size() != kAeadKeyLen) {
                    ++bad_size;
                    EXPECT_FALSE(enc.has_value()) << test::case_name(tc);
                }
            }
        }
    }
    EXPECT_EQ(total, doc["numberOfTests"].get<int>());
    if (!HasFailure()) {
        std::cout << "Wycheproof ChaCha20-Poly1305: " << total << " cases (valid " << valid
                  << ", acceptable " << acceptable << ", invalid " << invalid
                  << "), all as expected; " << bad_size
                  << " invalid cases with a wrong nonce/key size refused by both calls\n";
    }
}

TEST(Aead, NoiseNonceIsZeroPrefixedLittleEndianCounter) {
    EXPECT_EQ(to_hex(noise_chachapoly_nonce(0)), "000000000000000000000000");
    EXPECT_EQ(to_hex(noise_chachapoly_nonce(1)), "000000000100000000000000");
    EXPECT_EQ(to_hex(noise_chachapoly_nonce(0x0102030405060708ULL)), "000000000807060504030201");
    EXPECT_EQ(to_hex(noise_chachapoly_nonce(~0ULL)), "00000000ffffffffffffffff");
}

TEST(Aead, ShortCiphertextAndWrongKeySizeFail) {
    const Bytes key(32, 7);
    const auto nonce = noise_chachapoly_nonce(3);
    EXPECT_FALSE(aead_decrypt(key, nonce, {}, Bytes(15, 0)).has_value());
    EXPECT_FALSE(aead_encrypt(Bytes(16, 7), nonce, {}, {}).has_value());
    auto ct = aead_encrypt(key, nonce, as_bytes("ad"), {});
    ASSERT_TRUE(ct);
    EXPECT_EQ(ct->size(), kAeadTagLen);
    auto pt = aead_decrypt(key, nonce, as_bytes("ad"), *ct);
    ASSERT_TRUE(pt);
    EXPECT_TRUE(pt->empty());
    EXPECT_FALSE(aead_decrypt(key, nonce, as_bytes("AD"), *ct).has_value());
}

}  // namespace
}  // namespace br
