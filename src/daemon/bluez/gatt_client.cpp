// SPDX-License-Identifier: MIT
#include "daemon/bluez/gatt_client.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "daemon/log.hpp"

namespace br::daemon::bluez {

GattClient::GattClient(ProxyPool& pool, EventLoop& loop, Hooks hooks)
    : pool_(pool), loop_(loop), hooks_(std::move(hooks)) {}

GattClient::~GattClient() {
    stop_all();
}

GattClient::Link* GattClient::find(const std::string& device, unsigned gen) {
    auto it = links_.find(device);
    if (it == links_.end() || it->second.gen != gen) return nullptr;
    return &it->second;
}

void GattClient::close_fds(Link& l) {
    if (l.notify_fd >= 0) {
        loop_.unwatch_fd(l.notify_fd);
        ::close(l.notify_fd);
        l.notify_fd = -1;
    }
    if (l.write_fd >= 0) {
        ::close(l.write_fd);
        l.write_fd = -1;
    }
}

void GattClient::stop(const std::string& device) {
    auto it = links_.find(device);
    if (it == links_.end()) return;
    close_fds(it->second);
    if (it->second.start_notify_sent) {
        const std::string path = it->second.notify;
        pool_.get(path)
            .callMethodAsync("StopNotify")
            .onInterface(kGattChrc)
            .uponReplyInvoke([path](const sdbus::Error* err) {
                if (err)
                    log::debug("gatt client: StopNotify on ", path, ": ", err->getName(), ": ",
                               err->getMessage());
            });
    }
    links_.erase(it);
}

void GattClient::stop_all() {
    for (auto& [d, l] : links_) close_fds(l);
    links_.clear();
}

void GattClient::start(const std::string& device, const PeerChrcs& chrcs) {
    if (links_.count(device)) return;
    unsigned gen = next_gen_++;
    Link l;
    l.device = device;
    l.rx = chrcs.rx;
    l.chrcs = chrcs;
    l.notify = chrcs.tx;
    l.gen = gen;
    links_[device] = l;
    if (chrcs.slot.empty())
        subscribe(device, gen);  // a peripheral without slots: the shared tx
    else
        read_slot(device, gen);
}

void GattClient::read_slot(const std::string& device, unsigned gen) {
    Link* l = find(device, gen);
    if (!l) return;
    pool_.get(l->chrcs.slot)
        .callMethodAsync("ReadValue")
        .onInterface(kGattChrc)
        .withArguments(Properties{})
        .uponReplyInvoke([this, device, gen](const sdbus::Error* err,
                                             std::vector<std::uint8_t> value) {
            guarded("slot ReadValue reply", [&] {
                Link* l2 = find(device, gen);
                if (!l2) return;
                if (err) {
                    // The peripheral handed out no slot: it notifies us on tx.
                    log::info("gatt client: slot read failed (", err->getName(),
                              "): using the shared tx");
                } else if (value.size() >= 2 && value[0] == kSlotFormat && value[1] != kNoSlot) {
                    auto it = l2->chrcs.tx_slots.find(value[1]);
                    if (it == l2->chrcs.tx_slots.end()) {
                        // The slot is ours now: the peripheral will not notify
                        // us on tx, and we cannot listen where it does.
                        log::warning("gatt client: the peripheral gave slot ", int(value[1]),
                                     " but has no such tx.k");
                        std::string d = device;
                        stop(d);
                        if (hooks_.lost) hooks_.lost(d, "no tx.k for our slot");
                        return;
                    }
                    l2->slot = it->first;
                    l2->notify = it->second;
                } else {
                    log::info("gatt client: the peripheral has no slot for us (",
                              value.size() >= 2 ? int(value[1]) : -1, "): using the shared tx");
                }
                subscribe(device, gen);
            });
        });
}

void GattClient::subscribe(const std::string& device, unsigned gen) {
    Link* l = find(device, gen);
    if (!l) return;
    log::debug("gatt client: subscribing to ", l->notify);
    pool_.get(l->notify)
        .callMethodAsync("AcquireNotify")
        .onInterface(kGattChrc)
        .withArguments(Properties{})
        .uponReplyInvoke([this, device, gen](const sdbus::Error* err, sdbus::UnixFd fd,
                                             std::uint16_t mtu) {
            guarded("AcquireNotify reply", [&] {
                Link* l = find(device, gen);
                if (!l) return;  // the link went away meanwhile (fd closes with UnixFd)
                if (!err) {
                    l->notify_fd = fd.release();
                    l->mtu = mtu;
                    loop_.watch_fd(l->notify_fd, EPOLLIN, [this, device, gen](std::uint32_t ev) {
                        on_notify_fd(device, gen, ev);
                    });
                    log::debug("gatt client: AcquireNotify fd, mtu ", mtu);
                    acquire_write(device, gen);
                    return;
                }
                log::info("gatt client: AcquireNotify refused (", err->getName(),
                          "): falling back to StartNotify");
                l->start_notify_sent = true;
                pool_.get(l->notify)
                    .callMethodAsync("StartNotify")
                    .onInterface(kGattChrc)
                    .uponReplyInvoke([this, device, gen](const sdbus::Error* e2) {
                        guarded("StartNotify reply", [&] {
                            Link* l2 = find(device, gen);
                            if (!l2) return;
                            if (e2) {
                                log::warning("gatt client: StartNotify failed on ", l2->notify,
                                             ": ", e2->getName(), ": ", e2->getMessage());
                                l2->start_notify_sent = false;
                                std::string d = device;
                                stop(d);
                                if (hooks_.lost) hooks_.lost(d, "cannot subscribe to tx");
                                return;
                            }
                            l2->notify_via_signal = true;
                            acquire_write(device, gen);
                        });
                    });
            });
        });
}

void GattClient::acquire_write(const std::string& device, unsigned gen) {
    Link* l = find(device, gen);
    if (!l) return;
    pool_.get(l->rx)
        .callMethodAsync("AcquireWrite")
        .onInterface(kGattChrc)
        .withArguments(Properties{})
        .uponReplyInvoke(
            [this, device, gen](const sdbus::Error* err, sdbus::UnixFd fd, std::uint16_t mtu) {
                guarded("AcquireWrite reply", [&] {
                    Link* l2 = find(device, gen);
                    if (!l2) return;
                    if (!err) {
                        l2->write_fd = fd.release();
                        l2->mtu = l2->notify_via_signal ? mtu : std::min<std::size_t>(l2->mtu, mtu);
                        log::debug("gatt client: AcquireWrite fd, mtu ", mtu);
                    } else {
                        log::info("gatt client: AcquireWrite refused (", err->getName(),
                                  "): falling back to WriteValue");
                        if (l2->notify_via_signal) l2->mtu = 23;
                    }
                    up(device, gen);
                });
            });
}

void GattClient::up(const std::string& device, unsigned gen) {
    Link* l = find(device, gen);
    if (!l) return;
    if (l->mtu < 23) l->mtu = 23;
    if (l->mtu > 517) l->mtu = 517;
    LinkIo io;
    io.att_mtu = l->mtu;
    io.send = [this, device, gen](ByteView f) { return send(device, gen, f); };
    log::info("gatt client ready device=", address_from_device_path(device), " mtu=", l->mtu,
              " notify=", l->notify_via_signal ? "signal" : "socket",
              " write=", l->write_fd >= 0 ? "socket" : "WriteValue",
              " slot=", l->slot ? std::to_string(*l->slot) : std::string("shared"));
    const bool taken = hooks_.ready && hooks_.ready(device, io);
    l = find(device, gen);
    if (!l) return;
    if (!taken) {
        // Declined: release BlueZ's sockets but remember this connection.
        close_fds(*l);
        return;
    }
    l->handed = true;
    exchange_psm(device, gen);
}

void GattClient::exchange_psm(const std::string& device, unsigned gen) {
    Link* l = find(device, gen);
    if (!l || l->chrcs.psm.empty()) return;  // a peripheral without session channels
    Properties none;
    pool_.get(l->chrcs.psm)
        .callMethodAsync("ReadValue")
        .onInterface(kGattChrc)
        .withArguments(none)
        .uponReplyInvoke(
            [this, device, gen](const sdbus::Error* err, std::vector<std::uint8_t> value) {
                guarded("psm ReadValue reply", [&] {
                    if (!find(device, gen)) return;
                    if (err || value.size() != 3 || value[0] != 0x01) {
                        log::info("gatt client: no session channel PSM from ", device);
                        return;
                    }
                    auto psm = static_cast<std::uint16_t>(value[1] | value[2] << 8);
                    if (hooks_.peer_psm) hooks_.peer_psm(device, psm);
                });
            });
    if (!hooks_.our_psm) return;
    std::vector<std::uint8_t> ours{0x01, static_cast<std::uint8_t>(hooks_.our_psm),
                                   static_cast<std::uint8_t>(hooks_.our_psm >> 8)};
    pool_.get(l->chrcs.psm)
        .callMethodAsync("WriteValue")
        .onInterface(kGattChrc)
        .withArguments(ours, none)
        .uponReplyInvoke([device](const sdbus::Error* err) {
            if (err)
                log::info("gatt client: the peripheral took not our PSM (", err->getName(), ")");
        });
}

bool GattClient::send(const std::string& device, unsigned gen, ByteView fragment) {
    Link* l = find(device, gen);
    if (!l) return false;
    if (l->write_fd >= 0) {
        ssize_t n =
            ::send(l->write_fd, fragment.data(), fragment.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n == static_cast<ssize_t>(fragment.size())) return true;
        log::warning("gatt client: write socket: ", n < 0 ? std::strerror(errno) : "short write");
        return false;
    }
    Properties opts;
    opts["type"] = sdbus::Variant(std::string("command"));
    pool_.get(l->rx)
        .callMethodAsync("WriteValue")
        .onInterface(kGattChrc)
        .withArguments(std::vector<std::uint8_t>(fragment.begin(), fragment.end()), opts)
        .uponReplyInvoke([device](const sdbus::Error* err) {
            if (err)
                log::warning("gatt client: WriteValue to ", device, " failed: ", err->getName());
        });
    return true;
}

// Hands on every value waiting in the notify socket; true if it hung up.
bool GattClient::read_pending(const std::string& device, unsigned gen) {
    std::uint8_t buf[1024];
    for (Link* l = find(device, gen); l && l->notify_fd >= 0; l = find(device, gen)) {
        ssize_t n = ::recv(l->notify_fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            // The core may drop the link meanwhile: found again each turn.
            if (l->handed && hooks_.fragment)
                hooks_.fragment(device, ByteView(buf, static_cast<std::size_t>(n)));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
        if (n < 0 && errno == EINTR) continue;
        return true;  // 0 bytes or an error: the socket is gone
    }
    return false;
}

void GattClient::on_notify_fd(const std::string& device, unsigned gen, std::uint32_t events) {
    Link* l = find(device, gen);
    if (!l || l->notify_fd < 0) return;
    const bool hung_up = read_pending(device, gen);
    l = find(device, gen);
    if (!l || l->notify_fd < 0) return;
    if (hung_up || (events & (EPOLLHUP | EPOLLERR))) {
        std::string d = device;
        stop(d);
        if (hooks_.lost) hooks_.lost(d, "notify socket closed");
    }
}

void GattClient::drain(const std::string& device) {
    auto it = links_.find(device);
    if (it != links_.end()) (void)read_pending(device, it->second.gen);
}

void GattClient::chrc_value(const std::string& path, ByteView value) {
    for (auto& [d, l] : links_) {
        if (l.notify != path || !l.notify_via_signal || !l.handed) continue;
        if (hooks_.fragment) hooks_.fragment(d, value);
        return;
    }
}

}  // namespace br::daemon::bluez
