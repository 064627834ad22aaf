// SPDX-License-Identifier: MIT
#include "tls_handshake.hpp"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>

namespace br::bench::tls {
namespace {

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "tls_handshake: %s failed\n", what);
    std::abort();
}

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Adds the thread CPU time f() takes to `acc`.
template <class F>
auto timed(double& acc, F&& f) {
    struct Stop {
        double& acc;
        double t0;
        ~Stop() { acc += thread_cpu_seconds() - t0; }
    } stop{acc, thread_cpu_seconds()};
    return f();
}

struct Credential {
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    ~Credential() {
        X509_free(cert);
        EVP_PKEY_free(key);
    }
};

// A self-signed Ed25519 certificate valid for an hour, like a session
// certificate's lifetime; only a CN, no extensions (the smallest a peer
// would accept, so the byte counts favour TLS rather than us).
void make_self_signed(Credential& c, const char* cn, long serial) {
    c.key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    c.cert = X509_new();
    if (!c.key || !c.cert) die("Ed25519 key generation");
    X509_set_version(c.cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c.cert), serial);
    X509_gmtime_adj(X509_getm_notBefore(c.cert), -300);
    X509_gmtime_adj(X509_getm_notAfter(c.cert), 3600);
    X509_NAME* name = X509_get_subject_name(c.cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                               -1, -1, 0);
    X509_set_issuer_name(c.cert, name);
    if (X509_set_pubkey(c.cert, c.key) != 1) die("X509_set_pubkey");
    // Ed25519 signs the message itself: no digest.
    if (X509_sign(c.cert, c.key, nullptr) <= 0) die("X509_sign");
}

// A context that presents `own` and trusts exactly `peer`.
CtxPtr make_ctx(bool server, const Credential& own, const Credential& peer) {
    CtxPtr ctx(SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()));
    if (!ctx) die("SSL_CTX_new");
    SSL_CTX* c = ctx.get();
    SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION);
    if (SSL_CTX_set_ciphersuites(c, "TLS_CHACHA20_POLY1305_SHA256") != 1)
        die("SSL_CTX_set_ciphersuites");
    if (SSL_CTX_set1_groups_list(c, "X25519") != 1) die("SSL_CTX_set1_groups_list");
    if (SSL_CTX_use_certificate(c, own.cert) != 1 || SSL_CTX_use_PrivateKey(c, own.key) != 1)
        die("loading the certificate and key");
    if (X509_STORE_add_cert(SSL_CTX_get_cert_store(c), peer.cert) != 1) die("X509_STORE_add_cert");
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    return ctx;
}

std::size_t der_size(X509* cert) {
    const int n = i2d_X509(cert, nullptr);
    if (n <= 0) die("i2d_X509");
    return static_cast<std::size_t>(n);
}

// One side of the handshake: its SSL and the two memory BIOs it owns.
struct Side {
    SSL* ssl = nullptr;
    BIO* in = nullptr;   // what the peer sent, for us to read
    BIO* out = nullptr;  // what we wrote, for the driver to carry
    bool done = false;
    double seconds = 0;
};

void open_side(Side& s, SSL_CTX* ctx, bool server) {
    timed(s.seconds, [&] {
        s.ssl = SSL_new(ctx);
        s.in = BIO_new(BIO_s_mem());
        s.out = BIO_new(BIO_s_mem());
        if (!s.ssl || !s.in || !s.out) die("SSL_new");
        SSL_set_bio(s.ssl, s.in, s.out);  // the SSL owns both BIOs now
        if (server)
            SSL_set_accept_state(s.ssl);
        else
            SSL_set_connect_state(s.ssl);
    });
}

// Lets the side act on what it has received.  False on a failed handshake.
bool advance(Side& s) {
    return timed(s.seconds, [&] {
        if (!s.done) {
            const int rc = SSL_do_handshake(s.ssl);
            if (rc == 1) {
                s.done = true;
            } else if (SSL_get_error(s.ssl, rc) != SSL_ERROR_WANT_READ) {
                return false;
            }
        } else if (BIO_ctrl_pending(s.in) > 0) {
            // After the handshake only post-handshake messages come (the
            // server's NewSessionTicket): a read processes them.
            unsigned char byte;
            const int rc = SSL_read(s.ssl, &byte, 1);
            if (rc <= 0 && SSL_get_error(s.ssl, rc) != SSL_ERROR_WANT_READ) return false;
        }
        return true;
    });
}

// Moves what `from` wrote into `to`'s input; the bytes moved (0 if none).
std::size_t carry(Side& from, Side& to) {
    char buf[4096];
    std::size_t total = 0;
    for (;;) {
        const int n = BIO_read(from.out, buf, sizeof buf);
        if (n <= 0) break;
        if (BIO_write(to.in, buf, n) != n) die("BIO_write");
        total += static_cast<std::size_t>(n);
    }
    return total;
}

}  // namespace

Endpoints::Endpoints(int tickets) {
    Credential client, server;
    make_self_signed(client, "bench client", 1);
    make_self_signed(server, "bench server", 2);
    client_der_ = der_size(client.cert);
    server_der_ = der_size(server.cert);
    client_ = make_ctx(false, client, server);
    server_ = make_ctx(true, server, client);
    SSL_CTX_set_num_tickets(server_.get(), static_cast<std::size_t>(tickets));
    // Resumption with client certificates needs a session id context.
    static const unsigned char kContext[] = "blueratchet bench";
    SSL_CTX_set_session_id_context(server_.get(), kContext, sizeof kContext - 1);
}

Result Endpoints::handshake(SSL_SESSION* resume, SessionPtr* keep) {
    Result r;
    Side c, s;
    open_side(c, client_.get(), false);
    open_side(s, server_.get(), true);
    if (resume) timed(c.seconds, [&] { SSL_set_session(c.ssl, resume); });

    bool ok = true;
    // Client, then server, alternately, until a whole exchange moves nothing.
    for (int turn = 0; ok && turn < 16; ++turn) {
        Side& me = turn % 2 == 0 ? c : s;
        Side& peer = turn % 2 == 0 ? s : c;
        const bool was_done = me.done;
        ok = advance(me);
        if (me.done && !was_done)
            (&me == &c ? r.client_ready_after : r.server_ready_after) = r.flights.size();
        if (const std::size_t n = carry(me, peer)) {
            r.flights.push_back({&me == &c, n});
        } else if (c.done && s.done && BIO_ctrl_pending(peer.out) == 0 &&
                   BIO_ctrl_pending(me.in) == 0) {
            break;
        }
    }
    r.ok = ok && c.done && s.done;
    r.resumed = r.ok && SSL_session_reused(c.ssl) == 1;
    if (keep) timed(c.seconds, [&] { keep->reset(SSL_get1_session(c.ssl)); });
    // Ended as if close_notify had gone both ways (not counted: a dropped
    // link ends a blueratchet session without a message either).  Freed
    // otherwise, OpenSSL marks the session "bad" and will not resume it.
    for (Side* side : {&c, &s})
        timed(side->seconds, [&] {
            SSL_set_shutdown(side->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
            SSL_free(side->ssl);
        });
    r.client_seconds = c.seconds;
    r.server_seconds = s.seconds;
    return r;
}

}  // namespace br::bench::tls
