#include "core/handshake/engine.hpp"

#include "core/cert/fingerprint.hpp"

namespace br::handshake {
namespace {

constexpr std::string_view kPairPrologue = "blueratchet/1 pair";
constexpr std::string_view kResumePrologue = "blueratchet/1 resume";
constexpr std::size_t kFingerprintLen = 32;

X25519KeyPair noise_static_of(const Ed25519KeyPair& identity) {
    SecretBytes x = identity.x25519_secret();
    return X25519KeyPair::from_secret(x.view());
}

Bytes ids_of(cert::Role own_role, const Ed25519Public& own, const Ed25519Public& peer) {
    return cert::ids_for(own_role, own, peer);
}

Failure failure_of(Error e) {
    return Failure{e, {}, {}, {}, {}};
}

// CERT message plaintext: compact certificate || certificate fingerprint.
Expected<Bytes, Failure> seal_certificate(noise::CipherState& cs, const cert::SessionCert& own,
                                          const Hash& h, const Ed25519Public& recipient) {
    auto compact = own.compact();
    auto spk = own.session_public_key();
    if (!compact || !spk)
        return unexpected(
            Failure{Error::Certificate, {}, compact ? spk.error() : compact.error(), {}, {}});
    Bytes plain = *compact;
    append(plain, certificate_fingerprint(h, recipient, *spk));
    auto ct = cs.encrypt_with_ad({}, plain);
    if (!ct) return unexpected(Failure{Error::Noise, ct.error(), {}, {}, {}});
    return encode(Message{MessageType::Cert, 0, std::move(*ct)});
}

// Opens and checks a peer's CERT message against our own session certificate.
Expected<cert::Certificate, Failure> open_certificate(noise::CipherState& cs, const Message& m,
                                                      const cert::SessionCert& own,
                                                      std::uint32_t now, cert::ReplayCache& replay,
                                                      const Hash& h, const Ed25519Public& own_id) {
    auto plain = cs.decrypt_with_ad({}, m.body);
    if (!plain) return unexpected(Failure{Error::Noise, plain.error(), {}, {}, {}});
    if (plain->size() != cert::kCompactLen + kFingerprintLen)
        return unexpected(Failure{Error::Certificate, {}, cert::CertError::BadLength, {}, {}});
    ByteView all(*plain);
    // The fingerprint first: verify_peer() records the certificate in the
    // replay cache, which a certificate refused here should not reach.
    auto decoded = cert::decode_compact(all.first(cert::kCompactLen));
    if (!decoded) return unexpected(Failure{Error::Certificate, {}, decoded.error(), {}, {}});
    Hash expected = certificate_fingerprint(h, own_id, decoded->session_pk);
    if (!ct_equal(expected, all.subspan(cert::kCompactLen)))
        return unexpected(failure_of(Error::FingerprintMismatch));
    auto peer = own.verify_peer(all.first(cert::kCompactLen), now, replay);
    if (!peer) return unexpected(Failure{Error::Certificate, {}, peer.error(), {}, {}});
    return *peer;
}

// `pair_code` is the commit-and-reveal code of a first pairing; a resume,
// authenticated by the ratchet seed, shows the fingerprint's short code.
Session make_session(Kind kind, cert::Role role, const Ed25519Public& own_id,
                     const Ed25519Public& peer_id, const Hash& h, cert::SessionCert own,
                     const cert::Certificate& peer, const std::string& pair_code) {
    const Ed25519Public own_spk = *own.session_public_key();
    Hash fp = cert::fingerprint_for(role, h, own_id, peer_id, own_spk, peer.session_pk);
    std::string code = kind == Kind::Pair ? pair_code : cert::short_code(fp);
    return Session{kind, role, own_id, peer_id, peer.epoch, h, std::move(own), peer, fp, code};
}

// The peer's identity as a payload carries it: it must be an Ed25519 key
// whose X25519 form is the Noise static key the handshake authenticated,
// and not our own.
Expected<DeviceId, Error> check_identity(ByteView id, const noise::HandshakeState& hs,
                                         const Ed25519Public& own) {
    if (id.size() != kEd25519PublicLen) return unexpected(Error::Decode);
    DeviceId peer{};
    std::copy(id.begin(), id.end(), peer.begin());
    auto peer_x = ed25519_public_to_x25519(peer);
    if (!peer_x || !hs.remote_static() || !ct_equal(*peer_x, *hs.remote_static()))
        return unexpected(Error::IdentityMismatch);
    if (peer == own) return unexpected(Error::SelfPairing);
    return peer;
}

// PAIR_2's and PAIR_3's payload: an identity followed by a 32-byte value
// (the responder's commitment, the initiator's nonce).
struct IdentityAnd32 {
    ByteView id;
    ByteView value;
};
static_assert(std::tuple_size_v<Hash> == kPairNonceLen, "a commitment is as long as a nonce");
Expected<IdentityAnd32, Error> split_pair_payload(ByteView payload) {
    if (payload.size() != kEd25519PublicLen + kPairNonceLen) return unexpected(Error::Decode);
    return IdentityAnd32{payload.first(kEd25519PublicLen), payload.subspan(kEd25519PublicLen)};
}

// A finished handshake's hash and transport ciphers, oriented for `role`.
struct Finished {
    Hash h;
    noise::CipherState send, recv;
    SecretBytes secret;  // the final chaining key's third HKDF output
};
Expected<Finished, Failure> finish(noise::HandshakeState& hs, cert::Role role) {
    const Hash h = hs.handshake_hash();
    auto split = hs.split_with_secret();
    if (!split) return unexpected(Failure{Error::Noise, split.error(), {}, {}, {}});
    if (role == cert::Role::Initiator)
        return Finished{h, std::move(split->first), std::move(split->second),
                        std::move(split->secret)};
    return Finished{h, std::move(split->second), std::move(split->first), std::move(split->secret)};
}

}  // namespace

// not_before and the validity window of the certificates we mint (Settings).
static std::uint32_t minted_not_before(std::uint32_t now, const Settings& s) {
    return now > s.clock_skew_seconds ? now - s.clock_skew_seconds : 0;
}
static std::uint32_t minted_validity(std::uint32_t now, const Settings& s) {
    const std::uint64_t v = std::uint64_t{s.validity_seconds} + (now - minted_not_before(now, s));
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(v, cert::kMaxValiditySeconds));
}

