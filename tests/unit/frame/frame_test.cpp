// SPDX-License-Identifier: MIT
#include "core/frame/frame.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace br::frame {
namespace {

Bytes pattern(std::size_t n, std::uint32_t salt = 0) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 31 + salt * 7 + 1);
    return b;
}

std::vector<Bytes> frags(ByteView msg, std::size_t mtu) {
    auto f = fragment(msg, mtu);
    EXPECT_TRUE(f) << "mtu " << mtu << " size " << msg.size();
    return f ? *f : std::vector<Bytes>{};
}

// Feeds fragments in order; returns the delivered messages or the first error.
struct FeedResult {
    std::vector<Bytes> delivered;
    std::optional<FrameError> error;
};
FeedResult feed_all(Reassembler& r, const std::vector<Bytes>& fs) {
    FeedResult out;
    for (const Bytes& f : fs) {
        auto res = r.feed(f);
        if (!res) {
            out.error = res.error();
            return out;
        }
        if (res->has_value()) out.delivered.push_back(**res);
    }
    return out;
}

TEST(Fragment, RoundTripEveryMtuAndSize) {
    const std::size_t mtus[] = {23, 24, 27, 100, 185, 247, 251, 512, 517};
    const std::size_t sizes[] = {1, 19, 20, 21, 253, 512, 1024};
    for (std::size_t mtu : mtus) {
        for (std::size_t size : sizes) {
            SCOPED_TRACE(testing::Message() << "mtu " << mtu << " size " << size);
            Bytes msg = pattern(size, static_cast<std::uint32_t>(mtu));
            auto fs = frags(msg, mtu);
            ASSERT_FALSE(fs.empty());
            // Shape: every fragment fits, headers are right, count is minimal.
            std::size_t expected_count = 1;
            if (size > first_capacity(mtu)) {
                expected_count +=
                    (size - first_capacity(mtu) + next_capacity(mtu) - 1) / next_capacity(mtu);
            }
            EXPECT_EQ(fs.size(), expected_count);
            EXPECT_LE(fs.size(), kMaxFragmentsPerMessage);
            for (std::size_t i = 0; i < fs.size(); ++i) {
                ASSERT_FALSE(fs[i].empty());
                EXPECT_LE(fs[i].size(), mtu - kAttOverhead);
                const std::uint8_t h = fs[i][0];
                EXPECT_EQ((h & kFlagFirst) != 0, i == 0);
                EXPECT_EQ((h & kFlagLast) != 0, i + 1 == fs.size());
                EXPECT_EQ(h & kSeqMask, i % 64);
            }
            EXPECT_EQ(fs[0][1], size >> 8);
            EXPECT_EQ(fs[0][2], size & 0xff);

            Reassembler r;
            auto res = feed_all(r, fs);
            ASSERT_FALSE(res.error) << to_string(*res.error);
            ASSERT_EQ(res.delivered.size(), 1u);
            EXPECT_EQ(res.delivered[0], msg);
            EXPECT_FALSE(r.in_progress());
        }
    }
}

TEST(Fragment, SingleFragmentHasFirstAndLast) {
    auto fs = frags(as_bytes("hi"), 23);
    ASSERT_EQ(fs.size(), 1u);
    EXPECT_EQ(to_hex(fs[0]), "c000026869");
}

TEST(Fragment, WorstCaseFragmentCount) {
    // kMaxMessage at the minimum MTU: 17 bytes in the first fragment, 19 after.
    auto fs = frags(pattern(kMaxMessage), kMinAttMtu);
    EXPECT_EQ(fs.size(), 54u);
}

TEST(Fragment, RejectsBadArguments) {
    Bytes msg = pattern(10);
    EXPECT_EQ(fragment(msg, 22).error(), FrameError::BadMtu);
    EXPECT_EQ(fragment(msg, 518).error(), FrameError::BadMtu);
    EXPECT_EQ(fragment(msg, 0).error(), FrameError::BadMtu);
    EXPECT_EQ(fragment({}, 23).error(), FrameError::BadLength);
    Bytes big = pattern(kMaxMessage + 1);
    EXPECT_EQ(fragment(big, 517).error(), FrameError::Oversized);
    Bytes max = pattern(kMaxMessage);
    EXPECT_TRUE(fragment(max, 517));
}

TEST(Reassembler, ConsecutiveMessages) {
    Reassembler r;
    for (std::uint32_t i = 0; i < 20; ++i) {
        Bytes msg = pattern(1 + i * 50, i);
        auto res = feed_all(r, frags(msg, 23 + i * 3));
        ASSERT_FALSE(res.error);
        ASSERT_EQ(res.delivered.size(), 1u);
        EXPECT_EQ(res.delivered[0], msg);
    }
}

TEST(Reassembler, EmptyFragment) {
    Reassembler r;
    EXPECT_EQ(r.feed({}).error(), FrameError::Empty);
}

