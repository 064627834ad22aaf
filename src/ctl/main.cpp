// SPDX-License-Identifier: MIT
// blueratchetctl: the operator's command line for blueratchetd, over the
// org.blueratchet API on the system bus (DBUS_SYSTEM_BUS_ADDRESS is
// honoured).  Exit status: 0 done, 1 error (one line on stderr), 2 usage.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sdbus-c++/sdbus-c++.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/util/peer_id.hpp"
#include "ctl/agent.hpp"
#include "ctl/bus.hpp"
#include "ctl/channel.hpp"
#include "daemon/api/errors.hpp"
#include "daemon/config.hpp"
#include "daemon/shown.hpp"
#include "version.hpp"

namespace br::ctl {
namespace {

using json = nlohmann::ordered_json;
namespace errors = br::daemon::errors;

constexpr const char* kDefaultConfig = "/etc/blueratchet/main.conf";

struct Options {
    bool json = false;
    std::string adapter;
    std::string peer;
    std::string config = kDefaultConfig;
    std::optional<std::uint32_t> seconds;
    std::string what = "certificate";
    std::string format = "pem";
    std::string out;
    std::string service;
    std::vector<std::string> command;
};

// ---- output helpers ----------------------------------------------------

std::string when(std::int64_t unix_time) {
    if (unix_time <= 0) return "never";
    std::time_t t = static_cast<std::time_t>(unix_time);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

std::string duration(std::int64_t seconds) {
    if (seconds <= 0) return "expired";
    if (seconds < 120) return std::to_string(seconds) + "s";
    if (seconds < 7200) return std::to_string(seconds / 60) + "m";
    if (seconds < 172800) return std::to_string(seconds / 3600) + "h";
    return std::to_string(seconds / 86400) + "d";
}

std::int64_t now_unix() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width(header.size());
    for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
    for (const auto& r : rows) {
        for (std::size_t i = 0; i < r.size() && i < width.size(); ++i)
            width[i] = std::max(width[i], r[i].size());
    }
    auto line = [&](const std::vector<std::string>& r) {
        std::string s;
        for (std::size_t i = 0; i < r.size(); ++i) {
            s += r[i];
            if (i + 1 < r.size()) s += std::string(width[i] - r[i].size() + 2, ' ');
        }
        std::cout << s << "\n";
    };
    line(header);
    for (const auto& r : rows) line(r);
}

std::string short_id(const std::string& id) {
    return id.size() > 12 ? id.substr(0, 12) : id;
}
std::string window_text(const AdapterInfo& a) {
    return a.window_open ? "open (" + std::to_string(a.window_remaining) + "s left)" : "closed";
}

json to_json(const AdapterInfo& a) {
    return {{"name", a.name},
            {"path", a.path},
            {"address", a.address},
            {"device_id", a.device_id},
            {"powered", a.powered},
            {"role", a.role},
            {"pairing_window_open", a.window_open},
            {"pairing_window_remaining", a.window_remaining}};
}
json to_json(const PeerInfo& p) {
    return {{"device_id", p.device_id}, {"id_hex", p.id_hex},      {"adapter", p.adapter},
            {"path", p.path},           {"address", p.address},    {"alias", p.alias},
            {"role", p.role},           {"epoch", p.epoch},        {"created", p.created},
            {"last_seen", p.last_seen}, {"connected", p.connected}};
}
json to_json(const SessionInfo& s) {
    return {{"path", s.path},
            {"peer", s.peer_path},
            {"peer_id", s.peer_id},
            {"adapter", s.adapter},
            {"address", s.address},
            {"kind", s.kind},
            {"role", s.role},
            {"epoch", s.epoch},
            {"not_before", s.not_before},
            {"not_after", s.not_after},
            {"fingerprint", s.fingerprint},
            {"short_code", s.short_code},
            {"state", s.state}};
}
json to_json(const ApprovalInfo& a) {
    return {{"adapter", a.adapter},
            {"peer_id", a.peer_id},
            {"address", a.address},
            {"short_code", a.short_code},
            {"expires_in", a.expires_in}};
}

// ---- the bus -----------------------------------------------------------

struct Bus {
    std::unique_ptr<sdbus::IConnection> conn;
    std::unique_ptr<ManagerProxy> manager;

