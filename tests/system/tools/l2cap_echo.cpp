// SPDX-License-Identifier: MIT
// br-l2cap-echo: a plain LE L2CAP credit-based channel, no TLS and no
// daemon, for the system tier to measure what a session channel costs
// against the bare transport on the same link (scenario 12).
//
//   br-l2cap-echo serve PSM             echo every SDU of each channel back,
//                                       one channel at a time, forever
//   br-l2cap-echo send ADDRESS PSM      stdin to the channel, what comes back
//                                       to stdout; prints "plain N bytes each
//                                       way in S s" to stderr at the end
//   br-l2cap-echo tls ADDRESS PSM CERT KEY PEER_CERT SERVICE
//                                       what a session channel's opener does
//                                       (src/core/channel/: TLS 1.3 client
//                                       with CERT and KEY, PKCS#8, pinned to
//                                       PEER_CERT, all DER files; then the
//                                       opening exchange for SERVICE and
//                                       "hello" through it), but with whatever
//                                       credentials it is given: an old
//                                       session's, or on a link with no session
//
// `send` uses the daemon's own socket code (src/daemon/bluez/l2cap.*), so the
// two transfers differ only by what a session channel adds: TLS, the two
// daemons' relays and blueratchetctl.  `tls` prints one line, "accepted:
// echo said hello", "refused: ..." (exit 3) or "error: ..." (exit 1): the
// system tier runs it with a live session's credentials (it must be
// accepted, or the tool proves nothing) and with an old one's.
#include <poll.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "core/channel/open_header.hpp"
#include "core/channel/tls_endpoint.hpp"
#include "core/crypto/secret.hpp"
#include "daemon/bluez/l2cap.hpp"

using namespace br::daemon::bluez;
using br::channel::TlsEndpoint;

namespace {

int die(const std::string& what, int err) {
    std::fprintf(stderr, "br-l2cap-echo: %s: %s\n", what.c_str(), std::strerror(err));
    return 1;
}

std::uint16_t parse_psm(const char* s) {
    long v = std::strtol(s, nullptr, 0);
    return v >= kLePsmDynamicFirst && v <= kLePsmDynamicLast ? static_cast<std::uint16_t>(v) : 0;
}

void wait_for(int fd, short events) {
    pollfd p{fd, events, 0};
    ::poll(&p, 1, -1);
}

int serve(std::uint16_t psm) {
    auto lfd = l2cap_listen(psm);
    if (!lfd) return die("listen", lfd.error());
    std::fprintf(stderr, "br-l2cap-echo: listening on PSM %u\n", psm);
    std::vector<std::uint8_t> buf(1 << 16);
    for (;;) {
        wait_for(*lfd, POLLIN);
        auto ch = l2cap_accept(*lfd);
        if (!ch) continue;
        std::fprintf(stderr, "br-l2cap-echo: channel from %s\n", ch->peer.address.c_str());
        for (;;) {
            wait_for(ch->fd, POLLIN);
            ssize_t n = ::recv(ch->fd, buf.data(), buf.size(), 0);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (n <= 0) break;
            for (;;) {  // one SDU back as it came
                if (::send(ch->fd, buf.data(), static_cast<std::size_t>(n), 0) == n) break;
                if (errno != EAGAIN && errno != EINTR) break;
                wait_for(ch->fd, POLLOUT);
            }
        }
        ::close(ch->fd);
    }
}

int send_all(const std::string& address, std::uint16_t psm) {
    std::vector<std::uint8_t> in;
    std::vector<std::uint8_t> chunk(1 << 16);
    for (ssize_t n; (n = ::read(0, chunk.data(), chunk.size())) > 0;)
        in.insert(in.end(), chunk.begin(), chunk.begin() + n);
    auto fd = l2cap_connect(L2capPeer{address, LeAddressType::Public}, psm);
    if (!fd) return die("connect", fd.error());
    wait_for(*fd, POLLOUT);
    if (int err = l2cap_connect_result(*fd)) return die("connect", err);
    const std::size_t mtu = l2cap_send_mtu(*fd);
    const auto t0 = std::chrono::steady_clock::now();
    std::size_t sent = 0, got = 0;
    std::vector<std::uint8_t> back(1 << 16);
    while (got < in.size()) {
        pollfd p{*fd, static_cast<short>(POLLIN | (sent < in.size() ? POLLOUT : 0)), 0};
        if (::poll(&p, 1, 60000) <= 0) return die("nothing for 60 s", ETIMEDOUT);
        if ((p.revents & POLLOUT) && sent < in.size()) {
            std::size_t len = std::min(mtu, in.size() - sent);
            ssize_t n = ::send(*fd, in.data() + sent, len, 0);
            if (n > 0)
                sent += static_cast<std::size_t>(n);
            else if (errno != EAGAIN && errno != EINTR)
                return die("send", errno);
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = ::recv(*fd, back.data(), back.size(), 0);
            if (n == 0) return die("the echo hung up early", EPIPE);
            if (n < 0 && errno != EAGAIN && errno != EINTR) return die("recv", errno);
            if (n > 0) {
                if (::write(1, back.data(), static_cast<std::size_t>(n)) != n)
                    return die("stdout", errno);
                got += static_cast<std::size_t>(n);
            }
        }
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "plain %zu bytes each way in %.2f s (SDUs of %zu)\n", in.size(), secs,
                 mtu);
    ::close(*fd);
    return 0;
}

std::optional<br::Bytes> read_file(const char* path) {
    std::FILE* f = std::fopen(path, "rb");
    if (!f) return std::nullopt;
    br::Bytes out;
    std::uint8_t buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;)
        out.insert(out.end(), buf, buf + n);
    std::fclose(f);
    return out;
}

