// SPDX-License-Identifier: MIT
// Noise SymmetricState (spec section 5.2) for SHA-256: the chaining key ck,
// the handshake hash h and a CipherState.
//
// HKDF here is Noise's definition (spec section 4.3), built on HMAC-SHA256
// with ck as the HMAC key of the extract step -- not RFC 5869 with an info
// string.  The chaining key and every HKDF output are SecretBytes; split()
// wipes ck, after which the state can only report h.
#pragma once

#include <string_view>
#include <utility>

#include "core/crypto/kdf.hpp"
#include "core/crypto/secret.hpp"
#include "core/noise/cipher_state.hpp"

namespace br::noise {

// HKDF(chaining_key, input_key_material, num_outputs) of spec section 4.3,
// num_outputs 2 or 3; each output is 32 bytes.
std::pair<SecretBytes, SecretBytes> noise_hkdf2(ByteView chaining_key, ByteView ikm);
struct Hkdf3 {
    SecretBytes out1, out2, out3;
};
Hkdf3 noise_hkdf3(ByteView chaining_key, ByteView ikm);

class SymmetricState {
  public:
    // InitializeSymmetric(protocol_name).
    explicit SymmetricState(std::string_view protocol_name);

    void mix_key(ByteView ikm);
    void mix_hash(ByteView data);
    void mix_key_and_hash(ByteView ikm);
    bool has_key() const { return cs_.has_key(); }
    const Hash& handshake_hash() const { return h_; }

    Expected<Bytes, Error> encrypt_and_hash(ByteView plaintext);
    Expected<Bytes, Error> decrypt_and_hash(ByteView ciphertext);

    // Split(): (initiator->responder, responder->initiator).  Wipes ck and the
    // handshake CipherState.  MissingKey if ck is already wiped.
    Expected<std::pair<CipherState, CipherState>, Error> split();

    // Split() plus a third output of the same HKDF(ck, "", 3): a secret both
    // parties share, bound to every DH of the handshake (h is not secret: in
    // a pattern without psk it hashes public values only).  The first two
    // outputs are Split()'s, so the transport keys do not change.
    struct SplitWithSecret {
        CipherState first, second;
        SecretBytes secret;
    };
    Expected<SplitWithSecret, Error> split_with_secret();

    // Wipes ck and the handshake key (h stays: it is not secret).
    void wipe();
    // An independent copy (ck and k in their own guarded memory).
    SymmetricState clone() const;

  private:
    SecretBytes ck_;
    Hash h_{};
    CipherState cs_;
};

}  // namespace br::noise
