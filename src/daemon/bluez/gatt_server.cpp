#include "daemon/bluez/gatt_server.hpp"

#include "daemon/log.hpp"

namespace br::daemon::bluez {

namespace {
const char* kNotPermitted = "org.bluez.Error.NotPermitted";
}

GattServer::GattServer(sdbus::IConnection& conn, ProxyPool& pool, std::string adapter_path,
                       std::string adapter_name, WriteHook on_write,
                       std::function<std::string()> bluez_owner)
    : conn_(conn),
      pool_(pool),
      adapter_path_(std::move(adapter_path)),
      adapter_name_(std::move(adapter_name)),
      on_write_(std::move(on_write)),
      bluez_owner_(std::move(bluez_owner)) {
    root_ = app_path(adapter_name_);
    service_ = root_ + "/service0";
    rx_ = service_ + "/rx";
    tx_ = service_ + "/tx";

    app_ = sdbus::createObject(conn_, root_);
    app_->addObjectManager();
    app_->finishRegistration();

    service_obj_ = sdbus::createObject(conn_, service_);
    service_obj_->registerProperty("UUID").onInterface(kGattService).withGetter([] {
        return std::string(kServiceUuid);
    });
    service_obj_->registerProperty("Primary").onInterface(kGattService).withGetter([] {
        return true;
    });
    service_obj_->finishRegistration();

    rx_obj_ = sdbus::createObject(conn_, rx_);
    rx_obj_->registerProperty("UUID").onInterface(kGattChrc).withGetter(
        [] { return std::string(kRxUuid); });
    rx_obj_->registerProperty("Service").onInterface(kGattChrc).withGetter(
        [this] { return sdbus::ObjectPath(service_); });
    rx_obj_->registerProperty("Flags").onInterface(kGattChrc).withGetter([] {
        return std::vector<std::string>{"write-without-response", "write"};
    });
    rx_obj_->registerMethod("ReadValue")
        .onInterface(kGattChrc)
        .withInputParamNames("options")
        .withOutputParamNames("value")
        .implementedAs([](const Properties&) -> std::vector<std::uint8_t> {
            throw sdbus::Error(kNotPermitted, "rx is write-only");
        });
    rx_obj_->registerMethod("WriteValue")
        .onInterface(kGattChrc)
        .withInputParamNames("value", "options")
        .implementedAs([this](const std::vector<std::uint8_t>& value, const Properties& options) {
            // Only bluetoothd carries a central's writes: anyone else could
            // mint the session the agent gate waits for.
            if (!from_bluez(*rx_obj_)) {
                log::warning("gatt rx write from a caller that is not org.bluez: refused");
                throw sdbus::Error(kNotPermitted, "not from org.bluez");
            }
            // Errors are the peer's problem, never an exception into sd-bus.
            guarded("WriteValue", [&] {
                auto device = prop<sdbus::ObjectPath>(options, "device");
                auto mtu = prop<std::uint16_t>(options, "mtu");
                if (!device) {
                    log::warning("gatt rx write without a device option: ignored");
                    return;
                }
                std::size_t m = mtu ? *mtu : 23;
                on_write_(*device, ByteView(value.data(), value.size()), m);
            });
        });
    rx_obj_->finishRegistration();

    tx_obj_ = sdbus::createObject(conn_, tx_);
    tx_obj_->registerProperty("UUID").onInterface(kGattChrc).withGetter(
        [] { return std::string(kTxUuid); });
    tx_obj_->registerProperty("Service").onInterface(kGattChrc).withGetter(
        [this] { return sdbus::ObjectPath(service_); });
    tx_obj_->registerProperty("Flags").onInterface(kGattChrc).withGetter(
        [] { return std::vector<std::string>{"notify"}; });
    tx_obj_->registerProperty("Notifying").onInterface(kGattChrc).withGetter([this] {
        return notifying_;
    });
    tx_obj_->registerMethod("ReadValue")
        .onInterface(kGattChrc)
        .withInputParamNames("options")
        .withOutputParamNames("value")
        .implementedAs([](const Properties&) -> std::vector<std::uint8_t> {
            throw sdbus::Error(kNotPermitted, "tx only notifies");
        });
    tx_obj_->registerMethod("StartNotify").onInterface(kGattChrc).implementedAs([this] {
        if (!from_bluez(*tx_obj_)) throw sdbus::Error(kNotPermitted, "not from org.bluez");
        notifying_ = true;
        log::debug("gatt tx notifications on adapter=", adapter_name_);
    });
    tx_obj_->registerMethod("StopNotify").onInterface(kGattChrc).implementedAs([this] {
        if (!from_bluez(*tx_obj_)) throw sdbus::Error(kNotPermitted, "not from org.bluez");
        notifying_ = false;
        log::debug("gatt tx notifications off adapter=", adapter_name_);
    });
    tx_obj_->finishRegistration();
}

bool GattServer::from_bluez(sdbus::IObject& obj) const {
    const auto* msg = obj.getCurrentlyProcessedMessage();
    std::string owner = bluez_owner_ ? bluez_owner_() : std::string();
    return msg && !owner.empty() && msg->getSender() == owner;
}

bool GattServer::notify(ByteView fragment) {
    bool ok = false;
    guarded("notify", [&] {
        auto sig = tx_obj_->createSignal(kProperties, "PropertiesChanged");
        Properties changed;
        changed["Value"] =
            sdbus::Variant(std::vector<std::uint8_t>(fragment.begin(), fragment.end()));
        sig << std::string(kGattChrc) << changed << std::vector<std::string>{};
        tx_obj_->emitSignal(sig);
        ok = true;
    });
    return ok;
}

void GattServer::register_with_bluez() {
    unsigned gen = ++generation_;
    pool_.get(adapter_path_)
        .callMethodAsync("RegisterApplication")
        .onInterface(kGattManager)
        .withArguments(sdbus::ObjectPath(root_), Properties{})
        .uponReplyInvoke([this, gen](const sdbus::Error* err) {
            guarded("RegisterApplication reply", [&] {
                if (gen != generation_) return;
                if (err && err->getName() != "org.bluez.Error.AlreadyExists") {
                    log::error("RegisterApplication failed adapter=", adapter_name_, ": ",
                               err->getName(), ": ", err->getMessage());
                    return;
                }
                registered_ = true;
                log::info("registered gatt application adapter=", adapter_name_, " path=", root_,
                          " service=", kServiceUuid);
            });
        });
}

}  // namespace br::daemon::bluez
