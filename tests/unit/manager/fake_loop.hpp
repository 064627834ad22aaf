// SPDX-License-Identifier: MIT
// A Loop whose clock moves only when the test says: advance() runs every
// timer as its time comes, in order, so a 25-second deadline is reached in
// microseconds.  File-descriptor watches (the plugin host's mailbox, which
// its worker threads post to) are polled for real, without waiting.
#pragma once

#include <poll.h>

#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "core/time/clock.hpp"
#include "daemon/loop.hpp"

namespace br::daemon::test {

class FakeLoop final : public Loop {
  public:
    // The wall clock moves with the monotonic one (a ManualClock the
    // managers read certificates' times from).
    explicit FakeLoop(time::ManualClock& wall) : wall_(wall) {}

    TimerId add_timer(std::chrono::milliseconds delay, std::function<void()> cb) override {
        const TimerId id = next_++;
        timers_[id] = Timer{now_ + delay, id, std::move(cb)};
        return id;
    }
    void cancel(TimerId id) override { timers_.erase(id); }
    Clock::time_point now() const override { return now_; }
    // epoll's EPOLLIN/EPOLLOUT/EPOLLHUP/EPOLLERR have poll's values.
    void watch_fd(int fd, std::uint32_t events, FdCallback cb) override {
        fds_[fd] = Watch{static_cast<short>(events & (POLLIN | POLLOUT | POLLPRI)),
                         std::make_shared<FdCallback>(std::move(cb))};
    }
    void unwatch_fd(int fd) override { fds_.erase(fd); }

    // Runs whatever is due now (deferred work, ready descriptors) until
    // nothing is left to do at this instant.
    void settle() {
        for (bool ran = true; ran;) ran = run_one_due() || poll_fds(0);
    }
    // Time passes: every timer due within `d` runs at its time.
    void advance(std::chrono::milliseconds d) {
        const auto target = now_ + d;
        for (;;) {
            settle();
            auto next = earliest();
            if (!next || *next > target) break;
            move_to(*next);
        }
        move_to(target);
        settle();
    }
    // The loop was busy for `d` (a loaded CPU): every timer due within it
    // runs late, at the end, earliest first.
    void stall(std::chrono::milliseconds d) {
        move_to(now_ + d);
        settle();
    }
    // Real time passes (up to `limit`) for the plugin workers, until `done`.
    bool settle_until(const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(10)) {
        const auto end = std::chrono::steady_clock::now() + limit;
        for (;;) {
            settle();
            if (done()) return true;
            if (std::chrono::steady_clock::now() > end) return false;
            poll_fds(5);
        }
    }
    std::size_t timers() const { return timers_.size(); }

  private:
    struct Timer {
        Clock::time_point at;
        TimerId id;
        std::function<void()> cb;
    };
    std::optional<Clock::time_point> earliest() const {
        std::optional<Clock::time_point> e;
        for (const auto& [id, t] : timers_)
            if (!e || t.at < *e) e = t.at;
        return e;
    }
    void move_to(Clock::time_point t) {
        if (t <= now_) return;
        wall_.advance(std::chrono::duration_cast<time::Nanos>(t - now_));
        now_ = t;
    }
    bool run_one_due() {
        const Timer* best = nullptr;
        for (const auto& [id, t] : timers_)
            if (t.at <= now_ && (!best || t.at < best->at || (t.at == best->at && id < best->id)))
                best = &t;
        if (!best) return false;
        auto cb = std::move(timers_.at(best->id).cb);
        timers_.erase(best->id);
        cb();
        return true;
    }
    bool poll_fds(int timeout_ms) {
        if (fds_.empty()) return false;
        std::vector<pollfd> p;
        for (const auto& [fd, w] : fds_) p.push_back({fd, w.events, 0});
        if (::poll(p.data(), p.size(), timeout_ms) <= 0) return false;
        bool ran = false;
        for (const auto& x : p) {
            if (!x.revents) continue;
            auto it = fds_.find(x.fd);
            if (it == fds_.end()) continue;
            auto cb = it->second.cb;  // the callback may unwatch itself
            (*cb)(static_cast<std::uint32_t>(x.revents));
            ran = true;
        }
        return ran;
    }

    time::ManualClock& wall_;
    Clock::time_point now_{std::chrono::hours(1000)};
    TimerId next_ = 1;
    std::map<TimerId, Timer> timers_;
    struct Watch {
        short events;
        std::shared_ptr<FdCallback> cb;
    };
    std::map<int, Watch> fds_;
};

}  // namespace br::daemon::test
