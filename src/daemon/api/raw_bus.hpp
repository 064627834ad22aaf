// SPDX-License-Identifier: MIT
// sd-bus itself, under sdbus-c++ 1.2.0.
//
// The adapter, peer and session objects are served by sd-bus directly, from
// fallback vtables and a node enumerator (adapter_node.hpp): sdbus-c++ 1.2.0
// builds an IObject, a vtable of std::functions and an sd-bus slot per
// object, 4.8 KB for each of 10,000 stored peers (issue #11), and it has no
// fallback vtables, no node enumerators and no accessor for its sd_bus.  The
// daemon's event loop is single-threaded, so calling sd-bus beside
// sdbus-c++ on the same connection is safe: nothing else touches the bus
// while our code runs.  Internal to src/daemon/api/.
#pragma once

#include <sdbus-c++/Error.h>
#include <sdbus-c++/IProxy.h>
#include <sdbus-c++/Message.h>
#include <systemd/sd-bus.h>

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "daemon/api/errors.hpp"
#include "daemon/api/guard.hpp"

namespace br::daemon::api {

// The sd_bus_message under an sdbus-c++ Message.
sd_bus_message* raw_message(const sdbus::Message& m);

// The sd_bus of the connection `proxy` lives on (borrowed: valid as long as
// that connection, which must outlive every Slot made on it).
sd_bus* raw_bus(sdbus::IProxy& proxy);

struct SlotUnref {
    void operator()(sd_bus_slot* s) const { sd_bus_slot_unref(s); }
};
// A registration (vtable, enumerator): unregistered when it goes.
using Slot = std::unique_ptr<sd_bus_slot, SlotUnref>;

// Runs the body of an sd-bus callback (method handler, property getter,
// find, enumerator) and returns what it returns.  An sdbus::Error becomes
// that named error, anything else org.blueratchet.Error.Failed (guarded):
// `error` is set and the return value is negative, which makes sd-bus answer
// the call with that error.  Nothing escapes into sd-bus, a C library.
template <typename F>
int answering(const char* what, sd_bus_error* error, F&& f) noexcept {
    try {
        return guarded(what, std::forward<F>(f));
    } catch (const sdbus::Error& e) {
        return sd_bus_error_set(error, e.getName().c_str(), e.getMessage().c_str());
    } catch (...) {  // only if even building the error failed (out of memory)
        return sd_bus_error_set(error, errors::kFailed, "internal error");
    }
}

// One interface as sd-bus serves it from a fallback vtable: enough to ask
// whether an object has it at a path (find) and to read its properties (the
// vtable's getters), which is how managed_objects.hpp writes a reply
// without sd-bus's own GetManagedObjects.
struct Served {
    const char* interface;
    const sd_bus_vtable* vtable;
    sd_bus_object_find_t find;
    void* userdata;
};

// A string list sd-bus takes over (a node enumerator's answer): every string
// and the array malloc()ed, NULL-terminated.  Null if out of memory.
char** to_strv(const std::vector<std::string>& items);

// The ObjectManager and Properties signals of an object sd-bus serves, built
// by sd-bus from the vtables that answer for `path` (so: InterfacesAdded
// after the object can be found, InterfacesRemoved before it cannot).  A
// failure is logged: a model change is never undone for a lost signal.
void emit_added(sd_bus* bus, const std::string& path);
void emit_removed(sd_bus* bus, const std::string& path);
void emit_changed(sd_bus* bus, const std::string& path, const char* interface,
                  const std::vector<std::string>& properties);

// sd-bus's return codes as exceptions, for code running inside answering().
inline void check(int r, const char* what) {
    if (r < 0) throw sdbus::Error(errors::kFailed, std::string(what) + ": " + strerror(-r));
}

}  // namespace br::daemon::api
