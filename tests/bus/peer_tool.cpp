// SPDX-License-Identifier: MIT
// br-bus-peer: the remote central of the bus tier (tests/bus/run).
//
// It is the protocol side of a phone or gateway that connects to
// blueratchetd's GATT server: the real core (handshake::Initiator, the frame
// layer, the store in its own state directory), driven line by line over
// stdin/stdout so the BlueZ simulator can carry its fragments:
//
//   in:  pair MTU           start a first contact (Noise XX)
//        resume MTU         start a resume with the one peripheral we know
//        resume10 MTU       the same in protocol 1.0 (what a central does after a
//                           1.0 peripheral refused its 1.1 resume)
//        recv HEX           one ATT value the peripheral notified
//        bond PASSKEY       our bluetoothd's passkey, over the live session (BOND)
//        garbage MTU        a well-framed message that is not a handshake message
//        use N              become central number N (its own identity and store
//                           under DIR/N, created on first use): one process
//                           plays many devices for the load case
//        quit
//   out: frag HEX           one ATT value to write to the peripheral's rx
//        code SHORT_CODE    a first contact's code (the tool approves at once)
//        done KIND EPOCH FINGERPRINT SHORT_CODE PEER_ID NOT_AFTER
//        confirmed          a 1.1 resume's CONFIRM arrived (older seeds wiped)
//        bond PASSKEY       the peripheral's BOND
//        id DEVICE_ID       (after use) the identity now in use
//        fail REASON
//        error REASON       (a bad command)
//        end                after every command: nothing more until the next one
//
// Options: --state DIR (required), --validity SECONDS (of the certificates we
// mint; the session's not_after is the earlier of both sides', so a short one
// makes the daemon's session expire soon), --clock-offset SECONDS.
//
// br-bus-peer --state DIR --fill ADAPTER_DIR N writes N peer records into
// DIR/ADAPTER_DIR as N first contacts with centrals would have left them
// (the daemon's side: for the bus tier's many-peers case, which needs a big
// store faster than N pairings), prints "stored HEX_ID ADDRESS ALIAS" for
// each and exits.
#include <sodium.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/frame/frame.hpp"
#include "core/handshake/engine.hpp"
#include "core/handshake/pump.hpp"
#include "core/handshake/store_peer_book.hpp"
#include "core/store/peer_store.hpp"
#include "core/store/state.hpp"

using namespace br;

