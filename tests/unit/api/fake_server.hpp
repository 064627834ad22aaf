// SPDX-License-Identifier: MIT
// The API over a FakeModel on the daemon's own event loop (EventLoop) in a
// thread of its own, owning org.blueratchet on the given bus, plus a control
// object (/test, org.blueratchet.Test) through which tests make model events
// happen on the loop thread.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "daemon/api/api.hpp"
#include "daemon/api/errors.hpp"
#include "daemon/event_loop.hpp"
#include "fake_model.hpp"

namespace br::test {

class Server {
  public:
    explicit Server(const std::string& address) {
        conn_ = sdbus::createSessionBusConnectionWithAddress(address);
        conn_->requestName(br::daemon::errors::kBusName);
        loop_.attach_bus(*conn_);
        api_ = std::make_unique<br::daemon::Api>(*conn_, loop_, model);
        control_ = sdbus::createObject(*conn_, "/test");
        const char* iface = "org.blueratchet.Test";
        control_->registerMethod("Mint").onInterface(iface).implementedAs(
            [this](const std::string& adapter, const std::string& peer, const std::string& kind) {
                model.mint(adapter, peer, kind);
            });
        control_->registerMethod("Disconnect")
            .onInterface(iface)
            .implementedAs([this](const std::string& adapter, const std::string& peer) {
                model.disconnect(adapter, peer);
            });
        control_->registerMethod("RequestApproval")
            .onInterface(iface)
            .implementedAs([this](const std::string& adapter, const std::string& peer) {
                model.request_approval(adapter, peer);
            });
        control_->registerMethod("FailAttempt")
            .onInterface(iface)
            .implementedAs([this](const std::string& adapter, const std::string& address) {
                model.fail_attempt(adapter, address);
            });
        control_->registerMethod("Rename").onInterface(iface).implementedAs(
            [this](const std::string& peer, const std::string& alias) {
                model.rename_peer(peer, alias);
            });
        control_->registerMethod("AddPeer").onInterface(iface).implementedAs(
            [this](const std::string& adapter, const std::string& peer,
                   const std::string& address) { model.add_peer(adapter, peer, address); });
        control_->registerMethod("AddAdapter")
            .onInterface(iface)
            .implementedAs([this](const std::string& name) { model.add_adapter(name); });
        control_->registerMethod("SetThrow")
            .onInterface(iface)
            .implementedAs([this](const bool& on) { model.throw_everything = on; });
        control_->registerMethod("Decisions").onInterface(iface).implementedAs([this]() {
            return model.decisions;
        });
        control_->registerMethod("Deliver").onInterface(iface).implementedAs(
            [this](const std::string& service) { return model.deliver(service); });
        control_->registerMethod("Gone").onInterface(iface).implementedAs(
            [this]() { return model.gone; });
        control_->finishRegistration();
        // stop() from this thread would not wake the loop: an eventfd does.
        wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        loop_.watch_fd(wake_, EPOLLIN, [this](std::uint32_t) { loop_.stop(); });
        thread_ = std::thread([this] { loop_.run(); });
    }
    ~Server() {
        std::uint64_t one = 1;
        if (::write(wake_, &one, sizeof one) != sizeof one) std::abort();
        thread_.join();
        control_.reset();
        api_.reset();
        ::close(wake_);
    }

    FakeModel model;

  private:
    std::unique_ptr<sdbus::IConnection> conn_;
    br::daemon::EventLoop loop_;
    std::unique_ptr<br::daemon::Api> api_;
    std::unique_ptr<sdbus::IObject> control_;
    int wake_ = -1;
    std::thread thread_;
};

}  // namespace br::test
