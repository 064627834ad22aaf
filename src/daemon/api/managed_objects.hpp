// SPDX-License-Identifier: MIT
// org.freedesktop.DBus.ObjectManager.GetManagedObjects on /org/blueratchet,
// answered a slice at a time so that the loop never waits for it.
//
// sd-bus writes that reply in one go: 14 ms of the loop's one thread for
// 1,000 peers, nearly all of it sd-bus's message building (10 us an object
// even written by hand), and a link drop that arrives meanwhile waits for
// it (issue #11: the invalidation p99 was 13 ms on the load case, with a
// client calling GetManagedObjects ten times a second).  Here the call is
// taken before sd-bus's own handler sees it (a node callback on the
// manager's path runs before the object manager), and the reply is written
// in path order in slices of at most kSlice of loop time; each slice resumes
// after the last object written, and between two slices the loop serves
// everything else.  Objects are written with the find() and getters that
// answer Get (raw_bus.hpp, Served), so each says what Get would have said at
// the moment it was written; calls are answered in the order they came.
//
// What a client can rely on: the reply lists every object that stayed
// through it, and a client that applies the signals and the reply in the
// order they arrive ends with the daemon's state.  An object that changes
// while a reply is being written is signalled at once, before a reply that
// may hold it as it was; so every object signalled meanwhile is described
// again right after the reply: PropertiesChanged (every property) if the
// reply has it and it is still there, InterfacesAdded if the reply lacks it
// and it is there now, InterfacesRemoved if the reply has it and it is
// gone.  api.cpp calls touched() for every object it signals.  Internal to
// src/daemon/api/.
#pragma once

#include <systemd/sd-bus.h>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "daemon/api/adapter_node.hpp"
#include "daemon/api/raw_bus.hpp"
#include "daemon/loop.hpp"

namespace br::daemon::api {

class ManagedObjects {
  public:
    // The adapter nodes by path, as the Api keeps them.
    using Nodes = std::map<std::string, std::unique_ptr<AdapterNode>>;

    // The most loop time one slice of a reply takes.
    static constexpr std::chrono::microseconds kSlice{1000};

    // Takes GetManagedObjects at `manager_path`.  `nodes` and `loop` outlive
    // this.
    ManagedObjects(sd_bus* bus, Loop& loop, const Nodes& nodes, const char* manager_path);
    // Answers any call still being written with org.blueratchet.Error.Failed.
    ~ManagedObjects();
    ManagedObjects(const ManagedObjects&) = delete;
    ManagedObjects& operator=(const ManagedObjects&) = delete;

    // The object at `path` was just signalled (added, changed or removed).
    void touched(const std::string& path);

    // Replies being written (tests).
    std::size_t in_flight() const { return replies_.size(); }

  private:
    struct Reply;

    static int on_message(sd_bus_message* m, void* userdata, sd_bus_error* error);
    void take(sd_bus_message* call);
    // Writes the oldest reply for at most kSlice; sends it when done.
    void slice();
    void schedule();
    // The next object path of `r`'s walk, or "" when it is over.
    std::string next_path(Reply& r) const;
    // The adapter node `path` is at or under.
    AdapterNode* node_of(const std::string& path) const;
    void finish(Reply& r);
    void describe_again(const Reply& r);

    sd_bus* bus_;
    Loop& loop_;
    const Nodes& nodes_;
    std::deque<std::unique_ptr<Reply>> replies_;
    Loop::TimerId timer_ = 0;
    Slot slot_;
};

}  // namespace br::daemon::api
