// SPDX-License-Identifier: MIT
// main.conf parser: defaults, every key, every refusal names its line and why.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include "daemon/config.hpp"

namespace br::daemon {
namespace {

Config parse_ok(const std::string& text) {
    auto r = parse_config(text);
    EXPECT_FALSE(r.error.has_value()) << (r.error ? r.error->message() : "");
    EXPECT_TRUE(r.config.has_value());
    return r.config.value_or(Config{});
}

ConfigError parse_bad(const std::string& text) {
    auto r = parse_config(text);
    EXPECT_FALSE(r.config.has_value());
    EXPECT_TRUE(r.error.has_value()) << "accepted:\n" << text;
    return r.error.value_or(ConfigError{});
}

void expect_defaults(const Config& c) {
    EXPECT_EQ(c.role, GattRoles::Both);
    EXPECT_EQ(c.io_capability, "KeyboardDisplay");
    EXPECT_FALSE(c.allow_legacy_pairing);
    EXPECT_EQ(c.state_directory, "/var/lib/blueratchet");
    EXPECT_EQ(c.approval, "window");
    EXPECT_EQ(c.validity_seconds, 3600u);
    EXPECT_EQ(c.on_expiry, OnExpiry::Rekey);
    EXPECT_EQ(c.handshake_timeout_seconds, 10u);
    EXPECT_EQ(c.channel_psm, 0x0081);
    EXPECT_EQ(c.pairing_window_seconds, 120u);
    EXPECT_EQ(c.approval_timeout_seconds, 20u);
    EXPECT_EQ(c.refused_first_contacts_per_minute, 10u);
    EXPECT_TRUE(c.only_adapters.empty());
}

TEST(Config, EmptyTextGivesDefaults) {
    expect_defaults(parse_ok(""));
}

TEST(Config, CommentsAndEmptySectionsGiveDefaults) {
    expect_defaults(parse_ok("# hello\n; too\n\n[General]\n[Session]\n[Pairing]\n[Adapters]\n"));
}

TEST(Config, MissingFileGivesDefaults) {
    auto r = load_config("/nonexistent/blueratchet/main.conf");
    ASSERT_TRUE(r.config.has_value());
    EXPECT_FALSE(r.error.has_value());
    expect_defaults(*r.config);
}

TEST(Config, ExampleFileIsTheDefaults) {
    const char* path = std::getenv("BR_EXAMPLE_CONF");
    ASSERT_NE(path, nullptr) << "BR_EXAMPLE_CONF not set";
    auto r = load_config(path);
    ASSERT_TRUE(r.config.has_value()) << (r.error ? r.error->message() : "");
    expect_defaults(*r.config);
}

TEST(Config, ExampleFileUncommentedIsStillTheDefaults) {
    // Every "#Key = value" line of the example, uncommented, must parse and
    // give the defaults too (except Only, whose example is not the default).
    const char* path = std::getenv("BR_EXAMPLE_CONF");
    ASSERT_NE(path, nullptr);
    std::ifstream in(path);
    std::string line, text;
    int keys = 0;
    while (std::getline(in, line)) {
        if (line.size() > 1 && line[0] == '#' && line[1] != ' ' &&
            line.find(" = ") != std::string::npos) {
            line = line.substr(1);
            ++keys;
        }
        text += line + "\n";
    }
    EXPECT_EQ(keys, 16);
    Config c = parse_ok(text);
    // The examples of these three are not their defaults (empty).
    EXPECT_EQ(c.only_adapters, (std::vector<std::string>{"hci0", "hci1"}));
    EXPECT_EQ(c.plugins_load, (std::vector<std::string>{"x509-export", "exec"}));
    EXPECT_EQ(c.plugin_directory, "/usr/lib/x86_64-linux-gnu/blueratchet/plugins");
    c.only_adapters.clear();
    c.plugins_load.clear();
    c.plugin_directory.clear();
    expect_defaults(c);
}

// main.conf says it shows every setting: each key the parser knows has its
// "#Key = ..." line, in its section.
TEST(Config, TheExampleShowsEveryKnownKey) {
    const char* path = std::getenv("BR_EXAMPLE_CONF");
    ASSERT_NE(path, nullptr);
    std::ifstream in(path);
    std::string line, section;
    std::set<std::string> shown;
    while (std::getline(in, line)) {
        if (line.size() > 2 && line[0] == '[') section = line.substr(1, line.find(']') - 1);
        auto eq = line.find(" =");
        if (line.size() > 1 && line[0] == '#' && line[1] != ' ' && eq != std::string::npos)
            shown.insert(section + "." + line.substr(1, eq - 1));
    }
    for (const auto& key : known_keys()) EXPECT_TRUE(shown.count(key)) << key << " not in " << path;
    EXPECT_EQ(shown.size(), known_keys().size());
}

TEST(Config, EveryKey) {
    Config c = parse_ok(
        "[General]\n"
        "Role = peripheral\n"
        "IOCapability = NoInputNoOutput\n"
        "AllowLegacyPairing = true\n"
        "StateDirectory = /srv/br\n"
        "Approval = confirm\n"
        "[Session]\n"
        "Validity = 60\n"
        "OnExpiry = disconnect\n"
        "HandshakeTimeout = 25\n"
        "ChannelPSM = 0x00Fe\n"
        "[Pairing]\n"
        "WindowSeconds = 30\n"
        "ApprovalTimeout = 1\n"
        "RefusedFirstContactsPerMinute = 3\n"
        "[Adapters]\n"
        "Only = hci0, hci3\n");
    EXPECT_EQ(c.role, GattRoles::Peripheral);
    EXPECT_EQ(c.io_capability, "NoInputNoOutput");
    EXPECT_TRUE(c.allow_legacy_pairing);
    EXPECT_EQ(c.state_directory, "/srv/br");
    EXPECT_EQ(c.approval, "confirm");
    EXPECT_EQ(c.validity_seconds, 60u);
    EXPECT_EQ(c.on_expiry, OnExpiry::Disconnect);
    EXPECT_EQ(c.handshake_timeout_seconds, 25u);
    EXPECT_EQ(c.channel_psm, 0x00fe);
    EXPECT_EQ(c.pairing_window_seconds, 30u);
    EXPECT_EQ(c.approval_timeout_seconds, 1u);
    EXPECT_EQ(c.refused_first_contacts_per_minute, 3u);
    EXPECT_EQ(c.only_adapters, (std::vector<std::string>{"hci0", "hci3"}));
}

TEST(Config, OtherSpellings) {
    Config c = parse_ok(
        "[General]\nRole=Central\nIOCapability = displayyesno\nAllowLegacyPairing = FALSE\n"
        "[Session]\nOnExpiry = Rekey   # inline comment\nValidity = 604800 ; too\n"
        "[Adapters]\nOnly =\n");
    EXPECT_EQ(c.role, GattRoles::Central);
    EXPECT_EQ(c.io_capability, "DisplayYesNo");  // BlueZ's spelling, whatever was written
    EXPECT_EQ(c.on_expiry, OnExpiry::Rekey);
    EXPECT_EQ(c.validity_seconds, 604800u);
    EXPECT_TRUE(c.only_adapters.empty());
}

TEST(Config, CrlfLineEndings) {
    Config c = parse_ok("[Session]\r\nValidity = 120\r\n");
    EXPECT_EQ(c.validity_seconds, 120u);
}

TEST(Config, RepeatedSectionIsFine) {
    Config c = parse_ok(
        "[Session]\nValidity = 120\n[General]\nRole = central\n[Session]\nOnExpiry = disconnect\n");
    EXPECT_EQ(c.validity_seconds, 120u);
    EXPECT_EQ(c.on_expiry, OnExpiry::Disconnect);
}

struct BadCase {
    const char* text;
    int line;
    const char* reason_contains;
};

class ConfigRefuses : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConfigRefuses, NamesLineAndReason) {
    const auto& c = GetParam();
    ConfigError e = parse_bad(c.text);
    EXPECT_EQ(e.line, c.line) << e.message();
    EXPECT_NE(e.reason.find(c.reason_contains), std::string::npos) << e.message();
    EXPECT_EQ(e.file, "main.conf");
    EXPECT_EQ(e.message().rfind("main.conf:" + std::to_string(c.line) + ": ", 0), 0u)
        << e.message();
}

INSTANTIATE_TEST_SUITE_P(
    Values, ConfigRefuses,
    ::testing::Values(
        BadCase{"[General]\nRole = observer\n", 2, "Role: must be peripheral, central or both"},
        BadCase{"[General]\nRole =\n", 2, "Role: must be"},
        BadCase{"[General]\nIOCapability = Keyboard\n", 2, "IOCapability: must be DisplayOnly"},
        BadCase{"[General]\nAllowLegacyPairing = yes\n", 2,
                "AllowLegacyPairing: must be true or false"},
        BadCase{"[General]\nStateDirectory = var/lib\n", 2,
                "StateDirectory: must be an absolute path"},
        BadCase{"[General]\nStateDirectory = /var/../etc\n", 2, "must not contain .."},
        BadCase{"[General]\nApproval = Window!\n", 2, "Approval: must be an approval plugin name"},
        BadCase{"# c\n[Session]\nValidity = 59\n", 3, "Validity: must be 60..604800"},
        BadCase{"[Session]\nValidity = 604801\n", 2, "Validity: must be 60..604800"},
        BadCase{"[Session]\nValidity = 1h\n", 2, "Validity: must be 60..604800 (got \"1h\")"},
        BadCase{"[Session]\nValidity = -60\n", 2, "Validity: must be"},
        BadCase{"[Session]\nValidity = 99999999999999999999\n", 2, "Validity: must be"},
        BadCase{"[Session]\nOnExpiry = never\n", 2, "OnExpiry: must be rekey or disconnect"},
        BadCase{"[Session]\nHandshakeTimeout = 0\n", 2, "HandshakeTimeout: must be 1..25"},
        BadCase{"[Session]\nHandshakeTimeout = 26\n", 2, "HandshakeTimeout: must be 1..25"},
        BadCase{"[Session]\nChannelPSM = 0x0025\n", 2,
                "ChannelPSM: must be 0x0080..0x00ff (LE dynamic PSMs), or 0 for no channels"},
        BadCase{"[Session]\nChannelPSM = 256\n", 2,
                "ChannelPSM: must be 0x0080..0x00ff (LE dynamic PSMs), or 0 for no channels"},
        BadCase{"[Session]\nChannelPSM = 0x\n", 2,
                "ChannelPSM: must be 0x0080..0x00ff (LE dynamic PSMs), or 0 for no channels"},
        BadCase{"[Pairing]\nWindowSeconds = 0\n", 2, "WindowSeconds: must be 1..3600"},
        BadCase{"[Pairing]\nApprovalTimeout = 30\n", 2, "ApprovalTimeout: must be 1..25"},
        BadCase{"[Pairing]\nRefusedFirstContactsPerMinute = 0\n", 2,
                "RefusedFirstContactsPerMinute: must be 1..1000"},
        BadCase{"[Adapters]\nOnly = hci0,usb1\n", 2, "\"usb1\" is not one"},
        BadCase{"[Adapters]\nOnly = hci0,,hci1\n", 2, "\"\" is not one"},
        BadCase{"[Adapters]\nOnly = hci0,hci0\n", 2, "hci0 is listed twice"},
        BadCase{"[Adapters]\nOnly = hci0,\n", 2, "Only:"},
        // unknown sections and keys
        BadCase{"[General]\n\n[Bogus]\n", 3, "unknown section [Bogus]"},
        BadCase{"[general]\nRole = both\n", 1, "did you mean [General]?"},
        BadCase{"[General]\nRole = both\nFoo = 1\n", 3, "unknown key Foo in [General]"},
        BadCase{"[General]\nvalidity = 60\n", 2, "did you mean Validity in [Session]?"},
        BadCase{"[Session]\nvalidity = 60\n", 2, "did you mean Validity?"},
        BadCase{"Role = both\n", 1, "key outside any section"},
        // structure
        BadCase{"[General]\nRole = both\nRole = central\n", 3, "Role: set twice (first on line 2)"},
        BadCase{"[General]\nRole = both\n  central\n", 3, "continuation lines are not supported"},
        BadCase{"[General]\nRole both\n", 2, "syntax error"},
        BadCase{"[General\nRole = both\n", 1, "syntax error"},
        BadCase{"[General]\nRole = both\n[Session]\nValidity = 5\nOnExpiry = x\n", 4, "Validity"},
        BadCase{"[General]\nStateDirectory = /x\n[Session]\nValidity = 1\n[Bogus]\n", 4,
                "Validity"}));

TEST(Config, LongLineIsRefusedWithItsNumber) {
    std::string text = "[General]\nStateDirectory = /" + std::string(300, 'a') + "\n";
    ConfigError e = parse_bad(text);
    EXPECT_EQ(e.line, 2);
    EXPECT_NE(e.reason.find("line too long"), std::string::npos) << e.message();
}

TEST(Config, LongButAcceptableLine) {
    std::string dir = "/" + std::string(150, 'a');
    Config c = parse_ok("[General]\nStateDirectory = " + dir + "\n");
    EXPECT_EQ(c.state_directory, dir);
}

TEST(Config, LoadNamesTheFile) {
    char tmpl[] = "/tmp/br-config-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    std::string dir = tmpl, path = dir + "/main.conf";
    {
        std::ofstream out(path);
        out << "[Session]\nValidity = 120\n";
    }
    auto ok = load_config(path);
    ASSERT_TRUE(ok.config) << ok.error->message();
    EXPECT_EQ(ok.config->validity_seconds, 120u);
    {
        std::ofstream out(path);
        out << "[Session]\n\nValidity = 12\n";
    }
    auto bad = load_config(path);
    ASSERT_TRUE(bad.error);
    EXPECT_EQ(bad.error->message(), path + ":3: Validity: must be 60..604800 (got \"12\")");

    // A directory where the file should be: an error, not the defaults.
    auto dir_result = load_config(dir);
    ASSERT_TRUE(dir_result.error);
    EXPECT_EQ(dir_result.error->line, 0);
    EXPECT_EQ(dir_result.error->message(), dir + ": not a regular file");

    if (geteuid() != 0) {  // root reads anything
        chmod(path.c_str(), 0);
        auto unreadable = load_config(path);
        ASSERT_TRUE(unreadable.error);
        EXPECT_NE(unreadable.error->message().find("cannot open"), std::string::npos);
    }
    unlink(path.c_str());
    rmdir(dir.c_str());
}

}  // namespace
}  // namespace br::daemon
