// SPDX-License-Identifier: MIT
// The Manager and its Connections, on a fake loop: every way a connection
// ends (CloseReason) and every deadline of its one timer, reached by moving
// the clock instead of waiting.  What the bus tier shows through the real
// bus and the BlueZ simulator, this shows inside one process, to the
// millisecond.
#include <gtest/gtest.h>

#include "../channel/unix_transport.hpp"
#include "testbed.hpp"

namespace br::daemon::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kAddrA = "00:1A:7D:DA:71:0A";
constexpr const char* kAddrB = "00:1A:7D:DA:71:0B";
constexpr const char* kAddrC = "00:1A:7D:DA:71:0C";
constexpr const char* kAddrThief = "00:1A:7D:DA:71:0F";

// A pairs with B and the link drops: the pair both sides store.
void pair_once(Testbed& t, Node& a, Node& b) {
    t.connect(a, b);
    ASSERT_TRUE(t.until_live(a, b));
    t.disconnect(a, b);
    t.loop.settle();
}

TEST(Manager, PairsThenResumesAndALinkLossWipesBothSessionsAtOnce) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB);
    t.connect(a, b);
    ASSERT_TRUE(t.until_live(a, b));
    EXPECT_EQ(a.session_with(b)->kind, "pair");
    EXPECT_EQ(a.session_with(b)->fingerprint, b.session_with(a)->fingerprint);
    t.disconnect(a, b);
    // Synchronous: no loop turn between the loss and the invalidation.
    EXPECT_EQ(a.session_with(b)->state, "invalidated");
    EXPECT_EQ(b.session_with(a)->reason, "LinkLost");
    EXPECT_TRUE(a.bluez.disconnected.empty() && b.bluez.disconnected.empty());

    t.loop.settle();
    t.connect(a, b);
    ASSERT_TRUE(t.until_live(a, b));
    EXPECT_EQ(a.session_with(b)->kind, "resume");
    EXPECT_EQ(a.session_with(b)->epoch, 2u);
    EXPECT_EQ(b.session_with(a)->epoch, 2u);
}

// Peer1.Connected is the peer's session being live: the API hears of the
// peer when the session is minted (Connected true) and again when it ends
// (false), on both sides; it once stayed true after the link was gone.
TEST(Manager, ThePeersConnectedFollowsItsSession) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB);
    t.connect(a, b);
    ASSERT_TRUE(t.until_live(a, b));
    for (Node* n : {&a, &b}) {
        ASSERT_FALSE(n->peer_events.empty());
        EXPECT_TRUE(n->peer_events.back().connected) << n->name;
    }
    t.disconnect(a, b);
    for (Node* n : {&a, &b}) {
        EXPECT_FALSE(n->peer_events.back().connected) << n->name;
        ASSERT_EQ(n->manager->peers().size(), 1u);
        EXPECT_FALSE(n->manager->peers()[0].connected) << n->name;
    }
}

TEST(Manager, HandshakeTimeoutOnTheCentralAndNoSessionOnThePeripheral) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB);
    const auto idle_timers = t.loop.timers();  // the plugin hosts' own
    auto wire = t.connect(a, b);
    wire->to_peripheral = false;  // nothing A writes arrives
    t.loop.settle();
    t.loop.advance(9'999ms);
    EXPECT_FALSE(a.bluez.asked(b.path()));
    EXPECT_FALSE(b.bluez.asked(a.path()));
    EXPECT_EQ(a->connection(b.path())->state(), Connection::State::Handshaking);
    t.loop.advance(1ms);
    EXPECT_TRUE(a.bluez.asked(b.path()));  // HandshakeTimeout
    EXPECT_TRUE(b.bluez.asked(a.path()));  // NoSession: "no session, no service"
    EXPECT_EQ(a->connection(b.path())->state(), Connection::State::Closed);
    EXPECT_EQ(b->connection(a.path())->state(), Connection::State::Closed);
    EXPECT_EQ(t.loop.timers(), idle_timers);  // nothing of the links left armed
}

