// SPDX-License-Identifier: MIT
#include "core/cert/session.hpp"

#include <algorithm>

#include "core/crypto/blinding.hpp"

namespace br::cert {
namespace {

constexpr std::string_view kSessionKeyLabel = "session key";
constexpr std::string_view kDelegationLabel = "delegation blind";

Ed25519Public to_public(ByteView v) {
    Ed25519Public out{};
    std::copy(v.begin(), v.end(), out.begin());
    return out;
}

// ids || u32be(epoch) || owner_id: the public part of both KDF contexts.
Bytes kdf_context(Role owner_role, const Ed25519Public& owner_id, const Ed25519Public& peer_id,
                  std::uint32_t epoch) {
    Bytes ctx = ids_for(owner_role, owner_id, peer_id);
    append_u32be(ctx, epoch);
    append(ctx, owner_id);
    return ctx;
}

SecretBytes delegation_param(ByteView seed, Role owner_role, const Ed25519Public& owner_id,
                             const Ed25519Public& peer_id, std::uint32_t epoch) {
    return derive_secret(seed, kDelegationLabel, kdf_context(owner_role, owner_id, peer_id, epoch));
}

// Everything verify() checks except the replay cache.
Expected<Certificate, CertError> check(ByteView compact, ByteView expected_subject_id,
                                       ByteView own_id, Role own_role, ByteView seed,
                                       std::uint32_t epoch, std::uint32_t now_unix,
                                       ByteView handshake_hash, std::uint8_t version) {
    if (expected_subject_id.size() != 32 || own_id.size() != 32 || seed.size() != 32 ||
        (!handshake_hash.empty() && handshake_hash.size() != kHashLen) ||
        std::equal(expected_subject_id.begin(), expected_subject_id.end(), own_id.begin()))
        return unexpected(CertError::InvalidArgument);

    auto decoded = decode_compact(compact);
    if (!decoded) return decoded;
    const Certificate& c = *decoded;
    if (c.version != version) return unexpected(CertError::UnsupportedVersion);
    const Ed25519Public subject = to_public(expected_subject_id);
    const Ed25519Public me = to_public(own_id);

    if (c.subject_id != subject) return unexpected(CertError::WrongSubject);
    if (c.peer_id != me) return unexpected(CertError::WrongPeer);
    if (epoch == 0 || c.epoch != epoch) return unexpected(CertError::WrongEpoch);
    if (!handshake_hash.empty() &&
        !std::equal(c.binding.begin(), c.binding.end(), handshake_hash.begin()))
        return unexpected(CertError::WrongBinding);
    if (c.not_after <= c.not_before || c.not_after - c.not_before > kMaxValiditySeconds)
        return unexpected(CertError::BadValidity);
    if (now_unix < c.not_before) return unexpected(CertError::NotYetValid);
    if (now_unix >= c.not_after) return unexpected(CertError::Expired);

    if (!ed25519_verify(c.session_pk, tbs_der(c), c.self_sig))
        return unexpected(CertError::BadSelfSignature);

    // The subject minted in the other role from ours.
    const SecretBytes param = delegation_param(seed, other(own_role), subject, me, c.epoch);
    const auto blinded = blind_public(subject, param.view());
    if (!blinded || !ed25519_verify(*blinded, delegation_message(c), c.delegation_sig))
        return unexpected(CertError::BadDelegation);
    return decoded;
}

}  // namespace

Bytes ids_for(Role owner_role, const Ed25519Public& owner_id, const Ed25519Public& peer_id) {
    Bytes ids;
    ids.reserve(64);
    const bool initiator = owner_role == Role::Initiator;
    append(ids, initiator ? owner_id : peer_id);
    append(ids, initiator ? peer_id : owner_id);
    return ids;
}

void ReplayCache::remember(const Hash& key) {
    if (!set_.insert(key).second) return;
    order_.push_back(key);
    if (order_.size() > capacity_) {
        set_.erase(order_.front());
        order_.pop_front();
    }
}

Expected<Certificate, CertError> verify(ByteView compact, ByteView expected_subject_id,
                                        ByteView own_id, Role own_role, ByteView seed,
                                        std::uint32_t epoch, std::uint32_t now_unix,
                                        ReplayCache& cache, ByteView handshake_hash,
                                        std::uint8_t version) {
    auto c = check(compact, expected_subject_id, own_id, own_role, seed, epoch, now_unix,
                   handshake_hash, version);
    if (!c) return c;
    // All 253 bytes are covered by the two signatures, and libsodium's
    // Ed25519 is not malleable, so the hash names the certificate.
    const Hash key = sha256(compact);
    if (cache.seen(key)) return unexpected(CertError::Replayed);
    cache.remember(key);
    return c;
}

Expected<SessionCert, CertError> SessionCert::mint(const Ed25519KeyPair& owner, ByteView peer_id,
                                                   Role owner_role, const SecretBytes& seed,
                                                   std::uint32_t epoch, ByteView handshake_hash,
                                                   std::uint32_t not_before,
                                                   std::uint32_t validity_seconds,
                                                   std::uint8_t version) {
    if (owner.wiped() || peer_id.size() != 32 || seed.size() != 32 ||
        handshake_hash.size() != kHashLen || (version != kVersion && version != kVersion10))
        return unexpected(CertError::InvalidArgument);
    const Ed25519Public owner_id = owner.public_key();
    const Ed25519Public peer = to_public(peer_id);
    if (owner_id == peer) return unexpected(CertError::InvalidArgument);
    if (epoch == 0) return unexpected(CertError::WrongEpoch);
    if (validity_seconds == 0 || validity_seconds > kMaxValiditySeconds ||
        not_before > UINT32_MAX - validity_seconds)
        return unexpected(CertError::BadValidity);

    // sk_seed = KDF(seed, "session key", ids || u32be(epoch) || owner_id ||
    // owner_identity_seed); the context holds a secret, so it is built in
    // guarded memory.
    const Bytes pub_ctx = kdf_context(owner_role, owner_id, peer, epoch);
    SecretBytes ctx(pub_ctx.size() + kEd25519SeedLen);
    std::copy(pub_ctx.begin(), pub_ctx.end(), ctx.data());
    std::copy(owner.seed().begin(), owner.seed().end(), ctx.data() + pub_ctx.size());
    const SecretBytes sk_seed = derive_secret(seed.view(), kSessionKeyLabel, ctx.view());
    ctx.wipe();
    Ed25519KeyPair session = Ed25519KeyPair::from_seed(sk_seed.view());

    Certificate c;
    c.version = version;
    c.epoch = epoch;
    c.not_before = not_before;
    c.not_after = not_before + validity_seconds;
    c.subject_id = owner_id;
    c.peer_id = peer;
    c.session_pk = session.public_key();
    std::copy(handshake_hash.begin(), handshake_hash.begin() + kBindingLen, c.binding.begin());
    {
        const SecretBytes param = delegation_param(seed.view(), owner_role, owner_id, peer, epoch);
        const BlindedKey blinded = blind_secret(owner, param.view());
        c.delegation_sig =
            sign_expanded(blinded.expanded.view(), blinded.pub, delegation_message(c));
    }  // param and the blinded secret are wiped here
    c.self_sig = session.sign(tbs_der(c));

    Hash h{};
    std::copy(handshake_hash.begin(), handshake_hash.end(), h.begin());
    return SessionCert(c, std::move(session), seed.clone(), owner_role, h);
}

void SessionCert::invalidate(InvalidationReason reason) {
    if (key_) key_->wipe();
    key_.reset();
    seed_.wipe();
    if (!reason_) reason_ = reason;
}

Expected<Certificate, CertError> SessionCert::certificate() const {
    if (invalidated()) return unexpected(CertError::Invalidated);
    return cert_;
}

Expected<Bytes, CertError> SessionCert::compact() const {
    if (invalidated()) return unexpected(CertError::Invalidated);
    return encode_compact(cert_);
}

Expected<Bytes, CertError> SessionCert::x509_der() const {
    if (invalidated()) return unexpected(CertError::Invalidated);
    return x509_from_compact(cert_);
}

Expected<Ed25519Public, CertError> SessionCert::session_public_key() const {
    if (invalidated()) return unexpected(CertError::Invalidated);
    return cert_.session_pk;
}

Expected<Ed25519Signature, CertError> SessionCert::sign(ByteView message) const {
    if (invalidated() || !key_) return unexpected(CertError::Invalidated);
    return key_->sign(message);
}

Expected<SecretBytes, CertError> SessionCert::private_key_pkcs8_der() const {
    if (invalidated() || !key_) return unexpected(CertError::Invalidated);
    // RFC 8410 OneAsymmetricKey v1: SEQUENCE { INTEGER 0, AlgorithmIdentifier
    // { 1.3.101.112 }, OCTET STRING { OCTET STRING seed } }.
    static constexpr std::uint8_t kPrefix[] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                               0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};
    SecretBytes out(sizeof kPrefix + kEd25519SeedLen);
    std::copy(std::begin(kPrefix), std::end(kPrefix), out.data());
    std::copy(key_->seed().begin(), key_->seed().end(), out.data() + sizeof kPrefix);
    return out;
}

Expected<void, CertError> SessionCert::verify_own(std::uint32_t now_unix) const {
    if (invalidated()) return unexpected(CertError::Invalidated);
    auto r = check(encode_compact(cert_), cert_.subject_id, cert_.peer_id, other(role_),
                   seed_.view(), cert_.epoch, now_unix, h_, cert_.version);
    if (!r) return unexpected(r.error());
    return {};
}

Expected<Certificate, CertError> SessionCert::verify_peer(ByteView compact, std::uint32_t now_unix,
                                                          ReplayCache& cache) const {
    if (invalidated()) return unexpected(CertError::Invalidated);
    return verify(compact, cert_.peer_id, cert_.subject_id, role_, seed_.view(), cert_.epoch,
                  now_unix, cache, h_, cert_.version);
}

}  // namespace br::cert
