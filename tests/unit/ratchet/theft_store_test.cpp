// SPDX-License-Identifier: MIT
// The theft of theft_test.cpp, as the audit did it: with the real store.
// Each device is a state directory (identity file and peer records) opened
// with PeerStore and StorePeerBook; the thief is a copy of one device's
// whole state directory, taken with the file system at a point of a resume,
// opened again as a device of its own (the same identity, read from the
// copy's identity file).
#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>

#include "core/handshake/engine.hpp"
#include "core/handshake/store_peer_book.hpp"
#include "core/store/peer_store.hpp"
#include "core/store/state.hpp"

namespace br::test {
namespace {

namespace fs = std::filesystem;
constexpr std::uint32_t kNow = 1'800'000'000;

// One device: its own state directory, as blueratchetd keeps it.
struct StateDevice {
    std::string state_dir;
    store::AdapterDir dir;
    Ed25519KeyPair identity;
    store::PeerStore store;
    handshake::StorePeerBook book;
    cert::ReplayCache replay;

    explicit StateDevice(const std::string& state)
        : state_dir(state),
          dir(std::move(store::AdapterDir::open(state, "AA_BB_CC_DD_EE_FF")).value()),
          identity(std::move(store::load_or_create_identity(dir, kNow)).value()),
          store(std::move(store::PeerStore::open(dir)).value()),
          book(store, kNow) {}
    const handshake::DeviceId& id() const { return identity.public_key(); }
};

struct Result {
    bool a_done = false, b_done = false;
};

// One connection; `before(i)` runs just before message i is delivered.
Result connect(StateDevice& a, StateDevice& b, const std::function<void(int)>& before = nullptr) {
    std::optional<handshake::DeviceId> known;
    if (a.store.find(b.id())) known = b.id();
    handshake::Initiator ini(a.identity, known, a.book, a.replay, {}, kNow);
    handshake::Responder res(b.identity, b.book, b.replay, {}, kNow);
    std::deque<std::pair<bool, Bytes>> q;
    bool failed = false;
    std::function<void(handshake::Step, bool)> take = [&](handshake::Step s, bool from_a) {
        if (s.failure) failed = true;
        for (auto& m : s.send) q.emplace_back(from_a, std::move(m));
        if (s.needs_approval && !s.failure)
            take(from_a ? ini.approve(true) : res.approve(true), from_a);
    };
    take(ini.start(), true);
    int i = 0;
    while (!q.empty() && !failed) {
        auto [from_a, m] = std::move(q.front());
        q.pop_front();
        if (before) before(i);
        ++i;
        take(from_a ? res.receive(m) : ini.receive(m), !from_a);
    }
    return {ini.take_session().has_value(), res.take_session().has_value()};
}

class TempRoot {
  public:
    TempRoot() {
        char tmpl[] = "/tmp/br-theft-XXXXXX";
        path_ = ::mkdtemp(tmpl) ? tmpl : "";
    }
    ~TempRoot() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    std::string operator/(const std::string& n) const { return path_ + "/" + n; }

  private:
    std::string path_;
};

// The whole state directory, copied as a thief with file access would.
void steal(const std::string& from, const std::string& to) {
    fs::remove_all(to);
    fs::copy(from, to, fs::copy_options::recursive);
}

TEST(TheftThroughTheStore, ACopiedStateDirectoryIsLockedOutByOneCleanResume) {
    constexpr const char* kPoints[] = {"before RESUME_1", "before RESUME_2", "before CERT_B",
                                       "before CERT_A",   "before CONFIRM",  "after CONFIRM"};
    for (bool victim_is_b : {true, false}) {
        for (int point = 0; point < 6; ++point) {
            const std::string where = std::string(victim_is_b ? "B's" : "A's") +
                                      " state directory copied " + kPoints[point];
            TempRoot root;
            StateDevice a(root / "a"), b(root / "b");
            ASSERT_TRUE(connect(a, b).a_done) << where;
            ASSERT_TRUE(connect(a, b).a_done) << where;
            const std::string victim_dir = victim_is_b ? b.state_dir : a.state_dir;
            const std::string thief_dir = root / "thief";
            bool stolen = false;
            auto r = connect(a, b, [&](int i) {
                if (i == point) {
                    steal(victim_dir, thief_dir);
                    stolen = true;
                }
            });
            ASSERT_TRUE(r.a_done && r.b_done) << where;
            if (!stolen) steal(victim_dir, thief_dir);
            // Probe the thief against copies of the peer, so nothing real changes.
            auto thief_resumes = [&]() {
                const std::string peer_copy = root / "peer-copy";
                steal(victim_is_b ? a.state_dir : b.state_dir, peer_copy);
                StateDevice thief(thief_dir), peer(peer_copy);
                EXPECT_EQ(thief.id(), victim_is_b ? b.id() : a.id()) << where;
                return victim_is_b ? connect(peer, thief).a_done : connect(thief, peer).b_done;
            };
            const bool current = point > (victim_is_b ? 3 : 2);
            EXPECT_EQ(thief_resumes(), current) << where;
            ASSERT_TRUE(connect(a, b).a_done) << where << ": the clean resume";
            EXPECT_FALSE(thief_resumes()) << where << ": the thief resumes after a clean resume";
        }
    }
}

}  // namespace
}  // namespace br::test
