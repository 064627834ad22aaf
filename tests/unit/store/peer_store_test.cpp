// SPDX-License-Identifier: MIT
#include "core/store/peer_store.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>

#include "store_test_util.hpp"

namespace br::store {
namespace {

using testing::FailingOps;
using testing::make_record;
using testing::mode_of;
using testing::peer_id;
using testing::seed_for;
using testing::Step;
using testing::TempDir;

struct Fixture {
    TempDir base;
    AdapterDir dir = std::move(AdapterDir::open(base / "state", "AA_BB_CC_DD_EE_FF")).value();
};

PeerStore open_ok(const AdapterDir& dir) {
    auto s = PeerStore::open(dir);
    EXPECT_TRUE(s) << s.error().message();
    return std::move(s).value();
}

TEST(PeerStore, SaveReopenAndLoadSecrets) {
    Fixture f;
    {
        PeerStore s = open_ok(f.dir);
        EXPECT_EQ(s.size(), 0u);
        EXPECT_EQ(mode_of(s.path()), 0700u);
        for (std::uint32_t n = 0; n < 5; ++n) ASSERT_TRUE(s.save(make_record(n, 1, n % 2 == 0)));
        EXPECT_EQ(s.size(), 5u);
        EXPECT_EQ(mode_of(s.file_of(peer_id(3))), 0600u);
    }
    PeerStore s = open_ok(f.dir);
    EXPECT_TRUE(s.problems().empty());
    ASSERT_EQ(s.size(), 5u);
    const PeerInfo* p = s.find(peer_id(2));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->alias, "peer 2 v1");
    EXPECT_EQ(p->epochs, (std::vector<std::uint32_t>{1, 2}));
    EXPECT_EQ(p->protocol, PeerProtocol::V1_1);
    EXPECT_EQ(p->role, Role::Initiator);
    EXPECT_EQ(p->address, "AA:BB:CC:00:00:02");

    auto sec = s.load_secrets(peer_id(2));
    ASSERT_TRUE(sec) << sec.error().message();
    ASSERT_EQ(sec->size(), 2u);
    EXPECT_EQ((*sec)[0].epoch, 1u);
    EXPECT_TRUE(ct_equal((*sec)[0].seed.view(), seed_for(2, 1).view()));
    EXPECT_EQ((*sec)[1].epoch, 2u);
    EXPECT_TRUE(ct_equal((*sec)[1].seed.view(), seed_for(2, 2, 1).view()));

    auto none = s.load_secrets(peer_id(1));
    ASSERT_TRUE(none);
    EXPECT_EQ(none->size(), 1u);

    auto unknown = s.load_secrets(peer_id(99));
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, StoreErrc::NotFound);
}

TEST(PeerStore, UpdateAndRemove) {
    Fixture f;
    PeerStore s = open_ok(f.dir);
    ASSERT_TRUE(s.save(make_record(1, 1)));
    ASSERT_TRUE(s.save(make_record(1, 2, false)));  // commit: epoch 2, no pending
    EXPECT_EQ(s.find(peer_id(1))->epochs, std::vector<std::uint32_t>{2});
    auto rec = s.load(peer_id(1));
    ASSERT_TRUE(rec);
    EXPECT_TRUE(ct_equal(rec->seeds[0].seed.view(), seed_for(1, 2).view()));

    ASSERT_TRUE(s.remove(peer_id(1)));
    EXPECT_EQ(s.find(peer_id(1)), nullptr);
    EXPECT_FALSE(std::filesystem::exists(s.file_of(peer_id(1))));
    EXPECT_EQ(s.remove(peer_id(1)).error().code, StoreErrc::NotFound);
    EXPECT_EQ(open_ok(f.dir).size(), 0u);
}