// The system tier (2026-12-07): B's REVEAL went out on an EATT bearer that
// A's host stack never delivered, and the pairing died with the link.
TEST(Manager, ACentralTriesATimedOutFirstHandshakeOnceMoreOnAFreshLink) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB);
    auto wire = t.connect(a, b);
    wire->to_central = false;  // nothing B notifies arrives
    t.loop.settle();
    t.loop.advance(10s);
    ASSERT_EQ(a.bluez.reconnected, std::vector<std::string>{b.path()});
    EXPECT_TRUE(b.bluez.reconnected.empty());  // a peripheral only hangs up
    EXPECT_TRUE(b.bluez.asked(a.path()));
    // The fresh link works.
    t.disconnect(a, b);
    t.connect(a, b);
    ASSERT_TRUE(t.until_live(a, b));
    // Another stall soon after: hung up on, not called again.
    t.disconnect(a, b);
    wire = t.connect(a, b);
    wire->to_central = false;
    t.loop.settle();
    t.loop.advance(10s);
    EXPECT_EQ(a.bluez.reconnected.size(), 1u);
    EXPECT_EQ(std::count(a.bluez.disconnected.begin(), a.bluez.disconnected.end(), b.path()), 2);
    // Past twice the handshake's time since the last try, one more.
    t.disconnect(a, b);
    t.loop.advance(11s);
    wire = t.connect(a, b);
    wire->to_central = false;
    t.loop.settle();
    t.loop.advance(10s);
    EXPECT_EQ(a.bluez.reconnected.size(), 2u);
}

TEST(Manager, APeripheralWithoutAHandshakeHasUntilTheTimeoutForASession) {
    Testbed t;
    Node& b = t.node("b", kAddrB);
    LinkIo io;
    io.send = [](ByteView) { return true; };
    b->link_up(kAdapterPath, device_path(kAddrA), kAddrA, LinkRole::Peripheral, io);
    t.loop.advance(9'999ms);
    EXPECT_TRUE(b.bluez.disconnected.empty());
    t.loop.advance(1ms);
    EXPECT_EQ(b.bluez.disconnected, std::vector<std::string>{device_path(kAddrA)});
}

TEST(Manager, BrokenFramingFailsTheHandshakeAndLaterWritesAreDroppedUnread) {
    Testbed t;
    Node& b = t.node("b", kAddrB);
    int sent = 0;
    LinkIo io;
    io.send = [&sent](ByteView) { return ++sent, true; };
    b->link_up(kAdapterPath, device_path(kAddrA), kAddrA, LinkRole::Peripheral, io);
    const Bytes continuation{0x01, 0xaa};  // no FIRST fragment before it
    b->deliver(device_path(kAddrA), continuation);
    EXPECT_EQ(b.bluez.disconnected.size(), 1u);
    EXPECT_FALSE(b->has_link(device_path(kAddrA)));
    // Until Connected=false, the device's writes are dropped unread: no
    // new handshake, no second Disconnect.
    const Bytes pair1_start{0xc0, 0x00, 0x01, 0x01};
    for (int i = 0; i < 50; ++i) b->deliver(device_path(kAddrA), pair1_start);
    EXPECT_EQ(b.bluez.disconnected.size(), 1u);
    EXPECT_EQ(sent, 0);
    b->link_lost(device_path(kAddrA), "test");
    EXPECT_EQ(b->connection(device_path(kAddrA)), nullptr);
}

TEST(Manager, FirstContactsOverTheLimitAreTurnedAwayWithBusy) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB, [](Config& c) { c.refused_first_contacts_per_minute = 0; });
    t.connect(a, b);
    t.loop.settle();
    EXPECT_TRUE(b.bluez.asked(a.path()));  // TurnedAway
    EXPECT_TRUE(a.bluez.asked(b.path()));  // A heard ABORT(Busy): HandshakeFailed
    EXPECT_FALSE(a.session_with(b) || b.session_with(a));
}

// PROTOCOL.md "Not modelled" until now: two resumes of one identity from two
// addresses at once could each make B commit a different epoch.  The second
// is refused (IdentityBusy) before B commits anything for it.
TEST(Manager, OneHandshakePerIdentityTheSecondIsRefused) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB);
    pair_once(t, a, b);
    // A copy of A's state directory, on another device address.
    Node& copy = t.node("copy", kAddrA, nullptr, "a", kAddrThief);
    auto w1 = t.connect(a, b);
    auto w2 = t.connect(copy, b);
    // Both RESUME_1s are in flight; B reads A's first.
    ASSERT_TRUE(t.until_live(a, b));
    t.loop.settle();
    EXPECT_TRUE(b.bluez.asked(copy.path()));  // IdentityBusy
    EXPECT_FALSE(b.bluez.asked(a.path()));
    EXPECT_FALSE(copy.live_with(b));
    EXPECT_EQ(b.session_with(a)->epoch, 2u);
    EXPECT_EQ(b->sessions().size(), 1u);
    // The refused one left the pair intact: A resumes again.
    t.disconnect(a, b);
    t.disconnect(copy, b);
    t.loop.settle();
    t.connect(a, b);
    ASSERT_TRUE(t.until_live(a, b));
    EXPECT_EQ(a.session_with(b)->epoch, 3u);
}

