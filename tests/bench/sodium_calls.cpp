// SPDX-License-Identifier: MIT
#include "sodium_calls.hpp"

#include <sodium.h>

namespace br::bench {
namespace {
Tally* active = nullptr;
inline void hit(Fn f) {
    if (active) ++(*active)[f];
}
}  // namespace

void count_into(Tally* tally) {
    active = tally;
}

const char* fn_name(Fn f) {
    switch (f) {
        case Fn::SodiumMalloc:
            return "sodium_malloc";
        case Fn::ScalarMult:
            return "crypto_scalarmult (X25519 DH)";
        case Fn::ScalarMultBase:
            return "crypto_scalarmult_base";
        case Fn::SignSeedKeypair:
            return "crypto_sign_seed_keypair";
        case Fn::SignDetached:
            return "crypto_sign_detached";
        case Fn::SignVerify:
            return "crypto_sign_verify_detached";
        case Fn::PkToCurve:
            return "ed25519_pk_to_curve25519";
        case Fn::SkToCurve:
            return "ed25519_sk_to_curve25519";
        case Fn::IsValidPoint:
            return "ed25519_is_valid_point";
        case Fn::Ed25519Noclamp:
            return "scalarmult_ed25519_noclamp";
        case Fn::Ed25519BaseNoclamp:
            return "scalarmult_ed25519_base_noclamp";
        case Fn::AeadEncSmall:
            return "aead encrypt <128B";
        case Fn::AeadEncLarge:
            return "aead encrypt >=128B";
        case Fn::AeadDecSmall:
            return "aead decrypt <128B";
        case Fn::AeadDecLarge:
            return "aead decrypt >=128B";
        case Fn::Sha256:
            return "sha256";
        case Fn::HmacSha256:
            return "hmac_sha256";
        case Fn::Sha512:
            return "sha512";
        case Fn::RandomBytes:
            return "randombytes_buf";
        case Fn::Count:
            break;
    }
    return "?";
}

}  // namespace br::bench

using br::bench::Fn;
using br::bench::hit;

