// The daemon's core: adapters (identity + store each), links (one
// LinkSession per BLE connection), the live session table, the pairing
// window policy, and Model for the management API.  It knows nothing about
// D-Bus: what it needs from BlueZ goes through BluezActions, and the BlueZ
// glue (src/daemon/bluez/, wired in daemon.cpp) feeds it events.
//
// Everything runs on the event-loop thread.  Invalidation on link loss is
// synchronous in link_lost(): the session key is wiped before the call
// returns, then the listener is told.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/handshake/session.hpp"
#include "core/time/clock.hpp"
#include "daemon/config.hpp"
#include "daemon/core/adapter_state.hpp"
#include "daemon/core/link_session.hpp"
#include "daemon/event_loop.hpp"
#include "daemon/model.hpp"
#include "daemon/plugin_host/plugin_host.hpp"

namespace br::daemon {

// What the core asks of the BlueZ glue.
class BluezActions {
  public:
    virtual ~BluezActions() = default;
    // Device1.Disconnect, asynchronously.
    virtual void disconnect(const std::string& device_path) = 0;
};

class DaemonCore : public Model {
  public:
    using LinkId = std::uint64_t;

    DaemonCore(const Config& config, std::string state_dir, EventLoop& loop, BluezActions& bluez,
               const time::Clock& clock);
    ~DaemonCore() override;

    // --- adapters (from org.bluez.Adapter1) ---
    // Opens the adapter's state (identity, peers); false (logged) on failure
    // or when the configuration excludes it.
    bool add_adapter(const std::string& path, const std::string& name, const std::string& address,
                     bool powered);
    void set_adapter_powered(const std::string& path, bool powered);
    void remove_adapter(const std::string& path);
    bool has_adapter(const std::string& path) const { return adapters_.count(path) != 0; }
    AdapterState* adapter(const std::string& path);
    // Opens the pairing window of every adapter (--pairing-window).
    void open_windows(std::uint32_t seconds);
    // Saves each adapter's last-known-good clock (periodically and at exit).
    void save_clocks();

    // --- links ---
    // A connection came up in which we are the peripheral: start the
    // "no session, no service" deadline.
    void peripheral_connected(const std::string& adapter_path, const std::string& device_path,
                              const std::string& address);
    // Central: our GATT client holds the peer's characteristics; run the
    // initiator (resume if the address belongs to a known peer, else pair).
    // Returns the link, or nullopt when no handshake was started.
    std::optional<LinkId> central_ready(const std::string& adapter_path,
                                        const std::string& device_path, const std::string& address,
                                        LinkIo io);
    // Peripheral: a fragment written to our rx characteristic.
    void server_fragment(const std::string& adapter_path, const std::string& device_path,
                         const std::string& address, ByteView fragment, std::size_t mtu,
                         const std::function<bool(ByteView)>& notify);
    void link_fragment(LinkId id, ByteView fragment);
    // The device is gone (Connected=false, object removed, socket HUP):
    // every session on it is invalidated (LinkLost) now.
    void link_lost(const std::string& device_path, const std::string& why);
    // bluetoothd vanished: every link and session is gone.
    void bluez_gone();
    bool has_link(const std::string& device_path) const;

    // --- the agent's deferred confirmation: an LE bond bound to the session ---
    // RequestConfirmation's passkey (nullopt for Just Works, always refused).
    // Once a 1.1 session is live on the current connection to the device,
    // sends the passkey to the peer (BOND) and answers reply(true) only when
    // the peer's BOND carries the same; reply(false) on a mismatch, a 1.0
    // session, a failed handshake, a dropped link or the handshake timeout
    // (the device is then disconnected).
    void confirm_pairing(const std::string& device_path, std::optional<std::uint32_t> passkey,
                         std::function<void(bool)> reply);
    void cancel_confirmations();

