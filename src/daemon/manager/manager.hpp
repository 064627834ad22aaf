// SPDX-License-Identifier: MIT
// The daemon's state, apart from D-Bus and BlueZ: the adapters (identity and
// peer store each), one Connection per BLE link (connection.hpp: everything
// that happens on a link happens there), the sessions by (adapter, peer),
// the pairing windows, and the Model the management API serves.  The BlueZ
// glue (src/daemon/bluez/, wired in daemon.cpp) feeds it events and gets
// Disconnect calls back through BluezActions.
//
// A link's life here: link_up() creates its Connection (the peripheral's
// when the device connects, the central's once our GATT client holds the
// peer's characteristics), deliver() hands it every fragment, and
// link_lost() closes it; every other end (failure, timeout, revocation)
// is the connection's own close(), reported through Connection::Owner.
// Everything runs on the loop's thread.  Invalidation on link loss is
// synchronous: the session key is wiped before link_lost() returns.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/time/clock.hpp"
#include "core/util/peer_id.hpp"
#include "daemon/channel/channel_hub.hpp"
#include "daemon/config.hpp"
#include "daemon/loop.hpp"
#include "daemon/manager/adapter_state.hpp"
#include "daemon/manager/connection.hpp"
#include "daemon/model.hpp"
#include "daemon/plugin_host/plugin_host.hpp"

namespace br::daemon {

// What the manager asks of the BlueZ glue.
class BluezActions {
  public:
    virtual ~BluezActions() = default;
    // Device1.Disconnect, asynchronously.
    virtual void disconnect(const std::string& device_path) = 0;
    // Device1.Disconnect, then Device1.Connect once the link is down: the
    // same device on a fresh link.
    virtual void reconnect(const std::string& device_path) = 0;
    // Device1.Pair, asynchronously (the outcome is bluetoothd's to report).
    virtual void pair(const std::string& device_path) = 0;
};

class Manager : public Model, private Connection::Owner, private ChannelHub::Sessions {
  public:
    Manager(const Config& config, std::string state_dir, Loop& loop, BluezActions& bluez,
            const time::Clock& clock);
    ~Manager() override;
    Manager(const Manager&) = delete;
    Manager& operator=(const Manager&) = delete;

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
    // A BLE connection is up on `adapter_path` with us in `role`: its
    // Connection replaces whatever the device had.  A central's starts its
    // handshake at once (a resume if the address belongs to a peripheral we
    // know, else a first contact); a peripheral's waits for the central.
    // nullptr when the adapter is unknown.
    Connection* link_up(const std::string& adapter_path, const std::string& device_path,
                        const std::string& address, LinkRole role, LinkIo io);
    // One ATT value from the device (`att_mtu` if the transport tells it).
    // Dropped unread when the device's connection is closed and being
    // disconnected, or when it has none.
    void deliver(const std::string& device_path, ByteView fragment,
                 std::optional<std::size_t> att_mtu = std::nullopt);
    // The device is gone (Connected=false, object removed, socket HUP):
    // its session is invalidated (LinkLost) now.
    void link_lost(const std::string& device_path, const std::string& why);
    // bluetoothd vanished: every link and session is gone.
    void bluez_gone();
    // The device's connection, closed or not (nullptr: none).
    Connection* connection(const std::string& device_path);
    bool has_link(const std::string& device_path) const;

    // --- session channels (docs/PROTOCOL.md 8.3) ---
    // Runs session channels over `transport` (which outlives the manager)
    // and listens for peers' channels; false (logged) if it cannot listen
    // (opening channels still answers).  Without it, the channel calls of
    // the Model fail with "session channels are off".
    bool enable_channels(ChannelHub::Transport& transport);
    // The PSM the device's daemon takes channels on, learnt over GATT.
    void set_peer_psm(const std::string& device_path, std::uint16_t psm);
    ChannelHub* channels() { return channels_.get(); }

    // --- the agent's deferred confirmation: an LE bond bound to the session ---
    // RequestConfirmation's passkey (nullopt for Just Works, always refused).
    // The device's connection sends the passkey to the peer (BOND) once its
    // 1.1 session is live and answers reply(true) only when the peer's BOND
    // carries the same (Connection::confirm_bond); before the device has a
    // connection, the manager holds the request until link_up().
    void confirm_pairing(const std::string& device_path, std::optional<std::uint32_t> passkey,
                         std::function<void(bool)> reply);
    void cancel_confirmations();
    // The BlueZ glue found that bluetoothd holds the device's GATT until the
    // pairing that a confirmation held here waits for ends (`why`: how it
    // knows; docs/DAEMON.md "BlueZ versions", src/daemon/bluez/pair_hold.hpp):
    // a deadlock, since that confirmation waits for a session over GATT.  The
    // confirmation is refused now, the device is connected again, and once
    // a session of ours is live on the new link we ask bluetoothd to pair
    // (BluezActions::pair), the bond then gated as always.  False, and
    // nothing done, when no confirmation waits for a link of the device.
    bool pair_after_session(const std::string& device_path, const std::string& why);
    // A confirmation waits for the device's link (it has no connection yet).
    bool bond_waits_for_link(const std::string& device_path) const {
        return early_bonds_.count(device_path) != 0;
    }

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
    ApiResult<bool> register_service(const std::string& service, const std::string& owner,
                                     ChannelDeliver deliver) override;
    ApiResult<bool> unregister_service(const std::string& service,
                                       const std::string& owner) override;
    void owner_gone(const std::string& owner) override;
    void open_channel(const std::string& adapter, const std::string& peer_id,
                      const std::string& service, int app_fd,
                      std::function<void(ApiResult<bool>)> done) override;

