// SPDX-License-Identifier: MIT
// libFuzzer target for the session channel's TLS endpoint: whatever arrives
// from the transport, in whatever pieces, neither end may crash, read out of
// bounds or grow without bound, and neither may ever consider the channel
// established (nobody without the session keys can finish the handshake).
// Credentials are minted once, as a real session's are.  The same input,
// whole, is also an opening request: what parses must re-encode to the
// bytes it took.
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "core/cert/certificate.hpp"
#include "core/cert/session.hpp"
#include "core/channel/open_header.hpp"
#include "core/channel/tls_endpoint.hpp"

namespace {

struct Side {
    br::Bytes cert;
    br::SecretBytes key{0};
    br::Bytes peer;
};

struct Credentials {
    Side a, b;
};

const Credentials& credentials() {
    static const Credentials c = [] {
        using namespace br;
        auto id_a = Ed25519KeyPair::generate(), id_b = Ed25519KeyPair::generate();
        SecretBytes seed(32);
        Hash h{};
        constexpr std::uint32_t kNow = 1'800'000'000;
        auto ca = cert::SessionCert::mint(id_a, id_b.public_key(), Role::Initiator, seed, 1, h,
                                          kNow, 3600);
        auto cb = cert::SessionCert::mint(id_b, id_a.public_key(), Role::Responder, seed, 1, h,
                                          kNow, 3600);
        if (!ca || !cb) std::abort();
        Credentials out;
        out.a = {ca->x509_der().value(), ca->private_key_pkcs8_der().value(),
                 cert::x509_from_compact(cb->certificate().value())};
        out.b = {cb->x509_der().value(), cb->private_key_pkcs8_der().value(),
                 cert::x509_from_compact(ca->certificate().value())};
        return out;
    }();
    return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using br::channel::TlsEndpoint;
    const auto& c = credentials();
    // The first byte picks the end and the piece size; the rest arrives.
    if (size < 1) return 0;
    if (auto r = br::channel::parse_open(br::ByteView(data, size)); r && r->has_value()) {
        const auto& req = **r;
        br::Bytes again = br::channel::encode_open(req.service);
        if (!br::channel::valid_service_name(req.service) || again.size() != req.length ||
            !std::equal(again.begin(), again.end(), data))
            std::abort();
    }
    const bool as_server = data[0] & 1;
    const std::size_t piece = 1 + (data[0] >> 1);
    const Side& s = as_server ? c.b : c.a;
    auto e = TlsEndpoint::create(as_server ? TlsEndpoint::Side::Server : TlsEndpoint::Side::Client,
                                 s.cert, s.key, s.peer, 1'800'000'100);
    if (!e) std::abort();
    TlsEndpoint& end = *e.value();
    (void)end.take_outgoing();
    for (std::size_t i = 1; i < size; i += piece) {
        std::size_t n = std::min(piece, size - i);
        (void)end.receive(br::ByteView(data + i, n));
        (void)end.take_outgoing();
        if (end.established()) std::abort();
        if (!end.take_incoming().empty()) std::abort();
        if (end.failure()) break;
    }
    return 0;
}
