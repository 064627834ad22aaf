// SPDX-License-Identifier: MIT
#include "daemon/manager/manager.hpp"

#include <unistd.h>

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "core/cert/certificate.hpp"
#include "core/cert/x509_pem.hpp"
#include "core/channel/open_header.hpp"
#include "core/store/state.hpp"
#include "daemon/log.hpp"
#include "daemon/shown.hpp"

namespace br::daemon {

namespace {

const char* kind_text(handshake::Kind k) {
    return k == handshake::Kind::Pair ? "pair" : "resume";
}

std::chrono::milliseconds seconds_ms(std::int64_t s) {
    return std::chrono::milliseconds(std::max<std::int64_t>(s, 0) * 1000);
}

std::string id_text(const handshake::DeviceId& id) {
    return PeerId(id).base64url();
}

plugins::HostOptions host_options(const Config& c) {
    plugins::HostOptions o;
    o.directory =
        c.plugin_directory.empty() ? plugins::default_plugin_directory() : c.plugin_directory;
    o.approval = c.approval;
    o.hooks = c.plugins_load;
    for (const auto& [name, kv] : c.plugin_settings)
        for (const auto& setting : kv) o.settings[name].emplace_back(setting.key, setting.value);
    o.call_timeout = std::chrono::seconds(c.plugin_call_timeout_seconds);
    o.approval_timeout_seconds = c.approval_timeout_seconds;
    return o;
}

}  // namespace

Manager::Manager(const Config& config, std::string state_dir, Loop& loop, BluezActions& bluez,
                 const time::Clock& clock)
    : config_(config),
      state_dir_(std::move(state_dir)),
      loop_(loop),
      bluez_(bluez),
      clock_(clock),
      settings_{config.validity_seconds},
      plugins_(std::make_unique<plugins::PluginHost>(loop, host_options(config))) {
    plugins_->on_pending = [this](const PendingApproval& p) {
        if (listener_.approval_requested) listener_.approval_requested(p);
    };
    plugins_->load();
}

Manager::~Manager() {
    // Every session is wiped (and its channels closed); the hook plugins
    // hear "Shutdown".
    shutting_down_ = true;
    for (auto& [device, c] : connections_) c->close(CloseReason::Shutdown, "shutdown");
    channels_.reset();
    for (auto& [device, b] : early_bonds_) loop_.cancel(b.timer);
    save_clocks();
    // The hook plugins hear of the invalidations before fini().
    plugins_.reset();
}

// --- adapters ---------------------------------------------------------------

bool Manager::add_adapter(const std::string& path, const std::string& name,
                          const std::string& address, bool powered) {
    if (adapters_.count(path)) {
        set_adapter_powered(path, powered);
        return true;
    }
    if (!config_.only_adapters.empty() &&
        std::find(config_.only_adapters.begin(), config_.only_adapters.end(), name) ==
            config_.only_adapters.end()) {
        log::info("adapter ", name, " ignored (not in [Adapters] Only)");
        return false;
    }
    auto dirname = store::adapter_name_from_address(address);
    if (!dirname) {
        log::error("adapter ", name, ": address '", address, "' is not a Bluetooth address");
        return false;
    }
    auto dir = store::AdapterDir::open(state_dir_, *dirname);
    if (!dir) {
        log::error("adapter ", name, ": ", dir.error().message());
        return false;
    }
    auto id = store::load_or_create_identity(*dir);
    if (!id) {
        log::error("adapter ", name, ": identity: ", id.error().message());
        return false;
    }
    time::UnixSeconds persisted = 0;
    auto clk = store::load_clock(*dir);
    if (!clk) {
        log::warning("adapter ", name, ": clock file: ", clk.error().message(),
                     " (starting from the build time)");
    } else if (*clk) {
        persisted = **clk;
    }
    auto st = store::PeerStore::open(*dir);
    if (!st) {
        log::error("adapter ", name, ": peers: ", st.error().message());
        return false;
    }
    for (const auto& p : st->problems())
        log::warning("adapter ", name, ": peer record skipped: ", p.error.message());
    auto a = std::make_unique<AdapterState>(path, name, address, std::move(*dir), std::move(*id),
                                            std::move(*st), clock_, persisted);
    a->powered = powered;
    a->first_contacts.set_limit(config_.refused_first_contacts_per_minute);
    log::info("adapter added adapter=", name, " address=", address,
              " device_id=", id_text(a->identity.public_key()), " peers=", a->store.size(),
              " state=", a->dir.path());
    const AdapterState& added = *a;
    adapters_[path] = std::move(a);
    emit_adapters_changed();
    // The stored peers are published too: after a restart `blueratchetctl
    // peers` must list them before they ever reconnect.
    for (const auto& [pid, info] : added.store.peers()) {
        if (announced_peers_.insert({name, PeerId(pid)}).second && listener_.peer_added)
            listener_.peer_added(peer_view(added, info));
    }
    return true;
}

void Manager::set_adapter_powered(const std::string& path, bool powered) {
    auto* a = adapter(path);
    if (!a || a->powered == powered) return;
    a->powered = powered;
    log::info("adapter ", a->name, " powered=", powered ? "yes" : "no");
    emit_adapters_changed();
}

void Manager::remove_adapter(const std::string& path) {
    auto it = adapters_.find(path);
    if (it == adapters_.end()) return;
    AdapterState* gone = it->second.get();
    std::vector<std::string> devices;
    for (auto& [device, c] : connections_)
        if (&c->adapter() == gone) devices.push_back(device);
    for (const auto& d : devices) {
        connections_.at(d)->close(CloseReason::AdapterGone, "adapter removed");
        forget_connection(d);
    }
    // The adapter's sessions go with it (their records name it).
    for (auto s = sessions_.begin(); s != sessions_.end();)
        s = s->first.first == gone->name ? sessions_.erase(s) : std::next(s);
    loop_.cancel(gone->window_timer);
    auto lkg = gone->clock.value_to_save();
    if (auto r = store::save_clock(gone->dir, lkg); !r)
        log::warning("adapter ", gone->name, ": ", r.error().message());
    log::info("adapter removed adapter=", gone->name);
    // The connections closed above are destroyed on the next turn and hold
    // a reference to the adapter: keep it alive until they are.
    std::shared_ptr<AdapterState> keep(std::move(it->second));
    adapters_.erase(it);
    loop_.defer([keep] {});
    emit_adapters_changed();
}

AdapterState* Manager::adapter(const std::string& path) {
    auto it = adapters_.find(path);
    return it == adapters_.end() ? nullptr : it->second.get();
}

AdapterState* Manager::adapter_by_name(const std::string& name) {
    for (auto& [p, a] : adapters_)
        if (a->name == name) return a.get();
    return nullptr;
}

void Manager::open_windows(std::uint32_t seconds) {
    std::vector<std::string> names;
    for (auto& [p, a] : adapters_) names.push_back(a->name);
    for (const auto& n : names) (void)set_pairing_window(n, seconds);
}

void Manager::save_clocks() {
    for (auto& [p, a] : adapters_) {
        if (auto r = store::save_clock(a->dir, a->clock.value_to_save()); !r)
            log::warning("adapter ", a->name, ": ", r.error().message());
    }
}

void Manager::emit_adapters_changed() {
    if (listener_.adapters_changed) listener_.adapters_changed();
}

// --- links ------------------------------------------------------------------

std::optional<handshake::DeviceId> Manager::known_peer_at(const AdapterState& a,
                                                          const std::string& address) const {
    std::optional<handshake::DeviceId> best;
    std::int64_t seen = -1;
    for (const auto& [id, info] : a.store.peers()) {
        if (info.address != address || info.role != Role::Responder) continue;
        if (info.last_seen_unix > seen) {
            best = id;
            seen = info.last_seen_unix;
        }
    }
    return best;
}

Connection* Manager::link_up(const std::string& adapter_path, const std::string& device_path,
                             const std::string& address, LinkRole role, LinkIo io) {
    auto* a = adapter(adapter_path);
    if (!a) return nullptr;
    // A new connection to the same device replaces whatever was left of the
    // last one (a closed connection waiting for Connected=false included).
    if (auto old = connections_.find(device_path); old != connections_.end()) {
        old->second->close(CloseReason::Replaced, "replaced by a new link");
        forget_connection(device_path);
    }
    Connection::Timing timing{config_.handshake_timeout_seconds, config_.on_expiry};
    Connection::Owner& owner = *this;
    auto owned = std::make_unique<Connection>(next_connection_++, owner, loop_, *a, device_path,
                                              address, role, std::move(io), settings_, timing);
    Connection* c = owned.get();
    connections_[device_path] = std::move(owned);
    if (role == LinkRole::Peripheral)
        log::debug("peripheral link up adapter=", a->name, " device=", address, ": session due in ",
                   config_.handshake_timeout_seconds, " s");
    // The agent may have asked before the link was ours.
    if (auto b = early_bonds_.find(device_path); b != early_bonds_.end()) {
        EarlyBond early = std::move(b->second);
        early_bonds_.erase(b);
        loop_.cancel(early.timer);
        c->confirm_bond(early.passkey, std::move(early.reply), early.due);
        if (c->state() == Connection::State::Closed) return c;
    }
    if (role == LinkRole::Central) {
        // A device we do not know yet: a first contact, which both sides'
        // approval policies must let through (protocol 1.1: the central's
        // user compares the code too).
        auto peer = known_peer_at(*a, address);
        const bool in_1_0 = peer && a->speaks_1_0.count(*peer) != 0;
        log::info("handshake start adapter=", a->name, " device=", address,
                  " kind=", peer ? "resume" : "pair",
                  peer ? " peer=" + id_text(*peer) : std::string(), in_1_0 ? " protocol=1.0" : "");
        c->start(peer, in_1_0);
    }
    return c;
}

void Manager::deliver(const std::string& device_path, ByteView fragment,
                      std::optional<std::size_t> att_mtu) {
    auto it = connections_.find(device_path);
    if (it == connections_.end()) return;
    it->second->on_fragment(fragment, att_mtu);
}

Connection* Manager::connection(const std::string& device_path) {
    auto it = connections_.find(device_path);
    return it == connections_.end() ? nullptr : it->second.get();
}

bool Manager::has_link(const std::string& device_path) const {
    auto it = connections_.find(device_path);
    return it != connections_.end() && it->second->state() != Connection::State::Closed;
}

void Manager::link_lost(const std::string& device_path, const std::string& why) {
    // First the keys: close() wipes the session before anything else.
    if (auto it = connections_.find(device_path); it != connections_.end()) {
        if (it->second->state() != Connection::State::Closed)
            log::debug("link lost device=", cut(device_path), " (", why, ")");
        it->second->close(CloseReason::LinkLost, why);
        forget_connection(device_path);
    }
    if (auto b = early_bonds_.find(device_path); b != early_bonds_.end()) {
        EarlyBond early = std::move(b->second);
        early_bonds_.erase(b);
        loop_.cancel(early.timer);
        log::info("pairing rejected device=", cut(device_path));
        early.reply(false);
    }
}

void Manager::bluez_gone() {
    std::vector<std::string> devices;
    for (auto& [device, c] : connections_) devices.push_back(device);
    for (const auto& d : devices) {
        connections_.at(d)->close(CloseReason::BluezGone, "bluetoothd went away");
        forget_connection(d);
    }
    cancel_confirmations();
}

// Out of the map now, destroyed on the next turn: a caller up the stack
// (the connection itself, its pump) may still be running.
void Manager::forget_connection(const std::string& device_path) {
    auto it = connections_.find(device_path);
    if (it == connections_.end()) return;
    std::shared_ptr<Connection> keep(std::move(it->second));
    connections_.erase(it);
    loop_.defer([keep] {});
}

// --- what connections report ------------------------------------------------

// The approval plugin decides (docs/PLUGINS.md), on either side: a pairing
// needs both verdicts (protocol 1.1), as LE numeric comparison needs both
// users.  The verdict comes back on the loop, and only if the connection
// still waits for it.  The plugin has at most what is left of the handshake
// deadline, less a second to finish the handshake.
void Manager::approval_needed(Connection& c, const std::string& code) {
    AdapterState& a = c.adapter();
    const bool central = c.role() == LinkRole::Central;
    if (central)
        log::info("pairing adapter=", a.name, " address=", c.address(), " short_code=", code,
                  " (the peripheral shows the same code if no one is in between)");
    plugins::FirstContact fc;
    fc.role = central ? "initiator" : "responder";
    fc.adapter = a.name;
    fc.adapter_address = a.address;
    if (c.peer()) {
        fc.peer_id = id_text(*c.peer());
        fc.peer_id_hex = to_hex(*c.peer());
    }
    fc.address = c.address();
    fc.short_code = code;
    fc.window_open = a.window_open(loop_.now());
    fc.window_remaining = a.window_remaining(loop_.now());
    auto left = static_cast<std::int64_t>(config_.handshake_timeout_seconds);
    if (auto due = c.handshake_due())
        left = std::chrono::duration_cast<std::chrono::seconds>(*due - loop_.now()).count();
    fc.timeout_seconds = static_cast<std::uint32_t>(std::max<std::int64_t>(left - 1, 1));
    const std::string device = c.device_path();
    const std::uint64_t id = c.id();
    plugins_->cancel_approval(c.approval_ticket);
    c.approval_ticket =
        plugins_->request_approval(fc, [this, device, id, fc](const plugins::Decision& d) {
            auto* conn = connection(device);
            if (!conn || conn->id() != id) return;
            conn->approval_ticket = 0;
            if (d.approved) {
                log::info("first contact approved adapter=", fc.adapter, " peer=", fc.peer_id,
                          " address=", fc.address, " short_code=", fc.short_code, " role=", fc.role,
                          " (", d.why, ")");
            } else {
                log::warning("first contact refused adapter=", fc.adapter, " peer=", fc.peer_id,
                             " address=", fc.address, " short_code=", fc.short_code,
                             " role=", fc.role, " (", d.why, ")");
                if (conn->state() == Connection::State::Approving) {
                    if (d.by == plugins::Decision::By::Timeout)
                        note_attempt(*conn, "ApprovalExpired",
                                     "no verdict from plugin " + d.plugin + " within " +
                                         std::to_string(d.waited_seconds) + " s");
                    else
                        note_attempt(*conn, "Refused",
                                     d.why + (d.words.empty() ? "" : " (" + d.words + ")"));
                }
            }
            conn->approve(d.approved);
        });
}

bool Manager::admit_first_contact(Connection& c) {
    auto now = loop_.now();
    auto& limiter = c.adapter().first_contacts;
    if (limiter.admit(now)) return true;
    log::warning("first contact turned away adapter=", c.adapter().name, " device=", c.address(),
                 ": ", config_.refused_first_contacts_per_minute,
                 " first contacts ended without a session in the last minute; the next may start"
                 " in ",
                 limiter.retry_after(now), " s");
    note_attempt(c, "TurnedAway",
                 std::to_string(config_.refused_first_contacts_per_minute) +
                     " first contacts ended without a session in the last minute"
                     " (RefusedFirstContactsPerMinute); the next may start in " +
                     std::to_string(limiter.retry_after(now)) + " s");
    return false;
}

bool Manager::claim_identity(Connection& c, const handshake::DeviceId& peer) {
    for (const auto& [device, other] : connections_) {
        if (other.get() == &c || &other->adapter() != &c.adapter() || other->claimed() != peer)
            continue;
        log::warning("handshake refused adapter=", c.adapter().name, " device=", c.address(),
                     " peer=", id_text(peer),
                     ": another handshake with this identity is in progress (device=",
                     other->address(), "); the peer may try again once it has ended");
        note_attempt(c, "IdentityBusy",
                     "another handshake with this identity is in progress (device=" +
                         other->address() + ")");
        return false;
    }
    return true;
}

void Manager::session_minted(Connection& c, const handshake::Session& s) {
    AdapterState& a = c.adapter();
    SessionRecord& rec = sessions_[{a.name, PeerId(s.peer_id)}];
    // The same peer's session on another link ends: one live session per peer.
    if (rec.live && rec.live != &c) rec.live->retire_session(InvalidationReason::Replaced);

    SessionView v;
    v.adapter = a.name;
    v.peer_id = id_text(s.peer_id);
    v.peer_id_hex = to_hex(s.peer_id);
    v.address = c.address();
    v.kind = kind_text(s.kind);
    v.role = to_string(s.role);
    v.epoch = s.epoch;
    auto own = s.own.certificate();
    v.not_before = own ? own->not_before : 0;
    v.not_after = s.not_after();
    v.fingerprint = to_hex(s.fingerprint);
    v.short_code = s.short_code;
    v.state = "live";
    rec.view = v;
    rec.live = &c;
    log::info("session minted adapter=", v.adapter, " peer=", v.peer_id, " address=", v.address,
              " kind=", v.kind, " role=", v.role, " epoch=", v.epoch,
              " fingerprint=", v.fingerprint, " short_code=", v.short_code,
              " not_after=", v.not_after);
    peer_seen(a, s.peer_id, c.address());
    if (listener_.session_minted) listener_.session_minted(v);
    if (auto p = pair_after_session_.find(c.device_path()); p != pair_after_session_.end()) {
        const bool fresh =
            loop_.now() - p->second < 2 * std::chrono::seconds(config_.handshake_timeout_seconds);
        pair_after_session_.erase(p);
        if (fresh && c.role() == LinkRole::Central) {
            log::info(
                "pairing device=", c.address(),
                ": the session is live, asking bluetoothd to pair (its first Pair held GATT)");
            bluez_.pair(c.device_path());
        }
    }
    plugins::SessionFacts f;
    f.adapter = v.adapter;
    f.adapter_address = a.address;
    f.peer_id = v.peer_id;
    f.peer_id_hex = v.peer_id_hex;
    f.address = v.address;
    f.kind = v.kind;
    f.role = v.role;
    f.epoch = v.epoch;
    f.fingerprint = v.fingerprint;
    f.short_code = v.short_code;
    f.not_before = v.not_before;
    f.not_after = v.not_after;
    if (auto pem = cert::certificate_pem(s.own)) f.cert_pem = std::move(*pem);
    f.peer_cert_pem = cert::pem_encode("CERTIFICATE", cert::x509_from_compact(s.peer));
    if (auto key = cert::private_key_pem_secret(s.own))
        f.key_pem.assign(reinterpret_cast<const char*>(key->data()), key->size());
    plugins_->session_minted(std::move(f));  // wipes the key once the plugins had it
}

void Manager::session_invalidated(Connection& c, const handshake::Session& s,
                                  InvalidationReason reason) {
    // Measured from here: how long the channels' applications wait for
    // end-of-stream once the daemon has decided (PROTOCOL.md 8.3: 10 ms).
    const auto decided = std::chrono::steady_clock::now();
    auto it = sessions_.find({c.adapter().name, PeerId(s.peer_id)});
    if (it == sessions_.end() || it->second.live != &c) return;
    SessionRecord& rec = it->second;
    rec.live = nullptr;
    // Its channels end with it, whatever the reason, before anything else
    // here (logging, plugins, the API): every application reads
    // end-of-stream first (what PROTOCOL.md 8.3 bounds, and what is
    // measured), then the transports close.
    std::size_t channels = 0;
    double channels_ms = 0;
    if (channels_) {
        channels = channels_->end_applications(rec.view.adapter, PeerId(s.peer_id));
        channels_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - decided)
                .count();
        channels_->session_ended(rec.view.adapter, PeerId(s.peer_id));  // then the transports
    }
    rec.view.state = "invalidated";
    rec.view.reason = to_string(reason);
    log::info("session invalidated adapter=", rec.view.adapter, " peer=", rec.view.peer_id,
              " address=", rec.view.address, " epoch=", rec.view.epoch,
              " fingerprint=", rec.view.fingerprint, " reason=", rec.view.reason);
    if (channels) {
        char text[32];
        std::snprintf(text, sizeof text, "%.3f", channels_ms);
        log::info("session channels closed adapter=", rec.view.adapter, " peer=", rec.view.peer_id,
                  " channels=", channels, " ms_after_invalidation=", text);
    }
    plugins_->session_invalidated(rec.view.fingerprint,
                                  shutting_down_ ? std::string("Shutdown") : rec.view.reason);
    if (shutting_down_) return;
    if (listener_.session_invalidated) listener_.session_invalidated(rec.view);
    // Then the peer, whose Connected was the session being live (after the
    // invalidation: that signal is the one a client waits for).
    AdapterState& a = c.adapter();
    if (const auto* info = a.store.find(s.peer_id);
        info && listener_.peer_changed && announced_peers_.count({a.name, PeerId(s.peer_id)}))
        listener_.peer_changed(peer_view(a, *info));
}

