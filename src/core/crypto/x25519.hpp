// SPDX-License-Identifier: MIT
// X25519 (RFC 7748) key pairs and Diffie-Hellman, on libsodium's crypto_scalarmult.
//
// The Noise static and ephemeral keys are X25519 keys.  The shared secret of a
// DH with a low-order (or otherwise degenerate) public key is all-zero and
// carries no contribution from the peer; x25519() refuses to return it, so a
// protocol can never mix a key an attacker chose the value of.
#pragma once

#include <optional>

#include "core/crypto/secret.hpp"
#include "core/util/bytes.hpp"

namespace br {

inline constexpr std::size_t kX25519Len = 32;
// The same alias as in ed25519.hpp (a redeclaration of one type, so both
// headers can be included together).
using X25519Public = ByteArray<kX25519Len>;

struct X25519KeyPair {
    SecretBytes secret;
    X25519Public pub{};

    // A fresh key pair from the OS CSPRNG.
    static X25519KeyPair generate();
    // The key pair of a given 32-byte secret scalar (clamped by X25519 itself,
    // the stored secret is kept as given).  Throws std::invalid_argument for
    // any other length: a key of the wrong size is a programming error.
    static X25519KeyPair from_secret(ByteView secret);

    // An independent copy (fresh guarded memory for the secret).
    // An independent copy; the public key is copied, not recomputed.
    X25519KeyPair clone() const { return X25519KeyPair{secret.clone(), pub}; }
};

// X25519(secret, their_public).  nullopt when either length is not 32 or the
// result is all-zero (their_public has small order: libsodium's
// crypto_scalarmult returns -1 for exactly those).
std::optional<SecretBytes> x25519(ByteView secret, ByteView their_public);

// True when `pub` is a point of small order (or a non-canonical encoding of
// one), i.e. when X25519 with any secret would give the all-zero output.
// Public-input only; used to reject a peer's key as soon as it arrives.
bool x25519_is_low_order(ByteView pub);

}  // namespace br
