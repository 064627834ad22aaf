// SPDX-License-Identifier: MIT
#include "ctl/agent.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <iostream>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

namespace br::ctl {
namespace {

struct Request {
    std::string adapter, peer_id, address, short_code;
    std::uint32_t expires_in = 0;
};

class Agent {
  public:
    Agent(ManagerProxy& manager, std::string adapter)
        : manager_(manager), adapter_(std::move(adapter)) {}

    void queue(Request r) {
        if (!adapter_.empty() && r.adapter != adapter_) return;
        if (!seen_.insert({r.adapter, r.peer_id, r.short_code}).second) return;
        queue_.push_back(std::move(r));
        prompt_next();
    }

    // One line of the user's input.
    void answer(std::string line) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (!asking_) {
            if (!line.empty()) say("nothing to answer yet");
            return;
        }
        const Request r = *asking_;
        bool yes;
        if (line == "yes" || line == "y") {
            yes = true;
        } else if (line == "no" || line == "n") {
            yes = false;
        } else {
            std::cout << "[agent] Please answer yes or no: " << std::flush;
            return;
        }
        asking_.reset();
        try {
            if (yes)
                manager_.Approve(r.adapter, r.peer_id);
            else
                manager_.Reject(r.adapter, r.peer_id);
            say(std::string(yes ? "approved " : "rejected ") + r.peer_id);
        } catch (const sdbus::Error& e) {
            say("could not " + std::string(yes ? "approve" : "reject") + " " + r.peer_id + ": " +
                describe(e) + " (it expired or was decided elsewhere)");
        }
        prompt_next();
    }

    void minted(const std::string& adapter, const std::string& peer, const std::string& kind,
                std::uint32_t epoch, const std::string& code) {
        if (!adapter_.empty() && adapter != adapter_) return;
        if (kind != "pair") return;
        say("paired with " + peer + " on " + adapter + " (epoch " + std::to_string(epoch) +
            ", code " + code + ")");
    }

    void bond_refused(const std::string& adapter, const std::string& peer,
                      const std::string& address, const std::string& reason) {
        if (!adapter_.empty() && adapter != adapter_) return;
        say("LE bond with " + (peer.empty() ? address : peer) + " refused: " + reason);
    }

    // A connection attempt ended without a session: why, and if it was the
    // first contact being asked about, the question is dropped (its
    // approval is over: expired, or refused elsewhere).
    void attempt_failed(const std::string& adapter, const std::string& peer,
                        const std::string& address, const std::string& reason,
                        const std::string& error, const std::string& detail) {
        if (!adapter_.empty() && adapter != adapter_) return;
        const bool asked =
            asking_ && !peer.empty() && asking_->adapter == adapter && asking_->peer_id == peer;
        if (asked) asking_.reset();
        std::erase_if(queue_, [&](const Request& r) {
            return !peer.empty() && r.adapter == adapter && r.peer_id == peer;
        });
        say("no session with " + (peer.empty() ? address : peer) + " (" + address + ", " + adapter +
            "): " + reason + (error.empty() ? "" : " " + error) + ": " + detail);
        if (asked) prompt_next();
    }

  private:
    void say(const std::string& text) {
        if (asking_) std::cout << "\n";
        std::cout << "[agent] " << text << "\n";
        if (asking_) print_prompt(*asking_);
        std::cout.flush();
    }

    void prompt_next() {
        if (asking_ || queue_.empty()) return;
        asking_ = std::move(queue_.front());
        queue_.pop_front();
        print_prompt(*asking_);
    }

    static void print_prompt(const Request& r) {
        std::cout << "[agent] Confirm code " << r.short_code << " for " << r.peer_id << " ("
                  << (r.address.empty() ? "no address" : r.address) << ", " << r.adapter
                  << ", expires in " << r.expires_in << " s) (yes/no): " << std::flush;
    }

    ManagerProxy& manager_;
    std::string adapter_;
    std::deque<Request> queue_;
    std::optional<Request> asking_;
    std::set<std::tuple<std::string, std::string, std::string>> seen_;
};

}  // namespace

int run_agent(sdbus::IConnection& conn, ManagerProxy& manager, const std::string& adapter,
              int signal_fd) {
    Agent agent(manager, adapter);
    manager.on_approval = [&](const std::string& a, const std::string& peer,
                              const std::string& address, const std::string& code,
                              std::uint32_t expires) {
        agent.queue({a, peer, address, code, expires});
    };
    manager.on_minted = [&](const sdbus::ObjectPath&, const std::string& a, const std::string& peer,
                            const std::string& kind, std::uint32_t epoch, const std::string&,
                            const std::string& code) { agent.minted(a, peer, kind, epoch, code); };
    manager.on_bond_refused = [&](const std::string& a, const std::string& peer,
                                  const std::string& address, const std::string& reason) {
        agent.bond_refused(a, peer, address, reason);
    };
    manager.on_attempt_failed = [&](const std::string& a, const std::string& peer,
                                    const std::string& address, const std::string& reason,
                                    const std::string& error, const std::string& detail) {
        agent.attempt_failed(a, peer, address, reason, error, detail);
    };
    std::cerr << "blueratchetctl: agent running; first contacts waiting for an operator are asked"
                 " about here (Approval = confirm); Ctrl-D or Ctrl-C to stop\n";
    // Whatever was already waiting when we started.
    for (const auto& p : manager.ListPendingApprovals())
        agent.queue({p.get<0>(), p.get<1>(), p.get<2>(), p.get<3>(), p.get<4>()});

    std::string input;
    std::vector<pollfd> fds{{signal_fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    while (true) {
        wait_on_bus(conn, fds);
        if (fds[0].revents & POLLIN) break;
        if (fds[1].revents & (POLLIN | POLLHUP)) {
            char buf[256];
            ssize_t got = ::read(STDIN_FILENO, buf, sizeof buf);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) break;  // end of input
            input.append(buf, static_cast<std::size_t>(got));
            for (auto nl = input.find('\n'); nl != std::string::npos; nl = input.find('\n')) {
                std::string line = input.substr(0, nl);
                input.erase(0, nl + 1);
                agent.answer(line);
                while (conn.processPendingRequest()) {
                }
            }
            if (input.size() > 4096) input.clear();  // no answer is that long
        }
    }
    return 0;
}

}  // namespace br::ctl
