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
};

class MemoryBook : public handshake::PeerBook {
  public:
    std::optional<ratchet::Holdings> holdings(const handshake::DeviceId& peer) override {
        auto it = disk.find(peer);
        if (it == disk.end()) return std::nullopt;
        std::vector<ratchet::EpochSeed> seeds;
        for (const auto& s : it->second) seeds.push_back({s.epoch, SecretBytes(ByteView(s.seed))});
        return ratchet::Holdings::from(std::move(seeds));
    }
    bool persist(const handshake::DeviceId& peer, handshake::PeerRole role,
                 const ratchet::Holdings& h) override {
        if (fail_writes) return false;
        std::vector<StoredSeed> rec;
        for (std::uint32_t e : h.epochs()) {
            ByteView v = h.find(e)->seed.view();
            rec.push_back({e, Bytes(v.begin(), v.end())});
        }
        disk[peer] = std::move(rec);
        roles[peer] = role;
        ++writes;
        return true;
    }

    std::map<handshake::DeviceId, std::vector<StoredSeed>> disk;
    std::map<handshake::DeviceId, handshake::PeerRole> roles;
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