void Manager::bond_refused(Connection& c, const std::string& reason) {
    BondRefusal r;
    r.adapter = c.adapter().name;
    r.address = c.address();
    if (const auto* s = c.session()) r.peer_id = id_text(s->peer_id);
    r.reason = reason;
    report_bond_refused(std::move(r));
}

void Manager::report_bond_refused(BondRefusal r) {
    if (listener_.bond_refused) listener_.bond_refused(r);
}

void Manager::note_attempt(Connection& c, std::string reason, std::string detail) {
    c.attempt_note = {std::move(reason), std::move(detail)};
}

void Manager::report_attempt(Connection& c, CloseReason reason, const std::string& why) {
    AttemptFailure f;
    f.reason = std::move(c.attempt_note.reason);
    f.detail = std::move(c.attempt_note.detail);
    const std::string secs = std::to_string(config_.handshake_timeout_seconds);
    switch (reason) {
        case CloseReason::HandshakeFailed:
            // Our approval policy's refusal ends the handshake too (NotApproved).
            if (f.reason.empty()) {
                f.reason = "HandshakeFailed";
                f.detail = why;
            }
            f.error = c.failure();
            break;
        case CloseReason::TurnedAway:
        case CloseReason::IdentityBusy:
            if (f.reason.empty()) {
                f.reason = to_string(reason);
                f.detail = why;
            }
            break;
        case CloseReason::HandshakeTimeout:
            f.reason = to_string(reason);
            f.detail = "the handshake did not finish within " + secs + " s (HandshakeTimeout)";
            break;
        case CloseReason::NoSession:
            f.reason = to_string(reason);
            f.detail = "no session within " + secs +
                       " s of the connection (HandshakeTimeout): no session, no service";
            break;
        case CloseReason::LinkLost: {
            // Only an attempt cut short: not the ordinary end of a link that
            // had its session.
            const auto from = c.closed_from();
            if (c.ever_live() ||
                (from != Connection::State::Handshaking && from != Connection::State::Approving))
                return;
            f.reason = to_string(reason);
            f.detail = std::string("the link ended ") +
                       (from == Connection::State::Approving
                            ? "while the first contact waited for approval"
                            : "during the handshake") +
                       " (" + why + ")";
            break;
        }
        default:
            return;  // ours to end (shutdown, revocation), or after a session
    }
    f.adapter = c.adapter().name;
    f.address = c.address();
    if (c.peer()) f.peer_id = id_text(*c.peer());
    log::warning("attempt failed adapter=", f.adapter,
                 f.peer_id.empty() ? std::string() : " peer=" + f.peer_id, " address=", f.address,
                 " reason=", f.reason, f.error.empty() ? std::string() : " error=" + f.error,
                 " why=", f.detail);
    if (listener_.attempt_failed) listener_.attempt_failed(f);
}

