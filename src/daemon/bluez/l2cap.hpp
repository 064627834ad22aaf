// SPDX-License-Identifier: MIT
// LE L2CAP credit-based channels (the transport of session channels,
// docs/PROTOCOL.md 8.3), straight on the kernel's sockets: AF_BLUETOOTH,
// SOCK_SEQPACKET, BTPROTO_L2CAP, LE address types.  The structures and
// constants are the kernel's ABI, written out here (as BlueZ's
// lib/bluetooth.h and l2cap.h have them) so the daemon needs no
// libbluetooth.  A PSM in the LE dynamic range 0x0080-0x00ff binds with no
// capability (a lower one needs CAP_NET_BIND_SERVICE), so the unit's empty
// capability set suffices; AF_BLUETOOTH is in its RestrictAddressFamilies.
//
// Every call is non-blocking and answers with the errno it failed with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/util/expected.hpp"

namespace br::daemon::bluez {

inline constexpr std::uint16_t kLePsmDynamicFirst = 0x0080;
inline constexpr std::uint16_t kLePsmDynamicLast = 0x00ff;

enum class LeAddressType : std::uint8_t { Public = 1, Random = 2 };

struct L2capPeer {
    std::string address;  // "AA:BB:CC:DD:EE:FF"
    LeAddressType type = LeAddressType::Public;
};

// A listening socket on `psm` for LE links of every adapter.
Expected<int, int> l2cap_listen(std::uint16_t psm);
// Accepts one channel from a listening socket: the new socket and who is
// at the other end (error 0: nothing to accept now).
struct Accepted {
    int fd;
    L2capPeer peer;
    std::string local_address;  // our adapter's
};
Expected<Accepted, int> l2cap_accept(int listen_fd);
// Starts a channel to `peer` on `psm` (the kernel makes the LE link if
// there is none).  The socket becomes writable when connect() finished;
// l2cap_connect_result() says how.
Expected<int, int> l2cap_connect(const L2capPeer& peer, std::uint16_t psm);
int l2cap_connect_result(int fd);  // 0 or the errno
// The most one send() may carry (BT_SNDMTU), capped at 16 KiB: larger SDUs
// stall in the kernel (measured on the testbed).
std::size_t l2cap_send_mtu(int fd);

}  // namespace br::daemon::bluez
