// SPDX-License-Identifier: MIT
// main.conf: the plugin keys ([General] PluginDirectory, [Plugins], [Plugin:<name>]).
#include <gtest/gtest.h>

#include <string>

#include "daemon/config.hpp"

namespace br::daemon {
namespace {

Config parse_ok(const std::string& text) {
    auto r = parse_config(text);
    EXPECT_FALSE(r.error.has_value()) << (r.error ? r.error->message() : "");
    return r.config.value_or(Config{});
}

ConfigError parse_bad(const std::string& text) {
    auto r = parse_config(text);
    EXPECT_FALSE(r.config.has_value()) << "accepted:\n" << text;
    return r.error.value_or(ConfigError{});
}

TEST(PluginConfig, Defaults) {
    Config c = parse_ok("");
    EXPECT_EQ(c.approval, "window");
    EXPECT_EQ(c.plugin_directory, "");
    EXPECT_TRUE(c.plugins_load.empty());
    EXPECT_EQ(c.plugin_call_timeout_seconds, 10u);
    EXPECT_TRUE(c.plugin_settings.empty());
}

TEST(PluginConfig, SwitchingTheApprovalPolicyIsOneLine) {
    EXPECT_EQ(parse_ok("[General]\nApproval = confirm\n").approval, "confirm");
    EXPECT_EQ(parse_ok("[General]\nApproval = allowlist\n").approval, "allowlist");
}

TEST(PluginConfig, EveryKey) {
    Config c = parse_ok(
        "[General]\n"
        "Approval = allowlist\n"
        "PluginDirectory = /opt/br/plugins\n"
        "[Plugins]\n"
        "Load = x509-export, exec\n"
        "CallTimeout = 30\n"
        "[Plugin:allowlist]\n"
        "File = /etc/blueratchet/allowlist\n"
        "[Plugin:exec]\n"
        "Program = /usr/local/bin/on-session\n"
        "Timeout = 5\n"
        "Arguments = --flag=1 $(x);x|y  ; a comment\n"
        "[Plugin:x509-export]\n"
        "Directory = /run/blueratchet/sessions\n");
    EXPECT_EQ(c.approval, "allowlist");
    EXPECT_EQ(c.plugin_directory, "/opt/br/plugins");
    EXPECT_EQ(c.plugins_load, (std::vector<std::string>{"x509-export", "exec"}));
    EXPECT_EQ(c.plugin_call_timeout_seconds, 30u);
    ASSERT_EQ(c.plugin_settings.size(), 3u);
    const auto& exec = c.plugin_settings.at("exec");
    ASSERT_EQ(exec.size(), 3u);
    EXPECT_EQ(exec[0].key, "Program");
    EXPECT_EQ(exec[0].value, "/usr/local/bin/on-session");
    EXPECT_EQ(exec[0].line, 10);
    EXPECT_EQ(exec[1].key, "Timeout");
    EXPECT_EQ(exec[2].value, "--flag=1 $(x);x|y");  // " ;" starts a comment
    EXPECT_EQ(c.plugin_settings.at("allowlist")[0].value, "/etc/blueratchet/allowlist");
}

TEST(PluginConfig, EmptyPluginSectionAndEmptyLoad) {
    Config c = parse_ok("[Plugins]\nLoad =\n[Plugin:confirm]\n");
    EXPECT_TRUE(c.plugins_load.empty());
    EXPECT_TRUE(c.plugin_settings.empty());
}

struct BadCase {
    const char* text;
    int line;
    const char* reason_contains;
};

class PluginConfigRefuses : public ::testing::TestWithParam<BadCase> {};

TEST_P(PluginConfigRefuses, NamesLineAndReason) {
    const auto& c = GetParam();
    ConfigError e = parse_bad(c.text);
    EXPECT_EQ(e.line, c.line) << e.message();
    EXPECT_NE(e.reason.find(c.reason_contains), std::string::npos) << e.message();
    EXPECT_EQ(e.message().rfind("main.conf:" + std::to_string(c.line) + ": ", 0), 0u)
        << e.message();
}

INSTANTIATE_TEST_SUITE_P(
    Values, PluginConfigRefuses,
    ::testing::Values(BadCase{"[General]\nPluginDirectory = plugins\n", 2,
                              "PluginDirectory: must be an absolute path"},
                      BadCase{"[General]\nPluginDirectory = /a/../b\n", 2, "must not contain .."},
                      BadCase{"[Plugins]\nLoad = exec,Exec\n", 2, "\"Exec\" is not one"},
                      BadCase{"[Plugins]\nLoad = exec,exec\n", 2, "exec is listed twice"},
                      BadCase{"[Plugins]\nLoad = exec,\n", 2, "Load:"},
                      BadCase{"[Plugins]\nLoad = ../evil\n", 2, "\"../evil\" is not one"},
                      BadCase{"[Plugins]\nCallTimeout = 0\n", 2, "CallTimeout: must be 1..60"},
                      BadCase{"[Plugins]\nCallTimeout = 61\n", 2, "CallTimeout: must be 1..60"},
                      BadCase{"[Plugins]\nFile = x\n", 2, "unknown key File in [Plugins]"},
                      BadCase{"[Plugin:]\n", 1, "unknown section [Plugin:]"},
                      BadCase{"[General]\n[Plugin:../x]\n", 2, "is not a plugin name"},
                      BadCase{"[Plugin:Exec]\nProgram = /bin/true\n", 1, "is not a plugin name"},
                      BadCase{"[Plugin:exec]\nProgram = /bin/true\nProgram = /bin/false\n", 3,
                              "Program: set twice (first on line 2)"},
                      BadCase{"[Plugin:exec]\n1st = x\n", 2, "is not a key name"},
                      BadCase{"[Plugins]\nload = exec\n", 2, "did you mean Load?"},
                      BadCase{"[Bogus]\n", 1, "[Plugins], [Plugin:<name>]"}));

}  // namespace
}  // namespace br::daemon
