// SPDX-License-Identifier: MIT
// bench_air: bytes on the air and round trips of a pairing and a resume, at
// ATT MTU 23 and 247, beside TLS 1.3 and two BLE protocols of the same kind.
// Prints one JSON document (scripts/bench turns it into the table of
// docs/PERFORMANCE.md).
//
// Measured here, in this run:
//   blueratchet: the real engines (src/core/handshake) run a pairing, then a
//     resume; every message they emit is cut by the real framing
//     (src/core/frame) and each fragment is one ATT write command or
//     notification (the daemon's transport: write-without-response and
//     notify, no ATT acknowledgements): fragment + 3 bytes of ATT header.
//   TLS 1.3: the handshakes of tls_handshake.hpp; each flight (the bytes
//     one side wrote to its memory BIO before the other spoke) is carried
//     as a byte stream in ATT packets of MTU-3 bytes (no framing header:
//     the most favourable transport TLS could have here).
// Computed from the specifications, not measured (the field lists are below,
// each with its source and assumptions):
//   HomeKit pair-verify over HAP-BLE, Matter CASE (Sigma1/2/3) and CASE
//   resumption over BTP.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/crypto/secret.hpp"
#include "core/frame/frame.hpp"
#include "engine_run.hpp"
#include "tls_handshake.hpp"

namespace br::bench {
namespace {

constexpr std::uint32_t kNow = 1'800'000'000;
constexpr std::size_t kMtus[] = {23, 247};

struct Message {
    bool from_initiator;
    std::string name;
    std::size_t bytes;
};

// What carrying the messages costs at one ATT MTU.
struct Air {
    std::size_t pdus = 0;   // ATT PDUs (both directions, acknowledgements included)
    std::size_t bytes = 0;  // their bytes: ATT header + value
    std::size_t acked = 0;  // PDUs that wait for an ATT acknowledgement before the next
};

struct Exchange {
    std::string name;
    std::string kind;  // "pair" or "resume"
    bool computed;     // from a specification, not measured
    std::vector<Message> messages;
    std::size_t initiator_ready = 0;  // flights delivered before its session was ready
    std::size_t responder_ready = 0;
    std::vector<Air> air;  // one per kMtus
    std::string note;
};

std::size_t flights(const std::vector<Message>& ms) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < ms.size(); ++i)
        if (i == 0 || ms[i].from_initiator != ms[i - 1].from_initiator) ++n;
    return n;
}

// ------------------------------------------------------------ blueratchet, measured

// Our transport: each frame fragment is one ATT write command or notification.
Air frame_air(const std::vector<Bytes>& wire, std::size_t mtu) {
    Air a;
    for (const Bytes& m : wire) {
        auto frags = frame::fragment(m, mtu);
        if (!frags) {
            std::fprintf(stderr, "bench_air: fragment: %s\n", frame::to_string(frags.error()));
            std::exit(1);
        }
        for (const Bytes& f : *frags) {
            a.pdus += 1;
            a.bytes += frame::kAttOverhead + f.size();
        }
    }
    return a;
}

const char* message_name(const Bytes& m) {
    switch (m.size() > 1 ? m[1] : 0) {
        case 0x01:
            return "PAIR_1";
        case 0x02:
            return "PAIR_2";
        case 0x03:
            return "PAIR_3";
        case 0x04:
            return "REVEAL";
        case 0x05:
            return "ACCEPT";
        case 0x11:
            return "RESUME_1 (1.0)";
        case 0x12:
            return "RESUME_2 (1.0)";
        case 0x13:
            return "RESUME_1";
        case 0x14:
            return "RESUME_2";
        case 0x20:
            return "CERT";
        case 0x21:
            return "CONFIRM";
        case 0x30:
            return "BOND";
        case 0x7f:
            return "ABORT";
    }
    return "?";
}

Exchange run_ours(Device& a, Device& b, bool resume) {
    Exchange x{resume ? "blueratchet resume (IKpsk2 + certificates)"
                      : "blueratchet pairing (XX + certificates)",
               resume ? "resume" : "pair",
               false,
               {},
               0,
               0,
               {},
               ""};
    const Run run = run_handshake(a, b, resume, kNow);
    if (!run.ok) {
        std::fprintf(stderr, "bench_air: the %s failed\n", x.kind.c_str());
        std::exit(1);
    }
    std::vector<Bytes> wire;
    for (const Sent& m : run.sent) {
        wire.push_back(m.bytes);
        x.messages.push_back({m.from_initiator, message_name(m.bytes), m.bytes.size()});
    }
    x.initiator_ready = run.initiator_ready;
    x.responder_ready = run.responder_ready;
    for (std::size_t mtu : kMtus) x.air.push_back(frame_air(wire, mtu));
    x.note =
        "measured: real engines and framing; ATT write commands and notifications, "
        "3-byte ATT header per fragment";
    return x;
}

