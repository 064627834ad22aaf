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
    // A clamped scalar is a multiple of the cofactor 8, so it maps every point
    // of order 1, 2, 4 or 8 (on the curve or its twist, canonical or not) to
    // the identity, i.e. the all-zero u-coordinate, and every other point to a
    // non-zero one.  The scalar need not be secret: the input is public.
    static const ByteArray<kX25519Len> kProbe = [] {
        ByteArray<kX25519Len> k{};
        k.fill(0x5a);
        return k;
    }();
    return !x25519(kProbe, pub).has_value();
}

}  // namespace br