// The central's side of the same rule: two connections to one peer from
// the same adapter (two addresses of one device) never resume together.
TEST(Manager, TheCentralRunsOneHandshakePerPeerToo) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB);
    pair_once(t, a, b);
    // The peripheral's record says kAddrB; a second link to that address
    // under another device path (as after an address change) resumes too.
    LinkIo stall;
    stall.send = [](ByteView) { return true; };
    ASSERT_NE(a->link_up(kAdapterPath, b.path(), kAddrB, LinkRole::Central, stall), nullptr);
    const std::string other = device_path("00:1A:7D:DA:71:0E");
    Connection* second = a->link_up(kAdapterPath, other, kAddrB, LinkRole::Central, stall);
    ASSERT_NE(second, nullptr);
    EXPECT_EQ(second->state(), Connection::State::Closed);
    EXPECT_TRUE(a.bluez.asked(other));
    EXPECT_FALSE(a.bluez.asked(b.path()));
}

TEST(Manager, AnExpiredSessionIsRekeyedOverTheSameLink) {
    Testbed t;
    auto short_lived = [](Config& c) { c.validity_seconds = 120; };
    Node& a = t.node("a", kAddrA, short_lived);
    Node& b = t.node("b", kAddrB, short_lived);
    t.connect(a, b);
    ASSERT_TRUE(t.until_live(a, b));
    const auto first = a.session_with(b)->fingerprint;
    Connection* link_a = a->connection(b.path());
    t.loop.advance(119s);
    EXPECT_EQ(a.session_with(b)->fingerprint, first);
    t.loop.advance(1s);
    ASSERT_TRUE(t.until_live(a, b));
    EXPECT_NE(a.session_with(b)->fingerprint, first);
    EXPECT_EQ(a.session_with(b)->epoch, 2u);
    EXPECT_EQ(a->connection(b.path()), link_a);  // the same link
    ASSERT_FALSE(a.invalidated.empty());
    EXPECT_EQ(a.invalidated.back().reason, "Expired");
    EXPECT_TRUE(a.bluez.disconnected.empty() && b.bluez.disconnected.empty());
}

TEST(Manager, APeripheralWhoseCentralDoesNotRekeyDisconnects) {
    Testbed t;
    auto short_lived = [](Config& c) { c.validity_seconds = 120; };
    Node& a = t.node("a", kAddrA, short_lived);
    Node& b = t.node("b", kAddrB, short_lived);
    auto wire = t.connect(a, b);
    ASSERT_TRUE(t.until_live(a, b));
    wire->to_peripheral = false;  // A's rekey never arrives
    t.loop.advance(120s);
    EXPECT_EQ(b.session_with(a)->reason, "Expired");
    t.loop.advance(9s);
    EXPECT_FALSE(b.bluez.asked(a.path()));
    t.loop.advance(1s);
    EXPECT_TRUE(b.bluez.asked(a.path()));      // NoRekey
    EXPECT_TRUE(a.bluez.asked(b.path()));      // its rekey timed out: HandshakeTimeout
    EXPECT_TRUE(a.bluez.reconnected.empty());  // not a first handshake: no fresh link
}

TEST(Manager, OnExpiryDisconnectEndsTheLink) {
    Testbed t;
    auto disconnect = [](Config& c) {
        c.validity_seconds = 120;
        c.on_expiry = OnExpiry::Disconnect;
    };
    Node& a = t.node("a", kAddrA, disconnect);
    Node& b = t.node("b", kAddrB, disconnect);
    t.connect(a, b);
    ASSERT_TRUE(t.until_live(a, b));
    t.loop.advance(120s);
    EXPECT_TRUE(a.bluez.asked(b.path()));
    EXPECT_TRUE(b.bluez.asked(a.path()));
    EXPECT_EQ(b.session_with(a)->reason, "Expired");
}

