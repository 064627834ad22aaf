// SPDX-License-Identifier: MIT
// Ed25519 keys: long-term identities and per-session signing keys.
//
// A key pair is held as its 32-byte seed (in guarded memory) plus the public
// key; the seed is what PKCS#8 (RFC 8410) stores, so a session key exported
// from here is usable by OpenSSL as it is.
#pragma once

#include "core/crypto/secret.hpp"
#include "core/util/bytes.hpp"

namespace br {

inline constexpr std::size_t kEd25519PublicLen = 32;
inline constexpr std::size_t kEd25519SeedLen = 32;
inline constexpr std::size_t kEd25519SigLen = 64;
using Ed25519Public = ByteArray<kEd25519PublicLen>;
using Ed25519Signature = ByteArray<kEd25519SigLen>;
using X25519Public = ByteArray<32>;

class Ed25519KeyPair {
  public:
    // A fresh key pair from the OS CSPRNG.
    static Ed25519KeyPair generate();
    // The key pair for a given 32-byte seed (deterministic).
    static Ed25519KeyPair from_seed(ByteView seed);

    const Ed25519Public& public_key() const { return public_; }
    ByteView seed() const { return secret_.view().first(wiped() ? 0 : kEd25519SeedLen); }
    bool wiped() const { return secret_.empty(); }

    // Standard Ed25519 (crypto_sign_detached).  Must not be called once wiped.
    Ed25519Signature sign(ByteView message) const;

    // The X25519 secret that corresponds to this key (libsodium's
    // crypto_sign_ed25519_sk_to_curve25519), used as the Noise static key.
    SecretBytes x25519_secret() const;

    void wipe() { secret_.wipe(); }

  private:
    Ed25519KeyPair(SecretBytes secret, const Ed25519Public& pub)
        : secret_(std::move(secret)), public_(pub) {}
    // libsodium's 64-byte form, seed || public key: kept whole so signing
    // does not re-derive it each time.
    SecretBytes secret_;
    Ed25519Public public_{};
};

// Standard Ed25519 verification (crypto_sign_verify_detached).
bool ed25519_verify(ByteView public_key, ByteView message, ByteView signature);

// The X25519 public key of an Ed25519 public key; nullopt for keys that are
// not valid points or have small order.
std::optional<X25519Public> ed25519_public_to_x25519(ByteView public_key);

}  // namespace br
