// SPDX-License-Identifier: MIT
#include "core/crypto/x25519.hpp"

#include <sodium.h>

#include <stdexcept>

namespace br {

X25519KeyPair X25519KeyPair::generate() {
    SecretBytes secret(kX25519Len);
    random_bytes(secret.span());
    return from_secret(secret.view());
}

X25519KeyPair X25519KeyPair::from_secret(ByteView secret) {
    if (secret.size() != kX25519Len) throw std::invalid_argument("X25519 secret must be 32 bytes");
    crypto_init();
    X25519KeyPair kp{SecretBytes(secret), {}};
    // crypto_scalarmult_base only fails for an all-zero result, which a clamped
    // scalar times the base point cannot produce.
    if (crypto_scalarmult_base(kp.pub.data(), kp.secret.data()) != 0) {
        throw std::logic_error("crypto_scalarmult_base failed");
    }
    return kp;
}

std::optional<SecretBytes> x25519(ByteView secret, ByteView their_public) {
    if (secret.size() != kX25519Len || their_public.size() != kX25519Len) return std::nullopt;
    crypto_init();
    SecretBytes shared(kX25519Len);
    const int rc = crypto_scalarmult(shared.data(), secret.data(), their_public.data());
    // libsodium already returns -1 for an all-zero output; the second check
    // keeps that guarantee independent of the library version.
    if (rc != 0 || sodium_is_zero(shared.data(), shared.size()) != 0) return std::nullopt;
    return shared;
}

bool x25519_is_low_order(ByteView pub) {
    if (pub.size() != kX25519Len) return false;
    // The u-coordinates of every point of order 1, 2, 4 or 8 on the curve
    // and its twist, and their non-canonical encodings below 2^255 (the
    // same list libsodium checks internally).  Bit 255 is ignored, as
    // X25519 ignores it.  Comparing against a table costs nothing; a probe
    // DH would cost a scalar multiplication per received key.
    static const std::uint8_t kLowOrder[7][kX25519Len] = {
        {0},
        {1},
        {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
         0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
         0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
        {0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1,
         0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c,
         0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57},
        {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
        {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
        {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    };
    for (const auto& bad : kLowOrder) {
        bool same = (pub[kX25519Len - 1] & 0x7f) == bad[kX25519Len - 1];
        for (std::size_t i = 0; same && i + 1 < kX25519Len; ++i) same = pub[i] == bad[i];
        if (same) return true;
    }
    return false;
}

}  // namespace br
