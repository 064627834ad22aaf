// SPDX-License-Identifier: MIT
// Minting and checking session certificates (docs/PROTOCOL.md section 7).
//
// Each side, after a handshake, mints a certificate for a fresh per-epoch
// session key and sends it to the peer.  The session key and the delegation
// are derived from the epoch's shared seed:
//   ids     = id_A || id_B (initiator first)
//   sk_seed = KDF(seed, "session key", ids || u32be(epoch) || owner_id || owner_identity_seed)
//   param   = KDF(seed, "delegation blind", ids || u32be(epoch) || owner_id)
// The owner signs the delegation with its identity key blinded by param
// (Tor's construction, core/crypto/blinding.hpp); the peer, who knows seed
// and the owner's identity A, checks it under t*A.  The identity key itself
// never signs: without seed nobody can relate t*A to A, so a certificate
// shown to a third party does not prove that A vouched for the session key.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <set>

#include "core/cert/certificate.hpp"
#include "core/cert/invalidation.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/crypto/kdf.hpp"
#include "core/crypto/secret.hpp"
#include "core/util/expected.hpp"
#include "core/util/role.hpp"

namespace br::cert {

// ids = id_A || id_B for an owner in `owner_role` talking to `peer_id`.
Bytes ids_for(Role owner_role, const Ed25519Public& owner_id, const Ed25519Public& peer_id);

// A bounded record of accepted certificates, keyed by SHA-256 of the
// compact form.  When full, the oldest entry is forgotten (the epoch check
// already keeps a verifier from accepting certificates of older epochs, so
// an evicted entry cannot be replayed into a later session).
class ReplayCache {
  public:
    explicit ReplayCache(std::size_t capacity = 1024) : capacity_(capacity ? capacity : 1) {}
    bool seen(const Hash& key) const { return set_.count(key) != 0; }
    void remember(const Hash& key);
    std::size_t size() const { return order_.size(); }

  private:
    std::size_t capacity_;
    std::deque<Hash> order_;
    std::set<Hash> set_;
};

// Checks a peer's compact certificate.  In this order, each with its error:
//   BadLength, UnsupportedVersion (decoding); WrongSubject (subject !=
//   expected_subject_id); WrongPeer (peer_id != own_id); WrongEpoch;
//   WrongBinding (only when handshake_hash is given: binding != h[0:16]);
//   BadValidity (not_after <= not_before or window > kMaxValiditySeconds);
//   NotYetValid (now < not_before); Expired (now >= not_after);
//   BadSelfSignature; BadDelegation; Replayed.
// `seed` is the epoch's 32-byte shared seed, `own_role` this verifier's
// role in the handshake (it fixes the ids order).  On success the
// certificate is remembered in `cache`.  InvalidArgument for wrongly sized
// inputs or expected_subject_id == own_id.
// `version` is the certificate format the session uses (kVersion, or
// kVersion10 with a peer that speaks protocol 1.0): another one is
// UnsupportedVersion.
Expected<Certificate, CertError> verify(ByteView compact, ByteView expected_subject_id,
                                        ByteView own_id, Role own_role, ByteView seed,
                                        std::uint32_t epoch, std::uint32_t now_unix,
                                        ReplayCache& cache, ByteView handshake_hash = {},
                                        std::uint8_t version = kVersion);

// One side's minted certificate and the secrets behind it: the session key
// and a copy of the epoch seed (to check the peer's certificate).  The
// blinded identity key is only needed to sign the delegation and is wiped
// inside mint().  After invalidate() every operation that would use or
// reveal a secret, or vouch for the certificate, fails with Invalidated.
class SessionCert {
  public:
    // owner: this side's identity.  peer_id: the peer's identity (32).
    // seed: the epoch's shared seed (32).  handshake_hash: h (32); its first
    // 16 bytes become the binding.  epoch >= 1; 1 <= validity_seconds <=
    // kMaxValiditySeconds and not_before + validity must fit in 32 bits.
    // `version`: the certificate format (kVersion10 for a 1.0 session).
    static Expected<SessionCert, CertError> mint(const Ed25519KeyPair& owner, ByteView peer_id,
                                                 Role owner_role, const SecretBytes& seed,
                                                 std::uint32_t epoch, ByteView handshake_hash,
                                                 std::uint32_t not_before,
                                                 std::uint32_t validity_seconds,
                                                 std::uint8_t version = kVersion);

    bool invalidated() const { return reason_.has_value(); }
    std::optional<InvalidationReason> invalidation_reason() const { return reason_; }
    // Wipes the session key and the seed copy.  Idempotent; the first
    // reason is kept.
    void invalidate(InvalidationReason reason);

    Expected<Certificate, CertError> certificate() const;
    Expected<Bytes, CertError> compact() const;
    Expected<Bytes, CertError> x509_der() const;
    Expected<Ed25519Public, CertError> session_public_key() const;
    // Standard Ed25519 signature by the session key.
    Expected<Ed25519Signature, CertError> sign(ByteView message) const;
    // SECRET: the session key as PKCS#8 DER (RFC 8410), in guarded memory.
    Expected<SecretBytes, CertError> private_key_pkcs8_der() const;
    // Re-checks this side's own certificate as the peer would (signatures,
    // delegation, validity at now_unix), without touching any replay cache.
    Expected<void, CertError> verify_own(std::uint32_t now_unix) const;
    // Checks the peer's certificate with this session's seed, epoch, role,
    // identities and certificate format (see verify()); the binding too.
    Expected<Certificate, CertError> verify_peer(ByteView compact, std::uint32_t now_unix,
                                                 ReplayCache& cache) const;

  private:
    SessionCert(Certificate c, Ed25519KeyPair key, SecretBytes seed, Role role, const Hash& h)
        : cert_(c), key_(std::move(key)), seed_(std::move(seed)), role_(role), h_(h) {}
    Certificate cert_;
    std::optional<Ed25519KeyPair> key_;
    SecretBytes seed_;
    Role role_;
    Hash h_;
    std::optional<InvalidationReason> reason_;
};

}  // namespace br::cert
