// Drives an Initiator and a Responder against each other in memory.
#pragma once

#include <deque>
#include <functional>

#include "core/handshake/engine.hpp"
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
    handshake::Initiator ini(a.identity, known, a.book, a.replay, {}, now);
    handshake::Responder res(b.identity, b.book, b.replay, {}, now_b ? now_b : now);
    struct InFlight {
        bool from_a;
        Bytes bytes;
    };
    std::deque<InFlight> q;
    auto take = [&](handshake::Step s, bool from_a) {
        for (auto& m : s.send) q.push_back({from_a, std::move(m)});
        if (s.failure) (from_a ? out.a_fail : out.b_fail) = s.failure;
        return s;
    };
    take(ini.start(), true);
    while (!q.empty()) {
        InFlight m = std::move(q.front());
        q.pop_front();
        if (tamper && !tamper(out.messages, m.from_a, m.bytes)) break;
        ++out.messages;
        if (m.from_a) {
            if (res.state() == handshake::Responder::State::Failed) break;
            auto s = take(res.receive(m.bytes), false);
            if (s.needs_approval) take(res.approve(approve), false);
        } else {
            if (ini.state() == handshake::Initiator::State::Failed) break;
            auto s = take(ini.receive(m.bytes), true);
            if (s.needs_approval) take(ini.approve(approve_a), true);
        }
    }
    out.a = ini.take_session();
    out.b = res.take_session();
    return out;
}

}  // namespace br::test
