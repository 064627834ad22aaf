// SPDX-License-Identifier: MIT
// Session certificates: minting, peer verification and every named error,
// the X.509 form against OpenSSL (library and command line), PKCS#8 export,
// fingerprints.
#include <gtest/gtest.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/cert/certificate.hpp"
#include "core/cert/der.hpp"
#include "core/cert/fingerprint.hpp"
#include "core/cert/session.hpp"
#include "core/cert/x509_pem.hpp"

namespace br::cert {
namespace {

constexpr std::uint32_t kNow = 1'700'000'000;  // 2023-11-14
constexpr std::uint32_t kNotBefore = kNow - 60;
constexpr std::uint32_t kValidity = 3600;
constexpr std::uint32_t kEpoch = 3;

struct X509Deleter {
    void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioDeleter {
    void operator()(BIO* b) const { BIO_free(b); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

X509Ptr parse_der(const Bytes& der) {
    const unsigned char* p = der.data();
    X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (x && p != der.data() + der.size()) return nullptr;  // trailing bytes
    return x;
}

// Runs a shell command; returns its exit status and fills `out` with its
// combined stdout and stderr.
int run(const std::string& cmd, std::string& out) {
    out.clear();
    FILE* f = popen((cmd + " 2>&1").c_str(), "r");
    if (!f) return -1;
    char buf[512];
    while (std::fgets(buf, sizeof buf, f)) out += buf;
    const int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string temp_path(const std::string& name) {
    const char* d = std::getenv("TMPDIR");
    return std::string(d ? d : "/tmp") + "/br_cert_test_" + std::to_string(getpid()) + "_" + name;
}

void write_file(const std::string& path, const std::string& data) {
    std::ofstream f(path, std::ios::binary);
    f << data;
}

void write_file(const std::string& path, const Bytes& data) {
    write_file(path, std::string(data.begin(), data.end()));
}

bool have_command(const std::string& name) {
    std::string out;
    return run("command -v " + name, out) == 0;
}

// docs/PROTOCOL.md 7.5, computed here with OpenSSL's SHA-256 from the
// compact fields, independently of the code under test:
// SHA-256("blueratchet/1 serial" || compact[0:189])[0:16], first octet
// (& 0x7f) | 0x40.
Bytes documented_serial(const Certificate& c) {
    const Bytes compact = encode_compact(c);
    Bytes in;
    append(in, as_bytes("blueratchet/1 serial"));
    in.insert(in.end(), compact.begin(), compact.begin() + 189);  // all but self_sig
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(in.data(), in.size(), d);
    Bytes serial(d, d + 16);
    serial[0] = static_cast<std::uint8_t>((serial[0] & 0x7f) | 0x40);
    return serial;
}

// (issuer Name DER, serialNumber magnitude) as OpenSSL reads them.
std::pair<Bytes, Bytes> issuer_and_serial(const Bytes& der) {
    X509Ptr x = parse_der(der);
    if (!x) return {};
    unsigned char* p = nullptr;
    const int n = i2d_X509_NAME(X509_get_issuer_name(x.get()), &p);
    if (n <= 0) return {};
    Bytes issuer(p, p + n);
    OPENSSL_free(p);
    const ASN1_INTEGER* s = X509_get0_serialNumber(x.get());
    const unsigned char* sd = ASN1_STRING_get0_data(s);
    return {issuer, Bytes(sd, sd + ASN1_STRING_length(s))};
}

class CertTest : public ::testing::Test {
  protected:
    CertTest()
        : a_(Ed25519KeyPair::generate()),
          b_(Ed25519KeyPair::generate()),
          c_(Ed25519KeyPair::generate()),
          seed_(32) {
        random_bytes(seed_.span());
        random_bytes(h_);
    }

    SessionCert mint_a(std::uint32_t epoch = kEpoch, std::uint32_t nb = kNotBefore,
                       std::uint32_t validity = kValidity) {
        auto s =
            SessionCert::mint(a_, b_.public_key(), Role::Initiator, seed_, epoch, h_, nb, validity);
        EXPECT_TRUE(s) << to_string(s.error());
        return std::move(s).value();
    }
    SessionCert mint_b(std::uint32_t epoch = kEpoch) {
        auto s = SessionCert::mint(b_, a_.public_key(), Role::Responder, seed_, epoch, h_,
                                   kNotBefore, kValidity);
        EXPECT_TRUE(s) << to_string(s.error());
        return std::move(s).value();
    }
    // B checks a certificate that claims to be A's.
    Expected<Certificate, CertError> b_verifies(const Bytes& compact, std::uint32_t now = kNow,
                                                std::uint32_t epoch = kEpoch) {
        ReplayCache fresh;
        return verify(compact, a_.public_key(), b_.public_key(), Role::Responder, seed_.view(),
                      epoch, now, fresh, h_);
    }

    Ed25519KeyPair a_, b_, c_;
    SecretBytes seed_;
    Hash h_{};
};

TEST_F(CertTest, MintOnBothSidesAndVerify) {
    SessionCert sa = mint_a();
    SessionCert sb = mint_b();
    const Bytes ca = *sa.compact();
    const Bytes cb = *sb.compact();
    EXPECT_EQ(ca.size(), kCompactLen);
    EXPECT_EQ(cb.size(), 253u);

    ReplayCache cache_a, cache_b;
    auto at_b = verify(ca, a_.public_key(), b_.public_key(), Role::Responder, seed_.view(), kEpoch,
                       kNow, cache_b, h_);
    ASSERT_TRUE(at_b) << to_string(at_b.error());
    EXPECT_EQ(at_b->session_pk, *sa.session_public_key());
    auto at_a = sa.verify_peer(cb, kNow, cache_a);
    ASSERT_TRUE(at_a) << to_string(at_a.error());
    EXPECT_EQ(at_a->session_pk, *sb.session_public_key());
    // Without a handshake hash the binding is not compared, the rest is.
    ReplayCache other;
    EXPECT_TRUE(verify(ca, a_.public_key(), b_.public_key(), Role::Responder, seed_.view(), kEpoch,
                       kNow, other));
    EXPECT_TRUE(sa.verify_own(kNow));
    EXPECT_TRUE(sb.verify_own(kNow));
    EXPECT_EQ(sa.verify_own(kNotBefore + kValidity).error(), CertError::Expired);
    EXPECT_NE(*sa.session_public_key(), a_.public_key());

    // The session key signs with standard Ed25519.
    auto sig = sa.sign(as_bytes("hello"));
    ASSERT_TRUE(sig);
    EXPECT_TRUE(ed25519_verify(*sa.session_public_key(), as_bytes("hello"), *sig));
}

TEST_F(CertTest, CompactAndX509RoundTrip) {
    SessionCert sa = mint_a();
    const Certificate c = *sa.certificate();
    const Bytes compact = encode_compact(c);
    auto back = decode_compact(compact);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, c);
    const Bytes der = x509_from_compact(c);
    EXPECT_EQ(der, *sa.x509_der());
    auto from_der = compact_from_x509(der);
    ASSERT_TRUE(from_der) << to_string(from_der.error());
    EXPECT_EQ(*from_der, c);
    EXPECT_EQ(encode_compact(*from_der), compact);
    EXPECT_EQ(x509_from_compact(*from_der), der);
    // The self signature is the signature over the TBSCertificate.
    EXPECT_TRUE(ed25519_verify(c.session_pk, tbs_der(c), c.self_sig));
}

TEST_F(CertTest, OpenSslParsesAndVerifiesX509) {
    SessionCert sa = mint_a();
    const Certificate c = *sa.certificate();
    const Bytes der = *sa.x509_der();
    X509Ptr x = parse_der(der);
    ASSERT_TRUE(x) << "d2i_X509 failed";

    // OpenSSL keeps the received encoding: i2d gives our bytes back.
    unsigned char* out = nullptr;
    const int n = i2d_X509(x.get(), &out);
    ASSERT_GT(n, 0);
    EXPECT_EQ(Bytes(out, out + n), der);
    OPENSSL_free(out);

    EVP_PKEY* pk = X509_get0_pubkey(x.get());
    ASSERT_NE(pk, nullptr);
    EXPECT_EQ(EVP_PKEY_get_id(pk), EVP_PKEY_ED25519);
    ByteArray<32> raw{};
    std::size_t raw_len = raw.size();
    ASSERT_EQ(EVP_PKEY_get_raw_public_key(pk, raw.data(), &raw_len), 1);
    EXPECT_EQ(raw, c.session_pk);
    EXPECT_EQ(X509_verify(x.get(), pk), 1);
    EXPECT_EQ(X509_get_version(x.get()), 2);  // v3
    EXPECT_EQ(issuer_and_serial(der).second, documented_serial(c));
    EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(x.get()), X509_get_issuer_name(x.get())), 0);
    EXPECT_NE(X509_get_extension_flags(x.get()) & EXFLAG_SS, 0u);  // self-signed
    EXPECT_EQ(X509_check_ca(x.get()), 0);                          // an end entity

    char cn[128] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(x.get()), NID_commonName, cn, sizeof cn);
    EXPECT_EQ(std::string(cn), common_name(c.subject_id));

