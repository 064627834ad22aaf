// SPDX-License-Identifier: MIT
#include "core/store/state.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>

#include "store_test_util.hpp"

namespace br::store {
namespace {

using testing::mode_of;
using testing::TempDir;

TEST(AdapterNames, Validation) {
    EXPECT_TRUE(is_valid_adapter_name("AA_BB_CC_DD_EE_FF"));
    EXPECT_TRUE(is_valid_adapter_name("hci0"));
    for (const char* bad : {"", ".", "..", ".x", "a/b", "a b", "a\nb"}) {
        EXPECT_FALSE(is_valid_adapter_name(bad)) << bad;
    }
    EXPECT_FALSE(is_valid_adapter_name(std::string(65, 'a')));
    EXPECT_EQ(adapter_name_from_address("aa:bb:cc:00:11:22"), "AA_BB_CC_00_11_22");
    EXPECT_FALSE(adapter_name_from_address("aa:bb:cc:00:11"));
}

TEST(AdapterDir, CreatesLayoutWithPrivateModes) {
    TempDir base;
    const std::string state = base / "state";
    auto dir = AdapterDir::open(state, "AA_BB_CC_DD_EE_FF");
    ASSERT_TRUE(dir) << dir.error().message();
    EXPECT_EQ(dir->path(), state + "/AA_BB_CC_DD_EE_FF");
    EXPECT_EQ(mode_of(state), 0700u);
    EXPECT_EQ(mode_of(dir->path()), 0700u);
    auto bad = AdapterDir::open(state, "../escape");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, StoreErrc::BadName);
    EXPECT_FALSE(AdapterDir::open(base / "missing", "x", false));
}

TEST(AdapterDir, RefusesSymlinkedOrWritableStateDir) {
    TempDir base;
    ASSERT_TRUE(AdapterDir::open(base / "real", "hci0"));
    ASSERT_EQ(::symlink((base / "real").c_str(), (base / "link").c_str()), 0);
    auto r = AdapterDir::open(base / "link", "hci0");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, StoreErrc::IsSymlink);
    ASSERT_EQ(::chmod((base / "real/hci0").c_str(), 0777), 0);
    r = AdapterDir::open(base / "real", "hci0");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, StoreErrc::InsecurePermissions);
    EXPECT_NE(r.error().message().find("real/hci0"), std::string::npos) << r.error().message();
}

TEST(Identity, CreatedOnceThenLoaded) {
    TempDir base;
    auto dir = AdapterDir::open(base / "s", "hci0");
    ASSERT_TRUE(dir);
    auto a = load_or_create_identity(*dir, 1'800'000'000);
    ASSERT_TRUE(a) << a.error().message();
    EXPECT_EQ(mode_of(dir->path() + "/identity"), 0600u);
    auto b = load_or_create_identity(*dir);
    ASSERT_TRUE(b);
    EXPECT_EQ(a->public_key(), b->public_key());
    EXPECT_TRUE(ct_equal(a->seed(), b->seed()));
    // Another adapter has another identity.
    auto other = AdapterDir::open(base / "s", "hci1");
    ASSERT_TRUE(other);
    auto c = load_or_create_identity(*other);
    ASSERT_TRUE(c);
    EXPECT_NE(a->public_key(), c->public_key());
}

TEST(Identity, CorruptFileIsAnErrorAndIsNotReplaced) {
    TempDir base;
    auto dir = AdapterDir::open(base / "s", "hci0");
    ASSERT_TRUE(dir);
    ASSERT_TRUE(load_or_create_identity(*dir));
    const std::string file = dir->path() + "/identity";
    {
        std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(20);
        f.put('\x55');
    }
    const auto before = std::filesystem::file_size(file);
    auto r = load_or_create_identity(*dir);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, StoreErrc::ChecksumMismatch);
    EXPECT_NE(r.error().message().find(file), std::string::npos) << r.error().message();
    EXPECT_EQ(std::filesystem::file_size(file), before);
}

TEST(ClockFile, SaveLoadAndFeedLastKnownGood) {
    TempDir base;
    auto dir = AdapterDir::open(base / "s", "hci0");
    ASSERT_TRUE(dir);
    auto none = load_clock(*dir);
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->has_value());

    time::ManualClock clock(0);  // no RTC: boots at 1970
    time::LastKnownGood lkg(clock, 1'900'000'000);
    clock.advance(std::chrono::seconds(30));
    ASSERT_TRUE(save_clock(*dir, lkg.value_to_save()));
    EXPECT_EQ(mode_of(dir->path() + "/clock"), 0600u);

    auto loaded = load_clock(*dir);
    ASSERT_TRUE(loaded);
    ASSERT_TRUE(loaded->has_value());
    EXPECT_EQ(**loaded, 1'900'000'030);
    time::ManualClock reboot(0);
    time::LastKnownGood after(reboot, **loaded);
    EXPECT_EQ(after.now(), 1'900'000'030);

    std::filesystem::resize_file(dir->path() + "/clock", 10);
    auto bad = load_clock(*dir);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, StoreErrc::Truncated);
    EXPECT_NE(bad.error().message().find("/clock"), std::string::npos);
}

}  // namespace
}  // namespace br::store
