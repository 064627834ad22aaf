#include "daemon/api/api.hpp"

#include <sdbus-c++/sdbus-c++.h>
#include <systemd/sd-bus.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "daemon/api/errors.hpp"
#include "daemon/api/guard.hpp"
#include "daemon/api/ids.hpp"
#include "daemon/shown.hpp"
#include "org.blueratchet.Adapter1_adaptor.h"
#include "org.blueratchet.Manager1_adaptor.h"
#include "org.blueratchet.Peer1_adaptor.h"
#include "org.blueratchet.Session1_adaptor.h"

#ifndef BR_VERSION
#define BR_VERSION "unknown"
#endif

namespace br::daemon {

using namespace api;

namespace {

// sdbus-c++ 1.2.0 does not expose the sd_bus_message under a Message: its
// `msg_` is protected, and a member pointer formed through a derived class
// reaches it without instantiating anything.
struct RawMessage : sdbus::Message {
    static sd_bus_message* of(const sdbus::Message& m) {
        return static_cast<sd_bus_message*>(m.*(&RawMessage::msg_));
    }
};

using MessageRef = std::shared_ptr<sd_bus_message>;

MessageRef keep(sd_bus_message* m) {
    return MessageRef(sd_bus_message_ref(m), [](sd_bus_message* x) { sd_bus_message_unref(x); });
}

// Answers `call` with `data` (signature "ay") so that no copy of it stays in
// the daemon's heap (issue #10, item 5: an exported private key was found in
// a core dump).  sdbus-c++ 1.2.0 appends a vector byte by byte, growing the
// message body with realloc() and leaving partial copies in freed memory;
// here the bytes go in with one sd_bus_message_append_array(), and the
// message is marked sensitive, so sd-bus wipes its buffers when it frees it
// (after the write, whenever the socket takes it).  The caller's `data` is
// an ExportBytes, wiped when it goes.
void reply_sensitive(sd_bus_message* call, const ExportBytes& data) {
    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_return(call, &raw);
    if (r < 0)
        throw sdbus::Error(errors::kFailed,
                           std::string("cannot create the reply: ") + std::strerror(-r));
    std::unique_ptr<sd_bus_message, sd_bus_message* (*)(sd_bus_message*)> reply(
        raw, sd_bus_message_unref);
    if ((r = sd_bus_message_sensitive(reply.get())) < 0 ||
        (r = sd_bus_message_append_array(reply.get(), 'y', data.data(), data.size())) < 0 ||
        (r = sd_bus_send(nullptr, reply.get(), nullptr)) < 0)
        throw sdbus::Error(errors::kFailed,
                           std::string("cannot send the reply: ") + std::strerror(-r));
}

std::string check_adapter(const std::string& adapter) {
    bool ok = !adapter.empty() && adapter.size() <= 32 &&
              std::all_of(adapter.begin(), adapter.end(), [](char c) {
                  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '_';
              });
    if (!ok) throw sdbus::Error(errors::kInvalidArgument, "bad adapter name " + shown(adapter));
    return adapter;
}

std::string check_peer(const std::string& peer_id) {
    auto id = ids::canonical_id(peer_id);
    if (!id) {
        throw sdbus::Error(errors::kInvalidArgument,
                           "bad peer id " + shown(peer_id) +
                               ": expected 43 base64url characters or 64 hex digits");
    }
    return *id;
}

// Object path elements may only hold [A-Za-z0-9_].
std::string path_element(const std::string& s) {
    std::string out = s;
    for (char& c : out) {
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            c = '_';
    }
    return out.empty() ? std::string("_") : out;
}

std::string hex_of(const std::string& id_hex, const std::string& id_b64) {
    if (!id_hex.empty()) return id_hex;
    return ids::id_hex(id_b64).value_or(path_element(id_b64));
}

}  // namespace

std::string Api::adapter_path(const std::string& adapter) {
    return std::string(errors::kManagerPath) + "/" + path_element(adapter);
}
std::string Api::peer_path(const std::string& adapter, const std::string& id_hex) {
    return adapter_path(adapter) + "/peer_" + path_element(id_hex);
}
std::string Api::session_path(const std::string& adapter, const std::string& id_hex) {
    return peer_path(adapter, id_hex) + "/session";
}

// --------------------------------------------------------------------------
// The objects.  Each keeps the last view it published, so change signals name
// exactly the properties that changed.

namespace {

class ManagerObject;
class AdapterObject;
class PeerObject;
class SessionObject;

}  // namespace

struct Api::Impl {
    Impl(sdbus::IConnection& c, Model& m) : conn(c), model(m) {}

