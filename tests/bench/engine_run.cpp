#include "engine_run.hpp"

#include <deque>
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
    handshake::Initiator ini(a.identity, known, a.book, a.replay, handshake::Settings{}, now_unix);
    handshake::Responder res(b.identity, b.book, b.replay, handshake::Settings{}, now_unix);
    std::deque<std::size_t> queue;  // indexes into run.sent, in delivery order
    bool failed = false;
    auto take = [&](const handshake::Step& s, bool from_a) {
        for (const Bytes& m : s.send) {
            std::size_t flight = run.sent.empty() ? 1 : run.sent.back().flight;
            if (!run.sent.empty() && run.sent.back().from_initiator != from_a) ++flight;
            run.sent.push_back({from_a, m, flight});
            queue.push_back(run.sent.size() - 1);
        }
        if (s.failure) failed = true;
    };
    take(ini.start(), true);
    while (!queue.empty() && !failed) {
        const Sent m = run.sent[queue.front()];
        queue.pop_front();
        if (m.from_initiator) {
            handshake::Step s = res.receive(m.bytes);
            if (s.needs_approval && !s.failure) {
                take(s, false);  // REVEAL goes out before the verdict
                s = res.approve(true);
            }
            if (s.done) run.responder_ready = m.flight;
            take(s, false);
        } else {
            handshake::Step s = ini.receive(m.bytes);
            if (s.needs_approval && !s.failure) s = ini.approve(true);  // ACCEPT
            if (s.done) run.initiator_ready = m.flight;
            take(s, true);
        }
    }
    run.initiator = ini.take_session();
    run.responder = res.take_session();
    run.ok = !failed && run.initiator && run.responder;
    return run;
}

}  // namespace br::bench
