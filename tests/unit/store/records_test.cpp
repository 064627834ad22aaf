// SPDX-License-Identifier: MIT
#include "core/store/records.hpp"

#include <gtest/gtest.h>

#include "core/crypto/kdf.hpp"
#include "store_test_util.hpp"

namespace br::store {
namespace {

using testing::make_record;

void expect_same(const PeerRecord& a, const PeerRecord& b) {
    EXPECT_EQ(a.info.id, b.info.id);
    EXPECT_EQ(a.info.role, b.info.role);
    EXPECT_EQ(a.info.protocol, b.info.protocol);
    EXPECT_EQ(a.info.epochs, b.info.epochs);
    EXPECT_EQ(a.info.created_unix, b.info.created_unix);
    EXPECT_EQ(a.info.last_seen_unix, b.info.last_seen_unix);
    EXPECT_EQ(a.info.alias, b.info.alias);
    EXPECT_EQ(a.info.address, b.info.address);
    ASSERT_EQ(a.seeds.size(), b.seeds.size());
    for (std::size_t k = 0; k < a.seeds.size(); ++k) {
        EXPECT_EQ(a.seeds[k].epoch, b.seeds[k].epoch);
        EXPECT_TRUE(ct_equal(a.seeds[k].seed.view(), b.seeds[k].seed.view()));
    }
}

TEST(PeerRecordFormat, RoundTripWithAndWithoutPending) {
    for (bool pending : {true, false}) {
        PeerRecord rec = make_record(7, 3, pending);
        auto enc = encode_peer_record(rec);
        ASSERT_TRUE(enc) << enc.error().message();
        auto dec = decode_peer_record(enc->view());
        ASSERT_TRUE(dec) << dec.error().message();
        expect_same(rec, *dec);
        auto info = decode_peer_info(enc->view());
        ASSERT_TRUE(info);
        EXPECT_EQ(info->alias, rec.info.alias);
    }
}

TEST(PeerRecordFormat, Layout) {
    PeerRecord rec = make_record(1, 1, false);
    rec.info.alias = "";
    rec.info.address = "";
    auto enc = encode_peer_record(rec);
    ASSERT_TRUE(enc);
    ByteView v = enc->view();
    // magic, version 2, body length, first field = u16 32 || peer id
    EXPECT_EQ(to_hex(v.subspan(0, 6)), to_hex(as_bytes("BRP1")) + "0002");
    const std::size_t body = (v[6] << 8) | v[7];
    EXPECT_EQ(v.size(), 8 + body + 32);
    // id, role, protocol, seeds (one: epoch || seed), created, last seen, alias, address
    EXPECT_EQ(body, 8 * 2 + 32 + 1 + 1 + 36 + 8 + 8);
    EXPECT_EQ(to_hex(v.subspan(8, 2)), "0020");
    EXPECT_EQ(to_hex(v.subspan(10, 32)), to_hex(rec.info.id));
    // role, then protocol 1 (1.1), then the seeds field: 36 bytes, epoch 1 first
    EXPECT_EQ(to_hex(v.subspan(42, 6)), "000101000101");
    EXPECT_EQ(to_hex(v.subspan(48, 6)), "002400000001");
}

// A record written by a protocol 1.0 build (record version 1) still loads,
// with its seeds in order and protocol 1.0; saving it writes version 2.
TEST(PeerRecordFormat, Version1RecordsStillLoad) {
    for (bool pending : {true, false}) {
        PeerRecord rec = make_record(9, 4, pending);
        rec.info.protocol = PeerProtocol::V1_0;
        const Bytes v1 = testing::encode_v1_record(rec);
        EXPECT_EQ(to_hex(ByteView(v1).subspan(0, 6)), to_hex(as_bytes("BRP1")) + "0001");
        auto dec = decode_peer_record(v1);
        ASSERT_TRUE(dec) << dec.error().message();
        expect_same(rec, *dec);
        auto again = encode_peer_record(*dec);
        ASSERT_TRUE(again);
        EXPECT_EQ(to_hex(again->view().subspan(0, 6)), to_hex(as_bytes("BRP1")) + "0002");
        expect_same(rec, *decode_peer_record(again->view()));
    }
}

TEST(PeerRecordFormat, SeedShapes) {
    using V = std::vector<std::uint32_t>;
    for (const V& ok : {V{1}, V{5, 6}, V{5, 6, 6}, V{6, 6}, V{5, 5, 6}})
        EXPECT_TRUE(is_valid_seed_shape(ok)) << ::testing::PrintToString(ok);
    for (const V& bad : {V{}, V{0}, V{6, 5}, V{5, 7}, V{5, 5, 5}, V{5, 6, 6, 6}, V{5, 6, 7}})
        EXPECT_FALSE(is_valid_seed_shape(bad)) << ::testing::PrintToString(bad);
    PeerRecord rec = make_record(3);
    rec.info.epochs = {1, 3};
    rec.seeds[1].epoch = 3;
    EXPECT_EQ(encode_peer_record(rec).error().code, StoreErrc::BadValue);
}

TEST(PeerRecordFormat, UnicodeAliasAndLimits) {
    PeerRecord rec = make_record(2);
    rec.info.alias = "Küche – 台所 🙂";
    auto enc = encode_peer_record(rec);
    ASSERT_TRUE(enc);
    EXPECT_EQ(decode_peer_info(enc->view())->alias, rec.info.alias);

    rec.info.alias = std::string(kMaxAliasLen, 'a');
    EXPECT_TRUE(encode_peer_record(rec));
    rec.info.alias = std::string(kMaxAliasLen + 1, 'a');
    auto too_long = encode_peer_record(rec);
    ASSERT_FALSE(too_long);
    EXPECT_EQ(too_long.error().code, StoreErrc::FieldTooLong);
    EXPECT_NE(too_long.error().message().find("alias"), std::string::npos);

    for (std::string bad :
         {std::string("\xc3"), std::string("\xc0\xaf"), std::string("a\nb"),
          std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80"), std::string("x\x7f")}) {
        rec.info.alias = bad;
        auto e = encode_peer_record(rec);
        ASSERT_FALSE(e) << to_hex(as_bytes(bad));
        EXPECT_EQ(e.error().code, StoreErrc::BadValue);
    }
}

TEST(PeerRecordFormat, AddressesAndEpochs) {
    EXPECT_TRUE(is_valid_address(""));
    EXPECT_TRUE(is_valid_address("00:1a:7D:DA:71:13"));
    EXPECT_FALSE(is_valid_address("00:1A:7D:DA:71:1"));
    EXPECT_FALSE(is_valid_address("00-1A-7D-DA-71-13"));
    EXPECT_FALSE(is_valid_address("00:1A:7D:DA:71:1G"));

    PeerRecord rec = make_record(3);
    rec.info.address = "00:11:22:33:44:55:66";
    EXPECT_EQ(encode_peer_record(rec).error().code, StoreErrc::FieldTooLong);
    rec = make_record(3);
    rec.info.epochs[1] = rec.info.epochs[0] + 2;
    EXPECT_EQ(encode_peer_record(rec).error().code, StoreErrc::BadValue);
    rec = make_record(3, 1, false);
    rec.info.epochs.push_back(2);  // epoch without a seed
    EXPECT_EQ(encode_peer_record(rec).error().code, StoreErrc::BadValue);
    rec = make_record(3, 0xffffffffu, false);
    EXPECT_TRUE(encode_peer_record(rec));
    rec = make_record(3);
    rec.info.last_seen_unix = -1;
    EXPECT_EQ(encode_peer_record(rec).error().code, StoreErrc::BadValue);
}

TEST(PeerRecordFormat, EveryTruncationIsAnError) {
    auto enc = encode_peer_record(make_record(4));
    ASSERT_TRUE(enc);
    for (std::size_t n = 0; n < enc->size(); ++n) {
        auto dec = decode_peer_info(enc->view().subspan(0, n));
        ASSERT_FALSE(dec) << n;
        EXPECT_EQ(dec.error().code, StoreErrc::Truncated) << n;
    }
}

TEST(PeerRecordFormat, EveryBitFlipIsAnError) {
    auto enc = encode_peer_record(make_record(5));
    ASSERT_TRUE(enc);
    Bytes good(enc->view().begin(), enc->view().end());
    for (std::size_t bit = 0; bit < good.size() * 8; ++bit) {
        Bytes bad = good;
        bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        auto dec = decode_peer_record(bad);
        ASSERT_FALSE(dec) << "bit " << bit;
        const StoreErrc c = dec.error().code;
        if (bit < 32) {
            EXPECT_EQ(c, StoreErrc::BadMagic);
        } else if (bit < 48) {
            EXPECT_EQ(c, StoreErrc::UnsupportedVersion);
        } else if (bit >= 64) {
            EXPECT_EQ(c, StoreErrc::ChecksumMismatch) << "bit " << bit;
        }
    }
    Bytes longer = good;
    longer.push_back(0);
    EXPECT_EQ(decode_peer_info(longer).error().code, StoreErrc::BadValue);
    Bytes huge(kMaxRecordFile + 1, 0);
    EXPECT_EQ(decode_peer_info(huge).error().code, StoreErrc::FileTooLarge);
}

// A record with a valid checksum but malformed fields (what a buggy or
// hostile writer could produce) is still rejected field by field.
TEST(PeerRecordFormat, WellChecksummedButMalformed) {
    auto reseal = [](Bytes b) {
        b.resize(b.size() - 32);
        const Hash h = sha256(b);
        append(b, h);
        return b;
    };
    auto enc = encode_peer_record(make_record(6));
    ASSERT_TRUE(enc);
    Bytes good(enc->view().begin(), enc->view().end());
    // role byte: after magic(4) version(2) len(2) id field(2+32) role len(2)
    Bytes bad_role = good;
    bad_role[8 + 34 + 2] = 2;
    auto e = decode_peer_info(reseal(bad_role));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, StoreErrc::BadValue);
    EXPECT_NE(e.error().message().find("role"), std::string::npos);
    // peer id field length 33 (body no longer parses where it should)
    Bytes bad_len = good;
    bad_len[9] = 33;
    e = decode_peer_info(reseal(bad_len));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, StoreErrc::FieldTooLong);
}

TEST(IdentityRecordFormat, RoundTripAndCorruption) {
    Ed25519KeyPair key = Ed25519KeyPair::generate();
    SensitiveBytes enc = encode_identity_record(key, 1'800'000'000);
    auto dec = decode_identity_record(enc.view());
    ASSERT_TRUE(dec) << dec.error().message();
    EXPECT_EQ(dec->key.public_key(), key.public_key());
    EXPECT_EQ(dec->created_unix, 1'800'000'000);
    Bytes good(enc.view().begin(), enc.view().end());
    for (std::size_t n = 0; n < good.size(); ++n) {
        EXPECT_FALSE(decode_identity_record(ByteView(good).subspan(0, n))) << n;
    }
    for (std::size_t bit = 0; bit < good.size() * 8; ++bit) {
        Bytes bad = good;
        bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        EXPECT_FALSE(decode_identity_record(bad)) << bit;
    }
    // A peer record is not an identity record and vice versa.
    auto peer = encode_peer_record(make_record(1));
    EXPECT_EQ(decode_identity_record(peer->view()).error().code, StoreErrc::BadMagic);
    EXPECT_EQ(decode_peer_info(enc.view()).error().code, StoreErrc::BadMagic);
}

TEST(SensitiveBytes, WipeClears) {
    SensitiveBytes s(Bytes{1, 2, 3});
    EXPECT_EQ(s.size(), 3u);
    SensitiveBytes t = std::move(s);
    EXPECT_EQ(s.size(), 0u);  // NOLINT(bugprone-use-after-move): checking the moved-from state
    t.wipe();
    EXPECT_EQ(t.size(), 0u);
}

TEST(StoreErrorText, NamesFileAndErrno) {
    StoreError e{StoreErrc::WriteFailed, 28, "/var/lib/br/x/peers/ab", {}};
    EXPECT_EQ(e.message(), "/var/lib/br/x/peers/ab: write failed: No space left on device");
    StoreError f{StoreErrc::ChecksumMismatch, 0, "/s/peers/cd", "detail"};
    EXPECT_EQ(f.message(), "/s/peers/cd: checksum mismatch (corrupt record) (detail)");
}

}  // namespace
}  // namespace br::store
