// SPDX-License-Identifier: MIT
#include "daemon/channel/channel_hub.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "core/cert/certificate.hpp"
#include "core/channel/open_header.hpp"
#include "daemon/log.hpp"

namespace br::daemon {

ChannelHub::ChannelHub(Loop& loop, Sessions& sessions, Transport& transport,
                       std::function<std::int64_t()> wall_clock, ChannelPatience patience)
    : loop_(loop),
      sessions_(sessions),
      transport_(transport),
      wall_clock_(std::move(wall_clock)),
      patience_(patience) {}

ChannelHub::~ChannelHub() {
    loop_.cancel(reaper_);
    for (auto& [id, e] : entries_) loop_.cancel(e.deadline);
    for (int fd : spacers_) {
        loop_.unwatch_fd(fd);
        ::close(fd);
    }
    for (auto& [id, e] : entries_) {
        e.relay.reset();  // closes without calling back
        if (e.connecting_fd >= 0) {
            loop_.unwatch_fd(e.connecting_fd);
            ::close(e.connecting_fd);
        }
        if (e.app_fd >= 0) ::close(e.app_fd);
    }
    if (listen_fd_ >= 0) {
        loop_.unwatch_fd(listen_fd_);
        ::close(listen_fd_);
    }
}

bool ChannelHub::start() {
    auto fd = transport_.listen();
    if (!fd) {
        log::warning("session channels: cannot listen: ", std::strerror(fd.error()),
                     ": peers cannot open channels to us");
        return false;
    }
    listen_fd_ = *fd;
    loop_.watch_fd(listen_fd_, EPOLLIN, [this](std::uint32_t ev) { on_listen(ev); });
    return true;
}

bool ChannelHub::register_service(const std::string& service, const std::string& owner,
                                  Deliver deliver) {
    if (!channel::valid_service_name(service) || services_.count(service)) return false;
    services_[service] = Service{owner, std::move(deliver)};
    log::info("session channels: service ", service, " registered by ", owner);
    return true;
}

bool ChannelHub::unregister_service(const std::string& service, const std::string& owner) {
    auto it = services_.find(service);
    if (it == services_.end() || it->second.owner != owner) return false;
    services_.erase(it);
    log::info("session channels: service ", service, " unregistered");
    return true;
}

void ChannelHub::unregister_owner(const std::string& owner) {
    for (auto it = services_.begin(); it != services_.end();) {
        if (it->second.owner == owner) {
            log::info("session channels: service ", it->first, " gone with ", owner);
            it = services_.erase(it);
        } else {
            ++it;
        }
    }
}

std::unique_ptr<channel::TlsEndpoint> ChannelHub::tls(channel::TlsEndpoint::Side side,
                                                      const handshake::Session& keys,
                                                      std::string& why) {
    auto cert = keys.own.x509_der();
    auto key = keys.own.private_key_pkcs8_der();
    if (!cert || !key) {
        why = "the session's keys are gone";
        return nullptr;
    }
    auto t = channel::TlsEndpoint::create(side, *cert, *key, cert::x509_from_compact(keys.peer),
                                          wall_clock_());
    if (!t) {
        why = std::string("TLS: ") + channel::to_string(t.error().error) + ": " + t.error().detail;
        return nullptr;
    }
    return std::move(t.value());
}

void ChannelHub::on_listen(std::uint32_t /*events*/) {
    for (;;) {
        auto in = transport_.accept(listen_fd_);
        if (!in) {
            if (in.error() != 0)
                log::warning("session channels: accept: ", std::strerror(in.error()));
            return;
        }
        auto s = sessions_.by_address(in->local_address, in->peer_address);
        std::string why;
        auto t = s && s->keys ? tls(channel::TlsEndpoint::Side::Server, *s->keys, why) : nullptr;
        if (!t) {
            // Nothing is read from a device without a live session.
            log::info("session channel from ", in->peer_address,
                      " refused: ", s ? why : std::string("no live session with it"));
            ::close(in->fd);
            continue;
        }
        const std::uint64_t id = next_id_++;
        Entry& e = entries_[id];
        e.id = id;
        e.key = Key{s->adapter, s->peer};
        const Key key = e.key;
        arm(e, patience_.open);
        e.relay = ChannelRelay::acceptor(
            loop_, std::move(t), in->fd, transport_.send_mtu(in->fd),
            [this, key, id](const std::string& service) {
                if (auto* entry = find(id)) entry->service = service;
                return answer(key, service);
            },
            [this, id](ChannelRelay&, const std::string& why) { finished(id, why); });
    }
}

ChannelRelay::Answer ChannelHub::answer(const Key& key, const std::string& service) {
    auto it = services_.find(service);
    if (it == services_.end()) {
        log::info("session channel from adapter=", key.adapter, " peer=", key.peer.base64url(),
                  " for service ", service, ": no such service");
        return {channel::OpenStatus::NoSuchService, -1};
    }
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return {channel::OpenStatus::Refused, -1};
    // The application's end goes to the service's owner, whatever happens.
    if (!it->second.deliver(service, key.adapter, key.peer, sv[0])) {
        ::close(sv[1]);
        return {channel::OpenStatus::Refused, -1};
    }
    log::info("session channel opened adapter=", key.adapter, " peer=", key.peer.base64url(),
              " service=", service, " (by the peer)");
    return {channel::OpenStatus::Accepted, sv[1]};
}

void ChannelHub::open(const std::string& adapter, const PeerId& peer, const std::string& service,
                      int app_fd, Opened opened) {
    auto fail = [&](const std::string& why) {
        ::close(app_fd);
        opened(why);
    };
    if (!channel::valid_service_name(service))
        return fail("a service name is 1 to 64 of [A-Za-z0-9._-]");
    auto s = sessions_.by_peer(adapter, peer);
    if (!s || !s->keys) return fail("no live session with that peer");
    if (!s->peer_psm) return fail("the peer's daemon offers no session channels");
    auto fd = transport_.connect(*s);
    if (!fd) return fail(std::string("cannot reach the peer: ") + std::strerror(fd.error()));
    const std::uint64_t id = next_id_++;
    Entry& e = entries_[id];
    e.id = id;
    e.key = Key{adapter, peer};
    e.app_fd = app_fd;
    e.service = service;
    e.opened = std::move(opened);
    e.opener = true;
    arm(e, patience_.attempt);
    connecting(e, *fd);
}

void ChannelHub::connecting(Entry& e, int fd) {
    e.connecting_fd = fd;
    const std::uint64_t id = e.id;
    loop_.watch_fd(fd, EPOLLOUT, [this, id](std::uint32_t) { on_connected(id); });
}

void ChannelHub::on_connected(std::uint64_t id) {
    Entry* e = find(id);
    if (!e || e->connecting_fd < 0) return;
    const int fd = e->connecting_fd;
    loop_.unwatch_fd(fd);
    e->connecting_fd = -1;
    std::string why;
    std::unique_ptr<channel::TlsEndpoint> t;
    if (int err = transport_.connect_result(fd)) {
        ::close(fd);
        if (err == ECONNREFUSED && !e->spaced && retry(*e)) return;
        why = std::string("cannot reach the peer: ") + std::strerror(err);
        return finished(id, why);
    } else if (auto s = sessions_.by_peer(e->key.adapter, e->key.peer); !s || !s->keys) {
        why = "the session ended";
    } else {
        t = tls(channel::TlsEndpoint::Side::Client, *s->keys, why);
    }
    if (!t) {
        ::close(fd);
        return finished(id, why);
    }
    const int app_fd = e->app_fd;
    e->app_fd = -1;
    e->relay = ChannelRelay::opener(
        loop_, std::move(t), fd, transport_.send_mtu(fd), e->service, app_fd,
        [this, id](ChannelRelay&, const std::string& why) { finished(id, why); });
    e->relay->when_relaying([this, id] {
        Entry* entry = find(id);
        if (!entry || !entry->opened) return;
        log::info("session channel opened adapter=", entry->key.adapter,
                  " peer=", entry->key.peer.base64url(), " service=", entry->service, " (by us)");
        auto cb = std::move(entry->opened);
        entry->opened = nullptr;
        cb(std::nullopt);
    });
}

// Linux (6.1 at least) can leave the peer's kernel holding a channel
// identifier ours has freed: when both bluetoothds open their EATT channels
// at once, a response is matched to the wrong channel by its signalling
// identifier, and the peer keeps a half-closed channel (in the system tier's
// capture: for at least the 12 s until the test gave up).  Our kernel
// gives each new channel the lowest free identifier, so an open retried
// alone would be refused again ("Source CID already allocated", which
// reaches us as ECONNREFUSED).  The retry therefore opens a spacer first,
// which takes that identifier, and the channel itself gets the next one.
// The spacer is closed when its own answer comes, never while pending (a
// request withdrawn unanswered would leave the peer a channel of its own).
bool ChannelHub::retry(Entry& e) {
    e.spaced = true;
    auto s = sessions_.by_peer(e.key.adapter, e.key.peer);
    if (!s || !s->keys) return false;
    auto spacer = transport_.connect(*s);
    auto fd = transport_.connect(*s);
    if (spacer) set_aside(*spacer);
    if (!fd) return false;
    log::info("session channel to adapter=", e.key.adapter, " peer=", e.key.peer.base64url(),
              " refused: trying once more past the channel identifier the peer may hold");
    connecting(e, *fd);
    return true;
}

void ChannelHub::set_aside(int connecting_fd) {
    spacers_.insert(connecting_fd);
    loop_.watch_fd(connecting_fd, EPOLLOUT, [this, connecting_fd](std::uint32_t) {
        loop_.unwatch_fd(connecting_fd);
        ::close(connecting_fd);
        spacers_.erase(connecting_fd);
    });
}

void ChannelHub::arm(Entry& e, std::chrono::milliseconds after) {
    loop_.cancel(e.deadline);
    const std::uint64_t id = e.id;
    e.deadline = loop_.add_timer(after, [this, id] { deadline_passed(id); });
}

// An open not done in time: the opener tries again on a fresh channel at
// every `attempt` while a whole attempt fits before `open`, and gives up at
// `open`; a peer's open is closed at its one deadline.
void ChannelHub::deadline_passed(std::uint64_t id) {
    Entry* e = find(id);
    if (!e || e->dead) return;
    e->deadline = 0;
    if (e->relay && e->relay->relaying()) return;
    const auto elapsed = patience_.attempt * ++e->deadlines_passed;
    if (e->opener && elapsed < patience_.open) {
        arm(*e, std::min(patience_.attempt, patience_.open - elapsed));
        if (elapsed + patience_.attempt <= patience_.open) retry_unanswered(*e);
        return;
    }
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(patience_.open).count();
    const std::string why =
        e->opener ? "the peer did not answer in " + std::to_string(seconds) + " s"
                  : "the peer did not finish opening it in " + std::to_string(seconds) + " s";
    if (e->relay) return e->relay->close(why);  // which calls finished()
    if (e->connecting_fd >= 0) {
        loop_.unwatch_fd(e->connecting_fd);
        set_aside(std::exchange(e->connecting_fd, -1));
    }
    finished(id, why);
}

// The peer has not answered our open: its kernel may never answer this
// channel.  In the system tier's captures (2026-12-07) both bluetoothds
// opened their EATT channels at once, responses were matched to the wrong
// channels by their signalling identifiers, and our kernel was left
// holding channels bound to identifiers of the peer's that the peer had
// freed.  The peer then gives a new channel the lowest free identifier,
// ours finds it already bound and drops the peer's answer: our socket never
// connects.  Each unanswered open is set aside, not withdrawn, and the
// peer holds its end until its own deadline, so every fresh channel gets an
// identifier past the last one tried; two in a row were seen unanswered,
// and `attempt` gives the opener four fresh channels before it gives up.
// One still in TLS or waiting for the service's answer is closed, and the
// application's socket, untouched so far, goes to the new one.
void ChannelHub::retry_unanswered(Entry& e) {
    const std::uint64_t id = e.id;
    if (e.connecting_fd >= 0) {
        loop_.unwatch_fd(e.connecting_fd);
        set_aside(std::exchange(e.connecting_fd, -1));
    } else if (e.relay) {
        e.app_fd = e.relay->release_application();
        e.relay.reset();  // closes its transport, and tells no one
        if (e.app_fd < 0) return finished(id, "the peer did not answer");
    }
    auto s = sessions_.by_peer(e.key.adapter, e.key.peer);
    if (!s || !s->keys) return finished(id, "the session ended");
    auto fd = transport_.connect(*s);
    if (!fd)
        return finished(id, std::string("cannot reach the peer: ") + std::strerror(fd.error()));
    const auto ms = patience_.attempt.count();
    log::info("session channel to adapter=", e.key.adapter, " peer=", e.key.peer.base64url(),
              " service=", e.service, " not answered in ",
              ms % 1000 ? std::to_string(ms) + " ms" : std::to_string(ms / 1000) + " s",
              ": trying a fresh channel (try ", e.deadlines_passed + 1, ")");
    connecting(e, *fd);
}

void ChannelHub::finished(std::uint64_t id, const std::string& why) {
    Entry* e = find(id);
    if (!e || e->dead) return;
    e->dead = true;
    loop_.cancel(std::exchange(e->deadline, 0));
    log::info("session channel closed adapter=", e->key.adapter, " peer=", e->key.peer.base64url(),
              " service=", e->service.empty() ? std::string("-") : e->service, " why=", why);
    if (e->app_fd >= 0) {
        ::close(e->app_fd);
        e->app_fd = -1;
    }
    if (e->opened) {
        auto cb = std::move(e->opened);
        e->opened = nullptr;
        cb(why);
    }
    // The relay is inside its own call: it goes on a later turn.
    if (!reaper_) {
        reaper_ = loop_.add_timer(std::chrono::milliseconds(0), [this] {
            reaper_ = 0;
            for (auto it = entries_.begin(); it != entries_.end();)
                it = it->second.dead ? entries_.erase(it) : std::next(it);
        });
    }
}

std::size_t ChannelHub::end_applications(const std::string& adapter, const PeerId& peer) {
    std::size_t n = 0;
    for (auto& [id, e] : entries_) {
        if (e.dead || e.key.adapter != adapter || e.key.peer != peer) continue;
        if (e.relay)
            e.relay->end_application();
        else if (e.app_fd >= 0)
            ::shutdown(e.app_fd, SHUT_RDWR);  // closed by finished()
        ++n;
    }
    return n;
}

std::size_t ChannelHub::session_ended(const std::string& adapter, const PeerId& peer) {
    std::vector<std::uint64_t> ids;
    for (const auto& [id, e] : entries_)
        if (!e.dead && e.key.adapter == adapter && e.key.peer == peer) ids.push_back(id);
    for (std::uint64_t id : ids) {
        Entry* e = find(id);
        if (!e) continue;
        if (e->relay) {
            e->relay->close("the session ended");
        } else {
            if (e->connecting_fd >= 0) {
                loop_.unwatch_fd(e->connecting_fd);
                ::close(e->connecting_fd);
                e->connecting_fd = -1;
            }
            finished(id, "the session ended");
        }
    }
    return ids.size();
}

ChannelHub::Entry* ChannelHub::find(std::uint64_t id) {
    auto it = entries_.find(id);
    return it == entries_.end() ? nullptr : &it->second;
}

std::size_t ChannelHub::channels(const std::string& adapter, const PeerId& peer) const {
    std::size_t n = 0;
    for (const auto& [id, e] : entries_)
        if (!e.dead && e.key.adapter == adapter && e.key.peer == peer) ++n;
    return n;
}

std::size_t ChannelHub::channels() const {
    std::size_t n = 0;
    for (const auto& [id, e] : entries_) n += e.dead ? 0 : 1;
    return n;
}

}  // namespace br::daemon