    Bus() {
        try {
            conn = sdbus::createSystemBusConnection();
        } catch (const sdbus::Error& e) {
            throw Failure("cannot connect to the system bus: " + e.getMessage(),
                          exit_status::kNoDaemon);
        }
        manager = std::make_unique<ManagerProxy>(*conn);
    }
    ~Bus() {
        manager.reset();
        conn.reset();
    }
};

// ---- commands ----------------------------------------------------------

int cmd_status(const Options& o) {
    Bus bus;
    auto snap = Snapshot::take(*bus.manager, true);
    snap.version = bus.manager->Version();
    if (o.json) {
        json j{{"running", true}, {"version", snap.version}, {"adapters", json::array()}};
        for (const auto& a : snap.adapters) j["adapters"].push_back(to_json(a));
        j["peers"] = snap.peers.size();
        j["sessions"] = snap.sessions.size();
        j["pending_approvals"] = snap.approvals.size();
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::cout << "blueratchetd " << snap.version << " is running\n";
    if (snap.adapters.empty()) std::cout << "no adapters\n";
    for (const auto& a : snap.adapters) {
        std::cout << a.name << "  " << a.address << "  " << (a.powered ? "powered" : "off")
                  << "  role " << a.role << "  pairing window " << window_text(a) << "\n";
    }
    std::cout << snap.peers.size() << " peer(s), " << snap.sessions.size() << " live session(s), "
              << snap.approvals.size() << " pending approval(s)\n";
    return 0;
}

int cmd_adapters(const Options& o) {
    Bus bus;
    auto snap = Snapshot::take(*bus.manager, false);
    if (o.json) {
        json j = json::array();
        for (const auto& a : snap.adapters) j.push_back(to_json(a));
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& a : snap.adapters) {
        rows.push_back(
            {a.name, a.address, a.powered ? "yes" : "no", a.role, window_text(a), a.device_id});
    }
    print_table({"ADAPTER", "ADDRESS", "POWERED", "ROLE", "PAIRING", "DEVICE-ID"}, rows);
    return 0;
}

// --adapter names an adapter the daemon serves (its form is checked for
// every command before anything runs: valid_adapter_arg).
void require_adapter(const Snapshot& snap, const std::string& adapter) {
    if (adapter.empty()) return;
    for (const auto& a : snap.adapters)
        if (a.name == adapter) return;
    throw Failure("blueratchetd serves no adapter " + daemon::shown(adapter),
                  exit_status::kNotFound);
}

int cmd_peers(const Options& o) {
    Bus bus;
    auto snap = Snapshot::take(*bus.manager, false);
    require_adapter(snap, o.adapter);
    std::vector<const PeerInfo*> peers;
    for (const auto& p : snap.peers) {
        if (o.adapter.empty() || p.adapter == o.adapter) peers.push_back(&p);
    }
    if (o.json) {
        json j = json::array();
        for (const auto* p : peers) j.push_back(to_json(*p));
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto* p : peers) {
        rows.push_back({short_id(p->device_id), p->adapter, p->address.empty() ? "-" : p->address,
                        p->alias.empty() ? "-" : p->alias, p->role, std::to_string(p->epoch),
                        p->connected ? "yes" : "no", when(p->last_seen)});
    }
    print_table({"PEER", "ADAPTER", "ADDRESS", "ALIAS", "ROLE", "EPOCH", "CONNECTED", "LAST-SEEN"},
                rows);
    return 0;
}

int cmd_sessions(const Options& o) {
    Bus bus;
    auto snap = Snapshot::take(*bus.manager, false);
    require_adapter(snap, o.adapter);
    std::vector<const SessionInfo*> sessions;
    for (const auto& s : snap.sessions) {
        if (o.adapter.empty() || s.adapter == o.adapter) sessions.push_back(&s);
    }
    if (o.json) {
        json j = json::array();
        for (const auto* s : sessions) j.push_back(to_json(*s));
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto* s : sessions) {
        rows.push_back({short_id(s->peer_id), s->adapter, s->kind, std::to_string(s->epoch),
                        s->short_code,
                        duration(static_cast<std::int64_t>(s->not_after) - now_unix()),
                        s->fingerprint.substr(0, 16)});
    }
    print_table({"PEER", "ADAPTER", "KIND", "EPOCH", "CODE", "EXPIRES", "FINGERPRINT"}, rows);
    return 0;
}

int cmd_approvals(const Options& o) {
    Bus bus;
    auto snap = Snapshot::take(*bus.manager, true);
    if (o.json) {
        json j = json::array();
        for (const auto& a : snap.approvals) j.push_back(to_json(a));
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& a : snap.approvals) {
        rows.push_back(
            {a.peer_id, a.adapter, a.address, a.short_code, std::to_string(a.expires_in) + "s"});
    }
    print_table({"PEER", "ADAPTER", "ADDRESS", "CODE", "EXPIRES"}, rows);
    return 0;
}

int cmd_show(const Options& o) {
    Bus bus;
    auto snap = Snapshot::take(*bus.manager, false);
    Target t = resolve_peer(snap, o.peer, o.adapter, false);
    const PeerInfo& p = *t.peer;
    const SessionInfo* s = snap.session_of(p);
    if (o.json) {
        json j = to_json(p);
        j["session"] = s ? to_json(*s) : json(nullptr);
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    auto kv = [](const std::string& k, const std::string& v) {
        std::cout << "  " << k << std::string(k.size() < 12 ? 12 - k.size() : 1, ' ') << v << "\n";
    };
    std::cout << "Peer " << p.device_id << "\n";
    kv("Hex", p.id_hex);
    kv("Path", p.path);
    kv("Adapter", p.adapter);
    kv("Address", p.address.empty() ? "-" : p.address);
    kv("Alias", p.alias.empty() ? "-" : p.alias);
    kv("Role", p.role);
    kv("Epoch", std::to_string(p.epoch));
    kv("Created", when(p.created));
    kv("LastSeen", when(p.last_seen));
    kv("Connected", p.connected ? "yes" : "no");
    if (!s) {
        std::cout << "No live session\n";
        return 0;
    }
    std::cout << "Session " << s->path << "\n";
    kv("Kind", s->kind);
    kv("Role", s->role);
    kv("Epoch", std::to_string(s->epoch));
    kv("Address", s->address);
    kv("NotBefore", when(s->not_before));
    kv("NotAfter", when(s->not_after) + " (" +
                       duration(static_cast<std::int64_t>(s->not_after) - now_unix()) + ")");
    kv("Fingerprint", s->fingerprint);
    kv("ShortCode", s->short_code);
    kv("State", s->state);
    return 0;
}

std::uint32_t default_window(const Options& o) {
    auto r = br::daemon::load_config(o.config);
    if (r.error) throw Failure("cannot read the default pairing window: " + r.error->message());
    return r.config->pairing_window_seconds;
}

int cmd_pairing(const Options& o, bool on) {
    std::uint32_t seconds = on ? (o.seconds ? *o.seconds : default_window(o)) : 0;
    if (on && seconds == 0)
        throw Failure("SECONDS must be at least 1 (use `pairing off` to close the window)");
    Bus bus;
    std::vector<std::string> names;
    if (!o.adapter.empty()) {
        names.push_back(o.adapter);
    } else {
        for (const auto& a : Snapshot::take(*bus.manager, false).adapters) names.push_back(a.name);
        if (names.empty()) throw Failure("blueratchetd serves no adapter");
    }
    json j = json::array();
    for (const auto& name : names) {
        bus.manager->SetPairingWindow(name, seconds);
        if (o.json) {
            j.push_back({{"adapter", name}, {"pairing_window_open", on}, {"seconds", seconds}});
        } else if (on) {
            std::cout << name << ": pairing window open for " << seconds << "s\n";
        } else {
            std::cout << name << ": pairing window closed\n";
        }
    }
    if (o.json) std::cout << j.dump(2) << "\n";
    return 0;
}

// What a command that changes one peer prints: a line, or with --json an
// object naming the action, the adapter and the peer.
void report(const Options& o, const std::string& action, const Target& t) {
    if (o.json)
        std::cout
            << json{{"action", action}, {"adapter", t.adapter}, {"peer_id", t.device_id}}.dump(2)
            << "\n";
    else
        std::cout << action << " " << t.device_id << " on " << t.adapter << "\n";
}

int cmd_forget(const Options& o) {
    Bus bus;
    auto snap = Snapshot::take(*bus.manager, false);
    Target t = resolve_peer(snap, o.peer, o.adapter, false);
    bus.manager->ForgetPeer(t.adapter, t.device_id);
    report(o, "forgot", t);
    return 0;
}

// Ends a live session now (Session1.Invalidate): its certificates are void
// and the link is dropped; the peer stays paired and resumes next time.
int cmd_revoke(const Options& o) {
    Bus bus;
    auto snap = Snapshot::take(*bus.manager, false);
    Target t = resolve_peer(snap, o.peer, o.adapter, false);
    const SessionInfo* s = snap.session_of(*t.peer);
    if (!s) throw Failure("peer " + t.device_id + " has no live session", exit_status::kNotFound);
    SessionProxy session(*bus.conn, s->path);
    session.Invalidate();
    report(o, "revoked", t);
    return 0;
}

int cmd_decide(const Options& o, bool approve) {
    Bus bus;
    auto snap = Snapshot::take(*bus.manager, true);
    Target t = resolve_peer(snap, o.peer, o.adapter, true);
    if (approve)
        bus.manager->Approve(t.adapter, t.device_id);
    else
        bus.manager->Reject(t.adapter, t.device_id);
    report(o, approve ? "approved" : "rejected", t);
    return 0;
}

// Writes through a temporary file in the same directory, created 0600 and
// renamed into place, so a key is never readable by others, not even briefly.
void write_file(const std::string& path, const std::vector<std::uint8_t>& data, mode_t mode) {
    std::string dir = ".";
    if (auto slash = path.rfind('/'); slash != std::string::npos)
        dir = slash == 0 ? "/" : path.substr(0, slash);
    std::string tmpl = dir + "/.blueratchetctl-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    int fd = ::mkstemp(buf.data());
    if (fd < 0) throw Failure("cannot write in " + dir + ": " + std::strerror(errno));
    std::string tmp = buf.data();
    auto fail = [&](const char* what) {
        int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        throw Failure(std::string(what) + " " + path + ": " + std::strerror(err));
    };
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("cannot write");
        off += static_cast<std::size_t>(n);
    }
    if (::fchmod(fd, mode) != 0) fail("cannot chmod");
    if (::fsync(fd) != 0) fail("cannot sync");
    if (::close(fd) != 0) {
        ::unlink(tmp.c_str());
        throw Failure("cannot write " + path + ": " + std::strerror(errno));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        throw Failure("cannot write " + path + ": " + std::strerror(err));
    }
}

int cmd_export(const Options& o) {
    if (o.format == "der" && o.out.empty() && ::isatty(STDOUT_FILENO)) {
        throw Failure("refusing to write DER to a terminal; use --out FILE or a pipe");
    }
    Bus bus;
    auto snap = Snapshot::take(*bus.manager, false);
    Target t = resolve_peer(snap, o.peer, o.adapter, false);
    const SessionInfo* s = snap.session_of(*t.peer);
    if (!s) throw Failure("peer " + t.device_id + " has no live session", exit_status::kNotFound);
    SessionProxy session(*bus.conn, s->path);
    auto data = session.Export(o.what, o.format);
    if (o.out.empty() || o.out == "-") {
        std::fwrite(data.data(), 1, data.size(), stdout);
        std::fflush(stdout);
        return 0;
    }
    write_file(o.out, data, o.what == "key" ? 0600 : 0644);
    std::cerr << "wrote " << o.what << " (" << o.format << ", " << data.size() << " bytes) to "
              << o.out << "\n";
    return 0;
}

// A file named on the command line must exist; the default one may be
// absent (the daemon then runs on the defaults, and says so).
int cmd_check_config(const Options& o, bool named) {
    struct stat st {};
    const bool present = ::stat(o.config.c_str(), &st) == 0;
    if (!present && named)
        throw Failure(o.config + ": " + std::strerror(errno), exit_status::kNotFound);
    auto r = br::daemon::load_config(o.config);
    if (r.error) throw Failure(r.error->message());
    const std::string verdict = present ? "OK" : "absent: blueratchetd runs on the defaults";
    if (o.json)
        std::cout << json{{"file", o.config}, {"present", present}, {"valid", true}}.dump(2)
                  << "\n";
    else
        std::cout << o.config << ": " << verdict << "\n";
    return 0;
}

// ---- monitor -----------------------------------------------------------

std::string clock_now() {
    auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
    return buf;
}

std::string variant_text(const sdbus::Variant& v) {
    std::string sig = v.peekValueType();
    try {
        if (sig == "s") return v.get<std::string>();
        if (sig == "o") return v.get<sdbus::ObjectPath>();
        if (sig == "b") return v.get<bool>() ? "true" : "false";
        if (sig == "u") return std::to_string(v.get<uint32_t>());
        if (sig == "x") return std::to_string(v.get<int64_t>());
        if (sig == "ao") {
            std::string out;
            for (const auto& p : v.get<std::vector<sdbus::ObjectPath>>())
                out += (out.empty() ? "" : ",") + p;
            return "[" + out + "]";
        }
    } catch (const sdbus::Error&) {
    }
    return "<" + sig + ">";
}

json variant_json(const sdbus::Variant& v) {
    std::string sig = v.peekValueType();
    try {
        if (sig == "b") return v.get<bool>();
        if (sig == "u") return v.get<uint32_t>();
        if (sig == "x") return v.get<int64_t>();
        if (sig == "ao") {
            json a = json::array();
            for (const auto& p : v.get<std::vector<sdbus::ObjectPath>>())
                a.push_back(std::string(p));
            return a;
        }
    } catch (const sdbus::Error&) {
    }
    return variant_text(v);
}

// SIGINT and SIGTERM as a descriptor the long-running commands poll
// (monitor, agent, channel serve), so they end cleanly.
int stop_signals() {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    int sfd = ::signalfd(-1, &mask, SFD_CLOEXEC);
    if (sfd < 0) throw Failure(std::string("signalfd: ") + std::strerror(errno));
    return sfd;
}

int cmd_agent(const Options& o) {
    int sfd = stop_signals();
    Bus bus;
    const int rc = run_agent(*bus.conn, *bus.manager, o.adapter, sfd);
    ::close(sfd);
    return rc;
}

int cmd_channel_connect(const Options& o) {
    Bus bus;
    auto snap = Snapshot::take(*bus.manager, false);
    Target t = resolve_peer(snap, o.peer, o.adapter, false);
    return run_channel_connect(*bus.manager, t.adapter, t.device_id, o.service);
}

int cmd_channel_serve(const Options& o) {
    int sfd = stop_signals();
    Bus bus;
    const int rc = run_channel_serve(*bus.conn, *bus.manager, o.service, o.command, sfd);
    ::close(sfd);
    return rc;
}

int cmd_monitor(const Options& o) {
    int sfd = stop_signals();

    Bus bus;
    auto emit = [&](const std::string& event, json fields, const std::string& text) {
        if (o.json) {
            json j{{"time", now_unix()}, {"event", event}};
            for (auto& [k, v] : fields.items()) j[k] = v;
            std::cout << j.dump() << "\n";
        } else {
            std::cout << clock_now() << " " << event << " " << text << "\n";
        }
        std::cout.flush();
    };
    auto& m = *bus.manager;
    m.on_minted = [&](const sdbus::ObjectPath& path, const std::string& adapter,
                      const std::string& peer, const std::string& kind, uint32_t epoch,
                      const std::string& fp, const std::string& code) {
        emit("session-minted",
             {{"session", std::string(path)},
              {"adapter", adapter},
              {"peer_id", peer},
              {"kind", kind},
              {"epoch", epoch},
              {"fingerprint", fp},
              {"short_code", code}},
             adapter + " peer=" + peer + " kind=" + kind + " epoch=" + std::to_string(epoch) +
                 " code=" + code + " fingerprint=" + fp.substr(0, 16));
    };
    m.on_invalidated = [&](const sdbus::ObjectPath& path, const std::string& adapter,
                           const std::string& peer, const std::string& reason) {
        emit("session-invalidated",
             {{"session", std::string(path)},
              {"adapter", adapter},
              {"peer_id", peer},
              {"reason", reason}},
             adapter + " peer=" + peer + " reason=" + reason);
    };
    m.on_approval = [&](const std::string& adapter, const std::string& peer,
                        const std::string& address, const std::string& code, uint32_t expires) {
        emit("approval-requested",
             {{"adapter", adapter},
              {"peer_id", peer},
              {"address", address},
              {"short_code", code},
              {"expires_in", expires}},
             adapter + " peer=" + peer + " address=" + address + " code=" + code +
                 " expires=" + std::to_string(expires) + "s (blueratchetctl approve|reject " +
                 peer.substr(0, 8) + ")");
    };
    m.on_bond_refused = [&](const std::string& adapter, const std::string& peer,
                            const std::string& address, const std::string& reason) {
        emit("bond-refused",
             {{"adapter", adapter}, {"peer_id", peer}, {"address", address}, {"reason", reason}},
             adapter + " peer=" + (peer.empty() ? "-" : peer) + " address=" + address +
                 " reason=\"" + reason + "\"");
    };
    m.on_attempt_failed = [&](const std::string& adapter, const std::string& peer,
                              const std::string& address, const std::string& reason,
                              const std::string& error, const std::string& detail) {
        emit("attempt-failed",
             {{"adapter", adapter},
              {"peer_id", peer},
              {"address", address},
              {"reason", reason},
              {"error", error},
              {"detail", detail}},
             adapter + " peer=" + (peer.empty() ? "-" : peer) + " address=" + address + " reason=" +
                 reason + (error.empty() ? "" : " error=" + error) + " detail=\"" + detail + "\"");
    };
    m.on_added = [&](const sdbus::ObjectPath& path,
                     const std::map<std::string, std::map<std::string, sdbus::Variant>>& ifaces) {
        json names = json::array();
        std::string text;
        for (const auto& [name, props] : ifaces) {
            if (name.rfind("org.blueratchet.", 0) != 0) continue;
            names.push_back(name);
            text += (text.empty() ? "" : ",") + name.substr(16);
        }
        emit("added", {{"path", std::string(path)}, {"interfaces", names}},
             std::string(path) + " " + text);
    };
    m.on_removed = [&](const sdbus::ObjectPath& path, const std::vector<std::string>& ifaces) {
        json names = json::array();
        std::string text;
        for (const auto& name : ifaces) {
            if (name.rfind("org.blueratchet.", 0) != 0) continue;
            names.push_back(name);
            text += (text.empty() ? "" : ",") + name.substr(16);
        }
        emit("removed", {{"path", std::string(path)}, {"interfaces", names}},
             std::string(path) + " " + text);
    };
    auto changes = bus.conn->addMatch(
        "type='signal',sender='org.blueratchet',interface='org.freedesktop.DBus.Properties',"
        "member='PropertiesChanged',path_namespace='/org/blueratchet'",
        [&](sdbus::Message& msg) {
            std::string iface;
            std::map<std::string, sdbus::Variant> changed;
            std::vector<std::string> invalidated;
            msg >> iface >> changed >> invalidated;
            json props = json::object();
            std::string text;
            for (const auto& [k, v] : changed) {
                props[k] = variant_json(v);
                text += " " + k + "=" + variant_text(v);
            }
            emit("changed", {{"path", msg.getPath()}, {"properties", props}}, msg.getPath() + text);
        });
    auto owner = bus.conn->addMatch(
        "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='"
        "NameOwnerChanged',"
        "arg0='org.blueratchet'",
        [&](sdbus::Message& msg) {
            std::string name, old_owner, new_owner;
            msg >> name >> old_owner >> new_owner;
            if (new_owner.empty())
                emit("daemon-stopped", json::object(), "blueratchetd left the bus");
            else
                emit("daemon-started", {{"owner", new_owner}},
                     "blueratchetd is on the bus as " + new_owner);
        });
    std::cerr << "blueratchetctl: monitoring org.blueratchet; Ctrl-C to stop\n";

    std::vector<pollfd> fds{{sfd, POLLIN, 0}};
    while (true) {
        wait_on_bus(*bus.conn, fds);
        if (fds[0].revents & POLLIN) break;
    }
    ::close(sfd);
    return 0;
}

// An error line, with every command-line argument it echoes cut to 64 bytes
// (daemon::cut): a net under the messages of CLI11 and of the commands,
// which quote what they were given (issue #10, item 9b).
std::string echo_cut(std::string msg, int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a.size() <= daemon::kShownBytes) continue;
        std::string short_form = daemon::cut(a);
        for (auto at = msg.find(a); at != std::string::npos; at = msg.find(a, at))
            msg.replace(at, a.size(), short_form), at += short_form.size();
    }
    return msg;
}

// Command lines CLI11 would misread, taken care of before it parses:
// - a base64url peer id may start with '-' (one in 64 does): CLI11 would
//   take it for an option, so it becomes the same id in hex;
// - a unique prefix of such an id ("-aCH", "--LNO": the 4+ characters the
//   peer argument takes) has no hex form: unless it names one of our
//   options, it moves behind a "--" at the end, where CLI11 takes it as
//   the positional it is;
// - a word where a command belongs that is no command: CLI11 only says
//   "A subcommand is required", so it is named here.
// Arguments after "--" (channel serve's command) are left alone.
std::optional<std::string> prepare_arguments(std::vector<std::string>& args, const CLI::App& app) {
    const CLI::App* level = &app;
    bool in_command = true;  // still reading command words
    for (auto& a : args) {
        if (a == "--") break;
        if (a.size() == PeerId::kBase64urlLen && a[0] == '-') {
            if (auto id = PeerId::parse(a)) a = id->hex();
        }
        if (!in_command || a.empty() || a[0] == '-') continue;
        if (level->get_subcommands({}).empty()) {
            in_command = false;
            continue;
        }
        const CLI::App* next = nullptr;
        for (const auto* sub : level->get_subcommands({}))
            if (sub->get_name() == a) next = sub;
        if (!next) {
            // A word after a command that takes no subcommand is its
            // argument; at a level that needs one, it is an unknown command.
            if (level->get_require_subcommand_min() == 0) {
                in_command = false;
                continue;
            }
            std::string known;
            for (const auto* sub : level->get_subcommands({}))
                known += (known.empty() ? "" : ", ") + sub->get_name();
            return "unknown command " + daemon::shown(a) + " (" +
                   (level == &app ? std::string("commands") : level->get_name() + " takes") + ": " +
                   known + ")";
        }
        level = next;
    }
    if (std::find(args.begin(), args.end(), "--") != args.end()) return std::nullopt;
    // Every long option of every command ("--adapter", "--json", ...).
    std::set<std::string> long_options;
    std::vector<const CLI::App*> apps{&app};
    for (std::size_t i = 0; i < apps.size(); ++i) {
        for (const auto* opt : apps[i]->get_options())
            for (const auto& name : opt->get_lnames()) long_options.insert("--" + name);
        for (const auto* sub : apps[i]->get_subcommands({})) apps.push_back(sub);
    }
    auto id_prefix = [&](const std::string& a) {
        return a.size() >= 4 && a.size() < PeerId::kBase64urlLen && a[0] == '-' &&
               !long_options.count(a) && std::all_of(a.begin(), a.end(), [](char c) {
                   return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
               });
    };
    std::vector<std::string> moved;
    std::erase_if(args, [&](const std::string& a) {
        if (!id_prefix(a)) return false;
        moved.push_back(a);
        return true;
    });
    if (!moved.empty()) {
        args.push_back("--");
        args.insert(args.end(), moved.begin(), moved.end());
    }
    return std::nullopt;
}

// --adapter's form, the same for every command (as the daemon checks it).
bool valid_adapter_arg(const std::string& a) {
    return !a.empty() && a.size() <= 32 && std::all_of(a.begin(), a.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
}

}  // namespace
}  // namespace br::ctl

