// SPDX-License-Identifier: MIT
#include "ctl/bus.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>

#include "core/util/peer_id.hpp"
#include "daemon/api/errors.hpp"
#include "daemon/shown.hpp"

namespace br::ctl {

namespace errors = br::daemon::errors;

std::string describe(const sdbus::Error& e) {
    const std::string& n = e.getName();
    if (n == "org.freedesktop.DBus.Error.ServiceUnknown" ||
        n == "org.freedesktop.DBus.Error.NameHasNoOwner") {
        return "blueratchetd is not running (nobody owns org.blueratchet on the system bus)";
    }
    // Activation goes through systemd, under the alias that enabling the
    // unit creates (dbus/org.blueratchet.service.in): no alias, not enabled.
    if (n == "org.freedesktop.systemd1.NoSuchUnit") {
        return "blueratchetd is not running and not enabled (systemctl enable --now blueratchet "
               "to use it; while disabled, BlueZ pairs as it does without blueratchet)";
    }
    // Activation tried and the daemon did not come up.
    if (n.rfind("org.freedesktop.DBus.Error.Spawn.", 0) == 0 ||
        n.rfind("org.freedesktop.systemd1.", 0) == 0) {
        return "blueratchetd failed to start (" + e.getMessage() +
               "): check the configuration with `blueratchetctl check-config` and the log with "
               "`journalctl -u blueratchet`";
    }
    if (n == "org.freedesktop.DBus.Error.AccessDenied") {
        return "permission denied by the bus policy: run as root or as a member of group bluetooth";
    }
    if (n == "org.freedesktop.DBus.Error.NoReply" || n == "org.freedesktop.DBus.Error.Timeout" ||
        n == "org.freedesktop.DBus.Error.TimedOut") {
        return "blueratchetd did not answer in time";
    }
    if (n.rfind("org.blueratchet.Error.", 0) == 0) return e.getMessage();
    if (n.rfind("System.Error.", 0) == 0) return "system bus: " + e.getMessage();
    return e.getMessage().empty() ? n : n + ": " + e.getMessage();
}

int exit_status_of(const sdbus::Error& e) {
    const std::string& n = e.getName();
    if (n == "org.freedesktop.DBus.Error.ServiceUnknown" ||
        n == "org.freedesktop.DBus.Error.NameHasNoOwner" ||
        n.rfind("org.freedesktop.DBus.Error.Spawn.", 0) == 0 ||
        n.rfind("org.freedesktop.systemd1.", 0) == 0)
        return exit_status::kNoDaemon;
    if (n == "org.freedesktop.DBus.Error.AccessDenied" || n == errors::kNotPermitted)
        return exit_status::kDenied;
    if (n == "org.freedesktop.DBus.Error.NoReply" || n == "org.freedesktop.DBus.Error.Timeout" ||
        n == "org.freedesktop.DBus.Error.TimedOut")
        return exit_status::kNoAnswer;
    if (n == errors::kNotFound) return exit_status::kNotFound;
    if (n == errors::kInvalidArgument) return exit_status::kUsage;
    return exit_status::kFailure;
}

ManagerProxy::ManagerProxy(sdbus::IConnection& conn)
    : ProxyInterfaces(conn, errors::kBusName, errors::kManagerPath) {
    registerProxy();
}
ManagerProxy::~ManagerProxy() {
    unregisterProxy();
}

void ManagerProxy::onSessionMinted(const sdbus::ObjectPath& session, const std::string& adapter,
                                   const std::string& peer_id, const std::string& kind,
                                   const uint32_t& epoch, const std::string& fingerprint,
                                   const std::string& short_code) {
    if (on_minted) on_minted(session, adapter, peer_id, kind, epoch, fingerprint, short_code);
}
void ManagerProxy::onSessionInvalidated(const sdbus::ObjectPath& session,
                                        const std::string& adapter, const std::string& peer_id,
                                        const std::string& reason) {
    if (on_invalidated) on_invalidated(session, adapter, peer_id, reason);
}
void ManagerProxy::onApprovalRequested(const std::string& adapter, const std::string& peer_id,
                                       const std::string& address, const std::string& short_code,
                                       const uint32_t& expires_in) {
    if (on_approval) on_approval(adapter, peer_id, address, short_code, expires_in);
}
void ManagerProxy::onBondRefused(const std::string& adapter, const std::string& peer_id,
                                 const std::string& address, const std::string& reason) {
    if (on_bond_refused) on_bond_refused(adapter, peer_id, address, reason);
}
void ManagerProxy::onAttemptFailed(const std::string& adapter, const std::string& peer_id,
                                   const std::string& address, const std::string& reason,
                                   const std::string& error, const std::string& detail) {
    if (on_attempt_failed) on_attempt_failed(adapter, peer_id, address, reason, error, detail);
}
void ManagerProxy::onInterfacesAdded(
    const sdbus::ObjectPath& path,
    const std::map<std::string, std::map<std::string, sdbus::Variant>>& ifaces) {
    if (on_added) on_added(path, ifaces);
}
void ManagerProxy::onInterfacesRemoved(const sdbus::ObjectPath& path,
                                       const std::vector<std::string>& ifaces) {
    if (on_removed) on_removed(path, ifaces);
}

SessionProxy::SessionProxy(sdbus::IConnection& conn, const std::string& path)
    : ProxyInterfaces(conn, errors::kBusName, path) {
    registerProxy();
}
SessionProxy::~SessionProxy() {
    unregisterProxy();
}

namespace {

using Props = std::map<std::string, sdbus::Variant>;

template <typename T>
T get(const Props& props, const char* name, T fallback = T{}) {
    auto it = props.find(name);
    if (it == props.end()) return fallback;
    try {
        return it->second.get<T>();
    } catch (const sdbus::Error&) {
        return fallback;  // a newer daemon changed a type: show what we can
    }
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool is_address(const std::string& s) {
    if (s.size() != 17) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i % 3 == 2) {
            if (s[i] != ':') return false;
        } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
            return false;
        }
    }
    return true;
}

}  // namespace

