// SPDX-License-Identifier: MIT
// The session fingerprint and the 6-digit short code shown to the user
// (docs/PROTOCOL.md section 7.6).  Both sides compute the same value: the
// inputs are in canonical initiator-first order.
#pragma once

#include <string>

#include "core/cert/session.hpp"
#include "core/crypto/kdf.hpp"

namespace br::cert {

// SHA-256("blueratchet/1 fingerprint" || h || id_A || id_B || session_pk_A || session_pk_B)
Hash fingerprint(const Hash& handshake_hash, const Ed25519Public& id_a, const Ed25519Public& id_b,
                 const Ed25519Public& session_pk_a, const Ed25519Public& session_pk_b);

// The same, from one side's point of view (puts the inputs in A, B order).
Hash fingerprint_for(Role own_role, const Hash& handshake_hash, const Ed25519Public& own_id,
                     const Ed25519Public& peer_id, const Ed25519Public& own_session_pk,
                     const Ed25519Public& peer_session_pk);

// u64be(fingerprint[0..8]) mod 1,000,000, as exactly 6 digits.
std::string short_code(const Hash& fingerprint);

// Constant-time comparison of our fingerprint with the one the peer sent.
bool fingerprint_matches(const Hash& ours, ByteView received);

}  // namespace br::cert