int main(int argc, char** argv) {
    using namespace br::ctl;
    Options o;
    CLI::App app{"blueratchetctl - control blueratchetd (org.blueratchet on the system bus)",
                 "blueratchetctl"};
    app.set_version_flag("--version", std::string("blueratchetctl ") + BR_VERSION);
    app.require_subcommand(1);
    app.fallthrough();
    app.footer(
        "Exit status: 0 done; 1 failed (the daemon refused, or the operation failed); 2 usage "
        "(bad arguments, unknown command); 3 not found (peer, adapter, live session or file); "
        "4 permission denied; 5 blueratchetd not running, not enabled or failed to start; 6 no "
        "answer in time.");
    app.add_flag("--json", o.json, "Machine-readable output (JSON)");

    auto peer_arg = [&](CLI::App* sub) {
        sub->add_option(
               "peer", o.peer,
               "Peer: base64url id, hex id, a unique prefix (4+), BLE address or object path")
            ->required();
        sub->add_option("--adapter", o.adapter, "Only this adapter (hci0)");
    };

    auto* status = app.add_subcommand("status", "Daemon, adapters and counts");
    auto* adapters = app.add_subcommand("adapters", "List adapters");
    auto* peers = app.add_subcommand("peers", "List paired peers");
    peers->add_option("--adapter", o.adapter, "Only this adapter");
    auto* sessions = app.add_subcommand("sessions", "List live sessions");
    sessions->add_option("--adapter", o.adapter, "Only this adapter");
    auto* approvals =
        app.add_subcommand("approvals", "List first contacts waiting for approve/reject");
    auto* show = app.add_subcommand("show", "Show a peer and its session");
    peer_arg(show);
    auto* pairing = app.add_subcommand("pairing", "Open or close the pairing window");
    pairing->require_subcommand(1);
    auto* pairing_on = pairing->add_subcommand("on", "Open the pairing window");
    pairing_on
        ->add_option("seconds", o.seconds,
                     "How long (default: [Pairing] WindowSeconds of --config)")
        ->check(CLI::Range(1u, br::daemon::kMaxPairingWindowSeconds));
    pairing_on->add_option("--adapter", o.adapter, "Only this adapter (default: all)");
    pairing_on->add_option("--config", o.config, "main.conf for the default length")
        ->capture_default_str();
    auto* pairing_off = pairing->add_subcommand("off", "Close the pairing window");
    pairing_off->add_option("--adapter", o.adapter, "Only this adapter (default: all)");
    auto* forget = app.add_subcommand("forget", "Forget a peer (its ratchet state is deleted)");
    peer_arg(forget);
    auto* revoke = app.add_subcommand(
        "revoke", "End a peer's live session now (it stays paired and resumes next time)");
    peer_arg(revoke);
    auto* exp = app.add_subcommand("export", "Export a live session's certificate or key");
    peer_arg(exp);
    exp->add_option("--what", o.what, "certificate | peer-certificate | key")
        ->check(CLI::IsMember({"certificate", "peer-certificate", "key"}))
        ->capture_default_str();
    exp->add_option("--format", o.format, "pem | der")
        ->check(CLI::IsMember({"pem", "der"}))
        ->capture_default_str();
    exp->add_option("--out", o.out,
                    "Write to FILE (keys 0600, certificates 0644) instead of stdout");
    auto* approve = app.add_subcommand("approve", "Approve a first contact");
    peer_arg(approve);
    auto* reject = app.add_subcommand("reject", "Reject a first contact");
    peer_arg(reject);
    auto* monitor =
        app.add_subcommand("monitor", "Print events as they happen, one per line, until Ctrl-C");
    auto* agent = app.add_subcommand(
        "agent", "Answer first contacts at this terminal: \"Confirm code 123456 ... (yes/no)\"");
    agent->add_option("--adapter", o.adapter, "Only this adapter (default: all)");
    auto* channel = app.add_subcommand("channel", "Session channels to and from peers");
    channel->require_subcommand(1);
    auto* channel_connect =
        channel->add_subcommand("connect", "Standard input and output to a peer's service");
    peer_arg(channel_connect);
    channel_connect->add_option("service", o.service, "The peer's service")->required();
    auto* channel_serve = channel->add_subcommand(
        "serve", "Run a command for each channel a peer opens to a service");
    channel_serve->add_option("service", o.service, "The service name")->required();
    channel_serve->add_option("command", o.command, "-- and the command, with its arguments")
        ->required();
    auto* check = app.add_subcommand("check-config", "Check a main.conf");
    check->add_option("file", o.config, "The file")->capture_default_str();

    auto usage_error = [&](const std::string& what) {
        std::cerr << "blueratchetctl: " << echo_cut(what, argc, argv) << "\n"
                  << "Try 'blueratchetctl --help'.\n";
        return exit_status::kUsage;
    };
    std::vector<std::string> args(argv + 1, argv + argc);
    if (auto bad = prepare_arguments(args, app)) return usage_error(*bad);
    try {
        std::reverse(args.begin(), args.end());  // CLI11 takes them last first
        app.parse(args);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        return usage_error(e.what());
    }
    if (!o.adapter.empty() && !valid_adapter_arg(o.adapter))
        return usage_error("bad adapter name " + br::daemon::shown(o.adapter) +
                           " (an adapter is named like hci0)");
    // --json is honoured by every command that prints a result; the ones
    // that print data or a conversation refuse it rather than ignore it.
    for (const auto* raw : {exp, agent, channel_connect, channel_serve}) {
        if (o.json && *raw)
            return usage_error(
                "--json is not supported by `" + raw->get_name() + "` (its output is " +
                (raw == exp ? "the certificate or key itself" : "a live stream") + ")");
    }

    try {
        if (*status) return cmd_status(o);
        if (*adapters) return cmd_adapters(o);
        if (*peers) return cmd_peers(o);
        if (*sessions) return cmd_sessions(o);
        if (*approvals) return cmd_approvals(o);
        if (*show) return cmd_show(o);
        if (*pairing_on) return cmd_pairing(o, true);
        if (*pairing_off) return cmd_pairing(o, false);
        if (*forget) return cmd_forget(o);
        if (*revoke) return cmd_revoke(o);
        if (*exp) return cmd_export(o);
        if (*approve) return cmd_decide(o, true);
        if (*reject) return cmd_decide(o, false);
        if (*monitor) return cmd_monitor(o);
        if (*agent) return cmd_agent(o);
        if (*channel_connect) return cmd_channel_connect(o);
        if (*channel_serve) return cmd_channel_serve(o);
        if (*check) return cmd_check_config(o, check->count("file") > 0);
    } catch (const Failure& e) {
        std::cerr << "blueratchetctl: " << echo_cut(e.what(), argc, argv) << "\n";
        return e.status;
    } catch (const sdbus::Error& e) {
        std::cerr << "blueratchetctl: " << echo_cut(describe(e), argc, argv) << "\n";
        return exit_status_of(e);
    } catch (const std::exception& e) {
        std::cerr << "blueratchetctl: " << echo_cut(e.what(), argc, argv) << "\n";
        return exit_status::kFailure;
    }
    std::cerr << "blueratchetctl: no command\n";
    return exit_status::kUsage;
}
