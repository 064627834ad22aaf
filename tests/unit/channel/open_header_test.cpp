// SPDX-License-Identifier: MIT
// The opening exchange of a session channel (docs/PROTOCOL.md 8.3).
#include "core/channel/open_header.hpp"

#include <gtest/gtest.h>

namespace br::channel {
namespace {

TEST(OpenHeader, ARequestParsesOnlyWhenWholeAndTakesNothingAfterIt) {
    Bytes wire = encode_open("echo.v1");
    ASSERT_EQ(wire.size(), 9u);
    for (std::size_t n = 0; n < wire.size(); ++n) {
        auto r = parse_open(ByteView(wire).first(n));
        ASSERT_TRUE(r) << n;
        EXPECT_FALSE(r->has_value()) << n;
    }
    wire.push_back(0xAA);  // the application's first byte
    auto r = parse_open(wire);
    ASSERT_TRUE(r && r->has_value());
    EXPECT_EQ((*r)->service, "echo.v1");
    EXPECT_EQ((*r)->length, 9u);
}

TEST(OpenHeader, MalformedRequestsAreRefusedAsSoonAsTheyShow) {
    EXPECT_EQ(parse_open(Bytes{0x02}).error(), OpenError::BadVersion);
    EXPECT_EQ(parse_open(Bytes{0x01, 0x00}).error(), OpenError::BadName);
    EXPECT_EQ(parse_open(Bytes{0x01, 65}).error(), OpenError::BadName);
    // A bad character fails before the rest of the name arrives.
    EXPECT_EQ(parse_open(Bytes{0x01, 10, 'a', '/'}).error(), OpenError::BadName);
    EXPECT_EQ(parse_open(Bytes{0x01, 1, 0x00}).error(), OpenError::BadName);
    Bytes longest = encode_open(std::string(64, 'x'));
    EXPECT_TRUE(parse_open(longest) && parse_open(longest)->has_value());
}

TEST(OpenHeader, ServiceNames) {
    EXPECT_TRUE(valid_service_name("a"));
    EXPECT_TRUE(valid_service_name("org.example.echo-2_b"));
    EXPECT_FALSE(valid_service_name(""));
    EXPECT_FALSE(valid_service_name(std::string(65, 'a')));
    EXPECT_FALSE(valid_service_name("has space"));
    EXPECT_FALSE(valid_service_name("caf\xc3\xa9"));
}

TEST(OpenHeader, StatusBytes) {
    EXPECT_FALSE(parse_status({})->has_value());
    EXPECT_EQ(**parse_status(Bytes{0x00}), OpenStatus::Accepted);
    EXPECT_EQ(**parse_status(Bytes{0x01, 0x55}), OpenStatus::NoSuchService);
    EXPECT_EQ(**parse_status(Bytes{0x02}), OpenStatus::Refused);
    EXPECT_EQ(parse_status(Bytes{0x03}).error(), OpenError::BadStatus);
}

}  // namespace
}  // namespace br::channel
