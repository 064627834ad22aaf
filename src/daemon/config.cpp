// SPDX-License-Identifier: MIT
// /etc/blueratchet/main.conf parser (schema and defaults in config.hpp).
//
// inih does the tokenizing.  Debian's libinih is built without
// INI_HANDLER_LINENO, so the handler cannot see line numbers; we feed inih
// through ini_parse_stream() with our own line reader instead, which knows the
// line inih is working on whenever it calls the handler (inih reads one line,
// then handles it).  The same reader sees section headers, which inih does not
// report for empty sections.
#include "daemon/config.hpp"

#include <ini.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <sstream>
#include <string_view>
#include <utility>
#include <variant>

namespace br::daemon {

std::string ConfigError::message() const {
    if (line > 0) return file + ":" + std::to_string(line) + ": " + reason;
    return file + ": " + reason;
}

namespace {

// inih's line buffer (INI_MAX_LINE, 200 in Debian's build) includes "\r\n\0".
constexpr std::size_t kMaxLine = 196;

struct Key {
    const char* section;
    const char* name;
};

constexpr Key kKeys[] = {
    {"General", "Role"},
    {"General", "IOCapability"},
    {"General", "AllowLegacyPairing"},
    {"General", "StateDirectory"},
    {"General", "Approval"},
    {"General", "PluginDirectory"},
    {"Session", "Validity"},
    {"Session", "OnExpiry"},
    {"Session", "HandshakeTimeout"},
    {"Session", "ChannelPSM"},
    {"Pairing", "WindowSeconds"},
    {"Pairing", "ApprovalTimeout"},
    {"Pairing", "RefusedFirstContactsPerMinute"},
    {"Adapters", "Only"},
    {"Plugins", "Load"},
    {"Plugins", "CallTimeout"},
};

constexpr const char* kSections[] = {"General", "Session", "Pairing", "Adapters", "Plugins"};

// "[Plugin:<name>]": a plugin's own section; its keys are the plugin's business.
constexpr std::string_view kPluginPrefix = "Plugin:";

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string trim(std::string_view s) {
    const auto* ws = " \t\r\n";
    auto b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) return {};
    auto e = s.find_last_not_of(ws);
    return std::string(s.substr(b, e - b + 1));
}

// "both   # comment" -> "both".  A '#' only starts a comment after blanks, so
// values may contain '#' themselves (inih handles ';' the same way).
std::string strip_inline_comment(const std::string& v) {
    for (std::size_t i = 1; i < v.size(); ++i) {
        if (v[i] == '#' && (v[i - 1] == ' ' || v[i - 1] == '\t')) return trim(v.substr(0, i));
    }
    return v;
}

std::optional<std::uint32_t> parse_uint(const std::string& v) {
    if (v.empty() || v.size() > 10) return std::nullopt;
    std::uint64_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (n > UINT32_MAX) return std::nullopt;
    return static_cast<std::uint32_t>(n);
}

// Hex as BlueZ writes PSMs ("0x0081"), or decimal.
std::optional<std::uint32_t> parse_psm(const std::string& v) {
    if (v.size() < 3 || v[0] != '0' || (v[1] != 'x' && v[1] != 'X')) return parse_uint(v);
    if (v.size() > 6) return std::nullopt;
    std::uint32_t n = 0;
    for (std::size_t i = 2; i < v.size(); ++i) {
        char c = static_cast<char>(std::tolower(static_cast<unsigned char>(v[i])));
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return std::nullopt;
        n = n * 16 + static_cast<std::uint32_t>(d);
    }
    return n;
}

bool valid_plugin_name(std::string_view s) {
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

bool valid_plugin_key(std::string_view s) {
    return !s.empty() && s.size() <= 64 && std::isalpha(static_cast<unsigned char>(s[0])) &&
           std::all_of(s.begin(), s.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

bool is_plugin_section(std::string_view s) {
    return s.size() > kPluginPrefix.size() && s.substr(0, kPluginPrefix.size()) == kPluginPrefix;
}

bool valid_adapter_name(std::string_view s) {
    if (s.size() < 4 || s.size() > 8 || s.compare(0, 3, "hci") != 0) return false;
    return std::all_of(s.begin() + 3, s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A comma-separated list of names ("" is the empty list): each trimmed,
// each passing `valid`, none twice, no trailing comma.  The error is the
// reason for the line's message; `what` describes one valid list.
std::variant<std::vector<std::string>, std::string> parse_name_list(const std::string& value,
                                                                    bool (*valid)(std::string_view),
                                                                    const std::string& what) {
    std::vector<std::string> names;
    if (value.empty()) return names;
    std::stringstream ss(value);
    std::string item;
    while (std::getline(ss, item, ',')) {
        item = trim(item);
        if (!valid(item)) return "must be " + what + "; \"" + item + "\" is not one";
        if (std::find(names.begin(), names.end(), item) != names.end())
            return item + " is listed twice";
        names.push_back(item);
    }
    if (value.back() == ',') return std::string("trailing comma");
    return names;
}

struct Parser {
    Config config;
    std::string name;

    // The reader's view of the text.
    std::string_view text;
    std::size_t pos = 0;
    int next_line = 1;     // line number of the next chunk handed to inih
    int current_line = 0;  // line number of the chunk inih is handling
    std::string raw;       // that chunk, as read
    std::string section;   // section of the current line, as our reader saw it

    std::map<std::string, int> seen;   // "Section.Key" -> line
    std::optional<ConfigError> error;  // the first (lowest-line) error

    void fail(int line, std::string reason) {
        if (!error || line < error->line) error = ConfigError{name, line, std::move(reason)};
    }

    // Called for every line inih reads; checks section headers itself.
    void saw_line(const std::string& line_text) {
        std::string t = trim(line_text);
        if (t.empty() || t[0] != '[') return;
        auto close = t.find(']');
        if (close == std::string::npos) return;  // inih reports the syntax error
        section = trim(std::string_view(t).substr(1, close - 1));
        bool known = std::any_of(std::begin(kSections), std::end(kSections),
                                 [&](const char* s) { return section == s; });
        if (is_plugin_section(section)) {
            std::string_view plugin = std::string_view(section).substr(kPluginPrefix.size());
            if (!valid_plugin_name(plugin)) {
                fail(current_line, "[" + section + "]: \"" + std::string(plugin) +
                                       "\" is not a plugin name ([a-z0-9_-]+)");
            }
            return;
        }
        if (!known) {
            std::string reason = "unknown section [" + section + "]";
            for (const char* s : kSections) {
                if (iequals(section, s)) reason += " (did you mean [" + std::string(s) + "]?)";
            }
            reason +=
                "; known sections: [General], [Session], [Pairing], [Adapters], [Plugins], "
                "[Plugin:<name>]";
            fail(current_line, reason);
        }
    }

    // inih treats an indented line after a key as more of that key's value
    // (configparser style).  Such a line does not start with "key =" itself.
    bool is_continuation(const std::string& key) const {
        if (raw.empty() || (raw[0] != ' ' && raw[0] != '\t')) return false;
        std::string t = trim(raw);
        if (t.compare(0, key.size(), key) != 0) return true;
        std::string rest = trim(std::string_view(t).substr(key.size()));
        return rest.empty() || (rest[0] != '=' && rest[0] != ':');
    }

    int handle(const char* sect, const char* key_c, const char* value_c) {
        const int line = current_line;
        const std::string sec = sect;
        const std::string key = key_c;
        const std::string value = strip_inline_comment(value_c ? trim(value_c) : std::string());

        if (is_continuation(key)) {
            fail(line, "indented line continues the value of " + key +
                           "; continuation lines are not supported (remove the indentation)");
            return 0;
        }
        if (sec.empty()) {
            fail(line, key +
                           ": key outside any section (put it under [General], [Session], "
                           "[Pairing] or [Adapters])");
            return 0;
        }
        if (is_plugin_section(sec)) return plugin_key(line, sec, key, value);
        bool section_known = std::any_of(std::begin(kSections), std::end(kSections),
                                         [&](const char* s) { return sec == s; });
        if (!section_known) return 0;  // already reported at the header line

        const Key* found = nullptr;
        for (const auto& k : kKeys) {
            if (sec == k.section && key == k.name) found = &k;
        }
        if (!found) {
            std::string reason = "unknown key " + key + " in [" + sec + "]";
            for (const auto& k : kKeys) {
                if (iequals(key, k.name)) {
                    reason += std::string(" (did you mean ") + k.name +
                              (sec == k.section ? "" : std::string(" in [") + k.section + "]") +
                              "?)";
                    break;
                }
            }
            fail(line, reason);
            return 0;
        }
        const std::string id = sec + "." + key;
        if (auto it = seen.find(id); it != seen.end()) {
            fail(line, key + ": set twice (first on line " + std::to_string(it->second) + ")");
            return 0;
        }
        seen.emplace(id, line);

        auto bad = [&](const std::string& why) {
            fail(line, key + ": " + why + " (got \"" + value + "\")");
            return 0;
        };
        auto ranged = [&](std::uint32_t lo, std::uint32_t hi, std::uint32_t& out) {
            auto n = parse_uint(value);
            if (!n || *n < lo || *n > hi) {
                return bad("must be " + std::to_string(lo) + ".." + std::to_string(hi));
            }
            out = *n;
            return 1;
        };

        if (id == "General.Role") {
            if (iequals(value, "peripheral"))
                config.role = GattRoles::Peripheral;
            else if (iequals(value, "central"))
                config.role = GattRoles::Central;
            else if (iequals(value, "both"))
                config.role = GattRoles::Both;
            else
                return bad("must be peripheral, central or both");
        } else if (id == "General.IOCapability") {
            static const char* caps[] = {"DisplayOnly", "DisplayYesNo", "KeyboardOnly",
                                         "NoInputNoOutput", "KeyboardDisplay"};
            auto it = std::find_if(std::begin(caps), std::end(caps),
                                   [&](const char* c) { return iequals(value, c); });
            if (it == std::end(caps)) {
                return bad(
                    "must be DisplayOnly, DisplayYesNo, KeyboardOnly, NoInputNoOutput or "
                    "KeyboardDisplay");
            }
            config.io_capability = *it;  // BlueZ wants the exact spelling
        } else if (id == "General.AllowLegacyPairing") {
            if (iequals(value, "true"))
                config.allow_legacy_pairing = true;
            else if (iequals(value, "false"))
                config.allow_legacy_pairing = false;
            else
                return bad("must be true or false");
        } else if (id == "General.StateDirectory") {
            if (value.empty() || value[0] != '/') return bad("must be an absolute path");
            if (value.find("/../") != std::string::npos || value.ends_with("/..")) {
                return bad("must not contain ..");
            }
            config.state_directory = value;
        } else if (id == "General.Approval") {
            // Which plugins exist is the daemon's business (issue 5); the
            // parser only insists on a plausible name.
            bool ok =
                !value.empty() && value.size() <= 64 &&
                std::all_of(value.begin(), value.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
                });
            if (!ok) return bad("must be an approval plugin name ([a-z0-9_-]+), e.g. window");
            config.approval = value;
        } else if (id == "Session.Validity") {
            return ranged(60, 604800, config.validity_seconds);
        } else if (id == "Session.OnExpiry") {
            if (iequals(value, "rekey"))
                config.on_expiry = OnExpiry::Rekey;
            else if (iequals(value, "disconnect"))
                config.on_expiry = OnExpiry::Disconnect;
            else
                return bad("must be rekey or disconnect");
        } else if (id == "Session.HandshakeTimeout") {
            return ranged(1, 25, config.handshake_timeout_seconds);
        } else if (id == "Session.ChannelPSM") {
            auto n = parse_psm(value);
            if (!n || (*n != 0 && (*n < 0x80 || *n > 0xff)))
                return bad("must be 0x0080..0x00ff (LE dynamic PSMs), or 0 for no channels");
            config.channel_psm = static_cast<std::uint16_t>(*n);
            return 1;
        } else if (id == "Pairing.WindowSeconds") {
            return ranged(1, kMaxPairingWindowSeconds, config.pairing_window_seconds);
        } else if (id == "Pairing.ApprovalTimeout") {
            return ranged(1, 25, config.approval_timeout_seconds);
        } else if (id == "Pairing.RefusedFirstContactsPerMinute") {
            return ranged(1, 1000, config.refused_first_contacts_per_minute);
        } else if (id == "Adapters.Only") {
            auto names = parse_name_list(value, valid_adapter_name,
                                         "a comma-separated list of adapter names (hci0,hci1)");
            if (auto* why = std::get_if<std::string>(&names)) return bad(*why);
            config.only_adapters = std::move(std::get<std::vector<std::string>>(names));
        } else if (id == "General.PluginDirectory") {
            if (value.empty() || value[0] != '/') return bad("must be an absolute path");
            if (value.find("/../") != std::string::npos || value.ends_with("/..")) {
                return bad("must not contain ..");
            }
            config.plugin_directory = value;
        } else if (id == "Plugins.Load") {
            auto names = parse_name_list(value, valid_plugin_name,
                                         "a comma-separated list of plugin names ([a-z0-9_-]+)");
            if (auto* why = std::get_if<std::string>(&names)) return bad(*why);
            config.plugins_load = std::move(std::get<std::vector<std::string>>(names));
        } else if (id == "Plugins.CallTimeout") {
            return ranged(1, 60, config.plugin_call_timeout_seconds);
        }
        return 1;
    }

    // A key of a [Plugin:<name>] section: the plugin checks the value when it
    // loads; here only the shape of the key and repetitions.
    int plugin_key(int line, const std::string& sec, const std::string& key,
                   const std::string& value) {
        std::string plugin = sec.substr(kPluginPrefix.size());
        if (!valid_plugin_name(plugin)) return 0;  // already reported at the header line
        if (!valid_plugin_key(key)) {
            fail(line, "[" + sec + "]: \"" + key + "\" is not a key name (letters and digits)");
            return 0;
        }
        const std::string id = sec + "." + key;
        if (auto it = seen.find(id); it != seen.end()) {
            fail(line, key + ": set twice (first on line " + std::to_string(it->second) + ")");
            return 0;
        }
        seen.emplace(id, line);
        config.plugin_settings[plugin].push_back(Config::PluginSetting{key, value, line});
        return 1;
    }

    // fgets() semantics: up to num-1 bytes, stopping after '\n'.
    char* read(char* buf, int num) {
        if (pos >= text.size() || num < 2) return nullptr;
        std::size_t max = static_cast<std::size_t>(num - 1);
        std::size_t end = text.find('\n', pos);
        std::size_t len = (end == std::string_view::npos ? text.size() : end + 1) - pos;
        len = std::min(len, max);
        std::memcpy(buf, text.data() + pos, len);
        buf[len] = '\0';
        pos += len;
        current_line = next_line;
        if (len > 0 && buf[len - 1] == '\n') ++next_line;
        raw.assign(buf, len);
        saw_line(raw);
        return buf;
    }
};

char* reader_thunk(char* buf, int num, void* stream) {
    return static_cast<Parser*>(stream)->read(buf, num);
}

int handler_thunk(void* user, const char* section, const char* name, const char* value) {
    auto* p = static_cast<Parser*>(user);
    try {
        return p->handle(section, name, value);
    } catch (const std::exception& e) {  // bad_alloc; never let it cross C code
        p->fail(p->current_line, std::string("internal error: ") + e.what());
        return 0;
    }
}

}  // namespace

ConfigResult parse_config(const std::string& text, const std::string& name) {
    Parser p;
    p.name = name;
    p.text = text;

    // Lines inih would split (and then misparse) are refused up front.
    {
        int line = 1;
        std::size_t start = 0;
        while (start <= text.size()) {
            std::size_t end = text.find('\n', start);
            std::size_t len = (end == std::string::npos ? text.size() : end) - start;
            if (len > kMaxLine) {
                return {std::nullopt,
                        ConfigError{name, line,
                                    "line too long (" + std::to_string(len) +
                                        " characters, at most " + std::to_string(kMaxLine) + ")"}};
            }
            if (text.find('\0', start) < start + len) {
                return {std::nullopt, ConfigError{name, line, "NUL byte in the file"}};
            }
            if (end == std::string::npos) break;
            start = end + 1;
            ++line;
        }
    }

    int rc = ini_parse_stream(reader_thunk, &p, handler_thunk, &p);
    if (rc == -1 || rc == -2) {
        return {std::nullopt, ConfigError{name, 0, "out of memory while parsing"}};
    }
    if (rc > 0 && (!p.error || rc < p.error->line)) {
        // inih's own complaint: a line that is neither "[section]" nor "key = value".
        p.fail(rc, "syntax error: expected \"[Section]\" or \"Key = value\"");
    }
    if (p.error) return {std::nullopt, p.error};
    return {std::move(p.config), std::nullopt};
}

ConfigResult load_config(const std::string& path) {
    auto failure = [&](const char* what, int err) {
        return ConfigResult{std::nullopt,
                            ConfigError{path, 0, std::string(what) + ": " + std::strerror(err)}};
    };
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT) return {Config{}, std::nullopt};  // no file: the defaults
        return failure("cannot open", errno);
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        return failure("cannot stat", err);
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        return {std::nullopt, ConfigError{path, 0, "not a regular file"}};
    }
    std::string text;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            return failure("cannot read", err);
        }
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > 1024 * 1024) {
            ::close(fd);
            return {std::nullopt, ConfigError{path, 0, "larger than 1 MiB"}};
        }
    }
    ::close(fd);
    return parse_config(text, path);
}

std::vector<std::string> known_keys() {
    std::vector<std::string> keys;
    for (const auto& k : kKeys) keys.push_back(std::string(k.section) + "." + k.name);
    return keys;
}

}  // namespace br::daemon
