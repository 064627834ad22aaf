// SPDX-License-Identifier: MIT
#include "core/crypto/secret_arena.hpp"

#include <sodium.h>

#include <mutex>
#include <new>
#include <vector>

namespace br {
namespace {

constexpr std::size_t kRegionBytes = std::size_t{64} * 1024;
constexpr std::size_t kSlotsPerRegion = kRegionBytes / kArenaSlot;

struct Arena {
    std::mutex mu;
    std::vector<std::uint8_t*> regions;  // never returned: bounded by peak use
    std::vector<std::uint8_t*> free_slots;
    std::size_t in_use = 0;

    void grow() {
        auto* region = static_cast<std::uint8_t*>(sodium_malloc(kRegionBytes));
        if (!region) throw std::bad_alloc();
        sodium_memzero(region, kRegionBytes);
        regions.push_back(region);
        free_slots.reserve(free_slots.size() + kSlotsPerRegion);
        // Hand out low addresses first (pure cosmetics for debugging).
        for (std::size_t i = kSlotsPerRegion; i-- > 0;)
            free_slots.push_back(region + i * kArenaSlot);
    }
};

Arena& arena() {
    // Leaked on purpose: secrets may be released by static destructors.
    static Arena* a = new Arena;
    return *a;
}

}  // namespace

std::uint8_t* arena_allocate(std::size_t size) {
    if (size > kArenaSlot) return nullptr;
    Arena& a = arena();
    std::lock_guard lock(a.mu);
    if (a.free_slots.empty()) a.grow();
    std::uint8_t* slot = a.free_slots.back();
    a.free_slots.pop_back();
    ++a.in_use;
    return slot;
}

bool arena_owns(const std::uint8_t* p) {
    Arena& a = arena();
    std::lock_guard lock(a.mu);
    for (const std::uint8_t* r : a.regions)
        if (p >= r && p < r + kRegionBytes) return true;
    return false;
}

void arena_release(std::uint8_t* slot) {
    sodium_memzero(slot, kArenaSlot);
    Arena& a = arena();
    std::lock_guard lock(a.mu);
    a.free_slots.push_back(slot);
    --a.in_use;
}

ArenaStats arena_stats() {
    Arena& a = arena();
    std::lock_guard lock(a.mu);
    return ArenaStats{a.regions.size(), a.in_use};
}

}  // namespace br
