// SPDX-License-Identifier: MIT
// Manager1.AttemptFailed as the Manager reports it (Model::Listener::
// attempt_failed): once for each connection attempt that ends without a
// session, with the reason a user needs (our approval policy's refusal and
// its words, an approval that expired, the rate limit, a failed handshake
// and its named error, a timeout, a busy identity, no session, a link lost
// mid-handshake), and never for the ordinary end of a link that had its
// session.  The clock is the fake loop's.
#include <gtest/gtest.h>

#include "testbed.hpp"

namespace br::daemon::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kAddrA = "00:1A:7D:DA:71:0A";
constexpr const char* kAddrB = "00:1A:7D:DA:71:0B";
constexpr const char* kAddrThief = "00:1A:7D:DA:71:0F";

std::string id_of(Node& n) {
    return n->adapters().at(0).device_id;
}

std::string text(const std::vector<AttemptFailure>& fs) {
    std::string out;
    for (const auto& f : fs)
        out += "[" + f.adapter + " " + f.peer_id + " " + f.address + " " + f.reason + " " +
               f.error + " \"" + f.detail + "\"] ";
    return out;
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

TEST(AttemptFailed, OurPolicyRefusesAFirstContactWithThePluginsWords) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB);
    ASSERT_TRUE(b->set_pairing_window("hci0", 0).has_value());  // `blueratchetctl pairing off`
    t.connect(a, b);
    ASSERT_TRUE(t.loop.settle_until([&] { return !b.failed.empty() && !a.failed.empty(); }))
        << text(b.failed) << text(a.failed);
    t.loop.settle();
    ASSERT_EQ(b.failed.size(), 1u) << text(b.failed);
    const auto& f = b.failed[0];
    EXPECT_EQ(f.adapter, "hci0");
    EXPECT_EQ(f.peer_id, id_of(a));
    EXPECT_EQ(f.address, a.seen_as);
    EXPECT_EQ(f.reason, "Refused");
    EXPECT_EQ(f.error, "NotApproved");
    EXPECT_EQ(f.detail, "refused by plugin window (refused: pairing window closed)");
    // The central hears the refusal: the peer's named error.
    ASSERT_EQ(a.failed.size(), 1u) << text(a.failed);
    EXPECT_EQ(a.failed[0].reason, "HandshakeFailed");
    EXPECT_EQ(a.failed[0].error, "PeerAborted.NotApproved");
    EXPECT_EQ(a.failed[0].peer_id, id_of(b));
    EXPECT_EQ(a.failed[0].address, b.seen_as);
    EXPECT_TRUE(a.minted.empty() && b.minted.empty());
}

TEST(AttemptFailed, AnApprovalNobodyAnswersExpires) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB, [](Config& c) {
        c.approval = "confirm";
        c.approval_timeout_seconds = 3;
    });
    t.connect(a, b);
    ASSERT_TRUE(t.loop.settle_until([&] { return !b->pending_approvals().empty(); }));
    t.loop.advance(2'999ms);
    EXPECT_TRUE(b.failed.empty()) << text(b.failed);
    t.loop.advance(1ms);
    ASSERT_TRUE(t.loop.settle_until([&] { return !a.failed.empty(); })) << text(a.failed);
    ASSERT_EQ(b.failed.size(), 1u) << text(b.failed);
    EXPECT_EQ(b.failed[0].reason, "ApprovalExpired");
    EXPECT_EQ(b.failed[0].error, "NotApproved");
    EXPECT_EQ(b.failed[0].peer_id, id_of(a));
    EXPECT_EQ(b.failed[0].detail, "no verdict from plugin confirm within 3 s");
    EXPECT_EQ(a.failed[0].error, "PeerAborted.NotApproved");
}

TEST(AttemptFailed, TheRateLimitTurnsAFirstContactAway) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB, [](Config& c) { c.refused_first_contacts_per_minute = 0; });
    t.connect(a, b);
    t.loop.settle();
    ASSERT_EQ(b.failed.size(), 1u) << text(b.failed);
    EXPECT_EQ(b.failed[0].reason, "TurnedAway");
    EXPECT_EQ(b.failed[0].error, "");
    EXPECT_EQ(b.failed[0].peer_id, "");  // before any cryptography: no identity yet
    EXPECT_EQ(b.failed[0].address, a.seen_as);
    EXPECT_TRUE(contains(b.failed[0].detail, "(RefusedFirstContactsPerMinute)"))
        << b.failed[0].detail;
    ASSERT_EQ(a.failed.size(), 1u) << text(a.failed);
    EXPECT_EQ(a.failed[0].reason, "HandshakeFailed");
    EXPECT_EQ(a.failed[0].error, "PeerAborted.Busy");
}

TEST(AttemptFailed, BrokenFramingIsAFailedHandshakeWithItsNamedError) {
    Testbed t;
    Node& b = t.node("b", kAddrB);
    LinkIo io;
    io.send = [](ByteView) { return true; };
    b->link_up(kAdapterPath, device_path(kAddrA), kAddrA, LinkRole::Peripheral, io);
    b->deliver(device_path(kAddrA), Bytes{0x01, 0xaa});  // no FIRST fragment before it
    ASSERT_EQ(b.failed.size(), 1u) << text(b.failed);
    EXPECT_EQ(b.failed[0].reason, "HandshakeFailed");
    EXPECT_EQ(b.failed[0].error, "Frame.UnexpectedContinuation");
    EXPECT_EQ(b.failed[0].detail, "framing error continuation without a first fragment");
    EXPECT_EQ(b.failed[0].address, kAddrA);
    // What the device writes until it is gone reports nothing more.
    for (int i = 0; i < 5; ++i) b->deliver(device_path(kAddrA), Bytes{0x01, 0xaa});
    b->link_lost(device_path(kAddrA), "test");
    EXPECT_EQ(b.failed.size(), 1u) << text(b.failed);
}

