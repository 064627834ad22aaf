// SPDX-License-Identifier: MIT
// PeerBook on the durable store: the glue every real user of the handshake
// (daemon, simulator) needs between src/core/handshake and src/core/store.
#pragma once

#include <string>

#include "core/handshake/peer_book.hpp"
#include "core/store/peer_store.hpp"

namespace br::handshake {

class StorePeerBook : public PeerBook {
  public:
    explicit StorePeerBook(store::PeerStore& store, std::int64_t now_unix = 0)
        : store_(store), now_(now_unix) {}

    std::optional<BookEntry> load(const DeviceId& peer) override;
    bool has(const DeviceId& peer) override { return store_.find(peer) != nullptr; }
    Expected<void, std::string> persist(const DeviceId& peer, Role role, const ratchet::Holdings& h,
                                        Version version) override;

    void set_now(std::int64_t now_unix) { now_ = now_unix; }

  private:
    store::PeerStore& store_;
    std::int64_t now_;
};

}  // namespace br::handshake
