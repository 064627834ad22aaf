// SPDX-License-Identifier: MIT
#include "daemon/daemon.hpp"

#include "daemon/bluez/hci_role.hpp"
#include "daemon/log.hpp"

namespace br::daemon {

Daemon::Daemon(const Config& config, std::string state_dir, sdbus::IConnection& conn,
               EventLoop& loop)
    : config_(config),
      conn_(conn),
      loop_(loop),
      pool_(conn),
      manager_(config, std::move(state_dir), loop, *this, clock_) {
    bluez::DeviceWatch::Hooks wh;
    wh.bluez_up = [this] {
        log::info("bluetoothd is up: registering the agent");
        agent_->register_with_bluez();
    };
    wh.bluez_down = [this] { on_bluez_down(); };
    wh.adapter_up = [this](const bluez::DeviceWatch::Adapter& a) { on_adapter(a); };
    wh.adapter_removed = [this](const std::string& path) { manager_.remove_adapter(path); };
    wh.device_changed = [this](const bluez::DeviceWatch::Device& now,
                               const bluez::DeviceWatch::Device& before) {
        on_device(now, before);
    };
    wh.device_removed = [this](const std::string& path) { on_device_removed(path); };
    wh.chrc_added = [this](const bluez::DeviceWatch::Chrc& c) {
        if (const auto* d = watch_->device(c.device); d && d->connected)
            central_start_.chrc_added(c.device, d->connection, loop_.now());
        consider_central(c.device);
    };
    wh.chrc_value = [this](const std::string& path, ByteView v) { client_->chrc_value(path, v); };
    watch_ = std::make_unique<bluez::DeviceWatch>(conn_, pool_, std::move(wh));

    // Session channels (docs/PROTOCOL.md 8.3), unless ChannelPSM = 0.
    if (config_.channel_psm) {
        channel_transport_ = std::make_unique<bluez::L2capTransport>(config_.channel_psm);
        if (manager_.enable_channels(*channel_transport_))
            log::info("session channels on PSM ", config_.channel_psm);
    }

    bluez::Agent::Hooks ah;
    ah.confirm = [this](const std::string& device, std::optional<std::uint32_t> passkey,
                        std::function<void(bool)> reply) {
        manager_.confirm_pairing(device, passkey, std::move(reply));
        if (manager_.bond_waits_for_link(device)) watch_pair_hold(device);
    };
    ah.cancel = [this] { manager_.cancel_confirmations(); };
    ah.bluez_owner = [this] { return watch_->owner(); };
    agent_ = std::make_unique<bluez::Agent>(conn_, pool_, config_, std::move(ah));

    bluez::GattClient::Hooks ch;
    ch.ready = [this](const std::string& device, LinkIo io) {
        const auto* d = watch_->device(device);
        return d && manager_.link_up(d->adapter, device, d->address, LinkRole::Central,
                                     std::move(io)) != nullptr;
    };
    ch.fragment = [this](const std::string& device, ByteView f) { manager_.deliver(device, f); };
    ch.peer_psm = [this](const std::string& device, std::uint16_t psm) {
        manager_.set_peer_psm(device, psm);
    };
    ch.our_psm = config_.channel_psm;
    ch.lost = [this](const std::string& device, const std::string& why) {
        manager_.link_lost(device, why);
        // The socket usually hangs up just before Connected=false arrives; only
        // a link that stays up without our sockets is disconnected (no
        // session, no service).  Only that connection: the device may have
        // reconnected within the 2 s, and the new connection's GATT client
        // may not have started yet (seen on the testbed: the stale timer
        // disconnected the reconnection before its handshake).
        const auto* lost_on = watch_->device(device);
        if (!lost_on || !lost_on->connected) return;
        loop_.add_timer(std::chrono::seconds(2), [this, device, conn = lost_on->connection] {
            const auto* d = watch_->device(device);
            if (d && d->connected && d->connection == conn && !client_->active(device) &&
                !manager_.has_link(device))
                disconnect(device);
        });
    };
    client_ = std::make_unique<bluez::GattClient>(pool_, loop_, std::move(ch));
}

Daemon::~Daemon() {
    for (auto& [device, timer] : central_retry_) loop_.cancel(timer);
    for (auto& [device, timer] : pair_hold_checks_) loop_.cancel(timer);
    manager_.save_clocks();
}

void Daemon::start() {
    watch_->start();
    save_clocks_periodically();
}

void Daemon::save_clocks_periodically() {
    loop_.add_timer(std::chrono::minutes(10), [this] {
        manager_.save_clocks();
        save_clocks_periodically();
    });
}

void Daemon::disconnect(const std::string& device_path) {
    log::info("disconnecting device=", bluez::address_from_device_path(device_path));
    call_device(device_path, "Disconnect");
}

void Daemon::reconnect(const std::string& device_path) {
    const auto* d = watch_->device(device_path);
    if (!d || !d->connected) return connect(device_path);  // already down
    reconnect_when_down_.insert(device_path);
    disconnect(device_path);
}

void Daemon::pair(const std::string& device_path) {
    const std::string address = bluez::address_from_device_path(device_path);
    log::info("pairing device=", address);
    // The pairing waits on both users' agents (ours answer from the session
    // at once; a peer's may ask its user): D-Bus's default 25 s is too short
    // for a person.
    pool_.get(device_path)
        .callMethodAsync("Pair")
        .onInterface(bluez::kDevice)
        .withTimeout(std::chrono::seconds(90))
        .uponReplyInvoke([address](const sdbus::Error* err) {
            if (err)
                log::warning("Pair of device=", address, " failed: ", err->getName(), ": ",
                             err->getMessage());
            else
                log::info("paired device=", address);
        });
}

void Daemon::watch_pair_hold(const std::string& device) {
    const auto* d = watch_->device(device);
    if (!d || !d->connected || !central_role()) return;
    if (auto it = pair_hold_checks_.find(device); it != pair_hold_checks_.end())
        loop_.cancel(it->second);
    pair_hold_checks_[device] =
        loop_.add_timer(bluez::PairHold::grace(config_.handshake_timeout_seconds),
                        [this, device, connection = d->connection] {
                            pair_hold_checks_.erase(device);
                            check_pair_hold(device, connection);
                        });
}

void Daemon::check_pair_hold(const std::string& device, std::uint64_t connection) {
    const auto* d = watch_->device(device);
    auto* a = d ? manager_.adapter(d->adapter) : nullptr;
    if (!a) return;
    bluez::PairHoldFacts f;
    f.connected = d->connected;
    f.same_connection = d->connection == connection;
    f.waits_for_link = manager_.bond_waits_for_link(device);
    f.client_active = client_->active(device);
    f.services_seen = central_start_.services_seen(device, d->connection);
    if (f.connected) f.we_are_central = bluez::is_le_central(a->name, d->address);
    f.central_role_only = !peripheral_role();
    if (!bluez::PairHold::held(f)) return;
    const auto grace = bluez::PairHold::grace(config_.handshake_timeout_seconds);
    manager_.pair_after_session(
        device,
        "bluetoothd holds GATT until this pairing ends (Pair made the connection, "
        "BlueZ 5.82 and later): nothing of GATT in " +
            std::to_string(grace.count()) + " ms, so no session can come");
}

void Daemon::connect(const std::string& device_path) {
    log::info("connecting device=", bluez::address_from_device_path(device_path));
    call_device(device_path, "Connect");
}

void Daemon::call_device(const std::string& device_path, const std::string& method) {
    pool_.get(device_path)
        .callMethodAsync(method)
        .onInterface(bluez::kDevice)
        .uponReplyInvoke([device_path, method](const sdbus::Error* err) {
            if (err)
                log::warning(method, " of ", device_path, " failed: ", err->getName(), ": ",
                             err->getMessage());
        });
}

void Daemon::on_bluez_down() {
    reconnect_when_down_.clear();
    central_start_.forget_all();
    manager_.bluez_gone();
    client_->stop_all();
    agent_->bluez_gone();
    for (auto& [p, s] : servers_) s->bluez_gone();
    for (auto& [p, a] : advs_) a->bluez_gone();
}

void Daemon::on_adapter(const bluez::DeviceWatch::Adapter& a) {
    if (a.address.empty()) return;
    if (!manager_.has_adapter(a.path)) {
        if (!manager_.add_adapter(a.path, a.name, a.address, a.powered)) return;
        if (initial_window_) (void)manager_.set_pairing_window(a.name, initial_window_);
    } else {
        manager_.set_adapter_powered(a.path, a.powered);
    }
    if (!peripheral_role() || !a.powered) return;
    auto& server = servers_[a.path];
    if (!server) {
        std::string adapter_path = a.path;
        server = std::make_unique<bluez::GattServer>(
            conn_, pool_, a.path, a.name,
            [this, adapter_path](const std::string& device, ByteView f, std::size_t mtu) {
                const auto* d = watch_->device(device);
                // A write still in flight from a link that is gone (bluetoothd
                // sends Connected=false before it): nobody to answer.
                if (d && !d->connected) return;
                // Normally the link is up since Connected=true; when our role
                // was not known then, the central's first write brings it up.
                if (!manager_.connection(device))
                    peripheral_link_up(adapter_path, device,
                                       d ? d->address : bluez::address_from_device_path(device));
                manager_.deliver(device, f, mtu);
            },
            [this] { return watch_->owner(); },
            [this](const std::string& device) {
                const auto* d = watch_->device(device);
                return d && !d->connected;
            },
            config_.channel_psm,
            [this](const std::string& device, std::uint16_t psm) {
                manager_.set_peer_psm(device, psm);
            });
    }
    auto& adv = advs_[a.path];
    if (!adv)
        adv = std::make_unique<bluez::Advertisement>(conn_, pool_, a.path, a.name,
                                                     [this] { return watch_->owner(); });
    if (!server->registered()) server->register_with_bluez();
    if (!adv->registered()) adv->register_with_bluez();
}

void Daemon::on_device(const bluez::DeviceWatch::Device& now,
                       const bluez::DeviceWatch::Device& before) {
    if (!now.connected && before.connected) {
        // What the peer notified before the link went may still wait in our
        // socket: bluetoothd wrote it there and then signalled
        // Connected=false, and we read the bus first.  It is the peer's last
        // word (in the system tier, 2026-12-07: its LE bond passkey, sent as
        // it refused the bond, so we never compared and refused in turn).
        client_->drain(now.path);
        // Invalidate first, synchronously, in this signal handler.
        manager_.link_lost(now.path, "disconnected");
        client_->stop(now.path);
        release_slot(now.path);
        log::info("device disconnected device=", now.address);
        if (reconnect_when_down_.erase(now.path)) connect(now.path);
        return;
    }
    if (now.connected && !before.connected && manager_.has_adapter(now.adapter)) {
        auto* a = manager_.adapter(now.adapter);
        auto central = bluez::is_le_central(a->name, now.address);
        log::info("device connected adapter=", a->name, " device=", now.address, " our_role=",
                  !central   ? "unknown"
                  : *central ? "central"
                             : "peripheral");
        if (central && !*central && peripheral_role())
            peripheral_link_up(now.adapter, now.path, now.address);
    }
    if (now.connected && now.resolved) central_start_.resolved(now.path, now.connection);
    consider_central(now.path);
}

// Our GATT server's link to a central: we answer on the tx.k the central
// got from our slot characteristic, or on the shared tx if it has none (the
// server decides at each fragment: the central reads the slot after
// Connected=true, before it writes anything).
void Daemon::peripheral_link_up(const std::string& adapter_path, const std::string& device,
                                const std::string& address) {
    auto srv = servers_.find(adapter_path);
    if (srv == servers_.end()) return;
    bluez::GattServer* server = srv->second.get();
    manager_.link_up(
        adapter_path, device, address, LinkRole::Peripheral,
        LinkIo{[server, device](ByteView frag) { return server->notify(device, frag); },
               frame::kMinAttMtu});
}

void Daemon::release_slot(const std::string& device) {
    auto srv = servers_.find(bluez::adapter_of(device));
    if (srv != servers_.end()) srv->second->release(device);
}

void Daemon::on_device_removed(const std::string& path) {
    central_start_.forget(path);
    if (auto it = pair_hold_checks_.find(path); it != pair_hold_checks_.end()) {
        loop_.cancel(it->second);
        pair_hold_checks_.erase(it);
    }
    reconnect_when_down_.erase(path);
    manager_.link_lost(path, "device removed");
    client_->stop(path);
    release_slot(path);
}

void Daemon::consider_central(const std::string& device) {
    if (!central_role()) return;
    const auto* d = watch_->device(device);
    if (!d || !d->connected || client_->active(device)) return;
    auto* a = manager_.adapter(d->adapter);
    if (!a) return;
    auto chrcs = watch_->our_chrcs(device);
    if (chrcs.rx.empty() || chrcs.tx.empty()) return;
    auto ready = central_start_.decide(device, d->connection, d->resolved, loop_.now());
    if (!ready.start()) {
        if (ready.retry_in.count() > 0) {
            if (auto it = central_retry_.find(device); it != central_retry_.end())
                loop_.cancel(it->second);
            central_retry_[device] = loop_.add_timer(ready.retry_in, [this, device] {
                central_retry_.erase(device);
                consider_central(device);
            });
        }
        return;
    }
    if (ready.verdict == bluez::CentralStart::Verdict::Settled)
        log::info("device ", d->address, ": bluetoothd has not set ServicesResolved ",
                  bluez::CentralStart::kSettle.count(),
                  " ms after exporting our characteristics: starting without it");
    auto central = bluez::is_le_central(a->name, d->address);
    if (!central || !*central) {
        log::debug("device ", d->address, " has the blueratchet service but we are not the",
                   " central of this connection: leaving the handshake to it");
        return;
    }
    client_->start(device, chrcs);
}

}  // namespace br::daemon
