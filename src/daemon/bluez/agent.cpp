// SPDX-License-Identifier: MIT
#include "daemon/bluez/agent.hpp"

#include "daemon/log.hpp"
#include "daemon/shown.hpp"

namespace br::daemon::bluez {

namespace {
const char* kRejected = "org.bluez.Error.Rejected";

[[noreturn]] void reject(const std::string& why) {
    throw sdbus::Error(kRejected, why);
}

// Sync handlers: anything but sdbus::Error becomes org.bluez.Error.Failed
// (sdbus-c++ terminates the process on any other exception).
template <typename F>
auto answer(const char* what, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const sdbus::Error&) {
        throw;
    } catch (const std::exception& e) {
        log::error("agent ", what, ": ", e.what());
        throw sdbus::Error("org.bluez.Error.Failed", e.what());
    } catch (...) {
        log::error("agent ", what, ": unknown exception");
        throw sdbus::Error("org.bluez.Error.Failed", "internal error");
    }
}
}  // namespace

Agent::Agent(sdbus::IConnection& conn, ProxyPool& pool, const Config& config, Hooks hooks)
    : conn_(conn), pool_(pool), config_(config), hooks_(std::move(hooks)) {
    object_ = sdbus::createObject(conn_, kAgentPath);
    auto& o = *object_;
    o.registerMethod("Release").onInterface(kAgent).implementedAs([this] {
        answer("Release", [&] {
            if (!from_bluez()) reject("not from org.bluez");
            log::info("agent released by bluetoothd");
            registered_ = false;
            if (hooks_.cancel) hooks_.cancel();
        });
    });
    o.registerMethod("RequestPinCode")
        .onInterface(kAgent)
        .withInputParamNames("device")
        .withOutputParamNames("pincode")
        .implementedAs([this](const sdbus::ObjectPath& device) -> std::string {
            return answer("RequestPinCode", [&]() -> std::string {
                if (!from_bluez()) reject("not from org.bluez");
                log::warning("agent RequestPinCode device=", cut(device),
                             ": legacy pairing refused");
                reject("blueratchet does not do PIN pairing");
            });
        });
    o.registerMethod("DisplayPinCode")
        .onInterface(kAgent)
        .withInputParamNames("device", "pincode")
        .implementedAs([this](const sdbus::ObjectPath& device, const std::string&) {
            answer("DisplayPinCode", [&] {
                if (!from_bluez()) reject("not from org.bluez");
                if (!config_.allow_legacy_pairing) {
                    log::warning("agent DisplayPinCode device=", cut(device),
                                 ": legacy pairing refused");
                    reject("legacy pairing is disabled");
                }
                log::info("agent DisplayPinCode device=", cut(device), " (legacy pairing allowed)");
            });
        });
    o.registerMethod("RequestPasskey")
        .onInterface(kAgent)
        .withInputParamNames("device")
        .withOutputParamNames("passkey")
        .implementedAs([this](const sdbus::ObjectPath& device) -> std::uint32_t {
            return answer("RequestPasskey", [&]() -> std::uint32_t {
                if (!from_bluez()) reject("not from org.bluez");
                log::warning("agent RequestPasskey device=", cut(device),
                             ": passkey entry refused (no keyboard; blueratchet confirms instead)");
                reject("passkey entry is not supported");
            });
        });
    o.registerMethod("DisplayPasskey")
        .onInterface(kAgent)
        .withInputParamNames("device", "passkey", "entered")
        .implementedAs([this](const sdbus::ObjectPath& device, std::uint32_t, std::uint16_t) {
            answer("DisplayPasskey", [&] {
                if (!from_bluez()) reject("not from org.bluez");
                log::info("agent DisplayPasskey device=", cut(device));
            });
        });
    o.registerMethod("RequestConfirmation")
        .onInterface(kAgent)
        .withInputParamNames("device", "passkey")
        .implementedAs(
            [this](sdbus::Result<>&& result, sdbus::ObjectPath device, std::uint32_t passkey) {
                defer(std::move(result), device, passkey, "RequestConfirmation");
            });
    o.registerMethod("RequestAuthorization")
        .onInterface(kAgent)
        .withInputParamNames("device")
        .implementedAs([this](sdbus::Result<>&& result, sdbus::ObjectPath device) {
            defer(std::move(result), device, std::nullopt, "RequestAuthorization");
        });
    o.registerMethod("AuthorizeService")
        .onInterface(kAgent)
        .withInputParamNames("device", "uuid")
        .implementedAs([](const sdbus::ObjectPath& device, const std::string& uuid) {
            answer("AuthorizeService", [&] {
                log::info("agent AuthorizeService device=", cut(device), " uuid=", cut(uuid),
                          ": rejected");
                reject("blueratchet authorizes no services");
            });
        });
    o.registerMethod("Cancel").onInterface(kAgent).implementedAs([this] {
        answer("Cancel", [&] {
            if (!from_bluez()) reject("not from org.bluez");
            log::info("agent Cancel: pending request dropped");
            if (hooks_.cancel) hooks_.cancel();
        });
    });
    o.finishRegistration();
}

