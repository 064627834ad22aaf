// Wire messages of the blueratchet handshake (docs/PROTOCOL.md section 8).
//
// Every message is  version (u8 = 1) || type (u8) || body.  The encoders and
// the bounded decoder here know nothing of keys: the Noise bytes and the
// transport ciphertexts are opaque bodies.  One message travels as one frame
// (src/core/frame/), so a message is never longer than frame::kMaxMessage.
#pragma once

#include <cstdint>
#include <variant>

#include "core/util/bytes.hpp"
#include "core/util/expected.hpp"

namespace br::handshake {

inline constexpr std::uint8_t kProtocolVersion = 1;
inline constexpr std::size_t kMaxBody = 1000;  // below frame::kMaxMessage
inline constexpr std::size_t kMaxOfferedEpochs = 2;

enum class MessageType : std::uint8_t {
    Pair1 = 0x01,    // XX  -> e
    Pair2 = 0x02,    // XX  <- e, ee, s, es       payload: id_B || commitment to nonce_B
    Pair3 = 0x03,    // XX  -> s, se              payload: id_A || nonce_A
    Reveal = 0x04,   // transport <-              nonce_B (opens PAIR_2's commitment)
    Resume1 = 0x11,  // IKpsk2 -> e, es, s, ss    payload: id_A || n || n x epoch
    Resume2 = 0x12,  // IKpsk2 <- e, ee, se, psk  header: chosen epoch
    Cert = 0x20,     // transport: compact certificate || fingerprint
    Abort = 0x7f,    // unauthenticated notice: reason code
};

// Reasons carried by Abort.  Unauthenticated, so a receiver only ever uses
// them to decide what to log and whether pairing afresh could help.
enum class AbortReason : std::uint8_t {
    UnknownPeer = 1,    // resume from an identity we have no seed for
    NoCommonEpoch = 2,  // should be unreachable; logged loudly
    NotApproved = 3,    // first contact refused by policy
    ProtocolError = 4,  // anything malformed
    Busy = 5,           // rate limited
};
const char* to_string(AbortReason);

struct Message {
    MessageType type{};
    std::uint32_t epoch = 0;  // Resume2 only: the epoch whose seed is the psk
    Bytes body;               // Noise message, transport ciphertext, or abort code
};

enum class DecodeError {
    Empty,
    UnsupportedVersion,
    UnknownType,
    Truncated,
    TooLong,
    BadAbort,
};
const char* to_string(DecodeError);

Bytes encode(const Message& m);
// An ABORT message carrying `reason`.
Bytes encode_abort(AbortReason reason);
Expected<Message, DecodeError> decode(ByteView wire);

// Payload of Resume1 (inside the Noise encryption): the initiator's identity
// and the epochs it holds.
struct ResumeOffer {
    ByteArray<32> initiator_id{};
    std::vector<std::uint32_t> epochs;
};
Bytes encode_offer(const ResumeOffer& offer);
Expected<ResumeOffer, DecodeError> decode_offer(ByteView payload);

}  // namespace br::handshake
