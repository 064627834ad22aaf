// SPDX-License-Identifier: MIT
// Rate limit for first contacts that end without a session.
//
// A first contact costs the peripheral a Diffie-Hellman and a signature
// before it even knows who is asking, and an approval policy may hold an
// operator's attention.  Anybody in radio range can start one, so each
// adapter tolerates only so many that end without a session (refused by the
// policy, timed out, cut off, malformed) in any 60 s; past that, new first
// contacts are turned away before any cryptography until the oldest failure
// is a minute old.  Successful pairings cost nothing, and resumes of known
// peers are never limited: a flood of strangers does not lock out peers that
// are already paired.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>

namespace br::daemon {

class FirstContactLimiter {
  public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::chrono::seconds kWindow{60};

    explicit FirstContactLimiter(std::size_t per_minute = 10) : limit_(per_minute) {}
    void set_limit(std::size_t per_minute) { limit_ = per_minute; }

    // May a new first contact start now?
    bool admit(Clock::time_point now) {
        expire(now);
        return failures_.size() < limit_;
    }
    // A first contact ended without a session.
    void failed(Clock::time_point now) {
        expire(now);
        failures_.push_back(now);
    }
    // Seconds until admit() can say yes again (0: it does now).
    long long retry_after(Clock::time_point now) {
        expire(now);
        if (failures_.size() < limit_) return 0;
        auto at = failures_[failures_.size() - limit_] + kWindow;
        return std::chrono::ceil<std::chrono::seconds>(at - now).count();
    }

  private:
    void expire(Clock::time_point now) {
        while (!failures_.empty() && now - failures_.front() >= kWindow) failures_.pop_front();
    }

    std::size_t limit_;
    std::deque<Clock::time_point> failures_;  // oldest first
};

}  // namespace br::daemon