    sdbus::IConnection& conn;
    Model& model;

    std::unique_ptr<ManagerObject> manager;
    std::map<std::string, std::unique_ptr<AdapterObject>> adapters;  // by name
    std::map<std::string, std::unique_ptr<PeerObject>> peers;        // by path
    std::map<std::string, std::unique_ptr<SessionObject>> sessions;  // by path

    // A Session1 method may make the model invalidate that very session.
    // sdbus-c++ touches the object after the handler returns, so such an
    // object is only retired here (signals sent) and destroyed on the next
    // turn of the loop; a session minted at its path meanwhile waits too.
    SessionObject* executing = nullptr;
    std::vector<std::unique_ptr<SessionObject>> retired;
    std::map<std::string, SessionView> deferred_mints;
    bool flush_scheduled = false;
    // While the constructor publishes what the model already holds, no
    // InterfacesAdded/SessionMinted: nobody can be watching objects that did
    // not exist, and a store of 10k peers would mean a burst of 10k signals.
    // Clients read the tree with GetManagedObjects when the name appears.
    bool populating = false;

    // Declared last: destroyed first, cancelling its pending calls (whose
    // callbacks point into this Impl).
    std::unique_ptr<sdbus::IProxy> bus;

    void populate();
    void on_adapters_changed();
    void on_peer(const PeerView& v);
    void on_peer_removed(const std::string& adapter, const std::string& id_hex);
    void on_session_minted(const SessionView& v);
    void on_session_invalidated(const SessionView& v);
    void on_approval_requested(const PendingApproval& p);
    void on_bond_refused(const BondRefusal& r);

