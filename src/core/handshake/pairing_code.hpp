// SPDX-License-Identifier: MIT
// The short code of a first pairing, by commitment and reveal
// (docs/PROTOCOL.md section 4.1).
//
// Six digits are about 20 bits, so the code only detects a man-in-the-middle
// if no party can choose its last contribution after seeing the others'.
// As in LE Secure Connections numeric comparison: B commits to a random
// nonce in PAIR_2, A sends its own nonce in PAIR_3 without knowing B's, and
// B reveals its nonce only after PAIR_3.  Whoever sits in the middle has
// fixed everything it controls before the code becomes computable, so it
// matches both sides' codes once in a million attempts.
#pragma once

#include <string>

#include "core/crypto/kdf.hpp"
#include "core/crypto/secret.hpp"

namespace br::handshake {

inline constexpr std::size_t kPairNonceLen = 32;
using PairNonce = ByteArray<kPairNonceLen>;

// SHA-256("blueratchet/1 pair commit" || nonce_B)
Hash pair_commitment(ByteView nonce_b);

// Whether `nonce_b` opens `commitment` (constant time).
bool opens_commitment(const Hash& commitment, ByteView nonce_b);

// u64be(SHA-256("blueratchet/1 pair code" || h || nonce_A || nonce_B)[0:8])
// mod 10^6, as exactly 6 digits.  `h` is the XX handshake hash, which
// already covers both identities, both ephemerals and the commitment.
std::string pair_code(const Hash& h, ByteView nonce_a, ByteView nonce_b);

}  // namespace br::handshake
