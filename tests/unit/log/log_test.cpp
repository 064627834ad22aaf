// SPDX-License-Identifier: MIT
// journal_fields() on the daemon's own log lines (docs/DAEMON.md, "Log
// lines"), and is_journal_stream() on real descriptors.
#include "daemon/log.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace br::daemon::log {
namespace {

using Fields = std::vector<Field>;

constexpr const char* kPeer = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA";

TEST(JournalFields, SessionInvalidated) {
    EXPECT_EQ(journal_fields(std::string("session invalidated adapter=hci0 peer=") + kPeer +
                             " address=C0:FF:EE:00:00:01 epoch=3 fingerprint=00ff reason=LinkLost"),
              (Fields{{"PEER_ID", kPeer},
                      {"ADAPTER", "hci0"},
                      {"ADDRESS", "C0:FF:EE:00:00:01"},
                      {"EPOCH", "3"},
                      {"ERROR", "LinkLost"}}));
}

TEST(JournalFields, WhyTakesTheRestOfTheLine) {
    EXPECT_EQ(journal_fields(std::string("session channel closed adapter=hci0 peer=") + kPeer +
                             " service=echo why=the peer closed it: reset (by us) x=1"),
              (Fields{{"PEER_ID", kPeer},
                      {"ADAPTER", "hci0"},
                      {"ERROR", "the peer closed it: reset (by us) x=1"}}));
}

TEST(JournalFields, AQuotedReasonAndADeviceAddressWithItsColon) {
    EXPECT_EQ(journal_fields("handshake failed adapter=hci0 device=C0:FF:EE:00:0B:05 "
                             "role=responder reason=\"handshake failed: malformed message: "
                             "unknown message type\": disconnecting"),
              (Fields{{"ADAPTER", "hci0"},
                      {"ADDRESS", "C0:FF:EE:00:0B:05"},
                      {"ERROR", "handshake failed: malformed message: unknown message type"}}));
    EXPECT_EQ(journal_fields("first contact turned away adapter=hci0 device=C0:FF:EE:00:0C:04: 4 "
                             "first contacts ended without a session in the last minute"),
              (Fields{{"ADAPTER", "hci0"}, {"ADDRESS", "C0:FF:EE:00:0C:04"}}));
}

TEST(JournalFields, ErrorBeforeReasonBeforeWhy) {
    EXPECT_EQ(journal_fields(std::string("attempt failed adapter=hci0 peer=") + kPeer +
                             " address=C0:FF:EE:00:0B:05 reason=HandshakeFailed"
                             " error=Noise.DecryptFailed why=handshake failed: noise"),
              (Fields{{"PEER_ID", kPeer},
                      {"ADAPTER", "hci0"},
                      {"ADDRESS", "C0:FF:EE:00:0B:05"},
                      {"ERROR", "Noise.DecryptFailed"}}));
    EXPECT_EQ(
        journal_fields("attempt failed adapter=hci0 address=C0:FF:EE:00:0B:01 "
                       "reason=NoSession why=no session within 4 s"),
        (Fields{{"ADAPTER", "hci0"}, {"ADDRESS", "C0:FF:EE:00:0B:01"}, {"ERROR", "NoSession"}}));
}

TEST(JournalFields, ABluezDevicePathGivesAddressAndAdapter) {
    EXPECT_EQ(journal_fields(std::string("LE bond refused device=/org/bluez/hci1/dev_C0_FF_EE_00_"
                                         "00_01 peer=") +
                             kPeer + ": passkeys differ (ours 1, the peer's 2)"),
              (Fields{{"PEER_ID", kPeer}, {"ADAPTER", "hci1"}, {"ADDRESS", "C0:FF:EE:00:00:01"}}));
    // adapter= says it first-hand.
    EXPECT_EQ(journal_fields("x adapter=hci0 device=/org/bluez/hci1/dev_C0_FF_EE_00_00_01"),
              (Fields{{"ADAPTER", "hci0"}, {"ADDRESS", "C0:FF:EE:00:00:01"}}));
    // Another path is no address.
    EXPECT_EQ(journal_fields("pairing rejected device=/org/bluez/hci0"), Fields{});
}

TEST(JournalFields, TheFirstWordWinsAndUnknownPeersAreNone) {
    EXPECT_EQ(journal_fields(std::string("handshake refused adapter=hci0 device=C0:FF:EE:00:00:02 "
                                         "peer=") +
                             kPeer +
                             ": another handshake with this identity is in progress "
                             "(device=C0:FF:EE:00:00:03); the peer may try again"),
              (Fields{{"PEER_ID", kPeer}, {"ADAPTER", "hci0"}, {"ADDRESS", "C0:FF:EE:00:00:02"}}));
    EXPECT_EQ(journal_fields("no rekey from the central adapter=hci0 peer=?: disconnecting"),
              (Fields{{"ADAPTER", "hci0"}}));
}

TEST(JournalFields, ALineWithoutWordsHasNone) {
    EXPECT_EQ(journal_fields(""), Fields{});
    EXPECT_EQ(journal_fields("no approval plugin: every first contact is refused"), Fields{});
    EXPECT_EQ(journal_fields("=x a= peer= epoch=\"\""), Fields{});
    // Keys are lowercase words after a space: "(device=" and "X=" are not.
    EXPECT_EQ(journal_fields("a (device=AA:BB) ADAPTER=hci0 my-adapter=hci9"), Fields{});
}

TEST(JournalStream, NamesTheFileItWasTakenFrom) {
    char tmpl[] = "/tmp/br-log-test-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    struct stat st {};
    ASSERT_EQ(::fstat(fd, &st), 0);
    const std::string mine = std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
                             std::to_string(static_cast<unsigned long long>(st.st_ino));
    EXPECT_TRUE(is_journal_stream(mine.c_str(), st.st_dev, st.st_ino));
    // Another file (stderr redirected after systemd set the variable).
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    struct stat other {};
    ASSERT_EQ(::fstat(fds[0], &other), 0);
    EXPECT_FALSE(is_journal_stream(mine.c_str(), other.st_dev, other.st_ino));
    for (const char* bad :
         {"", ":", "1:", ":1", "a:b", "1:2:3", "1 :2", "99999999999999999999999:1"})
        EXPECT_FALSE(is_journal_stream(bad, st.st_dev, st.st_ino)) << bad;
    EXPECT_FALSE(is_journal_stream(nullptr, st.st_dev, st.st_ino));
    ::close(fds[0]);
    ::close(fds[1]);
    ::close(fd);
    ::unlink(tmpl);
}

}  // namespace
}  // namespace br::daemon::log
