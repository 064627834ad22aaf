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
    std::sort(seeds.begin(), seeds.end(),
              [](const EpochSeed& a, const EpochSeed& b) { return a.epoch < b.epoch; });
    for (std::size_t i = 1; i < seeds.size(); ++i)
        if (seeds[i].epoch == seeds[i - 1].epoch) return std::nullopt;
    for (const auto& s : seeds)
        if (s.seed.size() != kSeedLen) return std::nullopt;
    Holdings h;
    h.seeds_ = std::move(seeds);
    return h;
}

std::vector<std::uint32_t> Holdings::epochs() const {
    std::vector<std::uint32_t> out;
    for (const auto& s : seeds_) out.push_back(s.epoch);
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

bool Holdings::advance(std::uint32_t chosen, SecretBytes next) {
    auto it = std::find_if(seeds_.begin(), seeds_.end(),
                           [&](const EpochSeed& s) { return s.epoch == chosen; });
    if (it == seeds_.end()) return false;
    EpochSeed kept = std::move(*it);
    for (auto& s : seeds_) s.seed.wipe();
    seeds_.clear();
    seeds_.push_back(std::move(kept));
    seeds_.push_back(EpochSeed{chosen + 1, std::move(next)});
    return true;
}

void Holdings::commit(std::uint32_t epoch, SecretBytes seed) {
    for (auto& s : seeds_) s.seed.wipe();
    seeds_.clear();
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
