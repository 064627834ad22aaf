// SPDX-License-Identifier: MIT
#include "core/crypto/secret.hpp"

#include "core/crypto/secret_arena.hpp"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace br {

void crypto_init() {
    static const bool ok = sodium_init() >= 0;
    if (!ok) std::abort();
}

SecretBytes::SecretBytes(std::size_t size) : size_(size) {
    crypto_init();
    // Small secrets (every key and seed) come from the guarded arena;
    // anything larger gets its own guard pages.
    ptr_ = arena_allocate(size);
    if (ptr_) {
        arena_ = true;
        return;
    }
    ptr_ = static_cast<std::uint8_t*>(sodium_malloc(size));
    if (!ptr_) throw std::bad_alloc();
    sodium_memzero(ptr_, size);
}

SecretBytes::SecretBytes(ByteView init) : SecretBytes(init.size()) {
    if (!init.empty()) std::memcpy(ptr_, init.data(), init.size());
}

SecretBytes::~SecretBytes() {
    wipe();
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : ptr_(std::exchange(other.ptr_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      arena_(std::exchange(other.arena_, false)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
        wipe();
        ptr_ = std::exchange(other.ptr_, nullptr);
        size_ = std::exchange(other.size_, 0);
        arena_ = std::exchange(other.arena_, false);
    }
    return *this;
}

SecretBytes SecretBytes::clone() const {
    return SecretBytes(view());
}

void SecretBytes::wipe() {
    if (ptr_) {
        // Both zero the bytes before anything else can reuse them.
        if (arena_)
            arena_release(ptr_);
        else
            sodium_free(ptr_);
        ptr_ = nullptr;
    }
    size_ = 0;
    arena_ = false;
}

bool ct_equal(ByteView a, ByteView b) {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

void wipe_memory(void* p, std::size_t n) {
    // libsodium declares its pointers non-null, even for zero lengths.
    if (p == nullptr || n == 0) return;
    sodium_memzero(p, n);
}

void random_bytes(std::span<std::uint8_t> out) {
    if (out.empty()) return;  // an empty span may have a null data()
    crypto_init();
    randombytes_buf(out.data(), out.size());
}

}  // namespace br