void Manager::closed(Connection& c, CloseReason reason, const std::string& why) {
    if (c.approval_ticket) plugins_->cancel_approval(c.approval_ticket);
    c.approval_ticket = 0;
    log::debug("link dropped device=", c.address(), " why=", why, " (", to_string(reason), ")");
    if (c.first_contact_failed()) c.adapter().first_contacts.failed(loop_.now());
    report_attempt(c, reason, why);
    if (!disconnects(reason)) return;
    const std::string device = c.device_path();
    if (reason == CloseReason::HandshakeTimeout && c.role() == LinkRole::Central &&
        !c.ever_live() && try_fresh_link(device)) {
        log::info("handshake stalled adapter=", c.adapter().name, " device=", c.address(),
                  ": trying once more on a fresh link");
        bluez_.reconnect(device);
        return;
    }
    if (reason != CloseReason::BondMismatch) {
        bluez_.disconnect(device);
        return;
    }
    // Our BOND is on its way to the peer: a Disconnect at once can overtake
    // it inside bluetoothd and leave the peer nothing to compare (seen on
    // the system tier), so the link ends a second later, unless it ended
    // by then.
    const std::uint64_t id = c.id();
    loop_.add_timer(std::chrono::seconds(1), [this, device, id] {
        auto* conn = connection(device);
        if (conn && conn->id() == id) bluez_.disconnect(device);
    });
}

