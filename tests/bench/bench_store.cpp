// SPDX-License-Identifier: MIT
// bench_store: how the real store's costs grow with the number of stored
// peers, and memory with the number of live sessions.  Prints JSON lines.
//
//   bench_store <state-dir> [--max N] [--adapter NAME]
//
// Peers: one adapter directory under <state-dir> grows to 1, 10, 100, ...
// N peers (PeerStore::save, an atomic write with fsyncs, as the daemon does
// on every pairing).  At each size a fresh process (this program again,
// --measure-store) opens the store and reports:
//   open_ms     PeerStore::open: list and parse every record's public part
//   rss_kb      VmRSS before and after the open (the index is what grows)
//   lookup_us   find + load_secrets of a random stored peer (what a resume's
//               PeerBook::holdings does; the records are in the page cache)
//   add_ms      save of a new peer record (the atomic write; median of 15)
// Times are wall clock: the work is mostly system calls and disk flushes.
// The directory is left populated, so the daemon can be started on it.
//
// Sessions: a fresh process (--measure-sessions K) keeps K live sessions, the responder's side of
// K resumes between two devices (in-memory book), and reports VmRSS before
// and after: the core's memory per live session (keys in guarded memory,
// both certificates).  The daemon holds more per session (D-Bus objects,
// PEM copies); this is the floor.
#include <sodium.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/crypto/secret.hpp"
#include "core/store/peer_store.hpp"
#include "core/store/state.hpp"
#include "engine_run.hpp"

namespace br::bench {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

long vm_rss_kb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    return -1;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "bench_store: %s\n", what.c_str());
    std::exit(1);
}

// A record as a pairing leaves it: committed epoch 1, one seed, an address.
store::PeerRecord new_record(std::size_t n) {
    store::PeerRecord rec{store::PeerInfo{}, {}};
    rec.seeds.push_back(store::StoredSeed{1, SecretBytes(store::kSeedLen)});
    randombytes_buf(rec.info.id.data(), rec.info.id.size());
    randombytes_buf(rec.seeds[0].seed.data(), rec.seeds[0].seed.size());
    rec.info.role = Role::Initiator;
    rec.info.protocol = store::PeerProtocol::V1_1;
    rec.info.epochs = {1};
    rec.info.created_unix = rec.info.last_seen_unix = kNow;
    char addr[18];
    std::snprintf(addr, sizeof addr, "C0:%02X:%02X:%02X:%02X:%02X",
                  static_cast<unsigned>((n >> 32) & 0xff), static_cast<unsigned>((n >> 24) & 0xff),
                  static_cast<unsigned>((n >> 16) & 0xff), static_cast<unsigned>((n >> 8) & 0xff),
                  static_cast<unsigned>(n & 0xff));
    rec.info.address = addr;
    return rec;
}

store::AdapterDir open_dir(const std::string& state, const std::string& adapter) {
    auto dir = store::AdapterDir::open(state, adapter);
    if (!dir) die(dir.error().message());
    return std::move(*dir);
}

