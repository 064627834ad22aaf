// SPDX-License-Identifier: MIT
// Noise CipherState (spec section 5.1) for ChaChaPoly: a key k (possibly
// empty) and a 64-bit nonce n.
//
// With no key, encrypt/decrypt pass the data through (as the spec requires
// for the first handshake tokens).  With a key, each successful call uses
// nonce n and increments it; a failed decryption leaves n unchanged.  Nonce
// 2^64-1 is reserved (for rekey), so reaching it is NonceExhausted.  The key
// lives in guarded memory and is wiped on destruction or clear().
#pragma once

#include <cstdint>
#include <optional>

#include "core/crypto/secret.hpp"
#include "core/noise/error.hpp"
#include "core/util/bytes.hpp"
#include "core/util/expected.hpp"

namespace br::noise {

class CipherState {
  public:
    CipherState() = default;
    // InitializeKey(key): key must be 32 bytes (anything else leaves no key).
    explicit CipherState(ByteView key) { initialize_key(key); }

    CipherState(CipherState&&) noexcept = default;
    CipherState& operator=(CipherState&&) noexcept = default;
    CipherState(const CipherState&) = delete;
    CipherState& operator=(const CipherState&) = delete;
    ~CipherState() = default;

    void initialize_key(ByteView key);
    bool has_key() const { return k_.has_value() && !k_->empty(); }
    std::uint64_t nonce() const { return n_; }
    // SetNonce (spec 5.1), for out-of-order transports and tests.
    void set_nonce(std::uint64_t n) { n_ = n; }
    // Wipes the key; afterwards has_key() is false.
    void clear();
    // An independent copy (the key copied into its own guarded memory), so a
    // caller can try a step and keep the original if it fails.
    CipherState clone() const;

    // EncryptWithAd / DecryptWithAd.  Messages are limited to 65535 bytes of
    // ciphertext (TooLong); a keyed ciphertext shorter than the 16-byte tag
    // is Truncated.
    Expected<Bytes, Error> encrypt_with_ad(ByteView ad, ByteView plaintext);
    Expected<Bytes, Error> decrypt_with_ad(ByteView ad, ByteView ciphertext);

    // Rekey (spec 11.3): k = first 32 bytes of ENCRYPT(k, 2^64-1, "", 32 zeros).
    // The nonce is unchanged.  MissingKey without a key.
    Expected<void, Error> rekey();

  private:
    std::optional<SecretBytes> k_;
    std::uint64_t n_ = 0;
};

}  // namespace br::noise
