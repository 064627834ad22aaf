// SPDX-License-Identifier: MIT
#include "daemon/api/api.hpp"

#include <sdbus-c++/sdbus-c++.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "daemon/api/adapter_node.hpp"
#include "daemon/api/errors.hpp"
#include "daemon/api/guard.hpp"
#include "daemon/api/managed_objects.hpp"
#include "daemon/api/paths.hpp"
#include "daemon/api/raw_bus.hpp"
#include "daemon/shown.hpp"
#include "org.blueratchet.Manager1_adaptor.h"
#include "version.hpp"

namespace br::daemon {

using namespace api;

namespace {

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
    auto id = PeerId::parse(peer_id);
    if (!id) {
        throw sdbus::Error(errors::kInvalidArgument,
                           "bad peer id " + shown(peer_id) +
                               ": expected 43 base64url characters or 64 hex digits");
    }
    return id->base64url();
}

class ManagerObject;

}  // namespace

std::string Api::adapter_path(const std::string& adapter) {
    return api::adapter_path(adapter);
}
std::string Api::peer_path(const std::string& adapter, const std::string& id_hex) {
    return adapter_path(adapter) + "/peer_" + path_element(id_hex);
}
std::string Api::session_path(const std::string& adapter, const std::string& id_hex) {
    return peer_path(adapter, id_hex) + "/session";
}

// --------------------------------------------------------------------------
// The manager is an sdbus-c++ object (one, with the ObjectManager); the
// adapters, peers and sessions are served by sd-bus from one node per adapter
// path (adapter_node.hpp): with 10,000 stored peers, one sdbus-c++ object
// each cost 48 MB (issue #11).

struct Api::Impl {
    Impl(sdbus::IConnection& c, Loop& l, Model& m) : conn(c), loop(l), model(m) {}

    sdbus::IConnection& conn;
    Loop& loop;
    Model& model;
    sd_bus* raw = nullptr;  // conn's, under sdbus-c++ (raw_bus.hpp)

    std::unique_ptr<ManagerObject> manager;
    // By adapter path; kept for the Api's life (adapter_node.hpp says why).
    std::map<std::string, std::unique_ptr<AdapterNode>> nodes;
    // GetManagedObjects, written without holding the loop; told of every
    // object signalled (managed_objects.hpp says why).  After `nodes`: it
    // walks them.
    std::unique_ptr<ManagedObjects> managed;
    // While the constructor publishes what the model already holds, no
    // InterfacesAdded/SessionMinted: nobody can be watching objects that did
    // not exist.  Clients read the tree with GetManagedObjects when the name
    // appears.
    bool populating = false;

    // Declared last: destroyed first, cancelling its pending calls (whose
    // callbacks point into this Impl).
    std::unique_ptr<sdbus::IProxy> bus;

    AdapterNode& node(const std::string& adapter_name);
    AdapterNode* find_node(const std::string& adapter_name);

    void populate();
    // An object was just signalled: a GetManagedObjects reply being written
    // describes it again once sent.
    void touched(const std::string& path) {
        if (managed) managed->touched(path);
    }
    void on_adapters_changed();
    void on_peer(const PeerView& v);
    void on_peer_removed(const std::string& adapter, const std::string& id_hex);
    void on_session_minted(const SessionView& v);
    void on_session_invalidated(const SessionView& v);
    void on_approval_requested(const PendingApproval& p);
    void on_bond_refused(const BondRefusal& r);
    void on_attempt_failed(const AttemptFailure& f);

    // Session channels: each service's handler object on its owner's
    // connection, and a match on each owner leaving the bus.
    struct Handler {
        std::string owner, path;
    };
    std::map<std::string, std::unique_ptr<sdbus::IProxy>> handler_proxies;  // by owner \n path
    std::map<std::string, sdbus::Slot> owner_watches;                       // by owner
    bool hand_channel(const Handler& h, const std::string& service, const std::string& adapter,
                      const std::string& peer_id, int fd);
    void watch_owner(const std::string& owner);

