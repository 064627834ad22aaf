// SPDX-License-Identifier: MIT
// The handshake state machines (core/handshake/engine.hpp) under hostile input.
//
// Two fixed identities A (initiator) and B (responder), from fixed seeds, and
// a baseline in which they are paired (epoch 1 on both sides, made by a
// genuine pairing at start-up).  Every input starts fresh from the baseline:
// new books, new replay caches.  The first byte picks the mode, the second
// holds flags; the rest is mode-specific.
//
//   mode 0  B's Responder, B knows nobody; the rest is u16be-length-prefixed
//           messages, each fed to receive() (approve() when asked).
//   mode 1  the same, but B is paired with A, so a (replayed) genuine
//           RESUME_1 from the corpus reaches CHOOSE and beyond.
//   mode 2  A's Initiator, first contact: start(), then the messages.
//   mode 3  A's Initiator, paired with B: start() (RESUME_1), then the messages.
//   mode 4  a live pairing, A against B, with the rest as edits to the
//           messages in flight (xor, truncate, drop, duplicate, replace).
//   mode 5  a live resume from the paired baseline, edited the same way,
//           then a clean resume that must succeed.
//
// Oracles (abort() on violation):
//   modes 0-3: the peer is the fuzzer, who cannot make X25519 or Ed25519
//     outputs, so no step may be `done` and no session may come out;
//   modes 4-5: a side that is done holds a certificate of the genuine peer
//     (subject = the peer, addressed to us, bound to the handshake hash); if
//     both are done, each holds exactly the other's certificate and the
//     fingerprints agree; two books that both know each other still share an
//     (epoch, seed) pair; and after a tampered resume a clean one succeeds
//     (nobody is stranded).
// Flags bit 0: the responder refuses approval.  Bit 1: A's book cannot write.
// Bit 2: B's book cannot write.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "core/cert/certificate.hpp"
#include "core/handshake/engine.hpp"

using namespace br;
using namespace br::handshake;

