// SPDX-License-Identifier: MIT
#include "core/frame/frame.hpp"

#include <algorithm>

namespace br::frame {

const char* to_string(FrameError e) {
    switch (e) {
        case FrameError::Empty:
            return "empty fragment";
        case FrameError::TruncatedHeader:
            return "truncated fragment header";
        case FrameError::BadLength:
            return "zero message length";
        case FrameError::Oversized:
            return "message or fragment too long";
        case FrameError::BadMtu:
            return "ATT MTU outside 23..517";
        case FrameError::UnexpectedContinuation:
            return "continuation without a first fragment";
        case FrameError::Interrupted:
            return "first fragment while a message is in progress";
        case FrameError::OutOfOrder:
            return "fragment out of order";
        case FrameError::Overrun:
            return "more data than the declared length";
        case FrameError::Underrun:
            return "last fragment before the declared length";
        case FrameError::TooManyFragments:
            return "too many fragments for one message";
    }
    return "unknown frame error";
}

const char* name(FrameError e) {
    switch (e) {
        case FrameError::Empty:
            return "Empty";
        case FrameError::TruncatedHeader:
            return "TruncatedHeader";
        case FrameError::BadLength:
            return "BadLength";
        case FrameError::Oversized:
            return "Oversized";
        case FrameError::BadMtu:
            return "BadMtu";
        case FrameError::UnexpectedContinuation:
            return "UnexpectedContinuation";
        case FrameError::Interrupted:
            return "Interrupted";
        case FrameError::OutOfOrder:
            return "OutOfOrder";
        case FrameError::Overrun:
            return "Overrun";
        case FrameError::Underrun:
            return "Underrun";
        case FrameError::TooManyFragments:
            return "TooManyFragments";
    }
    return "Unknown";
}

Expected<std::vector<Bytes>, FrameError> fragment(ByteView message, std::size_t att_mtu) {
    if (att_mtu < kMinAttMtu || att_mtu > kMaxAttMtu) return unexpected(FrameError::BadMtu);
    if (message.empty()) return unexpected(FrameError::BadLength);
    if (message.size() > kMaxMessage) return unexpected(FrameError::Oversized);

    std::vector<Bytes> out;
    std::size_t pos = 0;
    std::uint8_t seq = 0;
    while (pos < message.size() || out.empty()) {
        const bool first = out.empty();
        const std::size_t cap = first ? first_capacity(att_mtu) : next_capacity(att_mtu);
        const std::size_t n = std::min(cap, message.size() - pos);
        const bool last = pos + n == message.size();
        std::uint8_t header = seq & kSeqMask;
        if (first) header |= kFlagFirst;
        if (last) header |= kFlagLast;
        Bytes frag;
        frag.reserve((first ? kFirstHeaderLen : kHeaderLen) + n);
        append_u8(frag, header);
        if (first) append_u16be(frag, static_cast<std::uint16_t>(message.size()));
        append(frag, message.subspan(pos, n));
        out.push_back(std::move(frag));
        pos += n;
        seq = static_cast<std::uint8_t>((seq + 1) & kSeqMask);
    }
    return out;
}

Reassembler::Reassembler(std::size_t max_fragments, std::size_t max_message)
    : max_fragments_(std::clamp<std::size_t>(max_fragments, 1, kSeqMask + 1)),
      max_message_(std::clamp<std::size_t>(max_message, 1, kMaxMessage)) {}

void Reassembler::reset() {
    in_progress_ = false;
    expected_len_ = 0;
    fragments_ = 0;
    next_seq_ = 0;
    buf_.clear();
}

Unexpected<FrameError> Reassembler::fail(FrameError e) {
    reset();
    return unexpected(e);
}

Expected<std::optional<Bytes>, FrameError> Reassembler::feed(ByteView fragment) {
    if (fragment.empty()) return fail(FrameError::Empty);
    if (fragment.size() > kMaxFragment) return fail(FrameError::Oversized);
    Reader r(fragment);
    const std::uint8_t header = r.u8();
    const bool first = (header & kFlagFirst) != 0;
    const bool last = (header & kFlagLast) != 0;
    const std::uint8_t seq = header & kSeqMask;

    if (first) {
        if (in_progress_) return fail(FrameError::Interrupted);
        if (seq != 0) return fail(FrameError::OutOfOrder);
        const std::uint16_t len = r.u16be();
        if (!r.ok()) return fail(FrameError::TruncatedHeader);
        if (len == 0) return fail(FrameError::BadLength);
        if (len > max_message_) return fail(FrameError::Oversized);
        in_progress_ = true;
        expected_len_ = len;
        fragments_ = 0;
        next_seq_ = 0;
        buf_.clear();
        buf_.reserve(len);
    } else {
        if (!in_progress_) return fail(FrameError::UnexpectedContinuation);
        if (seq != next_seq_) return fail(FrameError::OutOfOrder);
    }

    if (++fragments_ > max_fragments_) return fail(FrameError::TooManyFragments);
    const ByteView data = r.take(r.remaining());
    if (data.size() > expected_len_ - buf_.size()) return fail(FrameError::Overrun);
    append(buf_, data);
    next_seq_ = static_cast<std::uint8_t>((next_seq_ + 1) & kSeqMask);

    if (!last) {
        // A message whose bytes are all in but whose LAST flag has not come
        // is allowed to wait for an empty LAST fragment; the fragment bound
        // stops a sender that never finishes.
        return std::optional<Bytes>{};
    }
    if (buf_.size() != expected_len_) return fail(FrameError::Underrun);
    Bytes message = std::move(buf_);
    reset();
    return std::optional<Bytes>{std::move(message)};
}

}  // namespace br::frame