// Runs this program again with `args` and waits: a fresh process, so what
// it measures is not inflated by this one's memory.
void in_child(const std::vector<std::string>& args) {
    std::fflush(stdout);
    const pid_t pid = fork();
    if (pid < 0) die("fork failed");
    if (pid == 0) {
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv("/proc/self/exe", argv.data());
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("a measuring child failed");
}

void measure_store(const std::string& state, const std::string& adapter) {
    const store::AdapterDir dir = open_dir(state, adapter);
    const long rss0 = vm_rss_kb();
    auto t0 = std::chrono::steady_clock::now();
    auto opened = store::PeerStore::open(dir);
    const double open_ms = ms_since(t0);
    if (!opened) die(opened.error().message());
    store::PeerStore& st = *opened;
    const long rss1 = vm_rss_kb();

    std::vector<store::PeerId> ids;
    for (const auto& [id, info] : st.peers()) ids.push_back(id);
    const std::size_t lookups = 500;
    t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < lookups; ++i) {
        const store::PeerId& id = ids[randombytes_uniform(static_cast<std::uint32_t>(ids.size()))];
        if (!st.find(id)) die("lookup: a stored peer is missing");
        auto secrets = st.load_secrets(id);
        if (!secrets) die(secrets.error().message());
    }
    const double lookup_us = ms_since(t0) * 1000.0 / static_cast<double>(lookups);

    std::vector<double> adds;
    std::vector<store::PeerId> added;
    for (std::size_t i = 0; i < 15; ++i) {
        const store::PeerRecord rec = new_record(1'000'000 + i);
        t0 = std::chrono::steady_clock::now();
        auto saved = st.save(rec);
        adds.push_back(ms_since(t0));
        if (!saved) die(saved.error().message());
        added.push_back(rec.info.id);
    }
    for (const auto& id : added)
        if (auto r = st.remove(id); !r) die(r.error().message());
    std::sort(adds.begin(), adds.end());

    std::printf(
        "{\"section\": \"peers\", \"peers\": %zu, \"problems\": %zu, \"open_ms\": %.3f, "
        "\"rss_kb_before\": %ld, \"rss_kb_after\": %ld, \"lookup_us\": %.1f, \"add_ms\": %.3f}\n",
        ids.size(), st.problems().size(), open_ms, rss0, rss1, lookup_us, adds[adds.size() / 2]);
}

void measure_sessions(std::size_t count) {
    Device a(0xA1), b(0xB2);
    if (!run_handshake(a, b, false, kNow).ok) die("the pairing failed");
    std::vector<handshake::Session> live;
    live.reserve(count);
    // One resume before measuring, so the secret arena's first region and
    // the allocator's pools are already there.
    if (!run_handshake(a, b, true, kNow).ok) die("a resume failed");
    const long rss0 = vm_rss_kb();
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < count; ++i) {
        Run run = run_handshake(a, b, true, kNow);
        if (!run.ok) die("a resume failed");
        live.push_back(std::move(*run.responder));
    }
    const double ms = ms_since(t0);
    const long rss1 = vm_rss_kb();
    std::printf(
        "{\"section\": \"sessions\", \"sessions\": %zu, \"rss_kb_before\": %ld, "
        "\"rss_kb_after\": %ld, \"resume_ms\": %.3f}\n",
        live.size(), rss0, rss1, ms / static_cast<double>(count));
}

}  // namespace
}  // namespace br::bench

int main(int argc, char** argv) {
    using namespace br::bench;
    br::crypto_init();
    if (argc == 4 && std::strcmp(argv[1], "--measure-store") == 0) {
        measure_store(argv[2], argv[3]);
        return 0;
    }
    if (argc == 3 && std::strcmp(argv[1], "--measure-sessions") == 0) {
        measure_sessions(std::strtoul(argv[2], nullptr, 10));
        return 0;
    }
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_store <state-dir> [--max N] [--adapter NAME]\n");
        return 2;
    }
    const std::string state = argv[1];
    std::size_t max = 10'000;
    std::string adapter = "00_00_00_00_00_00";
    for (int i = 2; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--max") == 0)
            max = std::strtoul(argv[i + 1], nullptr, 10);
        else if (std::strcmp(argv[i], "--adapter") == 0)
            adapter = argv[i + 1];
    }

    {
        const br::store::AdapterDir dir = open_dir(state, adapter);
        if (auto id = br::store::load_or_create_identity(dir, kNow); !id) die(id.error().message());
        auto opened = br::store::PeerStore::open(dir);
        if (!opened) die(opened.error().message());
        br::store::PeerStore& st = *opened;
        for (std::size_t n = 1; n <= max; n *= 10) {
            const std::size_t before = st.size();
            const auto t0 = std::chrono::steady_clock::now();
            while (st.size() < n)
                if (auto r = st.save(new_record(st.size())); !r) die(r.error().message());
            const double grow_ms = ms_since(t0);
            std::printf("{\"section\": \"grow\", \"peers\": %zu, \"added\": %zu, \"ms\": %.1f}\n",
                        st.size(), st.size() - before, grow_ms);
            in_child({argv[0], "--measure-store", state, adapter});
        }
    }
    for (std::size_t k = 1; k <= max; k *= 10)
        in_child({argv[0], "--measure-sessions", std::to_string(k)});
    return 0;
}
