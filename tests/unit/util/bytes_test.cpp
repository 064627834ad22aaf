// SPDX-License-Identifier: MIT
#include "core/util/bytes.hpp"

#include <gtest/gtest.h>

namespace br {
namespace {

TEST(Hex, RoundTrips) {
    Bytes b{0x00, 0x7f, 0x80, 0xff};
    EXPECT_EQ(to_hex(b), "007f80ff");
    EXPECT_EQ(from_hex("007F80ff"), b);
}

TEST(Hex, RejectsOddLengthAndBadDigits) {
    EXPECT_FALSE(from_hex("abc"));
    EXPECT_FALSE(from_hex("zz"));
}

TEST(Reader, ReadsBigEndianAndFailsPastTheEnd) {
    Bytes b{0x01, 0x02, 0x03, 0x04, 0x05};
    Reader r(b);
    EXPECT_EQ(r.u16be(), 0x0102);
    EXPECT_EQ(r.u16be(), 0x0304);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.u32be(), 0u);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.remaining(), 0u);
}

}  // namespace
}  // namespace br
