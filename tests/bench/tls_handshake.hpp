// SPDX-License-Identifier: MIT
// OpenSSL's TLS 1.3 handshake with mutual authentication, client and server
// in one process over memory BIOs: the baseline blueratchet's handshakes are
// compared with (bench_tls for CPU, bench_air for bytes on the air).
//
// Configuration, chosen to be the closest TLS equivalent of a blueratchet
// session: each side has a self-signed Ed25519 certificate (made once with
// libcrypto) and trusts exactly the other's (no CA), both sides require and
// verify the peer's certificate (SSL_VERIFY_PEER | FAIL_IF_NO_PEER_CERT),
// key exchange X25519, cipher suite TLS_CHACHA20_POLY1305_SHA256: the same
// primitive family as blueratchet's Noise handshakes.
//
// The driver shuttles bytes between the two SSL objects itself, one side's
// call at a time, so it can time each side's calls with the thread CPU clock
// and record every flight (the bytes one side wrote before the other spoke).
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <memory>
#include <vector>

namespace br::bench::tls {

// What one side wrote to its BIO before the other side spoke.
struct Flight {
    bool from_client;
    std::size_t bytes;
};

struct Result {
    bool ok = false;
    double client_seconds = 0;  // thread CPU time of the client's calls
    double server_seconds = 0;
    std::vector<Flight> flights;
    // Flights delivered before each side had finished its handshake.
    std::size_t client_ready_after = 0;
    std::size_t server_ready_after = 0;
    bool resumed = false;  // the server accepted the offered PSK
};

struct SslCtxFree {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslSessionFree {
    void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SessionPtr = std::unique_ptr<SSL_SESSION, SslSessionFree>;

class Endpoints {
  public:
    // tickets: how many session tickets the server issues after a full
    // handshake (0 for the plain mutual handshake, 1 to allow resumption).
    explicit Endpoints(int tickets);

    // One complete handshake.  With `resume`, the client offers that session
    // (TLS 1.3 PSK with (EC)DHE, the default psk_dhe_ke mode).  With
    // `keep`, the client's session (from the server's ticket) is stored there.
    Result handshake(SSL_SESSION* resume = nullptr, SessionPtr* keep = nullptr);

    // Size of each side's DER certificate, as sent in its Certificate message.
    std::size_t client_cert_der() const { return client_der_; }
    std::size_t server_cert_der() const { return server_der_; }

  private:
    CtxPtr client_, server_;
    std::size_t client_der_ = 0, server_der_ = 0;
};

}  // namespace br::bench::tls