// A central's first handshake on a link that timed out gets one more try
// on a fresh link: a message the two host stacks lost (docs/DAEMON.md, Known
// issues: an EATT bearer that swallowed a notification) is not sent again
// by the protocol, and a new link starts with new bearers.  Once per device
// in twice the handshake's time, so a peer that never answers is not
// called again and again.
bool Manager::try_fresh_link(const std::string& device) {
    const auto now = loop_.now();
    const auto quiet = 2 * std::chrono::seconds(config_.handshake_timeout_seconds);
    auto it = fresh_link_tries_.find(device);
    if (it != fresh_link_tries_.end() && now - it->second < quiet) return false;
    // Tries older than that no longer matter: the map stays as small as the
    // devices that stalled lately.
    std::erase_if(fresh_link_tries_, [&](const auto& t) { return now - t.second >= quiet; });
    fresh_link_tries_[device] = now;
    return true;
}

void Manager::peer_seen(AdapterState& a, const handshake::DeviceId& id,
                        const std::string& address) {
    if (a.store.find(id) && store::is_valid_address(address)) {
        auto rec = a.store.load(id);
        if (rec) {
            rec->info.address = address;
            rec->info.last_seen_unix = a.clock.now();
            if (auto r = a.store.save(*rec); !r)
                log::warning("adapter ", a.name,
                             ": cannot update peer record: ", r.error().message());
        } else {
            log::warning("adapter ", a.name, ": cannot read peer record: ", rec.error().message());
        }
    }
    const auto* info = a.store.find(id);
    if (!info) return;
    PeerView pv = peer_view(a, *info);
    if (announced_peers_.insert({a.name, PeerId(id)}).second) {
        log::info("peer added adapter=", a.name, " peer=", pv.device_id, " address=", address);
        if (listener_.peer_added) listener_.peer_added(pv);
    } else if (listener_.peer_changed) {
        listener_.peer_changed(pv);
    }
}

