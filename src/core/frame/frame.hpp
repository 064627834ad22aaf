// SPDX-License-Identifier: MIT
// Message framing over a GATT link (docs/PROTOCOL.md, section 3).
//
// A protocol message (at most kMaxMessage bytes) is cut into fragments that
// each fit one ATT write or notification (ATT_MTU - 3 bytes).  Every fragment
// starts with a one-byte header:
//
//   bit 7 FIRST, bit 6 LAST, bits 0-5 sequence number
//
// The sequence number is 0 on a message's first fragment and grows by one
// (mod 64) per fragment.  A FIRST fragment carries the message length L as
// u16be after the header, then data; other fragments carry data only.
//
// The framing has no integrity protection of its own: it detects a lost,
// repeated or reordered fragment by its header, length and sequence number,
// and the AEAD of the layer above catches anything else (for example a
// fragment swapped with the same-numbered fragment of another message of the
// same length).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/util/bytes.hpp"
#include "core/util/expected.hpp"

namespace br::frame {

inline constexpr std::size_t kMinAttMtu = 23;   // Bluetooth Core, ATT_MTU minimum for LE
inline constexpr std::size_t kMaxAttMtu = 517;  // ATT_MTU maximum (512-byte attribute + 5)
inline constexpr std::size_t kAttOverhead = 3;  // opcode + attribute handle
inline constexpr std::size_t kMaxMessage = 1024;
// Header byte, and the extra u16be length on a FIRST fragment.
inline constexpr std::size_t kHeaderLen = 1;
inline constexpr std::size_t kFirstHeaderLen = 3;
// Largest fragment the peer can legitimately send (ATT_MTU 517 - 3).
inline constexpr std::size_t kMaxFragment = kMaxAttMtu - kAttOverhead;
// Fragments a conforming sender needs at most (kMaxMessage at ATT_MTU 23):
// 1 + ceil((1024 - 17) / 19) = 54.  The reassembler's default bound leaves a
// little room and any bound is capped at 64, so sequence numbers never wrap
// within one message and a repeated fragment always shows as out of order.
inline constexpr std::size_t kMaxFragmentsPerMessage = 60;

inline constexpr std::uint8_t kFlagFirst = 0x80;
inline constexpr std::uint8_t kFlagLast = 0x40;
inline constexpr std::uint8_t kSeqMask = 0x3f;

enum class FrameError : std::uint8_t {
    Empty,                   // a zero-byte fragment
    TruncatedHeader,         // a FIRST fragment shorter than its 3-byte header
    BadLength,               // a message (or declared length) of 0 bytes
    Oversized,               // a message (or declared length) above kMaxMessage,
                             // or a fragment longer than kMaxFragment
    BadMtu,                  // fragment(): ATT_MTU outside 23..517
    UnexpectedContinuation,  // a non-FIRST fragment with no message in progress
    Interrupted,             // a FIRST fragment while a message is in progress
    OutOfOrder,              // a sequence number other than the expected one
    Overrun,                 // more data than the declared length
    Underrun,                // LAST arrives with fewer bytes than declared
    TooManyFragments,        // the message needs more fragments than the bound
};

const char* to_string(FrameError e);
// The enumerator's own name ("Empty"): stable, for logs and the API.
const char* name(FrameError);

// Data bytes per fragment at a given ATT_MTU.
constexpr std::size_t first_capacity(std::size_t att_mtu) {
    return att_mtu - kAttOverhead - kFirstHeaderLen;
}
constexpr std::size_t next_capacity(std::size_t att_mtu) {
    return att_mtu - kAttOverhead - kHeaderLen;
}

// Cuts `message` into fragments of at most att_mtu - 3 bytes each.
// Errors: BadMtu, BadLength (empty message), Oversized (> kMaxMessage).
Expected<std::vector<Bytes>, FrameError> fragment(ByteView message, std::size_t att_mtu);

// Reassembles one direction of one link.  Memory is bounded: at most
// max_message bytes are buffered.  feed() returns the complete message when
// a LAST fragment completes one, nullopt when more fragments are needed, or
// an error.  After any error the reassembler has reset itself and the
// protocol treats the link as broken: the caller disconnects (there is no
// resynchronisation; a half-received message is never delivered).
class Reassembler {
  public:
    // max_fragments is capped at 64, max_message at kMaxMessage.
    explicit Reassembler(std::size_t max_fragments = kMaxFragmentsPerMessage,
                         std::size_t max_message = kMaxMessage);

    Expected<std::optional<Bytes>, FrameError> feed(ByteView fragment);
    void reset();

    bool in_progress() const { return in_progress_; }
    std::size_t buffered() const { return buf_.size(); }

  private:
    Unexpected<FrameError> fail(FrameError e);

    std::size_t max_fragments_;
    std::size_t max_message_;
    bool in_progress_ = false;
    std::size_t expected_len_ = 0;
    std::size_t fragments_ = 0;
    std::uint8_t next_seq_ = 0;
    Bytes buf_;
};

}  // namespace br::frame