    ASN1_TIME* nb = ASN1_TIME_set(nullptr, kNotBefore);
    ASN1_TIME* na = ASN1_TIME_set(nullptr, kNotBefore + kValidity);
    EXPECT_EQ(ASN1_TIME_compare(X509_get0_notBefore(x.get()), nb), 0);
    EXPECT_EQ(ASN1_TIME_compare(X509_get0_notAfter(x.get()), na), 0);
    ASN1_TIME_free(nb);
    ASN1_TIME_free(na);

    // The private extension is found under its OID and is not critical.
    ASN1_OBJECT* obj = OBJ_txt2obj(kExtensionOidText, 1);
    ASSERT_NE(obj, nullptr);
    ASSERT_EQ(OBJ_length(obj), extension_oid().size());
    EXPECT_EQ(Bytes(OBJ_get0_data(obj), OBJ_get0_data(obj) + OBJ_length(obj)),
              Bytes(extension_oid().begin(), extension_oid().end()));
    const int idx = X509_get_ext_by_OBJ(x.get(), obj, -1);
    ASN1_OBJECT_free(obj);
    ASSERT_GE(idx, 0);
    X509_EXTENSION* ext = X509_get_ext(x.get(), idx);
    EXPECT_EQ(X509_EXTENSION_get_critical(ext), 0);

