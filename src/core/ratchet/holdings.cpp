// SPDX-License-Identifier: MIT
#include "core/ratchet/holdings.hpp"

#include <algorithm>

namespace br::ratchet {

Holdings Holdings::paired(SecretBytes seed1) {
    Holdings h;
    h.seeds_.push_back(EpochSeed{1, std::move(seed1)});
    return h;
}

std::optional<Holdings> Holdings::from(std::vector<EpochSeed> seeds) {
    if (seeds.empty() || seeds.size() > kMaxHeld) return std::nullopt;
    std::size_t same = 1;
    for (std::size_t i = 0; i < seeds.size(); ++i) {
        if (seeds[i].seed.size() != kSeedLen || seeds[i].epoch == 0) return std::nullopt;
        if (i == 0) continue;
        if (seeds[i].epoch < seeds[i - 1].epoch) return std::nullopt;
        same = seeds[i].epoch == seeds[i - 1].epoch ? same + 1 : 1;
        if (same > 2) return std::nullopt;
    }
    if (seeds.back().epoch - seeds.front().epoch > 1) return std::nullopt;
    Holdings h;
    h.seeds_ = std::move(seeds);
    return h;
}

std::vector<std::uint32_t> Holdings::epochs() const {
    std::vector<std::uint32_t> out;
    for (const auto& s : seeds_)
        if (out.empty() || out.back() != s.epoch) out.push_back(s.epoch);
    return out;
}

const EpochSeed* Holdings::find(std::uint32_t epoch) const {
    for (const auto& s : seeds_)
        if (s.epoch == epoch) return &s;
    return nullptr;
}

std::optional<std::uint32_t> Holdings::choose(std::span<const std::uint32_t> offered) const {
    std::optional<std::uint32_t> best;
    for (std::uint32_t e : offered)
        if (find(e) && (!best || e > *best)) best = e;
    return best;
}

bool Holdings::advance(std::size_t chosen, SecretBytes next) {
    if (chosen >= seeds_.size()) return false;
    const std::uint32_t e = seeds_[chosen].epoch;
    std::vector<EpochSeed> kept;
    kept.push_back(std::move(seeds_[chosen]));
    // The newest seed newer than the chosen one: the responder may hold it
    // (it committed it and its CONFIRM was lost), whoever answered now.  Of
    // two such seeds only the newer can be the responder's: the older one's
    // chooser never committed it, or it would have chosen it next time.
    for (std::size_t i = seeds_.size(); i-- > 0;) {
        if (i != chosen && seeds_[i].epoch > e) {
            kept.push_back(std::move(seeds_[i]));
            break;
        }
    }
    kept.push_back(EpochSeed{e + 1, std::move(next)});
    wipe();
    seeds_ = std::move(kept);
    return true;
}

bool Holdings::prune(std::uint32_t chosen_epoch) {
    std::vector<EpochSeed> kept;
    for (auto& s : seeds_)
        if (s.epoch > chosen_epoch) kept.push_back(std::move(s));
    if (kept.empty()) return false;
    wipe();
    seeds_ = std::move(kept);
    return true;
}

void Holdings::commit(std::uint32_t epoch, SecretBytes seed) {
    wipe();
    seeds_.push_back(EpochSeed{epoch, std::move(seed)});
}

Holdings Holdings::clone() const {
    Holdings h;
    for (const auto& s : seeds_) h.seeds_.push_back(s.clone());
    return h;
}

void Holdings::wipe() {
    for (auto& s : seeds_) s.seed.wipe();
    seeds_.clear();
}

SecretBytes next_seed(ByteView seed, const Hash& handshake_hash, ByteView ids) {
    Bytes ctx;
    append(ctx, handshake_hash);
    append(ctx, ids);
    return derive_secret(seed, "ratchet", ctx, kSeedLen);
}

SecretBytes first_seed(const SecretBytes& handshake_secret, const Hash& handshake_hash,
                       ByteView ids) {
    Bytes ctx;
    append(ctx, handshake_hash);
    append(ctx, ids);
    return derive_secret(handshake_secret.view(), "pair seed", ctx, kSeedLen);
}

}  // namespace br::ratchet