TEST(Manager, InvalidateSessionRevokesAndDisconnects) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB);
    t.connect(a, b);
    ASSERT_TRUE(t.until_live(a, b));
    auto r = b->invalidate_session("hci0", b.session_with(a)->peer_id);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(b.session_with(a)->reason, "Revoked");
    EXPECT_TRUE(b.bluez.asked(a.path()));
    auto again = b->invalidate_session("hci0", b.session_with(a)->peer_id);
    ASSERT_TRUE(!again.has_value());
    EXPECT_EQ(again.error().error, ApiError::NotFound);
}

TEST(Manager, ANewLinkToTheSameDeviceReplacesTheOldOne) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB);
    t.connect(a, b);
    ASSERT_TRUE(t.until_live(a, b));
    t.connect(a, b);  // Connected=false never came: the new link replaces the old
    EXPECT_EQ(a.invalidated.back().reason, "LinkLost");
    ASSERT_TRUE(t.until_live(a, b));
    EXPECT_EQ(a.session_with(b)->epoch, 2u);
    EXPECT_TRUE(a.bluez.disconnected.empty() && b.bluez.disconnected.empty());
}

// --- the LE bond ------------------------------------------------------------

struct BondAnswers {
    std::optional<bool> a, b;
};

TEST(Manager, TheBondIsConfirmedWhenBothPasskeysMatchOverTheSession) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB);
    BondAnswers got;
    // A's agent asks before A's GATT client is ready (no connection yet).
    a->confirm_pairing(b.path(), 123456, [&](bool ok) { got.a = ok; });
    t.connect(a, b);
    b->confirm_pairing(a.path(), 123456, [&](bool ok) { got.b = ok; });
    ASSERT_TRUE(t.loop.settle_until([&] { return got.a && got.b; }));
    EXPECT_TRUE(*got.a);
    EXPECT_TRUE(*got.b);
    EXPECT_TRUE(a.bluez.disconnected.empty() && b.bluez.disconnected.empty());
}

TEST(Manager, DifferentPasskeysRefuseTheBondAndEndTheLinkASecondLater) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB);
    t.connect(a, b);
    ASSERT_TRUE(t.until_live(a, b));
    BondAnswers got;
    a->confirm_pairing(b.path(), 111111, [&](bool ok) { got.a = ok; });
    b->confirm_pairing(a.path(), 222222, [&](bool ok) { got.b = ok; });
    t.loop.settle();
    ASSERT_TRUE(got.a && got.b);
    EXPECT_FALSE(*got.a);
    EXPECT_FALSE(*got.b);
    ASSERT_FALSE(b.refused.empty());
    EXPECT_NE(b.refused.back().reason.find("passkeys differ"), std::string::npos);
    EXPECT_TRUE(b.bluez.disconnected.empty());  // not yet: our BOND is on its way
    t.loop.advance(999ms);
    EXPECT_TRUE(b.bluez.disconnected.empty());
    t.loop.advance(1ms);
    EXPECT_TRUE(b.bluez.asked(a.path()));  // BondMismatch
    EXPECT_TRUE(a.bluez.asked(b.path()));
}

// The system tier (2026-12-07): B refused first, its bluetoothd failed SMP,
// A's bluetoothd cancelled A's question; B's passkey reached A after that.
// A still says the passkeys differ, and ends the link.
TEST(Manager, APasskeyArrivingAfterBluetoothdCancelledTheQuestionIsStillCompared) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB);
    t.connect(a, b);
    ASSERT_TRUE(t.until_live(a, b));
    BondAnswers got;
    a->confirm_pairing(b.path(), 111111, [&](bool ok) { got.a = ok; });
    t.loop.settle();  // A's passkey is at B, which has not been asked yet
    a->cancel_confirmations();
    ASSERT_TRUE(got.a.has_value());
    EXPECT_FALSE(*got.a);
    EXPECT_TRUE(a.refused.empty());
    b->confirm_pairing(a.path(), 222222, [&](bool ok) { got.b = ok; });
    t.loop.settle();
    ASSERT_TRUE(got.b.has_value());
    EXPECT_FALSE(*got.b);
    ASSERT_FALSE(b.refused.empty());
    ASSERT_FALSE(a.refused.empty());
    EXPECT_NE(a.refused.back().reason.find("passkeys differ: ours 111111, the peer's 222222"),
              std::string::npos)
        << a.refused.back().reason;
    t.loop.advance(1s);
    EXPECT_TRUE(a.bluez.asked(b.path()));  // A ends the link too (BondMismatch)
}