// Our certificate for the session epoch whose seed is `seed`.
static Expected<cert::SessionCert, Failure> mint_own(const Ed25519KeyPair& identity,
                                                     const DeviceId& peer, cert::Role role,
                                                     const SecretBytes& seed, std::uint32_t epoch,
                                                     const Hash& h, std::uint32_t now,
                                                     const Settings& settings) {
    auto own =
        cert::SessionCert::mint(identity, peer, role, seed, epoch, h,
                                minted_not_before(now, settings), minted_validity(now, settings));
    if (!own) return unexpected(Failure{Error::Certificate, {}, own.error(), {}, {}});
    return std::move(*own);
}

const char* to_string(Kind k) {
    return k == Kind::Pair ? "pair" : "resume";
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
        case Error::PersistFailed:
            return "could not persist ratchet state";
        case Error::PeerAborted:
            return "peer aborted the handshake";
        case Error::Finished:
            return "handshake already finished";
    }
    return "unknown handshake error";
}

std::string Failure::describe() const {
    std::string s = to_string(error);
    if (noise_error) s += std::string(": ") + noise::to_string(*noise_error);
    if (cert_error) s += std::string(": ") + cert::to_string(*cert_error);
    if (decode_error) s += std::string(": ") + to_string(*decode_error);
    if (abort) s += std::string(": ") + to_string(*abort);
    return s;
}

