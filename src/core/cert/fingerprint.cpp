// SPDX-License-Identifier: MIT
#include "core/cert/fingerprint.hpp"

#include <cstdio>

namespace br::cert {

Hash fingerprint(const Hash& handshake_hash, const Ed25519Public& id_a, const Ed25519Public& id_b,
                 const Ed25519Public& session_pk_a, const Ed25519Public& session_pk_b) {
    static constexpr std::string_view kLabel = "blueratchet/1 fingerprint";
    return sha256({as_bytes(kLabel), handshake_hash, id_a, id_b, session_pk_a, session_pk_b});
}

Hash fingerprint_for(Role own_role, const Hash& handshake_hash, const Ed25519Public& own_id,
                     const Ed25519Public& peer_id, const Ed25519Public& own_session_pk,
                     const Ed25519Public& peer_session_pk) {
    if (own_role == Role::Initiator)
        return fingerprint(handshake_hash, own_id, peer_id, own_session_pk, peer_session_pk);
    return fingerprint(handshake_hash, peer_id, own_id, peer_session_pk, own_session_pk);
}

std::string short_code(const Hash& fp) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | fp[i];
    char buf[8];
    std::snprintf(buf, sizeof buf, "%06u", static_cast<unsigned>(v % 1000000));
    return buf;
}

bool fingerprint_matches(const Hash& ours, ByteView received) {
    return ct_equal(ours, received);
}

}  // namespace br::cert
