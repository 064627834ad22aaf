// SPDX-License-Identifier: MIT
// SHA-256, HMAC-SHA256, HKDF-SHA256 (RFC 5869) and blueratchet's labelled KDF.
//
// libsodium 1.0.18 has SHA-256 and HMAC-SHA256 but no HKDF (added in 1.0.19),
// so HKDF is built here on crypto_auth_hmacsha256; it is checked against every
// Wycheproof HKDF-SHA256 and HMAC-SHA256 case.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "core/crypto/secret.hpp"
#include "core/util/bytes.hpp"

namespace br {

inline constexpr std::size_t kHashLen = 32;
using Hash = ByteArray<kHashLen>;

Hash sha256(ByteView data);
// SHA-256 over the concatenation of parts.
Hash sha256(std::initializer_list<ByteView> parts);

// HMAC-SHA256 with a key of any length; the MAC may be truncated by the caller.
Hash hmac_sha256(ByteView key, ByteView data);
Hash hmac_sha256(ByteView key, std::initializer_list<ByteView> parts);

// HKDF-Extract / HKDF-Expand (RFC 5869).  Expand returns nullopt when more
// than 255 * 32 bytes are asked for, as the RFC requires.
Hash hkdf_extract(ByteView salt, ByteView ikm);
std::optional<Bytes> hkdf_expand(ByteView prk, ByteView info, std::size_t length);
std::optional<Bytes> hkdf(ByteView salt, ByteView ikm, ByteView info, std::size_t length);

// blueratchet's labelled KDF (docs/PROTOCOL.md, "Key derivation"):
//   derive(key, label, context) = HKDF-SHA256(salt = "blueratchet/1",
//                                             ikm = key,
//                                             info = label || 0x00 || context)
// truncated or extended to `out.size()` bytes.  Every derived key in the
// protocol goes through this with a distinct label, so no two uses of one
// input key can collide.
void derive(ByteView key, std::string_view label, ByteView context, std::span<std::uint8_t> out);
SecretBytes derive_secret(ByteView key, std::string_view label, ByteView context,
                          std::size_t length = 32);

}  // namespace br
