// SPDX-License-Identifier: MIT
// Ed25519 key blinding, Tor's construction (rend-spec-v3 A.2, tor's
// src/ext/ed25519/ref10/blinding.c), and an Ed25519 signer over an
// *expanded* secret key, which a blinded key only has (there is no seed whose
// SHA-512 expansion gives a blinded scalar).
//
// With a blinding parameter `param` (32 bytes, the caller's):
//   t     = SHA-512("Derive temporary signing key" || param)[0:32], clamped
//           (t[0] &= 248; t[31] &= 63; t[31] |= 64)
//   A'    = t * A                                       (blind_public)
//   a'    = a * t mod l
//   p'    = SHA-512("Derive temporary signing key hash input" || prefix)[0:32]
//   expanded' = a' || p'                                (blind_secret)
// where a || prefix = SHA-512(seed) with a clamped (RFC 8032 5.1.5).
// A signature made by sign_expanded(expanded', A', M) is a standard Ed25519
// signature that verifies under A' (crypto_sign_verify_detached), so anyone
// who knows A and param can check it, and no one who lacks the identity seed
// can make it.
#pragma once

#include <optional>

#include "core/crypto/ed25519.hpp"
#include "core/crypto/secret.hpp"
#include "core/util/bytes.hpp"

namespace br {

inline constexpr std::size_t kEd25519ExpandedLen = 64;
inline constexpr std::size_t kBlindingParamLen = 32;

struct BlindedKey {
    SecretBytes expanded{kEd25519ExpandedLen};  // a' (32, reduced mod l) || prefix' (32)
    Ed25519Public pub{};                        // A' = t * A = a' * B
};

// The clamped blinding scalar t for a 32-byte parameter.
// Throws std::invalid_argument unless param is 32 bytes.
ByteArray<32> blinding_scalar(ByteView param32);

// A' = t * A.  nullopt when A is not a canonical point of the prime-order
// subgroup (invalid encoding, small order, mixed order), or param is not 32
// bytes.
std::optional<Ed25519Public> blind_public(ByteView public_key, ByteView param32);

// The blinded expanded secret key and its public key.  Throws
// std::invalid_argument unless param is 32 bytes, std::logic_error for a
// wiped key pair.
BlindedKey blind_secret(const Ed25519KeyPair& identity, ByteView param32);

// The 64-byte RFC 8032 expansion of a seed: clamped a || prefix (guarded
// memory).  Throws std::invalid_argument unless seed is 32 bytes.
SecretBytes ed25519_expand_seed(ByteView seed32);

// Ed25519 (RFC 8032 5.1.6) over an expanded secret key a || prefix with
// public key A = a * B supplied by the caller:
//   r = SHA-512(prefix || M) mod l,  R = r * B,
//   k = SHA-512(R || A || M) mod l,  S = r + k * a mod l,  sig = R || S.
// For expanded = ed25519_expand_seed(seed) this is byte-for-byte
// crypto_sign_detached's signature.  A must belong to a: an Ed25519 signer
// that signs one message under two different A reuses r and so leaks a, so
// this recomputes a * B and throws std::invalid_argument if it differs from
// public32 (and on wrong sizes).
Ed25519Signature sign_expanded(ByteView expanded64, ByteView public32, ByteView message);

}  // namespace br
