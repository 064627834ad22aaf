// SPDX-License-Identifier: MIT
#include "daemon/bluez/central_start.hpp"
#include "daemon/bluez/pair_hold.hpp"

#include <gtest/gtest.h>

namespace br::daemon::bluez {
namespace {

using namespace std::chrono_literals;
using V = CentralStart::Verdict;
const std::string kDev = "/org/bluez/hci0/dev_00_AA_01_00_00_00";
const CentralStart::Clock::time_point t0{std::chrono::seconds(100)};

TEST(CentralStart, ServicesResolvedStartsAtOnce) {
    CentralStart s;
    // Even with no characteristic seen on this connection (bluetoothd's
    // cache): ServicesResolved is bluetoothd's word that they are usable.
    EXPECT_EQ(s.decide(kDev, 1, true, t0).verdict, V::Resolved);
    s.chrc_added(kDev, 1, t0);
    EXPECT_EQ(s.decide(kDev, 1, true, t0).verdict, V::Resolved);
}

// BlueZ 5.66 as the testbed saw it: the services of a new connection
// exported, ServicesResolved never true.
TEST(CentralStart, WithoutServicesResolvedStartsOnceOurCharacteristicsSettled) {
    CentralStart s;
    s.chrc_added(kDev, 3, t0);
    auto d = s.decide(kDev, 3, false, t0);
    EXPECT_EQ(d.verdict, V::Wait);
    EXPECT_EQ(d.retry_in, CentralStart::kSettle);
    // Another one 300 ms later: the quiet second counts from it.
    s.chrc_added(kDev, 3, t0 + 300ms);
    d = s.decide(kDev, 3, false, t0 + 800ms);
    EXPECT_EQ(d.verdict, V::Wait);
    EXPECT_EQ(d.retry_in, 500ms);
    EXPECT_EQ(s.decide(kDev, 3, false, t0 + 1299ms).verdict, V::Wait);
    EXPECT_EQ(s.decide(kDev, 3, false, t0 + 1300ms).verdict, V::Settled);
    EXPECT_TRUE(s.decide(kDev, 3, false, t0 + 1300ms).start());
}

TEST(CentralStart, CharacteristicsOfAnEarlierConnectionDoNotCount) {
    CentralStart s;
    s.chrc_added(kDev, 3, t0);
    // Reconnected: bluetoothd still has the objects from connection 3, and
    // calls on them fail until it has read the services again.
    auto d = s.decide(kDev, 4, false, t0 + 10s);
    EXPECT_EQ(d.verdict, V::Wait);
    EXPECT_EQ(d.retry_in, 0ms);  // nothing to wait for but an event
    s.chrc_added(kDev, 4, t0 + 11s);
    EXPECT_EQ(s.decide(kDev, 4, false, t0 + 12s).verdict, V::Settled);
}

// bluetoothd 5.66 at a disconnect: ServicesResolved=false, then
// Connected=false a moment later (seen on the testbed: without this rule the
// central started on the dying link).
TEST(CentralStart, ServicesResolvedFalseAgainIsTheLinkGoing) {
    CentralStart s;
    s.chrc_added(kDev, 5, t0);
    s.resolved(kDev, 5);
    EXPECT_EQ(s.decide(kDev, 5, true, t0 + 100ms).verdict, V::Resolved);
    auto d = s.decide(kDev, 5, false, t0 + 30s);
    EXPECT_EQ(d.verdict, V::Wait);
    EXPECT_EQ(d.retry_in, 0ms);
    // The next connection starts afresh.
    s.chrc_added(kDev, 6, t0 + 40s);
    EXPECT_EQ(s.decide(kDev, 6, false, t0 + 41s).verdict, V::Settled);
}

TEST(CentralStart, ForgottenDevicesAndOtherDevicesWait) {
    CentralStart s;
    s.chrc_added(kDev, 1, t0);
    EXPECT_EQ(s.decide(kDev + "1", 1, false, t0 + 5s).verdict, V::Wait);
    s.forget(kDev);
    EXPECT_EQ(s.decide(kDev, 1, false, t0 + 5s).verdict, V::Wait);
    s.chrc_added(kDev, 1, t0);
    s.forget_all();
    EXPECT_EQ(s.decide(kDev, 1, false, t0 + 5s).verdict, V::Wait);
}

TEST(CentralStart, ServicesSeenIsPerConnection) {
    CentralStart s;
    EXPECT_FALSE(s.services_seen(kDev, 1));
    s.resolved(kDev, 1);
    EXPECT_TRUE(s.services_seen(kDev, 1));
    EXPECT_FALSE(s.services_seen(kDev, 2));  // a new connection starts unseen
    s.chrc_added(kDev, 2, t0);
    EXPECT_TRUE(s.services_seen(kDev, 2));
}

// BlueZ 5.87 holding GATT for the pairing (pair_hold.hpp): every fact as on
// the testbed's central, then each one changed alone.
TEST(PairHold, HeldOnlyWhenNothingOfGattCameOnTheCentralsConnection) {
    PairHoldFacts held;
    held.connected = true;
    held.same_connection = true;
    held.waits_for_link = true;
    held.we_are_central = true;
    EXPECT_TRUE(PairHold::held(held));

    auto with = [&](auto change) {
        PairHoldFacts f = held;
        change(f);
        return PairHold::held(f);
    };
    EXPECT_FALSE(with([](auto& f) { f.connected = false; }));
    EXPECT_FALSE(with([](auto& f) { f.same_connection = false; }));  // it reconnected
    EXPECT_FALSE(with([](auto& f) { f.waits_for_link = false; }));   // answered or ours
    EXPECT_FALSE(with([](auto& f) { f.client_active = true; }));     // handshake under way
    EXPECT_FALSE(with([](auto& f) { f.services_seen = true; }));     // a peer without us
    EXPECT_FALSE(with([](auto& f) { f.we_are_central = false; }));   // the peer's GATT client
    // The kernel could not say: only a daemon with no other role knows.
    EXPECT_FALSE(with([](auto& f) { f.we_are_central.reset(); }));
    EXPECT_TRUE(with([](auto& f) {
        f.we_are_central.reset();
        f.central_role_only = true;
    }));
    EXPECT_FALSE(with([](auto& f) {
        f.we_are_central = false;
        f.central_role_only = true;
    }));
}

}  // namespace
}  // namespace br::daemon::bluez
