#include "core/handshake/store_peer_book.hpp"

namespace br::handshake {

std::optional<BookEntry> StorePeerBook::load(const DeviceId& peer) {
    const store::PeerInfo* info = store_.find(peer);
    if (info == nullptr) return std::nullopt;
    auto secrets = store_.load_secrets(peer);
    if (!secrets) {
        last_error_ = secrets.error().message();
        return std::nullopt;
    }
    last_error_.clear();
    std::vector<ratchet::EpochSeed> seeds;
    for (auto& s : *secrets) seeds.push_back({s.epoch, std::move(s.seed)});
    auto held = ratchet::Holdings::from(std::move(seeds));
    if (!held) {
        last_error_ = "stored seeds out of shape";
        return std::nullopt;
    }
    const Version v = info->protocol == store::PeerProtocol::V1_1 ? Version::V1_1 : Version::V1_0;
    return BookEntry{std::move(*held), v};
}

bool StorePeerBook::persist(const DeviceId& peer, Role role, const ratchet::Holdings& h,
                            Version version) {
    if (h.empty()) return false;
    store::PeerRecord rec{store::PeerInfo{}, {}};
    if (const auto* info = store_.find(peer)) {
        rec.info = *info;
    } else {
        rec.info.id = peer;
        rec.info.created_unix = now_;
    }
    rec.info.role = role;
    rec.info.protocol =
        version == Version::V1_1 ? store::PeerProtocol::V1_1 : store::PeerProtocol::V1_0;
    rec.info.last_seen_unix = now_;
    rec.info.epochs.clear();
    for (const auto& s : h.seeds()) {
        rec.info.epochs.push_back(s.epoch);
        rec.seeds.push_back(store::StoredSeed{s.epoch, s.seed.clone()});
    }
    auto saved = store_.save(rec);
    if (!saved) {
        last_error_ = saved.error().message();
        return false;
    }
    last_error_.clear();
    return true;
}

}  // namespace br::handshake
