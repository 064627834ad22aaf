// SPDX-License-Identifier: MIT
// One end of a session channel's mutual TLS (issue #12): TLS 1.3 between
// the two devices of a live session, each presenting its own session
// certificate and accepting exactly the peer's, bytes in and bytes out.
//
// The endpoint does no I/O and reads no clock: the owner gives it the
// ciphertext that arrived (receive), takes the ciphertext to send
// (take_outgoing) and the plaintext that arrived (take_incoming), and says
// what time it is when the endpoint is made, which is when the peer's
// certificate is checked.  OpenSSL does TLS over memory BIOs; what this
// file decides is the policy: TLS 1.3 only, X25519, Ed25519 signatures, no
// resumption and no tickets (a channel never outlives its session, so
// there is nothing to resume), and a peer certificate accepted only if it
// is byte for byte the session's peer certificate and valid now.  No chain,
// no names, no CA: the session already authenticated the peer, the TLS
// handshake proves the other end holds that session's key.
//
// Contract: create() fails on a certificate or key the session no longer
// has (invalidated: the key is gone).  The TLS client is the end that
// opened the channel.  Once failed() an endpoint only reports its
// failure: nothing more goes out or comes in.  The session key is given to
// OpenSSL as PKCS#8 from guarded memory, and OpenSSL keeps its copy in its
// own (wiped when freed) memory for the endpoint's life.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/crypto/secret.hpp"
#include "core/util/bytes.hpp"
#include "core/util/expected.hpp"

namespace br::channel {

enum class TlsError {
    BadCredentials,   // our certificate or key cannot be used (or no longer exists)
    PeerCertificate,  // the peer presented no certificate, or not the session's
    PeerExpired,      // the peer's certificate is not valid at the endpoint's time
    Handshake,        // any other failure of the TLS handshake (version, algorithms, ...)
    Protocol,         // a record failed to decrypt or parse after the handshake
    Closed,           // send() after close()
};
const char* to_string(TlsError e);

struct TlsFailure {
    TlsError error;
    std::string detail;  // OpenSSL's words, for logs
};

class TlsEndpoint {
  public:
    enum class Side { Client, Server };

    // `own_cert_der`: our session certificate (X.509 DER); `own_key_pkcs8`:
    // its private key (PKCS#8 DER, RFC 8410); `peer_cert_der`: the only
    // certificate the peer may present; `now_unix`: the time against which
    // the peer's certificate is checked.
    static Expected<std::unique_ptr<TlsEndpoint>, TlsFailure> create(
        Side side, ByteView own_cert_der, const SecretBytes& own_key_pkcs8, ByteView peer_cert_der,
        std::int64_t now_unix);
    ~TlsEndpoint();
    TlsEndpoint(const TlsEndpoint&) = delete;
    TlsEndpoint& operator=(const TlsEndpoint&) = delete;

    // Ciphertext from the transport, in any pieces.
    Expected<void, TlsFailure> receive(ByteView ciphertext);
    // Plaintext for the peer; held until the handshake is done.
    Expected<void, TlsFailure> send(ByteView plaintext);
    // Sends close_notify after anything sent before; later sends fail.
    void close();

    // What to put on the transport (empty if nothing).
    Bytes take_outgoing();
    // What the peer sent, decrypted (empty if nothing).
    Bytes take_incoming();

    bool established() const { return established_; }
    // The peer sent close_notify: no more will come.
    bool peer_closed() const { return peer_closed_; }
    const TlsFailure* failure() const { return failure_ ? &*failure_ : nullptr; }

  private:
    struct Ssl;
    explicit TlsEndpoint(std::unique_ptr<Ssl> ssl);
    Expected<void, TlsFailure> advance();
    Expected<void, TlsFailure> write(ByteView plaintext);
    Expected<void, TlsFailure> fail(TlsError e, std::string detail);

    std::unique_ptr<Ssl> ssl_;
    Bytes held_;  // plaintext sent before the handshake finished
    Bytes incoming_;
    bool established_ = false;
    bool peer_closed_ = false;
    bool closing_ = false;
    std::optional<TlsFailure> failure_;
};

}  // namespace br::channel
