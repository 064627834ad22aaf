// SPDX-License-Identifier: MIT
#include "daemon/event_loop.hpp"

#include <gtest/gtest.h>

namespace br::daemon {
namespace {

using namespace std::chrono_literals;

TEST(EventLoop, ACancelledTimerLeavesNothingQueued) {
    // Each connection arms an hour-long expiry timer and cancels it when the
    // link drops: ten thousand of them must not stay queued for the hour.
    EventLoop loop;
    for (int i = 0; i < 10000; ++i) loop.cancel(loop.add_timer(1h, [] { FAIL(); }));
    EXPECT_EQ(loop.timers_armed(), 0u);
    EXPECT_EQ(loop.timers_queued(), 0u);
}

TEST(EventLoop, CancellingOneOfTimersDueAtTheSameTimeKeepsTheOthers) {
    EventLoop loop;
    int ran = 0;
    std::vector<EventLoop::TimerId> ids;
    for (int i = 0; i < 5; ++i) ids.push_back(loop.add_timer(0ms, [&] { ++ran; }));
    loop.cancel(ids[2]);
    loop.cancel(ids[2]);  // twice: a no-op
    EXPECT_EQ(loop.timers_queued(), 4u);
    loop.add_timer(20ms, [&] { loop.stop(0); });
    EXPECT_EQ(loop.run(), 0);
    EXPECT_EQ(ran, 4);
    EXPECT_EQ(loop.timers_queued(), 0u);
}

TEST(EventLoop, ACallbackMayCancelATimerThatIsAlsoDue) {
    EventLoop loop;
    bool second_ran = false;
    EventLoop::TimerId second = 0;
    loop.add_timer(0ms, [&] { loop.cancel(second); });
    second = loop.add_timer(0ms, [&] { second_ran = true; });
    loop.add_timer(20ms, [&] { loop.stop(0); });
    EXPECT_EQ(loop.run(), 0);
    EXPECT_FALSE(second_ran);
    EXPECT_EQ(loop.timers_armed(), 0u);
}

}  // namespace
}  // namespace br::daemon
