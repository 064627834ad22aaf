// SPDX-License-Identifier: MIT
// Ed25519 key blinding against Tor's vectors, and sign_expanded against
// libsodium's own signer.
#include "core/crypto/blinding.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "../crypto/vectors.hpp"

namespace br {
namespace {

using test::vectors_dir;

nlohmann::json load_tor_vectors() {
    std::ifstream in(vectors_dir() + "/tor/ed25519-blinding.json");
    if (!in) return {};
    return nlohmann::json::parse(in);
}

Bytes hex(const nlohmann::json& v) {
    auto b = from_hex(v.get<std::string>());
    if (!b) throw std::runtime_error("bad hex in vector");
    return *b;
}

TEST(TorBlinding, AllVectors) {
    const auto doc = load_tor_vectors();
    ASSERT_TRUE(doc.contains("vectors")) << "cannot read " << vectors_dir();
    const auto& vs = doc["vectors"];
    ASSERT_EQ(vs.size(), 8u);
    std::size_t expanded_ok = 0, pub_ok = 0, bpub_ok = 0, bsec_ok = 0, selfsig_ok = 0, bsig_ok = 0;
    for (std::size_t i = 0; i < vs.size(); ++i) {
        SCOPED_TRACE("vector " + std::to_string(i));
        const auto& v = vs[i];
        const Bytes seed = hex(v["secret_key_seed"]);
        const Bytes pub = hex(v["public_key"]);
        const Bytes param = hex(v["blinding_param"]);

        const auto kp = Ed25519KeyPair::from_seed(seed);
        EXPECT_EQ(to_hex(kp.public_key()), to_hex(pub));
        pub_ok += to_hex(kp.public_key()) == to_hex(pub);

        const SecretBytes expanded = ed25519_expand_seed(seed);
        EXPECT_EQ(to_hex(expanded.view()), v["expanded_secret_key"].get<std::string>());
        expanded_ok += to_hex(expanded.view()) == v["expanded_secret_key"].get<std::string>();

        const auto bpub = blind_public(pub, param);
        ASSERT_TRUE(bpub.has_value());
        EXPECT_EQ(to_hex(*bpub), v["blinded_public_key"].get<std::string>());
        bpub_ok += to_hex(*bpub) == v["blinded_public_key"].get<std::string>();

        const BlindedKey bk = blind_secret(kp, param);
        EXPECT_EQ(to_hex(bk.expanded.view()), v["blinded_expanded_secret_key"].get<std::string>());
        EXPECT_EQ(bk.pub, *bpub);
        bsec_ok +=
            to_hex(bk.expanded.view()) == v["blinded_expanded_secret_key"].get<std::string>() &&
            bk.pub == *bpub;

        // self_signature: standard Ed25519 by the seed over the public key,
        // made both by libsodium and by sign_expanded over the expansion.
        const std::string want_sig = v["self_signature"].get<std::string>();
        EXPECT_EQ(to_hex(kp.sign(pub)), want_sig);
        EXPECT_EQ(to_hex(sign_expanded(expanded.view(), pub, pub)), want_sig);
        selfsig_ok += to_hex(sign_expanded(expanded.view(), pub, pub)) == want_sig;

        // A signature by the blinded key verifies under the blinded public key.
        const auto bsig = sign_expanded(bk.expanded.view(), bk.pub, pub);
        EXPECT_TRUE(ed25519_verify(bk.pub, pub, bsig));
        EXPECT_FALSE(ed25519_verify(pub, pub, bsig));
        bsig_ok += ed25519_verify(bk.pub, pub, bsig);
    }
    std::printf(
        "Tor blinding: %zu vectors, %zu expanded secret keys, %zu public keys, %zu blinded public "
        "keys, %zu blinded secret keys and %zu self-signatures reproduced; %zu blinded signatures "
        "verified\n",
        vs.size(), expanded_ok, pub_ok, bpub_ok, bsec_ok, selfsig_ok, bsig_ok);
    EXPECT_EQ(bpub_ok, 8u);
    EXPECT_EQ(bsec_ok, 8u);
}

// For an unblinded key, sign_expanded is crypto_sign_detached, byte for byte.
TEST(TorBlinding, SignExpandedEqualsLibsodiumOnRandomKeys) {
    constexpr int kKeys = 200;
    int same = 0;
    for (int i = 0; i < kKeys; ++i) {
        const auto kp = Ed25519KeyPair::generate();
        const SecretBytes expanded = ed25519_expand_seed(kp.seed());
        Bytes msg(static_cast<std::size_t>(i * 7 % 301));
        random_bytes(msg);
        const auto want = kp.sign(msg);
        const auto got = sign_expanded(expanded.view(), kp.public_key(), msg);
        EXPECT_EQ(to_hex(got), to_hex(want)) << "key " << i;
        same += got == want;

        // And the blinded key's signature verifies with standard Ed25519.
        ByteArray<32> param{};
        random_bytes(param);
        const BlindedKey bk = blind_secret(kp, param);
        const auto bpub = blind_public(kp.public_key(), param);
        ASSERT_TRUE(bpub);
        EXPECT_EQ(bk.pub, *bpub);
        const auto bsig = sign_expanded(bk.expanded.view(), bk.pub, msg);
        EXPECT_EQ(crypto_sign_verify_detached(bsig.data(), msg.data(), msg.size(), bk.pub.data()),
                  0);
    }
    std::printf("Tor blinding: sign_expanded matched crypto_sign_detached on %d/%d random keys\n",
                same, kKeys);
}

TEST(TorBlinding, ScalarIsClampedAndDeterministic) {
    ByteArray<32> param{};
    param[0] = 7;
    const auto t = blinding_scalar(param);
    EXPECT_EQ(t[0] & 7, 0);
    EXPECT_EQ(t[31] & 0xc0, 0x40);
    EXPECT_EQ(t, blinding_scalar(param));
    EXPECT_THROW(blinding_scalar(ByteView(param).first(31)), std::invalid_argument);
}

TEST(TorBlinding, RejectsInvalidAndSmallOrderPublicKeys) {
    ByteArray<32> param{};
    // The identity (small order), a point of order 8, and a non-canonical /
    // off-curve encoding.
    auto identity = *from_hex("0100000000000000000000000000000000000000000000000000000000000000");
    auto order8 = *from_hex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a");
    auto bad = *from_hex("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    EXPECT_FALSE(blind_public(identity, param));
    EXPECT_FALSE(blind_public(order8, param));
    EXPECT_FALSE(blind_public(bad, param));
    // A valid key plus a small-order component (mixed order) is rejected too.
    const auto kp = Ed25519KeyPair::generate();
    ByteArray<32> mixed{};
    ASSERT_EQ(crypto_core_ed25519_add(mixed.data(), kp.public_key().data(), order8.data()), 0);
    EXPECT_FALSE(blind_public(mixed, param));
    EXPECT_TRUE(blind_public(kp.public_key(), param));
    EXPECT_FALSE(blind_public(ByteView(kp.public_key()).first(31), param));
}

TEST(TorBlinding, SignExpandedRefusesMismatchedPublicKey) {
    const auto kp = Ed25519KeyPair::generate();
    const auto other = Ed25519KeyPair::generate();
    const SecretBytes expanded = ed25519_expand_seed(kp.seed());
    EXPECT_THROW(sign_expanded(expanded.view(), other.public_key(), as_bytes("m")),
                 std::invalid_argument);
}

}  // namespace
}  // namespace br
