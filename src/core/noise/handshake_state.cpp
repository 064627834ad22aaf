// SPDX-License-Identifier: MIT
#include "core/noise/handshake_state.hpp"

#include "core/crypto/aead.hpp"

namespace br::noise {
namespace {

bool sent_by_initiator(std::size_t message_index) {
    return message_index % 2 == 0;
}

// Does `role` need its own static key for this pattern: a pre-message, an "s"
// token it sends, or a DH token that uses its s.
bool needs_local_static(const PatternSpec& spec, Role role) {
    const bool initiator = role == Role::Initiator;
    if (initiator ? spec.initiator_static_known : spec.responder_static_known) return true;
    for (std::size_t i = 0; i < spec.messages.size(); ++i) {
        for (Token t : spec.messages[i]) {
            if (t == Token::SS) return true;
            if (t == (initiator ? Token::SE : Token::ES)) return true;
            if (t == Token::S && sent_by_initiator(i) == initiator) return true;
        }
    }
    return false;
}

}  // namespace

HandshakeState::HandshakeState(const Config& config)
    : spec_(&pattern_spec(config.pattern)), role_(config.role), ss_(spec_->protocol_name) {
    const bool initiator = role_ == Role::Initiator;
    ss_.mix_hash(config.prologue);
    if (config.local_static != nullptr) s_.emplace(config.local_static->clone());
    if (config.fixed_ephemeral != nullptr) fixed_e_.emplace(config.fixed_ephemeral->clone());

    if (needs_local_static(*spec_, role_) && !s_) {
        config_error_ = Error::MissingKey;
        return;
    }
    const bool remote_known =
        initiator ? spec_->responder_static_known : spec_->initiator_static_known;
    if (remote_known) {
        if (!config.remote_static) {
            config_error_ = Error::MissingKey;
            return;
        }
        if (x25519_is_low_order(*config.remote_static)) {
            config_error_ = Error::LowOrderPoint;
            return;
        }
        rs_ = config.remote_static;
    }
    // Pre-message keys are hashed initiator's first (spec 5.3, Initialize()).
    if (spec_->initiator_static_known) ss_.mix_hash(initiator ? ByteView(s_->pub) : ByteView(*rs_));
    if (spec_->responder_static_known) ss_.mix_hash(initiator ? ByteView(*rs_) : ByteView(s_->pub));
}

bool HandshakeState::set_psk(ByteView psk) {
    if (psk.size() != kPskLen || psk_used_ || aborted_ || !spec_->psk_mode) return false;
    psk_.emplace(psk);
    return true;
}

bool HandshakeState::finished() const {
    return msg_index_ >= spec_->messages.size();
}

bool HandshakeState::is_my_turn() const {
    return !aborted_ && !finished() && sent_by_initiator(msg_index_) == (role_ == Role::Initiator);
}

std::size_t HandshakeState::next_message_overhead() const {
    bool key = ss_.has_key();
    std::size_t n = 0;
    for (Token t : spec_->messages[msg_index_]) {
        switch (t) {
            case Token::E:
                n += kX25519Len;
                if (spec_->psk_mode) key = true;
                break;
            case Token::S:
                n += kX25519Len + (key ? kAeadTagLen : 0);
                break;
            case Token::EE:
            case Token::ES:
            case Token::SE:
            case Token::SS:
            case Token::Psk:
                key = true;
                break;
        }
    }
    return n + (key ? kAeadTagLen : 0);
}

Expected<void, Error> HandshakeState::precheck(bool writing, bool psk_needed) const {
    if (aborted_) return unexpected(Error::Aborted);
    if (config_error_) return unexpected(*config_error_);
    if (finished()) return unexpected(Error::Finished);
    if (is_my_turn() != writing) return unexpected(Error::WrongTurn);
    for (Token t : spec_->messages[msg_index_]) {
        if (t == Token::Psk && !psk_ && psk_needed) return unexpected(Error::MissingKey);
    }
    return {};
}

Expected<void, Error> HandshakeState::mix_dh(Token token) {
    const bool initiator = role_ == Role::Initiator;
    const X25519KeyPair* local = nullptr;
    const std::optional<X25519Public>* remote = nullptr;
    switch (token) {
        case Token::EE:
            local = e_ ? &*e_ : nullptr;
            remote = &re_;
            break;
        case Token::ES:
            local = initiator ? (e_ ? &*e_ : nullptr) : (s_ ? &*s_ : nullptr);
            remote = initiator ? &rs_ : &re_;
            break;
        case Token::SE:
            local = initiator ? (s_ ? &*s_ : nullptr) : (e_ ? &*e_ : nullptr);
            remote = initiator ? &re_ : &rs_;
            break;
        case Token::SS:
            local = s_ ? &*s_ : nullptr;
            remote = &rs_;
            break;
        default:
            return unexpected(Error::MissingKey);  // not a DH token
    }
    if (local == nullptr || !remote->has_value()) return unexpected(Error::MissingKey);
    auto shared = x25519(local->secret.view(), **remote);
    if (!shared) return unexpected(Error::LowOrderPoint);
    ss_.mix_key(shared->view());
    return {};
}

Expected<Bytes, Error> HandshakeState::write_message(ByteView payload) {
    if (auto ok = precheck(true); !ok) return unexpected(ok.error());
    const std::size_t overhead = next_message_overhead();
    if (overhead > kMaxMessageLen || payload.size() > kMaxMessageLen - overhead) {
        return unexpected(Error::TooLong);
    }
    Bytes out;
    out.reserve(overhead + payload.size());
    for (Token t : spec_->messages[msg_index_]) {
        switch (t) {
            case Token::E:
                e_.emplace(fixed_e_ ? fixed_e_->clone() : X25519KeyPair::generate());
                append(out, e_->pub);
                ss_.mix_hash(e_->pub);
                if (spec_->psk_mode) ss_.mix_key(e_->pub);
                break;
            case Token::S: {
                auto ct = ss_.encrypt_and_hash(s_->pub);
                if (!ct) {
                    abort();
                    return unexpected(ct.error());
                }
                append(out, *ct);
                break;
            }
            case Token::EE:
            case Token::ES:
            case Token::SE:
            case Token::SS:
                if (auto ok = mix_dh(t); !ok) {
                    abort();
                    return unexpected(ok.error());
                }
                break;
            case Token::Psk:
                ss_.mix_key_and_hash(psk_->view());
                psk_used_ = true;
                break;
        }
    }
    auto ct = ss_.encrypt_and_hash(payload);
    if (!ct) {
        abort();
        return unexpected(ct.error());
    }
    append(out, *ct);
    ++msg_index_;
    complete_if_last();
    return out;
}

Expected<void, Error> HandshakeState::read_tokens(Reader& in, std::size_t stop) {
    const auto& tokens = spec_->messages[msg_index_];
    for (std::size_t i = 0; i < stop && i < tokens.size(); ++i) {
        switch (const Token t = tokens[i]) {
            case Token::E: {
                const ByteView re = in.take(kX25519Len);
                if (!in.ok()) return unexpected(Error::Truncated);
                if (x25519_is_low_order(re)) return unexpected(Error::LowOrderPoint);
                re_.emplace();
                std::copy(re.begin(), re.end(), re_->begin());
                ss_.mix_hash(re);
                if (spec_->psk_mode) ss_.mix_key(re);
                break;
            }
            case Token::S: {
                const ByteView ct = in.take(kX25519Len + (ss_.has_key() ? kAeadTagLen : 0));
                if (!in.ok()) return unexpected(Error::Truncated);
                auto rs = ss_.decrypt_and_hash(ct);
                if (!rs) return unexpected(rs.error());
                if (rs->size() != kX25519Len) return unexpected(Error::Truncated);
                if (x25519_is_low_order(*rs)) return unexpected(Error::LowOrderPoint);
                rs_.emplace();
                std::copy(rs->begin(), rs->end(), rs_->begin());
                break;
            }
            case Token::EE:
            case Token::ES:
            case Token::SE:
            case Token::SS:
                if (auto ok = mix_dh(t); !ok) return unexpected(ok.error());
                break;
            case Token::Psk:
                ss_.mix_key_and_hash(psk_->view());
                psk_used_ = true;
                break;
        }
    }
    return {};
}

Expected<Bytes, Error> HandshakeState::read_message(ByteView message) {
    if (auto ok = precheck(false); !ok) return unexpected(ok.error());
    if (message.size() > kMaxMessageLen) return unexpected(Error::TooLong);
    if (message.size() < next_message_overhead()) return unexpected(Error::Truncated);
    // The length check above makes every take() below succeed; the Reader
    // still bounds each one, so a miscount cannot read past the message.
    Reader in(message);
    auto fail = [this](Error e) {
        abort();
        return unexpected(e);
    };
    if (auto ok = read_tokens(in, spec_->messages[msg_index_].size()); !ok) return fail(ok.error());
    auto payload = ss_.decrypt_and_hash(in.take(in.remaining()));
    if (!in.ok()) return fail(Error::Truncated);
    if (!payload) return fail(payload.error());
    ++msg_index_;
    complete_if_last();
    return payload;
}

Expected<HandshakeState::TrialRead, Error> HandshakeState::read_message_trying_psks(
    ByteView message, std::span<const ByteView> psks) {
    if (!spec_->psk_mode || psk_ || psk_used_) return unexpected(Error::MissingKey);
    if (auto ok = precheck(false, false); !ok) return unexpected(ok.error());
    const auto& tokens = spec_->messages[msg_index_];
    if (tokens.empty() || tokens.back() != Token::Psk) return unexpected(Error::MissingKey);
    if (psks.empty()) return unexpected(Error::MissingKey);
    for (ByteView p : psks)
        if (p.size() != kPskLen) return unexpected(Error::MissingKey);
    if (message.size() > kMaxMessageLen) return unexpected(Error::TooLong);
    if (message.size() < next_message_overhead()) return unexpected(Error::Truncated);
    Reader in(message);
    auto fail = [this](Error e) {
        abort();
        return unexpected(e);
    };
    if (auto ok = read_tokens(in, tokens.size() - 1); !ok) return fail(ok.error());
    const ByteView rest = in.take(in.remaining());
    if (!in.ok()) return fail(Error::Truncated);
    for (std::size_t i = 0; i < psks.size(); ++i) {
        SymmetricState trial = ss_.clone();
        trial.mix_key_and_hash(psks[i]);
        auto payload = trial.decrypt_and_hash(rest);
        if (!payload) {
            trial.wipe();
            continue;
        }
        ss_ = std::move(trial);
        psk_.emplace(psks[i]);
        psk_used_ = true;
        ++msg_index_;
        complete_if_last();
        return TrialRead{std::move(*payload), i};
    }
    return fail(Error::DecryptFailed);
}

Expected<std::pair<CipherState, CipherState>, Error> HandshakeState::split() {
    auto s = split_with_secret();
    if (!s) return unexpected(s.error());
    return std::pair<CipherState, CipherState>{std::move(s->first), std::move(s->second)};
}

Expected<SymmetricState::SplitWithSecret, Error> HandshakeState::split_with_secret() {
    if (aborted_) return unexpected(Error::Aborted);
    if (!finished()) return unexpected(Error::NotFinished);
    return ss_.split_with_secret();
}

void HandshakeState::complete_if_last() {
    if (!finished()) return;
    // The handshake needs no more private keys; only ck (for split) remains.
    e_.reset();
    fixed_e_.reset();
    s_.reset();
    psk_.reset();
}

void HandshakeState::abort() {
    aborted_ = true;
    ss_.wipe();
    e_.reset();
    fixed_e_.reset();
    s_.reset();
    psk_.reset();
}

}  // namespace br::noise
