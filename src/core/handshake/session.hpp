// SPDX-License-Identifier: MIT
// A live blueratchet session: what one connection's handshake produced.
//
// It owns this side's session certificate and key (in guarded memory) and a
// copy of the peer's certificate.  invalidate() wipes the key at once; every
// later use of it fails with cert::CertError::Invalidated.
#pragma once

#include <cstdint>
#include <string>

#include "core/cert/certificate.hpp"
#include "core/cert/invalidation.hpp"
#include "core/cert/session.hpp"
#include "core/crypto/kdf.hpp"
#include "core/handshake/peer_book.hpp"

namespace br::handshake {

enum class Kind { Pair, Resume };
const char* to_string(Kind k);

struct Session {
    Kind kind;
    Version version;  // the protocol this handshake spoke
    Role role;        // our role in this handshake
    Ed25519Public own_id;
    Ed25519Public peer_id;
    std::uint32_t epoch;  // the ratchet epoch whose seed minted the certificates
    Hash handshake_hash;
    cert::SessionCert own;   // our certificate and session key
    cert::Certificate peer;  // the peer's verified certificate
    Hash fingerprint;        // same on both sides: cert::fingerprint over both session keys
    std::string short_code;  // 6 digits from the fingerprint

    std::uint32_t not_after() const { return std::min(own_not_after(), peer.not_after); }
    std::uint32_t own_not_after() const;
    bool invalidated() const { return own.invalidated(); }
    void invalidate(InvalidationReason reason) { own.invalidate(reason); }
};

}  // namespace br::handshake
