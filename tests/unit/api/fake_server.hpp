// The API over a FakeModel on its own event-loop thread, owning
// org.blueratchet on the given bus, plus a control object (/test,
// org.blueratchet.Test) through which tests make model events happen on the
// loop thread.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <memory>
#include <string>

#include "daemon/api/api.hpp"
#include "daemon/api/errors.hpp"
#include "fake_model.hpp"

namespace br::test {

class Server {
  public:
    explicit Server(const std::string& address) {
        conn_ = sdbus::createSessionBusConnectionWithAddress(address);
        conn_->requestName(br::daemon::errors::kBusName);
        api_ = std::make_unique<br::daemon::Api>(*conn_, model);
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
        control_->registerMethod("Rename").onInterface(iface).implementedAs(
            [this](const std::string& peer, const std::string& alias) {
                model.rename_peer(peer, alias);
            });
        control_->registerMethod("AddAdapter")
            .onInterface(iface)
            .implementedAs([this](const std::string& name) { model.add_adapter(name); });
        control_->registerMethod("SetThrow")
            .onInterface(iface)
            .implementedAs([this](const bool& on) { model.throw_everything = on; });
        control_->registerMethod("Decisions").onInterface(iface).implementedAs([this]() {
            return model.decisions;
        });
        control_->finishRegistration();
        conn_->enterEventLoopAsync();
    }
    ~Server() {
        conn_->leaveEventLoop();
        control_.reset();
        api_.reset();
    }

    FakeModel model;

  private:
    std::unique_ptr<sdbus::IConnection> conn_;
    std::unique_ptr<br::daemon::Api> api_;
    std::unique_ptr<sdbus::IObject> control_;
};

}  // namespace br::test
