// SPDX-License-Identifier: MIT
#include "daemon/bluez/slot_table.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace br::daemon::bluez {
namespace {

std::string dev(int i) {
    return "/org/bluez/hci0/dev_C2_00_00_00_00_" + std::to_string(10 + i);
}

TEST(SlotTable, DistinctSlotsUntilFullThenNone) {
    SlotTable t(4);
    std::set<std::size_t> seen;
    for (int i = 0; i < 4; ++i) {
        auto k = t.assign(dev(i));
        ASSERT_TRUE(k);
        EXPECT_LT(*k, 4u);
        seen.insert(*k);
    }
    EXPECT_EQ(seen.size(), 4u);
    EXPECT_FALSE(t.assign(dev(4)));  // the fifth central uses the shared tx
    EXPECT_FALSE(t.slot_of(dev(4)));
    t.release(dev(2));
    EXPECT_TRUE(t.assign(dev(4)));
}

TEST(SlotTable, AssignIsIdempotentPerConnection) {
    SlotTable t(4);
    auto k = t.assign(dev(0));
    EXPECT_EQ(t.assign(dev(0)), k);
    EXPECT_EQ(t.slot_of(dev(0)), k);
    EXPECT_EQ(t.held(), 1u);
}

TEST(SlotTable, ADeviceGetsItsOldSlotBackWhenFree) {
    SlotTable t(4);
    for (int i = 0; i < 4; ++i) t.assign(dev(i));
    auto k2 = t.slot_of(dev(2));
    auto k3 = t.slot_of(dev(3));
    t.release(dev(2));
    t.release(dev(3));
    // Reconnected in the other order: each still gets its own slot.
    EXPECT_EQ(t.assign(dev(3)), k3);
    EXPECT_EQ(t.assign(dev(2)), k2);
}

TEST(SlotTable, NewcomersTakeNeverHeldSlotsBeforeSomeonesOld) {
    SlotTable t(3);
    auto k0 = t.assign(dev(0));
    t.release(dev(0));
    auto k1 = t.assign(dev(1));
    EXPECT_NE(k1, k0);  // slot k0 stays for dev 0's return
    auto k2 = t.assign(dev(2));
    EXPECT_NE(k2, k0);
    EXPECT_EQ(t.assign(dev(0)), k0);
}

TEST(SlotTable, ReleaseAllFreesEverySlotButRemembersTheirOwners) {
    SlotTable t(2);
    auto k0 = t.assign(dev(0));
    auto k1 = t.assign(dev(1));
    t.release_all();
    EXPECT_EQ(t.held(), 0u);
    EXPECT_FALSE(t.slot_of(dev(0)));
    EXPECT_EQ(t.assign(dev(1)), k1);
    EXPECT_EQ(t.assign(dev(0)), k0);
}

TEST(SlotTable, ReleasingAnUnknownDeviceIsHarmless) {
    SlotTable t(1);
    t.release(dev(9));
    EXPECT_TRUE(t.assign(dev(0)));
}

}  // namespace
}  // namespace br::daemon::bluez