// A state directory written by a protocol 1.0 build (record version 1)
// opens with every peer, and the next save writes version 2 in its place.
TEST(PeerStore, OpensRecordsWrittenByVersion1) {
    Fixture f;
    std::string path;
    {
        PeerStore s = open_ok(f.dir);
        path = s.path();
    }
    for (std::uint32_t n = 0; n < 3; ++n) {
        PeerRecord rec = make_record(n, 5, n != 1);
        rec.info.protocol = PeerProtocol::V1_0;
        const Bytes v1 = testing::encode_v1_record(rec);
        std::ofstream(path + "/" + to_hex(peer_id(n)), std::ios::binary)
            .write(reinterpret_cast<const char*>(v1.data()),
                   static_cast<std::streamsize>(v1.size()));
    }
    PeerStore s = open_ok(f.dir);
    EXPECT_TRUE(s.problems().empty());
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s.find(peer_id(0))->epochs, (std::vector<std::uint32_t>{5, 6}));
    EXPECT_EQ(s.find(peer_id(1))->epochs, std::vector<std::uint32_t>{5});
    EXPECT_EQ(s.find(peer_id(0))->protocol, PeerProtocol::V1_0);
    auto sec = s.load_secrets(peer_id(0));
    ASSERT_TRUE(sec);
    EXPECT_TRUE(ct_equal((*sec)[1].seed.view(), seed_for(0, 6, 1).view()));
    auto rec = s.load(peer_id(0));
    ASSERT_TRUE(rec);
    ASSERT_TRUE(s.save(*rec));
    std::ifstream in(s.file_of(peer_id(0)), std::ios::binary);
    char head[6] = {};
    in.read(head, 6);
    EXPECT_EQ(std::string(head + 4, 2), std::string("\x00\x02", 2));
}

TEST(PeerStore, InvalidRecordIsNotSaved) {
    Fixture f;
    PeerStore s = open_ok(f.dir);
    PeerRecord rec = make_record(1);
    rec.info.alias = std::string(100, 'x');
    auto r = s.save(rec);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, StoreErrc::FieldTooLong);
    EXPECT_NE(r.error().message().find(to_hex(peer_id(1))), std::string::npos);
    EXPECT_EQ(s.size(), 0u);
}

TEST(PeerStore, FailedSaveKeepsOldRecordAndIndex) {
    for (Step step : {Step::Open, Step::Write, Step::PartialWrite, Step::FileSync, Step::Rename}) {
        Fixture f;
        PeerStore s = open_ok(f.dir);
        ASSERT_TRUE(s.save(make_record(1, 1)));
        FailingOps ops(step, ENOSPC);
        s.set_file_ops(ops);
        auto r = s.save(make_record(1, 2));
        ASSERT_FALSE(r);
        EXPECT_EQ(s.find(peer_id(1))->epochs[0], 1u);
        s.set_file_ops(real_file_ops());
        PeerStore again = open_ok(f.dir);
        EXPECT_TRUE(again.problems().empty());
        ASSERT_EQ(again.size(), 1u);
        EXPECT_EQ(again.find(peer_id(1))->epochs[0], 1u);
        EXPECT_EQ(std::distance(std::filesystem::directory_iterator(s.path()),
                                std::filesystem::directory_iterator()),
                  1);
    }
}

