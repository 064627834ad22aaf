// The blueratchet handshake as two explicit state machines, one per role.
//
// No I/O, no clock, no threads: the caller feeds whole messages in (after
// frame reassembly) and sends what each Step returns, in order.  Durable
// state goes through PeerBook.  docs/PROTOCOL.md sections 4-8 describe the
// flights; in short:
//
//   pairing (Noise XX)                     resume (Noise IKpsk2)
//   A -> B  PAIR_1                         A -> B  RESUME_1 (offered epochs)
//   B -> A  PAIR_2 (commits to nonce_B)    B -> A  RESUME_2 (chosen epoch), CERT_B
//   A -> B  PAIR_3 (nonce_A), CERT_A       A: persist {e, e+1}
//   B -> A  REVEAL (nonce_B)               A -> B  CERT_A        (the confirmation)
//   B: approval, persist {1}               B: persist {e+1}
//   B -> A  CERT_B
//   A: persist {1}
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
    Decode,               // a message that does not parse
    UnexpectedMessage,    // a message type that is not valid in this state
    Noise,                // the Noise layer refused a message (noise_error says why)
    IdentityMismatch,     // the identity in a payload is not the Noise static key
    SelfPairing,          // the peer presented our own identity
    UnknownPeer,          // resume from an identity we hold no seeds for
    NoCommonEpoch,        // resume offer shares no epoch with what we hold
    EpochNotOffered,      // RESUME_2 chose an epoch we did not offer
    NotApproved,          // first contact refused by the approval policy
    CommitmentMismatch,   // REVEAL's nonce does not open PAIR_2's commitment
    Certificate,          // the peer's certificate failed (cert_error says why)
    FingerprintMismatch,  // the certificate's fingerprint is not ours
    PersistFailed,        // the store could not write; nothing was sent after it
    PeerAborted,          // the peer sent Abort (abort says why)
    Finished,             // a message after the handshake ended
};
const char* to_string(Error e);

struct Failure {
    Error error;
    std::optional<noise::Error> noise_error;
    std::optional<cert::CertError> cert_error;
    std::optional<DecodeError> decode_error;
    std::optional<AbortReason> abort;
    std::string describe() const;
};

struct Step {
    std::vector<Bytes> send;         // encoded messages, to send in this order
    bool needs_approval = false;     // responder: first contact waits for approve()
    bool done = false;               // the session is ready: take_session()
    std::optional<Failure> failure;  // the handshake is over; drop the link
};

struct Settings {
    std::uint32_t validity_seconds = 3600;
    // Two devices never read the same clock: certificates are minted with
    // not_before this far in the past, so a peer whose clock is up to this
    // much behind ours still finds them valid (as TLS CAs backdate).
    std::uint32_t clock_skew_seconds = 300;
};

class Initiator {
  public:
    enum class State { Idle, SentPair1, SentResume1, AwaitReveal, AwaitPeerCert, Done, Failed };

    // `peer` is the responder's identity when we are already paired with it
    // (the book then supplies the seeds); nullopt for a first contact.
    Initiator(const Ed25519KeyPair& identity, std::optional<DeviceId> peer, PeerBook& book,
              cert::ReplayCache& replay, Settings settings, std::uint32_t now_unix);

    Step start();
    Step receive(ByteView message);

    State state() const { return state_; }
    Kind kind() const { return kind_; }
    // A first pairing, once REVEAL has been read: the 6-digit code to compare
    // with the one the responder shows while it waits for its approval.
    std::string pending_short_code() const;
    std::optional<Session> take_session();

  private:
    Step fail(Error e);
    Step fail(Failure f);
    Step on_pair2(const Message& m);
    Step on_reveal(const Message& m);
    Step on_resume2(const Message& m);
    Step on_peer_cert(const Message& m);

    const Ed25519KeyPair& identity_;
    std::optional<DeviceId> peer_;
    PeerBook& book_;
    cert::ReplayCache& replay_;
    Settings settings_;
    std::uint32_t now_;

    State state_ = State::Idle;
    Kind kind_ = Kind::Pair;
    X25519KeyPair static_;
    std::optional<noise::HandshakeState> hs_;
    std::optional<noise::CipherState> send_, recv_;
    std::optional<ratchet::Holdings> held_;
    std::uint32_t chosen_epoch_ = 0;
    std::optional<SecretBytes> new_seed_;
    std::optional<cert::SessionCert> own_;
    Hash handshake_hash_{};
    PairNonce nonce_a_{};    // pairing: ours, sent in PAIR_3
    Hash commitment_b_{};    // pairing: the responder's, from PAIR_2
    std::string pair_code_;  // pairing: known once REVEAL opened the commitment
    std::optional<Session> session_;
};

class Responder {
  public:
    enum class State {
        Idle,
        SentPair2,
        AwaitInitiatorCert,
        AwaitingApproval,
        AwaitConfirm,
        Done,
        Failed
    };

    Responder(const Ed25519KeyPair& identity, PeerBook& book, cert::ReplayCache& replay,
              Settings settings, std::uint32_t now_unix);

    Step receive(ByteView message);
    // Only in AwaitingApproval: the approval policy's verdict on a first contact.
    Step approve(bool approved);

    State state() const { return state_; }
    Kind kind() const { return kind_; }
    // The initiator's identity, known once PAIR_3 or RESUME_1 has been read.
    std::optional<DeviceId> peer() const { return peer_; }
    // While AwaitingApproval: the 6-digit code both sides can compare (the
    // initiator has it from REVEAL, sent just before approval is asked for).
    std::string pending_short_code() const;
    std::optional<Session> take_session();

  private:
    Step fail(Error e, std::optional<AbortReason> tell_peer = std::nullopt);
    Step fail(Failure f, std::optional<AbortReason> tell_peer = std::nullopt);
    Step on_pair1(const Message& m);
    Step on_pair3(const Message& m);
    Step on_resume1(const Message& m);
    Step on_initiator_cert(const Message& m);

    const Ed25519KeyPair& identity_;
    PeerBook& book_;
    cert::ReplayCache& replay_;
    Settings settings_;
    std::uint32_t now_;

    State state_ = State::Idle;
    Kind kind_ = Kind::Pair;
    X25519KeyPair static_;
    std::optional<DeviceId> peer_;
    std::optional<noise::HandshakeState> hs_;
    std::optional<noise::CipherState> send_, recv_;
    std::optional<ratchet::Holdings> held_;
    std::uint32_t new_epoch_ = 0;
    std::optional<SecretBytes> new_seed_;
    std::optional<cert::SessionCert> own_;
    std::optional<cert::Certificate> peer_cert_;
    Hash handshake_hash_{};
    std::optional<SecretBytes> nonce_b_;  // pairing: committed in PAIR_2, kept until REVEAL
    PairNonce nonce_a_{};                 // pairing: the initiator's, from PAIR_3
    std::string pair_code_;               // pairing: computed when REVEAL goes out
    std::optional<Session> session_;
};

// The fingerprint sent with a certificate: binds it to this handshake and to
// its recipient.  SHA-256("blueratchet/1 cert fingerprint" || h || recipient_id ||
// sender_session_pk)
Hash certificate_fingerprint(const Hash& h, const Ed25519Public& recipient_id,
                             const Ed25519Public& sender_session_pk);

}  // namespace br::handshake
