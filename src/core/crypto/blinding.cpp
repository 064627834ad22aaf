// SPDX-License-Identifier: MIT
#include "core/crypto/blinding.hpp"

#include <sodium.h>

#include <stdexcept>
#include <string_view>

namespace br {
namespace {

constexpr std::string_view kTweakLabel = "Derive temporary signing key";
constexpr std::string_view kPrefixLabel = "Derive temporary signing key hash input";

// SHA-512 over the concatenation of parts into `out` (64 bytes).
void sha512(std::span<std::uint8_t> out, std::initializer_list<ByteView> parts) {
    crypto_hash_sha512_state st;
    crypto_hash_sha512_init(&st);
    for (ByteView p : parts) crypto_hash_sha512_update(&st, p.data(), p.size());
    crypto_hash_sha512_final(&st, out.data());
    wipe_memory(&st, sizeof st);
}

void require_param(ByteView param32) {
    if (param32.size() != kBlindingParamLen)
        throw std::invalid_argument("blinding parameter must be 32 bytes");
}

}  // namespace

ByteArray<32> blinding_scalar(ByteView param32) {
    require_param(param32);
    crypto_init();
    ByteArray<64> h{};
    sha512(h, {as_bytes(kTweakLabel), param32});
    ByteArray<32> t{};
    std::copy(h.begin(), h.begin() + 32, t.begin());
    wipe_memory(h.data(), h.size());
    t[0] &= 248;
    t[31] &= 63;
    t[31] |= 64;
    return t;
}

std::optional<Ed25519Public> blind_public(ByteView public_key, ByteView param32) {
    crypto_init();
    if (public_key.size() != kEd25519PublicLen || param32.size() != kBlindingParamLen)
        return std::nullopt;
    // is_valid_point: canonical encoding, on the curve, not of small order,
    // in the prime-order subgroup.  scalarmult_ed25519_noclamp checks the
    // same again and fails on an identity result.
    if (crypto_core_ed25519_is_valid_point(public_key.data()) != 1) return std::nullopt;
    ByteArray<32> t = blinding_scalar(param32);
    Ed25519Public out{};
    const int rc = crypto_scalarmult_ed25519_noclamp(out.data(), t.data(), public_key.data());
    wipe_memory(t.data(), t.size());
    if (rc != 0) return std::nullopt;
    return out;
}

SecretBytes ed25519_expand_seed(ByteView seed32) {
    if (seed32.size() != kEd25519SeedLen)
        throw std::invalid_argument("Ed25519 seed must be 32 bytes");
    crypto_init();
    SecretBytes e(kEd25519ExpandedLen);
    sha512(e.span(), {seed32});
    e.data()[0] &= 248;
    e.data()[31] &= 127;
    e.data()[31] |= 64;
    return e;
}

BlindedKey blind_secret(const Ed25519KeyPair& identity, ByteView param32) {
    require_param(param32);
    if (identity.wiped()) throw std::logic_error("blinding a wiped key");
    SecretBytes e = ed25519_expand_seed(identity.seed());
    ByteArray<32> t = blinding_scalar(param32);

    BlindedKey out;
    // a' = a * t mod l (scalar_mul reduces the 512-bit product).
    crypto_core_ed25519_scalar_mul(out.expanded.data(), e.data(), t.data());
    SecretBytes h(64);
    sha512(h.span(), {as_bytes(kPrefixLabel), e.view().subspan(32, 32)});
    std::copy(h.data(), h.data() + 32, out.expanded.data() + 32);
    wipe_memory(t.data(), t.size());

    // A' = a' * B; equals t * A for every valid A (A is in the prime-order
    // subgroup, so t * (a * B) = (a * t mod l) * B).
    if (crypto_scalarmult_ed25519_base_noclamp(out.pub.data(), out.expanded.data()) != 0)
        throw std::logic_error("blinded scalar is zero");  // probability ~2^-252
    return out;
}

Ed25519Signature sign_expanded(ByteView expanded64, ByteView public32, ByteView message) {
    if (expanded64.size() != kEd25519ExpandedLen || public32.size() != kEd25519PublicLen)
        throw std::invalid_argument("sign_expanded: expanded key is 64 bytes, public key 32");
    crypto_init();
    const ByteView a = expanded64.subspan(0, 32);
    const ByteView prefix = expanded64.subspan(32, 32);

    // Refuse a public key that does not belong to a (see the header).
    {
        Ed25519Public check{};
        if (crypto_scalarmult_ed25519_base_noclamp(check.data(), a.data()) != 0 ||
            sodium_memcmp(check.data(), public32.data(), check.size()) != 0)
            throw std::invalid_argument("sign_expanded: public key does not match the secret");
    }

    SecretBytes hash(64);
    SecretBytes r(32);
    Ed25519Signature sig{};

    // r = SHA-512(prefix || M) mod l;  R = r * B.
    sha512(hash.span(), {prefix, message});
    crypto_core_ed25519_scalar_reduce(r.data(), hash.data());
    // base_noclamp clears bit 255 of its scalar copy (r < l, so no effect)
    // and fails only for r = 0, which has probability ~2^-252.
    if (crypto_scalarmult_ed25519_base_noclamp(sig.data(), r.data()) != 0)
        throw std::logic_error("sign_expanded: zero nonce");

    // k = SHA-512(R || A || M) mod l.  k is public (a verifier recomputes it).
    ByteArray<64> kh{};
    sha512(kh, {ByteView(sig.data(), 32), public32, message});
    ByteArray<32> k{};
    crypto_core_ed25519_scalar_reduce(k.data(), kh.data());

    // S = r + k * a mod l.
    SecretBytes ka(32);
    crypto_core_ed25519_scalar_mul(ka.data(), k.data(), a.data());
    crypto_core_ed25519_scalar_add(sig.data() + 32, r.data(), ka.data());
    return sig;
}

}  // namespace br