    // --- Model ---
    std::vector<AdapterView> adapters() const override;
    std::vector<PeerView> peers() const override;
    std::vector<SessionView> sessions() const override;
    std::vector<PendingApproval> pending_approvals() const override;
    ApiResult<bool> set_pairing_window(const std::string& adapter, std::uint32_t seconds) override;
    ApiResult<bool> forget_peer(const std::string& adapter, const std::string& peer_id) override;
    ApiResult<bool> invalidate_session(const std::string& adapter,
                                       const std::string& peer_id) override;
    ApiResult<ExportBytes> export_session(const std::string& adapter, const std::string& peer_id,
                                          ExportWhat what, ExportFormat format) override;
    ApiResult<bool> decide_approval(const std::string& adapter, const std::string& peer_id,
                                    bool approve) override;

    // The plugins (docs/PLUGINS.md): loaded by the constructor.
    plugins::PluginHost& plugin_host() { return *plugins_; }

    static std::string id_text(const handshake::DeviceId& id);                    // base64url
    static std::optional<handshake::DeviceId> parse_id(const std::string& text);  // b64url/hex

  private:
    struct SessionEntry {
        std::string adapter_path;
        std::string device_path;
        LinkId link = 0;
        std::optional<handshake::Session> session;  // reset once wiped and replaced
        SessionView view;
        EventLoop::TimerId expiry = 0;
        EventLoop::TimerId grace = 0;
    };
    struct PendingConfirm {
        std::function<void(bool)> reply;
        EventLoop::TimerId timer = 0;
        std::uint32_t passkey = 0;  // what our bluetoothd asked about
        bool sent = false;          // our BOND went out over the session
    };
    using SessionKey = std::pair<std::string, std::string>;  // adapter name, peer hex

    LinkSession* make_link(AdapterState& a, const std::string& device_path,
                           const std::string& address, LinkSession::Role role, LinkIo io);
    void arm_deadline(LinkSession& l);
    bool admit_first_contact(LinkSession& l);
    void disconnect_device(const std::string& device_path);
    // The same, the Disconnect call itself `delay` later (writes from the
    // device are dropped from now on; nothing is done if the link drops first).
    void disconnect_device_after(const std::string& device_path, std::chrono::milliseconds delay);
    void request_approval(LinkSession& l, const std::string& short_code);
    void on_session(LinkSession& l, handshake::Session s);
    void on_link_failure(LinkSession& l, const std::string& why);
    void drop_link(LinkId id, const std::string& why, bool disconnect);
    void invalidate_entry(SessionEntry& e, InvalidationReason reason);
    void arm_expiry(const SessionKey& key);
    void on_expiry(const SessionKey& key);
    void answer_confirmations(const std::string& device_path, bool ok);
    void on_peer_bond(LinkSession& l, std::uint32_t passkey);
    bool try_bond(const std::string& device_path);
    void report_bond_refused(const std::string& device_path, const std::string& reason);
    void peer_seen(AdapterState& a, const handshake::DeviceId& id, const std::string& address);
    PeerView peer_view(const AdapterState& a, const store::PeerInfo& info) const;
    AdapterState* adapter_by_name(const std::string& name);
    SessionEntry* session_for(const std::string& adapter, const std::string& peer_id);
    std::optional<handshake::DeviceId> known_peer_at(const AdapterState& a,
                                                     const std::string& address) const;
    void emit_adapters_changed();

    Config config_;
    std::string state_dir_;
    EventLoop& loop_;
    BluezActions& bluez_;
    const time::Clock& clock_;
    handshake::Settings settings_;

    std::map<std::string, std::unique_ptr<AdapterState>> adapters_;  // by object path
    std::map<LinkId, std::unique_ptr<LinkSession>> links_;
    std::map<std::string, LinkId> link_by_device_;
    std::map<std::string, EventLoop::TimerId> service_deadline_;  // peripheral side, by device
    std::set<std::string> shunned_;  // devices being disconnected: their writes are dropped
    std::map<SessionKey, SessionEntry> sessions_;
    std::map<std::string, PendingConfirm> confirms_;           // by device path
    std::map<std::string, std::uint32_t> peer_bonds_;          // the peer's BOND, by device path
    std::map<std::string, EventLoop::TimerId> window_timers_;  // by adapter path
    std::set<SessionKey> announced_peers_;  // peers the listener has been told about
    LinkId next_link_ = 1;
    std::unique_ptr<plugins::PluginHost> plugins_;
};

}  // namespace br::daemon
