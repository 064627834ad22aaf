// SPDX-License-Identifier: MIT
#include "daemon/bluez/advertisement.hpp"

#include "daemon/log.hpp"

namespace br::daemon::bluez {

Advertisement::Advertisement(sdbus::IConnection& conn, ProxyPool& pool, std::string adapter_path,
                             std::string adapter_name, std::function<std::string()> bluez_owner)
    : pool_(pool),
      adapter_path_(std::move(adapter_path)),
      adapter_name_(std::move(adapter_name)),
      path_(adv_path(adapter_name_)),
      bluez_owner_(std::move(bluez_owner)) {
    object_ = sdbus::createObject(conn, path_);
    object_->registerProperty("Type").onInterface(kAdvertisement).withGetter([] {
        return std::string("peripheral");
    });
    object_->registerProperty("ServiceUUIDs").onInterface(kAdvertisement).withGetter([] {
        return std::vector<std::string>{kServiceUuid};
    });
    object_->registerProperty("Discoverable").onInterface(kAdvertisement).withGetter([] {
        return true;
    });
    object_->registerMethod("Release").onInterface(kAdvertisement).implementedAs([this] {
        // Only bluetoothd may tell us it dropped the advertisement (issue
        // #10, item 9a); as for Agent1, anyone else is Rejected.
        bool ours = false;
        guarded("advertisement Release", [&] { ours = from_bluez(); });
        if (!ours) {
            guarded("advertisement Release", [&] {
                log::warning(
                    "advertisement Release from a caller that is not org.bluez: "
                    "rejected adapter=",
                    adapter_name_);
            });
            throw sdbus::Error("org.bluez.Error.Rejected", "not from org.bluez");
        }
        registered_ = false;
        guarded("advertisement Release",
                [&] { log::info("advertisement released by bluetoothd adapter=", adapter_name_); });
    });
    object_->finishRegistration();
}

bool Advertisement::from_bluez() const {
    const auto* msg = object_->getCurrentlyProcessedMessage();
    std::string owner = bluez_owner_ ? bluez_owner_() : std::string();
    return msg && !owner.empty() && msg->getSender() == owner;
}

void Advertisement::register_with_bluez() {
    unsigned gen = ++generation_;
    pool_.get(adapter_path_)
        .callMethodAsync("RegisterAdvertisement")
        .onInterface(kAdvManager)
        .withArguments(sdbus::ObjectPath(path_), Properties{})
        .uponReplyInvoke([this, gen](const sdbus::Error* err) {
            guarded("RegisterAdvertisement reply", [&] {
                if (gen != generation_) return;
                if (err && err->getName() != "org.bluez.Error.AlreadyExists") {
                    log::error("RegisterAdvertisement failed adapter=", adapter_name_, ": ",
                               err->getName(), ": ", err->getMessage());
                    return;
                }
                registered_ = true;
                log::info("registered advertisement adapter=", adapter_name_, " path=", path_,
                          " service=", kServiceUuid);
            });
        });
}

}  // namespace br::daemon::bluez
