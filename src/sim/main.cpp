// SPDX-License-Identifier: MIT
// blueratchet-sim: pairs peers and reconnects them over an in-memory link.
//
// Device 0 is a central (gateway); devices 1..N-1 are peripherals that each
// pair with it once and then reconnect R times.  Every device has its own
// state directory with the real store, so the simulator exercises exactly
// the code the daemon runs, minus BlueZ.
#include <sys/stat.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
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
    bool quiet = false;
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
                   "state directory (default: a temporary one, removed at exit)");
    app.add_flag("--quiet,-q", quiet, "only the summary");
    app.set_version_flag("--version", std::string("blueratchet-sim ") + BR_VERSION);
    // Exit status 2 on a bad command line, as blueratchetctl and
    // blueratchet-sim(1) say (CLI11_PARSE would exit with CLI11's own codes,
    // 105 for a value out of range, 109 for an extra argument...).
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return 2;
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
        char tmpl[] = "/tmp/blueratchet-sim.XXXXXX";
        if (!mkdtemp(tmpl)) {
            std::perror("blueratchet-sim: mkdtemp");
            return 1;
        }
        state_dir = tmpl;
    }

    time::SystemClock clock;
    time::LastKnownGood lkg(clock);
    const auto now = static_cast<std::uint32_t>(lkg.now());

    std::vector<std::unique_ptr<Device>> devices;
    for (int i = 0; i < peers; ++i) {
        std::string name = i == 0 ? "central" : "peripheral" + std::to_string(i);
        auto dir = store::AdapterDir::open(state_dir, name);
        if (!dir) {
            std::cerr << "blueratchet-sim: " << dir.error().message() << "\n";
            return 1;
        }
        auto id = store::load_or_create_identity(*dir, now);
        auto st = store::PeerStore::open(*dir);
        if (!id || !st) {
            std::cerr << "blueratchet-sim: cannot open the store in " << dir->path() << "\n";
            return 1;
        }
        devices.push_back(
            std::make_unique<Device>(name, std::move(*dir), std::move(*id), std::move(*st)));
    }

    std::mt19937_64 rng(seed);
    int handshakes = 0, failures = 0, retries = 0;
    double sum_cpu[2][2] = {};  // [kind][side]
    int count[2] = {};
    std::size_t sum_bytes[2] = {};
    int sum_flights[2] = {};
    Device& a = *devices[0];
    if (!quiet)
        std::cout << "kind    pair                    epoch att msgs  A->B  B->A air-bytes flights "
                     " cpu-A ms  cpu-B ms  sim ms  short-code\n";
    for (int p = 1; p < peers; ++p) {
        Device& b = *devices[static_cast<std::size_t>(p)];
        for (int round = 0; round <= reconnects; ++round) {
            Result r;
            int attempt = 0;
            for (attempt = 1; attempt <= max_attempts; ++attempt) {
                r = connect_once(a, b, link, rng, now, validity, timeout_ms);
                if (r.ok) break;
                ++retries;
                if (!quiet)
                    std::cout << "  attempt " << attempt << " " << a.name << "-" << b.name
                              << " failed: " << r.failure << "\n";
            }
            ++handshakes;
            if (!r.ok) {
                ++failures;
                std::cerr << "blueratchet-sim: " << a.name << "-" << b.name << " round " << round
                          << " failed after " << max_attempts << " attempts: " << r.failure << "\n";
                continue;
            }
            int k = r.kind == handshake::Kind::Pair ? 0 : 1;
            sum_cpu[k][0] += r.cpu_a;
            sum_cpu[k][1] += r.cpu_b;
            sum_bytes[k] += r.ab.air_bytes + r.ba.air_bytes;
            sum_flights[k] += r.flights;
            ++count[k];
            if (!quiet) {
                std::printf(
                    "%-7s %-23s %5u %3d %4zu %5zu %5zu %9zu %4d (%.1f RTT) %8.3f %9.3f %7.1f  %s\n",
                    handshake::to_string(r.kind), (a.name + "-" + b.name).c_str(), r.a->epoch,
                    attempt, r.ab.messages + r.ba.messages, r.ab.message_bytes, r.ba.message_bytes,
                    r.ab.air_bytes + r.ba.air_bytes, r.flights, r.flights / 2.0, r.cpu_a, r.cpu_b,
                    r.virtual_ms, r.a->short_code.c_str());
            }
            if (r.a->fingerprint != r.b->fingerprint || r.a->short_code != r.b->short_code) {
                std::cerr << "blueratchet-sim: fingerprints or short codes differ\n";
                return 1;
            }
            if (!out_dir.empty()) {
                fs::path base = fs::path(out_dir) / (a.name + "-" + b.name);
                std::string ep = "epoch-" + std::to_string(r.a->epoch);
                if (!export_side(base / "A" / ep, *r.a) || !export_side(base / "B" / ep, *r.b)) {
                    std::cerr << "blueratchet-sim: cannot write " << base << "\n";
                    return 1;
                }
            }
            // The link drops after each connection: both sessions are invalidated.
            r.a->invalidate(InvalidationReason::LinkLost);
            r.b->invalidate(InvalidationReason::LinkLost);
        }
    }

    std::printf(
        "\nsummary: %d handshakes, %d failed, %d retried connections; MTU %zu, latency %.1f ms, "
        "loss %.3f\n",
        handshakes, failures, retries, link.att_mtu, link.latency_ms, link.loss);
    for (int k = 0; k < 2; ++k) {
        if (!count[k]) continue;
        std::printf("  %-6s mean: cpu A %.3f ms, cpu B %.3f ms, %zu air bytes, %.1f flights\n",
                    k == 0 ? "pair" : "resume", sum_cpu[k][0] / count[k], sum_cpu[k][1] / count[k],
                    sum_bytes[k] / static_cast<std::size_t>(count[k]),
                    static_cast<double>(sum_flights[k]) / count[k]);
    }
    if (temp_state) {
        std::error_code ec;
        fs::remove_all(state_dir, ec);
    }
    return failures == 0 ? 0 : 1;
}