    EXPECT_NE(X509_get_key_usage(x.get()) & KU_DIGITAL_SIGNATURE, 0u);
    EXPECT_NE(X509_get_extended_key_usage(x.get()) & XKU_SSL_SERVER, 0u);
    EXPECT_NE(X509_get_extended_key_usage(x.get()) & XKU_SSL_CLIENT, 0u);
    // Both PEM forms parse.
    const std::string pem = *certificate_pem(sa);
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    X509Ptr x2(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    ASSERT_TRUE(x2);
    EXPECT_EQ(X509_cmp(x.get(), x2.get()), 0);
}

TEST_F(CertTest, OpenSslCommandLineAcceptsSelfSignedCertificate) {
    SessionCert sa = mint_a();
    // openssl verify checks the validity window against the real clock, so
    // this certificate starts now.
    const auto now = static_cast<std::uint32_t>(std::time(nullptr));
    auto s = SessionCert::mint(a_, b_.public_key(), Role::Initiator, seed_, kEpoch, h_, now - 60,
                               kValidity);
    ASSERT_TRUE(s);
    const std::string path = temp_path("c.pem");
    {
        std::ofstream f(path);
        f << *certificate_pem(*s);
    }
    std::string out;
    for (const char* extra :
         {"", "-x509_strict", "-purpose sslserver", "-purpose sslclient", "-check_ss_sig"}) {
        const std::string cmd =
            std::string("openssl verify ") + extra + " -CAfile " + path + " " + path;
        EXPECT_EQ(run(cmd, out), 0) << cmd << "\n" << out;
        EXPECT_NE(out.find(": OK"), std::string::npos) << cmd << "\n" << out;
        std::printf("%s -> %s", cmd.c_str(), out.c_str());
    }
    ASSERT_EQ(run("openssl x509 -noout -text -in " + path, out), 0) << out;
    EXPECT_NE(out.find(kExtensionOidText), std::string::npos) << out;
    EXPECT_NE(out.find("CA:FALSE"), std::string::npos) << out;
    EXPECT_NE(out.find("Digital Signature"), std::string::npos) << out;
    EXPECT_NE(out.find("TLS Web Server Authentication, TLS Web Client Authentication"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("ED25519"), std::string::npos) << out;
    EXPECT_NE(out.find("Subject: CN = " + common_name(a_.public_key())), std::string::npos) << out;
    std::remove(path.c_str());
}

// Audit issue #10 item 7: RFC 5280 4.1.2.2 wants (issuer, serialNumber) to
// name one certificate.  One device (one issuer name) mints for many peers
// and epochs, so the serial must differ whenever anything else does.
TEST_F(CertTest, IssuerAndSerialAreUniqueAcrossPeersEpochsAndSessionKeys) {
    SecretBytes other_seed(32);  // another pairing: another session key
    random_bytes(other_seed.span());
    const auto now = static_cast<std::uint32_t>(std::time(nullptr));
    std::vector<std::pair<std::string, SessionCert>> certs;
    auto add = [&](const char* what, const Ed25519KeyPair& peer, const SecretBytes& seed,
                   std::uint32_t epoch, std::uint32_t nb) {
        auto s = SessionCert::mint(a_, peer.public_key(), Role::Initiator, seed, epoch, h_, nb,
                                   kValidity);
        ASSERT_TRUE(s) << what;
        certs.emplace_back(what, std::move(s).value());
    };
    add("A for B, epoch 3", b_, seed_, kEpoch, now - 60);
    add("A for C, epoch 3", c_, seed_, kEpoch, now - 60);
    add("A for B, epoch 4", b_, seed_, kEpoch + 1, now - 60);
    add("A for B, epoch 3, another seed", b_, other_seed, kEpoch, now - 60);
    add("A for B, epoch 3, same key, another window", b_, seed_, kEpoch, now - 30);
    ASSERT_EQ(certs.size(), 5u);

    std::map<std::pair<Bytes, Bytes>, std::string> seen;
    for (const auto& [what, s] : certs) {
        const auto id = issuer_and_serial(*s.x509_der());
        ASSERT_FALSE(id.first.empty()) << what;
        std::printf("%-44s serial %s\n", what.c_str(), to_hex(id.second).c_str());
        // Every one has the same issuer (A's name): only the serial separates them.
        EXPECT_EQ(id.first, issuer_and_serial(*certs[0].second.x509_der()).first) << what;
        const auto [it, fresh] = seen.emplace(id, what);
        EXPECT_TRUE(fresh) << what << " has the issuer and serial of " << it->second;
    }
}

TEST_F(CertTest, SerialNumberIsTheDocumentedSixteenOctetPositiveInteger) {
    for (std::uint32_t epoch : {1u, kEpoch, 0x80u, 0xffffffffu}) {
        SessionCert sa = mint_a(epoch);
        const Certificate c = *sa.certificate();
        const Bytes der = *sa.x509_der();
        const Bytes want = documented_serial(c);
        // Certificate 30 82 LL LL, TBSCertificate 30 82 LL LL, version
        // a0 03 02 01 02, then serialNumber 02 10 <16 octets>: minimal DER
        // (first octet 0x40..0x7f), positive, within RFC 5280's 20 octets.
        ASSERT_GE(der.size(), 31u);
        EXPECT_EQ(to_hex(ByteView(der).subspan(8, 7)), "a0030201020210") << epoch;
        EXPECT_EQ(Bytes(der.begin() + 15, der.begin() + 31), want) << epoch;
        EXPECT_GE(want[0], 0x40);
        EXPECT_LE(want[0], 0x7f);
        X509Ptr x = parse_der(der);
        ASSERT_TRUE(x);
        const ASN1_INTEGER* s = X509_get0_serialNumber(x.get());
        EXPECT_EQ(ASN1_STRING_type(s), V_ASN1_INTEGER) << "negative serial";
        EXPECT_EQ(ASN1_STRING_length(s), 16);
        // The epoch now travels in the private extension; the round trip
        // still gives every field back.
        auto back = compact_from_x509(der);
        ASSERT_TRUE(back) << to_string(back.error());
        EXPECT_EQ(back->epoch, epoch);
        EXPECT_EQ(*back, c);
    }
}

// NSS (Firefox, Thunderbird, libcurl-nss...) refuses a second certificate
// with the issuer and serial of one it already holds
// (SEC_ERROR_REUSED_ISSUER_AND_SERIAL, -8054).  Checked with both tools of
// Debian's libnss3-tools: vfychain loads both certificates into one NSS
// certificate store, certutil -A into one database (where this NSS can store
// Ed25519 certificates at all; NSS 3.87 cannot, see below).
TEST_F(CertTest, NssAcceptsCertificatesOneDeviceMintsForTwoPeers) {
    if (!have_command("certutil") || !have_command("vfychain"))
        GTEST_SKIP() << "NSS tools (certutil, vfychain) not installed: scripts/install-deps "
                        "installs them (Debian package libnss3-tools)";
    const auto now = static_cast<std::uint32_t>(std::time(nullptr));
    auto for_b = SessionCert::mint(a_, b_.public_key(), Role::Initiator, seed_, kEpoch, h_,
                                   now - 60, kValidity);
    auto for_c = SessionCert::mint(a_, c_.public_key(), Role::Initiator, seed_, kEpoch, h_,
                                   now - 60, kValidity);
    ASSERT_TRUE(for_b);
    ASSERT_TRUE(for_c);
    const Bytes der_b = *for_b->x509_der();
    const Bytes der_c = *for_c->x509_der();
    // Control: C's certificate with B's serialNumber TLV spliced in (same
    // length, signature not checked by NSS on import): a true collision,
    // which NSS must refuse, so a pass below is not NSS looking away.
    ASSERT_EQ(der_b[13], 0x02);
    const std::size_t serial_end = 15 + der_b[14];
    ASSERT_EQ(der_c[14], der_b[14]);
    Bytes collision = der_c;
    std::copy(der_b.begin() + 13, der_b.begin() + static_cast<std::ptrdiff_t>(serial_end),
              collision.begin() + 13);

    const std::string dir = temp_path("nss");
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir + "/db");
    const std::string pb = dir + "/for_b.der", pc = dir + "/for_c.der", px = dir + "/collision.der",
                      db = "sql:" + dir + "/db";
    write_file(pb, der_b);
    write_file(pc, der_c);
    write_file(px, collision);
    std::string out;

    // 1. vfychain: both certificates in one NSS store.  (Whether NSS then
    //    validates an Ed25519 chain depends on its version; what matters
    //    here is that it takes both in.)
    const std::string refused = "couldn't import";
    run("vfychain -pp -u 1 -t " + pb + " -t " + pc, out);
    std::printf("vfychain, A's certificates for B and C:\n%s", out.c_str());
    EXPECT_EQ(out.find(refused), std::string::npos) << out;
    EXPECT_EQ(out.find("-8054"), std::string::npos) << out;
    run("vfychain -pp -u 1 -t " + pb + " -t " + px, out);
    std::printf("vfychain, control with a spliced serial:\n%s", out.c_str());
    EXPECT_NE(out.find(refused), std::string::npos) << out;
    EXPECT_NE(out.find("-8054"), std::string::npos) << out;

    // 2. certutil -A into a fresh database.
    ASSERT_EQ(run("certutil -N -d " + db + " --empty-password", out), 0) << out;
    const std::string add = "certutil -A -d " + db + " -t P,, ";
    if (run(add + "-n for-b -i " + pb, out) == 0) {
        EXPECT_EQ(run(add + "-n for-c -i " + pc, out), 0) << out;
        EXPECT_NE(run(add + "-n collision -i " + px, out), 0) << out;
        EXPECT_NE(out.find("SEC_ERROR_REUSED_ISSUER_AND_SERIAL"), std::string::npos) << out;
    } else {
        // NSS before Ed25519 support cannot store any Ed25519 certificate.
        EXPECT_NE(out.find("SEC_ERROR_ADDING_CERT"), std::string::npos) << out;
        std::printf(
            "certutil -A: this NSS cannot store Ed25519 certificates (%s); "
            "the pair was checked with vfychain only\n",
            out.substr(0, out.find('\n')).c_str());
    }
    std::filesystem::remove_all(dir);
}

// Each of the two still verifies as its own trust anchor with OpenSSL,
// strict or not.
TEST_F(CertTest, OpenSslAcceptsCertificatesOneDeviceMintsForTwoPeers) {
    const auto now = static_cast<std::uint32_t>(std::time(nullptr));
    std::string out;
    for (const Ed25519KeyPair* peer : {&b_, &c_}) {
        auto s = SessionCert::mint(a_, peer->public_key(), Role::Initiator, seed_, kEpoch, h_,
                                   now - 60, kValidity);
        ASSERT_TRUE(s);
        const std::string path = temp_path(peer == &b_ ? "for_b.pem" : "for_c.pem");
        write_file(path, *certificate_pem(*s));
        for (const char* extra : {"", "-x509_strict"}) {
            const std::string cmd =
                std::string("openssl verify ") + extra + " -CAfile " + path + " " + path;
            EXPECT_EQ(run(cmd, out), 0) << cmd << "\n" << out;
            EXPECT_NE(out.find(": OK"), std::string::npos) << cmd << "\n" << out;
            std::printf("%s -> %s", cmd.c_str(), out.c_str());
        }
        std::remove(path.c_str());
    }
}

TEST_F(CertTest, Pkcs8KeyLoadsInOpenSslAndMatchesCertificate) {
    SessionCert sa = mint_a();
    std::string pem = *private_key_pem(sa);
    EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u);
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    wipe_memory(pem.data(), pem.size());
    ASSERT_TRUE(key);
    ByteArray<32> raw{};
    std::size_t raw_len = raw.size();
    ASSERT_EQ(EVP_PKEY_get_raw_public_key(key.get(), raw.data(), &raw_len), 1);
    EXPECT_EQ(raw, *sa.session_public_key());

