// SPDX-License-Identifier: MIT
// bench_core: what a pairing, a resume and a session certificate cost, per
// side, next to the primitives they are made of, measured in the same run.
//
// After the Google Benchmark output it prints three tables:
//   1. the primitive budget: how many of each primitive an operation needs
//      (counted by hand from initiator.cpp and responder.cpp, cert/session.cpp and the Noise code;
//      the same table is in the comment below);
//   2. the libsodium calls the operation really makes, counted with
//      -Wl,--wrap (sodium_calls.hpp), so redundant work shows up by name;
//   3. operation | measured | sum of its needed primitives | ratio, and the
//      same against the sum of every call it really makes.
// The aim is "a resume costs at most 1.3x its primitives"; the
// program says whether this run met it.
//
// Times.  Primitives and certificates: Google Benchmark's CPU time per
// iteration.  Engine sides: both engines run the whole exchange in memory
// each iteration and each side's calls (constructor, start/receive/approve,
// take_session, destructor) are timed with the thread CPU clock; the side's
// total is the iteration time (UseManualTime).  The in-memory PeerBook's work
// is inside the side that calls it (a real store does at least as much).
//
// Primitive budget per operation (what the protocol needs, not what the
// code happens to call).  AEAD "small" is a Noise handshake field or REVEAL
// (<= 64 B plaintext), "large" the CERT message (253 B certificate + 32 B
// fingerprint).
// SHA-256 counts every mix_hash and fingerprint; HMAC counts every
// HMAC-SHA256 in Noise's HKDF (MixKey 3, MixKeyAndHash 4, Split with its
// third output 4) and in the labelled KDF (2 per 32-byte output: extract +
// one expand block).
//
// clang-format off
//                    x25519 x25519 ed pk ed seed ed   ed     blind  blind  sign   aead  aead  sha hmac
//                    keygen DH     ->x   ->kp    sign verify secret public expand small large 256 256
//   pair   initiator   1     3      1     1       1    2      1      1      1      6     2    18  21
//   pair   responder   1     3      1     1       1    2      1      1      1      6     2    18  21
//   resume initiator   1     4      1     1       1    2      1      1      1      4     2    17  34
//   resume responder   1     4      1     1       1    2      1      1      1      4     2    17  34
//   cert   mint        -     -      -     1       1    -      1      -      1      -     -     2   4
//   cert   verify      -     -      -     -       -    2      -      1      -      -     -     3   2
// clang-format on
//
// Where they come from, IKpsk2 initiator (the responder mirrors it):
//   Noise: keygen e; DH es, ss, ee, se; AEAD s, payload (offer), RESUME_2
//   payload; SHA-256: protocol name (36 chars > HASHLEN), prologue, rs
//   pre-message, e, s, payload, re, psk, payload = 9; HMAC: MixKey(e) 3, es 3,
//   ss 3, MixKey(re) 3, ee 3, se 3, psk 4, Split 4 (the engine always
//   splits with the third output) = 26.
//   Identity: Ed25519 -> X25519 of the peer's identity (the Noise rs).
//   Ratchet: next_seed 2 HMAC.  Mint: session-key KDF 2 HMAC + seed->keypair,
//   delegation param 2 HMAC + blind_secret + sign_expanded, self-signature
//   over the TBS DER (whose subjectKeyIdentifier is a SHA-256).
//   Peer's CERT: AEAD (large), 2 Ed25519 verify (TBS: SHA-256 again), param
//   2 HMAC, blind_public, SHA-256 replay key, SHA-256 fingerprint.  Own CERT: AEAD (large), SHA-256
//   fingerprint.  Session fingerprint: SHA-256.
// XX (pairing) has 3 DH (ee, es, se), 4 handshake AEADs (s and payload in
// messages 2 and 3), SHA-256 prologue/e/empty payload/re/s/payload/s/payload
// = 8 (its 32-character name needs no hash), HMAC ee, es, se, Split with
// its third output (the secret first_seed is keyed with) = 13, and first_seed
// instead of next_seed.  The short code (PROTOCOL.md 4.1) adds REVEAL's AEAD
// and two SHA-256 per side (the commitment, made by B and checked by A, and
// the code); the random nonces are not priced.  Protocol 1.1 adds ACCEPT
// (pairing) and CONFIRM (resume): one small AEAD per side each; and
// certificate format 2's serial (PROTOCOL.md 7.5): one SHA-256 in every TBS
// built, so one per mint and one per verify.
#include <benchmark/benchmark.h>
#include <sodium.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bench_book.hpp"
#include "core/cert/certificate.hpp"
#include "core/cert/session.hpp"
#include "core/crypto/aead.hpp"
#include "core/crypto/blinding.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/crypto/kdf.hpp"
#include "core/crypto/secret.hpp"
#include "core/crypto/x25519.hpp"
#include "core/handshake/engine.hpp"
#include "sodium_calls.hpp"