TEST(Manager, AMatchingPasskeyAfterACancelEndsNothing) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB);
    t.connect(a, b);
    ASSERT_TRUE(t.until_live(a, b));
    BondAnswers got;
    a->confirm_pairing(b.path(), 123456, [&](bool ok) { got.a = ok; });
    t.loop.settle();
    a->cancel_confirmations();
    b->confirm_pairing(a.path(), 123456, [&](bool ok) { got.b = ok; });
    t.loop.settle();
    ASSERT_TRUE(got.b.has_value());
    EXPECT_TRUE(*got.b);
    EXPECT_TRUE(a.refused.empty());
    t.loop.advance(2s);
    EXPECT_FALSE(a.bluez.asked(b.path()));
}

TEST(Manager, ABondWithNoSessionInTimeIsRefused) {
    Testbed t;
    Node& b = t.node("b", kAddrB);
    // Connected, peripheral, but the central never writes.
    LinkIo io;
    io.send = [](ByteView) { return true; };
    b->link_up(kAdapterPath, device_path(kAddrA), kAddrA, LinkRole::Peripheral, io);
    std::optional<bool> got;
    t.loop.advance(5s);
    b->confirm_pairing(device_path(kAddrA), 123456, [&](bool ok) { got = ok; });
    t.loop.advance(4'999ms);
    EXPECT_FALSE(got.has_value());
    t.loop.advance(1ms);  // the link's own deadline (NoSession) comes first
    ASSERT_TRUE(got.has_value());
    EXPECT_FALSE(*got);
    EXPECT_TRUE(b.bluez.asked(device_path(kAddrA)));
}

// Scenario 11 on BlueZ 5.87 (2026-12-07): RequestConfirmation came 80 ms
// after the connection, the loop woke late with both deadlines passed, and
// the bond's was taken for the reason although the link's came first.
TEST(Manager, ALateWakeupNamesTheDeadlineThatPassedFirst) {
    Testbed t;
    Node& b = t.node("b", kAddrB);
    LinkIo io;
    io.send = [](ByteView) { return true; };
    b->link_up(kAdapterPath, device_path(kAddrA), kAddrA, LinkRole::Peripheral, io);
    t.loop.advance(80ms);
    std::optional<bool> got;
    b->confirm_pairing(device_path(kAddrA), 123456, [&](bool ok) { got = ok; });
    t.loop.stall(11s);  // both the link's (10 s) and the bond's (10.08 s) have passed
    ASSERT_TRUE(got.has_value());
    EXPECT_FALSE(*got);
    ASSERT_EQ(b.failed.size(), 1u);
    EXPECT_EQ(b.failed[0].reason, "NoSession");
    EXPECT_TRUE(b.refused.empty());  // the bond was answered no as the link closed
}

TEST(Manager, ABondForADeviceThatNeverBecomesOursTimesOut) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    std::optional<bool> got;
    a->confirm_pairing(device_path(kAddrB), 123456, [&](bool ok) { got = ok; });
    t.loop.advance(9'999ms);
    EXPECT_FALSE(got.has_value());
    t.loop.advance(1ms);
    ASSERT_TRUE(got.has_value());
    EXPECT_FALSE(*got);
    EXPECT_TRUE(a.bluez.asked(device_path(kAddrB)));
    ASSERT_EQ(a.refused.size(), 1u);
    EXPECT_EQ(a.refused[0].reason, "no blueratchet session in time");
}

// BlueZ 5.82 and later: Device1.Pair on a device that was not connected
// holds GATT until the pairing ends, and the pairing waits for a session
// over GATT (src/daemon/bluez/pair_hold.hpp; scenario 11 on 5.87,
// 2026-12-07).  The glue tells the manager; the held confirmation is
// refused at once, the device connected again, and once the session is
// live the central asks bluetoothd to pair, only then and only once.
TEST(Manager, ABondHeldByBluezIsRefusedAndPairedOnceTheSessionIsLive) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB);
    EXPECT_FALSE(a->pair_after_session(b.path(), "test: held"));  // nothing waits: nothing done
    EXPECT_TRUE(a.bluez.reconnected.empty());

    std::optional<bool> got;
    a->confirm_pairing(b.path(), 123456, [&](bool ok) { got = ok; });
    EXPECT_TRUE(a->bond_waits_for_link(b.path()));
    t.loop.advance(8s);
    EXPECT_FALSE(got.has_value());
    ASSERT_TRUE(a->pair_after_session(b.path(), "test: held"));
    ASSERT_TRUE(got.has_value());
    EXPECT_FALSE(*got);
    EXPECT_FALSE(a->bond_waits_for_link(b.path()));
    EXPECT_EQ(a.bluez.reconnected, std::vector<std::string>{b.path()});
    ASSERT_EQ(a.refused.size(), 1u);
    EXPECT_NE(a.refused[0].reason.find("bluetoothd holds GATT"), std::string::npos);
    // The confirmation's own deadline does not fire later: it was answered.
    t.loop.advance(3s);
    EXPECT_EQ(a.refused.size(), 1u);
    EXPECT_TRUE(a.bluez.paired.empty());  // not before the session

    t.connect(a, b);
    ASSERT_TRUE(t.until_live(a, b));
    EXPECT_EQ(a.bluez.paired, std::vector<std::string>{b.path()});
    EXPECT_TRUE(b.bluez.paired.empty());  // the peripheral never asks

    // Once: the next session of the same device pairs nothing.
    t.disconnect(a, b);
    t.connect(a, b);
    ASSERT_TRUE(t.loop.settle_until([&] { return a.minted.size() == 2 && b.minted.size() == 2; }));
    EXPECT_EQ(a.bluez.paired.size(), 1u);
}

