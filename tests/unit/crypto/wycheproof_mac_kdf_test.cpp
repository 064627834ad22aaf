// SPDX-License-Identifier: MIT
// Every case of Wycheproof's hkdf_sha256_test.json and hmac_sha256_test.json
// through br::hkdf and br::hmac_sha256.
#include <gtest/gtest.h>

#include <iostream>

#include "core/crypto/kdf.hpp"
#include "vectors.hpp"

namespace br {
namespace {

TEST(WycheproofHkdf, AllCases) {
    const auto doc = test::load_vectors("wycheproof/hkdf_sha256_test.json");
    int valid = 0, acceptable = 0, invalid = 0, total = 0;
    for (const auto& group : doc["testGroups"]) {
        for (const auto& tc : group["tests"]) {
            ++total;
            const std::string result = tc["result"];
            const auto size = tc["size"].get<std::size_t>();
            auto okm = hkdf(test::hex_bytes(tc["salt"]), test::hex_bytes(tc["ikm"]),
                            test::hex_bytes(tc["info"]), size);
            if (result == "valid") {
                ++valid;
                ASSERT_TRUE(okm.has_value()) << test::case_name(tc);
                EXPECT_EQ(to_hex(*okm), tc["okm"].get<std::string>()) << test::case_name(tc);
            } else if (result == "acceptable") {
                ++acceptable;
            } else {
                // The invalid cases ask for more than 255 * 32 bytes.
                ++invalid;
                EXPECT_TRUE(test::has_flag(tc, "SizeTooLarge")) << test::case_name(tc);
                EXPECT_FALSE(okm.has_value()) << test::case_name(tc);
            }
        }
    }
    EXPECT_EQ(total, doc["numberOfTests"].get<int>());
    if (!HasFailure()) {
        std::cout << "Wycheproof HKDF-SHA256: " << total << " cases (valid " << valid
                  << ", acceptable " << acceptable << ", invalid " << invalid
                  << "), all as expected\n";
    }
}

TEST(WycheproofHmac, AllCases) {
    const auto doc = test::load_vectors("wycheproof/hmac_sha256_test.json");
    int valid = 0, acceptable = 0, invalid = 0, total = 0;
    for (const auto& group : doc["testGroups"]) {
        const auto tag_bytes = group["tagSize"].get<std::size_t>() / 8;
        ASSERT_LE(tag_bytes, kHashLen);
        for (const auto& tc : group["tests"]) {
            ++total;
            const std::string result = tc["result"];
            const Bytes tag = test::hex_bytes(tc["tag"]);
            const Hash mac = hmac_sha256(test::hex_bytes(tc["key"]), test::hex_bytes(tc["msg"]));
            // A verifier compares the truncated MAC with the received tag (whose
            // length must be the group's tag size) in constant time.
            const bool ok =
                tag.size() == tag_bytes && ct_equal(ByteView(mac).first(tag_bytes), tag);
            if (result == "valid") {
                ++valid;
                EXPECT_TRUE(ok) << test::case_name(tc);
            } else if (result == "acceptable") {
                ++acceptable;
            } else {
                ++invalid;
                EXPECT_FALSE(ok) << test::case_name(tc);
            }
        }
    }
    EXPECT_EQ(total, doc["numberOfTests"].get<int>());
    if (!HasFailure()) {
        std::cout << "Wycheproof HMAC-SHA256: " << total << " cases (valid " << valid
                  << ", acceptable " << acceptable << ", invalid " << invalid
                  << "), all as expected\n";
    }
}

}  // namespace
}  // namespace br
