// SPDX-License-Identifier: MIT
// Session channels over LE L2CAP credit-based channels (l2cap.hpp): the
// ChannelHub's transport in the daemon.  The peer is addressed by the
// address BlueZ knows it by; the testbed's and most peripherals' are public
// (a random-address peer is not reached yet: its type is not passed down).
#pragma once

#include "daemon/bluez/l2cap.hpp"
#include "daemon/channel/channel_hub.hpp"

namespace br::daemon::bluez {

class L2capTransport final : public ChannelHub::Transport {
  public:
    explicit L2capTransport(std::uint16_t psm) : psm_(psm) {}
    std::uint16_t psm() const { return psm_; }

    Expected<int, int> listen() override { return l2cap_listen(psm_); }
    Expected<Incoming, int> accept(int listen_fd) override {
        auto a = l2cap_accept(listen_fd);
        if (!a) return unexpected(a.error());
        return Incoming{a->fd, a->local_address, a->peer.address};
    }
    Expected<int, int> connect(const ChannelHub::Session& s) override {
        return l2cap_connect(L2capPeer{s.peer_address, LeAddressType::Public}, s.peer_psm);
    }
    int connect_result(int fd) override { return l2cap_connect_result(fd); }
    std::size_t send_mtu(int fd) override { return l2cap_send_mtu(fd); }

  private:
    std::uint16_t psm_;
};

}  // namespace br::daemon::bluez
