// SPDX-License-Identifier: MIT
// blueratchet session certificates: the certificate's fields, its 253-byte
// compact wire form and the equivalent X.509 v3 form (docs/PROTOCOL.md,
// section 7).  The two forms carry the same information: the compact form's
// self_sig is the session key's Ed25519 signature over the DER
// TBSCertificate, which is rebuilt deterministically from the compact
// fields, so compact -> X.509 -> compact is lossless.
//
// This header is about encoding only; minting and checking live in
// session.hpp.
#pragma once

#include <cstdint>
#include <string>

#include "core/crypto/ed25519.hpp"
#include "core/util/bytes.hpp"
#include "core/util/expected.hpp"

namespace br::cert {

// The certificate format: version 2 since protocol 1.1 (a serial that is
// unique per certificate, the epoch in the private extension); version 1,
// protocol 1.0's (serial = epoch), is still minted and accepted in
// sessions with a peer that speaks 1.0 (docs/PROTOCOL.md 7.5 and 11).
inline constexpr std::uint8_t kVersion = 2;
inline constexpr std::uint8_t kVersion10 = 1;
inline constexpr std::size_t kBindingLen = 16;
inline constexpr std::size_t kCompactLen = 1 + 4 + 4 + 4 + 32 + 32 + 32 + kBindingLen + 64 + 64;
static_assert(kCompactLen == 253);

// Every way a certificate operation can fail, each with its own name.
enum class CertError {
    BadLength,           // compact form is not exactly 253 bytes
    DecodeError,         // X.509 form is not exactly the form we write
    UnsupportedVersion,  // version byte is not 1
    WrongSubject,        // subject is not the peer we expected
    WrongPeer,           // made for a different peer than us (or ids swapped)
    WrongEpoch,          // not the epoch we are in (or epoch 0)
    WrongBinding,        // binding is not the start of our handshake hash
    BadValidity,         // not_after <= not_before, or window over the maximum
    NotYetValid,         // now < not_before
    Expired,             // now >= not_after
    BadSelfSignature,    // session key's signature over the TBSCertificate fails
    BadDelegation,       // blinded identity's delegation signature fails
    Replayed,            // this certificate was already accepted
    Invalidated,         // the session was invalidated; its keys are gone
    InvalidArgument,     // a caller passed inputs of the wrong size or kind
};
const char* to_string(CertError e);

// The fields of a certificate (public data only).
struct Certificate {
    std::uint8_t version = kVersion;
    std::uint32_t epoch = 0;
    std::uint32_t not_before = 0;
    std::uint32_t not_after = 0;
    Ed25519Public subject_id{};  // owner's identity key
    Ed25519Public peer_id{};     // the peer it was made for
    Ed25519Public session_pk{};  // the session key this certificate vouches for
    ByteArray<kBindingLen> binding{};
    Ed25519Signature delegation_sig{};
    Ed25519Signature self_sig{};

    bool operator==(const Certificate&) const = default;
};

// Compact form: version u8 || epoch u32 || not_before u32 || not_after u32 ||
// subject_id 32 || peer_id 32 || session_pk 32 || binding 16 ||
// delegation_sig 64 || self_sig 64  (253 bytes, big-endian integers).
Bytes encode_compact(const Certificate& c);
// Bounded decode: BadLength unless exactly 253 bytes, UnsupportedVersion
// unless the version byte is 1 or 2.  No signature is checked here.
Expected<Certificate, CertError> decode_compact(ByteView data);

// The message the blinded identity key signs:
// "blueratchet/1 delegation" || 0x00 || session_pk || u32be(epoch) ||
// u32be(not_before) || u32be(not_after) || binding.
Bytes delegation_message(const Certificate& c);

// Version 2's X.509 serialNumber's content octets, derived from the compact fields
// so that X.509 stays a lossless re-encoding (docs/PROTOCOL.md 7.5):
//   d = SHA-256("blueratchet/1 serial" || compact[0:189])
// (compact[0:189] is every field but self_sig), serial = d[0:16] with its
// first octet set to (d[0] & 0x7f) | 0x40: a positive INTEGER of exactly 16
// content octets in minimal DER (RFC 5280 4.1.2.2 allows up to 20).  Two
// certificates that differ in any field but self_sig get different serials
// (barring a collision in 126 hash bits), so (issuer, serialNumber) names one
// certificate although a device's issuer name is the same for all its peers
// and epochs.
inline constexpr std::size_t kSerialLen = 16;
ByteArray<kSerialLen> serial_number(const Certificate& c);

// DER TBSCertificate built from the fields (self_sig is not part of it).
Bytes tbs_der(const Certificate& c);
// The full X.509 certificate: SEQUENCE { tbs, AlgorithmIdentifier Ed25519,
// BIT STRING self_sig }.
Bytes x509_from_compact(const Certificate& c);
// Parses an X.509 certificate of exactly the form x509_from_compact writes
// (anything else, including a valid but differently encoded certificate, is
// DecodeError; an unknown private-extension version is UnsupportedVersion).
// No signature is checked here.
Expected<Certificate, CertError> compact_from_x509(ByteView der);

// The subject/issuer common name: "blueratchet " + unpadded base64url of
// the identity key (43 characters; the CN is 55, under RFC 5280's 64).
std::string common_name(const Ed25519Public& id);

// The encoded content octets of the private extension's OID,
// 2.25.67695892716141860999721695423955933972
// (UUID 32edc133-5326-44dd-b0a4-04bbbaa71b14).
ByteView extension_oid();
inline constexpr const char* kExtensionOidText = "2.25.67695892716141860999721695423955933972";

// Maximum validity window a verifier accepts and a minter issues (7 days).
inline constexpr std::uint32_t kMaxValiditySeconds = 7 * 24 * 3600;

}  // namespace br::cert
