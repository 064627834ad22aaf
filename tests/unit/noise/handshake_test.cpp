// SPDX-License-Identifier: MIT
// HandshakeState behaviour beyond the test vectors: round trips with fresh
// keys, and the failure cases (tampering, truncation, length limits, wrong or
// missing psk, low-order keys, messages out of turn, missing configuration).
#include <gtest/gtest.h>

#include <functional>
#include <iostream>

#include "core/noise/handshake_state.hpp"

namespace br::noise {
namespace {

const std::string_view kPrologue = "blueratchet/1 test";

struct Keys {
    X25519KeyPair init_s, init_e, resp_s, resp_e;
    Bytes psk;
};

Keys fixed_keys() {
    auto key = [](std::uint8_t b) { return X25519KeyPair::from_secret(Bytes(32, b)); };
    return {key(1), key(2), key(3), key(4), Bytes(32, 0x77)};
}

struct Parties {
    HandshakeState init;
    HandshakeState resp;
};

// Both sides of `pattern`; fixed ephemerals unless `fresh`.  The IKpsk2
// responder gets its psk up front unless `resp_psk` is false.
Parties make_parties(Pattern pattern, const Keys& k, bool fresh = false, bool resp_psk = true,
                     std::string_view resp_prologue = kPrologue) {
    Config ic;
    ic.pattern = pattern;
    ic.role = Role::Initiator;
    ic.prologue = as_bytes(kPrologue);
    ic.local_static = &k.init_s;
    ic.fixed_ephemeral = fresh ? nullptr : &k.init_e;
    if (pattern == Pattern::IKpsk2) ic.remote_static = k.resp_s.pub;
    Config rc;
    rc.pattern = pattern;
    rc.role = Role::Responder;
    rc.prologue = as_bytes(resp_prologue);
    rc.local_static = &k.resp_s;
    rc.fixed_ephemeral = fresh ? nullptr : &k.resp_e;
    Parties p{HandshakeState(ic), HandshakeState(rc)};
    if (pattern == Pattern::IKpsk2) {
        EXPECT_TRUE(p.init.set_psk(k.psk));
        if (resp_psk) {
            EXPECT_TRUE(p.resp.set_psk(k.psk));
        }
    }
    return p;
}

struct Outcome {
    bool completed = false;
    std::size_t failed_at = 0;  // index of the message whose write or read failed
    Error error = Error::Aborted;
};

// Runs the whole handshake; `tamper(i, msg)` may change message i in flight.
Outcome run(Parties& p, const std::function<void(std::size_t, Bytes&)>& tamper = {},
            ByteView payload = as_bytes("payload")) {
    for (std::size_t i = 0; !p.init.finished() || !p.resp.finished(); ++i) {
        HandshakeState& sender = i % 2 == 0 ? p.init : p.resp;
        HandshakeState& receiver = i % 2 == 0 ? p.resp : p.init;
        auto msg = sender.write_message(payload);
        if (!msg) return {false, i, msg.error()};
        if (tamper) tamper(i, *msg);
        auto pt = receiver.read_message(*msg);
        if (!pt) return {false, i, pt.error()};
        // With tampering, XX message 1's cleartext payload may arrive altered
        // (Noise gives it no authentication); otherwise it must be intact.
        if (!tamper) {
            EXPECT_EQ(to_hex(*pt), to_hex(payload));
        }
    }
    return {true, 0, Error::Aborted};
}

// The honest messages of a handshake with fixed keys (empty payloads).
std::vector<Bytes> honest_messages(Pattern pattern, ByteView payload = {}) {
    const Keys k = fixed_keys();
    Parties p = make_parties(pattern, k);
    std::vector<Bytes> out;
    run(
        p, [&](std::size_t, Bytes& m) { out.push_back(m); }, payload);
    return out;
}

class BothPatterns : public ::testing::TestWithParam<Pattern> {};

TEST_P(BothPatterns, RoundTripWithFreshEphemerals) {
    const Keys k = fixed_keys();
    Parties p = make_parties(GetParam(), k, /*fresh=*/true);
    EXPECT_TRUE(p.init.is_my_turn());
    EXPECT_FALSE(p.resp.is_my_turn());
    EXPECT_EQ(p.init.split().error(), Error::NotFinished);
    const Outcome o = run(p);
    ASSERT_TRUE(o.completed) << to_string(o.error);
    EXPECT_EQ(p.init.handshake_hash(), p.resp.handshake_hash());
    EXPECT_EQ(p.init.remote_static(), k.resp_s.pub);
    EXPECT_EQ(p.resp.remote_static(), k.init_s.pub);
    ASSERT_TRUE(p.init.remote_ephemeral() && p.resp.remote_ephemeral());
    EXPECT_NE(*p.init.remote_ephemeral(), k.resp_e.pub);  // fresh, not the fixed one

    EXPECT_EQ(p.init.write_message({}).error(), Error::Finished);
    EXPECT_EQ(p.resp.read_message(Bytes(100, 0)).error(), Error::Finished);

    auto is = p.init.split();
    auto rs = p.resp.split();
    ASSERT_TRUE(is && rs);
    EXPECT_EQ(p.init.split().error(), Error::MissingKey);  // ck is wiped
    auto c1 = is->first.encrypt_with_ad(as_bytes("ad"), as_bytes("to responder"));
    ASSERT_TRUE(c1);
    auto p1 = rs->first.decrypt_with_ad(as_bytes("ad"), *c1);
    ASSERT_TRUE(p1);
    EXPECT_EQ(std::string(p1->begin(), p1->end()), "to responder");
    auto c2 = rs->second.encrypt_with_ad({}, as_bytes("to initiator"));
    ASSERT_TRUE(c2);
    EXPECT_TRUE(is->second.decrypt_with_ad({}, *c2));
    // The two directions use different keys.
    EXPECT_FALSE(is->second.decrypt_with_ad({}, *c1));
}

// A flipped bit in any byte of any handshake message makes the handshake
// fail.  Messages with a key (all but XX message 1, whose e and payload are
// in the clear) fail when read; XX message 1 is bound into h and the DH, so
// the initiator's read of message 2 fails.
TEST_P(BothPatterns, EveryFlippedBitIsDetected) {
    const Keys k = fixed_keys();
    const auto honest = honest_messages(GetParam(), as_bytes("payload"));
    int cases = 0;
    for (std::size_t m = 0; m < honest.size(); ++m) {
        for (std::size_t j = 0; j < honest[m].size(); ++j) {
            Parties p = make_parties(GetParam(), k);
            const Outcome o = run(p, [&](std::size_t i, Bytes& msg) {
                if (i == m) msg[j] ^= static_cast<std::uint8_t>(1u << (j % 8));
            });
            ASSERT_FALSE(o.completed) << "message " << m << " byte " << j;
            const bool unauthenticated = GetParam() == Pattern::XX && m == 0;
            EXPECT_EQ(o.failed_at, unauthenticated ? 1 : m) << "message " << m << " byte " << j;
            EXPECT_TRUE(o.error == Error::DecryptFailed || o.error == Error::LowOrderPoint)
                << "message " << m << " byte " << j << ": " << to_string(o.error);
            // The failing side is aborted for good.
            HandshakeState& failed = o.failed_at % 2 == 0 ? p.resp : p.init;
            EXPECT_TRUE(failed.aborted());
            EXPECT_EQ(failed.read_message(honest[o.failed_at]).error(), Error::Aborted);
            ++cases;
        }
    }
    if (HasFailure()) return;
    std::cout << "Noise " << pattern_spec(GetParam()).protocol_name << ": " << cases
              << " single-bit flips across " << honest.size()
              << " handshake messages, all rejected\n";
}

// Every strict prefix of every handshake message (empty payloads, so the
// message is exactly its overhead) is Truncated, and leaves the reader able
// to read the real message.
TEST_P(BothPatterns, TruncatedMessagesAreRejectedWithoutSideEffects) {
    const Keys k = fixed_keys();
    const auto honest = honest_messages(GetParam());
    for (std::size_t m = 0; m < honest.size(); ++m) {
        Parties p = make_parties(GetParam(), k);
        for (std::size_t i = 0; i < m; ++i) {
            HandshakeState& sender = i % 2 == 0 ? p.init : p.resp;
            HandshakeState& receiver = i % 2 == 0 ? p.resp : p.init;
            ASSERT_TRUE(sender.write_message({}));
            ASSERT_TRUE(receiver.read_message(honest[i]));
        }
        HandshakeState& sender = m % 2 == 0 ? p.init : p.resp;
        HandshakeState& receiver = m % 2 == 0 ? p.resp : p.init;
        ASSERT_TRUE(sender.write_message({}));
        for (std::size_t len = 0; len < honest[m].size(); ++len) {
            auto r = receiver.read_message(ByteView(honest[m]).first(len));
            ASSERT_FALSE(r) << "message " << m << " length " << len;
            EXPECT_EQ(r.error(), Error::Truncated) << "message " << m << " length " << len;
        }
        EXPECT_TRUE(receiver.read_message(honest[m])) << "message " << m;
    }
}

// With a payload, cutting into the encrypted payload fails authentication.
TEST_P(BothPatterns, TruncatedPayloadFailsDecryption) {
    const Keys k = fixed_keys();
    const auto honest = honest_messages(GetParam(), as_bytes("a longer payload"));
    const std::size_t last = honest.size() - 1;  // always keyed
    Parties p = make_parties(GetParam(), k);
    run(p, [&](std::size_t i, Bytes& msg) {
        if (i == last) msg.pop_back();
    });
    EXPECT_TRUE(p.init.aborted() || p.resp.aborted());
}

TEST_P(BothPatterns, LengthLimits) {
    const Keys k = fixed_keys();
    Parties p = make_parties(GetParam(), k);
    const std::size_t overhead = honest_messages(GetParam())[0].size();
    const Bytes too_big(kMaxMessageLen - overhead + 1, 0xab);
    EXPECT_EQ(p.init.write_message(too_big).error(), Error::TooLong);
    EXPECT_EQ(p.resp.read_message(Bytes(kMaxMessageLen + 1, 0)).error(), Error::TooLong);
    // Neither check touched the state: the largest message fits exactly.
    auto msg = p.init.write_message(Bytes(kMaxMessageLen - overhead, 0xab));
    ASSERT_TRUE(msg);
    EXPECT_EQ(msg->size(), kMaxMessageLen);
    EXPECT_TRUE(p.resp.read_message(*msg));
}

TEST_P(BothPatterns, MessagesOutOfTurnAreRefused) {
    const Keys k = fixed_keys();
    Parties p = make_parties(GetParam(), k);
    const auto honest = honest_messages(GetParam());
    EXPECT_EQ(p.init.read_message(honest[1]).error(), Error::WrongTurn);
    EXPECT_EQ(p.resp.write_message({}).error(), Error::WrongTurn);
    // Refusals do not disturb the handshake.
    EXPECT_TRUE(run(p).completed);
}

TEST_P(BothPatterns, LowOrderEphemeralIsRejected) {
    const char* const kLowOrder[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",  // 0
        "0100000000000000000000000000000000000000000000000000000000000000",  // 1
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",  // order 8
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",  // order 8
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p - 1
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p (= 0)
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p + 1 (= 1)
    };
    const Keys k = fixed_keys();
    const auto honest = honest_messages(GetParam());
    for (const char* hex : kLowOrder) {
        Parties p = make_parties(GetParam(), k);
        ASSERT_TRUE(p.init.write_message({}));
        Bytes msg = honest[0];
        const Bytes bad = *from_hex(hex);
        std::copy(bad.begin(), bad.end(), msg.begin());  // e is the first token
        auto r = p.resp.read_message(msg);
        ASSERT_FALSE(r) << hex;
        EXPECT_EQ(r.error(), Error::LowOrderPoint) << hex;
        EXPECT_TRUE(p.resp.aborted());
    }
}

TEST_P(BothPatterns, DifferentProloguesFail) {
    const Keys k = fixed_keys();
    Parties p = make_parties(GetParam(), k, false, true, "another prologue");
    const Outcome o = run(p);
    ASSERT_FALSE(o.completed);
    EXPECT_EQ(o.error, Error::DecryptFailed);
}

TEST_P(BothPatterns, MissingLocalStatic) {
    Config c;
    c.pattern = GetParam();
    c.role = Role::Responder;
    HandshakeState hs(c);
    EXPECT_EQ(hs.read_message(Bytes(200, 0)).error(), Error::MissingKey);
}

INSTANTIATE_TEST_SUITE_P(Noise, BothPatterns, ::testing::Values(Pattern::XX, Pattern::IKpsk2),
                         [](const auto& info) {
                             return info.param == Pattern::XX ? std::string("XX")
                                                              : std::string("IKpsk2");
                         });

TEST(NoiseXX, ResponderStaticIsNotSentInTheClear) {
    const Keys k = fixed_keys();
    const auto honest = honest_messages(Pattern::XX);
    ASSERT_EQ(honest.size(), 3u);
    auto contains = [](const Bytes& hay, const X25519Public& needle) {
        return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
    };
    EXPECT_FALSE(contains(honest[1], k.resp_s.pub));
    EXPECT_FALSE(contains(honest[2], k.init_s.pub));
    EXPECT_EQ(honest[0].size(), 32u);            // e
    EXPECT_EQ(honest[1].size(), 32u + 48 + 16);  // e, encrypted s, tag
    EXPECT_EQ(honest[2].size(), 48u + 16);       // encrypted s, tag
}

TEST(NoiseIKpsk2, WrongPskFails) {
    Keys k = fixed_keys();
    Parties p = make_parties(Pattern::IKpsk2, k, false, /*resp_psk=*/false);
    ASSERT_TRUE(p.resp.set_psk(Bytes(32, 0x78)));
    const Outcome o = run(p);
    ASSERT_FALSE(o.completed);
    EXPECT_EQ(o.failed_at, 1u);
    EXPECT_EQ(o.error, Error::DecryptFailed);
}

// The responder learns which psk to use from message 1, so it may set it
// late; without it, writing message 2 is MissingKey and changes nothing.
TEST(NoiseIKpsk2, ResponderSetsPskAfterMessage1) {
    const Keys k = fixed_keys();
    Parties p = make_parties(Pattern::IKpsk2, k, false, /*resp_psk=*/false);
    auto m1 = p.init.write_message(as_bytes("offered epochs"));
    ASSERT_TRUE(m1);
    auto pl = p.resp.read_message(*m1);
    ASSERT_TRUE(pl);
    EXPECT_EQ(p.resp.remote_static(), k.init_s.pub);  // identity known before the psk
    EXPECT_EQ(p.resp.write_message({}).error(), Error::MissingKey);
    EXPECT_FALSE(p.resp.set_psk(Bytes(31, 1)));  // wrong length refused
    ASSERT_TRUE(p.resp.set_psk(k.psk));
    auto m2 = p.resp.write_message({});
    ASSERT_TRUE(m2);
    EXPECT_FALSE(p.resp.set_psk(k.psk));  // already used
    ASSERT_TRUE(p.init.read_message(*m2));
    EXPECT_TRUE(p.init.finished() && p.resp.finished());
    EXPECT_EQ(p.init.handshake_hash(), p.resp.handshake_hash());
}

TEST(NoiseIKpsk2, InitiatorWithoutPskCannotReadMessage2) {
    const Keys k = fixed_keys();
    Config ic;
    ic.pattern = Pattern::IKpsk2;
    ic.role = Role::Initiator;
    ic.local_static = &k.init_s;
    ic.remote_static = k.resp_s.pub;
    HandshakeState init(ic);
    Config rc;
    rc.pattern = Pattern::IKpsk2;
    rc.role = Role::Responder;
    rc.local_static = &k.resp_s;
    HandshakeState resp(rc);
    ASSERT_TRUE(resp.set_psk(k.psk));
    auto m1 = init.write_message({});
    ASSERT_TRUE(m1 && resp.read_message(*m1));
    auto m2 = resp.write_message({});
    ASSERT_TRUE(m2);
    EXPECT_EQ(init.read_message(*m2).error(), Error::MissingKey);
    ASSERT_TRUE(init.set_psk(k.psk));
    EXPECT_TRUE(init.read_message(*m2));
}

TEST(NoiseIKpsk2, InitiatorNeedsAValidRemoteStatic) {
    const Keys k = fixed_keys();
    Config c;
    c.pattern = Pattern::IKpsk2;
    c.role = Role::Initiator;
    c.local_static = &k.init_s;
    HandshakeState no_rs(c);
    EXPECT_EQ(no_rs.write_message({}).error(), Error::MissingKey);
    c.remote_static = X25519Public{};  // u = 0, low order
    HandshakeState low(c);
    EXPECT_EQ(low.write_message({}).error(), Error::LowOrderPoint);
}

TEST(NoiseErrors, EveryErrorHasAName) {
    for (Error e : {Error::WrongTurn, Error::Finished, Error::NotFinished, Error::Truncated,
                    Error::TooLong, Error::DecryptFailed, Error::LowOrderPoint, Error::MissingKey,
                    Error::NonceExhausted, Error::Aborted}) {
        EXPECT_NE(std::string(to_string(e)), "unknown noise error");
    }
}

}  // namespace
}  // namespace br::noise
