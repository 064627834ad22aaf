#include "daemon/core/daemon_core.hpp"

#include <sodium.h>

#include <algorithm>

#include "core/cert/certificate.hpp"
#include "core/cert/x509_pem.hpp"
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

std::string DaemonCore::id_text(const handshake::DeviceId& id) {
    char out[64];
    sodium_bin2base64(out, sizeof out, id.data(), id.size(),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return out;
}

std::optional<handshake::DeviceId> DaemonCore::parse_id(const std::string& text) {
    handshake::DeviceId id{};
    if (text.size() == 64) {
        auto b = from_hex(text);
        if (!b || b->size() != id.size()) return std::nullopt;
        std::copy(b->begin(), b->end(), id.begin());
        return id;
    }
    std::size_t len = 0;
    if (text.size() != 43 ||
        sodium_base642bin(id.data(), id.size(), text.data(), text.size(), nullptr, &len, nullptr,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        len != id.size())
        return std::nullopt;
    return id;
}

DaemonCore::DaemonCore(const Config& config, std::string state_dir, EventLoop& loop,
                       BluezActions& bluez, const time::Clock& clock)
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

DaemonCore::~DaemonCore() {
    for (auto& [key, e] : sessions_)
        if (e.session && !e.session->invalidated()) {
            e.session->invalidate(InvalidationReason::LinkLost);
            plugins_->session_invalidated(e.view.fingerprint, "Shutdown");
        }
    save_clocks();
    // The hook plugins hear of the invalidations before fini().
    plugins_.reset();
}

// --- adapters ---------------------------------------------------------------

bool DaemonCore::add_adapter(const std::string& path, const std::string& name,
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
        if (announced_peers_.insert({name, to_hex(pid)}).second && listener_.peer_added)
            listener_.peer_added(peer_view(added, info));
    }
    return true;
}

void DaemonCore::set_adapter_powered(const std::string& path, bool powered) {
    auto* a = adapter(path);
    if (!a || a->powered == powered) return;
    a->powered = powered;
    log::info("adapter ", a->name, " powered=", powered ? "yes" : "no");
    emit_adapters_changed();
}

void DaemonCore::remove_adapter(const std::string& path) {
    auto it = adapters_.find(path);
    if (it == adapters_.end()) return;
    std::vector<std::string> devices;
    for (auto& [id, l] : links_)
        if (&l->adapter() == it->second.get()) devices.push_back(l->device_path());
    for (const auto& d : devices) link_lost(d, "adapter removed");
    // Sessions of this adapter are gone with it (their entries point at it).
    for (auto s = sessions_.begin(); s != sessions_.end();) {
        if (s->second.adapter_path == path) {
            invalidate_entry(s->second, InvalidationReason::LinkLost);
            loop_.cancel(s->second.expiry);
            loop_.cancel(s->second.grace);
            s = sessions_.erase(s);
        } else {
            ++s;
        }
    }
    if (auto w = window_timers_.find(path); w != window_timers_.end()) {
        loop_.cancel(w->second);
        window_timers_.erase(w);
    }
    auto lkg = it->second->clock.value_to_save();
    if (auto r = store::save_clock(it->second->dir, lkg); !r)
        log::warning("adapter ", it->second->name, ": ", r.error().message());
    log::info("adapter removed adapter=", it->second->name);
    // Links were dropped through deferred tasks that still hold a pointer
    // to the adapter: keep it alive until they have run.
    std::shared_ptr<AdapterState> keep(std::move(it->second));
    adapters_.erase(it);
    loop_.defer([keep] {});
    emit_adapters_changed();
}

AdapterState* DaemonCore::adapter(const std::string& path) {
    auto it = adapters_.find(path);
    return it == adapters_.end() ? nullptr : it->second.get();
}

AdapterState* DaemonCore::adapter_by_name(const std::string& name) {
    for (auto& [p, a] : adapters_)
        if (a->name == name) return a.get();
    return nullptr;
}

void DaemonCore::open_windows(std::uint32_t seconds) {
    std::vector<std::string> names;
    for (auto& [p, a] : adapters_) names.push_back(a->name);
    for (const auto& n : names) (void)set_pairing_window(n, seconds);
}

void DaemonCore::save_clocks() {
    for (auto& [p, a] : adapters_) {
        if (auto r = store::save_clock(a->dir, a->clock.value_to_save()); !r)
            log::warning("adapter ", a->name, ": ", r.error().message());
    }
}

void DaemonCore::emit_adapters_changed() {
    if (listener_.adapters_changed) listener_.adapters_changed();
}

// --- links ------------------------------------------------------------------

LinkSession* DaemonCore::make_link(AdapterState& a, const std::string& device_path,
                                   const std::string& address, LinkSession::Role role, LinkIo io) {
    LinkId id = next_link_++;
    LinkSession::Hooks hooks;
    hooks.on_session = [this](LinkSession& l, handshake::Session s) {
        on_session(l, std::move(s));
    };
    hooks.on_failure = [this](LinkSession& l, const std::string& why) { on_link_failure(l, why); };
    hooks.approve = [this](LinkSession& l, const std::string& code) { request_approval(l, code); };
    hooks.admit_first_contact = [this](LinkSession& l) { return admit_first_contact(l); };
    hooks.confirmed = [](LinkSession& l) {
        log::info("ratchet confirmed adapter=", l.adapter().name, " address=", l.address(),
                  ": the peripheral committed the new seed; every older one is wiped");
    };
    hooks.bond = [this](LinkSession& l, std::uint32_t passkey) { on_peer_bond(l, passkey); };
    auto link = std::make_unique<LinkSession>(id, a, device_path, address, role, std::move(io),
                                              std::move(hooks), settings_);
    LinkSession* raw = link.get();
    // A new connection to the same device replaces whatever link was left.
    if (auto old = link_by_device_.find(device_path); old != link_by_device_.end())
        drop_link(old->second, "replaced by a new link", false);
    links_[id] = std::move(link);
    link_by_device_[device_path] = id;
    return raw;
}

// The approval plugin decides (docs/PLUGINS.md), on either side: a pairing
// needs both verdicts (protocol 1.1), as LE numeric comparison needs both
// users.  The verdict comes back on the loop, and only if the link still
// exists.  The plugin has at most what is left of the handshake deadline,
// less a second to finish the handshake.
void DaemonCore::request_approval(LinkSession& l, const std::string& code) {
    AdapterState& a = l.adapter();
    const bool central = l.role() == LinkSession::Role::Initiator;
    if (central)
        log::info("pairing adapter=", a.name, " address=", l.address(), " short_code=", code,
                  " (the peripheral shows the same code if no one is in between)");
    plugins::FirstContact c;
    c.role = central ? "initiator" : "responder";
    c.adapter = a.name;
    c.adapter_address = a.address;
    if (l.peer()) {
        c.peer_id = id_text(*l.peer());
        c.peer_id_hex = to_hex(*l.peer());
    }
    c.address = l.address();
    c.short_code = code;
    c.window_open = a.window_open();
    c.window_remaining = a.window_remaining();
    auto left = static_cast<std::int64_t>(config_.handshake_timeout_seconds);
    if (l.deadline != 0)
        left = std::chrono::duration_cast<std::chrono::seconds>(l.deadline_at -
                                                                std::chrono::steady_clock::now())
                   .count();
    c.timeout_seconds = static_cast<std::uint32_t>(std::max<std::int64_t>(left - 1, 1));
    LinkId id = l.id();
    plugins_->cancel_approval(l.approval);
    l.approval =
        plugins_->request_approval(c, [this, id, c](bool approved, const std::string& why) {
            auto it = links_.find(id);
            if (it == links_.end()) return;
            LinkSession& link = *it->second;
            link.approval = 0;
            if (approved) {
                log::info("first contact approved adapter=", c.adapter, " peer=", c.peer_id,
                          " address=", c.address, " short_code=", c.short_code, " role=", c.role,
                          " (", why, ")");
            } else {
                log::warning("first contact refused adapter=", c.adapter, " peer=", c.peer_id,
                             " address=", c.address, " short_code=", c.short_code, " role=", c.role,
                             " (", why, ")");
            }
            link.approval_verdict(approved);
        });
}

bool DaemonCore::admit_first_contact(LinkSession& l) {
    auto now = std::chrono::steady_clock::now();
    auto& limiter = l.adapter().first_contacts;
    if (limiter.admit(now)) return true;
    log::warning("first contact turned away adapter=", l.adapter().name, " device=", l.address(),
                 ": ", config_.refused_first_contacts_per_minute,
                 " first contacts ended without a session in the last minute; the next may start"
                 " in ",
                 limiter.retry_after(now), " s");
    return false;
}

void DaemonCore::arm_deadline(LinkSession& l) {
    loop_.cancel(l.deadline);
    LinkId id = l.id();
    auto secs = config_.handshake_timeout_seconds;
    l.deadline_at = std::chrono::steady_clock::now() + std::chrono::seconds(secs);
    l.deadline = loop_.add_timer(seconds_ms(secs), [this, id, secs] {
        auto it = links_.find(id);
        if (it == links_.end() || !it->second->handshaking()) return;
        it->second->deadline = 0;
        log::warning("handshake timeout adapter=", it->second->adapter().name,
                     " device=", it->second->address(), " after ", secs,
                     " s: disconnecting (no session, no service)");
        answer_confirmations(it->second->device_path(), false);
        drop_link(id, "handshake timeout", true);
    });
}

void DaemonCore::peripheral_connected(const std::string& adapter_path,
                                      const std::string& device_path, const std::string& address) {
    auto* a = adapter(adapter_path);
    if (!a) return;
    shunned_.erase(device_path);  // a new connection starts clean
    if (service_deadline_.count(device_path)) return;
    auto secs = config_.handshake_timeout_seconds;
    log::debug("peripheral link up adapter=", a->name, " device=", address, ": session due in ",
               secs, " s");
    service_deadline_[device_path] =
        loop_.add_timer(seconds_ms(secs), [this, device_path, address, secs] {
            service_deadline_.erase(device_path);
            for (auto& [k, e] : sessions_)
                if (e.device_path == device_path && e.session && !e.session->invalidated()) return;
            log::warning("no session within ", secs, " s device=", address,
                         ": disconnecting (no session, no service)");
            answer_confirmations(device_path, false);
            if (auto l = link_by_device_.find(device_path); l != link_by_device_.end())
                drop_link(l->second, "no session in time", false);
            disconnect_device(device_path);
        });
}

std::optional<handshake::DeviceId> DaemonCore::known_peer_at(const AdapterState& a,
                                                             const std::string& address) const {
    std::optional<handshake::DeviceId> best;
    std::int64_t seen = -1;
    for (const auto& [id, info] : a.store.peers()) {
        if (info.address != address || info.role != store::PeerRole::Responder) continue;
        if (info.last_seen_unix > seen) {
            best = id;
            seen = info.last_seen_unix;
        }
    }
    return best;
}

std::optional<DaemonCore::LinkId> DaemonCore::central_ready(const std::string& adapter_path,
                                                            const std::string& device_path,
                                                            const std::string& address, LinkIo io) {
    auto* a = adapter(adapter_path);
    if (!a) return std::nullopt;
    // A device we do not know yet: a first contact, which both sides'
    // approval policies must let through (protocol 1.1: the central's user
    // compares the code too).
    auto peer = known_peer_at(*a, address);
    LinkSession* l =
        make_link(*a, device_path, address, LinkSession::Role::Initiator, std::move(io));
    const bool in_1_0 = peer && a->speaks_1_0.count(*peer) != 0;
    log::info("handshake start adapter=", a->name, " device=", address,
              " kind=", peer ? "resume" : "pair", peer ? " peer=" + id_text(*peer) : std::string(),
              in_1_0 ? " protocol=1.0" : "");
    arm_deadline(*l);
    LinkId id = l->id();
    l->start(peer, in_1_0);
    return id;
}

void DaemonCore::server_fragment(const std::string& adapter_path, const std::string& device_path,
                                 const std::string& address, ByteView fragment, std::size_t mtu,
                                 const std::function<bool(ByteView)>& notify) {
    auto* a = adapter(adapter_path);
    if (!a || shunned_.count(device_path)) return;
    LinkSession* l = nullptr;
    if (auto it = link_by_device_.find(device_path); it != link_by_device_.end()) {
        l = links_.at(it->second).get();
        if (l->role() != LinkSession::Role::Responder || l->failed()) l = nullptr;
    }
    if (!l) {
        if (link_by_device_.count(device_path) &&
            links_.at(link_by_device_.at(device_path))->failed())
            return;  // a failed link is being dropped: ignore what is still in flight
        l = make_link(*a, device_path, address, LinkSession::Role::Responder, LinkIo{notify, mtu});
        log::info("handshake start adapter=", a->name, " device=", address, " role=responder");
    }
    l->set_mtu(mtu);
    link_fragment(l->id(), fragment);
}

void DaemonCore::link_fragment(LinkId id, ByteView fragment) {
    auto it = links_.find(id);
    if (it == links_.end()) return;
    LinkSession& l = *it->second;
    bool before = l.handshaking();
    l.on_fragment(fragment);
    // A responder starts a handshake on the first fragment of the
    // central's first message (first contact or rekey).
    if (!before && links_.count(id) && l.handshaking()) arm_deadline(l);
}

bool DaemonCore::has_link(const std::string& device_path) const {
    return link_by_device_.count(device_path) != 0;
}

void DaemonCore::on_session(LinkSession& l, handshake::Session s) {
    AdapterState& a = l.adapter();
    loop_.cancel(l.deadline);
    l.deadline = 0;
    if (auto d = service_deadline_.find(l.device_path()); d != service_deadline_.end()) {
        loop_.cancel(d->second);
        service_deadline_.erase(d);
    }
    // The peer's certificate was accepted, so its not_before is a time that
    // has passed: the last-known-good clock may rise to it (a device without
    // a real-time clock learns the time from its peers this way).
    a.clock.observe(s.peer.not_before);
    std::string hex = to_hex(s.peer_id);
    SessionKey key{a.name, hex};
    SessionEntry& e = sessions_[key];
    if (e.session && !e.session->invalidated()) invalidate_entry(e, InvalidationReason::Replaced);
    loop_.cancel(e.expiry);
    loop_.cancel(e.grace);
    e.expiry = e.grace = 0;

    SessionView v;
    v.adapter = a.name;
    v.peer_id = id_text(s.peer_id);
    v.peer_id_hex = hex;
    v.address = l.address();
    v.kind = kind_text(s.kind);
    v.role = s.role == cert::Role::Initiator ? "initiator" : "responder";
    v.epoch = s.epoch;
    auto own = s.own.certificate();
    v.not_before = own ? own->not_before : 0;
    v.not_after = s.not_after();
    v.fingerprint = to_hex(s.fingerprint);
    v.short_code = s.short_code;
    v.state = "live";
    e.adapter_path = a.path;
    e.device_path = l.device_path();
    e.link = l.id();
    e.view = v;
    e.session = std::move(s);
    log::info("session minted adapter=", v.adapter, " peer=", v.peer_id, " address=", v.address,
              " kind=", v.kind, " role=", v.role, " epoch=", v.epoch,
              " fingerprint=", v.fingerprint, " short_code=", v.short_code,
              " not_after=", v.not_after);
    peer_seen(a, e.session->peer_id, l.address());
    arm_expiry(key);
    if (listener_.session_minted) listener_.session_minted(v);
    {
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
        const auto& ss = *e.session;
        if (auto pem = cert::certificate_pem(ss.own)) f.cert_pem = std::move(*pem);
        f.peer_cert_pem = cert::pem_encode("CERTIFICATE", cert::x509_from_compact(ss.peer));
        if (auto key = cert::private_key_pem_secret(ss.own))
            f.key_pem.assign(reinterpret_cast<const char*>(key->data()), key->size());
        plugins_->session_minted(std::move(f));  // wipes the key once the plugins had it
    }
    try_bond(l.device_path());
}

void DaemonCore::peer_seen(AdapterState& a, const handshake::DeviceId& id,
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
    SessionKey key{a.name, to_hex(id)};
    PeerView pv = peer_view(a, *info);
    if (announced_peers_.insert(key).second) {
        log::info("peer added adapter=", a.name, " peer=", pv.device_id, " address=", address);
        if (listener_.peer_added) listener_.peer_added(pv);
    } else if (listener_.peer_changed) {
        listener_.peer_changed(pv);
    }
}

void DaemonCore::on_link_failure(LinkSession& l, const std::string& why) {
    if (l.peer_may_speak_only_1_0() && l.peer() && l.adapter().speaks_1_0.insert(*l.peer()).second)
        log::warning("peer ", id_text(*l.peer()), " address=", l.address(),
                     " refused protocol 1.1 the way a 1.0 build does: the next connection resumes"
                     " in 1.0 (until this daemon restarts; upgrade the peer to get 1.1's"
                     " protections)");
    log::warning("handshake failed adapter=", l.adapter().name, " device=", l.address(),
                 " role=", l.role() == LinkSession::Role::Initiator ? "initiator" : "responder",
                 " reason=\"", why, "\": disconnecting");
    answer_confirmations(l.device_path(), false);
    LinkId id = l.id();
    // We are inside the LinkSession: drop it from the loop, not from here.
    loop_.defer([this, id, why] { drop_link(id, why, true); });
}

void DaemonCore::drop_link(LinkId id, const std::string& why, bool disconnect) {
    auto it = links_.find(id);
    if (it == links_.end()) return;
    std::unique_ptr<LinkSession> l = std::move(it->second);
    links_.erase(it);
    if (auto d = link_by_device_.find(l->device_path());
        d != link_by_device_.end() && d->second == id)
        link_by_device_.erase(d);
    loop_.cancel(l->deadline);
    if (l->approval) plugins_->cancel_approval(l->approval);
    for (auto& [key, e] : sessions_) {
        if (e.link != id || !e.session || e.session->invalidated()) continue;
        invalidate_entry(e, InvalidationReason::LinkLost);
    }
    peer_bonds_.erase(l->device_path());
    log::debug("link dropped device=", l->address(), " why=", why);
    if (l->first_contact_failed())
        l->adapter().first_contacts.failed(std::chrono::steady_clock::now());
    if (disconnect) disconnect_device(l->device_path());
    // Destroy it on the next turn: a caller up the stack may still use it.
    std::shared_ptr<LinkSession> keep(std::move(l));
    loop_.defer([keep] {});
}

void DaemonCore::invalidate_entry(SessionEntry& e, InvalidationReason reason) {
    if (!e.session || e.session->invalidated()) return;
    e.session->invalidate(reason);
    loop_.cancel(e.expiry);
    e.expiry = 0;
    e.view.state = "invalidated";
    e.view.reason = to_string(reason);
    log::info("session invalidated adapter=", e.view.adapter, " peer=", e.view.peer_id,
              " address=", e.view.address, " epoch=", e.view.epoch,
              " fingerprint=", e.view.fingerprint, " reason=", e.view.reason);
    plugins_->session_invalidated(e.view.fingerprint, e.view.reason);
    if (listener_.session_invalidated) listener_.session_invalidated(e.view);
}

void DaemonCore::disconnect_device(const std::string& device_path) {
    // Until Connected=false arrives, whatever the device still writes is
    // dropped unread: a central that floods after its link failed must not
    // make a new link (and a log line, and a Disconnect) per fragment.
    shunned_.insert(device_path);
    bluez_.disconnect(device_path);
}

void DaemonCore::disconnect_device_after(const std::string& device_path,
                                         std::chrono::milliseconds delay) {
    shunned_.insert(device_path);
    loop_.add_timer(delay, [this, device_path] {
        if (shunned_.count(device_path)) bluez_.disconnect(device_path);
    });
}

void DaemonCore::link_lost(const std::string& device_path, const std::string& why) {
    shunned_.erase(device_path);
    // First the keys: wipe every session on this device now.
    for (auto& [key, e] : sessions_)
        if (e.device_path == device_path) invalidate_entry(e, InvalidationReason::LinkLost);
    if (auto d = service_deadline_.find(device_path); d != service_deadline_.end()) {
        loop_.cancel(d->second);
        service_deadline_.erase(d);
    }
    answer_confirmations(device_path, false);
    if (auto l = link_by_device_.find(device_path); l != link_by_device_.end()) {
        log::debug("link lost device=", cut(device_path), " (", why, ")");
        drop_link(l->second, why, false);
    }
}

void DaemonCore::bluez_gone() {
    std::vector<std::string> devices;
    for (auto& [id, l] : links_) devices.push_back(l->device_path());
    for (auto& [k, e] : sessions_) devices.push_back(e.device_path);
    for (auto& [d, t] : service_deadline_) devices.push_back(d);
    for (const auto& d : devices) link_lost(d, "bluetoothd went away");
    shunned_.clear();
    cancel_confirmations();
}

// --- expiry -----------------------------------------------------------------

void DaemonCore::arm_expiry(const SessionKey& key) {
    auto& e = sessions_.at(key);
    auto* a = adapter(e.adapter_path);
    if (!a) return;
    std::int64_t left = static_cast<std::int64_t>(e.view.not_after) - a->clock.now();
    e.expiry = loop_.add_timer(seconds_ms(left), [this, key] { on_expiry(key); });
}

void DaemonCore::on_expiry(const SessionKey& key) {
    auto it = sessions_.find(key);
    if (it == sessions_.end()) return;
    SessionEntry& e = it->second;
    e.expiry = 0;
    if (!e.session || e.session->invalidated()) return;
    invalidate_entry(e, InvalidationReason::Expired);
    auto l = links_.find(e.link);
    if (config_.on_expiry == OnExpiry::Disconnect || l == links_.end()) {
        log::info("session expired adapter=", e.view.adapter, " peer=", e.view.peer_id,
                  ": disconnecting (OnExpiry=disconnect)");
        if (l != links_.end()) drop_link(e.link, "session expired", false);
        disconnect_device(e.device_path);
        return;
    }
    LinkSession& link = *l->second;
    if (link.role() == LinkSession::Role::Initiator) {
        log::info("session expired adapter=", e.view.adapter, " peer=", e.view.peer_id,
                  ": rekeying over the live link (resume)");
        arm_deadline(link);
        link.start(link.peer());
        return;
    }
    // Peripheral: the central rekeys; give it a bounded grace.
    auto secs = config_.handshake_timeout_seconds;
    log::info("session expired adapter=", e.view.adapter, " peer=", e.view.peer_id, ": waiting ",
              secs, " s for the central's resume");
    std::uint32_t old_epoch = e.view.epoch;
    e.grace = loop_.add_timer(seconds_ms(secs), [this, key, old_epoch] {
        auto s = sessions_.find(key);
        if (s == sessions_.end()) return;
        s->second.grace = 0;
        if (s->second.view.epoch != old_epoch && s->second.session &&
            !s->second.session->invalidated())
            return;
        log::warning("no rekey from the central adapter=", s->second.view.adapter,
                     " peer=", s->second.view.peer_id, ": disconnecting");
        if (links_.count(s->second.link)) drop_link(s->second.link, "no rekey", false);
        disconnect_device(s->second.device_path);
    });
}

// --- agent ------------------------------------------------------------------

// The LE bond is bound to the session (protocol 1.1, docs/SECURITY.md): each
// daemon sends the passkey its bluetoothd asked about to the peer inside the
// session (BOND) and confirms only if the peer's is the same.  A relay of a
// known pair's resume cannot make two bonds of its own look alike: LE numeric
// comparison gives its two halves different passkeys.
void DaemonCore::confirm_pairing(const std::string& device_path,
                                 std::optional<std::uint32_t> passkey,
                                 std::function<void(bool)> reply) {
    if (!passkey) {
        log::warning("LE bond refused device=", cut(device_path),
                     ": Just Works (no passkey) cannot be bound to a blueratchet session");
        report_bond_refused(device_path, "Just Works offers no passkey to compare");
        reply(false);
        return;
    }
    if (auto old = confirms_.find(device_path); old != confirms_.end()) {
        loop_.cancel(old->second.timer);
        auto r = std::move(old->second.reply);
        confirms_.erase(old);
        r(false);
    }
    auto secs = config_.handshake_timeout_seconds;
    PendingConfirm pc;
    pc.reply = std::move(reply);
    pc.passkey = *passkey;
    pc.timer = loop_.add_timer(seconds_ms(secs), [this, device_path, secs] {
        auto it = confirms_.find(device_path);
        if (it == confirms_.end()) return;
        it->second.timer = 0;
        const bool had_session = it->second.sent;
        log::warning(
            "LE bond rejected device=", cut(device_path),
            had_session ? ": the peer sent no passkey within " : ": no blueratchet session within ",
            secs, " s; disconnecting");
        report_bond_refused(device_path, had_session ? "the peer never sent its passkey"
                                                     : "no blueratchet session in time");
        answer_confirmations(device_path, false);
        if (auto l = link_by_device_.find(device_path); l != link_by_device_.end())
            drop_link(l->second, "pairing confirmation timeout", false);
        disconnect_device(device_path);
    });
    confirms_[device_path] = std::move(pc);
    if (!try_bond(device_path))
        log::info("LE bond deferred device=", cut(device_path), ": waiting up to ", secs,
                  " s for the blueratchet session");
}

void DaemonCore::on_peer_bond(LinkSession& l, std::uint32_t passkey) {
    peer_bonds_[l.device_path()] = passkey;
    try_bond(l.device_path());
}

// Sends our passkey once the device's link has a live session, and answers
// once both are known.  True when the session exists (the exchange started).
bool DaemonCore::try_bond(const std::string& device_path) {
    auto pc = confirms_.find(device_path);
    if (pc == confirms_.end()) return false;
    auto l = link_by_device_.find(device_path);
    if (l == link_by_device_.end()) return false;
    const SessionEntry* live = nullptr;
    for (const auto& [k, e] : sessions_)
        if (e.device_path == device_path && e.link == l->second && e.session &&
            !e.session->invalidated())
            live = &e;
    if (!live) return false;
    LinkSession& link = *links_.at(l->second);
    if (live->session->version != handshake::Version::V1_1) {
        log::warning("LE bond refused device=", cut(device_path), " peer=", live->view.peer_id,
                     ": the pair still speaks protocol 1.0, which cannot bind a bond to its"
                     " session");
        report_bond_refused(device_path, "the peer speaks protocol 1.0");
        answer_confirmations(device_path, false);
        return true;
    }
    if (!pc->second.sent) {
        if (!link.send_bond(pc->second.passkey)) {
            report_bond_refused(device_path, "could not send our passkey to the peer");
            answer_confirmations(device_path, false);
            return true;
        }
        pc->second.sent = true;
        log::info("LE bond passkey sent device=", cut(device_path), " peer=", live->view.peer_id,
                  ": waiting for the peer's");
    }
    auto theirs = peer_bonds_.find(device_path);
    if (theirs == peer_bonds_.end()) return true;
    const std::uint32_t peer_passkey = theirs->second;
    peer_bonds_.erase(theirs);
    if (peer_passkey == pc->second.passkey) {
        log::info("LE bond confirmed device=", cut(device_path), " peer=", live->view.peer_id,
                  " epoch=", live->view.epoch,
                  ": both bluetoothds asked about the same passkey, carried inside the session");
        answer_confirmations(device_path, true);
    } else {
        // Different passkeys mean this connection is not the peer's own LE
        // link: someone relays it.  The session is still end to end, but the
        // link is known to be attacked, so it ends here, on both sides
        // alike (the kernel ends it after a failed SMP pairing only
        // sometimes, depending on which Pairing Failed crosses first).
        log::warning("LE bond refused device=", cut(device_path), " peer=", live->view.peer_id,
                     ": passkeys differ (ours ", pc->second.passkey, ", the peer's ", peer_passkey,
                     "): someone is between the two LE links; disconnecting");
        report_bond_refused(device_path, "passkeys differ: ours " +
                                             std::to_string(pc->second.passkey) + ", the peer's " +
                                             std::to_string(peer_passkey));
        const LinkId attacked = l->second;
        answer_confirmations(device_path, false);
        drop_link(attacked, "LE bond passkeys differ", false);
        // Our BOND is on its way to the peer: a Disconnect at once can
        // overtake it inside bluetoothd and leave the peer nothing to compare
        // (seen on the system tier), so the link ends a second later.
        disconnect_device_after(device_path, std::chrono::seconds(1));
    }
    return true;
}

void DaemonCore::report_bond_refused(const std::string& device_path, const std::string& reason) {
    BondRefusal r;
    r.reason = reason;
    for (const auto& [k, e] : sessions_) {
        if (e.device_path != device_path) continue;
        r.adapter = e.view.adapter;
        r.peer_id = e.view.peer_id;
        r.address = e.view.address;
    }
    if (r.adapter.empty()) {
        if (auto l = link_by_device_.find(device_path); l != link_by_device_.end()) {
            r.adapter = links_.at(l->second)->adapter().name;
            r.address = links_.at(l->second)->address();
        }
    }
    if (listener_.bond_refused) listener_.bond_refused(r);
}

void DaemonCore::answer_confirmations(const std::string& device_path, bool ok) {
    auto it = confirms_.find(device_path);
    if (it == confirms_.end()) return;
    loop_.cancel(it->second.timer);
    auto r = std::move(it->second.reply);
    confirms_.erase(it);
    log::info("pairing ", ok ? "confirmed" : "rejected", " device=", cut(device_path),
              ok ? ": the peer's passkey matched over the session" : "");
    r(ok);
}

void DaemonCore::cancel_confirmations() {
    auto all = std::move(confirms_);
    confirms_.clear();
    for (auto& [d, pc] : all) {
        loop_.cancel(pc.timer);
        pc.reply(false);
    }
}

// --- Model ------------------------------------------------------------------

std::vector<AdapterView> DaemonCore::adapters() const {
    std::vector<AdapterView> out;
    const char* role = config_.role == Role::Peripheral ? "peripheral"
                       : config_.role == Role::Central  ? "central"
                                                        : "both";
    for (const auto& [p, a] : adapters_) {
        AdapterView v;
        v.name = a->name;
        v.address = a->address;
        v.device_id = id_text(a->identity.public_key());
        v.powered = a->powered;
        v.role = role;
        v.pairing_window_open = a->window_open();
        v.pairing_window_remaining = a->window_remaining();
        out.push_back(std::move(v));
    }
    return out;
}

PeerView DaemonCore::peer_view(const AdapterState& a, const store::PeerInfo& info) const {
    PeerView v;
    v.adapter = a.name;
    v.device_id = id_text(info.id);
    v.id_hex = to_hex(info.id);
    v.address = info.address;
    v.alias = info.alias;
    v.role = info.role == store::PeerRole::Initiator ? "central" : "peripheral";
    v.epoch = info.newest_epoch();
    v.created_unix = info.created_unix;
    v.last_seen_unix = info.last_seen_unix;
    auto s = sessions_.find({a.name, v.id_hex});
    v.connected = s != sessions_.end() && s->second.session && !s->second.session->invalidated();
    return v;
}

std::vector<PeerView> DaemonCore::peers() const {
    std::vector<PeerView> out;
    for (const auto& [p, a] : adapters_)
        for (const auto& [id, info] : a->store.peers()) out.push_back(peer_view(*a, info));
    return out;
}

std::vector<SessionView> DaemonCore::sessions() const {
    std::vector<SessionView> out;
    for (const auto& [k, e] : sessions_) out.push_back(e.view);
    return out;
}

std::vector<PendingApproval> DaemonCore::pending_approvals() const {
    return plugins_->pending();  // what the approval plugin answered BR_PENDING for
}

ApiResult<bool> DaemonCore::set_pairing_window(const std::string& adapter_name,
                                               std::uint32_t seconds) {
    auto* a = adapter_by_name(adapter_name);
    if (!a) return ApiResult<bool>::fail(ApiError::NotFound, "no adapter " + adapter_name);
    if (seconds > 86400)
        return ApiResult<bool>::fail(ApiError::InvalidArgument,
                                     "a pairing window is at most 86400 s");
    if (auto w = window_timers_.find(a->path); w != window_timers_.end()) {
        loop_.cancel(w->second);
        window_timers_.erase(w);
    }
    if (seconds == 0) {
        a->window_until.reset();
        log::info("pairing window closed adapter=", a->name);
    } else {
        a->window_until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
        log::info("pairing window open adapter=", a->name, " seconds=", seconds);
        std::string path = a->path;
        window_timers_[path] = loop_.add_timer(seconds_ms(seconds), [this, path] {
            window_timers_.erase(path);
            if (auto* ad = adapter(path)) {
                ad->window_until.reset();
                log::info("pairing window closed adapter=", ad->name, " (time is up)");
                emit_adapters_changed();
            }
        });
    }
    emit_adapters_changed();
    return ApiResult<bool>::ok(true);
}

DaemonCore::SessionEntry* DaemonCore::session_for(const std::string& adapter_name,
                                                  const std::string& peer_id) {
    auto id = parse_id(peer_id);
    if (!id) return nullptr;
    auto it = sessions_.find({adapter_name, to_hex(*id)});
    return it == sessions_.end() ? nullptr : &it->second;
}

ApiResult<bool> DaemonCore::forget_peer(const std::string& adapter_name,
                                        const std::string& peer_id) {
    auto* a = adapter_by_name(adapter_name);
    if (!a) return ApiResult<bool>::fail(ApiError::NotFound, "no adapter " + adapter_name);
    auto id = parse_id(peer_id);
    if (!id)
        return ApiResult<bool>::fail(ApiError::InvalidArgument,
                                     "a peer id is 43 characters of base64url or 64 of hex");
    if (!a->store.find(*id)) return ApiResult<bool>::fail(ApiError::NotFound, "no peer " + peer_id);
    std::string hex = to_hex(*id);
    if (auto* e = session_for(adapter_name, peer_id)) {
        std::string device = e->device_path;
        invalidate_entry(*e, InvalidationReason::Revoked);
        if (auto l = link_by_device_.find(device); l != link_by_device_.end())
            drop_link(l->second, "peer forgotten", false);
        if (!device.empty()) disconnect_device(device);
        sessions_.erase({adapter_name, hex});
    }
    if (auto r = a->store.remove(*id); !r)
        return ApiResult<bool>::fail(ApiError::Failed, r.error().message());
    announced_peers_.erase({adapter_name, hex});
    log::info("peer forgotten adapter=", adapter_name, " peer=", id_text(*id));
    if (listener_.peer_removed) listener_.peer_removed(adapter_name, hex);
    return ApiResult<bool>::ok(true);
}

ApiResult<bool> DaemonCore::invalidate_session(const std::string& adapter_name,
                                               const std::string& peer_id) {
    auto* e = session_for(adapter_name, peer_id);
    if (!e || !e->session || e->session->invalidated())
        return ApiResult<bool>::fail(ApiError::NotFound, "no live session with " + peer_id);
    invalidate_entry(*e, InvalidationReason::Revoked);
    if (auto l = link_by_device_.find(e->device_path); l != link_by_device_.end())
        drop_link(l->second, "session revoked", false);
    disconnect_device(e->device_path);
    return ApiResult<bool>::ok(true);
}

ApiResult<ExportBytes> DaemonCore::export_session(const std::string& adapter_name,
                                                  const std::string& peer_id, ExportWhat what,
                                                  ExportFormat format) {
    using R = ApiResult<ExportBytes>;
    auto* e = session_for(adapter_name, peer_id);
    if (!e || !e->session) return R::fail(ApiError::NotFound, "no session with " + peer_id);
    if (e->session->invalidated())
        return R::fail(ApiError::NotFound,
                       "the session with " + peer_id + " was invalidated (" + e->view.reason + ")");
    const auto& s = *e->session;
    auto to_vec = [](const auto& v) { return ExportBytes(v.begin(), v.end()); };
    switch (what) {
        case ExportWhat::Certificate: {
            if (format == ExportFormat::Der) {
                auto der = s.own.x509_der();
                if (!der) return R::fail(ApiError::Failed, "cannot encode the certificate");
                return R::ok(to_vec(*der));
            }
            auto pem = cert::certificate_pem(s.own);
            if (!pem) return R::fail(ApiError::Failed, "cannot encode the certificate");
            return R::ok(to_vec(*pem));
        }
        case ExportWhat::PeerCertificate: {
            Bytes der = cert::x509_from_compact(s.peer);
            if (format == ExportFormat::Der) return R::ok(to_vec(der));
            return R::ok(to_vec(cert::pem_encode("CERTIFICATE", der)));
        }
        case ExportWhat::PrivateKey: {
            if (format != ExportFormat::Pem)
                return R::fail(ApiError::InvalidArgument,
                               "the private key is exported as PEM only");
            // Built in guarded memory; the one heap copy is an ExportBytes,
            // wiped when the API has put it in the reply (api.cpp).
            auto pem = cert::private_key_pem_secret(s.own);
            if (!pem) return R::fail(ApiError::Failed, "the session key is gone");
            return R::ok(ExportBytes(pem->data(), pem->data() + pem->size()));
        }
    }
    return R::fail(ApiError::InvalidArgument, "unknown export");
}

ApiResult<bool> DaemonCore::decide_approval(const std::string& adapter, const std::string& peer_id,
                                            bool approve) {
    return plugins_->operator_verdict(adapter, peer_id, approve);
}

}  // namespace br::daemon
