// SPDX-License-Identifier: MIT
#include "daemon/channel/channel_relay.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace br::daemon {

namespace {

void nonblocking(int fd) {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

// Sends what it can of `pending` to `fd`, in pieces of at most `piece`
// bytes (one SDU each on a SOCK_SEQPACKET transport).  False if the socket
// failed.
bool drain(int fd, Bytes& pending, std::size_t piece) {
    std::size_t done = 0;
    while (done < pending.size()) {
        std::size_t n = std::min(piece, pending.size() - done);
        ssize_t w = ::send(fd, pending.data() + done, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            return false;
        }
        done += static_cast<std::size_t>(w);
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(done));
    return true;
}

// The most read from either socket at once: an L2CAP SDU is at most 65535
// bytes, and more plaintext than a TLS record at once gains nothing.
constexpr std::size_t kReadSize = 65536;

}  // namespace

ChannelRelay::ChannelRelay(Loop& loop, std::unique_ptr<channel::TlsEndpoint> tls, int transport_fd,
                           int app_fd, std::size_t transport_mtu, Closed closed)
    : loop_(loop),
      tls_(std::move(tls)),
      transport_fd_(transport_fd),
      app_fd_(app_fd),
      mtu_(transport_mtu ? transport_mtu : 23),
      closed_(std::move(closed)) {
    nonblocking(transport_fd_);
    if (app_fd_ >= 0) nonblocking(app_fd_);
}

std::unique_ptr<ChannelRelay> ChannelRelay::opener(Loop& loop,
                                                   std::unique_ptr<channel::TlsEndpoint> tls,
                                                   int transport_fd, std::size_t transport_mtu,
                                                   const std::string& service, int app_fd,
                                                   Closed closed) {
    std::unique_ptr<ChannelRelay> r(new ChannelRelay(loop, std::move(tls), transport_fd, app_fd,
                                                     transport_mtu, std::move(closed)));
    r->is_opener_ = true;
    r->service_ = service;
    // Held by the TLS until its handshake is done; the request goes first.
    (void)r->tls_->send(channel::encode_open(service));
    r->start();
    return r;
}

std::unique_ptr<ChannelRelay> ChannelRelay::acceptor(Loop& loop,
                                                     std::unique_ptr<channel::TlsEndpoint> tls,
                                                     int transport_fd, std::size_t transport_mtu,
                                                     Accept accept, Closed closed) {
    std::unique_ptr<ChannelRelay> r(
        new ChannelRelay(loop, std::move(tls), transport_fd, -1, transport_mtu, std::move(closed)));
    r->accept_ = std::move(accept);
    r->start();
    return r;
}

void ChannelRelay::start() {
    flush();  // a client's ClientHello
    if (open()) rewatch();
}

bool ChannelRelay::opening(Bytes& in) {
    opening_.insert(opening_.end(), in.begin(), in.end());
    in.clear();
    if (!refusal_.empty()) {
        opening_.clear();  // nothing more is read from a refused opener
        return false;
    }
    std::size_t took = 0;
    if (is_opener_) {
        auto st = channel::parse_status(opening_);
        if (!st) {
            close("the peer's answer is malformed");
            return true;
        }
        if (!st->has_value()) return false;
        if (**st != channel::OpenStatus::Accepted) {
            close(std::string("the peer refused the service: ") + channel::to_string(**st));
            return true;
        }
        took = 1;
    } else {
        auto rq = channel::parse_open(opening_);
        if (!rq) {
            close(std::string("a malformed opening request: ") + channel::to_string(rq.error()));
            return true;
        }
        if (!rq->has_value()) return false;
        service_ = (*rq)->service;
        took = (*rq)->length;
        Answer answer = accept_ ? accept_(service_) : Answer{};
        if (answer.status == channel::OpenStatus::Accepted && answer.app_fd < 0)
            answer.status = channel::OpenStatus::Refused;
        const std::uint8_t status = static_cast<std::uint8_t>(answer.status);
        (void)tls_->send(ByteView(&status, 1));
        if (answer.status != channel::OpenStatus::Accepted) {
            // The answer goes out, then close_notify; the opener closes the
            // transport when it reads the answer, and so do we then.
            refusal_ = std::string("refused the service ") + service_ + ": " +
                       channel::to_string(answer.status);
            tls_->close();
            opening_.clear();
            return false;
        }
        app_fd_ = answer.app_fd;
        nonblocking(app_fd_);
    }
    stage_ = Stage::Relaying;
    in.assign(opening_.begin() + static_cast<std::ptrdiff_t>(took), opening_.end());
    opening_.clear();
    if (relaying_cb_) {
        auto cb = std::move(relaying_cb_);
        relaying_cb_ = nullptr;
        cb();
    }
    return !open();
}

ChannelRelay::~ChannelRelay() {
    shut();
}

void ChannelRelay::rewatch() {
    if (!open()) return;
    // Read a source only while its destination has taken everything.
    std::uint32_t t = to_app_.empty() ? std::uint32_t{EPOLLIN} : 0;
    if (!to_transport_.empty()) t |= EPOLLOUT;
    std::uint32_t a = (to_transport_.empty() && !app_eof_) ? std::uint32_t{EPOLLIN} : 0;
    if (!to_app_.empty()) a |= EPOLLOUT;
    // An ended source is watched no more: its hang-up would be reported on
    // every turn.
    if (transport_eof_)
        loop_.unwatch_fd(transport_fd_);
    else
        loop_.watch_fd(transport_fd_, t, [this](std::uint32_t ev) { on_transport(ev); });
    // The application is read only once the service accepted it.
    if (app_fd_ >= 0) {
        if (stage_ != Stage::Relaying) a &= ~std::uint32_t{EPOLLIN};
        if (app_eof_ && to_app_.empty())
            loop_.unwatch_fd(app_fd_);
        else
            loop_.watch_fd(app_fd_, a, [this](std::uint32_t ev) { on_app(ev); });
    }
}

void ChannelRelay::flush() {
    Bytes out = tls_->take_outgoing();
    to_transport_.insert(to_transport_.end(), out.begin(), out.end());
    Bytes in = tls_->take_incoming();
    if (stage_ == Stage::Opening && !in.empty()) {
        if (opening(in)) return;
        Bytes more = tls_->take_outgoing();  // the acceptor's answer
        to_transport_.insert(to_transport_.end(), more.begin(), more.end());
    }
    to_app_.insert(to_app_.end(), in.begin(), in.end());
    if (!drain(transport_fd_, to_transport_, mtu_)) return close("the transport failed");
    if (app_fd_ >= 0 && !drain(app_fd_, to_app_, kReadSize))
        return close("the application's socket failed");
    if (const auto* f = tls_->failure())
        return close(std::string("TLS: ") + channel::to_string(f->error) + ": " + f->detail);
    // Each direction ends on its own (TLS 1.3 half-close): the peer's
    // close_notify, once its data is delivered, gives our application
    // end-of-stream, and it may still answer; its end-of-stream sends ours.
    // The channel closes when both directions have ended: by then nothing
    // more can arrive, so closing discards nothing.
    const bool peer_done = tls_->peer_closed() && to_app_.empty();
    if (!refusal_.empty()) {
        if (peer_done) return close(refusal_);
        // Our answer and close_notify are out; the opener closes the
        // transport when it reads them (closing first could reset it before
        // it read them), and we wait for that, but not forever.
        if (to_transport_.empty() && !linger_) {
            linger_ = loop_.add_timer(kLinger, [this] {
                linger_ = 0;
                close(refusal_);
            });
        }
        return;
    }
    if (peer_done && (app_fd_ < 0 || stage_ != Stage::Relaying))
        return close("the peer closed the channel");
    if (peer_done && !app_write_shut_) {
        ::shutdown(app_fd_, SHUT_WR);
        app_write_shut_ = true;
    }
    if (transport_eof_ && to_app_.empty())
        return close(app_eof_ ? "both ends closed the channel" : "the transport closed");
    if (peer_done && app_eof_ && to_transport_.empty()) {
        if (!closed_second_) return close("both ends closed the channel");
        // Our close_notify is the last word and may still be in the
        // kernel's queue, which an L2CAP socket closed now can drop (seen on
        // the testbed: the last 16 KiB and the close_notify lost).  The peer
        // closes the transport when it reads it; we wait for that.
        if (!linger_) {
            linger_ = loop_.add_timer(kLinger, [this] {
                linger_ = 0;
                close("both ends closed the channel (the peer did not close the transport)");
            });
        }
        return;
    }
}

void ChannelRelay::on_transport(std::uint32_t events) {
    // A hang-up is reported even while we are not reading (back-pressure),
    // with data still queued before it: read on, the end is read() == 0.
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        Bytes buf(kReadSize);
        ssize_t n = ::recv(transport_fd_, buf.data(), buf.size(), 0);
        if (n == 0) {
            // After the peer's close_notify its daemon closes the transport
            // once our side ended too; what it sent before may still be on
            // its way to our application.
            if (!tls_->peer_closed() || !refusal_.empty())
                return close(!refusal_.empty() ? refusal_ : "the transport closed");
            transport_eof_ = true;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return close(!refusal_.empty()
                             ? refusal_
                             : std::string("the transport failed: ") + std::strerror(errno));
        if (n > 0) {
            buf.resize(static_cast<std::size_t>(n));
            (void)tls_->receive(buf);  // a failure is read back in flush()
        }
    }
    flush();
    rewatch();
}

void ChannelRelay::on_app(std::uint32_t events) {
    if (!app_eof_ && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {  // as above
        Bytes buf(kReadSize);
        ssize_t n = ::read(app_fd_, buf.data(), buf.size());
        if (n == 0) {
            app_eof_ = true;
            closed_second_ = tls_->peer_closed();
            tls_->close();
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return close(std::string("the application's socket failed: ") + std::strerror(errno));
        } else if (n > 0) {
            buf.resize(static_cast<std::size_t>(n));
            (void)tls_->send(buf);
        }
    }
    flush();
    rewatch();
}

void ChannelRelay::close(const std::string& why) {
    if (!open()) return;
    shut();
    if (closed_) {
        auto cb = std::move(closed_);
        closed_ = nullptr;
        cb(*this, why);
    }
}

void ChannelRelay::end_application() {
    // It reads end-of-stream now, not when its copy of the descriptor
    // happens to go, nor after the kernel has taken the L2CAP channel down.
    if (app_fd_ >= 0) {
        loop_.unwatch_fd(app_fd_);
        ::shutdown(app_fd_, SHUT_RDWR);
        ::close(app_fd_);
        app_fd_ = -1;
    }
}

int ChannelRelay::release_application() {
    if (!is_opener_ || stage_ != Stage::Opening || app_fd_ < 0) return -1;
    loop_.unwatch_fd(app_fd_);
    return std::exchange(app_fd_, -1);
}

void ChannelRelay::shut() {
    loop_.cancel(linger_);
    linger_ = 0;
    end_application();  // the application first
    if (transport_fd_ >= 0) {
        loop_.unwatch_fd(transport_fd_);
        ::close(transport_fd_);
        transport_fd_ = -1;
    }
}

}  // namespace br::daemon
