// SPDX-License-Identifier: MIT
// A thief with a copy of one side's durable state (its identity key and its
// seeds for the peer), taken at any point of a resume: what it can still do
// afterwards (docs/SECURITY.md section 2, docs/PROTOCOL.md section 6).
//
// Audit item 1 (issue #10): under protocol 1.0, A kept seed_e until its next
// ADVANCE, so a copy of B's state at epoch e could answer A's next resume
// choosing e, and A's ADVANCE then overwrote the real e+1 with the thief's
// branch: the real B was stranded and the thief kept the pair.  1.1's CONFIRM
// lets A drop seed_e as soon as B committed, and ADVANCE keeps a newer seed
// A already holds.
#include <gtest/gtest.h>

#include <iostream>

#include "pair_test_util.hpp"

namespace br::test {
namespace {

using handshake::Error;

// The messages of a resume in the order they are delivered; a theft "at i"
// copies the victim's disk just before message i is delivered, and at 5
// after the last one.
constexpr const char* kPoints[] = {"before RESUME_1", "before RESUME_2", "before CERT_B",
                                   "before CERT_A",   "before CONFIRM",  "after CONFIRM"};
constexpr int kPointCount = 6;

// A second device with the same identity key and a copy of a book.
struct Copy {
    Ed25519KeyPair identity;
    MemoryBook book;
    cert::ReplayCache replay;
    explicit Copy(const Device& victim)
        : identity(Ed25519KeyPair::from_seed(victim.identity.seed())), book(victim.book) {}
    void into(Device& d) const {
        d.identity = Ed25519KeyPair::from_seed(identity.seed());
        d.book = book;
    }
};

Device clone_of(const Device& d) {
    Device c;
    c.identity = Ed25519KeyPair::from_seed(d.identity.seed());
    c.book = d.book;
    return c;
}

// Whether a thief holding `stolen` (a copy of `victim_side`) completes a
// resume against `peer`, tried on copies so nothing real changes.
bool thief_resumes(const Copy& stolen, bool victim_is_b, const Device& a, const Device& b) {
    Device thief;
    stolen.into(thief);
    Device peer = clone_of(victim_is_b ? a : b);
    auto r = victim_is_b ? connect(peer, thief) : connect(thief, peer);
    if (r.a && r.b) return true;
    // It failed the way a thief with no current seed fails: no common epoch.
    const auto& f = victim_is_b ? r.a_fail : r.b_fail;
    EXPECT_TRUE(f);
    if (f && victim_is_b) {
        EXPECT_EQ(f->error, Error::PeerAborted);
        EXPECT_EQ(*f->abort, handshake::AbortReason::NoCommonEpoch);
    } else if (f) {
        EXPECT_EQ(f->error, Error::NoCommonEpoch);
    }
    return false;
}

// Theft of either side's state at every point of a resume.  After the next
// clean resume the thief took no part in, it resumes with neither side; and
// where the copy predates that resume's durable write on the victim (B's
// COMMIT, A's ADVANCE), that very resume already locks it out.
TEST(Theft, AtEveryPointOfAResumeOneCleanResumeLocksTheThiefOut) {
    for (bool victim_is_b : {true, false}) {
        for (int point = 0; point < kPointCount; ++point) {
            const std::string where =
                std::string(victim_is_b ? "B" : "A") + " stolen " + kPoints[point];
            Device a, b;
            ASSERT_TRUE(connect(a, b).a);
            ASSERT_TRUE(connect(a, b).a);
            ASSERT_TRUE(connect(a, b).a);  // epoch 3: nothing special about epoch 1
            std::optional<Copy> stolen;
            Device& victim = victim_is_b ? b : a;
            auto k = connect(a, b, true, [&](int i, bool, Bytes&) {
                if (i == point) stolen.emplace(victim);
                return true;
            });
            ASSERT_TRUE(k.a && k.b) << where;
            if (!stolen) stolen.emplace(victim);

            // The victim's durable write of resume k: B's COMMIT is CERT_A's
            // delivery (message 3), A's ADVANCE is CERT_B's (message 2).
            const int write_at = victim_is_b ? 3 : 2;
            const bool copy_has_current_seed = point > write_at;
            EXPECT_EQ(thief_resumes(*stolen, victim_is_b, a, b), copy_has_current_seed) << where;

            auto clean = connect(a, b);
            ASSERT_TRUE(clean.a && clean.b) << where;
            EXPECT_FALSE(thief_resumes(*stolen, victim_is_b, a, b))
                << where << ": the thief still resumes after a clean resume";
            std::cout << "theft of " << (victim_is_b ? "B" : "A") << "'s state " << kPoints[point]
                      << ": the thief "
                      << (copy_has_current_seed ? "still resumes until the next clean resume"
                                                : "is locked out by that very resume")
                      << ", and after the next clean one\n";
        }
    }
}

// The audit's own sequence, literally: the thief holds B's state from epoch
// e; one clean resume; A then connects to the thief posing as B.  Under 1.0
// the thief resumed and the real B failed with `decryption failed` from then
// on; now the thief gets ABORT(NoCommonEpoch) and B resumes.
TEST(Theft, TheAuditsSequenceNoLongerLetsTheThiefTakeThePair) {
    Device a, b;
    ASSERT_TRUE(connect(a, b).a);
    ASSERT_TRUE(connect(a, b).a);
    Device thief = clone_of(b);
    ASSERT_TRUE(connect(a, b).a);  // the clean resume after the theft
    auto to_thief = connect(a, thief);
    EXPECT_FALSE(to_thief.a) << "A resumed with the thief posing as B";
    ASSERT_TRUE(to_thief.a_fail);
    EXPECT_EQ(to_thief.a_fail->error, Error::PeerAborted);
    EXPECT_EQ(*to_thief.a_fail->abort, handshake::AbortReason::NoCommonEpoch);
    for (int i = 0; i < 2; ++i) {
        auto to_b = connect(a, b);
        EXPECT_TRUE(to_b.a && to_b.b) << (to_b.a_fail ? to_b.a_fail->describe() : "");
    }
}

// A resume that chooses e while A holds e+1 must not replace e+1.  B
// committed e+1 but its CONFIRM never reached A (A holds {e, e+1}); a copy
// of B's older state answers A's next resume choosing e.  A keeps the real
// e+1 (whether or not the thief confirms), so the real B resumes next, and
// that resume drops the thief's branch.
TEST(Theft, AnOlderSeedCannotOverwriteANewerOneTheRealPeerHolds) {
    for (bool thief_confirms : {true, false}) {
        const std::string where = thief_confirms ? "thief confirms" : "thief does not confirm";
        Device a, b;
        ASSERT_TRUE(connect(a, b).a);
        ASSERT_TRUE(connect(a, b).a);
        Device thief = clone_of(b);  // B at epoch 2
        auto lost = connect(a, b, true, [](int i, bool, Bytes&) { return i != 4; });
        ASSERT_TRUE(lost.a && lost.b);
        ASSERT_EQ(a.book.disk[b.id()].size(), 2u);  // {2, 3}: CONFIRM lost
        ASSERT_EQ(b.book.disk[a.id()][0].epoch, 3u);

        auto forged =
            connect(a, thief, true, [&](int i, bool, Bytes&) { return thief_confirms || i != 4; });
        EXPECT_TRUE(forged.a) << where << ": the thief holds a seed A holds; it resumes once";
        EXPECT_EQ(forged.a->epoch, 3u);
        EXPECT_TRUE(share_a_seed(a.book.disk[b.id()], b.book.disk[a.id()]))
            << where << ": the thief's resume destroyed the seed A shares with the real B";

        auto real = connect(a, b);
        ASSERT_TRUE(real.a && real.b)
            << where << ": " << (real.a_fail ? real.a_fail->describe() : "");
        EXPECT_EQ(real.a->epoch, 4u);
        ASSERT_EQ(a.book.disk[b.id()].size(), 1u) << where;
        EXPECT_EQ(a.book.disk[b.id()][0], b.book.disk[a.id()][0]);
        auto again = connect(a, thief);
        EXPECT_FALSE(again.a) << where << ": the thief still resumes after the real B's resume";
    }
}

}  // namespace
}  // namespace br::test
