// SPDX-License-Identifier: MIT
#include "core/store/records.hpp"

#include <cstring>

#include "core/crypto/kdf.hpp"

namespace br::store {

SensitiveBytes& SensitiveBytes::operator=(SensitiveBytes&& o) noexcept {
    if (this != &o) {
        wipe();
        bytes_ = std::move(o.bytes_);
        o.bytes_.clear();
    }
    return *this;
}

void SensitiveBytes::wipe() {
    if (!bytes_.empty()) wipe_memory(bytes_.data(), bytes_.size());
    bytes_.clear();
}

namespace {

constexpr char kPeerMagic[4] = {'B', 'R', 'P', '1'};
constexpr char kIdentityMagic[4] = {'B', 'R', 'I', '1'};
constexpr std::size_t kEnvelopeHead = 4 + 2 + 2;  // magic, version, body length
constexpr std::size_t kFieldHead = 2;

// Fixed peer fields' sizes, in record order (version 1 and version 2).
constexpr std::size_t kPeerV1FixedBody =
    (kFieldHead + kPeerIdLen) + (kFieldHead + 1) + (kFieldHead + 4) + (kFieldHead + kSeedLen) +
    (kFieldHead + 1) + (kFieldHead + 4) + (kFieldHead + kSeedLen) + (kFieldHead + 8) +
    (kFieldHead + 8) + kFieldHead + kFieldHead;
constexpr std::size_t kSeedEntryLen = 4 + kSeedLen;  // epoch u32 || seed
constexpr std::size_t kPeerV2FixedBody = (kFieldHead + kPeerIdLen) + (kFieldHead + 1) +
                                         (kFieldHead + 1) + kFieldHead + (kFieldHead + 8) +
                                         (kFieldHead + 8) + kFieldHead + kFieldHead;
constexpr std::size_t kPeerV2MaxBody =
    kPeerV2FixedBody + kMaxSeeds * kSeedEntryLen + kMaxAliasLen + kAddressLen;
constexpr std::size_t kIdentityBody =
    (kFieldHead + kEd25519SeedLen) + (kFieldHead + kEd25519PublicLen) + (kFieldHead + 8);

StoreError err(StoreErrc code, std::string detail = {}) {
    return StoreError{code, 0, {}, std::move(detail)};
}

ByteView magic_view(const char (&m)[4]) {
    return {reinterpret_cast<const std::uint8_t*>(m), 4};
}

// Builds an envelope around a body of known length; one allocation.
class RecordBuilder {
  public:
    RecordBuilder(const char (&magic)[4], std::uint16_t version, std::size_t body_len) {
        buf_.reserve(kEnvelopeHead + body_len + kHashLen);
        append(buf_, magic_view(magic));
        append_u16be(buf_, version);
        append_u16be(buf_, static_cast<std::uint16_t>(body_len));
    }
    void field(ByteView v) {
        append_u16be(buf_, static_cast<std::uint16_t>(v.size()));
        append(buf_, v);
    }
    void field_u8(std::uint8_t v) { field(ByteView(&v, 1)); }
    void field_u32(std::uint32_t v) {
        append_u16be(buf_, 4);
        append_u32be(buf_, v);
    }
    void field_u64(std::uint64_t v) {
        append_u16be(buf_, 8);
        append_u64be(buf_, v);
    }
    SensitiveBytes finish() {
        const Hash sum = sha256(buf_);
        append(buf_, sum);
        return SensitiveBytes(std::move(buf_));
    }

