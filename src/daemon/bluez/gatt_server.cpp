// SPDX-License-Identifier: MIT
#include "daemon/bluez/gatt_server.hpp"

#include "daemon/log.hpp"

namespace br::daemon::bluez {

namespace {
const char* kNotPermitted = "org.bluez.Error.NotPermitted";
}

GattServer::GattServer(sdbus::IConnection& conn, ProxyPool& pool, std::string adapter_path,
                       std::string adapter_name, WriteHook on_write,
                       std::function<std::string()> bluez_owner,
                       std::function<bool(const std::string& device)> disconnected,
                       std::uint16_t channel_psm,
                       std::function<void(const std::string& device, std::uint16_t psm)> on_psm)
    : conn_(conn),
      pool_(pool),
      adapter_path_(std::move(adapter_path)),
      adapter_name_(std::move(adapter_name)),
      on_write_(std::move(on_write)),
      bluez_owner_(std::move(bluez_owner)),
      disconnected_(std::move(disconnected)),
      channel_psm_(channel_psm),
      on_psm_(std::move(on_psm)) {
    root_ = app_path(adapter_name_);
    service_ = root_ + "/service0";
    rx_ = service_ + "/rx";
    tx_.path = service_ + "/tx";
    slot_ = service_ + "/slot";

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

    add_notify_chrc(tx_, kTxUuid, "tx");

    slot_obj_ = sdbus::createObject(conn_, slot_);
    slot_obj_->registerProperty("UUID").onInterface(kGattChrc).withGetter(
        [] { return std::string(kSlotUuid); });
    slot_obj_->registerProperty("Service").onInterface(kGattChrc).withGetter(
        [this] { return sdbus::ObjectPath(service_); });
    slot_obj_->registerProperty("Flags").onInterface(kGattChrc).withGetter(
        [] { return std::vector<std::string>{"read"}; });
    slot_obj_->registerMethod("ReadValue")
        .onInterface(kGattChrc)
        .withInputParamNames("options")
        .withOutputParamNames("value")
        .implementedAs([this](const Properties& options) -> std::vector<std::uint8_t> {
            // A slot decides where a central's fragments go: only
            // bluetoothd, which names the reading device, may hand one out.
            if (!from_bluez(*slot_obj_)) {
                log::warning("gatt slot read from a caller that is not org.bluez: refused");
                throw sdbus::Error(kNotPermitted, "not from org.bluez");
            }
            try {
                return read_slot(options);
            } catch (const sdbus::Error&) {
                throw;
            } catch (const std::exception& e) {
                log::error("gatt slot read: ", e.what());
            } catch (...) {
                log::error("gatt slot read: unknown exception");
            }
            throw sdbus::Error("org.bluez.Error.Failed", "slot read failed");
        });
    slot_obj_->finishRegistration();

    if (channel_psm_) add_psm_chrc();

    tx_slots_.resize(kTxSlots);
    for (std::size_t k = 0; k < kTxSlots; ++k) {
        tx_slots_[k].path = service_ + "/tx" + std::to_string(k);
        add_notify_chrc(tx_slots_[k], tx_slot_uuid(k), "tx." + std::to_string(k));
    }
}

void GattServer::add_psm_chrc() {
    psm_ = service_ + "/psm";
    psm_obj_ = sdbus::createObject(conn_, psm_);
    psm_obj_->registerProperty("UUID").onInterface(kGattChrc).withGetter(
        [] { return std::string(kPsmUuid); });
    psm_obj_->registerProperty("Service").onInterface(kGattChrc).withGetter(
        [this] { return sdbus::ObjectPath(service_); });
    psm_obj_->registerProperty("Flags").onInterface(kGattChrc).withGetter([] {
        return std::vector<std::string>{"read", "write"};
    });
    psm_obj_->registerMethod("ReadValue")
        .onInterface(kGattChrc)
        .withInputParamNames("options")
        .withOutputParamNames("value")
        .implementedAs([this](const Properties& options) -> std::vector<std::uint8_t> {
            std::vector<std::uint8_t> value{0x01, static_cast<std::uint8_t>(channel_psm_),
                                            static_cast<std::uint8_t>(channel_psm_ >> 8)};
            auto offset = prop<std::uint16_t>(options, "offset").value_or(0);
            if (offset > value.size())
                throw sdbus::Error("org.bluez.Error.InvalidOffset", "offset");
            value.erase(value.begin(), value.begin() + offset);
            return value;
        });
    psm_obj_->registerMethod("WriteValue")
        .onInterface(kGattChrc)
        .withInputParamNames("value", "options")
        .implementedAs([this](const std::vector<std::uint8_t>& value, const Properties& options) {
            // Only bluetoothd names the central that wrote.
            if (!from_bluez(*psm_obj_)) throw sdbus::Error(kNotPermitted, "not from org.bluez");
            auto device = prop<sdbus::ObjectPath>(options, "device");
            const std::uint16_t psm =
                value.size() == 3 ? static_cast<std::uint16_t>(value[1] | value[2] << 8) : 0;
            if (!device || value.size() != 3 || value[0] != 0x01 || psm < 0x80 || psm > 0xff)
                throw sdbus::Error("org.bluez.Error.InvalidValueLength",
                                   "expected 0x01 and an LE dynamic PSM");
            guarded("psm WriteValue", [&] {
                if (on_psm_) on_psm_(*device, psm);
            });
        });
    psm_obj_->finishRegistration();
}

void GattServer::add_notify_chrc(NotifyChrc& c, std::string uuid, std::string name) {
    auto& obj = c.obj = sdbus::createObject(conn_, c.path);
    obj->registerProperty("UUID").onInterface(kGattChrc).withGetter([uuid] { return uuid; });
    obj->registerProperty("Service").onInterface(kGattChrc).withGetter(
        [this] { return sdbus::ObjectPath(service_); });
    obj->registerProperty("Flags").onInterface(kGattChrc).withGetter(
        [] { return std::vector<std::string>{"notify"}; });
    obj->registerProperty("Notifying").onInterface(kGattChrc).withGetter([&c] {
        return c.notifying;
    });
    obj->registerMethod("ReadValue")
        .onInterface(kGattChrc)
        .withInputParamNames("options")
        .withOutputParamNames("value")
        .implementedAs([name](const Properties&) -> std::vector<std::uint8_t> {
            throw sdbus::Error(kNotPermitted, name + " only notifies");
        });
    // bluetoothd calls these for CCC writes of any central (they name none):
    // Notifying is only what the property says, notify() does not depend on it.
    obj->registerMethod("StartNotify").onInterface(kGattChrc).implementedAs([this, &c, name] {
        if (!from_bluez(*c.obj)) throw sdbus::Error(kNotPermitted, "not from org.bluez");
        c.notifying = true;
        log::debug("gatt ", name, " notifications on adapter=", adapter_name_);
    });
    obj->registerMethod("StopNotify").onInterface(kGattChrc).implementedAs([this, &c, name] {
        if (!from_bluez(*c.obj)) throw sdbus::Error(kNotPermitted, "not from org.bluez");
        c.notifying = false;
        log::debug("gatt ", name, " notifications off adapter=", adapter_name_);
    });
    obj->finishRegistration();
}

std::vector<std::uint8_t> GattServer::read_slot(const Properties& options) {
    auto device = prop<sdbus::ObjectPath>(options, "device");
    if (!device || adapter_of(*device) != adapter_path_) {
        log::warning("gatt slot read without a device of adapter=", adapter_name_, ": refused");
        throw sdbus::Error(kNotPermitted, "no device");
    }
    if (disconnected_ && disconnected_(*device)) {
        log::info("gatt slot read from device=", address_from_device_path(*device),
                  " after it disconnected: refused");
        throw sdbus::Error(kNotPermitted, "device not connected");
    }
    const bool had = slots_.slot_of(*device).has_value();
    auto k = slots_.assign(*device);
    if (!had) {
        if (k)
            log::info("gatt slot adapter=", adapter_name_,
                      " device=", address_from_device_path(*device), " slot=", *k);
        else
            slot_pool_full(address_from_device_path(*device));
    }
    std::vector<std::uint8_t> value{kSlotFormat, k ? static_cast<std::uint8_t>(*k) : kNoSlot};
    // A Read Blob (offset > 0) never happens for 2 bytes, but answer it right.
    auto offset = prop<std::uint16_t>(options, "offset").value_or(0);
    if (offset > value.size()) throw sdbus::Error("org.bluez.Error.InvalidOffset", "offset");
    value.erase(value.begin(), value.begin() + offset);
    return value;
}

// A warning once a minute at most (a gateway with hundreds of centrals
// would otherwise log one per connection: 6,800 lines in the bus tier's load
// case), the rest at debug level, counted in the next warning.
void GattServer::slot_pool_full(const std::string& address) {
    auto now = std::chrono::steady_clock::now();
    if (full_warned_ && now - *full_warned_ < std::chrono::minutes(1)) {
        ++full_unwarned_;
        log::debug("gatt slot adapter=", adapter_name_, " device=", address, " slot=none");
        return;
    }
    log::warning("gatt slot adapter=", adapter_name_, " device=", address, " slot=none: all ",
                 kTxSlots, " taken, it shares tx (one handshaking central at a time)",
                 full_unwarned_
                     ? "; " + std::to_string(full_unwarned_) + " more since the last warning"
                     : std::string());
    full_warned_ = now;
    full_unwarned_ = 0;
}

bool GattServer::from_bluez(sdbus::IObject& obj) const {
    const auto* msg = obj.getCurrentlyProcessedMessage();
    std::string owner = bluez_owner_ ? bluez_owner_() : std::string();
    return msg && !owner.empty() && msg->getSender() == owner;
}

bool GattServer::notify(const std::string& device, ByteView fragment) {
    auto k = slots_.slot_of(device);
    NotifyChrc& c = k ? tx_slots_[*k] : tx_;
    bool ok = false;
    guarded("notify", [&] {
        auto sig = c.obj->createSignal(kProperties, "PropertiesChanged");
        Properties changed;
        changed["Value"] =
            sdbus::Variant(std::vector<std::uint8_t>(fragment.begin(), fragment.end()));
        sig << std::string(kGattChrc) << changed << std::vector<std::string>{};
        c.obj->emitSignal(sig);
        ok = true;
    });
    return ok;
}

void GattServer::release(const std::string& device) {
    if (auto k = slots_.slot_of(device)) {
        log::debug("gatt slot ", *k, " free adapter=", adapter_name_,
                   " device=", address_from_device_path(device));
        slots_.release(device);
    }
}

void GattServer::bluez_gone() {
    registered_ = false;
    slots_.release_all();
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