// ------------------------------------------------------------ TLS 1.3, measured

Exchange run_tls(bool resume) {
    tls::Endpoints ends(resume ? 1 : 0);
    tls::SessionPtr session;
    tls::Result r = ends.handshake(nullptr, resume ? &session : nullptr);
    if (resume && r.ok) r = ends.handshake(session.get());
    if (!r.ok || r.resumed != resume) {
        std::fprintf(stderr, "bench_air: the TLS %s failed\n", resume ? "resumption" : "handshake");
        std::exit(1);
    }
    Exchange x{resume ? "TLS 1.3 PSK resumption (psk_dhe_ke, new ticket)"
                      : "TLS 1.3 mutual auth (Ed25519 certs)",
               resume ? "resume" : "pair",
               false,
               {},
               r.client_ready_after,
               r.server_ready_after,
               {},
               ""};
    for (const auto& f : r.flights)
        x.messages.push_back(
            {f.from_client, f.from_client ? "client flight" : "server flight", f.bytes});
    for (std::size_t mtu : kMtus) {
        Air a;
        for (const auto& f : r.flights) {
            const std::size_t n = (f.bytes + mtu - 4) / (mtu - 3);
            a.pdus += n;
            a.bytes += f.bytes + n * 3;
        }
        x.air.push_back(a);
    }
    char note[200];
    std::snprintf(note, sizeof note,
                  "measured: OpenSSL %s, X25519, CHACHA20_POLY1305_SHA256, certificates %zu/%zu B "
                  "DER; each flight streamed in ATT packets of MTU-3",
                  OPENSSL_VERSION_STR, ends.client_cert_der(), ends.server_cert_der());
    x.note = note;
    return x;
}

// ------------------------------------------------------------ HomeKit, computed
//
// Source: HomeKit Accessory Protocol Specification (Non-Commercial Version),
// Release R2 (2019): 5.7 Pair Verify (M1..M4), 5.15 TLV8 (type 1 || length 1
// || value, values over 255 bytes split), 7.3.3 HAP-BLE PDUs, 7.3.5 procedures.
//   M1 (controller): State, PublicKey (X25519, 32)
//   M2 (accessory):  State, PublicKey (32), EncryptedData = ChaCha20-Poly1305
//                    of TLV8{Identifier, Signature (Ed25519, 64)} + tag 16
//   M3 (controller): State, EncryptedData of TLV8{Identifier, Signature} + 16
//   M4 (accessory):  State
// Identifiers: the accessory's pairing id is its Device ID
// "XX:XX:XX:XX:XX:XX" (17 bytes); the controller's is a UUID string (36).
// HAP-BLE: every request is a GATT Write Request of a HAP-BLE request PDU
// (control 1, opcode 1, TID 1, characteristic IID 2, body length 2, body =
// HAP-Param-Value TLV (2 + TLV8) + HAP-Param-Return-Response TLV (3)), and
// its response is fetched with GATT Read Requests (response PDU: control 1,
// TID 1, status 1, body length 2, body = HAP-Param-Value TLV (2 + TLV8)).
// A PDU longer than one ATT value continues in fragments with a 2-byte
// header (control, TID).  Writes are answered by a 1-byte Write Response,
// reads cost a 3-byte Read Request and a Read Response (1 + value, at most
// MTU-1).  Not counted: the HAP-BLE session security that follows.

std::size_t tlv8(std::size_t value) {  // one TLV8 item, split at 255 bytes
    const std::size_t items = value == 0 ? 1 : (value + 254) / 255;
    return value + 2 * items;
}

struct Pdu {
    bool from_initiator;
    std::string name;
    std::size_t payload;  // the protocol message itself (TLV8 / Matter TLV)
    std::size_t pdu;      // with the transport's own headers
};

Air hap_air(const std::vector<Pdu>& pdus, std::size_t mtu) {
    Air a;
    for (const Pdu& p : pdus) {
        if (p.from_initiator) {  // GATT writes, each answered
            const std::size_t cap = mtu - 3;
            const std::size_t n = p.pdu <= cap ? 1 : 1 + (p.pdu - cap + cap - 3) / (cap - 2);
            a.pdus += 2 * n;
            a.acked += n;
            a.bytes += p.pdu + 2 * (n - 1) + n * (3 + 1);
        } else {  // GATT reads
            const std::size_t cap = mtu - 1;
            const std::size_t n = p.pdu <= cap ? 1 : 1 + (p.pdu - cap + cap - 3) / (cap - 2);
            a.pdus += 2 * n;
            a.acked += n;
            a.bytes += p.pdu + 2 * (n - 1) + n * (3 + 1);
        }
    }
    return a;
}