Hash certificate_fingerprint(const Hash& h, const Ed25519Public& recipient_id,
                             const Ed25519Public& sender_session_pk) {
    return sha256({as_bytes("blueratchet/1 cert fingerprint"), h, recipient_id, sender_session_pk});
}

// ---------------------------------------------------------------- Initiator

Initiator::Initiator(const Ed25519KeyPair& identity, std::optional<DeviceId> peer, PeerBook& book,
                     cert::ReplayCache& replay, Settings settings, std::uint32_t now_unix)
    : identity_(identity),
      peer_(peer),
      book_(book),
      replay_(replay),
      settings_(settings),
      now_(now_unix),
      static_(noise_static_of(identity)) {}

Step Initiator::fail(Error e) {
    return fail(failure_of(e));
}

Step Initiator::fail(Failure f) {
    state_ = State::Failed;
    if (held_) held_->wipe();
    if (new_seed_) new_seed_->wipe();
    if (own_) own_->invalidate(InvalidationReason::Revoked);
    hs_.reset();
    send_.reset();
    recv_.reset();
    Step s;
    s.failure = f;
    return s;
}

Step Initiator::start() {
    if (state_ != State::Idle) return fail(Error::UnexpectedMessage);
    if (peer_) held_ = book_.holdings(*peer_);
    Step step;
    if (peer_ && held_ && !held_->empty()) {
        kind_ = Kind::Resume;
        auto peer_x = ed25519_public_to_x25519(*peer_);
        if (!peer_x) return fail(Error::IdentityMismatch);
        noise::Config cfg{noise::Pattern::IKpsk2,
                          noise::Role::Initiator,
                          as_bytes(kResumePrologue),
                          &static_,
                          *peer_x,
                          nullptr};
        hs_.emplace(cfg);
        ResumeOffer offer{identity_.public_key(), held_->epochs()};
        auto out = hs_->write_message(encode_offer(offer));
        if (!out) return fail(Failure{Error::Noise, out.error(), {}, {}, {}});
        step.send.push_back(encode(Message{MessageType::Resume1, 0, std::move(*out)}));
        state_ = State::SentResume1;
    } else {
        kind_ = Kind::Pair;
        noise::Config cfg{noise::Pattern::XX, noise::Role::Initiator, as_bytes(kPairPrologue),
                          &static_,           std::nullopt,           nullptr};
        hs_.emplace(cfg);
        auto out = hs_->write_message({});
        if (!out) return fail(Failure{Error::Noise, out.error(), {}, {}, {}});
        step.send.push_back(encode(Message{MessageType::Pair1, 0, std::move(*out)}));
        state_ = State::SentPair1;
    }
    return step;
}

Step Initiator::receive(ByteView wire) {
    if (state_ == State::Done || state_ == State::Failed) return fail(Error::Finished);
    auto m = decode(wire);
    if (!m) return fail(Failure{Error::Decode, {}, {}, m.error(), {}});
    if (m->type == MessageType::Abort)
        return fail(Failure{Error::PeerAborted, {}, {}, {}, static_cast<AbortReason>(m->body[0])});
    switch (state_) {
        case State::SentPair1:
            if (m->type == MessageType::Pair2) return on_pair2(*m);
            break;
        case State::SentResume1:
            if (m->type == MessageType::Resume2) return on_resume2(*m);
            break;
        case State::AwaitReveal:
            if (m->type == MessageType::Reveal) return on_reveal(*m);
            break;
        case State::AwaitPeerCert:
            if (m->type == MessageType::Cert) return on_peer_cert(*m);
            break;
        default:
            break;
    }
    return fail(Error::UnexpectedMessage);
}

