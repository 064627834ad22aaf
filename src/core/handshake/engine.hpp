// SPDX-License-Identifier: MIT
// The blueratchet handshake as two explicit state machines, one per role.
//
// No I/O, no clock, no threads: the caller feeds whole messages in (after
// frame reassembly) and sends what each Step returns, in order.  Durable
// state goes through PeerBook.  docs/PROTOCOL.md sections 4-8 describe the
// flights of protocol 1.1; in short:
//
//   pairing (Noise XX)                     resume (Noise IKpsk2)
//   A -> B  PAIR_1 (version)               A -> B  RESUME_1 (offered epochs)
//   B -> A  PAIR_2 (commits to nonce_B)    B -> A  RESUME_2, CERT_B
//   A -> B  PAIR_3 (nonce_A), CERT_A       A: ADVANCE (durable); session ready
//   B -> A  REVEAL (nonce_B)               A -> B  CERT_A
//   both: approval (the 6-digit code)      B: COMMIT (durable); session ready
//   A -> B  ACCEPT                         B -> A  CONFIRM
//   B: persist {1}; B -> A  CERT_B         A: PRUNE (durable)
//   A: persist {1}
//
// After the handshake both engines keep the transport keys for the
// session's own messages (BOND: the LE bond's passkey, section 8.2).  A
// resume with a pair that still speaks protocol 1.0 runs 1.0's messages
// (RESUME_1/RESUME_2 0x11/0x12, no CONFIRM; section 11).
//
// Any failure ends the handshake (state Failed); the caller drops the link.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/cert/session.hpp"
#include "core/handshake/messages.hpp"
#include "core/handshake/pairing_code.hpp"
#include "core/handshake/peer_book.hpp"
#include "core/handshake/session.hpp"
#include "core/noise/cipher_state.hpp"
#include "core/noise/handshake_state.hpp"
#include "core/ratchet/holdings.hpp"

namespace br::handshake {

enum class Error {
    Decode,               // a message that does not parse (decode_error says why)
    UnexpectedMessage,    // a message type that is not valid in this state
    Noise,                // the Noise layer refused a message (noise_error says why)
    IdentityMismatch,     // the identity in a payload is not the Noise static key
    SelfPairing,          // the peer presented our own identity (either sign)
    NegatedIdentity,      // the other sign of an identity we already store
    UnsupportedVersion,   // a first contact in protocol 1.0 (PAIR_1 without a version)
    VersionDowngrade,     // a 1.0 resume with a pair that already spoke 1.1
    UnknownPeer,          // resume from an identity we hold no seeds for
    NoCommonEpoch,        // resume offer shares no epoch with what we hold
    EpochNotOffered,      // a 1.0 RESUME_2 chose an epoch we did not offer
    NotApproved,          // a first contact refused by an approval policy
    CommitmentMismatch,   // REVEAL's nonce does not open PAIR_2's commitment
    Certificate,          // the peer's certificate failed (cert_error says why)
    FingerprintMismatch,  // the certificate's fingerprint is not ours
    ConfirmMismatch,      // CONFIRM names another epoch than the one we advanced to
    PersistFailed,        // the store could not write; nothing was sent after it
    PeerAborted,          // the peer sent Abort (abort says why)
    Finished,             // a message after the handshake ended
};
const char* to_string(Error e);
// The enumerator's own name ("Decode"): stable, for logs and the API.
const char* name(Error);

struct Failure {
    Error error;
    std::optional<noise::Error> noise_error;
    std::optional<cert::CertError> cert_error;
    std::optional<DecodeError> decode_error;
    std::optional<AbortReason> abort;  // may hold a reason this build does not name
    std::string detail;                // PersistFailed: the store's own words (path, errno)