// --- agent ------------------------------------------------------------------

void Manager::confirm_pairing(const std::string& device_path, std::optional<std::uint32_t> passkey,
                              std::function<void(bool)> reply) {
    if (!passkey) {
        log::warning("LE bond refused device=", cut(device_path),
                     ": Just Works (no passkey) cannot be bound to a blueratchet session");
        BondRefusal r;
        r.reason = "Just Works offers no passkey to compare";
        if (auto* c = connection(device_path)) {
            r.adapter = c->adapter().name;
            r.address = c->address();
            if (const auto* s = c->session()) r.peer_id = id_text(s->peer_id);
        }
        report_bond_refused(std::move(r));
        reply(false);
        return;
    }
    const auto due = loop_.now() + std::chrono::seconds(config_.handshake_timeout_seconds);
    if (auto* c = connection(device_path); c && c->state() != Connection::State::Closed) {
        c->confirm_bond(*passkey, std::move(reply), due);
        return;
    }
    if (auto old = early_bonds_.find(device_path); old != early_bonds_.end()) {
        loop_.cancel(old->second.timer);
        auto r = std::move(old->second.reply);
        early_bonds_.erase(old);
        r(false);
    }
    EarlyBond& b = early_bonds_[device_path];
    b.reply = std::move(reply);
    b.passkey = *passkey;
    b.due = due;
    b.timer = loop_.add_timer(seconds_ms(config_.handshake_timeout_seconds),
                              [this, device_path] { early_bond_timeout(device_path); });
    log::info("LE bond deferred device=", cut(device_path), ": waiting up to ",
              config_.handshake_timeout_seconds, " s for the blueratchet session");
}

