// SPDX-License-Identifier: MIT
// A PeerBook over a std::map, for the benchmarks: no disk, so an engine's
// measured cost is its own (plus rebuilding Holdings in guarded memory, which
// any real book does too).
#pragma once

#include <map>
#include <utility>
#include <vector>

#include "core/handshake/peer_book.hpp"

namespace br::bench {

class BenchBook : public handshake::PeerBook {
  public:
    std::optional<handshake::BookEntry> load(const handshake::DeviceId& peer) override {
        auto it = disk_.find(peer);
        if (it == disk_.end()) return std::nullopt;
        std::vector<ratchet::EpochSeed> seeds;
        for (const auto& [epoch, seed] : it->second)
            seeds.push_back({epoch, SecretBytes(ByteView(seed))});
        auto held = ratchet::Holdings::from(std::move(seeds));
        if (!held) return std::nullopt;
        return handshake::BookEntry{std::move(*held), handshake::Version::V1_1};
    }
    bool has(const handshake::DeviceId& peer) override { return knows(peer); }
    Expected<void, std::string> persist(const handshake::DeviceId& peer, Role,
                                        const ratchet::Holdings& h, handshake::Version) override {
        std::vector<std::pair<std::uint32_t, Bytes>> rec;
        for (const auto& s : h.seeds()) {
            ByteView v = s.seed.view();
            rec.emplace_back(s.epoch, Bytes(v.begin(), v.end()));
        }
        disk_[peer] = std::move(rec);
        return {};
    }
    bool knows(const handshake::DeviceId& peer) const { return disk_.count(peer) != 0; }

  private:
    std::map<handshake::DeviceId, std::vector<std::pair<std::uint32_t, Bytes>>> disk_;
};

}  // namespace br::bench
