// SPDX-License-Identifier: MIT
// The plugin host: loads the plugins the configuration names
// (plugins/include/blueratchet/plugin.h, docs/PLUGINS.md), asks the approval
// plugin about first contacts and tells the hook plugins about mints and
// invalidations.
//
// Every plugin gets its own worker thread; the host never calls plugin code
// on the event-loop thread and never blocks the loop waiting for it (only
// load() and the destructor wait, before and after the loop runs).  Answers
// come back to the loop through an eventfd.  A callback that runs longer
// than the call timeout disables its plugin for good: the thread cannot be
// killed, so it is detached and the shared object is never unloaded; a
// pending approval of that plugin is refused and its hooks are skipped.
//
// Everything here except the br_host functions runs on the loop thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "daemon/loop.hpp"
#include "daemon/model.hpp"

namespace br::daemon::plugins {

// A first contact as the approval plugin sees it (struct br_first_contact).
struct FirstContact {
    std::string adapter;
    std::string adapter_address;
    std::string peer_id;  // base64url
    std::string peer_id_hex;
    std::string address;
    std::string short_code;
    std::string role;  // ours: "responder" (peripheral) or "initiator" (central)
    bool window_open = false;
    std::uint32_t window_remaining = 0;
    // The longest the caller can wait; the host takes the smaller of this
    // and HostOptions::approval_timeout_seconds.
    std::uint32_t timeout_seconds = 0;
};

// A session as the hook plugins see it (struct br_session_info).
struct SessionFacts {
    std::string adapter;
    std::string adapter_address;
    std::string peer_id;
    std::string peer_id_hex;
    std::string address;
    std::string kind;
    std::string role;
    std::uint32_t epoch = 0;
    std::string fingerprint;  // identifies the session to session_invalidated()
    std::string short_code;
    std::int64_t not_before = 0;
    std::int64_t not_after = 0;
    std::string cert_pem;
    std::string peer_cert_pem;
    std::string key_pem;  // SECRET: wiped by the host once every plugin that wants it had it

    void wipe_key();
};

struct HostOptions {
    std::string directory;           // where <name>.so files are
    std::string approval;            // the approval plugin; "" = none (every first contact refused)
    std::vector<std::string> hooks;  // session hook plugins, in call order
    // [Plugin:<name>] sections: key, value in file order.
    std::map<std::string, std::vector<std::pair<std::string, std::string>>> settings;
    std::chrono::milliseconds call_timeout{10000};
    std::uint32_t approval_timeout_seconds = 20;
};

struct PluginStatus {
    std::string name;
    std::string path;
    bool approval = false;  // used as the approval plugin
    bool hooks = false;     // used as a session hook plugin
    bool ok = false;        // loaded and not disabled
    std::string reason;     // why not, one line
};

// The verdict on a first contact, and how it came about: what the daemon
// reports when a first contact ends there (Manager1.AttemptFailed).
struct Decision {
    enum class By {
        Plugin,       // the approval plugin decided (relaying an operator's verdict or not)
        Timeout,      // no verdict within the approval's time
        Unavailable,  // no approval plugin configured, or it is not loaded or disabled
    };
    bool approved = false;
    By by = By::Plugin;
    std::string plugin;  // the approval plugin's name; "" when none is configured
    // The plugin's own words: the last line it logged (info or above) while
    // its approve() decided, or "the operator's verdict" when it decided on
    // one; "" when it said nothing.
    std::string words;
    std::uint32_t waited_seconds = 0;  // Timeout: how long the verdict was waited for
    std::string why;                   // one line: "refused by plugin window", "no verdict ..."
};

class PluginHost {
  public:
    using ApprovalId = std::uint64_t;
    // The verdict on a first contact, always on the loop thread and never
    // from inside request_approval().
    using Verdict = std::function<void(const Decision& decision)>;

    PluginHost(Loop& loop, HostOptions options);
    ~PluginHost();  // cancels pending approvals, calls fini() (bounded), joins the workers
    PluginHost(const PluginHost&) = delete;
    PluginHost& operator=(const PluginHost&) = delete;

    // Loads and initializes every configured plugin, each bounded by the
    // call timeout.  Refusals are logged (file and reason) and kept in
    // status(); the daemon runs on without the plugin.
    void load();
    const std::vector<PluginStatus>& status() const;
    bool approval_available() const;
    const std::string& approval_name() const;

    ApprovalId request_approval(const FirstContact& contact, Verdict verdict);
    // The link is gone: the verdict callback is dropped, the plugin told.
    void cancel_approval(ApprovalId id);
    // First contacts the approval plugin answered BR_PENDING for.
    std::vector<PendingApproval> pending() const;
    // An operator's verdict (blueratchetctl approve|reject), by adapter name
    // and peer id (base64url or hex).
    ApiResult<bool> operator_verdict(const std::string& adapter, const std::string& peer_id,
                                     bool approve);
    // Called when a first contact becomes pending (approval_requested).
    std::function<void(const PendingApproval&)> on_pending;

    void session_minted(SessionFacts facts);
    void session_invalidated(const std::string& fingerprint, const std::string& reason);

    // No plugin callback queued or running (tests).
    bool idle() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The plugin directory when neither --plugin-dir nor PluginDirectory says:
// <libdir>/blueratchet/plugins, or the build tree's plugins/ when the
// daemon runs from the build tree (uninstalled, as the system tier does).
std::string default_plugin_directory();

}  // namespace br::daemon::plugins
