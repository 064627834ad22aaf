// SPDX-License-Identifier: MIT
// Pairs stored by protocol 1.0 and the upgrade to 1.1 (docs/PROTOCOL.md
// section 11): a stored pair is never stranded by upgrading either side, and
// once a pair has spoken 1.1 it never goes back.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "core/handshake/store_peer_book.hpp"
#include "core/store/peer_store.hpp"
#include "core/store/state.hpp"
#include "pair_test_util.hpp"

namespace br::test {
namespace {

using handshake::Error;
using handshake::MessageType;
using handshake::Version;

// A responder that has not been upgraded.  Protocol 1.0's decoder knew the
// types 0x01-0x04, 0x11, 0x12, 0x20 and 0x7f and answered any other type with
// ABORT(ProtocolError); for the types it knew, the 1.0 code path of our
// Responder is 1.0's own (same messages, prologue, COMMIT, no CONFIRM).
struct Version10Responder {
    handshake::Responder inner;
    handshake::Step receive(ByteView wire) {
        auto m = handshake::decode(wire);
        if (m) {
            switch (m->type) {
                case MessageType::Pair1:
                case MessageType::Pair2:
                case MessageType::Pair3:
                case MessageType::Reveal:
                case MessageType::Resume1V10:
                case MessageType::Resume2V10:
                case MessageType::Cert:
                case MessageType::Abort:
                    return inner.receive(wire);
                default:
                    break;
            }
        }
        handshake::Step s;
        s.send.push_back(handshake::encode_abort(handshake::AbortReason::ProtocolError));
        s.failure = handshake::Failure::decode(handshake::DecodeError::UnknownType);
        return s;
    }
};

struct Run {
    std::optional<handshake::Session> a, b;
    std::optional<handshake::Failure> a_fail, b_fail;
    int messages = 0;
    bool a_may_speak_1_0 = false;
};

// One resume, A speaking `a_version`, B upgraded or not.
Run resume(Device& a, Device& b, Version a_version, bool b_upgraded) {
    handshake::Initiator ini(a.identity, b.id(), a.book, a.replay, {}, kNow);
    if (a_version == Version::V1_0) ini.resume_in_1_0();
    handshake::Responder res(b.identity, b.book, b.replay, {}, kNow);
    Version10Responder old{handshake::Responder(b.identity, b.book, b.replay, {}, kNow)};
    Run run;
    std::deque<std::pair<bool, Bytes>> q;
    auto take = [&](handshake::Step s, bool from_a) {
        for (auto& m : s.send) q.emplace_back(from_a, std::move(m));
        if (s.failure) (from_a ? run.a_fail : run.b_fail) = s.failure;
    };
    take(ini.start(), true);
    while (!q.empty()) {
        auto [from_a, bytes] = std::move(q.front());
        q.pop_front();
        ++run.messages;
        if (from_a) {
            if (run.b_fail) break;
            take(b_upgraded ? res.receive(bytes) : old.receive(bytes), false);
        } else {
            if (run.a_fail) break;
            take(ini.receive(bytes), true);
        }
    }
    run.a = ini.take_session();
    run.b = b_upgraded ? res.take_session() : old.inner.take_session();
    run.a_may_speak_1_0 = ini.peer_may_speak_only_1_0();
    return run;
}

// A pair as protocol 1.0 left it: a few 1.0 resumes, A holding {e, e+1}.
void make_version10_pair(Device& a, Device& b) {
    ASSERT_TRUE(connect(a, b).a);
    a.book.versions[b.id()] = Version::V1_0;
    b.book.versions[a.id()] = Version::V1_0;
    for (int i = 0; i < 3; ++i) {
        auto r = resume(a, b, Version::V1_0, false);
        ASSERT_TRUE(r.a && r.b) << (r.a_fail ? r.a_fail->describe() : "");
        EXPECT_EQ(r.messages, 4);  // 1.0: no CONFIRM
    }
    ASSERT_EQ(a.book.disk[b.id()].size(), 2u);
    ASSERT_EQ(a.book.versions[b.id()], Version::V1_0);
}

TEST(Upgrade, OnlyTheCentralUpgradedFallsBackTo10AndKeepsResuming) {
    Device a, b;
    make_version10_pair(a, b);
    const auto a_before = a.book.disk[b.id()];
    const auto b_before = b.book.disk[a.id()];
    auto first = resume(a, b, Version::V1_1, /*b_upgraded=*/false);
    EXPECT_FALSE(first.a);
    ASSERT_TRUE(first.a_fail);
    EXPECT_EQ(first.a_fail->error, Error::PeerAborted);
    EXPECT_TRUE(first.a_may_speak_1_0);
    EXPECT_EQ(a.book.disk[b.id()], a_before);  // nothing changed on either side
    EXPECT_EQ(b.book.disk[a.id()], b_before);
    for (int i = 0; i < 3; ++i) {
        auto r = resume(a, b, Version::V1_0, false);
        ASSERT_TRUE(r.a && r.b) << (r.a_fail ? r.a_fail->describe() : "");
        EXPECT_EQ(r.a->version, Version::V1_0);
        EXPECT_TRUE(share_a_seed(a.book.disk[b.id()], b.book.disk[a.id()]));
    }
    EXPECT_EQ(a.book.versions[b.id()], Version::V1_0);  // not pinned: B never spoke 1.1
}

TEST(Upgrade, OnlyThePeripheralUpgradedServesThe10Resume) {
    Device a, b;
    make_version10_pair(a, b);
    for (int i = 0; i < 3; ++i) {
        auto r = resume(a, b, Version::V1_0, /*b_upgraded=*/true);
        ASSERT_TRUE(r.a && r.b) << (r.b_fail ? r.b_fail->describe() : "");
        EXPECT_EQ(r.messages, 4);
        EXPECT_EQ(r.b->version, Version::V1_0);
    }
    EXPECT_EQ(b.book.versions[a.id()], Version::V1_0);
}

TEST(Upgrade, BothUpgradedSpeak11AndNeverGoBack) {
    Device a, b;
    make_version10_pair(a, b);
    auto r = resume(a, b, Version::V1_1, true);
    ASSERT_TRUE(r.a && r.b) << (r.a_fail ? r.a_fail->describe() : "")
                            << (r.b_fail ? r.b_fail->describe() : "");
    EXPECT_EQ(r.messages, 5);
    EXPECT_EQ(r.a->version, Version::V1_1);
    EXPECT_EQ(a.book.versions[b.id()], Version::V1_1);
    EXPECT_EQ(b.book.versions[a.id()], Version::V1_1);
    ASSERT_EQ(a.book.disk[b.id()].size(), 1u);  // CONFIRMed: the 1.0 leftovers are gone

    // Pinned: A refuses to speak 1.0 to B ...
    auto down = resume(a, b, Version::V1_0, true);
    ASSERT_TRUE(down.a_fail);
    EXPECT_EQ(down.a_fail->error, Error::VersionDowngrade);
    // ... and B refuses a 1.0 resume from A (here from a copy of A's state
    // that still believes the pair speaks 1.0: what a downgrade attack or a
    // reinstalled 1.0 build would send), changing nothing.
    Device old_a;
    old_a.identity = Ed25519KeyPair::from_seed(a.identity.seed());
    old_a.book = a.book;
    old_a.book.versions[b.id()] = Version::V1_0;
    const auto b_before = b.book.disk[a.id()];
    auto refused = resume(old_a, b, Version::V1_0, true);
    ASSERT_TRUE(refused.b_fail);
    EXPECT_EQ(refused.b_fail->error, Error::VersionDowngrade);
    EXPECT_EQ(b.book.disk[a.id()], b_before);
    auto ok = resume(a, b, Version::V1_1, true);
    EXPECT_TRUE(ok.a && ok.b);
}

// The same through the real store: record files exactly as a 1.0 build
// wrote them (record version 1) on both sides resume in 1.1, and are then
// rewritten as version 2 records pinned to 1.1.
TEST(Upgrade, StateDirectoriesWrittenBy10ResumeThroughTheStore) {
    Device a, b;
    make_version10_pair(a, b);
    char tmpl[] = "/tmp/br-upgrade-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string base = tmpl;
    auto write_v1 = [&](const std::string& adapter, const Device& owner, const Device& peer,
                        Role role) {
        auto dir = store::AdapterDir::open(base, adapter);
        ASSERT_TRUE(dir) << dir.error().message();
        auto ps = store::PeerStore::open(*dir);
        ASSERT_TRUE(ps);
        store::PeerRecord rec{store::PeerInfo{}, {}};
        rec.info.id = peer.id();
        rec.info.role = role;
        for (const auto& s : owner.book.disk.at(peer.id())) {
            rec.info.epochs.push_back(s.epoch);
            rec.seeds.push_back(store::StoredSeed{s.epoch, SecretBytes(ByteView(s.seed))});
        }
        // Record version 1, as PROTOCOL.md section 10 described it for 1.0.
        Bytes body;
        auto field = [&](ByteView v) {
            append_u16be(body, static_cast<std::uint16_t>(v.size()));
            append(body, v);
        };
        auto u = [&](std::uint64_t v, std::size_t n) {
            Bytes x;
            for (std::size_t k = 0; k < n; ++k)
                x.push_back(static_cast<std::uint8_t>(v >> (8 * (n - 1 - k))));
            field(x);
        };
        field(rec.info.id);
        u(static_cast<std::uint8_t>(role), 1);
        u(rec.seeds[0].epoch, 4);
        field(rec.seeds[0].seed.view());
        const bool pending = rec.seeds.size() > 1;
        u(pending, 1);
        u(pending ? rec.seeds[1].epoch : 0, 4);
        const Bytes zero(32, 0);
        field(pending ? rec.seeds[1].seed.view() : ByteView(zero));
        u(kNow, 8);
        u(kNow, 8);
        field({});
        field({});
        Bytes file = {'B', 'R', 'P', '1', 0, 1};
        append_u16be(file, static_cast<std::uint16_t>(body.size()));
        append(file, body);
        append(file, sha256(file));
        FILE* f = std::fopen(ps->file_of(peer.id()).c_str(), "wb");
        ASSERT_NE(f, nullptr);
        ASSERT_EQ(std::fwrite(file.data(), 1, file.size(), f), file.size());
        std::fclose(f);
    };
    write_v1("A", a, b, Role::Responder);
    write_v1("B", b, a, Role::Initiator);
    auto dir_a = store::AdapterDir::open(base, "A");
    auto dir_b = store::AdapterDir::open(base, "B");
    auto store_a = store::PeerStore::open(*dir_a);
    auto store_b = store::PeerStore::open(*dir_b);
    ASSERT_TRUE(store_a && store_b);
    ASSERT_TRUE(store_a->problems().empty() && store_b->problems().empty());
    EXPECT_EQ(store_a->find(b.id())->protocol, store::PeerProtocol::V1_0);
    handshake::StorePeerBook book_a(*store_a, kNow), book_b(*store_b, kNow);
    cert::ReplayCache ra, rb;
    handshake::Initiator ini(a.identity, b.id(), book_a, ra, {}, kNow);
    handshake::Responder res(b.identity, book_b, rb, {}, kNow);
    std::deque<std::pair<bool, Bytes>> q;
    auto take = [&](handshake::Step s, bool from_a) {
        ASSERT_FALSE(s.failure) << s.failure->describe();
        for (auto& m : s.send) q.emplace_back(from_a, std::move(m));
    };
    take(ini.start(), true);
    while (!q.empty()) {
        auto [from_a, bytes] = std::move(q.front());
        q.pop_front();
        take(from_a ? res.receive(bytes) : ini.receive(bytes), !from_a);
    }
    EXPECT_EQ(ini.state(), handshake::Initiator::State::Done);
    EXPECT_EQ(res.state(), handshake::Responder::State::Done);
    auto again_a = store::PeerStore::open(*dir_a);
    EXPECT_EQ(again_a->find(b.id())->protocol, store::PeerProtocol::V1_1);
    EXPECT_EQ(again_a->find(b.id())->epochs.size(), 1u);
    std::filesystem::remove_all(base);
}

}  // namespace
}  // namespace br::test