  private:
    Bytes buf_;
};

// A record's body and the version its envelope names.
struct Envelope {
    std::uint16_t version;
    ByteView body;
};

// Checks the envelope (version one of `versions`, body at most the bound
// given for that version) and returns the body.
Expected<Envelope, StoreError> open_envelope(
    ByteView data, const char (&magic)[4],
    std::initializer_list<std::pair<std::uint16_t, std::size_t>> versions) {
    if (data.size() > kMaxRecordFile) return unexpected(err(StoreErrc::FileTooLarge));
    Reader r(data);
    ByteView m = r.take(4);
    if (!r.ok()) return unexpected(err(StoreErrc::Truncated, "magic"));
    if (std::memcmp(m.data(), magic, 4) != 0) return unexpected(err(StoreErrc::BadMagic));
    const std::uint16_t version = r.u16be();
    if (!r.ok()) return unexpected(err(StoreErrc::Truncated, "version"));
    std::size_t max_body = 0;
    bool known = false;
    for (const auto& [v, bound] : versions) {
        if (v == version) {
            known = true;
            max_body = bound;
        }
    }
    if (!known) {
        return unexpected(err(StoreErrc::UnsupportedVersion, "version " + std::to_string(version)));
    }
    const std::uint16_t body_len = r.u16be();
    if (!r.ok()) return unexpected(err(StoreErrc::Truncated, "length"));
    if (body_len > max_body) {
        return unexpected(err(StoreErrc::FieldTooLong, "body length " + std::to_string(body_len)));
    }
    const std::size_t want = kEnvelopeHead + body_len + kHashLen;
    if (data.size() < want) {
        return unexpected(err(StoreErrc::Truncated, std::to_string(data.size()) + " of " +
                                                        std::to_string(want) + " bytes"));
    }
    if (data.size() > want) {
        return unexpected(err(StoreErrc::BadValue,
                              std::to_string(data.size() - want) + " bytes after the checksum"));
    }
    const Hash sum = sha256(data.subspan(0, want - kHashLen));
    if (!ct_equal(sum, data.subspan(want - kHashLen))) {
        return unexpected(err(StoreErrc::ChecksumMismatch));
    }
    return Envelope{version, data.subspan(kEnvelopeHead, body_len)};
}

// Reads the fields of a body in order.
class FieldReader {
  public:
    explicit FieldReader(ByteView body) : r_(body) {}

    // A field of exactly n bytes.
    Expected<ByteView, StoreError> fixed(const char* name, std::size_t n) {
        const std::uint16_t len = r_.u16be();
        ByteView v = r_.take(len);
        if (!r_.ok()) return unexpected(err(StoreErrc::Truncated, name));
        if (len != n) {
            return unexpected(err(len > n ? StoreErrc::FieldTooLong : StoreErrc::BadValue,
                                  std::string(name) + " length " + std::to_string(len)));
        }
        return v;
    }
    // A field of at most max bytes.
    Expected<ByteView, StoreError> bounded(const char* name, std::size_t max) {
        const std::uint16_t len = r_.u16be();
        if (r_.ok() && len > max) {
            return unexpected(
                err(StoreErrc::FieldTooLong, std::string(name) + " length " + std::to_string(len)));
        }
        ByteView v = r_.take(len);
        if (!r_.ok()) return unexpected(err(StoreErrc::Truncated, name));
        return v;
    }
    Expected<std::uint64_t, StoreError> uint(const char* name, std::size_t n) {
        auto v = fixed(name, n);
        if (!v) return unexpected(v.error());
        std::uint64_t out = 0;
        for (std::uint8_t b : *v) out = (out << 8) | b;
        return out;
    }
    bool at_end() const { return r_.at_end(); }