    X509Ptr x = parse_der(*sa.x509_der());
    ASSERT_TRUE(x);
    EXPECT_EQ(EVP_PKEY_eq(key.get(), X509_get0_pubkey(x.get())), 1);
    EXPECT_EQ(X509_check_private_key(x.get(), key.get()), 1);

    // OpenSSL's Ed25519 signature with the exported key equals ours.
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    ASSERT_EQ(EVP_DigestSignInit(md, nullptr, nullptr, nullptr, key.get()), 1);
    const auto msg = as_bytes("blueratchet");
    Ed25519Signature ossl{};
    std::size_t sig_len = ossl.size();
    ASSERT_EQ(EVP_DigestSign(md, ossl.data(), &sig_len, msg.data(), msg.size()), 1);
    EVP_MD_CTX_free(md);
    EXPECT_EQ(ossl, *sa.sign(msg));
}

TEST_F(CertTest, ReplayedCertificateIsRejected) {
    SessionCert sa = mint_a();
    const Bytes ca = *sa.compact();
    ReplayCache cache;
    auto first = verify(ca, a_.public_key(), b_.public_key(), Role::Responder, seed_.view(), kEpoch,
                        kNow, cache, h_);
    ASSERT_TRUE(first);
    auto second = verify(ca, a_.public_key(), b_.public_key(), Role::Responder, seed_.view(),
                         kEpoch, kNow + 1, cache, h_);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error(), CertError::Replayed);
    EXPECT_STREQ(to_string(second.error()), "Replayed");
}

TEST(ReplayCache, IsBounded) {
    ReplayCache cache(3);
    Hash k[4]{};
    for (int i = 0; i < 4; ++i) {
        k[i][0] = static_cast<std::uint8_t>(i + 1);
        cache.remember(k[i]);
    }
    EXPECT_EQ(cache.size(), 3u);
    EXPECT_FALSE(cache.seen(k[0]));
    EXPECT_TRUE(cache.seen(k[3]));
}

TEST_F(CertTest, CertificateMadeForAnotherPeerIsWrongPeer) {
    // A mints for C; C forwards it to B (or A misdirects it).
    auto s = SessionCert::mint(a_, c_.public_key(), Role::Initiator, seed_, kEpoch, h_, kNotBefore,
                               kValidity);
    ASSERT_TRUE(s);
    auto r = b_verifies(*s->compact());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), CertError::WrongPeer);
}

