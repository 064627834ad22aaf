// One session channel in the daemon (issue #12): the transport socket to
// the peer's daemon (an LE L2CAP credit-based channel, SOCK_SEQPACKET), the
// mutual TLS over it (core/channel/tls_endpoint.hpp), and the application's
// socket, which carries the plaintext.
//
// Ciphertext read from the transport goes into the TLS endpoint and what it
// decrypts goes to the application; what the application writes goes into
// the endpoint and its records go out on the transport in pieces no larger
// than the transport's MTU.  Each direction keeps at most one buffer of
// what the far side would not take yet and stops reading its source until
// that drains, so a slow reader slows the writer instead of growing the
// daemon.
//
// Every end goes through close(why), the one exit: it stops watching both
// sockets, shuts the application's down (it reads end-of-stream at once,
// never a stall) and closes both, then tells the owner once.  The owner
// closes a session's channels when the session ends, for any reason;
// close() never touches the session.  An end of stream from the
// application sends close_notify, and the channel closes when the peer's
// relay, having read it, closes the transport (or after kLinger); one from
// the peer (close_notify, or the transport closing) closes the channel.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "core/channel/tls_endpoint.hpp"
#include "core/util/bytes.hpp"
#include "daemon/loop.hpp"

namespace br::daemon {

class ChannelRelay {
  public:
    // How long a channel whose application closed it waits for the peer to
    // close the transport.
    static constexpr std::chrono::milliseconds kLinger{2000};

    using Closed = std::function<void(ChannelRelay&, const std::string& why)>;

    // Takes both descriptors (made non-blocking here).  `transport_mtu` is
    // the largest piece the transport takes at once (the L2CAP channel's
    // outgoing MTU).  `closed` is called once, from close(), on the loop; it
    // must not destroy the relay (drop it on a later turn: Loop::defer).
    ChannelRelay(Loop& loop, std::unique_ptr<channel::TlsEndpoint> tls, int transport_fd,
                 int app_fd, std::size_t transport_mtu, Closed closed);
    ~ChannelRelay();  // closes without telling the owner
    ChannelRelay(const ChannelRelay&) = delete;
    ChannelRelay& operator=(const ChannelRelay&) = delete;

    void close(const std::string& why);
    bool open() const { return transport_fd_ >= 0; }
    bool established() const { return tls_->established(); }

  private:
    void on_transport(std::uint32_t events);
    void on_app(std::uint32_t events);
    // Moves the endpoint's output to the transport and its plaintext to
    // the application, as far as they take it; then re-arms the watches.
    void flush();
    void rewatch();
    void shut();

    Loop& loop_;
    std::unique_ptr<channel::TlsEndpoint> tls_;
    int transport_fd_;
    int app_fd_;
    std::size_t mtu_;
    Closed closed_;
    Bytes to_transport_;  // ciphertext the transport would not take yet
    Bytes to_app_;        // plaintext the application would not take yet
    bool app_eof_ = false;
    Loop::TimerId linger_ = 0;
};

}  // namespace br::daemon
