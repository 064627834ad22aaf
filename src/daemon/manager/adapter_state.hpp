// SPDX-License-Identifier: MIT
// One local Bluetooth adapter as the core sees it: its identity, its peer
// store and the state of its pairing window.  Each adapter is its own
// blueratchet device (docs/DAEMON.md, "one identity per adapter").
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "core/cert/session.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/handshake/store_peer_book.hpp"
#include "core/store/peer_store.hpp"
#include "core/store/state.hpp"
#include "core/time/clock.hpp"
#include "daemon/loop.hpp"
#include "daemon/manager/first_contact_limiter.hpp"

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
    Loop::TimerId window_timer = 0;  // closes the window when it is up
    FirstContactLimiter first_contacts;
    // Peers (stored as protocol 1.0) that answered our 1.1 resume the way a
    // 1.0 build answers a message type it does not know: resumed in 1.0
    // until the daemon restarts (docs/PROTOCOL.md section 11).  Volatile on
    // purpose: the hint is unauthenticated.
    std::set<handshake::DeviceId> speaks_1_0;

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

    // `now`: the loop's monotonic time (Loop::now()).
    bool window_open(std::chrono::steady_clock::time_point now) const {
        return window_until && now < *window_until;
    }
    std::uint32_t window_remaining(std::chrono::steady_clock::time_point now) const {
        if (!window_open(now)) return 0;
        auto left = std::chrono::duration_cast<std::chrono::seconds>(*window_until - now);
        return static_cast<std::uint32_t>(left.count());
    }
    std::uint32_t now() const { return static_cast<std::uint32_t>(clock.now()); }

    // The time handed to the handshake engine: the last-known-good wall
    // time.  The two devices' clocks differ; the engine tolerates that by
    // minting certificates with not_before backdated by
    // handshake::Settings::clock_skew_seconds.
    std::uint32_t handshake_now() const { return now(); }
};

}  // namespace br::daemon