Step Initiator::on_pair2(const Message& m) {
    auto payload = hs_->read_message(m.body);
    if (!payload) return fail(Failure{Error::Noise, payload.error(), {}, {}, {}});
    auto parts = split_pair_payload(*payload);
    if (!parts) return fail(parts.error());
    auto peer = check_identity(parts->id, *hs_, identity_.public_key());
    if (!peer) return fail(peer.error());
    if (peer_ && *peer != *peer_) return fail(Error::IdentityMismatch);
    peer_ = *peer;
    std::copy(parts->value.begin(), parts->value.end(), commitment_b_.begin());

    // Our nonce goes out only now, after B is bound to its own (section 4.1).
    random_bytes(nonce_a_);
    Bytes pair3_payload(identity_.public_key().begin(), identity_.public_key().end());
    append(pair3_payload, nonce_a_);
    auto pair3 = hs_->write_message(pair3_payload);
    if (!pair3) return fail(Failure{Error::Noise, pair3.error(), {}, {}, {}});
    auto done = finish(*hs_, cert::Role::Initiator);
    hs_.reset();
    if (!done) return fail(done.error());
    const Hash h = done->h;
    send_.emplace(std::move(done->send));
    recv_.emplace(std::move(done->recv));

    const Bytes ids = ids_of(cert::Role::Initiator, identity_.public_key(), *peer_);
    new_seed_ = ratchet::first_seed(done->secret, h, ids);
    chosen_epoch_ = 0;
    auto own =
        mint_own(identity_, *peer_, cert::Role::Initiator, *new_seed_, 1, h, now_, settings_);
    if (!own) return fail(own.error());
    own_.emplace(std::move(*own));
    auto cert_msg = seal_certificate(*send_, *own_, h, *peer_);
    if (!cert_msg) return fail(cert_msg.error());

    Step step;
    step.send.push_back(encode(Message{MessageType::Pair3, 0, std::move(*pair3)}));
    step.send.push_back(std::move(*cert_msg));
    state_ = State::AwaitReveal;
    handshake_hash_ = h;
    return step;
}

Step Initiator::on_reveal(const Message& m) {
    auto nonce_b = recv_->decrypt_with_ad({}, m.body);
    if (!nonce_b) return fail(Failure{Error::Noise, nonce_b.error(), {}, {}, {}});
    if (nonce_b->size() != kPairNonceLen) return fail(Error::Decode);
    if (!opens_commitment(commitment_b_, *nonce_b)) return fail(Error::CommitmentMismatch);
    pair_code_ = pair_code(handshake_hash_, nonce_a_, *nonce_b);
    state_ = State::AwaitPeerCert;
    return Step{};
}

std::string Initiator::pending_short_code() const {
    if (kind_ != Kind::Pair || state_ != State::AwaitPeerCert) return {};
    return pair_code_;
}

Step Initiator::on_resume2(const Message& m) {
    const auto* seed = held_->find(m.epoch);
    if (!seed) return fail(Error::EpochNotOffered);
    if (!hs_->set_psk(seed->seed.view()))
        return fail(Failure{Error::Noise, noise::Error::MissingKey, {}, {}, {}});
    auto payload = hs_->read_message(m.body);
    if (!payload) return fail(Failure{Error::Noise, payload.error(), {}, {}, {}});
    if (!payload->empty()) return fail(Error::Decode);
    auto done = finish(*hs_, cert::Role::Initiator);
    hs_.reset();
    if (!done) return fail(done.error());
    const Hash h = done->h;
    send_.emplace(std::move(done->send));
    recv_.emplace(std::move(done->recv));

    const Bytes ids = ids_of(cert::Role::Initiator, identity_.public_key(), *peer_);
    chosen_epoch_ = m.epoch;
    new_seed_ = ratchet::next_seed(seed->seed.view(), h, ids);
    auto own = mint_own(identity_, *peer_, cert::Role::Initiator, *new_seed_, m.epoch + 1, h, now_,
                        settings_);
    if (!own) return fail(own.error());
    own_.emplace(std::move(*own));
    state_ = State::AwaitPeerCert;
    handshake_hash_ = h;
    return Step{};
}

