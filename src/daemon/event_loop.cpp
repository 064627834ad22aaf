// SPDX-License-Identifier: MIT
#include "daemon/event_loop.hpp"

#include <sdbus-c++/IConnection.h>

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <stdexcept>

#include "daemon/log.hpp"

namespace br::daemon {

namespace {
template <typename F>
void guarded(const char* what, F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        log::error("event loop: ", what, " callback threw: ", e.what());
    } catch (...) {
        log::error("event loop: ", what, " callback threw a non-standard exception");
    }
}
}  // namespace

EventLoop::EventLoop() {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
}

EventLoop::~EventLoop() {
    if (epfd_ >= 0) ::close(epfd_);
}

void EventLoop::watch_fd(int fd, std::uint32_t events, FdCallback cb) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    bool known = fds_.count(fd) != 0;
    if (::epoll_ctl(epfd_, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0)
        throw std::runtime_error(std::string("epoll_ctl: ") + std::strerror(errno));
    fds_[fd] = std::make_shared<FdCallback>(std::move(cb));
}

void EventLoop::unwatch_fd(int fd) {
    if (fds_.erase(fd)) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
}

EventLoop::TimerId EventLoop::add_timer(std::chrono::milliseconds delay, std::function<void()> cb) {
    TimerId id = next_id_++;
    auto at = Clock::now() + delay;
    timers_[id] = Timer{at, std::move(cb)};
    due_.emplace(at, id);
    return id;
}

void EventLoop::cancel(TimerId id) {
    auto t = timers_.find(id);
    if (t == timers_.end()) return;
    // Its place in the queue goes too: a cancelled timer used to wait there
    // until its time (an hour, for a session's expiry), 70 bytes a
    // connection under load.
    auto [lo, hi] = due_.equal_range(t->second.at);
    for (auto it = lo; it != hi; ++it) {
        if (it->second == id) {
            due_.erase(it);
            break;
        }
    }
    timers_.erase(t);
}

void EventLoop::stop(int code) {
    stopping_ = true;
    exit_code_ = code;
}

int EventLoop::next_timeout_ms() {
    int timeout = -1;
    // Drop cancelled entries from the front of the queue.
    while (!due_.empty() && !timers_.count(due_.begin()->second)) due_.erase(due_.begin());
    if (!due_.empty()) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(due_.begin()->first -
                                                                          Clock::now())
                        .count();
        timeout = left <= 0 ? 0 : static_cast<int>(std::min<long long>(left + 1, INT_MAX));
    }
    if (bus_) {
        auto pd = bus_->getEventLoopPollData();
        int bus_timeout = pd.getPollTimeout();
        if (bus_timeout >= 0 && (timeout < 0 || bus_timeout < timeout)) timeout = bus_timeout;
        auto events = static_cast<std::uint32_t>(static_cast<unsigned short>(pd.events));
        if (pd.fd != bus_fd_ || events != bus_events_) {
            epoll_event ev{};
            ev.events = events;
            ev.data.fd = pd.fd;
            int op = pd.fd == bus_fd_ ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
            if (bus_fd_ >= 0 && pd.fd != bus_fd_)
                ::epoll_ctl(epfd_, EPOLL_CTL_DEL, bus_fd_, nullptr);
            if (::epoll_ctl(epfd_, op, pd.fd, &ev) != 0)
                throw std::runtime_error(std::string("epoll_ctl(bus): ") + std::strerror(errno));
            bus_fd_ = pd.fd;
            bus_events_ = events;
        }
    }
    return timeout;
}

void EventLoop::run_timers() {
    auto now = Clock::now();
    // Only timers due now; ones added by callbacks (defer) wait a turn, so
    // that bus dispatch in between cannot be starved.
    std::vector<TimerId> ready;
    for (auto it = due_.begin(); it != due_.end() && it->first <= now;) {
        ready.push_back(it->second);
        it = due_.erase(it);
    }
    for (TimerId id : ready) {
        auto t = timers_.find(id);
        if (t == timers_.end()) continue;  // cancelled meanwhile
        auto cb = std::move(t->second.cb);
        timers_.erase(t);
        guarded("timer", cb);
    }
}

void EventLoop::dispatch_bus() {
    if (!bus_) return;
    // Bounded so a flood of bus messages cannot starve timers and sockets.
    for (int i = 0; i < 256; ++i) {
        bool more = false;
        guarded("bus", [&] { more = bus_->processPendingRequest(); });
        if (!more) break;
    }
}

int EventLoop::run() {
    constexpr int kMaxEvents = 32;
    epoll_event events[kMaxEvents];
    stopping_ = false;  // a loop stopped once can be run again
    dispatch_bus();
    while (!stopping_) {
        int timeout = next_timeout_ms();
        int n = ::epoll_wait(epfd_, events, kMaxEvents, timeout);
        if (n < 0) {
            if (errno == EINTR) continue;
            log::error("epoll_wait: ", std::strerror(errno));
            return 1;
        }
        for (int i = 0; i < n && !stopping_; ++i) {
            int fd = events[i].data.fd;
            if (fd == bus_fd_) continue;  // dispatched below in any case
            auto it = fds_.find(fd);
            if (it == fds_.end()) continue;
            auto cb = it->second;  // keeps the callback alive if it unwatches itself
            std::uint32_t ev = events[i].events;
            guarded("fd", [&] { (*cb)(ev); });
        }
        if (stopping_) break;
        run_timers();
        dispatch_bus();
    }
    return exit_code_;
}

}  // namespace br::daemon
