// SPDX-License-Identifier: MIT
#include "core/channel/tls_endpoint.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sodium.h>

#include <ctime>

namespace br::channel {

const char* to_string(TlsError e) {
    switch (e) {
        case TlsError::BadCredentials:
            return "BadCredentials";
        case TlsError::PeerCertificate:
            return "PeerCertificate";
        case TlsError::PeerExpired:
            return "PeerExpired";
        case TlsError::Handshake:
            return "Handshake";
        case TlsError::Protocol:
            return "Protocol";
        case TlsError::Closed:
            return "Closed";
    }
    return "Unknown";
}

namespace {

// OpenSSL's error queue as one line (and emptied).
std::string openssl_errors() {
    std::string out;
    char buf[256];
    while (unsigned long e = ERR_get_error()) {
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out.empty() ? std::string("no detail from OpenSSL") : out;
}

}  // namespace

struct TlsEndpoint::Ssl {
    SSL_CTX* ctx = nullptr;
    SSL* ssl = nullptr;
    BIO* wbio = nullptr;  // owned by ssl
    Bytes expected_peer;
    std::time_t now = 0;
    // Why the verify callback refused, if it did.
    std::optional<TlsFailure> refused;

    ~Ssl() {
        SSL_free(ssl);  // frees both BIOs
        SSL_CTX_free(ctx);
    }

    // Replaces OpenSSL's chain verification: the leaf must be the session's
    // peer certificate, and valid at `now`.
    static int verify(X509_STORE_CTX* store, void* arg) {
        auto* self = static_cast<Ssl*>(arg);
        X509* leaf = X509_STORE_CTX_get0_cert(store);
        if (!leaf) {
            self->refused = TlsFailure{TlsError::PeerCertificate, "no certificate"};
            X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
            return 0;
        }
        unsigned char* der = nullptr;
        int len = i2d_X509(leaf, &der);
        bool same = len > 0 && static_cast<std::size_t>(len) == self->expected_peer.size() &&
                    sodium_memcmp(der, self->expected_peer.data(), self->expected_peer.size()) == 0;
        OPENSSL_free(der);
        if (!same) {
            self->refused =
                TlsFailure{TlsError::PeerCertificate, "not the session's peer certificate"};
            X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
            return 0;
        }
        // notBefore <= now < notAfter, as the core's certificate check.
        if (X509_cmp_time(X509_get0_notBefore(leaf), &self->now) != -1 ||
            X509_cmp_time(X509_get0_notAfter(leaf), &self->now) != 1) {
            self->refused =
                TlsFailure{TlsError::PeerExpired, "the peer's certificate is not valid now"};
            X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_HAS_EXPIRED);
            return 0;
        }
        return 1;
    }
};

TlsEndpoint::TlsEndpoint(std::unique_ptr<Ssl> ssl) : ssl_(std::move(ssl)) {}
TlsEndpoint::~TlsEndpoint() = default;

Expected<std::unique_ptr<TlsEndpoint>, TlsFailure> TlsEndpoint::create(
    Side side, ByteView own_cert_der, const SecretBytes& own_key_pkcs8, ByteView peer_cert_der,
    std::int64_t now_unix) {
    auto bad = [](TlsError e, const std::string& what) {
        return unexpected(TlsFailure{e, what + ": " + openssl_errors()});
    };
    ERR_clear_error();
    auto s = std::make_unique<Ssl>();
    s->expected_peer.assign(peer_cert_der.begin(), peer_cert_der.end());
    s->now = static_cast<std::time_t>(now_unix);
    if (own_key_pkcs8.size() == 0 || peer_cert_der.empty())
        return unexpected(TlsFailure{TlsError::BadCredentials, "no key or no peer certificate"});

    s->ctx = SSL_CTX_new(TLS_method());
    if (!s->ctx) return bad(TlsError::BadCredentials, "SSL_CTX_new");
    SSL_CTX* ctx = s->ctx;
    // TLS 1.3 only, one group, one signature algorithm: both ends are ours.
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set1_groups_list(ctx, "X25519") || !SSL_CTX_set1_sigalgs_list(ctx, "ed25519") ||
        !SSL_CTX_set1_client_sigalgs_list(ctx, "ed25519"))
        return bad(TlsError::BadCredentials, "TLS parameters");
    // Nothing to resume: a channel ends with its session.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);

