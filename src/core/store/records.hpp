// SPDX-License-Identifier: MIT
// The store's binary records (docs/PROTOCOL.md section 10): the identity
// record and the per-peer record.  Both share one envelope:
//
//   magic (4) || version u16 || body length u16 || body || SHA-256(everything before)
//
// and the body is a fixed sequence of fields, each `u16be length || bytes`.
// The decoders are bounded (a record is at most a few hundred bytes) and
// every failure is a named StoreErrc; the caller fills in the file name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/util/role.hpp"

#include "core/crypto/ed25519.hpp"
#include "core/crypto/secret.hpp"
#include "core/store/error.hpp"
#include "core/util/bytes.hpp"
#include "core/util/expected.hpp"

namespace br::store {

inline constexpr std::size_t kSeedLen = 32;
inline constexpr std::size_t kPeerIdLen = 32;
inline constexpr std::size_t kMaxAliasLen = 64;  // bytes of UTF-8
inline constexpr std::size_t kAddressLen = 17;   // "AA:BB:CC:DD:EE:FF"
// The record version written.  Peer records: 2 (protocol 1.1: up to three
// seeds and the protocol the pair speaks); version 1 peer records are still
// read.  Identity records: 1.
inline constexpr std::uint16_t kPeerRecordVersion = 2;
inline constexpr std::uint16_t kIdentityRecordVersion = 1;
// Upper bound of any record file the loaders will read.
inline constexpr std::size_t kMaxRecordFile = 1024;
// Seeds a peer record holds (docs/PROTOCOL.md section 6: the initiator holds
// up to three, the responder one).
inline constexpr std::size_t kMaxSeeds = 3;

using PeerId = ByteArray<kPeerIdLen>;

// The protocol version a pair speaks: V1_0 until a 1.1 handshake with the
// peer completed, then V1_1 for good (a 1.0 handshake is refused from then
// on: no downgrade).
enum class PeerProtocol : std::uint8_t { V1_0 = 0, V1_1 = 1 };

// A peer's public metadata: what the PeerStore keeps in memory for every
// peer.  No secrets.
struct PeerInfo {
    PeerId id{};
    Role role = Role::Initiator;  // the role the *peer* plays: whether we resume or wait
    PeerProtocol protocol = PeerProtocol::V1_0;
    // The epoch of each stored seed, in record order (ascending; equal
    // epochs in the order the seeds were made).  1 to kMaxSeeds entries.
    std::vector<std::uint32_t> epochs;
    std::int64_t created_unix = 0;
    std::int64_t last_seen_unix = 0;
    std::string alias;    // UTF-8, at most kMaxAliasLen bytes, no control characters
    std::string address;  // "" or "AA:BB:CC:DD:EE:FF"

    std::uint32_t newest_epoch() const { return epochs.empty() ? 0 : epochs.back(); }
};

// One stored ratchet seed, in guarded memory.
struct StoredSeed {
    std::uint32_t epoch = 0;
    SecretBytes seed{kSeedLen};
};

// A whole peer record: metadata plus seeds (info.epochs lists seeds' epochs).
struct PeerRecord {
    PeerInfo info;
    std::vector<StoredSeed> seeds;
};

// Whether `epochs` is a shape a record may hold: 1..kMaxSeeds entries, none
// zero, ascending, spanning at most two consecutive values, at most two equal.
bool is_valid_seed_shape(const std::vector<std::uint32_t>& epochs);

// A byte buffer that may hold secrets: wiped when destroyed.  Move-only.
class SensitiveBytes {
  public:
    SensitiveBytes() = default;
    explicit SensitiveBytes(Bytes b) : bytes_(std::move(b)) {}
    ~SensitiveBytes() { wipe(); }
    SensitiveBytes(SensitiveBytes&& o) noexcept : bytes_(std::move(o.bytes_)) { o.bytes_.clear(); }
    SensitiveBytes& operator=(SensitiveBytes&& o) noexcept;
    SensitiveBytes(const SensitiveBytes&) = delete;
    SensitiveBytes& operator=(const SensitiveBytes&) = delete;

    ByteView view() const { return bytes_; }
    std::size_t size() const { return bytes_.size(); }
    void wipe();

  private:
    Bytes bytes_;
};

// Checks a record's public fields (alias, address, epochs, timestamps) and
// seed sizes; BadValue / FieldTooLong with a detail saying which.
Expected<void, StoreError> validate_peer_record(const PeerRecord& rec);

// Encodes a peer record (validated first).  The buffer is allocated once, at
// its final size, and wiped when dropped.
Expected<SensitiveBytes, StoreError> encode_peer_record(const PeerRecord& rec);

// Decodes a peer record.  Only the public part: the checksum still covers
// the whole record, but the seeds are not copied anywhere.
Expected<PeerInfo, StoreError> decode_peer_info(ByteView data);
// Decodes a peer record including its seeds (into guarded memory).
Expected<PeerRecord, StoreError> decode_peer_record(ByteView data);

// The identity record: the adapter's Ed25519 seed, its public key (checked
// against the seed on load) and when it was created.
struct IdentityRecord {
    Ed25519KeyPair key;
    std::int64_t created_unix;
};
SensitiveBytes encode_identity_record(const Ed25519KeyPair& key, std::int64_t created_unix);
Expected<IdentityRecord, StoreError> decode_identity_record(ByteView data);

// Helpers shared with the tests.
bool is_valid_alias(std::string_view alias);
bool is_valid_address(std::string_view address);

}  // namespace br::store