// No connection of ours came up for the device in time: no blueratchet
// session, no bond.
void Manager::early_bond_timeout(const std::string& device_path) {
    auto it = early_bonds_.find(device_path);
    if (it == early_bonds_.end()) return;
    EarlyBond early = std::move(it->second);
    early_bonds_.erase(it);
    log::warning("LE bond rejected device=", cut(device_path), ": no blueratchet session within ",
                 config_.handshake_timeout_seconds, " s; disconnecting");
    BondRefusal r;
    r.reason = "no blueratchet session in time";
    report_bond_refused(std::move(r));
    log::info("pairing rejected device=", cut(device_path));
    early.reply(false);
    bluez_.disconnect(device_path);
}

bool Manager::pair_after_session(const std::string& device_path, const std::string& why) {
    auto it = early_bonds_.find(device_path);
    if (it == early_bonds_.end()) return false;
    EarlyBond early = std::move(it->second);
    early_bonds_.erase(it);
    loop_.cancel(early.timer);
    log::warning("LE bond refused device=", cut(device_path), ": ", why,
                 "; connecting again, to pair once the session is live");
    BondRefusal r;
    r.reason = "bluetoothd holds GATT until the pairing ends: pairing again after the session";
    report_bond_refused(std::move(r));
    log::info("pairing rejected device=", cut(device_path));
    early.reply(false);
    // Wishes whose reconnection never brought a session go: the map stays
    // as small as the devices held lately.
    const auto now = loop_.now();
    const auto stale = 2 * std::chrono::seconds(config_.handshake_timeout_seconds);
    std::erase_if(pair_after_session_, [&](const auto& w) { return now - w.second >= stale; });
    pair_after_session_[device_path] = now;
    bluez_.reconnect(device_path);
    return true;
}

void Manager::cancel_confirmations() {
    for (auto& [device, c] : connections_) c->cancel_bond();
    auto all = std::move(early_bonds_);
    early_bonds_.clear();
    for (auto& [d, b] : all) {
        loop_.cancel(b.timer);
        b.reply(false);
    }
}

// --- Model ------------------------------------------------------------------

std::vector<AdapterView> Manager::adapters() const {
    std::vector<AdapterView> out;
    const char* role = config_.role == GattRoles::Peripheral ? "peripheral"
                       : config_.role == GattRoles::Central  ? "central"
                                                             : "both";
    for (const auto& [p, a] : adapters_) {
        AdapterView v;
        v.name = a->name;
        v.address = a->address;
        v.device_id = id_text(a->identity.public_key());
        v.powered = a->powered;
        v.role = role;
        v.pairing_window_open = a->window_open(loop_.now());
        v.pairing_window_remaining = a->window_remaining(loop_.now());
        out.push_back(std::move(v));
    }
    return out;
}