    void remove_session(const std::string& path, const std::string& reason);
    void schedule_flush();
    void flush();
    void require_root(const std::string& sender,
                      std::function<void(std::optional<sdbus::Error>)> then);
};

namespace {

class ManagerObject final
    : public sdbus::AdaptorInterfaces<org::blueratchet::Manager1_adaptor,
                                      sdbus::ObjectManager_adaptor, sdbus::Properties_adaptor> {
  public:
    explicit ManagerObject(Api::Impl& api)
        : AdaptorInterfaces(api.conn, errors::kManagerPath), api_(api) {
        registerAdaptor();
    }
    ~ManagerObject() { unregisterAdaptor(); }

    std::vector<std::string> published_adapters;  // paths, sorted

  private:
    void SetPairingWindow(const std::string& adapter, const uint32_t& seconds) override {
        guarded("SetPairingWindow",
                [&] { unwrap(api_.model.set_pairing_window(check_adapter(adapter), seconds)); });
    }
    void ForgetPeer(const std::string& adapter, const std::string& peer_id) override {
        guarded("ForgetPeer", [&] {
            unwrap(api_.model.forget_peer(check_adapter(adapter), check_peer(peer_id)));
        });
    }
    void Approve(const std::string& adapter, const std::string& peer_id) override {
        guarded("Approve", [&] {
            unwrap(api_.model.decide_approval(check_adapter(adapter), check_peer(peer_id), true));
        });
    }
    void Reject(const std::string& adapter, const std::string& peer_id) override {
        guarded("Reject", [&] {
            unwrap(api_.model.decide_approval(check_adapter(adapter), check_peer(peer_id), false));
        });
    }
    std::vector<sdbus::Struct<std::string, std::string, std::string, std::string, uint32_t>>
    ListPendingApprovals() override {
        return guarded("ListPendingApprovals", [&] {
            std::vector<sdbus::Struct<std::string, std::string, std::string, std::string, uint32_t>>
                out;
            for (const auto& p : api_.model.pending_approvals()) {
                out.emplace_back(p.adapter, p.peer_id, p.address, p.short_code, p.expires_in);
            }
            return out;
        });
    }
    std::string Version() override { return BR_VERSION; }
    std::vector<sdbus::ObjectPath> Adapters() override {
        return guarded("Adapters", [&] {
            return std::vector<sdbus::ObjectPath>(published_adapters.begin(),
                                                  published_adapters.end());
        });
    }

    Api::Impl& api_;
};

class AdapterObject final
    : public sdbus::AdaptorInterfaces<org::blueratchet::Adapter1_adaptor,
                                      sdbus::ManagedObject_adaptor, sdbus::Properties_adaptor> {
  public:
    AdapterObject(Api::Impl& api, AdapterView v)
        : AdaptorInterfaces(api.conn, Api::adapter_path(v.name)), api_(api), view_(std::move(v)) {
        registerAdaptor();
    }
    ~AdapterObject() { unregisterAdaptor(); }

    void update(const AdapterView& v) {
        std::vector<std::string> changed;
        if (v.address != view_.address) changed.push_back("Address");
        if (v.device_id != view_.device_id) changed.push_back("DeviceId");
        if (v.powered != view_.powered) changed.push_back("Powered");
        if (v.role != view_.role) changed.push_back("Role");
        if (v.pairing_window_open != view_.pairing_window_open)
            changed.push_back("PairingWindowOpen");
        view_ = v;
        if (!changed.empty())
            emitPropertiesChangedSignal(org::blueratchet::Adapter1_adaptor::INTERFACE_NAME,
                                        changed);
    }

  private:
    std::string Name() override { return view_.name; }
    std::string Address() override { return view_.address; }
    std::string DeviceId() override { return view_.device_id; }
    bool Powered() override { return view_.powered; }
    std::string Role() override { return view_.role; }
    bool PairingWindowOpen() override { return view_.pairing_window_open; }
    uint32_t PairingWindowRemaining() override {
        // Counts down between change notifications: ask the model.
        return guarded("PairingWindowRemaining", [&]() -> uint32_t {
            for (const auto& a : api_.model.adapters()) {
                if (a.name == view_.name)
                    return a.pairing_window_open ? a.pairing_window_remaining : 0;
            }
            return 0;
        });
    }

    Api::Impl& api_;
    AdapterView view_;
};

class PeerObject final
    : public sdbus::AdaptorInterfaces<org::blueratchet::Peer1_adaptor, sdbus::ManagedObject_adaptor,
                                      sdbus::Properties_adaptor> {
  public:
    PeerObject(Api::Impl& api, PeerView v, std::string path)
        : AdaptorInterfaces(api.conn, std::move(path)), view_(std::move(v)) {
        registerAdaptor();
    }
    ~PeerObject() { unregisterAdaptor(); }

    void update(const PeerView& v) {
        std::vector<std::string> changed;
        if (v.address != view_.address) changed.push_back("Address");
        if (v.alias != view_.alias) changed.push_back("Alias");
        if (v.role != view_.role) changed.push_back("Role");
        if (v.epoch != view_.epoch) changed.push_back("Epoch");
        if (v.created_unix != view_.created_unix) changed.push_back("Created");
        if (v.last_seen_unix != view_.last_seen_unix) changed.push_back("LastSeen");
        if (v.connected != view_.connected) changed.push_back("Connected");
        view_ = v;
        if (!changed.empty())
            emitPropertiesChangedSignal(org::blueratchet::Peer1_adaptor::INTERFACE_NAME, changed);
    }

  private:
    sdbus::ObjectPath Adapter() override { return Api::adapter_path(view_.adapter); }
    std::string DeviceId() override { return view_.device_id; }
    std::string Address() override { return view_.address; }
    std::string Alias() override { return view_.alias; }
    std::string Role() override { return view_.role; }
    uint32_t Epoch() override { return view_.epoch; }
    int64_t Created() override { return view_.created_unix; }
    int64_t LastSeen() override { return view_.last_seen_unix; }
    bool Connected() override { return view_.connected; }

    PeerView view_;
};

class SessionObject final
    : public sdbus::AdaptorInterfaces<org::blueratchet::Session1_adaptor,
                                      sdbus::ManagedObject_adaptor, sdbus::Properties_adaptor> {
  public:
    SessionObject(Api::Impl& api, SessionView v, std::string path)
        : AdaptorInterfaces(api.conn, std::move(path)), api_(api), view_(std::move(v)) {
        registerAdaptor();
    }
    ~SessionObject() { unregisterAdaptor(); }

    const SessionView& view() const { return view_; }
    std::string peer_path() const {
        return Api::peer_path(view_.adapter, hex_of(view_.peer_id_hex, view_.peer_id));
    }

  private:
    struct Executing {
        Api::Impl& api;
        SessionObject* previous;
        Executing(Api::Impl& a, SessionObject* self) : api(a), previous(a.executing) {
            a.executing = self;
        }
        ~Executing() { api.executing = previous; }
    };

    void Export(sdbus::Result<std::vector<uint8_t>>&& result, std::string what,
                std::string format) override {
        // The reply may come later (key export waits for the caller's uid),
        // and std::function wants copyable captures.
        auto reply = std::make_shared<sdbus::Result<std::vector<uint8_t>>>(std::move(result));
        auto answer_error = [reply](const sdbus::Error& e) {
            quietly("Export reply", [&] { reply->returnError(e); });
        };
        try {
            Executing guard(api_, this);
            ExportWhat w;
            if (what == "certificate")
                w = ExportWhat::Certificate;
            else if (what == "peer-certificate")
                w = ExportWhat::PeerCertificate;
            else if (what == "key")
                w = ExportWhat::PrivateKey;
            else
                throw sdbus::Error(
                    errors::kInvalidArgument,
                    "what must be certificate, peer-certificate or key, not " + shown(what));
            ExportFormat f;
            if (format == "pem")
                f = ExportFormat::Pem;
            else if (format == "der")
                f = ExportFormat::Der;
            else
                throw sdbus::Error(errors::kInvalidArgument,
                                   "format must be pem or der, not " + shown(format));

            const auto* msg = getObject().getCurrentlyProcessedMessage();
            if (!msg) throw sdbus::Error(errors::kFailed, "Export: no message being processed");
            MessageRef call = keep(RawMessage::of(*msg));
            Api::Impl* api = &api_;
            std::string adapter = view_.adapter, peer = view_.peer_id;
            auto run = [api, adapter, peer, w, f, call, answer_error]() {
                try {
                    guarded("Export", [&] {
                        ExportBytes data = unwrap(api->model.export_session(adapter, peer, w, f));
                        reply_sensitive(call.get(), data);
                    });
                } catch (const sdbus::Error& e) {
                    answer_error(e);
                }
            };
            if (w != ExportWhat::PrivateKey) {
                run();
                return;
            }
            std::string sender = msg->getSender();
            api_.require_root(sender, [run, answer_error](std::optional<sdbus::Error> denied) {
                if (denied)
                    answer_error(*denied);
                else
                    run();
            });
        } catch (const sdbus::Error& e) {
            answer_error(e);
        } catch (const std::exception& e) {
            log_error(std::string("Export: ") + e.what());
            answer_error(
                sdbus::Error(errors::kFailed, std::string("Export failed: ") + one_line(e.what())));
        } catch (...) {
            answer_error(sdbus::Error(errors::kFailed, "Export failed: internal error"));
        }
    }

    void Invalidate() override {
        Executing guard(api_, this);
        // Copies: the model may invalidate (and so retire) this very object.
        std::string adapter = view_.adapter, peer = view_.peer_id;
        guarded("Invalidate", [&] { unwrap(api_.model.invalidate_session(adapter, peer)); });
    }

    sdbus::ObjectPath Peer() override { return peer_path(); }
    std::string Adapter() override { return view_.adapter; }
    std::string Address() override { return view_.address; }
    uint32_t Epoch() override { return view_.epoch; }
    uint32_t NotBefore() override { return view_.not_before; }
    uint32_t NotAfter() override { return view_.not_after; }
    std::string Fingerprint() override { return view_.fingerprint; }
    std::string ShortCode() override { return view_.short_code; }
    std::string State() override { return view_.state.empty() ? std::string("live") : view_.state; }
    std::string Kind() override { return view_.kind; }
    std::string Role() override { return view_.role; }

    Api::Impl& api_;
    SessionView view_;
};

}  // namespace

// --------------------------------------------------------------------------

void Api::Impl::populate() {
    manager = std::make_unique<ManagerObject>(*this);
    populating = true;
    on_adapters_changed();
    for (const auto& p : model.peers()) on_peer(p);
    for (const auto& s : model.sessions()) {
        if (s.state.empty() || s.state == "live") on_session_minted(s);
    }
    populating = false;
}

void Api::Impl::on_adapters_changed() {
    auto views = model.adapters();
    std::map<std::string, const AdapterView*> now;
    for (const auto& v : views) now[v.name] = &v;

    for (auto it = adapters.begin(); it != adapters.end();) {
        if (now.count(it->first)) {
            ++it;
            continue;
        }
        quietly("adapter removed", [&] { it->second->emitInterfacesRemovedSignal(); });
        it = adapters.erase(it);
    }
    for (const auto& [name, v] : now) {
        auto it = adapters.find(name);
        if (it != adapters.end()) {
            it->second->update(*v);
            continue;
        }
        auto obj = std::make_unique<AdapterObject>(*this, *v);
        auto* raw = obj.get();
        adapters.emplace(name, std::move(obj));
        if (!populating) quietly("adapter added", [&] { raw->emitInterfacesAddedSignal(); });
    }
    std::vector<std::string> paths;
    for (const auto& [name, obj] : adapters) paths.push_back(Api::adapter_path(name));
    if (paths != manager->published_adapters) {
        manager->published_adapters = std::move(paths);
        if (!populating) {
            manager->emitPropertiesChangedSignal(org::blueratchet::Manager1_adaptor::INTERFACE_NAME,
                                                 {"Adapters"});
        }
    }
}

void Api::Impl::on_peer(const PeerView& v) {
    auto path = Api::peer_path(v.adapter, hex_of(v.id_hex, v.device_id));
    auto it = peers.find(path);
    if (it != peers.end()) {
        it->second->update(v);
        return;
    }
    auto obj = std::make_unique<PeerObject>(*this, v, path);
    auto* raw = obj.get();
    peers.emplace(path, std::move(obj));
    if (!populating) quietly("peer added", [&] { raw->emitInterfacesAddedSignal(); });
}

void Api::Impl::on_peer_removed(const std::string& adapter, const std::string& id_hex) {
    auto path = Api::peer_path(adapter, id_hex);
    auto spath = Api::session_path(adapter, id_hex);
    if (sessions.count(spath)) remove_session(spath, "forgotten");
    deferred_mints.erase(spath);
    auto it = peers.find(path);
    if (it == peers.end()) return;
    quietly("peer removed", [&] { it->second->emitInterfacesRemovedSignal(); });
    peers.erase(it);
}

void Api::Impl::on_session_minted(const SessionView& v) {
    auto path = Api::session_path(v.adapter, hex_of(v.peer_id_hex, v.peer_id));
    if (sessions.count(path)) remove_session(path, "replaced");
    bool path_busy = std::any_of(retired.begin(), retired.end(),
                                 [&](const auto& s) { return s->getObjectPath() == path; });
    if (path_busy) {
        // The old object at this path is still executing its handler.
        deferred_mints[path] = v;
        schedule_flush();
        return;
    }
    auto obj = std::make_unique<SessionObject>(*this, v, path);
    auto* raw = obj.get();
    sessions.emplace(path, std::move(obj));
    if (populating) return;
    quietly("session added", [&] { raw->emitInterfacesAddedSignal(); });
    manager->emitSessionMinted(path, v.adapter, v.peer_id, v.kind, v.epoch, v.fingerprint,
                               v.short_code);
}

void Api::Impl::on_session_invalidated(const SessionView& v) {
    auto path = Api::session_path(v.adapter, hex_of(v.peer_id_hex, v.peer_id));
    if (deferred_mints.erase(path)) {
        // Minted and invalidated before its object could appear.
        manager->emitSessionInvalidated(path, v.adapter, v.peer_id, v.reason);
        return;
    }
    if (!sessions.count(path)) return;
    remove_session(path, v.reason.empty() ? std::string("invalidated") : v.reason);
}

void Api::Impl::remove_session(const std::string& path, const std::string& reason) {
    auto it = sessions.find(path);
    if (it == sessions.end()) return;
    std::unique_ptr<SessionObject> obj = std::move(it->second);
    sessions.erase(it);
    const auto& v = obj->view();
    // The reason first, then the object goes.
    quietly("SessionInvalidated",
            [&] { manager->emitSessionInvalidated(path, v.adapter, v.peer_id, reason); });
    quietly("session removed", [&] { obj->emitInterfacesRemovedSignal(); });
    if (obj.get() == executing) {
        retired.push_back(std::move(obj));
        schedule_flush();
    }
    // else: destroyed (unregistered) here.
}

// The next turn of the loop, without knowing the loop: the reply to a cheap
// call to the bus daemon arrives after the current handler has returned.
void Api::Impl::schedule_flush() {
    if (flush_scheduled) return;
    flush_scheduled = true;
    bus->callMethodAsync("GetId")
        .onInterface("org.freedesktop.DBus")
        .uponReplyInvoke([this](const sdbus::Error* /*error*/, const std::string& /*id*/) {
            quietly("flush", [&] { flush(); });
        });
}

void Api::Impl::flush() {
    flush_scheduled = false;
    if (executing != nullptr) {  // cannot happen from a reply callback, but be safe
        schedule_flush();
        return;
    }
    retired.clear();
    auto mints = std::move(deferred_mints);
    deferred_mints.clear();
    for (const auto& [path, v] : mints) on_session_minted(v);
}

void Api::Impl::require_root(const std::string& sender,
                             std::function<void(std::optional<sdbus::Error>)> then) {
    if (sender.empty()) {
        then(sdbus::Error(errors::kNotPermitted, "cannot tell who is asking"));
        return;
    }
    bus->callMethodAsync("GetConnectionUnixUser")
        .onInterface("org.freedesktop.DBus")
        .withArguments(sender)
        .uponReplyInvoke([then](const sdbus::Error* error, uint32_t uid) {
            if (error) {
                then(sdbus::Error(errors::kFailed,
                                  "cannot check the caller: " + error->getMessage()));
            } else if (uid != 0) {
                then(sdbus::Error(errors::kNotPermitted,
                                  "only root may export a session private key"));
            } else {
                then(std::nullopt);
            }
        });
}

void Api::Impl::on_approval_requested(const PendingApproval& p) {
    manager->emitApprovalRequested(p.adapter, p.peer_id, p.address, p.short_code, p.expires_in);
}

void Api::Impl::on_bond_refused(const BondRefusal& r) {
    manager->emitBondRefused(r.adapter, r.peer_id, r.address, r.reason);
}

// --------------------------------------------------------------------------

Api::Api(sdbus::IConnection& conn, Model& model) : impl_(std::make_unique<Impl>(conn, model)) {
    Impl& i = *impl_;
    i.bus = sdbus::createProxy(conn, "org.freedesktop.DBus", "/org/freedesktop/DBus");
    i.populate();

    Model::Listener l;
    l.adapters_changed = [&i] { quietly("adapters_changed", [&] { i.on_adapters_changed(); }); };
    l.peer_added = [&i](const PeerView& v) { quietly("peer_added", [&] { i.on_peer(v); }); };
    l.peer_changed = [&i](const PeerView& v) { quietly("peer_changed", [&] { i.on_peer(v); }); };
    l.peer_removed = [&i](const std::string& adapter, const std::string& id_hex) {
        quietly("peer_removed", [&] { i.on_peer_removed(adapter, id_hex); });
    };
    l.session_minted = [&i](const SessionView& v) {
        quietly("session_minted", [&] { i.on_session_minted(v); });
    };
    l.session_invalidated = [&i](const SessionView& v) {
        quietly("session_invalidated", [&] { i.on_session_invalidated(v); });
    };
    l.approval_requested = [&i](const PendingApproval& p) {
        quietly("approval_requested", [&] { i.on_approval_requested(p); });
    };
    l.bond_refused = [&i](const BondRefusal& r) {
        quietly("bond_refused", [&] { i.on_bond_refused(r); });
    };
    model.set_listener(std::move(l));
}

Api::~Api() {
    impl_->model.set_listener({});
    impl_->bus.reset();
    impl_->retired.clear();
    impl_->sessions.clear();
    impl_->peers.clear();
    impl_->adapters.clear();
    impl_->manager.reset();
}

}  // namespace br::daemon