Step Initiator::on_peer_cert(const Message& m) {
    auto peer =
        open_certificate(*recv_, m, *own_, now_, replay_, handshake_hash_, identity_.public_key());
    if (!peer) return fail(peer.error());

    Step step;
    if (kind_ == Kind::Pair) {
        // B persisted {1} before sending its certificate; now we do.
        auto held = ratchet::Holdings::paired(std::move(*new_seed_));
        new_seed_.reset();
        if (!book_.persist(*peer_, PeerRole::Responder, held)) return fail(Error::PersistFailed);
        held.wipe();
    } else {
        // ADVANCE: keep the chosen seed beside the new one until B is seen to use it.
        if (!held_->advance(chosen_epoch_, std::move(*new_seed_)))
            return fail(Error::EpochNotOffered);
        new_seed_.reset();
        if (!book_.persist(*peer_, PeerRole::Responder, *held_)) return fail(Error::PersistFailed);
        // Only now, with {e, e+1} on disk, may B be told to commit e+1.
        auto confirm = seal_certificate(*send_, *own_, handshake_hash_, *peer_);
        if (!confirm) return fail(confirm.error());
        step.send.push_back(std::move(*confirm));
    }
    if (held_) held_->wipe();
    session_.emplace(make_session(kind_, cert::Role::Initiator, identity_.public_key(), *peer_,
                                  handshake_hash_, std::move(*own_), *peer, pair_code_));
    own_.reset();
    send_.reset();
    recv_.reset();
    state_ = State::Done;
    step.done = true;
    return step;
}

std::optional<Session> Initiator::take_session() {
    std::optional<Session> s = std::move(session_);
    session_.reset();
    return s;
}

// ---------------------------------------------------------------- Responder

Responder::Responder(const Ed25519KeyPair& identity, PeerBook& book, cert::ReplayCache& replay,
                     Settings settings, std::uint32_t now_unix)
    : identity_(identity),
      book_(book),
      replay_(replay),
      settings_(settings),
      now_(now_unix),
      static_(noise_static_of(identity)) {}

Step Responder::fail(Error e, std::optional<AbortReason> tell_peer) {
    return fail(failure_of(e), tell_peer);
}

Step Responder::fail(Failure f, std::optional<AbortReason> tell_peer) {
    state_ = State::Failed;
    if (held_) held_->wipe();
    if (new_seed_) new_seed_->wipe();
    if (own_) own_->invalidate(InvalidationReason::Revoked);
    if (nonce_b_) nonce_b_->wipe();
    hs_.reset();
    send_.reset();
    recv_.reset();
    Step s;
    if (tell_peer) s.send.push_back(encode_abort(*tell_peer));
    s.failure = f;
    return s;
}

Step Responder::receive(ByteView wire) {
    if (state_ == State::Done || state_ == State::Failed) return fail(Error::Finished);
    auto m = decode(wire);
    if (!m) return fail(Failure{Error::Decode, {}, {}, m.error(), {}}, AbortReason::ProtocolError);
    if (m->type == MessageType::Abort)
        return fail(Failure{Error::PeerAborted, {}, {}, {}, static_cast<AbortReason>(m->body[0])});
    switch (state_) {
        case State::Idle:
            if (m->type == MessageType::Pair1) return on_pair1(*m);
            if (m->type == MessageType::Resume1) return on_resume1(*m);
            break;
        case State::SentPair2:
            if (m->type == MessageType::Pair3) return on_pair3(*m);
            break;
        case State::AwaitInitiatorCert:
        case State::AwaitConfirm:
            if (m->type == MessageType::Cert) return on_initiator_cert(*m);
            break;
        default:
            break;
    }
    return fail(Error::UnexpectedMessage, AbortReason::ProtocolError);
}

