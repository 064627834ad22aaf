// SPDX-License-Identifier: MIT
// /etc/blueratchet/main.conf, in the style of BlueZ's main.conf:
//
//   [General]
//   Role = both                 # peripheral | central | both
//   IOCapability = KeyboardDisplay   # as BlueZ's agent capability strings
//   AllowLegacyPairing = false  # PIN/passkey requests answered instead of refused
//   StateDirectory = /var/lib/blueratchet
//   Approval = window           # approval plugin (docs/PLUGINS.md): window, allowlist, confirm
//   PluginDirectory = /usr/lib/<triplet>/blueratchet/plugins   # default: the installed one
//   [Session]
//   Validity = 3600             # seconds, 60..604800
//   OnExpiry = rekey            # rekey | disconnect
//   HandshakeTimeout = 10       # seconds a connection may take to finish the handshake (1..25)
//   [Pairing]
//   WindowSeconds = 120         # default for `blueratchetctl pairing on`
//   ApprovalTimeout = 20        # seconds a first contact may wait for approval (1..25)
//   RefusedFirstContactsPerMinute = 10   # then first contacts are turned away (1..1000)
//   [Adapters]
//   Only = hci0,hci1            # empty: every adapter
//   [Plugins]
//   Load = x509-export,exec     # session hook plugins, called in this order
//   CallTimeout = 10            # seconds a plugin callback may run (1..60)
//   [Plugin:<name>]             # one per plugin: its own keys, checked by the plugin
//   Key = value
//
// An unknown section or key, or a bad value, is an error naming the line.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace br::daemon {

// Which GATT roles this daemon plays (main.conf [General] Role); the
// handshake's own Role (initiator, responder) is br::Role.
// The longest pairing window, wherever one is opened: [Pairing]
// WindowSeconds, --pairing-window, Manager1.SetPairingWindow and
// `blueratchetctl pairing on`.  An hour: a window is for a person standing
// at both devices, not a standing policy (that is the allowlist plugin).
inline constexpr std::uint32_t kMaxPairingWindowSeconds = 3600;

enum class GattRoles { Peripheral, Central, Both };
enum class OnExpiry { Rekey, Disconnect };

struct Config {
    GattRoles role = GattRoles::Both;
    std::string io_capability = "KeyboardDisplay";
    bool allow_legacy_pairing = false;
    std::string state_directory = "/var/lib/blueratchet";
    std::string approval = "window";
    std::uint32_t validity_seconds = 3600;
    OnExpiry on_expiry = OnExpiry::Rekey;
    std::uint32_t handshake_timeout_seconds = 10;
    // The LE L2CAP PSM on which peers open session channels (docs/PROTOCOL.md
    // 8.3): 0x0080..0x00ff, which needs no privilege; 0: no channels.
    std::uint16_t channel_psm = 0x0081;
    std::uint32_t pairing_window_seconds = 120;
    std::uint32_t approval_timeout_seconds = 20;
    // First contacts that ended without a session (refused, timed out,
    // dropped) an adapter tolerates in any 60 s; past it, new first contacts
    // are turned away before any Diffie-Hellman (Abort: Busy).
    std::uint32_t refused_first_contacts_per_minute = 10;
    std::vector<std::string> only_adapters;
    std::string plugin_directory;  // "" = the default (plugins::default_plugin_directory())
    std::vector<std::string> plugins_load;
    std::uint32_t plugin_call_timeout_seconds = 10;
    // [Plugin:<name>] sections, by plugin name; keys in file order.
    struct PluginSetting {
        std::string key;
        std::string value;
        int line = 0;
    };
    std::map<std::string, std::vector<PluginSetting>> plugin_settings;
};

struct ConfigError {
    std::string file;
    int line = 0;  // 0 when the file as a whole is the problem
    std::string reason;
    std::string message() const;  // "main.conf:12: Validity: must be 60..604800"
};

// Parses `path`.  A missing file gives the defaults (a daemon with no
// configuration is fine); an unreadable or invalid one is an error.
struct ConfigResult {
    std::optional<Config> config;
    std::optional<ConfigError> error;
};
ConfigResult load_config(const std::string& path);
ConfigResult parse_config(const std::string& text, const std::string& name = "main.conf");
// Every key the parser knows, as "Section.Key" (the shipped main.conf must
// show each one: a test holds them together).
std::vector<std::string> known_keys();

}  // namespace br::daemon
