// SPDX-License-Identifier: MIT
#include "core/noise/symmetric_state.hpp"

namespace br::noise {
namespace {

// An HMAC output moved into guarded memory; the stack copy is wiped.
SecretBytes to_secret(Hash& h) {
    SecretBytes out(ByteView{h});
    wipe_memory(h.data(), h.size());
    return out;
}

}  // namespace

std::pair<SecretBytes, SecretBytes> noise_hkdf2(ByteView chaining_key, ByteView ikm) {
    static constexpr std::uint8_t kOne[1] = {0x01};
    static constexpr std::uint8_t kTwo[1] = {0x02};
    Hash temp = hmac_sha256(chaining_key, ikm);
    Hash o1 = hmac_sha256(temp, ByteView(kOne));
    Hash o2 = hmac_sha256(temp, {ByteView(o1), ByteView(kTwo)});
    wipe_memory(temp.data(), temp.size());
    return {to_secret(o1), to_secret(o2)};
}

Hkdf3 noise_hkdf3(ByteView chaining_key, ByteView ikm) {
    static constexpr std::uint8_t kOne[1] = {0x01};
    static constexpr std::uint8_t kTwo[1] = {0x02};
    static constexpr std::uint8_t kThree[1] = {0x03};
    Hash temp = hmac_sha256(chaining_key, ikm);
    Hash o1 = hmac_sha256(temp, ByteView(kOne));
    Hash o2 = hmac_sha256(temp, {ByteView(o1), ByteView(kTwo)});
    Hash o3 = hmac_sha256(temp, {ByteView(o2), ByteView(kThree)});
    wipe_memory(temp.data(), temp.size());
    return {to_secret(o1), to_secret(o2), to_secret(o3)};
}

SymmetricState::SymmetricState(std::string_view protocol_name) : ck_(kHashLen) {
    // A name of at most HASHLEN bytes is zero-padded; a longer one is hashed.
    const ByteView name = as_bytes(protocol_name);
    if (name.size() <= kHashLen) {
        std::copy(name.begin(), name.end(), h_.begin());
    } else {
        h_ = sha256(name);
    }
    std::copy(h_.begin(), h_.end(), ck_.data());
}

void SymmetricState::mix_key(ByteView ikm) {
    auto [ck, k] = noise_hkdf2(ck_.view(), ikm);
    ck_ = std::move(ck);
    cs_.initialize_key(k.view());  // HASHLEN == 32: no truncation needed
}

void SymmetricState::mix_hash(ByteView data) {
    h_ = sha256({ByteView(h_), data});
}

void SymmetricState::mix_key_and_hash(ByteView ikm) {
    Hkdf3 out = noise_hkdf3(ck_.view(), ikm);
    ck_ = std::move(out.out1);
    mix_hash(out.out2.view());
    cs_.initialize_key(out.out3.view());
}

Expected<Bytes, Error> SymmetricState::encrypt_and_hash(ByteView plaintext) {
    auto ct = cs_.encrypt_with_ad(h_, plaintext);
    if (ct) mix_hash(*ct);
    return ct;
}

Expected<Bytes, Error> SymmetricState::decrypt_and_hash(ByteView ciphertext) {
    auto pt = cs_.decrypt_with_ad(h_, ciphertext);
    if (pt) mix_hash(ciphertext);
    return pt;
}

// HKDF's first two outputs do not depend on how many follow, so Split() is
// split_with_secret() without the third (and the cacophony vectors, which
// go through split(), check that the transport keys are the spec's).
Expected<std::pair<CipherState, CipherState>, Error> SymmetricState::split() {
    auto s = split_with_secret();
    if (!s) return unexpected(s.error());
    return std::pair<CipherState, CipherState>{std::move(s->first), std::move(s->second)};
}

Expected<SymmetricState::SplitWithSecret, Error> SymmetricState::split_with_secret() {
    if (ck_.empty()) return unexpected(Error::MissingKey);
    auto k = noise_hkdf3(ck_.view(), {});
    wipe();
    return SplitWithSecret{CipherState(k.out1.view()), CipherState(k.out2.view()),
                           std::move(k.out3)};
}

SymmetricState SymmetricState::clone() const {
    SymmetricState c{std::string_view{}};
    c.ck_ = ck_.clone();
    c.h_ = h_;
    c.cs_ = cs_.clone();
    return c;
}

void SymmetricState::wipe() {
    ck_.wipe();
    cs_.clear();
}

}  // namespace br::noise
