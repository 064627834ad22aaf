// SPDX-License-Identifier: MIT
// Two daemons' ChannelRelays (src/daemon/channel/) back to back on the
// daemon's EventLoop, over a SOCK_SEQPACKET transport with a small MTU and
// the TLS of a real session, with an "application" on each side's plaintext
// socket: what one writes the other reads, and every way a channel ends
// reaches both applications as end-of-stream, never a stall.
#include "daemon/channel/channel_relay.hpp"

#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "core/cert/certificate.hpp"
#include "loop_thread.hpp"
#include "pair_test_util.hpp"

namespace br::daemon {
namespace {

using Side = channel::TlsEndpoint::Side;
using Clock = std::chrono::steady_clock;

std::unique_ptr<channel::TlsEndpoint> endpoint(Side side, const handshake::Session& s) {
    auto key = s.own.private_key_pkcs8_der();
    auto e = channel::TlsEndpoint::create(side, s.own.x509_der().value(), key.value(),
                                          cert::x509_from_compact(s.peer), test::kNow);
    EXPECT_TRUE(e.has_value());
    return std::move(e.value());
}

// Two relays joined by a transport; `app_a`/`app_b` are the applications'
// ends of the plaintext sockets (blocking).
struct Channel {
    LoopThread& lt;
    std::unique_ptr<ChannelRelay> a, b;
    int app_a = -1, app_b = -1;
    std::mutex m;
    std::vector<std::string> closed;     // why, in order
    std::vector<std::string> requested;  // the services B was asked for
    int b_spare = -1;                    // B's application end: the relay's once taken
    bool b_taken = false;

    // A opens a channel to B's `service`; B offers only "echo".
    Channel(LoopThread& t, const handshake::Session& sa, const handshake::Session& sb,
            std::size_t mtu, const std::string& service = "echo")
        : lt(t) {
        int transport[2], pa[2], pb[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, transport), 0);
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pa), 0);
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pb), 0);
        app_a = pa[0];
        app_b = pb[0];
        auto note = [this](ChannelRelay&, const std::string& why) {
            std::lock_guard<std::mutex> l(m);
            closed.push_back(why);
        };
        const int b_app = pb[1];
        auto offer = [this, b_app](const std::string& asked) {
            {
                std::lock_guard<std::mutex> l(m);
                requested.push_back(asked);
            }
            if (asked != "echo") return ChannelRelay::Answer{};
            b_taken = true;
            return ChannelRelay::Answer{channel::OpenStatus::Accepted, b_app};
        };
        lt.call([&] {
            a = ChannelRelay::opener(lt.loop, endpoint(Side::Client, sa), transport[0], mtu,
                                     service, pa[1], note);
            b = ChannelRelay::acceptor(lt.loop, endpoint(Side::Server, sb), transport[1], mtu,
                                       offer, note);
            return 0;
        });
        b_spare = pb[1];
    }
    // Waits (up to 5 s) until `n` relays have told their owner they closed.
    void wait_closed(std::size_t n) {
        auto end = Clock::now() + std::chrono::seconds(5);
        while (Clock::now() < end) {
            {
                std::lock_guard<std::mutex> l(m);
                if (closed.size() >= n) return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    ~Channel() {
        lt.call([&] {
            a.reset();
            b.reset();
            return 0;
        });
        ::close(app_a);
        ::close(app_b);
        if (!b_taken) ::close(b_spare);
    }
};

// False if the relay closed the socket first (EPIPE, not SIGPIPE).
bool write_all(int fd, const Bytes& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

// Reads until end-of-stream (or `limit` bytes); the time the end came.
Bytes read_to_end(int fd, std::size_t limit, Clock::time_point* eof_at = nullptr) {
    Bytes out;
    std::uint8_t buf[65536];
    while (out.size() < limit) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) {
            if (eof_at) *eof_at = Clock::now();
            break;
        }
        out.insert(out.end(), buf, buf + n);
    }
    return out;
}

Bytes random_bytes(std::size_t n) {
    Bytes b(n);
    randombytes_buf(b.data(), b.size());
    return b;
}

struct Sessions {
    test::Device a, b;
    test::Outcome s = test::connect(a, b);
};

TEST(ChannelRelay, AMebibyteEachWayOverATransportOfSmallPieces) {
    Sessions p;
    ASSERT_TRUE(p.s.a && p.s.b);
    LoopThread lt;
    Channel ch(lt, *p.s.a, *p.s.b, 64);  // pieces of 64 bytes: many SDUs per record
    Bytes up = random_bytes(1 << 20), down = random_bytes(1 << 20);
    std::thread wa([&] { EXPECT_TRUE(write_all(ch.app_a, up)); });
    std::thread wb([&] { EXPECT_TRUE(write_all(ch.app_b, down)); });
    Bytes at_b = read_to_end(ch.app_b, up.size());
    Bytes at_a = read_to_end(ch.app_a, down.size());
    wa.join();
    wb.join();
    EXPECT_EQ(at_b, up);
    EXPECT_EQ(at_a, down);
    EXPECT_TRUE(lt.call([&] { return ch.a->relaying() && ch.b->relaying(); }));
    std::lock_guard<std::mutex> l(ch.m);
    EXPECT_EQ(ch.requested, std::vector<std::string>{"echo"});
}

TEST(ChannelRelay, ClosingOneSideEndsBothApplicationsStreams) {
    Sessions p;
    LoopThread lt;
    Channel ch(lt, *p.s.a, *p.s.b, 185);
    ASSERT_TRUE(write_all(ch.app_a, Bytes{'p', 'i', 'n', 'g'}));
    EXPECT_EQ(read_to_end(ch.app_b, 4), (Bytes{'p', 'i', 'n', 'g'}));
    // The session ends on A's side: its owner closes the relay.  Both
    // applications, blocked in read(), see end-of-stream.
    Clock::time_point at_a{}, at_b{};
    std::thread ra([&] { read_to_end(ch.app_a, 1 << 20, &at_a); });
    std::thread rb([&] { read_to_end(ch.app_b, 1 << 20, &at_b); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto t0 = Clock::now();
    lt.call([&] {
        ch.a->close("session invalidated");
        return 0;
    });
    ra.join();
    rb.join();
    ch.wait_closed(2);
    auto ms = [&](Clock::time_point t) {
        return std::chrono::duration<double, std::milli>(t - t0).count();
    };
    std::printf("channel relay: end-of-stream %.2f ms (closing side), %.2f ms (far side)\n",
                ms(at_a), ms(at_b));
    std::lock_guard<std::mutex> l(ch.m);
    ASSERT_EQ(ch.closed.size(), 2u);
    EXPECT_EQ(ch.closed[0], "session invalidated");
    EXPECT_EQ(ch.closed[1], "the transport closed");
}

TEST(ChannelRelay, EachDirectionEndsOnItsOwnAndTheChannelWithBoth) {
    Sessions p;
    LoopThread lt;
    Channel ch(lt, *p.s.a, *p.s.b, 185);
    Bytes last = random_bytes(100000);
    ASSERT_TRUE(write_all(ch.app_a, last));
    ::shutdown(ch.app_a, SHUT_WR);
    EXPECT_EQ(read_to_end(ch.app_b, 1 << 21), last);  // everything, then the end
    // B's application may still answer (half-close), then ends its side.
    ASSERT_TRUE(write_all(ch.app_b, Bytes{'b', 'y', 'e'}));
    ::shutdown(ch.app_b, SHUT_WR);
    EXPECT_EQ(read_to_end(ch.app_a, 1 << 20), (Bytes{'b', 'y', 'e'}));
    // The application reads its end before the relay tells its owner.
    ch.wait_closed(2);
    std::lock_guard<std::mutex> l(ch.m);
    ASSERT_EQ(ch.closed.size(), 2u);
    EXPECT_EQ(ch.closed[0], "both ends closed the channel");
    EXPECT_EQ(ch.closed[1], "both ends closed the channel");
}

// An echo service that exits (closing its socket) right after its last
// answer, while the relay is not reading it because the transport is
// behind: the hang-up comes with that answer still queued, and the answer
// must still arrive (the system tier lost the last 16 KiB of 1 MiB once).
TEST(ChannelRelay, AnEchoThatExitsAtOnceLosesNothing) {
    Sessions p;
    LoopThread lt;
    Channel ch(lt, *p.s.a, *p.s.b, 64);
    std::thread echo([fd = ch.app_b] {
        char buf[4096];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof buf)) > 0) {
            if (!write_all(fd, Bytes(buf, buf + n))) break;
        }
        ::shutdown(fd, SHUT_RDWR);  // as a process exiting: both ways at once
    });
    Bytes up = random_bytes(300000);
    std::thread writer([&] {
        EXPECT_TRUE(write_all(ch.app_a, up));
        ::shutdown(ch.app_a, SHUT_WR);
    });
    EXPECT_EQ(read_to_end(ch.app_a, 1 << 21), up);
    writer.join();
    echo.join();
    ch.wait_closed(2);
    std::lock_guard<std::mutex> l(ch.m);
    EXPECT_EQ(ch.closed.size(), 2u);
}

