// SPDX-License-Identifier: MIT
#include "core/crypto/aead.hpp"

#include <sodium.h>

#include "core/crypto/secret.hpp"

static_assert(br::kAeadKeyLen == crypto_aead_chacha20poly1305_ietf_KEYBYTES);
static_assert(br::kAeadNonceLen == crypto_aead_chacha20poly1305_ietf_NPUBBYTES);
static_assert(br::kAeadTagLen == crypto_aead_chacha20poly1305_ietf_ABYTES);

namespace br {

std::optional<Bytes> aead_encrypt(ByteView key, ByteView nonce, ByteView ad, ByteView plaintext) {
    if (key.size() != kAeadKeyLen || nonce.size() != kAeadNonceLen) return std::nullopt;
    if (plaintext.size() > crypto_aead_chacha20poly1305_ietf_MESSAGEBYTES_MAX) return std::nullopt;
    crypto_init();
    Bytes out(plaintext.size() + kAeadTagLen);
    unsigned long long out_len = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &out_len, plaintext.data(),
                                              plaintext.size(), ad.data(), ad.size(), nullptr,
                                              nonce.data(), key.data());
    out.resize(static_cast<std::size_t>(out_len));
    return out;
}

std::optional<Bytes> aead_decrypt(ByteView key, ByteView nonce, ByteView ad, ByteView ciphertext) {
    if (key.size() != kAeadKeyLen || nonce.size() != kAeadNonceLen) return std::nullopt;
    if (ciphertext.size() < kAeadTagLen) return std::nullopt;
    crypto_init();
    Bytes out(ciphertext.size() - kAeadTagLen);
    unsigned long long out_len = 0;
    if (crypto_aead_chacha20poly1305_ietf_decrypt(out.data(), &out_len, nullptr, ciphertext.data(),
                                                  ciphertext.size(), ad.data(), ad.size(),
                                                  nonce.data(), key.data()) != 0) {
        return std::nullopt;
    }
    out.resize(static_cast<std::size_t>(out_len));
    return out;
}

AeadNonce noise_chachapoly_nonce(std::uint64_t n) {
    AeadNonce nonce{};
    for (std::size_t i = 0; i < 8; ++i) {
        nonce[4 + i] = static_cast<std::uint8_t>(n >> (8 * i));
    }
    return nonce;
}

}  // namespace br