// A wish to pair is for the reconnection it asked for: one whose session
// comes after twice the handshake's time is not acted on.
TEST(Manager, APairWishOutlivedByItsReconnectionIsDropped) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB);
    a->confirm_pairing(b.path(), 123456, [](bool) {});
    ASSERT_TRUE(a->pair_after_session(b.path(), "test: held"));
    t.loop.advance(20s);  // 2 x HandshakeTimeout (10 s here)
    t.connect(a, b);
    ASSERT_TRUE(t.until_live(a, b));
    EXPECT_TRUE(a.bluez.paired.empty());
}

TEST(Manager, ABondWhoseSessionCameButNotThePeersPasskeyTimesOut) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB);
    t.connect(a, b);
    ASSERT_TRUE(t.until_live(a, b));
    std::optional<bool> got;
    b->confirm_pairing(a.path(), 123456, [&](bool ok) { got = ok; });  // A's agent never asks
    t.loop.advance(10s);
    ASSERT_TRUE(got.has_value());
    EXPECT_FALSE(*got);
    EXPECT_TRUE(b.bluez.asked(a.path()));  // BondTimeout
    EXPECT_EQ(b.refused.back().reason, "the peer never sent its passkey");
}

TEST(Manager, BluezGoingAwayAndAnAdapterRemovedWipeEverySession) {
    Testbed t;
    Node& a = t.node("a", kAddrA);
    Node& b = t.node("b", kAddrB);
    Node& c = t.node("c", kAddrC);
    t.connect(a, b);
    t.connect(c, b);
    ASSERT_TRUE(t.until_live(a, b));
    ASSERT_TRUE(t.until_live(c, b));
    EXPECT_EQ(b->sessions().size(), 2u);  // two centrals at once
    std::optional<bool> pending;
    b->confirm_pairing(device_path("00:1A:7D:DA:71:0D"), 1, [&](bool ok) { pending = ok; });
    b->bluez_gone();
    for (const auto& s : b->sessions()) EXPECT_EQ(s.state, "invalidated");
    ASSERT_TRUE(pending.has_value());
    EXPECT_FALSE(*pending);
    a->remove_adapter(kAdapterPath);
    EXPECT_TRUE(a->sessions().empty());
    EXPECT_EQ(a.invalidated.back().reason, "LinkLost");
    EXPECT_TRUE(b.bluez.disconnected.empty());
}

