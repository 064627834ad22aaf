// SPDX-License-Identifier: MIT
#include "daemon/plugin_host/plugin_host.hpp"

#include <blueratchet/plugin.h>
#include <dlfcn.h>
#include <sodium.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

#include "daemon/log.hpp"

#ifndef BR_PLUGIN_DIR
#define BR_PLUGIN_DIR "/usr/lib/blueratchet/plugins"
#endif

namespace br::daemon::plugins {

using Clock = std::chrono::steady_clock;

void SessionFacts::wipe_key() {
    if (!key_pem.empty()) sodium_memzero(key_pem.data(), key_pem.size());
    key_pem.clear();
}

std::string default_plugin_directory() {
#if defined(BR_BUILD_ROOT) && defined(BR_BUILD_PLUGIN_DIR)
    // Uninstalled: the executable lives in the build tree.
    char exe[4096];
    ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        std::string self(exe, static_cast<std::size_t>(n));
        std::string root = BR_BUILD_ROOT;
        if (!root.empty() && self.compare(0, root.size() + 1, root + "/") == 0)
            return BR_BUILD_PLUGIN_DIR;
    }
#endif
    return BR_PLUGIN_DIR;
}

namespace {

// --- exec reads what x509-export writes ---------------------------------------

// x509-export's default Directory (plugins/x509-export/x509_export.cpp).
constexpr const char* kX509ExportDefaultDirectory = "/run/blueratchet/sessions";

std::optional<std::string> setting_of(const HostOptions& o, const std::string& plugin,
                                      const std::string& key) {
    auto s = o.settings.find(plugin);
    if (s == o.settings.end()) return std::nullopt;
    for (const auto& [k, v] : s->second)
        if (k == key) return v;
    return std::nullopt;
}

std::string without_trailing_slashes(std::string dir) {
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    return dir;
}

// `exec` sets BR_CERT_FILE, BR_KEY_FILE and BR_PEER_CERT_FILE from the files
// x509-export writes: when both are hooks, x509-export's Directory is the one
// setting, handed to exec as its CertificateDirectory unless exec sets one;
// one that differs, or exec called before x509-export, would leave the
// variables unset, and is a warning (issue #10, item 9d).
void link_exec_to_x509_export(HostOptions& o) {
    auto at = [&](const char* name) {
        return std::find(o.hooks.begin(), o.hooks.end(), name) - o.hooks.begin();
    };
    const auto exec = at("exec"), x509 = at("x509-export");
    const auto none = static_cast<std::ptrdiff_t>(o.hooks.size());
    if (exec == none || x509 == none) return;
    const std::string dir = without_trailing_slashes(
        setting_of(o, "x509-export", "Directory").value_or(kX509ExportDefaultDirectory));
    if (auto own = setting_of(o, "exec", "CertificateDirectory")) {
        if (without_trailing_slashes(*own) != dir)
            log::warning("plugin exec: [Plugin:exec] CertificateDirectory = ", *own,
                         " is not where x509-export writes (", dir,
                         "): BR_CERT_FILE, BR_KEY_FILE and BR_PEER_CERT_FILE will never be set; "
                         "remove CertificateDirectory (exec then follows x509-export's "
                         "Directory) or make them equal");
    } else {
        o.settings["exec"].emplace_back("CertificateDirectory", dir);
    }
    if (exec < x509)
        log::warning(
            "plugin exec: listed before x509-export in [Plugins] Load: the files are "
            "not written yet when exec runs on a mint, BR_CERT_FILE, BR_KEY_FILE and "
            "BR_PEER_CERT_FILE will not be set; list x509-export first");
}

// --- the mailbox: any thread -> the loop ------------------------------------

struct Mailbox {
    std::mutex m;
    std::vector<std::function<void()>> items;
    int efd = -1;
    bool closed = false;

    void post(std::function<void()> f) {
        std::lock_guard<std::mutex> g(m);
        if (closed) return;
        items.push_back(std::move(f));
        std::uint64_t one = 1;
        ssize_t r = ::write(efd, &one, sizeof one);
        (void)r;  // a full counter still wakes the loop
    }
    std::vector<std::function<void()>> take() {
        std::uint64_t n = 0;
        ssize_t r = ::read(efd, &n, sizeof n);
        (void)r;
        std::lock_guard<std::mutex> g(m);
        return std::exchange(items, {});
    }
};

// --- one worker thread per plugin -------------------------------------------

struct WorkerState {
    std::mutex m;
    std::condition_variable cv;
    std::deque<std::pair<std::string, std::function<void()>>> jobs;
    bool stop = false;
    bool abandoned = false;
    std::string current;                      // guarded by m
    std::atomic<std::int64_t> busy_since{0};  // steady_clock ns; 0 while idle
};

void worker_main(std::shared_ptr<WorkerState> s) {
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock<std::mutex> lk(s->m);
            s->cv.wait(lk, [&] { return s->stop || s->abandoned || !s->jobs.empty(); });
            if (s->abandoned || s->jobs.empty()) return;  // stop with nothing left
            s->current = std::move(s->jobs.front().first);
            job = std::move(s->jobs.front().second);
            s->jobs.pop_front();
            s->busy_since = Clock::now().time_since_epoch().count();
        }
        try {
            job();
        } catch (...) {
            // jobs catch everything themselves; nothing may kill the thread
        }
        std::lock_guard<std::mutex> lk(s->m);
        s->busy_since = 0;
        s->current.clear();
        if (s->abandoned) return;
    }
}