Snapshot Snapshot::take(ManagerProxy& manager, bool with_approvals) {
    Snapshot s;
    auto objects = manager.GetManagedObjects();
    for (const auto& [path, ifaces] : objects) {
        if (auto it = ifaces.find("org.blueratchet.Adapter1"); it != ifaces.end()) {
            const auto& p = it->second;
            AdapterInfo a;
            a.path = path;
            a.name = get<std::string>(p, "Name");
            a.address = get<std::string>(p, "Address");
            a.device_id = get<std::string>(p, "DeviceId");
            a.role = get<std::string>(p, "Role");
            a.powered = get<bool>(p, "Powered");
            a.window_open = get<bool>(p, "PairingWindowOpen");
            a.window_remaining = get<uint32_t>(p, "PairingWindowRemaining");
            s.adapters.push_back(a);
        }
        if (auto it = ifaces.find("org.blueratchet.Peer1"); it != ifaces.end()) {
            const auto& p = it->second;
            PeerInfo x;
            x.path = path;
            std::string adapter_path = get<sdbus::ObjectPath>(p, "Adapter");
            x.adapter = adapter_path.substr(adapter_path.rfind('/') + 1);
            x.device_id = get<std::string>(p, "DeviceId");
            if (auto id = PeerId::from_base64url(x.device_id)) x.id_hex = id->hex();
            x.address = get<std::string>(p, "Address");
            x.alias = get<std::string>(p, "Alias");
            x.role = get<std::string>(p, "Role");
            x.epoch = get<uint32_t>(p, "Epoch");
            x.created = get<int64_t>(p, "Created");
            x.last_seen = get<int64_t>(p, "LastSeen");
            x.connected = get<bool>(p, "Connected");
            s.peers.push_back(x);
        }
        if (auto it = ifaces.find("org.blueratchet.Session1"); it != ifaces.end()) {
            const auto& p = it->second;
            SessionInfo x;
            x.path = path;
            x.peer_path = get<sdbus::ObjectPath>(p, "Peer");
            x.adapter = get<std::string>(p, "Adapter");
            x.address = get<std::string>(p, "Address");
            x.fingerprint = get<std::string>(p, "Fingerprint");
            x.short_code = get<std::string>(p, "ShortCode");
            x.state = get<std::string>(p, "State");
            x.kind = get<std::string>(p, "Kind");
            x.role = get<std::string>(p, "Role");
            x.epoch = get<uint32_t>(p, "Epoch");
            x.not_before = get<uint32_t>(p, "NotBefore");
            x.not_after = get<uint32_t>(p, "NotAfter");
            s.sessions.push_back(x);
        }
    }
    for (auto& x : s.sessions) {
        if (const auto* p = s.peer_at(x.peer_path)) {
            x.peer_id = p->device_id;
        } else {
            // The path ends in peer_<hex>.
            auto slash = x.peer_path.rfind("/peer_");
            if (slash != std::string::npos) {
                if (auto id = PeerId::from_hex(x.peer_path.substr(slash + 6)))
                    x.peer_id = id->base64url();
            }
        }
    }
    if (with_approvals) {
        for (const auto& a : manager.ListPendingApprovals()) {
            s.approvals.push_back({a.get<0>(), a.get<1>(), a.get<2>(), a.get<3>(), a.get<4>()});
        }
    }
    return s;
}

const PeerInfo* Snapshot::peer_at(const std::string& path) const {
    for (const auto& p : peers) {
        if (p.path == path) return &p;
    }
    return nullptr;
}

const SessionInfo* Snapshot::session_of(const PeerInfo& p) const {
    for (const auto& s : sessions) {
        if (s.peer_path == p.path) return &s;
    }
    return nullptr;
}