PeerView Manager::peer_view(const AdapterState& a, const store::PeerInfo& info) const {
    PeerView v;
    v.adapter = a.name;
    v.device_id = id_text(info.id);
    v.id_hex = to_hex(info.id);
    v.address = info.address;
    v.alias = info.alias;
    v.role = info.role == Role::Initiator ? "central" : "peripheral";
    v.epoch = info.newest_epoch();
    v.created_unix = info.created_unix;
    v.last_seen_unix = info.last_seen_unix;
    auto s = sessions_.find({a.name, PeerId(info.id)});
    v.connected = s != sessions_.end() && s->second.live != nullptr;
    return v;
}

std::vector<PeerView> Manager::peers() const {
    std::vector<PeerView> out;
    for (const auto& [p, a] : adapters_)
        for (const auto& [id, info] : a->store.peers()) out.push_back(peer_view(*a, info));
    return out;
}

std::vector<SessionView> Manager::sessions() const {
    std::vector<SessionView> out;
    for (const auto& [k, e] : sessions_) out.push_back(e.view);
    return out;
}

std::vector<PendingApproval> Manager::pending_approvals() const {
    return plugins_->pending();  // what the approval plugin answered BR_PENDING for
}

ApiResult<bool> Manager::set_pairing_window(const std::string& adapter_name,
                                            std::uint32_t seconds) {
    auto* a = adapter_by_name(adapter_name);
    if (!a) return api_failure(ApiError::NotFound, "no adapter " + adapter_name);
    if (seconds > kMaxPairingWindowSeconds)
        return api_failure(
            ApiError::InvalidArgument,
            "a pairing window is at most " + std::to_string(kMaxPairingWindowSeconds) + " s");
    loop_.cancel(a->window_timer);
    a->window_timer = 0;
    if (seconds == 0) {
        a->window_until.reset();
        log::info("pairing window closed adapter=", a->name);
    } else {
        a->window_until = loop_.now() + std::chrono::seconds(seconds);
        log::info("pairing window open adapter=", a->name, " seconds=", seconds);
        std::string path = a->path;
        a->window_timer = loop_.add_timer(seconds_ms(seconds), [this, path] {
            if (auto* ad = adapter(path)) {
                ad->window_timer = 0;
                ad->window_until.reset();
                log::info("pairing window closed adapter=", ad->name, " (time is up)");
                emit_adapters_changed();
            }
        });
    }
    emit_adapters_changed();
    return true;
}

// --- session channels -------------------------------------------------------

bool Manager::enable_channels(ChannelHub::Transport& transport) {
    ChannelHub::Sessions& sessions = *this;  // the private base, reachable here
    channels_ = std::make_unique<ChannelHub>(loop_, sessions, transport, [this] {
        return static_cast<std::int64_t>(clock_.wall_unix());
    });
    return channels_->start();
}

void Manager::set_peer_psm(const std::string& device_path, std::uint16_t psm) {
    if (auto* c = connection(device_path)) {
        c->set_peer_psm(psm);
        log::debug("device ", c->address(), " takes session channels on PSM ", psm);
    }
}

std::optional<ChannelHub::Session> Manager::channel_session(Connection& c) {
    const auto* s = c.session();
    if (!s || s->invalidated() || c.state() == Connection::State::Closed) return std::nullopt;
    return ChannelHub::Session{c.adapter().name, PeerId(s->peer_id), c.address(), c.peer_psm(), s};
}

std::optional<ChannelHub::Session> Manager::by_address(const std::string& local_address,
                                                       const std::string& peer_address) {
    auto same = [](const std::string& x, const std::string& y) {
        return x.size() == y.size() &&
               std::equal(x.begin(), x.end(), y.begin(), [](char a, char b) {
                   return std::toupper(static_cast<unsigned char>(a)) ==
                          std::toupper(static_cast<unsigned char>(b));
               });
    };
    for (auto& [device, c] : connections_) {
        if (!same(c->address(), peer_address)) continue;
        // An empty local address: the transport could not say (one adapter).
        if (!local_address.empty() && !same(c->adapter().address, local_address)) continue;
        if (auto s = channel_session(*c)) return s;
    }
    return std::nullopt;
}

std::optional<ChannelHub::Session> Manager::by_peer(const std::string& adapter,
                                                    const PeerId& peer) {
    auto it = sessions_.find({adapter, peer});
    if (it == sessions_.end() || !it->second.live) return std::nullopt;
    return channel_session(*it->second.live);
}

ApiResult<bool> Manager::register_service(const std::string& service, const std::string& owner,
                                          ChannelDeliver deliver) {
    if (!channels_)
        return api_failure(ApiError::Failed, "session channels are off (ChannelPSM = 0)");
    if (!channel::valid_service_name(service))
        return api_failure(ApiError::InvalidArgument,
                           "a service name is 1 to 64 of [A-Za-z0-9._-]");
    bool ok = channels_->register_service(
        service, owner,
        [deliver = std::move(deliver)](const std::string& name, const std::string& adapter,
                                       const PeerId& peer, int fd) {
            return deliver(name, adapter, peer.base64url(), fd);
        });
    if (!ok) return api_failure(ApiError::NotPermitted, "service " + service + " is taken");
    return true;
}