int refused(const std::string& why) {
    std::printf("refused: %s\n", why.c_str());
    return 3;
}

int tls_open(const std::string& address, std::uint16_t psm, char** files,
             const std::string& service) {
    auto cert = read_file(files[0]);
    auto key = read_file(files[1]);
    auto peer = read_file(files[2]);
    if (!cert || !key || !peer) {
        std::printf("error: cannot read the certificate and key files\n");
        return 1;
    }
    br::SecretBytes key_secret(br::ByteView(key->data(), key->size()));
    sodium_memzero(key->data(), key->size());
    auto tls = TlsEndpoint::create(TlsEndpoint::Side::Client, *cert, key_secret, *peer,
                                   static_cast<std::int64_t>(std::time(nullptr)));
    if (!tls) {
        std::printf("error: %s: %s\n", to_string(tls.error().error), tls.error().detail.c_str());
        return 1;
    }
    auto fd = l2cap_connect(L2capPeer{address, LeAddressType::Public}, psm);
    if (!fd) return die("connect", fd.error());
    wait_for(*fd, POLLOUT);
    if (int err = l2cap_connect_result(*fd)) {
        // Accepted and hung up on before our socket reported the connect
        // (seen: the peer's Disconnection Request 4 ms after its response):
        // a hang-up before any byte, as a read would have said.
        if (err == ECONNRESET)
            return refused(std::string("the peer hung up (") + std::strerror(err) +
                           ") before sending any byte, as the channel opened");
        return refused(std::string("connect: ") + std::strerror(err));
    }
    const std::size_t mtu = l2cap_send_mtu(*fd);
    auto& ep = **tls;
    (void)ep.send(br::channel::encode_open(service));
    static const char kHello[] = "hello";
    (void)ep.send(br::ByteView(reinterpret_cast<const std::uint8_t*>(kHello), 5));
    std::size_t received = 0;
    br::Bytes plain;
    std::vector<std::uint8_t> buf(1 << 16);
    for (;;) {
        for (br::Bytes out = ep.take_outgoing(); !out.empty();) {
            std::size_t len = std::min(mtu, out.size());
            ssize_t n = ::send(*fd, out.data(), len, 0);
            if (n < 0 && errno == EAGAIN) {
                wait_for(*fd, POLLOUT);
                continue;
            }
            if (n < 0) break;  // the other end is gone: the read below says how
            out.erase(out.begin(), out.begin() + n);
        }
        if (ep.failure())
            return refused(std::string("TLS ") + to_string(ep.failure()->error) + ": " +
                           ep.failure()->detail);
        br::Bytes in = ep.take_incoming();
        plain.insert(plain.end(), in.begin(), in.end());
        auto status = br::channel::parse_status(plain);
        if (status && *status) {
            if (**status != br::channel::OpenStatus::Accepted)
                return refused(std::string("service: ") + to_string(**status));
            if (plain.size() >= 6 && std::memcmp(plain.data() + 1, kHello, 5) == 0) {
                std::printf("accepted: TLS established, %s echoed hello\n", service.c_str());
                return 0;
            }
        }
        pollfd p{*fd, POLLIN, 0};
        if (::poll(&p, 1, 30000) <= 0) return refused("nothing for 30 s");
        ssize_t n = ::recv(*fd, buf.data(), buf.size(), 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n <= 0) {
            std::string how = n == 0 ? "end of stream" : std::strerror(errno);
            if (received == 0)
                return refused("the peer hung up (" + how + ") before sending any byte");
            return refused("the peer hung up (" + how + ") after " + std::to_string(received) +
                           " bytes, TLS " + (ep.established() ? "established" : "not established"));
        }
        received += static_cast<std::size_t>(n);
        (void)ep.receive(br::ByteView(buf.data(), static_cast<std::size_t>(n)));
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::string(argv[1]) == "serve" && parse_psm(argv[2]))
        return serve(parse_psm(argv[2]));
    if (argc == 4 && std::string(argv[1]) == "send" && parse_psm(argv[3]))
        return send_all(argv[2], parse_psm(argv[3]));
    if (argc == 8 && std::string(argv[1]) == "tls" && parse_psm(argv[3]))
        return tls_open(argv[2], parse_psm(argv[3]), argv + 4, argv[7]);
    std::fprintf(stderr,
                 "usage: br-l2cap-echo serve PSM\n"
                 "       br-l2cap-echo send ADDRESS PSM   (PSM 0x80-0xff)\n"
                 "       br-l2cap-echo tls ADDRESS PSM CERT KEY PEER_CERT SERVICE\n");
    return 2;
}
