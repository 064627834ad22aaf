// SPDX-License-Identifier: MIT
// Counts the libsodium calls the protocol core makes, so the bench can print
// the primitives an operation really runs next to the ones it needs.
//
// bench_core is linked with -Wl,--wrap=<fn> for every function below (see
// meson.build): references from the statically linked core libraries (and
// from this program) go to __wrap_<fn>, which counts and forwards to the
// real libsodium.  Calls libsodium makes internally are not counted, so each
// count is one top-level use of the primitive.  Counting only happens while
// a Tally is active; the cost when it is not is one untaken branch.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace br::bench {

enum class Fn : std::size_t {
    SodiumMalloc,        // sodium_malloc (a guarded allocation; sodium_free is its pair)
    ScalarMult,          // crypto_scalarmult: X25519 DH (also the low-order probe)
    ScalarMultBase,      // crypto_scalarmult_base: X25519 public key of a secret
    SignSeedKeypair,     // crypto_sign_seed_keypair
    SignDetached,        // crypto_sign_detached
    SignVerify,          // crypto_sign_verify_detached
    PkToCurve,           // crypto_sign_ed25519_pk_to_curve25519
    SkToCurve,           // crypto_sign_ed25519_sk_to_curve25519
    IsValidPoint,        // crypto_core_ed25519_is_valid_point
    Ed25519Noclamp,      // crypto_scalarmult_ed25519_noclamp
    Ed25519BaseNoclamp,  // crypto_scalarmult_ed25519_base_noclamp
    AeadEncSmall,        // ChaCha20-Poly1305 encrypt, plaintext < 128 bytes
    AeadEncLarge,        // ... plaintext >= 128 bytes
    AeadDecSmall,        // decrypt, ciphertext < 128 bytes
    AeadDecLarge,        // ... ciphertext >= 128 bytes
    Sha256,              // crypto_hash_sha256_init (one SHA-256)
    HmacSha256,          // crypto_auth_hmacsha256_init (one HMAC-SHA256)
    Sha512,              // crypto_hash_sha512_init (one SHA-512)
    RandomBytes,         // randombytes_buf
    Count
};
inline constexpr std::size_t kFnCount = static_cast<std::size_t>(Fn::Count);

const char* fn_name(Fn f);

struct Tally {
    std::array<std::uint64_t, kFnCount> n{};
    std::uint64_t& operator[](Fn f) { return n[static_cast<std::size_t>(f)]; }
    std::uint64_t operator[](Fn f) const { return n[static_cast<std::size_t>(f)]; }
};

// While set, every wrapped call adds one to *tally.  nullptr stops counting.
void count_into(Tally* tally);

}  // namespace br::bench
