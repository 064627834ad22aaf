// SPDX-License-Identifier: MIT
// Which side of an LE connection we are.  BlueZ 5.66 does not say on D-Bus,
// and both daemons of a pair run a GATT server and a GATT client, so the
// protocol's rule "the BLE central is the initiator" needs the kernel's
// answer: HCIGETCONNLIST on a raw HCI socket (struct hci_conn_info: `out`,
// and HCI_LM_MASTER in link_mode).
#pragma once

#include <optional>
#include <string>

namespace br::daemon::bluez {

// true: we are the central of the LE connection to `address` on
// `adapter_name` ("hci0"); false: the peripheral; nullopt: no such
// connection or the kernel could not be asked.
std::optional<bool> is_le_central(const std::string& adapter_name, const std::string& address);

}  // namespace br::daemon::bluez