bool Agent::from_bluez() const {
    const auto* msg = object_->getCurrentlyProcessedMessage();
    std::string owner = hooks_.bluez_owner ? hooks_.bluez_owner() : std::string();
    return msg && !owner.empty() && msg->getSender() == owner;
}

void Agent::defer(sdbus::Result<>&& result, const std::string& device,
                  std::optional<std::uint32_t> passkey, const char* what) {
    try {
        if (!from_bluez()) {
            log::warning("agent ", what, " from a caller that is not org.bluez: rejected");
            result.returnError(sdbus::Error(kRejected, "not from org.bluez"));
            return;
        }
        if (passkey)
            log::info("agent ", what, " device=", cut(device), " passkey=", *passkey);
        else
            log::info("agent ", what, " device=", cut(device));
        auto kept = std::make_shared<sdbus::Result<>>(std::move(result));
        auto answered = std::make_shared<bool>(false);
        std::string name = what;
        hooks_.confirm(device, passkey, [kept, answered, name, device](bool ok) {
            if (*answered) return;
            *answered = true;
            guarded("agent reply", [&] {
                if (ok) {
                    kept->returnResults();
                } else {
                    kept->returnError(
                        sdbus::Error(kRejected, "not confirmed by a blueratchet session"));
                }
            });
            log::info("agent ", name, " device=", cut(device), " answered ",
                      ok ? "confirmed" : "rejected");
        });
    } catch (...) {
        guarded("agent defer", [&] {
            result.returnError(sdbus::Error("org.bluez.Error.Failed", "internal error"));
        });
    }
}

void Agent::register_with_bluez() {
    unsigned gen = ++generation_;
    auto& am = pool_.get("/org/bluez");
    am.callMethodAsync("RegisterAgent")
        .onInterface(kAgentManager)
        .withArguments(sdbus::ObjectPath(kAgentPath), config_.io_capability)
        .uponReplyInvoke([this, gen](const sdbus::Error* err) {
            guarded("RegisterAgent reply", [&] {
                if (gen != generation_) return;
                if (err && err->getName() != "org.bluez.Error.AlreadyExists") {
                    log::error("RegisterAgent failed: ", err->getName(), ": ", err->getMessage());
                    return;
                }
                pool_.get("/org/bluez")
                    .callMethodAsync("RequestDefaultAgent")
                    .onInterface(kAgentManager)
                    .withArguments(sdbus::ObjectPath(kAgentPath))
                    .uponReplyInvoke([this, gen](const sdbus::Error* e2) {
                        guarded("RequestDefaultAgent reply", [&] {
                            if (gen != generation_) return;
                            if (e2) {
                                log::error("RequestDefaultAgent failed: ", e2->getName(), ": ",
                                           e2->getMessage());
                                return;
                            }
                            registered_ = true;
                            log::info("registered agent path=", kAgentPath,
                                      " capability=", config_.io_capability, " default=yes");
                        });
                    });
            });
        });
}

}  // namespace br::daemon::bluez
