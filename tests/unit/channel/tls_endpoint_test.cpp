// SPDX-License-Identifier: MIT
// The session channel's mutual TLS (src/core/channel/tls_endpoint.hpp)
// between the sessions of real pairings and resumes.
#include "core/channel/tls_endpoint.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string_view>

#include "core/cert/certificate.hpp"
#include "pair_test_util.hpp"

namespace br::channel {
namespace {

using test::Device;
using test::kNow;
using Side = TlsEndpoint::Side;

struct Sessions {
    handshake::Session a, b;
};

Sessions connected(Device& a, Device& b, std::uint32_t now = kNow) {
    auto out = test::connect(a, b, true, nullptr, now);
    EXPECT_TRUE(out.a && out.b);
    return {std::move(*out.a), std::move(*out.b)};
}

// What one side of a session brings to a channel.
struct Credentials {
    Bytes cert;
    SecretBytes key{0};
    Bytes peer;
};

Credentials credentials(const handshake::Session& s) {
    Credentials c;
    c.cert = s.own.x509_der().value();
    c.key = s.own.private_key_pkcs8_der().value();
    c.peer = cert::x509_from_compact(s.peer);
    return c;
}

std::unique_ptr<TlsEndpoint> endpoint(Side side, const Credentials& c, std::int64_t now = kNow) {
    auto e = TlsEndpoint::create(side, c.cert, c.key, c.peer, now);
    EXPECT_TRUE(e.has_value()) << (e ? "" : e.error().detail);
    return e ? std::move(e.value()) : nullptr;
}

// Carries what each end has to send to the other until neither has
// anything; returns every byte that crossed (the "air").
Bytes shuttle(TlsEndpoint& client, TlsEndpoint& server) {
    Bytes air;
    for (int round = 0; round < 10000; ++round) {
        Bytes up = client.take_outgoing();
        if (!up.empty()) {
            air.insert(air.end(), up.begin(), up.end());
            (void)server.receive(up);
        }
        Bytes down = server.take_outgoing();
        if (!down.empty()) {
            air.insert(air.end(), down.begin(), down.end());
            (void)client.receive(down);
        }
        if (up.empty() && down.empty()) break;
    }
    return air;
}

Bytes random_bytes(std::size_t n) {
    Bytes b(n);
    randombytes_buf(b.data(), b.size());
    return b;
}

TEST(TlsEndpoint, MutualHandshakeThenAMebibyteEachWayNothingInClear) {
    Device a, b;
    auto s = connected(a, b);
    auto client = endpoint(Side::Client, credentials(s.a));
    auto server = endpoint(Side::Server, credentials(s.b));
    ASSERT_TRUE(client && server);
    // Sent before the handshake is done: held, then sent.
    const std::string marker = "blueratchet-marker-7f3a";
    ASSERT_TRUE(client->send(as_bytes(marker)));
    Bytes air = shuttle(*client, *server);
    ASSERT_TRUE(client->established() && server->established());
    EXPECT_EQ(server->take_incoming(), Bytes(marker.begin(), marker.end()));

    Bytes up = random_bytes(1 << 20), down = random_bytes(1 << 20);
    for (std::size_t i = 0; i < up.size(); i += 4000) {
        std::size_t n = std::min<std::size_t>(4000, up.size() - i);
        ASSERT_TRUE(client->send(ByteView(up).subspan(i, n)));
        ASSERT_TRUE(server->send(ByteView(down).subspan(i, n)));
        Bytes more = shuttle(*client, *server);
        air.insert(air.end(), more.begin(), more.end());
    }
    EXPECT_EQ(server->take_incoming(), up);
    EXPECT_EQ(client->take_incoming(), down);
    EXPECT_EQ(std::search(air.begin(), air.end(), marker.begin(), marker.end()), air.end())
        << "the marker crossed in clear";
    EXPECT_GT(air.size(), 2u << 20);
}

TEST(TlsEndpoint, APeerWithAnotherCertificateIsRefusedBothWays) {
    Device a, b;
    auto first = connected(a, b);
    auto second = connected(a, b);  // a resume: epoch 2, fresh certificates
    ASSERT_EQ(second.a.epoch, 2u);
    ASSERT_EQ(second.b.epoch, 2u);

    // A presents its epoch-1 certificate to B, who expects epoch 2's.
    Credentials stale = credentials(first.a);
    stale.peer = credentials(second.a).peer;
    auto client = endpoint(Side::Client, stale);
    auto server = endpoint(Side::Server, credentials(second.b));
    ASSERT_TRUE(client && server);
    ASSERT_TRUE(client->send(as_bytes("should never arrive")));
    shuttle(*client, *server);
    ASSERT_NE(server->failure(), nullptr);
    EXPECT_EQ(server->failure()->error, TlsError::PeerCertificate) << server->failure()->detail;
    EXPECT_FALSE(server->established());
    EXPECT_TRUE(server->take_incoming().empty());
    // The client hears the alert.
    EXPECT_NE(client->failure(), nullptr);

    // B presents its epoch-1 certificate to A: A refuses before sending
    // anything of its own.
    Credentials stale_b = credentials(first.b);
    stale_b.peer = credentials(second.b).peer;
    auto client2 = endpoint(Side::Client, credentials(second.a));
    auto server2 = endpoint(Side::Server, stale_b);
    ASSERT_TRUE(client2->send(as_bytes("should never leave")));
    shuttle(*client2, *server2);
    ASSERT_NE(client2->failure(), nullptr);
    EXPECT_EQ(client2->failure()->error, TlsError::PeerCertificate);
    EXPECT_TRUE(server2->take_incoming().empty());
}

// The two endpoints' records over a real AF_UNIX SOCK_SEQPACKET socketpair
// (one record flight per datagram, as over L2CAP), until neither has
// anything to send.
void shuttle_over_socketpair(TlsEndpoint& client, TlsEndpoint& server) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
    auto carry = [](TlsEndpoint& from, int out, int in, TlsEndpoint& to) {
        Bytes b = from.take_outgoing();
        if (b.empty()) return false;
        EXPECT_EQ(::send(out, b.data(), b.size(), 0), static_cast<ssize_t>(b.size()));
        Bytes got(b.size() + 1);
        ssize_t n = ::recv(in, got.data(), got.size(), 0);
        EXPECT_EQ(n, static_cast<ssize_t>(b.size()));
        got.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
        (void)to.receive(got);
        return true;
    };
    for (int round = 0; round < 1000; ++round) {
        bool up = carry(client, sv[0], sv[1], server);
        bool down = carry(server, sv[1], sv[0], client);
        if (!up && !down) break;
    }
    ::close(sv[0]);
    ::close(sv[1]);
}

// Issue #12's pinning cases beside the epoch one above: B, in its session
// with A, refuses C's certificate (another peer) and A's certificate of its
// session with C (the same peer, another session), each valid, each
// presented with the key that goes with it.
TEST(TlsEndpoint, AnotherPeerOrTheSamePeersOtherSessionIsRefused) {
    Device a, b, c;
    auto ab = connected(a, b);
    auto cb = connected(c, b);
    auto ac = connected(a, c);
    const Bytes b_cert_with_a = credentials(ab.b).cert;

    struct Case {
        const char* what;
        Credentials presented;
    };
    Case cases[2] = {{"another peer: C's certificate of its session with B", credentials(cb.a)},
                     {"the same peer, another session: A's certificate with C", credentials(ac.a)}};
    for (auto& k : cases) {
        SCOPED_TRACE(k.what);
        k.presented.peer = b_cert_with_a;  // it pins B's certificate, as A would
        auto client = endpoint(Side::Client, k.presented);
        auto server = endpoint(Side::Server, credentials(ab.b));
        ASSERT_TRUE(client && server);
        ASSERT_TRUE(client->send(as_bytes("should never arrive")));
        shuttle_over_socketpair(*client, *server);
        ASSERT_NE(server->failure(), nullptr);
        EXPECT_EQ(server->failure()->error, TlsError::PeerCertificate) << server->failure()->detail;
        EXPECT_FALSE(server->established());
        EXPECT_TRUE(server->take_incoming().empty());
    }
    // The control: A's certificate of this very session is accepted over
    // the same socketpair shuttle.
    auto client = endpoint(Side::Client, credentials(ab.a));
    auto server = endpoint(Side::Server, credentials(ab.b));
    ASSERT_TRUE(client->send(as_bytes("arrives")));
    shuttle_over_socketpair(*client, *server);
    EXPECT_EQ(server->failure(), nullptr);
    EXPECT_TRUE(server->established());
    Bytes got = server->take_incoming();
    EXPECT_EQ(std::string(got.begin(), got.end()), "arrives");
}

TEST(TlsEndpoint, APeerCertificateOutsideItsValidityIsRefused) {
    Device a, b;
    auto s = connected(a, b);
    const std::int64_t not_after = s.a.peer.not_after;
    const std::int64_t not_before = s.a.peer.not_before;
    for (std::int64_t now : {not_after, not_after + 3600, not_before - 1}) {
        auto client = endpoint(Side::Client, credentials(s.a), now);
        auto server = endpoint(Side::Server, credentials(s.b), kNow);
        shuttle(*client, *server);
        ASSERT_NE(client->failure(), nullptr) << now;
        EXPECT_EQ(client->failure()->error, TlsError::PeerExpired) << now;
    }
    // One second before the end it still works.
    auto client = endpoint(Side::Client, credentials(s.a), not_after - 1);
    auto server = endpoint(Side::Server, credentials(s.b), not_after - 1);
    shuttle(*client, *server);
    EXPECT_TRUE(client->established() && server->established());
}

TEST(TlsEndpoint, ATamperedRecordEndsTheChannelAndDeliversNothing) {
    Device a, b;
    auto s = connected(a, b);
    auto client = endpoint(Side::Client, credentials(s.a));
    auto server = endpoint(Side::Server, credentials(s.b));
    shuttle(*client, *server);
    ASSERT_TRUE(client->established() && server->established());
    ASSERT_TRUE(client->send(as_bytes("hello, tampered")));
    Bytes record = client->take_outgoing();
    ASSERT_GT(record.size(), 20u);
    record[record.size() - 3] ^= 0x01;
    EXPECT_FALSE(server->receive(record));
    ASSERT_NE(server->failure(), nullptr);
    EXPECT_EQ(server->failure()->error, TlsError::Protocol);
    EXPECT_TRUE(server->take_incoming().empty());
    // Failed stays failed.
    EXPECT_FALSE(server->send(as_bytes("x")));
}

TEST(TlsEndpoint, CloseNotifyEndsTheStreamAfterWhatWasSent) {
    Device a, b;
    auto s = connected(a, b);
    auto client = endpoint(Side::Client, credentials(s.a));
    auto server = endpoint(Side::Server, credentials(s.b));
    shuttle(*client, *server);
    ASSERT_TRUE(client->send(as_bytes("last words")));
    client->close();
    EXPECT_EQ(client->send(as_bytes("too late")).error().error, TlsError::Closed);
    shuttle(*client, *server);
    EXPECT_EQ(server->take_incoming(),
              Bytes(as_bytes("last words").begin(), as_bytes("last words").end()));
    EXPECT_TRUE(server->peer_closed());
    EXPECT_EQ(server->failure(), nullptr);
}

TEST(TlsEndpoint, WhatWasSentBeforeACloseDuringTheHandshakeStillGoes) {
    Device a, b;
    auto s = connected(a, b);
    auto client = endpoint(Side::Client, credentials(s.a));
    auto server = endpoint(Side::Server, credentials(s.b));
    ASSERT_TRUE(client->send(as_bytes("sent, then closed")));
    client->close();  // before the handshake is done
    shuttle(*client, *server);
    EXPECT_EQ(server->take_incoming(),
              Bytes(as_bytes("sent, then closed").begin(), as_bytes("sent, then closed").end()));
    EXPECT_TRUE(server->peer_closed());
}

TEST(TlsEndpoint, CredentialsThatDoNotBelongTogetherAreRefused) {
    Device a, b;
    auto s = connected(a, b);
    Credentials mixed = credentials(s.a);
    mixed.key = credentials(s.b).key;
    auto e = TlsEndpoint::create(Side::Client, mixed.cert, mixed.key, mixed.peer, kNow);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().error, TlsError::BadCredentials);
    Credentials none = credentials(s.a);
    none.key = SecretBytes(0);
    EXPECT_EQ(TlsEndpoint::create(Side::Server, none.cert, none.key, none.peer, kNow).error().error,
              TlsError::BadCredentials);
    // An invalidated session has no key to open a channel with.
    s.a.invalidate(InvalidationReason::LinkLost);
    EXPECT_FALSE(s.a.own.private_key_pkcs8_der());
}