Target resolve_peer(const Snapshot& snap, const std::string& arg, const std::string& adapter,
                    bool approvals_too) {
    if (arg.empty()) throw Failure("empty peer argument", exit_status::kUsage);
    struct Candidate {
        Target t;
        std::string label;
    };
    std::vector<Candidate> found;
    auto add = [&](Target t) {
        for (const auto& c : found) {
            if (c.t.adapter == t.adapter && c.t.device_id == t.device_id) return;
        }
        std::string label = t.device_id + " on " + t.adapter;
        found.push_back({t, label});
    };
    auto wanted_adapter = [&](const std::string& a) { return adapter.empty() || a == adapter; };

    // 1. An object path (a peer's, or a session's below it).
    if (arg.rfind("/org/blueratchet/", 0) == 0) {
        std::string path = arg;
        if (path.size() > 8 && path.compare(path.size() - 8, 8, "/session") == 0)
            path.resize(path.size() - 8);
        if (const auto* p = snap.peer_at(path)) return Target{p->adapter, p->device_id, p, nullptr};
        throw Failure("no peer at " + daemon::shown(arg), exit_status::kNotFound);
    }

    // 2. A BLE address.
    if (is_address(arg)) {
        for (const auto& p : snap.peers) {
            if (wanted_adapter(p.adapter) && lower(p.address) == lower(arg))
                add({p.adapter, p.device_id, &p, nullptr});
        }
        if (approvals_too) {
            for (const auto& a : snap.approvals) {
                if (wanted_adapter(a.adapter) && lower(a.address) == lower(arg))
                    add({a.adapter, a.peer_id, nullptr, &a});
            }
        }
    } else {
        // 3. A full id, or a prefix of the base64url or hex form.
        std::optional<std::string> full;
        if (auto id = PeerId::parse(arg)) full = id->base64url();
        if (!full && arg.size() < 4)
            throw Failure("peer " + daemon::shown(arg) + ": give at least 4 characters of its id",
                          exit_status::kUsage);
        auto matches = [&](const std::string& b64) {
            if (full) return b64 == *full;
            if (b64.rfind(arg, 0) == 0) return true;
            auto id = PeerId::from_base64url(b64);
            auto hex = id ? std::optional<std::string>(id->hex()) : std::nullopt;
            return hex && hex->rfind(lower(arg), 0) == 0 &&
                   std::all_of(arg.begin(), arg.end(),
                               [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
        };
        for (const auto& p : snap.peers) {
            if (wanted_adapter(p.adapter) && matches(p.device_id))
                add({p.adapter, p.device_id, &p, nullptr});
        }
        if (approvals_too) {
            for (const auto& a : snap.approvals) {
                if (wanted_adapter(a.adapter) && matches(a.peer_id))
                    add({a.adapter, a.peer_id, nullptr, &a});
            }
        }
    }
    // A peer found both as a paired peer and in an approval: prefer the approval when asked.
    if (approvals_too) {
        for (auto& c : found) {
            for (const auto& a : snap.approvals) {
                if (a.adapter == c.t.adapter && a.peer_id == c.t.device_id) c.t.approval = &a;
            }
        }
    }
    if (found.empty()) {
        throw Failure("no peer matches " + daemon::shown(arg) +
                          (adapter.empty() ? "" : " on " + daemon::shown(adapter)),
                      exit_status::kNotFound);
    }
    if (found.size() > 1) {
        std::string list;
        for (std::size_t i = 0; i < found.size() && i < 5; ++i)
            list += (i ? ", " : "") + found[i].label;
        if (found.size() > 5) list += ", ...";
        throw Failure("peer " + daemon::shown(arg) + " is ambiguous (" +
                          std::to_string(found.size()) + " matches: " + list +
                          "); give more of its id or --adapter",
                      exit_status::kUsage);
    }
    return found.front().t;
}

}  // namespace br::ctl

namespace br::ctl {

void wait_on_bus(sdbus::IConnection& conn, std::vector<pollfd>& fds) {
    while (conn.processPendingRequest()) {
    }
    auto pd = conn.getEventLoopPollData();
    int timeout = -1;
    if (pd.timeout_usec != UINT64_MAX) {
        auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
        auto left = static_cast<std::int64_t>(pd.timeout_usec) - now;
        timeout = left <= 0 ? 0 : static_cast<int>(std::min<std::int64_t>(left / 1000 + 1, 60000));
    }
    std::vector<pollfd> all{{pd.fd, static_cast<short>(pd.events), 0}};
    for (auto& f : fds) f.revents = 0;
    all.insert(all.end(), fds.begin(), fds.end());
    const int n = ::poll(all.data(), all.size(), timeout);
    if (n < 0 && errno != EINTR) throw Failure(std::string("poll: ") + std::strerror(errno));
    if (all[0].revents & (POLLHUP | POLLERR)) throw Failure("lost the system bus");
    for (std::size_t i = 0; i < fds.size(); ++i) fds[i].revents = all[i + 1].revents;
}

}  // namespace br::ctl
