// A stand-in for the L2CAP transport of session channels in unit tests
// (the real one runs in the system tier): abstract AF_UNIX SOCK_SEQPACKET
// sockets, message boundaries kept as L2CAP's SDUs keep them.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

#include "daemon/channel/channel_hub.hpp"

namespace br::daemon {

// A daemon's address is its name; its listener an abstract AF_UNIX socket
// named after it and the process, and an opener binds "<name>-<n>" so that
// the acceptor learns who called.
class UnixTransport : public ChannelHub::Transport {
  public:
    explicit UnixTransport(std::string name) : name_(std::move(name)) {}
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
    Expected<int, int> connect(const ChannelHub::Session& s) override {
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
    int connect_result(int fd) override {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        return err;
    }
    std::size_t send_mtu(int) override { return 185; }

  private:
    std::string name_;
    int n_ = 0;
};

}  // namespace br::daemon