namespace br::bench {
namespace {

constexpr std::uint32_t kNow = 1'800'000'000;
constexpr std::uint32_t kValidity = 3600;

// ------------------------------------------------------------ the budget

enum class P : std::size_t {
    X25519Keygen,
    X25519Dh,
    EdPkToX,
    EdSeedKeypair,
    EdSign,
    EdVerify,
    BlindSecret,
    BlindPublic,
    SignExpanded,
    AeadSmall,
    AeadLarge,
    Sha256,
    Hmac,
    Count
};
constexpr std::size_t kPCount = static_cast<std::size_t>(P::Count);
using Budget = std::array<int, kPCount>;

const char* const kPNames[kPCount] = {
    "x25519 keygen",  "x25519 DH",    "ed25519 pk->x25519", "ed25519 seed->keypair", "ed25519 sign",
    "ed25519 verify", "blind_secret", "blind_public",       "sign_expanded",         "aead small",
    "aead large",     "sha256",       "hmac-sha256"};

struct Operation {
    const char* name;  // the benchmark's name
    Budget budget;
    bool resume;  // the 1.3x aim applies
};

// The table in the comment at the top, as data.
const Operation kOperations[] = {
    {"pair/initiator", {1, 3, 1, 1, 1, 2, 1, 1, 1, 6, 2, 18, 21}, false},
    {"pair/responder", {1, 3, 1, 1, 1, 2, 1, 1, 1, 6, 2, 18, 21}, false},
    {"resume/initiator", {1, 4, 1, 1, 1, 2, 1, 1, 1, 4, 2, 17, 34}, true},
    {"resume/responder", {1, 4, 1, 1, 1, 2, 1, 1, 1, 4, 2, 17, 34}, true},
    {"cert/mint", {0, 0, 0, 1, 1, 0, 1, 0, 1, 0, 0, 2, 4}, false},
    {"cert/verify", {0, 0, 0, 0, 0, 2, 0, 1, 0, 0, 0, 3, 2}, false},
};
constexpr double kAim = 1.3;

// The benchmarks whose mean is the cost of one budget primitive.
std::vector<std::string> cost_source(P p) {
    switch (p) {
        case P::X25519Keygen:
            return {"prim/x25519_keygen"};
        case P::X25519Dh:
            return {"raw/x25519_dh"};
        case P::EdPkToX:
            return {"raw/ed25519_pk_to_x25519"};
        case P::EdSeedKeypair:
            return {"raw/ed25519_seed_keypair"};
        case P::EdSign:
            return {"raw/ed25519_sign"};
        case P::EdVerify:
            return {"raw/ed25519_verify"};
        case P::BlindSecret:
            return {"prim/blind_secret"};
        case P::BlindPublic:
            return {"prim/blind_public"};
        case P::SignExpanded:
            return {"prim/sign_expanded"};
        case P::AeadSmall:
            return {"raw/aead_encrypt_48B", "raw/aead_decrypt_48B"};
        case P::AeadLarge:
            return {"raw/aead_encrypt_285B", "raw/aead_decrypt_285B"};
        case P::Sha256:
            return {"raw/sha256_80B"};
        case P::Hmac:
            return {"raw/hmac_sha256_33B"};
        case P::Count:
            break;
    }
    return {};
}

// The benchmark that prices one counted libsodium call.
const char* call_cost_source(Fn f) {
    switch (f) {
        case Fn::SodiumMalloc:
            return "raw/sodium_malloc_free_32B";
        case Fn::ScalarMult:
            return "raw/x25519_dh";
        case Fn::ScalarMultBase:
            return "raw/x25519_base";
        case Fn::SignSeedKeypair:
            return "raw/ed25519_seed_keypair";
        case Fn::SignDetached:
            return "raw/ed25519_sign";
        case Fn::SignVerify:
            return "raw/ed25519_verify";
        case Fn::PkToCurve:
            return "raw/ed25519_pk_to_x25519";
        case Fn::SkToCurve:
            return "raw/ed25519_sk_to_x25519";
        case Fn::IsValidPoint:
            return "raw/ed25519_is_valid_point";
        case Fn::Ed25519Noclamp:
            return "raw/ed25519_scalarmult_noclamp";
        case Fn::Ed25519BaseNoclamp:
            return "raw/ed25519_scalarmult_base_noclamp";
        case Fn::AeadEncSmall:
            return "raw/aead_encrypt_48B";
        case Fn::AeadEncLarge:
            return "raw/aead_encrypt_285B";
        case Fn::AeadDecSmall:
            return "raw/aead_decrypt_48B";
        case Fn::AeadDecLarge:
            return "raw/aead_decrypt_285B";
        case Fn::Sha256:
            return "raw/sha256_80B";
        case Fn::HmacSha256:
            return "raw/hmac_sha256_33B";
        case Fn::Sha512:
            return "raw/sha512_64B";
        case Fn::RandomBytes:
            return "raw/randombytes_32B";
        case Fn::Count:
            break;
    }
    return "";
}

// ------------------------------------------------------------ fixtures

Ed25519KeyPair identity_from(std::uint8_t fill) {
    ByteArray<32> seed{};
    seed.fill(fill);
    return Ed25519KeyPair::from_seed(seed);
}

struct Peer {
    explicit Peer(std::uint8_t fill) : identity(identity_from(fill)) {}
    Ed25519KeyPair identity;
    BenchBook book;
    // Large enough that no certificate of a run is forgotten.
    cert::ReplayCache replay{1u << 20};
    const handshake::DeviceId& id() const { return identity.public_key(); }
};

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double thread_sys_seconds() {
    rusage ru{};
    getrusage(RUSAGE_THREAD, &ru);
    return static_cast<double>(ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_stime.tv_usec) * 1e-6;
}

// One side's accumulated CPU time, the kernel's share of it (tick-sampled, so
// only meaningful as an average over many iterations) and, optionally, its
// libsodium calls.
struct Side {
    double seconds = 0;
    double sys_seconds = 0;
    Tally* tally = nullptr;
};

template <class F>
decltype(auto) on_side(Side& side, F&& f) {
    struct Stop {
        Side& s;
        double sys0, t0;
        ~Stop() {
            s.seconds += thread_cpu_seconds() - t0;
            count_into(nullptr);
            s.sys_seconds += thread_sys_seconds() - sys0;
        }
    };
    const double sys0 = thread_sys_seconds();
    count_into(side.tally);
    Stop stop{side, sys0, thread_cpu_seconds()};
    return f();
}

// One connection, a's Initiator against b's Responder, to completion.
// resume: a offers what its book holds for b; otherwise a first contact.
bool connect(Peer& a, Peer& b, bool resume, Side& sa, Side& sb) {
    std::optional<handshake::DeviceId> known;
    if (resume) known = b.id();
    std::optional<handshake::Initiator> ini;
    std::optional<handshake::Responder> res;
    struct InFlight {
        bool from_a;
        Bytes bytes;
    };
    std::deque<InFlight> q;
    bool failed = false;
    auto take = [&](handshake::Step s, bool from_a) {
        for (auto& m : s.send) q.push_back({from_a, std::move(m)});
        if (s.failure) failed = true;
        return s.needs_approval;
    };
    take(on_side(sa,
                 [&] {
                     ini.emplace(a.identity, known, a.book, a.replay, handshake::Settings{}, kNow);
                     return ini->start();
                 }),
         true);
    on_side(sb, [&] { res.emplace(b.identity, b.book, b.replay, handshake::Settings{}, kNow); });
    while (!q.empty() && !failed) {
        InFlight m = std::move(q.front());
        q.pop_front();
        if (m.from_a) {
            if (take(on_side(sb, [&] { return res->receive(m.bytes); }), false))
                take(on_side(sb, [&] { return res->approve(true); }), false);
        } else {
            if (take(on_side(sa, [&] { return ini->receive(m.bytes); }), true))
                take(on_side(sa, [&] { return ini->approve(true); }), true);
        }
    }
    const bool ok_a = on_side(sa, [&] {
        const bool ok = ini->take_session().has_value() &&
                        ini->kind() == (resume ? handshake::Kind::Resume : handshake::Kind::Pair);
        ini.reset();
        return ok;
    });
    const bool ok_b = on_side(sb, [&] {
        const bool ok = res->take_session().has_value();
        res.reset();
        return ok;
    });
    return !failed && ok_a && ok_b;
}

// The two devices every engine benchmark uses, paired once.
struct Pairing {
    Peer a{0xA1}, b{0xB2};
    Pairing() {
        Side sa, sb;
        if (!connect(a, b, false, sa, sb)) {
            std::fprintf(stderr, "bench_core: the initial pairing failed\n");
            std::abort();
        }
    }
};
Pairing& pairing() {
    static Pairing p;
    return p;
}

// A minted certificate and everything needed to mint or check another.
struct CertFixture {
    Ed25519KeyPair a = identity_from(0xC3);
    Ed25519KeyPair b = identity_from(0xD4);
    SecretBytes seed{32};
    Hash h{};
    Bytes compact, tbs, delegation;
    CertFixture() {
        random_bytes(seed.span());
        random_bytes(h);
        auto sc = cert::SessionCert::mint(a, b.public_key(), Role::Initiator, seed, 7, h, kNow,
                                          kValidity);
        if (!sc) std::abort();
        compact = *sc->compact();
        tbs = cert::tbs_der(*sc->certificate());
        delegation = cert::delegation_message(*sc->certificate());
    }
};
CertFixture& cert_fixture() {
    static CertFixture f;
    return f;
}

// ------------------------------------------------------------ engine benchmarks

void bm_engine(benchmark::State& st, bool resume, bool initiator_side) {
    Pairing& p = pairing();
    double sys = 0;
    for (auto _ : st) {
        Side sa, sb;
        if (!connect(p.a, p.b, resume, sa, sb)) {
            st.SkipWithError("handshake failed");
            break;
        }
        st.SetIterationTime(initiator_side ? sa.seconds : sb.seconds);
        sys += initiator_side ? sa.sys_seconds : sb.sys_seconds;
    }
    // The side's kernel time per iteration (guarded memory is mmap/mprotect/mlock).
    st.counters["sys_us"] = benchmark::Counter(
        sys * 1e6 / static_cast<double>(std::max<std::int64_t>(st.iterations(), 1)));
}

void bm_cert_mint(benchmark::State& st) {
    CertFixture& f = cert_fixture();
    for (auto _ : st) {
        auto sc = cert::SessionCert::mint(f.a, f.b.public_key(), Role::Initiator, f.seed, 7, f.h,
                                          kNow, kValidity);
        if (!sc) st.SkipWithError("mint failed");
        benchmark::DoNotOptimize(sc);
    }
}

void bm_cert_verify(benchmark::State& st) {
    CertFixture& f = cert_fixture();
    for (auto _ : st) {
        cert::ReplayCache cache;  // fresh, so the certificate is never Replayed
        auto c = cert::verify(f.compact, f.a.public_key(), f.b.public_key(), Role::Responder,
                              f.seed.view(), 7, kNow, cache, f.h);
        if (!c) st.SkipWithError("verify failed");
        benchmark::DoNotOptimize(c);
    }
}

// ------------------------------------------------------------ raw libsodium

struct Keys {
    unsigned char x_sk[32], x_pk[32], x_peer[32];
    unsigned char ed_pk[32], ed_sk[64], ed_seed[32];
    unsigned char scalar[32];  // reduced, for base_noclamp
    unsigned char tweak[32];   // clamped blinding scalar, for noclamp
    unsigned char aead_key[32], nonce[12], ad[32];
    Keys() {
        crypto_init();
        randombytes_buf(x_sk, sizeof x_sk);
        crypto_scalarmult_base(x_pk, x_sk);
        unsigned char other[32];
        randombytes_buf(other, sizeof other);
        crypto_scalarmult_base(x_peer, other);
        randombytes_buf(ed_seed, sizeof ed_seed);
        crypto_sign_seed_keypair(ed_pk, ed_sk, ed_seed);
        crypto_core_ed25519_scalar_random(scalar);
        ByteArray<32> param{};
        randombytes_buf(param.data(), param.size());
        const auto t = blinding_scalar(param);
        std::copy(t.begin(), t.end(), tweak);
        randombytes_buf(aead_key, sizeof aead_key);
        randombytes_buf(nonce, sizeof nonce);
        randombytes_buf(ad, sizeof ad);
    }
};
Keys& keys() {
    static Keys k;
    return k;
}

void raw_sodium_malloc(benchmark::State& st) {
    crypto_init();
    for (auto _ : st) {
        void* p = sodium_malloc(32);
        benchmark::DoNotOptimize(p);
        sodium_free(p);
    }
}
void raw_randombytes(benchmark::State& st) {
    crypto_init();
    unsigned char b[32];
    for (auto _ : st) {
        randombytes_buf(b, sizeof b);
        benchmark::DoNotOptimize(b);
    }
}
void raw_x25519_base(benchmark::State& st) {
    Keys& k = keys();
    unsigned char out[32];
    for (auto _ : st) benchmark::DoNotOptimize(crypto_scalarmult_base(out, k.x_sk));
}
void raw_x25519_dh(benchmark::State& st) {
    Keys& k = keys();
    unsigned char out[32];
    for (auto _ : st) benchmark::DoNotOptimize(crypto_scalarmult(out, k.x_sk, k.x_peer));
}
void prim_x25519_keygen(benchmark::State& st) {
    keys();
    unsigned char sk[32], pk[32];
    for (auto _ : st) {
        randombytes_buf(sk, sizeof sk);
        benchmark::DoNotOptimize(crypto_scalarmult_base(pk, sk));
    }
}
void raw_ed25519_seed_keypair(benchmark::State& st) {
    Keys& k = keys();
    unsigned char pk[32], sk[64];
    for (auto _ : st) benchmark::DoNotOptimize(crypto_sign_seed_keypair(pk, sk, k.ed_seed));
}
void raw_ed25519_sign(benchmark::State& st) {
    Keys& k = keys();
    const Bytes& msg = cert_fixture().tbs;
    unsigned char sig[64];
    for (auto _ : st)
        benchmark::DoNotOptimize(
            crypto_sign_detached(sig, nullptr, msg.data(), msg.size(), k.ed_sk));
}
void raw_ed25519_verify(benchmark::State& st) {
    Keys& k = keys();
    const Bytes& msg = cert_fixture().tbs;
    unsigned char sig[64];
    crypto_sign_detached(sig, nullptr, msg.data(), msg.size(), k.ed_sk);
    for (auto _ : st) {
        if (crypto_sign_verify_detached(sig, msg.data(), msg.size(), k.ed_pk) != 0)
            st.SkipWithError("verify failed");
    }
}
void raw_ed25519_pk_to_x25519(benchmark::State& st) {
    Keys& k = keys();
    unsigned char out[32];
    for (auto _ : st) benchmark::DoNotOptimize(crypto_sign_ed25519_pk_to_curve25519(out, k.ed_pk));
}
void raw_ed25519_sk_to_x25519(benchmark::State& st) {
    Keys& k = keys();
    unsigned char out[32];
    for (auto _ : st) benchmark::DoNotOptimize(crypto_sign_ed25519_sk_to_curve25519(out, k.ed_sk));
}
void raw_ed25519_is_valid_point(benchmark::State& st) {
    Keys& k = keys();
    for (auto _ : st) benchmark::DoNotOptimize(crypto_core_ed25519_is_valid_point(k.ed_pk));
}
void raw_ed25519_noclamp(benchmark::State& st) {
    Keys& k = keys();
    unsigned char out[32];
    for (auto _ : st)
        benchmark::DoNotOptimize(crypto_scalarmult_ed25519_noclamp(out, k.tweak, k.ed_pk));
}
void raw_ed25519_base_noclamp(benchmark::State& st) {
    Keys& k = keys();
    unsigned char out[32];
    for (auto _ : st)
        benchmark::DoNotOptimize(crypto_scalarmult_ed25519_base_noclamp(out, k.scalar));
}
void raw_aead_encrypt(benchmark::State& st, std::size_t len) {
    Keys& k = keys();
    Bytes m(len, 0x5a), c(len + 16);
    unsigned long long clen = 0;
    for (auto _ : st) {
        crypto_aead_chacha20poly1305_ietf_encrypt(c.data(), &clen, m.data(), m.size(), k.ad,
                                                  sizeof k.ad, nullptr, k.nonce, k.aead_key);
        benchmark::DoNotOptimize(c.data());
    }
}
void raw_aead_decrypt(benchmark::State& st, std::size_t len) {
    Keys& k = keys();
    Bytes m(len, 0x5a), c(len + 16);
    unsigned long long clen = 0, mlen = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(c.data(), &clen, m.data(), m.size(), k.ad,
                                              sizeof k.ad, nullptr, k.nonce, k.aead_key);
    for (auto _ : st) {
        if (crypto_aead_chacha20poly1305_ietf_decrypt(m.data(), &mlen, nullptr, c.data(), c.size(),
                                                      k.ad, sizeof k.ad, k.nonce, k.aead_key) != 0)
            st.SkipWithError("decrypt failed");
        benchmark::DoNotOptimize(m.data());
    }
}
void raw_sha256(benchmark::State& st) {
    crypto_init();
    unsigned char in[80] = {1}, out[32];
    for (auto _ : st) {
        crypto_hash_sha256(out, in, sizeof in);
        benchmark::DoNotOptimize(out);
    }
}
void raw_hmac_sha256(benchmark::State& st) {
    Keys& k = keys();
    unsigned char in[33] = {1}, out[32];
    for (auto _ : st) {
        crypto_auth_hmacsha256_state s;
        crypto_auth_hmacsha256_init(&s, k.aead_key, 32);
        crypto_auth_hmacsha256_update(&s, in, sizeof in);
        crypto_auth_hmacsha256_final(&s, out);
        benchmark::DoNotOptimize(out);
    }
}
void raw_sha512(benchmark::State& st) {
    crypto_init();
    unsigned char in[64] = {1}, out[64];
    for (auto _ : st) {
        crypto_hash_sha512(out, in, sizeof in);
        benchmark::DoNotOptimize(out);
    }
}

// ------------------------------------------------------------ blueratchet's own primitives

void prim_blind_secret(benchmark::State& st) {
    CertFixture& f = cert_fixture();
    for (auto _ : st) {
        BlindedKey b = blind_secret(f.a, f.h);
        benchmark::DoNotOptimize(b.pub);
    }
}
void prim_blind_public(benchmark::State& st) {
    CertFixture& f = cert_fixture();
    for (auto _ : st) {
        auto p = blind_public(f.a.public_key(), f.h);
        if (!p) st.SkipWithError("blind_public failed");
        benchmark::DoNotOptimize(p);
    }
}
void prim_sign_expanded(benchmark::State& st) {
    CertFixture& f = cert_fixture();
    const BlindedKey b = blind_secret(f.a, f.h);
    for (auto _ : st) {
        auto sig = sign_expanded(b.expanded.view(), b.pub, f.delegation);
        benchmark::DoNotOptimize(sig);
    }
}
// The wrappers the engine calls, to show what each adds to its raw call.
void br_x25519_generate(benchmark::State& st) {
    for (auto _ : st) {
        auto kp = X25519KeyPair::generate();
        benchmark::DoNotOptimize(kp.pub);
    }
}
void br_x25519(benchmark::State& st) {
    Keys& k = keys();
    for (auto _ : st) {
        auto s = x25519(ByteView(k.x_sk), ByteView(k.x_peer));
        benchmark::DoNotOptimize(s);
    }
}
void br_ed25519_from_seed(benchmark::State& st) {
    Keys& k = keys();
    for (auto _ : st) {
        auto kp = Ed25519KeyPair::from_seed(ByteView(k.ed_seed));
        benchmark::DoNotOptimize(kp.public_key());
    }
}
void br_ed25519_sign(benchmark::State& st) {
    CertFixture& f = cert_fixture();
    for (auto _ : st) {
        auto sig = f.a.sign(f.tbs);
        benchmark::DoNotOptimize(sig);
    }
}
void br_ed25519_x25519_secret(benchmark::State& st) {
    CertFixture& f = cert_fixture();
    for (auto _ : st) {
        auto x = f.a.x25519_secret();
        benchmark::DoNotOptimize(x.data());
    }
}
void br_derive_secret(benchmark::State& st) {
    CertFixture& f = cert_fixture();
    const Bytes ctx(100, 0x33);
    for (auto _ : st) {
        auto s = derive_secret(f.seed.view(), "session key", ctx);
        benchmark::DoNotOptimize(s.data());
    }
}
void br_hkdf(benchmark::State& st) {
    CertFixture& f = cert_fixture();
    for (auto _ : st) {
        auto s = hkdf(f.h, f.seed.view(), as_bytes("info"), 32);
        benchmark::DoNotOptimize(s);
    }
}
void br_aead_encrypt(benchmark::State& st) {
    Keys& k = keys();
    const Bytes m(285, 0x5a);
    for (auto _ : st) {
        auto c = aead_encrypt(ByteView(k.aead_key), ByteView(k.nonce), ByteView(k.ad), m);
        benchmark::DoNotOptimize(c);
    }
}

// ------------------------------------------------------------ reporting

// Prints as the console reporter does and keeps each benchmark's time per
// iteration in microseconds (the median when repetitions are asked for).
class Capture : public benchmark::ConsoleReporter {
  public:
    explicit Capture(std::set<std::string> manual) : manual_(std::move(manual)) {}
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& r : runs) {
            if (r.error_occurred) continue;
            std::string name = r.run_name.str();
            // UseManualTime() benchmarks are reported as "<name>/manual_time".
            const std::string suffix = "/manual_time";
            if (name.size() > suffix.size() &&
                name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
                name.resize(name.size() - suffix.size());
            const bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
            if (r.run_type == Run::RT_Aggregate && !median) continue;
            if (!median && medians_.count(name)) continue;
            const double t = manual_.count(name) ? r.GetAdjustedRealTime() : r.GetAdjustedCPUTime();
            us_[name] = t / benchmark::GetTimeUnitMultiplier(r.time_unit) * 1e6;
            if (auto it = r.counters.find("sys_us"); it != r.counters.end())
                sys_us_[name] = it->second.value;
            if (median) medians_.insert(name);
        }
        ConsoleReporter::ReportRuns(runs);
    }
    std::optional<double> us(const std::string& name) const {
        auto it = us_.find(name);
        if (it == us_.end()) return std::nullopt;
        return it->second;
    }