TEST_F(CertTest, SwappedIdentifiersAreRejected) {
    SessionCert sa = mint_a();
    SessionCert sb = mint_b();
    // 1. Subject and peer fields swapped in A's certificate.
    Bytes swapped = *sa.compact();
    std::swap_ranges(swapped.begin() + 13, swapped.begin() + 45, swapped.begin() + 45);
    EXPECT_EQ(b_verifies(swapped).error(), CertError::WrongSubject);
    // 2. B's own certificate reflected back to B.
    EXPECT_EQ(b_verifies(*sb.compact()).error(), CertError::WrongSubject);
    // 3. The verifier's own and expected identities swapped.
    ReplayCache cache;
    EXPECT_EQ(verify(*sa.compact(), b_.public_key(), a_.public_key(), Role::Responder, seed_.view(),
                     kEpoch, kNow, cache, h_)
                  .error(),
              CertError::WrongSubject);
    // 4. A certificate whose subject is right but whose peer is the subject
    //    itself cannot be minted, and one naming a third party is WrongPeer
    //    (see CertificateMadeForAnotherPeerIsWrongPeer).
    EXPECT_EQ(SessionCert::mint(a_, a_.public_key(), Role::Initiator, seed_, kEpoch, h_, kNotBefore,
                                kValidity)
                  .error(),
              CertError::InvalidArgument);
    // 5. Roles swapped: A minted as if it were the responder, so ids are in
    //    the wrong order in its KDF contexts and the delegation fails.
    auto wrong_role = SessionCert::mint(a_, b_.public_key(), Role::Responder, seed_, kEpoch, h_,
                                        kNotBefore, kValidity);
    ASSERT_TRUE(wrong_role);
    EXPECT_EQ(b_verifies(*wrong_role->compact()).error(), CertError::BadDelegation);
    EXPECT_EQ(verify(*sa.compact(), a_.public_key(), b_.public_key(), Role::Initiator, seed_.view(),
                     kEpoch, kNow, cache, h_)
                  .error(),
              CertError::BadDelegation);
}

TEST_F(CertTest, TimeChecks) {
    SessionCert sa = mint_a();
    const Bytes ca = *sa.compact();
    EXPECT_EQ(b_verifies(ca, kNotBefore - 1).error(), CertError::NotYetValid);
    EXPECT_TRUE(b_verifies(ca, kNotBefore));
    EXPECT_TRUE(b_verifies(ca, kNotBefore + kValidity - 1));
    EXPECT_EQ(b_verifies(ca, kNotBefore + kValidity).error(), CertError::Expired);
    EXPECT_EQ(b_verifies(ca, UINT32_MAX).error(), CertError::Expired);
}

TEST_F(CertTest, BadValidityWindows) {
    // A window that ends before it starts or is over the maximum is
    // BadValidity, checked before the clock and before any signature.
    Bytes ca = *mint_a().compact();
    Bytes inverted = ca;
    inverted[9] = ca[5];  // not_after := not_before
    inverted[10] = ca[6];
    inverted[11] = ca[7];
    inverted[12] = ca[8];
    EXPECT_EQ(b_verifies(inverted).error(), CertError::BadValidity);
    Bytes too_long = ca;
    too_long[9] ^= 0x10;  // not_after + 2^28 s
    EXPECT_EQ(b_verifies(too_long).error(), CertError::BadValidity);
    // Minting refuses them.
    EXPECT_EQ(
        SessionCert::mint(a_, b_.public_key(), Role::Initiator, seed_, kEpoch, h_, kNow, 0).error(),
        CertError::BadValidity);
    EXPECT_EQ(SessionCert::mint(a_, b_.public_key(), Role::Initiator, seed_, kEpoch, h_, kNow,
                                kMaxValiditySeconds + 1)
                  .error(),
              CertError::BadValidity);
    EXPECT_EQ(SessionCert::mint(a_, b_.public_key(), Role::Initiator, seed_, kEpoch, h_,
                                UINT32_MAX - 10, 11)
                  .error(),
              CertError::BadValidity);
    EXPECT_TRUE(SessionCert::mint(a_, b_.public_key(), Role::Initiator, seed_, kEpoch, h_,
                                  UINT32_MAX - 10, 10));
}

TEST_F(CertTest, WrongEpochSeedAndBinding) {
    const Bytes ca = *mint_a().compact();
    EXPECT_EQ(b_verifies(ca, kNow, kEpoch + 1).error(), CertError::WrongEpoch);
    EXPECT_EQ(b_verifies(ca, kNow, 0).error(), CertError::WrongEpoch);
    EXPECT_EQ(
        SessionCert::mint(a_, b_.public_key(), Role::Initiator, seed_, 0, h_, kNow, 60).error(),
        CertError::WrongEpoch);

    SecretBytes other_seed(32);
    random_bytes(other_seed.span());
    ReplayCache cache;
    auto r = verify(ca, a_.public_key(), b_.public_key(), Role::Responder, other_seed.view(),
                    kEpoch, kNow, cache, h_);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), CertError::BadDelegation);

    Hash other_h = h_;
    other_h[3] ^= 1;
    r = verify(ca, a_.public_key(), b_.public_key(), Role::Responder, seed_.view(), kEpoch, kNow,
               cache, other_h);
    EXPECT_EQ(r.error(), CertError::WrongBinding);
    other_h = h_;
    other_h[20] ^= 1;  // only h[0:16] is bound
    EXPECT_TRUE(verify(ca, a_.public_key(), b_.public_key(), Role::Responder, seed_.view(), kEpoch,
                       kNow, cache, other_h));
}

TEST_F(CertTest, EveryFlippedBitIsRejectedWithANamedError) {
    const Bytes ca = *mint_a().compact();
    ASSERT_TRUE(b_verifies(ca));
    std::map<std::string, int> by_error;
    int rejected = 0;
    for (std::size_t i = 0; i < ca.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            Bytes t = ca;
            t[i] ^= static_cast<std::uint8_t>(1u << bit);
            auto r = b_verifies(t);
            EXPECT_FALSE(r) << "byte " << i << " bit " << bit << " accepted";
            if (!r) {
                ++rejected;
                ++by_error[to_string(r.error())];
            }
        }
    }
    std::printf("flipped bits: %d/%zu rejected:", rejected, ca.size() * 8);
    for (const auto& [name, n] : by_error) std::printf(" %s=%d", name.c_str(), n);
    std::printf("\n");
    EXPECT_EQ(rejected, static_cast<int>(ca.size() * 8));
}

TEST_F(CertTest, EveryFlippedBitOfTheX509FormIsRejected) {
    SessionCert sa = mint_a();
    const Bytes der = *sa.x509_der();
    int decode_errors = 0, verify_errors = 0;
    for (std::size_t i = 0; i < der.size(); ++i) {
        Bytes t = der;
        t[i] ^= static_cast<std::uint8_t>(1u << (i % 8));
        auto c = compact_from_x509(t);
        if (!c) {
            ++decode_errors;
            continue;
        }
        auto r = b_verifies(encode_compact(*c));
        EXPECT_FALSE(r) << "DER byte " << i << " accepted";
        verify_errors += !r;
    }
    std::printf("X.509 flips: %zu bytes, %d decode errors, %d verify errors\n", der.size(),
                decode_errors, verify_errors);
    EXPECT_EQ(decode_errors + verify_errors, static_cast<int>(der.size()));
}

