// SPDX-License-Identifier: MIT
// Two daemons' ChannelHubs (src/daemon/channel/channel_hub.hpp) on the
// daemon's EventLoop, with the sessions of a real pairing and a transport of
// AF_UNIX SOCK_SEQPACKET sockets standing in for L2CAP (the real one runs in
// the system tier): services, opening, refusals, and every channel of a
// session closing with it.
#include "daemon/channel/channel_hub.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>

#include "loop_thread.hpp"
#include "pair_test_util.hpp"
#include "unix_transport.hpp"

namespace br::daemon {
namespace {

using Clock = std::chrono::steady_clock;

// One daemon's live session with the other, as its manager would answer.
class OneSession : public ChannelHub::Sessions {
  public:
    OneSession(std::string peer_name, const handshake::Session& s, std::uint16_t psm = 0x0081)
        : peer_name_(std::move(peer_name)), s_(s), psm_(psm) {}
    std::optional<ChannelHub::Session> by_address(const std::string&,
                                                  const std::string& peer) override {
        if (!live || peer != peer_name_) return std::nullopt;
        return view();
    }
    std::optional<ChannelHub::Session> by_peer(const std::string& adapter,
                                               const PeerId& peer) override {
        if (!live || adapter != "hci0" || peer != PeerId(s_.peer_id)) return std::nullopt;
        return view();
    }
    std::atomic<bool> live{true};

  private:
    ChannelHub::Session view() const { return {"hci0", PeerId(s_.peer_id), peer_name_, psm_, &s_}; }
    std::string peer_name_;
    const handshake::Session& s_;
    std::uint16_t psm_;
};

struct Daemons {
    test::Device da, db;
    test::Outcome paired = test::connect(da, db);
    LoopThread lt;
    UnixTransport ta{"A"}, tb{"B"};
    OneSession sa{"B", *paired.a}, sb{"A", *paired.b};
    std::unique_ptr<ChannelHub> a, b;
    std::mutex m;
    std::vector<int> delivered;  // B's application ends, as its service got them

    Daemons() {
        lt.call([&] {
            auto wall = [] { return std::int64_t{test::kNow}; };
            a = std::make_unique<ChannelHub>(lt.loop, sa, ta, wall);
            b = std::make_unique<ChannelHub>(lt.loop, sb, tb, wall);
            EXPECT_TRUE(a->start() && b->start());
            EXPECT_TRUE(
                b->register_service("echo", ":1.42",
                                    [this](const std::string& service, const std::string& adapter,
                                           const PeerId& peer, int fd) {
                                        EXPECT_EQ(service, "echo");
                                        EXPECT_EQ(adapter, "hci0");
                                        EXPECT_EQ(peer, PeerId(paired.b->peer_id));
                                        std::lock_guard<std::mutex> l(m);
                                        delivered.push_back(fd);
                                        return true;
                                    }));
            return 0;
        });
    }
    ~Daemons() {
        lt.call([&] {
            a.reset();
            b.reset();
            return 0;
        });
        for (int fd : delivered) ::close(fd);
    }

