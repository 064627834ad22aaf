// SPDX-License-Identifier: MIT
// CipherState and SymmetricState details the vectors do not reach: nonce
// exhaustion, failed decryption not advancing the nonce, rekey, limits.
#include <gtest/gtest.h>

#include <limits>

#include "core/noise/cipher_state.hpp"
#include "core/noise/symmetric_state.hpp"

namespace br::noise {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

TEST(NoiseCipherState, WithoutKeyDataPassesThrough) {
    CipherState cs;
    EXPECT_FALSE(cs.has_key());
    auto ct = cs.encrypt_with_ad(as_bytes("ad"), as_bytes("plain"));
    ASSERT_TRUE(ct);
    EXPECT_EQ(std::string(ct->begin(), ct->end()), "plain");
    EXPECT_EQ(cs.nonce(), 0u);
    EXPECT_FALSE(CipherState(Bytes(16, 1)).has_key());  // a 16-byte key is no key
}

TEST(NoiseCipherState, NonceCountsAndExhausts) {
    const Bytes key(32, 9);
    CipherState a(key), b(key);
    auto c0 = a.encrypt_with_ad({}, as_bytes("x"));
    ASSERT_TRUE(c0);
    EXPECT_EQ(a.nonce(), 1u);
    // A tampered message fails and leaves the nonce where it was.
    Bytes bad = *c0;
    bad[0] ^= 1;
    EXPECT_EQ(b.decrypt_with_ad({}, bad).error(), Error::DecryptFailed);
    EXPECT_EQ(b.nonce(), 0u);
    EXPECT_TRUE(b.decrypt_with_ad({}, *c0));
    EXPECT_EQ(b.nonce(), 1u);
    EXPECT_EQ(b.decrypt_with_ad({}, Bytes(15, 0)).error(), Error::Truncated);

    a.set_nonce(kMax - 1);
    b.set_nonce(kMax - 1);
    auto last = a.encrypt_with_ad({}, as_bytes("last"));
    ASSERT_TRUE(last);
    EXPECT_TRUE(b.decrypt_with_ad({}, *last));
    EXPECT_EQ(a.encrypt_with_ad({}, as_bytes("one more")).error(), Error::NonceExhausted);
    EXPECT_EQ(b.decrypt_with_ad({}, *last).error(), Error::NonceExhausted);
}

TEST(NoiseCipherState, LengthLimit) {
    CipherState a(Bytes(32, 3));
    EXPECT_EQ(a.encrypt_with_ad({}, Bytes(kMaxMessageLen - 15, 0)).error(), Error::TooLong);
    auto ct = a.encrypt_with_ad({}, Bytes(kMaxMessageLen - 16, 0));
    ASSERT_TRUE(ct);
    EXPECT_EQ(ct->size(), kMaxMessageLen);
    EXPECT_EQ(a.decrypt_with_ad({}, Bytes(kMaxMessageLen + 1, 0)).error(), Error::TooLong);
}

TEST(NoiseCipherState, RekeyChangesTheKeyOnBothSides) {
    const Bytes key(32, 5);
    CipherState a(key), b(key), stale(key);
    ASSERT_TRUE(a.rekey());
    ASSERT_TRUE(b.rekey());
    auto ct = a.encrypt_with_ad({}, as_bytes("after rekey"));
    ASSERT_TRUE(ct);
    EXPECT_FALSE(stale.decrypt_with_ad({}, *ct));
    EXPECT_TRUE(b.decrypt_with_ad({}, *ct));
    CipherState none;
    EXPECT_EQ(none.rekey().error(), Error::MissingKey);
}

TEST(NoiseSymmetricState, ProtocolNameUpTo32BytesIsPaddedLongerIsHashed) {
    SymmetricState xx("Noise_XX_25519_ChaChaPoly_SHA256");  // exactly 32 bytes
    EXPECT_EQ(to_hex(xx.handshake_hash()), to_hex(as_bytes("Noise_XX_25519_ChaChaPoly_SHA256")));
    SymmetricState ik("Noise_IKpsk2_25519_ChaChaPoly_SHA256");
    EXPECT_EQ(ik.handshake_hash(), sha256(as_bytes("Noise_IKpsk2_25519_ChaChaPoly_SHA256")));
}

// Noise's HKDF with empty info is RFC 5869's HKDF with the chaining key as salt.
TEST(NoiseSymmetricState, HkdfMatchesRfc5869Form) {
    const Bytes ck(32, 0x11), ikm(40, 0x22);
    auto [o1, o2] = noise_hkdf2(ck, ikm);
    auto rfc = hkdf(ck, ikm, {}, 64);
    ASSERT_TRUE(rfc);
    EXPECT_EQ(to_hex(o1.view()) + to_hex(o2.view()), to_hex(*rfc));
    auto three = noise_hkdf3(ck, ikm);
    auto rfc96 = hkdf(ck, ikm, {}, 96);
    EXPECT_EQ(to_hex(three.out1.view()) + to_hex(three.out2.view()) + to_hex(three.out3.view()),
              to_hex(*rfc96));
}

}  // namespace
}  // namespace br::noise
