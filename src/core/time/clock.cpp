// SPDX-License-Identifier: MIT
#include "core/time/clock.hpp"

#include <algorithm>
#include <cstring>

#include "core/crypto/kdf.hpp"

#ifndef BR_BUILD_UNIX_TIME
#define BR_BUILD_UNIX_TIME 0LL
#endif

namespace br::time {

UnixSeconds build_unix_time() {
    return BR_BUILD_UNIX_TIME;
}

Nanos SystemClock::monotonic() const {
    return std::chrono::duration_cast<Nanos>(std::chrono::steady_clock::now().time_since_epoch());
}

UnixSeconds SystemClock::wall_unix() const {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void ManualClock::advance(Nanos d) {
    if (d < Nanos{0}) return;
    mono_ += d;
    // The wall clock moves by whole seconds of the accumulated sub-second rest.
    sub_second_ += d;
    const auto whole = std::chrono::duration_cast<std::chrono::seconds>(sub_second_);
    wall_ += whole.count();
    sub_second_ -= whole;
}

void ManualClock::set_monotonic(Nanos t) {
    mono_ = std::max(mono_, t);
}

Nanos Deadline::remaining(const Clock& clock) const {
    return std::max(Nanos{0}, expires_at_ - clock.monotonic());
}

LastKnownGood::LastKnownGood(const Clock& clock, UnixSeconds persisted)
    : clock_(&clock),
      anchor_unix_(std::max(build_unix_time(), persisted)),
      anchor_mono_(clock.monotonic()) {}

UnixSeconds LastKnownGood::now() const {
    const Nanos mono = clock_->monotonic();
    const UnixSeconds elapsed =
        std::chrono::duration_cast<std::chrono::seconds>(mono - anchor_mono_).count();
    const UnixSeconds floor = anchor_unix_ + elapsed;
    const UnixSeconds wall = clock_->wall_unix();
    if (wall > floor) {
        // Re-anchor on the higher reading so the floor tracks it from here.
        anchor_unix_ = wall;
        anchor_mono_ = mono;
        return wall;
    }
    return floor;
}

bool LastKnownGood::observe(UnixSeconds not_before) {
    if (not_before <= now()) return false;
    anchor_unix_ = not_before;
    anchor_mono_ = clock_->monotonic();
    return true;
}

namespace {
constexpr char kClockMagic[4] = {'B', 'R', 'C', '1'};
constexpr std::uint16_t kClockVersion = 1;
constexpr std::size_t kClockBodyLen = kClockRecordLen - kHashLen;
}  // namespace

const char* to_string(ClockRecordError e) {
    switch (e) {
        case ClockRecordError::Truncated:
            return "truncated clock record";
        case ClockRecordError::BadMagic:
            return "not a clock record (bad magic)";
        case ClockRecordError::UnsupportedVersion:
            return "unsupported clock record version";
        case ClockRecordError::ChecksumMismatch:
            return "clock record checksum mismatch";
        case ClockRecordError::BadValue:
            return "clock record value out of range";
    }
    return "unknown clock record error";
}

Bytes encode_clock_record(UnixSeconds t) {
    Bytes out;
    out.reserve(kClockRecordLen);
    append(out, ByteView(reinterpret_cast<const std::uint8_t*>(kClockMagic), 4));
    append_u16be(out, kClockVersion);
    append_u64be(out, static_cast<std::uint64_t>(std::max<UnixSeconds>(t, 0)));
    const Hash sum = sha256(out);
    append(out, sum);
    return out;
}

Expected<UnixSeconds, ClockRecordError> decode_clock_record(ByteView data) {
    Reader r(data);
    ByteView magic = r.take(4);
    if (!r.ok()) return unexpected(ClockRecordError::Truncated);
    if (std::memcmp(magic.data(), kClockMagic, 4) != 0)
        return unexpected(ClockRecordError::BadMagic);
    const std::uint16_t version = r.u16be();
    if (!r.ok()) return unexpected(ClockRecordError::Truncated);
    if (version != kClockVersion) return unexpected(ClockRecordError::UnsupportedVersion);
    const std::uint64_t t = r.u64be();
    ByteView sum = r.take(kHashLen);
    if (!r.ok()) return unexpected(ClockRecordError::Truncated);
    if (!r.at_end()) return unexpected(ClockRecordError::BadValue);
    const Hash expect = sha256(data.subspan(0, kClockBodyLen));
    if (!ct_equal(expect, sum)) return unexpected(ClockRecordError::ChecksumMismatch);
    if (t > static_cast<std::uint64_t>(INT64_MAX)) return unexpected(ClockRecordError::BadValue);
    return static_cast<UnixSeconds>(t);
}

}  // namespace br::time
