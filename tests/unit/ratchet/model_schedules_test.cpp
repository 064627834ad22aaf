// SPDX-License-Identifier: MIT
// The schedules of tests/model/ratchet.pml, walked through the real engines.
//
// tests/model/ratchet.pml model-checks the ratchet commit with SPIN; this test
// drives the real Initiator/Responder and PeerBook through the same kind of
// schedule and checks the same properties, so the model and the code cannot
// drift apart unnoticed:
//
//   a schedule  up to kMaxFaults faults per connection, over kConnections
//               consecutive connections; a fault is one of kFaults at one of
//               the kPositions messages of a resume (RESUME_1, RESUME_2,
//               CERT_B, CERT_A, CONFIRM: the k-th message put on the link)
//   (a) shared  after every connection A's and B's books share an identical
//               (epoch, seed) pair
//   (b) shape   B holds one seed; after COMMIT exactly [S']; A holds 1..3
//               seeds of the shape holdings.hpp allows, nothing older than
//               B's epoch - 1; after ADVANCE [S, (newer), S'], after PRUNE
//               only seeds of S's epoch + 1
//   (c) from every state reached, a clean connection resumes and is
//               confirmed, and a second one leaves A holding exactly B's seed
//   and the engines move only along the model's transitions
//   (Initiator Idle -> SentResume1 -> AwaitPeerCert -> AwaitCommitConfirm ->
//   Done, Responder Idle -> AwaitResumeCert -> Done, any -> Failed), writing
//   durable state only at ADVANCE (AwaitPeerCert -> AwaitCommitConfirm),
//   PRUNE (AwaitCommitConfirm -> Done) and COMMIT (AwaitResumeCert -> Done).
//
// Exhaustive over all (kSingle)^kConnections schedules, walked the way SPIN
// walks its state space: what a connection does depends only on the two
// books (up to renaming seeds and shifting epochs) and on the old RESUME_1 the
// attacker holds, so each distinct such state is expanded once, with every
// single-connection schedule, and states already seen are not expanded again.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "pair_test_util.hpp"