ApiResult<bool> Manager::unregister_service(const std::string& service, const std::string& owner) {
    if (!channels_ || !channels_->unregister_service(service, owner))
        return api_failure(ApiError::NotFound, "no service " + service + " of yours");
    return true;
}

void Manager::owner_gone(const std::string& owner) {
    if (channels_) channels_->unregister_owner(owner);
}

void Manager::open_channel(const std::string& adapter, const std::string& peer_id,
                           const std::string& service, int app_fd,
                           std::function<void(ApiResult<bool>)> done) {
    auto id = PeerId::parse(peer_id);
    if (!channels_ || !id) {
        ::close(app_fd);
        done(!channels_ ? api_failure(ApiError::Failed, "session channels are off (ChannelPSM = 0)")
                        : api_failure(ApiError::InvalidArgument,
                                      "a peer id is 43 characters of base64url or 64 of hex"));
        return;
    }
    if (!by_peer(adapter, *id)) {
        ::close(app_fd);
        done(api_failure(ApiError::NotFound, "no live session with " + peer_id));
        return;
    }
    channels_->open(adapter, *id, service, app_fd,
                    [done = std::move(done)](std::optional<std::string> error) {
                        if (error)
                            done(api_failure(ApiError::Failed, *error));
                        else
                            done(true);
                    });
}

Manager::SessionRecord* Manager::session_for(const std::string& adapter_name,
                                             const std::string& peer_id) {
    auto id = PeerId::parse(peer_id);
    if (!id) return nullptr;
    auto it = sessions_.find({adapter_name, *id});
    return it == sessions_.end() ? nullptr : &it->second;
}

ApiResult<bool> Manager::forget_peer(const std::string& adapter_name, const std::string& peer_id) {
    auto* a = adapter_by_name(adapter_name);
    if (!a) return api_failure(ApiError::NotFound, "no adapter " + adapter_name);
    auto id = PeerId::parse(peer_id);
    if (!id)
        return api_failure(ApiError::InvalidArgument,
                           "a peer id is 43 characters of base64url or 64 of hex");
    if (!a->store.find(id->bytes())) return api_failure(ApiError::NotFound, "no peer " + peer_id);
    if (auto it = sessions_.find({adapter_name, *id}); it != sessions_.end()) {
        if (it->second.live) it->second.live->close(CloseReason::Revoked, "peer forgotten");
        sessions_.erase(it);
    }
    if (auto r = a->store.remove(id->bytes()); !r)
        return api_failure(ApiError::Failed, r.error().message());
    announced_peers_.erase({adapter_name, *id});
    log::info("peer forgotten adapter=", adapter_name, " peer=", id->base64url());
    if (listener_.peer_removed) listener_.peer_removed(adapter_name, id->hex());
    return true;
}

ApiResult<bool> Manager::invalidate_session(const std::string& adapter_name,
                                            const std::string& peer_id) {
    auto* e = session_for(adapter_name, peer_id);
    if (!e || !e->live) return api_failure(ApiError::NotFound, "no live session with " + peer_id);
    e->live->close(CloseReason::Revoked, "session revoked");
    return true;
}

ApiResult<ExportBytes> Manager::export_session(const std::string& adapter_name,
                                               const std::string& peer_id, ExportWhat what,
                                               ExportFormat format) {
    auto* e = session_for(adapter_name, peer_id);
    if (!e) return api_failure(ApiError::NotFound, "no session with " + peer_id);
    if (!e->live || !e->live->session())
        return api_failure(ApiError::NotFound, "the session with " + peer_id +
                                                   " was invalidated (" + e->view.reason + ")");
    const auto& s = *e->live->session();
    auto to_vec = [](const auto& v) { return ExportBytes(v.begin(), v.end()); };
    switch (what) {
        case ExportWhat::Certificate: {
            if (format == ExportFormat::Der) {
                auto der = s.own.x509_der();
                if (!der) return api_failure(ApiError::Failed, "cannot encode the certificate");
                return to_vec(*der);
            }
            auto pem = cert::certificate_pem(s.own);
            if (!pem) return api_failure(ApiError::Failed, "cannot encode the certificate");
            return to_vec(*pem);
        }
        case ExportWhat::PeerCertificate: {
            Bytes der = cert::x509_from_compact(s.peer);
            if (format == ExportFormat::Der) return to_vec(der);
            return to_vec(cert::pem_encode("CERTIFICATE", der));
        }
        case ExportWhat::PrivateKey: {
            if (format != ExportFormat::Pem)
                return api_failure(ApiError::InvalidArgument,
                                   "the private key is exported as PEM only");
            // Built in guarded memory; the one heap copy is an ExportBytes,
            // wiped when the API has put it in the reply (api.cpp).
            auto pem = cert::private_key_pem_secret(s.own);
            if (!pem) return api_failure(ApiError::Failed, "the session key is gone");
            return ExportBytes(pem->data(), pem->data() + pem->size());
        }
    }
    return api_failure(ApiError::InvalidArgument, "unknown export");
}

ApiResult<bool> Manager::decide_approval(const std::string& adapter, const std::string& peer_id,
                                         bool approve) {
    return plugins_->operator_verdict(adapter, peer_id, approve);
}

}  // namespace br::daemon
