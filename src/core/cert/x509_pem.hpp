// SPDX-License-Identifier: MIT
// PEM armour (RFC 7468) for the X.509 certificate and the PKCS#8 session
// key.  Base64 comes from libsodium, so the cert module needs no OpenSSL;
// the tests parse the output with OpenSSL to prove it interoperates.
#pragma once

#include <string>
#include <string_view>

#include "core/cert/session.hpp"

namespace br::cert {

// "-----BEGIN <label>-----\n", base64 in 64-character lines, "-----END <label>-----\n".
std::string pem_encode(std::string_view label, ByteView der);

// The certificate as PEM "CERTIFICATE".
Expected<std::string, CertError> certificate_pem(const SessionCert& session);

// pem_encode() into guarded memory (SecretBytes), the base64 too: for
// secrets, so that no copy is left in the ordinary heap.
SecretBytes pem_encode_secret(std::string_view label, ByteView der);

// SECRET: the session's private key as PEM "PRIVATE KEY" (PKCS#8, RFC 8410),
// in guarded memory, wiped when released.  Invalidated once the session is.
Expected<SecretBytes, CertError> private_key_pem_secret(const SessionCert& session);

// The same in a std::string, in ordinary heap memory: the caller decides
// where it goes and should wipe it (wipe_memory(s.data(), s.size())) when
// done.  Prefer private_key_pem_secret().
Expected<std::string, CertError> private_key_pem(const SessionCert& session);

}  // namespace br::cert
