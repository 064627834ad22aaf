// SPDX-License-Identifier: MIT
// The first pairing's short code: commitment, reveal, and what a responder
// that does not follow the protocol can and cannot do with it
// (docs/PROTOCOL.md 4.1, docs/SECURITY.md 5.2).
#include <gtest/gtest.h>

#include <set>

#include "core/handshake/pairing_code.hpp"
#include "free_responder.hpp"
#include "pair_test_util.hpp"

namespace br::test {
namespace {

using handshake::Error;
using handshake::MessageType;

Bytes only(const handshake::Step& s) {
    EXPECT_FALSE(s.failure) << s.failure->describe();
    EXPECT_EQ(s.send.size(), 1u);
    return s.send.empty() ? Bytes{} : s.send.front();
}

TEST(PairingCode, BothSidesShowTheSameCodeBeforeApproval) {
    Device a, b;
    handshake::Initiator ini(a.identity, std::nullopt, a.book, a.replay, {}, kNow);
    handshake::Responder res(b.identity, b.book, b.replay, {}, kNow);
    Bytes pair1 = only(ini.start());
    Bytes pair2 = only(res.receive(pair1));
    auto flight3 = ini.receive(pair2);
    ASSERT_EQ(flight3.send.size(), 2u);       // PAIR_3, CERT_A
    EXPECT_EQ(ini.pending_short_code(), "");  // nothing to show before REVEAL
    EXPECT_FALSE(res.receive(flight3.send[0]).failure);
    EXPECT_EQ(res.pending_short_code(), "");
    auto ask = res.receive(flight3.send[1]);
    ASSERT_FALSE(ask.failure);
    ASSERT_TRUE(ask.needs_approval);
    ASSERT_EQ(ask.send.size(), 1u);  // REVEAL goes out before the verdict
    EXPECT_EQ(handshake::decode(ask.send[0])->type, MessageType::Reveal);
    const std::string code_b = res.pending_short_code();
    ASSERT_EQ(code_b.size(), 6u);

    auto revealed = ini.receive(ask.send[0]);
    ASSERT_FALSE(revealed.failure);
    EXPECT_TRUE(revealed.send.empty());
    EXPECT_FALSE(revealed.done);
    EXPECT_TRUE(revealed.needs_approval);  // A's side of the comparison
    EXPECT_EQ(ini.pending_short_code(), code_b);
    EXPECT_TRUE(a.book.disk.empty());  // shown, not yet paired
    EXPECT_TRUE(b.book.disk.empty());

    // B's operator says yes first: B still stores nothing until A's does.
    auto approved = res.approve(true);
    ASSERT_FALSE(approved.failure);
    EXPECT_FALSE(approved.done);
    EXPECT_TRUE(approved.send.empty());
    EXPECT_TRUE(b.book.disk.empty());
    Bytes accept = only(ini.approve(true));
    EXPECT_EQ(handshake::decode(accept)->type, MessageType::Accept);
    EXPECT_TRUE(a.book.disk.empty());
    auto complete = res.receive(accept);
    ASSERT_TRUE(complete.done);
    EXPECT_EQ(b.book.disk.size(), 1u);
    Bytes cert_b = only(complete);
    ASSERT_TRUE(ini.receive(cert_b).done);
    EXPECT_EQ(a.book.disk.size(), 1u);
    auto sa = ini.take_session();
    auto sb = res.take_session();
    ASSERT_TRUE(sa && sb);
    EXPECT_EQ(sa->short_code, code_b);
    EXPECT_EQ(sb->short_code, code_b);
}

// A responder that sends its certificate early -- instead of REVEAL, or
// after REVEAL but before A's side approved -- is refused, and A stores
// nothing: the central's pairing is complete only once both users said yes.
TEST(PairingCode, CertificateBeforeRevealOrBeforeTheCentralsApprovalIsRefused) {
    for (bool revealed : {false, true}) {
        Device a;
        FreeResponder m;
        handshake::PairNonce committed{};
        random_bytes(committed);
        handshake::Initiator ini(a.identity, std::nullopt, a.book, a.replay, {}, kNow);
        auto f3 = ini.receive(m.pair2(only(ini.start()), committed));
        ASSERT_EQ(f3.send.size(), 2u);
        m.pair3(f3.send[0]);
        if (revealed) {
            auto s = ini.receive(m.reveal(committed));
            ASSERT_TRUE(s.needs_approval);
        }
        auto s = ini.receive(m.certificate(kNow));
        ASSERT_TRUE(s.failure);
        EXPECT_EQ(s.failure->error, Error::UnexpectedMessage);
        EXPECT_FALSE(ini.take_session());
        EXPECT_TRUE(a.book.disk.empty());
    }
}

// Audit item 2: a man-in-the-middle M runs one pairing with A (as the
// peripheral) and one with B (as the central).  B's operator sees another
// code than A's user and refuses; A's user, comparing too, refuses as well.
// Protocol 1.0 stored M as A's peer the moment M's certificate arrived; now
// nothing is stored anywhere, and M, which approves everything, gets nothing
// from A either.
TEST(PairingCode, AManInTheMiddleRefusedOnEitherSideIsStoredNowhere) {
    Device a, b, mitm;
    // Each half of the attack is an honest-looking pairing with M.
    auto a_m = connect(a, mitm, /*approve=*/true, nullptr, kNow, 0, /*approve_a=*/false);
    auto m_b = connect(mitm, b, /*approve=*/false);
    EXPECT_FALSE(a_m.a || a_m.b || m_b.a || m_b.b);
    ASSERT_TRUE(a_m.a_fail && m_b.b_fail);
    EXPECT_EQ(a_m.a_fail->error, Error::NotApproved);
    ASSERT_TRUE(a_m.b_fail);
    EXPECT_EQ(a_m.b_fail->error, Error::PeerAborted);
    EXPECT_EQ(*a_m.b_fail->abort, handshake::AbortReason::NotApproved);
    EXPECT_EQ(m_b.b_fail->error, Error::NotApproved);
    EXPECT_TRUE(a.book.disk.empty()) << "the central stored the man in the middle";
    EXPECT_TRUE(b.book.disk.empty());
    EXPECT_TRUE(mitm.book.disk.empty());
    // And the next connection from A is a first contact again, not a resume.
    auto again = connect(a, b);
    ASSERT_TRUE(again.a && again.b);
    EXPECT_EQ(again.a->kind, handshake::Kind::Pair);
}

// The two verdicts may come in either order; the peripheral stores only
// once it has its own and the central's ACCEPT.
TEST(PairingCode, TheCentralsAcceptMayComeBeforeThePeripheralsVerdict) {
    Device a, b;
    handshake::Initiator ini(a.identity, std::nullopt, a.book, a.replay, {}, kNow);
    handshake::Responder res(b.identity, b.book, b.replay, {}, kNow);
    auto f3 = ini.receive(only(res.receive(only(ini.start()))));
    ASSERT_FALSE(res.receive(f3.send[0]).failure);
    auto ask = res.receive(f3.send[1]);
    ASSERT_TRUE(ask.needs_approval);
    ASSERT_TRUE(ini.receive(ask.send[0]).needs_approval);
    auto early = res.receive(only(ini.approve(true)));
    ASSERT_FALSE(early.failure);
    EXPECT_FALSE(early.done);
    EXPECT_TRUE(res.peer_accepted());
    EXPECT_TRUE(b.book.disk.empty());
    auto done = res.approve(true);
    ASSERT_TRUE(done.done);
    ASSERT_TRUE(ini.receive(only(done)).done);
    EXPECT_EQ(a.book.disk.size(), 1u);
    EXPECT_EQ(b.book.disk.size(), 1u);
}

// A protocol 1.0 central (PAIR_1 with an empty payload) cannot pair with a
// 1.1 peripheral: it would store the peripheral without its user's
// confirmation.  Refused before any DH, with ABORT(ProtocolError).
TEST(PairingCode, AVersion10FirstContactIsRefusedBeforeAnyDh) {
    Device b;
    handshake::Responder res(b.identity, b.book, b.replay, {}, kNow);
    X25519KeyPair e = X25519KeyPair::generate();
    Bytes body(e.pub.begin(), e.pub.end());  // XX message 1 with an empty payload
    auto s = res.receive(handshake::encode(handshake::Message{MessageType::Pair1, 0, body}));
    ASSERT_TRUE(s.failure);
    EXPECT_EQ(s.failure->error, Error::UnsupportedVersion);
    ASSERT_EQ(s.send.size(), 1u);
    EXPECT_EQ(handshake::decode(s.send[0])->body[0],
              static_cast<std::uint8_t>(handshake::AbortReason::ProtocolError));
}

TEST(PairingCode, TheCodeDependsOnEveryInput) {
    Hash h{};
    handshake::PairNonce na{}, nb{};
    const std::string base = handshake::pair_code(h, na, nb);
    ASSERT_EQ(base.size(), 6u);
    std::set<std::string> seen{base};
    for (int i = 0; i < 8; ++i) {
        Hash h2 = h;
        h2[i] ^= 1;
        handshake::PairNonce na2 = na, nb2 = nb;
        na2[i] ^= 1;
        nb2[i] ^= 1;
        seen.insert(handshake::pair_code(h2, na, nb));
        seen.insert(handshake::pair_code(h, na2, nb));
        seen.insert(handshake::pair_code(h, na, nb2));
    }
    // 25 codes of 10^6: a collision would be a one-in-3,000 accident.
    EXPECT_EQ(seen.size(), 25u);
    EXPECT_TRUE(handshake::opens_commitment(handshake::pair_commitment(nb), nb));
    handshake::PairNonce other = nb;
    other[31] ^= 0x80;
    EXPECT_FALSE(handshake::opens_commitment(handshake::pair_commitment(nb), other));
    EXPECT_FALSE(
        handshake::opens_commitment(handshake::pair_commitment(nb), ByteView(nb).first(31)));
}

TEST(PairingCode, ARevealThatDoesNotOpenTheCommitmentIsRefused) {
    handshake::PairNonce committed{};
    random_bytes(committed);
    for (bool honest : {true, false}) {
        Device a;
        FreeResponder m;
        handshake::Initiator ini(a.identity, std::nullopt, a.book, a.replay, {}, kNow);
        auto f3 = ini.receive(m.pair2(only(ini.start()), committed));
        ASSERT_EQ(f3.send.size(), 2u);
        m.pair3(f3.send[0]);
        // Having seen nonce_A, the attacker would like to reveal whatever
        // nonce makes A's code equal the one it already knows from B.
        handshake::PairNonce chosen = committed;
        if (!honest) chosen[0] ^= 1;
        auto s = ini.receive(m.reveal(chosen));
        if (honest) {
            ASSERT_FALSE(s.failure) << s.failure->describe();
            EXPECT_EQ(ini.pending_short_code(), handshake::pair_code(m.h, m.nonce_a, committed));
        } else {
            ASSERT_TRUE(s.failure);
            EXPECT_EQ(s.failure->error, Error::CommitmentMismatch);
            EXPECT_EQ(ini.pending_short_code(), "");
            EXPECT_EQ(ini.state(), handshake::Initiator::State::Failed);
        }
    }
}

// The initiator's nonce is fresh for every pairing: a responder that replays
// the same PAIR_2 choices (same commitment) still gets a different code.
TEST(PairingCode, TheInitiatorsNonceIsFreshEachTime) {
    std::set<Bytes> nonces;
    for (int i = 0; i < 16; ++i) {
        Device a;
        FreeResponder m;
        handshake::PairNonce committed{};
        handshake::Initiator ini(a.identity, std::nullopt, a.book, a.replay, {}, kNow);
        auto f3 = ini.receive(m.pair2(only(ini.start()), committed));
        ASSERT_EQ(f3.send.size(), 2u);
        m.pair3(f3.send[0]);
        nonces.insert(Bytes(m.nonce_a.begin(), m.nonce_a.end()));
    }
    EXPECT_EQ(nonces.size(), 16u);
}

}  // namespace
}  // namespace br::test
