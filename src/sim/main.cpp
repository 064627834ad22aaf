// SPDX-License-Identifier: MIT
// blueratchet-sim: pairs peers and reconnects them over an in-memory link.
//
// Device 0 is a central (gateway); devices 1..N-1 are peripherals that each
// pair with it once and then reconnect R times.  Every device has its own
// state directory with the real store, so the simulator exercises exactly
// the code the daemon runs, minus BlueZ.
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>

#include "core/cert/x509_pem.hpp"
#include "core/frame/frame.hpp"
#include "core/handshake/engine.hpp"
#include "core/handshake/pump.hpp"
#include "core/handshake/store_peer_book.hpp"
#include "core/store/state.hpp"
#include "core/time/clock.hpp"
#include "sim/link.hpp"
#include "version.hpp"

namespace fs = std::filesystem;
using namespace br;

namespace {

struct Device {
    std::string name;
    store::AdapterDir dir;
    Ed25519KeyPair identity;
    store::PeerStore store;
    handshake::StorePeerBook book;
    cert::ReplayCache replay;

    Device(std::string n, store::AdapterDir d, Ed25519KeyPair id, store::PeerStore s)
        : name(std::move(n)),
          dir(std::move(d)),
          identity(std::move(id)),
          store(std::move(s)),
          book(store) {}
};

double cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct Result {
    bool ok = false;
    std::string failure;
    std::optional<handshake::Session> a, b;
    handshake::Kind kind = handshake::Kind::Pair;
    double cpu_a = 0, cpu_b = 0;
    double virtual_ms = 0;
    sim::DirectionStats ab, ba;
    int flights = 0;
};

// One BLE connection: run the handshake until both sides hold a session, a
// side fails, or the link goes quiet (a lost fragment) and, `timeout_ms` of
// virtual time later, is dropped.
Result connect_once(Device& a, Device& b, const sim::LinkParams& params, std::mt19937_64& rng,
                    std::uint32_t now, std::uint32_t validity, double timeout_ms) {
    Result r;
    sim::Link link(params, rng);
    handshake::Settings settings{validity};
    std::optional<handshake::DeviceId> known;
    if (a.store.find(b.identity.public_key())) known = b.identity.public_key();
    a.book.set_now(now);
    b.book.set_now(now);
    // Each side's pump frames what its engine sends onto the link; both
    // users approve a first contact (the simulator compares the codes below).
    auto ini =
        std::make_unique<handshake::Initiator>(a.identity, known, a.book, a.replay, settings, now);
    handshake::Initiator* initiator = ini.get();
    handshake::Pump* pumps[2] = {};
    auto events = [&](int side) {
        handshake::PumpEvents ev;
        ev.approval_needed = [&pumps, side](const std::string&) { pumps[side]->approve(true); };
        ev.session = [&r, side](handshake::Session s) { (side == 0 ? r.a : r.b) = std::move(s); };
        ev.failed = [&r, side](const handshake::PumpFailure& f) {
            if (!r.failure.empty()) return;
            if (f.kind == handshake::PumpFailure::Kind::Framing && f.framing)
                r.failure = std::string("frame: ") + frame::to_string(*f.framing);
            else if (f.kind == handshake::PumpFailure::Kind::Handshake && f.handshake)
                r.failure = std::string(side == 0 ? "A: " : "B: ") + f.handshake->describe();
            else
                r.failure = std::string(side == 0 ? "A: " : "B: ") + f.describe();
        };
        return ev;
    };
    auto transport = [&link, &params](int side) {
        return handshake::PumpTransport{[&link, side](ByteView f) {
                                            link.send_fragment(side, f);
                                            return true;
                                        },
                                        params.att_mtu};
    };
    handshake::Pump pump_a(transport(0), events(0));
    handshake::Pump pump_b(transport(1), events(1));
    pumps[0] = &pump_a;
    pumps[1] = &pump_b;
    pump_b.serve(
        std::make_unique<handshake::Responder>(b.identity, b.book, b.replay, settings, now));

    double t0 = cpu_ms();
    pump_a.start(std::move(ini));
    r.cpu_a += cpu_ms() - t0;
    while (r.failure.empty()) {
        auto arrival = link.next();
        if (!arrival) break;
        double c0 = cpu_ms();
        pumps[arrival->to]->on_fragment(arrival->fragment);
        (arrival->to == 0 ? r.cpu_a : r.cpu_b) += cpu_ms() - c0;
    }
    r.kind = initiator->kind();
    r.ab = link.stats(0);
    r.ba = link.stats(1);
    r.flights = link.flights();
    r.ok = r.a && r.b;
    if (!r.ok && r.failure.empty()) {
        link.advance(timeout_ms);
        char why[96];
        std::snprintf(why, sizeof why,
                      "link went quiet (lost fragment); dropped after the %.0f ms timeout",
                      timeout_ms);
        r.failure = why;
    }
    r.virtual_ms = link.now_ms();
    return r;
}

bool write_file(const fs::path& p, std::string_view data, mode_t mode) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(data.data(), static_cast<std::streamsize>(data.size()));
    f.close();
    return f.good() && ::chmod(p.c_str(), mode) == 0;
}

