// SPDX-License-Identifier: MIT
#include "engine_run.hpp"

#include "core/handshake/pump.hpp"

#include <deque>
#include <memory>
#include <utility>

namespace br::bench {
namespace {

Ed25519KeyPair from_fill(std::uint8_t fill) {
    ByteArray<32> seed{};
    seed.fill(fill);
    return Ed25519KeyPair::from_seed(seed);
}

}  // namespace

Device::Device(std::uint8_t seed_fill) : identity(from_fill(seed_fill)) {}

Run run_handshake(Device& a, Device& b, bool resume, std::uint32_t now_unix) {
    Run run;
    std::optional<handshake::DeviceId> known;
    if (resume) known = b.identity.public_key();
    std::deque<std::size_t> queue;  // indexes into run.sent, in delivery order
    std::size_t delivering = 0;     // the flight of the message being processed
    bool failed = false;
    handshake::Pump* pumps[2] = {};  // [0] a, the initiator; [1] b
    auto transport = [&](bool from_a) {
        // Whole messages: the air is bench_air's business (it frames run.sent).
        return handshake::PumpTransport{
            [&, from_a](ByteView m) {
                std::size_t flight = run.sent.empty() ? 1 : run.sent.back().flight;
                if (!run.sent.empty() && run.sent.back().from_initiator != from_a) ++flight;
                run.sent.push_back({from_a, Bytes(m.begin(), m.end()), flight});
                queue.push_back(run.sent.size() - 1);
                return true;
            },
            std::nullopt};
    };
    auto events = [&](int side) {
        handshake::PumpEvents ev;
        // Both users say yes at once (the responder's REVEAL is already out).
        ev.approval_needed = [&pumps, side](const std::string&) { pumps[side]->approve(true); };
        ev.session = [&, side](handshake::Session s) {
            (side == 0 ? run.initiator_ready : run.responder_ready) = delivering;
            (side == 0 ? run.initiator : run.responder) = std::move(s);
        };
        ev.failed = [&failed](const handshake::PumpFailure&) { failed = true; };
        return ev;
    };
    handshake::Pump pump_a(transport(true), events(0));
    handshake::Pump pump_b(transport(false), events(1));
    pumps[0] = &pump_a;
    pumps[1] = &pump_b;
    pump_b.serve(std::make_unique<handshake::Responder>(b.identity, b.book, b.replay,
                                                        handshake::Settings{}, now_unix));
    pump_a.start(std::make_unique<handshake::Initiator>(a.identity, known, a.book, a.replay,
                                                        handshake::Settings{}, now_unix));
    while (!queue.empty() && !failed) {
        const Sent m = run.sent[queue.front()];
        queue.pop_front();
        delivering = m.flight;
        (m.from_initiator ? pump_b : pump_a).receive(m.bytes);
    }
    run.ok = !failed && run.initiator && run.responder;
    return run;
}

}  // namespace br::bench
