// SPDX-License-Identifier: MIT
// What the two roles of engine.hpp share: the certificate messages, the
// identity checks, the end of a Noise handshake, minting.  Internal to
// src/core/handshake/.
#pragma once

#include <string>

#include "core/handshake/engine.hpp"

namespace br::handshake::detail {

inline constexpr std::string_view kPairPrologue = "blueratchet/1.1 pair";
inline constexpr std::string_view kResumePrologue = "blueratchet/1.1 resume";
inline constexpr std::string_view kResumePrologueV10 = "blueratchet/1 resume";

// The X25519 form of our identity: the Noise static key.
X25519KeyPair noise_static_of(const Ed25519KeyPair& identity);

// CERT message: compact certificate || certificate fingerprint, sealed for
// `recipient` under the channel's send key.
Expected<Bytes, Failure> seal_certificate(SessionChannel& channel, const cert::SessionCert& own,
                                          const Hash& h, const Ed25519Public& recipient);

// Opens and checks a peer's CERT message against our own session
// certificate: the fingerprint first (so a refused certificate never reaches
// the replay cache), then the 12 checks of PROTOCOL.md 7.7.
Expected<cert::Certificate, Failure> open_certificate(SessionChannel& channel, const Message& m,
                                                      const cert::SessionCert& own,
                                                      std::uint32_t now, cert::ReplayCache& replay,
                                                      const Hash& h, const Ed25519Public& own_id);

// `pair_code` is the commit-and-reveal code of a first pairing; a resume,
// authenticated by the ratchet seed, shows the fingerprint's short code.
Session make_session(Kind kind, Version version, Role role, const Ed25519Public& own_id,
                     const Ed25519Public& peer_id, const Hash& h, cert::SessionCert own,
                     const cert::Certificate& peer, const std::string& pair_code);

// The peer's identity as a payload carries it: it must be an Ed25519 key
// whose X25519 form is the Noise static key the handshake authenticated, not
// our own key in either sign, and not the other sign of a peer the book
// already stores (one key, one identity: PROTOCOL.md section 2).
Expected<DeviceId, Error> check_identity(ByteView id, const noise::HandshakeState& hs,
                                         const Ed25519KeyPair& own, PeerBook& book);

// PAIR_2's and PAIR_3's payload: an identity followed by a 32-byte value
// (the responder's commitment, the initiator's nonce).
struct IdentityAnd32 {
    ByteView id;
    ByteView value;
};
Expected<IdentityAnd32, Error> split_pair_payload(ByteView payload);

// A finished handshake's hash and transport channel, oriented for `role`.
struct Finished {
    Hash h;
    SessionChannel channel;
    SecretBytes secret;  // the final chaining key's third HKDF output
};
Expected<Finished, Failure> finish(noise::HandshakeState& hs, Role role);

// Our certificate for the session epoch whose seed is `seed`, backdated by
// the clock skew allowance (Settings), in the certificate format of the
// protocol version the handshake speaks (a 1.0 peer checks 1.0's format).
Expected<cert::SessionCert, Failure> mint_own(const Ed25519KeyPair& identity, const DeviceId& peer,
                                              Role role, const SecretBytes& seed,
                                              std::uint32_t epoch, const Hash& h, std::uint32_t now,
                                              const Settings& settings, Version version);

// The 4-byte body of CONFIRM and BOND (a u32).
Bytes u32_plaintext(std::uint32_t v);
std::optional<std::uint32_t> read_u32_plaintext(ByteView plain);

// The u32 a CONFIRM or BOND carries, opened with the channel's receive key
// (Noise on a bad tag, Decode on a wrong length).
Expected<std::uint32_t, Failure> open_u32(SessionChannel& channel, const Message& m);
// A step carrying the peer's BOND passkey, or the failure to open it.
Expected<Step, Failure> bond_step(SessionChannel& channel, const Message& m);

}  // namespace br::handshake::detail
