#include "core/handshake/store_peer_book.hpp"

namespace br::handshake {

std::optional<ratchet::Holdings> StorePeerBook::holdings(const DeviceId& peer) {
    if (!store_.find(peer)) return std::nullopt;
    auto secrets = store_.load_secrets(peer);
    if (!secrets) {
        last_error_ = secrets.error().message();
        return std::nullopt;
    }
    last_error_.clear();
    std::vector<ratchet::EpochSeed> seeds;
    seeds.push_back({secrets->committed_epoch, std::move(secrets->committed_seed)});
    if (secrets->pending_epoch)
        seeds.push_back({*secrets->pending_epoch, std::move(*secrets->pending_seed)});
    return ratchet::Holdings::from(std::move(seeds));
}

bool StorePeerBook::persist(const DeviceId& peer, PeerRole role, const ratchet::Holdings& h) {
    if (h.empty()) return false;
    store::PeerRecord rec{store::PeerInfo{}, h.oldest().seed.clone(), std::nullopt};
    if (const auto* info = store_.find(peer)) {
        rec.info = *info;
    } else {
        rec.info.id = peer;
        rec.info.created_unix = now_;
    }
    rec.info.role =
        role == PeerRole::Initiator ? store::PeerRole::Initiator : store::PeerRole::Responder;
    rec.info.last_seen_unix = now_;
    rec.info.committed_epoch = h.oldest().epoch;
    if (h.size() == 2) {
        rec.info.pending_epoch = h.newest().epoch;
        rec.pending_seed = h.newest().seed.clone();
    } else {
        rec.info.pending_epoch.reset();
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