// An OpenSSL client of our making, over memory BIOs, for the rules our
// endpoint would never break itself.
struct RawClient {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = nullptr;
    explicit RawClient(int max_version, const Credentials* c = nullptr) {
        SSL_CTX_set_max_proto_version(ctx, max_version);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
        if (c) {
            const unsigned char* p = c->cert.data();
            X509* x = d2i_X509(nullptr, &p, static_cast<long>(c->cert.size()));
            SSL_CTX_use_certificate(ctx, x);
            X509_free(x);
            p = c->key.data();
            EVP_PKEY* k = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(c->key.size()));
            SSL_CTX_use_PrivateKey(ctx, k);
            EVP_PKEY_free(k);
        }
        ssl = SSL_new(ctx);
        SSL_set_bio(ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
        SSL_set_connect_state(ssl);
    }
    ~RawClient() {
        SSL_free(ssl);
        SSL_CTX_free(ctx);
    }
    Bytes out() {
        Bytes b(BIO_ctrl_pending(SSL_get_wbio(ssl)));
        if (!b.empty()) BIO_read(SSL_get_wbio(ssl), b.data(), static_cast<int>(b.size()));
        return b;
    }
    // Runs the handshake against `server` until it settles.
    bool handshake(TlsEndpoint& server) {
        int r = 0;
        for (int i = 0; i < 20; ++i) {
            r = SSL_do_handshake(ssl);
            Bytes up = out();
            if (!up.empty()) (void)server.receive(up);
            Bytes down = server.take_outgoing();
            if (!down.empty())
                BIO_write(SSL_get_rbio(ssl), down.data(), static_cast<int>(down.size()));
            if (up.empty() && down.empty()) break;
        }
        ERR_clear_error();
        return r == 1;
    }
};

