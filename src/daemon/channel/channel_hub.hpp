// SPDX-License-Identifier: MIT
// Every session channel of the daemon (issue #12; docs/PROTOCOL.md 8.3):
// the services applications offer, the L2CAP listener on which peers open
// channels, the channels being opened and the open ones, by session.
//
// A channel belongs to one live session and lives no longer: session_ended()
// closes all of a session's channels before it returns (the manager calls
// it as it invalidates the session, for any reason), and their applications
// read end-of-stream.  A channel closing never touches its session.  The
// hub does no D-Bus: the API registers services with a callback that hands
// an application its socket, and opens channels for a caller with a
// callback that answers it.  The transport is behind Transport, so that the
// tests run the hub over AF_UNIX while the daemon runs it over L2CAP
// (bluez/l2cap.hpp).  Everything runs on the loop's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/handshake/session.hpp"
#include "core/util/peer_id.hpp"
#include "daemon/channel/channel_relay.hpp"
#include "daemon/loop.hpp"

namespace br::daemon {

// How long an open may take.  An open the peer has not answered (the
// transport connected, TLS done, the service accepted) after `attempt` is
// tried again on a fresh channel, every `attempt` while a whole one is left
// before `open`: under the system tier's emulation an open takes well
// under a second, and Linux 6.1 was seen to leave opens unanswered for good
// after both bluetoothds opened their EATT channels at once (two in a row
// on 2026-12-07: the peer's kernel still held both identifiers ours was
// given, see retry_unanswered()).  After `open` it is given up and the
// caller told so: less than D-Bus's default 25 s, so that a caller hears our
// answer, not its own timeout.  A channel a peer opened and did not finish
// opening in `open` is closed: a peer cannot hold our resources by saying
// nothing.
struct ChannelPatience {
    std::chrono::milliseconds attempt{4000};
    std::chrono::milliseconds open{20000};
};

class ChannelHub {
  public:
    // A live session as a channel needs it.
    struct Session {
        std::string adapter;       // "hci0"
        PeerId peer;               // the peer's identity
        std::string peer_address;  // where its daemon is
        std::uint16_t peer_psm = 0;
        const handshake::Session* keys = nullptr;  // valid during the call only
    };
    // What the hub asks of the manager.
    class Sessions {
      public:
        virtual ~Sessions() = default;
        // The live session with the device at `peer_address` on the adapter
        // whose address is `local_address`.
        virtual std::optional<Session> by_address(const std::string& local_address,
                                                  const std::string& peer_address) = 0;
        virtual std::optional<Session> by_peer(const std::string& adapter, const PeerId& peer) = 0;
    };
    // How channels reach the peer's daemon.
    class Transport {
      public:
        virtual ~Transport() = default;
        // A listening socket, or the errno.
        virtual Expected<int, int> listen() = 0;
        struct Incoming {
            int fd;
            std::string local_address, peer_address;
        };
        // One pending channel (error 0: none now).
        virtual Expected<Incoming, int> accept(int listen_fd) = 0;
        // A channel being opened to `s`; writable when done.
        virtual Expected<int, int> connect(const Session& s) = 0;
        virtual int connect_result(int fd) = 0;
        virtual std::size_t send_mtu(int fd) = 0;
    };

    // A service's application gets each accepted channel's socket (and
    // owns it from then on); false: it cannot take it (refused).
    using Deliver = std::function<bool(const std::string& service, const std::string& adapter,
                                       const PeerId& peer, int app_fd)>;
    // The opener's answer: nothing (the channel is open) or why not.
    using Opened = std::function<void(std::optional<std::string> error)>;

    ChannelHub(Loop& loop, Sessions& sessions, Transport& transport,
               std::function<std::int64_t()> wall_clock, ChannelPatience patience = {});
    ~ChannelHub();  // closes every channel
    ChannelHub(const ChannelHub&) = delete;
    ChannelHub& operator=(const ChannelHub&) = delete;

    // Listens for channels from peers; false (logged) if the transport
    // cannot (no Bluetooth sockets here): opening still fails cleanly.
    bool start();
    bool listening() const { return listen_fd_ >= 0; }

    // `owner` names who registered (a bus name), so that all of its
    // services go when it does.  False: the name is taken or invalid.
    bool register_service(const std::string& service, const std::string& owner, Deliver deliver);
    bool unregister_service(const std::string& service, const std::string& owner);
    void unregister_owner(const std::string& owner);

    // Opens a channel to `peer`'s `service` for the application at
    // `app_fd` (the hub owns it from now on; closed on failure).
    void open(const std::string& adapter, const PeerId& peer, const std::string& service,
              int app_fd, Opened opened);

    // The session ended: its channels' applications read end-of-stream
    // (end_applications, which returns how many there are), then the
    // channels close (session_ended, which does both if called alone and
    // returns how many it closed).
    std::size_t end_applications(const std::string& adapter, const PeerId& peer);
    std::size_t session_ended(const std::string& adapter, const PeerId& peer);

    // Channels open or opening, of one session or all (tests, status).
    std::size_t channels(const std::string& adapter, const PeerId& peer) const;
    std::size_t channels() const;

  private:
    struct Key {
        std::string adapter;
        PeerId peer;
        auto operator<=>(const Key&) const = default;
    };
    struct Entry {
        std::uint64_t id;
        Key key;
        std::unique_ptr<ChannelRelay> relay;  // null while the transport connects
        int connecting_fd = -1;
        int app_fd = -1;  // the opener's, until the relay takes it
        std::string service;
        Opened opened;
        bool opener = false;  // we opened it (else the peer did)
        bool spaced = false;  // a refused open is tried once more, past a spacer
        bool dead = false;    // finished; erased on a later turn
        Loop::TimerId deadline = 0;
        int deadlines_passed = 0;  // an opener's also count its fresh tries
    };
    struct Service {
        std::string owner;
        Deliver deliver;
    };

    void on_listen(std::uint32_t events);
    // `fd` is e's transport being opened: on_connected() when it is done.
    void connecting(Entry& e, int fd);
    void on_connected(std::uint64_t id);
    bool retry(Entry& e);
    void arm(Entry& e, std::chrono::milliseconds after);
    void deadline_passed(std::uint64_t id);
    void retry_unanswered(Entry& e);
    void set_aside(int connecting_fd);
    ChannelRelay::Answer answer(const Key& key, const std::string& service);
    std::unique_ptr<channel::TlsEndpoint> tls(channel::TlsEndpoint::Side side,
                                              const handshake::Session& keys, std::string& why);
    void finished(std::uint64_t id, const std::string& why);
    Entry* find(std::uint64_t id);

    Loop& loop_;
    Sessions& sessions_;
    Transport& transport_;
    std::function<std::int64_t()> wall_clock_;
    ChannelPatience patience_;
    int listen_fd_ = -1;
    std::map<std::string, Service> services_;
    std::map<std::uint64_t, Entry> entries_;
    // Opens set aside (retry()'s spacers, and opens not answered in time),
    // closed when answered: never while pending, as a request
    // withdrawn unanswered would leave the peer a channel of its own.
    std::set<int> spacers_;
    std::uint64_t next_id_ = 1;
    Loop::TimerId reaper_ = 0;
};

}  // namespace br::daemon
