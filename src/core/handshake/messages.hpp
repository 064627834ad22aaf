// SPDX-License-Identifier: MIT
// Wire messages of the blueratchet handshake (docs/PROTOCOL.md section 8).
//
// Every message is  version (u8 = 1) || type (u8) || body.  The version byte
// is the major version; protocol 1.1 added message types (ACCEPT, the 1.1
// resume, CONFIRM, BOND) and keeps 1.0's resume types for pairs that still
// speak it (section 11 of PROTOCOL.md).  The encoders and
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
// The one bound on a whole message (header included): frame::kMaxMessage,
// so whatever the framing delivers, the decoder accepts by length.
inline constexpr std::size_t kMaxMessage = 1024;
inline constexpr std::size_t kMaxOfferedEpochs = 2;

inline constexpr std::uint8_t kMinorVersion = 1;  // protocol 1.1

enum class MessageType : std::uint8_t {
    Pair1 = 0x01,       // XX  -> e                  payload: minor version (1.1: 0x01)
    Pair2 = 0x02,       // XX  <- e, ee, s, es       payload: id_B || commitment to nonce_B
    Pair3 = 0x03,       // XX  -> s, se              payload: id_A || nonce_A
    Reveal = 0x04,      // transport <-              nonce_B (opens PAIR_2's commitment)
    Accept = 0x05,      // transport ->              empty: the central approved (1.1)
    Resume1V10 = 0x11,  // 1.0 IKpsk2 -> e, es, s, ss  payload: offer
    Resume2V10 = 0x12,  // 1.0 IKpsk2 <- e, ee, se, psk  header: chosen epoch in clear
    Resume1 = 0x13,     // 1.1 IKpsk2 -> e, es, s, ss  payload: offer
    Resume2 = 0x14,     // 1.1 IKpsk2 <- e, ee, se, psk  no header: A tries its seeds
    Cert = 0x20,        // transport: compact certificate || fingerprint
    Confirm = 0x21,     // transport <-              u32 epoch B committed (1.1)
    Bond = 0x30,        // transport, either way     u32 LE passkey (1.1 session message)
    Abort = 0x7f,       // unauthenticated notice: reason code
};

// Reasons carried by Abort.  Unauthenticated, so a receiver only ever uses
// them to decide what to log and whether pairing afresh could help.  The
// reason is the body's first byte; bytes after it are reserved and ignored,
// and a value not listed here is reported as an unknown reason: any ABORT
// ends the handshake.
enum class AbortReason : std::uint8_t {
    UnknownPeer = 1,    // resume from an identity we have no seed for
    NoCommonEpoch = 2,  // should be unreachable; logged loudly
    NotApproved = 3,    // first contact refused by policy
    ProtocolError = 4,  // anything malformed
    Busy = 5,           // rate limited
};
const char* to_string(AbortReason);
// The enumerator's own name ("UnknownPeer"): stable, for logs and the API.
const char* name(AbortReason);

struct Message {
    MessageType type{};
    std::uint32_t epoch = 0;  // Resume2V10 only: the epoch whose seed is the psk
    Bytes body;               // Noise message, transport ciphertext, or abort code
};

// Decoding errors, in the order the checks run (the first that applies wins).
enum class DecodeError {
    Empty,               // zero bytes
    UnsupportedVersion,  // version byte other than 1
    UnknownType,         // a type this implementation does not know
    Truncated,           // header cut short, or an empty body
    TooLong,             // message over kMaxMessage, or bytes after an offer's epochs
    BadOfferCount,       // a resume offer with n outside 1..kMaxOfferedEpochs
    BadOfferOrder,       // offered epochs not strictly ascending, or epoch 0
};
const char* to_string(DecodeError);
// The enumerator's own name ("Empty"): stable, for logs and the API.
const char* name(DecodeError);

Bytes encode(const Message& m);
// An ABORT message carrying `reason`.
Bytes encode_abort(AbortReason reason);
Expected<Message, DecodeError> decode(ByteView wire);

// Payload of Resume1 (inside the Noise encryption): the initiator's identity
// and the distinct epochs it holds, strictly ascending, none zero.
struct ResumeOffer {
    ByteArray<32> initiator_id{};
    std::vector<std::uint32_t> epochs;
};
Bytes encode_offer(const ResumeOffer& offer);
Expected<ResumeOffer, DecodeError> decode_offer(ByteView payload);

}  // namespace br::handshake