    std::optional<double> sys_us(const std::string& name) const {
        auto it = sys_us_.find(name);
        if (it == sys_us_.end()) return std::nullopt;
        return it->second;
    }

  private:
    std::map<std::string, double> sys_us_;
    std::set<std::string> manual_;
    std::map<std::string, double> us_;
    std::set<std::string> medians_;
};

std::optional<double> cost_of(const Capture& c, P p) {
    double sum = 0;
    const auto src = cost_source(p);
    for (const auto& s : src) {
        auto v = c.us(s);
        if (!v) return std::nullopt;
        sum += *v;
    }
    return sum / static_cast<double>(src.size());
}

// The libsodium calls of one run of each operation.
std::map<std::string, Tally> count_calls() {
    std::map<std::string, Tally> out;
    Pairing& p = pairing();
    for (bool resume : {false, true}) {
        Side sa, sb;
        Tally ta, tb;
        sa.tally = &ta;
        sb.tally = &tb;
        if (!connect(p.a, p.b, resume, sa, sb)) std::abort();
        out[resume ? "resume/initiator" : "pair/initiator"] = ta;
        out[resume ? "resume/responder" : "pair/responder"] = tb;
    }
    CertFixture& f = cert_fixture();
    {
        Tally t;
        count_into(&t);
        {
            auto sc = cert::SessionCert::mint(f.a, f.b.public_key(), Role::Initiator, f.seed, 7,
                                              f.h, kNow, kValidity);
            if (!sc) std::abort();
        }  // the certificate's secrets are freed inside the count, as in bm_cert_mint
        count_into(nullptr);
        out["cert/mint"] = t;
    }
    {
        cert::ReplayCache cache;
        Tally t;
        count_into(&t);
        auto c = cert::verify(f.compact, f.a.public_key(), f.b.public_key(), Role::Responder,
                              f.seed.view(), 7, kNow, cache, f.h);
        count_into(nullptr);
        if (!c) std::abort();
        out["cert/verify"] = t;
    }
    return out;
}

std::string fmt(std::optional<double> v, const char* f = "%.2f") {
    if (!v) return "n/a";
    char buf[32];
    std::snprintf(buf, sizeof buf, f, *v);
    return buf;
}

void print_budget() {
    std::printf("\nPrimitive budget (needed per operation, counted from the source):\n");
    std::printf("%-18s", "operation");
    for (const char* n : kPNames) std::printf(" %5.5s", n);
    std::printf("\n%-18s", "");
    for (std::size_t i = 0; i < kPCount; ++i) std::printf(" %5s", "-----");
    std::printf("\n");
    for (const auto& op : kOperations) {
        std::printf("%-18s", op.name);
        for (int n : op.budget) std::printf(" %5d", n);
        std::printf("\n");
    }
    std::printf("columns: ");
    for (std::size_t i = 0; i < kPCount; ++i)
        std::printf("%s%s", kPNames[i], i + 1 < kPCount ? ", " : "\n");
}

void print_calls(const Capture& cap, const std::map<std::string, Tally>& calls) {
    std::printf(
        "\nlibsodium calls actually made (one run, counted with -Wl,--wrap), "
        "and what they cost at the raw prices above:\n");
    std::printf("%-34s", "call (unit us)");
    for (const auto& op : kOperations) std::printf(" %16s", op.name);
    std::printf("\n");
    for (std::size_t i = 0; i < kFnCount; ++i) {
        const Fn f = static_cast<Fn>(i);
        const auto unit = cap.us(call_cost_source(f));
        char label[64];
        std::snprintf(label, sizeof label, "%s (%s)", fn_name(f), fmt(unit, "%.3f").c_str());
        std::printf("%-34s", label);
        for (const auto& op : kOperations) {
            const auto n = calls.at(op.name)[f];
            char cell[32];
            if (unit)
                std::snprintf(cell, sizeof cell, "%3llu =%8.2f", static_cast<unsigned long long>(n),
                              static_cast<double>(n) * *unit);
            else
                std::snprintf(cell, sizeof cell, "%3llu", static_cast<unsigned long long>(n));
            std::printf(" %16s", cell);
        }
        std::printf("\n");
    }
}

std::optional<double> calls_sum(const Capture& cap, const Tally& t) {
    double sum = 0;
    for (std::size_t i = 0; i < kFnCount; ++i) {
        const Fn f = static_cast<Fn>(i);
        if (t[f] == 0) continue;
        auto unit = cap.us(call_cost_source(f));
        if (!unit) return std::nullopt;
        sum += static_cast<double>(t[f]) * *unit;
    }
    return sum;
}

int report(const Capture& cap) {
    print_budget();
    const auto calls = count_calls();
    print_calls(cap, calls);

    std::printf("\n%-18s | %11s | %14s | %6s | %14s | %6s | %9s\n", "operation", "measured us",
                "primitives us", "ratio", "all calls us", "ratio", "kernel us");
    std::printf("%-18s-+-%11s-+-%14s-+-%6s-+-%14s-+-%6s-+-%9s\n", "------------------",
                "-----------", "--------------", "------", "--------------", "------", "---------");
    bool aim_known = true, aim_met = true;
    for (const auto& op : kOperations) {
        const auto measured = cap.us(op.name);
        std::optional<double> prim = 0.0;
        for (std::size_t i = 0; i < kPCount && prim; ++i) {
            if (op.budget[i] == 0) continue;
            auto c = cost_of(cap, static_cast<P>(i));
            prim = c ? std::optional<double>(*prim + op.budget[i] * *c) : std::nullopt;
        }
        const auto all = calls_sum(cap, calls.at(op.name));
        std::optional<double> r1, r2;
        if (measured && prim && *prim > 0) r1 = *measured / *prim;
        if (measured && all && *all > 0) r2 = *measured / *all;
        std::printf("%-18s | %11s | %14s | %6s | %14s | %6s | %9s\n", op.name,
                    fmt(measured).c_str(), fmt(prim).c_str(), fmt(r1).c_str(), fmt(all).c_str(),
                    fmt(r2).c_str(), fmt(cap.sys_us(op.name), "%.0f").c_str());
        if (op.resume) {
            if (!r1)
                aim_known = false;
            else if (*r1 > kAim)
                aim_met = false;
        }
    }
    std::printf(
        "\n'primitives us': the budget above priced at this run's primitive benchmarks.\n"
        "'all calls us': every libsodium call the operation made, priced the same way,\n"
        "sodium_malloc/free pairs included.  So all-calls/primitives is the redundant\n"
        "cryptography plus guarded allocations, and measured/all-calls what is spent\n"
        "outside libsodium (wrappers, containers, the in-memory book).  'kernel us':\n"
        "the side's system time per iteration, engine sides only.\n");
    if (!aim_known)
        std::printf(
            "aim (resume <= %.1fx its primitives): UNKNOWN, some benchmarks were filtered out\n",
            kAim);
    else
        std::printf("aim (resume <= %.1fx its primitives): %s\n", kAim,
                    aim_met ? "MET" : "NOT MET");
    return 0;
}

}  // namespace
}  // namespace br::bench

