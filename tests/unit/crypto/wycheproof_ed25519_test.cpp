// SPDX-License-Identifier: MIT
// Every case of Wycheproof's ed25519_test.json through br::ed25519_verify,
// and signing checks for the groups whose private key we know.
//
// This copy of the Wycheproof file gives only public keys.  Several groups use
// the RFC 8032 section 7.1 test keys, whose seeds are public, so for those the
// test signs each valid message with Ed25519KeyPair::from_seed() and expects
// the file's signature byte for byte (Ed25519 is deterministic).  A seed is
// used only if it derives exactly the group's public key.
#include <gtest/gtest.h>

#include <iostream>
#include <map>

#include "core/crypto/ed25519.hpp"
#include "vectors.hpp"

namespace br {
namespace {

// Seeds of public test keys: RFC 8032 section 7.1 TEST 1, 2, 3 and 1024.
const char* const kKnownSeeds[] = {
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
    "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
};

// public key (hex) -> seed, for the seeds above and any the file itself gives.
std::map<std::string, Bytes> known_keys(const nlohmann::json& doc) {
    std::map<std::string, Bytes> keys;
    for (const char* hex : kKnownSeeds) {
        Bytes seed = *from_hex(hex);
        keys[to_hex(Ed25519KeyPair::from_seed(seed).public_key())] = seed;
    }
    for (const auto& group : doc["testGroups"]) {
        for (const char* field : {"key", "privateKey"}) {
            if (group.contains(field) && group[field].contains("sk")) {
                Bytes seed = test::hex_bytes(group[field]["sk"]);
                keys[to_hex(Ed25519KeyPair::from_seed(seed).public_key())] = seed;
            }
        }
    }
    return keys;
}

TEST(WycheproofEd25519, AllCases) {
    const auto doc = test::load_vectors("wycheproof/ed25519_test.json");
    const auto keys = known_keys(doc);
    int valid = 0, acceptable = 0, invalid = 0, total = 0, resigned = 0;
    for (const auto& group : doc["testGroups"]) {
        const auto& pkj = group.contains("publicKey") ? group["publicKey"] : group["key"];
        const Bytes pk = test::hex_bytes(pkj["pk"]);
        const auto known = keys.find(to_hex(pk));
        for (const auto& tc : group["tests"]) {
            ++total;
            const std::string result = tc["result"];
            const Bytes msg = test::hex_bytes(tc["msg"]);
            const Bytes sig = test::hex_bytes(tc["sig"]);
            const bool ok = ed25519_verify(pk, msg, sig);
            if (result == "valid") {
                ++valid;
                EXPECT_TRUE(ok) << test::case_name(tc);
                if (known != keys.end()) {
                    const auto kp = Ed25519KeyPair::from_seed(known->second);
                    EXPECT_EQ(to_hex(kp.sign(msg)), to_hex(sig)) << test::case_name(tc);
                    ++resigned;
                }
            } else if (result == "acceptable") {
                ++acceptable;  // none in this file; either verdict is allowed
            } else {
                ++invalid;
                EXPECT_FALSE(ok) << test::case_name(tc);
            }
        }
    }
    EXPECT_EQ(total, doc["numberOfTests"].get<int>());
    if (!HasFailure()) {
        std::cout << "Wycheproof Ed25519: " << total << " cases (valid " << valid << ", acceptable "
                  << acceptable << ", invalid " << invalid << "), all as expected; " << resigned
                  << " valid signatures reproduced by signing with a known seed\n";
    }
}

TEST(Ed25519, SignVerifyRoundTrip) {
    const auto kp = Ed25519KeyPair::generate();
    const auto msg = as_bytes("blueratchet");
    const auto sig = kp.sign(msg);
    EXPECT_TRUE(ed25519_verify(kp.public_key(), msg, sig));
    auto bad = sig;
    bad[0] ^= 1;
    EXPECT_FALSE(ed25519_verify(kp.public_key(), msg, bad));
    EXPECT_FALSE(ed25519_verify(kp.public_key(), msg, ByteView(sig).first(63)));
}

}  // namespace
}  // namespace br
