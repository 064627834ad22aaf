// SPDX-License-Identifier: MIT
// blueratchetctl's view of org.blueratchet: one GetManagedObjects snapshot,
// the proxies generated from dbus/*.xml, and how user arguments name peers.
#pragma once

#include <poll.h>
#include <sdbus-c++/sdbus-c++.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "org.blueratchet.Manager1_proxy.h"
#include "org.blueratchet.Session1_proxy.h"

namespace br::ctl {

// blueratchetctl's exit statuses, one per thing a script may want to tell
// apart (as systemctl and nmcli do); blueratchetctl(1), "EXIT STATUS".
namespace exit_status {
inline constexpr int kOk = 0;
inline constexpr int kFailure = 1;   // the daemon refused, or the operation failed
inline constexpr int kUsage = 2;     // bad arguments, unknown command
inline constexpr int kNotFound = 3;  // no such peer, adapter, session or file
inline constexpr int kDenied = 4;    // the bus policy (or the daemon) said no to this user
inline constexpr int kNoDaemon = 5;  // blueratchetd not running, not enabled, or failed to start
inline constexpr int kNoAnswer = 6;  // blueratchetd did not answer in time
}  // namespace exit_status

// An error for the user: printed as "blueratchetctl: <message>", exit
// `status`.
struct Failure : std::runtime_error {
    explicit Failure(const std::string& what, int status = exit_status::kFailure)
        : std::runtime_error(what), status(status) {}
    int status;
};

// One clear line for a D-Bus error, and the exit status it means.
std::string describe(const sdbus::Error& e);
int exit_status_of(const sdbus::Error& e);

struct AdapterInfo {
    std::string path, name, address, device_id, role;
    bool powered = false, window_open = false;
    std::uint32_t window_remaining = 0;
};
struct PeerInfo {
    std::string path, adapter, device_id, id_hex, address, alias, role;
    std::uint32_t epoch = 0;
    std::int64_t created = 0, last_seen = 0;
    bool connected = false;
};
struct SessionInfo {
    std::string path, peer_path, adapter, address, fingerprint, short_code, state, kind, role;
    std::uint32_t epoch = 0, not_before = 0, not_after = 0;
    std::string peer_id;  // filled from the peer object when it exists
};
struct ApprovalInfo {
    std::string adapter, peer_id, address, short_code;
    std::uint32_t expires_in = 0;
};

class ManagerProxy final
    : public sdbus::ProxyInterfaces<org::blueratchet::Manager1_proxy, sdbus::ObjectManager_proxy> {
  public:
    explicit ManagerProxy(sdbus::IConnection& conn);
    ~ManagerProxy();

    std::function<void(const sdbus::ObjectPath&, const std::string&, const std::string&,
                       const std::string&, uint32_t, const std::string&, const std::string&)>
        on_minted;
    std::function<void(const sdbus::ObjectPath&, const std::string&, const std::string&,
                       const std::string&)>
        on_invalidated;
    std::function<void(const std::string&, const std::string&, const std::string&,
                       const std::string&, uint32_t)>
        on_approval;
    std::function<void(const std::string&, const std::string&, const std::string&,
                       const std::string&)>
        on_bond_refused;
    // (adapter, peer_id, address, reason, error, detail)
    std::function<void(const std::string&, const std::string&, const std::string&,
                       const std::string&, const std::string&, const std::string&)>
        on_attempt_failed;
    std::function<void(const sdbus::ObjectPath&,
                       const std::map<std::string, std::map<std::string, sdbus::Variant>>&)>
        on_added;
    std::function<void(const sdbus::ObjectPath&, const std::vector<std::string>&)> on_removed;

  private:
    void onSessionMinted(const sdbus::ObjectPath& session, const std::string& adapter,
                         const std::string& peer_id, const std::string& kind, const uint32_t& epoch,
                         const std::string& fingerprint, const std::string& short_code) override;
    void onSessionInvalidated(const sdbus::ObjectPath& session, const std::string& adapter,
                              const std::string& peer_id, const std::string& reason) override;
    void onApprovalRequested(const std::string& adapter, const std::string& peer_id,
                             const std::string& address, const std::string& short_code,
                             const uint32_t& expires_in) override;
    void onBondRefused(const std::string& adapter, const std::string& peer_id,
                       const std::string& address, const std::string& reason) override;
    void onAttemptFailed(const std::string& adapter, const std::string& peer_id,
                         const std::string& address, const std::string& reason,
                         const std::string& error, const std::string& detail) override;
    void onInterfacesAdded(
        const sdbus::ObjectPath& path,
        const std::map<std::string, std::map<std::string, sdbus::Variant>>& ifaces) override;
    void onInterfacesRemoved(const sdbus::ObjectPath& path,
                             const std::vector<std::string>& ifaces) override;
};

// Runs what the bus connection has pending, then waits until it has more or
// one of `fds` is ready (their revents are filled in).  Throws Failure when
// poll fails or the bus hangs up.  The loop of `monitor` and `agent`.
void wait_on_bus(sdbus::IConnection& conn, std::vector<pollfd>& fds);

class SessionProxy final : public sdbus::ProxyInterfaces<org::blueratchet::Session1_proxy> {
  public:
    SessionProxy(sdbus::IConnection& conn, const std::string& path);
    ~SessionProxy();
};

struct Snapshot {
    std::string version;
    std::vector<AdapterInfo> adapters;
    std::vector<PeerInfo> peers;
    std::vector<SessionInfo> sessions;
    std::vector<ApprovalInfo> approvals;

    static Snapshot take(ManagerProxy& manager, bool with_approvals);
    const PeerInfo* peer_at(const std::string& path) const;
    const SessionInfo* session_of(const PeerInfo& p) const;
};

// What a peer argument named.
struct Target {
    std::string adapter;
    std::string device_id;                   // base64url
    const PeerInfo* peer = nullptr;          // null: only a pending approval
    const ApprovalInfo* approval = nullptr;  // set when it matched one
};

// `arg` is a base64url id, its hex, a unique prefix of either (4+
// characters), a BLE address or an object path.  `adapter` ("" for any)
// narrows the search.  Throws Failure when nothing or several things match.
Target resolve_peer(const Snapshot& snap, const std::string& arg, const std::string& adapter,
                    bool approvals_too);

}  // namespace br::ctl