namespace {

std::string b64url(ByteView v) {
    std::string out(sodium_base64_ENCODED_LEN(v.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                    '\0');
    sodium_bin2base64(out.data(), out.size(), v.data(), v.size(),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out.resize(std::char_traits<char>::length(out.c_str()));
    return out;
}

struct Peer {
    store::AdapterDir dir;
    Ed25519KeyPair identity;
    store::PeerStore store;
    handshake::StorePeerBook book;
    cert::ReplayCache replay;
    Peer(store::AdapterDir d, Ed25519KeyPair id, store::PeerStore s)
        : dir(std::move(d)), identity(std::move(id)), store(std::move(s)), book(store) {}
};

std::unique_ptr<Peer> open_peer(const std::string& state, std::uint32_t now) {
    auto dir = store::AdapterDir::open(state, "central");
    if (!dir) {
        std::cerr << "br-bus-peer: " << dir.error().message() << "\n";
        return nullptr;
    }
    auto id = store::load_or_create_identity(*dir, now);
    auto st = store::PeerStore::open(*dir);
    if (!id || !st) {
        std::cerr << "br-bus-peer: cannot open the store in " << state << "\n";
        return nullptr;
    }
    return std::make_unique<Peer>(std::move(*dir), std::move(*id), std::move(*st));
}

// The records a peripheral keeps after `count` first contacts (committed
// epoch 1, one seed), with random ids, distinct addresses and aliases.
int fill(const std::string& state, const std::string& adapter, long count) {
    auto dir = store::AdapterDir::open(state, adapter);
    if (!dir) {
        std::cerr << "br-bus-peer: " << dir.error().message() << "\n";
        return 1;
    }
    auto st = store::PeerStore::open(*dir);
    if (!st) {
        std::cerr << "br-bus-peer: " << st.error().message() << "\n";
        return 1;
    }
    auto now = static_cast<std::int64_t>(std::time(nullptr));
    for (long n = 0; n < count; ++n) {
        store::PeerRecord rec{store::PeerInfo{}, {}};
        rec.seeds.push_back(store::StoredSeed{1, SecretBytes(store::kSeedLen)});
        randombytes_buf(rec.info.id.data(), rec.info.id.size());
        randombytes_buf(rec.seeds[0].seed.data(), rec.seeds[0].seed.size());
        rec.info.role = Role::Initiator;  // the peer is the central
        rec.info.protocol = store::PeerProtocol::V1_1;
        rec.info.epochs = {1};
        rec.info.created_unix = rec.info.last_seen_unix = now - n;
        char addr[18];
        std::snprintf(addr, sizeof addr, "C2:00:00:%02X:%02X:%02X",
                      static_cast<unsigned>((n >> 16) & 0xff),
                      static_cast<unsigned>((n >> 8) & 0xff), static_cast<unsigned>(n & 0xff));
        rec.info.address = addr;
        rec.info.alias = "stored-" + std::to_string(n);
        if (auto r = st->save(rec); !r) {
            std::cerr << "br-bus-peer: " << r.error().message() << "\n";
            return 1;
        }
        std::cout << "stored " << to_hex(rec.info.id) << " " << addr << " " << rec.info.alias
                  << "\n";
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string state;
    std::uint32_t validity = 3600;
    long offset = 0;
    std::string fill_adapter;
    long fill_count = -1;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--state" && i + 1 < argc) {
            state = argv[++i];
        } else if (a == "--validity" && i + 1 < argc) {
            validity = static_cast<std::uint32_t>(std::strtoul(argv[++i], nullptr, 10));
        } else if (a == "--clock-offset" && i + 1 < argc) {
            offset = std::strtol(argv[++i], nullptr, 10);
        } else if (a == "--fill" && i + 2 < argc) {
            fill_adapter = argv[++i];
            fill_count = std::strtol(argv[++i], nullptr, 10);
        } else {
            std::cerr << "usage: br-bus-peer --state DIR [--validity S] [--clock-offset S]\n"
                         "       br-bus-peer --state DIR --fill ADAPTER_DIR N\n";
            return 2;
        }
    }
    if (state.empty() || sodium_init() < 0) return 2;
    if (fill_count >= 0) return fill(state, fill_adapter, fill_count);
    auto now = [offset] { return static_cast<std::uint32_t>(std::time(nullptr) + offset); };

    std::map<std::string, std::unique_ptr<Peer>> peers;  // by state directory
    auto first = open_peer(state, now());
    if (!first) return 1;
    Peer* cur = first.get();
    peers[state] = std::move(first);
    std::cerr << "br-bus-peer: identity " << b64url(cur->identity.public_key()) << "\n";

    handshake::Settings settings{validity};
    // One pump per connection: every pair/resume/garbage command is a new
    // link, as a phone that connects again.
    std::optional<handshake::Pump> pump;
    handshake::Initiator* ini = nullptr;  // the running handshake's engine (owned by pump)
    auto new_link = [&](std::size_t mtu) {
        handshake::PumpEvents ev;
        ev.approval_needed = [&](const std::string& code) {
            // The central's side of the comparison: this tool's user always
            // says yes (the daemon's side is what the bus tier tests).
            std::cout << "code " << code << "\n";
            pump->approve(true);
        };
        ev.session = [](handshake::Session s) {
            std::cout << "done " << handshake::to_string(s.kind) << " " << s.epoch << " "
                      << to_hex(s.fingerprint) << " " << s.short_code << " " << b64url(s.peer_id)
                      << " " << s.not_after() << "\n";
        };
        ev.confirmed = [] { std::cout << "confirmed\n"; };
        ev.bond = [](std::uint32_t passkey) { std::cout << "bond " << passkey << "\n"; };
        ev.failed = [](const handshake::PumpFailure& f) {
            if (f.kind == handshake::PumpFailure::Kind::Handshake && f.handshake)
                std::cout << "fail " << f.handshake->describe() << "\n";
            else if (f.kind == handshake::PumpFailure::Kind::Framing && f.framing)
                std::cout << "fail frame " << frame::to_string(*f.framing) << "\n";
            else
                std::cout << "fail " << f.describe() << "\n";
        };
        handshake::PumpTransport io{[](ByteView f) {
                                        std::cout << "frag " << to_hex(f) << "\n";
                                        return true;
                                    },
                                    mtu};
        pump.emplace(std::move(io), std::move(ev));
        ini = nullptr;
    };

    std::string line;
    while (std::getline(std::cin, line)) {
        auto sp = line.find(' ');
        std::string cmd = line.substr(0, sp);
        std::string arg = sp == std::string::npos ? "" : line.substr(sp + 1);
        if (cmd == "quit") break;
        if (cmd == "use") {
            // One handshake at a time: switching drops whatever was running.
            std::string dir = state + "/" + arg;
            auto& p = peers[dir];
            if (!p) {
                ::mkdir(dir.c_str(), 0700);
                p = open_peer(dir, now());
            }
            if (!p) {
                peers.erase(dir);
                std::cout << "error cannot open " << dir << "\nend" << std::endl;
                continue;
            }
            cur = p.get();
            pump.reset();
            ini = nullptr;
            std::cout << "id " << b64url(cur->identity.public_key()) << "\nend" << std::endl;
            continue;
        }
        if (cmd == "pair" || cmd == "resume" || cmd == "resume10" || cmd == "garbage") {
            std::optional<handshake::DeviceId> peer;
            if (cmd == "resume" || cmd == "resume10") {
                for (const auto& [pid, info] : cur->store.peers())
                    if (info.role == Role::Responder) peer = pid;
                if (!peer) {
                    std::cout << "error no peripheral stored to resume with\nend" << std::endl;
                    continue;
                }
            }
            new_link(arg.empty() ? 23 : std::strtoul(arg.c_str(), nullptr, 10));
            if (cmd == "garbage") {
                pump->send_message(Bytes(40, 0xee));
            } else {
                cur->book.set_now(now());
                auto engine = std::make_unique<handshake::Initiator>(cur->identity, peer, cur->book,
                                                                     cur->replay, settings, now());
                if (cmd == "resume10") engine->resume_in_1_0();
                ini = engine.get();
                pump->start(std::move(engine));
            }
        } else if (cmd == "bond") {
            // Our bluetoothd's passkey, sent over the live session (BOND).
            if (!pump || !pump->send_bond(
                             static_cast<std::uint32_t>(std::strtoul(arg.c_str(), nullptr, 10))))
                std::cout << "error no session\n";
        } else if (cmd == "recv") {
            auto bytes = from_hex(arg);
            if (!bytes)
                std::cout << "error bad hex\n";
            else if (!ini || pump->state() == handshake::Pump::State::Failed)
                std::cout << "error a message with no handshake running\n";
            else
                pump->on_fragment(*bytes);
        } else {
            std::cout << "error unknown command " << cmd << "\n";
        }
        std::cout << "end" << std::endl;
    }
    return 0;
}
