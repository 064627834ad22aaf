// SPDX-License-Identifier: MIT
// The daemon's single-threaded event loop: epoll over file descriptors, a
// timer queue on CLOCK_MONOTONIC, and the sd-bus connection integrated
// through sdbus-c++'s getEventLoopPollData()/processPendingRequest().
//
// Every callback runs on the loop thread.  Callbacks may add or cancel
// watches and timers (including their own); the loop never calls a
// callback whose watch or timer was cancelled before it ran.  Exceptions
// escaping a callback are caught and logged: one bad event never stops the
// daemon.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "daemon/loop.hpp"

namespace sdbus {
class IConnection;
}

namespace br::daemon {

class EventLoop final : public Loop {
  public:
    EventLoop();
    ~EventLoop() override;
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // The bus connection whose messages this loop dispatches.
    void attach_bus(sdbus::IConnection& conn) { bus_ = &conn; }

    void watch_fd(int fd, std::uint32_t events, FdCallback cb) override;
    void unwatch_fd(int fd) override;
    TimerId add_timer(std::chrono::milliseconds delay, std::function<void()> cb) override;
    void cancel(TimerId id) override;
    Clock::time_point now() const override { return Clock::now(); }
    // Timers armed and not yet run or cancelled, and the length of the
    // queue behind them: equal unless something leaks (tests).
    std::size_t timers_armed() const { return timers_.size(); }
    std::size_t timers_queued() const { return due_.size(); }

    // Runs until stop(); returns the exit code given to stop().
    int run();
    void stop(int code = 0);

  private:
    void dispatch_bus();
    int next_timeout_ms();
    void run_timers();

    int epfd_ = -1;
    sdbus::IConnection* bus_ = nullptr;
    int bus_fd_ = -1;
    std::uint32_t bus_events_ = 0;
    std::map<int, std::shared_ptr<FdCallback>> fds_;
    struct Timer {
        Clock::time_point at;
        std::function<void()> cb;
    };
    std::map<TimerId, Timer> timers_;
    std::multimap<Clock::time_point, TimerId> due_;
    TimerId next_id_ = 1;
    bool stopping_ = false;
    int exit_code_ = 0;
};

}  // namespace br::daemon
