// SPDX-License-Identifier: MIT
#include "ctl/channel.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "org.blueratchet.ServiceHandler1_adaptor.h"

namespace br::ctl {

namespace {

// Writes all of `n` bytes; false if the other end is gone.
bool write_all(int fd, const char* p, std::size_t n) {
    while (n) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

}  // namespace

int run_channel_connect(ManagerProxy& manager, const std::string& adapter,
                        const std::string& device_id, const std::string& service) {
    sdbus::UnixFd channel = manager.OpenChannel(adapter, device_id, service);
    const int fd = channel.get();
    ::signal(SIGPIPE, SIG_IGN);
    bool in_open = true, out_open = true;
    char buf[16384];
    while (out_open) {
        pollfd p[2] = {{fd, POLLIN, 0},
                       {STDIN_FILENO, static_cast<short>(in_open ? POLLIN : 0), 0}};
        if (::poll(p, in_open ? 2 : 1, -1) < 0) {
            if (errno == EINTR) continue;
            throw Failure(std::string("poll: ") + std::strerror(errno));
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n <= 0) {
                out_open = false;  // the channel ended (or the session did)
            } else if (!write_all(STDOUT_FILENO, buf, static_cast<std::size_t>(n))) {
                return 1;
            }
        }
        if (in_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
            if (n <= 0) {
                in_open = false;
                ::shutdown(fd, SHUT_WR);  // the peer's application reads end-of-stream
            } else if (!write_all(fd, buf, static_cast<std::size_t>(n))) {
                in_open = false;
            }
        }
    }
    return 0;
}

namespace {

// Runs the command on each channel.
class Server final : public sdbus::AdaptorInterfaces<org::blueratchet::ServiceHandler1_adaptor> {
  public:
    Server(sdbus::IConnection& conn, std::vector<std::string> command)
        : AdaptorInterfaces(conn, "/org/blueratchet/ctl/serve"), command_(std::move(command)) {
        registerAdaptor();
    }
    ~Server() { unregisterAdaptor(); }

  private:
    void NewChannel(const std::string& adapter, const std::string& peer_id,
                    const std::string& service, const sdbus::UnixFd& channel) override {
        std::cerr << "blueratchetctl: channel to " << service << " from " << peer_id << " on "
                  << adapter << "\n";
        pid_t pid = ::fork();
        if (pid < 0) {
            std::cerr << "blueratchetctl: fork: " << std::strerror(errno) << "\n";
            return;
        }
        if (pid == 0) {
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, nullptr);
            ::dup2(channel.get(), STDIN_FILENO);
            ::dup2(channel.get(), STDOUT_FILENO);
            std::vector<char*> argv;
            for (const auto& a : command_) argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            ::setenv("BLUERATCHET_PEER", peer_id.c_str(), 1);
            ::setenv("BLUERATCHET_ADAPTER", adapter.c_str(), 1);
            ::execvp(argv[0], argv.data());
            std::cerr << "blueratchetctl: " << command_[0] << ": " << std::strerror(errno) << "\n";
            ::_exit(127);
        }
        // The child has the channel; our copy goes with `channel`.
    }
    std::vector<std::string> command_;
};

}  // namespace

int run_channel_serve(sdbus::IConnection& conn, ManagerProxy& manager, const std::string& service,
                      const std::vector<std::string>& command, int signal_fd) {
    if (command.empty()) throw Failure("channel serve: no command after --");
    Server server(conn, command);
    manager.RegisterService(service, "/org/blueratchet/ctl/serve");
    std::cerr << "blueratchetctl: serving " << service << " with " << command[0]
              << "; Ctrl-C to stop\n";
    std::vector<pollfd> fds{{signal_fd, POLLIN, 0}};
    while (true) {
        wait_on_bus(conn, fds);
        if (fds[0].revents & POLLIN) break;
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
    }
    try {
        manager.UnregisterService(service);
    } catch (const sdbus::Error&) {
        // Leaving the bus unregisters it anyway.
    }
    return 0;
}

}  // namespace br::ctl