  private:
    Reader r_;
};

// Declares `var` from an Expected, returning its error.  (`var` names a
// declaration, so it cannot be parenthesised.)
// NOLINTBEGIN(bugprone-macro-parentheses)
#define BR_TRY(var, expr)                                        \
    auto var##_r = (expr);                                       \
    if (!var##_r) return unexpected(std::move(var##_r).error()); \
    auto var = *var##_r
// NOLINTEND(bugprone-macro-parentheses)

bool all_zero(ByteView v) {
    std::uint8_t acc = 0;
    for (std::uint8_t b : v) acc |= b;
    return acc == 0;
}

// The fields of a peer record, as views into the decoded buffer.
struct PeerFields {
    PeerInfo info;
    std::vector<ByteView> seeds;  // one per info.epochs entry
};

// Version 1 (protocol 1.0): a committed seed and an optional pending one.
Expected<void, StoreError> parse_v1_seeds(FieldReader& f, PeerFields& out) {
    BR_TRY(committed, f.uint("committed epoch", 4));
    BR_TRY(cseed, f.fixed("committed seed", kSeedLen));
    BR_TRY(has_pending, f.uint("has pending", 1));
    BR_TRY(pending, f.uint("pending epoch", 4));
    BR_TRY(pseed, f.fixed("pending seed", kSeedLen));
    out.info.epochs.push_back(static_cast<std::uint32_t>(committed));
    out.seeds.push_back(cseed);
    if (has_pending > 1) return unexpected(err(StoreErrc::BadValue, "has pending"));
    if (has_pending == 1) {
        if (committed == 0xffffffffu || pending != committed + 1) {
            return unexpected(err(StoreErrc::BadValue, "pending epoch " + std::to_string(pending) +
                                                           " after committed " +
                                                           std::to_string(committed)));
        }
        out.info.epochs.push_back(static_cast<std::uint32_t>(pending));
        out.seeds.push_back(pseed);
    } else if (pending != 0 || !all_zero(pseed)) {
        return unexpected(err(StoreErrc::BadValue, "pending fields set without a pending seed"));
    }
    return {};
}

// Version 2: the protocol, then 1..kMaxSeeds (epoch u32 || seed) entries.
Expected<void, StoreError> parse_v2_seeds(FieldReader& f, PeerFields& out) {
    BR_TRY(protocol, f.uint("protocol", 1));
    if (protocol > 1) {
        return unexpected(err(StoreErrc::BadValue, "protocol " + std::to_string(protocol)));
    }
    out.info.protocol = static_cast<PeerProtocol>(protocol);
    BR_TRY(seeds, f.bounded("seeds", kMaxSeeds * kSeedEntryLen));
    if (seeds.empty() || seeds.size() % kSeedEntryLen != 0) {
        return unexpected(
            err(StoreErrc::BadValue, "seeds field of " + std::to_string(seeds.size()) + " bytes"));
    }
    Reader r(seeds);
    while (!r.at_end()) {
        out.info.epochs.push_back(r.u32be());
        out.seeds.push_back(r.take(kSeedLen));
    }
    return {};
}

Expected<PeerFields, StoreError> parse_peer(ByteView data) {
    auto env =
        open_envelope(data, kPeerMagic,
                      {{1, kPeerV1FixedBody + kMaxAliasLen + kAddressLen}, {2, kPeerV2MaxBody}});
    if (!env) return unexpected(env.error());
    FieldReader f(env->body);
    PeerFields out;
    BR_TRY(id, f.fixed("peer id", kPeerIdLen));
    std::copy(id.begin(), id.end(), out.info.id.begin());
    BR_TRY(role, f.uint("role", 1));
    if (role > 1) return unexpected(err(StoreErrc::BadValue, "role " + std::to_string(role)));
    out.info.role = role == 0 ? Role::Initiator : Role::Responder;
    auto seeds = env->version == 1 ? parse_v1_seeds(f, out) : parse_v2_seeds(f, out);
    if (!seeds) return unexpected(seeds.error());
    if (!is_valid_seed_shape(out.info.epochs)) {
        return unexpected(err(StoreErrc::BadValue, "seed epochs out of shape"));
    }
    BR_TRY(created, f.uint("created", 8));
    BR_TRY(last_seen, f.uint("last seen", 8));
    if (created > INT64_MAX || last_seen > INT64_MAX) {
        return unexpected(err(StoreErrc::BadValue, "timestamp"));
    }
    out.info.created_unix = static_cast<std::int64_t>(created);
    out.info.last_seen_unix = static_cast<std::int64_t>(last_seen);
    BR_TRY(alias, f.bounded("alias", kMaxAliasLen));
    out.info.alias.assign(alias.begin(), alias.end());
    if (!is_valid_alias(out.info.alias)) return unexpected(err(StoreErrc::BadValue, "alias"));
    BR_TRY(address, f.bounded("address", kAddressLen));
    out.info.address.assign(address.begin(), address.end());
    if (!is_valid_address(out.info.address)) return unexpected(err(StoreErrc::BadValue, "address"));
    if (!f.at_end()) return unexpected(err(StoreErrc::BadValue, "unknown trailing field"));
    return out;
}

}  // namespace

bool is_valid_seed_shape(const std::vector<std::uint32_t>& epochs) {
    if (epochs.empty() || epochs.size() > kMaxSeeds) return false;
    std::size_t same = 1;
    for (std::size_t i = 0; i < epochs.size(); ++i) {
        if (epochs[i] == 0) return false;
        if (i == 0) continue;
        if (epochs[i] < epochs[i - 1]) return false;
        same = epochs[i] == epochs[i - 1] ? same + 1 : 1;
        if (same > 2) return false;
    }
    return epochs.back() - epochs.front() <= 1;
}

bool is_valid_alias(std::string_view alias) {
    if (alias.size() > kMaxAliasLen) return false;
    // Well-formed UTF-8 (no overlong forms, surrogates or code points above
    // U+10FFFF), and no control characters: aliases end up in logs and UIs.
    std::size_t i = 0;
    while (i < alias.size()) {
        const auto c = static_cast<std::uint8_t>(alias[i]);
        std::uint32_t cp;
        std::size_t n;
        if (c < 0x80) {
            cp = c;
            n = 1;
        } else if (c >= 0xc2 && c <= 0xdf) {
            cp = c & 0x1f;
            n = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            cp = c & 0x0f;
            n = 3;
        } else if (c >= 0xf0 && c <= 0xf4) {
            cp = c & 0x07;
            n = 4;
        } else {
            return false;
        }
        if (alias.size() - i < n) return false;
        for (std::size_t k = 1; k < n; ++k) {
            const auto cc = static_cast<std::uint8_t>(alias[i + k]);
            if ((cc & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) return false;
        if (cp >= 0xd800 && cp <= 0xdfff) return false;
        if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return false;
        i += n;
    }
    return true;
}

bool is_valid_address(std::string_view a) {
    if (a.empty()) return true;
    if (a.size() != kAddressLen) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const char c = a[i];
        if (i % 3 == 2) {
            if (c != ':') return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

Expected<void, StoreError> validate_peer_record(const PeerRecord& rec) {
    const PeerInfo& i = rec.info;
    if (i.alias.size() > kMaxAliasLen) {
        return unexpected(err(StoreErrc::FieldTooLong,
                              "alias of " + std::to_string(i.alias.size()) + " bytes (at most " +
                                  std::to_string(kMaxAliasLen) + ")"));
    }
    if (!is_valid_alias(i.alias)) {
        return unexpected(err(StoreErrc::BadValue, "alias is not printable UTF-8"));
    }
    if (i.address.size() > kAddressLen) return unexpected(err(StoreErrc::FieldTooLong, "address"));
    if (!is_valid_address(i.address)) return unexpected(err(StoreErrc::BadValue, "address"));
    if (i.created_unix < 0 || i.last_seen_unix < 0) {
        return unexpected(err(StoreErrc::BadValue, "negative timestamp"));
    }
    if (rec.seeds.size() != i.epochs.size()) {
        return unexpected(err(StoreErrc::BadValue, "epochs and seeds differ in number"));
    }
    for (std::size_t k = 0; k < rec.seeds.size(); ++k) {
        if (rec.seeds[k].epoch != i.epochs[k]) {
            return unexpected(err(StoreErrc::BadValue, "a seed's epoch differs from the index"));
        }
        if (rec.seeds[k].seed.size() != kSeedLen) {
            return unexpected(err(StoreErrc::BadValue, "seed size"));
        }
    }
    if (!is_valid_seed_shape(i.epochs)) {
        return unexpected(err(StoreErrc::BadValue, "seed epochs out of shape"));
    }
    return {};
}

Expected<SensitiveBytes, StoreError> encode_peer_record(const PeerRecord& rec) {
    if (auto ok = validate_peer_record(rec); !ok) return unexpected(ok.error());
    const PeerInfo& i = rec.info;
    const std::size_t seeds_len = rec.seeds.size() * kSeedEntryLen;
    RecordBuilder b(kPeerMagic, kPeerRecordVersion,
                    kPeerV2FixedBody + seeds_len + i.alias.size() + i.address.size());
    b.field(i.id);
    b.field_u8(i.role == Role::Initiator ? 0 : 1);
    b.field_u8(static_cast<std::uint8_t>(i.protocol));
    // Reserved at its final size, so the seeds never sit in a buffer that a
    // reallocation leaves behind unwiped; wiped when `seeds` goes.
    Bytes tmp;
    tmp.reserve(seeds_len);
    for (const auto& sd : rec.seeds) {
        append_u32be(tmp, sd.epoch);
        append(tmp, sd.seed.view());
    }
    const SensitiveBytes seeds(std::move(tmp));
    b.field(seeds.view());
    b.field_u64(static_cast<std::uint64_t>(i.created_unix));
    b.field_u64(static_cast<std::uint64_t>(i.last_seen_unix));
    b.field(as_bytes(i.alias));
    b.field(as_bytes(i.address));
    return b.finish();
}

Expected<PeerInfo, StoreError> decode_peer_info(ByteView data) {
    auto f = parse_peer(data);
    if (!f) return unexpected(f.error());
    return std::move(f->info);
}

Expected<PeerRecord, StoreError> decode_peer_record(ByteView data) {
    auto f = parse_peer(data);
    if (!f) return unexpected(f.error());
    PeerRecord rec{std::move(f->info), {}};
    for (std::size_t k = 0; k < f->seeds.size(); ++k)
        rec.seeds.push_back(StoredSeed{rec.info.epochs[k], SecretBytes(f->seeds[k])});
    return rec;
}

SensitiveBytes encode_identity_record(const Ed25519KeyPair& key, std::int64_t created_unix) {
    RecordBuilder b(kIdentityMagic, kIdentityRecordVersion, kIdentityBody);
    b.field(key.seed());
    b.field(key.public_key());
    b.field_u64(static_cast<std::uint64_t>(std::max<std::int64_t>(created_unix, 0)));
    return b.finish();
}

Expected<IdentityRecord, StoreError> decode_identity_record(ByteView data) {
    auto env = open_envelope(data, kIdentityMagic, {{kIdentityRecordVersion, kIdentityBody}});
    if (!env) return unexpected(env.error());
    FieldReader f(env->body);
    BR_TRY(seed, f.fixed("seed", kEd25519SeedLen));
    BR_TRY(pub, f.fixed("public key", kEd25519PublicLen));
    BR_TRY(created, f.uint("created", 8));
    if (!f.at_end()) return unexpected(err(StoreErrc::BadValue, "unknown trailing field"));
    if (created > INT64_MAX) return unexpected(err(StoreErrc::BadValue, "created"));
    Ed25519KeyPair key = Ed25519KeyPair::from_seed(seed);
    if (!ct_equal(key.public_key(), pub)) {
        return unexpected(err(StoreErrc::BadValue, "public key does not match the seed"));
    }
    return IdentityRecord{std::move(key), static_cast<std::int64_t>(created)};
}

#undef BR_TRY

}  // namespace br::store