// The --wrap pairs.  __real_<fn> is resolved by the linker to libsodium's fn.
extern "C" {
decltype(sodium_malloc) __real_sodium_malloc;
decltype(crypto_scalarmult) __real_crypto_scalarmult;
decltype(crypto_scalarmult_base) __real_crypto_scalarmult_base;
decltype(crypto_sign_seed_keypair) __real_crypto_sign_seed_keypair;
decltype(crypto_sign_detached) __real_crypto_sign_detached;
decltype(crypto_sign_verify_detached) __real_crypto_sign_verify_detached;
decltype(crypto_sign_ed25519_pk_to_curve25519) __real_crypto_sign_ed25519_pk_to_curve25519;
decltype(crypto_sign_ed25519_sk_to_curve25519) __real_crypto_sign_ed25519_sk_to_curve25519;
decltype(crypto_core_ed25519_is_valid_point) __real_crypto_core_ed25519_is_valid_point;
decltype(crypto_scalarmult_ed25519_noclamp) __real_crypto_scalarmult_ed25519_noclamp;
decltype(crypto_scalarmult_ed25519_base_noclamp) __real_crypto_scalarmult_ed25519_base_noclamp;
decltype(crypto_aead_chacha20poly1305_ietf_encrypt)
    __real_crypto_aead_chacha20poly1305_ietf_encrypt;
decltype(crypto_aead_chacha20poly1305_ietf_decrypt)
    __real_crypto_aead_chacha20poly1305_ietf_decrypt;
decltype(crypto_hash_sha256_init) __real_crypto_hash_sha256_init;
decltype(crypto_auth_hmacsha256_init) __real_crypto_auth_hmacsha256_init;
decltype(crypto_hash_sha512_init) __real_crypto_hash_sha512_init;
decltype(randombytes_buf) __real_randombytes_buf;

void* __wrap_sodium_malloc(size_t size) {
    hit(Fn::SodiumMalloc);
    return __real_sodium_malloc(size);
}
int __wrap_crypto_scalarmult(unsigned char* q, const unsigned char* n, const unsigned char* p) {
    hit(Fn::ScalarMult);
    return __real_crypto_scalarmult(q, n, p);
}
int __wrap_crypto_scalarmult_base(unsigned char* q, const unsigned char* n) {
    hit(Fn::ScalarMultBase);
    return __real_crypto_scalarmult_base(q, n);
}
int __wrap_crypto_sign_seed_keypair(unsigned char* pk, unsigned char* sk,
                                    const unsigned char* seed) {
    hit(Fn::SignSeedKeypair);
    return __real_crypto_sign_seed_keypair(pk, sk, seed);
}
int __wrap_crypto_sign_detached(unsigned char* sig, unsigned long long* siglen_p,
                                const unsigned char* m, unsigned long long mlen,
                                const unsigned char* sk) {
    hit(Fn::SignDetached);
    return __real_crypto_sign_detached(sig, siglen_p, m, mlen, sk);
}
int __wrap_crypto_sign_verify_detached(const unsigned char* sig, const unsigned char* m,
                                       unsigned long long mlen, const unsigned char* pk) {
    hit(Fn::SignVerify);
    return __real_crypto_sign_verify_detached(sig, m, mlen, pk);
}
int __wrap_crypto_sign_ed25519_pk_to_curve25519(unsigned char* x, const unsigned char* ed) {
    hit(Fn::PkToCurve);
    return __real_crypto_sign_ed25519_pk_to_curve25519(x, ed);
}
int __wrap_crypto_sign_ed25519_sk_to_curve25519(unsigned char* x, const unsigned char* ed) {
    hit(Fn::SkToCurve);
    return __real_crypto_sign_ed25519_sk_to_curve25519(x, ed);
}
int __wrap_crypto_core_ed25519_is_valid_point(const unsigned char* p) {
    hit(Fn::IsValidPoint);
    return __real_crypto_core_ed25519_is_valid_point(p);
}
int __wrap_crypto_scalarmult_ed25519_noclamp(unsigned char* q, const unsigned char* n,
                                             const unsigned char* p) {
    hit(Fn::Ed25519Noclamp);
    return __real_crypto_scalarmult_ed25519_noclamp(q, n, p);
}
int __wrap_crypto_scalarmult_ed25519_base_noclamp(unsigned char* q, const unsigned char* n) {
    hit(Fn::Ed25519BaseNoclamp);
    return __real_crypto_scalarmult_ed25519_base_noclamp(q, n);
}
int __wrap_crypto_aead_chacha20poly1305_ietf_encrypt(
    unsigned char* c, unsigned long long* clen_p, const unsigned char* m, unsigned long long mlen,
    const unsigned char* ad, unsigned long long adlen, const unsigned char* nsec,
    const unsigned char* npub, const unsigned char* k) {
    hit(mlen < 128 ? Fn::AeadEncSmall : Fn::AeadEncLarge);
    return __real_crypto_aead_chacha20poly1305_ietf_encrypt(c, clen_p, m, mlen, ad, adlen, nsec,
                                                            npub, k);
}
int __wrap_crypto_aead_chacha20poly1305_ietf_decrypt(
    unsigned char* m, unsigned long long* mlen_p, unsigned char* nsec, const unsigned char* c,
    unsigned long long clen, const unsigned char* ad, unsigned long long adlen,
    const unsigned char* npub, const unsigned char* k) {
    hit(clen < 128 ? Fn::AeadDecSmall : Fn::AeadDecLarge);
    return __real_crypto_aead_chacha20poly1305_ietf_decrypt(m, mlen_p, nsec, c, clen, ad, adlen,
                                                            npub, k);
}
int __wrap_crypto_hash_sha256_init(crypto_hash_sha256_state* st) {
    hit(Fn::Sha256);
    return __real_crypto_hash_sha256_init(st);
}
int __wrap_crypto_auth_hmacsha256_init(crypto_auth_hmacsha256_state* st, const unsigned char* key,
                                       size_t keylen) {
    hit(Fn::HmacSha256);
    return __real_crypto_auth_hmacsha256_init(st, key, keylen);
}
int __wrap_crypto_hash_sha512_init(crypto_hash_sha512_state* st) {
    hit(Fn::Sha512);
    return __real_crypto_hash_sha512_init(st);
}
void __wrap_randombytes_buf(void* const buf, const size_t size) {
    hit(Fn::RandomBytes);
    __real_randombytes_buf(buf, size);
}
}
