// SPDX-License-Identifier: MIT
// The cacophony test vectors (tests/vectors/noise/cacophony-25519-chachapoly.json)
// for every protocol we implement: Noise_XX_25519_ChaChaPoly_SHA256 and
// Noise_IKpsk2_25519_ChaChaPoly_SHA256.
//
// Both sides are built from the vector's prologue, statics, fixed ephemerals
// and psks.  Messages alternate direction starting with the initiator (the
// test-vector convention for two-way patterns), through the handshake and
// then in transport mode with the Split() ciphers.  Every ciphertext must
// match byte for byte, the reader must recover every payload, and both sides
// must end with the vector's handshake hash.
#include <gtest/gtest.h>

#include <iostream>

#include "../crypto/vectors.hpp"
#include "core/noise/handshake_state.hpp"

namespace br::noise {
namespace {

struct Totals {
    int vectors = 0;
    int handshake_messages = 0;
    int transport_messages = 0;
};

std::optional<X25519KeyPair> key_field(const nlohmann::json& v, const char* name) {
    if (!v.contains(name)) return std::nullopt;
    return X25519KeyPair::from_secret(test::hex_bytes(v[name]));
}

void run_vector(const nlohmann::json& v, Totals& totals) {
    const std::string name = v["protocol_name"];
    SCOPED_TRACE(name);
    const auto pattern = pattern_from_protocol_name(name);
    ASSERT_TRUE(pattern.has_value());

    const Bytes init_prologue = test::hex_bytes(v["init_prologue"]);
    const Bytes resp_prologue = test::hex_bytes(v["resp_prologue"]);
    const auto init_s = key_field(v, "init_static");
    const auto init_e = key_field(v, "init_ephemeral");
    const auto resp_s = key_field(v, "resp_static");
    const auto resp_e = key_field(v, "resp_ephemeral");

    Config ic;
    ic.pattern = *pattern;
    ic.role = Role::Initiator;
    ic.prologue = init_prologue;
    ic.local_static = init_s ? &*init_s : nullptr;
    ic.fixed_ephemeral = init_e ? &*init_e : nullptr;
    if (v.contains("init_remote_static")) {
        X25519Public rs{};
        const Bytes b = test::hex_bytes(v["init_remote_static"]);
        ASSERT_EQ(b.size(), rs.size());
        std::copy(b.begin(), b.end(), rs.begin());
        ic.remote_static = rs;
    }
    Config rc;
    rc.pattern = *pattern;
    rc.role = Role::Responder;
    rc.prologue = resp_prologue;
    rc.local_static = resp_s ? &*resp_s : nullptr;
    rc.fixed_ephemeral = resp_e ? &*resp_e : nullptr;
    ASSERT_FALSE(v.contains("resp_remote_static")) << "no implemented pattern pre-shares s_i";

    HandshakeState init(ic);
    HandshakeState resp(rc);
    // Our patterns have at most one psk token.
    for (const auto& [hs, field] : {std::pair{&init, "init_psks"}, std::pair{&resp, "resp_psks"}}) {
        if (v.contains(field)) {
            ASSERT_LE(v[field].size(), 1u);
            for (const auto& psk : v[field]) ASSERT_TRUE(hs->set_psk(test::hex_bytes(psk)));
        }
    }

    std::optional<std::pair<CipherState, CipherState>> ik, rk;
    std::size_t i = 0;
    for (const auto& m : v["messages"]) {
        SCOPED_TRACE("message " + std::to_string(i));
        const Bytes payload = test::hex_bytes(m["payload"]);
        const Bytes expected = test::hex_bytes(m["ciphertext"]);
        const bool from_initiator = i % 2 == 0;
        HandshakeState& sender = from_initiator ? init : resp;
        HandshakeState& receiver = from_initiator ? resp : init;
        if (!sender.finished()) {
            ASSERT_FALSE(receiver.finished());
            ASSERT_TRUE(sender.is_my_turn());
            auto ct = sender.write_message(payload);
            ASSERT_TRUE(ct) << to_string(ct.error());
            EXPECT_EQ(to_hex(*ct), to_hex(expected));
            auto pt = receiver.read_message(*ct);
            ASSERT_TRUE(pt) << to_string(pt.error());
            EXPECT_EQ(to_hex(*pt), to_hex(payload));
            ++totals.handshake_messages;
            if (init.finished()) {
                ASSERT_TRUE(resp.finished());
                EXPECT_EQ(to_hex(init.handshake_hash()), v["handshake_hash"].get<std::string>());
                EXPECT_EQ(to_hex(resp.handshake_hash()), v["handshake_hash"].get<std::string>());
                auto isplit = init.split();
                auto rsplit = resp.split();
                ASSERT_TRUE(isplit && rsplit);
                ik.emplace(std::move(*isplit));
                rk.emplace(std::move(*rsplit));
            }
        } else {
            ASSERT_TRUE(ik && rk);
            // (initiator->responder, responder->initiator)
            CipherState& enc = from_initiator ? ik->first : rk->second;
            CipherState& dec = from_initiator ? rk->first : ik->second;
            auto ct = enc.encrypt_with_ad({}, payload);
            ASSERT_TRUE(ct) << to_string(ct.error());
            EXPECT_EQ(to_hex(*ct), to_hex(expected));
            auto pt = dec.decrypt_with_ad({}, *ct);
            ASSERT_TRUE(pt) << to_string(pt.error());
            EXPECT_EQ(to_hex(*pt), to_hex(payload));
            ++totals.transport_messages;
        }
        ++i;
    }
    EXPECT_TRUE(init.finished() && resp.finished());
    ++totals.vectors;
}

Totals run_protocol(const std::string& protocol_name) {
    const auto doc = test::load_vectors("noise/cacophony-25519-chachapoly.json");
    Totals totals;
    for (const auto& v : doc["vectors"]) {
        if (v["protocol_name"] == protocol_name) run_vector(v, totals);
    }
    return totals;
}

void report(const std::string& protocol_name, const Totals& t) {
    std::cout << "Cacophony " << protocol_name << ": " << t.vectors << " vector(s), "
              << t.handshake_messages << " handshake + " << t.transport_messages
              << " transport messages, all ciphertexts, payloads and handshake hashes match\n";
}

TEST(Cacophony, XX) {
    const std::string name = "Noise_XX_25519_ChaChaPoly_SHA256";
    const Totals t = run_protocol(name);
    EXPECT_GE(t.vectors, 1);
    if (!HasFailure()) report(name, t);
}

TEST(Cacophony, IKpsk2) {
    const std::string name = "Noise_IKpsk2_25519_ChaChaPoly_SHA256";
    const Totals t = run_protocol(name);
    EXPECT_GE(t.vectors, 1);
    if (!HasFailure()) report(name, t);
}

// Every vector in the file whose protocol we claim to implement is run: a
// protocol we implement must not be skipped by a name mismatch.
TEST(Cacophony, EveryImplementedProtocolIsCovered) {
    const auto doc = test::load_vectors("noise/cacophony-25519-chachapoly.json");
    int implemented = 0;
    for (const auto& v : doc["vectors"]) {
        if (pattern_from_protocol_name(v["protocol_name"].get<std::string>())) ++implemented;
    }
    EXPECT_EQ(implemented, 2);
    std::cout << "Cacophony: " << doc["vectors"].size() << " vectors in the file, " << implemented
              << " for the protocols implemented here\n";
}

}  // namespace
}  // namespace br::noise
