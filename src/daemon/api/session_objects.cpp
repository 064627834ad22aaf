// SPDX-License-Identifier: MIT
#include "daemon/api/session_objects.hpp"

#include <cstring>
#include <memory>

#include "daemon/shown.hpp"

namespace br::daemon::api {

namespace {

constexpr std::uint64_t kChanges = SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE;

using MessageRef = std::shared_ptr<sd_bus_message>;

// A call kept for a deferred reply.
MessageRef keep(sd_bus_message* m) {
    return MessageRef(sd_bus_message_ref(m), [](sd_bus_message* x) { sd_bus_message_unref(x); });
}

// Answers `call` with `data` (signature "ay") so that no copy of it stays in
// the daemon's heap (issue #10, item 5: an exported private key was found in
// a core dump): the bytes go in with one sd_bus_message_append_array(), not
// byte by byte through realloc() as sdbus-c++ 1.2.0 would, and the message
// is marked sensitive, so sd-bus wipes its buffers when it frees it (after
// the write, whenever the socket takes it).  The caller's `data` is an
// ExportBytes, wiped when it goes.
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

// A deferred call's error answer; a failure to send it is only logged.
void reply_error(sd_bus_message* call, const sdbus::Error& e) noexcept {
    quietly("Export reply", [&] {
        sd_bus_error err = SD_BUS_ERROR_NULL;
        sd_bus_error_set(&err, e.getName().c_str(), e.getMessage().c_str());
        int r = sd_bus_reply_method_error(call, &err);
        sd_bus_error_free(&err);
        if (r < 0) log_error(std::string("Export reply: ") + std::strerror(-r));
    });
}

}  // namespace

// Members as sdbus-c++ ordered them (methods, then properties, each by
// name) with its flags (unprivileged: the `bluetooth` group calls them):
// introspection is what it was (dbus/org.blueratchet.Session1.xml).
const sd_bus_vtable SessionObjects::kVtable[] = {
    SD_BUS_VTABLE_START(SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("Export", "ss", SD_BUS_PARAM(what) SD_BUS_PARAM(format), "ay",
                             SD_BUS_PARAM(data), on_export, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Invalidate", "", "", on_invalidate, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_PROPERTY("Adapter", "s", get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Address", "s", get, 0, kChanges),
    SD_BUS_PROPERTY("Epoch", "u", get, 0, kChanges),
    SD_BUS_PROPERTY("Fingerprint", "s", get, 0, kChanges),
    SD_BUS_PROPERTY("Kind", "s", get, 0, kChanges),
    SD_BUS_PROPERTY("NotAfter", "u", get, 0, kChanges),
    SD_BUS_PROPERTY("NotBefore", "u", get, 0, kChanges),
    SD_BUS_PROPERTY("Peer", "o", get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Role", "s", get, 0, kChanges),
    SD_BUS_PROPERTY("ShortCode", "s", get, 0, kChanges),
    SD_BUS_PROPERTY("State", "s", get, 0, kChanges),
    SD_BUS_VTABLE_END,
};

SessionObjects::SessionObjects(sd_bus* bus, std::string adapter_path, Model& model,
                               RootCheck require_root)
    : bus_(bus),
      adapter_path_(std::move(adapter_path)),
      model_(model),
      require_root_(std::move(require_root)) {
    sd_bus_slot* slot = nullptr;
    check(sd_bus_add_fallback_vtable(bus_, &slot, adapter_path_.c_str(), kInterface, kVtable, find,
                                     this),
          "cannot serve Session1");
    slot_.reset(slot);
}

const SessionView* SessionObjects::view(const PeerKey& key) const {
    auto it = sessions_.find(key);
    return it == sessions_.end() ? nullptr : &it->second;
}

void SessionObjects::add(const PeerKey& key, const SessionView& v, bool announce) {
    sessions_.insert_or_assign(key, v);
    if (announce) emit_added(bus_, session_path(adapter_path_, key));
}

void SessionObjects::remove(const PeerKey& key) {
    auto it = sessions_.find(key);
    if (it == sessions_.end()) return;
    // sd-bus lists the interfaces through find(): before the entry goes.
    emit_removed(bus_, session_path(adapter_path_, key));
    sessions_.erase(it);
}

void SessionObjects::paths(std::vector<std::string>& out) const {
    for (const auto& [key, v] : sessions_) out.push_back(session_path(adapter_path_, key));
}

void SessionObjects::parent_paths(std::vector<std::string>& out) const {
    for (const auto& [key, v] : sessions_) out.push_back(peer_path(adapter_path_, key));
}

std::optional<PeerKey> SessionObjects::key_after(const std::optional<PeerKey>& after) const {
    auto it = after ? sessions_.upper_bound(*after) : sessions_.begin();
    if (it == sessions_.end()) return std::nullopt;
    return it->first;
}

int SessionObjects::find(sd_bus* /*bus*/, const char* path, const char* /*interface*/,
                         void* userdata, void** found, sd_bus_error* /*error*/) {
    auto* self = static_cast<SessionObjects*>(userdata);
    auto named = read_path(self->adapter_path_, path);
    if (!named || named->kind != Named::Kind::Session || !self->sessions_.count(named->key))
        return 0;
    *found = self;
    return 1;
}

std::pair<const PeerKey, SessionView>& SessionObjects::at(const char* path) {
    auto named = read_path(adapter_path_, path ? path : "");
    auto it = named ? sessions_.find(named->key) : sessions_.end();
    if (it == sessions_.end())
        throw sdbus::Error(errors::kNotFound, "no live session at " + shown(path ? path : ""));
    return *it;
}

int SessionObjects::get(sd_bus* /*bus*/, const char* path, const char* /*interface*/,
                        const char* property, sd_bus_message* reply, void* userdata,
                        sd_bus_error* error) {
    return answering("Session1 property", error, [&]() -> int {
        auto* self = static_cast<SessionObjects*>(userdata);
        const auto& [key, v] = self->at(path);
        std::string_view name = property;
        auto text = [&](const std::string& s) {
            return sd_bus_message_append_basic(reply, 's', s.c_str());
        };
        auto number = [&](std::uint32_t u) { return sd_bus_message_append_basic(reply, 'u', &u); };
        if (name == "Peer") {
            std::string peer = peer_path(self->adapter_path_, key);
            return sd_bus_message_append_basic(reply, 'o', peer.c_str());
        }
        if (name == "Adapter") return text(v.adapter);
        if (name == "Address") return text(v.address);
        if (name == "Epoch") return number(v.epoch);
        if (name == "NotBefore") return number(v.not_before);
        if (name == "NotAfter") return number(v.not_after);
        if (name == "Fingerprint") return text(v.fingerprint);
        if (name == "ShortCode") return text(v.short_code);
        if (name == "State") return text(v.state.empty() ? std::string("live") : v.state);
        if (name == "Kind") return text(v.kind);
        if (name == "Role") return text(v.role);
        throw sdbus::Error(errors::kFailed, "no property " + std::string(name));
    });
}

int SessionObjects::on_invalidate(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    return answering("Invalidate", error, [&] {
        auto* self = static_cast<SessionObjects*>(userdata);
        const SessionView& v = self->at(sd_bus_message_get_path(m)).second;
        // Copies: the model ends this very session, and its entry goes.
        std::string adapter = v.adapter, peer = v.peer_id;
        unwrap(self->model_.invalidate_session(adapter, peer));
        return sd_bus_reply_method_return(m, nullptr);
    });
}

int SessionObjects::on_export(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    return answering("Export", error,
                     [&] { return static_cast<SessionObjects*>(userdata)->export_session(m); });
}

// Export may answer later (a key waits for the caller's uid), so the call is
// kept and answered from here on, success or error; an error thrown before
// that point is answered by answering().
int SessionObjects::export_session(sd_bus_message* m) {
    const char* what_arg = nullptr;
    const char* format_arg = nullptr;
    check(sd_bus_message_read(m, "ss", &what_arg, &format_arg), "Export: its arguments");
    std::string what = what_arg, format = format_arg;
    ExportWhat w;
    if (what == "certificate")
        w = ExportWhat::Certificate;
    else if (what == "peer-certificate")
        w = ExportWhat::PeerCertificate;
    else if (what == "key")
        w = ExportWhat::PrivateKey;
    else
        throw sdbus::Error(errors::kInvalidArgument,
                           "what must be certificate, peer-certificate or key, not " + shown(what));
    ExportFormat f;
    if (format == "pem")
        f = ExportFormat::Pem;
    else if (format == "der")
        f = ExportFormat::Der;
    else
        throw sdbus::Error(errors::kInvalidArgument,
                           "format must be pem or der, not " + shown(format));

    const SessionView& v = at(sd_bus_message_get_path(m)).second;
    MessageRef call = keep(m);
    Model* model = &model_;
    auto run = [model, adapter = v.adapter, peer = v.peer_id, w, f, call]() noexcept {
        try {
            guarded("Export", [&] {
                ExportBytes data = unwrap(model->export_session(adapter, peer, w, f));
                reply_sensitive(call.get(), data);
            });
        } catch (const sdbus::Error& e) {
            reply_error(call.get(), e);
        } catch (...) {  // building the error failed
            log_error("Export: cannot answer");
        }
    };
    if (w != ExportWhat::PrivateKey) {
        run();
        return 1;
    }
    const char* sender = sd_bus_message_get_sender(m);
    require_root_(sender ? sender : "", [run, call](std::optional<sdbus::Error> denied) {
        if (denied)
            reply_error(call.get(), *denied);
        else
            run();
    });
    return 1;
}

}  // namespace br::daemon::api
