// SPDX-License-Identifier: MIT
// A responder of a test's own making, from the bare Noise layer and the
// certificate code: valid Noise XX, valid framing, valid certificates, but
// free to send what a protocol-following responder would not -- another
// nonce than it committed to, another certificate fingerprint.  What a
// man-in-the-middle or a buggy peer would do.
#pragma once

#include <optional>

#include <gtest/gtest.h>

#include "core/cert/session.hpp"
#include "core/handshake/engine.hpp"
#include "core/handshake/pairing_code.hpp"
#include "core/noise/handshake_state.hpp"
#include "core/ratchet/holdings.hpp"

namespace br::test {

struct FreeResponder {
    Ed25519KeyPair identity = Ed25519KeyPair::generate();
    X25519KeyPair noise_static = X25519KeyPair::from_secret(identity.x25519_secret().view());
    noise::HandshakeState hs{noise::Config{noise::Pattern::XX, Role::Responder,
                                           as_bytes("blueratchet/1.1 pair"), &noise_static,
                                           std::nullopt, nullptr}};
    std::optional<noise::CipherState> send, recv;
    std::optional<SecretBytes> seed;  // seed_1, as the engines derive it
    Hash h{};
    handshake::PairNonce nonce_a{};
    handshake::DeviceId initiator{};
    // The identity PAIR_2 presents, if not our own key as it is.
    std::optional<handshake::DeviceId> presented_id;

    FreeResponder() = default;
    explicit FreeResponder(const Ed25519KeyPair& key)
        : identity(Ed25519KeyPair::from_seed(key.seed())) {}

    Bytes pair2(ByteView pair1, const handshake::PairNonce& committed) {
        auto m = handshake::decode(pair1);
        auto version = hs.read_message(m->body);
        EXPECT_TRUE(version && version->size() == 1 && (*version)[0] == handshake::kMinorVersion);
        const handshake::DeviceId id = presented_id.value_or(identity.public_key());
        Bytes payload(id.begin(), id.end());
        append(payload, handshake::pair_commitment(committed));
        return handshake::encode(
            handshake::Message{handshake::MessageType::Pair2, 0, *hs.write_message(payload)});
    }
    void pair3(ByteView wire) {
        auto payload = hs.read_message(handshake::decode(wire)->body);
        ASSERT_TRUE(payload);
        ASSERT_EQ(payload->size(), 64u);
        std::copy(payload->begin(), payload->begin() + 32, initiator.begin());
        std::copy(payload->begin() + 32, payload->end(), nonce_a.begin());
        h = hs.handshake_hash();
        auto split = hs.split_with_secret();
        ASSERT_TRUE(split);
        send.emplace(std::move(split->second));
        recv.emplace(std::move(split->first));
        seed = ratchet::first_seed(
            split->secret, h, cert::ids_for(Role::Responder, identity.public_key(), initiator));
    }
    Bytes reveal(const handshake::PairNonce& n) {
        return handshake::encode(
            handshake::Message{handshake::MessageType::Reveal, 0, *send->encrypt_with_ad({}, n)});
    }
    // Reads the initiator's CERT_A (transport nonce 0) and ACCEPT; true if
    // `wire` is an ACCEPT that decrypts.
    void cert_a(ByteView wire) {
        auto m = handshake::decode(wire);
        ASSERT_TRUE(m && m->type == handshake::MessageType::Cert);
        ASSERT_TRUE(recv->decrypt_with_ad({}, m->body));
    }
    bool accept(ByteView wire) {
        auto m = handshake::decode(wire);
        return m && m->type == handshake::MessageType::Accept &&
               recv->decrypt_with_ad({}, m->body).has_value();
    }
    // CERT_B with a genuine certificate for epoch 1, followed by `fingerprint`
    // or, if none is given, the one the protocol prescribes.
    Bytes certificate(std::uint32_t now, std::optional<Hash> fingerprint = std::nullopt) {
        auto own = cert::SessionCert::mint(identity, initiator, Role::Responder, *seed, 1, h,
                                           now - 60, 3600);
        EXPECT_TRUE(own);
        Bytes plain = *own->compact();
        append(plain, fingerprint.value_or(handshake::certificate_fingerprint(
                          h, initiator, *own->session_public_key())));
        return handshake::encode(
            handshake::Message{handshake::MessageType::Cert, 0, *send->encrypt_with_ad({}, plain)});
    }
};

}  // namespace br::test
