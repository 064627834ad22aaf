// SPDX-License-Identifier: MIT
// libFuzzer target for the certificate decoders: the compact form and our
// X.509 form.  Neither may crash or read out of bounds on any input, and
// whatever they accept must round-trip byte for byte.
#include <cstdint>
#include <cstdlib>

#include "core/cert/certificate.hpp"
#include "core/cert/session.hpp"

namespace {

bool same(const br::Bytes& a, const std::uint8_t* data, std::size_t size) {
    return a.size() == size && std::equal(a.begin(), a.end(), data);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace br::cert;
    const br::ByteView in(data, size);

    if (auto c = decode_compact(in)) {
        if (!same(encode_compact(*c), data, size)) std::abort();
        // compact -> X.509 -> compact is lossless.
        auto back = compact_from_x509(x509_from_compact(*c));
        if (!back || !(*back == *c)) std::abort();
        // Full verification must fail cleanly (no one holds this seed).
        static const br::ByteArray<32> kSeed{};
        br::Ed25519Public own = c->peer_id;
        if (own != c->subject_id) {
            ReplayCache cache;
            (void)verify(in, c->subject_id, own, br::Role::Responder, kSeed, c->epoch,
                         c->not_before, cache);
        }
    }

    if (auto c = compact_from_x509(in)) {
        if (!same(x509_from_compact(*c), data, size)) std::abort();
        auto compact = decode_compact(encode_compact(*c));
        if (!compact || !(*compact == *c)) std::abort();
    }
    return 0;
}