class Worker {
  public:
    Worker() : s_(std::make_shared<WorkerState>()) {
        auto s = s_;
        thread_ = std::thread([s] { worker_main(s); });
    }
    ~Worker() {
        if (thread_.joinable()) abandon();
    }
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    void post(std::string what, std::function<void()> job) {
        std::lock_guard<std::mutex> lk(s_->m);
        if (s_->abandoned || s_->stop) return;
        s_->jobs.emplace_back(std::move(what), std::move(job));
        s_->cv.notify_one();
    }
    // What has been running for how long, if anything.
    std::optional<std::pair<std::string, Clock::duration>> busy() const {
        std::lock_guard<std::mutex> lk(s_->m);
        std::int64_t since = s_->busy_since;
        if (since == 0) return std::nullopt;
        return std::make_pair(s_->current,
                              Clock::now().time_since_epoch() - Clock::duration(since));
    }
    bool has_queued() const {
        std::lock_guard<std::mutex> lk(s_->m);
        return !s_->jobs.empty();
    }
    // Runs what is queued, then ends; joins.
    void stop_and_join() {
        {
            std::lock_guard<std::mutex> lk(s_->m);
            s_->stop = true;
            s_->cv.notify_one();
        }
        if (thread_.joinable()) thread_.join();
    }
    // Gives up on the thread: queued jobs are dropped, a running one is left
    // to finish (or not) on its own.
    void abandon() {
        {
            std::lock_guard<std::mutex> lk(s_->m);
            s_->abandoned = true;
            s_->jobs.clear();
            s_->cv.notify_one();
        }
        if (thread_.joinable()) thread_.detach();
    }

  private:
    std::shared_ptr<WorkerState> s_;
    std::thread thread_;
};

