// SPDX-License-Identifier: MIT
#include "daemon/bluez/hci_role.hpp"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace br::daemon::bluez {

namespace {
// The kernel ABI of <bluetooth/hci.h> (libbluetooth-dev is not needed for five
// definitions).
constexpr int kAfBluetooth = 31;
constexpr int kBtprotoHci = 1;
constexpr unsigned long kHciGetConnList = _IOR('H', 212, int);
constexpr std::uint32_t kHciLmMaster = 0x0001;
constexpr std::uint8_t kLeLink = 0x80;

struct BdAddr {
    std::uint8_t b[6];
} __attribute__((packed));

struct HciConnInfo {
    std::uint16_t handle;
    BdAddr bdaddr;
    std::uint8_t type;
    std::uint8_t out;
    std::uint16_t state;
    std::uint32_t link_mode;
};

struct HciConnListReq {
    std::uint16_t dev_id;
    std::uint16_t conn_num;
    HciConnInfo conn_info[0];
};

bool parse_address(const std::string& text, BdAddr& out) {
    unsigned v[6];
    if (std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x", &v[5], &v[4], &v[3], &v[2], &v[1],
                    &v[0]) != 6)
        return false;
    for (int i = 0; i < 6; ++i) out.b[i] = static_cast<std::uint8_t>(v[i]);
    return true;
}
}  // namespace

std::optional<bool> is_le_central(const std::string& adapter_name, const std::string& address) {
    if (adapter_name.rfind("hci", 0) != 0) return std::nullopt;
    char* end = nullptr;
    long dev = std::strtol(adapter_name.c_str() + 3, &end, 10);
    if (!end || *end || dev < 0 || dev > 0xffff) return std::nullopt;
    BdAddr want{};
    if (!parse_address(address, want)) return std::nullopt;

    int fd = ::socket(kAfBluetooth, SOCK_RAW | SOCK_CLOEXEC, kBtprotoHci);
    if (fd < 0) return std::nullopt;
    constexpr int kMax = 16;
    std::vector<std::uint8_t> buf(sizeof(HciConnListReq) + kMax * sizeof(HciConnInfo));
    auto* req = reinterpret_cast<HciConnListReq*>(buf.data());
    req->dev_id = static_cast<std::uint16_t>(dev);
    req->conn_num = kMax;
    int r = ::ioctl(fd, kHciGetConnList, req);
    ::close(fd);
    if (r < 0) return std::nullopt;
    for (int i = 0; i < req->conn_num && i < kMax; ++i) {
        const HciConnInfo& ci = req->conn_info[i];
        if (ci.type != kLeLink) continue;
        bool same = true;
        for (int k = 0; k < 6; ++k) same = same && ci.bdaddr.b[k] == want.b[k];
        if (!same) continue;
        return (ci.link_mode & kHciLmMaster) != 0 || ci.out != 0;
    }
    return std::nullopt;
}

}  // namespace br::daemon::bluez