void write_raw(const std::string& path, ByteView data) {
    std::ofstream o(path, std::ios::binary | std::ios::trunc);
    o.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

Bytes read_raw(const std::string& path) {
    std::ifstream i(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(i), std::istreambuf_iterator<char>());
}

// One corrupt record is reported by name; every other peer still loads.
StoreErrc expect_one_problem(const AdapterDir& dir, const std::string& file, std::size_t others,
                             const std::string& what) {
    auto s = PeerStore::open(dir);
    EXPECT_TRUE(s) << what;
    if (!s) return StoreErrc::OpenFailed;
    EXPECT_EQ(s->problems().size(), 1u) << what;
    if (s->problems().size() != 1) return StoreErrc::OpenFailed;
    EXPECT_EQ(s->problems()[0].file, file) << what;
    EXPECT_NE(s->problems()[0].error.message().find(file), std::string::npos)
        << what << ": " << s->problems()[0].error.message();
    EXPECT_EQ(s->size(), others) << what;
    return s->problems()[0].error.code;
}

TEST(PeerStore, CorruptRecordIsNamedAndOthersLoad) {
    Fixture f;
    {
        PeerStore s = open_ok(f.dir);
        for (std::uint32_t n = 0; n < 5; ++n) ASSERT_TRUE(s.save(make_record(n)));
    }
    const std::string victim = f.dir.path() + "/peers/" + to_hex(peer_id(2));
    const Bytes good = read_raw(victim);
    // Corrupt in place (pwrite/truncate, not rewrite): fast, and like real damage.
    const int fd = ::open(victim.c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    std::size_t checksum_errors = 0;
    for (std::size_t bit = 0; bit < good.size() * 8; ++bit) {
        const std::uint8_t bad = good[bit / 8] ^ static_cast<std::uint8_t>(1u << (bit % 8));
        const auto off = static_cast<off_t>(bit / 8);
        ASSERT_EQ(::pwrite(fd, &bad, 1, off), 1);
        const StoreErrc code = expect_one_problem(f.dir, victim, 4, "bit " + std::to_string(bit));
        if (code == StoreErrc::ChecksumMismatch) ++checksum_errors;
        ASSERT_EQ(::pwrite(fd, &good[bit / 8], 1, off), 1);
    }
    EXPECT_GT(checksum_errors, good.size() * 8 * 8 / 10);
    for (std::size_t n = 0; n < good.size(); ++n) {
        ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(n)), 0);
        EXPECT_EQ(expect_one_problem(f.dir, victim, 4, "truncated to " + std::to_string(n)),
                  StoreErrc::Truncated)
            << n;
        ASSERT_EQ(::pwrite(fd, good.data(), good.size(), 0), static_cast<ssize_t>(good.size()));
    }
    ::close(fd);
    write_raw(victim, good);
    PeerStore s = open_ok(f.dir);
    EXPECT_TRUE(s.problems().empty());
    EXPECT_EQ(s.size(), 5u);
}

TEST(PeerStore, StrayFilesAreReportedOrCleaned) {
    Fixture f;
    {
        PeerStore s = open_ok(f.dir);
        ASSERT_TRUE(s.save(make_record(1)));
        ASSERT_TRUE(s.save(make_record(2)));
    }
    const std::string peers = f.dir.path() + "/peers/";
    // A record stored under another peer's name.
    std::filesystem::copy_file(peers + to_hex(peer_id(1)), peers + to_hex(peer_id(3)));
    // A stale temporary file from a crash, a stray name, an uppercase name.
    write_raw(peers + "." + to_hex(peer_id(4)) + ".tmp.0123456789abcdef", as_bytes("partial"));
    write_raw(peers + "notes.txt", as_bytes("hello"));
    std::string upper = to_hex(peer_id(5));
    for (char& c : upper) c = static_cast<char>(std::toupper(c));
    write_raw(peers + upper, as_bytes("x"));
    auto s = PeerStore::open(f.dir);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->size(), 2u);
    ASSERT_EQ(s->problems().size(), 3u);
    for (const LoadProblem& p : s->problems()) {
        EXPECT_NE(p.error.message().find(p.file), std::string::npos);
        std::printf("  load problem: %s\n", p.error.message().c_str());
    }
    EXPECT_FALSE(
        std::filesystem::exists(peers + "." + to_hex(peer_id(4)) + ".tmp.0123456789abcdef"));
}

std::size_t rss_kb() {
    std::ifstream st("/proc/self/status");
    std::string line;
    while (std::getline(st, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
    }
    return 0;
}

TEST(PeerStore, TenThousandPeersLoad) {
    constexpr std::uint32_t kPeers = 10'000;
    Fixture f;
    { PeerStore s = open_ok(f.dir); }  // creates peers/
    const std::string peers = f.dir.path() + "/peers/";
    // Written directly (no fsync per file): the test measures loading.
    for (std::uint32_t n = 0; n < kPeers; ++n) {
        auto enc = encode_peer_record(make_record(n, 1 + n % 7, n % 3 == 0));
        ASSERT_TRUE(enc);
        const int fd = ::open((peers + to_hex(peer_id(n))).c_str(),
                              O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::write(fd, enc->view().data(), enc->size()), static_cast<ssize_t>(enc->size()));
        ::close(fd);
    }
    const std::size_t rss_before = rss_kb();
    const auto t0 = std::chrono::steady_clock::now();
    auto s = PeerStore::open(f.dir);
    const auto t1 = std::chrono::steady_clock::now();
    const std::size_t rss_after = rss_kb();
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->problems().empty());
    EXPECT_EQ(s->size(), kPeers);
    const double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    std::printf(
        "PeerStore::open of %u peers: %.1f ms (warm page cache); RSS %zu kB -> %zu kB "
        "(+%zu kB for the index)\n",
        kPeers, ms, rss_before, rss_after, rss_after - rss_before);
    EXPECT_LT(ms, 5000.0);  // sanity bound only; the figure above is the measurement
    for (int again = 0; again < 1; ++again) {
        const auto a0 = std::chrono::steady_clock::now();
        auto s2 = PeerStore::open(f.dir);
        const auto a1 = std::chrono::steady_clock::now();
        ASSERT_TRUE(s2);
        EXPECT_EQ(s2->size(), kPeers);
        std::printf("  reopen: %.1f ms\n",
                    std::chrono::duration<double, std::milli>(a1 - a0).count());
    }
    // Secrets of any one peer are still there on demand.
    auto sec = s->load_secrets(peer_id(1234));
    ASSERT_TRUE(sec);
    EXPECT_TRUE(ct_equal((*sec)[0].seed.view(), seed_for(1234, 1 + 1234 % 7).view()));
}

