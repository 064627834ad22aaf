// SPDX-License-Identifier: MIT
// What the handshake needs from durable storage, as an interface so that the
// protocol core runs the same against the on-disk store (daemon, sim) and
// against the crash-injecting book of the property tests.
#pragma once

#include <optional>
#include <string>

#include "core/crypto/ed25519.hpp"
#include "core/ratchet/holdings.hpp"
#include "core/util/expected.hpp"
#include "core/util/role.hpp"

namespace br::handshake {

using DeviceId = Ed25519Public;

// The protocol version a pair speaks (docs/PROTOCOL.md section 11).  A pair
// stored by a 1.0 build is V1_0 until a 1.1 handshake completes; from then
// on it is V1_1 for good and a 1.0 handshake with that peer is refused.
enum class Version : std::uint8_t { V1_0 = 0, V1_1 = 1 };
const char* to_string(Version v);

// A stored peer: its seeds and the version the pair speaks.
struct BookEntry {
    ratchet::Holdings held;
    Version version = Version::V1_0;
};

class PeerBook {
  public:
    virtual ~PeerBook() = default;

    // The seeds held for `peer`, loaded into guarded memory, and the pair's
    // version; nullopt when the peer is unknown (or its record cannot be
    // read).
    virtual std::optional<BookEntry> load(const DeviceId& peer) = 0;

    // Whether a record exists for exactly this identity (no secrets read).
    virtual bool has(const DeviceId& peer) = 0;

    // Durably replaces the peer's holdings and version (creating the peer
    // when new).  Returns only once the data would survive a crash; the
    // store's own words (path, errno: what an operator acts on) when it
    // could not be written, in which case the stored state is unchanged and
    // the handshake aborts (PersistFailed, with those words) without sending
    // what the write was meant to precede.
    virtual Expected<void, std::string> persist(const DeviceId& peer, Role role,
                                                const ratchet::Holdings& h, Version version) = 0;
};

}  // namespace br::handshake
