// SPDX-License-Identifier: MIT
#include "core/handshake/engine_common.hpp"

#include "core/cert/fingerprint.hpp"

namespace br::handshake {

const char* to_string(Kind k) {
    return k == Kind::Pair ? "pair" : "resume";
}

const char* to_string(Version v) {
    return v == Version::V1_1 ? "1.1" : "1.0";
}

std::uint32_t Session::own_not_after() const {
    auto c = own.certificate();
    return c ? c->not_after : 0;
}

const char* to_string(Error e) {
    switch (e) {
        case Error::Decode:
            return "malformed message";
        case Error::UnexpectedMessage:
            return "unexpected message";
        case Error::Noise:
            return "noise handshake failed";
        case Error::IdentityMismatch:
            return "identity does not match the noise static key";
        case Error::SelfPairing:
            return "peer presented our own identity";
        case Error::NegatedIdentity:
            return "peer presented the other sign of an identity already paired";
        case Error::UnsupportedVersion:
            return "peer speaks an unsupported protocol version";
        case Error::VersionDowngrade:
            return "protocol 1.0 refused: this pair already speaks 1.1";
        case Error::UnknownPeer:
            return "unknown peer";
        case Error::NoCommonEpoch:
            return "no common ratchet epoch";
        case Error::EpochNotOffered:
            return "responder chose an epoch we did not offer";
        case Error::NotApproved:
            return "first contact not approved";
        case Error::CommitmentMismatch:
            return "revealed nonce does not open the commitment";
        case Error::Certificate:
            return "peer certificate rejected";
        case Error::FingerprintMismatch:
            return "certificate fingerprint mismatch";
        case Error::ConfirmMismatch:
            return "confirmation names another epoch";
        case Error::PersistFailed:
            return "could not persist ratchet state";
        case Error::PeerAborted:
            return "peer aborted the handshake";
        case Error::Finished:
            return "handshake already finished";
    }
    return "unknown handshake error";
}

const char* name(Error e) {
    switch (e) {
        case Error::Decode:
            return "Decode";
        case Error::UnexpectedMessage:
            return "UnexpectedMessage";
        case Error::Noise:
            return "Noise";
        case Error::IdentityMismatch:
            return "IdentityMismatch";
        case Error::SelfPairing:
            return "SelfPairing";
        case Error::NegatedIdentity:
            return "NegatedIdentity";
        case Error::UnsupportedVersion:
            return "UnsupportedVersion";
        case Error::VersionDowngrade:
            return "VersionDowngrade";
        case Error::UnknownPeer:
            return "UnknownPeer";
        case Error::NoCommonEpoch:
            return "NoCommonEpoch";
        case Error::EpochNotOffered:
            return "EpochNotOffered";
        case Error::NotApproved:
            return "NotApproved";
        case Error::CommitmentMismatch:
            return "CommitmentMismatch";
        case Error::Certificate:
            return "Certificate";
        case Error::FingerprintMismatch:
            return "FingerprintMismatch";
        case Error::ConfirmMismatch:
            return "ConfirmMismatch";
        case Error::PersistFailed:
            return "PersistFailed";
        case Error::PeerAborted:
            return "PeerAborted";
        case Error::Finished:
            return "Finished";
    }
    return "Unknown";
}

std::string Failure::describe() const {
    std::string s = to_string(error);
    if (noise_error) s += std::string(": ") + noise::to_string(*noise_error);
    if (cert_error) s += std::string(": ") + cert::to_string(*cert_error);
    if (decode_error) s += std::string(": ") + to_string(*decode_error);
    if (abort) {
        s += std::string(": ") + to_string(*abort);
        const auto code = static_cast<unsigned>(*abort);
        if (std::string_view(to_string(*abort)) == "unknown reason")
            s += " " + std::to_string(code);
    }
    if (!detail.empty()) s += ": " + detail;
    return s;
}

std::string Failure::name() const {
    if (noise_error) return std::string("Noise.") + noise::name(*noise_error);
    if (cert_error) return std::string("Certificate.") + cert::to_string(*cert_error);
    if (decode_error) return std::string("Decode.") + handshake::name(*decode_error);
    if (abort) return std::string("PeerAborted.") + handshake::name(*abort);
    return handshake::name(error);
}

Hash certificate_fingerprint(const Hash& h, const Ed25519Public& recipient_id,
                             const Ed25519Public& sender_session_pk) {
    return sha256({as_bytes("blueratchet/1 cert fingerprint"), h, recipient_id, sender_session_pk});
}

DeviceId negated_identity(const DeviceId& id) {
    DeviceId other = id;
    other[31] ^= 0x80;  // the sign of x: the point's negation, same Montgomery u
    return other;
}

Expected<Bytes, Failure> SessionChannel::seal(MessageType type, ByteView plaintext) {
    auto ct = send_.encrypt_with_ad({}, plaintext);
    if (!ct) return unexpected(Failure::noise(ct.error()));
    return encode(Message{type, 0, std::move(*ct)});
}

Expected<Bytes, Failure> SessionChannel::open(const Message& m) {
    auto plain = recv_.decrypt_with_ad({}, m.body);
    if (!plain) return unexpected(Failure::noise(plain.error()));
    return std::move(*plain);
}

namespace detail {
namespace {
constexpr std::size_t kFingerprintLen = 32;
}

X25519KeyPair noise_static_of(const Ed25519KeyPair& identity) {
    SecretBytes x = identity.x25519_secret();
    return X25519KeyPair::from_secret(x.view());
}

Expected<Bytes, Failure> seal_certificate(SessionChannel& channel, const cert::SessionCert& own,
                                          const Hash& h, const Ed25519Public& recipient) {
    auto compact = own.compact();
    auto spk = own.session_public_key();
    if (!compact) return unexpected(Failure::certificate(compact.error()));
    if (!spk) return unexpected(Failure::certificate(spk.error()));
    Bytes plain = *compact;
    append(plain, certificate_fingerprint(h, recipient, *spk));
    return channel.seal(MessageType::Cert, plain);
}

Expected<cert::Certificate, Failure> open_certificate(SessionChannel& channel, const Message& m,
                                                      const cert::SessionCert& own,
                                                      std::uint32_t now, cert::ReplayCache& replay,
                                                      const Hash& h, const Ed25519Public& own_id) {
    auto plain = channel.open(m);
    if (!plain) return unexpected(plain.error());
    if (plain->size() != cert::kCompactLen + kFingerprintLen)
        return unexpected(Failure::certificate(cert::CertError::BadLength));
    ByteView all(*plain);
    auto decoded = cert::decode_compact(all.first(cert::kCompactLen));
    if (!decoded) return unexpected(Failure::certificate(decoded.error()));
    const Hash expected = certificate_fingerprint(h, own_id, decoded->session_pk);
    if (!ct_equal(expected, all.subspan(cert::kCompactLen)))
        return unexpected(Failure::of(Error::FingerprintMismatch));
    auto peer = own.verify_peer(all.first(cert::kCompactLen), now, replay);
    if (!peer) return unexpected(Failure::certificate(peer.error()));
    return *peer;
}

Session make_session(Kind kind, Version version, Role role, const Ed25519Public& own_id,
                     const Ed25519Public& peer_id, const Hash& h, cert::SessionCert own,
                     const cert::Certificate& peer, const std::string& pair_code) {
    const Ed25519Public own_spk = *own.session_public_key();
    Hash fp = cert::fingerprint_for(role, h, own_id, peer_id, own_spk, peer.session_pk);
    std::string code = kind == Kind::Pair ? pair_code : cert::short_code(fp);
    return Session{kind, version,        role, own_id, peer_id,        peer.epoch,
                   h,    std::move(own), peer, fp,     std::move(code)};
}

Expected<DeviceId, Error> check_identity(ByteView id, const noise::HandshakeState& hs,
                                         const Ed25519KeyPair& own, PeerBook& book) {
    if (id.size() != kEd25519PublicLen) return unexpected(Error::Decode);
    DeviceId peer{};
    std::copy(id.begin(), id.end(), peer.begin());
    auto peer_x = ed25519_public_to_x25519(peer);
    if (!peer_x || !hs.remote_static() || !ct_equal(*peer_x, *hs.remote_static()))
        return unexpected(Error::IdentityMismatch);
    // Our own key in either sign: its X25519 form is our static.
    auto own_x = ed25519_public_to_x25519(own.public_key());
    if (own_x && ct_equal(*own_x, *peer_x)) return unexpected(Error::SelfPairing);
    if (!book.has(peer) && book.has(negated_identity(peer)))
        return unexpected(Error::NegatedIdentity);
    return peer;
}

static_assert(std::tuple_size_v<Hash> == kPairNonceLen, "a commitment is as long as a nonce");
Expected<IdentityAnd32, Error> split_pair_payload(ByteView payload) {
    if (payload.size() != kEd25519PublicLen + kPairNonceLen) return unexpected(Error::Decode);
    return IdentityAnd32{payload.first(kEd25519PublicLen), payload.subspan(kEd25519PublicLen)};
}

Expected<Finished, Failure> finish(noise::HandshakeState& hs, Role role) {
    const Hash h = hs.handshake_hash();
    auto split = hs.split_with_secret();
    if (!split) return unexpected(Failure::noise(split.error()));
    if (role == Role::Initiator)
        return Finished{h, SessionChannel(std::move(split->first), std::move(split->second)),
                        std::move(split->secret)};
    return Finished{h, SessionChannel(std::move(split->second), std::move(split->first)),
                    std::move(split->secret)};
}

namespace {
std::uint32_t minted_not_before(std::uint32_t now, const Settings& s) {
    return now > s.clock_skew_seconds ? now - s.clock_skew_seconds : 0;
}
std::uint32_t minted_validity(std::uint32_t now, const Settings& s) {
    const std::uint64_t v = std::uint64_t{s.validity_seconds} + (now - minted_not_before(now, s));
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(v, cert::kMaxValiditySeconds));
}
}  // namespace

Expected<cert::SessionCert, Failure> mint_own(const Ed25519KeyPair& identity, const DeviceId& peer,
                                              Role role, const SecretBytes& seed,
                                              std::uint32_t epoch, const Hash& h, std::uint32_t now,
                                              const Settings& settings, Version version) {
    auto own =
        cert::SessionCert::mint(identity, peer, role, seed, epoch, h,
                                minted_not_before(now, settings), minted_validity(now, settings),
                                version == Version::V1_1 ? cert::kVersion : cert::kVersion10);
    if (!own) return unexpected(Failure::certificate(own.error()));
    return std::move(*own);
}

Bytes u32_plaintext(std::uint32_t v) {
    Bytes b;
    append_u32be(b, v);
    return b;
}

std::optional<std::uint32_t> read_u32_plaintext(ByteView plain) {
    if (plain.size() != 4) return std::nullopt;
    Reader r(plain);
    return r.u32be();
}

Expected<std::uint32_t, Failure> open_u32(SessionChannel& channel, const Message& m) {
    auto plain = channel.open(m);
    if (!plain) return unexpected(plain.error());
    auto v = read_u32_plaintext(*plain);
    if (!v) return unexpected(Failure::of(Error::Decode));
    return *v;
}

Expected<Step, Failure> bond_step(SessionChannel& channel, const Message& m) {
    auto passkey = open_u32(channel, m);
    if (!passkey) return unexpected(passkey.error());
    Step step;
    step.bond_passkey = *passkey;
    return step;
}

}  // namespace detail
}  // namespace br::handshake