Exchange homekit() {
    const std::size_t state = tlv8(1), pub = tlv8(32), sig = tlv8(64), tag = 16;
    const std::size_t m1 = state + pub;
    const std::size_t m2 = state + pub + tlv8(tlv8(17) + sig + tag);
    const std::size_t m3 = state + tlv8(tlv8(36) + sig + tag);
    const std::size_t m4 = state;
    auto request = [](std::size_t body) { return 7 + tlv8(body) + 3; };
    auto response = [](std::size_t body) { return 5 + tlv8(body); };
    const std::vector<Pdu> pdus = {{true, "M1", m1, request(m1)},
                                   {false, "M2", m2, response(m2)},
                                   {true, "M3", m3, request(m3)},
                                   {false, "M4", m4, response(m4)}};
    Exchange x{"HomeKit pair-verify over HAP-BLE", "resume", true, {}, 4, 3, {}, ""};
    for (const Pdu& p : pdus) x.messages.push_back({p.from_initiator, p.name, p.pdu});
    for (std::size_t mtu : kMtus) x.air.push_back(hap_air(pdus, mtu));
    x.note =
        "computed (HAP R2 5.7, 7.3): TLV8 M1-M4 in HAP-BLE PDUs; GATT Write Request + Read "
        "Request per transaction, each acknowledged";
    return x;
}

// ------------------------------------------------------------ Matter, computed
//
// Source: Matter Core Specification 1.0 (CSA, 2022): 4.13.2 CASE (Sigma1,
// Sigma2, Sigma3, Sigma2_Resume, SigmaFinished = StatusReport), A.7 Matter
// TLV (control 1, context tag 1, octet string length 1 or 2, integers at
// their minimal width), 6.5 Matter certificates, 4.4 message format,
// 4.17 BTP (BLE transport).
//   Sigma1: {initiatorRandom 32, initiatorSessionId u16, destinationId 32,
//            initiatorEphPubKey 65 (P-256)}; optional session parameters
//            left out; the resumption form adds resumptionID 16, MIC 16.
//   Sigma2: {responderRandom 32, responderSessionId u16, responderEphPubKey
//            65, encrypted2 = AES-CCM of {responderNOC, signature 64,
//            resumptionID 16} + MIC 16}; no ICAC (a fabric with an ICAC
//            sends ~ 270 bytes more in Sigma2 and Sigma3).
//   Sigma3: {encrypted3 = {initiatorNOC, signature 64} + MIC 16}.
//   Sigma2_Resume: {resumptionID 16, sigma2ResumeMIC 16, responderSessionId}.
//   StatusReport: general code u16, protocol id u32, protocol code u16.
// NOC in Matter TLV: serial 8 bytes, issuer {rcac-id}, subject {node-id,
// fabric-id}, basic constraints, key usage, extended key usage (2), subject
// and authority key ids (20 each), P-256 key 65, signature 64.
// Every message: unsecured message header 16 (flags, session id, security
// flags, counter 4, source or destination node id 8) + protocol header 6
// (exchange flags, opcode, exchange id, protocol id; no MRP over BTP).
// BTP: segments of ATT_MTU-3 bytes, first segment header 5 (flags, ack,
// sequence, message length 2), continuations 2 (flags, sequence); central
// to peripheral as GATT Write Requests, back as Indications, each
// acknowledged (Write Response, Confirmation: 1 byte).  Not counted: the
// BTP handshake when the link opens, standalone BTP acknowledgements.

std::size_t ctx_octets(std::size_t n) {
    return 2 + (n > 255 ? 2 : 1) + n;
}
std::size_t ctx_uint(std::size_t width) {
    return 2 + width;
}

std::size_t matter_noc() {
    const std::size_t issuer = 2 + ctx_uint(8) + 1;
    const std::size_t subject = 2 + ctx_uint(8) + ctx_uint(8) + 1;
    const std::size_t basic = 2 + 2 + 1;  // {is-ca: false}
    const std::size_t eku = 2 + 2 * 2 + 1;
    const std::size_t extensions = 2 + basic + ctx_uint(1) + eku + 2 * ctx_octets(20) + 1;
    return 1 + ctx_octets(8) + ctx_uint(1) + issuer + ctx_uint(4) + ctx_uint(4) + subject +
           ctx_uint(1) + ctx_uint(1) + ctx_octets(65) + extensions + ctx_octets(64) + 1;
}

Air btp_air(const std::vector<Pdu>& pdus, std::size_t mtu) {
    Air a;
    const std::size_t seg = mtu - 3;
    for (const Pdu& p : pdus) {
        const std::size_t n = p.pdu <= seg - 5 ? 1 : 1 + (p.pdu - (seg - 5) + seg - 3) / (seg - 2);
        const std::size_t headers = 5 + 2 * (n - 1);
        a.pdus += 2 * n;
        a.acked += n;
        a.bytes += p.pdu + headers + n * (3 + 1);
    }
    return a;
}