TEST(Manager, ThePairingWindowClosesWhenItsTimeIsUp) {
    Testbed t;
    Node& b = t.node("b", kAddrB);
    ASSERT_TRUE(b->set_pairing_window("hci0", 30).has_value());
    const int opened = b.adapter_changes;
    t.loop.advance(29s);
    EXPECT_TRUE(b->adapters()[0].pairing_window_open);
    EXPECT_EQ(b->adapters()[0].pairing_window_remaining, 1u);
    EXPECT_EQ(b.adapter_changes, opened);
    t.loop.advance(1s);
    EXPECT_FALSE(b->adapters()[0].pairing_window_open);
    EXPECT_EQ(b.adapter_changes, opened + 1);  // the window's timer told the API
    // And with it closed, the window plugin refuses a first contact.
    Node& a = t.node("a", kAddrA);
    t.connect(a, b);
    ASSERT_TRUE(t.loop.settle_until([&] { return b.bluez.asked(a.path()); }));
    EXPECT_FALSE(b.session_with(a));
}

}  // namespace
}  // namespace br::daemon::test

namespace br::daemon::test {
namespace {

// Reads what is there now without blocking: the bytes, "" at end-of-stream,
// nullopt if nothing yet.
std::optional<std::string> read_now(int fd) {
    char buf[256];
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN ? std::nullopt : std::optional<std::string>("");
    return std::string(buf, static_cast<std::size_t>(n));
}

// Issue #12: at expiry with OnExpiry=rekey the session's channels close
// (their applications read end-of-stream, the link stays) and channels open
// again under the new epoch; over the channel hub's stand-in transport.
TEST(Manager, AtExpiryWithRekeyTheOldChannelsCloseAndNewOnesOpen) {
    UnixTransport ta{kAddrA}, tb{kAddrB};  // outlive the managers
    Testbed t;
    auto short_lived = [](Config& c) { c.validity_seconds = 120; };  // OnExpiry = rekey
    Node& a = t.node("a", kAddrA, short_lived);
    Node& b = t.node("b", kAddrB, short_lived);
    ASSERT_TRUE(a->enable_channels(ta));
    ASSERT_TRUE(b->enable_channels(tb));
    std::vector<int> served;  // B's service's ends of the channels
    ASSERT_TRUE(b->register_service(
                     "echo", ":1.7",
                     [&](const std::string&, const std::string&, const std::string&, int fd) {
                         served.push_back(fd);
                         return true;
                     })
                    .has_value());
    t.connect(a, b);
    ASSERT_TRUE(t.until_live(a, b));
    a->set_peer_psm(b.path(), 0x0081);

    auto open = [&](int& app) {
        int sv[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        app = sv[0];
        std::optional<bool> ok;
        a->open_channel("hci0", a.session_with(b)->peer_id, "echo", sv[1],
                        [&](ApiResult<bool> r) { ok = r.has_value(); });
        const std::size_t before = served.size();
        EXPECT_TRUE(t.loop.settle_until([&] { return ok && served.size() > before; }));
        return ok.value_or(false);
    };
    auto carries = [&](int app, int far, const std::string& text) {
        EXPECT_EQ(::send(app, text.data(), text.size(), 0), static_cast<ssize_t>(text.size()));
        std::optional<std::string> got;
        t.loop.settle_until([&] { return (got = read_now(far)).has_value(); });
        return got.value_or("<nothing>");
    };

    int app1 = -1;
    ASSERT_TRUE(open(app1));
    EXPECT_EQ(carries(app1, served.back(), "epoch 1"), "epoch 1");
    const int far1 = served.back();

    t.loop.advance(120s);  // expiry: invalidated (Expired), then the central's rekey
    ASSERT_TRUE(t.until_live(a, b));
    EXPECT_EQ(a.session_with(b)->epoch, 2u);
    EXPECT_EQ(a.invalidated.back().reason, "Expired");
    // Both ends of the old channel read end-of-stream; the link stayed.
    std::optional<std::string> end_a, end_b;
    EXPECT_TRUE(t.loop.settle_until([&] {
        if (!end_a) end_a = read_now(app1);
        if (!end_b) end_b = read_now(far1);
        return end_a && end_b;
    }));
    EXPECT_EQ(end_a.value_or("<nothing>"), "");
    EXPECT_EQ(end_b.value_or("<nothing>"), "");
    EXPECT_TRUE(a.bluez.disconnected.empty() && b.bluez.disconnected.empty());

    int app2 = -1;
    ASSERT_TRUE(open(app2));
    EXPECT_EQ(carries(app2, served.back(), "epoch 2"), "epoch 2");
    EXPECT_EQ(a->channels()->channels("hci0", PeerId::parse(a.session_with(b)->peer_id).value()),
              1u);
    for (int fd : served) ::close(fd);
    ::close(app1);
    ::close(app2);
}

}  // namespace
}  // namespace br::daemon::test
