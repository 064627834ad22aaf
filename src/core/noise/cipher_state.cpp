// SPDX-License-Identifier: MIT
#include "core/noise/cipher_state.hpp"

#include <limits>

#include "core/crypto/aead.hpp"

namespace br::noise {
namespace {
constexpr std::uint64_t kReservedNonce = std::numeric_limits<std::uint64_t>::max();
}

void CipherState::initialize_key(ByteView key) {
    clear();
    if (key.size() == kAeadKeyLen) k_.emplace(key);
    n_ = 0;
}

CipherState CipherState::clone() const {
    CipherState c;
    if (k_) c.k_.emplace(k_->clone());
    c.n_ = n_;
    return c;
}

void CipherState::clear() {
    if (k_) k_->wipe();
    k_.reset();
}

Expected<Bytes, Error> CipherState::encrypt_with_ad(ByteView ad, ByteView plaintext) {
    if (!has_key()) {
        if (plaintext.size() > kMaxMessageLen) return unexpected(Error::TooLong);
        return Bytes(plaintext.begin(), plaintext.end());
    }
    if (plaintext.size() > kMaxMessageLen - kAeadTagLen) return unexpected(Error::TooLong);
    if (n_ == kReservedNonce) return unexpected(Error::NonceExhausted);
    auto ct = aead_encrypt(k_->view(), noise_chachapoly_nonce(n_), ad, plaintext);
    if (!ct) return unexpected(Error::MissingKey);  // unreachable: sizes are fixed
    ++n_;
    return std::move(*ct);
}

Expected<Bytes, Error> CipherState::decrypt_with_ad(ByteView ad, ByteView ciphertext) {
    if (ciphertext.size() > kMaxMessageLen) return unexpected(Error::TooLong);
    if (!has_key()) return Bytes(ciphertext.begin(), ciphertext.end());
    if (ciphertext.size() < kAeadTagLen) return unexpected(Error::Truncated);
    if (n_ == kReservedNonce) return unexpected(Error::NonceExhausted);
    auto pt = aead_decrypt(k_->view(), noise_chachapoly_nonce(n_), ad, ciphertext);
    if (!pt) return unexpected(Error::DecryptFailed);
    ++n_;
    return std::move(*pt);
}

Expected<void, Error> CipherState::rekey() {
    if (!has_key()) return unexpected(Error::MissingKey);
    const ByteArray<kAeadKeyLen> zeros{};
    auto out = aead_encrypt(k_->view(), noise_chachapoly_nonce(kReservedNonce), {}, zeros);
    if (!out) return unexpected(Error::MissingKey);  // unreachable: sizes are fixed
    SecretBytes next(ByteView(*out).first(kAeadKeyLen));
    wipe_memory(out->data(), out->size());
    *k_ = std::move(next);
    return {};
}

}  // namespace br::noise