bool export_side(const fs::path& dir, const handshake::Session& s) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        std::cerr << "blueratchet-sim: cannot create " << dir << ": " << ec.message() << "\n";
        return false;
    }
    auto pem = cert::certificate_pem(s.own);
    auto key = cert::private_key_pem(s.own);
    auto compact = s.own.compact();
    if (!pem || !key || !compact) return false;
    std::string peer_pem = cert::pem_encode("CERTIFICATE", cert::x509_from_compact(s.peer));
    return write_file(dir / "cert.pem", *pem, 0644) &&
           write_file(
               dir / "cert.compact",
               std::string_view(reinterpret_cast<const char*>(compact->data()), compact->size()),
               0644) &&
           write_file(dir / "key.pem", *key, 0600) && write_file(dir / "peer.pem", peer_pem, 0644);
}

// Ctrl-C or SIGTERM: the run stops after the handshake in progress, and the
// temporary state directory is removed as at a normal end.
volatile sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int) {
    g_stop = 1;
}

// One handshake as the table and --json show it.
struct Row {
    handshake::Kind kind;
    std::string pair;
    std::uint32_t epoch;
    int attempt;
    std::size_t messages, ab_bytes, ba_bytes, air_bytes;
    int flights;
    double cpu_a_ms, cpu_b_ms, sim_ms;
    std::string short_code;
};

// The table's columns: the header and every row share these widths.
constexpr const char* kHeader = "%-6s %-24s %5s %3s %4s %6s %6s %9s %7s %9s %9s %8s  %s\n";
constexpr const char* kRow = "%-6s %-24s %5u %3d %4zu %6zu %6zu %9zu %7d %9.3f %9.3f %8.1f  %s\n";

void print_header() {
    std::printf(kHeader, "kind", "pair", "epoch", "att", "msgs", "A->B", "B->A", "air-bytes",
                "flights", "cpu-A ms", "cpu-B ms", "sim ms", "short-code");
}

void print_row(const Row& r) {
    std::printf(kRow, handshake::to_string(r.kind), r.pair.c_str(), r.epoch, r.attempt, r.messages,
                r.ab_bytes, r.ba_bytes, r.air_bytes, r.flights, r.cpu_a_ms, r.cpu_b_ms, r.sim_ms,
                r.short_code.c_str());
}

// Nearest-rank percentile of an already sorted sample.
double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.999999);
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

struct Spread {
    double mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
};

Spread spread(std::vector<double> v) {
    Spread s;
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    double sum = 0;
    for (double x : v) sum += x;
    s.mean = sum / static_cast<double>(v.size());
    s.p50 = percentile(v, 50);
    s.p90 = percentile(v, 90);
    s.p99 = percentile(v, 99);
    s.max = v.back();
    return s;
}

nlohmann::json to_json(const Spread& s) {
    return {{"mean", s.mean}, {"p50", s.p50}, {"p90", s.p90}, {"p99", s.p99}, {"max", s.max}};
}

