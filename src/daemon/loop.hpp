// SPDX-License-Identifier: MIT
// What the daemon's logic needs of an event loop: one-shot timers on the
// monotonic clock, file-descriptor watches, and the time now.  EventLoop
// (event_loop.hpp) is the real one, on epoll and the bus; the unit tests of
// the manager and its connections run on a fake loop whose clock they move
// by hand, so every deadline can be reached without waiting for it.
//
// Contract (both implementations): every callback runs on the loop's one
// thread, never from inside the call that registered it; a timer or watch
// cancelled before it ran is never called; add_timer(0) (defer) runs after
// the current callback returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace br::daemon {

class Loop {
  public:
    using Clock = std::chrono::steady_clock;
    using TimerId = std::uint64_t;
    using FdCallback = std::function<void(std::uint32_t epoll_events)>;

    virtual ~Loop() = default;

    // One-shot timers.  cancel() of an unknown or fired id (or 0) is a no-op.
    virtual TimerId add_timer(std::chrono::milliseconds delay, std::function<void()> cb) = 0;
    virtual void cancel(TimerId id) = 0;
    // The loop's monotonic time: what timers are measured against.
    virtual Clock::time_point now() const = 0;
    // Watches fd for `events` (EPOLLIN, ...); EPOLLHUP/EPOLLERR are always
    // reported.  One watch per fd; watching again replaces the callback.
    virtual void watch_fd(int fd, std::uint32_t events, FdCallback cb) = 0;
    virtual void unwatch_fd(int fd) = 0;

    // Runs cb on the next iteration (after the current callback returns):
    // for work that must not happen inside a library callback, such as
    // destroying the object that is delivering the event.
    void defer(std::function<void()> cb) { add_timer(std::chrono::milliseconds(0), std::move(cb)); }
};

}  // namespace br::daemon