    // SessionInvalidated (the reason first), then the object goes.
    void end_session(AdapterNode& n, const PeerKey& key, const std::string& reason);
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
    void RegisterService(const std::string& service, const sdbus::ObjectPath& handler) override {
        guarded("RegisterService", [&] {
            std::string owner = caller();
            Api::Impl::Handler h{owner, handler};
            Api::Impl* impl = &api_;
            unwrap(api_.model.register_service(
                service, owner,
                [impl, h](const std::string& name, const std::string& adapter,
                          const std::string& peer_id,
                          int fd) { return impl->hand_channel(h, name, adapter, peer_id, fd); }));
            api_.watch_owner(owner);
        });
    }
    void UnregisterService(const std::string& service) override {
        guarded("UnregisterService",
                [&] { unwrap(api_.model.unregister_service(service, caller())); });
    }
    void OpenChannel(sdbus::Result<sdbus::UnixFd>&& result, std::string adapter,
                     std::string peer_id, std::string service) override {
        // sdbus::Result is move-only; the model's callback must be copyable.
        auto reply = std::make_shared<sdbus::Result<sdbus::UnixFd>>(std::move(result));
        try {
            guarded("OpenChannel", [&] {
                auto a = check_adapter(adapter);
                auto p = check_peer(peer_id);
                int sv[2];
                if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
                    throw sdbus::Error(errors::kFailed, "cannot make a socket pair");
                const int theirs = sv[0];
                // Ours goes to the channel; theirs to the caller once it is open.
                api_.model.open_channel(a, p, service, sv[1], [reply, theirs](ApiResult<bool> r) {
                    if (r) {
                        reply->returnResults(sdbus::UnixFd(theirs, sdbus::adopt_fd));
                    } else {
                        ::close(theirs);
                        reply->returnError(
                            sdbus::Error(error_name(r.error().error), one_line(r.error().message)));
                    }
                });
            });
        } catch (const sdbus::Error& e) {
            reply->returnError(e);
        }
    }
    std::string Version() override { return BR_VERSION; }
    std::vector<sdbus::ObjectPath> Adapters() override {
        return guarded("Adapters", [&] {
            return std::vector<sdbus::ObjectPath>(published_adapters.begin(),
                                                  published_adapters.end());
        });
    }

    // The caller's unique bus name.
    std::string caller() {
        const auto* m = getObject().getCurrentlyProcessedMessage();
        std::string who = m ? m->getSender() : std::string();
        if (who.empty()) throw sdbus::Error(errors::kNotPermitted, "cannot tell who is asking");
        return who;
    }

    Api::Impl& api_;
};

}  // namespace

// --------------------------------------------------------------------------

AdapterNode& Api::Impl::node(const std::string& adapter_name) {
    std::string path = api::adapter_path(adapter_name);
    auto& n = nodes[path];
    if (!n) {
        n = std::make_unique<AdapterNode>(
            raw, path, model,
            [this](const std::string& sender,
                   std::function<void(std::optional<sdbus::Error>)> then) {
                require_root(sender, std::move(then));
            });
    }
    return *n;
}

AdapterNode* Api::Impl::find_node(const std::string& adapter_name) {
    auto it = nodes.find(api::adapter_path(adapter_name));
    return it == nodes.end() ? nullptr : it->second.get();
}

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
    std::map<std::string, const AdapterView*> now;  // by name: the order of the signals
    for (const auto& v : views) now[v.name] = &v;

    // (No structured bindings below: clang 14 cannot capture them.)
    for (auto& entry : nodes) {
        AdapterNode& n = *entry.second;
        bool still = std::any_of(now.begin(), now.end(), [&](const auto& kv) {
            return api::adapter_path(kv.first) == n.path();
        });
        if (!still && n.adapter.present()) {
            quietly("adapter removed", [&] { n.adapter.remove(); });
            touched(n.path());
        }
    }
    for (const auto& entry : now) {
        const std::string& name = entry.first;
        const AdapterView& v = *entry.second;
        quietly("adapter", [&] { node(name).adapter.show(v, !populating); });
        touched(api::adapter_path(name));
    }
    std::vector<std::string> paths;
    for (const auto& [path, n] : nodes)
        if (n->adapter.present()) paths.push_back(path);
    if (paths != manager->published_adapters) {
        manager->published_adapters = std::move(paths);
        if (!populating) {
            manager->emitPropertiesChangedSignal(org::blueratchet::Manager1_adaptor::INTERFACE_NAME,
                                                 {"Adapters"});
        }
    }
}

void Api::Impl::on_peer(const PeerView& v) {
    auto key = key_of(v.id_hex, v.device_id);
    if (!key) {
        log_error("peer with a malformed id " + shown(v.id_hex.empty() ? v.device_id : v.id_hex) +
                  ": not published");
        return;
    }
    AdapterNode& n = node(v.adapter);
    n.peers.show(*key, v, !populating);
    touched(api::peer_path(n.path(), *key));
}

void Api::Impl::on_peer_removed(const std::string& adapter, const std::string& id_hex) {
    auto key = key_of(id_hex);
    AdapterNode* n = find_node(adapter);
    if (!key || !n) return;
    // A forgotten peer's session goes before the peer.
    if (n->sessions.view(*key)) end_session(*n, *key, "forgotten");
    n->peers.remove(*key);
    touched(api::peer_path(n->path(), *key));
}

