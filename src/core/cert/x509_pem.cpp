// SPDX-License-Identifier: MIT
#include "core/cert/x509_pem.hpp"

#include <sodium.h>

#include <algorithm>
#include <vector>

namespace br::cert {

std::string pem_encode(std::string_view label, ByteView der) {
    const std::size_t b64_len =
        sodium_base64_encoded_len(der.size(), sodium_base64_VARIANT_ORIGINAL);
    std::vector<char> b64(b64_len);
    sodium_bin2base64(b64.data(), b64.size(), der.data(), der.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    const std::size_t n = b64_len - 1;  // without the terminating NUL
    std::string out;
    out.reserve(n + n / 64 + 2 * label.size() + 40);
    out += "-----BEGIN ";
    out += label;
    out += "-----\n";
    for (std::size_t i = 0; i < n; i += 64) {
        out.append(b64.data() + i, std::min<std::size_t>(64, n - i));
        out += '\n';
    }
    out += "-----END ";
    out += label;
    out += "-----\n";
    // The buffer may have held a private key's encoding.
    sodium_memzero(b64.data(), b64.size());
    return out;
}

SecretBytes pem_encode_secret(std::string_view label, ByteView der) {
    const std::size_t b64_len =
        sodium_base64_encoded_len(der.size(), sodium_base64_VARIANT_ORIGINAL);
    SecretBytes b64(b64_len);
    sodium_bin2base64(reinterpret_cast<char*>(b64.data()), b64.size(), der.data(), der.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    const std::size_t n = b64_len - 1;  // without the terminating NUL
    const std::string begin = "-----BEGIN " + std::string(label) + "-----\n";
    const std::string end = "-----END " + std::string(label) + "-----\n";
    SecretBytes out(begin.size() + n + (n + 63) / 64 + end.size());
    std::uint8_t* p = std::copy(begin.begin(), begin.end(), out.data());
    for (std::size_t i = 0; i < n; i += 64) {
        const std::size_t k = std::min<std::size_t>(64, n - i);
        p = std::copy(b64.data() + i, b64.data() + i + k, p);
        *p++ = '\n';
    }
    std::copy(end.begin(), end.end(), p);
    return out;  // b64 is wiped here
}

Expected<std::string, CertError> certificate_pem(const SessionCert& session) {
    auto der = session.x509_der();
    if (!der) return unexpected(der.error());
    return pem_encode("CERTIFICATE", *der);
}

Expected<SecretBytes, CertError> private_key_pem_secret(const SessionCert& session) {
    auto der = session.private_key_pkcs8_der();
    if (!der) return unexpected(der.error());
    return pem_encode_secret("PRIVATE KEY", der->view());
}

Expected<std::string, CertError> private_key_pem(const SessionCert& session) {
    auto pem = private_key_pem_secret(session);
    if (!pem) return unexpected(pem.error());
    return std::string(pem->data(), pem->data() + pem->size());
}

}  // namespace br::cert