Exchange matter(bool resume) {
    const std::size_t header = 16 + 6, noc = matter_noc(), mic = 16;
    const std::size_t sig = ctx_octets(64), rid = ctx_octets(16);
    std::size_t sigma1 = 1 + ctx_octets(32) + ctx_uint(2) + ctx_octets(32) + ctx_octets(65) + 1;
    std::vector<Pdu> pdus;
    Exchange x{resume ? "Matter CASE resumption over BTP" : "Matter CASE (Sigma1/2/3) over BTP",
               resume ? "resume" : "pair",
               true,
               {},
               0,
               0,
               {},
               ""};
    const std::size_t status = 8;
    if (resume) {
        sigma1 += rid + ctx_octets(16);
        const std::size_t sigma2r = 1 + rid + ctx_octets(16) + ctx_uint(2) + 1;
        pdus = {{true, "Sigma1 (resume)", sigma1, sigma1 + header},
                {false, "Sigma2_Resume", sigma2r, sigma2r + header},
                {true, "StatusReport", status, status + header}};
        x.initiator_ready = 2;
        x.responder_ready = 3;
    } else {
        const std::size_t tbe2 = 1 + ctx_octets(noc) + sig + rid + 1;
        const std::size_t sigma2 =
            1 + ctx_octets(32) + ctx_uint(2) + ctx_octets(65) + ctx_octets(tbe2 + mic) + 1;
        const std::size_t tbe3 = 1 + ctx_octets(noc) + sig + 1;
        const std::size_t sigma3 = 1 + ctx_octets(tbe3 + mic) + 1;
        pdus = {{true, "Sigma1", sigma1, sigma1 + header},
                {false, "Sigma2", sigma2, sigma2 + header},
                {true, "Sigma3", sigma3, sigma3 + header},
                {false, "StatusReport", status, status + header}};
        x.initiator_ready = 4;
        x.responder_ready = 3;
    }
    for (const Pdu& p : pdus) x.messages.push_back({p.from_initiator, p.name, p.pdu});
    for (std::size_t mtu : kMtus) x.air.push_back(btp_air(pdus, mtu));
    char note[200];
    std::snprintf(note, sizeof note,
                  "computed (Matter 1.0 4.13, A.7, 6.5, 4.17): Matter TLV, NOC %zu B, no ICAC; "
                  "BTP segments as Write Requests / Indications, each acknowledged",
                  noc);
    x.note = note;
    return x;
}

// ------------------------------------------------------------ output

std::string quoted(const std::string& s) {
    std::string o = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') o += '\\';
        o += c;
    }
    return o + "\"";
}

void print(const std::vector<Exchange>& xs) {
    std::printf("{\"mtus\": [%zu, %zu], \"exchanges\": [\n", kMtus[0], kMtus[1]);
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const Exchange& x = xs[i];
        std::printf("  {\"name\": %s, \"kind\": %s, \"computed\": %s, \"note\": %s,\n",
                    quoted(x.name).c_str(), quoted(x.kind).c_str(), x.computed ? "true" : "false",
                    quoted(x.note).c_str());
        std::printf("   \"flights\": %zu, \"initiator_ready\": %zu, \"responder_ready\": %zu,\n",
                    flights(x.messages), x.initiator_ready, x.responder_ready);
        std::printf("   \"messages\": [");
        for (std::size_t j = 0; j < x.messages.size(); ++j)
            std::printf("%s{\"from_initiator\": %s, \"name\": %s, \"bytes\": %zu}", j ? ", " : "",
                        x.messages[j].from_initiator ? "true" : "false",
                        quoted(x.messages[j].name).c_str(), x.messages[j].bytes);
        std::printf("],\n   \"air\": [");
        for (std::size_t j = 0; j < x.air.size(); ++j)
            std::printf("%s{\"mtu\": %zu, \"pdus\": %zu, \"bytes\": %zu, \"acked\": %zu}",
                        j ? ", " : "", kMtus[j], x.air[j].pdus, x.air[j].bytes, x.air[j].acked);
        std::printf("]}%s\n", i + 1 < xs.size() ? "," : "");
    }
    std::printf("]}\n");
}

}  // namespace
}  // namespace br::bench

int main() {
    using namespace br::bench;
    br::crypto_init();
    Device a(0xA1), b(0xB2);
    std::vector<Exchange> xs;
    xs.push_back(run_ours(a, b, false));
    xs.push_back(run_ours(a, b, true));
    xs.push_back(run_tls(false));
    xs.push_back(run_tls(true));
    xs.push_back(homekit());
    xs.push_back(matter(false));
    xs.push_back(matter(true));
    print(xs);
    return 0;
}
