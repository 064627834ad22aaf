// SPDX-License-Identifier: MIT
// Guarded memory for small secrets, without a system call per secret.
//
// sodium_malloc gives each allocation its own guard pages, mlock and
// mprotect: about five system calls and 24 us per allocation, and a resume
// makes some 56 short-lived secrets (keys, chaining keys, seeds).  Measured
// by tests/bench/bench_core, that was more than half of a resume's cost.
//
// The arena takes 64 KiB regions from sodium_malloc (so each region is
// locked out of swap, canary-checked and fenced by guard pages) and hands
// out fixed 64-byte slots from them.  A released slot is zeroed at once.
// What is given up: an overflow from one slot into its neighbour inside a
// region is not trapped (the region's guard pages still trap running off
// either end).  Larger secrets still get their own sodium_malloc.
#pragma once

#include <cstddef>
#include <cstdint>

namespace br {

inline constexpr std::size_t kArenaSlot = 64;

// A zeroed slot of kArenaSlot bytes, or nullptr if `size` is too large for a
// slot (the caller then uses sodium_malloc).  Thread-safe.
std::uint8_t* arena_allocate(std::size_t size);
// Zeroes the slot and returns it to the arena.
void arena_release(std::uint8_t* slot);
// True when `p` is a slot of the arena (used to route frees).
bool arena_owns(const std::uint8_t* p);

struct ArenaStats {
    std::size_t regions = 0;
    std::size_t slots_in_use = 0;
};
ArenaStats arena_stats();

}  // namespace br
