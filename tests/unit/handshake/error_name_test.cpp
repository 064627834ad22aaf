// SPDX-License-Identifier: MIT
// The names failures are reported by (logs, Manager1.AttemptFailed): every
// enumerator of every error a handshake can end with has its own, equal to
// its identifier, and a failure's name carries the layer's.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/handshake/pump.hpp"

namespace br::handshake {
namespace {

// Every value 0..last of an enum: distinct names, none the fallback.
template <typename E, typename F>
void all_named(int first, int last, F name_of) {
    std::set<std::string> seen;
    for (int i = first; i <= last; ++i) {
        const std::string n = name_of(static_cast<E>(i));
        EXPECT_NE(n, "Unknown") << i;
        EXPECT_TRUE(seen.insert(n).second) << n << " twice";
        EXPECT_EQ(
            n.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
            std::string::npos)
            << n;
    }
}

TEST(ErrorName, EveryEnumeratorHasItsOwn) {
    all_named<Error>(0, static_cast<int>(Error::Finished), [](Error e) { return name(e); });
    all_named<noise::Error>(0, static_cast<int>(noise::Error::Aborted),
                            [](noise::Error e) { return noise::name(e); });
    all_named<frame::FrameError>(0, static_cast<int>(frame::FrameError::TooManyFragments),
                                 [](frame::FrameError e) { return frame::name(e); });
    all_named<DecodeError>(0, static_cast<int>(DecodeError::BadOfferOrder),
                           [](DecodeError e) { return name(e); });
    all_named<AbortReason>(1, static_cast<int>(AbortReason::Busy),
                           [](AbortReason e) { return name(e); });
    EXPECT_STREQ(name(static_cast<AbortReason>(0x7f)), "Unknown");  // a newer peer's reason
}

TEST(ErrorName, AFailureIsNamedWithItsLayer) {
    EXPECT_EQ(Failure::of(Error::UnknownPeer).name(), "UnknownPeer");
    EXPECT_EQ(Failure::of(Error::NotApproved).name(), "NotApproved");
    EXPECT_EQ(Failure::noise(noise::Error::DecryptFailed).name(), "Noise.DecryptFailed");
    EXPECT_EQ(Failure::decode(DecodeError::UnknownType).name(), "Decode.UnknownType");
    EXPECT_EQ(Failure::certificate(cert::CertError::Expired).name(), "Certificate.Expired");
    EXPECT_EQ(Failure::peer_aborted(AbortReason::Busy).name(), "PeerAborted.Busy");
    EXPECT_EQ(Failure::persist_failed("/x: No space left on device").name(), "PersistFailed");
}

TEST(ErrorName, APumpFailureIsNamedByItsKind) {
    EXPECT_EQ(PumpFailure::of(Failure::peer_aborted(AbortReason::NotApproved)).name(),
              "PeerAborted.NotApproved");
    EXPECT_EQ(PumpFailure::frame(frame::FrameError::OutOfOrder).name(), "Frame.OutOfOrder");
    EXPECT_EQ(PumpFailure::transport().name(), "Transport");
    EXPECT_EQ(PumpFailure::no_handshake().name(), "NoHandshake");
    EXPECT_EQ(PumpFailure::no_session().name(), "DoneWithoutSession");
}

}  // namespace
}  // namespace br::handshake