// kill -9 at random moments while a child rewrites records: every record
// must afterwards load and be one whole version (old or new), never torn,
// and never older than a version seen before.
TEST(PeerStore, KillNineLeavesOldOrNewNeverTorn) {
    constexpr std::uint32_t kPeers = 4;
    constexpr int kRounds = 300;
    Fixture f;
    {
        PeerStore s = open_ok(f.dir);
        for (std::uint32_t n = 0; n < kPeers; ++n) ASSERT_TRUE(s.save(make_record(n, 1)));
    }
    std::vector<std::uint32_t> seen(kPeers, 1);
    std::mt19937 rng(20240611);
    std::uint32_t next_version = 2;
    std::size_t changed = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int round = 0; round < kRounds; ++round) {
        const std::uint32_t base_version = next_version;
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            // Child: rewrite records with ever higher versions until killed.
            auto cs = PeerStore::open(f.dir);
            if (!cs) ::_exit(3);
            for (std::uint32_t v = base_version;; ++v) {
                if (!cs->save(make_record(v % kPeers, v, v % 2 == 0))) ::_exit(4);
            }
        }
        const auto delay = std::chrono::microseconds(rng() % 12000);
        std::this_thread::sleep_for(delay);
        ASSERT_EQ(::kill(pid, SIGKILL), 0);
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);

        auto s = PeerStore::open(f.dir);
        ASSERT_TRUE(s) << s.error().message();
        ASSERT_TRUE(s->problems().empty()) << s->problems()[0].error.message();
        ASSERT_EQ(s->size(), kPeers);
        for (std::uint32_t n = 0; n < kPeers; ++n) {
            auto rec = s->load(peer_id(n));
            ASSERT_TRUE(rec) << rec.error().message();
            const std::uint32_t v = rec->info.epochs[0];
            // Whole version v of peer n: every field derives from (n, v).
            PeerRecord want = make_record(n, v, v % 2 == 0 || v == 1);
            EXPECT_EQ(rec->info.alias, want.info.alias);
            EXPECT_EQ(rec->info.last_seen_unix, want.info.last_seen_unix);
            EXPECT_EQ(rec->info.epochs, want.info.epochs);
            EXPECT_TRUE(ct_equal(rec->seeds[0].seed.view(), want.seeds[0].seed.view()));
            ASSERT_GE(v, seen[n]) << "record went back in time";
            if (v != seen[n]) ++changed;
            seen[n] = v;
            next_version = std::max(next_version, v + 1);
        }
        // No temporary files survive a reopen.
        for (const auto& e : std::filesystem::directory_iterator(s->path())) {
            EXPECT_FALSE(is_temp_name(e.path().filename().string())) << e.path();
        }
        if (std::chrono::steady_clock::now() - start > std::chrono::seconds(20)) {
            std::printf("stopping after %d rounds (20 s budget)\n", round + 1);
            break;
        }
    }
    std::printf("kill -9: %zu record versions observed across rounds\n", changed);
    EXPECT_GT(changed, 0u);
}

}  // namespace
}  // namespace br::store