namespace br::test {
namespace {

using handshake::Initiator;
using handshake::Responder;

enum class Fault {
    Lose,             // the message never arrives
    Duplicate,        // it arrives twice
    CrashA,           // A is killed: before sending it, or before reading it
    CrashB,           // the same for B
    FailWriteA,       // from this message on, A's writes fail
    FailWriteB,       // from this message on, B's writes fail
    ReplayOldResume1  // before it is delivered, an old RESUME_1 reaches B
};
constexpr Fault kFaults[] = {
    Fault::Lose,       Fault::Duplicate,  Fault::CrashA,          Fault::CrashB,
    Fault::FailWriteA, Fault::FailWriteB, Fault::ReplayOldResume1};
constexpr int kPositions = 5;  // RESUME_1, RESUME_2, CERT_B, CERT_A, CONFIRM
constexpr int kMaxFaults = 2;
constexpr int kConnections = 3;

struct Event {
    int pos;
    Fault fault;
};
using Schedule = std::vector<Event>;

// Every set of at most kMaxFaults distinct (position, fault) events.
std::vector<Schedule> single_connection_schedules() {
    std::vector<Event> events;
    for (int p = 0; p < kPositions; ++p)
        for (Fault f : kFaults) events.push_back({p, f});
    std::vector<Schedule> out{{}};
    for (std::size_t i = 0; i < events.size(); ++i) {
        out.push_back({events[i]});
        for (std::size_t j = i + 1; j < events.size(); ++j) out.push_back({events[i], events[j]});
    }
    static_assert(kMaxFaults == 2, "the enumeration above is for two faults");
    return out;
}

using Disk = std::vector<StoredSeed>;

// What the next connection depends on: the two books and the attacker's stock.
struct World {
    Disk a, b;
    Bytes old_resume1;                   // an earlier RESUME_1 A put on the link
    std::vector<std::uint32_t> offered;  // the epochs it offered
};

// Canonical form: epochs relative to the oldest, seeds named by first use.
std::string key_of(const World& w) {
    std::uint32_t base = UINT32_MAX;
    for (const auto& s : w.a) base = std::min(base, s.epoch);
    for (const auto& s : w.b) base = std::min(base, s.epoch);
    for (auto e : w.offered) base = std::min(base, e);
    std::map<Bytes, int> names;
    std::string k;
    auto add = [&](const char* tag, const Disk& d) {
        k += tag;
        for (const auto& s : d) {
            auto [it, fresh] = names.emplace(s.seed, static_cast<int>(names.size()));
            k += std::to_string(s.epoch - base) + "/" + std::to_string(it->second) + " ";
        }
    };
    add("A:", w.a);
    add("B:", w.b);
    k += "R:";
    for (auto e : w.offered) k += std::to_string(e - base) + " ";
    return k;
}

struct Result {
    bool a_done = false, b_done = false;
    bool a_confirmed = false;                // A read CONFIRM and pruned
    std::uint32_t a_epoch = 0, b_epoch = 0;  // session epochs when done
    std::optional<Bytes> resume1;            // A's RESUME_1, if it reached the link
    std::vector<std::string> violations;     // engine moves outside the model
};

bool initiator_move_ok(Initiator::State from, Initiator::State to) {
    using S = Initiator::State;
    if (from == S::SentResume1) return to == S::AwaitPeerCert || to == S::Failed;
    if (from == S::AwaitPeerCert) return to == S::AwaitCommitConfirm || to == S::Failed;
    if (from == S::AwaitCommitConfirm) return to == S::Done || to == S::Failed;
    return false;
}
bool responder_move_ok(Responder::State from, Responder::State to) {
    using S = Responder::State;
    if (from == S::Idle) return to == S::AwaitResumeCert || to == S::Failed;
    if (from == S::AwaitResumeCert) return to == S::Done || to == S::Failed;
    return false;
}
bool finished(Initiator::State s) {
    return s == Initiator::State::Done || s == Initiator::State::Failed;
}
bool finished(Responder::State s) {
    return s == Responder::State::Done || s == Responder::State::Failed;
}

// One connection under `sched`, as the model's Initiator and Responder
// processes run it: a killed side reads and sends nothing more, but what it
// already sent is delivered; a finished engine (Done/Failed) leaves the link.
Result run_connection(Device& a, Device& b, const World& w, const Schedule& sched) {
    a.book.disk.clear();
    a.book.disk[b.id()] = w.a;
    b.book.disk.clear();
    b.book.disk[a.id()] = w.b;
    a.book.fail_writes = b.book.fail_writes = false;
    Result r;
    auto has = [&](int idx, Fault f) {
        return std::any_of(sched.begin(), sched.end(),
                           [&](const Event& e) { return e.pos == idx && e.fault == f; });
    };
    Initiator ini(a.identity, b.id(), a.book, a.replay, {}, kNow);
    Responder res(b.identity, b.book, b.replay, {}, kNow);
    bool a_alive = true, b_alive = true, replayed = false;
    struct Msg {
        bool from_a;
        Bytes bytes;
        int index;
        bool copy;
    };
    std::deque<Msg> link;
    int next_index = 0;
    auto emit = [&](handshake::Step s, bool from_a) {
        for (auto& m : s.send) {
            const int idx = next_index++;
            bool& alive = from_a ? a_alive : b_alive;
            if (!alive) continue;
            if (has(idx, from_a ? Fault::CrashA : Fault::CrashB)) {  // killed before sending
                alive = false;
                continue;
            }
            if (from_a && idx == 0) r.resume1 = m;  // seen by the attacker, even if then lost
            if (has(idx, Fault::Lose)) continue;
            link.push_back({from_a, m, idx, false});
            if (has(idx, Fault::Duplicate)) link.push_back({from_a, std::move(m), idx, true});
        }
    };
    auto to_b = [&](ByteView bytes) {
        if (!b_alive || finished(res.state())) return;
        const auto before = res.state();
        const int writes = b.book.writes;
        auto step = res.receive(bytes);
        const auto after = res.state();
        if (!responder_move_ok(before, after))
            r.violations.push_back("responder moved outside the model");
        const bool commit =
            before == Responder::State::AwaitResumeCert && after == Responder::State::Done;
        if (b.book.writes != writes && !commit)
            r.violations.push_back("responder wrote outside COMMIT");
        emit(std::move(step), false);
    };
    auto to_a = [&](ByteView bytes) {
        if (!a_alive || finished(ini.state())) return;
        const auto before = ini.state();
        const int writes = a.book.writes;
        auto step = ini.receive(bytes);
        const auto after = ini.state();
        if (!initiator_move_ok(before, after))
            r.violations.push_back("initiator moved outside the model");
        const bool advance = before == Initiator::State::AwaitPeerCert &&
                             after == Initiator::State::AwaitCommitConfirm;
        const bool prune =
            before == Initiator::State::AwaitCommitConfirm && after == Initiator::State::Done;
        if (a.book.writes != writes && !advance && !prune)
            r.violations.push_back("initiator wrote outside ADVANCE and PRUNE");
        if (prune) r.a_confirmed = true;
        emit(std::move(step), true);
    };

    {  // OFFER
        const int writes = a.book.writes;
        auto step = ini.start();
        if (ini.state() != Initiator::State::SentResume1 || a.book.writes != writes)
            r.violations.push_back("start() is not OFFER: Idle -> SentResume1, no write");
        emit(std::move(step), true);
    }
    while (!link.empty()) {
        Msg m = std::move(link.front());
        link.pop_front();
        if (!m.copy) {
            if (has(m.index, Fault::FailWriteA)) a.book.fail_writes = true;
            if (has(m.index, Fault::FailWriteB)) b.book.fail_writes = true;
            if (has(m.index, Fault::ReplayOldResume1) && !replayed) {
                replayed = true;
                to_b(w.old_resume1);
            }
            if (has(m.index, m.from_a ? Fault::CrashB : Fault::CrashA))  // killed before reading
                (m.from_a ? b_alive : a_alive) = false;
        }
        if (m.from_a)
            to_b(m.bytes);
        else
            to_a(m.bytes);
    }
    a.book.fail_writes = b.book.fail_writes = false;
    if (auto s = ini.take_session()) r.a_done = true, r.a_epoch = s->epoch;
    if (ini.state() != Initiator::State::Done) r.a_confirmed = false;
    if (auto s = res.take_session()) r.b_done = true, r.b_epoch = s->epoch;
    return r;
}

std::string describe(const World& w) {
    std::string s = "A {";
    for (const auto& x : w.a) s += " " + std::to_string(x.epoch);
    s += " } B {";
    for (const auto& x : w.b) s += " " + std::to_string(x.epoch);
    return s + " }";
}

std::string describe(const Schedule& sched) {
    static const char* names[] = {
        "lose",         "duplicate",          "crash-A", "crash-B", "fail-write-A",
        "fail-write-B", "replay-old-RESUME_1"};
    std::string s;
    for (const auto& e : sched)
        s += std::string(names[static_cast<int>(e.fault)]) + "@" + std::to_string(e.pos) + " ";
    return s.empty() ? "no fault" : s;
}

bool same_disk(const Disk& x, const Disk& y) {
    return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin());
}

bool valid_shape(const Disk& d) {
    std::vector<ratchet::EpochSeed> seeds;
    for (const auto& s : d) seeds.push_back({s.epoch, SecretBytes(ByteView(s.seed))});
    return ratchet::Holdings::from(std::move(seeds)).has_value();
}

// (a) and (b) on the books after a connection that started from `before`.
void check_books(const World& before, const World& after, const Result& r,
                 const std::string& where) {
    const Disk& a = after.a;
    const Disk& b = after.b;
    ASSERT_TRUE(share_a_seed(a, b)) << "stranded: " << where;
    ASSERT_TRUE(a.size() >= 1 && a.size() <= 3) << where;
    ASSERT_TRUE(valid_shape(a)) << where;
    ASSERT_EQ(b.size(), 1u) << where;
    EXPECT_GE(a.front().epoch + 1, b.front().epoch) << "A holds an old seed: " << where;
    if (r.a_confirmed) {  // ADVANCE then PRUNE: only the new epoch is left
        for (const auto& s : a) EXPECT_EQ(s.epoch, r.a_epoch) << where;
        EXPECT_NE(std::find(a.begin(), a.end(), b[0]), a.end()) << where;
    } else if (r.a_done) {  // ADVANCE to [S, (one newer), S']
        ASSERT_GE(a.size(), 2u) << where;
        EXPECT_EQ(a.front().epoch + 1, r.a_epoch) << where;
        EXPECT_EQ(a.back().epoch, r.a_epoch) << where;
    } else {
        EXPECT_TRUE(same_disk(a, before.a)) << "A changed its holdings without ADVANCE: " << where;
    }
    if (r.b_done) {  // COMMIT to [S']: seed S wiped
        EXPECT_EQ(b[0].epoch, r.b_epoch) << where;
        EXPECT_EQ(b[0].epoch, before.b[0].epoch + 1) << where;
    } else {
        EXPECT_TRUE(same_disk(b, before.b)) << "B changed its holdings without COMMIT: " << where;
    }
}

TEST(ModelSchedules, EveryScheduleOfTheSpinModelKeepsThePairResumable) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto schedules = single_connection_schedules();
    ASSERT_EQ(schedules.size(), 1u + 35u + 35u * 34u / 2u);