TEST(Reassembler, TruncatedHeaders) {
    for (Bytes f : {Bytes{0xc0}, Bytes{0xc0, 0x00}, Bytes{0x80}, Bytes{0x80, 0x01}}) {
        Reassembler r;
        EXPECT_EQ(r.feed(f).error(), FrameError::TruncatedHeader) << to_hex(f);
        EXPECT_FALSE(r.in_progress());
    }
}

TEST(Reassembler, DeclaredLengths) {
    Reassembler r;
    EXPECT_EQ(r.feed(Bytes{0xc0, 0x00, 0x00}).error(), FrameError::BadLength);
    EXPECT_EQ(r.feed(Bytes{0x80, 0x04, 0x01, 0xaa}).error(), FrameError::Oversized);
    EXPECT_EQ(r.feed(Bytes{0x80, 0xff, 0xff}).error(), FrameError::Oversized);
    // Exactly the maximum is accepted.
    auto ok = r.feed(Bytes{0x80, 0x04, 0x00, 0xaa});
    ASSERT_TRUE(ok);
    EXPECT_FALSE(ok->has_value());
    EXPECT_TRUE(r.in_progress());
    EXPECT_EQ(r.buffered(), 1u);
}

TEST(Reassembler, SmallerConfiguredMaximum) {
    Reassembler r(kMaxFragmentsPerMessage, 100);
    EXPECT_EQ(r.feed(Bytes{0x80, 0x00, 101}).error(), FrameError::Oversized);
    auto ok = r.feed(Bytes{0xc0, 0x00, 1, 7});
    ASSERT_TRUE(ok);
    EXPECT_EQ(**ok, Bytes{7});
}

TEST(Reassembler, FragmentLongerThanAnyMtu) {
    Reassembler r;
    Bytes f(kMaxFragment + 1, 0);
    f[0] = 0x80;
    f[1] = 0x02;
    EXPECT_EQ(r.feed(f).error(), FrameError::Oversized);
}

TEST(Reassembler, UnexpectedContinuation) {
    Reassembler r;
    EXPECT_EQ(r.feed(Bytes{0x01, 0xaa}).error(), FrameError::UnexpectedContinuation);
    EXPECT_EQ(r.feed(Bytes{0x41, 0xaa}).error(), FrameError::UnexpectedContinuation);
    EXPECT_EQ(r.feed(Bytes{0x00}).error(), FrameError::UnexpectedContinuation);
}

TEST(Reassembler, Interrupted) {
    Reassembler r;
    ASSERT_TRUE(r.feed(Bytes{0x80, 0x00, 0x04, 1, 2}));
    EXPECT_EQ(r.feed(Bytes{0xc0, 0x00, 0x01, 9}).error(), FrameError::Interrupted);
    EXPECT_FALSE(r.in_progress());
    // Reset after the error: a fresh message goes through.
    auto ok = r.feed(Bytes{0xc0, 0x00, 0x01, 9});
    ASSERT_TRUE(ok);
    EXPECT_EQ(**ok, Bytes{9});
}

TEST(Reassembler, OutOfOrder) {
    Reassembler r;
    ASSERT_TRUE(r.feed(Bytes{0x80, 0x00, 0x04, 1}));
    EXPECT_EQ(r.feed(Bytes{0x02, 2}).error(), FrameError::OutOfOrder);
    // A FIRST fragment must carry sequence number 0.
    EXPECT_EQ(r.feed(Bytes{0xc1, 0x00, 0x01, 1}).error(), FrameError::OutOfOrder);
}

TEST(Reassembler, Overrun) {
    Reassembler r;
    EXPECT_EQ(r.feed(Bytes{0xc0, 0x00, 0x01, 1, 2}).error(), FrameError::Overrun);
    ASSERT_TRUE(r.feed(Bytes{0x80, 0x00, 0x02, 1}));
    EXPECT_EQ(r.feed(Bytes{0x01, 2, 3}).error(), FrameError::Overrun);
}

TEST(Reassembler, Underrun) {
    Reassembler r;
    EXPECT_EQ(r.feed(Bytes{0xc0, 0x00, 0x02, 1}).error(), FrameError::Underrun);
    ASSERT_TRUE(r.feed(Bytes{0x80, 0x00, 0x03, 1}));
    EXPECT_EQ(r.feed(Bytes{0x41, 2}).error(), FrameError::Underrun);
}

TEST(Reassembler, EmptyLastFragmentCompletes) {
    Reassembler r;
    ASSERT_TRUE(r.feed(Bytes{0x80, 0x00, 0x02, 1, 2}));
    auto ok = r.feed(Bytes{0x41});
    ASSERT_TRUE(ok);
    EXPECT_EQ(**ok, (Bytes{1, 2}));
}