    static Failure of(Error e) { return Failure{e, {}, {}, {}, {}, {}}; }
    static Failure noise(noise::Error e) { return Failure{Error::Noise, e, {}, {}, {}, {}}; }
    static Failure certificate(cert::CertError e) {
        return Failure{Error::Certificate, {}, e, {}, {}, {}};
    }
    static Failure decode(DecodeError e) { return Failure{Error::Decode, {}, {}, e, {}, {}}; }
    static Failure peer_aborted(AbortReason r) {
        return Failure{Error::PeerAborted, {}, {}, {}, r, {}};
    }
    static Failure persist_failed(std::string why) {
        return Failure{Error::PersistFailed, {}, {}, {}, {}, std::move(why)};
    }
    std::string describe() const;
    // The error's name, with the layer's own where it has one: "UnknownPeer",
    // "Noise.DecryptFailed", "Decode.UnknownType", "Certificate.Expired",
    // "PeerAborted.NotApproved".  Stable: what logs and the API report.
    std::string name() const;
};

struct Step {
    std::vector<Bytes> send;      // encoded messages, to send in this order
    bool needs_approval = false;  // a first contact waits for approve() (either role)
    bool done = false;            // the session is ready: take_session()
    bool confirmed = false;       // initiator: the responder's CONFIRM arrived (PRUNE)
    std::optional<std::uint32_t> bond_passkey;  // the peer's BOND (session message)
    std::optional<Failure> failure;             // the handshake is over; drop the link
};

// Fixed randomness, for the published test vectors only (docs/PROTOCOL.md
// appendix A, tests/unit/handshake/vectors_test.cpp): the ephemeral key and
// the pairing nonce an engine would otherwise draw.  Never set in a product.
struct FixedEntropy {
    ByteArray<32> ephemeral_secret{};  // X25519 secret of the handshake's ephemeral
    PairNonce nonce{};                 // nonce_A (initiator) or nonce_B (responder)
};

struct Settings {
    std::uint32_t validity_seconds = 3600;
    // Two devices never read the same clock: certificates are minted with
    // not_before this far in the past, so a peer whose clock is up to this
    // much behind ours still finds them valid (as TLS CAs backdate).
    std::uint32_t clock_skew_seconds = 300;
};

// The transport keys of a finished handshake, kept for the session's own
// messages (BOND) and, for the initiator of a resume, the CONFIRM.
class SessionChannel {
  public:
    SessionChannel(noise::CipherState send, noise::CipherState recv)
        : send_(std::move(send)), recv_(std::move(recv)) {}
    // A transport message of `type` carrying `plaintext`.
    Expected<Bytes, Failure> seal(MessageType type, ByteView plaintext);
    // The plaintext of a transport message (already decoded).
    Expected<Bytes, Failure> open(const Message& m);

  private:
    noise::CipherState send_, recv_;
};

class Initiator {
  public:
    enum class State {
        Idle,
        SentPair1,
        SentResume1,
        AwaitReveal,
        AwaitingApproval,  // pairing: REVEAL read, our side's verdict pending
        AwaitPeerCert,
        AwaitCommitConfirm,  // resume 1.1: session ready, CONFIRM not yet read
        Done,
        Failed
    };

    // `peer` is the responder's identity when we are already paired with it
    // (the book then supplies the seeds); nullopt for a first contact.
    Initiator(const Ed25519KeyPair& identity, std::optional<DeviceId> peer, PeerBook& book,
              cert::ReplayCache& replay, Settings settings, std::uint32_t now_unix);

    // Before start(): resume in protocol 1.0 (a peer that refused 1.1 and
    // never spoke it).  Refused at start() for a pair stored as 1.1.
    void resume_in_1_0() { resume_version_ = Version::V1_0; }
    // Test vectors only: the randomness this handshake uses.
    void use_fixed_entropy(const FixedEntropy& e);

    Step start();
    Step receive(ByteView message);
    // Only in AwaitingApproval: our approval policy's verdict on a first
    // contact, after the user compared the code (pending_short_code()).
    Step approve(bool approved);
    // Once the session is ready: a BOND message carrying `passkey`.
    Expected<Bytes, Failure> seal_bond(std::uint32_t passkey);

    State state() const { return state_; }
    Kind kind() const { return kind_; }
    Version version() const { return version_; }
    // The responder's identity, known once PAIR_2 has been read (or given).
    std::optional<DeviceId> peer() const { return peer_; }
    // A first pairing, once REVEAL has been read: the 6-digit code to compare
    // with the one the responder shows while it waits for its approval.
    std::string pending_short_code() const;
    // A 1.1 resume to a pair stored as 1.0 was answered ABORT(ProtocolError),
    // as a 1.0 responder answers an unknown message type: worth one resume
    // in 1.0 (resume_in_1_0) on the next connection.
    bool peer_may_speak_only_1_0() const { return maybe_1_0_; }
    std::optional<Session> take_session();

  private:
    Step fail(Error e, std::optional<AbortReason> tell_peer = std::nullopt);
    Step fail(Failure f, std::optional<AbortReason> tell_peer = std::nullopt);
    Step start_resume();
    Step start_pair();
    Step on_pair2(const Message& m);
    Step on_reveal(const Message& m);
    Step on_resume2(const Message& m);
    Step on_peer_cert(const Message& m);
    Step on_confirm(const Message& m);
    Step on_bond(const Message& m);
    Step finish_session(Step step, const cert::Certificate& peer_cert);

    const Ed25519KeyPair& identity_;
    std::optional<DeviceId> peer_;
    PeerBook& book_;
    cert::ReplayCache& replay_;
    Settings settings_;
    std::uint32_t now_;

