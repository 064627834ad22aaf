// SPDX-License-Identifier: MIT
// LEAdvertisement1: a connectable advertisement carrying our service UUID,
// registered with LEAdvertisingManager1.RegisterAdvertisement
// (asynchronously: bluetoothd reads our properties before it replies).
// The adapter's own Discoverable is never touched: with an application
// advertisement bluetoothd 5.66 aborts on `discoverable on`; the
// advertisement's Discoverable=true sets the LE General Discoverable flag.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <functional>
#include <memory>
#include <string>

#include "daemon/bluez/bluez.hpp"

namespace br::daemon::bluez {

class Advertisement {
  public:
    // `bluez_owner` gives org.bluez's current unique name ("" if none):
    // Release from anyone else is refused (org.bluez.Error.Rejected).
    Advertisement(sdbus::IConnection& conn, ProxyPool& pool, std::string adapter_path,
                  std::string adapter_name, std::function<std::string()> bluez_owner);
    void register_with_bluez();
    bool registered() const { return registered_; }
    void bluez_gone() { registered_ = false; }

  private:
    bool from_bluez() const;

    ProxyPool& pool_;
    std::string adapter_path_, adapter_name_, path_;
    std::function<std::string()> bluez_owner_;
    std::unique_ptr<sdbus::IObject> object_;
    bool registered_ = false;
    unsigned generation_ = 0;
};

}  // namespace br::daemon::bluez