    const unsigned char* p = own_cert_der.data();
    X509* cert = d2i_X509(nullptr, &p, static_cast<long>(own_cert_der.size()));
    if (!cert) return bad(TlsError::BadCredentials, "our certificate");
    int ok = SSL_CTX_use_certificate(ctx, cert);
    X509_free(cert);
    if (!ok) return bad(TlsError::BadCredentials, "our certificate");
    p = own_key_pkcs8.data();
    EVP_PKEY* key = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(own_key_pkcs8.size()));
    if (!key) return bad(TlsError::BadCredentials, "our key");
    ok = SSL_CTX_use_PrivateKey(ctx, key);
    EVP_PKEY_free(key);
    if (!ok || !SSL_CTX_check_private_key(ctx))
        return bad(TlsError::BadCredentials, "our key does not match our certificate");

    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    SSL_CTX_set_cert_verify_callback(ctx, &Ssl::verify, s.get());

    s->ssl = SSL_new(ctx);
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = BIO_new(BIO_s_mem());
    if (!s->ssl || !rbio || !wbio) {
        BIO_free(rbio);
        BIO_free(wbio);
        return bad(TlsError::BadCredentials, "SSL_new");
    }
    SSL_set_bio(s->ssl, rbio, wbio);
    s->wbio = wbio;
    if (side == Side::Client) {
        SSL_set_connect_state(s->ssl);
    } else {
        SSL_set_accept_state(s->ssl);
    }

    std::unique_ptr<TlsEndpoint> e(new TlsEndpoint(std::move(s)));
    if (side == Side::Client) {
        if (auto r = e->advance(); !r) return unexpected(r.error());  // the ClientHello
    }
    return e;
}

Expected<void, TlsFailure> TlsEndpoint::fail(TlsError e, std::string detail) {
    if (!failure_) failure_ = TlsFailure{e, std::move(detail)};
    return unexpected(*failure_);
}

Expected<void, TlsFailure> TlsEndpoint::advance() {
    if (failure_) return unexpected(*failure_);
    SSL* ssl = ssl_->ssl;
    ERR_clear_error();
    if (!established_) {
        int r = SSL_do_handshake(ssl);
        if (r != 1) {
            int e = SSL_get_error(ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return {};
            if (ssl_->refused) return fail(ssl_->refused->error, ssl_->refused->detail);
            if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
                return fail(TlsError::PeerCertificate, openssl_errors());
            return fail(TlsError::Handshake, openssl_errors());
        }
        established_ = true;
        // What was sent before the handshake finished goes first, also when
        // close() came meanwhile: it was sent before the close.
        if (!held_.empty()) {
            Bytes held = std::move(held_);
            held_.clear();
            if (auto w = write(held); !w) return w;
        }
        if (closing_) SSL_shutdown(ssl);
    }
    unsigned char buf[16384];
    for (;;) {
        std::size_t n = 0;
        if (SSL_read_ex(ssl, buf, sizeof buf, &n) == 1) {
            incoming_.insert(incoming_.end(), buf, buf + n);
            continue;
        }
        int e = SSL_get_error(ssl, 0);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
        if (e == SSL_ERROR_ZERO_RETURN) {
            peer_closed_ = true;
            break;
        }
        // After our Finished a TLS 1.3 client can still be refused (the
        // server checks our certificate last): the alert lands here.
        return fail(TlsError::Protocol, openssl_errors());
    }
    sodium_memzero(buf, sizeof buf);
    return {};
}

Expected<void, TlsFailure> TlsEndpoint::receive(ByteView ciphertext) {
    if (failure_) return unexpected(*failure_);
    if (!ciphertext.empty() && BIO_write(SSL_get_rbio(ssl_->ssl), ciphertext.data(),
                                         static_cast<int>(ciphertext.size())) <= 0)
        return fail(TlsError::Protocol, "cannot buffer the ciphertext");
    return advance();
}

Expected<void, TlsFailure> TlsEndpoint::send(ByteView plaintext) {
    if (failure_) return unexpected(*failure_);
    if (closing_) return unexpected(TlsFailure{TlsError::Closed, "the channel is closing"});
    if (!established_) {
        held_.insert(held_.end(), plaintext.begin(), plaintext.end());
        return {};
    }
    return write(plaintext);
}

Expected<void, TlsFailure> TlsEndpoint::write(ByteView plaintext) {
    ERR_clear_error();
    std::size_t done = 0;
    while (done < plaintext.size()) {
        std::size_t n = 0;
        if (SSL_write_ex(ssl_->ssl, plaintext.data() + done, plaintext.size() - done, &n) != 1)
            return fail(TlsError::Protocol, openssl_errors());
        done += n;
    }
    return {};
}

void TlsEndpoint::close() {
    if (failure_ || closing_) return;
    closing_ = true;
    if (established_) {
        ERR_clear_error();
        SSL_shutdown(ssl_->ssl);
    }
}

Bytes TlsEndpoint::take_outgoing() {
    Bytes out(BIO_ctrl_pending(ssl_->wbio));
    if (!out.empty()) {
        int n = BIO_read(ssl_->wbio, out.data(), static_cast<int>(out.size()));
        out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    }
    return out;
}

Bytes TlsEndpoint::take_incoming() {
    Bytes out = std::move(incoming_);
    incoming_.clear();
    return out;
}

}  // namespace br::channel