    State state_ = State::Idle;
    Kind kind_ = Kind::Pair;
    Version resume_version_ = Version::V1_1;  // what start() speaks for a resume
    Version stored_version_ = Version::V1_0;  // what the book says the pair speaks
    Version version_ = Version::V1_1;         // what this handshake speaks
    bool maybe_1_0_ = false;
    X25519KeyPair static_;
    std::optional<noise::HandshakeState> hs_;
    std::optional<SessionChannel> channel_;
    std::optional<ratchet::Holdings> held_;
    std::size_t chosen_ = 0;  // index in held_ of the seed RESUME_2 was made with
    std::uint32_t chosen_epoch_ = 0;
    std::optional<SecretBytes> new_seed_;
    std::optional<cert::SessionCert> own_;
    Hash handshake_hash_{};
    PairNonce nonce_a_{};    // pairing: ours, sent in PAIR_3
    Hash commitment_b_{};    // pairing: the responder's, from PAIR_2
    std::string pair_code_;  // pairing: known once REVEAL opened the commitment
    std::optional<Session> session_;
    std::optional<X25519KeyPair> fixed_ephemeral_;  // test vectors only
    std::optional<PairNonce> fixed_nonce_;
};

class Responder {
  public:
    enum class State {
        Idle,
        SentPair2,
        AwaitInitiatorCert,
        AwaitingApproval,  // pairing: REVEAL sent, our verdict pending (ACCEPT may come first)
        AwaitAccept,       // pairing: we approved, the initiator's ACCEPT pending
        AwaitResumeCert,   // resume: RESUME_2 and CERT_B sent, the initiator's CERT_A pending
        Done,
        Failed
    };

    Responder(const Ed25519KeyPair& identity, PeerBook& book, cert::ReplayCache& replay,
              Settings settings, std::uint32_t now_unix);

    // Test vectors only: the randomness this handshake uses.
    void use_fixed_entropy(const FixedEntropy& e);

    Step receive(ByteView message);
    // Only in AwaitingApproval: the approval policy's verdict on a first contact.
    Step approve(bool approved);
    // Once the session is ready: a BOND message carrying `passkey`.
    Expected<Bytes, Failure> seal_bond(std::uint32_t passkey);

    State state() const { return state_; }
    Kind kind() const { return kind_; }
    Version version() const { return version_; }
    // The initiator's identity, known once PAIR_3 or RESUME_1 has been read.
    std::optional<DeviceId> peer() const { return peer_; }
    // While AwaitingApproval: the 6-digit code both sides can compare (the
    // initiator has it from REVEAL, sent just before approval is asked for).
    std::string pending_short_code() const;
    // Whether the initiator's ACCEPT has arrived (pairing).
    bool peer_accepted() const { return peer_accepted_; }
    std::optional<Session> take_session();

  private:
    Step fail(Error e, std::optional<AbortReason> tell_peer = std::nullopt);
    Step fail(Failure f, std::optional<AbortReason> tell_peer = std::nullopt);
    Step on_pair1(const Message& m);
    Step on_pair3(const Message& m);
    Step on_resume1(const Message& m);
    Step on_initiator_cert(const Message& m);
    Step on_accept(const Message& m);
    Step on_bond(const Message& m);
    Step complete_pairing();
    Step finish_session(Step step);

    // (Ordered to avoid padding, as clang-tidy's Padding check asks.)
    const Ed25519KeyPair& identity_;
    PeerBook& book_;
    cert::ReplayCache& replay_;
    std::optional<SecretBytes> new_seed_;
    std::optional<SecretBytes> nonce_b_;  // pairing: committed in PAIR_2, kept until REVEAL
    std::string pair_code_;               // pairing: computed when REVEAL goes out
    X25519KeyPair static_;
    std::optional<X25519KeyPair> fixed_ephemeral_;  // test vectors only
    std::optional<SessionChannel> channel_;
    std::optional<cert::SessionCert> own_;
    std::optional<noise::HandshakeState> hs_;
    std::optional<Session> session_;
    std::uint32_t now_;
    State state_ = State::Idle;
    Kind kind_ = Kind::Pair;
    std::uint32_t new_epoch_ = 0;
    Settings settings_;
    std::optional<cert::Certificate> peer_cert_;
    Version version_ = Version::V1_1;
    bool peer_accepted_ = false;  // pairing: the initiator's ACCEPT arrived
    Hash handshake_hash_{};
    PairNonce nonce_a_{};  // pairing: the initiator's, from PAIR_3
    std::optional<DeviceId> peer_;
    std::optional<PairNonce> fixed_nonce_;
};

// The fingerprint sent with a certificate: binds it to this handshake and to
// its recipient.  SHA-256("blueratchet/1 cert fingerprint" || h || recipient_id ||
// sender_session_pk)
Hash certificate_fingerprint(const Hash& h, const Ed25519Public& recipient_id,
                             const Ed25519Public& sender_session_pk);

// The identity with the other sign: the same X25519 form, so the same
// Noise static key (docs/PROTOCOL.md section 2).
DeviceId negated_identity(const DeviceId& id);

}  // namespace br::handshake
