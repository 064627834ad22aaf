// SPDX-License-Identifier: MIT
// When bluetoothd holds a device's GATT until the pairing we are asked to
// confirm ends: the decision alone, no bus and no timers, so that it can be
// tested on made-up facts.  The daemon asks held() grace() after a
// RequestConfirmation for which the manager had no link of ours yet.
//
// Why.  BlueZ's change "device: Elevate bt_att security if bonding is in
// progress" (March 2025, in 5.82 and later; not in Debian 12's 5.66) raises
// the ATT channel's security before the GATT client starts when
// Device1.Pair made the connection.  If SMP is already under way then,
// Linux holds the ATT channel both ways until the link is encrypted.  Our
// confirmation waits for a blueratchet session, which runs over GATT:
// neither comes.  The signs, on the central: the device is connected, the
// manager has no link of ours for it, and bluetoothd has neither set
// ServicesResolved nor exported one of our characteristics on this
// connection.  A peer without blueratchet does not look like that
// (bluetoothd resolves its services and the confirmation waits for its
// HandshakeTimeout as before); a discovery slower than grace() does, and
// then costs one reconnection, not the bond.  Only the central's GATT client is
// held in a way we can act on (the peripheral's link is ours at
// Connected=true), so the rule applies where we are the central: as the
// kernel says, or, when it cannot say, because we play no other role.
// docs/DAEMON.md "BlueZ versions".
#pragma once

#include <chrono>
#include <optional>

namespace br::daemon::bluez {

struct PairHoldFacts {
    bool connected = false;              // Device1.Connected now
    bool same_connection = false;        // the connection the confirmation came on
    bool waits_for_link = false;         // the manager holds the confirmation, no link yet
    bool client_active = false;          // our GATT client runs on the device
    bool services_seen = false;          // ServicesResolved or ours appeared on it
    std::optional<bool> we_are_central;  // bluez::is_le_central
    bool central_role_only = false;      // main.conf Role = central
};

struct PairHold {
    // Two fifths of HandshakeTimeout (8 s of the default 20): time for a
    // slow discovery, and the confirmation is still waiting (it is refused
    // at HandshakeTimeout).
    static std::chrono::milliseconds grace(unsigned handshake_timeout_seconds) {
        return std::chrono::milliseconds(400LL * handshake_timeout_seconds);
    }

    static bool held(const PairHoldFacts& f) {
        const bool central = f.we_are_central ? *f.we_are_central : f.central_role_only;
        return f.connected && f.same_connection && f.waits_for_link && !f.client_active &&
               !f.services_seen && central;
    }
};

}  // namespace br::daemon::bluez
