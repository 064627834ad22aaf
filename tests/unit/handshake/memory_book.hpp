// SPDX-License-Identifier: MIT
// A PeerBook whose "disk" is a map: what persist() wrote survives a simulated
// crash (the engines are destroyed), and persist() can be made to fail.
#pragma once

#include <map>
#include <vector>

#include "core/handshake/peer_book.hpp"

namespace br::test {

struct StoredSeed {
    std::uint32_t epoch;
    Bytes seed;
    bool operator==(const StoredSeed&) const = default;
};

class MemoryBook : public handshake::PeerBook {
  public:
    std::optional<handshake::BookEntry> load(const handshake::DeviceId& peer) override {
        auto it = disk.find(peer);
        if (it == disk.end()) return std::nullopt;
        std::vector<ratchet::EpochSeed> seeds;
        for (const auto& s : it->second) seeds.push_back({s.epoch, SecretBytes(ByteView(s.seed))});
        auto held = ratchet::Holdings::from(std::move(seeds));
        if (!held) return std::nullopt;
        return handshake::BookEntry{std::move(*held), versions[peer]};
    }
    bool has(const handshake::DeviceId& peer) override { return disk.count(peer) != 0; }
    Expected<void, std::string> persist(const handshake::DeviceId& peer, Role role,
                                        const ratchet::Holdings& h,
                                        handshake::Version version) override {
        if (fail_writes) return unexpected(std::string("test: the write fails"));
        std::vector<StoredSeed> rec;
        for (const auto& s : h.seeds()) {
            ByteView v = s.seed.view();
            rec.push_back({s.epoch, Bytes(v.begin(), v.end())});
        }
        disk[peer] = std::move(rec);
        roles[peer] = role;
        versions[peer] = version;
        ++writes;
        return {};
    }

    std::map<handshake::DeviceId, std::vector<StoredSeed>> disk;
    std::map<handshake::DeviceId, Role> roles;
    std::map<handshake::DeviceId, handshake::Version> versions;
    bool fail_writes = false;
    int writes = 0;
};

// True when the two books share one (epoch, seed) pair for each other.
inline bool share_a_seed(const std::vector<StoredSeed>& a, const std::vector<StoredSeed>& b) {
    for (const auto& x : a)
        for (const auto& y : b)
            if (x.epoch == y.epoch && x.seed == y.seed) return true;
    return false;
}

}  // namespace br::test