TEST(AttemptFailed, GarbageIsAFailedHandshakeWithTheDecodersError) {
    Testbed t;
    Node& b = t.node("b", kAddrB);
    LinkIo io;
    io.send = [](ByteView) { return true; };
    b->link_up(kAdapterPath, device_path(kAddrA), kAddrA, LinkRole::Peripheral, io);
    // Well framed, but no message: version 0x7e.
    b->deliver(device_path(kAddrA), Bytes{0xc0, 0x00, 0x04, 0x7e, 0x55, 0x00, 0x00});
    ASSERT_EQ(b.failed.size(), 1u) << text(b.failed);
    EXPECT_EQ(b.failed[0].reason, "HandshakeFailed");
    EXPECT_EQ(b.failed[0].error, "Decode.UnsupportedVersion");
}

TEST(AttemptFailed, HandshakeTimeoutOnTheCentralAndNoSessionOnThePeripheral) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB);
    auto wire = t.connect(a, b);
    wire->to_peripheral = false;  // nothing A writes arrives
    t.loop.advance(9'999ms);
    EXPECT_TRUE(a.failed.empty() && b.failed.empty()) << text(a.failed) << text(b.failed);
    t.loop.advance(1ms);
    ASSERT_EQ(a.failed.size(), 1u) << text(a.failed);
    EXPECT_EQ(a.failed[0].reason, "HandshakeTimeout");
    EXPECT_EQ(a.failed[0].error, "");
    EXPECT_EQ(a.failed[0].detail, "the handshake did not finish within 10 s (HandshakeTimeout)");
    ASSERT_EQ(b.failed.size(), 1u) << text(b.failed);
    EXPECT_EQ(b.failed[0].reason, "NoSession");
    EXPECT_EQ(b.failed[0].address, a.seen_as);
    EXPECT_TRUE(contains(b.failed[0].detail, "no session, no service")) << b.failed[0].detail;
    // Connected=false later adds nothing.
    t.disconnect(a, b);
    EXPECT_EQ(a.failed.size() + b.failed.size(), 2u);
}

TEST(AttemptFailed, ASecondHandshakeOfOneIdentityIsBusy) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB);
    t.connect(a, b);
    ASSERT_TRUE(t.until_live(a, b));
    t.disconnect(a, b);
    t.loop.settle();
    Node& copy = t.node("copy", kAddrA, nullptr, "a", kAddrThief);  // A's state, elsewhere
    t.connect(a, b);
    t.connect(copy, b);
    ASSERT_TRUE(t.until_live(a, b));
    t.loop.settle();
    ASSERT_EQ(b.failed.size(), 1u) << text(b.failed);
    EXPECT_EQ(b.failed[0].reason, "IdentityBusy");
    EXPECT_EQ(b.failed[0].peer_id, id_of(a));
    EXPECT_EQ(b.failed[0].address, kAddrThief);
    EXPECT_EQ(
        b.failed[0].detail,
        std::string("another handshake with this identity is in progress (device=") + kAddrA + ")");
}

TEST(AttemptFailed, ALinkLostWhileTheApprovalWaitsIsReported) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB, [](Config& c) { c.approval = "confirm"; });
    t.connect(a, b);
    ASSERT_TRUE(t.loop.settle_until([&] { return !b->pending_approvals().empty(); }));
    t.disconnect(a, b);
    ASSERT_EQ(b.failed.size(), 1u) << text(b.failed);
    EXPECT_EQ(b.failed[0].reason, "LinkLost");
    EXPECT_EQ(b.failed[0].peer_id, id_of(a));
    EXPECT_EQ(b.failed[0].detail,
              "the link ended while the first contact waited for approval (test: disconnected)");
    // The central's handshake was running too.
    ASSERT_EQ(a.failed.size(), 1u) << text(a.failed);
    EXPECT_EQ(a.failed[0].reason, "LinkLost");
    EXPECT_TRUE(b->pending_approvals().empty());
}

TEST(AttemptFailed, NotForTheEndOfALinkThatHadItsSessionNorForOurOwnEnds) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB);
    t.connect(a, b);
    ASSERT_TRUE(t.until_live(a, b));
    t.disconnect(a, b);  // the ordinary end: SessionInvalidated(LinkLost) says it
    t.loop.settle();
    t.connect(a, b);
    ASSERT_TRUE(t.until_live(a, b));
    ASSERT_TRUE(b->invalidate_session("hci0", id_of(a)).has_value());  // Revoked
    t.loop.settle();
    // A peripheral link with no write at all, then the adapter goes.
    LinkIo io;
    io.send = [](ByteView) { return true; };
    b->link_up(kAdapterPath, device_path(kAddrThief), kAddrThief, LinkRole::Peripheral, io);
    b->link_lost(device_path(kAddrThief), "test");  // Waiting: no attempt ran
    EXPECT_TRUE(a.failed.empty()) << text(a.failed);
    EXPECT_TRUE(b.failed.empty()) << text(b.failed);
}

}  // namespace
}  // namespace br::daemon::test
