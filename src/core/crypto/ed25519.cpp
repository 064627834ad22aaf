// SPDX-License-Identifier: MIT
#include "core/crypto/ed25519.hpp"

#include <sodium.h>

#include <stdexcept>

namespace br {

Ed25519KeyPair Ed25519KeyPair::generate() {
    SecretBytes seed(kEd25519SeedLen);
    random_bytes(seed.span());
    return from_seed(seed.view());
}

Ed25519KeyPair Ed25519KeyPair::from_seed(ByteView seed) {
    if (seed.size() != kEd25519SeedLen)
        throw std::invalid_argument("Ed25519 seed must be 32 bytes");
    crypto_init();
    Ed25519Public pub{};
    SecretBytes sk(crypto_sign_SECRETKEYBYTES);
    crypto_sign_seed_keypair(pub.data(), sk.data(), seed.data());
    return Ed25519KeyPair(std::move(sk), pub);
}

Ed25519Signature Ed25519KeyPair::sign(ByteView message) const {
    if (wiped()) throw std::logic_error("signing with a wiped key");
    Ed25519Signature sig{};
    crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_.data());
    return sig;
}

SecretBytes Ed25519KeyPair::x25519_secret() const {
    if (wiped()) throw std::logic_error("deriving from a wiped key");
    SecretBytes x(crypto_scalarmult_curve25519_BYTES);
    crypto_sign_ed25519_sk_to_curve25519(x.data(), secret_.data());
    return x;
}

bool ed25519_verify(ByteView public_key, ByteView message, ByteView signature) {
    crypto_init();
    if (public_key.size() != kEd25519PublicLen || signature.size() != kEd25519SigLen) return false;
    return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                       public_key.data()) == 0;
}

std::optional<X25519Public> ed25519_public_to_x25519(ByteView public_key) {
    crypto_init();
    if (public_key.size() != kEd25519PublicLen) return std::nullopt;
    X25519Public out{};
    if (crypto_sign_ed25519_pk_to_curve25519(out.data(), public_key.data()) != 0)
        return std::nullopt;
    return out;
}

}  // namespace br