// "\r 1234/5000 handshakes" on a terminal's stderr, at most 5 times a second.
class Progress {
  public:
    Progress(bool on, std::size_t total) : on_(on), total_(total) {}
    void update(std::size_t done) {
        if (!on_) return;
        auto now = std::chrono::steady_clock::now();
        if (done < total_ && now - last_ < std::chrono::milliseconds(200)) return;
        last_ = now;
        std::fprintf(stderr, "\r  %zu/%zu handshakes (%.0f%%)", done, total_,
                     100.0 * static_cast<double>(done) / static_cast<double>(total_));
        shown_ = true;
    }
    void finish() {
        if (shown_) std::fputs("\r\033[K", stderr);
    }

  private:
    bool on_;
    std::size_t total_;
    std::chrono::steady_clock::time_point last_{};
    bool shown_ = false;
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"blueratchet-sim: pair peers and reconnect them over an in-memory link"};
    int peers = 2;
    int reconnects = 5;
    sim::LinkParams link;
    std::string out_dir, state_dir;
    std::uint64_t seed = 1;
    std::uint32_t validity = 3600;
    int max_attempts = 20;
    double timeout_ms = 2000;
    bool quiet = false, json = false, no_progress = false;
    app.add_option("--peers", peers, "devices: one central and N-1 peripherals")
        ->check(CLI::Range(2, 100000));
    app.add_option("--reconnects,-r", reconnects, "reconnections per pair after pairing")
        ->check(CLI::Range(0, 1000000));
    app.add_option("--mtu", link.att_mtu, "ATT MTU")->check(CLI::Range(23, 517));
    app.add_option("--latency-ms", link.latency_ms, "one-way latency per fragment")
        ->check(CLI::Range(0.0, 10000.0));
    app.add_option("--loss", link.loss, "probability that a fragment is lost")
        ->check(CLI::Range(0.0, 0.9));
    app.add_option("--seed", seed, "random seed for loss");
    app.add_option("--validity", validity, "certificate validity, seconds")
        ->check(CLI::Range(1u, 604800u));
    app.add_option("--max-attempts", max_attempts,
                   "connection attempts per handshake before giving up")
        ->check(CLI::Range(1, 1000));
    app.add_option("--timeout-ms", timeout_ms, "a stalled handshake is dropped after this long")
        ->check(CLI::Range(1.0, 600000.0));
    app.add_option("--out", out_dir, "write each epoch's certificates and keys here");
    app.add_option("--state", state_dir,
                   "state directory (default: a temporary one under $TMPDIR, removed at exit)");
    app.add_flag("--quiet,-q", quiet, "only the summary (with --json: no per-handshake rows)");
    app.add_flag("--json", json, "one JSON document on stdout: parameters, summary, handshakes");
    app.add_flag("--no-progress", no_progress, "no progress line on a terminal's stderr");
    app.set_version_flag("--version", std::string("blueratchet-sim ") + BR_VERSION);
    try {
        app.parse(argc, argv);
    } catch (const CLI::Success& e) {  // --help, --version
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return 2;  // a usage error, as for blueratchetctl
    }

    if (!out_dir.empty()) {
        // Before any handshake: a bad --out is a usage error, not a failure
        // discovered after the first pairing.
        std::error_code ec;
        fs::create_directories(out_dir, ec);
        if (ec || !fs::is_directory(out_dir, ec)) {
            std::cerr << "blueratchet-sim: --out " << out_dir << ": "
                      << (ec ? ec.message() : std::string("not a directory")) << "\n";
            return 2;
        }
    }

    bool temp_state = state_dir.empty();
    if (temp_state) {
        const char* tmp = std::getenv("TMPDIR");
        std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/blueratchet-sim.XXXXXX";
        if (!mkdtemp(tmpl.data())) {
            std::cerr << "blueratchet-sim: mkdtemp " << tmpl << ": " << std::strerror(errno)
                      << "\n";
            return 1;
        }
        state_dir = tmpl;
    }
    auto remove_temp_state = [&] {
        if (!temp_state) return;
        std::error_code ec;
        fs::remove_all(state_dir, ec);
    };
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    time::SystemClock clock;
    time::LastKnownGood lkg(clock);
    const auto now = static_cast<std::uint32_t>(lkg.now());

    std::vector<std::unique_ptr<Device>> devices;
    for (int i = 0; i < peers; ++i) {
        std::string name = i == 0 ? "central" : "peripheral" + std::to_string(i);
        auto dir = store::AdapterDir::open(state_dir, name);
        if (!dir) {
            std::cerr << "blueratchet-sim: " << dir.error().message() << "\n";
            remove_temp_state();
            return 1;
        }
        auto id = store::load_or_create_identity(*dir, now);
        auto st = store::PeerStore::open(*dir);
        if (!id || !st) {
            std::cerr << "blueratchet-sim: cannot open the store in " << dir->path() << "\n";
            remove_temp_state();
            return 1;
        }
        devices.push_back(
            std::make_unique<Device>(name, std::move(*dir), std::move(*id), std::move(*st)));
        if (g_stop) break;
    }

    std::mt19937_64 rng(seed);
    int handshakes = 0, failures = 0, retries = 0;
    std::vector<Row> rows;
    Device& a = *devices[0];
    const std::size_t total =
        static_cast<std::size_t>(peers - 1) * static_cast<std::size_t>(reconnects + 1);
    Progress progress(!no_progress && ::isatty(STDERR_FILENO), total);
    const bool table = !quiet && !json;
    if (table) print_header();
    for (int p = 1; p < peers && !g_stop; ++p) {
        Device& b = *devices[static_cast<std::size_t>(p)];
        for (int round = 0; round <= reconnects && !g_stop; ++round) {
            Result r;
            int attempt = 0;
            for (attempt = 1; attempt <= max_attempts; ++attempt) {
                r = connect_once(a, b, link, rng, now, validity, timeout_ms);
                if (r.ok) break;
                ++retries;
                if (table)
                    std::cout << "  attempt " << attempt << " " << a.name << "-" << b.name
                              << " failed: " << r.failure << std::endl;
            }
            ++handshakes;
            progress.update(static_cast<std::size_t>(handshakes));
            if (!r.ok) {
                ++failures;
                progress.finish();
                std::cerr << "blueratchet-sim: " << a.name << "-" << b.name << " round " << round
                          << " failed after " << max_attempts << " attempts: " << r.failure << "\n";
                continue;
            }
            Row row{r.kind,
                    a.name + "-" + b.name,
                    r.a->epoch,
                    attempt,
                    r.ab.messages + r.ba.messages,
                    r.ab.message_bytes,
                    r.ba.message_bytes,
                    r.ab.air_bytes + r.ba.air_bytes,
                    r.flights,
                    r.cpu_a,
                    r.cpu_b,
                    r.virtual_ms,
                    r.a->short_code};
            if (table) {
                progress.finish();
                print_row(row);
            }
            rows.push_back(std::move(row));
            if (r.a->fingerprint != r.b->fingerprint || r.a->short_code != r.b->short_code) {
                progress.finish();
                std::cerr << "blueratchet-sim: fingerprints or short codes differ\n";
                remove_temp_state();
                return 1;
            }
            if (!out_dir.empty()) {
                fs::path base = fs::path(out_dir) / (a.name + "-" + b.name);
                std::string ep = "epoch-" + std::to_string(r.a->epoch);
                if (!export_side(base / "A" / ep, *r.a) || !export_side(base / "B" / ep, *r.b)) {
                    progress.finish();
                    std::cerr << "blueratchet-sim: cannot write " << base << "\n";
                    remove_temp_state();
                    return 1;
                }
            }
            // The link drops after each connection: both sessions are invalidated.
            r.a->invalidate(InvalidationReason::LinkLost);
            r.b->invalidate(InvalidationReason::LinkLost);
        }
    }
    progress.finish();
    remove_temp_state();

    // Per kind: the mean and percentiles of each side's CPU time, the
    // simulated duration, and the bytes and flights on the air.
    struct KindSummary {
        int count = 0;
        Spread cpu_a, cpu_b, sim_ms;
        double air_bytes = 0, flights = 0;
    };
    KindSummary kinds[2];
    for (int k = 0; k < 2; ++k) {
        std::vector<double> ca, cb, sm;
        double air = 0, fl = 0;
        for (const Row& row : rows) {
            if ((row.kind == handshake::Kind::Pair ? 0 : 1) != k) continue;
            ca.push_back(row.cpu_a_ms);
            cb.push_back(row.cpu_b_ms);
            sm.push_back(row.sim_ms);
            air += static_cast<double>(row.air_bytes);
            fl += row.flights;
        }
        kinds[k].count = static_cast<int>(ca.size());
        if (ca.empty()) continue;
        kinds[k].cpu_a = spread(ca);
        kinds[k].cpu_b = spread(cb);
        kinds[k].sim_ms = spread(sm);
        kinds[k].air_bytes = air / static_cast<double>(ca.size());
        kinds[k].flights = fl / static_cast<double>(ca.size());
    }
    const char* kind_names[2] = {"pair", "resume"};
    const bool interrupted = g_stop != 0;

    if (json) {
        nlohmann::json doc;
        doc["parameters"] = {{"peers", peers},       {"reconnects", reconnects},
                             {"mtu", link.att_mtu},  {"latency_ms", link.latency_ms},
                             {"loss", link.loss},    {"seed", seed},
                             {"validity", validity}, {"max_attempts", max_attempts}};
        nlohmann::json summary = {{"handshakes", handshakes},
                                  {"failed", failures},
                                  {"retried_connections", retries},
                                  {"interrupted", interrupted}};
        for (int k = 0; k < 2; ++k) {
            if (!kinds[k].count) continue;
            summary[kind_names[k]] = {{"count", kinds[k].count},
                                      {"cpu_a_ms", to_json(kinds[k].cpu_a)},
                                      {"cpu_b_ms", to_json(kinds[k].cpu_b)},
                                      {"sim_ms", to_json(kinds[k].sim_ms)},
                                      {"air_bytes_mean", kinds[k].air_bytes},
                                      {"flights_mean", kinds[k].flights}};
        }
        doc["summary"] = summary;
        if (!quiet) {
            nlohmann::json list = nlohmann::json::array();
            for (const Row& row : rows)
                list.push_back({{"kind", handshake::to_string(row.kind)},
                                {"pair", row.pair},
                                {"epoch", row.epoch},
                                {"attempt", row.attempt},
                                {"messages", row.messages},
                                {"a_to_b_bytes", row.ab_bytes},
                                {"b_to_a_bytes", row.ba_bytes},
                                {"air_bytes", row.air_bytes},
                                {"flights", row.flights},
                                {"cpu_a_ms", row.cpu_a_ms},
                                {"cpu_b_ms", row.cpu_b_ms},
                                {"sim_ms", row.sim_ms},
                                {"short_code", row.short_code}});
            doc["handshakes"] = list;
        }
        std::cout << doc.dump(1) << "\n";
    } else {
        std::printf(
            "\nsummary: %d handshakes, %d failed, %d retried connections; MTU %zu, latency %.1f "
            "ms, loss %.3f%s\n",
            handshakes, failures, retries, link.att_mtu, link.latency_ms, link.loss,
            interrupted ? " (interrupted)" : "");
        for (int k = 0; k < 2; ++k) {
            if (!kinds[k].count) continue;
            std::printf("  %-6s %d: %.0f air bytes, %.1f flights on average\n", kind_names[k],
                        kinds[k].count, kinds[k].air_bytes, kinds[k].flights);
            std::printf("  %-6s %-9s %9s %9s %9s %9s %9s\n", "", "", "mean", "p50", "p90", "p99",
                        "max");
            const std::pair<const char*, const Spread*> lines[] = {{"cpu-A ms", &kinds[k].cpu_a},
                                                                   {"cpu-B ms", &kinds[k].cpu_b},
                                                                   {"sim ms", &kinds[k].sim_ms}};
            for (const auto& [label, sp] : lines)
                std::printf("  %-6s %-9s %9.3f %9.3f %9.3f %9.3f %9.3f\n", "", label, sp->mean,
                            sp->p50, sp->p90, sp->p99, sp->max);
        }
    }
    if (interrupted) return 130;
    return failures == 0 ? 0 : 1;
}
