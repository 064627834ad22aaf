// SPDX-License-Identifier: MIT
// The daemon's EventLoop on a thread of its own, for tests that drive
// sockets from the test's thread: run() and call() hand the loop work.
#pragma once

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "daemon/event_loop.hpp"

namespace br::daemon {

class LoopThread {
  public:
    LoopThread() {
        wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        loop.watch_fd(wake_, EPOLLIN, [this](std::uint32_t) {
            std::uint64_t n;
            while (::read(wake_, &n, sizeof n) == sizeof n) {
            }
            std::deque<std::function<void()>> work;
            {
                std::lock_guard<std::mutex> l(m_);
                work.swap(work_);
            }
            for (auto& w : work) w();
        });
        thread_ = std::thread([this] { loop.run(); });
    }
    ~LoopThread() {
        run([this] { loop.stop(); });
        thread_.join();
        ::close(wake_);
    }
    void run(std::function<void()> f) {
        {
            std::lock_guard<std::mutex> l(m_);
            work_.push_back(std::move(f));
        }
        std::uint64_t one = 1;
        if (::write(wake_, &one, sizeof one) != sizeof one) std::abort();
    }
    template <typename F>
    auto call(F f) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto result = task.get_future();
        run([&task] { task(); });
        return result.get();
    }

    EventLoop loop;

  private:
    int wake_ = -1;
    std::mutex m_;
    std::deque<std::function<void()>> work_;
    std::thread thread_;
};

}  // namespace br::daemon
