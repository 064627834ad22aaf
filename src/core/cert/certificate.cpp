// SPDX-License-Identifier: MIT
#include "core/cert/certificate.hpp"

#include <sodium.h>

#include <algorithm>

#include "core/cert/der.hpp"
#include "core/crypto/kdf.hpp"

namespace br::cert {
namespace {

// Encoded OID contents.
constexpr std::uint8_t kOidEd25519[] = {0x2b, 0x65, 0x70};              // 1.3.101.112
constexpr std::uint8_t kOidCommonName[] = {0x55, 0x04, 0x03};           // 2.5.4.3
constexpr std::uint8_t kOidBasicConstraints[] = {0x55, 0x1d, 0x13};     // 2.5.29.19
constexpr std::uint8_t kOidKeyUsage[] = {0x55, 0x1d, 0x0f};             // 2.5.29.15
constexpr std::uint8_t kOidExtKeyUsage[] = {0x55, 0x1d, 0x25};          // 2.5.29.37
constexpr std::uint8_t kOidSubjectKeyId[] = {0x55, 0x1d, 0x0e};         // 2.5.29.14
constexpr std::uint8_t kOidServerAuth[] = {0x2b, 6, 1, 5, 5, 7, 3, 1};  // 1.3.6.1.5.5.7.3.1
constexpr std::uint8_t kOidClientAuth[] = {0x2b, 6, 1, 5, 5, 7, 3, 2};  // 1.3.6.1.5.5.7.3.2
constexpr std::uint8_t kOidBlueratchet[] = {0x69, 0xe5, 0xed, 0xe0, 0xcc, 0xea, 0xb2,
                                            0xb2, 0x93, 0xbb, 0xb0, 0xd2, 0x81, 0x97,
                                            0xbb, 0xd5, 0x9c, 0xb6, 0x14};  // 2.25.<UUID>
constexpr std::string_view kCnPrefix = "blueratchet ";
constexpr std::string_view kDelegationLabel = "blueratchet/1 delegation";
constexpr std::string_view kSerialLabel = "blueratchet/1 serial";

Bytes algorithm_ed25519() {
    return der::sequence({der::oid(kOidEd25519)});
}

Bytes name(const Ed25519Public& id) {
    const std::string cn = common_name(id);
    const Bytes atv = der::sequence({der::oid(kOidCommonName), der::utf8_string(cn)});
    return der::sequence({der::constructed(der::kSet, {atv})});
}

Bytes extension(ByteView oid, bool critical, ByteView value) {
    if (critical)
        return der::sequence({der::oid(oid), der::boolean(true), der::octet_string(value)});
    return der::sequence({der::oid(oid), der::octet_string(value)});
}

Bytes extensions(const Certificate& c) {
    // basicConstraints: cA FALSE (the DEFAULT, so an empty SEQUENCE in DER).
    const Bytes bc = extension(kOidBasicConstraints, true, der::sequence({}));
    // keyUsage: digitalSignature only (bit 0): BIT STRING 07 80.
    const std::uint8_t ku_bits[] = {0x07, 0x80};
    const Bytes ku = extension(kOidKeyUsage, true, der::tlv(der::kBitString, ku_bits));
    const Bytes eku =
        extension(kOidExtKeyUsage, false,
                  der::sequence({der::oid(kOidServerAuth), der::oid(kOidClientAuth)}));
    // subjectKeyIdentifier: first 160 bits of SHA-256 of the key (RFC 7093 method 1).
    const Hash kh = sha256(c.session_pk);
    const Bytes ski = extension(kOidSubjectKeyId, false, der::octet_string(ByteView(kh).first(20)));
    // Version 2 carries the epoch here (its serial is a hash); version 1's
    // serial was the epoch.
    const Bytes br = extension(
        kOidBlueratchet, false,
        c.version == kVersion10
            ? der::sequence({der::integer(c.version), der::octet_string(c.peer_id),
                             der::octet_string(c.binding), der::octet_string(c.delegation_sig)})
            : der::sequence({der::integer(c.version), der::integer(c.epoch),
                             der::octet_string(c.peer_id), der::octet_string(c.binding),
                             der::octet_string(c.delegation_sig)}));
    return der::constructed(der::kContext3, {der::sequence({bc, ku, eku, ski, br})});
}

template <std::size_t N>
bool copy_exact(ByteView from, ByteArray<N>& to) {
    if (from.size() != N) return false;
    std::copy(from.begin(), from.end(), to.begin());
    return true;
}

// Walks our X.509 form and fills `c`; false on any structural surprise.
// Exactness is established afterwards by re-encoding.
bool parse_x509(ByteView input, Certificate& c, bool& bad_version) {
    der::Reader top(input);
    auto cert = top.expect(der::kSequence);
    if (!cert || !top.at_end()) return false;

    der::Reader cr(*cert);
    auto tbs = cr.expect(der::kSequence);
    auto sig_alg = cr.expect(der::kSequence);
    auto sig = cr.expect(der::kBitString);
    if (!tbs || !sig_alg || !sig || !cr.at_end()) return false;
    if (sig->size() != 65 || (*sig)[0] != 0 || !copy_exact(sig->subspan(1), c.self_sig))
        return false;

    der::Reader t(*tbs);
    auto version = t.expect(der::kContext0);
    auto serial = t.expect(der::kInteger);
    auto alg = t.expect(der::kSequence);
    auto issuer = t.expect(der::kSequence);
    auto validity = t.expect(der::kSequence);
    auto subject = t.expect(der::kSequence);
    auto spki = t.expect(der::kSequence);
    auto exts = t.expect(der::kContext3);
    if (!version || !serial || !alg || !issuer || !validity || !subject || !spki || !exts ||
        !t.at_end())
        return false;
    // The serial is derived from the other fields (serial_number()); the
    // re-encoding checks it.  The epoch is read from the private extension.

    // issuer == subject is checked by the re-encoding; read the subject CN.
    der::Reader sn(*subject);
    auto rdn = sn.expect(der::kSet);
    if (!rdn || !sn.at_end()) return false;
    der::Reader rr(*rdn);
    auto atv = rr.expect(der::kSequence);
    if (!atv || !rr.at_end()) return false;
    der::Reader ar(*atv);
    auto cn_oid = ar.expect(der::kOid);
    auto cn = ar.expect(der::kUtf8String);
    if (!cn_oid || !cn || !ar.at_end()) return false;
    if (cn->size() != kCnPrefix.size() + 43 ||
        !std::equal(kCnPrefix.begin(), kCnPrefix.end(), cn->begin()))
        return false;
    const ByteView b64 = cn->subspan(kCnPrefix.size());
    const std::string b64s(b64.begin(), b64.end());
    std::size_t bin_len = 0;
    if (sodium_base642bin(c.subject_id.data(), c.subject_id.size(), b64s.data(), b64s.size(),
                          nullptr, &bin_len, nullptr,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        bin_len != 32)
        return false;

    der::Reader vr(*validity);
    std::optional<std::uint32_t> times[2];
    for (auto& tm : times) {
        auto tag = vr.peek_tag();
        if (!tag) return false;
        auto content = vr.expect(*tag);
        if (!content) return false;
        tm = der::parse_x509_time(*tag, *content);
        if (!tm) return false;
    }
    if (!vr.at_end()) return false;
    c.not_before = *times[0];
    c.not_after = *times[1];

    der::Reader pr(*spki);
    auto palg = pr.expect(der::kSequence);
    auto key = pr.expect(der::kBitString);
    if (!palg || !key || !pr.at_end()) return false;
    if (key->size() != 33 || (*key)[0] != 0 || !copy_exact(key->subspan(1), c.session_pk))
        return false;

    der::Reader er(*exts);
    auto list = er.expect(der::kSequence);
    if (!list || !er.at_end()) return false;
    der::Reader lr(*list);
    bool found = false;
    while (!lr.at_end()) {
        auto ext = lr.expect(der::kSequence);
        if (!ext) return false;
        der::Reader xr(*ext);
        auto oid = xr.expect(der::kOid);
        if (!oid) return false;
        if (!std::equal(oid->begin(), oid->end(), std::begin(kOidBlueratchet),
                        std::end(kOidBlueratchet)))
            continue;
        if (found) return false;  // twice
        found = true;
        auto value = xr.expect(der::kOctetString);
        if (!value || !xr.at_end()) return false;
        der::Reader vr2(*value);
        auto seq = vr2.expect(der::kSequence);
        if (!seq || !vr2.at_end()) return false;
        der::Reader fr(*seq);
        // The version first: another version may lay out the rest otherwise.
        auto ver = fr.expect(der::kInteger);
        if (!ver) return false;
        auto v = der::parse_u32_integer(*ver);
        if (!v) return false;
        if (*v != kVersion && *v != kVersion10) {
            bad_version = true;
            return false;
        }
        c.version = static_cast<std::uint8_t>(*v);
        // Version 1: the epoch is the serial; version 2: it is here.
        auto epoch =
            c.version == kVersion10 ? std::optional<ByteView>(*serial) : fr.expect(der::kInteger);
        auto peer = fr.expect(der::kOctetString);
        auto binding = fr.expect(der::kOctetString);
        auto deleg = fr.expect(der::kOctetString);
        if (!epoch || !peer || !binding || !deleg || !fr.at_end()) return false;
        auto e = der::parse_u32_integer(*epoch);
        if (!e) return false;
        c.epoch = *e;
        if (!copy_exact(*peer, c.peer_id) || !copy_exact(*binding, c.binding) ||
            !copy_exact(*deleg, c.delegation_sig))
            return false;
    }
    return found;
}

}  // namespace

const char* to_string(CertError e) {
    switch (e) {
        case CertError::BadLength:
            return "BadLength";
        case CertError::DecodeError:
            return "DecodeError";
        case CertError::UnsupportedVersion:
            return "UnsupportedVersion";
        case CertError::WrongSubject:
            return "WrongSubject";
        case CertError::WrongPeer:
            return "WrongPeer";
        case CertError::WrongEpoch:
            return "WrongEpoch";
        case CertError::WrongBinding:
            return "WrongBinding";
        case CertError::BadValidity:
            return "BadValidity";
        case CertError::NotYetValid:
            return "NotYetValid";
        case CertError::Expired:
            return "Expired";
        case CertError::BadSelfSignature:
            return "BadSelfSignature";
        case CertError::BadDelegation:
            return "BadDelegation";
        case CertError::Replayed:
            return "Replayed";
        case CertError::Invalidated:
            return "Invalidated";
        case CertError::InvalidArgument:
            return "InvalidArgument";
    }
    return "unknown";
}

ByteView extension_oid() {
    return kOidBlueratchet;
}

std::string common_name(const Ed25519Public& id) {
    char b64[64];
    sodium_bin2base64(b64, sizeof b64, id.data(), id.size(),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return std::string(kCnPrefix) + b64;
}

Bytes encode_compact(const Certificate& c) {
    Bytes out;
    out.reserve(kCompactLen);
    append_u8(out, c.version);
    append_u32be(out, c.epoch);
    append_u32be(out, c.not_before);
    append_u32be(out, c.not_after);
    append(out, c.subject_id);
    append(out, c.peer_id);
    append(out, c.session_pk);
    append(out, c.binding);
    append(out, c.delegation_sig);
    append(out, c.self_sig);
    return out;
}

Expected<Certificate, CertError> decode_compact(ByteView data) {
    if (data.size() != kCompactLen) return unexpected(CertError::BadLength);
    Reader r(data);
    Certificate c;
    c.version = r.u8();
    if (c.version != kVersion && c.version != kVersion10)
        return unexpected(CertError::UnsupportedVersion);
    c.epoch = r.u32be();
    c.not_before = r.u32be();
    c.not_after = r.u32be();
    c.subject_id = r.take_array<32>();
    c.peer_id = r.take_array<32>();
    c.session_pk = r.take_array<32>();
    c.binding = r.take_array<kBindingLen>();
    c.delegation_sig = r.take_array<64>();
    c.self_sig = r.take_array<64>();
    if (!r.at_end()) return unexpected(CertError::BadLength);  // unreachable: length checked
    return c;
}

Bytes delegation_message(const Certificate& c) {
    Bytes m;
    m.reserve(kDelegationLabel.size() + 1 + 32 + 12 + kBindingLen);
    append(m, as_bytes(kDelegationLabel));
    append_u8(m, 0);
    append(m, c.session_pk);
    append_u32be(m, c.epoch);
    append_u32be(m, c.not_before);
    append_u32be(m, c.not_after);
    append(m, c.binding);
    return m;
}

ByteArray<kSerialLen> serial_number(const Certificate& c) {
    const Bytes compact = encode_compact(c);
    const ByteView unsigned_part = ByteView(compact).first(kCompactLen - c.self_sig.size());
    const Hash d = sha256({as_bytes(kSerialLabel), unsigned_part});
    ByteArray<kSerialLen> serial{};
    std::copy(d.begin(), d.begin() + kSerialLen, serial.begin());
    // Positive (top bit clear) and minimal (first octet never 0): always 16
    // content octets.
    serial[0] = static_cast<std::uint8_t>((serial[0] & 0x7f) | 0x40);
    return serial;
}

Bytes tbs_der(const Certificate& c) {
    const Bytes alg = algorithm_ed25519();
    const Bytes n = name(c.subject_id);
    return der::sequence({
        der::constructed(der::kContext0, {der::integer(2)}),  // v3
        c.version == kVersion10 ? der::integer(c.epoch)       // serialNumber (1.0)
                                : der::tlv(der::kInteger, serial_number(c)),
        alg,  // signature
        n,    // issuer
        der::sequence({der::x509_time(c.not_before), der::x509_time(c.not_after)}),
        n,                                                    // subject
        der::sequence({alg, der::bit_string(c.session_pk)}),  // subjectPublicKeyInfo
        extensions(c),
    });
}

Bytes x509_from_compact(const Certificate& c) {
    return der::sequence({tbs_der(c), algorithm_ed25519(), der::bit_string(c.self_sig)});
}

Expected<Certificate, CertError> compact_from_x509(ByteView input) {
    // Our certificates are ~560 bytes; refuse anything implausibly large
    // before walking it.
    if (input.size() > 2048) return unexpected(CertError::DecodeError);
    Certificate c;
    bool bad_version = false;
    if (!parse_x509(input, c, bad_version))
        return unexpected(bad_version ? CertError::UnsupportedVersion : CertError::DecodeError);
    // Exactly our encoding, byte for byte: this checks everything the walk
    // skipped (algorithm identifiers, issuer == subject, the fixed
    // extensions, the SKID) and makes the mapping one-to-one.
    const Bytes again = x509_from_compact(c);
    if (again.size() != input.size() || !std::equal(again.begin(), again.end(), input.begin()))
        return unexpected(CertError::DecodeError);
    return c;
}

}  // namespace br::cert