TEST_F(CertTest, TruncatedAndOversizedInput) {
    const Bytes ca = *mint_a().compact();
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{252}}) {
        EXPECT_EQ(
            b_verifies(Bytes(ca.begin(), ca.begin() + static_cast<std::ptrdiff_t>(n))).error(),
            CertError::BadLength);
    }
    Bytes longer = ca;
    longer.push_back(0);
    EXPECT_EQ(b_verifies(longer).error(), CertError::BadLength);
    EXPECT_EQ(b_verifies(Bytes(4096, 1)).error(), CertError::BadLength);
    Bytes v3 = ca;
    v3[0] = 3;
    EXPECT_EQ(decode_compact(v3).error(), CertError::UnsupportedVersion);
    // A format this build knows but the session does not use: refused too.
    Bytes v1 = ca;
    v1[0] = kVersion10;
    EXPECT_EQ(b_verifies(v1).error(), CertError::UnsupportedVersion);

    SessionCert sa = mint_a();
    const Bytes der = *sa.x509_der();
    for (std::size_t n = 0; n < der.size(); ++n)
        ASSERT_FALSE(compact_from_x509(ByteView(der).first(n))) << n;
    Bytes der_long = der;
    der_long.push_back(0);
    EXPECT_EQ(compact_from_x509(der_long).error(), CertError::DecodeError);
}

TEST_F(CertTest, InvalidatedSessionRefusesEverything) {
    SessionCert sa = mint_a();
    const Bytes cb = *mint_b().compact();
    sa.invalidate(InvalidationReason::LinkLost);
    sa.invalidate(InvalidationReason::Revoked);  // idempotent, first reason kept
    EXPECT_TRUE(sa.invalidated());
    EXPECT_EQ(sa.invalidation_reason(), InvalidationReason::LinkLost);
    EXPECT_STREQ(to_string(*sa.invalidation_reason()), "LinkLost");
    EXPECT_EQ(sa.sign(as_bytes("x")).error(), CertError::Invalidated);
    EXPECT_EQ(sa.compact().error(), CertError::Invalidated);
    EXPECT_EQ(sa.certificate().error(), CertError::Invalidated);
    EXPECT_EQ(sa.x509_der().error(), CertError::Invalidated);
    EXPECT_EQ(sa.session_public_key().error(), CertError::Invalidated);
    EXPECT_EQ(sa.private_key_pkcs8_der().error(), CertError::Invalidated);
    EXPECT_EQ(private_key_pem(sa).error(), CertError::Invalidated);
    EXPECT_EQ(certificate_pem(sa).error(), CertError::Invalidated);
    EXPECT_EQ(sa.verify_own(kNow).error(), CertError::Invalidated);
    ReplayCache cache;
    EXPECT_EQ(sa.verify_peer(cb, kNow, cache).error(), CertError::Invalidated);
    EXPECT_STREQ(to_string(CertError::Invalidated), "Invalidated");
}

TEST_F(CertTest, SixEpochsGiveSixDistinctDeterministicSessionKeys) {
    std::set<Ed25519Public> keys;
    std::set<Bytes> certs;
    for (std::uint32_t e = 1; e <= 6; ++e) {
        SessionCert sa = mint_a(e);
        SessionCert sb = mint_b(e);
        keys.insert(*sa.session_public_key());
        keys.insert(*sb.session_public_key());
        // Same inputs, same key and (Ed25519 being deterministic) same cert.
        SessionCert again = mint_a(e);
        EXPECT_EQ(*again.session_public_key(), *sa.session_public_key());
        EXPECT_EQ(*again.compact(), *sa.compact());
        certs.insert(*sa.compact());
        // Each epoch's certificate verifies only in its epoch.
        EXPECT_TRUE(b_verifies(*sa.compact(), kNow, e));
    }
    EXPECT_EQ(keys.size(), 12u);
    EXPECT_EQ(certs.size(), 6u);
    // The owner's identity secret is in the session-key context: another
    // identity with the same seed, ids and epoch cannot be confused with it.
    EXPECT_EQ(keys.count(a_.public_key()), 0u);
    std::printf("6 epochs: %zu distinct session keys over both sides\n", keys.size());
}

TEST(CertTime, X509TimeEncodingAndParsing) {
    auto text = [](std::uint32_t t) {
        const Bytes v = der::x509_time(t);
        return std::to_string(v[0]) + ":" + std::string(v.begin() + 2, v.end());
    };
    EXPECT_EQ(text(0), "23:700101000000Z");
    EXPECT_EQ(text(951782400), "23:000229000000Z");      // 2000-02-29, leap day
    EXPECT_EQ(text(2524607999u), "23:491231235959Z");    // last UTCTime second
    EXPECT_EQ(text(2524608000u), "24:20500101000000Z");  // first GeneralizedTime
    EXPECT_EQ(text(4294967295u), "24:21060207062815Z");  // u32 max
    for (std::uint32_t t : {0u, 86399u, 951782400u, 2524607999u, 2524608000u, 4294967295u,
                            1700000000u, 4107542400u /* 2100-03-01 */}) {
        const Bytes v = der::x509_time(t);
        EXPECT_EQ(der::parse_x509_time(v[0], ByteView(v).subspan(2)), t) << t;
        // OpenSSL reads the same instant.
        const unsigned char* p = v.data();
        ASN1_TIME* ours = d2i_ASN1_TIME(nullptr, &p, static_cast<long>(v.size()));
        ASSERT_NE(ours, nullptr);
        ASN1_TIME* ref = ASN1_TIME_set(nullptr, t);
        EXPECT_EQ(ASN1_TIME_compare(ours, ref), 0) << t;
        ASN1_TIME_free(ours);
        ASN1_TIME_free(ref);
    }
    Bytes r(4);
    for (int i = 0; i < 2000; ++i) {
        random_bytes(r);
        const std::uint32_t t = (std::uint32_t{r[0]} << 24) | (r[1] << 16) | (r[2] << 8) | r[3];
        const Bytes v = der::x509_time(t);
        EXPECT_EQ(der::parse_x509_time(v[0], ByteView(v).subspan(2)), t) << t;
    }
    // Forms we never write are refused.
    EXPECT_FALSE(der::parse_x509_time(der::kUtcTime, as_bytes("500101000000Z")));  // 1950
    EXPECT_FALSE(der::parse_x509_time(der::kGeneralizedTime, as_bytes("20490101000000Z")));
    EXPECT_FALSE(der::parse_x509_time(der::kUtcTime, as_bytes("230230000000Z")));  // Feb 30
    EXPECT_FALSE(der::parse_x509_time(der::kGeneralizedTime, as_bytes("21070101000000Z")));
    EXPECT_FALSE(der::parse_x509_time(der::kUtcTime, as_bytes("2301010000000")));
}