TEST(TlsEndpoint, ServerRefusesAClientWithoutACertificateAndTls12) {
    Device a, b;
    auto s = connected(a, b);
    {
        auto server = endpoint(Side::Server, credentials(s.b));
        RawClient anonymous(TLS1_3_VERSION);
        anonymous.handshake(*server);
        ASSERT_NE(server->failure(), nullptr);
        EXPECT_EQ(server->failure()->error, TlsError::PeerCertificate) << server->failure()->detail;
        EXPECT_FALSE(server->established());
    }
    {
        Credentials ca = credentials(s.a);
        auto server = endpoint(Side::Server, credentials(s.b));
        RawClient old(TLS1_2_VERSION, &ca);
        EXPECT_FALSE(old.handshake(*server));
        ASSERT_NE(server->failure(), nullptr);
        EXPECT_EQ(server->failure()->error, TlsError::Handshake) << server->failure()->detail;
    }
    {
        // The same OpenSSL client with A's credentials and TLS 1.3: accepted
        // (the refusals above are the rules, not the harness).
        Credentials ca = credentials(s.a);
        auto server = endpoint(Side::Server, credentials(s.b));
        RawClient good(TLS1_3_VERSION, &ca);
        EXPECT_TRUE(good.handshake(*server));
        EXPECT_TRUE(server->established()) << (server->failure() ? server->failure()->detail : "");
    }
}

}  // namespace
}  // namespace br::channel
