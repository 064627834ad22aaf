// SPDX-License-Identifier: MIT
// One blueratchet connection run to completion in memory, both engines in
// this thread behind their handshake::Pumps, recording every message: what
// bench_air measures the air with and bench_store keeps live sessions from.  (bench_core has its
// own loop, which times each side's calls.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "bench_book.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/handshake/engine.hpp"

namespace br::bench {

// A device with its identity (from a fixed seed), an in-memory book and a
// replay cache.
struct Device {
    explicit Device(std::uint8_t seed_fill);
    Ed25519KeyPair identity;
    BenchBook book;
    cert::ReplayCache replay;
};

struct Sent {
    bool from_initiator;
    Bytes bytes;
    std::size_t flight;  // counted from 1; a flight is a run of messages in one direction
};

struct Run {
    bool ok = false;
    std::vector<Sent> sent;
    // The flight whose processing made each side's session ready.
    std::size_t initiator_ready = 0;
    std::size_t responder_ready = 0;
    std::optional<handshake::Session> initiator, responder;
};

// a initiates; with `resume` it offers what its book holds for b, otherwise
// a first contact (b approves it at once).
Run run_handshake(Device& a, Device& b, bool resume, std::uint32_t now_unix);

}  // namespace br::bench
