// SPDX-License-Identifier: MIT
// A stand-in for the L2CAP transport of session channels in unit tests
// (the real one runs in the system tier): abstract AF_UNIX SOCK_SEQPACKET
// sockets, message boundaries kept as L2CAP's SDUs keep them.
#pragma once

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "daemon/channel/channel_hub.hpp"

namespace br::daemon {

// A daemon's address is its name; its listener an abstract AF_UNIX socket
// named after it and the process, and an opener binds "<name>-<n>" so that
// the acceptor learns who called.
class UnixTransport : public ChannelHub::Transport {
  public:
    explicit UnixTransport(std::string name) : name_(std::move(name)) {}
    ~UnixTransport() override {
        for (int fd : void_) ::close(fd);
    }
    UnixTransport(const UnixTransport&) = delete;
    UnixTransport& operator=(const UnixTransport&) = delete;
    static std::string prefix() { return "br-hub-test-" + std::to_string(::getpid()) + "-"; }
    static sockaddr_un at(const std::string& name, socklen_t& len) {
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::string path = prefix() + name;
        std::memcpy(a.sun_path + 1, path.data(), path.size());
        len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + path.size());
        return a;
    }
    Expected<int, int> listen() override {
        int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        socklen_t len;
        sockaddr_un a = at(name_, len);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd, 8) != 0)
            return unexpected(errno);
        return fd;
    }
    Expected<Incoming, int> accept(int listen_fd) override {
        sockaddr_un peer{};
        socklen_t len = sizeof peer;
        int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer), &len,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return unexpected(errno == EAGAIN ? 0 : errno);
        std::string path(peer.sun_path + 1, len - offsetof(sockaddr_un, sun_path) - 1);
        std::string who = path.substr(prefix().size());  // "<name>-<n>"
        return Incoming{fd, name_, who.substr(0, who.find('-'))};
    }
    // Models the kernel's channel identifiers (lowest free from 64) and a
    // peer that holds `cids` stale: an open that gets one is refused, as
    // Linux refuses "Source CID already allocated" (ECONNREFUSED, after
    // connect() returned).  ChannelHub::retry() is about this.
    void peer_holds_stale(std::set<int> cids) { stale_ = std::move(cids); }
    int connects() const { return connects_; }
    // The next `n` opens go nowhere, as an open whose answer Linux lost:
    // one never completes (Stall::Connect: never writable), or completes
    // and nothing ever answers its TLS (Stall::Handshake).
    enum class Stall { Connect, Handshake };
    void peer_stalls(int n, Stall how) {
        stalls_ = n;
        stall_ = how;
    }

    Expected<int, int> connect(const ChannelHub::Session& s) override {
        ++connects_;
        if (stalls_ > 0) {
            --stalls_;
            return nowhere();
        }
        if (int cid = stale_.empty() ? 0 : allocate_cid(); stale_.count(cid)) {
            int sv[2];
            if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
                return unexpected(errno);
            refused_.push_back(sv[0]);
            keep(cid, sv[0]);
            ::close(sv[1]);  // writable at once, and its answer is the refusal
            return sv[0];
        }
        auto fd = connect_unix(s);
        if (fd && !stale_.empty()) keep(allocate_cid(), *fd);
        return fd;
    }
    int connect_result(int fd) override {
        for (int r : refused_)
            if (r == fd && alive(fd)) return ECONNREFUSED;
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        return err;
    }
    std::size_t send_mtu(int) override { return 185; }

  private:
    Expected<int, int> nowhere() {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
            return unexpected(errno);
        void_.push_back(sv[1]);  // open and never read: nothing answers
        if (stall_ == Stall::Connect) {
            // Full: not writable until the far end reads, which it never does.
            const char byte = 0;
            while (::send(sv[0], &byte, 1, MSG_DONTWAIT) == 1) {
            }
        }
        return sv[0];
    }
    struct Held {
        int fd;
        ino_t inode;
    };
    bool alive(int fd) const {
        struct stat st {};
        for (const auto& [cid, h] : held_)
            if (h.fd == fd) return ::fstat(fd, &st) == 0 && st.st_ino == h.inode;
        return false;
    }
    // The lowest identifier no open socket of ours holds.
    int allocate_cid() {
        int cid = 64;
        for (;; ++cid) {
            auto it = held_.find(cid);
            struct stat st {};
            if (it == held_.end() || ::fstat(it->second.fd, &st) != 0 ||
                st.st_ino != it->second.inode) {
                held_.erase(cid);
                return cid;
            }
        }
    }
    void keep(int cid, int fd) {
        struct stat st {};
        ::fstat(fd, &st);
        held_[cid] = Held{fd, st.st_ino};
    }
    Expected<int, int> connect_unix(const ChannelHub::Session& s) {
        int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        socklen_t len;
        sockaddr_un self = at(name_ + "-" + std::to_string(++n_), len);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&self), len) != 0) return unexpected(errno);
        sockaddr_un a = at(s.peer_address, len);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 && errno != EINPROGRESS) {
            int e = errno;
            ::close(fd);
            return unexpected(e);
        }
        return fd;
    }

    std::string name_;
    int n_ = 0;
    std::set<int> stale_;
    int connects_ = 0;
    std::map<int, Held> held_;
    std::vector<int> refused_;
    int stalls_ = 0;
    Stall stall_ = Stall::Connect;
    std::vector<int> void_;
};

}  // namespace br::daemon
