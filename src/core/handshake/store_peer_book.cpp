// SPDX-License-Identifier: MIT
#include "core/handshake/store_peer_book.hpp"

namespace br::handshake {

std::optional<BookEntry> StorePeerBook::load(const DeviceId& peer) {
    const store::PeerInfo* info = store_.find(peer);
    if (info == nullptr) return std::nullopt;
    auto secrets = store_.load_secrets(peer);
    if (!secrets) return std::nullopt;  // unreadable: as unknown (PeerStore::open logged it)
    std::vector<ratchet::EpochSeed> seeds;
    for (auto& s : *secrets) seeds.push_back({s.epoch, std::move(s.seed)});
    auto held = ratchet::Holdings::from(std::move(seeds));
    if (!held) return std::nullopt;  // seeds out of shape: as unknown
    const Version v = info->protocol == store::PeerProtocol::V1_1 ? Version::V1_1 : Version::V1_0;
    return BookEntry{std::move(*held), v};
}

Expected<void, std::string> StorePeerBook::persist(const DeviceId& peer, Role role,
                                                   const ratchet::Holdings& h, Version version) {
    if (h.empty()) return unexpected(std::string("no seed to store"));
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
    if (!saved) return unexpected(saved.error().message());
    return {};
}

}  // namespace br::handshake
