// SPDX-License-Identifier: MIT
// ChaCha20-Poly1305, IETF variant (RFC 8439: 256-bit key, 96-bit nonce,
// 128-bit tag), on libsodium's crypto_aead_chacha20poly1305_ietf_*.
//
// Sizes are checked, not assumed: a key that is not 32 bytes or a nonce that
// is not 12 bytes makes both functions fail (nullopt), as does a ciphertext
// shorter than the tag or a failed authentication.  Nothing is released from
// a failed decryption.
#pragma once

#include <cstdint>
#include <optional>

#include "core/util/bytes.hpp"

namespace br {

inline constexpr std::size_t kAeadKeyLen = 32;
inline constexpr std::size_t kAeadNonceLen = 12;
inline constexpr std::size_t kAeadTagLen = 16;
using AeadNonce = ByteArray<kAeadNonceLen>;

// ciphertext || tag (plaintext.size() + 16 bytes); nullopt on a bad key or
// nonce size.
std::optional<Bytes> aead_encrypt(ByteView key, ByteView nonce, ByteView ad, ByteView plaintext);

// The plaintext; nullopt on a bad key or nonce size, a ciphertext shorter than
// the tag, or an authentication failure.
std::optional<Bytes> aead_decrypt(ByteView key, ByteView nonce, ByteView ad, ByteView ciphertext);

// The nonce Noise uses for ChaChaPoly (Noise spec, section 12.3): 32 bits of
// zeros followed by the 64-bit little-endian counter n.
AeadNonce noise_chachapoly_nonce(std::uint64_t n);

}  // namespace br