Step Responder::on_pair1(const Message& m) {
    kind_ = Kind::Pair;
    noise::Config cfg{noise::Pattern::XX, noise::Role::Responder, as_bytes(kPairPrologue),
                      &static_,           std::nullopt,           nullptr};
    hs_.emplace(cfg);
    auto payload = hs_->read_message(m.body);
    if (!payload)
        return fail(Failure{Error::Noise, payload.error(), {}, {}, {}}, AbortReason::ProtocolError);
    if (!payload->empty()) return fail(Error::Decode, AbortReason::ProtocolError);
    // Commit to our nonce before A picks its own; it is revealed after PAIR_3.
    nonce_b_.emplace(kPairNonceLen);
    random_bytes(nonce_b_->span());
    Bytes pair2_payload(identity_.public_key().begin(), identity_.public_key().end());
    append(pair2_payload, pair_commitment(nonce_b_->view()));
    auto out = hs_->write_message(pair2_payload);
    if (!out) return fail(Failure{Error::Noise, out.error(), {}, {}, {}});
    Step step;
    step.send.push_back(encode(Message{MessageType::Pair2, 0, std::move(*out)}));
    state_ = State::SentPair2;
    return step;
}

Step Responder::on_pair3(const Message& m) {
    auto payload = hs_->read_message(m.body);
    if (!payload)
        return fail(Failure{Error::Noise, payload.error(), {}, {}, {}}, AbortReason::ProtocolError);
    auto parts = split_pair_payload(*payload);
    if (!parts) return fail(parts.error(), AbortReason::ProtocolError);
    auto peer = check_identity(parts->id, *hs_, identity_.public_key());
    if (!peer) return fail(peer.error(), AbortReason::ProtocolError);
    peer_ = *peer;
    std::copy(parts->value.begin(), parts->value.end(), nonce_a_.begin());
    auto done = finish(*hs_, cert::Role::Responder);
    hs_.reset();
    if (!done) return fail(done.error());
    const Hash h = done->h;
    send_.emplace(std::move(done->send));
    recv_.emplace(std::move(done->recv));

    const Bytes ids = ids_of(cert::Role::Responder, identity_.public_key(), *peer_);
    new_seed_ = ratchet::first_seed(done->secret, h, ids);
    new_epoch_ = 1;
    auto own =
        mint_own(identity_, *peer_, cert::Role::Responder, *new_seed_, 1, h, now_, settings_);
    if (!own) return fail(own.error());
    own_.emplace(std::move(*own));
    handshake_hash_ = h;
    state_ = State::AwaitInitiatorCert;
    return Step{};
}

Step Responder::on_resume1(const Message& m) {
    kind_ = Kind::Resume;
    noise::Config cfg{noise::Pattern::IKpsk2,
                      noise::Role::Responder,
                      as_bytes(kResumePrologue),
                      &static_,
                      std::nullopt,
                      nullptr};
    hs_.emplace(cfg);
    auto payload = hs_->read_message(m.body);
    if (!payload)
        return fail(Failure{Error::Noise, payload.error(), {}, {}, {}}, AbortReason::ProtocolError);
    auto offer = decode_offer(*payload);
    if (!offer)
        return fail(Failure{Error::Decode, {}, {}, offer.error(), {}}, AbortReason::ProtocolError);
    auto peer = check_identity(offer->initiator_id, *hs_, identity_.public_key());
    if (!peer) return fail(peer.error(), AbortReason::ProtocolError);
    peer_ = *peer;

    // CHOOSE: nothing here changes durable state, so a replayed RESUME_1 is harmless.
    held_ = book_.holdings(*peer_);
    if (!held_ || held_->empty()) return fail(Error::UnknownPeer, AbortReason::UnknownPeer);
    auto chosen = held_->choose(offer->epochs);
    if (!chosen) return fail(Error::NoCommonEpoch, AbortReason::NoCommonEpoch);
    const auto* seed = held_->find(*chosen);
    if (!hs_->set_psk(seed->seed.view()))
        return fail(Failure{Error::Noise, noise::Error::MissingKey, {}, {}, {}});
    auto out = hs_->write_message({});
    if (!out) return fail(Failure{Error::Noise, out.error(), {}, {}, {}});
    auto done = finish(*hs_, cert::Role::Responder);
    hs_.reset();
    if (!done) return fail(done.error());
    const Hash h = done->h;
    send_.emplace(std::move(done->send));
    recv_.emplace(std::move(done->recv));

    const Bytes ids = ids_of(cert::Role::Responder, identity_.public_key(), *peer_);
    new_epoch_ = *chosen + 1;
    new_seed_ = ratchet::next_seed(seed->seed.view(), h, ids);
    held_->wipe();
    auto own = mint_own(identity_, *peer_, cert::Role::Responder, *new_seed_, new_epoch_, h, now_,
                        settings_);
    if (!own) return fail(own.error());
    own_.emplace(std::move(*own));
    handshake_hash_ = h;
    auto cert_msg = seal_certificate(*send_, *own_, h, *peer_);
    if (!cert_msg) return fail(cert_msg.error());

    Step step;
    step.send.push_back(encode(Message{MessageType::Resume2, *chosen, std::move(*out)}));
    step.send.push_back(std::move(*cert_msg));
    state_ = State::AwaitConfirm;
    return step;
}

