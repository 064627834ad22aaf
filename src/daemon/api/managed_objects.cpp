// SPDX-License-Identifier: MIT
#include "daemon/api/managed_objects.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <optional>
#include <unordered_set>
#include <vector>

#include "daemon/api/paths.hpp"

namespace br::daemon::api {

namespace {

constexpr const char* kObjectManager = "org.freedesktop.DBus.ObjectManager";

struct MessageUnref {
    void operator()(sd_bus_message* m) const { sd_bus_message_unref(m); }
};
using MessageRef = std::unique_ptr<sd_bus_message, MessageUnref>;

// sd-bus's rule for a property in a generic dump of an interface
// (GetAll, GetManagedObjects): every property but the hidden and the
// "explicit" ones.
bool dumped(const sd_bus_vtable& v) {
    return (v.type == _SD_BUS_VTABLE_PROPERTY || v.type == _SD_BUS_VTABLE_WRITABLE_PROPERTY) &&
           !(v.flags & (SD_BUS_VTABLE_HIDDEN | SD_BUS_VTABLE_PROPERTY_EXPLICIT));
}

// Whether `s` serves an object at `path`; its userdata if so.
int find(sd_bus* bus, const Served& s, const std::string& path, void** found, sd_bus_error* error) {
    *found = s.userdata;
    int r = s.find(bus, path.c_str(), s.interface, s.userdata, found, error);
    if (r < 0) return r;
    if (sd_bus_error_is_set(error)) return -sd_bus_error_get_errno(error);
    return r;
}

// One interface's properties as a{sv}, through the vtable's getters.
int write_properties(sd_bus* bus, sd_bus_message* reply, const std::string& path, const Served& s,
                     void* found, sd_bus_error* error) {
    int r = sd_bus_message_open_container(reply, 'a', "{sv}");
    for (const sd_bus_vtable* v = s.vtable + 1; r >= 0 && v->type != _SD_BUS_VTABLE_END; ++v) {
        if (!dumped(*v)) continue;
        if ((r = sd_bus_message_open_container(reply, 'e', "sv")) < 0 ||
            (r = sd_bus_message_append_basic(reply, 's', v->x.property.member)) < 0 ||
            (r = sd_bus_message_open_container(reply, 'v', v->x.property.signature)) < 0)
            break;
        r = v->x.property.get(bus, path.c_str(), s.interface, v->x.property.member, reply,
                              static_cast<char*>(found) + v->x.property.offset, error);
        if (r >= 0 && sd_bus_error_is_set(error)) r = -sd_bus_error_get_errno(error);
        if (r < 0) break;
        if ((r = sd_bus_message_close_container(reply)) < 0 ||
            (r = sd_bus_message_close_container(reply)) < 0)
            break;
    }
    if (r >= 0) r = sd_bus_message_close_container(reply);
    return r;
}

// The object at `path` as one entry of the reply (oa{sa{sv}}), as sd-bus
// writes it: the three interfaces sd-bus implements for every object, then
// each of `served` the object has.  1: written; 0: nothing is there.
int write_object(sd_bus* bus, sd_bus_message* reply, const std::string& path,
                 const std::vector<Served>& served, sd_bus_error* error) {
    bool opened = false;
    int r = 0;
    for (const Served& s : served) {
        void* found = nullptr;
        if ((r = find(bus, s, path, &found, error)) < 0) return r;
        if (r == 0) continue;
        if (!opened) {
            if ((r = sd_bus_message_open_container(reply, 'e', "oa{sa{sv}}")) < 0 ||
                (r = sd_bus_message_append_basic(reply, 'o', path.c_str())) < 0 ||
                (r = sd_bus_message_open_container(reply, 'a', "{sa{sv}}")) < 0)
                return r;
            for (const char* standard :
                 {"org.freedesktop.DBus.Peer", "org.freedesktop.DBus.Introspectable",
                  "org.freedesktop.DBus.Properties"}) {
                if ((r = sd_bus_message_append(reply, "{sa{sv}}", standard, 0)) < 0) return r;
            }
            opened = true;
        }
        if ((r = sd_bus_message_open_container(reply, 'e', "sa{sv}")) < 0 ||
            (r = sd_bus_message_append_basic(reply, 's', s.interface)) < 0 ||
            (r = write_properties(bus, reply, path, s, found, error)) < 0 ||
            (r = sd_bus_message_close_container(reply)) < 0)
            return r;
    }
    if (!opened) return 0;
    if ((r = sd_bus_message_close_container(reply)) < 0 ||
        (r = sd_bus_message_close_container(reply)) < 0)
        return r;
    return 1;
}

std::vector<Served> served_by(AdapterNode& n) {
    return {n.adapter.served(), n.peers.served(), n.sessions.served()};
}

void reply_error(sd_bus_message* call, const char* name, const std::string& text) {
    if (int r = sd_bus_reply_method_errorf(call, name, "%s", text.c_str()); r < 0)
        log_error(std::string("GetManagedObjects: cannot answer: ") + std::strerror(-r));
}

}  // namespace

struct ManagedObjects::Reply {
    MessageRef call;
    MessageRef reply;
    // Where the walk is: the adapter node, the stage within it, and the last
    // peer or session written in that stage.
    std::string node;
    enum class Stage { Adapter, Peers, Sessions } stage = Stage::Adapter;
    std::optional<PeerKey> last;
    bool begun = false;
    // Hashes of the paths written (8 bytes an object: a collision would only
    // choose the wrong one of the signals that describe an object again).
    std::unordered_set<std::size_t> written;
    // Paths signalled since the first slice.
    std::vector<std::string> touched;
};

ManagedObjects::ManagedObjects(sd_bus* bus, Loop& loop, const Nodes& nodes,
                               const char* manager_path)
    : bus_(bus), loop_(loop), nodes_(nodes) {
    sd_bus_slot* slot = nullptr;
    check(sd_bus_add_object(bus_, &slot, manager_path, on_message, this),
          "cannot take GetManagedObjects");
    slot_.reset(slot);
}

ManagedObjects::~ManagedObjects() {
    loop_.cancel(timer_);
    for (auto& r : replies_)
        reply_error(r->call.get(), errors::kFailed, "blueratchetd is stopping");
}

int ManagedObjects::on_message(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    // Every other call on the path goes on to the manager's vtables.
    if (sd_bus_message_is_method_call(m, kObjectManager, "GetManagedObjects") <= 0) return 0;
    return answering("GetManagedObjects", error, [&] {
        static_cast<ManagedObjects*>(userdata)->take(m);
        return 1;
    });
}

void ManagedObjects::take(sd_bus_message* call) {
    if (!sd_bus_message_has_signature(call, "")) {
        reply_error(call, SD_BUS_ERROR_INVALID_ARGS, "GetManagedObjects takes no arguments");
        return;
    }
    if (!sd_bus_message_get_expect_reply(call)) return;  // nobody would read it
    auto r = std::make_unique<Reply>();
    r->call.reset(sd_bus_message_ref(call));
    sd_bus_message* raw = nullptr;
    check(sd_bus_message_new_method_return(call, &raw), "cannot create the reply");
    r->reply.reset(raw);
    check(sd_bus_message_open_container(raw, 'a', "{oa{sa{sv}}}"), "cannot write the reply");
    replies_.push_back(std::move(r));
    // The first slice at once: a small tree is answered as sd-bus would.
    if (replies_.size() == 1) slice();
}

void ManagedObjects::schedule() {
    if (replies_.empty() || timer_) return;
    timer_ = loop_.add_timer(std::chrono::milliseconds(0), [this] {
        timer_ = 0;
        quietly("GetManagedObjects", [&] { slice(); });
    });
}

void ManagedObjects::slice() {
    if (replies_.empty()) return;
    Reply& r = *replies_.front();
    r.begun = true;
    auto deadline = std::chrono::steady_clock::now() + kSlice;
    for (unsigned n = 1;; ++n) {
        std::string path = next_path(r);
        if (path.empty()) {
            finish(r);
            replies_.pop_front();
            break;
        }
        AdapterNode* node = node_of(path);
        if (!node) continue;  // cannot be: the walk named it
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int rc = write_object(bus_, r.reply.get(), path, served_by(*node), &error);
        if (rc < 0) {
            // As sd-bus would: the whole call fails with the getter's error.
            if (sd_bus_error_is_set(&error)) {
                sd_bus_reply_method_error(r.call.get(), &error);
            } else {
                reply_error(r.call.get(), errors::kFailed,
                            "cannot write " + path + ": " + std::strerror(-rc));
            }
            sd_bus_error_free(&error);
            replies_.pop_front();
            break;
        }
        sd_bus_error_free(&error);
        if (rc > 0) r.written.insert(std::hash<std::string>{}(path));
        // The clock costs about what an object does: read it now and then.
        if (n % 16 == 0 && std::chrono::steady_clock::now() >= deadline) break;
    }
    schedule();
}

std::string ManagedObjects::next_path(Reply& r) const {
    auto it = r.node.empty() ? nodes_.begin() : nodes_.lower_bound(r.node);
    for (; it != nodes_.end(); ++it) {
        if (it->first != r.node) {
            r.node = it->first;
            r.stage = Reply::Stage::Adapter;
            r.last.reset();
        }
        AdapterNode& n = *it->second;
        if (r.stage == Reply::Stage::Adapter) {
            r.stage = Reply::Stage::Peers;
            if (n.adapter.present()) return n.path();
        }
        if (r.stage == Reply::Stage::Peers) {
            if (auto key = n.peers.key_after(r.last)) {
                r.last = key;
                return peer_path(n.path(), *key);
            }
            r.stage = Reply::Stage::Sessions;
            r.last.reset();
        }
        if (auto key = n.sessions.key_after(r.last)) {
            r.last = key;
            return session_path(n.path(), *key);
        }
    }
    return {};
}

AdapterNode* ManagedObjects::node_of(const std::string& path) const {
    for (const auto& [prefix, node] : nodes_) {
        if (path == prefix ||
            (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
             path[prefix.size()] == '/'))
            return node.get();
    }
    return nullptr;
}

void ManagedObjects::finish(Reply& r) {
    int rc = sd_bus_message_close_container(r.reply.get());
    if (rc >= 0) rc = sd_bus_send(bus_, r.reply.get(), nullptr);
    if (rc < 0) {
        log_error(std::string("GetManagedObjects: cannot send the reply: ") + std::strerror(-rc));
        return;
    }
    describe_again(r);
}

void ManagedObjects::describe_again(const Reply& r) {
    std::vector<std::string> paths = r.touched;
    std::sort(paths.begin(), paths.end());
    paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
    for (const std::string& path : paths) {
        AdapterNode* node = node_of(path);
        if (!node) continue;
        bool was = r.written.count(std::hash<std::string>{}(path)) != 0;
        // What is at the path now, and which interface it has (had).
        const Served* now = nullptr;
        auto served = served_by(*node);
        for (const Served& s : served) {
            sd_bus_error error = SD_BUS_ERROR_NULL;
            void* found = nullptr;
            int rc = find(bus_, s, path, &found, &error);
            sd_bus_error_free(&error);
            if (rc > 0) now = &s;
        }
        if (was && now) {
            std::vector<std::string> names;
            for (const sd_bus_vtable* v = now->vtable + 1; v->type != _SD_BUS_VTABLE_END; ++v) {
                if (dumped(*v) && (v->flags & SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE))
                    names.emplace_back(v->x.property.member);
            }
            emit_changed(bus_, path, now->interface, names);
        } else if (now) {
            emit_added(bus_, path);
        } else if (was) {
            const char* interface =
                path == node->path() ? AdapterObject::kInterface
                : path.size() > 8 && path.compare(path.size() - 8, 8, "/session") == 0
                    ? SessionObjects::kInterface
                    : PeerObjects::kInterface;
            if (int rc = sd_bus_emit_interfaces_removed(bus_, path.c_str(), interface, nullptr);
                rc < 0)
                log_error("InterfacesRemoved " + path + ": " + std::strerror(-rc));
        }
    }
}

void ManagedObjects::touched(const std::string& path) {
    for (auto& r : replies_) {
        if (r->begun) r->touched.push_back(path);
    }
}

}  // namespace br::daemon::api
