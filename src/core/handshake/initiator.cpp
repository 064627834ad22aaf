// SPDX-License-Identifier: MIT
// The initiator (BLE central, A): engine.hpp's state machine for that role.
//
//   pairing  Idle -start-> SentPair1 -PAIR_2/send PAIR_3, CERT_A-> AwaitReveal
//            -REVEAL-> AwaitingApproval -approve/send ACCEPT-> AwaitPeerCert
//            -CERT_B/persist {1}-> Done
//   resume   Idle -start-> SentResume1 -RESUME_2-> AwaitPeerCert
//            -CERT_B/ADVANCE, send CERT_A-> AwaitCommitConfirm (session ready)
//            -CONFIRM/PRUNE-> Done            (1.0: Done at CERT_B, no CONFIRM)
//   Done     -BOND-> Done
#include "core/handshake/engine.hpp"
#include "core/handshake/engine_common.hpp"

namespace br::handshake {

using namespace detail;

Initiator::Initiator(const Ed25519KeyPair& identity, std::optional<DeviceId> peer, PeerBook& book,
                     cert::ReplayCache& replay, Settings settings, std::uint32_t now_unix)
    : identity_(identity),
      peer_(peer),
      book_(book),
      replay_(replay),
      settings_(settings),
      now_(now_unix),
      static_(noise_static_of(identity)) {}

void Initiator::use_fixed_entropy(const FixedEntropy& e) {
    fixed_ephemeral_.emplace(X25519KeyPair::from_secret(e.ephemeral_secret));
    fixed_nonce_ = e.nonce;
}

Step Initiator::fail(Error e, std::optional<AbortReason> tell_peer) {
    return fail(Failure::of(e), tell_peer);
}

// The single exit of a failed handshake: every secret it held is wiped.
Step Initiator::fail(Failure f, std::optional<AbortReason> tell_peer) {
    state_ = State::Failed;
    if (held_) held_->wipe();
    if (new_seed_) new_seed_->wipe();
    if (own_) own_->invalidate(InvalidationReason::Revoked);
    hs_.reset();
    channel_.reset();
    Step s;
    if (tell_peer) s.send.push_back(encode_abort(*tell_peer));
    s.failure = std::move(f);
    return s;
}

Step Initiator::start() {
    if (state_ != State::Idle) return fail(Error::UnexpectedMessage);
    std::optional<BookEntry> entry;
    if (peer_) entry = book_.load(*peer_);
    if (peer_ && entry && !entry->held.empty()) {
        held_.emplace(std::move(entry->held));
        stored_version_ = entry->version;
        return start_resume();
    }
    return start_pair();
}

Step Initiator::start_resume() {
    kind_ = Kind::Resume;
    if (resume_version_ == Version::V1_0 && stored_version_ == Version::V1_1)
        return fail(Error::VersionDowngrade);
    version_ = resume_version_;
    auto peer_x = ed25519_public_to_x25519(*peer_);
    if (!peer_x) return fail(Error::IdentityMismatch);
    const bool v11 = version_ == Version::V1_1;
    noise::Config cfg{noise::Pattern::IKpsk2,
                      Role::Initiator,
                      as_bytes(v11 ? kResumePrologue : kResumePrologueV10),
                      &static_,
                      *peer_x,
                      fixed_ephemeral_ ? &*fixed_ephemeral_ : nullptr};
    hs_.emplace(cfg);
    // OFFER: the distinct epochs held (1 or 2); nothing changes here.
    ResumeOffer offer{identity_.public_key(), held_->epochs()};
    auto out = hs_->write_message(encode_offer(offer));
    if (!out) return fail(Failure::noise(out.error()));
    Step step;
    step.send.push_back(
        encode(Message{v11 ? MessageType::Resume1 : MessageType::Resume1V10, 0, std::move(*out)}));
    state_ = State::SentResume1;
    return step;
}

Step Initiator::start_pair() {
    kind_ = Kind::Pair;
    version_ = Version::V1_1;
    held_.reset();
    noise::Config cfg{
        noise::Pattern::XX, Role::Initiator, as_bytes(kPairPrologue),
        &static_,           std::nullopt,    fixed_ephemeral_ ? &*fixed_ephemeral_ : nullptr};
    hs_.emplace(cfg);
    // The minor version rides in PAIR_1's payload: a 1.0 responder refuses a
    // non-empty payload, a 1.1 responder an empty one, both before any DH.
    const std::uint8_t minor = kMinorVersion;
    auto out = hs_->write_message(ByteView(&minor, 1));
    if (!out) return fail(Failure::noise(out.error()));
    Step step;
    step.send.push_back(encode(Message{MessageType::Pair1, 0, std::move(*out)}));
    state_ = State::SentPair1;
    return step;
}

Step Initiator::receive(ByteView wire) {
    if (state_ == State::Failed) return fail(Error::Finished);
    auto m = decode(wire);
    if (!m) return fail(Failure::decode(m.error()));
    if (m->type == MessageType::Abort) {
        const auto reason = static_cast<AbortReason>(m->body[0]);
        // A 1.0 responder answers a type it does not know (our 1.1 RESUME_1)
        // with ABORT(ProtocolError).  Unauthenticated, so only a hint, and
        // never for a pair that already spoke 1.1.
        if (state_ == State::SentResume1 && version_ == Version::V1_1 &&
            stored_version_ == Version::V1_0 && reason == AbortReason::ProtocolError)
            maybe_1_0_ = true;
        return fail(Failure::peer_aborted(reason));
    }
    switch (state_) {
        case State::SentPair1:
            if (m->type == MessageType::Pair2) return on_pair2(*m);
            break;
        case State::SentResume1:
            if (m->type ==
                (version_ == Version::V1_1 ? MessageType::Resume2 : MessageType::Resume2V10))
                return on_resume2(*m);
            break;
        case State::AwaitReveal:
            if (m->type == MessageType::Reveal) return on_reveal(*m);
            break;
        case State::AwaitPeerCert:
            if (m->type == MessageType::Cert) return on_peer_cert(*m);
            break;
        case State::AwaitCommitConfirm:
            if (m->type == MessageType::Confirm) return on_confirm(*m);
            break;
        case State::Done:
            if (m->type == MessageType::Bond) return on_bond(*m);
            return fail(Error::Finished);
        default:
            break;
    }
    return fail(Error::UnexpectedMessage);
}

Step Initiator::on_pair2(const Message& m) {
    auto payload = hs_->read_message(m.body);
    if (!payload) return fail(Failure::noise(payload.error()));
    auto parts = split_pair_payload(*payload);
    if (!parts) return fail(parts.error());
    auto peer = check_identity(parts->id, *hs_, identity_, book_);
    if (!peer) return fail(peer.error());
    if (peer_ && *peer != *peer_) return fail(Error::IdentityMismatch);
    peer_ = *peer;
    std::copy(parts->value.begin(), parts->value.end(), commitment_b_.begin());

    // Our nonce goes out only now, after B is bound to its own (section 4.1).
    if (fixed_nonce_)
        nonce_a_ = *fixed_nonce_;
    else
        random_bytes(nonce_a_);
    Bytes pair3_payload(identity_.public_key().begin(), identity_.public_key().end());
    append(pair3_payload, nonce_a_);
    auto pair3 = hs_->write_message(pair3_payload);
    if (!pair3) return fail(Failure::noise(pair3.error()));
    auto done = finish(*hs_, Role::Initiator);
    hs_.reset();
    if (!done) return fail(done.error());
    handshake_hash_ = done->h;
    channel_.emplace(std::move(done->channel));

    const Bytes ids = cert::ids_for(Role::Initiator, identity_.public_key(), *peer_);
    new_seed_ = ratchet::first_seed(done->secret, handshake_hash_, ids);
    auto own = mint_own(identity_, *peer_, Role::Initiator, *new_seed_, 1, handshake_hash_, now_,
                        settings_, version_);
    if (!own) return fail(own.error());
    own_.emplace(std::move(*own));
    auto cert_msg = seal_certificate(*channel_, *own_, handshake_hash_, *peer_);
    if (!cert_msg) return fail(cert_msg.error());

    Step step;
    step.send.push_back(encode(Message{MessageType::Pair3, 0, std::move(*pair3)}));
    step.send.push_back(std::move(*cert_msg));
    state_ = State::AwaitReveal;
    return step;
}

Step Initiator::on_reveal(const Message& m) {
    auto nonce_b = channel_->open(m);
    if (!nonce_b) return fail(nonce_b.error());
    if (nonce_b->size() != kPairNonceLen) return fail(Error::Decode);
    if (!opens_commitment(commitment_b_, *nonce_b)) return fail(Error::CommitmentMismatch);
    pair_code_ = pair_code(handshake_hash_, nonce_a_, *nonce_b);
    // Our side of the comparison: nothing is stored until our own policy
    // (and the user comparing the code) approves, and then B's CERT_B.
    state_ = State::AwaitingApproval;
    Step step;
    step.needs_approval = true;
    return step;
}

Step Initiator::approve(bool approved) {
    if (state_ != State::AwaitingApproval) return fail(Error::UnexpectedMessage);
    if (!approved) return fail(Error::NotApproved, AbortReason::NotApproved);
    auto accept = channel_->seal(MessageType::Accept, {});
    if (!accept) return fail(accept.error());
    state_ = State::AwaitPeerCert;
    Step step;
    step.send.push_back(std::move(*accept));
    return step;
}

std::string Initiator::pending_short_code() const {
    if (kind_ != Kind::Pair || state_ != State::AwaitingApproval) return {};
    return pair_code_;
}

Step Initiator::on_resume2(const Message& m) {
    // The seeds the responder may have used: in 1.1 every seed held (the
    // epoch no longer travels in clear), in 1.0 those of the epoch it named.
    std::vector<ByteView> psks;
    std::vector<std::size_t> index;
    const auto seeds = held_->seeds();
    for (std::size_t i = 0; i < seeds.size(); ++i) {
        if (version_ == Version::V1_0 && seeds[i].epoch != m.epoch) continue;
        psks.push_back(seeds[i].seed.view());
        index.push_back(i);
    }
    if (psks.empty()) return fail(Error::EpochNotOffered);
    auto read = hs_->read_message_trying_psks(m.body, psks);
    if (!read) return fail(Failure::noise(read.error()));
    if (!read->payload.empty()) return fail(Error::Decode);
    chosen_ = index[read->psk_index];
    const ratchet::EpochSeed& seed = seeds[chosen_];
    auto done = finish(*hs_, Role::Initiator);
    hs_.reset();
    if (!done) return fail(done.error());
    handshake_hash_ = done->h;
    channel_.emplace(std::move(done->channel));

    const Bytes ids = cert::ids_for(Role::Initiator, identity_.public_key(), *peer_);
    chosen_epoch_ = seed.epoch;
    new_seed_ = ratchet::next_seed(seed.seed.view(), handshake_hash_, ids);
    auto own = mint_own(identity_, *peer_, Role::Initiator, *new_seed_, chosen_epoch_ + 1,
                        handshake_hash_, now_, settings_, version_);
    if (!own) return fail(own.error());
    own_.emplace(std::move(*own));
    state_ = State::AwaitPeerCert;
    return Step{};
}

Step Initiator::on_peer_cert(const Message& m) {
    auto peer = open_certificate(*channel_, m, *own_, now_, replay_, handshake_hash_,
                                 identity_.public_key());
    if (!peer) return fail(peer.error());

    Step step;
    if (kind_ == Kind::Pair) {
        // B persisted {1} once both sides approved; now we do.
        auto held = ratchet::Holdings::paired(std::move(*new_seed_));
        new_seed_.reset();
        if (auto written = book_.persist(*peer_, Role::Responder, held, version_); !written)
            return fail(Failure::persist_failed(written.error()));
        held.wipe();
        return finish_session(std::move(step), *peer);
    }
    // ADVANCE: keep the chosen seed (B may not get CERT_A) and the newest
    // seed newer than it (B may hold it: its CONFIRM may have been lost).
    if (!held_->advance(chosen_, std::move(*new_seed_))) return fail(Error::EpochNotOffered);
    new_seed_.reset();
    if (auto written = book_.persist(*peer_, Role::Responder, *held_, version_); !written)
        return fail(Failure::persist_failed(written.error()));
    // Only now, with the advance on disk, may B be told to commit.
    auto confirm = seal_certificate(*channel_, *own_, handshake_hash_, *peer_);
    if (!confirm) return fail(confirm.error());
    step.send.push_back(std::move(*confirm));
    return finish_session(std::move(step), *peer);
}

// The session is ready: hand it over.  A 1.1 resume then waits for CONFIRM.
Step Initiator::finish_session(Step step, const cert::Certificate& peer_cert) {
    session_.emplace(make_session(kind_, version_, Role::Initiator, identity_.public_key(), *peer_,
                                  handshake_hash_, std::move(*own_), peer_cert, pair_code_));
    own_.reset();
    const bool await_confirm = kind_ == Kind::Resume && version_ == Version::V1_1;
    if (!await_confirm && held_) held_->wipe();
    state_ = await_confirm ? State::AwaitCommitConfirm : State::Done;
    step.done = true;
    return step;
}

Step Initiator::on_confirm(const Message& m) {
    auto epoch = open_u32(*channel_, m);
    if (!epoch) return fail(epoch.error());
    if (*epoch != chosen_epoch_ + 1) return fail(Error::ConfirmMismatch);
    // PRUNE: B holds exactly the new seed, so the chosen one (and anything
    // as old) goes now, not one resume later: a copy of B's older state is
    // useless from this moment.
    if (!held_->prune(chosen_epoch_)) return fail(Error::ConfirmMismatch);
    if (auto written = book_.persist(*peer_, Role::Responder, *held_, version_); !written)
        return fail(Failure::persist_failed(written.error()));
    held_->wipe();
    state_ = State::Done;
    Step step;
    step.confirmed = true;
    return step;
}

Step Initiator::on_bond(const Message& m) {
    auto step = bond_step(*channel_, m);
    return step ? std::move(*step) : fail(step.error());
}

Expected<Bytes, Failure> Initiator::seal_bond(std::uint32_t passkey) {
    if (!channel_ || (state_ != State::Done && state_ != State::AwaitCommitConfirm))
        return unexpected(Failure::of(Error::UnexpectedMessage));
    if (version_ != Version::V1_1) return unexpected(Failure::of(Error::UnsupportedVersion));
    return channel_->seal(MessageType::Bond, u32_plaintext(passkey));
}

std::optional<Session> Initiator::take_session() {
    std::optional<Session> s = std::move(session_);
    session_.reset();
    return s;
}

}  // namespace br::handshake