bool valid_name(const std::string& n) {
    return !n.empty() && n.size() <= 64 && std::all_of(n.begin(), n.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

}  // namespace

// --- what a plugin sees of the host -----------------------------------------

namespace {

struct CtxExtra {
    std::string name;
    std::string path;
    std::shared_ptr<Mailbox> mailbox;
    void* impl = nullptr;   // the host's Impl; used only by closures run on the loop
    std::size_t index = 0;  // the plugin's index in Impl::plugins
    std::mutex m;
    std::set<br_approval_id> live;  // approvals this plugin may still decide
};

// Standard layout: the br_host handed out is the first member.
struct HostCtx {
    br_host c;
    CtxExtra* extra;
};

CtxExtra* extra_of(const br_host* h) {
    if (!h) return nullptr;
    return reinterpret_cast<const HostCtx*>(h)->extra;
}

// Set on a plugin's worker thread while its approve() runs: the last line
// it logs there (info or above) is its words on the verdict (Decision).
thread_local std::string* t_words = nullptr;

void host_log(const br_host* h, int level, const char* message) {
    auto* x = extra_of(h);
    if (!x) return;
    std::string m = message ? message : "";
    if (m.size() > 1000) m.resize(1000);
    if (t_words && level < BR_LOG_DEBUG) *t_words = m;
    log::Level lv = level <= BR_LOG_ERROR     ? log::Level::Error
                    : level == BR_LOG_WARNING ? log::Level::Warning
                    : level >= BR_LOG_DEBUG   ? log::Level::Debug
                                              : log::Level::Info;
    log::emit(lv, "plugin ", x->name, ": ", m);
}

// Contexts (and plugin state) of disabled plugins: fini() is never called
// on them, and a detached thread may still use them.  Kept, reachable, for
// the process's life.
struct Parked {
    std::unique_ptr<CtxExtra> extra;
    std::unique_ptr<HostCtx> ctx;
    void* state;
};
void park(Parked p) {
    static std::mutex m;
    static auto* kept = new std::vector<Parked>;
    std::lock_guard<std::mutex> g(m);
    kept->push_back(std::move(p));
}

}  // namespace

// --- the host ---------------------------------------------------------------

struct PluginHost::Impl {
    struct Plugin {
        std::string name;
        std::string path;
        bool want_approval = false;
        bool want_hooks = false;
        void* handle = nullptr;
        const br_plugin* api = nullptr;
        void* state = nullptr;
        bool ready = false;  // init() succeeded
        bool disabled = false;
        std::string reason;
        std::unique_ptr<Worker> worker;
        std::unique_ptr<CtxExtra> extra;  // freed only if the worker ends cleanly
        std::unique_ptr<HostCtx> ctx;
        int outstanding = 0;  // jobs posted whose completion has not come back
    };
    struct Approval {
        ApprovalId id = 0;
        Plugin* plugin = nullptr;
        FirstContact contact;
        Verdict verdict;
        Loop::TimerId timer = 0;
        Clock::time_point asked;
        Clock::time_point deadline;
        bool visible = false;           // the plugin answered BR_PENDING
        bool operator_relayed = false;  // an operator's verdict went to the plugin
    };
    struct HookSession {
        SessionFacts facts;
        std::size_t next = 0;
        Plugin* waiting = nullptr;
        std::vector<Plugin*> delivered;
        bool invalidated = false;
    };

    Loop& loop;
    HostOptions options;
    PluginHost* outer = nullptr;
    std::shared_ptr<Mailbox> mailbox = std::make_shared<Mailbox>();
    std::vector<std::unique_ptr<Plugin>> plugins;
    Plugin* approval = nullptr;
    std::vector<Plugin*> hooks;
    std::vector<PluginStatus> statuses;
    std::map<ApprovalId, Approval> approvals;
    std::map<std::string, std::shared_ptr<HookSession>> sessions;  // by fingerprint
    ApprovalId next_id = 1;
    Loop::TimerId watchdog = 0;

    Impl(Loop& l, HostOptions o) : loop(l), options(std::move(o)) {
        mailbox->efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (mailbox->efd < 0)
            throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
        loop.watch_fd(mailbox->efd, EPOLLIN, [this](std::uint32_t) { drain(); });
    }

    ~Impl() {
        // Pending approvals: the caller is going away, so no verdicts; the
        // plugins hear that the ids are dead.
        for (auto& [id, a] : approvals) {
            loop.cancel(a.timer);
            forget_live(*a.plugin, id);
            post_cancelled(*a.plugin, id);
        }
        approvals.clear();
        loop.cancel(watchdog);
        for (auto it = plugins.rbegin(); it != plugins.rend(); ++it) finish_plugin(**it);
        {
            std::lock_guard<std::mutex> g(mailbox->m);
            mailbox->closed = true;
            mailbox->items.clear();
        }
        loop.unwatch_fd(mailbox->efd);
        ::close(mailbox->efd);
    }

    void drain() {
        for (auto& f : mailbox->take()) {
            try {
                f();
            } catch (const std::exception& e) {
                log::error("plugin host: ", e.what());
            }
        }
    }

    // Posts a job to p's worker; `done` runs on the loop when it returned.
    void post(Plugin& p, std::string what, std::function<void()> job,
              std::function<void()> done = {}) {
        if (p.disabled || !p.worker) return;
        ++p.outstanding;
        auto mb = mailbox;
        Plugin* pp = &p;
        p.worker->post(std::move(what),
                       [pp, mb, job = std::move(job), done = std::move(done)]() mutable {
                           job();
                           mb->post([pp, done = std::move(done)] {
                               if (pp->outstanding > 0) --pp->outstanding;
                               if (!pp->disabled && done) done();
                           });
                       });
        arm_watchdog();
    }

    void arm_watchdog() {
        if (watchdog) return;
        auto tick = std::min<std::chrono::milliseconds>(
            std::chrono::milliseconds(100),
            std::max<std::chrono::milliseconds>(options.call_timeout / 4,
                                                std::chrono::milliseconds(10)));
        watchdog = loop.add_timer(tick, [this] {
            watchdog = 0;
            bool any = false;
            for (auto& p : plugins) {
                if (p->disabled || !p->worker) continue;
                if (auto b = p->worker->busy(); b && b->second > options.call_timeout) {
                    disable(*p, b->first + " did not return within " +
                                    std::to_string(options.call_timeout.count()) + " ms");
                    continue;
                }
                if (p->outstanding > 0) any = true;
            }
            if (any) arm_watchdog();
        });
    }

    void disable(Plugin& p, const std::string& why) {
        if (p.disabled) return;
        p.disabled = true;
        p.reason = "disabled: " + why;
        log::error("plugin ", p.name, " (", p.path, ") misbehaving, disabled: ", why);
        if (p.worker) p.worker->abandon();
        // The detached thread may still run plugin code that calls the host:
        // its context stays allocated for good, like the shared object.
        park(Parked{std::move(p.extra), std::move(p.ctx), p.state});
        p.outstanding = 0;
        for (auto& s : statuses)
            if (s.name == p.name) {
                s.ok = false;
                s.reason = p.reason;
            }
        std::vector<ApprovalId> dead;
        for (auto& [id, a] : approvals)
            if (a.plugin == &p) dead.push_back(id);
        for (auto id : dead)
            finish(id, unavailable(p.name, "approval plugin " + p.name + " " + p.reason));
        for (auto& [fp, hs] : sessions) {
            if (hs->waiting == &p && !hs->invalidated) {
                hs->waiting = nullptr;
                advance(hs);
            }
        }
    }

    // Bounded synchronous call on the worker (load and shutdown only: the
    // loop is not running).  False if the plugin hung and was disabled.
    bool call_sync(Plugin& p, std::string what, std::function<void()> job) {
        auto done = std::make_shared<std::promise<void>>();
        auto fut = done->get_future();
        p.worker->post(std::move(what), [job = std::move(job), done] {
            job();
            done->set_value();
        });
        for (;;) {
            if (fut.wait_for(std::chrono::milliseconds(10)) == std::future_status::ready)
                return true;
            if (auto b = p.worker->busy(); b && b->second > options.call_timeout) {
                disable(p, b->first + " did not return within " +
                               std::to_string(options.call_timeout.count()) + " ms");
                return false;
            }
        }
    }

    void finish_plugin(Plugin& p) {
        if (p.disabled || !p.worker) return;
        if (p.ready && p.api->fini) {
            void* st = p.state;
            const br_plugin* api = p.api;
            if (!call_sync(p, "fini()", [api, st] { api->fini(st); })) return;
        }
        p.worker->stop_and_join();
        p.worker.reset();
        p.ready = false;
        if (p.handle) ::dlclose(p.handle);
        p.handle = nullptr;
    }

    // --- loading --------------------------------------------------------

    Plugin& plugin_named(const std::string& name) {
        for (auto& p : plugins)
            if (p->name == name) return *p;
        auto p = std::make_unique<Plugin>();
        p->name = name;
        p->path = options.directory + "/" + name + ".so";
        plugins.push_back(std::move(p));
        return *plugins.back();
    }

    std::string check_file(const Plugin& p) {
        if (!valid_name(p.name)) return "not a plugin name ([a-z0-9_-]+)";
        struct stat st {};
        if (::stat(p.path.c_str(), &st) != 0)
            return errno == ENOENT ? "no such file"
                                   : std::string("cannot stat: ") + std::strerror(errno);
        if (!S_ISREG(st.st_mode)) return "not a regular file";
        if (st.st_uid != 0 && st.st_uid != ::geteuid())
            return "owned by uid " + std::to_string(st.st_uid) + ", neither root nor the daemon";
        if (st.st_mode & (S_IWGRP | S_IWOTH)) return "writable by group or others";
        return {};
    }

    void load_one(Plugin& p, std::size_t index) {
        PluginStatus status;
        status.name = p.name;
        status.path = p.path;
        status.approval = p.want_approval;
        status.hooks = p.want_hooks;
        auto refuse = [&](const std::string& why) {
            p.disabled = true;
            p.reason = why;
            status.reason = why;
            log::error("plugin ", p.name, " (", p.path, ") refused: ", why);
        };
        if (auto bad = check_file(p); !bad.empty()) {
            refuse(bad);
            statuses.push_back(status);
            return;
        }
        p.extra = std::make_unique<CtxExtra>();
        p.extra->name = p.name;
        p.extra->path = p.path;
        p.extra->mailbox = mailbox;
        p.extra->impl = this;
        p.extra->index = index;
        p.ctx = std::make_unique<HostCtx>();
        p.ctx->extra = p.extra.get();
        br_host& h = p.ctx->c;
        h.abi_version = BLUERATCHET_PLUGIN_ABI_VERSION;
        h.call_timeout_ms = static_cast<std::uint32_t>(options.call_timeout.count());
        h.plugin_name = p.extra->name.c_str();
        h.plugin_path = p.extra->path.c_str();
        h.log = host_log;
        h.approval_decide = &Impl::host_decide;
        h.approval_set_timeout = &Impl::host_set_timeout;
        p.worker = std::make_unique<Worker>();

        // dlopen (constructors), the entry point and init() all run on the
        // worker, bounded like every other call.
        struct Result {
            std::string error;
            void* handle = nullptr;
            const br_plugin* api = nullptr;
            void* state = nullptr;
        };
        auto r = std::make_shared<Result>();
        std::vector<std::pair<std::string, std::string>> settings;
        if (auto s = options.settings.find(p.name); s != options.settings.end())
            settings = s->second;
        const br_host* host = &p.ctx->c;
        std::string path = p.path, name = p.name;
        bool want_approval = p.want_approval, want_hooks = p.want_hooks;
        bool returned = call_sync(p, "loading", [=] {
            r->handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
            if (!r->handle) {
                const char* e = ::dlerror();
                r->error = std::string("dlopen failed: ") + (e ? e : "unknown error");
                return;
            }
            auto fail = [&](std::string why) {
                r->error = std::move(why);
                ::dlclose(r->handle);
                r->handle = nullptr;
                r->api = nullptr;
            };
            void* sym = ::dlsym(r->handle, BLUERATCHET_PLUGIN_SYMBOL);
            if (!sym)
                return fail("no symbol " BLUERATCHET_PLUGIN_SYMBOL
                            " (not a blueratchet plugin, or built for another ABI)");
            auto entry = reinterpret_cast<br_plugin_entry_v1>(sym);
            const br_plugin* api = entry();
            r->api = api;
            if (!api) return fail(BLUERATCHET_PLUGIN_SYMBOL "() returned NULL");
            if (api->abi_version != BLUERATCHET_PLUGIN_ABI_VERSION)
                return fail("ABI version " + std::to_string(api->abi_version) +
                            ", this daemon speaks version " +
                            std::to_string(BLUERATCHET_PLUGIN_ABI_VERSION));
            if (!api->name || name != api->name)
                return fail(std::string("calls itself '") + (api->name ? api->name : "(null)") +
                            "', not '" + name + "'");
            if (!api->init) return fail("no init callback");
            if (want_approval) {
                if (!(api->flags & BR_PLUGIN_APPROVAL))
                    return fail("not an approval plugin (flags lack BR_PLUGIN_APPROVAL)");
                if (!api->approve) return fail("approval plugin without an approve callback");
            }
            if (want_hooks) {
                if (!(api->flags & BR_PLUGIN_SESSION_HOOKS))
                    return fail("not a session hook plugin (flags lack BR_PLUGIN_SESSION_HOOKS)");
                if (!api->session_minted && !api->session_invalidated)
                    return fail("session hook plugin without session callbacks");
            }
            std::vector<br_kv> kv;
            for (const auto& [k, v] : settings) kv.push_back(br_kv{k.c_str(), v.c_str()});
            char err[512] = {0};
            void* state = nullptr;
            int rc = api->init(host, kv.data(), kv.size(), &state, err, sizeof err);
            if (rc != 0) {
                err[sizeof err - 1] = '\0';
                return fail("init failed: " +
                            (err[0] ? std::string(err) : "returned " + std::to_string(rc)));
            }
            r->state = state;
        });
        if (!returned) {
            status.reason = p.reason;
            statuses.push_back(status);
            return;
        }
        if (!r->error.empty()) {
            p.worker->stop_and_join();
            p.worker.reset();
            refuse(r->error);
            statuses.push_back(status);
            return;
        }
        p.handle = r->handle;
        p.api = r->api;
        p.state = r->state;
        p.ready = true;
        status.ok = true;
        statuses.push_back(status);
        log::info("plugin loaded name=", p.name, " path=", p.path, " use=",
                  p.want_approval && p.want_hooks ? "approval,hooks"
                  : p.want_approval               ? "approval"
                                                  : "hooks",
                  (p.api->flags & BR_PLUGIN_WANTS_PRIVATE_KEY) ? " private_key=yes" : "");
    }

    void load() {
        link_exec_to_x509_export(options);
        if (!options.approval.empty()) plugin_named(options.approval).want_approval = true;
        for (const auto& h : options.hooks) plugin_named(h).want_hooks = true;
        for (std::size_t i = 0; i < plugins.size(); ++i) load_one(*plugins[i], i);
        for (auto& p : plugins) {
            if (p->disabled) continue;
            if (p->want_approval) approval = p.get();
            if (p->want_hooks) hooks.push_back(p.get());
        }
        // Keep the configured hook order (plugins holds the approval plugin first).
        std::vector<Plugin*> ordered;
        for (const auto& h : options.hooks)
            for (auto* p : hooks)
                if (p->name == h && std::find(ordered.begin(), ordered.end(), p) == ordered.end())
                    ordered.push_back(p);
        hooks = std::move(ordered);
        for (const auto& setting : options.settings) {
            const std::string& name = setting.first;
            bool used = std::any_of(plugins.begin(), plugins.end(),
                                    [&](const auto& p) { return p->name == name; });
            if (!used)
                log::warning("[Plugin:", name, "] configures a plugin that is not loaded (not ",
                             "[General] Approval and not in [Plugins] Load)");
        }
        if (options.approval.empty()) {
            log::warning("no approval plugin: every first contact is refused");
        } else if (!approval) {
            log::error("approval plugin ", options.approval,
                       " is not available: every first contact is refused (known peers still "
                       "resume)");
        } else {
            log::info("approval plugin=", approval->name);
        }
    }

    // --- approvals ------------------------------------------------------

    static Plugin* plugin_of(CtxExtra* x) {
        auto* impl = x ? static_cast<Impl*>(x->impl) : nullptr;
        if (!impl || x->index >= impl->plugins.size()) return nullptr;
        return impl->plugins[x->index].get();
    }

    static int host_decide(const br_host* h, br_approval_id id, int verdict) {
        auto* x = extra_of(h);
        if (!x) return -1;
        if (verdict != BR_APPROVE && verdict != BR_REJECT) return -2;
        {
            std::lock_guard<std::mutex> g(x->m);
            if (x->live.erase(id) == 0) return -1;
        }
        auto* impl = static_cast<Impl*>(x->impl);
        x->mailbox->post([impl, x, id, verdict] {
            Plugin* p = plugin_of(x);
            auto it = impl->approvals.find(id);
            if (!p || p->disabled || it == impl->approvals.end() || it->second.plugin != p) return;
            impl->finish(id,
                         by_plugin(*p, verdict == BR_APPROVE,
                                   it->second.operator_relayed ? "the operator's verdict" : ""));
        });
        return 0;
    }

    static int host_set_timeout(const br_host* h, br_approval_id id, std::uint32_t seconds) {
        auto* x = extra_of(h);
        if (!x) return -1;
        {
            std::lock_guard<std::mutex> g(x->m);
            if (!x->live.count(id)) return -1;
        }
        auto* impl = static_cast<Impl*>(x->impl);
        x->mailbox->post([impl, x, id, seconds] {
            Plugin* p = plugin_of(x);
            auto it = impl->approvals.find(id);
            if (!p || p->disabled || it == impl->approvals.end() || it->second.plugin != p) return;
            auto at = impl->loop.now() + std::chrono::seconds(seconds);
            if (at >= it->second.deadline) return;
            impl->arm_deadline(it->second, at);
        });
        return 0;
    }

    void arm_deadline(Approval& a, Clock::time_point at) {
        loop.cancel(a.timer);
        a.deadline = at;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(at - loop.now());
        ApprovalId id = a.id;
        a.timer = loop.add_timer(std::max(left, std::chrono::milliseconds(0)), [this, id] {
            auto it = approvals.find(id);
            if (it == approvals.end()) return;
            it->second.timer = 0;
            Plugin* p = it->second.plugin;
            Decision d;
            d.by = Decision::By::Timeout;
            d.plugin = p ? p->name : std::string();
            d.waited_seconds = static_cast<std::uint32_t>(
                std::chrono::duration_cast<std::chrono::seconds>(loop.now() - it->second.asked +
                                                                 std::chrono::milliseconds(500))
                    .count());
            d.why = "no verdict in time (timed out)";
            finish(id, d);
            if (p) post_cancelled(*p, id);
        });
    }

    void forget_live(Plugin& p, ApprovalId id) {
        if (p.disabled || !p.extra) return;
        std::lock_guard<std::mutex> g(p.extra->m);
        p.extra->live.erase(id);
    }

    void post_cancelled(Plugin& p, ApprovalId id) {
        if (p.disabled || !p.ready || !p.api->approval_cancelled) return;
        const br_plugin* api = p.api;
        void* st = p.state;
        post(p, "approval_cancelled()", [api, st, id] { api->approval_cancelled(st, id); });
    }

    static Decision by_plugin(const Plugin& p, bool approved, std::string words) {
        Decision d;
        d.approved = approved;
        d.plugin = p.name;
        d.words = std::move(words);
        d.why = std::string(approved ? "approved" : "refused") + " by plugin " + p.name;
        return d;
    }
    static Decision unavailable(std::string plugin, std::string why) {
        Decision d;
        d.by = Decision::By::Unavailable;
        d.plugin = std::move(plugin);
        d.why = std::move(why);
        return d;
    }

    void finish(ApprovalId id, const Decision& d) {
        auto it = approvals.find(id);
        if (it == approvals.end()) return;
        Approval a = std::move(it->second);
        approvals.erase(it);
        loop.cancel(a.timer);
        if (a.plugin) forget_live(*a.plugin, id);
        if (a.verdict) a.verdict(d);
    }

    ApprovalId request(const FirstContact& c, Verdict verdict) {
        ApprovalId id = next_id++;
        Approval& a = approvals[id];
        a.id = id;
        a.contact = c;
        a.verdict = std::move(verdict);
        a.asked = loop.now();
        std::uint32_t secs = options.approval_timeout_seconds;
        if (c.timeout_seconds > 0) secs = std::min(secs, c.timeout_seconds);
        a.contact.timeout_seconds = secs;
        if (!approval || approval->disabled) {
            std::string why = options.approval.empty()
                                  ? "no approval plugin configured"
                                  : "approval plugin " + options.approval + " is not available";
            a.timer = loop.add_timer(std::chrono::milliseconds(0), [this, id, why] {
                finish(id, unavailable(options.approval, why));
            });
            return id;
        }
        Plugin& p = *approval;
        a.plugin = &p;
        arm_deadline(a, loop.now() + std::chrono::seconds(secs));
        {
            std::lock_guard<std::mutex> g(p.extra->m);
            p.extra->live.insert(id);
        }
        auto fc = std::make_shared<FirstContact>(a.contact);
        auto rc = std::make_shared<int>(BR_REJECT);
        auto words = std::make_shared<std::string>();
        const br_plugin* api = p.api;
        void* st = p.state;
        Plugin* pp = &p;
        post(
            p, "approve()",
            [api, st, fc, rc, words, id] {
                br_first_contact bc{};
                bc.adapter = fc->adapter.c_str();
                bc.adapter_address = fc->adapter_address.c_str();
                bc.peer_id = fc->peer_id.c_str();
                bc.peer_id_hex = fc->peer_id_hex.c_str();
                bc.address = fc->address.c_str();
                bc.short_code = fc->short_code.c_str();
                bc.role = fc->role.c_str();
                bc.pairing_window_open = fc->window_open ? 1 : 0;
                bc.pairing_window_remaining = fc->window_remaining;
                bc.timeout_seconds = fc->timeout_seconds;
                t_words = words.get();
                *rc = api->approve(st, &bc, id);
                t_words = nullptr;
            },
            [this, pp, rc, words, id] { approve_returned(*pp, id, *rc, *words); });
        return id;
    }

    void approve_returned(Plugin& p, ApprovalId id, int rc, const std::string& words) {
        if (rc != BR_APPROVE && rc != BR_REJECT && rc != BR_PENDING) {
            disable(p, "approve() returned " + std::to_string(rc) +
                           ", not BR_APPROVE, BR_REJECT or BR_PENDING");
            return;
        }
        auto it = approvals.find(id);
        if (it == approvals.end() || it->second.plugin != &p) return;  // decided, gone
        if (rc == BR_PENDING) {
            it->second.visible = true;
            log::info("first contact pending adapter=", it->second.contact.adapter,
                      " peer=", it->second.contact.peer_id, " address=", it->second.contact.address,
                      " short_code=", it->second.contact.short_code,
                      " role=", it->second.contact.role, " plugin=", p.name,
                      " expires_in=", view(it->second).expires_in);
            if (outer && outer->on_pending) outer->on_pending(view(it->second));
            return;
        }
        {
            std::lock_guard<std::mutex> g(p.extra->m);
            if (p.extra->live.erase(id) == 0) return;  // host_decide() got there first
        }
        finish(id, by_plugin(p, rc == BR_APPROVE, words));
    }

    PendingApproval view(const Approval& a) const {
        PendingApproval v;
        v.adapter = a.contact.adapter;
        v.peer_id = a.contact.peer_id;
        v.address = a.contact.address;
        v.short_code = a.contact.short_code;
        v.role = a.contact.role;
        auto left = std::chrono::duration_cast<std::chrono::seconds>(a.deadline - loop.now());
        v.expires_in = static_cast<std::uint32_t>(std::max<std::int64_t>(left.count(), 0));
        return v;
    }

    // --- hooks ----------------------------------------------------------

    void advance(const std::shared_ptr<HookSession>& hs) {
        while (hs->next < hooks.size()) {
            Plugin* p = hooks[hs->next++];
            if (p->disabled) continue;
            hs->delivered.push_back(p);
            if (!p->api->session_minted) continue;
            auto facts = std::make_shared<SessionFacts>(hs->facts);
            if (!(p->api->flags & BR_PLUGIN_WANTS_PRIVATE_KEY)) facts->wipe_key();
            const br_plugin* api = p->api;
            void* st = p->state;
            hs->waiting = p;
            post(
                *p, "session_minted()",
                [api, st, facts] {
                    br_session_info si = info(*facts);
                    si.key_pem = facts->key_pem.empty() ? nullptr : facts->key_pem.c_str();
                    api->session_minted(st, &si);
                    facts->wipe_key();
                },
                [this, p, hs] {
                    if (hs->waiting != p) return;
                    hs->waiting = nullptr;
                    if (!hs->invalidated) advance(hs);
                });
            return;
        }
        hs->waiting = nullptr;
        hs->facts.wipe_key();  // every plugin that wanted it has had it
    }

    static br_session_info info(const SessionFacts& f) {
        br_session_info si{};
        si.adapter = f.adapter.c_str();
        si.adapter_address = f.adapter_address.c_str();
        si.peer_id = f.peer_id.c_str();
        si.peer_id_hex = f.peer_id_hex.c_str();
        si.address = f.address.c_str();
        si.kind = f.kind.c_str();
        si.role = f.role.c_str();
        si.epoch = f.epoch;
        si.fingerprint = f.fingerprint.c_str();
        si.short_code = f.short_code.c_str();
        si.not_before = f.not_before;
        si.not_after = f.not_after;
        si.cert_pem = f.cert_pem.c_str();
        si.peer_cert_pem = f.peer_cert_pem.c_str();
        si.key_pem = nullptr;
        return si;
    }

    void minted(SessionFacts facts) {
        if (hooks.empty()) {
            facts.wipe_key();
            return;
        }
        auto hs = std::make_shared<HookSession>();
        hs->facts = std::move(facts);
        facts.wipe_key();
        if (auto old = sessions.find(hs->facts.fingerprint); old != sessions.end())
            old->second->facts.wipe_key();
        sessions[hs->facts.fingerprint] = hs;
        advance(hs);
    }

    void invalidated(const std::string& fingerprint, const std::string& reason) {
        auto it = sessions.find(fingerprint);
        if (it == sessions.end()) return;
        auto hs = it->second;
        sessions.erase(it);
        hs->invalidated = true;
        hs->facts.wipe_key();
        for (Plugin* p : hs->delivered) {
            if (p->disabled || !p->api->session_invalidated) continue;
            auto facts = std::make_shared<SessionFacts>(hs->facts);
            const br_plugin* api = p->api;
            void* st = p->state;
            post(*p, "session_invalidated()", [api, st, facts, reason] {
                br_session_info si = info(*facts);
                api->session_invalidated(st, &si, reason.c_str());
            });
        }
    }
};

PluginHost::PluginHost(Loop& loop, HostOptions options)
    : impl_(std::make_unique<Impl>(loop, std::move(options))) {
    impl_->outer = this;
}

PluginHost::~PluginHost() = default;

void PluginHost::load() {
    impl_->load();
}

const std::vector<PluginStatus>& PluginHost::status() const {
    return impl_->statuses;
}

bool PluginHost::approval_available() const {
    return impl_->approval && !impl_->approval->disabled;
}

const std::string& PluginHost::approval_name() const {
    return impl_->options.approval;
}

PluginHost::ApprovalId PluginHost::request_approval(const FirstContact& contact, Verdict verdict) {
    return impl_->request(contact, std::move(verdict));
}

void PluginHost::cancel_approval(ApprovalId id) {
    auto it = impl_->approvals.find(id);
    if (it == impl_->approvals.end()) return;
    auto* p = it->second.plugin;
    impl_->loop.cancel(it->second.timer);
    impl_->approvals.erase(it);
    if (p) {
        impl_->forget_live(*p, id);
        impl_->post_cancelled(*p, id);
    }
}

std::vector<PendingApproval> PluginHost::pending() const {
    std::vector<PendingApproval> out;
    for (const auto& [id, a] : impl_->approvals)
        if (a.visible) out.push_back(impl_->view(a));
    return out;
}

ApiResult<bool> PluginHost::operator_verdict(const std::string& adapter, const std::string& peer_id,
                                             bool approve) {
    std::string lower = peer_id;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (auto& [id, a] : impl_->approvals) {
        if (!a.visible || a.contact.adapter != adapter) continue;
        if (a.contact.peer_id != peer_id && a.contact.peer_id_hex != lower) continue;
        Impl::Plugin* p = a.plugin;
        if (!p || p->disabled)
            return api_failure(ApiError::Failed, "the approval plugin is disabled");
        if (!p->api->operator_verdict)
            return api_failure(ApiError::NotPermitted,
                               "approval plugin " + p->name + " does not take operator verdicts");
        log::info("operator ", approve ? "approves" : "rejects", " first contact adapter=", adapter,
                  " peer=", a.contact.peer_id);
        a.operator_relayed = true;
        const br_plugin* api = p->api;
        void* st = p->state;
        ApprovalId aid = id;
        int v = approve ? BR_APPROVE : BR_REJECT;
        impl_->post(*p, "operator_verdict()",
                    [api, st, aid, v] { api->operator_verdict(st, aid, v); });
        return true;
    }
    return api_failure(ApiError::NotFound, "no approval pending for " + peer_id + " on " + adapter);
}

void PluginHost::session_minted(SessionFacts facts) {
    impl_->minted(std::move(facts));
}

void PluginHost::session_invalidated(const std::string& fingerprint, const std::string& reason) {
    impl_->invalidated(fingerprint, reason);
}

bool PluginHost::idle() const {
    for (const auto& p : impl_->plugins) {
        if (p->disabled || !p->worker) continue;
        if (p->outstanding > 0 || p->worker->busy() || p->worker->has_queued()) return false;
    }
    return true;
}

}  // namespace br::daemon::plugins
