// SPDX-License-Identifier: MIT
// The `x509-export` hook plugin: while a session is live its certificates
// and key are files, for programs that want them (a TLS server, a VPN):
//
//   <Directory>/<adapter>/<peer id hex>/cert.pem       our session certificate
//                                       key.pem        SECRET: our session private key (PKCS#8)
//                                       peer-cert.pem  the peer's session certificate
//                                       fingerprint    the session's fingerprint (hex)
//
// Directories are 0700, files 0600, owned by the daemon (root).  Directory
// should be on a tmpfs (the default, /run/blueratchet/sessions, is) so the
// key never reaches a disk.  On invalidation the files are removed at once;
// at start-up leftovers of a previous run (a crash) are removed.
//
//   [Plugin:x509-export]
//   Directory = /run/blueratchet/sessions
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <string_view>
#include <vector>

#include "plugin_util.hpp"

namespace {

const char* const kFiles[] = {"cert.pem", "key.pem", "peer-cert.pem", "fingerprint"};

struct State {
    const br_host* host = nullptr;
    std::string dir = "/run/blueratchet/sessions";
    std::set<std::pair<std::string, std::string>> exported;  // adapter, peer hex
};

bool valid_adapter(const std::string& s) {
    return s.size() >= 4 && s.size() <= 8 && s.compare(0, 3, "hci") == 0 &&
           std::all_of(s.begin() + 3, s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
bool valid_hex(const std::string& s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

std::string errno_text(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

struct Fd {
    int fd = -1;
    explicit Fd(int f = -1) : fd(f) {}
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
};

// A private directory under `parent` (created 0700 if missing, refused if
// it is a symlink or someone else's); returns its fd or -1 with `error`.
int private_dir(int parent, const std::string& name, const std::string& shown, std::string& error) {
    if (::mkdirat(parent, name.c_str(), 0700) != 0 && errno != EEXIST) {
        error = errno_text("mkdir " + shown);
        return -1;
    }
    int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        error = errno_text("open " + shown);
        return -1;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_uid != ::geteuid()) {
        ::close(fd);
        error = shown + ": not owned by the daemon";
        return -1;
    }
    if ((st.st_mode & 07777) != 0700 && ::fchmod(fd, 0700) != 0) {
        ::close(fd);
        error = errno_text("chmod 0700 " + shown);
        return -1;
    }
    return fd;
}

// Opens (creating as needed) the top directory, 0700.
int top_dir(const std::string& dir, std::string& error) {
    // Parents are created 0755 (e.g. /run/blueratchet), the directory itself 0700.
    std::string path;
    size_t pos = 1;
    while ((pos = dir.find('/', pos)) != std::string::npos) {
        path = dir.substr(0, pos);
        if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
            error = errno_text("mkdir " + path);
            return -1;
        }
        ++pos;
    }
    Fd root(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    std::string rel = dir.substr(1);
    while (!rel.empty() && rel.back() == '/') rel.pop_back();
    auto slash = rel.rfind('/');
    Fd parent(slash == std::string::npos ? ::dup(root.fd)
                                         : ::openat(root.fd, rel.substr(0, slash).c_str(),
                                                    O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (parent.fd < 0) {
        error = errno_text("open parent of " + dir);
        return -1;
    }
    return private_dir(parent.fd, slash == std::string::npos ? rel : rel.substr(slash + 1), dir,
                       error);
}

bool write_file(int dir, const char* name, std::string_view data, const std::string& shown,
                std::string& error) {
    std::string tmp = std::string(".") + name + ".tmp";
    ::unlinkat(dir, tmp.c_str(), 0);
    int fd = ::openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        error = errno_text("create " + shown + "/" + tmp);
        return false;
    }
    bool ok = ::fchmod(fd, 0600) == 0;
    const char* p = data.data();
    size_t left = data.size();
    while (ok && left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ok = false;
            break;
        }
        p += n;
        left -= static_cast<size_t>(n);
    }
    if (!ok) error = errno_text("write " + shown + "/" + name);
    if (::close(fd) != 0 && ok) {
        ok = false;
        error = errno_text("close " + shown + "/" + name);
    }
    if (ok && ::renameat(dir, tmp.c_str(), dir, name) != 0) {
        ok = false;
        error = errno_text("rename " + shown + "/" + name);
    }
    if (!ok) ::unlinkat(dir, tmp.c_str(), 0);
    return ok;
}

// Removes our files of one session and its directory; true if anything was there.
bool remove_session(int top, const std::string& adapter, const std::string& hex) {
    Fd a(::openat(top, adapter.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (a.fd < 0) return false;
    Fd p(::openat(a.fd, hex.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (p.fd < 0) return false;
    for (const char* f : kFiles) {
        ::unlinkat(p.fd, f, 0);
        ::unlinkat(p.fd, (std::string(".") + f + ".tmp").c_str(), 0);
    }
    ::unlinkat(a.fd, hex.c_str(), AT_REMOVEDIR);
    ::unlinkat(top, adapter.c_str(), AT_REMOVEDIR);  // fails while other peers remain
    return true;
}

std::string read_small(int dir, const char* name) {
    Fd fd(::openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.fd < 0) return {};
    char buf[128];
    ssize_t n = ::read(fd.fd, buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// Leftovers from a previous run: only what this plugin writes is touched.
void clean_leftovers(State& s, int top) {
    Fd dup_top(::dup(top));
    DIR* d = ::fdopendir(dup_top.fd);
    if (!d) return;
    dup_top.fd = -1;
    std::vector<std::string> adapters;
    while (auto* e = ::readdir(d))
        if (valid_adapter(e->d_name)) adapters.push_back(e->d_name);
    ::closedir(d);
    int removed = 0;
    for (const auto& a : adapters) {
        Fd afd(::openat(top, a.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (afd.fd < 0) continue;
        DIR* ad = ::fdopendir(::dup(afd.fd));
        if (!ad) continue;
        std::vector<std::string> peers;
        while (auto* e = ::readdir(ad))
            if (valid_hex(e->d_name)) peers.push_back(e->d_name);
        ::closedir(ad);
        for (const auto& p : peers)
            if (remove_session(top, a, p)) ++removed;
    }
    if (removed > 0)
        br::plugin::log(s.host, BR_LOG_WARNING,
                        "removed " + std::to_string(removed) +
                            " session export(s) left by a previous run in " + s.dir);
}

int init(const br_host* host, const br_kv* config, size_t n, void** state, char* error,
         size_t error_size) {
    auto s = std::make_unique<State>();
    s->host = host;
    for (const auto& kv : br::plugin::settings(config, n)) {
        if (kv.key == "Directory") {
            if (kv.value.size() < 2 || kv.value[0] != '/' ||
                kv.value.find("/..") != std::string::npos)
                return br::plugin::fail(error, error_size,
                                        "Directory: must be an absolute path without .. and not /");
            s->dir = kv.value;
            while (s->dir.size() > 1 && s->dir.back() == '/') s->dir.pop_back();
        } else {
            return br::plugin::fail(
                error, error_size,
                "unknown key " + kv.key + " in [Plugin:x509-export] (known: Directory)");
        }
    }
    std::string why;
    Fd top(top_dir(s->dir, why));
    if (top.fd < 0) return br::plugin::fail(error, error_size, why);
    clean_leftovers(*s, top.fd);
    *state = s.release();
    return 0;
}

void minted(void* state, const br_session_info* si) {
    auto* s = static_cast<State*>(state);
    br::plugin::guarded(s->host, "session_minted", [&] {
        std::string adapter = si->adapter, hex = si->peer_id_hex;
        if (!valid_adapter(adapter) || !valid_hex(hex)) {
            br::plugin::log(s->host, BR_LOG_ERROR, "refusing odd names " + adapter + "/" + hex);
            return;
        }
        std::string why;
        Fd top(top_dir(s->dir, why));
        std::string shown = s->dir + "/" + adapter;
        Fd a(top.fd < 0 ? -1 : private_dir(top.fd, adapter, shown, why));
        shown += "/" + hex;
        Fd p(a.fd < 0 ? -1 : private_dir(a.fd, hex, shown, why));
        bool ok = p.fd >= 0;
        if (ok) s->exported.insert({adapter, hex});
        ok = ok && write_file(p.fd, "fingerprint", std::string(si->fingerprint) + "\n", shown, why);
        ok = ok && write_file(p.fd, "cert.pem", si->cert_pem, shown, why);
        ok = ok && write_file(p.fd, "peer-cert.pem", si->peer_cert_pem, shown, why);
        // The key goes straight from the host's buffer to the file.
        if (ok && si->key_pem) ok = write_file(p.fd, "key.pem", si->key_pem, shown, why);
        if (!ok) {
            br::plugin::log(s->host, BR_LOG_ERROR, "export failed: " + why);
            if (top.fd >= 0) remove_session(top.fd, adapter, hex);
            return;
        }
        br::plugin::log(s->host, BR_LOG_INFO,
                        "exported adapter=" + adapter + " peer=" + si->peer_id +
                            " epoch=" + std::to_string(si->epoch) + " dir=" + shown);
    });
}

void invalidated(void* state, const br_session_info* si, const char* reason) {
    auto* s = static_cast<State*>(state);
    br::plugin::guarded(s->host, "session_invalidated", [&] {
        std::string adapter = si->adapter, hex = si->peer_id_hex;
        if (!valid_adapter(adapter) || !valid_hex(hex)) return;
        std::string why;
        Fd top(::open(s->dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (top.fd < 0) return;
        {
            // Only this session's files: a newer session of the same peer stays.
            Fd a(
                ::openat(top.fd, adapter.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            Fd p(a.fd < 0 ? -1
                          : ::openat(a.fd, hex.c_str(),
                                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (p.fd < 0) return;
            std::string fp = read_small(p.fd, "fingerprint");
            if (!fp.empty() && fp != std::string(si->fingerprint) + "\n") return;
        }
        remove_session(top.fd, adapter, hex);
        s->exported.erase({adapter, hex});
        br::plugin::log(s->host, BR_LOG_INFO,
                        "removed adapter=" + adapter + " peer=" + si->peer_id +
                            " epoch=" + std::to_string(si->epoch) + " reason=" + reason);
    });
}

void fini(void* state) {
    auto* s = static_cast<State*>(state);
    // Belt and braces: the daemon invalidates every session before stopping.
    Fd top(::open(s->dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (top.fd >= 0)
        for (const auto& [a, p] : s->exported) remove_session(top.fd, a, p);
    delete s;
}

const br_plugin kPlugin = {
    BLUERATCHET_PLUGIN_ABI_VERSION,
    "x509-export",
    BR_PLUGIN_SESSION_HOOKS | BR_PLUGIN_WANTS_PRIVATE_KEY,
    init,
    nullptr,
    nullptr,
    nullptr,
    minted,
    invalidated,
    fini,
};

}  // namespace

extern "C" BLUERATCHET_PLUGIN_EXPORT const br_plugin* blueratchet_plugin_v1(void) {
    return &kPlugin;
}
