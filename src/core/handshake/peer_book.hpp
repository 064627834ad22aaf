// What the handshake needs from durable storage, as an interface so that the
// protocol core runs the same against the on-disk store (daemon, sim) and
// against the crash-injecting book of the property tests.
#pragma once

#include <optional>

#include "core/crypto/ed25519.hpp"
#include "core/ratchet/holdings.hpp"

namespace br::handshake {

using DeviceId = Ed25519Public;

// Which side of the pair the *peer* plays.  Stored so a daemon knows whether
// to resume as initiator or wait as responder.
enum class PeerRole : std::uint8_t { Initiator = 1, Responder = 2 };

class PeerBook {
  public:
    virtual ~PeerBook() = default;

    // The seeds held for `peer`, loaded into guarded memory; nullopt when the
    // peer is unknown (or its record cannot be read).
    virtual std::optional<ratchet::Holdings> holdings(const DeviceId& peer) = 0;

    // Durably replaces the peer's holdings (creating the peer when new).
    // Returns only once the data would survive a crash; false when it could
    // not be written, in which case the stored state is unchanged and the
    // handshake aborts without sending what the write was meant to precede.
    virtual bool persist(const DeviceId& peer, PeerRole role, const ratchet::Holdings& h) = 0;
};

}  // namespace br::handshake