TEST(ChannelRelay, AServiceTheAcceptorDoesNotOfferIsRefused) {
    Sessions p;
    LoopThread lt;
    Channel ch(lt, *p.s.a, *p.s.b, 185, "nonesuch");
    (void)write_all(ch.app_a, Bytes{'h', 'i'});  // waits in the socket, never sent
    EXPECT_TRUE(read_to_end(ch.app_a, 1 << 20).empty());
    ch.wait_closed(2);
    std::lock_guard<std::mutex> l(ch.m);
    EXPECT_EQ(ch.requested, std::vector<std::string>{"nonesuch"});
    ASSERT_EQ(ch.closed.size(), 2u);
    EXPECT_EQ(ch.closed[0], "the peer refused the service: NoSuchService");
    EXPECT_EQ(ch.closed[1], "refused the service nonesuch: NoSuchService");
}

TEST(ChannelRelay, AStaleCertificateNeverReachesTheApplication) {
    test::Device a, b;
    auto first = test::connect(a, b);
    auto second = test::connect(a, b);
    ASSERT_TRUE(first.a && second.b);
    ASSERT_EQ(second.b->epoch, 2u);
    LoopThread lt;
    // A opens with its epoch-1 session; B's is epoch 2.
    Channel ch(lt, *first.a, *second.b, 185);
    // Held until a handshake that fails: the relay may be gone already.
    (void)write_all(ch.app_a, Bytes{'s', 't', 'a', 'l', 'e'});
    EXPECT_TRUE(read_to_end(ch.app_a, 1 << 20).empty());
    ch.wait_closed(2);
    std::lock_guard<std::mutex> l(ch.m);
    // B's side never got as far as asking for a service.
    EXPECT_TRUE(ch.requested.empty());
    EXPECT_FALSE(ch.b_taken);
    ASSERT_FALSE(ch.closed.empty());
    bool refused = false;
    for (const auto& why : ch.closed) refused |= why.find("PeerCertificate") != std::string::npos;
    EXPECT_TRUE(refused) << ch.closed[0];
}

}  // namespace
}  // namespace br::daemon
