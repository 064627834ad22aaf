// SPDX-License-Identifier: MIT
#include "core/handshake/pairing_code.hpp"

#include "core/cert/fingerprint.hpp"

namespace br::handshake {

Hash pair_commitment(ByteView nonce_b) {
    return sha256({as_bytes("blueratchet/1 pair commit"), nonce_b});
}

bool opens_commitment(const Hash& commitment, ByteView nonce_b) {
    return nonce_b.size() == kPairNonceLen && ct_equal(pair_commitment(nonce_b), commitment);
}

std::string pair_code(const Hash& h, ByteView nonce_a, ByteView nonce_b) {
    // The same 6-digit reduction as the fingerprint's short code (7.6).
    return cert::short_code(sha256({as_bytes("blueratchet/1 pair code"), h, nonce_a, nonce_b}));
}

}  // namespace br::handshake
