// SPDX-License-Identifier: MIT
// org.bluez.Agent1: blueratchet as BlueZ's default pairing agent.
//
//  RequestPinCode / RequestPasskey / DisplayPinCode  Rejected unless AllowLegacyPairing
//  DisplayPasskey                                    logged
//  RequestConfirmation                               deferred (Method.Async): answered once
//                                                    the session on this connection carried
//                                                    the same passkey from the peer (BOND),
//                                                    Rejected on a mismatch, a failure or a
//                                                    timeout
//  RequestAuthorization                              Rejected (Just Works: no passkey to bind)
//  AuthorizeService                                  Rejected (GATT never asks)
//  Cancel, Release                                   drop the pending request
// Only calls from org.bluez's current owner are answered; others get Rejected.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "daemon/bluez/bluez.hpp"
#include "daemon/config.hpp"

namespace br::daemon::bluez {

class Agent {
  public:
    struct Hooks {
        // Calls reply(true/false) exactly once, possibly much later.  The
        // passkey is RequestConfirmation's (nullopt: RequestAuthorization).
        std::function<void(const std::string& device, std::optional<std::uint32_t> passkey,
                           std::function<void(bool)> reply)>
            confirm;
        std::function<void()> cancel;
        std::function<std::string()> bluez_owner;  // unique name, "" if none
    };
    Agent(sdbus::IConnection& conn, ProxyPool& pool, const Config& config, Hooks hooks);

    // RegisterAgent + RequestDefaultAgent, asynchronously.
    void register_with_bluez();
    bool registered() const { return registered_; }
    void bluez_gone() { registered_ = false; }

  private:
    bool from_bluez() const;
    void defer(sdbus::Result<>&& result, const std::string& device,
               std::optional<std::uint32_t> passkey, const char* what);

    sdbus::IConnection& conn_;
    ProxyPool& pool_;
    Config config_;
    Hooks hooks_;
    std::unique_ptr<sdbus::IObject> object_;
    bool registered_ = false;
    unsigned generation_ = 0;
};

}  // namespace br::daemon::bluez
