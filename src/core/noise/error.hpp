// SPDX-License-Identifier: MIT
// Errors and limits shared by the Noise state objects.
#pragma once

#include <cstddef>

namespace br::noise {

// Noise spec section 3: every Noise message is at most 65535 bytes.
inline constexpr std::size_t kMaxMessageLen = 65535;

enum class Error {
    WrongTurn,       // write when it is the peer's turn, or read when it is ours
    Finished,        // the handshake has no messages left
    NotFinished,     // split() before the last handshake message
    Truncated,       // a message shorter than its tokens and tag(s) require
    TooLong,         // a message (or the message a payload would make) over 65535 bytes
    DecryptFailed,   // an AEAD tag did not verify
    LowOrderPoint,   // a peer's public key has small order (DH output would be zero)
    MissingKey,      // a key the pattern needs was not given (s, rs, psk) or is spent
    NonceExhausted,  // a CipherState reached nonce 2^64-1
    Aborted,         // an earlier error ended this handshake; start a new one
};

const char* to_string(Error e);
// The enumerator's own name ("WrongTurn"): stable, for logs and the API.
const char* name(Error);

}  // namespace br::noise
