#include "daemon/bluez/advertisement.hpp"

#include "daemon/log.hpp"

namespace br::daemon::bluez {

Advertisement::Advertisement(sdbus::IConnection& conn, ProxyPool& pool, std::string adapter_path,
                             std::string adapter_name)
    : pool_(pool),
      adapter_path_(std::move(adapter_path)),
      adapter_name_(std::move(adapter_name)),
      path_(adv_path(adapter_name_)) {
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
        registered_ = false;
        log::info("advertisement released by bluetoothd adapter=", adapter_name_);
    });
    object_->finishRegistration();
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