void Api::Impl::on_session_minted(const SessionView& v) {
    auto key = key_of(v.peer_id_hex, v.peer_id);
    if (!key) {
        log_error("session with a malformed peer id " + shown(v.peer_id) + ": not published");
        return;
    }
    AdapterNode& n = node(v.adapter);
    if (n.sessions.view(*key)) end_session(n, *key, "replaced");
    n.sessions.add(*key, v, !populating);
    touched(api::session_path(n.path(), *key));
    if (populating) return;
    // Its InterfacesAdded (just sent) comes before SessionMinted.
    manager->emitSessionMinted(api::session_path(n.path(), *key), v.adapter, v.peer_id, v.kind,
                               v.epoch, v.fingerprint, v.short_code);
}

void Api::Impl::on_session_invalidated(const SessionView& v) {
    auto key = key_of(v.peer_id_hex, v.peer_id);
    AdapterNode* n = find_node(v.adapter);
    if (!key || !n || !n->sessions.view(*key)) return;
    end_session(*n, *key, v.reason.empty() ? std::string("invalidated") : v.reason);
}

void Api::Impl::end_session(AdapterNode& n, const PeerKey& key, const std::string& reason) {
    const SessionView* v = n.sessions.view(key);
    if (!v) return;
    std::string path = api::session_path(n.path(), key);
    quietly("SessionInvalidated",
            [&] { manager->emitSessionInvalidated(path, v->adapter, v->peer_id, reason); });
    n.sessions.remove(key);
    touched(path);
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

void Api::Impl::on_attempt_failed(const AttemptFailure& f) {
    manager->emitAttemptFailed(f.adapter, f.peer_id, f.address, f.reason, f.error, f.detail);
}

bool Api::Impl::hand_channel(const Handler& h, const std::string& service,
                             const std::string& adapter, const std::string& peer_id, int fd) {
    sdbus::UnixFd channel(fd, sdbus::adopt_fd);  // closed here if it goes nowhere
    return guarded("NewChannel", [&] {
        auto& proxy = handler_proxies[h.owner + "\n" + h.path];
        if (!proxy) proxy = sdbus::createProxy(conn, h.owner, h.path);
        std::string owner = h.owner;
        proxy->callMethodAsync("NewChannel")
            .onInterface("org.blueratchet.ServiceHandler1")
            .withArguments(adapter, peer_id, service, channel)
            .uponReplyInvoke([owner, service](const sdbus::Error* error) {
                if (error)
                    log_error("NewChannel of " + service + " at " + owner + ": " +
                              error->getName() + ": " + one_line(error->getMessage()));
            });
        return true;
    });
}

void Api::Impl::watch_owner(const std::string& owner) {
    if (owner_watches.count(owner)) return;
    std::string rule =
        "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
        "member='NameOwnerChanged',arg0='" +
        owner + "'";
    owner_watches[owner] = conn.addMatch(rule, [this, owner](sdbus::Message& m) {
        quietly("NameOwnerChanged", [&] {
            std::string name, old_owner, new_owner;
            m >> name >> old_owner >> new_owner;
            if (name != owner || !new_owner.empty()) return;
            // Its services go with it, and so do our proxies to it (after
            // this callback: the match's slot is ours to drop then).
            model.owner_gone(owner);
            for (auto it = handler_proxies.begin(); it != handler_proxies.end();)
                it = it->first.rfind(owner + "\n", 0) == 0 ? handler_proxies.erase(it)
                                                           : std::next(it);
            loop.defer([this, owner] { owner_watches.erase(owner); });
        });
    });
}

// --------------------------------------------------------------------------

Api::Api(sdbus::IConnection& conn, Loop& loop, Model& model)
    : impl_(std::make_unique<Impl>(conn, loop, model)) {
    Impl& i = *impl_;
    i.bus = sdbus::createProxy(conn, "org.freedesktop.DBus", "/org/freedesktop/DBus");
    i.raw = raw_bus(*i.bus);
    i.populate();
    i.managed = std::make_unique<ManagedObjects>(i.raw, loop, i.nodes, errors::kManagerPath);

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
    l.attempt_failed = [&i](const AttemptFailure& f) {
        quietly("attempt_failed", [&] { i.on_attempt_failed(f); });
    };
    model.set_listener(std::move(l));
}

Api::~Api() {
    impl_->model.set_listener({});
    impl_->bus.reset();
    impl_->owner_watches.clear();
    impl_->handler_proxies.clear();
    impl_->managed.reset();
    impl_->nodes.clear();
    impl_->manager.reset();
}

}  // namespace br::daemon
