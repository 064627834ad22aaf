// SPDX-License-Identifier: MIT
// The ratchet commit under random schedules of dropped links, crashes and
// failed writes, run through the real handshake code.
//
// A crash is modelled exactly: the engines live only in memory, so killing a
// process at any point is the same as dropping every message from then on;
// what survives is what PeerBook::persist() wrote (atomic, as the store is).
// After every schedule the two books must still share an (epoch, seed) pair,
// and a clean connection must then resume.
#include <gtest/gtest.h>

#include <random>

#include "pair_test_util.hpp"

namespace br::test {
namespace {

constexpr int kSchedules = 2000;

TEST(RatchetProperty, RandomDropsCrashesAndFailedWritesNeverStrandThePair) {
    std::mt19937_64 rng(0xb1e5eed);
    Device a, b;
    ASSERT_TRUE(connect(a, b).a);

    int dropped = 0, write_failures = 0, replays = 0, completed = 0;
    std::vector<Bytes> seen_resume1;
    for (int i = 0; i < kSchedules; ++i) {
        // 1. A connection that may be cut after any message (link loss, or
        //    either process killed), with writes that may fail on either side.
        const int cut = static_cast<int>(rng() % 7);  // 0..4 cut there, 5..6 no cut
        a.book.fail_writes = rng() % 10 == 0;
        b.book.fail_writes = rng() % 10 == 0;
        write_failures += a.book.fail_writes + b.book.fail_writes;
        auto r = connect(a, b, true, [&](int idx, bool from_a, Bytes& m) {
            if (idx == 0 && from_a) seen_resume1.push_back(m);
            return cut >= 5 || idx < cut;
        });
        if (cut < 5) ++dropped;
        a.book.fail_writes = b.book.fail_writes = false;

        // 2. Sometimes an attacker replays an old RESUME_1 to B.
        if (!seen_resume1.empty() && rng() % 8 == 0) {
            handshake::Responder res(b.identity, b.book, b.replay, {}, kNow);
            (void)res.receive(seen_resume1[rng() % seen_resume1.size()]);
            ++replays;
        }

        // The invariant: both sides still hold a common (epoch, seed).
        ASSERT_TRUE(share_a_seed(a.book.disk[b.id()], b.book.disk[a.id()]))
            << "stranded after schedule " << i;
        ASSERT_LE(a.book.disk[b.id()].size(), 3u);
        ASSERT_EQ(b.book.disk[a.id()].size(), 1u);

        // 3. Every few schedules, a clean connection must resume.
        if (i % 10 == 9) {
            auto clean = connect(a, b);
            ASSERT_TRUE(clean.a && clean.b)
                << "schedule " << i << ": " << (clean.a_fail ? clean.a_fail->describe() : "")
                << (clean.b_fail ? clean.b_fail->describe() : "");
            ++completed;
            // No old seed survives a confirmed commit: B holds only the new
            // seed, A holds it too and nothing older (at most a sibling of
            // the same epoch, made by an unconfirmed resume before).
            const auto& bs = b.book.disk[a.id()];
            ASSERT_EQ(bs.size(), 1u);
            EXPECT_EQ(bs[0].epoch, clean.b->epoch);
            const auto& as = a.book.disk[b.id()];
            EXPECT_NE(std::find(as.begin(), as.end(), bs[0]), as.end());
            for (const auto& s : as) EXPECT_EQ(s.epoch, clean.a->epoch);
        }
    }
    std::cout << "ratchet property: " << kSchedules << " schedules, " << dropped << " cut links, "
              << write_failures << " failed writes, " << replays << " replayed RESUME_1, "
              << completed << " clean resumes, never stranded\n";
}

}  // namespace
}  // namespace br::test
