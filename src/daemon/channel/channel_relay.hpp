// SPDX-License-Identifier: MIT
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
// application sends close_notify and the peer's application reads
// end-of-stream, and may still answer (TLS 1.3 half-close, as a TCP
// socket's shutdown): the channel closes once both directions have ended.
// The transport closing, or the TLS failing, closes it at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "core/channel/open_header.hpp"
#include "core/channel/tls_endpoint.hpp"
#include "core/util/bytes.hpp"
#include "daemon/loop.hpp"

namespace br::daemon {

class ChannelRelay {
  public:
    // How long the end that sent the last word (a refusal, or the second
    // close_notify) waits for the other to close the transport, which it
    // does once it has read it.
    static constexpr std::chrono::milliseconds kLinger{10000};

    using Closed = std::function<void(ChannelRelay&, const std::string& why)>;

    // The acceptor's answer to a request for a service: the status, and
    // the application's socket when accepted (the relay takes it).
    struct Answer {
        channel::OpenStatus status = channel::OpenStatus::NoSuchService;
        int app_fd = -1;
    };
    using Accept = std::function<Answer(const std::string& service)>;

    // The end that opened the transport (the TLS client): asks for
    // `service` and relays `app_fd` once the peer accepted; until then the
    // application's writes wait in its socket.  Refused: the application
    // reads end-of-stream.
    static std::unique_ptr<ChannelRelay> opener(Loop& loop,
                                                std::unique_ptr<channel::TlsEndpoint> tls,
                                                int transport_fd, std::size_t transport_mtu,
                                                const std::string& service, int app_fd,
                                                Closed closed);
    // The end that accepted the transport (the TLS server): reads the
    // request, asks `accept`, answers, and relays the socket it got.
    static std::unique_ptr<ChannelRelay> acceptor(Loop& loop,
                                                  std::unique_ptr<channel::TlsEndpoint> tls,
                                                  int transport_fd, std::size_t transport_mtu,
                                                  Accept accept, Closed closed);

    // Both: takes the descriptors (made non-blocking here).
    // `transport_mtu` is the largest piece the transport takes at once (the
    // L2CAP channel's outgoing MTU).  `closed` is called once, from close(),
    // on the loop; it must not destroy the relay (drop it on a later turn:
    // Loop::defer).
    ~ChannelRelay();  // closes without telling the owner
    ChannelRelay(const ChannelRelay&) = delete;
    ChannelRelay& operator=(const ChannelRelay&) = delete;

    void close(const std::string& why);
    // The first half of close() alone: the application reads end-of-stream
    // now (its socket shut and closed); the caller closes the relay next
    // (the owner ending a session: every application first, then the
    // transports, whose close() can take the kernel a while).
    void end_application();
    // The opener, before the peer accepted: gives the application's socket
    // back untouched (it has read and been sent nothing yet), so that the
    // owner can try the open again on a fresh transport; -1 otherwise.
    // Destroying the relay then closes the transport alone.
    int release_application();
    bool open() const { return transport_fd_ >= 0; }
    bool established() const { return tls_->established(); }
    // The service asked for (the acceptor knows it once the request came).
    const std::string& service() const { return service_; }
    // The applications' bytes flow (the opening exchange is over).
    bool relaying() const { return stage_ == Stage::Relaying; }
    // Called once when the applications' bytes start to flow (the opener:
    // the peer accepted).
    void when_relaying(std::function<void()> cb) { relaying_cb_ = std::move(cb); }

  private:
    enum class Stage { Opening, Relaying };
    ChannelRelay(Loop& loop, std::unique_ptr<channel::TlsEndpoint> tls, int transport_fd,
                 int app_fd, std::size_t transport_mtu, Closed closed);
    void start();
    // The opening exchange, on the plaintext received so far; true if the
    // relay was closed meanwhile.
    bool opening(Bytes& in);
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
    bool app_write_shut_ = false;  // the application was given end-of-stream
    bool transport_eof_ = false;   // after the peer's close_notify
    bool closed_second_ = false;   // our close_notify came after the peer's
    Loop::TimerId linger_ = 0;
    Stage stage_ = Stage::Opening;
    bool is_opener_ = false;
    std::string service_;
    Accept accept_;
    Bytes opening_;        // plaintext of the opening exchange received so far
    std::string refusal_;  // why, once we refused (closing after the answer)
    std::function<void()> relaying_cb_;
};

}  // namespace br::daemon