    // A opens `service` on B for an application; its end, or -1 with why.
    int open(const std::string& service, std::string* why = nullptr) {
        int sv[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        std::promise<std::optional<std::string>> done;
        auto result = done.get_future();
        lt.run([&, fd = sv[1]] {
            a->open("hci0", PeerId(paired.a->peer_id), service, fd,
                    [&done](std::optional<std::string> error) { done.set_value(error); });
        });
        auto error = result.get();
        if (error) {
            if (why) *why = *error;
            ::close(sv[0]);
            return -1;
        }
        return sv[0];
    }
    int b_app() {
        std::lock_guard<std::mutex> l(m);
        return delivered.empty() ? -1 : delivered.back();
    }
};

std::string read_some(int fd) {
    char buf[256];
    ssize_t n = ::read(fd, buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

TEST(ChannelHub, AnApplicationOpensAPeersServiceAndTheyTalk) {
    Daemons d;
    int app = d.open("echo");
    ASSERT_GE(app, 0);
    int far = d.b_app();
    ASSERT_GE(far, 0);
    ASSERT_EQ(::write(app, "hello", 5), 5);
    EXPECT_EQ(read_some(far), "hello");
    ASSERT_EQ(::write(far, "olleh", 5), 5);
    EXPECT_EQ(read_some(app), "olleh");
    EXPECT_EQ(d.lt.call([&] { return d.a->channels() + d.b->channels(); }), 2u);
    ::close(app);
}

TEST(ChannelHub, TheSessionEndingClosesItsChannelsOnBothSides) {
    Daemons d;
    int app1 = d.open("echo"), app2 = d.open("echo");
    ASSERT_GE(app1, 0);
    ASSERT_GE(app2, 0);
    auto t0 = Clock::now();
    // A's applications read end-of-stream before any transport closes.
    EXPECT_EQ(d.lt.call([&] { return d.a->end_applications("hci0", PeerId(d.paired.a->peer_id)); }),
              2u);
    for (int fd : {app1, app2}) EXPECT_EQ(read_some(fd), "");
    EXPECT_EQ(d.lt.call([&] { return d.a->session_ended("hci0", PeerId(d.paired.a->peer_id)); }),
              2u);
    // Both of A's applications, and B's, read end-of-stream.
    for (int fd : {app1, app2, d.delivered[0], d.delivered[1]}) EXPECT_EQ(read_some(fd), "");
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    std::printf("channel hub: 4 applications at end-of-stream %.2f ms after the session ended\n",
                ms);
    // The session itself is untouched by its channels closing, and gone
    // channels leave nothing behind.
    for (int i = 0; i < 100 && d.lt.call([&] { return d.a->channels() + d.b->channels(); }); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(d.lt.call([&] { return d.a->channels() + d.b->channels(); }), 0u);
    EXPECT_FALSE(d.paired.a->invalidated());
    ::close(app1);
    ::close(app2);
}

TEST(ChannelHub, RefusalsSayWhy) {
    Daemons d;
    std::string why;
    EXPECT_EQ(d.open("nonesuch", &why), -1);
    EXPECT_NE(why.find("NoSuchService"), std::string::npos) << why;
    EXPECT_EQ(d.open("bad/name", &why), -1);
    EXPECT_NE(why.find("service name"), std::string::npos) << why;
    // B knows no session with A (it ended there first): it closes the
    // channel before reading anything, and A says so.
    d.sb.live = false;
    EXPECT_EQ(d.open("echo", &why), -1);
    EXPECT_FALSE(why.empty());
    d.sb.live = true;
    // A with no session: nothing is even tried.
    d.sa.live = false;
    EXPECT_EQ(d.open("echo", &why), -1);
    EXPECT_EQ(why, "no live session with that peer");
    d.sa.live = true;
    // The service's owner left: the service went with it.
    d.lt.call([&] {
        d.b->unregister_owner(":1.42");
        return 0;
    });
    EXPECT_EQ(d.open("echo", &why), -1);
    EXPECT_NE(why.find("NoSuchService"), std::string::npos) << why;
    EXPECT_TRUE(d.delivered.empty());
}

// The system tier's capture (2026-12-07): the peer's kernel held a channel
// identifier ours had freed, and refused the open that got it again.
TEST(ChannelHub, AnOpenRefusedOverAStaleChannelIdentifierIsRetriedPastIt) {
    Daemons d;
    d.ta.peer_holds_stale({64});
    int app = d.open("echo");
    ASSERT_GE(app, 0);
    EXPECT_EQ(d.ta.connects(), 3);  // refused; then the spacer and the channel
    int far = d.b_app();
    ASSERT_GE(far, 0);
    ASSERT_EQ(::write(app, "hello", 5), 5);
    EXPECT_EQ(read_some(far), "hello");
    ::close(app);
}

TEST(ChannelHub, ARefusedOpenIsRetriedOnceOnly) {
    Daemons d;
    d.ta.peer_holds_stale({64, 65});
    std::string why;
    EXPECT_EQ(d.open("echo", &why), -1);
    EXPECT_EQ(why, "cannot reach the peer: Connection refused");
    EXPECT_EQ(d.ta.connects(), 3);
    EXPECT_TRUE(d.delivered.empty());
}

}  // namespace
}  // namespace br::daemon
