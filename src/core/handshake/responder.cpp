// SPDX-License-Identifier: MIT
// The responder (BLE peripheral, B): engine.hpp's state machine for that role.
//
//   pairing  Idle -PAIR_1/send PAIR_2-> SentPair2 -PAIR_3-> AwaitInitiatorCert
//            -CERT_A/send REVEAL-> AwaitingApproval
//            -approve (ACCEPT already in)/persist {1}, send CERT_B-> Done
//            -approve-> AwaitAccept -ACCEPT/persist {1}, send CERT_B-> Done
//   resume   Idle -RESUME_1/CHOOSE, send RESUME_2, CERT_B-> AwaitResumeCert
//            -CERT_A/COMMIT, send CONFIRM-> Done      (1.0: no CONFIRM)
//   Done     -BOND-> Done
// Nothing is written before COMMIT (resume) or before both sides approved
// (pairing): RESUME_1 can be replayed by anyone, and a refused pairing
// leaves nothing behind.
#include "core/handshake/engine.hpp"
#include "core/handshake/engine_common.hpp"

namespace br::handshake {

using namespace detail;

Responder::Responder(const Ed25519KeyPair& identity, PeerBook& book, cert::ReplayCache& replay,
                     Settings settings, std::uint32_t now_unix)
    : identity_(identity),
      book_(book),
      replay_(replay),
      static_(noise_static_of(identity)),
      now_(now_unix),
      settings_(settings) {}

void Responder::use_fixed_entropy(const FixedEntropy& e) {
    fixed_ephemeral_.emplace(X25519KeyPair::from_secret(e.ephemeral_secret));
    fixed_nonce_ = e.nonce;
}

Step Responder::fail(Error e, std::optional<AbortReason> tell_peer) {
    return fail(Failure::of(e), tell_peer);
}

// The single exit of a failed handshake: every secret it held is wiped.
Step Responder::fail(Failure f, std::optional<AbortReason> tell_peer) {
    state_ = State::Failed;
    if (new_seed_) new_seed_->wipe();
    if (own_) own_->invalidate(InvalidationReason::Revoked);
    if (nonce_b_) nonce_b_->wipe();
    hs_.reset();
    channel_.reset();
    Step s;
    if (tell_peer) s.send.push_back(encode_abort(*tell_peer));
    s.failure = std::move(f);
    return s;
}

Step Responder::receive(ByteView wire) {
    if (state_ == State::Failed) return fail(Error::Finished);
    auto m = decode(wire);
    if (!m) return fail(Failure::decode(m.error()), AbortReason::ProtocolError);
    if (m->type == MessageType::Abort)
        return fail(Failure::peer_aborted(static_cast<AbortReason>(m->body[0])));
    switch (state_) {
        case State::Idle:
            if (m->type == MessageType::Pair1) return on_pair1(*m);
            if (m->type == MessageType::Resume1 || m->type == MessageType::Resume1V10)
                return on_resume1(*m);
            break;
        case State::SentPair2:
            if (m->type == MessageType::Pair3) return on_pair3(*m);
            break;
        case State::AwaitInitiatorCert:
        case State::AwaitResumeCert:
            if (m->type == MessageType::Cert) return on_initiator_cert(*m);
            break;
        case State::AwaitingApproval:
        case State::AwaitAccept:
            if (m->type == MessageType::Accept && !peer_accepted_) return on_accept(*m);
            break;
        case State::Done:
            if (m->type == MessageType::Bond) return on_bond(*m);
            return fail(Error::Finished);
        default:
            break;
    }
    return fail(Error::UnexpectedMessage, AbortReason::ProtocolError);
}

Step Responder::on_pair1(const Message& m) {
    kind_ = Kind::Pair;
    version_ = Version::V1_1;
    noise::Config cfg{
        noise::Pattern::XX, Role::Responder, as_bytes(kPairPrologue),
        &static_,           std::nullopt,    fixed_ephemeral_ ? &*fixed_ephemeral_ : nullptr};
    hs_.emplace(cfg);
    auto payload = hs_->read_message(m.body);
    if (!payload) return fail(Failure::noise(payload.error()), AbortReason::ProtocolError);
    // PAIR_1's payload is the initiator's minor version: empty from a 1.0
    // build, which cannot run the 1.1 pairing (it would store us without its
    // user's confirmation).
    if (payload->empty()) return fail(Error::UnsupportedVersion, AbortReason::ProtocolError);
    if (payload->size() != 1 || (*payload)[0] != kMinorVersion)
        return fail(Error::UnsupportedVersion, AbortReason::ProtocolError);
    // Commit to our nonce before A picks its own; it is revealed after PAIR_3.
    nonce_b_.emplace(kPairNonceLen);
    if (fixed_nonce_)
        std::copy(fixed_nonce_->begin(), fixed_nonce_->end(), nonce_b_->data());
    else
        random_bytes(nonce_b_->span());
    Bytes pair2_payload(identity_.public_key().begin(), identity_.public_key().end());
    append(pair2_payload, pair_commitment(nonce_b_->view()));
    auto out = hs_->write_message(pair2_payload);
    if (!out) return fail(Failure::noise(out.error()));
    Step step;
    step.send.push_back(encode(Message{MessageType::Pair2, 0, std::move(*out)}));
    state_ = State::SentPair2;
    return step;
}

Step Responder::on_pair3(const Message& m) {
    auto payload = hs_->read_message(m.body);
    if (!payload) return fail(Failure::noise(payload.error()), AbortReason::ProtocolError);
    auto parts = split_pair_payload(*payload);
    if (!parts) return fail(parts.error(), AbortReason::ProtocolError);
    auto peer = check_identity(parts->id, *hs_, identity_, book_);
    if (!peer) return fail(peer.error(), AbortReason::ProtocolError);
    peer_ = *peer;
    std::copy(parts->value.begin(), parts->value.end(), nonce_a_.begin());
    auto done = finish(*hs_, Role::Responder);
    hs_.reset();
    if (!done) return fail(done.error());
    handshake_hash_ = done->h;
    channel_.emplace(std::move(done->channel));

    const Bytes ids = cert::ids_for(Role::Responder, identity_.public_key(), *peer_);
    new_seed_ = ratchet::first_seed(done->secret, handshake_hash_, ids);
    new_epoch_ = 1;
    auto own = mint_own(identity_, *peer_, Role::Responder, *new_seed_, 1, handshake_hash_, now_,
                        settings_, version_);
    if (!own) return fail(own.error());
    own_.emplace(std::move(*own));
    state_ = State::AwaitInitiatorCert;
    return Step{};
}

Step Responder::on_resume1(const Message& m) {
    kind_ = Kind::Resume;
    const bool v11 = m.type == MessageType::Resume1;
    version_ = v11 ? Version::V1_1 : Version::V1_0;
    noise::Config cfg{noise::Pattern::IKpsk2,
                      Role::Responder,
                      as_bytes(v11 ? kResumePrologue : kResumePrologueV10),
                      &static_,
                      std::nullopt,
                      fixed_ephemeral_ ? &*fixed_ephemeral_ : nullptr};
    hs_.emplace(cfg);
    auto payload = hs_->read_message(m.body);
    if (!payload) return fail(Failure::noise(payload.error()), AbortReason::ProtocolError);
    auto offer = decode_offer(*payload);
    if (!offer) return fail(Failure::decode(offer.error()), AbortReason::ProtocolError);
    auto peer = check_identity(offer->initiator_id, *hs_, identity_, book_);
    if (!peer) return fail(peer.error(), AbortReason::ProtocolError);
    peer_ = *peer;

    // CHOOSE: nothing here changes durable state, so a replayed RESUME_1 is harmless.
    auto entry = book_.load(*peer_);
    if (!entry || entry->held.empty()) return fail(Error::UnknownPeer, AbortReason::UnknownPeer);
    if (!v11 && entry->version == Version::V1_1)
        return fail(Error::VersionDowngrade, AbortReason::ProtocolError);
    ratchet::Holdings& held = entry->held;
    auto chosen = held.choose(offer->epochs);
    if (!chosen) {
        held.wipe();
        return fail(Error::NoCommonEpoch, AbortReason::NoCommonEpoch);
    }
    const auto* seed = held.find(*chosen);
    if (!hs_->set_psk(seed->seed.view())) {
        held.wipe();
        return fail(Failure::noise(noise::Error::MissingKey));
    }
    auto out = hs_->write_message({});
    if (!out) {
        held.wipe();
        return fail(Failure::noise(out.error()));
    }
    auto done = finish(*hs_, Role::Responder);
    hs_.reset();
    if (!done) {
        held.wipe();
        return fail(done.error());
    }
    handshake_hash_ = done->h;
    channel_.emplace(std::move(done->channel));

    const Bytes ids = cert::ids_for(Role::Responder, identity_.public_key(), *peer_);
    new_epoch_ = *chosen + 1;
    new_seed_ = ratchet::next_seed(seed->seed.view(), handshake_hash_, ids);
    held.wipe();
    auto own = mint_own(identity_, *peer_, Role::Responder, *new_seed_, new_epoch_, handshake_hash_,
                        now_, settings_, version_);
    if (!own) return fail(own.error());
    own_.emplace(std::move(*own));
    auto cert_msg = seal_certificate(*channel_, *own_, handshake_hash_, *peer_);
    if (!cert_msg) return fail(cert_msg.error());

    Step step;
    // 1.1: no epoch in clear (the initiator tries its seeds); 1.0 named it.
    step.send.push_back(encode(v11 ? Message{MessageType::Resume2, 0, std::move(*out)}
                                   : Message{MessageType::Resume2V10, *chosen, std::move(*out)}));
    step.send.push_back(std::move(*cert_msg));
    state_ = State::AwaitResumeCert;
    return step;
}

Step Responder::on_initiator_cert(const Message& m) {
    auto peer = open_certificate(*channel_, m, *own_, now_, replay_, handshake_hash_,
                                 identity_.public_key());
    if (!peer) return fail(peer.error(), AbortReason::ProtocolError);
    peer_cert_ = *peer;
    if (kind_ == Kind::Pair) {
        // REVEAL goes out before the approval policies are asked, so that
        // both sides show the same code while their users compare.
        auto reveal = channel_->seal(MessageType::Reveal, nonce_b_->view());
        if (!reveal) return fail(reveal.error());
        pair_code_ = pair_code(handshake_hash_, nonce_a_, nonce_b_->view());
        nonce_b_->wipe();
        nonce_b_.reset();
        state_ = State::AwaitingApproval;
        Step step;
        step.send.push_back(std::move(*reveal));
        step.needs_approval = true;
        return step;
    }
    // COMMIT: the initiator holds its advance durably, so the chosen seed can go.
    ratchet::Holdings held;
    held.commit(new_epoch_, std::move(*new_seed_));
    new_seed_.reset();
    if (auto written = book_.persist(*peer_, Role::Initiator, held, version_); !written)
        return fail(Failure::persist_failed(written.error()));
    held.wipe();
    Step step;
    if (version_ == Version::V1_1) {
        // CONFIRM: the initiator may now drop every older seed at once.
        auto confirm = channel_->seal(MessageType::Confirm, u32_plaintext(new_epoch_));
        if (!confirm) return fail(confirm.error());
        step.send.push_back(std::move(*confirm));
    }
    return finish_session(std::move(step));
}

std::string Responder::pending_short_code() const {
    if (state_ != State::AwaitingApproval) return {};
    return pair_code_;
}

Step Responder::approve(bool approved) {
    if (state_ != State::AwaitingApproval) return fail(Error::UnexpectedMessage);
    if (!approved) return fail(Error::NotApproved, AbortReason::NotApproved);
    if (!peer_accepted_) {
        state_ = State::AwaitAccept;
        return Step{};
    }
    return complete_pairing();
}

Step Responder::on_accept(const Message& m) {
    auto plain = channel_->open(m);
    if (!plain) return fail(plain.error(), AbortReason::ProtocolError);
    if (!plain->empty()) return fail(Error::Decode, AbortReason::ProtocolError);
    peer_accepted_ = true;
    if (state_ == State::AwaitAccept) return complete_pairing();
    return Step{};  // our own verdict is still pending
}

// Both sides approved: only now is anything stored.
Step Responder::complete_pairing() {
    auto held = ratchet::Holdings::paired(std::move(*new_seed_));
    new_seed_.reset();
    if (auto written = book_.persist(*peer_, Role::Initiator, held, version_); !written)
        return fail(Failure::persist_failed(written.error()));
    held.wipe();
    auto cert_msg = seal_certificate(*channel_, *own_, handshake_hash_, *peer_);
    if (!cert_msg) return fail(cert_msg.error());
    Step step;
    step.send.push_back(std::move(*cert_msg));
    return finish_session(std::move(step));
}

// The session is ready: hand it over.
Step Responder::finish_session(Step step) {
    session_.emplace(make_session(kind_, version_, Role::Responder, identity_.public_key(), *peer_,
                                  handshake_hash_, std::move(*own_), *peer_cert_, pair_code_));
    own_.reset();
    state_ = State::Done;
    step.done = true;
    return step;
}

Step Responder::on_bond(const Message& m) {
    auto step = bond_step(*channel_, m);
    return step ? std::move(*step) : fail(step.error());
}

Expected<Bytes, Failure> Responder::seal_bond(std::uint32_t passkey) {
    if (!channel_ || state_ != State::Done)
        return unexpected(Failure::of(Error::UnexpectedMessage));
    if (version_ != Version::V1_1) return unexpected(Failure::of(Error::UnsupportedVersion));
    return channel_->seal(MessageType::Bond, u32_plaintext(passkey));
}

std::optional<Session> Responder::take_session() {
    std::optional<Session> s = std::move(session_);
    session_.reset();
    return s;
}

}  // namespace br::handshake
