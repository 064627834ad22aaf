// SPDX-License-Identifier: MIT
// Drives an Initiator and a Responder against each other in memory, each
// behind the handshake::Pump every product link uses.
#pragma once

#include <deque>
#include <functional>
#include <memory>

#include "core/handshake/engine.hpp"
#include "core/handshake/pump.hpp"
#include "memory_book.hpp"

namespace br::test {

inline constexpr std::uint32_t kNow = 1'800'000'000;

struct Device {
    Ed25519KeyPair identity = Ed25519KeyPair::generate();
    MemoryBook book;
    cert::ReplayCache replay;
    const handshake::DeviceId& id() const { return identity.public_key(); }
};

struct Outcome {
    std::optional<handshake::Session> a, b;
    std::optional<handshake::Failure> a_fail, b_fail;
    int messages = 0;
};

// Runs one connection to completion.  `tamper(index, from_a, bytes)` may
// change a message in flight or return false to drop it and end the link.
// `approve` is B's verdict on a first contact, `approve_a` A's.
inline Outcome connect(Device& a, Device& b, bool approve = true,
                       std::function<bool(int, bool, Bytes&)> tamper = nullptr,
                       std::uint32_t now = kNow, std::uint32_t now_b = 0, bool approve_a = true) {
    Outcome out;
    std::optional<handshake::DeviceId> known;
    if (a.book.disk.count(b.id())) known = b.id();
    // Each engine behind its pump, whole messages both ways (the framing has
    // its own tests): the queue is the wire, where `tamper` reaches in.
    struct InFlight {
        bool from_a;
        Bytes bytes;
    };
    std::deque<InFlight> q;
    auto wire = [&q](bool from_a) {
        return handshake::PumpTransport{[&q, from_a](ByteView m) {
                                            q.push_back({from_a, Bytes(m.begin(), m.end())});
                                            return true;
                                        },
                                        std::nullopt};
    };
    handshake::Pump* pumps[2] = {};
    auto events = [&](bool side_a) {
        handshake::PumpEvents ev;
        ev.approval_needed = [&, side_a](const std::string&) {
            pumps[side_a ? 0 : 1]->approve(side_a ? approve_a : approve);
        };
        ev.session = [&out, side_a](handshake::Session s) {
            (side_a ? out.a : out.b) = std::move(s);
        };
        ev.failed = [&out, side_a](const handshake::PumpFailure& f) {
            // Whole messages cannot break the framing; the one failure that
            // is not the engine's is a message after the responder's
            // session, which the engine itself would call Finished.
            (side_a ? out.a_fail : out.b_fail) =
                f.handshake ? *f.handshake : handshake::Failure::of(handshake::Error::Finished);
        };
        return ev;
    };
    handshake::Pump pump_a(wire(true), events(true));
    handshake::Pump pump_b(wire(false), events(false));
    pumps[0] = &pump_a;
    pumps[1] = &pump_b;
    pump_b.serve(std::make_unique<handshake::Responder>(
        b.identity, b.book, b.replay, handshake::Settings{}, now_b ? now_b : now));
    pump_a.start(std::make_unique<handshake::Initiator>(a.identity, known, a.book, a.replay,
                                                        handshake::Settings{}, now));
    while (!q.empty()) {
        InFlight m = std::move(q.front());
        q.pop_front();
        if (tamper && !tamper(out.messages, m.from_a, m.bytes)) break;
        ++out.messages;
        handshake::Pump& to = m.from_a ? pump_b : pump_a;
        if (to.state() == handshake::Pump::State::Failed) break;
        to.receive(m.bytes);
    }
    return out;
}

}  // namespace br::test
