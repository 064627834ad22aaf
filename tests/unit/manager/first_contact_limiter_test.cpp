// SPDX-License-Identifier: MIT
#include "daemon/manager/first_contact_limiter.hpp"

#include <gtest/gtest.h>

namespace br::daemon {
namespace {

using namespace std::chrono_literals;
using Clock = FirstContactLimiter::Clock;

TEST(FirstContactLimiter, AdmitsUntilTheLimitOfFailuresInAMinute) {
    FirstContactLimiter l(3);
    Clock::time_point t0{};
    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(l.admit(t0 + i * 1s));
        l.failed(t0 + i * 1s);
    }
    EXPECT_FALSE(l.admit(t0 + 3s));
    // The oldest failure (t0) leaves the window 60 s after it happened.
    EXPECT_EQ(l.retry_after(t0 + 3s), 57);
    EXPECT_FALSE(l.admit(t0 + 59s));
    EXPECT_TRUE(l.admit(t0 + 60s));
    EXPECT_EQ(l.retry_after(t0 + 60s), 0);
}

TEST(FirstContactLimiter, OnlyFailuresCount) {
    FirstContactLimiter l(1);
    Clock::time_point t0{};
    for (int i = 0; i < 100; ++i) EXPECT_TRUE(l.admit(t0 + i * 1ms));  // admitted, none failed
    l.failed(t0);
    EXPECT_FALSE(l.admit(t0 + 1ms));
}

TEST(FirstContactLimiter, ALowerLimitTakesEffectAtOnce) {
    FirstContactLimiter l(10);
    Clock::time_point t0{};
    for (int i = 0; i < 5; ++i) l.failed(t0);
    EXPECT_TRUE(l.admit(t0));
    l.set_limit(5);
    EXPECT_FALSE(l.admit(t0));
    EXPECT_EQ(l.retry_after(t0 + 10s), 50);
}

}  // namespace
}  // namespace br::daemon
