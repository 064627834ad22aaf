// SPDX-License-Identifier: MIT
// handshake::Pump: what it adds to the engines (framing both ways, the
// order of sends and events, the rekey hand-over, the single failure
// report).  The engines' own behaviour is tested through pair_test_util,
// which runs them behind pumps too.
#include <gtest/gtest.h>

#include <deque>
#include <memory>

#include "core/frame/frame.hpp"
#include "core/handshake/pump.hpp"
#include "pair_test_util.hpp"

namespace br::test {
namespace {

using handshake::Pump;
using handshake::PumpFailure;

// Two pumps over a framed in-memory link: fragments queue in order and are
// delivered one at a time, as GATT writes and notifications are.
struct FramedLink {
    struct Side {
        std::unique_ptr<Pump> pump;
        std::optional<handshake::Session> session;
        std::vector<PumpFailure> failures;
        std::vector<std::uint32_t> bonds;
        int confirmed = 0;
        int approvals = 0;
        int idle = 0;
        bool verdict = true;
        bool refuse_sends = false;
        std::function<void()> on_idle;  // central's rekey: install a responder
    };
    Side a, b;
    std::deque<std::pair<bool, Bytes>> wire;  // (to_a, fragment)
    std::size_t fragments = 0;

    explicit FramedLink(std::size_t att_mtu) {
        make(a, true, att_mtu);
        make(b, false, att_mtu);
    }
    void make(Side& s, bool is_a, std::size_t att_mtu) {
        handshake::PumpEvents ev;
        ev.approval_needed = [&s](const std::string& code) {
            EXPECT_EQ(code.size(), 6u);
            ++s.approvals;
            s.pump->approve(s.verdict);
        };
        ev.session = [&s](handshake::Session x) { s.session = std::move(x); };
        ev.confirmed = [&s] { ++s.confirmed; };
        ev.bond = [&s](std::uint32_t p) { s.bonds.push_back(p); };
        ev.failed = [&s](const PumpFailure& f) { s.failures.push_back(f); };
        ev.idle_message = [&s](const std::optional<handshake::Message>&) {
            ++s.idle;
            if (s.on_idle) s.on_idle();
        };
        handshake::PumpTransport io{[this, &s, is_a](ByteView f) {
                                        if (s.refuse_sends) return false;
                                        ++fragments;
                                        wire.emplace_back(!is_a, Bytes(f.begin(), f.end()));
                                        return true;
                                    },
                                    att_mtu};
        s.pump = std::make_unique<Pump>(std::move(io), std::move(ev));
    }
    void run() {
        while (!wire.empty()) {
            auto [to_a, f] = std::move(wire.front());
            wire.pop_front();
            (to_a ? a : b).pump->on_fragment(f);
        }
    }
};

void connect_framed(FramedLink& link, Device& a, Device& b) {
    std::optional<handshake::DeviceId> known;
    if (a.book.disk.count(b.id())) known = b.id();
    link.b.pump->serve(std::make_unique<handshake::Responder>(b.identity, b.book, b.replay,
                                                              handshake::Settings{}, kNow));
    link.a.pump->start(std::make_unique<handshake::Initiator>(a.identity, known, a.book, a.replay,
                                                              handshake::Settings{}, kNow));
    link.run();
}

TEST(Pump, PairsAndResumesOverTheSmallestMtu) {
    Device a, b;
    FramedLink first(frame::kMinAttMtu);
    connect_framed(first, a, b);
    ASSERT_TRUE(first.a.session && first.b.session);
    EXPECT_EQ(first.a.session->fingerprint, first.b.session->fingerprint);
    EXPECT_EQ(first.a.approvals, 1);  // both users were asked
    EXPECT_EQ(first.b.approvals, 1);
    EXPECT_EQ(first.a.pump->state(), Pump::State::Ready);
    EXPECT_EQ(first.b.pump->state(), Pump::State::Ready);
    // At ATT_MTU 23 every message takes several fragments.
    EXPECT_GT(first.fragments, 20u);

    FramedLink second(frame::kMinAttMtu);
    connect_framed(second, a, b);
    ASSERT_TRUE(second.a.session && second.b.session);
    EXPECT_EQ(second.a.session->kind, handshake::Kind::Resume);
    EXPECT_EQ(second.a.session->epoch, 2u);
    EXPECT_EQ(second.a.confirmed, 1);  // the responder's CONFIRM reached A's owner
    EXPECT_EQ(second.a.approvals + second.b.approvals, 0);
    EXPECT_TRUE(second.a.failures.empty() && second.b.failures.empty());
}

TEST(Pump, BondTravelsOverTheLiveSessionBothWays) {
    Device a, b;
    FramedLink link(frame::kMinAttMtu);
    EXPECT_FALSE(link.a.pump->send_bond(1));  // nothing installed: nothing sent
    connect_framed(link, a, b);
    ASSERT_TRUE(link.a.session && link.b.session);
    ASSERT_TRUE(link.a.pump->send_bond(123456));
    ASSERT_TRUE(link.b.pump->send_bond(654321));
    link.run();
    EXPECT_EQ(link.b.bonds, std::vector<std::uint32_t>{123456});
    EXPECT_EQ(link.a.bonds, std::vector<std::uint32_t>{654321});
    EXPECT_EQ(link.b.idle, 0);  // a BOND is the session's, not a new handshake
}

TEST(Pump, ARefusalEndsBothPumpsWithNoSession) {
    Device a, b;
    FramedLink link(100);
    link.b.verdict = false;
    connect_framed(link, a, b);
    EXPECT_FALSE(link.a.session || link.b.session);
    ASSERT_EQ(link.b.failures.size(), 1u);
    ASSERT_TRUE(link.b.failures[0].handshake);
    EXPECT_EQ(link.b.failures[0].handshake->error, handshake::Error::NotApproved);
    ASSERT_EQ(link.a.failures.size(), 1u);  // A heard B's ABORT
    ASSERT_TRUE(link.a.failures[0].handshake);
    EXPECT_EQ(link.a.failures[0].handshake->error, handshake::Error::PeerAborted);
    EXPECT_EQ(link.a.pump->state(), Pump::State::Failed);
    EXPECT_TRUE(b.book.disk.empty() && a.book.disk.empty());
}

TEST(Pump, BrokenFramingFailsOnceAndThenIgnoresInput) {
    Device b;
    FramedLink link(frame::kMinAttMtu);
    link.b.pump->serve(std::make_unique<handshake::Responder>(b.identity, b.book, b.replay,
                                                              handshake::Settings{}, kNow));
    const Bytes continuation{0x01, 0xaa, 0xbb};  // no FIRST fragment before it
    link.b.pump->on_fragment(continuation);
    ASSERT_EQ(link.b.failures.size(), 1u);
    EXPECT_EQ(link.b.failures[0].kind, PumpFailure::Kind::Framing);
    EXPECT_EQ(link.b.failures[0].framing, frame::FrameError::UnexpectedContinuation);
    link.b.pump->on_fragment(continuation);
    EXPECT_EQ(link.b.failures.size(), 1u);  // reported once
    EXPECT_TRUE(link.wire.empty());         // and nothing was sent
    EXPECT_FALSE(link.b.pump->send_message(continuation));
}

TEST(Pump, ATransportThatRefusesFailsThePump) {
    Device a, b;
    FramedLink link(frame::kMinAttMtu);
    link.a.refuse_sends = true;
    link.a.pump->start(std::make_unique<handshake::Initiator>(
        a.identity, std::nullopt, a.book, a.replay, handshake::Settings{}, kNow));
    ASSERT_EQ(link.a.failures.size(), 1u);
    EXPECT_EQ(link.a.failures[0].kind, PumpFailure::Kind::Transport);
    EXPECT_EQ(link.a.pump->state(), Pump::State::Failed);
}

TEST(Pump, AMessageWithNoHandshakeFailsUnlessTheOwnerServesOne) {
    Device a, b;
    ASSERT_TRUE(connect(a, b).a);  // paired: A's next connection is a resume
    FramedLink link(64);
    // B's owner installs nothing: the RESUME_1 has nowhere to go.
    link.a.pump->start(std::make_unique<handshake::Initiator>(a.identity, b.id(), a.book, a.replay,
                                                              handshake::Settings{}, kNow));
    link.run();
    EXPECT_EQ(link.b.idle, 1);
    ASSERT_EQ(link.b.failures.size(), 1u);
    EXPECT_EQ(link.b.failures[0].kind, PumpFailure::Kind::NoHandshake);
}

// OnExpiry=rekey: the central runs a new resume on the same link; the
// peripheral's pump hands the first message of it to its owner, who serves
// a new responder, and the message goes to that one.
TEST(Pump, ARekeyOnTheSameLinkGoesToTheResponderTheOwnerServes) {
    Device a, b;
    FramedLink link(frame::kMinAttMtu);
    int served = 0;
    link.b.on_idle = [&] {
        ++served;
        link.b.pump->serve(std::make_unique<handshake::Responder>(b.identity, b.book, b.replay,
                                                                  handshake::Settings{}, kNow));
    };
    link.a.pump->start(std::make_unique<handshake::Initiator>(
        a.identity, std::nullopt, a.book, a.replay, handshake::Settings{}, kNow));
    link.run();
    ASSERT_TRUE(link.a.session && link.b.session);
    EXPECT_EQ(served, 1);  // the first PAIR_1 found no responder either
    const auto first = link.b.session->fingerprint;

    link.a.pump->start(std::make_unique<handshake::Initiator>(a.identity, b.id(), a.book, a.replay,
                                                              handshake::Settings{}, kNow));
    link.run();
    EXPECT_EQ(served, 2);
    ASSERT_TRUE(link.b.session);
    EXPECT_EQ(link.b.session->kind, handshake::Kind::Resume);
    EXPECT_NE(link.b.session->fingerprint, first);
    EXPECT_EQ(link.a.session->fingerprint, link.b.session->fingerprint);
    EXPECT_EQ(link.a.confirmed, 1);
    EXPECT_TRUE(link.a.failures.empty() && link.b.failures.empty());
}

}  // namespace
}  // namespace br::test