Step Responder::on_initiator_cert(const Message& m) {
    auto peer =
        open_certificate(*recv_, m, *own_, now_, replay_, handshake_hash_, identity_.public_key());
    if (!peer) return fail(peer.error(), AbortReason::ProtocolError);
    peer_cert_ = *peer;
    if (kind_ == Kind::Pair) {
        // REVEAL goes out before the approval policy is asked, so that A can
        // show the same code while B's operator compares.
        auto reveal = send_->encrypt_with_ad({}, nonce_b_->view());
        if (!reveal) return fail(Failure{Error::Noise, reveal.error(), {}, {}, {}});
        pair_code_ = pair_code(handshake_hash_, nonce_a_, nonce_b_->view());
        nonce_b_->wipe();
        nonce_b_.reset();
        state_ = State::AwaitingApproval;
        Step step;
        step.send.push_back(encode(Message{MessageType::Reveal, 0, std::move(*reveal)}));
        step.needs_approval = true;
        return step;
    }
    // COMMIT: the initiator holds {e, e+1} durably, so e can go.
    auto held = ratchet::Holdings::paired(SecretBytes(1));  // replaced just below
    held.commit(new_epoch_, std::move(*new_seed_));
    new_seed_.reset();
    if (!book_.persist(*peer_, PeerRole::Initiator, held)) return fail(Error::PersistFailed);
    held.wipe();
    session_.emplace(make_session(kind_, cert::Role::Responder, identity_.public_key(), *peer_,
                                  handshake_hash_, std::move(*own_), *peer_cert_, pair_code_));
    own_.reset();
    send_.reset();
    recv_.reset();
    state_ = State::Done;
    Step step;
    step.done = true;
    return step;
}

std::string Responder::pending_short_code() const {
    if (state_ != State::AwaitingApproval) return {};
    return pair_code_;
}

Step Responder::approve(bool approved) {
    if (state_ != State::AwaitingApproval) return fail(Error::UnexpectedMessage);
    if (!approved) return fail(Error::NotApproved, AbortReason::NotApproved);
    auto held = ratchet::Holdings::paired(std::move(*new_seed_));
    new_seed_.reset();
    if (!book_.persist(*peer_, PeerRole::Initiator, held)) return fail(Error::PersistFailed);
    held.wipe();
    auto cert_msg = seal_certificate(*send_, *own_, handshake_hash_, *peer_);
    if (!cert_msg) return fail(cert_msg.error());
    Step step;
    step.send.push_back(std::move(*cert_msg));
    session_.emplace(make_session(kind_, cert::Role::Responder, identity_.public_key(), *peer_,
                                  handshake_hash_, std::move(*own_), *peer_cert_, pair_code_));
    own_.reset();
    send_.reset();
    recv_.reset();
    state_ = State::Done;
    step.done = true;
    return step;
}

std::optional<Session> Responder::take_session() {
    std::optional<Session> s = std::move(session_);
    session_.reset();
    return s;
}

}  // namespace br::handshake
