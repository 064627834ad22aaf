// SPDX-License-Identifier: MIT
#include "daemon/bluez/l2cap.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace br::daemon::bluez {

namespace {

// The kernel's ABI (include/net/bluetooth/bluetooth.h, l2cap.h).
constexpr int kAfBluetooth = 31;
constexpr int kBtProtoL2cap = 0;
constexpr int kSolBluetooth = 274;
constexpr int kBtSecurity = 4;
constexpr int kBtSndMtu = 12;
constexpr int kBtRcvMtu = 13;
constexpr std::uint8_t kBtSecurityLow = 1;

struct BdAddr {
    std::uint8_t b[6];  // least significant byte first
};
struct SockaddrL2 {
    sa_family_t l2_family;
    std::uint16_t l2_psm;  // little-endian
    BdAddr l2_bdaddr;
    std::uint16_t l2_cid;
    std::uint8_t l2_bdaddr_type;
};
struct BtSecurity {
    std::uint8_t level;
    std::uint8_t key_size;
};

std::uint16_t le16(std::uint16_t v) {
    const std::uint8_t b[2] = {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8)};
    std::uint16_t out;
    std::memcpy(&out, b, 2);
    return out;
}

std::optional<BdAddr> parse_address(const std::string& s) {
    unsigned v[6];
    if (s.size() != 17 || std::sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x", &v[5], &v[4], &v[3],
                                      &v[2], &v[1], &v[0]) != 6)
        return std::nullopt;
    BdAddr a{};
    for (int i = 0; i < 6; ++i) a.b[i] = static_cast<std::uint8_t>(v[i]);
    return a;
}

std::string format_address(const BdAddr& a) {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02X:%02X:%02X:%02X:%02X:%02X", a.b[5], a.b[4], a.b[3], a.b[2],
                  a.b[1], a.b[0]);
    return buf;
}

Expected<int, int> le_socket() {
    int fd = ::socket(kAfBluetooth, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, kBtProtoL2cap);
    if (fd < 0) return unexpected(errno);
    // The session's TLS is the channel's security; the link needs none of
    // its own (no SMP pairing just for a channel).
    BtSecurity sec{kBtSecurityLow, 0};
    ::setsockopt(fd, kSolBluetooth, kBtSecurity, &sec, sizeof sec);
    return fd;
}

// Large SDUs in: fewer, bigger credits (the default MTU is 672, one SDU in
// flight).  The kernel takes it only once the socket is bound.
void large_sdus_in(int fd) {
    std::uint16_t mtu = 65535;
    ::setsockopt(fd, kSolBluetooth, kBtRcvMtu, &mtu, sizeof mtu);
}

Expected<int, int> bind_le(int fd, std::uint16_t psm, LeAddressType type) {
    SockaddrL2 a{};
    a.l2_family = kAfBluetooth;
    a.l2_psm = le16(psm);
    a.l2_bdaddr_type = static_cast<std::uint8_t>(type);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        int e = errno;
        ::close(fd);
        return unexpected(e);
    }
    return fd;
}

}  // namespace

Expected<int, int> l2cap_listen(std::uint16_t psm) {
    auto fd = le_socket();
    if (!fd) return fd;
    auto bound = bind_le(*fd, psm, LeAddressType::Public);
    if (!bound) return bound;
    large_sdus_in(*fd);
    if (::listen(*fd, 8) != 0) {
        int e = errno;
        ::close(*fd);
        return unexpected(e);
    }
    return fd;
}

Expected<Accepted, int> l2cap_accept(int listen_fd) {
    SockaddrL2 peer{};
    socklen_t len = sizeof peer;
    int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer), &len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return unexpected(errno == EAGAIN || errno == EWOULDBLOCK ? 0 : errno);
    Accepted out{fd,
                 {format_address(peer.l2_bdaddr),
                  peer.l2_bdaddr_type == 2 ? LeAddressType::Random : LeAddressType::Public},
                 {}};
    SockaddrL2 local{};
    len = sizeof local;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0)
        out.local_address = format_address(local.l2_bdaddr);
    return out;
}

Expected<int, int> l2cap_connect(const L2capPeer& peer, std::uint16_t psm) {
    auto address = parse_address(peer.address);
    if (!address) return unexpected(EINVAL);
    auto fd = le_socket();
    if (!fd) return fd;
    // PSM 0: any local one, which lets the options above apply before connect.
    auto bound = bind_le(*fd, 0, LeAddressType::Public);
    if (!bound) return bound;
    large_sdus_in(*fd);
    SockaddrL2 a{};
    a.l2_family = kAfBluetooth;
    a.l2_psm = le16(psm);
    a.l2_bdaddr = *address;
    a.l2_bdaddr_type = static_cast<std::uint8_t>(peer.type);
    if (::connect(*fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
        int e = errno;
        ::close(*fd);
        return unexpected(e);
    }
    return fd;
}

int l2cap_connect_result(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
    return err;
}

std::size_t l2cap_send_mtu(int fd) {
    std::uint16_t mtu = 0;
    socklen_t len = sizeof mtu;
    if (::getsockopt(fd, kSolBluetooth, kBtSndMtu, &mtu, &len) != 0 || mtu == 0) return 23;
    return std::min<std::size_t>(mtu, 16384);
}

}  // namespace br::daemon::bluez