TEST_F(CertTest, CertificatesFarInTheFutureUseGeneralizedTime) {
    // not_after in 2106: OpenSSL parses and verifies it.
    auto s = SessionCert::mint(a_, b_.public_key(), Role::Initiator, seed_, kEpoch, h_,
                               UINT32_MAX - 100, 100);
    ASSERT_TRUE(s);
    const Bytes der = *s->x509_der();
    X509Ptr x = parse_der(der);
    ASSERT_TRUE(x);
    EXPECT_EQ(X509_verify(x.get(), X509_get0_pubkey(x.get())), 1);
    EXPECT_EQ(ASN1_STRING_type(X509_get0_notAfter(x.get())), V_ASN1_GENERALIZEDTIME);
    auto c = compact_from_x509(der);
    ASSERT_TRUE(c);
    EXPECT_EQ(*c, *s->certificate());
}

TEST_F(CertTest, FingerprintAndShortCode) {
    SessionCert sa = mint_a();
    SessionCert sb = mint_b();
    const Ed25519Public pa = *sa.session_public_key(), pb = *sb.session_public_key();
    const Hash fa = fingerprint_for(Role::Initiator, h_, a_.public_key(), b_.public_key(), pa, pb);
    const Hash fb = fingerprint_for(Role::Responder, h_, b_.public_key(), a_.public_key(), pb, pa);
    EXPECT_EQ(fa, fb);
    EXPECT_TRUE(fingerprint_matches(fa, fb));
    Hash bad = fb;
    bad[31] ^= 1;
    EXPECT_FALSE(fingerprint_matches(fa, bad));
    EXPECT_FALSE(fingerprint_matches(fa, ByteView(fb).first(31)));

    // Independent computation with OpenSSL's SHA-256.
    Bytes in;
    append(in, as_bytes("blueratchet/1 fingerprint"));
    append(in, h_);
    append(in, a_.public_key());
    append(in, b_.public_key());
    append(in, pa);
    append(in, pb);
    Hash ref{};
    SHA256(in.data(), in.size(), ref.data());
    EXPECT_EQ(fa, ref);

    const std::string code = short_code(fa);
    ASSERT_EQ(code.size(), 6u);
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | fa[static_cast<std::size_t>(i)];
    EXPECT_EQ(std::stoul(code), v % 1000000);
    // Leading zeros are kept.
    Hash zero{};
    EXPECT_EQ(short_code(zero), "000000");
    Hash small{};
    small[7] = 42;
    EXPECT_EQ(short_code(small), "000042");
    // Swapping the session keys changes it.
    EXPECT_NE(fingerprint(h_, a_.public_key(), b_.public_key(), pb, pa), fa);
}

// Writes seed inputs for the fuzzer when BR_CERT_CORPUS_DIR is set.
TEST_F(CertTest, WriteFuzzCorpusIfAsked) {
    const char* dir = std::getenv("BR_CERT_CORPUS_DIR");
    if (!dir) GTEST_SKIP() << "BR_CERT_CORPUS_DIR not set";
    SessionCert sa = mint_a();
    SessionCert far = std::move(SessionCert::mint(a_, b_.public_key(), Role::Initiator, seed_, 7,
                                                  h_, UINT32_MAX - 100, 100))
                          .value();
    auto write = [dir](const std::string& name, const Bytes& b) {
        std::ofstream f(std::string(dir) + "/" + name, std::ios::binary);
        f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    };
    write("compact-valid.bin", *sa.compact());
    write("x509-valid.der", *sa.x509_der());
    write("x509-generalizedtime.der", *far.x509_der());
    write("compact-generalizedtime.bin", *far.compact());
    SessionCert v1 = std::move(SessionCert::mint(a_, b_.public_key(), Role::Initiator, seed_, 1, h_,
                                                 kNow - 60, 3600, kVersion10))
                         .value();
    write("compact-version1.bin", *v1.compact());
    write("x509-version1.der", *v1.x509_der());
    Bytes v3 = *sa.compact();
    v3[0] = 3;
    write("compact-version3.bin", v3);
    const Bytes der = *sa.x509_der();
    write("x509-truncated.der", Bytes(der.begin(), der.begin() + 300));
}

}  // namespace
}  // namespace br::cert

namespace br::cert {
namespace {

TEST(CertDer, MinimalIntegersAndLengths) {
    EXPECT_EQ(to_hex(der::integer(0)), "020100");
    EXPECT_EQ(to_hex(der::integer(127)), "02017f");
    EXPECT_EQ(to_hex(der::integer(128)), "02020080");
    EXPECT_EQ(to_hex(der::integer(256)), "02020100");
    EXPECT_EQ(to_hex(der::integer(0xffffffffu)), "020500ffffffff");
    for (std::uint32_t v : {0u, 1u, 127u, 128u, 255u, 256u, 65535u, 0x7fffffffu, 0xffffffffu}) {
        const Bytes e = der::integer(v);
        EXPECT_EQ(der::parse_u32_integer(ByteView(e).subspan(2)), v);
    }
    EXPECT_FALSE(der::parse_u32_integer(*from_hex("0001")));        // non-minimal
    EXPECT_FALSE(der::parse_u32_integer(*from_hex("80")));          // negative
    EXPECT_FALSE(der::parse_u32_integer(*from_hex("0100000000")));  // > 32 bits
    EXPECT_EQ(to_hex(der::tlv(der::kOctetString, Bytes(127))).substr(0, 4), "047f");
    EXPECT_EQ(to_hex(der::tlv(der::kOctetString, Bytes(128))).substr(0, 6), "048180");
    EXPECT_EQ(to_hex(der::tlv(der::kOctetString, Bytes(256))).substr(0, 8), "04820100");
    // The reader refuses non-minimal and indefinite lengths.
    EXPECT_FALSE(der::Reader(*from_hex("04817f" + std::string(254, '0'))).expect(0x04));
    EXPECT_FALSE(der::Reader(*from_hex("0482007f" + std::string(254, '0'))).expect(0x04));
    EXPECT_FALSE(der::Reader(*from_hex("30800000")).expect(0x30));
    EXPECT_FALSE(der::Reader(*from_hex("0405000102")).expect(0x04));  // past the end
    EXPECT_TRUE(der::Reader(*from_hex("0403000102")).expect(0x04));
}

}  // namespace
}  // namespace br::cert

