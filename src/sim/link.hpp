// SPDX-License-Identifier: MIT
// An in-memory GATT-like link with virtual time: it carries the fragments
// each side's handshake::Pump cuts at the ATT MTU (src/core/frame/); each
// fragment may be lost, and arrives after the configured one-way latency.
// Nothing sleeps: time is simulated.
#pragma once

#include <cstdint>
#include <queue>
#include <random>
#include <vector>

#include "core/frame/frame.hpp"
#include "core/util/bytes.hpp"

namespace br::sim {

struct LinkParams {
    std::size_t att_mtu = 247;
    double latency_ms = 7.5;  // one connection interval, typical for BLE
    double loss = 0.0;        // probability that a fragment is lost
};

struct DirectionStats {
    std::size_t messages = 0;
    std::size_t message_bytes = 0;  // protocol messages, before framing (FIRST headers' L)
    std::size_t fragments = 0;
    std::size_t air_bytes = 0;  // ATT payloads incl. fragment headers, plus 3-byte ATT headers
    std::size_t lost_fragments = 0;
};

class Link {
  public:
    Link(LinkParams params, std::mt19937_64& rng) : params_(params), rng_(rng) {}

    // Side 0 is the central (A), side 1 the peripheral (B).  One fragment
    // (one ATT write or notification); a FIRST fragment counts a message.
    void send_fragment(int from, ByteView fragment);

    struct Arrival {
        int to;
        Bytes fragment;
    };
    // The next fragment in time order, advancing virtual time; nullopt when
    // nothing is in flight.
    std::optional<Arrival> next();

    double now_ms() const { return now_ms_; }
    void advance(double ms) { now_ms_ += ms; }
    const DirectionStats& stats(int from) const { return stats_[from]; }
    // Changes of direction + 1: the number of flights sent so far.
    int flights() const { return flights_; }

  private:
    struct InFlight {
        double at_ms;
        std::uint64_t order;
        int to;
        Bytes fragment;
        bool operator>(const InFlight& o) const {
            return at_ms != o.at_ms ? at_ms > o.at_ms : order > o.order;
        }
    };
    LinkParams params_;
    std::mt19937_64& rng_;
    std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> queue_;
    double now_ms_ = 0;
    std::uint64_t order_ = 0;
    DirectionStats stats_[2];
    int last_sender_ = -1;
    int flights_ = 0;
};

}  // namespace br::sim