    // The plugins (docs/PLUGINS.md): loaded by the constructor.
    plugins::PluginHost& plugin_host() { return *plugins_; }

  private:
    // A session as the API lists it, live or not: the connection holds the
    // session itself while it is live.
    struct SessionRecord {
        SessionView view;
        Connection* live = nullptr;  // the connection whose session is live
    };
    using SessionKey = std::pair<std::string, PeerId>;  // adapter name, peer
    // A confirmation that arrived before its device had a connection.
    struct EarlyBond {
        std::function<void(bool)> reply;
        std::uint32_t passkey = 0;
        Loop::Clock::time_point due;
        Loop::TimerId timer = 0;
    };

    // Connection::Owner
    void approval_needed(Connection& c, const std::string& short_code) override;
    bool admit_first_contact(Connection& c) override;
    bool claim_identity(Connection& c, const handshake::DeviceId& peer) override;
    void session_minted(Connection& c, const handshake::Session& s) override;
    void session_invalidated(Connection& c, const handshake::Session& s,
                             InvalidationReason reason) override;
    void bond_refused(Connection& c, const std::string& reason) override;
    void closed(Connection& c, CloseReason reason, const std::string& why) override;
    bool try_fresh_link(const std::string& device);

    // ChannelHub::Sessions
    std::optional<ChannelHub::Session> by_address(const std::string& local_address,
                                                  const std::string& peer_address) override;
    std::optional<ChannelHub::Session> by_peer(const std::string& adapter,
                                               const PeerId& peer) override;
    std::optional<ChannelHub::Session> channel_session(Connection& c);

    void forget_connection(const std::string& device_path);
    void early_bond_timeout(const std::string& device_path);
    void report_bond_refused(BondRefusal r);
    // A connection closed: if its attempt ended without a session for a
    // reason a user needs (AttemptFailure), logs it and tells the listener.
    void report_attempt(Connection& c, CloseReason reason, const std::string& why);
    // Why a connection's attempt is ending, noted where that was decided
    // (our approval policy's verdict, the rate limit, the identity claim):
    // what its close reports instead of the bare CloseReason.
    void note_attempt(Connection& c, std::string reason, std::string detail);
    void peer_seen(AdapterState& a, const handshake::DeviceId& id, const std::string& address);
    PeerView peer_view(const AdapterState& a, const store::PeerInfo& info) const;
    AdapterState* adapter_by_name(const std::string& name);
    SessionRecord* session_for(const std::string& adapter, const std::string& peer_id);
    std::optional<handshake::DeviceId> known_peer_at(const AdapterState& a,
                                                     const std::string& address) const;
    void emit_adapters_changed();

    Config config_;
    std::string state_dir_;
    Loop& loop_;
    BluezActions& bluez_;
    const time::Clock& clock_;
    handshake::Settings settings_;

    std::map<std::string, std::unique_ptr<AdapterState>> adapters_;  // by object path
    // By device object path.  A closed connection stays until the link is
    // lost (or replaced), so what the device still writes is dropped unread.
    std::map<std::string, std::unique_ptr<Connection>> connections_;
    std::map<SessionKey, SessionRecord> sessions_;
    std::map<std::string, EarlyBond> early_bonds_;  // by device object path
    // Devices to pair once a session of ours is live with them
    // (pair_after_session), and since when: a wish older than twice the
    // handshake's time is dropped, not acted on a link it was not made for.
    std::map<std::string, Loop::Clock::time_point> pair_after_session_;
    // When a central last tried a timed-out first handshake once more on a
    // fresh link, by device object path (closed()).
    std::map<std::string, Loop::Clock::time_point> fresh_link_tries_;
    std::set<SessionKey> announced_peers_;  // peers the listener has been told about
    std::uint64_t next_connection_ = 1;
    bool shutting_down_ = false;
    std::unique_ptr<plugins::PluginHost> plugins_;
    // Session channels, when enabled: after the connections, whose sessions'
    // ends close their channels.
    std::unique_ptr<ChannelHub> channels_;
};

}  // namespace br::daemon