int main(int argc, char** argv) {
    using namespace br::bench;
    namespace bm = benchmark;
    br::crypto_init();
    const auto us = bm::kMicrosecond;
    const auto ns = bm::kNanosecond;

    std::set<std::string> manual;
    auto engine = [&](const char* name, bool resume, bool initiator) {
        bm::RegisterBenchmark(name, bm_engine, resume, initiator)->UseManualTime()->Unit(us);
        manual.insert(name);
    };
    engine("pair/initiator", false, true);
    engine("pair/responder", false, false);
    engine("resume/initiator", true, true);
    engine("resume/responder", true, false);
    bm::RegisterBenchmark("cert/mint", bm_cert_mint)->Unit(us);
    bm::RegisterBenchmark("cert/verify", bm_cert_verify)->Unit(us);

    bm::RegisterBenchmark("raw/x25519_base", raw_x25519_base)->Unit(ns);
    bm::RegisterBenchmark("raw/x25519_dh", raw_x25519_dh)->Unit(ns);
    bm::RegisterBenchmark("prim/x25519_keygen", prim_x25519_keygen)->Unit(ns);
    bm::RegisterBenchmark("raw/ed25519_seed_keypair", raw_ed25519_seed_keypair)->Unit(ns);
    bm::RegisterBenchmark("raw/ed25519_sign", raw_ed25519_sign)->Unit(ns);
    bm::RegisterBenchmark("raw/ed25519_verify", raw_ed25519_verify)->Unit(ns);
    bm::RegisterBenchmark("raw/ed25519_pk_to_x25519", raw_ed25519_pk_to_x25519)->Unit(ns);
    bm::RegisterBenchmark("raw/ed25519_sk_to_x25519", raw_ed25519_sk_to_x25519)->Unit(ns);
    bm::RegisterBenchmark("raw/ed25519_is_valid_point", raw_ed25519_is_valid_point)->Unit(ns);
    bm::RegisterBenchmark("raw/ed25519_scalarmult_noclamp", raw_ed25519_noclamp)->Unit(ns);
    bm::RegisterBenchmark("raw/ed25519_scalarmult_base_noclamp", raw_ed25519_base_noclamp)
        ->Unit(ns);
    bm::RegisterBenchmark("prim/blind_secret", prim_blind_secret)->Unit(ns);
    bm::RegisterBenchmark("prim/blind_public", prim_blind_public)->Unit(ns);
    bm::RegisterBenchmark("prim/sign_expanded", prim_sign_expanded)->Unit(ns);
    bm::RegisterBenchmark("raw/aead_encrypt_48B", raw_aead_encrypt, std::size_t{48})->Unit(ns);
    bm::RegisterBenchmark("raw/aead_decrypt_48B", raw_aead_decrypt, std::size_t{48})->Unit(ns);
    bm::RegisterBenchmark("raw/aead_encrypt_285B", raw_aead_encrypt, std::size_t{285})->Unit(ns);
    bm::RegisterBenchmark("raw/aead_decrypt_285B", raw_aead_decrypt, std::size_t{285})->Unit(ns);
    bm::RegisterBenchmark("raw/sha256_80B", raw_sha256)->Unit(ns);
    bm::RegisterBenchmark("raw/hmac_sha256_33B", raw_hmac_sha256)->Unit(ns);
    bm::RegisterBenchmark("raw/sha512_64B", raw_sha512)->Unit(ns);
    bm::RegisterBenchmark("raw/randombytes_32B", raw_randombytes)->Unit(ns);
    bm::RegisterBenchmark("raw/sodium_malloc_free_32B", raw_sodium_malloc)->Unit(ns);

    bm::RegisterBenchmark("br/X25519KeyPair::generate", br_x25519_generate)->Unit(ns);
    bm::RegisterBenchmark("br/x25519", br_x25519)->Unit(ns);
    bm::RegisterBenchmark("br/Ed25519KeyPair::from_seed", br_ed25519_from_seed)->Unit(ns);
    bm::RegisterBenchmark("br/Ed25519KeyPair::sign", br_ed25519_sign)->Unit(ns);
    bm::RegisterBenchmark("br/Ed25519KeyPair::x25519_secret", br_ed25519_x25519_secret)->Unit(ns);
    bm::RegisterBenchmark("br/derive_secret_32B", br_derive_secret)->Unit(ns);
    bm::RegisterBenchmark("br/hkdf_32B", br_hkdf)->Unit(ns);
    bm::RegisterBenchmark("br/aead_encrypt_285B", br_aead_encrypt)->Unit(ns);

    bm::Initialize(&argc, argv);
    if (bm::ReportUnrecognizedArguments(argc, argv)) return 1;
    Capture capture(manual);
    bm::RunSpecifiedBenchmarks(&capture);
    const int rc = report(capture);
    bm::Shutdown();
    return rc;
}
