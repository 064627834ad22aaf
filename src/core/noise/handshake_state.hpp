// SPDX-License-Identifier: MIT
// Noise HandshakeState (spec section 5.3) for the patterns in patterns.hpp,
// with 25519, ChaChaPoly and SHA-256.
//
// Error handling.  Checks that need no cryptography (turn, length, missing
// psk) fail without touching the state, so e.g. a responder can set_psk()
// and retry.  A failure during processing (an AEAD tag or a low-order key)
// aborts the handshake: all secrets are wiped and every later call returns
// Error::Aborted.  A peer's ephemeral and static public keys are checked for
// small order as soon as they are read (LowOrderPoint).
//
// Secrets.  s, e, the psk and ck live in SecretBytes.  When the last message
// is written or read, e and the psk are wiped; split() wipes ck.  The
// destructor wipes whatever is left.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <utility>

#include "core/crypto/kdf.hpp"
#include "core/crypto/x25519.hpp"
#include "core/noise/cipher_state.hpp"
#include "core/noise/error.hpp"
#include "core/noise/patterns.hpp"
#include "core/noise/symmetric_state.hpp"

namespace br::noise {

inline constexpr std::size_t kPskLen = 32;

struct Config {
    Pattern pattern = Pattern::XX;
    Role role = Role::Initiator;
    ByteView prologue;
    // s: required when the pattern sends or pre-shares our static key.  Copied.
    const X25519KeyPair* local_static = nullptr;
    // rs: required when the pattern pre-shares the peer's static key (the IK
    // initiator); ignored otherwise (the key arrives in a message).
    std::optional<X25519Public> remote_static;
    // Tests only: the ephemeral to use instead of a fresh one (test vectors
    // fix e).  Copied.
    const X25519KeyPair* fixed_ephemeral = nullptr;
};

class HandshakeState {
  public:
    // Configuration errors (missing s or rs, low-order rs) are reported by
    // the first write_message/read_message.
    explicit HandshakeState(const Config& config);
    HandshakeState(HandshakeState&&) noexcept = default;
    HandshakeState& operator=(HandshakeState&&) noexcept = default;
    HandshakeState(const HandshakeState&) = delete;
    HandshakeState& operator=(const HandshakeState&) = delete;
    ~HandshakeState() = default;

    // The 32-byte psk, any time before the psk token is processed (the IKpsk2
    // responder chooses it after reading message 1).  Returns false, and
    // changes nothing, for another length or once the psk has been used.
    [[nodiscard]] bool set_psk(ByteView psk);

    // WriteMessage: the message carrying `payload`.
    Expected<Bytes, Error> write_message(ByteView payload);
    // ReadMessage: the payload carried by `message`.
    Expected<Bytes, Error> read_message(ByteView message);

    // ReadMessage when the psk is one of several candidates (a peer that
    // does not say which seed it used).  Only for a message whose last token
    // is psk, before any psk was set: the tokens before it are processed once,
    // then each candidate in turn gets the psk token and the payload's
    // decryption on a copy of the symmetric state; the first that decrypts is
    // kept.  None: DecryptFailed, and the handshake is aborted as for any
    // failed read.  Costs one HKDF and one AEAD per candidate tried.
    struct TrialRead {
        Bytes payload;
        std::size_t psk_index = 0;
    };
    Expected<TrialRead, Error> read_message_trying_psks(ByteView message,
                                                        std::span<const ByteView> psks);

    bool finished() const;
    bool is_my_turn() const;
    bool aborted() const { return aborted_; }
    Role role() const { return role_; }
    const PatternSpec& spec() const { return *spec_; }

    // h: the handshake hash so far (after the last message: the value to bind
    // the session to).
    Hash handshake_hash() const { return ss_.handshake_hash(); }
    std::optional<X25519Public> remote_static() const { return rs_; }
    std::optional<X25519Public> remote_ephemeral() const { return re_; }

    // Split(): (initiator->responder, responder->initiator) transport states.
    // NotFinished before the last message; MissingKey once already split.
    Expected<std::pair<CipherState, CipherState>, Error> split();
    // The same, with a third HKDF output as a shared secret (SymmetricState).
    Expected<SymmetricState::SplitWithSecret, Error> split_with_secret();

  private:
    // Bytes the next message needs beyond its payload (public keys, tags).
    std::size_t next_message_overhead() const;
    Expected<void, Error> precheck(bool writing, bool psk_needed = true) const;
    // The tokens of the message being read, up to (not including) `stop`.
    Expected<void, Error> read_tokens(Reader& in, std::size_t stop);
    Expected<void, Error> mix_dh(Token token);
    void abort();
    void complete_if_last();

    const PatternSpec* spec_;
    Role role_;
    SymmetricState ss_;
    std::optional<X25519KeyPair> s_;
    std::optional<X25519KeyPair> e_;
    std::optional<X25519KeyPair> fixed_e_;
    std::optional<X25519Public> rs_;
    std::optional<X25519Public> re_;
    std::optional<SecretBytes> psk_;
    std::size_t msg_index_ = 0;
    bool psk_used_ = false;
    bool aborted_ = false;
    std::optional<Error> config_error_;
};

}  // namespace br::noise