namespace br::cert {
namespace {

// The example of docs/PROTOCOL.md section 7.8: pins every byte of the
// format (a reimplementation must reproduce these values).
TEST(CertKnownAnswer, ProtocolDocumentExample) {
    const auto a = Ed25519KeyPair::from_seed(Bytes(32, 0x01));
    const auto b = Ed25519KeyPair::from_seed(Bytes(32, 0x02));
    const SecretBytes seed(Bytes(32, 0x03));
    Hash h{};
    h.fill(0x04);
    auto sa = SessionCert::mint(a, b.public_key(), Role::Initiator, seed, 1, h, 1700000000, 3600);
    auto sb = SessionCert::mint(b, a.public_key(), Role::Responder, seed, 1, h, 1700000000, 3600);
    ASSERT_TRUE(sa);
    ASSERT_TRUE(sb);
    EXPECT_EQ(to_hex(*sa->session_public_key()),
              "29eb0877fdd47c00ca5e99c721a21bbbae6a917609a13851ba4c05b12c0e99b9");
    EXPECT_EQ(to_hex(*sb->session_public_key()),
              "e94330c967828b3ae102a1c1e702bab05fd92ba7088f709a224acbf26d4dc22b");
    EXPECT_EQ(to_hex(*sa->compact()),
              "02000000016553f1006553ff10"
              "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
              "8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394"
              "29eb0877fdd47c00ca5e99c721a21bbbae6a917609a13851ba4c05b12c0e99b9"
              "04040404040404040404040404040404"
              "c292bae2d1cab480ca5f6a1227d502e65958ad43e6fa3c964dfee5b6c87a9609"
              "41bdbef2870b97d9f22a43b466659fc4adcb4bcfcdfaa5b051154a42bc26b60b"
              "4b1a292c37ebb6960555bc4cc39ca455d91fbb8acb358b36609bfb9969537038"
              "ae222c6b082df0395dab0ec50365babd8e6ec2b10a538469b4b09c9054381106");
    EXPECT_EQ(to_hex(serial_number(*sa->certificate())), "5ebf72e7a8902ab577f38a46d43c9ca2");
    EXPECT_EQ(sa->x509_der()->size(), 574u);
    EXPECT_EQ(to_hex(sha256(*sa->x509_der())),
              "2a7ce1405721b016f0a0f8bc260155f0d93b7c4198849171b0e716ae250a53e0");
    EXPECT_EQ(to_hex(sha256(*sb->compact())),
              "c28dbf38777933d7af9d9af1ecbe4b674574df94507ceb16e79165b0fed1b16c");
    const Hash fp = fingerprint(h, a.public_key(), b.public_key(), *sa->session_public_key(),
                                *sb->session_public_key());
    EXPECT_EQ(to_hex(fp), "642bd6b70b85323b0dae257d267193bdce614724a21915a5101eab4f0cabeb4d");
    EXPECT_EQ(short_code(fp), "989563");
}

// Format version 1, which sessions with a peer still speaking protocol 1.0
// use: byte for byte what the 1.0 builds minted (these are the values
// PROTOCOL.md 7.8 pinned for protocol 1.0), so a 1.0 peer accepts them.
TEST(CertKnownAnswer, Version1IsProtocol10sFormatByteForByte) {
    const auto a = Ed25519KeyPair::from_seed(Bytes(32, 0x01));
    const auto b = Ed25519KeyPair::from_seed(Bytes(32, 0x02));
    const SecretBytes seed(Bytes(32, 0x03));
    Hash h{};
    h.fill(0x04);
    auto sa = SessionCert::mint(a, b.public_key(), Role::Initiator, seed, 1, h, 1700000000, 3600,
                                kVersion10);
    auto sb = SessionCert::mint(b, a.public_key(), Role::Responder, seed, 1, h, 1700000000, 3600,
                                kVersion10);
    ASSERT_TRUE(sa);
    ASSERT_TRUE(sb);
    EXPECT_EQ(to_hex(*sa->compact()),
              "01000000016553f1006553ff10"
              "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
              "8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394"
              "29eb0877fdd47c00ca5e99c721a21bbbae6a917609a13851ba4c05b12c0e99b9"
              "04040404040404040404040404040404"
              "c292bae2d1cab480ca5f6a1227d502e65958ad43e6fa3c964dfee5b6c87a9609"
              "41bdbef2870b97d9f22a43b466659fc4adcb4bcfcdfaa5b051154a42bc26b60b"
              "872b17b209178565e4a9743aac93e3fb0d511c01176209d3c4cc193fb7738234"
              "48e30cfc2f3b1f49d9c9bb690d41728331ef540b5b40e5ea21ff0b27ca94ef02");
    EXPECT_EQ(sa->x509_der()->size(), 556u);
    EXPECT_EQ(to_hex(sha256(*sa->x509_der())),
              "6ef770ad201ed119ce33636e1aeeac5c7f1e6888a6df5f99a26ba9d9463690d5");
    EXPECT_EQ(to_hex(sha256(*sb->compact())),
              "1da00e4877b11c666c7fcfcd7ca9cc0e8f5576e6b77b75defcd9441d188e9c99");
    // And each format is accepted only in a session of its own version.
    ReplayCache cache;
    EXPECT_TRUE(sb->verify_peer(*sa->compact(), 1700000100, cache));
    auto v2 = SessionCert::mint(b, a.public_key(), Role::Responder, seed, 1, h, 1700000000, 3600);
    EXPECT_EQ(v2->verify_peer(*sa->compact(), 1700000100, cache).error(),
              CertError::UnsupportedVersion);
    auto back = compact_from_x509(*sa->x509_der());
    ASSERT_TRUE(back);
    EXPECT_EQ(encode_compact(*back), *sa->compact());
}

}  // namespace
}  // namespace br::cert