    Device a, b;
    ASSERT_TRUE(connect(a, b).a);  // paired: both hold {1}
    World start{a.book.disk[b.id()], b.book.disk[a.id()], {}, {}};
    {  // the attacker's first stock: a RESUME_1 from a link that died at once
        Initiator ini(a.identity, b.id(), a.book, a.replay, {}, kNow);
        auto s = ini.start();
        ASSERT_EQ(s.send.size(), 1u);
        start.old_resume1 = s.send[0];
        start.offered = {1};
    }

    std::set<std::string> seen{key_of(start)};
    std::vector<World> frontier{start}, all_states{start};
    long walked = 0, completed_b = 0, completed_a = 0, confirmed_a = 0;
    for (int conn = 1; conn <= kConnections; ++conn) {
        std::vector<World> next;
        for (const World& w : frontier) {
            for (const Schedule& sched : schedules) {
                Result r = run_connection(a, b, w, sched);
                ++walked;
                const std::string where = "connection " + std::to_string(conn) + " from " +
                                          describe(w) + " under " + describe(sched);
                for (const auto& v : r.violations) ADD_FAILURE() << v << ": " << where;
                World after{a.book.disk[b.id()], b.book.disk[a.id()], w.old_resume1, w.offered};
                if (r.resume1) {
                    after.old_resume1 = *r.resume1;
                    after.offered.clear();
                    for (const auto& s : w.a) after.offered.push_back(s.epoch);
                }
                check_books(w, after, r, where);
                if (HasFatalFailure()) return;
                completed_a += r.a_done;
                completed_b += r.b_done;
                confirmed_a += r.a_confirmed;
                if (seen.insert(key_of(after)).second) {
                    next.push_back(after);
                    all_states.push_back(after);
                }
            }
        }
        frontier = std::move(next);
    }