TEST(Reassembler, TooManyFragments) {
    // Empty continuation fragments do not grow the buffer, but are counted.
    Reassembler r;
    ASSERT_TRUE(r.feed(Bytes{0x80, 0x00, 0x01}));
    std::optional<FrameError> err;
    std::size_t fed = 1;
    for (std::uint8_t seq = 1; !err && fed < 200; ++seq, ++fed) {
        auto res = r.feed(Bytes{static_cast<std::uint8_t>(seq & kSeqMask)});
        if (!res) err = res.error();
    }
    ASSERT_TRUE(err);
    EXPECT_EQ(*err, FrameError::TooManyFragments);
    EXPECT_EQ(fed, kMaxFragmentsPerMessage + 1);
    EXPECT_FALSE(r.in_progress());
}

TEST(Reassembler, ConfiguredFragmentBound) {
    Bytes msg = pattern(100);
    auto fs = frags(msg, 23);  // 17 + 19 * 5 -> 6 fragments
    ASSERT_EQ(fs.size(), 6u);
    Reassembler tight(5);
    EXPECT_EQ(feed_all(tight, fs).error, FrameError::TooManyFragments);
    Reassembler exact(6);
    EXPECT_EQ(feed_all(exact, fs).delivered.size(), 1u);
}

TEST(Reassembler, EveryErrorHasAName) {
    for (int e = 0; e <= static_cast<int>(FrameError::TooManyFragments); ++e) {
        std::string s = to_string(static_cast<FrameError>(e));
        EXPECT_FALSE(s.empty());
        EXPECT_NE(s, "unknown frame error");
    }
}

// A mutated stream either is still a legitimate stream (a prefix of the
// original message repeated) or the reassembler reports an error; it never
// delivers anything but the original message.
bool is_legit_prefix(const std::vector<Bytes>& s, const std::vector<Bytes>& o) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != o[i % o.size()]) return false;
    }
    return true;
}

TEST(ReassemblerProperty, ReorderDropDuplicateDetected) {
    std::mt19937 rng(0xb1e5eedu);
    const std::size_t mtus[] = {23, 24, 27, 100, 185, 247};
    std::size_t trials = 0, errors = 0, legit = 0;
    for (int t = 0; t < 20000; ++t) {
        const std::size_t mtu = mtus[rng() % std::size(mtus)];
        const std::size_t size = 1 + rng() % kMaxMessage;
        Bytes msg = pattern(size, static_cast<std::uint32_t>(t));
        auto orig = frags(msg, mtu);
        std::vector<Bytes> s = orig;
        const int ops = 1 + static_cast<int>(rng() % 3);
        for (int k = 0; k < ops && !s.empty(); ++k) {
            const std::size_t i = rng() % s.size();
            switch (rng() % 4) {
                case 0:  // drop
                    s.erase(s.begin() + static_cast<std::ptrdiff_t>(i));
                    break;
                case 1: {  // duplicate to a random position
                    const std::size_t j = rng() % (s.size() + 1);
                    Bytes copy = s[i];
                    s.insert(s.begin() + static_cast<std::ptrdiff_t>(j), std::move(copy));
                    break;
                }
                case 2: {  // swap two
                    const std::size_t j = rng() % s.size();
                    std::swap(s[i], s[j]);
                    break;
                }
                default:  // shuffle a window
                    const std::size_t j = i + rng() % (s.size() - i);
                    std::shuffle(s.begin() + static_cast<std::ptrdiff_t>(i),
                                 s.begin() + static_cast<std::ptrdiff_t>(j + 1), rng);
                    break;
            }
        }
        if (s == orig) continue;
        ++trials;
        Reassembler r;
        auto res = feed_all(r, s);
        for (const Bytes& d : res.delivered) ASSERT_EQ(d, msg) << "trial " << t;
        if (is_legit_prefix(s, orig)) {
            ++legit;
            EXPECT_FALSE(res.error) << "trial " << t;
            EXPECT_EQ(res.delivered.size(), s.size() / orig.size());
        } else {
            ASSERT_TRUE(res.error) << "undetected mutation, trial " << t;
            ++errors;
        }
    }
    EXPECT_GT(trials, 16000u);
    EXPECT_EQ(errors + legit, trials);
    EXPECT_GT(errors, trials * 3 / 4);
    std::printf("property: %zu mutated streams, %zu detected, %zu still legitimate prefixes\n",
                trials, errors, legit);
}

// Random bytes never crash or overrun the buffer bound.
TEST(ReassemblerProperty, RandomFragmentsStayBounded) {
    std::mt19937 rng(42);
    Reassembler r;
    for (int t = 0; t < 20000; ++t) {
        Bytes f(rng() % 40);
        for (auto& b : f) b = static_cast<std::uint8_t>(rng());
        if (!f.empty() && rng() % 2) f[0] &= static_cast<std::uint8_t>(~kFlagFirst);
        auto res = r.feed(f);
        EXPECT_LE(r.buffered(), kMaxMessage);
        if (res && res->has_value()) {
            EXPECT_GE((*res)->size(), 1u);
            EXPECT_LE((*res)->size(), kMaxMessage);
        }
    }
}

}  // namespace
}  // namespace br::frame
