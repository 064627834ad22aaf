// SPDX-License-Identifier: MIT
// Secret<N>: N bytes of key material in libsodium guarded memory.
//
// The bytes live in libsodium guarded memory (locked out of swap, fenced by
// guard pages; small secrets share guarded regions, see secret_arena.hpp)
// and are zeroed the moment they are released.  Every
// key, seed and shared secret in the core lives in one of these so that
// invalidation is a single wipe() and nothing lingers in freed heap memory.
// Move-only: a secret has exactly one owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/util/bytes.hpp"

namespace br {

// Initialises libsodium once; safe to call from anywhere, any number of times.
// Aborts the process if libsodium cannot initialise (no usable RNG).
void crypto_init();

class SecretBytes {
  public:
    // Allocates `size` guarded bytes, zero-filled.
    explicit SecretBytes(std::size_t size);
    SecretBytes(ByteView init);
    ~SecretBytes();
    SecretBytes(SecretBytes&& other) noexcept;
    SecretBytes& operator=(SecretBytes&& other) noexcept;
    SecretBytes(const SecretBytes&) = delete;
    SecretBytes& operator=(const SecretBytes&) = delete;

    // A copy in fresh guarded memory (explicit, so copies are visible in code).
    SecretBytes clone() const;

    std::uint8_t* data() { return ptr_; }
    const std::uint8_t* data() const { return ptr_; }
    std::size_t size() const { return ptr_ ? size_ : 0; }
    bool empty() const { return ptr_ == nullptr; }
    std::span<std::uint8_t> span() { return {ptr_, size()}; }
    ByteView view() const { return {ptr_, size()}; }

    // Zeroes and releases the memory; afterwards empty() is true.
    void wipe();

  private:
    std::uint8_t* ptr_ = nullptr;
    std::size_t size_ = 0;
    bool arena_ = false;  // from secret_arena (small) or its own sodium_malloc
};

// Constant-time equality for secrets and authenticators (sodium_memcmp).
// Different lengths compare unequal; the length itself is not secret.
bool ct_equal(ByteView a, ByteView b);

// Overwrites ordinary memory that briefly held a secret (sodium_memzero).
void wipe_memory(void* p, std::size_t n);

// Fills `out` from the OS CSPRNG.
void random_bytes(std::span<std::uint8_t> out);

}  // namespace br