    // (c): from every state reached, a clean connection resumes and is
    // confirmed; a second one leaves A holding exactly B's seed.
    for (const World& w : all_states) {
        Result r = run_connection(a, b, w, {});
        World after{a.book.disk[b.id()], b.book.disk[a.id()], {}, {}};
        ASSERT_TRUE(r.a_done && r.b_done && r.a_confirmed)
            << "no clean resume from " << describe(w);
        ASSERT_TRUE(r.violations.empty()) << r.violations.front();
        check_books(w, after, r, "clean connection from " + describe(w));
        EXPECT_EQ(after.b[0].epoch, w.b[0].epoch + 1);
        Result r2 = run_connection(a, b, after, {});
        ASSERT_TRUE(r2.a_confirmed && r2.b_done) << "no second clean resume from " << describe(w);
        ASSERT_EQ(a.book.disk[b.id()].size(), 1u) << "after two clean resumes from " << describe(w);
        EXPECT_EQ(a.book.disk[b.id()][0], b.book.disk[a.id()][0]);
    }

    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    long covered = 1;
    for (int i = 0; i < kConnections; ++i) covered *= static_cast<long>(schedules.size());
    std::cout << "model schedules: " << walked << " connection schedules walked through the real"
              << " engines (" << schedules.size() << " per state, " << seen.size()
              << " distinct states over " << kConnections << " connections), covering all "
              << covered << " " << kConnections << "-connection schedules; " << completed_a
              << " ADVANCE, " << completed_b << " COMMIT, " << confirmed_a << " PRUNE; "
              << all_states.size() << " clean resumes; " << secs << " s\n";
}

}  // namespace
}  // namespace br::test
