// SPDX-License-Identifier: MIT
#include "core/time/clock.hpp"

#include <gtest/gtest.h>

#include <random>

namespace br::time {
namespace {

using namespace std::chrono_literals;

constexpr UnixSeconds kT0 = 1'900'000'000;  // after any plausible build time

TEST(BuildTime, IsSetByMeson) {
    // 2024-01-01; the build that runs this test is later.
    EXPECT_GT(build_unix_time(), 1'704'067'200);
}

TEST(SystemClock, PlausibleReadings) {
    SystemClock c;
    const Nanos a = c.monotonic();
    const Nanos b = c.monotonic();
    EXPECT_LE(a, b);
    EXPECT_GE(c.wall_unix(), build_unix_time() - 86400);
}

TEST(ManualClock, AdvanceMovesBoth) {
    ManualClock c(kT0, 5s);
    c.advance(1500ms);
    EXPECT_EQ(c.monotonic(), 6500ms);
    EXPECT_EQ(c.wall_unix(), kT0 + 1);
    c.advance(500ms);
    EXPECT_EQ(c.wall_unix(), kT0 + 2);
    c.set_wall(kT0 - 1000);
    EXPECT_EQ(c.wall_unix(), kT0 - 1000);
    EXPECT_EQ(c.monotonic(), 7s);
    c.advance_wall(10);
    EXPECT_EQ(c.wall_unix(), kT0 - 990);
    c.set_monotonic(1s);  // ignored: monotonic never goes back
    EXPECT_EQ(c.monotonic(), 7s);
    c.set_monotonic(9s);
    EXPECT_EQ(c.monotonic(), 9s);
}

TEST(Deadline, UsesMonotonicTimeOnly) {
    ManualClock c(kT0, 100s);
    Deadline d(c, 30s);
    EXPECT_EQ(d.expires_at(), 130s);
    EXPECT_FALSE(d.expired(c));
    EXPECT_EQ(d.remaining(c), 30s);
    c.set_wall(kT0 + 365 * 86400);  // wall jumps a year ahead
    EXPECT_FALSE(d.expired(c));
    c.set_wall(0);  // and back to 1970
    EXPECT_FALSE(d.expired(c));
    EXPECT_EQ(d.remaining(c), 30s);
    c.advance(29s);
    EXPECT_FALSE(d.expired(c));
    EXPECT_EQ(d.remaining(c), 1s);
    c.advance(1s);
    EXPECT_TRUE(d.expired(c));
    EXPECT_EQ(d.remaining(c), 0s);
    c.advance(1h);
    EXPECT_EQ(d.remaining(c), 0s);
    EXPECT_TRUE(Deadline::at(50s).expired(c));
}

TEST(LastKnownGood, FloorIsBuildTimeWithoutRtc) {
    ManualClock c(0);  // booted at 1970
    LastKnownGood lkg(c);
    EXPECT_EQ(lkg.now(), build_unix_time());
    c.advance(10s);
    EXPECT_EQ(lkg.now(), build_unix_time() + 10);
}

TEST(LastKnownGood, PersistedValueRaisesFloor) {
    ManualClock c(0);
    LastKnownGood lkg(c, kT0);
    EXPECT_EQ(lkg.now(), kT0);
    // An older persisted value than the build time is ignored.
    LastKnownGood old(c, 1000);
    EXPECT_EQ(old.now(), build_unix_time());
}

TEST(LastKnownGood, WallClockAheadIsUsed) {
    ManualClock c(kT0);
    LastKnownGood lkg(c);
    EXPECT_EQ(lkg.now(), kT0);
    c.advance(5s);
    EXPECT_EQ(lkg.now(), kT0 + 5);
}

TEST(LastKnownGood, WallJumpBackwardsNeverLowersNow) {
    ManualClock c(kT0);
    LastKnownGood lkg(c);
    EXPECT_EQ(lkg.now(), kT0);
    c.set_wall(kT0 - 86400);
    EXPECT_EQ(lkg.now(), kT0);
    c.advance(3s);  // keeps counting on the monotonic clock
    EXPECT_EQ(lkg.now(), kT0 + 3);
    c.set_wall(0);
    EXPECT_EQ(lkg.now(), kT0 + 3);
    c.set_wall(kT0 + 100);  // forward again: followed
    EXPECT_EQ(lkg.now(), kT0 + 100);
}

TEST(LastKnownGood, ObserveRaisesFloorOnly) {
    ManualClock c(0);
    LastKnownGood lkg(c, kT0);
    EXPECT_TRUE(lkg.observe(kT0 + 50));
    EXPECT_EQ(lkg.now(), kT0 + 50);
    EXPECT_FALSE(lkg.observe(kT0 + 10));
    EXPECT_EQ(lkg.now(), kT0 + 50);
    c.advance(2s);
    EXPECT_EQ(lkg.value_to_save(), kT0 + 52);
}

TEST(LastKnownGood, RandomWallJumpsNeverGoBackwards) {
    std::mt19937_64 rng(7);
    ManualClock c(kT0);
    LastKnownGood lkg(c);
    UnixSeconds prev = lkg.now();
    for (int i = 0; i < 10000; ++i) {
        switch (rng() % 4) {
            case 0:
                c.set_wall(static_cast<UnixSeconds>(rng() % (2 * kT0)));
                break;
            case 1:
                c.advance(Nanos(static_cast<std::int64_t>(rng() % 5'000'000'000ULL)));
                break;
            case 2:
                (void)lkg.observe(static_cast<UnixSeconds>(rng() % (2 * kT0)));
                break;
            default:
                c.advance_wall(static_cast<std::int64_t>(rng() % 200) - 100);
                break;
        }
        const UnixSeconds n = lkg.now();
        ASSERT_GE(n, prev);
        ASSERT_GE(n, c.wall_unix());
        prev = n;
    }
}

TEST(ClockRecord, RoundTrip) {
    Bytes rec = encode_clock_record(kT0);
    EXPECT_EQ(rec.size(), kClockRecordLen);
    auto t = decode_clock_record(rec);
    ASSERT_TRUE(t);
    EXPECT_EQ(*t, kT0);
}

TEST(ClockRecord, Errors) {
    Bytes rec = encode_clock_record(kT0);
    for (std::size_t n = 0; n < rec.size(); ++n) {
        auto t = decode_clock_record(ByteView(rec).subspan(0, n));
        ASSERT_FALSE(t) << n;
        EXPECT_EQ(t.error(), ClockRecordError::Truncated) << n;
    }
    for (std::size_t bit = 0; bit < rec.size() * 8; ++bit) {
        Bytes bad = rec;
        bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        auto t = decode_clock_record(bad);
        ASSERT_FALSE(t) << bit;
        if (bit < 32)
            EXPECT_EQ(t.error(), ClockRecordError::BadMagic);
        else if (bit < 48)
            EXPECT_EQ(t.error(), ClockRecordError::UnsupportedVersion);
        else
            EXPECT_EQ(t.error(), ClockRecordError::ChecksumMismatch);
    }
    Bytes longer = rec;
    longer.push_back(0);
    EXPECT_EQ(decode_clock_record(longer).error(), ClockRecordError::BadValue);
    EXPECT_STREQ(to_string(ClockRecordError::ChecksumMismatch), "clock record checksum mismatch");
}

}  // namespace
}  // namespace br::time
