// SPDX-License-Identifier: MIT
#include "core/crypto/kdf.hpp"

#include <sodium.h>

#include <algorithm>

namespace br {

Hash sha256(ByteView data) {
    return sha256({data});
}

Hash sha256(std::initializer_list<ByteView> parts) {
    crypto_init();
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    for (ByteView p : parts) crypto_hash_sha256_update(&st, p.data(), p.size());
    Hash out;
    crypto_hash_sha256_final(&st, out.data());
    wipe_memory(&st, sizeof st);
    return out;
}

Hash hmac_sha256(ByteView key, ByteView data) {
    return hmac_sha256(key, {data});
}

Hash hmac_sha256(ByteView key, std::initializer_list<ByteView> parts) {
    crypto_init();
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key.data(), key.size());
    for (ByteView p : parts) crypto_auth_hmacsha256_update(&st, p.data(), p.size());
    Hash out;
    crypto_auth_hmacsha256_final(&st, out.data());
    wipe_memory(&st, sizeof st);
    return out;
}

Hash hkdf_extract(ByteView salt, ByteView ikm) {
    // RFC 5869 2.2: an absent salt is HashLen zero bytes.
    static const Hash kZeroSalt{};
    return hmac_sha256(salt.empty() ? ByteView(kZeroSalt) : salt, ikm);
}

std::optional<Bytes> hkdf_expand(ByteView prk, ByteView info, std::size_t length) {
    if (length > 255 * kHashLen) return std::nullopt;
    Bytes out;
    out.reserve(length);
    Hash t{};
    std::size_t t_len = 0;
    for (std::uint8_t i = 1; out.size() < length; ++i) {
        const std::uint8_t counter[1] = {i};
        t = hmac_sha256(prk, {ByteView(t.data(), t_len), info, ByteView(counter, 1)});
        t_len = kHashLen;
        const std::size_t n = std::min(kHashLen, length - out.size());
        out.insert(out.end(), t.begin(), t.begin() + static_cast<std::ptrdiff_t>(n));
    }
    wipe_memory(t.data(), t.size());
    return out;
}

std::optional<Bytes> hkdf(ByteView salt, ByteView ikm, ByteView info, std::size_t length) {
    Hash prk = hkdf_extract(salt, ikm);
    auto out = hkdf_expand(prk, info, length);
    wipe_memory(prk.data(), prk.size());
    return out;
}

void derive(ByteView key, std::string_view label, ByteView context, std::span<std::uint8_t> out) {
    static constexpr std::string_view kSalt = "blueratchet/1";
    Bytes info;
    info.reserve(label.size() + 1 + context.size());
    append(info, as_bytes(label));
    append_u8(info, 0);
    append(info, context);
    Hash prk = hkdf_extract(as_bytes(kSalt), key);
    auto okm = hkdf_expand(prk, info, out.size());
    wipe_memory(prk.data(), prk.size());
    // The context can carry secrets (the session key mixes in the identity seed).
    wipe_memory(info.data(), info.size());
    std::copy(okm->begin(), okm->end(), out.begin());
    wipe_memory(okm->data(), okm->size());
}

SecretBytes derive_secret(ByteView key, std::string_view label, ByteView context,
                          std::size_t length) {
    SecretBytes out(length);
    derive(key, label, context, out.span());
    return out;
}

}  // namespace br
