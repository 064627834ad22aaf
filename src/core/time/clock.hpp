// SPDX-License-Identifier: MIT
// Clocks for the core: a monotonic clock for durations and a wall clock for
// certificate validity, behind one interface so tests can drive both.
//
// Durations (certificate lifetimes, handshake timeouts) are always measured on
// the monotonic clock (Deadline), so a wall-clock jump neither shortens nor
// stretches them.  Absolute times (not_before/not_after) come from
// LastKnownGood, which never goes backwards: a peripheral without an RTC boots
// at 1970 and must not accept certificates that expired long ago.
#pragma once

#include <chrono>
#include <cstdint>

#include "core/util/bytes.hpp"
#include "core/util/expected.hpp"

namespace br::time {

using Nanos = std::chrono::nanoseconds;
using UnixSeconds = std::int64_t;

// The build time (BR_BUILD_UNIX_TIME, set by the top-level meson.build): the
// lowest floor of the last-known-good time.
UnixSeconds build_unix_time();

class Clock {
  public:
    virtual ~Clock() = default;
    // Monotonic time since an arbitrary origin (std::chrono::steady_clock).
    virtual Nanos monotonic() const = 0;
    // Wall-clock seconds since the Unix epoch (may jump either way).
    virtual UnixSeconds wall_unix() const = 0;
};

class SystemClock final : public Clock {
  public:
    Nanos monotonic() const override;
    UnixSeconds wall_unix() const override;
};

// A clock the test sets by hand.  advance() moves both clocks forward (time
// passing; the wall clock by the whole seconds accumulated); set_wall()/advance_wall() move only
// the wall clock (an NTP step, a user changing the date), either way.  The monotonic clock never
// goes backwards: set_monotonic() to an earlier time is ignored.
class ManualClock final : public Clock {
  public:
    explicit ManualClock(UnixSeconds wall = 0, Nanos mono = Nanos{0}) : mono_(mono), wall_(wall) {}

    Nanos monotonic() const override { return mono_; }
    UnixSeconds wall_unix() const override { return wall_; }

    void advance(Nanos d);
    void set_monotonic(Nanos t);
    void set_wall(UnixSeconds t) { wall_ = t; }
    void advance_wall(std::int64_t seconds) { wall_ += seconds; }

  private:
    Nanos mono_;
    UnixSeconds wall_;
    Nanos sub_second_{0};  // advance() time not yet carried into wall_
};

// A point on the monotonic clock after which something is no longer valid.
class Deadline {
  public:
    Deadline(const Clock& clock, Nanos duration) : expires_at_(clock.monotonic() + duration) {}
    static Deadline at(Nanos expires_at) { return Deadline(expires_at); }

    Nanos expires_at() const { return expires_at_; }
    bool expired(const Clock& clock) const { return clock.monotonic() >= expires_at_; }
    // Time left, zero once expired.
    Nanos remaining(const Clock& clock) const;

  private:
    explicit Deadline(Nanos expires_at) : expires_at_(expires_at) {}
    Nanos expires_at_;
};

// The last-known-good wall time.  Its floor starts at
// max(build time, the last persisted value) and rises with every accepted
// not_before (observe()) and every wall-clock reading above it; between
// readings the floor advances with the monotonic clock, so now() keeps
// counting even while the wall clock reads low.  now() never decreases.
//
// Persist value_to_save() (the store's save_clock() does it atomically) from
// time to time and at shutdown so that a device without an RTC resumes from
// there; load the file at start-up and pass its value to the constructor.
class LastKnownGood {
  public:
    explicit LastKnownGood(const Clock& clock, UnixSeconds persisted = 0);

    // max(floor advanced by the monotonic time since it was set, wall_unix()).
    UnixSeconds now() const;
    // Raises the floor to not_before if higher (a verified certificate's
    // not_before proves the time is at least that).  Returns true if raised.
    bool observe(UnixSeconds not_before);
    // What to write to the clock file: now().
    UnixSeconds value_to_save() const { return now(); }

  private:
    const Clock* clock_;
    // The floor is anchor_unix_ at monotonic time anchor_mono_.
    mutable UnixSeconds anchor_unix_;
    mutable Nanos anchor_mono_;
};

// The clock file (docs/PROTOCOL.md section 10):
//   "BRC1" || version u16 (1) || unix seconds u64 || SHA-256 of the preceding 14 bytes
inline constexpr std::size_t kClockRecordLen = 4 + 2 + 8 + 32;
enum class ClockRecordError : std::uint8_t {
    Truncated,
    BadMagic,
    UnsupportedVersion,
    ChecksumMismatch,
    BadValue
};
const char* to_string(ClockRecordError e);
Bytes encode_clock_record(UnixSeconds t);
Expected<UnixSeconds, ClockRecordError> decode_clock_record(ByteView data);

}  // namespace br::time
