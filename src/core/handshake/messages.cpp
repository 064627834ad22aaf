// SPDX-License-Identifier: MIT
#include "core/handshake/messages.hpp"

namespace br::handshake {

const char* to_string(AbortReason r) {
    switch (r) {
        case AbortReason::UnknownPeer:
            return "unknown peer";
        case AbortReason::NoCommonEpoch:
            return "no common epoch";
        case AbortReason::NotApproved:
            return "not approved";
        case AbortReason::ProtocolError:
            return "protocol error";
        case AbortReason::Busy:
            return "busy";
    }
    return "unknown reason";
}

const char* name(AbortReason e) {
    switch (e) {
        case AbortReason::UnknownPeer:
            return "UnknownPeer";
        case AbortReason::NoCommonEpoch:
            return "NoCommonEpoch";
        case AbortReason::NotApproved:
            return "NotApproved";
        case AbortReason::ProtocolError:
            return "ProtocolError";
        case AbortReason::Busy:
            return "Busy";
    }
    return "Unknown";
}

const char* to_string(DecodeError e) {
    switch (e) {
        case DecodeError::Empty:
            return "empty message";
        case DecodeError::UnsupportedVersion:
            return "unsupported protocol version";
        case DecodeError::UnknownType:
            return "unknown message type";
        case DecodeError::Truncated:
            return "truncated message";
        case DecodeError::TooLong:
            return "message too long";
        case DecodeError::BadOfferCount:
            return "offer count outside 1..2";
        case DecodeError::BadOfferOrder:
            return "offered epochs not strictly ascending";
    }
    return "unknown decode error";
}

const char* name(DecodeError e) {
    switch (e) {
        case DecodeError::Empty:
            return "Empty";
        case DecodeError::UnsupportedVersion:
            return "UnsupportedVersion";
        case DecodeError::UnknownType:
            return "UnknownType";
        case DecodeError::Truncated:
            return "Truncated";
        case DecodeError::TooLong:
            return "TooLong";
        case DecodeError::BadOfferCount:
            return "BadOfferCount";
        case DecodeError::BadOfferOrder:
            return "BadOfferOrder";
    }
    return "Unknown";
}

Bytes encode(const Message& m) {
    Bytes out;
    out.reserve(2 + 4 + m.body.size());
    append_u8(out, kProtocolVersion);
    append_u8(out, static_cast<std::uint8_t>(m.type));
    if (m.type == MessageType::Resume2V10) append_u32be(out, m.epoch);
    append(out, m.body);
    return out;
}

Bytes encode_abort(AbortReason reason) {
    return encode(Message{MessageType::Abort, 0, Bytes{static_cast<std::uint8_t>(reason)}});
}

static bool known_type(std::uint8_t t) {
    switch (static_cast<MessageType>(t)) {
        case MessageType::Pair1:
        case MessageType::Pair2:
        case MessageType::Pair3:
        case MessageType::Reveal:
        case MessageType::Accept:
        case MessageType::Resume1V10:
        case MessageType::Resume2V10:
        case MessageType::Resume1:
        case MessageType::Resume2:
        case MessageType::Cert:
        case MessageType::Confirm:
        case MessageType::Bond:
        case MessageType::Abort:
            return true;
    }
    return false;
}

Expected<Message, DecodeError> decode(ByteView wire) {
    if (wire.empty()) return unexpected(DecodeError::Empty);
    Reader r(wire);
    if (r.u8() != kProtocolVersion) return unexpected(DecodeError::UnsupportedVersion);
    if (!r.ok()) return unexpected(DecodeError::Truncated);
    std::uint8_t type = r.u8();
    if (!r.ok()) return unexpected(DecodeError::Truncated);
    if (!known_type(type)) return unexpected(DecodeError::UnknownType);
    Message m;
    m.type = static_cast<MessageType>(type);
    if (m.type == MessageType::Resume2V10) {
        m.epoch = r.u32be();
        if (!r.ok()) return unexpected(DecodeError::Truncated);
    }
    if (wire.size() > kMaxMessage) return unexpected(DecodeError::TooLong);
    if (r.remaining() == 0) return unexpected(DecodeError::Truncated);
    ByteView body = r.take(r.remaining());
    m.body.assign(body.begin(), body.end());
    return m;
}

Bytes encode_offer(const ResumeOffer& offer) {
    Bytes out;
    append(out, offer.initiator_id);
    append_u8(out, static_cast<std::uint8_t>(offer.epochs.size()));
    for (std::uint32_t e : offer.epochs) append_u32be(out, e);
    return out;
}

Expected<ResumeOffer, DecodeError> decode_offer(ByteView payload) {
    Reader r(payload);
    ResumeOffer offer;
    offer.initiator_id = r.take_array<32>();
    std::uint8_t n = r.u8();
    if (!r.ok()) return unexpected(DecodeError::Truncated);
    if (n == 0 || n > kMaxOfferedEpochs) return unexpected(DecodeError::BadOfferCount);
    for (std::uint8_t i = 0; i < n; ++i) offer.epochs.push_back(r.u32be());
    if (!r.ok()) return unexpected(DecodeError::Truncated);
    if (!r.at_end()) return unexpected(DecodeError::TooLong);
    for (std::size_t i = 0; i < offer.epochs.size(); ++i) {
        if (offer.epochs[i] == 0 || (i > 0 && offer.epochs[i] <= offer.epochs[i - 1]))
            return unexpected(DecodeError::BadOfferOrder);
    }
    return offer;
}

}  // namespace br::handshake