namespace {

constexpr std::uint32_t kNow = 1'800'000'000;
constexpr std::size_t kMaxMessages = 16;

void check(bool ok) {
    if (!ok) std::abort();
}

using Record = std::vector<std::pair<std::uint32_t, Bytes>>;
using Disk = std::map<DeviceId, Record>;

class FuzzBook : public PeerBook {
  public:
    explicit FuzzBook(Disk disk, bool fail_writes = false)
        : disk(std::move(disk)), fail_writes(fail_writes) {}
    std::optional<handshake::BookEntry> load(const DeviceId& peer) override {
        auto it = disk.find(peer);
        if (it == disk.end()) return std::nullopt;
        std::vector<ratchet::EpochSeed> seeds;
        for (const auto& [e, s] : it->second) seeds.push_back({e, SecretBytes(ByteView(s))});
        auto held = ratchet::Holdings::from(std::move(seeds));
        if (!held) return std::nullopt;
        return handshake::BookEntry{std::move(*held), handshake::Version::V1_1};
    }
    bool has(const DeviceId& peer) override { return disk.count(peer) != 0; }
    Expected<void, std::string> persist(const DeviceId& peer, Role, const ratchet::Holdings& h,
                                        handshake::Version) override {
        if (fail_writes) return unexpected(std::string("test: the write fails"));
        Record rec;
        for (const auto& s : h.seeds()) {
            ByteView v = s.seed.view();
            rec.emplace_back(s.epoch, Bytes(v.begin(), v.end()));
        }
        disk[peer] = std::move(rec);
        return {};
    }
    Disk disk;
    bool fail_writes;
};

Ed25519KeyPair identity(std::uint8_t fill) {
    ByteArray<32> seed{};
    seed.fill(fill);
    return Ed25519KeyPair::from_seed(seed);
}

struct World {
    Ed25519KeyPair a = identity(0x0a);
    Ed25519KeyPair b = identity(0x0b);
    Disk a_paired, b_paired;  // the baseline: A and B paired, epoch 1
};
World* world = nullptr;

bool share_a_seed(const Record& x, const Record& y) {
    for (const auto& [e1, s1] : x)
        for (const auto& [e2, s2] : y)
            if (e1 == e2 && s1 == s2) return true;
    return false;
}

// ------------------------------------------------------------ live exchange

struct Edit {
    std::size_t index;  // which message in flight (0-based, both directions)
    std::uint8_t kind;
    std::size_t param;
    Bytes data;
};

std::vector<Edit> parse_edits(Reader& r) {
    std::vector<Edit> edits;
    while (r.remaining() >= 4 && edits.size() < 8) {
        Edit e;
        e.index = r.u8() % 8;
        e.kind = r.u8() % 5;
        e.param = r.u16be();
        if (e.kind == 0 || e.kind == 4) {
            ByteView d = r.take(std::min<std::size_t>(r.u8(), r.remaining()));
            e.data.assign(d.begin(), d.end());
        }
        edits.push_back(std::move(e));
    }
    return edits;
}

struct Outcome {
    std::optional<Session> a, b;
    bool a_failed = false, b_failed = false;
};

// A's Initiator against B's Responder; `edits` change the messages in flight.
Outcome live(FuzzBook& book_a, FuzzBook& book_b, bool resume, bool approve,
             const std::vector<Edit>& edits) {
    cert::ReplayCache replay_a, replay_b;
    std::optional<DeviceId> known;
    if (resume) known = world->b.public_key();
    Initiator ini(world->a, known, book_a, replay_a, {}, kNow);
    Responder res(world->b, book_b, replay_b, {}, kNow);
    struct InFlight {
        bool from_a;
        Bytes bytes;
    };
    std::deque<InFlight> q;
    Outcome out;
    auto take = [&](Step s, bool from_a) {
        for (auto& m : s.send) q.push_back({from_a, std::move(m)});
        if (s.failure) (from_a ? out.a_failed : out.b_failed) = true;
        if (s.done) check(!s.failure);
        return s.needs_approval;
    };
    take(ini.start(), true);
    std::size_t index = 0;
    while (!q.empty() && index < kMaxMessages) {
        InFlight m = std::move(q.front());
        q.pop_front();
        bool drop = false, duplicate = false;
        for (const Edit& e : edits) {
            if (e.index != index) continue;
            switch (e.kind) {
                case 0:  // xor a mask in at an offset
                    for (std::size_t i = 0; i < e.data.size() && !m.bytes.empty(); ++i)
                        m.bytes[(e.param + i) % m.bytes.size()] ^= e.data[i];
                    break;
                case 1:
                    m.bytes.resize(std::min(m.bytes.size(), e.param % (m.bytes.size() + 1)));
                    break;
                case 2:
                    drop = true;
                    break;
                case 3:
                    duplicate = true;
                    break;
                case 4:
                    m.bytes = e.data;
                    break;
            }
        }
        ++index;
        if (drop) break;  // the link goes down
        for (int n = duplicate ? 2 : 1; n > 0; --n) {
            if (m.from_a) {
                if (take(res.receive(m.bytes), false)) take(res.approve(approve), false);
            } else if (take(ini.receive(m.bytes), true)) {
                take(ini.approve(true), true);
            }
        }
    }
    out.a = ini.take_session();
    out.b = res.take_session();
    return out;
}

// What a session must hold if the genuine peer made its certificate.
void check_session(const Session& s, const Ed25519Public& own, const Ed25519Public& peer,
                   Kind kind) {
    check(s.kind == kind);
    check(s.own_id == own && s.peer_id == peer);
    check(s.peer.subject_id == peer && s.peer.peer_id == own);
    check(std::equal(s.peer.binding.begin(), s.peer.binding.end(), s.handshake_hash.begin()));
    check(s.peer.epoch == s.epoch && s.epoch >= 1);
    auto mine = s.own.certificate();
    check(mine.has_value() && mine->epoch == s.epoch && mine->subject_id == own);
}

void check_outcome(const Outcome& o, Kind kind) {
    const auto& a = world->a.public_key();
    const auto& b = world->b.public_key();
    if (o.a) check_session(*o.a, a, b, kind);
    if (o.b) check_session(*o.b, b, a, kind);
    if (o.a && o.b) {
        check(o.a->fingerprint == o.b->fingerprint);
        check(o.a->handshake_hash == o.b->handshake_hash);
        check(cert::encode_compact(o.a->peer) == *o.b->own.compact());
        check(cert::encode_compact(o.b->peer) == *o.a->own.compact());
    }
}

void run_live(bool resume, std::uint8_t flags, Reader& r) {
    const std::vector<Edit> edits = parse_edits(r);
    FuzzBook book_a(resume ? world->a_paired : Disk{}, flags & 2);
    FuzzBook book_b(resume ? world->b_paired : Disk{}, flags & 4);
    Outcome o = live(book_a, book_b, resume, !(flags & 1), edits);
    check_outcome(o, resume ? Kind::Resume : Kind::Pair);

    const auto ra = book_a.disk.find(world->b.public_key());
    const auto rb = book_b.disk.find(world->a.public_key());
    if (ra != book_a.disk.end() && rb != book_b.disk.end())
        check(share_a_seed(ra->second, rb->second));
    if (!resume) return;
    check(ra != book_a.disk.end() && rb != book_b.disk.end());

    // Nobody is stranded: with the writes working again, a clean resume succeeds.
    book_a.fail_writes = book_b.fail_writes = false;
    Outcome clean = live(book_a, book_b, true, true, {});
    check(clean.a.has_value() && clean.b.has_value());
    check_outcome(clean, Kind::Resume);
}

// ------------------------------------------------------------ hostile peer

// Feeds length-prefixed messages to one engine; the fuzzer is the peer.
void run_hostile(int mode, std::uint8_t flags, Reader& r) {
    cert::ReplayCache replay;
    const bool paired = mode == 1 || mode == 3;
    const bool initiator = mode >= 2;
    FuzzBook book(paired ? (initiator ? world->a_paired : world->b_paired) : Disk{}, flags & 2);
    std::optional<Initiator> ini;
    std::optional<Responder> res;
    auto step_ok = [](const Step& s) {
        check(!s.done);  // nobody but the genuine peer can finish a handshake
    };
    if (initiator) {
        std::optional<DeviceId> known;
        if (paired) known = world->b.public_key();
        ini.emplace(world->a, known, book, replay, Settings{}, kNow);
        Step s = ini->start();
        step_ok(s);
        check(!s.failure && s.send.size() == 1);
        check(ini->kind() == (paired ? Kind::Resume : Kind::Pair));
    } else {
        res.emplace(world->b, book, replay, Settings{}, kNow);
    }
    for (std::size_t n = 0; n < kMaxMessages && r.remaining() >= 2; ++n) {
        const std::size_t len = r.u16be();
        ByteView msg = r.take(std::min(len, r.remaining()));
        if (initiator) {
            Step s = ini->receive(msg);
            step_ok(s);
            if (s.needs_approval) step_ok(ini->approve(true));
        } else {
            Step s = res->receive(msg);
            step_ok(s);
            if (s.needs_approval) {
                check(!res->pending_short_code().empty());
                step_ok(res->approve(!(flags & 1)));
            }
        }
    }
    check(!(ini && ini->take_session()));
    check(!(res && res->take_session()));
    check(!(ini && ini->state() == Initiator::State::Done));
    check(!(res && res->state() == Responder::State::Done));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    world = new World;
    FuzzBook a({}), b({});
    Outcome o = live(a, b, false, true, {});
    if (!o.a || !o.b) std::abort();
    world->a_paired = a.disk;
    world->b_paired = b.disk;
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    Reader r(ByteView(data, size));
    const int mode = r.u8() % 6;
    const std::uint8_t flags = r.u8();
    if (mode >= 4)
        run_live(mode == 5, flags, r);
    else
        run_hostile(mode, flags, r);
    return 0;
}
