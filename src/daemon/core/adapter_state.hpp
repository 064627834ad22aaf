// One local Bluetooth adapter as the core sees it: its identity, its peer
// store and the state of its pairing window.  Each adapter is its own
// blueratchet device (docs/DAEMON.md, "one identity per adapter").
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "core/cert/session.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/handshake/store_peer_book.hpp"
#include "core/store/peer_store.hpp"
#include "core/store/state.hpp"
#include "core/time/clock.hpp"

namespace br::daemon {

struct AdapterState {
    std::string path;     // "/org/bluez/hci0"
    std::string name;     // "hci0"
    std::string address;  // "AA:BB:CC:DD:EE:FF"
    bool powered = false;

    store::AdapterDir dir;
    Ed25519KeyPair identity;
    store::PeerStore store;
    handshake::StorePeerBook book;
    cert::ReplayCache replay;
    time::LastKnownGood clock;
    std::optional<std::chrono::steady_clock::time_point> window_until;

    AdapterState(std::string p, std::string n, std::string a, store::AdapterDir d,
                 Ed25519KeyPair id, store::PeerStore s, const time::Clock& c,
                 time::UnixSeconds persisted)
        : path(std::move(p)),
          name(std::move(n)),
          address(std::move(a)),
          dir(std::move(d)),
          identity(std::move(id)),
          store(std::move(s)),
          book(store),
          clock(c, persisted) {}

    bool window_open() const {
        return window_until && std::chrono::steady_clock::now() < *window_until;
    }
    std::uint32_t window_remaining() const {
        if (!window_open()) return 0;
        auto left = std::chrono::duration_cast<std::chrono::seconds>(
            *window_until - std::chrono::steady_clock::now());
        return static_cast<std::uint32_t>(left.count());
    }
    std::uint32_t now() const { return static_cast<std::uint32_t>(clock.now()); }

    // The time handed to the handshake engine.  The engine (core/handshake,
    // as of 6f42ee1) mints its certificate with not_before = now and checks
    // the peer's with the same now, so the two sides' values must be
    // *equal*: any skew between the two clocks, or a second boundary
    // between the initiator's start and the responder's first message, makes
    // the peer certificate NotYetValid (seen on the testbed: a resume failed
    // that way).  Until the engine backdates not_before or tolerates skew,
    // both daemons use the wall time rounded down to a kHandshakeTimeGrid
    // grid: equal unless a grid boundary falls between the two readings
    // (about (skew + latency) / 60 of handshakes), and never later than the
    // real time, so certificates are at most 59 s backdated.
    static constexpr std::uint32_t kHandshakeTimeGrid = 60;
    std::uint32_t handshake_now() const { return now() / kHandshakeTimeGrid * kHandshakeTimeGrid; }
};

}  // namespace br::daemon
